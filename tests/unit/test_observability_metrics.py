"""Counters and the Prometheus exposition of one engine: counted from committed steps only."""
from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine import Engine, task
from engine.clock import FakeClock
from engine.observability.counters import Counters, Histogram
from engine.observability.metrics import Metrics
from engine.observability.observer import state_machine_arn, state_machine_name

ROLE = "arn:aws:iam::123456789012:role/metrics"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:metrics-echo"


def samples(text: bytes) -> dict[tuple, float]:
    """(sample name, sorted labels) -> value, from the text exposition."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text.decode())
            for sample in family.samples}


def test_a_histogram_reports_cumulative_buckets_and_its_sum():
    histogram = Histogram((0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 3.0):
        histogram.observe(value)
    assert histogram.cumulative() == [("0.1", 2), ("1.0", 3), ("+Inf", 4)]
    assert histogram.total == pytest.approx(3.65)


def test_the_exposition_follows_prometheus_naming_and_reads_the_gauges_at_each_scrape():
    counters = Counters()
    counters.add(counters.finished, ("orders", "FAILED"), 2)
    counters.delivery("default", "on-order", "dead")
    counters.task_duration("arn:r", 0.02)
    reads = []
    metrics = Metrics(counters, lambda: reads.append(1) or {"queue_depth": 7})
    found = samples(metrics.render())
    assert found[("stepstone_executions_finished_total", (("state_machine", "orders"), ("status", "FAILED")))] == 2
    assert found[("stepstone_event_deliveries_total", (("bus", "default"), ("outcome", "dead"),
                                                        ("rule", "on-order")))] == 1
    assert found[("stepstone_task_duration_seconds_count", (("resource", "arn:r"),))] == 1
    assert found[("stepstone_queue_depth", ())] == 7 and found[("stepstone_due_timers", ())] == 0
    metrics.render()
    assert len(reads) == 2
    assert metrics.content_type.startswith("text/plain")


def test_a_state_machine_is_named_from_standard_and_express_execution_arns():
    assert state_machine_name("arn:aws:states:us-east-1:1:execution:orders:run-1") == "orders"
    assert state_machine_name("arn:aws:states:us-east-1:1:express:orders:run-1:abc") == "orders"
    assert state_machine_arn("arn:aws:states:eu-west-1:1:execution:orders:x") == \
        "arn:aws:states:eu-west-1:1:stateMachine:orders"


@task("metrics-echo")
def metrics_echo(event, context):
    return event


def test_an_engine_counts_starts_ends_transitions_and_task_latencies():
    definition = {"StartAt": "Echo", "States": {
        "Echo": {"Type": "Task", "Resource": LAMBDA, "Next": "Check"},
        "Check": {"Type": "Choice", "Default": "No",
                  "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Yes"}]},
        "Yes": {"Type": "Succeed"}, "No": {"Type": "Fail", "Error": "NotOk"}}}
    with Engine("sqlite://") as engine:
        machine = engine.create_state_machine(name="m", definition=json.dumps(definition),
                                              role_arn=ROLE)["stateMachineArn"]
        for ok in (True, True, False):
            arn = engine.start_execution(machine, input=json.dumps({"ok": ok}))["executionArn"]
            engine.wait(arn, timeout=30)
        found = samples(engine.metrics.render())
    m = (("state_machine", "m"),)
    assert found[("stepstone_executions_started_total", m)] == 3
    assert found[("stepstone_executions_finished_total", m + (("status", "SUCCEEDED"),))] == 2
    assert found[("stepstone_executions_finished_total", m + (("status", "FAILED"),))] == 1
    assert found[("stepstone_state_transitions_total", m)] == 9  # three states entered each
    assert found[("stepstone_task_duration_seconds_count", (("resource", LAMBDA),))] == 3
    assert found[("stepstone_executions_running", ())] == 0


def test_a_step_that_lost_its_commit_is_not_counted():
    # Given a Wait, so that the execution's second step is taken by the executor
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
                                             "P": {"Type": "Pass", "End": True}}}
    clock = FakeClock()
    with Engine("sqlite://", clock=clock) as engine:
        machine = engine.create_state_machine(name="lost", definition=json.dumps(definition),
                                              role_arn=ROLE)["stateMachineArn"]
        engine.start_execution(machine)
        clock.advance(5)
        # When another worker moves the item on between this worker's claim and its commit
        store, real_commit = engine.store, engine.store.commit_steps

        def lose(owner, steps, release=True):
            from engine.errors import ConflictError
            raise ConflictError("another worker recorded these steps")
        store.commit_steps = lose
        try:
            engine.executor.run_once("w", inline=True)
        finally:
            store.commit_steps = real_commit
        found = samples(engine.metrics.render())
    # Then only the start's transition (W) counts, and nothing finished
    assert found[("stepstone_state_transitions_total", (("state_machine", "lost"),))] == 1
    assert not [key for key in found if key[0] == "stepstone_executions_finished_total"]
