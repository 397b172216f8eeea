"""Retention: deletes finished executions, settled bus events and dead letters once they are
older than ``retention_days`` (AWS keeps executions 90 days).

A thread started with the engine purges at start and then every ``retention_interval_seconds``.
A purge is a series of short transactions of at most ``batch`` rows each (``Store.purge_expired``),
so executor workers and the dispatcher wait for one batch at most, never for the whole purge.
Every process may run it at once: batches delete by key and, on PostgreSQL, skip the rows
another purge has locked (see ``engine.store.retention``).
"""
from __future__ import annotations

import logging
import threading
from collections import Counter

from engine.clock import Clock
from engine.settings import Settings
from engine.store import Store
from engine.store.retention import EXPIRIES

logger = logging.getLogger(__name__)

BATCH = 500  # rows per transaction: a short write lock on SQLite, few row locks on PostgreSQL
DAY = 86_400.0


class Retention:
    """Purges by the engine's clock; ``batch`` rows of a kind per transaction."""

    def __init__(self, store: Store, settings: Settings, clock: Clock, batch: int = BATCH):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.batch = batch
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- purging
    def purge(self, days: float | None = None, dry_run: bool = False,
              stopping: threading.Event | None = None) -> dict[str, int]:
        """Delete (``dry_run``: count) what is older than ``days`` (default the setting): the
        rows, by table (tables without any left out); nothing when retention is off (0 days).
        ``stopping``, once set, ends the purge between two batches (the next one goes on)."""
        days = self.settings.retention_days if days is None else days
        if days <= 0:
            return {}
        before = self.clock.now() - days * DAY
        if dry_run:
            counts = self.store.count_expired(before)
        else:
            counts = Counter()
            for kind in EXPIRIES:  # dead letters first: a letter never outlives its event
                counts.update(self._purge_kind(kind, before, stopping or threading.Event()))
        return {table: count for table, count in counts.items() if count}

    def _purge_kind(self, kind: str, before: float, stopping: threading.Event) -> Counter[str]:
        deleted: Counter[str] = Counter()
        while not stopping.is_set():
            batch = self.store.purge_expired(kind, before, self.batch)
            deleted.update(batch)
            if batch[kind] < self.batch:  # a short batch: nothing older is left
                break
        return deleted

    # ---- the background thread
    def start(self) -> None:
        if self._thread is not None or self.settings.retention_days <= 0:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="stepstone-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()  # also ends a purge in progress between two batches
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        # at start too: a process restarted more often than the interval still purges
        while not self._stopping.is_set():
            try:
                deleted = self.purge(stopping=self._stopping)
                if deleted:
                    logger.info("retention: deleted %s", _describe(deleted))
            except Exception:  # noqa: BLE001 - a DB blip must not end retention for good
                logger.exception("retention purge failed; trying again at the next interval")
            self._stopping.wait(self.settings.retention_interval_seconds)


def _describe(counts: dict[str, int]) -> str:
    """``{"executions": 2, "history_events": 9}`` -> ``2 executions, 9 history_events``."""
    return ", ".join(f"{count} {table}" for table, count in counts.items()) or "nothing"
