"""Executions and their history: ``*_txn`` helpers that run on the caller's connection."""
from __future__ import annotations

import sqlalchemy as sa

from engine.errors import ConflictError
from engine.store.pagination import decode_cursor, page
from engine.store.schema import executions, history_events, work_items

_ex = executions.c
_ev = history_events.c
_EVENT_COLUMNS = (_ev.id, _ev.previous_event_id, _ev.timestamp, _ev.type, _ev.details)


def insert_execution_txn(conn: sa.Connection, row: dict, snapshot: dict | None,
                         due_at: float | None, events: list[dict]) -> None:
    conn.execute(executions.insert(), row)
    if snapshot is not None:
        conn.execute(work_items.insert().values(
            execution_arn=row["arn"], snapshot=snapshot, version=1, due_at=due_at))
    append_events_txn(conn, row["arn"], events)


def append_events_txn(conn: sa.Connection, execution_arn: str, events: list[dict]) -> None:
    """Insert history events; a repeated (execution_arn, id) raises IntegrityError."""
    if events:
        conn.execute(history_events.insert(),
                     [{**event, "execution_arn": execution_arn} for event in events])


def update_execution_txn(conn: sa.Connection, arn: str, changes: dict) -> None:
    result = conn.execute(executions.update().where(_ex.arn == arn).values(**changes))
    if result.rowcount == 0:
        raise ConflictError(f"Execution {arn} was not updated: it does not exist")


def get_execution_txn(conn: sa.Connection, arn: str) -> dict | None:
    found = conn.execute(sa.select(executions).where(_ex.arn == arn)).mappings().first()
    return dict(found) if found else None


def list_executions_txn(conn: sa.Connection, state_machine_arn: str, status: str | None,
                        limit: int, after: str | None) -> tuple[list[dict], str | None]:
    query = (sa.select(executions).where(_ex.state_machine_arn == state_machine_arn)
             .order_by(_ex.start_date.desc(), _ex.arn.desc()).limit(limit + 1))
    if status is not None:
        query = query.where(_ex.status == status)
    if after is not None:
        started, arn = decode_cursor(after, 2)
        query = query.where(sa.tuple_(_ex.start_date, _ex.arn) < sa.tuple_(started, arn))
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return page(rows, limit, lambda row: [row["start_date"], row["arn"]])


def get_history_txn(conn: sa.Connection, arn: str, after_id: int, limit: int | None,
                    reverse: bool) -> list[dict]:
    query = sa.select(*_EVENT_COLUMNS).where(_ev.execution_arn == arn)
    if reverse:
        query = query.order_by(_ev.id.desc())
        if after_id:
            query = query.where(_ev.id < after_id)
    else:
        query = query.where(_ev.id > after_id).order_by(_ev.id)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]
