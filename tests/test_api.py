"""The public names and signatures issue 2 fixes: renaming one breaks users' code."""
import inspect
import re

import pytest

import graphgrad as gg
import viz

OP_FUNCTIONS = [
    "add", "sub", "mul", "div", "pow", "neg", "matmul",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu",
    "maximum", "minimum", "clip", "where", "log1p", "expm1",
    "tan", "arcsin", "arccos", "arctan", "arctan2", "hypot", "sinh", "cosh", "arcsinh",
    "arccosh", "arctanh", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh",
    "exp2", "log2", "log10", "logaddexp", "reciprocal", "cbrt", "fmax", "fmin",
    "softplus", "log_sigmoid", "elu", "silu", "gelu", "erf", "erfc", "erfinv",
    "selu", "celu", "mish", "softsign", "tanhshrink", "hardsigmoid", "hardswish", "hardshrink",
    "softshrink", "threshold", "glu", "softmin",
    "sum", "mean", "max", "min", "prod", "cumsum", "softmax", "log_softmax", "logsumexp",
    "reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "broadcast_to",
    "concatenate", "stack", "split", "pad", "astype",
    "flip", "roll", "moveaxis", "repeat", "tile", "vstack", "hstack", "einsum", "outer",
    "take_along_axis", "sort", "diagonal", "diag", "trace", "triu", "tril",
    "quantile", "percentile", "median", "copy", "atleast_1d", "atleast_2d", "atleast_3d",
    "column_stack", "dstack", "fliplr", "flipud", "rot90", "tensordot", "inner", "kron", "diff",
    "average", "cross",
    "cumprod", "nansum", "nanmean", "nan_to_num", "ptp", "cov", "corrcoef", "deg2rad",
    "rad2deg", "radians", "degrees", "sinc", "vdot",
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


# -- every public name documented ----------------------------------------------------------------
def _ours(obj) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] in ("graphgrad", "viz")


def _public_names(module) -> list[str]:
    names = getattr(module, "__all__", None)
    return list(names) if names is not None else [n for n in vars(module) if n[0] != "_"]


def _own_doc(member) -> str:
    """The docstring written on the member itself: help() would show a base method's
    inherited one, which says nothing of what an override does."""
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    if isinstance(member, property):
        member = member.fget if member.__doc__ is None else member
    return (getattr(member, "__doc__", None) or "").strip()


def _documentable(cls, name: str, member) -> bool:
    """A function, property or class defined in graphgrad or viz: not a dunder name (not in
    the walk), nor what Python or numpy give (the owner is theirs). The forward and backward
    of an op (a `gg.Function`) are the exception: the op's class docstring holds its formula
    and derivative, one op one unit, and `Function` documents the protocol."""
    if isinstance(member, (staticmethod, classmethod)):
        member = member.__func__
    if name in ("forward", "backward") and issubclass(cls, gg.Function):
        return False
    return inspect.isfunction(member) or isinstance(member, (property, type))


def _public_surface():
    """(label, object) for every public function, class, method and property reachable from
    the public names of gg, gg.nn, gg.optim, gg.data, gg.train and viz (and the modules named
    in an ``__all__``, nn.init and optim.schedules), defined in graphgrad or viz; methods
    under the class that defines them."""
    import viz

    surface: dict[str, object] = {}
    seen: set[int] = set()

    def visit_class(cls) -> None:
        if id(cls) in seen:
            return
        seen.add(id(cls))
        surface[f"{cls.__module__}.{cls.__qualname__}"] = cls
        for name in dir(cls):
            if name.startswith("_"):
                continue
            owner = next((k for k in cls.__mro__ if name in vars(k)), None)
            if owner is None or not _ours(owner):
                continue
            member = vars(owner)[name]
            if isinstance(member, type):
                if _ours(member):
                    visit_class(member)
            elif _documentable(owner, name, member):
                surface[f"{owner.__module__}.{owner.__qualname__}.{name}"] = member

    def visit_module(module) -> None:
        if id(module) in seen:
            return
        seen.add(id(module))
        for name in _public_names(module):
            value = getattr(module, name)
            if inspect.ismodule(value):
                if hasattr(module, "__all__") and value.__name__.startswith(module.__name__):
                    visit_module(value)
            elif isinstance(value, type) and _ours(value):
                visit_class(value)
            elif inspect.isfunction(value) and _ours(value):
                surface[f"{value.__module__}.{value.__qualname__}"] = value

    for module in (gg, gg.nn, gg.optim, gg.data, gg.train, viz):
        visit_module(module)
    return surface


def test_the_public_surface_walk_reaches_functions_methods_properties_and_classes():
    surface = _public_surface()
    for label in ["graphgrad.tensor.Tensor", "graphgrad.tensor.Tensor.sum",
                  "graphgrad.tensor.Tensor.T", "graphgrad.ops.reductions.sum",
                  "graphgrad.nn.layers.Linear.forward", "graphgrad.nn.module.Module.children",
                  "graphgrad.nn.conv._Conv.forward", "graphgrad.nn.init.he",
                  "graphgrad.optim.optimizers.SGD.step", "graphgrad.data.DataLoader",
                  "graphgrad.train.fit", "graphgrad.gradcheck.report.GradcheckResult.failures",
                  "viz.render.render"]:
        assert label in surface, label
    assert len(surface) > 250
    assert not any(label.rsplit(".", 1)[1].startswith("_") for label in surface)


def test_every_public_function_method_property_and_class_has_a_docstring():
    """help(gg.Tensor.sum), help(nn.Linear.forward): each says what it computes (and with
    which shapes); an override says what it does, even where its base is documented."""
    missing = sorted(label for label, member in _public_surface().items()
                     if not _own_doc(member))
    assert not missing, f"{len(missing)} public names without a docstring:\n" + "\n".join(
        missing)


# -- the names each module exports -----------------------------------------------------------
# What `from graphgrad.data import *` gives is what the module documents, not the helpers it
# imports to check its arguments (array_of, flag, seed_value, ...).
PUBLIC_MODULE_NAMES = {
    "graphgrad.data": {"BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
                       "IterableDataset", "RandomSampler", "SequentialSampler", "StackDataset",
                       "Standardizer", "Subset",
                       "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
                       "default_collate", "default_convert", "minibatches", "one_hot",
                       "planar_dataset",
                       "random_split", "standardize", "train_dev_test_split"},
    "graphgrad.train": {"TrainingDiverged", "TrainingInterrupted", "accuracy", "evaluate", "fit"},
    "graphgrad.io": {"SaveFileError", "SaveTypeError", "StateDict", "load", "save"},
    "graphgrad.nn.init": {"generator", "get", "glorot", "he", "initialize", "name_of", "seed",
                          "small_random", "xavier", "zeros", "normal_", "uniform_",
                          "constant_", "zeros_", "ones_", "calculate_gain",
                          "kaiming_normal_", "kaiming_uniform_", "orthogonal_", "trunc_normal_",
                          "xavier_normal_", "xavier_uniform_"},
    "graphgrad.optim.schedules": {"Chain", "ConstantWarmup", "CosineDecay",
                                  "CosineWarmRestarts", "Cyclic", "ExponentialDecay",
                                  "InverseSqrtDecay", "InverseTimeDecay", "LRScheduler",
                                  "LambdaSchedule",
                                  "LinearSchedule", "MultiStepDecay", "OneCycle",
                                  "PolynomialDecay", "ReduceOnPlateau", "Schedule",
                                  "StepDecay", "Warmup"},
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC_MODULE_NAMES))
def test_star_import_of_a_module_gives_its_documented_names_only(module_name):
    names: dict = {}
    exec(f"from {module_name} import *", names)
    assert set(names) - {"__builtins__"} == PUBLIC_MODULE_NAMES[module_name]


def test_star_import_of_graphgrad_gives_the_ops_and_toolkit_not_the_internal_modules():
    names: dict = {}
    exec("from graphgrad import *", names)
    assert set(OP_FUNCTIONS + NAMES) <= set(names)
    assert {"conv2d", "conv1d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "name_scope",
            "is_grad_enabled", "GradcheckResult", "fit", "save", "load"} <= set(names)
    assert {"data", "nn", "optim", "train", "io"} <= set(names)
    assert not {"tensor", "function", "engine", "errors", "interop", "modes", "debug",
                "ops"} & set(names)
    assert names["gradcheck"] is gg.gradcheck and callable(names["gradcheck"])


@pytest.mark.parametrize("module_name", ["graphgrad", "graphgrad.nn", "graphgrad.optim",
                                         "graphgrad.data", "graphgrad.train", "graphgrad.io",
                                         "graphgrad.nn.init", "graphgrad.optim.schedules",
                                         "viz"])
def test_every_name_in_all_exists_and_is_listed_once(module_name):
    import importlib

    module = importlib.import_module(module_name)
    assert len(set(module.__all__)) == len(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)


# Helpers a module shares with viz, which its users never call.
SHARED_HELPERS = {"graphgrad.io": {"file_name", "write_whole", "FolderNotWritable"}}


@pytest.mark.parametrize("module_name", ["graphgrad", "graphgrad.nn", "graphgrad.optim",
                                         "graphgrad.data", "graphgrad.train", "graphgrad.io",
                                         "graphgrad.nn.init", "graphgrad.optim.schedules"])
def test_every_function_and_class_a_module_defines_or_gathers_is_in_its_all(module_name):
    import importlib

    module = importlib.import_module(module_name)
    own = module_name + "." if module_name == "graphgrad" else module_name
    defined = {name for name, value in vars(module).items() if not name.startswith("_")
               and (inspect.isfunction(value) or isinstance(value, type))
               and (value.__module__ or "").startswith(own)}
    missing = defined - set(module.__all__) - SHARED_HELPERS.get(module_name, set())
    assert not missing, sorted(missing)


# -- one spelling per concept ------------------------------------------------------------------
def _conv_and_pool_callables():
    return [gg.conv1d, gg.conv2d, gg.conv_transpose2d, gg.max_pool2d, gg.avg_pool2d,
            gg.max_pool1d, gg.avg_pool1d, gg.nn.Conv1d, gg.nn.Conv2d, gg.nn.ConvTranspose2d,
            gg.nn.MaxPool2d, gg.nn.AvgPool2d, gg.nn.MaxPool1d, gg.nn.AvgPool1d]


@pytest.mark.parametrize("fn", _conv_and_pool_callables(), ids=lambda fn: fn.__qualname__)
def test_every_convolution_and_pooling_spells_the_zeros_around_the_input_padding(fn):
    """``padding`` everywhere (``output_padding`` beside it in the transposed convolution);
    ``pad`` names a padding token (nn.padding_mask, beam_search)."""
    params = inspect.signature(fn).parameters
    assert "padding" in params and "pad" not in params
    assert params["padding"].default == 0
    assert list(params).index("padding") == list(params).index("stride") + 1
    # each takes "same" and "valid" too, and says so in its signature; those of images a
    # pair (p_h, p_w) as well
    assert params["padding"].annotation in ("int | str", int | str,
                                            "int | tuple[int, int] | str")


# -- functions of one tensor and their Tensor methods ------------------------------------------
# Every op of one tensor is also its method (x.sin(), Z.sum(axis=0)), with the same settings
# in the same order and with the same defaults. reshape and transpose take their shape or
# axes as numbers too (x.reshape(n_x, -1)), as numpy's methods do.
ONE_TENSOR_FUNCTIONS = {
    "elementwise": ["exp", "log", "log1p", "expm1", "sqrt", "abs", "sin", "cos", "tanh",
                    "sigmoid", "relu", "leaky_relu", "clip", "softplus", "log_sigmoid", "elu",
                    "silu", "gelu", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
                    "arcsinh", "arccosh", "arctanh", "asin", "acos", "atan", "asinh", "acosh",
                    "atanh", "exp2", "log2", "log10", "reciprocal", "cbrt", "erf", "erfc",
                    "erfinv"],
    "reductions": ["sum", "mean", "max", "min", "prod", "logsumexp", "ptp"],
    "along an axis": ["softmax", "log_softmax", "cumsum", "cumprod"],
    "diagonals": ["diagonal", "trace"],
    "copies": ["copy"],
    "shapes": ["swapaxes", "expand_dims", "squeeze", "astype", "flip", "roll", "moveaxis",
               "repeat", "tile"],
}


def _settings(fn, skip):
    return [(p.name, p.default, p.kind) for p in
            list(inspect.signature(fn).parameters.values())[skip:]]


@pytest.mark.parametrize("name", [n for names in ONE_TENSOR_FUNCTIONS.values() for n in names])
def test_each_function_of_one_tensor_is_a_tensor_method_with_the_same_settings(name):
    assert hasattr(gg.Tensor, name), f"gg.{name} has no method Tensor.{name}"
    assert _settings(getattr(gg.Tensor, name), 1) == _settings(getattr(gg, name), 1)


@pytest.mark.parametrize("name", ONE_TENSOR_FUNCTIONS["reductions"])
def test_every_reduction_takes_axis_then_keepdims_over_all_axes_by_default(name):
    for fn in (getattr(gg, name), getattr(gg.Tensor, name)):
        params = inspect.signature(fn).parameters
        assert list(params)[1:] == ["axis", "keepdims"]
        assert (params["axis"].default, params["keepdims"].default) == (None, False)


# -- docstrings name every setting --------------------------------------------------------------
def _mentions(doc: str, name: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", doc) is not None


def _gg_functions_and_tensor_methods():
    functions = [getattr(gg, name) for name in gg.__all__
                 if inspect.isfunction(getattr(gg, name))]
    methods = [member for name, member in vars(gg.Tensor).items()
               if not name.startswith("_") and inspect.isfunction(member)]
    return functions + methods


@pytest.mark.parametrize("fn", _gg_functions_and_tensor_methods(), ids=lambda f: f.__qualname__)
def test_the_docstring_of_each_op_function_and_tensor_method_names_each_setting(fn):
    """help(gg.sum) says what keepdims does; x and y, the operands, go without saying."""
    doc = inspect.getdoc(fn) or ""
    unnamed = [name for name, p in inspect.signature(fn).parameters.items()
               if name not in ("self", "x", "y") and not _mentions(doc, name)]
    assert not unnamed, f"{fn.__qualname__}: the docstring does not name {unnamed}"


# The same rule over the toolkit: every public function and class of nn, optim, data, train, io
# and viz (their __all__, nn.init's and optim.schedules' included). A class's docstring or its
# __init__'s names each constructor argument (help(nn.TransformerDecoder) says what d_ff is);
# each public method's, forward included, its own (help(RNN.forward) what a0 is). Only self and
# cls go without saying: x and y are no operands here, and where the toolkit has an x or a y
# (an op's inputs, an initialiser's shape) it is something to describe.
TOOLKIT = (gg.nn, gg.nn.init, gg.optim, gg.optim.schedules, gg.data, gg.train, gg.io, viz)


def _toolkit_public():
    """Each public function and class once (nn and optim list some of nn.init's and
    schedules' names too), in the order of the modules' __all__."""
    found = {}
    for module in TOOLKIT:
        for name in module.__all__:
            obj = getattr(module, name)
            if not inspect.ismodule(obj):
                found.setdefault(id(obj), obj)
    return list(found.values())


def _constructor_doc(cls):
    init = vars(cls).get("__init__")
    return (inspect.getdoc(cls) or "") + "\n" + (getattr(init, "__doc__", None) or "")


def _methods(cls, seen):
    """The public methods cls defines or inherits from graphgrad and viz, each once over all
    the classes (Module.state_dict with nn.Module's). An op's forward and backward (nn.Affine,
    a gg.Function) take ctx, the arrays and the gradient, as gg.Function's docstring says,
    and are called by the engine: the op is called through apply, which gg.Function defines,
    and its docstring is its formula (see the test of the ops' inputs below)."""
    for klass in cls.__mro__:
        if not klass.__module__.startswith(("graphgrad", "viz")) or klass is gg.Tensor:
            continue  # nn.Parameter's Tensor methods: the test above checks them
        for name, member in vars(klass).items():
            function = getattr(member, "__func__", member)  # staticmethod, classmethod
            if name.startswith("_") or not inspect.isfunction(function) or function in seen:
                continue
            if issubclass(cls, gg.Function) and name in ("forward", "backward"):
                continue
            seen.add(function)
            yield pytest.param(function, inspect.getdoc(function) or "",
                               id=f"{klass.__module__}.{klass.__qualname__}.{name}")


def _toolkit_callables():
    found, seen = [], set()
    for obj in _toolkit_public():
        label = f"{obj.__module__}.{obj.__qualname__}"
        if not inspect.isclass(obj):
            found.append(pytest.param(obj, inspect.getdoc(obj) or "", id=label))
            continue
        try:
            inspect.signature(obj)
        except ValueError:  # an error class with Exception's constructor: nothing to name
            pass
        else:
            found.append(pytest.param(obj, _constructor_doc(obj), id=label + "()"))
        found += _methods(obj, seen)
    return found


@pytest.mark.parametrize(("fn", "doc"), _toolkit_callables())
def test_the_docstring_of_each_toolkit_function_class_and_method_names_each_setting(fn, doc):
    """help(nn.RNN.forward) says what a0 is, help(optim.clip_grad_norm) what params is."""
    unnamed = [name for name in inspect.signature(fn).parameters
               if name not in ("self", "cls") and not _mentions(doc, name)]
    assert not unnamed, f"{fn.__qualname__}: the docstring does not name {unnamed}"


@pytest.mark.parametrize("op", [obj for obj in _toolkit_public()
                                if inspect.isclass(obj) and issubclass(obj, gg.Function)],
                         ids=lambda op: op.__name__)
def test_the_docstring_of_each_toolkit_op_names_its_inputs(op):
    """An op's docstring is its formula, with its inputs in the course's capitals
    (Z = X @ W.T + b for forward(ctx, x, w, b)): each input of forward after ctx is in it."""
    doc = inspect.getdoc(op) or ""
    unnamed = [name for name in list(inspect.signature(op.forward).parameters)[1:]
               if not _mentions(doc, name) and not _mentions(doc, name.upper())]
    assert not unnamed, f"{op.__name__}: the docstring does not name the inputs {unnamed}"


def test_the_ops_package_docstring_lists_each_function_under_its_module():
    """graphgrad/ops/__init__.py's map, ``- `module`: name name ...``, names every gg function
    where it is defined: a reader looks an op up there."""
    import graphgrad.ops

    listed = {}
    for module, names in re.findall(r"^- `(\w+)`: (.*(?:\n  .*)*)", graphgrad.ops.__doc__,
                                    re.M):
        listed[module] = set(names.split())
    wrong = []
    for name in gg.__all__:
        module = getattr(getattr(gg, name), "__module__", "") or ""
        if not module.startswith("graphgrad.ops."):
            continue
        where = module.rsplit(".", 1)[1]
        if where in ("arithmetic", "indexing"):  # listed by their operators
            continue
        if name not in listed.get(where, set()):
            wrong.append(f"{name} ({where})")
    assert not wrong, f"not listed under their module in graphgrad/ops/__init__.py: {wrong}"
