"""Payload templates (Parameters, ItemSelector, ResultSelector): copying, ``.$`` evaluation,
and the causes AWS gives when a template cannot be filled."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.asl import templates
from engine.asl.failures import RUNTIME, Failure
from engine.asl.scope import Scope

CONTEXT = {"Execution": {"Name": "run-1", "Input": {"input_field": {"constant_input_field": "constant_value"}}},
           "Map": {"Item": {"Index": 3, "Value": "v"}}}
SCOPE = Scope(CONTEXT, "pass", 2)
PREFIX = "An error occurred while executing the state 'pass' (entered at the event id #2). "


def render(template, data):
    return templates.render(template, data, SCOPE, "Parameters")


def failure(template, data) -> Failure:
    with pytest.raises(Failure) as raised:
        render(template, data)
    assert raised.value.error == RUNTIME
    return raised.value


def test_literals_are_copied_and_dollar_keys_are_evaluated():
    template = {
        "flagged": True,
        "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[-3:]", "list": [{"x.$": "$.vals[1]"}, "plain"]},
        "weekday.$": "$$.Execution.Name",
        "formatted.$": "States.Format('{} of {}', $.vals[0], States.ArrayLength($.vals))",
        "not$": "$.vals",
    }
    data = {"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]}
    assert render(template, data) == {
        "flagged": True,
        "parts": {"first": 0, "last3": [30, 40, 50], "list": [{"x": 10}, "plain"]},
        "weekday": "run-1",
        "formatted": "0 of 6",
        "not$": "$.vals",
    }


def test_the_template_and_the_input_are_not_modified():
    template = {"a.$": "$.x", "b": {"c": [1, {"d.$": "$"}]}}
    data = {"x": {"deep": [1]}}
    before_template, before_data = copy.deepcopy(template), copy.deepcopy(data)
    render(template, data)
    assert template == before_template and data == before_data


def test_json_merge_with_an_escaped_literal_and_a_context_path():
    # AWS: test_json_merge_escaped_argument
    template = {"merged.$": "States.JsonMerge(States.StringToJson('{\"constant_in_literal\": \"false\"}'), "
                            "$$.Execution.Input.input_field, false)"}
    assert render(template, {}) == {
        "merged": {"constant_in_literal": "false", "constant_input_field": "constant_value"}
    }


@pytest.mark.parametrize("path", ["$.items[*]", "$.items[1:]", "$.item.items[1:5].itemValue"])
def test_an_indefinite_path_that_matches_nothing_gives_an_empty_list(path):
    assert render({"item.$": path}, {}) == {"item": []}


def test_a_missing_path_fails_with_aws_cause():
    error = failure({"value.$": "$.no_such_jsonpath"}, {"int-literal": 0})
    assert error.cause == (
        PREFIX + "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' "
        "could not be found in the input '{\"int-literal\":0}'"
    )


def test_a_missing_path_in_a_nested_object_names_the_nested_key():
    error = failure({"outer": {"inner.$": "$.nope"}}, {"a": 1.5})
    assert "for the field 'inner.$'" in error.cause and "input '{\"a\":1.5}'" in error.cause


def test_a_missing_intrinsic_argument_names_the_key():
    error = failure({"parts.$": "States.ArrayPartition($.missing, 2)"}, {})
    assert error.cause == PREFIX + "The JSONPath '$.missing' specified for the field 'parts.$' could not be found in the input '{}'"


def test_a_path_on_null_input_fails_like_aws():
    assert failure({"Input.$": "$"}, None).cause == PREFIX + "Unable to apply Path transformation to null or empty input."
    assert render({"name.$": "$$.Execution.Name"}, None) == {"name": "run-1"}


@pytest.mark.parametrize("value", [5, None, ["$.a"], {"x": "$.a"}])
def test_a_dollar_key_needs_a_string(value):
    error = failure({"bad.$": value}, {"a": 1})
    assert "'bad.$'" in error.cause and "Parameters" in error.cause and "must be a string" in error.cause


def test_a_dollar_key_needs_a_path_or_an_intrinsic():
    assert "must be a JSONPath" in failure({"bad.$": "plain text"}, {"a": 1}).cause


def test_invalid_intrinsic_arguments_fail_the_state():
    assert failure({"n.$": "States.MathAdd($.a, 'x')"}, {"a": 1}).cause == PREFIX + "Invalid arguments in States.MathAdd"


def test_variables_in_templates():
    scope = Scope(CONTEXT, "pass", 2, variables={"count": 2, "order": {"id": "o-1"}})
    template = {"id.$": "$order.id", "next.$": "States.MathAdd($count, 1)"}
    assert templates.render(template, {}, scope, "Parameters") == {"id": "o-1", "next": 3}


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=4).filter(lambda key: not key.endswith(".$")), children, max_size=3),
    max_leaves=10,
)


@given(plain, plain)
def test_a_template_without_dollar_keys_renders_to_itself(template, data):
    assert render(template, data) == template


@given(st.dictionaries(st.text(alphabet="abc", min_size=1, max_size=3), st.integers(), min_size=1, max_size=4))
def test_a_copy_template_rebuilds_the_input(data):
    template = {f"{key}.$": f"$['{key}']" for key in data}
    assert render(template, data) == data


def test_a_compiled_template_builds_new_containers_every_time():
    template = {"n": 1, "list": [1, {"x": 2}], "obj": {"y.$": "$.y"}}
    build = templates.compile_template(template, "Parameters")
    first, second = build({"y": 3}, SCOPE), build({"y": 3}, SCOPE)
    assert first == second == {"n": 1, "list": [1, {"x": 2}], "obj": {"y": 3}}
    assert first is not second and first["list"] is not second["list"] and first["list"] is not template["list"]
    assert list(first) == ["n", "list", "obj"]


@pytest.mark.parametrize("template, expected, order", [
    ({"a": 1, "a.$": "$.x"}, {"a": 9}, ["a"]),
    ({"a.$": "$.x", "a": 1}, {"a": 1}, ["a"]),
    ({"b.$": "$.x", "a": 1, "c": 2}, {"b": 9, "a": 1, "c": 2}, ["b", "a", "c"]),
])
def test_a_repeated_name_keeps_its_first_place_and_its_last_value(template, expected, order):
    payload = render(template, {"x": 9})
    assert payload == expected and list(payload) == order


def test_a_repeated_name_is_still_evaluated():
    assert "could not be found" in failure({"a.$": "$.missing", "a": 1}, {"x": 9}).cause


def test_compiling_never_fails_rendering_does():
    build = templates.compile_template({"bad.$": 7, "worse.$": "States.Nope()", "n.$": "plain"}, "Parameters")
    with pytest.raises(Failure) as raised:
        build({}, SCOPE)
    assert "must be a string" in raised.value.cause


def test_a_dollar_path_needs_data():
    assert failure({"all.$": "$"}, None).cause == PREFIX + "Unable to apply Path transformation to null or empty input."
    assert render({"all.$": "$"}, {"a": 1}) == {"all": {"a": 1}}
    assert render({"name.$": "$$.Execution.Name"}, None) == {"name": "run-1"}
