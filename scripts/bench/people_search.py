"""Benchmark: person search over 1,000,000 people in the four demo forces, and the bulk import that loads them.

1. Generates 250,000 people per force (scripts/generate_people.py: UK name frequencies, nicknames, aliases,
   hyphenated names, approximate dates of birth) and loads each force with the bulk import, timing it.
2. Serves Concord with gunicorn and runs officer-style queries (one typo, a nickname, a transposed date,
   a year only, an alias, names in reverse order, exact) against northshire through the API with 1 and
   with 8 concurrent clients: p50/p95 latency.
3. From the same answers: recall@5 (the intended person is in the top five), precision@5 (the share of
   the top-five results that are the intended person: at most 20 % when one record is meant), top-1
   (the intended person first) and mean reciprocal rank, overall and per kind of query.
4. Name-only searches (no date of birth) for the commonest names, which read the most keys.

Targets (issue 3): p95 <= 50 ms with 1 client and <= 150 ms with 8; import >= 50,000 people/s;
recall@5 >= 95 %.

    .venv/bin/python scripts/bench/people_search.py [--per-force 250000] [--queries 1400] [--workers 4]

Data is generated and loaded once into the concord_search_bench databases under var/ (kept for re-runs;
--reload starts again).
"""
from __future__ import annotations

import argparse
import collections
import csv
import http.client
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import psycopg  # noqa: E402

import bench_support  # noqa: E402
import generate_people  # noqa: E402
from app import embedded  # noqa: E402
from app.auth import dev_idp  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import Databases  # noqa: E402
from app.pole import import_service, importer  # noqa: E402
from app.tenancy import config as tenancy_config  # noqa: E402

DATABASE = "concord_search_bench"
FORCES = ("northshire", "southshire", "westshire", "lakeshire")
PORT = 5602
GEN = ROOT / "var" / "bench" / "people"
HEADERS_EXTRA: dict[str, str] = {}  # more request headers (scripts/bench/sharing.py states a purpose)


def prepare(per_force: int, reload: bool) -> tuple[Settings, tenancy_config.PlatformConfig, dict[str, float]]:
    settings, platform_config = bench_support.database(DATABASE, reload)
    rates: dict[str, float] = {}
    databases = Databases(settings)
    GEN.mkdir(parents=True, exist_ok=True)
    for seed, slug in enumerate(FORCES, start=1):
        tenant = platform_config.tenants[slug]
        database = f"{DATABASE}_{slug}" if tenant.dedicated else DATABASE
        with psycopg.connect(f"postgresql://postgres@/{database}?host={embedded.socket_dir()}") as conn:
            have = conn.execute("SELECT count(*) FROM person WHERE tenant_id = %s", (tenant.id,)).fetchone()[0]
        if have >= per_force:
            continue
        path = GEN / f"{slug}.csv"
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, generate_people.COLUMNS)
            writer.writeheader()
            writer.writerows(generate_people.people(per_force, seed))
        report = import_service.import_file(databases, tenant, "people", path, "bench-import")
        rates[slug] = report.rate
        print(f"import {slug}: {report.rows} rows in {report.seconds:.1f} s = {report.rate:,.0f} people/s "
              f"({len(report.bad)} bad)", flush=True)
    databases.dispose()
    for name in [DATABASE] + [f"{DATABASE}_{t.slug}" for t in platform_config.dedicated()]:
        with psycopg.connect(f"postgresql://postgres@/{name}?host={embedded.socket_dir()}", autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    return settings, platform_config, rates


def queries(count: int) -> list[dict[str, str]]:
    path = GEN / "queries.json"
    if path.exists():
        cached = json.loads(path.read_text())
        if len(cached) == count:
            return cached
    with (GEN / "northshire.csv").open() as f:
        rows = list(csv.DictReader(f))
    made = generate_people.queries(rows, count, seed=99)
    path.write_text(json.dumps(made))
    return made


def start(settings: Settings, workers: int):
    return bench_support.serve("app.wsgi:app", PORT, workers, {
        "DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
        "CONCORD_LOG_LEVEL": "WARNING"})


def _ask(args: tuple[str, list[dict[str, str]]]) -> list[tuple[float, dict[str, str], list[str]]]:
    token, batch = args
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    out = []
    for query in batch:
        fields = {"name": query["name"], "date_of_birth": query["date_of_birth"], "limit": 5}
        params = urllib.parse.urlencode({k: v for k, v in fields.items() if v})
        start = time.perf_counter()
        conn.request("GET", f"/api/v1/people/search?{params}",
                     headers={"Authorization": f"Bearer {token}", **HEADERS_EXTRA})
        response = conn.getresponse()
        body = json.loads(response.read())
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body}")
        out.append((elapsed, query, [item["id"] for item in body["items"]]))
    return out


def run(token: str, items: list[dict[str, str]], clients: int) -> tuple[list[tuple], float]:
    batches = [(token, items[i::clients]) for i in range(clients)]
    start = time.perf_counter()
    with multiprocessing.Pool(clients) as pool:
        answers = [a for batch in pool.map(_ask, batches) for a in batch]
    return answers, time.perf_counter() - start


COMMON_NAMES = ("John Smith", "David Jones", "Sarah Williams", "Michael Brown", "Smith")


def _quality(values: list[tuple[float, float, float, float]]) -> str:
    recall, precision, top1, mrr = (100 * statistics.mean(v[i] for v in values) for i in range(4))
    return f"recall@5 {recall:5.1f} %  precision@5 {precision:4.1f} %  top-1 {top1:5.1f} %  MRR {mrr / 100:.3f}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-force", type=int, default=250_000)
    parser.add_argument("--queries", type=int, default=1400)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()

    settings, platform_config, rates = prepare(args.per_force, args.reload)
    north = platform_config.tenants["northshire"]
    items = queries(args.queries)
    expected_ids = {q["expected"]: str(importer.row_id(north.id, "person", {"source_ref": q["expected"]}))
                    for q in items}
    token = dev_idp.issue_token(dev_idp.KeyStore(settings.var_dir / "dev-idp"), north, "bench", ["investigator"],
                                lifetime=8 * 3600)
    proc = start(settings, args.workers)
    try:
        _ask((token, items[:50]))  # warm every worker
        single, _ = run(token, items, 1)
        eight, seconds = run(token, items, 8)
        common = [{"kind": "name_only", "expected": items[0]["expected"], "name": name, "date_of_birth": ""}
                  for name in COMMON_NAMES]
        name_only = _ask((token, common * 5))
    finally:
        proc.terminate()
        proc.wait()

    print(f"\n{len(items)} queries against northshire ({args.per_force:,} people per force, "
          f"{args.per_force * len(FORCES):,} in all); gunicorn, {args.workers} sync workers")
    for label, answers in (("1 client", single), ("8 clients", eight)):
        latencies = [a[0] for a in answers]
        print(f"{label:10s} p50 {percentile(latencies, 0.5):6.1f} ms  p95 {percentile(latencies, 0.95):6.1f} ms  "
              f"max {max(latencies) * 1000:6.1f} ms")
    print(f"8 clients: {len(eight) / seconds:.0f} searches/s")
    latencies = [a[0] for a in name_only]
    print(f"name only, commonest names ({', '.join(COMMON_NAMES)}), 1 client: "
          f"p50 {percentile(latencies, 0.5):.1f} ms  p95 {percentile(latencies, 0.95):.1f} ms")

    by_kind: dict[str, list[tuple[float, float, float, float]]] = collections.defaultdict(list)
    for _, query, ids in single:
        intended = expected_ids[query["expected"]]
        top = ids[:5]
        rank = top.index(intended) + 1 if intended in top else 0
        by_kind[query["kind"]].append((float(rank > 0), top.count(intended) / len(top) if top else 0.0,
                                       float(rank == 1), 1 / rank if rank else 0.0))
    every = [x for values in by_kind.values() for x in values]
    print(f"\nall       {_quality(every)}")
    for kind, values in sorted(by_kind.items()):
        print(f"  {kind:16s} {_quality(values)}  ({len(values)} queries)")
        misses = [q for _, q, ids in single if q["kind"] == kind and expected_ids[q["expected"]] not in ids[:5]]
        for q in misses[:3]:
            print(f"      missed: {q['name']!r} {q['date_of_birth']}")
    if rates:
        print(f"\nimport: {statistics.mean(rates.values()):,.0f} people/s (mean of {len(rates)} forces)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    embedded.stop()


if __name__ == "__main__":
    main()
