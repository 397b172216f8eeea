"""Retention on every database: old finished executions and settled events go in batches with
everything that hangs on them; recent ones and running ones (however old) stay; purges that run
at once in several threads delete each row once and fail nowhere."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from engine.clock import FakeClock
from engine.runtime.retention import DAY, Retention
from engine.settings import Settings
from engine.store import Store
from engine.store.schema import inbox

NOW = 1_800_000_000.0
OLD = NOW - 100 * DAY  # older than the 90 days kept
RECENT = NOW - 10 * DAY
PREFIX = "arn:aws:states:us-east-1:123456789012"


def retention(store: Store, batch: int = 500, days: float = 90.0) -> Retention:
    return Retention(store, Settings(retention_days=days), FakeClock(NOW), batch=batch)


def add_execution(store: Store, name: str, stopped: float | None, status: str = "SUCCEEDED",
                  events: int = 3) -> str:
    """An execution that ended at ``stopped`` (RUNNING if None, started long before), with
    ``events`` history events and an open task token; FAILED ones keep a final snapshot."""
    arn = f"{PREFIX}:execution:sm:{name}"
    started = (stopped or OLD) - 60
    row = {"arn": arn, "state_machine_arn": f"{PREFIX}:stateMachine:sm", "name": name,
           "type": "STANDARD", "status": "RUNNING" if stopped is None else status,
           "input": "{}", "start_date": started, "stop_date": stopped}
    history = [{"id": i, "previous_event_id": i - 1 or None, "timestamp": started,
                "type": "PassStateEntered", "details": None} for i in range(1, events + 1)]
    token = {"op": "open", "token": f"token-{name}", "path": "A", "invocation": 1,
             "state": "A", "resource": "arn:aws:states:::lambda:invoke.waitForTaskToken"}
    store.insert_execution(row, {"state": "A"}, started, history, token_changes=[token])
    return arn


def leave_message(store: Store, arn: str) -> None:
    """A message left behind for a finished execution (nothing in the engine writes one now)."""
    with store._txn(write=True) as conn:
        conn.execute(inbox.insert().values(execution_arn=arn, body={"kind": "stop"}, created=OLD))


def gone(store: Store, arn: str) -> bool:
    return (store.get_execution(arn) is None and store.get_history(arn) == []
            and store.get_final_snapshot(arn) is None
            and store.list_tokens(execution_arn=arn)[0] == [])


# -- executions ----------------------------------------------------------------------------------

def test_old_finished_executions_go_with_all_they_hold_and_the_others_stay(store):
    expired = [add_execution(store, "done", OLD), add_execution(store, "failed", OLD, "FAILED"),
               add_execution(store, "aborted", OLD, "ABORTED")]
    leave_message(store, expired[2])
    recent = add_execution(store, "recent", RECENT, "FAILED")
    running = add_execution(store, "running-for-ages", None)
    assert store.get_final_snapshot(expired[1]) is not None

    deleted = retention(store).purge()

    assert all(gone(store, arn) for arn in expired)
    # (ABORTED is redrivable too: it keeps a final snapshot)
    assert deleted == {"executions": 3, "history_events": 9, "final_snapshots": 2,
                       "task_tokens": 3, "inbox": 1}
    assert store.get_execution(recent)["status"] == "FAILED" and len(store.get_history(recent)) == 3
    assert store.get_final_snapshot(recent) is not None
    assert store.get_execution(running)["status"] == "RUNNING" and store.claim("w", NOW, 30, 10)


def test_a_purge_goes_in_batches_oldest_first_until_a_short_batch(store):
    arns = [add_execution(store, f"ex{i}", OLD - i) for i in range(7)]
    assert store.purge_expired("executions", NOW - 90 * DAY, 3)["executions"] == 3
    assert [store.get_execution(arn) is None for arn in arns] == [False] * 4 + [True] * 3

    assert retention(store, batch=2).purge()["executions"] == 4
    assert all(gone(store, arn) for arn in arns)
    assert store.purge_expired("executions", NOW - 90 * DAY, 3) == {"executions": 0}


def test_concurrent_purges_delete_each_execution_once(store):
    arns = [add_execution(store, f"ex{i:02d}", OLD, events=2) for i in range(30)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: retention(store, batch=4).purge(), range(4)))
    assert sum(result.get("executions", 0) for result in results) == 30
    assert sum(result.get("history_events", 0) for result in results) == 60
    assert all(gone(store, arn) for arn in arns)


def test_retention_off_deletes_nothing(store):
    arn = add_execution(store, "ancient", OLD - 3650 * DAY)
    assert retention(store, days=0).purge() == {}
    assert store.get_execution(arn) is not None


# -- bus events and dead letters -----------------------------------------------------------------

def bus_event(event_id: str, ingested: float) -> dict:
    return {"id": event_id, "bus": "default", "event": {"id": event_id}, "ingested": ingested,
            "rule": None, "matched": False, "due_at": ingested}


def delivery(event_id: str, status: str) -> dict:
    return {"event_id": event_id, "rule": "r", "target_id": "t", "bus": "default",
            "rule_arn": "arn:aws:events:us-east-1:123456789012:rule/r", "target": {"Id": "t"},
            "status": status, "attempts": 0, "execution_arn": None,
            "last_error": None, "created": OLD,
            "next_attempt": OLD + 1 if status == "PENDING" else None}


def dead_letter(event_id: str, created: float) -> dict:
    return {"event_id": event_id, "bus": "default", "rule": "r", "target_id": "t",
            "target_arn": "arn", "dead_letter_arn": None, "error": "boom", "attempts": 3,
            "created": created}


def add_event(store: Store, event_id: str, ingested: float, status: str = "DELIVERED",
              letter_at: float | None = None) -> None:
    """An event matched to one delivery that ends ``status``, and its dead letter if dated."""
    store.insert_events([bus_event(event_id, ingested)])
    store.claim_events("d", ingested, 30, 10)  # take the lease that writes are guarded by
    store.record_matches(event_id, "d", [delivery(event_id, status)])
    letter = dead_letter(event_id, letter_at) if letter_at is not None else None
    store.settle_delivery("d", delivery(event_id, status), {"status": status}, letter)
    store.release_event(event_id, "d")
    assert (store.get_event(event_id)["due_at"] is None) == (status != "PENDING")


def test_old_settled_events_go_with_their_deliveries_and_dead_letters(store):
    add_event(store, "delivered", OLD)
    add_event(store, "dead", OLD, status="DEAD", letter_at=OLD)
    add_event(store, "dead-lately", OLD, status="DEAD", letter_at=RECENT)  # its letter is kept
    add_event(store, "pending", OLD, status="PENDING")
    add_event(store, "recent", RECENT)

    assert retention(store).purge() == {"event_dead_letters": 1, "bus_events": 2,
                                        "event_deliveries": 2}

    assert store.get_event("delivered") is None and store.get_event("dead") is None
    assert [letter["event_id"] for letter in store.list_dead_letters(10)[0]] == ["dead-lately"]
    assert store.get_event("dead-lately")["deliveries"][0]["status"] == "DEAD"
    assert store.get_event("pending")["deliveries"][0]["status"] == "PENDING"
    assert store.get_event("recent") is not None


def test_a_dry_run_counts_exactly_what_the_purge_deletes(store):
    add_execution(store, "done", OLD, "FAILED")
    add_execution(store, "running", None)
    add_event(store, "dead", OLD, status="DEAD", letter_at=OLD)
    counted = retention(store).purge(dry_run=True)
    assert counted["executions"] == 1 and counted["bus_events"] == 1
    assert retention(store).purge() == counted
    assert retention(store).purge(dry_run=True) == {}
