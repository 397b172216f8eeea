"""The event bus's tables: ``*_txn`` helpers that run on the caller's connection.

Rules and targets are plain rows; every change bumps ``event_rules_version`` so that every
process reloads the rules it compiled. Events are an outbox: stored when accepted, then
claimed by a dispatcher with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, like work
items), matched once into ``event_deliveries`` rows, and each delivery settled with a write
guarded by the lease, so a dispatcher that lost its lease changes nothing.
"""
from __future__ import annotations

import sqlalchemy as sa

from engine.errors import ConflictError
from engine.store.pagination import decode_cursor, page
from engine.store.schema import (bus_events, event_buses, event_dead_letters, event_deliveries,
                                 event_rules, event_rules_version, event_targets)

_bu, _ru, _ta, _ev = event_buses.c, event_rules.c, event_targets.c, bus_events.c
_de, _dl = event_deliveries.c, event_dead_letters.c
PENDING, DELIVERED, DEAD = "PENDING", "DELIVERED", "DEAD"


# --- buses ----------------------------------------------------------------------------------
def insert_bus_txn(conn: sa.Connection, row: dict) -> None:
    conn.execute(event_buses.insert(), row)


def get_bus_txn(conn: sa.Connection, name: str) -> dict | None:
    found = conn.execute(sa.select(event_buses).where(_bu.name == name)).mappings().first()
    return dict(found) if found else None


def list_buses_txn(conn: sa.Connection, prefix: str | None) -> list[dict]:
    query = sa.select(event_buses).order_by(_bu.name)
    if prefix:
        query = query.where(_bu.name.startswith(prefix, autoescape=True))
    return [dict(row) for row in conn.execute(query).mappings()]


def delete_bus_txn(conn: sa.Connection, name: str) -> None:
    """The bus with its rules and their targets."""
    conn.execute(event_targets.delete().where(_ta.bus == name))
    conn.execute(event_rules.delete().where(_ru.bus == name))
    conn.execute(event_buses.delete().where(_bu.name == name))
    bump_version_txn(conn)


# --- rules ----------------------------------------------------------------------------------
def bump_version_txn(conn: sa.Connection) -> None:
    conn.execute(event_rules_version.update().values(version=_rules_version_column() + 1))


def _rules_version_column():
    return event_rules_version.c.version


def rules_version_txn(conn: sa.Connection) -> int:
    return conn.execute(sa.select(event_rules_version.c.version)).scalar() or 0


def put_rule_txn(conn: sa.Connection, row: dict) -> None:
    """Insert the rule or replace every field of the existing one (PutRule)."""
    key = sa.and_(_ru.bus == row["bus"], _ru.name == row["name"])
    changes = {k: v for k, v in row.items() if k not in ("bus", "name", "created")}
    if conn.execute(event_rules.update().where(key).values(**changes)).rowcount == 0:
        conn.execute(event_rules.insert(), row)
    bump_version_txn(conn)


def get_rule_txn(conn: sa.Connection, bus: str, name: str) -> dict | None:
    found = conn.execute(sa.select(event_rules).where(_ru.bus == bus, _ru.name == name)
                         ).mappings().first()
    return dict(found) if found else None


def list_rules_txn(conn: sa.Connection, bus: str, prefix: str | None, limit: int,
                   after: str | None) -> tuple[list[dict], str | None]:
    query = sa.select(event_rules).where(_ru.bus == bus).order_by(_ru.name).limit(limit + 1)
    if prefix:
        query = query.where(_ru.name.startswith(prefix, autoescape=True))
    if after is not None:
        (name,) = decode_cursor(after, 1)
        query = query.where(_ru.name > name)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return page(rows, limit, lambda row: [row["name"]])


def update_rule_txn(conn: sa.Connection, bus: str, name: str, changes: dict) -> bool:
    result = conn.execute(event_rules.update().where(_ru.bus == bus, _ru.name == name)
                          .values(**changes))
    bump_version_txn(conn)
    return result.rowcount > 0


def delete_rule_txn(conn: sa.Connection, bus: str, name: str) -> str:
    """'deleted', 'missing', or 'has_targets' (AWS refuses to delete a rule with targets)."""
    if count_targets_txn(conn, bus, name):
        return "has_targets"
    deleted = conn.execute(event_rules.delete().where(_ru.bus == bus, _ru.name == name)).rowcount
    bump_version_txn(conn)
    return "deleted" if deleted else "missing"


def enabled_rules_txn(conn: sa.Connection) -> list[dict]:
    """Every enabled rule with an event pattern, on every bus (what the dispatcher matches)."""
    query = sa.select(event_rules).where(_ru.state == "ENABLED", _ru.event_pattern.is_not(None))
    return [dict(row) for row in conn.execute(query).mappings()]


# --- targets --------------------------------------------------------------------------------
def put_target_txn(conn: sa.Connection, row: dict) -> None:
    key = sa.and_(_ta.bus == row["bus"], _ta.rule == row["rule"], _ta.id == row["id"])
    changes = {k: v for k, v in row.items() if k not in ("bus", "rule", "id")}
    if conn.execute(event_targets.update().where(key).values(**changes)).rowcount == 0:
        conn.execute(event_targets.insert(), row)


def remove_targets_txn(conn: sa.Connection, bus: str, rule: str, ids: list[str]) -> None:
    conn.execute(event_targets.delete().where(_ta.bus == bus, _ta.rule == rule, _ta.id.in_(ids)))
    bump_version_txn(conn)


def count_targets_txn(conn: sa.Connection, bus: str, rule: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(event_targets)
                        .where(_ta.bus == bus, _ta.rule == rule)).scalar() or 0


def target_ids_txn(conn: sa.Connection, bus: str, rule: str) -> set[str]:
    return set(conn.execute(sa.select(_ta.id).where(_ta.bus == bus, _ta.rule == rule)).scalars())


def list_targets_txn(conn: sa.Connection, bus: str, rule: str, limit: int,
                     after: str | None) -> tuple[list[dict], str | None]:
    query = (sa.select(event_targets).where(_ta.bus == bus, _ta.rule == rule)
             .order_by(_ta.id).limit(limit + 1))
    if after is not None:
        (target_id,) = decode_cursor(after, 1)
        query = query.where(_ta.id > target_id)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return page(rows, limit, lambda row: [row["id"]])


def targets_of_rules_txn(conn: sa.Connection, bus: str, rules: list[str]) -> list[dict]:
    query = (sa.select(event_targets).where(_ta.bus == bus, _ta.rule.in_(rules))
             .order_by(_ta.rule, _ta.id))
    return [dict(row) for row in conn.execute(query).mappings()]


def rule_names_by_target_txn(conn: sa.Connection, bus: str, arn: str, limit: int,
                             after: str | None) -> tuple[list[str], str | None]:
    query = (sa.select(_ta.rule).where(_ta.bus == bus, _ta.arn == arn).distinct()
             .order_by(_ta.rule).limit(limit + 1))
    if after is not None:
        (rule,) = decode_cursor(after, 1)
        query = query.where(_ta.rule > rule)
    rows, token = page([{"rule": r} for r in conn.execute(query).scalars()], limit,
                       lambda row: [row["rule"]])
    return [row["rule"] for row in rows], token


# --- the outbox -----------------------------------------------------------------------------
def insert_events_txn(conn: sa.Connection, rows: list[dict], only_new: bool = False) -> list[str]:
    """Store accepted events; ``only_new`` skips ids already stored. Returns the ids stored."""
    if not only_new:
        conn.execute(bus_events.insert(), rows)
        return [row["id"] for row in rows]
    # the dialect's own INSERT ... ON CONFLICT, imported here where the engine has loaded that
    # dialect already: importing PostgreSQL's at the top costs SQLite (stepstone run) ~20 ms
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stored = []
    for row in rows:
        insert = dialect_insert(bus_events)
        inserted = conn.execute(insert.values(**row).on_conflict_do_nothing()
                                .returning(_ev.id)).first()
        if inserted is not None:
            stored.append(row["id"])
    return stored


def claim_events_txn(conn: sa.Connection, owner: str, now: float, lease_seconds: float,
                     limit: int) -> list[dict]:
    """Lease up to ``limit`` due events to ``owner``, each with its deliveries."""
    query = (sa.select(bus_events).where(_ev.due_at <= now)
             .where(sa.or_(_ev.lease_expires.is_(None), _ev.lease_expires <= now))
             .order_by(_ev.due_at, _ev.id).limit(limit).with_for_update(skip_locked=True))
    rows = [dict(row) for row in conn.execute(query).mappings()]
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    conn.execute(bus_events.update().where(_ev.id.in_(ids))
                 .values(lease_owner=owner, lease_expires=now + lease_seconds))
    deliveries: dict[str, list[dict]] = {}
    for found in conn.execute(sa.select(event_deliveries).where(_de.event_id.in_(ids))
                              .order_by(_de.rule, _de.target_id)).mappings():
        deliveries.setdefault(found["event_id"], []).append(dict(found))
    for row in rows:
        row["deliveries"] = deliveries.get(row["id"], [])
        row["lease_owner"] = owner
    return rows


def _guard_lease(conn: sa.Connection, event_id: str, owner: str) -> None:
    held = conn.execute(sa.select(_ev.id).where(_ev.id == event_id, _ev.lease_owner == owner)
                        .with_for_update()).first()
    if held is None:
        raise ConflictError(f"Event {event_id} is no longer leased to {owner!r}: another "
                            "dispatcher took it over; drop this work")


def record_matches_txn(conn: sa.Connection, event_id: str, owner: str,
                       deliveries: list[dict]) -> None:
    """The deliveries an event's match produced; the event counts as matched from now on."""
    _guard_lease(conn, event_id, owner)
    if deliveries:
        conn.execute(event_deliveries.insert(), deliveries)
    conn.execute(bus_events.update().where(_ev.id == event_id).values(matched=True))


def settle_delivery_txn(conn: sa.Connection, owner: str, delivery: dict, changes: dict,
                        dead_letter: dict | None = None) -> None:
    """Record one attempt's outcome (and its dead letter), while ``owner`` holds the event."""
    _guard_lease(conn, delivery["event_id"], owner)
    conn.execute(event_deliveries.update().where(
        _de.event_id == delivery["event_id"], _de.rule == delivery["rule"],
        _de.target_id == delivery["target_id"]).values(**changes))
    if dead_letter is not None:
        conn.execute(event_dead_letters.insert(), dead_letter)


def release_event_txn(conn: sa.Connection, event_id: str, owner: str) -> None:
    """Give the event up: due again at its earliest pending delivery, or done (NULL)."""
    due = conn.execute(sa.select(sa.func.min(_de.next_attempt))
                       .where(_de.event_id == event_id, _de.status == PENDING)).scalar()
    conn.execute(bus_events.update().where(_ev.id == event_id, _ev.lease_owner == owner)
                 .values(due_at=due, lease_owner=None, lease_expires=None))


def next_event_due_txn(conn: sa.Connection) -> float | None:
    ready = sa.case((_ev.lease_expires > _ev.due_at, _ev.lease_expires), else_=_ev.due_at)
    # only unsettled events (the due_at index): the outbox keeps every delivered event
    return conn.execute(sa.select(sa.func.min(ready)).where(_ev.due_at.is_not(None))).scalar()


def get_event_txn(conn: sa.Connection, event_id: str) -> dict | None:
    found = conn.execute(sa.select(bus_events).where(_ev.id == event_id)).mappings().first()
    if found is None:
        return None
    row = dict(found)
    row["deliveries"] = [dict(d) for d in conn.execute(
        sa.select(event_deliveries).where(_de.event_id == event_id)
        .order_by(_de.rule, _de.target_id)).mappings()]
    return row


def redeliver_txn(conn: sa.Connection, event_id: str, now: float,
                  delivery: tuple[str, str] | None = None) -> int:
    """Make deliveries of an event pending and due now (every one, or the (rule, target_id)
    given); the deterministic execution names keep a delivery that already started from
    starting twice. Returns how many deliveries were reset."""
    query = event_deliveries.update().where(_de.event_id == event_id)
    if delivery is not None:
        query = query.where(_de.rule == delivery[0], _de.target_id == delivery[1])
    reset = conn.execute(query.values(status=PENDING, attempts=0, next_attempt=now,
                                      last_error=None)).rowcount
    if reset:
        conn.execute(bus_events.update().where(_ev.id == event_id).values(due_at=now))
    return reset


# --- dead letters ---------------------------------------------------------------------------
def list_dead_letters_txn(conn: sa.Connection, limit: int,
                          after: str | None) -> tuple[list[dict], str | None]:
    query = sa.select(event_dead_letters).order_by(_dl.id).limit(limit + 1)
    if after is not None:
        (last,) = decode_cursor(after, 1)
        query = query.where(_dl.id > last)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    return page(rows, limit, lambda row: [row["id"]])


def redrive_dead_letter_txn(conn: sa.Connection, dead_letter_id: int, now: float) -> bool:
    """Deliver a dead-lettered (event, rule, target) again; False when there is no such letter."""
    found = conn.execute(sa.select(event_dead_letters).where(_dl.id == dead_letter_id)
                         .with_for_update()).mappings().first()
    if found is None:
        return False
    redeliver_txn(conn, found["event_id"], now, (found["rule"], found["target_id"]))
    conn.execute(event_dead_letters.delete().where(_dl.id == dead_letter_id))
    return True


# --- schedules ------------------------------------------------------------------------------
def due_schedules_txn(conn: sa.Connection, now: float) -> list[dict]:
    query = sa.select(event_rules).where(_ru.state == "ENABLED", _ru.next_fire.is_not(None),
                                         _ru.next_fire <= now)
    return [dict(row) for row in conn.execute(query).mappings()]


def fire_schedule_txn(conn: sa.Connection, rule: dict, next_fire: float | None,
                      event_row: dict) -> bool:
    """Move the rule's next fire time from the one read to ``next_fire`` and store its
    event; False (nothing written) when another worker fired this tick first."""
    moved = conn.execute(event_rules.update().where(
        _ru.bus == rule["bus"], _ru.name == rule["name"], _ru.next_fire == rule["next_fire"],
        _ru.state == "ENABLED").values(next_fire=next_fire)).rowcount
    if not moved:
        return False
    conn.execute(bus_events.insert(), event_row)
    return True
