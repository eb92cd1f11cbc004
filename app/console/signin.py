"""Signing in to the console with the force's identity provider: OpenID Connect authorization code with PKCE
(S256), through authlib. The sign-in flow's state and code verifier wait in Flask's signed session cookie (it
carries nothing else but the CSRF token); the signed-in session itself is server-side (app.console.sessions).

The built-in development provider is served by this very server: its endpoints are this server's, and its code
is exchanged in-process (a one-worker server cannot make an HTTP request to itself), through the same function
its /token endpoint runs.
"""
from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.auth import dev_idp
from app.auth.jwks import KeysUnavailable, http_fetch
from app.auth.tokens import InvalidToken, verify_access_token
from app.config import ConfigError, Settings
from app.console import sessions
from app.tenancy.config import Tenant

blueprint = Blueprint("console_auth", __name__, url_prefix="/console", template_folder="templates",
                      static_folder="static", static_url_path="/static")
FLOW = "sign_in"


class SignInRequired(HTTPException):
    """No valid console session: the browser is sent to the sign-in page."""

    code = 303

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        target = url_for("console_auth.sign_in", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):  # a part of a page: htmx sends the whole browser to sign in
            response = Response("", 204)
            response.headers["HX-Redirect"] = url_for("console_auth.sign_in")
            return response
        return redirect(target, 303)


def secret_key(settings: Settings) -> str:
    """The key that signs Flask's session cookie (the sign-in flow and the CSRF token): CONCORD_CONSOLE_SECRET,
    required in production (every worker of every machine must share it); outside production, unset, one generated
    for this machine under var/ so that its workers share it."""
    if settings.console_secret:
        return settings.console_secret
    if settings.environment == "production":
        raise ConfigError("CONCORD_CONSOLE_SECRET: required in production (the key that signs the console's cookies, "
                          "the same for every worker and machine: give it from a secrets manager)")
    path = settings.var_dir / "console-secret"
    if not path.exists():
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # another worker may have won the race: then theirs is used
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text()


def init_app(app: Flask) -> None:
    """Flask's session cookie: HttpOnly, SameSite=Lax, Secure outside plain-http development."""
    settings = app.extensions["concord"].settings
    app.secret_key = secret_key(settings)
    app.config.update(SESSION_COOKIE_NAME="concord_console_flow", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.environment == "production",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=8), WTF_CSRF_CHECK_DEFAULT=False,
                      WTF_CSRF_TIME_LIMIT=None)


def authenticate() -> sessions.SignedIn:
    """The console request's signed-in principal and purpose, or SignInRequired."""
    services = current_app.extensions["concord"]
    cookie = request.cookies.get(sessions.COOKIE, "")
    signed_in = sessions.find(services.databases, services.registry, cookie=cookie, jwks=services.jwks,
                              max_token_lifetime=services.settings.max_token_lifetime_seconds) if cookie else None
    if signed_in is None:
        raise SignInRequired()
    return signed_in


def _is_local(tenant: Tenant) -> bool:
    return current_app.extensions["concord"].settings.dev_idp and dev_idp.is_dev_issuer(tenant.identity.issuer)


def _client(tenant: Tenant) -> OAuth2Session:
    return OAuth2Session(dev_idp.CLIENT_ID if _is_local(tenant) else tenant.identity.audience,
                         redirect_uri=url_for("console_auth.callback", _external=True), scope="openid",
                         code_challenge_method="S256")


def _endpoints(tenant: Tenant) -> dict[str, str]:
    if _is_local(tenant):
        return {"authorization_endpoint": url_for("dev_idp.authorize", slug=tenant.slug, _external=True)}
    return http_fetch(f"{tenant.identity.issuer.rstrip('/')}/.well-known/openid-configuration")


def _safe_next(target: str | None) -> str:
    """Only a path of the console itself (never another site) is a place to return to."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return url_for("console.home")


@blueprint.get("/sign-in")
def sign_in():
    """Choose your force; its identity provider signs you in."""
    tenants = sorted(current_app.extensions["concord"].registry.tenants(), key=lambda t: t.name)
    return render_template("console/sign_in.html", tenants=tenants, next=_safe_next(request.args.get("next")))


@blueprint.get("/sign-in/<slug>")
def start(slug: str):
    """Send the browser to the force's identity provider with a fresh state and PKCE challenge."""
    tenant = current_app.extensions["concord"].registry.by_slug(slug)
    if tenant is None:
        return render_template("console/error.html", status=404, message="No such force."), 404
    try:
        endpoint = _endpoints(tenant)["authorization_endpoint"]
    except (KeysUnavailable, KeyError):
        return render_template("console/error.html", status=503,
                               message=f"{tenant.name}'s identity provider cannot be reached."), 503
    verifier = generate_token(48)
    uri, state = _client(tenant).create_authorization_url(endpoint, code_verifier=verifier)
    session[FLOW] = {"state": state, "verifier": verifier, "force": slug,
                     "next": _safe_next(request.args.get("next"))}
    return redirect(uri, 303)


@blueprint.get("/callback")
def callback():
    """The identity provider's answer: the code is exchanged for an access token, verified like any API token,
    and a server-side session opened."""
    services = current_app.extensions["concord"]
    flow = session.pop(FLOW, None)
    if flow is None or request.args.get("state") != flow["state"] or "code" not in request.args:
        return _refused("The sign-in could not be completed (it expired, or was not started here). Try again.")
    tenant = services.registry.by_slug(flow["force"])
    if tenant is None:
        return _refused("No such force.")
    try:
        token = _exchange(tenant, request.args["code"], flow["verifier"])
        principal = verify_access_token(token["access_token"], services.registry, services.jwks,
                                        services.settings.max_token_lifetime_seconds)
    except (dev_idp.BadGrant, InvalidToken, KeyError) as exc:
        return _refused(f"Your identity provider's answer was refused: {exc}")
    if principal.tenant.id != tenant.id:
        return _refused("The identity provider signed you in to another force.")
    expires_at = datetime.now(timezone.utc) + timedelta(seconds=int(token.get("expires_in", 3600)))
    cookie = sessions.start(services.databases, principal=principal, access_token=token["access_token"],
                            token_expires_at=expires_at)
    response = redirect(flow["next"], 303)
    response.set_cookie(sessions.COOKIE, cookie, max_age=int(sessions.LIFETIME.total_seconds()), path="/console",
                        secure=_secure(), httponly=True, samesite="Lax")
    return response


def _exchange(tenant: Tenant, code: str, verifier: str) -> dict[str, Any]:
    redirect_uri = url_for("console_auth.callback", _external=True)
    if _is_local(tenant):
        return dev_idp.exchange_code(current_app.extensions["concord"].dev_keys, tenant, code=code,
                                     code_verifier=verifier, redirect_uri=redirect_uri)
    return dict(_client(tenant).fetch_token(_endpoints(tenant)["token_endpoint"], code=code, code_verifier=verifier))


def _secure() -> bool:
    return request.is_secure or current_app.extensions["concord"].settings.environment == "production"


def _refused(message: str):
    return render_template("console/error.html", status=400, message=message,
                           retry=url_for("console_auth.sign_in")), 400


@blueprint.post("/sign-out")
def sign_out():
    """End the session: its server-side row is deleted and the cookie cleared."""
    current_app.extensions["csrf"].protect()
    services = current_app.extensions["concord"]
    sessions.end(services.databases, services.registry, cookie=request.cookies.get(sessions.COOKIE, ""))
    session.clear()
    response = redirect(url_for("console_auth.sign_in", signed_out=1), 303)
    response.delete_cookie(sessions.COOKIE, path="/console", secure=_secure(), httponly=True, samesite="Lax")
    return response
