"""The fully connected layer and its fused op, `Bilinear` (two inputs, one einsum), `Flatten`
and its inverse `Unflatten`.

Batch-first, like PyTorch and Keras: X has shape (m, n_x), one example per row. The course
writes examples as columns, A[l] of shape (n[l], m), and Z[l] = W[l] A[l-1] + b[l]. Here
`Linear` keeps W with the course's shape (n[l], n[l-1]) and computes Z = X W.T + b, which is
the course's Z[l] transposed: Z_here = (W[l] A[l-1] + b[l]).T. So ``layer.W`` *is* W[l],
``layer.b`` is b[l] flattened to (n[l],), and ``X_here = X_course.T``.

`Affine` does X @ W.T + b as one node (one op forward, one backward), which is what keeps a
large MLP step as fast as hand-written numpy (small models pay a few microseconds of Python
per op). `ConcatAffine` does [A, X] @ W.T + b as one node for the gates of the recurrent
cells, and skips the product for the gradient of whichever of A and X needs none. Depends on
`engine`, `function`, `nn.module`, `nn.init`, `ops.shape`, `tensor`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphgrad.engine import _ones
from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    array_of_numbers,
    describe,
    flag,
    float_dtype,
    integer,
    pytorch_order_error,
    setting_text,
    whole_number,
)
from graphgrad.function import Function
from graphgrad.nn import init as initializers
from graphgrad.nn.module import Module, Parameter, as_data_of, numbers_of
from graphgrad.ops.broadcasting import unbroadcast
from graphgrad.ops.contraction import Einsum
from graphgrad.ops.shape import Reshape
from graphgrad.tensor import Tensor


class Affine(Function):
    """Z = X @ W.T + b;  dX = dZ @ W,  dW = dZ.T @ X,  db = dZ summed over the examples"""

    bias_shape = None  # b's shape, kept only when it is not (n_out,): the course's (1, n_out)
    rank1_is_error = (0,)  # under strict_shapes, X only: a batch is (m, n_x), even of one

    @staticmethod
    def forward(ctx, x, w, b=None):
        ctx.save_for_backward(x, w)
        z = x @ w.T
        if b is not None:
            if b.ndim != 1:
                # The course's b[l] (n_out, 1) broadcasts too when m == n_out, adding b[i]
                # to example i rather than to unit i: refused, as every other shape is.
                if b.shape != (1, w.shape[0]):
                    raise ValueError(f"a bias of shape {b.shape} is not one per unit")
                ctx.bias_shape = b.shape
            elif b.shape[0] != w.shape[0]:  # one for all units broadcasts: refused too
                raise ValueError(f"a bias of shape {b.shape} is not one per unit")
            z += b
        return z

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved
        needs = ctx.needs_input_grad
        # dX is skipped when X is data (the first layer): the biggest saving of a fused op.
        dx = grad @ w if needs[0] else None
        dz = grad
        if grad.ndim != 2:  # (..., n_out): every leading axis holds examples; (n_out,) one
            grad = grad.reshape((-1, grad.shape[-1]))
            x = x.reshape((-1, x.shape[-1]))
        dw = grad.T @ x if needs[1] else None
        if len(needs) == 2:
            return dx, dw
        if not needs[2]:
            return dx, dw, None
        if ctx.bias_shape is not None:  # b (1, n_out), added to every row: dZ summed to it
            return dx, dw, unbroadcast(dz, ctx.bias_shape)
        return dx, dw, _sum_rows(grad)

    @staticmethod
    def hint(x, w, b=None):
        """Shown when forward fails on the inputs x (m, n_in), w (n_out, n_in) and b (n_out,),
        the course's (1, n_out), or None: the shapes a linear layer expects, or None."""
        if w.ndim != 2:
            return f"the weight must have shape (n_out, n_in), got {w.shape}"
        n_out, n_in = w.shape
        if x.ndim == 0 or x.shape[-1] != n_in:
            tip = ""
            if x.ndim == 2 and x.shape[0] == n_in:
                tip = " (X.T, if X holds one example per column as in the course)"
            elif x.ndim == 1 and n_in == 1:  # a 1-D X is one example: here of len(X) features
                tip = " (X.reshape(-1, 1), if X holds m examples of one feature)"
            return (f"a linear layer with W of shape ({n_out}, {n_in}) takes X of shape "
                    f"(m, {n_in}), one example per row; got {x.shape}{tip}")
        if b is not None and b.shape == (n_out, 1) and n_out != 1:
            return (f"the bias must have shape ({n_out},), got the course's column b[l] of shape "
                    f"{b.shape}: pass b.reshape(-1) (or b.T, of shape (1, {n_out}))")
        if b is not None and b.shape not in ((n_out,), (1, n_out)):
            return f"the bias must have shape ({n_out},), got {b.shape}"
        if b is not None and b.ndim == 2 and x.ndim == 1:
            return (f"one example X of shape ({n_in},) gives Z of shape ({n_out},), to which a "
                    f"bias of shape (1, {n_out}) cannot be added in place: pass b of shape "
                    f"({n_out},) (b.reshape(-1)), or X as a batch of one (X.reshape(1, -1))")
        return None


class ConcatAffine(Function):
    """Z = [A, X] @ W.T + b, a recurrent cell's gate on its state and input side by side;
    dA = dZ @ W[:, :n_a],  dX = dZ @ W[:, n_a:],  dW = dZ.T @ [A, X],  db = dZ summed over
    the examples.  A: (m, n_a), X: (m, n_x), W: (n_out, n_a + n_x), b: (n_out,) or none (a
    cell made with bias=False)"""

    @staticmethod
    def forward(ctx, a, x, w, b=None):
        joined = np.concatenate((a, x), axis=1)
        need_a, need_x = ctx.needs_input_grad[:2]
        # A or X is saved only when it needs a gradient, for a second derivative through dW;
        # otherwise it is a constant, whose values [A, X] holds (and data X stays writable).
        ctx.save_for_backward(a if need_a else None, x if need_x else None, w, joined)
        ctx.n_a = a.shape[1]
        z = joined @ w.T
        if b is not None:
            z += b
        return z

    @staticmethod
    def backward(ctx, grad):
        a, x, w, joined = ctx.saved
        need_a, need_x, need_w = ctx.needs_input_grad[:3]
        n_a = ctx.n_a
        da = dx = dw = None
        # A product with only the columns whose gradient is wanted: X, the first layer's
        # input, is data, whose n_x columns of W took part in every dA for nothing.
        if need_a and need_x:
            joint = grad @ w
            da, dx = joint[:, :n_a], joint[:, n_a:]
        elif need_a:
            da = grad @ w[:, :n_a]
        elif need_x:
            dx = grad @ w[:, n_a:]
        if need_w:
            if type(grad) is not np.ndarray and (a is not None or x is not None):
                # create_graph: [A, X] on the graph, so that dW is differentiable in them. By
                # what forward saved, not by need_a and need_x: gg.grad turns those off for an
                # input that leads to none of its inputs, whose dW is still differentiated.
                joined = np.concatenate((joined[:, :n_a] if a is None else a,
                                         joined[:, n_a:] if x is None else x), axis=1)
            dw = grad.T @ joined
        if len(ctx.needs_input_grad) == 3:  # no bias
            return da, dx, dw
        return da, dx, dw, _sum_rows(grad) if ctx.needs_input_grad[3] else None


def _sum_rows(grad: Any) -> Any:
    """grad.sum(axis=0) for a 2-D gradient, as ones(m) @ grad: BLAS sums the m rows in about
    half the time numpy's reduction takes on small batches."""
    if type(grad) is not np.ndarray:  # a Tensor under create_graph: keep it a graph op
        return grad.sum(axis=0)
    return _ones(grad.shape[:1], grad.dtype) @ grad


def linear(X: Any, W: Any, b: Any = None) -> Tensor:
    """Z = X @ W.T + b in one node.  X: (m, n_in), W: (n_out, n_in), b: (n_out,) (or the
    course's b[l] transposed, (1, n_out)) -> (m, n_out)."""
    for what, value in (("X", X), ("W", W), ("b", b)):
        if type(value) is not Tensor and (value is not None or what != "b"):
            array_of_numbers(value, what, "linear")  # not the Affine inside
    if b is None:
        return Affine.apply(X, W)
    return Affine.apply(X, W, b)


class Linear(Module):
    """A fully connected layer: Z = X @ W.T + b, with W of the course's shape (n[l], n[l-1]).

    Args:
        n_in: inputs per example, n[l-1].
        n_out: units of the layer, n[l].
        init: how W starts: "he" (ReLU), "xavier" (tanh), "glorot", "small_random"
            (randn * 0.01), "zeros", or a function (shape, rng) -> array. b starts at zero.
        bias: False leaves out b (before BatchNorm, whose beta plays its part).
        rng: a seed or np.random.Generator for the initialisation (default: the one
            `nn.init.seed` resets).
        dtype: np.float64 (default) or np.float32. Data of the other float dtype (an
            array, or a tensor that needs no gradient) is converted to it.

    Shapes: X (m, n_in) -> Z (m, n_out).
    """

    single_node = True

    def __init__(self, n_in: int, n_out: int, init: Any = "he", bias: bool = True,
                 rng: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.n_in = whole_number(n_in, "n_in", "Linear")
        self.n_out = whole_number(n_out, "n_out", "Linear")
        if isinstance(init, (bool, np.bool_)):  # PyTorch's Linear(in, out, bias)
            setting = "" if init else ", bias=False"
            raise pytorch_order_error(
                "Linear", f"init must be an initialiser, got {init}",
                "in_features, out_features, bias", "n_in, n_out, init, bias, rng, dtype",
                f"Linear({self.n_in}, {self.n_out}{setting})")
        bias = flag(bias, "bias", "Linear")
        self.init = init
        self.W = Parameter(initializers.initialize(init, (self.n_out, self.n_in), rng, dtype,
                                                    caller="Linear"))
        self.b = Parameter(np.zeros(self.n_out, dtype=dtype)) if bias else None

    def forward(self, X: Any) -> Tensor:
        """Z = X @ W.T + b, one node (`nn.linear`).  X (m, n_in) -> Z (m, n_out)."""
        if type(X) is not Tensor or not X.requires_grad:
            dtype = self.W.data.dtype
            if type(X) is not np.ndarray or X.dtype is not dtype:
                X = as_data_of(X, dtype, self)
        if self.b is None:
            return Affine.apply(X, self.W)
        return Affine.apply(X, self.W, self.b)

    def extra_repr(self) -> str:
        """``3 -> 4, init='he'`` (and ``bias=False``), for the repr."""
        bias = "" if self.b is not None else ", bias=False"
        return f"{self.n_in} -> {self.n_out}, init={initializers.name_of(self.init)!r}{bias}"


def bilinear(X1: Any, X2: Any, W: Any, b: Any = None) -> Tensor:
    """Y = X1^T W X2 + b for each example (PyTorch's F.bilinear): unit k is the bilinear form
    of W[k], Y[..., k] = sum_ij X1[..., i] W[k, i, j] X2[..., j] + b[k].

    X1: (m, n1), X2: (m, n2), W: (n_out, n1, n2), b: (n_out,) or None -> Y (m, n_out); any
    leading axes, the same in X1 and X2, as (m, ...) of examples. One einsum node (and an add
    for b); its gradients are einsums too, so second derivatives work."""
    return _bilinear(X1, X2, W, b, "bilinear")


def _bilinear(X1: Any, X2: Any, W: Any, b: Any, caller: str) -> Tensor:
    """`bilinear` with its inputs' shapes checked, errors naming ``caller`` (a layer)."""
    x1, x2, w, bias = (
        None if v is None and what == "b" else np.shape(
            v.data if isinstance(v, Tensor) else array_of_numbers(v, what, caller))
        for v, what in ((X1, "X1"), (X2, "X2"), (W, "W"), (b, "b")))
    if len(w) != 3:
        raise ShapeError(f"{caller} takes W of shape (n_out, n1, n2), got {w}")
    n_out, n1, n2 = w
    if not x1 or not x2 or x1[-1] != n1 or x2[-1] != n2 or x1[:-1] != x2[:-1]:
        tip = (" (X1 and X2 swapped?)" if x1 and x2 and n1 != n2 and x1[-1] == n2
               and x2[-1] == n1 else "")
        raise ShapeError(
            f"{caller} with W of shape {w} takes X1 of shape (m, {n1}) and X2 of shape "
            f"(m, {n2}), the same examples in each (the same leading axes); got X1 {x1} and "
            f"X2 {x2}{tip}")
    if bias is not None and bias != (n_out,):
        raise ShapeError(f"{caller} with W of shape {w} takes b of shape ({n_out},), got {bias}")
    Y = Einsum.apply(X1, W, X2, subscripts="...i,kij,...j->...k")
    return Y if b is None else Y + b


class BilinearWeight(Parameter):
    """`Bilinear`'s W (n_out, n1, n2), PyTorch's layout with the units first: `nn.init`'s
    scaled initialisers read its fans as PyTorch does, fan_in = n1 * n2 and fan_out =
    n_out * n2, where a plain parameter of 3 axes is a Conv1d's filters (f, n_C_prev, n_C),
    its units last."""

    __slots__ = ()
    units_first = True


class Bilinear(Module):
    """A bilinear layer (PyTorch's nn.Bilinear): Y = X1^T W X2 + b, unit k the bilinear form
    of W[k] of the two inputs, Y[:, k] = sum_ij X1[:, i] W[k, i, j] X2[:, j] + b[k].

    Args:
        n1: features of X1.
        n2: features of X2.
        n_out: units of the layer.
        bias: False leaves out b.
        rng: a seed or np.random.Generator for the initialisation.
        dtype: np.float64 (default) or np.float32.

    W and b start uniform in (-1 / sqrt(n1), 1 / sqrt(n1)), as PyTorch's. Shapes: X1 (m, n1),
    X2 (m, n2) -> Y (m, n_out); W (n_out, n1, n2), PyTorch's weight (a `BilinearWeight`, whose
    fans `nn.init` reads as PyTorch does: n1 * n2 in, n_out * n2 out), b (n_out,).
    """

    single_node = False  # the einsum and, with b, an add

    def __init__(self, n1: int, n2: int, n_out: int, bias: bool = True, rng: Any = None,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        self.n1 = whole_number(n1, "n1", "Bilinear")
        self.n2 = whole_number(n2, "n2", "Bilinear")
        self.n_out = whole_number(n_out, "n_out", "Bilinear")
        bias = flag(bias, "bias", "Bilinear")
        dtype = float_dtype(dtype, "Bilinear")
        generator = initializers.generator(rng, "Bilinear")
        bound = 1.0 / math.sqrt(self.n1)
        self.W = BilinearWeight(generator.uniform(-bound, bound, (self.n_out, self.n1, self.n2))
                                .astype(dtype))
        self.b = (Parameter(generator.uniform(-bound, bound, self.n_out).astype(dtype)) if bias
                  else None)

    def forward(self, X1: Any, X2: Any) -> Tensor:
        """Y = X1^T W X2 + b (`nn.bilinear`).  X1 (m, n1), X2 (m, n2) -> Y (m, n_out)."""
        dtype = self.W.data.dtype
        return _bilinear(as_data_of(X1, dtype, self), as_data_of(X2, dtype, self), self.W,
                         self.b, self._label())

    def extra_repr(self) -> str:
        """``(3, 4) -> 5`` (and ``bias=False``), for the repr."""
        bias = "" if self.b is not None else ", bias=False"
        return f"({self.n1}, {self.n2}) -> {self.n_out}{bias}"


class Flatten(Module):
    """(m, d1, d2, ...) -> (m, d1 * d2 * ...): one row per example (none for m = 0).

    Args:
        start_axis: the first axis joined (1 by default, the one after the examples').
        end_axis: the last axis joined, included (-1 by default, the last); negative axes
            count from the end. PyTorch's ``nn.Flatten(start_dim, end_dim)``:
            ``Flatten(2)`` turns sequences of images (m, T, n_H, n_W, n_C) into (m, T, n),
            ``Flatten(0)`` a whole batch into one vector, as `Tensor.flatten` does.
    """

    single_node = True

    def __init__(self, start_axis: int = 1, end_axis: int = -1) -> None:
        super().__init__()
        self.start_axis = integer(start_axis, "start_axis", "Flatten")
        self.end_axis = integer(end_axis, "end_axis", "Flatten")

    def forward(self, X: Any) -> Tensor:
        """X (m, d1, d2, ...) -> (m, d1 * d2 * ...), each example's values in row order; the
        axes from start_axis to end_axis joined into one, if they are others."""
        if (self.start_axis, self.end_axis) != (1, -1):
            return self._joined(X)
        shape = np.shape(X.data if isinstance(X, Tensor) else X)
        if not shape:
            what = describe(X) if isinstance(X, Tensor) else repr(X)
            raise ShapeError("Flatten takes a batch (m, ...) with one example per row, got a "
                             f"single number: {what}")
        # The row length is spelled out: -1 cannot be solved for when m = 0, an empty batch.
        return Reshape.apply(X, shape=(shape[0], math.prod(shape[1:])))

    def _joined(self, X: Any) -> Tensor:
        """`Tensor.flatten` (start_axis, end_axis), its complaints named by this layer."""
        if not isinstance(X, Tensor):  # an array, as the default's Reshape takes one
            X = Tensor(numbers_of(X, self))
        try:
            return X.flatten(self.start_axis, self.end_axis)
        except ArgumentError as error:
            raise ShapeError(f"{self._label()}: {str(error).removeprefix('flatten: ')}; give it "
                             "an X with those axes, or change the axes it joins") from None

    def extra_repr(self) -> str:
        """Nothing by default, or ``start_axis=2, end_axis=-1``, for the repr."""
        if (self.start_axis, self.end_axis) == (1, -1):
            return ""
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"


class Identity(Module):
    """X -> X, as it is: the layer that does nothing, where a model's structure wants one (a
    residual block's shortcut when the shapes already match, a head removed from a
    pretrained model: ``model.fc = nn.Identity()``), as PyTorch's ``nn.Identity``. Any
    ``args`` and ``kwargs`` are ignored, as PyTorch's are."""

    single_node = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, X: Any) -> Any:
        """X, whatever its shape (the same object: no node in the graph)."""
        return X


class Unflatten(Module):
    """One axis split into several (PyTorch's nn.Unflatten(dim, unflattened_size), Keras's
    Reshape without the batch axis): ``Unflatten(1, (7, 7, 64))`` turns a decoder's
    (m, 3136) back into images (m, 7, 7, 64), the inverse of `Flatten`.

    Args:
        axis: the axis to split (negative ones count from the end).
        shape: the sizes it is split into, whose product is the axis's size; one of them
            may be -1, worked out from the others.

    Shapes: X (m, ..., d, ...) -> (m, ..., *shape, ...).
    """

    single_node = True

    def __init__(self, axis: int, shape: Any) -> None:
        super().__init__()
        self.axis = integer(axis, "axis", "Unflatten")
        sizes = shape if isinstance(shape, (tuple, list)) else None
        if not sizes or any(isinstance(n, (bool, np.bool_)) or not isinstance(
                n, (int, np.integer)) or n < -1 or n == 0 for n in sizes) or list(
                sizes).count(-1) > 1:
            raise ArgumentError(f"Unflatten: shape must be a tuple of sizes >= 1 (one of them "
                                f"may be -1), got {setting_text(shape)}")
        self.shape = tuple(int(n) for n in sizes)

    def forward(self, X: Any) -> Tensor:
        """X with ``axis`` split into ``shape``.  (m, ..., d, ...) -> (m, ..., *shape, ...)."""
        if not isinstance(X, Tensor):
            X = numbers_of(X, self)
        given = X.shape
        axis = self.axis + len(given) if self.axis < 0 else self.axis
        if not 0 <= axis < len(given):
            raise ShapeError(f"{self._label()} splits axis {self.axis}, and X of shape "
                             f"{given} has {len(given)} axes")
        known = math.prod(n for n in self.shape if n != -1)
        size = given[axis]
        sizes = tuple(size // known if n == -1 else n for n in self.shape)
        if math.prod(sizes) != size:
            raise ShapeError(f"{self._label()} splits axis {self.axis} of X of shape {given}, "
                             f"of size {size}, into {self.shape}, which holds "
                             f"{'a multiple of ' if -1 in self.shape else ''}{known} values")
        return Reshape.apply(X, shape=given[:axis] + sizes + given[axis + 1:])

    def extra_repr(self) -> str:
        """``1, (7, 7, 64)``, for the repr."""
        return f"{self.axis}, {self.shape}"
