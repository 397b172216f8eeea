"""Each state read once per definition: what the interpreter consults on every visit.

A :class:`StatePlan` holds a state's definition object (``spec``), the facts the interpreter
asks on every transition (type, language, Next, event names) and, for JSONPath states, the
data-flow fields compiled into functions of (data, scope): InputPath, Parameters,
ResultSelector, Assign, ResultPath, OutputPath, ItemSelector and the Choice rules. Compiling
is only reading: every field is evaluated when the state runs, in the same order and with the
same failures as before (a field that cannot be compiled fails when it is evaluated).

Plans are built on first use and kept with the model (:func:`plan_of`), which is cached per
definition revision, so one execution after the first pays for none of this.
"""
from __future__ import annotations

from typing import Any

from engine.asl import choice, jsonpath, templates
from engine.asl.model import JSONATA, Machine, state_language

# the states whose $$.State carries RetryCount
_RETRYING_TYPES = ("Task", "Map", "Parallel")


class StatePlan:
    """One state of one scope (the top level, a Parallel branch, a Map's item processor).

    ``name``, ``spec`` (the definition's object), ``type``, ``language`` (``jsonata``: is it
    JSONata), ``next`` (None: End), ``counts_retries`` ($$.State has RetryCount),
    ``entered_event`` and ``exited_event`` (PassStateEntered ...), ``branches`` (the scope each
    child of a Parallel or Map runs, by branch index) and ``selects_items`` (a Map with an
    ItemSelector). For JSONPath states, functions of (data, scope) or None when the field is
    absent: ``input_path``, ``parameters``, ``result_selector``, ``assign``, ``item_selector``,
    ``output_path``; ``result_path`` of (document, result, scope); ``rule_tests``, one per
    Choice rule.
    """

    __slots__ = ("name", "spec", "type", "language", "jsonata", "next", "counts_retries",
                 "entered_event", "exited_event", "branches", "selects_items", "input_path",
                 "parameters", "result_selector", "assign", "item_selector", "result_path",
                 "output_path", "rule_tests")

    def __init__(self, machine: Machine, name: str):
        spec = machine.states[name]
        self.name = name
        self.spec = spec
        self.type = spec["Type"]
        self.language = state_language(machine, spec)
        self.jsonata = self.language == JSONATA
        self.next = spec.get("Next")
        self.counts_retries = self.type in _RETRYING_TYPES
        self.entered_event = f"{self.type}StateEntered"
        self.exited_event = f"{self.type}StateExited"
        self.branches = [machine.children[key] for key in sorted(machine.children) if key[0] == name]
        item_selector = spec.get("ItemSelector", spec.get("Parameters")) if self.type == "Map" else None
        self.selects_items = item_selector is not None  # without one, an item is its iteration's input
        if self.jsonata:  # JSONata fields are expressions, evaluated by jsonata.py as they come
            self.input_path = self.parameters = self.result_selector = self.assign = None
            self.item_selector = self.result_path = self.output_path = self.rule_tests = None
            return
        # absent fields mean "$"; an explicit null InputPath/OutputPath gives {} and a null
        # ResultPath discards the result (the ASL specification's rules)
        self.input_path = jsonpath.selector(spec.get("InputPath", "$"), "InputPath")
        self.parameters = _template(spec, "Parameters")
        self.result_selector = _template(spec, "ResultSelector")
        self.assign = templates.compile_template(spec["Assign"], "Assign") if spec.get("Assign") else None
        self.item_selector = None if item_selector is None else templates.compile_template(
            item_selector, "ItemSelector" if "ItemSelector" in spec else "Parameters")
        self.result_path = jsonpath.placer(spec.get("ResultPath", "$"))
        self.output_path = jsonpath.selector(spec.get("OutputPath", "$"), "OutputPath")
        self.rule_tests = [choice.compile_rule(rule) for rule in spec.get("Choices", [])]


def plan_of(machine: Machine, name: str) -> StatePlan:
    """The plan of state ``name`` of this scope, built on first use."""
    plan = machine.plans.get(name)
    if plan is None:
        # two threads may build the same plan at once: both are equal, either may stay
        plan = machine.plans[name] = StatePlan(machine, name)
    return plan


def _template(spec: dict, field: str) -> Any:
    return templates.compile_template(spec[field], field) if field in spec else None
