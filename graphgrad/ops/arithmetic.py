"""Arithmetic ops: + - * / ** neg @, with numpy broadcasting undone in backward."""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.function import Function
from graphgrad.ops.broadcasting import unbroadcast
from graphgrad.tensor import Tensor


def _label(t: Tensor, default: str) -> str:
    return t.name or default


def _broadcast_hint(x: Tensor, y: Tensor, _labels: tuple[str, str] = ("x", "y"), **_: Any
                    ) -> str | None:
    """Shown when forward fails: why two shapes do not broadcast, and what usually fixes it.
    ``_labels`` name the unnamed inputs (arctan2's are y and x)."""
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        return (
            f"{_label(x, _labels[0])} {x.shape} and {_label(y, _labels[1])} {y.shape} do not "
            "broadcast: aligned from the right, each pair of dimensions must be equal or 1. "
            "Check which axis holds the examples (m); a .T or .reshape(...) usually fixes it."
        )
    return None


def _same_float(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x and y with an integer or bool one in the other's float dtype. numpy would make
    float32 and int64 into float64; an int tensor (a count, a mask's sum) takes the float's
    dtype instead, as an int array or a Python number does, and as in PyTorch."""
    if x.dtype.kind == "f":
        if y.dtype.kind in "biu":
            return x, y.astype(x.dtype)
    elif y.dtype.kind == "f" and x.dtype.kind in "biu":
        return x.astype(y.dtype), y
    return x, y


class Add(Function):
    """z = x + y;  dz/dx = dz/dy = 1"""

    broadcasts = True
    hint = staticmethod(_broadcast_hint)
    shapes = None  # the inputs' shapes, kept only when they differ (broadcasting)

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype is not y.dtype:
            x, y = _same_float(x, y)
        if x.shape != y.shape:
            ctx.shapes = (x.shape, y.shape)
        return x + y

    @staticmethod
    def backward(ctx, grad):
        if ctx.shapes is None:
            return grad, grad
        x_shape, y_shape = ctx.shapes
        return unbroadcast(grad, x_shape), unbroadcast(grad, y_shape)


class Sub(Function):
    """z = x - y;  dz/dx = 1, dz/dy = -1"""

    broadcasts = True
    hint = staticmethod(_broadcast_hint)
    shapes = None  # the inputs' shapes, kept only when they differ (broadcasting)

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype is not y.dtype:
            x, y = _same_float(x, y)
        if x.shape != y.shape:
            ctx.shapes = (x.shape, y.shape)
        return x - y

    @staticmethod
    def backward(ctx, grad):
        if ctx.shapes is None:
            return grad, -grad
        x_shape, y_shape = ctx.shapes
        return unbroadcast(grad, x_shape), unbroadcast(-grad, y_shape)


class Mul(Function):
    """z = x * y;  dz/dx = y, dz/dy = x"""

    broadcasts = True
    hint = staticmethod(_broadcast_hint)

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype is not y.dtype:
            x, y = _same_float(x, y)
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        need_x, need_y = ctx.needs_input_grad
        return (
            unbroadcast(grad * y, x.shape) if need_x else None,
            unbroadcast(grad * x, y.shape) if need_y else None,
        )


class Div(Function):
    """z = x / y;  dz/dx = 1/y, dz/dy = -x/y**2 = -z/y"""

    broadcasts = True
    hint = staticmethod(_broadcast_hint)

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype is not y.dtype:
            x, y = _same_float(x, y)
        z = x / y
        ctx.save_for_backward(y, z)
        ctx.x_shape = x.shape
        return z

    @staticmethod
    def backward(ctx, grad):
        y, z = ctx.saved
        need_x, need_y = ctx.needs_input_grad
        # -z/y, not -x/(y*y): y*y overflows or underflows to 0 long before x/y**2 does
        # (1/y**2 is -inf for y = 1e-20 in float32, 0/y**2 is NaN for y = 1e-200).
        return (
            unbroadcast(grad / y, ctx.x_shape) if need_x else None,
            unbroadcast(-grad * (z / y), y.shape) if need_y else None,
        )


class Neg(Function):
    """z = -x;  dz/dx = -1"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Pow(Function):
    """z = x ** p;  dz/dx = p * x**(p-1), dz/dp = z * log(x) (0 where x = 0 and p >= 0)"""

    broadcasts = True
    hint = staticmethod(_broadcast_hint)

    zero_to_the_zero = None  # where x and p are both 0, when they are somewhere

    @staticmethod
    def forward(ctx, x, p):
        if x.dtype is not p.dtype:
            x, p = _same_float(x, p)
        z = x**p
        ctx.save_for_backward(x, p, z)
        if (p == 0).any():
            zero = (p == 0) & (x == 0)
            if zero.any():
                ctx.zero_to_the_zero = zero
        return z

    @staticmethod
    def backward(ctx, grad):
        x, p, z = ctx.saved
        need_x, need_p = ctx.needs_input_grad
        dx = dp = None
        if need_x:
            slope_power = p - 1
            # x ** 0 is 1 for every x: at x = 0 its slope is 0, not 0 * 0**-1 = NaN. Elsewhere
            # p * x**(p - 1) is left as it is: its derivative in p at p = 0 is x**-1, not 0.
            if ctx.zero_to_the_zero is not None:
                slope_power = np.where(ctx.zero_to_the_zero, 0, slope_power)
            dx = unbroadcast(grad * p * x ** slope_power, x.shape)
        if need_p:
            # 0 ** p is 0 for every p > 0: its slope in p is 0, not 0 * log(0) = NaN (at p = 0
            # too, as in PyTorch). For p < 0 it is inf * log(0) = -inf, as in PyTorch.
            log_x = np.log(np.where(np.logical_and(x == 0, p >= 0), 1, x))
            dp = unbroadcast(grad * z * log_x, p.shape)
        return dx, dp


class MatMul(Function):
    """Z = X @ Y (numpy semantics: 1-D operands, batched stacks);  dX = dZ Y^T, dY = X^T dZ"""

    rank1_is_error = True  # under strict_shapes

    @staticmethod
    def forward(ctx, x, y):
        if x.dtype is not y.dtype:
            x, y = _same_float(x, y)
        ctx.save_for_backward(x, y)
        return x @ y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved
        need_x, need_y = ctx.needs_input_grad
        if x.ndim == 2 and y.ndim == 2:  # the common case, without reshapes
            return (grad @ y.T if need_x else None, x.T @ grad if need_y else None)
        # Promote 1-D operands to matrices as numpy does, then undo it.
        x2 = x.reshape(1, -1) if x.ndim == 1 else x
        y2 = y.reshape(-1, 1) if y.ndim == 1 else y
        g2 = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:]) if x.ndim == 1 else grad
        g2 = g2.reshape(g2.shape + (1,)) if y.ndim == 1 else g2
        dx = unbroadcast(g2 @ y2.swapaxes(-1, -2), x2.shape).reshape(x.shape) if need_x else None
        dy = unbroadcast(x2.swapaxes(-1, -2) @ g2, y2.shape).reshape(y.shape) if need_y else None
        return dx, dy

    @staticmethod
    def hint(x, y):
        """Shown when forward fails: which dimensions disagree and the transpose that fits."""
        if x.ndim == 0 or y.ndim == 0:
            return "@ needs arrays with at least one dimension; use * to scale by a number."
        a, b = _label(x, "x"), _label(y, "y")
        inner_x = x.shape[-1]
        inner_y = y.shape[0] if y.ndim == 1 else y.shape[-2]
        if inner_x == inner_y:
            return None
        tips = []
        if x.ndim >= 2 and x.shape[-2] == inner_y:
            tips.append(f"{a}.T @ {b}")
        if y.ndim >= 2 and y.shape[-1] == inner_x:
            tips.append(f"{a} @ {b}.T")
        tip = f" Did you mean {' or '.join(tips)}?" if tips else ""
        return (
            f"{a} @ {b} needs the last dimension of {a} ({inner_x}) to equal the "
            f"{'only' if y.ndim == 1 else 'second-to-last'} dimension of {b} ({inner_y}). "
            f"With W[l] of shape (n[l], n[l-1]) and A[l-1] of shape (n[l-1], m), "
            f"Z[l] = W[l] @ A[l-1].{tip}"
        )


def add(x: Any, y: Any) -> Tensor:
    """x + y with numpy broadcasting."""
    return Add.apply(x, y)


def sub(x: Any, y: Any) -> Tensor:
    """x - y with numpy broadcasting."""
    return Sub.apply(x, y)


def mul(x: Any, y: Any) -> Tensor:
    """x * y (elementwise) with numpy broadcasting."""
    return Mul.apply(x, y)


def div(x: Any, y: Any) -> Tensor:
    """x / y with numpy broadcasting."""
    return Div.apply(x, y)


def neg(x: Any) -> Tensor:
    """-x"""
    return Neg.apply(x)


def pow(x: Any, p: Any) -> Tensor:  # noqa: A001 - mirrors numpy/torch naming
    """x ** p (either may be a tensor)."""
    return Pow.apply(x, p)


def matmul(x: Any, y: Any) -> Tensor:
    """x @ y: (n, k) @ (k, m) -> (n, m); 1-D and batched operands as in numpy."""
    return MatMul.apply(x, y)
