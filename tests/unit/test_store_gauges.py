"""The gauges /metrics reads from the database, on in-memory SQLite, a SQLite file and PostgreSQL."""
from __future__ import annotations

from test_store_tokens import opened
from test_store_workitems import LEASE, claim_one, started, step

NOW = 1000.0


def test_an_empty_database_has_nothing_waiting(store):
    assert store.gauges(NOW) == {"queue_depth": 0, "due_timers": 0, "work_items_leased": 0,
                                 "executions_running": 0, "waiting_task_tokens": 0,
                                 "events_pending": 0}


def test_items_are_counted_by_when_they_are_due_and_who_leases_them(store):
    # Given items due now, due later (a Wait), parked (no due time) and one leased
    for name in ("ready-1", "ready-2", "leased"):
        started(store, name, due_at=NOW - 1)
    started(store, "waiting", due_at=NOW + 60)
    started(store, "parked", due_at=None)
    assert [item["execution_arn"].endswith(":leased") for item in store.claim("w", NOW, LEASE, 1)] == [True]
    # Then
    gauges = store.gauges(NOW)
    assert gauges["executions_running"] == 5
    assert gauges["queue_depth"] == 2  # due now and free
    assert gauges["work_items_leased"] == 1
    assert gauges["due_timers"] == 1  # the Wait
    # and once the lease has expired, the leased item counts as ready again
    assert store.gauges(NOW + 2 * LEASE)["queue_depth"] == 4


def test_open_task_tokens_count_until_their_execution_ends(store):
    arn = started(store, "asks", due_at=NOW)
    step(store, claim_one(store), token_changes=[opened("t1"), opened("t2")], now=NOW, due_at=None)
    assert store.gauges(NOW)["waiting_task_tokens"] == 2
    store.post(arn, {"kind": "stop"}, NOW)
    later = NOW + 2 * LEASE  # Store.commit keeps the lease: claim again once it expired
    step(store, claim_one(store, now=later), finished=True, execution={"status": "ABORTED", "stop_date": NOW})
    assert store.gauges(NOW)["waiting_task_tokens"] == 0
    assert store.gauges(NOW)["executions_running"] == 0


def test_bus_events_with_deliveries_to_attempt_are_pending(store):
    row = {"id": "e1", "bus": "default", "event": {"id": "e1"}, "ingested": NOW, "rule": None,
           "matched": False, "due_at": NOW}
    store.insert_events([row, {**row, "id": "e2", "due_at": None}])
    assert store.gauges(NOW)["events_pending"] == 1
