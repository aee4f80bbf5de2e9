"""Memory benchmarks: a training step's peak, memory over many steps, a long graph's cost.

Measured with ``tracemalloc``, which sees numpy's array buffers as well as Python's objects,
next to a baseline doing the same work by hand in numpy in the same process:

- the peak memory of one training step of the MLP 784-256-128-10 (batch 64, float64), against
  the course's numpy step (its caches and temporaries) and a batch-first one;
- the memory left after each of many steps: a training loop must not grow;
- what a recorded graph holds per op (a 100,000-op chain on 4x4 float64), against the numpy
  tape of the same chain (each op's input and output, what backward by hand needs), before
  and after backward, and that dropping the graph gives it all back;
- `gg.checkpoint` on a deep MLP (20 layers 256 wide, batch 256): what the graph holds between
  forward and backward, and the peak of forward and backward, with every layer's values kept,
  with each layer checkpointed, and with each run of 4 layers checkpointed as one block.

``--check`` exits with 1 when a target is missed. Run:
``.venv/bin/python -m benchmarks.bench_memory [--check]``.
"""
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads BLAS

import argparse  # noqa: E402
import gc  # noqa: E402
import sys  # noqa: E402
import timeit  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import graphgrad as gg  # noqa: E402
from benchmarks.bench_nn_mlp import (  # noqa: E402
    build,
    check_steps,
    graphgrad_step,
    numpy_parameters,
    rows_numpy_step,
)
from benchmarks.common import check_same, course_numpy_step, print_table  # noqa: E402
from graphgrad import nn, optim  # noqa: E402
from graphgrad.checkpointing import _fingerprint  # noqa: E402

LR = 0.01
# Targets. A step may hold no more at its peak than the course's numpy code for the same
# work; a loop may not grow; a recorded op may cost at most twice the numpy tape's entry
# (the node and its output tensor come on top of the arrays), and a dropped graph nothing.
STEP_PEAK_RATIO = 1.0
GROWTH_BYTES = 4096  # over all the steps: room for a cache entry, not for a step's leak
CHAIN_RATIO = 2.0
DROPPED_BYTES = 65536
# Checkpointing 4-layer blocks of a 20-layer MLP keeps the 5 blocks' outputs of the 40 arrays
# (each layer's Z and A) the plain graph holds: at most a quarter of it, with room for the
# nodes; and backward then holds one block's values at a time, so the peak must drop too.
CHECKPOINT_HELD_RATIO = 0.25
CHECKPOINT_PEAK_RATIO = 0.75


def traced(run: Callable[[], object]) -> tuple[int, int]:
    """(peak, left) bytes of one call of ``run`` above what was allocated before it, after a
    first call has made its caches and buffers."""
    run()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        run()
        left, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before, left - before


def training_step(sizes: tuple[int, ...], batch: int, steps: int) -> tuple[list, dict]:
    check_steps(sizes, batch)  # the steps measured here compute the same numbers
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], batch)]
    model = build(sizes)
    sgd = optim.SGD(model.parameters(), lr=LR)
    adam = optim.Adam(model.parameters(), lr=1e-4)
    course, rows_params = numpy_parameters(model)
    X_course, Y_course = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)

    def step(optimizer: optim.Optimizer, keep: bool = False) -> None:
        graphgrad_step(model, optimizer, X, Y, keep_intermediate_grads=keep)

    # The gradients a step leaves in .grad are part of what it holds at its peak, not a leak.
    grads = sum(p.data.nbytes for p in model.parameters())
    # What SGD keeps from one step to the next (a scratch array per parameter, for updates
    # without temporaries): made with the optimizer, so before any step's figure starts.
    gc.collect()
    tracemalloc.start()
    try:
        optim.SGD(model.parameters(), lr=LR)
        sgd_held = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    figures = {
        "numpy by hand, course layout (n_x, m)": traced(
            lambda: course_numpy_step(course, X_course, Y_course, LR)),
        "numpy by hand, batch-first (m, n_x)": traced(
            lambda: rows_numpy_step(rows_params, X, Y)),
        "graphgrad nn + SGD (training: dW, db only)": traced(lambda: step(sgd)),
        "graphgrad nn + SGD, every node's dvar kept": traced(lambda: step(sgd, keep=True)),
        "graphgrad nn + Adam": traced(lambda: step(adam)),
    }
    base = figures["numpy by hand, course layout (n_x, m)"][0]
    label = "-".join(map(str, sizes)) + f", batch {batch}"
    rows = [(label, how, f"{peak / 1e6:.2f} MB", f"{peak / base:.2f}x",
             f"{left / 1e6:.2f} MB") for how, (peak, left) in figures.items()]

    tracemalloc.start()  # before the first steps: what they replace is traced too
    try:
        for _ in range(10):
            step(sgd)
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            step(sgd)
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    results = {"step peak ratio": figures["graphgrad nn + SGD (training: dW, db only)"][0]
               / base, "growth": growth, "grads": grads, "sgd held": sgd_held}
    return rows, results


def chain_memory(n: int) -> tuple[list, dict]:
    x0 = np.random.default_rng(0).standard_normal((4, 4)) * 0.1
    rows, results = [], {}
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        a, tape = x0, []
        for _ in range(n):
            y = a * 0.999
            tape.append((a, y))
            a = y
        by_hand = (tracemalloc.get_traced_memory()[0] - start) / n
        del tape, a, y
        for keep in (False, True):
            gc.collect()
            start = tracemalloc.get_traced_memory()[0]
            x = gg.Tensor(x0, requires_grad=True)
            y = x
            for _ in range(n):
                y = y * 0.999
            J = y.sum()
            held = (tracemalloc.get_traced_memory()[0] - start) / n
            tracemalloc.reset_peak()
            J.backward(keep_intermediate_grads=keep)
            left, peak = tracemalloc.get_traced_memory()
            del J, y, x
            # The graph is freed by reference counting alone (a collection finds no cycle);
            # the collection also empties Python's free lists, which keep recently freed
            # tuples and floats for reuse and would count here.
            results["cycles"] = results.get("cycles", 0) + gc.collect()
            dropped = tracemalloc.get_traced_memory()[0] - start
            how = "every node's dvar kept" if keep else "dvar of the leaves only"
            rows.append((f"graphgrad, backward with {how}", f"{held:.0f} B",
                         f"{held / by_hand:.2f}x", f"{(peak - start) / n:.0f} B",
                         f"{(left - start) / n:.0f} B", f"{dropped} B"))
            results.setdefault("held ratio", held / by_hand)
            results["dropped"] = max(results.get("dropped", 0), dropped)
    finally:
        tracemalloc.stop()
    rows.insert(0, ("numpy by hand (the tape backward needs)", f"{by_hand:.0f} B", "1.00x",
                    "-", "-", "-"))
    return rows, results


def deep_mlp(depth: int, width: int) -> list[nn.Module]:
    """``depth`` layers Linear(width, width) + Tanh, each a block: its Z and A are the values
    a plain graph keeps for backward."""
    return [nn.Sequential(nn.Linear(width, width, init="xavier", rng=layer), nn.Tanh())
            for layer in range(depth)]


def checkpointed_cost(layers: list[nn.Module], X: np.ndarray, every: int) -> gg.Tensor:
    """The cost of the MLP with each run of ``every`` layers checkpointed as one block (0:
    none, the plain graph)."""
    A = gg.Tensor(X)
    if not every:
        for layer in layers:
            A = layer(A)
    else:
        for start in range(0, len(layers), every):
            A = gg.checkpoint(nn.Sequential(*layers[start:start + every]), A)
    return (A * A).mean()


def check_checkpoint(depth: int = 6, width: int = 8, batch: int = 5) -> None:
    """The checkpointed MLPs compute the plain one's cost and gradients."""
    layers = deep_mlp(depth, width)
    X = np.random.default_rng(0).standard_normal((batch, width))
    named = [(f"{name}[{l}]", p) for l, layer in enumerate(layers)
             for name, p in layer.named_parameters()]
    found = []
    for every in (0, 1, 4):
        J = checkpointed_cost(layers, X, every)
        J.backward()
        found.append({"J": J.data, **{f"d{name}": p.grad for name, p in named}})
        for _, p in named:
            p.grad = None
    for every, got in zip((1, 4), found[1:]):
        check_same(f"the MLP checkpointed every {every} layers against the plain one", got,
                   found[0], 1e-12)


def checkpointed_step_memory(layers: list[nn.Module], X: np.ndarray, every: int
                             ) -> tuple[int, int, int]:
    """(held after forward, peak of forward, peak of forward and backward) bytes of a
    forward and backward of `checkpointed_cost`."""
    held = []

    def step() -> None:
        for layer in layers:
            layer.zero_grad()
        start = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
        J = checkpointed_cost(layers, X, every)
        if tracemalloc.is_tracing():
            now, peak = tracemalloc.get_traced_memory()
            held.append((now - start, peak - start))
        J.backward(keep_intermediate_grads=False)

    peak, _ = traced(step)
    return (*held[-1], peak)


def fingerprint_cost(layers: list[nn.Module], X: np.ndarray, every: int) -> tuple[float, float]:
    """(seconds of a forward and backward of `checkpointed_cost`, seconds of the fingerprints
    it takes: each block's output's in forward, and again in backward to compare)."""
    def step() -> None:
        for layer in layers:
            layer.zero_grad()
        checkpointed_cost(layers, X, every).backward(keep_intermediate_grads=False)

    with gg.no_grad():  # the blocks' outputs, as forward fingerprints them
        A, outputs = gg.Tensor(X), []
        for start in range(0, len(layers), every):
            A = nn.Sequential(*layers[start:start + every])(A)
            outputs.append(A.data)
    step_time = min(timeit.repeat(step, number=1, repeat=5))
    prints = min(timeit.repeat(lambda: [_fingerprint(a) for a in outputs], number=1, repeat=20))
    return step_time, 2 * prints


def checkpoint_memory(depth: int, width: int, batch: int) -> tuple[list, dict]:
    check_checkpoint()
    layers = deep_mlp(depth, width)
    X = np.random.default_rng(0).standard_normal((batch, width))
    rows, results = [], {}
    for every, how in ((0, "every layer's Z and A kept"), (1, "each layer checkpointed"),
                       (4, "each 4 layers checkpointed as one block")):
        held, forward_peak, peak = checkpointed_step_memory(layers, X, every)
        results[every] = (held, peak)
        plain_held, plain_peak = results[0]
        rows.append((how, f"{held / 1e6:.2f} MB", f"{held / plain_held:.2f}x",
                     f"{forward_peak / 1e6:.2f} MB", f"{peak / 1e6:.2f} MB",
                     f"{peak / plain_peak:.2f}x"))
    results["time"] = fingerprint_cost(layers, X, 4)
    return rows, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()

    step_rows, step = training_step((784, 256, 128, 10), 64, args.steps)
    print_table("Peak memory of one training step (float64), ratio to the course's numpy step",
                step_rows, ("model", "how", "peak", "ratio", "left after"))
    print(f"  (graphgrad's steps leave dW, db in .grad: {step['grads'] / 1e6:.2f} MB; SGD holds "
          f"{step['sgd held'] / 1e6:.2f} MB between steps; neither is in the peaks above, "
          "while the numpy steps keep nothing between steps)")
    chain_rows, chain = chain_memory(100_000)
    print_table("A 100,000-op chain on 4x4 float64, bytes per op", chain_rows,
                ("what", "held by the graph", "ratio", "peak in backward", "left after",
                 "left once dropped (total)"))

    depth, width, batch = 20, 256, 256
    ckpt_rows, ckpt = checkpoint_memory(depth, width, batch)
    print_table(f"gg.checkpoint on a {depth}-layer MLP ({width} wide, batch {batch}, float64): "
                "forward and backward", ckpt_rows,
                ("how", "held after forward", "ratio", "peak in forward", "peak", "ratio"))
    step_time, prints = ckpt["time"]
    print(f"  (the fingerprints that check the second runs, crc32 of each block's output in "
          f"forward and again in backward: {prints * 1e3:.2f} ms of the 4-layer blocks' "
          f"{step_time * 1e3:.1f} ms forward and backward, {prints / step_time:.1%})")
    held_ratio, peak_ratio = ckpt[4][0] / ckpt[0][0], ckpt[4][1] / ckpt[0][1]

    checks = [
        (f"step peak {step['step peak ratio']:.2f}x the numpy step's",
         step["step peak ratio"] <= STEP_PEAK_RATIO, f"<= {STEP_PEAK_RATIO}x"),
        (f"grew {step['growth']} B over {args.steps} steps", step["growth"] <= GROWTH_BYTES,
         f"<= {GROWTH_BYTES} B"),
        (f"a recorded op holds {chain['held ratio']:.2f}x the numpy tape's entry",
         chain["held ratio"] <= CHAIN_RATIO, f"<= {CHAIN_RATIO}x"),
        (f"a dropped 100,000-op graph leaves {chain['dropped']} B",
         chain["dropped"] <= DROPPED_BYTES, f"<= {DROPPED_BYTES} B"),
        (f"objects in reference cycles once it is dropped: {chain['cycles']}",
         chain["cycles"] == 0, "0"),
        (f"4-layer checkpoints hold {held_ratio:.2f}x the plain graph after forward",
         held_ratio <= CHECKPOINT_HELD_RATIO, f"<= {CHECKPOINT_HELD_RATIO}x"),
        (f"4-layer checkpoints peak at {peak_ratio:.2f}x the plain graph's peak",
         peak_ratio <= CHECKPOINT_PEAK_RATIO, f"<= {CHECKPOINT_PEAK_RATIO}x"),
    ]
    print("\nTargets")
    for what, ok, target in checks:
        print(f"  {what} (target {target}): {'ok' if ok else 'MISSED'}")
    return 1 if args.check and not all(ok for _, ok, _ in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
