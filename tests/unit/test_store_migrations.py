"""Migrations: an upgraded database is exactly ``schema.metadata``, and downgrades undo it."""
from __future__ import annotations

from typing import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from engine.store import dialects, migrate
from engine.store.schema import metadata


@pytest.fixture
def connection(store_url: str) -> Iterator[sa.Connection]:
    """One connection to an empty database (in-memory SQLite lives only on it)."""
    engine = dialects.create_engine(store_url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def upgrade(conn: sa.Connection, revision: str = "head") -> None:
    with conn.begin():
        migrate.upgrade(conn, revision)


def diff(conn: sa.Connection) -> list:
    with conn.begin():
        return compare_metadata(MigrationContext.configure(conn), metadata)


def tables(conn: sa.Connection) -> set[str]:
    with conn.begin():
        return set(sa.inspect(conn).get_table_names())


def test_upgrade_matches_the_schema(connection):
    upgrade(connection)
    assert diff(connection) == []
    assert tables(connection) == set(metadata.tables) | {"alembic_version"}
    with connection.begin():
        assert migrate.current(connection) == head()


def test_the_comparison_sees_a_missing_index(connection):
    upgrade(connection)
    with connection.begin():
        connection.execute(sa.text("DROP INDEX ix_work_items_due_at"))
    assert [change[0] for change in diff(connection)] == ["add_index"]


def test_downgrade_to_base_and_upgrade_again(connection):
    upgrade(connection)
    with connection.begin():
        migrate.downgrade(connection, "base")
    assert tables(connection) == {"alembic_version"}
    upgrade(connection)
    assert diff(connection) == []


def test_migrations_form_one_line():
    scripts = ScriptDirectory.from_config(migrate.config())
    assert len(scripts.get_heads()) == 1
    assert [script.revision for script in scripts.walk_revisions()][-1] == "0001"


def head() -> str:
    return ScriptDirectory.from_config(migrate.config()).get_current_head()


def test_an_in_memory_database_gets_the_same_tables_and_rows_as_a_migrated_one(tmp_path):
    from engine.store import Store
    created, migrated = Store("sqlite://"), Store(f"sqlite:///{tmp_path / 'migrated.db'}")
    try:
        for store in (created, migrated):
            store.upgrade()

        def contents(store):
            with store._engine.connect() as conn:
                tables = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
                return {name: sorted(map(tuple, conn.execute(sa.text(f'SELECT * FROM "{name}"'))))
                        for name in tables}
        assert contents(created) == contents(migrated)
        assert set(contents(created)) == set(metadata.tables)
    finally:
        created.close()
        migrated.close()
