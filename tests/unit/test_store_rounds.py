"""A worker's round on the store: group commits of many steps, steps on items resumed from
memory (guarded by version and a free lease), and posting and claiming in one transaction (on
every kind of database)."""
from __future__ import annotations

import pytest

from engine.errors import ConflictError
from engine.store import Step, StepWrite, Store

from test_store_workitems import LATER, LEASE, event, names, started


def write(item: dict, **changes) -> Step:
    fields = {"snapshot": {"state": "B"}, "due_at": None, "events": [event(2)], **changes}
    return Step(StepWrite(item["execution_arn"], item["version"], fields["snapshot"], fields["due_at"],
                          fields["events"], fields.get("execution"), fields.get("consumed_inbox", []),
                          fields.get("finished", False)), at=1000.0)


def test_a_group_commit_records_every_step_and_releases_the_leases(store: Store):
    arns = [started(store, f"g{index}") for index in range(5)]
    items = store.claim("w", 1000.0, LEASE, 10)
    done = {"status": "SUCCEEDED", "stop_date": 1000.0, "output": "{}", "error": None, "cause": None}
    steps = [write(item) for item in items[:4]] + [write(items[4], execution=done, finished=True)]
    store.commit_steps("w", steps)
    for arn in arns:
        assert [e["id"] for e in store.get_history(arn)] == [1, 2]
    assert store.get_execution(arns[4])["status"] == "SUCCEEDED"
    assert [store.get_execution(arn)["status"] for arn in arns[:4]] == ["RUNNING"] * 4
    for arn in arns[:4]:  # released: a message makes them claimable by anyone at once
        assert store.post(arn, {"n": 1}, 1001.0)
    assert sorted(names(store.claim("other", 1001.0, LEASE, 10))) == ["g0", "g1", "g2", "g3"]


def test_one_lost_item_rolls_the_whole_group_back(store: Store):
    arns = [started(store, f"r{index}") for index in range(3)]
    items = store.claim("w", 1000.0, LEASE, 10)
    [stolen] = store.claim("thief", LATER, LEASE, 1)  # w's leases expired; one was taken
    with pytest.raises(ConflictError):
        store.commit_steps("w", [write(item) for item in items])
    for arn in arns:
        assert [e["id"] for e in store.get_history(arn)] == [1]
    assert store.claim("thief", LATER, LEASE, 10)  # the others were not touched either
    assert stolen["execution_arn"] in arns


def unleased(item: dict, at: float, **changes) -> Step:
    step = write(item, **changes)
    step.write.unleased_at = at
    return step


def test_a_step_on_an_unleased_item_counts_only_at_its_version(store: Store):
    kept, moved = started(store, "kept"), started(store, "moved")
    items = {item["execution_arn"]: item for item in store.claim("w", 1000.0, LEASE, 10)}
    store.commit_steps("w", [write(items[kept]), write(items[moved])])  # both at version 2, released
    assert store.post(moved, {"stop": True}, 1001.0)
    [other] = store.claim("other", 1001.0, LEASE, 10)  # someone else takes "moved" on
    store.commit_steps("other", [write(other, events=[event(3)],
                                       consumed_inbox=[m["id"] for m in other["inbox"]])])
    remembered = {"execution_arn": None, "version": 2}
    with pytest.raises(ConflictError):  # "moved" is at version 3 now
        store.commit_steps("w", [unleased({**remembered, "execution_arn": moved}, 1002.0,
                                          events=[event(3)])])
    store.commit_steps("w", [unleased({**remembered, "execution_arn": kept}, 1002.0, events=[event(3)])])
    assert [e["id"] for e in store.get_history(kept)] == [1, 2, 3]
    assert [e["id"] for e in store.get_history(moved)] == [1, 2, 3]


def test_a_step_on_an_unleased_item_loses_to_a_live_lease(store: Store):
    arn = started(store, "busy")
    [item] = store.claim("w", 1000.0, LEASE, 10)
    store.commit_steps("w", [write(item, due_at=1001.0)])
    [_] = store.claim("other", 1001.0, LEASE, 10)  # leased until 1001 + LEASE
    with pytest.raises(ConflictError):
        store.commit_steps("w", [unleased({"execution_arn": arn, "version": 2}, 1002.0,
                                          events=[event(3)])])
    done = {"status": "SUCCEEDED", "stop_date": LATER, "output": "{}", "error": None, "cause": None}
    store.commit_steps("w", [unleased({"execution_arn": arn, "version": 2}, LATER, events=[event(3)],
                                      execution=done, finished=True)])  # that lease expired
    assert store.get_execution(arn)["status"] == "SUCCEEDED"


def test_a_round_posts_then_claims_what_the_posts_made_due(store: Store):
    waiting = started(store, "waiting", due_at=None)
    finished = started(store, "gone")
    items = store.claim_round("w", 1000.0, LEASE, 10, posts=[(waiting, {"answer": 1})])
    by_name = {name: item for name, item in zip(names(items), items)}
    assert set(by_name) == {"waiting", "gone"}
    assert [m["body"] for m in by_name["waiting"]["inbox"]] == [{"answer": 1}]
    done = {"status": "SUCCEEDED", "stop_date": 1000.0, "output": "{}", "error": None, "cause": None}
    store.commit_steps("w", [write(by_name["gone"], execution=done, finished=True),
                             write(by_name["waiting"], consumed_inbox=[by_name["waiting"]["inbox"][0]["id"]])])
    # a message for a finished execution is dropped, not kept for ever
    items = store.claim_round("w", 1001.0, LEASE, 10, posts=[(finished, {"late": True})])
    assert items == []
