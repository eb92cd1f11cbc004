"""Helpers the migrations use to put a tenant table under row-level security: one helper per kind of policy.

- `own_force`: RLS enabled *and forced* (so even its owner is filtered) and one policy per command, all
  reading the tenant through `(SELECT app_current_tenant())`: evaluated once per statement.
- `shared_select`: the select-only policy of a shareable record type, through the compiled grants.
- `follows_parent`: a child table's rows are visible to another force exactly when their parent is.
- `attached_documents`: the documents attached to one record type cross only under a document grant for it.
- `restricted_hidden`, `restricted_ends`: a restricted record (and what names it) exists only for restricted access.

A new shareable record type needs its model class (app.db.Record) and a migration calling these; the guard
tests in tests/sharing check that every registered type has them.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op

TENANT = "tenant_id = (SELECT app_current_tenant())"


def own_force(table: str, runtime_role: str,
              commands: tuple[str, ...] = ("SELECT", "INSERT", "UPDATE", "DELETE")) -> None:
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


def _granted(grant_type: str) -> str:
    """The row's force and classification are released to the acting force by a grant in force of this type,
    and a purpose is stated: one uncorrelated subquery on the grant table."""
    return f"""(tenant_id, classification) IN (
                SELECT g.provider_id, g.classification FROM sharing_grant g
                WHERE g.consumer_id = (SELECT app_current_tenant()) AND g.record_type = '{grant_type}'
                  AND g.valid_from <= now() AND (g.valid_to IS NULL OR g.valid_to > now())
                  AND (SELECT app_current_purpose()) <> '')"""


def shared_select(table: str, record_type: str, extra: str = "") -> None:
    """The select-only policy that lets a consumer force read `table`'s rows its grants release (migration
    0003): never a row marked do-not-share."""
    op.execute(
        f"""
        CREATE POLICY {table}_shared_select ON {table} AS PERMISSIVE FOR SELECT USING (
            {_granted(record_type)}
            AND NOT do_not_share {extra}
        )
        """
    )


def visible_ends(table: str, ends: tuple[tuple[str, str], ...], tables: dict[str, str]) -> str:
    """A condition for `shared_select`'s `extra`: each (type column, id column) end of a row is itself visible to
    the acting force under its own table's policies, so a shared row never reveals a record that is not."""
    def visible(type_column: str, id_column: str) -> str:
        cases = " ".join(f"WHEN '{record_type}' THEN EXISTS (SELECT 1 FROM {target} e "
                         f"WHERE e.tenant_id = {table}.tenant_id AND e.id = {table}.{id_column})"
                         for record_type, target in tables.items())
        return f"(CASE {table}.{type_column} {cases} ELSE false END)"

    return " ".join(f"AND {visible(type_column, id_column)}" for type_column, id_column in ends)


def attached_documents(record_type: str, table: str) -> None:
    """Documents attached to `record_type` (rows of `table`) cross only under a grant naming documents for that
    type ("document:person"), within its classification ceiling, never restricted, and only while the
    parent record itself is visible to the other force (the parent's own policies decide that)."""
    op.execute(
        f"""
        CREATE POLICY document_shared_select_{record_type} ON document AS PERMISSIVE FOR SELECT USING (
            record_type = '{record_type}' AND tenant_id <> (SELECT app_current_tenant()) AND NOT do_not_share
            AND {_granted('document:' + record_type)}
            AND EXISTS (SELECT 1 FROM {table} r WHERE r.tenant_id = document.tenant_id AND r.id = document.record_id)
        )
        """
    )


def follows_parent(table: str, parent: str, column: str) -> None:
    """A child table's rows are shared exactly when their parent row is visible to the other force."""
    op.execute(
        f"""
        CREATE POLICY {table}_shared_select ON {table} AS PERMISSIVE FOR SELECT USING (
            tenant_id <> (SELECT app_current_tenant()) AND EXISTS (
                SELECT 1 FROM {parent} p WHERE p.tenant_id = {table}.tenant_id AND p.id = {table}.{column})
        )
        """
    )


def restricted_hidden(table: str) -> None:
    """A restricted row (DPA 2018 s.47(2): kept as evidence instead of erased) exists only for a transaction with
    restricted access: a RESTRICTIVE policy, so it narrows every permissive one (own force and shared alike)."""
    op.execute(
        f"""
        CREATE POLICY {table}_restricted ON {table} AS RESTRICTIVE FOR SELECT
            USING (NOT restricted OR (SELECT app_restricted_access()))
        """
    )


def restricted_ends(table: str, columns: tuple[str, ...]) -> None:
    """A row naming a restricted record in one of `columns` (a document of it, a link to it) is hidden with it
    from a transaction without restricted access: a RESTRICTIVE policy over `app_restricted_ids()` (migration
    0016), an uncorrelated subquery evaluated once per statement."""
    named = " AND ".join(f"{column} NOT IN (SELECT app_restricted_ids())" for column in columns)
    op.execute(
        f"""
        CREATE POLICY {table}_restricted_ends ON {table} AS RESTRICTIVE FOR SELECT
            USING ((SELECT app_restricted_access()) OR ({named}))
        """
    )
