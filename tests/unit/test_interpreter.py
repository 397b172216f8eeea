"""The pure interpreter: decisions, history and commands, with time and randomness pinned."""
from __future__ import annotations

import random

import pytest

from engine.asl import interpreter, model
from engine.asl.interpreter import Env

NOW = 1_700_000_000.0
CONTEXT = {"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:e", "Input": {},
                         "Name": "e", "RoleArn": "role", "StartTime": "2023-11-14T22:13:20.000Z",
                         "RedriveCount": 0},
           "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:sm", "Name": "sm"}}


def env(**overrides) -> Env:
    return Env(random=random.Random(7), new_uuid=lambda: "uuid-1", **overrides)


def start(definition: dict, value=None, **env_overrides):
    return interpreter.start(model.build(definition), CONTEXT, {} if value is None else value, NOW,
                             env(**env_overrides))


def advance(definition: dict, step, messages=(), now=NOW, **env_overrides):
    return interpreter.advance(model.build(definition), step.snapshot, list(messages), now,
                               env(**env_overrides))


def types(step) -> list[str]:
    return [e["type"] for e in step.events]


def chain(*states: dict) -> dict:
    names = [f"S{i}" for i in range(len(states))]
    table = {}
    for i, state in enumerate(states):
        table[names[i]] = {**state, **({"Next": names[i + 1]} if i + 1 < len(states) else {"End": True})}
    return {"StartAt": names[0], "States": table}


def test_pure_states_run_to_the_end_in_one_step_with_sequential_ids():
    step = start(chain({"Type": "Pass", "Result": 1, "ResultPath": "$.a"},
                       {"Type": "Pass", "Parameters": {"b.$": "$.a"}}), {"x": 0})
    assert step.status == "SUCCEEDED" and step.output == {"b": 1}
    assert types(step) == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered",
                           "PassStateExited", "ExecutionSucceeded"]
    assert [e["id"] for e in step.events] == [1, 2, 3, 4, 5, 6]
    assert [e["previous_event_id"] for e in step.events][1:] == [1, 2, 3, 4, 5]


def test_wait_blocks_until_due_then_finishes():
    definition = chain({"Type": "Wait", "Seconds": 10})
    step = start(definition)
    assert step.status == "RUNNING" and step.due_at == NOW + 10
    assert types(step)[-1] == "WaitStateEntered"
    early = advance(definition, step, now=NOW + 5)
    assert early.events == [] and early.due_at == NOW + 10
    done = advance(definition, step, now=NOW + 10)
    assert types(done) == ["WaitStateExited", "ExecutionSucceeded"]
    assert done.events[0]["id"] == 3  # numbering continues from the snapshot


def test_skip_waits_makes_waits_free():
    step = start(chain({"Type": "Wait", "Seconds": 3600}), skip_waits=True)
    assert step.status == "SUCCEEDED"
    assert "WaitStateExited" in types(step)


def test_seconds_path_errors_use_aws_wording():
    step = start(chain({"Type": "Wait", "SecondsPath": "$.s"}), {"s": -1})
    assert step.status == "FAILED" and step.error == "States.Runtime"
    assert step.cause == ("An error occurred while executing the state 'S0' (entered at the event id #2). "
                          "The SecondsPath parameter references a negative value: $.s == -1")


TASK = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"}


def test_task_emits_invoke_command_and_consumes_its_result():
    definition = chain({**TASK, "Parameters": {"v.$": "$.v"}, "ResultPath": "$.r"})
    step = start(definition, {"v": 1})
    assert types(step)[-2:] == ["LambdaFunctionScheduled", "LambdaFunctionStarted"]
    [command] = step.commands
    assert command["payload"] == {"v": 1} and command["resource"] == TASK["Resource"]
    reply = {"kind": "task_result", "path": command["path"], "invocation": command["invocation"],
             "output": {"ok": True}}
    done = advance(definition, step, [reply])
    assert done.status == "SUCCEEDED" and done.output == {"v": 1, "r": {"ok": True}}
    assert types(done) == ["LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"]
    # a duplicate delivery of the same answer changes nothing
    assert advance(definition, done, [reply]).events == []


def test_stale_task_result_is_ignored():
    definition = chain(TASK)
    step = start(definition)
    stale = {"kind": "task_result", "path": step.commands[0]["path"], "invocation": 99, "output": 1}
    assert advance(definition, step, [stale]).events == []


def test_retry_backs_off_then_catch_routes_with_error_output():
    definition = {"StartAt": "T", "States": {
        "T": {**TASK, "Retry": [{"ErrorEquals": ["Oops"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "C"}], "End": True},
        "C": {"Type": "Pass", "End": True}}}
    step = start(definition, {"k": 1})
    failure = lambda s: {"kind": "task_result", "path": s.commands[0]["path"],  # noqa: E731
                         "invocation": s.commands[0]["invocation"], "error": "Oops", "cause": "c"}
    first = advance(definition, step, [failure(step)])
    assert types(first) == ["LambdaFunctionFailed"] and first.due_at == NOW + 2
    assert advance(definition, first, now=NOW + 1).events == []
    second = advance(definition, first, now=NOW + 2)
    assert types(second) == ["LambdaFunctionScheduled", "LambdaFunctionStarted"]
    third = advance(definition, advance(definition, second, [failure(second)], now=NOW + 2), now=NOW + 8)
    fourth = advance(definition, third, [failure(third)], now=NOW + 8)
    assert types(fourth) == ["LambdaFunctionFailed", "TaskStateExited", "PassStateEntered", "PassStateExited",
                             "ExecutionSucceeded"]
    assert fourth.output == {"k": 1, "err": {"Error": "Oops", "Cause": "c"}}


def test_task_timeout_fails_with_states_timeout():
    definition = chain({**TASK, "TimeoutSeconds": 5})
    step = start(definition)
    assert step.due_at == NOW + 5
    done = advance(definition, step, now=NOW + 5)
    assert types(done) == ["LambdaFunctionTimedOut", "ExecutionFailed"]
    assert done.error == "States.Timeout"


def test_lost_task_answers_are_requested_again_with_the_same_invocation():
    definition = chain(TASK)
    step = start(definition, task_redispatch_seconds=60)
    again = advance(definition, step, now=NOW + 60, task_redispatch_seconds=60)
    assert again.events == []
    assert again.commands[0]["invocation"] == step.commands[0]["invocation"]


def test_map_runs_iterations_in_order_and_collects_results():
    definition = chain({"Type": "Map", "ItemsPath": "$.items",
                        "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value"},
                        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}})
    step = start(definition, {"items": ["a", "b"]})
    assert step.output == [{"i": 0, "v": "a"}, {"i": 1, "v": "b"}]
    assert types(step)[1:] == ["MapStateEntered", "MapStateStarted",
                               "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
                               "MapIterationStarted", "PassStateEntered", "PassStateExited", "MapIterationSucceeded",
                               "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"]
    started = [e for e in step.events if e["type"] == "MapStateStarted"][0]
    assert started["details"] == {"mapStateStartedEventDetails": {"length": 2}}


def test_map_failure_aborts_and_tolerance_counts():
    fail_on_b = {"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$", "StringEquals": "b", "Next": "F"}], "Default": "P"},
        "F": {"Type": "Fail", "Error": "Bad", "Cause": "b is bad"}, "P": {"Type": "Pass", "End": True}}}
    strict = chain({"Type": "Map", "ItemProcessor": fail_on_b})
    failed = start(strict, ["a", "b", "c"])
    assert failed.status == "FAILED" and (failed.error, failed.cause) == ("Bad", "b is bad")
    assert "MapIterationFailed" in types(failed) and types(failed).count("MapIterationStarted") == 2
    tolerant = chain({"Type": "Map", "ToleratedFailureCount": 1, "ItemProcessor": fail_on_b})
    assert start(tolerant, ["a", "b", "c"]).status == "SUCCEEDED"
    too_many = chain({"Type": "Map", "ToleratedFailureCount": 0, "ItemProcessor": fail_on_b})
    assert start(too_many, ["a", "b"]).error == "States.ExceedToleratedFailureThreshold"


def test_map_with_tasks_respects_max_concurrency():
    definition = chain({"Type": "Map", "MaxConcurrency": 2,
                        "ItemProcessor": {"StartAt": "T", "States": {"T": {**TASK, "End": True}}}})
    step = start(definition, [1, 2, 3])
    assert len(step.commands) == 2
    reply = {"kind": "task_result", "path": step.commands[0]["path"],
             "invocation": step.commands[0]["invocation"], "output": 10}
    more = advance(definition, step, [reply])
    assert [c["payload"] for c in more.commands] == [3]


def test_parallel_collects_branch_outputs_in_order_and_fails_with_branch_error():
    ok = chain({"Type": "Parallel", "Branches": [
        {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": True}}},
        {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "End": True}}}]})
    step = start(ok)
    assert step.output == ["a", "b"]
    assert types(step)[1:3] == ["ParallelStateEntered", "ParallelStateStarted"]
    assert types(step)[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
    bad = {"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Branches": [
            {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "why"}}}],
            "Catch": [{"ErrorEquals": ["E"], "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Pass", "End": True}}}
    caught = start(bad)
    assert caught.output == {"Error": "E", "Cause": "why"}
    assert "ParallelStateFailed" in types(caught)


def test_choice_without_match_fails_with_no_choice_matched():
    definition = {"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.x", "NumericEquals": 1, "Next": "D"}]}, "D": {"Type": "Succeed"}}}
    assert start(definition, {"x": 1}).status == "SUCCEEDED"
    assert start(definition, {"x": 2}).error == "States.NoChoiceMatched"


def test_stop_message_aborts_and_execution_timeout_times_out():
    definition = chain({"Type": "Wait", "Seconds": 100})
    step = start(definition)
    stopped = advance(definition, step, [{"kind": "stop", "error": "E", "cause": "C"}])
    assert stopped.status == "ABORTED" and types(stopped) == ["ExecutionAborted"]
    limited = {**definition, "TimeoutSeconds": 5}
    step = start(limited)
    assert step.due_at == NOW + 5
    assert advance(limited, step, now=NOW + 5).status == "TIMED_OUT"


@pytest.mark.parametrize("kind", ["Error", "ErrorPath"])
def test_fail_state_error_and_paths(kind):
    state = {"Type": "Fail", "Error": "E", "Cause": "C"} if kind == "Error" else \
        {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}
    step = start({"StartAt": "F", "States": {"F": state}}, {"e": "E", "c": "C"})
    assert (step.status, step.error, step.cause) == ("FAILED", "E", "C")
    assert types(step) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]


# --- copy_snapshot: advance and redrive work on a copy of the caller's snapshot ----------------

def test_copy_snapshot_copies_containers_and_shares_atoms():
    text, nested = "text", {"b": [1, 2.5, None, True]}
    snapshot = {"a": text, "n": nested, "paths": {"0": {"input": nested}}}
    copied = interpreter.copy_snapshot(snapshot)
    assert copied == snapshot
    assert copied["a"] is text
    assert copied["n"] is not nested and copied["n"]["b"] is not nested["b"]
    assert copied["paths"]["0"]["input"] is not copied["n"]  # no aliasing, as after the store


def test_copy_snapshot_leaves_other_values_to_deepcopy():
    inner = [1]
    copied = interpreter.copy_snapshot({"t": (inner, 2)})
    assert copied == {"t": ([1], 2)} and copied["t"][0] is not inner


def test_advance_leaves_the_callers_snapshot_alone():
    definition = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "Next": "P"},
                                             "P": {"Type": "Pass", "Result": {"x": 1}, "End": True}}}
    first = start(definition, {"in": [1, 2]})
    before = repr(first.snapshot)
    done = advance(definition, first, now=NOW + 10)
    assert done.status == "SUCCEEDED" and repr(first.snapshot) == before


def test_a_succeeded_step_carries_its_output_as_json_text():
    definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"a": [1, "é"]}, "End": True}}}
    step = start(definition)
    assert step.output == {"a": [1, "é"]} and step.output_text == '{"a":[1,"é"]}'
    assert step.events[-1]["details"]["executionSucceededEventDetails"]["output"] == step.output_text
    failed = start({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}})
    assert failed.status == "FAILED" and failed.output_text is None


def test_a_failed_map_iteration_drops_every_branch_running_in_its_siblings():
    task = lambda name: {"StartAt": name, "States": {name: {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}}}
    definition = {"StartAt": "M", "States": {
        "M": {"Type": "Map", "MaxConcurrency": 2, "ItemsPath": "$.items", "ItemProcessor": {
            "StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 1, "Next": "P"}],
                      "Default": "F"},
                "P": {"Type": "Parallel", "Branches": [task("T1"), task("T2")], "End": True},
                "F": {"Type": "Fail", "Error": "Boom"}}},
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
        "Done": {"Type": "Wait", "Seconds": 10, "End": True}}}
    step = start(definition, {"items": [1, 2]})
    invoked = [command for command in step.commands if command["kind"] == "invoke"]
    assert len(invoked) == 2  # both branches of the first iteration were handed out
    assert [path["state"] for path in step.snapshot["paths"].values()] == ["Done"]
    for command in invoked:  # their late answers are ignored, not a crash
        step = advance(definition, step, [{"kind": "task_result", "path": command["path"],
                                           "invocation": command["invocation"], "output": {}}])
        assert step.status == "RUNNING" and step.events == []


def test_an_execution_that_fills_its_history_fails_with_the_last_event():
    counter = {"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Again"},
        "Again": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericLessThan": 100000, "Next": "Count"}],
                  "Default": "Done"},
        "Done": {"Type": "Succeed"}}}
    step = start(counter, {"n": 0})
    assert step.status == "FAILED" and step.error == "States.Runtime"
    assert "maximum number of history events (25000)" in step.cause
    ids = [event["id"] for event in step.events]
    assert ids == list(range(1, interpreter.MAX_HISTORY_EVENTS + 1))
    assert step.events[-1]["type"] == "ExecutionFailed"
