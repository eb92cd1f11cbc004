"""Benchmark: reviewing and executing a disposal list (PIRM Code of Practice 2023) in a force of realistic volume.

The bench database concord_retention (the embedded server) holds the demo forces; northshire gets --people people
through the bulk import (their search keys too) and, written by SQL as the superuser (this measures disposal, not
the services that would make them): a quarter as many locations, an event per two people at one of them, two links
per person (an associate, an event), a warning marker per 20 people resting on an event, a finalised crime per 10
people (its event, 4 log entries, a charge naming a person, its suspect's link sourced from it, a task), a released
custody record with 5 entries per 20 people, a case file (forms of about 6 KB) per four crimes, a document row per 10
people, a day's stored responses to creating requests (Idempotency-Key: one per 20 people, about 1.5 KB each) and 2
audit events per person.

Each run then makes --records new records through the API, as their users would, in equal parts: people (each
living at a location, with a document; one in ten also charged in one of the kept crimes, so still referred to),
finalised crimes (a suspect charged and a victim, a case file: each goes with its event and case file, and its
suspect goes on the list too), live intelligence reports naming a person, and released custody records. It times,
through the Flask test client (token, route, service, RLS, audit) in this process:

- review: one decision to dispose per record (POST /retention/reviews);
- list: proposing the list and a second user's approval;
- execute: POST .../execution, every record in its own transaction;

and counts the SQL statements each phase sent (BEGIN and COMMIT aside).

    .venv/bin/python scripts/bench/retention.py [--people 100000] [--records 200] [--reload] [--before REV]

Data is loaded once (kept for re-runs; --reload starts again). Each run measures on a copy of the loaded database
(CREATE DATABASE ... TEMPLATE), so runs see the same force. --before REV measures REV's code (its app/ exported
with `git archive` under var/bench/, on a copy migrated down to REV's head) and this checkout's, one after the
other on identical copies, and prints them side by side.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "var" / "bench"
if "--code" in sys.argv:  # another revision's app/ (--before): imported instead of this checkout's
    sys.path.insert(0, sys.argv[sys.argv.index("--code") + 1])
sys.path.insert(1 if "--code" in sys.argv else 0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import psycopg  # noqa: E402

DATABASE = "concord_retention"
SLUG = "northshire"
NOW = datetime.now(timezone.utc).replace(microsecond=0)
H = timedelta(hours=1)


def superuser(database: str) -> str:
    from app import embedded
    return f"postgresql://postgres@/{database}?host={embedded.socket_dir()}"


BACKGROUND = ["""
    INSERT INTO location (tenant_id, id, address_lines, town, postcode, created_by, updated_by)
    SELECT %(force)s, gen_random_uuid(), ARRAY[n || ' Bench Street'], 'Northtown', 'NT' || n %% 90 || ' 1AA', 'bench',
           'bench'
    FROM generate_series(1, %(people)s / 4) n
""", """
    WITH places AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM location WHERE tenant_id = %(force)s)
    INSERT INTO pole_event (tenant_id, id, event_type, occurred_at, location_id, summary, created_by, updated_by)
    SELECT %(force)s, gen_random_uuid(), 'incident', now() - g.n * interval '1 hour', p.id, 'bench incident ' || g.n,
           'bench', 'bench'
    FROM generate_series(1, %(people)s / 2) g(n) JOIN places p ON p.n = g.n %% (%(people)s / 4) + 1
""", """
    WITH people AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM person WHERE tenant_id = %(force)s),
         events AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM pole_event WHERE tenant_id = %(force)s)
    INSERT INTO pole_link (tenant_id, id, from_type, from_id, to_type, to_id, link_type, created_by, updated_by)
    SELECT %(force)s, gen_random_uuid(), 'person', a.id, 'person', b.id, 'associate_of', 'bench', 'bench'
    FROM people a JOIN people b ON b.n = a.n %% %(people)s + 1
    UNION ALL
    SELECT %(force)s, gen_random_uuid(), 'person', a.id, 'event', e.id, 'present_at', 'bench', 'bench'
    FROM people a JOIN events e ON e.n = a.n %% (%(people)s / 2) + 1
""", """
    WITH people AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM person WHERE tenant_id = %(force)s),
         events AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM pole_event WHERE tenant_id = %(force)s)
    INSERT INTO person_warning_marker (tenant_id, id, person_id, code, from_date, source_type, source_id, created_by)
    SELECT %(force)s, gen_random_uuid(), p.id, 'DR', current_date - 400, 'event', e.id, 'bench'
    FROM people p JOIN events e ON e.n = p.n WHERE p.n %% 20 = 0
""", """
    INSERT INTO pole_event (tenant_id, id, event_type, occurred_at, summary, created_by, updated_by)
    SELECT %(force)s, ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, 'crime',
           now() - n * interval '1 hour', 'bench crime ' || n, 'bench', 'bench'
    FROM generate_series(1, %(people)s / 10) n
""", """
    INSERT INTO investigation (tenant_id, id, reference, kind, event_id, primary_classification, summary, status,
                               officer_in_charge, outcome_type, finalised_at, created_by, updated_by)
    SELECT %(force)s, ('00000000-0000-4000-9000-' || lpad(to_hex(n), 12, '0'))::uuid, 'BENCH/' || n, 'crime',
           ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, '46/1', 'bench crime ' || n, 'finalised',
           'pc-bench', 8, now() - interval '30 days', 'bench', 'bench'
    FROM generate_series(1, %(people)s / 10) n
""", """
    WITH people AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM person WHERE tenant_id = %(force)s),
         crimes AS (SELECT id, event_id, row_number() OVER (ORDER BY id) AS n FROM investigation
                    WHERE tenant_id = %(force)s AND reference LIKE 'BENCH/%%')
    , entries AS (
        INSERT INTO investigation_entry (tenant_id, id, investigation_id, kind, text, person_id, recorded_by)
        SELECT %(force)s, gen_random_uuid(), c.id, 'log', 'enquiry ' || k, NULL, 'pc-bench'
        FROM crimes c, generate_series(1, 4) k
        UNION ALL
        SELECT %(force)s, gen_random_uuid(), c.id, 'charge', 'Theft from a shop', p.id, 'pc-bench'
        FROM crimes c JOIN people p ON p.n = c.n * 10
        RETURNING 1)
    , tasks AS (
        INSERT INTO task (tenant_id, id, module, record_type, record_id, kind, assignee_user, note)
        SELECT %(force)s, gen_random_uuid(), 'investigations', 'investigation', c.id, 'action', 'pc-bench', 'file'
        FROM crimes c RETURNING 1)
    INSERT INTO pole_link (tenant_id, id, from_type, from_id, to_type, to_id, link_type, source_type, source_id,
                           created_by, updated_by)
    SELECT %(force)s, gen_random_uuid(), 'person', p.id, 'event', c.event_id, 'suspect', 'investigation', c.id,
           'bench', 'bench'
    FROM crimes c JOIN people p ON p.n = c.n * 10
""", """
    WITH people AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM person WHERE tenant_id = %(force)s),
         booked AS (
        INSERT INTO custody_record (tenant_id, id, custody_number, suite, person_id, arrested_at, arrest_place,
                                    arresting_officer, offences, arrived_at, released_at, outcome, created_by,
                                    updated_by)
        SELECT %(force)s, gen_random_uuid(), 'BENCH/' || n, 'NTH', id, now() - interval '9 days', 'High Street',
               'pc-' || n %% 50, '[{"offence": "theft"}]', now() - interval '215 hours',
               now() - interval '200 hours', 'released', 'bench', 'bench'
        FROM people WHERE n %% 20 = 0 RETURNING id, arrived_at)
    INSERT INTO custody_entry (tenant_id, id, record_id, kind, occurred_at, recorded_by, data)
    SELECT %(force)s, gen_random_uuid(), b.id, 'note', b.arrived_at + k * interval '1 hour', 'ps-1',
           jsonb_build_object('text', 'check ' || k)
    FROM booked b, generate_series(1, 5) k
""", """
    INSERT INTO document (tenant_id, id, record_type, record_id, filename, media_type, size, sha256, storage_key,
                          created_by)
    SELECT %(force)s, gen_random_uuid(), 'person', id, 'statement.txt', 'text/plain', 4096,
           encode(sha256(id::text::bytea), 'hex'), 'sha256/' || encode(sha256(id::text::bytea), 'hex'), 'bench'
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM person WHERE tenant_id = %(force)s) p
    WHERE n %% 10 = 0
""", """
    INSERT INTO case_file (tenant_id, id, investigation_id, anticipated_plea, forms, created_by, updated_by)
    SELECT %(force)s, gen_random_uuid(), id, 'GAP', jsonb_build_object(
               'MG1', jsonb_build_object('urn', '01NS' || lpad(substr(reference, 7), 7, '0')),
               'MG5', jsonb_build_object('summary', (SELECT string_agg(md5(reference || k), ' ')
                                                     FROM generate_series(1, 90) k)),
               'MG11', jsonb_build_object('statement', (SELECT string_agg(md5(k || reference), ' ')
                                                        FROM generate_series(1, 90) k))), 'bench', 'bench'
    FROM investigation WHERE tenant_id = %(force)s AND reference LIKE 'BENCH/%%' AND substr(reference, 7)::int %% 4 = 0
""", """
    INSERT INTO idempotency_key (tenant_id, user_id, key, fingerprint, status_code, response, headers)
    SELECT %(force)s, 'pc-' || n %% 50, 'bench-' || n, md5(n::text), 201, jsonb_build_object(
               'id', gen_random_uuid(), 'surname', 'Bench' || n, 'forenames', 'Jo', 'version', 1,
               'notes', (SELECT string_agg(md5(n::text || k), ' ') FROM generate_series(1, 40) k)), '{}'
    FROM generate_series(1, %(people)s / 20) n
""", """
    INSERT INTO audit_event (tenant_id, id, user_id, action, record_type, record_id, purpose)
    SELECT %(force)s, gen_random_uuid(), 'pc-' || k, 'consultation', 'person', id::text, 'bench'
    FROM person, generate_series(1, 2) k WHERE tenant_id = %(force)s
"""]


def prepare(people: int, reload: bool) -> Any:
    """The bench database, northshire loaded with `people` people and their records (once); the settings."""
    import bench_support
    import generate_people
    from app.db import Databases
    from app.pole import import_service

    settings, config = bench_support.database(DATABASE, reload)
    force = config.tenants[SLUG]
    with psycopg.connect(superuser(DATABASE), autocommit=True) as conn:
        have, loaded = conn.execute(
            "SELECT (SELECT count(*) FROM person WHERE tenant_id = %(t)s AND created_by = 'bench-import'), "
            "(SELECT count(*) FROM investigation WHERE tenant_id = %(t)s AND reference LIKE 'BENCH/%%')",
            {"t": force.id}).fetchone()
    if have and (have != people or not loaded):
        raise SystemExit(f"the bench database holds {have} people, not {people} and their records: run with --reload")
    if not have:
        started = time.perf_counter()
        path = BENCH / "retention" / "people.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, generate_people.COLUMNS)
            writer.writeheader()
            writer.writerows(generate_people.people(people, 11))
        databases = Databases(settings)
        import_service.import_file(databases, force, "people", path, "bench-import")
        databases.dispose()
        with psycopg.connect(superuser(DATABASE), autocommit=True) as conn:
            for statement in BACKGROUND:
                conn.execute(statement, {"force": force.id, "people": people})
            conn.execute("VACUUM ANALYZE")
        print(f"loaded {people} people and their records in {time.perf_counter() - started:.0f} s", flush=True)
    return settings


def _with_dedicated(database: str) -> list[str]:
    """The pool's database and each dedicated force's beside it (bench_support.database's names)."""
    from app.tenancy import config as tenancy_config
    return [database] + [f"{database}_{t.slug}" for t in tenancy_config.load(ROOT / "tenants").dedicated()]


def clone(source: str, target: str) -> None:
    """`target` (and its dedicated forces' databases) as a copy of `source`'s."""
    drop(target)
    with psycopg.connect(superuser("postgres"), autocommit=True) as conn:
        for name, copy in zip(_with_dedicated(source), _with_dedicated(target), strict=True):
            conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}" OWNER concord_owner')


def drop(target: str) -> None:
    with psycopg.connect(superuser("postgres"), autocommit=True) as conn:
        for name in _with_dedicated(target):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Api:
    """The Flask test client acting as one user of northshire."""

    def __init__(self, app: Any, token: str):
        self.client, self.headers = app.test_client(), {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        response = getattr(self.client, method)(path, headers=headers, **kw)
        if response.status_code not in expect:
            raise RuntimeError(f"{method.upper()} {path}: HTTP {response.status_code} {response.get_json()}")
        return response

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        return self.call("post", path, json=json, **kw).get_json()

    def moved(self, path: str, action: str, body: dict[str, Any]) -> None:
        etag = self.call("get", path).headers["ETag"]
        self.call("post", f"{path}/{action}", json=body, headers={"If-Match": etag})


def person(api: Api, tag: str) -> dict[str, Any]:
    return api.post("/api/v1/people?confirm_new=true", {"surname": f"Disposal{tag}{uuid.uuid4().hex[:6]}",
                                                        "forenames": "Jo", "sex": "female",
                                                        "date_of_birth": "1970-04-05"})


def make_records(users: dict[str, Api], count: int, conn: Any, force_id: uuid.UUID) -> list[tuple[str, str]]:
    """`count` new records in four equal parts, as their users make them, and what else goes on the list (the
    crimes' suspects); (record_type, id) of each."""
    pc, analyst, sergeant = users["investigator"], users["intelligence_analyst"], users["custody_officer"]
    items: list[tuple[str, str]] = []
    places = [r[0] for r in conn.execute("SELECT id FROM location WHERE tenant_id = %s LIMIT %s",
                                         (force_id, count))]
    kept_crimes = [r[0] for r in conn.execute("SELECT id FROM investigation WHERE tenant_id = %s AND reference "
                                              "LIKE 'BENCH/%%' LIMIT %s", (force_id, count))]
    quarter = max(1, count // 4)
    for n in range(quarter):
        someone = person(pc, "P")
        pc.post("/api/v1/links", {"from": {"type": "person", "id": someone["id"]},
                                  "to": {"type": "location", "id": str(places[n % len(places)])},
                                  "link_type": "resides_at"})
        pc.call("post", "/api/v1/documents", content_type="multipart/form-data", data={
            "record_type": "person", "record_id": someone["id"],
            "file": (io.BytesIO(f"statement {uuid.uuid4()}".encode()), "statement.txt")})
        if n % 10 == 0:  # charged in a crime the force keeps: still referred to, so refused
            conn.execute("INSERT INTO investigation_entry (tenant_id, id, investigation_id, kind, text, person_id, "
                         "recorded_by) VALUES (%s, gen_random_uuid(), %s, 'charge', 'Theft', %s, 'pc-bench')",
                         (force_id, kept_crimes[n % len(kept_crimes)], someone["id"]))
        items.append(("person", someone["id"]))
    for _ in range(quarter):
        suspect, victim = person(pc, "S"), person(pc, "V")
        crime = pc.post("/api/v1/investigations", {
            "primary_classification": "46/1", "occurred_at": (NOW - 48 * H).isoformat(),
            "summary": f"Shoplifting {uuid.uuid4()}",
            "people": [{"person_id": suspect["id"], "role": "suspect"}, {"person_id": victim["id"], "role": "victim"}]})
        path = f"/api/v1/investigations/{crime['id']}"
        pc.post(f"{path}/entries", {"kind": "charge", "text": "Theft from a shop, contrary to s.1 Theft Act 1968",
                                    "person_id": suspect["id"]})
        pc.post(f"{path}/entries", {"kind": "log", "text": "CCTV seized"})
        for action, body in (("qa", {}), ("allocate", {"officer_in_charge": "pc-bench"}), ("acknowledge", {}),
                             ("finalise", {"outcome_type": 1})):
            pc.moved(path, action, body)
        pc.post("/api/v1/cases", {"investigation_id": crime["id"]})
        items += [("investigation", crime["id"]), ("person", suspect["id"])]
    for _ in range(quarter):
        subject = person(pc, "I")
        report = users["officer"].post("/api/v1/intelligence/reports", {
            "unsanitised_text": f"CHIS {uuid.uuid4().hex[:4]} says J. Doe deals from 3 Mill Lane at night",
            "source_evaluation": 2, "intelligence_assessment": "B", "handling_code": "P"})
        analyst.post(f"/api/v1/intelligence/reports/{report['id']}/assess", {
            "decision": "accept", "sanitised_text": "A named male is dealing drugs from a flat on Mill Lane",
            "sanitised_source_evaluation": 2, "sanitised_assessment": "B", "sanitised_handling_code": "P",
            "mopi_group": 3})
        analyst.post(f"/api/v1/intelligence/reports/{report['id']}/links",
                     {"entities": [{"type": "person", "id": subject["id"]}], "go_live": True})
        items.append(("intelligence", report["id"]))
    for _ in range(count - 3 * quarter):
        arrived = NOW - 30 * H
        booked = sergeant.post("/api/v1/custody/records", {
            "suite": "NTH", "person": {"surname": f"Detained{uuid.uuid4().hex[:6]}", "forenames": "Sam",
                                       "sex": "male", "date_of_birth": "1980-05-05"},
            "confirm_new": True, "arrested_at": (arrived - H).isoformat(), "arrest_place": "High Street",
            "arresting_officer": "PC 101", "arrived_at": arrived.isoformat(), "authorised_at": arrived.isoformat(),
            "authorised_by": "PS 12", "grounds": "to secure and preserve evidence",
            "offences": [{"code": "28/1", "wording": "Burglary of a dwelling", "indictable": True}]})
        path = f"/api/v1/custody/records/{booked['id']}"
        sergeant.post(f"{path}/entries", {"kind": "rights_given", "occurred_at": (arrived + H / 2).isoformat(),
                                          "data": {"written_notice": True}})
        sergeant.moved(path, "release", {"released_at": (arrived + 6 * H).isoformat(),
                                         "outcome": "bailed_without_charge"})
        items.append(("custody", booked["id"]))
    return items


class Statements:
    """How many SQL statements this process sent, through SQLAlchemy or to the driver directly (each row of an
    executemany counted)."""

    count = 0

    @classmethod
    def listen(cls) -> None:
        for name in ("execute", "executemany"):
            original = getattr(psycopg.Cursor, name)
            setattr(psycopg.Cursor, name, cls._counting(original, name == "executemany"))

    @classmethod
    def _counting(cls, original: Any, many: bool) -> Any:
        def execute(cursor: Any, query: Any, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            cls.count += len(params) if many and isinstance(params, list) else 1
            return original(cursor, query, params, *args, **kwargs)
        return execute


def measure(database: str, records: int) -> dict[str, Any]:
    """Make `records` records in the copy `database`, review them for disposal, list, approve and execute the list;
    the seconds and statements of each phase and the outcomes."""
    from app import create_app, embedded
    from app.auth import dev_idp
    from app.config import Settings

    embedded.start(ROOT / "var")
    settings = Settings(environment="development", database_url=embedded.runtime_url(database),
                        var_dir=BENCH, tenants_dir=ROOT / "tenants", rate_limits=False, log_level="WARNING")
    app = create_app(settings)
    services = app.extensions["concord"]
    force = services.registry.by_slug(SLUG)
    keys = dev_idp.KeyStore(settings.var_dir / "dev-idp")
    users = {role: Api(app, dev_idp.issue_token(keys, force, user, [role], lifetime=8 * 3600))
             for role, user in (("investigator", "pc-bench"), ("intelligence_analyst", "ia-bench"),
                                ("officer", "pc-author"), ("custody_officer", "ps-bench"),
                                ("retention_reviewer", "rr-bench"), ("disposal_approver", "da-bench"))}
    with psycopg.connect(superuser(database), autocommit=True) as conn:
        items = make_records(users, records, conn, force.id)
        conn.execute("ANALYZE")
    reviewer, approver = users["retention_reviewer"], users["disposal_approver"]
    Statements.listen()
    phases: dict[str, tuple[float, int]] = {}

    def timed(name: str, work: Any) -> Any:
        before, started = Statements.count, time.perf_counter()
        result = work()
        phases[name] = (time.perf_counter() - started, Statements.count - before)
        return result

    timed("review", lambda: [reviewer.post("/api/v1/retention/reviews", {
        "record_type": t, "record_id": i, "decision": "dispose", "rationale": "No policing purpose remains"})
        for t, i in items])

    def listed() -> dict[str, Any]:
        proposed = reviewer.post("/api/v1/retention/disposal-lists",
                                 {"items": [{"record_type": t, "record_id": i} for t, i in items]})
        approver.post(f"/api/v1/retention/disposal-lists/{proposed['id']}/approval",
                      {"items_hash": proposed["items_hash"]})
        return proposed

    proposed = timed("list", listed)
    executed = timed("execute", lambda: reviewer.post(f"/api/v1/retention/disposal-lists/{proposed['id']}/execution"))
    outcomes = executed["outcomes"]
    services.databases.dispose()
    refused = sorted({o["reason"].split(" still refers")[0] for o in outcomes if not o["disposed"]})
    return {"items": len(items), "types": {t: sum(1 for i in items if i[0] == t) for t in dict(items)},
            "disposed": sum(o["disposed"] for o in outcomes), "refused": refused,
            "phases": {name: {"seconds": s, "statements": n} for name, (s, n) in phases.items()}}


def export(revision: str) -> tuple[Path, str]:
    """REV's app/ and migrations/ under var/bench/ (git archive: nothing in the repository changes); its head."""
    commit = subprocess.check_output(["git", "rev-parse", "--short", revision], cwd=ROOT, text=True).strip()
    target = BENCH / f"retention-code-{commit}"
    if not target.exists():
        archive = subprocess.check_output(["git", "archive", commit, "app", "migrations"], cwd=ROOT)
        target.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    cfg = Config()
    cfg.set_main_option("script_location", str(target / "migrations"))
    [head] = ScriptDirectory.from_config(cfg).get_heads()
    return target, head


def downgrade(settings: Any, database: str, revision: str) -> None:
    """The copy's schemas back to `revision` (this checkout's migrations undo what came after)."""
    from alembic import command
    from sqlalchemy import create_engine, make_url

    from app import embedded, migrate
    for name in _with_dedicated(database):
        engine = create_engine(settings.owner_url(make_url(embedded.runtime_url(name))))
        with engine.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes.update(connection=conn, runtime_role=embedded.RUNTIME_ROLE)
            command.downgrade(cfg, revision)
        engine.dispose()


def run(code: Path | None, database: str, records: int) -> dict[str, Any]:
    """One measurement in a process of its own (so that another revision's code can be imported)."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--measure", database, "--records", str(records)]
    out = subprocess.run(argv + (["--code", str(code)] if code else []), check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def table(results: dict[str, dict[str, Any]]) -> None:
    names = list(results)
    print("| phase | " + " | ".join(f"{n}: s | {n}: ms/record | {n}: statements" for n in names) + " |")
    print("|---|" + "---|---|---|" * len(names))
    for phase in ("review", "list", "execute"):
        cells = []
        for name in names:
            measured = results[name]["phases"][phase]
            cells += [f"{measured['seconds']:.2f}", f"{measured['seconds'] * 1000 / results[name]['items']:.1f}",
                      f"{measured['statements']:,}"]
        print(f"| {phase} | " + " | ".join(cells) + " |")
    for name, result in results.items():
        print(f"{name}: {result['items']} records listed ({result['types']}), {result['disposed']} disposed of; "
              f"refused: {result['refused']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100000)
    parser.add_argument("--records", type=int, default=200, help="records made for the list (people, crimes, "
                        "reports, custody records in equal parts; the crimes' suspects are listed too)")
    parser.add_argument("--reload", action="store_true")
    parser.add_argument("--before", metavar="REV", help="also measure this revision's code, on an identical copy")
    parser.add_argument("--measure", metavar="DATABASE", help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.records)))
        return
    from app import embedded

    settings = prepare(args.people, args.reload)
    results: dict[str, dict[str, Any]] = {}
    try:
        if args.before:
            code, head = export(args.before)
            clone(DATABASE, f"{DATABASE}_run")
            downgrade(settings, f"{DATABASE}_run", head)
            results[f"before ({args.before})"] = run(code, f"{DATABASE}_run", args.records)
        clone(DATABASE, f"{DATABASE}_run")
        results["after" if args.before else "this checkout"] = run(None, f"{DATABASE}_run", args.records)
    finally:
        drop(f"{DATABASE}_run")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.1f}; {args.people} people in {SLUG} and their records")
    table(results)
    embedded.stop()


if __name__ == "__main__":
    main()
