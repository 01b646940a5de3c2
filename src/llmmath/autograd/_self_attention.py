"""Multi-head causal self-attention from packed q, k, v, as one node (re-exported by functional).

The readable way to write a GPT's attention is nanoGPT's: split the packed
projection into q, k and v, give each a head axis, call scaled dot-product
attention, put the heads back side by side. On the engine each of those
steps is a node, and in backward the split costs three zero-filled
gradients of the packed shape that are then added together, the head
transposes cost copies, and the attention's matrix products run on strided
views, which BLAS handles more slowly than contiguous ones. This module does
the same arithmetic in one node: heads are copied once into contiguous
arrays, the output is written straight into the merged (B, T, C) layout, and
backward writes dq, dk and dv straight into one packed gradient.

The attention weights are stored transposed, keys along the rows: the
softmax then reduces over the rows of each (T, T) matrix (a column-wise max
and a product with a row of ones), which NumPy vectorises, where a reduction
along a short last axis runs row by row at several times the cost.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from llmmath._validation import check_float, check_int, check_rng
from llmmath.autograd.tensor import Tensor, tensor_argument
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["causal_self_attention"]


@functools.lru_cache(maxsize=16)
def _hide_future_keys(t: int, dtype: np.dtype) -> np.ndarray:
    """(T, T) scores bias, keys along rows: -inf where key j comes after query i (j > i), else 0."""
    bias = np.where(np.tri(t, t, -1, dtype=bool), -np.inf, 0.0).astype(dtype)
    bias.flags.writeable = False
    return bias


@functools.lru_cache(maxsize=16)
def _ones_row(t: int, dtype: np.dtype) -> np.ndarray:
    """A (1, T) row of ones: ``ones @ M`` sums each column of M through BLAS."""
    ones = np.ones((1, t), dtype)
    ones.flags.writeable = False
    return ones


def causal_self_attention(qkv: Any, n_head: int, dropout_p: float = 0.0,
                          rng: Any = None) -> Tensor:
    r"""Causal multi-head self-attention of packed ``qkv`` (B, T, 3C) → (B, T, C), one node.

    The same result as nanoGPT's five lines (here on the engine)::

        q, k, v = (qkv[:, :, i * C:(i + 1) * C] for i in range(3))   # (B, T, C) each
        q, k, v = (a.reshape(B, T, nh, hs).transpose(1, 2)
                   for a in (q, k, v))                               # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, causal=True)     # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C)                       # heads side by side

    For each batch entry and head, with s = 1/√hs and A the causal weights:

    .. math::
        A = \mathrm{softmax}\big(s\,q k^\top + M\big), \quad y = A v, \quad
        M_{ij} = -\infty \text{ for } j > i

    and backward, with g = dL/dy:

    .. math::
        dv = A^\top g,\ dA = g v^\top,\ dS = A \odot (dA - \textstyle\sum_j A \odot dA),\
        dq = s\, dS\, k,\ dk = s\, dS^\top q

    Parameters
    ----------
    qkv : Tensor, shape (B, T, 3C)
        q, k and v side by side on the last axis (the output of one linear
        layer, ``c_attn``), C divisible by ``n_head``.
    n_head : int
        nh; each head has size hs = C / nh.
    dropout_p : float
        Dropout on the attention weights (training only: pass 0 to evaluate).
    rng : numpy.random.Generator, int or None
        Randomness of the dropout.

    Returns
    -------
    Tensor, shape (B, T, C)

    Raises
    ------
    ShapeError
        ``qkv`` is not 3-D, or its last axis is not 3C with C a multiple of ``n_head``.
    InvalidValueError
        A score q·k overflows the dtype.

    See Also
    --------
    scaled_dot_product_attention : the same attention on separate q, k, v, any mask.

    References
    ----------
    A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017, eq. (1) and
    section 3.2.2; A. Karpathy, nanoGPT ``model.py`` (``CausalSelfAttention``).

    Examples
    --------
    >>> import numpy as np
    >>> from llmmath.autograd import Tensor, functional as F
    >>> qkv = Tensor(np.arange(12.0).reshape(1, 2, 6) / 10)   # B=1, T=2, C=2, one head
    >>> print(F.causal_self_attention(qkv, n_head=1).data.round(4))
    [[[0.4    0.5   ]
      [0.7807 0.8807]]]
    """
    op = "causal_self_attention"
    x = tensor_argument(qkv, "qkv", op)
    nh = check_int(n_head, "n_head", op, min_value=1)
    if x.ndim != 3 or x.shape[-1] % (3 * nh) or x.shape[-1] == 0:
        raise ShapeError(f"{op}: argument 'qkv' must have shape (B, T, 3C) with C a multiple of "
                         f"n_head = {nh}; got shape {x.shape}.")
    p = check_float(dropout_p, "dropout_p", op, min_value=0.0, max_value=1.0, max_inclusive=False)
    B, T, C3 = x.shape
    C = C3 // 3
    hs = C // nh
    s = 1.0 / math.sqrt(hs)
    dt = x.dtype
    # One copy makes every head contiguous: (3, B, nh, T, hs). q is scaled on the way.
    heads = x.data.reshape(B, T, 3, nh, hs).transpose(2, 0, 3, 1, 4)
    qkvh = np.empty((3, B, nh, T, hs), dt)
    np.multiply(heads[0], s, out=qkvh[0])
    np.copyto(qkvh[1:], heads[1:])
    q, k, v = qkvh                                                  # (B, nh, T, hs) each
    # Scores transposed: at[..., j, i] = s q_i . k_j, one column per query.
    with np.errstate(over="ignore", invalid="ignore"):              # checked just below
        at = np.matmul(k, np.swapaxes(q, -1, -2))                   # (B, nh, T, T)
        at += _hide_future_keys(T, dt)
    top = at.max(axis=-2, keepdims=True, initial=-np.inf)
    if not np.isfinite(top).all():
        raise InvalidValueError(f"{op}: a dot product q.k overflows {dt} (a score is inf or "
                                "NaN); scale qkv down.")
    at -= top                                                       # no overflow in exp
    np.exp(at, out=at)
    at /= np.matmul(_ones_row(T, dt), at)                           # A^T: columns sum to 1
    keep_t = None
    if p > 0.0:
        keep = (check_rng(rng, op).random((B, nh, T, T), dtype=dt) >= p).astype(dt)
        keep *= 1.0 / (1.0 - p)
        keep_t = np.swapaxes(keep, -1, -2)
        weights_t = at * keep_t                                     # A^T after dropout
    else:
        weights_t = at
    y = np.empty((B, T, C), dt)
    np.matmul(np.swapaxes(weights_t, -1, -2), v,
              out=y.reshape(B, T, nh, hs).transpose(0, 2, 1, 3))    # y = A v, heads merged

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        G = np.ascontiguousarray(g.reshape(B, T, nh, hs).transpose(0, 2, 1, 3))  # (B, nh, T, hs)
        grad = np.empty((B, T, C3), dt)
        dq, dk, dv = grad.reshape(B, T, 3, nh, hs).transpose(2, 0, 3, 1, 4)     # views of grad
        np.matmul(weights_t, G, out=dv)                             # dv = A^T g
        d = np.matmul(v, np.swapaxes(G, -1, -2))                    # dA^T = v g^T
        if keep_t is not None:
            d *= keep_t
        ad = at * d
        d -= np.matmul(_ones_row(T, dt), ad)                        # dA - sum_j A * dA
        d *= at                                                     # dS^T
        np.matmul(np.swapaxes(d, -1, -2), k * s, out=dq)            # dq = dS (s k)
        np.matmul(d, q, out=dk)                                     # dk = dS^T (s q)
        return (grad,)

    return Tensor.from_op(y, (x,), backward, op)
