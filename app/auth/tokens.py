"""The one verifier of bearer tokens. Every route reaches it through app.auth.authenticate."""
from __future__ import annotations

import base64
import json
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from app.auth.jwks import JwksCache, KeysUnavailable
from app.auth.permissions import permissions_for
from app.auth.principal import Principal
from app.tenancy.registry import Registry

ALLOWED_ALGORITHMS = ("RS256", "ES256")  # asymmetric only: no 'none', no HMAC with a public key
# Keys come only from the issuer's JWKS: a token may not bring or point at its own.
FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "crit")
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
LEEWAY_SECONDS = 60
MAX_TOKEN_LENGTH = 16_384
MAX_LIFETIME_SECONDS = 12 * 3600  # the default of Settings.max_token_lifetime_seconds


class InvalidToken(Exception):
    """The bearer token is not acceptable; the message says why (safe to show the client)."""


def verify_access_token(token: str, registry: Registry, jwks: JwksCache,
                        max_lifetime: int = MAX_LIFETIME_SECONDS) -> Principal:
    """Verify signature, issuer, audience, lifetime and type; map the IdP's roles to Concord's.

    A token meant to live longer than `max_lifetime` seconds is refused even while it is unexpired: a stolen
    long-lived token would outlast the user's access being withdrawn at the IdP."""
    header, payload = _unverified_parts(token)
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise InvalidToken("signing algorithm not accepted")
    brought = [name for name in FORBIDDEN_HEADERS if name in header]
    if brought:
        raise InvalidToken(f"token header may not carry {', '.join(brought)}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("token names no key id")
    if not _is_access_token(header, payload):
        raise InvalidToken("not an access token")

    issuer = payload.get("iss")
    if not isinstance(issuer, str):
        raise InvalidToken("unknown issuer")
    tenant = registry.by_issuer(issuer)
    if tenant is None:
        raise InvalidToken("unknown issuer")
    try:
        keys = jwks.key_set(issuer, kid)
    except KeysUnavailable as exc:
        raise InvalidToken("the issuer's keys could not be read") from exc
    if keys is None:
        raise InvalidToken("unknown signing key")
    try:
        claims = jwt.decode(token, keys, algorithms=[alg]).claims
    except JoseError as exc:
        raise InvalidToken("bad signature") from exc

    identity = tenant.identity
    registry_ = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": identity.issuer},
        aud={"essential": True, "value": identity.audience},
        exp={"essential": True},
    )
    try:
        registry_.validate(claims)
    except JoseError as exc:
        raise InvalidToken(_claim_reason(exc)) from exc
    _check_lifetime(claims, max_lifetime)

    user = claims.get(identity.user_claim)
    if not isinstance(user, str) or not user.strip():
        raise InvalidToken(f"token has no {identity.user_claim!r} claim naming the user")
    idp_roles = claims.get(identity.roles_claim, [])
    if isinstance(idp_roles, str):
        idp_roles = [idp_roles]
    if not isinstance(idp_roles, list):
        raise InvalidToken(f"claim {identity.roles_claim!r} is not a list of roles")
    roles = frozenset(identity.role_map[r] for r in idp_roles if isinstance(r, str) and r in identity.role_map)
    return Principal(tenant=tenant, user_id=user, roles=roles, permissions=permissions_for(roles))


def _check_lifetime(claims: dict[str, Any], max_lifetime: int) -> None:
    """exp - iat, or exp - now without iat, at most max_lifetime (the registry has checked both are numbers
    and iat is not in the future)."""
    iat = claims.get("iat")
    lifetime = claims["exp"] - (iat if iat is not None else time.time())
    if lifetime > max_lifetime:
        raise InvalidToken(f"token lifetime of {_hours(lifetime)} exceeds the maximum of {_hours(max_lifetime)}")


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.4g} h"


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("token too long")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidToken("malformed token")
    try:
        header, payload = (json.loads(_b64url(p)) for p in parts[:2])
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise InvalidToken("malformed token")
    return header, payload


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _is_access_token(header: dict[str, Any], payload: dict[str, Any]) -> bool:
    """RFC 9068 'at+jwt', or the markers common IdPs put on access (never ID) tokens."""
    typ = header.get("typ")
    if isinstance(typ, str) and typ.lower() in ACCESS_TOKEN_TYPES:
        return True
    return payload.get("token_use") == "access" or payload.get("typ") == "Bearer"


def _claim_reason(exc: JoseError) -> str:
    name = type(exc).__name__
    if name == "ExpiredTokenError":
        return "token expired"
    if name == "InvalidTokenError":
        return "token not yet valid"
    return str(exc.description if hasattr(exc, "description") else exc) or "invalid claims"
