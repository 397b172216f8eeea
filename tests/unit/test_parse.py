"""Loading definitions: JSON and YAML text, source lines per JSON pointer, syntax errors."""
from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.asl.parse import DefinitionSyntaxError, Loaded, load_file, load_text, pointer
from engine.errors import DefinitionError

JSON_TEXT = """{
  "Comment": "two states",
  "StartAt": "First",
  "States": {
    "First": {
      "Type": "Pass",
      "Result": [1, {"x": null}],
      "Next": "Second"
    },
    "Second": {"Type": "Succeed"}
  }
}
"""

YAML_TEXT = """\
Comment: two states
StartAt: First
States:
  First:
    Type: Pass
    Result:
      - 1
      - x: null
    Next: Second
  Second:
    Type: Succeed
"""


def test_json_document_and_lines():
    loaded = load_text(JSON_TEXT, "machine.json")

    assert loaded.document == json.loads(JSON_TEXT)
    assert loaded.lines["/StartAt"] == 3
    assert loaded.lines["/States/First"] == 5
    assert loaded.lines["/States/First/Next"] == 8
    assert loaded.lines["/States/First/Result/1/x"] == 7
    assert loaded.lines["/States/Second/Type"] == 10
    assert loaded.lines[""] == 1


def test_yaml_document_and_lines():
    loaded = load_text(YAML_TEXT, "machine.yaml")

    assert loaded.document == json.loads(JSON_TEXT)
    assert loaded.lines["/StartAt"] == 2
    assert loaded.lines["/States/First/Next"] == 9
    assert loaded.lines["/States/First/Result/0"] == 7
    assert loaded.lines["/States/First/Result/1/x"] == 8
    assert loaded.lines["/States/Second/Type"] == 11


def test_yaml_date_times_stay_strings():
    loaded = load_text("Timestamp: 2016-03-14T01:59:00Z\nDay: 2016-03-14\n")

    assert loaded.document == {"Timestamp": "2016-03-14T01:59:00Z", "Day": "2016-03-14"}


def test_json_is_read_as_json_not_yaml_1_1():
    # YAML 1.1 would read the unquoted-looking values differently; JSON text keeps JSON's meaning
    loaded = load_text('{"a": "yes", "b": 1e3, "c": "2016-03-14T01:59:00Z"}')

    assert loaded.document == {"a": "yes", "b": 1000.0, "c": "2016-03-14T01:59:00Z"}


def test_pointer_escapes_slash_and_tilde():
    assert pointer(["States", "a/b~c", 0]) == "/States/a~1b~0c/0"
    assert pointer([]) == ""

    loaded = load_text('{"States": {"a/b~c": {"Type": "Succeed"}}}')
    assert "/States/a~1b~0c/Type" in loaded.lines


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ('{"StartAt": "A",\n  "States": }', 2, 13, "invalid JSON"),
        ('{"a": 1,\n "a": 2}', 2, 2, "duplicate key 'a'"),
        ('{"States": {"A": {"Type": "Pass",\n   "Type": "Task"}}}', 2, 4, "duplicate key 'Type' in /States/A"),
        ("StartAt: A\nStartAt: B\n", 2, 1, "duplicate key 'StartAt'"),
        ("States:\n  A: [1,\n", 3, 1, "invalid YAML"),
        ("States:\n  1: x\n", 2, 3, "keys must be strings"),
        ("  \n", 1, 1, "empty"),
    ],
)
def test_syntax_errors_name_file_line_and_column(text, line, column, fragment):
    with pytest.raises(DefinitionSyntaxError) as caught:
        load_text(text, "bad.asl")

    error = caught.value
    assert isinstance(error, DefinitionError)
    assert (error.filename, error.line, error.column) == ("bad.asl", line, column)
    assert fragment in error.problem
    assert str(error).startswith(f"bad.asl:{line}:{column}: ")


def test_text_starting_like_json_reports_the_json_error():
    with pytest.raises(DefinitionSyntaxError, match="invalid JSON"):
        load_text('{"StartAt": "A", }')


def test_load_file(tmp_path):
    path = tmp_path / "machine.yaml"
    path.write_text(YAML_TEXT, encoding="utf-8")

    loaded = load_file(path)

    assert isinstance(loaded, Loaded)
    assert loaded.document["StartAt"] == "First"
    assert loaded.lines["/States/First/Next"] == 9


def test_load_file_that_does_not_exist(tmp_path):
    with pytest.raises(DefinitionError, match="cannot read"):
        load_file(tmp_path / "missing.json")


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=12,
)


def _pointers(value, parts=()):
    yield pointer(parts)
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _pointers(child, parts + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _pointers(child, parts + (index,))


@given(_json_values, st.sampled_from([None, 0, 2]))
def test_every_json_value_gets_a_line(value, indent):
    text = json.dumps(value, indent=indent)

    loaded = load_text(text)

    assert loaded.document == value
    assert set(loaded.lines) == set(_pointers(value))
    assert all(1 <= line <= text.count("\n") + 1 for line in loaded.lines.values())
