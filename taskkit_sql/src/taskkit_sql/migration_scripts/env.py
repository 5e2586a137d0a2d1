"""Alembic environment of taskkit-sql: run by ``taskkit_sql.migrations``, never by hand.

The caller puts ``namespace`` and either ``connection`` (online) or
``dialect_name`` (offline, ``--sql``) into ``config.attributes``. Each
namespace has its own version table, ``<namespace>_alembic_version``.
"""

from __future__ import annotations

from alembic import context

config = context.config
namespace = config.attributes["namespace"]
version_table = f"{namespace}_alembic_version"

if context.is_offline_mode():
    context.configure(
        dialect_name=config.attributes["dialect_name"],
        literal_binds=True,
        version_table=version_table,
    )
else:
    context.configure(connection=config.attributes["connection"], version_table=version_table)

with context.begin_transaction():
    context.run_migrations()
