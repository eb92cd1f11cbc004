"""Logs, metrics and traces (app/observability.py, app/metrics.py, app/tracing.py): one JSON line per request with
its request id, force, user, route, method, status and duration, and never a name or a token; /metrics behind its
token, summed across gunicorn's workers, with pool and storage figures; a request's span with its request id and
its SQL as child spans."""
from __future__ import annotations

import io
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app import create_app, observability, tracing
from app.people import service as people_service
from tests.conftest import make_token, moto_server
from tests.test_serving import _get, serving

SURNAME, FORENAMES = "Featherstonehaugh", "Araminta"
METRICS_TOKEN = "scrape-secret-7f3a"


@pytest.fixture
def log_lines(settings) -> Iterator[Callable[[], list[str]]]:
    """The lines the process has logged so far in the test, as production writes them (JSON)."""
    buffer = io.StringIO()
    observability.configure_logging(replace(settings, log_format="json"), stream=buffer)
    yield lambda: buffer.getvalue().splitlines()
    observability.configure_logging(settings)


def _requests_logged(lines: list[str]) -> list[dict]:
    return [entry for entry in map(json.loads, lines) if entry.get("event") == "request"]


def test_each_request_logs_one_json_line_with_its_fields_and_no_name_or_token(north, log_lines):
    purpose = f"enquiry about {FORENAMES} {SURNAME}"
    created = north.post("/api/v1/people", json={"surname": SURNAME, "forenames": FORENAMES, "sex": "female",
                                                  "date_of_birth": "1984-03-02"}, headers={"X-Purpose": purpose})
    assert created.status_code == 201, created.get_json()
    listed = north.get(f"/api/v1/people?surname={SURNAME}", headers={"X-Request-Id": "req-obs-1"})
    searched = north.get(f"/api/v1/people/search?name={FORENAMES}+{SURNAME}")
    missing = north.get("/api/v1/people/00000000-0000-0000-0000-000000000000")
    refused = north.client.get(f"/api/v1/people?surname={SURNAME}", headers={"Authorization": "Bearer not-a-jwt"})
    logging.getLogger("app.test").warning("a client sent Authorization: Bearer %s", north.token)
    observability.event("import.finished", force="northshire", rows=3, surname=SURNAME)
    lines = log_lines()
    text = "\n".join(lines)

    requests = _requests_logged(lines)
    assert [(r["route"], r["method"], r["status"]) for r in requests] == [
        ("/api/v1/people", "POST", 201), ("/api/v1/people", "GET", 200), ("/api/v1/people/search", "GET", 200),
        ("/api/v1/people/<uuid:person_id>", "GET", 404), ("/api/v1/people", "GET", 401)]
    for entry, response in zip(requests, (created, listed, searched, missing, refused), strict=True):
        assert entry["request_id"] == response.headers["X-Request-Id"] and entry["request_id"]
        assert isinstance(entry["duration_ms"], float) and entry["level"] == "info" and entry["timestamp"]
    assert requests[1]["request_id"] == "req-obs-1"
    assert all(r["force"] == "northshire" and r["user"] == "pc-101" for r in requests[:4])
    assert requests[4]["force"] is None and requests[4]["user"] is None  # no verified principal
    assert {"import.finished"} <= {json.loads(line)["event"] for line in lines}
    for secret in (SURNAME, FORENAMES, north.token, "not-a-jwt", purpose):
        assert secret not in text
    assert "[redacted]" in text  # the token in the warning and the surname passed to event()


@pytest.mark.parametrize("statement, status", [
    ("SELECT CAST(:v AS integer)", 422),  # the database refuses the value (its message quotes it)
    ("SELECT CAST(:v AS text) FROM no_such_table", 500),  # a bug: logged with its traceback and statement
])
def test_a_database_error_logged_in_a_request_carries_its_request_id_and_not_the_value(
        north, log_lines, monkeypatch, statement, status):
    def failing(session, principal, query, *, sessions=None):
        with session.begin():
            session.execute(text(statement), {"v": SURNAME})

    monkeypatch.setattr(people_service, "find", failing)
    response = north.get(f"/api/v1/people?surname={SURNAME}")
    assert response.status_code == status
    lines = [json.loads(line) for line in log_lines()]
    (logged,) = [entry for entry in lines if entry["logger"] == "app.errors"]
    assert logged["request_id"] == response.headers["X-Request-Id"]
    assert logged["force"] == "northshire" and logged["user"] == "pc-101"
    assert status == 422 or "no_such_table" in logged["exception"]  # the traceback is there
    assert SURNAME not in "\n".join(log_lines())


def test_a_postgresql_detail_line_is_blanked(log_lines):
    observability.event("tenants.applied", error=f"duplicate key\nDETAIL:  Key (surname)=({SURNAME}) already exists.")
    (line,) = log_lines()
    assert SURNAME not in line and "duplicate key" in line


def test_development_logs_are_readable_lines_not_json(settings):
    buffer = io.StringIO()
    observability.configure_logging(replace(settings, log_format="console"), stream=buffer)
    try:
        observability.event("people.rekeyed", force="northshire", people=12)
    finally:
        observability.configure_logging(settings)
    line = buffer.getvalue().strip()
    assert "people.rekeyed" in line and "people=12" in line and not line.startswith("{")


def _metrics(client, token: str | None = METRICS_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/metrics", headers=headers)


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
def metrics_token(services, monkeypatch) -> str:
    monkeypatch.setattr(services, "settings", replace(services.settings, metrics_token=METRICS_TOKEN))
    return METRICS_TOKEN


def test_metrics_are_not_served_without_a_token_set_and_need_it_when_set(app, services, monkeypatch):
    client = app.test_client()
    assert _metrics(client).status_code == 404  # CONCORD_METRICS_TOKEN unset: no such page
    monkeypatch.setattr(services, "settings", replace(services.settings, metrics_token=METRICS_TOKEN))
    assert _metrics(client, None).status_code == 401
    assert _metrics(client, "wrong").status_code == 401
    assert _metrics(client, make_token(services, "northshire", ["investigator"])).status_code == 401  # a user's
    answered = _metrics(client)
    assert answered.status_code == 200 and answered.mimetype == "text/plain"


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """moto's S3 over HTTP, on a port of its own."""
    with moto_server() as endpoint:
        yield endpoint


def test_metrics_count_requests_by_route_status_and_force_and_show_pool_and_storage_use(
        app, north, metrics_token, s3_endpoint):
    before = _samples(_metrics(app.test_client()).get_data(as_text=True))
    key = ("concord_http_requests_total", frozenset({"route": "/api/v1/people/<uuid:person_id>", "method": "GET",
                                                     "status": "404", "force": "northshire"}.items()))
    for _ in range(3):
        assert north.get("/api/v1/people/00000000-0000-0000-0000-000000000000").status_code == 404
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2", aws_access_key_id="test",
                          aws_secret_access_key="test")  # made after the hooks, as Concord's clients are
    bucket = f"concord-metrics-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    client.list_objects_v2(Bucket=bucket)
    with pytest.raises(client.exceptions.ClientError):
        client.head_object(Bucket=bucket, Key="absent")
    after = _samples(_metrics(app.test_client()).get_data(as_text=True))

    assert after[key] - before.get(key, 0) == 3
    latency = ("concord_http_request_duration_seconds_count",
               frozenset({"route": "/api/v1/people/<uuid:person_id>", "method": "GET"}.items()))
    assert after[latency] - before.get(latency, 0) == 3
    database = services_database(app)
    assert after[("concord_db_pool_checked_out", frozenset({"database": database}.items()))] >= 1  # the test's own
    def calls(operation: str, outcome: str) -> float:
        key = ("concord_storage_calls_total",
               frozenset({"service": "s3", "operation": operation, "outcome": outcome}.items()))
        return after.get(key, 0) - before.get(key, 0)

    assert (calls("CreateBucket", "ok"), calls("ListObjectsV2", "ok"), calls("HeadObject", "http_404")) == (1, 1, 1)
    assert any(name == "concord_storage_call_duration_seconds_count" and dict(labels)["operation"] == "HeadObject"
               for name, labels in after)


def services_database(app) -> str:
    return app.extensions["concord"].databases.pool.url.database


def test_metrics_under_gunicorn_sum_every_workers_requests(settings, services, tmp_path: Path):
    """Two workers, each restarted after a few requests, so that the requests are served by several processes (the
    dead ones' counts kept): /metrics, answered by any one worker, counts them all."""
    token = make_token(services, "northshire", ["investigator"])
    env = {"CONCORD_METRICS_TOKEN": METRICS_TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    with serving(settings, 2, env, ("--max-requests", "4")) as port:
        for n in range(1, 13):
            status, body = _get(port, "/api/v1/me", {"Authorization": f"Bearer {token}"})
            assert status == 200, body
            if n % 4 == 0:
                time.sleep(1.5)  # a worker past --max-requests stops within a second; the next go to another
        assert _get(port, "/metrics")[0] == 401
        status, body = _get(port, "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert status == 200
    samples = _samples(body.decode())
    assert samples[("concord_http_requests_total", frozenset({"route": "/api/v1/me", "method": "GET", "status": "200",
                                                              "force": "northshire"}.items()))] == 12
    assert len({path.stem.rpartition("_")[2] for path in tmp_path.glob("counter_*.db")}) >= 2  # processes that counted


def test_a_traced_request_has_the_request_id_and_its_sql_as_child_spans(settings):
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced_app = create_app(settings)  # an app of its own: its instrumentation ends with it
    tracing.instrument(traced_app, provider)
    services = traced_app.extensions["concord"]
    try:
        token = make_token(services, "northshire", ["investigator"])
        response = traced_app.test_client().get(f"/api/v1/people?surname={SURNAME}",
                                                headers={"Authorization": f"Bearer {token}", "X-Request-Id": "req-t1"})
        assert response.status_code == 200, response.get_json()
    finally:
        services.databases.dispose()
        BotocoreInstrumentor().uninstrument()
    spans = exporter.get_finished_spans()
    (request_span,) = [s for s in spans if s.attributes.get("http.route") == "/api/v1/people"]
    assert request_span.attributes["concord.request_id"] == "req-t1"
    assert request_span.attributes["concord.force"] == "northshire"
    sql = [s for s in spans if s.parent is not None and s.parent.span_id == request_span.context.span_id
           and s.attributes.get("db.system") == "postgresql"]
    assert sql, [(s.name, dict(s.attributes)) for s in spans]
    leaked = [(s.name, key) for s in spans for key, value in s.attributes.items() if SURNAME in str(value)]
    assert leaked == []  # the query string (a search term) is in no attribute


def test_tracing_is_off_and_opentelemetry_not_imported_without_an_endpoint(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from app import tracing; from app.config import Settings; "
            "tracing.init_app(None, Settings()); print('opentelemetry.trace' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("OTEL_")})
    assert out.stdout.strip() == "False"
