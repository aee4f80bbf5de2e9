"""Picture benchmarks: DOT text of big graphs, and Graphviz render times of small ones.

The target from the viz issue: a graph of 5,000 nodes gives its DOT text in well under a
second (``--check`` fails when it takes more than half a second). Rendering is Graphviz's own
work and grows faster than linearly with the graph, which is why big graphs warn and offer
``collapse``. Run: ``.venv/bin/python -m benchmarks.bench_viz [--check]``.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

import graphgrad as gg
import viz
from benchmarks.common import best_time

DOT_TARGET_SECONDS = 0.5  # for 5,000 drawn nodes


def chain(links: int, scope_every: int | None = None) -> gg.Tensor:
    """J = sum(tanh(... tanh(x * 0.5) ...)): per link two ops, two tensors, one constant.

    With ``scope_every``, each run of that many links is a name scope (``block12``...).
    """
    x = gg.Tensor(np.linspace(-1, 1, 4), requires_grad=True, name="x")
    h = x
    for i in range(links):
        if scope_every:
            with gg.name_scope(f"block{i // scope_every}"):
                h = gg.tanh(h * 0.5)
        else:
            h = gg.tanh(h * 0.5)
    J = h.sum()
    J.backward()
    return J


def course_graph() -> gg.Tensor:
    a = gg.Tensor(5.0, name="a", requires_grad=True)
    b = gg.Tensor(3.0, name="b", requires_grad=True)
    c = gg.Tensor(2.0, name="c", requires_grad=True)
    J = 3 * (a + b * c)
    J.backward()
    return J


def best(run, repeat: int = 5) -> float:
    return best_time(run, repeat=repeat)


def nodes_in(source: str) -> int:
    return len(re.findall(r"^\s*\w+ \[label=", source, re.M))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help=f"fail if 5,000 nodes take over {DOT_TARGET_SECONDS} s")
    args = parser.parse_args()

    print("DOT text (viz.to_dot), best of 5")
    rows = []
    for title, J, options in [
        ("chain, 5,000 nodes", chain(1000), {}),
        ("chain, 5,000 nodes, no values/grads", chain(1000),
         {"show_values": False, "show_grads": False}),
        ("chain, 5,000 ops (12,500 nodes)", chain(2500), {}),
        ("5,000 ops in 250 scopes, clusters", chain(2500, scope_every=10), {}),
        ("5,000 ops in 250 scopes, collapsed", chain(2500, scope_every=10), {"collapse": True}),
    ]:
        options["max_nodes"] = None
        seconds = best(lambda J=J, options=options: viz.to_dot(J, **options))
        count = nodes_in(viz.to_dot(J, **options))
        rows.append((title, count, seconds))
        print(f"  {title:40s} {count:6d} nodes  {seconds * 1000:7.1f} ms")
    five_thousand = rows[0][2]

    print("\nRendering with Graphviz (viz.render / viz.animate), best of 3")
    J, small, large = course_graph(), chain(50), chain(200)
    with tempfile.TemporaryDirectory() as folder:
        for name, run in [
            ("course graph, png", lambda: viz.render(J, Path(folder) / "g.png")),
            ("course graph, svg", lambda: viz.render(J, Path(folder) / "g.svg")),
            ("course graph, gif of 4 frames", lambda: viz.animate(J, Path(folder) / "g.gif")),
            ("chain of 100 ops (250 nodes), svg",
             lambda: viz.render(small, Path(folder) / "c.svg")),
            ("chain of 400 ops (1,000 nodes), svg",
             lambda: viz.render(large, Path(folder) / "c.svg", max_nodes=None)),
        ]:
            print(f"  {name:40s} {best(run, repeat=3) * 1000:7.1f} ms")

    verdict = "ok" if five_thousand < DOT_TARGET_SECONDS else "TOO SLOW"
    print(f"\n5,000 nodes -> DOT in {five_thousand * 1000:.0f} ms "
          f"(target < {DOT_TARGET_SECONDS * 1000:.0f} ms): {verdict}")
    return 1 if args.check and five_thousand >= DOT_TARGET_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())
