"""gg.checkpoint: the same values and gradients as the block computed as it is, without the
block's intermediate values kept between forward and backward."""
import functools
import gc
import weakref

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import hooks, nn
from graphgrad.nn import init as initializers

RNG = np.random.default_rng(0)
X_DATA = RNG.standard_normal((5, 4))


@pytest.fixture(autouse=True)
def _keep_the_global_generators():
    """These tests reseed graphgrad's default generator and numpy's: put them back after."""
    default, numpy_state = initializers.generator(), np.random.get_state()
    yield
    initializers._default["rng"] = default
    np.random.set_state(numpy_state)


def mlp(seed: int = 0, n: int = 4) -> nn.Module:
    return nn.Sequential(nn.Linear(n, 6, init="xavier", rng=seed), nn.Tanh(),
                         nn.Linear(6, n, init="xavier", rng=seed + 1))


def leaves_of(model: nn.Module, *tensors: gg.Tensor) -> list[gg.Tensor]:
    return [*tensors, *model.parameters()]


def grads(tensors):
    out = [None if t.grad is None else t.grad.copy() for t in tensors]
    for t in tensors:
        t.grad = None
    return out


def assert_same(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if e is None:
            assert g is None
        else:
            np.testing.assert_array_equal(g, e)


def test_an_mlp_block_gives_the_values_and_every_leaf_gradient_of_the_block_itself():
    block = mlp()
    x = gg.Tensor(X_DATA, requires_grad=True, name="x")
    leaves = leaves_of(block, x)

    plain = block(x)
    (plain ** 2).sum().backward()
    expected = grads(leaves)

    y = gg.checkpoint(block, x)
    np.testing.assert_array_equal(y.data, plain.data)
    assert y.creator.name == "Checkpoint(Sequential)"
    assert y.creator.inputs == (x, *block.parameters())
    (y ** 2).sum().backward()
    assert_same(grads(leaves), expected)
    # by hand: dJ/dx = 2 y W2 (1 - a^2) W1, a = tanh(x W1^T + b1)
    W1, b1, W2, _ = (p.data for p in block.parameters())
    a = np.tanh(X_DATA @ W1.T + b1)
    np.testing.assert_allclose(expected[0], ((2 * plain.data) @ W2 * (1 - a ** 2)) @ W1,
                               rtol=1e-12)


def test_twenty_checkpointed_layers_in_a_row_give_the_gradients_of_the_plain_network():
    blocks = [mlp(seed) for seed in range(0, 40, 2)]
    x = gg.Tensor(X_DATA, requires_grad=True)
    leaves = [x] + [p for b in blocks for p in b.parameters()]

    def run(checkpointed):
        a = x
        for b in blocks:
            a = gg.checkpoint(b, a) if checkpointed else b(a)
        return a

    plain = run(False)
    plain.sum().backward()
    expected = grads(leaves)
    y = run(True)
    np.testing.assert_array_equal(y.data, plain.data)
    y.sum().backward()
    assert_same(grads(leaves), expected)


def test_a_block_with_several_outputs_gives_each_its_gradient():
    block = mlp()

    def two_heads(x):
        h = block(x)
        return gg.tanh(h), h * 3.0

    x = gg.Tensor(X_DATA, requires_grad=True)
    leaves = leaves_of(block, x)
    a, b = two_heads(x)
    ((a * b).sum() + b.mean()).backward()
    expected = grads(leaves)
    a2, b2 = gg.checkpoint(two_heads, x)
    np.testing.assert_array_equal(a2.data, a.data)
    np.testing.assert_array_equal(b2.data, b.data)
    assert a2.creator is b2.creator and a2.creator.name == "Checkpoint(two_heads)"
    ((a2 * b2).sum() + b2.mean()).backward()
    assert_same(grads(leaves), expected)

    # one output unused: it sends zeros
    two_heads(x)[0].sum().backward()
    expected = grads(leaves)
    a2, _ = gg.checkpoint(two_heads, x)
    a2.sum().backward()
    assert_same(grads(leaves), expected)


def test_arguments_that_are_no_tensors_are_passed_as_they_are():
    block = mlp()

    def scaled(x, model, scale, shift=None, power=1):
        return model(x * scale + shift) ** power

    x = gg.Tensor(X_DATA, requires_grad=True)
    shift = gg.Tensor(np.full(4, 0.5), requires_grad=True)
    leaves = leaves_of(block, x, shift)
    scaled(x, block, 0.5, shift=shift, power=2).sum().backward()
    expected = grads(leaves)
    y = gg.checkpoint(scaled, x, block, 0.5, shift=shift, power=2)
    assert y.creator.inputs == (x, shift, *block.parameters())
    y.sum().backward()
    assert_same(grads(leaves), expected)


def test_inputs_that_need_no_gradient_get_none_and_the_parameters_theirs():
    block = mlp()
    x = gg.Tensor(X_DATA)  # data: no gradient
    mask = gg.Tensor(np.array([1.0, 0.0, 1.0, 1.0]))

    def masked(x, mask):
        return block(x) * mask

    masked(x, mask).sum().backward()
    expected = grads(block.parameters())
    y = gg.checkpoint(masked, x, mask)
    assert y.creator.needs_input_grad == (False, False, True, True, True, True)
    y.sum().backward()
    assert x.grad is None and mask.grad is None
    assert_same(grads(block.parameters()), expected)

    # frozen parameters are not inputs; with no input needing a gradient, fn just runs
    block.requires_grad_(False)
    y = gg.checkpoint(block, x)
    assert not y.requires_grad and y.creator is None
    block.requires_grad_(True)


def test_float32_stays_float32():
    block = nn.Sequential(nn.Linear(4, 3, rng=0, dtype=np.float32), nn.Tanh())
    x = gg.Tensor(X_DATA.astype(np.float32), requires_grad=True)
    plain = block(x)
    plain.sum().backward()
    expected = grads(leaves_of(block, x))
    y = gg.checkpoint(block, x)
    assert y.dtype == np.float32
    y.sum().backward()
    got = grads(leaves_of(block, x))
    assert all(g.dtype == np.float32 for g in got)
    assert_same(got, expected)


def test_gg_grad_through_a_checkpoint_gives_the_gradients_asked_for_and_touches_no_grad():
    block = mlp()
    x = gg.Tensor(X_DATA, requires_grad=True)
    W = block.parameters()[0]
    J = (block(x) ** 2).sum()
    expected = gg.grad(J, [x, W])
    J = (gg.checkpoint(block, x) ** 2).sum()
    got = gg.grad(J, [x, W], retain_graph=True)
    assert_same(got, expected)
    (dx,) = gg.grad(J, [x], retain_graph=True)
    np.testing.assert_array_equal(dx, expected[0])
    (dW,) = gg.grad(J, [W])
    np.testing.assert_array_equal(dW, expected[1])
    assert all(p.grad is None for p in leaves_of(block, x))


def test_a_parameter_used_inside_and_outside_the_block_gets_both_gradients():
    lin = nn.Linear(4, 4, init="xavier", rng=3)
    x = gg.Tensor(X_DATA, requires_grad=True)
    leaves = leaves_of(lin, x)

    def block(h):
        return gg.tanh(lin(h))

    J = lin(block(lin(x))).sum()
    J.backward()
    expected = grads(leaves)
    J = lin(gg.checkpoint(block, lin(x))).sum()
    J.backward()
    for g, e in zip(grads(leaves), expected):
        np.testing.assert_allclose(g, e, rtol=1e-15, atol=1e-15)


def test_parameters_used_through_closures_partials_methods_and_globals_are_inputs():
    first, second = mlp(0), mlp(2)
    x = gg.Tensor(X_DATA, requires_grad=True)
    leaves = leaves_of(first, x) + second.parameters()
    second(first(x)).sum().backward()
    expected = grads(leaves)

    def through(a, *, model):
        return model(a)

    calls = {
        "closure": lambda a: second(first(a)),
        "partial": functools.partial(lambda a, m1, m2: m2(m1(a)), m1=first, m2=second),
        "list in a closure": lambda a, layers=(first, second): layers[1](layers[0](a)),
        "keyword": lambda a: through(first(a), model=second),
    }
    for how, fn in calls.items():
        y = gg.checkpoint(fn, x)
        assert set(map(id, y.creator.inputs)) == set(map(id, leaves)), how
        y.sum().backward()
        assert_same(grads(leaves), expected)

    # a method of a module
    y = gg.checkpoint(second.forward, first(x))
    y.sum().backward()
    assert_same(grads(leaves), expected)

    # the layers of a plain object, whose method makes the closure
    class Net:
        def __init__(self):
            self.layers = [first, second]

        def forward(self, a):
            return gg.checkpoint(lambda h: self.layers[1](self.layers[0](h)), a)

    y = Net().forward(x)
    assert set(map(id, y.creator.inputs)) == set(map(id, leaves))
    y.sum().backward()
    assert_same(grads(leaves), expected)


GLOBAL_W = gg.Tensor(np.eye(4) * 0.5, requires_grad=True, name="GLOBAL_W")


def uses_a_global(a):
    return gg.tanh(a @ GLOBAL_W)


def test_a_global_parameter_the_function_names_is_an_input():
    x = gg.Tensor(X_DATA, requires_grad=True)
    uses_a_global(x).sum().backward()
    expected = grads([x, GLOBAL_W])
    y = gg.checkpoint(uses_a_global, x)
    assert any(t is GLOBAL_W for t in y.creator.inputs)
    y.sum().backward()
    assert_same(grads([x, GLOBAL_W]), expected)


class _Deep:
    """Objects inside objects, as no discovery by looking would follow."""

    def __init__(self, inner=None):
        self.inner = inner


DEEP = _Deep(_Deep(_Deep({"W": gg.Tensor(np.full((4, 4), 0.25), requires_grad=True,
                                         name="W_deep")})))


def test_a_class_attribute_and_a_tensor_deep_in_objects_get_their_gradients():
    class Holder:
        W = gg.Tensor(np.eye(4), requires_grad=True, name="W_hidden")

    hidden = Holder()
    W_deep = DEEP.inner.inner.inner["W"]

    def helper(a):
        return a @ hidden.W

    def block(a):
        return gg.tanh(helper(a) @ DEEP.inner.inner.inner["W"])

    x = gg.Tensor(X_DATA, requires_grad=True)
    leaves = [x, Holder.W, W_deep]
    block(x).sum().backward()
    expected = grads(leaves)
    y = gg.checkpoint(block, x)
    assert y.creator.inputs == (x, Holder.W, W_deep)  # in the order fn used them
    y.sum().backward()
    assert_same(grads(leaves), expected)
    # by hand: y = tanh(x I W), dW = (x I)^T (1 - y^2), dI = x^T (1 - y^2) W^T
    dZ = 1 - np.tanh(X_DATA @ W_deep.data) ** 2
    np.testing.assert_allclose(expected[2], X_DATA.T @ dZ, rtol=1e-12)
    np.testing.assert_allclose(expected[1], X_DATA.T @ dZ @ W_deep.data.T, rtol=1e-12)
    # with no input that requires grad, the hidden tensors still are inputs
    y = gg.checkpoint(block, gg.Tensor(X_DATA))
    assert y.creator.inputs[1:] == (Holder.W, W_deep)


def test_a_model_in_the_closure_gives_as_inputs_only_the_parameters_fn_uses():
    first, second = mlp(0), mlp(2)
    models = {"first": first, "second": second}
    x = gg.Tensor(X_DATA, requires_grad=True)

    def only_the_first(a):
        return models["first"](a)

    y = gg.checkpoint(only_the_first, x)
    assert y.creator.inputs == (x, *first.parameters())
    y.sum().backward()
    assert all(p.grad is None for p in second.parameters())
    assert all(p.grad is not None for p in first.parameters())


def test_a_tensor_of_the_graph_around_passes_its_gradient_on_into_that_graph():
    lin = nn.Linear(4, 4, init="xavier", rng=3)
    x = gg.Tensor(X_DATA, requires_grad=True, name="x")
    x2 = gg.Tensor(X_DATA[::-1] * 0.5, requires_grad=True, name="x2")
    leaves = leaves_of(lin, x, x2)

    def block(a):  # h from the closure: a non-leaf of the graph around, made with lin too
        return lin(a * h)

    h = gg.tanh(lin(x))
    (((block(x2)) ** 2).sum() + h.sum()).backward()
    expected = grads(leaves)

    h = gg.tanh(lin(x))
    y = gg.checkpoint(block, x2)
    assert y.creator.inputs == (x2, h, *lin.parameters())
    J = (y ** 2).sum() + h.sum()
    J.backward(retain_graph=True)
    # lin's W gets its gradient through h once (not again by the block's backward)
    for g, e in zip(grads(leaves), expected):
        np.testing.assert_allclose(g, e, rtol=1e-14, atol=1e-14)
    got = gg.grad(J, [x, lin.W])  # the graph around is still whole: gg.grad goes through it
    for g, e in zip(got, (expected[0], expected[2])):
        np.testing.assert_allclose(g, e, rtol=1e-14, atol=1e-14)


def test_a_tensor_given_and_closed_over_and_tensors_returned_as_they_are_count_once():
    lin = nn.Linear(4, 4, init="xavier", rng=1)
    x = gg.Tensor(X_DATA, requires_grad=True, name="x")
    leaves = leaves_of(lin, x)

    def cost(checkpointed):
        h = gg.tanh(lin(x))

        def block(a):  # a is h, which the closure holds too; h, x and W returned as they are
            return a * h + x, h, lin.W

        y, h_out, W_out = gg.checkpoint(block, h) if checkpointed else block(h)
        return (y ** 2).sum() + (h_out * 3.0).sum() + (W_out ** 2).sum(), h, y.creator

    cost(False)[0].backward()
    expected = grads(leaves)
    J, h, node = cost(True)
    assert node.inputs == (h, x, lin.W)  # the given h, then x and W: used, not made by fn
    J.backward()
    for g, e in zip(grads(leaves), expected):
        np.testing.assert_allclose(g, e, rtol=1e-14, atol=1e-14)

    # the same tensor given twice: one gradient for each place
    (x * x * 2.0).sum().backward()
    expected = grads([x])
    gg.checkpoint(lambda a, b: a * b * 2.0, x, x).sum().backward()
    assert_same(grads([x]), expected)


def test_self_attention_given_x_as_query_key_and_value_gives_dx_bit_for_bit():
    # Given three times, x is one tensor in fn's second run too: its three gradients are
    # summed in the order the block itself sums them, not one per place and then added.
    attention = nn.MultiHeadAttention(8, 2, rng=0)
    x = gg.Tensor(RNG.standard_normal((2, 5, 8)), requires_grad=True)
    leaves = leaves_of(attention, x)
    (attention(x, x, x) ** 2).sum().backward()
    expected = grads(leaves)
    y = gg.checkpoint(attention, x, x, x)
    assert y.creator.inputs[:3] == (x, x, x)
    (y ** 2).sum().backward()
    assert_same(grads(leaves), expected)


HIDDEN_RNG_CALLS = []


def fresh_noise(a):
    """A dropout of its own, on a generator made at each call (not replayable)."""
    rng = np.random.default_rng()
    HIDDEN_RNG_CALLS.append(rng)
    return gg.tanh(a) * (rng.random(a.shape) < 0.5)


def test_a_generator_the_replay_does_not_find_is_refused_not_a_wrong_gradient():
    class Holder:  # a class attribute: not among the values checkpoint looks at
        drop = nn.Dropout(0.5, rng=3)

    def hidden_dropout(a):
        return Holder.drop(gg.tanh(a)) * 2.0

    x = gg.Tensor(X_DATA, requires_grad=True)
    y = gg.checkpoint(hidden_dropout, x)
    with pytest.raises(gg.BackwardError, match=(
            r"Checkpoint\(hidden_dropout\): run again in backward, fn computed its output "
            r"differently: \(5, 4\) float64, other values.*pass the module holding the "
            r"generator as fn or as an argument")):
        y.sum().backward()
    assert x.grad is None

    two = gg.checkpoint(lambda a: (a * 3.0, fresh_noise(a)), x)
    with pytest.raises(gg.BackwardError, match=r"fn computed output 1 of 2 differently.*"
                                               r"make it deterministic"):
        two[1].sum().backward()
    assert len(HIDDEN_RNG_CALLS) == 2

    # the module passed as an argument: found, its generator replayed
    Holder.drop.reseed(5)
    plain = Holder.drop(gg.tanh(x))
    plain.sum().backward()
    expected = grads([x])
    Holder.drop.reseed(5)
    y = gg.checkpoint(lambda a, drop: drop(gg.tanh(a)), x, Holder.drop)
    np.testing.assert_array_equal(y.data, plain.data)
    y.sum().backward()
    assert_same(grads([x]), expected)


def test_a_second_run_that_uses_another_tensor_or_shape_is_refused():
    x = gg.Tensor(X_DATA, requires_grad=True)
    W_a = gg.Tensor(np.eye(4), requires_grad=True, name="W_a")
    W_b = gg.Tensor(np.eye(4), requires_grad=True, name="W_b")  # the same values
    runs = []

    def alternating(a):
        runs.append(None)
        return a @ (W_a if len(runs) % 2 else W_b)

    y = gg.checkpoint(alternating, x)
    assert y.creator.inputs == (x, W_a)
    with pytest.raises(gg.BackwardError, match=r"Checkpoint\(alternating\): run again in "
                                               r"backward, fn used 'W_b' \(4, 4\).*which its "
                                               r"first run did not use"):
        y.sum().backward()

    def growing(a):
        runs.append(None)
        return a[:len(runs) % 2 + 1]

    y = gg.checkpoint(growing, x)
    with pytest.raises(gg.BackwardError, match=r"its output differently: \(1, 4\) float64 "
                                               r"where it was \(2, 4\) float64"):
        y.sum().backward()


@pytest.mark.parametrize("rng", [7, None], ids=["its own", "the default"])
def test_dropout_replays_the_same_masks_from_its_own_and_the_default_generator(rng):
    block = nn.Sequential(nn.Linear(4, 8, init="xavier", rng=1), nn.ReLU(),
                          nn.Dropout(0.6, rng=rng), nn.Linear(8, 4, init="xavier", rng=2))
    dropout = list(block.children())[2]
    x = gg.Tensor(X_DATA, requires_grad=True)
    leaves = leaves_of(block, x)

    def reseed():
        initializers.seed(11)
        if rng is not None:
            dropout.reseed(5)

    reseed()
    plain = block(x)
    plain.sum().backward()
    expected = grads(leaves)
    after_plain = initializers.generator().random(), (dropout.rng or
                                                      initializers.generator()).random()

    def generators():
        return [initializers.generator()] + ([dropout.rng] if rng is not None else [])

    # the generators end where the block computed as it is leaves them
    reseed()
    y = gg.checkpoint(block, x)
    np.testing.assert_array_equal(y.data, plain.data)
    y.sum().backward()
    assert_same(grads(leaves), expected)
    assert (initializers.generator().random(), (dropout.rng or
                                                initializers.generator()).random()
            ) == after_plain

    # draws between forward and backward, and even new generators: backward replays the
    # first run's, and leaves each generator where it was before backward
    reseed()
    y = gg.checkpoint(block, x)
    for g in generators():
        g.random(3)
    reseed()
    for g in generators():
        g.random(2)
    before = [(g, g.bit_generator.state) for g in generators()]
    y.sum().backward()
    assert_same(grads(leaves), expected)
    assert [(g, g.bit_generator.state) for g in generators()] == before

    # without preserve_rng_state, draws made in between change the masks: refused, where
    # the gradients would be those of other masks
    reseed()
    y = gg.checkpoint(block, x, preserve_rng_state=False)
    (dropout.rng or initializers.generator()).random(3)
    with pytest.raises(gg.BackwardError, match=r"Checkpoint\(Sequential\): run again in "
                                               r"backward, fn computed its output differently.*"
                                               r"\(preserve_rng_state=False puts back none\)"):
        y.sum().backward()
    assert all(t.grad is None for t in leaves)


def test_a_transformer_layer_with_dropout_gives_the_gradients_of_the_layer_itself():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3, rng=0)
    x = gg.Tensor(RNG.standard_normal((2, 5, 8)), requires_grad=True)
    leaves = leaves_of(layer, x)

    def reseed(module):
        if isinstance(module, nn.Dropout):
            module.reseed(3)

    layer.apply(reseed)
    plain = layer(x)
    plain.sum().backward()
    expected = grads(leaves)
    layer.apply(reseed)
    y = gg.checkpoint(layer, x)
    np.testing.assert_array_equal(y.data, plain.data)
    y.sum().backward()
    assert_same(grads(leaves), expected)


def test_numpy_s_global_generator_is_replayed_too():
    def course_dropout(a):
        D = np.random.rand(*a.shape) < 0.5
        return gg.tanh(a) * D / 0.5

    x = gg.Tensor(X_DATA, requires_grad=True)
    np.random.seed(3)
    course_dropout(x).sum().backward()
    expected = x.grad
    x.grad = None
    np.random.seed(3)
    y = gg.checkpoint(course_dropout, x)
    np.random.rand(10)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, expected)


def test_batchnorm_updates_its_running_statistics_once_and_backward_uses_forward_s_mode():
    def build():
        return nn.Sequential(nn.Linear(4, 6, init="xavier", rng=1), nn.BatchNorm1d(6),
                             nn.Tanh())

    plain_block, block = build(), build()
    x = gg.Tensor(X_DATA, requires_grad=True)
    plain = plain_block(x)
    plain.sum().backward()
    expected = grads(plain_block.parameters() + [x])

    y = gg.checkpoint(block, x)
    np.testing.assert_array_equal(y.data, plain.data)
    block.eval()  # between forward and backward: the second run is in training mode still
    y.sum().backward()
    assert_same(grads(block.parameters() + [x]), expected)
    assert not block.training and not list(block.children())[1].training
    for name in ("running_mean", "running_var"):
        np.testing.assert_array_equal(getattr(list(block.children())[1], name),
                                      getattr(list(plain_block.children())[1], name))
    assert not np.array_equal(list(block.children())[1].running_mean, np.zeros(6))


def test_the_block_s_intermediate_values_are_not_kept_between_forward_and_backward():
    def block(x, seen):
        h = x
        for _ in range(4):
            h = gg.tanh(h * 1.5)
            seen.append(weakref.ref(h.data))
            seen.append(weakref.ref(h))
        return h.sum(axis=1)

    x = gg.Tensor(RNG.standard_normal((200, 50)), requires_grad=True)
    gc.disable()  # freed by reference counting, without the collector
    try:
        kept: list = []
        y_plain = block(x, kept)
        assert all(ref() is not None for ref in kept)  # the plain graph holds them
        gone: list = []
        y = gg.checkpoint(block, x, gone)
        assert len(gone) == 8 and all(ref() is None for ref in gone)
        # the node holds its inputs and its output's array, nothing more
        assert y.creator.saved == (x.data,)
        y_plain.sum().backward()
        expected = x.grad
        x.grad = None
        again: list = []
        y.creator._call.args = (x, again)  # see what the second run makes, and that it goes
        y.sum().backward()
        assert len(again) == 8 and all(ref() is None for ref in again)
    finally:
        gc.enable()
    np.testing.assert_array_equal(x.grad, expected)


def test_a_checkpoint_inside_a_checkpoint():
    inner, outer = mlp(0), mlp(4)
    x = gg.Tensor(X_DATA, requires_grad=True)
    leaves = leaves_of(inner, x) + outer.parameters()

    def nested(a):
        return outer(gg.checkpoint(inner, a))

    nested(x).sum().backward()
    expected = grads(leaves)
    y = gg.checkpoint(nested, x)
    y.sum().backward()
    assert_same(grads(leaves), expected)


def test_under_no_grad_it_just_runs_fn():
    block = mlp()
    x = gg.Tensor(X_DATA, requires_grad=True)
    with gg.no_grad():
        y = gg.checkpoint(block, x)
        pair = gg.checkpoint(lambda a: (a.sum(), "a label"), x)  # not checked: nothing kept
    assert not y.requires_grad and y.creator is None
    np.testing.assert_array_equal(y.data, block(x).data)
    assert pair[1] == "a label"


def test_a_second_backward_needs_retain_graph_and_then_adds_the_gradients_again():
    block = mlp()
    x = gg.Tensor(X_DATA, requires_grad=True)
    (block(x) ** 2).sum().backward()
    expected = grads(leaves_of(block, x))
    J = (gg.checkpoint(block, x) ** 2).sum()
    J.backward(retain_graph=True)
    J.backward()
    assert_same(grads(leaves_of(block, x)), [2 * e for e in expected])
    with pytest.raises(gg.BackwardError, match="a second time"):
        J.backward()


def test_a_second_derivative_through_a_checkpoint_is_refused():
    block = mlp()
    x = gg.Tensor(X_DATA, requires_grad=True)
    J = (gg.checkpoint(block, x) ** 2).sum()
    with pytest.raises(gg.BackwardError, match=r"Checkpoint\(Sequential\): create_graph=True "
                                               r".*without gg.checkpoint"):
        gg.grad(J, [x], create_graph=True)


def test_fn_returning_no_tensor_is_refused_naming_it():
    x = gg.Tensor(X_DATA, requires_grad=True)

    def as_list(a):
        return [a * 2, a * 3]

    def with_a_label(a):
        return a * 2, "label"

    for fn, what in ((as_list, "list"), (with_a_label, "a tuple holding Tensor, str"),
                     (lambda a: 3.0, "float"), (lambda a: (), "a tuple of 0 tensors")):
        with pytest.raises(gg.GraphgradTypeError) as info:
            gg.checkpoint(fn, x)
        message = str(info.value)
        assert message.startswith(f"gg.checkpoint: {fn.__name__.rpartition('.')[2]} returned "
                                  f"{what}; it must return a Tensor or a tuple of Tensors")
    with pytest.raises(gg.GraphgradTypeError, match="fn must be the function"):
        gg.checkpoint(x, mlp())


def test_replacing_an_input_s_data_before_backward_is_refused():
    block = mlp()
    x = gg.Tensor(X_DATA, requires_grad=True, name="x")
    y = gg.checkpoint(block, x)
    with pytest.raises(ValueError, match="read-only"):  # the leaf is locked until backward
        x.data[0, 0] = 1.0
    x.data = X_DATA * 2
    with pytest.raises(gg.BackwardError, match=r"Checkpoint\(Sequential\): the data of 'x' "
                                               r"\(5, 4\) float64 was replaced"):
        y.sum().backward()


def test_the_picture_draws_the_block_as_one_node_named_after_fn(tmp_path):
    viz = pytest.importorskip("viz")
    block = mlp()
    x = gg.Tensor(X_DATA, requires_grad=True, name="x")
    J = gg.checkpoint(block, x).sum()
    J.name = "J"
    J.backward(retain_graph=True)
    dot = viz.to_dot(J)
    assert dot.count("Checkpoint(Sequential)") == 1
    assert "Tanh" not in dot and "Affine" not in dot  # the block's own ops are not drawn
    path = viz.render(J, tmp_path / "checkpoint.png")
    assert path.stat().st_size > 1000


def test_the_picture_draws_each_checkpointed_block_in_its_own_frame_as_without():
    viz = pytest.importorskip("viz")
    from test_viz_scopes import clusters, declared

    class Net(nn.Module):
        def __init__(self, checkpointed):
            super().__init__()
            self.checkpointed = checkpointed
            self.blocks = nn.ModuleList([mlp(seed) for seed in (0, 2)])

        def forward(self, X):
            for block in self.blocks:
                X = gg.checkpoint(block, X) if self.checkpointed else block(X)
            return X

    x = gg.Tensor(X_DATA, requires_grad=True, name="x")
    frames = {"blocks", "0", "1"}  # blocks/0 and blocks/1, nested in blocks
    assert frames <= set(clusters(viz.to_dot(Net(False)(x).sum())))
    y = Net(True)(x)
    found = clusters(viz.to_dot(y.sum()))
    assert frames <= set(found)
    for label, out in (("0", y.creator.inputs[0]), ("1", y)):
        assert out.creator.scope == f"blocks/{label}"
        assert out.creator.name == "Checkpoint(Sequential)"
        ops = [n for n in declared(found[label]) if n.startswith("op")]
        assert len(ops) == 1  # the node, in its block's frame; the other block's is not


def test_a_hook_fn_registers_on_a_tensor_it_did_not_make_runs_once_as_without():
    # A gradient reversal layer (fn hooks its input) and a hook on a closed-over tensor: the
    # first run's registration stays, as without the checkpoint; the second run's, on the
    # stand-in or on the same tensor again, would apply it twice (-(-g) = g).
    lin = nn.Linear(4, 4, init="xavier", rng=1)
    x = gg.Tensor(X_DATA, requires_grad=True)

    def run(checkpointed):
        h = gg.tanh(lin(x))
        c = x * 2.0

        def block(a):
            a.register_hook(lambda g: -g)
            c.register_hook(lambda g: g * 3.0)
            return a * c

        y = gg.checkpoint(block, h) if checkpointed else block(h)
        (y ** 2).sum().backward()
        return c

    run(False)
    expected = grads(leaves_of(lin, x))
    c = run(True)
    assert_same(grads(leaves_of(lin, x)), expected)
    assert len(hooks.tensor_hooks(c)) == 1


def test_retain_grad_on_a_tensor_fn_makes_keeps_its_grad_as_without_the_checkpoint():
    # fn's intermediate and output marked with retain_grad(): the graph holds neither the
    # first run's tensors, which a caller may hold, nor the second run's, which a module
    # keeping its activation in an attribute holds after backward. Both get the .grad they
    # get without the checkpoint (as with PyTorch's non-reentrant checkpoint).
    lin = nn.Linear(4, 4, init="xavier", rng=1)
    x = gg.Tensor(X_DATA, requires_grad=True)

    def run(checkpointed, keep):
        runs = []

        def block(a):
            u = gg.sin(lin(a))
            u.retain_grad()
            out = u * a
            out.retain_grad()
            runs.append((u, out))
            return out

        h = gg.tanh(x)
        y = gg.checkpoint(block, h) if checkpointed else block(h)
        (y ** 2).sum().backward(keep_intermediate_grads=keep)
        return runs

    for keep in (False, True):
        [expected] = run(False, keep)
        first, second = run(True, keep)
        for marked in (first, second):
            assert all(t.retains_grad for t in marked)
            for t, without in zip(marked, expected):
                np.testing.assert_array_equal(t.grad, without.grad)
    # gg.grad touches no .grad, through a checkpoint neither.
    runs = []

    def block(a):
        u = gg.sin(a)
        u.retain_grad()
        runs.append(u)
        return u * 2.0

    gg.grad((gg.checkpoint(block, gg.tanh(x)) ** 2).sum(), [x])
    assert len(runs) == 2 and runs[0].grad is None and runs[1].grad is None


def test_a_block_run_by_functional_call_is_run_again_with_the_values_given():
    # nn.functional_call puts the model's own parameters back when forward returns, before
    # backward runs the checkpointed block again: the second run must use the given W, as
    # the first did (it used the model's W, and was refused as computing other values).
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = mlp(3)

        def forward(self, x, checkpointed):
            return gg.checkpoint(self.block, x) if checkpointed else self.block(x)

    model = Net()
    W = gg.Tensor(RNG.standard_normal((6, 4)), requires_grad=True)
    x = gg.Tensor(X_DATA, requires_grad=True)
    expected, got = (
        gg.grad((nn.functional_call(model, {"block.linear1.W": W}, (x, checkpointed)) ** 2)
                .sum(), [W, x, model.block.linear2.W])
        for checkpointed in (False, True))
    assert_same(got, expected)
    assert model.block.linear1.W is not W and model.block.linear1.W.grad is None

    # A BatchNorm in eval mode given its running statistics: run again with them too.
    model.block = nn.BatchNorm1d(4)
    model.eval()
    stats = {"block.running_mean": RNG.standard_normal(4),
             "block.running_var": RNG.uniform(1.0, 2.0, 4)}
    expected, got = (gg.grad((nn.functional_call(model, stats, (x, checkpointed)) ** 2).sum(),
                             [x])
                     for checkpointed in (False, True))
    assert_same(got, expected)
    assert not np.array_equal(model.block.running_mean, stats["block.running_mean"])
