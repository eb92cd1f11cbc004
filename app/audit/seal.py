"""The sealer: appends each force's committed audit rows to its Merkle tree and signs a checkpoint.

The request path only inserts audit rows (each carries its transaction's id, `xid`, by a column default): it
takes no lock and waits for nothing. The sealer, one transaction per force, takes the force's seal lock (only
sealers take it), reads xmin of its snapshot, the oldest transaction still running, and seals the rows whose
xid is in [horizon, xmin) and not yet sealed. Every transaction below xmin has finished, so each of its rows is
visible now or never will be: a transaction that commits late has an xid at or above xmin and is sealed by a
later round, never skipped and never sealed twice (the next round starts at the new horizon, and
audit_leaf's unique (tenant_id, event_id) refuses a second leaf anyway).

The leaf of an event is its canonical serialisation (`leaf_bytes`): the UTF-8 of a JSON object of every field
of the row but `xid` (a number of one database's transactions, meaningless once a force moves), keys sorted,
no whitespace, non-ASCII escaped, times as UTC with microseconds and a Z, and "v": 1 for this serialisation.

The sealer runs as the runtime role with the force's context set: it can read the force's trail and append
leaves and checkpoints, and can neither alter them nor see another force's. It needs no more: a sealer that is
compromised can withhold seals, never rewrite what was sealed.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from app import metrics
from app.audit import merkle, signing
from app.audit.models import AuditCheckpoint, AuditLeaf
from app.db import Databases, TenantContext, lock_keys, table, tenant_context
from app.tenancy.config import Tenant

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "audit/checkpoints/"
EVENT_COLUMNS = ("tenant_id", "id", "occurred_at", "user_id", "action", "record_type", "record_id", "request_id",
                 "purpose", "details")


def acting(tenant: Tenant) -> TenantContext:
    """The context the sealer and verifier act in: the force, as the audit service."""
    return TenantContext(tenant.id, "audit-sealer", "sealing and verifying the audit trail")


def leaf_bytes(event: Any) -> bytes:
    """The canonical serialisation of an audit row (see the module's docstring)."""
    fields: dict[str, Any] = {"v": 1}
    for name in EVENT_COLUMNS:
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = signing.timestamp(value)
        elif name in ("tenant_id", "id"):
            value = str(value)
        fields[name] = value
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def checkpoint_key(tree_size: int) -> str:
    """Where a checkpoint's copy lives in the force's object storage (zero-padded: listed in order)."""
    return f"{CHECKPOINT_PREFIX}{tree_size:020d}.json"


class _Frontier:
    """The roots of the complete subtrees a tree of `size` leaves is made of, left to right: enough to append
    leaves and compute the new root without reading the old leaves again."""

    def __init__(self, leaves: Sequence[bytes] = ()):
        self.size = 0
        self.nodes: list[tuple[int, bytes]] = []  # (height, hash)
        for leaf in leaves:
            self.append(leaf)

    def append(self, leaf: bytes) -> None:
        self.size += 1
        height, node = 0, leaf
        while self.nodes and self.nodes[-1][0] == height:
            node = merkle.node_hash(self.nodes.pop()[1], node)
            height += 1
        self.nodes.append((height, node))

    def root(self) -> bytes:
        if not self.nodes:
            return merkle.EMPTY_ROOT
        result = self.nodes[-1][1]
        for _, node in reversed(self.nodes[:-1]):
            result = merkle.node_hash(node, result)
        return result


# Per process: each force's frontier as of its last checkpoint sealed here, checked against the database's latest
# checkpoint before use (another process may have sealed since), rebuilt from the leaves when it does not match.
_frontiers: dict[Any, tuple[int, bytes, _Frontier]] = {}
_frontiers_lock = threading.Lock()


class TreeTampered(RuntimeError):
    """The force's leaves no longer give its latest signed checkpoint: the sealer signs nothing more over them."""


def _frontier(session: Session, tenant: Tenant, var_dir: Path) -> _Frontier:
    latest = session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.tenant_id == tenant.id)
                            .order_by(AuditCheckpoint.tree_size.desc()).limit(1))
    size = session.scalar(select(AuditLeaf.tree_index).where(AuditLeaf.tenant_id == tenant.id)
                          .order_by(AuditLeaf.tree_index.desc()).limit(1))
    size = 0 if size is None else size + 1
    with _frontiers_lock:
        cached = _frontiers.get(tenant.id)
    if cached and latest and cached[0] == latest.tree_size == size and cached[1] == latest.root_hash:
        return cached[2]
    leaves = session.scalars(select(AuditLeaf.leaf_hash).where(AuditLeaf.tenant_id == tenant.id)
                             .order_by(AuditLeaf.tree_index)).all()
    frontier = _Frontier([bytes(leaf) for leaf in leaves])
    if latest is not None:
        checkpoint = signing.Checkpoint(str(latest.tenant_id), latest.tree_size, bytes(latest.root_hash),
                                        latest.sealed_at, latest.key_id, bytes(latest.signature))
        if (frontier.size, frontier.root()) != (latest.tree_size, checkpoint.root_hash) or not \
                signing.verify_signature(checkpoint, signing.verifying_keys(tenant=tenant, var_dir=var_dir)):
            raise TreeTampered(f"{tenant.slug}: the sealed leaves no longer give the latest signed checkpoint "
                               f"(size {latest.tree_size}); nothing more is sealed: run `concord audit verify`")
    return frontier


# The rows whose transactions ended in [since, upto): none of them can be sealed already (each round starts where
# the last ended), and audit_leaf's unique (tenant_id, event_id) would refuse one that were. Without `since` (a
# first seal, or a force come from another database) every row below `upto` is a candidate, and the sealed ones
# are left out by their ids (read once: no plan on stale statistics can turn this into rows x leaves).
_UNSEALED = text(
    """
    SELECT tenant_id, id, occurred_at, user_id, action, record_type, record_id, request_id, purpose, details
    FROM audit_event
    WHERE tenant_id = :tenant AND xid < CAST(:upto AS xid8) AND xid >= CAST(:since AS xid8)
    ORDER BY xid, occurred_at, id
    """
)


# The rows at or above the new horizon are those whose transactions were still open: the next round seals them.
_LAG = text("SELECT coalesce(extract(epoch FROM clock_timestamp() - min(occurred_at)), 0) FROM audit_event "
            "WHERE tenant_id = :tenant AND xid >= CAST(:horizon AS xid8)")


def _unsealed(session: Session, tenant: Tenant, since: str | None, upto: str) -> list[Any]:
    rows = session.execute(_UNSEALED, {"tenant": tenant.id, "upto": upto, "since": since or "0"}).all()
    if since is not None:
        return list(rows)
    sealed = set(session.scalars(select(AuditLeaf.event_id).where(AuditLeaf.tenant_id == tenant.id)))
    return [row for row in rows if row.id not in sealed]


@dataclass(frozen=True)
class Sealed:
    rows: int
    checkpoint: signing.Checkpoint | None  # None: nothing new to seal
    lag_seconds: float = 0.0  # the age of the oldest audit event this seal left unsealed (0: none left)


# The force's object storage, (tenant, var_dir) -> a Storage (app.documents.storage.for_tenant, which the audit
# layer may not import: the application passes it).
StoreFor = Callable[[Tenant, Path], Any]


def seal(databases: Databases, tenant: Tenant, var_dir: Path, store_for: StoreFor) -> Sealed:
    """Seal the force's audit rows whose transactions have all finished, in one transaction, and sign a
    checkpoint; its copy goes to the force's object storage once committed."""
    session = databases.session(tenant)
    try:
        with tenant_context(acting(tenant)), session.begin():
            sealed = _seal(session, tenant, var_dir)
    finally:
        session.close()
    metrics.AUDIT_SEALER_LAG.labels(tenant.slug).set(sealed.lag_seconds)
    if sealed.checkpoint is not None:
        copy_checkpoint(tenant, sealed.checkpoint, store_for(tenant, var_dir))
    return sealed


def hold_seal_lock(session: Session, tenant: Tenant) -> None:
    """Hold the force's seal lock to the end of the transaction: one sealer (or verifier) of a force at a time, in
    every process. Only they take it; the request path never waits for it."""
    lock_keys(session, "audit-seal", tenant.id, {"seal"})


def _seal(session: Session, tenant: Tenant, var_dir: Path) -> Sealed:
    hold_seal_lock(session, tenant)
    snapshot = session.execute(text(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin, pg_snapshot_xmax(pg_current_snapshot())::text "
        "AS xmax, (SELECT horizon::text FROM audit_seal_state WHERE tenant_id = :tenant) AS horizon"),
        {"tenant": tenant.id}).one()
    since = snapshot.horizon
    if since is not None and int(since) > int(snapshot.xmax):
        # A horizon from the future is another database's (the force has moved): find the unsealed rows afresh.
        since = None
    rows = _unsealed(session, tenant, since, snapshot.xmin)
    session.execute(text(
        "INSERT INTO audit_seal_state (tenant_id, horizon) VALUES (:tenant, CAST(:horizon AS xid8)) "
        "ON CONFLICT (tenant_id) DO UPDATE SET horizon = EXCLUDED.horizon"),
        {"tenant": tenant.id, "horizon": snapshot.xmin})
    lag = float(session.scalar(_LAG, {"tenant": tenant.id, "horizon": snapshot.xmin}))
    if not rows:
        return Sealed(0, None, lag)
    frontier = _frontier(session, tenant, var_dir)
    start = frontier.size
    leaves = []
    for offset, row in enumerate(rows):
        digest = merkle.leaf_hash(leaf_bytes(row))
        frontier.append(digest)
        leaves.append({"tenant_id": tenant.id, "tree_index": start + offset, "event_id": row.id, "leaf_hash": digest})
    session.execute(insert(table(AuditLeaf)), leaves)
    sealed_at = session.scalar(text("SELECT clock_timestamp()"))
    checkpoint = signing.sign(tenant=tenant, var_dir=var_dir, tree_size=frontier.size, root_hash=frontier.root(),
                              sealed_at=sealed_at)
    session.execute(insert(table(AuditCheckpoint)).values(
        tenant_id=tenant.id, tree_size=checkpoint.tree_size, root_hash=checkpoint.root_hash,
        sealed_at=checkpoint.sealed_at, key_id=checkpoint.key_id, signature=checkpoint.signature))
    with _frontiers_lock:
        _frontiers[tenant.id] = (frontier.size, frontier.root(), frontier)
    return Sealed(len(rows), checkpoint, lag)


def copy_checkpoint(tenant: Tenant, checkpoint: signing.Checkpoint, store: Any) -> None:
    """Put the checkpoint's copy in the force's object storage (outside the database, so that removing the last
    rows with their checkpoint is seen); a failure is logged, and leaves the checkpoint in the database."""
    body = json.dumps(checkpoint.as_json(), sort_keys=True).encode()
    try:
        store.put(checkpoint_key(checkpoint.tree_size), body, "application/json")
    except Exception:  # noqa: BLE001 - storage down: the seal stands, the copy is missing (verify says so)
        log.exception("audit: could not copy %s's checkpoint %s to object storage", tenant.slug, checkpoint.tree_size)


def seal_all(databases: Databases, tenants: Sequence[Tenant], var_dir: Path, store_for: StoreFor) -> dict[str, int]:
    """Seal every force given, one after another; the number of rows each sealed (a force whose database is
    down is logged and skipped)."""
    sealed: dict[str, int] = {}
    for tenant in tenants:
        try:
            sealed[tenant.slug] = seal(databases, tenant, var_dir, store_for).rows
        except Exception:  # noqa: BLE001 - one force's outage must not stop the others' seals
            log.exception("audit: sealing %s failed", tenant.slug)
    return sealed


class Sealer(threading.Thread):
    """Seals every force every `interval` seconds until stopped (a thread of `concord serve`'s supervisor)."""

    def __init__(self, databases: Databases, tenants: Callable[[], Sequence[Tenant]], var_dir: Path,
                 store_for: StoreFor, interval: float = 5.0):
        super().__init__(name="audit-sealer", daemon=True)
        self.databases, self.tenants, self.var_dir, self.interval = databases, tenants, var_dir, interval
        self.store_for = store_for
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                seal_all(self.databases, self.tenants(), self.var_dir, self.store_for)
            except Exception:  # noqa: BLE001 - e.g. the registry unreadable: try again next round
                log.exception("audit: the sealer's round failed")

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=self.interval + 30)
