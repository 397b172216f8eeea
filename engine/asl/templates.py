"""Payload templates of the JSONPath query language: Parameters, ItemSelector, ResultSelector.

A template is copied as is, except that a key ending in ``.$`` loses the suffix and its value,
a string, is evaluated: an intrinsic call, a ``$`` path against the state's data or a ``$$``
path against the context object. Arrays are walked element by element.
"""
from __future__ import annotations

from typing import Any

from engine.asl import intrinsics, jsonpath
from engine.asl.scope import Scope


def render(template: Any, data: Any, scope: Scope, field: str) -> Any:
    """The payload ``template`` builds from ``data``; ``field`` names the template in messages."""
    if isinstance(template, dict):
        return {
            key[:-2] if key.endswith(".$") else key: (
                _evaluate(key, value, data, scope, field) if key.endswith(".$") else render(value, data, scope, field)
            )
            for key, value in template.items()
        }
    if isinstance(template, list):
        return [render(item, data, scope, field) for item in template]
    return template


def _evaluate(key: str, expression: Any, data: Any, scope: Scope, field: str) -> Any:
    if not isinstance(expression, str):
        raise scope.runtime_failure(
            f"The value of the field '{key}' in {field} must be a string holding a JSONPath or an "
            f"intrinsic function, but was {jsonpath.json_text(expression)}"
        )
    if intrinsics.is_intrinsic(expression):
        return intrinsics.evaluate(expression, data, scope, field=key)
    if not expression.lstrip().startswith("$"):
        raise scope.runtime_failure(
            f"The value of the field '{key}' in {field} must be a JSONPath (starting with '$') or an "
            f"intrinsic function (States.*), but was '{expression}'"
        )
    variable, _ = jsonpath.split_variable(expression)
    if data is None and variable is None and not expression.lstrip().startswith("$$"):
        raise scope.runtime_failure("Unable to apply Path transformation to null or empty input.")
    try:
        return jsonpath.resolve(expression, data, scope)
    except jsonpath.NoMatch:
        raise scope.runtime_failure(
            f"The JSONPath '{expression}' specified for the field '{key}' could not be found "
            f"in the input '{jsonpath.json_text(data)}'"
        ) from None
