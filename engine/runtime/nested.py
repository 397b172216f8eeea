"""Nested executions: ``arn:aws:states:::states:startExecution`` and its ``.sync``,
``.sync:2`` and ``.waitForTaskToken`` forms, with AWS's output shapes.

A child started by a ``.sync`` task carries a link to its parent (execution, path, invocation,
pattern) in its snapshot. When the child ends, the executor commits the child's last step and
the parent's answer in one transaction (``child_finished``), so the answer cannot be lost. A
child started without a name gets one derived from the parent's task, so starting it again
after a crash finds the same child instead of starting a second one.
"""
from __future__ import annotations

import json
import uuid
from email.utils import formatdate
from typing import TYPE_CHECKING, Any

from engine import errors
from engine.asl.tasks import describe_resource
from engine.runtime import sdk

if TYPE_CHECKING:
    from engine.service import Engine

SYNC_PATTERNS = (".sync", ".sync:2")


def is_start_execution(resource: str) -> bool:
    found = describe_resource(resource)
    return found.service == "states" and found.action.startswith("startExecution")


def start_child(engine: "Engine", command: dict, parent_arn: str) -> list[dict]:
    """Start the child of a startExecution task; the replies for the parent's path."""
    reply = {"path": command["path"], "invocation": command["invocation"]}
    pattern = describe_resource(command["resource"]).pattern
    payload = command["payload"] if isinstance(command["payload"], dict) else {}
    name = payload.get("Name") or str(uuid.uuid5(
        uuid.NAMESPACE_URL, f"{parent_arn}/{command['path']}/{command['invocation']}"))
    link = {"arn": parent_arn, "path": command["path"], "invocation": command["invocation"],
            "pattern": pattern}
    try:
        started = engine.start_child_execution(
            str(payload.get("StateMachineArn", "")), name, _input_text(payload.get("Input")), link)
    except errors.ApiError as error:
        return [{**reply, "kind": "task_result", **_sdk_error(error)}]
    replies = [{**reply, "kind": "task_submitted" if pattern else "task_result",
                "output": start_output(started["executionArn"], started["startDate"])}]
    finished = started.get("finished")
    if finished is not None and pattern in SYNC_PATTERNS:
        replies.append(child_result(link, finished))
    return replies


def child_finished(engine: "Engine", snapshot: dict, columns: dict) -> list[tuple[str, dict]]:
    """The parent's answer (a post for its inbox) when a ``.sync`` child ends."""
    link = snapshot["parent"]
    if link.get("pattern") not in SYNC_PATTERNS:
        return []  # the parent waits for a task token, not for this execution's end
    row = engine.store.get_execution(snapshot["context"]["Execution"]["Id"]) or {}
    return [(link["arn"], child_result(link, {**row, **columns}))]


# --- AWS's shapes --------------------------------------------------------------------------------
def _input_text(value: Any) -> str:
    """StartExecution's Input: a JSON string is passed as is; anything else is serialised."""
    if value is None:
        return "{}"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def start_output(execution_arn: str, start_date: float) -> dict:
    """What StartExecution answers inside a workflow: the API response plus SDK metadata."""
    body = {"executionArn": execution_arn, "startDate": start_date}
    return {"ExecutionArn": execution_arn, "StartDate": _millis(start_date),
            **sdk_metadata(len(json.dumps(body)), "application/x-amz-json-1.0")}


def sdk_metadata(content_length: int, content_type: str) -> dict:
    """``SdkHttpMetadata`` and ``SdkResponseMetadata`` as AWS's Java SDK reports them."""
    request_id = str(uuid.uuid4())
    date = formatdate(usegmt=True)
    headers = {"x-amzn-RequestId": request_id, "connection": "keep-alive",
               "Content-Length": str(content_length), "Date": date, "Content-Type": content_type}
    return sdk.response_metadata(headers, request_id)


def child_result(link: dict, row: dict) -> dict:
    """The parent's answer when a ``.sync`` child ends (``row``: its executions columns)."""
    structured = link["pattern"] == ".sync:2"
    described = {"ExecutionArn": row["arn"], "Input": _document(row.get("input"), structured),
                 "InputDetails": {"Included": True}, "Name": row["name"],
                 "StartDate": _millis(row["start_date"]),
                 "StateMachineArn": row["state_machine_arn"], "Status": row["status"],
                 "StopDate": _millis(row["stop_date"])}
    message = {"kind": "task_result", "path": link["path"], "invocation": link["invocation"],
               "direct": True}
    if row["status"] == "SUCCEEDED":
        described["Output"] = _document(row.get("output"), structured)
        described["OutputDetails"] = {"Included": True}
        return {**message, "output": described}
    failure = {key: row[column] for key, column in (("Error", "error"), ("Cause", "cause"))
               if row.get(column) is not None}
    cause = json.dumps({**failure, **described}, separators=(",", ":"), ensure_ascii=False)
    return {**message, "error": "States.TaskFailed", "cause": cause}


def _document(text: str | None, structured: bool) -> Any:
    if not structured or text is None:
        return text
    return json.loads(text)


def _millis(epoch: float | None) -> int | None:
    return None if epoch is None else int(round(epoch * 1000))


def _sdk_error(error: errors.ApiError) -> dict:
    """A failed API call as AWS's SDK integrations report it."""
    code = error.code
    return {"error": f"StepFunctions.{code}Exception",
            "cause": f"{error} (Service: AWSStepFunctions; Status Code: {error.status}; "
                     f"Error Code: {code}; Request ID: {uuid.uuid4()}; Proxy: null)"}
