"""The executor's rounds through the engine: tasks left to the workers by a process that runs
none, many executions advanced per round, answers of items moved on elsewhere not lost."""
from __future__ import annotations

import json
import threading

from engine import Engine, task

ROLE = "arn:aws:iam::123456789012:role/test"
CALLS: list[str] = []
CHAIN = {"StartAt": "T0", "States": {
    **{f"T{i}": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:rounds-inc",
                 "Next": f"T{i + 1}"} for i in range(4)},
    "T4": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:rounds-inc", "End": True}}}


@task("rounds-inc")
def _inc(event, context):
    CALLS.append(threading.current_thread().name)
    return {"n": event["n"] + 1}


def _machine(engine: Engine) -> str:
    return engine.create_state_machine(name="chain", definition=json.dumps(CHAIN),
                                       role_arn=ROLE)["stateMachineArn"]


def test_a_start_without_workers_runs_no_handler_in_the_callers_thread():
    CALLS.clear()
    with Engine.in_memory() as engine:
        arn = engine.start_execution(_machine(engine), input='{"n": 0}')["executionArn"]
        assert CALLS == []  # left to whoever runs the work items
        engine.run_until_idle()
        described = engine.describe_execution(arn)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"n": 5})
    assert len(CALLS) == 5


def test_many_executions_finish_in_few_rounds_with_exact_histories():
    with Engine.in_memory() as engine:
        machine = _machine(engine)
        arns = [engine.start_execution(machine, input=json.dumps({"n": i}))["executionArn"]
                for i in range(50)]
        rounds = 0
        while engine.executor.run_once("test", inline=True):
            rounds += 1
        for index, arn in enumerate(arns):
            described = engine.describe_execution(arn)
            assert json.loads(described["output"]) == {"n": index + 5}
            events = engine.get_execution_history(arn, max_results=1000)["events"]
            assert [e["id"] for e in events] == list(range(1, len(events) + 1))
            assert sum(e["type"] == "LambdaFunctionSucceeded" for e in events) == 5
    # five tasks each: a round per task (plus the last, empty one), not a round per execution
    assert rounds <= 8


def test_an_answer_for_an_item_moved_on_elsewhere_goes_through_the_inbox():
    with Engine.in_memory() as engine:
        arn = engine.start_execution(_machine(engine), input='{"n": 0}')["executionArn"]
        engine.executor.run_once("w", inline=True)  # T0 handed out and answered in memory
        resume, posts = engine.executor._answers.take()
        assert list(resume) == [arn] and posts == []
        # as if another worker had taken the item on meanwhile: the kept version is stale
        resume[arn].version -= 1
        engine.executor._answers.remember(arn, resume[arn].version, resume[arn].snapshot)
        engine.executor._answers.add(arn, resume[arn].replies)
        engine.run_until_idle()
        described = engine.describe_execution(arn)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"n": 5})
