"""Running servers and a force's departure: a server lets go of a dedicated database no active force is routed to
once it reads the registry again, so offboarding finishes in one run while a server that served the force still
runs; a session left by a server that has not read it since is ended when the owner may end it, and otherwise
offboarding stops before the drop, as its dry run said it would.

Each layer alone: the engines (app/db.py Databases), the registry's hooks (app/tenancy/registry.py), the drop
(app/lifecycle/service.py), then all of them in a running server. The offboarding tests commit, on forces of their
own (wealdshire, valeshire), which they offboard."""
from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from sqlalchemy import Connection, create_engine, text
from werkzeug.serving import make_server

from app import Services, create_app
from app.auth import dev_idp
from app.db import Databases
from app.lifecycle import archive, service
from app.lifecycle.operations import Refused, Reporter, Run, entry
from app.tenancy import config as tenancy_config
from app.tenancy.registry import Registry
from tests.conftest import superuser_url
from tests.test_tenant_lifecycle import force_file, neighbours_cleaned  # noqa: F401  (the fixture)
from tests.test_tenant_lifecycle_resume import operation_status, own_database  # noqa: F401  (the fixture)

SERVER_TTL = 0.5  # how long the test's server keeps the registry it read


def backend_pid(conn: Connection) -> int:
    return conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]


def live_pids(pids: set[int], timeout: float = 5.0) -> set[int]:
    """Those of these backends still running once the ones ending have had time to exit."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(superuser_url(), autocommit=True) as conn:
        while True:
            live = {row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)",
                                                    (list(pids),))}
            if not live or time.monotonic() > deadline:
                return live
            time.sleep(0.05)


def runtime_pids(database_name: str, runtime_role: str) -> set[int]:
    """The backends of the runtime role's sessions on a database."""
    with psycopg.connect(superuser_url(), autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND usename = %s",
                                               (database_name, runtime_role))}


def dedicated_force(directory: Path, slug: str, force_code: str) -> tenancy_config.Tenant:
    force_file(directory, slug, force_code)
    path = directory / f"{slug}.toml"
    path.write_text(path.read_text().replace('deployment = "pooled"', 'deployment = "dedicated"'))
    return tenancy_config.load(directory).tenants[slug]


# ------------------------------------------------------------------------------------------------ each layer alone


def test_releasing_a_departed_database_ends_its_idle_connections_and_disturbs_no_request(settings, services):
    databases = Databases(settings)  # a server's engines of its own: the test app's serve the other tests
    lake, north = services.registry.by_slug("lakeshire"), services.registry.by_slug("northshire")
    try:
        departed = databases.engine_for(lake)
        idle = departed.connect()
        idle_pid = backend_pid(idle)
        in_flight = departed.connect()  # a request on the departed database, mid-transaction
        in_flight.execute(text("SELECT 1"))
        in_flight_pid = backend_pid(in_flight)
        elsewhere = databases.pool.connect()  # a request on the pool, mid-transaction
        elsewhere.execute(text("SELECT 1"))
        idle.close()  # back in the pool, idle: what made DROP DATABASE refuse

        databases.release_departed([north])  # the registry as read now: lakeshire has gone

        assert live_pids({idle_pid}) == set()
        assert in_flight.execute(text("SELECT current_database()")).scalar_one().endswith("_lakeshire")  # goes on
        in_flight.close()
        gc.collect()  # the old pool, which nothing refers to now (a server's collector runs as it allocates)
        assert live_pids({in_flight_pid}) == set()
        assert elsewhere.execute(text("SELECT count(*) FROM tenant")).scalar_one() > 0
        elsewhere.close()
        again = databases.engine_for(lake)  # routed there again (moved back): a fresh engine
        assert again is not departed
        with again.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar_one().endswith("_lakeshire")
        databases.release_departed([north, lake])  # still routed to: kept
        assert databases.engine_for(lake) is again
        with databases.pool.connect() as conn:  # the pool is never released
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        databases.dispose()


def test_the_registry_tells_its_hooks_the_active_forces_after_each_read(settings):
    owner = create_engine(settings.owner_url(settings.runtime_url()))
    seen: list[list[str]] = []
    try:
        with owner.connect() as conn:
            conn.begin()
            registry = Registry(lambda: conn, ttl=3600)
            registry.read_hooks.append(lambda tenants: seen.append(sorted(t.slug for t in tenants)))
            registry.tenants()
            registry.by_slug("lakeshire")  # from the cache: not read again
            assert len(seen) == 1 and "lakeshire" in seen[0]
            conn.execute(text("UPDATE tenant SET active = false WHERE slug = 'lakeshire'"))  # rolled back below
            registry.invalidate()
            assert registry.by_slug("lakeshire") is None
            assert seen[1] == [slug for slug in seen[0] if slug != "lakeshire"]
            conn.rollback()
    finally:
        owner.dispose()


# ------------------------------------------------------------------------------------------ in a running server


@pytest.fixture
def server(settings) -> Iterator[tuple[str, Services]]:
    """A Concord server of its own on a free port (a werkzeug server in a thread, several requests at once),
    reading the registry again SERVER_TTL seconds after it last did, as every server does within its TTL."""
    app = create_app(replace(settings, registry_ttl_seconds=SERVER_TTL))
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", app.extensions["concord"]
    finally:
        httpd.shutdown()
        thread.join(5)
        app.extensions["concord"].databases.dispose()


def bearer(served: Services, tenant: tenancy_config.Tenant, user: str = "pc-101") -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_idp.issue_token(served.dev_keys, tenant, user, ['investigator'])}"}


@pytest.mark.committing
def test_offboarding_finishes_in_one_run_while_a_server_that_served_the_force_runs(
        settings, services, own_database, server, tmp_path, neighbours_cleaned):  # noqa: F811
    slug = "wealdshire"
    name = own_database(slug)
    tenant = dedicated_force(tmp_path, slug, "86")
    run = Run(settings, operator="lifecycle-test", settle_seconds=4 * SERVER_TTL)  # the servers' TTL, with margin
    service.onboard(run=run, tenant=tenant)
    base, served = server
    served.registry.invalidate()
    weald = bearer(served, tenant)
    body = {"surname": "Weald", "forenames": "Ann", "sex": "female", "date_of_birth": "1990-01-01"}
    created = requests.post(f"{base}/api/v1/people", json=body, headers=weald, timeout=10)
    assert created.status_code == 201, created.text
    person = f"{base}/api/v1/people/{created.json()['id']}"

    def served_at_once() -> None:
        """Several requests at once, so that the server's pool of the force's database holds more than one."""
        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(lambda _: requests.get(person, headers=weald, timeout=10).status_code,
                                range(8))) == {200}

    served_at_once()
    assert len(runtime_pids(name, settings.runtime_role)) >= 2  # idle in the server's pool, as after any request

    # Moved to the pool, the force is served from there, and the server lets go of its emptied database.
    service.move(run=run, slug=slug, to="pooled")
    served_at_once()
    assert live_pids(runtime_pids(name, settings.runtime_role)) == set()
    service.move(run=run, slug=slug, to="dedicated")
    served_at_once()
    assert len(runtime_pids(name, settings.runtime_role)) >= 2
    archive.export(run=run, slug=slug, to=str(tmp_path / "export"))

    # Another force goes on using the server throughout (its requests are what make a server read the registry).
    north = bearer(served, served.registry.by_slug("northshire"), user="lifecycle-neighbour")
    stop, statuses = threading.Event(), []

    def neighbour() -> None:
        while not stop.is_set():
            statuses.append(requests.get(f"{base}/api/v1/people?surname=Neighbour", headers=north,
                                         timeout=10).status_code)

    thread = threading.Thread(target=neighbour)
    thread.start()
    try:
        report = service.offboard(run=run, slug=slug)
    finally:
        stop.set()
        thread.join(10)
    services.registry.invalidate()
    assert report.dropped == [f"dropped its database {name}",
                              f"removed its document folder {settings.var_dir / 'documents' / slug}"]
    assert operation_status(settings, slug, "offboard") == ["done"]  # one run, never refused
    assert entry(run, slug).offboarded_at is not None
    with psycopg.connect(superuser_url(), autocommit=True) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
    assert statuses and set(statuses) == {200}  # the other force's requests, undisturbed
    after = requests.get(person, headers=weald, timeout=10)  # as for any offboarded force: its issuer is unknown
    assert (after.status_code, after.json()["message"]) == (401, "Invalid token: unknown issuer")
    assert 'error="invalid_token"' in after.headers["WWW-Authenticate"]


class Said(Reporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, message: str) -> None:
        self.lines.append(message)


@pytest.fixture
def owner_may_end_sessions(settings) -> Iterator[Any]:
    """grant() gives the owner pg_signal_backend (an RDS master user has it), revoke() takes it back; taken back
    at the end in any case."""
    def alter(verb: str) -> None:
        with psycopg.connect(superuser_url(), autocommit=True) as conn:
            conn.execute(f"{verb} pg_signal_backend {'TO' if verb == 'GRANT' else 'FROM'} {settings.owner_role}")

    class Switch:
        grant = staticmethod(lambda: alter("GRANT"))
        revoke = staticmethod(lambda: alter("REVOKE"))

    try:
        yield Switch
    finally:
        alter("REVOKE")


@pytest.mark.committing
def test_a_session_left_by_a_server_is_ended_when_the_owner_may_and_refused_as_the_dry_run_says_otherwise(
        settings, services, own_database, tmp_path, owner_may_end_sessions):  # noqa: F811
    slug = "valeshire"
    name = own_database(slug)
    tenant = dedicated_force(tmp_path, slug, "85")
    run = Run(settings, operator="lifecycle-test", settle_seconds=0)
    service.onboard(run=run, tenant=tenant)
    archive.export(run=run, slug=slug, to=str(tmp_path / "export"))
    # A server that has served no request since the force was deactivated: its idle connection stays.
    held = psycopg.connect(superuser_url(name).replace("postgres@", f"{settings.runtime_role}@"), autocommit=True)

    def dry_run() -> str:
        said = Said()
        service.offboard(run=replace(run, dry_run=True, reporter=said), slug=slug)
        (line,) = said.lines
        return line

    ends = f", then drop its database {name} (1 session(s) on it now: servers let go of theirs once the force is " \
           "inactive and they read the registry again, and the drop ends any left"
    owner_may_end_sessions.grant()
    assert dry_run().endswith(ends + ")")
    owner_may_end_sessions.revoke()
    assert dry_run().endswith(f"{ends}, except the 1 {settings.owner_role} may not end, which would make it stop "
                              "before the drop and say so)")
    with pytest.raises(Refused) as refused:
        service.offboard(run=run, slug=slug)
    assert str(refused.value).startswith(
        f"force {slug}: its rows and objects are removed, but its database {name} is still in use by 1 session(s), "
        f"1 of which {settings.owner_role} may not end (")
    assert f"grant pg_signal_backend to {settings.owner_role}" in str(refused.value)
    assert held.execute("SELECT 1").fetchone() == (1,)  # nothing was ended

    owner_may_end_sessions.grant()
    report = service.offboard(run=run, slug=slug)
    assert report.dropped[0] == f"dropped its database {name}"
    with pytest.raises(psycopg.OperationalError):  # ended by the drop
        held.execute("SELECT 1")
    held.close()
    assert operation_status(settings, slug, "offboard") == ["done"]

