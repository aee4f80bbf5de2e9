"""Weight normalization and spectral normalization as parametrizations, as PyTorch's
``torch.nn.utils.parametrizations``: `weight_norm` learns each unit's weights as a length g
and a direction v (W = g v / ||v||, Salimans and Kingma, 2016), `spectral_norm` divides W by
its largest singular value sigma, estimated by power iteration (Miyato et al., 2018: a GAN's
discriminator kept 1-Lipschitz).

Both are registered with `parametrize.register_parametrization`, so the weight is computed
from its originals at each read, on the graph: ``layer.parametrizations.W.original0`` (g) and
``original1`` (v) for weight_norm, ``original`` for spectral_norm, whose power iteration keeps
its vectors u and v as buffers ``parametrizations.W.0._u`` and ``._v``.

Axes. graphgrad's layers keep their weights in the course's layouts, not always PyTorch's:
`nn.Linear`'s W is (n_out, n_in) as PyTorch's weight, but `nn.Conv2d`'s is
(f, f, n_C_prev, n_C), its filters on the last axis, where PyTorch's is (n_C, n_C_prev, f, f).
``dim`` is an axis of the layer's own W, and by default the one of PyTorch's default for that
layer: the output units (a Linear's rows, a convolution's filters, the last axis), and for a
`nn.ConvTranspose2d`, whose W is (f, f, n_C, n_C_prev), what PyTorch's picks there (its last
axis, n_C_prev, for weight_norm; its output channels, axis 2, for spectral_norm). Depends on
`nn.utils.parametrize`, `nn.module`, `nn.conv`, `nn.init`, `tensor`, `modes`, `errors`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from graphgrad.errors import ArgumentError, integer, real_number, whole_number
from graphgrad.modes import no_grad
from graphgrad.nn import init as initializers
from graphgrad.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from graphgrad.nn.module import Module
from graphgrad.nn.utils.parametrize import parameter_of, register_parametrization
from graphgrad.ops.elementwise import maximum
from graphgrad.tensor import Tensor

__all__ = ["spectral_norm", "weight_norm"]

_CONVS = (Conv1d, Conv2d, ConvTranspose2d)


def _other_axes(ndim: int, dim: int | None) -> tuple[int, ...]:
    """Every axis but ``dim`` (all of them when None): the axes a norm per unit sums over."""
    return tuple(axis for axis in range(ndim) if axis != dim)


class _WeightNorm(Module):
    """W = g v / ||v||, the norm over every axis but ``dim`` (over all when None), kept with
    size 1: g has W's shape with 1 on the other axes (a Linear's (n_out, 1)), or () when
    ``dim`` is None. d/dg = v / ||v||, d/dv = g / ||v|| (I - v v^T / ||v||^2) per unit."""

    def __init__(self, dim: int | None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, g: Tensor, v: Tensor) -> Tensor:
        """W = v (g / ||v||).  g: W's shape with 1 on the axes but ``dim``, v: W's shape."""
        return v * (g / v.norm(axis=_other_axes(v.ndim, self.dim), keepdims=True))

    def right_inverse(self, W: Tensor) -> tuple[Tensor, Tensor]:
        """(g, v) = (||W|| per unit, W): the originals whose W is the weight as it is."""
        g = W.norm(axis=_other_axes(W.ndim, self.dim), keepdims=self.dim is not None)
        return g, W

    def extra_repr(self) -> str:
        """``dim=0``, for the repr."""
        return f"dim={self.dim}"


class _SpectralNorm(Module):
    """W / sigma, sigma = u^T W_mat v, W_mat W as a matrix of one row per index of ``dim``
    (the others flattened in order), u and v (buffers ``_u`` (rows,) and ``_v`` (columns,))
    its first singular vectors as power iteration estimates them: in training mode, each read
    does ``n_power_iterations`` steps u = W_mat v / ||W_mat v||, v = W_mat^T u / ||W_mat^T u||
    first (in eval mode none). u and v are constants to the graph, as in PyTorch: d sigma / dW
    = u v^T, laid out as W. A weight of one axis is divided by its norm instead."""

    def __init__(self, weight: np.ndarray, n_power_iterations: int, dim: int, eps: float,
                 rng: Any) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.n_power_iterations = n_power_iterations
        if weight.ndim > 1:
            matrix = self._matrix(weight)
            generator = initializers.generator(rng, "spectral_norm")
            u = generator.standard_normal(matrix.shape[0]).astype(weight.dtype)
            v = generator.standard_normal(matrix.shape[1]).astype(weight.dtype)
            self.register_buffer("_u", self._normalized(u))
            self.register_buffer("_v", self._normalized(v))
            # Start from vectors near the singular ones, as PyTorch does (15 steps).
            self._power_method(matrix, 15)

    def _matrix(self, weight: np.ndarray) -> np.ndarray:
        """W as a matrix (W.shape[dim], the other axes' sizes multiplied), rows along dim."""
        return np.moveaxis(weight, self.dim, 0).reshape(weight.shape[self.dim], -1)

    def _normalized(self, x: np.ndarray) -> np.ndarray:
        return x / max(float(np.linalg.norm(x)), self.eps)  # PyTorch's F.normalize

    def _power_method(self, matrix: np.ndarray, steps: int) -> None:
        u, v = self._u, self._v
        for _ in range(steps):
            u = self._normalized(matrix @ v)
            v = self._normalized(matrix.T @ u)
        self._u, self._v = u, v  # new arrays: never written over while a graph holds them

    def forward(self, weight: Tensor) -> Tensor:
        """W / sigma, of W's shape."""
        if weight.ndim == 1:  # PyTorch's F.normalize
            return weight / maximum(weight.norm(), self.eps)
        if self.training:
            self._power_method(self._matrix(weight.data), self.n_power_iterations)
        # sigma = u . W_mat v = sum(W * (u v^T laid out as W)): one product and one sum.
        shape = np.moveaxis(weight.data, self.dim, 0).shape
        outer = np.moveaxis(np.outer(self._u, self._v).reshape(shape), 0, self.dim)
        sigma = (weight * outer).sum()
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        """The weight is its own original: the value assigned is kept as it is."""
        return value

    def extra_repr(self) -> str:
        """``dim=0, n_power_iterations=1``, for the repr."""
        return f"dim={self.dim}, n_power_iterations={self.n_power_iterations}"


def _weight_name(module: Module, name: str | None, caller: str) -> str:
    """The parameter to normalize: ``name``, or by default PyTorch's ``weight`` if the
    module has one, else graphgrad's ``W``."""
    if name is not None:
        return name
    members = module._members if isinstance(module, Module) else {}
    return "weight" if isinstance(members.get("weight"), Tensor) else "W"


def _torch_axis(module: Module, name: str, ndim: int, torch_dim: int) -> int:
    """The axis of ``module``'s own weight that is axis ``torch_dim`` of PyTorch's weight of
    that layer: a convolution's W (*window, B, A) is PyTorch's (A, B, *window) reversed in
    its first two axes and moved; other layers keep PyTorch's layout."""
    if isinstance(module, _CONVS) and name == "W":
        return ndim - 1 - torch_dim if torch_dim < 2 else torch_dim - 2
    return torch_dim


def _axis(dim: Any, ndim: int, caller: str) -> int:
    dim = integer(dim, "dim", caller)
    if not -ndim <= dim < ndim:
        raise ArgumentError(f"{caller}: dim={dim} is no axis of a weight of {ndim} axes; give "
                            f"one in [-{ndim}, {ndim - 1}], or leave the default (the layer's "
                            "output units).")
    return dim % ndim


def weight_norm(module: Module, name: str | None = None, dim: Any = "units") -> Module:
    """Learn the weight ``name`` of ``module`` as g v / ||v||, a length g and a direction v
    per unit (PyTorch's ``torch.nn.utils.parametrizations.weight_norm``); returns ``module``.

    Args:
        module: the layer (`nn.Linear`, `nn.Conv2d`, ...).
        name: its weight; by default ``"weight"`` if it has one, else ``"W"`` (graphgrad's
            layers' name).
        dim: the axis of W that indexes the units, each with its own g (the norm is over the
            other axes); None: one g for the whole weight (PyTorch's dim=None). By default
            (``"units"``), the axis PyTorch's dim=0 names in its layout of that layer: 0 for
            a Linear (n_out, n_in), the last for a Conv2d (f, f, n_C_prev, n_C), a Conv1d
            or a ConvTranspose2d (f, f, n_C, n_C_prev). Negative axes count from the end (in
            PyTorch, -1 means the whole weight: pass None for that).

    g starts as each unit's norm and v as W, so the layer computes as before. They become
    ``module.parametrizations.<name>.original0`` (g: W's shape with 1 on the other axes) and
    ``original1`` (v), the keys of ``state_dict()``; reading ``module.W`` computes W from
    them on the graph, so backward reaches g and v.
    """
    caller = "weight_norm"
    name = _weight_name(module, name, caller)
    weight = parameter_of(module, name, caller)
    if dim is None:
        axis = None
    elif isinstance(dim, str) and dim == "units":
        axis = _torch_axis(module, name, weight.ndim, 0)
    else:
        axis = _axis(dim, weight.ndim, caller)
    return register_parametrization(module, name, _WeightNorm(axis))


def spectral_norm(module: Module, name: str | None = None, n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None, *, rng: Any = None) -> Module:
    """Divide the weight ``name`` of ``module`` by its largest singular value sigma (PyTorch's
    ``torch.nn.utils.parametrizations.spectral_norm``): a GAN's discriminator so made
    1-Lipschitz per layer. Returns ``module``.

    Args:
        module: the layer (`nn.Linear`, `nn.Conv2d`, ...).
        name: its weight; by default ``"weight"`` if it has one, else ``"W"``.
        n_power_iterations: power iteration steps at each read of the weight in training
            mode (1, as in PyTorch; u and v carry over between steps, so one a step
            suffices); none in eval mode.
        eps: the least norm a vector is divided by in the power iteration.
        dim: the axis of W whose indices are the rows of the matrix whose sigma is taken
            (the other axes are flattened into its columns). None (the default): PyTorch's
            choice for that layer, its output units: 0 for a Linear (n_out, n_in), the last
            for a Conv2d (f, f, n_C_prev, n_C) or a Conv1d, axis 2 (n_C) for a
            ConvTranspose2d (f, f, n_C, n_C_prev). The singular values are those of W laid
            out in PyTorch's order, as only the columns' order differs.
        rng: a seed or np.random.Generator for u's and v's random start (the one
            `nn.init.seed` resets by default).

    u and v start with 15 power iteration steps from random vectors and are kept as the
    buffers ``parametrizations.<name>.0._u`` (the rows') and ``._v``, saved in
    ``state_dict()`` with the original weight ``parametrizations.<name>.original``. The
    gradient takes u and v as constants, as PyTorch's.

    A convolution's ``_v`` runs over W's other axes in graphgrad's order, not PyTorch's: a
    Conv2d's over (f, f, n_C_prev) flattened, PyTorch's over (n_C_prev, f, f). Loading
    PyTorch's state, transpose the weight and reorder ``_v`` too,
    ``v.reshape(n_C_prev, f, f).transpose(1, 2, 0).ravel()``: with its ``_v`` as it is,
    sigma is wrong, and in eval mode (no power iteration) it stays wrong.
    """
    caller = "spectral_norm"
    name = _weight_name(module, name, caller)
    weight = parameter_of(module, name, caller)
    steps = whole_number(n_power_iterations, "n_power_iterations", caller, 1)
    eps = real_number(eps, "eps", caller, lambda e: e > 0, "> 0")
    if dim is None:
        torch_dim = 1 if isinstance(module, ConvTranspose2d) else 0
        axis = _torch_axis(module, name, weight.ndim, torch_dim) if weight.ndim > 1 else 0
    else:
        axis = _axis(dim, weight.ndim, caller)
    with no_grad():
        parametrization = _SpectralNorm(weight.data, steps, axis, eps, rng)
    return register_parametrization(module, name, parametrization)
