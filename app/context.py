"""The acting context of a request or task: who is acting, for which force, why, under which request, and what
other forces share with it. A contextvar carries it so that every transaction can name its tenant in its
settings (app.db's after_begin listener); it is set once per request from the verified identity, never from
input. It depends on nothing else in Concord, so that any layer can read it.
"""
from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class SharedSource:
    """Records of one type another force shares with the acting force, under which agreements, masked how."""

    provider_id: uuid.UUID
    record_type: str
    agreement_ids: tuple[uuid.UUID, ...]
    masked: frozenset[str]


@dataclass(frozen=True)
class TenantContext:
    """Who is acting, for whom, and why: set once per request from the verified token.

    `shared` lists what other forces share with this one; it is filled only when a purpose is stated,
    and the database's sharing policies decide row by row whatever it says.
    """

    tenant_id: uuid.UUID
    user_id: str = ""
    purpose: str = ""
    request_id: str = ""
    shared: tuple[SharedSource, ...] = ()
    restricted_access: bool = False  # may see records restricted instead of erased (the RLS reads it)

    @property
    def visible_tenants(self) -> tuple[uuid.UUID, ...]:
        """This force and every force sharing anything with it: the ORM's second layer of scoping."""
        return (self.tenant_id, *dict.fromkeys(s.provider_id for s in self.shared))



_context: contextvars.ContextVar[TenantContext | None] = contextvars.ContextVar("concord_tenant", default=None)


def current_context() -> TenantContext | None:
    """The tenant context of this request or task, if any."""
    return _context.get()


@contextmanager
def tenant_context(ctx: TenantContext | None) -> Iterator[TenantContext | None]:
    """Run a block as the given tenant (None: as nobody, which sees no tenant rows)."""
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def set_context(ctx: TenantContext | None) -> contextvars.Token:
    """Set the context for the rest of this request; reset it with reset_context(token)."""
    return _context.set(ctx)


def reset_context(token: contextvars.Token) -> None:
    _context.reset(token)
