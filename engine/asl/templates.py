"""Payload templates of the JSONPath query language: Parameters, ItemSelector, ResultSelector.

A template is copied as is, except that a key ending in ``.$`` loses the suffix and its value,
a string, is evaluated: an intrinsic call, a ``$`` path against the state's data or a ``$$``
path against the context object. Arrays are walked element by element.

A template is compiled once into a function of (data, scope) (:func:`compile_template`; the
interpreter keeps one per state, see plan.py); :func:`render` compiles and runs in one go.
"""
from __future__ import annotations

from typing import Any, Callable

from engine.asl import intrinsics, jsonpath
from engine.asl.scope import Scope

Renderer = Callable[[Any, Scope], Any]  # (data, scope) -> the payload


def render(template: Any, data: Any, scope: Scope, field: str) -> Any:
    """The payload ``template`` builds from ``data``; ``field`` names the template in messages."""
    return compile_template(template, field)(data, scope)


def compile_template(template: Any, field: str) -> Renderer:
    if isinstance(template, dict):
        return _compile_object(template, field)
    if isinstance(template, list):
        parts = [compile_template(item, field) for item in template]
        return lambda data, scope: [part(data, scope) for part in parts]
    return lambda data, scope: template


def _compile_object(template: dict, field: str) -> Renderer:
    """Every payload is a new dict: a copy of the template's scalar literals, which keeps the
    template's key order, then its other members filled in template order (the order their
    failures and random draws happen in)."""
    names = [key[:-2] if key.endswith(".$") else key for key in template]
    repeated = {name for name in names if names.count(name) > 1}  # "a" and "a.$": the last wins
    literals: dict = {}
    members: list[tuple[str, Renderer]] = []
    for (key, value), name in zip(template.items(), names):
        if name not in repeated and not key.endswith(".$") and not isinstance(value, (dict, list)):
            literals[name] = value
            continue
        literals.setdefault(name, None)  # its place in the key order
        if key.endswith(".$"):
            members.append((name, _compile_expression(key, value, field)))
        else:
            members.append((name, compile_template(value, field)))
    if not members:
        return lambda data, scope: literals.copy()

    def render_object(data: Any, scope: Scope) -> dict:
        payload = literals.copy()
        for name, member in members:
            payload[name] = member(data, scope)
        return payload

    return render_object


def _compile_expression(key: str, expression: Any, field: str) -> Renderer:
    if not isinstance(expression, str):
        return _failing(f"The value of the field '{key}' in {field} must be a string holding a JSONPath or an "
                        f"intrinsic function, but was {jsonpath.json_text(expression)}")
    if intrinsics.is_intrinsic(expression):
        return intrinsics.compile_call(expression, field=key)
    if not expression.lstrip().startswith("$"):
        return _failing(f"The value of the field '{key}' in {field} must be a JSONPath (starting with '$') or an "
                        f"intrinsic function (States.*), but was '{expression}'")
    variable, _ = jsonpath.split_variable(expression)
    needs_data = variable is None and not expression.lstrip().startswith("$$")

    def resolve(data: Any, scope: Scope) -> Any:
        if data is None and needs_data:
            raise scope.runtime_failure("Unable to apply Path transformation to null or empty input.")
        try:
            return jsonpath.resolve(expression, data, scope)
        except jsonpath.NoMatch:
            raise scope.runtime_failure(
                f"The JSONPath '{expression}' specified for the field '{key}' could not be found "
                f"in the input '{jsonpath.json_text(data)}'"
            ) from None

    return jsonpath.compile_lookup(expression, resolve)


def _failing(message: str) -> Renderer:
    def fail(data: Any, scope: Scope) -> Any:
        raise scope.runtime_failure(message)

    return fail
