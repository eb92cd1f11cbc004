"""Benchmark: search and reads across forces, with the three pooled forces sharing everything with each other,
beside the same data with no agreements.

Uses the data of scripts/bench/people_search.py (250,000 people in each demo force; loaded on first use).
Every request states a purpose (X-Purpose), so "own only" pays for looking up grants that are not there,
just as "own + shared" does for the ones that are.

  own only        search p50/p95 with no agreement active
  own + shared    the same queries once northshire, southshire and westshire each share people with the
                  other two (collaboration tri-shire, approved by the provider and the collaboration admin);
                  the two alternate for --rounds rounds and each side's figures pool its rounds
  two pooled      (issue 17) southshire and westshire each share people with northshire alone (pooled only)
  one dedicated   (issue 17) southshire and lakeshire (dedicated: its own database) share people with northshire:
                  the search runs in the pool and in lakeshire's database, through each one's policies, and the
                  results are merged into one ranking; same number of providers as "two pooled". Twice: with the
                  databases searched at once (a thread each, CONCORD_SEARCH_THREADS=4, the default) and one after
                  another (CONCORD_SEARCH_THREADS=0, as before), the server restarted between the two
  reads           GET /api/v1/people/{id} of northshire's own people against southshire's shared people, and
                  against lakeshire's (read in lakeshire's database after a miss in the pool)

Targets (issue 4): own + shared search p95 <= 1.5x own-only; a shared read <= 1.2x an own read.

    .venv/bin/python scripts/bench/sharing.py [--per-force 250000] [--queries 700] [--rounds 3] [--reads 1000]
                                              [--workers 4] [--port 8611]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import psycopg  # noqa: E402

import people_search  # noqa: E402
from app import embedded  # noqa: E402
from app.auth import dev_idp  # noqa: E402

POOLED = ("northshire", "southshire", "westshire")
DEDICATED = "lakeshire"
HEADERS = {"X-Purpose": "benchmark: cross-force search"}
PARALLEL = 4  # CONCORD_SEARCH_THREADS of the server measured, but for the one-after-another phase (0)


def call(method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", people_search.PORT, timeout=30)
    headers = {"Authorization": f"Bearer {token}", **HEADERS}
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def timed_reads(token: str, ids: list[str]) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", people_search.PORT, timeout=30)
    out = []
    for person_id in ids:
        start = time.perf_counter()
        conn.request("GET", f"/api/v1/people/{person_id}", headers={"Authorization": f"Bearer {token}", **HEADERS})
        response = conn.getresponse()
        response.read()
        out.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"read {person_id}: HTTP {response.status}")
    return out


def revoke_all(tokens: dict[str, str]) -> None:
    for slug in (*POOLED, DEDICATED):
        status, body = call("GET", "/api/v1/sharing/agreements", tokens[f"{slug}-admin"])
        for agreement in body.get("items", []):
            if agreement["provider"] == slug and agreement["status"] in ("proposed", "active", "suspended"):
                call("POST", f"/api/v1/sharing/agreements/{agreement['id']}/revoke", tokens[f"{slug}-admin"],
                     {"reason": "benchmark reset"})


def share_with_northshire(tokens: dict[str, str], providers: tuple[str, ...]) -> None:
    """Each provider shares people with northshire alone, approved by its force_admin."""
    for slug in providers:
        status, agreement = call("POST", "/api/v1/sharing/agreements", tokens[f"{slug}-admin"], {
            "consumer_force": "northshire", "record_types": ["person"], "max_classification": "OFFICIAL",
            "purpose": "benchmark", "lawful_basis": "benchmark"})
        assert status == 201, agreement
        status, body = call("POST", f"/api/v1/sharing/agreements/{agreement['id']}/approve",
                            tokens[f"{slug}-admin"], {"reason": "benchmark"})
        assert status == 200, body


def share_everything(tokens: dict[str, str]) -> None:
    for slug in POOLED:
        status, agreement = call("POST", "/api/v1/sharing/agreements", tokens[f"{slug}-admin"], {
            "consumer_collaboration": "tri-shire", "record_types": ["person"], "max_classification": "OFFICIAL",
            "purpose": "benchmark", "lawful_basis": "benchmark"})
        assert status == 201, agreement
        for actor in (f"{slug}-admin", "collab"):
            status, body = call("POST", f"/api/v1/sharing/agreements/{agreement['id']}/approve", tokens[actor],
                                {"reason": "benchmark"})
            assert status == 200, body


def ms(values: list[float], share: float) -> float:
    return people_search.percentile(values, share)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-force", type=int, default=250_000, help="people in each force")
    parser.add_argument("--queries", type=int, default=700)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="own-only and shared phases, alternated")
    parser.add_argument("--port", type=int, default=people_search.PORT, help="the bench server's port")
    args = parser.parse_args()
    people_search.PORT = args.port  # read by every request this script and people_search make

    settings, platform_config, _ = people_search.prepare(args.per_force, reload=False)
    keys = dev_idp.KeyStore(settings.var_dir / "dev-idp")
    tokens = {}
    for slug in (*POOLED, DEDICATED):
        tenant = platform_config.tenants[slug]
        tokens[slug] = dev_idp.issue_token(keys, tenant, "bench", ["investigator"], lifetime=43200)
        tokens[f"{slug}-admin"] = dev_idp.issue_token(keys, tenant, f"{slug}-admin", ["force_admin"], lifetime=43200)
    tokens["collab"] = dev_idp.issue_token(keys, platform_config.tenants["northshire"], "collab-admin-1",
                                           ["collaboration_admin"], lifetime=43200)
    items = people_search.queries(args.queries)
    def sample(database: str, slug: str) -> list[str]:
        with psycopg.connect(f"postgresql://postgres@/{database}?host={embedded.socket_dir()}") as conn:
            rows = conn.execute("SELECT id FROM person WHERE tenant_id = %s LIMIT 5000",
                                (platform_config.tenants[slug].id,)).fetchall()
        return [str(r[0]) for r in random.Random(slug).sample(rows, args.reads)]

    own_ids, shared_ids = sample(people_search.DATABASE, "northshire"), sample(people_search.DATABASE, "southshire")
    dedicated_ids = sample(f"{people_search.DATABASE}_{DEDICATED}", DEDICATED)

    os.environ["CONCORD_RATE_LIMITS"] = "0"  # thousands of requests a minute by one user: latency, not limits

    def serve(search_threads: int):
        os.environ["CONCORD_SEARCH_THREADS"] = str(search_threads)
        return people_search.start(settings, args.workers)

    def stop(server) -> None:
        server.terminate()
        server.wait()

    proc = serve(PARALLEL)
    own_search: list[tuple] = []
    shared_search: list[tuple] = []
    pooled_pair: list[tuple] = []
    dedicated_pair: list[tuple] = []
    dedicated_sequential: list[tuple] = []
    try:
        people_search.HEADERS_EXTRA.update(HEADERS)
        # Own-only and shared searches alternate, round by round, so that drift in the shared machine's
        # speed falls on both sides alike instead of on whichever ran second.
        for _ in range(args.rounds):
            revoke_all(tokens)
            people_search._ask((tokens["northshire"], items[:50]))
            own_search += people_search.run(tokens["northshire"], items, 1)[0]
            share_everything(tokens)
            time.sleep(1)
            people_search._ask((tokens["northshire"], items[:50]))
            shared_search += people_search.run(tokens["northshire"], items, 1)[0]
            for providers, out in ((("southshire", "westshire"), pooled_pair),
                                   (("southshire", DEDICATED), dedicated_pair)):
                revoke_all(tokens)
                share_with_northshire(tokens, providers)
                time.sleep(1)
                people_search._ask((tokens["northshire"], items[:50]))
                out += people_search.run(tokens["northshire"], items, 1)[0]
            # the same sharing, the databases searched one after another: a server started so
            stop(proc)
            proc = serve(0)
            people_search._ask((tokens["northshire"], items[:50]))
            dedicated_sequential += people_search.run(tokens["northshire"], items, 1)[0]
            stop(proc)
            proc = serve(PARALLEL)
        # own and shared reads alternate, one by one, for the same reason
        both = timed_reads(tokens["northshire"], [i for pair in zip(own_ids, shared_ids, strict=True) for i in pair])
        own_reads_after, shared_reads = both[0::2], both[1::2]
        revoke_all(tokens)
        share_with_northshire(tokens, ("southshire", DEDICATED))
        both = timed_reads(tokens["northshire"], [i for pair in zip(shared_ids, dedicated_ids, strict=True)
                                                  for i in pair])
        pooled_reads, dedicated_reads = both[0::2], both[1::2]
        revoke_all(tokens)
        own_reads = timed_reads(tokens["northshire"], own_ids)
    finally:
        stop(proc)

    own = [a[0] for a in own_search]
    both = [a[0] for a in shared_search]
    print(f"\n{len(items)} searches by northshire x {args.rounds} rounds each way, 1 client; {args.reads} reads each; "
          f"{args.workers} gunicorn workers; every request with X-Purpose")
    print(f"search own only      p50 {ms(own, .5):6.1f} ms  p95 {ms(own, .95):6.1f} ms")
    print(f"search own + shared  p50 {ms(both, .5):6.1f} ms  p95 {ms(both, .95):6.1f} ms   "
          f"ratio p95 {ms(both, .95) / ms(own, .95):.2f} (target <= 1.5)")
    pooled, dedicated = [a[0] for a in pooled_pair], [a[0] for a in dedicated_pair]
    print(f"search two pooled providers      p50 {ms(pooled, .5):6.1f} ms  p95 {ms(pooled, .95):6.1f} ms")
    sequential = [a[0] for a in dedicated_sequential]
    print(f"search one provider dedicated    p50 {ms(dedicated, .5):6.1f} ms  p95 {ms(dedicated, .95):6.1f} ms   "
          f"ratio p95 {ms(dedicated, .95) / ms(pooled, .95):.2f}  (databases at once, {PARALLEL} threads)")
    print(f"  ... one after another          p50 {ms(sequential, .5):6.1f} ms  p95 {ms(sequential, .95):6.1f} ms   "
          f"ratio p95 {ms(sequential, .95) / ms(pooled, .95):.2f}  (CONCORD_SEARCH_THREADS=0)")
    print(f"read shared, pooled provider     p50 {ms(pooled_reads, .5):5.2f} ms  p95 {ms(pooled_reads, .95):5.2f} ms")
    print(f"read shared, dedicated provider  p50 {ms(dedicated_reads, .5):5.2f} ms  "
          f"p95 {ms(dedicated_reads, .95):5.2f} ms")
    print(f"read own (no agreements)   p50 {ms(own_reads, .5):5.2f} ms  p95 {ms(own_reads, .95):5.2f} ms")
    print(f"read own (sharing active)  p50 {ms(own_reads_after, .5):5.2f} ms  p95 {ms(own_reads_after, .95):5.2f} ms")
    print(f"read shared                p50 {ms(shared_reads, .5):5.2f} ms  p95 {ms(shared_reads, .95):5.2f} ms   "
          f"ratio p50 {ms(shared_reads, .5) / ms(own_reads_after, .5):.2f} (target <= 1.2)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    embedded.stop()


if __name__ == "__main__":
    main()
