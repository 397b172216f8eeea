"""Safe, unique identifiers for a graph's nodes, for text formats (Mermaid, DOT) that need them.

An id is the node's name with every character outside ``[A-Za-z0-9_]`` replaced by ``_``, behind a
prefix (``s_`` for states, ``start_``/``end_`` for the implicit nodes) so that no id is a keyword
of either language (Mermaid breaks on a node called ``end``). Names that sanitise alike get
``_2``, ``_3``... in definition order, so the same definition always gets the same ids. The
subgraphs a renderer draws for a Parallel or Map state and for each branch get ids from the same
pool (keys :func:`group_key` and the branch graph's key), so they never clash with a node.
"""
from __future__ import annotations

import re
from typing import Iterator

from engine.graph.model import Graph, Node

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def node_ids(graph: Graph) -> dict[str, str]:
    """Node, group and branch key -> a safe id unique across the graph and its nested graphs."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for key, base in _wanted(graph):
        candidate, suffix = base, 1
        while candidate in taken:
            suffix += 1
            candidate = f"{base}_{suffix}"
        taken.add(candidate)
        ids[key] = candidate
    return ids


def group_key(node: Node) -> str:
    """The key of the subgraph that draws a Parallel or Map state with its branches."""
    return "\0group" + node.key


def _base(node: Node) -> str:
    prefix = "s_" if node.is_state else node.type.lower() + "_"
    return prefix + _UNSAFE.sub("_", node.name if node.is_state else "")


def _wanted(graph: Graph) -> Iterator[tuple[str, str]]:
    """(key, preferred id) of every node, group and branch, in definition order."""
    for node in graph.nodes:
        yield node.key, _base(node)
        if node.branches:
            yield group_key(node), _base(node) + "_group"
        for index, branch in enumerate(node.branches):
            yield branch.key, f"{_base(node)}_branch_{index + 1}"
            yield from _wanted(branch)
