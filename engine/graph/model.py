"""An ASL definition -> a graph of its states: the pure model every renderer draws.

A scope (the machine, a Parallel branch, a Map's item processor) is a :class:`Graph`: an implicit
Start node, its states in definition order, an implicit End node, and labelled edges. A Parallel or
Map state is one node that owns its branches as nested graphs, so each renderer decides how to draw
a group. State names are unique across a whole definition (ASL requires it), so a state's key is
its name; the Start and End nodes of a scope get keys no state name can take (they hold a NUL).

Edges whose target is not a state of the same scope are left out: a dangling ``Next`` is for
validation to report, not for the picture to guess at.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# edge kinds: the ASL field the transition comes from, plus the implicit Start/End edges
NEXT, DEFAULT, CHOICE, CATCH, START, END = "Next", "Default", "Choice", "Catch", "Start", "End"
LABEL_CHARS = 40  # longer Choice rule and Catch labels are clipped to this many characters
RETRYABLE = ("Task", "Parallel", "Map")
TERMINAL_TYPES = ("Succeed", "Fail")

# how a JSONPath comparison reads; the operator's type prefix (String, Numeric...) is dropped
_OPERATORS = {"Equals": "==", "LessThan": "<", "GreaterThan": ">", "LessThanEquals": "<=",
              "GreaterThanEquals": ">=", "Matches": "matches"}
_TYPES = ("String", "Numeric", "Boolean", "Timestamp")
_TESTS = {"IsPresent": "present", "IsNull": "null", "IsNumeric": "numeric", "IsString": "a string",
          "IsBoolean": "a boolean", "IsTimestamp": "a timestamp"}


@dataclass(frozen=True)
class Node:
    """A state, or a scope's implicit Start (``type == "Start"``) or End (``type == "End"``)."""

    key: str
    name: str
    type: str
    start: bool = False  # the scope's StartAt
    terminal: bool = False  # End: true, Succeed or Fail
    retry: bool = False  # a Task, Parallel or Map with Retry
    branches: tuple[Graph, ...] = ()  # Parallel branches, or a Map's one item processor

    @property
    def is_state(self) -> bool:
        return self.type not in (START, END)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str
    label: str = ""


@dataclass(frozen=True)
class Graph:
    """One scope: its nodes (Start first, End last) and edges, both in definition order."""

    key: str
    title: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def node(self, key: str) -> Node:
        return next(node for node in self.nodes if node.key == key)

    def state_names(self) -> list[str]:
        """Every state name in this scope and the scopes nested in it."""
        names = []
        for node in self.nodes:
            if node.is_state:
                names.append(node.name)
                for branch in node.branches:
                    names.extend(branch.state_names())
        return names


def build_graph(definition: dict) -> Graph:
    """The graph of a (valid) state machine definition."""
    return _scope(definition, key="", title="", language=_language(definition, "JSONPath"))


def _scope(machine: dict, key: str, title: str, language: str) -> Graph:
    states = machine.get("States") or {}
    start_key, end_key = f"\0start{key}", f"\0end{key}"
    nodes = [Node(start_key, "Start", START)]
    edges = []
    if machine.get("StartAt") in states:
        edges.append(Edge(start_key, machine["StartAt"], START))
    for name, state in states.items():
        state_language = _language(state, language)
        node = _state_node(name, state, machine.get("StartAt") == name, state_language)
        nodes.append(node)
        edges.extend(edge for edge in _transitions(name, state, state_language) if edge.target in states)
        if node.terminal:
            edges.append(Edge(name, end_key, END))
    nodes.append(Node(end_key, "End", END))
    return Graph(key, title, tuple(nodes), tuple(edges))


def _state_node(name: str, state: dict, start: bool, language: str) -> Node:
    kind = str(state.get("Type", "?"))
    terminal = state.get("End") is True or kind in TERMINAL_TYPES
    retry = kind in RETRYABLE and bool(state.get("Retry"))
    return Node(name, name, kind, start, terminal, retry, _branches(name, state, kind, language))


def _branches(name: str, state: dict, kind: str, language: str) -> tuple[Graph, ...]:
    if kind == "Parallel":
        return tuple(_scope(branch, f"{name}\0{index}", f"Branch {index + 1}", language)
                     for index, branch in enumerate(state.get("Branches") or []) if isinstance(branch, dict))
    processor = (state.get("ItemProcessor") or state.get("Iterator")) if kind == "Map" else None
    return (_scope(processor, f"{name}\0items", "Item processor", language),) if isinstance(processor, dict) else ()


def _transitions(name: str, state: dict, language: str) -> list[Edge]:
    edges = []
    if isinstance(state.get("Next"), str):
        edges.append(Edge(name, state["Next"], NEXT))
    for index, rule in enumerate(state.get("Choices") or []):
        if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
            edges.append(Edge(name, rule["Next"], CHOICE, choice_label(rule, index, language)))
    if isinstance(state.get("Default"), str):
        edges.append(Edge(name, state["Default"], DEFAULT, "Default"))
    for catcher in state.get("Catch") or []:
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            errors = ", ".join(map(str, catcher.get("ErrorEquals") or []))
            edges.append(Edge(name, catcher["Next"], CATCH, clip(errors)))
    return edges


def _language(node: dict, inherited: str) -> str:
    return node.get("QueryLanguage", inherited) if isinstance(node, dict) else inherited


# --- Choice rule labels ------------------------------------------------------------------------------
def choice_label(rule: dict, index: int, language: str = "JSONPath") -> str:
    """A short reading of one Choice rule: ``$.x == 3``, a JSONata Condition, or ``Choice #N``."""
    if language == "JSONata" or "Condition" in rule:
        text = rule.get("Condition")
        text = text.strip().removeprefix("{%").removesuffix("%}").strip() if isinstance(text, str) else text
        return clip(text if isinstance(text, str) else json.dumps(text)) or f"Choice #{index + 1}"
    return clip(_rule_text(rule) or f"Choice #{index + 1}")


def _rule_text(rule: Any) -> str:
    if not isinstance(rule, dict):
        return ""
    for combinator, joiner in (("And", " and "), ("Or", " or ")):
        if isinstance(rule.get(combinator), list):
            return joiner.join(f"({_rule_text(part)})" for part in rule[combinator])
    if "Not" in rule:
        return f"not ({_rule_text(rule['Not'])})"
    variable = rule.get("Variable", "?")
    for field_name, value in rule.items():
        text = _comparison(str(variable), field_name, value)
        if text:
            return text
    return ""


def _comparison(variable: str, field_name: str, value: Any) -> str:
    if field_name in _TESTS:
        return f"{variable} is {'' if value is True else 'not '}{_TESTS[field_name]}"
    path = field_name.endswith("Path")
    operator = field_name.removesuffix("Path")
    for prefix in _TYPES:
        if operator.startswith(prefix) and operator[len(prefix):] in _OPERATORS:
            shown = value if path or not isinstance(value, str) else f'"{value}"'
            shown = shown if isinstance(shown, str) else json.dumps(shown)
            return f"{variable} {_OPERATORS[operator[len(prefix):]]} {shown}"
    return ""


def clip(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
