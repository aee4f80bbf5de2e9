"""The losses as modules (graphgrad/nn/loss_modules.py), PyTorch's ``nn.CrossEntropyLoss()``:
each equal to its function on the same inputs for each setting (value and gradient), their
reprs, class weights kept as buffers, settings refused when the module is made, the accuracy
`fit` picks for them, and their frame in pictures."""
import functools
import math

import numpy as np
import pytest
from test_viz_scopes import clusters, declared
from viz_helpers import node_ids

import graphgrad as gg
import viz
from graphgrad import nn, optim

RNG = np.random.default_rng(5)
Z = RNG.standard_normal((6, 4))
CLASSES = np.array([0, 3, 1, 1, 2, 0])
PADDED = np.array([0, 3, -100, 1, 2, -100])
ONE_HOT = np.eye(4)[CLASSES]
Z_SEQUENCE = RNG.standard_normal((2, 3, 4))
SEQUENCE_CLASSES = np.array([[0, 2, 3], [1, 3, 0]])
LOG_P = Z - np.logaddexp.reduce(Z, axis=-1, keepdims=True)
P = RNG.dirichlet(np.ones(4), size=6)
LOGITS = RNG.standard_normal((6, 3))
BITS = (RNG.random((6, 3)) < 0.5).astype(float)
PROBS = 1.0 / (1.0 + np.exp(-LOGITS))
A = RNG.standard_normal((6, 3))
Y = RNG.standard_normal((6, 3))
ANCHOR, POSITIVE, NEGATIVE = (RNG.standard_normal((6, 3)) for _ in range(3))
X1, X2 = RNG.standard_normal(6), RNG.standard_normal(6)
SIGNS = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0])
WEIGHT = np.array([0.5, 2.0, 1.5, 3.0])

# (module, function, inputs (the first differentiated), settings): the module made with the
# settings against the function given them as keywords
CASES = {
    "cross_entropy": (nn.CrossEntropyLoss, nn.cross_entropy, (Z, CLASSES), {}),
    "cross_entropy_one_hot": (nn.CrossEntropyLoss, nn.cross_entropy, (Z, ONE_HOT),
                              {"label_smoothing": 0.2}),
    "cross_entropy_weighted": (nn.CrossEntropyLoss, nn.cross_entropy, (Z, PADDED),
                               {"weight": WEIGHT, "ignore_index": -100,
                                "label_smoothing": 0.1}),
    "cross_entropy_sum": (nn.CrossEntropyLoss, nn.cross_entropy, (Z, CLASSES),
                          {"reduction": "sum", "weight": WEIGHT}),
    "cross_entropy_none": (nn.CrossEntropyLoss, nn.cross_entropy, (Z, PADDED),
                           {"reduction": "none", "ignore_index": -100}),
    "cross_entropy_sequence": (nn.CrossEntropyLoss, nn.cross_entropy,
                               (Z_SEQUENCE, SEQUENCE_CLASSES), {"label_smoothing": 0.1}),
    "bce_with_logits": (nn.BCEWithLogitsLoss, nn.binary_cross_entropy_with_logits,
                        (LOGITS, BITS), {}),
    "bce_with_logits_weighted": (nn.BCEWithLogitsLoss, nn.binary_cross_entropy_with_logits,
                                 (LOGITS, BITS), {"weight": np.array([1.0, 0.0, 2.0]),
                                                  "pos_weight": np.array([3.0, 1.0, 0.5])}),
    "bce_with_logits_none": (nn.BCEWithLogitsLoss, nn.binary_cross_entropy_with_logits,
                             (LOGITS, BITS), {"reduction": "none", "pos_weight": [2.0, 1, 1]}),
    "bce": (nn.BCELoss, nn.binary_cross_entropy, (PROBS, BITS), {}),
    "bce_weighted": (nn.BCELoss, nn.binary_cross_entropy, (PROBS, BITS),
                     {"weight": np.array([[1.0], [2], [0], [1], [1], [3]]), "reduction": "sum",
                      "eps": 1e-6}),
    "mse": (nn.MSELoss, nn.mse, (A, Y), {}),
    "mse_none": (nn.MSELoss, nn.mse, (A, Y), {"reduction": "none"}),
    "l1": (nn.L1Loss, nn.l1_loss, (A, Y), {"reduction": "sum"}),
    "smooth_l1": (nn.SmoothL1Loss, nn.smooth_l1_loss, (A, Y), {"beta": 0.5}),
    "smooth_l1_zero": (nn.SmoothL1Loss, nn.smooth_l1_loss, (A, Y), {"beta": 0.0}),
    "huber": (nn.HuberLoss, nn.huber_loss, (A, Y), {"delta": 0.7, "reduction": "none"}),
    "nll": (nn.NLLLoss, nn.nll_loss, (LOG_P, CLASSES), {}),
    "nll_weighted": (nn.NLLLoss, nn.nll_loss, (LOG_P, PADDED),
                     {"weight": WEIGHT, "ignore_index": -100, "reduction": "sum"}),
    "kl_div": (nn.KLDivLoss, nn.kl_div, (LOG_P, P), {}),
    "kl_div_log_target": (nn.KLDivLoss, nn.kl_div, (LOG_P, np.log(P)),
                          {"log_target": True, "reduction": "sum"}),
    "triplet": (nn.TripletMarginLoss, nn.triplet_margin_loss, (ANCHOR, POSITIVE, NEGATIVE),
                {}),
    "triplet_swap_p1": (nn.TripletMarginLoss, nn.triplet_margin_loss,
                        (ANCHOR, POSITIVE, NEGATIVE),
                        {"margin": 2.0, "p": 1, "eps": 1e-3, "swap": True, "reduction": "none"}),
    "triplet_squared": (nn.TripletMarginLoss, nn.triplet_margin_loss,
                        (ANCHOR, POSITIVE, NEGATIVE),
                        {"margin": 0.2, "squared": True, "reduction": "sum"}),
    "margin_ranking": (nn.MarginRankingLoss, nn.margin_ranking_loss, (X1, X2, SIGNS),
                       {"margin": 0.3}),
    "hinge_embedding": (nn.HingeEmbeddingLoss, nn.hinge_embedding_loss,
                        (np.abs(X1), SIGNS), {"margin": 1.5, "reduction": "sum"}),
    "cosine_similarity": (nn.CosineSimilarity, nn.cosine_similarity, (A, Y), {}),
    "cosine_similarity_axis0": (nn.CosineSimilarity, nn.cosine_similarity, (A, Y),
                                {"axis": 0, "eps": 1e-3}),
    "cosine_embedding": (nn.CosineEmbeddingLoss, nn.cosine_embedding_loss, (A, Y, SIGNS),
                         {"margin": 0.2}),
    "soft_margin": (nn.SoftMarginLoss, nn.soft_margin_loss, (A, np.sign(Y)), {}),
    "multi_margin": (nn.MultiMarginLoss, nn.multi_margin_loss, (Z, CLASSES),
                     {"p": 2, "margin": 0.5, "weight": WEIGHT, "reduction": "sum"}),
    "multilabel_soft_margin": (nn.MultiLabelSoftMarginLoss, nn.multilabel_soft_margin_loss,
                               (LOGITS, BITS), {"weight": np.array([1.0, 0.5, 2.0])}),
    "multilabel_margin": (nn.MultiLabelMarginLoss, nn.multilabel_margin_loss,
                          (Z, np.array([[0, 3, -1, 1]] * 6)), {"reduction": "none"}),
    "poisson_nll": (nn.PoissonNLLLoss, nn.poisson_nll_loss, (A, np.round(Y ** 2 * 3)),
                    {"full": True, "eps": 1e-6}),
    "poisson_nll_rates": (nn.PoissonNLLLoss, nn.poisson_nll_loss, (A ** 2, np.round(Y ** 2)),
                          {"log_input": False}),
    "gaussian_nll": (nn.GaussianNLLLoss, nn.gaussian_nll_loss, (A, Y, Y ** 2 + 0.1),
                     {"full": True, "eps": 0.5, "reduction": "none"}),
}


def _value_and_gradient(call, inputs):
    """call(x, *rest) and the gradient of its sum in x, the first input."""
    x = gg.Tensor(inputs[0].copy(), requires_grad=True)
    out = call(x, *inputs[1:])
    out.sum().backward()
    return out.data, x.grad


@pytest.mark.parametrize("case", list(CASES))
def test_each_module_is_its_function_with_its_settings_value_and_gradient(case):
    module_class, function, inputs, settings = CASES[case]
    criterion = module_class(**settings)
    value, grad = _value_and_gradient(criterion, inputs)
    expected, expected_grad = _value_and_gradient(
        lambda *args: function(*args, **settings), inputs)
    np.testing.assert_array_equal(value, expected)
    np.testing.assert_array_equal(grad, expected_grad)
    assert np.any(grad != 0)
    # the function fit reads, with the settings it passes: the same call
    assert type(criterion).function is function
    again, _ = _value_and_gradient(
        lambda *args: function(*args, **criterion.keywords()), inputs)
    np.testing.assert_array_equal(again, expected)
    assert criterion.parameters() == []


def test_each_module_equals_its_function_by_hand_on_one_example():
    """The modules against the formulas: cross_entropy's -log softmax(Z)_y averaged, with
    label smoothing's targets (1 - eps) Y + eps / C, and KL's default batchmean."""
    log_softmax = Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)
    eps = 0.1
    targets = (1 - eps) * ONE_HOT + eps / 4
    J = nn.CrossEntropyLoss(label_smoothing=eps)(Z, CLASSES)
    np.testing.assert_allclose(J.data, -(targets * log_softmax).sum(axis=1).mean(), rtol=1e-12)
    kl = nn.KLDivLoss()(LOG_P, P)
    np.testing.assert_allclose(kl.data, (P * (np.log(P) - LOG_P)).sum() / 6, rtol=1e-12)


@pytest.mark.parametrize(("criterion", "text"), [
    (nn.CrossEntropyLoss(), "CrossEntropyLoss()"),
    (nn.CrossEntropyLoss(WEIGHT, ignore_index=-100, label_smoothing=0.1),
     "CrossEntropyLoss(weight=[0.5, 2, 1.5, 3], ignore_index=-100, label_smoothing=0.1)"),
    (nn.CrossEntropyLoss(weight=np.ones(10)),
     "CrossEntropyLoss(weight=<float64 array (10,)>)"),
    (nn.CrossEntropyLoss(ignore_index=np.int64(3)), "CrossEntropyLoss(ignore_index=3)"),
    (nn.BCEWithLogitsLoss(pos_weight=[2.0]), "BCEWithLogitsLoss(pos_weight=[2])"),
    (nn.BCELoss(reduction="sum"), "BCELoss(reduction='sum')"),
    (nn.MSELoss(), "MSELoss()"),
    (nn.L1Loss(reduction="none"), "L1Loss(reduction='none')"),
    (nn.SmoothL1Loss(beta=0.5), "SmoothL1Loss(beta=0.5)"),
    (nn.HuberLoss("sum", delta=2), "HuberLoss(reduction='sum', delta=2)"),
    (nn.NLLLoss(), "NLLLoss()"),
    (nn.KLDivLoss(log_target=True), "KLDivLoss(log_target=True)"),
    (nn.TripletMarginLoss(0.2, squared=True, reduction="sum"),
     "TripletMarginLoss(margin=0.2, squared=True, reduction='sum')"),
    (nn.TripletMarginLoss(p=2), "TripletMarginLoss()"),
    (nn.MarginRankingLoss(0.5), "MarginRankingLoss(margin=0.5)"),
    (nn.HingeEmbeddingLoss(), "HingeEmbeddingLoss()"),
    (nn.CosineSimilarity(axis=1), "CosineSimilarity(axis=1)"),
])
def test_the_repr_shows_the_settings_that_are_not_the_defaults(criterion, text):
    assert repr(criterion) == text


def test_a_subclass_with_its_own_constructor_has_its_base_classs_settings():
    """A criterion made as PyTorch's users make one, a subclass calling the loss's
    constructor with arguments of its own: its repr, its keywords() (what each call and fit's
    accuracy="auto" read) are the settings the base class keeps, not the names of the
    subclass's arguments (its repr and fit failed with AttributeError on those)."""

    class SmoothedLoss(nn.CrossEntropyLoss):
        def __init__(self, smoothing=0.1):
            super().__init__(ignore_index=-100, label_smoothing=smoothing)

    class PaddedLoss(nn.NLLLoss):
        def __init__(self):
            super().__init__(ignore_index=-100)

    criterion = SmoothedLoss(0.2)
    assert repr(criterion) == "SmoothedLoss(ignore_index=-100, label_smoothing=0.2)"
    assert criterion.keywords() == {"weight": None, "ignore_index": -100, "reduction": "mean",
                                    "label_smoothing": 0.2}
    np.testing.assert_allclose(criterion(Z, PADDED).data, nn.cross_entropy(
        Z, PADDED, ignore_index=-100, label_smoothing=0.2).data, rtol=1e-15)
    kind = gg.train._accuracy_kind(criterion, "auto", np.zeros((2, 4)))
    assert kind.keywords == {"ignore_index": -100}
    assert repr(PaddedLoss()) == "PaddedLoss(ignore_index=-100)"
    kind = gg.train._accuracy_kind(PaddedLoss(), "auto", np.zeros((2, 4)))
    assert kind.keywords == {"ignore_index": -100}


def test_class_weights_are_a_buffer_saved_and_loaded_as_pytorchs():
    criterion = nn.CrossEntropyLoss(weight=[1, 2, 3, 4])
    state = criterion.state_dict()
    assert list(state) == ["weight"]
    np.testing.assert_array_equal(state["weight"], [1.0, 2.0, 3.0, 4.0])
    assert state["weight"].dtype == np.float64
    assert criterion.named_buffers()[0][0] == "weight"
    # loading replaces the weights each call uses
    other = nn.CrossEntropyLoss(weight=np.ones(4))
    other.load_state_dict(state)
    np.testing.assert_array_equal(other(Z, CLASSES).data, criterion(Z, CLASSES).data)
    assert other(Z, CLASSES).data != nn.CrossEntropyLoss()(Z, CLASSES).data
    # no weight: nothing saved (a buffer of None), as PyTorch's
    assert nn.CrossEntropyLoss().state_dict() == {}
    assert list(nn.BCEWithLogitsLoss(pos_weight=[2.0, 1, 1]).state_dict()) == ["pos_weight"]
    assert list(nn.NLLLoss(WEIGHT).state_dict()) == ["weight"]
    # changing the array given later changes nothing
    given = np.array([1.0, 2.0, 3.0, 4.0])
    kept = nn.CrossEntropyLoss(weight=given)
    given[0] = 100.0
    assert kept.weight[0] == 1.0
    # a model holding its criterion saves its weights with its own, as PyTorch's
    model = nn.Sequential(nn.Linear(2, 4, rng=0))
    model.criterion = nn.CrossEntropyLoss(weight=WEIGHT)
    assert "criterion.weight" in model.state_dict()


def test_float32_class_weights_stay_float32_and_follow_the_logits_dtype():
    criterion = nn.CrossEntropyLoss(weight=WEIGHT.astype(np.float32))
    assert criterion.weight.dtype == np.float32
    J = criterion(Z, CLASSES)
    assert J.dtype == np.float64
    np.testing.assert_allclose(J.data, nn.cross_entropy(Z, CLASSES, weight=WEIGHT).data,
                               rtol=1e-7)


@pytest.mark.parametrize("module_class", [
    nn.CrossEntropyLoss, nn.BCEWithLogitsLoss, nn.BCELoss, nn.MSELoss, nn.L1Loss,
    nn.SmoothL1Loss, nn.HuberLoss, nn.NLLLoss, nn.TripletMarginLoss, nn.MarginRankingLoss,
    nn.HingeEmbeddingLoss, nn.CosineEmbeddingLoss, nn.SoftMarginLoss, nn.MultiMarginLoss,
    nn.MultiLabelSoftMarginLoss, nn.MultiLabelMarginLoss, nn.PoissonNLLLoss, nn.GaussianNLLLoss])
def test_a_bad_reduction_is_refused_when_the_module_is_made(module_class):
    with pytest.raises(gg.ArgumentError, match=rf"^{module_class.__name__}: reduction must be "
                                              r"\"mean\".*got 'avg'"):
        module_class(reduction="avg")
    with pytest.raises(gg.ArgumentError, match="the string \"none\" gives"):
        module_class(reduction=None)


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: nn.KLDivLoss(reduction="avg"), gg.ArgumentError,
     r"^KLDivLoss: reduction must be \"batchmean\""),
    (lambda: nn.KLDivLoss(log_target=1), gg.ArgumentError,
     r"^KLDivLoss: log_target must be True or False"),
    (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), gg.ArgumentError,
     r"label_smoothing must be a number in \[0, 1\]"),
    (lambda: nn.CrossEntropyLoss(ignore_index=1.5), gg.GraphgradTypeError,
     r"^CrossEntropyLoss: ignore_index must be a whole number"),
    (lambda: nn.NLLLoss(ignore_index=True), gg.GraphgradTypeError,
     r"^NLLLoss: ignore_index must be a whole number"),
    (lambda: nn.CrossEntropyLoss(weight=[1.0, -2.0]), gg.ArgumentError,
     r"^CrossEntropyLoss: weight must be at least 0 and finite, got -2 for class 1"),
    (lambda: nn.CrossEntropyLoss(weight=[[1.0, 2.0]]), gg.ShapeError,
     r"^CrossEntropyLoss: weight must hold one weight per class, of shape \(C,\).*ravel"),
    (lambda: nn.NLLLoss(weight=np.array([True, False])), gg.GraphgradTypeError,
     r"^NLLLoss: weight must hold real numbers"),
    (lambda: nn.CrossEntropyLoss(weight=["a", "b"]), gg.GraphgradTypeError,
     r"^CrossEntropyLoss: weight"),
    (lambda: nn.CrossEntropyLoss(weight=gg.Tensor(np.ones(3), requires_grad=True)),
     gg.ArgumentError, r"^CrossEntropyLoss: weight .* requires grad"),
    (lambda: nn.BCEWithLogitsLoss(pos_weight=[True]), gg.GraphgradTypeError,
     r"^BCEWithLogitsLoss: pos_weight must hold real numbers"),
    (lambda: nn.BCEWithLogitsLoss(weight=[1.0, np.nan]), gg.ArgumentError,
     r"^BCEWithLogitsLoss: weight must be at least 0 and finite"),
    (lambda: nn.BCELoss(eps=0.5), gg.ArgumentError, r"^BCELoss: eps must be in \[0, 0.5\)"),
    (lambda: nn.SmoothL1Loss(beta=-1), gg.ArgumentError, r"^smooth_l1_loss: beta must be"),
    (lambda: nn.HuberLoss(delta=0), gg.ArgumentError, r"^huber_loss: delta must be"),
    (lambda: nn.TripletMarginLoss(margin=0), gg.ArgumentError,
     r"^TripletMarginLoss: margin must be"),
    (lambda: nn.TripletMarginLoss(p=3, squared=True), gg.ArgumentError,
     r"^TripletMarginLoss: squared=True takes the squared Euclidean distance"),
    (lambda: nn.TripletMarginLoss(swap="yes"), gg.ArgumentError,
     r"^TripletMarginLoss: swap must be True or False"),
    (lambda: nn.MarginRankingLoss(margin=math.inf), gg.ArgumentError,
     r"^MarginRankingLoss: margin must be a finite number"),
    (lambda: nn.HingeEmbeddingLoss(margin="1"), gg.ArgumentError,
     r"^HingeEmbeddingLoss: margin must be a finite number"),
    (lambda: nn.CosineSimilarity(axis=1.0), gg.ArgumentError,
     r"^CosineSimilarity: axis must be an integer"),
    (lambda: nn.CosineSimilarity(eps=-1), gg.ArgumentError,
     r"^CosineSimilarity: eps must be a finite number >= 0"),
    (lambda: nn.CosineEmbeddingLoss(margin=math.nan), gg.ArgumentError,
     r"^CosineEmbeddingLoss: margin must be a finite number"),
    (lambda: nn.MultiMarginLoss(p=3), gg.ArgumentError,
     r"^MultiMarginLoss: p must be 1 \(the hinge\) or 2 \(the squared hinge\).*got 3"),
    (lambda: nn.MultiMarginLoss(margin="1"), gg.ArgumentError,
     r"^MultiMarginLoss: margin must be a finite number"),
    (lambda: nn.MultiMarginLoss(weight=[1.0, -1.0]), gg.ArgumentError,
     r"^MultiMarginLoss: weight must be at least 0 and finite"),
    (lambda: nn.MultiLabelSoftMarginLoss(weight=[[1.0, 2.0]]), gg.ShapeError,
     r"^MultiLabelSoftMarginLoss: weight must hold one weight per class"),
    (lambda: nn.PoissonNLLLoss(log_input=1), gg.ArgumentError,
     r"^PoissonNLLLoss: log_input must be True or False"),
    (lambda: nn.PoissonNLLLoss(eps=-1e-8), gg.ArgumentError,
     r"^PoissonNLLLoss: eps must be a finite number >= 0"),
    (lambda: nn.GaussianNLLLoss(eps=0), gg.ArgumentError,
     r"^GaussianNLLLoss: eps must be a finite number above 0"),
    (lambda: nn.GaussianNLLLoss(full="no"), gg.ArgumentError,
     r"^GaussianNLLLoss: full must be True or False"),
])
def test_bad_settings_are_refused_when_the_module_is_made(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_the_settings_of_pytorchs_deprecated_positions_are_keywords():
    """PyTorch's MSELoss(False) is size_average=False: refused here, not read as a reduction.
    HuberLoss takes PyTorch's order, reduction first."""
    with pytest.raises(TypeError):
        nn.MSELoss(False)
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None, None, -100)
    assert nn.HuberLoss("sum").reduction == "sum"


def test_a_weight_that_does_not_fit_the_logits_is_refused_at_the_call_by_the_function():
    with pytest.raises(gg.ShapeError, match=r"^cross_entropy: weight must hold one weight per "
                                             r"class, C = 4"):
        nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0])(Z, CLASSES)


def _classifier_data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((120, 2))
    y = np.digitize(X[:, 0] + X[:, 1], [-0.5, 0.5])  # three classes
    return X, y


def test_fit_with_cross_entropy_loss_reports_the_argmax_accuracy():
    X, y = _classifier_data()
    model = nn.Sequential(nn.Linear(2, 16, rng=0), nn.ReLU(), nn.Linear(16, 3, rng=1))
    history = gg.fit(model, nn.CrossEntropyLoss(label_smoothing=0.05),
                     optim.Adam(model.parameters(), lr=0.05), (X, y), epochs=20,
                     batch_size=32, seed=0, progress=False)
    assert history["cost"][-1] < history["cost"][0]
    assert history["accuracy"][-1] > 0.8
    outputs = np.zeros((2, 3))
    assert gg.train._accuracy_kind(nn.CrossEntropyLoss(), "auto", outputs) == "argmax"
    assert gg.train._accuracy_kind(nn.NLLLoss(), "auto", outputs) == "argmax"


def test_fit_with_mse_loss_reports_no_accuracy():
    """Several real-valued outputs per example: no classes, where a cost of one's own on
    several outputs gets argmax."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((64, 2))
    Y = X @ np.array([[1.0, -2.0, 0.5], [0.5, 1.0, -1.0]])
    model = nn.Linear(2, 3, rng=0)
    history = gg.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (X, Y),
                     epochs=10, batch_size=16, seed=0, progress=False, dev_data=(X, Y))
    assert history["cost"][-1] < 0.1 * history["cost"][0]
    assert all(math.isnan(a) for a in history["accuracy"] + history["dev_accuracy"])
    for criterion in (nn.MSELoss(), nn.L1Loss(), nn.SmoothL1Loss(beta=0.5), nn.HuberLoss(),
                      nn.HingeEmbeddingLoss()):
        assert gg.train._accuracy_kind(criterion, "auto", np.zeros((2, 3))) is None


def test_fit_picks_the_functions_accuracy_for_the_binary_losses_and_ignore_index():
    outputs = np.zeros((2, 1))
    assert gg.train._accuracy_kind(nn.BCEWithLogitsLoss(), "auto", outputs) == "logits"
    assert gg.train._accuracy_kind(nn.BCELoss(), "auto", outputs) == "probabilities"
    kind = gg.train._accuracy_kind(nn.CrossEntropyLoss(ignore_index=-100), "auto",
                                   np.zeros((2, 3)))
    assert kind.keywords == {"ignore_index": -100}
    # fit on padded labels: the accuracy leaves the padding out, as the cost does
    X, y = _classifier_data()
    y = y.copy()
    y[::4] = -100
    model = nn.Linear(2, 3, rng=0)
    history = gg.fit(model, nn.CrossEntropyLoss(ignore_index=-100),
                     optim.Adam(model.parameters(), lr=0.05), (X, y), epochs=15,
                     batch_size=40, seed=0, progress=False)
    assert 0.7 < history["accuracy"][-1] <= 1.0


def test_a_loss_modules_ops_are_drawn_in_a_frame_named_after_it():
    """Called on its own, a criterion's ops are a cluster named after its class, beside the
    model's layers' (the fused loss's one node, or a composed loss's ops); the function
    draws no frame."""
    model = nn.Sequential(nn.Linear(4, 4, rng=0), nn.ReLU())
    X = gg.Tensor(Z, name="X")
    J = nn.CrossEntropyLoss(label_smoothing=0.1)(model(X), CLASSES)
    source = viz.to_dot(J)
    found, ids = clusters(source), node_ids(source)
    assert set(found) == {"linear1", "relu1", "CrossEntropyLoss"}
    assert ids["WeightedSoftmaxCrossEntropy"] in declared(found["CrossEntropyLoss"])
    assert ids["ReLU"] not in declared(found["CrossEntropyLoss"])
    J = nn.L1Loss()(model(X), np.ones((6, 4)))
    found, ids = clusters(viz.to_dot(J)), node_ids(viz.to_dot(J))
    assert set(found) == {"linear1", "relu1", "L1Loss"}
    assert {ids["Sub"], ids["Abs"], ids["Mean"]} <= declared(found["L1Loss"])
    assert set(clusters(viz.to_dot(nn.l1_loss(model(X), np.ones((6, 4)))))) == {
        "linear1", "relu1"}


def test_fit_picks_an_accuracy_for_the_margin_losses_and_none_for_the_likelihoods():
    """argmax for multi_margin_loss's class scores, z > 0 for soft_margin_loss's labels of
    +-1 (the "logits" kind counts -1 as the other class), each z > 0 for
    multilabel_soft_margin_loss's labels (m, C); none for Poisson counts or for
    multilabel_margin_loss's lists of classes."""
    scores = np.zeros((2, 3))
    kinds = {nn.MultiMarginLoss(): "argmax", nn.SoftMarginLoss(): "logits",
             nn.MultiLabelSoftMarginLoss(): "multi_label", nn.PoissonNLLLoss(): None,
             nn.MultiLabelMarginLoss(): None, nn.multi_margin_loss: "argmax",
             nn.soft_margin_loss: "logits", nn.multilabel_soft_margin_loss: "multi_label",
             nn.poisson_nll_loss: None, nn.multilabel_margin_loss: None}
    for loss, kind in kinds.items():
        assert gg.train._accuracy_kind(loss, "auto", scores) == kind, loss
    assert gg.train.accuracy(np.array([[2.0], [-1.0], [0.5]]), np.array([[1.0], [-1.0], [-1.0]]),
                             "logits") == pytest.approx(2 / 3)


def test_fit_with_multi_margin_loss_learns_three_classes_and_reports_argmax():
    X, y = _classifier_data()
    model = nn.Sequential(nn.Linear(2, 16, rng=0), nn.Hardswish(), nn.Linear(16, 3, rng=1))
    history = gg.fit(model, nn.MultiMarginLoss(), optim.Adam(model.parameters(), lr=0.05),
                     (X, y), epochs=20, batch_size=32, seed=0, progress=False)
    assert history["cost"][-1] < 0.5 * history["cost"][0]
    assert history["accuracy"][-1] > 0.8


def test_fit_with_gaussian_nll_loss_reports_no_accuracy():
    """Means of real targets, several per example: a regression, no classes to argmax (the
    real targets of the outputs' shape had been read as one-hot labels)."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((64, 2))
    Y = X @ np.array([[1.0, -2.0, 0.5], [0.5, 1.0, -1.0]])
    model = nn.Linear(2, 3, rng=0)
    loss = functools.partial(nn.gaussian_nll_loss, var=0.5)
    history = gg.fit(model, loss, optim.SGD(model.parameters(), lr=0.1), (X, Y), epochs=5,
                     batch_size=16, seed=0, progress=False, dev_data=(X, Y))
    assert history["cost"][-1] < history["cost"][0]
    assert all(math.isnan(a) for a in history["accuracy"] + history["dev_accuracy"])
    assert gg.train._accuracy_kind(loss, "auto", np.zeros((2, 3))) is None
    assert gg.train._accuracy_kind(nn.GaussianNLLLoss(), "auto", np.zeros((2, 3))) is None
