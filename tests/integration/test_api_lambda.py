"""Lambda task semantics through boto3: timeouts, unknown functions, lambda:invoke's response
and oversized results, as AWS records them."""
from __future__ import annotations

import json
import re
import time
import uuid

from support import ROLE, wait_done

INVOKE = "arn:aws:states:::lambda:invoke"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:"


def run(sfn, definition: dict, value: dict) -> tuple[dict, list[dict]]:
    arn = sfn.create_state_machine(name=f"lambda-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                   roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(value))["executionArn"]
    described = wait_done(sfn, execution)
    return described, sfn.get_execution_history(executionArn=execution)["events"]


def one_task(task: dict) -> dict:
    return {"StartAt": "Call", "States": {"Call": {"Type": "Task", **task, "End": True}}}


def test_timeout_seconds_fails_with_states_timeout_and_no_cause(sfn):
    task = {"Resource": INVOKE, "TimeoutSecondsPath": "$.limit",
            "Parameters": {"FunctionName": "sleep-then-echo", "Payload": {"seconds": 4}}}
    began = time.monotonic()
    described, events = run(sfn, one_task(task), {"limit": 1})
    assert time.monotonic() - began < 3.5  # the timeout, not the handler, ended it
    assert described["status"] == "FAILED" and described["error"] == "States.Timeout"
    assert "cause" not in described
    timed_out, failed = events[-2:]
    assert timed_out["type"] == "TaskTimedOut"
    assert timed_out["taskTimedOutEventDetails"] == {"resourceType": "lambda", "resource": "invoke",
                                                    "error": "States.Timeout"}
    assert failed["executionFailedEventDetails"] == {"error": "States.Timeout"}
    assert events[2]["taskScheduledEventDetails"]["timeoutInSeconds"] == 1


def test_a_caught_lambda_timeout_carries_an_empty_cause(sfn):
    definition = {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": FUNCTION + "sleep-then-echo", "TimeoutSeconds": 1,
                 "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Handled"}], "End": True},
        "Handled": {"Type": "Pass", "End": True}}}
    described, events = run(sfn, definition, {"seconds": 4})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"Error": "States.Timeout", "Cause": ""}
    assert [e["type"] for e in events][2:5] == ["LambdaFunctionScheduled", "LambdaFunctionStarted",
                                                "LambdaFunctionTimedOut"]
    assert events[4]["lambdaFunctionTimedOutEventDetails"] == {"error": "States.Timeout"}


def test_an_unknown_function_fails_with_lambdas_not_found_text(sfn):
    task = {"Resource": INVOKE, "Parameters": {"FunctionName": "no-such-function"}}
    described, _ = run(sfn, one_task(task), {})
    assert described["error"] == "Lambda.ResourceNotFoundException"
    assert re.fullmatch(
        r"Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function:\$LATEST "
        r"\(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; "
        r"Request ID: [0-9a-f-]{36}; Proxy: null\)", described["cause"])


def test_lambda_invoke_headers_describe_the_body_lambda_sent(sfn):
    task = {"Resource": INVOKE, "Parameters": {"FunctionName": "echo", "Payload": {"foo": "foo-1"}}}
    described, _ = run(sfn, one_task(task), {})
    metadata = json.loads(described["output"])["SdkHttpMetadata"]
    assert metadata["HttpHeaders"]["Content-Length"] == "16"  # {"foo": "foo-1"}
    assert metadata["AllHttpHeaders"]["Content-Length"] == ["16"]
    assert metadata["AllHttpHeaders"]["x-amzn-RequestId"] == [metadata["HttpHeaders"]["x-amzn-RequestId"]]


def test_an_oversized_result_is_a_task_failure_that_states_all_catches(sfn):
    definition = {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": INVOKE, "Parameters": {"FunctionName": "huge-result"},
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}], "End": True},
        "Handled": {"Type": "Pass", "End": True}}}
    described, events = run(sfn, definition, {})
    cause = ("The state/task 'lambda' returned a result with a size exceeding the maximum number of "
             "bytes service limit.")
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"Error": "States.DataLimitExceeded", "Cause": cause}
    assert events[4]["type"] == "TaskFailed"
    assert events[4]["taskFailedEventDetails"]["cause"] == cause
