"""Intrinsic functions: the parser, every States.* function, AWS's rounding and error causes,
and properties of the functions that have inverses or invariants."""
from __future__ import annotations

import base64
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.asl import intrinsics
from engine.asl.failures import RUNTIME, Failure
from engine.asl.intrinsics import Call, Literal, PathArg
from engine.asl.scope import Scope

CONTEXT = {"Execution": {"Input": {"chunk": 2}}, "StateMachine": {"Id": "arn:sm", "Name": "my-machine-1"}}
SCOPE = Scope(CONTEXT, "State_0", 2, random=random.Random(7), new_uuid=lambda: "00000000-0000-4000-8000-000000000000")
PREFIX = "An error occurred while executing the state 'State_0' (entered at the event id #2). "


def run(text: str, data=None):
    return intrinsics.evaluate(text, data if data is not None else {}, SCOPE)


def invalid(text: str, data=None) -> str:
    with pytest.raises(Failure) as raised:
        run(text, data)
    assert raised.value.error == RUNTIME
    return raised.value.cause


# ---------------------------------------------------------------------------------- parsing

def test_parse_builds_a_small_ast():
    call = intrinsics.parse("States.Format('a \\{\\} {}', $.x, States.Array(1, 2.5, true, null), $$.Execution.Id)")
    assert call.name == "States.Format" and call.position == 0
    template, path, nested, context = call.args
    assert template == Literal("a {} {}", raw="a \\{\\} {}")
    assert path == PathArg("$.x") and context == PathArg("$$.Execution.Id")
    assert nested == Call("States.Array", (Literal(1), Literal(2.5), Literal(True), Literal(None)), 32)
    assert isinstance(nested.args[0].value, int) and isinstance(nested.args[1].value, float)


def test_path_arguments_may_hold_commas_and_parentheses_inside_brackets():
    call = intrinsics.parse("States.Array($.a[?(@.x == 'a, b')], $['c)'])")
    assert call.args == (PathArg("$.a[?(@.x == 'a, b')]"), PathArg("$['c)']"))


@pytest.mark.parametrize("text", ["States.Array($.a)", "  States.UUID()", "States.Format ('x')"])
def test_is_intrinsic(text):
    assert intrinsics.is_intrinsic(text)


@pytest.mark.parametrize("text", ["$.a", "States.Array", "Format('x')", 5, None])
def test_is_not_intrinsic(text):
    assert not intrinsics.is_intrinsic(text)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("States.Nope(1)", "unknown intrinsic function States.Nope"),
        ("States.ArrayRange(1, 5)", "States.ArrayRange takes 3 argument(s), got 2"),
        ("States.MathRandom(1)", "takes 2 to 3 argument(s)"),
        ("States.Format()", "takes at least 1 argument(s)"),
        ("States.Format('abc", "unterminated string literal"),
        ("States.Format('a\\n')", "a backslash must escape one of"),
        ("States.Array(1) x", "unexpected text after the closing ')'"),
        ("States.Array(1 2)", "expected ',' or ')'"),
        ("States.Array(foo)", "expected a 'string'"),
        ("States.Array($.a[)", "invalid path argument"),
        ("States.ArrayGetItem($.arr, )", "expected a 'string'"),
        ("States.Array(" * 11 + ")" * 11, "nest at most 10 deep"),
    ],
)
def test_syntax_errors_say_what_and_where(text, problem):
    with pytest.raises(intrinsics.IntrinsicSyntaxError) as raised:
        intrinsics.parse(text)
    assert problem in str(raised.value) and "at character" in str(raised.value)


def test_ten_nested_calls_are_allowed():
    assert run("States.Array(" * 10 + ")" * 10) == [[[[[[[[[[]]]]]]]]]]


def test_evaluate_turns_a_syntax_error_into_a_runtime_failure():
    assert invalid("States.Nope()").startswith(PREFIX + "Invalid intrinsic function 'States.Nope()'")


# -------------------------------------------------------------------------------- functions

@pytest.mark.parametrize(
    "text, data, expected",
    [
        ("States.Format('Formatting argument {}.', $.v)", {"v": None}, "Formatting argument null."),
        ("States.Format('{} {} {}', $.a, $.b, $.c)", {"a": 1, "b": 1.1, "c": True}, "1 1.1 true"),
        ("States.Format('fst={}', $.v)", {"v": {"Arg1": 1, "Arg2": []}}, "fst={Arg1=1, Arg2=[]}"),
        ("States.Format('{}', $.v)", {"v": ["x", 2.0]}, "[x, 2.0]"),
        ("States.Format('\\{\\} {} \\'q\\' \\\\', 'x')", {}, "{} x 'q' \\"),
        ("States.Format($.t, $.n)", {"t": "Hello, my name is {}.", "n": "Arnav"}, "Hello, my name is Arnav."),
        ("States.StringToJson($.s)", {"s": '{"Arg1": 1, "Arg2": []}'}, {"Arg1": 1, "Arg2": []}),
        ("States.StringToJson($.s)", {"s": " "}, None),
        ("States.StringToJson($.s)", {"s": "-0"}, 0),
        ("States.StringToJson($.s)", {"s": "1.1"}, 1.1),
        ("States.JsonToString($.v)", {"v": [1, 2, "HelloWorld"]}, '[1,2,"HelloWorld"]'),
        ("States.JsonToString($.v)", {"v": {"a": 1.0, "b": None}}, '{"a":1.0,"b":null}'),
        ("States.Array()", {}, []),
        ("States.Array($.a, 'x', 3)", {"a": {"k": 1}}, [{"k": 1}, "x", 3]),
        ("States.ArrayPartition($.a, 2)", {"a": [0, 1, 2, 3, 4]}, [[0, 1], [2, 3], [4]]),
        ("States.ArrayPartition($.a, 2.6)", {"a": [1, 2, 3, 4, 5]}, [[1, 2], [3, 4], [5]]),
        ("States.ArrayPartition($.a, 3)", {"a": []}, []),
        ("States.ArrayContains($.a, $.v)", {"a": [[1, 2, 3], 2], "v": [1, 2, 3]}, True),
        ("States.ArrayContains($.a, $.v)", {"a": [{"1": 2, "2": []}], "v": []}, False),
        ("States.ArrayContains($.a, 1)", {"a": [True, 1.0]}, False),
        ("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
        ("States.ArrayRange(0, 10, 3)", {}, [0, 3, 6, 9]),
        ("States.ArrayRange(5, 1, -2)", {}, [5, 3, 1]),
        ("States.ArrayRange(1, 5, -1)", {}, []),
        ("States.ArrayRange(3, 3, -1)", {}, [3]),
        ("States.ArrayRange(1.6, 1.4, 1)", {}, [1]),
        ("States.ArrayGetItem($.a, 5)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 6),
        ("States.ArrayGetItem($.a, 1.2)", {"a": [10, 20, 30]}, 20),
        ("States.ArrayGetItem($.a, 999)", {"a": []}, None),
        ("States.ArrayLength($.a)", {"a": [1, 2, 3]}, 3),
        ("States.ArrayUnique($.a)", {"a": [None, None, True, True, 1, 1, 1.0, "x", "x", [], [], {"a": 1}, {"a": 1}]},
         [None, True, 1, 1.0, "x", [], {"a": 1}]),
        ("States.Base64Encode($.s)", {"s": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
        ("States.Base64Decode($.s)", {"s": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
        ("States.Base64Encode('')", {}, ""),
        ("States.Hash('input data', 'MD5')", {}, "812f45842bc6d66ee14572ce20db8e86"),
        ("States.Hash('input data', 'SHA-1')", {}, "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("States.Hash('input data', 'SHA-256')", {}, "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
        ("States.JsonMerge($.a, $.b, false)", {"a": {"a": {"a1": 1}, "b": 2, "d": 3}, "b": {"a": {"a3": 1}, "c": 3, "d": 4}},
         {"a": {"a3": 1}, "b": 2, "c": 3, "d": 4}),
        ("States.StringSplit($.s, ',')", {"s": ", , ,"}, [" ", " "]),
        ("States.StringSplit($.s, ',')", {"s": ",,,,"}, []),
        ("States.StringSplit($.s, '.+,=')", {"s": "This.is+a,test=string"}, ["This", "is", "a", "test", "string"]),
        ("States.StringSplit('Hello\nWorld', '\n')", {}, ["Hello", "World"]),
        ("States.UUID()", {}, "00000000-0000-4000-8000-000000000000"),
        ("States.ArrayGetItem(States.StringSplit($$.StateMachine.Name, '-'), 0)", {}, "my"),
        ("States.ArrayPartition($.a, $$.Execution.Input.chunk)", {"a": [1, 2, 3]}, [[1, 2], [3]]),
    ],
)
def test_functions(text, data, expected):
    result = run(text, data)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    "first, second, total",
    # AWS rounds each argument like Java's Math.round (half up), then adds
    [(-9, 3, -6), (1.49, 1.5, 3), (1.5, 1.51, 4), (-1.49, -1.5, -2), (-1.5, -1.51, -3), (1.49, -1.49, 0),
     (0.5, 0, 1), (2.5, 0, 3), (-0.5, 0, 0), (-2.5, 0, -2), (-0.5, 0.5, 1), (0.49999999999999994, 0, 0)],
)
def test_math_add_rounds_like_java(first, second, total):
    assert run("States.MathAdd($.a, $.b)", {"a": first, "b": second}) == total


def test_math_random_stays_in_range_and_a_seed_makes_it_repeatable():
    values = {run("States.MathRandom(1.6, 5.4)") for _ in range(200)}
    assert values <= {1, 2, 3, 4} and len(values) > 1
    assert run("States.MathRandom(0, 999, 3)") == run("States.MathRandom(0, 999, 3)")


def test_math_random_uses_the_scope_generator():
    first = intrinsics.evaluate("States.MathRandom(0, 1000000)", {}, Scope({}, "s", 1, random=random.Random(1)))
    again = intrinsics.evaluate("States.MathRandom(0, 1000000)", {}, Scope({}, "s", 1, random=random.Random(1)))
    assert first == again


def test_uuid_and_unseeded_random_need_the_callers_sources():
    # the interpreter is pure: identifiers and randomness come from the caller, never a global
    for text in ("States.UUID()", "States.MathRandom(0, 10)"):
        with pytest.raises(Failure) as raised:
            intrinsics.evaluate(text, {}, Scope({}, "s", 1))
        assert raised.value.error == "States.Runtime" and "none was given" in raised.value.cause


@pytest.mark.parametrize(
    "text, data",
    [
        ("States.Format('{} {}', 'only one')", {}),
        ("States.Format($.t)", {"t": 5}),
        ("States.StringToJson($.s)", {"s": "{nope"}),
        ("States.StringToJson($.s)", {"s": 5}),
        ("States.StringToJson('NaN')", {}),
        ("States.ArrayPartition('not-array', 2)", {}),
        ("States.ArrayPartition($.a, 0.6)", {"a": [1]}),
        ("States.ArrayPartition($.a, -1)", {"a": [1]}),
        ("States.ArrayPartition($.a, '2')", {"a": [1]}),
        ("States.ArrayPartition($.a, null)", {"a": [1]}),
        ("States.ArrayContains('x', 1)", {}),
        ("States.ArrayRange(1, 10, 0.49)", {}),
        ("States.ArrayRange('a', 5, 1)", {}),
        ("States.ArrayRange(1, 1001, 1)", {}),
        ("States.ArrayGetItem($.a, 3)", {"a": [10, 20, 30]}),
        ("States.ArrayGetItem($.a, -1)", {"a": [10, 20, 30]}),
        ("States.ArrayGetItem($.a, '1')", {"a": [10, 20, 30]}),
        ("States.ArrayLength($.a)", {"a": {"k": 1}}),
        ("States.ArrayUnique('x')", {}),
        ("States.Base64Decode('not base64!')", {}),
        ("States.Base64Decode('/w==')", {}),  # decodes to bytes that are not UTF-8
        ("States.Base64Encode($.s)", {"s": "x" * 10_001}),
        ("States.Hash('data', 'SHA-999')", {}),
        ("States.Hash($.s, 'MD5')", {"s": "x" * 10_001}),
        ("States.JsonMerge($.a, $.b, true)", {"a": {}, "b": {}}),
        ("States.JsonMerge($.a, $.b, false)", {"a": [], "b": {}}),
        ("States.MathRandom(1, 1)", {}),
        ("States.MathRandom(10, 5)", {}),
        ("States.MathRandom(1.4, 1.6)", {}),
        ("States.MathRandom(1, 10, 'seed')", {}),
        ("States.MathAdd(1, 'NOT A NUMBER')", {}),
        ("States.MathAdd(true, 1)", {}),
        ("States.StringSplit(1, ',')", {}),
    ],
)
def test_invalid_arguments_fail_like_aws(text, data):
    name = text.split("(")[0]
    assert invalid(text, data) == PREFIX + f"Invalid arguments in {name}"


def test_an_invalid_nested_call_names_the_inner_function():
    assert invalid("States.Array(States.MathAdd('a', 1))") == PREFIX + "Invalid arguments in States.MathAdd"


def test_a_missing_path_argument_fails_with_the_template_cause():
    with pytest.raises(Failure) as raised:
        intrinsics.evaluate("States.ArrayPartition($.missing, 2)", {}, SCOPE, field="parts.$")
    assert raised.value.cause == (
        PREFIX + "The JSONPath '$.missing' specified for the field 'parts.$' could not be found in the input '{}'"
    )


def test_variables_as_arguments():
    scope = Scope({}, "s", 1, variables={"name": "John", "json1": {"a": 1}, "json2": {"b": 2}})
    assert intrinsics.evaluate("States.Format('Hello {}!', $name)", {}, scope) == "Hello John!"
    assert intrinsics.evaluate("States.JsonMerge($json1, $json2, false)", {}, scope) == {"a": 1, "b": 2}


# ------------------------------------------------------------------------------- properties

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=10,
)


@given(st.text(max_size=200))
def test_base64_round_trips(text):
    encoded = run("States.Base64Encode($.s)", {"s": text})
    assert encoded == base64.b64encode(text.encode()).decode()
    assert run("States.Base64Decode($.s)", {"s": encoded}) == text


@settings(max_examples=60)
@given(st.lists(json_values, max_size=20), st.integers(1, 25))
def test_array_partition_concatenates_back_to_the_input(items, size):
    chunks = run("States.ArrayPartition($.a, $.n)", {"a": items, "n": size})
    assert [item for chunk in chunks for item in chunk] == items
    assert all(len(chunk) == size for chunk in chunks[:-1]) and all(1 <= len(chunk) <= size for chunk in chunks)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_json_to_string_and_back(value):
    text = run("States.JsonToString($.v)", {"v": value})
    assert run("States.StringToJson($.s)", {"s": text}) == value
    assert json.loads(text) == value


@given(st.integers(-500, 500), st.integers(-500, 500), st.integers(-50, 50).filter(bool))
def test_array_range_length_and_bounds(start, end, step):
    values = run("States.ArrayRange($.a, $.b, $.c)", {"a": start, "b": end, "c": step})
    assert len(values) == max(0, (end - start) // step + 1)
    assert all(b - a == step for a, b in zip(values, values[1:]))
    assert all(min(start, end) <= v <= max(start, end) for v in values)
    assert values[:1] == ([start] if values else [])


@settings(max_examples=60)
@given(st.lists(json_values, max_size=12))
def test_array_unique_is_idempotent_and_keeps_first_occurrences(items):
    unique = run("States.ArrayUnique($.a)", {"a": items})
    assert run("States.ArrayUnique($.a)", {"a": unique}) == unique
    assert all(any(intrinsics.jsonpath.json_equal(item, kept) for kept in unique) for item in items)


@given(st.text(max_size=40), st.text(alphabet=",;-", min_size=1, max_size=3))
def test_string_split_pieces_are_non_empty_and_free_of_delimiters(text, delimiters):
    pieces = run("States.StringSplit($.s, $.d)", {"s": text, "d": delimiters})
    assert all(piece and not set(piece) & set(delimiters) for piece in pieces)
    assert "".join(pieces) == "".join(ch for ch in text if ch not in delimiters)


def test_compile_call_is_cached_and_evaluates_like_evaluate():
    run = intrinsics.compile_call("States.MathAdd($.a, 2)", field="n.$")
    assert run is intrinsics.compile_call("States.MathAdd($.a, 2)", field="n.$")
    assert run({"a": 1}, SCOPE) == 3 == intrinsics.evaluate("States.MathAdd($.a, 2)", {"a": 1}, SCOPE)


def test_compile_call_defers_a_syntax_error_to_the_evaluation():
    run = intrinsics.compile_call("States.Format(")
    with pytest.raises(Failure) as raised:
        run({}, SCOPE)
    assert raised.value.error == RUNTIME


def test_a_missing_path_argument_names_the_field():
    with pytest.raises(Failure) as raised:
        intrinsics.compile_call("States.ArrayLength($.items)", field="n.$")({"x": 1}, SCOPE)
    assert "The JSONPath '$.items' specified for the field 'n.$' could not be found" in raised.value.cause
