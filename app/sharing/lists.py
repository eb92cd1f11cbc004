"""One page of a list of records over every database holding some the acting force may see: its own, and each
other database holding a force that shares the record type with it now (app.db.Sessions says which). Each
database's own row-level security decides what it gives; the pages merge in the list's order; each provider's
access log is written in its own database and every consultation in the acting force's audit trail."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any

from sqlalchemy import Integer, column, func, select, values
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Sessions, fetch_page, transaction
from app.sharing.visibility import record_shared_reads

Shown = Callable[[Session, list[Any]], None]


def find(session: Session, principal: Principal, record_type: str, model: Any, stmt: Any, order: Sequence[Any], *,
         page: int, page_size: int, sessions: Sessions | None = None, shown: Shown | None = None,
         via: str = "search") -> tuple[list[Any], int]:
    """One page of `stmt`'s records in `order` (the model's columns, each ascending or `.desc()`, unique at the
    end), and the total: from the acting force's database alone, or, when `sessions` reaches other databases
    holding forces that share `record_type` with it, from each of them by the same statement, merged. Each record
    returned is audited as consulted and logged for its provider (in the provider's database); `shown` is called,
    in each database's transaction, with the records it gave (to show or log what the list shows beside them)."""
    providers = [s.provider_id for s in principal.shared if s.record_type == record_type]
    elsewhere = sessions.elsewhere(providers) if sessions is not None and providers else {}
    with ExitStack() as stack:
        stack.enter_context(transaction(session))
        if sessions is None or not elsewhere:
            found, total = fetch_page(session, stmt.order_by(*order), page, page_size)
            given = [(session, found)]
        else:
            databases = [(session, stmt), *((sessions.named(name), stmt.where(model.tenant_id.in_(tenants)))
                                            for name, tenants in elsewhere.items())]
            for other, _ in databases[1:]:
                stack.enter_context(transaction(other))
            found, total, given = _merged(databases, model, list(order), page, page_size)
        audit_service.record_each(session, principal, "consultation", record_type, [r.id for r in found],
                                  {"via": via})
        for database, records in given:
            record_shared_reads(database, principal, record_type, [(r.tenant_id, r.id) for r in records])
            if shown is not None:
                shown(database, records)
    return found, total


def _merged(databases: list[tuple[Session, Any]], model: Any, order: list[Any], page: int,
            page_size: int) -> tuple[list[Any], int, list[tuple[Session, list[Any]]]]:
    """The page over several databases: the first `page` pages' keys from each (sort values and ids only), put in
    the list's order by the acting force's database (its collation sorts names, not Python's) and cut to the page
    asked for; then the page's records loaded from the databases holding them. Returns the page, the total over
    all, and the records each database gave."""
    columns = [(o.element, "DESC") if isinstance(o, UnaryExpression) and o.modifier is operators.desc_op
               else (o, "ASC") for o in order]
    total, keys = 0, []
    for index, (database, query) in enumerate(databases):
        total += database.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        rows = database.execute(query.with_only_columns(*(column for column, _ in columns), model.id)
                                .order_by(*order).limit(page * page_size))
        keys += [(index, row[-1], tuple(row[:-1])) for row in rows]
    chosen = [keys[i] for i in _in_order(databases[0][0], columns, [values for _, _, values in keys])]
    chosen = chosen[(page - 1) * page_size: page * page_size]
    given, loaded = [], {}
    for index, (database, _) in enumerate(databases):
        ids = [record_id for at, record_id, _ in chosen if at == index]
        records = list(database.scalars(select(model).where(model.id.in_(ids)))) if ids else []
        loaded.update({(index, r.id): r for r in records})
        if records:
            given.append((database, records))
    found = [loaded[(index, record_id)] for index, record_id, _ in chosen if (index, record_id) in loaded]
    return found, total, given


def _in_order(session: Session, columns: list[tuple[Any, str]], rows: list[tuple[Any, ...]]) -> list[int]:
    """The positions of these rows of sort values, sorted as the database sorts `columns` in their directions."""
    if not rows:
        return []
    keys = values(*(column(f"c{i}", c.type) for i, (c, _) in enumerate(columns)), column("n", Integer),
                  name="sort_keys").data([(*row, n) for n, row in enumerate(rows)])
    order = [keys.c[f"c{i}"].desc() if direction == "DESC" else keys.c[f"c{i}"]
             for i, (_, direction) in enumerate(columns)]
    return list(session.scalars(select(keys.c.n).order_by(*order)))
