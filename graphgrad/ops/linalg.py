"""Linear algebra of square matrices, as numpy's np.linalg and PyTorch's torch.linalg: inv,
solve, det, slogdet, cholesky, each of a matrix A (n, n) or of a stack of them (..., n, n),
the matrices in the last two axes. The public names are gg.linalg's (`graphgrad.linalg`).

Backward bodies use these ops again (the inverse in det's gradient, solve in solve's), through
numpy's np.linalg functions, which run them on Tensors: second derivatives come from the same
code. Depends on `function`, `ops.broadcasting`, `errors`.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    LinAlgError,
    ShapeError,
    describe,
    flag,
    numbers_and_shown,
    real_number,
)
from graphgrad.function import Function
from graphgrad.ops.arithmetic import _same_float
from graphgrad.ops.broadcasting import unbroadcast
from graphgrad.tensor import Tensor, _constant


def _mT(x: Any) -> Any:
    """Each matrix of x (..., n, n) transposed: an array, or a Tensor's Swapaxes."""
    return np.swapaxes(x, -1, -2)


def _values(x: Any) -> np.ndarray:
    """The array of a saved value, an array or (under create_graph) a Tensor."""
    return x if isinstance(x, np.ndarray) else x.data


def _input(ctx: Function, i: int, array: np.ndarray) -> Any:
    """What messages name input i by: the tensor, when the op runs on tensors."""
    return ctx.inputs[i] if ctx.inputs else array


class Inv(Function):
    """Y = A^-1 of each matrix of A (..., n, n);  dA = -Y^T dY Y^T"""

    @staticmethod
    def forward(ctx, a):
        try:
            y = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise _singular("linalg.inv", _input(ctx, 0, a), a) from None
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved
        yt = _mT(y)
        return -(yt @ grad @ yt)


class Solve(Function):
    """X = A^-1 B, the solution of A X = B, A (..., n, n), B (..., n, k) or a vector (n,)
    (numpy 2's rule: only a 1-D b is a vector), the stacks broadcast;
    dB = A^-T dX (a solve again), dA = -dB X^T"""

    @staticmethod
    def forward(ctx, a, b):
        if a.dtype is not b.dtype:
            a, b = _same_float(a, b)
        ctx.shapes = (a.shape, b.shape)
        try:
            x = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise _singular("linalg.solve", _input(ctx, 0, a), a) from None
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved
        a_shape, b_shape = ctx.shapes
        if len(b_shape) == 1:  # a vector: the matrices of one column
            grad, x = grad[..., None], x[..., None]
        db = np.linalg.solve(_mT(a), grad)
        need_a, need_b = ctx.needs_input_grad
        da = unbroadcast(-(db @ _mT(x)), a_shape) if need_a else None
        if need_b:
            db = unbroadcast(db[..., 0] if len(b_shape) == 1 else db, b_shape)
        return da, (db if need_b else None)


class Det(Function):
    """y = det(A) of each matrix of A (..., n, n);  dA = dy * adj(A)^T, the cofactors:
    dy * y * A^-T where A is invertible, and at a singular A too (a polynomial's gradient)"""

    @staticmethod
    def forward(ctx, a):
        y = np.asarray(np.linalg.det(a))
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        a, y = ctx.saved
        singular = not np.all(_values(y))
        if type(grad) is np.ndarray:
            cofactors = _cofactors(a) if singular else y[..., None, None] * _mT(np.linalg.inv(a))
            return grad[..., None, None] * cofactors
        if singular:  # the cofactors by the SVD below have no graph of their own
            raise _singular("the second derivative of linalg.det", ctx.inputs[0], _values(a),
                            tip=" The first derivative, the cofactors, is given at a singular "
                            "matrix too: take gradients without create_graph=True there, or "
                            "move A off the singular set (A + 1e-6 * np.eye(n)).")
        return (grad * y)[..., None, None] * _mT(np.linalg.inv(a))


def _cofactors(a: np.ndarray) -> np.ndarray:
    """The matrix of cofactors of each matrix of ``a`` (..., n, n), adj(A)^T, which is
    det(A) A^-T where A is invertible, exact at a singular A as well: with A = U S V^T,
    det(U) det(V^T) U diag(the product of the other singular values) V^T."""
    u, s, vh = np.linalg.svd(a)
    ones = np.ones_like(s[..., :1])
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    signs = np.linalg.det(u) * np.linalg.det(vh)
    return np.asarray(signs)[..., None, None] * (u * (before * after)[..., None, :]) @ vh


class Slogdet(Function):
    """(sign, log|det A|) of each matrix of A (..., n, n); d(log|det A|)/dA = A^-T (the
    sign is piecewise constant: no gradient). At a singular A, log|det A| = -inf and has no
    gradient: backward says so."""

    @staticmethod
    def forward(ctx, a):
        sign, logabsdet = np.linalg.slogdet(a)
        ctx.singular = not np.all(sign)
        ctx.save_for_backward(a)
        return np.asarray(sign), np.asarray(logabsdet)

    @staticmethod
    def backward(ctx, dsign, dlogabsdet):
        (a,) = ctx.saved
        if ctx.singular:
            raise _singular("the gradient of linalg.slogdet", ctx.inputs[0], _values(a),
                            tip=" There log|det A| is -inf, with no derivative (det(A) has "
                            "one: gg.linalg.det).")
        return dlogabsdet[..., None, None] * _mT(np.linalg.inv(a))


class Cholesky(Function):
    """L, lower triangular with L L^T = A (..., n, n), symmetric positive definite, read from
    its lower triangle as numpy reads it (its upper triangle with ``upper``, giving U = L^T);
    with P = Phi(L^T dL) and S = L^-T P L^-1, dA = Phi(S + S^T), Phi keeping the lower
    triangle and half the diagonal (Murray 2016), so its upper triangle, unread, gets 0"""

    @staticmethod
    def forward(ctx, a, upper):
        try:
            y = np.linalg.cholesky(a, upper=upper)
        except np.linalg.LinAlgError:
            raise _not_positive_definite(_input(ctx, 0, a), a, upper) from None
        ctx.upper = upper
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (l,) = ctx.saved
        if ctx.upper:  # U = L^T of A^T: the gradient of the lower case, transposed
            l, grad = _mT(l), _mT(grad)
        phi = _phi(l.shape[-1], l.dtype)
        l_inv = np.linalg.inv(l)
        s = _mT(l_inv) @ ((_mT(l) @ grad) * phi) @ l_inv
        da = (s + _mT(s)) * phi
        return _mT(da) if ctx.upper else da


class Pinv(Function):
    """X = A^+ of each matrix of A (..., m, n), X (..., n, m), its singular values below
    rtol times the largest taken as 0; at a constant rank (Golub & Pereyra 1973):
    dA = -X^T dX X^T + (I - A X) dX^T X X^T + X^T X dX^T (I - X A)"""

    @staticmethod
    def forward(ctx, a, rtol):
        try:
            x = np.linalg.pinv(a, rtol=rtol)
        except np.linalg.LinAlgError as exc:
            raise _not_converged("linalg.pinv", _input(ctx, 0, a), a, exc) from None
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved
        xt, gt = _mT(x), _mT(grad)
        outside = gt @ (x @ xt)  # (I - A X) dX^T X X^T, the part outside A's column space
        beside = xt @ (x @ gt)  # X^T X dX^T (I - X A), outside A's row space
        return (-(xt @ grad @ xt) + (outside - a @ (x @ outside))
                + (beside - (beside @ x) @ a))


def _phi(n: int, dtype: Any) -> np.ndarray:
    """The mask of Phi: 1 below the diagonal, 1/2 on it, 0 above."""
    return np.tril(np.ones((n, n), dtype)) - np.eye(n, dtype=dtype) / 2


# -- errors ------------------------------------------------------------------------------------
def _singular(what: str, shown: Any, a: np.ndarray, tip: str = "") -> LinAlgError:
    """The error of a singular matrix: which of the stack, and what to do."""
    which = ""
    if a.ndim > 2:
        bad = np.argwhere(np.linalg.slogdet(a)[0] == 0)
        if len(bad):
            first = ", ".join(str(int(i)) for i in bad[0])
            which = (f" (matrix [{first}] of the stack, {len(bad)} of "
                     f"{int(np.prod(a.shape[:-2]))} singular)")
    return LinAlgError(
        f"{what} of {describe(shown)}: the matrix is singular{which}, with no inverse (its "
        "rows are linearly dependent: a repeated or constant column of features, say)."
        + (tip or " Remove the dependent rows, or add a small multiple of the identity "
           "(A + 1e-6 * np.eye(n), as ridge regression does)."))


def _not_converged(what: str, shown: Any, a: np.ndarray, exc: Exception) -> LinAlgError:
    """numpy's "SVD did not converge" (eigenvalues, ...), whose cause is nearly always a NaN or
    an inf in the matrix: where it is, and how to find the op that made it."""
    bad = np.argwhere(~np.isfinite(a))
    if not len(bad):
        return LinAlgError(f"{what} of {describe(shown)}: numpy's {exc} (LAPACK's iterations, "
                           "on finite values: try the matrix scaled, or in float64)")
    at = ", ".join(str(int(i)) for i in bad[0])
    value = a[tuple(bad[0])]
    return LinAlgError(
        f"{what} of {describe(shown)}: it holds {'NaN' if np.isnan(value) else value} (at "
        f"[{at}]{f', {len(bad)} in all' if len(bad) > 1 else ''}), and numpy's {exc}. Fill "
        "missing data first (gg.nan_to_num, or drop the rows); if a step overflowed or divided "
        "by 0, gg.detect_anomaly() names the op that made the first NaN or inf.")


def _not_positive_definite(shown: Any, a: np.ndarray, upper: bool) -> LinAlgError:
    """The error of a matrix with no Cholesky factor: which of the stack (each factored alone,
    as LAPACK stops at the first), and what to do."""
    triangle = "upper" if upper else "lower"
    which = "the matrix is"
    if a.ndim > 2:
        flat = a.reshape(-1, *a.shape[-2:])
        bad = [i for i, matrix in enumerate(flat) if not _factors(matrix, upper)]
        if bad:
            first = ", ".join(str(int(i)) for i in np.unravel_index(bad[0], a.shape[:-2]))
            which = f"matrix [{first}] of the stack ({len(bad)} of {len(flat)}) is"
    return LinAlgError(
        f"linalg.cholesky of {describe(shown)}: {which} not positive definite (read from "
        f"its {triangle} triangle, as a symmetric matrix), so it has no Cholesky factor. A "
        "covariance or kernel matrix is often so by rounding: add a small multiple of the "
        "identity to its diagonal (A + 1e-6 * np.eye(n)); A = M @ M.T + eps * I is always "
        "positive definite.")


def _factors(matrix: np.ndarray, upper: bool) -> bool:
    """Whether numpy's cholesky factors this one matrix."""
    try:
        np.linalg.cholesky(matrix, upper=upper)
    except np.linalg.LinAlgError:
        return False
    return True


def _numbers(x: Any, what: str, op: str) -> tuple[np.ndarray, Any]:
    """`numbers_and_shown`, refusing float16, which numpy's linear algebra does not take."""
    data, shown = numbers_and_shown(x, what, op)
    if data.dtype == np.float16:
        raise GraphgradTypeError(
            f"{op} of {describe(shown)}: numpy's linear algebra takes float32 and float64, not "
            f"float16; give {what}.astype(np.float32) (and cast the result back if need be)")
    return data, shown


def _matrices(a: Any, op: str, what: str = "a", square: bool = True
              ) -> tuple[np.ndarray, Any]:
    """a's array and what messages name it by, or a `LinAlgError` (numpy's class too) unless
    it is a square matrix or a stack of them (any matrix, ``square=False``)."""
    data, shown = _numbers(a, what, op)
    if data.ndim < 2 and not square:
        got = "a number" if data.ndim == 0 else "a vector"
        raise LinAlgError(f"{op} of {describe(shown)}: {what} must be a matrix (m, n), or a "
                          f"stack of them (..., m, n) in its last two axes; it holds {got}.")
    if square and (data.ndim < 2 or data.shape[-1] != data.shape[-2]):
        got = ("a number" if data.ndim == 0 else "a vector" if data.ndim == 1
               else f"{data.shape[-2]} x {data.shape[-1]} matrices")
        raise LinAlgError(
            f"{op} of {describe(shown)}: {what} must be a square matrix (n, n), or a stack of "
            f"them (..., n, n) in its last two axes; it holds {got}."
            + (" For a least-squares fit of a tall matrix, solve the normal equations: "
               "gg.linalg.solve(A.T @ A, A.T @ b)." if op == "linalg.solve" and data.ndim > 1
               else ""))
    return data, shown


# -- the public functions ----------------------------------------------------------------------
def inv(a: Any) -> Tensor:
    """The inverse of a (n, n), or of each matrix of a stack (..., n, n), as np.linalg.inv.
    A singular matrix raises `LinAlgError`; a nearly singular one gives large values, as in
    numpy. The gradient is -A^-T dY A^-T. To apply the inverse to b, gg.linalg.solve(a, b)
    is faster and more accurate than inv(a) @ b."""
    _matrices(a, "linalg.inv")
    return Inv.apply(a)


def solve(a: Any, b: Any) -> Tensor:
    """x with a @ x = b, as np.linalg.solve: a (..., n, n), b (..., n, k) gives x (..., n, k),
    the stacks broadcast; a 1-D b (n,) is one vector, giving x (..., n) (numpy 2's rule: b
    (m, n) is a matrix, not m vectors; write b[..., None] and take x[..., 0] for a stack of
    vectors). Gradients flow to both a and b."""
    data, shown = _matrices(a, "linalg.solve")
    b_data, b_shown = _numbers(b, "b", "linalg.solve")
    n = data.shape[-1]
    vector = b_data.ndim == 1
    rows = b_data.shape[0] if vector else b_data.shape[-2] if b_data.ndim > 1 else None
    stacks = None
    if rows == n and not vector:
        try:
            stacks = np.broadcast_shapes(data.shape[:-2], b_data.shape[:-2])
        except ValueError:
            stacks = None
    if rows != n or (not vector and stacks is None):
        read = ("a number" if b_data.ndim == 0 else f"one vector of {rows}" if vector
                else f"matrices of {rows} rows" if rows != n
                else f"a stack {b_data.shape[:-2]} of matrices, which does not broadcast with "
                     f"a's {data.shape[:-2]}")
        raise ShapeError(
            f"linalg.solve of a = {describe(shown)} and b = {describe(b_shown)}: b must be a "
            f"vector (n,) or matrices (..., n, k) with n = {n}, their stack broadcasting with "
            f"a's; b is read as {read}. A 1-D b alone is a vector (numpy 2's rule): for a "
            "stack of vectors (..., n), give b[..., None] and take x[..., 0].")
    return Solve.apply(a, b)


def det(a: Any) -> Tensor:
    """The determinant of a (n, n), or of each matrix of a stack (..., n, n), as
    np.linalg.det. The gradient is the matrix of cofactors, dy det(A) A^-T, and exact at a
    singular matrix too (0 for a rank below n - 1; PyTorch 2 gives 0 for any singular
    matrix, its cofactors being nonzero at rank n - 1); a second derivative
    (create_graph=True) at a singular matrix is refused. For a log-likelihood, slogdet
    neither over- nor underflows."""
    _matrices(a, "linalg.det")
    return Det.apply(a)


class SlogdetResult(NamedTuple):
    """numpy's and PyTorch's pair: det(A) = sign * exp(logabsdet)."""

    sign: Tensor
    logabsdet: Tensor


def slogdet(a: Any) -> SlogdetResult:
    """(sign, logabsdet) of a (n, n), or of each matrix of a stack (..., n, n), as
    np.linalg.slogdet: det(a) = sign * exp(logabsdet), with no overflow (a Gaussian's
    log-likelihood, -0.5 logdet(Sigma)). sign is a constant tensor (0 for a singular matrix,
    whose logabsdet is -inf); logabsdet's gradient is A^-T, refused at a singular matrix."""
    _matrices(a, "linalg.slogdet")
    sign, logabsdet = Slogdet.apply(a)
    return SlogdetResult(_constant(sign.data), logabsdet)


def cholesky(a: Any, upper: bool = False) -> Tensor:
    """L, lower triangular, with L @ L.T = a, of a symmetric positive-definite a (n, n) or of
    each matrix of a stack (..., n, n), as np.linalg.cholesky: a is read from its lower
    triangle (``upper=True``: from its upper one, giving U = L.T). A matrix that is not
    positive definite raises `LinAlgError`. The gradient is that of the triangle read (0 on
    the other); PyTorch gives its symmetric part, the same gradient for an a built
    symmetric (M @ M.T, a kernel matrix)."""
    _matrices(a, "linalg.cholesky")
    return Cholesky.apply(a, upper=flag(upper, "upper", "linalg.cholesky"))


_UNSET: Any = object()  # numpy's rtol unset, which differs from rtol=None


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, *, rtol: Any = _UNSET) -> Tensor:
    """The Moore-Penrose pseudo-inverse (..., n, m) of a (m, n) or of each matrix of a stack
    (..., m, n), as np.linalg.pinv: from the SVD, singular values at most ``rtol`` times the
    largest taken as 0 (numpy's cut-offs: ``rcond``, its older name, the same; 1e-15 when
    neither is given, max(m, n) eps for rtol=None). For a of full column rank it is
    (A^T A)^-1 A^T, the least-squares solver. The gradient is that at a constant rank (Golub
    & Pereyra; PyTorch's), rank-deficient matrices included: where a singular value crosses
    the cut-off the pseudo-inverse jumps. ``hermitian=True`` (numpy's eigh of a symmetric a)
    has no graphgrad form."""
    data, _ = _matrices(a, "linalg.pinv", square=False)
    if flag(hermitian, "hermitian", "linalg.pinv"):
        raise ArgumentError("linalg.pinv: hermitian=True (numpy's route through eigh, reading "
                            "one triangle) has no graphgrad form; leave it False, which gives "
                            "the same pseudo-inverse of a symmetric matrix")
    if rcond is not None and rtol is not _UNSET:
        raise ArgumentError("linalg.pinv: give rtol or rcond (numpy's older name), not both")
    cut = (rcond if rcond is not None else 1e-15 if rtol is _UNSET
           else max(data.shape[-2:]) * np.finfo(data.dtype).eps if rtol is None else rtol)
    return Pinv.apply(a, rtol=real_number(cut, "rtol", "linalg.pinv", lambda v: v >= 0,
                                          "a number >= 0"))
