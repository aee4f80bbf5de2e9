"""Walking graphgrad's public graph into a snapshot that the pictures are drawn from.

The walk starts at the tensors to draw (the roots, usually the cost J) and follows
``tensor.creator`` and ``node.inputs`` only (and ``node.outputs`` of ops with several outputs):
the public graph described in the README, never private attributes. An op's single output is
the tensor the walk met it through. It is iterative (a 10,000-op chain is fine) and
deterministic: ops are listed inputs-first in the order a depth-first walk over the ordered
``inputs`` meets them, and every id and generated name comes from that order, never from
``id()``; a generated name (t1, t2, ...) skips the names the user gave, and a tensor named ""
is unnamed. So the same graph, or two graphs built the same way, give the same snapshot.

Constants (unnamed leaves that need no gradient, such as the ``3`` in ``3 * v``) are listed
once per use: graphgrad shares one constant tensor between every op that meets the same number,
and a picture with one box per use stays readable. Nothing in the graph is changed. Depends on
graphgrad's `Tensor`, `Function`, `nn.Parameter` and errors, and `viz.errors`.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import InitVar, dataclass
from typing import Any

from graphgrad import Function, Tensor
from graphgrad.errors import describe
from graphgrad.nn import Parameter
from viz.errors import NoGraphError, NotATensorError

PARAMETER = "parameter"
CONSTANT = "constant"
INTERMEDIATE = "intermediate"
OUTPUT = "output"


def _nothing() -> None:
    return None


@dataclass(eq=False)
class TensorInfo:
    """One tensor as drawn: a box of the picture (a constant gets one per use).

    ``creator`` and ``consumers`` are the `OpInfo` s of the snapshot that made and use it,
    held weakly: each op holds its inputs' and outputs' infos, and links back would make
    reference cycles that kept the drawn graph (its arrays, the leaves its nodes lock) alive
    after the caller dropped it, until the garbage collector ran.
    """

    tensor: Tensor
    id: str  # the DOT id: tensor1, tensor2, ...
    name: str  # the user's name, or a generated one (t1, t2, ...); "" for a constant
    kind: str  # PARAMETER, CONSTANT, INTERMEDIATE or OUTPUT
    made_by: InitVar[OpInfo | None] = None
    scope: str | None = None  # the name scope it is drawn in (its creator's, or its users')

    def __post_init__(self, made_by: OpInfo | None) -> None:
        self._creator: Callable[[], OpInfo | None] = (
            _nothing if made_by is None else weakref.ref(made_by))
        self._consumers: list[weakref.ref[OpInfo]] = []

    @property
    def creator(self) -> OpInfo | None:
        """The op that made it, or None for a leaf."""
        return self._creator()

    @property
    def consumers(self) -> list[OpInfo]:
        """The ops that use it, in the order the walk met them."""
        return [ref() for ref in self._consumers]

    def add_consumer(self, op: OpInfo) -> None:
        self._consumers.append(weakref.ref(op))


@dataclass(eq=False)
class OpInfo:
    """One op (a node of the engine's graph) as drawn."""

    node: Function
    id: str  # the DOT id: op1, op2, ...
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    # When a drawn backward pass ran it, counted among the ops drawn (0 first), one pass's
    # steps before the next's; None if it did not run. Drawing part of a bigger graph still
    # counts from 0.
    step: int | None = None

    @property
    def scope(self) -> str | None:
        return self.node.scope


@dataclass
class Snapshot:
    """Everything a picture shows, in drawing order."""

    ops: list[OpInfo]  # inputs first (a topological order)
    tensors: list[TensorInfo]  # in the order the walk met them
    roots: list[TensorInfo]

    @property
    def steps(self) -> list[OpInfo]:
        """The ops the drawn backward passes ran: pass by pass, each in the order it ran them."""
        return sorted((op for op in self.ops if op.step is not None), key=lambda op: op.step)


def as_roots(roots: Any, caller: str) -> tuple[Tensor, ...]:
    """The tensors to draw, checked: each a graphgrad Tensor made by a recorded op."""
    if isinstance(roots, Tensor):
        roots = (roots,)
    elif isinstance(roots, Sequence) and not isinstance(roots, str) and roots:
        roots = tuple(roots)
    else:
        roots = (roots,)
    for root in roots:
        if not isinstance(root, Tensor):
            raise NotATensorError(
                f"{caller} draws graphgrad Tensors, got {type(root).__name__}. Pass the tensor "
                "at the end of the computation (the cost J), computed with graphgrad ops."
            )
        if root.creator is None:
            raise NoGraphError(_no_graph_message(root, caller))
    return roots


def _no_graph_message(root: Tensor, caller: str) -> str:
    if root.requires_grad:
        return (
            f"{caller}: {describe(root)} is a leaf (a parameter or an input), not the result "
            "of an op, so it has no graph of its own. Draw a tensor computed from it, such as "
            "the cost J."
        )
    return (
        f"{caller}: {describe(root)} was not made by an op that graphgrad recorded, so there "
        "is no graph to draw. Ops are recorded when an input has requires_grad=True "
        "(parameters) and they run outside gg.no_grad()."
    )


def snapshot(roots: Sequence[Tensor]) -> Snapshot:
    """Walk the graph behind ``roots`` (checked by `as_roots`) into a `Snapshot`."""
    nodes = _ops_inputs_first(roots)
    made = _outputs_met(roots, nodes)
    ops: list[OpInfo] = []
    tensors: list[TensorInfo] = []
    drawn: dict[Tensor, TensorInfo] = {}
    unnamed: list[TensorInfo] = []  # named once every user's name is known

    def add_tensor(tensor: Tensor, creator: OpInfo | None) -> TensorInfo:
        if creator is not None:
            kind = INTERMEDIATE
        elif tensor.requires_grad:
            kind = PARAMETER
        else:
            kind = CONSTANT
        name = _given_name(tensor)
        info = TensorInfo(tensor, f"tensor{len(tensors) + 1}", name, kind, creator)
        if not name and not _is_constant_use(tensor):
            unnamed.append(info)
        tensors.append(info)
        return info

    for number, node in enumerate(nodes, start=1):
        op = OpInfo(node, f"op{number}", [], [])
        for tensor in node.inputs:
            if _is_constant_use(tensor):
                info = add_tensor(tensor, None)
            else:
                info = drawn.get(tensor)
                if info is None:
                    info = drawn[tensor] = add_tensor(tensor, None)
            info.add_consumer(op)
            op.inputs.append(info)
        # An op with several outputs lists them; a single output is the tensor the walk met.
        outputs = [t for t in node.outputs if t is not None] or made[node]
        for tensor in outputs:  # an output nobody holds any more is gone
            info = drawn[tensor] = add_tensor(tensor, op)
            op.outputs.append(info)
        ops.append(op)

    # The steps of the passes that went through a drawn root: an op whose step was recorded
    # since by another cost's pass, or a root never backpropagated, shows none of them. Each
    # pass numbers its steps from 0, so the passes are kept apart, earliest first.
    passes = {root.creator.backward_pass for root in roots if root.creator is not None} - {None}
    ran = sorted((op for op in ops if op.node.backward_pass in passes),
                 key=lambda op: (op.node.backward_pass, op.node.backward_order))
    for step, op in enumerate(ran):
        op.step = step
    root_infos = []
    for root in roots:
        info = drawn[root]
        info.kind = OUTPUT
        root_infos.append(info)
    for info in tensors:
        info.scope = _scope_of(info)
    _generate_names(unnamed, taken={info.name for info in tensors})
    return Snapshot(ops, tensors, root_infos)


def _generate_names(unnamed: list[TensorInfo], taken: set[str]) -> None:
    """Name unnamed tensors t1, t2, ... in walk order, skipping names the user gave."""
    number = 0
    for info in unnamed:
        number += 1
        while f"t{number}" in taken:
            number += 1
        info.name = f"t{number}"


def _outputs_met(roots: Sequence[Tensor], nodes: list[Function]) -> dict[Function, list[Tensor]]:
    """The tensors the walk meets (the roots and every op's inputs), by the op that made them."""
    made: dict[Function, list[Tensor]] = {}
    for tensor in (*roots, *(t for node in nodes for t in node.inputs)):
        node = tensor.creator
        if node is not None:
            outputs = made.setdefault(node, [])
            if all(t is not tensor for t in outputs):
                outputs.append(tensor)
    return made


def _given_name(tensor: Tensor) -> str:
    """The name the user gave ``tensor``; "" when it has none.

    An empty name names nothing, so it counts as none (a picture could not show it, and
    ``" = 2"`` says nothing).
    """
    return tensor.name or ""


def _is_constant_use(tensor: Tensor) -> bool:
    return tensor.creator is None and not tensor.requires_grad and not _given_name(tensor)


def _ops_inputs_first(roots: Sequence[Tensor]) -> list[Function]:
    """Every op behind the roots, each after the ops that made its inputs (iterative DFS)."""
    order: list[Function] = []
    seen: set[Function] = set()
    for root in roots:
        start = root.creator
        if start is None or start in seen:
            continue
        seen.add(start)
        stack = [(start, 0)]
        while stack:
            node, position = stack[-1]
            inputs = node.inputs
            if position < len(inputs):
                stack[-1] = (node, position + 1)
                parent = inputs[position].creator
                if parent is not None and parent not in seen:
                    seen.add(parent)
                    stack.append((parent, 0))
            else:
                stack.pop()
                order.append(node)
    return order


def _scope_of(info: TensorInfo) -> str | None:
    """An op's output sits in its op's scope; a parameter (a leaf that requires grad, or an
    ``nn.Parameter`` frozen) or an unnamed constant in the deepest scope all its users share.

    Named data that needs no gradient (the inputs X, the labels Y) belongs to no layer: it
    sits outside every scope, so a layer's frame holds its own parameters, ops and outputs.
    """
    if info.creator is not None:
        return info.creator.scope
    if info.kind == CONSTANT and info.name and not isinstance(info.tensor, Parameter):
        return None
    scopes = [op.scope for op in info.consumers]
    first = scopes[0] if scopes else None
    if all(scope == first for scope in scopes):
        return first
    if any(scope is None for scope in scopes):
        return None
    parts = first.split("/")
    for scope in scopes[1:]:
        other = scope.split("/")
        common = 0
        while common < min(len(parts), len(other)) and parts[common] == other[common]:
            common += 1
        parts = parts[:common]
    return "/".join(parts) or None
