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
    lambda A: gg.avg_pool1d(A, 3, 1, 1, False, False),
    lambda A: gg.avg_pool2d(A[:, None], 3, 1, 1, False, False)[:, 0],
    lambda A: nn.functional.avg_pool2d(A[:, None], (1, 3), 1, (0, 1), False, False)[:, 0],
    lambda A: nn.AvgPool1d(3, 1, 1, False, False)(A),
    lambda A: nn.AvgPool2d((1, 3), 1, (0, 1), False, False)(A[:, None])[:, 0],
], ids=["avg_pool1d", "avg_pool2d", "F.avg_pool2d", "AvgPool1d", "AvgPool2d"])
def test_count_include_pad_is_the_sixth_argument_as_pytorch_orders_them(call):
    """PyTorch's F.avg_pool1d, F.avg_pool2d, nn.AvgPool1d and nn.AvgPool2d take
    (kernel_size, stride, padding, ceil_mode, count_include_pad) by position, as these do: a
    call written for PyTorch with count_include_pad=False by position raised TypeError (it
    was a keyword only). The border windows divide by their real steps."""
    A = np.arange(6.0).reshape(1, 6, 1)
    np.testing.assert_allclose(np.asarray(call(A).data).ravel(), [0.5, 1, 2, 3, 4, 4.5],
                               rtol=1e-15)


def test_divisor_override_divides_every_window_by_it_as_pytorch():
    """avg_pool2d's seventh argument and nn.AvgPool2d's sixth, PyTorch's divisor_override:
    each window's sum over that number, its padding counted or not; the gradient shares dy
    by it. A count_include_pad given one place too far is refused by name."""
    A = np.arange(16.0).reshape(1, 4, 4, 1)
    out = gg.avg_pool2d(A, 2, 2, 1, False, False, 3)
    windows = np.array([[0, 1 + 2, 3], [4 + 8, 5 + 6 + 9 + 10, 7 + 11], [12, 13 + 14, 15]])
    np.testing.assert_allclose(out.data[0, :, :, 0], windows / 3, rtol=1e-15)
    np.testing.assert_array_equal(nn.AvgPool2d(2, 2, 1, False, True, 3)(A).data, out.data)
    assert repr(nn.AvgPool2d(2, divisor_override=3)) == "AvgPool2d(f=2, stride=2, " \
                                                       "divisor_override=3)"
    X = gg.Tensor(A, requires_grad=True)
    gg.avg_pool2d(X, 2, 2, 1, divisor_override=3).sum().backward()
    np.testing.assert_array_equal(X.grad, np.full(A.shape, 1 / 3))
    with pytest.raises(gg.ArgumentError, match=r"avg_pool2d: divisor_override is the number "
                                               r"every window's sum is divided by .* got True"):
        gg.avg_pool2d(A, 2, 2, 0, False, True, True)
    with pytest.raises(gg.ArgumentError, match=r"AvgPool2d: divisor_override must be a whole"):
        nn.AvgPool2d(2, divisor_override=0)


def test_the_fifth_argument_of_average_pooling_is_ceil_mode_as_pytorch():
    A = np.arange(7.0).reshape(1, 7, 1)
    np.testing.assert_array_equal(gg.avg_pool1d(A, 2, 2, 0, True).data.ravel(),
                                  [0.5, 2.5, 4.5, 6.0])
    np.testing.assert_array_equal(nn.AvgPool1d(2, 2, 0, True)(A).data.ravel(),
                                  [0.5, 2.5, 4.5, 6.0])


# -- max pooling's indices and max unpooling ----------------------------------------------------
@given(pool1d_cases(), st.booleans(), st.integers(0, 2**32 - 1))
def test_max_pool1d_indices_say_where_each_value_came_from_and_unpool_puts_it_back(
        case, ceil_mode, seed):
    """max_pool1d(..., return_indices=True), PyTorch's: the step l of each largest value
    (it was refused); max_unpool1d puts each value back there among zeros."""
    shape, f, stride, pad = case
    A = gg.Tensor(_distinct(shape, seed), requires_grad=True)
    out, indices = gg.max_pool1d(A, f, stride, pad, 1, ceil_mode, True)
    np.testing.assert_array_equal(out.data, gg.max_pool1d(A, f, stride, pad, 1,
                                                          ceil_mode).data)
    assert indices.dtype == np.int64 and not indices.requires_grad
    m, length, channels = shape
    taken = A.data[np.arange(m)[:, None, None], indices.data, np.arange(channels)]
    np.testing.assert_array_equal(taken, out.data)
    up = gg.max_unpool1d(out, indices, f, stride, pad, output_size=length)
    expected = np.zeros(shape)
    expected[np.arange(m)[:, None, None], indices.data, np.arange(channels)] = out.data
    np.testing.assert_array_equal(up.data, expected)
    assert gg.gradcheck(lambda a: gg.max_pool1d(a, f, stride, pad, 1, ceil_mode, True)[0], [A])


def test_max_unpool1d_default_length_gradient_and_second_order():
    A = np.array([[[0.5], [3.0], [-1.0], [2.0], [7.0], [1.0], [4.0]]])  # (1, 7, 1)
    out, indices = gg.max_pool1d(A, 2, return_indices=True)
    np.testing.assert_array_equal(indices.data.ravel(), [1, 3, 4])
    P = gg.Tensor(out.data, requires_grad=True)
    up = gg.max_unpool1d(P, indices, 2)  # (3 - 1) 2 + 2 = 6 steps: the 7th was dropped
    np.testing.assert_array_equal(up.data.ravel(), [0, 3, 0, 2, 7, 0])
    (up * np.arange(6.0)[None, :, None]).sum().backward()
    np.testing.assert_array_equal(P.grad.ravel(), [1, 3, 4])
    assert gg.gradgradcheck(lambda p: gg.max_unpool1d(p, indices, 2, output_size=7) ** 2,
                            [P.data.copy()])


def test_max_pool1d_and_max_unpool1d_layers_are_the_functions():
    """nn.MaxPool1d(return_indices=True) and nn.MaxUnpool1d, PyTorch's (channels last):
    unpool(*pool(A)), SegNet's round trip along sequences."""
    A = _distinct((2, 7, 3), 5)
    pool, unpool = nn.MaxPool1d(3, 2, 1, return_indices=True), nn.MaxUnpool1d(3, 2, 1)
    assert repr(pool) == "MaxPool1d(f=3, stride=2, pad=1, return_indices=True)"
    assert repr(unpool) == "MaxUnpool1d(f=3, stride=2, pad=1)"
    out, indices = pool(A)
    ref, ref_indices = gg.max_pool1d(A, 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(out.data, ref.data)
    np.testing.assert_array_equal(indices.data, ref_indices.data)
    np.testing.assert_array_equal(unpool(out, indices).data,
                                  gg.max_unpool1d(ref, ref_indices, 3, 2, 1).data)
    assert unpool(out, indices, output_size=(2, 7, 3)).shape == (2, 7, 3)


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.max_unpool1d(np.ones((1, 3, 2)), np.zeros((1, 3, 1), dtype=int), 2),
     gg.ArgumentError, r"max_unpool1d: indices must be integers of A's shape \(1, 3, 2\), as "
                       r"max_pool1d\(..., return_indices=True\) gives them"),
    (lambda: gg.max_unpool1d(np.ones((1, 3, 1)), np.full((1, 3, 1), 6), 2),
     gg.ArgumentError, r"indices run from 6 to 6, outside the 6 steps of the output"),
    (lambda: gg.max_unpool1d(np.ones((1, 3, 1, 1)), np.zeros((1, 3, 1, 1), dtype=int), 2),
     gg.ShapeError, r"max_unpool1d takes pooled sequences A of shape \(m, n_L, n_C\)"),
    (lambda: gg.max_unpool1d(np.ones((1, 3, 1)), np.zeros((1, 3, 1), dtype=int), 2,
                             output_size=(4, 5)),
     gg.ArgumentError, r"output_size is the length n_L"),
    (lambda: nn.MaxUnpool1d((2, 2)), gg.ArgumentError,
     r"MaxUnpool1d: the window size f of a 1-D pool must be a whole number"),
    (lambda: nn.MaxPool1d(2, return_indices=1), gg.ArgumentError,
     r"MaxPool1d: return_indices must be True or False"),
])
def test_max_unpool1d_errors_name_it_and_say_what_to_give(call, error, message):
    with pytest.raises(error, match=message):
        call()
