"""numpy's structural functions that are exact compositions of other ops, so their gradients
are those ops' backwards: atleast_1d, atleast_2d, atleast_3d, column_stack, dstack (reshapes
and a concatenate), fliplr, flipud, rot90 (flips and a transpose); and copy, the identity as a
node of its own (PyTorch's clone). Depends on `function`, `ops.shape`, `ops.rearrange`,
`errors`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    array_of_numbers,
    describe,
    numbers_and_shown,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.ops.rearrange import _axes, _join_shapes, flip
from graphgrad.ops.shape import Concatenate, Reshape, Transpose, _tensors
from graphgrad.tensor import Tensor


class Copy(Function):
    """y = x, a new tensor (np.copy, PyTorch's clone);  dx = dy"""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def copy(x: Any) -> Tensor:
    """A new tensor with x's values, as np.copy and PyTorch's ``t.clone()``: a node of the
    graph (the identity, its gradient passes unchanged), where ``t.detach()`` cuts it."""
    return Copy.apply(x)


def _at_least(x: Any, ndim: int, what: str = "x", op: str = "") -> Tensor:
    """x with at least ``ndim`` axes as numpy adds them: a number (1,) * ndim, (n,) a row
    (1, n), and for three axes (n,) -> (1, n, 1), (m, n) -> (m, n, 1). Refusals of x name it
    ``what`` of ``op`` (atleast_{ndim}d's x by default)."""
    shape = array_of_numbers(x, what, op or f"atleast_{ndim}d").shape
    if len(shape) >= ndim:
        return x if isinstance(x, Tensor) else Reshape.apply(x, shape=shape)
    if not shape:
        return Reshape.apply(x, shape=(1,) * ndim)
    if len(shape) == 2:  # ndim 3
        return Reshape.apply(x, shape=shape + (1,))
    return Reshape.apply(x, shape=(1,) + shape + (1,) * (ndim - 2))


def _each(arrays: tuple, ndim: int) -> Any:
    """numpy's form: one tensor for one input, a tuple of them for several."""
    out = tuple(_at_least(a, ndim) for a in arrays)
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys: Any) -> Any:
    """Each input with at least one axis, as np.atleast_1d: a number becomes (1,), a tensor
    with axes is given back as it is. One tensor for one input, a tuple for several; ``arys``
    are the inputs."""
    return _each(arys, 1)


def atleast_2d(*arys: Any) -> Any:
    """Each input with at least two axes, as np.atleast_2d: () -> (1, 1), (n,) -> (1, n), a
    row. One tensor for one input, a tuple for several; ``arys`` are the inputs."""
    return _each(arys, 2)


def atleast_3d(*arys: Any) -> Any:
    """Each input with at least three axes, as np.atleast_3d: () -> (1, 1, 1), (n,) ->
    (1, n, 1), (m, n) -> (m, n, 1). One tensor for one input, a tuple for several; ``arys``
    are the inputs."""
    return _each(arys, 3)


def column_stack(tup: Sequence[Any]) -> Tensor:
    """The tensors side by side as columns, as np.column_stack: 1-D tensors of n elements are
    columns (n, 1), matrices are joined as they are, along axis 1. ``tup``: the tensors."""
    xs = _tensors("column_stack", tup, "[a, b]")
    columns = []
    for i, x in enumerate(xs):
        ndim = array_of_numbers(x, f"input {i}", "column_stack").ndim
        columns.append(Reshape.apply(x, shape=(-1, 1)) if ndim < 2 else x)
    _join_shapes("column_stack", xs, tuple(columns), 1)
    return Concatenate.apply(*columns, axis=1)


def dstack(tup: Sequence[Any]) -> Tensor:
    """The tensors one behind the other along a third axis, as np.dstack: each made
    `atleast_3d` ((m, n) -> (m, n, 1), (n,) -> (1, n, 1)), then joined along axis 2.
    ``tup``: the tensors."""
    xs = _tensors("dstack", tup, "[a, b]")
    pieces = tuple(_at_least(x, 3, f"input {i}", "dstack") for i, x in enumerate(xs))
    _join_shapes("dstack", xs, pieces, 2)
    return Concatenate.apply(*pieces, axis=2)


def _needs_axes(m: Any, ndim: int, op: str, what: str) -> tuple[np.ndarray, Any]:
    """m's array and what messages describe it by (`numbers_and_shown`), unless m has fewer
    than ``ndim`` axes: then an error naming ``op`` and ``what`` it does with them."""
    data, shown = numbers_and_shown(m, "m", op)
    if data.ndim < ndim:
        raise ArgumentError(f"{op} of {describe(shown)}: {what}, so m needs at least {ndim} "
                            f"ax{'i' if ndim == 1 else 'e'}s; it has {data.ndim}")
    return data, shown


def fliplr(m: Any) -> Tensor:
    """``m`` with its columns in reverse order (axis 1 flipped), as np.fliplr; m has at least
    two axes."""
    _needs_axes(m, 2, "fliplr", "it flips the columns, axis 1")
    return flip(m, 1)


def flipud(m: Any) -> Tensor:
    """``m`` with its rows in reverse order (axis 0 flipped), as np.flipud."""
    _needs_axes(m, 1, "flipud", "it flips the rows, axis 0")
    return flip(m, 0)


def rot90(m: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Tensor:
    """``m`` turned by 90 degrees ``k`` times in the plane of ``axes`` (from the first axis
    towards the second; k < 0 turns the other way), as np.rot90: a flip and a transpose."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise GraphgradTypeError(f"rot90: k must be an int, got {setting_text(k)}")
    data, shown = _needs_axes(m, 2, "rot90", "it turns m in the plane of two axes")
    if isinstance(axes, (int, np.integer)) or not isinstance(axes, Sequence) or len(axes) != 2:
        raise ArgumentError(f"rot90 of {describe(shown)}: axes must be two axes, the plane "
                            f"to turn in, got {setting_text(axes)}")
    a, b = _axes(axes, data.ndim, shown, "rot90", "axes")
    if a == b:
        raise ArgumentError(f"rot90 of {describe(shown)}: axes {tuple(axes)} name one axis "
                            "twice; the plane to turn in needs two different axes")
    k = int(k) % 4
    if k == 0:
        return copy(m)
    if k == 2:
        return flip(flip(m, a), b)
    order = list(range(data.ndim))
    order[a], order[b] = order[b], order[a]
    if k == 1:
        return Transpose.apply(flip(m, b), axes=tuple(order))
    return flip(Transpose.apply(m, axes=tuple(order)), b)
