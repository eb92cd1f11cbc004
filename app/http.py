"""HTTP helpers shared by the API routes: request ids, ETag / If-Match, idempotent creation."""
from __future__ import annotations

import functools
import hashlib
import json
import re
import uuid
from typing import Any, Callable

from flask import Response, g, jsonify, request

from app.auth.guard import current_principal
from app.db import transaction
from app.errors import InvalidInput, PreconditionFailed, PreconditionRequired
from app.idempotency import service as idempotency

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
# A version this API gave (more digits than a bigint holds never is). W/ is taken as the same version: a proxy that
# compresses a response (nginx gzip) weakens its ETag, and the client sends back what it was given.
ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')
REPLAYED_HEADERS = ("ETag", "Location")
# OpenAPI descriptions of the two headers every writable resource takes.
IDEMPOTENCY_DOC = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"},
                   "description": "A retry with the same key returns the first response"}
IF_MATCH_DOC = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                "description": "The ETag you read; 428 without it, 412 if stale"}


def request_id() -> str:
    """The client's X-Request-Id when it is sane, else a new one."""
    given = request.headers.get("X-Request-Id", "")
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


def etag(version: int) -> str:
    return f'"{version}"'


def versioned(body: Any, version: int, status: int = 200, location: str | None = None) -> tuple[Any, int, dict]:
    """The response of a versioned record: its body and status, its ETag, and its Location once created."""
    headers = {"ETag": etag(version)}
    if location:
        headers["Location"] = location
    return body, status, headers


def page(items: Any, total: int, query: dict[str, Any]) -> dict[str, Any]:
    """One page of a list as every list answers it (PageSchema): the items, the total and where the page is."""
    return {"items": items, "total": total, "page": query["page"], "page_size": query["page_size"]}


def required_version() -> int | None:
    """The version named by If-Match: 428 when absent, 412 when unreadable; None for '*'."""
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired("Updates need an If-Match header with the ETag you read")
    header = header.strip()
    if header == "*":
        return None
    match = ETAG.match(header)
    if not match:
        raise PreconditionFailed("If-Match must be an ETag this API gave you, such as \"3\"")
    return int(match[1])


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Make a creating view honour Idempotency-Key: one transaction claims the key, runs the view,
    and stores its response; a retry with the same key and body gets that response back."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not IDEMPOTENCY_KEY.match(key):
            raise InvalidInput.field("Idempotency-Key", "must be 1 to 200 visible ASCII characters")
        principal = current_principal()
        with transaction(g.session):
            stored = idempotency.claim(g.session, principal, key, _fingerprint())
            if stored is not None:
                response = jsonify(stored.body)
                response.status_code = stored.status_code
                response.headers.update(stored.headers)
                response.headers["Idempotent-Replayed"] = "true"
                return response
            response = _as_response(view(*args, **kwargs))
            if 200 <= response.status_code < 300:
                headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
                idempotency.complete(g.session, principal, key, response.status_code, response.get_json(), headers)
        return response

    return wrapper


def _fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        body = raw.decode("latin-1")
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _as_response(result: Any) -> Response:
    if isinstance(result, Response):
        return result
    from flask import make_response

    return make_response(result)
