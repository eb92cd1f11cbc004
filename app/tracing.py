"""OpenTelemetry traces of requests, SQL statements and boto3 calls, exported over OTLP, off by default.

Tracing is on when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, the SDK's own variables; OTEL_SERVICE_NAME and the other OTEL_* variables
apply as the SDK documents them). Off, nothing of OpenTelemetry is imported. Each request's span carries
`concord.request_id` (the X-Request-Id answered) and `concord.force`, and its path without the query string; SQL
spans carry the statement with its parameters left out (search terms and parameters are values people typed).
"""
from __future__ import annotations

import wsgiref.util
from typing import Any

from flask import Flask

from app.config import Settings

REDACTED = "[redacted]"


def init_app(app: Flask, settings: Settings) -> None:
    """Trace this app when an endpoint is configured: a tracer provider exporting over OTLP, then `instrument`."""
    if not settings.otlp_endpoint:
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "concord"}))  # OTEL_SERVICE_NAME wins
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    instrument(app, provider)


def instrument(app: Flask, provider: Any) -> None:
    """Spans for the app's requests, for every database engine it uses (dedicated ones as they are created) and for
    every boto3 call, sent to `provider`."""
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.flask import FlaskInstrumentor
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeter

    FlaskInstrumentor().instrument_app(app, tracer_provider=provider)
    # One engine at a time (SQLAlchemyInstrumentor instruments engines once per process, and wraps a create_engine
    # that app.db imported before it); its connection-usage metric is Prometheus's here (app/metrics.py).
    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    usage = NoOpMeter("concord").create_up_down_counter("db.client.connections.usage")
    databases = app.extensions["concord"].databases

    def traced(engine: Any) -> None:
        EngineTracer(tracer, engine, usage)

    traced(databases.pool)
    databases.engine_created.append(traced)
    botocore = BotocoreInstrumentor()
    if not botocore.is_instrumented_by_opentelemetry:
        botocore.instrument(tracer_provider=provider)


def annotate(*, request_id: str | None, force: str | None, environ: dict) -> None:
    """Put the request id and force on the request's span, and take the query string off it (search terms are
    personal data); a no-op when tracing is off. Called as the request finishes, while its span still records (the
    instrumentation sets its attributes after any request hook, so they are overwritten here)."""
    import sys

    if "opentelemetry.trace" not in sys.modules:  # tracing off: OpenTelemetry was never imported
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attribute("concord.request_id", request_id or "")
    if force:
        span.set_attribute("concord.force", force)
    span.set_attribute("http.target", environ.get("PATH_INFO", ""))
    span.set_attribute("http.url", wsgiref.util.request_uri(environ, include_query=False))
    if environ.get("QUERY_STRING"):
        span.set_attribute("url.query", REDACTED)
