"""`Embedding`: the course's word embeddings (Sequence Models, week 2), a learned vector per
word of the vocabulary.

The course keeps an embedding matrix E of shape (n_e, n_vocab) (300 x 10,000) and gets the
embedding of word w with its one-hot vector o_w: e_w = E o_w, column w of E. Here, as in
PyTorch and Keras, E has shape (n_vocab, n_e) and e_w is row w::

    layer.E.data == E_course.T        e_w = layer.E[w] == E_course @ o_w

(`Embedding.from_pretrained(E_course.T)` makes a layer from the course's matrix.)

A product with a one-hot vector costs n_vocab * n_e multiplications to pick one column, so
(as the course says) it is done in practice by looking the row up: ``forward`` indexes E with
the word indices, using the indexing op. Its backward is the gradient of those products: the
gradient of each output row is added into the row of its word, and a word that appears
several times in a batch gets the sum (``np.add.at``). The gradient of E is a dense
(n_vocab, n_e) array, zero in the rows of words the batch does not use.
Depends on `ops.indexing`, `nn.module`, `nn.init`, `tensor`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of,
    array_of_numbers,
    describe,
    flag,
    pytorch_order_error,
    real_number,
    setting_text,
    whole_number,
)
from graphgrad.nn import init as initializers
from graphgrad.nn.module import Module, Parameter
from graphgrad.ops.indexing import GetItem, IndexAdd
from graphgrad.tensor import Tensor


class PaddedLookup(GetItem):
    """Z = E[index], as GetItem;  dE = dZ added at index, except at the row padding_idx,
    which gets no gradient: a padding token's vector stays as it is (PyTorch's padding_idx)"""

    @staticmethod
    def forward(ctx, E, index, padding_idx):
        ctx.padding_idx = padding_idx
        return GetItem.forward(ctx, E, index)  # which keeps a copy of the index for backward

    @staticmethod
    def backward(ctx, grad):
        return _rows_grad(ctx, grad)


class ScaledLookup(GetItem):
    """Z = E[index];  dE = dZ added at index, each word's rows divided by the times the word
    appears in index (PyTorch's scale_grad_by_freq), none at the row padding_idx (if any)"""

    @staticmethod
    def forward(ctx, E, index, padding_idx=None):
        ctx.padding_idx = padding_idx
        out = GetItem.forward(ctx, E, index)
        counts = np.bincount(ctx.index.ravel(), minlength=E.shape[0])
        scale = (1.0 / counts[ctx.index]).astype(E.dtype)  # over each row's values:
        ctx.scale = scale.reshape(scale.shape + (1,) * (E.ndim - 1))
        return out

    @staticmethod
    def backward(ctx, grad):
        return _rows_grad(ctx, grad * ctx.scale)


def _rows_grad(ctx: Any, grad: Any) -> Any:
    """dE of a lookup: ``grad``'s rows added at the lookup's index, but at ctx.padding_idx."""
    if ctx.padding_idx is None:
        return IndexAdd.call(grad, index=ctx.index, shape=ctx.in_shape)
    words = ctx.index != ctx.padding_idx
    if words.all():
        return IndexAdd.call(grad, index=ctx.index, shape=ctx.in_shape)
    return IndexAdd.call(grad[words], index=ctx.index[words], shape=ctx.in_shape)


def _lookup(E: Tensor, index: np.ndarray, padding_idx: int | None, max_norm: float | None,
            norm_type: float, scale_grad_by_freq: bool, caller: str) -> Tensor:
    """E's rows at ``index``, with the options of `Embedding` and `embedding`: the rows looked
    up first renormalised in E to a norm of at most max_norm, and their gradient scaled by
    the words' frequencies or left out at padding_idx; one node."""
    if max_norm is not None:
        _renorm(E, index, max_norm, norm_type, caller)
    if scale_grad_by_freq:
        return ScaledLookup.apply(E, index=index, padding_idx=padding_idx)
    if padding_idx is None:
        return GetItem.apply(E, index=index)
    return PaddedLookup.apply(E, index=index, padding_idx=padding_idx)


def _renorm(E: Tensor, index: np.ndarray, max_norm: float, norm_type: float,
            caller: str) -> None:
    """PyTorch's embedding_renorm_: each row of E at ``index`` whose norm (of order
    ``norm_type``) is above max_norm scaled, in E, by max_norm / (norm + 1e-7), outside the
    graph. E's array is written in place; one a graph holds (read-only while it lives, as
    the weight of a tied output layer) is replaced by a new one, so that graph's backward
    keeps the values it was computed from."""
    rows = np.unique(index)
    data = E.data
    norms = np.linalg.norm(data[rows], ord=norm_type, axis=-1)
    over = norms > max_norm
    if not over.any():
        return
    rows = rows[over]
    scale = (max_norm / (norms[over] + 1e-7)).astype(data.dtype)[:, None]
    if not data.flags.writeable:
        data = data.copy()
        E.data = data
    data[rows] *= scale


def _pytorch_order_error(n_vocab: int, n_e: int, padding_idx: Any, max_norm: Any,
                         norm_type: Any) -> ArgumentError:
    """Why ``Embedding(n_vocab, n_e, padding_idx, max_norm, norm_type)``, PyTorch's
    positional order, is refused, and the call to write, the settings given by name."""
    settings = f"padding_idx={padding_idx}"
    if max_norm is not None:
        settings += f", max_norm={max_norm!r}"
    if isinstance(norm_type, (int, float, np.number)) and not isinstance(norm_type, bool):
        settings += f", norm_type={norm_type!r}"
    return pytorch_order_error(
        "Embedding", f"init must be an initialiser, got {padding_idx}",
        "num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq",
        "n_vocab, n_e, init, rng, dtype", f"Embedding({n_vocab}, {n_e}, {settings})",
        note="PyTorch's options are keywords here")


def _max_norm(max_norm: Any, norm_type: Any, caller: str) -> tuple[float | None, float]:
    """(max_norm, norm_type), checked: None or a positive number, and an order of a norm
    above 0 (2, 1, inf)."""
    if max_norm is not None:
        max_norm = real_number(max_norm, "max_norm", caller, lambda v: 0 < v < np.inf,
                               "None or a positive number, the largest norm of a row looked up")
    norm_type = real_number(norm_type, "norm_type", caller, lambda v: v > 0,
                            "the order of a norm, above 0 (2.0, 1, inf)")
    return max_norm, norm_type


class Embedding(Module):
    """A lookup table of word vectors: row w of E is the embedding e_w of word index w.

    Args:
        n_vocab: words in the vocabulary; indices run from 0 to n_vocab - 1.
        n_e: numbers per embedding (the course's 300).
        init: how E starts (see `nn.init`). The default "xavier" draws each number from
            N(0, 1/n_e), so an embedding starts with a length of about 1, the scale of
            normalised word vectors: similarities start near 0 and the next layer gets a
            signal of unit size. PyTorch draws N(0, 1) (``init=lambda shape, rng:
            rng.standard_normal(shape)``), Keras uniform(-0.05, 0.05) (``init=lambda shape,
            rng: rng.uniform(-0.05, 0.05, shape)``, about three times "small_random"'s spread,
            randn * 0.01).
        rng: a seed or np.random.Generator for the initialisation (default: the one
            `nn.init.seed` resets).
        dtype: np.float64 (default) or np.float32, the dtype of E and of the output.
        padding_idx: keyword; the index of the padding token, or None (PyTorch's): its row of
            E starts as zeros and gets no gradient, so padded positions embed as zeros
            whatever the training (a negative index counts from the end, as PyTorch's).
        max_norm: keyword; None, or PyTorch's max_norm: at each lookup, the rows looked up
            whose norm is above max_norm are scaled in E to that norm (by max_norm /
            (norm + 1e-7), as PyTorch's), in place and outside the graph, before they are
            read.
        norm_type: keyword; the order p of that norm, 2.0 by default (1, inf, any p > 0).
        scale_grad_by_freq: keyword; True divides the gradient of each word's row by the
            times the word appears in the batch (PyTorch's), so frequent words do not take
            larger steps.

    Shapes: indices (m,) -> (m, n_e); a batch of sentences (m, T_x) -> (m, T_x, n_e), which
    `nn.RNN` takes as its X; any shape (...) -> (..., n_e). Indices are integers (an array, a
    list or a Tensor that needs no gradient); floats are accepted when they are whole numbers,
    as a Tensor made from integers holds them.

    `Embedding.from_pretrained(E)` wraps a trained matrix (GloVe, word2vec) instead.
    """

    single_node = True

    def __init__(self, n_vocab: int, n_e: int, init: Any = "xavier", rng: Any = None,
                 dtype: Any = np.float64, *, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False) -> None:
        super().__init__()
        self.n_vocab = whole_number(n_vocab, "n_vocab", "Embedding")
        self.n_e = whole_number(n_e, "n_e", "Embedding")
        if init is None or isinstance(init, (int, np.integer)) and not isinstance(
                init, (bool, np.bool_)):  # PyTorch's padding_idx, given third
            raise _pytorch_order_error(self.n_vocab, self.n_e, init, rng, dtype)
        self.padding_idx = _padding_index(padding_idx, self.n_vocab)
        self.max_norm, self.norm_type = _max_norm(max_norm, norm_type, "Embedding")
        self.scale_grad_by_freq = flag(scale_grad_by_freq, "scale_grad_by_freq", "Embedding")
        self.init = init
        E = initializers.initialize(init, (self.n_vocab, self.n_e), rng, dtype,
                                    caller="Embedding")
        if self.padding_idx is not None:
            if not E.flags.writeable:  # an init's own read-only array: left as it is
                E = E.copy()
            E[self.padding_idx] = 0.0
        self.E = Parameter(E)

    @classmethod
    def from_pretrained(cls, E: Any, freeze: bool = True, *, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False) -> Embedding:
        """An Embedding holding a copy of ``E`` of shape (n_vocab, n_e), row w the vector of
        word w (the course's E of shape (n_e, n_vocab) is ``E_course.T``).

        ``freeze=True`` (the default, as in PyTorch) keeps the vectors as they are: E is a
        frozen Parameter (``requires_grad`` False), in ``parameters()`` and ``state_dict()``
        as PyTorch's, which backward gives no gradient and an optimizer leaves alone until
        it is unfrozen for fine-tuning, with the model (``model.requires_grad_(True)``) or on
        its own (``layer.requires_grad_(True)``). An optimizer given E while it is frozen
        holds state for it (Adam's v and s) that takes no memory until E learns; but Adam
        corrects its bias by its group's step count (see `optim.Adam`), so E unfrozen after
        many steps would take steps up to 3.16 alpha at first: give it to Adam when it is
        unfrozen, in a group of its own (``optimizer.add_param_group({"params": [E]})``).
        ``freeze=False`` makes E a Parameter trained with the rest of the model from the
        start. A float32 matrix stays float32; integers become float64. ``padding_idx``: the
        padding token's row gets no gradient (its vector is kept as given, as PyTorch's).
        ``max_norm``, ``norm_type`` and ``scale_grad_by_freq`` as for `Embedding` (the rows
        are renormalised when looked up, in the layer's copy, not here).
        """
        caller = "Embedding.from_pretrained"
        freeze = flag(freeze, "freeze", caller)
        data = E.data if isinstance(E, Tensor) else np.asarray(E)
        if data.dtype.kind not in "iuf":
            raise GraphgradTypeError(
                f"Embedding.from_pretrained takes a matrix of numbers, got {describe(data)}"
            )
        if data.ndim != 2 or 0 in data.shape:
            raise ShapeError(
                f"Embedding.from_pretrained takes E of shape (n_vocab, n_e), one word vector "
                f"per row, got {describe(E if isinstance(E, Tensor) else data)}"
            )
        dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float64)
        vectors = np.array(data, dtype=dtype)  # a copy: training must not change the caller's

        def pretrained(shape: tuple[int, ...], rng: Any) -> np.ndarray:
            return vectors

        padding_idx = _padding_index(padding_idx, data.shape[0], caller)
        layer = cls(data.shape[0], data.shape[1], init=pretrained, dtype=dtype,
                    max_norm=max_norm, norm_type=norm_type,
                    scale_grad_by_freq=scale_grad_by_freq)
        layer.padding_idx = padding_idx  # its row as given, not zeroed
        layer.init = "pretrained"
        if freeze:
            layer.E.requires_grad_(False)
        return layer

    @property
    def frozen(self) -> bool:
        """Whether E is frozen (from_pretrained(E, freeze=True), or requires_grad_(False)):
        backward gives it no gradient, so it is not trained."""
        return not self.E.requires_grad

    def forward(self, indices: Any) -> Tensor:
        """The rows of E at ``indices``: (m,) -> (m, n_e), (m, T_x) -> (m, T_x, n_e)."""
        index = self._word_indices(indices)
        if self.max_norm is None and not self.scale_grad_by_freq:
            if self.padding_idx is None:
                return GetItem.apply(self.E, index=index)
            return PaddedLookup.apply(self.E, index=index, padding_idx=self.padding_idx)
        return _lookup(self.E, index, self.padding_idx, self.max_norm, self.norm_type,
                       self.scale_grad_by_freq, self._label())

    def _word_indices(self, indices: Any) -> np.ndarray:
        """``indices`` as an integer array, each in range(n_vocab), or an error naming the
        first one that is not."""
        return word_indices(indices, self.n_vocab,
                            f"Embedding(n_vocab={self.n_vocab}, n_e={self.n_e})")

    def extra_repr(self) -> str:
        """``n_vocab=10, n_e=4, init='xavier'`` (or ``pretrained``), for the repr, whose count
        of parameters says when E is frozen."""
        sizes = f"n_vocab={self.n_vocab}, n_e={self.n_e}"
        if self.padding_idx is not None:
            sizes += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            sizes += f", max_norm={self.max_norm:g}"
            sizes += f", norm_type={self.norm_type:g}" if self.norm_type != 2 else ""
        if self.scale_grad_by_freq:
            sizes += ", scale_grad_by_freq=True"
        if self.init == "pretrained":
            return sizes + ", pretrained"
        return sizes + f", init={initializers.name_of(self.init)!r}"


def word_indices(indices: Any, n_vocab: int, label: str) -> np.ndarray:
    """``indices`` as an integer array, each in range(n_vocab), or an error naming ``label``
    (the layer, or the function) and the first index that is not."""
    if isinstance(indices, Tensor):
        if indices.requires_grad:
            raise GraphgradTypeError(
                f"{label} takes word indices, which have no gradient, got "
                f"{describe(indices)}, which requires grad. Pass the indices as integers "
                "(an array, or indices.detach() if they are indices); vectors that are "
                "already embeddings go to the next layer directly."
            )
        array, shown = indices.data, describe(indices)
    else:
        array = (indices if type(indices) is np.ndarray
                 else array_of(indices, "the word indices", label))
        shown = describe(array)
    kind = array.dtype.kind
    if kind == "f":
        whole = np.isfinite(array) & (array == np.trunc(array))
        if not whole.all():
            at = _first(~whole)
            raise GraphgradTypeError(
                f"{label} takes word indices, whole numbers from 0 to {n_vocab - 1}; "
                f"{shown} holds {array[at].item()!r} at {_where(at)}. Round computed "
                "indices to integers (np.rint(indices).astype(int)); values that are not "
                "word numbers belong in another layer (nn.Linear)."
            )
    elif kind not in "iu":
        tip = (" Map each word to its index with the vocabulary first "
               "(word_to_index[word])." if kind in "USO" else
               " A mask selects rows; pass the indices of the words instead "
               "(np.flatnonzero(mask))." if kind == "b" else "")
        raise GraphgradTypeError(
            f"{label} takes integer word indices from 0 to {n_vocab - 1}, got "
            f"{shown}.{tip}"
        )
    if array.size and (array.min() < 0 or array.max() >= n_vocab):
        outside = (array < 0) | (array >= n_vocab)
        at = _first(outside)
        value = array[at].item()
        value = int(value) if kind == "f" else value
        count = int(outside.sum())
        others = f", the first of {count} in {shown}" if count > 1 else f" in {shown}"
        fix = ("Negative indices do not count from the end here; give padding or "
               "unknown words an index of their own" if value < 0 else
               f"Build the layer with n_vocab = {int(array.max()) + 1} or more, or map "
               "words outside the vocabulary to an <UNK> index")
        raise ArgumentError(
            f"{label}: {_where(at)} = {value} is out of range{others}; word indices run "
            f"from 0 to n_vocab - 1 = {n_vocab - 1}. {fix}."
        )
    return array.astype(np.intp, copy=False)


def embedding(ids: Any, W: Any, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False) -> Tensor:
    """The rows of W at ``ids``, the function of `Embedding` (PyTorch's F.embedding): ids
    (...) of whole numbers in range(n_vocab), W (n_vocab, n_e) -> (..., n_e). The gradient of
    W is added into the rows looked up (a row used twice gets the sum); the row padding_idx
    gets none (its output rows are W's row all the same). With max_norm, the rows looked up
    whose norm (of order norm_type) is above it are first scaled to it in W, in place (an
    array W too), as PyTorch's; scale_grad_by_freq divides each word's gradient by the times
    it appears in ids."""
    caller = "embedding"
    given = W
    if not isinstance(W, Tensor):
        W = Tensor(array_of_numbers(W, "W", caller))
    if W.ndim != 2:
        raise ShapeError(f"embedding takes W of shape (n_vocab, n_e), one row per word, got "
                         f"{describe(W)}")
    padding = _padding_index(padding_idx, W.shape[0], caller)
    max_norm, norm_type = _max_norm(max_norm, norm_type, caller)
    scale = flag(scale_grad_by_freq, "scale_grad_by_freq", caller)
    index = word_indices(ids, W.shape[0], f"embedding (W {describe(W)})")
    if max_norm is not None and type(given) is np.ndarray and (
            W.data is not given or not given.flags.writeable):
        raise ArgumentError(
            f"{caller}: max_norm renormalises the rows looked up in W, in place, and W "
            f"{describe(given)} cannot be written: pass a writeable float array (np.array(W, "
            "dtype=float)) or a Tensor, or max_norm=None")
    if max_norm is None and not scale:
        if padding is None:
            return GetItem.apply(W, index=index)
        return PaddedLookup.apply(W, index=index, padding_idx=padding)
    return _lookup(W, index, padding, max_norm, norm_type, scale, caller)


def _padding_index(padding_idx: Any, n_vocab: int, caller: str = "Embedding") -> int | None:
    """``padding_idx`` as an index from 0 to n_vocab - 1 (-1 is the last), or None."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, (bool, np.bool_)) or not isinstance(padding_idx,
                                                                   (int, np.integer)):
        raise GraphgradTypeError(
            f"{caller}: padding_idx must be a word index (an int) or None, got "
            f"{setting_text(padding_idx)}")
    if not -n_vocab <= padding_idx < n_vocab:
        raise ArgumentError(
            f"{caller}: padding_idx={padding_idx} is not a word of the vocabulary of "
            f"n_vocab={n_vocab}: give an index from 0 to {n_vocab - 1} (or from {-n_vocab} "
            "to -1, counting from the end), and give the padding token that index")
    return int(padding_idx) % n_vocab


def _first(mask: np.ndarray) -> tuple[int, ...]:
    """The position of the first True element of ``mask``, in row-major order."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _where(at: tuple[int, ...]) -> str:
    """A position in the indices as a reader writes it: ``indices[1, 3]``."""
    return f"indices[{', '.join(map(str, at))}]" if at else "the index"
