"""Definition -> an immutable model the interpreter walks.

A definition is data: the model keeps each state as its (read-only) JSON object and adds only
what the interpreter looks up often: the state table of every scope (the top level, each Parallel
branch, each Map processor), the scope key that reaches it, and each state's plan (plan.py). A scope key is a tuple of
``(state name, branch index)`` pairs from the top level down; Map processors use index 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

Scope = tuple  # tuple[tuple[str, int], ...]

JSONPATH = "JSONPath"
JSONATA = "JSONata"


@dataclass(frozen=True)
class Machine:
    """One scope's state table."""

    start_at: str
    states: dict[str, dict]
    query_language: str = JSONPATH
    timeout_seconds: int | None = None
    children: dict[tuple[str, int], "Machine"] = field(default_factory=dict)
    # state name -> plan.StatePlan, filled on first use (plan.plan_of): derived, not compared
    plans: dict = field(default_factory=dict, compare=False, repr=False)


def build(definition: dict, query_language: str | None = None) -> Machine:
    """Build the model of a validated definition (nested scopes included)."""
    language = definition.get("QueryLanguage") or query_language or JSONPATH
    children: dict[tuple[str, int], Machine] = {}
    for name, state in definition.get("States", {}).items():
        for index, sub in enumerate(_sub_machines(state)):
            # a nested scope inherits the machine's language, not the enclosing state's override
            children[(name, index)] = build(sub, language)
    return Machine(
        start_at=definition["StartAt"],
        states=definition["States"],
        query_language=language,
        timeout_seconds=definition.get("TimeoutSeconds"),
        children=children,
    )


def _sub_machines(state: dict) -> list[dict]:
    kind = state.get("Type")
    if kind == "Parallel":
        return list(state.get("Branches", []))
    if kind == "Map":
        return [state.get("ItemProcessor") or state.get("Iterator")]
    return []


def scope_of(root: Machine, key: Scope) -> Machine:
    machine = root
    for step in key:
        machine = machine.children[tuple(step)]
    return machine


def state_language(machine: Machine, state: dict) -> str:
    return state.get("QueryLanguage") or machine.query_language


def is_distributed(state: dict) -> bool:
    processor = state.get("ItemProcessor") or state.get("Iterator") or {}
    return (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED"


