"""Work items and their inbox: ``*_txn`` helpers that run on the caller's connection.

One work item per running execution holds the whole execution state (``snapshot``), when it
next wants to run (``due_at``), who is running it (``lease_owner`` until ``lease_expires``) and a
``version`` bumped by every commit. Messages for a running execution (task results, stop
requests) wait in ``inbox`` until the worker that owns the item consumes them.

Every write is guarded: a statement that matches no row means another worker won, and the
helper raises :class:`ConflictError` so the caller's transaction rolls back.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from engine.errors import ConflictError
from engine.store.prepared import Prepared
from engine.store.wakeups import notify_txn
from engine.store.executions import (REDRIVABLE, append_histories_txn, keep_final_snapshot_txn,
                                     update_executions_txn)
from engine.store.schema import inbox, work_items

_wi = work_items.c
_in = inbox.c

# When a claim could next succeed: not before the item is due, nor before its lease expires.
_READY_AT = sa.case((_wi.lease_expires > _wi.due_at, _wi.lease_expires), else_=_wi.due_at)


@dataclass
class StepWrite:
    """One execution's step to record (``commit_steps_txn``)."""
    execution_arn: str
    version: int  # the version claimed: the guard of the write
    snapshot: dict
    due_at: float | None
    events: list[dict]  # history_events rows, without the execution ARN
    execution: dict | None = None  # executions-row changes (the final columns when finished)
    consumed_inbox: list[int] = field(default_factory=list)
    finished: bool = False
    # set for a step taken on an item this worker does not lease (resumed from memory): the
    # write is guarded by the version and by no one leasing the item at this time
    unleased_at: float | None = None


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


# the guarded write of a step that goes on; ``release`` also gives up the lease
_STEP_GUARD = sa.and_(_wi.execution_arn == sa.bindparam("arn"), _wi.version == sa.bindparam("claimed"),
                      _wi.lease_owner == sa.bindparam("owner"))
_GO_ON = work_items.update().where(_STEP_GUARD).values(
    snapshot=sa.bindparam("snapshot", type_=work_items.c.snapshot.type), due_at=sa.bindparam("due"),
    version=sa.bindparam("next"))
_GO_ON_KEPT = Prepared(_GO_ON)
_GO_ON_RELEASED = Prepared(_GO_ON.values(lease_owner=sa.null(), lease_expires=sa.null()))
_FINISH = Prepared(work_items.delete().where(_STEP_GUARD))
_FREE_GUARD = sa.and_(_wi.execution_arn == sa.bindparam("arn"), _wi.version == sa.bindparam("claimed"),
                      sa.or_(_wi.lease_expires.is_(None), _wi.lease_expires <= sa.bindparam("now")))
_GO_ON_UNLEASED = Prepared(work_items.update().where(_FREE_GUARD).values(
    snapshot=sa.bindparam("snapshot", type_=work_items.c.snapshot.type), due_at=sa.bindparam("due"),
    version=sa.bindparam("next")))
_FINISH_UNLEASED = Prepared(work_items.delete().where(_FREE_GUARD))


def commit_steps_txn(conn: sa.Connection, owner: str, writes: list[StepWrite],
                     release: bool = False) -> None:
    """Record steps of several executions at once (a group commit); each item's version goes
    up by one, and ``release`` gives up the leases of the items that go on.

    The guarded writes on the work items come first: on PostgreSQL they lock the rows, so a
    concurrent ``post`` waits for this transaction and then sees the committed ``due_at``.
    Raises ConflictError when any item moved on (another worker took it over, or its lease
    expired and was reclaimed): the caller's transaction then rolls back as a whole.
    """
    going_on = [write for write in writes if not write.finished]
    leased = [write for write in writes if write.unleased_at is None]
    unleased = [write for write in writes if write.unleased_at is not None]
    _guarded(conn, _GO_ON_RELEASED if release else _GO_ON_KEPT, [
        {"arn": w.execution_arn, "claimed": w.version, "owner": owner, "snapshot": w.snapshot,
         "due": w.due_at, "next": w.version + 1} for w in leased if not w.finished])
    _guarded(conn, _FINISH, [{"arn": w.execution_arn, "claimed": w.version, "owner": owner}
                             for w in leased if w.finished])
    _guarded(conn, _GO_ON_UNLEASED, [
        {"arn": w.execution_arn, "claimed": w.version, "now": w.unleased_at, "snapshot": w.snapshot,
         "due": w.due_at, "next": w.version + 1} for w in unleased if not w.finished])
    _guarded(conn, _FINISH_UNLEASED, [{"arn": w.execution_arn, "claimed": w.version, "now": w.unleased_at}
                                      for w in unleased if w.finished])
    append_histories_txn(conn, [(w.execution_arn, w.events) for w in writes])
    update_executions_txn(conn, [(w.execution_arn, w.execution) for w in writes if w.execution])
    for write in writes:
        if write.finished and write.execution and write.execution.get("status") in REDRIVABLE:
            keep_final_snapshot_txn(conn, write.execution_arn, write.snapshot)  # for a redrive
    _delete_inbox(conn, [w.execution_arn for w in writes if w.finished],
                  [message for w in going_on for message in w.consumed_inbox])
    _wake_for_pending_messages(conn, going_on)


def _guarded(conn: sa.Connection, statement: Prepared, rows: list[dict]) -> None:
    """Run a guarded write for each row; ConflictError unless every row matched."""
    if not rows:
        return
    if len(rows) > 1 and conn.dialect.supports_sane_multi_rowcount:
        matched = statement.run(conn, rows)
    else:
        matched = sum(statement.run(conn, [row]) for row in rows)
    if matched != len(rows):
        lost = [row["arn"] for row in rows] if len(rows) > 1 else rows[0]["arn"]
        raise ConflictError(
            f"Work item of {lost} was not committed: the version it was taken at is no longer "
            "current or someone else leases it (another worker took it over, or the lease expired "
            "and was reclaimed); drop this step and claim again")


def _delete_inbox(conn: sa.Connection, finished: list[str], consumed: list[int]) -> None:
    """Delete every message of finished executions and the consumed ones of the others."""
    if finished:
        conn.execute(inbox.delete().where(_in.execution_arn.in_(finished)))
    if consumed:
        conn.execute(inbox.delete().where(_in.id.in_(consumed)))


def _wake_for_pending_messages(conn: sa.Connection, going_on: list[StepWrite]) -> None:
    """A message posted while the step ran must not wait for the new ``due_at``."""
    if not going_on:
        return
    due = {w.execution_arn: w.due_at for w in going_on}
    pending = conn.execute(sa.select(_in.execution_arn, sa.func.min(_in.created))
                           .where(_in.execution_arn.in_(list(due)))
                           .group_by(_in.execution_arn))
    for arn, posted in pending:
        if due[arn] is None or posted < due[arn]:
            conn.execute(work_items.update().where(_wi.execution_arn == arn).values(due_at=posted))


def release_txn(conn: sa.Connection, execution_arn: str, owner: str) -> bool:
    """Drop ``owner``'s lease so any worker can claim the item when it is due."""
    result = conn.execute(
        work_items.update()
        .where(_wi.execution_arn == execution_arn, _wi.lease_owner == owner)
        .values(lease_owner=None, lease_expires=None))
    return result.rowcount > 0


def post_txn(conn: sa.Connection, execution_arn: str, body: dict, now: float) -> bool:
    """Queue ``body`` for the execution and make its item due now; False when it has none."""
    return bool(post_many_txn(conn, [(execution_arn, body)], now))


def post_many_txn(conn: sa.Connection, posts: list[tuple[str, dict]], now: float) -> set[str]:
    """Queue messages ``(execution ARN, body)`` and make their items due now; returns the ARNs
    that have an item (messages for executions that have finished are dropped).

    The items are updated before the messages are inserted: the update locks the rows
    (PostgreSQL) so a concurrent finishing commit either sees the messages or has already
    removed the item.
    """
    if not posts:
        return set()
    arns = sorted({arn for arn, _ in posts})
    sooner = sa.case((sa.or_(_wi.due_at.is_(None), _wi.due_at > now), now), else_=_wi.due_at)
    conn.execute(work_items.update().where(_wi.execution_arn.in_(arns)).values(due_at=sooner))
    live = set(conn.execute(sa.select(_wi.execution_arn).where(_wi.execution_arn.in_(arns))).scalars())
    rows = [{"execution_arn": arn, "body": body, "created": now} for arn, body in posts if arn in live]
    if rows:
        conn.execute(inbox.insert(), rows)
        notify_txn(conn)
    return live


def next_due_txn(conn: sa.Connection) -> float | None:
    """The earliest time at which some item could be claimed (due and its lease expired)."""
    return conn.execute(sa.select(sa.func.min(_READY_AT))).scalar()
