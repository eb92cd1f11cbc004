"""While a database is down the API answers 503 with Retry-After in the one error shape, /readyz names the
database, and both recover by themselves when it returns.

The shared embedded server is never stopped: a database is cut off by a relay in front of its Unix socket, which
the test closes (dropping every connection through it) and opens again.
"""
from __future__ import annotations

import socket
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
import sqlalchemy.exc

from app import create_app, embedded
from app.errors import RETRY_AFTER_SECONDS, handle_database_unavailable, is_database_outage
from app.tenancy import config as tenancy_config
from tests.conftest import make_token

SOCKET = ".s.PGSQL.5432"


class SocketRelay:
    """PostgreSQL's Unix socket, relayed through another directory's: `cut()` drops every connection and refuses
    new ones (the database is down), `restore()` serves again (it is back)."""

    def __init__(self, target_dir: str):
        self.target = str(Path(target_dir) / SOCKET)
        self.dir = tempfile.mkdtemp(prefix="pgrelay")  # short: a socket path has at most 107 bytes
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def restore(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(Path(self.dir) / SOCKET))
        listener.listen(16)
        listener.settimeout(0.05)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
            (Path(self.dir) / SOCKET).unlink(missing_ok=True)
        with self._lock:
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            client.settimeout(None)
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.connect(self.target)
            with self._lock:
                self._open += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def relay() -> Iterator[SocketRelay]:
    relay = SocketRelay(embedded.socket_dir())
    relay.restore()
    yield relay
    relay.cut()


def _app(settings, relay: SocketRelay, through_relay: str, registry_ttl: float):
    """An app whose `through_relay` database ('pool' or 'lakeshire') is reached through the relay, every other
    database directly."""
    urls = {"pool": settings.runtime_url(),
            **{t.slug: settings.dedicated_url(t.slug) for t in tenancy_config.load(settings.tenants_dir).dedicated()}}
    urls[through_relay] = urls[through_relay].update_query_dict({"host": relay.dir})
    pool = urls.pop("pool")
    app = create_app(replace(settings, database_url=pool.render_as_string(hide_password=False),
                             dedicated_overrides={slug: url.render_as_string(hide_password=False)
                                                  for slug, url in urls.items()},
                             registry_ttl_seconds=registry_ttl))
    app.config["TESTING"] = True
    return app


def _get(app, slug: str, path: str = "/api/v1/tasks"):
    services = app.extensions["concord"]
    token = make_token(services, slug, ["investigator"])
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})


def _assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = response.get_json()
    assert body["code"] == 503 and body["status"] == "Service Unavailable" and body["request_id"]
    assert body["message"] == "The database is unavailable; try again shortly"  # nothing of the server's own


def test_while_the_pool_is_down_its_forces_get_503_the_dedicated_one_is_served_and_both_recover(settings, relay):
    # A registry that rereads the pool on every request: while the pool is down it keeps the forces as last read.
    app = _app(settings, relay, through_relay="pool", registry_ttl=0)
    try:
        assert _get(app, "northshire").status_code == 200
        relay.cut()
        _assert_unavailable(_get(app, "northshire"))
        _assert_unavailable(_get(app, "northshire"))  # connecting afresh fails the same way
        assert _get(app, "lakeshire").status_code == 200
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert ready.get_json() == {"status": "not ready", "databases": {"pool": "unreachable", "lakeshire": "ok",
                                                                     "moorshire": "ok"}}

        relay.restore()
        assert _get(app, "northshire").status_code == 200
        assert app.test_client().get("/readyz").get_json()["databases"] == {"pool": "ok", "lakeshire": "ok",
                                                                            "moorshire": "ok"}
    finally:
        app.extensions["concord"].databases.dispose()


def test_while_a_dedicated_database_is_down_readyz_names_its_force_and_only_that_force_waits(settings, relay):
    app = _app(settings, relay, through_relay="lakeshire", registry_ttl=3600)
    try:
        assert _get(app, "lakeshire").status_code == 200
        relay.cut()
        _assert_unavailable(_get(app, "lakeshire"))
        assert _get(app, "northshire").status_code == 200
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["databases"] == {"pool": "ok", "lakeshire": "unreachable", "moorshire": "ok"}
        relay.restore()
        assert _get(app, "lakeshire").status_code == 200
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        app.extensions["concord"].databases.dispose()


def test_a_database_that_went_away_and_came_back_between_requests_costs_one_503(settings, relay):
    app = _app(settings, relay, through_relay="lakeshire", registry_ttl=3600)
    try:
        assert _get(app, "lakeshire").status_code == 200
        services = app.extensions["concord"]
        engine = services.databases.engine_for(services.registry.by_slug("lakeshire"))
        held = [engine.connect() for _ in range(engine.pool.size())]
        for conn in held:
            conn.close()  # back in the pool, idle: every one of them goes when the server does
        relay.cut()
        relay.restore()
        _assert_unavailable(_get(app, "lakeshire"))  # the idle connection is found broken, and the pool emptied
        assert [_get(app, "lakeshire").status_code for _ in range(3)] == [200, 200, 200]
    finally:
        app.extensions["concord"].databases.dispose()


def test_readyz_right_after_a_database_came_back_says_ok(settings, relay):
    app = _app(settings, relay, through_relay="lakeshire", registry_ttl=3600)
    try:
        assert app.test_client().get("/readyz").status_code == 200  # leaves a connection idle in the pool
        relay.cut()
        relay.restore()
        assert app.test_client().get("/readyz").get_json()["databases"] == {"pool": "ok", "lakeshire": "ok",
                                                                            "moorshire": "ok"}
    finally:
        app.extensions["concord"].databases.dispose()


def _wrapped(orig: BaseException, invalidated: bool = False) -> sqlalchemy.exc.DBAPIError:
    return sqlalchemy.exc.DBAPIError.instance("SELECT 1", {}, orig, psycopg.Error,
                                              connection_invalidated=invalidated)


@pytest.mark.parametrize("error, outage", [
    (psycopg.OperationalError("connection failed: No such file or directory"), True),  # libpq: no SQLSTATE
    (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
    (psycopg.errors.CannotConnectNow("the database system is starting up"), True),
    (psycopg.errors.TooManyConnections("too many clients already"), True),
    (psycopg.errors.ConnectionFailure("connection failure"), True),
    (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), False),
    (psycopg.errors.DeadlockDetected("deadlock detected"), False),
    (psycopg.errors.LockNotAvailable("could not obtain lock"), False),
    (psycopg.errors.PipelineAborted("pipeline aborted"), False),
    (psycopg.InterfaceError("the cursor is closed"), False),
    (psycopg.errors.UniqueViolation("duplicate key"), False),
])
def test_only_errors_that_say_the_database_is_unreachable_are_outages(error, outage):
    assert is_database_outage(error) is outage
    assert is_database_outage(_wrapped(error)) is outage


def test_an_error_on_a_connection_sqlalchemy_found_broken_is_an_outage():
    assert is_database_outage(_wrapped(psycopg.InterfaceError("the connection is lost"), invalidated=True))


def test_an_operational_error_that_is_no_outage_stays_a_500(app):
    with app.test_request_context("/api/v1/tasks"):
        response = handle_database_unavailable(_wrapped(psycopg.errors.QueryCanceled("statement timeout")))
    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert response.get_json()["code"] == 500
