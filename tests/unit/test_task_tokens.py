"""The pure interpreter's side of activities, callbacks and .sync tasks: tokens, heartbeats,
submissions and the token changes a step hands to the store."""
from __future__ import annotations

import itertools

from test_interpreter import NOW, advance, start, types

ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"
_counter = itertools.count()


def token_env() -> dict:
    return {"new_token": lambda: f"tok-{next(_counter)}"}


def activity_machine(**fields) -> dict:
    return {"StartAt": "Review", "States": {"Review": {"Type": "Task", "Resource": ACTIVITY,
                                                       "End": True, **fields}}}


def callback_machine(**fields) -> dict:
    return {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "ask", "Payload": {"token.$": "$$.Task.Token"}},
        "End": True, **fields}}}


def _opened(step) -> dict:
    return next(change for change in step.token_changes if change["op"] == "open")


def test_activity_opens_a_token_and_waits_without_a_command():
    step = start(activity_machine(TimeoutSeconds=30, HeartbeatSeconds=5), {"a": 1}, **token_env())
    assert types(step)[-1] == "ActivityScheduled" and step.commands == []
    opened = _opened(step)
    assert opened["activity_arn"] == ACTIVITY and opened["input"] == '{"a":1}'
    assert opened["timeout_at"] == NOW + 30 and opened["heartbeat_seconds"] == 5
    assert step.due_at == NOW + 30  # the heartbeat clock starts when a worker takes the task


def test_activity_started_then_heartbeats_then_success():
    definition = activity_machine(HeartbeatSeconds=5)
    step = start(definition, {}, **token_env())
    message = {"path": "0", "invocation": 1}
    step = advance(definition, step, [{**message, "kind": "task_started", "worker": "w", "at": NOW + 1}], now=NOW + 1)
    assert types(step) == ["ActivityStarted"] and step.due_at == NOW + 6
    step = advance(definition, step, [{**message, "kind": "heartbeat", "at": NOW + 4}], now=NOW + 4)
    assert step.events == [] and step.due_at == NOW + 9
    step = advance(definition, step, [{**message, "kind": "task_result", "output": {"ok": 1}}], now=NOW + 5)
    assert types(step) == ["ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]
    assert step.output == {"ok": 1}


def test_silence_past_the_heartbeat_times_the_task_out_and_closes_its_token():
    definition = activity_machine(HeartbeatSeconds=5)
    step = start(definition, {}, **token_env())
    token = _opened(step)["token"]
    step = advance(definition, step, [{"kind": "task_started", "path": "0", "invocation": 1, "at": NOW}])
    step = advance(definition, step, now=NOW + 5)
    assert types(step) == ["ActivityTimedOut", "ExecutionFailed"]
    assert step.events[0]["details"]["activityTimedOutEventDetails"] == {"error": "States.HeartbeatTimeout"}
    assert {"op": "close", "token": token, "status": "TIMED_OUT"} in step.token_changes


def test_callback_token_is_in_the_parameters_and_answer_waits_for_submission():
    definition = callback_machine()
    step = start(definition, {}, **token_env())
    token = _opened(step)["token"]
    assert step.commands[0]["payload"]["Payload"]["token"] == token
    assert step.commands[0]["context"]["Task"]["Token"] == token
    # the answer overtakes the service call's own reply: it is held until TaskSubmitted
    answer = {"kind": "task_result", "path": "0", "invocation": 1, "output": "yes"}
    submitted = {"kind": "task_submitted", "path": "0", "invocation": 1, "output": {"StatusCode": 200}}
    step = advance(definition, step, [answer, submitted])
    assert types(step) == ["TaskSubmitted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"]


def test_a_submitted_callback_is_never_re_sent():
    definition = callback_machine()
    step = start(definition, {}, **token_env(), task_redispatch_seconds=10)
    step = advance(definition, step, [{"kind": "task_submitted", "path": "0", "invocation": 1, "output": {}}])
    assert step.due_at is None
    assert advance(definition, step, now=NOW + 1000).commands == []


def test_stale_answers_are_ignored():
    definition = callback_machine(TimeoutSeconds=2)
    step = start(definition, {}, **token_env())
    step = advance(definition, step, now=NOW + 2)
    assert types(step) == ["TaskTimedOut", "ExecutionFailed"]
    late = {"kind": "task_result", "path": "0", "invocation": 1, "output": "late"}
    assert advance(definition, step, [late], now=NOW + 3).events == []


def test_a_failed_sibling_closes_tokens_and_stops_children():
    definition = {"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": True, "Branches": [
        {"StartAt": "Child", "States": {"Child": {
            "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync",
            "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:c"},
            "End": True}}},
        {"StartAt": "Boom", "States": {"Boom": {"Type": "Task", "Resource": ACTIVITY, "End": True}}}]}}}
    step = start(definition, {}, **token_env())
    child_path = step.commands[0]["path"]
    step = advance(definition, step, [{"kind": "task_submitted", "path": child_path, "invocation": 1,
                                       "output": {"ExecutionArn": "arn:child"}}])
    activity_path = next(pid for pid, p in step.snapshot["paths"].items() if p["state"] == "Boom")
    step = advance(definition, step, [{"kind": "task_result", "path": activity_path, "invocation": 1,
                                       "error": "Bad", "cause": "x"}])
    assert step.status == "FAILED"
    assert {"kind": "stop_execution", "arn": "arn:child", "error": "States.Aborted",
            "cause": "The parent execution stopped."} in step.commands
    assert any(change["op"] == "close" for change in step.token_changes)
