"""The built-in development identity provider: one signing key per force, kept under var/dev-idp/.

Serves an OpenID discovery document and a JWKS per force, and signs access tokens for
`concord token` and the tests. Switched off unless Concord runs in development or test mode.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, jsonify
from joserfc import jwt
from joserfc.jwk import RSAKey

from app.tenancy.config import Tenant

PATH_PREFIX = "/dev-idp"
TOKEN_LIFETIME = 3600


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
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["token"],
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
