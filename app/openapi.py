"""The OpenAPI document, made true to what the API answers.

flask-smorest builds the document from the routes' decorators; this adds what it cannot know:

- the one error schema every error has (app.errors.ErrorSchema), instead of flask-smorest's own;
- the error answers each operation can give, derived from what the operation declares (StandardResponses):
  every operation 401, 422 (the X-Purpose header and unknown query parameters are checked everywhere), 429 and
  503; one that requires a permission 403; one that names a record (an id in its path, query or body) 404; a
  write 409 (a business rule refused it); a body 400 (malformed) and 413 (too large); an If-Match header 412
  and 428;
- an operationId for every operation, and `X-Purpose` on every read of records (GETs needing a record-read
  permission); an operation opts out with `@blp.doc(**{"x-purpose": False})`;
- each schema's docstring as its description, a whole example for the main resources (app.openapi_examples),
  and on a record's schema what another force is shown of it (the fields its agreement may mask are nullable;
  `shared` marks it read-only).
"""
from __future__ import annotations

from copy import deepcopy
from http import HTTPStatus
from typing import Any

from apispec import APISpec, BasePlugin
from flask import Flask
from flask_smorest import Api
from marshmallow import Schema, fields

from app.auth.permissions import (
    CUSTODY_READ,
    INTELLIGENCE_READ,
    INTELLIGENCE_UNSANITISED,
    INVESTIGATIONS_READ,
    PEOPLE_READ,
    POLE_READ,
)
from app.errors import ErrorSchema
from app.openapi_examples import EXAMPLES
from app.sharing.schemas import RecordReadSchema
from app.sharing.visibility import maskable

# GETs needing one of these read a force's records, and so honour X-Purpose (the reason other forces' shared
# records may be read, written to the audit trail and the providers' access logs).
RECORD_READ_PERMISSIONS = frozenset({PEOPLE_READ, POLE_READ, CUSTODY_READ, INVESTIGATIONS_READ, INTELLIGENCE_READ,
                                     INTELLIGENCE_UNSANITISED})
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
BODY_LOCATIONS = frozenset({"json", "form", "files", "form_and_files"})

RETRY_AFTER = {"description": "Seconds to wait before trying again", "schema": {"type": "integer", "minimum": 0}}
# code: (description, headers)
STANDARD_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("The body is not well-formed (e.g. malformed JSON)", {}),
    401: ("No bearer token, or one not valid here (expired, unknown issuer or key, lifetime too long...)",
          {"WWW-Authenticate": {"description": "Bearer, with error and error_description when a token was sent",
                                "schema": {"type": "string"}}}),
    403: ("Your roles do not grant the permission this needs (the message names it)", {}),
    404: ("No such record in your force. Another force's id answers exactly the same", {}),
    409: ("A business rule refused the change (the message says which)", {}),
    412: ("If-Match names a version that is not the record's current one: read it again", {}),
    413: ("The body is larger than the API accepts", {}),
    422: ("Invalid input: `errors` names each field (body, query or header) and why", {}),
    428: ("An update needs If-Match with the ETag you read", {}),
    429: ("Too many requests: wait Retry-After seconds", {"Retry-After": RETRY_AFTER}),
    503: ("A database is unavailable: try again after Retry-After seconds", {"Retry-After": RETRY_AFTER}),
}

PURPOSE_PARAMETER = {
    "in": "header", "name": "X-Purpose", "required": False,
    "schema": {"type": "string", "maxLength": 500},
    "description": "Why you are reading (e.g. an incident or case reference): recorded in the audit trail, and "
                   "needed to see records other forces share with yours; those forces' access logs show it",
    "example": "CAD 1234 of 2 March: suspect check",
}


def response_name(code: int) -> str:
    """The component name flask-smorest gives a status (HTTPStatus names differ between Python versions)."""
    return HTTPStatus(code).name


class ConcordApi(Api):
    """flask-smorest's Api with Concord's error schema, no catch-all `default` answer, and StandardResponses."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, **kwargs: Any) -> None:
        kwargs["extra_plugins"] = [*kwargs.get("extra_plugins", ()), StandardResponses(self._app)]
        super()._init_spec(**kwargs)


class StandardResponses(BasePlugin):
    """Adds to each operation the error answers, operationId and X-Purpose its declarations imply."""

    def __init__(self, app: Flask):
        self.app = app
        self.spec: APISpec | None = None
        self.operation_ids: set[str] = set()

    def init_spec(self, spec: APISpec) -> None:
        self.spec = spec
        for code, (description, headers) in STANDARD_ERRORS.items():
            response: dict[str, Any] = {"description": description,
                                        "content": {"application/json": {"schema": ErrorSchema}}}
            if headers:
                response["headers"] = headers
            spec.components.response(f"Error{code}", response, lazy=True)
        spec.components.parameter("X-Purpose", "header", PURPOSE_PARAMETER, lazy=True)

    def schema_helper(self, name: str, definition: dict, **kwargs: Any) -> dict | None:
        schema = kwargs.get("schema")
        cls = schema if isinstance(schema, type) else type(schema)
        added: dict[str, Any] = {}
        doc = cls.__dict__.get("__doc__")
        if doc and "description" not in definition:
            added["description"] = " ".join(doc.split())
        if name in EXAMPLES and "example" not in definition:
            added["example"] = EXAMPLES[name]
        if issubclass(cls, RecordReadSchema) and cls.shared_as and "properties" in definition:
            added["properties"] = _as_shared(definition["properties"], maskable(cls.shared_as))
        return added or None

    def operation_helper(self, path: str | None = None, operations: dict | None = None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method, operation in operations.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            function = getattr(view_class, method, None) if view_class is not None else view
            self._complete(rule, method, operation, function)

    def _complete(self, rule: Any, method: str, operation: dict, function: Any) -> None:
        blueprint, _, view_name = rule.endpoint.partition(".")
        operation.setdefault("operationId", self._operation_id(blueprint, view_name, method))
        arguments = getattr(function, "_apidoc", {}).get("arguments", {}).get("parameters", [])
        permission = getattr(function, "_concord_permission", None)
        header_names = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict)}
        body = any(a["in"] in BODY_LOCATIONS for a in arguments)
        names_a_record = bool(rule.arguments) or any(
            _names_a_record(a["schema"], required_only=a["in"] == "query") for a in arguments)

        codes = {401, 422, 429, 503}
        if permission:
            codes.add(403)
        if names_a_record:
            codes.add(404)
        if method in WRITE_METHODS:
            codes.add(409)
        if body:
            codes |= {400, 413}
        if "If-Match" in header_names:
            codes |= {412, 428}
        responses = {str(code): response for code, response in operation.get("responses", {}).items()}
        for code in codes:
            given = responses.get(str(code))
            # A response an operation documents itself (a schema of its own, such as a 409's candidates) stays.
            responses[str(code)] = given if isinstance(given, dict) else f"Error{code}"
        operation["responses"] = dict(sorted(responses.items()))

        purpose = operation.pop("x-purpose", None)
        if purpose is None:
            purpose = method == "get" and permission in RECORD_READ_PERMISSIONS
        if purpose and "X-Purpose" not in header_names:
            operation.setdefault("parameters", []).append("X-Purpose")

    def _operation_id(self, blueprint: str, view_name: str, method: str) -> str:
        """getPerson, postPeople...; prefixed by the blueprint where two blueprints share a view name."""
        candidate = f"{method}{view_name}"
        if candidate in self.operation_ids:
            candidate = f"{blueprint}{method.capitalize()}{view_name}"
        self.operation_ids.add(candidate)
        return candidate


SHARED_MARK = {
    "type": "object", "readOnly": True,
    "description": "Only on another force's record, shared with yours: it is read-only, and the fields its "
                   "agreement withholds are empty (null, or an empty list)",
    "properties": {"read_only": {"type": "boolean", "example": True},
                   "masked": {"type": "array", "items": {"type": "string"}, "example": ["date_of_birth"]}},
}


def _as_shared(properties: dict[str, Any], masked: tuple[str, ...]) -> dict[str, Any]:
    """A record's properties as another force may be shown them: maskable fields may be null, and `shared`."""
    properties = deepcopy(properties)
    for name in masked:
        prop = properties.get(name)
        if prop is None or prop.get("type") == "array":
            continue  # a masked list is shown empty, which its schema allows
        if "$ref" in prop:
            properties[name] = {"allOf": [prop], "nullable": True}
        else:
            prop["nullable"] = True
    properties["shared"] = SHARED_MARK
    return properties


def _names_a_record(schema: Any, required_only: bool = False) -> bool:
    """Whether a marshmallow schema (class or instance) has a UUID field, at any depth: an id of a record that
    may not exist (or be another force's), so the operation may answer 404. Optional query parameters are
    filters (an unknown id finds nothing), so for a query only required ones count."""
    instance = schema() if isinstance(schema, type) else schema
    if not isinstance(instance, Schema):
        return False
    return any(_field_names_a_record(f) for f in instance.fields.values() if f.required or not required_only)


def _field_names_a_record(field: fields.Field) -> bool:
    if isinstance(field, fields.UUID):
        return True
    if isinstance(field, fields.Nested):
        return _names_a_record(field.schema)
    if isinstance(field, fields.List):
        return _field_names_a_record(field.inner)
    if isinstance(field, fields.Dict) and field.value_field is not None:
        return _field_names_a_record(field.value_field)
    return False
