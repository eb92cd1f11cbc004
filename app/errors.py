"""One JSON error shape for every error, and the exceptions services raise to produce it.

    {"code": 422, "status": "Unprocessable Entity", "message": "...",
     "errors": {"surname": ["Missing data for required field."]}, "request_id": "..."}
"""
from __future__ import annotations

import logging
from typing import Any

import psycopg
import sqlalchemy.exc
from flask import Flask, g, has_request_context, jsonify
from marshmallow import Schema, fields
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A business-rule or input error a service raises; the status and message reach the client."""

    status = 400
    refused = False  # a refused access (left in the acting force's audit trail as a refusal)

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.extra: dict[str, Any] = {}  # more of the answer, beside the error fields (e.g. 409 candidates)
        # Records the answer shows, as (record type, owning force, id): audited as consulted even though the
        # use case failed (and, for another force's, logged for its provider).
        self.disclosed: list[tuple[str, Any, Any]] = []
        self.asked: dict[str, Any] = {}  # for a refusal: the ids asked for beyond the URL's (a body field's)


class NotFound(ApiError):
    """Absent, or another force's: the two are indistinguishable by design."""

    status = 404
    refused = True

    @classmethod
    def record(cls, record_type: str) -> "NotFound":
        """Not found; without a stated purpose, say how another force's shared record could be read."""
        principal = g.get("principal") if has_request_context() else None
        if principal is not None and not principal.purpose:
            return cls(f"No such {record_type} in your force. To read a record another force shares with yours, "
                       "state why with the X-Purpose header")
        return cls(f"No such {record_type}")


class Conflict(ApiError):
    status = 409


class InvalidInput(ApiError):
    status = 422

    @classmethod
    def field(cls, name: str, reason: str) -> "InvalidInput":
        return cls(f"{name}: {reason}", {name: [reason]})


class PreconditionFailed(ApiError):
    status = 412


class PreconditionRequired(ApiError):
    status = 428


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403
    refused = True


class Unavailable(ApiError):
    """The service cannot do this now (e.g. the force is being moved): 503 with Retry-After."""

    status = 503


class ErrorSchema(Schema):
    """Every error answer has this shape (the OpenAPI document's error schema; payload() builds it)."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status code", "example": 422})
    status = fields.String(required=True, metadata={"description": "HTTP status name",
                                                    "example": "Unprocessable Entity"})
    message = fields.String(required=True, metadata={"description": "What went wrong, for a person",
                                                     "example": "Invalid input: surname"})
    errors = fields.Dict(keys=fields.String(), metadata={
        "description": "Field (or header) name to the reasons it was refused; nested for nested fields",
        "example": {"surname": ["Missing data for required field."]}})
    request_id = fields.String(required=True, metadata={
        "description": "This request's id (also in the X-Request-Id header): quote it when reporting a problem",
        "example": "3f2a9c4e8b7d4e0f9a1b2c3d4e5f6a7b"})


def payload(code: int, message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    from werkzeug.http import HTTP_STATUS_CODES

    body: dict[str, Any] = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    body["request_id"] = getattr(g, "request_id", "")
    return body


def _flatten_locations(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs nests errors under their location ('json', 'query', ...): fields are what a client fixes."""
    flat: dict[str, Any] = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            flat.update(errors)
        else:
            flat[location] = errors
    return flat


def handle_http_exception(error: HTTPException):
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message") or error.description or error.name
    if errors and error.code == 422:
        errors = _flatten_locations(errors)
        names = ", ".join(sorted(errors))
        message = f"Invalid input: {names}"
    elif errors and error.code == 400:
        errors = _flatten_locations(errors)
        message = "Malformed request body: " + "; ".join(
            str(m) for v in errors.values() for m in (v if isinstance(v, list) else [v])
        )
    response = jsonify(payload(error.code or 500, message, errors))
    response.status_code = error.code or 500
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_api_error(error: ApiError):
    response = jsonify({**payload(error.status, error.message, error.errors), **error.extra})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def handle_data_error(error: DataError):
    # Only the SQLSTATE: the driver's message may quote the value, and values are what people typed.
    log.info("database refused a value: SQLSTATE %s", getattr(error.orig, "sqlstate", None))
    response = jsonify(payload(422, "A value is out of range or of the wrong kind for its field"))
    response.status_code = 422
    return response


def handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    log.exception("unhandled error", exc_info=error)
    return handle_http_exception(InternalServerError())


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(DataError, handle_data_error)
    app.register_error_handler(Exception, handle_unexpected)


# A database that cannot be reached is an outage, not a bug: 503 with Retry-After in the same shape, never a 500.

RETRY_AFTER_SECONDS = 5
# admin_shutdown, crash_shutdown, cannot_connect_now (starting up, shutting down, in recovery), too_many_connections
_OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_database_outage(error: BaseException) -> bool:
    """The error says the database cannot be reached, not that a statement failed.

    Connecting failed or the connection broke (libpq's errors carry no SQLSTATE; SQLAlchemy marks a broken
    connection invalidated), or the server refused service: SQLSTATE class 08, 57P01-57P03, 53300. Other
    operational errors (a cancelled statement, a deadlock, a lock timeout, an aborted pipeline) are not outages.
    """
    cause: BaseException | None = error
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        if error.connection_invalidated:
            return True
        cause = error.orig
    if not isinstance(cause, psycopg.OperationalError) or isinstance(cause, psycopg.errors.PipelineAborted):
        return False
    state = cause.sqlstate
    return state is None or state.startswith("08") or state in _OUTAGE_SQLSTATES


def handle_database_unavailable(error: Exception):
    """503 with Retry-After for an outage or a connection pool that stayed full; any other such error is a 500."""
    busy = isinstance(error, sqlalchemy.exc.TimeoutError)
    if not busy and not is_database_outage(error):
        return handle_unexpected(error)
    cause = getattr(error, "orig", None) or error  # the driver's message, without SQLAlchemy's statement and values
    log.warning("database %s: %s: %s", "busy" if busy else "unavailable", type(cause).__name__,
                (str(cause).strip().splitlines() or [""])[0])
    response = jsonify(payload(503, f"The database is {'busy' if busy else 'unavailable'}; try again shortly"))
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def register_outages(app: Flask) -> None:
    """Route the database errors that may mean an outage to handle_database_unavailable."""
    for error in (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.TimeoutError,
                  psycopg.OperationalError):
        app.register_error_handler(error, handle_database_unavailable)
