"""Carry out an ``invoke`` command: call the Python handler, answer with AWS Lambda's shapes.

The answer is a message for the interpreter: ``{"kind": "task_result", "path", "invocation",
"output"}`` or ``{..., "error", "cause"}``, plus ``at`` (when the handler returned) if the caller
passes its clock: the interpreter ignores an answer that came at or after the task's
TimeoutSeconds, whose due time has already failed the task with States.Timeout. A handler's
exception becomes AWS Lambda's error: the class name is the error and the cause is Lambda's
JSON (errorMessage, errorType, requestId, stackTrace).

Handlers may be plain functions or ``async def``; a coroutine runs to its end on its own event
loop in the calling (pool) thread.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Callable

from engine.asl.tasks import describe_resource, function_name
from engine.runtime import connections, handlers, sdk
from engine.settings import Settings

logger = logging.getLogger(__name__)

# frames of these modules above a handler's own are the machinery that ran it, not its trace
_MACHINERY = (f"{os.sep}asyncio{os.sep}", f"{os.sep}concurrent{os.sep}futures{os.sep}",
              f"{os.sep}threading.py")
MAX_LAMBDA_MILLIS = 900_000  # Lambda's own limit on one invocation: 15 minutes


@dataclass
class LambdaContext:
    """What a handler's ``context`` argument offers: the Lambda Python context's names, plus
    Step Functions' own (``execution_arn``, ``state_name``, ``context_object``: ``$$``).

    ``idempotency_key`` is ``EXECUTION_ARN#PATH#INVOCATION``: the same for every delivery of one
    attempt (a task answer lost in a crash is asked for again with it), different for each
    retry, so a handler with side effects can deduplicate on it.
    ``get_remaining_time_in_millis()`` counts down from the state's TimeoutSeconds (or
    TimeoutSecondsPath), as Lambda counts down from the function's timeout.
    """

    function_name: str
    aws_request_id: str
    execution_arn: str
    state_name: str
    idempotency_key: str  # stable across re-deliveries of the same attempt
    deadline: float | None = None  # epoch seconds (wall clock): when the task times out
    invoked_function_arn: str = ""
    context_object: dict = field(default_factory=dict)
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = "128"  # a string, as the Python runtime gives it
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline is None:
            return MAX_LAMBDA_MILLIS
        return max(0, int((self.deadline - time.time()) * 1000))


def invoke(command: dict, execution_arn: str, region: str, account: str,
           settings: Settings | None = None, now: Callable[[], float] | None = None) -> dict:
    """Run one invoke command to its end and return the task_result message.

    ``now`` (the caller's clock) stamps the answer with ``at``, so a late answer is ignored.
    """
    reply = {"kind": "task_result", "path": command["path"], "invocation": command["invocation"]}
    try:
        reply["output"] = _call(command, execution_arn, region, account, settings)
        if describe_resource(command["resource"], region, account).pattern:
            reply["kind"] = "task_submitted"  # the answer comes later, to the task token
    except TaskError as failure:
        reply["error"], reply["cause"] = failure.error, failure.cause
    if now is not None:
        reply["at"] = now()
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
        # imported here: http.client, urllib and the module cost start-up (`stepstone run`) ~8 ms
        from engine.runtime import http_task

        try:
            return http_task.invoke(payload, region, connections.config(settings))
        except http_task.TaskFailure as failure:
            raise TaskError(failure.error, failure.cause) from None
    if resource.legacy_lambda:
        return _run_handler(resource.name, payload, command, execution_arn, resource.arn)[0]
    if resource.service == "lambda" and resource.action in ("invoke", "invoke.waitForTaskToken"):
        if not isinstance(payload, dict) or "FunctionName" not in payload:
            raise TaskError("States.Runtime", "The lambda:invoke integration needs Parameters.FunctionName")
        name = function_name(str(payload["FunctionName"]))
        result, body = _run_handler(name, _invoke_event(payload.get("Payload")), command, execution_arn,
                                    f"arn:aws:lambda:{region}:{account}:function:{name}", compact_errors=True)
        return _invoke_response(result, body)
    # any other integration (sqs:sendMessage, sns:publish, ...) is served by a handler
    # registered under "service:action", e.g. @task("sqs:sendMessage")
    integration = f"{resource.service}:{resource.action.removesuffix(resource.pattern)}"
    if resource.kind == "integration" and handlers.lookup(integration) is not None:
        return _run_handler(integration, payload, command, execution_arn, command["resource"])[0]
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
                 compact_errors: bool = False) -> tuple[Any, bytes]:
    """Call the handler: its result as a JSON value, and the response body Lambda sends."""
    handler = handlers.lookup(name)
    request_id = str(uuid.uuid4())
    if handler is None:
        logger.warning("no handler is registered under %r: load one with --handlers "
                       "(registered: %s)", name, ", ".join(handlers.registered()) or "none",
                       extra={"executionArn": execution_arn, "stateName": command.get("state")})
        raise TaskError("Lambda.ResourceNotFoundException",
                        f"Function not found: {arn}:$LATEST (Service: AWSLambda; Status Code: 404; "
                        f"Error Code: ResourceNotFoundException; Request ID: {uuid.uuid4()}; Proxy: null)")
    timeout = command.get("timeout")
    context = LambdaContext(
        function_name=name, aws_request_id=request_id, execution_arn=execution_arn,
        state_name=command.get("state", ""), invoked_function_arn=arn,
        idempotency_key=f"{execution_arn}#{command['path']}#{command['invocation']}",
        deadline=time.time() + timeout if timeout else None,
        context_object=command.get("context") or {},
        log_group_name=f"/aws/lambda/{name}",
        log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}")
    try:
        result = handler(event, context)
        if inspect.isawaitable(result):
            result = _run_coroutine(result)
    except Exception as exc:  # noqa: BLE001 - any handler error is the task's failure
        raise TaskError(type(exc).__name__, _lambda_cause(exc, request_id, compact_errors)) from None
    try:
        return _response(result)
    except (TypeError, ValueError) as exc:  # what the Python runtime reports for such a result
        document = {"errorMessage": f"Unable to marshal response: {exc}",
                    "errorType": "Runtime.MarshalError", "requestId": request_id, "stackTrace": []}
        raise TaskError("Runtime.MarshalError", json.dumps(
            document, separators=(",", ":") if compact_errors else None)) from None


def _run_coroutine(awaitable: Any) -> Any:
    """Run an async handler's awaitable to its end, on a fresh loop (in a helper thread when
    the calling thread already runs a loop, where ``asyncio.run`` is not allowed)."""
    async def main():
        return await awaitable
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(1, thread_name_prefix="stepstone-async-task") as helper:
        return helper.submit(asyncio.run, main()).result()


def _lambda_cause(exc: Exception, request_id: str, compact: bool) -> str:
    """Lambda's error document; the lambda:invoke integration records it without spaces."""
    frames = traceback.format_list(_handler_frames(exc.__traceback__))
    document = {"errorMessage": str(exc), "errorType": type(exc).__name__,
                "requestId": request_id, "stackTrace": frames}
    return json.dumps(document, separators=(",", ":") if compact else None)


def _handler_frames(tb: Any) -> list:
    """The traceback from the handler's own frame on, without the invoker's and asyncio's."""
    entries = traceback.extract_tb(tb)
    while entries and (entries[0].filename == __file__
                       or any(part in entries[0].filename for part in _MACHINERY)):
        entries.pop(0)
    return entries


def _response(result: Any) -> tuple[Any, bytes]:
    """What the Lambda Python runtime sends back, and the value Step Functions reads from it.

    The body is ``json.dumps`` of the value with its default separators and, as from
    python3.12, unescaped Unicode; bytes are sent as they are (and read as JSON if they are).
    """
    if isinstance(result, (bytes, bytearray)):
        body = bytes(result)
        text = body.decode("utf-8", errors="replace")
        try:
            return json.loads(text), body
        except ValueError:
            return text, body
    text = json.dumps(result, ensure_ascii=False)
    return json.loads(text), text.encode()


def _invoke_response(payload: Any, body: bytes) -> dict:
    """The lambda:invoke integration's result, as Step Functions wraps it."""
    request_id = str(uuid.uuid4())
    headers = {"Connection": "keep-alive", "Content-Length": str(len(body)),
               "Content-Type": "application/json", "Date": formatdate(usegmt=True),
               "X-Amz-Executed-Version": "$LATEST", "x-amzn-Remapped-Content-Length": "0",
               "x-amzn-RequestId": request_id,
               "X-Amzn-Trace-Id": f"root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};sampled=0"}
    return {"ExecutedVersion": "$LATEST", "Payload": payload,
            **sdk.response_metadata(headers, request_id), "StatusCode": 200}
