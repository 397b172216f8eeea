"""State plans: each state's facts and JSONPath fields read once per definition."""
from __future__ import annotations

import pytest

from engine.asl import model
from engine.asl.failures import Failure
from engine.asl.plan import plan_of
from engine.asl.scope import Scope

SCOPE = Scope({}, "S", 1)


def machine(states: dict, **top) -> model.Machine:
    return model.build({"StartAt": next(iter(states)), "States": states, **top})


def test_a_plan_is_built_once_and_kept_with_the_model():
    root = machine({"P": {"Type": "Pass", "End": True}})
    plan = plan_of(root, "P")
    assert plan_of(root, "P") is plan
    assert (plan.name, plan.type, plan.next, plan.spec) == ("P", "Pass", None, root.states["P"])
    assert (plan.entered_event, plan.exited_event) == ("PassStateEntered", "PassStateExited")
    assert not plan.counts_retries and plan_of(machine({"T": {"Type": "Task", "Resource": "arn:x", "End": True}}),
                                               "T").counts_retries


def test_plans_of_nested_scopes_are_kept_with_their_scope():
    root = machine({"M": {"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
                          "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "End": True}})
    inner = model.scope_of(root, [["M", 0]])
    assert plan_of(root, "M").branches == [inner]
    assert plan_of(inner, "I").type == "Pass" and "I" not in root.plans
    selector = plan_of(root, "M").item_selector
    assert plan_of(root, "M").selects_items
    assert selector({}, Scope({"Map": {"Item": {"Value": 7}}}, "M", 1)) == {"v": 7}


@pytest.mark.parametrize("fields, selects", [({}, False), ({"ItemSelector": None}, False), ({"ItemSelector": {}}, True),
                                             ({"Parameters": {"a": 1}}, True)])
def test_a_map_selects_items_only_with_an_item_selector(fields, selects):
    processor = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
    root = machine({"M": {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}})
    assert plan_of(root, "M").selects_items is selects


def test_the_jsonpath_fields_are_compiled():
    plan = plan_of(machine({"P": {"Type": "Pass", "InputPath": "$.in", "Parameters": {"x.$": "$.a"},
                                  "ResultSelector": {"r.$": "$"}, "ResultPath": "$.out", "OutputPath": "$.out",
                                  "Assign": {"v.$": "$.x"}, "Next": "Q"}, "Q": {"Type": "Succeed"}}), "P")
    assert plan.next == "Q"
    assert plan.input_path({"in": {"a": 1}}, SCOPE) == {"a": 1}
    assert plan.parameters({"a": 1}, SCOPE) == {"x": 1}
    assert plan.result_selector(5, SCOPE) == {"r": 5}
    assert plan.assign({"x": 2}, SCOPE) == {"v": 2}
    assert plan.result_path({"k": 1}, 3, SCOPE) == {"k": 1, "out": 3}
    assert plan.output_path({"out": 3}, SCOPE) == 3


def test_absent_and_null_path_fields():
    plan = plan_of(machine({"P": {"Type": "Pass", "InputPath": None, "ResultPath": None, "End": True}}), "P")
    assert plan.input_path({"a": 1}, SCOPE) == {}
    assert plan.result_path({"a": 1}, 2, SCOPE) == {"a": 1}
    assert plan.output_path({"a": 1}, SCOPE) == {"a": 1}
    assert plan.parameters is None and plan.result_selector is None and plan.assign is None


def test_a_jsonata_state_has_no_compiled_fields():
    plan = plan_of(machine({"P": {"Type": "Pass", "Output": "{% 1 %}", "End": True}}, QueryLanguage="JSONata"), "P")
    assert plan.jsonata and plan.language == "JSONata"
    assert plan.input_path is None and plan.parameters is None and plan.rule_tests is None


def test_choice_rules_are_compiled_in_order():
    plan = plan_of(machine({"C": {"Type": "Choice", "Choices": [
        {"Variable": "$.n", "NumericEquals": 1, "Next": "D"}, {"Variable": "$.n", "IsPresent": True, "Next": "D"}],
        "Default": "D"}, "D": {"Type": "Succeed"}}), "C")
    assert [test({"n": 2}, SCOPE) for test in plan.rule_tests] == [False, True]


def test_a_field_that_cannot_work_fails_when_the_state_runs():
    plan = plan_of(machine({"P": {"Type": "Pass", "Parameters": {"x.$": "no path"}, "End": True}}), "P")
    with pytest.raises(Failure):
        plan.parameters({}, SCOPE)


def test_a_parallel_plan_knows_its_branches_in_order():
    branches = [{"StartAt": f"B{i}", "States": {f"B{i}": {"Type": "Pass", "End": True}}} for i in range(12)]
    plan = plan_of(machine({"P": {"Type": "Parallel", "Branches": branches, "End": True}}), "P")
    assert [branch.start_at for branch in plan.branches] == [f"B{i}" for i in range(12)]
