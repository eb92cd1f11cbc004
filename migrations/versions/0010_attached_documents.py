"""Documents cross a force boundary only when an agreement names them: one policy per attachable record type.

Before, one hand-written policy let another force read every document attached to any record it could see,
whatever the agreement said of documents or of classification. Now an agreement naming `document` compiles a
grant `document:<type>` for each record type it shares that documents attach to, and each attachable type has
its own policy (rls.attached_documents): within the agreement's classification ceiling, never a restricted
document, and only while the parent record is itself visible. Adding an attachable type adds one call here
(or in its own migration), not another clause of a shared OR.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import rls
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# The attachable record types and their tables, as the models declare them (Record.attachable).
ATTACHABLE = (("person", "person"), ("object", "pole_object"), ("location", "location"), ("event", "pole_event"),
              ("link", "pole_link"), ("custody", "custody_record"), ("investigation", "investigation"),
              ("intelligence", "intelligence_report"))


def upgrade(runtime_role: str) -> None:
    op.execute("DROP POLICY document_shared_select ON document")
    for record_type, table in ATTACHABLE:
        rls.attached_documents(record_type, table)


def downgrade(runtime_role: str) -> None:
    for record_type, _ in ATTACHABLE:
        op.execute(f"DROP POLICY document_shared_select_{record_type} ON document")
    attached = " OR ".join(
        f"(record_type = '{record_type}' AND EXISTS (SELECT 1 FROM {table} r "
        f"WHERE r.tenant_id = document.tenant_id AND r.id = document.record_id))" for record_type, table in ATTACHABLE)
    op.execute(f"CREATE POLICY document_shared_select ON document AS PERMISSIVE FOR SELECT USING ("
               f"tenant_id <> (SELECT app_current_tenant()) AND NOT do_not_share AND ({attached}))")
