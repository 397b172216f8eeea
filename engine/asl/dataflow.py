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
"""
from __future__ import annotations

from typing import Any

from engine.asl import jsonata, jsonpath, templates, variables
from engine.asl.model import JSONATA
from engine.asl.scope import Scope

Exit = tuple  # (output, assigned variables or None)


def is_jsonata(scope: Scope) -> bool:
    return scope.language == JSONATA


def effective_input(state: dict, raw: Any, scope: Scope) -> Any:
    if is_jsonata(scope):
        return raw  # JSONata has no InputPath: $states.input is the raw input
    return jsonpath.select(state.get("InputPath", "$"), raw, scope, "InputPath")


def parameters(state: dict, effective: Any, scope: Scope, field: str = "Parameters") -> Any:
    """What a Task sends or a Parallel gives its branches: Parameters, or JSONata's Arguments."""
    if is_jsonata(scope):
        if "Arguments" not in state:
            return effective
        states = jsonata.states_binding(scope, effective)
        return jsonata.render(state["Arguments"], states, scope, "Arguments")
    if field in state:
        return templates.render(state[field], effective, scope, field)
    return effective


def field_value(state: dict, name: str, raw: Any, scope: Scope) -> Any:
    """A field that a JSONata state may give as an expression (Seconds, TimeoutSeconds, Items,
    MaxConcurrency, Error ...): its literal value, or the expression's value."""
    value = state[name]
    if is_jsonata(scope) and jsonata.is_expression(value):
        return jsonata.evaluate(value, jsonata.states_binding(scope, raw), scope, name)
    return value


# --- leaving a state -----------------------------------------------------------------------
def leave_pass(state: dict, raw: Any, scope: Scope) -> Exit:
    if is_jsonata(scope):
        return leave_plain(state, raw, raw, scope)
    effective = effective_input(state, raw, scope)
    result = state["Result"] if "Result" in state else parameters(state, effective, scope)
    assigned = _assign(state.get("Assign"), scope, data=result)
    combined = jsonpath.put(raw, state.get("ResultPath", "$"), result, scope)
    return output_path(state, combined, scope), assigned


def leave_plain(state: dict, raw: Any, effective: Any, scope: Scope, spec: dict | None = None) -> Exit:
    """A state without a result (Succeed, Choice, Wait). ``spec`` holds Assign and JSONata's
    Output when they are not the state's own (the Choice rule that matched)."""
    spec = state if spec is None else spec
    if is_jsonata(scope):
        states = jsonata.states_binding(scope, raw)
        assigned = _assign(spec.get("Assign"), scope, states=states)
        return _jsonata_output(spec, states, raw, scope), assigned
    assigned = _assign(spec.get("Assign"), scope, data=effective)
    return output_path(state, effective, scope), assigned


def leave_with_result(state: dict, raw: Any, result: Any, scope: Scope) -> Exit:
    """A Task, Map or Parallel state that produced ``result``."""
    if is_jsonata(scope):
        states = jsonata.states_binding(scope, raw, result=result)
        assigned = _assign(state.get("Assign"), scope, states=states)
        return _jsonata_output(state, states, result, scope), assigned
    if "ResultSelector" in state:
        result = templates.render(state["ResultSelector"], result, scope, "ResultSelector")
    assigned = _assign(state.get("Assign"), scope, data=result)
    combined = jsonpath.put(raw, state.get("ResultPath", "$"), result, scope)
    return output_path(state, combined, scope), assigned


def leave_caught(catcher: dict, raw: Any, error_output: dict, scope: Scope) -> Exit:
    """The state failed and ``catcher`` caught it: its ResultPath/Output and Assign."""
    if is_jsonata(scope):
        states = jsonata.states_binding(scope, raw, errorOutput=error_output)
        assigned = _assign(catcher.get("Assign"), scope, states=states)
        return _jsonata_output(catcher, states, error_output, scope), assigned
    assigned = _assign(catcher.get("Assign"), scope, data=error_output)
    return jsonpath.put(raw, catcher.get("ResultPath", "$"), error_output, scope), assigned


# the JSONPath-era names, kept for callers that need only the output
def state_output(state: dict, raw: Any, result: Any, scope: Scope) -> Any:
    return leave_with_result(state, raw, result, scope)[0]


def caught_output(catcher: dict, raw: Any, error_output: dict, scope: Scope) -> Any:
    return leave_caught(catcher, raw, error_output, scope)[0]


def output_path(state: dict, value: Any, scope: Scope) -> Any:
    return jsonpath.select(state.get("OutputPath", "$"), value, scope, "OutputPath")


# --- Map -----------------------------------------------------------------------------------
def map_items(state: dict, raw: Any, effective: Any, scope: Scope) -> list:
    """The items a Map iterates: ItemsPath (JSONPath), or Items / the whole input (JSONata)."""
    if not is_jsonata(scope):
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


def item_input(state: dict, item: Any, raw: Any, scope: Scope) -> Any:
    """One iteration's input: ``item`` through ItemSelector (``scope`` carries $$.Map.Item)."""
    selector = state.get("ItemSelector", state.get("Parameters"))
    if selector is None:
        return item
    if is_jsonata(scope):
        return jsonata.render(selector, jsonata.states_binding(scope, raw), scope, "ItemSelector")
    return templates.render(selector, raw, scope, "ItemSelector" if "ItemSelector" in state else "Parameters")


# --- helpers -------------------------------------------------------------------------------
def _jsonata_output(spec: dict, states: dict, default: Any, scope: Scope) -> Any:
    if "Output" not in spec:
        return default
    return jsonata.render(spec["Output"], states, scope, "Output")


def _assign(spec: dict | None, scope: Scope, data: Any = None, states: dict | None = None) -> dict | None:
    """The values an Assign sets: a JSONata template over ``states``, or a JSONPath template
    (``"name.$"`` keys) over ``data``."""
    if not spec:
        return None
    if states is not None:
        values = jsonata.render(spec, states, scope, "Assign")
    else:
        values = templates.render(spec, data, scope, "Assign")
    problem = variables.size_problem(values, scope.variables or {})
    if problem is not None:
        raise scope.runtime_failure(problem)
    return values
