"""Engine benchmarks: per-op overhead, an MLP training step, a long chain, float32.

Every figure is measured in this process next to a baseline doing the same work by hand in
numpy (the course's forward and backward code), so ratios hold across machines. Before timing,
both sides give the same cost, gradients and updated parameters to 1e-10, and they are timed
in turns. PyTorch is
timed too when it is installed. BLAS runs on one thread (see bench_nn_mlp), on both sides.
Run: ``.venv/bin/python -m benchmarks.bench_engine``.
"""
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads BLAS

import argparse  # noqa: E402

import numpy as np  # noqa: E402

import graphgrad as gg  # noqa: E402
from benchmarks import chains  # noqa: E402
from benchmarks.chains import CHAIN, chain, chain_by_hand  # noqa: E402
from benchmarks.common import (  # noqa: E402
    best_time,
    check_same,
    course_numpy_step,
    gradients_of_step,
    interleaved,
    print_table,
)

try:  # optional reference
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - depends on the machine
    torch = None


# -- per-op overhead ----------------------------------------------------------------------------
def per_op_cases():
    """x0, W and the constant c as arrays (for PyTorch's chains), and per op: (graphgrad op,
    forward by hand, backward by hand -> (d input, d parameter or None), graphgrad's
    parameters)."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((4, 4)) * 0.1
    w = gg.Tensor(rng.standard_normal((4, 4)) * 0.1, requires_grad=True)
    c = gg.Tensor(rng.standard_normal((4, 4)) * 0.1)
    wd, cd = w.data, c.data
    return x0, wd, cd, {
        "neg": (lambda y: -y, lambda a: -a, lambda a, y, g: (-g, None), ()),
        "tanh": (gg.tanh, np.tanh, lambda a, y, g: (g * (1 - y * y), None), ()),
        "mul by constant": (lambda y: y * c, lambda a: a * cd, lambda a, y, g: (g * cd, None),
                            ()),
        "add parameter": (lambda y: y + w, lambda a: a + wd, lambda a, y, g: (g, g), (w,)),
        "mul parameter": (lambda y: y * w, lambda a: a * wd, lambda a, y, g: (g * wd, g * a),
                          (w,)),
    }


def check_per_op(n: int = CHAIN, tolerance: float = 1e-10) -> None:
    """Each chain gives the same J, dJ/dx and dJ/dW in graphgrad as by hand."""
    x0, _, _, cases = per_op_cases()
    for name, (op, forward, backward, params) in cases.items():
        names = ("J", "dx", "dW")
        check_same(f"per-op chain of {name}",
                   dict(zip(names, chain(op, x0, n, params))),
                   dict(zip(names, chain_by_hand(forward, backward, x0, n))), tolerance)


def per_op_overhead() -> list[tuple[str, ...]]:
    """Forward + backward time per op on 4x4 float64, in a chain of CHAIN ops.

    The numpy baseline does the same arithmetic by hand: the forward chain, keeping what
    backward needs, then the backward chain, accumulating a parameter's gradient over its
    uses. The difference is graphgrad's own overhead: recording, the graph walk, checks.
    Both give the same numbers (`check_per_op`), and are timed in turns.
    """
    check_per_op()
    x0, wd, cd, cases = per_op_cases()
    rows = []
    for name, (op, forward, backward, params) in cases.items():
        times = interleaved({
            "graphgrad": lambda op=op, params=params: chain(op, x0, CHAIN, params),
            "numpy": lambda f=forward, b=backward: chain_by_hand(f, b, x0)}, 1, 5)
        t_gg, t_np = times["graphgrad"] / CHAIN, times["numpy"] / CHAIN
        t_torch = _torch_chain(name, x0, wd, cd) if torch else None
        rows.append((name, f"{t_gg * 1e6:.2f} us", f"{t_np * 1e6:.2f} us",
                     f"{(t_gg - t_np) * 1e6:.2f} us",
                     f"{t_torch * 1e6:.2f} us" if t_torch else "-"))
    return rows


def _torch_chain(name, x0, w0, c0):
    w = torch.tensor(w0, requires_grad=True)
    c = torch.tensor(c0)
    op = {"neg": lambda y: -y, "tanh": torch.tanh, "mul by constant": lambda y: y * c,
          "add parameter": lambda y: y + w, "mul parameter": lambda y: y * w}[name]

    def run():
        x = torch.tensor(x0, requires_grad=True)
        y = x
        for _ in range(CHAIN):
            y = op(y)
        y.sum().backward()

    return best_time(run, repeat=5) / CHAIN


# -- MLP step -----------------------------------------------------------------------------------
def _init(sizes, rng, dtype=np.float64):
    params = []
    for n_prev, n in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((n, n_prev)) * np.sqrt(2 / n_prev)).astype(dtype))
        params.append(np.zeros((n, 1), dtype=dtype))
    return params


def graphgrad_step(params, X, Y, lr):
    """The same step with graphgrad ops; backward computes every dW, db."""
    m = X.shape[1]
    A = X
    L = len(params) // 2
    for l in range(L):
        Z = params[2 * l] @ A + params[2 * l + 1]
        A = gg.relu(Z) if l < L - 1 else Z
    cost = -(Y * gg.log_softmax(A, axis=0)).sum() * (1.0 / m)
    cost.backward(keep_intermediate_grads=False)
    for p in params:
        p.data -= lr * p.grad
        p.grad = None
    return cost


def _mlp_setup(sizes, batch, dtype=np.float64):
    """X (n_x, m), one-hot Y (C, m), and the same W[l], b[l] for numpy and for graphgrad."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((sizes[0], batch)).astype(dtype)
    Y = np.eye(sizes[-1], dtype=dtype)[:, rng.integers(0, sizes[-1], batch)]
    np_params = _init(sizes, rng, dtype)
    gg_params = [gg.Tensor(p.copy(), requires_grad=True) for p in np_params]
    return X, Y, np_params, gg_params


def check_mlp_step(sizes, batch, dtype=np.float64, tolerance=1e-10) -> None:
    """One step of each side from the same parameters gives the same cost, dW, db and updated
    W, b."""
    X, Y, np_params, gg_params = _mlp_setup(sizes, batch, dtype)
    lr = 0.01
    before = [p.copy() for p in np_params]
    cost = course_numpy_step(np_params, X, Y, lr)
    J = graphgrad_step(gg_params, X, Y, lr)
    after = [p.data for p in gg_params]
    names = [f"{w}[{l + 1}]" for l in range(len(sizes) - 1) for w in ("W", "b")]
    check_same(f"MLP step {sizes}, batch {batch}",
               {"cost": J.data, **dict(zip(names, after)),
                **dict(zip(["d" + n for n in names], gradients_of_step(before, after, lr)))},
               {"cost": np.asarray(cost), **dict(zip(names, np_params)),
                **dict(zip(["d" + n for n in names],
                           gradients_of_step(before, np_params, lr)))}, tolerance)


def mlp_step(sizes, batch, dtype=np.float64) -> tuple[str, ...]:
    check_mlp_step(sizes, batch, dtype)
    X, Y, np_params, gg_params = _mlp_setup(sizes, batch, dtype)
    lr = 0.01
    number = 20 if sizes[0] > 100 else 200
    times = interleaved({"numpy": lambda: course_numpy_step(np_params, X, Y, lr),
                         "graphgrad": lambda: graphgrad_step(gg_params, X, Y, lr)}, number, 7)
    t_np, t_gg = times["numpy"], times["graphgrad"]
    label = "-".join(map(str, sizes)) + f", batch {batch}"
    return (label, f"{t_np * 1e6:.0f} us", f"{t_gg * 1e6:.0f} us", f"{t_gg / t_np:.2f}x")


# -- gradient penalty ---------------------------------------------------------------------------
def penalty_by_hand(Ws, bs, X):
    """WGAN-GP's gradient penalty of the critic D(X) = Z[L], Z[l] = A[l-1] W[l]^T + b[l],
    A[l] = tanh(Z[l]) (examples as rows, one output unit), by hand: D, dX = dD/dX row by row,
    gp = mean over examples of (||dX_i|| - 1)^2, and gp's gradients (every W[l], the hidden
    b[l], and X; b[L] has none). The backward of the backward, written out: dX = G[0], with
    G[l-1] = U[l] W[l], U[L] = 1 and U[l] = G[l] * S[l], S[l] = 1 - A[l]^2."""
    m, L = X.shape[0], len(Ws)
    A, S = [X], [None]
    for l in range(L):
        Z = A[-1] @ Ws[l].T + bs[l]
        if l < L - 1:
            A.append(np.tanh(Z))
            S.append(1 - A[-1] * A[-1])
    D = Z
    U = [None] * (L + 1)
    G = [None] * L
    U[L] = np.ones((m, 1))
    for l in range(L, 0, -1):  # dD/dA[l-1] = G[l-1]
        G[l - 1] = U[l] @ Ws[l - 1]
        if l > 1:
            U[l - 1] = G[l - 1] * S[l - 1]
    r = np.sqrt((G[0] * G[0]).sum(axis=1, keepdims=True))
    gp = np.mean((r - 1) ** 2)
    dW = [None] * L
    dA = [None] * L  # gp's gradient reaching A[l] through S[l]
    G_bar = 2 * (r - 1) / (m * r) * G[0]
    for l in range(1, L + 1):  # the first backward, in reverse
        dW[l - 1] = U[l].T @ G_bar
        if l < L:
            U_bar = G_bar @ Ws[l - 1].T
            G_bar = U_bar * S[l]
            dA[l] = -2 * A[l] * (U_bar * G[l])
    db = [None] * (L - 1)
    dZ_above = None
    for l in range(L - 1, 0, -1):  # then the forward, in reverse, from the hidden layers
        dA_total = dA[l] if dZ_above is None else dA[l] + dZ_above @ Ws[l]
        dZ = dA_total * S[l]
        dW[l - 1] = dW[l - 1] + dZ.T @ A[l - 1]
        db[l - 1] = dZ.sum(axis=0)
        dZ_above = dZ
    return {"D": D, "dX": G[0], "gp": np.asarray(gp), "gp's dX": dZ_above @ Ws[0],
            **{f"dW[{l + 1}]": d for l, d in enumerate(dW)},
            **{f"db[{l + 1}]": d for l, d in enumerate(db)}}


def _penalty_setup(sizes, batch):
    """The critic (Linear and Tanh layers of ``sizes``, one output) and X (batch, sizes[0])."""
    layers = []
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(gg.nn.Linear(n_in, n_out, init="xavier", rng=l))
        if l < len(sizes) - 2:
            layers.append(gg.nn.Tanh())
    for layer in layers[::2]:
        layer.b.data[...] = np.random.default_rng(7).standard_normal(layer.b.shape) * 0.1
    X = gg.Tensor(np.random.default_rng(0).standard_normal((batch, sizes[0])),
                  requires_grad=True)
    return gg.nn.Sequential(*layers), X


def graphgrad_penalty(critic, X):
    """The same in graphgrad: dX from gg.grad with create_graph=True (which computes no dW of
    the critic), then gp.backward() for the critic's gradients. Returns D, dX, gp."""
    X.grad = None
    for p in critic.parameters():
        p.grad = None
    D = critic(X)
    (dX,) = gg.grad(D.sum(), [X], create_graph=True)
    gp = ((((dX * dX).sum(axis=1)) ** 0.5 - 1.0) ** 2).mean()
    gp.backward(keep_intermediate_grads=False)
    return D, dX, gp


def check_gradient_penalty(sizes, batch, tolerance=1e-10) -> None:
    """graphgrad's D, dX, penalty and penalty gradients are the ones by hand."""
    critic, X = _penalty_setup(sizes, batch)
    linears = [critic[i] for i in range(0, len(critic), 2)]
    D, dX, gp = graphgrad_penalty(critic, X)
    got = {"D": D.data, "dX": dX.data, "gp": gp.data, "gp's dX": X.grad,
           **{f"dW[{l + 1}]": layer.W.grad for l, layer in enumerate(linears)},
           **{f"db[{l + 1}]": layer.b.grad for l, layer in enumerate(linears[:-1])}}
    if linears[-1].b.grad is not None:
        got["db[L]"] = linears[-1].b.grad  # gp does not depend on it: by hand has none
    check_same(f"gradient penalty {sizes}, batch {batch}", got,
               penalty_by_hand([layer.W.data for layer in linears],
                               [layer.b.data for layer in linears], X.data), tolerance)


def gradient_penalty(sizes, batch) -> tuple[str, ...]:
    check_gradient_penalty(sizes, batch)
    critic, X = _penalty_setup(sizes, batch)
    linears = [critic[i] for i in range(0, len(critic), 2)]
    Ws, bs = [layer.W.data for layer in linears], [layer.b.data for layer in linears]
    times = interleaved({"numpy": lambda: penalty_by_hand(Ws, bs, X.data),
                         "graphgrad": lambda: graphgrad_penalty(critic, X)}, 100, 7)
    t_np, t_gg = times["numpy"], times["graphgrad"]
    label = "-".join(map(str, sizes)) + f", batch {batch}"
    return (label, f"{t_np * 1e6:.0f} us", f"{t_gg * 1e6:.0f} us", f"{t_gg / t_np:.2f}x")


# -- long chain, float32 ------------------------------------------------------------------------
def long_chain(n: int = chains.LONG_CHAIN) -> list[tuple[str, ...]]:
    """The n-op chain's forward + backward (`benchmarks.chains`): graphgrad and PyTorch each in
    a process of its own, as a program using one of them runs, and graphgrad again in this
    one, which has loaded PyTorch too when it is installed: a long graph makes the garbage
    collector walk every object the process holds, PyTorch's among them."""
    label = f"{n:,}-op chain, forward + backward"
    rows = [(f"{label}, graphgrad alone in its process",
             f"{chains.in_fresh_process('graphgrad', n):.3f} s"),
            (f"{label}, numpy by hand", f"{chains.long_chain_seconds('numpy', n):.3f} s")]
    if torch is not None:
        rows += [(f"{label}, PyTorch alone in its process",
                  f"{chains.in_fresh_process('torch', n):.3f} s"),
                 (f"{label}, graphgrad with PyTorch loaded",
                  f"{chains.long_chain_seconds('graphgrad', n):.3f} s")]
    return rows


def float32_kept() -> tuple[str, ...]:
    rng = np.random.default_rng(0)
    X = gg.Tensor(rng.standard_normal((8, 5)), dtype=np.float32)
    W = gg.Tensor(rng.standard_normal((3, 8)), dtype=np.float32, requires_grad=True)
    Z = W @ X + 1.0
    J = (gg.tanh(Z) * 0.5).mean()
    J.backward()
    dtypes = {str(t.dtype) for t in (Z, J)} | {str(W.grad.dtype), str(Z.grad.dtype)}
    return ("float32 in: dtypes of outputs and grads", ", ".join(sorted(dtypes)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the big MLP")
    args = parser.parse_args()
    print_table("Per-op time, forward + backward, 4x4 float64",
                per_op_overhead(),
                ("op", "graphgrad", "numpy by hand", "graphgrad overhead", "PyTorch"))
    rows = [mlp_step((64, 32, 10), 32)]
    if not args.quick:
        rows.insert(0, mlp_step((784, 256, 128, 10), 64))
    print_table("One SGD step of an MLP (ReLU, softmax cross-entropy, float64)", rows,
                ("model", "numpy by hand", "graphgrad", "ratio"))
    print_table("Gradient penalty (WGAN-GP) of a tanh MLP critic: D, dX = gg.grad(D, X, "
                "create_graph=True), gp = mean((||dX_i|| - 1)^2), gp.backward()",
                [gradient_penalty((32, 64, 64, 1), 64)],
                ("critic", "numpy by hand", "graphgrad", "ratio"))
    print_table("Long graphs and dtypes", [*long_chain(), float32_kept()], ("what", "result"))


if __name__ == "__main__":
    main()
