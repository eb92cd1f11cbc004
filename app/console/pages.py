"""What a console page reads at once: the services' own reads joined in one transaction, so that a page view is
one consultation, with the purpose the user stated, of the records it shows (each audited once) and one commit.
No rule lives here: each read is the service the API's route calls."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from app.auth.principal import Principal
from app.db import Sessions, transaction
from app.documents import service as documents
from app.people import service as people
from app.people.models import Person
from app.pole import links
from app.sharing import agreements
from app.tenancy.registry import Registry


@dataclass(frozen=True)
class PersonPage:
    """A person and what their page shows beside them. A person held in another force's database is read there,
    with their links, documents and audience, through that database's policies (`held_elsewhere`)."""

    person: Person
    links: list[Any]
    documents: list[Any]
    seen: dict[str, Any]
    held_elsewhere: bool = False


def person_page(sessions: Sessions, principal: Principal, registry: Registry, *, person_id: uuid.UUID) -> PersonPage:
    """A person's page in one transaction: the person, their links and documents, and who can see the record."""
    session = sessions.own
    with transaction(session):
        person = people.get(session, principal, person_id, sessions=sessions)
        if not sessions.elsewhere([person.tenant_id]):
            return PersonPage(person, links.of_entity(session, principal, "person", person_id),
                              documents.find(session, principal, "person", person_id),
                              agreements.who_can_see(session, principal, registry, record_type="person",
                                                     record_id=person_id))
    # Each read below is its own transaction in the database holding the person (and a consultation in ours).
    return PersonPage(person, links.of_entity(session, principal, "person", person_id, sessions=sessions),
                      documents.find(session, principal, "person", person_id, sessions=sessions),
                      agreements.explain(session, principal, registry, "person", person_id, sessions=sessions),
                      held_elsewhere=True)
