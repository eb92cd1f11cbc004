"""Signing keys per issuer: found through the issuer's OpenID discovery document, cached,
refreshed when a token names a key id we do not hold (rate-limited, so garbage kids cannot hammer the IdP)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

Fetch = Callable[[str], dict[str, Any]]


class KeysUnavailable(Exception):
    """The issuer's discovery document or JWKS could not be read."""


def http_fetch(url: str) -> dict[str, Any]:
    """GET a JSON document over HTTP(S)."""
    try:
        response = requests.get(url, timeout=5)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise KeysUnavailable(f"{url}: {exc}") from exc


@dataclass
class _Entry:
    keys: KeySet
    kids: frozenset[str]
    fetched_at: float


class JwksCache:
    """Key sets by issuer."""

    def __init__(self, fetch: Fetch = http_fetch, min_refresh_seconds: float = 30.0):
        self._fetch = fetch
        self._min_refresh = min_refresh_seconds
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def key_set(self, issuer: str, kid: str) -> KeySet | None:
        """The issuer's keys if one has this kid (refetching once if it is new to us), else None."""
        entry = self._entries.get(issuer)
        if entry is not None and kid in entry.kids:
            return entry.keys
        with self._lock:
            entry = self._entries.get(issuer)
            if entry is None or time.monotonic() - entry.fetched_at >= self._min_refresh:  # new, or stale
                entry = self._load(issuer)
                self._entries[issuer] = entry
        return entry.keys if kid in entry.kids else None

    def _load(self, issuer: str) -> _Entry:
        document = self._fetch(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        if document.get("issuer") != issuer or not isinstance(document.get("jwks_uri"), str):
            raise KeysUnavailable(f"{issuer}: discovery document names another issuer or no jwks_uri")
        raw = self._fetch(document["jwks_uri"])
        usable = [k for k in raw.get("keys", []) if k.get("kty") in ("RSA", "EC") and k.get("kid")]
        try:
            keys = KeySet.import_key_set({"keys": usable})
        except JoseError as exc:
            raise KeysUnavailable(f"{issuer}: unreadable JWKS ({exc})") from exc
        return _Entry(keys, frozenset(k["kid"] for k in usable), time.monotonic())
