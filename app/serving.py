"""gunicorn's own error pages in the JSON error shape (the limits it puts on a request's head are in
app/gunicorn_config.py).

gunicorn answers a request line, header or header count over its limits (and a request it cannot parse) itself,
before Concord sees it, with a small HTML page. `json_error_pages` replaces the function that writes those
pages, so that every answer a client gets is the one JSON shape (``app.errors``); app.wsgi calls it, so it holds
wherever gunicorn serves Concord.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

MAX_DETAIL = 200  # characters of gunicorn's own explanation kept in the message (it may quote the request)


def error_response(status: int, detail: str) -> bytes:
    """A whole HTTP/1.1 response in the JSON error shape, for gunicorn to write before it closes the socket."""
    request_id = uuid.uuid4().hex
    reason = HTTP_STATUS_CODES.get(status, "Error")
    message = {414: "The request line (method, path and query) is too long",
               431: "A header, or the number of headers, is over this server's limit",
               400: "The server could not read the request"}.get(status, reason)
    body = json.dumps({"code": status, "status": reason, "message": f"{message}: {detail[:MAX_DETAIL]}",
                       "request_id": request_id}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Request-Id: {request_id}\r\nCache-Control: no-store\r\n\r\n")
    return head.encode("latin-1") + body


def json_error_pages() -> None:
    """Make gunicorn write its own error answers in the JSON error shape (a no-op outside gunicorn)."""
    try:
        from gunicorn import util  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - gunicorn is a dependency; served some other way, nothing to do
        return

    def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
        util.write_nonblock(sock, error_response(status_int, mesg))

    util.write_error = write_error
