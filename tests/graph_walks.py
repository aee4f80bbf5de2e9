"""Walks of the public graph (``tensor.creator``, ``node.inputs``) shared by the tests."""
from __future__ import annotations

import graphgrad as gg


def graph_nodes(root: gg.Tensor) -> list[gg.Function]:
    """Every node reachable from root, each once (walks the public graph)."""
    nodes, seen, stack = [], set(), [root.creator]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(t.creator for t in node.inputs)
    return nodes
