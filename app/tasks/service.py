"""Creating, closing and listing tasks, for every module."""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timezone

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.db import transaction
from app.investigations.models import Investigation, InvestigationEntry
from app.tasks.models import Task


def add(session: Session, principal: Principal, module: str, record_type: str, record_id: uuid.UUID, kind: str,
        *, user: str | None = None, role: str | None = None, due_on: date | None = None, note: str = "") -> Task:
    task = Task(tenant_id=principal.tenant.id, id=uuid.uuid4(), module=module, record_type=record_type,
                record_id=record_id, kind=kind, assignee_user=user, assignee_role=role, due_on=due_on, note=note)
    session.add(task)
    return task


def close(session: Session, principal: Principal, record_id: uuid.UUID, *kinds: str) -> None:
    """Close the open tasks of these kinds on a record (the step they asked for is done)."""
    session.execute(update(Task).where(Task.tenant_id == principal.tenant.id, Task.record_id == record_id,
                                       Task.kind.in_(kinds), Task.done_at.is_(None))
                    .values(done_at=datetime.now(timezone.utc), done_by=principal.user_id))


def mine(session: Session, principal: Principal) -> list[dict]:
    """The open tasks of the user and of their roles, and the open investigation actions assigned to them,
    most urgent (earliest due) first."""
    with transaction(session):
        tasks = list(session.scalars(select(Task).where(
            Task.done_at.is_(None),
            or_(Task.assignee_user == principal.user_id, Task.assignee_role.in_(sorted(principal.roles))))))
        done = select(InvestigationEntry.refers_to).where(InvestigationEntry.kind == "action_done",
                                                          InvestigationEntry.refers_to.is_not(None))
        actions = session.execute(
            select(InvestigationEntry, Investigation.reference)
            .join(Investigation, (Investigation.tenant_id == InvestigationEntry.tenant_id)
                  & (Investigation.id == InvestigationEntry.investigation_id))
            .where(InvestigationEntry.kind == "action", InvestigationEntry.assignee == principal.user_id,
                   InvestigationEntry.id.not_in(done))).all()
    items = [{"id": t.id, "module": t.module, "record_type": t.record_type, "record_id": t.record_id, "kind": t.kind,
              "assignee_user": t.assignee_user, "assignee_role": t.assignee_role, "due_on": t.due_on, "note": t.note}
             for t in tasks]
    items += [{"id": a.id, "module": "investigations", "record_type": "investigation", "record_id": a.investigation_id,
               "kind": "action", "assignee_user": a.assignee, "assignee_role": None, "due_on": a.due_on,
               "note": f"{reference}: {a.text}"} for a, reference in actions]
    return sorted(items, key=lambda i: (i["due_on"] is None, i["due_on"] or date.max, str(i["id"])))


def erase_for(session: Session, *, record_ids: Sequence[uuid.UUID]) -> None:
    """Disposal: delete the force's tasks about these records, open or done, in the caller's transaction."""
    session.execute(delete(Task).where(Task.tenant_id == func.app_current_tenant(), Task.record_id.in_(record_ids)))
