"""Carry out an ``invoke`` command: call the Python handler, answer with AWS Lambda's shapes.

The answer is a message for the interpreter: ``{"kind": "task_result", "path", "invocation",
"output"}`` or ``{..., "error", "cause"}``. A handler's exception becomes AWS Lambda's error:
the class name is the error and the cause is Lambda's JSON (errorMessage, errorType,
requestId, stackTrace).
"""
from __future__ import annotations

import asyncio
import inspect
import json
import time
import traceback
import uuid
from email.utils import formatdate
from dataclasses import dataclass, field
from typing import Any

from engine.asl.tasks import describe_resource, function_name
from engine.runtime import connections, handlers, http_task
from engine.settings import Settings


@dataclass
class LambdaContext:
    """What a handler's ``context`` argument offers (the Lambda Python context's names)."""

    function_name: str
    aws_request_id: str
    execution_arn: str
    state_name: str
    idempotency_key: str  # stable across re-deliveries of the same attempt
    deadline: float | None = None
    invoked_function_arn: str = ""
    context_object: dict = field(default_factory=dict)

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline is None:
            return 900_000  # Lambda's own maximum: 15 minutes
        return max(0, int((self.deadline - time.time()) * 1000))


def invoke(command: dict, execution_arn: str, region: str, account: str,
           settings: Settings | None = None) -> dict:
    """Run one invoke command to its end and return the task_result message."""
    reply = {"kind": "task_result", "path": command["path"], "invocation": command["invocation"]}
    try:
        reply["output"] = _call(command, execution_arn, region, account, settings)
        if describe_resource(command["resource"], region, account).pattern:
            reply["kind"] = "task_submitted"  # the answer comes later, to the task token
    except (TaskError, http_task.TaskFailure) as failure:
        reply["error"], reply["cause"] = failure.error, failure.cause
    return reply


class TaskError(Exception):
    def __init__(self, error: str, cause: str | None):
        super().__init__(error)
        self.error, self.cause = error, cause


def _call(command: dict, execution_arn: str, region: str, account: str,
          settings: Settings | None = None) -> Any:
    resource = describe_resource(command["resource"], region, account)
    payload = command["payload"]
    if resource.service == "http" and resource.action == "invoke":
        return http_task.invoke(payload, region, connections.config(settings))
    if resource.legacy_lambda:
        return _run_handler(resource.name, payload, command, execution_arn, resource.arn)
    if resource.service == "lambda" and resource.action in ("invoke", "invoke.waitForTaskToken"):
        if not isinstance(payload, dict) or "FunctionName" not in payload:
            raise TaskError("States.Runtime", "The lambda:invoke integration needs Parameters.FunctionName")
        name = function_name(str(payload["FunctionName"]))
        result = _run_handler(name, _invoke_event(payload.get("Payload")), command, execution_arn,
                              f"arn:aws:lambda:{region}:{account}:function:{name}", compact_errors=True)
        return _invoke_response(result)
    # any other integration (sqs:sendMessage, sns:publish, ...) is served by a handler
    # registered under "service:action", e.g. @task("sqs:sendMessage")
    integration = f"{resource.service}:{resource.action.removesuffix(resource.pattern)}"
    if resource.kind == "integration" and handlers.lookup(integration) is not None:
        return _run_handler(integration, payload, command, execution_arn, command["resource"])
    raise TaskError("States.Runtime",
                    f"The resource '{command['resource']}' is not supported by this engine; "
                    f"register a Python handler with @task(\"{integration}\") to serve it, or call "
                    f"one as arn:aws:lambda:{region}:{account}:function:NAME")


def _invoke_event(payload: Any) -> Any:
    """lambda:invoke sends a string Payload as the raw request body (JSON text); none sends {}."""
    if payload is None:
        return {}
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except ValueError:
            return payload
    return payload


def _run_handler(name: str, event: Any, command: dict, execution_arn: str, arn: str,
                 compact_errors: bool = False) -> Any:
    handler = handlers.lookup(name)
    request_id = str(uuid.uuid4())
    if handler is None:
        raise TaskError("Lambda.ResourceNotFoundException",
                        f"Function not found: {arn}:$LATEST (Service: AWSLambda; Status Code: 404; "
                        f"Error Code: ResourceNotFoundException; no handler is registered under "
                        f"'{name}': load one with --handlers)")
    timeout = command.get("timeout")
    context = LambdaContext(
        function_name=name, aws_request_id=request_id, execution_arn=execution_arn,
        state_name=command.get("state", ""), invoked_function_arn=arn,
        idempotency_key=f"{execution_arn}#{command['path']}#{command['invocation']}",
        deadline=time.time() + timeout if timeout else None,
        context_object=command.get("context") or {})
    try:
        result = handler(event, context)
        if inspect.isawaitable(result):
            result = asyncio.run(_await(result))
    except Exception as exc:  # noqa: BLE001 - any handler error is the task's failure
        raise TaskError(type(exc).__name__, _lambda_cause(exc, request_id, compact_errors)) from None
    return _to_json_value(result)


async def _await(awaitable):
    return await awaitable


def _lambda_cause(exc: Exception, request_id: str, compact: bool) -> str:
    """Lambda's error document; the lambda:invoke integration records it without spaces."""
    frames = traceback.format_tb(exc.__traceback__)[1:]  # drop the invoker's own frame
    document = {"errorMessage": str(exc), "errorType": type(exc).__name__,
                "requestId": request_id, "stackTrace": frames}
    return json.dumps(document, separators=(",", ":") if compact else None)


def _to_json_value(result: Any) -> Any:
    """What the Lambda Python runtime sends back: JSON of the value; bytes are sent as they are."""
    if isinstance(result, (bytes, bytearray)):
        text = bytes(result).decode("utf-8", errors="replace")
        try:
            return json.loads(text)
        except ValueError:
            return text
    try:
        return json.loads(json.dumps(result))
    except (TypeError, ValueError) as exc:
        raise TaskError("Lambda.Unknown", f"Unable to marshal response: {exc}") from None


def _invoke_response(payload: Any) -> dict:
    """The lambda:invoke integration's result, as Step Functions wraps it."""
    request_id = str(uuid.uuid4())
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Connection": "keep-alive", "Content-Length": str(len(body)),
               "Content-Type": "application/json", "Date": formatdate(usegmt=True),
               "X-Amz-Executed-Version": "$LATEST", "x-amzn-Remapped-Content-Length": "0",
               "x-amzn-RequestId": request_id,
               "X-Amzn-Trace-Id": f"root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};sampled=0"}
    return {"ExecutedVersion": "$LATEST", "Payload": payload,
            "SdkHttpMetadata": {"AllHttpHeaders": {k: [v] for k, v in headers.items()},
                                "HttpHeaders": headers, "HttpStatusCode": 200},
            "SdkResponseMetadata": {"RequestId": request_id}, "StatusCode": 200}
