"""The DOT text of graph pictures: what each node says, the edges, options, determinism, and
that a picture keeps nothing of the graph it drew."""
import gc
import inspect
import re
import subprocess
import warnings
import weakref

import graphviz
import numpy as np
import pytest
from viz_helpers import course_graph, edges, node_attrs, node_ids, node_label

import graphgrad as gg
import viz
from viz import styles
from viz.dot import _edge, _node


def test_course_graph_nodes_show_values_and_dvars():
    source = viz.to_dot(course_graph()["J"])
    ids = node_ids(source)
    expected = {"a": (5, 3), "b": (3, 6), "c": (2, 9), "u": (6, 3), "v": (11, 3), "J": (33, 1)}
    for name, (value, dvar) in expected.items():
        label = node_label(source, ids[name])
        assert label == f"{name} | scalar float64 | {name} = {value} | d{name} = {dvar}"


def test_course_graph_forward_edges_run_input_op_output():
    source = viz.to_dot(course_graph()["J"])
    ids = node_ids(source)
    forward, _ = edges(source)
    a, b, c, u, v, J = (ids[n] for n in "abcuvJ")
    constant = re.search(r"(\w+) \[label=<.*<td>3</td>", source).group(1)
    mul_bc, add, mul_3 = "op1", "op2", "op3"
    assert [(tail, head) for tail, head, _ in forward] == [
        (b, mul_bc), (c, mul_bc), (mul_bc, u),
        (a, add), (u, add), (add, v),
        (constant, mul_3), (v, mul_3), (mul_3, J),
    ]
    assert "Mul" in node_label(source, mul_bc) and "Add" in node_label(source, add)
    # The default edge is the blue forward one, the backward block overrides it with red.
    assert re.search(r'edge \[.*color="#1f63c6"', source)


def test_course_graph_backward_edges_run_back_numbered_with_the_gradient():
    source = viz.to_dot(course_graph()["J"])
    ids = node_ids(source)
    _, backward = edges(source)
    a, b, c, u, v, J = (ids[n] for n in "abcuvJ")
    assert backward == [
        (J, "op3", ""), ("op3", v, "1: dv = 3"),
        (v, "op2", ""), ("op2", a, "2: da = 3"), ("op2", u, "3: du = 3"),
        (u, "op1", ""), ("op1", b, "4: db = 6"), ("op1", c, "5: dc = 9"),
    ]
    block = source[source.index("subgraph backward"):]
    assert re.search(r'edge \[color="#d62728" constraint=false fontcolor="#d62728"\]', block)


def test_before_backward_only_the_blue_graph_is_drawn():
    source = viz.to_dot(course_graph(backward=False)["J"])
    forward, backward = edges(source)
    assert len(forward) == 9 and backward == []
    assert "subgraph backward" not in source
    assert node_label(source, node_ids(source)["a"]) == "a | scalar float64 | a = 5"


def test_options_hide_values_grads_and_backward_edges():
    J = course_graph()["J"]
    no_values = viz.to_dot(J, show_values=False)
    assert node_label(no_values, node_ids(no_values)["a"]) == "a | scalar float64 | da = 3"
    no_grads = viz.to_dot(J, show_grads=False)
    assert node_label(no_grads, node_ids(no_grads)["a"]) == "a | scalar float64 | a = 5"
    assert [label for *_, label in edges(no_grads)[1] if label] == ["1", "2", "3", "4", "5"]
    no_backward = viz.to_dot(J, show_backward=False)
    assert edges(no_backward)[1] == [] and "da = 3" in no_backward
    assert "rankdir=TB" in viz.to_dot(J, rankdir="TB")
    assert "legend" not in viz.to_dot(J, legend=False)
    assert "parameter</td>" in viz.to_dot(J)
    with pytest.raises(viz.OptionError, match="rankdir"):
        viz.to_dot(J, rankdir="sideways")


def test_same_graph_twice_and_identical_graphs_give_identical_dot():
    first = course_graph()["J"]
    assert viz.to_dot(first) == viz.to_dot(first)
    second = course_graph()["J"]
    assert viz.to_dot(second) == viz.to_dot(first)


def test_unnamed_tensors_get_stable_generated_names():
    x = gg.Tensor(0.5, requires_grad=True)
    y = gg.Tensor(1.0, requires_grad=True)
    J = gg.exp(x * y) + x
    J.backward()
    source = viz.to_dot(J)
    ids = node_ids(source)
    # x, y, x*y, exp(.), J: numbered in the order the walk meets them
    assert list(ids) == ["t1", "t2", "Mul", "t3", "Exp", "t4", "Add", "t5"]
    assert node_label(source, ids["t1"]) == "t1 | scalar float64 | t1 = 0.5 | dt1 = 2.65"
    # two gradients flow into x: the edges say they add up
    _, backward = edges(source)
    into_x = [label for _, head, label in backward if head == ids["t1"]]
    assert into_x == ["2: dt1 += 1", "4: dt1 += 1.65"]


def test_each_use_of_a_shared_constant_gets_its_own_box():
    x = gg.Tensor(1.0, requires_grad=True, name="x")
    J = 3 * x + 3 * (x * 3)
    J.backward()
    source = viz.to_dot(J)
    constant_boxes = re.findall(r"(\w+) \[label=<.*?<td>3</td></tr></table>>", source)
    assert len(constant_boxes) == 3 and len(set(constant_boxes)) == 3


def test_arrays_are_shown_whole_when_small_and_summarized_when_large():
    small = gg.Tensor([1.0, 2.0], requires_grad=True, name="small")
    large = gg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, name="large")
    J = (small.sum() * large).sum()
    J.backward()
    source = viz.to_dot(J)
    ids = node_ids(source)
    assert node_label(source, ids["small"]) == (
        "small | (2,) float64 | small = [1, 2] | dsmall = [66, 66]")
    assert node_label(source, ids["large"]) == (
        "large | (3, 4) float64 | large: min 0  mean 5.5  max 11 | dlarge: min 3  mean 3  max 3")
    _, backward = edges(source)
    assert "dlarge ∈ [3, 3]" in [label.split(": ", 1)[1] for *_, label in backward if label]
    more = viz.to_dot(J, max_elements=12, precision=2, max_label_chars=80)
    assert "large = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]" in more


def test_label_limits_cut_long_lines():
    x = gg.Tensor(1.0, requires_grad=True, name="a_very_long_parameter_name_" * 3)
    J = x * 2
    J.backward()
    source = viz.to_dot(J, max_label_chars=12)
    label = node_label(source, node_ids(source)["a_very_long…"])
    assert label.split(" | ")[0] == "a_very_long…"
    assert all(len(row) <= 12 for row in label.split(" | "))


def test_a_long_name_is_cut_before_the_value_and_gradient_it_names():
    name = "activation_of_the_second_hidden_layer_before_dropout"  # 52 characters
    x = gg.Tensor(5.0, requires_grad=True, name=name)
    J = x * 3
    J.name = "J"
    J.backward()
    source = viz.to_dot(J)
    rows = node_label(source, node_ids(source)[name[:47] + "…"]).split(" | ")
    assert rows[2] == "activation_of_the_second_hidden_layer_befor… = 5"
    assert rows[3] == "dactivation_of_the_second_hidden_layer_befo… = 3"
    assert [label for *_, label in edges(source)[1] if label] == [
        "1: dactivation_of_the_second_hidden_layer_b… = 3"]
    assert all(len(row) <= 48 for row in rows)

    w = gg.Tensor(2.0, requires_grad=True, name=name)
    K = w * 5000.0
    K.backward()
    source = viz.to_dot(K)
    label = node_label(source, node_ids(source)[name[:47] + "…"])
    assert label.endswith(" | dactivation_of_the_second_hi… = 5000 (exploding)")


def test_any_name_renders_escaped():
    name = 'W<1> & "b"\n{x}|y\\z'
    x = gg.Tensor(1.0, requires_grad=True, name=name)
    J = x * 2
    J.name = "</table>"
    J.backward()
    source = viz.to_dot(J)
    # Backslashes doubled: Graphviz draws "\\\\" as one backslash.
    assert "<b>W&lt;1&gt; &amp; &quot;b&quot;\\\\n{x}|y\\\\z</b>" in source
    assert "<b>&lt;/table&gt;</b>" in source
    assert name not in source


def test_op_attributes_are_shown_and_arrays_summarized():
    x = gg.Tensor(np.arange(-3.0, 3.0), requires_grad=True, name="x")
    condition = np.arange(6) % 2 == 0
    y = gg.where(condition, x, gg.leaky_relu(x, alpha=0.1))[1:5:2].sum(axis=0)
    y.backward()
    source = viz.to_dot(y)
    labels = [node_label(source, op) for op in re.findall(r"^\s*(op\d+) ", source, re.M)]
    assert "LeakyReLU | alpha=0.1" in labels
    assert "Sum | axis=0 | keepdims=False" in labels
    assert any(label.startswith("GetItem | index=1:5:2") for label in labels)


def test_several_outputs_of_one_op_are_drawn():
    x = gg.Tensor(np.arange(4.0), requires_grad=True, name="x")
    left, right = gg.split(x, 2)
    left.name, right.name = "left", "right"
    J = (left * right).sum()
    J.backward()
    source = viz.to_dot(J)
    ids = node_ids(source)
    forward, backward = edges(source)
    assert (ids["Split"], ids["left"]) in [(t, h) for t, h, _ in forward]
    assert (ids["Split"], ids["right"]) in [(t, h) for t, h, _ in forward]
    assert (ids["Split"], ids["x"], "4: dx = [2, 3, 0, 1]") in backward


def test_an_output_of_several_that_a_later_pass_sent_nothing_shows_no_dvar_of_an_earlier():
    x = gg.Tensor(np.arange(4.0), requires_grad=True, name="x")
    left, right = gg.split(x, 2)
    left.name, right.name = "left", "right"
    J1 = (left * 2).sum()
    J2 = (right * 3).sum()
    J2.name = "J2"
    J1.backward(retain_graph=True)
    J2.backward()  # Split runs again: dJ2/dleft = 0, nothing flows from left
    assert left.grad is None and right.grad.tolist() == [3, 3]
    source = viz.to_dot(J2)
    ids = node_ids(source)
    assert node_label(source, ids["left"]) == "left | (2,) float64 | left = [0, 1]"
    assert node_label(source, ids["right"]) == (
        "right | (2,) float64 | right = [2, 3] | dright = [3, 3]")
    backward = edges(source)[1]
    assert (ids["left"], ids["Split"], "") not in backward
    assert (ids["right"], ids["Split"], "") in backward
    assert (ids["Split"], ids["x"], "3: dx = [0, 0, 3, 3]") in backward


def test_nan_and_exploding_gradients_are_highlighted():
    x = gg.Tensor([0.0, 1.0], requires_grad=True, name="x")
    with np.errstate(divide="ignore"):
        J = gg.sqrt(x).sum()  # d sqrt(x)/dx at 0 is inf
        J.backward()
    source = viz.to_dot(J)
    assert "dx = [inf, 0.5]" in node_label(source, node_ids(source)["x"])
    assert styles.NONFINITE["fillcolor"] in node_attrs(source, node_ids(source)["x"])

    w = gg.Tensor(2.0, requires_grad=True, name="w")
    K = w * 5000.0
    K.backward()
    source = viz.to_dot(K)
    label = node_label(source, node_ids(source)["w"])
    assert label.endswith("dw = 5000 (exploding)")
    assert styles.EXPLODING["color"] in node_attrs(source, node_ids(source)["w"])
    assert "(exploding)" not in viz.to_dot(K, exploding_grad=1e4)


def test_nan_values_are_highlighted_and_counted():
    x = gg.Tensor(np.array([1.0, -1.0, 2.0, 3.0, 4.0]), requires_grad=True, name="x")
    with np.errstate(invalid="ignore"):
        y = gg.log(x)
    y.name = "y"
    source = viz.to_dot(y)
    assert "y: min 0  mean 0.795  max 1.39  1 NaN" in node_label(source, node_ids(source)["y"])
    assert styles.NONFINITE["fillcolor"] in node_attrs(source, node_ids(source)["y"])


def test_only_recorded_steps_are_drawn_without_intermediate_grads():
    parts = course_graph(backward=False)
    parts["J"].backward(keep_intermediate_grads=False)
    source = viz.to_dot(parts["J"])
    assert edges(source)[1] == []
    # No step recorded says a's .grad came from this graph: it could be an older one's.
    assert "da =" not in source and "dv =" not in source


def test_red_edges_are_those_of_the_pass_through_a_drawn_root():
    """A cost never backpropagated shows no steps, and an op whose step was recorded since by
    another cost's pass shows none either: its gradients are derivatives of another J."""
    b = gg.Tensor(3.0, name="b", requires_grad=True)
    c = gg.Tensor(2.0, name="c", requires_grad=True)
    u = b * c
    u.name = "u"
    J1 = 3 * u
    J1.name = "J1"
    J1.backward(retain_graph=True)
    J2 = 5 * u
    J2.name = "J2"
    assert edges(viz.to_dot(J2))[1] == []  # J2 was never backpropagated
    ids = node_ids(viz.to_dot(J1))
    assert [label for *_, label in edges(viz.to_dot(J1))[1] if label] == [
        "1: du = 3", "2: db = 6", "3: dc = 9"]
    J2.backward()  # u's op now holds J2's step: dJ2/db = 10
    source = viz.to_dot(J1)
    assert [label for *_, label in edges(source)[1] if label] == ["1: du = 3"]
    assert ("op1", ids["b"], "2: db = 10") not in edges(source)[1]
    assert [label for *_, label in edges(viz.to_dot(J2))[1] if label] == [
        "1: du = 5", "2: db = 10", "3: dc = 15"]


class _Refuses(gg.Function):
    """y = x, whose backward raises."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("no gradient here")


def test_a_pass_that_failed_partway_draws_no_red_edge():
    a = gg.Tensor(2.0, requires_grad=True, name="a")
    b = gg.Tensor(3.0, requires_grad=True, name="b")
    J1 = named(a * 4, "J1")
    J1.backward()
    h = named(_Refuses.apply(b), "h")
    J2 = named(h * 3, "J2")
    with pytest.raises(gg.BackwardError, match="_Refuses.backward failed"):
        J2.backward()  # J2's Mul ran (dh = 3), then _Refuses raised
    source = viz.to_dot([J1, J2], legend=False)
    ids = node_ids(source)
    assert [label for *_, label in edges(source)[1] if label] == ["1: da = 4"]
    assert node_label(source, ids["h"]) == "h | scalar float64 | h = 3"
    assert node_label(source, ids["J2"]) == "J2 | scalar float64 | J2 = 9"
    assert node_label(source, ids["J1"]) == "J1 | scalar float64 | J1 = 8 | dJ1 = 1"
    assert "backward pass 1 of" not in source  # one pass finished: nothing of passes
    assert edges(viz.to_dot(J2))[1] == []
    with pytest.raises(viz.NoBackwardError):
        next(viz.backprop_frames(J2))


def test_several_roots_are_drawn_together():
    parts = course_graph()
    source = viz.to_dot([parts["J"], parts["u"] * 2])
    ids = node_ids(source)
    assert {"J", "u", "a"} <= set(ids)
    assert 'fillcolor="#ffe9a8"' in node_attrs(source, ids["J"])


def named(tensor: gg.Tensor, name: str) -> gg.Tensor:
    tensor.name = name
    return tensor


def two_chains() -> dict[str, gg.Tensor]:
    """J1 = 4(3(2a)) and J2 = 7(6(5b)), backpropagated one after the other."""
    a = gg.Tensor(2.0, requires_grad=True, name="a")
    b = gg.Tensor(3.0, requires_grad=True, name="b")
    J1 = named(named(named(a * 2, "x") * 3, "y") * 4, "J1")
    J2 = named(named(named(b * 5, "p") * 6, "q") * 7, "J2")
    J1.backward()
    J2.backward()
    return {"J1": J1, "J2": J2}


def test_several_roots_number_one_pass_after_the_other():
    parts = two_chains()
    source = viz.to_dot([parts["J1"], parts["J2"]])
    assert [label for *_, label in edges(source)[1] if label] == [
        "1: dy = 4", "2: dx = 12", "3: da = 24", "4: dq = 7", "5: dp = 42", "6: db = 210"]
    frames = [frame.source for frame in viz.backprop_frames([parts["J1"], parts["J2"]])]
    titles = [re.search(r"<b>(backward step \d of 6: [^<]+)</b>", frame) for frame in frames[1:]]
    # the passes each cost's backward() ran, one after the other, are told apart
    assert [title.group(1) for title in titles] == [
        f"backward step {step} of 6: Mul (pass {1 + (step > 3)} of 2)" for step in range(1, 7)]
    shown = [line for line in frames[3][frames[3].index("subgraph backward"):].splitlines()
             if "label=<" in line and "transparent" not in line]
    assert [re.search(r"label=<(.*?)>", line).group(1) for line in shown] == [
        "1: dy = 4", "2: dx = 12", "3: da = 24"]


def graph_caption(source: str) -> list[str]:
    """The rows of a picture's caption (its graph label), markup stripped."""
    attributes = next(line for line in source.splitlines() if line.startswith("\tgraph ["))
    label = re.search(r"label=<(<table.*</table>)>", attributes)
    if label is None:
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", label.group(1))
    return [re.sub(r"<[^>]+>", "", row) for row in rows]


def test_a_picture_of_several_passes_says_which_pass_each_red_edge_is_of():
    parts = two_chains()
    passes = ["backward pass 1 of 2 (through J1): red edges 1–3",
              "backward pass 2 of 2 (through J2): red edges 4–6"]
    dvars = "each dvar is the .grad of the last pass through it (of a leaf: summed over passes)"
    for legend in (True, False):
        source = viz.to_dot([parts["J1"], parts["J2"]], legend=legend, title="two costs")
        assert graph_caption(source)[:4] == ["two costs", *passes, dvars]
        assert f'<font color="{styles.BACKWARD}">{passes[0]}</font>' in source
    no_grads = viz.to_dot([parts["J1"], parts["J2"]], legend=False, show_grads=False)
    assert graph_caption(no_grads) == passes
    no_edges = viz.to_dot([parts["J1"], parts["J2"]], legend=False, show_backward=False)
    assert graph_caption(no_edges) == ["backward pass 1 of 2 (through J1)",
                                       "backward pass 2 of 2 (through J2)", dvars]
    # one pass says nothing of passes; nor do the frames, whose captions say it step by step
    assert graph_caption(viz.to_dot(parts["J1"], legend=False)) == []
    assert all("backward pass 1 of 2" not in frame.source
               for frame in viz.backprop_frames([parts["J1"], parts["J2"]]))
    # one red edge, and none: J2's gradient into b stays inside the collapsed box
    a = gg.Tensor(2.0, requires_grad=True, name="a")
    b = gg.Tensor(3.0, requires_grad=True, name="b")
    J1 = named(a * 2, "J1")
    with gg.name_scope("inner"):
        J2 = named(named(b * 5, "p") * 6, "J2")
    J1.backward()
    J2.backward()
    caption = graph_caption(viz.to_dot([J1, J2], legend=False, collapse="inner"))
    assert caption[:2] == ["backward pass 1 of 2 (through J1): red edge 1",
                           "backward pass 2 of 2 (through J2): no red edge"]


def test_a_later_passs_root_shows_its_dvar_from_the_frame_its_pass_starts():
    parts = two_chains()
    frames = [frame.source for frame in viz.backprop_frames([parts["J1"], parts["J2"]])]

    def dvar_color(frame: str, name: str) -> str:
        line = next(line for line in frame.splitlines()
                    if line.strip().startswith(node_ids(frame)[name] + " ["))
        return re.search(rf'<font color="([^"]*)">d{name} = 1</font>', line).group(1)

    # J1's pass is steps 1-3, J2's 4-6: dJ2 = 1 is where the second pass starts
    assert [dvar_color(frame, "J1") for frame in frames] == ["transparent"] + [styles.BACKWARD] * 6
    assert [dvar_color(frame, "J2") for frame in frames] == (
        ["transparent"] * 4 + [styles.BACKWARD] * 3)


def shared_square() -> dict[str, gg.Tensor]:
    """h = a * a with a = 5, then J1 = 2h and J2 = h * h, backpropagated in that order."""
    a = gg.Tensor(5.0, requires_grad=True, name="a")
    h = named(a * a, "h")
    J1 = named(2 * h, "J1")
    J2 = named(h * h, "J2")
    J1.backward(retain_graph=True)
    J2.backward()  # runs h's op again: its step and h.grad are J2's now
    return {"a": a, "h": h, "J1": J1, "J2": J2}


def test_gradients_add_up_within_a_pass_not_across_passes():
    parts = shared_square()
    source = viz.to_dot([parts["J1"], parts["J2"]])
    assert [label for *_, label in edges(source)[1] if label] == [
        "1: dh = 2", "2: dh += 25", "3: dh += 25", "4: da += 250", "5: da += 250"]


def test_a_dvar_is_shown_only_when_a_drawn_pass_wrote_it():
    parts = shared_square()
    source = viz.to_dot(parts["J1"])
    ids = node_ids(source)
    # dJ2/dh = 50 and a's .grad 520 (both passes) are no derivatives of J1 = 2h
    assert node_label(source, ids["h"]) == "h | scalar float64 | h = 25"
    assert node_label(source, ids["a"]) == "a | scalar float64 | a = 5"
    assert node_label(source, ids["J1"]) == "J1 | scalar float64 | J1 = 50 | dJ1 = 1"
    assert [label for *_, label in edges(source)[1] if label] == ["1: dh = 2"]


def test_a_dvar_that_is_not_the_sum_of_the_red_edges_says_so():
    parts = shared_square()
    source = viz.to_dot([parts["J1"], parts["J2"]])
    ids = node_ids(source)
    assert node_label(source, ids["h"]) == (
        "h | scalar float64 | h = 25 | dh = 50 | (.grad of its last pass; red edges: 52)")
    assert node_label(source, ids["a"]) == (
        "a | scalar float64 | a = 5 | da = 520 | (accumulated or changed .grad; red edges: 500)")


def test_a_graph_never_backpropagated_shows_no_dvar_of_an_older_graph():
    w = gg.Tensor(2.0, requires_grad=True, name="w")
    (w * 3).backward()  # an earlier iteration: w.grad = 3
    J = named(w * w, "J")  # forward only
    source = viz.to_dot(J)
    assert node_label(source, node_ids(source)["w"]) == "w | scalar float64 | w = 2"
    assert node_label(source, node_ids(source)["J"]) == "J | scalar float64 | J = 4"


def test_a_leaf_backpropagated_twice_shows_its_accumulated_grad_and_its_red_edges():
    a = gg.Tensor(5.0, requires_grad=True, name="a")
    b = gg.Tensor(3.0, requires_grad=True, name="b")
    v = named(a * b, "v")
    J = named(3 * v, "J")
    J.backward(retain_graph=True)
    J.backward()
    source = viz.to_dot(J)
    ids = node_ids(source)
    assert node_label(source, ids["a"]) == (
        "a | scalar float64 | a = 5 | da = 18 | (accumulated or changed .grad; red edges: 9)")
    assert node_label(source, ids["b"]) == (
        "b | scalar float64 | b = 3 | db = 30 | (accumulated or changed .grad; red edges: 15)")
    assert node_label(source, ids["v"]) == "v | scalar float64 | v = 15 | dv = 3"
    assert [label for *_, label in edges(source)[1] if label] == [
        "1: dv = 3", "2: da = 9", "3: db = 15"]
    first, *_, last = (frame.source for frame in viz.backprop_frames(J))
    note = "(accumulated or changed .grad; red edges: 9)"
    hidden = f'<font color="{styles.HIDDEN}" point-size="9">{note}'
    assert hidden in first and hidden not in last
    assert f'<font color="#d62728" point-size="9">{note}' in last


def test_a_leafs_grad_changed_in_place_is_not_passed_off_as_the_red_edges_sum():
    W = gg.Tensor(4.0, requires_grad=True, name="W")
    J = named(W * W, "J")
    J.backward()
    np.clip(W.grad, -5, 5, out=W.grad)  # the course's clipping, in place
    source = viz.to_dot(J)
    assert node_label(source, node_ids(source)["W"]) == (
        "W | scalar float64 | W = 4 | dW = 5 | (accumulated or changed .grad; red edges: 8)")


def test_drawing_something_that_is_not_a_graph_says_what_to_do():
    with pytest.raises(viz.NotATensorError, match="got ndarray"):
        viz.draw_graph(np.ones(3))
    with pytest.raises(gg.GraphgradError, match="leaf"):
        viz.draw_graph(gg.Tensor(1.0, requires_grad=True, name="w"))
    with gg.no_grad():
        y = gg.Tensor(1.0, requires_grad=True) * 2
    with pytest.raises(viz.NoGraphError, match="no_grad"):
        viz.render(y, "never.png")


def test_generated_names_skip_names_the_user_gave():
    a = gg.Tensor(2.0, requires_grad=True, name="a")
    h = a * 3  # unnamed: t1 would be its name, but the user calls another tensor t1
    t = h + 1
    t.name = "t1"
    J = t * h
    J.name = "J"
    J.backward()
    source = viz.to_dot(J)
    ids = node_ids(source)
    assert list(ids) == ["a", "Mul", "t2", "Add", "t1", "J"]
    assert node_label(source, ids["t2"]) == "t2 | scalar float64 | t2 = 6 | dt2 = 13"
    assert [label for *_, label in edges(source)[1] if label] == [
        "1: dt1 = 6", "2: dt2 += 7", "3: dt2 += 6", "4: da = 39"]


def test_an_empty_name_counts_as_no_name():
    a = gg.Tensor(2.0, requires_grad=True, name="")  # a leaf
    h = a * 3
    h.name = ""  # an intermediate
    c = gg.Tensor(4.0, name="")  # data: a constant, drawn once per use like an unnamed one
    J = h * c + c
    J.name = ""  # the root
    J.backward()
    source = viz.to_dot(J)
    assert "<b></b>" not in source and '" = ' not in source
    ids = node_ids(source)
    assert list(ids) == ["t1", "Mul", "t2", "t3", "Add", "t4"]
    assert node_label(source, ids["t1"]) == "t1 | scalar float64 | t1 = 2 | dt1 = 12"
    assert node_label(source, ids["t2"]) == "t2 | scalar float64 | t2 = 6 | dt2 = 4"
    assert node_label(source, ids["t4"]) == "t4 | scalar float64 | t4 = 28 | dt4 = 1"
    assert len(re.findall(r"\[label=<[^>]*><tr><td>4</td></tr></table>>", source)) == 2
    assert [label for *_, label in edges(source)[1] if label] == [
        "1: dt3 = 1", "2: dt2 = 4", "3: dt1 = 12"]


class _ApplyFn(gg.Function):
    """y = fn(x), an op whose attribute is a function; d/dx taken as 1 for the picture."""

    @staticmethod
    def forward(ctx, x, fn, helper):
        return fn(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class _Helper:
    pass


def test_op_attributes_without_a_repr_keep_the_dot_text_the_same_every_run():
    def build():
        def double(a):
            return a * 2

        x = gg.Tensor(1.0, requires_grad=True, name="x")
        return _ApplyFn.apply(x, fn=double, helper=_Helper())

    source = viz.to_dot(build(), max_label_chars=200)
    assert source == viz.to_dot(build(), max_label_chars=200)
    assert "0x" not in source
    function = "test_op_attributes_without_a_repr_keep_the_dot_text_the_same_every_run"
    assert node_label(source, "op1") == (
        f"_ApplyFn | fn={function}.&lt;locals&gt;.build.&lt;locals&gt;.double | "
        "helper=&lt;test_viz_dot._Helper object&gt;")


def test_max_elements_zero_still_shows_scalars_in_full():
    a = gg.Tensor(5.0, requires_grad=True, name="a")
    J = 3 * a
    J.name = "J"
    J.backward()
    source = viz.to_dot(J, max_elements=0)
    ids = node_ids(source)
    assert node_label(source, ids["a"]) == "a | scalar float64 | a = 5 | da = 3"
    assert node_label(source, ids["J"]) == "J | scalar float64 | J = 15 | dJ = 1"
    assert [label for *_, label in edges(source)[1] if label] == ["1: da = 3"]


def test_gradients_adding_up_keep_their_mark_when_shown_as_a_range():
    x = gg.Tensor(np.arange(1.0, 6.0), requires_grad=True, name="x")
    J = (x * x).sum()
    J.backward()
    _, backward = edges(viz.to_dot(J))
    assert [label for *_, label in backward if ": dx" in label] == [
        "2: dx += min 1  max 5", "3: dx += min 1  max 5"]


def test_counts_among_the_options_must_be_whole_numbers_of_their_range():
    J = course_graph()["J"]
    with pytest.raises(viz.OptionError, match="backward_steps must be 0 or more, got -1"):
        viz.to_dot(J, backward_steps=-1)
    with pytest.raises(viz.OptionError, match="max_elements must be a whole number, got 2.5"):
        viz.to_dot(J, max_elements=2.5)
    with pytest.raises(viz.OptionError, match="precision must be a whole number, got True"):
        viz.DrawOptions(precision=True)
    assert "da = 3" in viz.to_dot(J, max_elements=np.int64(2), backward_steps=0)


@pytest.mark.parametrize("option, value, message", [
    *[(flag, value, rf"^viz.to_dot: {flag} must be True or False, got ")
      for flag in ("show_values", "show_grads", "show_backward", "clusters", "legend")
      for value in ("no", None, 0, float("nan"), np.array([1, 0]))],
    *[("collapse", value,
       r"^viz.to_dot: collapse must be True, False, a scope's name or a list of names")
      for value in (3, 2.5, ["layer", 3], {"layer": 1})],
    *[("exploding_grad", value, r"^viz.to_dot: exploding_grad must be a number >= 0 ")
      for value in ("3", None, -1, float("nan"), 1j, True)],
    ("max_nodes", -1, r"^viz.to_dot: max_nodes must be 0 or more, got -1$"),
    ("max_nodes", "5", r"^viz.to_dot: max_nodes must be a whole number, got '5'$"),
    ("max_nodes", 2.5, r"^viz.to_dot: max_nodes must be a whole number, got 2.5$"),
    *[("title", value, r"^viz.to_dot: title must be a string or None, got ")
      for value in (5, b"J")],
    ("rankdir", np.array(["LR"]), r"^viz.to_dot: rankdir must be one of LR, RL, TB, BT, got <"),
])
def test_each_option_refuses_what_it_cannot_mean(option, value, message):
    """Before, 'no', None and NaN chose a side of an on/off option, -1 nodes warned about any
    graph, an exploding_grad of -1 or 1j highlighted every gradient, and a number as collapse,
    None as exploding_grad, 5 as title or an array as rankdir or a flag failed deep inside
    with Python's or numpy's own error."""
    with gg.name_scope("layer"):
        J = gg.tanh(gg.Tensor([1.0, 2.0], requires_grad=True)).sum()
    J.backward()
    with pytest.raises(viz.OptionError, match=message):
        viz.to_dot(J, **{option: value})


@pytest.mark.parametrize("option, value, kind, message", [
    ("title", 5, viz.OptionTypeError, r"title must be a string or None, got 5$"),
    ("rankdir", 5, viz.OptionTypeError, r"rankdir must be one of LR, RL, TB, BT, got 5$"),
    ("rankdir", "XY", viz.OptionError, r"rankdir must be one of LR, RL, TB, BT, got 'XY'$"),
    ("collapse", 3, viz.OptionTypeError, r"collapse must be True, False, a scope's name or"),
    ("exploding_grad", "3", viz.OptionTypeError, r"exploding_grad must be a number >= 0 "),
    ("exploding_grad", -1, viz.OptionError, r"exploding_grad must be a number >= 0 "),
    ("legend", "no", viz.OptionError, r"legend must be True or False, got 'no'$"),
])
def test_draw_options_made_directly_name_themselves_and_refuse_a_wrong_kind_as_a_type(
        option, value, kind, message):
    """A value of the wrong kind (a number as title or rankdir) is an OptionTypeError, a
    TypeError too; a value of the right kind that means nothing stays a ValueError."""
    J = course_graph()["J"]
    for caller, call in (("viz.DrawOptions", lambda: viz.DrawOptions(**{option: value})),
                         ("viz.to_dot", lambda: viz.to_dot(J, **{option: value}))):
        with pytest.raises(kind, match=rf"^{re.escape(caller)}: {message}") as refused:
            call()
        assert type(refused.value) is kind
        assert isinstance(refused.value, TypeError) == (kind is viz.OptionTypeError)
    assert viz.DrawOptions(title="J", rankdir="TB").rankdir == "TB"


def test_numpy_bools_and_inf_are_options():
    J = course_graph()["J"]
    assert viz.to_dot(J, show_grads=np.False_) == viz.to_dot(J, show_grads=False)
    assert viz.to_dot(J, exploding_grad=np.inf, collapse=np.True_) == viz.to_dot(
        J, exploding_grad=float("inf"), collapse=True)
    assert viz.DrawOptions(collapse=["layer"]).collapse == ("layer",)


def test_an_unknown_option_is_refused_with_the_names_of_those_there_are():
    J = course_graph()["J"]
    with pytest.raises(viz.UnknownOptionError) as refused:
        viz.to_dot(J, colour=True)
    assert str(refused.value).startswith("viz.to_dot has no option 'colour'. It takes the "
                                         "drawing options: show_values, show_grads,")
    assert "collapse, legend" in str(refused.value)
    assert isinstance(refused.value, TypeError) and isinstance(refused.value, viz.OptionError)


def test_the_legend_says_what_a_red_edges_label_is_with_an_example_from_the_course_graph():
    J = course_graph()["J"]
    source = viz.to_dot(J)
    legend = re.search(r"label=<(<table.*</table>)>", source.split("subgraph")[0]).group(1)
    cells = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", legend)]
    assert "← backward: gradients in backprop order (2: da = 3)" in cells
    assert "→ forward: values" in cells
    # the example is the course graph's own second red edge, into a
    assert [label for *_, label in edges(source)[1] if label][1] == "2: da = 3"
    before = viz.to_dot(course_graph(backward=False)["J"])
    assert "← backward" not in before


def test_an_option_refused_is_named_with_the_function_given_it(tmp_path):
    J = course_graph()["J"]
    with pytest.raises(viz.OptionError, match=r"^viz.draw_graph: rankdir must be one of LR,"):
        viz.draw_graph(J, rankdir="up")
    with pytest.raises(viz.OptionError, match=r"^viz.render: legend must be True or False"):
        viz.render(J, tmp_path / "graph.dot", legend="no")
    with pytest.raises(viz.OptionError, match=r"^viz.animate: max_nodes must be a whole"):
        viz.animate(J, tmp_path / "backprop.gif", max_nodes=2.5)
    with pytest.raises(viz.OptionError, match=r"^viz.backprop_frames: precision must be a "):
        next(viz.backprop_frames(J, precision="3"))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("draw, backward", [
    (lambda J: viz.to_dot(J), False),
    (lambda J: viz.draw_graph(J, collapse=True), False),
    (lambda J: [frame.source for frame in viz.backprop_frames(J)], True),
], ids=["to_dot", "collapsed", "backprop_frames"])
def test_a_drawn_graph_is_freed_with_its_cost_without_the_garbage_collector(draw, backward):
    # The picture's walk links tensors and ops both ways; strong links back were reference
    # cycles holding every drawn tensor, node and saved array (and the leaves the nodes lock)
    # after J was dropped, until a collection ran: a picture drawn each step kept each step's
    # graph.
    W = gg.Tensor(np.array([[0.5, -1.0], [2.0, 0.0]]), name="W", requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        with gg.name_scope("layer"), gg.name_scope("inner"):
            A = gg.tanh(W)
            J = (A * W).sum()
        if backward:
            J.backward()
            np.testing.assert_allclose(W.grad, np.tanh(W.data) + W.data / np.cosh(W.data) ** 2)
        drawn = draw(J)
        assert drawn
        refs = [weakref.ref(t) for t in (A, J, J.creator, A.creator)]
        del A, J
        assert [ref() for ref in refs] == [None] * len(refs)
        assert W.data.flags.writeable  # no node of the dropped graph locks W any more
    finally:
        gc.enable()


NODE_STYLES = [*styles.TENSOR.values(), styles.SMALL_CONSTANT, styles.OP, styles.BOX,
               styles.NONFINITE, styles.EXPLODING,
               dict(styles.TENSOR["output"], **styles.NONFINITE),
               dict(styles.OP, color=styles.BACKWARD, penwidth="2.5")]
EDGE_STYLES = [{}, styles.LEAF_EDGE, styles.TROUBLE_EDGE, styles.HIDDEN_EDGE,
               styles.CURRENT_STEP, dict(styles.TROUBLE_EDGE, **styles.HIDDEN_EDGE)]


@pytest.mark.parametrize("style", NODE_STYLES)
def test_a_node_line_is_the_one_graphviz_writes(style):
    # Pictures append their lines to the Digraph's body themselves, for speed; they must be
    # those Digraph.node writes: style attributes sorted and quoted ("#f2f2f2", "0.05,0.02").
    label = '<<table border="0"><tr><td>a = 5 &amp; "b"</td></tr></table>>'
    ours, theirs = graphviz.Digraph(), graphviz.Digraph()
    _node(ours, "tensor12", label, style)
    theirs.node("tensor12", label=label, **style)
    assert ours.source == theirs.source


@pytest.mark.parametrize("style", EDGE_STYLES)
@pytest.mark.parametrize("label", [None, "<3: da = 3>"])
def test_an_edge_line_is_the_one_graphviz_writes(style, label):
    ours, theirs = graphviz.Digraph(), graphviz.Digraph()
    _edge(ours, "op3", "tensor4", style, label)
    theirs.edge("op3", "tensor4", label=label, **style)
    assert ours.source == theirs.source


def _unrolled_rnn(steps: int) -> gg.Tensor:
    """The course's RNN cell by hand, a<t> = tanh(Wax x<t> + Waa a<t-1> + ba), over ``steps``
    steps: Wax, Waa and ba are used at every step, from the left end of the picture."""
    rng = np.random.default_rng(0)
    Wax = gg.Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="Wax")
    Waa = gg.Tensor(rng.standard_normal((4, 4)), requires_grad=True, name="Waa")
    ba = gg.Tensor(np.zeros((4, 1)), requires_grad=True, name="ba")
    a, J = gg.Tensor(np.zeros((4, 1))), 0.0
    for t in range(steps):
        a = gg.tanh(Wax @ gg.Tensor(rng.standard_normal((3, 1)), name=f"x{t}") + Waa @ a + ba)
        J = J + a.sum()
    J.backward()
    return J


def test_the_red_labels_of_a_picture_of_long_edges_go_beside_them():
    """Graphviz took 4 s to lay out 10 steps of an unrolled RNN, 20 s for 15: each label on a
    long edge is laid out with it. Beside it (xlabel), it is placed after: 0.2 s and 2.6 s."""
    short, long = viz.to_dot(_unrolled_rnn(3)), viz.to_dot(_unrolled_rnn(10))
    assert "xlabel=" not in short and "[label=<1: dt14 = 1>]" in short
    assert "[label=<" not in long.split("subgraph backward")[1]
    forward, backward = edges(long)
    labelled = [text for _, _, text in backward if text]
    assert len(labelled) == long.count("xlabel=<") == 108  # every gradient into an input
    assert labelled[:2] == ["1: dt63 = 1", "2: dt69 = 1"]
    assert not any(text for _, _, text in forward)
    drawn = subprocess.run(["dot", "-Tsvg"], input=long.encode(), capture_output=True,
                           check=True)
    assert not drawn.stderr and b"dWaa += " in drawn.stdout


def test_the_length_of_edges_counts_the_points_graphviz_lays_them_out_through():
    # a -> f -> b -> g -> c, and a -> g: a, f, b, g, c take ranks 0 to 4, so a -> g spans 3
    # ranks (2 points) and the red g -> a as many; the others join neighbouring ranks.
    blue = [("a", "f"), ("f", "b"), ("b", "g"), ("a", "g"), ("g", "c")]
    red = [viz.dot.BackwardEdge("g", "a", 0, 0), viz.dot.BackwardEdge("c", "g", 0, 0)]
    assert viz.dot._length(blue, red) == 4
    assert viz.dot._length(blue, []) == 2 and viz.dot._length([], red) == 0


def test_a_picture_of_edges_too_long_for_a_quick_layout_warns():
    """20 steps of an unrolled RNN took Graphviz 19 s with the labels beside the edges, 25
    steps minutes, under the 500 nodes that warn of a large picture."""
    J = _unrolled_rnn(20)
    with pytest.warns(viz.LargeGraphWarning) as caught:
        viz.to_dot(J)
    assert len(caught) == 1 and caught[0].filename == __file__
    assert str(caught[0].message) == (
        "this picture's edges are long: Graphviz lays them out through 9518 points of their "
        "own (a tensor that many far-apart ops use, as a weight shared by every step of an "
        "unrolled RNN), which can take it from seconds to minutes. Wrap layers in `with "
        "gg.name_scope(\"layer1\"):` and pass collapse=True to draw each as one box, draw fewer "
        "steps, or pass max_nodes=None to draw it all anyway.")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        viz.to_dot(J, max_nodes=None)
        viz.to_dot(_unrolled_rnn(10))


def test_an_unknown_option_of_draw_options_or_draw_graph_is_named_with_the_close_one():
    """viz.DrawOptions(foo=1) and viz.draw_graph(J, foo=1) raised Python's own TypeError
    ("__init__() got an unexpected keyword argument"), which named no option there is."""
    J = course_graph()["J"]
    for caller, call in (("viz.DrawOptions", lambda **o: viz.DrawOptions(**o)),
                         ("viz.draw_graph", lambda **o: viz.draw_graph(J, **o)),
                         ("viz.to_dot", lambda **o: viz.to_dot(J, **o))):
        with pytest.raises(viz.UnknownOptionError) as refused:
            call(show_value=False)
        message = str(refused.value)
        assert message.startswith(f"{caller} has no option 'show_value' (did you mean "
                                  "'show_values'?). It takes the drawing options: show_values, "
                                  "show_grads,"), message
        assert isinstance(refused.value, TypeError) and isinstance(refused.value,
                                                                   gg.GraphgradError)
        with pytest.raises(viz.UnknownOptionError, match=rf"^{caller} has no option 'foo'\. It "
                                                         r"takes the drawing options: "):
            call(foo=1)
    assert viz.DrawOptions(legend=False).legend is False


def test_help_on_draw_options_shows_the_options_it_takes():
    """help(viz.DrawOptions) showed DrawOptions(*args, **options), the signature of the
    __new__ that checks the options' names, rather than the options and their defaults."""
    params = inspect.signature(viz.DrawOptions).parameters
    assert list(params) == [*viz.dot.OPTIONS, "caller"]
    assert (params["precision"].default, params["rankdir"].default) == (3, "LR")
    assert all(p.default == getattr(viz.DrawOptions(), name) for name, p in params.items()
               if name != "caller")
