"""Redrive in the pure interpreter: only unfinished states run again, with their original input."""
from __future__ import annotations

import random

import pytest

from engine.asl import interpreter, model
from engine.asl.interpreter import Env

NOW = 1_700_000_000.0
LATER = NOW + 3600
CONTEXT = {"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:e", "Input": {},
                         "Name": "e", "RoleArn": "role", "StartTime": "2023-11-14T22:13:20.000Z",
                         "RedriveCount": 0},
           "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:sm", "Name": "sm"}}
TASK = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"}


def env() -> Env:
    return Env(random=random.Random(7), new_uuid=lambda: "uuid-1", skip_waits=True)


def start(definition: dict, value=None):
    return interpreter.start(model.build(definition), CONTEXT, {} if value is None else value, NOW, env())


def advance(definition: dict, step, messages=(), now=NOW):
    return interpreter.advance(model.build(definition), step.snapshot, list(messages), now, env())


def redrive(definition: dict, step, now=LATER):
    return interpreter.redrive(model.build(definition), step.snapshot, now, env())


def types(step) -> list[str]:
    return [e["type"] for e in step.events]


def answer(command: dict, output=None, error=None) -> dict:
    reply = {"kind": "task_result", "path": command["path"], "invocation": command["invocation"]}
    if error is not None:
        return {**reply, "error": error, "cause": "c"}
    return {**reply, "output": output}


def fail_all(definition: dict, step, now=NOW):
    """Answer every pending task with an error until the execution ends."""
    while not step.finished:
        step = advance(definition, step, [answer(c, error="Oops") for c in step.commands], now)
    return step


RETRYING = {"StartAt": "Prepare", "States": {
    "Prepare": {"Type": "Pass", "Result": "ready", "ResultPath": "$.prep", "Next": "Call"},
    "Call": {**TASK, "Parameters": {"n.$": "$.n", "retry.$": "$$.State.RetryCount",
                                    "redrives.$": "$$.Execution.RedriveCount"},
             "Retry": [{"ErrorEquals": ["Oops"], "MaxAttempts": 1, "IntervalSeconds": 1}], "End": True}}}


def test_a_task_that_exhausted_its_retries_runs_again_from_its_state_and_succeeds():
    # Given an execution whose Task failed twice (one retry) after a Pass state succeeded
    failed = fail_all(RETRYING, start(RETRYING, {"n": 1}))
    assert failed.status == "FAILED" and failed.error == "Oops"
    last_id = failed.events[-1]["id"]

    # When it is redriven
    step = redrive(RETRYING, failed)

    # Then ExecutionRedriven follows the failure and only the Task state is entered again, with its
    # original input, its retry counter restarted and $$.Execution.RedriveCount at 1
    assert types(step) == ["ExecutionRedriven", "TaskStateEntered", "LambdaFunctionScheduled",
                           "LambdaFunctionStarted"]
    redriven, entered = step.events[0], step.events[1]
    assert (redriven["id"], redriven["previous_event_id"]) == (last_id + 1, last_id)
    assert redriven["details"] == {"executionRedrivenEventDetails": {"redriveCount": 1}}
    assert entered["previous_event_id"] == redriven["id"]
    assert entered["details"]["stateEnteredEventDetails"]["name"] == "Call"
    assert entered["details"]["stateEnteredEventDetails"]["input"] == '{"n":1,"prep":"ready"}'
    [command] = step.commands
    assert command["payload"] == {"n": 1, "retry": 0, "redrives": 1}
    assert command["context"]["Execution"]["RedriveTime"] == "2023-11-14T23:13:20.000Z"

    # And the handler now succeeds: the execution ends SUCCEEDED with the Pass state's result kept
    done = advance(RETRYING, step, [answer(command, {"ok": True})], LATER)
    assert done.status == "SUCCEEDED" and done.output == {"ok": True}
    assert "redrive" not in done.snapshot


def test_retries_count_again_after_a_redrive():
    failed = fail_all(RETRYING, start(RETRYING, {"n": 1}))
    step = redrive(RETRYING, failed)
    again = advance(RETRYING, step, [answer(step.commands[0], error="Oops")], LATER)
    assert again.status == "RUNNING" and again.commands[0]["payload"]["retry"] == 1


def test_a_second_redrive_counts_two():
    failed = fail_all(RETRYING, start(RETRYING, {"n": 1}))
    twice = fail_all(RETRYING, redrive(RETRYING, failed), LATER)
    step = redrive(RETRYING, twice, LATER + 60)
    assert step.events[0]["details"]["executionRedrivenEventDetails"]["redriveCount"] == 2
    assert step.commands[0]["payload"]["redrives"] == 2


MAP = {"StartAt": "M", "States": {"M": {
    "Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 5,
    "ItemProcessor": {"StartAt": "Double", "States": {
        "Double": {"Type": "Pass", "Parameters": {"v.$": "$"}, "Next": "Work"},
        "Work": {**TASK, "End": True}}}, "End": True}}}


def test_a_map_reruns_only_its_failed_iterations_from_the_failed_state():
    # Given a Map of 5 whose iterations 1 and 3 fail, the second failure last (one is tolerated)
    definition = {**MAP, "States": {"M": {**MAP["States"]["M"], "ToleratedFailureCount": 1}}}
    step = start(definition, {"items": [0, 1, 2, 3, 4]})
    by_value = {c["payload"]["v"]: c for c in step.commands}
    replies = [answer(by_value[v], error="Oops") if v in (1, 3) else answer(by_value[v], v * 10)
               for v in (0, 1, 2, 4, 3)]
    failed = advance(definition, step, replies)
    assert failed.status == "FAILED" and failed.error == "States.ExceedToleratedFailureThreshold"

    # When redriven, only iterations 1 and 3 start again, at their Task (not at "Double")
    step = redrive(definition, failed)
    assert types(step) == ["ExecutionRedriven",
                           "MapIterationStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                           "LambdaFunctionStarted",
                           "MapIterationStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                           "LambdaFunctionStarted"]
    started = [e["details"]["mapIterationStartedEventDetails"]["index"] for e in step.events
               if e["type"] == "MapIterationStarted"]
    assert started == [1, 3]
    assert sorted(c["payload"]["v"] for c in step.commands) == [1, 3]

    # Then the Map's output keeps the first run's results in item order
    done = advance(definition, step, [answer(c, c["payload"]["v"] * 10) for c in step.commands], LATER)
    assert done.status == "SUCCEEDED" and done.output == [0, 10, 20, 30, 40]
    assert types(done)[-3:] == ["MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]


def test_a_map_that_stopped_early_reruns_the_failed_iteration_and_starts_the_rest():
    # MaxConcurrency 1: iteration 1 fails, iteration 2 never starts
    definition = {**MAP, "States": {"M": {**{k: v for k, v in MAP["States"]["M"].items()
                                             if k != "ToleratedFailureCount"}, "MaxConcurrency": 1}}}
    step = start(definition, {"items": [0, 1, 2]})
    step = advance(definition, step, [answer(step.commands[0], "a")])
    failed = advance(definition, step, [answer(step.commands[0], error="Oops")])
    assert failed.status == "FAILED" and failed.error == "Oops"

    step = redrive(definition, failed)
    assert [c["payload"]["v"] for c in step.commands] == [1]
    step = advance(definition, step, [answer(step.commands[0], "b")], LATER)
    assert [c["payload"]["v"] for c in step.commands] == [2]
    done = advance(definition, step, [answer(step.commands[0], "c")], LATER)
    assert done.status == "SUCCEEDED" and done.output == ["a", "b", "c"]


PARALLEL = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
    {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Result": "b1", "Next": "B2"},
                                 "B2": {**TASK, "End": True}}},
    {"StartAt": "C", "States": {"C": {**TASK, "End": True}}}]}}}


def test_a_parallel_reruns_the_failed_and_aborted_branches_only():
    step = start(PARALLEL)
    b2, c = step.commands
    failed = advance(PARALLEL, step, [answer(b2, error="Oops")])  # C is aborted
    assert failed.status == "FAILED"

    step = redrive(PARALLEL, failed)
    assert types(step) == ["ExecutionRedriven", "TaskStateEntered", "LambdaFunctionScheduled",
                           "LambdaFunctionStarted", "TaskStateEntered", "LambdaFunctionScheduled",
                           "LambdaFunctionStarted"]
    assert [e["details"]["stateEnteredEventDetails"]["input"] for e in step.events
            if e["type"] == "TaskStateEntered"] == ['"b1"', "{}"]
    done = advance(PARALLEL, step, [answer(cmd, cmd["state"]) for cmd in step.commands], LATER)
    assert done.status == "SUCCEEDED" and done.output == ["a", "B2", "C"]
    assert types(done)[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]


def test_an_aborted_execution_reenters_its_waiting_state_and_the_timeout_restarts():
    definition = {"TimeoutSeconds": 100, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 10, "Next": "T"}, "T": {**TASK, "End": True}}}
    step = interpreter.start(model.build(definition), CONTEXT, {}, NOW, Env())
    timed_out = interpreter.advance(model.build(definition), step.snapshot, [], NOW + 100, Env())
    assert timed_out.status == "TIMED_OUT"
    step = interpreter.redrive(model.build(definition), timed_out.snapshot, LATER, Env())
    assert types(step) == ["ExecutionRedriven", "WaitStateEntered"]
    assert step.due_at == LATER + 10 and step.snapshot["deadline"] == LATER + 100


def test_a_stop_during_a_map_keeps_successes_and_reruns_running_iterations():
    step = start(MAP, {"items": [0, 1, 2]})
    step = advance(MAP, step, [answer(step.commands[0], "zero")])
    stopped = advance(MAP, step, [{"kind": "stop"}])
    assert stopped.status == "ABORTED"
    step = redrive(MAP, stopped)
    assert sorted(c["payload"]["v"] for c in step.commands) == [1, 2]
    done = advance(MAP, step, [answer(c, c["payload"]["v"]) for c in step.commands], LATER)
    assert done.output == ["zero", 1, 2]


def test_a_fail_state_fails_again_and_a_catch_that_moved_on_is_not_undone():
    definition = {"StartAt": "M", "States": {
        "M": {"Type": "Map", "ItemProcessor": {"StartAt": "F", "States": {
            "F": {"Type": "Fail", "Error": "E"}}}, "Catch": [{"ErrorEquals": ["E"], "Next": "End"}],
              "Next": "Never"},
        "Never": {"Type": "Pass", "End": True},
        "End": {"Type": "Fail", "Error": "Final"}}}
    failed = start(definition, [1])
    assert failed.error == "Final"
    again = redrive(definition, failed)
    assert types(again) == ["ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]
    assert again.status == "FAILED" and again.snapshot["redrive"]["state"] == "End"


def test_a_succeeded_execution_keeps_nothing_to_redrive():
    done = start({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    assert done.status == "SUCCEEDED" and "redrive" not in done.snapshot
    with pytest.raises(ValueError, match="only an execution that ended unsuccessfully"):
        redrive({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, done)


def test_a_map_inside_a_parallel_reruns_only_the_failed_iteration_of_the_failed_branch():
    inner = {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "T", "States": {"T": {**TASK, "End": True}}}}
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
        {"StartAt": "M", "States": {"M": inner}}]}}}
    step = start(definition, [1, 2])
    one, two = step.commands
    failed = advance(definition, step, [answer(one, "one"), answer(two, error="Oops")])
    assert failed.status == "FAILED"

    step = redrive(definition, failed)
    assert [c["payload"] for c in step.commands] == [2]
    assert "ParallelStateEntered" not in types(step) and "MapStateEntered" not in types(step)
    done = advance(definition, step, [answer(step.commands[0], "two")], LATER)
    assert done.status == "SUCCEEDED" and done.output == ["a", ["one", "two"]]


def test_a_late_answer_to_the_first_run_does_not_answer_the_redriven_task():
    definition = {"StartAt": "T", "States": {"T": {**TASK, "End": True}}}
    step = start(definition)
    stopped = advance(definition, step, [{"kind": "stop"}])
    again = redrive(definition, stopped)
    late = answer(step.commands[0], "from the first run")
    assert advance(definition, again, [late], LATER).events == []
    assert again.commands[0]["invocation"] != step.commands[0]["invocation"]
