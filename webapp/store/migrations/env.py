"""Alembic environment: always run programmatically with a connection (see webapp.store.database)."""

from alembic import context

from webapp.store.tables import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through webapp.store.database.upgrade_database() or tcup-server init-db")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
