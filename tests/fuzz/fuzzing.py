"""What the fuzzers share: their budget, JSON-ish strategies that reach the awkward corners
(huge numbers, deep nesting, lone surrogates, invalid UTF-8, unknown fields) and the corpus.

The corpus (``corpus/<fuzzer>/*.json``) keeps every input a fuzzer found that once broke the
engine: each file is ``{"note": ..., "input": ...}`` and the fuzzer's module replays them all
as ordinary test cases, so a fixed bug stays fixed even if hypothesis never draws it again.
Bytes that are not UTF-8 are stored as ``{"base64": "..."}``.
"""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"

# examples per fuzzer are written for fuzz-ci; fuzz-long multiplies them
_SCALE = {"fuzz-ci": 1, "fuzz-long": 25}
for _name in _SCALE:
    settings.register_profile(_name, deadline=None, derandomize=False, print_blob=True,
                              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.filter_too_much])
PROFILE = os.environ.get("STEPSTONE_FUZZ_PROFILE", "fuzz-ci")
if PROFILE not in _SCALE:
    raise ValueError(f"STEPSTONE_FUZZ_PROFILE={PROFILE!r}: expected one of {sorted(_SCALE)}")


def budget(examples: int) -> settings:
    """The settings of one fuzzer: ``examples`` under fuzz-ci, scaled under the other profiles."""
    return settings(settings.get_profile(PROFILE), max_examples=examples * _SCALE[PROFILE])


# --- corpus -----------------------------------------------------------------------------------

def corpus(fuzzer: str) -> list:
    """pytest params of every kept input of ``fuzzer``, named after their files."""
    import pytest

    cases = []
    for path in sorted((CORPUS / fuzzer).glob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        cases.append(pytest.param(_decode(case["input"]), id=path.stem))
    return cases


def _decode(value):
    if isinstance(value, dict) and set(value) == {"base64"}:
        return base64.b64decode(value["base64"])
    return value


# --- strategies -------------------------------------------------------------------------------

AWKWARD_STRINGS = st.sampled_from([
    "", " ", "\x00", "\ud800", "\udfff", "\u2028", "\ufeff", "é", "😀", "$", "$$", "$.", "{%", "%}",
    "{% %}", "States.", "null", "true", "1e400", "-0", "NaN", "Infinity", "\\", "'", '"', "a" * 300,
])
HUGE_NUMBERS = st.sampled_from([
    10**20, -10**20, 2**63, -2**63 - 1, 2**64, 10**400, -10**400, 1e308, -1e308, 5e-324, -0.0,
    1.7976931348623157e308, 2**53 + 1, 9007199254740993,
])
SCALARS = (st.none() | st.booleans() | st.integers(-3, 3) | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
           | HUGE_NUMBERS | st.text(max_size=8) | AWKWARD_STRINGS)


def json_values(keys=st.text(max_size=6), leaves=SCALARS, max_leaves: int = 12):
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                        max_leaves=max_leaves)


def nest(value, depth: int, kind: str):
    """``value`` wrapped ``depth`` times in arrays or single-key objects (no recursion: depth may be huge)."""
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


# values as deep as the API accepts (history.MAX_DEPTH); deeper ones exist only as text (DEEP_TEXT)
DEEP = st.builds(nest, SCALARS, st.integers(50, 512), st.sampled_from(["list", "dict"]))


def deep_text(depth: int, kind: str) -> str:
    """JSON text nested ``depth`` deep, built as text (json.dumps itself would overflow)."""
    open_, close = ("[", "]") if kind == "list" else ('{"a":', "}")
    return open_ * depth + "1" + close * depth


DEEP_TEXT = st.builds(deep_text, st.integers(50, 100_000), st.sampled_from(["list", "dict"]))


def to_json(value) -> str:
    """JSON text of a value that may be nested deeper than json.dumps can go."""
    try:
        return json.dumps(value)
    except RecursionError:
        depth, kind = 0, "list" if isinstance(value, list) else "dict"
        while isinstance(value, (list, dict)) and value:
            value = value[0] if isinstance(value, list) else next(iter(value.values()))
            depth += 1
        return deep_text(depth, kind)


def mangle(text: str, data: st.DataObject) -> bytes:
    """``text`` as UTF-8 with damage: bytes that are not UTF-8, a cut, or a byte replaced."""
    raw = bytearray(text.encode("utf-8", "surrogatepass"))
    how = data.draw(st.sampled_from(["insert", "cut", "replace", "bom"]))
    at = data.draw(st.integers(0, len(raw)))
    if how == "insert":
        raw[at:at] = data.draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\xf8\x88\x80\x80\x80"]))
    elif how == "cut":
        del raw[at:]
    elif how == "replace" and raw:
        raw[min(at, len(raw) - 1)] = data.draw(st.integers(0, 255))
    else:
        raw[0:0] = b"\xef\xbb\xbf"
    return bytes(raw)


# --- state machines ---------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "n", "x y", "items", "", "é"])
INPUTS = json_values(keys=KEYS, max_leaves=10) | DEEP
PATHS = st.sampled_from([
    "$", "$.a", "$.a.b", "$[0]", "$.a[0]", "$.a[*]", "$..a", "$.a[1:2]", "$['x y']", "$.items", "$.n",
    "$$", "$$.Execution.Input", "$$.State.Name", "$$.Map.Item.Value", "$$.Map.Item.Index", "$v", "$v.a",
    "$.a[?(@.b > 1)]", "$.a.length()", "$.missing", "$.a[-1]", "$.a[*].b",
])
RESULT_PATHS = st.sampled_from(["$", "$.a", "$.r", "$.a.b", "$['x y']"]) | st.none()
LITERALS = st.sampled_from(["1", "-1", "0", "2.5", "1e400", "99999999999999999999", "'x'", "'a,b'", "''", "null",
                            "true", "'{}'", "'{\"a\": 1}'", "'SHA-256'", "'nope'", "1000000"])
FUNCTIONS = st.sampled_from([
    "States.Format", "States.StringToJson", "States.JsonToString", "States.Array", "States.ArrayPartition",
    "States.ArrayContains", "States.ArrayRange", "States.ArrayGetItem", "States.ArrayLength", "States.ArrayUnique",
    "States.Base64Encode", "States.Base64Decode", "States.Hash", "States.JsonMerge", "States.MathRandom",
    "States.MathAdd", "States.StringSplit", "States.UUID", "States.Nope",
])
INTRINSICS = st.recursive(
    st.builds(lambda f, args: f"{f}({', '.join(args)})", FUNCTIONS, st.lists(PATHS | LITERALS, max_size=3)),
    lambda inner: st.builds(lambda f, args: f"{f}({', '.join(args)})", FUNCTIONS,
                            st.lists(PATHS | LITERALS | inner, max_size=3)),
    max_leaves=4,
)
JSONATA = st.sampled_from([
    "$states.input", "$states.input.a + 1", "$count($states.input)", "$sum($states.input.a)", "1/0", "$x",
    "$string($states.input)", "$states.input[0]", "{'a': $states.input}", "$number('x')", "$error('boom')",
    "$states.context.Execution.Input", "$power(10, 400)", "$states.input.a & 'x'", "[1..100000]",
    "$reduce([1..1000], function($a, $b){$a * $b})", "$states.input.a.b.c", "$exists($states.input.n)",
    "$states.input.n > 2", "$not($states.input)", "$keys($states.input)", "(", "$$",
]).map(lambda text: "{% " + text + " %}")
TEMPLATE = st.dictionaries(
    st.sampled_from(["a", "b", "c.$", "d.$", "e.$"]),
    SCALARS | PATHS | INTRINSICS, max_size=3,
).map(lambda t: {k: (v if not k.endswith(".$") or isinstance(v, str) else "$") for k, v in t.items()})
COMPARISONS = st.sampled_from([
    ("StringEquals", st.text(max_size=3)), ("NumericGreaterThan", SCALARS), ("NumericEquals", HUGE_NUMBERS),
    ("BooleanEquals", st.booleans()), ("IsPresent", st.booleans()), ("IsNumeric", st.booleans()),
    ("StringMatches", st.sampled_from(["*", "a*", "\\*", "**"])), ("TimestampLessThan", st.sampled_from(
        ["2020-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])), ("NumericEqualsPath", PATHS), ("StringLessThanPath", PATHS),
])


def _rule(data: st.DataObject, target: str) -> dict:
    operator, values = data.draw(COMPARISONS)
    rule = {"Variable": data.draw(PATHS), operator: data.draw(values)}
    if data.draw(st.booleans()):
        rule = {"Not": rule}
    return {**rule, "Next": target}


def _state(data: st.DataObject, kind: str, names: list[str], position: int, prefix: str, depth: int) -> dict:
    """State ``names[position]``: its first transition goes to the next state (or ends), so every
    state is reachable; the others go anywhere, loops included."""
    draw = data.draw
    maybe = lambda strategy: draw(st.none() | strategy)  # noqa: E731
    following = names[position + 1] if position + 1 < len(names) else None
    anywhere = st.sampled_from(names)
    state: dict = {"Type": kind}
    if kind in ("Pass", "Map", "Parallel", "Choice", "Wait", "Succeed"):
        state.update(InputPath=maybe(PATHS), OutputPath=maybe(PATHS))
    if kind in ("Pass", "Map", "Parallel"):
        state.update(ResultPath=draw(RESULT_PATHS))
    if kind == "Pass":
        state.update(Parameters=maybe(TEMPLATE), Result=maybe(INPUTS))
    elif kind == "Choice":
        targets = [following or draw(anywhere)] + [draw(anywhere) for _ in range(draw(st.integers(0, 1)))]
        state["Choices"] = [_rule(data, target) for target in targets]
        state["Default"] = maybe(anywhere)
    elif kind == "Wait":
        field, value = draw(st.sampled_from([("Seconds", st.integers(0, 10**6)), ("SecondsPath", PATHS),
                                             ("TimestampPath", PATHS), ("Timestamp", st.just("2020-01-01T00:00:00Z"))]))
        state[field] = draw(value)
    elif kind == "Fail":
        state.update(draw(st.sampled_from([{"Error": "E", "Cause": "c"}, {}]))
                     or {"ErrorPath": draw(PATHS | INTRINSICS), "CausePath": draw(PATHS | INTRINSICS)})
    elif kind == "Map":
        state.update(ItemsPath=maybe(PATHS), ItemSelector=maybe(TEMPLATE), MaxConcurrency=maybe(st.integers(0, 3)),
                     ItemProcessor=machine(data, depth + 1, f"{prefix}{position}m"))
    elif kind == "Parallel":
        state["Branches"] = [machine(data, depth + 1, f"{prefix}{position}b{index}")
                             for index in range(draw(st.integers(1, 2)))]
    if kind in ("Map", "Parallel") and draw(st.booleans()):
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": draw(anywhere), "ResultPath": draw(RESULT_PATHS)}]
    if kind in ("Map", "Parallel") and draw(st.booleans()):
        state["Retry"] = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": draw(st.integers(0, 2)), "IntervalSeconds": 1}]
    if kind not in ("Choice", "Succeed", "Fail"):
        target = following if following and draw(st.integers(0, 3)) else draw(st.none() | st.none() | anywhere)
        state.update({"Next": target} if target else {"End": True})
    return {key: value for key, value in state.items() if value is not None}


def machine(data: st.DataObject, depth: int = 0, prefix: str = "S") -> dict:
    """A JSONPath state machine of Pass/Choice/Wait/Map/Parallel/Succeed/Fail states that is
    often valid, with loops (Choice and Next may point back), nested scopes and random data flow."""
    count = data.draw(st.integers(1, 4))
    names = [f"{prefix}{index}" for index in range(count)]
    kinds = ["Pass", "Pass", "Choice", "Wait"] + (["Map", "Parallel"] if depth < 2 else [])
    last = kinds + ["Succeed", "Fail"]  # a terminal state in the middle would leave the rest unreachable
    states = {name: _state(data, data.draw(st.sampled_from(last if position == count - 1 else kinds)),
                           names, position, prefix, depth)
              for position, name in enumerate(names)}
    return {"StartAt": names[0], "States": states}


def jsonata_machine(data: st.DataObject) -> dict:
    """A JSONata machine: Pass states whose Output and Assign are random expressions, one Choice."""
    draw = data.draw
    states = {
        "P": {"Type": "Pass", "Assign": {"x": draw(JSONATA)}, "Output": draw(JSONATA | INPUTS), "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": draw(JSONATA), "Next": "E"}], "Default": "E"},
        "E": {"Type": "Pass", "Output": draw(JSONATA), "End": True},
    }
    return {"QueryLanguage": "JSONata", "StartAt": "P", "States": states}


# --- running a machine ------------------------------------------------------------------------

NOW = 1_700_000_000.0
CONTEXT = {"Execution": {"Id": "arn:aws:states:us-east-1:123456789012:execution:sm:e", "Input": {},
                         "Name": "e", "RoleArn": "role", "StartTime": "2023-11-14T22:13:20.000Z",
                         "RedriveCount": 0},
           "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:sm", "Name": "sm"}}
FINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
MAX_STEPS = 20  # a machine without tasks needs one step (Waits are skipped); retries add a few


def run_to_end(definition: dict, value):
    """Start ``definition`` on ``value`` with virtual time and advance it until it ends; None for
    data that cannot reach the interpreter (a lone surrogate: parse and the API refuse it)."""
    import random

    from engine.asl import history, interpreter, model

    if history.has_lone_surrogate(definition) or history.has_lone_surrogate(value):
        return None

    built = model.build(definition)
    env = interpreter.Env(random=random.Random(7), new_uuid=lambda: "uuid-1", new_token=lambda: "token",
                          skip_waits=True)
    step = interpreter.start(built, CONTEXT, value, NOW, env)
    now = NOW
    for _ in range(MAX_STEPS):
        if step.finished:
            return step
        now = max(now, step.due_at or now) + 1
        step = interpreter.advance(built, step.snapshot, [], now, env, owned=True)
    raise AssertionError(f"still {step.status} after {MAX_STEPS} steps (due at {step.due_at})")


def event(label: str) -> None:
    """hypothesis.event, also callable from the corpus replays (plain tests)."""
    from hypothesis import event as record
    from hypothesis.control import currently_in_test_context

    if currently_in_test_context():
        record(label)
