"""The README's code runs as written and gives what its comments say.

Its ```python blocks run in order, in one namespace (the pictures block uses the quickstart's
J), in a temporary folder for the files they write.
"""
import re
from pathlib import Path

import numpy as np
import pytest

import graphgrad as gg
from graphgrad import nn

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


@pytest.fixture(scope="module")
def blocks() -> list[str]:
    found = python_blocks()
    assert len(found) == 7, "update this test with the README's examples"
    return found


def run(block: str, namespace: dict) -> dict:
    exec(compile(block, str(README), "exec"), namespace)
    return namespace


def test_quickstart_gives_dvar_for_every_node(blocks):
    ns = run(blocks[0], {})
    grads = [ns[name].grad for name in ("a", "b", "c", "u", "v")]
    assert [float(g) for g in grads] == [3.0, 6.0, 9.0, 3.0, 3.0]  # as its comment says
    assert ns["J"].item() == 33.0


def test_pictures_are_written(blocks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = run(blocks[1], run(blocks[0], {}))
    assert (tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "backprop.gif").read_bytes().startswith(b"GIF8")
    source = ns["g"].source
    assert "da = 3" in source and "db = 6" in source and "dc = 9" in source


def test_a_dvar_left_by_an_earlier_pass_is_labelled_as_the_readme_says(blocks):
    import viz

    text = README.read_text()
    quoted, again = re.search(r"`(da = [^`]*)` when\s+the quickstart's cost is computed and "
                              r"backpropagated again \(`([^`]*)`\)", text).groups()
    again = "\n".join(statement.strip() for statement in again.split(";"))
    ns = run(again, run(blocks[0], {}))  # no reset of a.grad between the passes
    source = re.sub(r"<[^>]*>", " ", viz.to_dot(ns["J"]))
    label = " ".join(re.search(r"\ba = 5(.*?)>", source).group(1).split())
    assert label == quoted


def test_newtons_method_reaches_logistic_regressions_minimum_as_the_readme_says(blocks, capsys):
    ns = run(blocks[2], {})
    cost, gradient = (float(value) for value in capsys.readouterr().out.split())
    assert cost == pytest.approx(0.65712, abs=5e-6) and gradient < 1e-12  # as it prints
    X, Y, w = ns["X"], ns["Y"], ns["w"]
    a = 1 / (1 + np.exp(-(w.T @ X)))
    np.testing.assert_allclose(X @ (a - Y).T / 400, 0, atol=1e-12)  # dJ/dw = 0, by hand
    # its comment's Hessian, by hand, at the last step's w
    H = gg.hessian(ns["J"], w).data.reshape(3, 3)
    np.testing.assert_allclose(H, X @ np.diag((a * (1 - a)).ravel()) @ X.T / 400, rtol=1e-10)


def test_custom_op_passes_its_gradient_check(blocks, capsys):
    ns = run(blocks[3], {})
    report = capsys.readouterr().out
    assert report.startswith("gradcheck passed") and "input 0 'x' (7,)" in report
    x = np.linspace(-3, 3, 7)
    out = ns["Softplus"].apply(gg.Tensor(x, requires_grad=True))
    np.testing.assert_allclose(out.data, np.log1p(np.exp(x)))



def test_a_model_is_gradient_checked_through_the_ops_its_layers_run(blocks, capsys):
    ns = run(blocks[4], {})
    report = capsys.readouterr().out
    assert report.startswith("gradcheck passed")
    for i, shape in enumerate(["(4, 2)", "(4,)", "(1, 4)", "(1,)"]):
        assert f"input {i} " in report and shape in report
    model, X, Y = ns["model"], ns["X"], ns["Y"]
    np.testing.assert_allclose(ns["J"](*model.parameters()).item(),
                               nn.binary_cross_entropy_with_logits(model(X), Y).item(),
                               rtol=1e-15)

@pytest.mark.slow
def test_toolkit_example_trains_the_flower_to_what_it_says(blocks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nn.init.seed(0)  # the initial weights of a fresh interpreter, as a reader would run it
    ns = run(blocks[5], {})
    assert ns["history"]["accuracy"][-1] == pytest.approx(0.93, abs=0.01)  # "about 0.93"
    restored = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
    restored.load_state_dict(gg.load("flower.npz"))
    X = ns["X"]
    with gg.no_grad():
        np.testing.assert_array_equal(restored(X).data, ns["model"](X).data)


def test_a_run_resumed_as_the_readme_shows_ends_bit_for_bit_as_one_run(blocks, tmp_path,
                                                                     monkeypatch):
    from graphgrad import optim
    from graphgrad.data import planar_dataset

    monkeypatch.chdir(tmp_path)
    X, Y = planar_dataset()  # what the toolkit example, before it, defines
    ns = run(blocks[6], {"gg": gg, "nn": nn, "optim": optim, "X": X, "Y": Y})
    whole = ns["build"]()
    adam = optim.Adam(whole.parameters(), lr=0.05)
    history = gg.fit(whole, nn.binary_cross_entropy_with_logits, adam, (X, Y), epochs=20,
                     seed=1, schedule=ns["decay"], progress=False)
    assert ns["history"] == {key: values[10:] for key, values in history.items()}
    for key, value in whole.state_dict().items():
        np.testing.assert_array_equal(ns["model"].state_dict()[key], value, err_msg=key)
    for key, value in adam.state_dict().items():
        np.testing.assert_array_equal(ns["adam"].state_dict()[key], value, err_msg=key)


def test_every_name_the_readme_gives_exists():
    """`gg.conv2d`, `nn.RNN`, `optim.Adam`, `viz.render`, ...: the API tables name real
    functions and classes (and `nn.Sigmoid/Tanh/ReLU` each of them)."""
    import viz
    from graphgrad import data, optim, train

    modules = {"gg": gg, "nn": nn, "optim": optim, "data": data, "viz": viz, "gg.train": train}
    text = README.read_text()
    named = re.findall(r"`(gg\.train|gg|nn|optim|data|viz)\.([A-Za-z_][\w/]*(?:\.\w+)*)",
                       text)
    assert len(named) > 60
    missing = [f"{prefix}.{name}" for prefix, names in named for name in names.split("/")
               if not _reaches(modules[prefix], name)]
    assert not missing


def _reaches(module: object, path: str) -> bool:
    """Whether ``module`` has the attribute ``path``, dotted through namespaces
    (``linalg.solve`` of gg)."""
    for part in path.split("."):
        if not hasattr(module, part):
            return False
        module = getattr(module, part)
    return True


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_the_errors_row_names_every_public_error_class_by_a_path_that_reaches_it():
    """`gg.ShapeError`, `nn.StateDictError`, `gg.io.SaveTypeError`, `viz.OptionTypeError`,
    ...: every error class graphgrad and viz raise, named where a reader can catch it."""
    import viz

    row = next(line for line in README.read_text().splitlines()
               if line.startswith("| errors |"))
    roots = {"gg": gg, "nn": nn, "viz": viz}
    named = set()
    for path in re.findall(r"`((?:gg|nn|viz)(?:\.\w+)+)`", row):
        found = roots[path.split(".")[0]]
        for part in path.split(".")[1:]:
            found = getattr(found, part)  # AttributeError: the README names a path that is not
        named.add(found)
    public = {cls for cls in _subclasses(gg.GraphgradError)
              if cls.__module__.split(".")[0] in ("graphgrad", "viz")
              and not cls.__name__.startswith("_")}
    assert len(public) > 20
    missing = sorted(f"{cls.__module__}.{cls.__name__}" for cls in public - named)
    assert not missing, f"the README's errors row does not name {missing}"


def test_every_table_row_has_as_many_cells_as_its_header():
    """A bare `|` inside a cell (the course's ||x|| norm) starts a new cell, and GitHub drops
    the cells past the header's count: the rest of that row would not be shown."""
    counts, problems = None, []
    for number, line in enumerate(README.read_text().splitlines(), 1):
        if not line.startswith("|"):
            counts = None
            continue
        cells = len(re.split(r"(?<!\\)\|", line.strip())) - 2
        if counts is None:
            counts = cells
        elif cells != counts:
            problems.append(f"line {number}: {cells} cells, header {counts}")
    assert not problems


@pytest.mark.parametrize("package", ["ops", "nn"])
def test_the_layout_table_names_every_module_of_ops_and_nn(package):
    """A module added to graphgrad/ops or graphgrad/nn is named in the layout table, where a
    newcomer looks for it."""
    row = next(line for line in README.read_text().splitlines()
               if line.startswith(f"| `graphgrad/{package}/` |"))
    folder = README.parent / "graphgrad" / package
    modules = {path.stem for path in folder.glob("*.py") if path.stem != "__init__"}
    missing = sorted(modules - set(re.findall(r"`(\w+)`", row)))
    assert not missing, f"the layout row of graphgrad/{package}/ does not name {missing}"


def test_every_method_and_attribute_the_readme_gives_exists():
    """`t.var()`, `z.leaky_relu(0.2)`, the tensors row's `.tolist()`, `model.train()`,
    `optimizer.add_param_group`, the bare `named_parameters()` of the models' row and `step()`
    of the optimizers': the README's inline code names attributes its objects have."""
    from graphgrad import optim

    text = re.sub(r"```.*?```", "", README.read_text(), flags=re.S)  # the blocks run above
    tensor = gg.Tensor(np.ones((2, 3)), requires_grad=True)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    receivers = {**dict.fromkeys(["t", "x", "z", "a", "u", "W", "X", "dZ", "J"], tensor),
                 "model": model, "layer": model.linear1, "optimizer": optimizer}
    spans = re.findall(r"`([^`\n]+)`", text)
    named = [(receiver, name) for span in spans
             for receiver, name in re.findall(r"(?<![\w.)\]])(\w*)\.([A-Za-z_]\w*)", span)
             if receiver in receivers]
    rows = {line.split("|")[1].strip(): line for line in text.splitlines()
            if line.startswith("| ")}
    named += [("t", name) for name in re.findall(r"`\.(\w+)", rows["tensors"])]  # `.grad`
    for row, receiver in [("a model's methods", "model"), ("optimizers", "optimizer")]:
        named += [(receiver, name) for name in re.findall(r"`(\w+)\(", rows[row])
                  if not name[0].isupper() and name != "print"]
    assert len(named) > 40
    missing = sorted({f"{receiver}.{name}" for receiver, name in named
                      if not hasattr(receivers[receiver], name)})
    assert not missing


def test_the_api_tables_numpy_calls_on_tensors_run_graphgrad_ops_and_give_numpys_values():
    """`np.log1p(t)`, `np.prod(t, axis=0)`, `np.pad(t, 1, "reflect")`, ...: each numpy call
    the API table says runs on a tensor gives numpy's values on a Tensor that a graphgrad op
    made (so backward goes through it); `np.argmax(t)` and the other index functions give
    indices with no grad, as its indices row says, `np.linalg.slogdet(s)` its sign and
    `np.linalg.matrix_rank(t)` its count."""
    table = README.read_text().split("## The API at a glance")[1].split("### Backprop")[0]
    calls = sorted(set(re.findall(r"`(np\.[\w.]+\([^`]*\))`", table)))
    assert len(calls) > 12
    rng = np.random.default_rng(0)
    values = {"t": rng.random((3, 4)) + 0.5, "a": rng.random((2, 4)), "b": rng.random(4),
              "w": rng.random(3) + 0.5,
              "s": rng.random((4, 4)) * 0.5 + 2.0 * np.eye(4)}  # square, positive definite
    constants = {"np": np, "B": 2, "i": np.array([[0, 3], [2, 2], [1, 0]])}  # i: indices
    for call in calls:
        tensors = {name: gg.Tensor(value, requires_grad=True) for name, value in values.items()}
        out = eval(call, {**constants, **tensors})
        expected = eval(call, {**constants, **values})
        outs, expecteds = (out, expected) if isinstance(out, tuple) else ((out,), (expected,))
        for got, want in zip(outs, expecteds, strict=True):
            assert isinstance(got, gg.Tensor), call
            np.testing.assert_allclose(got.data, want, rtol=1e-12, err_msg=call)
            if call.startswith(("np.argmax", "np.argsort", "np.nonzero",
                                "np.linalg.matrix_rank")) or (
                    call.startswith("np.linalg.slogdet") and got is outs[0]):
                assert not got.requires_grad and got.creator is None, call
            else:
                assert got.requires_grad and got.creator is not None, call
