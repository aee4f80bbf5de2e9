"""A character model's training step through time, with graphgrad's recurrent layers, against the
same step written by hand in numpy in the course's style.

The model is Course 5's Dinosaur Island one: a cell run over T time steps of one-hot
characters, and at every step a softmax over the next character, y<t> = softmax(Wya a<t> + by).
The cost is the cross-entropy of every step, averaged over the m examples and the T steps
(the course's loss, which sums over the steps of one name, divided by m T). One step is the
forward pass over the sequence, the cost, backpropagation through time, and W -= alpha dW
(the course's clipping left out, on both sides).

graphgrad: ``J = nn.cross_entropy(out(rnn(X)), Y); sgd.zero_grad(); J.backward();
sgd.step()`` with ``nn.RNN(cell="rnn")`` or ``nn.RNN(cell="lstm")`` and an ``nn.Linear``
on the states. The numpy step follows the course's rnn_cell_forward / rnn_step_backward and
lstm_cell_forward / lstm_cell_backward (one product per gate, examples in columns), with its
own loop back through time. Before timing, both give the same cost, gradients and updated
parameters to 1e-10. Both run in this process, interleaved, best of N; BLAS on one thread (see
bench_nn_mlp).

Run: ``.venv/bin/python -m benchmarks.bench_recurrent``.
"""
from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # before numpy loads BLAS

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.common import (  # noqa: E402
    check_same,
    gradients_of_step,
    interleaved,
    print_table,
)
from graphgrad import nn, optim  # noqa: E402

LR = 0.01


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    """Over the rows of each column: z (n_y, m)."""
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _output_forward(p: dict, a: np.ndarray, y_t: np.ndarray, scale: float
                    ) -> tuple[np.ndarray, float]:
    """y_hat<t> = softmax(Wya a<t> + by), and its share of the cost: -log y_hat<t>[y<t>]."""
    y_hat = _softmax(p["Wya"] @ a + p["by"])
    return y_hat, -np.log(y_hat[y_t, np.arange(a.shape[1])]).sum() * scale


def _output_backward(p: dict, g: dict, y_hat: np.ndarray, y_t: np.ndarray, a: np.ndarray,
                     scale: float) -> np.ndarray:
    """dy = (y_hat - one_hot(y)) / (m T) into dWya, dby; returns dJ/da<t> from the output."""
    dy = y_hat.copy()
    dy[y_t, np.arange(a.shape[1])] -= 1
    dy *= scale
    g["Wya"] += dy @ a.T
    g["by"] += dy.sum(axis=1, keepdims=True)
    return p["Wya"].T @ dy


def rnn_gradients(p: dict, x: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """The course's rnn_forward and rnn_backward with a softmax per step. x (n_x, m, T) one-hot,
    y (m, T) the next characters' indices; p holds Wax, Waa, ba, Wya, by (biases (n, 1))."""
    n_x, m, T = x.shape
    scale = 1.0 / (m * T)
    a_prev = np.zeros((p["Waa"].shape[0], m))
    states, outputs, loss = [a_prev], [], 0.0
    for t in range(T):
        a_prev = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ x[:, :, t] + p["ba"])
        y_hat, cost = _output_forward(p, a_prev, y[:, t], scale)
        states.append(a_prev)
        outputs.append(y_hat)
        loss += cost
    g = {name: np.zeros_like(value) for name, value in p.items()}
    da_next = 0.0
    for t in reversed(range(T)):
        a = states[t + 1]
        da = _output_backward(p, g, outputs[t], y[:, t], a, scale) + da_next
        daraw = (1 - a * a) * da
        g["ba"] += daraw.sum(axis=1, keepdims=True)
        g["Wax"] += daraw @ x[:, :, t].T
        g["Waa"] += daraw @ states[t].T
        da_next = p["Waa"].T @ daraw
    return loss, g


def lstm_gradients(p: dict, x: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    """The course's lstm_forward (lstm_cell_forward at every step) and lstm_backward
    (lstm_cell_backward), with a softmax per step. p holds Wf, bf, Wi, bi, Wc, bc, Wo, bo,
    Wya, by: the gates' W of shape (n_a, n_a + n_x), acting on concat = [a<t-1>; x<t>]."""
    n_x, m, T = x.shape
    n_a = p["Wf"].shape[0]
    scale = 1.0 / (m * T)
    a_next, c_next = np.zeros((n_a, m)), np.zeros((n_a, m))
    caches, loss = [], 0.0
    for t in range(T):
        a_prev, c_prev = a_next, c_next
        concat = np.concatenate([a_prev, x[:, :, t]], axis=0)
        ft = _sigmoid(p["Wf"] @ concat + p["bf"])
        it = _sigmoid(p["Wi"] @ concat + p["bi"])
        cct = np.tanh(p["Wc"] @ concat + p["bc"])
        c_next = ft * c_prev + it * cct
        ot = _sigmoid(p["Wo"] @ concat + p["bo"])
        a_next = ot * np.tanh(c_next)
        y_hat, cost = _output_forward(p, a_next, y[:, t], scale)
        caches.append((a_next, c_next, c_prev, ft, it, cct, ot, concat, y_hat))
        loss += cost
    g = {name: np.zeros_like(value) for name, value in p.items()}
    da_prev, dc_prev = 0.0, 0.0
    for t in reversed(range(T)):
        a_next, c_next, c_prev, ft, it, cct, ot, concat, y_hat = caches[t]
        da_next = _output_backward(p, g, y_hat, y[:, t], a_next, scale) + da_prev
        dc_next = dc_prev
        tanh_c = np.tanh(c_next)
        # lstm_cell_backward
        dc = dc_next + ot * (1 - tanh_c ** 2) * da_next
        dot = da_next * tanh_c * ot * (1 - ot)
        dcct = dc * it * (1 - cct ** 2)
        dit = dc * cct * it * (1 - it)
        dft = dc * c_prev * ft * (1 - ft)
        for gate, d in (("f", dft), ("i", dit), ("c", dcct), ("o", dot)):
            g["W" + gate] += d @ concat.T
            g["b" + gate] += d.sum(axis=1, keepdims=True)
        da_prev = (p["Wf"][:, :n_a].T @ dft + p["Wi"][:, :n_a].T @ dit
                   + p["Wc"][:, :n_a].T @ dcct + p["Wo"][:, :n_a].T @ dot)
        dc_prev = dc * ft
    return loss, g


def numpy_step(gradients, p: dict, x: np.ndarray, y: np.ndarray) -> float:
    """The course's step: the gradients by hand, then W -= alpha dW."""
    loss, g = gradients(p, x, y)
    for name, grad in g.items():
        p[name] -= LR * grad
    return loss


# graphgrad's parameter -> the course's name and shape: the course calls the update gate's
# weights Wi, bi, and keeps biases as columns.
_COURSE_NAMES = {"W": "Wya", "b": "by", "Wu": "Wi", "bu": "bi"}


def _course_name(name: str) -> str:
    own = name.rpartition(".")[2]
    return _COURSE_NAMES.get(own, own)


def build(cell: str, n_x: int, n_a: int, seed: int = 0) -> tuple[nn.Module, dict]:
    """The graphgrad model (an RNN and a Linear on its states, n_y = n_x) with random weights
    and biases, and the same parameters in the course's shapes (copies)."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.RNN(n_x, n_a, cell=cell, rng=seed), nn.Linear(n_a, n_x, rng=seed))
    course = {}
    for name, parameter in model.named_parameters():
        parameter.data = rng.standard_normal(parameter.shape) * 0.3
        value = parameter.data.copy()
        course[_course_name(name)] = value[:, None] if value.ndim == 1 else value
    return model, course


def batch(n_x: int, m: int, T: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x (n_x, m, T) one-hot characters, as the course keeps them, and y (m, T) the next
    characters' indices (y<t> = x<t+1>)."""
    rng = np.random.default_rng(seed)
    chars = rng.integers(0, n_x, (m, T + 1))
    x = np.eye(n_x)[chars[:, :T]].transpose(2, 0, 1)
    return np.ascontiguousarray(x), chars[:, 1:]


def _setup(cell: str, n_x: int, n_a: int, m: int, T: int) -> tuple:
    """The graphgrad model, the same parameters in the course's shapes, the batch (x, y), the
    numpy step's gradient function and graphgrad's training step (returning the cost)."""
    model, course = build(cell, n_x, n_a)
    x, y = batch(n_x, m, T)
    X = np.ascontiguousarray(x.transpose(1, 2, 0))  # (m, T, n_x), batch-first
    sgd = optim.SGD(model.parameters(), lr=LR)

    def graphgrad_step() -> np.ndarray:
        J = nn.cross_entropy(model(X), y)
        sgd.zero_grad()
        J.backward(keep_intermediate_grads=False)
        sgd.step()
        return J.data

    return model, course, x, y, rnn_gradients if cell == "rnn" else lstm_gradients, graphgrad_step


def check(cell: str, n_x: int, n_a: int, m: int, T: int, tolerance: float = 1e-10) -> None:
    """One timed step of each side, from the same parameters, gives the same cost, gradients
    (graphgrad's .grad; the numpy step's as its update used them) and updated parameters, to
    ``tolerance``."""
    model, course, x, y, gradients, graphgrad_step = _setup(cell, n_x, n_a, m, T)
    before = {name: value.copy() for name, value in course.items()}
    loss = numpy_step(gradients, course, x, y)
    got, expected = {"cost": graphgrad_step()}, {"cost": np.asarray(loss)}
    for name, parameter in model.named_parameters():
        own = _course_name(name)
        got[name], got["d" + name] = parameter.data, parameter.grad
        expected[name] = course[own].reshape(parameter.shape)
        expected["d" + name] = gradients_of_step([before[own]], [course[own]], LR)[0].reshape(
            parameter.shape)
    check_same(f"{cell.upper()} n_x={n_x} n_a={n_a} m={m} T={T}", got, expected, tolerance)


def training_step(cell: str, n_x: int, n_a: int, m: int, T: int, number: int, repeat: int
                  ) -> tuple[str, ...]:
    check(cell, n_x, n_a, m, T)
    _, course, x, y, gradients, graphgrad_step = _setup(cell, n_x, n_a, m, T)
    times = interleaved({"numpy": lambda: numpy_step(gradients, course, x, y),
                         "graphgrad": graphgrad_step}, number, repeat)
    label = f"{cell.upper()} n_x={n_x} n_a={n_a} m={m} T={T}"
    return (label, f"{times['numpy'] * 1e3:.2f} ms", f"{times['graphgrad'] * 1e3:.2f} ms",
            f"{times['graphgrad'] / times['numpy']:.2f}x")


# (n_x, n_a, m, T, steps per timing): Dinosaur Island's sizes (27 characters, 50 units,
# names of up to 25 characters) one name and a batch at a time, and a medium model.
SIZES = ((27, 50, 1, 25, 20), (27, 50, 16, 25, 20), (64, 128, 32, 20, 5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cell", choices=("rnn", "lstm"), action="append",
                        help="only these cells (default: both)")
    args = parser.parse_args()
    rows = [training_step(cell, n_x, n_a, m, T, number, args.repeat)
            for cell in args.cell or ("rnn", "lstm") for n_x, n_a, m, T, number in SIZES]
    print_table("One SGD step through time of a character model (float64), ratio to the "
                "course's numpy step", rows, ("model", "numpy by hand", "graphgrad nn", "ratio"))


if __name__ == "__main__":
    main()
