"""gg.linalg: linear algebra on tensors, as numpy's np.linalg and PyTorch's torch.linalg.

Of a matrix (n, n) or a stack of them (..., n, n): ``inv``, ``solve``, ``det``, ``slogdet``,
``cholesky`` and ``eigh``/``eigvalsh``; of any matrix (m, n) or stack: ``svd``/``svdvals``,
``qr``, ``pinv``; ``lstsq`` of one matrix. All differentiable to any order (the decompositions
where their values are distinct, see each); numpy's own calls on tensors
(``np.linalg.solve(A, b)``) run them. A matrix they cannot take raises `LinAlgError`, which is
numpy's ``np.linalg.LinAlgError`` too. The ops are in `ops.linalg` and `ops.decompositions`.

numpy 2's names that are compositions of other ops are here: ``vector_norm`` and
``matrix_norm`` (their ords), ``multi_dot`` (a chain of matmuls in the cheapest order), and
``matrix_transpose``, ``diagonal``, ``trace``, ``outer``, ``vecdot``, ``cross``,
``tensordot`` and ``matmul``, graphgrad's ops over the last axes as numpy 2's np.linalg
takes them. ``gg.norm`` is the 2-norm (``np.linalg.norm`` on a tensor runs it).

The rest of numpy's np.linalg on real matrices, compositions too: ``matrix_power`` (matmuls by
repeated squaring, inv for n < 0), ``cond`` (of the singular values, or norms of x and
inv(x)), ``tensorinv`` and ``tensorsolve`` (inv and solve of x reshaped), and
``matrix_rank``, a count, a constant.
"""
from __future__ import annotations

import operator
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    LinAlgError,
    ShapeError,
    describe,
    flag,
    listed,
)
from graphgrad.ops.arithmetic import matmul as _matmul
from graphgrad.ops.arithmetic import mul as _mul
from graphgrad.ops.compositions import copy as _copy
from graphgrad.ops.contraction import cross as _cross
from graphgrad.ops.contraction import outer as _outer
from graphgrad.ops.contraction import tensordot as _tensordot
from graphgrad.ops.decompositions import (
    EighResult,
    QRResult,
    SVDResult,
    eigh,
    eigvalsh,
    lstsq,
    qr,
    svd,
    svdvals,
)
from graphgrad.ops.diagonals import diagonal as _diagonal
from graphgrad.ops.diagonals import trace as _trace
from graphgrad.ops.elementwise import abs as _abs
from graphgrad.ops.elementwise import where as _where
from graphgrad.ops.linalg import (
    SlogdetResult,
    _matrices,
    _not_converged,
    _numbers,
    cholesky,
    det,
    inv,
    pinv,
    slogdet,
    solve,
)
from graphgrad.ops.reductions import max as _max
from graphgrad.ops.reductions import min as _min
from graphgrad.ops.reductions import norm as _norm
from graphgrad.ops.reductions import normalize_axis
from graphgrad.ops.reductions import sum as _sum
from graphgrad.ops.shape import reshape as _reshape
from graphgrad.ops.shape import swapaxes as _swapaxes
from graphgrad.ops.shape import transpose as _transpose
from graphgrad.tensor import Tensor, _constant, float_type_of

__all__ = [
    "EighResult", "LinAlgError", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "cond",
    "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "lstsq", "matmul", "matrix_norm",
    "matrix_power", "matrix_rank", "matrix_transpose", "multi_dot", "outer", "pinv", "qr",
    "slogdet", "solve", "svd", "svdvals", "tensordot", "tensorinv", "tensorsolve", "trace",
    "vecdot", "vector_norm",
]


def _checked(x: Any, what: str, op: str, least: int = 0) -> Any:
    """x as given once it holds numbers (a Tensor stays one), with at least ``least`` axes."""
    data, shown = _numbers(x, what, op)
    if data.ndim < least:
        raise ShapeError(f"{op} of {describe(shown)}: {what} must have at least {least} axes "
                         f"(matrices in its last two), not {data.ndim}.")
    return x if isinstance(x, Tensor) else data


def vector_norm(x: Any, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Tensor:
    """The norm of x's vectors along ``axis`` (None: all of x as one vector), as numpy 2's
    np.linalg.vector_norm: ord 2 (gg.norm), 1 (the sum of |x|), inf (the largest |x|), -inf
    (the smallest), any other p (sum(|x|**p)**(1/p), whose gradient is 0 at a zero vector,
    and at a zero element for p < 1, where the slope is infinite, as PyTorch's), or 0 (the
    count of nonzero elements, a constant)."""
    x = _checked(x, "x", "linalg.vector_norm")
    keepdims = flag(keepdims, "keepdims", "linalg.vector_norm")
    if axis is None and keepdims:  # numpy keeps every axis as 1
        return np.reshape(vector_norm(x, None, False, ord), (1,) * np.ndim(x))
    if isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool) and ord == ord:
        if ord == 2:
            return _norm(x, axis=axis, keepdims=keepdims)
        if ord == 1:
            return _sum(_abs(x), axis=axis, keepdims=keepdims)
        if ord in (np.inf, -np.inf):
            return (_largest if ord > 0 else _min)(_abs(x), axis=axis, keepdims=keepdims)
        data = x.data if isinstance(x, Tensor) else x
        if ord == 0:
            count = np.sum(data != 0, axis=axis, keepdims=keepdims)
            return _constant(count.astype(data.dtype if data.dtype.kind == "f" else np.float64))
        if ord > 0:
            return _p_norm(x, float(ord), axis, keepdims)
        return _sum(_abs(x) ** float(ord), axis=axis, keepdims=keepdims) ** (1.0 / ord)
    raise ArgumentError(f"linalg.vector_norm of {describe(x)}: ord must be a number (2, 1, "
                        f"inf, -inf, 0, or any p), got {ord!r}")


def _p_norm(x: Any, p: float, axis: Any, keepdims: bool) -> Tensor:
    """(sum |x|**p)**(1/p) for p > 0 (not 1 or 2), with PyTorch's gradient of 0 where the
    slope is infinite: at a zero element for p < 1 (|x|**p) and at a zero vector (the root of
    a sum of 0). Each power is taken of 1 in place of 0 and masked back to 0, so no 0 * inf
    reaches the gradient as NaN, in first or second order; the values are the plain ones."""
    a = _abs(x)
    nonzero = a.data != 0
    powers = _where(nonzero, _where(nonzero, a, 1.0) ** p, 0.0)
    total = _sum(powers, axis=axis, keepdims=keepdims)
    filled = total.data != 0  # NaN too, which passes on
    return _where(filled, _where(filled, total, 1.0) ** (1.0 / p), 0.0)


def _largest(x: Any, axis: Any, keepdims: bool = False) -> Tensor:
    """The max of x >= 0 (|x|, sums of |x|, singular values) over ``axis``, and 0 over no
    numbers, numpy's norm there (the max of none has no value): the sum, on the graph."""
    shape = np.shape(x)
    if 0 in (shape[a] for a in normalize_axis(axis, len(shape))):
        return _sum(x, axis=axis, keepdims=keepdims)
    return _max(x, axis=axis, keepdims=keepdims)


def matrix_norm(x: Any, keepdims: bool = False, ord: Any = "fro") -> Tensor:
    """The norm of each matrix of x (..., m, n), as numpy 2's np.linalg.matrix_norm: "fro"
    (the 2-norm of its entries), "nuc" (the sum of its singular values), 2 and -2 (the
    largest and smallest), 1 and -1 (the largest and smallest sum of |x| of a column), inf
    and -inf (of a row). The singular-value norms' gradient needs distinct singular values
    only in their second derivative."""
    x = _checked(x, "x", "linalg.matrix_norm", least=2)
    keepdims = flag(keepdims, "keepdims", "linalg.matrix_norm")
    if isinstance(ord, str) and ord in ("fro", "nuc"):
        y = _norm(x, axis=(-2, -1)) if ord == "fro" else _sum(svdvals(x), axis=-1)
    elif isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool) and ord in (
            2, -2, 1, -1, np.inf, -np.inf):
        if abs(ord) == 2:
            s = svdvals(x)  # descending
            y = s[..., 0 if ord > 0 else -1] if s.shape[-1] else _largest(s, axis=-1)
        else:
            sums = _sum(_abs(x), axis=-2 if abs(ord) == 1 else -1)
            y = (_largest if ord > 0 else _min)(sums, axis=-1)
    else:
        raise ArgumentError(f"linalg.matrix_norm of {describe(x)}: ord must be 'fro', 'nuc', "
                            f"2, -2, 1, -1, inf or -inf, got {ord!r}")
    return y[..., None, None] if keepdims else y


def multi_dot(arrays: Any) -> Tensor:
    """The product of the matrices of ``arrays`` (2-D, the first and last may be vectors), as
    np.linalg.multi_dot: the matmuls in the order of fewest multiplications (numpy's), which
    changes only the rounding."""
    items = listed(arrays, "linalg.multi_dot", "a list of two or more matrices")
    if len(items) < 2:
        raise ArgumentError(f"linalg.multi_dot: arrays must hold two or more matrices, got "
                            f"{len(items)}")
    items = [_checked(a, f"arrays[{i}]", "linalg.multi_dot") for i, a in enumerate(items)]
    given = ", ".join(str(np.shape(a)) for a in items)  # ``arrays`` may be read once only
    first, last = np.ndim(items[0]) == 1, np.ndim(items[-1]) == 1
    if first:
        items[0] = items[0][None, :]
    if last:
        items[-1] = items[-1][:, None]
    shapes = [np.shape(a) for a in items]
    if any(len(s) != 2 for s in shapes) or any(
            a[1] != b[0] for a, b in zip(shapes, shapes[1:])):
        raise ShapeError(
            f"linalg.multi_dot of matrices of shapes {given}: each must be 2-D (the first and "
            "last may be vectors), each one's columns as many as the next one's rows.")
    result = _chain(items, _order([shapes[0][0]] + [s[1] for s in shapes]), 0, len(items) - 1)
    if first:
        result = result[0]
    return result[..., 0] if last else result


def _order(sizes: list[int]) -> list[list[int]]:
    """Where to split each chain i..j of matrices (sizes[i], sizes[i + 1]) for the fewest
    multiplications: the textbook dynamic programme, numpy's."""
    n = len(sizes) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k)
                for k in range(i, j))
    return split


def _chain(items: list, split: list[list[int]], i: int, j: int) -> Any:
    if i == j:
        return items[i]
    k = split[i][j]
    return _matmul(_chain(items, split, i, k), _chain(items, split, k + 1, j))


def matrix_transpose(x: Any) -> Tensor:
    """Each matrix of x (..., m, n) transposed, (..., n, m), as numpy 2's
    np.linalg.matrix_transpose (x.mT of PyTorch)."""
    return _swapaxes(_checked(x, "x", "linalg.matrix_transpose", least=2), -1, -2)


def diagonal(x: Any, offset: int = 0) -> Tensor:
    """The diagonal of each matrix of x (..., m, n), as np.linalg.diagonal: gg.diagonal over
    the last two axes (numpy's np.diagonal takes the first two)."""
    return _diagonal(_checked(x, "x", "linalg.diagonal", least=2), offset, -2, -1)


def trace(x: Any, offset: int = 0, dtype: Any = None) -> Tensor:
    """The trace of each matrix of x (..., m, n), as np.linalg.trace: gg.trace over the last
    two axes (numpy's np.trace takes the first two). dtype casts x first."""
    x = _checked(x, "x", "linalg.trace", least=2)
    return _trace(x if dtype is None else x.astype(dtype) if isinstance(x, Tensor)
                  else x.astype(dtype), offset, -2, -1)


def outer(x1: Any, x2: Any) -> Tensor:
    """The outer product (m, n) of two vectors (m,) and (n,), as np.linalg.outer, which takes
    vectors only (gg.outer flattens its inputs, as np.outer)."""
    x1, x2 = _checked(x1, "x1", "linalg.outer"), _checked(x2, "x2", "linalg.outer")
    if np.ndim(x1) != 1 or np.ndim(x2) != 1:
        raise ShapeError(f"linalg.outer of {describe(x1)} and {describe(x2)}: both must be "
                         "vectors, as numpy 2's np.linalg.outer takes (gg.outer flattens).")
    return _outer(x1, x2)


def vecdot(x1: Any, x2: Any, axis: int = -1) -> Tensor:
    """The dot products of x1's and x2's vectors along ``axis``, the rest broadcast, as
    np.linalg.vecdot: sum(x1 * x2, axis) of real numbers."""
    x1, x2 = _checked(x1, "x1", "linalg.vecdot"), _checked(x2, "x2", "linalg.vecdot")
    return _sum(_mul(x1, x2), axis=axis)


def cross(x1: Any, x2: Any, axis: int = -1) -> Tensor:
    """The cross products of x1's and x2's 3-vectors along ``axis``, as np.linalg.cross, which
    takes 3-vectors only (gg.cross, as np.cross, takes 2-vectors too)."""
    x1, x2 = _checked(x1, "x1", "linalg.cross"), _checked(x2, "x2", "linalg.cross")
    for x in (x1, x2):
        if np.ndim(x) == 0 or np.shape(x)[axis] != 3:
            raise ShapeError(f"linalg.cross of {describe(x1)} and {describe(x2)}: both must hold "
                             f"3-vectors along axis {axis}, as np.linalg.cross takes (gg.cross "
                             "takes 2-vectors too).")
    return _cross(x1, x2, axis=axis)


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Tensor:
    """gg.tensordot, as np.linalg.tensordot: the last ``axes`` axes of x1 against the first of
    x2 (or the pairs of axes given)."""
    x1, x2 = _checked(x1, "x1", "linalg.tensordot"), _checked(x2, "x2", "linalg.tensordot")
    return _tensordot(x1, x2, axes)


def matmul(x1: Any, x2: Any) -> Tensor:
    """x1 @ x2, as np.linalg.matmul."""
    x1, x2 = _checked(x1, "x1", "linalg.matmul"), _checked(x2, "x2", "linalg.matmul")
    return _matmul(x1, x2)


def _within(op: str, exc: LinAlgError, why: str) -> LinAlgError:
    """An inner op's `LinAlgError` (inv's singular matrix) as the function called raises it."""
    return LinAlgError(f"{op} {why}: {exc}")


def matrix_power(a: Any, n: Any) -> Tensor:
    """a (m, m) times itself n times, or each matrix of a stack (..., m, m), as
    np.linalg.matrix_power and torch.linalg.matrix_power: numpy's matmuls by repeated squaring
    (a^5 = a (a^2)^2), so its values; n = 0 gives the identity, a constant, and n < 0 the
    power -n of inv(a) (a singular a raises `LinAlgError`). The gradient is the matmuls' (and
    the inverse's)."""
    data, shown = _matrices(a, "linalg.matrix_power")
    try:
        n = operator.index(n)
    except TypeError:
        raise GraphgradTypeError(f"linalg.matrix_power of {describe(shown)}: n must be an "
                                 f"integer, as numpy's, got {n!r}") from None
    a = a if isinstance(a, Tensor) else data
    if n == 0:  # numpy's identity of a's dtype: no gradient, a does not enter it
        return _constant(np.broadcast_to(np.eye(data.shape[-1], dtype=float_type_of(data)),
                                         data.shape).copy())
    if n < 0:
        try:
            a = inv(a)
        except LinAlgError as exc:
            raise _within("linalg.matrix_power", exc, f"with n = {n} inverts a") from None
        n = -n
    elif n == 1:
        return _copy(a)  # numpy's copy; a node, as a power is a new tensor
    if n == 1:
        return a
    if n == 2:
        return _matmul(a, a)
    if n == 3:
        return _matmul(_matmul(a, a), a)
    z = result = None  # numpy's loop: the squares a^(2^k), the result times those of n's bits
    while n > 0:
        z = a if z is None else _matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else _matmul(result, z)
    return result


_COND_NORMS = ("fro", "nuc")
_COND_ORDS = (2, -2, 1, -1, np.inf, -np.inf)


def cond(x: Any, p: Any = None) -> Tensor:
    """The condition number of x (m, n), or of each matrix of a stack (..., m, n), as
    np.linalg.cond: p None or 2 the ratio of x's largest singular value to its smallest (-2:
    the inverse ratio), of any matrix; "fro", "nuc", 1, -1, inf and -inf norm(x, p) *
    norm(inv(x), p), of square matrices. A singular matrix's (a smallest singular value of
    exactly 0, or no inverse) is inf, numpy's and PyTorch's, a constant with a zero gradient
    (PyTorch's backward through a stack holding one fails); the others' gradient is that of
    the composition (svdvals' needs distinct singular values for the second derivative)."""
    data, shown = _numbers(x, "x", "linalg.cond")
    number = isinstance(p, (int, float, np.number)) and not isinstance(p, bool)
    if not (p is None or isinstance(p, str) and p in _COND_NORMS or number and p in _COND_ORDS):
        raise ArgumentError(f"linalg.cond of {describe(shown)}: p must be None, 2, -2, 'fro', "
                            f"'nuc', 1, -1, inf or -inf, as numpy's, got {p!r}")
    if data.ndim >= 2 and data.size == 0 and data.shape[-2] * data.shape[-1] == 0:
        raise LinAlgError(f"linalg.cond of {describe(shown)}: the condition number of an "
                          "empty matrix has no value (numpy refuses it too)")
    ratio = p is None or number and abs(p) == 2
    _matrices(x, "linalg.cond", "x", square=not ratio)
    x = x if isinstance(x, Tensor) else data
    if ratio:
        try:
            s = svdvals(x)  # descending
        except LinAlgError as exc:
            raise _within("linalg.cond", exc, "takes x's singular values") from None
        top, bottom = s[..., 0], s[..., -1]
        over, under = (bottom, top) if p == -2 else (top, bottom)
        infinite = under.data == 0  # numpy's s / 0, and 0 / 0 of a zero matrix, both inf
        if infinite.any():
            under = _where(infinite, np.ones((), under.dtype), under)
        r = over / under
    else:
        infinite = np.zeros(data.shape[:-2], bool)
        try:
            inverse = inv(x)
        except LinAlgError:  # numpy's inf for the singular matrices, the others' values
            infinite = np.linalg.slogdet(data)[0] == 0
            if not infinite.any():
                raise
            eye = np.eye(data.shape[-1], dtype=float_type_of(data))
            inverse = inv(_where(infinite[..., None, None], eye, x))
        r = matrix_norm(x, ord=p) * matrix_norm(inverse, ord=p)
    if infinite.any():
        r = _where(infinite, np.full((), np.inf, r.dtype), r)
    return r


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *, rtol: Any = None
                ) -> Tensor:
    """The rank of A (m, n), or of each matrix of a stack (..., m, n), as np.linalg.matrix_rank:
    the number of singular values above ``tol`` (None: ``rtol`` times the largest, rtol None
    max(m, n) eps; hermitian=True takes |eigenvalues| of a symmetric A); of a vector or a
    number, 1 unless all of it is 0. A count, numpy's integers, a constant (no gradient), as
    np.argmax's indices."""
    data, shown = _numbers(A, "A", "linalg.matrix_rank")
    hermitian = flag(hermitian, "hermitian", "linalg.matrix_rank")
    if tol is not None and rtol is not None:
        raise ArgumentError("linalg.matrix_rank: give tol or rtol, not both (as numpy)")
    tol, rtol = (v.data if isinstance(v, Tensor) else v for v in (tol, rtol))
    try:
        rank = np.linalg.matrix_rank(data, tol, hermitian, rtol=rtol)
    except np.linalg.LinAlgError as exc:
        raise _not_converged("linalg.matrix_rank", shown, data, exc) from None
    return _constant(np.asarray(rank))


def tensorinv(a: Any, ind: int = 2) -> Tensor:
    """The inverse of a tensor a (i_1, ..., i_ind, j_1, ...) under tensordot over ``ind``
    axes, shape (j_1, ..., i_1, ..., i_ind), as np.linalg.tensorinv: inv of a reshaped to a
    square matrix (prod(i), prod(j)), prod(i) = prod(j), reshaped back. The gradient is
    inv's."""
    data, shown = _numbers(a, "a", "linalg.tensorinv")
    if not isinstance(ind, (int, np.integer)) or isinstance(ind, bool) or ind <= 0:
        raise ArgumentError(f"linalg.tensorinv of {describe(shown)}: ind must be an integer "
                            f"> 0, the number of a's first axes to invert over, got {ind!r}")
    rows, columns = data.shape[:ind], data.shape[ind:]
    size = int(np.prod(columns))
    if size == 0 or size * size != data.size:
        raise ShapeError(
            f"linalg.tensorinv of {describe(shown)}, ind={ind}: a's first {ind} axes {rows} "
            f"and the others {columns} must hold as many elements, as rows and columns of a "
            "square matrix; choose ind so.")
    a = a if isinstance(a, Tensor) else data
    try:
        inverse = inv(_reshape(a, (size, size)))
    except LinAlgError as exc:
        raise _within("linalg.tensorinv", exc, f"inverts a as a {size} x {size} matrix") from None
    return _reshape(inverse, columns + rows)


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Tensor:
    """x with tensordot(a, x, x.ndim) = b, as np.linalg.tensorsolve: x takes a's last axes
    (a.shape[b.ndim:], after ``axes`` of a are moved to its end), b its first; solve of a
    reshaped to a square matrix and b to a vector, x reshaped back. Gradients flow to both a
    and b, solve's."""
    data, shown = _numbers(a, "a", "linalg.tensorsolve")
    b_data, b_shown = _numbers(b, "b", "linalg.tensorsolve")
    a = a if isinstance(a, Tensor) else data
    an = data.ndim
    if axes is not None:  # numpy's order: each of axes taken out and put at the end
        order = list(range(an))
        try:
            for k in axes:
                order.remove(k)
                order.insert(an, k)
        except (ValueError, TypeError):
            raise ArgumentError(f"linalg.tensorsolve of {describe(shown)}: axes must be "
                                f"distinct axes of a, 0 to {an - 1}, got {axes!r}") from None
        a = _transpose(a, order)
    shape = np.shape(a)
    solution = shape[-(an - b_data.ndim):]
    size = int(np.prod(solution))
    if size * size != data.size or b_data.size != size:
        raise LinAlgError(
            f"linalg.tensorsolve of a = {describe(shown)} and b = {describe(b_shown)}: a's "
            f"first axes {shape[:len(shape) - len(solution)]} must hold as many elements as "
            f"its last {solution} (x's shape) and as b, as rows and columns of a square "
            "matrix and its right-hand side (numpy's prod(a.shape[b.ndim:]) == "
            "prod(a.shape[:b.ndim]))")
    b = b if isinstance(b, Tensor) else b_data
    try:
        x = solve(_reshape(a, (size, size)), _reshape(b, (size,)))
    except LinAlgError as exc:
        raise _within("linalg.tensorsolve", exc, f"solves a as a {size} x {size} matrix"
                      ) from None
    return _reshape(x, solution)
