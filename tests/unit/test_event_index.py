"""RuleIndex gives exactly the answers of checking every pattern (hypothesis), and files and
unfiles rules cleanly."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InvalidEventPattern
from engine.eventbus.index import RuleIndex
from engine.eventbus.patterns import compile_pattern

STRINGS = st.sampled_from(["a", "ab", "abc", "", "10.0.0.1", "x.png", "A"])
NUMBERS = st.sampled_from([0, 1, 1.0, 7.5, -3])
LEAVES = STRINGS | NUMBERS | st.none() | st.booleans()
PATHS = ["a", "b", "c", "a.b"]

MATCHER = LEAVES | st.one_of(
    st.builds(lambda s: {"prefix": s}, STRINGS),
    st.builds(lambda s: {"prefix": {"equals-ignore-case": s}}, STRINGS),
    st.builds(lambda s: {"suffix": s}, STRINGS),
    st.builds(lambda s: {"equals-ignore-case": s}, STRINGS),
    st.builds(lambda s: {"anything-but": s}, STRINGS | NUMBERS),
    st.builds(lambda s: {"anything-but": s}, st.lists(STRINGS, min_size=1, max_size=3)),
    st.builds(lambda s: {"anything-but": {"prefix": s}}, STRINGS.filter(bool)),
    st.builds(lambda low, width: {"numeric": [">", low, "<=", low + width]}, NUMBERS, st.integers(1, 50)),
    st.builds(lambda value: {"numeric": ["<", value]}, NUMBERS),
    st.builds(lambda flag: {"exists": flag}, st.booleans()),
    st.builds(lambda s: {"wildcard": s}, st.sampled_from(["a*", "*b", "*", "a*c"])),
    st.just({"cidr": "10.0.0.0/24"}),
)
FIELDS = st.dictionaries(st.sampled_from(PATHS), st.lists(MATCHER, min_size=1, max_size=3), min_size=1, max_size=3)


def nest(fields: dict) -> dict:
    """Put some fields under "detail" and some at the top, as patterns do."""
    return {"detail": dict(fields)} if "a" in fields else dict(fields)


PATTERN = st.one_of(
    FIELDS.map(nest),
    st.tuples(FIELDS, FIELDS, FIELDS).map(lambda t: {**nest(t[0]), "$or": [nest(t[1]), nest(t[2])]}),
)
VALUE = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=3) |
                     st.dictionaries(st.sampled_from(PATHS + ["b"]), inner, max_size=3), max_leaves=8)
EVENT = st.dictionaries(st.sampled_from(PATHS), VALUE, max_size=4).flatmap(
    lambda top: st.dictionaries(st.sampled_from(PATHS), VALUE, max_size=4).map(lambda detail: {**top, "detail": detail}))


def instance(data: st.DataObject, pattern) -> dict:
    """An event built from one branch of ``pattern``: exact values and prefixes taken from it."""
    event: dict = {}
    branch = data.draw(st.sampled_from(pattern.branches))
    for field in branch:
        made = [_leaf(m.arg) for m in field.matchers if m.kind == "exact"] + \
            [m.arg + "z" for m in field.matchers if m.kind == "prefix"]
        value = data.draw(st.sampled_from(made) if made else LEAVES)
        *parents, last = field.path.split(".")
        node = event
        for step in parents:
            node = node.setdefault(step, {}) if isinstance(node.get(step, {}), dict) else {}
        node[last] = data.draw(st.sampled_from([value, [value], ["zz", value]]))
    return event


def _leaf(key: tuple):
    kind = key[0]
    if kind == "s":
        return key[1]
    if kind == "n":
        return round(key[1] / 1e6 - 5e9, 6)
    if kind == "ip":
        return "10.0.0.1"
    return {"z": None, "b": key[-1]}.get(kind, key[-1])


def naive(patterns: dict, event: dict) -> set:
    return {key for key, pattern in patterns.items() if pattern.matches(event)}


def indexed(raw_patterns: list) -> tuple[dict, RuleIndex]:
    """The compilable ones of ``raw_patterns`` by number, and a RuleIndex of them."""
    patterns, index = {}, RuleIndex()
    for number, raw in enumerate(raw_patterns):
        try:
            patterns[number] = index.add(number, raw)
        except InvalidEventPattern:
            continue
    return patterns, index


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PATTERN, min_size=1, max_size=12), st.lists(EVENT, min_size=1, max_size=8), st.data())
def test_index_answers_as_checking_every_pattern(raw_patterns, events, data):
    patterns, index = indexed(raw_patterns)
    events = events + [instance(data, pattern) for pattern in patterns.values()]
    for event in events:
        assert index.match(event) == naive(patterns, event)
    removed = data.draw(st.sets(st.sampled_from(sorted(patterns)))) if patterns else set()
    for key in removed:
        index.remove(key)
        del patterns[key]
    for event in events:
        assert index.match(event) == naive(patterns, event)


def test_exact_fields_walk_the_trie_and_removal_prunes_it():
    index = RuleIndex()
    index.add("r1", {"source": ["s1", "s2"], "detail-type": ["t"]})
    index.add("r2", {"source": ["s1"]})
    assert index.match({"source": "s2", "detail-type": "t"}) == {"r1"}
    assert index.match({"source": "s1", "detail-type": "t"}) == {"r1", "r2"}
    assert index.match({"source": ["s3", "s1"], "detail-type": "u"}) == {"r2"}
    index.remove("r1")
    index.remove("r2")
    index.remove("unknown")
    assert not index._root.edges and not index._root.branches and not index._wanted
    assert index.match({"source": "s1", "detail-type": "t"}) == set() and len(index) == 0


def test_prefix_presence_and_absence_filing():
    index = RuleIndex()
    index.add("prefix", {"detail": {"k": [{"prefix": "ab"}, {"prefix": ""}]}})
    index.add("numeric", {"detail": {"n": [{"numeric": [">", 3]}]}})
    index.add("absent", {"detail": {"k": [{"exists": False}]}})
    assert index.match({"detail": {"k": "abc", "n": 4}}) == {"prefix", "numeric"}
    index.add("zz", {"detail": {"k": [{"prefix": "zz"}]}})
    assert index.match({"detail": {"k": "zz9"}}) == {"prefix", "zz"}
    index.remove("zz")
    assert index.match({"detail": {"n": 1}}) == {"absent"}
    assert index.match({"detail": {"k": 5}}) == set()
    for key in ("prefix", "numeric", "absent"):
        index.remove(key)
    assert not index._prefix and not index._prefix_lengths and not index._presence and not index._always


def test_replacing_a_rule_and_compiled_patterns():
    index = RuleIndex()
    index.add("r", {"source": ["a"]})
    index.add("r", compile_pattern({"source": ["b"]}))
    assert index.match({"source": "a"}) == set() and index.match({"source": "b"}) == {"r"}
    assert "r" in index and index.pattern("r").source == '{"source": ["b"]}'
    with pytest.raises(InvalidEventPattern):
        index.add("bad", {"source": "a"})
    assert "bad" not in index


def test_many_values_in_many_fields_stop_forking():
    index = RuleIndex()
    values = [str(n) for n in range(10)]
    index.add("wide", {"a": values, "b": values, "c": values})
    assert index.match({"a": "3", "b": "4", "c": "9"}) == {"wide"}
    assert index.match({"a": "3", "b": "4", "c": "x"}) == set()
