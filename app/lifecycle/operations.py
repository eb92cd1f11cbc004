"""What a lifecycle command needs (settings, who runs it, where progress goes) and the log of its operations.

Each operation is a row of `tenant_operation` in the pooled database (migration 0017): its steps as they are
done, its details and outcome. Rerun after a crash, a command finds its running row and skips the steps done:
that row is how it resumes, and it is the audit trail of the lifecycle commands, which outlives the force.
"""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row

from app.config import Settings
from app.lifecycle import database


class Refused(Exception):
    """A precondition failed; nothing was changed (the message says what, and what to do)."""


class Reporter:
    """Where a command tells what it does: silent here; the CLI prints and draws progress bars."""

    def say(self, message: str) -> None:
        """One line of what was done (or, in a dry run, would be)."""

    @contextmanager
    def progress(self, label: str, total: int, unit: str = "rows") -> Iterator[Callable[[int], None]]:
        """A progress display of `total` units (rows, tables, objects); the caller reports units as they are done."""
        yield lambda done: None


@dataclass
class Run:
    """One invocation of a lifecycle command."""

    settings: Settings
    operator: str = "concord-cli"
    dry_run: bool = False
    reporter: Reporter = field(default_factory=Reporter)
    # How long every server takes to see a registry change (its cache); None: the registry's TTL.
    settle_seconds: float | None = None
    s3_client: Callable[[], Any] | None = None  # for s3:// exports; boto3's default client when None

    def settle(self, why: str) -> None:
        """Wait until every server has read the registry again."""
        seconds = self.settings.registry_ttl_seconds if self.settle_seconds is None else self.settle_seconds
        if seconds > 0:
            self.reporter.say(f"waiting {seconds:.0f} s for every server to see {why}")
            time.sleep(seconds)

    @contextmanager
    def pool(self) -> Iterator[psycopg.Connection[Any]]:
        """The registry's database as the owner role, its rows named tuples."""
        with database.connect(database.pool_url(self.settings)) as conn:
            named: psycopg.Connection[Any] = conn
            named.row_factory = namedtuple_row
            yield named


@dataclass
class Entry:
    """A force's registry entry."""

    slug: str
    settings: dict[str, Any]
    deployment: str
    active: bool
    maintenance: bool
    offboarded_at: datetime | None


def entry(run: Run, slug: str) -> Entry | None:
    """The force's registry entry, active or not (None: never registered)."""
    with run.pool() as conn:
        row = conn.execute("SELECT slug, settings, deployment, active, maintenance, offboarded_at FROM tenant "
                           "WHERE slug = %s", (slug,)).fetchone()
    return Entry(*row) if row else None


def live_entry(run: Run, slug: str) -> Entry:
    """The entry of a registered force not offboarded; Refused otherwise."""
    found = entry(run, slug)
    if found is None:
        raise Refused(f"no force {slug!r} is registered: `concord tenants onboard {slug}` registers it")
    if found.offboarded_at is not None:
        raise Refused(f"force {slug} was offboarded on {found.offboarded_at:%Y-%m-%d %H:%M} UTC; only its tombstone "
                      "is left")
    return found


def set_flags(run: Run, slug: str, **flags: Any) -> None:
    """Set registry columns of the force (maintenance, active, deployment) in one statement."""
    assignments = ", ".join(f"{name} = %({name})s" for name in flags)
    with run.pool() as conn:
        conn.execute(f"UPDATE tenant SET {assignments}, updated_at = now() WHERE slug = %(slug)s",
                     {**flags, "slug": slug})


class Operation:
    """A running operation on one force: its steps done, kept as it goes."""

    def __init__(self, run: Run, slug: str, kind: str, row: Any):
        self.run, self.slug, self.kind = run, slug, kind
        self.id: uuid.UUID = row.id
        self.steps: list[str] = list(row.steps)
        self.details: dict[str, Any] = dict(row.details)
        self.resumed = bool(self.steps)

    @classmethod
    def begin(cls, run: Run, slug: str, kind: str, details: dict[str, Any]) -> Operation:
        """Resume this force's running operation of this kind, or start one; Refused while another kind runs."""
        with run.pool() as conn:
            row = conn.execute("SELECT * FROM tenant_operation WHERE slug = %s AND status = 'running'",
                               (slug,)).fetchone()
            if row is not None and row.operation != kind:
                raise Refused(f"force {slug}: a {row.operation} started at {row.started_at:%Y-%m-%d %H:%M} UTC has "
                              f"not finished; run `concord tenants {row.operation} {slug}` again to resume it first")
            if row is None:
                row = conn.execute(
                    "INSERT INTO tenant_operation (id, slug, operation, status, operator, details) "
                    "VALUES (%s, %s, %s, 'running', %s, %s) RETURNING *",
                    (uuid.uuid4(), slug, kind, run.operator, json.dumps(details))).fetchone()
        operation = cls(run, slug, kind, row)
        if operation.resumed:
            run.reporter.say(f"resuming the {kind} of {slug} (done: {', '.join(operation.steps)})")
        return operation

    def done(self, step: str) -> bool:
        return step in self.steps

    def mark(self, step: str, **details: Any) -> None:
        """Record a step as done (and details learnt on the way)."""
        self.steps.append(step)
        self.details.update(details)
        with self.run.pool() as conn:
            conn.execute("UPDATE tenant_operation SET steps = %s, details = %s WHERE id = %s",
                         (json.dumps(self.steps), json.dumps(self.details, default=str), self.id))

    def finish(self, status: str = "done", **details: Any) -> None:
        """End the operation: done, or failed (with what went wrong)."""
        self.details.update(details)
        with self.run.pool() as conn:
            conn.execute("UPDATE tenant_operation SET status = %s, details = %s, finished_at = now() WHERE id = %s",
                         (status, json.dumps(self.details, default=str), self.id))


def last_done(run: Run, slug: str, kind: str) -> Any:
    """The force's latest finished operation of this kind (None: none)."""
    with run.pool() as conn:
        return conn.execute("SELECT * FROM tenant_operation WHERE slug = %s AND operation = %s AND status = 'done' "
                            "ORDER BY finished_at DESC LIMIT 1", (slug, kind)).fetchone()


def record_done(run: Run, slug: str, kind: str, details: dict[str, Any]) -> None:
    """Log an operation that had nothing to resume (it ran in one go, or changed nothing)."""
    with run.pool() as conn:
        conn.execute("INSERT INTO tenant_operation (id, slug, operation, status, operator, details, finished_at) "
                     "VALUES (%s, %s, %s, 'done', %s, %s, now())",
                     (uuid.uuid4(), slug, kind, run.operator, json.dumps(details, default=str)))
