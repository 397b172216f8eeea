"""The Step Functions API through an unmodified boto3 client against ``stepstone serve``."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from support import ROLE, wait_done

PASS_MACHINE = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": {"hello": "world"},
                                                        "ResultPath": "$.greeting", "End": True}}}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(sfn, definition: dict, type_: str = "STANDARD", name: str | None = None) -> str:
    return sfn.create_state_machine(name=name or unique("sm"), definition=json.dumps(definition),
                                    roleArn=ROLE, type=type_)["stateMachineArn"]


def error_code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"]


def test_state_machine_lifecycle(sfn):
    name = unique("lifecycle")
    arn = create(sfn, PASS_MACHINE, name=name)
    assert arn == f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert described["name"] == name and described["status"] == "ACTIVE"
    assert json.loads(described["definition"]) == PASS_MACHINE
    assert described["type"] == "STANDARD" and described["roleArn"] == ROLE

    listed = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]
    assert arn in listed

    changed = {**PASS_MACHINE, "Comment": "v2"}
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(changed))
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])["Comment"] == "v2"

    sfn.delete_state_machine(stateMachineArn=arn)
    assert error_code(sfn.describe_state_machine, stateMachineArn=arn) == "StateMachineDoesNotExist"


def test_create_is_idempotent_and_conflicts_on_change(sfn):
    name = unique("idem")
    first = create(sfn, PASS_MACHINE, name=name)
    assert create(sfn, PASS_MACHINE, name=name) == first
    other = {**PASS_MACHINE, "Comment": "different"}
    assert error_code(sfn.create_state_machine, name=name, definition=json.dumps(other),
                      roleArn=ROLE) == "StateMachineAlreadyExists"


def test_invalid_inputs_get_aws_errors(sfn):
    bad = {"StartAt": "Missing", "States": {"A": {"Type": "Pass", "End": True}}}
    with pytest.raises(ClientError) as raised:
        sfn.create_state_machine(name=unique("bad"), definition=json.dumps(bad), roleArn=ROLE)
    assert raised.value.response["Error"]["Code"] == "InvalidDefinition"
    assert "Missing" in raised.value.response["Error"]["Message"]
    assert error_code(sfn.create_state_machine, name="has space", definition=json.dumps(PASS_MACHINE),
                      roleArn=ROLE) == "InvalidName"
    assert error_code(sfn.describe_state_machine, stateMachineArn="not-an-arn") == "InvalidArn"
    assert error_code(sfn.create_state_machine, name=unique("v"), definition=json.dumps(PASS_MACHINE),
                      roleArn=ROLE, versionDescription="x") == "ValidationException"
    arn = create(sfn, PASS_MACHINE)
    assert error_code(sfn.start_execution, stateMachineArn=arn, input="{not json") == "InvalidExecutionInput"
    missing = arn.replace(":stateMachine:", ":execution:") + ":nope"
    assert error_code(sfn.describe_execution, executionArn=missing) == "ExecutionDoesNotExist"


def test_validate_state_machine_definition(sfn):
    assert sfn.validate_state_machine_definition(definition=json.dumps(PASS_MACHINE))["result"] == "OK"
    bad = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    answer = sfn.validate_state_machine_definition(definition=json.dumps(bad))
    assert answer["result"] == "FAIL"
    assert any("Nowhere" in d["message"] for d in answer["diagnostics"])


def test_execution_runs_and_records_aws_history(sfn):
    arn = create(sfn, PASS_MACHINE)
    execution = sfn.start_execution(stateMachineArn=arn, name="first", input='{"x": 1}')["executionArn"]
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"x": 1, "greeting": {"hello": "world"}}
    events = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in events] == ["ExecutionStarted", "PassStateEntered", "PassStateExited",
                                          "ExecutionSucceeded"]
    assert [e["id"] for e in events] == [1, 2, 3, 4]
    assert events[1]["stateEnteredEventDetails"]["name"] == "Hello"
    assert json.loads(events[2]["stateExitedEventDetails"]["output"])["greeting"] == {"hello": "world"}


def test_start_execution_name_idempotency(sfn):
    arn = create(sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}})
    first = sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
    again = sfn.start_execution(stateMachineArn=arn, name="same", input="{}")
    assert again["executionArn"] == first["executionArn"]
    assert error_code(sfn.start_execution, stateMachineArn=arn, name="same",
                      input='{"other": true}') == "ExecutionAlreadyExists"
    sfn.stop_execution(executionArn=first["executionArn"], error="Bye", cause="test over")
    described = sfn.describe_execution(executionArn=first["executionArn"])
    assert described["status"] == "ABORTED" and described["error"] == "Bye"
    assert sfn.get_execution_history(executionArn=first["executionArn"], reverseOrder=True)[
        "events"][0]["type"] == "ExecutionAborted"


def test_list_executions_filters_and_pages(sfn):
    arn = create(sfn, PASS_MACHINE)
    arns = [sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(5)]
    for execution in arns:
        wait_done(sfn, execution)
    seen, token = [], None
    while True:
        kwargs = {"stateMachineArn": arn, "maxResults": 2}
        if token:
            kwargs["nextToken"] = token
        page = sfn.list_executions(**kwargs)
        assert len(page["executions"]) <= 2
        seen += [e["executionArn"] for e in page["executions"]]
        token = page.get("nextToken")
        if not token:
            break
    assert sorted(seen) == sorted(arns)
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []
    assert len(sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")["executions"]) == 5


def test_history_pages_reverse_and_without_data(sfn):
    chain = {"StartAt": "S0", "States": {f"S{i}": {"Type": "Pass", **({"Next": f"S{i+1}"} if i < 4 else {"End": True})}
                                         for i in range(5)}}
    arn = create(sfn, chain)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"secret": 1}')["executionArn"]
    wait_done(sfn, execution)
    everything = sfn.get_execution_history(executionArn=execution)["events"]
    assert len(everything) == 12
    paged, token = [], None
    while True:
        kwargs = {"executionArn": execution, "maxResults": 5}
        if token:
            kwargs["nextToken"] = token
        page = sfn.get_execution_history(**kwargs)
        paged += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    assert [e["id"] for e in paged] == list(range(1, 13))
    backwards = sfn.get_execution_history(executionArn=execution, reverseOrder=True)["events"]
    assert [e["id"] for e in backwards] == list(range(12, 0, -1))
    bare = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)["events"]
    assert "input" not in bare[0]["executionStartedEventDetails"]


def test_describe_state_machine_for_execution_is_pinned(sfn):
    arn = create(sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}})
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(PASS_MACHINE))
    pinned = json.loads(sfn.describe_state_machine_for_execution(executionArn=execution)["definition"])
    assert pinned["States"]["W"]["Type"] == "Wait"
    assert wait_done(sfn, execution)["status"] == "SUCCEEDED"
    history = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert "WaitStateEntered" in history  # the running execution kept its revision


def test_start_sync_execution_runs_express(sfn):
    arn = create(sfn, PASS_MACHINE, type_="EXPRESS")
    answer = sfn.start_sync_execution(stateMachineArn=arn, input='{"y": 2}')
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"y": 2, "greeting": {"hello": "world"}}
    assert ":express:" in answer["executionArn"]
    standard = create(sfn, PASS_MACHINE)
    assert error_code(sfn.start_sync_execution, stateMachineArn=standard) == "StateMachineTypeNotSupported"


def test_python_handlers_with_retry_catch_and_lambda_shapes(sfn):
    definition = {
        "StartAt": "Flaky",
        "States": {
            "Flaky": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:flaky-twice",
                      "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "BackoffRate": 1, "MaxAttempts": 3}],
                      "ResultPath": "$.flaky", "Next": "Invoke"},
            "Invoke": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": "async-double", "Payload": {"value": 21}},
                       "ResultSelector": {"doubled.$": "$.Payload.value", "status.$": "$.StatusCode"},
                       "ResultPath": "$.invoke", "Next": "Boom"},
            "Boom": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:boom",
                     "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.caught", "Next": "Done"}],
                     "End": True},
            "Done": {"Type": "Succeed"},
        },
    }
    arn = create(sfn, definition)
    execution = sfn.start_execution(stateMachineArn=arn, input='{"why": "testing"}')["executionArn"]
    described = wait_done(sfn, execution)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["flaky"] == {"attempts": 3}
    assert output["invoke"] == {"doubled": 42, "status": 200}
    assert output["caught"]["Error"] == "ValueError"
    cause = json.loads(output["caught"]["Cause"])
    assert cause["errorType"] == "ValueError" and cause["errorMessage"] == "boom: testing"
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types.count("LambdaFunctionFailed") == 3  # two flaky attempts and the boom
    assert types.count("LambdaFunctionScheduled") == 4
    assert {"TaskScheduled", "TaskStarted", "TaskSucceeded"} <= set(types)


def test_start_sync_execution_times_a_slow_handler_out_on_time(sfn):
    arn = create(sfn, {"StartAt": "Slow", "States": {"Slow": {
        "Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:sleep-then-echo",
        "TimeoutSeconds": 1, "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Late"}], "End": True},
        "Late": {"Type": "Pass", "Result": "timed out", "End": True}}}, type_="EXPRESS")
    started = time.time()
    answer = sfn.start_sync_execution(stateMachineArn=arn, input='{"seconds": 6}')
    assert answer["status"] == "SUCCEEDED" and json.loads(answer["output"]) == "timed out"
    assert time.time() - started < 4  # the handler still sleeps; the answer did not wait for it


def test_a_definition_over_one_megabyte_is_refused(sfn):
    padding = "x" * (1024 * 1024)
    big = {"StartAt": "P", "Comment": padding, "States": {"P": {"Type": "Pass", "End": True}}}
    assert error_code(sfn.create_state_machine, name=unique("big"), definition=json.dumps(big),
                      roleArn=ROLE) == "ValidationException"
    small = {**big, "Comment": "x" * 1000}
    assert create(sfn, small)
