"""numpy's structural functions that are exact compositions of other ops, so their gradients
are those ops' backwards: atleast_1d, atleast_2d, atleast_3d, column_stack, dstack (reshapes
and a concatenate), fliplr, flipud, rot90 (flips and a transpose); and copy, the identity as a
node of its own (PyTorch's clone); numpy 2's matrix_transpose, block, broadcast_arrays and
meshgrid (transposes, splits, reshapes, concatenates and broadcasts), and unstack, one node of
its own (Unstack).
Depends on `function`, `ops.shape`, `ops.rearrange`, `errors`.
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
from graphgrad.ops.shape import BroadcastTo, Concatenate, Reshape, Transpose, _tensors
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


# -- numpy 2's array-API rearrangements, block, broadcast_arrays and meshgrid -----------------
def matrix_transpose(x: Any) -> Tensor:
    """x with its last two axes exchanged, as np.matrix_transpose (numpy 2's, the array API's
    x.mT): a stack of matrices (..., m, n) -> (..., n, m)."""
    data, shown = numbers_and_shown(x, "x", "matrix_transpose")
    if data.ndim < 2:
        raise ArgumentError(f"matrix_transpose of {describe(shown)}: it swaps the last two "
                            "axes, of a matrix or a stack of them; x needs 2 dimensions or more "
                            "(gg.reshape(x, (1, -1)) makes a row of a vector)")
    axes = tuple(range(data.ndim - 2)) + (data.ndim - 1, data.ndim - 2)
    return Transpose.apply(x, axes=axes)


class Unstack(Function):
    """the slices x[..., i, ...] along ``axis``, each without it (np.unstack);  dx = their
    gradients stacked back along ``axis``: one node for the n slices, where a split and a
    reshape of each piece would make n + 1."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis % x.ndim  # the node keeps the axis as written (axis=-1)
        return tuple(np.moveaxis(x, ctx.axis, 0))

    @staticmethod
    def backward(ctx, *grads):
        return np.stack(grads, axis=ctx.axis)


def unstack(x: Any, *, axis: int = 0) -> tuple[Tensor, ...]:
    """The slices of x along ``axis``, a tuple of x.shape[axis] tensors without that axis, as
    np.unstack (numpy 2.1; stack's inverse): one node, Unstack, whose backward stacks the
    slices' gradients back, rather than one indexing node per slice, each scattering into all
    of x."""
    data, shown = numbers_and_shown(x, "x", "unstack")
    if data.ndim == 0:
        raise ArgumentError(f"unstack of {describe(shown)}: a number has no axis to take "
                            "slices along; give a tensor with at least one axis")
    checked = _axes(axis, data.ndim, shown, "unstack")[0]
    if data.shape[checked] == 0:
        return ()
    return Unstack.apply(x, axis=axis if isinstance(axis, (int, np.integer)) else checked)


def block(arrays: Any) -> Tensor:
    """Tensors (or arrays, or numbers) in nested lists joined into one, as np.block: the
    innermost lists join along the last axis, the lists of those along the one before, and
    so on; every element first gets as many axes as the deepest element or the nesting, in
    front (numpy's rule). All lists at one depth must hold elements, not lists and
    elements mixed."""
    depth, ndim = _block_depth(arrays, ())
    ndim = max(ndim, depth)

    def join(value: Any, level: int) -> Any:
        if level == depth:
            shape = array_of_numbers(value, "an element", "block").shape
            if len(shape) == ndim:
                return value
            return Reshape.apply(value, shape=(1,) * (ndim - len(shape)) + shape)
        pieces = [join(v, level + 1) for v in value]
        return pieces[0] if len(pieces) == 1 else Concatenate.apply(
            *pieces, axis=ndim - depth + level)

    out = join(arrays, 0)
    return out if isinstance(out, Tensor) else Reshape.apply(out, shape=np.shape(out))


def _block_depth(value: Any, where: tuple[int, ...]) -> tuple[int, int]:
    """How deep the lists in np.block's ``value`` go, all alike, and the most axes of an
    element; an error naming the place (``where``) of an empty list or a mixed depth."""
    if isinstance(value, tuple):
        raise GraphgradTypeError(f"block: arrays{list(where)} is a tuple; np.block takes "
                                 "lists only (numpy refuses tuples too)")
    if not isinstance(value, list):
        return 0, array_of_numbers(value, "an element", "block").ndim
    if not value:
        raise ArgumentError(f"block: arrays{list(where)} is an empty list; every list needs "
                            "an element (numpy refuses it too)")
    found = [_block_depth(v, where + (i,)) for i, v in enumerate(value)]
    depths = {d for d, _ in found}
    if len(depths) > 1:
        raise ArgumentError(f"block: the lists in arrays{list(where)} are nested to "
                            f"{sorted(depths)} levels; give every element at one depth, "
                            "as numpy does")
    return depths.pop() + 1, max(n for _, n in found)


def broadcast_arrays(*args: Any) -> tuple[Tensor, ...]:
    """Each input of ``args`` broadcast to the shape they share, as np.broadcast_arrays: a tuple of
    tensors (arrays and numbers become constant tensors); the gradient of each sums over the
    axes it was repeated along."""
    shapes = [array_of_numbers(a, f"input {i}", "broadcast_arrays").shape
              for i, a in enumerate(args)]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ArgumentError(f"broadcast_arrays of shapes {shapes}: they do not broadcast "
                            "together; aligned from the right, each dimension must be equal "
                            "or 1") from None
    return tuple(a if isinstance(a, Tensor) and a.shape == shape
                 else BroadcastTo.apply(a, shape=shape) for a in args)


def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy"
             ) -> tuple[Tensor, ...]:
    """Coordinate grids from coordinate vectors ``xi``, as np.meshgrid: for n of them (flattened)
    of sizes s_1 .. s_n, n tensors of shape (s_1, .., s_n) with indexing="ij", or with the
    first two sizes exchanged with "xy" (numpy's default, a plot's x along columns);
    ``sparse`` keeps each of size 1 but along its own axis. ``copy`` changes no value. The
    gradient of each input sums its grid over the other axes."""
    if indexing not in ("xy", "ij"):
        raise ArgumentError(f"meshgrid: indexing must be 'xy' or 'ij', got "
                            f"{setting_text(indexing)}")
    sizes = [array_of_numbers(x, f"input {i}", "meshgrid").size for i, x in enumerate(xi)]
    n = len(xi)
    axes = list(range(n))
    if indexing == "xy" and n > 1:
        axes[0], axes[1] = 1, 0
    full = [0] * n
    for size, axis in zip(sizes, axes):
        full[axis] = size
    grids = []
    for x, size, axis in zip(xi, sizes, axes):
        shape = [1] * n
        shape[axis] = size
        grid = Reshape.apply(x, shape=tuple(shape))
        grids.append(grid if sparse else BroadcastTo.apply(grid, shape=tuple(full)))
    return tuple(grids)
