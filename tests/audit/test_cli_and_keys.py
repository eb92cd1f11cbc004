"""`concord audit seal` and `verify` as an operator runs them, and the force's signing key in Secrets Manager."""
from __future__ import annotations

import shutil
import time
import uuid
from datetime import datetime, timezone

import boto3
import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from app.audit import signing
from app.cli import cli
from app.tenancy.config import Identity, Tenant
from tests.conftest import POOL_DB, moto_server, superuser_url, unique


def _env(settings):
    return {"DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir), "CONCORD_ENV": "test"}


@pytest.fixture
def west_events(services, settings, as_user):
    """Westshire audit rows of a user of the test's own, committed; the force's trail, tree and copies removed
    afterwards."""
    user = unique("audit-cli-")
    person = as_user("westshire", "investigator", user=user).create_person()
    tenant = services.registry.by_slug("westshire")
    yield tenant, person
    with psycopg.connect(superuser_url(), autocommit=True) as conn:
        for table in ("audit_leaf", "audit_checkpoint", "audit_seal_state"):
            conn.execute(f"DELETE FROM {table} WHERE tenant_id = %s", (tenant.id,))
        conn.execute("DELETE FROM audit_event WHERE user_id = %s", (user,))
        conn.execute("DELETE FROM person WHERE id = %s", (person["id"],))
    shutil.rmtree(settings.var_dir / "documents" / "westshire" / "audit", ignore_errors=True)


@pytest.mark.committing
def test_seal_then_verify_passes_and_a_changed_row_fails_naming_it(settings, west_events):
    tenant, person = west_events
    runner = CliRunner()
    sealed = runner.invoke(cli, ["audit", "seal", "--tenant", "westshire"], env=_env(settings))
    assert sealed.exit_code == 0 and "westshire: " in sealed.output and "row(s) sealed, tree size" in sealed.output
    clean = runner.invoke(cli, ["audit", "verify", "--tenant", "westshire"], env=_env(settings))
    assert clean.exit_code == 0 and clean.output.strip().endswith("verified"), clean.output

    engine = create_engine(settings.owner_url(settings.runtime_url()))
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_event NO FORCE ROW LEVEL SECURITY"))
            victim = conn.execute(text(
                "UPDATE audit_event SET purpose = 'rewritten' WHERE tenant_id = :t AND record_id = :r "
                "RETURNING id"), {"t": tenant.id, "r": person["id"]}).scalars().first()
            conn.execute(text("ALTER TABLE audit_event FORCE ROW LEVEL SECURITY"))
    finally:
        engine.dispose()
    tampered = runner.invoke(cli, ["audit", "verify", "--tenant", "westshire"], env=_env(settings))
    assert tampered.exit_code == 1
    assert f"changed: event {victim} (tree index" in tampered.output


def test_verify_refuses_a_checkpoint_source_that_is_neither_s3_nor_a_directory(settings):
    result = CliRunner().invoke(cli, ["audit", "verify", "--tenant", "westshire", "--checkpoints-from", "/nowhere"],
                                env=_env(settings))
    assert result.exit_code == 2 and "--checkpoints-from" in result.output


@pytest.fixture
def secrets_manager(monkeypatch):
    """moto's Secrets Manager over HTTP: its endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with moto_server() as endpoint:
        yield endpoint


def _force_with_key_in(endpoint: str, **audit: str) -> Tenant:
    identity = Identity("http://127.0.0.1/x", "concord", "roles", "sub", {})
    return Tenant(uuid.uuid4(), "smforce", "SM force", "98", "pooled", "Europe/London", (), identity,
                  {"audit": {"signing_key": "secretsmanager", "endpoint_url": endpoint, "region": "eu-west-2",
                             **audit}})


def test_a_forces_key_in_secrets_manager_is_created_once_and_signs_its_checkpoints(tmp_path, secrets_manager):
    tenant = _force_with_key_in(secrets_manager)
    first = signing.ensure_signing_key(tenant=tenant, var_dir=tmp_path)
    assert signing.ensure_signing_key(tenant=tenant, var_dir=tmp_path) == first  # created once
    secret = boto3.client("secretsmanager", endpoint_url=secrets_manager, region_name="eu-west-2").get_secret_value(
        SecretId="concord/smforce/audit-ed25519")
    assert "PRIVATE KEY" in secret["SecretString"]
    assert not (tmp_path / "keys").exists()  # nothing on disk
    checkpoint = signing.sign(tenant=tenant, var_dir=tmp_path, tree_size=1, root_hash=b"\x01" * 32,
                              sealed_at=datetime(2026, 12, 1, 10, tzinfo=timezone.utc))
    assert signing.verify_signature(checkpoint, signing.verifying_keys(tenant=tenant, var_dir=tmp_path))


def test_a_secret_infra_made_without_a_value_gets_the_first_key_and_keeps_it(tmp_path, secrets_manager):
    client = boto3.client("secretsmanager", endpoint_url=secrets_manager, region_name="eu-west-2")
    client.create_secret(Name="concord-prod/smforce/audit-ed25519")  # as infra/modules/force makes it: no value
    tenant = _force_with_key_in(secrets_manager, secret_id="concord-prod/smforce/audit-ed25519")
    first = signing.ensure_signing_key(tenant=tenant, var_dir=tmp_path)
    assert "PUBLIC KEY" in first.decode()
    # A second process that also found no key and made one of its own: its key is refused, the first is kept.
    store = signing.key_store(tenant, tmp_path)
    store.store(b"-----BEGIN PRIVATE KEY-----\nanother\n-----END PRIVATE KEY-----\n")
    assert signing.ensure_signing_key(tenant=tenant, var_dir=tmp_path) == first
    versions = client.list_secret_version_ids(SecretId="concord-prod/smforce/audit-ed25519")["Versions"]
    assert len(versions) == 1


@pytest.mark.committing
def test_the_serve_supervisors_sealer_seals_every_few_seconds(settings, west_events):
    from app.cli import _sealer

    tenant, person = west_events
    sealer = _sealer(settings)
    try:
        deadline = time.monotonic() + 30
        with psycopg.connect(superuser_url(), autocommit=True) as conn:
            while time.monotonic() < deadline:
                sealed = conn.execute(
                    "SELECT count(*) FROM audit_event e JOIN audit_leaf l ON l.tenant_id = e.tenant_id "
                    "AND l.event_id = e.id WHERE e.tenant_id = %s AND e.record_id = %s",
                    (tenant.id, person["id"])).fetchone()[0]
                if sealed:
                    break
                time.sleep(0.5)
    finally:
        sealer.stop()
        # It sealed every force: their trees and copies go too (the rows stay, for their own tests to remove).
        for database in (POOL_DB, f"{POOL_DB}_lakeshire"):
            with psycopg.connect(superuser_url(database), autocommit=True) as conn:
                conn.execute("TRUNCATE audit_leaf, audit_checkpoint, audit_seal_state")
        for copies in (settings.var_dir / "documents").glob("*/audit"):
            shutil.rmtree(copies)
    assert sealed == 1
