"""Signing keys per issuer: found through the issuer's OpenID discovery document and cached.

A cached key set is refetched when it is older than `max_age_seconds` (so a key the issuer stops publishing
stops verifying at that refresh) and when a token names a key id we do not hold (at most once per
`min_refresh_seconds`, so garbage kids cannot hammer the IdP). A failed fetch is remembered for
`failure_ttl_seconds`: requests meanwhile are answered from that memory, not by asking the IdP again. While the
IdP is unreachable the last key set it published keeps verifying for at most `stale_grace_seconds` past its age.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import requests
import urllib3
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

Fetch = Callable[[str], dict[str, Any]]

# A request that needs keys waits on the IdP: connect and each read are short, and so is the whole fetch.
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 3.0
FETCH_DEADLINE = 5.0
MAX_DOCUMENT_BYTES = 512 * 1024


class KeysUnavailable(Exception):
    """The issuer's discovery document or JWKS could not be read."""


def http_fetch(url: str, *, deadline: float = FETCH_DEADLINE) -> dict[str, Any]:
    """GET a JSON object over HTTP(S): no redirects, at most MAX_DOCUMENT_BYTES, within `deadline` seconds
    in all (a server trickling bytes cannot hold the request longer)."""
    started = time.monotonic()
    try:
        with requests.get(url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), stream=True, allow_redirects=False,
                          headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise KeysUnavailable(f"{url}: HTTP {response.status_code}")
            body = bytearray()
            # read1 returns what one socket read brings, so the deadline is checked however slowly bytes come.
            while chunk := response.raw.read1(16 * 1024, decode_content=True):
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise KeysUnavailable(f"{url}: larger than {MAX_DOCUMENT_BYTES} bytes")
                if time.monotonic() - started > deadline:
                    raise KeysUnavailable(f"{url}: not read within {deadline:g} s")
        document = json.loads(body)
    except (requests.RequestException, urllib3.exceptions.HTTPError, ValueError) as exc:
        raise KeysUnavailable(f"{url}: {exc}") from exc
    if not isinstance(document, dict):
        raise KeysUnavailable(f"{url}: not a JSON object")
    return document


@dataclass(frozen=True)
class _Entry:
    keys: KeySet
    kids: frozenset[str]
    fetched_at: float


@dataclass(frozen=True)
class _Failure:
    reason: str
    at: float


class JwksCache:
    """Key sets by issuer."""

    def __init__(self, fetch: Fetch = http_fetch, min_refresh_seconds: float = 30.0, *,
                 max_age_seconds: float = 300.0, failure_ttl_seconds: float = 30.0,
                 stale_grace_seconds: float = 600.0, require_https: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch
        self._min_refresh = min_refresh_seconds
        self._max_age = max_age_seconds
        self._failure_ttl = failure_ttl_seconds
        self._stale_grace = stale_grace_seconds
        self._require_https = require_https
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._failures: dict[str, _Failure] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def key_set(self, issuer: str, kid: str) -> KeySet | None:
        """The issuer's keys if one has this kid (refetching once if it is new to us), else None.

        Raises KeysUnavailable when the issuer's keys cannot be read and none recent enough are held."""
        entry = self._entries.get(issuer)
        if entry is not None and kid in entry.kids and self._clock() - entry.fetched_at < self._max_age:
            return entry.keys
        with self._lock(issuer):  # one fetch per issuer at a time; other forces' requests do not wait on it
            entry = self._entries.get(issuer)
            age = float("inf") if entry is None else self._clock() - entry.fetched_at
            if age >= self._max_age or (entry is not None and kid not in entry.kids and age >= self._min_refresh):
                entry = self._refresh(issuer, entry)
        assert entry is not None
        return entry.keys if kid in entry.kids else None

    def refresh(self, issuer: str) -> None:
        """Fetch the issuer's keys now (an operator's or a test's explicit refresh); raises KeysUnavailable."""
        with self._lock(issuer):
            self._failures.pop(issuer, None)
            self._refresh(issuer, None)

    def _refresh(self, issuer: str, held: _Entry | None) -> _Entry:
        now = self._clock()
        failure = self._failures.get(issuer)
        if failure is not None and now - failure.at < self._failure_ttl:
            return self._fallback(issuer, held, failure, now)
        try:
            entry = self._load(issuer)
        except KeysUnavailable as exc:
            failure = self._failures[issuer] = _Failure(str(exc), now)
            log.warning("keys of %s unavailable (not retried for %g s): %s", issuer, self._failure_ttl, exc)
            return self._fallback(issuer, held, failure, now)
        self._failures.pop(issuer, None)
        self._entries[issuer] = entry
        return entry

    def _fallback(self, issuer: str, held: _Entry | None, failure: _Failure, now: float) -> _Entry:
        """While a fetch is failing: the keys last published, if they are not too old; else the failure."""
        if held is not None and now - held.fetched_at < self._max_age + self._stale_grace:
            return held
        raise KeysUnavailable(failure.reason)

    def _lock(self, issuer: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(issuer, threading.Lock())

    def _get(self, url: str) -> dict[str, Any]:
        if self._require_https and not url.startswith("https://"):
            raise KeysUnavailable(f"{url}: keys are fetched over https only")
        return self._fetch(url)

    def _load(self, issuer: str) -> _Entry:
        document = self._get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        if document.get("issuer") != issuer or not isinstance(document.get("jwks_uri"), str):
            raise KeysUnavailable(f"{issuer}: discovery document names another issuer or no jwks_uri")
        raw = self._get(document["jwks_uri"])
        keys = raw.get("keys")
        if not isinstance(keys, list):
            raise KeysUnavailable(f"{issuer}: the JWKS has no list of keys")
        usable = [k for k in keys
                  if isinstance(k, dict) and k.get("kty") in ("RSA", "EC") and isinstance(k.get("kid"), str)
                  and k.get("use", "sig") == "sig"]
        try:
            key_set = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError) as exc:
            raise KeysUnavailable(f"{issuer}: unreadable JWKS ({exc})") from exc
        return _Entry(key_set, frozenset(k["kid"] for k in usable), self._clock())
