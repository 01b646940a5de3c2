"""The layers every model is built from: Linear, Embedding, LayerNorm, RMSNorm, Dropout.

Each holds its parameters and calls one fused node of
:mod:`llmmath.autograd.functional`; PyTorch's layouts and default initial
values throughout (``Linear.weight`` is (out_features, in_features)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from llmmath._validation import check_float, check_int, check_rng
from llmmath.autograd import Parameter, Tensor
from llmmath.autograd import functional as F
from llmmath.nn.module import Module, float_dtype

__all__ = ["Linear", "Embedding", "LayerNorm", "RMSNorm", "Dropout"]


class Linear(Module):
    """y = x Wᵀ + b with W of shape (out_features, in_features), PyTorch's layout and init.

    Lesson: ``tensors`` (NumPy, PyTorch and llmmath side by side).

    Weights and bias start uniform in ±1/√in_features (PyTorch's default).

    Examples
    --------
    >>> from llmmath.nn import Linear
    >>> Linear(4, 3, rng=0)(np.ones((2, 4), np.float32)).shape
    (2, 3)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype: Any = np.float32, rng: Any = None) -> None:
        n_in = check_int(in_features, "in_features", "Linear", min_value=1)
        n_out = check_int(out_features, "out_features", "Linear", min_value=1)
        gen, dt, bound = check_rng(rng, "Linear"), float_dtype(dtype, "Linear"), 1.0 / math.sqrt(n_in)
        self.weight = Parameter(gen.uniform(-bound, bound, (n_out, n_in)).astype(dt))
        self.bias = Parameter(gen.uniform(-bound, bound, n_out).astype(dt)) if bias else None

    def forward(self, x: Any) -> Tensor:
        return F.linear(x, self.weight, self.bias)


class Embedding(Module):
    """A lookup table: row i of ``weight`` (num_embeddings, embedding_dim) is token i's vector.

    Lesson: none (a building block of the models).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, dtype: Any = np.float32,
                 rng: Any = None) -> None:
        n = check_int(num_embeddings, "num_embeddings", "Embedding", min_value=1)
        d = check_int(embedding_dim, "embedding_dim", "Embedding", min_value=1)
        gen = check_rng(rng, "Embedding")
        self.weight = Parameter(gen.standard_normal((n, d)).astype(float_dtype(dtype, "Embedding")))

    def forward(self, idx: Any) -> Tensor:
        return F.embedding(idx, self.weight)


class LayerNorm(Module):
    """Layer normalisation over the last axis, bias optional (nanoGPT's LayerNorm).

    Lesson: none (a building block of the models).
    """

    def __init__(self, ndim: int, bias: bool = True, eps: float = 1e-5, *,
                 dtype: Any = np.float32) -> None:
        n = check_int(ndim, "ndim", "LayerNorm", min_value=1)
        dt = float_dtype(dtype, "LayerNorm")
        self.weight = Parameter(np.ones(n, dt))
        self.bias = Parameter(np.zeros(n, dt)) if bias else None
        self.eps = check_float(eps, "eps", "LayerNorm", min_value=0.0)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.weight, self.bias, self.eps)


class RMSNorm(Module):
    """Root-mean-square normalisation over the last axis with a gain (Llama's norm, no bias).

    Lesson: none (a building block of the models).

    y = w ⊙ x / sqrt(mean(x²) + eps), the gain starting at ones; the node is
    :func:`llmmath.autograd.functional.rms_norm`.

    Examples
    --------
    >>> from llmmath.nn import RMSNorm
    >>> y = RMSNorm(2, eps=0.0)(np.array([[3.0, 4.0]]))
    >>> print(y.data.round(4))
    [[0.8485 1.1314]]
    """

    def __init__(self, dim: int, eps: float = 1e-5, *, dtype: Any = np.float32) -> None:
        n = check_int(dim, "dim", "RMSNorm", min_value=1)
        self.weight = Parameter(np.ones(n, float_dtype(dtype, "RMSNorm")))
        self.eps = check_float(eps, "eps", "RMSNorm", min_value=0.0)

    def forward(self, x: Tensor) -> Tensor:
        return F.rms_norm(x, self.weight, self.eps)


class Dropout(Module):
    """Inverted dropout with probability p while training; the identity in eval mode.

    Lesson: none (a building block of the models).
    """

    def __init__(self, p: float = 0.0, rng: Any = None) -> None:
        self.p = check_float(p, "p", "Dropout", min_value=0.0, max_value=1.0)
        self.rng = check_rng(rng, "Dropout")

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(x, Tensor) and (self.p == 0.0 or not self.training):
            return x                                  # the identity (what F.dropout returns)
        return F.dropout(x, self.p, self.training, self.rng)
