"""Gauges read at scrape time: how much work waits, counted in one cheap query.

Every count runs on an indexed column or a small table: ``work_items`` holds one row per
*running* execution (finished ones leave it), so counting it is counting running executions;
``due_at`` is indexed. ``task_tokens`` has no index on ``status``: its count scans the tokens
kept until retention purges their execution, the one count here that grows with history.
"""
from __future__ import annotations

import sqlalchemy as sa

from engine.store.schema import bus_events, task_tokens, work_items

_wi, _tt, _ev = work_items.c, task_tokens.c, bus_events.c
WAITING_TOKEN_STATUSES = ("OPEN", "STARTED")  # handed out, not yet answered or timed out


def _count(table: sa.Table, *conditions: sa.ColumnElement[bool]) -> sa.ScalarSelect:
    return sa.select(sa.func.count()).select_from(table).where(*conditions).scalar_subquery()


def gauges_txn(conn: sa.Connection, now: float) -> dict[str, int]:
    """The gauges at ``now``, by name (the metric's name without its prefix):

    * ``queue_depth``: items due now that nobody leases (a claim would take them now);
    * ``due_timers``: items due later: Wait states, retry back-off, task timeouts and the
      re-dispatch deadline of tasks in flight;
    * ``work_items_leased``: items a worker is advancing right now;
    * ``executions_running``: running executions (one work item each);
    * ``waiting_task_tokens``: tokens handed out and not yet answered (callbacks, activities);
    * ``events_pending``: bus events with a delivery still to attempt.
    """
    free = sa.or_(_wi.lease_expires.is_(None), _wi.lease_expires <= now)
    query = sa.select(
        _count(work_items, _wi.due_at <= now, free).label("queue_depth"),
        _count(work_items, _wi.due_at > now).label("due_timers"),
        _count(work_items, _wi.lease_expires > now).label("work_items_leased"),
        _count(work_items).label("executions_running"),
        _count(task_tokens, _tt.status.in_(WAITING_TOKEN_STATUSES)).label("waiting_task_tokens"),
        _count(bus_events, _ev.due_at.is_not(None)).label("events_pending"),
    )
    row = conn.execute(query).mappings().one()
    return {name: int(value or 0) for name, value in row.items()}
