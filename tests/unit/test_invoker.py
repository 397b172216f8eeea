"""The invoker: Python handlers called the way AWS Lambda calls them, answered in Lambda's shapes."""
from __future__ import annotations

import asyncio
import json
import re

import pytest

from engine import task
from engine.runtime import invoker

ARN = "arn:aws:states:us-east-1:123456789012:execution:sm:run-1"
LEGACY = "arn:aws:lambda:us-east-1:123456789012:function:"
INVOKE = "arn:aws:states:::lambda:invoke"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
seen: dict[str, object] = {}


class CardDeclined(Exception):
    pass


@task("invoker-test-context")
def _context(event, context):
    seen["context"] = context
    seen["remaining"] = context.get_remaining_time_in_millis()
    return {"got": event}


@task("invoker-test-raise")
def _raise(event, context):
    raise CardDeclined("over the limit")


@task("invoker-test-async")
async def _async(event, context):
    await asyncio.sleep(0)
    return {"doubled": event["value"] * 2}


@task("invoker-test-async-raise")
async def _async_raise(event, context):
    await asyncio.sleep(0)
    raise CardDeclined("async decline")


@task("invoker-test-echo")
def _echo(event, context):
    return event


@task("invoker-test-bytes")
def _bytes(event, context):
    return b'"HelloWorld!"'


@task("invoker-test-not-json")
def _not_json(event, context):
    return {1, 2}


def command(resource: str, payload, invocation: int = 1, timeout: int | None = None) -> dict:
    return {"kind": "invoke", "path": "3", "invocation": invocation, "resource": resource,
            "payload": payload, "timeout": timeout, "heartbeat": None, "state": "Charge",
            "context": {"State": {"Name": "Charge"}}}


def call(resource: str, payload, **kwargs) -> dict:
    return invoker.invoke(command(resource, payload, **kwargs), ARN, "us-east-1", "123456789012")


def invoke_payload(name: str, payload) -> dict:
    return {"FunctionName": name, "Payload": payload}


# --- the context --------------------------------------------------------------------------------
def test_context_offers_lambdas_names_and_the_execution():
    reply = call(LEGACY + "invoker-test-context", {"a": 1}, timeout=30)
    assert reply == {"kind": "task_result", "path": "3", "invocation": 1, "output": {"got": {"a": 1}}}
    context = seen["context"]
    assert context.function_name == "invoker-test-context"
    assert context.invoked_function_arn == LEGACY + "invoker-test-context"
    assert context.function_version == "$LATEST"
    assert context.log_group_name == "/aws/lambda/invoker-test-context"
    assert context.execution_arn == ARN and context.state_name == "Charge"
    assert context.context_object == {"State": {"Name": "Charge"}}
    assert re.fullmatch(UUID, context.aws_request_id)
    # counts down from the state's TimeoutSeconds
    assert 29_000 < seen["remaining"] <= 30_000


def test_remaining_time_without_a_timeout_is_lambdas_maximum():
    call(LEGACY + "invoker-test-context", {})
    assert seen["remaining"] == invoker.MAX_LAMBDA_MILLIS == 900_000


def test_idempotency_key_is_stable_per_attempt_and_new_per_retry():
    call(LEGACY + "invoker-test-context", {}, invocation=4)
    first = seen["context"].idempotency_key
    call(LEGACY + "invoker-test-context", {}, invocation=4)  # a re-delivery of the same attempt
    assert seen["context"].idempotency_key == first == f"{ARN}#3#4"
    call(LEGACY + "invoker-test-context", {}, invocation=5)  # the next attempt
    assert seen["context"].idempotency_key != first


def test_now_stamps_when_the_answer_came():
    reply = invoker.invoke(command(LEGACY + "invoker-test-echo", 1), ARN, "us-east-1", "123456789012",
                           now=lambda: 1234.5)
    assert reply["at"] == 1234.5 and reply["output"] == 1


# --- errors -------------------------------------------------------------------------------------
def test_an_exception_is_lambdas_error_document_starting_at_the_handlers_frame():
    reply = call(LEGACY + "invoker-test-raise", {})
    assert reply["error"] == "CardDeclined"
    assert reply["cause"].startswith('{"errorMessage": "over the limit", "errorType": "CardDeclined", ')
    cause = json.loads(reply["cause"])
    assert re.fullmatch(UUID, cause["requestId"])
    assert cause["stackTrace"][0].startswith(f'  File "{__file__}", line ')
    assert cause["stackTrace"][0].endswith(', in _raise\n    raise CardDeclined("over the limit")\n')


def test_lambda_invoke_records_the_error_document_without_spaces():
    reply = call(INVOKE, invoke_payload("invoker-test-raise", {}))
    assert reply["error"] == "CardDeclined"
    assert reply["cause"].startswith('{"errorMessage":"over the limit","errorType":"CardDeclined",')


def test_an_unknown_function_fails_with_lambdas_not_found_text():
    reply = call(INVOKE, invoke_payload("no-such-function-anywhere", None))
    assert reply["error"] == "Lambda.ResourceNotFoundException"
    assert re.fullmatch(
        r"Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function-anywhere"
        r":\$LATEST \(Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; "
        rf"Request ID: {UUID}; Proxy: null\)", reply["cause"])


def test_a_result_json_cannot_hold_is_the_runtimes_marshal_error():
    reply = call(LEGACY + "invoker-test-not-json", {})
    assert reply["error"] == "Runtime.MarshalError"
    cause = json.loads(reply["cause"])
    assert cause["errorType"] == "Runtime.MarshalError" and cause["stackTrace"] == []
    assert cause["errorMessage"].startswith("Unable to marshal response: ")


# --- async handlers -----------------------------------------------------------------------------
def test_async_handlers_run_to_their_end():
    assert call(LEGACY + "invoker-test-async", {"value": 21})["output"] == {"doubled": 42}


def test_async_handler_errors_trace_from_the_handler_not_asyncio():
    reply = call(LEGACY + "invoker-test-async-raise", {})
    assert reply["error"] == "CardDeclined"
    frames = json.loads(reply["cause"])["stackTrace"]
    assert len(frames) == 1 and ", in _async_raise\n" in frames[0]


def test_async_handlers_work_from_a_thread_that_runs_an_event_loop():
    async def inside_a_loop():
        return call(LEGACY + "invoker-test-async", {"value": 2})
    assert asyncio.run(inside_a_loop())["output"] == {"doubled": 4}


# --- lambda:invoke's result ---------------------------------------------------------------------
@pytest.mark.parametrize("payload, length", [
    ({"foo": "foo-1"}, 16),  # the Python runtime's json.dumps: ", " and ": " separators
    ({"Input": {"FunctionName": "f", "Payload": {"input-value": 0}}}, 63),
    ("HelloWorld", 12), (0.0, 3), (0, 1), (True, 4), ([], 2),
    ({"name": "Zoë"}, 16),  # python3.12 sends Unicode unescaped: "ë" is two bytes
])
def test_content_length_is_the_size_of_the_body_lambda_sent(payload, length):
    output = call(INVOKE, invoke_payload("invoker-test-echo", payload))["output"]
    assert output["Payload"] == payload
    metadata = output["SdkHttpMetadata"]
    assert metadata["HttpHeaders"]["Content-Length"] == str(length)
    assert metadata["AllHttpHeaders"]["Content-Length"] == [str(length)]


def test_lambda_invoke_wraps_the_result_as_step_functions_does():
    output = call(INVOKE, invoke_payload("invoker-test-echo", {"k": 1}))["output"]
    assert sorted(output) == ["ExecutedVersion", "Payload", "SdkHttpMetadata", "SdkResponseMetadata",
                              "StatusCode"]
    assert output["StatusCode"] == 200 and output["ExecutedVersion"] == "$LATEST"
    metadata = output["SdkHttpMetadata"]
    assert metadata["HttpStatusCode"] == 200
    assert all(metadata["AllHttpHeaders"][k] == [v] for k, v in metadata["HttpHeaders"].items())
    request_id = output["SdkResponseMetadata"]["RequestId"]
    assert metadata["HttpHeaders"]["x-amzn-RequestId"] == request_id and re.fullmatch(UUID, request_id)


def test_bytes_are_sent_as_they_are_and_read_as_json():
    output = call(INVOKE, invoke_payload("invoker-test-bytes", None))["output"]
    assert output["Payload"] == "HelloWorld!"
    assert output["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "13"
    assert call(LEGACY + "invoker-test-bytes", {})["output"] == "HelloWorld!"


def test_lambda_invoke_payload_text_is_the_request_body():
    assert call(INVOKE, invoke_payload("invoker-test-echo", '{"a": 1}'))["output"]["Payload"] == {"a": 1}
    assert call(INVOKE, {"FunctionName": "invoker-test-echo"})["output"]["Payload"] == {}
    qualified = f"{LEGACY}invoker-test-echo:$LATEST"
    assert call(INVOKE, invoke_payload(qualified, [1]))["output"]["Payload"] == [1]
