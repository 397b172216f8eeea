"""Where each node and edge of a graph goes: a layered (Sugiyama-style) layout, pure geometry.

One scope at a time, innermost first, so a Parallel or Map state is a box of known size when its
own scope is laid out:

1. Back edges (loops: a Choice back to an earlier state) are the edges a depth-first search from
   Start meets on its own stack; without them the graph is acyclic.
2. Layers by longest path over the remaining edges, every edge two layers long (as dagre does): the
   odd layers hold only the dummy points of edges, and a labelled edge's first dummy is as large as
   its label, so labels take room like nodes and never sit on one another.
3. Inside each layer, nodes are ordered by the barycenter of their neighbours, sweeping down and up
   a few times to remove crossings.
4. x: each node as near the mean x of its predecessors as the nodes on its left allow; y: rows.
5. Back edges leave a node's bottom and go round on the right, each in a lane of its own, into the
   top of their target, so a loop is never hidden behind the nodes it skips.

Sizes come from estimated text widths (``CHAR_WIDTH`` per character), not font metrics.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from engine.graph.model import Edge, Graph, Node

CHAR_WIDTH, SMALL_CHAR_WIDTH = 7.0, 6.0  # px per character at the 13px and 11px fonts
NAME_CHARS = 40  # longer state names are clipped in the picture (the full name is its tooltip)
NODE_HEIGHT, NODE_MIN_WIDTH, NODE_PADDING = 46.0, 96.0, 14.0
CHOICE_EXTRA = 28.0  # a Choice is a hexagon: its pointed ends need room beside the text
PILL_WIDTH, PILL_HEIGHT = 56.0, 26.0  # the Start and End nodes
LABEL_HEIGHT, LABEL_PADDING = 18.0, 5.0
NODE_GAP, ROW_GAP, LANE_GAP = 22.0, 18.0, 14.0
GROUP_HEADER, GROUP_PADDING, BRANCH_TITLE, BRANCH_GAP = 40.0, 12.0, 22.0, 16.0
SWEEPS = 4


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    def moved(self, dx: float, dy: float) -> Box:
        return Box(self.x + dx, self.y + dy, self.w, self.h)


@dataclass(frozen=True)
class PlacedEdge:
    edge: Edge
    points: tuple[tuple[float, float], ...]
    label: Box | None  # where the label's background goes, when the edge has one
    back: bool

    def moved(self, dx: float, dy: float) -> PlacedEdge:
        return replace(self, points=tuple((x + dx, y + dy) for x, y in self.points),
                       label=self.label.moved(dx, dy) if self.label else None)


@dataclass(frozen=True)
class PlacedNode:
    node: Node
    box: Box
    branches: tuple[PlacedScope, ...] = ()

    def moved(self, dx: float, dy: float) -> PlacedNode:
        return PlacedNode(self.node, self.box.moved(dx, dy), tuple(b.moved(dx, dy) for b in self.branches))


@dataclass(frozen=True)
class PlacedScope:
    """A laid-out scope; ``box`` is its whole area (for a branch, the frame drawn around it)."""

    graph: Graph
    box: Box
    nodes: tuple[PlacedNode, ...]
    edges: tuple[PlacedEdge, ...]

    def moved(self, dx: float, dy: float) -> PlacedScope:
        return PlacedScope(self.graph, self.box.moved(dx, dy), tuple(n.moved(dx, dy) for n in self.nodes),
                           tuple(e.moved(dx, dy) for e in self.edges))


def layout(graph: Graph) -> PlacedScope:
    """The graph laid out with its top-left corner at (0, 0)."""
    return _scope(graph)


def text_width(text: str, char_width: float = CHAR_WIDTH) -> float:
    return len(text) * char_width


# --- one scope -------------------------------------------------------------------------------------
@dataclass
class _Vertex:
    """A node, or a dummy point of a long edge, in the layered graph."""

    w: float
    h: float
    rank: int
    node: PlacedNode | None = None  # None for a dummy
    order: float = 0.0  # position inside its layer
    x: float = 0.0  # centre
    y: float = 0.0  # top
    row: tuple[float, float] = (0.0, 0.0)  # top and bottom of its layer's row


def _scope(graph: Graph) -> PlacedScope:
    placed = {node.key: _sized(node) for node in graph.nodes}
    keys = [node.key for node in graph.nodes]
    edges = list(graph.edges)
    back = _back_edges(keys, edges)
    ranks = _ranks(keys, [e for i, e in enumerate(edges) if i not in back])
    vertices = {key: _Vertex(placed[key].box.w, placed[key].box.h, ranks[key], placed[key]) for key in keys}
    chains = {i: _chain(edge, vertices, i) for i, edge in enumerate(edges) if i not in back}
    layers = _layers(vertices, chains, keys)
    _order(layers, chains)
    rows = _place(layers, chains)
    nodes = [_at(placed[key], vertices[key]) for key in keys]
    right = max((v.x + v.w / 2 for layer in layers for v in layer), default=0.0)
    routes = {i: _forward(edges[i], chain) for i, chain in chains.items()}
    routes.update(_back_routes({i: edges[i] for i in sorted(back)}, vertices, rows, right))
    return _normalised(graph, nodes, [routes[i] for i in sorted(routes)])


def _sized(node: Node) -> PlacedNode:
    """The node at (0, 0) with its size; a group with its branches already laid out inside it."""
    if not node.is_state:
        return PlacedNode(node, Box(0, 0, PILL_WIDTH, PILL_HEIGHT))
    if node.branches:
        return _group(node)
    text = max(text_width(node.name[:NAME_CHARS]), text_width(node.type + " · Retry", SMALL_CHAR_WIDTH))
    width = max(NODE_MIN_WIDTH, text + 2 * NODE_PADDING) + (CHOICE_EXTRA if node.type == "Choice" else 0)
    return PlacedNode(node, Box(0, 0, width, NODE_HEIGHT))


def _group(node: Node) -> PlacedNode:
    """A Parallel or Map state: a header, then one framed branch beside the other."""
    frames = [_framed(_scope(branch)) for branch in node.branches]
    inner = sum(frame.box.w for frame in frames) + BRANCH_GAP * (len(frames) - 1)
    header = max(text_width(node.name[:NAME_CHARS]), text_width(node.type + " · Retry", SMALL_CHAR_WIDTH))
    width = max(inner, header) + 2 * GROUP_PADDING
    x = (width - inner) / 2
    placed = []
    for frame in frames:
        placed.append(frame.moved(x, GROUP_HEADER))
        x += frame.box.w + BRANCH_GAP
    height = GROUP_HEADER + max((frame.box.h for frame in frames), default=0.0) + GROUP_PADDING
    return PlacedNode(node, Box(0, 0, width, height), tuple(placed))


def _framed(scope: PlacedScope) -> PlacedScope:
    """A branch with room around it for its frame and title."""
    inner = scope.moved(GROUP_PADDING, BRANCH_TITLE)
    width = max(scope.box.w, text_width(scope.graph.title, SMALL_CHAR_WIDTH)) + 2 * GROUP_PADDING
    return replace(inner, box=Box(0, 0, width, scope.box.h + BRANCH_TITLE + GROUP_PADDING))


def _at(placed: PlacedNode, vertex: _Vertex) -> PlacedNode:
    return placed.moved(vertex.x - vertex.w / 2, vertex.y)


# --- 1. back edges -------------------------------------------------------------------------------
def _back_edges(keys: list[str], edges: list[Edge]) -> set[int]:
    """Indexes of the edges that close a cycle, found by an iterative depth-first search."""
    outgoing: dict[str, list[int]] = {key: [] for key in keys}
    for index, edge in enumerate(edges):
        outgoing[edge.source].append(index)
    state = dict.fromkeys(keys, 0)  # 0 unseen, 1 on the stack, 2 done
    back: set[int] = set()
    for root in keys:
        if state[root]:
            continue
        state[root] = 1
        stack = [(root, iter(outgoing[root]))]
        while stack:
            key, pending = stack[-1]
            index = next(pending, None)
            if index is None:
                state[key] = 2
                stack.pop()
                continue
            target = edges[index].target
            if state[target] == 1:
                back.add(index)
            elif state[target] == 0:
                state[target] = 1
                stack.append((target, iter(outgoing[target])))
    return back


# --- 2. layers ---------------------------------------------------------------------------------------
def _ranks(keys: list[str], edges: list[Edge]) -> dict[str, int]:
    """Longest path from the sources, every edge two ranks long (Kahn's order over an acyclic graph)."""
    incoming = dict.fromkeys(keys, 0)
    outgoing: dict[str, list[str]] = {key: [] for key in keys}
    for edge in edges:
        incoming[edge.target] += 1
        outgoing[edge.source].append(edge.target)
    rank = dict.fromkeys(keys, 0)
    ready = [key for key in keys if not incoming[key]]
    while ready:
        key = ready.pop(0)
        for target in outgoing[key]:
            rank[target] = max(rank[target], rank[key] + 2)
            incoming[target] -= 1
            if not incoming[target]:
                ready.append(target)
    return rank


def _chain(edge: Edge, vertices: dict[str, _Vertex], index: int) -> list[_Vertex]:
    """The edge's path through the layers: source, one dummy per layer between, target."""
    source, target = vertices[edge.source], vertices[edge.target]
    dummies = []
    for rank in range(source.rank + 1, target.rank):
        labelled = bool(edge.label) and rank == source.rank + 1
        width = text_width(edge.label, SMALL_CHAR_WIDTH) + 2 * LABEL_PADDING if labelled else 0.0
        dummies.append(_Vertex(width, LABEL_HEIGHT if labelled else 0.0, rank))
    return [source, *dummies, target]


def _layers(vertices: dict[str, _Vertex], chains: dict[int, list[_Vertex]], keys: list[str]) -> list[list[_Vertex]]:
    """Vertices per rank, first in definition order (dummies in edge order)."""
    count = 1 + max((v.rank for v in vertices.values()), default=0)
    layers: list[list[_Vertex]] = [[] for _ in range(count)]
    for key in keys:
        layers[vertices[key].rank].append(vertices[key])
    for chain in chains.values():
        for dummy in chain[1:-1]:
            layers[dummy.rank].append(dummy)
    for layer in layers:
        for position, vertex in enumerate(layer):
            vertex.order = position
    return layers


# --- 3. order within layers --------------------------------------------------------------------------
def _order(layers: list[list[_Vertex]], chains: dict[int, list[_Vertex]]) -> None:
    above: dict[int, list[_Vertex]] = {}
    below: dict[int, list[_Vertex]] = {}
    for chain in chains.values():
        for upper, lower in zip(chain, chain[1:]):
            above.setdefault(id(lower), []).append(upper)
            below.setdefault(id(upper), []).append(lower)
    for _ in range(SWEEPS):
        for layer in layers[1:]:
            _sort_by_barycenter(layer, above)
        for layer in reversed(layers[:-1]):
            _sort_by_barycenter(layer, below)


def _sort_by_barycenter(layer: list[_Vertex], neighbours: dict[int, list[_Vertex]]) -> None:
    def barycenter(vertex: _Vertex) -> float:
        near = neighbours.get(id(vertex))
        return sum(n.order for n in near) / len(near) if near else vertex.order

    layer.sort(key=lambda vertex: (barycenter(vertex), vertex.order))
    for position, vertex in enumerate(layer):
        vertex.order = position


# --- 4. coordinates ------------------------------------------------------------------------------------
def _place(layers: list[list[_Vertex]], chains: dict[int, list[_Vertex]]) -> list[tuple[float, float]]:
    """Set every vertex's x (centre) and y (top); return each row's (top, bottom)."""
    above: dict[int, list[_Vertex]] = {}
    for chain in chains.values():
        for upper, lower in zip(chain, chain[1:]):
            above.setdefault(id(lower), []).append(upper)
    rows, y = [], 0.0
    for layer in layers:
        height = max((v.h for v in layer), default=0.0)
        for vertex in layer:
            vertex.y = y + (height - vertex.h) / 2
            vertex.row = (y, y + height)
        _place_row(layer, above)
        rows.append((y, y + height))
        y += height + ROW_GAP
    return rows


def _place_row(layer: list[_Vertex], above: dict[int, list[_Vertex]]) -> None:
    """Each vertex under the mean of its predecessors, pushed right as far as its left neighbour
    needs, then the whole row shifted back by the mean displacement (which keeps the spacing)."""
    wanted = []
    for vertex in layer:
        near = above.get(id(vertex))
        wanted.append(sum(n.x for n in near) / len(near) if near else None)
    fallback = [w for w in wanted if w is not None]
    centre = sum(fallback) / len(fallback) if fallback else 0.0
    previous = None
    for vertex, want in zip(layer, wanted):
        vertex.x = centre if want is None else want
        if previous is not None:
            vertex.x = max(vertex.x, previous.x + (previous.w + vertex.w) / 2 + _gap(previous, vertex))
        previous = vertex
    shifts = [want - vertex.x for vertex, want in zip(layer, wanted) if want is not None]
    shift = sum(shifts) / len(shifts) if shifts else 0.0
    for vertex in layer:
        vertex.x += shift


def _gap(left: _Vertex, right: _Vertex) -> float:
    """Nodes and labels keep NODE_GAP apart; the bare dummies of unlabelled edges may pass closer."""
    return NODE_GAP / 2 if _bare(left) and _bare(right) else NODE_GAP


def _bare(vertex: _Vertex) -> bool:
    return vertex.node is None and not vertex.h


# --- 5. edges ------------------------------------------------------------------------------------------
def _forward(edge: Edge, chain: list[_Vertex]) -> PlacedEdge:
    source, *dummies, target = chain
    # vertical inside every row: a node shorter than its row leaves and enters it straight
    points = [(source.x, source.y + source.h), (source.x, source.row[1])]
    label = None
    for dummy in dummies:  # straight down through each row, never across a corner of a tall node in it
        points.extend([(dummy.x, dummy.row[0]), (dummy.x, dummy.row[1])])
        if dummy.h and label is None:
            label = Box(dummy.x - dummy.w / 2, dummy.y, dummy.w, dummy.h)
    points.extend([(target.x, target.row[0]), (target.x, target.y)])
    return PlacedEdge(edge, _without_repeats(points), label, back=False)


def _back_routes(edges: dict[int, Edge], vertices: dict[str, _Vertex], rows: list[tuple[float, float]],
                 right: float) -> dict[int, PlacedEdge]:
    """Each back edge down out of its source, right to a lane of its own, up, and down into its target."""
    routes, cursor = {}, right + LANE_GAP
    for index, edge in edges.items():
        source, target = vertices[edge.source], vertices[edge.target]
        label_width = text_width(edge.label, SMALL_CHAR_WIDTH) + 2 * LABEL_PADDING if edge.label else 0.0
        lane = cursor + label_width / 2
        cursor += label_width + LANE_GAP
        below = rows[source.rank][1] + ROW_GAP / 2
        above = rows[target.rank][0] - ROW_GAP / 2
        sx, tx = source.x + source.w / 4, target.x + target.w / 4
        points = ((sx, source.y + source.h), (sx, below), (lane, below), (lane, above), (tx, above),
                  (tx, target.y))
        middle = (below + above) / 2
        label = (Box(lane - label_width / 2, middle - LABEL_HEIGHT / 2, label_width, LABEL_HEIGHT)
                 if edge.label else None)
        routes[index] = PlacedEdge(edge, points, label, back=True)
    return routes


def _without_repeats(points: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    kept = [points[0]]
    for point in points[1:]:
        if point != kept[-1]:
            kept.append(point)
    return tuple(kept)


def _normalised(graph: Graph, nodes: list[PlacedNode], edges: list[PlacedEdge]) -> PlacedScope:
    """The scope moved so that everything in it (boxes, edge points, labels) starts at (0, 0)."""
    boxes = [n.box for n in nodes] + [e.label for e in edges if e.label]
    xs = [v for b in boxes for v in (b.x, b.x + b.w)] + [x for e in edges for x, _ in e.points]
    ys = [v for b in boxes for v in (b.y, b.y + b.h)] + [y for e in edges for _, y in e.points]
    left, top = min(xs, default=0.0), min(ys, default=0.0)
    scope = PlacedScope(graph, Box(0, 0, max(xs, default=0.0) - left, max(ys, default=0.0) - top),
                        tuple(nodes), tuple(edges))
    return replace(scope.moved(-left, -top), box=scope.box)


def all_nodes(scope: PlacedScope) -> Iterable[PlacedNode]:
    """Every placed node of the scope and of the scopes nested in it."""
    for placed in scope.nodes:
        yield placed
        for branch in placed.branches:
            yield from all_nodes(branch)
