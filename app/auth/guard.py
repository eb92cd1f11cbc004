"""Authentication (one verifier for every route) and per-route permissions."""
from __future__ import annotations

import functools
from typing import Any, Callable

from flask import current_app, g, request

from app.auth.principal import Principal
from app.auth.tokens import InvalidToken, verify_access_token
from app.errors import RETRY_AFTER_SECONDS, Forbidden, Unauthorized, Unavailable


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
        principal = verify_access_token(token.strip(), services.registry, services.jwks,
                                        services.settings.max_token_lifetime_seconds)
    except InvalidToken as exc:
        raise _invalid(str(exc)) from None
    if request.method not in READS and services.registry.in_maintenance(principal.tenant.slug):
        raise Unavailable(f"{principal.tenant.name} is being moved to another database: reading goes on, "
                          "changes are refused until the move ends; try again shortly",
                          headers={"Retry-After": str(MAINTENANCE_RETRY_AFTER_SECONDS)})
    return principal


READS = frozenset({"GET", "HEAD", "OPTIONS"})
# A move takes minutes, not the seconds of an outage: clients are asked to come back later than for one.
MAINTENANCE_RETRY_AFTER_SECONDS = 12 * RETRY_AFTER_SECONDS


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
