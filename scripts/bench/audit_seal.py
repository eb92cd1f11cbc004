"""Benchmark: audited reads with the audit sealer running beside them and without, and seal throughput.

GET /api/v1/people/{id} through gunicorn (each read writes and commits an audit row), in alternating rounds of
the same length: without the sealer, then with the sealer sealing every force every `--interval` seconds in
this process (as `concord serve`'s supervisor runs it), repeated `--rounds` times; the medians compared.

Then seal throughput: `--rows` audit rows committed for one force, sealed by one `seal` call (rows/s), the first
seal of a process (which reads the force's leaves once) and a later one timed apart.

Target (issue 16): reads with the sealer within 5 % of reads without.

    .venv/bin/python scripts/bench/audit_seal.py [--seconds 8] [--rounds 3] [--interval 5] [--rows 100000]
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

from sqlalchemy import create_engine, text  # noqa: E402

from app import embedded  # noqa: E402
from app.audit import seal as sealing  # noqa: E402
from app.auth import dev_idp  # noqa: E402
from app.db import Databases  # noqa: E402
from app.documents import storage  # noqa: E402
from app.tenancy import config as tenancy_config  # noqa: E402
from bench_support import serve  # noqa: E402
from people_get import DATABASE, measure, prepare  # noqa: E402


def seal_throughput(settings, tenant, rows: int) -> tuple[float, float]:
    """rows/s of the first seal of `rows` new rows in a fresh process state, and of a second batch as large."""
    root = create_engine(f"postgresql+psycopg://postgres@/{DATABASE}?host={embedded.socket_dir()}")
    databases = Databases(settings)
    rates = []
    try:
        for _ in range(2):
            with root.begin() as conn:
                conn.execute(text(
                    "INSERT INTO audit_event (tenant_id, id, user_id, action, record_type, record_id, details) "
                    "SELECT :t, gen_random_uuid(), 'bench', 'consultation', 'person', gen_random_uuid()::text, "
                    "'{\"bench\": true}' FROM generate_series(1, :n)"), {"t": tenant.id, "n": rows})
            start = time.perf_counter()
            sealed = sealing.seal(databases, tenant, settings.var_dir, storage.for_tenant)
            rates.append(sealed.rows / (time.perf_counter() - start))
    finally:
        databases.dispose()
        root.dispose()
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--interval", type=float, default=5.0, help="Seconds between the sealer's rounds")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=100000, help="Audit rows per seal-throughput batch")
    args = parser.parse_args()

    settings, ids = prepare(args.people)
    platform_config = tenancy_config.load(ROOT / "tenants")
    north = platform_config.tenants["northshire"]
    token = dev_idp.issue_token(dev_idp.KeyStore(settings.var_dir / "dev-idp"), north, "bench", ["investigator"],
                                lifetime=3600)
    env = {"DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
           "CONCORD_LOG_LEVEL": "WARNING", "CONCORD_RATE_LIMITS": "0"}
    databases = Databases(settings)
    pooled = [t for t in platform_config.tenants.values() if not t.dedicated]
    sealing.seal_all(databases, pooled, settings.var_dir, storage.for_tenant)  # what earlier runs left
    results: dict[str, list[float]] = {"without": [], "with": []}
    cpu_share: list[float] = []  # the sealer's CPU (this process does nothing else meanwhile) per second of wall
    proc = serve("app.wsgi:app", 5602, args.workers, env)
    try:
        for _ in range(args.rounds):
            for mode in ("without", "with"):
                sealer = None
                if mode == "with":
                    sealer = sealing.Sealer(databases, lambda: pooled, settings.var_dir, storage.for_tenant,
                                            interval=args.interval)
                    sealer.start()
                else:  # the rows of the round before, sealed before this round starts
                    sealing.seal_all(databases, pooled, settings.var_dir, storage.for_tenant)
                usage, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
                result = measure(5602, "/api/v1/people/", ids, token, args.clients, args.seconds)
                if sealer is not None:
                    sealer.stop()
                    after = resource.getrusage(resource.RUSAGE_SELF)
                    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
                    cpu_share.append(cpu / (time.perf_counter() - wall))
                results[mode].append(result["rps"])
                print(f"{mode:8s} sealer {result['rps']:8.1f} req/s  p50 {result['p50']:6.2f} ms  "
                      f"p95 {result['p95']:6.2f} ms", flush=True)
    finally:
        proc.terminate()
        proc.wait()
        databases.dispose()
    without, with_ = statistics.median(results["without"]), statistics.median(results["with"])
    print(f"\nmedian without the sealer {without:.1f} req/s, with it {with_:.1f} req/s: with it "
          f"{with_ / without * 100:.1f} % of the throughput without (target: at least 95 %); the sealer used "
          f"{statistics.median(cpu_share) * 100:.2f} % of a core (median of its rounds)")
    first, later = seal_throughput(settings, platform_config.tenants["southshire"], args.rows)
    print(f"seal throughput: {first:,.0f} rows/s (first seal of a process, reading the tree), "
          f"{later:,.0f} rows/s (a later seal); batches of {args.rows:,} rows")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.people} people, {args.clients} client processes, {args.workers} gunicorn workers, "
          f"{args.rounds} rounds of {args.seconds:.0f} s each way, sealer every {args.interval:g} s")
    embedded.stop()


if __name__ == "__main__":
    main()
