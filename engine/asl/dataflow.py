"""JSONPath-mode data flow: InputPath -> Parameters -> (work) -> ResultSelector -> ResultPath -> OutputPath.

Absent fields mean "$"; an explicit null InputPath/OutputPath gives {} and a null ResultPath
discards the result (the ASL specification's rules), which is why ``state.get(field, "$")``.
"""
from __future__ import annotations

from typing import Any

from engine.asl import jsonpath, templates
from engine.asl.scope import Scope


def effective_input(state: dict, raw: Any, scope: Scope) -> Any:
    return jsonpath.select(state.get("InputPath", "$"), raw, scope, "InputPath")


def parameters(state: dict, effective: Any, scope: Scope, field: str = "Parameters") -> Any:
    if field in state:
        return templates.render(state[field], effective, scope, field)
    return effective


def state_output(state: dict, raw: Any, result: Any, scope: Scope) -> Any:
    """ResultSelector (on the result), ResultPath (into the raw input), OutputPath."""
    if "ResultSelector" in state:
        result = templates.render(state["ResultSelector"], result, scope, "ResultSelector")
    combined = jsonpath.put(raw, state.get("ResultPath", "$"), result, scope)
    return output_path(state, combined, scope)


def output_path(state: dict, value: Any, scope: Scope) -> Any:
    return jsonpath.select(state.get("OutputPath", "$"), value, scope, "OutputPath")


def caught_output(catcher: dict, raw: Any, error_output: dict, scope: Scope) -> Any:
    return jsonpath.put(raw, catcher.get("ResultPath", "$"), error_output, scope)
