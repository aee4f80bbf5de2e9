"""The course's Transformer building blocks (Sequence Models, week 4): scaled dot-product
attention, its masks, the sinusoidal positional encoding and multi-head attention. The
layers and the model built from them are in `nn.transformer`.

The course's Transformer is written in TensorFlow, batch-first as graphgrad is, so its
shapes carry over with new names only:

| course | graphgrad |
|---|---|
| q (..., seq_len_q, depth), k (..., seq_len_k, depth) | Q (..., T_q, d_k), K (..., T_k, d_k) |
| v (..., seq_len_v, depth_v), seq_len_v = seq_len_k | V (..., T_k, d_v) |
| attention_weights (..., seq_len_q, seq_len_k) | weights (..., T_q, T_k) |
| x (batch_size, input_seq_len, embedding_dim) | X (m, T_x, d_model) |
| embedding_dim, fully_connected_dim, num_heads | d_model, d_ff, num_heads (h) |
| dropout_rate, layernorm_eps | dropout, eps |
| pos_encoding (1, positions, d) | positional_encoding(positions, d)[None] |

Masks say which keys a query may attend to: True (or 1) = may attend, as the course's masks
(1 keeps a score, 0 adds -1e9 to it) and the boolean ``attn_mask`` of PyTorch's
``F.scaled_dot_product_attention`` (True takes part). PyTorch's ``nn.MultiheadAttention`` and
``nn.Transformer`` layers read theirs the other way (True hides a key: ``attn_mask``,
``key_padding_mask``): pass ``~mask``, or use `nn.MultiheadAttention` and PyTorch's encoder
layers (``nn.transformer_torch``), which read PyTorch's masks as PyTorch does. Its look-ahead
mask so read here, True above the diagonal only, would let each query see only the later
keys; it is refused.
A masked score is replaced by the lowest finite number of its dtype before the softmax (the
course adds -1e9 to it, which an unmasked score below -1e9 would lose to), so its weight is
exactly 0 and the key gets exactly no gradient through it; a finite number rather than -inf
leaves no Inf for `gg.detect_anomaly` to report. A query whose keys are all masked gets
uniform weights (every score is that number), never NaN: that is what the course's float32
code gives (in float64 its added -1e9 keeps the scores' differences, giving the unmasked
softmax). Such a query (a padding position of a sequence that is all padding) should be left
out of the loss.

Everything is built from the engine's ops (matmul, swapaxes, where, softmax, reshape) and
`Linear`, so gradients, second derivatives and graph pictures need no code of their own.
Depends on `ops`, `nn.layers`, `nn.module`, `nn.regularization`, `nn.init`, `errors`.
"""
from __future__ import annotations

import math
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
    integer,
    require_shape,
    shape_of,
    whole_number,
)
from graphgrad.nn import init as initializers
from graphgrad.nn.layers import Linear
from graphgrad.nn.module import Module
from graphgrad.nn.regularization import Dropout
from graphgrad.ops.arithmetic import matmul
from graphgrad.ops.elementwise import as_booleans, where
from graphgrad.ops.shape import reshape, swapaxes, transpose
from graphgrad.ops.softmax import softmax
from graphgrad.tensor import Tensor


def _as_mask(mask: Any, scores_shape: tuple[int, ...], caller: str,
             scores: str = "(..., T_q, T_k)") -> np.ndarray:
    """``mask`` as a boolean array (True: may attend) that broadcasts to ``scores_shape``."""
    given = array_of(mask, "the mask", caller)
    array = as_booleans(given)
    if array is None and given.dtype.kind in "iuf":
        raise ArgumentError(
            f"{caller}: a mask holds True/1 where a query may attend and False/0 where it "
            f"may not; got values other than 0 and 1 ({describe(mask)}). An additive "
            "mask (0 and -inf, as PyTorch's float attn_mask) is mask == 0 in this "
            "convention."
        )
    if array is None:
        raise GraphgradTypeError(
            f"{caller}: a mask is boolean or 0/1 numbers, got {describe(mask)}")
    try:
        fits = np.broadcast_shapes(array.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{caller}: the mask of shape {array.shape} does not broadcast to the scores' "
            f"shape {scores} = {tuple(scores_shape)}: aligned from the right, each of its "
            "dimensions must equal the scores' or be 1 (padding_mask(tokens) gives "
            "(m, 1, 1, T_k), look_ahead_mask(T) gives (T, T))"
        )
    _refuse_hiding_mask(array, caller)
    return array


def _refuse_hiding_mask(keep: np.ndarray, caller: str) -> None:
    """Refuse a square mask that lets each query attend only to later keys (False on and
    below the diagonal, True somewhere above): PyTorch's nn.MultiheadAttention look-ahead
    mask, where True hides a key, read here where True lets a query attend. Every query
    would then attend to the future only, and the last to nothing (uniform weights)."""
    T = keep.shape[-1] if keep.ndim >= 2 else 0
    if T < 2 or keep.shape[-2] != T or not keep.any() or np.tril(keep).any():
        return
    raise ArgumentError(
        f"{caller}: the mask of shape {keep.shape} lets each query attend only to the keys "
        "after it (True above the diagonal, False on and below it): PyTorch's "
        "nn.MultiheadAttention look-ahead mask, where True hides a key. Here True/1 means "
        "may attend, as the course's masks and F.scaled_dot_product_attention's: pass ~mask, "
        f"or look_ahead_mask({T}) (nn.MultiheadAttention, PyTorch's layer, takes PyTorch's "
        "masks)."
    )


def scaled_dot_product_attention(Q: Any, K: Any, V: Any, mask: Any = None,
                                 is_causal: bool = False) -> tuple[Tensor, Tensor]:
    """The course's scaled dot-product attention:
    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + masking) V.

    Args:
        Q: queries (..., T_q, d_k).
        K: keys (..., T_k, d_k).
        V: values (..., T_k, d_v). The leading axes (...) of Q, K and V broadcast together,
            as for ``@``: (m, h) for the heads of a batch, nothing for one sequence.
        mask: None, or booleans (or 0/1) broadcastable to (..., T_q, T_k): True/1 where query
            t may attend to key s (the course's convention, and F.scaled_dot_product_attention's
            boolean attn_mask; nn.MultiheadAttention's is the opposite: pass ~mask).
            A masked key gets weight exactly 0; a query with every key masked gets uniform
            weights over them, as the course's -1e9 gives in float32 (see the module's
            docstring). Leading axes of size 1 beyond Q's (the course's (1, T_q, T_k) with
            q (T_q, d_k)) are kept in the outputs, as numpy's broadcasting keeps them.
        is_causal: True hides from query t the keys after it, as ``mask=look_ahead_mask(T)``
            (F.scaled_dot_product_attention's is_causal), on top of ``mask`` when one is given
            (PyTorch refuses both). It needs T_q = T_k: queries that are the last T_q of T_k
            positions (decoding with cached keys) take ``mask=np.tril(np.ones((T_q, T_k),
            bool), T_k - T_q)``, where PyTorch's is_causal would hide the keys after the
            first T_q.

    Returns:
        (output, weights): output (..., T_q, d_v), row t the weights' average of the values;
        weights (..., T_q, T_k), each row summing to 1.
    """
    caller = "scaled_dot_product_attention"
    for what, value in (("Q", Q), ("K", K), ("V", V)):
        if type(value) is not Tensor:
            array_of_numbers(value, what, caller)  # before their shapes, which it may lack
    q, k, v = shape_of(Q), shape_of(K), shape_of(V)
    if len(q) < 2 or len(k) < 2 or len(v) < 2:
        raise ShapeError(
            f"{caller} takes Q (..., T_q, d_k), K (..., T_k, d_k) and V (..., T_k, d_v), at "
            f"least 2 axes each; got Q {describe(Q)}, K {describe(K)}, V {describe(V)}"
        )
    if q[-1] != k[-1]:
        raise ShapeError(
            f"{caller}: Q and K must have the same d_k (their last axis), one dot product "
            f"per query and key; got Q {describe(Q)} and K {describe(K)}"
        )
    _require_keys(caller, K, k)
    if k[-2] != v[-2]:
        raise ShapeError(
            f"{caller}: K and V must have the same T_k (their second-to-last axis), one value "
            f"per key; got K {describe(K)} and V {describe(V)}"
        )
    try:
        batch = np.broadcast_shapes(q[:-2], k[:-2], v[:-2])
    except ValueError:
        raise ShapeError(
            f"{caller}: the leading axes of Q {describe(Q)}, K {describe(K)} and V "
            f"{describe(V)} do not broadcast together"
        ) from None
    mask_shape = () if mask is None else array_of(mask, "the mask", caller).shape
    extra = len(mask_shape) - len(batch) - 2
    if extra > 0 and mask_shape[:extra] == (1,) * extra:
        # A mask of one sequence with a batch axis of 1, as the course's test gives with q
        # (T_q, d_k): numpy's scores + (1 - mask) * -1e9 is (1, T_q, T_k), and so are the
        # weights here. An axis of more than one would repeat the output per mask (the
        # (m, 1, 1, T_k) of padding_mask on queries without the heads' axis): refused.
        batch = (1,) * extra + batch
    keep = None if mask is None else _as_mask(mask, batch + (q[-2], k[-2]), caller)
    if flag(is_causal, "is_causal", caller):
        if q[-2] != k[-2]:
            tip = (f". For queries that are the last {q[-2]} of {k[-2]} positions (decoding "
                   f"with cached keys), pass mask=np.tril(np.ones(({q[-2]}, {k[-2]}), bool), "
                   f"{k[-2] - q[-2]}) instead" if q[-2] < k[-2] else "")
            raise ShapeError(
                f"{caller}: is_causal hides from query t the keys after t, which needs as many "
                f"queries as keys; got T_q = {q[-2]} (Q {describe(Q)}) and T_k = {k[-2]} (K "
                f"{describe(K)}){tip}")
        causal = look_ahead_mask(q[-2])
        keep = causal if keep is None else keep & causal
    return _attend(Q, K, V, keep)


def _require_keys(caller: str, K: Any, k: tuple[int, ...]) -> None:
    """Refuse keys K of shape ``k`` (..., T_k, d_k) with T_k = 0 or d_k = 0: the softmax over
    no keys would average nothing (MultiHeadAttention's output would be zeros)."""
    if k[-2] == 0 or k[-1] == 0:
        raise ShapeError(
            f"{caller}: K {describe(K)} has no {'keys (T_k = 0)' if k[-2] == 0 else 'd_k'}: "
            "each query's output is an average over at least one key, scored by a dot product "
            "of at least one number"
        )


def _attend(Q: Any, K: Any, V: Any, keep: np.ndarray | None,
            dropout: Dropout | None = None) -> tuple[Tensor, Tensor]:
    """`scaled_dot_product_attention` on checked inputs, ``keep`` a checked boolean mask;
    ``dropout`` drops weights before they average the values (the weights returned are
    those before dropout, each row summing to 1)."""
    scores = matmul(Q, swapaxes(K, -1, -2)) / math.sqrt(shape_of(Q)[-1])  # (..., T_q, T_k)
    if keep is not None:
        scores = where(keep, scores, float(np.finfo(scores.dtype).min))
    weights = softmax(scores, axis=-1)
    used = weights if dropout is None else dropout(weights)
    return matmul(used, V), weights


def dropout_probability(dropout: Any, caller: str) -> float:
    """``dropout``, the probability of dropping a unit as the Transformer's layers take it
    (the course's dropout_rate, PyTorch's p), checked: a number in [0, 1)."""
    number = not isinstance(dropout, (bool, np.bool_)) and isinstance(
        dropout, (int, float, np.number))
    if not number or not 0.0 <= dropout < 1.0:
        raise ArgumentError(
            f"{caller}: dropout is the probability of dropping a unit (the course's "
            f"dropout_rate, PyTorch's p), a number in [0, 1), got {dropout!r}"
            + (" (bias is a keyword argument: bias=False)" if dropout is False else ""))
    return float(dropout)


def dropout_layer(dropout: float, rng: np.random.Generator | None) -> Dropout:
    """A `Dropout` dropping with probability ``dropout``: keep_prob = 1 - dropout. Its masks
    come from ``rng``, the generator of a seed the layer was given, or with None from the
    generator `nn.init.seed` resets, looked up at each call as a lone Dropout does."""
    layer = Dropout(rng=rng)
    layer.keep_prob = 1.0 - dropout  # checked: a drop probability, not a ported p to warn of
    return layer


def look_ahead_mask(T: int) -> np.ndarray:
    """The course's create_look_ahead_mask: (T, T) booleans, True on and below the diagonal,
    so position t attends to positions 1..t and never to a later one (a decoder predicting
    word t + 1 must not see it).

    The course's mask has shape (1, T, T) and holds 1.0/0.0: ``look_ahead_mask(T)[None]``
    and ``.astype(float)`` give it; either broadcasts over (m, h, T, T) as this one does.
    Combine it with a padding mask by ``&``: ``padding_mask(tokens) & look_ahead_mask(T)``.
    """
    T = whole_number(T, "T", "look_ahead_mask")
    return np.tril(np.ones((T, T), dtype=bool))


def padding_mask(tokens: Any, pad: int = 0) -> np.ndarray:
    """The course's create_padding_mask: True where a token is a word, False where it is the
    padding ``pad``, shaped (m, 1, 1, T) to broadcast over the scores (m, h, T_q, T_k) of
    multi-head attention, so no query attends to a padding key.

    ``tokens``: word indices (m, T) (an array, a list or a Tensor). The course's version
    returns (m, 1, T) 1.0/0.0 for Keras's attention_mask (m, T_q, T_k), which
    `MultiHeadAttention` reads too (a mask of rank 3 gets the head axis);
    ``padding_mask(tokens)[:, 0]`` is that shape.
    """
    array = array_of(tokens, "tokens", "padding_mask")
    if array.ndim != 2:
        raise ShapeError(f"padding_mask takes word indices of shape (m, T), one sentence per "
                         f"row; got {describe(tokens)}")
    # A pad of another kind (None, "0", 0.5) equals no token: every word would be kept.
    return (array != integer(pad, "pad", "padding_mask"))[:, None, None, :]


def positional_encoding(positions: int, d: int, dtype: Any = np.float64) -> np.ndarray:
    """The course's sinusoidal positional encodings, (positions, d)::

        PE[pos, 2i]     = sin(pos / 10000 ** (2i / d))
        PE[pos, 2i + 1] = cos(pos / 10000 ** (2i / d))

    Row pos is added to the embedding of the word at position pos (pos = 0, 1, ...), after
    the embeddings are scaled by sqrt(d): ``E(tokens) * sqrt(d) + positional_encoding(T, d)``
    for tokens (m, T). ``dtype`` is the array's, np.float64 by default (the angles are
    computed in float64 either way). The course's function returns shape (1, positions, d) in
    float32: ``positional_encoding(positions, d, np.float32)[None]``.
    """
    positions = whole_number(positions, "positions", "positional_encoding")
    d = whole_number(d, "d", "positional_encoding")
    pos = np.arange(positions, dtype=np.float64)[:, None]
    i = np.arange(d)[None, :] // 2
    angles = pos / np.power(10000.0, 2 * i / d)
    angles[:, 0::2] = np.sin(angles[:, 0::2])
    angles[:, 1::2] = np.cos(angles[:, 1::2])
    return angles.astype(dtype)


class MultiHeadAttention(Module):
    """Multi-head attention: h heads, each attending with its own projections of Q, K and V
    (d_k = d_model / h features each), their outputs concatenated and projected::

        head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)
        MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O

    The projections of all heads are one `Linear(d_model, d_model)` each: ``query``,
    ``key``, ``value``, and ``out`` for W^O. Head i uses features i d_k .. (i + 1) d_k of the
    projections, rows i d_k .. (i + 1) d_k of ``query.W`` (which is the paper's W^Q of all
    heads side by side, transposed, as `Linear` keeps W). PyTorch's nn.MultiheadAttention
    (batch_first=True) holds the same numbers as in_proj_weight (query, key and value
    stacked) and out_proj; Keras's MultiHeadAttention names them query, key, value and
    attention_output. The course builds its layer with Keras's MultiHeadAttention(num_heads,
    key_dim=embedding_dim), whose heads have d_model features each (larger projections);
    here, as in the paper and PyTorch, the heads share d_model.

    Args:
        d_model: features per position of the inputs and the output (embedding_dim).
        num_heads: the heads h; d_model must divide by it.
        dropout: the probability of dropping an attention weight in training (PyTorch's and
            Keras's dropout; the course passes its dropout_rate): the values are averaged by
            the weights with inverted dropout applied (``attention_dropout``). 0, the
            default, turns it off; so does ``eval()``.
        bias: False leaves out the four projections' biases.
        init: how the four weights start (see `nn.init`); the biases start at zero.
        rng: a seed or np.random.Generator for the initialisation and the dropout masks
            (default: the generator `nn.init.seed` resets).
        dtype: np.float64 (default) or np.float32. Data of the other float dtype is converted.

    Shapes: ``forward(Q, K, V, mask=None, return_weights=False)`` on Q (m, T_q, d_model),
    K and V (m, T_k, d_model) (self-attention: all three the same X) gives the output
    (m, T_q, d_model), and with ``return_weights=True`` ``(output, weights)``, weights
    (m, h, T_q, T_k) before dropout (as Keras returns them), each row summing to 1. (PyTorch's
    layer returns ``(output, weights)`` by default: a ported ``y, _ = mha(X, X, X)`` would
    unpack the output's batch axis, without an error when m = 2; write ``y = mha(X, X, X)``,
    or use `nn.MultiheadAttention`, PyTorch's layer with its call, layout and masks.)
    ``mask`` broadcasts to (m, h, T_q, T_k) (True/1: may attend; see
    `scaled_dot_product_attention`), except that a mask of rank 3 is read as Keras's
    attention_mask (m, T_q, T_k), the course's masks, and gets the head axis.
    4 (d_model^2 + d_model) parameters (4 d_model^2 without biases).
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 init: Any = "xavier", rng: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        self.d_model = whole_number(d_model, "d_model", "MultiHeadAttention")
        self.num_heads = whole_number(num_heads, "num_heads", "MultiHeadAttention")
        if self.d_model % self.num_heads:
            fits = [h for h in range(1, self.d_model + 1) if self.d_model % h == 0]
            raise ArgumentError(
                f"MultiHeadAttention: d_model ({self.d_model}) must be divisible by num_heads "
                f"({self.num_heads}), each head taking d_model / num_heads features; with "
                f"d_model = {self.d_model}, num_heads can be {', '.join(map(str, fits))}"
            )
        self.d_k = self.d_model // self.num_heads
        bias = flag(bias, "bias", "MultiHeadAttention")
        self.init = init
        self.dropout = dropout_probability(dropout, self._kind())
        # one stream: a seed per layer would repeat
        generator = initializers.generator(rng, "MultiHeadAttention")
        for name in ("query", "key", "value", "out"):
            setattr(self, name, Linear(self.d_model, self.d_model, init=init, bias=bias,
                                       rng=generator, dtype=dtype))
        self.attention_dropout = dropout_layer(self.dropout, None if rng is None else generator)

    def _kind(self) -> str:
        return f"MultiHeadAttention(d_model={self.d_model}, num_heads={self.num_heads})"

    def _split_heads(self, X: Tensor) -> Tensor:
        """(m, T, d_model) -> (m, h, T, d_k): head i takes features i d_k .. (i + 1) d_k."""
        m, T, _ = X.shape
        return transpose(reshape(X, (m, T, self.num_heads, self.d_k)), (0, 2, 1, 3))

    def forward(self, Q: Any, K: Any, V: Any, mask: Any = None,
                return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        """Q (m, T_q, d_model), K and V (m, T_k, d_model) -> (m, T_q, d_model), and the
        weights (m, h, T_q, T_k) with ``return_weights=True`` (see the class docstring).

        mask: None (every query attends to every key), or booleans (or 0/1) broadcastable to
        (m, h, T_q, T_k), True/1 where query t may attend to key s (``padding_mask(tokens)``,
        ``look_ahead_mask(T)``); one of rank 3 is Keras's attention_mask (m, T_q, T_k), the
        same for every head."""
        label = self._label()
        d_model = self.d_model
        tip = f" (a single sequence (T, {d_model}) is X[None])" if (
            len(shape_of(Q)) == 2 and shape_of(Q)[-1] == d_model) else ""
        require_shape(label, "Q", Q, ("m", "T_q", d_model), tip)
        m, T_q = shape_of(Q)[:2]
        require_shape(label, "K", K, (m, "T_k", d_model))
        T_k = shape_of(K)[1]
        _require_keys(label, K, shape_of(K))
        require_shape(label, "V", V, (m, T_k, d_model), " (V holds one value per key of K)")
        if mask is not None:
            mask = array_of(mask, "the mask", label)
            if mask.ndim == 3:  # Keras's attention_mask (m, T_q, T_k): the same for every head
                mask = mask[:, None]
            mask = _as_mask(mask, (m, self.num_heads, T_q, T_k), label, "(m, h, T_q, T_k)")
        heads, weights = _attend(
            self._split_heads(self.query(Q)), self._split_heads(self.key(K)),
            self._split_heads(self.value(V)), mask,
            self.attention_dropout)  # (m, h, T_q, d_k), (m, h, T_q, T_k)
        concat = reshape(transpose(heads, (0, 2, 1, 3)), (m, T_q, d_model))
        output = self.out(concat)
        return (output, weights) if return_weights else output

    def extra_repr(self) -> str:
        """``d_model=8, num_heads=2, init='xavier'`` (and ``dropout``, ``bias=False``), for
        the repr."""
        dropout = f", dropout={self.dropout:g}" if self.dropout else ""
        bias = "" if self.out.b is not None else ", bias=False"
        return (f"d_model={self.d_model}, num_heads={self.num_heads}{dropout}, "
                f"init={initializers.name_of(self.init)!r}{bias}")

