"""How the interpreter records a task's outcome the way AWS does: timeouts, late answers,
oversized results, on both Lambda resource forms."""
from __future__ import annotations

import random

import pytest

from engine.asl import interpreter, model, retry
from engine.asl.interpreter import Env

NOW = 1_700_000_000.0
CONTEXT = {"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:e", "Input": {},
                         "Name": "e", "RoleArn": "role", "StartTime": "2023-11-14T22:13:20.000Z",
                         "RedriveCount": 0},
           "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:sm", "Name": "sm"}}
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"
LEGACY = {"Type": "Task", "Resource": FUNCTION}
INVOKE = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
          "Parameters": {"FunctionName": "f", "Payload.$": "$"}}
HUGE = "a" * (257 * 1024)


def machine(task: dict, catch: list[str] | None = None) -> dict:
    states = {"T": {**task, "End": True}}
    if catch is not None:
        states["T"]["Catch"] = [{"ErrorEquals": catch, "Next": "Handler"}]
        states["Handler"] = {"Type": "Pass", "End": True}
    return {"StartAt": "T", "States": states}


def start(definition: dict, value=None):
    return interpreter.start(model.build(definition), CONTEXT, value or {}, NOW,
                             Env(random=random.Random(7), new_uuid=lambda: "uuid-1"))


def advance(definition: dict, step, messages=(), now=NOW):
    return interpreter.advance(model.build(definition), step.snapshot, list(messages), now,
                               Env(random=random.Random(7), new_uuid=lambda: "uuid-1"))


def answer(step, **fields) -> dict:
    [command] = step.commands
    return {"kind": "task_result", "path": command["path"], "invocation": command["invocation"], **fields}


def details(event: dict) -> dict:
    return next(iter(event["details"].values()), {})


# --- TimeoutSeconds -----------------------------------------------------------------------------
@pytest.mark.parametrize("task, timed_out", [(LEGACY, "LambdaFunctionTimedOut"), (INVOKE, "TaskTimedOut")])
def test_a_timeout_records_the_error_and_no_cause(task, timed_out):
    definition = machine({**task, "TimeoutSeconds": 5})
    done = advance(definition, start(definition), now=NOW + 5)
    assert [e["type"] for e in done.events] == [timed_out, "ExecutionFailed"]
    assert "cause" not in details(done.events[0]) and details(done.events[0])["error"] == "States.Timeout"
    assert details(done.events[1]) == {"error": "States.Timeout"}
    assert (done.status, done.error, done.cause) == ("FAILED", "States.Timeout", None)


@pytest.mark.parametrize("task", [LEGACY, INVOKE])
def test_a_caught_timeout_carries_an_empty_cause(task):
    definition = machine({**task, "TimeoutSeconds": 5}, catch=["States.Timeout"])
    done = advance(definition, start(definition), now=NOW + 5)
    assert done.status == "SUCCEEDED"
    assert done.output == {"Error": "States.Timeout", "Cause": ""}


def test_timeout_seconds_path_sets_the_due_time():
    definition = machine({**INVOKE, "TimeoutSecondsPath": "$.limit"})
    step = start(definition, {"limit": 7})
    assert step.due_at == NOW + 7
    assert step.commands[0]["timeout"] == 7
    assert details(step.events[-2])["timeoutInSeconds"] == 7


def test_an_answer_that_came_after_the_timeout_is_ignored():
    definition = machine({**LEGACY, "TimeoutSeconds": 5}, catch=["States.Timeout"])
    step = start(definition)
    late = answer(step, output={"too": "late"}, at=NOW + 6)
    done = advance(definition, step, [late], now=NOW + 6)
    assert [e["type"] for e in done.events][0] == "LambdaFunctionTimedOut"
    assert done.output == {"Error": "States.Timeout", "Cause": ""}
    # and once timed out, the same answer is stale
    assert advance(definition, done, [late], now=NOW + 7).events == []


def test_an_answer_in_time_counts_even_when_processed_after_the_due_time():
    definition = machine({**LEGACY, "TimeoutSeconds": 5})
    step = start(definition)
    done = advance(definition, step, [answer(step, output=1, at=NOW + 4)], now=NOW + 9)
    assert done.status == "SUCCEEDED" and done.output == 1


# --- results over the 256 KiB limit -------------------------------------------------------------
@pytest.mark.parametrize("task, failed, who", [
    (LEGACY, "LambdaFunctionFailed", FUNCTION),  # the function's ARN
    (INVOKE, "TaskFailed", "lambda"),  # the integration's service
])
def test_an_oversized_result_is_the_tasks_failure_which_states_all_catches(task, failed, who):
    definition = machine(task, catch=["States.ALL"])
    step = start(definition)
    done = advance(definition, step, [answer(step, output=HUGE)])
    cause = (f"The state/task '{who}' returned a result with a size exceeding the maximum number "
             f"of bytes service limit.")
    assert [e["type"] for e in done.events][:2] == [failed, "TaskStateExited"]
    assert details(done.events[0])["error"] == "States.DataLimitExceeded"
    assert details(done.events[0])["cause"] == cause
    assert done.status == "SUCCEEDED"
    assert done.output == {"Error": "States.DataLimitExceeded", "Cause": cause}


def test_an_oversized_result_uncaught_fails_the_execution():
    definition = machine(INVOKE)
    step = start(definition)
    done = advance(definition, step, [answer(step, output=HUGE)])
    assert [e["type"] for e in done.events] == ["TaskFailed", "ExecutionFailed"]
    assert done.error == "States.DataLimitExceeded"


def test_a_states_own_oversized_output_stays_terminal_for_states_all():
    definition = machine({**LEGACY, "ResultPath": "$.r"}, catch=["States.ALL"])
    step = start(definition, {"big": "a" * (200 * 1024)})
    done = advance(definition, step, [answer(step, output="b" * (100 * 1024))])
    assert [e["type"] for e in done.events] == ["LambdaFunctionSucceeded", "ExecutionFailed"]
    assert done.error == "States.DataLimitExceeded"
    assert done.cause.startswith("The state/task 'T' returned a result with a size exceeding")


def test_terminal_errors_match_wildcards_only_when_a_task_reported_them():
    assert not retry.matches(["States.ALL"], "States.DataLimitExceeded")
    assert retry.matches(["States.ALL"], "States.DataLimitExceeded", by_task=True)
    assert retry.matches(["States.TaskFailed"], "States.DataLimitExceeded", by_task=True)
    assert not retry.matches(["States.TaskFailed"], "States.Timeout", by_task=True)
