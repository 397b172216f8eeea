"""The SVG: well-formed, one element per state (the console's contract), outcome classes, and a
layout whose boxes neither overlap nor leave their group, for any state machine."""
import math
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings

from engine.graph import OUTCOMES, build_graph, render, to_svg
from graph_support import SVG, edge_elements, machines, shape_box, state_elements, state_names, transitions
from test_graph_text import AWKWARD

LOOP = {
    "StartAt": "Poll",
    "States": {
        "Poll": {"Type": "Task", "Resource": "r", "Retry": [{"ErrorEquals": ["States.ALL"]}], "Next": "Done?"},
        "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": "Ok"}],
                  "Default": "Wait"},
        "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Poll"},
        "Ok": {"Type": "Succeed"},
    },
}


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_contract_root_states_groups_and_edges():
    root = parsed(to_svg(build_graph(AWKWARD)))
    assert root.tag == f"{SVG}svg" and "stepstone-graph" in root.get("class").split()
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    states = state_elements(root)
    assert sorted(g.get("data-state") for g in states) == sorted(state_names(AWKWARD))
    types = {g.get("data-state"): g.get("data-type") for g in states}
    assert types["a-b"] == "Parallel" and types["m#"] == "Map" and types['Say "hi"'] == "Pass"
    groups = [g for g in root.iter(f"{SVG}g") if "group" in g.get("class", "").split()]
    assert [g.get("data-state") for g in groups] == ["a-b", "m#"]
    assert all("state" in g.get("class").split() for g in groups)  # the group box is the state's node
    parallel = groups[0]
    assert [b.get("data-branch") for b in parallel.findall(f"{SVG}g[@class='branch']")] == ["1", "2"]
    assert {g.get("data-state") for g in state_elements(parallel)} == {"a-b", "a b", "x{y}", "m#", "(inner)"}
    assert "<style>" in to_svg(build_graph(AWKWARD)) and "xmlns=" in to_svg(build_graph(AWKWARD))


def test_every_transition_is_an_edge():
    root = parsed(to_svg(build_graph(AWKWARD)))
    drawn = [(e.get("data-source"), e.get("data-target"), e.get("class").split()[1].removeprefix("edge-"))
             for e in edge_elements(root)]
    assert sorted(t for t in drawn if t[2] not in ("start", "end")) == sorted(transitions(AWKWARD))
    for edge in edge_elements(root):
        assert edge.find(f"{SVG}path").get("marker-end").startswith("url(#stepstone-arrow-")


def test_back_edges_are_drawn_round_the_side():
    root = parsed(to_svg(build_graph(LOOP)))
    back = [e for e in edge_elements(root) if "back" in e.get("class").split()]
    assert [(e.get("data-source"), e.get("data-target")) for e in back] == [("Wait", "Poll")]
    boxes = {g.get("data-state"): shape_box(g) for g in state_elements(root)}
    lane = max(float(p.split(",")[0]) for p in back[0].find(f"{SVG}path").get("d")[1:].split(" L"))
    assert lane > max(box[2] for box in boxes.values())  # right of every state it passes


def test_awkward_names_survive_as_text_and_attributes():
    root = parsed(to_svg(build_graph(AWKWARD)))
    titles = {g.get("data-state"): g.find(f"{SVG}title").text for g in state_elements(root)}
    assert all(name == title for name, title in titles.items())
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert '$.tag == "<b>bold</b> #1; `x`"' in labels and 'Err"<&>' in labels


def test_outcomes_add_classes():
    outcomes = {"Poll": "succeeded", "Done?": "running", "Wait": "retried", "Ok": "not-run", "Nope": "failed"}
    root = parsed(to_svg(build_graph(LOOP), outcomes))
    classes = {g.get("data-state"): g.get("class").split() for g in state_elements(root)}
    for name, outcome in outcomes.items():
        if name in classes:
            assert f"outcome-{outcome}" in classes[name]
    assert sum("outcome-" in c for cls in classes.values() for c in cls) == 4
    style = root.find(f"{SVG}style").text
    for outcome in OUTCOMES:
        assert f".stepstone-graph .outcome-{outcome}" in style
    assert all(rule.startswith((".stepstone-graph", "@", "}")) for rule in style.split("\n") if rule)


def test_unknown_outcomes_are_refused():
    with pytest.raises(ValueError, match="unknown outcome"):
        to_svg(build_graph(LOOP), {"Poll": "exploded"})


def test_render_knows_three_formats():
    assert render(LOOP, "mermaid").startswith("flowchart TD")
    assert render(LOOP, "dot").startswith("digraph")
    assert render(LOOP, "svg").startswith("<svg")
    with pytest.raises(ValueError, match="unknown graph format"):
        render(LOOP, "png")


# --- layout properties over random state machines -------------------------------------------------------------
ROUNDING = 0.25  # the SVG gives coordinates and sizes to 0.1 px, each rounded on its own


def overlap(a, b) -> bool:
    return (a[0] < b[2] - ROUNDING and b[0] < a[2] - ROUNDING and a[1] < b[3] - ROUNDING
            and b[1] < a[3] - ROUNDING)


def inside(inner, outer) -> bool:
    return (outer[0] - ROUNDING <= inner[0] and outer[1] - ROUNDING <= inner[1]
            and inner[2] <= outer[2] + ROUNDING and inner[3] <= outer[3] + ROUNDING)


def check_scope(container: ET.Element, frame) -> None:
    """The nodes drawn directly in ``container`` don't overlap and stay inside ``frame``; recursively."""
    nodes = [g for g in container.findall(f"{SVG}g")
             if {"state", "terminal"} & set(g.get("class", "").split())]
    boxes = [shape_box(g) for g in nodes]
    for i, box in enumerate(boxes):
        assert inside(box, frame), (nodes[i].get("data-state"), box, frame)
        for other in boxes[i + 1:]:
            assert not overlap(box, other), (box, other)
    for g in nodes:
        for branch in g.findall(f"{SVG}g[@class='branch']"):
            rect = branch[0]
            x, y = float(rect.get("x")), float(rect.get("y"))
            branch_box = (x, y, x + float(rect.get("width")), y + float(rect.get("height")))
            assert inside(branch_box, shape_box(g))
            check_scope(branch, branch_box)


def points(canvas: ET.Element) -> list[tuple[float, float]]:
    """Every corner, vertex and text anchor drawn on the canvas."""
    found = []
    for element in canvas.iter():
        if element.get("width") is not None:
            x, y = float(element.get("x")), float(element.get("y"))
            found += [(x, y), (x + float(element.get("width")), y + float(element.get("height")))]
        elif element.get("x") is not None:
            found.append((float(element.get("x")), float(element.get("y"))))
        for attribute in ("points", "d"):
            text = (element.get(attribute) or "").replace("M", " ").replace("L", " ")
            found += [tuple(map(float, pair.split(","))) for pair in text.split()]
    return found


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(machines())
def test_any_machine_lays_out_cleanly(machine):
    svg = to_svg(build_graph(machine))
    root = parsed(svg)
    assert sorted(g.get("data-state") for g in state_elements(root)) == sorted(state_names(machine))
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    canvas = root.find(f"{SVG}g[@class='canvas']")  # everything drawn sits in one translate(margin, margin)
    margin = float(canvas.get("transform").split("(")[1].split(",")[0])
    for x, y in points(canvas):
        assert math.isfinite(x) and math.isfinite(y)
        assert inside((x, y, x, y), (-margin, -margin, width - margin, height - margin)), (x, y)
    check_scope(canvas, (0, 0, width - 2 * margin, height - 2 * margin))
    assert to_svg(build_graph(machine)) == svg  # deterministic
