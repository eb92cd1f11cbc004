"""The server's own error answers: a real gunicorn serving app.wsgi with app/gunicorn_config.py, spoken to over a
raw socket, answers an over-long request line, oversized or too many headers and a request it cannot read in the
JSON error shape, never HTML; the Flask level does the same for what it refuses."""
from __future__ import annotations

import http.client
import json
import os
import runpy
import socket
import subprocess
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from app.cli import GUNICORN_CONFIG, gunicorn_command
from app.config import ROOT
from tests.conftest import free_port

# gunicorn's settings as it reads them (the file imports nothing of Concord's)
LIMITS = SimpleNamespace(**runpy.run_path(str(GUNICORN_CONFIG)))


@pytest.fixture(scope="module")
def gunicorn(settings, tmp_path_factory) -> Iterator[int]:
    """gunicorn serving Concord as `concord serve` does (its limits), on a free port; yields the port."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": settings.database_url or "", "CONCORD_ENV": "test",
           "CONCORD_VAR_DIR": str(tmp_path_factory.mktemp("gunicorn-var")), "CONCORD_LOG_LEVEL": "WARNING"}
    command = gunicorn_command("127.0.0.1", port, 1)
    command[-1:-1] = ["--log-level", "error"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        for _ in range(150):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def raw(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; (status, headers, body) of the answer, read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
            if b"\r\n\r\n" in received:
                head, _, body = received.partition(b"\r\n\r\n")
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")]
                if length and len(body) >= length[0]:
                    break
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def assert_json_error(answer: tuple[int, dict[str, str], bytes], status: int) -> dict:
    code, headers, body = answer
    assert code == status, body[:300]
    assert headers["content-type"].startswith("application/json"), (headers, body[:300])
    error = json.loads(body)
    assert error["code"] == status and error["status"] and error["message"] and error["request_id"], error
    return error


def test_an_over_long_request_line_is_414_json(gunicorn):
    path = "/api/v1/people?surname=" + "a" * LIMITS.limit_request_line
    error = assert_json_error(raw(gunicorn, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()), 414)
    assert "too long" in error["message"]


def test_an_oversized_header_is_431_json(gunicorn):
    header = "X-Padding: " + "a" * (LIMITS.limit_request_field_size + 10)
    assert_json_error(raw(gunicorn, f"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n{header}\r\n\r\n".encode()), 431)


def test_too_many_headers_is_431_json(gunicorn):
    headers = "".join(f"X-H{i}: {i}\r\n" for i in range(LIMITS.limit_request_fields + 5))
    assert_json_error(raw(gunicorn, f"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode()), 431)


@pytest.mark.parametrize("request_bytes", [b"NOT A REQUEST\r\n\r\n", b"GET /api/v1/me HTTP/9.9\r\nHost: x\r\n\r\n",
                                           b"GET /api/v1/me HTTP/1.1\r\nBad Header\r\n\r\n",
                                           b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"])
def test_a_request_gunicorn_cannot_read_is_400_json(gunicorn, request_bytes):
    assert_json_error(raw(gunicorn, request_bytes), 400)


def test_the_application_still_answers_and_its_errors_are_json_too(gunicorn):
    status, headers, body = raw(gunicorn, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert_json_error(raw(gunicorn, b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 401)
    assert_json_error(raw(gunicorn, b"GET /api/v1/nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404)


def test_flask_answers_what_it_refuses_in_json_whatever_the_path(app, north):
    client = app.test_client()
    bearer = {"Authorization": f"Bearer {north.token}"}
    for response in (client.get("/nowhere"), client.get("/api/v1/nowhere"), client.delete("/api/v1/people",
                     headers=bearer), client.get("/api/v1/me", headers={"Authorization": "Basic x"})):
        assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
        assert {"code", "status", "message", "request_id"} <= set(response.get_json())


def test_the_container_serves_with_the_same_config():
    command = (ROOT / "Dockerfile").read_text().split("CMD", 1)[1]
    assert "app/gunicorn_config.py" in command
