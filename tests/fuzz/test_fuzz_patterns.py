"""Fuzz the event-pattern matcher beyond tests/unit/test_event_patterns.py (generated patterns)
and tests/unit/test_event_index.py (RuleIndex against per-pattern matching): pattern text from
a wide alphabet, huge numbers, deep nesting and invalid UTF-8; events with awkward values. A
pattern compiles or is refused with InvalidEventPattern; matching answers a bool; an event text
is accepted or refused with ValidationException; the index still agrees with the patterns."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidEventPattern, ValidationException
from engine.eventbus.patterns import check_event, compile_pattern

from fuzzing import DEEP_TEXT, HUGE_NUMBERS, SCALARS, budget, corpus, json_values, mangle

# the strategies of the unit tests, reused (tests/unit is on sys.path: see conftest.py)
from test_event_index import PATTERN, indexed, naive  # noqa: E402
from test_event_patterns import PATTERNS  # noqa: E402

TEXT_ALPHABET = st.sampled_from(list('{}[]":,ab01 .-+eE*\\/trufalsn\n\t') +
                                ["\ud800", "\u00e9", "\x00", "9" * 30, "1e400", "prefix", "numeric", "anything-but",
                                 "exists", "cidr", "wildcard", "suffix", "equals-ignore-case", "$or", "\\u0000"])
PATTERN_TEXT = st.lists(TEXT_ALPHABET, max_size=40).map("".join) | DEEP_TEXT
OPERANDS = st.sampled_from([
    {"numeric": [">", 10**400]}, {"numeric": ["=", 1e308]}, {"numeric": ["<", -10**20, ">", 10**20]},
    {"numeric": [">=", 5e9, "<", 5.000000001e9]}, {"cidr": "::/0"}, {"cidr": "10.0.0.0/33"}, {"cidr": "1.2.3.4/"},
    {"prefix": "\ud800"}, {"wildcard": "*" * 20}, {"anything-but": [10**400]}, {"anything-but": {"suffix": ""}},
    {"exists": False},
])
AWKWARD_PATTERN = st.dictionaries(st.sampled_from(["a", "detail", "source", "é"]),
                                  st.lists(OPERANDS | HUGE_NUMBERS | SCALARS, min_size=1, max_size=3),
                                  min_size=1, max_size=3)
EVENT_VALUES = json_values(keys=st.sampled_from(["a", "b", "c", "d", "detail", "source", "e"]), max_leaves=12)
EVENTS = st.dictionaries(st.sampled_from(["a", "b", "c", "source"]), EVENT_VALUES, max_size=4).map(
    lambda top: {**top, "detail": top.get("detail", {})})


def compiled_or_none(pattern):
    try:
        return compile_pattern(pattern)
    except InvalidEventPattern as refused:
        assert refused.message.startswith("Event pattern is not valid. Reason: ")
        return None


def matches(pattern, event) -> None:
    assert pattern.matches(event) in (True, False)


@pytest.mark.parametrize("case", corpus("patterns"))
def test_corpus(case):
    pattern = compiled_or_none(case["pattern"])
    if pattern is not None:
        for event in case.get("events", []):
            matches(pattern, event)
    for text in case.get("event_texts", []):
        with pytest.raises(ValidationException):
            check_event(text)


@budget(300)
@given(PATTERN_TEXT)
def test_pattern_text(text):
    compiled_or_none(text)


@budget(150)
@given(AWKWARD_PATTERN, st.lists(EVENTS, max_size=4))
def test_awkward_operands_against_awkward_events(raw, events):
    pattern = compiled_or_none(raw)
    if pattern is not None:
        for event in events:
            matches(pattern, event)


@budget(150)
@given(PATTERNS, st.lists(EVENTS, min_size=1, max_size=4))
def test_generated_patterns_against_awkward_events(raw, events):
    pattern = compiled_or_none(raw)
    if pattern is not None:
        for event in events:
            matches(pattern, event)


@budget(100)
@given(st.lists(PATTERN | AWKWARD_PATTERN, min_size=1, max_size=8), st.lists(EVENTS, min_size=1, max_size=6))
def test_index_agrees_on_awkward_events(raw_patterns, events):
    patterns, index = indexed(raw_patterns)
    for event in events:
        assert index.match(event) == naive(patterns, event)


@budget(150)
@given(st.data(), EVENTS | EVENT_VALUES)
def test_event_text(data, value):
    """TestEventPattern's Event: text, damaged bytes, deep text -> a dict or ValidationException."""
    text = json.dumps(value)
    for candidate in (text, mangle(text, data), data.draw(DEEP_TEXT)):
        try:
            assert isinstance(check_event(candidate), dict)
        except ValidationException:
            pass
