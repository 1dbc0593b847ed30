"""Alembic environment: the connection comes from ``api.catalog.db.migrate``."""

from alembic import context

from api.catalog import incidents as _incidents  # noqa: F401 - registers the incident tables
from api.catalog.models import Base
from api.criteria import models as _criteria  # noqa: F401 - registers the criteria tables

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
