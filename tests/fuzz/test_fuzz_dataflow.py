"""Fuzz the data flow: random paths, intrinsic calls, payload templates and JSONata expressions
on random documents go through the functions the interpreter calls, and whole random machines
run on random input. An evaluation gives a value or an ASL Failure; an execution ends
(SUCCEEDED or FAILED) within a bounded number of steps; no Python exception escapes."""
from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.asl import history, intrinsics, jsonata, jsonpath, templates
from engine.asl.failures import Failure
from engine.asl.scope import Scope
from engine.asl.validate import validate

from fuzzing import event
from fuzzing import (CONTEXT, INPUTS, INTRINSICS, JSONATA, PATHS, TEMPLATE, budget, corpus,
                     jsonata_machine, machine, run_to_end)

PATH_TOKENS = st.sampled_from([
    "$", "$$", "$v", ".", "..", "a", "b", "[0]", "[-1]", "[*]", "[1:]", "[::-1]", "[0,1]", "['a']", "['x y']",
    "[?(@.a)]", "[?(@.b > 1)]", "[?(@ == 'x')]", ".length()", "*", "[", "]", "(", "'", "\\", "é", "1e400",
    "[99999999999999999999]", "[?(@.a =~ /x/)]", ".Execution.Input", ".Map.Item.Value",
])
RANDOM_PATHS = PATHS | st.lists(PATH_TOKENS, min_size=1, max_size=6).map("".join)
INTRINSIC_TEXT = INTRINSICS | st.lists(st.sampled_from(["States.", "Format", "Array", "(", ")", ",", " ", "'", "\\",
                                                        "{}", "$.a", "$$", "1", "-", "States.Array("]),
                                       min_size=1, max_size=8).map("".join)
VARIABLES = st.dictionaries(st.sampled_from(["v", "w"]), INPUTS, max_size=2)


def scope(variables=None, language="JSONPath") -> Scope:
    return Scope({**CONTEXT, "State": {"Name": "S", "EnteredTime": "x"}, "Map": {"Item": {"Index": 0, "Value": 1}}},
                 "S", 2, random=random.Random(7), new_uuid=lambda: "uuid-1", variables=variables,
                 language=language, now=1_700_000_000.0)


def outcome(evaluation, *arguments):
    """The value, or None after an ASL Failure; any other exception fails the test."""
    try:
        value = evaluation(*arguments)
    except Failure as failure:
        assert failure.error.startswith("States.") and isinstance(failure.cause, (str, type(None)))
        event(f"Failure {failure.error}")
        return None
    event("value")
    json.dumps(value)  # a value the engine can record in its history
    return value


@budget(300)
@given(RANDOM_PATHS, INPUTS, VARIABLES, st.sampled_from(["InputPath", "OutputPath", "ItemsPath", "Variable"]))
def test_paths_select(path, document, variables, field):
    outcome(jsonpath.select, path, document, scope(variables), field)


@budget(200)
@given(RANDOM_PATHS, INPUTS, INPUTS)
def test_result_paths_put(path, document, value):
    placed = outcome(jsonpath.put, document, path, value, scope())
    if placed is not None and path == "$":
        assert placed == value


@budget(300)
@given(INTRINSIC_TEXT, INPUTS, VARIABLES)
def test_intrinsic_calls(text, document, variables):
    try:
        intrinsics.parse(text)
    except intrinsics.IntrinsicSyntaxError:
        event("syntax error")  # the validator refuses it; evaluation must still not crash
    outcome(intrinsics.evaluate, text, document, scope(variables))


@budget(200)
@given(st.recursive(TEMPLATE, lambda inner: st.dictionaries(st.sampled_from(["x", "y.$"]), inner, max_size=2)
                    .map(lambda t: {k: v if not k.endswith(".$") else "$" for k, v in t.items()}) | st.lists(inner, max_size=2),
                    max_leaves=4),
       INPUTS)
def test_templates(template, document):
    outcome(templates.render, template, document, scope(), "Parameters")


@budget(200)
@given(JSONATA | st.lists(st.sampled_from(["$states", ".input", "+", "1", "(", ")", "[", "]", "$", "'a'", "&",
                                           "function($x){$x}", "..", "~>", "$sum", "?", ":", "{", "}", "%"]),
                          min_size=1, max_size=8).map(lambda parts: "{% " + " ".join(parts) + " %}"),
       INPUTS, VARIABLES)
def test_jsonata_expressions(text, document, variables):
    outcome(jsonata.evaluate, text, jsonata.states_binding(scope(variables, "JSONata"), document),
            scope(variables, "JSONata"), "Output")


def run_if_valid(definition: dict, value) -> None:
    if any(d.severity == "ERROR" for d in validate(definition)):
        event("invalid machine")
        return
    step = run_to_end(definition, value)
    if step is None:
        event("unreachable data")
        return
    assert step.status in ("SUCCEEDED", "FAILED")
    json.dumps(step.output)
    assert not history.has_lone_surrogate([step.output, step.error, step.cause, step.events])
    event(f"{step.status} {step.error or ''}".strip())


@pytest.mark.parametrize("case", corpus("executions"))
def test_corpus(case):
    step = run_to_end(case["definition"], case["input"])
    assert step.status in ("SUCCEEDED", "FAILED")
    assert not history.has_lone_surrogate([step.output, step.error, step.cause, step.events])


@budget(250)
@given(st.builds(machine, st.data()), INPUTS)
def test_jsonpath_executions(definition, value):
    run_if_valid(definition, value)


@budget(100)
@given(st.builds(jsonata_machine, st.data()), INPUTS)
def test_jsonata_executions(definition, value):
    run_if_valid(definition, value)
