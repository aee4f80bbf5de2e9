"""The course's Transformer (Sequence Models, week 4), built from the blocks of
`nn.attention`: the encoder and decoder layers, the encoder and decoder with their word
embeddings and positional encodings, and the whole model.

| course (TensorFlow) | graphgrad |
|---|---|
| EncoderLayer, DecoderLayer | TransformerEncoderLayer, TransformerDecoderLayer |
| Encoder, Decoder, Transformer | TransformerEncoder, TransformerDecoder, Transformer |
| embedding_dim, fully_connected_dim | d_model, d_ff |
| dropout_rate, layernorm_eps | dropout, eps |
| input_vocab_size, target_vocab_size | the same (vocab_size for an encoder or decoder) |
| maximum_position_encoding | max_positions |
| max_positional_encoding_input, _target | max_input_positions, max_target_positions |
| enc_output | memory (the encoder's output, as PyTorch calls it) |
| enc_padding_mask, look_ahead_mask, dec_padding_mask | input_mask, target_mask, memory_mask |
| the training argument of call | model.train() / model.eval() |

Dropout, with one probability: on the attention weights (the course passes its dropout_rate
to Keras's MultiHeadAttention, PyTorch's layers to theirs), on each sublayer's output before
it is added to its input (the paper's; the course's layers drop the feed-forward output
only), and on the embeddings plus positions (the paper's and the course's). PyTorch's layers
also drop inside the feed-forward network, after the ReLU; these do not. The model
returns logits; the course's final Dense layer applies the softmax, which here is in
`nn.cross_entropy` (``gg.softmax(logits, axis=-1)`` gives the course's output).
PyTorch's nn.TransformerEncoder, nn.TransformerDecoder and nn.Transformer hold the layers
only; these hold the embeddings and positions too, as the course's classes do. Their masks
are the course's, True/1 where a query may attend: PyTorch's boolean masks (True hides a key)
are passed as ``~mask``.
PyTorch's own layers are in `nn.transformer_torch`: ``TransformerEncoderLayer`` (and
``TransformerDecoderLayer``) called as PyTorch's (any of nhead, dim_feedforward, activation,
layer_norm_eps, batch_first, norm_first, bias as keywords, or an activation fifth)
makes `TorchTransformerEncoderLayer` (`TorchTransformerDecoderLayer`), and
``TransformerEncoder`` (``TransformerDecoder``) given a layer first makes
`TorchTransformerEncoder` (`TorchTransformerDecoder`): PyTorch's layout, masks, norm_first
and weights' names. ``TransformerEncoderLayer(8, 2, 16)`` alone is this module's layer;
``TransformerEncoderLayer(8, 2)``, which could be either, is refused.
Depends on `nn.attention`, `nn.embedding`, `nn.layers`, `nn.normalization`,
`nn.activations`, `nn.containers`, `nn.module`, `nn.init`, `nn.transformer_torch`, `errors`.
"""
from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    ShapeError,
    describe,
    require_shape,
    shape_of,
    whole_number,
)
from graphgrad.nn import init as initializers
from graphgrad.nn.activations import ReLU
from graphgrad.nn.attention import (
    MultiHeadAttention,
    dropout_layer,
    dropout_probability,
    look_ahead_mask,
    padding_mask,
    positional_encoding,
)
from graphgrad.nn.containers import ModuleList, Sequential
from graphgrad.nn.embedding import Embedding
from graphgrad.nn.layers import Linear
from graphgrad.nn.module import Module, as_data_of
from graphgrad.nn.normalization import LayerNorm
from graphgrad.nn.transformer_torch import (
    TORCH_LAYER_KEYWORDS,
    TorchTransformer,
    TorchTransformerDecoder,
    TorchTransformerDecoderLayer,
    TorchTransformerEncoder,
    TorchTransformerEncoderLayer,
)
from graphgrad.tensor import Tensor

# The course's Transformer's sizes, all required; and the keywords only PyTorch's takes
_COURSE_TRANSFORMER_SIZES = ("num_layers", "d_model", "num_heads", "d_ff", "input_vocab_size",
                             "target_vocab_size", "max_input_positions", "max_target_positions")
_TORCH_TRANSFORMER_KEYWORDS = TORCH_LAYER_KEYWORDS | {
    "num_encoder_layers", "num_decoder_layers", "custom_encoder", "custom_decoder"}


class _InitSignature:
    """A class's signature as its ``__init__``'s, for help() and inspect.signature: its
    ``__new__`` (``*args, **kwargs``) only routes PyTorch's calls to PyTorch's class. None
    on an instance, whose signature is its call's."""

    def __get__(self, instance: Any, owner: type) -> inspect.Signature | None:
        if instance is not None:
            return None
        signature = inspect.signature(owner.__init__)
        return signature.replace(parameters=list(signature.parameters.values())[1:])


def _torch_layer_call(args: tuple[Any, ...], kwargs: dict[str, Any], layer: str) -> bool:
    """Whether ``TransformerEncoderLayer(*args, **kwargs)`` (or the decoder layer's, named
    ``layer``) is PyTorch's call: a keyword only PyTorch's layer takes, or an activation (a
    string or callable) where the course has eps. A call without d_ff and without those
    could be either (the course's d_ff forgotten, or PyTorch's dim_feedforward left at its
    default), and the two read their input in other layouts, so it is refused."""
    if TORCH_LAYER_KEYWORDS & set(kwargs):
        return True
    if len(args) >= 5 and (isinstance(args[4], str) or callable(args[4])):
        return True
    if len(args) < 3 and "d_ff" not in kwargs:
        raise ArgumentError(
            f"{layer}{_call_text(args, kwargs)} has no d_ff: the course's layer is "
            f"{layer}(d_model, num_heads, d_ff) (input (m, T, d_model)); PyTorch's is made by "
            f"naming one of its keywords, {layer}(d_model, nhead=..., batch_first=...) "
            "(input (T, m, d_model) unless batch_first=True).")
    return False


def _call_text(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """``(8, 2, dropout=0.1)``: a call's arguments as written, for a message."""
    return "(" + ", ".join([repr(a) for a in args]
                           + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"


def _feed_forward(d_model: int, d_ff: int, rng: np.random.Generator | None,
                  dtype: Any) -> Sequential:
    """The position-wise network of every layer: d_model -> d_ff, ReLU, d_ff -> d_model."""
    return Sequential(Linear(d_model, d_ff, init="he", rng=rng, dtype=dtype), ReLU(),
                      Linear(d_ff, d_model, init="xavier", rng=rng, dtype=dtype))


class _Layer(Module):
    """What the encoder and decoder layers share: their settings, label and repr, and the
    call as PyTorch's that makes PyTorch's layer (``torch_layer``)."""

    __signature__ = _InitSignature()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # PyTorch's call makes PyTorch's layer (nn.transformer_torch's docstring says when);
        # with no arguments (a copy or unpickling) this class's. Only the course's classes
        # themselves route, not classes made from them.
        torch_layer = cls.__dict__.get("torch_layer")
        if torch_layer is not None and (args or kwargs) and _torch_layer_call(
                args, kwargs, cls.__name__):
            return torch_layer(*args, **kwargs)
        return super().__new__(cls)

    def _settings(self, d_ff: int, dropout: float, rng: Any) -> np.random.Generator | None:
        """Check and keep d_ff and dropout; return the generator of a seed ``rng``, which
        gives the weights and the dropout masks, or None: without a seed both come from the
        generator nn.init.seed resets (the masks looked up at each call)."""
        caller = type(self).__name__
        self.d_ff = whole_number(d_ff, "d_ff", caller)
        self.dropout = dropout_probability(dropout, caller)
        return None if rng is None else initializers.generator(rng, caller)

    def _kind(self) -> str:
        attention = self.self_attention
        return (f"{type(self).__name__}(d_model={attention.d_model}, "
                f"num_heads={attention.num_heads})")

    def extra_repr(self) -> str:
        """``d_model=8, num_heads=2, d_ff=16, dropout=0.1``, for the repr."""
        attention = self.self_attention
        return (f"d_model={attention.d_model}, num_heads={attention.num_heads}, "
                f"d_ff={self.d_ff}, dropout={self.dropout:g}")


class TransformerEncoderLayer(_Layer):
    """One encoder layer of the Transformer, the course's EncoderLayer::

        A = LayerNorm(X + Dropout(MultiHeadAttention(X, X, X, mask)))     (self-attention)
        Y = LayerNorm(A + Dropout(Linear(ReLU(Linear(A)))))               (feed-forward)

    The feed-forward network (``ffn``: d_model -> d_ff, ReLU, d_ff -> d_model) acts on each
    position alone; only the attention mixes positions.

    Args:
        d_model: features per position (the course's embedding_dim).
        num_heads: attention heads; d_model must divide by it.
        d_ff: hidden units of the feed-forward network (the course's fully_connected_dim).
        dropout: the probability of dropping a unit, the course's dropout_rate and PyTorch's
            p, used on the attention weights and on both sublayers' outputs. graphgrad's
            `Dropout` takes the probability of keeping one, so the dropout layers have
            keep_prob = 1 - dropout; 0 turns them off.
        eps: the layer norms' eps; 1e-6 is the course's layernorm_eps.
        rng: a seed or np.random.Generator for the weights and the dropout masks (default:
            the generator `nn.init.seed` resets).
        dtype: np.float64 (default) or np.float32.

    Sublayers: ``self_attention`` (a `MultiHeadAttention`: query, key, value, out, and its
    attention_dropout), ``dropout1``, ``norm1``, ``ffn`` (linear1 with init="he", relu1,
    linear2 with init="xavier"), ``dropout2``, ``norm2``. Dropout only in training mode.

    Shapes: ``forward(X, mask=None)``: X (m, T_x, d_model) -> (m, T_x, d_model); mask as for
    `MultiHeadAttention` (``padding_mask(tokens)``).
    """

    torch_layer = TorchTransformerEncoderLayer

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1,
                 eps: float = 1e-6, rng: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        seeded = self._settings(d_ff, dropout, rng)
        self.self_attention = MultiHeadAttention(d_model, num_heads, self.dropout, rng=seeded,
                                                 dtype=dtype)
        self.dropout1 = dropout_layer(self.dropout, seeded)
        self.norm1 = LayerNorm(d_model, eps=eps, dtype=dtype)
        self.ffn = _feed_forward(d_model, self.d_ff, seeded, dtype)
        self.dropout2 = dropout_layer(self.dropout, seeded)
        self.norm2 = LayerNorm(d_model, eps=eps, dtype=dtype)

    def forward(self, X: Any, mask: Any = None) -> Tensor:
        """Self-attention, then the feed-forward network.
        X (m, T_x, d_model) -> (m, T_x, d_model).

        mask: which positions each position may attend to, booleans (or 0/1) broadcastable
        to (m, h, T_x, T_x), True/1 where it may (as for `MultiHeadAttention`):
        ``padding_mask(tokens)``, (m, 1, 1, T_x), hides the padding. None, the default,
        lets every position attend to every other."""
        require_shape(self._label(), "X", X, ("m", "T_x", self.self_attention.d_model))
        # X + attention keeps the layer's dtype
        X = as_data_of(X, self.norm1.gamma.data.dtype, self)
        attention = self.self_attention(X, X, X, mask=mask)
        A = self.norm1(X + self.dropout1(attention))
        return self.norm2(A + self.dropout2(self.ffn(A)))


class TransformerDecoderLayer(_Layer):
    """One decoder layer of the Transformer, the course's DecoderLayer::

        A1 = LayerNorm(X + Dropout(MultiHeadAttention(X, X, X, mask)))               (masked)
        A2 = LayerNorm(A1 + Dropout(MultiHeadAttention(A1, memory, memory, memory_mask)))
        Y  = LayerNorm(A2 + Dropout(Linear(ReLU(Linear(A2)))))                       (feed-forward)

    The first attention is over the target sequence so far: with the look-ahead mask, position
    t sees positions 1..t only. The second takes its queries from that and its keys and values
    from ``memory``, the encoder's output: each target position looks at the input sentence.

    Args: as `TransformerEncoderLayer`'s (d_model, num_heads, d_ff, dropout, eps, rng, dtype).

    Sublayers: ``self_attention`` (the course's mha1), ``dropout1``, ``norm1`` (layernorm1),
    ``cross_attention`` (mha2), ``dropout2``, ``norm2`` (layernorm2), ``ffn``, ``dropout3``
    (dropout_ffn), ``norm3`` (layernorm3); dropout1 and dropout2 are the paper's.

    Shapes: ``forward(X, memory, mask=None, memory_mask=None, return_weights=False)``:
    X (m, T_y, d_model) and memory (m, T_x, d_model) -> Y (m, T_y, d_model). ``mask`` is the
    course's look_ahead_mask over (m, h, T_y, T_y) (``look_ahead_mask(T_y)``, with
    ``& padding_mask(targets)`` for padded targets); ``memory_mask`` is its padding_mask over
    (m, h, T_y, T_x) (``padding_mask(inputs)``). With ``return_weights=True``: ``(Y,
    self_weights, cross_weights)``, weights (m, h, T_y, T_y) and (m, h, T_y, T_x), the
    course's attn_weights_block1 and attn_weights_block2.
    """

    torch_layer = TorchTransformerDecoderLayer

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1,
                 eps: float = 1e-6, rng: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        seeded = self._settings(d_ff, dropout, rng)
        self.self_attention = MultiHeadAttention(d_model, num_heads, self.dropout, rng=seeded,
                                                 dtype=dtype)
        self.dropout1 = dropout_layer(self.dropout, seeded)
        self.norm1 = LayerNorm(d_model, eps=eps, dtype=dtype)
        self.cross_attention = MultiHeadAttention(d_model, num_heads, self.dropout, rng=seeded,
                                                  dtype=dtype)
        self.dropout2 = dropout_layer(self.dropout, seeded)
        self.norm2 = LayerNorm(d_model, eps=eps, dtype=dtype)
        self.ffn = _feed_forward(d_model, self.d_ff, seeded, dtype)
        self.dropout3 = dropout_layer(self.dropout, seeded)
        self.norm3 = LayerNorm(d_model, eps=eps, dtype=dtype)

    def forward(self, X: Any, memory: Any, mask: Any = None, memory_mask: Any = None,
                return_weights: bool = False) -> Tensor | tuple[Tensor, Tensor, Tensor]:
        """Masked self-attention, attention to ``memory``, the feed-forward network.
        X (m, T_y, d_model), memory (m, T_x, d_model) -> Y (m, T_y, d_model), and the two
        attentions' weights with ``return_weights=True``.

        Masks are booleans (or 0/1), True/1 where a query may attend (as for
        `MultiHeadAttention`); None, the default, hides nothing.
        mask: the self-attention's, broadcastable to (m, h, T_y, T_y): ``look_ahead_mask(T_y)``
        lets position t see positions 1..t only (``& padding_mask(targets)`` also hides
        padded targets). Without it each position sees the words after it too.
        memory_mask: the attention to memory's, broadcastable to (m, h, T_y, T_x):
        ``padding_mask(inputs)`` hides the input sentence's padding."""
        d_model = self.self_attention.d_model
        require_shape(self._label(), "X", X, ("m", "T_y", d_model))
        require_shape(self._label(), "memory", memory, (shape_of(X)[0], "T_x", d_model),
                      " (memory is the encoder's output, one row of d_model per input word)")
        dtype = self.norm1.gamma.data.dtype
        X, memory = as_data_of(X, dtype, self), as_data_of(memory, dtype, self)
        attention, self_weights = self.self_attention(X, X, X, mask=mask, return_weights=True)
        A1 = self.norm1(X + self.dropout1(attention))
        attention, cross_weights = self.cross_attention(A1, memory, memory, mask=memory_mask,
                                                        return_weights=True)
        A2 = self.norm2(A1 + self.dropout2(attention))
        Y = self.norm3(A2 + self.dropout3(self.ffn(A2)))
        return (Y, self_weights, cross_weights) if return_weights else Y



class _Stack(Module):
    """What the encoder and the decoder share: their sizes, their ``layers`` (``num_layers``
    of ``layer_type``), and the course's input to the first layer,
    Dropout(Embedding(tokens) * sqrt(d_model) + PE[:T])."""

    layer_type: type[Module]
    torch_stack_layer = ""  # the keyword PyTorch's stack takes its layer by

    __signature__ = _InitSignature()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # PyTorch's TransformerEncoder(encoder_layer, num_layers, norm=None), given a layer:
        # PyTorch's stack (``torch_stack``); only the course's classes themselves route.
        torch_stack = cls.__dict__.get("torch_stack")
        layer = args[0] if args else kwargs.get(cls.torch_stack_layer)
        if torch_stack is not None and isinstance(layer, Module):
            return torch_stack(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int,
                 vocab_size: int, max_positions: int, dropout: float = 0.1, eps: float = 1e-6,
                 rng: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        caller = type(self).__name__
        num_layers = whole_number(num_layers, "num_layers", caller)
        self.d_model = whole_number(d_model, "d_model", caller)
        self.max_positions = whole_number(max_positions, "max_positions", caller)
        self.dropout = dropout_probability(dropout, caller)
        seeded = None if rng is None else initializers.generator(rng, caller)  # as the layers'
        self.embedding = Embedding(vocab_size, self.d_model, rng=seeded, dtype=dtype)
        self.embedding_dropout = dropout_layer(self.dropout, seeded)
        # A constant, not a parameter: recomputed from the sizes, never trained or saved.
        self.positions = positional_encoding(self.max_positions, self.d_model, dtype)
        self.layers = ModuleList(
            self.layer_type(d_model, num_heads, d_ff, dropout, eps, rng=seeded, dtype=dtype)
            for _ in range(num_layers))

    def _convert_constants(self, dtype: np.dtype) -> None:
        self.positions = self.positions.astype(dtype)

    def _embed(self, tokens: Any) -> Tensor:
        """tokens (m, T) -> (m, T, d_model): the scaled embeddings plus positions, dropped."""
        caller = type(self).__name__
        require_shape(caller, "tokens", tokens, ("m", "T"),
                      " (word indices, one sentence per row)")
        T = shape_of(tokens)[1]
        if T == 0:
            raise ShapeError(f"{caller} got sentences of no tokens ({describe(tokens)})")
        if T > self.max_positions:
            raise ShapeError(
                f"{caller} got sentences of {T} tokens but has positional encodings for "
                f"{self.max_positions} (its max_positions; a Transformer's max_input_positions "
                f"or max_target_positions): make it for {T} positions or more, or cut the "
                "sentences"
            )
        X = self.embedding(tokens) * math.sqrt(self.d_model) + self.positions[:T]
        return self.embedding_dropout(X)

    def extra_repr(self) -> str:
        """``2 layers, d_model=8, num_heads=2, vocab_size=10, max_positions=20, dropout=0.1``,
        for the repr."""
        first = self.layers[0].self_attention
        return (f"{len(self.layers)} layers, d_model={self.d_model}, "
                f"num_heads={first.num_heads}, vocab_size={self.embedding.n_vocab}, "
                f"max_positions={self.max_positions}, dropout={self.dropout:g}")


class TransformerEncoder(_Stack):
    """The course's Encoder: word embeddings scaled by sqrt(d_model), plus positional
    encodings, dropout, then ``num_layers`` `TransformerEncoderLayer` s::

        X = Dropout(Embedding(tokens) * sqrt(d_model) + PE[:T_x]);  X = layer(X, mask) ...

    Args:
        num_layers: encoder layers.
        d_model, num_heads, d_ff, dropout, eps: each layer's (see `TransformerEncoderLayer`);
            dropout is also used on the embeddings plus positions.
        vocab_size: words of the input vocabulary (the course's input_vocab_size).
        max_positions: the longest sentence, in tokens (maximum_position_encoding).
        rng, dtype: as the layers'.

    Sublayers: ``embedding`` (`Embedding`), ``embedding_dropout``, ``layers`` (a `ModuleList`).

    Shapes: ``forward(tokens, mask=None)``: word indices (m, T_x), T_x <= max_positions ->
    (m, T_x, d_model); mask as for the layers (``padding_mask(tokens)``).
    """

    layer_type = TransformerEncoderLayer
    torch_stack = TorchTransformerEncoder
    torch_stack_layer = "encoder_layer"

    def forward(self, tokens: Any, mask: Any = None) -> Tensor:
        """tokens, word indices (m, T_x) with T_x <= max_positions -> (m, T_x, d_model),
        through the embeddings and the layers. mask: each layer's (see
        `TransformerEncoderLayer.forward`), ``padding_mask(tokens)`` to hide the padding;
        None, the default, hides nothing."""
        X = self._embed(tokens)
        for layer in self.layers:
            X = layer(X, mask=mask)
        return X


class TransformerDecoder(_Stack):
    """The course's Decoder: the target words so far embedded as the encoder embeds its
    input, then ``num_layers`` `TransformerDecoderLayer` s, each attending to ``memory``.

    Args:
        num_layers: decoder layers.
        d_model, num_heads, d_ff, dropout, eps: each layer's (see `TransformerDecoderLayer`);
            dropout is also used on the embeddings plus positions.
        vocab_size: words of the target vocabulary (the course's target_vocab_size).
        max_positions: the longest target sentence, in tokens (maximum_position_encoding).
        rng: a seed or np.random.Generator for the embeddings, the layers' weights and every
            dropout mask (default: the generator `nn.init.seed` resets).
        dtype: np.float64 (default) or np.float32.

    Sublayers: ``embedding``, ``embedding_dropout``, ``layers`` (a `ModuleList`).

    Shapes: ``forward(tokens, memory, mask=None, memory_mask=None, return_weights=False)``:
    word indices (m, T_y) and the encoder's output (m, T_x, d_model) -> (m, T_y, d_model);
    masks as for the layers. With ``return_weights=True``: ``(Y, weights)``, weights a dict
    by the course's names: ``"decoder_layer1_block1_self_att"`` (m, h, T_y, T_y),
    ``"decoder_layer1_block2_decenc_att"`` (m, h, T_y, T_x), and so on for each layer.
    """

    layer_type = TransformerDecoderLayer
    torch_stack = TorchTransformerDecoder
    torch_stack_layer = "decoder_layer"

    def forward(self, tokens: Any, memory: Any, mask: Any = None, memory_mask: Any = None,
                return_weights: bool = False) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        """tokens, the target word indices so far (m, T_y) with T_y <= max_positions, and
        memory, the encoder's output (m, T_x, d_model) -> (m, T_y, d_model), and the layers'
        attention weights by name with ``return_weights=True``.

        mask and memory_mask: each layer's (see `TransformerDecoderLayer.forward`), the
        look-ahead mask over (m, h, T_y, T_y) and the inputs' padding mask over
        (m, h, T_y, T_x); None, their default, hides nothing."""
        Y = self._embed(tokens)
        weights = {}
        for i, layer in enumerate(self.layers, start=1):
            Y, block1, block2 = layer(Y, memory, mask, memory_mask, return_weights=True)
            weights[f"decoder_layer{i}_block1_self_att"] = block1
            weights[f"decoder_layer{i}_block2_decenc_att"] = block2
        return (Y, weights) if return_weights else Y


class _DefaultsArePyTorchs(type):
    """`Transformer`'s metaclass: ``nn.Transformer()``, a call with no arguments, is
    PyTorch's default model (the course's has no defaults for its eight sizes). Only a call
    comes here; a copy or unpickling makes the class's instance through ``__new__``."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is Transformer and not args and not kwargs:
            return TorchTransformer()
        return super().__call__(*args, **kwargs)


class Transformer(Module, metaclass=_DefaultsArePyTorchs):
    """The course's Transformer: an encoder reads the input sentence, a decoder reads the
    target sentence so far and attends to the encoder's output, and a last `Linear` scores
    every word of the target vocabulary at each target position.

    Args:
        num_layers: layers of the encoder, and of the decoder.
        d_model, num_heads, d_ff, dropout, eps, rng, dtype: as `TransformerEncoderLayer`'s.
        input_vocab_size, target_vocab_size: words of each vocabulary.
        max_input_positions, max_target_positions: the longest input and target sentences
            (the course's max_positional_encoding_input and _target).

    Sublayers: ``encoder`` (`TransformerEncoder`), ``decoder`` (`TransformerDecoder`),
    ``final_layer`` (`Linear(d_model, target_vocab_size)`).

    Shapes: ``forward(inputs, targets, input_mask=None, target_mask=None, memory_mask=None,
    return_weights=False)``: inputs (m, T_x) and targets (m, T_y) word indices -> logits
    (m, T_y, target_vocab_size), row t scoring the word after targets[:, :t + 1] (train with
    the targets shifted: ``nn.cross_entropy(logits, next_words)``). `Transformer.masks`
    makes the three masks as the course does. With ``return_weights=True``: ``(logits,
    weights)``, the decoder's weights by name (see `TransformerDecoder`).
    """

    def __init__(self, num_layers: int, d_model: int, num_heads: int, d_ff: int,
                 input_vocab_size: int, target_vocab_size: int, max_input_positions: int,
                 max_target_positions: int, dropout: float = 0.1, eps: float = 1e-6,
                 rng: Any = None, dtype: Any = np.float64) -> None:
        super().__init__()
        seeded = None if rng is None else initializers.generator(rng, "Transformer")
        self.encoder = TransformerEncoder(num_layers, d_model, num_heads, d_ff,
                                          input_vocab_size, max_input_positions, dropout, eps,
                                          rng=seeded, dtype=dtype)
        self.decoder = TransformerDecoder(num_layers, d_model, num_heads, d_ff,
                                          target_vocab_size, max_target_positions, dropout, eps,
                                          rng=seeded, dtype=dtype)
        self.final_layer = Linear(d_model, target_vocab_size, init="xavier", rng=seeded,
                                  dtype=dtype)

    __signature__ = _InitSignature()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # PyTorch's call (its keywords) makes PyTorch's model; with no arguments (a copy or
        # unpickling: a call with none is PyTorch's, routed by the metaclass) this class's.
        # Fewer than the course's eight sizes without PyTorch's keywords could be either, so
        # they are refused.
        if cls is Transformer and (args or kwargs):
            if _TORCH_TRANSFORMER_KEYWORDS & set(kwargs):
                return TorchTransformer(*args, **kwargs)
            given = len(args) + sum(k in kwargs for k in _COURSE_TRANSFORMER_SIZES[len(args):])
            if given < len(_COURSE_TRANSFORMER_SIZES):
                raise ArgumentError(
                    f"Transformer{_call_text(args, kwargs)} gives {given} of the course's "
                    f"eight sizes: the course's model is Transformer("
                    f"{', '.join(_COURSE_TRANSFORMER_SIZES)}); PyTorch's is made by naming "
                    "its keywords, Transformer(d_model=512, nhead=8, ...).")
        return super().__new__(cls)

    # PyTorch code calls it on the class: nn.Transformer.generate_square_subsequent_mask(T)
    generate_square_subsequent_mask = staticmethod(
        TorchTransformer.generate_square_subsequent_mask)

    @staticmethod
    def masks(inputs: Any, targets: Any, pad: int = 0) -> tuple[np.ndarray, ...]:
        """The three masks for word indices inputs (m, T_x) and targets (m, T_y):
        ``(input_mask, target_mask, memory_mask)`` = (padding_mask(inputs), padding_mask(
        targets) & look_ahead_mask(T_y), padding_mask(inputs)), shaped (m, 1, 1, T_x),
        (m, 1, T_y, T_y) and (m, 1, 1, T_x): no attention to padding ``pad`` anywhere, and
        none to later target words. The course's enc_padding_mask, look_ahead_mask and
        dec_padding_mask, with the look-ahead mask also hiding the targets' padding, as
        TensorFlow's Transformer tutorial combines them."""
        input_mask = padding_mask(inputs, pad)
        target_words = padding_mask(targets, pad)
        return (input_mask, target_words & look_ahead_mask(target_words.shape[-1]),
                input_mask.copy())

    def forward(self, inputs: Any, targets: Any, input_mask: Any = None, target_mask: Any = None,
                memory_mask: Any = None, return_weights: bool = False
                ) -> Tensor | tuple[Tensor, dict[str, Tensor]]:
        """inputs (m, T_x) and targets (m, T_y), word indices -> logits (m, T_y,
        target_vocab_size), and the decoder's weights by name with ``return_weights=True``.

        The masks, booleans (or 0/1) True/1 where a query may attend, None (the default)
        hiding nothing, are those `Transformer.masks` makes:
        input_mask: the encoder's self-attention's, (m, 1, 1, T_x), ``padding_mask(inputs)``.
        target_mask: the decoder's self-attention's, (m, 1, T_y, T_y), the look-ahead mask
        (and the targets' padding).
        memory_mask: the decoder's attention to the encoder's output, (m, 1, 1, T_x),
        ``padding_mask(inputs)`` again."""
        memory = self.encoder(inputs, mask=input_mask)  # which checks the inputs' shape
        require_shape("Transformer", "targets", targets, (memory.shape[0], "T_y"),
                      " (word indices, one target sentence per input sentence)")
        Y, weights = self.decoder(targets, memory, target_mask, memory_mask, return_weights=True)
        logits = self.final_layer(Y)
        return (logits, weights) if return_weights else logits
