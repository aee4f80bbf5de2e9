"""The benchmarks' agreement checks: every timed pair (graphgrad and the numpy code it is
measured against) computes the same cost, gradients and updated parameters, so a ratio never
compares different work. Nothing here is timed."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import graphgrad as gg
from benchmarks import (
    bench_conv,
    bench_engine,
    bench_layers,
    bench_memory,
    bench_nn_mlp,
    bench_ops,
    bench_recurrent,
    chains,
)
from benchmarks.common import Disagreement, check_same, gradients_of_step

CHECKS = {
    "engine: per-op chains": lambda: bench_engine.check_per_op(n=30),
    "engine: long chain": lambda: chains.check_long_chain(n=50),
    "engine: MLP step": lambda: bench_engine.check_mlp_step((6, 5, 3), 4),
    "engine: MLP step, timed sizes": lambda: bench_engine.check_mlp_step((64, 32, 10), 32),
    "engine: gradient penalty": lambda: bench_engine.check_gradient_penalty((3, 5, 4, 1), 6),
    "engine: gradient penalty, timed sizes":
        lambda: bench_engine.check_gradient_penalty((32, 64, 64, 1), 64),
    "nn MLP: every step": lambda: bench_nn_mlp.check_steps((6, 5, 4, 3), 4),
    "nn MLP: every step, timed sizes": lambda: bench_nn_mlp.check_steps((64, 32, 10), 32),
    "conv: ConvNet step": lambda: bench_conv.check_step(3),
    "recurrent: RNN step": lambda: bench_recurrent.check("rnn", 5, 4, 3, 6),
    "recurrent: LSTM step": lambda: bench_recurrent.check("lstm", 5, 4, 3, 6),
    "layers: every layer, timed sizes": bench_layers.check_layers,
    "ops: every newer op, timed sizes": bench_ops.check_ops,
    "ops: every newer op, odd sizes": lambda: bench_ops.check_ops(5),
    "memory: checkpointed MLP": bench_memory.check_checkpoint,
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_each_benchmark_pair_computes_the_same_numbers(name):
    CHECKS[name]()


def test_memory_benchmark_checks_the_steps_it_measures():
    assert bench_memory.check_steps is bench_nn_mlp.check_steps


def _forgetting_b1(step, index_of_b1):
    """``step`` that leaves b[1] as it was: a baseline that forgets db[1]."""
    def forgetful(params, *args, **kwargs):
        b1 = params[index_of_b1]
        kept = b1.copy()
        cost = step(params, *args, **kwargs)
        b1[...] = kept
        return cost
    return forgetful


def test_a_baseline_that_forgets_db_is_caught(monkeypatch):
    monkeypatch.setattr(bench_engine, "course_numpy_step",
                        _forgetting_b1(bench_engine.course_numpy_step, 1))
    with pytest.raises(Disagreement, match=r"b\[1\]"):
        bench_engine.check_mlp_step((6, 5, 3), 4)
    monkeypatch.setattr(bench_nn_mlp, "rows_numpy_step",
                        _forgetting_b1(bench_nn_mlp.rows_numpy_step, 1))
    with pytest.raises(Disagreement, match=r"rows against the course's numpy step: d?b\[1\]"):
        bench_nn_mlp.check_steps((6, 5, 3), 4)


def test_a_conv_or_recurrent_baseline_that_skips_a_bias_is_caught(monkeypatch):
    numpy_step = bench_conv.numpy_step

    def without_db(params, X, y):
        kept = params["b"].copy()
        cost = numpy_step(params, X, y)
        params["b"][...] = kept
        return cost

    monkeypatch.setattr(bench_conv, "numpy_step", without_db)
    with pytest.raises(Disagreement, match="ConvNet step, batch 3: d?b "):
        bench_conv.check_step(3)

    recurrent_step = bench_recurrent.numpy_step

    def without_dby(gradients, p, x, y):
        kept = p["by"].copy()
        cost = recurrent_step(gradients, p, x, y)
        p["by"][...] = kept
        return cost

    monkeypatch.setattr(bench_recurrent, "numpy_step", without_dby)
    with pytest.raises(Disagreement, match="linear1.b"):
        bench_recurrent.check("rnn", 5, 4, 3, 6)


def test_check_same_refuses_other_names_shapes_dtypes_values_and_nan():
    a = np.arange(6.0).reshape(2, 3)
    check_same("same", {"dW": a, "cost": 1.0}, {"dW": a + 1e-12, "cost": 1.0})
    check_same("relative to the size", {"x": np.array([1e6])}, {"x": np.array([1e6 + 1e-5])})
    with pytest.raises(Disagreement, match=r"graphgrad gives \['dW'\], the baseline "
                                           r"\['dW', 'db'\]"):
        check_same("missing db", {"dW": a}, {"dW": a, "db": a[:, 0]})
    with pytest.raises(Disagreement, match=r"db is float64 of shape \(2, 1\) in graphgrad, "
                                           r"float64 of shape \(2,\)"):
        check_same("bias shape", {"db": a[:, :1]}, {"db": a[:, 0]})
    with pytest.raises(Disagreement, match="float32 of shape"):
        check_same("dtype", {"dW": a.astype(np.float32)}, {"dW": a})
    with pytest.raises(Disagreement, match=r"dW differs .* by 1\.00e-06"):
        check_same("value", {"dW": a + 1e-6}, {"dW": a})
    with pytest.raises(Disagreement, match="differs"):
        check_same("nan", {"dW": a * np.nan}, {"dW": a})


def test_gradients_of_step_undo_an_sgd_update():
    W, dW = np.array([[1.0, -2.0]]), np.array([[0.5, 0.25]])
    (recovered,) = gradients_of_step([W], [W - 0.01 * dW], 0.01)
    np.testing.assert_allclose(recovered, dW, rtol=0, atol=1e-14)


def test_the_per_op_chain_keeps_no_intermediate_gradient_as_numpy_and_pytorch_keep_none():
    made = []

    def op(y):
        made.append(gg.tanh(y))
        return made[-1]

    J, dx = chains.chain(op, np.full((2, 2), 0.5), n=3)
    assert all(t.grad is None for t in made)
    # dJ/dx of tanh(tanh(tanh(x))) summed, by the chain rule on the values.
    y1 = np.tanh(0.5)
    y2 = np.tanh(y1)
    y3 = np.tanh(y2)
    np.testing.assert_allclose(dx, np.full((2, 2), (1 - y3**2) * (1 - y2**2) * (1 - y1**2)),
                               rtol=1e-14)
    assert J == pytest.approx(4 * y3)


def test_the_attention_baseline_computes_every_weights_and_biases_gradient():
    """Graphgrad's backward fills dW and db of the query, key, value and output layers: the
    numpy side computes all eight too, with the course's formulas."""
    rng = np.random.default_rng(0)
    m, T, d, h = 2, 3, 4, 2
    layer = gg.nn.MultiHeadAttention(d, h, rng=0)
    for linear in (layer.query, layer.key, layer.value, layer.out):
        linear.b.data = rng.standard_normal(d) * 0.1
    weights = [p.data for p in layer.parameters()]
    X, G = rng.standard_normal((m, T, d)), rng.standard_normal((m, T, d))
    out, dX, *grads = bench_layers.attention(X, G, weights, h)
    X_t = gg.Tensor(X, requires_grad=True)
    layer(X_t, X_t, X_t).backward(G)
    assert len(grads) == 8
    for (name, p), g in zip(layer.named_parameters(), grads):
        np.testing.assert_allclose(g, p.grad, rtol=0, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(dX, X_t.grad, rtol=0, atol=1e-12)


def test_the_long_chain_runs_in_a_process_that_loads_no_other_framework():
    # Its figure is compared with PyTorch's: the garbage collector walks every object of the
    # process on a long graph, so PyTorch's objects loaded beside it would slow graphgrad's run.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, benchmarks.chains; print(sorted(m for m in "
         "('torch', 'jax', 'tensorflow', 'matplotlib', 'viz') if m in sys.modules))"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parents[1])
    assert loaded.stdout.strip() == "[]"
