"""Convolutional layers: `Conv2d`, `MaxPool2d`, `AvgPool2d`, on the ops of
`graphgrad.ops.convolution`.

Images are channels last, as in the course and Keras: A of shape (m, n_H, n_W, n_C). A
`Conv2d` keeps the course's W of shape (f, f, n_C_prev, n_C) and b flattened to (n_C,), so
``layer.W`` *is* the course's W. A network for classification ends with `Flatten` and
`Linear` layers, as the course's LeNet-5-like model does. Depends on `nn.module`, `nn.init`,
`ops.convolution`, `tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, whole_number
from graphgrad.nn import init as initializers
from graphgrad.nn.module import Module, Parameter, as_data_of
from graphgrad.ops.convolution import AvgPool2d as _AvgPool2d
from graphgrad.ops.convolution import Conv2d as _Conv2d
from graphgrad.ops.convolution import MaxPool2d as _MaxPool2d
from graphgrad.ops.convolution import pool_settings
from graphgrad.tensor import Tensor


class Conv2d(Module):
    """A convolutional layer: Z = conv(A, W) + b, the course's conv_forward.

    Args:
        n_C_prev: channels of the input images.
        n_C: filters of the layer, the channels of its output.
        f: the filters' size (f x f).
        stride: s, the step between windows.
        padding: p, the zeros around each image: a whole number, "valid" (0) or "same"
            (p = (f - 1) / 2 with stride 1 and odd f: the output keeps the input's size).
        init: how W starts, as for `Linear` ("he" by default): the filters are initialised
            as a Linear layer of n_C units on windows of f * f * n_C_prev values, which is
            what each filter is (an init function gets the shape (n_C, f * f * n_C_prev)).
            b starts at zero.
        bias: False leaves out b (before BatchNorm).
        rng: a seed or np.random.Generator for the initialisation.
        dtype: np.float64 (default) or np.float32.

    Shapes: A (m, n_H_prev, n_W_prev, n_C_prev) -> Z (m, n_H, n_W, n_C), with
    n_H = floor((n_H_prev + 2p - f) / s) + 1 and the same for n_W.
    """

    single_node = True

    def __init__(self, n_C_prev: int, n_C: int, f: int, stride: int = 1,
                 padding: int | str = 0, init: Any = "he", bias: bool = True,
                 rng: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.n_C_prev = whole_number(n_C_prev, "n_C_prev", "Conv2d", 1)
        self.n_C = whole_number(n_C, "n_C", "Conv2d", 1)
        self.f = whole_number(f, "the filter size f", "Conv2d", 1)
        self.stride = whole_number(stride, "the stride", "Conv2d", 1)
        self.pad = self._padding(padding)
        self.init = init
        # Each filter is a unit of a Linear layer on flattened windows: initialise it as one
        # (fan-in f * f * n_C_prev), then lay the rows out as the course's (f, f, n_C_prev, n_C).
        rows = initializers.initialize(init, (self.n_C, self.f * self.f * self.n_C_prev), rng,
                                       dtype)
        self.W = Parameter(np.ascontiguousarray(
            rows.T.reshape(self.f, self.f, self.n_C_prev, self.n_C)))
        self.b = Parameter(np.zeros(self.n_C, dtype=dtype)) if bias else None

    def _padding(self, padding: int | str) -> int:
        if padding == "valid":
            return 0
        if padding == "same":
            if self.stride != 1 or self.f % 2 == 0:
                raise ArgumentError(
                    f"Conv2d: padding='same' needs stride 1 and an odd filter size, got "
                    f"f={self.f}, stride={self.stride}; give the padding as a number instead"
                )
            return (self.f - 1) // 2
        if isinstance(padding, str):
            raise ArgumentError(f"Conv2d: padding must be a number, 'valid' or 'same', got "
                                f"{padding!r}")
        return whole_number(padding, "the padding", "Conv2d", 0)

    def forward(self, A: Any) -> Tensor:
        A = as_data_of(A, self.W.data.dtype)
        if self.b is None:
            return _Conv2d.apply(A, self.W, stride=self.stride, pad=self.pad)
        return _Conv2d.apply(A, self.W, self.b, stride=self.stride, pad=self.pad)

    def extra_repr(self) -> str:
        bias = "" if self.b is not None else ", bias=False"
        return (f"{self.n_C_prev} -> {self.n_C}, f={self.f}, stride={self.stride}, "
                f"pad={self.pad}, init={initializers.name_of(self.init)!r}{bias}")


class _Pool(Module):
    single_node = True
    op: Any

    def __init__(self, f: int, stride: int | None = None) -> None:
        super().__init__()
        self.f, self.stride = pool_settings(f, stride, type(self).__name__)

    def forward(self, A: Any) -> Tensor:
        return self.op.apply(A, f=self.f, stride=self.stride)

    def extra_repr(self) -> str:
        return f"f={self.f}, stride={self.stride}"


class MaxPool2d(_Pool):
    """Max pooling: the largest value of each f x f window, channel by channel; ``stride``
    defaults to f. No parameters.  A (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C),
    n_H = floor((n_H_prev - f) / s) + 1."""

    op = _MaxPool2d


class AvgPool2d(_Pool):
    """Average pooling: the mean of each f x f window, channel by channel; ``stride``
    defaults to f. No parameters.  A (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C),
    n_H = floor((n_H_prev - f) / s) + 1."""

    op = _AvgPool2d
