"""Security headers on every response, and no CORS.

The API answers JSON that no page should render, frame or embed: its policy allows nothing at all. The one HTML
page, /docs (Swagger UI, served by Concord itself from swagger-ui-bundle), may load scripts, styles and fonts
from Concord only and call the API on the same origin; it has no inline script (templates/swagger_ui.html), and
the images Swagger UI's stylesheet carries as data: URIs are allowed. Nothing may frame any of it.

No response carries Access-Control-Allow-Origin, so browsers keep other origins' pages from reading the API;
a deployment that wants a browser client on another origin adds it deliberately.
"""
from __future__ import annotations

from flask import Flask, request
from flask.wrappers import Response

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
DOCS_ENDPOINTS = frozenset({"api-docs.openapi_swagger_ui"})
# The console's pages (app/console) and the development sign-in page: Concord's own scripts and styles, forms
# posted back to Concord only.
CONSOLE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
                  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
CONSOLE_BLUEPRINTS = frozenset({"console", "console_auth"})
CONSOLE_ENDPOINTS = frozenset({"dev_idp.authorize"})
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def register(app: Flask) -> None:
    """Add the headers to every response Flask sends, errors included."""
    app.after_request(secure)


def secure(response: Response) -> Response:
    """The security headers; a view that set its own keeps it."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint in DOCS_ENDPOINTS:
        policy = DOCS_POLICY
    elif request.blueprint in CONSOLE_BLUEPRINTS or request.endpoint in CONSOLE_ENDPOINTS:
        policy = CONSOLE_POLICY
    else:
        policy = API_POLICY
    response.headers.setdefault("Content-Security-Policy", policy)
    return response
