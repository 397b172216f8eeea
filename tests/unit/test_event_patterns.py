"""EventBridge event patterns: the recorded AWS corpus replayed through compile_pattern / check_event
/ matches, hand-written cases per operator, and generated patterns that must compile or be refused
with InvalidEventPattern (never crash)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InvalidEventPattern, ValidationException
from engine.eventbus.patterns import check_event, compile_pattern

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance" / "events" / "cases.jsonl"
ENVELOPE = {"version": "0", "id": "1", "source": "test-source", "detail-type": "test-detail-type",
            "account": "123456789012", "time": "2022-07-13T13:48:01Z", "region": "us-east-1", "resources": []}


def _cases() -> list[dict]:
    if not CORPUS.exists():
        if os.environ.get("CI"):
            raise FileNotFoundError(f"the event-pattern corpus is missing: {CORPUS}")
        return []
    return [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]


CASES = _cases()
needs_corpus = pytest.mark.skipif(not CASES, reason=f"no corpus at {CORPUS} (required under CI)")


def _wire(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _outcome(case: dict) -> dict:
    try:
        pattern = compile_pattern(_wire(case["pattern"]))
        event = check_event(_wire(case["event"]))
        return {"result": pattern.matches(event)}
    except (InvalidEventPattern, ValidationException) as error:
        return {"error": error.code, "message": error.message}


@needs_corpus
@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_corpus_case(case):
    expected, got = case["expected"], _outcome(case)
    if "result" in expected:
        assert got == {"result": expected["result"]}
    else:
        assert got.get("error") == expected["error"], got
        assert got["message"].split("\n")[0] == expected["message"]
        assert got["message"] == expected.get("message_full", expected["message"])


@needs_corpus
def test_corpus_is_the_public_set():
    assert len(CASES) == 144
    assert sum("error" in case["expected"] for case in CASES) == 37


def event(**detail) -> dict:
    return {**ENVELOPE, "detail": detail}


def matches(pattern, evt) -> bool:
    return compile_pattern(pattern).matches(evt)


def reason(pattern) -> str:
    with pytest.raises(InvalidEventPattern) as caught:
        compile_pattern(pattern)
    assert caught.value.code == "InvalidEventPatternException" and caught.value.status == 400
    return caught.value.message.split("\n")[0].removeprefix("Event pattern is not valid. Reason: ")


@pytest.mark.parametrize("values, value, expected", [
    (["a"], "a", True), (["a"], "A", False), (["a"], ["x", "a"], True), (["a"], ["x"], False),
    ([300], 300.0, True), ([300], "300", False), (["300"], 300, False), ([1.5], 1.5000000001, True),
    ([True], True, True), ([True], 1, False), ([1], True, False), ([None], None, True),
    ([None], "null", False), ([""], "", True), ([""], None, False), (["10.0.0.1"], "10.0.0.1", True),
    (["2001:db8::1"], "2001:0DB8:0:0:0:0:0:1", True), ([123456789012], 123456789012, True),
])
def test_exact_values(values, value, expected):
    assert matches({"detail": {"v": values}}, event(v=value)) is expected


def test_missing_fields_and_objects_never_match_values():
    assert not matches({"detail": {"v": [None]}}, event())
    assert not matches({"detail": {"v": ["x"]}}, event(v={"x": 1}))
    assert not matches({"detail": {"v": [None]}}, event(v=[]))


@pytest.mark.parametrize("matcher, value, expected", [
    ({"prefix": "ab"}, "abc", True), ({"prefix": "ab"}, "xab", False), ({"prefix": ""}, "", True),
    ({"prefix": "1"}, 12, False), ({"prefix": {"equals-ignore-case": "AB"}}, "abc", True),
    ({"suffix": ".png"}, "a.png", True), ({"suffix": ".png"}, "a.PNG", False),
    ({"suffix": {"equals-ignore-case": ".PNG"}}, "a.png", True), ({"suffix": ""}, None, False),
    ({"equals-ignore-case": "AbC"}, "aBc", True), ({"equals-ignore-case": "abc"}, "abcd", False),
    ({"wildcard": "a*c"}, "ac", True), ({"wildcard": "a*c"}, "abbbc", True), ({"wildcard": "a*c"}, "abd", False),
    ({"wildcard": "a\\*c"}, "a*c", True), ({"wildcard": "a\\*c"}, "abc", False), ({"wildcard": "a\\\\"}, "a\\", True),
    ({"wildcard": "*"}, 5, False), ({"cidr": "10.0.0.0/24"}, "10.0.0.255", True),
    ({"cidr": "10.0.0.0/24"}, "10.0.1.0", False), ({"cidr": "10.0.0.8/24"}, "10.0.0.7", False),
    ({"cidr": "2001:db8::/32"}, "2001:db8:ffff::1", True), ({"cidr": "2001:db8::/32"}, "10.0.0.1", False),
    ({"exists": True}, None, True), ({"exists": False}, "x", False),
])
def test_string_operators(matcher, value, expected):
    assert matches({"detail": {"v": [matcher]}}, event(v=value)) is expected


@pytest.mark.parametrize("operands, value, expected", [
    ([">", 0, "<=", 5], 5, True), ([">", 0, "<=", 5], 0, False), ([">", 0, "<=", 5], 5.0000001, True),
    ([">=", 1.5], 1.5, True), (["<", 10], 9.999, True), (["<", 10], 10, False), (["=", 301.8], 301.8, True),
    (["=", 3.018e2], 301.8, True), ([">", 100], "300", False), ([">", 100], None, False),
    ([">", 100], True, False), ([">", 100], 6e9, False), (["<", 0], -1, True),
])
def test_numeric(operands, value, expected):
    assert matches({"detail": {"v": [{"numeric": operands}]}}, event(v=value)) is expected


@pytest.mark.parametrize("operand, value, expected", [
    ("a", "b", True), ("a", "a", False), ("a", None, True), ("a", 5, True), (["a", "b"], "b", False),
    (123, 123.0, False), (123, "123", True), ([1, 2], 3, True), ({"prefix": "in"}, "init", False),
    ({"prefix": ["x", "in"]}, "init", False), ({"prefix": "in"}, 12, True), ({"suffix": ".t"}, "a.t", False),
    ({"equals-ignore-case": ["A", "b"]}, "a", False), ({"equals-ignore-case": "A"}, "B", True),
    ({"wildcard": "*/lib/*"}, "x/lib/y", False), ({"wildcard": ["*.a", "*.b"]}, "x.c", True),
])
def test_anything_but(operand, value, expected):
    assert matches({"detail": {"v": [{"anything-but": operand}]}}, event(v=value)) is expected


def test_anything_but_needs_a_value_and_matches_any_array_element():
    pattern = {"detail": {"v": [{"anything-but": "a"}]}}
    assert not matches(pattern, event())
    assert matches(pattern, event(v=["a", "b"]))
    assert not matches(pattern, event(v=["a"]))


def test_exists_on_leaves_lists_and_parents():
    assert matches({"detail": {"v": [{"exists": False}]}}, event(v={"inner": 1}))
    assert not matches({"detail": {"v": [{"exists": True}]}}, event(v={"inner": 1}))
    assert not matches({"detail": {"v": [{"exists": True}]}}, event(v=[]))
    assert matches({"detail": {"v": {"id": [{"exists": True}]}}}, event(v=[{"x": 1}, {"id": 2}]))
    assert matches({"detail": {"a": {"b": [{"exists": False}]}}}, event())


def test_or_and_multiple_matchers():
    pattern = {"source": ["test-source"], "$or": [{"detail": {"a": ["1"]}}, {"detail": {"b": [{"numeric": [">", 5]}]}}]}
    assert matches(pattern, event(a="1"))
    assert matches(pattern, event(b=6))
    assert not matches(pattern, event(a="2", b=5))
    assert matches({"detail": {"v": [{"prefix": "x"}, 7, {"exists": False}]}}, event())
    assert matches({"detail": {"v": [{"prefix": "x"}, 7, {"exists": False}]}}, event(v=7))
    assert not matches({"detail": {"v": [{"prefix": "x"}, 7, {"exists": False}]}}, event(v=8))


def test_dotted_keys_on_either_side():
    assert matches({"detail": {"a.b": ["x"]}}, event(a={"b": "x"}))
    assert matches({"detail": {"a": {"b": ["x"]}}}, event(**{"a.b": "x"}))


def test_fields_in_one_array_element_must_match_together():
    pattern = {"detail": {"items": {"sku": ["a"], "qty": [2]}}}
    assert matches(pattern, event(items=[{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]))
    assert not matches(pattern, event(items=[{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]))


def test_duplicate_keys_last_wins_but_objects_merge():
    assert matches('{"source": ["x"], "source": ["test-source"]}', event())
    assert not matches('{"source": ["test-source"], "source": ["x"]}', event())
    merged = compile_pattern('{"detail": {"a": ["1"]}, "detail": {"b": ["2"]}}')
    assert merged.matches(event(a="1", b="2")) and not merged.matches(event(a="1"))


def test_text_after_the_pattern_object_is_ignored_as_aws_does():
    assert matches('{"source": ["test-source"]} and more', event())


@pytest.mark.parametrize("pattern, expected", [
    ("{}", "Empty objects are not allowed"),
    ({"a": [{}]}, "Match expression name not found"),
    ({"a": [["x"]]}, "Match value must be String, number, true, false, or null"),
    ({"a": [{"prefix": "x", "suffix": "y"}]}, "Only one key allowed in match expression"),
    ({"a": [{"numeric": [">", 5, "<", 1]}]}, "Bottom must be less than top"),
    ({"a": [{"numeric": [">", 6e9]}]}, "Value must be between -5.0E9 and 5.0E9, inclusive"),
    ({"a": [{"numeric": ["<", 1, ">", 0]}]}, "Too many elements in numeric expression"),
    ({"a": [{"numeric": [">", 1, "<", 5, "x"]}]}, "Too many terms in numeric range expression"),
    ({"a": [{"numeric": ["!", 1]}]}, "Unrecognized numeric range operator: !"),
    ({"a": [{"numeric": [1]}]}, "Invalid member in numeric match: 1"),
    ({"a": [{"anything-but": [1, "a"]}]},
     "Inside anything but list, either all values are number or string, mixed type is not supported"),
    ({"a": [{"anything-but": {"foo": "x"}}]}, "Unsupported anything-but pattern: foo"),
    ({"a": [{"anything-but": {"wildcard": 1}}]}, "wildcard match pattern must be a string"),
    ({"a": [{"wildcard": "a**"}]}, "Consecutive wildcard characters at pos 2"),
    ({"a": [{"wildcard": "a\\b"}]}, "Invalid escape character at pos 2"),
    ({"a": [{"exists": "yes"}]}, "exists match pattern must be either true or false."),
    ({"a": [{"cidr": "10.0.0.0/32"}]}, "IPv4 mask bits must be < 32"),
    ({"a": [{"cidr": "10.0.0.0/-1"}]}, "Malformed CIDR, mask bits must not be negative"),
    ({"a": [{"cidr": "300.0.0.0/8"}]}, "Invalid IP address: 300.0.0.0"),
    ({"a": [{"prefix": {"exactly": "x"}}]}, "Unsupported prefix pattern: exactly"),
    ({"$or": [{"a": ["1"]}]}, "There must have at least 2 Objects in $or relationship."),
    ({"$or": {"a": ["1"]}}, "It must be an Array followed with $or."),
    ({"$or": [{"a": ["1"]}, "b"]}, "Only JSON object is allowed in array of $or relationship."),
    ({"$or": [{"numeric": ["1"]}, {"b": ["x"]}]}, "numeric is Ruler reserved fieldName which cannot be used inside $or."),
    ({"a": [{"wildcard": "*a*a*a*a*a*"}]},
     "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"),
    ('{"a": ["b"]', "Unexpected end-of-input: expected close marker for OBJECT (start marker at "
                    '[Source: (String)"{"a": ["b"]"; line: 1, column: 1])'),
    ('{"a": [tru]}', "Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
    ("", "Filter is not an object"),
])
def test_invalid_patterns(pattern, expected):
    assert reason(pattern) == expected


def test_positions_follow_jackson_over_lines():
    with pytest.raises(InvalidEventPattern) as caught:
        compile_pattern('{\n  "a": [\n    {"prefix": 1}]}')
    assert caught.value.message.endswith("line: 3, column: 17]")


def test_wildcard_complexity_is_per_field_over_all_its_patterns():
    compile_pattern({"a": [{"wildcard": "*:*:*:*:event-bus/*"}]})
    assert reason({"a": [{"wildcard": f"*/datasync/*.{ext}"} for ext in ("bif", "tiff", "tif", "svs")]}) \
        .startswith("Rule is too complex")
    compile_pattern({"a": [{"wildcard": "*/x/*"}], "b": [{"wildcard": "*/y/*"}], "c": [{"wildcard": "*/z/*"}]})


def test_check_event():
    assert check_event(json.dumps(ENVELOPE)) == ENVELOPE
    for bad in ("plain string", "[1]", json.dumps({k: v for k, v in ENVELOPE.items() if k != "region"})):
        with pytest.raises(ValidationException) as caught:
            check_event(bad)
        assert caught.value.message == "Parameter Event is not valid."


# -- generated patterns: they compile or are refused, never crash -------------------------------

KEYS = st.sampled_from(["a", "b", "c.d", "source", "detail", "$or", "prefix", "numeric", ""])
SCALARS = st.none() | st.booleans() | st.integers(-10, 10**10) | st.floats(allow_nan=False) | \
    st.text(alphabet="ab*\\/.:0123456789 ", max_size=8)
OPERATORS = st.sampled_from(["prefix", "suffix", "anything-but", "numeric", "exists", "cidr", "wildcard",
                             "equals-ignore-case", "exactly", "NUMERIC", "bogus"])
OPERANDS = st.recursive(SCALARS | st.sampled_from([">", "<=", "=", "10.0.0.0/8", "::/0"]),
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(OPERATORS, inner, max_size=2),
                        max_leaves=6)
MATCHERS = SCALARS | st.dictionaries(OPERATORS, OPERANDS, min_size=0, max_size=2) | st.lists(SCALARS, max_size=2)
PATTERNS = st.recursive(st.lists(MATCHERS, max_size=3),
                        lambda inner: st.dictionaries(KEYS, inner | st.lists(inner, max_size=3), max_size=3),
                        max_leaves=10)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PATTERNS)
def test_generated_patterns_compile_or_are_refused(pattern):
    try:
        compiled = compile_pattern(pattern)
    except InvalidEventPattern as error:
        assert error.message.startswith("Event pattern is not valid. Reason: ")
        return
    compiled.matches(event(a="x", b=[1, "a"], d={"e": None}))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]":,ab01 .-*\\etrufalsn\n', max_size=40))
def test_arbitrary_text_compiles_or_is_refused(text):
    try:
        compile_pattern(text)
    except InvalidEventPattern as error:
        assert error.message.startswith("Event pattern is not valid. Reason: ")
