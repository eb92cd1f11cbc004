"""What the `concord` commands share, whichever package they live in: the environment's settings and tenant
files, and the forces a command is told to act on by slug."""
from __future__ import annotations

from collections.abc import Iterable

import click

from app import provision
from app.config import Settings
from app.tenancy.config import PlatformConfig, Tenant, load


def settings() -> Settings:
    """The environment's settings, with the embedded database's URL when no DATABASE_URL is set."""
    return provision.database_settings(Settings.from_env())


def platform(current: Settings) -> PlatformConfig:
    """The forces and collaborations of the tenant files, validated (with production's rules in production)."""
    return load(current.tenants_dir, production=current.environment == "production")


def forces(config: PlatformConfig, slugs: Iterable[str]) -> list[Tenant]:
    """The forces named, in the order given, or every force by slug when none is; a slug with no force is refused,
    naming the forces there are."""
    named = list(slugs)
    unknown = sorted(set(named) - set(config.tenants))
    if unknown:
        known = ", ".join(sorted(config.tenants))
        raise click.ClickException(f"no force {', '.join(map(repr, unknown))}; known: {known}")
    return [config.tenants[slug] for slug in (named or sorted(config.tenants))]
