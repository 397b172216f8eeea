"""TimeoutSeconds on a slow Python handler: the execution goes on at the due time, the worker keeps
serving other executions meanwhile, and the handler's late answer is ignored."""
from __future__ import annotations

import json
import threading
import time

import pytest

from engine import Engine, task

release = threading.Event()  # lets the slow handler return when the test says so
returned = threading.Event()


@task("timeouts-test-slow")
def slow(event, context):
    release.wait(30)
    returned.set()
    return {"late": True}


@task("timeouts-test-quick")
def quick(event, context):
    return {"quick": event}


def definition(resource: str, extra: dict) -> str:
    return json.dumps({"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": resource, "TimeoutSeconds": 1, **extra,
                 "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "After"}],
                 "Next": "After"},
        "After": {"Type": "Pass", "End": True}}})


@pytest.fixture
def engine():
    release.clear()
    returned.clear()
    running = Engine.in_memory(workers=1, poll_seconds=0.05).start()
    yield running
    release.set()
    running.close()


def history_types(engine: Engine, arn: str) -> list[str]:
    return [e["type"] for e in engine.get_execution_history(arn)["events"]]


@pytest.mark.parametrize("resource, extra, timed_out", [
    ("arn:aws:lambda:us-east-1:123456789012:function:timeouts-test-slow", {}, "LambdaFunctionTimedOut"),
    ("arn:aws:states:::lambda:invoke", {"Parameters": {"FunctionName": "timeouts-test-slow"}}, "TaskTimedOut"),
])
def test_a_slow_handler_times_out_without_blocking_the_worker(engine, resource, extra, timed_out):
    role = "arn:aws:iam::123456789012:role/test"
    slow_machine = engine.create_state_machine(f"slow-{timed_out}", definition(resource, extra), role)
    quick_machine = engine.create_state_machine("quick", definition(
        "arn:aws:lambda:us-east-1:123456789012:function:timeouts-test-quick", {}), role)
    began = time.monotonic()
    slow_run = engine.start_execution(slow_machine["stateMachineArn"], input='{"n": 0}')["executionArn"]

    # while the slow handler sleeps, the single worker keeps running other executions
    for n in range(5):
        quick_run = engine.start_execution(quick_machine["stateMachineArn"], input=json.dumps({"n": n}))
        described = engine.wait(quick_run["executionArn"], timeout=5)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"quick": {"n": n}}
    assert not returned.is_set()

    # the timeout fires at its due time and the Catch routes on, long before the handler returns
    described = engine.wait(slow_run, timeout=10)
    assert described["status"] == "SUCCEEDED", described
    assert time.monotonic() - began < 5 and not returned.is_set()
    assert json.loads(described["output"]) == {"n": 0, "timeout": {"Error": "States.Timeout", "Cause": ""}}
    types = history_types(engine, slow_run)
    assert timed_out in types
    assert "LambdaFunctionSucceeded" not in types and "TaskSucceeded" not in types

    # the handler's late answer changes nothing
    release.set()
    assert returned.wait(5)
    time.sleep(0.3)
    assert history_types(engine, slow_run) == types
