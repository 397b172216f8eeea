"""State machines and their revisions: ``*_txn`` helpers that run on the caller's connection."""
from __future__ import annotations

import sqlalchemy as sa

from engine.errors import ConflictError
from engine.store.pagination import decode_cursor, page
from engine.store.schema import state_machine_revisions, state_machines

_sm = state_machines.c


def insert_state_machine_txn(conn: sa.Connection, row: dict) -> None:
    conn.execute(state_machines.insert(), row)


# built once: a statement built per call costs SQLAlchemy more than the query costs SQLite
_GET_STATE_MACHINE = sa.select(state_machines).where(_sm.arn == sa.bindparam("arn"))


def get_state_machine_txn(conn: sa.Connection, arn: str) -> dict | None:
    found = conn.execute(_GET_STATE_MACHINE, {"arn": arn}).mappings().first()
    return dict(found) if found else None


def update_state_machine_txn(conn: sa.Connection, arn: str, changes: dict) -> None:
    if not changes:
        return
    result = conn.execute(state_machines.update().where(_sm.arn == arn).values(**changes))
    if result.rowcount == 0:
        raise ConflictError(f"State machine {arn} was not updated: it no longer exists")


def delete_state_machine_txn(conn: sa.Connection, arn: str) -> None:
    # Revisions stay: running executions are pinned to them.
    conn.execute(state_machines.delete().where(_sm.arn == arn))


def list_state_machines_txn(conn: sa.Connection, limit: int,
                            after: str | None) -> tuple[list[dict], str | None]:
    query = sa.select(state_machines).order_by(_sm.creation_date, _sm.arn).limit(limit + 1)
    if after is not None:
        created, arn = decode_cursor(after, 2)
        query = query.where(sa.tuple_(_sm.creation_date, _sm.arn) > sa.tuple_(created, arn))
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return page(rows, limit, lambda row: [row["creation_date"], row["arn"]])


def insert_revision_txn(conn: sa.Connection, state_machine_arn: str, definition: str,
                        role_arn: str, created: float) -> int:
    result = conn.execute(state_machine_revisions.insert().values(
        state_machine_arn=state_machine_arn, definition=definition, role_arn=role_arn,
        created=created))
    return int(result.inserted_primary_key[0])


def get_revision_txn(conn: sa.Connection, revision_id: int) -> dict | None:
    query = sa.select(state_machine_revisions).where(state_machine_revisions.c.id == revision_id)
    found = conn.execute(query).mappings().first()
    return dict(found) if found else None
