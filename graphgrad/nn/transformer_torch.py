"""PyTorch's attention and Transformer layers by their names and calls: `MultiheadAttention`,
``TransformerEncoderLayer``, ``TransformerDecoderLayer``, ``TransformerEncoder`` and
``TransformerDecoder`` with PyTorch's arguments (here `TorchTransformerEncoderLayer`,
`TorchTransformerDecoderLayer`, `TorchTransformerEncoder`, `TorchTransformerDecoder`), the
whole ``Transformer`` (`TorchTransformer`), and
`load_torch_state_dict`, which loads a torch module's weights into one of them exactly.

The course's `MultiHeadAttention` and Transformer layers (`nn.attention`, `nn.transformer`)
stay as they are; PyTorch's differ from them in ways one class cannot hold both of:

| | the course's (graphgrad's) | PyTorch's (this module) |
|---|---|---|
| layout | batch-first, X (m, T, d_model) | (T, m, E) unless batch_first=True |
| boolean masks | True/1 = may attend | True = may not attend; float masks are added |
| call | ``mha(Q, K, V, mask=None)`` -> output | ``mha(q, k, v, ...)`` -> (output, weights) |
| layer | post-LayerNorm, eps=1e-6, ReLU | norm_first, layer_norm_eps=1e-5, activation |
| dropout | on weights and sublayers' outputs | also inside the feed-forward network |
| encoder | embeddings, positions and the layers | deep copies of one layer, then ``norm`` |

So PyTorch's `MultiheadAttention` (lower-case h) sits beside the course's
`MultiHeadAttention`, and the course's ``nn.TransformerEncoderLayer`` and
``nn.TransformerDecoderLayer`` make PyTorch's layers when called as PyTorch code calls them:
with any of PyTorch's keywords (nhead, dim_feedforward, activation, layer_norm_eps,
batch_first, norm_first, bias, device) or an activation as the fifth argument;
``nn.TransformerEncoder(layer, num_layers)`` and ``nn.TransformerDecoder(layer,
num_layers)`` given a layer make PyTorch's stacks; ``nn.Transformer(d_model=...,
nhead=...)`` called with PyTorch's keywords makes PyTorch's whole model
(`TorchTransformer`), and so does ``nn.Transformer()``, PyTorch's defaults (d_model=512,
nhead=8, 6 + 6 layers, dim_feedforward=2048; the course's model has no defaults).
``nn.TransformerEncoderLayer(8, 2, 16)`` alone is the course's (batch-first, its masks):
PyTorch code that writes it so takes ``batch_first=False`` to say it. A call that could be
either, ``nn.TransformerEncoderLayer(8, 2)`` (no d_ff, none of PyTorch's keywords) or
``nn.Transformer(512, 8)`` (fewer than the course's eight sizes), is refused: the two read
their input in other layouts.

PyTorch's weights map onto these layers under PyTorch's names: in_proj_weight (3E, E) and
in_proj_bias (3E,) (q_proj_weight, k_proj_weight, v_proj_weight with kdim or vdim), and
PyTorch's ``weight``/``bias`` of each Linear and LayerNorm as graphgrad's ``W``/``b`` and
``gamma``/``beta`` (out_proj.weight is out_proj.W, norm1.weight is norm1.gamma).

One difference is kept on purpose: a query whose keys are all hidden by boolean masks gets
uniform weights (as in `scaled_dot_product_attention`), where PyTorch's gives NaN.
Depends on `nn.attention`, `nn.layers`, `nn.normalization`, `nn.containers`, `nn.module`,
`nn.init`, `ops`, `tensor` and `errors`.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of,
    describe,
    flag,
    require_shape,
    shape_of,
    whole_number,
)
from graphgrad.nn import init as initializers
from graphgrad.nn.attention import dropout_layer, dropout_probability, look_ahead_mask
from graphgrad.nn.containers import ModuleList
from graphgrad.nn.layers import Linear, linear
from graphgrad.nn.module import Module, Parameter, StateDictError, as_data_of
from graphgrad.nn.normalization import LayerNorm
from graphgrad.ops.activations import gelu
from graphgrad.ops.arithmetic import matmul
from graphgrad.ops.elementwise import as_booleans, relu, where
from graphgrad.ops.shape import reshape, swapaxes, transpose
from graphgrad.ops.softmax import softmax
from graphgrad.tensor import Tensor

# The keywords only PyTorch's TransformerEncoderLayer takes (device: its, refused here)
TORCH_LAYER_KEYWORDS = frozenset({"nhead", "dim_feedforward", "activation", "layer_norm_eps",
                                  "batch_first", "norm_first", "bias", "device"})


class MultiheadAttention(Module):
    """PyTorch's nn.MultiheadAttention: h heads attending with their own projections of the
    query, key and value (E / h features each), concatenated and projected by ``out_proj``::

        q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v     (in_proj)
        head_i = softmax(q_i k_i^T / sqrt(E / h) + masks) v_i
        output = Concat(head_1, ..., head_h) W_o^T + b_o                     (out_proj)

    Args:
        embed_dim: E, the features of the queries and of the output.
        num_heads: h; E must divide by it.
        dropout: the probability of dropping an attention weight in training.
        bias: False leaves out in_proj_bias and out_proj's bias.
        add_bias_kv, add_zero_attn: False only (not supported).
        kdim, vdim: the features of the keys and values (default E). With either not E the
            projections are q_proj_weight (E, E), k_proj_weight (E, kdim) and v_proj_weight
            (E, vdim), as PyTorch's; else one in_proj_weight (3E, E), rows q, k, v.
        batch_first: False (PyTorch's default) takes (L, N, E) and gives (L, N, E); True
            takes graphgrad's layout (N, L, E).
        device: None or "cpu" (graphgrad computes on the CPU).
        dtype: np.float64 (default) or np.float32.
        init, rng: keyword only. The projections start "xavier" (PyTorch's
            xavier_uniform_ for in_proj_weight; its out_proj starts otherwise), biases at 0.

    ``output, weights = mha(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False)``: query (L, N, E), key
    (S, N, kdim), value (S, N, vdim) (or batch-first, or one sequence (L, E) unbatched) ->
    output as query, weights (N, L, S) averaged over the heads, (N, h, L, S) with
    average_attn_weights=False, None with need_weights=False; the weights are those that
    averaged the values, dropout included, as PyTorch's.
    Masks, PyTorch's: booleans True where a query may NOT attend, or floats added to the
    scores (0 and -inf). key_padding_mask (N, S) hides keys of each sequence; attn_mask
    (L, S) or (N * h, L, S) hides keys of each query. is_causal=True with no attn_mask hides
    each query's later keys (PyTorch takes it as a hint that attn_mask is that mask, and
    wants the mask given too).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None,
                 dtype: Any = np.float64, *, init: Any = "xavier", rng: Any = None) -> None:
        super().__init__()
        name = "MultiheadAttention"
        self.embed_dim = E = whole_number(embed_dim, "embed_dim", name)
        self.num_heads = whole_number(num_heads, "num_heads", name)
        if E % self.num_heads:
            raise ArgumentError(
                f"{name}: embed_dim ({E}) must be divisible by num_heads ({self.num_heads}), "
                "each head taking embed_dim / num_heads features")
        self.head_dim = E // self.num_heads
        self.kdim = E if kdim is None else whole_number(kdim, "kdim", name)
        self.vdim = E if vdim is None else whole_number(vdim, "vdim", name)
        self.batch_first = flag(batch_first, "batch_first", name)
        self.dropout = dropout_probability(dropout, name)
        if flag(add_bias_kv, "add_bias_kv", name) or flag(add_zero_attn, "add_zero_attn", name):
            raise ArgumentError(f"{name}: add_bias_kv and add_zero_attn are not supported; "
                                "leave them False")
        if device not in (None, "cpu"):
            raise ArgumentError(f"{name}: graphgrad computes on the CPU only, got "
                                f"device={device!r}")
        bias = flag(bias, "bias", name)
        generator = initializers.generator(rng, name)
        self.init = init
        self._qkv_same_embed_dim = self.kdim == E and self.vdim == E
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(
                initializers.initialize(init, (3 * E, E), generator, dtype, caller=name))
        else:
            for what, n_in in (("q", E), ("k", self.kdim), ("v", self.vdim)):
                setattr(self, f"{what}_proj_weight", Parameter(
                    initializers.initialize(init, (E, n_in), generator, dtype, caller=name)))
        self.in_proj_bias = Parameter(np.zeros(3 * E, dtype=dtype)) if bias else None
        self.out_proj = Linear(E, E, init=init, bias=bias, rng=generator, dtype=dtype)
        self.attention_dropout = dropout_layer(self.dropout, None if rng is None else generator)

    def _kind(self) -> str:
        return f"MultiheadAttention({self.embed_dim}, {self.num_heads})"

    def _projection(self, k: int) -> tuple[Tensor, Tensor | None]:
        """The weight (E, n_in) and bias (E,) of the query's (k = 0), key's (1) or value's (2)
        projection."""
        E = self.embed_dim
        rows = slice(k * E, (k + 1) * E)
        if self._qkv_same_embed_dim:
            W = self.in_proj_weight[rows]
        else:
            W = getattr(self, "qkv"[k] + "_proj_weight")
        return W, None if self.in_proj_bias is None else self.in_proj_bias[rows]

    def _batch(self, X: Any, what: str, n: int, batched: bool) -> Any:
        """query, key or value as (N, T, n): PyTorch's layouts checked and turned batch-first."""
        X = as_data_of(X, self.out_proj.W.data.dtype, self)
        if not batched:
            require_shape(self._label(), what, X, ("T", n),
                          " (one sequence, as the query is unbatched)")
            return X[None]
        layout = ("N", "T", n) if self.batch_first else ("T", "N", n)
        require_shape(self._label(), what, X, layout,
                      "" if self.batch_first else " (batch_first=False: (T, N, features))")
        if self.batch_first:
            return X
        return swapaxes(X, 0, 1) if isinstance(X, Tensor) else np.swapaxes(X, 0, 1)

    def forward(self, query: Any, key: Any, value: Any, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None,
                average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[Tensor, Tensor | None]:
        """(output, weights) of query (L, N, E), key (S, N, kdim) and value (S, N, vdim)
        ((N, ...) with batch_first; (L, E), (S, kdim), (S, vdim) for one sequence).

        key_padding_mask: (N, S), True (or -inf) for each key of a sequence to hide.
        attn_mask: (L, S) or (N * num_heads, L, S), True where query l may not attend to
        key s, or floats added to the scores.
        need_weights: False returns (output, None).
        average_attn_weights: the weights averaged over the heads, (N, L, S), else per head
        (N, num_heads, L, S).
        is_causal: with no attn_mask, each query attends to itself and earlier keys only."""
        label = self._label()
        E, h, d = self.embed_dim, self.num_heads, self.head_dim
        batched = len(shape_of(query)) != 2
        q = self._batch(query, "query", E, batched)
        N, L = shape_of(q)[:2]
        k = self._batch(key, "key", self.kdim, batched)
        v = self._batch(value, "value", self.vdim, batched)
        where_n = "the second" if batched and not self.batch_first else "the first"
        if shape_of(k)[0] != N or shape_of(v)[0] != N:
            raise ShapeError(f"{label}: query, key and value must hold the same N sequences "
                             f"({where_n} axis); got query {describe(query)}, key "
                             f"{describe(key)}, value {describe(value)}")
        S = shape_of(k)[1]
        if shape_of(v)[1] != S or S == 0:
            raise ShapeError(f"{label}: key and value must hold the same S >= 1 positions, "
                             f"one value per key; got key {describe(key)}, value "
                             f"{describe(value)}")
        hidden, added = _torch_masks(label, key_padding_mask, attn_mask, N, h, L, S, batched)
        if flag(is_causal, "is_causal", label) and attn_mask is None:
            if L != S:
                raise ShapeError(f"{label}: is_causal without attn_mask needs as many queries "
                                 f"as keys, got L = {L} and S = {S}; pass attn_mask")
            causal = ~look_ahead_mask(L)
            hidden = causal if hidden is None else hidden | causal

        def heads(X: Any, k: int) -> Tensor:  # (N, T, n) -> (N, h, T, d)
            W, b = self._projection(k)
            P = linear(X, W) if b is None else linear(X, W, b)
            return transpose(reshape(P, (N, shape_of(X)[1], h, d)), (0, 2, 1, 3))

        scores = matmul(heads(q, 0), swapaxes(heads(k, 1), -1, -2)) / math.sqrt(d)
        if added is not None:
            scores = scores + added.astype(scores.dtype)
        if hidden is not None:
            scores = where(~hidden, scores, float(np.finfo(scores.dtype).min))
        weights = self.attention_dropout(softmax(scores, axis=-1))  # (N, h, L, S)
        out = reshape(transpose(matmul(weights, heads(v, 2)), (0, 2, 1, 3)), (N, L, E))
        out = self.out_proj(out)
        if not batched:
            out = out[0]
        elif not self.batch_first:
            out = swapaxes(out, 0, 1)
        if not flag(need_weights, "need_weights", label):
            return out, None
        if flag(average_attn_weights, "average_attn_weights", label):
            weights = weights.mean(axis=1)
        return out, weights if batched else weights[0]

    def load_torch_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy a torch nn.MultiheadAttention's ``state_dict()`` in (see
        `load_torch_state_dict`)."""
        load_torch_state_dict(self, state_dict)

    def extra_repr(self) -> str:
        """PyTorch's settings: ``8, 2, batch_first=True`` (and dropout, kdim, vdim)."""
        settings = f"{self.embed_dim}, {self.num_heads}"
        if self.dropout:
            settings += f", dropout={self.dropout:g}"
        if not self._qkv_same_embed_dim:
            settings += f", kdim={self.kdim}, vdim={self.vdim}"
        if self.in_proj_bias is None:
            settings += ", bias=False"
        return settings + (", batch_first=True" if self.batch_first else "")


def _torch_masks(label: str, key_padding_mask: Any, attn_mask: Any, N: int, h: int, L: int,
                 S: int, batched: bool) -> tuple[np.ndarray | None, np.ndarray | None]:
    """PyTorch's two masks as (hidden, added): booleans True where a score is hidden and
    floats added to the scores, each broadcasting to (N, h, L, S), or None."""
    hidden = added = None
    shapes = {"key_padding_mask": ((N, S), (N, 1, 1, S)) if batched else ((S,), (1, 1, 1, S)),
              "attn_mask": None}
    for what, mask in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):
        if mask is None:
            continue
        given = array_of(mask, what, label)
        if what == "key_padding_mask":
            wanted, shape = shapes[what]
            if given.shape != wanted:
                raise ShapeError(f"{label}: key_padding_mask must have shape (N, S) = "
                                 f"{wanted}, True for each key to hide; got {describe(mask)}")
        elif given.shape == (L, S):
            shape = (1, 1, L, S)
        elif given.shape == ((N * h, L, S) if batched else (h, L, S)):
            shape = (N, h, L, S)
        else:
            sizes = f"(N * num_heads, L, S) = {(N * h, L, S)}" if batched else \
                f"(num_heads, L, S) = {(h, L, S)}"
            raise ShapeError(f"{label}: attn_mask must have shape (L, S) = {(L, S)} or "
                             f"{sizes}; got {describe(mask)}")
        if given.dtype == bool:
            hide = given.reshape(shape)
            hidden = hide if hidden is None else hidden | hide
        elif given.dtype.kind == "f":
            add = given.reshape(shape)
            added = add if added is None else added + add
        else:
            tip = ""
            if as_booleans(given) is not None:
                tip = " (0/1 numbers: pass mask.astype(bool), True where a key is hidden)"
            raise GraphgradTypeError(
                f"{label}: {what} is boolean (True: may not attend) or float (added to the "
                f"scores), got dtype {given.dtype}{tip}")
    return hidden, added


def _activation(activation: Any, caller: str) -> Callable[[Any], Tensor]:
    """PyTorch's activation argument, "relu", "gelu" (exact) or a callable, as a function."""
    if activation == "relu":
        return relu
    if activation == "gelu":
        return gelu
    if callable(activation) and not isinstance(activation, str):
        return activation
    raise ArgumentError(f'{caller}: activation must be "relu", "gelu" or a callable (a layer '
                        f"or function of a tensor), got {activation!r}")


class _TorchLayer(Module):
    """What PyTorch's encoder and decoder layers share: their arguments, sublayers and
    feed-forward block. The decoder adds ``multihead_attn``, ``norm3`` and ``dropout3``."""

    torch_name: str
    decoder = False

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = "relu", layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = np.float64, *, init: Any = "xavier",
                 rng: Any = None) -> None:
        super().__init__()
        name = self.torch_name
        d_model = whole_number(d_model, "d_model", name)
        self.dim_feedforward = whole_number(dim_feedforward, "dim_feedforward", name)
        self.norm_first = flag(norm_first, "norm_first", name)
        if not flag(bias, "bias", name):
            raise ArgumentError(f"{name}: bias=False is not supported (graphgrad's LayerNorm "
                                "always has its beta); leave bias=True")
        p = dropout_probability(dropout, name)
        generator = None if rng is None else initializers.generator(rng, name)
        attentions = ("self_attn", "multihead_attn") if self.decoder else ("self_attn",)
        for attention in attentions:
            setattr(self, attention, MultiheadAttention(
                d_model, nhead, p, batch_first=batch_first, device=device, dtype=dtype,
                init=init, rng=generator))
        self.linear1 = Linear(d_model, self.dim_feedforward, init="he", rng=generator,
                              dtype=dtype)
        self.dropout = dropout_layer(p, generator)
        self.linear2 = Linear(self.dim_feedforward, d_model, init="xavier", rng=generator,
                              dtype=dtype)
        for k in range(1, 4 if self.decoder else 3):
            setattr(self, f"norm{k}", LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype))
        for k in range(1, 4 if self.decoder else 3):
            setattr(self, f"dropout{k}", dropout_layer(p, generator))
        self.activation = _activation(activation, name)
        self.p = p

    @property
    def batch_first(self) -> bool:
        """PyTorch's: whether the sequences are (N, T, d_model), as the attention's."""
        return self.self_attn.batch_first

    def _kind(self) -> str:
        return (f"{self.torch_name}(d_model={self.self_attn.embed_dim}, "
                f"nhead={self.self_attn.num_heads})")

    def _checked(self, what: str, X: Any) -> Any:
        """src, tgt or memory in the layer's dtype, refused unless of rank 2 or 3."""
        if len(shape_of(X)) not in (2, 3):
            raise ShapeError(f"{self._label()} takes {what} (T, N, d_model) ((N, T, d_model) "
                             f"with batch_first), or one sequence (T, d_model); got "
                             f"{describe(X)}")
        return as_data_of(X, self.norm1.gamma.data.dtype, self)

    def _refuse_course_mask(self, mask: Any) -> None:
        """The course's keyword ``mask`` given to PyTorch's layer, which has none."""
        if mask is not None:
            course = ("TransformerDecoderLayer(d_model, num_heads, d_ff)" if self.decoder else
                      "TransformerEncoderLayer(d_model, num_heads, d_ff)")
            masks = "tgt_mask=, memory_mask=" if self.decoder else "src_mask="
            raise ArgumentError(
                f"{self._label()} is PyTorch's layer (made with PyTorch's keywords): its "
                f"masks are {masks} and the key padding masks, True where a key is hidden, "
                f"and its sequences (T, N, d_model) unless batch_first. "
                f"The course's layer, masks True where a query may attend, is nn.{course}")

    def _sa_block(self, x: Any, mask: Any, padding: Any, is_causal: bool) -> Tensor:
        y, _ = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=padding,
                              need_weights=False, is_causal=is_causal)
        return self.dropout1(y)

    def _ff_block(self, x: Any) -> Tensor:
        last = self.dropout3 if self.decoder else self.dropout2
        return last(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def load_torch_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy the torch layer's ``state_dict()`` in (see `load_torch_state_dict`)."""
        load_torch_state_dict(self, state_dict)

    def extra_repr(self) -> str:
        """``d_model=8, nhead=2, dim_feedforward=16, dropout=0.1`` (and batch_first,
        norm_first)."""
        return (f"d_model={self.self_attn.embed_dim}, nhead={self.self_attn.num_heads}, "
                f"dim_feedforward={self.dim_feedforward}, dropout={self.p:g}"
                + (", batch_first=True" if self.batch_first else "")
                + (", norm_first=True" if self.norm_first else ""))


class TorchTransformerEncoderLayer(_TorchLayer):
    """PyTorch's nn.TransformerEncoderLayer (``nn.TransformerEncoderLayer`` makes it when
    called with PyTorch's arguments: see the module's docstring)::

        norm_first=False:  x = norm1(x + sa(x));        x = norm2(x + ff(x))
        norm_first=True:   x = x + sa(norm1(x));        x = x + ff(norm2(x))
        sa(x) = dropout1(self_attn(x, x, x, masks)),  ff(x) = dropout2(linear2(dropout(
                activation(linear1(x)))))

    Args (PyTorch's): d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation="relu" ("gelu", or a callable), layer_norm_eps=1e-5, batch_first=False,
    norm_first=False, bias=True (False is not supported: LayerNorm here always has beta),
    device and dtype as `MultiheadAttention`'s; keyword only: init, rng, as its too.
    linear1 starts "he", linear2 "xavier" (PyTorch's start otherwise: load its weights to
    compare).

    Sublayers, PyTorch's names: ``self_attn`` (a `MultiheadAttention`), ``linear1``,
    ``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``.

    ``layer(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: src (T, N,
    d_model) (batch_first: (N, T, d_model)) -> the same shape; masks PyTorch's, as
    `MultiheadAttention`'s attn_mask and key_padding_mask (True: may not attend).
    """

    torch_name = "TransformerEncoderLayer"

    def forward(self, src: Any, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False, *, mask: Any = None) -> Tensor:
        """src (T, N, d_model), or (N, T, d_model) with batch_first -> the same shape.
        src_mask (T, T) or (N * nhead, T, T) and src_key_padding_mask (N, T): PyTorch's, as
        `MultiheadAttention`'s attn_mask and key_padding_mask; is_causal: with no src_mask,
        each position attends to itself and the earlier ones. (``mask``, the course's
        keyword, is refused, saying which layer is which.)"""
        self._refuse_course_mask(mask)
        x = self._checked("src", src)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x))
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x))


class TorchTransformerDecoderLayer(_TorchLayer):
    """PyTorch's nn.TransformerDecoderLayer (``nn.TransformerDecoderLayer`` makes it when
    called with PyTorch's arguments, as the encoder layer)::

        norm_first=False:  x = norm1(x + sa(x));  x = norm2(x + mha(x, memory));
                           x = norm3(x + ff(x))
        norm_first=True:   x = x + sa(norm1(x));  x = x + mha(norm2(x), memory);
                           x = x + ff(norm3(x))
        mha(x, m) = dropout2(multihead_attn(x, m, m, masks)),  ff's last dropout dropout3

    Args: as `TorchTransformerEncoderLayer`'s: d_model, nhead, dim_feedforward, dropout,
    activation, layer_norm_eps, batch_first, norm_first, bias, device, dtype, init, rng.
    Sublayers: ``self_attn``,
    ``multihead_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1`` ... ``norm3``,
    ``dropout1`` ... ``dropout3``.

    ``layer(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``: tgt
    (T, N, d_model) and memory (S, N, d_model) (batch_first: N first) -> tgt's shape. tgt_mask
    (T, T) and memory_mask (T, S) as attn_mask, the key padding masks (N, T) and (N, S).
    """

    torch_name = "TransformerDecoderLayer"
    decoder = True

    def forward(self, tgt: Any, memory: Any, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False, *,
                mask: Any = None) -> Tensor:
        """tgt (T, N, d_model) and memory (S, N, d_model), N first with batch_first -> tgt's
        shape. tgt_mask (T, T) and tgt_key_padding_mask (N, T) for the self-attention,
        memory_mask (T, S) and memory_key_padding_mask (N, S) for the attention to memory,
        as `MultiheadAttention`'s; tgt_is_causal and memory_is_causal: with no mask, each
        query attends to its position and the earlier ones. (``mask``, the course's
        keyword, is refused.)"""
        self._refuse_course_mask(mask)
        x, memory = self._checked("tgt", tgt), self._checked("memory", memory)

        def cross(y: Any) -> Tensor:
            out, _ = self.multihead_attn(y, memory, memory, attn_mask=memory_mask,
                                         key_padding_mask=memory_key_padding_mask,
                                         need_weights=False, is_causal=memory_is_causal)
            return self.dropout2(out)

        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal)
            x = x + cross(self.norm2(x))
            return x + self._ff_block(self.norm3(x))
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + cross(x))
        return self.norm3(x + self._ff_block(x))


class _TorchStack(Module):
    """What PyTorch's encoder and decoder share: ``num_layers`` deep copies of one layer
    (``layers``, a `ModuleList`), each starting with its weights, then ``norm`` if given."""

    layer_type: type[_TorchLayer]

    def __init__(self, layer: Module, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        name = self.layer_type.torch_name.replace("Layer", "")
        if not isinstance(layer, self.layer_type):
            course = ("nn.TransformerEncoder(num_layers, d_model, num_heads, d_ff, vocab_size, "
                      "max_positions)" if name.endswith("Encoder") else
                      "nn.TransformerDecoder(num_layers, d_model, num_heads, d_ff, "
                      "vocab_size, max_positions)")
            got = type(layer).__name__
            layer_name = self.layer_type.torch_name
            if got == layer_name:  # the course's layer, made without PyTorch's keywords
                d_model, heads = layer.self_attention.d_model, layer.self_attention.num_heads
                got = (f"the course's {got}({layer.extra_repr()}), which "
                       f"nn.{layer_name}(d_model, nhead, dim_feedforward, dropout) makes "
                       "without PyTorch's keywords (batch-first, masks True where a query "
                       "may attend); name one to make PyTorch's, as in "
                       f"nn.{layer_name}({d_model}, {heads}, {layer.d_ff}, "
                       f"{layer.dropout:g}, batch_first=False)")
            raise GraphgradTypeError(
                f"{name}(layer, num_layers) takes PyTorch's layer, "
                f"nn.{layer_name}(d_model, nhead, ...); got {got}. The course's stack is "
                f"{course}")
        self.num_layers = whole_number(num_layers, "num_layers", name)
        self.layers = ModuleList(copy.deepcopy(layer) for _ in range(self.num_layers))
        self.norm = norm

    def load_torch_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy the torch module's ``state_dict()`` in (see `load_torch_state_dict`)."""
        load_torch_state_dict(self, state_dict)


class TorchTransformerEncoder(_TorchStack):
    """PyTorch's nn.TransformerEncoder (``nn.TransformerEncoder(layer, num_layers)`` makes
    it): ``num_layers`` deep copies of ``encoder_layer``, then ``norm`` if one is given.

    ``encoder(src, mask=None, src_key_padding_mask=None, is_causal=None)``: src as the
    layer's, masks PyTorch's (True: may not attend), passed to every layer as src_mask and
    src_key_padding_mask -> the same shape as src. enable_nested_tensor and mask_check are
    accepted and change nothing (they choose PyTorch's fast paths).
    """

    layer_type = TorchTransformerEncoderLayer

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__(encoder_layer, num_layers, norm)

    def forward(self, src: Any, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        """src (T, N, d_model), or (N, T, d_model) with the layer's batch_first -> the same
        shape, through every layer and ``norm``; mask, src_key_padding_mask and is_causal
        are each layer's src_mask, src_key_padding_mask and is_causal."""
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                           is_causal=bool(is_causal))
        return output if self.norm is None else self.norm(output)


class TorchTransformerDecoder(_TorchStack):
    """PyTorch's nn.TransformerDecoder (``nn.TransformerDecoder(layer, num_layers)`` makes
    it): ``num_layers`` deep copies of ``decoder_layer``, each attending to ``memory``, then
    ``norm`` if one is given.

    ``decoder(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``: as the
    layer's, every layer given the same masks -> tgt's shape.
    """

    layer_type = TorchTransformerDecoderLayer

    def __init__(self, decoder_layer: Module, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__(decoder_layer, num_layers, norm)

    def forward(self, tgt: Any, memory: Any, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """tgt (T, N, d_model) and memory (S, N, d_model), N first with batch_first ->
        tgt's shape, through every layer and ``norm``; tgt_mask, memory_mask,
        tgt_key_padding_mask, memory_key_padding_mask, tgt_is_causal and memory_is_causal
        are given to every layer (see `TorchTransformerDecoderLayer.forward`)."""
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                           memory_key_padding_mask, bool(tgt_is_causal), memory_is_causal)
        return output if self.norm is None else self.norm(output)


class TorchTransformer(Module):
    """PyTorch's nn.Transformer (``nn.Transformer`` makes it when called as PyTorch's: see
    the module's docstring): a `TorchTransformerEncoder` of ``num_encoder_layers`` and a
    `TorchTransformerDecoder` of ``num_decoder_layers``, each ending with a LayerNorm
    (``encoder.norm``, ``decoder.norm``). No embeddings and no output layer: PyTorch's model
    takes sequences of vectors, as these do.

    Args (PyTorch's): d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
    dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
    custom_decoder=None (modules used in place of the encoder and decoder, as PyTorch's),
    layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, device, dtype (as
    `MultiheadAttention`'s); keyword only: rng. Every weight of two or more axes then
    starts Glorot's (PyTorch's xavier_uniform_, drawn from a normal here), so the layers
    differ.

    ``model(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)``: src (S, N, d_model)
    and tgt (T, N, d_model) (batch_first: N first) -> (T, N, d_model); masks PyTorch's
    (``generate_square_subsequent_mask(T)`` for tgt_mask).
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: Any = "relu", custom_encoder: Any = None,
                 custom_decoder: Any = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = np.float64, *, rng: Any = None) -> None:
        super().__init__()
        name = "Transformer"
        generator = initializers.generator(rng, name)
        settings = dict(dim_feedforward=dim_feedforward, dropout=dropout,
                        activation=activation, layer_norm_eps=layer_norm_eps,
                        batch_first=batch_first, norm_first=norm_first, bias=bias,
                        device=device, dtype=dtype, rng=None if rng is None else generator)
        if custom_encoder is None:
            custom_encoder = TorchTransformerEncoder(
                TorchTransformerEncoderLayer(d_model, nhead, **settings), num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype))
        if custom_decoder is None:
            custom_decoder = TorchTransformerDecoder(
                TorchTransformerDecoderLayer(d_model, nhead, **settings), num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype))
        self.encoder, self.decoder = custom_encoder, custom_decoder
        self.d_model = whole_number(d_model, "d_model", name)
        self.nhead = whole_number(nhead, "nhead", name)
        self.batch_first = flag(batch_first, "batch_first", name)
        for parameter in self.parameters():  # as PyTorch's _reset_parameters
            if parameter.ndim > 1:
                parameter.data = initializers.initialize("glorot", parameter.shape, generator,
                                                         parameter.data.dtype, caller=name)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None,
                                        dtype: Any = np.float64) -> np.ndarray:
        """PyTorch's causal mask for tgt_mask: (sz, sz) floats of ``dtype``, -inf above the
        diagonal (query t may not attend to a later key) and 0 on and below it. device is
        accepted and changes nothing (the CPU's)."""
        sz = whole_number(sz, "sz", "Transformer.generate_square_subsequent_mask")
        return np.triu(np.full((sz, sz), -np.inf, dtype=dtype), 1)

    def forward(self, src: Any, tgt: Any, src_mask: Any = None, tgt_mask: Any = None,
                memory_mask: Any = None, src_key_padding_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """src (S, N, d_model) and tgt (T, N, d_model), N first with batch_first ->
        (T, N, d_model): the encoder's output is the decoder's memory. src_mask,
        src_key_padding_mask and src_is_causal go to the encoder (its mask,
        src_key_padding_mask, is_causal); tgt_mask, memory_mask, tgt_key_padding_mask,
        memory_key_padding_mask, tgt_is_causal and memory_is_causal to the decoder."""
        axis = 0 if self.batch_first else 1
        s, t = shape_of(src), shape_of(tgt)
        if len(s) == 3 and len(t) == 3 and s[axis] != t[axis]:
            raise ShapeError(f"{self._label()}: src {describe(src)} and tgt {describe(tgt)} "
                             f"must hold as many sequences (axis {axis}, "
                             f"batch_first={self.batch_first})")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    def load_torch_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy a torch nn.Transformer's ``state_dict()`` in (see `load_torch_state_dict`)."""
        load_torch_state_dict(self, state_dict)

    def extra_repr(self) -> str:
        """``d_model=8, nhead=2`` (and batch_first)."""
        return (f"d_model={self.d_model}, nhead={self.nhead}"
                + (", batch_first=True" if self.batch_first else ""))


# PyTorch's names of a Linear's and a LayerNorm's parameters, as graphgrad's
_TORCH_NAMES = {Linear: {"weight": "W", "bias": "b"}, LayerNorm: {"weight": "gamma",
                                                                   "bias": "beta"}}


def load_torch_state_dict(module: Module, state_dict: Mapping[str, Any]) -> None:
    """Copy the weights of a torch nn.MultiheadAttention, nn.TransformerEncoderLayer or
    nn.TransformerEncoder (its ``state_dict()``) into ``module``, this module's layer of the
    same settings. Keys are PyTorch's; ``weight``/``bias`` of a Linear or LayerNorm are read
    as its ``W``/``b`` or ``gamma``/``beta``, the rest (in_proj_weight, in_proj_bias) by
    name. Values may be torch tensors or arrays, copied in the module's dtype.

    Everything is checked before anything is copied: a missing or unexpected key or a wrong
    shape raises `StateDictError` naming it."""
    from graphgrad.nn.recurrent_torch import _torch_array

    label = f"{type(module).__name__}.load_torch_state_dict"
    if not isinstance(state_dict, Mapping):
        raise ArgumentError(f"{label} takes a torch module's state_dict(), a mapping of names "
                            f"to tensors, got {type(state_dict).__name__}")
    ours = {}  # PyTorch's key -> our parameter
    for name, parameter in module.named_parameters():
        owner, _, attr = name.rpartition(".")
        layer = module.get_submodule(owner) if owner else module
        names = {mine: theirs for theirs, mine in _TORCH_NAMES.get(type(layer), {}).items()}
        ours[f"{owner}.{names.get(attr, attr)}" if owner else names.get(attr, attr)] = parameter
    missing = [k for k in ours if k not in state_dict]
    unexpected = sorted(str(k) for k in state_dict if k not in ours)
    if missing or unexpected:
        raise StateDictError(
            f"{label}: missing keys {missing}, unexpected keys {unexpected}; the modules must "
            "match (num_layers, bias, kdim/vdim; a norm given to TransformerEncoder in both)")
    arrays = {}
    for key, parameter in ours.items():
        array = _torch_array(state_dict[key], key, label)
        if array.shape != parameter.shape:
            raise StateDictError(f"{label}: {key} must have shape {parameter.shape}, got "
                                 f"{array.shape}")
        arrays[key] = array
    for key, parameter in ours.items():
        # A new array, as load_state_dict gives: a graph alive keeps the values it used.
        parameter.data = np.array(arrays[key], dtype=parameter.data.dtype)
