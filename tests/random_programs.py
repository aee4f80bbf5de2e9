"""Random compositions of smooth ops, shared by the property tests: a hypothesis strategy
for programs and the function that runs one."""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack

from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import OPS

import graphgrad as gg


def _blur(x: gg.Tensor, mode: str) -> gg.Tensor:
    """The mean of each element and its two diagonal neighbours (x[i - 1, j - 1] and
    x[i + 1, j + 1]), those past the edge taken from pad's border in ``mode``."""
    p = gg.pad(x, 1, mode)
    return (p[(slice(None, -2),) * x.ndim] + p[(slice(1, -1),) * x.ndim]
            + p[(slice(2, None),) * x.ndim]) / 3.0


# Smooth everywhere on the reals (no domain to respect, no kinks), so any composition is
# differentiable at any point; each keeps the shape of its operands (after broadcasting).
SMOOTH_UNARY = {op.name: op.fn for op in OPS if op.smooth and len(op.shapes) == 1}
SMOOTH_UNARY.update({
    "log1p_square": lambda x: gg.log(1.0 + x * x),
    "sqrt1p_square": lambda x: gg.sqrt(1.0 + x * x),
    "exp_tanh": lambda x: gg.exp(gg.tanh(x)),
    "center": lambda x: x - x.mean(axis=-1, keepdims=True),
    "scale_by_sum": lambda x: x * gg.tanh(x.sum(keepdims=True)),
    "softmax": lambda x: gg.softmax(x, axis=-1),
    "log_softmax": lambda x: gg.log_softmax(x, axis=0),
    "lse_shift": lambda x: x - gg.logsumexp(x, axis=0, keepdims=True),
    "double_transpose": lambda x: x.T.T,
    "reshape_round_trip": lambda x: x.reshape(-1).reshape(x.shape),
    "pad_crop": lambda x: gg.pad(x, 1)[(slice(1, -1),) * x.ndim],
    **{f"blur_{mode}": lambda x, mode=mode: _blur(x, mode)
       for mode in ("constant", "edge", "reflect", "symmetric", "wrap")},
})
SMOOTH_BINARY = {op.name: op.fn for op in OPS if op.smooth and len(op.shapes) == 2}
SMOOTH_BINARY.update({
    "div_smooth": lambda x, y: x / (1.0 + y * y),
    "sigmoid_gate": lambda x, y: x * gg.sigmoid(y),
    "stack_sum": lambda x, y: gg.stack([x, y * 2.0]).sum(axis=0),
})


@st.composite
def programs(draw_):
    """A random expression: inputs of one shape, then steps that each apply a unary or binary
    op to earlier values (reusing them gives fan-out); the output is the last value."""
    shape = draw_(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))
    n_inputs = draw_(st.integers(1, 3))
    steps = []
    for k in range(draw_(st.integers(1, 6))):
        available = n_inputs + k
        if draw_(st.booleans()):
            steps.append((draw_(st.sampled_from(sorted(SMOOTH_UNARY))),
                          (draw_(st.integers(0, available - 1)),)))
        else:
            steps.append((draw_(st.sampled_from(sorted(SMOOTH_BINARY))),
                          (draw_(st.integers(0, available - 1)),
                           draw_(st.integers(0, available - 1)))))
    return shape, n_inputs, steps


def run_program(steps: list, *inputs: gg.Tensor, scopes: Sequence[str] | None = None
                ) -> gg.Tensor:
    """The output of a program's ``steps`` on ``inputs``; ``scopes`` (one per step, "" for
    none, "outer/inner" nested) puts each step in a name scope."""
    values = list(inputs)
    for k, (name, args) in enumerate(steps):
        fn = SMOOTH_UNARY.get(name) or SMOOTH_BINARY[name]
        with ExitStack() as stack:
            for scope in (scopes[k].split("/") if scopes and scopes[k] else ()):
                stack.enter_context(gg.name_scope(scope))
            values.append(fn(*[values[i] for i in args]))
    return values[-1]
