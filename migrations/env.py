"""Alembic environment: run by `concord db upgrade` for the pooled database and each dedicated one.

The caller passes an open connection (as the owner role) and the runtime role's name in
config.attributes; RLS policies and grants are created by the migrations themselves.
"""
import sys
from pathlib import Path

from alembic import context

sys.path.insert(0, str(Path(__file__).resolve().parent))

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `concord db upgrade`, which supplies the connection")

context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations(runtime_role=config.attributes["runtime_role"])
