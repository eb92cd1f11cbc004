"""Migrations over every database: the pool and each dedicated force's, as the owner role."""
from __future__ import annotations

import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL

from app.config import ROOT, Settings
from app.tenancy.config import PlatformConfig


@dataclass(frozen=True)
class DatabaseStatus:
    name: str
    current: str | None
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head


def migrations_dir() -> Path:
    """The migrations: a source checkout's migrations/, else those the wheel installed under share/concord/."""
    source = ROOT / "migrations"
    if (source / "env.py").is_file():
        return source
    return Path(sysconfig.get_path("data"), "share", "concord", "migrations")


def alembic_config() -> Config:
    """Alembic's config, without an ini file; the migrations' helper module made importable."""
    helpers = str(migrations_dir())
    if helpers not in sys.path:
        sys.path.insert(0, helpers)
    cfg = Config()
    cfg.set_main_option("script_location", helpers)
    return cfg


def head() -> str:
    """The revision every database should be at."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads; merge them")
    return heads[0]


def runtime_urls(settings: Settings, platform: PlatformConfig) -> dict[str, URL]:
    """Every database Concord serves, as the runtime role: 'pool' and each dedicated force."""
    urls = {"pool": settings.runtime_url()}
    for tenant in platform.dedicated():
        urls[tenant.slug] = settings.dedicated_url(tenant.slug)
    return urls


def upgrade(settings: Settings, platform: PlatformConfig, revision: str = "head") -> list[str]:
    """Bring every database to `revision`; returns the names migrated."""
    done = []
    for name, url in runtime_urls(settings, platform).items():
        engine = create_engine(settings.owner_url(url, database=name), poolclass=None)
        try:
            with engine.begin() as conn:
                upgrade_connection(conn, url.username or "concord_app", revision)
        finally:
            engine.dispose()
        done.append(name)
    return done


def upgrade_connection(conn: Connection, runtime_role: str, revision: str = "head") -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    cfg.attributes["runtime_role"] = runtime_role
    command.upgrade(cfg, revision)


def status(engines: dict[str, Engine]) -> list[DatabaseStatus]:
    """The revision of each database (readable by the runtime role) against the head."""
    target = head()
    out = []
    for name, engine in engines.items():
        with engine.connect() as conn:
            current = current_revision(conn)
        out.append(DatabaseStatus(name, current, target))
    return out


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()
