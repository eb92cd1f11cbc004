"""The WSGI entry point gunicorn serves: refuses to start if the runtime role could bypass RLS, bounds how long a
client may take over its request's body, and has gunicorn's own error pages answer in the JSON error shape."""
import gc
import logging
import os
import time

from flask import jsonify
from werkzeug.exceptions import ClientDisconnected

from app import create_app, serving
from app.db import check_runtime_role
from app.errors import handle_http_exception, is_database_outage, payload

# A database that cannot be reached while a worker boots (the embedded server restarting, a failover) is waited
# for this long before the worker gives up: a worker that fails to boot stops gunicorn altogether.
BOOT_WAIT_SECONDS = 20

# Seconds each read of a request's body (and each write of its answer) may wait for the client. Not below the
# header timeout (CONCORD_HEADER_TIMEOUT), which the gevent worker enforces on its own.
BODY_TIMEOUT = float(os.environ.get("CONCORD_BODY_TIMEOUT", "15"))

serving.json_error_pages()

app = create_app()
_services = app.extensions["concord"]


def _with_body_timeout(wsgi_app):
    """Give the client's socket a timeout before the application reads the body: a body that stops arriving then
    ends its request with a 408 instead of holding it (and its greenlet) for as long as the client likes."""

    def served(environ, start_response):
        client = environ.get("gunicorn.socket")
        if client is not None:
            client.settimeout(BODY_TIMEOUT)
        return wsgi_app(environ, start_response)

    return served


def _body_stopped(error: TimeoutError):
    """The client's socket timed out while the request read its body: 408, and the connection is closed."""
    response = jsonify(payload(408, f"The request body stopped arriving for {BODY_TIMEOUT:g} s before it was complete"))
    response.status_code = 408
    response.headers["Connection"] = "close"
    return response


def _client_gone(error: ClientDisconnected):
    """werkzeug reports a body read that failed as the client gone (400); when the read timed out, it is 408."""
    if isinstance(error.__context__, TimeoutError):
        return _body_stopped(error.__context__)
    return handle_http_exception(error)


app.wsgi_app = _with_body_timeout(app.wsgi_app)  # type: ignore[method-assign]
app.register_error_handler(TimeoutError, _body_stopped)
app.register_error_handler(ClientDisconnected, _client_gone)


def _check_runtime_roles() -> None:
    deadline = time.monotonic() + BOOT_WAIT_SECONDS
    while True:
        try:
            for engine in _services.databases.all_engines(_services.registry.tenants()).values():
                check_runtime_role(engine)
            return
        except Exception as exc:
            if not is_database_outage(exc) or time.monotonic() > deadline:
                raise
            logging.getLogger(__name__).warning("worker boot: waiting for the database (%s)", type(exc).__name__)
            time.sleep(1)


_check_runtime_roles()

# Everything loaded so far lives as long as the worker: keep it out of the garbage collector's full
# collections, which otherwise cost a busy request tens of milliseconds every few requests.
gc.freeze()
