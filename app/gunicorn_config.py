"""gunicorn's settings for Concord, read by path: `gunicorn --config app/gunicorn_config.py app.wsgi:app`.

`concord serve` and the Dockerfile both serve with it. It imports nothing of Concord's, and must not: gunicorn
reads it in the master process, and psycopg has to be first imported in a worker, after gevent has patched the
standard library, to wait for the database cooperatively.

Slow clients cannot hold anyone up. Each gevent worker serves every connection in a greenlet of its own, so a
client that sends half a request, or a body slowly, holds its own greenlet and socket (up to `worker_connections`
of them per worker), never a worker or a thread that another request needs. A request's line and headers must
arrive whole within `keepalive` seconds of the previous request or of connecting, or the connection is closed (the
gevent worker reads each request head under that deadline); app/wsgi.py bounds each read of a body likewise.
Behind the production load balancer or reverse proxy, which buffers requests and has read timeouts of its own
(docs/deployment.md), no partial request reaches a worker.
"""
import os
import shutil
import tempfile
from pathlib import Path

# `concord serve --host/--port/--workers` overrides these; the Dockerfile sets the variables.
bind = f"{os.environ.get('CONCORD_BIND_HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

worker_class = os.environ.get("CONCORD_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("CONCORD_WORKER_CONNECTIONS", "1000"))
# Seconds a client has to send a request's line and headers, and that an idle kept-alive connection stays open.
keepalive = int(os.environ.get("CONCORD_HEADER_TIMEOUT", "5"))
# A worker silent this long (busy in one request without yielding) is restarted.
timeout = 30
graceful_timeout = 20
# No access log of gunicorn's: Concord logs each request itself, once, with its route, force and user
# (app/observability.py), and never the raw request line, whose query string may carry personal data.
accesslog = None

# The request head's limits (gunicorn's own defaults, stated here as Concord's decision, README "What a request may
# carry"): a longer request line is 414, more headers or a longer header line 431, each in the JSON error shape
# (app/serving.py replaces gunicorn's HTML error page).
limit_request_line = 4094  # bytes of "GET /path?query HTTP/1.1"
limit_request_fields = 100  # headers
limit_request_field_size = 8190  # bytes of one header line (a bearer token is 1-2 KB)

# The workers' Prometheus metrics (app/metrics.py): one directory they all write to, named in the master's environment
# as it starts, so that every worker inherits it (a fresh temporary one unless PROMETHEUS_MULTIPROC_DIR names one).
# Emptied when the server starts, so counters begin afresh with the server.
_made_metrics_dir = ""


def on_starting(server):
    global _made_metrics_dir
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_metrics_dir = tempfile.mkdtemp(prefix="concord-metrics-")
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # a previous server's (only prometheus_client's files)
        stale.unlink()


def child_exit(server, worker):
    """A worker that exits (restarted, timed out) drops its live gauges (pool connections) from /metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """The directory goes with the server, when it made it (one set in the environment is the operator's)."""
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
