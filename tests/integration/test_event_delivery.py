"""Event delivery through the Engine on real databases: exactly one execution per (event, rule,
target) whatever is redelivered or crashes, retries into the dead letters and back, schedules
that fire once across engines, and rules changed by another process."""
from __future__ import annotations

import json
import threading

import pytest

from engine import Engine
from engine.clock import FakeClock
from engine.settings import from_environment

ROLE = "arn:aws:iam::123456789012:role/test"
PASS = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
ORDER_PATTERN = json.dumps({"source": ["shop"], "detail-type": ["OrderPlaced"]})


class Crash(BaseException):
    """The process dies here: nothing after this point runs (not even ``except Exception``)."""


def engine_on(url: str, clock: FakeClock | None = None, **flags) -> Engine:
    settings = from_environment().with_flags(db_url=url, poll_seconds=0.05, lease_seconds=30.0,
                                             event_retry_seconds=10.0, **flags)
    return Engine(settings=settings, clock=clock or FakeClock())


def machine(engine: Engine, name: str = "orders") -> str:
    return engine.create_state_machine(name, PASS, ROLE)["stateMachineArn"]


def order_rule(engine: Engine, target: dict, name: str = "order-placed") -> None:
    engine.events.put_rule(name, event_pattern=ORDER_PATTERN)
    assert engine.events.put_targets(name, [target])["FailedEntryCount"] == 0


def put_order(engine: Engine, order_id: str, detail_type: str = "OrderPlaced") -> str:
    answer = engine.events.put_events([{"Source": "shop", "DetailType": detail_type,
                                        "Detail": json.dumps({"orderId": order_id})}])
    assert answer["FailedEntryCount"] == 0
    return answer["Entries"][0]["EventId"]


def inputs(engine: Engine, machine_arn: str) -> list:
    executions = engine.list_executions(machine_arn)["executions"]
    return [json.loads(engine.describe_execution(e["executionArn"])["input"]) for e in executions]


@pytest.fixture
def engine(tmp_path):
    with engine_on(f"sqlite:///{tmp_path / 'bus.db'}") as running:
        yield running


def test_each_matching_event_starts_one_execution_with_the_transformed_input(engine):
    arn = machine(engine)
    order_rule(engine, {"Id": "t", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"order": "$.detail.orderId"},
        "InputTemplate": '{"order": <order>, "rule": "<aws.events.rule-name>"}'}})
    put_order(engine, "o-1")
    put_order(engine, "o-2")
    put_order(engine, "o-3", detail_type="OrderCancelled")
    engine.run_until_idle()
    assert sorted(inputs(engine, arn), key=str) == [{"order": "o-1", "rule": "order-placed"},
                                                    {"order": "o-2", "rule": "order-placed"}]


def test_a_redelivered_event_starts_no_second_execution(engine):
    arn = machine(engine)
    order_rule(engine, {"Id": "t", "Arn": arn})
    event_id = put_order(engine, "o-1")
    engine.run_until_idle()
    first = engine.events.describe_event(event_id)["Deliveries"]
    engine.events.redeliver_event(event_id)  # as if the acknowledgement had been lost
    engine.run_until_idle()
    again = engine.events.describe_event(event_id)["Deliveries"]
    assert len(engine.list_executions(arn)["executions"]) == 1
    assert [d["Status"] for d in again] == ["DELIVERED"]
    assert again[0]["ExecutionArn"] == first[0]["ExecutionArn"]


def test_a_crash_between_start_and_acknowledgement_starts_one_execution(tmp_path):
    url, clock = f"sqlite:///{tmp_path / 'bus.db'}", FakeClock()
    with engine_on(url, clock) as first, engine_on(url, clock) as second:
        arn = machine(first)
        order_rule(first, {"Id": "t", "Arn": arn})
        event_id = put_order(first, "o-1")
        real_start = first.dispatcher.start_target

        def start_then_die(*args):
            real_start(*args)
            raise Crash()

        first.dispatcher.start_target = start_then_die
        with pytest.raises(Crash):
            first.run_until_idle()
        assert len(first.list_executions(arn)["executions"]) == 1
        second.run_until_idle()  # the dead process still holds the lease: nothing happens
        assert second.events.describe_event(event_id)["Deliveries"][0]["Status"] == "PENDING"
        clock.advance(31)
        second.run_until_idle()
        [delivery] = second.events.describe_event(event_id)["Deliveries"]
        assert delivery["Status"] == "DELIVERED"
        assert len(second.list_executions(arn)["executions"]) == 1


def test_failed_deliveries_are_retried_then_dead_lettered_then_redriven(engine):
    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:not-yet"
    order_rule(engine, {"Id": "t", "Arn": missing, "RetryPolicy": {"MaximumRetryAttempts": 2}})
    event_id = put_order(engine, "o-1")
    engine.run_until_idle()
    [delivery] = engine.events.describe_event(event_id)["Deliveries"]
    assert (delivery["Status"], delivery["Attempts"]) == ("PENDING", 1)
    assert "StateMachineDoesNotExist" in delivery["LastError"]
    engine.clock.advance(10)  # first back-off
    engine.run_until_idle()
    assert engine.events.describe_event(event_id)["Deliveries"][0]["Attempts"] == 2
    engine.clock.advance(19)  # the second back-off is 20 s
    engine.run_until_idle()
    assert engine.events.describe_event(event_id)["Deliveries"][0]["Attempts"] == 2
    engine.clock.advance(1)
    engine.run_until_idle()
    [letter] = engine.events.list_dead_letters()["DeadLetters"]
    assert (letter["EventId"], letter["Attempts"], letter["TargetArn"]) == (event_id, 3, missing)
    assert engine.events.describe_event(event_id)["Deliveries"][0]["Status"] == "DEAD"

    arn = machine(engine, "not-yet")
    engine.events.redrive_dead_letter(letter["Id"])
    engine.run_until_idle()
    assert engine.events.list_dead_letters()["DeadLetters"] == []
    assert [i["detail"] for i in inputs(engine, arn)] == [{"orderId": "o-1"}]


def test_an_input_that_can_never_be_built_is_dead_lettered_at_once(engine):
    arn = machine(engine)
    order_rule(engine, {"Id": "t", "Arn": arn, "InputTransformer": {
        "InputPathsMap": {"o": "$.detail.orderId"}, "InputTemplate": "order <o>"}})  # not JSON
    put_order(engine, "o-1")
    engine.run_until_idle()
    [letter] = engine.events.list_dead_letters()["DeadLetters"]
    assert letter["Attempts"] == 1 and "not JSON" in letter["Error"]
    assert engine.list_executions(arn)["executions"] == []


def test_disabled_rules_and_other_buses_deliver_nothing(engine):
    arn = machine(engine)
    order_rule(engine, {"Id": "t", "Arn": arn})
    engine.events.disable_rule("order-placed")
    put_order(engine, "o-1")
    engine.events.create_event_bus("elsewhere")
    engine.events.put_events([{"Source": "shop", "DetailType": "OrderPlaced", "Detail": "{}",
                               "EventBusName": "elsewhere"}])
    engine.run_until_idle()
    assert engine.list_executions(arn)["executions"] == []
    engine.events.enable_rule("order-placed")
    put_order(engine, "o-2")
    engine.run_until_idle()
    assert [i["detail"] for i in inputs(engine, arn)] == [{"orderId": "o-2"}]


def test_publish_events_stores_each_id_once(engine):
    arn = machine(engine)
    order_rule(engine, {"Id": "t", "Arn": arn, "InputPath": "$.detail"})
    message = {"id": "redis-1700000000000-0", "source": "shop", "detail-type": "OrderPlaced",
               "detail": {"orderId": "o-1"}}
    assert engine.publish_events([message]) == ["redis-1700000000000-0"]
    engine.run_until_idle()
    assert engine.publish_events([message, {**message, "id": "redis-1700000000001-0"}]) == \
        ["redis-1700000000001-0"]
    engine.run_until_idle()
    assert len(inputs(engine, arn)) == 2


def test_rules_changed_by_another_process_are_seen(tmp_path):
    url = f"sqlite:///{tmp_path / 'bus.db'}"
    with engine_on(url) as api, engine_on(url) as worker:
        arn = machine(api)
        api.events.put_rule("first", event_pattern=json.dumps({"source": ["a"]}))
        api.events.put_targets("first", [{"Id": "t", "Arn": arn}])
        api.events.put_events([{"Source": "a", "DetailType": "x", "Detail": "{}"}])
        worker.run_until_idle()  # the worker compiles the rules it knows now
        order_rule(api, {"Id": "t", "Arn": arn})  # a rule the worker has not compiled
        put_order(api, "o-1")
        worker.run_until_idle()
        assert sorted(i["source"] for i in inputs(api, arn)) == ["a", "shop"]


def test_a_schedule_fires_once_per_tick_with_two_engines_on_postgres(pg_url):
    clock = FakeClock(1_800_000_000.0)
    with engine_on(pg_url, clock) as first, engine_on(pg_url, clock) as second:
        arn = machine(first)
        first.events.put_rule("every-minute", schedule_expression="rate(1 minute)")
        first.events.put_targets("every-minute", [{"Id": "t", "Arn": arn}])
        for _ in range(2):
            clock.advance(60)
            barrier = threading.Barrier(2)

            def drive(engine):
                barrier.wait()
                engine.run_until_idle()

            threads = [threading.Thread(target=drive, args=(e,)) for e in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        events = inputs(first, arn)
        assert len(events) == 2
        assert {e["detail-type"] for e in events} == {"Scheduled Event"}
        assert all(e["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/every-minute"]
                   for e in events)
        assert sorted(e["time"] for e in events) == ["2027-01-15T08:01:00Z", "2027-01-15T08:02:00Z"]
