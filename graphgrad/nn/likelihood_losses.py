"""PyTorch's negative log-likelihood losses of a distribution the model predicts, composed of
graphgrad's ops: `poisson_nll_loss` (counts, from a predicted rate) and `gaussian_nll_loss`
(real targets, from a predicted mean and variance).

Each takes the model's output first, then the targets of its shape (PyTorch broadcasts them;
here, as for graphgrad's other losses, a shape that differs is refused), and ``reduction``
(``"mean"`` over all elements, ``"sum"`` or ``"none"``) as a keyword, checked by `losses`'
helpers, whose errors these share. Depends on `losses`, `composed_losses`, `ops`, `tensor`,
`errors`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, ShapeError, describe, flag, real_number
from graphgrad.nn.composed_losses import _reduce
from graphgrad.nn.losses import _as_labels, _regression_pair
from graphgrad.ops.elementwise import exp, log, where
from graphgrad.ops.shape import expand_dims
from graphgrad.tensor import Tensor

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _refuse_negative(loss: str, x: Tensor, what: str, tip: str) -> None:
    """Refuse values below 0 (NaN passes: fit names it)."""
    data = x.data
    if data.size and data.dtype.kind in "fiu" and data.min() < 0:
        raise ArgumentError(f"{loss}: the {what} {describe(x)} must be >= 0, got "
                            f"{data.min():.4g}. {tip}")


def poisson_settings(log_input: Any, full: Any, eps: Any, caller: str
                     ) -> tuple[bool, bool, float]:
    """`poisson_nll_loss`'s ``log_input``, ``full`` (flags) and ``eps`` (a finite number >=
    0), or an `ArgumentError` in ``caller``'s name."""
    return (flag(log_input, "log_input", caller), flag(full, "full", caller),
            real_number(eps, "eps", caller, lambda e: 0.0 <= e < math.inf,
                        "a finite number >= 0 (1e-8, PyTorch's default)"))


def poisson_nll_loss(predictions: Any, targets: Any, log_input: bool = True,
                     full: bool = False, *, eps: float = 1e-8,
                     reduction: str = "mean") -> Tensor:
    """PyTorch's poisson_nll_loss: the negative log-likelihood of counts k (the ``targets``)
    under Poisson distributions of rate lambda predicted by the model, without its constant
    log k! unless ``full``.

    Args:
        predictions: log lambda (``log_input=True``, PyTorch's default: any real, the
            output of a linear layer), each term e**x - k x; or, with ``log_input=False``,
            the rates lambda >= 0 themselves, each term lambda - k log(lambda + eps).
        targets: the counts k >= 0, of the predictions' shape.
        full: add Stirling's approximation of log k!, k log k - k + log(2 pi k) / 2, where
            k > 1 (0 elsewhere), as PyTorch's.
        eps: a finite number >= 0 keeping log(lambda + eps) finite at lambda = 0 (keyword:
            PyTorch's comes after its deprecated arguments).
        reduction: ``"mean"`` over all elements, ``"sum"`` or ``"none"``.

    dx = e**x - k with log_input (dlambda = 1 - k / (lambda + eps) without). e**x overflows
    beyond x = 709, as PyTorch's does: inf there.
    """
    loss = "poisson_nll_loss"
    log_input, full, eps = poisson_settings(log_input, full, eps, loss)
    x, k = _regression_pair(loss, predictions, targets, reduction)
    _refuse_negative(loss, k, "targets (counts)", "A Poisson target is a count.")
    if log_input:
        terms = exp(x) - k * x
    else:
        _refuse_negative(loss, x, "rates (log_input=False)",
                         "For log-rates (a linear layer's output) pass log_input=True.")
        terms = x - k * log(x + eps)
    if full:
        terms = terms + _stirling(k)
    return _reduce(terms, reduction)


def _stirling(k: Tensor) -> Tensor:
    """Stirling's approximation of log k!, PyTorch's: k log k - k + log(2 pi k) / 2 where
    k > 1, 0 elsewhere (k of 1 in the logs there, so no log 0: a gradient of 0, not NaN, for
    targets that require grad)."""
    above = k.data > 1
    safe = where(above, k, 1.0)
    return where(above, safe * log(safe) - safe + 0.5 * log((2 * math.pi) * safe), 0.0)


def _gaussian_var(loss: str, var: Any, x: Tensor) -> Tensor:
    """The variance as a Tensor that broadcasts to x's shape, by PyTorch's rules: x's shape
    (one variance per element), x's shape without its last axis (one per example, given a last
    axis of 1 here), or x's shape with one axis of 1 (one shared along it); a number is one for
    all. Values below 0 are refused."""
    if not isinstance(var, Tensor) and np.ndim(var) == 0:
        value = real_number(var, "var", loss, lambda v: v >= 0 and v == v,
                            "a number >= 0, or numbers >= 0 (a tensor, an array)")
        return _named_var(_as_labels(np.full(x.shape, value), x, loss, "var"), var)
    v = _named_var(_as_labels(var, x, loss, "var"), var)
    if v.shape != x.shape:
        if v.shape == x.shape[:-1]:
            v = expand_dims(v, -1)
        elif not (v.ndim == x.ndim and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1):
            raise ShapeError(
                f"{loss}: var {describe(v)} must have the predictions' shape {x.shape} (one "
                f"variance each), {x.shape[:-1]} (one per example), or {x.shape} with one axis "
                "of 1 (one shared along that axis), as PyTorch's")
    _refuse_negative(loss, v, "variances var", "Predict a variance through softplus or exp.")
    return v


def _named_var(v: Tensor, var: Any) -> Tensor:
    """v named "var" (in errors and pictures) when made here from numbers, which `_as_labels`
    names "Y", as the targets; a Tensor of the caller's keeps its name."""
    if v is not var and not (isinstance(var, Tensor) and var.name):
        v.name = "var"
    return v


def gaussian_settings(full: Any, eps: Any, caller: str) -> tuple[bool, float]:
    """`gaussian_nll_loss`'s ``full`` (a flag) and ``eps`` (a finite number > 0), or an
    `ArgumentError` in ``caller``'s name."""
    return flag(full, "full", caller), real_number(
        eps, "eps", caller, lambda e: 0.0 < e < math.inf,
        "a finite number above 0 (1e-6, PyTorch's default)")


def gaussian_nll_loss(predictions: Any, targets: Any, var: Any, full: bool = False,
                      eps: float = 1e-6, *, reduction: str = "mean") -> Tensor:
    """PyTorch's gaussian_nll_loss: the negative log-likelihood of the ``targets`` y under
    normal distributions of mean mu (the ``predictions``) and variance ``var``, each term
    (log(max(var, eps)) + (mu - y)**2 / max(var, eps)) / 2, plus log(2 pi) / 2 if ``full``.

    Args:
        predictions, targets: of one shape, (m, n) or any.
        var: the variances, >= 0 (a model's softplus or exp of an output), by PyTorch's rules:
            of the predictions' shape, or of that shape without its last axis (m,) (one per
            example, shared by its n values), or of that shape with one axis of 1 ((m, 1),
            one per example); a number is one variance for all.
        full: add the constant log(2 pi) / 2 to each term.
        eps: var is clamped at eps (> 0), as PyTorch's: where var < eps the term is taken at
            eps, and var's gradient is that at eps, passed through the clamp as PyTorch's is
            (its clamp is made under no_grad), so a variance driven below eps is still pushed
            back up.
        reduction: ``"mean"`` over all elements (of the predictions' shape), ``"sum"`` or
            ``"none"``.
    """
    loss = "gaussian_nll_loss"
    full, eps = gaussian_settings(full, eps, loss)
    mu, y = _regression_pair(loss, predictions, targets, reduction)
    v = _gaussian_var(loss, var, mu)
    low = v.data < eps
    if low.any():
        # max(var, eps) in value, with var's own gradient: (v - v) is exactly 0, then eps or v
        # added back exactly
        v = (v - v.data) + np.where(low, eps, v.data).astype(v.data.dtype, copy=False)
    d = mu - y
    terms = 0.5 * (log(v) + d * d / v)
    if full:
        terms = terms + _HALF_LOG_2PI
    return _reduce(terms, reduction)
