"""Helpers the migrations use to put a tenant table under row-level security.

Each tenant table gets RLS enabled *and forced* (so even its owner is filtered) and one policy per
command, all reading the tenant through `(SELECT app_current_tenant())`: evaluated once per statement.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op

TENANT = "tenant_id = (SELECT app_current_tenant())"


def protect(table: str, runtime_role: str, commands: tuple[str, ...] = ("SELECT", "INSERT", "UPDATE", "DELETE")) -> None:
    """Enable and force RLS on `table`, create own-tenant policies for `commands`, grant them to the runtime role."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    for command in commands:
        name = f"{table}_own_{command.lower()}"
        if command == "SELECT" or command == "DELETE":
            clause = f"USING ({TENANT})"
        elif command == "INSERT":
            clause = f"WITH CHECK ({TENANT})"
        else:
            clause = f"USING ({TENANT}) WITH CHECK ({TENANT})"
        op.execute(f"CREATE POLICY {name} ON {table} AS PERMISSIVE FOR {command} {clause}")
    op.execute(f"GRANT {', '.join(commands)} ON {table} TO {runtime_role}")


@contextmanager
def owner_sees_all(table: str) -> Iterator[None]:
    """For a data migration: let the owner see every force's rows of `table`, within this migration's transaction.

    RLS is forced, so even the owner is filtered (and with no tenant set, sees nothing); lifting FORCE for the
    owner alone, and restoring it before commit, lets an UPDATE reach every row.
    """
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    yield
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def sharing_policy(table: str, record_type: str, extra: str = "") -> None:
    """The select-only policy that lets a consumer force read `table`'s rows its grants release (migration
    0003): one uncorrelated subquery on the grant table, a stated purpose, never a row marked do-not-share."""
    op.execute(
        f"""
        CREATE POLICY {table}_shared_select ON {table} AS PERMISSIVE FOR SELECT USING (
            (tenant_id, classification) IN (
                SELECT g.provider_id, g.classification FROM sharing_grant g
                WHERE g.consumer_id = (SELECT app_current_tenant()) AND g.record_type = '{record_type}'
                  AND g.valid_from <= now() AND (g.valid_to IS NULL OR g.valid_to > now())
                  AND (SELECT app_current_purpose()) <> '')
            AND NOT do_not_share {extra}
        )
        """
    )


def follows(table: str, parent: str, column: str) -> None:
    """A child table's rows are shared exactly when their parent row is visible to the other force."""
    op.execute(
        f"""
        CREATE POLICY {table}_shared_select ON {table} AS PERMISSIVE FOR SELECT USING (
            tenant_id <> (SELECT app_current_tenant()) AND EXISTS (
                SELECT 1 FROM {parent} p WHERE p.tenant_id = {table}.tenant_id AND p.id = {table}.{column})
        )
        """
    )
