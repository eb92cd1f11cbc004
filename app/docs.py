"""The browsable API reference's static files, served from the installed swagger-ui-bundle (no CDN)."""
from flask import Blueprint, send_from_directory
from swagger_ui_bundle import swagger_ui_path

static = Blueprint("docs_static", __name__)


@static.get("/docs/static/<path:filename>")
def swagger_asset(filename: str):
    """Swagger UI's scripts and styles."""
    return send_from_directory(swagger_ui_path, filename)
