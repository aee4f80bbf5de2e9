"""Normalisation layers, the course's two kinds: batch normalisation (course 2) and layer
normalisation (the Transformer, course 5). Each normalises, then lets the layer learn the
scale gamma and the shift beta.

`BatchNorm1d` normalises the units of Z (m, n) over the mini-batch; `BatchNorm2d` the
channels of images Z (m, n_H, n_W, n_C), each over the batch and every position, as the
course's ResNets do after a convolution. Both are one class, `_BatchNorm`, told which axes to
average over. `LayerNorm` normalises each example (each position of a sequence) over its own
d features instead, the same in training and evaluation. `GroupNorm` normalises each example's
groups of channels; `InstanceNorm2d` and `InstanceNorm1d` are it with a group per channel,
and PyTorch's optional running statistics, which evaluation normalises by (`BatchNormEval`).

Each layer is one node, as `Linear` is one `Affine`: `BatchNorm` (training mode, the batch's
statistics), `BatchNormEval` (the running ones) and `LayerNormalize` are fused ops with the
course's formulas and the compact backward side by side, about a third of the time of the
nine small ops (mean, subtract, square, sqrt, divide, scale, shift) they replace, each of
which made a full-size array. Their backward bodies use numpy functions only and recompute
Z_norm from Z on Tensors under create_graph, so second derivatives still work. A gamma or
beta given another shape than the layer's (n,) is computed with those small ops
(`_normalize`). Depends on `function`, `engine`, `ops`, `nn.module`, `errors`.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from graphgrad.engine import _ones
from graphgrad.errors import (
    ArgumentError,
    ConventionWarning,
    GraphgradTypeError,
    ShapeError,
    array_of_numbers,
    describe,
    flag,
    float_dtype,
    pytorch_order_error,
    real_number,
    setting_text,
    whole_number,
)
from graphgrad.function import Function
from graphgrad.nn.module import Module, Parameter, as_data_of
from graphgrad.ops.elementwise import Sqrt
from graphgrad.ops.reductions import Mean
from graphgrad.tensor import Tensor


def _normalize(Z: Tensor, axes: tuple[int, ...], eps: float,
               keepdims: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """(Z_norm, mu, sigma2): Z_norm = (Z - mu) / sqrt(sigma2 + eps), with mu and sigma2 the
    mean and the (biased) variance of Z over ``axes``. ``keepdims`` keeps the reduced axes
    with size 1, for statistics over the last axes that must broadcast against Z.

    The engine's ops, one node each: the layers use it only for a gamma or beta given another
    shape than their own (n,), which the fused ops do not take."""
    mu = Z.mean(axis=axes, keepdims=keepdims)
    centred = Z - mu
    sigma2 = (centred * centred).mean(axis=axes, keepdims=keepdims)
    return centred / Sqrt.apply(sigma2 + eps), mu, sigma2


def _statistics(z: Any, axes: tuple[int, ...], eps: float, keepdims: bool = False
                ) -> tuple[Any, Any, Any, Any]:
    """(z_norm, sqrt(sigma2 + eps), mu, sigma2) of z over ``axes``, computed as `_normalize`
    computes them (the same ops in the same order, so the same numbers), on arrays in forward
    and on Tensors in a backward under create_graph, where they are recorded."""
    mu = Mean.call(z, axis=axes, keepdims=keepdims)  # a float32 mean adds up in float64
    centred = z - mu
    sigma2 = Mean.call(centred * centred, axis=axes, keepdims=keepdims)
    std = np.sqrt(sigma2 + eps)
    return centred / std, std, mu, sigma2


def _scale_and_shift(gamma: np.ndarray, z_norm: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """gamma * z_norm + beta, the shift added in place (the product is a new array) unless
    beta's dtype is the wider."""
    out = gamma * z_norm
    if np.result_type(out, beta) != out.dtype:
        return out + beta
    out += beta
    return out


def _affine_grads(grad: Any, z_norm: Any, need_gamma: bool, need_beta: bool
                  ) -> tuple[Any, Any]:
    """(dgamma, dbeta) of gamma z_norm + beta: sum(grad z_norm) and sum(grad) over every axis
    but the last, None where not needed. On arrays, as products (BLAS sums a batch's rows
    faster than a reduction, with no full-size temporary); on Tensors under create_graph, as
    sums on the graph."""
    if type(grad) is np.ndarray:
        n = grad.shape[-1]
        rows = grad.reshape(-1, n)
        dgamma = np.einsum("ij,ij->j", rows, z_norm.reshape(-1, n)) if need_gamma else None
        dbeta = _ones(rows.shape[:1], rows.dtype) @ rows if need_beta else None
        return dgamma, dbeta
    leading = tuple(range(grad.ndim - 1))
    dgamma = (grad * z_norm).sum(axis=leading) if need_gamma else None
    return dgamma, grad.sum(axis=leading) if need_beta else None


def _input_grad(dx_norm: Any, x_norm: Any, std: Any, axes: tuple[int, ...]) -> Any:
    """dx of x_norm = (x - mu) / std normalised over ``axes`` (kept, of size 1, in std), from
    dx_norm: (dx_norm - mean(dx_norm) - x_norm mean(dx_norm x_norm)) / std, the means over
    ``axes``; on arrays or, under create_graph, on Tensors."""
    return (dx_norm - dx_norm.mean(axis=axes, keepdims=True)
            - x_norm * (dx_norm * x_norm).mean(axis=axes, keepdims=True)) / std


class BatchNorm(Function):
    """Batch normalisation in training mode, over the m examples (and every position) of Z,
    axes ``axis``: every axis but the last, which holds the n units (channels)::

        mu = (1/m) sum_i z(i),  sigma2 = (1/m) sum_i (z(i) - mu)**2
        z_norm = (z - mu) / sqrt(sigma2 + eps),  z_tilde = gamma z_norm + beta

    and backward, with m the number of values averaged per unit and sums over those axes::

        dbeta = sum(dz_tilde),  dgamma = sum(dz_tilde * z_norm)
        dz = (1/m) gamma / sqrt(sigma2 + eps) (m dz_tilde - dbeta - z_norm dgamma)

    gamma, beta: (n,). The batch's mu and sigma2 are kept on the node (``ctx.mu``,
    ``ctx.sigma2``) for the layer's running averages.
    """

    @staticmethod
    def forward(ctx, z, gamma, beta, axis, eps):
        z_norm, std, ctx.mu, ctx.sigma2 = _statistics(z, axis, eps)
        ctx.save_for_backward(z, gamma, z_norm, std)
        return _scale_and_shift(gamma, z_norm, beta)

    @staticmethod
    def backward(ctx, grad):
        z, gamma, z_norm, std = ctx.saved
        needs = ctx.needs_input_grad
        m = max(z.size // z.shape[-1], 1)
        plain = type(grad) is np.ndarray
        if not plain:  # create_graph: the same formulas on the graph, z_norm from z
            z_norm, std, _, _ = _statistics(z, ctx.attrs["axis"], ctx.attrs["eps"])
        # dz needs both sums, whichever of gamma and beta want theirs
        dgamma, dbeta = _affine_grads(grad, z_norm, needs[0] or needs[1], needs[0] or needs[2])
        dz = None
        if needs[0]:
            scale = gamma / std
            if plain:  # few full-size temporaries
                dz = z_norm * (scale * dgamma * (-1.0 / m))
                dz += scale * dbeta * (-1.0 / m)
                dz += grad * scale
            else:
                dz = scale * grad - (scale * (1.0 / m)) * (dbeta + z_norm * dgamma)
        return dz, dgamma if needs[1] else None, dbeta if needs[2] else None


class BatchNormEval(Function):
    """Batch normalisation in evaluation mode: Z normalised by the running statistics, an
    affine map of Z with constant mean and var::

        z_norm = (z - mean) / sqrt(var + eps),  z_tilde = gamma z_norm + beta
        dz = dz_tilde gamma / sqrt(var + eps),  dgamma = sum(dz_tilde z_norm),
        dbeta = sum(dz_tilde)                       (sums over every axis but the last)

    gamma, beta, mean, var: (n,); mean and var get no gradient.
    """

    @staticmethod
    def forward(ctx, z, gamma, beta, mean, var, eps):
        inv = 1.0 / np.sqrt(var + eps)
        z_norm = (z - mean) * inv
        # Constants, not saved (which would lock the layer's buffers while the graph lives):
        # a copy of the mean, for z_norm on the graph under create_graph.
        ctx.mean = np.array(mean)
        ctx.save_for_backward(z, gamma, z_norm, inv)
        return _scale_and_shift(gamma, z_norm, beta)

    @staticmethod
    def backward(ctx, grad):
        z, gamma, z_norm, inv = ctx.saved
        if type(grad) is not np.ndarray:  # create_graph: z_norm on the graph, from z
            z_norm = (z - ctx.mean) * inv
        needs = ctx.needs_input_grad
        dz = grad * (gamma * inv) if needs[0] else None
        dgamma, dbeta = _affine_grads(grad, z_norm, needs[1], needs[2])
        return dz, dgamma, dbeta, None, None


class LayerNormalize(Function):
    """Layer normalisation: each example (each position) normalised over its own d features,
    the last axis of x::

        mu = (1/d) sum_k x_k,  sigma2 = (1/d) sum_k (x_k - mu)**2
        x_norm = (x - mu) / sqrt(sigma2 + eps),  y = gamma x_norm + beta

    and backward, with means over the last axis and sums over the others::

        dx_norm = dy gamma,  dbeta = sum(dy),  dgamma = sum(dy x_norm)
        dx = (dx_norm - mean(dx_norm) - x_norm mean(dx_norm x_norm)) / sqrt(sigma2 + eps)

    gamma, beta: (d,), which vary along the normalised axis: they stay inside the means.
    Without beta, y = gamma x_norm; without either, y = x_norm (PyTorch's bias=False and
    elementwise_affine=False).
    """

    @staticmethod
    def forward(ctx, x, gamma=None, beta=None, eps=1e-5):
        x_norm, std, _, _ = _statistics(x, (-1,), eps, keepdims=True)
        ctx.save_for_backward(x, gamma, x_norm, std)
        if gamma is None:
            return x_norm
        return gamma * x_norm if beta is None else _scale_and_shift(gamma, x_norm, beta)

    @staticmethod
    def backward(ctx, grad):
        x, gamma, x_norm, std = ctx.saved
        needs = ctx.needs_input_grad
        d = x.shape[-1]
        plain = type(grad) is np.ndarray
        if not plain:  # create_graph: the same formulas on the graph, x_norm from x
            x_norm, std, _, _ = _statistics(x, (-1,), ctx.attrs["eps"], keepdims=True)
        dx = None
        if needs[0]:
            dx_norm = grad if gamma is None else grad * gamma
            if plain:  # the means as products, few full-size temporaries
                mean = (dx_norm @ _ones((d,), dx_norm.dtype))[..., None] * (1.0 / d)
                mean_norm = np.einsum("...k,...k->...", dx_norm, x_norm)[..., None] * (1.0 / d)
                dx = x_norm * -mean_norm
                dx += dx_norm
                dx -= mean
                dx /= std
            else:
                dx = _input_grad(dx_norm, x_norm, std, (-1,))
        if gamma is None:
            return (dx,)
        dgamma, dbeta = _affine_grads(grad, x_norm, needs[1], len(needs) > 2 and needs[2])
        return (dx, dgamma) if len(needs) == 2 else (dx, dgamma, dbeta)


class GroupNormalize(Function):
    """Group normalisation: the n_C channels of x (m, ..., n_C), channels last, split into
    G groups of n_C / G consecutive channels, each example's group normalised over its
    channels and every position (the n values of one example's group)::

        mu = (1/n) sum x,  sigma2 = (1/n) sum (x - mu)**2,  x_norm = (x - mu) / sqrt(sigma2 + eps)
        y = gamma x_norm + beta                    (or x_norm alone, without gamma and beta)

    and backward, with means over each example's group and sums over the others::

        dx_norm = dy gamma,  dbeta = sum(dy),  dgamma = sum(dy x_norm)
        dx = (dx_norm - mean(dx_norm) - x_norm mean(dx_norm x_norm)) / sqrt(sigma2 + eps)

    gamma, beta: (n_C,). G = n_C is instance normalisation, G = 1 layer normalisation over
    every position and channel. Each example's groups' mu and sigma2, (m, 1, G, 1), are kept
    on the node (``ctx.mu``, ``ctx.sigma2``) for instance norm's running averages.
    """

    @staticmethod
    def forward(ctx, x, gamma=None, beta=None, groups=1, eps=1e-5):
        grouped = _grouped(x, groups)
        x_norm, std, ctx.mu, ctx.sigma2 = _statistics(grouped, (1, 3), eps, keepdims=True)
        ctx.save_for_backward(x, gamma, x_norm, std)
        out = x_norm.reshape(x.shape)
        return out if gamma is None else _scale_and_shift(gamma, out, beta)

    @staticmethod
    def backward(ctx, grad):
        x, gamma, x_norm, std = ctx.saved
        needs = ctx.needs_input_grad
        groups = ctx.attrs.get("groups", 1)
        grouped = _grouped(grad, groups)
        if type(grad) is not np.ndarray:  # create_graph: the same formulas on the graph
            x_norm, std, _, _ = _statistics(_grouped(x, groups), (1, 3),
                                            ctx.attrs.get("eps", 1e-5), keepdims=True)
        dx = None
        if needs[0]:
            dx_norm = grouped if gamma is None else _grouped(grad * gamma, groups)
            dx = _input_grad(dx_norm, x_norm, std, (1, 3)).reshape(x.shape)
        if gamma is None:
            return (dx,)
        dgamma, dbeta = _affine_grads(grad, x_norm.reshape(x.shape), needs[1], needs[2])
        return dx, dgamma, dbeta


def _grouped(x: Any, groups: int) -> Any:
    """x (m, ..., n_C) seen as (m, positions, G, n_C / G): an example's group is [i, :, g, :]."""
    return x.reshape((x.shape[0], math.prod(x.shape[1:-1]), groups, x.shape[-1] // groups))


def _positive_eps(eps: Any, caller: str) -> float:
    return real_number(eps, "eps", caller, lambda v: 0 < v < np.inf, "a positive number")


def _momentum(momentum: Any, caller: str, call: str, stacklevel: int = 3,
              cumulative: bool = False) -> float | None:
    """Batch norm's momentum, the weight of the old running statistics, in [0, 1), or an
    `ArgumentError` naming ``caller``; between 0 and 0.5 a `gg.ConventionWarning` says it reads
    as PyTorch's (``call`` is how the call opens: "BatchNorm1d(", "batch_norm(x, ...").
    None, PyTorch's cumulative average, passes where ``cumulative`` (the layers, which count
    their batches)."""
    if momentum is None:
        if cumulative:
            return None
        raise ArgumentError(
            f"{caller}: momentum=None (PyTorch's cumulative average of every batch's "
            "statistics) needs the count of batches a layer keeps (num_batches_tracked): "
            "BatchNorm1d(n, momentum=None) takes it. Here the running statistics are "
            "exponential averages, momentum in [0, 1) the weight of the old ones (0.9, "
            "PyTorch's 0.1, by default); the k-th batch of a cumulative average is "
            "momentum=(k - 1) / k")
    keep = real_number(momentum, "momentum", caller, lambda v: 0 <= v < 1, "in [0, 1)")
    if 0 < keep < 0.5:
        warnings.warn(
            f"{call}momentum={keep:g}) keeps {keep:.0%} of the running statistics at "
            f"each training batch and takes {1 - keep:.0%} from the batch: momentum is the "
            "weight of the old statistics, as in the course and Keras (0.99), and "
            f"PyTorch's momentum={keep:g} is momentum={1 - keep:g} here.",
            ConventionWarning, stacklevel=stacklevel)
    return keep


def _batch_norm(Z: Tensor, gamma: Any, beta: Any, running_mean: Any, running_var: Any,
                training: bool, momentum: float, eps: float) -> tuple[Tensor, Any, Any]:
    """(gamma Z_norm + beta, mean, var): the one computation of the batch norm layers and of
    `nn.functional.batch_norm`. Z (m, ..., n) is normalised over every axis but the last, by
    its own statistics in training or without running ones (None), else by running_mean and
    running_var (n,); mean and var are the updated running statistics, new arrays
    (momentum * running + (1 - momentum) * batch, the biased variance), or None when they stay
    as they are (evaluation, an empty batch, a batch with NaN or Inf). gamma and beta: (n,),
    one fused node; of any other shape that broadcasts, the engine's small ops."""
    axes = tuple(range(Z.ndim - 1))
    tracking = running_mean is not None and running_var is not None
    fused = gamma.shape == beta.shape == Z.shape[-1:]
    # an empty batch has no statistics: it is normalised by the running ones, untouched
    if not (training and Z.size > 0 or not tracking):
        if not fused:
            Z_norm = (Z - running_mean) * (1.0 / np.sqrt(running_var + eps))
            return gamma * Z_norm + beta, None, None
        return BatchNormEval.apply(Z, gamma, beta, running_mean, running_var, eps=eps), None, None
    if not fused:
        Z_norm, mu, sigma2 = _normalize(Z, axes, eps)
        out = gamma * Z_norm + beta
        mu, sigma2 = mu.data, sigma2.data
    else:
        out = BatchNorm.apply(Z, gamma, beta, axis=axes, eps=eps)
        node = out.creator
        if node is not None:
            mu, sigma2 = node.mu, node.sigma2
        else:  # nothing recorded (no_grad): the statistics, computed again
            _, _, mu, sigma2 = _statistics(Z.data, axes, eps)
    # A batch with NaN or Inf (its output shows them) would spoil every later prediction
    # through the running statistics: it leaves them as they were.
    if not (tracking and np.isfinite(mu).all() and np.isfinite(sigma2).all()):
        return out, None, None
    keep, dtype = momentum, running_mean.dtype
    # in the buffers' dtype: a float64 Z that needs a gradient passes as it is
    return (out, (keep * running_mean + (1 - keep) * mu).astype(dtype),
            (keep * running_var + (1 - keep) * sigma2).astype(dtype))


def _layer_norm(X: Tensor, gamma: Any, beta: Any, eps: float) -> Tensor:
    """gamma X_norm + beta, X (..., d) normalised over its last axis: `LayerNorm`'s and
    `nn.functional.layer_norm`'s computation, one fused node for gamma and beta of shape (d,)
    or None (no scale, no shift), the engine's small ops for any other shape that
    broadcasts."""
    d = X.shape[-1:]
    if gamma is not None and gamma.shape != d or beta is not None and beta.shape != d:
        X_norm, _, _ = _normalize(X, (-1,), eps, keepdims=True)
        out = X_norm if gamma is None else gamma * X_norm
        return out if beta is None else out + beta
    if gamma is None:
        if beta is None:
            return LayerNormalize.apply(X, eps=eps)
        gamma = _ones(d, X.dtype)
    if beta is None:
        return LayerNormalize.apply(X, gamma, eps=eps)
    return LayerNormalize.apply(X, gamma, beta, eps=eps)


def _layer_norm_over(X: Tensor, shape: tuple[int, ...], gamma: Any, beta: Any,
                     eps: float) -> Tensor:
    """X (..., *shape) normalised over its last len(shape) axes, then gamma X_norm + beta
    (gamma, beta: ``shape``, or None): over one axis, `_layer_norm`; over more, the same on
    those axes flattened into one, and the result given X's shape again."""
    if len(shape) == 1:
        return _layer_norm(X, gamma, beta, eps)
    flat = (math.prod(shape),)
    out = _layer_norm(X.reshape(X.shape[:X.ndim - len(shape)] + flat),
                      None if gamma is None else gamma.reshape(flat),
                      None if beta is None else beta.reshape(flat), eps)
    return out.reshape(X.shape)


def _normalized_shape(normalized_shape: Any, caller: str) -> tuple[int, ...]:
    """PyTorch's normalized_shape, the sizes of the last axes normalised together: a whole
    number d, or a tuple (or list) of them, as a tuple; an `ArgumentError` naming ``caller``
    otherwise."""
    if not isinstance(normalized_shape, (tuple, list)):
        return (whole_number(normalized_shape, "normalized_shape (d)", caller),)
    if not normalized_shape:
        raise ArgumentError(f"{caller}: normalized_shape must name one axis or more (the "
                            "features last: d, or (n_H, n_W, n_C) for each image whole), "
                            "got ()")
    return tuple(whole_number(k, "normalized_shape", caller) for k in normalized_shape)


def _group_norm(X: Tensor, gamma: Any, beta: Any, groups: int, eps: float) -> Tensor:
    """X (m, ..., n_C) normalised in ``groups`` groups of channels, then gamma X_norm + beta
    (gamma, beta: (n_C,), or both None): `GroupNorm`'s and `InstanceNorm2d`'s computation."""
    if gamma is None or beta is None:
        return GroupNormalize.apply(X, groups=groups, eps=eps)
    return GroupNormalize.apply(X, gamma, beta, groups=groups, eps=eps)


def _instance_norm(X: Tensor, gamma: Any, beta: Any, running_mean: Any, running_var: Any,
                   use_input_stats: bool, momentum: float, eps: float
                   ) -> tuple[Tensor, Any, Any]:
    """(gamma X_norm + beta, mean, var): the one computation of the instance norm layers and
    of `nn.functional.instance_norm`. X (m, ..., n_C) is normalised per example and channel
    over its positions with ``use_input_stats`` (one `GroupNormalize` node, a group per
    channel), else by running_mean and running_var (n_C,) (one `BatchNormEval` node). mean and
    var are the updated running statistics, new arrays in their dtype: momentum * running +
    (1 - momentum) * the batch's mean over its examples of their channels' mean and biased
    variance; None when they stay as they are (no running statistics, evaluation, an empty
    batch, a batch with NaN or Inf). gamma, beta: (n_C,), or both None (no scale, no shift)."""
    tracking = running_mean is not None and running_var is not None
    if not use_input_stats:
        if gamma is None:  # constants, which the fused op gives no gradient
            gamma, beta = _ones(X.shape[-1:], X.dtype), np.zeros(X.shape[-1:], X.dtype)
        return (BatchNormEval.apply(X, gamma, beta, running_mean, running_var, eps=eps),
                None, None)
    groups = X.shape[-1]
    out = _group_norm(X, gamma, beta, groups, eps)
    if not tracking or X.size == 0:
        return out, None, None
    node = out.creator
    if node is not None:
        mu, sigma2 = node.mu, node.sigma2
    else:  # nothing recorded (no_grad): the statistics, computed again
        _, _, mu, sigma2 = _statistics(_grouped(X.data, groups), (1, 3), eps, keepdims=True)
    mu, sigma2 = mu.mean(axis=(0, 1, 3)), sigma2.mean(axis=(0, 1, 3))  # (m, 1, n_C, 1) -> (n_C,)
    # A batch with NaN or Inf would spoil every later prediction through the running
    # statistics: it leaves them as they were.
    if not (np.isfinite(mu).all() and np.isfinite(sigma2).all()):
        return out, None, None
    keep, dtype = momentum, running_mean.dtype
    return (out, (keep * running_mean + (1 - keep) * mu).astype(dtype),
            (keep * running_var + (1 - keep) * sigma2).astype(dtype))


def _pytorch_order_error(caller: str, n: int, eps: Any, momentum: Any,
                         affine: bool) -> ArgumentError:
    """Why ``caller(n, eps, momentum, affine)``, PyTorch's positional order, is refused (its
    eps fell in the course's momentum, its momentum in eps, its flag in dtype), and the call
    to write, PyTorch's momentum turned into the course's weight of the old statistics."""
    try:
        kept = "None" if momentum is None else f"{1 - float(momentum):g}"
        settings = f"momentum={kept}, eps={float(eps):g}"
    except (TypeError, ValueError):
        settings = "momentum=0.9, eps=1e-05"
    return pytorch_order_error(
        caller, f"dtype must be np.float64 or np.float32, got {bool(affine)}, a flag",
        "num_features, eps, momentum, affine, track_running_stats", "n, momentum, eps, dtype",
        f"{caller}({n}, {settings}, affine={bool(affine)})",
        note="momentum is the weight of the old statistics: PyTorch's 0.1 is 0.9")


class _BatchNorm(Module):
    """Batch normalisation of the last axis of Z (n features: units or channels), with the
    statistics taken over every other axis, of an input of one of the ranks ``ndims``.
    Subclasses set those and the words of the messages, and say in ``_expected_shape`` (and
    ``_hint``, for a likely mistake) what input they take.

    gamma, beta and the buffers running_mean, running_var all have shape (n,), so they
    broadcast over the leading axes of Z. With the buffers set to None (PyTorch's
    track_running_stats=False), every batch is normalised by its own statistics, after
    ``eval()`` too, and none are kept.
    """

    short_name = "batchnorm"
    ndims: tuple[int, ...]  # every rank it takes; the statistics are over all but the last axis
    feature = "unit"  # what one of the n features is called in messages
    one_value = "a batch of one example"  # the training batch with one value per feature

    def __init__(self, n: int, momentum: float | None, eps: float, dtype: Any,
                 affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__()
        caller = type(self).__name__
        if isinstance(dtype, (bool, np.bool_)):  # PyTorch's (n, eps, momentum, affine)
            raise _pytorch_order_error(caller, n, momentum, eps, dtype)
        self.n = n
        self.momentum = _momentum(momentum, caller, f"{caller}(", stacklevel=4,
                                  cumulative=True)
        self.eps = _positive_eps(eps, caller)
        self.affine = flag(affine, "affine", caller)
        self.track_running_stats = flag(track_running_stats, "track_running_stats", caller)
        self._dtype = dtype = float_dtype(dtype, caller)
        self.gamma = Parameter(np.ones(self.n, dtype=dtype)) if self.affine else None
        self.beta = Parameter(np.zeros(self.n, dtype=dtype)) if self.affine else None
        tracked = self.track_running_stats
        self.register_buffer("running_mean", np.zeros(self.n, dtype=dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(self.n, dtype=dtype) if tracked else None)
        if self.momentum is None:  # the cumulative average's count of batches, PyTorch's
            self.register_buffer("num_batches_tracked",
                                 np.array(0, dtype=np.int64) if tracked else None)

    def _convert_constants(self, dtype: np.dtype) -> None:
        self._dtype = dtype  # without gamma and beta, the dtype data is converted to

    def _expected_shape(self) -> str:
        raise NotImplementedError

    def _hint(self, shape: tuple[int, ...]) -> str:
        """What a wrong shape probably means, or ""."""
        return ""

    def forward(self, Z: Any) -> Tensor:
        """gamma * Z_norm + beta, Z normalised by the batch's statistics in training (which
        update the running ones) and by the running ones after ``eval()`` (by the batch's
        again when running_mean and running_var are None).  Z (m, n) or (m, T_x, n)
        (`BatchNorm1d`) or (m, n_H, n_W, n_C) (`BatchNorm2d`) -> the same shape."""
        gamma, beta = self.gamma, self.beta
        Z = as_data_of(Z, self._dtype if gamma is None else gamma.data.dtype, self)
        if not isinstance(Z, Tensor):
            Z = Tensor(Z)
        if Z.ndim not in self.ndims or Z.shape[-1] != self.n:
            raise ShapeError(f"{self._label()} takes Z of shape {self._expected_shape()}, got "
                             f"{Z.shape}{self._hint(Z.shape)}")
        mean, var = self.running_mean, self.running_var
        if self.training and not self.track_running_stats:  # PyTorch's: the buffers untouched
            mean = var = None
        tracking = mean is not None and var is not None
        if (self.training or not tracking) and Z.size and all(n == 1 for n in Z.shape[:-1]):
            raise ArgumentError(self._one_value_message(tracking))
        if gamma is None:  # affine=False: constants, which the fused op gives no gradient
            gamma, beta = np.ones(self.n, Z.dtype), np.zeros(self.n, Z.dtype)
        momentum = self.momentum
        if momentum is None:  # the cumulative average: the k-th batch weighs 1 / k
            count = 0 if self.num_batches_tracked is None else int(self.num_batches_tracked)
            momentum = count / (count + 1)
        out, mean, var = _batch_norm(Z, gamma, beta, mean, var, self.training, momentum,
                                     self.eps)
        if mean is not None:
            self.running_mean, self.running_var = mean, var
            if self.momentum is None:
                self.num_batches_tracked = np.array(count + 1, dtype=np.int64)
        return out

    def _one_value_message(self, tracking: bool) -> str:
        """Why a batch of one value per feature is refused, and what to do."""
        if tracking:
            return (f"{self._label()} in training mode got {self.one_value}: normalised by its "
                    f"own mean, every {self.feature} is 0 and the output is beta whatever the "
                    "input. To predict, call model.eval() first (it uses the running "
                    "averages); to train, use batches of two or more examples (gg.fit and "
                    "DataLoader take drop_last=True to leave out a last, smaller batch).")
        return (f"{self._label()} without running statistics (running_mean or running_var is "
                f"None) normalises every batch by its own, and got {self.one_value}: every "
                f"{self.feature} would be 0 and the output beta whatever the input. Give "
                "batches of two or more examples, or set running_mean and running_var to "
                f"arrays (np.zeros({self.n}) and np.ones({self.n})) for eval() to use.")

    @property
    def single_node(self) -> bool:  # type: ignore[override]
        """One node (the fused op), unless gamma or beta was given another shape than (n,)."""
        n = (self.n,)
        return self.gamma is None or self.gamma.shape == n and self.beta.shape == n

    def _kind(self) -> str:
        return f"{type(self).__name__}({self.n})"

    def extra_repr(self) -> str:
        """``4, momentum=0.9, eps=1e-05`` (and ``affine=False``,
        ``track_running_stats=False``), for the repr."""
        momentum = "None" if self.momentum is None else f"{self.momentum:g}"
        flags = "".join(f", {name}=False" for name in ("affine", "track_running_stats")
                        if not getattr(self, name))
        return f"{self.n}, momentum={momentum}, eps={self.eps:g}{flags}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of Z of shape (m, n), per unit (column); or of sequences Z of shape
    (m, T_x, n), each unit over the m examples and the T_x steps, as Keras's
    BatchNormalization does after the trigger-word model's Conv1D (course 5).

    Training mode, over the m examples of the batch (the course's formulas)::

        mu = mean(Z),  sigma2 = mean((Z - mu)**2),  Z_norm = (Z - mu) / sqrt(sigma2 + eps)
        Z_tilde = gamma * Z_norm + beta

    and the running statistics follow an exponentially weighted average:
    ``running = momentum * running + (1 - momentum) * batch`` (the course's form;
    PyTorch's momentum=0.1 is this class's momentum=0.9). sigma2 is the batch's (biased)
    variance, also in the running average. Eval mode uses the running statistics, so a
    prediction does not depend on the rest of the batch. Training mode needs two or more
    examples per batch: one example, normalised by its own mean, would give beta whatever it is.
    A batch holding NaN or Inf leaves the running statistics as they were.

    Args:
        n: units per example (the preceding layer's n_out).
        momentum: weight of the old running statistics in each update. Between 0 and 0.5,
            it reads as PyTorch's: a `gg.ConventionWarning` says so. None is PyTorch's
            cumulative average: the running statistics are the mean of every training
            batch's, the k-th batch taken with momentum (k - 1) / k (PyTorch's 1 / k), k
            counted in the buffer ``num_batches_tracked`` (saved in the state_dict; a batch
            that leaves the statistics as they were is not counted).
        eps: keeps the division finite when a unit does not vary within the batch.
        dtype: np.float64 (default) or np.float32. Data of the other float dtype (an array,
            or a tensor that needs no gradient) is converted to it.
        affine: keyword; False leaves out gamma and beta (PyTorch's affine=False): the output
            is Z_norm, and the layer has no parameters.
        track_running_stats: keyword; False keeps no running statistics (running_mean and
            running_var are None, as PyTorch's): every batch is normalised by its own
            statistics, after ``eval()`` too. Set to False on a layer that has them, training
            leaves them as they are and ``eval()`` still uses them, as in PyTorch.
    """

    ndims = (2, 3)  # vectors (m, n), over axis 0, and sequences (m, T_x, n), over (0, 1)

    def __init__(self, n: int, momentum: float | None = 0.9, eps: float = 1e-5,
                 dtype: Any = np.float64, *, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__(whole_number(n, "n", "BatchNorm1d"), momentum, eps, dtype, affine,
                         track_running_stats)

    def _expected_shape(self) -> str:
        return f"(m, {self.n}) or sequences (m, T_x, {self.n})"

    def _hint(self, shape: tuple[int, ...]) -> str:
        if shape == (self.n,):
            return f" (Z[None], if Z is one example of shape ({self.n},))"
        if len(shape) == 2 and shape[0] == self.n:
            return " (Z.T, if Z holds one example per column as in the course)"
        if len(shape) > 3 and shape[-1] == self.n:
            return " (BatchNorm2d for images)"
        return ""


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images Z of shape (m, n_H, n_W, n_C), per channel: each
    channel (the output of one filter) is normalised over the m examples and all n_H x n_W
    positions, so every position of a channel gets the same gamma and beta, as a filter is the
    same at every position. This is the normalisation of the course's ResNets
    (``Conv2d(..., bias=False)``, then ``BatchNorm2d(n_C)``, then ``ReLU``).

    Training mode, with mean over the axes (m, n_H, n_W)::

        mu = mean(Z),  sigma2 = mean((Z - mu)**2),  Z_norm = (Z - mu) / sqrt(sigma2 + eps)
        Z_tilde = gamma * Z_norm + beta                  (mu, sigma2, gamma, beta: (n_C,))

    Everything else is as in `BatchNorm1d`: the running statistics
    ``running = momentum * running + (1 - momentum) * batch`` (momentum=0.9 is PyTorch's
    0.1; the biased variance), used in eval mode; the same state_dict keys (gamma, beta,
    running_mean, running_var). Training mode needs more than one value per channel: a batch
    of one 1 x 1 image is refused.

    Args:
        n_C: channels of the images (the preceding Conv2d's n_C).
        momentum: weight of the old running statistics in each update (a
            `gg.ConventionWarning` between 0 and 0.5, as for `BatchNorm1d`); None, the
            cumulative average of every batch's, as for `BatchNorm1d`.
        eps: keeps the division finite when a channel does not vary within the batch.
        dtype: np.float64 (default) or np.float32. Data of the other float dtype is
            converted to it.
        affine, track_running_stats: keywords, as for `BatchNorm1d`.
    """

    ndims = (4,)  # images (m, n_H, n_W, n_C), over (0, 1, 2)
    feature = "channel"
    one_value = "a batch of one 1 x 1 image"

    def __init__(self, n_C: int, momentum: float | None = 0.9, eps: float = 1e-5,
                 dtype: Any = np.float64, *, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__(whole_number(n_C, "n_C", "BatchNorm2d", 1), momentum, eps, dtype,
                         affine, track_running_stats)

    @property
    def n_C(self) -> int:
        """The channels, the course's name for ``n``."""
        return self.n

    def _expected_shape(self) -> str:
        return f"(m, n_H, n_W, n_C) with n_C = {self.n}, channels last"

    def _hint(self, shape: tuple[int, ...]) -> str:
        if len(shape) == 4 and shape[1] == self.n and shape[-1] != self.n:
            return (" (channels first? graphgrad's images are channels last: "
                    "Z.transpose(0, 2, 3, 1))")
        if len(shape) == 2 and shape[-1] == self.n:
            return " (vectors (m, n): use BatchNorm1d)"
        return ""


class LayerNorm(Module):
    """Layer normalisation, the Transformer's: each example (each position of a sequence) is
    normalised over its own d features, the last axis, then scaled and shifted::

        mu = mean(x),  sigma2 = mean((x - mu)**2),  x_norm = (x - mu) / sqrt(sigma2 + eps)
        y = gamma * x_norm + beta                       (mu, sigma2 over the last axis)

    with gamma and beta of shape (d,), starting at ones and zeros. Unlike `BatchNorm1d`, the
    statistics are the example's own: nothing is averaged over the batch, there are no
    running statistics, training and evaluation compute the same, and one example is fine.
    sigma2 is the biased variance, as in torch.nn.LayerNorm(d) (whose eps is 1e-5, the
    default here) and Keras's LayerNormalization() (epsilon=1e-3 by default; the course's
    EncoderLayer uses epsilon=1e-6, as `TransformerEncoderLayer` does).

    Args:
        normalized_shape: d, the features normalised together (the course's embedding_dim,
            d_model); or, as PyTorch's, a tuple of the sizes of the last axes normalised
            together: ``LayerNorm((n_H, n_W, n_C))`` normalises each image whole, with gamma
            and beta of that shape (one per value).
        eps: keeps the division finite when an example's features are all equal.
        elementwise_affine: False leaves out gamma and beta (PyTorch's): y = x_norm, and the
            layer has no parameters.
        bias: False leaves out beta (PyTorch's): y = gamma * x_norm.
        dtype: np.float64 (default) or np.float32. Data of the other float dtype (an array,
            or a tensor that needs no gradient) is converted to it.

    Shapes: X (m, d), a sequence (m, T_x, d), or any (..., d) -> the same shape; with a tuple,
    X (..., *normalized_shape).
    """

    short_name = "layernorm"

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        caller = "LayerNorm"
        self.normalized_shape = _normalized_shape(normalized_shape, caller)
        self.d = math.prod(self.normalized_shape)
        self.eps = _positive_eps(eps, caller)
        if not isinstance(elementwise_affine, (bool, np.bool_)) and _is_dtype(
                elementwise_affine):
            raise ArgumentError(
                f"{caller}: elementwise_affine must be True or False, got "
                f"{setting_text(elementwise_affine)}, a dtype: give it as a keyword, "
                f"LayerNorm(d, eps, dtype=...) (PyTorch's order: normalized_shape, eps, "
                "elementwise_affine, bias)")
        self.elementwise_affine = flag(elementwise_affine, "elementwise_affine", caller)
        bias = flag(bias, "bias", caller)
        self._dtype = dtype = float_dtype(dtype, caller)
        shape = self.normalized_shape
        affine = self.elementwise_affine
        self.gamma = Parameter(np.ones(shape, dtype=dtype)) if affine else None
        self.beta = Parameter(np.zeros(shape, dtype=dtype)) if affine and bias else None

    def _convert_constants(self, dtype: np.dtype) -> None:
        self._dtype = dtype  # without gamma, the dtype data is converted to

    def forward(self, X: Any) -> Tensor:
        """gamma * X_norm + beta, each example normalised over its last axis (its last axes,
        for a tuple).  X (..., d) -> the same shape."""
        X = as_data_of(X, self._dtype if self.gamma is None else self.gamma.data.dtype, self)
        if not isinstance(X, Tensor):
            X = Tensor(X)
        shape = self.normalized_shape
        if X.ndim < len(shape) or X.shape[X.ndim - len(shape):] != shape:
            tip = ""
            if len(shape) == 1 and self.d in X.shape:
                tip = (f" (the {self.d} features must be the last axis: move them there "
                       "with gg.swapaxes or X.transpose)")
            wanted = ", ".join(map(str, shape))
            raise ShapeError(f"{self._label()} takes X of shape (..., {wanted}), the "
                             f"features of each example last; got {describe(X)}{tip}")
        return _layer_norm_over(X, shape, self.gamma, self.beta, self.eps)

    @property
    def single_node(self) -> bool:  # type: ignore[override]
        """One node (the fused op), unless gamma or beta was given another shape than (d,),
        or the layer normalises over several axes (flattened into one, and back)."""
        d = (self.d,)
        return self.normalized_shape == d and all(
            p is None or p.shape == d for p in (self.gamma, self.beta))

    def _kind(self) -> str:
        return f"LayerNorm({self._shape_text()})"

    def _shape_text(self) -> str:
        shape = self.normalized_shape
        return str(shape[0]) if len(shape) == 1 else str(shape)

    def extra_repr(self) -> str:
        """``4, eps=1e-05`` (and ``elementwise_affine=False``, ``bias=False``), for the
        repr."""
        flags = ", elementwise_affine=False" if not self.elementwise_affine else (
            ", bias=False" if self.beta is None else "")
        return f"{self._shape_text()}, eps={self.eps:g}{flags}"


def _is_dtype(value: Any) -> bool:
    """Whether ``value`` names a numpy dtype (np.float32, "float32"), not None (float64)."""
    if value is None:
        return False
    try:
        np.dtype(value)
    except (TypeError, ValueError):
        return False
    return True


class GroupNorm(Module):
    """Group normalisation (PyTorch's nn.GroupNorm, channels last): the n_C channels split
    into ``num_groups`` groups of consecutive channels, each example's group normalised over
    its channels and every position, then scaled and shifted per channel::

        mu, sigma2 over (positions, the group's channels) of one example
        y = gamma * (x - mu) / sqrt(sigma2 + eps) + beta        (gamma, beta: (n_C,))

    The statistics are the example's own, as `LayerNorm`'s: no running statistics, training
    and evaluation compute the same, and batches of one are fine (U-Nets and detectors
    trained on small batches, where batch norm's statistics are noisy). num_groups=1 is
    layer normalisation over every position and channel; num_groups=num_channels is
    instance normalisation (`InstanceNorm2d`, with gamma and beta).

    Args:
        num_groups: G, which must divide num_channels.
        num_channels: n_C, the last axis of the input.
        eps: keeps the division finite when a group's values are all equal.
        affine: True (the default) learns gamma (starting at ones) and beta (at zeros);
            False leaves them out.
        dtype: np.float64 (default) or np.float32. Data of the other float dtype is
            converted to it.

    Shapes: images (m, n_H, n_W, n_C), sequences (m, n_L, n_C), or any (m, ..., n_C) ->
    the same shape. One fused op, as `LayerNorm`.
    """

    short_name = "groupnorm"
    single_node = True
    least_ndim = 2  # (m, n_C) at least: the statistics are over the axes between them too

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype: Any = np.float64) -> None:
        super().__init__()
        caller = type(self).__name__
        self.num_groups = whole_number(num_groups, "num_groups", caller)
        self.num_channels = whole_number(num_channels, "num_channels", caller)
        if self.num_channels % self.num_groups:
            raise ArgumentError(
                f"{caller}: num_groups={self.num_groups} must divide num_channels="
                f"{self.num_channels} (each group holds num_channels / num_groups channels); "
                "choose a divisor, such as "
                f"{_divisor_near(self.num_channels, self.num_groups)}")
        self.eps = _positive_eps(eps, caller)
        self.affine = flag(affine, "affine", caller)
        self._dtype = float_dtype(dtype, caller)
        self.gamma = Parameter(np.ones(self.num_channels, dtype=self._dtype)) if affine else None
        self.beta = Parameter(np.zeros(self.num_channels, dtype=self._dtype)) if affine else None

    def _convert_constants(self, dtype: np.dtype) -> None:
        self._dtype = dtype  # without gamma and beta, the dtype data is converted to

    def forward(self, X: Any) -> Tensor:
        """Each example's groups normalised, then gamma * X_norm + beta.  X (m, ..., n_C) ->
        the same shape."""
        dtype = self.gamma.data.dtype if self.gamma is not None else self._dtype
        X = as_data_of(X, dtype, self)
        shape = X.shape
        n_C = self.num_channels
        if len(shape) < self.least_ndim or len(shape) > 1 and shape[-1] != n_C:
            tip = ""
            if len(shape) > 2 and shape[1] == n_C:
                tip = (" (channels first? graphgrad's images are channels last: "
                       "X.transpose(0, 2, 3, 1))")
            raise ShapeError(f"{self._label()} takes X of shape {self._shape_text()}, "
                             f"channels last, got {_shown(X)}{tip}")
        if len(shape) > 1 and math.prod(shape[1:-1]) * (n_C // self.num_groups) == 1 \
                and shape[0]:
            raise ArgumentError(self._one_value_message(shape))
        return _group_norm(X, self.gamma, self.beta, self.num_groups, self.eps)

    def _shape_text(self) -> str:
        return f"(m, ..., {self.num_channels})"

    def _one_value_message(self, shape: tuple[int, ...]) -> str:
        return (f"{self._label()} got X of shape {shape}, one value in each group of each "
                "example: normalised by its own mean, every value would be 0 and the output "
                "beta whatever the input. Use fewer groups, or inputs with more positions.")

    def _kind(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        """``2, 4, eps=1e-05`` (and ``affine=False``), for the repr."""
        affine = "" if self.affine else ", affine=False"
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps:g}{affine}"


class _InstanceNorm(GroupNorm):
    """Instance normalisation (PyTorch's nn.InstanceNorm1d and nn.InstanceNorm2d, channels
    last): each channel of each example normalised over its own positions. `GroupNorm` with
    one group per channel, and PyTorch's running statistics: with track_running_stats=True,
    training updates running_mean and running_var (n_C,) from the batch, and ``eval()``
    normalises every example by them (`BatchNormEval`, as batch norm's evaluation). Subclasses
    set the rank of their input and the words of the messages."""

    least_ndim: int  # the rank of the input, exactly
    items = "examples"  # what an example is called in messages
    one_position = "one position"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.9,
                 affine: bool = False, track_running_stats: bool = False,
                 dtype: Any = np.float64) -> None:
        caller = type(self).__name__
        n_C = whole_number(num_features, "num_features", caller)
        if isinstance(momentum, (bool, np.bool_)):  # affine given third, in the old order
            raise pytorch_order_error(
                caller, f"momentum must be a number in [0, 1), got {momentum}",
                "num_features, eps, momentum, affine, track_running_stats", None,
                f"{caller}({n_C}, affine={momentum})")
        if momentum is None:
            raise ArgumentError(
                f"{caller}: momentum=None, PyTorch's cumulative average for batch norm, is "
                "not one for instance norm: PyTorch's InstanceNorm never updates its running "
                "statistics then (they stay zeros and ones). Give momentum in [0, 1), the "
                "weight of the old statistics (0.9, PyTorch's 0.1, by default)")
        super().__init__(n_C, n_C, eps, affine, dtype)
        self.momentum = _momentum(momentum, caller, f"{caller}(")
        self.track_running_stats = flag(track_running_stats, "track_running_stats", caller)
        tracked, dtype = self.track_running_stats, self._dtype
        self.register_buffer("running_mean", np.zeros(n_C, dtype=dtype) if tracked else None)
        self.register_buffer("running_var", np.ones(n_C, dtype=dtype) if tracked else None)

    def forward(self, A: Any) -> Tensor:
        """Each example's channels normalised over their positions, in training (and
        without running statistics) by their own mean and variance, which update the running
        ones; after ``eval()`` by the running ones.  A (m, ..., n_C) -> the same shape."""
        gamma, beta = self.gamma, self.beta
        A = as_data_of(A, self._dtype if gamma is None else gamma.data.dtype, self)
        shape = np.shape(A.data if isinstance(A, Tensor) else A)
        if len(shape) != self.least_ndim or shape[-1] != self.num_channels:
            raise ShapeError(f"{self._label()} takes {self._shape_text()}, channels last, "
                             f"got {_shown(A)}{self._hint(shape)}")
        if not isinstance(A, Tensor):
            A = Tensor(A)
        mean, var = self.running_mean, self.running_var
        tracking = self.track_running_stats and mean is not None and var is not None
        use_input_stats = self.training or not tracking
        if use_input_stats and shape[0] and math.prod(shape[1:-1]) == 1:
            raise ArgumentError(self._one_value_message(shape))
        if not use_input_stats:
            mean, var = mean.astype(A.dtype, copy=False), var.astype(A.dtype, copy=False)
        out, mean, var = _instance_norm(A, gamma, beta, mean if tracking else None,
                                        var if tracking else None, use_input_stats,
                                        self.momentum, self.eps)
        if mean is not None:
            self.running_mean, self.running_var = mean, var
        return out

    def _hint(self, shape: tuple[int, ...]) -> str:
        raise NotImplementedError

    def _one_value_message(self, shape: tuple[int, ...]) -> str:
        return (f"{self._label()} got {self.items} of {self.one_position}, {shape}: each "
                "channel normalised by its own mean would be 0 whatever the input. Instance "
                f"normalisation needs {self.items} of two positions or more (in evaluation, "
                "with track_running_stats=True, one is fine).")

    def extra_repr(self) -> str:
        """``3, eps=1e-05`` (and ``momentum=0.9``, ``affine=True``,
        ``track_running_stats=True``), for the repr."""
        momentum = f", momentum={self.momentum:g}" if self.track_running_stats else ""
        flags = "".join(f", {name}=True" for name in ("affine", "track_running_stats")
                        if getattr(self, name))
        return f"{self.num_channels}, eps={self.eps:g}{momentum}{flags}"


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of images (PyTorch's nn.InstanceNorm2d, channels last): each
    channel of each image normalised over its own n_H x n_W positions, as in style transfer::

        mu, sigma2 over (n_H, n_W) of one image and channel
        y = (x - mu) / sqrt(sigma2 + eps)           (then gamma * y + beta with affine=True)

    As PyTorch's default (track_running_stats=False), there are no running statistics:
    training and evaluation compute the same, each image by its own statistics. It is
    `GroupNorm` with one group per channel, on images only.

    With track_running_stats=True (PyTorch's), training also updates the buffers
    running_mean and running_var (n_C,): ``running = momentum * running + (1 - momentum) *
    batch``, batch the mean over the m images of each image's channel mean and variance, and
    ``eval()`` normalises every image by them, ``(x - running_mean) / sqrt(running_var +
    eps)``. As `BatchNorm2d`, momentum is the weight of the old statistics (the course's;
    PyTorch's momentum=0.1 is momentum=0.9 here, and between 0 and 0.5 a
    `gg.ConventionWarning` says so), and the variance is the biased one: PyTorch's running_var
    takes each image's unbiased variance, n_H n_W / (n_H n_W - 1) times it. A batch with NaN
    or Inf leaves the running statistics as they were. track_running_stats set to False on a
    layer that has them normalises by each image's own, leaving them as they are.

    Args (PyTorch's order):
        num_features: n_C, the channels of the images.
        eps: keeps the division finite when a channel of an image is constant.
        momentum: in [0, 1), the weight of the old running statistics (None, which PyTorch
            takes and then never updates them, is refused).
        affine: False (the default, as PyTorch's) leaves out gamma and beta; True learns them
            (ones and zeros to start, one per channel).
        track_running_stats: False (the default) keeps none; True, as above.
        dtype: np.float64 (default) or np.float32.

    Shapes: A (m, n_H, n_W, n_C) -> the same shape; images of one pixel are refused (every
    value would be 0) unless normalised by running statistics.
    """

    short_name = "instancenorm"
    least_ndim = 4
    items = "images"
    one_position = "one pixel"

    def _shape_text(self) -> str:
        return f"images A of shape (m, n_H, n_W, {self.num_channels})"

    def _hint(self, shape: tuple[int, ...]) -> str:
        if len(shape) == 3:
            return " (one image? add the batch axis: A[None])"
        if len(shape) == 4 and shape[1] == self.num_channels:
            return (" (channels first? graphgrad's images are channels last: "
                    "A.transpose(0, 2, 3, 1))")
        return ""


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of sequences (PyTorch's nn.InstanceNorm1d on (m, n_C, n_L)
    transposed): each channel of each sequence (m, n_L, n_C), channels last as `Conv1d` gives
    them, normalised over its own n_L steps; then gamma * y + beta with affine=True. The
    running statistics are `InstanceNorm2d`'s (momentum the weight of the old statistics,
    PyTorch's 0.1 is 0.9; the biased variance, PyTorch's running_var n_L / (n_L - 1) times it).

    Args (PyTorch's order): num_features (n_C), eps, momentum, affine, track_running_stats and
    dtype, as `InstanceNorm2d`'s.

    Shapes: A (m, n_L, n_C) -> the same shape; sequences of one step are refused unless
    normalised by running statistics.
    """

    short_name = "instancenorm"
    least_ndim = 3
    items = "sequences"
    one_position = "one step"

    def _shape_text(self) -> str:
        return f"sequences A of shape (m, n_L, {self.num_channels})"

    def _hint(self, shape: tuple[int, ...]) -> str:
        if len(shape) == 2:
            return " (one sequence? add the batch axis: A[None])"
        if len(shape) == 4:
            return " (images: InstanceNorm2d)"
        if len(shape) == 3 and shape[1] == self.num_channels:
            return (" (channels first? graphgrad's sequences are channels last: "
                    "A.transpose(0, 2, 1))")
        return ""


def _divisor_near(n: int, groups: int) -> int:
    """The divisor of n nearest ``groups`` (the smaller on a tie), for a message."""
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - groups), d))


def _shown(X: Any) -> str:
    return describe(X) if isinstance(X, Tensor) else f"shape {np.shape(X)}"


# -- the functional forms -------------------------------------------------------------------------
def _input(x: Any, caller: str, least_ndim: int, shape_text: str) -> Tensor:
    """x as a Tensor of floats (numbers and bools become float64) with at least
    ``least_ndim`` axes, or an error naming ``caller`` and the shape it takes."""
    if not isinstance(x, Tensor):
        array = array_of_numbers(x, "x", caller)
        x = Tensor(array if array.dtype.kind == "f" else array.astype(np.float64))
    if x.ndim < least_ndim:
        raise ShapeError(f"{caller} takes x of shape {shape_text}, channels last, got "
                         f"{describe(x)}")
    return x


def _affine_pair(weight: Any, bias: Any, x: Tensor, shape: tuple[int, ...],
                 caller: str, fill: bool = True) -> tuple[Any, Any]:
    """(gamma, beta): weight and bias as given (Tensors, or arrays of numbers), ones and
    zeros of ``shape`` in x's dtype for None (None itself without ``fill``); an error naming
    ``caller`` for one of another shape."""
    pair = []
    for name, value, filled in (("weight", weight, np.ones), ("bias", bias, np.zeros)):
        if value is None:
            pair.append(filled(shape, dtype=x.dtype) if fill else None)
            continue
        if not isinstance(value, Tensor):
            value = array_of_numbers(value, name, caller)
        if value.shape != shape:
            raise ShapeError(f"{caller}: {name} must have shape {shape}, one value per "
                             f"normalised feature of x {describe(x)}; got {describe(value)}")
        pair.append(value)
    return pair[0], pair[1]


def _running(value: Any, name: str, n: int, caller: str) -> Any:
    """A running statistic as its array (a Tensor's data), to update in place: None, or a
    writable float array of shape (n,); an error naming ``caller`` for anything else."""
    if value is None:
        return None
    array = value.data if isinstance(value, Tensor) else value
    if type(array) is not np.ndarray or array.dtype.kind != "f" or array.shape != (n,):
        raise GraphgradTypeError(
            f"{caller}: {name} must be None or a float array (or Tensor) of shape ({n},), "
            f"one per channel of x, updated in place in training; got {setting_text(value)}")
    if not array.flags.writeable:
        raise ArgumentError(f"{caller}: {name} {describe(value)} is read-only, and training "
                            f"updates it in place: pass a copy (np.array({name}))")
    return array


def batch_norm(x: Any, running_mean: Any, running_var: Any, weight: Any = None,
               bias: Any = None, training: bool = False, momentum: float = 0.9,
               eps: float = 1e-5) -> Tensor:
    """Batch normalisation, the function of `BatchNorm1d` and `BatchNorm2d` (PyTorch's
    F.batch_norm, channels last): x (m, n), (m, T_x, n) or images (m, n_H, n_W, n) normalised
    per feature, the last axis, over every other axis, then weight * x_norm + bias.

    In training, or when running_mean and running_var are None, by the batch's mean and
    (biased) variance; with ``training`` and running statistics given, they are updated in
    place: running = momentum * running + (1 - momentum) * batch. Otherwise by running_mean
    and running_var. Where this differs from PyTorch: momentum is the weight of the old
    statistics (the course's and Keras's; PyTorch's momentum=0.1 is momentum=0.9 here, and
    between 0 and 0.5 a `gg.ConventionWarning` says so), and running_var follows the batch's
    biased variance (PyTorch's takes the unbiased one, m / (m - 1) times it), as the layers do.
    A batch with NaN or Inf leaves the running statistics as they were.

    Args:
        x: (m, ..., n), at least two axes.
        running_mean, running_var: None, or float arrays (or Tensors) of shape (n,).
        weight, bias: gamma and beta, (n,); None for ones and zeros.
        training: use (and update) the batch's statistics.
        momentum: in [0, 1); eps: > 0, keeps the division finite.

    Returns the normalised x, of x's shape.
    """
    caller = "batch_norm"
    x = _input(x, caller, 2, "(m, ..., n)")
    n = x.shape[-1]
    momentum = _momentum(momentum, caller, "batch_norm(x, ..., ")
    eps = _positive_eps(eps, caller)
    training = flag(training, "training", caller)
    gamma, beta = _affine_pair(weight, bias, x, (n,), caller)
    mean = _running(running_mean, "running_mean", n, caller)
    var = _running(running_var, "running_var", n, caller)
    tracking = mean is not None and var is not None
    if (mean is None) != (var is None):
        raise ArgumentError(f"{caller}: give both running_mean and running_var, or neither "
                            "(None: every batch normalised by its own statistics)")
    if (training or not tracking) and x.size and all(k == 1 for k in x.shape[:-1]):
        raise ArgumentError(f"{caller} got x {describe(x)}, one value per feature: "
                            "normalised by its own mean, every feature would be 0 and the "
                            "output bias whatever the input. Give batches of two or more "
                            "examples, or training=False with running statistics.")
    if tracking and not (training and x.size):
        # normalised by the running statistics, buffers which set no dtype: the output has
        # x's, weight's and bias's, as the batch's statistics give it in training
        dtype = np.result_type(x.dtype, gamma.dtype, beta.dtype)
        mean, var = mean.astype(dtype, copy=False), var.astype(dtype, copy=False)
    out, new_mean, new_var = _batch_norm(x, gamma, beta, mean, var, training, momentum, eps)
    if new_mean is not None:
        mean[...] = new_mean
        var[...] = new_var
    return out


def layer_norm(x: Any, normalized_shape: Any, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Layer normalisation, the function of `LayerNorm` (PyTorch's F.layer_norm): each
    example normalised over its last axes, ``normalized_shape`` (d,) or (d1, d2, ...) (or d),
    then weight * x_norm + bias with weight and bias of that shape (None: no scale, no shift,
    as PyTorch's). x (..., *normalized_shape) -> the same shape. One fused node (the last
    axes flattened)."""
    caller = "layer_norm"
    shape = _normalized_shape(normalized_shape, caller)
    x = _input(x, caller, len(shape), f"(..., {', '.join(map(str, shape))})")
    eps = _positive_eps(eps, caller)
    if x.shape[x.ndim - len(shape):] != shape:
        raise ShapeError(f"{caller}: x {describe(x)} must end in normalized_shape {shape}, the "
                         "axes normalised together (the features last)")
    gamma, beta = _affine_pair(weight, bias, x, shape, caller, fill=False)
    return _layer_norm_over(x, shape, gamma, beta, eps)


def group_norm(x: Any, num_groups: int, weight: Any = None, bias: Any = None,
               eps: float = 1e-5) -> Tensor:
    """Group normalisation, the function of `GroupNorm` (PyTorch's F.group_norm, channels
    last): x (m, ..., n_C)'s channels split into num_groups groups of consecutive channels,
    each example's group normalised over its channels and every position, then weight *
    x_norm + bias with weight and bias (n_C,) (None: ones and zeros). -> x's shape."""
    caller = "group_norm"
    x = _input(x, caller, 2, "(m, ..., n_C)")
    groups = whole_number(num_groups, "num_groups", caller)
    n_C = x.shape[-1]
    if n_C % groups:
        raise ArgumentError(f"{caller}: num_groups={groups} must divide the n_C={n_C} "
                            f"channels of x {describe(x)}; choose a divisor, such as "
                            f"{_divisor_near(n_C, groups)}")
    gamma, beta, eps = _group_settings(x, groups, weight, bias, eps, caller)
    return _group_norm(x, gamma, beta, groups, eps)


def instance_norm(x: Any, running_mean: Any = None, running_var: Any = None,
                  weight: Any = None, bias: Any = None, use_input_stats: bool = True,
                  momentum: float = 0.9, eps: float = 1e-5) -> Tensor:
    """Instance normalisation, the function of `InstanceNorm2d` and `InstanceNorm1d`
    (PyTorch's F.instance_norm, its arguments in its order, channels last): each channel of
    each example of x (m, n_H, n_W, n_C) (or sequences (m, n_L, n_C)) normalised over its
    own positions, then weight * x_norm + bias, (n_C,) (None: none).

    With ``use_input_stats`` (the default), by each example's own statistics; running_mean
    and running_var, if given, are updated in place: running = momentum * running + (1 -
    momentum) * the batch's mean over its examples of each channel's mean and biased
    variance. With use_input_stats=False, by running_mean and running_var (both needed),
    which stay as they are. As `batch_norm`, momentum is the weight of the old statistics
    (PyTorch's momentum=0.1 is 0.9 here; a `gg.ConventionWarning` between 0 and 0.5), and
    running_var follows the biased variance (PyTorch's, the unbiased one, n / (n - 1) times
    it over n positions). A batch with NaN or Inf leaves them as they were. -> x's shape."""
    caller = "instance_norm"
    x = _input(x, caller, 3, "(m, n_H, n_W, n_C) or (m, n_L, n_C)")
    n_C = x.shape[-1]
    use_input_stats = flag(use_input_stats, "use_input_stats", caller)
    momentum = _momentum(momentum, caller, "instance_norm(x, ..., ")
    mean = _running(running_mean, "running_mean", n_C, caller)
    var = _running(running_var, "running_var", n_C, caller)
    if (mean is None) != (var is None):
        raise ArgumentError(f"{caller}: give both running_mean and running_var, or neither "
                            "(None: every example normalised by its own statistics)")
    if not use_input_stats:
        if mean is None:
            raise ArgumentError(f"{caller}: use_input_stats=False normalises by running_mean "
                                "and running_var: give both (arrays of shape "
                                f"({n_C},)), or leave use_input_stats=True")
        eps = _positive_eps(eps, caller)
        gamma, beta = _affine_pair(weight, bias, x, (n_C,), caller)
        dtype = np.result_type(x.dtype, gamma.dtype, beta.dtype)
        out, _, _ = _instance_norm(x, gamma, beta, mean.astype(dtype, copy=False),
                                   var.astype(dtype, copy=False), False, momentum, eps)
        return out
    gamma, beta, eps = _group_settings(x, n_C, weight, bias, eps, caller)
    out, new_mean, new_var = _instance_norm(x, gamma, beta, mean, var, True, momentum, eps)
    if new_mean is not None:
        mean[...] = new_mean
        var[...] = new_var
    return out


def _group_settings(x: Tensor, groups: int, weight: Any, bias: Any, eps: float,
                    caller: str) -> tuple[Any, Any, float]:
    """(gamma, beta, eps) after group_norm's and instance_norm's checks of eps, weight and bias
    and of x's groups (one value each is refused); gamma and beta None when both are."""
    eps = _positive_eps(eps, caller)
    if x.size and math.prod(x.shape[1:-1]) * (x.shape[-1] // groups) == 1:
        raise ArgumentError(f"{caller} got x {describe(x)}, one value in each group of each "
                            "example: normalised by its own mean, every value would be 0. "
                            "Give inputs with more positions (or fewer groups).")
    gamma = beta = None
    if weight is not None or bias is not None:
        gamma, beta = _affine_pair(weight, bias, x, x.shape[-1:], caller)
    return gamma, beta, eps
