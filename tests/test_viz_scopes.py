"""Big graphs: name scopes as clusters, collapsed scopes, the node-limit warning, 5,000 ops."""
import re
import warnings

import numpy as np
import pytest
from viz_helpers import edges, node_ids, node_label, two_layer_net

import graphgrad as gg
import viz


def clusters(source: str) -> dict[str, str]:
    """Cluster label -> the DOT text inside it (nested clusters included)."""
    found = {}
    for match in re.finditer(r"subgraph (cluster_\d+) \{", source):
        depth, end = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(source[end], 0)
            end += 1
        body = source[match.end():end - 1]
        label = re.search(r"label=<<table[^>]*><tr><td>(.*?)</td>", body).group(1)
        found[label] = body
    return found


def declared(body: str) -> set[str]:
    return set(re.findall(r"^\s*(\w+) \[label=", body, re.M))


def test_each_name_scope_is_a_cluster_nested_like_the_scopes():
    source = viz.to_dot(two_layer_net())
    ids = node_ids(source)
    found = clusters(source)
    assert set(found) == {"model", "layer1", "layer2", "cost"}
    assert found["layer1"] in found["model"] and found["layer2"] in found["model"]
    # Parameters sit in the scope of the ops that use them; J (made outside any scope, by
    # naming) sits with its op in "cost". The data X and the labels Y belong to no scope.
    assert {ids["W1"], ids["b1"], ids["Tanh"]} <= declared(found["layer1"])
    assert {ids["W2"], ids["b2"], ids["Sigmoid"]} <= declared(found["layer2"])
    assert {ids["Mean"], ids["J"]} <= declared(found["cost"])
    assert ids["W1"] not in declared(found["layer2"])
    inside = set().union(*map(declared, found.values()))
    assert {ids["X"], ids["Y"]}.isdisjoint(inside)
    assert "subgraph cluster" not in viz.to_dot(two_layer_net(), clusters=False)


def test_a_layers_frame_holds_its_parameters_not_the_data_or_labels_it_is_given():
    """An expanded nn.Sequential: each Linear's frame holds its W and b (a frozen one too),
    its op and output; X, which only linear1 uses, and Y are drawn outside every frame,
    while the unnamed constant of an op stays with it."""
    model = gg.nn.Sequential(gg.nn.Linear(2, 3, rng=0), gg.nn.Tanh(), gg.nn.Linear(3, 1, rng=1))
    model[2].requires_grad_(False)
    X = gg.Tensor(np.ones((4, 2)), name="X")
    Y = gg.Tensor(np.ones((4, 1)), name="Y")
    A = model(X)
    with gg.name_scope("cost"):
        J = ((A - Y) ** 2).mean()
    J.name = "J"
    J.backward()
    source = viz.to_dot(J)
    found = clusters(source)
    assert set(found) == {"linear1", "tanh1", "linear2", "cost"}
    W1, b1, W2, b2 = re.findall(r"^\s*(\w+) \[label=<.*?<b>[Wb]</b>", source, re.M)
    affine1, affine2 = re.findall(r"^\s*(\w+) \[label=<.*?<b>Affine</b>", source, re.M)
    assert declared(found["linear1"]) == {W1, b1, affine1, node_ids(source)["t1"]}
    assert declared(found["linear2"]) == {W2, b2, affine2, node_ids(source)["t3"]}
    ids = node_ids(source)
    inside = set().union(*map(declared, found.values()))
    assert {ids["X"], ids["Y"]}.isdisjoint(inside)
    assert re.search(r"^\s*\w+ \[label=<.*?>2<", found["cost"], re.M)  # the 2 of ** 2
    # Collapsed, linear1's box still takes the X that only it uses.
    assert node_label(viz.to_dot(J, collapse=True), "box1") == (
        "linear1 | 1 op: Affine | parameters: W (3, 2), b (3,) | data: X (4, 2)")


def test_collapse_draws_each_innermost_scope_as_one_box():
    source = viz.to_dot(two_layer_net(), collapse=True)
    boxes = dict(re.findall(r"^\s*(box\d+) \[label=<.*?<b>(.*?)</b>", source, re.M))
    assert boxes == {"box1": "model/layer1", "box2": "model/layer2", "box3": "cost"}
    assert "3 ops: MatMul, Add, Tanh | parameters: W1 (4, 3), b1 (4, 1) | data: X (3, 5)" in (
        node_label(source, "box1"))
    assert "W1" not in node_ids(source) and "MatMul" not in node_ids(source)
    forward, backward = edges(source)
    ids = node_ids(source)
    A1, A2 = ids["t3"], ids["t6"]  # the activations leaving each layer
    assert [(t, h) for t, h, _ in forward] == [
        ("box1", A1), (A1, "box2"), ("box2", A2), (A2, "box3"), ("box3", ids["J"])]
    assert [(t, h) for t, h, _ in backward] == [
        (ids["J"], "box3"), ("box3", A2), (A2, "box2"), ("box2", A1), (A1, "box1")]
    assert backward[1][2].startswith("1: dt6 ∈ [") and backward[3][2].startswith("2: dt3 ∈ [")
    # the activations between layers stay in the model cluster, drawn
    assert {A1, "box1", "box2"} <= declared(clusters(source)["model"])


def test_collapse_by_name_takes_one_scope_or_everything_nested_in_it():
    J = two_layer_net()
    one = viz.to_dot(J, collapse="layer1")
    assert re.findall(r"<b>(model/\w+)</b>", one) == ["model/layer1"]
    assert {"Sigmoid", "W2", "Mean"} <= set(node_ids(one)) and "Tanh" not in node_ids(one)
    whole = viz.to_dot(J, collapse=["model"])
    assert "12 ops" not in whole and "6 ops: MatMul, Add, Tanh, Sigmoid" in node_label(
        whole, "box1")
    assert "parameters: W1 (4, 3), b1 (4, 1), W2 (1, 4), b2 (1, 1)" in node_label(
        whole, "box1").replace(" | ", " ")  # wrapped over two rows
    with pytest.raises(viz.UnknownScopeError, match="'layer3'.*'model', 'model/layer1'"):
        viz.to_dot(J, collapse="layer3")


def test_a_collapse_naming_no_scope_is_refused_by_the_function_given_it(tmp_path):
    J = two_layer_net()
    draws = {
        "viz.draw_graph": lambda: viz.draw_graph(J, collapse="layer3"),
        "viz.to_dot": lambda: viz.to_dot(J, collapse=["layer1", "layer3"]),
        "viz.render": lambda: viz.render(J, tmp_path / "graph.dot", collapse="layer3"),
        "viz.backprop_frames": lambda: next(viz.backprop_frames(J, collapse="layer3")),
        "viz.animate": lambda: viz.animate(J, tmp_path / "backprop.gif", collapse="layer3"),
    }
    for caller, call in draws.items():
        with pytest.raises(viz.UnknownScopeError, match=rf"^{re.escape(caller)}: collapse names "
                                                        r"the scope 'layer3', which is not in "
                                                        r"this graph\. Its scopes are: 'model'"):
            call()
    assert not list(tmp_path.iterdir())


def test_backward_through_a_box_adds_what_its_ops_send_to_one_input():
    x = gg.Tensor(2.0, requires_grad=True, name="x")
    with gg.name_scope("square_plus"):
        y = x * x + x  # three gradients flow from the scope into x: 4 + 4 + 2
    J = y * x
    J.backward()
    _, backward = edges(viz.to_dot(J, collapse=True))
    assert [label for *_, label in backward if label] == [
        "1: dt2 = 2", "2: dx += 6", "3: dx += 10"]
    assert x.grad == 16


def test_a_big_graph_warns_and_names_the_option_that_helps():
    J = two_layer_net()
    with pytest.warns(viz.LargeGraphWarning, match="collapse=True") as caught:
        viz.to_dot(J, max_nodes=10)
    assert caught[0].filename == __file__  # points at the caller, not inside viz
    drawn = len(re.findall(r"^\s*\w+ \[label=", viz.to_dot(J, max_nodes=None), re.M))
    assert f"has {drawn} nodes" in str(caught[0].message) and drawn == 36
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        viz.to_dot(J, max_nodes=None)
        viz.to_dot(J, collapse=True, max_nodes=10)  # 8 nodes once collapsed

    x = gg.Tensor(1.0, requires_grad=True)
    h = x
    for _ in range(6):
        h = h * 2
    with pytest.warns(viz.LargeGraphWarning, match="gg.name_scope"):
        viz.to_dot(h, max_nodes=5)


def test_a_chain_of_5000_ops_is_drawn():
    x = gg.Tensor(np.linspace(-1, 1, 4), requires_grad=True, name="x")
    h = x
    for _ in range(2500):
        h = gg.tanh(h * 0.5)
    J = h.sum()
    J.backward()
    source = viz.to_dot(J, max_nodes=None)
    assert len(re.findall(r"^\s*op\d+ \[", source, re.M)) == 5001
    forward, backward = edges(source)
    assert len(forward) == 2 * 5001 + 2500  # every op's input and output, and the constants
    numbers = [int(label.split(":")[0]) for *_, label in backward if label]
    assert numbers == list(range(1, 5002))
    assert backward[-1][1] == node_ids(source)["x"]


def layer_using_its_own_output() -> dict[str, gg.Tensor]:
    """z = W x and a = tanh(z) in one scope; J uses both, so z leaves the scope and is used
    inside it too."""
    W = gg.Tensor(np.ones((2, 2)), requires_grad=True, name="W")
    x = gg.Tensor(np.ones((2, 1)), name="x")
    with gg.name_scope("layer1"):
        z = W @ x
        z.name = "z"
        a = gg.tanh(z)
        a.name = "a"
    J = a.sum() + z.sum()
    J.name = "J"
    J.backward()
    return {"z": z, "a": a, "J": J}


def test_a_box_using_a_tensor_it_made_draws_no_edge_back_into_itself():
    J = layer_using_its_own_output()["J"]
    source = viz.to_dot(J, collapse=True)
    ids = node_ids(source)
    z, a = ids["z"], ids["a"]
    forward, backward = edges(source)
    assert (z, "box1") not in [(t, h) for t, h, _ in forward]
    assert [(t, h) for t, h, _ in forward if "box1" in (t, h)] == [("box1", z), ("box1", a)]
    # Red edges into the box carry dz and da to it; none runs from the box to z, and the one
    # gradient that reaches z from outside is not marked as adding up.
    assert [(t, h) for t, h, _ in backward if "box1" in (t, h)] == [(a, "box1"), (z, "box1")]
    assert [label for *_, label in backward if ": dz" in label] == ["3: dz = [[1], [1]]"]
    assert node_label(source, z).endswith("dz = [[1.07], [1.07]]")


def test_a_dvar_finished_inside_a_box_appears_once_the_box_has_sent_it():
    J = layer_using_its_own_output()["J"]
    # Steps: Add, Sum(z), Sum(a), then inside the box Tanh (completing dz), MatMul.
    frames = [frame.source for frame in viz.backprop_frames(J, collapse=True)]
    shown = ['<font color="#d62728">dz = [[1.07], [1.07]]</font>' in frame for frame in frames]
    assert shown == [False, False, False, False, True, True]


def test_long_scope_names_are_cut_in_cluster_labels():
    w = gg.Tensor(2.0, requires_grad=True, name="w")
    with gg.name_scope("encoder_block_with_a_long_descriptive_name"):
        J = w * 3
    assert list(clusters(viz.to_dot(J, max_label_chars=20))) == ["encoder_block_with_…"]


def advice(J: gg.Tensor, **options) -> str:
    """The LargeGraphWarning's message when drawing J with at most 3 nodes."""
    with pytest.warns(viz.LargeGraphWarning) as caught:
        viz.to_dot(J, max_nodes=3, **options)
    return str(caught[0].message)


def test_a_big_graph_warning_names_only_scopes_of_the_graph():
    J = two_layer_net()
    assert "collapse=True" in advice(J) and "collapse='model/layer1'" in advice(J)
    assert "Pass collapse=True" in advice(J, collapse="layer1")  # cost is still open
    collapsed = advice(J, collapse=True)
    assert "collapse='model'" in collapsed and "collapse=[\"model\"]" not in collapsed
    assert viz.to_dot(J, collapse="model", max_nodes=None)  # the advice works

    W = gg.Tensor(np.eye(3), requires_grad=True, name="W")
    h = gg.Tensor(np.ones((3, 1)), name="x")
    for i in range(3):
        with gg.name_scope(f"layer{i}"):
            h = gg.tanh(W @ h)
    every_scope_collapsed = advice(h.sum(), collapse=True)
    assert "collapse=" not in every_scope_collapsed
    assert "nest them in an enclosing `with gg.name_scope(" in every_scope_collapsed


def test_two_layers_sharing_a_scope_name_are_two_boxes():
    first, second = gg.nn.Linear(2, 4), gg.nn.Linear(4, 1)  # both scoped "Linear"
    X = gg.Tensor(np.ones((5, 2)), name="X")
    J = second(gg.relu(first(X))).mean()
    J.name = "J"
    J.backward()
    source = viz.to_dot(J, collapse=True)
    ids = node_ids(source)
    assert (ids["Linear"], ids["Linear (2)"]) == ("box1", "box2")
    assert node_label(source, "box1") == (
        "Linear | 1 op: Affine | parameters: W (4, 2), b (4,) | data: X (5, 2)")
    assert node_label(source, "box2") == "Linear (2) | 1 op: Affine | parameters: W (1, 4), b (1,)"
    forward, backward = edges(source)
    t1, t2, t3 = ids["t1"], ids["t2"], ids["t3"]
    assert [(t, h) for t, h, _ in forward] == [
        ("box1", t1), (t1, ids["ReLU"]), (ids["ReLU"], t2), (t2, "box2"), ("box2", t3),
        (t3, ids["Mean"]), (ids["Mean"], ids["J"])]
    assert [(t, h) for t, h, label in backward if label] == [
        (ids["Mean"], t3), ("box2", t2), (ids["ReLU"], t1)]


class _SameLayerTwice(gg.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = gg.nn.Linear(3, 3)

    def forward(self, X):
        return gg.tanh(self.fc(gg.relu(self.fc(X))))


def test_a_layer_called_twice_is_two_boxes_that_share_its_parameters():
    X = gg.Tensor(np.ones((4, 3)), name="X")
    J = _SameLayerTwice()(X).sum()
    J.name = "J"
    J.backward()
    source = viz.to_dot(J, collapse=True)
    ids = node_ids(source)
    assert (ids["fc"], ids["fc (2)"]) == ("box1", "box2")
    W, b = ids["W"], ids["b"]  # drawn outside: each box uses them
    assert node_label(source, "box1") == "fc | 1 op: Affine | data: X (4, 3)"
    assert node_label(source, "box2") == "fc (2) | 1 op: Affine"
    forward, backward = edges(source)
    assert [(t, h) for t, h, _ in forward if h in ("box1", "box2")] == [
        (W, "box1"), (b, "box1"), (ids["t2"], "box2"), (W, "box2"), (b, "box2")]
    into_W = [(t, label) for t, h, label in backward if h == W]
    assert [t for t, _ in into_W] == ["box2", "box1"]  # the second call's gradient first
    assert all(label.split(": ", 1)[1].startswith("dW += min") for _, label in into_W)


def test_two_layers_of_one_scope_name_chained_directly_are_one_box_of_two_ops():
    """As the README and `draw_graph` say: a tensor that stays in the scope joins the ops."""
    first, second = gg.nn.Linear(2, 4), gg.nn.Linear(4, 1)  # both scoped "Linear"
    J = second(first(gg.Tensor(np.ones((5, 2)), name="X"))).mean()
    J.backward()
    source = viz.to_dot(J, collapse=True)
    assert "Linear (2)" not in node_ids(source)
    assert node_label(source, node_ids(source)["Linear"]) == (
        "Linear | 2 ops: Affine | parameters: W (4, 2), b (4,), W (1, 4), b (1,) | data: X (5, 2)")
