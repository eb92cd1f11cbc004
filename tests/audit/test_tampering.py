"""The owner role rewriting the trail directly in SQL (RLS lifted for it, as anyone holding it can): each kind of
tampering is found by `verify`, which names the row or the range of tree indexes."""
from __future__ import annotations

import pytest

from app.audit.seal import TreeTampered
from app.audit.verify import external_from_directory, verify

pytestmark = pytest.mark.committing


@pytest.fixture
def sealed(force):
    """Three seals of 4, 3 and 3 rows: checkpoints of sizes 4, 7 and 10, verified clean."""
    for count in (4, 3, 3):
        force.write(count)
        force.seal()
    report = force.verify()
    assert report.ok and report.tree_size == 10, report.findings
    return force


def test_a_changed_field_is_named_by_its_event_and_tree_index(sealed):
    victim = sealed.events()[5]
    sealed.owner("UPDATE audit_event SET user_id = 'someone-else' WHERE tenant_id = :t AND id = :id", id=victim.id)
    report = sealed.verify()
    assert not report.ok
    assert f"changed: event {victim.id} (tree index 5)" in report.findings[0]
    assert any("checkpoint 7 " in f and "tree indexes 4..6" in f for f in report.findings), report.findings


def test_a_changed_leaf_hash_with_its_row_is_still_found_by_the_signed_roots(sealed):
    victim = sealed.events()[2]
    sealed.owner("UPDATE audit_event SET action = 'disclosure' WHERE tenant_id = :t AND id = :id",
                 "UPDATE audit_leaf SET leaf_hash = sha256(convert_to('forged', 'UTF8')) "
                 "WHERE tenant_id = :t AND tree_index = 2", id=victim.id)
    report = sealed.verify()
    assert any("checkpoint 4 " in f and "tree indexes 0..3" in f for f in report.findings), report.findings


def test_a_deleted_row_is_named(sealed):
    victim = sealed.events()[8]
    sealed.owner("DELETE FROM audit_event WHERE tenant_id = :t AND id = :id", id=victim.id)
    report = sealed.verify()
    assert report.findings == [f"deleted: event {victim.id} (tree index 8) is gone from the trail"]


def test_a_deleted_row_and_its_leaf_are_named_by_tree_index(sealed):
    victim = sealed.events()[1]
    sealed.owner("DELETE FROM audit_event WHERE tenant_id = :t AND id = :id",
                 "DELETE FROM audit_leaf WHERE tenant_id = :t AND tree_index = 1", id=victim.id)
    report = sealed.verify()
    assert report.findings[0].startswith("deleted: tree index 1 has no leaf")


def test_an_inserted_row_behind_the_seal_is_named(sealed):
    forged = sealed.owner(
        "INSERT INTO audit_event (tenant_id, id, occurred_at, user_id, action, record_type, record_id, xid) "
        "SELECT tenant_id, gen_random_uuid(), occurred_at, 'pc-seal', 'consultation', 'person', 'forged', xid "
        "FROM audit_event WHERE tenant_id = :t ORDER BY occurred_at LIMIT 1 RETURNING id")[0].id
    report = sealed.verify()
    assert len(report.findings) == 1 and report.findings[0].startswith(f"inserted: event {forged} ")
    assert sealed.seal().rows == 0  # nor does the sealer take it in later


def test_a_row_inserted_into_the_tree_is_found_in_the_range_of_its_checkpoint(sealed):
    # The forged row and a leaf for it at index 3, the leaves after it moved up one: the tree now has 11 leaves.
    sealed.owner(
        "UPDATE audit_leaf SET tree_index = tree_index + 100 WHERE tenant_id = :t AND tree_index >= 3",
        "UPDATE audit_leaf SET tree_index = tree_index - 99 WHERE tenant_id = :t AND tree_index >= 103",
        "INSERT INTO audit_event (tenant_id, id, user_id, action, record_type, record_id) "
        "VALUES (:t, '00000000-0000-4000-8000-000000000001', 'pc-seal', 'consultation', 'person', 'forged')",
        "INSERT INTO audit_leaf (tenant_id, tree_index, event_id, leaf_hash) "
        "VALUES (:t, 3, '00000000-0000-4000-8000-000000000001', sha256(''::bytea))")
    report = sealed.verify()
    assert any("checkpoint 4 " in f and "tree indexes 0..3" in f for f in report.findings), report.findings
    assert any(f.startswith("inserted: tree indexes 10..10") for f in report.findings), report.findings
    sealed.write(1)
    with pytest.raises(TreeTampered):  # nor will the sealer sign anything more over the forged tree
        sealed.seal()


def test_a_truncated_tail_is_found_against_the_checkpoint_copies_outside_the_database(sealed):
    tail = sealed.events()[7:]
    sealed.owner("DELETE FROM audit_event WHERE tenant_id = :t AND id IN "
                 "(SELECT event_id FROM audit_leaf WHERE tenant_id = :t AND tree_index >= 7)",
                 "DELETE FROM audit_leaf WHERE tenant_id = :t AND tree_index >= 7",
                 "DELETE FROM audit_checkpoint WHERE tenant_id = :t AND tree_size > 7")
    assert len(tail) == 3
    assert sealed.verify(external=False).ok  # the database alone is consistent with itself
    report = sealed.verify()
    assert len(report.findings) == 1 and report.findings[0].startswith("truncated: the checkpoint of size 10")
    assert "covers tree indexes 7..9, gone from the database" in report.findings[0]


def test_a_forged_checkpoint_is_refused_by_its_signature(sealed):
    sealed.owner("UPDATE audit_checkpoint SET root_hash = sha256(''::bytea) WHERE tenant_id = :t AND tree_size = 7")
    report = sealed.verify(external=False)
    assert report.findings == [
        "checkpoint 7: its signature verifies with none of this force's keys (current or retired)"]


def test_a_truncated_tail_is_found_against_copies_saved_in_a_directory(sealed, tmp_path):
    saved = tmp_path / "copies"
    saved.mkdir()
    for item in sealed.store.objects():
        (saved / item.key.rsplit("/", 1)[-1]).write_bytes(sealed.store.get(item.key))
    sealed.owner("DELETE FROM audit_event WHERE tenant_id = :t AND id IN "
                 "(SELECT event_id FROM audit_leaf WHERE tenant_id = :t AND tree_index >= 4)",
                 "DELETE FROM audit_leaf WHERE tenant_id = :t AND tree_index >= 4",
                 "DELETE FROM audit_checkpoint WHERE tenant_id = :t AND tree_size > 4")
    report = verify(sealed.services.databases, sealed.tenant, sealed.var_dir, external_from_directory(saved))
    assert [f.split(" sealed ")[0] for f in report.findings] == ["truncated: the checkpoint of size 7",
                                                                "truncated: the checkpoint of size 10"]
    assert "covers tree indexes 4..9, gone from the database" in report.findings[1]
