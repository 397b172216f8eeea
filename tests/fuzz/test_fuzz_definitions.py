"""Fuzz the definition loader: bytes, text and ASL-like documents go through load_text /
load_file, validate and (when valid) model.build and a short run. Each input either loads and
validates (problems are Diagnostics) or is refused with DefinitionError; nothing else escapes."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.asl.parse import load_file, load_text
from engine.asl.validate import Diagnostic, invalid_definition_message, validate, validation_result
from engine.errors import DefinitionError

from fuzzing import event
from fuzzing import (DEEP, DEEP_TEXT, INPUTS, SCALARS, budget, corpus, json_values, machine, mangle,
                     run_to_end, to_json)

ASL_KEYS = st.sampled_from([
    "StartAt", "States", "Type", "Next", "End", "Comment", "Version", "TimeoutSeconds", "QueryLanguage",
    "Choices", "Default", "Variable", "Branches", "ItemProcessor", "Iterator", "ProcessorConfig", "Mode",
    "Parameters", "Arguments", "Output", "Assign", "Result", "ResultPath", "InputPath", "Retry", "Catch",
    "ErrorEquals", "Seconds", "Resource", "Condition", "Unknown", "type", "S0", "S1", "x.$",
])
TYPES = st.sampled_from(["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map", "pass", "", None])
ASL_LIKE = json_values(keys=ASL_KEYS, leaves=SCALARS | TYPES, max_leaves=25)
YAMLISH = st.text(alphabet=st.sampled_from(list("StartAt:States Type-Pass\n  &*!|>{}[],'\"#%@`?") + ["\t", "\ud800"]),
                  max_size=80)


def check_text(text: str, kind: str = "STANDARD") -> None:
    """The contract for one definition text."""
    try:
        loaded = load_text(text, "fuzz.json")
    except DefinitionError as refused:
        assert str(refused).startswith("fuzz.json:")
        loaded = None
    found = validate(text, kind)  # the API's path: text in, diagnostics out
    assert all(isinstance(d, Diagnostic) for d in found)
    invalid_definition_message(found), validation_result(found)
    if loaded is not None:
        check_document(loaded.document, kind, loaded.lines)


def check_document(document, kind: str = "STANDARD", lines: dict | None = None, value=None) -> None:
    found = validate(document, kind, lines)
    assert all(isinstance(d, Diagnostic) and d.path.startswith("$") for d in found)
    json.dumps(validation_result(found))
    if not any(d.severity == "ERROR" for d in found):
        step = run_to_end(document, {} if value is None else value)
        assert step is None or step.status in ("SUCCEEDED", "FAILED")
        event(f"valid, ran: {step and step.status}")
    else:
        event("invalid")


def check_bytes(raw: bytes) -> None:
    """load_file's contract: DefinitionError for unreadable bytes too."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.asl.json"
        path.write_bytes(raw)
        try:
            load_file(path)
        except DefinitionError:
            pass
    validate(raw)


def dumps(document) -> str:
    try:
        return json.dumps(document)
    except RecursionError:  # json.dumps nests its frames deeper than json.loads does
        return "{}"


@pytest.mark.parametrize("case", corpus("definitions"))
def test_corpus(case):
    if isinstance(case, bytes):
        check_bytes(case)
    elif isinstance(case, str):
        check_text(case)
    else:
        check_document(case)


@budget(150)
@given(st.binary(max_size=200) | st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_random_bytes(raw):
    check_bytes(raw)


@budget(150)
@given(st.data(), ASL_LIKE | st.builds(machine, st.data()))
def test_damaged_utf8(data, document):
    check_bytes(mangle(dumps(document), data))


@budget(200)
@given(YAMLISH | st.text(max_size=60) | DEEP_TEXT | DEEP.map(to_json), st.sampled_from(["STANDARD", "EXPRESS"]))
def test_random_text(text, kind):
    check_text(text, kind)


@budget(200)
@given(ASL_LIKE, st.sampled_from(["STANDARD", "EXPRESS", "", "BOGUS"]))
def test_asl_like_documents(document, kind):
    check_text(dumps(document), kind)
    check_document(document, kind)


@budget(150)
@given(st.builds(machine, st.data()), st.data())
def test_machines_with_unknown_fields_and_odd_values(document, data):
    """A generated machine, then one value somewhere replaced or one unknown field added."""
    states = document["States"]
    name = data.draw(st.sampled_from(sorted(states)))
    key = data.draw(ASL_KEYS | st.sampled_from(sorted(states[name])))
    states[name][key] = data.draw(SCALARS | DEEP | INPUTS)
    check_document(document)
    check_text(dumps(document))
