"""Graphs and DOT-reading helpers shared by the viz tests."""
from __future__ import annotations

import re

import numpy as np

import graphgrad as gg


def course_graph(backward: bool = True) -> dict[str, gg.Tensor]:
    """The course's J = 3(a + bc) with a = 5, b = 3, c = 2, every tensor named."""
    a = gg.Tensor(5.0, name="a", requires_grad=True)
    b = gg.Tensor(3.0, name="b", requires_grad=True)
    c = gg.Tensor(2.0, name="c", requires_grad=True)
    u = b * c
    u.name = "u"
    v = a + u
    v.name = "v"
    J = 3 * v
    J.name = "J"
    if backward:
        J.backward()
    return {"a": a, "b": b, "c": c, "u": u, "v": v, "J": J}


def two_layer_net(m: int = 5, seed: int = 0, backward: bool = True) -> gg.Tensor:
    """A 2-layer network whose layers are name scopes, with its cost in a third scope."""
    rng = np.random.default_rng(seed)
    X = gg.Tensor(rng.standard_normal((3, m)), name="X")
    Y = gg.Tensor((rng.random((1, m)) > 0.5).astype(float), name="Y")
    W1 = gg.Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="W1")
    b1 = gg.Tensor(np.zeros((4, 1)), requires_grad=True, name="b1")
    W2 = gg.Tensor(rng.standard_normal((1, 4)), requires_grad=True, name="W2")
    b2 = gg.Tensor(np.zeros((1, 1)), requires_grad=True, name="b2")
    with gg.name_scope("model"):
        with gg.name_scope("layer1"):
            A1 = gg.tanh(W1 @ X + b1)
        with gg.name_scope("layer2"):
            A2 = gg.sigmoid(W2 @ A1 + b2)
    with gg.name_scope("cost"):
        J = -(Y * gg.log(A2) + (1 - Y) * gg.log(1 - A2)).mean()
    J.name = "J"
    if backward:
        J.backward()
    return J


_NODE = re.compile(r"^\s*(\w+) \[label=<(.*)>(?: (.*))?\]$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")


def node_ids(source: str) -> dict[str, str]:
    """Tensor and op names (the bold first line of a label) -> their DOT ids."""
    ids = {}
    for line in source.splitlines():
        match = _NODE.match(line)
        if match:
            bold = re.search(r"<b>(.*?)</b>", match.group(2))
            if bold:
                ids.setdefault(bold.group(1), match.group(1))
    return ids


def node_label(source: str, node_id: str) -> str:
    """The label text of a node, markup stripped, rows separated by ' | '."""
    for line in source.splitlines():
        match = _NODE.match(line)
        if match and match.group(1) == node_id:
            rows = re.findall(r"<td>(.*?)</td>", match.group(2))
            return " | ".join(re.sub(r"<[^>]+>", "", row) for row in rows)
    raise KeyError(node_id)


def node_attrs(source: str, node_id: str) -> str:
    """The attributes after a node's label (fillcolor, color, penwidth...)."""
    for line in source.splitlines():
        match = _NODE.match(line)
        if match and match.group(1) == node_id:
            return match.group(3) or ""
    raise KeyError(node_id)


def edges(source: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(forward edges, backward edges) as (tail, head, label text), in DOT order.

    Backward edges are those inside the ``subgraph backward`` block.
    """
    forward, backward = [], []
    inside = False
    for line in source.splitlines():
        if line.strip().startswith("subgraph backward"):
            inside = True
            continue
        if inside and line.strip() == "}":
            inside = False
            continue
        match = _EDGE.match(line)
        if match:
            attrs = match.group(3) or ""
            label = re.search(r"label=<(.*?)>(?: |$)", attrs)
            text = label.group(1) if label else ""
            (backward if inside else forward).append((match.group(1), match.group(2), text))
    return forward, backward
