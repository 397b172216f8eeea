"""Work items: claim, lease expiry and recovery, guarded commits, the inbox, concurrency."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.errors import ConflictError
from engine.store import Store

LEASE = 30.0  # seconds
LATER = 1000.0 + 2 * LEASE  # every lease taken at 1000.0 has expired


def event(event_id: int, kind: str = "PassStateEntered", details: dict | None = None) -> dict:
    return {"id": event_id, "previous_event_id": event_id - 1 or None, "timestamp": 1000.0,
            "type": kind, "details": details}


def started(store: Store, name: str = "ex", due_at: float | None = 1000.0) -> str:
    """Insert a running execution with its first event and a work item in state A; its arn."""
    arn = f"arn:aws:states:us-east-1:123456789012:execution:sm:{name}"
    row = {"arn": arn, "state_machine_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
           "name": name, "type": "STANDARD", "status": "RUNNING", "start_date": 1000.0}
    store.insert_execution(row, {"state": "A"}, due_at, [event(1, "ExecutionStarted")])
    return arn


def claim_one(store, owner="w", now=1000.0):
    [item] = store.claim(owner, now, LEASE, 1)
    return item


def step(store, item, owner="w", **changes):
    """Commit the claimed ``item`` with a new snapshot and nothing else, unless told otherwise."""
    fields = {"snapshot": {"state": "B"}, "due_at": None, "events": [],
              "execution": None, "consumed_inbox": [], "finished": False, **changes}
    return store.commit(item["execution_arn"], item["version"], owner, **fields)


def names(items):
    return [item["execution_arn"].rsplit(":", 1)[1] for item in items]


# -- claim ----------------------------------------------------------------------------------

def test_claim_returns_due_items_earliest_first_up_to_limit(store):
    for name, due in [("late", 1003.0), ("early", 1001.0), ("middle", 1002.0),
                      ("future", 9999.0)]:
        started(store, name, due_at=due)
    started(store, "parked", due_at=None)  # waits for a message, never for the clock
    claimed = store.claim("w", 1005.0, LEASE, 2)
    assert names(claimed) == ["early", "middle"]
    assert claimed[0] == {"execution_arn": claimed[0]["execution_arn"], "version": 1,
                          "snapshot": {"state": "A"}, "due_at": 1001.0, "inbox": []}
    assert names(store.claim("w", 1005.0, LEASE, 10)) == ["late"]


def test_a_lease_hides_the_item_until_it_expires(store):
    arn = started(store)
    claim_one(store, "a", now=1000.0)
    assert store.claim("b", 1000.0 + LEASE - 0.001, LEASE, 10) == []
    recovered = claim_one(store, "b", now=1000.0 + LEASE)
    assert (recovered["execution_arn"], recovered["snapshot"]) == (arn, {"state": "A"})


def test_the_old_owner_cannot_commit_after_recovery(store):
    arn = started(store)
    stale = claim_one(store, "a")
    recovered = claim_one(store, "b", now=LATER)
    with pytest.raises(ConflictError, match="no longer current"):
        step(store, stale, "a", events=[event(2)])
    assert step(store, recovered, "b", events=[event(2, "PassStateExited")]) == 2
    assert [e["type"] for e in store.get_history(arn)] == ["ExecutionStarted", "PassStateExited"]


def test_release_drops_the_lease_for_its_owner_only(store):
    arn = started(store)
    claim_one(store, "a")
    assert store.release(arn, "b") is False
    assert store.claim("b", 1000.0, LEASE, 10) == []
    assert store.release(arn, "a") is True
    assert claim_one(store, "b")["execution_arn"] == arn
    assert store.release(arn + "-missing", "b") is False


# -- commit ---------------------------------------------------------------------------------

def test_commit_bumps_the_version_and_keeps_the_lease(store):
    arn = started(store)
    item = claim_one(store)
    version = step(store, item, due_at=1000.0, events=[event(2)],
                   execution={"input": '{"x":1}'})
    assert version == 2
    assert store.claim("other", 1000.0, LEASE, 10) == []  # still leased to w
    assert step(store, {**item, "version": version}, events=[event(3)]) == 3
    assert store.get_execution(arn)["input"] == '{"x":1}'
    assert [e["id"] for e in store.get_history(arn)] == [1, 2, 3]
    assert store.post(arn, {}, LATER)  # the last step left it waiting (due_at None)
    again = claim_one(store, now=LATER)
    assert (again["version"], again["snapshot"]) == (3, {"state": "B"})


@pytest.mark.parametrize(("version", "owner"), [(0, "w"), (2, "w"), (1, "intruder")])
@pytest.mark.parametrize("finished", [False, True])
def test_a_guarded_commit_changes_nothing_on_conflict(store, version, owner, finished):
    arn = started(store)
    store.post(arn, {"m": 1}, 1000.0)
    item = claim_one(store)
    with pytest.raises(ConflictError):
        step(store, {**item, "version": version}, owner, events=[event(2)],
             execution={"status": "FAILED"}, consumed_inbox=[item["inbox"][0]["id"]],
             finished=finished)
    assert_untouched(store, arn)


def test_a_repeated_event_id_rolls_the_whole_commit_back(store):
    arn = started(store)
    store.post(arn, {"m": 1}, 1000.0)
    item = claim_one(store)
    with pytest.raises(ConflictError, match="recorded by another worker"):
        step(store, item, events=[event(2), event(1, "PassStateExited")],
             execution={"status": "FAILED"}, consumed_inbox=[item["inbox"][0]["id"]])
    assert_untouched(store, arn)


def assert_untouched(store, arn):
    """Execution, history, work item and inbox are as ``started`` and one post left them."""
    assert store.get_execution(arn)["status"] == "RUNNING"
    assert [e["type"] for e in store.get_history(arn)] == ["ExecutionStarted"]
    again = claim_one(store, now=LATER)
    assert (again["version"], again["snapshot"]) == (1, {"state": "A"})
    assert [message["body"] for message in again["inbox"]] == [{"m": 1}]


def test_finishing_deletes_the_item_and_its_inbox(store):
    arn = started(store)
    item = claim_one(store)
    store.post(arn, {"late": True}, 1001.0)  # arrives while the last step runs
    step(store, item, finished=True, events=[event(2, "ExecutionSucceeded")],
         execution={"status": "SUCCEEDED", "output": "{}", "stop_date": 1002.0})
    assert store.get_execution(arn)["status"] == "SUCCEEDED"
    assert store.claim("w", LATER, LEASE, 10) == []
    assert store.next_due() is None
    assert store.post(arn, {"stop": True}, LATER) is False
    assert store.claim("w", LATER, LEASE, 10) == []


# -- inbox ----------------------------------------------------------------------------------

def test_post_makes_a_waiting_item_due_now_with_its_messages_oldest_first(store):
    parked, future = started(store, "parked", due_at=None), started(store, "future", due_at=9999.0)
    assert store.claim("w", 1500.0, LEASE, 10) == []
    assert store.post(parked, {"n": 1}, 1500.0) and store.post(parked, {"n": 2}, 1501.0)
    assert store.post(future, {"n": 3}, 1502.0)
    claimed = store.claim("w", 1502.0, LEASE, 10)
    assert names(claimed) == ["parked", "future"]
    assert [item["due_at"] for item in claimed] == [1500.0, 1502.0]
    assert [m["body"] for m in claimed[0]["inbox"]] == [{"n": 1}, {"n": 2}]
    assert claimed[0]["inbox"][0]["id"] < claimed[0]["inbox"][1]["id"]


def test_post_never_postpones_an_earlier_due_time(store):
    arn = started(store, due_at=1000.0)
    store.post(arn, {}, 2000.0)
    assert store.next_due() == 1000.0


def test_commit_deletes_consumed_messages_only_and_wakes_for_the_rest(store):
    arn = started(store)
    store.post(arn, {"n": 1}, 1000.0)
    item = claim_one(store)
    store.post(arn, {"n": 2}, 1010.0)  # arrives while the step runs
    step(store, item, due_at=5000.0, consumed_inbox=[item["inbox"][0]["id"]])
    store.release(arn, "w")
    assert store.next_due() == 1010.0  # not 5000: a message waits
    again = claim_one(store, now=1010.0)
    assert [m["body"] for m in again["inbox"]] == [{"n": 2}]


# -- next_due -------------------------------------------------------------------------------

def test_next_due_is_when_a_claim_could_next_succeed(store):
    assert store.next_due() is None
    started(store, "parked", due_at=None)
    assert store.next_due() is None
    started(store, "a", due_at=1000.0)
    started(store, "b", due_at=1020.0)
    assert store.next_due() == 1000.0
    claim_one(store, now=1000.0)  # a is leased until 1030
    assert store.next_due() == 1020.0
    claim_one(store, now=1020.0)  # b is leased until 1050
    assert store.next_due() == 1000.0 + LEASE


# -- concurrency ----------------------------------------------------------------------------

WORKERS = 4
ITEMS = 60


def run_together(work, count=WORKERS) -> list:
    """Run ``work(n)`` on ``count`` threads released at once; their results, errors re-raised."""
    barrier = threading.Barrier(count)

    def start(n):
        barrier.wait(timeout=10)
        return work(n)

    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(start, n) for n in range(count)]
        return [future.result(timeout=30) for future in futures]


def test_concurrent_claimers_never_share_an_item(store):
    for index in range(ITEMS):
        started(store, f"e{index:02}", due_at=1000.0 + index % 7)

    def drain(n):
        mine = []
        while batch := store.claim(f"w{n}", 2000.0, LEASE, 3):
            mine += [item["execution_arn"] for item in batch]
        return mine

    every = [arn for mine in run_together(drain) for arn in mine]
    assert len(every) == ITEMS and len(set(every)) == ITEMS


def test_concurrent_commits_of_one_version_let_exactly_one_win(store):
    arn = started(store)
    item = claim_one(store)

    def commit(n):
        try:
            return step(store, item, events=[event(2, details={"n": n})])
        except ConflictError:
            return "lost"

    outcomes = run_together(commit)
    assert sorted(map(str, outcomes)) == ["2"] + ["lost"] * (WORKERS - 1)
    assert [e["id"] for e in store.get_history(arn)] == [1, 2]
