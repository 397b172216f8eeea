"""Turn a Stepstone database URL into a configured SQLAlchemy engine.

SQLite: WAL, synchronous=FULL, a 5 s busy timeout, and transactions begun by us (pysqlite's
own implicit BEGIN is switched off) so a writer can ask for ``BEGIN IMMEDIATE`` and take the
write lock before it reads: two claimers then queue instead of deadlocking on a lock upgrade.
PostgreSQL: psycopg 3 with a connection pool.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

SQLITE_BUSY_TIMEOUT = 5.0  # seconds a writer waits for the SQLite write lock
PG_POOL_SIZE = 10  # connections kept open per Store
IMMEDIATE = "stepstone_immediate"  # execution option: begin the SQLite transaction IMMEDIATE

_PG_PREFIXES = ("postgresql+psycopg://", "postgresql://", "postgres://")


def normalise_url(url: str) -> str:
    """Map the accepted spellings onto the driver we ship with (psycopg 3)."""
    for prefix in _PG_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith("sqlite:"):
        return url
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://...")


def is_memory(url: str) -> bool:
    """True for the in-memory SQLite spellings ("sqlite://", "sqlite:///:memory:")."""
    database = sa.make_url(url).database
    return url.startswith("sqlite") and database in (None, "", ":memory:")


def create_engine(url: str) -> sa.Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return sa.create_engine(url, pool_size=PG_POOL_SIZE, max_overflow=PG_POOL_SIZE,
                            pool_pre_ping=True)


def _sqlite_engine(url: str) -> sa.Engine:
    connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}
    memory = is_memory(url)
    if memory:
        engine = sa.create_engine("sqlite://", poolclass=StaticPool, connect_args=connect_args)
    else:
        engine = sa.create_engine(url, connect_args=connect_args)
    sa.event.listen(engine, "connect", _sqlite_on_connect(wal=not memory))
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_on_connect(wal: bool):
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
        cursor.close()
    return on_connect


def _sqlite_begin(connection: sa.Connection) -> None:
    immediate = connection.get_execution_options().get(IMMEDIATE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_unique_violation(error: sa.exc.IntegrityError) -> bool:
    """A duplicate key (someone else wrote it first), not a NOT NULL or other caller bug."""
    if getattr(error.orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return "UNIQUE constraint failed" in str(error.orig)  # SQLite, primary keys included
