"""Executions on a shared PostgreSQL: several engines (as separate workers would) finish every
execution exactly once, with gap-free history."""
from __future__ import annotations

import json
import time

from engine import Engine
from engine.runtime import handlers
from engine.settings import from_environment
from support import HANDLERS, ROLE

handlers.load([str(HANDLERS)])

MAP_WITH_TASKS = {
    "StartAt": "Lines",
    "States": {
        "Lines": {"Type": "Map", "MaxConcurrency": 3,
                  "ItemProcessor": {"StartAt": "Price", "States": {"Price": {
                      "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:price-line",
                      "End": True}}},
                  "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 1, "End": True},
    },
}


def engine_on(url: str) -> Engine:
    settings = from_environment().with_flags(db_url=url, poll_seconds=0.05, workers=2)
    return Engine(settings=settings)


def test_two_engines_share_postgres_and_finish_each_execution_once(pg_url):
    first, second = engine_on(pg_url), engine_on(pg_url)
    try:
        first.start()
        second.start()
        arn = first.create_state_machine(name="pg-map", definition=json.dumps(MAP_WITH_TASKS),
                                         role_arn=ROLE)["stateMachineArn"]
        lines = [{"sku": "apple", "quantity": q} for q in range(1, 6)]
        executions = [first.start_execution(arn, input=json.dumps(lines))["executionArn"] for _ in range(6)]
        deadline = time.time() + 60
        for execution in executions:
            described = second.wait(execution, timeout=max(0.1, deadline - time.time()))
            assert described["status"] == "SUCCEEDED", described
            assert [line["total"] for line in json.loads(described["output"])] == [0.5, 1.0, 1.5, 2.0, 2.5]
            events = second.get_execution_history(execution, max_results=1000)["events"]
            assert [e["id"] for e in events] == list(range(1, len(events) + 1))
            types = [e["type"] for e in events]
            assert types.count("ExecutionSucceeded") == 1
            assert types.count("LambdaFunctionSucceeded") == 5
    finally:
        first.close()
        second.close()


def test_wait_resumes_on_another_engine_after_the_first_is_gone(pg_url):
    first = engine_on(pg_url)
    arn = first.create_state_machine(
        name="pg-wait", definition=json.dumps({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}),
        role_arn=ROLE)["stateMachineArn"]
    execution = first.start_execution(arn, input='{"kept": true}')["executionArn"]
    first.close()  # never ran a worker: the Wait is only a row now
    second = engine_on(pg_url).start()
    try:
        described = second.wait(execution, timeout=30)
        assert described["status"] == "SUCCEEDED"
        assert json.loads(described["output"]) == {"kept": True}
    finally:
        second.close()
