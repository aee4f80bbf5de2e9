"""Memory benchmarks: a training step's peak, memory over many steps, a long graph's cost.

Measured with ``tracemalloc``, which sees numpy's array buffers as well as Python's objects,
next to a baseline doing the same work by hand in numpy in the same process:

- the peak memory of one training step of the MLP 784-256-128-10 (batch 64, float64), against
  the course's numpy step (its caches and temporaries) and a batch-first one;
- the memory left after each of many steps: a training loop must not grow;
- what a recorded graph holds per op (a 100,000-op chain on 4x4 float64), against the numpy
  tape of the same chain (each op's input and output, what backward by hand needs), before
  and after backward, and that dropping the graph gives it all back.

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
from benchmarks.common import course_numpy_step, print_table  # noqa: E402
from graphgrad import optim  # noqa: E402

LR = 0.01
# Targets. A step may hold no more at its peak than the course's numpy code for the same
# work; a loop may not grow; a recorded op may cost at most twice the numpy tape's entry
# (the node and its output tensor come on top of the arrays), and a dropped graph nothing.
STEP_PEAK_RATIO = 1.0
GROWTH_BYTES = 4096  # over all the steps: room for a cache entry, not for a step's leak
CHAIN_RATIO = 2.0
DROPPED_BYTES = 65536


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
    ]
    print("\nTargets")
    for what, ok, target in checks:
        print(f"  {what} (target {target}): {'ok' if ok else 'MISSED'}")
    return 1 if args.check and not all(ok for _, ok, _ in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
