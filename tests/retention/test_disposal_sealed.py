"""A person audited and sealed, then disposed of through review, a disposal list, a second person's approval and
execution, all committed in a force of the test's own: `concord audit verify` still passes, the tree grew by the
disposal's events, the erasure has an inclusion proof, and no audit row names the person."""
from __future__ import annotations

import base64
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from app.audit import merkle
from app.cli import cli
from app.documents.storage import for_tenant
from app.tenancy import config as tenancy_config
from app.tenancy import service as tenancy_service
from tests.audit.conftest import AUDIT_TABLES, Force
from tests.conftest import superuser_url, tenant_tables, unique_name
from tests.retention.conftest import approve, dispose_decision, propose

pytestmark = pytest.mark.committing

ROLES = {"investigator": "DT-Detective", "retention_reviewer": "DT-RetentionReviewer",
         "disposal_approver": "DT-DisposalApprover", "auditor": "DT-Auditor"}


@pytest.fixture
def registered_force(services, settings, tmp_path) -> Iterator[tuple[Force, Path]]:
    """A pooled force of the test's own, registered beside the others (its users get tokens) and in a tenants
    directory of its own (for the CLI); every row it committed, its keys and its object storage removed afterwards."""
    slug = f"disposaltest{uuid.uuid4().hex[:8]}"
    tenants_dir = tmp_path / "tenants"
    tenants_dir.mkdir()
    role_map = "\n".join(f'"{idp}" = "{concord}"' for concord, idp in ROLES.items())
    (tenants_dir / f"{slug}.toml").write_text(
        f'slug = "{slug}"\nname = "Disposal test force"\nforce_code = "97"\ndeployment = "pooled"\n'
        f'time_zone = "Europe/London"\nmodules = ["people", "documents"]\n\n[identity]\n'
        f'issuer = "http://127.0.0.1:5000/dev-idp/{slug}"\naudience = "concord"\nroles_claim = "roles"\n'
        f'user_claim = "sub"\n\n[identity.role_map]\n{role_map}\n')
    tenant = tenancy_config.load(tenants_dir).tenants[slug]
    platform = tenancy_config.load(settings.tenants_dir)
    owner_url = settings.owner_url(settings.runtime_url())
    engine = create_engine(owner_url)
    try:
        with engine.begin() as conn:
            tenancy_service.apply(conn, tenancy_config.PlatformConfig(
                {**platform.tenants, slug: tenant}, platform.collaborations))
    finally:
        engine.dispose()
    services.registry.invalidate()
    yield Force(tenant, services, for_tenant(tenant, settings.var_dir), settings.var_dir, owner_url), tenants_dir
    with psycopg.connect(superuser_url(), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")  # its rows in any order, foreign keys aside
        for table in tenant_tables(conn):
            conn.execute(f"DELETE FROM {table} WHERE tenant_id = %s", (tenant.id,))
        conn.execute("DELETE FROM tenant WHERE id = %s", (tenant.id,))
    services.registry.invalidate()
    for path in (settings.var_dir / "documents" / slug, settings.var_dir / "keys" / slug):
        shutil.rmtree(path, ignore_errors=True)
    (settings.var_dir / "dev-idp" / f"{slug}.jwk.json").unlink(missing_ok=True)


def _events(force: Force) -> dict[str, str]:
    """The force's audit events, sealed or not: action by id."""
    return {str(r.id): r.action for r in force.owner("SELECT id, action FROM audit_event WHERE tenant_id = :t")}


def test_after_a_person_is_disposed_of_the_forces_sealed_trail_still_verifies(registered_force, as_user, settings):
    force, tenants_dir = registered_force
    slug = force.tenant.slug
    officer = as_user(slug, "investigator", user="pc-1")
    reviewer = as_user(slug, "retention_reviewer", user="rr-1")
    approver = as_user(slug, "disposal_approver", user="da-1")
    person = officer.create_person(surname=unique_name("Sealed"))
    assert officer.get(f"/api/v1/people/{person['id']}").status_code == 200
    first = force.seal()
    before = _events(force)
    assert first.checkpoint is not None and first.checkpoint.tree_size == len(before) >= 2

    dispose_decision(reviewer, "person", person["id"])
    proposed = propose(reviewer, ("person", person["id"]))
    assert proposed.status_code == 201, proposed.get_json()
    approve(approver, proposed.get_json())
    executed = reviewer.post(f"/api/v1/retention/disposal-lists/{proposed.get_json()['id']}/execution")
    assert executed.status_code == 200, executed.get_json()
    assert [o["disposed"] for o in executed.get_json()["outcomes"]] == [True]
    assert officer.get(f"/api/v1/people/{person['id']}").status_code == 404
    second = force.seal()

    env = {"DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir), "CONCORD_ENV": "test",
           "CONCORD_TENANTS_DIR": str(tenants_dir)}
    verified = CliRunner().invoke(cli, ["audit", "verify", "--tenant", slug], env=env)
    assert verified.exit_code == 0, verified.output
    assert verified.output.strip() == (f"{slug}: {second.checkpoint.tree_size} sealed row(s), 2 checkpoint(s) in "
                                       "the database, 2 outside it, 0 row(s) awaiting their seal: verified")
    disposal = {i: action for i, action in _events(force).items() if i not in before}
    assert second.checkpoint.tree_size == first.checkpoint.tree_size + len(disposal) == len(before) + second.rows
    erasures = [i for i, action in disposal.items() if action == "erasure"]
    assert len(erasures) == 1

    auditor = as_user(slug, "auditor", user="auditor-1")
    response = auditor.get(f"/api/v1/audit/events/{erasures[0]}/proof")
    assert response.status_code == 200, response.get_json()
    proof = response.get_json()
    assert (proof["event"]["id"], proof["event"]["record_id"]) == (erasures[0], person["id"])
    assert proof["checkpoint"]["tree_size"] == second.checkpoint.tree_size
    assert merkle.verify_inclusion(proof["tree_index"], proof["checkpoint"]["tree_size"],
                                   merkle.leaf_hash(proof["leaf"].encode()),
                                   [base64.b64decode(p) for p in proof["proof"]],
                                   base64.b64decode(proof["checkpoint"]["root_hash"]))
    for table in AUDIT_TABLES:
        assert force.owner(f"SELECT count(*) FROM {table} t WHERE tenant_id = :t AND strpos(t::text, :s) > 0",
                           s=person["surname"])[0][0] == 0, table
