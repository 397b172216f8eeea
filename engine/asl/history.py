"""AWS's history event shapes: one small builder per family of events.

An event is a pair ``(type, details)`` where ``details`` maps AWS's ``*EventDetails`` member
name to its value (or is empty); the interpreter records it as a history row, adding ``id``,
``previous_event_id`` and ``timestamp``. Payloads are JSON text, as AWS returns them.
"""
from __future__ import annotations

import functools
import json
from json import encoder
from typing import Any

_NOT_TRUNCATED = {"truncated": False}


def _unserialisable(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


# json.dumps(value, separators=(",", ":"), ensure_ascii=False) builds a JSONEncoder and a C
# encoder on every call, which costs as much as encoding a state's small document; this one is
# built once. It keeps no markers (the circular-reference check): JSON values are trees.
_ENCODE = encoder.c_make_encoder(None, _unserialisable, encoder.encode_basestring, None, ":", ",",
                                 False, False, True) if encoder.c_make_encoder else None


def to_json(value: Any) -> str:
    """Compact JSON text, as ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``."""
    if _ENCODE is None:  # no C accelerator
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "".join(_ENCODE(value, 0))


MAX_DEPTH = 512  # arrays and objects within one another in a value a client sends (Jackson allows 1000)


def from_json(text: str) -> Any:
    """The JSON value a client sent as text (execution input, task output).

    ValueError, with the reason, for text that is not JSON, that nests arrays and objects
    deeper than :data:`MAX_DEPTH` (deeper data would overflow the serialisers of the history
    and the store) or that holds a lone surrogate (it has no UTF-8 encoding to store).
    """
    if not isinstance(text, str):
        raise ValueError(f"expected JSON text, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"the text holds a lone surrogate at position {error.start}") from None
    try:
        value = json.loads(text)
    except RecursionError:
        value = None
        too_deep = True
    else:
        too_deep = _deeper_than(value, MAX_DEPTH)
    if too_deep:
        raise ValueError(f"arrays and objects are nested more than {MAX_DEPTH} deep")
    if has_lone_surrogate(value):  # escaped ("\\ud800") ones are only found in the value
        raise ValueError("a string holds a lone surrogate")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def has_lone_surrogate(value: Any) -> bool:
    """True when a string in ``value`` (keys included) holds a lone surrogate: JSON's
    ``"\\ud800"`` escape makes one, and it has no UTF-8 encoding to store or send."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if not node.isascii():
                try:
                    node.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


@functools.lru_cache(maxsize=256)
def _details_name(kind: str) -> str:
    """AWS's member name of an event type's details: MapStateStarted -> mapStateStartedEventDetails."""
    return kind[0].lower() + kind[1:] + "EventDetails"


Event = tuple  # (type, details)


def event(kind: str, details: dict | None = None, details_name: str | None = None) -> Event:
    if details is None:
        return kind, {}
    return kind, {details_name or _details_name(kind): details}


def execution_started(payload: str, role_arn: str) -> Event:
    return event("ExecutionStarted", {"input": payload, "inputDetails": _NOT_TRUNCATED, "roleArn": role_arn})


def execution_succeeded(output: Any, text: str | None = None) -> Event:
    """``text``: ``output`` already serialised (the last state's output), or None."""
    return event("ExecutionSucceeded", {"output": to_json(output) if text is None else text,
                                        "outputDetails": _NOT_TRUNCATED})


def execution_ended(kind: str, error: str | None, cause: str | None) -> Event:
    """ExecutionFailed, ExecutionAborted or ExecutionTimedOut."""
    return event(kind, _error_details(error, cause))


def execution_redriven(redrive_count: int) -> Event:
    return event("ExecutionRedriven", {"redriveCount": redrive_count})


def _error_details(error: str | None, cause: str | None) -> dict:
    details = {}
    if error is not None:
        details["error"] = error
    if cause is not None:
        details["cause"] = cause
    return details


# The events of every state visited are built in one go, without event(): they are most of a history.

def state_entered(kind: str, name: str, value: Any, text: str | None = None) -> Event:
    """``kind``: PassStateEntered, TaskStateEntered ...; ``text``: ``value`` already serialised
    (the previous state's output), or None."""
    details = {"name": name, "input": to_json(value) if text is None else text,
               "inputDetails": _NOT_TRUNCATED}
    return kind, {"stateEnteredEventDetails": details}


def state_exited(kind: str, name: str, value: Any, assigned: dict | None = None,
                 text: str | None = None) -> Event:
    """``kind``: PassStateExited ...; ``assigned``: the variables the state's Assign set (AWS
    records each as JSON text); ``text``: ``value`` already serialised, or None."""
    details = {"name": name, "output": to_json(value) if text is None else text,
               "outputDetails": _NOT_TRUNCATED}
    if assigned:
        details["assignedVariables"] = {key: to_json(item) for key, item in assigned.items()}
        details["assignedVariablesDetails"] = _NOT_TRUNCATED
    return kind, {"stateExitedEventDetails": details}


def evaluation_failed(state: str, error: str, cause: str | None, location: str | None) -> Event:
    """A JSONata-era field evaluation failed (States.QueryEvaluationError), before Retry/Catch."""
    details = {**_error_details(error, cause), "state": state}
    if location is not None:
        details["location"] = location
    return event("EvaluationFailed", details)


def map_started(length: int) -> Event:
    return event("MapStateStarted", {"length": length})


def map_iteration(outcome: str, name: str, index: int) -> Event:
    """MapIterationStarted / Succeeded / Failed / Aborted."""
    kind, details_name = _MAP_ITERATION_EVENTS[outcome]
    return kind, {details_name: {"name": name, "index": index}}


_MAP_ITERATION_EVENTS = {outcome: (f"MapIteration{outcome}", f"mapIteration{outcome}EventDetails")
                         for outcome in ("Started", "Succeeded", "Failed", "Aborted")}


def map_run_started(map_run_arn: str) -> Event:
    return event("MapRunStarted", {"mapRunArn": map_run_arn})


def map_run_failed(error: str | None, cause: str | None) -> Event:
    return event("MapRunFailed", _error_details(error, cause))


def bare(kind: str) -> Event:
    """ParallelStateStarted, ParallelStateSucceeded, MapStateSucceeded, LambdaFunctionStarted ..."""
    return event(kind)


# --- tasks -----------------------------------------------------------------------------------
def task_scheduled(resource_type: str, resource: str, region: str, parameters: Any,
                   timeout: int | None, heartbeat: int | None) -> Event:
    details = {"resourceType": resource_type, "resource": resource, "region": region,
               "parameters": to_json(parameters)}
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        details["heartbeatInSeconds"] = heartbeat
    return event("TaskScheduled", details)


def task_started(resource_type: str, resource: str) -> Event:
    return event("TaskStarted", {"resourceType": resource_type, "resource": resource})


def task_succeeded(resource_type: str, resource: str, output: Any) -> Event:
    return event("TaskSucceeded", {"resourceType": resource_type, "resource": resource,
                                   "output": to_json(output), "outputDetails": _NOT_TRUNCATED})


def task_ended(kind: str, resource_type: str, resource: str, error: str | None, cause: str | None) -> Event:
    """TaskFailed, TaskTimedOut, TaskSubmitFailed, TaskStartFailed."""
    return event(kind, {"resourceType": resource_type, "resource": resource, **_error_details(error, cause)})


def lambda_scheduled(resource: str, payload: Any, timeout: int | None) -> Event:
    details = {"resource": resource, "input": to_json(payload), "inputDetails": _NOT_TRUNCATED}
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    return event("LambdaFunctionScheduled", details)


def lambda_succeeded(output: Any) -> Event:
    return event("LambdaFunctionSucceeded", {"output": to_json(output), "outputDetails": _NOT_TRUNCATED})


def lambda_ended(kind: str, error: str | None, cause: str | None) -> Event:
    """LambdaFunctionFailed, LambdaFunctionTimedOut, LambdaFunctionStartFailed."""
    return event(kind, _error_details(error, cause))


def task_submitted(resource_type: str, resource: str, output: Any) -> Event:
    return event("TaskSubmitted", {"resourceType": resource_type, "resource": resource,
                                   "output": to_json(output), "outputDetails": _NOT_TRUNCATED})


# --- activities ------------------------------------------------------------------------------
def activity_scheduled(resource: str, payload: Any, timeout: int | None, heartbeat: int | None) -> Event:
    details = {"resource": resource, "input": to_json(payload), "inputDetails": _NOT_TRUNCATED}
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        details["heartbeatInSeconds"] = heartbeat
    return event("ActivityScheduled", details)


def activity_started(worker_name: str | None) -> Event:
    return event("ActivityStarted", {"workerName": worker_name} if worker_name else {})


def activity_succeeded(output: Any) -> Event:
    return event("ActivitySucceeded", {"output": to_json(output), "outputDetails": _NOT_TRUNCATED})


def activity_ended(kind: str, error: str | None, cause: str | None) -> Event:
    """ActivityFailed, ActivityTimedOut, ActivityScheduleFailed."""
    return event(kind, _error_details(error, cause))
