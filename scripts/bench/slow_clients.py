"""Benchmark: GET /healthz while slow clients hold sockets open with half-sent requests (issue 13).

Starts the real server (`concord serve`'s gunicorn command, app/gunicorn_config.py) on a free loopback port
against a bench database, opens `--sockets` connections that each send the start of a request and never finish it
(a dropped one is opened again at once, as an attacker would), and meanwhile times GET /healthz, each on a new
connection, `--rate` a second for `--seconds` (longer than the server's header timeout, so that it drops and
they reopen). First the same without slow sockets, for comparison.

    .venv/bin/python scripts/bench/slow_clients.py [--sockets 50] [--seconds 15] [--rate 20] [--worker-class gevent]
        [--client-timeout 10] [--threads N]

`--worker-class sync` or `gthread` measures gunicorn's other workers the same way (a stalled request waits for
--client-timeout). Only 127.0.0.1 is ever contacted; every loop is bounded in count and time.
"""
from __future__ import annotations

import argparse
import http.client
import os
import platform
import select
import socket
import statistics
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import bench_support  # noqa: E402
from app import embedded  # noqa: E402
from app.cli import gunicorn_command  # noqa: E402

DATABASE = "concord_bench_slow"
PARTIAL = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-Client: "  # never finished


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SlowClients:
    """`count` sockets each holding a half-sent request; one the server closes is opened again."""

    def __init__(self, port: int, count: int):
        self.port = port
        self.count = count
        self.dropped = 0  # partial requests the server closed (its header timeout)
        self._sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(PARTIAL)
        sock.setblocking(False)
        return sock

    def start(self) -> None:
        self._sockets = [self._open() for _ in range(self.count)]
        self._thread.start()

    def _hold(self) -> None:
        while not self._stop.wait(0.05):
            readable, _, _ = select.select(self._sockets, [], [], 0)
            for sock in readable:
                try:
                    closed = sock.recv(4096) == b""
                except OSError:
                    closed = True
                if closed:  # or answered: either way it no longer holds anything, so hold another
                    self.dropped += 1
                    sock.close()
                    self._sockets[self._sockets.index(sock)] = self._open()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self._sockets:
            sock.close()


def healthz(port: int, seconds: float, rate: float, client_timeout: float) -> tuple[list[float], int]:
    """Latencies (seconds) of the answered requests, and how many got no answer within the client timeout."""
    latencies, unanswered = [], 0
    start = time.monotonic()
    for n in range(max(1, round(seconds * rate))):
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
        began = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=client_timeout)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                raise RuntimeError(f"/healthz answered {response.status}")
            latencies.append(time.perf_counter() - began)
        except (TimeoutError, OSError):
            unanswered += 1
    return latencies, unanswered


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def start_server(settings, worker_class: str, threads: int | None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = gunicorn_command("127.0.0.1", port, 2)
    command[-1:-1] = ["--access-logfile", "/dev/null", "--log-level", "warning"]
    if threads:
        command[-1:-1] = ["--threads", str(threads)]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "CONCORD_VAR_DIR": str(settings.var_dir),
           "CONCORD_WORKER_CLASS": worker_class}
    proc = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if healthz(port, 0, 1, 1)[0]:
            return proc, port
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the server did not start")


def row(label: str, latencies: list[float], unanswered: int, dropped: int | str) -> str:
    if not latencies:
        return f"| {label} | 0 | {unanswered} | — | — | — | {dropped} |"
    ms = [1000 * x for x in latencies]
    return (f"| {label} | {len(ms)} | {unanswered} | {statistics.median(ms):.1f} ms | {percentile(ms, 95):.1f} ms "
            f"| {max(ms):.1f} ms | {dropped} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=20.0, help="GET /healthz a second")
    parser.add_argument("--worker-class", default="gevent")
    parser.add_argument("--threads", type=int, default=None, help="gthread's threads per worker")
    parser.add_argument("--client-timeout", type=float, default=10.0)
    args = parser.parse_args()
    if not 0 < args.sockets <= 500 or not 0 < args.seconds <= 120 or not 0 < args.rate <= 200:
        parser.error("at most 500 sockets, 120 seconds and 200 requests a second")

    settings, _ = bench_support.database(DATABASE)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"gunicorn {metadata.version('gunicorn')}, gevent {metadata.version('gevent')}; "
          f"worker class {args.worker_class}{f' ({args.threads} threads)' if args.threads else ''}, 2 workers")
    proc, port = start_server(settings, args.worker_class, args.threads)
    try:
        print("| sockets held | answered | no answer within "
              f"{args.client_timeout:g} s | p50 | p95 | max | partial requests the server closed |")
        print("|---|---|---|---|---|---|---|")
        latencies, unanswered = healthz(port, min(args.seconds, 5), args.rate, args.client_timeout)
        print(row("0", latencies, unanswered, "—"))
        slow = SlowClients(port, args.sockets)
        slow.start()
        time.sleep(1)  # all of them accepted and waiting
        started = time.monotonic()
        try:
            latencies, unanswered = healthz(port, args.seconds, args.rate, args.client_timeout)
        finally:
            slow.stop()
        print(row(str(args.sockets), latencies, unanswered, slow.dropped)
              + f"  ({time.monotonic() - started:.1f} s)")
    finally:
        proc.terminate()
        proc.wait(30)
        embedded.stop()


if __name__ == "__main__":
    main()
