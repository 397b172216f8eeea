"""JSONPath in the Jayway dialect AWS uses: parsing, evaluation, Path fields, ResultPath, and
how AWS prints JSON. Expected causes are AWS's words from the conformance corpus."""
from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.asl import jsonpath
from engine.asl.failures import RESULT_PATH_MATCH_FAILURE, RUNTIME, Failure
from engine.asl.scope import Scope

CONTEXT = {"Execution": {"Id": "arn:exec", "Input": {"k": "v"}}, "StateMachine": {"Name": "sm"}}
SCOPE = Scope(CONTEXT, "pass", 2)
PREFIX = "An error occurred while executing the state 'pass' (entered at the event id #2). "

DOC = {
    "a": {"b": [1, 2, 3], "c d": 5, "x-y": 7, "1k": 8, "é": 9, "n": None},
    "items": [{"x": 1, "n": "v"}, {"x": 2, "n": "w", "t": [1, 2, 3]}, {"n": "z"}],
    "s": "text",
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize(
    "path, expected",
    [
        ("$", DOC),
        ("$.a.b", [1, 2, 3]),
        ("$['a']['c d']", 5),
        ('$["a"]["c d"]', 5),
        ("$.a.x-y", 7),
        ("$.a.1k", 8),
        ("$.a.é", 9),
        ("$.a.n", None),
        ("$.a.b[0]", 1),
        ("$.a.b[-1]", 3),
        ("$.a.b[0,2]", [1, 3]),
        ("$.a.b[1:]", [2, 3]),
        ("$.a.b[:2]", [1, 2]),
        ("$.a.b[-2:]", [2, 3]),
        ("$.a.b[-9:-1]", [1, 2]),
        ("$.a.b[*]", [1, 2, 3]),
        ("$.items[*].x", [1, 2]),
        ("$..x", [1, 2]),
        ("$..b[0]", [1]),
        ("$.a['b','c d']", {"b": [1, 2, 3], "c d": 5}),
        ("$.a.b.length()", 3),
        ("$.items.length()", 3),
        ("$.s.length()", 4),
        ("$.a.b.max()", 3.0),
    ],
)
def test_resolve_selects_like_jayway(path, expected):
    assert jsonpath.resolve(path, DOC, SCOPE) == expected


@pytest.mark.parametrize(
    "path, expected_x",
    [
        ("$.items[?(@.x > 1)]", [2]),
        ("$.items[?(@.x >= 1 && @.n == 'w')]", [2]),
        ("$.items[?(@.x == 1 || @.n == 'z')]", [1, None]),
        ("$.items[?(!(@.x == 1))]", [2, None]),
        ("$.items[?(@.x)]", [1, 2]),
        ("$.items[?(@.x != 1)]", [2, None]),  # a missing property is "not equal", as in Jayway
        ("$.items[?(@.n in ['v', 'z'])]", [1, None]),
        ("$.items[?(@.n nin ['v'])]", [2, None]),
        ("$.items[?(@.n =~ /V/i)]", [1]),
        ("$.items[?(@.n =~ /v.+/)]", []),  # Jayway's =~ matches the whole string
        ("$.items[?(@.t size 3)]", [2]),
        ("$.items[?(@.t.length() == 3)]", [2]),
        ("$.items[?(@.t subsetof [1, 2, 3, 4])]", [2]),
        ("$.items[?(@.t contains 2)]", [2]),
        ("$.items[?(@.x == $.a.b[0])]", [1]),
        ("$.items[?(@.x == '1')]", [1]),  # Jayway compares a number with a numeric string
        ("$.items[?(@.x < 'a')]", []),  # numbers and strings are not ordered
    ],
)
def test_filters(path, expected_x):
    assert [item.get("x") for item in jsonpath.resolve(path, DOC, SCOPE)] == expected_x


def test_filter_on_an_object_tests_the_object_itself():
    assert jsonpath.query("$.a[?(@['c d'] == 5)]", DOC) == [DOC["a"]]
    assert jsonpath.query("$[?(@.s == 'other')]", DOC) == []


@pytest.mark.parametrize(
    "path", ["$.items[*]", "$.items[1:]", "$.items[:1]", "$.item.items[1:5].itemValue", "$..nothing", "$.s[*]"]
)
def test_indefinite_paths_that_match_nothing_give_an_empty_list(path):
    # AWS: Parameters {"item.$": "$.items[*]"} on {} gives {"item": []}
    assert jsonpath.resolve(path, {} if "item" in path else DOC, SCOPE) == []


@pytest.mark.parametrize(
    "path, detail",
    [
        ("$.missing", "No results for path: $['missing']"),
        ("$.a.missing.x", "No results for path: $['a']['missing']['x']"),
        ("$.s.x", "No results for path: $['s']['x']"),
        ("$.a.b[7]", "No results for path: $['a']['b'][7]"),
    ],
)
def test_definite_paths_that_match_nothing_raise_no_match(path, detail):
    with pytest.raises(jsonpath.NoMatch) as raised:
        jsonpath.resolve(path, DOC, SCOPE)
    assert raised.value.path == path and raised.value.detail == detail


def test_context_paths_read_the_context_object():
    assert jsonpath.resolve("$$.Execution.Input.k", DOC, SCOPE) == "v"
    assert jsonpath.resolve("$$", DOC, SCOPE) == CONTEXT
    assert jsonpath.query("$$.Execution.Id", CONTEXT) == ["arn:exec"]


def test_variables_are_resolved_from_the_scope():
    scope = Scope(CONTEXT, "pass", 2, variables={"order": {"lines": [4, 5]}})
    assert jsonpath.resolve("$order.lines[1]", DOC, scope) == 5
    assert jsonpath.split_variable("$order.lines") == ("order", "$.lines")
    assert jsonpath.split_variable("$$.Execution") == (None, "$$.Execution")
    with pytest.raises(jsonpath.NoMatch, match="variable 'other' is not defined"):
        jsonpath.resolve("$other", DOC, scope)


@pytest.mark.parametrize(
    "path, definite",
    [
        ("$", True), ("$.a.b", True), ("$.a[0]", True), ("$['a']", True), ("$.a.length()", True),
        ("$.a[*]", False), ("$..a", False), ("$.a[?(@.x)]", False), ("$.a[1:]", False),
        ("$.a[0,1]", False), ("$.a.*", False), ("$.a['b','c'].d", False),
    ],
)
def test_is_definite(path, definite):
    assert jsonpath.is_definite(path) is definite


@pytest.mark.parametrize(
    "path, problem",
    [
        ("a.b", "must start with '$'"),
        ("$.", "expected a property name"),
        ("$.a[", "expected a quoted name"),
        ("$.a[x]", "expected a quoted name"),
        ("$['a]", "unterminated quoted string"),
        ("$.a[1:2:3]", "slice"),
        ("$.a b", "expected '.', '..' or '['"),
        ("$.a.nope()", "unknown function nope()"),
        ("$.a.length().b", "must end the path"),
        ("$.a[?(@.x ==)]", "expected '@', '$'"),
        ("$.a[?(@.x == 1]", "expected ')'"),
    ],
)
def test_bad_paths_say_what_and_where(path, problem):
    with pytest.raises(jsonpath.PathError) as raised:
        jsonpath.compile_path(path)
    message = str(raised.value)
    assert problem in message and f"'{path}'" in message and "at character" in message


def test_compile_is_cached():
    assert jsonpath.compile_path("$.a.b") is jsonpath.compile_path("$.a.b")


def test_bracket_names_keep_backslashes_like_aws():
    # AWS resolves $['Test\""Name"'] to the key  Test\""Name"
    document = {'Test\\""Name"': 'Value"\\'}
    assert jsonpath.resolve("$['Test\\\"\"Name\"']", document, SCOPE) == 'Value"\\'


# ---------------------------------------------------------------------------------- select

def test_select_null_path_gives_an_empty_object():
    assert jsonpath.select(None, DOC, SCOPE, "InputPath") == {}


def test_select_missing_input_path_fails_with_aws_cause():
    with pytest.raises(Failure) as raised:
        jsonpath.select("$.NoSuchInputPath", {"int-literal": 0}, SCOPE, "InputPath")
    assert raised.value.error == RUNTIME
    assert raised.value.cause == PREFIX + "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"


@pytest.mark.parametrize(
    "field, message",
    [
        ("ErrorPath", "The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{\"Error\":\"error-value\"}'"),
        ("Variable", "Invalid path '$.ErrorX': The choice state's condition path references an invalid value."),
        ("NumericEqualsPath", "Invalid path '$.ErrorX': The choice state's condition path references an invalid value."),
        ("SecondsPath", "The SecondsPath parameter does not reference an input value: $.ErrorX"),
    ],
)
def test_select_causes_depend_on_the_field(field, message):
    with pytest.raises(Failure) as raised:
        jsonpath.select("$.ErrorX", {"Error": "error-value"}, SCOPE, field)
    assert raised.value.cause == PREFIX + message


def test_select_indefinite_and_context_paths():
    assert jsonpath.select("$.items[?(@.x > 5)]", DOC, SCOPE, "ItemsPath") == []
    assert jsonpath.select("$$.StateMachine.Name", DOC, SCOPE, "InputPath") == "sm"


def test_a_bad_path_at_run_time_fails_the_state_not_the_engine():
    with pytest.raises(Failure) as raised:
        jsonpath.select("$.a[", DOC, SCOPE, "InputPath")
    assert raised.value.error == RUNTIME and raised.value.cause.startswith(PREFIX + "Invalid JSONPath")


# ------------------------------------------------------------------------------------- put

def test_put_null_keeps_the_document_and_dollar_replaces_it():
    assert jsonpath.put(DOC, None, 1, SCOPE) is DOC
    assert jsonpath.put(DOC, "$", [1], SCOPE) == [1]


def test_put_creates_missing_objects_and_copies_only_along_the_path():
    document = {"keep": {"deep": [1]}, "a": {"z": 1}}
    result = jsonpath.put(document, "$.a.b.c", 5, SCOPE)
    assert result == {"keep": {"deep": [1]}, "a": {"z": 1, "b": {"c": 5}}}
    assert document == {"keep": {"deep": [1]}, "a": {"z": 1}}
    assert result["keep"] is document["keep"]


def test_put_into_an_array_element():
    assert jsonpath.put({"a": [{"x": 1}, {}]}, "$.a[-1].y", 2, SCOPE) == {"a": [{"x": 1}, {"y": 2}]}


@pytest.mark.parametrize(
    "document, path",
    [("input1", "$.someTaskResult"), ({"a": 1}, "$.a.b"), ({"a": [1]}, "$.a[3]"), ({"a": None}, "$.a.b"), ({}, "$.a[*]")],
)
def test_put_that_cannot_apply_fails_with_aws_cause(document, path):
    with pytest.raises(Failure) as raised:
        jsonpath.put(document, path, {"r": 1}, SCOPE)
    assert raised.value.error == RESULT_PATH_MATCH_FAILURE
    assert raised.value.cause == f"Unable to apply ReferencePath {path} to input {jsonpath.json_text(document)}"


def test_put_cause_quotes_a_string_input_as_json():
    with pytest.raises(Failure) as raised:
        jsonpath.put("input1", "$.someTaskResult", 1, SCOPE)
    assert raised.value.cause == 'Unable to apply ReferencePath $.someTaskResult to input "input1"'


keys = st.text(min_size=1, max_size=6).filter(lambda k: "'" not in k and "\\" not in k)


@settings(max_examples=150, deadline=None)
@given(document=st.dictionaries(keys, json_values, max_size=4), path=st.lists(keys, min_size=1, max_size=4), value=json_values)
def test_put_then_resolve_round_trips(document, path, value):
    text = "$" + "".join(f"['{key}']" for key in path)
    before = copy.deepcopy(document)
    try:
        result = jsonpath.put(document, text, value, SCOPE)
    except Failure:  # some key on the way holds a non-object
        return
    assert jsonpath.resolve(text, result, SCOPE) == value
    assert document == before


# ------------------------------------------------------------------------ JSON the Java way

@pytest.mark.parametrize(
    "number, text",
    [(1.0, "1.0"), (1.1, "1.1"), (100.0, "100.0"), (0.001, "0.001"), (0.0001, "1.0E-4"), (1e7, "1.0E7"),
     (1234567.5, "1234567.5"), (12345678.9, "1.23456789E7"), (-2.5e-10, "-2.5E-10"), (0.0, "0.0"), (-0.0, "-0.0")],
)
def test_java_double(number, text):
    assert jsonpath.java_double(number) == text


def test_json_text_is_compact_and_java_like():
    value = {"a": [1, 2.5, 1e20, "é\n\"q\""], "b": None, "c": True, "d": {}}
    assert jsonpath.json_text(value) == '{"a":[1,2.5,1.0E20,"é\\n\\"q\\""],"b":null,"c":true,"d":{}}'


def test_java_text_is_javas_to_string():
    assert jsonpath.java_text({"Arg1": 1, "Arg2": []}) == "{Arg1=1, Arg2=[]}"
    assert jsonpath.java_text(["x", None, 1.5, {"k": True}]) == "[x, null, 1.5, {k=true}]"


def test_json_equal_keeps_booleans_and_number_kinds_apart():
    assert jsonpath.json_equal({"a": [1, "x"]}, {"a": [1, "x"]})
    assert not jsonpath.json_equal(True, 1) and not jsonpath.json_equal(1, 1.0)
    assert jsonpath.json_equal(1, 1.0, strict_numbers=False)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_json_text_round_trips_through_a_json_parser(value):
    assert json.loads(jsonpath.json_text(value)) == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_java_double_round_trips(number):
    text = jsonpath.java_double(number)
    assert float(text) == number and math.copysign(1, float(text)) == math.copysign(1, number)


# ------------------------------------------------------------------- compiled accessors

def outcome(run):
    """What a call gives: ("value", value) or ("failure", error, cause)."""
    try:
        return ("value", run())
    except Failure as failure:
        return ("failure", failure.error, failure.cause)


@pytest.mark.parametrize("path, keys", [
    ("$", ()), ("$.a", ("a",)), ("$.a.b", ("a", "b")), ("$['c d']", ("c d",)), (" $.a ", ("a",)),
    ("$.a[0]", None), ("$..a", None), ("$.a.*", None), ("$$.Execution", None), ("$var.a", None),
    ("$.a.length()", None), ("$['a','b']", None), ("$.a[", None), ("a", None),
])
def test_plain_keys(path, keys):
    assert jsonpath.plain_keys(path) == keys


SELECTED_PATHS = ["$", "$.a", "$.a.b", "$.a.n", "$.a.n.x", "$.s.x", "$.items.x", "$.missing", "$.items[0].x",
                  "$.items[*].n", "$$.Execution.Id", "$order.id", "$nothing", "$.a[", None]


@pytest.mark.parametrize("path", SELECTED_PATHS)
@pytest.mark.parametrize("data", [DOC, None, [1, 2], "text", 3, {}])
def test_a_selector_selects_what_select_does(path, data):
    scope = Scope(CONTEXT, "pass", 2, variables={"order": {"id": "o-1"}})
    select = jsonpath.selector(path, "InputPath")
    assert outcome(lambda: select(data, scope)) == outcome(lambda: jsonpath.select(path, data, scope, "InputPath"))


@settings(max_examples=150, deadline=None)
@given(document=json_values, path=st.lists(keys, max_size=3))
def test_a_selector_of_names_agrees_with_select(document, path):
    text = "$" + "".join(f"['{key}']" for key in path)
    select = jsonpath.selector(text, "OutputPath")
    assert outcome(lambda: select(document, SCOPE)) == outcome(lambda: jsonpath.select(text, document, SCOPE, "OutputPath"))


def test_compile_lookup_falls_back_on_a_miss_and_on_null_data():
    calls = []
    lookup = jsonpath.compile_lookup("$.a.b", lambda data, scope: calls.append(data) or "fallback")
    assert lookup({"a": {"b": 1}}, SCOPE) == 1 and calls == []
    assert lookup({"a": [1]}, SCOPE) == "fallback"
    assert lookup(None, SCOPE) == "fallback"
    assert calls == [{"a": [1]}, None]


@pytest.mark.parametrize("path", ["$", "$.a", "$.a.b.c", "$.s.x", "$.a.n.x", "$.items", "$.items[0].x", "$$.x",
                                  "$.a[*]", None, "$.a["])
@pytest.mark.parametrize("document", [DOC, None, [1], "text", {}])
def test_a_placer_places_what_put_does(path, document):
    before = copy.deepcopy(document)
    place = jsonpath.placer(path)
    assert outcome(lambda: place(document, {"new": 1}, SCOPE)) == outcome(
        lambda: jsonpath.put(document, path, {"new": 1}, SCOPE))
    assert document == before


@settings(max_examples=150, deadline=None)
@given(document=json_values, path=st.lists(keys, max_size=4), value=json_values)
def test_a_placer_of_names_agrees_with_put(document, path, value):
    text = "$" + "".join(f"['{key}']" for key in path)
    before = copy.deepcopy(document)
    place = jsonpath.placer(text)
    assert outcome(lambda: place(document, value, SCOPE)) == outcome(lambda: jsonpath.put(document, text, value, SCOPE))
    assert document == before


def test_a_placer_copies_only_along_the_path():
    document = {"a": {"b": 1}, "other": {"x": 1}}
    placed = jsonpath.placer("$.a.c")(document, 2, SCOPE)
    assert placed == {"a": {"b": 1, "c": 2}, "other": {"x": 1}}
    assert placed["other"] is document["other"] and placed["a"] is not document["a"]
