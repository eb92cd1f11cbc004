"""/api/v1/tasks: the user's and their roles' open tasks across every module."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.auth.guard import current_principal, requires
from app.auth.permissions import TASKS_READ
from app.tasks import service

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks", description="Tasks across modules")


class TaskSchema(Schema):
    id = fields.UUID()
    module = fields.String()
    record_type = fields.String()
    record_id = fields.UUID()
    kind = fields.String(metadata={"description": "assess, link, correct, complete, review_code_c, "
                                                  "authorise_deletion, interest, action"})
    assignee_user = fields.String(allow_none=True)
    assignee_role = fields.String(allow_none=True)
    due_on = fields.Date(allow_none=True)
    note = fields.String()


class TaskListSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema))


@blp.route("")
class Tasks(MethodView):
    @requires(TASKS_READ)
    @blp.response(200, TaskListSchema)
    def get(self):
        """Your open tasks and your roles', most urgent first."""
        return {"items": service.mine(g.session, current_principal())}
