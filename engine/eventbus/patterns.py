"""STAND-IN (branch ``bus``): exact-value matching only, until the real matcher lands.

The event-pattern engineer owns this module; at the merge take THEIR version of this file
and of ``index.py``. Interface kept: :func:`compile_pattern` -> :class:`Pattern` with
``matches(event)``, :func:`check_event`. Supported here: nested objects and lists of exact
values (strings, numbers, booleans, null); anything else is InvalidEventPattern.
"""
from __future__ import annotations

import json
from typing import Any

from engine.errors import InvalidEventPattern, ValidationException

_REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


class Pattern:
    def __init__(self, document: dict):
        self.document = document

    def matches(self, event: dict) -> bool:
        return _matches(self.document, event)


def compile_pattern(pattern: str | dict) -> Pattern:
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError as error:
            raise InvalidEventPattern(f"Event pattern is not valid. Reason: {error}") from None
    if not isinstance(pattern, dict):
        raise InvalidEventPattern("Event pattern is not valid. Reason: Filter is not an object")
    _check(pattern)
    return Pattern(pattern)


def _check(node: dict) -> None:
    for key, value in node.items():
        if isinstance(value, dict):
            _check(value)
        elif isinstance(value, list):
            if not value:
                raise InvalidEventPattern("Event pattern is not valid. Reason: Empty arrays are not allowed")
            if any(isinstance(v, (dict, list)) for v in value):
                raise InvalidEventPattern(
                    f"Event pattern is not valid. Reason: stand-in matcher: only exact values ({key})")
        else:
            raise InvalidEventPattern(
                f"Event pattern is not valid. Reason: \"{key}\" must be an object or an array")


def _matches(pattern: dict, event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    for key, want in pattern.items():
        if key not in event:
            return False
        have = event[key]
        if isinstance(want, dict):
            if not _matches(want, have):
                return False
            continue
        values = have if isinstance(have, list) else [have]
        if not any(_same(v, w) for v in values for w in want):
            return False
    return True


def _same(have: Any, want: Any) -> bool:
    return type(have) is type(want) and have == want or (
        isinstance(have, (int, float)) and isinstance(want, (int, float))
        and not isinstance(have, bool) and not isinstance(want, bool) and have == want)


def check_event(event_text: str) -> dict:
    try:
        event = json.loads(event_text)
    except ValueError:
        raise ValidationException("Parameter Event is not valid.") from None
    if not isinstance(event, dict) or any(f not in event for f in _REQUIRED_EVENT_FIELDS):
        raise ValidationException("Parameter Event is not valid.")
    return event
