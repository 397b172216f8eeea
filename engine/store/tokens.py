"""Activities and task tokens: ``*_txn`` helpers that run on the caller's connection.

A token row is written in the same transaction as the step that handed the token out, and its
status moves only forward (``OPEN`` -> ``STARTED`` -> ``CLOSED`` | ``TIMED_OUT``) with guarded
updates, so a token is answered at most once even when two callers race. Answering a token
and queueing the answer for the execution are one transaction: nothing accepted is lost.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from engine.store.pagination import decode_cursor, page
from engine.store.schema import activities, task_tokens
from engine.store.workitems import post_txn

_ac = activities.c
_tk = task_tokens.c

OPEN, STARTED, CLOSED, TIMED_OUT = "OPEN", "STARTED", "CLOSED", "TIMED_OUT"
_LIVE = (OPEN, STARTED)


# --- activities ---------------------------------------------------------------------------
def insert_activity_txn(conn: sa.Connection, row: dict) -> None:
    conn.execute(activities.insert(), row)


def get_activity_txn(conn: sa.Connection, arn: str) -> dict | None:
    found = conn.execute(sa.select(activities).where(_ac.arn == arn)).mappings().first()
    return dict(found) if found else None


def delete_activity_txn(conn: sa.Connection, arn: str) -> None:
    conn.execute(activities.delete().where(_ac.arn == arn))


def list_activities_txn(conn: sa.Connection, limit: int,
                        after: str | None) -> tuple[list[dict], str | None]:
    query = sa.select(activities).order_by(_ac.creation_date, _ac.arn).limit(limit + 1)
    if after is not None:
        created, arn = decode_cursor(after, 2)
        query = query.where(sa.tuple_(_ac.creation_date, _ac.arn) > sa.tuple_(created, arn))
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return page(rows, limit, lambda row: [row["creation_date"], row["arn"]])


# --- tokens written by a step ---------------------------------------------------------------
def apply_token_changes_txn(conn: sa.Connection, execution_arn: str, changes: list[dict],
                            now: float) -> None:
    """Open the tokens a step handed out and close the ones it gave up (timeouts, aborts)."""
    for change in changes:
        if change["op"] == "open":
            conn.execute(task_tokens.insert().values(
                token=change["token"], execution_arn=execution_arn, path=change["path"],
                invocation=change["invocation"], state_name=change["state"],
                resource=change["resource"], activity_arn=change.get("activity_arn"),
                input=change.get("input"), status=OPEN, created=now,
                timeout_at=change.get("timeout_at"),
                heartbeat_seconds=change.get("heartbeat_seconds"),
                last_beat=None if change.get("activity_arn") else now))
        else:
            conn.execute(task_tokens.update()
                         .where(_tk.token == change["token"], _tk.status.in_(_LIVE))
                         .values(status=change["status"]))


def close_execution_tokens_txn(conn: sa.Connection, execution_arns: list[str]) -> None:
    """Executions that ended (or were stopped) invalidate every token they handed out."""
    if execution_arns:
        conn.execute(task_tokens.update()
                     .where(_tk.execution_arn.in_(execution_arns), _tk.status.in_(_LIVE))
                     .values(status=CLOSED))


# --- tokens used by workers and people ------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """What became of an answer to a token: ``outcome`` is ok, missing, closed or timed_out."""

    outcome: str
    row: dict | None = None


def take_activity_task_txn(conn: sa.Connection, activity_arn: str, worker: str | None,
                           now: float) -> dict | None:
    """Hand the oldest waiting task of the activity to a worker (ActivityStarted follows)."""
    query = (sa.select(task_tokens)
             .where(_tk.activity_arn == activity_arn, _tk.status == OPEN)
             .order_by(_tk.created, _tk.token).limit(1).with_for_update(skip_locked=True))
    found = conn.execute(query).mappings().first()
    if found is None:
        return None
    row = dict(found)
    conn.execute(task_tokens.update().where(_tk.token == row["token"], _tk.status == OPEN)
                 .values(status=STARTED, started=now, last_beat=now, worker_name=worker))
    post_txn(conn, row["execution_arn"], {
        "kind": "task_started", "path": row["path"], "invocation": row["invocation"],
        "worker": worker, "at": now}, now)
    return row


def answer_token_txn(conn: sa.Connection, token: str, body: dict, now: float,
                     final: bool) -> Answer:
    """Queue ``body`` (with the token's path and invocation) for the token's execution.

    ``final`` answers (success, failure) close the token; a heartbeat keeps it open and
    moves its heartbeat deadline.
    """
    found = conn.execute(sa.select(task_tokens).where(_tk.token == token)
                         .with_for_update()).mappings().first()
    if found is None:
        return Answer("missing")
    row = dict(found)
    if row["status"] == TIMED_OUT or (row["status"] in _LIVE and _expired(row, now)):
        return Answer("timed_out", row)
    if row["status"] not in _LIVE:
        return Answer("closed", row)
    changes = {"status": CLOSED} if final else {"last_beat": now}
    conn.execute(task_tokens.update().where(_tk.token == token, _tk.status == row["status"])
                 .values(**changes))
    message = {**body, "path": row["path"], "invocation": row["invocation"], "at": now}
    if not post_txn(conn, row["execution_arn"], message, now):
        return Answer("closed", row)
    return Answer("ok", row)


def _expired(row: dict, now: float) -> bool:
    if row["timeout_at"] is not None and now > row["timeout_at"]:
        return True
    beat = row["last_beat"]
    return bool(row["heartbeat_seconds"] and beat is not None
                and now > beat + row["heartbeat_seconds"])


def list_tokens_txn(conn: sa.Connection, *, execution_arn: str | None, state_name: str | None,
                    activity_arn: str | None, older_than: float | None, limit: int,
                    after: str | None) -> tuple[list[dict], str | None]:
    """Tokens still waiting for an answer, oldest first."""
    query = (sa.select(task_tokens).where(_tk.status.in_(_LIVE))
             .order_by(_tk.created, _tk.token).limit(limit + 1))
    if execution_arn is not None:
        query = query.where(_tk.execution_arn == execution_arn)
    if state_name is not None:
        query = query.where(_tk.state_name == state_name)
    if activity_arn is not None:
        query = query.where(_tk.activity_arn == activity_arn)
    if older_than is not None:
        query = query.where(_tk.created <= older_than)
    if after is not None:
        created, token = decode_cursor(after, 2)
        query = query.where(sa.tuple_(_tk.created, _tk.token) > sa.tuple_(created, token))
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return page(rows, limit, lambda row: [row["created"], row["token"]])
