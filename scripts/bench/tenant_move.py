"""Benchmark: `concord tenants move` of a force pooled -> dedicated -> pooled, timed per phase (maintenance, copy,
verify, switch, catch-up, remove) with rows/s, and what another force saw meanwhile: the p95 of its
GET /api/v1/people/{id} during each move against the same before it.

The bench database concord_move (the embedded server) holds the demo forces and moveshire, a generated pooled
force (a copy of westshire). moveshire gets --people people through the bulk import (their search keys too), one
link between people per person, a custody record with 5 entries per 10 people, 2 audit events per person and a
4 KiB document (object and row) per 100 people; northshire gets 5,000 people for the reader. The rows other than
people are written by SQL as the superuser: this measures the move, not the services that would make them.

Concord is served by gunicorn on 127.0.0.1:8612; one reader process GETs random northshire people, one request
at a time, from --before seconds before the first move until the second has ended; each latency is kept with its
time, and the windows are cut afterwards. The moves run in this process through the service the CLI calls
(app/lifecycle/service.py), --settle-seconds 0: the servers' registry wait (CONCORD_REGISTRY_TTL, 30 s by default)
is not part of the work measured. moveshire's documents live in a folder per force whichever its database, so the
move verifies every object's SHA-256 in place and copies none.

    .venv/bin/python scripts/bench/tenant_move.py [--people 20000] [--before 15] [--workers 2] [--reload]

Data is loaded once (kept for re-runs; --reload starts again).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import http.client
import multiprocessing
import os
import platform
import random
import re
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import psycopg  # noqa: E402

import bench_support  # noqa: E402
import generate_people  # noqa: E402
from app import embedded  # noqa: E402
from app.auth import dev_idp  # noqa: E402
from app.db import Databases  # noqa: E402
from app.documents import storage as storage_backends  # noqa: E402
from app.lifecycle import service  # noqa: E402
from app.lifecycle.operations import Run  # noqa: E402
from app.pole import import_service  # noqa: E402
from people_search import percentile  # noqa: E402

PORT = 8612
DATABASE = "concord_move"
SLUG = "moveshire"
BENCH = ROOT / "var" / "bench"
TENANTS = BENCH / "tenants-move"


def superuser() -> str:
    return f"postgresql://postgres@/{DATABASE}?host={embedded.socket_dir()}"


def tenants_dir() -> Path:
    """The demo forces and moveshire (pooled)."""
    if TENANTS.exists():
        shutil.rmtree(TENANTS)
    shutil.copytree(ROOT / "tenants", TENANTS)
    text = (ROOT / "tenants" / "westshire.toml").read_text().replace("westshire", SLUG)
    text = text.replace("Westshire", "Moveshire")
    (TENANTS / f"{SLUG}.toml").write_text(re.sub(r'force_code = "\d+"', 'force_code = "89"', text))
    return TENANTS


def import_people(databases: Databases, tenant: Any, count: int, seed: int) -> None:
    path = BENCH / "move" / f"{tenant.slug}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, generate_people.COLUMNS)
        writer.writeheader()
        writer.writerows(generate_people.people(count, seed))
    import_service.import_file(databases, tenant, "people", path, "bench-import")


RECORDS = ["""
    WITH people AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM person WHERE tenant_id = %(force)s)
    INSERT INTO pole_link (tenant_id, id, from_type, from_id, to_type, to_id, link_type, created_by, updated_by)
    SELECT %(force)s, gen_random_uuid(), 'person', a.id, 'person', b.id, 'associate_of', 'bench', 'bench'
    FROM people a JOIN people b ON b.n = a.n %% %(people)s + 1
""", """
    INSERT INTO custody_record (tenant_id, id, custody_number, suite, person_id, arrested_at, arrest_place,
                                arresting_officer, offences, arrived_at, released_at, outcome, created_by, updated_by)
    SELECT %(force)s, gen_random_uuid(), 'MV/' || n, 'WST', id, now() - interval '2 days', 'High Street',
           'pc-' || n %% 50, '[{"offence": "theft"}]', now() - interval '47 hours', now() - interval '40 hours',
           'released', 'bench', 'bench'
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM person WHERE tenant_id = %(force)s) p
    WHERE n %% 10 = 0
""", """
    INSERT INTO custody_entry (tenant_id, id, record_id, kind, occurred_at, recorded_by, data)
    SELECT %(force)s, gen_random_uuid(), r.id, 'note', r.arrived_at + k * interval '1 hour', 'ps-1',
           jsonb_build_object('text', 'check ' || k)
    FROM custody_record r, generate_series(1, 5) k WHERE r.tenant_id = %(force)s
""", """
    INSERT INTO audit_event (tenant_id, id, user_id, action, record_type, record_id, purpose)
    SELECT %(force)s, gen_random_uuid(), 'pc-' || k, 'consultation', 'person', id::text, 'bench'
    FROM person, generate_series(1, 2) k WHERE tenant_id = %(force)s
"""]


def prepare(people: int, reload: bool) -> tuple[Any, Any, list[str]]:
    """The bench database with moveshire (pooled, loaded) and northshire's people; northshire's ids."""
    settings, config = bench_support.database(DATABASE, reload, tenants_dir())
    if reload:
        embedded.drop_database(f"{DATABASE}_{SLUG}")
    embedded.bootstrap([f"{DATABASE}_{SLUG}"])  # provisioning creates a dedicated force's database
    mover, north = config.tenants[SLUG], config.tenants["northshire"]
    with psycopg.connect(superuser(), autocommit=True) as conn:
        deployment, running = conn.execute(
            "SELECT deployment, EXISTS (SELECT 1 FROM tenant_operation WHERE slug = %s AND status = 'running') "
            "FROM tenant WHERE slug = %s", (SLUG, SLUG)).fetchone()
        if deployment != "pooled" or running:
            raise SystemExit(f"{SLUG} is {deployment}{' with a move under way' if running else ''}: run with --reload")
        have = conn.execute("SELECT count(*) FROM person WHERE tenant_id = %s", (mover.id,)).fetchone()[0]
    started = time.perf_counter()
    if have < people:
        databases = Databases(settings)
        import_people(databases, mover, people - have, seed=7)
        import_people(databases, north, 5000, seed=8)
        databases.dispose()
        with psycopg.connect(superuser(), autocommit=True) as conn:
            for statement in RECORDS:
                conn.execute(statement, {"force": mover.id, "people": people})
            store = storage_backends.for_tenant(mover, settings.var_dir)
            rng = random.Random(1)
            rows = []
            for (person_id,) in conn.execute("SELECT id FROM person WHERE tenant_id = %s ORDER BY id LIMIT %s",
                                             (mover.id, max(1, people // 100))).fetchall():
                content = rng.randbytes(4096)
                digest = hashlib.sha256(content).hexdigest()
                key = f"sha256/{digest[:2]}/{digest}"
                store.put(key, content, "application/octet-stream")
                rows.append((mover.id, person_id, digest, key))
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO document (tenant_id, id, record_type, record_id, filename, media_type, "
                                "size, sha256, storage_key, created_by) VALUES (%s, gen_random_uuid(), 'person', %s, "
                                "'statement.bin', 'application/octet-stream', 4096, %s, %s, 'bench')", rows)
            conn.execute("VACUUM ANALYZE")
        print(f"loaded {people} people and their records in {time.perf_counter() - started:.0f} s", flush=True)
    with psycopg.connect(superuser()) as conn:
        ids = [str(r[0]) for r in conn.execute("SELECT id FROM person WHERE tenant_id = %s LIMIT 2000", (north.id,))]
    return settings, config, ids


def reader(ids: list[str], token: str, stop: Any, out: Any) -> None:
    """GET random people of northshire one at a time until told to stop; (time, seconds, status) of each."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    rng = random.Random(3)
    seen = []
    while not stop.is_set():
        started = time.time()
        conn.request("GET", f"/api/v1/people/{rng.choice(ids)}", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        seen.append((started, time.time() - started, response.status))
    out.put(seen)


def window(seen: list[tuple[float, float, int]], start: float, end: float) -> dict[str, Any]:
    inside = [(latency, status) for at, latency, status in seen if start <= at < end]
    latencies = [latency for latency, _ in inside]
    return {"n": len(inside), "p50": statistics.median(latencies) * 1000 if latencies else 0.0,
            "p95": percentile(latencies, 0.95) if latencies else 0.0,
            "errors": sum(1 for _, status in inside if status != 200)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--before", type=float, default=15, help="seconds of the reader measured before the moves")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    settings, config, ids = prepare(args.people, args.reload)
    token = dev_idp.issue_token(dev_idp.KeyStore(settings.var_dir / "dev-idp"), config.tenants["northshire"], "bench",
                                ["investigator"], lifetime=8 * 3600)
    proc = bench_support.serve("app.wsgi:app", PORT, args.workers, {
        "DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
        "CONCORD_TENANTS_DIR": str(TENANTS), "CONCORD_LOG_LEVEL": "WARNING", "CONCORD_RATE_LIMITS": "0"})
    stop, out = multiprocessing.Event(), multiprocessing.Queue()
    reading = multiprocessing.Process(target=reader, args=(ids, token, stop, out))
    moves = []
    try:
        reading.start()
        time.sleep(2)  # the reader's first requests warm the workers: not counted
        before_from = time.time()
        time.sleep(args.before)
        for target in ("dedicated", "pooled"):
            started = time.time()
            report = service.move(run=Run(settings, operator="bench", settle_seconds=0), slug=SLUG, to=target)
            moves.append((target, started, time.time(), report))
        stop.set()
        seen = out.get(timeout=60)
        reading.join()
    finally:
        stop.set()
        proc.terminate()
        proc.wait()
    before = window(seen, before_from, moves[0][1])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.1f}; {args.people} people in {SLUG}; {args.workers} gunicorn workers")
    print(f"northshire GET /api/v1/people/{{id}} before the moves: p50 {before['p50']:.1f} ms, "
          f"p95 {before['p95']:.1f} ms ({before['n']} requests, {before['errors']} not 200)")
    for target, started, ended, report in moves:
        rows = sum(report.rows.values())
        phases = ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in report.seconds.items())
        during = window(seen, started, ended)
        rest = ended - started - sum(report.seconds.values())
        print(f"{report.source} -> {target}: {rows} rows in {len(report.rows)} tables, {report.objects} objects; "
              f"{ended - started:.1f} s in all ({phases}, between them {rest:.2f} s); "
              f"copy {rows / report.seconds['copy']:,.0f} rows/s, "
              f"verify {rows / report.seconds['verify']:,.0f} rows/s")
        paused = sum(report.seconds[phase] for phase in ("maintenance", "copy", "verify", "switch", "catch_up"))
        print(f"  {SLUG}'s writes paused (maintenance to catch-up) {paused:.1f} s")
        print(f"  northshire during it: p50 {during['p50']:.1f} ms, p95 {during['p95']:.1f} ms ({during['n']} "
              f"requests, {during['errors']} not 200; p95 {during['p95'] / before['p95'] - 1:+.0%} on before)")
        largest = sorted(report.rows.items(), key=lambda item: -item[1])[:6]
        print("  largest tables: " + ", ".join(f"{name} {count}" for name, count in largest))
    embedded.stop()


if __name__ == "__main__":
    main()
