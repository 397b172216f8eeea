"""Store: the one gateway to the database (SQLite or PostgreSQL through SQLAlchemy).

Each public method is one transaction; the SQL itself lives in the ``*_txn`` helpers of
``catalog``, ``executions`` and ``workitems``, which take a connection and leave the transaction
to this class. Callers pass times in (float epoch seconds): the store never reads the clock.

Thread safety: every transaction takes its own pooled connection, except in-memory SQLite,
whose one shared connection is serialised with a lock. Writers on SQLite begin ``IMMEDIATE``
so they queue for the write lock instead of failing on a read-to-write upgrade.

Errors: a duplicate key becomes :class:`ConflictError` (the whole transaction rolled back); any
other database failure becomes a plain :class:`StoreError`. No SQLAlchemy exception leaks out.
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import sqlalchemy as sa

from engine.errors import ConflictError, StoreError
from engine.store import (catalog, dialects, events, executions, gauges, migrate, tokens, wakeups,
                          workitems)
from engine.store import events as outbox  # ``events`` is also the history-events argument
from engine.store import retention
from engine.store.schema import metadata


@dataclass
class Step:
    """A step to record with ``Store.commit_steps``: the work item's write and what goes with it."""
    write: workitems.StepWrite
    token_changes: list[dict] = field(default_factory=list)
    posts: list[tuple[str, dict]] = field(default_factory=list)  # messages for other executions
    bus_events: list[dict] = field(default_factory=list)  # outbox rows it publishes
    at: float = 0.0  # when the step was taken: the time of its tokens and posts


class Store:
    """Durable state of Stepstone: state machines, executions, history and work items."""

    def __init__(self, url: str):
        self.url = url
        self._engine = dialects.create_engine(url)
        self._writer = self._engine.execution_options(**{dialects.IMMEDIATE: True})
        self.dialect_name: str = self._engine.dialect.name
        shared_connection = self._memory = dialects.is_memory(dialects.normalise_url(url))
        self._lock: Any = threading.RLock() if shared_connection else contextlib.nullcontext()

    def __repr__(self) -> str:
        return f"Store({self._engine.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _txn(self, write: bool = False, conflict: str = "") -> Iterator[sa.Connection]:
        """One transaction; ``conflict`` is the message for a violated unique key."""
        with self._lock:
            try:
                with (self._writer if write else self._engine).begin() as conn:
                    yield conn
            except sa.exc.IntegrityError as error:
                if not dialects.is_unique_violation(error):
                    raise StoreError(f"Rejected write on {self!r}: {error.orig}") from error
                raise ConflictError(conflict or f"Conflicting write: {error.orig}") from error
            except sa.exc.SQLAlchemyError as error:
                raise StoreError(
                    f"Database error on {self!r}: {error}. Check that the database is reachable "
                    "and migrated (stepstone db upgrade)") from error

    # -- lifecycle -------------------------------------------------------------------------

    def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied (``alembic upgrade head``); an
        in-memory database, which lives and dies with this process, gets the tables directly."""
        with self._txn(write=True) as conn:
            if self._memory:
                migrate.create(conn)
            else:
                migrate.upgrade(conn)

    def is_empty(self) -> bool:
        """True while none of Stepstone's tables exist (a database never upgraded)."""
        with self._txn() as conn:
            return not set(metadata.tables) & set(sa.inspect(conn).get_table_names())

    def close(self) -> None:
        self._engine.dispose()

    def listen(self, wake) -> wakeups.Listener | None:
        """On PostgreSQL, call ``wake`` whenever another process commits work due now (LISTEN);
        None elsewhere. The caller stops the listener."""
        if self.dialect_name != "postgresql":
            return None
        url = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return wakeups.Listener(url, wake).start()

    # -- state machines ----------------------------------------------------------------------

    def insert_state_machine(self, row: dict) -> None:
        message = (f"State machine {row.get('name')!r} ({row.get('arn')}) already exists: "
                   "choose another name or update the existing one")
        with self._txn(write=True, conflict=message) as conn:
            catalog.insert_state_machine_txn(conn, row)

    def get_state_machine(self, arn: str) -> dict | None:
        with self._txn() as conn:
            return catalog.get_state_machine_txn(conn, arn)

    def update_state_machine(self, arn: str, changes: dict) -> None:
        with self._txn(write=True) as conn:
            catalog.update_state_machine_txn(conn, arn, changes)

    def delete_state_machine(self, arn: str) -> None:
        with self._txn(write=True) as conn:
            catalog.delete_state_machine_txn(conn, arn)

    def list_state_machines(self, limit: int,
                            after: str | None = None) -> tuple[list[dict], str | None]:
        """A page of state machines, oldest first, and the cursor of the next page (or None)."""
        with self._txn() as conn:
            return catalog.list_state_machines_txn(conn, limit, after)

    def insert_revision(self, state_machine_arn: str, definition: str, role_arn: str,
                        created: float) -> int:
        with self._txn(write=True) as conn:
            return catalog.insert_revision_txn(conn, state_machine_arn, definition, role_arn,
                                               created)

    def get_revision(self, revision_id: int) -> dict | None:
        with self._txn() as conn:
            return catalog.get_revision_txn(conn, revision_id)

    # -- executions --------------------------------------------------------------------------

    def insert_execution(self, row: dict, snapshot: dict | None, due_at: float | None,
                         events: list[dict], token_changes: Sequence[dict] = (),
                         bus_events: Sequence[dict] = ()) -> None:
        """Record a new execution, its first events and (when ``snapshot``) its work item, and
        the bus events it publishes (status changes), in one transaction."""
        message = (f"Execution {row.get('arn')} already exists: start it under another name")
        with self._txn(write=True, conflict=message) as conn:
            executions.insert_execution_txn(conn, row, snapshot, due_at, events)
            tokens.apply_token_changes_txn(conn, row["arn"], list(token_changes),
                                           row["start_date"])
            if bus_events:
                outbox.insert_events_txn(conn, list(bus_events))

    def get_execution(self, arn: str) -> dict | None:
        with self._txn() as conn:
            return executions.get_execution_txn(conn, arn)

    def update_execution(self, arn: str, changes: dict) -> None:
        with self._txn(write=True) as conn:
            executions.update_execution_txn(conn, arn, changes)

    def list_executions(self, state_machine_arn: str | None, status: str | None, limit: int,
                        after: str | None = None, redriven: bool | None = None,
                        name_contains: str | None = None) -> tuple[list[dict], str | None]:
        """A page of executions (of one state machine, or of all), newest first, and the next
        cursor.

        ``redriven``: only executions redriven at least once (True) or never (False);
        ``name_contains``: only names containing this text, ignoring case.
        """
        with self._txn() as conn:
            return executions.list_executions_txn(conn, state_machine_arn, status, limit, after,
                                                  redriven, name_contains)

    # -- redrives -----------------------------------------------------------------------------

    def get_final_snapshot(self, arn: str) -> dict | None:
        """The snapshot an unsuccessful execution ended with; None if none is kept."""
        with self._txn() as conn:
            return executions.get_final_snapshot_txn(conn, arn)

    def final_event_count(self, arn: str) -> int | None:
        """How many history events the kept final snapshot covers; None if none is kept."""
        with self._txn() as conn:
            return executions.final_event_count_txn(conn, arn)

    def redrive(self, arn: str, redrive_count: int, changes: dict, *, snapshot: dict,
                due_at: float | None, events: list[dict], token_changes: Sequence[dict] = (),
                now: float = 0.0) -> None:
        """Set an unsuccessful execution going again, in one transaction: the executions row
        (guarded by its status and ``redrive_count``), the history, the work item (or a new
        final snapshot) and the task tokens; ConflictError when another redrive won."""
        message = f"Execution {arn} was redriven concurrently: its history already has these ids"
        with self._txn(write=True, conflict=message) as conn:
            executions.redrive_txn(conn, arn, redrive_count, changes, snapshot=snapshot,
                                   due_at=due_at, events=events)
            tokens.apply_token_changes_txn(conn, arn, list(token_changes), now)

    def get_history(self, arn: str, after_id: int = 0, limit: int | None = None,
                    reverse: bool = False) -> list[dict]:
        """Events by id; ``after_id`` is the last id already seen in the chosen direction."""
        with self._txn() as conn:
            return executions.get_history_txn(conn, arn, after_id, limit, reverse)

    # -- work items --------------------------------------------------------------------------

    def claim(self, owner: str, now: float, lease_seconds: float, limit: int) -> list[dict]:
        """Lease due work items to ``owner`` (see ``workitems.claim_txn``)."""
        with self._txn(write=True) as conn:
            return workitems.claim_txn(conn, owner, now, lease_seconds, limit)

    def commit(self, execution_arn: str, version: int, owner: str, *, snapshot: dict,
               due_at: float | None, events: list[dict], execution: dict | None = None,
               consumed_inbox: Sequence[int] = (), finished: bool = False,
               token_changes: Sequence[dict] = (), now: float = 0.0,
               posts: Sequence[tuple[str, dict]] = (), bus_events: Sequence[dict] = ()) -> int:
        """Record one step, keeping the lease; returns the item's new version. ConflictError
        (and nothing changed) when the item moved on. See ``commit_steps`` for the rest."""
        write = Step(workitems.StepWrite(execution_arn, version, snapshot, due_at, events, execution,
                                         list(consumed_inbox), finished),
                     list(token_changes), list(posts), list(bus_events), now)
        self.commit_steps(owner, [write], release=False)
        return version + 1

    def commit_steps(self, owner: str, steps: Sequence[Step], release: bool = True) -> None:
        """Record steps of several executions in one transaction (a group commit) and, with
        ``release``, give up the leases of those that go on. ConflictError (and nothing
        changed) when any of the items moved on.

        In the same transaction, per step: the task tokens it opened or gave up (every token of
        the execution when it finished), its ``posts``, messages for other executions (a
        child's result for its parent), and the ``bus_events`` it publishes (status changes).
        """
        arns = [step.write.execution_arn for step in steps]
        message = (f"History of {arns} already has one of the event ids being written: "
                   "these steps were recorded by another worker")
        with self._txn(write=True, conflict=message) as conn:
            workitems.commit_steps_txn(conn, owner, [step.write for step in steps], release)
            for step in steps:
                if step.token_changes:
                    tokens.apply_token_changes_txn(conn, step.write.execution_arn,
                                                   step.token_changes, step.at)
            tokens.close_execution_tokens_txn(
                conn, [step.write.execution_arn for step in steps if step.write.finished])
            for step in steps:
                workitems.post_many_txn(conn, step.posts, step.at)
            published = [event for step in steps for event in step.bus_events]
            if published:
                outbox.insert_events_txn(conn, published)

    def release(self, execution_arn: str, owner: str) -> bool:
        """Drop ``owner``'s lease; False when ``owner`` no longer holds it."""
        with self._txn(write=True) as conn:
            return workitems.release_txn(conn, execution_arn, owner)

    def post(self, execution_arn: str, body: dict, now: float) -> bool:
        """Queue a message for a running execution; False when it has finished."""
        with self._txn(write=True) as conn:
            return workitems.post_txn(conn, execution_arn, body, now)

    def claim_round(self, owner: str, now: float, lease_seconds: float, limit: int,
                    posts: Sequence[tuple[str, dict]] = ()) -> list[dict]:
        """A worker's round, in one transaction: queue messages (``post``) and lease up to
        ``limit`` due items (``claim``), those the messages made due included."""
        with self._txn(write=True) as conn:
            workitems.post_many_txn(conn, list(posts), now)
            return workitems.claim_txn(conn, owner, now, lease_seconds, limit)

    def next_due(self) -> float | None:
        """When a claim could next return something (for a worker's sleep); None if idle."""
        with self._txn() as conn:
            return workitems.next_due_txn(conn)

    # -- activities and task tokens ------------------------------------------------------------

    def insert_activity(self, row: dict) -> None:
        message = f"Activity {row.get('name')!r} already exists"
        with self._txn(write=True, conflict=message) as conn:
            tokens.insert_activity_txn(conn, row)

    def get_activity(self, arn: str) -> dict | None:
        with self._txn() as conn:
            return tokens.get_activity_txn(conn, arn)

    def delete_activity(self, arn: str) -> None:
        with self._txn(write=True) as conn:
            tokens.delete_activity_txn(conn, arn)

    def list_activities(self, limit: int, after: str | None = None) -> tuple[list[dict], str | None]:
        with self._txn() as conn:
            return tokens.list_activities_txn(conn, limit, after)

    def take_activity_task(self, activity_arn: str, worker: str | None, now: float) -> dict | None:
        """The oldest task waiting on the activity, now started by ``worker``; None if none."""
        with self._txn(write=True) as conn:
            return tokens.take_activity_task_txn(conn, activity_arn, worker, now)

    def answer_token(self, token: str, body: dict, now: float, final: bool) -> tokens.Answer:
        """Queue an answer (success, failure, heartbeat) to a task token for its execution."""
        with self._txn(write=True) as conn:
            return tokens.answer_token_txn(conn, token, body, now, final)

    def list_tokens(self, *, execution_arn: str | None = None, state_name: str | None = None,
                    activity_arn: str | None = None, older_than: float | None = None,
                    limit: int = 100, after: str | None = None) -> tuple[list[dict], str | None]:
        with self._txn() as conn:
            return tokens.list_tokens_txn(conn, execution_arn=execution_arn, state_name=state_name,
                                          activity_arn=activity_arn, older_than=older_than,
                                          limit=limit, after=after)

    # -- the event bus ---------------------------------------------------------------------------

    def insert_bus(self, row: dict) -> None:
        message = f"Event bus {row.get('name')} already exists."
        with self._txn(write=True, conflict=message) as conn:
            events.insert_bus_txn(conn, row)

    def get_bus(self, name: str) -> dict | None:
        with self._txn() as conn:
            return events.get_bus_txn(conn, name)

    def list_buses(self, prefix: str | None = None) -> list[dict]:
        with self._txn() as conn:
            return events.list_buses_txn(conn, prefix)

    def delete_bus(self, name: str) -> None:
        with self._txn(write=True) as conn:
            events.delete_bus_txn(conn, name)

    def put_rule(self, row: dict) -> None:
        with self._txn(write=True, conflict=f"Rule {row.get('name')} was created concurrently") as conn:
            events.put_rule_txn(conn, row)

    def get_rule(self, bus: str, name: str) -> dict | None:
        with self._txn() as conn:
            return events.get_rule_txn(conn, bus, name)

    def list_rules(self, bus: str, prefix: str | None, limit: int,
                   after: str | None = None) -> tuple[list[dict], str | None]:
        with self._txn() as conn:
            return events.list_rules_txn(conn, bus, prefix, limit, after)

    def update_rule(self, bus: str, name: str, changes: dict) -> bool:
        """Change some fields of a rule; False when there is no such rule."""
        with self._txn(write=True) as conn:
            return events.update_rule_txn(conn, bus, name, changes)

    def delete_rule(self, bus: str, name: str) -> str:
        """'deleted', 'missing' or 'has_targets' (nothing deleted)."""
        with self._txn(write=True) as conn:
            return events.delete_rule_txn(conn, bus, name)

    def rules_version(self) -> int:
        """A counter every rule or target change bumps (for caches of compiled rules)."""
        with self._txn() as conn:
            return events.rules_version_txn(conn)

    def enabled_rules(self) -> list[dict]:
        with self._txn() as conn:
            return events.enabled_rules_txn(conn)

    def put_targets(self, bus: str, rule: str, rows: list[dict], limit: int) -> bool:
        """Add or replace targets of a rule in one transaction; False (nothing written) when
        the rule would then have more than ``limit`` targets."""
        with self._txn(write=True) as conn:
            ids = events.target_ids_txn(conn, bus, rule) | {row["id"] for row in rows}
            if len(ids) > limit:
                return False
            for row in rows:
                events.put_target_txn(conn, row)
            events.bump_version_txn(conn)
            return True

    def remove_targets(self, bus: str, rule: str, ids: list[str]) -> None:
        with self._txn(write=True) as conn:
            events.remove_targets_txn(conn, bus, rule, ids)

    def list_targets(self, bus: str, rule: str, limit: int,
                     after: str | None = None) -> tuple[list[dict], str | None]:
        with self._txn() as conn:
            return events.list_targets_txn(conn, bus, rule, limit, after)

    def targets_of_rules(self, bus: str, rules: list[str]) -> list[dict]:
        with self._txn() as conn:
            return events.targets_of_rules_txn(conn, bus, rules)

    def rule_names_by_target(self, bus: str, arn: str, limit: int,
                             after: str | None = None) -> tuple[list[str], str | None]:
        with self._txn() as conn:
            return events.rule_names_by_target_txn(conn, bus, arn, limit, after)

    def insert_events(self, rows: list[dict], only_new: bool = False) -> list[str]:
        """Store accepted events (the outbox) in one transaction; returns the ids stored
        (``only_new``: events whose id is already stored are skipped, not an error)."""
        with self._txn(write=True, conflict="An event with this id was already stored") as conn:
            return events.insert_events_txn(conn, rows, only_new)

    def claim_events(self, owner: str, now: float, lease_seconds: float,
                     limit: int) -> list[dict]:
        with self._txn(write=True) as conn:
            return events.claim_events_txn(conn, owner, now, lease_seconds, limit)

    def record_matches(self, event_id: str, owner: str, deliveries: list[dict]) -> None:
        """ConflictError when ``owner`` lost the event's lease (nothing written)."""
        with self._txn(write=True, conflict=f"Event {event_id} was matched twice") as conn:
            events.record_matches_txn(conn, event_id, owner, deliveries)

    def settle_delivery(self, owner: str, delivery: dict, changes: dict,
                        dead_letter: dict | None = None) -> None:
        """ConflictError when ``owner`` lost the event's lease (nothing written)."""
        with self._txn(write=True) as conn:
            events.settle_delivery_txn(conn, owner, delivery, changes, dead_letter)

    def release_event(self, event_id: str, owner: str) -> None:
        with self._txn(write=True) as conn:
            events.release_event_txn(conn, event_id, owner)

    def next_event_due(self) -> float | None:
        with self._txn() as conn:
            return events.next_event_due_txn(conn)

    def get_event(self, event_id: str) -> dict | None:
        """A stored event with its deliveries; None when unknown."""
        with self._txn() as conn:
            return events.get_event_txn(conn, event_id)

    def redeliver(self, event_id: str, now: float, delivery: tuple[str, str] | None = None) -> int:
        with self._txn(write=True) as conn:
            return events.redeliver_txn(conn, event_id, now, delivery)

    def list_dead_letters(self, limit: int, after: str | None = None) -> tuple[list[dict], str | None]:
        with self._txn() as conn:
            return events.list_dead_letters_txn(conn, limit, after)

    def redrive_dead_letter(self, dead_letter_id: int, now: float) -> bool:
        with self._txn(write=True) as conn:
            return events.redrive_dead_letter_txn(conn, dead_letter_id, now)

    def due_schedules(self, now: float) -> list[dict]:
        with self._txn() as conn:
            return events.due_schedules_txn(conn, now)

    def fire_schedule(self, rule: dict, next_fire: float | None, event_row: dict) -> bool:
        """True when this caller fired the rule's tick (stored its event)."""
        with self._txn(write=True) as conn:
            return events.fire_schedule_txn(conn, rule, next_fire, event_row)

    # -- observability ---------------------------------------------------------------------------

    def gauges(self, now: float) -> dict[str, int]:
        """How much work waits at ``now`` (``gauges.gauges_txn``): one read, for /metrics."""
        with self._txn() as conn:
            return gauges.gauges_txn(conn, now)

    # -- retention -------------------------------------------------------------------------------

    def purge_expired(self, kind: str, before: float, limit: int) -> dict[str, int]:
        """Delete one batch of up to ``limit`` rows of ``kind`` (a ``retention.EXPIRIES`` key)
        that expired before ``before``, with their dependents; rows deleted, by table. A batch
        is its own short transaction: workers wait for the write lock one batch at most."""
        with self._txn(write=True) as conn:
            return retention.purge_batch_txn(conn, retention.EXPIRIES[kind], before, limit)

    def count_expired(self, before: float) -> dict[str, int]:
        """The rows a purge with this cutoff would delete, by table (a dry run)."""
        with self._txn() as conn:
            return {table: count for expiry in retention.EXPIRIES.values()
                    for table, count in retention.count_expired_txn(conn, expiry, before).items()}
