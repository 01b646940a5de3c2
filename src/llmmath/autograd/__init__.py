"""Automatic differentiation, twice: a scalar engine to read, an array engine to train with.

- :class:`Value` — one number per node; every node keeps its local
  derivative, so the chain rule can be followed (and drawn) edge by edge.
- :class:`Tensor` — reverse mode over NumPy arrays, with broadcasting,
  reductions, indexing and batched matrix products; PyTorch's gradient
  semantics (accumulation, ``retain_graph``, ``no_grad``).
- :mod:`~llmmath.autograd.functional` — fused operations whose backward is
  derived by hand (softmax, cross-entropy, layer norm, GELU, attention…).
- :func:`gradcheck` — the finite-difference check every gradient must pass.

Examples
--------
>>> from llmmath.autograd import Tensor, functional as F
>>> logits = Tensor([[1.0, 2.0, 0.5]], requires_grad=True)
>>> loss = F.cross_entropy(logits, [1])
>>> loss.backward()
>>> print(logits.grad.round(4))          # softmax(logits) - onehot(1)
[[ 0.2312 -0.3715  0.1402]]
"""

from __future__ import annotations

from llmmath.autograd import functional
from llmmath.autograd._engine import AnomalyError, BackwardError
from llmmath.autograd._mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
)
from llmmath.autograd.gradcheck import GradcheckError, GradcheckResult, gradcheck
from llmmath.autograd.tensor import Parameter, Tensor, as_tensor
from llmmath.autograd.value import Value

__all__ = [
    "Value",
    "Tensor",
    "Parameter",
    "as_tensor",
    "functional",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "gradcheck",
    "GradcheckResult",
    "GradcheckError",
    "BackwardError",
    "AnomalyError",
]
