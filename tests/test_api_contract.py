"""The API contract is true: the served OpenAPI document is valid OpenAPI 3, says what every operation can
answer, and schemathesis, generating requests from it for two roles, finds nothing the document does not say.

Schemathesis calls the app in-process through its WSGI interface, so each operation's requests join the test's
rolled-back transaction (tests/conftest.py) like any other test's.
"""
from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.openapi_examples import EXAMPLES
from tests.conftest import make_token
from tests.factories import every_record

OPENAPI = "/api/v1/openapi.json"
ROLES = ("investigator", "force_admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Small, so the whole suite stays within its time; CONCORD_SCHEMATHESIS_EXAMPLES=200 runs a deeper search by hand.
MAX_EXAMPLES = int(os.environ.get("CONCORD_SCHEMATHESIS_EXAMPLES", "10"))
DERANDOMIZE = "CONCORD_SCHEMATHESIS_EXAMPLES" not in os.environ  # the suite's run is the same every time
# Inputs another part of issue 13 (bad input never gives a 500) refuses; until that lands they answer 500 and are
# left out here, each with the finding it belongs to. Empty this when it has.
# Inputs known to give a 500, left out until fixed (none now: names of control characters are refused).
KNOWN_BAD_INPUT: dict[str, Any] = {}

CONFIG = schemathesis.Config.from_dict({
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
})


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi(OPENAPI, app, config=CONFIG)


@pytest.fixture(scope="module")
def tokens(services) -> dict[str, str]:
    """A northshire token for each role, for the whole module."""
    return {role: make_token(services, "northshire", [role], user=f"st-{role}") for role in ROLES}


def test_the_api_answers_as_its_document_says(api_schema, tokens, services, as_user):
    """Every operation, with valid and invalid input, as each role: no 500, and every status, content type and
    body is one the document gives for that operation. Besides generated ids (404s), path ids are also taken
    from real records, so successful answers are checked against their schemas too. (A loop rather than
    schemathesis's pytest plugin, whose lazy loading does not run under pytest 9.)"""
    known = _path_values(every_record(services, as_user, "northshire"))
    cases = 0
    failures: list[str] = []

    def call(case: Case) -> None:
        nonlocal cases
        for role in ROLES:
            cases += 1
            case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"}, checks=CHECKS)

    for result in api_schema.get_all_operations():
        operation = result.ok()
        strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE),
                      *api_schema.get_strategies_from_examples(operation)]
        names = [p.name for p in operation.path_parameters]
        if names and all(n in known for n in names):
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE,
                                                    path_parameters={n: known[n] for n in names}))
        strategy = st.one_of(strategies).filter(_not_known_bad_input)
        test = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=DERANDOMIZE, database=None,
                        suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink],
                        report_multiple_bugs=False)(given(case=strategy)(call))
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # a failed check: collect every operation's first
            failures.append(f"{operation.label}: {exc}")
    print(f"schemathesis: {cases} cases, {len(failures)} failing operation(s)")
    assert not failures, "\n\n".join(failures)


def _path_values(made: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Path parameter names to the id of a real record of northshire."""
    return {"person_id": made["person"]["id"], "object_id": made["object"]["id"],
            "location_id": made["location"]["id"], "event_id": made["event"]["id"], "link_id": made["link"]["id"],
            "record_id": made["custody"]["id"], "investigation_id": made["investigation"]["id"],
            "report_id": made["intelligence"]["id"], "case_id": made["case"]["id"],
            "document_id": made["document:person"]["id"], "suite": "NTH"}


def _not_known_bad_input(case: Case) -> bool:
    return not any(known(case) for known in KNOWN_BAD_INPUT.values())


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
