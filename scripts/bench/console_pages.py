"""Benchmark: the console's server time per page (p95) for search results, a person's page and the custody board.

The pages are asked of the app in-process (Flask's test client: no network, no browser), signed in through the
real OIDC flow with a stated purpose, so each request does what a browser's would: the server-side session
read, the access token verified, tenant context and RLS, the search or read with its audit rows, the page
rendered. Data: scripts/bench/people_search.py's generated people (--per-force per demo force, loaded once
into concord_search_bench and kept), and 20 detainees booked into northshire's NTH suite. Beside each page's
times, the SQL statements it sent and the time spent waiting for them (per request, median), so that what the
database costs and what Python costs can be told apart.

Target (issue 19): p95 < 100 ms for each page at the 1M-person size (--per-force 250000).

    .venv/bin/python scripts/bench/console_pages.py [--per-force 250000] [--requests 300] [--pages ...]
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import people_search  # noqa: E402
from app import create_app  # noqa: E402
from app.auth import dev_idp  # noqa: E402
from tests.console.conftest import sign_in, state_purpose  # noqa: E402

DETAINEES = 20


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


@dataclasses.dataclass
class Sql:
    """The statements sent by the requests being timed and the time spent on them, and the commits and their time
    (a commit after writes waits for the WAL to reach the disk), over every database's engine."""

    statements: int = 0
    ms: float = 0.0
    commits: int = 0
    commit_ms: float = 0.0
    committing: float = 0.0

    def reset(self) -> None:
        self.statements, self.ms, self.commits, self.commit_ms = 0, 0.0, 0, 0.0

    def watch(self, engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _sent(conn, *_):
            conn.info["bench_started"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _answered(conn, *_):
            self.statements += 1
            self.ms += (time.perf_counter() - conn.info["bench_started"]) * 1000

        @event.listens_for(engine, "commit")
        def _committing(conn):
            self.commits += 1
            self.committing = time.perf_counter()

    def committed(self, *_) -> None:
        self.commit_ms += (time.perf_counter() - self.committing) * 1000


SQL = Sql()


Timing = tuple[float, int, float, int, float]


def timed(client, paths: list[str], headers: dict[str, str] | None = None) -> list[Timing]:
    """Each request's (server time, SQL statements, their time, commits, their time), times in ms."""
    took = []
    for path in paths:
        SQL.reset()
        start = time.perf_counter()
        response = client.get(path, headers=headers or {})
        took.append(((time.perf_counter() - start) * 1000, SQL.statements, SQL.ms, SQL.commits, SQL.commit_ms))
        assert response.status_code == 200, (path, response.status_code)
    return took


def book_detainees(app) -> None:
    services = app.extensions["concord"]
    tenant = services.registry.by_slug("northshire")
    token = dev_idp.issue_token(services.dev_keys, tenant, "bench-sergeant", ["custody_officer"])
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    board = api.get("/api/v1/custody/suites/NTH/board", headers=headers).get_json()["items"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for n in range(len(board), DETAINEES):
        arrived = now - timedelta(hours=1 + n % 20)
        response = api.post("/api/v1/custody/records", headers=headers, json={
            "suite": "NTH", "person": {"surname": f"Benchdetainee{n}", "forenames": "Sam", "sex": "male",
                                       "date_of_birth": "1990-05-05"}, "confirm_new": True,
            "arrested_at": (arrived - timedelta(hours=1)).isoformat(), "arrest_place": "High Street",
            "arresting_officer": "PC 101", "arrived_at": arrived.isoformat(), "authorised_at": arrived.isoformat(),
            "authorised_by": "PS 12", "grounds": "to secure and preserve evidence",
            "offences": [{"code": "28/1", "wording": "Burglary of a dwelling", "indictable": True}]})
        assert response.status_code == 201, response.get_json()


PAGES = ("search", "person", "network", "board")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-force", type=int, default=250_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    args = parser.parse_args()
    settings, _, _ = people_search.prepare(args.per_force, reload=False)
    app = create_app(dataclasses.replace(settings, rate_limits=False))  # one user asking hundreds of pages
    services = app.extensions["concord"]
    for engine in services.databases.all_engines(services.registry.tenants()).values():
        SQL.watch(engine)
    event.listen(Session, "after_commit", SQL.committed)
    book_detainees(app)
    officer = state_purpose(sign_in(app.test_client(), "northshire", "officer", user="bench-officer"))
    names = [q["name"] for q in people_search.queries(1400) if q.get("name")][: args.requests]
    search_paths = [f"/console/people/search/results?{urllib.parse.urlencode({'name': n})}" for n in names]
    timed(officer, search_paths[:20])  # warm up: templates compiled, pools filled
    ids = []
    for path in search_paths:
        body = officer.get(path).get_data(as_text=True)
        marker = 'href="/console/people/'
        if marker in body:
            ids.append(body.split(marker, 1)[1].split('"', 1)[0])
    token = dev_idp.issue_token(services.dev_keys, services.registry.by_slug("northshire"), "bench-officer",
                                ["officer"])
    api_headers = {"Authorization": f"Bearer {token}", "X-Purpose": "benchmark"}
    sergeant = state_purpose(sign_in(app.test_client(), "northshire", "custody_officer", user="bench-sergeant"))
    measured: list[tuple[str, list[Timing]]] = []
    if "search" in args.pages:
        measured.append(("search results", timed(officer, search_paths)))
        # The API's answers to the same questions, in the same run: what the page adds over the service it calls.
        measured.append(("API search, same queries", timed(
            app.test_client(), [p.replace("/console/people/search/results", "/api/v1/people/search")
                                for p in search_paths], api_headers)))
    if "person" in args.pages:
        measured.append(("person page", timed(officer, [f"/console/people/{i}" for i in ids])))
        measured.append(("API GET person, same ids", timed(app.test_client(), [f"/api/v1/people/{i}" for i in ids],
                                                           api_headers)))
    if "network" in args.pages:
        measured.append(("person's network (htmx part)", timed(officer, [f"/console/people/{i}/network" for i in ids],
                                                               {"HX-Request": "true"})))
    if "board" in args.pages:
        measured.append(("custody board", timed(sergeant, ["/console/custody?suite=NTH"] * args.requests)))
        measured.append(("custody board refresh (htmx part)", timed(
            sergeant, ["/console/custody?suite=NTH"] * args.requests, {"HX-Request": "true"})))
    print(f"machine: {platform.machine()}, Python {platform.python_version()}; "
          f"{args.per_force * len(people_search.FORCES):,} people; {DETAINEES} detainees on the board; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for label, values in measured:
        times = [v[0] for v in values]
        print(f"{label}: n={len(values)} p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms; "
              f"per request (median): {statistics.median(v[1] for v in values):.0f} statements "
              f"{statistics.median(v[2] for v in values):.1f} ms, {statistics.median(v[3] for v in values):.0f} "
              f"commits {statistics.median(v[4] for v in values):.1f} ms")
    services.databases.dispose()


if __name__ == "__main__":
    main()
