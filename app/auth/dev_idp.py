"""The built-in development identity provider: one signing key per force, kept under var/dev-idp/.

Serves an OpenID discovery document and a JWKS per force, and signs access tokens for
`concord token` and the tests. For the console it is also an authorization server (authorization code with
PKCE, S256 only): /authorize shows a sign-in page where you pick the user and their roles, and /token exchanges
the code for an access token. The code is itself a short-lived token signed with the force's key (nothing is
stored, so any worker can redeem it); it names the redirect URI and the PKCE challenge it was issued for.
Switched off unless Concord runs in development or test mode.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, jsonify, redirect, render_template, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from app.tenancy.config import Tenant

PATH_PREFIX = "/dev-idp"
TOKEN_LIFETIME = 3600
CODE_LIFETIME = 120
CLIENT_ID = "concord-console"


class KeyStore:
    """Per-force RSA keys, created on first use and written atomically (several workers or threads may race).

    `rotate` makes a new signing key, as a real IdP does from time to time; the keys it replaced stay published
    (in this process) until `retire` drops them, so tokens they signed verify until then and no longer after."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._cache: dict[str, RSAKey] = {}
        self._retiring: dict[str, list[RSAKey]] = {}

    def key(self, slug: str) -> RSAKey:
        """The force's current signing key."""
        if slug not in self._cache:
            self._cache[slug] = self._load_or_create(slug)
        return self._cache[slug]

    def jwks(self, slug: str) -> dict[str, Any]:
        """The published key set: the signing key and any not yet retired."""
        keys = [self.key(slug), *self._retiring.get(slug, [])]
        return {"keys": [k.as_dict(private=False) for k in keys]}

    def rotate(self, slug: str) -> RSAKey:
        """Sign with a new key from now on; the old one stays published until `retire`."""
        previous = self.key(slug)
        key = _new_key(slug)
        tmp = self._write_tmp(slug, key)
        os.replace(tmp, self._path(slug))
        self._retiring.setdefault(slug, []).append(previous)
        self._cache[slug] = key
        return key

    def retire(self, slug: str) -> None:
        """Stop publishing every key but the signing key."""
        self._retiring.pop(slug, None)

    def _path(self, slug: str) -> Path:
        return self.directory / f"{slug}.jwk.json"

    def _write_tmp(self, slug: str, key: RSAKey) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self._path(slug).with_suffix(f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")  # unique per process, thread
        tmp.write_text(json.dumps(key.as_dict(private=True)))
        os.chmod(tmp, 0o600)
        return tmp

    def _load_or_create(self, slug: str) -> RSAKey:
        path = self._path(slug)
        if not path.exists():
            tmp = self._write_tmp(slug, _new_key(slug))
            try:
                os.link(tmp, path)  # fails if another process won the race; then use theirs
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return RSAKey.import_key(json.loads(path.read_text()))


def _new_key(slug: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": f"{slug}-{uuid.uuid4().hex[:8]}", "use": "sig",
                                                 "alg": "RS256"})


def issue_token(
    keys: KeyStore,
    tenant: Tenant,
    user: str,
    roles: list[str],
    *,
    lifetime: int = TOKEN_LIFETIME,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """Sign an access token for a user of `tenant`; `roles` are Concord roles, sent as the force's IdP names."""
    idp_names = {concord: idp for idp, concord in tenant.identity.role_map.items()}
    unknown = [r for r in roles if r not in idp_names]
    if unknown:
        raise ValueError(f"{tenant.slug} maps no identity-provider role onto: {', '.join(unknown)}")
    now = int(time.time())
    claims = {
        "iss": tenant.identity.issuer,
        "aud": tenant.identity.audience,
        tenant.identity.user_claim: user,
        tenant.identity.roles_claim: [idp_names[r] for r in roles],
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "client_id": "concord-dev",
    }
    claims.update(extra_claims or {})
    key = keys.key(tenant.slug)
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"}, claims, key)


def discovery_document(tenant: Tenant) -> dict[str, Any]:
    issuer = tenant.identity.issuer
    return {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/jwks.json",
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "token"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
    }


def is_dev_issuer(issuer: str) -> bool:
    """Whether an issuer URL names the built-in provider (path /dev-idp/<slug>)."""
    from urllib.parse import urlsplit

    parts = urlsplit(issuer).path.rstrip("/").split("/")
    return len(parts) == 3 and parts[1] == PATH_PREFIX.strip("/")


blueprint = Blueprint("dev_idp", __name__, url_prefix=PATH_PREFIX)


def _tenant(slug: str) -> Tenant:
    tenant = current_app.extensions["concord"].registry.by_slug(slug)
    if tenant is None or not is_dev_issuer(tenant.identity.issuer):
        abort(404)
    return tenant


@blueprint.get("/<slug>/.well-known/openid-configuration")
def openid_configuration(slug: str):
    """The OpenID discovery document of a demo force's development identity provider."""
    return jsonify(discovery_document(_tenant(slug)))


@blueprint.get("/<slug>/jwks.json")
def jwks(slug: str):
    """The public signing keys of a demo force's development identity provider."""
    tenant = _tenant(slug)
    return jsonify(current_app.extensions["concord"].dev_keys.jwks(tenant.slug))


class BadGrant(Exception):
    """The code cannot be exchanged; the message is the OAuth error description."""


def issue_code(keys: KeyStore, tenant: Tenant, *, user: str, roles: list[str], redirect_uri: str,
               code_challenge: str) -> str:
    """An authorization code for a user and roles: signed, short-lived, bound to the redirect URI and challenge."""
    now = int(time.time())
    claims = {"iss": tenant.identity.issuer, "aud": CLIENT_ID, "sub": user, "roles": roles, "iat": now,
              "exp": now + CODE_LIFETIME, "redirect_uri": redirect_uri, "code_challenge": code_challenge}
    key = keys.key(tenant.slug)
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "dev-code"}, claims, key)


def exchange_code(keys: KeyStore, tenant: Tenant, *, code: str, code_verifier: str,
                  redirect_uri: str) -> dict[str, Any]:
    """The token response for an authorization code, checked against its PKCE verifier and redirect URI."""
    try:
        token = jwt.decode(code, keys.key(tenant.slug), algorithms=["RS256"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": tenant.identity.issuer},
                              aud={"essential": True, "value": CLIENT_ID},
                              exp={"essential": True}).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise BadGrant("the code is invalid or has expired") from exc
    if token.header.get("typ") != "dev-code":
        raise BadGrant("not an authorization code")
    claims = token.claims
    challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
    if not code_verifier or challenge != claims["code_challenge"]:
        raise BadGrant("the code verifier does not match the code challenge")
    if redirect_uri != claims["redirect_uri"]:
        raise BadGrant("the redirect URI is not the one the code was issued for")
    try:
        access_token = issue_token(keys, tenant, claims["sub"], claims["roles"])
    except ValueError as exc:
        raise BadGrant(str(exc)) from exc
    return {"access_token": access_token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME}


@blueprint.route("/<slug>/authorize", methods=["GET", "POST"])
def authorize(slug: str):
    """The sign-in page of a demo force: pick the user and their roles; answers the client with a code."""
    tenant = _tenant(slug)
    params = request.values
    redirect_uri = params.get("redirect_uri", "")
    problems = []
    if params.get("response_type") != "code" or params.get("client_id") != CLIENT_ID:
        problems.append("This provider answers only response_type=code for the client concord-console.")
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        problems.append("A PKCE code challenge (S256) is required.")
    if not redirect_uri.startswith(request.host_url):
        problems.append("The redirect URI must be on this server.")
    if problems:
        return render_template("dev_idp_sign_in.html", tenant=tenant, problems=problems, roles=[],
                               params=params), 400
    roles = sorted(set(tenant.identity.role_map.values()))
    errors: dict[str, str] = {}
    if request.method == "POST":
        current_app.extensions["csrf"].protect()  # Flask-WTF's CSRFProtect, bound in create_app
        user = params.get("user", "").strip()
        chosen = [r for r in params.getlist("roles") if r in roles]
        if not user:
            errors["user"] = "Enter a user name"
        if not chosen:
            errors["roles"] = "Choose at least one role"
        if not errors:
            code = issue_code(current_app.extensions["concord"].dev_keys, tenant, user=user, roles=chosen,
                              redirect_uri=redirect_uri, code_challenge=params["code_challenge"])
            return redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': params.get('state', '')})}")
    return render_template("dev_idp_sign_in.html", tenant=tenant, problems=[], roles=roles, params=params,
                           errors=errors), 422 if errors else 200


@blueprint.post("/<slug>/token")
def token(slug: str):
    """The token endpoint: an authorization code and its PKCE verifier for an access token."""
    tenant = _tenant(slug)
    if request.form.get("grant_type") != "authorization_code":
        return jsonify({"error": "unsupported_grant_type"}), 400
    try:
        return jsonify(exchange_code(current_app.extensions["concord"].dev_keys, tenant,
                                     code=request.form.get("code", ""),
                                     code_verifier=request.form.get("code_verifier", ""),
                                     redirect_uri=request.form.get("redirect_uri", "")))
    except BadGrant as exc:
        return jsonify({"error": "invalid_grant", "error_description": str(exc)}), 400


def local_document(url: str, tenants: list[Tenant], keys: KeyStore) -> dict[str, Any] | None:
    """Answer a discovery or JWKS fetch for a built-in issuer in-process (a one-worker server
    cannot make an HTTP request to itself); None for any other URL."""
    for tenant in tenants:
        issuer = tenant.identity.issuer
        if not is_dev_issuer(issuer):
            continue
        if url == f"{issuer}/.well-known/openid-configuration":
            return discovery_document(tenant)
        if url == f"{issuer}/jwks.json":
            return keys.jwks(tenant.slug)
    return None
