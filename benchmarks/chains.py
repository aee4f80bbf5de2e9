"""Chains of one op repeated, J = sum(op(op(... op(x)))), forward and backward: in graphgrad,
in numpy by hand (the baseline: the same arithmetic, keeping what backward needs) and, for the
long chain, in PyTorch. This module loads no framework but graphgrad and numpy, so that
``python -m benchmarks.chains graphgrad`` times the long chain in a process holding nothing
else; `bench_engine` runs it so.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np

import graphgrad as gg
from benchmarks.common import check_same

CHAIN = 2000
LONG_CHAIN = 100_000


def chain(op, x0, n=CHAIN, params=()):
    """J = sum(op(op(... op(x)))) and its backward; returns J, dJ/dx and the params' dJ/dW.

    Backward keeps the leaves' gradients only, as the numpy chain by hand and PyTorch do."""
    for p in params:
        p.grad = None  # the numpy chain starts its dW from nothing too
    x = gg.Tensor(x0, requires_grad=True)
    y = x
    for _ in range(n):
        y = op(y)
    J = y.sum()
    J.backward(keep_intermediate_grads=False)
    return J.data, x.grad, *(p.grad for p in params)


def chain_by_hand(forward, backward, x0, n=CHAIN):
    """The same chain in numpy: the forward, keeping what backward needs (each op's input and
    output), the sum, then the backward, accumulating a parameter's gradient over its uses."""
    a, tape = x0, []
    for _ in range(n):
        y = forward(a)
        tape.append((a, y))
        a = y
    J = a.sum()
    g, d_param = np.ones_like(a), None
    for a, y in reversed(tape):
        g, d = backward(a, y, g)
        if d is not None:
            d_param = d if d_param is None else d_param + d
    return (J, g) if d_param is None else (J, g, d_param)


def _scaled(y):
    return y * 0.999


def _scaled_backward(a, y, g):
    return g * 0.999, None


def long_chain_seconds(framework: str, n: int = LONG_CHAIN, repeat: int = 3) -> float:
    """Best wall time of J = sum(x * 0.999 * ... * 0.999), n products on 4x4 float64, and its
    backward, in ``framework`` ("graphgrad", "numpy" by hand, or "torch"), in this process."""
    x0 = np.random.default_rng(0).standard_normal((4, 4)) * 0.1
    if framework == "graphgrad":
        def run():
            chain(_scaled, x0, n)
    elif framework == "numpy":
        def run():
            chain_by_hand(_scaled, _scaled_backward, x0, n)
    else:
        import torch  # only here: its objects would be in every other framework's process

        torch.set_num_threads(1)

        def run():
            y = torch.tensor(x0, requires_grad=True)
            for _ in range(n):
                y = _scaled(y)
            y.sum().backward()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def check_long_chain(n: int = LONG_CHAIN, tolerance: float = 1e-10) -> None:
    """The long chain gives the same J and dJ/dx in graphgrad as by hand."""
    x0 = np.random.default_rng(0).standard_normal((4, 4)) * 0.1
    names = ("J", "dx")
    check_same(f"{n}-op chain of products by 0.999",
               dict(zip(names, chain(_scaled, x0, n))),
               dict(zip(names, chain_by_hand(_scaled, _scaled_backward, x0, n))), tolerance)


def in_fresh_process(framework: str, n: int = LONG_CHAIN) -> float:
    """`long_chain_seconds` in a new interpreter that loads only ``framework``."""
    result = subprocess.run([sys.executable, "-m", "benchmarks.chains", framework, "-n", str(n)],
                            capture_output=True, text=True, check=True)
    return float(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=("graphgrad", "numpy", "torch"))
    parser.add_argument("-n", type=int, default=LONG_CHAIN, help="the chain's length")
    args = parser.parse_args()
    print(long_chain_seconds(args.framework, args.n))


if __name__ == "__main__":
    main()
