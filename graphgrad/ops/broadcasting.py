"""Undoing numpy broadcasting in backward: the one helper every binary op uses."""
from __future__ import annotations

from typing import Any


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes broadcasting added or stretched, so it has ``shape``.

    If forward broadcast ``b`` of shape (1, 4) against (3, 4), each element of ``b`` was used
    3 times, so its gradient is the sum of the 3 rows of ``grad``. Works on arrays and Tensors.
    """
    grad_shape = grad.shape
    if grad_shape == shape:
        return grad
    extra = len(grad_shape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad_shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)
