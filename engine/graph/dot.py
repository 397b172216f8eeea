"""A graph -> Graphviz DOT text.

Every state is one node. A Parallel or Map state is a node inside ``subgraph cluster_<id>``, which
holds one ``cluster_<branch id>`` per branch (a Map's item processor is its one branch); a dotted,
arrowless edge joins the state's node to each branch's Start. Every id and label is a quoted DOT
string with ``\\`` and ``"`` escaped, so no name can break out of it.
"""
from __future__ import annotations

from engine.graph.ids import group_key, node_ids
from engine.graph.model import CATCH, DEFAULT, END, START, Graph, Node

_NODE_ATTRIBUTES = {
    START: 'shape=circle, label="Start", fontsize=10, style=filled, fillcolor="#eceff1"',
    END: 'shape=doublecircle, label="End", fontsize=10, style=filled, fillcolor="#eceff1"',
    "Choice": 'shape=diamond, style=filled, fillcolor="#fff8e1"',
    "Succeed": 'style="rounded,filled", fillcolor="#e3f6e5", color="#2e9d44"',
    "Fail": 'style="rounded,filled", fillcolor="#fde4e4", color="#c62828"',
}
_EDGE_ATTRIBUTES = {CATCH: ', style=dashed, color="#c62828"', DEFAULT: ", style=dashed"}


def dot_string(text: str) -> str:
    """``text`` as a quoted DOT string (newlines become DOT's centred line break ``\\n``)."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "\\n".join(escaped.splitlines() or [""]) + '"'


def to_dot(graph: Graph) -> str:
    ids = node_ids(graph)
    lines = ["digraph stepstone {", '    node [shape=box, style=rounded, fontname="Helvetica"];',
             '    edge [fontname="Helvetica", fontsize=10];']
    _scope(graph, ids, lines, "    ")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _scope(graph: Graph, ids: dict[str, str], lines: list[str], indent: str) -> None:
    for node in graph.nodes:
        if node.branches:
            _cluster(node, ids, lines, indent)
        else:
            lines.append(f"{indent}{dot_string(ids[node.key])} [{_attributes(node)}];")
    for edge in graph.edges:
        label = f", label={dot_string(edge.label)}" if edge.label else ""
        lines.append(f"{indent}{dot_string(ids[edge.source])} -> {dot_string(ids[edge.target])} "
                     f"[class={dot_string(edge.kind)}{label}{_EDGE_ATTRIBUTES.get(edge.kind, '')}];")


def _cluster(node: Node, ids: dict[str, str], lines: list[str], indent: str) -> None:
    lines.append(f"{indent}subgraph {dot_string('cluster_' + ids[group_key(node)])} {{")
    lines.append(f"{indent}    label={dot_string(node.name)}; style=rounded; color=\"#90a4ae\";")
    lines.append(f"{indent}    {dot_string(ids[node.key])} [{_attributes(node)}];")
    for branch in node.branches:
        lines.append(f"{indent}    subgraph {dot_string('cluster_' + ids[branch.key])} {{")
        lines.append(f"{indent}        label={dot_string(branch.title)}; style=dashed;")
        _scope(branch, ids, lines, indent + "        ")
        lines.append(f"{indent}    }}")
        lines.append(f"{indent}    {dot_string(ids[node.key])} -> {dot_string(ids[branch.nodes[0].key])} "
                     "[style=dotted, arrowhead=none];")
    lines.append(f"{indent}}}")


def _attributes(node: Node) -> str:
    if not node.is_state:
        return _NODE_ATTRIBUTES[node.type]
    detail = node.type + (" · Retry" if node.retry else "")
    label = dot_string(f"{node.name}\n{detail}")
    extra = _NODE_ATTRIBUTES.get(node.type)
    return f"label={label}" + (f", {extra}" if extra else "")
