"""Name scopes in pictures: the cluster each op and tensor is drawn in, and collapsed boxes.

Ops made inside ``gg.name_scope("layer1")`` carry ``node.scope``; nested scopes join with
``/`` (``model/layer1``). Every scope becomes a cluster (a framed group), nested like the
scopes. A *collapsed* scope is drawn as a single box instead: its ops, the tensors that never
leave it, and the parameters only it uses disappear into the box, which keeps a deep network
readable. Two layers can share a scope's name (two unnamed ``nn.Linear``, or one layer called
twice): a collapsed scope gets one box per group of ops joined by tensors that stay inside it
(``Linear``, ``Linear (2)``), so a layer used twice is two boxes, not one box feeding itself,
unless one call's output goes straight into the other's: ``fc(fc(X))``, or two unnamed
``Linear`` s chained with nothing between them, is one box of two ops.
Depends on `walk` and `viz.errors`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from viz.errors import UnknownScopeError
from viz.walk import OpInfo, Snapshot, TensorInfo


@dataclass(eq=False)
class Box:
    """A collapsed scope drawn as one node."""

    id: str  # box1, box2, ...
    scope: str
    number: int = 1  # which of the boxes of its scope, in drawing order
    ops: list[OpInfo] = field(default_factory=list)
    hidden: list[TensorInfo] = field(default_factory=list)  # tensors drawn inside the box

    @property
    def label(self) -> str:
        """The scope's name; a second box of one scope is ``Linear (2)``."""
        return self.scope if self.number == 1 else f"{self.scope} ({self.number})"


@dataclass(eq=False)
class Cluster:
    """A scope drawn as a frame around its members; ``children`` are nested scopes."""

    scope: str | None  # None for the top level (the picture itself)
    members: list[OpInfo | TensorInfo | Box] = field(default_factory=list)
    children: dict[str, Cluster] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.scope.rsplit("/", 1)[-1] if self.scope else ""


@dataclass
class Layout:
    """Where everything of a `Snapshot` is drawn."""

    top: Cluster
    boxes: list[Box]
    box_of: dict[OpInfo, Box]  # ops inside a collapsed scope
    hidden: set[TensorInfo]  # tensors inside a collapsed scope

    def endpoint(self, op: OpInfo) -> str:
        """The DOT id an edge into or out of ``op`` attaches to: the op, or its box."""
        box = self.box_of.get(op)
        return op.id if box is None else box.id

    def within_box(self, info: TensorInfo, op: OpInfo) -> bool:
        """``op`` uses ``info`` inside the collapsed box that made it: no edge leaves the box."""
        if info.creator is None:
            return False
        box = self.box_of.get(op)
        return box is not None and self.box_of.get(info.creator) is box

    def open_scopes(self, graph: Snapshot) -> list[str]:
        """The scopes of ``graph`` drawn as clusters, outside every collapsed box."""
        boxed = {box.scope for box in self.boxes}
        return [scope for scope in scopes_of(graph)
                if not any(outer in boxed for outer in _prefixes(scope))]


def lay_out(
    graph: Snapshot, clusters: bool, collapse: bool | str | Sequence[str], caller: str
) -> Layout:
    """Assign each op and tensor to a cluster or a collapsed box.

    Args:
        clusters: frame each scope's nodes (False draws everything at the top level).
        collapse: True collapses every innermost scope (``model/layer1`` but not ``model``
            when it holds layers); a scope name or a list of them collapses those, each
            with everything nested in it. A name matches a full path (``model/layer1``)
            or its last parts (``layer1``).
        caller: the drawing function given ``collapse``, which an `UnknownScopeError` for a
            name of no scope of the graph names.
    """
    collapsed = _collapsed_scopes(graph, collapse, caller)
    collapsed_of: dict[str | None, str | None] = {None: None}

    def collapsed_scope(scope: str | None) -> str | None:
        """The collapsed scope that ``scope`` is drawn in (the outermost), or None."""
        if scope not in collapsed_of:
            collapsed_of[scope] = next((outer for outer in _prefixes(scope)
                                        if outer in collapsed), None)
        return collapsed_of[scope]

    boxes = _boxes(graph, collapsed_scope)
    box_of = {op: box for box in boxes for op in box.ops}

    roots = set(graph.roots)
    hidden: set[TensorInfo] = set()
    top = Cluster(None)
    placed_boxes: set[Box] = set()
    clusters_by_scope: dict[str | None, Cluster] = {None: top}

    def cluster_for(scope: str | None) -> Cluster:
        if not clusters or scope is None:
            return top
        cluster = clusters_by_scope.get(scope)
        if cluster is None:
            # A loop, not a call of itself: a closure that calls itself is a reference cycle,
            # which would keep the clusters, and the graph they draw, alive until the garbage
            # collector ran.
            cluster = top
            for prefix in _prefixes(scope):  # the outermost first
                inner = clusters_by_scope.get(prefix)
                if inner is None:
                    inner = clusters_by_scope[prefix] = Cluster(prefix)
                    cluster.children[prefix] = inner
                cluster = inner
        return cluster

    def outside(scope: str) -> Cluster:
        """The cluster a collapsed scope's boxes are drawn in."""
        return cluster_for(scope.rsplit("/", 1)[0] if "/" in scope else None)

    # Members are placed in drawing order: each op after its inputs, then its outputs.
    def place_tensor(info: TensorInfo) -> None:
        if info.creator is not None:
            box = box_of.get(info.creator)
        else:  # a leaf goes into a box only when that box is all that uses it
            users = {box_of.get(user) for user in info.consumers}
            box = users.pop() if len(users) == 1 else None
        if box is not None and info not in roots and info.consumers and all(
            box_of.get(user) is box for user in info.consumers
        ):
            hidden.add(info)
            box.hidden.append(info)
        elif collapsed_scope(info.scope) is not None:
            outside(collapsed_scope(info.scope)).members.append(info)
        else:
            cluster_for(info.scope).members.append(info)

    placed_tensors: set[TensorInfo] = set()
    for op in graph.ops:
        for info in op.inputs:
            if info.creator is None and info not in placed_tensors:
                placed_tensors.add(info)
                place_tensor(info)
        box = box_of.get(op)
        if box is None:
            cluster_for(op.scope).members.append(op)
        elif box not in placed_boxes:
            placed_boxes.add(box)
            outside(box.scope).members.append(box)
        for info in op.outputs:
            placed_tensors.add(info)
            place_tensor(info)
    return Layout(top, boxes, box_of, hidden)


def _boxes(graph: Snapshot, collapsed_scope: Callable[[str | None], str | None]) -> list[Box]:
    """The boxes of the collapsed scopes, numbered in drawing order.

    A collapsed scope's ops are grouped by the tensors that join them inside it (an op's
    output used by another op of the scope); each group is a box. A parameter two groups
    share joins nothing: a layer called twice is two boxes using one W.
    """
    group: dict[OpInfo, OpInfo] = {}  # union-find: each op's representative

    def find(op: OpInfo) -> OpInfo:
        while group[op] is not op:
            group[op] = group[group[op]]  # halve the path
            op = group[op]
        return op

    for op in graph.ops:  # inputs first: every op making an input is already grouped
        scope = collapsed_scope(op.scope)
        if scope is None:
            continue
        group[op] = op
        for info in op.inputs:
            maker = info.creator
            if maker is not None and maker in group and collapsed_scope(maker.scope) == scope:
                group[find(maker)] = find(op)

    boxes: list[Box] = []
    box_of_group: dict[OpInfo, Box] = {}
    count_by_scope: dict[str, int] = {}
    for op in graph.ops:
        if op not in group:
            continue
        representative = find(op)
        box = box_of_group.get(representative)
        if box is None:
            scope = collapsed_scope(op.scope)
            count_by_scope[scope] = count_by_scope.get(scope, 0) + 1
            box = Box(f"box{len(boxes) + 1}", scope, count_by_scope[scope])
            box_of_group[representative] = box
            boxes.append(box)
        box.ops.append(op)
    return boxes


def _prefixes(scope: str | None) -> list[str]:
    """``a/b/c`` -> ``["a", "a/b", "a/b/c"]``."""
    if scope is None:
        return []
    parts = scope.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def scopes_of(graph: Snapshot) -> list[str]:
    """Every scope in the graph, enclosing scopes included, in the order the walk meets them."""
    seen: dict[str, None] = {}
    for op in graph.ops:
        for scope in _prefixes(op.scope):
            seen.setdefault(scope, None)
    return list(seen)


def _collapsed_scopes(
    graph: Snapshot, collapse: bool | str | Sequence[str], caller: str
) -> set[str]:
    if collapse is False or collapse is None:
        return set()
    present = scopes_of(graph)
    if collapse is True:
        enclosing = {s.rsplit("/", 1)[0] for s in present if "/" in s}
        return {s for s in present if s not in enclosing}
    wanted = [collapse] if isinstance(collapse, str) else list(collapse)
    chosen = set()
    for name in wanted:
        matches = [s for s in present if s == name or s.endswith("/" + name)]
        if not matches:
            known = ", ".join(repr(s) for s in present) or "none (no op ran in a gg.name_scope)"
            raise UnknownScopeError(
                f"{caller}: collapse names the scope {name!r}, which is not in this graph. Its "
                f"scopes are: {known}."
            )
        chosen.update(matches)
    return chosen
