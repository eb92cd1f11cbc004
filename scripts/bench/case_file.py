"""Benchmark: from a finalised shoplifting investigation to a first-hearing GAP file, submitted.

The investigation is made as scripts/bench/volume_crime.py makes it, charged (not counted). Then the officer:
builds the case file, gives the anticipated plea and the case summary, checks readiness, submits. The
benchmark counts the API calls and every field the officer typed that Concord already held (a typed value
equal to one the pre-filled file already carried).

Target (issue 7): no field typed that the system knew; <= 10 calls.

    .venv/bin/python scripts/bench/case_file.py [--cases 20]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import bench_support  # noqa: E402
import volume_crime  # noqa: E402
from app import embedded  # noqa: E402
from app.auth import dev_idp  # noqa: E402

TYPED = {"anticipated_plea": "GAP",
         "forms": {"MG5": {"summary": "Seen on CCTV taking two bottles of gin; admitted in interview."}}}


def known_values(forms: dict) -> set[str]:
    """Every scalar the pre-filled file already carries."""
    out: set[str] = set()

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif value not in (None, ""):
            out.add(str(value))

    walk(forms)
    return out


def typed_values(body: dict) -> list[str]:
    return [body["anticipated_plea"], *(str(v) for f in body["forms"].values() for v in f.values())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20)
    args = parser.parse_args()
    settings, platform_config = bench_support.database(volume_crime.DATABASE, reload=True)
    token = dev_idp.issue_token(dev_idp.KeyStore(settings.var_dir / "dev-idp"), platform_config.tenants["northshire"],
                                "pc-bench", ["investigator"], lifetime=86400)
    proc = bench_support.serve("app.wsgi:app", volume_crime.PORT, 2, {
        "DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
        "CONCORD_LOG_LEVEL": "WARNING"})
    results = []
    try:
        for _ in range(args.cases):
            setup = volume_crime.Client(token)
            volume_crime.one_case(setup, charged=True)
            officer = volume_crime.Client(token)
            investigation_id = setup.last_path.split("/")[4]
            case = officer.call("/api/v1/cases", {"investigation_id": investigation_id})
            known = known_values(case["forms"])
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "If-Match": '"1"'}
            start = time.perf_counter()
            officer.conn.request("PATCH", f"/api/v1/cases/{case['id']}", body=json.dumps(TYPED), headers=headers)
            response = officer.conn.getresponse()
            response.read()
            officer.seconds += time.perf_counter() - start
            officer.calls += 1
            start = time.perf_counter()
            officer.conn.request("GET", f"/api/v1/cases/{case['id']}/readiness?stage=first_hearing",
                                 headers={"Authorization": f"Bearer {token}"})
            readiness = json.loads(officer.conn.getresponse().read())
            officer.seconds += time.perf_counter() - start
            officer.calls += 1
            assert readiness["ready"], readiness
            officer.call(f"/api/v1/cases/{case['id']}/submissions", {"stage": "first_hearing"})
            already_known = [v for v in typed_values(TYPED) if v in known]
            results.append((officer.calls, officer.seconds, already_known))
    finally:
        proc.terminate()
        proc.wait()
    calls = {r[0] for r in results}
    times = sorted(r[1] for r in results)
    known_typed = sorted({v for r in results for v in r[2]})
    print(f"\n{args.cases} first-hearing GAP files from finalised shoplifting investigations; gunicorn 2 workers")
    print(f"calls per file: {sorted(calls)} (target <= 10)")
    print(f"fields typed that Concord already held: {len(known_typed)} {known_typed} (target: none)")
    print(f"time per file p50 {times[len(times) // 2] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    embedded.stop()


if __name__ == "__main__":
    main()
