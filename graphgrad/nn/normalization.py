"""Batch normalisation, the course's way: normalise each unit over the mini-batch, then let
the layer learn the scale gamma and the shift beta.

Built from the engine's ops (mean, subtract, sqrt, divide), so backward, second derivatives
and the pictures come for free: the node names spell out the course's formulas. Depends on
`ops`, `nn.module`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, ShapeError
from graphgrad.nn.module import Module, Parameter, as_data_of
from graphgrad.ops.elementwise import Sqrt
from graphgrad.tensor import Tensor


class BatchNorm1d(Module):
    """Batch normalisation of Z of shape (m, n), per unit (column).

    Training mode, over the m examples of the batch (the course's formulas)::

        mu = mean(Z),  sigma2 = mean((Z - mu)**2),  Z_norm = (Z - mu) / sqrt(sigma2 + eps)
        Z_tilde = gamma * Z_norm + beta

    and the running statistics follow an exponentially weighted average:
    ``running = momentum * running + (1 - momentum) * batch`` (the course's form;
    PyTorch's momentum=0.1 is this class's momentum=0.9). sigma2 is the batch's (biased)
    variance, also in the running average. Eval mode uses the running statistics, so a
    prediction does not depend on the rest of the batch. Training mode needs two or more
    examples per batch: one example, normalised by its own mean, would give beta whatever it is.

    Args:
        n: units per example (the preceding layer's n_out).
        momentum: weight of the old running statistics in each update.
        eps: keeps the division finite when a unit does not vary within the batch.
        dtype: np.float64 (default) or np.float32. Data of the other float dtype (an array,
            or a tensor that needs no gradient) is converted to it.
    """

    short_name = "batchnorm"

    def __init__(self, n: int, momentum: float = 0.9, eps: float = 1e-5,
                 dtype: Any = np.float64) -> None:
        super().__init__()
        if not 0.0 <= momentum < 1.0:
            raise ArgumentError(f"BatchNorm1d: momentum must be in [0, 1), got {momentum}")
        self.n = int(n)
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.gamma = Parameter(np.ones(self.n, dtype=dtype))
        self.beta = Parameter(np.zeros(self.n, dtype=dtype))
        self.register_buffer("running_mean", np.zeros(self.n, dtype=dtype))
        self.register_buffer("running_var", np.ones(self.n, dtype=dtype))

    def forward(self, Z: Any) -> Tensor:
        if not isinstance(Z, Tensor):
            Z = Tensor(Z)
        Z = as_data_of(Z, self.gamma.data.dtype)
        if Z.ndim != 2 or Z.shape[1] != self.n:
            raise ShapeError(
                f"BatchNorm1d({self.n}) takes Z of shape (m, {self.n}), got {Z.shape}"
            )
        if self.training:
            if Z.shape[0] == 1:
                raise ArgumentError(
                    f"BatchNorm1d({self.n}) in training mode got a batch of one example: "
                    "normalised by its own mean, every unit is 0 and the output is beta "
                    "whatever the input. To predict, call model.eval() first (it uses the "
                    "running averages); to train, use batches of two or more examples (gg.fit "
                    "and DataLoader take drop_last=True to leave out a last, smaller batch)."
                )
            mu = Z.mean(axis=0)
            centred = Z - mu
            sigma2 = (centred * centred).mean(axis=0)
            Z_norm = centred / Sqrt.apply(sigma2 + self.eps)
            keep = self.momentum
            self.running_mean = keep * self.running_mean + (1 - keep) * mu.data
            self.running_var = keep * self.running_var + (1 - keep) * sigma2.data
        else:
            Z_norm = (Z - self.running_mean) * (1.0 / np.sqrt(self.running_var + self.eps))
        return self.gamma * Z_norm + self.beta

    def extra_repr(self) -> str:
        return f"{self.n}, momentum={self.momentum:g}, eps={self.eps:g}"
