"""Engines, sessions, the tenant context and the two isolation layers on the Python side.

Row-level security in PostgreSQL is the boundary (see migrations). Here:
- the tenant context is a contextvar, set from the verified identity, never from input;
- every transaction begins with set_config('app.tenant_id', ..., true): transaction-local, so a pooled
  connection carries nothing to the next request, and no context means '' which RLS reads as no rows;
- an ORM criteria hook adds tenant_id = :t to every select of a tenant model (the second layer).
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import pkgutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Protocol, cast

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    Select,
    SmallInteger,
    String,
    Table,
    create_engine,
    event,
    false,
    func,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import make_url
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    with_loader_criteria,
)

from app.config import Settings
from app.context import (  # noqa: F401  (the acting context, re-exported for the domains)
    SharedSource,
    TenantContext,
    current_context,
    reset_context,
    set_context,
    tenant_context,
)
from app.errors import NotFound, PreconditionFailed
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


class Retained:
    """The columns retention reads (app/retention): the record's PIRM group and next review date, assessed from
    its facts whenever it is written; the review date a retain decision set; and whether it is restricted
    instead of erased (DPA 2018 s.47(2)), which hides it from everyone without restricted access (RLS)."""

    retention_group: Mapped[int | None] = mapped_column(SmallInteger)
    review_on: Mapped[date | None] = mapped_column(Date)
    retained_to: Mapped[date | None] = mapped_column(Date)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)


class Acting(Protocol):
    """Whoever changes a record: anything with a user id (a principal)."""

    @property
    def user_id(self) -> str: ...


class Record(Versioned, Shareable, Retained, TenantScoped, Base):
    """A record of one force: tenant-scoped, versioned, shareable, declaring its facts once.

    Each mapped subclass states its `record_type`, the fields an agreement's field profile may mask, whether
    documents attach to it, and (rarely) that it is never shared. The sharing layer, links, documents, masking
    and the guard tests read these from the registry of mapped classes (`record_types`, `record_class`).
    """

    __abstract__ = True

    record_type: ClassVar[str]
    maskable: ClassVar[tuple[str, ...]] = ()
    attachable: ClassVar[bool] = False  # documents may be attached to it
    shareable: ClassVar[bool] = True  # False: no agreement can release it (and it has no sharing policy)

    def check_version(self, expected: int | None) -> None:
        """412 unless the client saw the current version (None: the route did not ask)."""
        if expected is not None and self.version != expected:
            raise PreconditionFailed(
                f"The record has changed since you read it (now version {self.version}); read it again")

    @classmethod
    def shared_only_when(cls) -> Any:
        """What a record must be, beyond its classification and do-not-share flag, to be shareable at all (its
        migration's sharing policy says the same in SQL); true by default."""
        return true()

    def touch(self, principal: Acting) -> None:
        """Mark a change: the next version, by whom, when."""
        self.version += 1
        self.updated_by = principal.user_id
        self.updated_at = datetime.now(timezone.utc)


def _load_models() -> None:
    """Import every domain's models module (found, not named), so that the registry sees every record type."""
    import app

    for module in pkgutil.iter_modules(app.__path__):
        if module.ispkg and importlib.util.find_spec(f"app.{module.name}.models") is not None:
            importlib.import_module(f"app.{module.name}.models")


@functools.cache
def _registry() -> dict[str, type[Record]]:
    _load_models()
    found: dict[str, type[Record]] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, Record):
            if cls.record_type in found:
                raise TypeError(f"record type {cls.record_type!r} is declared by {found[cls.record_type].__name__} "
                                f"and {cls.__name__}")
            found[cls.record_type] = cls
    return found


def record_types() -> tuple[str, ...]:
    """Every record type, from the mapped Record classes, in a stable order."""
    return tuple(sorted(_registry()))


def shareable_types() -> tuple[str, ...]:
    """The record types an agreement can name."""
    return tuple(t for t in record_types() if _registry()[t].shareable)


def attachable_types() -> tuple[str, ...]:
    """The record types documents attach to."""
    return tuple(t for t in record_types() if _registry()[t].attachable)


def record_class(record_type: str) -> type[Record]:
    """The mapped class of a record type (KeyError for an unknown one)."""
    return _registry()[record_type]


_SET_CONTEXT_SQL = (
    "SELECT set_config('app.tenant_id', %s, true), set_config('app.user_id', %s, true), "
    "set_config('app.purpose', %s, true), set_config('app.restricted_access', %s, true)"
)


@event.listens_for(Session, "after_begin")
def _apply_tenant_setting(session: Session, transaction: Any, connection: Connection) -> None:
    """Every transaction starts by naming its tenant (or nobody) in transaction-local settings.

    The settings are sent in a psycopg pipeline, so the driver's BEGIN and the set_config travel to the
    server in one round trip rather than two.
    """
    ctx = current_context()
    params = (str(ctx.tenant_id) if ctx else "", ctx.user_id if ctx else "", ctx.purpose if ctx else "",
              "on" if ctx and ctx.restricted_access else "")
    driver = _driver(connection)
    with driver.pipeline(), driver.cursor() as cursor:
        cursor.execute(_SET_CONTEXT_SQL, params, prepare=True)


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    """Second layer: scope every ORM select of a tenant model to the context's tenant (or to nothing)."""
    if not state.is_select or state.is_column_load or state.is_relationship_load:
        return
    if not state.session.info.get("tenant_criteria", True):
        return
    ctx = current_context()
    if ctx is None:
        criteria = with_loader_criteria(TenantScoped, lambda cls: false(), include_aliases=True)
    elif ctx.shared:
        visible = ctx.visible_tenants
        criteria = with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id.in_(visible), include_aliases=True)
    else:
        tid = ctx.tenant_id
        criteria = with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)
    state.statement = state.statement.options(criteria)


@event.listens_for(Session, "before_flush")
def _only_own_rows(session: Session, _flush: Any, _instances: Any) -> None:
    """A force writes only its own rows: a change to another force's (shared, read-only) row is refused as
    not found before it reaches the database, whichever service attempted it. RLS refuses it anyway."""
    ctx = current_context()
    if ctx is None:
        return
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, TenantScoped) and instance.tenant_id != ctx.tenant_id:
            raise NotFound("No such record in your force: another force's record is not yours to change")


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
    with _driver(session.connection()).pipeline():
        yield


def _driver(connection: Connection) -> Any:
    """The psycopg connection under a SQLAlchemy one (always there while the connection is open)."""
    driver = connection.connection.driver_connection
    assert driver is not None, "the connection is closed"
    return driver


def lock_keys(session: Session, namespace: str, tenant_id: uuid.UUID, keys: set[str]) -> None:
    """Hold a transaction-level advisory lock on each key of this force until the caller's transaction ends, so
    that use cases on the same keys run one after another (in every process) while others go on in parallel.

    The keys become 64-bit numbers (a rare clash only makes two unrelated use cases wait for each other) and are
    locked in ascending order, one after another in one statement, so two transactions sharing several keys
    cannot deadlock on them.
    """
    numbers = sorted({_lock_number(f"{namespace}\x1f{tenant_id}\x1f{key}") for key in keys})
    if numbers:
        session.execute(text("SELECT pg_advisory_xact_lock(n) FROM unnest(CAST(:numbers AS bigint[])) AS n"),
                        {"numbers": numbers})


def _lock_number(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def table(model: type[Base]) -> Table:
    """A model's table, for Core statements on hot paths (no identity map, no autoflush)."""
    return cast(Table, model.__table__)


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
        # Called with each dedicated force's engine when it is created (tracing instruments it: app/tracing.py).
        self.engine_created: list[Callable[[Engine], None]] = []

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
                    for created in self.engine_created:
                        created(engine)
                    self._dedicated[tenant.slug] = engine
        return engine

    def all_engines(self, tenants: list[Tenant]) -> dict[str, Engine]:
        """Every database by name: 'pool' and each dedicated force's slug."""
        return {"pool": self.pool, **{t.slug: self.engine_for(t) for t in tenants if t.dedicated}}

    @staticmethod
    def key_for(tenant: Tenant | None) -> str:
        """The name of the database holding this tenant's records: 'pool' or the dedicated force's slug."""
        return tenant.slug if tenant is not None and tenant.dedicated else "pool"

    def bind_for(self, tenant: Tenant | None) -> Engine | Connection:
        """The engine (or, in tests, the connection) for this tenant's records."""
        return self.overrides.get(self.key_for(tenant)) or self.engine_for(tenant)

    def session(self, tenant: Tenant | None, *, tenant_criteria: bool | None = None) -> Session:
        """A session for this tenant's database; transactions must be opened explicitly."""
        session = Session(
            bind=self.bind_for(tenant),
            autobegin=False,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        session.info["tenant"] = tenant  # whose policies (e.g. retention) apply to what it writes
        session.info["tenant_criteria"] = (
            self.settings.orm_tenant_criteria if tenant_criteria is None else tenant_criteria
        )
        return session

    def release_departed(self, tenants: Iterable[Tenant]) -> None:
        """Dispose of the engines of dedicated databases no active force (`tenants`) is routed to any more.

        A force offboarded or moved to the pool leaves no idle connection behind to hold up `DROP DATABASE`; a
        request still using one finishes undisturbed (its connection closes when the garbage collector takes the old
        pool). The pool and the other forces' engines are untouched.
        """
        routed = {t.slug for t in tenants if t.dedicated}
        with self._lock:
            departed = [self._dedicated.pop(slug) for slug in list(self._dedicated) if slug not in routed]
        for engine in departed:
            engine.dispose()

    def dispose(self) -> None:
        for engine in (self.pool, *self._dedicated.values()):
            engine.dispose()


class Sessions:
    """A request's sessions, one per database it reaches: its own force's, and (opened on first use, in the same
    tenant context) the pooled database that is the agreements' home and each database holding a provider's
    records. Each database's own row-level security decides what the acting force sees there."""

    def __init__(self, databases: Databases, tenants: Callable[[], list[Tenant]], own: Tenant, session: Session):
        self.databases = databases
        self._tenants = tenants  # the registry, read on every lookup: a force moved is found in its new home
        self.own_key = databases.key_for(own)
        self._open: dict[str, Session] = {self.own_key: session}

    @property
    def own(self) -> Session:
        return self._open[self.own_key]

    def home(self) -> Session:
        """The pooled database, where agreements are kept and compiled first."""
        return self.of(None)

    def of(self, tenant: Tenant | None) -> Session:
        """A session on the database holding this tenant's records (None: the pool), opened once per request."""
        key = self.databases.key_for(tenant)
        if key not in self._open:
            self._open[key] = self.databases.session(tenant)
        return self._open[key]

    def elsewhere(self, tenant_ids: Iterable[uuid.UUID]) -> dict[str, list[uuid.UUID]]:
        """The forces among these whose records live in another database than the acting force's, by database
        name ('pool' or a dedicated force's slug), as the registry says now."""
        tenants = {t.id: t for t in self._tenants()}
        found: dict[str, list[uuid.UUID]] = {}
        for tenant_id in tenant_ids:
            key = self.databases.key_for(tenants.get(tenant_id))
            if tenant_id in tenants and key != self.own_key:
                found.setdefault(key, []).append(tenant_id)
        return found

    def named(self, key: str) -> Session:
        """A session on the database of this name ('pool' or a dedicated force's slug)."""
        tenant = None if key == "pool" else next(t for t in self._tenants() if t.slug == key)
        return self.of(tenant)

    def close(self) -> None:
        for session in self._open.values():
            session.close()


CONNECT_TIMEOUT_SECONDS = 5


def _engine(url: Any, pool_size: int) -> Engine:
    """An engine of `pool_size` connections (as many again in overflow).

    No pre-ping, which would cost a round trip on every checkout: a connection the server dropped fails its first
    statement (a 503), and SQLAlchemy, finding it broken when the transaction rolls back, empties the pool of the
    idle connections that went with it, so the next request connects afresh. Connecting gives up after a few seconds
    (unless the URL says otherwise), so an unreachable host answers 503 rather than holding the request.
    """
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False,
                         connect_args=connect_args, future=True,
                         hide_parameters=True)  # an error's message, logged, never quotes the values people typed


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
