"""Convolutional layers: `Conv2d`, `ConvTranspose2d`, `Conv1d`, `MaxPool2d`, `MaxUnpool2d`,
`AvgPool2d`, `MaxPool1d`, `AvgPool1d`, on the ops of `graphgrad.ops.convolution` and
`graphgrad.ops.pooling`.

Images are channels last, as in the course and Keras: A of shape (m, n_H, n_W, n_C). A
`Conv2d` keeps the course's W of shape (f, f, n_C_prev, n_C) and b flattened to (n_C,), so
``layer.W`` *is* the course's W. Sequences are channels last too, A of shape (m, n_L, n_C)
as the recurrent layers' (m, T_x, n_x): a `Conv1d` (Keras's Conv1D, as in course 5's
trigger-word model) keeps W of shape (f, n_C_prev, n_C). Both take padding as a number,
"valid" or "same", by the rule the pooling layers use too, ``groups`` (keyword), which
splits the channels into groups convolved apart (``groups=n_C_prev``: MobileNet's depthwise
convolution, W of shape (f, f, 1, n_C)), and ``dilation`` (keyword), the step between the
pixels a filter sees (max pooling takes one too). A network for classification ends
with `Flatten` and `Linear` layers, as the course's LeNet-5-like model does. Depends on
`nn.module`, `nn.init`, `ops.convolution`, `ops.pooling`, `ops.windows`,
`tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    flag,
    pytorch_order_error,
    whole_number,
)
from graphgrad.nn import init as initializers
from graphgrad.nn.module import Module, Parameter, as_data_of
from graphgrad.ops.convolution import Conv1d as _Conv1d
from graphgrad.ops.convolution import Conv2d as _Conv2d
from graphgrad.ops.convolution import ConvTranspose2d as _ConvTranspose2d
from graphgrad.ops.convolution import conv_settings
from graphgrad.ops.pooling import AvgPool1d as _AvgPool1d
from graphgrad.ops.pooling import AvgPool2d as _AvgPool2d
from graphgrad.ops.pooling import MaxPool1d as _MaxPool1d
from graphgrad.ops.pooling import MaxPool1dWithIndices as _MaxPool1dWithIndices
from graphgrad.ops.pooling import MaxPool2d as _MaxPool2d
from graphgrad.ops.pooling import MaxPool2dWithIndices as _MaxPool2dWithIndices
from graphgrad.ops.pooling import (
    _pool1d_settings,
    ceil_mode_setting,
    divisor_setting,
    include_pad_setting,
    max_unpool1d,
    max_unpool2d,
    pool_attrs,
    pool_settings,
    refuse_flags,
)
from graphgrad.ops.shape import Pad
from graphgrad.ops.windows import (
    _pair,
    number_or_pair,
    padding_setting,
    takes_f,
    transposed_padding_setting,
)
from graphgrad.tensor import Tensor

# PyTorch's padding_mode of a convolution -> gg.pad's (numpy's) mode of the border
PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge",
                 "circular": "wrap"}


class _Conv(Module):
    """What `Conv2d` and `Conv1d` share: all but the number of axes a filter spans."""

    op: Any
    dims: int  # the axes a filter spans: 2 (f x f, images) or 1 (f steps, sequences)
    padding_modes = tuple(PADDING_MODES)
    # PyTorch's options that its positional order puts in the course's init, bias, rng, dtype
    pytorch_options = ("dilation", "groups", "bias", "padding_mode")
    pytorch_order = ("in_channels, out_channels, kernel_size, stride, padding, dilation, "
                     "groups, bias, padding_mode")
    course_order = "n_C_prev, n_C, f, stride, padding, init, bias, rng, dtype"

    @takes_f
    def __init__(self, n_C_prev: int, n_C: int, f: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 init: Any = "he", bias: bool = True, rng: Any = None, dtype: Any = np.float64,
                 *, groups: int = 1, dilation: int | tuple[int, int] = 1,
                 padding_mode: str = "zeros") -> None:
        super().__init__()
        caller = type(self).__name__
        self._refuse_pytorch_order((n_C_prev, n_C, f, stride, padding), init, bias, rng, dtype)
        if not isinstance(padding_mode, str) or padding_mode not in self.padding_modes:
            others = (" (ConvTranspose2d pads with zeros only, as PyTorch's)"
                      if len(self.padding_modes) == 1 else
                      " (PyTorch's names: 'replicate' repeats the edge, 'circular' wraps "
                      "around)")
            raise ArgumentError(
                f"{caller}: padding_mode must be one of "
                f"{', '.join(map(repr, self.padding_modes))}, got "
                f"{padding_mode!r}{others}")
        self.padding_mode = padding_mode
        # A number, or for images a pair (along n_H, along n_W), as PyTorch's (1, 3)
        setting = number_or_pair if self.dims == 2 else whole_number
        self.dilation = setting(dilation, "dilation", caller, 1)
        self.n_C_prev = whole_number(n_C_prev, "n_C_prev", caller, 1)
        self.n_C = whole_number(n_C, "n_C", caller, 1)
        self.groups = whole_number(groups, "groups", caller, 1)
        for name, channels in (("n_C_prev", self.n_C_prev), ("n_C", self.n_C)):
            if channels % self.groups:
                raise ArgumentError(
                    f"{caller}: groups={self.groups} must divide both n_C_prev and n_C, got "
                    f"{name}={channels}; a depthwise layer has groups=n_C_prev and n_C a "
                    "multiple of it")
        self.f = setting(f, "the filter size f", caller, 1)
        self.stride = setting(stride, "the stride", caller, 1)
        if self.dims == 1 and isinstance(padding, (tuple, list)):
            raise ArgumentError(f"{caller}: padding must be a number, 'valid' or 'same', got "
                                f"{padding!r}")
        self.pad = self._padding(padding, caller)
        bias = flag(bias, "bias", caller)
        self.init = init
        # Each filter is a unit of a Linear layer on flattened windows: initialise it as one
        # (fan-in f * f * n_C_prev, or f * n_C_prev), then lay the rows out as W's shape.
        window = _pair(self.f) if self.dims == 2 else (self.f,)
        units, inputs = self._units_and_inputs()
        positions = int(np.prod(window))
        rows = initializers.initialize(init, (units, positions * inputs), rng, dtype, positions,
                                         caller)
        self.W = Parameter(np.ascontiguousarray(rows.T.reshape(*window, inputs, units)))
        self.b = Parameter(np.zeros(self.n_C, dtype=dtype)) if bias else None

    def _refuse_pytorch_order(self, leading: tuple, init: Any, bias: Any, rng: Any,
                              dtype: Any) -> None:
        """An `ArgumentError` for an integer init, PyTorch's option given by position where
        the course has init (dilation; a transposed convolution's groups), giving the call
        with the options by name (``leading``, the arguments before init, as they were)."""
        if not isinstance(init, (int, np.integer)) or isinstance(init, (bool, np.bool_)):
            return
        caller = type(self).__name__
        given = zip(self.pytorch_options, (init, bias, rng, dtype), (None, True, None,
                                                                      np.float64))
        options = [f"{name}={value!r}" for name, value, default in given
                   if name == self.pytorch_options[0] or value is not default]
        call = ", ".join([*map(repr, leading), *options])
        raise pytorch_order_error(caller, f"init must be an initialiser, got {init}",
                                  self.pytorch_order, self.course_order, f"{caller}({call})",
                                  advice="give PyTorch's options by name:")

    def _padding(self, padding: Any, caller: str) -> Any:
        pad = padding_setting(padding, self.f, self.stride, caller, dilation=self.dilation,
                              uneven=True)
        if self.dims == 1 and isinstance(pad, tuple):  # "same" of an even span, per axis
            return pad[0]
        return pad

    def _units_and_inputs(self) -> tuple[int, int]:
        """The Linear layer W's filters are units of: (units, inputs per window position)."""
        return self.n_C, self.n_C_prev // self.groups

    def _attrs(self) -> dict:
        """The op's settings, as the node records them and the repr shows them."""
        return conv_settings(self.stride, self.pad, self.groups, self.dilation)

    @property
    def single_node(self) -> bool:  # type: ignore[override]
        """One node, the convolution; two with a border other than zeros (gg.pad first)."""
        return self.padding_mode == "zeros" or not self._border()

    def _border(self) -> tuple[tuple[int, int], ...]:
        """The (before, after) widths of the border along each axis a filter spans, from
        ``pad`` (p, a pair (p_h, p_w), each p a number or (before, after)); () for none."""
        pads = self.pad if self.dims == 2 and isinstance(self.pad, tuple) else (self.pad,) * (
            self.dims)
        widths = tuple(p if isinstance(p, tuple) else (p, p) for p in pads)
        return widths if any(any(w) for w in widths) else ()

    def forward(self, A: Any) -> Tensor:
        """Z = conv(A, W) + b: `gg.conv2d`, `gg.conv1d` or `gg.conv_transpose2d` (the class's
        ``op``).  A (m, n_H_prev, n_W_prev, n_C_prev) -> Z (m, n_H, n_W, n_C), or
        (m, n_L_prev, n_C_prev) -> (m, n_L, n_C) for `Conv1d`."""
        A = as_data_of(A, self.W.data.dtype, self)
        attrs = self._attrs()
        if self.padding_mode != "zeros":  # PyTorch's: the border padded, then no padding
            border = self._border()
            if border:
                A = self._padded(A, border)
                attrs["pad"] = 0
        if self.b is None:
            return self.op.apply(A, self.W, **attrs)
        return self.op.apply(A, self.W, self.b, **attrs)

    def _padded(self, A: Any, border: tuple[tuple[int, int], ...]) -> Tensor:
        """A with ``border`` in ``padding_mode`` (one gg.pad node), or a ShapeError naming
        the layer for an input of another rank, as the convolution would."""
        ndim = np.ndim(A.data if isinstance(A, Tensor) else A)
        if ndim != self.dims + 2:
            layout = "(m, n_H_prev, n_W_prev, n_C_prev)" if self.dims == 2 else (
                "(m, n_L_prev, n_C_prev)")
            shape = np.shape(A.data if isinstance(A, Tensor) else A)
            raise ShapeError(f"{self._label()} takes A of shape {layout}, channels last, got "
                             f"shape {shape}")
        return Pad.apply(A, pad_width=((0, 0), *border, (0, 0)),
                         mode=PADDING_MODES[self.padding_mode])

    def extra_repr(self) -> str:
        """``3 -> 4, f=3, stride=1, pad=0, init='he'`` (and ``groups``, ``dilation``,
        ``padding_mode``, ``bias=False``), for the repr."""
        settings = ", ".join(f"{key}={value}" for key, value in self._attrs().items())
        if self.padding_mode != "zeros":
            settings += f", padding_mode={self.padding_mode!r}"
        bias = "" if self.b is not None else ", bias=False"
        return (f"{self.n_C_prev} -> {self.n_C}, f={self.f}, {settings}, "
                f"init={initializers.name_of(self.init)!r}{bias}")


class Conv2d(_Conv):
    """A convolutional layer: Z = conv(A, W) + b, the course's conv_forward.

    Args:
        n_C_prev: channels of the input images.
        n_C: filters of the layer, the channels of its output.
        f: the filters' size (f x f).
        stride: s, the step between windows.
        padding: p, the zeros around each image: a whole number, "valid" (0) or "same"
            (stride 1: p = (f - 1) / 2, the output keeps the input's size; an even f pads
            its extra row and column at the bottom and right, as PyTorch's).
        init: how W starts, as for `Linear` ("he" by default): the filters are initialised
            as a Linear layer of n_C units on windows of f * f * n_C_prev / groups values,
            which is what each filter is (an init function gets the shape
            (n_C, f * f * n_C_prev / groups); "glorot" counts n_C * f * f outputs, as Keras
            and PyTorch do). b starts at zero.
        bias: False leaves out b (before BatchNorm).
        rng: a seed or np.random.Generator for the initialisation.
        dtype: np.float64 (default) or np.float32.
        groups: G (keyword), which must divide n_C_prev and n_C: group k's n_C / G filters
            see group k's n_C_prev / G channels only (PyTorch's groups; see `gg.conv2d`).
            ``groups=n_C_prev`` is MobileNet's depthwise convolution, which a 1 x 1
            convolution follows in a depthwise-separable block:
            ``Conv2d(n_C_prev, n_C_prev, 3, padding="same", groups=n_C_prev)`` then
            ``Conv2d(n_C_prev, n_C, 1)``.
        dilation: d (keyword), the step between the pixels a filter sees (PyTorch's dilation,
            DeepLab's atrous convolution): an f x f filter spans d (f - 1) + 1 pixels with f * f
            weights; "same" padding is p = d (f - 1) / 2.
        f, stride, padding and dilation may each be a pair (along n_H, along n_W), as
        PyTorch's ``nn.Conv2d(3, 16, kernel_size=(1, 3), stride=(2, 1), padding=(0, 1),
        dilation=(1, 2))``: W is then (f_h, f_w, n_C_prev / G, n_C). padding="same" (stride
        1) pads d (f - 1) in all along each axis, half on each side and, for an even span,
        the odd one at the bottom and right, as PyTorch does.
        padding_mode: keyword, what the border holds (PyTorch's): "zeros" (the default),
            "reflect" (the image mirrored about its edge pixels), "replicate" (the edge
            pixels repeated) or "circular" (the other side continued). Other than zeros, the
            layer pads A with `gg.pad` in that mode, then convolves without padding, two
            nodes; a border wider than the image goes on copying as `gg.pad`'s does, where
            PyTorch refuses it for "reflect" and "circular".

    Shapes: A (m, n_H_prev, n_W_prev, n_C_prev) -> Z (m, n_H, n_W, n_C), with
    n_H = floor((n_H_prev + 2p - d (f - 1) - 1) / s) + 1 (floor((n_H_prev + 2p - f) / s) + 1
    undilated) and the same for n_W; W (f, f, n_C_prev / G, n_C).
    """

    op = _Conv2d
    dims = 2


class Conv1d(_Conv):
    """A convolutional layer along sequences: Z = conv(A, W) + b, as Keras's Conv1D.

    Args:
        n_C_prev: channels of the input sequences (a spectrogram's frequencies).
        n_C: filters of the layer, the channels of its output.
        f: the filters' length: each sees f consecutive time steps.
        stride: s, the step between windows.
        padding: p, the zeros at both ends of each sequence: a whole number, "valid" (0) or
            "same" (stride 1: p = d (f - 1) / 2 at each end, which keeps the length; an even
            span puts its odd step at the end, as PyTorch's).
        init: how W starts, as for `Linear` ("he" by default): each filter is initialised as
            a unit of a Linear layer on windows of f * n_C_prev / groups values (an init
            function gets the shape (n_C, f * n_C_prev / groups)). b starts at zero.
        bias: False leaves out b (before BatchNorm).
        rng: a seed or np.random.Generator for the initialisation.
        dtype: np.float64 (default) or np.float32.
        groups: G (keyword), as for `Conv2d`: group k's filters see group k's channels only.
        dilation: d (keyword), the step between the time steps a filter sees (WaveNet's
            dilated convolutions): a filter spans d (f - 1) + 1 steps.
        padding_mode: keyword, "zeros" (the default), "reflect", "replicate" or "circular",
            as for `Conv2d`, at both ends of each sequence.

    Shapes: A (m, n_L_prev, n_C_prev) -> Z (m, n_L, n_C), n_L = floor((n_L_prev + 2p - f) / s)
    + 1, or floor((n_L_prev + 2p - d (f - 1) - 1) / s) + 1 dilated; W (f, n_C_prev / G, n_C),
    b (n_C,). Course 5's trigger-word model starts with
    Conv1d(101, 196, 15, stride=4): a spectrogram (m, 5511, 101) becomes (m, 1375, 196).
    """

    op = _Conv1d
    dims = 1


class ConvTranspose2d(_Conv):
    """A transposed convolutional layer, U-Net's up-convolution (Keras's Conv2DTranspose,
    PyTorch's ConvTranspose2d): Z = conv_transpose(A, W) + b, each pixel of A spread over an
    f x f window of Z, windows ``stride`` pixels apart. See `gg.conv_transpose2d`.

    Args:
        n_C_prev: channels of the input images.
        n_C: channels of the output.
        f: the filters' size (f x f).
        stride: s; 2 roughly doubles the height and width.
        padding: p, the rows and columns cropped from each side of the output: a whole
            number, "valid" (0) or "same", which makes the output exactly s times the input
            (n_H = s n_H_prev, the size Keras's padding='same' gives; needs f >= s, and an
            odd f with stride 1): p = ceil((f - s) / 2) and output_padding = 2p - f + s, as
            PyTorch users write it (f=3, stride=2: padding=1, output_padding=1). When f - s is
            odd, Keras crops its extra row and column at the bottom and right, this at the top
            and left: the same sizes, values one pixel apart (weights trained in Keras would
            need padding=0, output_padding=0 and the crop by hand).
        output_padding: rows and columns added at the bottom and right (less than s), with a
            numeric padding; "same" sets its own.
        init: how W starts, as for `Conv2d` ("he"): as the filters of the convolution this
            one transposes, n_C_prev filters on windows of f * f * n_C / groups values (the
            fan-in PyTorch and Keras use too). b starts at zero.
        bias, rng, dtype: as for `Conv2d`.
        groups: G (keyword), which must divide n_C_prev and n_C: group k of A's channels
            makes group k of Z's only.
        dilation: d (keyword), the step between the output pixels one filter's weights
            reach (PyTorch's), or a pair (d_h, d_w).
        f, stride, padding and output_padding may each be a pair (along n_H, along n_W), as
        PyTorch's kernel_size=(1, 3): W is then (f_h, f_w, n_C / G, n_C_prev).
        padding_mode: keyword, "zeros" only, as PyTorch's (the padding crops the output).

    Shapes: A (m, n_H_prev, n_W_prev, n_C_prev) -> Z (m, n_H, n_W, n_C), with
    n_H = (n_H_prev - 1) s - 2p + d (f - 1) + 1 + output_padding (f for d (f - 1) + 1
    undilated); W (f, f, n_C / G, n_C_prev), b (n_C,). The
    course's U-Net: ConvTranspose2d(n_C_prev, n_C, 3, stride=2, padding="same") turns 4 x 4
    images into 8 x 8.
    """

    op = _ConvTranspose2d
    dims = 2
    padding_modes = ("zeros",)  # as PyTorch's: padding crops a transposed convolution's output
    pytorch_options = ("groups", "bias", "dilation", "padding_mode")
    pytorch_order = ("in_channels, out_channels, kernel_size, stride, padding, output_padding, "
                     "groups, bias, dilation, padding_mode")
    course_order = "n_C_prev, n_C, f, stride, padding, output_padding, init, bias, rng, dtype"

    @takes_f
    def __init__(self, n_C_prev: int, n_C: int, f: int | tuple[int, int],
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] | str = 0,
                 output_padding: int | tuple[int, int] = 0, init: Any = "he",
                 bias: bool = True, rng: Any = None, dtype: Any = np.float64, *,
                 groups: int = 1, dilation: int | tuple[int, int] = 1,
                 padding_mode: str = "zeros") -> None:
        self._refuse_pytorch_order((n_C_prev, n_C, f, stride, padding, output_padding), init,
                                   bias, rng, dtype)
        super().__init__(n_C_prev, n_C, f, stride, padding, init, bias, rng, dtype,
                         groups=groups, dilation=dilation, padding_mode=padding_mode)
        _, self.output_padding = transposed_padding_setting(
            padding, self.f, self.stride, output_padding, "ConvTranspose2d", self.dilation)

    def _padding(self, padding: Any, caller: str) -> Any:
        return transposed_padding_setting(padding, self.f, self.stride, 0, caller,
                                          self.dilation)[0]

    def _units_and_inputs(self) -> tuple[int, int]:
        return self.n_C_prev, self.n_C // self.groups

    def _attrs(self) -> dict:
        attrs = {"stride": self.stride, "pad": self.pad}
        if self.groups != 1:  # in gg.conv_transpose2d's order
            attrs["groups"] = self.groups
        if self.output_padding:
            attrs["output_padding"] = self.output_padding
        if self.dilation != 1:
            attrs["dilation"] = self.dilation
        return attrs


class _Pool(Module):
    single_node = True
    op: Any

    dims = 2  # the axes a window spans: 2 (images) or 1 (sequences)

    @takes_f
    def __init__(self, f: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] | str = 0, dilation: int | tuple[int, int] = 1,
                 *, ceil_mode: bool = False) -> None:
        super().__init__()
        caller = type(self).__name__
        if self.dims == 2:
            self.dilation = number_or_pair(dilation, "dilation", caller, 1)
            self.f, self.stride, self.pad = pool_settings(f, stride, padding, caller,
                                                          self.dilation)
        else:
            self.dilation = whole_number(dilation, "dilation", caller, 1)
            self.f, self.stride, self.pad = _pool1d_settings(f, stride, padding, caller,
                                                             self.dilation)
        self.ceil_mode = ceil_mode_setting(ceil_mode, caller)

    def _attrs(self) -> dict:
        return pool_attrs(self.f, self.stride, self.pad, dilation=self.dilation,
                          ceil_mode=self.ceil_mode)

    def forward(self, A: Any) -> Tensor:
        """Each f x f window pooled, channel by channel (`gg.max_pool2d`, `gg.avg_pool2d`).
        A (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C); for `MaxPool1d` and `AvgPool1d`
        each window of f steps (m, n_L_prev, n_C) -> (m, n_L, n_C)."""
        return self.op.apply(A, **self._attrs())

    def extra_repr(self) -> str:
        """``f=2, stride=2`` (and ``pad``, ``dilation``), for the repr."""
        return ", ".join(f"{key}={value}" for key, value in self._attrs().items())


class MaxPool2d(_Pool):
    """Max pooling: the largest value of each f x f window, channel by channel; ``stride``
    defaults to f; ``padding`` (p <= f / 2, "valid" or "same") adds cells of -inf, which are
    never chosen; ``dilation`` d spaces a window's pixels d apart (PyTorch's); f, stride,
    padding and dilation are each a number or a pair (along n_H, along n_W), as PyTorch's
    kernel_size=(2, 3); ``ceil_mode`` rounds n_H and n_W up, as PyTorch's, the last
    window hanging over the bottom or right edge (see `gg.max_pool2d`). No parameters.
    A (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2p - f) / s)
    + 1, or floor((n_H_prev + 2p - d (f - 1) - 1) / s) + 1 dilated. ``return_indices``
    makes it give (the pooled images, where each value came from), the indices
    `MaxUnpool2d` takes (see `gg.max_pool2d`). The arguments come in PyTorch's module's order,
    (f, stride, padding, dilation, return_indices, ceil_mode): return_indices before
    ceil_mode, the other way round from the function's; True or False in a number's place is
    refused."""

    op = _MaxPool2d

    @takes_f
    def __init__(self, f: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] | str = 0, dilation: int | tuple[int, int] = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        refuse_flags(type(self).__name__, "layer", f=f, stride=stride, padding=padding,
                     dilation=dilation)
        super().__init__(f, stride, padding, dilation, ceil_mode=ceil_mode)
        self.return_indices = flag(return_indices, "return_indices", type(self).__name__)
        if self.return_indices:
            self.op = _MaxPool2dWithIndices if self.dims == 2 else _MaxPool1dWithIndices

    def extra_repr(self) -> str:
        """``f=2, stride=2`` (and ``pad``, ``dilation``, ``ceil_mode``, ``return_indices``)."""
        indices = ", return_indices=True" if self.return_indices else ""
        return super().extra_repr() + indices


class MaxUnpool2d(Module):
    """Max unpooling (PyTorch's nn.MaxUnpool2d, channels last; SegNet's decoder): zeros with
    each value put back where `MaxPool2d(..., return_indices=True)` took it, given the
    pooling's f, stride (f by default) and padding, each a number or a pair. No parameters.
    forward(A, indices, output_size=None): A (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W,
    n_C), n_H = (n_H_prev - 1) s - 2p + f, or ``output_size`` (n_H, n_W). See
    `gg.max_unpool2d`."""

    single_node = True

    @takes_f
    def __init__(self, f: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] = 0) -> None:
        super().__init__()
        self.f, self.stride, self.pad = pool_settings(f, stride, padding, "MaxUnpool2d")

    def forward(self, A: Any, indices: Any, output_size: Any = None) -> Tensor:
        """A (m, n_H_prev, n_W_prev, n_C) and its indices -> (m, n_H, n_W, n_C), or to
        ``output_size`` (n_H, n_W) when given (the size the pooling came from, when it
        dropped rows or columns)."""
        return max_unpool2d(A, indices, self.f, self.stride, self.pad, output_size)

    def extra_repr(self) -> str:
        """``f=2, stride=2`` (and ``pad``), for the repr."""
        return ", ".join(f"{key}={value}"
                         for key, value in pool_attrs(self.f, self.stride, self.pad).items())


class MaxUnpool1d(MaxUnpool2d):
    """Max unpooling along sequences (PyTorch's nn.MaxUnpool1d, channels last): zeros with
    each value put back where `MaxPool1d(..., return_indices=True)` took it, given the
    pooling's f, stride (f by default) and padding, whole numbers. No parameters.
    forward(A, indices, output_size=None): A (m, n_L_prev, n_C) -> (m, n_L, n_C),
    n_L = (n_L_prev - 1) s - 2p + f, or ``output_size`` n_L. See `gg.max_unpool1d`."""

    @takes_f
    def __init__(self, f: int, stride: int | None = None, padding: int = 0) -> None:
        Module.__init__(self)
        self.f, self.stride, self.pad = _pool1d_settings(f, stride, padding, "MaxUnpool1d")

    def forward(self, A: Any, indices: Any, output_size: Any = None) -> Tensor:
        """A (m, n_L_prev, n_C) and its indices -> (m, n_L, n_C), or to ``output_size`` n_L
        when given (the length the pooling came from, when it dropped steps)."""
        return max_unpool1d(A, indices, self.f, self.stride, self.pad, output_size)


class AvgPool2d(_Pool):
    """Average pooling: the mean of each f x f window, channel by channel; ``stride``
    defaults to f; ``padding`` (p <= f / 2, "valid" or "same") adds zeros, which count
    (``count_include_pad=True``: sums divided by f * f, as in PyTorch) or not (False: divided
    by each window's real pixels, as Keras's 'same'); ``ceil_mode`` rounds n_H and n_W up
    (see `gg.avg_pool2d`); ``divisor_override``, a whole number, divides every window's sum
    instead; f, stride and padding are each a number or a pair (along n_H, along n_W); the
    arguments in PyTorch's order. No parameters.
    A (m, n_H_prev, n_W_prev, n_C) -> (m, n_H, n_W, n_C), n_H = floor((n_H_prev + 2p - f) / s)
    + 1."""

    op = _AvgPool2d

    @takes_f
    def __init__(self, f: int | tuple[int, int], stride: int | tuple[int, int] | None = None,
                 padding: int | tuple[int, int] | str = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__(f, stride, padding, ceil_mode=ceil_mode)
        self.count_include_pad = include_pad_setting(count_include_pad,
                                                     type(self).__name__)
        self.divisor_override = divisor_setting(divisor_override, type(self).__name__)

    def _attrs(self) -> dict:
        return pool_attrs(self.f, self.stride, self.pad, self.count_include_pad,
                          ceil_mode=self.ceil_mode, divisor_override=self.divisor_override)


class MaxPool1d(MaxPool2d):
    """Max pooling along sequences: the largest value of each window of f steps, channel by
    channel (`gg.max_pool1d`; PyTorch's nn.MaxPool1d on (m, n_C, n_L) transposed); ``stride``
    defaults to f; ``padding`` (p <= f / 2, "valid" or "same") adds steps of -inf, which are
    never chosen; ``dilation`` d spaces a window's steps d apart; ``ceil_mode`` rounds n_L
    up, as PyTorch's. No parameters.
    A (m, n_L_prev, n_C), as `Conv1d` takes it -> (m, n_L, n_C),
    n_L = floor((n_L_prev + 2p - d (f - 1) - 1) / s) + 1. ``return_indices`` makes it give
    (the pooled sequences, where each value came from), the indices `MaxUnpool1d` takes (see
    `gg.max_pool1d`). PyTorch's module's order, return_indices before ceil_mode, as
    `MaxPool2d`."""

    op = _MaxPool1d
    dims = 1

    @takes_f
    def __init__(self, f: int, stride: int | None = None, padding: int | str = 0,
                 dilation: int = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__(f, stride, padding, dilation, return_indices, ceil_mode)


class AvgPool1d(AvgPool2d):
    """Average pooling along sequences: the mean of each window of f steps, channel by channel
    (`gg.avg_pool1d`; PyTorch's nn.AvgPool1d on (m, n_C, n_L) transposed); ``stride``
    defaults to f; ``padding`` (p <= f / 2, "valid" or "same") adds zeros, which count
    (``count_include_pad=True``: sums divided by f) or not (False: divided by each window's
    real steps); ``ceil_mode`` rounds n_L up; the arguments in PyTorch's order. No
    parameters.
    A (m, n_L_prev, n_C) -> (m, n_L, n_C),
    n_L = floor((n_L_prev + 2p - f) / s) + 1."""

    op = _AvgPool1d
    dims = 1

    @takes_f
    def __init__(self, f: int, stride: int | None = None, padding: int | str = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__(f, stride, padding, ceil_mode, count_include_pad)
