"""How time grows with size: each case is timed at n and 4n, and the ratio shown.

About 4 is linear work; about 16 is quadratic. Cases: graph shapes (a chain, fan-out, a sum
built with + in a loop, stack and concatenate of n tensors, split into n parts, n scalars
stacked, x[i] for i in range(n) then stacked), the pins of n row views of one array released
one by one, building a ModuleList of n layers, loading an optimizer's state for n parameters,
and an LSTM over T steps. The tests check the same growth by counting the work
(tests/operation_counts.py); these are the seconds.
Run: ``.venv/bin/python -m benchmarks.bench_scaling``.
"""
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads BLAS

from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402

import graphgrad as gg  # noqa: E402
from benchmarks.common import best_time, print_table  # noqa: E402
from graphgrad import nn, optim  # noqa: E402
from graphgrad.nn.containers import ModuleList  # noqa: E402


def _leaves(n: int, shape: tuple[int, ...] = (3,), dtype: type = np.float64) -> list:
    return [gg.Tensor(np.ones(shape, dtype=dtype), requires_grad=True) for _ in range(n)]


def chain(n: int) -> None:
    x = gg.Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    y.sum().backward()


def fan_out(n: int) -> None:
    x = gg.Tensor(np.ones(3), requires_grad=True)
    gg.stack([x * float(i) for i in range(n)]).sum().backward()


def sum_in_a_loop(n: int) -> None:
    xs = _leaves(n)
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    total.sum().backward()


def stack(n: int) -> None:
    gg.stack(_leaves(n)).sum().backward()


def concatenate_float32_into_float64(n: int) -> None:
    xs = _leaves(n, dtype=np.float32) + _leaves(1)
    gg.concatenate(xs).sum().backward()


def stack_scalars(n: int) -> None:
    gg.stack(_leaves(n, shape=())).sum().backward()


def split(n: int) -> None:
    x = gg.Tensor(np.ones(n), requires_grad=True)
    gg.stack([part * 2.0 for part in gg.split(x, n)]).sum().backward()


def index_then_stack(n: int) -> None:
    x = gg.Tensor(np.ones((n, 3)), requires_grad=True)
    gg.stack([x[i] for i in range(n)]).sum().backward()


def row_views_released_one_by_one(n: int) -> None:
    base = np.ones((n, 2))
    rows = [gg.Tensor(base[i], requires_grad=True) for i in range(n)]
    for J in [(row * 2.0).sum() for row in rows]:
        J.backward()


def module_list(n: int) -> None:
    layers = ModuleList()
    for _ in range(n):
        layers.append(nn.ReLU())


def optimizer_state(n: int) -> None:
    params = _leaves(n, shape=(2,))
    adam = optim.Adam(params, lr=0.01)
    adam.load_state_dict(adam.state_dict())


_LSTM = nn.RNN(4, 8, cell="lstm", rng=0)


def lstm(T: int) -> None:
    _LSTM(np.ones((2, T, 4))).sum().backward()


CASES: list[tuple[str, Callable[[int], None], int]] = [
    ("chain of n ops", chain, 2000),
    ("one leaf used by n ops (fan-out)", fan_out, 2000),
    ("sum of n tensors with + in a loop", sum_in_a_loop, 2000),
    ("stack of n tensors", stack, 2000),
    ("concatenate n float32 into float64", concatenate_float32_into_float64, 2000),
    ("stack of n scalars", stack_scalars, 2000),
    ("split into n parts", split, 1000),
    ("x[i] for i in range(n), stacked", index_then_stack, 500),
    ("n row views of one array, released one by one", row_views_released_one_by_one, 500),
    ("ModuleList of n layers, appended", module_list, 500),
    ("optimizer state of n parameters, saved and loaded", optimizer_state, 500),
    ("LSTM over T steps, forward + backward", lstm, 50),
]


def main() -> None:
    rows = []
    for name, run, n in CASES:
        small = best_time(partial(run, n), repeat=3)
        large = best_time(partial(run, 4 * n), repeat=3)
        rows.append((name, str(n), f"{small * 1e3:.1f} ms", f"{large * 1e3:.1f} ms",
                     f"{large / small:.1f}"))
    print_table("Time at n and 4n (about 4: linear; about 16: quadratic)", rows,
                ("case", "n", "at n", "at 4n", "ratio"))


if __name__ == "__main__":
    main()
