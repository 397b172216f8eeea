"""The event bus's tables: rules and targets, the rules version, the outbox with leases,
guarded delivery writes, idempotent publishing, dead letters and schedule ticks."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.errors import ConflictError
from engine.store import Store

LEASE = 30.0
ARN = "arn:aws:events:us-east-1:123456789012:rule/r"


def rule(name: str = "r", bus: str = "default", **fields) -> dict:
    return {"bus": bus, "name": name, "arn": f"{ARN[:-1]}{name}", "event_pattern": '{"source":["s"]}',
            "schedule_expression": None, "state": "ENABLED", "description": None,
            "role_arn": None, "created": 1000.0, "next_fire": None, **fields}


def target(target_id: str, rule_name: str = "r", arn: str = "arn:aws:states:us-east-1:123456789012:stateMachine:m") -> dict:
    return {"bus": "default", "rule": rule_name, "id": target_id, "arn": arn, "role_arn": None,
            "input": None, "input_path": None, "input_transformer": {"InputTemplate": "{}"},
            "retry_policy": {"MaximumRetryAttempts": 2}, "dead_letter_config": None}


def event_row(event_id: str, due_at: float | None = 1000.0, rule_name: str | None = None) -> dict:
    return {"id": event_id, "bus": "default", "event": {"id": event_id, "detail": {"n": 1}},
            "ingested": 1000.0, "rule": rule_name, "matched": False, "due_at": due_at}


def delivery(event_id: str, target_id: str = "t") -> dict:
    return {"event_id": event_id, "rule": "r", "target_id": target_id, "bus": "default",
            "rule_arn": ARN, "target": {"Id": target_id, "Arn": "arn"}, "status": "PENDING",
            "attempts": 0, "next_attempt": 1000.0, "execution_arn": None, "last_error": None,
            "created": 1000.0}


# -- rules and targets -------------------------------------------------------------------------

def test_every_rule_or_target_change_bumps_the_rules_version(store: Store):
    versions = [store.rules_version()]
    store.put_rule(rule())
    versions.append(store.rules_version())
    assert store.put_targets("default", "r", [target("t")], limit=5)
    versions.append(store.rules_version())
    store.update_rule("default", "r", {"state": "DISABLED"})
    versions.append(store.rules_version())
    store.remove_targets("default", "r", ["t"])
    versions.append(store.rules_version())
    store.delete_rule("default", "r")
    versions.append(store.rules_version())
    assert versions == sorted(set(versions)) and len(versions) == 6


def test_put_rule_replaces_and_lists_page_by_name(store: Store):
    for name in ("c", "a", "b", "ab"):
        store.put_rule(rule(name))
    store.put_rule(rule("a", description="changed", event_pattern=None, schedule_expression="rate(1 day)"))
    assert store.get_rule("default", "a")["description"] == "changed"
    assert store.get_rule("default", "a")["event_pattern"] is None
    page, token = store.list_rules("default", None, 2)
    assert [r["name"] for r in page] == ["a", "ab"]
    rest, end = store.list_rules("default", None, 2, token)
    assert [r["name"] for r in rest] == ["b", "c"] and end is None
    assert [r["name"] for r in store.list_rules("default", "a", 10)[0]] == ["a", "ab"]
    assert store.list_rules("other", None, 10)[0] == []


def test_a_rule_with_targets_is_not_deleted(store: Store):
    store.put_rule(rule())
    store.put_targets("default", "r", [target("t")], limit=5)
    assert store.delete_rule("default", "r") == "has_targets"
    assert store.get_rule("default", "r") is not None
    store.remove_targets("default", "r", ["t"])
    assert store.delete_rule("default", "r") == "deleted"
    assert store.delete_rule("default", "r") == "missing"


def test_the_target_limit_is_checked_with_the_targets_already_there(store: Store):
    store.put_rule(rule())
    assert store.put_targets("default", "r", [target(f"t{i}") for i in range(4)], limit=5)
    assert store.put_targets("default", "r", [target("t0"), target("t4")], limit=5)  # t0 replaced
    assert not store.put_targets("default", "r", [target("t5")], limit=5)
    rows, _ = store.list_targets("default", "r", 10)
    assert [row["id"] for row in rows] == ["t0", "t1", "t2", "t3", "t4"]
    assert rows[0]["input_transformer"] == {"InputTemplate": "{}"}


def test_rule_names_by_target(store: Store):
    for name in ("r1", "r2", "r3"):
        store.put_rule(rule(name))
        store.put_targets("default", name, [target("t", name, arn="A" if name != "r2" else "B")], 5)
    assert store.rule_names_by_target("default", "A", 10) == (["r1", "r3"], None)
    names, token = store.rule_names_by_target("default", "A", 1)
    assert names == ["r1"] and store.rule_names_by_target("default", "A", 1, token) == (["r3"], None)


def test_deleting_a_bus_deletes_its_rules_and_targets(store: Store):
    store.insert_bus({"name": "orders", "arn": "arn:b", "description": None, "creation_time": 1.0})
    with pytest.raises(ConflictError):
        store.insert_bus({"name": "orders", "arn": "arn:b", "description": None, "creation_time": 1.0})
    store.put_rule(rule(bus="orders"))
    store.delete_bus("orders")
    assert store.get_bus("orders") is None and store.get_rule("orders", "r") is None


# -- the outbox --------------------------------------------------------------------------------

def test_claimed_events_are_leased_and_come_back_when_the_lease_expires(store: Store):
    store.insert_events([event_row("e1"), event_row("e2", due_at=2000.0), event_row("e3", due_at=None)])
    [claimed] = store.claim_events("w1", 1000.0, LEASE, 10)
    assert claimed["id"] == "e1" and claimed["deliveries"] == []
    assert store.claim_events("w2", 1000.0, LEASE, 10) == []
    assert store.next_event_due() == 1000.0 + LEASE
    [again] = store.claim_events("w2", 1000.0 + LEASE, LEASE, 10)
    assert again["id"] == "e1"
    with pytest.raises(ConflictError):  # w1 lost the lease: its writes change nothing
        store.record_matches("e1", "w1", [delivery("e1")])
    store.record_matches("e1", "w2", [delivery("e1")])
    assert store.get_event("e1")["matched"] is True


def test_a_settled_event_is_done_and_a_pending_retry_makes_it_due_again(store: Store):
    store.insert_events([event_row("e1")])
    store.claim_events("w", 1000.0, LEASE, 1)
    store.record_matches("e1", "w", [delivery("e1", "a"), delivery("e1", "b")])
    store.settle_delivery("w", delivery("e1", "a"), {"status": "DELIVERED", "execution_arn": "x",
                                                     "next_attempt": None})
    store.settle_delivery("w", delivery("e1", "b"), {"attempts": 1, "next_attempt": 1500.0})
    store.release_event("e1", "w")
    assert store.get_event("e1")["due_at"] == 1500.0
    [claimed] = store.claim_events("w", 1500.0, LEASE, 1)
    assert {d["target_id"]: d["status"] for d in claimed["deliveries"]} == {"a": "DELIVERED", "b": "PENDING"}
    store.settle_delivery("w", delivery("e1", "b"), {"status": "DEAD", "attempts": 2, "next_attempt": None},
                          dead_letter={"event_id": "e1", "bus": "default", "rule": "r", "target_id": "b",
                                       "target_arn": "arn", "dead_letter_arn": None, "error": "boom",
                                       "attempts": 2, "created": 1500.0})
    store.release_event("e1", "w")
    assert store.get_event("e1")["due_at"] is None and store.next_event_due() is None
    [letter], _ = store.list_dead_letters(10)
    assert (letter["target_id"], letter["error"]) == ("b", "boom")
    assert store.redrive_dead_letter(letter["id"], 2000.0)
    assert not store.redrive_dead_letter(letter["id"], 2000.0)
    assert store.list_dead_letters(10) == ([], None)
    [claimed] = store.claim_events("w", 2000.0, LEASE, 1)
    assert {d["target_id"]: (d["status"], d["attempts"]) for d in claimed["deliveries"]} == {
        "a": ("DELIVERED", 0), "b": ("PENDING", 0)}


def test_redeliver_resets_every_delivery(store: Store):
    store.insert_events([event_row("e1")])
    store.claim_events("w", 1000.0, LEASE, 1)
    store.record_matches("e1", "w", [delivery("e1", "a")])
    store.settle_delivery("w", delivery("e1", "a"), {"status": "DELIVERED", "next_attempt": None})
    store.release_event("e1", "w")
    assert store.redeliver("e1", 3000.0) == 1
    assert store.get_event("e1")["due_at"] == 3000.0
    assert store.redeliver("unknown", 3000.0) == 0


def test_publishing_only_new_ids_is_idempotent(store: Store):
    assert store.insert_events([event_row("m-1"), event_row("m-2")], only_new=True) == ["m-1", "m-2"]
    assert store.insert_events([event_row("m-2"), event_row("m-3")], only_new=True) == ["m-3"]
    with pytest.raises(ConflictError):
        store.insert_events([event_row("m-1")])


def test_concurrent_claimers_never_share_an_event(store: Store):
    store.insert_events([event_row(f"e{i:02d}") for i in range(40)])

    def drain(owner: str) -> list[str]:
        taken = []
        while batch := store.claim_events(owner, 1000.0, LEASE, 3):
            taken += [row["id"] for row in batch]
        return taken

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(drain, ["a", "b", "c", "d"]))
    everything = [event_id for result in results for event_id in result]
    assert sorted(everything) == [f"e{i:02d}" for i in range(40)]


# -- schedules ---------------------------------------------------------------------------------

def test_one_tick_is_fired_once_even_when_two_workers_race(store: Store):
    store.put_rule(rule(event_pattern=None, schedule_expression="rate(1 minute)", next_fire=1060.0))
    assert store.due_schedules(1059.0) == []
    first, second = store.due_schedules(1060.0), store.due_schedules(1060.0)
    assert store.fire_schedule(first[0], 1120.0, event_row("tick-a", rule_name="r"))
    assert not store.fire_schedule(second[0], 1120.0, event_row("tick-b", rule_name="r"))
    assert store.get_event("tick-a") is not None and store.get_event("tick-b") is None
    assert store.get_rule("default", "r")["next_fire"] == 1120.0
