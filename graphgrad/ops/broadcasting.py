"""Broadcasting in backward: undoing it (`unbroadcast`, the one helper every binary op uses),
and spreading a reduction's gradient back over its input (`broadcast_gradient`)."""
from __future__ import annotations

from typing import Any

import numpy as np


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


def broadcast_gradient(grad: Any, shape: tuple[int, ...]) -> Any:
    """``np.broadcast_to(grad, shape)``: a read-only view, each element of it ``grad``'s.

    A reduction to one number (J = L.sum(), a mean cost) hands every input element that
    number: here a view of it with zero strides, made directly, which costs a tenth of
    numpy's `broadcast_to` (a Python function that builds an iterator). On Tensors
    (``create_graph``) and other gradients it is `np.broadcast_to` itself.
    """
    if type(grad) is not np.ndarray:
        if not isinstance(grad, np.generic):
            return np.broadcast_to(grad, shape)
        grad = np.asarray(grad)  # numpy gives the product of 0-d arrays as a scalar
    if grad.size != 1 or grad.ndim > len(shape):
        return np.broadcast_to(grad, shape)
    view = np.ndarray(shape, grad.dtype, grad, 0, (0,) * len(shape))
    view.setflags(False)  # write=False: one write would change every element
    return view
