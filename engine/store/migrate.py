"""Apply the Alembic migrations shipped as ``engine.migrations``, without an alembic.ini.

The configuration is built in code so that it works from an installed wheel (the scripts are
package data) and on a connection we already hold: an in-memory SQLite database exists only on
its one connection, so the migrations must run on it rather than open their own.
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

import engine.migrations

SCRIPT_LOCATION = os.path.dirname(os.path.abspath(engine.migrations.__file__))
# Any constant works: it only has to be the same for every Stepstone process.
_PG_UPGRADE_LOCK = 0x5757_0001


def config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config for our scripts; ``env.py`` migrates ``connection`` when given."""
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Migrate inside the caller's transaction.

    PostgreSQL: an advisory lock makes a second process (``serve`` and ``worker`` starting
    together) wait and then find the work done. SQLite: ``BEGIN IMMEDIATE`` does the same.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_UPGRADE_LOCK)))
    command.upgrade(config(connection), revision)


def downgrade(connection: sa.Connection, revision: str) -> None:
    command.downgrade(config(connection), revision)


def current(connection: sa.Connection) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    return MigrationContext.configure(connection).get_current_revision()
