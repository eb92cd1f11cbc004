"""Benchmark: the whole flow of a simple shoplifting case, counting the API calls and the server time.

Record the suspect and the victim, record the crime with both in their roles, QA, allocate, acknowledge
(as the officer in charge) and finalise with outcome 8 (community resolution). Through gunicorn (2 sync
workers, 1 client), 50 cases; the total time of each case's calls.

Target (issue 6): <= 8 calls and <= 500 ms server time per case (Athena users report ~50 clicks with
30-second loads).

    .venv/bin/python scripts/bench/volume_crime.py [--cases 50]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import bench_support  # noqa: E402
from app import embedded  # noqa: E402
from app.auth import dev_idp  # noqa: E402

DATABASE = "concord_crime_bench"
PORT = 5604


class Client:
    def __init__(self, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        self.token = token
        self.calls = 0
        self.seconds = 0.0
        self.last_path = ""

    def call(self, path: str, body: dict, if_match: int | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        if if_match is not None:
            headers["If-Match"] = f'"{if_match}"'
        start = time.perf_counter()
        self.conn.request("POST", path, body=json.dumps(body), headers=headers)
        response = self.conn.getresponse()
        data = json.loads(response.read())
        self.seconds += time.perf_counter() - start
        self.calls += 1
        self.last_path = path
        if response.status not in (200, 201):
            raise RuntimeError(f"{path}: HTTP {response.status} {data}")
        return data


def one_case(api: Client, charged: bool = False) -> None:
    when = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    suspect = api.call("/api/v1/people?confirm_new=true", {
        "surname": f"Suspect{uuid.uuid4().hex[:8]}", "forenames": "Jo", "sex": "female", "date_of_birth": "1995-03-04"})
    victim = api.call("/api/v1/people?confirm_new=true", {
        "surname": f"Manager{uuid.uuid4().hex[:8]}", "forenames": "Sam", "sex": "male"})
    crime = api.call("/api/v1/investigations", {
        "primary_classification": "46/1", "occurred_at": when, "summary": "Shoplifting: two bottles of spirits",
        "people": [{"person_id": suspect["id"], "role": "suspect"}, {"person_id": victim["id"], "role": "victim"}]})
    path = f"/api/v1/investigations/{crime['id']}"
    api.call(f"{path}/qa", {}, if_match=1)
    api.call(f"{path}/allocate", {"officer_in_charge": "pc-bench"}, if_match=2)
    api.call(f"{path}/acknowledge", {}, if_match=3)
    if charged:  # a case going to court (scripts/bench/case_file.py)
        api.call(f"{path}/entries", {"kind": "charge", "text": "Theft from a shop, contrary to s.1 Theft Act 1968",
                                     "person_id": suspect["id"]})
        api.call(f"{path}/finalise", {"outcome_type": 1}, if_match=5)
        return
    api.call(f"{path}/finalise", {"outcome_type": 8, "reason": "community resolution agreed with the victim"},
             if_match=4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=50)
    args = parser.parse_args()
    settings, platform_config = bench_support.database(DATABASE, reload=True)
    token = dev_idp.issue_token(dev_idp.KeyStore(settings.var_dir / "dev-idp"), platform_config.tenants["northshire"],
                                "pc-bench", ["investigator"], lifetime=8 * 3600)
    proc = bench_support.serve("app.wsgi:app", PORT, 2, {
        "DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
        "CONCORD_LOG_LEVEL": "WARNING"})
    results = []
    try:
        one_case(Client(token))  # warm up
        for _ in range(args.cases):
            api = Client(token)
            one_case(api)
            results.append((api.calls, api.seconds))
    finally:
        proc.terminate()
        proc.wait()
    times = sorted(seconds for _, seconds in results)
    print(f"\n{args.cases} shoplifting cases, gunicorn 2 workers, 1 client")
    print(f"calls per case: {results[0][0]} (target <= 8)")
    print(f"server time per case: p50 {times[len(times) // 2] * 1000:.1f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1] * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms (target <= 500 ms)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    embedded.stop()


if __name__ == "__main__":
    main()
