"""Mock configuration files: parsing, checking against a definition, choosing the answer."""
from __future__ import annotations

import json

import pytest

from engine.errors import MockConfigError
from engine.runtime import mocks

DEFINITION = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "Fan Out"},
        "Fan Out": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Notify", "States": {"Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                                                        "End": True}}},
            {"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": True, "ItemProcessor": {
                "StartAt": "Price", "States": {"Price": {"Type": "Task", "Resource": "r", "End": True}}}}}},
        ]},
    },
}


def config(**responses) -> dict:
    return {"StateMachines": {"sm": {"TestCases": {"Case": {"Reserve": "R"}}}},
            "MockedResponses": responses or {"R": {"0": {"Return": {"ok": True}}}}}


def command(state: str = "Reserve", path: str = "0", invocation: int = 1, machine: str = "sm") -> dict:
    return {"kind": "invoke", "resource": "arn:aws:states:::lambda:invoke", "payload": {}, "state": state,
            "path": path, "invocation": invocation, "context": {"StateMachine": {"Name": machine}}}


def session(responses: dict, states: dict | None = None) -> mocks.Session:
    document = {"StateMachines": {"sm": {"TestCases": {"Case": states or {"Reserve": "R"}}}},
                "MockedResponses": responses}
    return mocks.Session(mocks.bind(mocks.parse_config(document), "sm", "Case", DEFINITION))


# --- parsing -----------------------------------------------------------------------------------------
def test_parses_the_aws_example_with_ranges():
    parsed = mocks.parse_config(config(R={
        "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready"}},
        "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "timed out"}},
        "3": {"Return": {"StatusCode": 200, "Payload": {"body": "hi"}}}}))
    answers = parsed.responses["R"]
    assert [(a.first, a.last) for a in answers] == [(0, 0), (1, 2), (3, 3)]
    assert answers[1].error == "Lambda.TimeoutException" and answers[2].returns["Payload"] == {"body": "hi"}
    assert parsed.state_machines["sm"]["Case"] == {"Reserve": "R"}


def test_keys_may_come_in_any_order():
    parsed = mocks.parse_config(config(R={"1": {"Return": 2}, "0": {"Return": 1}}))
    assert [a.returns for a in parsed.responses["R"]] == [1, 2]


def test_the_parsed_config_is_immutable():
    parsed = mocks.parse_config(config())
    with pytest.raises(TypeError):
        parsed.responses["X"] = ()  # type: ignore[index]


@pytest.mark.parametrize("document, path, message", [
    ([], "$", "must be an object, not an array"),
    ({"MockedResponse": {}}, "$.MockedResponse", "did you mean MockedResponses?"),
    ({"StateMachines": {"sm": {"TestCases": {}, "Other": 1}}}, "$.StateMachines.sm.Other", "exactly one field"),
    ({"StateMachines": {"sm": {}}}, "$.StateMachines.sm", "exactly one field, TestCases"),
    ({"StateMachines": {"sm": {"TestCases": {"C": {"A": 3}}}}}, "$.StateMachines.sm.TestCases.C.A",
     "must be the name of a mocked response"),
    ({"StateMachines": {"sm": {"TestCases": {"C": {"A": "Missing"}}}}, "MockedResponses": {"R": {"0": {"Return": 1}}}},
     "$.StateMachines.sm.TestCases.C.A", "no mocked response named 'Missing' in MockedResponses (defined: R)"),
    (config(R={}), "$.MockedResponses.R", "at least one invocation"),
    (config(R={"first": {"Return": 1}}), "$.MockedResponses.R.first", "a number (\"0\") or an inclusive range"),
    (config(R={"3-1": {"Return": 1}}), "$.MockedResponses.R['3-1']", "ends (1) before it starts (3)"),
    (config(R={"1": {"Return": 1}}), "$.MockedResponses.R['1']", "leaves invocation 0 without a response"),
    (config(R={"0": {"Return": 1}, "2-3": {"Return": 1}}), "$.MockedResponses.R['2-3']",
     "leaves invocation 1 without a response"),
    (config(R={"0-1": {"Return": 1}, "1": {"Return": 1}}), "$.MockedResponses.R['1']", "overlaps"),
    (config(R={"0": {}}), "$.MockedResponses.R['0']", "exactly one field, Return or Throw (found: none)"),
    (config(R={"0": {"Return": 1, "Throw": {"Error": "E"}}}), "$.MockedResponses.R['0']", "exactly one field"),
    (config(R={"0": {"Throw": {"Cause": "no error"}}}), "$.MockedResponses.R['0'].Throw.Error", "needs an Error"),
    (config(R={"0": {"Throw": {"Error": "E", "Cause": 5}}}), "$.MockedResponses.R['0'].Throw.Cause",
     "must be a string, not a number"),
    (config(R={"0": {"Throw": {"Error": "E", "Reason": "x"}}}), "$.MockedResponses.R['0'].Throw.Reason",
     "unknown field"),
])
def test_malformed_configs_name_the_json_path(document, path, message):
    with pytest.raises(MockConfigError) as raised:
        mocks.parse_config(document)
    assert raised.value.path == path
    assert message in str(raised.value) and str(raised.value).startswith(path + ": ")


# --- binding to a definition -------------------------------------------------------------------------
def test_binds_states_at_any_depth():
    bound = mocks.bind(mocks.parse_config({
        "StateMachines": {"sm": {"TestCases": {"C": {"Notify": "R", "Price": "R", "Reserve": "R"}}}},
        "MockedResponses": {"R": {"0": {"Return": 1}}}}), "sm", "C", DEFINITION)
    assert sorted(bound.states) == ["Notify", "Price", "Reserve"]
    assert bound.states["Price"][0] == "R"


@pytest.mark.parametrize("machine, case, states, message", [
    ("other", "Case", None, "no state machine named 'other' (defined: sm)"),
    ("sm", "Sad", None, "no test case named 'Sad' (defined: Case)"),
    ("sm", "Case", {"Reserv": "R"}, "the definition has no state named 'Reserv' (did you mean 'Reserve'?)"),
    ("sm", "Case", {"Fan Out": "R"}, "'Fan Out' is a Parallel state; only Task states can be mocked"),
])
def test_binding_errors_say_what_is_missing(machine, case, states, message):
    parsed = mocks.parse_config({"StateMachines": {"sm": {"TestCases": {"Case": states or {"Reserve": "R"}}}},
                                 "MockedResponses": {"R": {"0": {"Return": 1}}}})
    with pytest.raises(MockConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        mocks.bind(parsed, machine, case, DEFINITION)


# --- answering ---------------------------------------------------------------------------------------
def test_answer_is_a_task_result_for_return_and_throw():
    case = session({"R": {"0": {"Return": {"StatusCode": 200, "Payload": [1]}},
                          "1": {"Throw": {"Error": "Boom", "Cause": "why"}},
                          "2": {"Throw": {"Error": "NoCause"}}}}).case
    assert mocks.answer(case, command(invocation=7), 0) == {
        "kind": "task_result", "path": "0", "invocation": 7, "direct": True,
        "output": {"StatusCode": 200, "Payload": [1]}}
    assert mocks.answer(case, command(), 1) == {"kind": "task_result", "path": "0", "invocation": 1,
                                                "direct": True, "error": "Boom", "cause": "why"}
    assert mocks.answer(case, command(), 2)["cause"] is None


def test_a_range_answers_each_invocation_in_it():
    case = session({"R": {"0-2": {"Throw": {"Error": "E"}}, "3": {"Return": 1}}}).case
    assert [mocks.answer(case, command(), n).get("error") for n in range(4)] == ["E", "E", "E", None]


def test_past_the_last_invocation_the_task_fails_with_states_runtime():
    case = session({"R": {"0-1": {"Return": 1}}}).case
    reply = mocks.answer(case, command(), 2)
    assert reply["error"] == "States.Runtime"
    assert "no answer for invocation 2 of state 'Reserve'" in reply["cause"] and "0-1" in reply["cause"]


def test_unmocked_states_get_no_answer():
    case = session({"R": {"0": {"Return": 1}}}).case
    assert mocks.answer(case, command(state="Notify"), 0) is None


def test_the_session_numbers_invocations_per_execution_and_state():
    mocked = session({"R": {"0": {"Return": "a"}, "1": {"Return": "b"}, "2": {"Return": "c"}}},
                     {"Reserve": "R", "Price": "R"})
    outputs = [mocked.reply("exec-1", command(invocation=1))["output"],
               mocked.reply("exec-1", command(invocation=2))["output"],  # a retry: the next number
               mocked.reply("exec-2", command(invocation=1))["output"],  # another execution: from 0
               mocked.reply("exec-1", command(state="Price", path="5"))["output"]]  # another state: from 0
    assert outputs == ["a", "b", "a", "a"]


def test_the_same_command_dispatched_again_keeps_its_number():
    mocked = session({"R": {"0": {"Return": "first"}, "1": {"Return": "second"}}})
    assert mocked.reply("e", command(invocation=1))["output"] == "first"
    assert mocked.reply("e", command(invocation=1))["output"] == "first"  # a re-dispatch, not a retry
    assert mocked.reply("e", command(invocation=2))["output"] == "second"


def test_split_numbers_a_batch_in_command_order():
    mocked = session({"R": {"0": {"Return": 0}, "1": {"Return": 1}}}, {"Price": "R"})
    batch = [command(state="Price", path="3"), command(state="Reserve", path="9"), command(state="Price", path="4")]
    replies, real = mocked.split("e", batch)
    assert [(r["path"], r["output"]) for r in replies] == [("3", 0), ("4", 1)]
    assert real == [batch[1]]


def test_commands_of_another_state_machine_run_for_real():
    mocked = session({"R": {"0": {"Return": 1}}})
    assert mocked.reply("e", command(machine="nested-child")) is None


# --- files -------------------------------------------------------------------------------------------
def test_load_reports_file_line_and_path(tmp_path):
    path = tmp_path / "mocks.json"
    path.write_text('{"StateMachines": {},\n "MockedResponses": {"R": {\n'
                    '  "0": {"Return": 1},\n  "2": {"Return": 2}}}}')
    with pytest.raises(MockConfigError) as raised:
        mocks.load(path)
    assert str(raised.value).startswith(f"{path}:4: $.MockedResponses.R['2']: leaves invocation 1")


def test_load_reads_yaml_and_reports_syntax_errors(tmp_path):
    good = tmp_path / "mocks.yaml"
    good.write_text('MockedResponses:\n  R:\n    "0": {Return: {ok: true}}\n')
    assert mocks.load(good).responses["R"][0].returns == {"ok": True}
    bad = tmp_path / "bad.json"
    bad.write_text('{"StateMachines": ')
    with pytest.raises(MockConfigError, match=r"bad.json:1: invalid JSON"):
        mocks.load(bad)
    with pytest.raises(MockConfigError, match="cannot read the mock configuration"):
        mocks.load(tmp_path / "missing.json")


def test_from_file_locates_binding_errors(tmp_path):
    path = tmp_path / "mocks.json"
    path.write_text(json.dumps({"StateMachines": {"sm": {"TestCases": {"C": {"Nope": "R"}}}},
                                "MockedResponses": {"R": {"0": {"Return": 1}}}}, indent=1))
    with pytest.raises(MockConfigError) as raised:
        mocks.from_file(path, "sm", "C", DEFINITION)
    assert raised.value.file == str(path) and raised.value.line == 6  # the line of "Nope"
    assert "$.StateMachines.sm.TestCases.C.Nope: the definition has no state named 'Nope'" in str(raised.value)


def test_shipped_mock_configurations_fit_their_definitions():
    from pathlib import Path

    from engine.asl import parse
    definitions = Path(__file__).resolve().parents[2] / "definitions"
    shipped = sorted(definitions.glob("*.mocks.json"))
    assert shipped, "definitions/ ships at least one mock configuration example"
    for path in shipped:
        stem = path.name.removesuffix(".mocks.json")
        [definition] = [p for p in definitions.glob(stem + ".*") if p.suffix in (".json", ".yaml")
                        and not p.name.endswith((".input.json", ".mocks.json"))]
        config = mocks.load(path)
        for case in config.state_machines[stem]:
            mocks.bind(config, stem, case, parse.load_file(definition).document)


def test_invocation_numbers_must_be_strings_in_yaml_but_may_be_ints_in_python(tmp_path):
    path = tmp_path / "mocks.yaml"
    path.write_text("MockedResponses:\n  R:\n    0: {Throw: {Error: E}}\n    1-2: {Return: 7}\n")
    with pytest.raises(MockConfigError, match=r"mocks.yaml:3: invalid YAML: keys must be strings"):
        mocks.load(path)
    parsed = mocks.parse_config({"MockedResponses": {"R": {0: {"Throw": {"Error": "E"}}, "1-2": {"Return": 7}}}})
    assert [(a.first, a.last) for a in parsed.responses["R"]] == [(0, 0), (1, 2)]
