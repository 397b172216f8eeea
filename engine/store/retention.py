"""Retention: ``*_txn`` helpers that delete, one batch at a time, rows older than a cutoff.

Three kinds of rows expire (``EXPIRIES``, in the order a purge takes them):

* dead letters, by the time they were written;
* bus events that are settled (``due_at`` NULL: no delivery pending), by the time they were
  accepted, with their deliveries, but not while a dead letter of theirs is kept: a dead letter
  is written after its event was accepted, and its redrive needs the event;
* finished executions (any status but RUNNING), by their stop date, with their history, final
  snapshot, task tokens and messages. A running execution is never touched, however old.

A batch selects the keys of its rows (oldest first, on the age index of migration 0005) and
deletes them and their dependents by those keys. On PostgreSQL the selected rows are locked
``FOR UPDATE SKIP LOCKED``: two processes purging at once take disjoint batches, and a redrive
racing the purge of its execution waits for the batch and then finds no row (its guarded update
matches nothing). SQLite's ``BEGIN IMMEDIATE`` writers run one at a time. Deleting by key makes
a batch idempotent: a row another purge deleted first is simply not there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from engine.store.schema import (bus_events, event_dead_letters, event_deliveries, executions,
                                 final_snapshots, history_events, inbox, task_tokens)

_ex, _ev, _dl = executions.c, bus_events.c, event_dead_letters.c


@dataclass(frozen=True)
class Expiry:
    """Rows of ``key``'s table that have expired by a cutoff (``expired(before)``), aged by
    the indexed column ``age``; ``dependents`` are columns of other tables holding the key, whose
    rows go with them."""
    key: sa.Column
    age: sa.Column
    expired: Callable[[float], sa.ColumnElement[bool]]
    dependents: tuple[sa.Column, ...] = ()

    @property
    def table(self) -> sa.Table:
        return self.key.table


def _settled_event_without_kept_letters(before: float) -> sa.ColumnElement[bool]:
    # dead letters older than the cutoff go in the same purge (first), so they do not keep
    # their event: a dry run counts exactly what the purge deletes
    kept = sa.select(_dl.id).where(_dl.event_id == _ev.id, _dl.created >= before)
    return sa.and_(_ev.ingested < before, _ev.due_at.is_(None), ~sa.exists(kept))


EXPIRIES = {
    "event_dead_letters": Expiry(_dl.id, _dl.created, lambda before: _dl.created < before),
    "bus_events": Expiry(_ev.id, _ev.ingested, _settled_event_without_kept_letters,
                         (event_deliveries.c.event_id,)),
    "executions": Expiry(
        _ex.arn, _ex.stop_date,
        lambda before: sa.and_(_ex.stop_date < before, _ex.status != "RUNNING"),
        (history_events.c.execution_arn, final_snapshots.c.execution_arn,
         task_tokens.c.execution_arn, inbox.c.execution_arn)),
}


def purge_batch_txn(conn: sa.Connection, expiry: Expiry, before: float,
                    limit: int) -> dict[str, int]:
    """Delete up to ``limit`` expired rows and their dependents; rows deleted, by table (the
    expiring table's count below ``limit`` means nothing more has expired)."""
    query = (sa.select(expiry.key).where(expiry.expired(before)).order_by(expiry.age)
             .limit(limit).with_for_update(skip_locked=True))
    keys = list(conn.execute(query).scalars())
    deleted = {expiry.table.name: 0}
    if not keys:
        return deleted
    for column in expiry.dependents:  # before the rows they hang on: never an orphan left
        deleted[column.table.name] = conn.execute(
            column.table.delete().where(column.in_(keys))).rowcount
    deleted[expiry.table.name] = conn.execute(
        expiry.table.delete().where(expiry.key.in_(keys))).rowcount
    return deleted


def count_expired_txn(conn: sa.Connection, expiry: Expiry, before: float) -> dict[str, int]:
    """What ``purge_batch_txn`` would delete without a limit, by table (a dry run)."""
    keys = sa.select(expiry.key).where(expiry.expired(before))
    counts = {expiry.table.name: _count(conn, expiry.table, expiry.expired(before))}
    for column in expiry.dependents:
        counts[column.table.name] = _count(conn, column.table, column.in_(keys))
    return counts


def _count(conn: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool]) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar() or 0
