"""Nested executions (states:startExecution and its .sync forms) through boto3."""
from __future__ import annotations

import json
import time

from support import ROLE, wait_done

CHILD = {"StartAt": "Work", "States": {
    "Work": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Done"},
    "Done": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": True}}}
FAILING = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "SomeFailure", "Cause": "it broke"}}}


def _machine(sfn, name: str, definition: dict) -> str:
    return sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                    roleArn=ROLE)["stateMachineArn"]


def _parent(sfn, name: str, resource: str, child_arn: str, **parameters) -> str:
    return _machine(sfn, name, {"StartAt": "Start", "States": {"Start": {
        "Type": "Task", "Resource": "arn:aws:states:::states:" + resource,
        "Parameters": {"StateMachineArn": child_arn, **parameters}, "End": True}}})


def test_sync_waits_for_the_child_and_returns_its_description(sfn):
    child = _machine(sfn, "nested-child", CHILD)
    parent = _parent(sfn, "nested-sync", "startExecution.sync", child, Name="kid-sync",
                     **{"Input": {"n": 21, "wait": 1,
                                  "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}})
    execution = sfn.start_execution(stateMachineArn=parent)["executionArn"]
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["Status"] == "SUCCEEDED" and json.loads(output["Output"]) == {"doubled": 42}
    assert json.loads(output["Input"])["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"] == execution
    assert output["ExecutionArn"].endswith(":nested-child:kid-sync")
    assert {"InputDetails", "OutputDetails", "StartDate", "StopDate", "StateMachineArn", "Name"} <= set(output)
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]


def test_sync2_returns_json_documents(sfn):
    child = _machine(sfn, "nested-child2", CHILD)
    parent = _parent(sfn, "nested-sync2", "startExecution.sync:2", child, Input={"n": 1, "wait": 0})
    described = wait_done(sfn, sfn.start_execution(stateMachineArn=parent)["executionArn"])
    output = json.loads(described["output"])
    assert output["Output"] == {"doubled": 2} and output["Input"] == {"n": 1, "wait": 0}


def test_sync_child_failure_fails_the_task_with_aws_cause(sfn):
    child = _machine(sfn, "nested-failing", FAILING)
    parent = _parent(sfn, "nested-sync-fail", "startExecution.sync", child)
    described = wait_done(sfn, sfn.start_execution(stateMachineArn=parent)["executionArn"])
    assert (described["status"], described["error"]) == ("FAILED", "States.TaskFailed")
    cause = json.loads(described["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == ("FAILED", "SomeFailure", "it broke")


def test_request_response_returns_at_once_and_unknown_machine_fails(sfn):
    child = _machine(sfn, "nested-rr", CHILD)
    parent = _parent(sfn, "nested-rr-parent", "startExecution", child, Input={"n": 1, "wait": 5})
    described = wait_done(sfn, sfn.start_execution(stateMachineArn=parent)["executionArn"], timeout=4)
    output = json.loads(described["output"])
    assert described["status"] == "SUCCEEDED" and output["ExecutionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:execution:nested-rr:")
    assert output["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert sfn.describe_execution(executionArn=output["ExecutionArn"])["status"] == "RUNNING"

    missing = _parent(sfn, "nested-missing", "startExecution",
                      "arn:aws:states:us-east-1:123456789012:stateMachine:no-such-machine")
    described = wait_done(sfn, sfn.start_execution(stateMachineArn=missing)["executionArn"])
    assert described["error"] == "StepFunctions.StateMachineDoesNotExistException"
    assert described["cause"].startswith("State Machine Does Not Exist: 'arn:aws:states:us-east-1:")


def test_stopping_the_parent_stops_its_running_child(sfn):
    child = _machine(sfn, "nested-long", CHILD)
    parent = _parent(sfn, "nested-stop", "startExecution.sync", child, Name="kid-stop",
                     Input={"n": 1, "wait": 600})
    execution = sfn.start_execution(stateMachineArn=parent)["executionArn"]
    kid = "arn:aws:states:us-east-1:123456789012:execution:nested-long:kid-stop"
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            if sfn.describe_execution(executionArn=kid)["status"] == "RUNNING":
                break
        except sfn.exceptions.ExecutionDoesNotExist:
            pass
        time.sleep(0.05)
    sfn.stop_execution(executionArn=execution)
    assert wait_done(sfn, execution)["status"] == "ABORTED"
    assert wait_done(sfn, kid)["status"] == "ABORTED"
