"""Every way a bearer token can be wrong answers 401 with WWW-Authenticate: Bearer and reaches no handler."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from app.auth import dev_idp
from tests.conftest import make_token, unique


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(services, slug="northshire", **overrides):
    tenant = services.registry.by_slug(slug)
    now = int(time.time())
    claims = {"iss": tenant.identity.issuer, "aud": "concord", "sub": "pc-1", "roles": ["NS-Detective"],
              "iat": now, "nbf": now, "exp": now + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(services, claims, slug="northshire", header=None):
    key = services.dev_keys.key(slug)
    return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "at+jwt", **(header or {})}, claims, key)


def _unsigned(alg: str, claims) -> str:
    return f"{_b64({'alg': alg, 'typ': 'at+jwt', 'kid': 'x'})}.{_b64(claims)}."


def _hs256_with_public_key(services, claims) -> str:
    key = services.dev_keys.key("northshire")
    public_pem = key.as_pem(private=False)
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': key.kid})}.{_b64(claims)}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _tampered(services, claims) -> str:
    token = _signed(services, claims)
    head, _, sig = token.split(".")
    return f"{head}.{_b64({**claims, 'roles': ['NS-ForceAdmin']})}.{sig}"


def _foreign_key(services, claims) -> str:
    outsider = RSAKey.generate_key(2048, parameters={"kid": "attacker"})
    return jwt.encode({"alg": "RS256", "kid": "attacker", "typ": "at+jwt"}, claims, outsider)


CASES = {
    "two parts": lambda s: "abc.def",
    "garbage": lambda s: "not.a.token",
    "alg none": lambda s: _unsigned("none", _claims(s)),
    "alg None": lambda s: _unsigned("None", _claims(s)),
    "alg NONE": lambda s: _unsigned("NONE", _claims(s)),
    "alg nOnE": lambda s: _unsigned("nOnE", _claims(s)),
    "HS256 signed with the public key": lambda s: _hs256_with_public_key(s, _claims(s)),
    "unknown kid": lambda s: _foreign_key(s, _claims(s)),
    "jku header": lambda s: _signed(s, _claims(s), header={"jku": "https://evil.example/jwks.json"}),
    "jwk header": lambda s: _signed(s, _claims(s), header={"jwk": s.dev_keys.key("northshire").as_dict(private=False)}),
    "wrong issuer": lambda s: _signed(s, _claims(s, iss=_claims(s)["iss"] + "/")),
    "unknown issuer": lambda s: _signed(s, _claims(s, iss="https://idp.elsewhere.example")),
    "wrong audience": lambda s: _signed(s, _claims(s, aud="another-app")),
    "missing audience": lambda s: _signed(s, _claims(s, aud=None)),
    "expired": lambda s: _signed(s, _claims(s, exp=int(time.time()) - 120)),
    "not yet valid": lambda s: _signed(s, _claims(s, nbf=int(time.time()) + 120)),
    "force A's key with force B's issuer": lambda s: _signed(s, _claims(s, slug="southshire")),
    "tampered payload": lambda s: _tampered(s, _claims(s)),
    "an ID token, not an access token": lambda s: _signed(s, _claims(s, nonce="n"), header={"typ": "JWT"}),
    "no user": lambda s: _signed(s, _claims(s, sub=None)),
}


def test_no_token_is_401_with_bearer_challenge(client_and_probe):
    client, probe = client_and_probe
    response = client.post("/api/v1/people", json=probe.body)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["code"] == 401
    probe.assert_not_created()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_tokens_are_401_and_reach_no_handler(case, services, client_and_probe):
    client, probe = client_and_probe
    token = CASES[case](services)
    response = client.post("/api/v1/people", json=probe.body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.get_json()
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="concord"')
    assert "error=\"invalid_token\"" in response.headers["WWW-Authenticate"]
    probe.assert_not_created()


def test_wrong_scheme_is_401(client_and_probe, services):
    client, probe = client_and_probe
    token = make_token(services, "northshire", ["investigator"])
    response = client.post("/api/v1/people", json=probe.body, headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 401
    probe.assert_not_created()


def test_a_good_token_is_accepted_within_the_leeway(services, app):
    token = _signed(services, _claims(services, exp=int(time.time()) - 30))  # 30 s late: inside 60 s leeway
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json()["roles"] == ["investigator"]


def test_roles_are_mapped_from_the_forces_identity_provider_names(as_user):
    me = as_user("southshire", "auditor", "supervisor", user="sgt-7").get("/api/v1/me").get_json()
    assert me["user"] == "sgt-7" and me["force"] == "southshire"
    assert me["roles"] == ["auditor", "supervisor"]
    assert "audit:read" in me["permissions"] and "people:write" in me["permissions"]


def test_unmapped_idp_roles_grant_nothing(services, app):
    token = _signed(services, _claims(services, roles=["SS-Detective", "Wizard"]))  # another force's names
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["roles"] == [] and me["permissions"] == []


def test_missing_permission_is_403(as_user):
    auditor = as_user("northshire", "auditor")
    response = auditor.post("/api/v1/people", json={"surname": "X", "forenames": "Y", "sex": "male"})
    assert response.status_code == 403
    assert "people:write" in response.get_json()["message"]
    officer = as_user("northshire", "officer")
    assert officer.get("/api/v1/audit").status_code == 403


def test_keys_are_found_through_discovery_and_refreshed_on_a_new_kid(services, app):
    client = app.test_client()
    discovery = client.get("/dev-idp/northshire/.well-known/openid-configuration").get_json()
    assert discovery["issuer"] == services.registry.by_slug("northshire").identity.issuer
    jwks = client.get("/dev-idp/northshire/jwks.json").get_json()
    assert [k["kid"] for k in jwks["keys"]] == [services.dev_keys.key("northshire").kid]
    assert all("d" not in k for k in jwks["keys"])  # never a private part

    from app.auth.jwks import JwksCache

    fetched = []

    def fetch(url):
        fetched.append(url)
        return dev_idp.local_document(url, services.registry.tenants(), services.dev_keys)

    cache = JwksCache(fetch, min_refresh_seconds=0)
    issuer = discovery["issuer"]
    assert cache.key_set(issuer, services.dev_keys.key("northshire").kid) is not None
    assert cache.key_set(issuer, services.dev_keys.key("northshire").kid) is not None
    assert len(fetched) == 2  # discovery + JWKS once, then cached
    assert cache.key_set(issuer, "rotated-kid") is None
    assert len(fetched) == 4  # an unknown kid triggered one refetch


@pytest.fixture
def client_and_probe(app, services, north):
    """A client, and a probe that proves the handler never ran (no person with the probe's surname)."""

    class Probe:
        body = {"surname": unique("Probe"), "forenames": "Never", "sex": "male"}

        def assert_not_created(self):
            listing = north.get(f"/api/v1/people?surname={self.body['surname']}").get_json()
            assert listing["total"] == 0

    return app.test_client(), Probe()
