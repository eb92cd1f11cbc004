"""Tasks for a user or a role, from every module: GET /api/v1/tasks."""
