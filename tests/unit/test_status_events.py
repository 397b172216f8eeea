"""Status-change events are written only while an enabled rule on the default bus matches them
(EventBridge drops an event no rule matches, so writing it would only cost time)."""
from __future__ import annotations

import json

import pytest

from engine import Engine
from engine.eventbus import status

ROLE = "arn:aws:iam::123456789012:role/test"
PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
WAIT = {"StartAt": "Later", "States": {"Later": {"Type": "Wait", "Seconds": 3600, "End": True}}}


@pytest.fixture()
def engine():
    with Engine.in_memory() as engine:
        yield engine


def _stored(engine: Engine, execution_arn: str, state: str) -> bool:
    return engine.store.get_event(status._event_id(execution_arn, state, 0)) is not None


def _machine(engine: Engine, name: str, definition: dict) -> str:
    return engine.create_state_machine(name=name, definition=json.dumps(definition),
                                       role_arn=ROLE)["stateMachineArn"]


def _rule(engine: Engine, name: str, detail: dict | None = None) -> None:
    pattern = {"source": ["aws.states"], "detail-type": [status.DETAIL_TYPE]}
    if detail:
        pattern["detail"] = detail
    engine.events.put_rule(name=name, event_pattern=json.dumps(pattern))


def test_no_rule_no_status_events(engine):
    arn = engine.start_execution(_machine(engine, "quiet", PASS))["executionArn"]
    assert not _stored(engine, arn, "RUNNING")
    assert not _stored(engine, arn, "SUCCEEDED")


def test_a_matching_rule_makes_them_stored(engine):
    _rule(engine, "all-status")
    arn = engine.start_execution(_machine(engine, "heard", PASS))["executionArn"]
    assert _stored(engine, arn, "RUNNING")
    assert _stored(engine, arn, "SUCCEEDED")


def test_only_the_changes_a_rule_matches_are_stored(engine):
    _rule(engine, "succeeded-only", {"status": ["SUCCEEDED"]})
    arn = engine.start_execution(_machine(engine, "picky", PASS))["executionArn"]
    assert not _stored(engine, arn, "RUNNING")
    assert _stored(engine, arn, "SUCCEEDED")


def test_a_finishing_step_asks_the_rules_of_its_own_time(engine):
    parked = engine.start_execution(_machine(engine, "parked", WAIT))["executionArn"]
    _rule(engine, "stopped", {"status": ["ABORTED"]})  # added while the execution waits
    engine.stop_execution(parked)
    assert not _stored(engine, parked, "RUNNING")
    assert _stored(engine, parked, "ABORTED")


def test_a_disabled_rule_listens_to_nothing(engine):
    _rule(engine, "off")
    engine.events.disable_rule(name="off")
    arn = engine.start_execution(_machine(engine, "unheard", PASS))["executionArn"]
    assert not _stored(engine, arn, "RUNNING")
