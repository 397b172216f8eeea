"""JSONata expressions and JSONata states: bindings, AWS's functions, causes and events."""
from __future__ import annotations

import ast
import json
import random
from pathlib import Path

import pytest

from engine.asl import interpreter, jsonata, model
from engine.asl.failures import QUERY_EVALUATION_ERROR, Failure
from engine.asl.interpreter import Env
from engine.asl.scope import Scope
from engine.asl.validate import validate

NOW = 1_700_000_000.0
CONTEXT = {"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:e", "Input": {},
                         "Name": "e", "RoleArn": "role", "StartTime": "2023-11-14T22:13:20.000Z",
                         "RedriveCount": 0},
           "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:sm", "Name": "sm"}}
SCOPE = Scope(CONTEXT, "S", 2, random=random.Random(7), new_uuid=lambda: "uuid-1",
              variables={"x": 42, "nothing": None}, language="JSONata", now=NOW)
PACKAGE = Path(__file__).resolve().parents[2] / "engine" / "asl"


def evaluate(text: str, value=None, **members):
    return jsonata.evaluate("{% " + text + " %}", jsonata.states_binding(SCOPE, value, **members), SCOPE, "Output")


def run(definition: dict, value=None):
    return interpreter.start(model.build(definition), CONTEXT, {} if value is None else value, NOW,
                             Env(random=random.Random(7), new_uuid=lambda: "uuid-1"))


def jsonata_chain(*states: dict) -> dict:
    names = [f"S{i}" for i in range(len(states))]
    table = {name: {**state, **({"Next": names[i + 1]} if i + 1 < len(states) else {"End": True})}
             for i, (name, state) in enumerate(zip(names, states))}
    return {"QueryLanguage": "JSONata", "StartAt": names[0], "States": table}


def exited(step) -> list[dict]:
    return [e["details"]["stateExitedEventDetails"] for e in step.events if e["type"].endswith("StateExited")]


# --- expressions ---------------------------------------------------------------------------
def test_only_a_whole_percent_brace_string_is_an_expression():
    assert jsonata.is_expression("{% 1 %}")
    assert not jsonata.is_expression(" {% 1 %} ")  # AWS keeps this one as a plain string
    assert not jsonata.is_expression("$states.input")


@pytest.mark.parametrize("text, expected", [
    ("$states.input.a", 1),
    ("$states.context.Execution.Name", "e"),
    ("$x + 1", 43),
    ("$nothing", None),  # a variable holding null is null, not undefined
    ("$sum([1, 2, 3]) + $x", 48),
    ("[1, null]", [1, None]),
])
def test_bindings(text, expected):
    assert evaluate(text, {"a": 1}) == expected


@pytest.mark.parametrize("text, expected", [
    ("$partition([0, 1, 2], 2)", [[0, 1], [2]]),
    ("$partition([0], 1)", [[0]]),
    ("$range(0, 10, 3)", [0, 3, 6, 9]),
    ("$range(1, 9, 9)", 1),  # a one-item sequence is that item, as AWS answers
    ("$hash('Hash this string', 'SHA-256')",
     "1cac63f39fd68d8c531f27b807610fb3d50f0fc3f186995767fb6316e7200a3e"),
    ("$parse('{\"a\": [1, null]}')", {"a": [1, None]}),
    ("$uuid()", "uuid-1"),
    ("$millis()", int(NOW * 1000)),
    ("$now()", "2023-11-14T22:13:20.000Z"),
])
def test_aws_functions(text, expected):
    assert evaluate(text) == expected


def test_random_comes_from_the_scope_and_a_seed_repeats():
    first = jsonata.evaluate("{% $random() %}", {}, Scope({}, "S", 1, random=random.Random(3)), "Output")
    again = jsonata.evaluate("{% $random() %}", {}, Scope({}, "S", 1, random=random.Random(3)), "Output")
    assert first == again and 0 <= first < 1
    assert evaluate("$random(5)") == evaluate("$random(5)")


@pytest.mark.parametrize("text, cause", [
    ("$doesNotExist", "The JSONata expression '$doesNotExist' specified for the field 'Output' "
                      "returned nothing (undefined)."),
    ("$randomSeeded(1)", "The JSONata expression '$randomSeeded(1)' specified for the field 'Output' "
                         "threw an error during evaluation. T1006: Attempted to invoke a non-function"),
    ("$eval('1')", "The JSONata expression '$eval('1')' specified for the field 'Output' "
                   "threw an error during evaluation. T1006: Attempted to invoke a non-function"),
    ("function($v) { $v }", "The JSONata expression 'function($v) { $v }' specified for the field "
                            "'Output' returned an unsupported result type."),
])
def test_failures_carry_aws_causes_and_the_field(text, cause):
    with pytest.raises(Failure) as raised:
        evaluate(text)
    assert raised.value.error == QUERY_EVALUATION_ERROR
    assert raised.value.cause == "An error occurred while executing the state 'S' (entered at the event id #2). " + cause
    assert raised.value.location == "Output"


def test_templates_name_the_failing_member():
    with pytest.raises(Failure) as raised:
        jsonata.render({"a": [1, {"b": "{% $no %}"}]}, {}, SCOPE, "Output")
    assert raised.value.location == "Output/a/1/b"
    assert jsonata.render({"a": "{% 1 + 1 %}", "b": " {% 1 %} ", "c": [True, None]}, {}, SCOPE, "Output") == \
        {"a": 2, "b": " {% 1 %} ", "c": [True, None]}


# --- states --------------------------------------------------------------------------------
def test_output_arguments_and_result():
    step = run(jsonata_chain({"Type": "Pass", "Output": {"sum": "{% $sum($states.input.n) %}"}}), {"n": [1, 2]})
    assert step.status == "SUCCEEDED" and step.output == {"sum": 3}


def test_a_jsonpath_machine_may_hold_jsonata_states():
    definition = {"StartAt": "A", "States": {
        "A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"d": "{% $states.input.v * 2 %}"}, "Next": "B"},
        "B": {"Type": "Pass", "Result": "done", "ResultPath": "$.r", "End": True}}}
    assert run(definition, {"v": 2}).output == {"d": 4, "r": "done"}


def test_undefined_output_fails_with_an_evaluation_failed_event():
    step = run(jsonata_chain({"Type": "Pass", "Output": {"result": "{% $doesNotExist %}"}}))
    assert step.status == "FAILED" and step.error == QUERY_EVALUATION_ERROR
    failed = [e for e in step.events if e["type"] == "EvaluationFailed"]
    assert failed[0]["details"]["evaluationFailedEventDetails"] == {
        "error": QUERY_EVALUATION_ERROR, "cause": step.cause, "location": "Output/result", "state": "S0"}


def test_choice_condition_and_the_rules_assign():
    definition = {"QueryLanguage": "JSONata", "StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.go %}", "Next": "Yes",
                                             "Assign": {"how": "rule"}}],
              "Default": "No", "Assign": {"how": "default"}},
        "Yes": {"Type": "Pass", "Output": "{% $how %}", "End": True},
        "No": {"Type": "Pass", "Output": "{% $how %}", "End": True}}}
    assert run(definition, {"go": True}).output == "rule"
    assert run(definition, {"go": False}).output == "default"


def test_map_items_and_item_selector():
    definition = jsonata_chain({
        "Type": "Map", "Items": "{% $states.input.xs %}",
        "ItemSelector": {"v": "{% $states.context.Map.Item.Value * 10 %}", "i": "{% $states.context.Map.Item.Index %}"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}})
    assert run(definition, {"xs": [1, 2]}).output == [{"v": 10, "i": 0}, {"v": 20, "i": 1}]


def test_map_items_of_the_wrong_type_close_the_map():
    definition = jsonata_chain({"Type": "Map", "Items": "{% 'string' %}",
                                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}})
    step = run(definition)
    assert [e["type"] for e in step.events][-3:] == ["EvaluationFailed", "MapStateFailed", "ExecutionFailed"]
    assert step.cause.endswith("The JSONata expression ''string'' specified for the field 'Items' returned an "
                               "unexpected result type. Expected 'array', but was 'string' for value: \"string\"")


def test_wait_timestamp_expression_that_is_no_timestamp():
    step = run(jsonata_chain({"Type": "Wait", "Timestamp": "{% $states.input.t %}"}), {"t": "2016-12-05T21:29:29"})
    assert step.error == QUERY_EVALUATION_ERROR
    assert step.cause.endswith("The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time "
                               "format string: 2016-12-05T21:29:29")


def test_fail_error_and_cause_expressions():
    step = run(jsonata_chain({"Type": "Fail", "Error": "{% 'E' & $states.input.n %}", "Cause": "{% $states.input.c %}"}),
               {"n": 1, "c": "why"})
    assert (step.status, step.error, step.cause) == ("FAILED", "E1", "why")


def test_catch_output_and_assign_see_the_error_output():
    definition = {"QueryLanguage": "JSONata", "StartAt": "F", "States": {
        "F": {"Type": "Parallel", "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Fail", "Error": "Boom"}}}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "After",
                         "Output": {"in": "{% $states.input %}", "err": "{% $states.errorOutput.Error %}"},
                         "Assign": {"caught": "{% $states.errorOutput.Error %}"}}]},
        "After": {"Type": "Pass", "Output": {"o": "{% $states.input %}", "v": "{% $caught %}"}, "End": True}}}
    step = run(definition, {"k": 1})
    assert step.output == {"o": {"in": {"k": 1}, "err": "Boom"}, "v": "Boom"}
    assert exited(step)[-2]["assignedVariables"] == {"caught": '"Boom"'}


# --- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("value, message", [
    ("{% [1, %}", "The value is not a valid JSONata expression: S0203: Expected ] before end of expression"),
    ("{% $eval('1') %}", "The JSONata function '$eval' is not supported"),
])
def test_validation_compiles_expressions(value, message):
    found = validate(jsonata_chain({"Type": "Pass", "Output": {"a": value}}))
    assert [(d.path, d.message) for d in found] == [("$.States.S0.Output.a", message)]


def test_expressions_in_jsonpath_states_are_plain_strings():
    assert validate({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "{% [1, %}", "End": True}}}) == []


# --- purity --------------------------------------------------------------------------------
FORBIDDEN = {"random", "time", "uuid", "threading", "datetime.now", "sqlalchemy", "socket", "asyncio"}


def test_engine_asl_imports_no_clock_randomness_or_threads():
    """engine/asl stays pure: its own modules import none of these (a library may, behind it)."""
    for module in PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{module.name} imports {name}"


def test_json_roundtrip_of_a_snapshot_with_variables():
    step = run(jsonata_chain({"Type": "Pass", "Assign": {"a": {"b": [1, None]}}},
                             {"Type": "Wait", "Seconds": 10}))
    snapshot = json.loads(json.dumps(step.snapshot))
    assert snapshot["paths"]["0"]["vars"] == {"a": {"b": [1, None]}}
