"""Pictures of state machines: an ASL definition as Mermaid, Graphviz DOT or SVG text.

``build_graph`` turns a parsed definition into a :class:`Graph` (pure, :mod:`engine.graph.model`);
the renderers turn a graph into text. The SVG is laid out and drawn here (no Graphviz, no network);
its classes and ``data-*`` attributes are a contract with the web console (see :mod:`engine.graph.svg`).
"""
from __future__ import annotations

from typing import Mapping

from engine.graph.dot import to_dot
from engine.graph.mermaid import to_mermaid
from engine.graph.model import Edge, Graph, Node, build_graph
from engine.graph.svg import OUTCOMES, to_svg

__all__ = ["FORMATS", "OUTCOMES", "Edge", "Graph", "Node", "build_graph", "render", "to_dot", "to_mermaid",
           "to_svg"]

FORMATS = ("mermaid", "dot", "svg")


def render(definition: dict, fmt: str, outcomes: Mapping[str, str] | None = None) -> str:
    """``definition`` drawn in ``fmt`` (one of :data:`FORMATS`); ``outcomes`` colours SVG states only."""
    graph = build_graph(definition)
    if fmt == "svg":
        return to_svg(graph, outcomes)
    if fmt == "mermaid":
        return to_mermaid(graph)
    if fmt == "dot":
        return to_dot(graph)
    raise ValueError(f"unknown graph format {fmt!r}: use one of {', '.join(FORMATS)}")
