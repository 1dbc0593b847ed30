"""Alembic environment: the connection comes from ``catalog.db.migrate``."""

from alembic import context

from catalog.tables import METADATA

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=METADATA, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
