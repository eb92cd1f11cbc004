"""The sealer: committed rows sealed once each into the force's tree, a signed checkpoint per seal, copied out."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization

from app.audit import signing
from app.audit.seal import checkpoint_key

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
    assert signing.verify_signature(signing.Checkpoint.from_json(copy), public)
    report = force.verify()
    assert report.ok, report.findings
    assert (report.tree_size, report.checkpoints, report.external) == (5, 2, 2)
