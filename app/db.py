"""Engines, sessions, the tenant context and the two isolation layers on the Python side.

Row-level security in PostgreSQL is the boundary (see migrations). Here:
- the tenant context is a contextvar, set from the verified identity, never from input;
- every transaction begins with set_config('app.tenant_id', ..., true): transaction-local, so a pooled
  connection carries nothing to the next request, and no context means '' which RLS reads as no rows;
- an ORM criteria hook adds tenant_id = :t to every select of a tenant model (the second layer).
"""
from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Connection,
    DateTime,
    Engine,
    Integer,
    Select,
    String,
    create_engine,
    event,
    false,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

from app.config import Settings
from app.tenancy.config import Tenant


class Base(DeclarativeBase):
    """Declarative base of every Concord model."""


class TenantScoped:
    """Mixin of every tenant-owned model: tenant_id leads the primary key."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)


class Versioned:
    """The columns of every versioned record: its id, its version (the ETag), who made and last changed it."""

    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String)


class Shareable:
    """The columns the sharing policies read: the security classification and the owner's do-not-share flag."""

    classification: Mapped[str] = mapped_column(String, default="OFFICIAL")
    do_not_share: Mapped[bool] = mapped_column(Boolean, default=False)


@dataclass(frozen=True)
class SharedSource:
    """Records of one type another force shares with the acting force, under which agreements, masked how."""

    provider_id: uuid.UUID
    record_type: str
    agreement_ids: tuple[uuid.UUID, ...]
    masked: frozenset[str]


@dataclass(frozen=True)
class TenantContext:
    """Who is acting, for whom, and why: set once per request from the verified token.

    `shared` lists what other forces share with this one; it is filled only when a purpose is stated,
    and the database's sharing policies decide row by row whatever it says.
    """

    tenant_id: uuid.UUID
    user_id: str = ""
    purpose: str = ""
    request_id: str = ""
    shared: tuple[SharedSource, ...] = ()

    @property
    def visible_tenants(self) -> tuple[uuid.UUID, ...]:
        """This force and every force sharing anything with it: the ORM's second layer of scoping."""
        return (self.tenant_id, *dict.fromkeys(s.provider_id for s in self.shared))

    def source(self, provider_id: uuid.UUID, record_type: str) -> SharedSource | None:
        return next((s for s in self.shared if s.provider_id == provider_id and s.record_type == record_type), None)


_context: contextvars.ContextVar[TenantContext | None] = contextvars.ContextVar("concord_tenant", default=None)


def current_context() -> TenantContext | None:
    """The tenant context of this request or task, if any."""
    return _context.get()


@contextmanager
def tenant_context(ctx: TenantContext | None) -> Iterator[TenantContext | None]:
    """Run a block as the given tenant (None: as nobody, which sees no tenant rows)."""
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def set_context(ctx: TenantContext | None) -> contextvars.Token:
    """Set the context for the rest of this request; reset it with reset_context(token)."""
    return _context.set(ctx)


def reset_context(token: contextvars.Token) -> None:
    _context.reset(token)


_SET_CONTEXT_SQL = (
    "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true), "
    "set_config('app.purpose', %s, true)"
)


@event.listens_for(Session, "after_begin")
def _apply_tenant_setting(session: Session, transaction: Any, connection: Connection) -> None:
    """Every transaction starts by naming its tenant (or nobody) in transaction-local settings.

    The settings are sent in a psycopg pipeline, so the driver's BEGIN and the set_config travel to the
    server in one round trip rather than two.
    """
    ctx = _context.get()
    params = (str(ctx.tenant_id) if ctx else "", ctx.user_id if ctx else "", ctx.purpose if ctx else "")
    driver = connection.connection.driver_connection
    with driver.pipeline(), driver.cursor() as cursor:
        cursor.execute(_SET_CONTEXT_SQL, params, prepare=True)


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    """Second layer: scope every ORM select of a tenant model to the context's tenant (or to nothing)."""
    if not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    if not state.session.info.get("tenant_criteria", True):
        return
    ctx = _context.get()
    if ctx is None:
        criteria = with_loader_criteria(TenantScoped, lambda cls: false(), include_aliases=True)
    elif ctx.shared:
        visible = ctx.visible_tenants
        criteria = with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id.in_(visible), include_aliases=True)
    else:
        tid = ctx.tenant_id
        criteria = with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)
    state.statement = state.statement.options(criteria)


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """One transaction per use case; joins the caller's if one is open (e.g. the idempotency wrapper)."""
    if session.in_transaction():
        yield session
        return
    with session.begin():
        yield session


@contextmanager
def pipelined(session: Session) -> Iterator[None]:
    """Writes inside go to the server one after another without waiting for each other's answers (a psycopg
    pipeline): one round trip for the lot. For statements whose results nobody reads."""
    with session.connection().connection.driver_connection.pipeline():
        yield


def next_serial(session: Session, counter_table: str, tenant_id: uuid.UUID, **key: Any) -> int:
    """The next number of a per-force counter (a table of tenant_id, the key columns and `last`), in the
    caller's transaction: the upsert's row lock makes concurrent takers wait, so numbers never repeat, and a
    rolled-back transaction gives its number back, so they have no gaps. Table and key names are ours."""
    columns = ["tenant_id", *key]
    statement = text(
        f"INSERT INTO {counter_table} ({', '.join(columns)}, last) VALUES ({', '.join(':' + c for c in columns)}, 1) "
        f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET last = {counter_table}.last + 1 RETURNING last"
    )
    return session.execute(statement, {"tenant_id": tenant_id, **key}).scalar_one()


def fetch_page(session: Session, stmt: Select, page: int, page_size: int) -> tuple[list[Any], int]:
    """One page of an ordered ORM select, with the total of all pages, in the caller's transaction."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)).all()
    return list(rows), int(total)


def log_page(session: Session, stmt: Select, occurred_at: Any, id_column: Any, equal: list[tuple[Any, Any]],
             from_: Any, to: Any, page: int, page_size: int) -> tuple[list[Any], int]:
    """One page of a log, newest first: `stmt` narrowed to each (column, value) pair whose value is given and
    to [from_, to) on `occurred_at`, ties broken by `id_column`, in its own transaction or the caller's."""
    for column, value in equal:
        if value:
            stmt = stmt.where(column == value)
    if from_:
        stmt = stmt.where(occurred_at >= from_)
    if to:
        stmt = stmt.where(occurred_at < to)
    with transaction(session):
        return fetch_page(session, stmt.order_by(occurred_at.desc(), id_column), page, page_size)


class Databases:
    """The pooled engine and one small engine per dedicated force, chosen from the verified tenant."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.pool: Engine = _engine(settings.runtime_url(), settings.pool_size)
        self._dedicated: dict[str, Engine] = {}
        self._lock = threading.Lock()
        # Tests bind sessions to one connection per database and roll it back afterwards.
        self.overrides: dict[str, Connection] = {}

    def engine_for(self, tenant: Tenant | None) -> Engine:
        """The engine of the database holding this tenant's records (created on first use)."""
        if tenant is None or not tenant.dedicated:
            return self.pool
        engine = self._dedicated.get(tenant.slug)
        if engine is None:
            with self._lock:
                engine = self._dedicated.get(tenant.slug)
                if engine is None:
                    url = self.settings.dedicated_url(tenant.slug)
                    engine = _engine(url, self.settings.dedicated_pool_size)
                    self._dedicated[tenant.slug] = engine
        return engine

    def all_engines(self, tenants: list[Tenant]) -> dict[str, Engine]:
        """Every database by name: 'pool' and each dedicated force's slug."""
        return {"pool": self.pool, **{t.slug: self.engine_for(t) for t in tenants if t.dedicated}}

    def bind_for(self, tenant: Tenant | None) -> Engine | Connection:
        """The engine (or, in tests, the connection) for this tenant's records."""
        key = tenant.slug if tenant is not None and tenant.dedicated else "pool"
        return self.overrides.get(key) or self.engine_for(tenant)

    def session(self, tenant: Tenant | None, *, tenant_criteria: bool | None = None) -> Session:
        """A session for this tenant's database; transactions must be opened explicitly."""
        session = Session(
            bind=self.bind_for(tenant),
            autobegin=False,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        session.info["tenant_criteria"] = (
            self.settings.orm_tenant_criteria if tenant_criteria is None else tenant_criteria
        )
        return session

    def dispose(self) -> None:
        for engine in (self.pool, *self._dedicated.values()):
            engine.dispose()


def _engine(url: Any, pool_size: int) -> Engine:
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False, future=True)


class UnsafeRuntimeRole(RuntimeError):
    """The runtime role could bypass row-level security: Concord refuses to serve."""


RUNTIME_ROLE_CHECK = text(
    """
    SELECT r.rolname, r.rolsuper, r.rolbypassrls,
           (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid
              AND c.relnamespace = 'public'::regnamespace) AS owned
    FROM pg_roles r WHERE r.rolname = current_user
    """
)


def check_runtime_role(engine: Engine | Connection) -> None:
    """Refuse a role that is superuser, has BYPASSRLS or owns tables (owners bypass RLS unless forced)."""
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            row = conn.execute(RUNTIME_ROLE_CHECK).one()
    else:
        row = engine.execute(RUNTIME_ROLE_CHECK).one()
    problems = []
    if row.rolsuper:
        problems.append("is a superuser")
    if row.rolbypassrls:
        problems.append("has BYPASSRLS")
    if row.owned:
        problems.append(f"owns {row.owned} relation(s) in schema public")
    if problems:
        raise UnsafeRuntimeRole(f"runtime role {row.rolname!r} {', '.join(problems)}: refusing to serve")
