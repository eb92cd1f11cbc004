"""/healthz, /readyz (public) and /api/v1/me."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields

from app import migrate
from app.auth.guard import current_principal

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz():
    """Every database is reachable and at the migration head."""
    services = current_app.extensions["concord"]
    databases: dict[str, str] = {}
    ready = True
    try:
        statuses = migrate.status(services.databases.all_engines(services.registry.tenants()))
    except Exception as exc:  # any failure to reach a database means not ready
        current_app.logger.warning("readiness check failed: %s", exc)
        return jsonify(status="unavailable", reason="a database is unreachable"), 503
    for status in statuses:
        databases[status.name] = "ok" if status.at_head else f"at {status.current}, head is {status.head}"
        ready = ready and status.at_head
    return jsonify(status="ready" if ready else "not ready", databases=databases), 200 if ready else 503


api = ApiBlueprint("system", __name__, url_prefix="/api/v1", description="Who am I")


class MeSchema(Schema):
    user = fields.String()
    force = fields.String()
    force_name = fields.String()
    roles = fields.List(fields.String())
    permissions = fields.List(fields.String())


@api.route("/me")
class Me(MethodView):
    @api.response(200, MeSchema)
    def get(self):
        """The user, force, roles and permissions your token carries."""
        principal = current_principal()
        return {
            "user": principal.user_id,
            "force": principal.tenant.slug,
            "force_name": principal.tenant.name,
            "roles": sorted(principal.roles),
            "permissions": sorted(principal.permissions),
        }
