"""Work items and their inbox: ``*_txn`` helpers that run on the caller's connection.

One work item per running execution holds the whole execution state (``snapshot``), when it
next wants to run (``due_at``), who is running it (``lease_owner`` until ``lease_expires``) and a
``version`` bumped by every commit. Messages for a running execution (task results, stop
requests) wait in ``inbox`` until the worker that owns the item consumes them.

Every write is guarded: a statement that matches no row means another worker won, and the
helper raises :class:`ConflictError` so the caller's transaction rolls back.
"""
from __future__ import annotations

import sqlalchemy as sa

from engine.errors import ConflictError
from engine.store.executions import (REDRIVABLE, append_events_txn, keep_final_snapshot_txn,
                                     update_execution_txn)
from engine.store.schema import inbox, work_items

_wi = work_items.c
_in = inbox.c

# When a claim could next succeed: not before the item is due, nor before its lease expires.
_READY_AT = sa.case((_wi.lease_expires > _wi.due_at, _wi.lease_expires), else_=_wi.due_at)


def claim_txn(conn: sa.Connection, owner: str, now: float, lease_seconds: float,
              limit: int) -> list[dict]:
    """Lease up to ``limit`` due items to ``owner``, earliest first, with their inbox.

    ``FOR UPDATE SKIP LOCKED`` lets concurrent PostgreSQL claimers pass each other by; SQLite
    ignores it and relies on the caller's ``BEGIN IMMEDIATE`` (one writer at a time).
    """
    query = (sa.select(_wi.execution_arn, _wi.snapshot, _wi.version, _wi.due_at)
             .where(_wi.due_at <= now)
             .where(sa.or_(_wi.lease_expires.is_(None), _wi.lease_expires <= now))
             .order_by(_wi.due_at, _wi.execution_arn).limit(limit)
             .with_for_update(skip_locked=True))
    items = [dict(row) for row in conn.execute(query).mappings()]
    if not items:
        return []
    arns = [item["execution_arn"] for item in items]
    conn.execute(work_items.update().where(_wi.execution_arn.in_(arns))
                 .values(lease_owner=owner, lease_expires=now + lease_seconds))
    messages = _inbox_of(conn, arns)
    for item in items:
        item["inbox"] = messages.get(item["execution_arn"], [])
    return items


def _inbox_of(conn: sa.Connection, arns: list[str]) -> dict[str, list[dict]]:
    query = (sa.select(_in.id, _in.execution_arn, _in.body)
             .where(_in.execution_arn.in_(arns)).order_by(_in.id))
    messages: dict[str, list[dict]] = {}
    for row in conn.execute(query):
        messages.setdefault(row.execution_arn, []).append({"id": row.id, "body": row.body})
    return messages


def commit_txn(conn: sa.Connection, execution_arn: str, version: int, owner: str, *,
               snapshot: dict, due_at: float | None, events: list[dict],
               execution: dict | None, consumed_inbox: list[int], finished: bool) -> int:
    """Record one step of an execution; returns the item's new version.

    The guarded write on the work item comes first: on PostgreSQL it locks the row, so a
    concurrent ``post`` waits for this transaction and then sees the committed ``due_at``.
    """
    guard = sa.and_(_wi.execution_arn == execution_arn, _wi.version == version,
                    _wi.lease_owner == owner)
    if finished:
        matched = conn.execute(work_items.delete().where(guard)).rowcount
    else:
        matched = conn.execute(work_items.update().where(guard).values(
            snapshot=snapshot, due_at=due_at, version=version + 1)).rowcount
    if matched == 0:
        raise ConflictError(
            f"Work item of {execution_arn} was not committed: version {version} leased to "
            f"{owner!r} is no longer current (another worker took it over or the lease expired "
            "and was reclaimed); drop this step and claim again")
    append_events_txn(conn, execution_arn, events)
    if execution:
        update_execution_txn(conn, execution_arn, execution)
    if finished and execution and execution.get("status") in REDRIVABLE:
        keep_final_snapshot_txn(conn, execution_arn, snapshot)  # what a redrive continues from
    _delete_inbox(conn, execution_arn, None if finished else consumed_inbox)
    if not finished:
        _wake_for_pending_messages(conn, execution_arn, due_at)
    return version + 1


def _delete_inbox(conn: sa.Connection, execution_arn: str, ids: list[int] | None) -> None:
    """Delete the messages ``ids`` of the execution, or all of them when ``ids`` is None."""
    if ids is not None and not ids:
        return
    query = inbox.delete().where(_in.execution_arn == execution_arn)
    if ids is not None:
        query = query.where(_in.id.in_(ids))
    conn.execute(query)


def _wake_for_pending_messages(conn: sa.Connection, execution_arn: str,
                               due_at: float | None) -> None:
    """A message posted while the step ran must not wait for the new ``due_at``."""
    posted = conn.execute(sa.select(sa.func.min(_in.created))
                          .where(_in.execution_arn == execution_arn)).scalar()
    if posted is not None and (due_at is None or posted < due_at):
        conn.execute(work_items.update().where(_wi.execution_arn == execution_arn)
                     .values(due_at=posted))


def release_txn(conn: sa.Connection, execution_arn: str, owner: str) -> bool:
    """Drop ``owner``'s lease so any worker can claim the item when it is due."""
    result = conn.execute(
        work_items.update()
        .where(_wi.execution_arn == execution_arn, _wi.lease_owner == owner)
        .values(lease_owner=None, lease_expires=None))
    return result.rowcount > 0


def post_txn(conn: sa.Connection, execution_arn: str, body: dict, now: float) -> bool:
    """Queue ``body`` for the execution and make its item due now; False when it has none.

    The item is updated before the message is inserted: the update locks the row (PostgreSQL)
    so a concurrent finishing commit either sees this message or has already removed the item.
    """
    sooner = sa.case((sa.or_(_wi.due_at.is_(None), _wi.due_at > now), now), else_=_wi.due_at)
    result = conn.execute(work_items.update().where(_wi.execution_arn == execution_arn)
                          .values(due_at=sooner))
    if result.rowcount == 0:
        return False
    conn.execute(inbox.insert().values(execution_arn=execution_arn, body=body, created=now))
    return True


def next_due_txn(conn: sa.Connection) -> float | None:
    """The earliest time at which some item could be claimed (due and its lease expired)."""
    return conn.execute(sa.select(sa.func.min(_READY_AT))).scalar()
