"""Store: final snapshots of unsuccessful executions and the guarded redrive transaction."""
from __future__ import annotations

import pytest

from engine.errors import ConflictError

SM = "arn:aws:states:us-east-1:123456789012:stateMachine:sm"
LEASE = 30.0


def event(event_id: int, kind: str = "PassStateEntered", timestamp: float = 1000.0) -> dict:
    return {"id": event_id, "previous_event_id": event_id - 1 or None, "timestamp": timestamp,
            "type": kind, "details": None}


def started(store, name: str = "ex") -> str:
    arn = f"arn:aws:states:us-east-1:123456789012:execution:sm:{name}"
    store.insert_execution({"arn": arn, "state_machine_arn": SM, "name": name, "type": "STANDARD",
                            "status": "RUNNING", "start_date": 1000.0},
                           {"state": "A"}, 1000.0, [event(1, "ExecutionStarted")])
    return arn


def finish(store, arn: str, status: str, snapshot: dict) -> None:
    [item] = store.claim("w", 1000.0, LEASE, 1)
    store.commit(arn, item["version"], "w", snapshot=snapshot, due_at=None,
                 events=[event(2), event(3, "ExecutionFailed")],
                 execution={"status": status, "stop_date": 1001.0}, finished=True)


def redrive(store, arn: str, count: int = 0, status: str = "RUNNING", first_id: int = 4):
    store.redrive(arn, count, {"status": status, "stop_date": None, "redrive_count": count + 1,
                               "redrive_date": 2000.0},
                  snapshot={"state": "again"}, due_at=2000.0,
                  events=[event(first_id, "ExecutionRedriven", 2000.0), event(first_id + 1)], now=2000.0)


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_an_unsuccessful_end_keeps_the_final_snapshot_and_the_history_length(store, status):
    arn = started(store)
    finish(store, arn, status, {"state": "failed here"})
    assert store.get_final_snapshot(arn) == {"state": "failed here"}
    assert store.final_event_count(arn) == 3
    assert store.claim("w", 9999.0, LEASE, 10) == []  # nothing left to claim


def test_a_successful_end_keeps_nothing(store):
    arn = started(store)
    finish(store, arn, "SUCCEEDED", {"state": "done"})
    assert store.get_final_snapshot(arn) is None and store.final_event_count(arn) is None


def test_an_execution_that_failed_at_start_keeps_its_snapshot(store):
    arn = "arn:aws:states:us-east-1:123456789012:execution:sm:at-once"
    store.insert_execution({"arn": arn, "state_machine_arn": SM, "name": "at-once", "type": "STANDARD",
                            "status": "FAILED", "start_date": 1000.0, "stop_date": 1000.0},
                           {"state": "F"}, None, [event(1, "ExecutionStarted"), event(2, "ExecutionFailed")])
    assert store.get_final_snapshot(arn) == {"state": "F"} and store.final_event_count(arn) == 2
    assert store.claim("w", 9999.0, LEASE, 10) == []


def test_redrive_recreates_the_work_item_and_appends_the_history_in_one_transaction(store):
    arn = started(store)
    finish(store, arn, "FAILED", {"state": "failed here"})
    redrive(store, arn)

    row = store.get_execution(arn)
    assert (row["status"], row["redrive_count"], row["redrive_date"], row["stop_date"]) == \
        ("RUNNING", 1, 2000.0, None)
    assert [e["type"] for e in store.get_history(arn)][-2:] == ["ExecutionRedriven", "PassStateEntered"]
    assert store.get_final_snapshot(arn) is None
    [item] = store.claim("w", 2000.0, LEASE, 10)
    assert item["snapshot"] == {"state": "again"} and item["version"] == 1


def test_a_redrive_that_ends_at_once_keeps_the_new_final_snapshot(store):
    arn = started(store)
    finish(store, arn, "FAILED", {"state": "failed here"})
    redrive(store, arn, status="FAILED")
    assert store.get_execution(arn)["status"] == "FAILED"
    assert store.get_final_snapshot(arn) == {"state": "again"} and store.final_event_count(arn) == 5
    assert store.claim("w", 9999.0, LEASE, 10) == []


def test_a_second_redrive_from_the_same_count_loses_and_changes_nothing(store):
    arn = started(store)
    finish(store, arn, "FAILED", {"state": "failed here"})
    redrive(store, arn)
    with pytest.raises(ConflictError, match="another redrive won"):
        redrive(store, arn, first_id=6)
    assert store.get_execution(arn)["redrive_count"] == 1
    assert len(store.get_history(arn)) == 5


def test_a_running_or_succeeded_execution_is_never_redriven(store):
    arn = started(store)
    with pytest.raises(ConflictError):
        redrive(store, arn)
    assert store.get_execution(arn)["status"] == "RUNNING" and len(store.get_history(arn)) == 1


def test_list_executions_filters_on_redriven(store):
    first, second = started(store, "first"), started(store, "second")
    [item, _] = store.claim("w", 1000.0, LEASE, 2)
    assert item["execution_arn"] == first
    store.commit(first, item["version"], "w", snapshot={}, due_at=None, events=[event(2)],
                 execution={"status": "FAILED", "stop_date": 1001.0}, finished=True)
    redrive(store, first, first_id=3)
    redriven, _ = store.list_executions(SM, None, 10, redriven=True)
    never, _ = store.list_executions(SM, None, 10, redriven=False)
    both, _ = store.list_executions(SM, None, 10)
    assert [r["arn"] for r in redriven] == [first] and [r["arn"] for r in never] == [second]
    assert len(both) == 2
