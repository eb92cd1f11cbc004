"""Where the databases are: an external PostgreSQL from DATABASE_URL, or the embedded one under var/."""
from __future__ import annotations

import os

from app import embedded
from app.config import Settings
from app.tenancy import config as tenancy_config


def database_settings(settings: Settings) -> Settings:
    """Settings with a database URL: when none is given, start the embedded server and bootstrap it."""
    if not settings.embedded:
        return settings
    embedded.start(settings.var_dir)
    platform = tenancy_config.load(settings.tenants_dir, production=settings.environment == "production")
    names = [embedded.POOL_DATABASE] + [f"{embedded.POOL_DATABASE}_{t.slug}" for t in platform.dedicated()]
    embedded.bootstrap(names)
    url = embedded.runtime_url()
    os.environ["DATABASE_URL"] = url  # gunicorn and its workers inherit it and start nothing embedded
    return settings.with_database(url)


def existing_database_settings(settings: Settings) -> Settings | None:
    """Settings for the pooled database as it is, creating nothing; None when there is none yet (embedded)."""
    if not settings.embedded:
        return settings
    if not (settings.var_dir / "pgdata" / "PG_VERSION").exists():
        return None  # starting the server would initialise a data directory
    embedded.start(settings.var_dir)
    if not embedded.has_database(embedded.POOL_DATABASE):
        return None
    return settings.with_database(embedded.runtime_url())
