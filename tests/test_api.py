"""The public names and signatures issue 2 fixes: renaming one breaks users' code."""
import inspect

import pytest

import graphgrad as gg

OP_FUNCTIONS = [
    "add", "sub", "mul", "div", "pow", "neg", "matmul",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu",
    "maximum", "minimum", "clip", "where",
    "sum", "mean", "max", "min", "softmax", "log_softmax", "logsumexp",
    "reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "broadcast_to",
    "concatenate", "stack", "split", "pad", "astype",
]
NAMES = ["Tensor", "Function", "grad", "no_grad", "enable_grad", "detect_anomaly",
         "strict_shapes", "gradcheck", "gradgradcheck", "GraphgradError", "GradcheckError",
         "BackwardError", "ShapeError", "AnomalyError", "InplaceError", "OpError",
         "GraphgradTypeError", "ArgumentError", "ConventionWarning"]


@pytest.mark.parametrize("name", OP_FUNCTIONS + NAMES)
def test_public_name_exists(name):
    assert callable(getattr(gg, name))


def _defaults(fn):
    return {name: p.default for name, p in inspect.signature(fn).parameters.items()
            if p.default is not inspect.Parameter.empty}


def test_tensor_signature():
    params = list(inspect.signature(gg.Tensor).parameters)
    assert params[:4] == ["data", "requires_grad", "name", "dtype"]
    assert _defaults(gg.Tensor) == {"requires_grad": False, "name": None, "dtype": None}


def test_backward_signature():
    params = list(inspect.signature(gg.Tensor.backward).parameters)
    assert params[:3] == ["self", "grad", "retain_graph"]
    assert _defaults(gg.Tensor.backward)["grad"] is None
    assert _defaults(gg.Tensor.backward)["retain_graph"] is False


def test_grad_signature():
    params = list(inspect.signature(gg.grad).parameters)
    assert params[:4] == ["outputs", "inputs", "grad_outputs", "create_graph"]
    assert _defaults(gg.grad)["grad_outputs"] is None
    assert _defaults(gg.grad)["create_graph"] is False


@pytest.mark.parametrize("check", [gg.gradcheck, gg.gradgradcheck])
def test_gradcheck_signature(check):
    signature = inspect.signature(check)
    keyword_only = {name for name, p in signature.parameters.items()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert {"eps", "atol", "rtol", "fast", "raise_exception"} <= keyword_only
    defaults = _defaults(check)
    assert (defaults["eps"], defaults["atol"], defaults["rtol"]) == (1e-6, 1e-5, 1e-3)
    assert (defaults["fast"], defaults["raise_exception"]) == (False, True)


@pytest.mark.parametrize("attribute", ["data", "grad", "shape", "dtype", "ndim", "name",
                                       "requires_grad", "numpy", "item", "__array__",
                                       "detach", "backward", "creator", "T"])
def test_tensor_attribute_exists(attribute):
    t = gg.Tensor([[1.0]], requires_grad=True)
    assert hasattr(t, attribute)


@pytest.mark.parametrize("attribute", ["save_for_backward", "apply", "saved", "needs_input_grad",
                                       "inputs", "attrs", "outputs", "name"])
def test_function_attribute_exists(attribute):
    assert hasattr(gg.Function, attribute)


def _public_classes(module, base):
    return {name for name, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, base) and value.__module__ ==
            module.__name__ and not name.startswith("_")}


def test_every_error_of_graphgrad_errors_is_a_name_of_gg():
    from graphgrad import errors

    names = _public_classes(errors, (gg.GraphgradError, Warning))
    assert {"ArgumentError", "ShapeError", "ConventionWarning"} <= names
    assert all(getattr(gg, name) is getattr(errors, name) for name in names)


def test_every_error_and_warning_of_viz_is_exported_from_viz():
    """``except viz.OptionTypeError`` and ``from viz import *`` reach each of them."""
    import viz
    from viz import errors

    names = _public_classes(errors, (gg.GraphgradError, Warning))
    assert {"VizError", "OptionTypeError", "MissingPackageError", "LargeGraphWarning"} <= names
    assert names <= set(viz.__all__)
    assert all(getattr(viz, name) is getattr(errors, name) for name in viz.__all__
               if name in names)
