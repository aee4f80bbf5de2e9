"""Debugging aids, each a context manager: `detect_anomaly` and `strict_shapes`.

They cost nothing when off: ops only call `after_forward` (and backprop `check_gradients`)
while one of them, or a name scope, is active, with or without `no_grad`. Depends on `modes`,
`errors` and `tensor`.
"""
from __future__ import annotations

import contextlib
import linecache
import os
import sys
from typing import Any

import numpy as np

from graphgrad.errors import AnomalyError, ShapeError, describe
from graphgrad.modes import _setting, _state
from graphgrad.tensor import _data

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def detect_anomaly() -> contextlib.AbstractContextManager[None]:
    """Raise as soon as an op makes a NaN or Inf, in forward or in backward.

    The error names the op, its inputs and the line of your code that created it. Ops made
    inside the block remember that line, so keep ``backward()`` inside it too. Slower: use it
    to find a NaN, not to train.
    """
    return _setting("anomaly", True)


def strict_shapes() -> contextlib.AbstractContextManager[None]:
    """Turn the course's advice against rank-1 arrays into errors.

    Inside the block, an op that silently broadcasts two operands into a bigger matrix than
    either (a (5,) with a (5, 1) gives (5, 5)), or an ``@`` with a rank-1 operand (an
    ``nn.Linear`` given a rank-1 batch X: one example is (1, n_x)), raises a `ShapeError`
    that shows the shapes and the ``reshape`` that fixes it.
    """
    return _setting("strict_shapes", True)


def creation_site() -> str | None:
    """``file:line in function: code`` of the innermost caller outside graphgrad's engine."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        if os.sep + "nn" + os.sep in frame.f_code.co_filename:  # layers are user-facing code
            break
        frame = frame.f_back
    if frame is None:
        return None
    filename, line = frame.f_code.co_filename, frame.f_lineno
    code = linecache.getline(filename, line).strip()
    return f"{filename}:{line} in {frame.f_code.co_name}" + (f": {code}" if code else "")


def after_forward(ctx: Any, arrays: tuple) -> None:
    """Hooks run after an op's forward while a debugging mode or a name scope is active."""
    if _state.scope is not None:
        ctx.scope = _state.scope
    if _state.strict_shapes:
        _check_strict(ctx, arrays)
    if _state.anomaly:
        ctx.created_at = creation_site()
        for index, array in enumerate(arrays):
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise AnomalyError(_anomaly_message(ctx, "forward", f"output {index}", array))


def check_gradients(node: Any, grads: tuple, upstream: Any) -> None:
    """Raise if backward of ``node`` produced a NaN or Inf (called by backprop in anomaly mode)."""
    for index, grad in enumerate(grads):
        if grad is None:
            continue
        array = np.asarray(_data(grad))
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            where = f"the gradient of input {index} ({describe(node.inputs[index])})"
            message = _anomaly_message(node, "backward", where, array)
            upstream_arrays = upstream if isinstance(upstream, tuple) else (upstream,)
            if all(np.isfinite(np.asarray(_data(u))).all()
                   for u in upstream_arrays if u is not None):
                message += "\n  The upstream gradient was finite: this op's backward made it."
            else:
                message += "\n  The upstream gradient was already non-finite."
            raise AnomalyError(message)


def _anomaly_message(ctx: Any, phase: str, what: str, array: np.ndarray) -> str:
    bad = ~np.isfinite(array)
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if array.ndim else ()
    kinds = [k for k, present in (("NaN", np.isnan(array).any()), ("Inf", np.isinf(array).any()))
             if present]
    inputs = "\n".join(f"    {describe(t)}: {_value_summary(t.data)}" for t in ctx.inputs)
    lines = [
        f"detect_anomaly: {type(ctx).__name__} produced {' and '.join(kinds)} in {phase}, in "
        f"{what} ({int(bad.sum())} of {array.size} elements, first at index {first}).",
        f"  inputs:\n{inputs}",
    ]
    if ctx.created_at:
        lines.append(f"  created at {ctx.created_at}")
    if phase == "forward" and type(ctx).__name__ == "Mean" and ctx.inputs[0].data.size == 0:
        lines.append("  Cause: a mean over an axis of length 0 is 0/0, NaN; was the batch empty "
                     "(m = 0)?")
    else:
        lines.append(
            "  Common causes: log or division of 0, sqrt of a negative number, exp of a large "
            "value, a learning rate that makes the cost diverge."
        )
    return "\n".join(lines)


def _value_summary(array: np.ndarray) -> str:
    if array.dtype.kind not in "fiub" or array.size == 0:
        return str(array.dtype)
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    if finite.size == 0:
        return "no finite values"
    note = "" if finite.size == array.size else f", {array.size - finite.size} non-finite"
    return f"min {finite.min():.4g}, max {finite.max():.4g}{note}"


def _check_strict(ctx: Any, arrays: tuple) -> None:
    cls = type(ctx)
    rank1_is_error = getattr(cls, "rank1_is_error", False)
    if rank1_is_error:
        checked = ctx.inputs if rank1_is_error is True else [ctx.inputs[i] for i in rank1_is_error]
        for tensor in checked:
            shape = tensor.data.shape
            if len(shape) == 1:
                n = shape[0]
                raise ShapeError(
                    f"strict_shapes: {cls.__name__} got a rank-1 array, {describe(tensor)}, which "
                    f"is neither a row nor a column vector. Reshape it: .reshape({n}, 1) for a "
                    f"column vector or .reshape(1, {n}) for a row vector."
                )
    if getattr(cls, "broadcasts", False):
        operands = [(describe(t), t.data.shape) for t in ctx.inputs]
        if hasattr(ctx, "condition"):  # where(): the condition also carries the shape
            shape = np.shape(ctx.condition)
            operands.append((f"the condition {shape}", shape))
        _check_broadcast(cls.__name__, operands, arrays[0].shape)


def check_comparison(symbol: str, x: Any, other: Any, out_shape: tuple) -> None:
    """`strict_shapes` for ``x < other`` and the other comparisons, which record no op:
    ``(A > 0.5) == Y`` with A of shape (m, 1) and Y of shape (m,) is an (m, m) matrix, the
    classic wrong accuracy."""
    operands = [(describe(x), np.shape(_data(x))),
                (describe(other), np.shape(_data(other)))]
    _check_broadcast(f"the comparison {symbol}", operands, out_shape)


def _check_broadcast(what: str, operands: list[tuple[str, tuple]], out_shape: tuple) -> None:
    """Raise if no operand has the result's shape: broadcasting made something bigger."""
    shapes = [shape for _, shape in operands]
    if any(shape == out_shape for shape in shapes):
        return
    names = " with ".join(label for label, _ in operands)
    rank1 = [shape for shape in shapes if len(shape) == 1 and shape[0] > 1]
    if rank1:
        n = rank1[0][0]
        fix = (f"Give the rank-1 array an explicit shape: .reshape({n}, 1) for a column "
               f"vector or .reshape(1, {n}) for a row vector.")
    else:
        fix = ("If the outer broadcast is intended, make it explicit with "
               "gg.broadcast_to; otherwise check which axis holds the examples.")
        first, second = shapes[0], shapes[1]
        size = int(np.prod(first))
        if size > 1 and size == int(np.prod(second)):  # a row and a column, say
            fix = (f"If both hold the same {size} values, give them one shape: "
                   f".reshape{first} on the {second} operand (or .T). " + fix)
    raise ShapeError(
        f"strict_shapes: {what} broadcasts {names} into a {out_shape} array, "
        f"larger than every operand, which is rarely intended. {fix}"
    )
