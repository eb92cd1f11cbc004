"""`concord audit verify`: the force's tree recomputed from its audit rows, against every signed checkpoint (in
the database and the copies held outside it), each checkpoint consistent with the one before.

What each finding names:
- a changed row: its event id and tree index (its fields no longer hash to the leaf sealed for it);
- a deleted row: the event id and tree index whose row is gone, or the tree index whose leaf is gone;
- an inserted row: an event id written behind the seal horizon that is in no leaf, or a leaf the sealer never
  wrote (the first checkpoint whose root fails gives the range of tree indexes it lies in);
- a truncated tail: a checkpoint held outside the database whose tree is longer than the database's (the tree
  indexes it covers that are gone), or one missing from the database.
"""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audit import merkle, signing
from app.audit.models import AuditCheckpoint, AuditLeaf
from app.audit.seal import CHECKPOINT_PREFIX, acting, hold_seal_lock, leaf_bytes
from app.db import Databases, tenant_context
from app.tenancy.config import Tenant


@dataclass
class Report:
    tree_size: int = 0
    checkpoints: int = 0
    external: int = 0
    unsealed: int = 0  # rows written but not yet sealed (their transactions were running at the last seal)
    findings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def external_from_storage(store: Any) -> list[signing.Checkpoint]:
    """The checkpoint copies in the force's object storage."""
    return [signing.Checkpoint.from_json(json.loads(store.get(item.key))) for item in store.objects()
            if item.key.startswith(CHECKPOINT_PREFIX)]


def external_from_directory(directory: Path) -> list[signing.Checkpoint]:
    """Checkpoint copies saved in a directory (e.g. downloaded from the API or object storage), *.json."""
    return [signing.Checkpoint.from_json(json.loads(path.read_text())) for path in sorted(directory.glob("*.json"))]


_EVENTS = text(
    "SELECT tenant_id, id, occurred_at, user_id, action, record_type, record_id, request_id, purpose, details, "
    "xid::text AS xid FROM audit_event WHERE tenant_id = :tenant")


def verify(databases: Databases, tenant: Tenant, var_dir: Path,
           external: Iterable[signing.Checkpoint] = ()) -> Report:
    """Check the force's sealed trail; every problem found is a finding naming the rows or range."""
    session = databases.session(tenant)
    try:
        with tenant_context(acting(tenant)), session.begin():
            # Holding the seal lock, no seal commits between the reads below (each sees what the last seal left).
            hold_seal_lock(session, tenant)
            return _verify(session, tenant, var_dir, list(external))
    finally:
        session.close()


def _verify(session: Session, tenant: Tenant, var_dir: Path, external: list[signing.Checkpoint]) -> Report:
    report = Report()
    found = report.findings
    keys = signing.verifying_keys(tenant=tenant, var_dir=var_dir)
    stored = [signing.Checkpoint(str(c.tenant_id), c.tree_size, bytes(c.root_hash), c.sealed_at, c.key_id,
                                 bytes(c.signature))
              for c in session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.tenant_id == tenant.id)
                                       .order_by(AuditCheckpoint.tree_size))]
    leaves = session.execute(select(AuditLeaf.tree_index, AuditLeaf.event_id, AuditLeaf.leaf_hash)
                             .where(AuditLeaf.tenant_id == tenant.id).order_by(AuditLeaf.tree_index)).all()
    events = {row.id: row for row in session.execute(_EVENTS, {"tenant": tenant.id})}
    horizon = session.scalar(text("SELECT horizon::text FROM audit_seal_state WHERE tenant_id = :tenant"),
                             {"tenant": tenant.id})

    # The leaves, recomputed from the rows.
    size = leaves[-1].tree_index + 1 if leaves else 0
    by_index = {leaf.tree_index: leaf for leaf in leaves}
    recomputed: list[bytes] = []  # from the rows
    sealed: list[bytes] = []  # as the sealer wrote them
    sealed_ids = set()
    for index in range(size):
        leaf = by_index.get(index)
        if leaf is None:
            found.append(f"deleted: tree index {index} has no leaf (the sealed row and its leaf were removed)")
            recomputed.append(b"\x00" * 32)
            sealed.append(b"\x00" * 32)
            continue
        sealed_ids.add(leaf.event_id)
        sealed.append(bytes(leaf.leaf_hash))
        event = events.get(leaf.event_id)
        if event is None:
            found.append(f"deleted: event {leaf.event_id} (tree index {index}) is gone from the trail")
            recomputed.append(bytes(leaf.leaf_hash))
            continue
        digest = merkle.leaf_hash(leaf_bytes(event))
        if digest != bytes(leaf.leaf_hash):
            found.append(f"changed: event {leaf.event_id} (tree index {index}) no longer matches the leaf sealed "
                         "for it (a field was altered)")
        recomputed.append(digest)
    report.tree_size = size
    for event_id, event in sorted(events.items(), key=lambda item: (item[1].occurred_at, str(item[0]))):
        if event_id in sealed_ids:
            continue
        if horizon is not None and int(event.xid) < int(horizon):
            found.append(f"inserted: event {event_id} (occurred {signing.timestamp(event.occurred_at)}) is in no "
                         "leaf though its transaction ended before the last seal")
        else:
            report.unsealed += 1

    tree = merkle.Tree(recomputed)
    report.checkpoints, report.external = len(stored), len(external)
    by_size = {c.tree_size: c for c in stored}
    for copy in sorted(external, key=lambda c: c.tree_size):
        ours = by_size.get(copy.tree_size)
        if not signing.verify_signature(copy, keys) or copy.tenant_id != str(tenant.id):
            found.append(f"checkpoint {copy.tree_size} held outside the database: signed by none of "
                         "this force's keys (current or retired)")
        elif copy.tree_size > size:
            found.append(f"truncated: the checkpoint of size {copy.tree_size} sealed "
                         f"{signing.timestamp(copy.sealed_at)} (held outside the database) covers tree indexes "
                         f"{size}..{copy.tree_size - 1}, gone from the database")
        elif ours is None:
            found.append(f"deleted: the checkpoint of size {copy.tree_size} sealed {signing.timestamp(copy.sealed_at)} "
                         "is held outside the database but gone from it")
            by_size[copy.tree_size] = copy
        elif ours != copy:
            found.append(f"changed: the checkpoint of size {copy.tree_size} differs from its copy outside the database")
    checked = []
    for checkpoint in sorted(by_size.values(), key=lambda c: c.tree_size):
        if not signing.verify_signature(checkpoint, keys) or checkpoint.tenant_id != str(tenant.id):
            found.append(f"checkpoint {checkpoint.tree_size}: its signature verifies with none of this "
                         "force's keys (current or retired)")
        elif checkpoint.tree_size <= size:
            checked.append(checkpoint)
        elif checkpoint.tree_size in {c.tree_size for c in stored}:
            found.append(f"truncated: the checkpoint of size {checkpoint.tree_size} covers tree indexes "
                         f"{size}..{checkpoint.tree_size - 1}, gone from the database")
    good = 0
    for checkpoint in checked:
        if tree.root(checkpoint.tree_size) == checkpoint.root_hash:
            good = checkpoint.tree_size
        else:
            found.append(f"checkpoint {checkpoint.tree_size} (sealed {signing.timestamp(checkpoint.sealed_at)}): "
                         "the rows no longer give its root; the change lies in tree indexes "
                         f"{good}..{checkpoint.tree_size - 1}")
    # Each checkpoint an extension of the one before, by the leaves as sealed (the rows' own check is above).
    as_sealed = merkle.Tree(sealed)
    for old, new in itertools.pairwise(checked):
        proof = as_sealed.consistency_proof(old.tree_size, new.tree_size)
        if not merkle.verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof):
            found.append(f"checkpoints {old.tree_size} and {new.tree_size}: the later is not an extension of the "
                         "earlier by the leaves as sealed (consistency proof fails)")
    signed = stored[-1].tree_size if stored else 0
    if size > signed:  # the sealer writes leaves and their checkpoint in one transaction
        found.append(f"inserted: tree indexes {signed}..{size - 1} are in no signed checkpoint")
    return report
