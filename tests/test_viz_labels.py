"""The text inside pictures: numbers, arrays, op attributes, escaping."""
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from viz_helpers import edges, node_ids, node_label

import graphgrad as gg
import viz
from viz import labels

ROOT = Path(__file__).resolve().parent.parent


def test_numbers_read_as_short_as_they_are():
    as_text = [labels.number(x, 3) for x in (5.0, 33.0, -0.0, 0.25, 1234.5, 0.0001234, -2.5e7,
                                             float("nan"), float("-inf"), np.float32(1.5), 7,
                                             True)]
    assert as_text == ["5", "33", "0", "0.25", "1234", "0.000123", "-2.5e+07", "nan", "-inf",
                       "1.5", "7", "True"]


def test_small_arrays_whole_large_ones_summarized_with_nan_counted():
    assert labels.values(np.array([[1.0, 2.0], [3.0, 4.5]]), 3, 4) == "[[1, 2], [3, 4.5]]"
    assert labels.values(np.array(5.0), 3, 0) == "5"
    assert labels.values(np.arange(5.0), 3, 4) == "min 0  mean 2  max 4"
    with_nan = np.array([1.0, np.nan, np.inf, 3.0, np.nan])
    assert labels.summary(with_nan, 3) == "min 1  mean 2  max 3  2 NaN  1 Inf"
    assert labels.summary(np.array([True, False, True]), 3) == "2 of 3 true"
    assert labels.assignment("W", np.ones((3, 3)), 3, 4) == "W: min 1  mean 1  max 1"
    assert labels.shape(np.zeros((2, 3), np.float32)) == "(2, 3) float32"


def test_gradients_on_edges_are_short():
    assert labels.flowing("dv", np.array(3.0), 3, 4, accumulates=False) == "dv = 3"
    assert labels.flowing("dx", np.array([1.0, 2.0]), 3, 4, accumulates=True) == "dx += [1, 2]"
    assert labels.flowing("dW", np.linspace(-0.5, 0.7, 9), 3, 4, False) == "dW ∈ [-0.5, 0.7]"


def test_attributes_summarize_arrays_slices_and_tuples():
    assert labels.attribute(np.arange(10) > 4, 3) == "<bool array (10,)>"
    assert labels.attribute((slice(1, None), Ellipsis, np.array([0, 2])), 3) == (
        "(1:, ..., [0, 2])")
    assert labels.attribute(slice(None, 5, 2), 3) == ":5:2"
    assert labels.attribute(0.1, 3) == "0.1" and labels.attribute(None, 3) == "None"
    assert labels.attribute(np.dtype("float32"), 3) == "float32"


def test_escaping_and_cutting_keep_labels_valid():
    assert labels.escape('<b>&"\n\t') == "&lt;b&gt;&amp;&quot;\\\\n\\\\t"
    assert labels.shorten("abcdef", 4) == "abc…" and labels.shorten("abc", 4) == "abc"
    assert labels.wrap("a bb ccc dddd eeeee", 8) == ["a bb ccc", "dddd", "eeeee"]
    assert labels.wrap("a bb ccc dddd eeeee ffffff", 8, max_rows=2) == ["a bb ccc", "dddd …"]


def test_backslashes_are_doubled_so_graphviz_draws_them_as_written():
    # Graphviz expands \G, \N, \E, \T, \H (graph, node, edge, tail, head names) in labels.
    assert labels.escape(r"\Gamma \N") == r"\\Gamma \\N"
    assert labels.escape("a\\") == "a\\\\"


def test_characters_xml_forbids_are_shown_as_python_escapes():
    # Lone surrogates cannot be written as UTF-8; U+FFFE, U+FFFF make `dot` reject the label.
    assert labels.escape("bad\ud800\ufffe\uffff") == r"bad\\ud800\\ufffe\\uffff"
    assert labels.escape("ünïcode λ → ∂ \ufffd") == "ünïcode λ → ∂ \ufffd"


def test_escape_changes_each_character_it_must_even_alone_and_no_other():
    # escape returns text that needs no change as it is, without replacing anything: each
    # character of the BMP, within other text, is changed exactly when it is one of these.
    must = {*map(chr, range(0x20)), "\x7f", *map(chr, range(0xD800, 0xE000)), "\ufffe",
            "\uffff", "\\", "&", "<", ">", '"', "'"}
    changed = {c for c in map(chr, range(0x10000)) if labels.escape(f"a {c}b") != f"a {c}b"}
    assert changed == must
    assert [labels.escape(c) for c in "'>\x7f\\"] == ["&#x27;", "&gt;", "\\\\x7f", "\\\\"]
    assert labels.escape("a = 5 <") == "a = 5 &lt;" and labels.escape("\U0001d6fb") == "\U0001d6fb"


def test_scalars_are_shown_in_full_whatever_max_elements():
    assert labels.assignment("a", np.array(5.0), 3, 0) == "a = 5"
    assert labels.flowing("da", np.array(3.0), 3, 0, accumulates=False) == "da = 3"
    assert labels.flowing("da", np.array(3.0), 3, 0, accumulates=True) == "da += 3"
    assert labels.assignment("x", np.array([5.0]), 3, 0) == "x: min 5  mean 5  max 5"


def test_gradients_shown_as_a_range_still_say_they_add_up():
    large = np.arange(1.0, 6.0)
    assert labels.flowing("dx", large, 3, 4, accumulates=True) == "dx += min 1  max 5"
    assert labels.flowing("dx", large, 3, 4, accumulates=False) == "dx ∈ [1, 5]"
    with_nan = np.array([1.0, np.nan, 3.0, 4.0, 5.0])
    assert labels.flowing("dx", with_nan, 3, 4, True) == "dx += min 1  mean 3.25  max 5  1 NaN"
    assert labels.flowing("dx", with_nan, 3, 4, False) == "dx: min 1  mean 3.25  max 5  1 NaN"


class _Plain:
    pass


def test_attributes_never_show_memory_addresses():
    def double(a):
        return a * 2

    assert labels.attribute(double, 3) == (
        "test_attributes_never_show_memory_addresses.<locals>.double")
    assert labels.attribute(np.exp, 3) == "exp"
    assert labels.attribute(_Plain(), 3) == "<test_viz_labels._Plain object>"
    assert labels.attribute(_Plain, 3) == "_Plain"


def test_set_attributes_are_drawn_sorted():
    # {8, 1} iterates 8 first in every process (an int is its own hash)
    assert labels.attribute({8, 1}, 3) == "{1, 8}"
    assert labels.attribute(frozenset({"b", "a"}), 3) == "frozenset({'a', 'b'})"
    assert labels.attribute({"axes": {8, 1}, "w": 0.123456}, 3) == "{'axes': {1, 8}, 'w': 0.123}"
    assert labels.attribute({1, "a"}, 3) == "{'a', 1}"  # members that do not compare: by text
    assert labels.attribute(set(), 3) == "set()"


_SET_ATTRIBUTE_GRAPH = """
import numpy as np, graphgrad as gg, viz

class Keep(gg.Function):
    @staticmethod
    def forward(ctx, x, keys):
        return x * 1.0

    @staticmethod
    def backward(ctx, grad):
        return grad

x = gg.Tensor(np.ones(2), requires_grad=True, name="x")
J = Keep.apply(x, keys={"alpha", "beta", "gamma", "delta"}).sum()
J.backward()
print(viz.to_dot(J))
"""


def test_a_set_attribute_draws_the_same_picture_whatever_the_hash_seed():
    pictures = []
    for hash_seed in ("1", "2"):  # two seeds that iterate these str in other orders
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        done = subprocess.run([sys.executable, "-c", _SET_ATTRIBUTE_GRAPH], env=env,
                              capture_output=True, text=True, timeout=60, check=True)
        pictures.append(done.stdout)
    assert "keys={&#x27;alpha&#x27;, &#x27;beta&#x27;, &#x27;delta&#x27;, &#x27;gamma&#x27;}" in (
        pictures[0])
    assert pictures[0] == pictures[1]


def test_bold_and_font_never_write_an_empty_element():
    # Graphviz rejects <b></b> and <font ...></font>: the whole picture fails to render.
    assert labels.bold("J") == "<b>J</b>" and labels.bold("") == ""
    assert labels.font("x", "#ff0000", 9) == '<font color="#ff0000" point-size="9">x</font>'
    assert labels.font("", "#ff0000", 9) == ""
    assert labels.font("x") == "x"


def test_the_mean_of_large_finite_float32_values_is_finite():
    array = np.full(10, 3e38, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way either
        assert labels.summary(array, 3) == "min 3e+38  mean 3e+38  max 3e+38"
        assert labels.nonfinite(array) == (0, 0)


def test_fit_cuts_a_long_name_before_the_value():
    name = "n" * 60
    assert labels.fit("", name, " = 5", 48) == "n" * 43 + "… = 5"
    assert labels.fit("2: d", name, " += 3", 20) == "2: dnnnnnnnnnn… += 3"
    assert labels.fit("", "short", " = 5", 48) == "short = 5"


def test_an_array_too_long_for_its_row_is_summarized_not_cut_in_a_number():
    # "Z = [[-1.23e-05, -2.35e-06, -3.46e-07, -4.57e-08]]" is 50 characters: cut at 48, its
    # last element read "-4.57e-0…"; the row and the edge give the range instead.
    values = -np.array([[1.23e-05, 2.35e-06, 3.46e-07, 4.57e-08]])
    Z = gg.Tensor(values, requires_grad=True, name="Z")
    J = (Z * gg.Tensor(values, name="c")).sum()
    J.backward()
    source = viz.to_dot(J)
    rows = node_label(source, node_ids(source)["Z"]).split(" | ")
    assert rows[2:] == ["Z: min -1.23e-05  mean -3.76e-06  max -4.57e-08",
                        "dZ: min -1.23e-05  mean -3.76e-06  max -4.57e-08"]
    _, backward = edges(source)
    assert [label for *_, label in backward if label] == [
        "1: dt1 = [[1, 1, 1, 1]]", "2: dZ ∈ [-1.23e-05, -4.57e-08]"]
    # what fits is still shown whole: a name cut to 3 letters and "…" leaves the rest room
    assert labels.fits("", "Z", " = [[-1.23e-05, -2.35e-06, -3.46e-07, 4.57]]", 48)
    assert labels.fits("", "Z", " = " + "9" * 44, 48)
    assert not labels.fits("", "Z", " = " + "9" * 45, 48)
    assert labels.fits("d", "long_name", " = " + "9" * 40, 48)
    assert not labels.fits("d", "long_name", " = " + "9" * 41, 48)


def test_a_fixed_caption_cell_is_as_wide_as_its_text_in_the_widest_fallback_font():
    # Graphviz draws "Helvetica,Arial,sans-serif" in DejaVu Sans where neither is installed,
    # and warns "cell size too small for content" (on stderr) when a fixed cell is narrower
    # than the text it holds; matplotlib ships the font, so the bound can be measured here.
    import os
    import string

    import matplotlib
    from PIL import ImageFont

    path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans-Bold.ttf")
    points = 9
    font = ImageFont.truetype(path, 100 * points)  # 100x for sub-point precision
    texts = [c for c in string.printable if c.isprintable()] + [
        string.ascii_lowercase, string.ascii_uppercase, string.digits,
        "forward pass: 3 backward steps to go", "backward step 12 of 30: BroadcastTo",
        "backward step 1 of 3: Mul", "←→…αβ"]
    too_narrow = {text: (round(labels.text_width(text, points), 1),
                         round(font.getlength(text) / 100, 1))
                  for text in texts
                  if labels.text_width(text, points) < font.getlength(text) / 100}
    assert too_narrow == {}


def test_an_empty_array_says_it_is_empty_and_its_shape():
    assert labels.values(np.zeros((0, 3)), 3, 4) == "empty (0, 3)"
    assert labels.values(np.zeros((2, 0)), 3, 4) == "empty (2, 0)"
    assert labels.summary(np.zeros((0,), bool), 3) == "empty (0,)"
    assert labels.assignment("x", np.zeros((0, 3)), 3, 4) == "x: empty (0, 3)"
    assert labels.flowing("dx", np.zeros((0, 3)), 3, 4, accumulates=False) == "dx: empty (0, 3)"
    assert labels.flowing("dx", np.zeros((0, 3)), 3, 4, accumulates=True) == (
        "dx += empty (0, 3)")
    assert labels.attribute(np.array([], int), 3) == "empty (0,)"
    # In a picture: the value and the dvar of a box, and the gradient on a red edge.
    x = gg.Tensor(np.zeros((0, 3)), requires_grad=True, name="x")
    y = x * 2.0
    y.name = "y"
    J = y.sum()
    J.name = "J"
    J.backward()
    source = viz.to_dot(J, legend=False)
    ids = node_ids(source)
    assert node_label(source, ids["x"]) == "x | (0, 3) float64 | x: empty (0, 3) | dx: empty (0, 3)"
    assert node_label(source, ids["y"]) == "y | (0, 3) float64 | y: empty (0, 3) | dy: empty (0, 3)"
    red = {(tail, head): text for tail, head, text in edges(source)[1]}
    assert red[(ids["Mul"], ids["x"])] == "2: dx: empty (0, 3)"
    assert red[(ids["Sum"], ids["y"])] == "1: dy: empty (0, 3)"


def _op_labels(J: gg.Tensor) -> list[str]:
    """The labels of J's graph's op nodes (the tensors' boxes left out), in DOT order."""
    source = viz.to_dot(J, legend=False)
    every = [node_label(source, i) for i in re.findall(r"^\s*(\w+) \[label=<", source, re.M)]
    return [label.replace("&lt;", "<").replace("&gt;", ">") for label in every
            if label[:1].isupper() and not label.startswith(("J |", "x |", "x2 |"))]


def _summed(y: gg.Tensor) -> gg.Tensor:
    J = y.sum()
    J.name = "J"
    return J


def test_sort_reads_as_the_axis_given_not_the_index_built_from_it():
    # It read "index=(<int64 array (50, 1)>, <int64 array (50,…" for gg.sort(x, axis=1)
    x = gg.Tensor(np.random.default_rng(0).standard_normal((50, 4)), requires_grad=True,
                  name="x")
    assert _op_labels(_summed(gg.sort(x, axis=1))) == ["Sort | axis=1", "Sum | axis=None |"
                                                       " keepdims=False"]
    assert _op_labels(_summed(gg.sort(x)))[0] == "Sort | axis=1"  # the last axis, from 0
    assert _op_labels(_summed(gg.sort(x, axis=0)))[0] == "Sort | axis=0"
    # the flattened x: one node, no Reshape before it
    assert _op_labels(_summed(gg.sort(x, axis=None)))[0] == "Sort | axis=None"


def test_take_along_axis_reads_as_its_indices_and_axis():
    q = gg.Tensor(np.arange(20.0).reshape(5, 4), requires_grad=True, name="x")
    actions = np.array([[1], [0], [3], [2], [1]])
    labels_ = _op_labels(_summed(gg.take_along_axis(q, actions, 1)))
    assert labels_[0] == "TakeAlongAxis | indices=<int64 array (5, 1)> | axis=1"
    # a few indices are shown whole; negative ones counted from the end
    labels_ = _op_labels(_summed(gg.take_along_axis(q, np.array([1, -1, 3]), None)))
    assert labels_[0] == "TakeAlongAxis | indices=[1, 19, 3] | axis=None"


def test_quantile_takes_the_ranks_it_mixes_in_one_labelled_node():
    x = gg.Tensor(np.arange(20.0).reshape(5, 4), requires_grad=True, name="x")
    labels_ = _op_labels(_summed(gg.quantile(x, 0.3, axis=1)))
    # along the last axis of a matrix: no Transpose or Reshape that change nothing before it
    assert labels_[0] == "TakeAlongAxis | indices=<int64 array (5, 2)> | axis=1"
    # one q: no Transpose of its axis of size 1 after it, which moved no element
    assert [label.split(" |")[0] for label in labels_] == [
        "TakeAlongAxis", "GetItem", "GetItem", "Sub", "Mul", "Add", "Reshape", "Sum"]
    assert _op_labels(_summed(gg.median(x)))[:2] == [
        "Reshape | shape=(20,)", "TakeAlongAxis | indices=[9, 10] | axis=0"]


def test_triu_and_tril_read_as_the_diagonal_given():
    # They read "Where | condition=<bool array (3, 3)>", a constant 0 beside it
    x = gg.Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True, name="x")
    assert _op_labels(_summed(gg.triu(x, 1)))[0] == "Triu | k=1"
    assert _op_labels(_summed(gg.tril(x)))[0] == "Tril | k=0"
    source = viz.to_dot(_summed(gg.tril(x, -1)), legend=False)
    assert "Where" not in source and "float64 | 0" not in source


def test_cross_of_vectors_along_the_last_axis_is_one_node():
    # Three "Transpose | axes=(0, 1)", moves that changed nothing, stood around it
    a = gg.Tensor(np.eye(3)[:2], requires_grad=True, name="x")
    b = gg.Tensor(np.ones((2, 3)), requires_grad=True, name="x2")
    assert [label.split(" |")[0] for label in _op_labels(_summed(gg.cross(a, b)))] == [
        "Cross", "Sum"]
    # vectors along axis 0: each moved last and the products moved back, as asked
    moved = _op_labels(_summed(gg.cross(a.T, b.T, axis=0)))
    assert moved[-3:] == ["Cross", "Transpose | axes=(1, 0)", "Sum | axis=None | keepdims=False"]


def test_kron_reshapes_only_the_operand_with_fewer_axes():
    # Each operand had a Reshape to its own shape ("Reshape | shape=(2, 2)" of a (2, 2) one)
    a = gg.Tensor(np.eye(2), requires_grad=True, name="x")
    b = gg.Tensor(np.ones((2, 3)), requires_grad=True, name="x2")
    assert _op_labels(_summed(gg.kron(a, b))) == [
        "Einsum | subscripts='ab,cd->acbd'".replace("'", "&#x27;"), "Reshape | shape=(4, 6)",
        "Sum | axis=None | keepdims=False"]
    v = gg.Tensor(np.ones(2), requires_grad=True, name="x")
    assert _op_labels(_summed(gg.kron(v, b)))[0] == "Reshape | shape=(1, 2)"


def test_the_other_new_ops_read_as_what_was_written():
    # Each graph's op nodes, J's Sum left out: the op's name and the settings given to it.
    def x(*shape):
        return gg.Tensor(np.linspace(0.1, 0.9, int(np.prod(shape))).reshape(shape),
                         requires_grad=True, name="x")

    cases = {
        "diagonal": (gg.diagonal(x(3, 4), 1), ["Diagonal | offset=1 | axis1=0 | axis2=1"]),
        "diag": (gg.diag(x(3), -1), ["DiagEmbed | shape=(4, 4) | offset=-1 | axis1=0 | axis2=1"]),
        "trace": (gg.trace(x(3, 3)), ["Diagonal | offset=0 | axis1=0 | axis2=1",
                                      "Sum | axis=-1 | keepdims=False"]),
        "diff": (gg.diff(x(3, 5), n=2, axis=0), ["Diff | axis=0", "Diff | axis=0"]),
        "cumsum": (gg.cumsum(x(3, 5), axis=1), ["Cumsum | axis=1"]),
        "fliplr": (gg.fliplr(x(3, 2)), ["Flip | axis=1"]),
        "rot90": (gg.rot90(x(3, 2)), ["Flip | axis=1", "Transpose | axes=(1, 0)"]),
        "column_stack": (gg.column_stack([x(3)]), ["Reshape | shape=(-1, 1)",
                                                  "Concatenate | axis=1"]),
        "atleast_3d": (gg.atleast_3d(x(3)), ["Reshape | shape=(1, 3, 1)"]),
        "copy": (gg.copy(x(3)), ["Copy"]),
        "trigonometric": (gg.arctan2(gg.tan(x(2)), gg.hypot(x(2), x(2))),
                          ["Tan", "Hypot", "Arctan2"]),
        "hyperbolic": (gg.arctanh(gg.sinh(gg.arcsinh(gg.cosh(x(2)))) * 0.1),
                       ["Cosh", "Arcsinh", "Sinh", "Mul", "Arctanh"]),
        "powers": (gg.logaddexp(gg.exp2(x(2)), gg.log2(x(2))), ["Exp2", "Log2", "LogAddExp"]),
        "more powers": (gg.reciprocal(gg.cbrt(gg.log10(x(2)))), ["Log10", "Cbrt", "Reciprocal"]),
    }
    for name, (y, expected) in cases.items():
        J = y.sum()
        J.name = "J"
        read = [label for label in _op_labels(J) if not label.startswith("Sum | axis=None")]
        assert read == expected, name
