"""Decompositions of matrices, as numpy's np.linalg and PyTorch's torch.linalg: eigh (and
eigvalsh), svd (and svdvals) and qr of a matrix (m, n) or of a stack of them (..., m, n), and
lstsq on pinv and svdvals. The public names are gg.linalg's (`graphgrad.linalg`).

Backward bodies are written with numpy's operators and np.linalg.solve on the saved outputs, so
under create_graph they record their own graph: second derivatives come from the same code.
Where the eigenvalues (singular values) of a matrix are repeated, their eigenvectors (singular
vectors) are not unique and a loss of them has no gradient: backward raises `LinAlgError`
naming the values, where PyTorch gives inf or NaN (the vectors of the other, distinct values
keep theirs). eigvalsh and svdvals are the first output of eigh and svd, whose first
derivative exists at repeated values too; with no gradient to come (constants, no_grad), they
are numpy's values alone, LAPACK's cheaper route without the vectors. Depends on `function`,
`ops.linalg` (its helpers and pinv), `ops.reductions`, `errors`.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    LinAlgError,
    ShapeError,
    describe,
    flag,
    real_number,
)
from graphgrad.function import Function
from graphgrad.ops.linalg import (
    _input,
    _matrices,
    _mT,
    _not_converged,
    _numbers,
    _phi,
    _values,
    pinv,
)
from graphgrad.ops.reductions import sum as total
from graphgrad.ops.shape import astype
from graphgrad.tensor import Tensor, _constant


def _used(grad: Any) -> bool:
    """Whether an output's gradient is nonzero (an unused output's is zeros)."""
    return bool(np.any(_values(grad)))


def _eye(n: int, like: Any) -> np.ndarray:
    return np.eye(n, dtype=_values(like).dtype)


def _close_pairs(values: np.ndarray, size: int) -> np.ndarray:
    """A mask (..., k, k) of the pairs (i, j) of ``values`` (..., k) equal within the dtype's
    resolution, 8 max(m, n) eps max|values| of each matrix, the diagonal included: LAPACK
    gives a repeated value of a rotated diagonal matrix to within about n eps max|values|."""
    eps = np.finfo(values.dtype).eps
    top = np.abs(values).max(axis=-1, keepdims=True)[..., None] if values.shape[-1] else 0.0
    return np.abs(values[..., None, :] - values[..., :, None]) <= 8 * max(size, 1) * eps * top


def _apart(ctx: Function, what: str, values: np.ndarray, size: int, used: np.ndarray
           ) -> np.ndarray:
    """The mask of the pairs of ``values`` (..., k) equal within the dtype's resolution (the
    diagonal), once checked that no other pair holds a vector the loss uses (``used``
    (..., k), the vectors whose gradient is nonzero): the vectors of a repeated value are any
    basis of their space, and a loss of them has no gradient (even one of V V^T, which has
    one, comes out of the formula as 0 / 0). A pair of vectors the loss does not use adds
    nothing (V^T dV is 0 at it), so the vectors of distinct values keep their gradient beside
    repeated ones (PCA's top eigenvectors of a rank-deficient covariance). Otherwise a
    `LinAlgError` naming the op, its input and the values."""
    close = _close_pairs(values, size)
    pairs = used[..., :, None] | used[..., None, :]
    off = close & ~np.eye(values.shape[-1], dtype=bool) & pairs
    if off.any():
        raise _repeated(what, ctx.inputs[0], values, np.argwhere(off)[0])
    return close.astype(values.dtype)


def _nonzero_along(grad: Any, axis: int) -> np.ndarray:
    """Which vectors of a gradient (..., m, k) are nonzero: its columns (axis -2), or rows of
    one (..., k, n) (axis -1)."""
    return np.any(_values(grad) != 0, axis=axis)


def _repeated(what: str, shown: Any, values: np.ndarray, where: np.ndarray) -> LinAlgError:
    *stack, i, j = (int(w) for w in where)
    matrix = values[tuple(stack)]
    which = f", matrix [{', '.join(map(str, stack))}] of the stack" if stack else ""
    kind, vectors, alone = {
        "eigh": ("eigenvalues", "eigenvectors", "gg.linalg.eigvalsh(A)"),
        "svd": ("singular values", "singular vectors", "gg.linalg.svdvals(A)"),
    }[what]
    return LinAlgError(
        f"the gradient of linalg.{what} of {describe(shown)}: its {kind} {matrix[i]:.6g} and "
        f"{matrix[j]:.6g} are repeated (equal within {matrix.dtype}'s resolution{which}), and "
        f"the {vectors} of a repeated value are not unique (any rotation of them within their "
        f"space is as good), so a loss of the {vectors} has no gradient there. If only the "
        f"{kind} are needed, take {alone}, whose gradient exists at repeated values; "
        "otherwise move the values apart.")


# -- eigh ---------------------------------------------------------------------------------------
class EighResult(NamedTuple):
    """numpy's pair: A = eigenvectors @ diag(eigenvalues) @ eigenvectors.T."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class Eigh(Function):
    """(w, V) of each symmetric matrix of A (..., n, n) read from its lower triangle (upper
    with ``uplo="U"``), A = V diag(w) V^T, w ascending; with F_ij = 1 / (w_j - w_i), 0 on
    the diagonal, G = V (diag(dw) + F * (V^T dV)) V^T, and dA = G + G^T below the diagonal,
    G's diagonal on it, 0 above: the gradient of the triangle read, as Cholesky's"""

    @staticmethod
    def forward(ctx, a, uplo, vectors=True):
        try:
            if not vectors and not ctx.needs_input_grad[0]:
                # eigvalsh with no gradient to come: the values alone, LAPACK's cheaper
                # route (the vectors are only needed by backward)
                return np.linalg.eigvalsh(a, UPLO=uplo)
            w, v = np.linalg.eigh(a, UPLO=uplo)
        except np.linalg.LinAlgError as exc:
            raise _not_converged("linalg.eigh", _input(ctx, 0, a), a, exc) from None
        ctx.uplo = uplo
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, dw, dv):
        w, v = ctx.saved
        n = _values(v).shape[-1]
        vt = _mT(v)
        inner = dw[..., None, :] * _eye(n, v)
        if _used(dv):
            x = vt @ dv
            close = _apart(ctx, "eigh", _values(w), n, _nonzero_along(dv, -2))
            gaps = w[..., None, :] - w[..., :, None]  # w_j - w_i
            inner = inner + x * (1 - close) / (gaps + close)
        g = v @ inner @ vt
        phi = _phi(n, _values(v).dtype)
        return (g + _mT(g)) * (phi if ctx.uplo == "L" else phi.T)


def _uplo(uplo: Any, op: str) -> str:
    if not isinstance(uplo, str) or uplo.upper() not in ("L", "U"):
        raise ArgumentError(f"{op}: UPLO must be 'L' (read the lower triangle, numpy's "
                            f"default) or 'U' (the upper one), got {uplo!r}")
    return uplo.upper()


def eigh(a: Any, UPLO: str = "L") -> EighResult:  # noqa: N803 (numpy's name)
    """(eigenvalues (..., n), ascending; eigenvectors (..., n, n), in columns) of a symmetric
    matrix a (n, n) or of each matrix of a stack (..., n, n), as np.linalg.eigh: a is read
    from its lower triangle (``UPLO="U"``: its upper one). The gradient is that of the
    triangle read (0 on the other; PyTorch gives its symmetric part, the same gradient for an
    a built symmetric, M @ M.T). A loss of the eigenvectors of a repeated eigenvalue raises
    `LinAlgError` (PyTorch gives inf or NaN); eigvalsh's gradient exists there, and so does
    that of the other eigenvectors (the top ones of a rank-deficient covariance)."""
    _matrices(a, "linalg.eigh")
    return EighResult(*Eigh.apply(a, uplo=_uplo(UPLO, "linalg.eigh")))


def eigvalsh(a: Any, UPLO: str = "L") -> Tensor:  # noqa: N803 (numpy's name)
    """The eigenvalues (..., n), ascending, of a symmetric matrix a (n, n) or of each matrix of
    a stack (..., n, n), as np.linalg.eigvalsh, read from the lower triangle (``UPLO="U"``:
    the upper one). Their gradient, V diag(dw) V^T on the triangle read, exists at repeated
    eigenvalues too; a second derivative there (create_graph=True), which goes through the
    eigenvectors, is refused."""
    _matrices(a, "linalg.eigvalsh")
    return _first(Eigh.apply(a, uplo=_uplo(UPLO, "linalg.eigvalsh"), vectors=False))


def _first(out: Any) -> Tensor:
    """The values of Eigh or Svd asked for the values alone: its one output when no gradient
    is to come (forward computed the values only), else the first (second, S of U, S, Vh) of
    its outputs."""
    if isinstance(out, Tensor):
        return out
    return out[0] if len(out) == 2 else out[1]


# -- svd ----------------------------------------------------------------------------------------
class SVDResult(NamedTuple):
    """numpy's triple: A = U @ diag(S) @ Vh (the first min(m, n) columns of U)."""

    U: Tensor
    S: Tensor
    Vh: Tensor


class Svd(Function):
    """(U, S, Vh) of each matrix of A (..., m, n), A = U diag(S) Vh, S descending, k =
    min(m, n); with J = U^T dU, K = Vh dVh^T and F_jk = 1 / (s_k^2 - s_j^2), 0 on the
    diagonal (Townsend 2016, PyTorch's):
    dA = U ((F * (J - J^T)) S + S (F * (K - K^T)) + diag(dS)) Vh
         + (I - U U^T) dU S^-1 Vh + U S^-1 dVh (I - Vh^T Vh)
    (the last two terms for m > k and n > k). With full_matrices, the columns of U and rows
    of Vh past k are any basis of the rest of the space: their gradient must be 0."""

    @staticmethod
    def forward(ctx, a, full_matrices, compute_uv=True):
        try:
            if not compute_uv and not ctx.needs_input_grad[0]:
                # svdvals with no gradient to come: the values alone, LAPACK's cheaper route
                # (U and Vh are only needed by backward)
                return np.linalg.svd(a, compute_uv=False)
            u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        except np.linalg.LinAlgError as exc:
            raise _not_converged("linalg.svd", _input(ctx, 0, a), a, exc) from None
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, du, ds, dvh):
        u, s, vh = ctx.saved
        m, n = _values(u).shape[-2], _values(vh).shape[-1]
        k = _values(s).shape[-1]
        if _values(u).shape[-1] > k or _values(vh).shape[-2] > k:  # full_matrices, m != n
            if _used(du[..., k:]) or _used(dvh[..., k:, :]):
                raise LinAlgError(
                    f"the gradient of linalg.svd of {describe(ctx.inputs[0])} with "
                    f"full_matrices=True: the last {max(m, n) - k} singular vectors of U or Vh "
                    "are any basis of the rest of the space, not a function of A, and the loss "
                    "depends on them. Take full_matrices=False (U (m, k), Vh (k, n)), or use "
                    f"only U[..., :{k}] and Vh[..., :{k}, :] (PyTorch ignores the others' "
                    "gradient).")
            u, du, vh, dvh = u[..., :k], du[..., :k], vh[..., :k, :], dvh[..., :k, :]
        inner = ds[..., None, :] * _eye(k, s)
        uses_u, uses_v = _used(du), _used(dvh)
        if uses_u or uses_v:
            j = _mT(u) @ du if uses_u else None
            kk = vh @ _mT(dvh) if uses_v else None
            used = _nonzero_along(du, -2) | _nonzero_along(dvh, -1)
            close = _apart(ctx, "svd", _values(s), max(m, n), used)
            squares = s * s
            f = (1 - close) / (squares[..., None, :] - squares[..., :, None] + close)
            if uses_u:
                inner = inner + (f * (j - _mT(j))) * s[..., None, :]
            if uses_v:
                inner = inner + s[..., :, None] * (f * (kk - _mT(kk)))
        da = u @ inner @ vh
        if m > k and uses_u:
            rest = du - u @ (_mT(u) @ du)
            da = da + (rest / _nonzero(ctx, s, rest, -2)[..., None, :]) @ vh
        if n > k and uses_v:
            rest = dvh - (dvh @ _mT(vh)) @ vh
            da = da + u @ (rest / _nonzero(ctx, s, rest, -1)[..., :, None])
        return da


def _nonzero(ctx: Function, s: Any, rest: Any, axis: int) -> Any:
    """s to divide ``rest`` by, checked nonzero where the part of dU (dVh) outside the span of
    U (Vh) is not: a zero singular value of a matrix that is not square leaves those vectors
    free. Where that part is 0 (the loss does not use the vectors), an s of exactly 0 is
    taken as 1, so that 0 / 0 does not make the whole gradient NaN."""
    values, grads = _values(s), np.abs(_values(rest)).max(axis=axis)
    eps = np.finfo(values.dtype).eps
    top = values.max(axis=-1, keepdims=True) if values.shape[-1] else 0.0
    zero = (values <= max(_values(ctx.inputs[0]).shape[-2:]) * eps * top) & (grads > 0)
    if zero.any():
        raise LinAlgError(
            f"the gradient of linalg.svd of {describe(ctx.inputs[0])}: a singular value is 0 "
            "in a matrix that is not square (its rank is below min(m, n)), so the singular "
            "vectors of that value are any in the rest of the space, and the loss depends on "
            "them. If only the singular values are needed, take gg.linalg.svdvals(A); else "
            "move A off the rank-deficient set (a little noise, or A + 1e-6 * np.eye(m, n)).")
    exact = values == 0
    return s + exact.astype(values.dtype) if exact.any() else s


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """(U, S, Vh) of a (m, n), or of each matrix of a stack (..., m, n), as np.linalg.svd:
    a = U @ diag(S) @ Vh with S (..., k) descending, k = min(m, n), U (..., m, m) and Vh
    (..., n, n), or (..., m, k) and (..., k, n) with ``full_matrices=False``;
    ``compute_uv=False`` gives S alone (svdvals). A loss of the singular vectors of a
    repeated singular value, or of a zero one of a matrix that is not square, raises
    `LinAlgError` (PyTorch gives inf or NaN; the other vectors keep their gradient); with
    ``full_matrices=True``, the vectors past k, any basis of the rest of the space, take no
    gradient.
    ``hermitian=True`` (numpy's eigh of a symmetric a) has no graphgrad form."""
    _matrices(a, "linalg.svd", square=False)
    if flag(hermitian, "hermitian", "linalg.svd"):
        raise ArgumentError("linalg.svd: hermitian=True (numpy's route through eigh, reading "
                            "one triangle) has no graphgrad form; leave it False, which gives "
                            "the same singular values of a symmetric matrix")
    full = flag(full_matrices, "full_matrices", "linalg.svd")
    if not flag(compute_uv, "compute_uv", "linalg.svd"):
        return _first(Svd.apply(a, full_matrices=False, compute_uv=False))
    return SVDResult(*Svd.apply(a, full_matrices=full))


def svdvals(a: Any) -> Tensor:
    """The singular values (..., k), descending, of a (m, n) or of each matrix of a stack
    (..., m, n), k = min(m, n), as numpy 2's np.linalg.svdvals. Their gradient, U diag(dS) Vh,
    exists at repeated singular values too (at a zero singular value of a matrix that is not
    square, a subgradient, as PyTorch's); a second derivative there is refused."""
    _matrices(a, "linalg.svdvals", square=False)
    return _first(Svd.apply(a, full_matrices=False, compute_uv=False))


# -- qr -----------------------------------------------------------------------------------------
class QRResult(NamedTuple):
    """numpy's pair: A = Q @ R."""

    Q: Tensor
    R: Tensor


class Qr(Function):
    """(Q, R) of each matrix of A (..., m, n), A = Q R, Q's columns orthonormal, R upper
    triangular. For m >= n, with M = R dR^T - dQ^T Q and copyltu(M) the symmetric matrix of
    its lower triangle: dA = (dQ + Q copyltu(M)) R^-T (Walter & Lehmann 2018). For m < n,
    A = [X | Y] with X = Q U square and R = [U | Q^T Y]: dY = Q dR_Y, and X's gradient is the
    square case's with dQ + Y dR_Y^T. With mode="complete" and m > n, the columns of Q past n
    are any basis of the rest of the space: their gradient must be 0."""

    @staticmethod
    def forward(ctx, a, mode):
        q, r = np.linalg.qr(a, mode=mode)
        ctx.save_for_backward(a, q, r)
        return q, r

    @staticmethod
    def backward(ctx, dq, dr):
        a, q, r = ctx.saved
        m, n = _values(a).shape[-2:]
        if _values(q).shape[-1] > n:  # complete, m > n: R's last rows are zeros, constants
            if _used(dq[..., n:]):
                raise LinAlgError(
                    f"the gradient of linalg.qr of {describe(ctx.inputs[0])} with "
                    f"mode='complete': the last {m - n} columns of Q are any basis of the rest "
                    "of the space, not a function of A, and the loss depends on them. Take "
                    f"mode='reduced', or use only Q[..., :{n}].")
            q, dq, r, dr = q[..., :n], dq[..., :n], r[..., :n, :], dr[..., :n, :]
        if m >= n:
            return _qr_square_backward(ctx, q, r, dq, dr)
        y, dr_y = a[..., m:], dr[..., m:]
        dx = _qr_square_backward(ctx, q, r[..., :m], dq + y @ _mT(dr_y), dr[..., :m])
        return np.concatenate([dx, q @ dr_y], axis=-1)


def _qr_square_backward(ctx: Function, q: Any, r: Any, dq: Any, dr: Any) -> Any:
    """dA of A = Q R with R square (n, n), invertible."""
    diagonal = np.abs(np.diagonal(_values(r), axis1=-2, axis2=-1))
    eps = np.finfo(diagonal.dtype).eps
    top = diagonal.max(axis=-1, keepdims=True) if diagonal.shape[-1] else 0.0
    if (diagonal <= max(_values(q).shape[-2:]) * eps * top).any():
        raise LinAlgError(
            f"the gradient of linalg.qr of {describe(ctx.inputs[0])}: its columns (the first "
            "min(m, n)) are linearly dependent, R has a 0 on its diagonal, and Q is not a "
            "differentiable function of A there. Remove the dependent columns, or add a "
            "little noise to them.")
    m = r @ _mT(dr) - _mT(dq) @ q
    lower = np.tril(np.ones(_values(m).shape[-2:], _values(m).dtype))
    low = m * lower
    sym = low + _mT(low * (lower - np.eye(lower.shape[-1], dtype=lower.dtype)))
    # (dQ + Q sym) R^-T = (R^-1 (dQ + Q sym)^T)^T, a solve
    return _mT(np.linalg.solve(r, _mT(dq + q @ sym)))


def qr(a: Any, mode: str = "reduced") -> Any:
    """(Q, R) of a (m, n), or of each matrix of a stack (..., m, n), as np.linalg.qr: a = Q @ R,
    Q (..., m, k) with orthonormal columns and R (..., k, n) upper triangular, k = min(m, n)
    (``mode="complete"``: Q (..., m, m), R (..., m, n); ``mode="r"``: R alone). Q's and R's
    signs are LAPACK's, as numpy's. The gradient needs the first k columns of a linearly
    independent (else `LinAlgError`); with mode="complete", Q's columns past n take none."""
    data, _ = _matrices(a, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise ArgumentError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got "
                            f"{mode!r} (numpy's 'raw', LAPACK's Householder reflectors, has "
                            "no graphgrad form)")
    q, r = Qr.apply(a, mode="reduced" if mode == "r" else mode)
    return r if mode == "r" else QRResult(q, r)


# -- lstsq, on pinv and svdvals -------------------------------------------------------------------

def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple[Tensor, Tensor, np.ndarray, Tensor]:
    """(x, residuals, rank, s) of the least-squares fit a @ x ~ b, a (m, n) and b (m,) or
    (m, k), as np.linalg.lstsq: x = pinv(a) @ b, the smallest x of the least squared error;
    residuals, the squared error of each column of b, (k,) (or (1,) for b (m,)), given when
    a has full column rank n < m, else empty (numpy's rule); rank, numpy's integer, and s,
    a's singular values (svdvals). Singular values at most ``rcond`` (numpy's default:
    max(m, n) eps; a negative rcond, older code's -1, is eps) times the largest count as 0.
    x, residuals and s are differentiable."""
    data, shown = _numbers(a, "a", "linalg.lstsq")
    b_data, b_shown = _numbers(b, "b", "linalg.lstsq")
    if data.ndim != 2 or b_data.ndim not in (1, 2) or b_data.shape[0] != data.shape[0]:
        raise ShapeError(
            f"linalg.lstsq of a = {describe(shown)} and b = {describe(b_shown)}: a must be one "
            "matrix (m, n) and b a vector (m,) or a matrix (m, k) of as many rows, as numpy's "
            "lstsq, which takes no stacks (gg.linalg.pinv(a) @ b does).")
    a, b = (a if isinstance(a, Tensor) else data), (b if isinstance(b, Tensor) else b_data)
    # numpy's common type: float32 only when both are, as a float32 a with a float64 b
    dtype = np.dtype(np.float32 if data.dtype == b_data.dtype == np.float32 else np.float64)
    a, b = (x if x.dtype == dtype else astype(x, dtype) for x in (a, b))
    m, n = data.shape
    eps = np.finfo(dtype).eps
    if rcond is not None:
        rcond = real_number(rcond, "rcond", "linalg.lstsq", lambda v: v == v, "a number")
    # numpy's rcond: None is max(m, n) eps; a negative one LAPACK's eps (older code's -1)
    rtol = max(m, n) * eps if rcond is None else eps if rcond < 0 else rcond
    x = pinv(a, rtol=rtol) @ b
    s = svdvals(a)
    rank = np.asarray(np.count_nonzero(s.data > rtol * s.data.max(initial=0.0)), np.int32)[()]
    if rank == n and m > n:
        residuals = total((a @ x - b) ** 2, axis=0)
        residuals = residuals.reshape(1) if b_data.ndim == 1 else residuals
    else:
        residuals = _constant(np.empty((0,), s.dtype))
    return x, residuals, rank, s
