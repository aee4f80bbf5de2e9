"""Property test (hypothesis): whole models, not just single layers, get right gradients. A
random stack of `Linear` layers (random sizes, initialisers, with or without bias), each maybe
followed by `BatchNorm1d` (training mode) and a smooth activation, under a random loss and an
optional L2 penalty, passes gradcheck with respect to its input and every parameter."""
import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

import graphgrad as gg
from graphgrad import nn

ACTIVATIONS = {"none": None, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softmax": nn.Softmax}
LOSSES = ["cross_entropy, one-hot", "cross_entropy, class indices", "binary_cross_entropy",
          "mse"]


@st.composite
def models(draw):
    """(model, n_x): Linear layers with a batch norm and an activation after each, maybe."""
    sizes = [draw(st.integers(1, 4)), *draw(st.lists(st.integers(1, 4), min_size=1,
                                                         max_size=3))]
    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, init=draw(st.sampled_from(["he", "xavier",
                                                                         "small_random"])),
                                bias=draw(st.booleans()), rng=k))
        if draw(st.booleans()):
            layers.append(nn.BatchNorm1d(n_out))
        activation = ACTIVATIONS[draw(st.sampled_from(sorted(ACTIVATIONS)))]
        if activation is not None:
            layers.append(activation())
    return nn.Sequential(*layers), sizes[0]


def _compute_with(model: nn.Module, params: tuple[gg.Tensor, ...]) -> None:
    """Make ``model`` compute with ``params`` (gradcheck's float64 copies of its parameters, in
    ``named_parameters`` order), so that their gradients are the ones checked."""
    owners = dict(model.named_modules())
    for (name, _), param in zip(model.named_parameters(), params):
        path, _, attribute = name.rpartition(".")
        setattr(owners[path], attribute, param)
    assert all(used is given for used, given in zip(model.parameters(), params))


def _tiny_weights_into_batch_norms() -> tuple[nn.Module, int]:
    layers = [nn.Linear(1, 3, init="small_random", bias=False, rng=0), nn.BatchNorm1d(3),
              nn.Linear(3, 2, init="small_random", bias=False, rng=1), nn.BatchNorm1d(2),
              nn.Linear(2, 2, init="he", bias=False, rng=2), nn.BatchNorm1d(2)]
    return nn.Sequential(*layers), 1


@given(model_and_n_x=models(), m=st.integers(2, 5), loss=st.sampled_from(LOSSES),
       lambd=st.sampled_from([0.0, 0.7]), seed=st.integers(0, 2**32 - 1))
# Weights of 1e-3 feeding batch norms over 2 examples: the batch variance is far below eps,
# where the cost curves sharply enough that a step of 1e-6 (gradcheck's default) misjudges
# dW by 0.4%. Central differences converge to the backward's value as the step shrinks.
@example(model_and_n_x=_tiny_weights_into_batch_norms(), m=2, loss="cross_entropy, one-hot",
         lambd=0.0, seed=1)
def test_random_models_pass_gradcheck(model_and_n_x, m, loss, lambd, seed):
    model, n_x = model_and_n_x
    rng = np.random.default_rng(seed)
    X = gg.Tensor(rng.standard_normal((m, n_x)), requires_grad=True)
    n_classes = model(X).shape[-1]
    if loss.startswith("cross_entropy") and n_classes == 1:
        loss = "mse"  # a softmax over one class is constant (and refused)
    if loss == "cross_entropy, one-hot":
        Y = np.eye(n_classes)[rng.integers(0, n_classes, m)]
    elif loss == "cross_entropy, class indices":
        Y = rng.integers(0, n_classes, m)
    elif loss == "binary_cross_entropy":
        Y = (rng.random((m, n_classes)) > 0.5).astype(float)
    else:
        Y = rng.standard_normal((m, n_classes))

    def cost(X, *params):
        _compute_with(model, params)
        Z = model(X)
        if loss.startswith("cross_entropy"):
            J = nn.cross_entropy(Z, Y)
        elif loss == "binary_cross_entropy":
            J = nn.binary_cross_entropy_with_logits(Z, Y)
        else:
            J = nn.mse(Z, Y)
        return J + nn.l2_penalty(model, lambd, m) if lambd else J

    result = gg.gradcheck(cost, [X, *model.parameters()], eps=1e-8)
    assert result, str(result)
    assert len(result.pairs) == 1 + len(model.parameters())
