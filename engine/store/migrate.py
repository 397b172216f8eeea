"""Apply the Alembic migrations shipped as ``engine.migrations``, without an alembic.ini.

The configuration is built in code so that it works from an installed wheel (the scripts are
package data) and on a connection we already hold: an in-memory SQLite database exists only on
its one connection, so the migrations must run on it rather than open their own.
"""
from __future__ import annotations

import os

from typing import TYPE_CHECKING

import sqlalchemy as sa

import engine.migrations

if TYPE_CHECKING:  # alembic is imported when a migration runs: `stepstone run` never needs it
    from alembic.config import Config

SCRIPT_LOCATION = os.path.dirname(os.path.abspath(engine.migrations.__file__))
# Any constant works: it only has to be the same for every Stepstone process.
_PG_UPGRADE_LOCK = 0x5757_0001


def config(connection: sa.Connection | None = None) -> "Config":
    """An Alembic config for our scripts; ``env.py`` migrates ``connection`` when given."""
    from alembic.config import Config
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Migrate inside the caller's transaction.

    PostgreSQL: an advisory lock makes a second process (``serve`` and ``worker`` starting
    together) wait and then find the work done. SQLite: ``BEGIN IMMEDIATE`` does the same.
    """
    from alembic import command
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_UPGRADE_LOCK)))
    command.upgrade(config(connection), revision)


def create(connection: sa.Connection) -> None:
    """A throw-away in-memory database: the tables straight from the schema, and the rows the
    migrations seed, without running Alembic (tests/unit/test_store_migrations.py checks that
    both ways give the same tables and rows)."""
    from engine.store.schema import event_rules_version, metadata
    if sa.inspect(connection).has_table(event_rules_version.name):
        return  # created already: upgrading twice changes nothing, as with Alembic
    metadata.create_all(connection)
    connection.execute(event_rules_version.insert().values(id=1, version=0))  # as 0004 seeds it


def downgrade(connection: sa.Connection, revision: str) -> None:
    from alembic import command
    command.downgrade(config(connection), revision)


def current(connection: sa.Connection) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext
    return MigrationContext.configure(connection).get_current_revision()
