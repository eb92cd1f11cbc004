"""/api/v1/audit: a force's auditors read their own force's trail."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit import service
from app.audit.schemas import AuditPageSchema, AuditQuerySchema, CheckpointPageSchema, ProofSchema
from app.auth.guard import current_principal, requires
from app.auth.permissions import AUDIT_READ
from app.schemas import PageQuerySchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="The audit trail")


@blp.route("")
class AuditEvents(MethodView):
    @requires(AUDIT_READ)
    @blp.arguments(AuditQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, AuditPageSchema)
    def get(self, page: int, page_size: int, **filters):
        """Audit events of your own force, newest first."""
        query = service.AuditQuery(page=page, page_size=page_size, **filters)
        events, total = service.search(g.session, current_principal(), query)
        return {"items": events, "total": total, "page": page, "page_size": page_size}


@blp.route("/checkpoints")
class Checkpoints(MethodView):
    @requires(AUDIT_READ)
    @blp.arguments(PageQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, CheckpointPageSchema)
    def get(self, page: int, page_size: int):
        """Your force's signed checkpoints of its audit trail, the latest first (and as `latest`)."""
        return service.checkpoints(g.session, current_principal(), page=page, page_size=page_size)


@blp.route("/events/<uuid:event_id>/proof")
class EventProof(MethodView):
    @requires(AUDIT_READ)
    @blp.response(200, ProofSchema)
    def get(self, event_id):
        """An event of your force, its leaf and its inclusion proof against the latest checkpoint."""
        return service.proof(g.session, current_principal(), event_id=event_id)
