"""Executions, their history and final snapshots: ``*_txn`` helpers on the caller's connection.

An execution that ends FAILED, TIMED_OUT or ABORTED keeps its last snapshot in
``final_snapshots`` (its work item is gone); RedriveExecution turns it back into a work item.
"""
from __future__ import annotations

import sqlalchemy as sa

from engine.errors import ConflictError
from engine.store.pagination import decode_cursor, page
from engine.store.prepared import Prepared
from engine.store.wakeups import notify_txn
from engine.store.schema import executions, final_snapshots, history_events, work_items

_ex = executions.c
_ev = history_events.c
_fs = final_snapshots.c
_EVENT_COLUMNS = (_ev.id, _ev.previous_event_id, _ev.timestamp, _ev.type, _ev.details)
REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")  # the statuses whose final snapshot is kept
_INSERT_EXECUTION = Prepared(executions.insert())
_INSERT_EVENTS = Prepared(history_events.insert())
_INSERT_WORK_ITEM = Prepared(work_items.insert())


def insert_execution_txn(conn: sa.Connection, row: dict, snapshot: dict | None,
                         due_at: float | None, events: list[dict]) -> None:
    """A new execution; ``snapshot`` becomes its work item, or its final snapshot if it ended."""
    _INSERT_EXECUTION.run(conn, [row])
    append_events_txn(conn, row["arn"], events)
    if snapshot is None:
        return
    if row["status"] == "RUNNING":
        _INSERT_WORK_ITEM.run(conn, [{"execution_arn": row["arn"], "snapshot": snapshot, "version": 1,
                                      "due_at": due_at}])
        notify_txn(conn)
    elif row["status"] in REDRIVABLE:
        keep_final_snapshot_txn(conn, row["arn"], snapshot)


def append_events_txn(conn: sa.Connection, execution_arn: str, events: list[dict]) -> None:
    """Insert history events; a repeated (execution_arn, id) raises IntegrityError."""
    append_histories_txn(conn, [(execution_arn, events)])


def append_histories_txn(conn: sa.Connection, histories: list[tuple[str, list[dict]]]) -> None:
    """Insert the events of several executions in one statement: ``(execution ARN, events)``."""
    _INSERT_EVENTS.run(conn, [{**event, "execution_arn": arn}
                              for arn, events in histories for event in events])


def update_execution_txn(conn: sa.Connection, arn: str, changes: dict) -> None:
    update_executions_txn(conn, [(arn, changes)])


def update_executions_txn(conn: sa.Connection, updates: list[tuple[str, dict]]) -> None:
    """Change columns of several executions: ``(ARN, changes)``; one statement per set of
    columns changed (a group commit's finishing executions all change the same ones)."""
    by_columns: dict[tuple, list[dict]] = {}
    for arn, changes in updates:
        row = {f"new_{column}": value for column, value in changes.items()}
        by_columns.setdefault(tuple(sorted(changes)), []).append({"target": arn, **row})
    for columns, rows in by_columns.items():
        statement = executions.update().where(_ex.arn == sa.bindparam("target")).values(
            {column: sa.bindparam(f"new_{column}") for column in columns})
        if len(rows) > 1 and conn.dialect.supports_sane_multi_rowcount:
            matched = conn.execute(statement, rows).rowcount
        else:
            matched = sum(conn.execute(statement, row).rowcount for row in rows)
        if matched != len(rows):
            raise ConflictError(
                f"Execution(s) {[row['target'] for row in rows]} were not updated: not every one exists")


# built once: a statement built per call costs SQLAlchemy more than the query costs SQLite
_GET_EXECUTION = sa.select(executions).where(_ex.arn == sa.bindparam("arn"))


def get_execution_txn(conn: sa.Connection, arn: str) -> dict | None:
    found = conn.execute(_GET_EXECUTION, {"arn": arn}).mappings().first()
    return dict(found) if found else None


def list_executions_txn(conn: sa.Connection, state_machine_arn: str | None, status: str | None,
                        limit: int, after: str | None, redriven: bool | None = None,
                        name_contains: str | None = None) -> tuple[list[dict], str | None]:
    query = sa.select(executions).order_by(_ex.start_date.desc(), _ex.arn.desc()).limit(limit + 1)
    if state_machine_arn is not None:
        query = query.where(_ex.state_machine_arn == state_machine_arn)
    if name_contains:
        # case-insensitive, with LIKE's wildcards taken literally
        query = query.where(sa.func.lower(_ex.name).contains(name_contains.lower(), autoescape=True))
    if status is not None:
        query = query.where(_ex.status == status)
    if redriven is not None:
        query = query.where(_ex.redrive_count > 0 if redriven else _ex.redrive_count == 0)
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


# --- final snapshots and redrives -----------------------------------------------------------
def keep_final_snapshot_txn(conn: sa.Connection, arn: str, snapshot: dict) -> None:
    """Keep the last snapshot of an execution that ended unsuccessfully (replacing an older one)."""
    count = conn.execute(sa.select(sa.func.max(_ev.id)).where(_ev.execution_arn == arn)).scalar()
    conn.execute(final_snapshots.delete().where(_fs.execution_arn == arn))
    conn.execute(final_snapshots.insert().values(execution_arn=arn, snapshot=snapshot,
                                                 event_count=count or 0))


def get_final_snapshot_txn(conn: sa.Connection, arn: str) -> dict | None:
    query = sa.select(_fs.snapshot).where(_fs.execution_arn == arn)
    return conn.execute(query).scalar()


def final_event_count_txn(conn: sa.Connection, arn: str) -> int | None:
    """The history length of a kept final snapshot, or None when none is kept."""
    query = sa.select(_fs.event_count).where(_fs.execution_arn == arn)
    return conn.execute(query).scalar()


def redrive_txn(conn: sa.Connection, arn: str, redrive_count: int, changes: dict, *,
                snapshot: dict, due_at: float | None, events: list[dict]) -> None:
    """Set an unsuccessful execution going again from ``snapshot``.

    The update is guarded by the status and by ``redrive_count`` (the one the caller read):
    of two concurrent redrives only one matches a row, the other gets :class:`ConflictError`.
    ``changes`` with a final status (the redrive ended at once) keep the snapshot as final.
    """
    guard = sa.and_(_ex.arn == arn, _ex.status.in_(REDRIVABLE), _ex.redrive_count == redrive_count)
    if conn.execute(executions.update().where(guard).values(**changes)).rowcount == 0:
        raise ConflictError(f"Execution {arn} was not redriven: it is no longer in "
                            f"{'/'.join(REDRIVABLE)} with redrive count {redrive_count} "
                            "(another redrive won); describe it again")
    conn.execute(final_snapshots.delete().where(_fs.execution_arn == arn))
    append_events_txn(conn, arn, events)
    if changes["status"] == "RUNNING":
        conn.execute(work_items.insert().values(execution_arn=arn, snapshot=snapshot, version=1,
                                                due_at=due_at))
    elif changes["status"] in REDRIVABLE:
        keep_final_snapshot_txn(conn, arn, snapshot)
