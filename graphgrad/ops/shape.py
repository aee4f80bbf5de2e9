"""Ops that move elements without changing them: reshape, transpose, swapaxes, expand_dims,
squeeze, broadcast_to, concatenate, stack, split, pad, astype. Each backward moves the
gradient back to where the elements came from (and adds it up where an element was copied:
broadcast_to, pad's modes other than constant)."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    OpError,
    array_of,
    array_of_numbers,
    describe,
    real_values,
    setting_text,
)
from graphgrad.function import Function
from graphgrad.ops.broadcasting import unbroadcast
from graphgrad.tensor import Tensor, _constant, setting_value


def _refuse_bool_axes(*axes: Any) -> None:
    """numpy reads True as axis 1 and False as axis 0 in expand_dims, swapaxes, stack and
    split; the reductions refuse a bool axis, and so do these."""
    for axis in axes:
        for a in axis if isinstance(axis, (tuple, list)) else (axis,):
            if isinstance(a, (bool, np.bool_)):
                raise TypeError(f"axis must be an int or a tuple of ints, got {a!r}")


def _name(x: Tensor) -> str:
    return x.name or "x"


class _Rearrange(Function):
    """Backward of the ops that only reshape: put the gradient back in the input's shape."""

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape)


class Reshape(_Rearrange):
    """y = x with a new shape (same elements, same order)"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def hint(x, shape):
        """Shown when forward fails: the element counts that disagree."""
        if x.size == 0 and -1 in shape:
            # numpy cannot solve -1 for no elements: any size fits. The course flattens
            # images with X.reshape(X.shape[0], -1), which an empty batch (m = 0) fails.
            sizes = ", ".join(str(n) for n in x.shape[:1] + (int(np.prod(x.shape[1:])),))
            example = (f" (x.reshape({sizes}) for the rows of x flattened)"
                       if len(shape) == 2 and x.ndim > 1 and shape[0] == x.shape[0] else "")
            return (f"with 0 elements, the -1 in shape {shape} could be any size: write the "
                    f"size out{example}")
        return f"an array of {x.size} elements cannot take shape {shape}"


class ExpandDims(_Rearrange):
    """y = x with a new axis of size 1 at ``axis``"""

    @staticmethod
    def forward(ctx, x, axis):
        _refuse_bool_axes(axis)
        ctx.in_shape = x.shape
        return np.expand_dims(x, axis)


class Squeeze(_Rearrange):
    """y = x without its axes of size 1 (or only those in ``axis``)"""

    @staticmethod
    def forward(ctx, x, axis=None):
        ctx.in_shape = x.shape
        return np.squeeze(x, axis)

    @staticmethod
    def hint(x, axis=None):
        """Shown when forward fails: an axis named that is not of size 1."""
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        if not all(isinstance(a, int) and -x.ndim <= a < x.ndim for a in axes):
            return None  # numpy's message says what is wrong with the axis
        wide = [a for a in axes if x.shape[a] != 1]
        if not wide:
            return None
        ones = [a for a in range(x.ndim) if x.shape[a] == 1]
        return (f"squeeze removes axes of size 1, and axis {wide[0]} of {_name(x)} "
                f"{x.shape} has size {x.shape[wide[0]]}; its axes of size 1 are "
                f"{ones or 'none'}")


class Transpose(Function):
    """y = x with its axes permuted (reversed when ``axes`` is None);  dx = dy permuted back"""

    inverse = None  # the permutation back; None reverses the axes again

    @staticmethod
    def forward(ctx, x, axes=None):
        y = x.transpose(axes)  # numpy checks the axes first
        if axes is not None:
            ctx.inverse = _inverse(x.ndim, tuple(axes))
        return y

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(ctx.inverse)

    @staticmethod
    def hint(x, axes=None):
        """Shown when forward fails: axes are the new order of every axis, and PyTorch's
        transpose of two axes is swapaxes."""
        if x.ndim < 2:
            return None  # numpy's message says the axis is out of range
        order = list(range(x.ndim))
        order[-2:] = order[:-3:-1]  # the last two exchanged: an example of a whole order
        text = (f"transpose takes the new order of every axis of {_name(x)} {x.shape}, each "
                f"once, as numpy's does (x.transpose({', '.join(map(str, order))}) exchanges "
                "the last two)")
        if axes is not None and len(axes) == 2 and x.ndim > 2:
            a, b = axes
            text += (f"; PyTorch's x.transpose({a}, {b}) exchanges two axes, which is "
                     f"x.swapaxes({a}, {b}) here")
        return text


@functools.lru_cache(maxsize=256)
def _inverse(ndim: int, axes: tuple) -> tuple:
    """The order that puts ``axes`` (an order of ndim axes, checked; -1 the last) back, found
    once per order (np.argsort ~2 us)."""
    return tuple(np.argsort([axis % ndim for axis in axes]))


class SwapAxes(Function):
    """y = x with two axes exchanged;  dx = dy with them exchanged back"""

    @staticmethod
    def forward(ctx, x, axis1, axis2):
        _refuse_bool_axes(axis1, axis2)
        ctx.axis_pair = (axis1, axis2)
        return x.swapaxes(axis1, axis2)

    @staticmethod
    def backward(ctx, grad):
        return grad.swapaxes(*ctx.axis_pair)


class BroadcastTo(Function):
    """y = x repeated along broadcast axes;  dx = dy summed over them"""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def hint(x, shape):
        """Shown when forward fails: why the shape cannot be reached."""
        return (f"broadcast_to repeats {_name(x)} {x.shape} along axes of size 1, and adds "
                "axes in front: aligned from the right, each of its dimensions must equal the "
                f"target's or be 1, and the target {shape} needs at least its {x.ndim} "
                "dimensions")

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.in_shape)


class Cast(Function):
    """y = x converted to ``dtype``;  dx = dy converted back"""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.in_dtype)


def _slice_along(axis: int, ndim: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


class Concatenate(Function):
    """y = the inputs joined along ``axis`` (flattened first when it is None);
    each input gets its own slice of dy"""

    flattened = None  # the inputs' shapes, when axis=None flattened them

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        y = np.concatenate(arrays, axis=axis)
        if axis is None:
            ctx.flattened = tuple(a.shape for a in arrays)
            ctx.axis = 0
            ctx.bounds = np.cumsum([0] + [a.size for a in arrays])
        else:
            ctx.axis = axis % y.ndim
            ctx.bounds = np.cumsum([0] + [a.shape[ctx.axis] for a in arrays])
        return y

    @staticmethod
    def backward(ctx, grad):
        ends = ctx.bounds
        if type(grad) is np.ndarray:
            pieces = tuple(
                grad[_slice_along(ctx.axis, grad.ndim, slice(ends[i], ends[i + 1]))]
                for i in range(len(ends) - 1)
            )
        else:  # create_graph: one Split node, not a slice node per input, each of whose
            # backward would make an array of grad's full size (n of them for n inputs)
            pieces = tuple(np.split(grad, ends[1:-1], axis=ctx.axis))
        if ctx.flattened is None:
            return pieces
        return tuple(piece.reshape(shape) for piece, shape in zip(pieces, ctx.flattened))

    @staticmethod
    def hint(*inputs, axis=0):
        """Shown when forward fails: the shapes that must agree."""
        shapes = ", ".join(str(x.shape) for x in inputs)
        return (f"concatenate joins along an existing axis: every other dimension must be "
                f"equal, and axis={axis} must exist in each; got shapes {shapes}"
                + _repeat_tip([x.shape for x in inputs], axis))


def _repeat_tip(shapes: list[tuple[int, ...]], axis: Any) -> str:
    """When the shapes differ outside ``axis`` only by axes of size 1, or by one missing axis:
    how to repeat an input to fit (concatenate does not broadcast), as Keras's RepeatVector
    does in course 5's attention model, which joins s<t-1> (m, n_s) to a (m, T_x, 2 n_a)."""
    ndim = max(len(shape) for shape in shapes)
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim \
            or any(len(shape) < ndim - 1 for shape in shapes):
        return ""
    axis = int(axis) % ndim

    def sizes(full: list[tuple[int, ...]]) -> list[int] | None:
        """Each axis's size outside ``axis`` once the 1s are repeated, or None if two differ."""
        found = [{shape[d] for shape in full} - {1} for d in range(ndim)]
        if any(len(f) > 1 for d, f in enumerate(found) if d != axis):
            return None
        return [f.pop() if len(f) == 1 else 1 for f in found]

    # An input short of one axis gets it where it makes the shapes fit, if one place does.
    places = {}
    for i, shape in enumerate(shapes):
        if len(shape) < ndim:
            fits = [d for d in range(ndim) if d != axis and sizes(
                [s if j != i else shape[:d] + (1,) + shape[d:] for j, s in enumerate(shapes)
                 if len(s) == ndim or j == i])]
            if len(fits) != 1:
                return ""
            places[i] = fits[0]
    full = [shape[:places[i]] + (1,) + shape[places[i]:] if i in places else shape
            for i, shape in enumerate(shapes)]
    repeated = sizes(full)
    if repeated is None:
        return ""
    for i, shape in enumerate(full):
        target = tuple(shape[d] if d == axis else repeated[d] for d in range(ndim))
        if target != shape:
            x = f"gg.expand_dims(x, {places[i]})" if i in places else "x"
            return (f". It does not broadcast: repeat input {i} first, as Keras's "
                    f"RepeatVector does, with gg.broadcast_to({x}, {target})")
    return ""


class Stack(Function):
    """y = the inputs stacked along a new ``axis``;  input i gets dy[..., i, ...]"""

    @staticmethod
    def forward(ctx, *arrays, axis=0):
        _refuse_bool_axes(axis)
        y = np.stack(arrays, axis=axis)
        ctx.axis = axis % y.ndim
        ctx.count = len(arrays)
        return y

    @staticmethod
    def backward(ctx, grad):
        if type(grad) is np.ndarray:
            return tuple(grad[_slice_along(ctx.axis, grad.ndim, i)] for i in range(ctx.count))
        # create_graph: one Split node, as in Concatenate's backward
        pieces = np.split(grad, ctx.count, axis=ctx.axis)
        return tuple(np.squeeze(piece, axis=ctx.axis) for piece in pieces)


class Split(Function):
    """the input cut into pieces along ``axis`` (numpy's indices_or_sections);
    dx = the pieces' gradients joined back"""

    @staticmethod
    def forward(ctx, x, indices_or_sections, axis=0):
        _refuse_bool_axes(axis)
        if not -x.ndim <= axis < x.ndim:
            raise OpError(f"Split: axis {axis} is out of range for an input of shape {x.shape}")
        ctx.axis = axis
        if not isinstance(indices_or_sections, int):
            # numpy allows indices that go back (pieces that overlap); the pieces' gradients
            # would then not join back into the input, so every index must be >= the last.
            n = x.shape[axis]
            cuts = [min(max(i + n if i < 0 else i, 0), n) for i in indices_or_sections]
            if any(b < a for a, b in zip(cuts, cuts[1:])):
                raise OpError(
                    f"Split: the indices {list(indices_or_sections)} go back; give increasing "
                    "indices, each piece starting where the previous one ends"
                )
        return tuple(np.split(x, indices_or_sections, axis=axis))

    @staticmethod
    def hint(x, indices_or_sections, axis=0):
        """Shown when forward fails: sections that do not divide the axis."""
        if not isinstance(indices_or_sections, int) or not isinstance(axis, int) or not (
                -x.ndim <= axis < x.ndim):
            return None
        size = x.shape[axis]
        return (f"axis {axis} of {_name(x)} {x.shape} has {size} elements, which "
                f"{indices_or_sections} equal sections cannot share: give a number of sections "
                "that divides it, or a list of the indices to cut at (pieces of different "
                "sizes)")

    @staticmethod
    def backward(ctx, *grads):
        return np.concatenate(grads, axis=ctx.axis)


class Pad(Function):
    """y = x with a border: ``constant_values``, or copies of x's own elements (``mode``);
    dx = the middle of dy, plus each border element of dy added to the element it copies"""

    interior = None  # constant mode: the slice of y that is x
    widths = mode = None  # the other modes: what PadGrad needs to fold the border back

    @staticmethod
    def forward(ctx, x, pad_width, mode="constant", constant_values=0):
        widths = np.asarray(pad_width)
        if widths.dtype.kind not in "iu":  # as np.pad: 1.7 rows cannot be added
            raise TypeError(f"pad_width must hold whole numbers (ints), got {pad_width!r}")
        widths = np.broadcast_to(widths, (x.ndim, 2))
        if mode == "constant" or not x.ndim:  # a 0-d x has no axis to pad, in any mode
            ctx.interior = tuple(slice(before, before + n)
                                 for (before, _), n in zip(widths, x.shape))
            # numpy's check of the widths fails on the (0, 2) pairs of a 0-d x
            return np.pad(x, widths if x.ndim else 0, mode="constant",
                          constant_values=constant_values)
        for axis, ((before, after), n) in enumerate(zip(widths, x.shape)):
            if n == 0 and (before > 0 or after > 0):
                raise OpError(
                    f"Pad: axis {axis} of the input {x.shape} is empty, so mode {mode!r} has "
                    f"no element to copy into its border ({before}, {after}); only mode "
                    "'constant' pads an empty axis"
                )
        y = np.pad(x, widths, mode=mode)
        ctx.widths = tuple((int(before), int(after)) for before, after in widths)
        ctx.mode = mode
        return y

    @staticmethod
    def backward(ctx, grad):
        if ctx.interior is not None:
            return grad[ctx.interior]
        return PadGrad.call(grad, pad_width=ctx.widths, mode=ctx.mode)

    @staticmethod
    def hint(x, pad_width, mode="constant", constant_values=0):
        """Shown when forward fails: the form pad_width takes, and PyTorch's flat tuple
        (last axis first) read as numpy's pairs."""
        advice = (f"pad_width takes one (before, after) pair per axis ({x.ndim} for shape "
                  f"{x.shape}), one pair for every axis, or one number; got {pad_width!r}")
        flat = np.asarray(pad_width)
        if flat.ndim != 1 or flat.dtype.kind not in "iu" or flat.size % 2 \
                or not 2 <= flat.size <= 2 * x.ndim:
            return advice
        pairs = [(int(flat[k]), int(flat[k + 1])) for k in range(0, flat.size, 2)]
        same_axes = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
        advice += (f". PyTorch's F.pad(x, {tuple(int(w) for w in flat)}) pads the last axes "
                   f"first: for the same axes pass pad_width={tuple(same_axes)}")
        if x.ndim == 4 and len(pairs) == 2:  # NCHW's W and H are axes 2 and 1 here
            images = ((0, 0), pairs[1], pairs[0], (0, 0))
            advice += (f"; for images ported from NCHW, channels last here (m, n_H, n_W, "
                       f"n_C): {images}, or nn.ZeroPad2d({tuple(int(w) for w in flat)})")
        return advice


class PadGrad(Function):
    """Pad's backward for the modes that copy x's elements: y = x (a padded array) with each
    border element added to the element of the middle it copies, the border dropped;
    dx = dy padded again (each copy gets the gradient of the element it copies)"""

    @staticmethod
    def forward(ctx, x, pad_width, mode):
        ctx.pad_width, ctx.mode = pad_width, mode
        for axis, (before, after) in enumerate(pad_width):
            if before or after:
                x = _fold(x, axis, before, after, mode)
        return x

    @staticmethod
    def backward(ctx, grad):
        return Pad.call(grad, pad_width=ctx.pad_width, mode=ctx.mode)


def _fold(g: np.ndarray, axis: int, before: int, after: int, mode: str) -> np.ndarray:
    """g without its border of (before, after) along ``axis``, each border element added to
    the element it is a copy of. np.pad of the positions 0..n-1 by the same mode says which
    that is: padding copies along one axis at a time, so the axes fold one at a time too."""
    n = g.shape[axis] - before - after
    source = np.pad(np.arange(n), (before, after), mode=mode)  # border i copies source[i]
    border = np.r_[0:before, before + n:before + n + after]
    folded = g[_slice_along(axis, g.ndim, slice(before, before + n))].copy()
    # an element may be copied several times (edge, or widths beyond n): np.add.at adds each
    np.add.at(folded, _slice_along(axis, g.ndim, source[border]),
              g[_slice_along(axis, g.ndim, border)])
    return folded


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    """x with a new shape; one dimension may be -1 (inferred)."""
    return Reshape.apply(x, shape=_as_tuple(shape, "shape", "reshape"))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """x with its axes permuted (reversed when ``axes`` is None, like ``x.T``)."""
    return Transpose.apply(x, axes=None if axes is None else _as_tuple(axes, "axes", "transpose"))


def _as_tuple(value: Any, what: str, op: str) -> tuple:
    """A shape or axes given as one int, or as a sequence, as a tuple; anything else (None,
    2.5, a Decimal) is an `ArgumentError` naming ``op`` and ``what``."""
    if isinstance(value, (int, np.integer)):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise ArgumentError(f"{op}: {what} must be an int or a sequence of ints, got "
                            f"{setting_text(value)}") from None


def _tensors(op: str, tensors: Any, example: str = "[a, b], axis=0") -> tuple:
    """``tensors`` as a tuple, or an error naming ``op`` with its call as an example (``op``'s
    arguments ``example``: vstack and hstack take no axis)."""
    if isinstance(tensors, (Tensor, np.ndarray, str)) or not isinstance(tensors, Sequence):
        raise GraphgradTypeError(
            f"{op} takes a list of tensors ({op}({example})), got {type(tensors).__name__}"
        )
    if not tensors:  # numpy's "need at least one array" came with an empty operand list
        raise ArgumentError(f"{op} got an empty list: give at least one tensor to join "
                            f"({op}({example}))")
    return tuple(tensors)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """x with ``axis1`` and ``axis2`` exchanged."""
    return SwapAxes.apply(x, axis1=axis1, axis2=axis2)


def expand_dims(x: Any, axis: int | Sequence[int]) -> Tensor:
    """x with a new axis of size 1 at ``axis``: (n,) -> (n, 1) with axis=1."""
    return ExpandDims.apply(x, axis=axis)


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """x without axes of size 1 (only those in ``axis`` when given)."""
    return Squeeze.apply(x, axis=axis)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """x repeated to ``shape`` by numpy's broadcasting rules."""
    return BroadcastTo.apply(x, shape=_as_tuple(shape, "shape", "broadcast_to"))


def concatenate(tensors: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis (``axis=None``: flattened, one after the other)."""
    return Concatenate.apply(*_tensors("concatenate", tensors), axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    return Stack.apply(*_tensors("stack", tensors), axis=axis)


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> tuple[Tensor, ...]:
    """Cut x along ``axis``, as np.split: ``indices_or_sections`` is a number of equal
    sections or the indices to cut at. Returns a tuple of tensors."""
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(
            indices_or_sections, (bool, np.bool_)):
        indices_or_sections = int(indices_or_sections)
        if indices_or_sections < 1:
            raise ArgumentError(f"split: the number of equal sections must be at least 1, got "
                                f"{indices_or_sections}")
    else:
        try:
            indices_or_sections = tuple(indices_or_sections)
        except TypeError:
            raise ArgumentError(
                "split: indices_or_sections must be a number of equal sections or a sequence "
                f"of indices to cut at, got {indices_or_sections!r}"
            ) from None
    return Split.apply(x, indices_or_sections=indices_or_sections, axis=axis)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
# PyTorch's names (F.pad) for the same modes; its "reflect" and "constant" are numpy's too.
_TORCH_PAD_MODES = {"replicate": "edge", "circular": "wrap"}


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """x with a border, as ``np.pad(x, pad_width, mode)``: x (n_1, ..., n_k) ->
    (before_1 + n_1 + after_1, ..., before_k + n_k + after_k).

    ``pad_width``: one ``(before, after)`` pair per axis (``((1, 1), (2, 0))``), one pair for
    every axis, or one number. ``mode`` fills the border, shown on [1, 2, 3] padded (2, 2):

    - ``"constant"``, ``constant_values`` (by default 0, the zero padding of 'same'
      convolutions): 0 0 | 1 2 3 | 0 0;
    - ``"edge"``, the edge element repeated (PyTorch's "replicate"): 1 1 | 1 2 3 | 3 3;
    - ``"reflect"``, mirrored about the edge element: 3 2 | 1 2 3 | 2 1;
    - ``"symmetric"``, mirrored with the edge element repeated: 2 1 | 1 2 3 | 3 2;
    - ``"wrap"``, the other end continued (PyTorch's "circular"): 2 3 | 1 2 3 | 1 2.

    A border wider than the axis goes on copying as numpy's does (reflect reflects again, wrap
    wraps around again; an axis of length 1 reflects as its edge); PyTorch refuses widths that
    large for "reflect" and "circular". Every border element copies one element of x, whose
    gradient is the sum of the gradients of the element and all its copies.
    """
    if not (isinstance(mode, str) and mode in _PAD_MODES):
        raise ArgumentError(_unknown_pad_mode(mode))
    constant_values = setting_value(constant_values, "constant_values", "pad",
                                    "gg.pad(x - c, pad_width) + c")
    if mode != "constant":
        if not _all_zero(constant_values):
            raise ArgumentError(
                f"pad: constant_values={constant_values!r} is what mode 'constant' fills the "
                f"border with; mode {mode!r} fills it with copies of x's elements. Leave "
                "constant_values out, or pad with mode='constant'"
            )
        return Pad.apply(x, pad_width=pad_width, mode=mode)
    # a mask (x of bools) is padded with True or False
    bools = array_of(x, "x", "pad").dtype.kind == "b"
    constant_values = real_values(constant_values, "constant_values", "pad", bools)
    return Pad.apply(x, pad_width=pad_width, mode=mode, constant_values=constant_values)


def _unknown_pad_mode(mode: Any) -> str:
    supported = ", ".join(repr(m) for m in _PAD_MODES)
    if isinstance(mode, str) and mode in _TORCH_PAD_MODES:
        return (f"pad: mode {mode!r} is PyTorch's name for numpy's {_TORCH_PAD_MODES[mode]!r}; "
                f"pad takes numpy's names: mode={_TORCH_PAD_MODES[mode]!r}")
    given = describe(mode) if isinstance(mode, Tensor) else repr(mode)
    message = (f"pad: mode must be one of {supported} (numpy's names; PyTorch's 'replicate' "
               f"is 'edge' and 'circular' is 'wrap'), got {given}")
    if not isinstance(mode, str):  # pad(x, w, 0.5): constant_values is the fourth argument
        message += "; give constant_values by name: gg.pad(x, pad_width, constant_values=c)"
    return message


def _all_zero(value: Any) -> bool:
    try:
        return not np.any(np.asarray(value, dtype=np.float64) != 0)
    except (TypeError, ValueError):  # not numbers at all: not the default either
        return False


def astype(x: Any, dtype: Any) -> Tensor:
    """x converted to ``dtype``. To another float dtype, gradients are converted back; to an
    integer or bool dtype the result is a constant, as in PyTorch: rounding has no gradient."""
    array_of_numbers(x, "x", "astype")  # not the Cast inside
    try:
        dtype = np.dtype(dtype)
    except TypeError as exc:
        raise GraphgradTypeError(f"astype: {exc}; give a numpy dtype such as np.float32") from None
    if dtype.kind not in "biuf":  # what gg.Tensor takes: a complex or str tensor it refuses
        raise GraphgradTypeError(f"astype: tensors hold bools, integers or floats, got dtype "
                                 f"{dtype}; give a numpy dtype such as np.float32")
    if dtype.kind != "f":
        return _constant((x.data if isinstance(x, Tensor) else np.asarray(x)).astype(dtype))
    return Cast.apply(x, dtype=dtype)
