"""Sums of products over labelled axes: einsum, and outer (a column times a row).

``gg.einsum("ij,jk->ik", A, B)`` is A @ B: each operand's axes get letters, a letter shared by
operands is one axis they run along together, and the letters missing from the output are
summed over. Its gradient with respect to one operand is again an einsum, of the upstream
gradient with the other operands, so second derivatives come for free. tensordot, inner,
kron and vdot (of a and b flattened) are einsums too; cross, products of components. Depends
on `function`, `ops.arithmetic`, `ops.shape`, `errors`.
"""
from __future__ import annotations

import functools
import math
import string
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    describe,
    numbers_and_shown,
    setting_text,
    shape_of,
)
from graphgrad.function import Function
from graphgrad.ops.arithmetic import _same_float
from graphgrad.ops.broadcasting import unbroadcast
from graphgrad.ops.shape import Reshape
from graphgrad.tensor import Tensor

_LETTERS = string.ascii_letters  # the labels numpy's einsum takes
# Below this many terms in its sum (the product of every label's size), an einsum runs
# numpy's plain loop: finding a faster order of contraction (BLAS) costs ~15 us.
_PLAIN_LOOP = 4096


class Einsum(Function):
    """y = einsum(``subscripts``, *operands): the sum over the labels missing from the
    output of the product of the operands' elements;  dy/d(operand k) = einsum of dy with
    the other operands, into operand k's labels (a label repeated within it, a diagonal, is
    put back on the diagonal; one summed within it alone is spread back over its axis)"""

    @staticmethod
    def forward(ctx, *operands, subscripts):
        shapes = tuple([a.shape for a in operands])
        prepared = _prepared(subscripts, shapes)
        floats = [a.dtype for a in operands if a.dtype.kind == "f"]
        if floats and len(floats) < len(operands):  # an int or bool operand takes the floats'
            dtype = np.result_type(*floats)           # dtype, as in a * b
            operands = tuple(a if a.dtype.kind == "f" else a.astype(dtype) for a in operands)
        ctx.subscripts, ctx.shapes = subscripts, shapes
        if len(operands) > 1:  # each operand's gradient is made of the others
            ctx.save_for_backward(*operands)
        return _contract(prepared, operands, bool(floats))

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved
        grads = []
        for k, needed in enumerate(ctx.needs_input_grad):
            if not needed:
                grads.append(None)
                continue
            subscripts, constants, prepared = _gradient_plan(ctx.subscripts, ctx.shapes, k)
            others = (grad, *operands[:k], *operands[k + 1:])
            if constants:
                others += tuple([np.eye(n, dtype=grad.dtype) if kind == "eye"
                                 else np.ones(n, grad.dtype) for kind, n in constants])
            if type(grad) is np.ndarray:  # arrays: no graph to record, and no node to make
                grads.append(_contract(prepared, others, grad.dtype.kind == "f"))
            else:
                grads.append(Einsum.call(*others, subscripts=subscripts))
        return tuple(grads)

    @staticmethod
    def hint(*operands, subscripts):
        """Shown when forward fails: how subscripts are written."""
        return ("subscripts give each operand one letter per axis, terms separated by commas "
                "('ij,jk->ik' for A @ B); '...' stands for the axes not named (broadcast as "
                "in numpy), and the output after '->' (left out, it is '...' and the letters "
                "met once, in alphabetical order)")


class Outer(Function):
    """y = outer(a, b): y_ij = a_i b_j, a and b flattened first;  da = dy b, db = a^T dy (as
    vectors, shaped back as a and b)"""

    @staticmethod
    def forward(ctx, a, b):
        if a.dtype is not b.dtype:
            a, b = _same_float(a, b)
        ctx.save_for_backward(a, b)
        return np.multiply.outer(a.reshape(-1), b.reshape(-1))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        need_a, need_b = ctx.needs_input_grad
        return ((grad @ b.reshape(-1)).reshape(a.shape) if need_a else None,
                (a.reshape(-1) @ grad).reshape(b.shape) if need_b else None)


def _contract(prepared: tuple, operands: tuple, floats: bool) -> np.ndarray:
    """The einsum `_prepared` made ready of ``operands`` (arrays of one float dtype when
    ``floats``): by np.matmul when it is a (batched) matrix product, else by np.einsum, told
    the order of contraction found once for these shapes when the sum is large enough for
    BLAS to pay."""
    _, _, _, spec, plan, optimize = prepared
    if plan is not None and floats:  # (np.matmul of ints or bools is not einsum's)
        return _as_matmul(plan, *operands)
    if optimize is None:  # a matrix product of ints
        optimize = len(operands) > 1 and "greedy"
    return np.einsum(spec, *operands, optimize=optimize)


@functools.lru_cache(maxsize=256)  # an einsum in a loop meets the same subscripts and shapes
def _prepared(subscripts: Any, shapes: tuple[tuple[int, ...], ...]) -> tuple:
    """`_canonical`'s labels, output and sizes, the explicit subscripts np.einsum is given,
    the `_matmul_plan` (or None), and the ``optimize`` np.einsum takes otherwise: False
    (its plain loop) below _PLAIN_LOOP products or for one operand, else the order of
    contraction `_path` finds (None where the plan applies)."""
    terms, out, sizes, work = _canonical(subscripts, shapes)
    spec = ",".join(terms) + "->" + out
    plan = _matmul_plan(terms, out, shapes)
    optimize: Any = False
    if plan is not None:
        optimize = None
    elif len(shapes) > 1 and work > _PLAIN_LOOP:
        optimize = _path(spec, shapes)
    return terms, out, sizes, spec, plan, optimize


@functools.lru_cache(maxsize=256)
def _gradient_plan(subscripts: Any, shapes: tuple[tuple[int, ...], ...], k: int
                   ) -> tuple[str, tuple[tuple[str, int], ...], tuple]:
    """Operand k's gradient for an einsum of ``subscripts`` at ``shapes``: `_gradient_form`'s
    subscripts, its constants as (kind, size), and `_prepared` for the shapes it is given
    (the upstream gradient has the output's), found once per subscripts, shapes and k where
    each backward built them again."""
    terms, out, sizes = _prepared(subscripts, shapes)[:3]
    form, constants = _gradient_form(terms, out, k)
    made = tuple([(kind, sizes[label]) for kind, label in constants])
    given = (tuple(sizes[c] for c in out), *shapes[:k], *shapes[k + 1:],
             *[(n, n) if kind == "eye" else (n,) for kind, n in made])
    return form, made, _prepared(form, given)


def _path(spec: str, shapes: tuple[tuple[int, ...], ...]) -> list:
    """numpy's greedy order of contraction for ``spec`` (canonical, explicit) at ``shapes``,
    found once by `_prepared`: np.einsum(optimize="greedy") searches ~15 us on each call."""
    dummies = [np.lib.stride_tricks.as_strided(np.empty(1), shape, (0,) * len(shape))
               for shape in shapes]  # einsum_path reads only their shapes
    return np.einsum_path(spec, *dummies, optimize="greedy")[0]


def _matmul_plan(terms: tuple[str, ...], out: str, shapes: tuple[tuple[int, ...], ...]
                 ) -> tuple | None:
    """How an einsum of two operands that is a (batched) matrix product is taken with
    np.matmul, or None: each label of an operand appears once in it and also in the other
    operand or the output (no diagonal, no axis summed alone). The labels in both operands
    and the output are the batch, those in both operands alone are summed, and the others
    are the rows of the first and the columns of the second; the operands are swapped when
    the second's labels come first in the output ("ik,ij->jk", a backward's, is A^T G, not
    (G^T A)^T, whose transpose into the output is one more). Returned: whether they are
    swapped, each operand's axis order (None when it is already right) and the shape it is
    read as, the shape of the product laid out as (batch, rows, columns), and its axis
    order into the output's."""
    if len(terms) != 2:
        return None
    a, b = terms
    free = [c for c in out if c not in a or c not in b]
    if free and free[0] not in a and free[0] in b:
        swapped = _matmul_plan((b, a), out, shapes[::-1])
        return None if swapped is None else (True, *swapped[1:])
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        return None
    if any(c not in b and c not in out for c in a) or any(c not in a and c not in out
                                                        for c in b):
        return None
    size = dict(zip(a, shapes[0]))
    size.update(zip(b, shapes[1]))
    batch = [c for c in out if c in a and c in b]
    rows = [c for c in out if c in a and c not in b]
    cols = [c for c in out if c in b and c not in a]
    summed = [c for c in a if c in b and c not in out]

    def order(term: str, labels: list[str]) -> tuple[int, ...] | None:
        axes = tuple(term.index(c) for c in labels)
        return None if axes == tuple(range(len(term))) else axes

    batch_shape = tuple(size[c] for c in batch)
    n_rows, n_cols, n_sum = (math.prod(size[c] for c in cs) for cs in (rows, cols, summed))
    laid = batch + rows + cols
    return (False, order(a, batch + rows + summed), batch_shape + (n_rows, n_sum),
            order(b, batch + summed + cols), batch_shape + (n_sum, n_cols),
            batch_shape + tuple(size[c] for c in rows + cols),
            order("".join(laid), list(out)))


def _as_matmul(plan: tuple, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The einsum of ``a`` and ``b`` that ``plan`` (`_matmul_plan`) describes, by np.matmul:
    BLAS at once, where np.einsum loops in C (small sizes) or first searches for an order of
    contraction (~15 us)."""
    swap, a_order, a_shape, b_order, b_shape, shape, out_order = plan
    if swap:
        a, b = b, a
    if a_order is not None:
        a = a.transpose(a_order)
    if b_order is not None:
        b = b.transpose(b_order)
    if a.shape != a_shape:
        a = a.reshape(a_shape)
    if b.shape != b_shape:
        b = b.reshape(b_shape)
    # with nothing summed it is a product of broadcasts (a column times a row), which
    # np.multiply takes faster than BLAS
    y = np.multiply(a, b) if a_shape[-1] == 1 else np.matmul(a, b)
    if y.shape != shape:
        y = y.reshape(shape)
    return y if out_order is None else y.transpose(out_order)


def _fresh(used: set[str]) -> Iterator[str]:
    """The letters not in ``used``, then a ValueError: einsum has 52 labels in all."""
    yield from (c for c in _LETTERS if c not in used)
    raise ValueError(f"it needs more than the {len(_LETTERS)} letters einsum labels axes "
                     "with (the axes under '...' and the broadcast ones take a letter each)")


def _canonical(subscripts: Any, shapes: tuple[tuple[int, ...], ...]
               ) -> tuple[tuple[str, ...], str, dict[str, int], int]:
    """The operands' labels with '...' written out as letters and each axis of size 1 that
    broadcasts given a letter of its own (an axis summed alone: the same values), the
    output's labels, each label's size (read only: the dict is cached), and the number of
    products in the sum. A ValueError says what does not fit."""
    if not isinstance(subscripts, str):
        raise TypeError(f"subscripts must be a string such as 'ij,jk->ik', got "
                        f"{type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    odd = sorted({c for c in spec if c not in _LETTERS and c not in ",->."})
    if odd or spec.count("->") > 1 or spec.replace("->", "").count(">") or \
            spec.replace("->", "").count("-"):
        raise ValueError(f"subscripts {subscripts!r} are not einsum's: labels are the letters "
                         "a-z and A-Z, terms are separated by ',', and one '->' comes before "
                         "the output")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"subscripts {subscripts!r} have {len(terms)} term(s) for "
                         f"{len(shapes)} operand(s): give one term per operand")
    fresh = _fresh(set(spec))
    parts = []  # (letters before '...', axes under it or None, letters after)
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        before, dots, after = term.partition("...")
        if "." in before + after:
            raise ValueError(f"term {term!r} of subscripts {subscripts!r} has a '.' that is not "
                             "one '...'")
        named = len(before) + len(after)
        if named > len(shape) or not dots and named != len(shape):
            raise ValueError(
                f"term {term!r} of subscripts {subscripts!r} labels {named} axes of operand "
                f"{i}, which has {len(shape)} (shape {shape}): give one letter per axis"
                + ("" if dots else ", or '...' for the axes not named"))
        parts.append((before, len(shape) - named if dots else None, after))
    under = max((n for _, n, _ in parts if n is not None), default=0)
    dots_labels = "".join(next(fresh) for _ in range(under))
    labelled = [before + (dots_labels[under - n:] if n else "") + after
                for before, n, after in parts]
    if arrow:
        if "." in output.replace("...", "", 1) or "..." in output and all(
                n is None for _, n, _ in parts):
            raise ValueError(f"the output of subscripts {subscripts!r} has a '...' that no "
                             "term has")
        named = output.replace("...", "")
        unknown = sorted(set(named) - set(inputs))
        twice = sorted(c for c, k in Counter(named).items() if k > 1)
        if unknown or twice:
            raise ValueError(
                f"the output {output!r} of subscripts {subscripts!r} "
                + (f"has {unknown} that no term has: each output letter labels an axis of an "
                   "operand" if unknown else
                   f"repeats {twice}: each output letter is one axis (a diagonal is "
                   "'ii->i')"))
        out = output.replace("...", dots_labels)
    else:  # numpy's implicit output: '...', then the letters met once, alphabetically
        once = sorted(c for c, k in Counter(inputs.replace(".", "").replace(",", "")).items()
                      if k == 1)
        out = dots_labels + "".join(once)
    seen: dict[str, set[int]] = {}
    for given, term, shape in zip(terms, labelled, shapes):
        own: dict[str, set[int]] = {}
        for label, n in zip(term, shape):
            own.setdefault(label, set()).add(n)
            seen.setdefault(label, set()).add(n)
        # a label repeated within a term is a diagonal, taken of axes of one size: the size-1
        # axis among them would be given a label of its own below (a broadcast), and the
        # trace of a (1, 2) read as the sum of its two elements
        for label, found in own.items():
            if len(found) > 1:
                raise ValueError(f"the axes labelled {label!r} in term {given!r} of subscripts "
                                 f"{subscripts!r} have sizes {sorted(found)}: a letter repeated "
                                 "within one term takes the diagonal of those axes, which must "
                                 "have one size (none broadcasts)")
    sizes = {}
    for label, found in seen.items():
        stretched = found - {1}
        if len(stretched) > 1:
            what = ("the axes under '...'" if label in dots_labels
                    else f"the axes labelled {label!r}")
            raise ValueError(f"{what} in subscripts {subscripts!r} have sizes "
                             f"{sorted(found)}: an axis has one size in every operand, or "
                             "size 1 (broadcast)")
        sizes[label] = stretched.pop() if stretched else 1
    canonical = []
    for term, shape in zip(labelled, shapes):
        own = []
        for label, n in zip(term, shape):
            if n == 1 and sizes[label] != 1:
                label = next(fresh)
                sizes[label] = 1
            own.append(label)
        canonical.append("".join(own))
    return tuple(canonical), out, sizes, math.prod(sizes.values())


@functools.lru_cache(maxsize=256)
def _gradient_form(terms: tuple[str, ...], out: str, k: int
                   ) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The einsum that gives operand k's gradient from the upstream gradient (labelled
    ``out``) and the other operands, and the constants it takes after them, each with the
    label whose size it has: for each repeat of a label within operand k, an identity matrix
    ("eye") that puts the gradient on the diagonal; for each label of operand k found nowhere
    else, ones ("ones") that spread it over the axis (each element was summed alike)."""
    term = terms[k]
    others = terms[:k] + terms[k + 1:]
    fresh = _fresh(set("".join(terms) + out))
    target, eyes, firsts = [], [], []
    for label in term:
        if label in firsts:
            copy = next(fresh)
            target.append(copy)
            eyes.append(label + copy)
        else:
            firsts.append(label)
            target.append(label)
    present = set(out).union(*others, *eyes)
    ones = [label for label in firsts if label not in present]
    subscripts = ",".join([out, *others, *eyes, *ones]) + "->" + "".join(target)
    return subscripts, tuple([("eye", e[0]) for e in eyes] + [("ones", o) for o in ones])


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Sums of products over labelled axes, as np.einsum: ``subscripts`` gives each operand's
    axes a letter ("ij,jk->ik" is A @ B, "bij,bjk->bik" a batch of them, "ii->" the trace,
    "ii->i" the diagonal, "i,j->ij" the outer product, "ij->ji" the transpose, "i,ij,j->" the
    bilinear form x^T A y); letters missing from the output after '->' are summed over.
    Without '->', the output is the letters met once, in alphabetical order. '...' stands for
    the axes not named, broadcast as numpy does ("...ij,...jk->...ik"). Any number of
    ``operands``; each one's gradient is an einsum of the upstream gradient with the others."""
    if not isinstance(subscripts, str):
        raise GraphgradTypeError(
            f"einsum takes the subscripts first, as a string, then the operands: "
            f"gg.einsum('ij,jk->ik', A, B); got {type(subscripts).__name__} first (numpy's "
            "other form, each operand followed by a list of its axes' numbers, has no "
            "graphgrad counterpart: write the lists as letters)")
    if not operands:
        raise ArgumentError(f"einsum({subscripts!r}) got no operands: give one tensor per "
                            "comma-separated term of the subscripts")
    return Einsum.apply(*operands, subscripts=subscripts)


def outer(a: Any, b: Any) -> Tensor:
    """The outer product of ``a`` and ``b``, as np.outer: out[i, j] = a[i] * b[j], a and b
    flattened first, (m,) and (n,) giving (m, n). The product of a column and a row."""
    return Outer.apply(a, b)


def _letters(ndim: int, start: int = 0) -> str:
    return _LETTERS[start:start + ndim]


def _operands(a: Any, b: Any, op: str) -> tuple[tuple[np.ndarray, Any], tuple[np.ndarray, Any]]:
    """a's and b's arrays and what messages describe them by (`numbers_and_shown`); an operand
    that holds no numbers is refused naming ``op``, not the einsum, reshape or transpose it is
    made of."""
    return numbers_and_shown(a, "a", op), numbers_and_shown(b, "b", op)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """The sum of products of a and b over the axes ``axes`` pairs, as np.tensordot: an int N
    pairs a's last N axes with b's first N (2 by default; 1 is a matrix product, 0 the outer
    product); a pair of sequences (or ints) names a's axes and b's, one to one. The output has
    a's other axes, then b's. An einsum, so its gradients are einsums too."""
    (data_a, shown_a), (data_b, shown_b) = _operands(a, b, "tensordot")
    shape_a, shape_b = data_a.shape, data_b.shape
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, (bool, np.bool_)):
        n = int(axes)
        if n < 0 or n > min(len(shape_a), len(shape_b)):
            raise ArgumentError(
                f"tensordot of {describe(shown_a)} and {describe(shown_b)}: axes={n} pairs "
                f"a's last {n} axes with b's first {n}, which takes from 0 to "
                f"{min(len(shape_a), len(shape_b))}")
        pairs_a = list(range(len(shape_a) - n, len(shape_a)))
        pairs_b = list(range(n))
    else:
        try:
            given_a, given_b = axes
        except (TypeError, ValueError):
            raise GraphgradTypeError(
                f"tensordot: axes must be an int or a pair (a's axes, b's axes), got "
                f"{setting_text(axes)}") from None
        pairs_a = _axis_list(given_a, len(shape_a), shown_a, "a")
        pairs_b = _axis_list(given_b, len(shape_b), shown_b, "b")
        if len(pairs_a) != len(pairs_b):
            raise ArgumentError(f"tensordot: axes pairs {len(pairs_a)} axes of a with "
                                f"{len(pairs_b)} of b; give one axis of b per axis of a")
    for i, j in zip(pairs_a, pairs_b):
        if shape_a[i] != shape_b[j]:
            raise ArgumentError(
                f"tensordot of {describe(shown_a)} and {describe(shown_b)}: a's axis {i} "
                f"({shape_a[i]}) and b's axis {j} ({shape_b[j]}) are summed over together, so "
                "they need one size")
    terms_a = list(_letters(len(shape_a)))
    terms_b = list(_letters(len(shape_b), len(shape_a)))
    for i, j in zip(pairs_a, pairs_b):
        terms_b[j] = terms_a[i]
    out = ([c for i, c in enumerate(terms_a) if i not in pairs_a]
           + [c for j, c in enumerate(terms_b) if j not in pairs_b])
    return einsum(f"{''.join(terms_a)},{''.join(terms_b)}->{''.join(out)}", a, b)


def _axis_list(axes: Any, ndim: int, shown: Any, which: str) -> list[int]:
    """tensordot's axes of one operand (``shown`` in messages): an int or a sequence of them,
    in range, each once."""
    listed = [axes] if isinstance(axes, (int, np.integer)) else axes
    try:
        listed = list(listed)
    except TypeError:
        listed = [listed]
    found = []
    for axis in listed:
        if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
            raise GraphgradTypeError(f"tensordot: the axes of {which} must be ints, got "
                                     f"{setting_text(axes)}")
        if not -ndim <= axis < ndim:
            raise ArgumentError(f"tensordot: axis {axis} of {which} is out of range for "
                                f"{describe(shown)}: give axes from {-ndim} to {ndim - 1}")
        found.append(int(axis) % ndim)
    if len(set(found)) != len(found):
        raise ArgumentError(f"tensordot: the axes of {which}, {setting_text(axes)}, name one "
                            "axis twice")
    return found


def inner(a: Any, b: Any) -> Tensor:
    """The sums of products of a and b over their last axes, as np.inner: of two vectors
    their dot product, of A (m, k) and B (n, k) the (m, n) matrix A B^T; a number scales the
    other operand."""
    (data_a, _), (data_b, _) = _operands(a, b, "inner")
    if () in (data_a.shape, data_b.shape):
        return einsum("...,...->...", a, b)
    return tensordot(a, b, axes=(-1, -1))


def vdot(a: Any, b: Any) -> Tensor:
    """The dot product of a and b flattened, as np.vdot (of real numbers: it conjugates
    nothing): sum(a.ravel() * b.ravel()), a number; a and b need one size, not one shape."""
    (data_a, shown_a), (data_b, shown_b) = _operands(a, b, "vdot")
    if data_a.size != data_b.size:
        raise ArgumentError(
            f"vdot of {describe(shown_a)} and {describe(shown_b)}: a and b are flattened and "
            f"multiplied element by element, so they need one size, not {data_a.size} and "
            f"{data_b.size}")
    return einsum("i,i->", Reshape.apply(a, shape=(-1,)), Reshape.apply(b, shape=(-1,)))


def kron(a: Any, b: Any) -> Tensor:
    """The Kronecker product of a and b, as np.kron: the blocks a[i, j] * b laid out in a's
    pattern, shape (m p, n q) for a (m, n) and b (p, q); the operand with fewer axes gets
    leading axes of size 1 first. An einsum of the two (an outer product) and a reshape."""
    from graphgrad.ops.shape import Reshape  # shape's module imports nothing from here

    (data_a, _), (data_b, _) = _operands(a, b, "kron")
    d = max(data_a.ndim, data_b.ndim)
    shape_a = (1,) * (d - data_a.ndim) + data_a.shape
    shape_b = (1,) * (d - data_b.ndim) + data_b.shape
    terms_a, terms_b = _letters(d), _letters(d, d)
    pairs = "".join(x + y for x, y in zip(terms_a, terms_b))
    # leading axes of size 1 only for the operand with fewer: no node for a reshape to itself
    blocks = einsum(f"{terms_a},{terms_b}->{pairs}",
                    a if data_a.ndim == d else Reshape.apply(a, shape=shape_a),
                    b if data_b.ndim == d else Reshape.apply(b, shape=shape_b))
    return Reshape.apply(blocks, shape=tuple(m * n for m, n in zip(shape_a, shape_b)))


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Tensor:
    """The cross products of the 3-vectors of a and b, as np.cross: the vectors along
    ``axisa`` of a and ``axisb`` of b (``axis`` sets all three), the other axes broadcast, the
    products along ``axisc`` of the output. Products and differences of components, so its
    gradients are theirs: d(a x b)/da . g = b x g."""
    from graphgrad.ops.rearrange import _one_axis, moveaxis

    (data_a, shown_a), (data_b, shown_b) = _operands(a, b, "cross")
    if axis is not None:
        axisa = axisb = axisc = axis
    # the vectors last, where Cross takes them: no node for a move that changes nothing
    na, nb = data_a.ndim, data_b.ndim
    axisa = _one_axis(axisa, na, shown_a, "cross", "axisa")
    axisb = _one_axis(axisb, nb, shown_b, "cross", "axisb")
    us = a if axisa == na - 1 else moveaxis(a, axisa, -1)
    vs = b if axisb == nb - 1 else moveaxis(b, axisb, -1)
    if shape_of(us)[-1] != 3 or shape_of(vs)[-1] != 3:
        raise ArgumentError(
            f"cross of {describe(shown_a)} and {describe(shown_b)}: the vectors along "
            f"axisa ({shape_of(us)[-1]} components) and axisb ({shape_of(vs)[-1]}) must have 3 "
            "components each (pad 2-vectors with a third, 0, first: gg.pad(v, (0, 1)) for one)")
    c = Cross.apply(us, vs)
    axisc = _one_axis(axisc, c.ndim, c, "cross", "axisc")
    return c if axisc == c.ndim - 1 else moveaxis(c, -1, axisc)


class Cross(Function):
    """z = u x v of the 3-vectors along the last axis (the other axes broadcast);
    du = v x dz, dv = dz x u (as g . (u x v) = u . (v x g) = v . (g x u)), each summed over
    the axes it was broadcast along. One node where the six products of components, their
    differences and a stack would each be one, and each slice's backward an array of zeros."""

    broadcasts = True

    @staticmethod
    def forward(ctx, u, v):
        if u.dtype is not v.dtype:
            u, v = _same_float(u, v)
        ctx.save_for_backward(u, v)
        return np.cross(u, v)

    @staticmethod
    def backward(ctx, grad):
        u, v = ctx.saved
        need_u, need_v = ctx.needs_input_grad
        return (unbroadcast(Cross.call(v, grad), u.shape) if need_u else None,
                unbroadcast(Cross.call(grad, u), v.shape) if need_v else None)
