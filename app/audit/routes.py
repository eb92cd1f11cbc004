"""/api/v1/audit: a force's auditors read their own force's trail."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit import service
from app.audit.schemas import AuditPageSchema, AuditQuerySchema
from app.auth.guard import current_principal, requires
from app.auth.permissions import AUDIT_READ

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
