"""What the graph tests read from a definition on their own (not through engine.graph), an SVG
reader, and a hypothesis strategy of random state machines."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Iterator

from hypothesis import strategies as st

SVG = "{http://www.w3.org/2000/svg}"


def scopes(machine: dict) -> Iterator[dict]:
    """The machine and every Parallel branch and Map processor in it, at any depth."""
    yield machine
    for state in machine["States"].values():
        for branch in state.get("Branches", []):
            yield from scopes(branch)
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from scopes(processor)


def state_names(machine: dict) -> list[str]:
    return [name for scope in scopes(machine) for name in scope["States"]]


def transitions(machine: dict) -> list[tuple[str, str, str]]:
    """(source, target, kind) of every Next, Default, Choice rule and Catch."""
    found = []
    for scope in scopes(machine):
        for name, state in scope["States"].items():
            if "Next" in state:
                found.append((name, state["Next"], "next"))
            found.extend((name, rule["Next"], "choice") for rule in state.get("Choices", []))
            if "Default" in state:
                found.append((name, state["Default"], "default"))
            found.extend((name, catcher["Next"], "catch") for catcher in state.get("Catch", []))
    return found


def state_elements(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}g") if "state" in e.get("class", "").split()]


def edge_elements(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}g") if "edge" in e.get("class", "").split()]


def shape_box(g: ET.Element) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a node's shape, its first child: a rect or a polygon."""
    shape = g[0]
    if shape.tag == f"{SVG}rect":
        x, y = float(shape.get("x")), float(shape.get("y"))
        return x, y, x + float(shape.get("width")), y + float(shape.get("height"))
    points = [tuple(map(float, pair.split(","))) for pair in shape.get("points").split()]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


# --- random state machines -----------------------------------------------------------------------------
AWKWARD = st.text(alphabet=st.sampled_from(list('ab <>&"\'#|[]{}();`\\/é✓\t')), max_size=4)
SIMPLE_TYPES = ["Pass", "Task", "Choice", "Wait", "Succeed", "Fail"]


@st.composite
def machines(draw, depth: int = 0, counter: list | None = None) -> dict:
    """A structurally sound definition: chains, Choices (back edges included), Catch, Retry, and
    Parallel/Map nested up to three deep; names unique and full of awkward characters."""
    counter = counter if counter is not None else [0]
    size = draw(st.integers(1, 5 if depth else 7))
    names = []
    for _ in range(size):
        counter[0] += 1
        names.append(f"S{counter[0]}{draw(AWKWARD)}")
    states = {}
    for position, name in enumerate(names):
        types = SIMPLE_TYPES + (["Parallel", "Map"] if depth < 3 else [])
        kind = draw(st.sampled_from(types))
        states[name] = draw(_state(kind, names, position, depth, counter))
    return {"StartAt": names[0], "States": states}


@st.composite
def _state(draw, kind: str, names: list[str], position: int, depth: int, counter: list) -> dict:
    state: dict = {"Type": kind}
    if kind == "Choice":
        state["Choices"] = [{"Variable": "$.x", "NumericEquals": draw(st.integers(0, 9)),
                             "Next": draw(st.sampled_from(names))} for _ in range(draw(st.integers(1, 3)))]
        if draw(st.booleans()):
            state["Default"] = draw(st.sampled_from(names))
        return state
    if kind == "Parallel":
        state["Branches"] = [draw(machines(depth + 1, counter)) for _ in range(draw(st.integers(1, 3)))]
    if kind == "Map":
        state["ItemProcessor" if draw(st.booleans()) else "Iterator"] = draw(machines(depth + 1, counter))
    if kind in ("Task", "Parallel", "Map"):
        if draw(st.booleans()):
            state["Retry"] = [{"ErrorEquals": ["States.ALL"]}]
        if draw(st.booleans()):
            state["Catch"] = [{"ErrorEquals": [draw(AWKWARD) or "E"], "Next": draw(st.sampled_from(names))}]
    if kind in ("Succeed", "Fail"):
        return state
    later = names[position + 1:]
    if later and draw(st.booleans()):
        state["Next"] = draw(st.sampled_from(later))
    elif draw(st.integers(0, 4)) == 0:
        state["Next"] = draw(st.sampled_from(names))  # may loop back
    else:
        state["End"] = True
    return state
