"""Alembic environment: migrate the connection Stepstone hands over, or STEPSTONE_DB_URL.

``engine.store.migrate`` passes an open connection in ``config.attributes["connection"]`` (an
in-memory SQLite database only exists on that connection). People running ``alembic`` by hand
get a connection from ``STEPSTONE_DB_URL`` instead.
"""
from __future__ import annotations

import logging.config
import os

import sqlalchemy as sa
from alembic import context

from engine.store.dialects import create_engine
from engine.store.schema import metadata

DEFAULT_URL = "sqlite:///stepstone.db"  # the same default as `stepstone serve`


def run(connection: sa.Connection) -> None:
    # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    config = context.config
    if config.config_file_name and config.file_config.has_section("loggers"):
        logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = create_engine(os.environ.get("STEPSTONE_DB_URL", DEFAULT_URL))
    try:
        with engine.connect() as connection:
            run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Stepstone migrations run online only: set STEPSTONE_DB_URL and drop --sql")
main()
