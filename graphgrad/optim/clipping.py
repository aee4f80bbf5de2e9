"""Gradient clipping, the course's remedy for exploding gradients in recurrent networks.

Call it between ``J.backward()`` and ``optimizer.step()``. A clipped gradient is a new array
put in ``p.grad``: a .grad set by hand may be any array, read-only or the user's own. Depends
on `tensor`, `errors`, `optim.optimizer`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from graphgrad.errors import (
    AnomalyError,
    ArgumentError,
    describe,
    listed,
    setting_text,
)
from graphgrad.optim.optimizer import not_a_tensor, real_gradient, refuse_one_tensor_or_model
from graphgrad.tensor import Tensor

_FLOAT64 = np.dtype(np.float64)


def _positive(value: Any, what: str, caller: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 < value < np.inf:
        swapped = (f" (the tensors go first: {caller}(model.parameters(), 1.0))"
                   if isinstance(value, (list, tuple, Tensor)) or hasattr(value, "__next__")
                   else "")
        raise ArgumentError(f"{caller}: {what} must be a positive number, got "
                            f"{setting_text(value)}{swapped}")
    return float(value)


def _grads(params: Iterable[Tensor], caller: str) -> list[tuple[Tensor, np.ndarray]]:
    """The tensors that have a gradient, each once, with it as an array of real numbers:
    every one is checked before any is clipped, so that a refused one leaves all as they
    were."""
    # Clipping a tensor's rows would silently leave its gradient as it is.
    refuse_one_tensor_or_model(params, caller, "whose gradients to clip")
    params = listed(params, caller)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise not_a_tensor(caller, f"parameter {i}", p)
    # A tensor listed twice (a tied W in the lists of both its layers) has one gradient:
    # counted twice, the norm was too large and the gradients clipped too much.
    once = {id(p): p for p in params}.values()
    grads = []
    for p in once:
        g = p.grad
        if g is None:
            continue
        # An array of real numbers, as backward leaves, is taken as it is; anything else is
        # checked and converted, naming p only then (the name took half a step's time).
        if type(g) is not np.ndarray or g.dtype.kind not in "fiu":
            g = real_gradient(p, g, f"{caller}: {describe(p)}", "No gradient was clipped")
        grads.append((p, g))
    return grads


def _l2_norm(p: Tensor, g: np.ndarray) -> float:
    """||dW||, of ``g``, p's gradient, in float64 and without overflow: exploding float32
    gradients (3e19) have squares float32 cannot hold."""
    if g.dtype is not _FLOAT64:
        g = g.astype(np.float64)
    norm = math.sqrt(np.vdot(g, g))  # g is real: its dot with itself is a real float64
    if math.isfinite(norm):
        return norm
    if not np.isfinite(g).all():
        raise AnomalyError(f"clip_grad_norm: the gradient of {describe(p)} holds NaN or Inf; "
                           "find where it comes from with gg.detect_anomaly()")
    largest = float(np.abs(g).max())
    scaled = g / largest
    return largest * math.sqrt(np.vdot(scaled, scaled))


def _norm_order(norm_type: Any) -> float:
    """PyTorch's norm_type, a number p > 0 or inf ("inf"), as a float."""
    order = norm_type
    if isinstance(norm_type, str) and norm_type.lower() == "inf":
        order = np.inf
    if isinstance(order, (bool, np.bool_)) or not isinstance(
            order, (int, float, np.integer, np.floating)) or not order > 0:
        raise ArgumentError(f"clip_grad_norm: norm_type must be a number p > 0 (2, the L2 "
                            f"norm, by default) or inf, got {setting_text(norm_type)}")
    return float(order)


def _finite(p: Tensor, g: np.ndarray) -> np.ndarray:
    """``g``, p's gradient, as float64 magnitudes, or an `AnomalyError` if any is NaN or Inf."""
    magnitudes = np.abs(g.astype(np.float64))
    if not np.isfinite(magnitudes).all():
        raise AnomalyError(f"clip_grad_norm: the gradient of {describe(p)} holds NaN or Inf; "
                           "find where it comes from with gg.detect_anomaly()")
    return magnitudes


def _p_norm(pieces: list, order: float) -> float:
    """The p-norm of the values of all the arrays ``pieces`` (or of numbers) together; the
    largest value scales them first, so that their powers neither overflow nor vanish."""
    largest = max((float(np.max(piece, initial=0.0)) for piece in pieces), default=0.0)
    if largest == 0.0 or order == np.inf:
        return largest
    total = sum(float(np.sum((np.asarray(piece) / largest) ** order)) for piece in pieces)
    return largest * total ** (1.0 / order)


def clip_grad_value(params: Iterable[Tensor], clip_value: float) -> None:
    """Clip every element of every gradient to [-clip_value, clip_value], as the course's
    ``clip(gradients, maxValue)`` does. Parameters without a gradient are left alone.

    Raises:
        GraphgradTypeError: ``params`` is no iterable (None, a number), an element of it is no
            Tensor, or a gradient is no array of real numbers (strings, bools, complex
            numbers, a Tensor), naming the parameter. Every gradient is checked before any is
            clipped, so none is.
        ArgumentError: ``clip_value`` is no positive number.
    """
    clip_value = _positive(clip_value, "clip_value", "clip_grad_value")
    clipped = [(p, np.clip(g, -clip_value, clip_value))
               for p, g in _grads(params, "clip_grad_value")]
    for p, g in clipped:
        p.grad = g


def clip_grad_norm(params: Iterable[Tensor], max_norm: float,
                   norm_type: float | str = 2.0) -> float:
    """Scale the gradients of ``params`` (the tensors, ``model.parameters()``) together so
    that their joint L2 norm is at most ``max_norm``: the direction of the step is kept, only
    its length is capped. ``norm_type`` p > 0 (PyTorch's) measures them by the p-norm of all
    their elements together, (sum |g|**p)**(1/p), inf (or "inf") by the largest |g|.
    A tensor given twice (a weight tied between two layers, in both their lists) counts once,
    as in ``model.parameters()``; one without a gradient is left alone, counting for nothing.
    The scale is max_norm / norm, so the clipped norm is max_norm; PyTorch's clip_grad_norm_
    divides by norm + 1e-6 and leaves it a little under.

    Returns:
        the norm before clipping (to watch for exploding gradients).

    Raises:
        AnomalyError: a gradient holds NaN or Inf, naming the parameter: no scale fixes that.
        GraphgradTypeError, ArgumentError: as for `clip_grad_value` (``max_norm`` in place of
            ``clip_value``); in either case no gradient is scaled.
    """
    max_norm = _positive(max_norm, "max_norm", "clip_grad_norm")
    order = _norm_order(norm_type)
    grads = _grads(params, "clip_grad_norm")
    if order == 2.0:
        norm = math.hypot(*[_l2_norm(p, g) for p, g in grads])  # hypot: no overflow in squares
    else:
        norm = _p_norm([_p_norm([_finite(p, g)], order) for p, g in grads], order)
    if norm > max_norm:
        scale = max_norm / norm
        for p, g in grads:
            # float32 stays float32; integers become float64, which their scaled values need
            scaled = g * scale
            dtype = g.dtype if g.dtype.kind == "f" else _FLOAT64
            p.grad = scaled if scaled.dtype is dtype else scaled.astype(dtype)
    return norm
