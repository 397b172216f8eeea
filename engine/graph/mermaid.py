"""A graph -> Mermaid flowchart text.

Every state is one node. A Parallel or Map state is a node inside a subgraph of its own, which
holds one nested subgraph per branch (a Map's item processor is its one branch); a dotted
``branch`` link joins the state's node to each branch's Start.

Labels are always quoted, and the characters that could end a quoted label or be read as markup
(``" # < > & | ; ` ``, newlines) become Mermaid's numeric entities (``#34;``), so any state name,
Choice rule or error name renders as text.
"""
from __future__ import annotations

from engine.graph.ids import group_key, node_ids
from engine.graph.model import CATCH, END, START, Graph, Node

_ESCAPED = set('"#<>&|;`')
_SHAPES = {START: '(["{}"])', END: '(["{}"])', "Choice": '{{{{"{}"}}}}'}
_CLASSES = {"Succeed": "succeed", "Fail": "fail", START: "terminal", END: "terminal"}
_STYLES = ("classDef succeed fill:#e3f6e5,stroke:#2e9d44",
           "classDef fail fill:#fde4e4,stroke:#c62828",
           "classDef terminal fill:#eceff1,stroke:#78909c")


def mermaid_text(text: str) -> str:
    """``text`` safe inside a quoted Mermaid label."""
    text = " ".join(str(text).splitlines())
    return "".join(f"#{ord(char)};" if char in _ESCAPED else char for char in text)


def to_mermaid(graph: Graph) -> str:
    ids = node_ids(graph)
    lines = ["flowchart TD"]
    _scope(graph, ids, lines, "    ")
    lines.extend("    " + style for style in _STYLES)
    return "\n".join(lines) + "\n"


def _scope(graph: Graph, ids: dict[str, str], lines: list[str], indent: str) -> None:
    for node in graph.nodes:
        if node.branches:
            _group(node, ids, lines, indent)
        else:
            lines.append(indent + ids[node.key] + _shape(node))
        if node.type in _CLASSES:
            lines.append(f"{indent}class {ids[node.key]} {_CLASSES[node.type]}")
    for edge in graph.edges:
        arrow = "-.->" if edge.kind == CATCH else "-->"
        label = f'|"{mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"{indent}{ids[edge.source]} {arrow}{label} {ids[edge.target]}")


def _group(node: Node, ids: dict[str, str], lines: list[str], indent: str) -> None:
    node_id = ids[node.key]
    lines.append(f'{indent}subgraph {ids[group_key(node)]} ["{mermaid_text(node.name)}"]')
    lines.append(indent + "    " + node_id + _shape(node))
    for index, branch in enumerate(node.branches):
        lines.append(f'{indent}    subgraph {ids[branch.key]} ["{mermaid_text(branch.title)}"]')
        _scope(branch, ids, lines, indent + "        ")
        lines.append(f"{indent}    end")
        lines.append(f"{indent}    {node_id} -.-|branch| {ids[branch.nodes[0].key]}")
    lines.append(f"{indent}end")


def _shape(node: Node) -> str:
    if not node.is_state:
        return _SHAPES[node.type].format(node.type)
    detail = node.type + (" · Retry" if node.retry else "")
    label = f"{mermaid_text(node.name)}<br/><small>{detail}</small>"
    return _SHAPES.get(node.type, '["{}"]').format(label)
