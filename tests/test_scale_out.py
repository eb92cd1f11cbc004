"""The pooled database stays ready to be distributed by tenant with Citus (docs/scale-out.md): every tenant table's
keys lead with its tenant column, and every other table is a small reference table, each classified here by name,
so that a new table fails this test until it is classified."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from app.db import shareable_types
from tests.sharing.test_agreements import PURPOSE, share
from tests.sharing.test_guards import EVERY_ROLE, QUERIES, _fill

# Tables whose tenant column has another name: distributed by it, co-located with the tenant_id tables.
DISTRIBUTED_BY = {
    "sharing_access": "provider_id",  # the provider's shared-read log: grows with every shared read
}
# Tables with no tenant column: Citus reference tables (a copy on every node), each small and not growing with a
# force's records, and with the reason it is one.
REFERENCE = {
    "alembic_version": "one row: the schema's revision (migrations run on the coordinator)",
    "tenant": "the registry: one row per force",
    "collaboration": "one row per collaboration",
    "sharing_agreement": "a few per pair of forces; every shard's sharing policies read it",
    "sharing_agreement_event": "an agreement's history: a handful of rows per agreement",
    "tenant_operation": "the platform's log of onboard, move, export and offboard: a few rows per force's lifetime",
    "sharing_grant": "compiled from the agreements (consumer x provider x record type x classification); every "
                     "shard's sharing policies read it",
}
SMALL = 1000  # rows a reference table may hold in the test database (migrated, every force applied)
RECORD_COLUMNS = {"record_id", "person_id", "investigation_id", "document_id"}  # a table naming records grows with them

TABLES = """
    SELECT c.oid, c.relname,
           (SELECT array_agg(a.attname::text) FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
"""
# each unique index (the primary key among them) with the name of its first column (null for an expression)
UNIQUE_KEYS = """
    SELECT ic.relname, i.indisprimary, a.attname
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = %s AND i.indisunique
"""
FOREIGN_KEYS = """
    SELECT con.conname, a.attname, ref.relname, ra.attname
      FROM pg_constraint con
      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
      JOIN pg_class ref ON ref.oid = con.confrelid
      JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1]
     WHERE con.conrelid = %s AND con.contype = 'f'
"""


@pytest.fixture
def catalog(superuser):
    tables = superuser.execute(TABLES).fetchall()
    assert len(tables) > 30  # the migrated pool, not an empty database
    return {name: (oid, set(columns)) for oid, name, columns in tables}


def _tenant_column(name: str, columns: set[str]) -> str | None:
    return DISTRIBUTED_BY.get(name) or ("tenant_id" if "tenant_id" in columns else None)


def test_every_table_is_distributed_by_its_tenant_or_classified_as_a_reference_table(catalog):
    unclassified = [name for name, (_, columns) in catalog.items()
                    if _tenant_column(name, columns) is None and name not in REFERENCE]
    assert unclassified == [], "classify each: a tenant column leading its keys, or a reference table (and why)"
    for name in (*REFERENCE, *DISTRIBUTED_BY):
        assert name in catalog, f"{name} is classified but no longer exists"
    for name, column in DISTRIBUTED_BY.items():
        assert column in catalog[name][1] and "tenant_id" not in catalog[name][1]


def test_every_key_of_a_tenant_table_leads_with_its_tenant_column(catalog, superuser):
    problems = []
    for name, (oid, columns) in sorted(catalog.items()):
        tenant = _tenant_column(name, columns)
        if tenant is None:
            continue
        keys = superuser.execute(UNIQUE_KEYS, (oid,)).fetchall()
        if not any(primary for _, primary, _ in keys):
            problems.append(f"{name}: no primary key")
        problems += [f"{name}: {'primary key' if primary else 'unique index'} {index} leads with {first}"
                     for index, primary, first in keys if first != tenant]
        for constraint, first, target, target_first in superuser.execute(FOREIGN_KEYS, (oid,)).fetchall():
            target_tenant = _tenant_column(target, catalog[target][1])
            if target_tenant is None:
                continue  # to a reference table: allowed, each node has it
            if (first, target_first) != (tenant, target_tenant):
                problems.append(f"{name}: foreign key {constraint} is ({first}, …) -> {target} ({target_first}, …)")
    assert problems == []


def test_every_reference_table_is_small_and_names_no_record(catalog, superuser):
    for name, reason in REFERENCE.items():
        oid, columns = catalog[name]
        rows = superuser.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        assert rows < SMALL, f"{name} has {rows} rows: too many for a reference table ({reason})"
        assert not columns & RECORD_COLUMNS, f"{name} names records, so it grows with them: distribute it"
        for constraint, _, target, _ in superuser.execute(FOREIGN_KEYS, (oid,)).fetchall():
            # Citus allows a reference table to point only at reference tables
            assert target in REFERENCE, f"{name}: foreign key {constraint} to the distributed table {target}"


# --- every statement the services send names its tenant ---------------------------------------------------------

# Statements that touch no force's rows by design, each with the reason (matched at the start of the statement).
NAMES_NO_TENANT = {
    "SELECT set_config(": "names the tenant itself: the transaction-local setting RLS reads (app/db.py)",
    "SAVEPOINT ": "the test harness's savepoints",
    "RELEASE SAVEPOINT ": "the test harness's savepoints",
    "ROLLBACK TO SAVEPOINT ": "the test harness's savepoints",
}
TABLE_REFERENCE = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+"?([a-z_]+)"?(?:\s+(?:AS\s+)?"?([a-z_0-9]+)"?)?',
                             re.IGNORECASE)
NOT_ALIASES = {"where", "on", "join", "left", "right", "inner", "outer", "full", "cross", "group", "order", "limit",
               "set", "values", "using", "returning", "for", "union", "offset", "select", "as", "lateral", "natural",
               "having", "window", "fetch", "except", "intersect", "default", "overriding", "tablesample", "only"}
PARAMETER = r"(?:CAST\s*\(\s*)?%\(\w+\)s"  # a bound value, perhaps cast
BOUND = rf"(?:=\s*{PARAMETER}|IN\s*\(\s*{PARAMETER}|=\s*ANY\s*\(\s*{PARAMETER})"
CTE = re.compile(r"(?:\bWITH(?:\s+RECURSIVE)?|,)\s*([a-z_]+)\s*(?:\([^()]*\))?\s+AS\s*\(", re.IGNORECASE)


def _unnamed_tenants(statement: str, tenant_tables: dict[str, str]) -> list[str]:
    """The tenant tables a statement reads or writes without a condition binding their tenant column to a value
    (an equality, IN or ANY list of parameters), directly or through an equal tenant column of a table that has
    one, or of a CTE of the statement (whose own tenant tables are each checked here)."""
    references, ctes = {}, set(CTE.findall(statement))
    bound = set()
    for found in TABLE_REFERENCE.finditer(statement):
        table, alias = found.groups()
        name = alias if alias and alias.lower() not in NOT_ALIASES else table
        if table in ctes:
            bound.add(name)  # a CTE's rows: its own tenant tables are each checked
        elif table in tenant_tables:
            references[name] = tenant_tables[table]
            # unqualified, in its own SELECT: FROM person WHERE tenant_id = ...
            scope = re.split(r"\bUNION\b|\bSELECT\b", statement[found.end():], maxsplit=1, flags=re.IGNORECASE)[0]
            if name == table and re.search(rf'(?<![.\w"])"?{tenant_tables[table]}"?\s*{BOUND}', scope, re.IGNORECASE):
                bound.add(name)
    if not references:
        return []
    if statement.lstrip().upper().startswith("INSERT"):
        table = TABLE_REFERENCE.search(statement).group(1)
        columns = statement.split("(", 1)[1].split(")", 1)[0]
        return [] if re.search(rf"\b{tenant_tables.get(table, 'tenant_id')}\b", columns) else [table]
    columns_of = {**dict.fromkeys(bound, "tenant_id"), **references}
    for name, column in references.items():
        qualified = rf'(?:"?{name}"?\.)' + ("?" if len(references) == 1 else "")
        if re.search(rf"{qualified}\"?{column}\"?\s*{BOUND}", statement, re.IGNORECASE):
            bound.add(name)
    changed = True
    while changed:  # a.tenant_id = b.tenant_id carries b's bound tenant to a
        changed = False
        for name, column in references.items():
            for other in bound - {name}:
                equal = (rf'"?{name}"?\."?{column}"?\s*=\s*"?{other}"?\."?{columns_of[other]}"?|'
                         rf'"?{other}"?\."?{columns_of[other]}"?\s*=\s*"?{name}"?\."?{column}"?')
                if name not in bound and re.search(equal, statement):
                    bound.add(name)
                    changed = True
    return sorted(set(references) - bound)


def _every_get(app, made, api) -> None:
    """Every GET route of the API, filled with the records made (as tests/sharing/test_guards.py walks them)."""
    for path, operations in app.test_client().get("/api/v1/openapi.json").get_json()["paths"].items():
        url = _fill(path, made) if "get" in operations else None
        if url is not None:
            response = api.get(url, query_string=QUERIES.get(path, lambda m: {})(made), headers=PURPOSE)
            assert response.status_code < 500, (path, response.get_data(as_text=True)[:300])


def test_every_statement_of_an_api_run_names_its_tenant(app, services, as_user, north_admin, catalog):
    from tests.factories import every_record

    tenant_tables = {name: _tenant_column(name, columns) for name, (_, columns) in catalog.items()
                     if _tenant_column(name, columns)}
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engines = [services.databases.pool, *(services.databases.engine_for(t) for t in services.registry.tenants()
                                          if t.dedicated)]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", capture)
    try:
        made = every_record(services, as_user, "northshire")
        share(north_admin, record_types=[*shareable_types(), "document"])
        north = as_user("northshire", "investigator")
        north.get("/api/v1/people/search", query_string={"name": f"Jane {made['person']['surname']}"})
        for api in (north, as_user("southshire", *EVERY_ROLE, user="ss-walker")):  # its own, and shared to another
            _every_get(app, made, api)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", capture)
    assert len(statements) > 300
    problems = {}
    for statement in statements:
        if statement.lstrip().startswith(tuple(NAMES_NO_TENANT)):
            continue
        unnamed = _unnamed_tenants(statement, tenant_tables)
        if unnamed:
            problems[" ".join(statement.split())[:1500]] = unnamed
    assert problems == {}, "\n".join(f"{v}: {k}" for k, v in problems.items())
