"""Benchmark: the custody board of a busy suite, and booking a detainee in.

A suite with 60 current detainees (a copy of tenants/ gives northshire a bench suite, BIG, of 100 cells),
each with a day of entries: rights, risk assessment, medication given every 4 hours, half-hourly visits,
reviews. Then, through the API (gunicorn, 2 sync workers, 1 client):

  board         GET /api/v1/custody/suites/BIG/board, 200 times: p50/p95
  booking in    the calls a custody officer makes for one new detainee: book in (new person, duplicate
                check), rights, someone informed, legal advice, risk assessment, medication, property,
                observation level, cell; the total of their server times, 30 times: p50/p95

Targets (issue 5): board p95 <= 50 ms; booking in <= 300 ms total server time.

    .venv/bin/python scripts/bench/custody.py [--detainees 60]
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

import psycopg  # noqa: E402

import bench_support  # noqa: E402
from app import embedded  # noqa: E402
from app.auth import dev_idp  # noqa: E402

DATABASE = "concord_custody_bench"
SUITE = "BIG"
TENANTS = ROOT / "var" / "bench" / "custody-tenants"


def tenants_with_a_big_suite() -> Path:
    """tenants/ copied, with a 100-cell suite added to northshire."""
    import shutil

    shutil.rmtree(TENANTS, ignore_errors=True)
    shutil.copytree(ROOT / "tenants", TENANTS)
    cells = "".join(f'[[custody_suites.cells]]\ncode = "B{i}"\n' for i in range(1, 101))
    with (TENANTS / "northshire.toml").open("a") as f:
        f.write(f'\n[[custody_suites]]\ncode = "{SUITE}"\nname = "Bench suite"\n{cells}')
    return TENANTS
PORT = 5603
H = timedelta(hours=1)


class Client:
    def __init__(self, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, float]:
        start = time.perf_counter()
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
        response = self.conn.getresponse()
        data = json.loads(response.read() or b"{}")
        return response.status, data, time.perf_counter() - start


def book_in(api: Client, arrived: datetime, cell: str) -> tuple[str, float]:
    """The calls a custody officer makes to book one detainee in; (record id, total seconds)."""
    total = 0.0
    status, record, took = api.call("POST", "/api/v1/custody/records", {
        "suite": SUITE, "person": {"surname": f"Bench{uuid.uuid4().hex[:8]}", "forenames": "Sam", "sex": "male",
                                   "date_of_birth": "1988-02-03"},
        "arrested_at": (arrived - H).isoformat(), "arrest_place": "Market Square", "arresting_officer": "PC 101",
        "arrived_at": arrived.isoformat(), "authorised_at": (arrived + timedelta(minutes=10)).isoformat(),
        "authorised_by": "PS 12", "grounds": "to obtain evidence by questioning",
        "offences": [{"code": "28/1", "wording": "Burglary of a dwelling", "indictable": True}]})
    assert status == 201, record
    total += took
    path = f"/api/v1/custody/records/{record['id']}/entries"
    at = (arrived + timedelta(minutes=15)).isoformat()
    for kind, data in (
        ("rights_given", {"written_notice": True}),
        ("someone_informed", {"name": "partner"}),
        ("legal_advice", {"requested": True, "solicitor": "Duty solicitor"}),
        ("risk_assessment", {"answers": {"self_harm": "no", "medical": "asthma"}, "level": "medium"}),
        ("medication", {"name": "salbutamol", "dose": "2 puffs", "interval_hours": 4,
                        "first_due_at": (arrived + H).isoformat()}),
        ("property", {"items": ["phone", "wallet", "keys"], "bag_numbers": ["NTH123456"]}),
        ("observation_level", {"level": 2}),
        ("cell", {"cell": cell}),
    ):
        status, body, took = api.call("POST", path, {"kind": kind, "occurred_at": at, "data": data})
        assert status == 201, (kind, body)
        total += took
    return record["id"], total


def a_day(api: Client, record_id: str, arrived: datetime) -> None:
    path = f"/api/v1/custody/records/{record_id}/entries"
    entries = [("visit", arrived + timedelta(minutes=30 * i), {"condition": "awake, well", "roused": i % 4 == 0})
               for i in range(1, 30)]
    entries += [("medication_given", arrived + H + 4 * H * i, {"name": "salbutamol", "dose": "2 puffs"})
                for i in range(4)]
    entries.sort(key=lambda e: e[1])
    for kind, at, data in entries:
        status, body, _ = api.call("POST", path, {"kind": kind, "occurred_at": at.isoformat(), "data": data})
        assert status == 201, (kind, body)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * share) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--detainees", type=int, default=60)
    parser.add_argument("--bookings", type=int, default=30)
    args = parser.parse_args()
    settings, platform_config = bench_support.database(DATABASE, reload=True, tenants_dir=tenants_with_a_big_suite())
    north = platform_config.tenants["northshire"]
    keys = dev_idp.KeyStore(settings.var_dir / "dev-idp")
    officer = dev_idp.issue_token(keys, north, "ps-bench", ["custody_officer"], lifetime=8 * 3600)
    inspector = dev_idp.issue_token(keys, north, "insp-bench", ["custody_inspector"], lifetime=8 * 3600)
    proc = bench_support.serve("app.wsgi:app", PORT, 2, {
        "DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
        "CONCORD_LOG_LEVEL": "WARNING"})
    try:
        api, reviewer = Client(officer), Client(inspector)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        for n in range(args.detainees):
            arrived = now - 15 * H - timedelta(minutes=n)
            record_id, _ = book_in(api, arrived, f"B{n + 1}")
            a_day(api, record_id, arrived)
            status, body, _ = reviewer.call("POST", f"/api/v1/custody/records/{record_id}/entries", {
                "kind": "review", "occurred_at": (arrived + 6 * H).isoformat(), "data": {"decision": "continue"}})
            assert status == 201, body
        superuser = f"postgresql://postgres@/{DATABASE}?host={embedded.socket_dir()}"
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            entries = conn.execute("SELECT count(*) FROM custody_entry").fetchone()[0]
        board = []
        for _ in range(200):
            status, body, took = api.call("GET", f"/api/v1/custody/suites/{SUITE}/board")
            assert status == 200 and len(body["items"]) >= args.detainees
            board.append(took)
        bookings = []
        for n in range(args.bookings):
            _, total = book_in(api, now - timedelta(minutes=30), f"B{args.detainees + n + 1}")
            bookings.append(total)
    finally:
        proc.terminate()
        proc.wait()
    print(f"\n{args.detainees} detainees in suite {SUITE}, {entries} entries; gunicorn 2 workers, 1 client")
    print(f"board        p50 {percentile(board, .5):6.1f} ms  p95 {percentile(board, .95):6.1f} ms  "
          "(target p95 <= 50 ms)")
    print(f"booking in   p50 {percentile(bookings, .5):6.1f} ms  p95 {percentile(bookings, .95):6.1f} ms  "
          f"(9 calls; target <= 300 ms)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    embedded.stop()


if __name__ == "__main__":
    main()
