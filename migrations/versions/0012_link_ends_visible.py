"""A shared link crosses only when both its ends are visible to the other force: a link from a shared person to
a person marked do-not-share (or of a type the agreement does not release) revealed that person's id and the
kind of link. The sharing policy of pole_link now checks each end under its own table's policies.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
import rls
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ENTITY_TABLES = {"person": "person", "object": "pole_object", "location": "location", "event": "pole_event"}


def upgrade(runtime_role: str) -> None:
    op.execute("DROP POLICY pole_link_shared_select ON pole_link")
    rls.shared_select("pole_link", "link", rls.visible_ends(
        "pole_link", (("from_type", "from_id"), ("to_type", "to_id")), ENTITY_TABLES))


def downgrade(runtime_role: str) -> None:
    op.execute("DROP POLICY pole_link_shared_select ON pole_link")
    rls.shared_select("pole_link", "link")
