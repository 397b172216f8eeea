"""Wake-ups across processes on PostgreSQL: LISTEN/NOTIFY instead of polling harder.

A transaction that makes work due now (a new execution, a message for one) sends
``NOTIFY stepstone_work`` (``notify_txn``); PostgreSQL delivers it when, and only if, the
transaction commits. Every worker process listens on one connection of its own and wakes its
executor, so an idle worker can poll rarely and still start at once. On SQLite, where every
writer is in this process or polls, the executor's in-process signal is all there is.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

import sqlalchemy as sa

logger = logging.getLogger(__name__)

CHANNEL = "stepstone_work"
RECONNECT_SECONDS = 1.0  # after the listening connection fails (a restart of PostgreSQL)
_NOTIFY = sa.select(sa.func.pg_notify(CHANNEL, ""))


def notify_txn(conn: sa.Connection) -> None:
    """Wake every listening worker when this transaction commits (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_NOTIFY)


class Listener:
    """A thread that calls ``wake`` for every notification on ``CHANNEL``."""

    def __init__(self, libpq_url: str, wake: Callable[[], None]):
        self._url, self._wake = libpq_url, wake
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="stepstone-listen", daemon=True)

    def start(self) -> "Listener":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _listen(self) -> None:
        import psycopg  # the PostgreSQL driver: only processes on PostgreSQL load it

        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")  # a constant: the channel is ours
                    self._wake()  # anything committed while not listening is due now
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self._wake()
            except Exception as error:  # noqa: BLE001 - keep listening across restarts
                logger.info("listening for work on PostgreSQL failed (%s); retrying", error)
                self._stopping.wait(RECONNECT_SECONDS)
