"""Rate limits, through Flask-Limiter: per user and per force from each force's `[rate_limits]` (national defaults
in app/tenancy/config.py), and bad tokens per client address (CONCORD_RATE_LIMIT_BAD_TOKENS).

Two limiters, because they must run on either side of authentication: the client-address one before it, so that
a flood of bad tokens is refused before any is verified (only 401 answers count against it); the per-user and
per-force one after it, so that it counts only verified identities (a forged token cannot spend someone else's
allowance). Beyond a limit the answer is 429 in the JSON error shape, with Retry-After in seconds.

Counters live in CONCORD_RATE_LIMIT_STORAGE. memory:// (the default) keeps them in each process, so with N
workers each allows the whole limit; production points every worker at one shared store (redis://host:6379,
which needs the `redis` package). If that store fails, counting goes on in memory until it is back.
The sliding-window-counter strategy keeps two counters per key (whatever the limit) and allows no double burst
at the edge of a window.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable

from flask import Flask, g, jsonify, request
from flask.wrappers import Response
from flask_limiter import ApplicationLimit, Limiter, RateLimitExceeded, RequestLimit
from limits.errors import ConfigurationError

from app.config import ConfigError, Settings
from app.errors import payload
from app.http import request_id
from app.tenancy.config import NATIONAL_RATE_LIMITS, Tenant

log = logging.getLogger(__name__)

STRATEGY = "sliding-window-counter"


class RateLimits:
    """An app's two limiters and what they read; `enabled` and `bad_tokens` are read on every request."""

    def __init__(self, settings: Settings, public: Callable[[], bool]):
        self.enabled = settings.rate_limits
        self.bad_tokens = settings.rate_limit_bad_tokens
        self._storage = settings.rate_limit_storage
        self._public = public
        self.clients = self._limiter(client_address, [ApplicationLimit(
            lambda: "" if self._public() else self.bad_tokens, scope="bad-token", deduct_when=_unauthorized,
            error_message="Too many requests with a missing or invalid token from your address")])
        self.principals = self._limiter(_user_key, [
            ApplicationLimit(lambda: _tenant_limit("per_user"), key_function=_user_key, scope="user",
                             error_message="Too many requests from your account"),
            ApplicationLimit(lambda: _tenant_limit("per_force"), key_function=_force_key, scope="force",
                             error_message="Too many requests from your force"),
        ])
        if settings.environment == "production" and self._storage.startswith("memory://"):
            log.warning("CONCORD_RATE_LIMIT_STORAGE is memory://: each worker counts on its own, so the limits "
                        "are per worker; set a shared store (redis://...)")

    def _limiter(self, key: Callable[[], str], limits: list[ApplicationLimit]) -> Limiter:
        limiter = Limiter(key, application_limits=list(limits), storage_uri=self._storage, strategy=STRATEGY,
                          key_prefix="concord", headers_enabled=False, in_memory_fallback_enabled=True,
                          on_breach=_remember_breach)
        limiter.request_filter(lambda: not self.enabled)
        return limiter

    def init_before_auth(self, app: Flask) -> None:
        """Bind the client-address limiter: its check must run before the token is verified."""
        _init(self.clients, app, self._storage)
        app.register_error_handler(RateLimitExceeded, too_many_requests)

    def init_after_auth(self, app: Flask) -> None:
        """Bind the per-user and per-force limiter: its check must run after the principal is known."""
        _init(self.principals, app, self._storage)

    def reset(self) -> None:
        """Forget every count (tests; memory storage)."""
        for limiter in (self.clients, self.principals):
            limiter.reset()


def _init(limiter: Limiter, app: Flask, storage: str) -> None:
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:
        raise ConfigError(f"CONCORD_RATE_LIMIT_STORAGE: {storage!r} cannot be used ({exc})") from exc


def client_address() -> str:
    """The client's address (the peer's, or the one a trusted proxy reports once ProxyFix is applied)."""
    return request.remote_addr or "unknown"


def tenant_limits(tenant: Tenant) -> dict[str, str]:
    """The force's rate limits: its [rate_limits], the national defaults for any it does not set."""
    return {**NATIONAL_RATE_LIMITS, **tenant.settings.get("rate_limits", {})}


def _tenant_limit(name: str) -> str:
    principal = g.get("principal")
    return tenant_limits(principal.tenant)[name] if principal is not None else ""  # "": no limit applies


def _user_key() -> str:
    principal = g.get("principal")
    return f"{principal.tenant.id}/{principal.user_id}" if principal is not None else ""


def _force_key() -> str:
    principal = g.get("principal")
    return str(principal.tenant.id) if principal is not None else ""


def _unauthorized(response: Response) -> bool:
    return response.status_code == 401


def _remember_breach(limit: RequestLimit) -> None:
    g.rate_limit_breach = limit


def too_many_requests(error: RateLimitExceeded) -> Any:
    """429 in the JSON error shape, with Retry-After: the seconds until the next request would be allowed."""
    g.request_id = g.get("request_id") or request_id()  # the address limiter answers before the request hooks
    breach: RequestLimit | None = g.get("rate_limit_breach")
    # reset_at is the window's end rounded up a second: never tell a client to wait longer than the window
    retry_after = (min(breach.limit.get_expiry(), max(1, math.ceil(breach.reset_at - time.time())))
                   if breach is not None else 60)
    limit = f" (at most {breach.limit})" if breach is not None else ""
    response = jsonify(payload(429, f"{error.description}{limit}: try again in {retry_after} s"))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response
