"""One page of a list of records over every database holding some the acting force may see: its own, and each
other database holding a force that shares the record type with it now (app.db.Sessions says which). Each
database's own row-level security decides what it gives; the pages merge in the list's order; each provider's
access log is written in its own database and every consultation in the acting force's audit trail."""
from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.auth.principal import Principal
from app.db import Sessions, fetch_page, transaction
from app.sharing.visibility import record_shared_reads

Shown = Callable[[Session, list[Any]], None]


def find(session: Session, principal: Principal, record_type: str, model: Any, stmt: Any, newest: Any, *,
         page: int, page_size: int, sessions: Sessions | None = None, shown: Shown | None = None,
         via: str = "search") -> tuple[list[Any], int]:
    """One page of `stmt`'s records newest first by `newest` (a column never NULL), then by id, and the total:
    from the acting force's database alone, or, when `sessions` reaches other databases holding forces that share
    `record_type` with it, from each of them by the same statement, merged. Each record returned is audited as
    consulted and logged for its provider (in the provider's database); `shown` is called, in each database's
    transaction, with the records it gave (to show or log what the list shows beside them)."""
    order = (newest.desc(), model.id)
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
            found, total, given = _merged(databases, model, newest, order, page, page_size)
        audit_service.record_each(session, principal, "consultation", record_type, [r.id for r in found],
                                  {"via": via})
        for database, records in given:
            record_shared_reads(database, principal, record_type, [(r.tenant_id, r.id) for r in records])
            if shown is not None:
                shown(database, records)
    return found, total


def _merged(databases: list[tuple[Session, Any]], model: Any, newest: Any, order: tuple[Any, ...], page: int,
            page_size: int) -> tuple[list[Any], int, list[tuple[Session, list[Any]]]]:
    """The page over several databases: the first `page` pages' keys from each (ids and sort values only), merged
    in the list's order and cut to the page asked for; then the page's records loaded from the databases holding
    them. Returns the page, the total over all, and the records each database gave."""
    total, keys = 0, []
    for index, (database, query) in enumerate(databases):
        total += database.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        rows = database.execute(query.with_only_columns(model.id, newest.label("newest"))
                                .order_by(*order).limit(page * page_size))
        keys += [(row.newest, row.id, index) for row in rows]
    keys.sort(key=lambda k: k[1])  # then newest first: a stable sort keeps ids ascending among equal times
    keys.sort(key=lambda k: k[0], reverse=True)
    chosen = keys[(page - 1) * page_size: page * page_size]
    given, loaded = [], {}
    for index, (database, _) in enumerate(databases):
        ids = [record_id for _, record_id, at in chosen if at == index]
        records = list(database.scalars(select(model).where(model.id.in_(ids)))) if ids else []
        loaded.update({(index, r.id): r for r in records})
        if records:
            given.append((database, records))
    found = [loaded[(index, record_id)] for _, record_id, index in chosen if (index, record_id) in loaded]
    return found, total, given
