"""The real server (`concord serve`'s gunicorn command) with slow clients: half-sent requests hold nobody up and are
closed after the header timeout, a body that stops arriving is answered 408, and requests of two forces served at
once in one gevent worker each see only their own force. How fast /healthz answers meanwhile is measured by
scripts/bench/slow_clients.py, not asserted here.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest

from app.cli import gunicorn_command
from app.config import ROOT
from tests.conftest import make_token

PARTIAL = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-Client: "
HEADER_TIMEOUT = 1  # seconds: short, so that the test sees the server close a half-sent request soon (the body too)


def _get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@contextmanager
def serving(settings, workers: int, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> Iterator[int]:
    """`concord serve`'s gunicorn on a free loopback port, serving the test databases, until it answers /healthz;
    its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = gunicorn_command("127.0.0.1", port, workers)
    command[-1:-1] = ["--log-level", "warning", *args]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
           "CONCORD_ENV": "test", **(env or {})}
    env.pop("CONCORD_WORKER_CLASS", None)  # the default workers
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(port, "/healthz", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="module")
def server(settings) -> Iterator[int]:
    """One gevent worker, with short header and body timeouts; its port."""
    with serving(settings, 1, {"CONCORD_HEADER_TIMEOUT": str(HEADER_TIMEOUT), "CONCORD_BODY_TIMEOUT": "1"}) as port:
        yield port


def _half_sent(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(PARTIAL)
    return sock


def test_healthz_answers_while_half_sent_requests_hold_sockets(server):
    held = [_half_sent(server) for _ in range(10)]  # more than the one worker has
    try:
        assert [_get(server, "/healthz")[0] for _ in range(5)] == [200] * 5
    finally:
        for sock in held:
            sock.close()


def test_a_half_sent_request_is_closed_after_the_header_timeout_unanswered(server):
    with _half_sent(server) as sock:
        assert sock.recv(4096) == b""  # closed by the server (the socket's own timeout is 10 s)


def test_requests_of_two_forces_served_at_once_each_see_their_own_force(server, services):
    tokens = {slug: make_token(services, slug, ["investigator"]) for slug in ("northshire", "southshire")}

    def me(slug: str) -> str:
        status, body = _get(server, "/api/v1/me", {"Authorization": f"Bearer {tokens[slug]}"})
        assert status == 200, body
        return json.loads(body)["force"]

    slugs = ["northshire", "southshire"] * 15
    with ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(me, slugs)) == slugs


def test_a_body_that_stops_arriving_is_answered_408_in_the_error_shape(server, services):
    token = make_token(services, "northshire", ["investigator"])
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/people HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token.encode()
                     + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"surname\": ")
        answer = b""
        while chunk := sock.recv(65536):  # until the server closes the connection
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert json.loads(body)["code"] == 408 and json.loads(body)["request_id"]
