"""Choice rules: which branch a Choice state takes (JSONPath rules, or JSONata Conditions)."""
from __future__ import annotations

from typing import Any, Callable

from engine.asl import jsonata, jsonpath, timestamps
from engine.asl.model import JSONATA
from engine.asl.scope import Scope

_MISSING = object()


def choose(state: dict, data: Any, scope: Scope) -> str | None:
    """Name of the next state: the first matching rule's Next, else Default, else None."""
    for rule in state.get("Choices", []):
        if evaluate(rule, data, scope):
            return rule["Next"]
    return state.get("Default")


def matching_rule(state: dict, data: Any, scope: Scope, tests: list[Test] | None = None) -> dict | None:
    """The first rule that matches (its Next, Assign and Output apply), else None.

    ``tests``: the JSONPath rules already compiled (:func:`compile_rule`), one per rule."""
    rules = state.get("Choices", [])
    if scope.language == JSONATA:
        for index, rule in enumerate(rules):
            if condition(rule, index, data, scope):
                return rule
        return None
    if tests is None:
        tests = [compile_rule(rule) for rule in rules]
    for rule, test in zip(rules, tests):
        if test(data, scope):
            return rule
    return None


def condition(rule: dict, index: int, data: Any, scope: Scope) -> bool:
    """A JSONata rule's Condition: a boolean, or an expression that must give one."""
    value = rule["Condition"]
    if not jsonata.is_expression(value):
        return bool(value)
    location = "Condition"
    result = jsonata.evaluate(value, jsonata.states_binding(scope, data), scope, location)
    if not isinstance(result, bool):
        raise jsonata.unexpected_type(scope, value, location, "boolean", result)
    return result


def evaluate(rule: dict, data: Any, scope: Scope) -> bool:
    return compile_rule(rule)(data, scope)


Test = Callable[[Any, Scope], bool]  # (data, scope) -> does the rule match?


def compile_rule(rule: dict) -> Test:
    """A JSONPath rule as a function of (data, scope). A malformed rule (validation refuses
    them) fails when it is evaluated, not before."""
    try:
        return _compile(rule)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        problem = error  # "error" itself is unbound when the except clause ends

        def malformed(data: Any, scope: Scope) -> bool:
            raise problem

        return malformed


def _compile(rule: dict) -> Test:
    if "And" in rule:
        parts = [compile_rule(sub) for sub in rule["And"]]
        return lambda data, scope: all(part(data, scope) for part in parts)
    if "Or" in rule:
        parts = [compile_rule(sub) for sub in rule["Or"]]
        return lambda data, scope: any(part(data, scope) for part in parts)
    if "Not" in rule:
        inner = compile_rule(rule["Not"])
        return lambda data, scope: not inner(data, scope)
    operator = _operator_of(rule)
    variable = rule["Variable"]
    if operator == "IsPresent":
        wanted = bool(rule[operator])
        return lambda data, scope: _present(variable, data, scope) == wanted
    value_of = jsonpath.selector(variable, "Variable")
    expected = rule[operator]
    if operator.endswith("Path"):
        compare = _COMPARATORS[operator[: -len("Path")]]
        expected_of = jsonpath.selector(expected, operator)
        return lambda data, scope: compare(value_of(data, scope), expected_of(data, scope))
    compare = _COMPARATORS[operator]
    return lambda data, scope: compare(value_of(data, scope), expected)


def _operator_of(rule: dict) -> str:
    for key in rule:
        if key not in ("Variable", "Next", "Comment", "Assign", "Output"):
            return key
    raise ValueError("Choice rule without a comparison operator")


def _present(path: str, data: Any, scope: Scope) -> bool:
    try:
        jsonpath.resolve(path, data, scope)
    except jsonpath.NoMatch:
        return False
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numeric(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    return lambda value, expected: _is_number(value) and _is_number(expected) and test(value, expected)


def _string(test: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    return lambda value, expected: isinstance(value, str) and isinstance(expected, str) and test(value, expected)


def _timestamp(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(value: Any, expected: Any) -> bool:
        left, right = timestamps.parse(value), timestamps.parse(expected)
        return left is not None and right is not None and test(left, right)

    return compare


def string_matches(value: Any, pattern: Any) -> bool:
    """StringMatches: ``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literals."""
    if not isinstance(value, str) or not isinstance(pattern, str):
        return False
    return _match_tokens(_tokens(pattern), value)


def _tokens(pattern: str) -> list[str | None]:
    """The pattern as literal characters, with None standing for an unescaped ``*``."""
    tokens: list[str | None] = []
    escaped = False
    for char in pattern:
        if escaped:
            tokens.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            tokens.append(None if char == "*" else char)
    if escaped:
        tokens.append("\\")
    return tokens


def _match_tokens(tokens: list[str | None], text: str) -> bool:
    # classic two-pointer wildcard matching with backtracking to the last star
    t = s = 0
    star, mark = -1, 0
    while s < len(text):
        if t < len(tokens) and tokens[t] is not None and tokens[t] == text[s]:
            t, s = t + 1, s + 1
        elif t < len(tokens) and tokens[t] is None:
            star, mark, t = t, s, t + 1
        elif star >= 0:
            t, mark = star + 1, mark + 1
            s = mark
        else:
            return False
    while t < len(tokens) and tokens[t] is None:
        t += 1
    return t == len(tokens)


def _is_timestamp(value: Any) -> bool:
    return timestamps.parse(value) is not None


_COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "StringEquals": _string(lambda a, b: a == b),
    "StringLessThan": _string(lambda a, b: a < b),
    "StringGreaterThan": _string(lambda a, b: a > b),
    "StringLessThanEquals": _string(lambda a, b: a <= b),
    "StringGreaterThanEquals": _string(lambda a, b: a >= b),
    "StringMatches": string_matches,
    "NumericEquals": _numeric(lambda a, b: a == b),
    "NumericLessThan": _numeric(lambda a, b: a < b),
    "NumericGreaterThan": _numeric(lambda a, b: a > b),
    "NumericLessThanEquals": _numeric(lambda a, b: a <= b),
    "NumericGreaterThanEquals": _numeric(lambda a, b: a >= b),
    "BooleanEquals": lambda a, b: isinstance(a, bool) and isinstance(b, bool) and a == b,
    "TimestampEquals": _timestamp(lambda a, b: a == b),
    "TimestampLessThan": _timestamp(lambda a, b: a < b),
    "TimestampGreaterThan": _timestamp(lambda a, b: a > b),
    "TimestampLessThanEquals": _timestamp(lambda a, b: a <= b),
    "TimestampGreaterThanEquals": _timestamp(lambda a, b: a >= b),
    "IsNull": lambda a, b: (a is None) == bool(b),
    "IsNumeric": lambda a, b: _is_number(a) == bool(b),
    "IsString": lambda a, b: isinstance(a, str) == bool(b),
    "IsBoolean": lambda a, b: isinstance(a, bool) == bool(b),
    "IsTimestamp": lambda a, b: _is_timestamp(a) == bool(b),
}

OPERATORS = frozenset(_COMPARATORS) | {name + "Path" for name in _COMPARATORS if not name.startswith("Is")} | {"IsPresent"}
