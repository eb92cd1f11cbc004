"""Identity hardening: key rotation, the JWKS fetch under failure and delay, the longest token lifetime."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from joserfc import jwt

from app.auth import dev_idp, jwks
from app.auth.jwks import JwksCache, KeysUnavailable
from app.auth.tokens import InvalidToken, verify_access_token
from app.config import ConfigError, Settings


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def idp(tmp_path, services):
    """A development IdP of its own (its keys under tmp_path), so rotating them leaves the app's alone."""
    keys = dev_idp.KeyStore(tmp_path / "dev-idp")
    fetched: list[str] = []

    def fetch(url: str) -> dict:
        fetched.append(url)
        document = dev_idp.local_document(url, services.registry.tenants(), keys)
        if document is None:
            raise KeysUnavailable(url)
        return document

    return keys, fetch, fetched


def _token(services, keys: dev_idp.KeyStore, slug: str = "northshire", **kwargs) -> str:
    return dev_idp.issue_token(keys, services.registry.by_slug(slug), "pc-1", ["investigator"], **kwargs)


def test_a_key_the_issuer_no_longer_publishes_stops_verifying_at_the_next_refresh(services, idp):
    keys, fetch, _ = idp
    clock = Clock()
    cache = JwksCache(fetch, max_age_seconds=300, clock=clock)
    issuer = services.registry.by_slug("northshire").identity.issuer
    old_token = _token(services, keys)
    assert verify_access_token(old_token, services.registry, cache).user_id == "pc-1"

    keys.rotate("northshire")  # new signing key; the old one is still published
    new_token = _token(services, keys)
    clock.now += 31  # past the interval that rate-limits refetching for unknown kids
    assert verify_access_token(new_token, services.registry, cache).user_id == "pc-1"  # new kid: refetched
    assert verify_access_token(old_token, services.registry, cache).user_id == "pc-1"

    keys.retire("northshire")  # the issuer stops publishing the old key
    assert verify_access_token(old_token, services.registry, cache)  # not refreshed yet: still held
    clock.now += 301  # the held key set is older than its max age: the next use refreshes it
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verify_access_token(old_token, services.registry, cache)
    assert verify_access_token(new_token, services.registry, cache).user_id == "pc-1"

    keys.rotate("northshire")
    keys.retire("northshire")
    cache.refresh(issuer)  # an explicit refresh has the same effect at once
    with pytest.raises(InvalidToken, match="unknown signing key"):
        verify_access_token(new_token, services.registry, cache)


def test_a_rotated_out_key_is_refused_through_the_api(app, services, idp, monkeypatch):
    keys, fetch, _ = idp
    monkeypatch.setattr(services, "jwks", JwksCache(fetch))
    client = app.test_client()
    old_token = _token(services, keys)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_token}"}).status_code == 200
    keys.rotate("northshire")
    keys.retire("northshire")
    services.jwks.refresh(services.registry.by_slug("northshire").identity.issuer)
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {old_token}"})
    assert response.status_code == 401
    assert "unknown signing key" in response.get_json()["message"]
    new_token = _token(services, keys)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {new_token}"}).status_code == 200


def test_a_failing_fetch_is_remembered_for_a_short_time(services, idp):
    keys, _, _ = idp
    calls: list[str] = []

    def failing(url: str) -> dict:
        calls.append(url)
        raise KeysUnavailable(f"{url}: connection refused")

    clock = Clock()
    cache = JwksCache(failing, failure_ttl_seconds=30, clock=clock)
    token = _token(services, keys)
    for _ in range(5):
        with pytest.raises(InvalidToken, match="keys could not be read"):
            verify_access_token(token, services.registry, cache)
    assert len(calls) == 1  # one attempt; the next four were answered from the remembered failure
    clock.now += 29
    with pytest.raises(InvalidToken):
        verify_access_token(token, services.registry, cache)
    assert len(calls) == 1
    clock.now += 2  # the failure is forgotten: the next request tries again
    with pytest.raises(InvalidToken):
        verify_access_token(token, services.registry, cache)
    assert len(calls) == 2


def test_keys_held_survive_a_short_outage_of_the_idp_but_not_a_long_one(services, idp):
    keys, fetch, fetched = idp
    down = False

    def flaky(url: str) -> dict:
        if down:
            fetched.append(url)
            raise KeysUnavailable(url)
        return fetch(url)

    clock = Clock()
    cache = JwksCache(flaky, max_age_seconds=300, failure_ttl_seconds=30, stale_grace_seconds=600, clock=clock)
    token = _token(services, keys)
    assert verify_access_token(token, services.registry, cache)
    down = True
    fetched.clear()
    clock.now += 400  # stale, and the refresh fails: the keys last published still verify
    assert verify_access_token(token, services.registry, cache)
    assert verify_access_token(token, services.registry, cache)
    assert len(fetched) == 1  # and the failure is not retried on every request
    clock.now += 600  # past the grace: no keys rather than old ones
    with pytest.raises(InvalidToken, match="keys could not be read"):
        verify_access_token(token, services.registry, cache)


def test_a_new_kid_refetches_at_most_once_per_interval(services, idp):
    keys, fetch, fetched = idp
    clock = Clock()
    cache = JwksCache(fetch, min_refresh_seconds=30, clock=clock)
    issuer = services.registry.by_slug("northshire").identity.issuer
    assert cache.key_set(issuer, keys.key("northshire").kid) is not None
    assert len(fetched) == 2  # discovery and JWKS
    clock.now += 31
    for _ in range(5):
        assert cache.key_set(issuer, "garbage-kid") is None
    assert len(fetched) == 4  # one refetch for the unknown kid, then none within the interval


def test_production_fetches_keys_over_https_only(services, idp):
    keys, fetch, fetched = idp
    cache = JwksCache(fetch, require_https=True)
    with pytest.raises(InvalidToken, match="keys could not be read"):
        verify_access_token(_token(services, keys), services.registry, cache)
    assert fetched == []  # the http:// issuer was never asked


def test_fetch_timeouts_are_short():
    assert jwks.CONNECT_TIMEOUT <= 3 and jwks.READ_TIMEOUT <= 3 and jwks.FETCH_DEADLINE <= 5


@pytest.fixture
def trickling_server():
    """An HTTP server on the loopback that answers a byte every 0.2 s and never finishes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                conn.recv(65536)  # the request (read, so closing later does not reset the connection)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
                deadline = time.monotonic() + 10
                while not stop.is_set() and time.monotonic() < deadline:
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        break
                    stop.wait(0.2)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/jwks.json"
    stop.set()
    thread.join(5)
    server.close()


def test_a_trickling_server_is_cut_off_by_the_deadline(trickling_server):
    started = time.monotonic()
    with pytest.raises(KeysUnavailable, match="not read within"):
        jwks.http_fetch(trickling_server, deadline=1.0)
    assert time.monotonic() - started < 3


def test_a_refused_connection_fails_fast():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    started = time.monotonic()
    with pytest.raises(KeysUnavailable):
        jwks.http_fetch(f"http://127.0.0.1:{port}/jwks.json")
    assert time.monotonic() - started < 3


# Token lifetime

def _signed(services, **claims) -> str:
    tenant = services.registry.by_slug("northshire")
    now = int(time.time())
    body = {"iss": tenant.identity.issuer, "aud": "concord", "sub": "pc-1", "roles": ["NS-Detective"],
            "iat": now, "exp": now + 600, **claims}
    key = services.dev_keys.key("northshire")
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt"},
                      {k: v for k, v in body.items() if v is not None}, key)


# Claims as offsets in seconds from the moment the test runs (a time fixed at collection could pass by a long run).
@pytest.mark.parametrize("offsets", [
    pytest.param({"exp": 13 * 3600}, id="exp - iat of 13 h"),
    pytest.param({"iat": None, "exp": 13 * 3600}, id="no iat, exp in 13 h"),
    pytest.param({"iat": -20 * 3600, "exp": 600}, id="issued 20 h ago"),
])
def test_a_token_meant_to_live_longer_than_the_maximum_is_refused(app, services, offsets):
    now = int(time.time())
    token = _signed(services, **{k: None if v is None else now + v for k, v in offsets.items()})
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "exceeds the maximum of 12 h" in response.get_json()["message"]
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_token_within_the_maximum_lifetime_is_accepted(app, services):
    for claims in ({"exp": int(time.time()) + 12 * 3600}, {"iat": None, "exp": int(time.time()) + 11 * 3600}):
        token = _signed(services, **claims)
        assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_token_issued_in_the_future_is_refused(app, services):
    token = _signed(services, iat=int(time.time()) + 3600, exp=int(time.time()) + 7200)
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_the_maximum_lifetime_is_a_setting(services, idp):
    keys, fetch, _ = idp
    token = _token(services, keys, lifetime=2 * 3600)
    cache = JwksCache(fetch)
    assert verify_access_token(token, services.registry, cache, max_lifetime=3 * 3600)
    with pytest.raises(InvalidToken, match="exceeds the maximum of 1 h"):
        verify_access_token(token, services.registry, cache, max_lifetime=3600)
    assert Settings.from_env({}).max_token_lifetime_seconds == 12 * 3600
    assert Settings.from_env({"CONCORD_MAX_TOKEN_LIFETIME": "3600"}).max_token_lifetime_seconds == 3600
    with pytest.raises(ConfigError, match="CONCORD_MAX_TOKEN_LIFETIME"):
        Settings.from_env({"CONCORD_MAX_TOKEN_LIFETIME": "0"})
