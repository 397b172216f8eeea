"""Reading a state's numeric, time and text fields: literal, ``*Path`` or JSONata expression.

Pure helpers of the interpreter. Each raises the ASL failure AWS records (``States.Runtime``
with AWS's message, or JSONata's ``States.QueryEvaluationError``) when a value is unusable.
"""
from __future__ import annotations

from typing import Any

from engine.asl import dataflow, failures, history, intrinsics, jsonata, jsonpath, timestamps
from engine.asl.failures import Failure
from engine.asl.model import JSONATA
from engine.asl.scope import Scope


def state_error(scope: Scope, message: str) -> str:
    return (f"An error occurred while executing the state '{scope.state_name}' "
            f"(entered at the event id #{scope.entered_event_id}). {message}")




def fail_field(state: dict, name: str, value: Any, scope: Scope) -> str | None:
    if name in state:
        found = dataflow.field_value(state, name, value, scope)
        if not isinstance(found, str):
            raise jsonata.unexpected_type(scope, state[name], name, "string", found)
        return found
    path = state.get(name + "Path")
    if path is None:
        return None
    if intrinsics.is_intrinsic(path):
        result = intrinsics.evaluate(path, value, scope)
    else:
        result = jsonpath.select(path, value, scope, name + "Path")
    return result if isinstance(result, str) else history.to_json(result)


def resolve_value(expression: str, value: Any, scope: Scope, field_name: str) -> Any:
    """A ``*Path`` field's value: a path, or (where AWS allows) an intrinsic function."""
    if intrinsics.is_intrinsic(expression):
        return intrinsics.evaluate(expression, value, scope)
    try:
        return jsonpath.resolve(expression, value, scope)
    except jsonpath.NoMatch:
        raise Failure(failures.RUNTIME, state_error(
            scope, f"The {field_name} parameter does not reference an input value: {expression}"))


def wait_until(state: dict, value: Any, entered_at: float, scope: Scope) -> float:
    if scope.language == JSONATA and ("Seconds" in state or "Timestamp" in state):
        return jsonata_wait_until(state, value, entered_at, scope)
    if "Seconds" in state:
        return entered_at + float(state["Seconds"])
    if "Timestamp" in state:
        return timestamp_epoch(state["Timestamp"], "Timestamp", state["Timestamp"], scope)
    if "SecondsPath" in state:
        path = state["SecondsPath"]
        seconds = resolve_value(path, value, scope, "SecondsPath")
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise Failure(failures.RUNTIME, state_error(
                scope, f"The SecondsPath parameter cannot be parsed as a long value: "
                       f"{path} == {history.to_json(seconds)}"))
        if seconds < 0:
            raise Failure(failures.RUNTIME, state_error(
                scope, f"The SecondsPath parameter references a negative value: {path} == {seconds}"))
        return entered_at + seconds
    path = state["TimestampPath"]
    text = resolve_value(path, value, scope, "TimestampPath")
    return timestamp_epoch(text, "TimestampPath", path, scope)


def jsonata_wait_until(state: dict, value: Any, entered_at: float, scope: Scope) -> float:
    """A JSONata Wait: Seconds or Timestamp, each a literal or an expression."""
    if "Seconds" in state:
        seconds = dataflow.field_value(state, "Seconds", value, scope)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            # only an expression can give a bad value: validation checks literal Seconds
            raise jsonata.unexpected_type(scope, state["Seconds"], "Seconds", "non-negative integer", seconds)
        return entered_at + seconds
    text = dataflow.field_value(state, "Timestamp", value, scope)
    moment = timestamps.parse(text)
    if moment is None:
        shown = text if isinstance(text, str) else history.to_json(text)
        raise jsonata.query_failure(scope, "The Timestamp field cannot be parsed as an ISO-8601 extended "
                                           f"offset date-time format string: {shown}", "Timestamp")
    return timestamps.to_epoch(moment)


def timestamp_epoch(text: Any, field_name: str, where: str, scope: Scope) -> float:
    moment = timestamps.parse(text)
    if moment is None:
        shown = text if isinstance(text, str) else history.to_json(text)
        raise Failure(failures.RUNTIME, state_error(
            scope, f"The {field_name} parameter does not reference a valid ISO-8601 extended "
                   f"offset date-time format string: {where} == {shown}"))
    return timestamps.to_epoch(moment)


def int_field(state: dict, name: str, value: Any, scope: Scope) -> int | None:
    return numeric_field(state, name, value, scope, (int,), "integer")


def number_field(state: dict, name: str, value: Any, scope: Scope) -> float | None:
    found = numeric_field(state, name, value, scope, (int, float), "number")
    return None if found is None else float(found)


def numeric_field(state: dict, name: str, value: Any, scope: Scope, kinds: tuple, kind_name: str):
    """``name`` (a JSONata expression's value, in JSONata states) or the value ``namePath``
    points at, which must be a JSON number of ``kinds``."""
    if name in state:
        found = dataflow.field_value(state, name, value, scope)
        if found is not state[name] and (isinstance(found, bool) or not whole(found, kinds)):
            raise jsonata.unexpected_type(scope, state[name], name, kind_name, found)
        return int(found) if kinds == (int,) else found
    path = state.get(name + "Path")
    if path is None:
        return None
    found = resolve_value(path, value, scope, name + "Path")
    if isinstance(found, bool) or not isinstance(found, kinds):
        shown = found if isinstance(found, str) else history.to_json(found)
        raise Failure(failures.RUNTIME, state_error(
            scope, f'The {name}Path field refers to value "{shown}" which is not a valid {kind_name}: {path}'))
    return found


def whole(found: Any, kinds: tuple) -> bool:
    """A number of ``kinds``; a JSONata integer may come back as a float like 2.0."""
    if kinds == (int,) and isinstance(found, float):
        return found.is_integer()
    return isinstance(found, kinds)


def seconds_field(state: dict, name: str, value: Any, scope: Scope) -> int | None:
    seconds = int_field(state, name, value, scope)
    if seconds is not None and seconds <= 0:
        raise Failure(failures.RUNTIME, state_error(
            scope, f"The {name} value must be a positive integer, got {seconds}"))
    return seconds
