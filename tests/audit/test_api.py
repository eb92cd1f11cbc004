"""The auditor's checkpoints and inclusion proofs, checked by the standalone verifier; another force's event is
not found."""
from __future__ import annotations

import json
import subprocess
import sys

import psycopg
import pytest

from app.audit import seal as sealing
from app.audit import signing
from app.config import ROOT
from app.documents.storage import FilesystemStorage
from tests.conftest import superuser_url, unique

VERIFIER = ROOT / "scripts" / "verify_audit_proof.py"


@pytest.fixture
def north_sealed(services, settings, as_user, tmp_path):
    """A person created and read in northshire by a user of the test's own, committed and sealed."""
    user = unique("audit-api-")
    person = as_user("northshire", "investigator", user=user).create_person()
    tenant = services.registry.by_slug("northshire")
    store = FilesystemStorage(tmp_path / "store")
    sealing.seal(services.databases, tenant, settings.var_dir, lambda t, v: store)
    yield tenant, person
    with psycopg.connect(superuser_url(), autocommit=True) as conn:
        for table in ("audit_leaf", "audit_checkpoint", "audit_seal_state"):
            conn.execute(f"DELETE FROM {table} WHERE tenant_id = %s", (tenant.id,))
        conn.execute("DELETE FROM audit_event WHERE user_id = %s", (user,))
        conn.execute("DELETE FROM person WHERE id = %s", (person["id"],))


@pytest.mark.committing
def test_an_auditor_gets_a_proof_the_standalone_verifier_accepts_and_another_force_gets_404(
        north_sealed, as_user, settings, tmp_path):
    tenant, person = north_sealed
    auditor = as_user("northshire", "auditor", user="auditor-1")
    event = auditor.get(f"/api/v1/audit?record_id={person['id']}").get_json()["items"][0]
    checkpoints = auditor.get("/api/v1/audit/checkpoints").get_json()
    assert checkpoints["latest"] == checkpoints["items"][0] and checkpoints["latest"]["tenant_id"] == str(tenant.id)

    response = auditor.get(f"/api/v1/audit/events/{event['id']}/proof")
    assert response.status_code == 200, response.get_json()
    proof = response.get_json()
    assert proof["event"]["id"] == event["id"] and proof["checkpoint"] == checkpoints["latest"]
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "key.pem").write_bytes(signing.ensure_signing_key(tenant=tenant, var_dir=settings.var_dir))
    ok = subprocess.run([sys.executable, VERIFIER, tmp_path / "proof.json", tmp_path / "key.pem"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"OK: event {event['id']} is leaf {proof['tree_index']} of the tree")

    proof["leaf"] = proof["leaf"].replace('"user_id":"', '"user_id":"someone-else-than-', 1)
    (tmp_path / "forged.json").write_text(json.dumps(proof))
    forged = subprocess.run([sys.executable, VERIFIER, tmp_path / "forged.json", tmp_path / "key.pem"],
                            capture_output=True, text=True)
    assert forged.returncode == 1 and "the leaf does not hash to leaf_hash" in forged.stderr

    south = as_user("southshire", "auditor", user="auditor-2")
    assert south.get(f"/api/v1/audit/events/{event['id']}/proof").status_code == 404
    assert all(c["tenant_id"] != str(tenant.id) for c in south.get("/api/v1/audit/checkpoints").get_json()["items"])


def test_an_event_not_yet_sealed_has_no_proof_yet(north, as_user):
    person = north.create_person()  # in the test's transaction, never committed: never sealed
    auditor = as_user("northshire", "auditor", user="auditor-1")
    event = auditor.get(f"/api/v1/audit?record_id={person['id']}").get_json()["items"][0]
    response = auditor.get(f"/api/v1/audit/events/{event['id']}/proof")
    assert response.status_code == 404 and "not sealed yet" in response.get_json()["message"]


def test_only_an_auditor_reads_checkpoints(north):
    assert north.get("/api/v1/audit/checkpoints").status_code == 403
