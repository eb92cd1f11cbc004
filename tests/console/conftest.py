"""Signing in to the console as a person would: the force's sign-in link, the development identity provider's
page (user and roles), the callback that opens the server-side session."""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(response) -> str:
    """The CSRF token a page's form carries."""
    found = CSRF.search(response.get_data(as_text=True))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client, slug: str, *roles: str, user: str = "pc-101"):
    """Sign in through the real flow; the client keeps the session cookie."""
    start = client.get(f"/console/sign-in/{slug}")
    assert start.status_code == 303, start.get_data(as_text=True)
    authorize = urlsplit(start.headers["Location"])
    page = client.get(f"{authorize.path}?{authorize.query}")
    assert page.status_code == 200, page.get_data(as_text=True)
    form = dict(parse_qsl(authorize.query))
    answer = client.post(authorize.path, data={**form, "csrf_token": csrf(page), "user": user, "roles": list(roles)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    callback = urlsplit(answer.headers["Location"])
    done = client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 303, done.get_data(as_text=True)
    return client


def state_purpose(client, purpose: str = "Operation Kestrel: locating a missing person"):
    page = client.get("/console/purpose")
    response = client.post("/console/purpose", data={"purpose": purpose, "next": "/console/",
                                                     "csrf_token": csrf(page)})
    assert response.status_code == 303
    return client


@pytest.fixture
def console(app):
    """A signed-in console client: console('northshire', 'officer', user=...)."""

    def factory(slug: str, *roles: str, user: str = "pc-101", purpose: bool = True):
        client = sign_in(app.test_client(), slug, *roles, user=user)
        return state_purpose(client) if purpose else client

    return factory
