"""How a state computes its input, output and variables, in either query language.

JSONPath: InputPath -> Parameters -> (work) -> ResultSelector -> Assign -> ResultPath -> OutputPath.
Absent fields mean "$"; an explicit null InputPath/OutputPath gives {} and a null ResultPath
discards the result (the ASL specification's rules), which is why ``state.get(field, "$")``.
In Assign, ``$`` is the state's result (after ResultSelector); in a Catch, the error output;
in a state without a result (Choice, Wait), its effective input.

JSONata: Arguments -> (work) -> Assign and Output, each a template whose ``{% %}`` strings are
evaluated with ``$states`` = {input, context} plus ``result`` (Task, Map, Parallel) or
``errorOutput`` (a Catch). Absent Output means the result, or the input for states without one.

The ``leave_*`` functions return ``(output, assigned)``: the state's output and the variables
its Assign sets (None when it has no Assign). Both read the variables from before the state;
the interpreter stores ``assigned`` when the state exits.

A state comes as its :class:`~engine.asl.plan.StatePlan`: the JSONPath fields compiled once,
the definition's object in ``plan.spec`` for everything else.
"""
from __future__ import annotations

from typing import Any

from engine.asl import jsonata, jsonpath, templates, variables
from engine.asl.model import JSONATA
from engine.asl.plan import StatePlan
from engine.asl.scope import Scope

Exit = tuple  # (output, assigned variables or None)


def is_jsonata(scope: Scope) -> bool:
    return scope.language == JSONATA


def effective_input(plan: StatePlan, raw: Any, scope: Scope) -> Any:
    if plan.jsonata:
        return raw  # JSONata has no InputPath: $states.input is the raw input
    return plan.input_path(raw, scope)


def parameters(plan: StatePlan, effective: Any, scope: Scope) -> Any:
    """What a Task sends or a Parallel gives its branches: Parameters, or JSONata's Arguments."""
    if plan.jsonata:
        if "Arguments" not in plan.spec:
            return effective
        states = jsonata.states_binding(scope, effective)
        return jsonata.render(plan.spec["Arguments"], states, scope, "Arguments")
    if plan.parameters is not None:
        return plan.parameters(effective, scope)
    return effective


def field_value(state: dict, name: str, raw: Any, scope: Scope) -> Any:
    """A field that a JSONata state may give as an expression (Seconds, TimeoutSeconds, Items,
    MaxConcurrency, Error ...): its literal value, or the expression's value."""
    value = state[name]
    if is_jsonata(scope) and jsonata.is_expression(value):
        return jsonata.evaluate(value, jsonata.states_binding(scope, raw), scope, name)
    return value


# --- leaving a state -----------------------------------------------------------------------
def leave_pass(plan: StatePlan, raw: Any, scope: Scope) -> Exit:
    if plan.jsonata:
        return leave_plain(plan, raw, raw, scope)
    effective = plan.input_path(raw, scope)
    result = plan.spec["Result"] if "Result" in plan.spec else parameters(plan, effective, scope)
    assigned = _own_assign(plan, result, scope)
    combined = plan.result_path(raw, result, scope)
    return plan.output_path(combined, scope), assigned


def leave_plain(plan: StatePlan, raw: Any, effective: Any, scope: Scope, rule: dict | None = None) -> Exit:
    """A state without a result (Succeed, Choice, Wait). ``rule``: the Choice rule that matched,
    whose Assign and JSONata Output apply instead of the state's own."""
    spec = plan.spec if rule is None else rule
    if plan.jsonata:
        states = jsonata.states_binding(scope, raw)
        assigned = _jsonata_assign(spec, states, scope)
        return _jsonata_output(spec, states, raw, scope), assigned
    assigned = _own_assign(plan, effective, scope) if rule is None else _jsonpath_assign(rule, effective, scope)
    return plan.output_path(effective, scope), assigned


def leave_with_result(plan: StatePlan, raw: Any, result: Any, scope: Scope) -> Exit:
    """A Task, Map or Parallel state that produced ``result``."""
    if plan.jsonata:
        states = jsonata.states_binding(scope, raw, result=result)
        assigned = _jsonata_assign(plan.spec, states, scope)
        return _jsonata_output(plan.spec, states, result, scope), assigned
    if plan.result_selector is not None:
        result = plan.result_selector(result, scope)
    assigned = _own_assign(plan, result, scope)
    combined = plan.result_path(raw, result, scope)
    return plan.output_path(combined, scope), assigned


def leave_caught(catcher: dict, raw: Any, error_output: dict, scope: Scope) -> Exit:
    """The state failed and ``catcher`` caught it: its ResultPath/Output and Assign."""
    if is_jsonata(scope):
        states = jsonata.states_binding(scope, raw, errorOutput=error_output)
        assigned = _jsonata_assign(catcher, states, scope)
        return _jsonata_output(catcher, states, error_output, scope), assigned
    assigned = _jsonpath_assign(catcher, error_output, scope)
    return jsonpath.put(raw, catcher.get("ResultPath", "$"), error_output, scope), assigned


# --- Map -----------------------------------------------------------------------------------
def map_items(plan: StatePlan, raw: Any, effective: Any, scope: Scope) -> list:
    """The items a Map iterates: ItemsPath (JSONPath), or Items / the whole input (JSONata)."""
    state = plan.spec
    if not plan.jsonata:
        return jsonpath.select(state.get("ItemsPath", "$"), effective, scope, "ItemsPath")
    if "Items" not in state:
        if not isinstance(raw, list):
            raise jsonata.query_failure(
                scope, f"Map state input must be an array but was: {jsonpath.json_text(raw)}")
        return raw
    items = state["Items"]
    states = jsonata.states_binding(scope, raw)
    value = jsonata.render(items, states, scope, "Items")
    if not isinstance(value, list):
        raise jsonata.unexpected_type(scope, items, "Items", "array", value)
    return value


def item_input(plan: StatePlan, item: Any, raw: Any, scope: Scope) -> Any:
    """One iteration's input: ``item`` through ItemSelector (``scope`` carries $$.Map.Item)."""
    if plan.jsonata:
        selector = plan.spec.get("ItemSelector", plan.spec.get("Parameters"))
        if selector is None:
            return item
        return jsonata.render(selector, jsonata.states_binding(scope, raw), scope, "ItemSelector")
    if plan.item_selector is None:
        return item
    return plan.item_selector(raw, scope)


# --- helpers -------------------------------------------------------------------------------
def _jsonata_output(spec: dict, states: dict, default: Any, scope: Scope) -> Any:
    if "Output" not in spec:
        return default
    return jsonata.render(spec["Output"], states, scope, "Output")


def _jsonata_assign(spec: dict, states: dict, scope: Scope) -> dict | None:
    """The values a JSONata Assign (a template over ``states``) sets; None without one."""
    if not spec.get("Assign"):
        return None
    return _checked(jsonata.render(spec["Assign"], states, scope, "Assign"), scope)


def _own_assign(plan: StatePlan, data: Any, scope: Scope) -> dict | None:
    """The values the state's own (compiled) JSONPath Assign sets; None without one."""
    return None if plan.assign is None else _checked(plan.assign(data, scope), scope)


def _jsonpath_assign(spec: dict, data: Any, scope: Scope) -> dict | None:
    """The values a JSONPath Assign (``"name.$"`` keys over ``data``) sets; None without one."""
    if not spec.get("Assign"):
        return None
    return _checked(templates.render(spec["Assign"], data, scope, "Assign"), scope)


def _checked(values: dict, scope: Scope) -> dict:
    """``values`` if they are within AWS's size limits on variables."""
    problem = variables.size_problem(values, scope.variables or {})
    if problem is not None:
        raise scope.runtime_failure(problem)
    return values
