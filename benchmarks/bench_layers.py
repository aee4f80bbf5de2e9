"""Forward and backward of single layers, against the same maths written by hand in numpy:
batch and layer normalisation, max pooling and multi-head attention, at course sizes.

Each layer takes a fixed input and an upstream gradient G (J = sum(G * layer(X))); the numpy
side computes the output and every gradient (dX, and the layer's own dW, dgamma, ...) with
the course's formulas: batch norm's dZ = (N dZ_norm - sum dZ_norm - Z_norm sum(dZ_norm
Z_norm)) / (N sqrt(sigma2 + eps)), max pooling's gradient through a mask of each window's
maximum, attention's softmax backward. Two more rows time the mean squared error (its cost
and dA = 2 (A - Y) / n) and clipping an MLP's gradients by their joint norm (the course's
remedy for exploding gradients, as optim.clip_grad_norm does). Before timing, both give the
same output and gradients to 1e-10. Both run in this process, interleaved, best of N; BLAS on
one thread (see bench_nn_mlp).

Run: ``.venv/bin/python -m benchmarks.bench_layers``.
"""
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads BLAS

import argparse  # noqa: E402
import math  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.common import check_same, interleaved, print_table  # noqa: E402
from graphgrad import Tensor, nn, optim  # noqa: E402


def batchnorm(Z: np.ndarray, gamma: np.ndarray, beta: np.ndarray, G: np.ndarray,
              eps: float = 1e-5) -> list[np.ndarray]:
    """The course's batch norm over every axis but the last: out, dZ, dgamma, dbeta."""
    axes = tuple(range(Z.ndim - 1))
    N = Z.size // Z.shape[-1]
    centred = Z - Z.mean(axis=axes)
    inv = 1.0 / np.sqrt((centred * centred).mean(axis=axes) + eps)
    Z_norm = centred * inv
    dZ_norm = G * gamma
    dZ = inv / N * (N * dZ_norm - dZ_norm.sum(axis=axes)
                    - Z_norm * (dZ_norm * Z_norm).sum(axis=axes))
    return [gamma * Z_norm + beta, dZ, (G * Z_norm).sum(axis=axes), G.sum(axis=axes)]


def layernorm(X: np.ndarray, gamma: np.ndarray, beta: np.ndarray, G: np.ndarray,
              eps: float = 1e-5) -> list[np.ndarray]:
    """Layer norm over the last axis: out, dX, dgamma, dbeta."""
    axes = tuple(range(X.ndim - 1))
    centred = X - X.mean(axis=-1, keepdims=True)
    inv = 1.0 / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + eps)
    X_norm = centred * inv
    dX_norm = G * gamma
    dX = inv * (dX_norm - dX_norm.mean(axis=-1, keepdims=True)
                - X_norm * (dX_norm * X_norm).mean(axis=-1, keepdims=True))
    return [gamma * X_norm + beta, dX, (G * X_norm).sum(axis=axes), G.sum(axis=axes)]


def max_pool(A: np.ndarray, G: np.ndarray, f: int) -> list[np.ndarray]:
    """f x f windows side by side (stride f), no ties: out and dA through the max's mask."""
    m, height, width, channels = A.shape
    windows = A.reshape(m, height // f, f, width // f, f, channels)
    out = windows.max(axis=(2, 4))
    mask = windows == out[:, :, None, :, None]
    return [out, (mask * G[:, :, None, :, None]).reshape(A.shape)]


def attention(X: np.ndarray, G: np.ndarray, weights: list[np.ndarray], h: int
              ) -> list[np.ndarray]:
    """Multi-head self-attention (Wq, bq, Wk, bk, Wv, bv, Wo, bo): out, dX, and the gradient of
    every weight and bias, in that order."""
    m, T, d = X.shape
    d_k = d // h
    Wq, bq, Wk, bk, Wv, bv, Wo, bo = weights
    rows = X.reshape(-1, d)

    def heads(Z: np.ndarray) -> np.ndarray:
        return Z.reshape(m, T, h, d_k).transpose(0, 2, 1, 3)

    def rows_of(H: np.ndarray) -> np.ndarray:
        return H.transpose(0, 2, 1, 3).reshape(-1, d)

    q, k, v = heads(rows @ Wq.T + bq), heads(rows @ Wk.T + bk), heads(rows @ Wv.T + bv)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    concat = rows_of(p @ v)
    out = concat @ Wo.T + bo
    g = G.reshape(-1, d)
    d_heads = heads(g @ Wo)
    dp = d_heads @ v.transpose(0, 1, 3, 2)
    d_scores = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) / np.sqrt(d_k)
    dq = rows_of(d_scores @ k)
    dk = rows_of(d_scores.transpose(0, 1, 3, 2) @ q)
    dv = rows_of(p.transpose(0, 1, 3, 2) @ d_heads)
    dX = dq @ Wq + dk @ Wk + dv @ Wv
    grads = [d for dZ, A in ((dq, rows), (dk, rows), (dv, rows), (g, concat))
             for d in (dZ.T @ A, dZ.sum(axis=0))]
    return [out.reshape(X.shape), dX.reshape(X.shape), *grads]


def mse(A: np.ndarray, Y: np.ndarray, G: np.ndarray) -> list[np.ndarray]:
    """The mean squared error over all n elements: J = mean((A - Y)**2) and dA = 2 (A - Y) / n,
    A - Y computed once."""
    error = A - Y
    return [np.mean(error * error), error * (2 * G / error.size)]


def clip_by_norm(grads: list[np.ndarray], max_norm: float) -> tuple[float, list[np.ndarray]]:
    """Gradient clipping by the joint norm: ||g|| = sqrt(sum of every gradient's squares), and
    every gradient times max_norm / ||g|| when that is above max_norm (new arrays)."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if norm > max_norm:
        scale = max_norm / norm
        grads = [g * scale for g in grads]
    return norm, grads


def _case(label: str, layer: nn.Module | None, X: np.ndarray, by_hand: Callable[[], list],
          params: list[Tensor], number: int, repeat: int, call: Callable | None = None
          ) -> tuple[str, ...]:
    """Check that graphgrad's output and gradients (of X, then ``params``) are numpy's, then
    time both (``number`` 0: check only)."""
    rng = np.random.default_rng(1)
    X_t = Tensor(X, requires_grad=True)
    forward = call or layer
    G = rng.standard_normal(forward(X_t).shape)

    def graphgrad_step() -> Tensor:
        for p in (X_t, *params):
            p.grad = None
        out = forward(X_t)
        out.backward(G, keep_intermediate_grads=False)
        return out

    names = ["out", "dX", *(f"d{p.name} (parameter {i})" for i, p in enumerate(params))]
    check_same(label, dict(zip(names, [graphgrad_step().data, X_t.grad,
                                       *(p.grad for p in params)])),
               dict(zip(names, by_hand(G))))
    if not number:
        return (label,)
    times = interleaved({"numpy": lambda: by_hand(G), "graphgrad": graphgrad_step}, number,
                        repeat)
    return (label, _duration(times["numpy"]), _duration(times["graphgrad"]),
            f"{times['graphgrad'] / times['numpy']:.2f}x")


def _duration(seconds: float) -> str:
    """``1.23 ms``, or ``12.3 us`` below a tenth of a millisecond."""
    return f"{seconds * 1e3:.2f} ms" if seconds >= 1e-4 else f"{seconds * 1e6:.1f} us"


def _clip_case(sizes: tuple[int, ...], number: int, repeat: int) -> tuple[str, ...]:
    """optim.clip_grad_norm on the gradients of an MLP of ``sizes`` against `clip_by_norm`:
    each call starts from the same gradients (put back in .grad on graphgrad's side), whose
    norm is above max_norm, so both scale every gradient."""
    rng = np.random.default_rng(2)
    model = nn.Sequential(*[nn.Linear(n_in, n_out, rng=0)
                            for n_in, n_out in zip(sizes[:-1], sizes[1:])])
    params = model.parameters()
    grads = [rng.standard_normal(p.shape) for p in params]
    max_norm = 1.0

    def graphgrad_clip() -> float:
        for p, g in zip(params, grads):
            p.grad = g
        return optim.clip_grad_norm(params, max_norm)

    label = "clip_grad_norm, MLP " + "-".join(map(str, sizes))
    norm, clipped = clip_by_norm(grads, max_norm)
    names = ["norm", *(f"d{name}" for name, _ in model.named_parameters())]
    check_same(label, dict(zip(names, [graphgrad_clip(), *(p.grad for p in params)])),
               dict(zip(names, [norm, *clipped])))
    if not number:
        return (label,)
    times = interleaved({"numpy": lambda: clip_by_norm(grads, max_norm),
                         "graphgrad": graphgrad_clip}, number, repeat)
    return (label, _duration(times["numpy"]), _duration(times["graphgrad"]),
            f"{times['graphgrad'] / times['numpy']:.2f}x")


def rows(number: int, repeat: int) -> list[tuple[str, ...]]:
    rng = np.random.default_rng(0)
    table = []
    for shape in ((64, 128), (32, 16, 16, 32)):
        layer = nn.BatchNorm1d(shape[-1]) if len(shape) == 2 else nn.BatchNorm2d(shape[-1])
        layer.gamma.data, layer.beta.data = rng.standard_normal((2, shape[-1]))
        Z = rng.standard_normal(shape) * 2 + 1
        table.append(_case(f"{type(layer).__name__} Z {shape}", layer, Z,
                           lambda G, L=layer, Z=Z: batchnorm(Z, L.gamma.data, L.beta.data, G),
                           [layer.gamma, layer.beta], number, repeat))
    layer = nn.LayerNorm(128)
    layer.gamma.data, layer.beta.data = rng.standard_normal((2, 128))
    X = rng.standard_normal((32, 20, 128))
    table.append(_case("LayerNorm X (32, 20, 128)", layer, X,
                       lambda G: layernorm(X, layer.gamma.data, layer.beta.data, G),
                       [layer.gamma, layer.beta], number, repeat))
    for shape in ((32, 32, 32, 16), (64, 16, 16, 64)):
        A = rng.permutation(np.prod(shape)).reshape(shape) / 10.0  # no ties
        table.append(_case(f"MaxPool2d(2) A {shape}", nn.MaxPool2d(2), A,
                           lambda G, A=A: max_pool(A, G, 2), [], number, repeat))
    for m, T, d, h in ((16, 20, 64, 4), (32, 50, 128, 8)):
        layer = nn.MultiHeadAttention(d, h, rng=0)
        for linear in (layer.query, layer.key, layer.value, layer.out):
            linear.b.data = rng.standard_normal(d) * 0.1
        weights = [a.data for linear in (layer.query, layer.key, layer.value, layer.out)
                   for a in (linear.W, linear.b)]
        X = rng.standard_normal((m, T, d))
        table.append(_case(f"MultiHeadAttention m={m} T={T} d={d} h={h}", layer, X,
                           lambda G, X=X, w=weights, h=h: attention(X, G, w, h),
                           layer.parameters(), number and max(1, number // 5), repeat,
                           call=lambda X_t, L=layer: L(X_t, X_t, X_t)))
    for shape in ((64, 10), (512, 64)):
        A, Y = rng.standard_normal(shape), rng.standard_normal(shape)
        table.append(_case(f"mse A {shape}", None, A, lambda G, A=A, Y=Y: mse(A, Y, G), [],
                           number * 50, repeat, call=lambda A_t, Y=Y: nn.mse(A_t, Y)))
    table.append(_clip_case((64, 32, 10), number * 100, repeat))
    return table


def check_layers() -> None:
    """Every layer's output and gradients in graphgrad are the numpy maths', at the timed
    sizes; nothing is timed."""
    rows(number=0, repeat=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=10)
    args = parser.parse_args()
    print_table("Forward and backward of one layer (float64), ratio to the same maths by hand "
                "in numpy", rows(args.number, args.repeat),
                ("layer", "numpy by hand", "graphgrad nn", "ratio"))


if __name__ == "__main__":
    main()
