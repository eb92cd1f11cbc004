"""Benchmark: GET /api/v1/people/{id} through gunicorn, against the floor.

Three servers, the same data, the same gunicorn workers, run one after another:
  bare      the same SQL from a bare Flask endpoint, superuser connection (RLS bypassed), no audit
  bare+rls  the same, as the runtime role naming the tenant per transaction (RLS on), no audit
  full      Concord itself: JWT verification, tenant context, RLS, ORM, an audit row per read, commit

Targets (issue 2): RLS costs <= 10 % (bare+rls vs bare); full reaches >= 60 % of bare's throughput.

    .venv/bin/python scripts/bench/people_get.py [--people 20000] [--seconds 10] [--clients 4] [--workers 2]
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

from sqlalchemy import create_engine, text  # noqa: E402

import bench_support  # noqa: E402
from app import embedded  # noqa: E402
from app.auth import dev_idp  # noqa: E402
from app.config import Settings  # noqa: E402
from app.tenancy import config as tenancy_config  # noqa: E402
from bench_support import serve  # noqa: E402

DATABASE = "concord_bench"
FORCES = ("northshire", "southshire", "westshire")


def prepare(people: int) -> tuple[Settings, list[str]]:
    """A bench database with `people` people spread over the pooled forces; northshire's ids returned."""
    settings, platform_config = bench_support.database(DATABASE)
    root = create_engine(f"postgresql+psycopg://postgres@/{DATABASE}?host={embedded.socket_dir()}")
    with root.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM person")).scalar()
        if have < people:
            tenants = [platform_config.tenants[f].id for f in FORCES]
            conn.execute(
                text(
                    """
                    INSERT INTO person (tenant_id, id, surname, forenames, surname_key, forenames_key,
                                        date_of_birth, date_of_birth_precision, sex, created_by, updated_by)
                    SELECT (CAST(:tenants AS uuid[]))[1 + g % 3], gen_random_uuid(), 'Surname' || g, 'Given' || g,
                           'SURNAME' || g, 'GIVEN' || g, date '1950-01-01' + (g % 20000), 'day', 'unknown',
                           'bench', 'bench'
                    FROM generate_series(CAST(:start AS int), CAST(:stop AS int)) g
                    """
                ),
                {"tenants": tenants, "start": have, "stop": people - 1},
            )
            conn.execute(text("ANALYZE person"))
        north = platform_config.tenants["northshire"].id
        ids = [str(r[0]) for r in conn.execute(text("SELECT id FROM person WHERE tenant_id = :t LIMIT 2000"),
                                                {"t": north})]
    root.dispose()
    return settings, ids


def _client(args: tuple[int, str, list[str], str, float]) -> list[float]:
    port, prefix, ids, token, seconds = args
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    latencies = []
    rng = random.Random(os.getpid())
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", f"{prefix}{rng.choice(ids)}", headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        latencies.append(time.perf_counter() - start)
        conn.close()
    return latencies


def measure(port: int, prefix: str, ids: list[str], token: str, clients: int, seconds: float) -> dict[str, float]:
    _client((port, prefix, ids, token, 1.0))  # warm up every worker's connections and caches
    with multiprocessing.Pool(clients) as pool:
        runs = pool.map(_client, [(port, prefix, ids, token, seconds)] * clients)
    latencies = sorted(x for run in runs for x in run)
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "n": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    settings, ids = prepare(args.people)
    north = tenancy_config.load(ROOT / "tenants").tenants["northshire"]
    token = dev_idp.issue_token(dev_idp.KeyStore(settings.var_dir / "dev-idp"), north, "bench", ["investigator"],
                                lifetime=8 * 3600)
    socket = embedded.socket_dir()
    bare_env = {"BENCH_TENANT_ID": str(north.id), "PYTHONPATH": str(ROOT / "scripts" / "bench")}
    configs = [
        ("bare", "bare_app:app", "/people/",
         {**bare_env, "BENCH_DATABASE_URL": f"postgresql://postgres@/{DATABASE}?host={socket}"}, ""),
        ("bare+rls", "bare_app:app", "/people/",
         {**bare_env, "BENCH_RLS": "1", "BENCH_DATABASE_URL": f"postgresql://concord_app@/{DATABASE}?host={socket}"},
         ""),
        ("full", "app.wsgi:app", "/api/v1/people/",
         {"DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
          "CONCORD_LOG_LEVEL": "WARNING"}, token),
    ]
    results = {}
    for name, app_path, prefix, env, tok in configs:
        proc = serve(app_path, 5601, args.workers, env)
        try:
            results[name] = measure(5601, prefix, ids, tok, args.clients, args.seconds)
        finally:
            proc.terminate()
            proc.wait()
        print(f"{name:9s} {results[name]['rps']:8.1f} req/s  p50 {results[name]['p50']:6.2f} ms  "
              f"p95 {results[name]['p95']:6.2f} ms  ({results[name]['n']} requests)", flush=True)
    rls_cost = 1 - results["bare+rls"]["rps"] / results["bare"]["rps"]
    full_ratio = results["full"]["rps"] / results["bare"]["rps"]
    print(f"\nRLS cost: {rls_cost * 100:.1f} % of throughput (target <= 10 %)")
    print(f"full endpoint: {full_ratio * 100:.1f} % of the bare endpoint's throughput (target >= 60 %)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.people} people, {args.clients} client processes, {args.workers} gunicorn workers, "
          f"{args.seconds:.0f} s per run")
    embedded.stop()


if __name__ == "__main__":
    main()
