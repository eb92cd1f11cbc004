"""The console's server-side sessions (table console_session, migration 0020).

The cookie carries `<force slug>.<random secret>`; the row, in that force's database under its row-level
security, is found by the secret's SHA-256 and holds the access token the force's identity provider issued at
sign-in. Every page request verifies that token again with the API's one verifier (app.auth.tokens), so a
console user is exactly the principal the API would see; a session ends at sign-out, at its expiry (eight hours,
or the token's own expiry if sooner) or when its token no longer verifies.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select, update

from app.auth.principal import Principal
from app.auth.tokens import InvalidToken, verify_access_token
from app.console.models import ConsoleSession
from app.db import Databases, TenantContext, tenant_context, transaction
from app.tenancy.registry import Registry

COOKIE = "concord_console"
LIFETIME = timedelta(hours=8)
MAX_PURPOSE_LENGTH = 500


@dataclass(frozen=True)
class SignedIn:
    """The principal of a console request and the purpose the user stated for their work."""

    principal: Principal
    purpose: str
    cookie: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(cookie: str) -> tuple[str, str]:
    slug, _, secret = cookie.partition(".")
    return slug, secret


def start(databases: Databases, *, principal: Principal, access_token: str, token_expires_at: datetime) -> str:
    """Open a session for a verified principal; the cookie value to send."""
    secret = secrets.token_urlsafe(32)
    expires_at = min(datetime.now(timezone.utc) + LIFETIME, token_expires_at)
    with tenant_context(TenantContext(principal.tenant.id, principal.user_id)):
        db = databases.session(principal.tenant)
        try:
            with transaction(db):
                db.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= datetime.now(timezone.utc)))
                db.add(ConsoleSession(tenant_id=principal.tenant.id, secret_hash=_hash(secret),
                                      user_id=principal.user_id, access_token=access_token, purpose="",
                                      expires_at=expires_at))
        finally:
            db.close()
    return f"{principal.tenant.slug}.{secret}"


def find(databases: Databases, registry: Registry, *, cookie: str, max_token_lifetime: int,
         jwks) -> SignedIn | None:
    """The signed-in principal of a cookie, or None (no such session, expired, or its token no longer verifies)."""
    slug, secret = _split(cookie)
    tenant = registry.by_slug(slug) if slug and secret else None
    if tenant is None:
        return None
    with tenant_context(TenantContext(tenant.id)):
        db = databases.session(tenant)
        try:
            with transaction(db):
                row = db.scalar(select(ConsoleSession).where(
                    ConsoleSession.secret_hash == _hash(secret),
                    ConsoleSession.expires_at > datetime.now(timezone.utc)))
        finally:
            db.close()
    if row is None:
        return None
    try:
        principal = verify_access_token(row.access_token, registry, jwks, max_token_lifetime)
    except InvalidToken:
        end(databases, registry, cookie=cookie)
        return None
    if principal.tenant.id != tenant.id or principal.user_id != row.user_id:
        return None
    return SignedIn(principal, row.purpose, cookie)


def set_purpose(databases: Databases, signed_in: SignedIn, *, purpose: str) -> None:
    """Record the purpose the user states for what they do next (sent with every request, as X-Purpose is)."""
    _, secret = _split(signed_in.cookie)
    tenant = signed_in.principal.tenant
    with tenant_context(TenantContext(tenant.id, signed_in.principal.user_id)):
        db = databases.session(tenant)
        try:
            with transaction(db):
                db.execute(update(ConsoleSession).where(ConsoleSession.secret_hash == _hash(secret))
                           .values(purpose=purpose))
        finally:
            db.close()


def end(databases: Databases, registry: Registry, *, cookie: str) -> None:
    """Sign out: the session's row is deleted, so the cookie opens nothing any more."""
    slug, secret = _split(cookie)
    tenant = registry.by_slug(slug) if slug and secret else None
    if tenant is None:
        return
    with tenant_context(TenantContext(tenant.id)):
        db = databases.session(tenant)
        try:
            with transaction(db):
                db.execute(delete(ConsoleSession).where(ConsoleSession.secret_hash == _hash(secret)))
        finally:
            db.close()
