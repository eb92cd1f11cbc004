"""Settings from the environment (CONCORD_ prefix), checked at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from limits import parse_many
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent

ENVIRONMENTS = ("development", "test", "production")
LOG_FORMATS = ("json", "console")
MIN_CONSOLE_SECRET = 32  # characters of the console's cookie-signing key (a generated one has 64)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything Concord reads from its environment, resolved once."""

    environment: str = "development"
    database_url: str | None = None
    dedicated_database_url: str | None = None
    dedicated_overrides: dict[str, str] = field(default_factory=dict)
    owner_role: str = "concord_owner"
    owner_password: str | None = None
    # Passwords kept out of the URLs (a secrets manager injects each on its own, and rotates it): the pool's runtime
    # role (CONCORD_DATABASE_PASSWORD), and per dedicated force its runtime and owner roles' (suffix _<SLUG>).
    database_password: str | None = None
    dedicated_passwords: dict[str, str] = field(default_factory=dict)
    owner_passwords: dict[str, str] = field(default_factory=dict)
    var_dir: Path = ROOT / "var"
    tenants_dir: Path = ROOT / "tenants"
    dev_idp: bool = True
    public_url: str = "http://127.0.0.1:5000"
    pool_size: int = 5
    dedicated_pool_size: int = 2
    # Threads a worker keeps to search other databases' shared people at once (app/people/search.py); 0 searches
    # them one after another in the request's own thread.
    search_threads: int = 4
    orm_tenant_criteria: bool = True
    registry_ttl_seconds: float = 30.0
    log_level: str = "INFO"
    max_json_bytes: int = 1024 * 1024  # the largest JSON request body; uploads have their own limit
    # Identity: the longest an access token may be meant to live, and how long a fetched key set is trusted.
    max_token_lifetime_seconds: int = 12 * 3600
    jwks_max_age_seconds: float = 300.0
    # /docs and the OpenAPI document: served in development and test unless switched off, in production only
    # when switched on (CONCORD_API_DOCS).
    api_docs: bool = True
    # Rate limits (app/ratelimit.py): on/off, where the counters live (memory:// is per process: production
    # shares one store between its workers, e.g. redis://), and how many bad tokens one client address may send.
    rate_limits: bool = True
    rate_limit_storage: str = "memory://"
    rate_limit_bad_tokens: str = "60/minute"
    # Proxies in front whose X-Forwarded-For/-Proto are believed (the load balancer: 1). 0 believes none, so that
    # without a proxy nobody can pick the address their bad tokens are counted against.
    trusted_proxies: int = 0
    # Observability (app/observability.py, docs/operations.md): log lines as JSON objects (production's default) or
    # readable console lines (development's); the bearer token /metrics asks for (unset: no /metrics); the OTLP
    # endpoint traces are exported to (unset: no tracing).
    log_format: str = "console"
    metrics_token: str | None = None
    otlp_endpoint: str | None = None
    # The key that signs the console's Flask cookie (its sign-in flow and CSRF token): the same in every worker and
    # every machine behind the load balancer, so production takes it from CONCORD_CONSOLE_SECRET (a Secrets Manager
    # secret the task is given); development and test, unset, generate one per machine under var/.
    console_secret: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        """Read and check the CONCORD_* variables (and DATABASE_URL)."""
        env = dict(os.environ if env is None else env)
        environment = env.get("CONCORD_ENV", "development")
        if environment not in ENVIRONMENTS:
            raise ConfigError(f"CONCORD_ENV: must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
        dev_default = "1" if environment != "production" else "0"
        dev_idp = _flag(env, "CONCORD_DEV_IDP", dev_default)
        if dev_idp and environment == "production":
            raise ConfigError("CONCORD_DEV_IDP: the development identity provider cannot run in production")
        overrides = _suffixed(env, "CONCORD_DATABASE_URL_")
        settings = cls(
            environment=environment,
            database_password=env.get("CONCORD_DATABASE_PASSWORD") or None,
            dedicated_passwords=_suffixed(env, "CONCORD_DATABASE_PASSWORD_"),
            owner_passwords=_suffixed(env, "CONCORD_OWNER_PASSWORD_"),
            database_url=env.get("DATABASE_URL") or env.get("CONCORD_DATABASE_URL") or None,
            dedicated_database_url=env.get("CONCORD_DEDICATED_DATABASE_URL") or None,
            dedicated_overrides=overrides,
            owner_role=env.get("CONCORD_OWNER_ROLE", "concord_owner"),
            owner_password=env.get("CONCORD_OWNER_PASSWORD") or None,
            var_dir=Path(env.get("CONCORD_VAR_DIR", ROOT / "var")),
            tenants_dir=Path(env.get("CONCORD_TENANTS_DIR", ROOT / "tenants")),
            dev_idp=dev_idp,
            public_url=env.get("CONCORD_PUBLIC_URL", f"http://127.0.0.1:{env.get('PORT', '5000')}"),
            pool_size=_int(env, "CONCORD_POOL_SIZE", 5),
            dedicated_pool_size=_int(env, "CONCORD_DEDICATED_POOL_SIZE", 2),
            search_threads=_int(env, "CONCORD_SEARCH_THREADS", 4),
            registry_ttl_seconds=float(_int(env, "CONCORD_REGISTRY_TTL", 30)),
            log_level=env.get("CONCORD_LOG_LEVEL", "INFO"),
            max_json_bytes=_int(env, "CONCORD_MAX_JSON_BYTES", 1024 * 1024),
            max_token_lifetime_seconds=_positive(env, "CONCORD_MAX_TOKEN_LIFETIME", 12 * 3600),
            jwks_max_age_seconds=float(_positive(env, "CONCORD_JWKS_MAX_AGE", 300)),
            api_docs=_flag(env, "CONCORD_API_DOCS", dev_default),
            rate_limits=_flag(env, "CONCORD_RATE_LIMITS", "1"),
            rate_limit_storage=env.get("CONCORD_RATE_LIMIT_STORAGE") or "memory://",
            rate_limit_bad_tokens=_rate(env, "CONCORD_RATE_LIMIT_BAD_TOKENS", "60/minute"),
            trusted_proxies=_int(env, "CONCORD_TRUSTED_PROXIES", 0),
            log_format=env.get("CONCORD_LOG_FORMAT") or ("console" if environment == "development" else "json"),
            metrics_token=env.get("CONCORD_METRICS_TOKEN") or None,
            otlp_endpoint=(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                           or None),
            console_secret=env.get("CONCORD_CONSOLE_SECRET") or None,
        )
        if settings.console_secret is not None and len(settings.console_secret) < MIN_CONSOLE_SECRET:
            raise ConfigError(f"CONCORD_CONSOLE_SECRET: must be at least {MIN_CONSOLE_SECRET} characters, not "
                              f"{len(settings.console_secret)}")
        if settings.log_format not in LOG_FORMATS:
            raise ConfigError(f"CONCORD_LOG_FORMAT: must be json or console, not {settings.log_format!r}")
        if settings.max_json_bytes < 1024:
            raise ConfigError("CONCORD_MAX_JSON_BYTES: must be at least 1024 bytes")
        for name in ("database_url", "dedicated_database_url"):
            value = getattr(settings, name)
            if value:
                _check_url(name, value)
        return settings

    def with_database(self, url: str) -> "Settings":
        """The same settings pointed at another pooled database URL."""
        return replace(self, database_url=url)

    @property
    def embedded(self) -> bool:
        """No database URL given: Concord starts its own PostgreSQL under var/."""
        return not self.database_url

    def runtime_url(self) -> URL:
        """The pooled database, as the runtime role."""
        if not self.database_url:
            raise ConfigError("DATABASE_URL: not set and the embedded PostgreSQL is not started")
        return _with_password(_psycopg(make_url(self.database_url)), self.database_password)

    def dedicated_url(self, slug: str) -> URL:
        """A dedicated force's database, as the runtime role."""
        if slug in self.dedicated_overrides:
            url = _psycopg(make_url(self.dedicated_overrides[slug]))
        elif self.dedicated_database_url:
            url = _psycopg(make_url(self.dedicated_database_url.replace("{tenant}", slug)))
        else:
            pooled = self.runtime_url()
            url = pooled.set(database=f"{pooled.database}_{slug}")
        return _with_password(url, self.dedicated_passwords.get(slug))

    def owner_url(self, runtime: URL, *, database: str = "pool") -> URL:
        """The same database as the migration/owner role (`database`: 'pool' or the dedicated force's slug)."""
        return runtime.set(username=self.owner_role, password=self.owner_passwords.get(database, self.owner_password))

    @property
    def runtime_role(self) -> str:
        """The role the web app logs in with (granted rights by the migrations)."""
        return self.runtime_url().username or "concord_app"


def _psycopg(url: URL) -> URL:
    if url.drivername in ("postgres", "postgresql"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _with_password(url: URL, password: str | None) -> URL:
    """The URL with the password given on its own, unless the URL carries one."""
    return url.set(password=password) if password and url.password is None else url


def _suffixed(env: dict[str, str], prefix: str) -> dict[str, str]:
    """PREFIX<SLUG> variables, by slug (lower case)."""
    return {key[len(prefix):].lower(): value for key, value in env.items() if key.startswith(prefix) and value}


def _check_url(name: str, value: str) -> None:
    try:
        url = make_url(value.replace("{tenant}", "x"))
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise ConfigError(f"{name.upper()}: not a database URL ({exc})") from exc
    if not url.drivername.startswith("postgres"):
        raise ConfigError(f"{name.upper()}: Concord needs PostgreSQL, not {url.drivername}")


def _flag(env: dict[str, str], key: str, default: str) -> bool:
    value = env.get(key, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{key}: expected 1/0, true/false, not {value!r}")


def _int(env: dict[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{key}: expected a whole number, not {raw!r}") from exc


def _positive(env: dict[str, str], key: str, default: int) -> int:
    value = _int(env, key, default)
    if value <= 0:
        raise ConfigError(f"{key}: must be a positive number of seconds, not {value}")
    return value


def valid_rate(value: str) -> bool:
    """A rate-limit string Flask-Limiter reads, each rate allowing at least one request: "60/minute", "1/s; 9/h"."""
    try:
        items = parse_many(value)
    except ValueError:
        return False
    return bool(items) and all(item.amount >= 1 for item in items)


def _rate(env: dict[str, str], key: str, default: str) -> str:
    value = env.get(key) or default
    if not valid_rate(value):
        raise ConfigError(f'{key}: expected a rate such as "60/minute", not {value!r}')
    return value
