"""The API contract is true: the served OpenAPI document is valid OpenAPI 3 and says what every operation can
answer."""
from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from app.openapi_examples import EXAMPLES

OPENAPI = "/api/v1/openapi.json"


def test_the_document_is_valid_openapi_3(app):
    document = app.test_client().get(OPENAPI).get_json()
    validate(document)
    assert document["openapi"].startswith("3.")


@pytest.fixture(scope="module")
def document(app) -> dict[str, Any]:
    return app.test_client().get(OPENAPI).get_json()


def _operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                yield path, method, operation


def _parameters(document: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    """The operation's parameters, references resolved."""
    found = []
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]]
        found.append(parameter)
    return found


def test_every_operation_has_a_unique_operation_id(document):
    ids = [operation.get("operationId") for _, _, operation in _operations(document)]
    assert all(ids) and len(set(ids)) == len(ids)


def test_every_operation_documents_the_errors_it_can_give(document):
    for path, method, operation in _operations(document):
        codes = set(operation["responses"])
        names = {p["name"] for p in _parameters(document, operation)}
        label = f"{method.upper()} {path}"
        assert {"401", "422", "429", "503"} <= codes, label
        assert "default" not in codes, label  # every answer is named: none hides behind a catch-all
        if "{" in path:
            assert "404" in codes, label
        if "If-Match" in names:
            assert {"412", "428"} <= codes, label
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= codes, label
        if path != "/api/v1/me":
            assert "403" in codes, label  # every other operation needs a permission


def test_the_error_schema_is_the_one_errors_have(app, document, north):
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "status", "message", "request_id"}
    response = north.get("/api/v1/people/00000000-0000-4000-8000-000000000000", headers={"X-Request-Id": "req-1"})
    body = response.get_json()
    assert response.status_code == 404
    assert set(body) <= set(error["properties"]) and body["request_id"] == "req-1"
    invalid = north.post("/api/v1/people", json={"surname": ""}).get_json()
    assert set(invalid) == {"code", "status", "message", "errors", "request_id"}


def test_the_duplicate_answer_documents_its_candidates(document, north):
    responses = document["paths"]["/api/v1/people"]["post"]["responses"]
    schema_name = responses["409"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = document["components"]["schemas"][schema_name]
    assert {"candidates", "request_id", "message"} <= set(schema["required"])
    person = north.create_person()
    again = north.post("/api/v1/people", json={k: person[k] for k in ("surname", "forenames", "sex", "date_of_birth")})
    assert again.status_code == 409
    assert set(again.get_json()) <= set(schema["properties"]) and again.get_json()["candidates"]


def test_uploads_are_a_multipart_body(document):
    operation = document["paths"]["/api/v1/documents"]["post"]
    assert all(p["in"] in ("query", "header", "path", "cookie") for p in operation.get("parameters", []))
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    upload = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert upload["properties"]["file"] == {**upload["properties"]["file"], "type": "string", "format": "binary"}
    assert {"file", "record_type", "record_id"} <= set(upload["required"])


def test_x_purpose_is_documented_on_reads_of_records(document):
    def purpose(path: str, method: str) -> bool:
        operation = document["paths"][path][method]
        return "X-Purpose" in {p["name"] for p in _parameters(document, operation)}

    for path in ("/api/v1/people", "/api/v1/people/{person_id}", "/api/v1/people/search", "/api/v1/objects/{object_id}",
                 "/api/v1/custody/records/{record_id}", "/api/v1/documents/{document_id}/content",
                 "/api/v1/intelligence/reports/{report_id}", "/api/v1/network"):
        assert purpose(path, "get"), path
    assert not purpose("/api/v1/people", "post")
    assert not purpose("/api/v1/sharing/collaborations", "get")
    assert not purpose("/api/v1/me", "get")


def test_the_main_schemas_describe_themselves_with_examples(document):
    schemas = document["components"]["schemas"]
    for name in ("Person", "PersonCreate", "Error", "Upload", "Document", "Object", "ObjectCreate", "Location",
                 "LocationCreate", "Event", "EventCreate", "Link", "LinkCreate", "CustodyRecord", "BookIn",
                 "InvestigationRecord", "Investigation", "ReportSubmit", "Report", "Case", "CaseCreate",
                 "AgreementCreate", "Agreement"):
        assert schemas[name].get("description"), name
    assert set(EXAMPLES) <= set(schemas)
    for name in EXAMPLES:
        assert schemas[name]["example"] == EXAMPLES[name]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_example_is_valid_against_its_own_schema(document, name):
    """Examples cannot drift: each satisfies its schema as the document states it (references resolved)."""
    registry = Registry().with_resource("document.json", Resource.from_contents(document, DRAFT4))
    schema = {"$ref": f"document.json#/components/schemas/{name}"}
    OAS30Validator(schema, registry=registry).validate(EXAMPLES[name])
