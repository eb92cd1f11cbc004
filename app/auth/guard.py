"""Authentication (one verifier for every route) and per-route permissions."""
from __future__ import annotations

import functools
from typing import Any, Callable

from flask import current_app, g, request

from app.auth.principal import Principal
from app.auth.tokens import InvalidToken, verify_access_token
from app.errors import Forbidden, Unauthorized


def authenticate() -> Principal:
    """Verify the request's bearer token; 401 with WWW-Authenticate: Bearer on any failure."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("A bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="concord"'})
    if scheme.lower() != "bearer" or not token.strip():
        raise _invalid("the Authorization header must be 'Bearer <token>'")
    services = current_app.extensions["concord"]
    try:
        return verify_access_token(token.strip(), services.registry, services.jwks,
                                   services.settings.max_token_lifetime_seconds)
    except InvalidToken as exc:
        raise _invalid(str(exc)) from None


def _invalid(reason: str) -> Unauthorized:
    safe = reason.replace('"', "'")
    return Unauthorized(
        f"Invalid token: {reason}",
        headers={"WWW-Authenticate": f'Bearer realm="concord", error="invalid_token", error_description="{safe}"'},
    )


def current_principal() -> Principal:
    """The principal authenticated for this request."""
    return g.principal


def requires(permission: str) -> Callable:
    """Declare the permission a view needs; a principal without it gets 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_principal().can(permission):
                raise Forbidden(f"This needs the {permission!r} permission")
            return view(*args, **kwargs)

        wrapper._concord_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator
