"""Concord: create_app() binds the extensions and registers each domain's blueprint."""
from __future__ import annotations

import uuid
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from app import errors, headers, inbound, observability, openapi, provision
from app.audit import service as audit_service
from app.auth import dev_idp
from app.auth.guard import authenticate
from app.auth.jwks import JwksCache, http_fetch
from app.config import Settings
from app.console import crime as console_crime  # noqa: F401  (the crime pages join the console blueprint)
from app.console import signin as console_signin
from app.console import views as console_views
from app.db import Databases, Sessions, reset_context, set_context
from app.errors import ApiError, InvalidInput
from app.http import request_id
from app.people.identifiers import has_control_characters
from app.ratelimit import RateLimits
from app.sharing import visibility
from app.tenancy import modules as tenant_modules
from app.tenancy.registry import Registry

# Blueprints reachable without a token (the console signs in with its own session, metrics asks for its own token).
PUBLIC_BLUEPRINTS = frozenset({"health", "dev_idp", "api-docs", "docs_static", "console_auth", "metrics"})
MAX_PURPOSE_LENGTH = 500


@dataclass
class Services:
    """What every request needs, created once per process."""

    settings: Settings
    databases: Databases
    registry: Registry
    jwks: JwksCache
    dev_keys: dev_idp.KeyStore


def create_app(settings: Settings | None = None) -> Flask:
    """The Concord WSGI application."""
    settings = provision.database_settings(settings or Settings.from_env())
    app = Flask(__name__)
    app.config.update(
        API_TITLE="Concord",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/" if settings.api_docs else None,  # None: neither /docs nor the document served
        OPENAPI_JSON_PATH="api/v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/static/",
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
            "security": [{"bearerAuth": []}],
            "info": {"description": "Concord: intelligence, investigations, custody and case files."},
        },
    )
    assert isinstance(app.json, DefaultJSONProvider)
    app.json.sort_keys = False  # fields in the order the schemas declare them
    app.extensions["concord"] = services = _services(settings)
    _register_blueprints(app, settings)
    errors.register(app)  # after Api(), so one error shape wins over flask-smorest's default
    errors.register_outages(app)
    _register_error_traces(app, services)
    rate_limits = _register_rate_limits(app, settings)  # before the request hooks: bad tokens count per address
    _register_request_hooks(app, services)
    _register_module_check(app)  # after authentication: the force's `modules` decide
    inbound.register(app, settings)  # body size, JSON and query checks, after authentication
    rate_limits.init_after_auth(app)  # after them: per-user and per-force limits count verified principals
    headers.register(app)
    observability.init_app(app)  # logs, /metrics, traces
    if settings.trusted_proxies:  # the client's address as the load balancer reports it (rate limits, logs)
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    return app


def _services(settings: Settings) -> Services:
    databases = Databases(settings)
    registry = Registry(lambda: databases.overrides.get("pool") or databases.pool, settings.registry_ttl_seconds)
    registry.read_hooks.append(databases.release_departed)  # a force offboarded or moved leaves no idle connection
    dev_keys = dev_idp.KeyStore(settings.var_dir / "dev-idp")

    def fetch(url: str) -> dict:
        if settings.dev_idp:
            local = dev_idp.local_document(url, registry.tenants(), dev_keys)
            if local is not None:
                return local
        return http_fetch(url)

    jwks = JwksCache(fetch, max_age_seconds=settings.jwks_max_age_seconds,
                     require_https=settings.environment == "production")
    return Services(settings, databases, registry, jwks, dev_keys)


def _register_blueprints(app: Flask, settings: Settings) -> None:
    from app.audit.routes import blp as audit_blp
    from app.cases.routes import blp as cases_blp
    from app.custody.routes import blp as custody_blp
    from app.docs import static as docs_static
    from app.documents.routes import blp as documents_blp
    from app.intelligence.routes import blp as intelligence_blp
    from app.investigations.routes import blp as investigations_blp
    from app.people.routes import blp as people_blp
    from app.pole.routes import blp as pole_blp
    from app.retention.routes import blp as retention_blp
    from app.sharing.routes import blp as sharing_blp
    from app.system.routes import api as system_api
    from app.system.routes import health
    from app.tasks.routes import blp as tasks_blp

    api = openapi.ConcordApi(app)
    for blueprint in (system_api, people_blp, pole_blp, custody_blp, investigations_blp, intelligence_blp, tasks_blp,
                      documents_blp, cases_blp, sharing_blp, audit_blp, retention_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(health)
    if settings.api_docs:
        app.register_blueprint(docs_static)
    if settings.dev_idp:
        app.register_blueprint(dev_idp.blueprint)
    console_signin.init_app(app)
    CSRFProtect(app)  # checked by the console's forms (WTF_CSRF_CHECK_DEFAULT is off: the API takes no cookies)
    app.register_blueprint(console_signin.blueprint)
    app.register_blueprint(console_views.blueprint)


def _register_error_traces(app: Flask, services: Services) -> None:
    """What a refused or failed request leaves in the audit trail, written here once for every route: a 403, or
    a 404 for an id the force cannot see, as a refusal; the records an error answer discloses (a 409's probable
    duplicates), as consulted, and for other forces' records in their providers' access log.

    The use case's transaction has rolled back by now, so these go in a fresh session of their own; the client's
    answer is unchanged.
    """

    def traced(error: ApiError):
        principal = g.get("principal")
        if principal is not None and (error.refused or error.disclosed):
            with closing(services.databases.session(principal.tenant)) as session:
                if error.disclosed:
                    visibility.record_disclosure(session, principal, error.disclosed, via=request.endpoint or "")
                else:
                    audit_service.record_refusal(
                        session, principal, endpoint=request.endpoint or "", method=request.method,
                        route=request.url_rule.rule if request.url_rule else request.path,
                        ids={**(request.view_args or {}), **_uuids(request.args), **error.asked},
                        status=error.status)
        if request.blueprint == console_views.blueprint.name:
            return console_views.error_page(error)
        return errors.handle_api_error(error)

    app.register_error_handler(ApiError, traced)  # after errors.register: replaces its ApiError handler


def _uuids(args: Any) -> dict[str, uuid.UUID]:
    """The query string's values that are ids (a refused list of another force's record's documents)."""
    found = {}
    for name, value in args.items():
        try:
            found[name] = uuid.UUID(value)
        except ValueError:
            continue
    return found


def _register_rate_limits(app: Flask, settings: Settings) -> RateLimits:
    """Rate limits (app/ratelimit.py); the client-address limiter is bound here, the per-principal one later."""
    rate_limits = RateLimits(settings, public=lambda: request.blueprint in PUBLIC_BLUEPRINTS)
    app.extensions["concord_rate_limits"] = rate_limits
    rate_limits.init_before_auth(app)
    return rate_limits


def _register_module_check(app: Flask) -> None:
    """A module the force's file does not list answers 404 on every route of its blueprint (app/tenancy/modules.py)."""

    @app.before_request
    def _module_enabled() -> None:
        principal = g.get("principal")
        if principal is not None:
            tenant_modules.require(principal.tenant, request.blueprint)


def _header_text(value: str) -> str:
    """A header's text as the client wrote it: UTF-8 where its bytes are (WSGI gives them as Latin-1)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _register_request_hooks(app: Flask, services: Services) -> None:
    @app.before_request
    def _start() -> None:
        g.request_id = request_id()
        if request.blueprint in PUBLIC_BLUEPRINTS or request.url_rule is None:
            return
        if request.blueprint == console_views.blueprint.name:  # the server-side session, its stated purpose
            g.console = console_signin.authenticate()
            principal, purpose = g.console.principal, g.console.purpose
            g.console_purpose = purpose
        else:
            principal = authenticate()
            purpose = _header_text(request.headers.get("X-Purpose", "")).strip()
        if len(purpose) > MAX_PURPOSE_LENGTH:
            raise InvalidInput.field("X-Purpose", f"at most {MAX_PURPOSE_LENGTH} characters")
        if has_control_characters(purpose):  # it is shown to the providers in their access log, as it is
            raise InvalidInput.field("X-Purpose", "must not contain control characters (escapes, direction overrides)")
        principal = replace(principal, purpose=purpose, request_id=g.request_id)
        g.principal = principal
        g.context_token = set_context(principal.context())
        g.session = services.databases.session(principal.tenant)
        g.sessions = Sessions(services.databases, services.registry.tenants, principal.tenant, g.session)
        if purpose:
            # What other forces share with this one, from the agreements' home (the pool); each provider's database
            # still decides each row through its own sharing policies.
            g.principal = principal = replace(principal, shared=visibility.shared_sources(g.sessions.home()))
            reset_context(g.context_token)
            g.context_token = set_context(principal.context())

    @app.after_request
    def _stamp(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.teardown_request
    def _finish(_exc: BaseException | None) -> None:
        g.pop("session", None)
        sessions = g.pop("sessions", None)
        if sessions is not None:
            sessions.close()
        token = g.pop("context_token", None)
        if token is not None:
            reset_context(token)
