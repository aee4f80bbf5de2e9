"""flip, roll, moveaxis, repeat, tile, vstack, hstack and ravel at worked values: forward as
numpy's, gradients worked out by hand (a copied element's gradient is the sum of its copies'),
float32 kept, numpy's functions and the Tensor methods recording the op, and bad arguments
refused with the op, the tensor and what to do. The op table checks them against finite
differences over random shapes."""
import re

import numpy as np
import pytest

import graphgrad as gg
from graphgrad.ops import rearrange


def _leaf(values, name="x", dtype=np.float64):
    return gg.Tensor(np.array(values, dtype=dtype), requires_grad=True, name=name)


# -- gradients by hand ---------------------------------------------------------------------------
def test_repeat_per_element_adds_up_the_gradients_of_each_elements_copies():
    x = _leaf([1.0, 2.0, 3.0])
    w = _leaf([1.0, 2.0, 3.0, 4.0, 5.0], "w")
    y = gg.repeat(x, [2, 0, 3])
    np.testing.assert_array_equal(y.data, [1.0, 1.0, 3.0, 3.0, 3.0])
    J = (y * w).sum()
    (dx,) = gg.grad(J, [x], create_graph=True)
    np.testing.assert_array_equal(dx.data, [1 + 2, 0, 3 + 4 + 5])  # 2 was repeated 0 times
    # d/dw of sum(dx * v) puts v's element on each copy: v repeated as x was
    (dw,) = gg.grad((dx * np.array([1.0, 10.0, 100.0])).sum(), [w])
    np.testing.assert_array_equal(dw, [1.0, 1.0, 100.0, 100.0, 100.0])


def test_repeat_along_an_axis_and_of_the_flattened_tensor():
    x = _leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x.repeat([1, 3], axis=1)  # each row: a, b, b, b
    np.testing.assert_array_equal(y.data, [[1, 2, 2, 2], [3, 4, 4, 4]])
    y.backward(np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]))
    np.testing.assert_array_equal(x.grad, [[1, 2 + 3 + 4], [5, 6 + 7 + 8]])
    x.grad = None
    z = gg.repeat(x, 2)  # flattened: 1 1 2 2 3 3 4 4
    np.testing.assert_array_equal(z.data, [1, 1, 2, 2, 3, 3, 4, 4])
    z.backward(np.arange(8.0))
    np.testing.assert_array_equal(x.grad, [[0 + 1, 2 + 3], [4 + 5, 6 + 7]])


def test_repeat_zero_times_gives_an_empty_axis_and_zero_gradients():
    x = _leaf([[1.0, 2.0], [3.0, 4.0]])
    y = gg.repeat(x, 0, axis=0)
    assert y.shape == (0, 2)
    (dx,) = gg.grad(y.sum(), [x])
    np.testing.assert_array_equal(dx, np.zeros((2, 2)))


def test_tile_gradient_is_the_sum_over_the_tiles():
    x = _leaf([1.0, 2.0])
    y = gg.tile(x, (2, 3))
    np.testing.assert_array_equal(y.data, np.tile([1.0, 2.0], (2, 3)))
    upstream = np.arange(12.0).reshape(2, 6)
    y.backward(upstream)
    # x[0] is at the even columns of both rows, x[1] at the odd ones
    np.testing.assert_array_equal(x.grad, [upstream[:, ::2].sum(), upstream[:, 1::2].sum()])


def test_flip_and_roll_move_the_gradient_back():
    x = _leaf([1.0, 2.0, 3.0, 4.0])
    w = np.array([10.0, 20.0, 30.0, 40.0])
    np.testing.assert_array_equal(gg.flip(x).data, [4, 3, 2, 1])
    (gg.flip(x) * w).sum().backward()
    np.testing.assert_array_equal(x.grad, [40, 30, 20, 10])
    x.grad = None
    y = gg.roll(x, 1)
    np.testing.assert_array_equal(y.data, [4, 1, 2, 3])
    (y * w).sum().backward()  # y[i] = x[i - 1]: dx[j] = w[j + 1]
    np.testing.assert_array_equal(x.grad, [20, 30, 40, 10])


def test_roll_with_a_shift_per_axis_and_of_the_flattened_tensor():
    data = np.arange(6.0).reshape(2, 3)
    x = _leaf(data)
    np.testing.assert_array_equal(gg.roll(x, (1, -1), axis=(0, 1)).data,
                                  np.roll(data, (1, -1), axis=(0, 1)))
    np.testing.assert_array_equal(gg.roll(x, 2).data, [[4, 5, 0], [1, 2, 3]])
    np.testing.assert_array_equal(gg.roll(x, (1, 1)).data, np.roll(data, (1, 1)))  # by 2
    gg.roll(x, 2).backward(data)
    np.testing.assert_array_equal(x.grad, [[2, 3, 4], [5, 0, 1]])
    for shift, axis in [(np.array([1, -1]), (0, 1)), (np.array([1, 1]), None),
                        (np.array(2), 1)]:  # numpy takes arrays of shifts too
        np.testing.assert_array_equal(gg.roll(x, shift, axis).data, np.roll(data, shift, axis))


def test_flip_of_an_axis_named_twice_is_refused_by_name():
    with pytest.raises(gg.ArgumentError, match=r"flip of 'x' \(2, 3\) float64: axis "
                       r"\(0, -2\) names an axis twice; give each axis to flip once"):
        gg.flip(_leaf(np.ones((2, 3)), "x"), (0, -2))


def test_moveaxis_is_a_transpose_with_numpys_order():
    data = np.zeros((2, 3, 4, 5))
    x = gg.Tensor(data, requires_grad=True)
    y = gg.moveaxis(x, -1, 0)
    assert y.shape == (5, 2, 3, 4) and type(y.creator).__name__ == "Transpose"
    assert x.moveaxis([0, 1], [-1, -2]).shape == np.moveaxis(data, [0, 1], [-1, -2]).shape
    y.backward(np.arange(120.0).reshape(5, 2, 3, 4))
    np.testing.assert_array_equal(x.grad, np.moveaxis(np.arange(120.0).reshape(5, 2, 3, 4),
                                                      0, -1))


def test_vstack_makes_rows_of_vectors_and_hstack_joins_them():
    a, b = _leaf([1.0, 2.0, 3.0], "a"), _leaf([4.0, 5.0, 6.0], "b")
    rows = gg.vstack([a, b])
    np.testing.assert_array_equal(rows.data, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(gg.hstack([a, b]).data, [1, 2, 3, 4, 5, 6])
    under = gg.vstack([rows, a])
    assert under.shape == (3, 3)
    (rows * np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad, [1, 2, 3])
    np.testing.assert_array_equal(b.grad, [4, 5, 6])
    columns = gg.hstack([gg.reshape(a, (3, 1)), gg.vstack([a, b]).T])
    np.testing.assert_array_equal(columns.data, [[1, 1, 4], [2, 2, 5], [3, 3, 6]])


def test_ravel_is_the_flattened_tensor_on_the_graph():
    y = _leaf([[0.2, 0.5, 0.3]], "y")
    p = y.ravel()
    assert p.shape == (3,) and type(p.creator).__name__ == "Reshape"
    (p * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(y.grad, [[1, 2, 3]])


FLOAT32_CALLS = [
    ("flip", lambda t: gg.flip(t, 0)), ("roll", lambda t: gg.roll(t, 1, axis=1)),
    ("moveaxis", lambda t: gg.moveaxis(t, 0, 1)), ("repeat", lambda t: gg.repeat(t, [1, 2], 0)),
    ("repeat_int", lambda t: t.repeat(2, axis=1)), ("tile", lambda t: gg.tile(t, (2, 1))),
    ("vstack", lambda t: gg.vstack([t[0], t[1]])), ("hstack", lambda t: gg.hstack([t, t])),
    ("ravel", lambda t: t.ravel()),
]


@pytest.mark.parametrize("name, call", FLOAT32_CALLS, ids=[c[0] for c in FLOAT32_CALLS])
def test_float32_stays_float32_forward_and_backward(name, call):
    x = _leaf([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=np.float32)
    y = call(x)
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, np.float32))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(y.data, call(x.data.astype(np.float64)).data)


# -- numpy's functions and the methods record the op ---------------------------------------------
RECORDED = [
    ("np.flip", np.flip, np.flip, "Flip"),
    ("np.roll", lambda t: np.roll(t, 1, axis=0), None, "Roll"),
    ("np.moveaxis", lambda t: np.moveaxis(t, 0, -1), None, "Transpose"),
    ("np.repeat", lambda t: np.repeat(t, 2, axis=0), None, "Repeat"),
    ("np.tile", lambda t: np.tile(t, 2), None, "Tile"),
    ("np.vstack", lambda t: np.vstack([t, t]), None, "Concatenate"),
    ("np.vstack_rows", lambda t: np.vstack([t[0], t[1]]), None, "Stack"),
    ("np.hstack", lambda t: np.hstack([t, t]), None, "Concatenate"),
    ("np.ravel", np.ravel, None, "Reshape"),
    ("t.flip", lambda t: t.flip(1), lambda a: np.flip(a, 1), "Flip"),
    ("t.roll", lambda t: t.roll(-1), lambda a: np.roll(a, -1), "Roll"),
    ("t.moveaxis", lambda t: t.moveaxis(1, 0), lambda a: np.moveaxis(a, 1, 0), "Transpose"),
    ("t.repeat", lambda t: t.repeat(3), None, "Repeat"),
    ("t.tile", lambda t: t.tile((2, 2)), lambda a: np.tile(a, (2, 2)), "Tile"),
    ("t.ravel", lambda t: t.ravel(), None, "Reshape"),
]


@pytest.mark.parametrize("name, call, reference, op", RECORDED, ids=[c[0] for c in RECORDED])
def test_numpy_functions_and_methods_record_the_op(name, call, reference, op):
    """np.flip(t) and its kin were refused on a tensor that requires grad (no graphgrad op);
    the methods numpy's arrays have too (a.repeat, a.ravel) give what they give."""
    data = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -4.0]])
    x = gg.Tensor(data, requires_grad=True)
    y = call(x)
    assert type(y.creator).__name__ == op
    np.testing.assert_array_equal(y.data, (reference or call)(data))
    assert gg.gradcheck(call, [data])


def test_numpy_settings_graphgrad_has_no_form_of_are_refused_by_name():
    x = gg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(gg.GraphgradTypeError, match=r"numpy\.vstack\(\.\.\., dtype=\.\.\.\) "
                       r"has no graphgrad op"):
        np.vstack([x, x], dtype=np.float32)


# -- bad arguments -------------------------------------------------------------------------------
X = gg.Tensor(np.ones((3, 4)), requires_grad=True, name="X")


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.flip(X, 2), gg.ArgumentError,
     "flip: axis 2 is out of range for 'X' (3, 4) float64: give an axis from -2 to 1, or None "
     "to flip every axis"),
    (lambda: np.flip(X, axis=(0, -3)), gg.ArgumentError,
     "flip: axis -3 is out of range for 'X' (3, 4) float64: give an axis from -2 to 1, or None "
     "to flip every axis"),
    (lambda: X.flip(True), gg.GraphgradTypeError,
     "flip: axis must be an int or a sequence of ints, or None to flip every axis; got True"),
    (lambda: gg.roll(X, 1, axis=5), gg.ArgumentError,
     "roll: axis 5 is out of range for 'X' (3, 4) float64: give an axis from -2 to 1, or None "
     "to roll the flattened x"),
    (lambda: gg.roll(X, (1, 2, 3), axis=(0, 1)), gg.ArgumentError,
     "roll of 'X' (3, 4) float64: 3 shifts (1, 2, 3) for 2 axes (0, 1): give one shift per "
     "axis, or one shift for all"),
    (lambda: gg.roll(X, 1.5), gg.GraphgradTypeError,
     "roll: shift must be an int or a sequence of ints, got 1.5"),
    (lambda: gg.moveaxis(X, 0, 2), gg.ArgumentError,
     "moveaxis: destination 2 is out of range for 'X' (3, 4) float64: give an axis from -2 "
     "to 1"),
    (lambda: gg.moveaxis(X, [0, 1], [1]), gg.ArgumentError,
     "moveaxis of 'X' (3, 4) float64: 2 source axes (0, 1) for 1 destinations (1,): give one "
     "destination per axis moved"),
    (lambda: gg.moveaxis(X, [0, -2], [0, 1]), gg.ArgumentError,
     "moveaxis of 'X' (3, 4) float64: source names an axis twice, (0, 0) (from [0, -2]): each "
     "axis moves once, to one place"),
    (lambda: gg.repeat(X, [1, 2], axis=1), gg.ArgumentError,
     "repeat of 'X' (3, 4) float64: 2 counts in repeats for 4 elements along axis 1 of x: give "
     "one count per element, or one count for all"),
    (lambda: X.repeat([1, 2, 3]), gg.ArgumentError,
     "repeat of 'X' (3, 4) float64: 3 counts in repeats for 12 elements of the flattened x: "
     "give one count per element, or one count for all"),
    (lambda: np.repeat(X, 2, axis=-3), gg.ArgumentError,
     "repeat: axis -3 is out of range for 'X' (3, 4) float64: give an axis from -2 to 1, or "
     "None to repeat the elements of the flattened x"),
    (lambda: gg.repeat(X, -1), gg.ArgumentError, "repeat: repeats must not be negative, got -1"),
    (lambda: gg.repeat(X, 2.0), gg.GraphgradTypeError,
     "repeat: repeats must be a whole number or a sequence of them, one per element, got 2.0"),
    (lambda: gg.tile(X, (2, -1)), gg.ArgumentError,
     "tile: reps must not be negative, got (2, -1)"),
    (lambda: gg.vstack([X, gg.Tensor(np.ones(3), name="row")]), gg.OpError,
     "vstack of 'X' (3, 4) float64, 'row' (3,) float64: it joins them as rows (a 1-D tensor is "
     "one row) along axis 0, so they need one number of axes and equal sizes along the "
     "others; as joined their shapes are (3, 4), (1, 3). Reshape the ones that differ first "
     "(t.reshape(1, -1) makes a row)"),
    (lambda: gg.vstack([X[0], X[0, :3]]), gg.OpError,
     "vstack of output of GetItem (4,) float64, output of GetItem (3,) float64: as rows, every "
     "1-D tensor must have the same length"),
    (lambda: gg.hstack([X, gg.Tensor(np.ones(3), name="c")]), gg.OpError,
     "hstack of 'X' (3, 4) float64, 'c' (3,) float64: it joins them as columns along axis 1, "
     "so they need one number of axes and equal sizes along the others; as joined their shapes "
     "are (3, 4), (3,). Reshape the ones that differ first (t.reshape(-1, 1) makes a "
     "column)"),
    (lambda: gg.vstack(X), gg.GraphgradTypeError,
     "vstack takes a list of tensors (vstack([a, b])), got Tensor"),
    (lambda: gg.hstack([]), gg.ArgumentError,
     "hstack got an empty list: give at least one tensor to join (hstack([a, b]))"),
    # the pieces are checked as vstack's and hstack's own inputs, not left to the Reshape
    # that makes a row of each, whose error named an op the caller never wrote
    (lambda: gg.vstack([X[0], None]), gg.GraphgradTypeError,
     "vstack: input 1 must hold numbers, got None"),
    (lambda: gg.hstack([X[0], ["a", "b"]]), gg.GraphgradTypeError,
     "hstack: input 1 must hold numbers, got <U1 values of shape (2,)"),
    (lambda: gg.hstack("ab"), gg.GraphgradTypeError,
     "hstack takes a list of tensors (hstack([a, b])), got str"),
], ids=["flip-axis", "np.flip-axes", "flip-bool", "roll-axis", "roll-lengths", "roll-float",
        "moveaxis-range", "moveaxis-lengths", "moveaxis-twice", "repeat-length",
        "repeat-flattened-length", "np.repeat-axis", "repeat-negative", "repeat-float",
        "tile-negative", "vstack-shapes", "vstack-rows", "hstack-shapes", "vstack-one-tensor",
        "hstack-empty", "vstack-none", "hstack-text", "hstack-a-string"])
def test_bad_arguments_name_the_op_the_tensor_and_what_to_do(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value) == message


def test_the_reshape_a_join_error_recommends_makes_the_tensors_join():
    """vstack's error says t.reshape(1, -1) makes a row, hstack's t.reshape(-1, 1) a column:
    the tensor that did not fit, reshaped so, joins the others."""
    X = gg.Tensor(np.arange(12.0).reshape(3, 4), name="X")
    for join, t, expected in [(gg.vstack, gg.Tensor(np.ones((4, 1))), (4, 4)),
                              (gg.hstack, gg.Tensor(np.ones(3)), (3, 5))]:
        with pytest.raises(gg.OpError) as info:
            join([X, t])
        advice = re.search(r"\((t\.reshape\([^)]*\)) makes a", str(info.value)).group(1)
        assert join([X, eval(advice, {"t": t})]).shape == expected


def test_flip_along_one_axis_indexes_with_a_kept_slice_in_place_of_np_flip(monkeypatch):
    """flip of one int axis (or None) reads x and the gradient through slices found once per
    number of axes and axis, not through np.flip, which checks axis again on every call."""
    X = np.arange(24.0).reshape(2, 3, 4)
    x = gg.Tensor(X, requires_grad=True)
    G = np.arange(24.0).reshape(2, 3, 4) ** 2
    monkeypatch.setattr(np, "flip", None)  # calling it fails
    for axis, expected in [(1, X[:, ::-1]), (-1, X[..., ::-1]), (None, X[::-1, ::-1, ::-1])]:
        x.grad = None
        y = gg.flip(x, axis)
        np.testing.assert_array_equal(y.data, expected)
        y.backward(G)
        np.testing.assert_array_equal(x.grad, G[:, ::-1] if axis == 1 else
                                      G[..., ::-1] if axis == -1 else G[::-1, ::-1, ::-1])


def test_moveaxis_of_int_axes_finds_the_order_once_and_still_refuses_bad_ones(monkeypatch):
    """moveaxis(x, 0, -1) of a 3-D x checks its axes and finds the order (1, 2, 0) once for
    3-D tensors; a later call reuses it, and an axis out of range is refused as before."""
    X = np.arange(24.0).reshape(2, 3, 4)
    x = gg.Tensor(X, requires_grad=True)
    np.testing.assert_array_equal(gg.moveaxis(x, 0, -1).data, np.moveaxis(X, 0, -1))
    monkeypatch.setattr(rearrange, "_axes", None)  # checking again fails
    y = gg.moveaxis(x, 0, -1)
    assert y.shape == (3, 4, 2) and y.creator.attrs["axes"] == (1, 2, 0)
    G = np.arange(24.0).reshape(3, 4, 2)
    y.backward(G)
    np.testing.assert_array_equal(x.grad, np.moveaxis(G, -1, 0))
    monkeypatch.undo()
    with pytest.raises(gg.ArgumentError, match="moveaxis: source 3 is out of range"):
        gg.moveaxis(x, 3, 0)


def test_tile_by_a_tuple_of_ints_checks_it_without_making_an_array(monkeypatch):
    """reps given as ints (or a tuple of them) are checked as they are; a gradient sums the
    tiles, and a bool or negative count is still refused with its message."""
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = gg.Tensor(X, requires_grad=True)
    monkeypatch.setattr(rearrange, "_whole_numbers", None)  # making an array of reps fails
    y = gg.tile(x, (2, 1))
    np.testing.assert_array_equal(y.data, [[1, 2], [3, 4], [1, 2], [3, 4]])
    y.backward(np.arange(8.0).reshape(4, 2))
    np.testing.assert_array_equal(x.grad, [[4.0, 6.0], [8.0, 10.0]])
    np.testing.assert_array_equal(gg.tile(x, 2).data, np.tile(X, 2))
    monkeypatch.undo()
    with pytest.raises(gg.GraphgradTypeError, match=r"tile: reps must be a whole number"):
        gg.tile(x, True)
    with pytest.raises(gg.ArgumentError, match=r"tile: reps must not be negative, got \(2, -1\)"):
        gg.tile(x, (2, -1))


def test_roll_along_one_int_axis_copies_two_kept_blocks_in_place_of_np_roll(monkeypatch):
    """roll by one int along one int axis copies x and the gradient in two blocks found once
    per axis, size and shift, not through np.roll, which checks its axis on every call; the
    blocks are np.roll's for shifts past the size, negative ones and an empty axis."""
    X = np.arange(24.0).reshape(2, 3, 4)
    G = X ** 2
    # expected values from np.roll, taken before it is replaced
    cases = [(shift, axis, np.roll(X, shift, axis), np.roll(G, -shift, axis))
             for shift in (0, 1, -1, 5, -7, 12) for axis in (0, 1, -1)]
    empty = np.zeros((2, 0))
    monkeypatch.setattr(np, "roll", None)  # calling it fails
    x = gg.Tensor(X, requires_grad=True)
    for shift, axis, expected, dx in cases:
        x.grad = None
        y = gg.roll(x, shift, axis)
        np.testing.assert_array_equal(y.data, expected)
        y.backward(G)
        np.testing.assert_array_equal(x.grad, dx)
    assert gg.roll(empty, 3, 1).shape == (2, 0)
    monkeypatch.undo()  # recorded, the gradient is rolled by the op itself
    # second derivative: the gradient of roll's gradient is rolled as x was
    w = gg.Tensor(np.arange(4.0), requires_grad=True)
    (dw,) = gg.grad((gg.roll(w, 1, 0) * gg.Tensor(np.arange(4.0) * 10)).sum(), [w],
                    create_graph=True)
    np.testing.assert_array_equal(dw.data, [10, 20, 30, 0])


def test_repeat_by_one_int_checks_nothing_more_and_sums_array_gradients_in_numpy(monkeypatch):
    """repeat by one int along an in-range int axis (or None) goes to the op without turning
    repeats into an array to check, and its backward on arrays sums the runs of copies in
    numpy, not through RepeatGrad.call; recorded (create_graph), it is RepeatGrad again."""
    X = np.arange(6.0).reshape(2, 3)
    G = {0: np.arange(18.0).reshape(6, 3), -1: np.arange(18.0).reshape(2, 9),
         None: np.arange(18.0)}
    dx = {0: G[0].reshape(2, 3, 3).sum(axis=1), -1: G[-1].reshape(2, 3, 3).sum(axis=2),
          None: G[None].reshape(6, 3).sum(axis=1).reshape(2, 3)}
    monkeypatch.setattr(rearrange, "_whole_numbers", None)  # calling either fails
    monkeypatch.setattr(rearrange.RepeatGrad, "call", None)
    x = gg.Tensor(X, requires_grad=True)
    for axis in (0, -1, None):
        x.grad = None
        y = gg.repeat(x, 3, axis)
        np.testing.assert_array_equal(y.data, np.repeat(X, 3, axis))
        y.backward(G[axis])
        np.testing.assert_array_equal(x.grad, dx[axis])
    x.grad = None
    gg.repeat(x, 0, 1).backward(np.zeros((2, 0)))
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))
    monkeypatch.undo()
    w = gg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (dw,) = gg.grad((gg.repeat(w, 2, 0) ** 3).sum(), [w], create_graph=True)
    np.testing.assert_array_equal(dw.data, 2 * 3 * np.array([1.0, 4.0]))  # 2 copies of 3 w^2
    (d2w,) = gg.grad(dw.sum(), [w], create_graph=True)
    np.testing.assert_array_equal(d2w.data, 2 * 6 * np.array([1.0, 2.0]))
    (d3w,) = gg.grad(d2w.sum(), [w])
    np.testing.assert_array_equal(d3w, [12.0, 12.0])
