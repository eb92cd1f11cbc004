"""Rebuilding every person's search keys (and the name keys people are listed by), for when the matching
rules or the forename equivalents change.

The keys are derived data (app.people.matching): a new equivalence in the data file, or a change to how
names are normalised, reaches people already recorded only when their keys are rebuilt. Each batch is
its own transaction, replacing the keys of its people at once, so the command can be stopped and run
again; it runs as the runtime role in the force's tenant context, like every other use case.
"""
from __future__ import annotations

import uuid
from typing import Callable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import selectinload

from app import observability
from app.audit import service as audit_service
from app.auth.permissions import permissions_for
from app.auth.principal import Principal
from app.db import Databases, tenant_context
from app.people.identifiers import name_key
from app.people.matching import person_keys
from app.people.models import Person, PersonSearchKey
from app.tenancy.config import Tenant

BATCH = 2000
USER = "search-key-rebuild"


def rekey(databases: Databases, tenant: Tenant, progress: Callable[[int], None] = lambda n: None) -> int:
    """Rebuild the search keys of every person of the force; how many people were rekeyed."""
    session = databases.session(tenant)
    principal = Principal(tenant, USER, frozenset(), permissions_for(set()), purpose="rebuilding search keys")
    done, after = 0, None
    try:
        with tenant_context(principal.context()):
            while True:
                with session.begin():
                    stmt = select(Person).options(selectinload(Person.other_names)).order_by(Person.id).limit(BATCH)
                    if after is not None:
                        stmt = stmt.where(Person.id > after)
                    people = list(session.scalars(stmt))
                    if not people:
                        break
                    ids = [p.id for p in people]
                    for p in people:  # the listing keys too: a name in another script once had an empty one
                        p.surname_key, p.forenames_key = name_key(p.surname), name_key(p.forenames)
                    session.execute(delete(PersonSearchKey).where(PersonSearchKey.tenant_id == principal.tenant.id,
                                                                  PersonSearchKey.person_id.in_(ids)))
                    rows = [
                        {"tenant_id": p.tenant_id, "person_id": p.id, "key": key, "alias": alias,
                         "birth_year": p.date_of_birth.year if p.date_of_birth else 0,
                         "classification": p.classification, "do_not_share": p.do_not_share}
                        for p in people if p.merged_into is None
                        for key, alias in person_keys(p.surname, p.forenames,
                                                      [(o.surname, o.forenames) for o in p.other_names])
                    ]
                    if rows:
                        session.execute(insert(PersonSearchKey), rows)
                    done, after = done + len(people), ids[-1]
                    progress(len(people))
            with session.begin():
                audit_service.record(session, principal, "alteration", "person_search_keys", uuid.uuid4(),
                                     {"people": done})
    finally:
        session.close()
    observability.event("people.rekeyed", force=tenant.slug, people=done)
    return done
