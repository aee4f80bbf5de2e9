"""Name scopes in pictures: the cluster each op and tensor is drawn in, and collapsed boxes.

Ops made inside ``gg.name_scope("layer1")`` carry ``node.scope``; nested scopes join with
``/`` (``model/layer1``). Every scope becomes a cluster (a framed group), nested like the
scopes. A *collapsed* scope is drawn as a single box instead: its ops, the tensors that never
leave it, and the parameters only it uses disappear into the box, which keeps a deep network
readable. Depends on `walk` and `viz.errors`.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from viz.errors import UnknownScopeError
from viz.walk import OpInfo, Snapshot, TensorInfo


@dataclass(eq=False)
class Box:
    """A collapsed scope drawn as one node."""

    id: str  # box1, box2, ...
    scope: str
    ops: list[OpInfo] = field(default_factory=list)
    hidden: list[TensorInfo] = field(default_factory=list)  # tensors drawn inside the box


@dataclass(eq=False)
class Cluster:
    """A scope drawn as a frame around its members; ``children`` are nested scopes."""

    scope: str | None  # None for the top level (the picture itself)
    members: list[OpInfo | TensorInfo | Box] = field(default_factory=list)
    children: dict[str, Cluster] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.scope.rsplit("/", 1)[-1] if self.scope else ""

    def walk(self) -> Iterable[tuple[int, Cluster]]:
        """This cluster and every nested one, with their depths (0 for the picture)."""
        stack = [(0, self)]
        while stack:
            depth, cluster = stack.pop()
            yield depth, cluster
            stack.extend((depth + 1, child) for child in reversed(cluster.children.values()))


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
    graph: Snapshot, clusters: bool = True, collapse: bool | str | Sequence[str] = False
) -> Layout:
    """Assign each op and tensor to a cluster or a collapsed box.

    Args:
        clusters: frame each scope's nodes (False draws everything at the top level).
        collapse: True collapses every innermost scope (``model/layer1`` but not ``model``
            when it holds layers); a scope name or a list of them collapses those, each
            with everything nested in it. A name matches a full path (``model/layer1``)
            or its last parts (``layer1``).
    """
    collapsed = _collapsed_scopes(graph, collapse)
    box_by_scope: dict[str, Box] = {}
    box_of: dict[OpInfo, Box] = {}
    box_for_scope: dict[str | None, Box | None] = {None: None}

    def box_for(scope: str | None) -> Box | None:
        if scope not in box_for_scope:
            box_for_scope[scope] = None
            for outer in _prefixes(scope):  # the outermost collapsed scope wins
                if outer in collapsed:
                    box = box_by_scope.get(outer)
                    if box is None:
                        box = box_by_scope[outer] = Box(f"box{len(box_by_scope) + 1}", outer)
                    box_for_scope[scope] = box
                    break
        return box_for_scope[scope]

    for op in graph.ops:
        box = box_for(op.scope)
        if box is not None:
            box.ops.append(op)
            box_of[op] = box

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
            parent_scope = scope.rsplit("/", 1)[0] if "/" in scope else None
            parent = cluster_for(parent_scope)
            cluster = clusters_by_scope[scope] = Cluster(scope)
            parent.children[scope] = cluster
        return cluster

    def outside(box: Box) -> Cluster:
        return cluster_for(box.scope.rsplit("/", 1)[0] if "/" in box.scope else None)

    # Members are placed in drawing order: each op after its inputs, then its outputs.
    def place_tensor(info: TensorInfo) -> None:
        box = box_for(info.scope)
        if box is None:
            cluster_for(info.scope).members.append(info)
        elif info not in roots and info.consumers and all(
            box_of.get(user) is box for user in info.consumers
        ):
            hidden.add(info)
            box.hidden.append(info)
        else:
            outside(box).members.append(info)

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
            outside(box).members.append(box)
        for info in op.outputs:
            placed_tensors.add(info)
            place_tensor(info)
    boxes = sorted(box_by_scope.values(), key=lambda box: int(box.id[3:]))
    return Layout(top, boxes, box_of, hidden)


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


def _collapsed_scopes(graph: Snapshot, collapse: bool | str | Sequence[str]) -> set[str]:
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
                f"collapse names the scope {name!r}, which is not in this graph. Its scopes "
                f"are: {known}."
            )
        chosen.update(matches)
    return chosen
