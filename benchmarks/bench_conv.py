"""A small ConvNet's training step, against the same step written by hand in numpy; and
MobileNet's depthwise-separable convolution against a standard one.

The model is the digits ConvNet of the tests, on a batch of 8 x 8 one-channel images:
Conv2d(1 -> 8, 3 x 3, "same") -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(128 -> 10),
softmax cross-entropy, SGD. The numpy step is what the course's vectorised conv_forward and
conv_backward come to: the windows as rows (im2col), one matrix product each way, the max
pooling mask. Before timing, both give the same cost, gradients and updated parameters to
1e-10 (`check_step`). Both run in this process, interleaved, best of N; BLAS on one thread
(see bench_nn_mlp).

Run: ``.venv/bin/python -m benchmarks.bench_conv``.
"""
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads BLAS

import argparse  # noqa: E402

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

from benchmarks.common import (  # noqa: E402
    check_same,
    gradients_of_step,
    interleaved,
    print_table,
)
from graphgrad import nn, optim  # noqa: E402

LR = 0.01
F, N_C, POOL = 3, 8, 2


def numpy_step(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray) -> float:
    """Forward and backward by hand, then W -= alpha dW. X (m, 8, 8, 1), y class indices."""
    W, b, W2, b2 = params["W"], params["b"], params["W2"], params["b2"]
    m, n_h, n_w, n_c_prev = X.shape
    padded = np.pad(X, ((0, 0), (1, 1), (1, 1), (0, 0)))
    # (m, n_H, n_W, n_C_prev, f, f) -> rows in W's (f, f, n_C_prev) order
    cols = sliding_window_view(padded, (F, F), axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
    cols = cols.reshape(m * n_h * n_w, -1)
    Z = (cols @ W.reshape(-1, N_C) + b).reshape(m, n_h, n_w, N_C)
    A = np.maximum(Z, 0)
    blocks = A.reshape(m, n_h // POOL, POOL, n_w // POOL, POOL, N_C)
    P = blocks.max(axis=(2, 4))
    flat = P.reshape(m, -1)
    logits = flat @ W2.T + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(m)
    cost = -log_p[rows, y].sum() / m
    dlogits = np.exp(log_p)
    dlogits[rows, y] -= 1
    dlogits /= m
    dW2, db2 = dlogits.T @ flat, dlogits.sum(axis=0)
    dP = (dlogits @ W2).reshape(P.shape)
    mask = blocks == P[:, :, None, :, None, :]  # the course's create_mask_from_window
    dA = (mask * dP[:, :, None, :, None, :]).reshape(A.shape)
    dZ = (dA * (Z > 0)).reshape(-1, N_C)
    dW, db = (cols.T @ dZ).reshape(W.shape), dZ.sum(axis=0)
    for name, grad in (("W", dW), ("b", db), ("W2", dW2), ("b2", db2)):
        params[name] -= LR * grad
    return cost


def _setup(batch: int) -> tuple:
    """X, y, the graphgrad model and its SGD step, and copies of its parameters for numpy."""
    rng = np.random.default_rng(0)
    X = rng.random((batch, 8, 8, 1))
    y = rng.integers(0, 10, batch)
    model = nn.Sequential(nn.Conv2d(1, N_C, F, padding="same", rng=0), nn.ReLU(),
                          nn.MaxPool2d(POOL), nn.Flatten(), nn.Linear(16 * N_C, 10, rng=1))
    conv, linear = model.conv2d1, model.linear1
    tensors = {"W": conv.W, "b": conv.b, "W2": linear.W, "b2": linear.b}
    params = {name: t.data.copy() for name, t in tensors.items()}
    sgd = optim.SGD(model.parameters(), lr=LR)

    def graphgrad_step() -> np.ndarray:
        J = nn.cross_entropy(model(X), y)
        sgd.zero_grad()
        J.backward(keep_intermediate_grads=False)
        sgd.step()
        return J.data

    return X, y, tensors, params, graphgrad_step


def check_step(batch: int, tolerance: float = 1e-10) -> None:
    """One step of each side from the same parameters gives the same cost, dW, db, dW2, db2
    and updated parameters."""
    X, y, tensors, params, graphgrad_step = _setup(batch)
    before = {name: a.copy() for name, a in params.items()}
    cost = numpy_step(params, X, y)
    J = graphgrad_step()
    got, expected = {"cost": J}, {"cost": np.asarray(cost)}
    for name, t in tensors.items():
        got[name], expected[name] = t.data, params[name]
        got["d" + name] = t.grad
        expected["d" + name] = gradients_of_step([before[name]], [params[name]], LR)[0]
    check_same(f"ConvNet step, batch {batch}", got, expected, tolerance)


def conv_step(batch: int, number: int, repeat: int) -> list[tuple[str, ...]]:
    check_step(batch)
    X, y, _, params, graphgrad_step = _setup(batch)
    times = interleaved({"numpy": lambda: numpy_step(params, X, y), "graphgrad": graphgrad_step},
                        number, repeat)
    label = f"ConvNet 8x8x1 -> conv 3x3x8 -> pool -> 10, batch {batch}"
    return [(label, f"{times['numpy'] * 1e6:.0f} us", f"{times['graphgrad'] * 1e6:.0f} us",
             f"{times['graphgrad'] / times['numpy']:.2f}x")]


def separable(batch: int, number: int, repeat: int) -> list[tuple[str, ...]]:
    """Forward + backward of MobileNet's depthwise-separable convolution (a 3 x 3 filter per
    channel, then a 1 x 1 convolution) against one 3 x 3 convolution, 96 channels in and out,
    float32: the course's count of multiplications (1/n_C + 1/f^2 of the standard one's)
    against the time it takes."""
    n_c, f = 96, 3
    rng = np.random.default_rng(0)
    A = rng.standard_normal((batch, 8, 8, n_c)).astype(np.float32)
    dZ = rng.standard_normal((batch, 8, 8, n_c)).astype(np.float32)
    settings = {"bias": False, "dtype": np.float32, "rng": 0}
    standard = nn.Conv2d(n_c, n_c, f, padding="same", **settings)
    depthwise = nn.Conv2d(n_c, n_c, f, padding="same", groups=n_c, **settings)
    pointwise = nn.Conv2d(n_c, n_c, 1, **settings)

    def run(*layers: nn.Module) -> None:
        Z = A
        for layer in layers:
            Z = layer(Z)
        Z.backward(dZ, keep_intermediate_grads=False)

    times = interleaved({"standard": lambda: run(standard),
                         "depthwise": lambda: run(depthwise),
                         "separable": lambda: run(depthwise, pointwise)}, number, repeat)
    base = times["standard"]
    label = f"{batch} x 8 x 8 x {n_c}, float32"
    return [(label, "standard 3 x 3 convolution", f"{base * 1e3:.2f} ms", "1.00x", "1.00x"),
            (label, "depthwise 3 x 3", f"{times['depthwise'] * 1e3:.2f} ms",
             f"{times['depthwise'] / base:.2f}x", f"{1 / n_c:.3f}x"),
            (label, "depthwise 3 x 3 + pointwise 1 x 1", f"{times['separable'] * 1e3:.2f} ms",
             f"{times['separable'] / base:.2f}x", f"{1 / n_c + 1 / f**2:.3f}x")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = conv_step(64, 100, args.repeat) + conv_step(8, 400, args.repeat)
    print_table("One SGD step of a small ConvNet (float64), ratio to the numpy step", rows,
                ("model", "numpy by hand", "graphgrad nn", "ratio"))
    print_table("Forward + backward of a depthwise-separable convolution (MobileNet), ratio to "
                "a standard convolution", separable(64, 10, args.repeat),
                ("input", "layers", "time", "ratio", "multiplications"))


if __name__ == "__main__":
    main()
