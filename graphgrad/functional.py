"""Derivatives of a function as values: `jacobian`, `hessian`, and the products `vjp`, `jvp`,
`vhp`, `hvp`, with the signatures and the nesting of PyTorch's ``torch.autograd.functional``.

Each takes ``func``, a Python function of tensors, and ``inputs``: one tensor (or array), or
a tuple of them for a ``func`` of several. It calls ``func`` once, on fresh leaves that
require grad (the inputs' values, cut from any graph the caller has; with
``create_graph=True`` an input that requires grad stays on its graph, through an identity
node, so that the result can be differentiated with respect to it), and backpropagates with
`gg.grad` (reverse mode only):

- `vjp`: one backward, v @ J;
- `jvp`: J @ v by the double-vjp trick: u -> u @ J is linear in u, so the vjp of that map
  with v is J @ v (two backwards, the second through the graph of the first);
- `jacobian`: one backward per element of each output (a row of J per basis vector e_k as
  grad_outputs), so an output of n elements costs n backwards: fine for the course's sizes,
  too slow for a network's parameters (take `vjp` or `jvp` there); with
  ``strategy="forward-mode"``, column by column instead: one backward through the double-vjp
  graph per element of the inputs, the cheaper way when the inputs have fewer elements;
- `hessian`: the jacobian of the gradient, one backward per element of the inputs, on the
  graph of one backward that kept its graph;
- `vhp` and `hvp`: v @ H and H @ v, the vjp and (by the same trick) the jvp of the gradient.

Every op on the way must run its backward on Tensors (``gg.grad(..., create_graph=True)``)
for ``jvp``, ``hessian``, ``vhp`` and ``hvp``, and for anything with ``create_graph=True``.
Depends on `engine`, `tensor`, `modes`, `errors` and the ops `copy` and `stack`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from graphgrad.engine import grad as _engine_grad
from graphgrad.errors import (
    ArgumentError,
    BackwardError,
    GraphgradTypeError,
    ShapeError,
    describe,
    flag,
    setting_text,
)
from graphgrad.modes import enable_grad
from graphgrad.ops.compositions import copy as _identity
from graphgrad.ops.shape import stack as _stack
from graphgrad.tensor import Tensor

Inputs = Any  # a Tensor or an array, or a tuple of them
Outputs = Any  # a Tensor, or a tuple of Tensors (a tuple of tuples for a jacobian's blocks)


def jacobian(func: Callable[..., Any], inputs: Inputs, create_graph: bool = False,
             strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode") -> Outputs:
    """The Jacobian of ``func`` at ``inputs``: d(output)/d(input) for each output and input.

    Args:
        func: a function of tensors, one per input, returning a Tensor or a tuple of them.
        inputs: a Tensor (or an array of numbers, made into one) or a tuple of them.
        create_graph: return the Jacobian on a graph, to differentiate it again; with False
            it is a constant (requires_grad False).
        strict: raise when an output does not depend on an input, and with create_graph
            when a block is a constant, on no graph (func is linear); with False, that block
            is zeros, its value, or the constant.
        vectorize: PyTorch's switch to batch the backwards; here each row (or column) is a
            backward of its own either way, so it changes no value. As PyTorch, it is needed
            for ``strategy="forward-mode"`` and cannot go with ``strict=True``.
        strategy: ``"reverse-mode"``, J row by row (one backward per element of the
            outputs), or ``"forward-mode"``, column by column (one backward per element of
            the inputs, after one that records u @ J): the cheaper when the inputs have fewer
            elements than the outputs.

    Returns:
        for one input and one output, a Tensor of shape ``output.shape + input.shape``
        (of W @ x with respect to x: W); for a tuple of inputs, a tuple with a block per
        input; for a tuple of outputs, one per output; for both, ``J[i][j]``, of output i
        with respect to input j. Each block has its input's dtype (float32 stays float32).

    One backward per element of each output (a basis vector as grad_outputs), or of each
    input in forward mode: use `vjp` or `jvp` when only products with J are needed.
    """
    forward = _forward_mode(vectorize, strategy, strict, "jacobian", "strategy")
    return _jacobian(func, inputs, create_graph, strict, "jacobian", forward=forward)


def hessian(func: Callable[..., Any], inputs: Inputs, create_graph: bool = False,
            strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode") -> Outputs:
    """The Hessian of ``func``, a function returning a single number (a cost), at ``inputs``.

    Args:
        func: a function of tensors, one per input, returning a Tensor of one element.
        inputs: a Tensor (or an array of numbers) or a tuple of them.
        create_graph: return the Hessian on a graph, to differentiate it again.
        strict: raise when the cost does not depend on an input, when its gradient with
            respect to one does not depend on the inputs (a linear function), or when a
            block H[i][j] is zeros as gradient i does not depend on input j (PyTorch's
            check, x**2 + y**2 fails it); with False those blocks are zeros.
        vectorize, outer_jacobian_strategy: as `jacobian`'s ``vectorize`` and
            ``strategy``, for the jacobian of the gradient; either strategy takes one
            backward per element of the inputs.

    Returns:
        for one input x, a Tensor of shape ``x.shape + x.shape``, d2J/dx dx (of x^T A x:
        A + A^T); for a tuple of inputs, ``H[i][j]`` of shape ``inputs[i].shape +
        inputs[j].shape``, d/d(input j) of dJ/d(input i).

    The jacobian of the gradient: one backward that keeps its graph, then one backward
    through it per element of the inputs.
    """
    create_graph = flag(create_graph, "create_graph", "hessian")
    strict = flag(strict, "strict", "hessian")
    forward = _forward_mode(vectorize, outer_jacobian_strategy, strict, "hessian",
                            "outer_jacobian_strategy")
    inputs_tuple = isinstance(inputs, tuple)

    def gradient(*xs: Tensor) -> tuple[Tensor, ...]:
        _, grads = _gradient(func, xs, strict, "hessian", xs)
        return tuple(Tensor(np.zeros(x.shape, dtype=x.dtype)) if g is None else g
                     for g, x in zip(grads, xs))

    blocks = _jacobian(gradient, inputs if inputs_tuple else (inputs,), create_graph, strict,
                       "hessian", nest=False, forward=forward)
    return _nest(blocks, inputs_tuple, inputs_tuple)


def vjp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Outputs, Outputs]:
    """The vector-Jacobian product v @ J of ``func`` at ``inputs``: one backward with v as
    the outputs' gradient.

    Args:
        func: a function of tensors, one per input, returning a Tensor or a tuple of them.
        inputs: a Tensor (or an array of numbers) or a tuple of them.
        v: one array (or Tensor) of each output's shape, a tuple of them for several; may be
            left out when the output is a single element (v = 1, the gradient).
        create_graph: return the results on a graph, to differentiate them again (with
            respect to the inputs, and to v when v requires grad).
        strict: raise when the outputs do not depend on an input, and with create_graph
            when a result is a constant, on no graph (func is linear, v requires no grad);
            with False its vjp is zeros, or the constant.

    Returns:
        ``(func_output, vjp)``: func's output(s), and a Tensor of each input's shape (a tuple
        for a tuple of inputs), sum over k of v[k] * d(output[k])/d(input).
    """
    create_graph = flag(create_graph, "create_graph", "vjp")
    strict = flag(strict, "strict", "vjp")
    inputs_tuple, xs, given = _inputs_of(inputs, create_graph, "vjp")
    outputs_tuple, outputs = _outputs_of(func, xs, "vjp")
    _refuse_constant_outputs(outputs, strict, "vjp")
    seeds = _vectors(v, outputs, outputs_tuple, create_graph, "vjp", "output")
    grads = _grads(outputs, xs, seeds, create_graph)
    what = "func's output" if len(outputs) == 1 else "func's outputs, every one,"
    result = _filled(grads, xs, create_graph, strict, what, "vjp", given)
    return _one_or_tuple(_ended(outputs, create_graph), outputs_tuple), \
        _one_or_tuple(result, inputs_tuple)


def jvp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Outputs, Outputs]:
    """The Jacobian-vector product J @ v of ``func`` at ``inputs``, the change of the outputs
    along v (the directional derivative), by the double-vjp trick (two backwards).

    Args:
        func: a function of tensors, one per input, returning a Tensor or a tuple of them.
        inputs: a Tensor (or an array of numbers) or a tuple of them.
        v: one array (or Tensor) of each input's shape, a tuple of them for several; may be
            left out when the input is a single element (v = 1, the derivative).
        create_graph: return the results on a graph, to differentiate them again.
        strict: raise when an output does not depend on the inputs, and with create_graph
            when a result is a constant, on no graph (func is linear, v requires no grad);
            with False its jvp is zeros, or the constant.

    Returns:
        ``(func_output, jvp)``: func's output(s), and a Tensor of each output's shape (a tuple
        for a tuple of outputs), sum over j of d(output)/d(input[j]) @ v[j].

    u -> u @ J is linear in u, a graph of it is kept (one backward with create_graph=True
    from u = 0), and the vjp of that map with v is J @ v, as PyTorch computes it.
    """
    create_graph = flag(create_graph, "create_graph", "jvp")
    strict = flag(strict, "strict", "jvp")
    inputs_tuple, xs, given = _inputs_of(inputs, create_graph, "jvp")
    seeds = _vectors(v, xs, inputs_tuple, create_graph, "jvp", "input", given)
    outputs_tuple, outputs = _outputs_of(func, xs, "jvp")
    _refuse_constant_outputs(outputs, strict, "jvp")
    result = _forward_product(outputs, xs, seeds, create_graph, strict, "jvp", given)
    return _one_or_tuple(_ended(outputs, create_graph), outputs_tuple), \
        _one_or_tuple(result, outputs_tuple)


def vhp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Outputs, Outputs]:
    """The vector-Hessian product v @ H of ``func``, a function returning a single number, at
    ``inputs``: the vjp of its gradient (two backwards, the first keeping its graph).

    Args:
        func: a function of tensors, one per input, returning a Tensor of one element.
        inputs: a Tensor (or an array of numbers) or a tuple of them.
        v: one array (or Tensor) of each input's shape, a tuple of them for several; may be
            left out when the input is a single element.
        create_graph: return the results on a graph, to differentiate them again.
        strict: raise when the output or its gradient does not depend on an input, and
            with create_graph when a result is a constant, on no graph (func is quadratic,
            v requires no grad); with False those parts are zeros, or the constant.

    Returns:
        ``(func_output, vhp)``: the output, and a Tensor of each input's shape (a tuple for a
        tuple of inputs): for input j, sum over i of v[i] contracted with H[i][j].
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Inputs, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Outputs, Outputs]:
    """The Hessian-vector product H @ v of ``func``, a function returning a single number, at
    ``inputs``: the jvp of its gradient, by the double-vjp trick (three backwards). H is
    symmetric wherever func is twice continuously differentiable, and there H @ v is v @ H:
    `vhp` is then the cheaper way to it.

    Args:
        func: a function of tensors, one per input, returning a Tensor of one element.
        inputs: a Tensor (or an array of numbers) or a tuple of them.
        v: one array (or Tensor) of each input's shape, a tuple of them for several; may be
            left out when the input is a single element.
        create_graph: return the results on a graph, to differentiate them again.
        strict: raise when the output or its gradient does not depend on an input, and
            with create_graph when a result is a constant, on no graph (func is quadratic,
            v requires no grad); with False those parts are zeros, or the constant.

    Returns:
        ``(func_output, hvp)``: the output, and a Tensor of each input's shape (a tuple for a
        tuple of inputs): for input i, sum over j of H[i][j] contracted with v[j].
    """
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


# -- the shared steps ---------------------------------------------------------------------------
def _forward_mode(vectorize: Any, strategy: Any, strict: bool, caller: str, name: str) -> bool:
    """Whether the Jacobian is taken column by column, with PyTorch's refusals of the
    settings that do not go together."""
    vectorize = flag(vectorize, "vectorize", caller)
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ArgumentError(f"{caller}: {name}={setting_text(strategy)} is not a strategy; "
                            "pass 'reverse-mode' or 'forward-mode'")
    if strict and vectorize:
        raise ArgumentError(f"{caller}: strict=True and vectorize=True do not go together, "
                            "as in PyTorch; pass strict=False or vectorize=False")
    if strategy == "forward-mode" and not vectorize:
        raise ArgumentError(f"{caller}: {name}='forward-mode' needs vectorize=True, as in "
                            "PyTorch; pass both")
    return strategy == "forward-mode"


def _jacobian(func: Callable[..., Any], inputs: Inputs, create_graph: bool, strict: bool,
              caller: str, nest: bool = True, forward: bool = False) -> Any:
    create_graph = flag(create_graph, "create_graph", caller)
    strict = flag(strict, "strict", caller)
    inputs_tuple, xs, given = _inputs_of(inputs, create_graph, caller)
    outputs_tuple, outputs = _outputs_of(func, xs, caller)
    _refuse_constant_outputs(outputs, strict, caller)
    if forward:
        blocks = _columns_of(outputs, xs, create_graph)
    else:
        blocks = [_blocks_of(out, i, xs, create_graph, strict, caller, given)
                  for i, out in enumerate(outputs)]
    return _nest(blocks, outputs_tuple, inputs_tuple) if nest else blocks


def _columns_of(outputs: tuple[Tensor, ...], xs: tuple[Tensor, ...], create_graph: bool
                ) -> list:
    """d(out)/d(x) for each output and each x of ``xs``, column by column: u -> u @ J is
    recorded once (`_transposed`, as for `jvp`), then one backward through it per element k
    of each x, with e_k as its gradient, gives column k of every output's block."""
    us, transposed = _transposed(outputs, xs)
    columns: list[list[list]] = [[[] for _ in xs] for _ in outputs]
    blocks = [[np.zeros(out.shape + (x.size,), dtype=x.dtype) for x in xs] for out in outputs]
    for j, (x, row) in enumerate(zip(xs, transposed)):
        # No row (no output reaches x) or one that is no function of u (a backward that
        # drops its upstream gradient): those blocks are zeros.
        if row is None or not row.requires_grad:
            continue
        seed = np.zeros(x.shape, dtype=x.dtype)
        flat = seed.reshape(-1)
        for k in range(x.size):
            flat[k] = 1
            products = _engine_grad([row], list(us), [seed], create_graph=create_graph,
                                    retain_graph=True, allow_unused=True)
            flat[k] = 0
            for i, product in enumerate(products):
                if product is None:
                    continue
                if create_graph:
                    columns[i][j].append(product)
                else:
                    blocks[i][j][..., k] = product
    result = []
    for i, out in enumerate(outputs):
        row_blocks = []
        for j, x in enumerate(xs):
            shape = out.shape + x.shape
            if columns[i][j] and len(columns[i][j]) == x.size:
                with enable_grad():
                    row_blocks.append(_stack(columns[i][j], axis=out.ndim).reshape(shape))
            else:
                row_blocks.append(Tensor(blocks[i][j].reshape(shape)))
        result.append(row_blocks)
    return result


def _blocks_of(out: Tensor, i: int, xs: tuple[Tensor, ...], create_graph: bool, strict: bool,
               caller: str, given: tuple) -> list:
    """d(out)/d(x) for each x of ``xs``, row by row: one backward per element of ``out``, with
    the basis vector e_k (of out's shape) as its gradient."""
    seed = np.zeros(out.shape, dtype=out.dtype if out.dtype.kind == "f" else np.float64)
    flat = seed.reshape(-1)  # a view: setting flat[k] sets e_k
    rows: list[list] = [[] for _ in xs]
    blocks = [np.zeros((out.size,) + x.shape, dtype=x.dtype) for x in xs]
    # A constant output (strict=True refused it) needs no backward: its blocks are zeros.
    for k in range(out.size if out.requires_grad else 0):
        flat[k] = 1
        grads = _grads((out,), xs, (seed,), create_graph)  # gg.grad copies its seed
        flat[k] = 0
        if k == 0:
            _check_dependence(grads, out, i, xs, create_graph, strict, caller, given)
        for j, g in enumerate(grads):
            if g is None:
                continue  # the block stays zeros
            if create_graph:
                rows[j].append(g)
            else:
                blocks[j][k] = g
    result = []
    for j, x in enumerate(xs):
        shape = out.shape + x.shape
        if create_graph and rows[j]:
            with enable_grad():
                result.append(_stack(rows[j]).reshape(shape))
        else:
            result.append(Tensor(blocks[j].reshape(shape)))
    return result


def _check_dependence(grads: tuple, out: Tensor, i: int, xs: tuple[Tensor, ...],
                      create_graph: bool, strict: bool, caller: str, given: tuple) -> None:
    """strict's refusals, PyTorch's: an output that does not depend on an input, or (with
    create_graph) whose derivative with respect to it is a constant, on no graph."""
    if not strict:
        return
    hessian = caller == "hessian"
    what = (f"the gradient of func's output with respect to input {i}" if hessian
            else f"output {i} of func ({describe(out)})")
    for j, g in enumerate(grads):
        if g is None:
            raise _independent(caller, what, j, given)
        if create_graph and not g.requires_grad:
            # the Hessian's block H[i][j] names input i too, and each input once
            subject = (f"{what} ({describe(given[i])}), with respect to input {j} "
                       f"({describe(given[j])})," if hessian else
                       f"{what} with respect to input {j} ({describe(given[j])})")
            why = "func's gradient is linear in them" if hessian else "func is linear in it"
            raise BackwardError(
                f"{caller}: the derivative of {subject} is a constant ({why}), on no graph "
                "to differentiate with create_graph=True; strict=True refuses this. Pass "
                "strict=False to get it as a constant."
            )


def _independent(caller: str, what: str, j: int, given: tuple) -> BackwardError:
    """The error of strict=True for ``what`` (a subject: "output 0 of func (...)") that does
    not depend on input j."""
    return BackwardError(
        f"{caller}: {what} does not depend on input {j} ({describe(given[j])}); strict=True "
        "refuses this. Pass strict=False to get zeros for it, or compute it from that input "
        "with graphgrad ops (not from its .data, and not inside gg.no_grad())."
    )


def _gradient(func: Callable[..., Any], xs: tuple[Tensor, ...], strict: bool, caller: str,
              given: tuple) -> tuple[Tensor, tuple]:
    """func's output, a single number, and its gradient with respect to each of ``xs`` on a
    graph (None for an input it does not depend on), for hessian, vhp and hvp."""
    _, (out,) = _outputs_of(func, xs, caller, single=True)
    _refuse_constant_outputs((out,), strict, caller)
    grads = _grads((out,), xs, (None,), True)
    if strict:
        for j, g in enumerate(grads):
            if g is None:
                raise _independent(caller, f"func's output ({describe(out)})", j, given)
            if not g.requires_grad:
                raise BackwardError(
                    f"{caller}: the gradient of func's output with respect to input {j} "
                    f"({describe(given[j])}) does not depend on the inputs (func is linear in "
                    "it), so its Hessian is zeros; strict=True refuses this. Pass "
                    "strict=False to get the zeros."
                )
    return out, grads


def _hessian_product(func: Callable[..., Any], inputs: Inputs, v: Any, create_graph: bool,
                     strict: bool, caller: str) -> tuple[Outputs, Outputs]:
    create_graph = flag(create_graph, "create_graph", caller)
    strict = flag(strict, "strict", caller)
    inputs_tuple, xs, given = _inputs_of(inputs, create_graph, caller)
    seeds = _vectors(v, xs, inputs_tuple, create_graph, caller, "input", given)
    out, grads = _gradient(func, xs, strict, caller, given)
    if caller == "vhp":  # the vjp of the gradient
        result = _filled(_grads(grads, xs, seeds, create_graph), xs, create_graph, strict,
                         "the gradient of func's output", caller, given)
    else:  # its jvp
        result = _forward_product(grads, xs, seeds, create_graph, strict, caller, given)
    return _ended((out,), create_graph)[0], _one_or_tuple(result, inputs_tuple)


def _forward_product(outputs: Sequence[Tensor | None], xs: tuple[Tensor, ...], seeds: tuple,
                     create_graph: bool, strict: bool, caller: str, given: tuple) -> tuple:
    """J @ v, J the Jacobian of ``outputs`` with respect to ``xs``, by the double-vjp trick:
    g(u) = u @ J is linear in u, recorded from u = 0 (its value never matters: it appears
    in no derivative of g), and the vjp of g with v is J @ v. An output None (hvp: the
    gradient of an input the cost does not depend on) gets zeros of its input's shape."""
    us, transposed = _transposed(outputs, xs)
    if strict:
        for j, g in enumerate(transposed):
            if g is None:
                what = ("func's output" if len(outputs) == 1 else "func's outputs, every one,"
                        if caller == "jvp" else "the gradient of func's output")
                raise _independent(caller, what, j, given)
    live = tuple(u for u in us if u is not None)
    products = iter(_grads(transposed, live, seeds, create_graph))
    result = []
    for i, out in enumerate(outputs):
        product = None if out is None else next(products)
        if product is None:
            if strict:
                what = (f"output {i} of func ({describe(out)})" if caller == "jvp" else
                        f"the gradient of func's output with respect to input {i}")
                raise BackwardError(
                    f"{caller}: {what} does not depend on the inputs; strict=True refuses "
                    "this. Pass strict=False to get zeros for it."
                )
            ref = out if out is not None else xs[i]
            product = np.zeros(ref.shape, dtype=ref.dtype)
        elif strict and create_graph:
            _refuse_constant_product(product, caller, (
                f"output {i} of func ({describe(out)})" if caller == "jvp"
                else f"input {i} ({describe(given[i])})"))
        result.append(_as_result(product, create_graph))
    return tuple(result)


def _transposed(outputs: Sequence[Tensor | None], xs: tuple[Tensor, ...]) -> tuple[tuple, tuple]:
    """(us, u @ J): a leaf u of zeros per output (None for an output None), and the graph of
    u -> u @ J recorded from them, one result per x (None where no output reaches it), the
    first backward of the double-vjp trick."""
    us = tuple(None if out is None else
               Tensor(np.zeros(out.shape, dtype=out.dtype if out.dtype.kind == "f"
                               else np.float64), requires_grad=True)
               for out in outputs)
    return us, _grads(outputs, xs, us, True)


def _grads(outputs: Sequence[Tensor | None], xs: Sequence[Tensor], seeds: Sequence[Any],
           create_graph: bool) -> tuple:
    """`gg.grad` of the outputs that require grad (the others contribute nothing), keeping
    the graph for the next call; None for an input none of them depends on."""
    kept = [(out, s) for out, s in zip(outputs, seeds) if out is not None and out.requires_grad]
    if not kept:
        return (None,) * len(xs)
    return _engine_grad([out for out, _ in kept], list(xs), [s for _, s in kept],
                        create_graph=create_graph, retain_graph=True, allow_unused=True)


def _filled(grads: tuple, xs: tuple[Tensor, ...], create_graph: bool, strict: bool,
            what: str, caller: str, given: tuple) -> tuple:
    """The results as Tensors: zeros where an input was not reached by ``what`` (or an
    error, if strict)."""
    result = []
    for j, (g, x) in enumerate(zip(grads, xs)):
        if g is None:
            if strict:
                raise _independent(caller, what, j, given)
            g = np.zeros(x.shape, dtype=x.dtype)
        elif strict and create_graph:
            _refuse_constant_product(g, caller, f"input {j} ({describe(given[j])})")
        result.append(_as_result(g, create_graph))
    return tuple(result)


def _refuse_constant_product(product: Tensor, caller: str, which: str) -> None:
    """strict's refusal, with create_graph, of a product on no graph, PyTorch's: func is
    linear in the inputs (vjp, jvp) or quadratic (vhp, hvp), and v requires no grad."""
    if not product.requires_grad:
        degree = "linear" if caller in ("vjp", "jvp") else "quadratic"
        raise BackwardError(
            f"{caller}: the product for {which} is a constant (func is {degree} in the "
            "inputs, and v requires no grad), on no graph to differentiate with "
            "create_graph=True; strict=True refuses this. Pass strict=False to get it as a "
            "constant, or a v that requires grad to differentiate it with respect to v."
        )


def _as_result(g: Any, create_graph: bool) -> Tensor:
    if isinstance(g, Tensor):
        return g if create_graph else Tensor(g.data)
    return Tensor(np.asarray(g))


def _ended(outputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """func's outputs as returned: on their graph with create_graph, else detached."""
    return outputs if create_graph else tuple(out.detach() for out in outputs)


# -- inputs, outputs and vectors ------------------------------------------------------------------
def _inputs_of(inputs: Inputs, create_graph: bool, caller: str
               ) -> tuple[bool, tuple[Tensor, ...], tuple]:
    """Whether ``inputs`` is a tuple, the leaves func is called on, and what the user gave
    (for messages). A tensor is cut from its graph, as PyTorch does, except with
    ``create_graph`` one that requires grad: it goes through an identity node, so that the
    results stay differentiable with respect to it."""
    inputs_tuple = isinstance(inputs, tuple)
    given = inputs if inputs_tuple else (inputs,)
    if not given:
        raise ArgumentError(f"{caller} needs at least one input; got an empty tuple")
    xs = []
    for j, value in enumerate(given):
        if isinstance(value, Tensor):
            data = value.data
        else:
            try:
                data = Tensor(value).data  # numbers, lists and integer arrays become floats
            except GraphgradTypeError:
                data = None
        if data is None or data.dtype.kind != "f":
            raise GraphgradTypeError(
                f"{caller}: input {j} must be a float Tensor or an array of numbers, got "
                f"{describe(value) if isinstance(value, Tensor) else setting_text(value)}"
                ". Several inputs are given as a tuple (x, W), one per argument of func."
            )
        if create_graph and isinstance(value, Tensor) and value.requires_grad:
            with enable_grad():
                xs.append(_identity(value))
        else:
            name = value.name if isinstance(value, Tensor) else None
            xs.append(Tensor(data, requires_grad=True, name=name))
    return inputs_tuple, tuple(xs), given


def _outputs_of(func: Callable[..., Any], xs: tuple[Tensor, ...], caller: str,
                single: bool = False) -> tuple[bool, tuple[Tensor, ...]]:
    """func(*xs), recorded even under gg.no_grad(): whether it returned a tuple, and its
    outputs. ``single``: it must return one Tensor of one element (hessian, vhp, hvp)."""
    if not callable(func):
        raise GraphgradTypeError(f"{caller} takes a function of tensors first, got "
                                 f"{setting_text(func)}")
    with enable_grad():
        value = func(*xs)
    outputs_tuple = isinstance(value, (tuple, list))
    outputs = tuple(value) if outputs_tuple else (value,)
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            what = "func returned" if not outputs_tuple else f"output {i} of func is"
            got = ("None (a missing return?)" if out is None else
                   f"a numpy array {out.shape}" if isinstance(out, np.ndarray) else
                   f"{type(out).__name__} {setting_text(out)}")
            raise GraphgradTypeError(
                f"{caller}: {what} {got}, not a Tensor. func must return a Tensor "
                "(or a tuple of them) computed from the tensors it is given with graphgrad "
                "ops (gg.exp(x), x @ W; np.exp(x) on a Tensor runs gg.exp too), not from their "
                ".data."
            )
    if single and (outputs_tuple or outputs[0].size != 1):
        got = (f"a tuple of {len(outputs)} outputs" if outputs_tuple
               else f"{describe(outputs[0])}, of {outputs[0].size} elements")
        raise ShapeError(
            f"{caller}: func must return a single number (a Tensor of one element, a cost), "
            f"as a Hessian is of a scalar function; it returned {got}. Reduce it (.sum(), "
            ".mean()), or take gg.jacobian of its gradient for each output."
        )
    return outputs_tuple, outputs


def _refuse_constant_outputs(outputs: tuple[Tensor, ...], strict: bool, caller: str) -> None:
    if not strict:
        return
    for i, out in enumerate(outputs):
        if not out.requires_grad:
            raise BackwardError(
                f"{caller}: output {i} of func ({describe(out)}) does not require grad, so it "
                "depends on none of the inputs; strict=True refuses this. Compute it from the "
                "tensors func is given with graphgrad ops (outside gg.no_grad(), not from "
                ".data), or pass strict=False to get zeros for it."
            )


def _vectors(v: Any, refs: tuple[Tensor, ...], refs_tuple: bool, create_graph: bool,
             caller: str, what: str, given: tuple | None = None) -> tuple:
    """v as one seed per ``refs`` (the outputs for vjp, the inputs for the others): an array
    of the ref's shape and dtype, or, with create_graph, a Tensor v that requires grad as it
    is (so the result is differentiable with respect to v)."""
    shown = given if given is not None else refs
    if v is None:
        if len(refs) != 1 or refs[0].size != 1:
            one = (f"a tuple of {len(refs)} {what}s" if len(refs) != 1
                   else f"{describe(shown[0])}, of {refs[0].size} elements")
            raise ArgumentError(
                f"{caller}: v can be left out only when func's {what} is a single Tensor of "
                f"one element; it is {one}. Pass v, one array of each {what}'s shape "
                f"({', '.join(str(r.shape) for r in refs)})."
            )
        return tuple(np.ones(r.shape, dtype=r.dtype) for r in refs)
    vs = v if isinstance(v, tuple) else (v,)
    if len(vs) != len(refs):
        several = f"{len(refs)} {what}s, a tuple of them" if refs_tuple else f"one {what}"
        vectors = "vector" if len(vs) == 1 else "vectors"
        raise ArgumentError(
            f"{caller}: got {len(vs)} {vectors} v for {several}; give one v per {what}, as a "
            f"tuple when there are several (of shapes {', '.join(str(r.shape) for r in refs)})."
        )
    seeds = []
    for i, (value, ref) in enumerate(zip(vs, refs)):
        label = f"{what} {i}" if len(refs) > 1 else f"func's {what}"
        if isinstance(value, Tensor):
            array = value.data
        else:
            try:
                array = np.asarray(value)
            except (TypeError, ValueError):
                array = None
        if array is None or array.dtype.kind not in "biuf":
            raise GraphgradTypeError(
                f"{caller}: v for {label} must hold numbers, got {setting_text(value)}")
        if array.shape != ref.shape:
            raise ShapeError(
                f"{caller}: v for {label} has shape {array.shape}, but {label} "
                f"({describe(shown[i])}) has shape {ref.shape}; give v of that shape (it "
                "is not broadcast)."
            )
        if create_graph and isinstance(value, Tensor) and value.requires_grad:
            with enable_grad():
                seeds.append(value if value.dtype == ref.dtype else value.astype(ref.dtype))
        else:
            seeds.append(np.asarray(array, dtype=ref.dtype))
    return tuple(seeds)


def _one_or_tuple(values: tuple, is_tuple: bool) -> Any:
    return values if is_tuple else values[0]


def _nest(blocks: list, outputs_tuple: bool, inputs_tuple: bool) -> Any:
    """PyTorch's nesting of a Jacobian's blocks ``blocks[i][j]`` (output i, input j)."""
    if outputs_tuple and inputs_tuple:
        return tuple(tuple(row) for row in blocks)
    if outputs_tuple:
        return tuple(row[0] for row in blocks)
    if inputs_tuple:
        return tuple(blocks[0])
    return blocks[0][0]
