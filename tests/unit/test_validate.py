"""Definition validation: one test per rule, the API's renderings, and properties.

Each rule is a row of ``RULES``: a definition that breaks exactly that rule and the
(path, code) the validator must report. Removing a rule from the validator fails its row.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.asl.parse import load_file, load_text, pointer
from engine.asl.validate import (
    Diagnostic,
    format_for_cli,
    invalid_definition_message,
    validate,
    validation_result,
)

SCHEMA = "SCHEMA_VALIDATION_FAILED"
TARGET = "MISSING_TRANSITION_TARGET"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:f"
REPO = Path(__file__).resolve().parents[2]


def machine(*states: tuple[str, dict], **top) -> dict:
    """A definition whose StartAt is the first state."""
    return {"StartAt": states[0][0], "States": dict(states), **top}


def _present(fields: dict) -> dict:
    return {key: value for key, value in fields.items() if value is not None}


def end(**fields) -> dict:
    return _present({"Type": "Pass", "End": True, **fields})


def task(**fields) -> dict:
    return {"Type": "Task", "Resource": LAMBDA, "End": True, **fields}


def one(state: dict, **top) -> dict:
    return machine(("A", state), **top)


def choice(*rules: dict, **fields) -> dict:
    return machine(("C", {"Type": "Choice", "Choices": list(rules), "Default": "Z", **fields}), ("Z", end()))


def rule(**fields) -> dict:
    return _present({"Variable": "$.x", "Next": "Z", **fields})


def wait(**fields) -> dict:
    return one({"Type": "Wait", "End": True, **fields})


def mapper(processor_states=None, **fields) -> dict:
    processor = {"StartAt": "I", "States": processor_states or {"I": end()}}
    return one({"Type": "Map", "End": True, "ItemProcessor": processor, **fields})


def parallel(*branches: dict, **fields) -> dict:
    return one({"Type": "Parallel", "End": True, "Branches": list(branches), **fields})


def jsonata(state: dict) -> dict:
    return one(state, QueryLanguage="JSONata")


def problems(definition, machine_type: str = "STANDARD") -> set[tuple[str, str]]:
    return {(d.path, d.code) for d in validate(definition, machine_type)}


# --- definitions AWS accepts ----------------------------------------------------------------

VALID = {
    "pass": one(end(Result={"a": 1}, ResultPath="$.r", InputPath="$", OutputPath="$.r")),
    "pass chain": machine(("A", {"Type": "Pass", "Next": "B"}), ("B", {"Type": "Succeed"})),
    "task": one(task(TimeoutSeconds=10, HeartbeatSeconds=5, Parameters={"a.$": "$.a", "b": [{"c.$": "$$.Execution.Id"}]})),
    "task retry catch": machine(
        ("A", task(
            Retry=[{"ErrorEquals": ["X"], "IntervalSeconds": 1, "MaxAttempts": 0, "BackoffRate": 1.0,
                    "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}, {"ErrorEquals": ["States.ALL"]}],
            Catch=[{"ErrorEquals": ["States.ALL"], "Next": "F", "ResultPath": "$.error"}],
        )),
        ("F", {"Type": "Fail", "Error": "E", "Cause": "C"}),
    ),
    "choice": choice(
        rule(StringEquals="a"),
        rule(NumericGreaterThanEqualsPath="$.y"),
        rule(TimestampLessThan="2016-03-14T01:59:00Z"),
        {"And": [rule(IsPresent=True, Next=None), {"Not": {"Variable": "$.y", "BooleanEquals": False}}], "Next": "Z"},
    ),
    "wait seconds": wait(Seconds=0),
    "wait timestamp path": wait(TimestampPath="$.when"),
    "fail paths": one({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('{}', $.c)"}),
    "parallel": parallel(machine(("B1", end())), machine(("B2", {"Type": "Succeed"}))),
    "map": mapper(ItemsPath="$.items", ItemSelector={"v.$": "$$.Map.Item.Value"}, MaxConcurrency=0),
    "map iterator": one({"Type": "Map", "End": True, "Iterator": {"StartAt": "I", "States": {"I": end()}}}),
    "distributed map": mapper(
        ItemReader={"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON", "MaxItems": 10},
                    "Parameters": {"Bucket.$": "$.b", "Key": "k"}},
        ToleratedFailurePercentage=5.5, Label="label",
    ),
    "jsonata": jsonata({"Type": "Task", "Resource": LAMBDA, "Arguments": {"x": "{% $states.input %}"},
                        "TimeoutSeconds": "{% 5 %}", "Output": "{% $states.result %}", "End": True}),
    "jsonata choice": machine(
        ("C", {"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Next": "Z", "Output": 1}], "Default": "Z"}),
        ("Z", end()), QueryLanguage="JSONata",
    ),
    "state-level jsonata": one({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 %}", "End": True}),
    "assign": one(end(Assign={"v": 1, "w.$": "$.x"})),
    "variables in paths": one(task(InputPath="$v", Parameters={"a.$": "$v.a", "b.$": "States.Format('{}', $w)"},
                                   ResultSelector={"c.$": "$.c"}, ResultPath="$.r", OutputPath="$v")),
    "top fields": one(end(), Comment="c", Version="1.0", TimeoutSeconds=60, QueryLanguage="JSONPath"),
    "express sync-free": one(task(Resource="arn:aws:states:::lambda:invoke")),
}


@pytest.mark.parametrize("name", list(VALID))
def test_valid_definitions_have_no_diagnostics(name):
    assert validate(VALID[name]) == []


@pytest.mark.parametrize(
    "resource",
    ["arn:aws:states:::states:startExecution.sync", "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
     "arn:aws:states:us-east-1:123456789012:activity:a"],
)
def test_standard_machines_may_wait(resource):
    assert validate(one(task(Resource=resource)), "STANDARD") == []


# --- one row per rule -----------------------------------------------------------------------

RULES = [
    # structure (schema.json)
    ("unknown top-level field", one(end(), Foo=1), "$.Foo", SCHEMA),
    ("unknown state field", one(end(Bogus=1)), "$.States.A.Bogus", SCHEMA),
    ("field of another state type", one({"Type": "Succeed", "Next": "A"}), "$.States.A.Next", SCHEMA),
    ("TimeoutSeconds on Parallel",
     parallel(machine(("B", end())), TimeoutSeconds=5), "$.States.A.TimeoutSeconds", SCHEMA),
    ("missing StartAt", {"States": {"A": end()}}, "$", SCHEMA),
    ("empty States", {"StartAt": "A", "States": {}}, "$.States", SCHEMA),
    ("missing Type", one({"End": True}), "$.States.A", SCHEMA),
    ("unknown Type", one({"Type": "Bogus", "End": True}), "$.States.A.Type", SCHEMA),
    ("Comment not a string", one(end(), Comment=5), "$.Comment", SCHEMA),
    ("bad QueryLanguage", one(end(), QueryLanguage="XPath"), "$.QueryLanguage", SCHEMA),
    ("bad Version", one(end(), Version="2.0"), "$.Version", SCHEMA),
    ("top TimeoutSeconds 0", one(end(), TimeoutSeconds=0), "$.TimeoutSeconds", SCHEMA),
    ("Task without Resource", one({"Type": "Task", "End": True}), "$.States.A", SCHEMA),
    ("Task TimeoutSeconds 0", one(task(TimeoutSeconds=0)), "$.States.A.TimeoutSeconds", SCHEMA),
    ("Task HeartbeatSeconds 0", one(task(HeartbeatSeconds=0)), "$.States.A.HeartbeatSeconds", SCHEMA),
    ("Choice without Choices", one({"Type": "Choice", "Default": "A"}), "$.States.A", SCHEMA),
    ("Choice with empty Choices",
     one({"Type": "Choice", "Choices": [], "Default": "A"}), "$.States.A.Choices", SCHEMA),
    ("Parallel with no branch", parallel(), "$.States.A.Branches", SCHEMA),
    ("Retry MaxAttempts < 0",
     one(task(Retry=[{"ErrorEquals": ["X"], "MaxAttempts": -1}])), "$.States.A.Retry[0].MaxAttempts", SCHEMA),
    ("Retry IntervalSeconds < 1",
     one(task(Retry=[{"ErrorEquals": ["X"], "IntervalSeconds": 0}])), "$.States.A.Retry[0].IntervalSeconds", SCHEMA),
    ("Retry BackoffRate < 1",
     one(task(Retry=[{"ErrorEquals": ["X"], "BackoffRate": 0.5}])), "$.States.A.Retry[0].BackoffRate", SCHEMA),
    ("Retry MaxDelaySeconds 0",
     one(task(Retry=[{"ErrorEquals": ["X"], "MaxDelaySeconds": 0}])), "$.States.A.Retry[0].MaxDelaySeconds", SCHEMA),
    ("Retry JitterStrategy",
     one(task(Retry=[{"ErrorEquals": ["X"], "JitterStrategy": "SOME"}])), "$.States.A.Retry[0].JitterStrategy", SCHEMA),
    ("Retry unknown field",
     one(task(Retry=[{"ErrorEquals": ["X"], "Next": "A"}])), "$.States.A.Retry[0].Next", SCHEMA),
    ("empty ErrorEquals", one(task(Retry=[{"ErrorEquals": []}])), "$.States.A.Retry[0].ErrorEquals", SCHEMA),
    ("Catch without Next", one(task(Catch=[{"ErrorEquals": ["X"]}])), "$.States.A.Catch[0]", SCHEMA),
    ("MaxConcurrency < 0", mapper(MaxConcurrency=-1), "$.States.A.MaxConcurrency", SCHEMA),
    ("ToleratedFailurePercentage > 100",
     mapper(ToleratedFailurePercentage=101), "$.States.A.ToleratedFailurePercentage", SCHEMA),
    ("ToleratedFailureCount < 0", mapper(ToleratedFailureCount=-1), "$.States.A.ToleratedFailureCount", SCHEMA),
    ("ProcessorConfig Mode",
     mapper(ItemProcessor={"StartAt": "I", "States": {"I": end()}, "ProcessorConfig": {"Mode": "X"}}),
     "$.States.A.ItemProcessor.ProcessorConfig.Mode", SCHEMA),
    ("QueryLanguage on ItemProcessor",
     mapper(ItemProcessor={"StartAt": "I", "States": {"I": end()}, "QueryLanguage": "JSONPath"}),
     "$.States.A.ItemProcessor.QueryLanguage", SCHEMA),
    ("Label too long", mapper(Label="x" * 41), "$.States.A.Label", SCHEMA),
    ("Wait Seconds < 0", wait(Seconds=-1), "$.States.A.Seconds", SCHEMA),
    # transitions and the graph
    ("StartAt names no state", {"StartAt": "Nope", "States": {"A": end()}}, "$.StartAt", TARGET),
    ("Next names no state",
     machine(("A", {"Type": "Pass", "Next": "Nope"}), ("B", end())), "$.States.A.Next", TARGET),
    ("Default names no state",
     machine(("C", {"Type": "Choice", "Choices": [rule(IsNull=True)], "Default": "Nope"}), ("Z", end())),
     "$.States.C.Default", TARGET),
    ("Choice rule Next names no state", choice(rule(IsNull=True, Next="Nope")), "$.States.C.Choices[0].Next", TARGET),
    ("Catch Next names no state",
     one(task(Catch=[{"ErrorEquals": ["X"], "Next": "Nope"}])), "$.States.A.Catch[0].Next", TARGET),
    ("branch Next names a state outside the branch",
     parallel(machine(("B", {"Type": "Pass", "Next": "A"}), ("B2", end()))), "$.States.A.Branches[0].States.B.Next", TARGET),
    ("unreachable state", machine(("A", end()), ("B", end())), "$.States.B", TARGET),
    ("no terminal state",
     machine(("A", {"Type": "Pass", "Next": "B"}), ("B", {"Type": "Pass", "Next": "A"})), "$", "MISSING_END_STATE"),
    ("branch without terminal state",
     parallel(machine(("B", {"Type": "Pass", "Next": "B"}))), "$.States.A.Branches[0]", "MISSING_END_STATE"),
    ("state name reused in a branch",
     parallel(machine(("A", end()))), "$.States.A.Branches[0].States.A", "DUPLICATE_STATE_NAME"),
    ("state name too long",
     one(end()) | {"StartAt": "x" * 81, "States": {"x" * 81: end()}}, "$.States." + "x" * 81, "INVALID_STATE_NAME"),
    ("both Next and End", machine(("A", end(Next="B")), ("B", end())), "$.States.A.Next", SCHEMA),
    ("neither Next nor End", one({"Type": "Pass"}), "$.States.A", SCHEMA),
    ("End false", one({"Type": "Pass", "End": False}), "$.States.A.End", SCHEMA),
    # Choice rules
    ("rule without operator", choice({"Variable": "$.x", "Next": "Z"}), "$.States.C.Choices[0]", SCHEMA),
    ("rule with two operators", choice(rule(IsNull=True, IsString=True)), "$.States.C.Choices[0]", SCHEMA),
    ("rule without Variable", choice({"IsNull": True, "Next": "Z"}), "$.States.C.Choices[0]", SCHEMA),
    ("top-level rule without Next", choice({"Variable": "$.x", "IsNull": True}), "$.States.C.Choices[0]", SCHEMA),
    ("nested rule with Next",
     choice({"Not": rule(IsNull=True), "Next": "Z"}), "$.States.C.Choices[0].Not.Next", SCHEMA),
    ("compound rule with Variable",
     choice({"Variable": "$.x", "And": [{"Variable": "$.x", "IsNull": True}], "Next": "Z"}),
     "$.States.C.Choices[0]", SCHEMA),
    ("empty Or", choice({"Or": [], "Next": "Z"}), "$.States.C.Choices[0].Or", SCHEMA),
    ("Not with a list",
     choice({"Not": [{"Variable": "$.x", "IsNull": True}], "Next": "Z"}), "$.States.C.Choices[0].Not", SCHEMA),
    ("unknown rule field", choice(rule(IsNull=True, Bogus=1)), "$.States.C.Choices[0].Bogus", SCHEMA),
    ("StringEquals with a number", choice(rule(StringEquals=5)), "$.States.C.Choices[0].StringEquals", SCHEMA),
    ("NumericEquals with a string", choice(rule(NumericEquals="5")), "$.States.C.Choices[0].NumericEquals", SCHEMA),
    ("NumericEquals with a boolean", choice(rule(NumericEquals=True)), "$.States.C.Choices[0].NumericEquals", SCHEMA),
    ("BooleanEquals with a string",
     choice(rule(BooleanEquals="true")), "$.States.C.Choices[0].BooleanEquals", SCHEMA),
    ("TimestampEquals with a non-timestamp",
     choice(rule(TimestampEquals="yesterday")), "$.States.C.Choices[0].TimestampEquals", SCHEMA),
    ("IsNull with a number", choice(rule(IsNull=1)), "$.States.C.Choices[0].IsNull", SCHEMA),
    ("StringEqualsPath with a number",
     choice(rule(StringEqualsPath=5)), "$.States.C.Choices[0].StringEqualsPath", SCHEMA),
    ("StringEqualsPath with a bad path",
     choice(rule(StringEqualsPath="$.a[")), "$.States.C.Choices[0].StringEqualsPath", SCHEMA),
    ("Variable with a bad path", choice(rule(Variable="x", IsNull=True)), "$.States.C.Choices[0].Variable", SCHEMA),
    ("Variable not a string", choice(rule(Variable=5, IsNull=True)), "$.States.C.Choices[0].Variable", SCHEMA),
    ("rule Next not a string", choice(rule(IsNull=True, Next=5)), "$.States.C.Choices[0].Next", SCHEMA),
    # Retry and Catch
    ("States.ALL not alone",
     one(task(Retry=[{"ErrorEquals": ["States.ALL", "X"]}])), "$.States.A.Retry[0].ErrorEquals", SCHEMA),
    ("States.ALL in an earlier retrier", one(task(Retry=[{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}])),
     "$.States.A.Retry[0].ErrorEquals", SCHEMA),
    ("States.ALL in an earlier catcher",
     one(task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "A"}, {"ErrorEquals": ["X"], "Next": "A"}])),
     "$.States.A.Catch[0].ErrorEquals", SCHEMA),
    # Task
    ("Heartbeat not below Timeout",
     one(task(TimeoutSeconds=5, HeartbeatSeconds=5)), "$.States.A.HeartbeatSeconds", SCHEMA),
    ("TimeoutSeconds and TimeoutSecondsPath",
     one(task(TimeoutSeconds=5, TimeoutSecondsPath="$.t")), "$.States.A.TimeoutSecondsPath", SCHEMA),
    ("Resource is not an ARN", one(task(Resource="my-function")), "$.States.A.Resource", "INVALID_RESOURCE"),
    ("Credentials without RoleArn", one(task(Credentials={})), "$.States.A.Credentials", SCHEMA),
    # Wait, Fail, Map
    ("Wait without a duration", wait(), "$.States.A", SCHEMA),
    ("Wait with two durations", wait(Seconds=1, SecondsPath="$.s"), "$.States.A.SecondsPath", SCHEMA),
    ("Wait Timestamp not a timestamp", wait(Timestamp="tomorrow"), "$.States.A.Timestamp", SCHEMA),
    ("Fail Error and ErrorPath",
     one({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}), "$.States.A.ErrorPath", SCHEMA),
    ("Map without ItemProcessor", one({"Type": "Map", "End": True}), "$.States.A", SCHEMA),
    ("Map with ItemProcessor and Iterator",
     mapper(Iterator={"StartAt": "J", "States": {"J": end()}}), "$.States.A.Iterator", SCHEMA),
    ("MaxConcurrency and MaxConcurrencyPath",
     mapper(MaxConcurrency=1, MaxConcurrencyPath="$.m"), "$.States.A.MaxConcurrencyPath", SCHEMA),
    # paths, templates and intrinsic functions
    ("InputPath not a path", one(end(InputPath="input")), "$.States.A.InputPath", SCHEMA),
    ("ResultPath not a path", one(end(ResultPath="$.a[")), "$.States.A.ResultPath", SCHEMA),
    ("ResultPath a variable", one(end(ResultPath="$v")), "$.States.A.ResultPath", SCHEMA),
    ("ResultPath with a wildcard", one(end(ResultPath="$.a[*]")), "$.States.A.ResultPath", SCHEMA),
    ("ResultPath into the context object", one(end(ResultPath="$$.a")), "$.States.A.ResultPath", SCHEMA),
    ("ItemsPath not a path", mapper(ItemsPath="items"), "$.States.A.ItemsPath", SCHEMA),
    ("SecondsPath not a path", wait(SecondsPath="s"), "$.States.A.SecondsPath", SCHEMA),
    ("template value not a path", one(end(Parameters={"a": {"b.$": "b"}})), "$.States.A.Parameters.a['b.$']", SCHEMA),
    ("template value not a string", one(end(Parameters={"b.$": 5})), "$.States.A.Parameters['b.$']", SCHEMA),
    ("template in a list", one(end(Parameters={"l": [{"b.$": "b"}]})), "$.States.A.Parameters.l[0]['b.$']", SCHEMA),
    ("bad intrinsic function",
     one(end(Parameters={"b.$": "States.Format('{}', $.a"})), "$.States.A.Parameters['b.$']", SCHEMA),
    ("bad ErrorPath intrinsic", one({"Type": "Fail", "ErrorPath": "States.Format("}), "$.States.A.ErrorPath", SCHEMA),
    ("Assign value not a path", one(end(Assign={"v.$": "v"})), "$.States.A.Assign['v.$']", SCHEMA),
    ("ResultSelector value not a path",
     one(task(ResultSelector={"v.$": "v"})), "$.States.A.ResultSelector['v.$']", SCHEMA),
    # query languages
    ("Parameters under JSONata", jsonata(end(Parameters={})), "$.States.A.Parameters", SCHEMA),
    ("InputPath under JSONata", jsonata(end(InputPath="$")), "$.States.A.InputPath", SCHEMA),
    ("Arguments under JSONPath", one(task(Arguments={})), "$.States.A.Arguments", SCHEMA),
    ("Output under JSONPath", one(end(Output=1)), "$.States.A.Output", SCHEMA),
    ("Catch Output under JSONPath", one(task(Catch=[{"ErrorEquals": ["X"], "Next": "A", "Output": 1}])),
     "$.States.A.Catch[0].Output", SCHEMA),
    ("Catch ResultPath under JSONata",
     jsonata(task(Catch=[{"ErrorEquals": ["X"], "Next": "A", "ResultPath": "$.e"}])),
     "$.States.A.Catch[0].ResultPath", SCHEMA),
    ("Condition under JSONPath",
     choice({"Condition": "{% true %}", "Next": "Z"}), "$.States.C.Choices[0].Condition", SCHEMA),
    ("Variable under JSONata",
     machine(("C", {"Type": "Choice", "Choices": [rule(IsNull=True, Condition="{% true %}")], "Default": "Z"}),
                                       ("Z", end()), QueryLanguage="JSONata"), "$.States.C.Choices[0].Variable", SCHEMA),
    ("JSONata rule without Condition",
     machine(("C", {"Type": "Choice", "Choices": [{"Next": "Z"}], "Default": "Z"}), ("Z", end()),
                                               QueryLanguage="JSONata"), "$.States.C.Choices[0]", SCHEMA),
    ("Condition not an expression",
     machine(("C", {"Type": "Choice", "Choices": [{"Condition": "$.x", "Next": "Z"}], "Default": "Z"}),
                                            ("Z", end()), QueryLanguage="JSONata"), "$.States.C.Choices[0].Condition", SCHEMA),
    ("JSONPath state in a JSONata machine",
     jsonata(end(QueryLanguage="JSONPath")), "$.States.A.QueryLanguage", SCHEMA),
    ("JSONata expression under JSONPath", one(task(TimeoutSeconds="{% 5 %}")), "$.States.A.TimeoutSeconds", SCHEMA),
    ("nested states use the machine's language",
     mapper(processor_states={"I": end(Output=1)}, QueryLanguage="JSONata"),
     "$.States.A.ItemProcessor.States.I.Output", SCHEMA),
]


@pytest.mark.parametrize(("name", "definition", "path", "code"), RULES, ids=[row[0] for row in RULES])
def test_each_rule_reports_its_problem(name, definition, path, code):
    found = problems(definition)

    assert (path, code) in found, f"{name}: expected {(path, code)}, got {sorted(found)}"


@pytest.mark.parametrize(
    ("resource", "fragment"),
    [
        ("arn:aws:states:::states:startExecution.sync", "'.sync'"),
        ("arn:aws:states:::states:startExecution.sync:2", "'.sync'"),
        ("arn:aws:states:::sns:publish.waitForTaskToken", "'.waitForTaskToken'"),
        ("arn:aws:states:us-east-1:123456789012:activity:work", "Activity ARN"),
    ],
)
def test_express_machines_cannot_wait(resource, fragment):
    nested = parallel(machine(("B", task(Resource=resource))))

    for definition, path in ((one(task(Resource=resource)), "$.States.A.Resource"),
                             (nested, "$.States.A.Branches[0].States.B.Resource")):
        found = validate(definition, "EXPRESS")
        assert [(d.path, d.code) for d in found] == [(path, SCHEMA)]
        assert fragment in found[0].message
        assert found[0].message.startswith("Express state machine does not support")


def test_unknown_fields_use_aws_wording():
    (found,) = validate(one(end(Bogus=1)))

    assert found.message == "Field 'Bogus' is not supported"


def test_aws_wording_for_missing_targets_and_unreachable_states():
    found = validate(machine(("pass1", {"Type": "Pass", "Next": "pass3"}), ("pass2", end())))

    assert invalid_definition_message(found) == (
        "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: pass3 at "
        "/States/pass1/Next, MISSING_TRANSITION_TARGET: State \"pass2\" is not reachable. at /States/pass2'"
    )


def test_a_loop_with_an_unreachable_end_is_reported_as_unreachable_only():
    # AWS: the terminal state exists, so MISSING_END_STATE is not reported
    definition = machine(("A", {"Type": "Pass", "Next": "B"}), ("B", {"Type": "Pass", "Next": "A"}), ("C", end()))

    assert problems(definition) == {("$.States.C", TARGET)}


def test_missing_end_state_renders_at_null():
    found = validate(machine(("A", {"Type": "Pass", "Next": "A"})))

    assert invalid_definition_message(found) == (
        "Invalid State Machine Definition: 'MISSING_END_STATE: Workflow has no terminal state at null'"
    )
    assert validation_result(found)["diagnostics"] == [
        {"severity": "ERROR", "code": "MISSING_END_STATE", "message": "Workflow has no terminal state"}
    ]


def test_credentials_message_matches_aws():
    found = validate(jsonata(task(Credentials={}, Arguments="{% $states.input %}")))

    assert invalid_definition_message(found) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field 'RoleArn' is required "
        "but was missing at /States/A/Credentials'"
    )


# --- input shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "code"),
    [([1], SCHEMA), ("[1]", SCHEMA), (5, SCHEMA), (None, "MISSING_DESCRIPTION"), ("", "MISSING_DESCRIPTION"),
     ("{", "INVALID_JSON_DESCRIPTION"), ('{"a": 1, "a": 2}', "INVALID_JSON_DESCRIPTION")],
)
def test_definitions_that_are_not_objects_are_diagnostics(definition, code):
    (found,) = validate(definition)

    assert (found.path, found.code) == ("$", code)


def test_text_definitions_are_parsed_and_get_lines():
    text = '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "End": true,\n "Bogus": 1}\n  }\n}'

    (found,) = validate(text)

    assert (found.path, found.line) == ("$.States.A.Bogus", 5)


def test_syntax_error_in_text_names_line():
    (found,) = validate('{\n  "StartAt": "A",\n  "States": \n}')

    assert found.code == "INVALID_JSON_DESCRIPTION"
    assert found.line == 4
    assert "line 4, column 1" in found.message


# --- all at once, in order, with lines ------------------------------------------------------

MANY_PROBLEMS = """{
  "StartAt": "A",
  "States": {
    "A": {"Type": "Pass", "Next": "Nope"},
    "B": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:f",
          "End": true, "Bogus": 1},
    "C": {"Type": "Wait", "End": true}
  }
}"""

MANY_PROBLEMS_YAML = """\
StartAt: A
States:
  A:
    Type: Pass
    Next: Nope
  B:
    Type: Task
    Resource: arn:aws:lambda:us-east-1:1:function:f
    End: true
    Bogus: 1
  C:
    Type: Wait
    End: true
"""


def test_all_problems_are_reported_at_once_in_definition_order_with_json_lines():
    loaded = load_text(MANY_PROBLEMS, "m.json")

    found = validate(loaded.document, lines=loaded.lines)

    assert [(d.path, d.code, d.line) for d in found] == [
        ("$.States.A.Next", TARGET, 4),
        ("$.States.B", TARGET, 5),
        ("$.States.B.Bogus", SCHEMA, 6),
        ("$.States.C", SCHEMA, 7),
        ("$.States.C", TARGET, 7),
    ]


def test_yaml_lines():
    loaded = load_text(MANY_PROBLEMS_YAML, "m.yaml")

    found = validate(loaded.document, lines=loaded.lines)

    assert [(d.path, d.line) for d in found] == [
        ("$.States.A.Next", 5), ("$.States.B", 6), ("$.States.B.Bogus", 10), ("$.States.C", 11), ("$.States.C", 11),
    ]
    assert format_for_cli("m.yaml", found)[2] == "m.yaml:10: $.States.B.Bogus: Field 'Bogus' is not supported"


def test_format_for_cli_omits_unknown_lines():
    diagnostics = [Diagnostic("$.States.A", "broken", line=3), Diagnostic("$", "no line")]

    assert format_for_cli("f.json", diagnostics) == ["f.json:3: $.States.A: broken", "f.json: $: no line"]


def test_invalid_definition_message_joins_with_commas():
    diagnostics = [Diagnostic("$.States.A.Type", "Bad type"), Diagnostic("$.StartAt", "Missing", TARGET)]

    assert invalid_definition_message(diagnostics) == (
        "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: Bad type at /States/A/Type, "
        "MISSING_TRANSITION_TARGET: Missing at /StartAt'"
    )


def test_validation_result():
    assert validation_result([]) == {"result": "OK", "diagnostics": [], "truncated": False}
    assert validation_result([Diagnostic("$.States['Check Stock'].Next", "m", TARGET)]) == {
        "result": "FAIL",
        "diagnostics": [{"severity": "ERROR", "code": TARGET, "message": "m", "location": "/States/Check Stock/Next"}],
        "truncated": False,
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", ""),
        ("$.States.Foo.Next", "/States/Foo/Next"),
        ("$.States['Check Stock'].Next", "/States/Check Stock/Next"),
        ("$.States['it\\'s'].Choices[2].Next", "/States/it's/Choices/2/Next"),
        ("$.States['a/b'].Parameters['x.$']", "/States/a~1b/Parameters/x.$"),
    ],
)
def test_diagnostic_pointer(path, expected):
    assert Diagnostic(path, "m").pointer() == expected


# --- properties -----------------------------------------------------------------------------

_names = st.lists(st.text(min_size=1, max_size=80), min_size=1, max_size=8, unique=True)


def _chain(names: list[str]) -> dict:
    states = {name: {"Type": "Pass", "Next": following} for name, following in zip(names, names[1:])}
    states[names[-1]] = {"Type": "Pass", "End": True}
    return {"StartAt": names[0], "States": states}


@settings(max_examples=60, deadline=None)
@given(_names)
def test_chains_of_pass_states_are_valid(names):
    assert validate(_chain(names)) == []


@settings(max_examples=60, deadline=None)
@given(_names.filter(lambda names: len(names) > 1), st.data())
def test_removing_a_next_target_is_always_reported_at_that_next(names, data):
    definition = _chain(names)
    index = data.draw(st.integers(min_value=1, max_value=len(names) - 1))
    broken = copy.deepcopy(definition)
    del broken["States"][names[index]]
    if index == len(names) - 1:  # the only terminal state went too
        broken["States"][names[index - 1]] = {"Type": "Pass", "Next": names[index]}

    found = validate(broken)

    where = pointer(["States", names[index - 1], "Next"])
    assert any(d.code == TARGET and d.pointer() == where for d in found), found


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_any_state_name_round_trips_through_the_diagnostic_path(name):
    definition = {"StartAt": "start", "States": {"start": end(), name: end()}} if name != "start" else None
    if definition is None:
        return

    (found,) = validate(definition)

    assert found.pointer() == pointer(["States", name])


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.sampled_from(
        ["", "$", "$.a", "$$.Execution", "$x", "States.Array(", "States.ALL", "{% 1 %}", "Pass", "A", "JSONata"]
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["Type", "Next", "End", "States", "StartAt", "Choices", "Variable", "And", "Not",
                         "Retry", "Catch", "ErrorEquals", "Branches", "ItemProcessor", "Parameters", "a.$", "x"]),
        children, max_size=4,
    ),
    max_leaves=10,
)


def _nodes(value, parts=()):
    yield parts
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _nodes(child, parts + (key,))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(VALID)), st.data(), _json)
def test_any_damage_gives_diagnostics_not_exceptions(name, data, replacement):
    definition = copy.deepcopy(VALID[name])
    parts = data.draw(st.sampled_from(list(_nodes(definition))))
    if not parts:
        definition = replacement
    else:
        parent = definition
        for part in parts[:-1]:
            parent = parent[part]
        parent[parts[-1]] = replacement

    found = validate(definition, data.draw(st.sampled_from(["STANDARD", "EXPRESS"])))

    assert all(isinstance(d, Diagnostic) and d.path.startswith("$") for d in found)
    assert all(isinstance(d.pointer(), str) for d in found)


# --- definitions shipped with the project and the conformance corpus ------------------------

_SHIPPED = sorted(
    path
    for pattern in ("*.json", "*.yaml", "*.yml")
    for path in (REPO / "definitions").glob("**/" + pattern)
    # execution inputs, mock configurations, event rules and broker sources live next to their definitions
    if not path.name.endswith((".input.json", ".mocks.json", ".rules.yaml", ".sources.yaml", ".sources.yml",
                               ".sources.json"))
)


@pytest.mark.skipif(not _SHIPPED, reason="definitions/ has no files yet")
@pytest.mark.parametrize("path", _SHIPPED, ids=[str(p.relative_to(REPO)) for p in _SHIPPED])
def test_shipped_definitions_are_valid(path):
    loaded = load_file(path)

    assert format_for_cli(str(path), validate(loaded.document, lines=loaded.lines)) == []


_CORPUS = REPO.parent / "shared" / "conformance" / "sfn" / "cases.jsonl"


@pytest.mark.skipif(not _CORPUS.exists(), reason="conformance corpus not checked out next to the repository")
def test_conformance_corpus_definitions():
    accepted_with_errors, rejected_without_errors = [], []
    for line in _CORPUS.read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        definition = case.get("definition_string") or case["definition"]
        errors = [d for d in validate(definition, case.get("state_machine_type", "STANDARD")) if d.severity == "ERROR"]
        create_error = case["expected"].get("create_error")
        if not create_error and errors:
            accepted_with_errors.append((case["id"], errors))
        if create_error == "InvalidDefinition" and not errors:
            rejected_without_errors.append(case["id"])

    assert accepted_with_errors == []
    assert rejected_without_errors == []


def test_a_jsonata_choice_whose_choices_is_not_a_list_gets_a_diagnostic():
    found = validate({"QueryLanguage": "JSONata", "StartAt": "A",
                               "States": {"A": {"Type": "Choice", "Choices": True}}})
    assert any("Choices" in d.path for d in found)
