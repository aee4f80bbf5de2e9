"""gg.linalg: linear algebra on tensors, as numpy's np.linalg and PyTorch's torch.linalg.

``gg.linalg.inv(A)``, ``solve(A, b)``, ``det(A)``, ``slogdet(A)`` and ``cholesky(A)``, of a
matrix (n, n) or a stack of them (..., n, n), differentiable to any order; numpy's own calls
on tensors (``np.linalg.solve(A, b)``) run them. A matrix they cannot take raises
`LinAlgError`, which is numpy's ``np.linalg.LinAlgError`` too. The ops are in `ops.linalg`;
``gg.norm`` is the 2-norm (``np.linalg.norm`` on a tensor runs it).
"""
from graphgrad.errors import LinAlgError
from graphgrad.ops.linalg import SlogdetResult, cholesky, det, inv, slogdet, solve

__all__ = ["LinAlgError", "SlogdetResult", "cholesky", "det", "inv", "slogdet", "solve"]
