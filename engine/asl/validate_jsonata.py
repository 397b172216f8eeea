"""Validation rules of the JSONata era: expressions and workflow variables.

Called by :mod:`engine.asl.validate` (which owns the walk over the definition and the field
rules shared by both query languages). Each function returns ``(parts, message)`` pairs:
``parts`` is the place in the definition (keys and indexes from the root).

* Every ``{% %}`` string of a JSONata state compiles, and calls no refused function ($eval).
* Every Assign names its variables as AWS allows: an identifier of at most 80 characters,
  not the reserved ``states``; in JSONPath states a ``"name.$"`` key names ``name``.
* A state inside a Parallel branch or a Map processor assigns no variable that a state of an
  enclosing scope assigns: inner scopes read outer variables but cannot change them.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from engine.asl import jsonata, variables

Parts = tuple
Problem = tuple  # (parts, message)

MAX_VARIABLE_NAME_LENGTH = 80  # characters (AWS's limit)
_REFUSED_CALL = re.compile(r"\$(" + "|".join(jsonata.REFUSED_FUNCTIONS) + r")\b")
# fields a JSONata state may hold expressions in, at any depth (templates) or at the top
_EXPRESSION_FIELDS = (
    "Arguments", "Output", "Assign", "Items", "ItemSelector", "Seconds", "Timestamp",
    "TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency", "ToleratedFailurePercentage",
    "ToleratedFailureCount", "Error", "Cause", "Credentials",
)
_NESTED = ("ItemReader", "ItemBatcher", "ResultWriter")


def expressions(state: dict, parts: Parts) -> list[Problem]:
    """Every expression of a JSONata state (its Choice rules and Catchers included)."""
    found: list[Problem] = []
    for name in _EXPRESSION_FIELDS:
        if name in state:
            found += _template(state[name], parts + (name,))
    for name in _NESTED:
        if isinstance(state.get(name), dict):
            found += _template(state[name], parts + (name,))
    for field in ("Choices", "Catch"):
        items = state.get(field)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict):
                for name in ("Condition", "Output", "Assign"):
                    if name in item:
                        found += _template(item[name], parts + (field, index, name))
    return found


def _template(value: Any, parts: Parts) -> Iterator[Problem]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _template(item, parts + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _template(item, parts + (index,))
    elif jsonata.is_expression(value):
        problem = _expression_problem(jsonata.expression_text(value))
        if problem is not None:
            yield parts, problem


def _expression_problem(text: str) -> str | None:
    if not text:
        return "The JSONata expression is empty"
    refused = _REFUSED_CALL.search(text)
    if refused is not None:
        return f"The JSONata function '${refused.group(1)}' is not supported"
    try:
        jsonata.compile_expression(text)
    except jsonata.JSONataSyntaxError as error:
        return f"The value is not a valid JSONata expression: {error}"
    return None


# --- variables -----------------------------------------------------------------------------
def assign_blocks(state: dict, parts: Parts) -> Iterator[tuple[dict, Parts]]:
    """Each Assign object of a state: its own, its Choice rules', its Catchers'."""
    if isinstance(state.get("Assign"), dict):
        yield state["Assign"], parts + ("Assign",)
    for field in ("Choices", "Catch"):
        items = state.get(field)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and isinstance(item.get("Assign"), dict):
                yield item["Assign"], parts + (field, index, "Assign")


def variable_name(key: str, language: str) -> str:
    """The variable an Assign key sets: JSONPath's ``"name.$"`` sets ``name``."""
    return key[:-2] if language != "JSONata" and key.endswith(".$") else key


def names(state: dict, parts: Parts, language: str) -> list[tuple[str, Parts]]:
    """Each variable the state assigns, with the place of its key."""
    return [(variable_name(key, language), where + (key,))
            for block, where in assign_blocks(state, parts) for key in block]


def name_problems(state: dict, parts: Parts, language: str, outer: set[str]) -> list[Problem]:
    """Bad variable names, and names an enclosing scope assigns (``outer``)."""
    found: list[Problem] = []
    for name, where in names(state, parts, language):
        if name in variables.RESERVED:
            found.append((where, f"The variable name '{name}' is reserved"))
        elif not name.isidentifier() or len(name) > MAX_VARIABLE_NAME_LENGTH:
            found.append((where, f"The variable name '{name}' is not valid: a name is a letter or '_' "
                                 f"then letters, digits or '_', at most {MAX_VARIABLE_NAME_LENGTH} characters"))
        elif name in outer:
            found.append((where, f"The variable '{name}' is assigned in an outer scope; a state in a "
                                 "Parallel branch or Map processor can read it but not assign it"))
    return found


def scope_names(states: dict, language_of: Any) -> set[str]:
    """Every variable the states of one scope assign (``language_of(state)`` gives each
    state's query language)."""
    found: set[str] = set()
    for state in states.values():
        if isinstance(state, dict):
            found.update(name for name, _ in names(state, (), language_of(state)))
    return found
