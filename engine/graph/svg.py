"""A graph -> a standalone SVG document, drawn by our own code from :mod:`engine.graph.layout`.

The contract the web console relies on (docs/DESIGN.md, "Graphs"):

* the root ``<svg>`` has class ``stepstone-graph``; every style rule is scoped under it;
* every state is exactly one ``<g class="state kind-<type>" data-state="NAME" data-type="TYPE">``
  whose first child is its shape (class ``shape``), then its texts;
* a Parallel or Map state is its group box: ``<g class="state group kind-parallel" ...>`` holding
  one ``<g class="branch" data-branch="N">`` per branch (a Map's item processor is branch 1),
  which hold the states of that branch;
* the implicit Start and End are ``<g class="terminal start">`` / ``<g class="terminal end">``;
* edges are ``<g class="edge edge-<kind>" data-source="A" data-target="B">`` (kind: next,
  default, choice, catch, start, end; ``back`` is added for the loops drawn round the side);
* ``outcomes`` (state name -> one of :data:`OUTCOMES`) adds ``outcome-<value>`` to that state's g.
"""
from __future__ import annotations

import hashlib
import re
from typing import Mapping

from engine.graph.layout import NAME_CHARS, PlacedEdge, PlacedNode, PlacedScope, layout
from engine.graph.model import Graph, Node

OUTCOMES = ("succeeded", "failed", "caught", "running", "retried", "aborted", "not-run")
MARGIN = 16.0
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # no XML 1.0 document can hold these
_ATTRIBUTE_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                      # a parser turns raw tabs and newlines in attributes into spaces: keep them exact
                      "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

STYLE = """
.stepstone-graph{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;font-size:13px}
.stepstone-graph text{text-anchor:middle}
.stepstone-graph .shape{fill:#fff;stroke:#78909c;stroke-width:1.2}
.stepstone-graph .kind-choice>.shape{fill:#fff8e1;stroke:#f9a825}
.stepstone-graph .kind-succeed>.shape{fill:#e8f5e9;stroke:#2e7d32}
.stepstone-graph .kind-fail>.shape{fill:#ffebee;stroke:#c62828}
.stepstone-graph .group>.shape{fill:#f7f9fa;stroke:#90a4ae}
.stepstone-graph .terminal>.shape{fill:#eceff1;stroke:#90a4ae}
.stepstone-graph .terminal text{font-size:11px;fill:#546e7a}
.stepstone-graph .frame{fill:none;stroke:#b0bec5;stroke-dasharray:4 3}
.stepstone-graph .name{font-weight:600;fill:#263238}
.stepstone-graph .type,.stepstone-graph .branch-title{font-size:11px;fill:#607d8b}
.stepstone-graph .branch-title{text-anchor:start}
.stepstone-graph .retry{fill:#ef6c00;font-weight:600}
.stepstone-graph .edge path{fill:none;stroke:#78909c;stroke-width:1.3}
.stepstone-graph .edge-catch path{stroke:#e53935;stroke-dasharray:5 3}
.stepstone-graph .edge-default path{stroke-dasharray:5 3}
.stepstone-graph .label-bg{fill:#fff;fill-opacity:.92}
.stepstone-graph .label{font-size:11px;fill:#455a64}
.stepstone-graph .arrowhead{fill:#78909c}
.stepstone-graph .outcome-succeeded>.shape{fill:#e3f6e5;stroke:#2e9d44;stroke-width:2}
.stepstone-graph .outcome-failed>.shape{fill:#fde4e4;stroke:#d32f2f;stroke-width:2}
.stepstone-graph .outcome-caught>.shape{fill:#fff0e0;stroke:#ef6c00;stroke-width:2}
.stepstone-graph .outcome-running>.shape{fill:#e3f0fd;stroke:#1e6fd9;stroke-width:2}
.stepstone-graph .outcome-running>.shape{animation:stepstone-pulse 1.4s ease-in-out infinite}
.stepstone-graph .outcome-retried>.shape{fill:#fff9db;stroke:#e0b000;stroke-width:2}
.stepstone-graph .outcome-aborted>.shape{fill:#eeeeee;stroke:#757575;stroke-width:2}
.stepstone-graph .outcome-not-run{opacity:.55}
@keyframes stepstone-pulse{50%{stroke-opacity:.35}}
@media (prefers-reduced-motion:reduce){.stepstone-graph .outcome-running>.shape{animation:none}}
"""


def to_svg(graph: Graph, outcomes: Mapping[str, str] | None = None) -> str:
    """The graph as SVG; ``outcomes`` colours states (see the module docstring)."""
    outcomes = dict(outcomes or {})
    unknown = sorted({value for value in outcomes.values() if value not in OUTCOMES})
    if unknown:
        raise ValueError(f"unknown outcome(s) {', '.join(map(repr, unknown))}: use {', '.join(OUTCOMES)}")
    placed = layout(graph)
    # unique per definition, so several graphs in one HTML page keep their own arrowhead
    marker = "stepstone-arrow-" + hashlib.sha1(repr(graph).encode("utf-8", "replace")).hexdigest()[:10]
    width, height = placed.box.w + 2 * MARGIN, placed.box.h + 2 * MARGIN
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="stepstone-graph" role="img" '
           f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}">',
           f"<style>{STYLE}</style>",
           f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           f'markerHeight="7" orient="auto-start-reverse"><path class="arrowhead" d="M0,0 L10,5 L0,10 z"/>'
           f"</marker></defs>",
           f'<g class="canvas" transform="translate({_n(MARGIN)},{_n(MARGIN)})">']
    _scope(placed, outcomes, marker, out)
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def _scope(scope: PlacedScope, outcomes: dict[str, str], marker: str, out: list[str]) -> None:
    for edge in scope.edges:  # first, so that nodes and groups are drawn over them
        _edge(edge, marker, out)
    for placed in scope.nodes:
        if placed.node.is_state:
            _state(placed, outcomes, marker, out)
        else:
            _terminal(placed, out)


def _state(placed: PlacedNode, outcomes: dict[str, str], marker: str, out: list[str]) -> None:
    node, box = placed.node, placed.box
    classes = ["state"] + (["group"] if placed.branches else []) + [f"kind-{_slug(node.type)}"]
    if node.name in outcomes:
        classes.append(f"outcome-{outcomes[node.name]}")
    out.append(f'<g class="{" ".join(classes)}" data-state="{_attribute(node.name)}" '
               f'data-type="{_attribute(node.type)}">')
    out.append(_shape(node, placed))
    out.append(f"<title>{_text(node.name)}</title>")
    top = box.y + (18 if placed.branches else 20)
    out.append(f'<text class="name" x="{_n(box.cx)}" y="{_n(top)}">{_text(_clipped(node.name))}</text>')
    retry = ' · <tspan class="retry">Retry</tspan>' if node.retry else ""
    out.append(f'<text class="type" x="{_n(box.cx)}" y="{_n(top + 15)}">{_text(node.type)}{retry}</text>')
    for index, branch in enumerate(placed.branches):
        _branch(branch, index, outcomes, marker, out)
    out.append("</g>")


def _shape(node: Node, placed: PlacedNode) -> str:
    box = placed.box
    if node.type == "Choice":
        inset, middle = 14.0, box.y + box.h / 2
        corners = [(box.x + inset, box.y), (box.x + box.w - inset, box.y), (box.x + box.w, middle),
                   (box.x + box.w - inset, box.y + box.h), (box.x + inset, box.y + box.h), (box.x, middle)]
        return f'<polygon class="shape" points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in corners)}"/>'
    radius = 6 if placed.branches else 9
    return (f'<rect class="shape" x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" '
            f'height="{_n(box.h)}" rx="{radius}"/>')


def _branch(scope: PlacedScope, index: int, outcomes: dict[str, str], marker: str, out: list[str]) -> None:
    box = scope.box
    out.append(f'<g class="branch" data-branch="{index + 1}">')
    out.append(f'<rect class="frame" x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" '
               f'height="{_n(box.h)}" rx="6"/>')
    out.append(f'<text class="branch-title" x="{_n(box.x + 8)}" y="{_n(box.y + 15)}">'
               f"{_text(scope.graph.title)}</text>")
    _scope(scope, outcomes, marker, out)
    out.append("</g>")


def _terminal(placed: PlacedNode, out: list[str]) -> None:
    box, kind = placed.box, placed.node.type
    out.append(f'<g class="terminal {kind.lower()}"><rect class="shape" x="{_n(box.x)}" y="{_n(box.y)}" '
               f'width="{_n(box.w)}" height="{_n(box.h)}" rx="{_n(box.h / 2)}"/>'
               f'<text x="{_n(box.cx)}" y="{_n(box.y + box.h / 2 + 4)}">{kind}</text></g>')


def _edge(placed: PlacedEdge, marker: str, out: list[str]) -> None:
    edge = placed.edge
    classes = f"edge edge-{edge.kind.lower()}" + (" back" if placed.back else "")
    path = " ".join(f"{'M' if i == 0 else 'L'}{_n(x)},{_n(y)}" for i, (x, y) in enumerate(placed.points))
    out.append(f'<g class="{classes}" data-source="{_attribute(_endpoint(edge.source))}" '
               f'data-target="{_attribute(_endpoint(edge.target))}">'
               f'<path d="{path}" marker-end="url(#{marker})"/>')
    if placed.label:
        box = placed.label
        out.append(f'<rect class="label-bg" x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" '
                   f'height="{_n(box.h)}" rx="3"/><text class="label" x="{_n(box.cx)}" '
                   f'y="{_n(box.y + box.h / 2 + 4)}">{_text(edge.label)}</text>')
    out.append("</g>")


def _endpoint(key: str) -> str:
    """A state's name, or ``Start``/``End`` for a scope's implicit nodes (their keys hold a NUL)."""
    return key if "\0" not in key else ("Start" if key.startswith("\0start") else "End")


def _clipped(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def _text(text: str) -> str:
    return "".join(_TEXT_ESCAPES.get(char, char) for char in _NOT_IN_XML.sub("\ufffd", text))


def _attribute(text: str) -> str:
    return "".join(_ATTRIBUTE_ESCAPES.get(char, char) for char in _NOT_IN_XML.sub("\ufffd", text))


def _n(value: float) -> str:
    """A coordinate with one decimal at most, the same text for the same value on every run."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
