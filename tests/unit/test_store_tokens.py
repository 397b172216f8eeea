"""Task tokens in the store: opened with a step, answered once, expired, closed with the
execution; activities as a queue. Runs on every database kind."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from test_store_workitems import LEASE, claim_one, started, step

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"


def opened(token: str, *, activity: str | None = None, path: str = "0", invocation: int = 1,
           timeout_at: float | None = None, heartbeat: int | None = None) -> dict:
    return {"op": "open", "token": token, "path": path, "invocation": invocation, "state": "Ask",
            "resource": activity or "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "activity_arn": activity, "input": '{"n":1}', "timeout_at": timeout_at,
            "heartbeat_seconds": heartbeat}


def with_tokens(store, *changes, name="ex", now=1000.0) -> str:
    arn = started(store, name)
    step(store, claim_one(store), token_changes=list(changes), now=now, due_at=now)
    store.release(arn, "w")
    return arn


def test_an_answer_is_queued_once_and_a_second_one_is_refused(store):
    arn = with_tokens(store, opened("t1"))
    first = store.answer_token("t1", {"kind": "task_result", "output": 1}, 1001.0, final=True)
    assert first.outcome == "ok" and first.row["execution_arn"] == arn
    assert store.answer_token("t1", {"kind": "task_result", "output": 2}, 1002.0, final=True).outcome == "closed"
    [item] = store.claim("w2", 1003.0, LEASE, 1)
    assert [m["body"] for m in item["inbox"]] == [
        {"kind": "task_result", "output": 1, "path": "0", "invocation": 1, "at": 1001.0}]


def test_unknown_tokens_are_missing(store):
    assert store.answer_token("nope", {"kind": "heartbeat"}, 1000.0, final=False).outcome == "missing"


def test_deadlines_and_heartbeats(store):
    with_tokens(store, opened("timed", timeout_at=1010.0), opened("beating", path="1", heartbeat=5))
    assert store.answer_token("timed", {"kind": "task_result", "output": 1}, 1011.0, True).outcome == "timed_out"
    assert store.answer_token("beating", {"kind": "heartbeat"}, 1004.0, False).outcome == "ok"
    assert store.answer_token("beating", {"kind": "heartbeat"}, 1008.0, False).outcome == "ok"
    assert store.answer_token("beating", {"kind": "heartbeat"}, 1014.0, False).outcome == "timed_out"


def test_a_step_closes_tokens_and_a_finished_execution_closes_all(store):
    arn = with_tokens(store, opened("a"), opened("b", path="1"))
    step(store, claim_one(store, now=1001.0), token_changes=[{"op": "close", "token": "a", "status": "TIMED_OUT"}],
         now=1001.0, due_at=1001.0)
    assert store.answer_token("a", {"kind": "heartbeat"}, 1002.0, False).outcome == "timed_out"
    store.release(arn, "w")
    step(store, claim_one(store, now=1003.0), finished=True, now=1003.0)
    assert store.answer_token("b", {"kind": "task_result"}, 1004.0, True).outcome == "closed"
    assert store.list_tokens(execution_arn=arn) == ([], None)


def test_activity_tasks_go_oldest_first_to_one_worker_each(store):
    with_tokens(store, opened("old", activity=ACTIVITY), name="one", now=1000.0)
    with_tokens(store, opened("new", activity=ACTIVITY), name="two", now=1001.0)
    with ThreadPoolExecutor(4) as pool:
        taken = list(pool.map(lambda n: store.take_activity_task(ACTIVITY, f"w{n}", 1002.0), range(4)))
    tokens = [row["token"] for row in taken if row is not None]
    assert sorted(tokens) == ["new", "old"] and taken.count(None) == 2
    assert store.take_activity_task(ACTIVITY, "late", 1003.0) is None
    waiting, _ = store.list_tokens(activity_arn=ACTIVITY)
    assert {row["status"] for row in waiting} == {"STARTED"}


def test_list_tokens_filters(store):
    with_tokens(store, opened("x", timeout_at=2000.0), name="e1")
    rows, _ = store.list_tokens(state_name="Ask", older_than=1000.0)
    assert [row["token"] for row in rows] == ["x"]
    assert store.list_tokens(state_name="Other") == ([], None)
