"""The sealer: committed rows sealed once each into the force's tree, a signed checkpoint per seal, copied out."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from prometheus_client import REGISTRY

from app.audit import merkle, signing
from app.audit import service as audit
from app.audit.seal import Sealer, checkpoint_key
from app.auth.principal import Principal
from app.db import TenantContext, tenant_context

pytestmark = pytest.mark.committing


def test_a_seal_takes_the_committed_rows_and_signs_a_checkpoint_copied_to_storage(force):
    force.write(3)
    first = force.seal()
    assert first.rows == 3 and first.checkpoint is not None and first.checkpoint.tree_size == 3
    assert force.seal().rows == 0  # nothing new: no second checkpoint
    force.write(2)
    second = force.seal()
    assert second.checkpoint is not None and second.checkpoint.tree_size == 5
    copy = json.loads(force.store.get(checkpoint_key(5)))
    assert copy == second.checkpoint.as_json()
    pem = (force.var_dir / "keys" / force.tenant.slug / "audit-ed25519.pem").read_bytes()
    public = serialization.load_pem_private_key(pem, None).public_key()
    assert signing.verify_signature(signing.Checkpoint.from_json(copy), {signing.key_id(public): public})
    report = force.verify()
    assert report.ok, report.findings
    assert (report.tree_size, report.checkpoints, report.external) == (5, 2, 2)


def test_after_a_key_is_rotated_the_old_checkpoints_verify_once_the_forces_file_names_the_retired_key(force):
    force.write(2)
    old = force.seal().checkpoint
    retired = signing.public_pem(signing.public_key(tenant=force.tenant, var_dir=force.var_dir)).decode()
    (force.var_dir / "keys" / force.tenant.slug / "audit-ed25519.pem").unlink()  # the store is given a new key
    force.write(1)
    new = force.seal().checkpoint
    assert new is not None and new.tree_size == 3 and old is not None and new.key_id != old.key_id
    assert force.verify().findings == [  # a key the force's file does not name is not believed
        "checkpoint 2 held outside the database: signed by none of this force's keys (current or retired)",
        "checkpoint 2: its signature verifies with none of this force's keys (current or retired)"]

    line = retired.splitlines()[1]  # the PEM's one base64 line, as the force's file holds it
    force.tenant = replace(force.tenant, settings={**force.tenant.settings,
                                                   "audit": {"signing_key": "file", "retired_public_keys": [line]}})
    report = force.verify()
    assert report.ok, report.findings
    assert (report.tree_size, report.checkpoints, report.external) == (3, 2, 2)


def _lag_shown(force):
    """The sealer lag /metrics shows for the force."""
    return REGISTRY.get_sample_value("concord_audit_sealer_lag_seconds", {"force": force.tenant.slug})


def _open_write(force):
    """An audit row written in a transaction left open; the function that commits it."""
    session = force.services.databases.session(force.tenant)
    principal = Principal(force.tenant, "pc-late", frozenset({"officer"}), frozenset())
    with tenant_context(TenantContext(force.tenant.id, "pc-late")):
        transaction = session.begin()
        audit.record(session, principal, "consultation", "person", "late")

    def commit():
        transaction.commit()
        session.close()

    return commit


def test_a_row_whose_transaction_commits_after_later_rows_were_sealed_is_sealed_by_the_next_seal(force):
    commit_late = _open_write(force)  # begun first: the oldest transaction running
    force.write(2)  # begun and committed after it
    held_back = force.seal()
    assert held_back.rows == 0  # the later rows too wait while an older transaction may still commit behind them
    assert held_back.lag_seconds > 0 and _lag_shown(force) == held_back.lag_seconds  # what the alarm watches
    commit_late()
    caught_up = force.seal()
    assert caught_up.rows == 3 and caught_up.lag_seconds == 0 and _lag_shown(force) == 0
    assert sorted(e.record_id == "late" for e in force.events()) == [False, False, True]
    assert force.verify().ok


def test_many_audited_writes_in_parallel_while_the_sealer_runs_are_each_sealed_exactly_once(force):
    sealer = Sealer(force.services.databases, lambda: [force.tenant], force.var_dir,
                    lambda tenant, var_dir: force.store, interval=0.05)
    written: list[str] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        ids = force.write(1 + i % 3)
        with lock:
            written.extend(ids)

    sealer.start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(work, range(200)))
    finally:
        sealer.stop()
    force.seal()  # whatever the last round left
    events = force.events()
    assert sorted(e.record_id for e in events) == sorted(written)  # each row in the tree once
    assert [e.tree_index for e in events] == list(range(len(written)))
    report = force.verify()
    assert report.ok and report.checkpoints > 1 and report.unsealed == 0, report.findings


def test_the_tree_of_the_rfc_shape_proves_inclusion_and_consistency():
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(13)]
    tree = merkle.Tree(leaves)
    for size in range(1, 14):
        for index in range(size):
            assert merkle.verify_inclusion(index, size, leaves[index], tree.inclusion_proof(index, size),
                                           tree.root(size))
        for old in range(1, size + 1):
            assert merkle.verify_consistency(old, size, tree.root(old), tree.root(size),
                                             tree.consistency_proof(old, size))
    assert not merkle.verify_inclusion(3, 13, leaves[4], tree.inclusion_proof(3), tree.root())
    assert tree.root(2) == merkle.node_hash(leaves[0], leaves[1])
