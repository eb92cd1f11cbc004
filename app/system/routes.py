"""/healthz, /readyz (public) and /api/v1/me."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import Schema, fields
from sqlalchemy.exc import DBAPIError

from app import migrate
from app.auth.guard import current_principal
from app.errors import RETRY_AFTER_SECONDS

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz():
    """The process is alive."""
    return jsonify(status="ok")


@health.get("/readyz")
def readyz():
    """Every database is reachable and at the migration head; 503 naming each one that is not."""
    services = current_app.extensions["concord"]
    try:
        tenants = services.registry.tenants()
    except Exception as exc:  # the registry lives in the pooled database, and could not be read even once
        current_app.logger.warning("readiness: the tenant registry is unreadable: %s", _first_line(exc))
        return _answer({"pool": UNREACHABLE})
    return _answer({name: _state(name, engine)
                    for name, engine in services.databases.all_engines(tenants).items()})


UNREACHABLE = "unreachable"


def _state(name: str, engine) -> str:
    """'ok', the revision a database is at when that is not the head, or 'unreachable'."""
    for attempt in (1, 2):
        try:
            status = migrate.status({name: engine})[0]
            break
        except DBAPIError as exc:
            if attempt == 1 and exc.connection_invalidated:
                continue  # a pooled connection the server dropped before it went down (or came back): once more
            current_app.logger.warning("readiness: database %s is unreachable: %s", name, _first_line(exc))
            return UNREACHABLE
        except Exception as exc:  # any failure to reach a database means not ready
            current_app.logger.warning("readiness: database %s is unreachable: %s", name, _first_line(exc))
            return UNREACHABLE
    return "ok" if status.at_head else f"at {status.current}, head is {status.head}"


def _answer(databases: dict[str, str]):
    ready = all(state == "ok" for state in databases.values())
    response = jsonify(status="ready" if ready else "not ready", databases=databases)
    response.status_code = 200 if ready else 503
    if UNREACHABLE in databases.values():
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _first_line(error: Exception) -> str:
    cause = getattr(error, "orig", None) or error  # the driver's message, not SQLAlchemy's statement
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


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
