"""Optimizer runs shared by the optimizer tests: given gradients (dW, db) applied step by step
to a weight W and a bias b, and such a run stopped, its state saved to a file, loaded into a new
optimizer and resumed."""
import graphgrad as gg


def run(make, start, steps, state=None):
    """(W, b, the optimizer) after ``steps`` of given gradients (dW, db) from ``start``, the
    arrays (W0, b0), with the optimizer ``make([W, b])``, loaded with ``state`` first if given."""
    W, b = (gg.Tensor(array.copy(), requires_grad=True) for array in start)
    opt = make([W, b])
    if state is not None:
        opt.load_state_dict(state)
    for dW, db in steps:
        W.grad, b.grad = dW, db
        opt.step()
    return W.data, b.data, opt


def resumed(make, start, steps, stop, path):
    """`run` stopped after ``stop`` of ``steps``, its state saved to the file ``path`` and loaded
    from it into a new optimizer that takes the others: (W, b, the first optimizer)."""
    W, b, first = run(make, start, steps[:stop])
    gg.save(first.state_dict(), path)
    W, b, _ = run(make, (W, b), steps[stop:], gg.load(path))
    return W, b, first
