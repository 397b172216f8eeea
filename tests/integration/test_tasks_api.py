"""Activities, task tokens and callbacks through boto3 against a real ``stepstone serve``."""
from __future__ import annotations

import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from support import ROLE, Server, client, wait_done


def _machine(sfn, name: str, definition: dict) -> str:
    return sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                    roleArn=ROLE)["stateMachineArn"]


def _history(sfn, arn: str) -> list[dict]:
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def _error_code(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def _token_of(sfn, arn: str, timeout: float = 10.0) -> str:
    """The task token a callback task handed out, read back from its TaskScheduled event."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for event in _history(sfn, arn):
            if event["type"] == "TaskScheduled":
                parameters = json.loads(event["taskScheduledEventDetails"]["parameters"])
                return parameters["Payload"]["token"]
        time.sleep(0.05)
    raise AssertionError(f"no TaskScheduled event in {arn}")


def _callback_machine(sfn, name: str, **task_fields) -> str:
    return _machine(sfn, name, {"StartAt": "Wait", "States": {"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "echo", "Payload": {"token.$": "$$.Task.Token"}},
        "End": True, **task_fields}}})


# --- activities --------------------------------------------------------------------------------
def test_activity_crud(sfn):
    created = sfn.create_activity(name="crud-activity")
    arn = created["activityArn"]
    assert arn == "arn:aws:states:us-east-1:123456789012:activity:crud-activity"
    assert sfn.create_activity(name="crud-activity")["activityArn"] == arn  # idempotent
    assert sfn.describe_activity(activityArn=arn)["name"] == "crud-activity"
    assert arn in [a["activityArn"] for a in sfn.list_activities()["activities"]]
    sfn.delete_activity(activityArn=arn)
    assert _error_code(lambda: sfn.describe_activity(activityArn=arn)) == "ActivityDoesNotExist"
    assert _error_code(lambda: sfn.describe_activity(activityArn="arn:nope")) == "InvalidArn"


def test_get_activity_task_returns_no_token_when_nothing_comes(sfn):
    arn = sfn.create_activity(name="idle-activity")["activityArn"]
    started = time.time()
    answer = sfn.get_activity_task(activityArn=arn, workerName="w")
    assert not answer.get("taskToken")
    assert 0.9 <= time.time() - started < 10  # it waited for the (configured) long poll


def test_activity_worker_success_records_aws_events(sfn):
    activity = sfn.create_activity(name="work-activity")["activityArn"]
    arn = _machine(sfn, "activity-ok", {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": activity, "TimeoutSeconds": 60, "HeartbeatSeconds": 10, "End": True}}})
    execution = sfn.start_execution(stateMachineArn=arn, input='{"n": 3}')["executionArn"]
    task = sfn.get_activity_task(activityArn=activity, workerName="worker-1")
    assert json.loads(task["input"]) == {"n": 3}
    sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='{"n": 4}')
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"n": 4}
    events = _history(sfn, execution)
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted",
        "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]
    scheduled = events[2]["activityScheduledEventDetails"]
    assert scheduled == {"resource": activity, "input": '{"n":3}', "inputDetails": {"truncated": False},
                         "timeoutInSeconds": 60, "heartbeatInSeconds": 10}
    assert events[3]["activityStartedEventDetails"] == {"workerName": "worker-1"}
    # the token was single-use
    assert _error_code(lambda: sfn.send_task_success(taskToken=task["taskToken"], output="{}")) == "TaskTimedOut"


def test_activity_failure_fails_the_execution(sfn):
    activity = sfn.create_activity(name="fail-activity")["activityArn"]
    arn = _machine(sfn, "activity-fail", {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": activity, "End": True}}})
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    sfn.send_task_failure(taskToken=task["taskToken"], error="Programmatic Error", cause="bad input")
    described = wait_done(sfn, execution)
    assert (described["status"], described["error"], described["cause"]) == ("FAILED", "Programmatic Error", "bad input")
    failed = [e for e in _history(sfn, execution) if e["type"] == "ActivityFailed"][0]
    assert failed["activityFailedEventDetails"] == {"error": "Programmatic Error", "cause": "bad input"}


def test_heartbeats_keep_a_task_alive_and_silence_times_it_out(sfn):
    activity = sfn.create_activity(name="beat-activity")["activityArn"]
    arn = _machine(sfn, "activity-beat", {"StartAt": "Work", "States": {"Work": {
        "Type": "Task", "Resource": activity, "HeartbeatSeconds": 1, "End": True}}})
    alive = sfn.start_execution(stateMachineArn=arn, name="alive")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    for _ in range(4):  # 2 s of work, a beat every half second: longer than HeartbeatSeconds
        time.sleep(0.5)
        sfn.send_task_heartbeat(taskToken=task["taskToken"])
    sfn.send_task_success(taskToken=task["taskToken"], output='"done"')
    assert wait_done(sfn, alive)["status"] == "SUCCEEDED"

    silent = sfn.start_execution(stateMachineArn=arn, name="silent")["executionArn"]
    task = sfn.get_activity_task(activityArn=activity)
    described = wait_done(sfn, silent, timeout=15)
    assert (described["status"], described["error"]) == ("FAILED", "States.HeartbeatTimeout")
    assert "ActivityTimedOut" in [e["type"] for e in _history(sfn, silent)]
    # a late answer gets AWS's TaskTimedOut
    assert _error_code(lambda: sfn.send_task_heartbeat(taskToken=task["taskToken"])) == "TaskTimedOut"


# --- callbacks ---------------------------------------------------------------------------------
def test_wait_for_task_token_records_submission_and_answer(sfn):
    arn = _callback_machine(sfn, "callback-ok")
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    token = _token_of(sfn, execution)
    assert len(token) >= 22  # at least 128 random bits, URL-safe
    deadline = time.time() + 10
    while "TaskSubmitted" not in [e["type"] for e in _history(sfn, execution)] and time.time() < deadline:
        time.sleep(0.05)
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"]) == {"approved": True}
    assert [e["type"] for e in _history(sfn, execution)][2:6] == [
        "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]


def test_bad_tokens_get_aws_errors(sfn):
    assert _error_code(lambda: sfn.send_task_success(taskToken="not a token", output="{}")) == "InvalidToken"
    forged = "A" * 43
    assert _error_code(lambda: sfn.send_task_success(taskToken=forged, output="{}")) == "TaskDoesNotExist"
    arn = _callback_machine(sfn, "callback-bad-output")
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    token = _token_of(sfn, execution)
    assert _error_code(lambda: sfn.send_task_success(taskToken=token, output="{nope")) == "InvalidOutput"
    sfn.send_task_failure(taskToken=token, error="Denied")
    assert wait_done(sfn, execution)["error"] == "Denied"


def test_callback_timeout_and_late_answer(sfn):
    arn = _callback_machine(sfn, "callback-timeout", TimeoutSeconds=1)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    token = _token_of(sfn, execution)
    described = wait_done(sfn, execution, timeout=15)
    assert (described["status"], described["error"]) == ("FAILED", "States.Timeout")
    assert _error_code(lambda: sfn.send_task_success(taskToken=token, output="{}")) == "TaskTimedOut"


def test_stopping_an_execution_invalidates_its_tokens(sfn):
    arn = _callback_machine(sfn, "callback-stopped")
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    token = _token_of(sfn, execution)
    sfn.stop_execution(executionArn=execution, error="Cancelled")
    assert wait_done(sfn, execution)["status"] == "ABORTED"
    assert _error_code(lambda: sfn.send_task_success(taskToken=token, output="{}")) == "TaskTimedOut"


def test_concurrent_answers_use_a_token_once(sfn):
    arn = _callback_machine(sfn, "callback-race")
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    token = _token_of(sfn, execution)
    outcomes: list[str] = []

    def answer(n: int) -> None:
        try:
            sfn.send_task_success(taskToken=token, output=json.dumps({"winner": n}))
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["TaskTimedOut"] * 5 + ["ok"]
    assert wait_done(sfn, execution)["status"] == "SUCCEEDED"


def test_a_token_wait_survives_kill_9(tmp_path):
    db = f"sqlite:///{tmp_path / 'tokens.db'}"
    env = {"STEPSTONE_LEASE_SECONDS": "1"}
    first = Server(db, env).start()
    try:
        sfn = client(first.endpoint)
        arn = _callback_machine(sfn, "callback-crash")
        execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
        token = _token_of(sfn, execution)
        time.sleep(0.3)
    finally:
        first.kill()
    second = Server(db, env).start()
    try:
        sfn = client(second.endpoint)
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        sfn.send_task_success(taskToken=token, output='"after restart"')
        described = wait_done(sfn, execution)
        assert described["status"] == "SUCCEEDED" and described["output"] == '"after restart"'
        types = [e["type"] for e in _history(sfn, execution)]
        assert types.count("TaskSubmitted") == 1 and types.count("TaskSucceeded") == 1
    finally:
        second.stop()
