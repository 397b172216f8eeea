"""Store fixtures shared by every test layer.

``store`` is parametrised over in-memory SQLite, a SQLite file and PostgreSQL; ``pg_url`` gives
each test its own PostgreSQL schema (through ``search_path``), so tests of other modules, other
runs and other people sharing the database never see each other's rows.
"""
from __future__ import annotations

import os
import uuid
from typing import Iterator

import psycopg
import pytest

from engine.store import Store

PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_CONNECT_TIMEOUT = 3  # seconds before an unreachable PostgreSQL counts as missing


def _libpq(url: str) -> str:
    """SQLAlchemy's spelling -> libpq's (psycopg connects with the latter)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The PostgreSQL under test; fails under CI, skips elsewhere, when it is unreachable."""
    url = os.environ.get("STEPSTONE_TEST_POSTGRES_URL", PG_DEFAULT_URL)
    try:
        psycopg.connect(_libpq(url), connect_timeout=PG_CONNECT_TIMEOUT).close()
    except psycopg.OperationalError as error:
        message = f"PostgreSQL at {url} is unreachable ({error}); set STEPSTONE_TEST_POSTGRES_URL"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A URL whose connections live in a fresh, empty schema, dropped after the test."""
    schema = f"stepstone_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield _with_search_path(pg_server_url, schema)
    with psycopg.connect(_libpq(pg_server_url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["memory", "sqlite-file", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of an empty database of each kind Stepstone supports."""
    if request.param == "memory":
        return "sqlite://"
    if request.param == "sqlite-file":
        return f"sqlite:///{tmp_path / 'stepstone.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty Store on each kind of database."""
    with Store(store_url) as migrated:
        migrated.upgrade()
        yield migrated
