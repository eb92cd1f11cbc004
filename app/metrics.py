"""Concord's Prometheus metrics, defined once here, and `/metrics`, which serves them.

Under gunicorn every worker is a process of its own, so the metrics live in prometheus_client's multiprocess
mode: app/gunicorn_config.py points PROMETHEUS_MULTIPROC_DIR at a directory the workers share (emptied when
the server starts, a dead worker's live gauges dropped by its `child_exit` hook), and `/metrics` sums every
worker's files. Without that variable (the tests' in-process app, a CLI command) the process's own registry.

`/metrics` is not for the public: it exists only when CONCORD_METRICS_TOKEN is set (404 otherwise) and answers
only a request bearing that token (401 otherwise); the scraper sends it, the load balancer never routes the
path (docs/operations.md).

Other parts of Concord set their metric through this module: the audit sealer sets AUDIT_SEALER_LAG.
"""
from __future__ import annotations

import hmac
import os
import time
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.pool import Pool

from app.config import Settings

# Read as prometheus_client was imported (just above), which is when it chose where values live.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter("concord_http_requests", "Requests answered, by route (the URL rule), method, status and force",
                        ["route", "method", "status", "force"])
HTTP_LATENCY = Histogram("concord_http_request_duration_seconds", "Time to answer a request, by route and method",
                         ["route", "method"], buckets=LATENCY_BUCKETS)
DB_CHECKED_OUT = Gauge("concord_db_pool_checked_out", "Database connections checked out of the pool, by database",
                       ["database"], multiprocess_mode="livesum")
AUDIT_SEALER_LAG = Gauge("concord_audit_sealer_lag_seconds",
                         "Age of the oldest audit event not yet sealed into a checkpoint, by force (set by the sealer)",
                         ["force"], multiprocess_mode="mostrecent")
STORAGE_CALLS = Counter("concord_storage_calls", "Calls to object storage (S3, KMS), by service, operation and outcome",
                        ["service", "operation", "outcome"])
STORAGE_LATENCY = Histogram("concord_storage_call_duration_seconds", "Time of a call to object storage, by operation",
                            ["service", "operation"], buckets=LATENCY_BUCKETS)

blueprint = Blueprint("metrics", __name__)


def observe_request(*, route: str, method: str, status: int, force: str | None, seconds: float) -> None:
    """Count one answered request and its latency."""
    HTTP_REQUESTS.labels(route, method, str(status), force or "").inc()
    HTTP_LATENCY.labels(route, method).observe(seconds)


@blueprint.get("/metrics")
def serve() -> Response:
    token = current_app.extensions["concord"].settings.metrics_token
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = Response("a bearer token is required\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask, settings: Settings) -> None:
    """Serve /metrics and start counting pool checkouts and storage calls."""
    app.register_blueprint(blueprint)
    _watch_pools()
    _watch_storage()


def _watch_pools() -> None:
    if event.contains(Pool, "checkout", _checked_out):
        return
    event.listen(Pool, "checkout", _checked_out)  # every pool, including those created later (dedicated forces)
    event.listen(Pool, "checkin", _checked_in)


def _checked_out(_dbapi: Any, record: Any, _proxy: Any) -> None:
    database = getattr(record.dbapi_connection.info, "dbname", "") or ""
    record.record_info["concord_checked_out"] = database  # record_info outlives an invalidated connection
    DB_CHECKED_OUT.labels(database).inc()


def _checked_in(_dbapi: Any, record: Any) -> None:
    database = record.record_info.pop("concord_checked_out", None)
    if database is not None:
        DB_CHECKED_OUT.labels(database).dec()


def _watch_storage() -> None:
    """boto3's event hooks on the default session, which every storage client is made from."""
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    events = boto3.DEFAULT_SESSION.events
    events.register("before-call", _call_started, unique_id="concord-metrics-before")
    events.register("after-call", _call_done, unique_id="concord-metrics-after")
    events.register("after-call-error", _call_failed, unique_id="concord-metrics-error")


def _call_started(model: Any, context: dict, **_kwargs: Any) -> None:
    context["concord_started"] = time.perf_counter()


def _record_call(model: Any, context: dict, outcome: str) -> None:
    service = model.service_model.service_name
    STORAGE_CALLS.labels(service, model.name, outcome).inc()
    started = context.get("concord_started")
    if started is not None:
        STORAGE_LATENCY.labels(service, model.name).observe(time.perf_counter() - started)


def _call_done(model: Any, context: dict, http_response: Any, **_kwargs: Any) -> None:
    _record_call(model, context, "ok" if http_response.status_code < 400 else f"http_{http_response.status_code}")


def _call_failed(model: Any, context: dict, exception: BaseException, **_kwargs: Any) -> None:
    _record_call(model, context, type(exception).__name__)
