"""``arn:aws:states:::events:putEvents`` (and ``.waitForTaskToken``): a workflow publishes events.

As AWS's optimized integration does, the execution's and the state machine's ARNs are appended
to each entry's ``Resources``, an object ``Detail`` is sent as JSON text, and a non-zero
``FailedEntryCount`` fails the task with ``EventBridge.FailedEntry``. Event ids derive from the
task attempt, so a task sent again after a crash publishes nothing twice.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from engine.asl.tasks import describe_resource

FAILED_ENTRY = "EventBridge.FailedEntry"


def is_put_events(resource: str) -> bool:
    found = describe_resource(resource)
    return found.service == "events" and found.action.removesuffix(found.pattern) == "putEvents"


def task_entries(payload: Any, execution_arn: str, state_machine_arn: str) -> list:
    """The PutEvents entries of a task's parameters, completed as AWS completes them."""
    entries = payload.get("Entries") if isinstance(payload, dict) else None
    if not isinstance(entries, list):
        return entries  # PutEvents' own validation names the problem
    completed = []
    for entry in entries:
        if not isinstance(entry, dict):
            completed.append({})
            continue
        entry = dict(entry)
        if "Detail" in entry and not isinstance(entry["Detail"], str):
            entry["Detail"] = json.dumps(entry["Detail"], separators=(",", ":"), ensure_ascii=False)
        entry["Resources"] = list(entry.get("Resources") or []) + [execution_arn, state_machine_arn]
        completed.append(entry)
    return completed


def event_ids(execution_arn: str, command: dict, count: int) -> list[str]:
    attempt = f"{execution_arn}#{command['path']}#{command['invocation']}"
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{attempt}#{index}")) for index in range(count)]


def reply(command: dict, answer: dict) -> dict:
    """The message for the task: the PutEvents answer, or EventBridge.FailedEntry."""
    message = {"kind": "task_result", "path": command["path"], "invocation": command["invocation"]}
    if answer.get("FailedEntryCount"):
        return {**message, "error": FAILED_ENTRY,
                "cause": json.dumps(answer, separators=(",", ":"), ensure_ascii=False)}
    if describe_resource(command["resource"]).pattern:
        message["kind"] = "task_submitted"  # the answer comes later, to the task token
    return {**message, "output": answer}
