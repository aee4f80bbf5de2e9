"""graphgrad.nn: the course's deep-learning toolkit built on the engine.

`Module` and `Parameter` (module), `Sequential`, `ModuleList`, `ModuleDict`, `ParameterList`
and `ParameterDict` (containers),
`Linear`, `Bilinear`, `Flatten`, `Unflatten` and `Identity` (layers),
`Conv2d`, `ConvTranspose2d`, `MaxPool2d`, `MaxUnpool2d` and `AvgPool2d` (conv, for images
(m, n_H, n_W, n_C)),
`AdaptiveAvgPool2d`, `AdaptiveMaxPool2d` and `Upsample` (resampling, images to a given size)
and `Conv1d`, `MaxPool1d`, `MaxUnpool1d` and `AvgPool1d` (conv, for sequences (m, n_L,
n_C)), `ZeroPad2d`, `ConstantPad2d`, `ReflectionPad2d`, `ReplicationPad2d`, `CircularPad2d`
and their 1-D forms (padding, images' and sequences' borders), `Unfold`, `Fold`,
`PixelShuffle` and `PixelUnshuffle` (patches, images cut into windows or blocks and put
back), `RNN`, `RNNCell`, `LSTMCell` and `GRUCell` (recurrent, for sequences (m, T_x,
n_x)), `LSTM` and `GRU` (recurrent_torch, PyTorch's arguments and weights), `Embedding`
(embedding, word vectors),
`scaled_dot_product_attention`, `MultiHeadAttention`, `look_ahead_mask`, `padding_mask` and
`positional_encoding` (attention, the Transformer's blocks, on sequences (m, T_x, d_model)),
`TransformerEncoderLayer`, `TransformerDecoderLayer`, `TransformerEncoder`, `TransformerDecoder`
and `Transformer` (transformer, the course's model built from them), `MultiheadAttention`,
`TorchTransformerEncoderLayer`, `TorchTransformerDecoderLayer`, `TorchTransformerEncoder`,
`TorchTransformerDecoder` and `TorchTransformer` (transformer_torch, PyTorch's arguments,
masks, layout and weights; the course's names make them when called as PyTorch's),
`beam_search`,
`greedy_search` and the `Beams` they return (decoding, a model's sentence word by word), the
activation layers, `Dropout`, `Dropout2d` and `l2_penalty` (regularization), `BatchNorm1d`,
`BatchNorm2d`, `LayerNorm`, `GroupNorm`, `InstanceNorm1d` and `InstanceNorm2d`
(normalization), the losses (the fused ones in losses, PyTorch's others composed of ops in
composed_losses, margin_losses and likelihood_losses, `ctc_loss` in ctc, and each as
PyTorch's module, `CrossEntropyLoss` ... `CTCLoss`, in loss_modules), the weight initialisers
(``nn.init``), every layer and loss as a function (``nn.functional``, imported as F, as
PyTorch's), and
`functional_call`, `parameters_to_vector` and `vector_to_parameters` (``nn.utils``, a model's
parameters seen from outside: its cost as a function of given weights, or of one vector).
Layers take batch-first input X of shape (m, n_x); see `graphgrad.nn.layers` for how that maps
to the course's (n_x, m).
"""
from graphgrad.nn import functional, init, utils
from graphgrad.nn.activations import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from graphgrad.nn.attention import (
    MultiHeadAttention,
    look_ahead_mask,
    padding_mask,
    positional_encoding,
    scaled_dot_product_attention,
)
from graphgrad.nn.composed_losses import (
    cosine_similarity,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    nll_loss,
    smooth_l1_loss,
    triplet_margin_loss,
)
from graphgrad.nn.containers import (
    ModuleDict,
    ModuleList,
    ParameterDict,
    ParameterList,
    Sequential,
)
from graphgrad.nn.conv import (
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    MaxPool1d,
    MaxPool2d,
    MaxUnpool1d,
    MaxUnpool2d,
)
from graphgrad.nn.ctc import ctc_loss
from graphgrad.nn.decoding import Beams, beam_search, greedy_search
from graphgrad.nn.embedding import Embedding
from graphgrad.nn.layers import (
    Affine,
    Bilinear,
    Flatten,
    Identity,
    Linear,
    Unflatten,
    bilinear,
    linear,
)
from graphgrad.nn.likelihood_losses import gaussian_nll_loss, poisson_nll_loss
from graphgrad.nn.loss_modules import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CosineSimilarity,
    CrossEntropyLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)
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
from graphgrad.nn.module import Module, Parameter, StateDictError, use_name_scopes
from graphgrad.nn.normalization import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    LayerNorm,
)
from graphgrad.nn.padding import (
    CircularPad1d,
    CircularPad2d,
    ConstantPad1d,
    ConstantPad2d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReplicationPad1d,
    ReplicationPad2d,
    ZeroPad1d,
    ZeroPad2d,
)
from graphgrad.nn.patches import Fold, PixelShuffle, PixelUnshuffle, Unfold
from graphgrad.nn.recurrent import RNN, GRUCell, LSTMCell, RNNCell
from graphgrad.nn.recurrent_torch import GRU, LSTM
from graphgrad.nn.regularization import Dropout, Dropout2d, InvertedDropout, l2_penalty
from graphgrad.nn.resampling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, Upsample
from graphgrad.nn.transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from graphgrad.nn.transformer_torch import (
    MultiheadAttention,
    TorchTransformer,
    TorchTransformerDecoder,
    TorchTransformerDecoderLayer,
    TorchTransformerEncoder,
    TorchTransformerEncoderLayer,
)
from graphgrad.nn.utils import functional_call, parameters_to_vector, vector_to_parameters

__all__ = [
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Affine", "AvgPool1d", "AvgPool2d", "BCELoss",
    "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Beams", "Bilinear", "CELU", "CTCLoss",
    "CircularPad1d", "CircularPad2d", "ConstantPad1d", "ConstantPad2d", "Conv1d", "Conv2d",
    "ConvTranspose2d", "CosineEmbeddingLoss", "CosineSimilarity", "CrossEntropyLoss",
    "Dropout", "Dropout2d", "ELU", "Embedding", "Flatten", "Fold", "GELU", "GLU", "GRU",
    "GRUCell", "GaussianNLLLoss", "GroupNorm", "Hardshrink", "Hardsigmoid", "Hardswish",
    "Hardtanh", "HingeEmbeddingLoss", "HuberLoss", "Identity", "InstanceNorm1d",
    "InstanceNorm2d", "InvertedDropout", "KLDivLoss", "L1Loss", "LSTM", "LSTMCell",
    "LayerNorm", "LeakyReLU", "Linear", "LogSigmoid", "LogSoftmax", "MSELoss",
    "MarginRankingLoss", "MaxPool1d", "MaxPool2d", "MaxUnpool1d", "MaxUnpool2d", "Mish",
    "Module", "ModuleDict", "ModuleList", "MultiHeadAttention", "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiheadAttention", "NLLLoss", "PReLU",
    "Parameter", "ParameterDict", "ParameterList", "PixelShuffle", "PixelUnshuffle",
    "PoissonNLLLoss", "RNN", "RNNCell", "ReLU", "ReLU6", "ReflectionPad1d", "ReflectionPad2d",
    "ReplicationPad1d", "ReplicationPad2d", "SELU", "Sequential", "SiLU", "Sigmoid",
    "SmoothL1Loss", "SoftMarginLoss", "Softmax", "Softmin", "Softplus", "Softshrink",
    "Softsign", "StateDictError", "Tanh", "Tanhshrink", "Threshold", "TorchTransformer",
    "TorchTransformerDecoder", "TorchTransformerDecoderLayer", "TorchTransformerEncoder",
    "TorchTransformerEncoderLayer", "Transformer", "TransformerDecoder",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer",
    "TripletMarginLoss", "Unflatten", "Unfold", "Upsample", "ZeroPad1d", "ZeroPad2d",
    "beam_search", "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cosine_embedding_loss", "cosine_similarity", "cross_entropy", "ctc_loss", "functional",
    "functional_call", "gaussian_nll_loss", "greedy_search", "hinge_embedding_loss",
    "huber_loss", "init", "kl_div", "l1_loss", "l2_penalty", "linear", "look_ahead_mask",
    "margin_ranking_loss", "mse", "multi_margin_loss", "multilabel_margin_loss",
    "multilabel_soft_margin_loss", "nll_loss", "padding_mask", "parameters_to_vector",
    "poisson_nll_loss", "positional_encoding", "scaled_dot_product_attention",
    "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss", "use_name_scopes", "utils",
    "vector_to_parameters",
]
