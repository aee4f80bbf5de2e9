"""graphgrad.nn.functional: every layer and loss as a function, PyTorch's
``torch.nn.functional``, to import the same way::

    import graphgrad.nn.functional as F
    A = F.relu(F.linear(X, W1, b1))
    A = F.dropout(A, keep_prob=0.8, training=self.training)
    J = F.cross_entropy(F.linear(A, W2, b2), y)

Each function is the computation its layer runs (the layer calls it, or the op both call),
so a layer and its function give the same values and gradients; most were written for the
engine or for a layer first and are only gathered here. Functions without a layer:
`one_hot`, `normalize`, `pairwise_distance`, `affine_grid` and `grid_sample` (the spatial
transformer's grid and sampler).

Where graphgrad's conventions differ from PyTorch's, they are graphgrad's:

- ``dim=`` is ``axis=`` (numpy's word, as every graphgrad op); ``keepdim`` is ``keepdims``:
  softmax, log_softmax, softmin, normalize, glu, cosine_similarity and pairwise_distance
  (and their layers) refuse PyTorch's spelling naming this one.
- ``inplace`` (relu, leaky_relu, elu, selu, celu, silu, mish, relu6, hardtanh, hardswish,
  hardsigmoid, dropout, dropout2d): False is taken; True is refused, as graphgrad's tensors
  never change, so x would keep its values where PyTorch's changes (write ``x = F.relu(x)``).
  The layers' ``inplace`` (``nn.ReLU(inplace=True)``) is taken and changes nothing: their
  output is what flows on.
- Dropout's ``p`` (the probability of dropping) is ``keep_prob = 1 - p``, the course's:
  ``F.dropout(x, 0.2)`` in PyTorch is ``F.dropout(x, keep_prob=0.8)`` here (below 0.5 a
  `gg.ConventionWarning` says so).
- Images are channels last, (m, n_H, n_W, n_C) (PyTorch's NCHW is NHWC here), sequences
  (m, n_L, n_C); filters are (f, f, n_C_prev, n_C). Move torch's layout with
  ``x.transpose(0, 2, 3, 1)``. ``affine_grid``'s size is (m, n_H, n_W, n_C) likewise; its
  theta and ``grid_sample``'s grid (m, H_out, W_out, 2) of points (x, y) are PyTorch's.
- ``ctc_loss`` takes log_probs batch first, (m, T, C), as the recurrent layers give them:
  PyTorch's (T, N, C) is ``log_probs.transpose(1, 0, 2)``.
- Batch norm's ``momentum`` is the weight of the old running statistics (PyTorch's 0.1 is
  0.9 here), and the running variance follows the batch's biased variance.
- A few names are the course's or numpy's: ``mse`` (F.mse_loss, also here under that name),
  ``log_sigmoid`` (F.logsigmoid, likewise), ``max_pool2d(A, f, stride, padding)``
  (kernel_size is f), and ``pad`` is numpy's, a (before, after) pair per axis from the first
  (F.pad lists the last axis first).
- ``unfold`` and ``fold`` take stride, padding and dilation as keywords only: PyTorch's
  order, (dilation, padding, stride), is not the stride first of the pooling functions.

Depends on `ops` and on the modules of `nn` that hold each layer.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from graphgrad.errors import (
    ArgumentError,
    GraphgradTypeError,
    ShapeError,
    array_of_numbers,
    describe,
    integer,
    real_number,
    refuse_inplace,
    setting_text,
    takes_axis,
)
from graphgrad.linalg import vector_norm
from graphgrad.nn.activations import hardtanh, prelu, relu6
from graphgrad.nn.attention import scaled_dot_product_attention
from graphgrad.nn.composed_losses import (
    cosine_similarity,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    nll_loss,
    pairwise_distance,
    smooth_l1_loss,
    triplet_margin_loss,
)
from graphgrad.nn.ctc import ctc_loss
from graphgrad.nn.embedding import _first, embedding
from graphgrad.nn.layers import bilinear, linear
from graphgrad.nn.likelihood_losses import gaussian_nll_loss, poisson_nll_loss
from graphgrad.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse,
)
from graphgrad.nn.margin_losses import (
    cosine_embedding_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
)
from graphgrad.nn.normalization import batch_norm, group_norm, instance_norm, layer_norm
from graphgrad.nn.regularization import dropout, dropout2d
from graphgrad.nn.resampling import adaptive_avg_pool2d, adaptive_max_pool2d, interpolate
from graphgrad.ops.activations import (
    celu,
    elu,
    gelu,
    glu,
    log_sigmoid,
    mish,
    selu,
    silu,
    softplus,
    softsign,
    tanhshrink,
)
from graphgrad.ops.convolution import conv1d, conv2d, conv_transpose2d
from graphgrad.ops.elementwise import clip, leaky_relu, relu, sigmoid, tanh
from graphgrad.ops.patches import fold, pixel_shuffle, pixel_unshuffle, unfold
from graphgrad.ops.piecewise import hardshrink, hardsigmoid, hardswish, softshrink, threshold
from graphgrad.ops.pooling import (
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from graphgrad.ops.sampling import affine_grid, grid_sample
from graphgrad.ops.shape import pad
from graphgrad.ops.softmax import log_softmax, softmax, softmin
from graphgrad.tensor import Tensor

__all__ = [
    # activations
    "celu", "elu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "leaky_relu", "log_sigmoid", "log_softmax", "logsigmoid", "mish", "prelu", "relu", "relu6",
    "selu", "sigmoid", "silu", "softmax", "softmin", "softplus", "softshrink", "softsign",
    "tanh", "tanhshrink", "threshold",
    # layers
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool1d", "avg_pool2d", "bilinear",
    "conv1d", "conv2d", "conv_transpose2d", "dropout", "dropout2d", "embedding", "fold",
    "interpolate", "linear", "max_pool1d", "max_pool2d", "max_unpool1d", "max_unpool2d", "pad",
    "pixel_shuffle", "pixel_unshuffle", "scaled_dot_product_attention", "unfold",
    # sampling (the spatial transformer)
    "affine_grid", "grid_sample",
    # normalisation
    "batch_norm", "group_norm", "instance_norm", "layer_norm", "normalize",
    # losses and distances
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss",
    "cosine_similarity", "cross_entropy", "ctc_loss", "gaussian_nll_loss", "hinge_embedding_loss",
    "huber_loss", "kl_div", "l1_loss", "margin_ranking_loss", "mse", "mse_loss",
    "multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss", "nll_loss",
    "pairwise_distance", "poisson_nll_loss", "smooth_l1_loss", "soft_margin_loss",
    "triplet_margin_loss",
    # labels
    "one_hot",
]

def _takes_inplace(func: Callable) -> Callable:
    """``func`` (graphgrad's op, ``gg.relu``) taking PyTorch's ``inplace`` flag by name:
    False is taken, True refused (`errors.refuse_inplace`: x would keep its values). The op
    itself, and its Tensor method, take no such flag."""
    @functools.wraps(func)
    def call(*args: Any, inplace: bool = False, **kwargs: Any) -> Any:
        if inplace is not False:
            refuse_inplace(inplace, func.__name__)
        return func(*args, **kwargs)
    signature = inspect.signature(func)
    flag_parameter = inspect.Parameter("inplace", inspect.Parameter.KEYWORD_ONLY, default=False)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), flag_parameter])
    call.__doc__ = (f"{func.__doc__}\n\n    ``inplace``: PyTorch's flag; True is refused, as "
                    "graphgrad's tensors never change in place.")
    return call


# PyTorch's functions with an inplace flag: graphgrad's ops, which take none, wrapped
relu = _takes_inplace(relu)
leaky_relu = _takes_inplace(leaky_relu)
elu = _takes_inplace(elu)
selu = _takes_inplace(selu)
celu = _takes_inplace(celu)
silu = _takes_inplace(silu)
mish = _takes_inplace(mish)
relu6 = _takes_inplace(relu6)
hardtanh = _takes_inplace(hardtanh)
hardswish = _takes_inplace(hardswish)
hardsigmoid = _takes_inplace(hardsigmoid)

# PyTorch's names for two functions graphgrad names as the course and numpy do.
mse_loss = mse
logsigmoid = log_sigmoid


@takes_axis
def normalize(x: Any, p: float = 2, axis: int = 1, eps: float = 1e-12) -> Tensor:
    """x's vectors along ``axis`` scaled to length 1 in the p-norm (PyTorch's F.normalize,
    dim=1 there and axis=1 here): x / max(|x|_p, eps). x: any shape with that axis -> the same
    shape; the rows of (m, n) by default.

    The norm is clamped at eps, as PyTorch's clamp_min: where |x|_p < eps the result is
    x / eps, and its gradient dA / eps (the clamped norm passes no gradient), PyTorch's; at
    |x|_p = eps exactly the norm's gradient passes, as clamp_min's does."""
    x = x if isinstance(x, Tensor) else Tensor(_floats(x, "normalize"))
    axis = integer(axis, "axis", "normalize")
    if not -x.ndim <= axis < x.ndim:
        raise ShapeError(f"normalize: axis={axis} is no axis of x {describe(x)} (PyTorch's "
                         "dim=1 is axis=1 here; vectors along the last axis: axis=-1)")
    p = real_number(p, "p", "normalize", lambda v: v > 0, "the order of a norm, above 0 "
                    "(2, 1, inf)")
    eps = real_number(eps, "eps", "normalize", lambda e: 0.0 <= e < np.inf,
                      "a finite number >= 0")
    norm = vector_norm(x, axis=axis, keepdims=True, ord=p)
    return x / clip(norm, eps)


def one_hot(labels: Any, num_classes: int = -1) -> Tensor:
    """Class indices -> one-hot rows (PyTorch's F.one_hot): labels (...) of whole numbers in
    0..num_classes - 1 -> a Tensor (..., num_classes) of 0.0 and 1.0 that needs no gradient
    (float64, to multiply with probabilities; PyTorch's is int64). num_classes=-1 takes
    the largest label + 1."""
    caller = "one_hot"
    if isinstance(labels, Tensor) and labels.requires_grad:
        raise GraphgradTypeError(f"{caller} takes class indices, which have no gradient, got "
                                 f"{describe(labels)}, which requires grad: pass "
                                 "labels.detach() if they are indices")
    array = array_of_numbers(labels, "labels", caller)
    shown = describe(labels) if isinstance(labels, (Tensor, np.ndarray)) else describe(array)
    if array.dtype.kind not in "iuf":
        raise GraphgradTypeError(f"{caller} takes class indices, whole numbers, got {shown}")
    whole = np.isfinite(array) & (array == np.trunc(array)) if array.dtype.kind == "f" else None
    if whole is not None and not whole.all():
        at = _first(~whole)
        raise ArgumentError(f"{caller}: labels {shown} holds {array[at].item()!r} at "
                            f"{_at(at)}, not a class index: round computed labels "
                            "(np.rint(labels).astype(int))")
    num_classes = integer(num_classes, "num_classes", caller)
    if num_classes == -1:
        if not array.size:
            raise ArgumentError(f"{caller}: labels {shown} are empty, so num_classes=-1 (the "
                                "largest label + 1) has nothing to count: give num_classes")
        num_classes = int(array.max()) + 1
    if num_classes < 1:
        raise ArgumentError(f"{caller}: num_classes must be -1 (the largest label + 1) or a "
                            f"whole number of at least 1, got {setting_text(num_classes)}")
    outside = (array < 0) | (array >= num_classes)
    if outside.any():
        at = _first(outside)
        value = array[at].item()
        raise ArgumentError(f"{caller}: labels {shown} holds {value!r} at {_at(at)}, outside "
                            f"0..{num_classes - 1} (num_classes={num_classes}); negative "
                            "labels do not count from the end")
    rows = np.zeros(array.shape + (num_classes,))
    np.put_along_axis(rows, array.astype(np.intp)[..., None], 1.0, axis=-1)
    return Tensor(rows)


def _floats(x: Any, caller: str) -> np.ndarray:
    array = array_of_numbers(x, "x", caller)
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def _at(at: tuple[int, ...]) -> str:
    return f"labels[{', '.join(map(str, at))}]" if at else "the label"
