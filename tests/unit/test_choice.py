"""Choice rules compiled to functions of (data, scope): the same answers and failures as
evaluating the rule as it is written."""
from __future__ import annotations

import pytest

from engine.asl import choice
from engine.asl.failures import RUNTIME, Failure
from engine.asl.scope import Scope

SCOPE = Scope({"Execution": {"Name": "run-1"}}, "Check", 3, variables={"limit": 10})


@pytest.mark.parametrize("rule, data, expected", [
    ({"Variable": "$.n", "NumericLessThan": 5}, {"n": 4}, True),
    ({"Variable": "$.n", "NumericLessThan": 5}, {"n": "4"}, False),
    ({"Variable": "$.n", "NumericLessThanPath": "$.m"}, {"n": 4, "m": 3}, False),
    ({"Variable": "$.n", "NumericLessThanPath": "$limit"}, {"n": 4}, True),
    ({"Variable": "$.s", "StringMatches": "a*c"}, {"s": "abbc"}, True),
    ({"Variable": "$.x", "IsPresent": True}, {"y": 1}, False),
    ({"Variable": "$.x", "IsPresent": False}, {"y": 1}, True),
    ({"Variable": "$$.Execution.Name", "StringEquals": "run-1"}, {}, True),
    ({"And": [{"Variable": "$.n", "NumericGreaterThan": 1}, {"Variable": "$.n", "NumericLessThan": 5}]}, {"n": 3}, True),
    ({"Or": [{"Variable": "$.n", "NumericEquals": 1}, {"Variable": "$.n", "NumericEquals": 3}]}, {"n": 3}, True),
    ({"Not": {"Variable": "$.b", "BooleanEquals": True}}, {"b": True}, False),
])
def test_compiled_rules(rule, data, expected):
    assert choice.compile_rule(rule)(data, SCOPE) is expected
    assert choice.evaluate(rule, data, SCOPE) is expected


def test_a_missing_variable_fails_like_aws():
    with pytest.raises(Failure) as raised:
        choice.compile_rule({"Variable": "$.missing", "NumericEquals": 1})({}, SCOPE)
    assert raised.value.error == RUNTIME
    assert raised.value.cause.endswith(
        "Invalid path '$.missing': The choice state's condition path references an invalid value.")


def test_and_stops_at_the_first_false_rule():
    rule = {"And": [{"Variable": "$.n", "NumericEquals": 0}, {"Variable": "$.missing", "NumericEquals": 1}]}
    assert choice.compile_rule(rule)({"n": 1}, SCOPE) is False


def test_a_malformed_rule_fails_when_evaluated_not_when_compiled():
    test = choice.compile_rule({"Variable": "$.n", "Next": "X"})  # no comparison operator
    with pytest.raises(ValueError):
        test({"n": 1}, SCOPE)


def test_matching_rule_uses_the_compiled_tests_given():
    state = {"Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "A"},
                         {"Variable": "$.n", "NumericEquals": 2, "Next": "B"}]}
    tests = [lambda data, scope: False, lambda data, scope: True]
    assert choice.matching_rule(state, {"n": 1}, SCOPE, tests)["Next"] == "B"
    assert choice.matching_rule(state, {"n": 1}, SCOPE)["Next"] == "A"
