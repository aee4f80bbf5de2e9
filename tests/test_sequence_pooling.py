"""1-D pooling of sequences (m, n_L, n_C), channels last as Conv1d takes them: values from a
numpy loop over random settings (hypothesis), finite differences, ties and padding, the
layers against the functions, and the errors. The op table gradchecks each op too."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn
from tests.op_table import pool1d_reference

POOLS = {"max": (gg.max_pool1d, "max"), "avg": (gg.avg_pool1d, "avg")}


def _distinct(shape, seed):
    """Values 0.1 apart in a random order: no ties, so max pooling is differentiable."""
    values = np.random.default_rng(seed).permutation(int(np.prod(shape))) * 0.1 - 1.0
    return values.reshape(shape)


@st.composite
def pool1d_cases(draw):
    f, stride = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    pad = draw(st.integers(0, f // 2))
    shape = (draw(st.integers(1, 3)), draw(st.integers(max(1, f - 2 * pad), 9)),
             draw(st.integers(1, 3)))
    return shape, f, stride, pad


@given(pool1d_cases(), st.sampled_from(["max", "avg", "avg_real"]), st.integers(0, 2**32 - 1))
def test_pooling_over_random_settings_follows_a_numpy_loop_and_finite_differences(
        case, kind, seed):
    shape, f, stride, pad = case
    A = _distinct(shape, seed)

    def pool(a):
        if kind == "max":
            return gg.max_pool1d(a, f, stride=stride, padding=pad)
        return gg.avg_pool1d(a, f, stride=stride, padding=pad,
                             count_include_pad=kind == "avg")

    out = pool(A)
    assert out.shape == (shape[0], (shape[1] + 2 * pad - f) // stride + 1, shape[2])
    np.testing.assert_allclose(out.data, pool1d_reference(A, f, stride, pad, kind), atol=1e-12)
    assert gg.gradcheck(pool, [gg.Tensor(A, requires_grad=True, name="A")])


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_second_derivatives_pass_gradgradcheck(kind):
    pool, _ = POOLS[kind]
    A = gg.Tensor(_distinct((2, 7, 2), 3), requires_grad=True, name="A")
    assert gg.gradgradcheck(lambda a: pool(a, 3, stride=2, padding=1), [A])


def test_a_tied_window_passes_its_whole_gradient_to_its_first_largest_step():
    A = gg.Tensor(np.array([[[1.0], [3.0], [3.0], [2.0]]]), requires_grad=True)
    gg.max_pool1d(A, 4).sum().backward()
    np.testing.assert_array_equal(A.grad[0, :, 0], [0.0, 1.0, 0.0, 0.0])


def test_max_pooling_never_chooses_the_padding_of_negative_sequences():
    A = gg.Tensor(-np.arange(1.0, 6.0).reshape(1, 5, 1), requires_grad=True)
    out = gg.max_pool1d(A, 3, stride=2, padding=1)  # windows [pad -1 -2], [-2 -3 -4], [-4 -5 pad]
    np.testing.assert_array_equal(out.data[0, :, 0], [-1.0, -2.0, -4.0])
    out.sum().backward()
    np.testing.assert_array_equal(A.grad[0, :, 0], [1.0, 1.0, 0.0, 1.0, 0.0])


def test_average_pooling_counts_the_padding_or_not_as_the_formula_says():
    A = np.arange(1.0, 5.0).reshape(1, 4, 1)  # 0 | 1 2 3 4 | 0, windows of 3, stride 2
    counted = gg.avg_pool1d(A, 3, stride=2, padding=1).data[0, :, 0]
    real = gg.avg_pool1d(A, 3, stride=2, padding=1, count_include_pad=False).data[0, :, 0]
    np.testing.assert_allclose(counted, [(0 + 1 + 2) / 3, (2 + 3 + 4) / 3])
    np.testing.assert_allclose(real, [(1 + 2) / 2, (2 + 3 + 4) / 3])


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("f", [1, 3, 5])
def test_same_padding_keeps_the_length(kind, f):
    pool, _ = POOLS[kind]
    assert pool(np.zeros((2, 6, 3)), f, stride=1, padding="same").shape == (2, 6, 3)


def test_each_channel_is_pooled_apart_as_the_2d_pool_of_one_pixel_high_images_would():
    """A window of f steps of one channel: the sequence's max pooling is the 2-D one of an
    image one pixel high whose every row holds the sequence (a 1 x f window's max is the
    f x f window's when every row is the same)."""
    A = _distinct((2, 6, 3), 5)
    images = np.repeat(A[:, None], 2, axis=1)  # (m, 2, n_L, n_C), both rows the same
    np.testing.assert_array_equal(gg.max_pool1d(A, 2).data,
                                  gg.max_pool2d(images, 2).data[:, 0])
    np.testing.assert_allclose(gg.avg_pool1d(A, 2).data, gg.avg_pool2d(images, 2).data[:, 0])


@pytest.mark.parametrize("layer, fn", [
    (nn.MaxPool1d(3, stride=2, padding=1), lambda a: gg.max_pool1d(a, 3, 2, 1)),
    (nn.AvgPool1d(3, stride=2, padding=1), lambda a: gg.avg_pool1d(a, 3, 2, 1)),
    (nn.AvgPool1d(2, padding=1, count_include_pad=False),
     lambda a: gg.avg_pool1d(a, 2, padding=1, count_include_pad=False)),
    (nn.MaxPool1d(2), lambda a: gg.max_pool1d(a, 2)),
])
def test_the_layers_are_the_functions(layer, fn):
    A = _distinct((2, 7, 3), 1)
    x1, x2 = gg.Tensor(A, requires_grad=True), gg.Tensor(A, requires_grad=True)
    out1, out2 = layer(x1), fn(x2)
    np.testing.assert_array_equal(out1.data, out2.data)
    g = np.random.default_rng(0).standard_normal(out1.shape)
    out1.backward(g)
    out2.backward(g)
    np.testing.assert_array_equal(x1.grad, x2.grad)
    assert list(layer.parameters()) == []


def test_the_layers_show_their_settings():
    assert repr(nn.MaxPool1d(2)) == "MaxPool1d(f=2, stride=2)"
    assert repr(nn.AvgPool1d(3, stride=1, padding="same", count_include_pad=False)) == (
        "AvgPool1d(f=3, stride=1, pad=1, count_include_pad=False)")


def test_a_conv1d_then_max_pool1d_network_trains_on_sequences():
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding="same", rng=0), nn.ReLU(),
                          nn.MaxPool1d(2), nn.Flatten(), nn.Linear(4 * 4, 1, rng=0))
    X = np.random.default_rng(0).standard_normal((5, 8, 2))
    assert model(X).shape == (5, 1)


# -- errors ---------------------------------------------------------------------------------------
def test_images_are_refused_with_the_2d_pool_named():
    with pytest.raises(gg.GraphgradError, match=r"\(m, n_L, n_C\).*use max_pool2d"):
        gg.max_pool1d(np.zeros((1, 4, 4, 2)), 2)
    with pytest.raises(gg.GraphgradError, match=r"use avg_pool2d"):
        nn.AvgPool1d(2)(np.zeros((1, 4, 4, 2)))


def test_one_sequence_is_refused_with_the_axis_it_lacks():
    with pytest.raises(gg.GraphgradError, match=r"A\[None\].*A\[\.\.\., None\]"):
        gg.max_pool1d(np.zeros((6, 2)), 2)


def test_a_window_longer_than_the_sequence_is_refused_with_the_formula():
    with pytest.raises(gg.GraphgradError, match=r"f=5 does not fit in sequences of n_L_prev = "
                                                r"3 steps.*n_L = floor"):
        gg.avg_pool1d(np.zeros((1, 3, 1)), 5)


@pytest.mark.parametrize("make", [lambda: nn.MaxPool1d(2, padding=2),
                                  lambda: gg.max_pool1d(np.zeros((1, 4, 1)), 2, padding=2)])
def test_padding_beyond_half_the_window_is_refused(make):
    with pytest.raises(gg.ArgumentError, match=r"padding 2 is more than half.*padding <= 1"):
        make()


@pytest.mark.parametrize("make", [lambda: nn.MaxPool1d(0), lambda: nn.AvgPool1d(2, stride=0),
                                  lambda: nn.AvgPool1d(2, count_include_pad=1),
                                  lambda: gg.avg_pool1d(np.zeros((1, 4, 1)), 2.5)])
def test_bad_settings_are_refused_by_name(make):
    with pytest.raises(gg.ArgumentError, match=r"(Pool1d|pool1d)"):
        make()


@pytest.mark.parametrize("call", [
    lambda: gg.avg_pool1d(np.zeros((1, 6, 1)), 3, 1, 1, False, False),
    lambda: gg.avg_pool2d(np.zeros((1, 6, 6, 1)), 3, 1, 1, False, False),
    lambda: nn.functional.avg_pool2d(np.zeros((1, 6, 6, 1)), 2, 2, 0, True, True),
    lambda: nn.AvgPool1d(3, 1, 1, False, False),
    lambda: nn.AvgPool2d(3, 1, 1, False, False),
], ids=["avg_pool1d", "avg_pool2d", "F.avg_pool2d", "AvgPool1d", "AvgPool2d"])
def test_count_include_pad_is_a_keyword_after_ceil_mode_as_pytorch_orders_them(call):
    """PyTorch's F.avg_pool1d, F.avg_pool2d, nn.AvgPool1d and nn.AvgPool2d take ceil_mode after
    the padding, as these do; count_include_pad, PyTorch's sixth, is a keyword here, so a
    call written for PyTorch's order with it by position is refused, not misread."""
    with pytest.raises(TypeError, match="positional argument"):
        call()


def test_the_fifth_argument_of_average_pooling_is_ceil_mode_as_pytorch():
    A = np.arange(7.0).reshape(1, 7, 1)
    np.testing.assert_array_equal(gg.avg_pool1d(A, 2, 2, 0, True).data.ravel(),
                                  [0.5, 2.5, 4.5, 6.0])
    np.testing.assert_array_equal(nn.AvgPool1d(2, 2, 0, True)(A).data.ravel(),
                                  [0.5, 2.5, 4.5, 6.0])
