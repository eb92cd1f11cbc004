"""One embedded PostgreSQL per test session, fresh test databases, the app as the real runtime role.

Each test runs inside a transaction per database that is rolled back afterwards (the app's sessions
join it through savepoints). Tests marked `committing` use the real engines and clean up themselves.
"""
from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import create_engine

from app import create_app, embedded, migrate
from app.auth import dev_idp
from app.config import ROOT, Settings
from app.tenancy import config as tenancy_config
from app.tenancy import service as tenancy_service

POOL_DB = "concord_test"
DEDICATED = "lakeshire"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings pointing at fresh test databases in the embedded server."""
    embedded.start(ROOT / "var")
    platform = tenancy_config.load(ROOT / "tenants")
    names = [POOL_DB] + [f"{POOL_DB}_{t.slug}" for t in platform.dedicated()]
    for name in names:
        embedded.drop_database(name)
    embedded.bootstrap(names)
    settings = Settings(
        environment="test",
        database_url=embedded.runtime_url(POOL_DB),
        var_dir=tmp_path_factory.mktemp("var"),
        tenants_dir=ROOT / "tenants",
        registry_ttl_seconds=3600,
        rate_limits=False,  # on only in tests/test_rate_limits.py, which turns them on
    )
    migrate.upgrade(settings, platform)
    with create_engine(settings.owner_url(settings.runtime_url())).begin() as conn:
        tenancy_service.apply(conn, platform)
    yield settings
    embedded.stop()


@pytest.fixture(scope="session")
def app(settings: Settings):
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["concord"].databases.dispose()


@pytest.fixture(scope="session")
def services(app):
    return app.extensions["concord"]


@pytest.fixture(autouse=True)
def rolled_back(request: pytest.FixtureRequest, services) -> Iterator[None]:
    """Bind every session of the test to one connection per database, rolled back at the end."""
    if request.node.get_closest_marker("committing"):
        yield
        return
    databases = services.databases
    connections = {"pool": databases.pool.connect()}
    for tenant in services.registry.tenants():
        if tenant.dedicated:
            connections[tenant.slug] = databases.engine_for(tenant).connect()
    for conn in connections.values():
        conn.begin()
    databases.overrides = connections
    try:
        yield
    finally:
        databases.overrides = {}
        for conn in connections.values():
            conn.rollback()
            conn.close()


def superuser_url(database: str = POOL_DB) -> str:
    """The embedded server's superuser: bypasses RLS, for checking what is really stored."""
    return f"postgresql://postgres@/{database}?host={embedded.socket_dir()}"


@pytest.fixture
def superuser() -> Iterator[psycopg.Connection]:
    with psycopg.connect(superuser_url(), autocommit=True) as conn:
        yield conn


def make_token(services, slug: str, roles: list[str], user: str = "pc-101", **kwargs: Any) -> str:
    tenant = services.registry.by_slug(slug)
    return dev_idp.issue_token(services.dev_keys, tenant, user, roles, **kwargs)


@dataclass
class Api:
    """A test client acting as one user of one force."""

    client: Any
    token: str
    slug: str

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.get(path, headers=self._headers(headers), **kw)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.post(path, json=json, headers=self._headers(headers), **kw)

    def patch(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.patch(path, json=json, headers=self._headers(headers), **kw)

    def put(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any):
        return self.client.put(path, json=json, headers=self._headers(headers), **kw)

    def create_person(self, **fields: Any) -> dict[str, Any]:
        body = {"surname": unique("Doe"), "forenames": "Jane", "sex": "female", "date_of_birth": "1990-01-01", **fields}
        response = self.post("/api/v1/people", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()


@pytest.fixture
def as_user(app, services):
    """as_user('northshire', 'investigator', user='pc-1') -> an Api for that user."""

    def factory(slug: str, *roles: str, user: str = "pc-101") -> Api:
        return Api(app.test_client(), make_token(services, slug, list(roles or ("investigator",)), user), slug)

    return factory


@pytest.fixture
def north(as_user) -> Api:
    return as_user("northshire", "investigator")


@pytest.fixture
def south(as_user) -> Api:
    return as_user("southshire", "investigator")


@pytest.fixture
def north_admin(as_user) -> Api:
    return as_user("northshire", "force_admin", user="ns-admin")


@pytest.fixture
def south_admin(as_user) -> Api:
    return as_user("southshire", "force_admin", user="ss-admin")


@pytest.fixture
def lake(as_user) -> Api:
    return as_user("lakeshire", "investigator")


def unique(prefix: str = "T") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def unique_name(prefix: str = "Name") -> str:
    """A made-up surname of letters only (phonetic keys ignore digits), unlikely to meet another test's."""
    return prefix + "".join("bcdfghjklmnpqrst"[int(c, 16)] for c in uuid.uuid4().hex[:8])


def tenant_tables(conn: psycopg.Connection) -> list[str]:
    """Every table in public with a tenant_id column; not partitions, which are reached only through their
    parent (test_isolation checks that they are sealed)."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
        "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "AND a.attname = 'tenant_id' AND NOT a.attisdropped ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server (S3, KMS, Secrets Manager over real HTTP) on a port of its own: its endpoint. Its state is one
    per process, so each test makes buckets and keys of its own."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
