"""The browsable API reference's static files, served from the installed swagger-ui-bundle (no CDN), and the script
that starts it (templates/swagger_ui.html has no inline script, so its CSP can refuse them)."""
from pathlib import Path

from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS = Path(__file__).with_name("assets")

static = Blueprint("docs_static", __name__)


@static.get("/docs/static/<path:filename>")
def swagger_asset(filename: str):
    """Swagger UI's scripts and styles."""
    return send_from_directory(swagger_ui_path, filename)


@static.get("/docs/swagger-init.js")
def swagger_init():
    """The script that starts Swagger UI on /docs."""
    return send_from_directory(ASSETS, "swagger-init.js", mimetype="text/javascript")
