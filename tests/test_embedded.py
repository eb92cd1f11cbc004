"""The embedded PostgreSQL: the data directory's major version is checked before anything starts."""
from __future__ import annotations

import pytest

from app import embedded


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
