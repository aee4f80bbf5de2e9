"""`Tensor`: a numpy array that remembers the op that made it.

A Tensor holds ``data`` (an ndarray), ``grad`` (dJ/d(this tensor) after backward, or None),
``requires_grad``, an optional ``name`` and ``creator``: the node (a `Function` instance) whose
forward produced it, ``None`` for a leaf. ``creator.inputs`` are the tensors it was computed
from, so ``t.creator.inputs[0].creator ...`` walks the graph backwards; this is the public graph
that `viz` draws.

Dtypes: Python numbers and integer arrays become float64, bools stay bool (masks); float32
stays float32 end to end, and a Python scalar in an op takes the dtype of the tensor it meets.

Operators and methods are thin: each calls one op's ``apply`` (``a * b`` is ``Mul.apply(a, b)``)
so every op can be found with grep. The op classes are imported at the bottom of this module
because they are built on `Function`, which is built on `Tensor`.
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from graphgrad.devices import dtype_of_to, refuse_device
from graphgrad.errors import (
    ArgumentError, BackwardError, GraphgradError, GraphgradTypeError, InplaceError, ShapeError,
    describe, flag, on_tensors, setting_text,
)

if TYPE_CHECKING:
    from graphgrad.function import Function

ArrayLike = Any
Axis = int | Sequence[int] | None


# Tensor and its subclasses: what an op takes as it is (anything else becomes a constant).
_TENSOR_TYPES: set[type] = set()


def _to_array(data: ArrayLike, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.asarray(data) if dtype is None else np.asarray(data, dtype=dtype)
    except GraphgradError:  # a tensor in a list refused its values: that message says why
        raise
    except (TypeError, ValueError) as exc:  # a ragged list, text, an unknown dtype
        _check_dtype(dtype)
        raise GraphgradTypeError(
            f"Tensor cannot make an array of the {type(data).__name__} given: "
            f"{str(exc).rstrip('.')}. Pass a number, a nested list of numbers with the same "
            "length at each level, or a numeric numpy array."
        ) from None
    kind = array.dtype.kind
    if kind == "f" or dtype is not None and kind in "biu":
        return array
    if kind in "iu":
        return array.astype(np.float64)
    if kind == "b":  # a mask, as a comparison gives: x[mask] must select, not read 0s and 1s
        return array
    _check_dtype(dtype)
    # numpy keeps an integer beyond 64 bits as a Python object: a number, but no dtype holds it.
    too_big = kind == "O" and any(type(v) is int for v in array.flat)
    why = " (an integer too large for int64: give it as a float, as 2.0 ** 70 for 2 ** 70)"
    raise GraphgradTypeError(
        f"Tensor needs numbers, got {type(data).__name__} of dtype {array.dtype}"
        f"{why if too_big else ''}. Pass a number, a nested list of numbers or a numeric "
        "numpy array."
    )


def _check_dtype(dtype: Any) -> None:
    """Raise a `GraphgradTypeError` naming ``dtype`` when it is no number type (an unknown
    name, str, complex), so the data given with it is not blamed."""
    if dtype is None:
        return
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        kind = None
    if kind is None or kind not in "biuf":
        raise GraphgradTypeError(
            f"Tensor: dtype must be a number type (np.float64, np.float32, int or bool), got "
            f"{getattr(dtype, '__name__', None) or setting_text(dtype)}"
        )


class Tensor:
    """A node of the computation graph: an ndarray plus what backprop needs.

    Args:
        data: a number, nested list or ndarray. Integers become float64; bools stay bool
            (a mask, as comparisons give); float arrays keep their dtype (and share memory
            with the array given).
        requires_grad: True to compute dJ/d(this) when a result is backpropagated
            (parameters); True or False only, as every on/off setting.
        name: a label for pictures and error messages, a str (``"W1"``, ``"a"``) or None.
        dtype: convert ``data`` to this dtype (``np.float32``).
    """

    # The name is kept under _name behind a property that checks it; ops set _name directly.
    # No more: a bigger tensor slows every op of a long graph (hooks are kept elsewhere).
    __slots__ = ("data", "grad", "requires_grad", "_name", "creator", "__weakref__")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _TENSOR_TYPES.add(cls)  # ops take subclasses (nn.Parameter) on their fast path

    def __init__(
        self,
        data: ArrayLike,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        if type(requires_grad) is not bool:
            requires_grad = flag(requires_grad, "requires_grad", "Tensor")
        self.name = name  # checked by the property's setter
        self.data = _to_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            raise GraphgradTypeError(
                f"only float tensors can require grad; {describe(self)} has dtype "
                f"{self.data.dtype}. Pass dtype=np.float64 (or float32)."
            )
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self.creator: Function | None = None  # the op that made it; None for a leaf

    @property
    def name(self) -> str | None:
        """A label for pictures and error messages (``"W1"``), or None."""
        return self._name

    @name.setter
    def name(self, name: str | None) -> None:
        self._name = name if name is None or type(name) is str else _checked_name(self, name)

    # -- array-like attributes ----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The data's shape, as numpy's: (n_x, m) for the course's X."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """The data's numpy dtype: float64 for numbers given, bool for a mask, a float array's
        own."""
        return self.data.dtype

    @property
    def ndim(self) -> int:
        """The number of axes, as numpy's: 2 for a matrix W[l]."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements, as numpy's: n_x * m for X of shape (n_x, m)."""
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (parameters, data), not by an op."""
        return self.creator is None

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number: a float, or an int or bool
        for an integer or bool tensor."""
        if self.data.size != 1:
            raise ShapeError(f"item() needs a one-element tensor, got {describe(self)}; "
                             "reduce it first (t.sum(), t.mean()) or index one element")
        return self.data.item()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The data, for numpy. Refused for a tensor that requires grad while ops are
        recorded, as in PyTorch: numpy would compute on the bare values (``X.dot(W)``,
        ``np.sum([J1, J2])``, ``np.array([a, b])``) and the gradient would be silently lost.
        ``t.data`` or ``t.numpy()`` take the values on purpose; `gg.no_grad` allows it."""
        if self.requires_grad and _state.grad_enabled:
            raise on_tensors(GraphgradTypeError(
                f"numpy asked for the values of {describe(self)}, which requires grad: what "
                "it computes from them would have no gradient. Keep tensors in graphgrad ops "
                "(X @ W rather than X.dot(W); gg.stack or gg.concatenate for a "
                "list of tensors; sum(costs) rather than np.sum(costs)), or take the values "
                "on purpose: t.data, t.numpy(), or under gg.no_grad()."
            ), "numpy asked for the values of a Tensor (to compute with them outside the "
               "graph, or to write them into an array), which the gradient's graph would lose")
        if dtype is None or dtype == self.data.dtype:
            return self.data.copy() if copy else self.data
        if copy is False:  # numpy's protocol: never copy, so refuse what needs one
            raise ValueError(f"{describe(self)} cannot become {np.dtype(dtype)} without a copy")
        return self.data.astype(dtype)

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise GraphgradTypeError(
                f"{describe(self)} is 0-d, one number with no axes, so it has no length and "
                "cannot be iterated over; take its value with t.item()"
            )
        return len(self.data)

    def __contains__(self, value: Any) -> bool:
        """``5 in t``: whether any element equals it, as numpy and PyTorch read it (going
        row by row, a 2-D tensor's rows would be compared to it)."""
        return bool((self.data == _data(value)).any())

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ShapeError(f"the truth value of {describe(self)} is ambiguous: use "
                             "t.any() or t.all()")
        return bool(self.data)

    def __float__(self) -> float:
        """``float(t)``, and numpy storing t in one element of an array (``Z[i, h, w, c] =
        t``, which reads t through this and nothing else): refused for a tensor that requires
        grad while ops are recorded, as ``__array__`` is, since the gradient would be lost
        without a word; ``t.item()`` takes the value on purpose."""
        self._refuse_cut("float")
        return float(self.item())

    def __int__(self) -> int:
        self._refuse_cut("int")
        return int(self.item())

    def _refuse_cut(self, kind: str) -> None:
        if self.requires_grad and _state.grad_enabled:
            raise GraphgradTypeError(
                f"{kind}() of {describe(self)}, which requires grad, would keep its value "
                "only, and the gradient would be lost; numpy calls it when t is stored in one "
                "element of an array (Z[i, j] = t), so what is computed from that array has "
                "no gradient, and Python's math module reads numbers through it (math.exp(t): "
                "take np.exp(t) or gg.exp(t), which record the op). Keep tensors in graphgrad "
                "ops (collect them in a list and gg.stack it, or gg.where), or take the value "
                "on purpose: t.item(), or under gg.no_grad(). To print a cost, as the "
                "course's \"Cost after iteration %i: %f\" % (i, cost) does through float(): "
                "pass cost.item(), or write f\"{cost:.6f}\"."
            )

    def __index__(self) -> int:
        """An integer tensor of one element as an index: ``range(t)``, ``names[t]``."""
        if self.data.dtype.kind not in "iu":
            raise GraphgradTypeError(
                f"{describe(self)} cannot be used as an index: only an integer tensor of one "
                "element can (made with dtype=int; int(t) cuts a float one toward zero)"
            )
        return int(self.item())

    def tolist(self) -> Any:
        """The data as nested Python lists (a number for a 0-d tensor), as numpy's."""
        return self.data.tolist()

    def __format__(self, spec: str) -> str:
        """``f"{J:.4f}"``: a one-element tensor formats as its number; no spec gives str."""
        return format(self.item(), spec) if spec else str(self)

    # Operators compare elementwise, so identity is the hash (tensors are dict keys in backprop).
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        extras = []
        if self.name:
            extras.append(f"name={self.name!r}")
        if self.data.dtype != np.float64:
            extras.append(f"dtype={self.data.dtype}")
        if self.creator is not None:
            extras.append(f"op={type(self.creator).__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        text = "Tensor(" + ", ".join([_short(self.data, "Tensor("), *extras])
        if self.grad is not None:
            text += ", grad="
            text += _short(self.grad, text[text.rfind("\n") + 1:])  # rows line up under it
        return text + ")"

    # -- graph ---------------------------------------------------------------------------------
    def backward(
        self,
        grad: ArrayLike = None,
        retain_graph: bool = False,
        keep_intermediate_grads: bool = True,
        *,
        create_graph: bool = False,
    ) -> None:
        """Backpropagate from this tensor J: afterwards every node that requires grad holds
        dJ/d(node) in ``.grad``, intermediates included.

        Args:
            grad: dJ/d(this tensor); defaults to 1 for a one-element tensor.
            retain_graph: keep saved values so backward can run through the graph again.
            keep_intermediate_grads: False keeps only the leaves' grads (parameters), which
                frees each intermediate gradient as soon as it is used: less memory in training.
            create_graph: False only (PyTorch's keyword, refused when True with what to do):
                ``.grad`` holds numpy arrays, never a graph. A gradient to differentiate again
                comes from ``gg.grad(J, [W], create_graph=True)``.

        Leaves accumulate (``x.grad`` grows across calls until reset to None); intermediates
        hold the latest backward's value. So a batch too big for memory can be split into
        micro-batches, each backpropagated in turn before one step: with each micro-batch's
        mean cost scaled by its share of the examples (J_k * m_k / m), the parameters' grads
        are those of the whole batch, except through BatchNorm (each micro-batch is normalised
        by its own mean and variance, and updates the running ones) and Dropout (a mask per
        micro-batch). Clip the sum, after the last backward.
        """
        if create_graph is not False and flag(create_graph, "create_graph", "backward"):
            raise _engine.create_graph_refused(self)
        _engine.backward(self, grad, retain_graph, keep_intermediate_grads)

    def register_hook(self, hook: Callable[[Any], Any]) -> hooks.RemovableHandle:
        """Call ``hook(grad)`` in every backward pass through this tensor (``J.backward()``,
        ``gg.grad``) once dJ/d(this tensor) is complete, summed over all its uses, and before
        it is sent on to the inputs of the op that made it (or, for a leaf, added to
        ``.grad``). ``grad`` is a read-only numpy array of this tensor's shape (a Tensor under
        ``gg.grad(..., create_graph=True)``). If the hook returns a value (not None), that is
        the gradient from then on: it must have the shape and dtype of ``grad``, and becomes
        this tensor's ``.grad`` (added to a leaf's) and what flows on. Several hooks run in the
        order they were registered, each given the result of the one before.

        >>> A = gg.relu(Z)
        >>> h = A.register_hook(lambda g: np.clip(g, -1.0, 1.0))  # clip dA, then dZ from it
        >>> h.remove()                                           # and no more

        Returns a handle whose ``remove()`` takes the hook away (``with`` also works). Hooks
        go with the tensor: an op's output keeps them on its node, an `nn.Parameter` in a
        slot of its own (a hook referring to it makes a cycle the collector frees), a plain
        leaf Tensor in a table that drops them when it dies (a hook referring to that leaf
        keeps it alive until removed); copies (``detach``, ``copy.deepcopy``, pickling) have
        none. Refused on a tensor that does not require grad: no gradient would ever reach it.
        """
        return hooks.register_tensor_hook(self, hook)

    def retain_grad(self) -> None:
        """Keep this op's output's ``.grad`` in ``J.backward(keep_intermediate_grads=False)``,
        which keeps only the leaves' (PyTorch's ``retain_grad``): dZ[l] of one layer, say,
        without holding every intermediate gradient of a big model.

        With the default ``keep_intermediate_grads=True`` every node keeps its gradient
        anyway, and a leaf always does: there it changes nothing. As an intermediate's
        ``.grad`` does, the one kept holds the latest backward's dJ/d(this tensor), after
        this tensor's hooks (PyTorch sums them over backwards); ``gg.grad`` touches no
        ``.grad``, this one's neither (PyTorch's ``autograd.grad`` sets it). The mark lasts
        as long as the tensor (``retains_grad`` says whether it has it); copies have none.
        Refused on a tensor that does not require grad: no gradient would ever reach it.
        """
        if not self.requires_grad:
            raise BackwardError(
                f"retain_grad: {describe(self)} does not require grad, so no gradient will "
                "ever reach it to keep. Call it on a tensor that requires grad (a result "
                "computed from a parameter outside gg.no_grad())."
            )
        if self.creator is not None:
            hooks.retain_grad(self)

    @property
    def retains_grad(self) -> bool:
        """True for an op's output whose ``retain_grad()`` was called, False otherwise (for a
        leaf too, whose ``.grad`` is always kept), as in PyTorch."""
        return (self.creator is not None and id(self) in hooks._HOOKED
                and hooks.retains_grad(self))

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set this leaf's ``requires_grad``, in place (``W.requires_grad_(False)`` freezes a
        parameter: later graphs treat it as a constant). Returns self."""
        requires_grad = flag(requires_grad, "requires_grad", f"requires_grad_ of {describe(self)}")
        if self.creator is not None:
            raise BackwardError(
                f"requires_grad_: {describe(self)} was computed by {self.creator.name}; only "
                "a leaf's flag can change. Use t.detach() for a copy cut from the graph."
            )
        if requires_grad and self.data.dtype.kind != "f":
            raise GraphgradTypeError(
                f"only float tensors can require grad; {describe(self)} has dtype "
                f"{self.data.dtype}. Make it with dtype=np.float64 (or float32)."
            )
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """A new leaf sharing this data, cut from the graph (requires_grad False)."""
        return Tensor(self.data)

    # A copy is always a new leaf: a second tensor with this one's creator would be a second
    # output its node knows nothing of, and the gradient sent into it would be lost.
    def __copy__(self) -> Tensor:
        """``copy.copy(t)``: a new leaf sharing this data, with its name, requires_grad and
        grad. Ops never change a tensor, so a copy is only needed to cut it from its graph."""
        return self._as_leaf(self.data, self.grad)

    def __deepcopy__(self, memo: dict) -> Tensor:
        """``copy.deepcopy(t)`` (of a model, say): a new leaf with copies of the data and grad,
        its name and requires_grad."""
        grad = None if self.grad is None else self.grad.copy()
        copied = memo[id(self)] = self._as_leaf(self.data.copy(), grad)
        return copied

    def _as_leaf(self, data: np.ndarray, grad: np.ndarray | None) -> Tensor:
        return _leaf(type(self), data, grad, self.name, self.requires_grad)

    def __reduce_ex__(self, protocol: Any) -> tuple:
        """Pickled as a leaf, as ``deepcopy`` copies it: its data, grad, name and
        requires_grad, not the graph that made it (the whole training set, for a cost)."""
        return _unpickled_leaf, (type(self), self.data, self.grad, self.name, self.requires_grad)

    def __setitem__(self, index: Any, value: Any) -> None:
        # The course fills arrays in loops (conv_forward's Z[i, h, w, c] = ...): the way to
        # do that with tensors is a list stacked at the end, which the message spells out.
        shape = ", ".join(map(str, self.shape))
        raise on_tensors(InplaceError(
            f"{describe(self)} does not support item assignment: ops read tensors, they never "
            "change them. Build a new tensor instead (gg.where(mask, value, t), gg.concatenate, "
            "gg.pad), or assign a new array to a leaf: t.data = new_array. To fill it as "
            "conv_forward's Z[i, h, w, c] = ... in a loop: append each value to a list, then "
            f"gg.stack(values).reshape({shape}) (gg.stack(values, axis=...) for slices)."
        ), "it writes into a Tensor, and a Tensor never changes")

    # -- arithmetic -----------------------------------------------------------------------------
    def __add__(self, other: ArrayLike) -> Tensor:
        return Add.apply(self, other if type(other) is Tensor else _lift(other, self))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return Add.apply(_lift(other, self), self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return Sub.apply(self, other if type(other) is Tensor else _lift(other, self))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return Sub.apply(_lift(other, self), self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return Mul.apply(self, other if type(other) is Tensor else _lift(other, self))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return Mul.apply(_lift(other, self), self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return Div.apply(self, other if type(other) is Tensor else _lift(other, self))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return Div.apply(_lift(other, self), self)

    def __pow__(self, exponent: ArrayLike) -> Tensor:
        return Pow.apply(self, exponent if type(exponent) is Tensor else _lift(exponent, self))

    def __rpow__(self, base: ArrayLike) -> Tensor:
        return Pow.apply(_lift(base, self), self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return MatMul.apply(self, other if type(other) is Tensor else _lift(other, self))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return MatMul.apply(_lift(other, self), self)

    # In place: ``with gg.no_grad(): W -= lr * W.grad`` updates a parameter, as in PyTorch.
    # Any other tensor gets ``t = t - x``, a new tensor, since ops never change their inputs.
    def __iadd__(self, other: ArrayLike) -> Tensor:
        return _update(self, np.add, other, "+=")

    def __isub__(self, other: ArrayLike) -> Tensor:
        return _update(self, np.subtract, other, "-=")

    def __imul__(self, other: ArrayLike) -> Tensor:
        return _update(self, np.multiply, other, "*=")

    def __itruediv__(self, other: ArrayLike) -> Tensor:
        return _update(self, np.true_divide, other, "/=")

    def __ipow__(self, exponent: ArrayLike) -> Tensor:
        return _update(self, np.power, exponent, "**=")

    def __neg__(self) -> Tensor:
        return Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return Abs.apply(self)

    # -- comparisons: constant bool tensors, no graph ------------------------------------------
    def __lt__(self, other: ArrayLike) -> Tensor:
        return _compare(self, other, operator.lt, "<")

    def __le__(self, other: ArrayLike) -> Tensor:
        return _compare(self, other, operator.le, "<=")

    def __gt__(self, other: ArrayLike) -> Tensor:
        return _compare(self, other, operator.gt, ">")

    def __ge__(self, other: ArrayLike) -> Tensor:
        return _compare(self, other, operator.ge, ">=")

    def __eq__(self, other: ArrayLike) -> Tensor:  # type: ignore[override]
        return _compare(self, other, operator.eq, "==")

    def __ne__(self, other: ArrayLike) -> Tensor:  # type: ignore[override]
        return _compare(self, other, operator.ne, "!=")

    # -- logical: bool tensors (as comparisons give) or integer ones; constants, no graph -------
    def __invert__(self) -> Tensor:
        return _bitwise(np.invert, "~", self)

    def __and__(self, other: ArrayLike) -> Tensor:
        return _bitwise(np.bitwise_and, "&", self, other)

    def __rand__(self, other: ArrayLike) -> Tensor:
        return _bitwise(np.bitwise_and, "&", other, self)

    def __or__(self, other: ArrayLike) -> Tensor:
        return _bitwise(np.bitwise_or, "|", self, other)

    def __ror__(self, other: ArrayLike) -> Tensor:
        return _bitwise(np.bitwise_or, "|", other, self)

    def __xor__(self, other: ArrayLike) -> Tensor:
        return _bitwise(np.bitwise_xor, "^", self, other)

    def __rxor__(self, other: ArrayLike) -> Tensor:
        return _bitwise(np.bitwise_xor, "^", other, self)

    # -- numpy interoperability (see graphgrad.interop) ----------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return interop.array_function(func, args, kwargs)

    # -- methods mirroring numpy ----------------------------------------------------------------
    def exp(self) -> Tensor:
        """e ** x, elementwise: `gg.exp`."""
        return Exp.apply(self)

    def log(self) -> Tensor:
        """Natural logarithm, elementwise: `gg.log`."""
        return Log.apply(self)

    def log1p(self) -> Tensor:
        """ln(1 + x), elementwise, exact for small x: `gg.log1p`."""
        return Log1p.apply(self)

    def expm1(self) -> Tensor:
        """e ** x - 1, elementwise, exact for small x: `gg.expm1`."""
        return Expm1.apply(self)

    def sqrt(self) -> Tensor:
        """Square root, elementwise: `gg.sqrt`."""
        return Sqrt.apply(self)

    def abs(self) -> Tensor:
        """|x|, elementwise: `gg.abs`, as ``abs(x)``."""
        return Abs.apply(self)

    def sin(self) -> Tensor:
        """sin x, elementwise: `gg.sin`."""
        return Sin.apply(self)

    def cos(self) -> Tensor:
        """cos x, elementwise: `gg.cos`."""
        return Cos.apply(self)

    def tanh(self) -> Tensor:
        """tanh, elementwise: `gg.tanh`."""
        return Tanh.apply(self)

    def tan(self) -> Tensor:
        """tan x, elementwise: `gg.tan`."""
        return Tan.apply(self)

    def arcsin(self) -> Tensor:
        """arcsin x, elementwise: `gg.arcsin` (``t.asin()`` too)."""
        return Arcsin.apply(self)

    def arccos(self) -> Tensor:
        """arccos x, elementwise: `gg.arccos` (``t.acos()`` too)."""
        return Arccos.apply(self)

    def arctan(self) -> Tensor:
        """arctan x, elementwise: `gg.arctan` (``t.atan()`` too)."""
        return Arctan.apply(self)

    def sinh(self) -> Tensor:
        """sinh x, elementwise: `gg.sinh`."""
        return Sinh.apply(self)

    def cosh(self) -> Tensor:
        """cosh x, elementwise: `gg.cosh`."""
        return Cosh.apply(self)

    def arcsinh(self) -> Tensor:
        """arcsinh x, elementwise: `gg.arcsinh` (``t.asinh()`` too)."""
        return Arcsinh.apply(self)

    def arccosh(self) -> Tensor:
        """arccosh x, elementwise: `gg.arccosh` (``t.acosh()`` too)."""
        return Arccosh.apply(self)

    def arctanh(self) -> Tensor:
        """arctanh x, elementwise: `gg.arctanh` (``t.atanh()`` too)."""
        return Arctanh.apply(self)

    # PyTorch's names: the same methods.
    asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh

    def exp2(self) -> Tensor:
        """2 ** x, elementwise: `gg.exp2`."""
        return Exp2.apply(self)

    def log2(self) -> Tensor:
        """Logarithm in base 2, elementwise: `gg.log2`."""
        return Log2.apply(self)

    def log10(self) -> Tensor:
        """Logarithm in base 10, elementwise: `gg.log10`."""
        return Log10.apply(self)

    def reciprocal(self) -> Tensor:
        """1 / x, elementwise: `gg.reciprocal`."""
        return Reciprocal.apply(self)

    def cbrt(self) -> Tensor:
        """The cube root, elementwise, real for negative x: `gg.cbrt`."""
        return Cbrt.apply(self)

    def erf(self) -> Tensor:
        """The error function, elementwise: `gg.erf`."""
        return Erf.apply(self)

    def erfc(self) -> Tensor:
        """1 - erf(x), elementwise, to full precision in the tail: `gg.erfc`."""
        return Erfc.apply(self)

    def erfinv(self) -> Tensor:
        """erf's inverse, elementwise, on (-1, 1): `gg.erfinv`."""
        return Erfinv.apply(self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + e**-x), elementwise: `gg.sigmoid`."""
        return Sigmoid.apply(self)

    def relu(self) -> Tensor:
        """max(x, 0), elementwise: `gg.relu`."""
        return ReLU.apply(self)

    def leaky_relu(self, alpha: float = 0.01) -> Tensor:
        """x where x > 0, else alpha * x, elementwise: `gg.leaky_relu`."""
        return _leaky_relu(self, alpha)

    def softplus(self) -> Tensor:
        """ln(1 + e**x), elementwise, stable: `gg.softplus`."""
        return Softplus.apply(self)

    def elu(self, alpha: float = 1.0) -> Tensor:
        """x where x > 0, else alpha (e**x - 1), elementwise: `gg.elu`."""
        return _activations.elu(self, alpha)

    def log_sigmoid(self) -> Tensor:
        """ln sigmoid(x), elementwise, stable: `gg.log_sigmoid`."""
        return LogSigmoid.apply(self)

    def silu(self) -> Tensor:
        """x sigmoid(x), elementwise, stable: `gg.silu`."""
        return SiLU.apply(self)

    def gelu(self, approximate: str = "none") -> Tensor:
        """GELU, elementwise, exact (x Phi(x)) or with approximate="tanh" in its tanh form:
        `gg.gelu`."""
        return _activations.gelu(self, approximate)

    def clip(self, low: float | None = None, high: float | None = None) -> Tensor:
        """The values limited to [low, high], same shape: `gg.clip`."""
        return _clip(self, low, high)

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all when None), ``keepdims`` as `gg.sum`. ``dZ.sum(axis=1,
        keepdims=True)``:
        (n[l], m) -> (n[l], 1), the course's db[l] times m."""
        return Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all when None), ``keepdims`` as `gg.mean`."""
        return Mean.apply(self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Product over ``axis`` (all when None), ``keepdims`` as `gg.prod`; its gradient is
        right where x holds zeros."""
        return Prod.apply(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis: int | None = None) -> Tensor:
        """The running sum along ``axis`` (of the flattened tensor when None): `gg.cumsum`."""
        return Cumsum.apply(self, axis=axis)

    def cumprod(self, axis: int | None = None) -> Tensor:
        """The running product along ``axis`` (of the flattened tensor when None):
        `gg.cumprod`, its gradient right where x holds zeros."""
        return Cumprod.apply(self, axis=axis)

    def ptp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The range max - min over ``axis`` (all when None), ``keepdims`` as `gg.ptp` (numpy
        1's ``a.ptp()``; numpy 2 keeps np.ptp only)."""
        return _statistics.ptp(self, axis, keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis`` (all when None), ``keepdims`` as `gg.max`."""
        return Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis`` (all when None), ``keepdims`` as `gg.min`."""
        return Min.apply(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
        """Variance over ``axis`` (all when None), ``keepdims`` as `gg.var`. numpy's default
        ``ddof=0``, the course's; PyTorch's ``t.var()`` is ``ddof=1``."""
        return Var.apply(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
        """Standard deviation over ``axis`` (all when None), ``keepdims`` as `gg.std`. numpy's
        default ``ddof=0``; PyTorch's ``t.std()`` is ``ddof=1``."""
        return Std.apply(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def norm(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The 2-norm over ``axis`` (of all elements when None, a matrix's Frobenius norm),
        ``keepdims`` as `gg.norm`."""
        return Norm.apply(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """The index of the largest value along ``axis`` (of the flattened tensor when None),
        as np.argmax (``keepdims`` too): an integer tensor that needs no grad (indices have no
        derivative)."""
        return self._index_of(np.argmax, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """The index of the smallest value along ``axis``, as np.argmin (``keepdims`` too);
        needs no grad."""
        return self._index_of(np.argmin, axis, keepdims)

    def argsort(self, axis: int | None = -1) -> Tensor:
        """The indices that sort the values along ``axis`` (the last by default; the
        flattened tensor when None), as np.argsort: an integer tensor that needs no grad.
        For the sorted values with their gradient, take `gg.sort`."""
        axis = self._checked_axes(f"argsort of {describe(self)}", axis)
        return _constant(np.argsort(self.data, axis=axis))

    def all(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Whether every element along ``axis`` (an int, a tuple of them, or None: all
        elements) is nonzero, as np.all (``keepdims`` too): a bool tensor that needs no grad,
        to test a comparison: ``(A >= 0).all()``."""
        return self._index_of(np.all, axis, keepdims, several=True)

    def any(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Whether some element along ``axis`` (an int, a tuple of them, or None: all
        elements) is nonzero, as np.any (``keepdims`` too): a bool tensor that needs no
        grad, to test a comparison: ``(Z != Z).any()`` finds a NaN."""
        return self._index_of(np.any, axis, keepdims, several=True)

    def _index_of(self, find: Callable[..., Any], axis: Any, keepdims: bool,
                  several: bool = False) -> Tensor:
        caller = f"{find.__name__} of {describe(self)}"
        keepdims = flag(keepdims, "keepdims", caller)
        axis = self._checked_axes(caller, axis, several)
        return _constant(find(self.data, axis=axis, keepdims=keepdims))

    def _checked_axes(self, caller: str, axis: Any, several: bool = False) -> Any:
        """``axis`` if it is None or an axis of this tensor (or, ``several``, a tuple of
        distinct ones), else an `ArgumentError` naming ``caller``."""
        axes = axis if several and isinstance(axis, tuple) else (axis,)
        # numpy takes axis 0 (or -1) of a 0-d array as an int, not in a tuple
        n = self.ndim if axes is axis else max(self.ndim, 1)
        if axis is not None and (any(isinstance(a, (bool, np.bool_))
                                     or not isinstance(a, (int, np.integer))
                                     or not -n <= a < n for a in axes)
                                 or len({a % n for a in axes}) < len(axes)):
            if n == 0:
                raise ArgumentError(f"{caller}: a tuple of axes of a tensor of no axes, got "
                                    f"{axis!r}; give axis=None (or 0, as numpy takes it)")
            what = ", a tuple of distinct ones" if several else ""
            raise ArgumentError(f"{caller}: axis must be None (the flattened tensor) or one "
                                f"axis from {-n} to {n - 1}{what}, got {axis!r}")
        return axis

    def softmax(self, axis: int = -1) -> Tensor:
        """Softmax along ``axis``, same shape: `gg.softmax`."""
        return Softmax.apply(self, axis=axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """log(softmax(x)) along ``axis``, computed stably, same shape: `gg.log_softmax`."""
        return LogSoftmax.apply(self, axis=axis)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``axis`` (all when None), computed stably, ``keepdims`` as
        `gg.logsumexp`."""
        return LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: Any) -> Tensor:
        """The data in a new shape, given as one tuple or as numbers (``x.reshape(n_x, -1)``):
        `gg.reshape`."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Reshape.apply(self, shape=shape)

    def flatten(self, start_axis: int = 0, end_axis: int = -1) -> Tensor:
        """The axes from ``start_axis`` to ``end_axis`` (both included) joined into one, in row
        order: all elements in one axis, shape (size,), by default; PyTorch's
        ``torch.flatten(x, 1)``, each example's values in one row, is ``x.flatten(1)`` (as
        ``nn.Flatten``): (m, n_H, n_W, n_C) -> (m, n_H n_W n_C). A `gg.reshape`."""
        shape = self.data.shape
        if start_axis == 0 and end_axis == -1:
            return Reshape.apply(self, shape=(-1,))
        ndim = max(len(shape), 1)  # PyTorch's: a number flattens to (1,)
        axes = []
        for what, axis in (("start_axis", start_axis), ("end_axis", end_axis)):
            if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
                hint = " (numpy's order, 'C' or 'F', is not taken)" if isinstance(axis, str) else ""
                raise ArgumentError(f"flatten: {what} must be an integer, got "
                                    f"{setting_text(axis)}{hint}")
            if not -ndim <= axis < ndim:
                raise ArgumentError(f"flatten: {what}={axis} is no axis of {describe(self)}")
            axes.append(int(axis) % ndim)
        start, end = axes
        if start > end:
            raise ArgumentError(f"flatten: start_axis={start_axis} comes after "
                                f"end_axis={end_axis} of {describe(self)}")
        if not shape:
            return Reshape.apply(self, shape=(1,))
        # The joined length is spelled out: -1 cannot be solved for in an empty batch (m = 0).
        joined = int(np.prod(shape[start:end + 1]))
        return Reshape.apply(self, shape=shape[:start] + (joined,) + shape[end + 1:])

    def ravel(self) -> Tensor:
        """All elements in one axis, in row order, as np.ravel: ``y.ravel()`` of y (1, n) is
        (n,), the course's p of np.random.choice. The same as `flatten`."""
        return Reshape.apply(self, shape=(-1,))

    def transpose(self, *axes: Any) -> Tensor:
        """The axes permuted, given as one tuple or as numbers; reversed when none are given:
        `gg.transpose`. Numbers are the new order of every axis, as numpy's: PyTorch's
        ``t.transpose(a, b)``, which exchanges two axes, is ``t.swapaxes(a, b)``; on a matrix,
        ``t.transpose(0, 1)`` (numpy: unchanged, PyTorch: exchanged) is refused."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = () if axes[0] is None else tuple(axes[0])  # numpy: None reverses the axes
        elif len(axes) == 2 and self.data.ndim == 2 and axes in ((0, 1), (-2, -1), (0, -1),
                                                                 (-2, 1)):
            raise ArgumentError(
                f"transpose{axes} of the matrix {describe(self)} is ambiguous: numpy reads the "
                "numbers as the new order of the axes and leaves it as it is, PyTorch's "
                "transpose exchanges the two. To exchange them write .T (or .swapaxes(0, 1)); "
                "the matrix unchanged is the tensor itself.")
        return Transpose.apply(self, axes=axes or None)

    @property
    def T(self) -> Tensor:
        """The axes reversed, as numpy's ``.T``: X (m, n_x) -> (n_x, m)."""
        return Transpose.apply(self, axes=None)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """``axis1`` and ``axis2`` exchanged: `gg.swapaxes`."""
        return SwapAxes.apply(self, axis1=axis1, axis2=axis2)

    def squeeze(self, axis: Axis = None) -> Tensor:
        """Without axes of size 1 (only those in ``axis`` when given): `gg.squeeze`."""
        return Squeeze.apply(self, axis=axis)

    def expand_dims(self, axis: int | Sequence[int]) -> Tensor:
        """A new axis of size 1 at ``axis``, (n,) -> (n, 1) with axis=1: `gg.expand_dims`."""
        return ExpandDims.apply(self, axis=axis)

    def flip(self, axis: Axis = None) -> Tensor:
        """The elements in reverse order along ``axis`` (every axis when None): `gg.flip`."""
        return _rearrange_ops.flip(self, axis)

    def roll(self, shift: int | Sequence[int], axis: Axis = None) -> Tensor:
        """Shifted ``shift`` places along ``axis``, the elements pushed off the end coming
        back at the start (along the flattened tensor when axis is None): `gg.roll`."""
        return _rearrange_ops.roll(self, shift, axis)

    def moveaxis(self, source: int | Sequence[int], destination: int | Sequence[int]
                 ) -> Tensor:
        """The axes ``source`` moved to positions ``destination``, the others keeping their
        order: `gg.moveaxis`."""
        return _rearrange_ops.moveaxis(self, source, destination)

    def repeat(self, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
        """Each element repeated ``repeats`` times along ``axis`` (of the flattened tensor
        when None), as numpy's ``a.repeat``: `gg.repeat`. PyTorch's ``t.repeat(2, 3)`` lays
        the tensor out as tiles, which is `tile` here."""
        return _rearrange_ops.repeat(self, repeats, axis)

    def tile(self, reps: int | Sequence[int]) -> Tensor:
        """Laid out ``reps`` times along each axis, as np.tile and PyTorch's ``t.tile``:
        `gg.tile`."""
        return _rearrange_ops.tile(self, reps)

    def copy(self) -> Tensor:
        """A new tensor with these values, a node of the graph (its gradient passes
        unchanged), as numpy's ``a.copy()`` and PyTorch's ``t.clone()``: `gg.copy`."""
        return _compositions.copy(self)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The diagonal ``offset`` over axes ``axis1`` and ``axis2``, as numpy's
        ``a.diagonal()``: `gg.diagonal`."""
        return _diagonal_ops.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The sum of the diagonal ``offset`` over axes ``axis1`` and ``axis2``, as numpy's
        ``a.trace()``: `gg.trace`."""
        return _diagonal_ops.trace(self, offset, axis1, axis2)

    def astype(self, dtype: Any) -> Tensor:
        """The values converted to ``dtype``, same shape: `gg.astype`."""
        return _shape_ops.astype(self, dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """PyTorch's ``t.to(...)``, ``args`` and ``kwargs`` a dtype (``t.to(np.float32)``,
        ``dtype=``), a device (``device=``) or another tensor (its dtype): a dtype gives
        `astype` to it (on the graph); the device ``"cpu"`` changes nothing and gives the
        tensor itself, as does its own dtype; other devices are refused (graphgrad computes
        with numpy on the CPU)."""
        dtype = dtype_of_to("Tensor.to", args, kwargs)
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self
        return _shape_ops.astype(self, dtype)

    def cpu(self) -> Tensor:
        """PyTorch's ``t.cpu()``: the tensor itself (graphgrad computes on the CPU)."""
        return self

    def cuda(self, device: Any = None) -> Tensor:
        """PyTorch's ``t.cuda(device)``, refused whatever the device: graphgrad computes with
        numpy on the CPU."""
        refuse_device(f"Tensor.cuda() of {describe(self)}")
        return self

    def dot(self, other: ArrayLike) -> Tensor:
        """``W.dot(X)``, the course's np.dot, for operands of one or two dimensions: W @ X
        (``other`` is X)."""
        return numpy_functions.dot(self, other)

    def __getitem__(self, index: Any) -> Tensor:
        return GetItem.apply(self, index=normalize_index(index))


_TENSOR_TYPES.add(Tensor)


def _short(array: np.ndarray, prefix: str = "") -> str:
    """The array in a repr; ``prefix`` is the text before it on its line (to align rows)."""
    if array.ndim == 0:
        return f"{array.item():.6g}" if array.dtype.kind == "f" else str(array.item())
    if array.size == 0:  # [] alone would hide how many rows or columns there are
        return f"[], shape={array.shape}"
    if array.size <= 12:
        return np.array2string(array, precision=4, separator=", ", suppress_small=True,
                               prefix=prefix)
    return f"<{array.dtype} array {array.shape}>"


def _compare(x: Tensor, other: ArrayLike, compare: Callable[[Any, Any], Any], symbol: str
             ) -> Tensor:
    """``x {symbol} other`` elementwise, as a constant bool tensor (under `strict_shapes`,
    checked like an op's); numpy's failure (shapes that do not broadcast, no numbers) as a
    graphgrad error naming both operands."""
    try:
        result = compare(x.data, _data(other))
    except (TypeError, ValueError) as exc:
        raise _comparison_error(x, other, symbol, exc) from None
    if _state.strict_shapes:
        debug.check_comparison(symbol, x, other, np.shape(result))
    return _constant(result)


def _comparison_error(x: Tensor, other: Any, symbol: str, exc: Exception) -> GraphgradError:
    """Why ``x {symbol} other`` failed in numpy: shapes that do not broadcast, or no numbers."""
    if isinstance(exc, TypeError):
        return GraphgradTypeError(
            f"{describe(x)} {symbol} {_operand_text(other)}: a tensor compares with numbers, "
            "or arrays or tensors of numbers"
        )
    try:
        np.broadcast_shapes(x.shape, np.shape(_data(other)))
    except ValueError:
        return ShapeError(
            f"{describe(x)} {symbol} {_operand_text(other)}: the shapes do not broadcast: "
            "aligned from the right, each pair of dimensions must be equal or 1. Check which "
            "axis holds the examples (m); a .T or .reshape(...) usually fixes it."
        )
    return ShapeError(f"{describe(x)} {symbol} {_operand_text(other)}: {exc}")


def _operand_text(value: Any) -> str:
    """The other operand of an operator in a message: an array or tensor by its name, shape and
    dtype, anything else by its value."""
    return describe(value) if isinstance(value, (Tensor, np.ndarray)) else setting_text(value)


def _bitwise(ufunc: np.ufunc, symbol: str, *operands: ArrayLike) -> Tensor:
    """~ & | ^ on bool or integer operands: numpy's result, as a constant. A float has no
    bits to combine, so it is refused by name."""
    arrays = [_data(x) for x in operands]
    for x, array in zip(operands, arrays):
        if np.asarray(array).dtype.kind not in "biu":
            raise GraphgradTypeError(
                f"{symbol} takes bool tensors, as comparisons give (or integer ones, bit by "
                f"bit), got {describe(x)}; compare first ((A > 0.5) & (Y == 1)), or, for a "
                "differentiable AND of probabilities, multiply them"
            )
    try:
        return _constant(ufunc(*arrays))
    except ValueError:  # the shapes, checked only once numpy has refused them
        try:
            np.broadcast_shapes(*[np.shape(array) for array in arrays])
        except ValueError:
            raise ShapeError(
                f"{symbol}: {describe(operands[0])} and {describe(operands[1])} do not "
                "broadcast: aligned from the right, each pair of dimensions must be equal or 1; "
                "masks of one set of examples have the same shape (a .T or .reshape(...) "
                "usually fixes it)"
            ) from None
        raise


def setting_value(value: Any, what: str, op: str, instead: str) -> Any:
    """An op's setting (a bound, a slope) as a plain value: a tensor's data when it needs no
    gradient. A tensor that requires grad is refused: a setting is cut from the graph, and
    its gradient would be lost without a word. ``instead``: what computes it with one."""
    if not isinstance(value, Tensor):
        return value
    if value.requires_grad:
        raise GraphgradTypeError(
            f"{op}: {what} is {describe(value)}, which requires grad, but {what} is a setting "
            f"and gets no gradient; to learn it, write {instead}"
        )
    return value.data


def _data(value: ArrayLike) -> Any:
    return value.data if isinstance(value, Tensor) else value


_new = object.__new__


def _op_output(data: np.ndarray, creator: Any, _index: int) -> Tensor:
    """A Tensor made by an op: no conversion, no checks (the hot path of every op)."""
    tensor = _new(Tensor)
    tensor.data = data
    tensor.grad = None
    tensor.requires_grad = creator is not None
    tensor._name = None
    tensor.creator = creator
    return tensor


def _constant(array: np.ndarray) -> Tensor:
    return _op_output(np.asarray(array), None, 0)


def float_type_of(array: np.ndarray) -> np.dtype:
    """The dtype of a float result computed from ``array``: its own if a float, else float64
    (integers and bools, as a Tensor made of integers holds)."""
    return array.dtype if array.dtype.kind == "f" else np.dtype(np.float64)


_PYTHON_SCALARS = (int, float, bool)
# Constants made from Python numbers are read-only, so one Tensor can serve every op that
# meets the same number in the same dtype (``y * 0.5`` in a loop makes no new arrays).
_SCALAR_CACHE: dict[tuple, Tensor] = {}
_SCALAR_CACHE_SIZE = 512
# The cached constants themselves: their arrays are read-only from birth, so ops never need
# to pin them.
_CONSTANTS: set[Tensor] = set()


def _lift(value: ArrayLike, like: Tensor | None = None) -> Tensor:
    """A constant Tensor for a number or array met in an op with the tensor ``like``.

    Python and numpy numbers (and 0-d arrays) take ``like``'s float dtype (float32 stays
    float32); so do lists of numbers and integer arrays; float arrays keep theirs.
    """
    if isinstance(value, Tensor):
        return value
    float_dtype = like.data.dtype if like is not None and like.data.dtype.kind == "f" else None
    if type(value) in _PYTHON_SCALARS:
        dtype = float_dtype or np.dtype(np.float64)
        # -0.0 == 0.0 and NaN != NaN: keep those out of the cache.
        key = (value, dtype) if value else None
        cached = _SCALAR_CACHE.get(key) if key is not None else None
        if cached is not None:
            return cached
        array = np.array(value, dtype=dtype)
        array.setflags(write=False)
        constant = _op_output(array, None, 0)
        if key is not None and value == value and len(_SCALAR_CACHE) < _SCALAR_CACHE_SIZE:
            _SCALAR_CACHE[key] = constant
            _CONSTANTS.add(constant)
        return constant
    if isinstance(value, (np.generic, np.ndarray)) and value.ndim == 0 and (
            value.dtype.kind in "biuf"):
        # A numpy scalar (np.sqrt(2), an element of an array) is a number too: no upcast.
        if float_dtype is None and value.dtype.kind == "f" and value.dtype.itemsize < 8:
            # With no tensor to follow, a float32 or float16 one keeps its dtype, as
            # Tensor(value) does.
            array = np.array(value, dtype=value.dtype)
            array.setflags(write=False)
            return _op_output(array, None, 0)
        number = value.item()
        if type(number) not in _PYTHON_SCALARS:  # a long double's item() is a long double
            number = float(number)
        return _lift(number, like)
    try:
        array = np.asarray(value)
    except GraphgradError:  # a tensor in a list refused its values: that message says why
        raise
    except (TypeError, ValueError) as exc:  # a ragged list
        raise GraphgradTypeError(
            f"cannot use a {type(value).__name__} as a tensor ({str(exc).rstrip('.')}); pass "
            "numbers, nested lists with the same length at each level, or a numeric array"
        ) from None
    kind = array.dtype.kind
    if kind in "biu" or kind == "f" and float_dtype and type(value) is not np.ndarray:
        array = array.astype(float_dtype or np.float64)  # [0.5, 1.5] is numbers, as 0.5 is
    elif kind != "f":
        raise GraphgradTypeError(
            f"cannot use a {type(value).__name__} of dtype {array.dtype} as a tensor; "
            "pass numbers or a numeric array"
        )
    return _op_output(array, None, 0)


def normalize_index(index: Any) -> Any:
    """An index with Tensors and lists turned into arrays, so numpy reads it one way."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        data = index.data
        if data.dtype.kind == "b":
            return data
        # Tensors made from ints hold float64: whole numbers are indices, anything else a
        # mistake.
        if not np.array_equal(data, np.trunc(data)):
            raise GraphgradTypeError(
                f"an index tensor must hold whole numbers, got {describe(index)} with "
                "fractions; for a mask, index with a bool array or a comparison (x[x > 0])"
            )
        return data.astype(np.intp)
    if isinstance(index, list):
        array = np.asarray(index)
        # numpy reads [] as no positions (float64 of size 0), as x[[]] does
        return array.astype(np.intp) if array.size == 0 and array.dtype.kind == "f" else array
    return index


def _checked_name(tensor: Tensor, name: Any) -> str:
    if not isinstance(name, str):
        raise GraphgradTypeError(f"{type(tensor).__name__}: name must be a string (\"W1\") "
                                 f"or None, got {setting_text(name)}")
    return str(name)  # numpy's str_ shows as np.str_('W1') in repr


def _leaf(cls: type, data: np.ndarray, grad: np.ndarray | None, name: str | None,
          requires_grad: bool) -> Tensor:
    """A leaf of type ``cls`` (Tensor, nn.Parameter) made of these parts, as copies and
    unpickling make them."""
    leaf = object.__new__(cls)
    leaf.data, leaf.grad, leaf.name = data, grad, name
    leaf.requires_grad, leaf.creator = requires_grad, None
    return leaf


def _unpickled_leaf(cls: type, data: np.ndarray, grad: np.ndarray | None, name: str | None,
                    requires_grad: bool) -> Tensor:
    """A leaf as unpickling makes it, with arrays it may write, as ``deepcopy``'s are. Pickle's
    protocol 5 gives a read-only array back read-only: a parameter pinned by a graph when it
    was pickled, or an op's output, would stay read-only with no graph left to release it."""
    if not data.flags.writeable:
        data = data.copy()
    if grad is not None and not grad.flags.writeable:
        grad = grad.copy()
    return _leaf(cls, data, grad, name, requires_grad)


def _update_error(t: Tensor, other: Any, symbol: str, exc: ValueError) -> ShapeError:
    """Why ``t {symbol} other`` failed: most often an update of another shape than t's."""
    try:
        fits = np.broadcast_shapes(t.shape, np.shape(_data(other))) == t.shape
    except ValueError:
        fits = False
    if fits:  # not a matter of shapes
        return ShapeError(f"{describe(t)} {symbol} {_operand_text(other)}: {exc}")
    name = t.name or "the tensor"
    return ShapeError(
        f"{describe(t)} {symbol} {_operand_text(other)}: an update in place keeps {name}'s shape "
        f"{t.shape}, so what it is updated with must have that shape (or broadcast to it). A "
        "gradient has its parameter's shape: check how it was computed (a .T or .reshape(...) "
        "usually fixes it)."
    )


def _update(t: Tensor, ufunc: Any, other: ArrayLike, symbol: str) -> Any:
    """``t {symbol} other`` in place, for a leaf that requires grad, under no_grad."""
    if t.creator is not None or not t.requires_grad:
        return NotImplemented  # Python falls back to t = t {op} other
    if _state.grad_enabled:
        raise on_tensors(InplaceError(
            f"{describe(t)} {symbol} ...: a leaf that requires grad cannot change in place "
            "while ops are recorded, as in PyTorch: the update is not part of the model. To "
            f"update a parameter, do it under no_grad (with gg.no_grad(): W {symbol} ...), on its "
            "array (W.data -= lr * W.grad), or with an optimizer (optim.SGD)."
        ), f"it changes a Tensor in place ({symbol}), and a Tensor never changes")
    try:
        ufunc(t.data, _data(other), out=t.data, casting="same_kind")
    except ValueError as exc:
        if not t.data.flags.writeable:
            raise InplaceError(
                f"{describe(t)} {symbol} ...: its array is read-only (saved by a graph for a "
                "backward not yet run: run backward, or drop the graph, first; or an op's "
                "output, which never changes, when the leaf is t.detach() or Tensor(t) of a "
                "computed t: give the leaf its own copy first, t.data = t.data.copy())"
            ) from None
        raise _update_error(t, other, symbol, exc) from None
    except TypeError:  # a value numpy cannot cast to t's dtype
        raise GraphgradTypeError(
            f"{describe(t)} {symbol} {_operand_text(other)}: the update must be real numbers, "
            f"which {t.data.dtype} holds (a float array or tensor, as lr * dW is)"
        ) from None
    return t


# The ops and the engine are built on Function, which is built on Tensor: import them last.
from graphgrad import debug  # noqa: E402
from graphgrad import engine as _engine  # noqa: E402
from graphgrad import hooks  # noqa: E402
from graphgrad.modes import _state  # noqa: E402
from graphgrad import interop  # noqa: E402
from graphgrad import numpy_functions  # noqa: E402  (fills interop's tables)
from graphgrad.ops.arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub  # noqa: E402
from graphgrad.ops.elementwise import (  # noqa: E402
    Abs, Cos, Exp, Expm1, Log, Log1p, ReLU, Sigmoid, Sin, Sqrt, Tanh,
)
from graphgrad.ops.elementwise import clip as _clip  # noqa: E402
from graphgrad.ops.elementwise import leaky_relu as _leaky_relu  # noqa: E402
from graphgrad.ops.indexing import GetItem  # noqa: E402
from graphgrad.ops.reductions import Max, Mean, Min, Norm, Prod, Std, Sum, Var  # noqa: E402
from graphgrad.ops import activations as _activations  # noqa: E402
from graphgrad.ops.activations import LogSigmoid, SiLU, Softplus  # noqa: E402
from graphgrad.ops.cumulative import Cumprod, Cumsum  # noqa: E402
from graphgrad.ops import statistics as _statistics  # noqa: E402
from graphgrad.ops import shape as _shape_ops  # noqa: E402
from graphgrad.ops import rearrange as _rearrange_ops  # noqa: E402
from graphgrad.ops import diagonals as _diagonal_ops  # noqa: E402
from graphgrad.ops import compositions as _compositions  # noqa: E402
from graphgrad.ops.shape import (  # noqa: E402
    ExpandDims, Reshape, Squeeze, SwapAxes, Transpose,
)
from graphgrad.ops.softmax import LogSoftmax, LogSumExp, Softmax  # noqa: E402
from graphgrad.ops.trigonometric import (  # noqa: E402
    Arccos, Arccosh, Arcsin, Arcsinh, Arctan, Arctanh, Cosh, Sinh, Tan,
)
from graphgrad.ops.powers import Cbrt, Exp2, Log2, Log10, Reciprocal  # noqa: E402
from graphgrad.ops.special import Erf, Erfc, Erfinv  # noqa: E402
