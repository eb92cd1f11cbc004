"""What the benchmarks share: a migrated, configured bench database, and a gunicorn server to measure."""
from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402

from app import embedded, migrate  # noqa: E402
from app.config import Settings  # noqa: E402
from app.tenancy import config as tenancy_config  # noqa: E402
from app.tenancy import service as tenancy_service  # noqa: E402


def database(name: str, reload: bool = False, tenants_dir: Path | None = None
             ) -> tuple[Settings, tenancy_config.PlatformConfig]:
    """The embedded server started, `name` (and its dedicated forces' databases) migrated, tenants applied."""
    embedded.start(ROOT / "var")
    platform_config = tenancy_config.load(tenants_dir or ROOT / "tenants")
    names = [name] + [f"{name}_{t.slug}" for t in platform_config.dedicated()]
    if reload:
        for each in names:
            embedded.drop_database(each)
    embedded.bootstrap(names)
    settings = Settings(environment="development", database_url=embedded.runtime_url(name),
                        var_dir=ROOT / "var" / "bench")
    migrate.upgrade(settings, platform_config)
    owner = create_engine(settings.owner_url(settings.runtime_url()))
    with owner.begin() as conn:
        tenancy_service.apply(conn, platform_config)
    owner.dispose()
    return settings, platform_config


def serve(app_path: str, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--log-level", "warning", app_path],
        cwd=ROOT, env={**os.environ, **env},
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"{app_path} did not start")
