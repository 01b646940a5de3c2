"""Fused differentiable operations: each one forward pass and one hand-derived backward.

Built from the primitives of :class:`~llmmath.autograd.Tensor`, softmax would
be six nodes (max, subtract, exp, sum, divide…) and six backward functions,
each allocating its own temporaries. Written as one node, its backward is the
formula derived on paper: for softmax ``s * (g - sum(g * s))``, for
cross-entropy ``p - y``, for layer norm the three-term expression. That is
both the lesson (the derivations the course does by hand) and the speed
(fewer passes over memory).

The functions live in four files, by idea:

- :mod:`~llmmath.autograd.functional.probabilities` — ``softmax``,
  ``log_softmax``, ``cross_entropy``;
- :mod:`~llmmath.autograd.functional.layers` — ``linear``, ``embedding``,
  ``layer_norm``, ``gelu``, ``dropout``, ``masked_fill``;
- :mod:`~llmmath.autograd.functional.attention` —
  ``scaled_dot_product_attention`` and ``causal_self_attention``;
- :mod:`~llmmath.autograd.functional.modern` — the parts of a Llama block:
  ``silu``, ``rms_norm``, ``rope``, ``swiglu``.

Every function takes and returns :class:`~llmmath.autograd.Tensor`; plain
arrays are accepted too (checked: real and finite, -inf allowed in logits).
Values inside Tensors are not checked on every call (that would cost a pass
over memory per operation); ``detect_anomaly()`` finds where a NaN starts.

Examples
--------
>>> from llmmath.autograd import Tensor, functional as F
>>> p = F.softmax(Tensor([0.0, 0.0]))
>>> print(p.data)
[0.5 0.5]
"""

from __future__ import annotations

from llmmath.autograd.functional.attention import (
    causal_self_attention,
    scaled_dot_product_attention,
)
from llmmath.autograd.functional.layers import (
    dropout,
    embedding,
    gelu,
    layer_norm,
    linear,
    masked_fill,
)
from llmmath.autograd.functional.modern import rms_norm, rope, silu, swiglu
from llmmath.autograd.functional.probabilities import cross_entropy, log_softmax, softmax

__all__ = [
    "softmax",
    "log_softmax",
    "cross_entropy",
    "layer_norm",
    "gelu",
    "linear",
    "embedding",
    "dropout",
    "masked_fill",
    "scaled_dot_product_attention",
    "causal_self_attention",
    "silu",
    "rms_norm",
    "rope",
    "swiglu",
]
