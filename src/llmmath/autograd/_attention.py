"""Scaled dot-product attention as one differentiable operation (re-exported by functional)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from llmmath._validation import as_bool_array, check_bool, check_float, check_rng
from llmmath.autograd._engine import unbroadcast
from llmmath.autograd._sums import sum_last
from llmmath.autograd.tensor import Tensor, tensor_argument
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["scaled_dot_product_attention"]


@functools.lru_cache(maxsize=16)
def _future(tq: int, tk: int) -> np.ndarray:
    """True above the diagonal: key j is in the future of query i when j > i."""
    hidden = np.triu(np.ones((tq, tk), dtype=bool), k=1)
    hidden.flags.writeable = False
    return hidden


@functools.lru_cache(maxsize=16)
def _causal_bias(tq: int, tk: int, dtype: np.dtype) -> np.ndarray:
    """0 where a query may look, -inf in its future: added to the scores, one pass."""
    bias = np.where(_future(tq, tk), -np.inf, 0.0).astype(dtype)
    bias.flags.writeable = False
    return bias


def scaled_dot_product_attention(q: Any, k: Any, v: Any, mask: Any = None, causal: bool = False,
                                 dropout_p: float = 0.0, rng: Any = None,
                                 scale: float | None = None) -> Tensor:
    r"""softmax(q kᵀ / √d + mask) v as one node, with the backward derived by hand.

    Forward, with A the attention weights (rows sum to 1):

    .. math::
        S = s\, q k^\top, \quad A = \mathrm{softmax}(S), \quad y = A v, \quad s = 1/\sqrt{d}

    Backward, with g = dL/dy:

    .. math::
        dA = g v^\top,\ dv = A^\top g,\ dS = A \odot (dA - \textstyle\sum_j dA \odot A),\
        dq = s\, dS\, k,\ dk = s\, dS^\top q

    Parameters
    ----------
    q : Tensor, shape (..., Tq, d)
    k : Tensor, shape (..., Tk, d)
    v : Tensor, shape (..., Tk, dv)
    mask : array_like of bool, optional
        Broadcastable to (..., Tq, Tk); True = may attend (the project's and
        PyTorch's boolean convention).
    causal : bool
        Hide keys j > i from query i (top-left aligned, as PyTorch's ``is_causal``).
    dropout_p : float
        Dropout on the attention weights (training only: pass 0 to evaluate).
    rng : numpy.random.Generator, int or None
        Randomness of the dropout.
    scale : float, optional
        Defaults to 1/√d.

    Returns
    -------
    Tensor, shape (..., Tq, dv)

    Raises
    ------
    ShapeError
        The shapes do not fit.
    InvalidValueError
        Some query may attend to no key at all (its softmax would be 0/0).

    References
    ----------
    A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017, eq. (1).

    Examples
    --------
    >>> import numpy as np
    >>> from llmmath.autograd import Tensor, functional as F
    >>> q = k = Tensor(np.eye(2))
    >>> v = Tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> print(F.scaled_dot_product_attention(q, k, v, causal=True).data.round(4))
    [[1.     0.    ]
     [0.3302 0.6698]]
    """
    op = "scaled_dot_product_attention"
    q, k, v = (tensor_argument(a, name, op) for a, name in ((q, "q"), (k, "k"), (v, "v")))
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] \
            or k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"{op}: expected q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv); got "
                         f"q {q.shape}, k {k.shape}, v {v.shape}.")
    causal = check_bool(causal, "causal", op)
    p = check_float(dropout_p, "dropout_p", op, min_value=0.0, max_value=1.0, max_inclusive=False)
    s = 1.0 / math.sqrt(q.shape[-1]) if scale is None else check_float(scale, "scale", op)
    tq, tk = q.shape[-2], k.shape[-2]
    hidden = None
    if mask is not None:
        hidden = ~as_bool_array(mask, "mask", op)  # True = attend
    if causal:
        hidden = _future(tq, tk) if hidden is None else hidden | _future(tq, tk)
    Q, K, V = q.data, k.data, v.data
    try:
        batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
        Q, K, V = (np.broadcast_to(a, batch + a.shape[-2:]) for a in (Q, K, V))
        if hidden is not None:
            hidden = np.broadcast_to(hidden, batch + (tq, tk))
    except ValueError:
        raise ShapeError(f"{op}: shapes do not fit: q {q.shape}, k {k.shape}, v {v.shape}"
                         f"{'' if mask is None else f', mask {np.shape(mask)}'}.") from None
    if hidden is not None and hidden.all(axis=-1).any():
        raise InvalidValueError(f"{op}: some query may attend to no key (a mask row with no "
                                "True); its weights would be 0/0.")
    with np.errstate(over="ignore", invalid="ignore"):                  # checked just below
        att = np.matmul(Q, np.swapaxes(K, -1, -2))                     # (..., Tq, Tk)
        att *= s
    if not np.isfinite(att).all():
        raise InvalidValueError(f"{op}: a score q.k * scale overflows {att.dtype} (inf or NaN); "
                                "rescale 'q', 'k' or 'scale'.")
    if mask is None and causal:
        att += _causal_bias(tq, tk, att.dtype)
    elif hidden is not None:
        np.copyto(att, -np.inf, where=hidden)
    att -= att.max(axis=-1, keepdims=True)                              # no overflow in exp
    np.exp(att, out=att)
    att /= sum_last(att)                                                # A: rows sum to 1
    keep = None
    if p > 0.0:
        keep = (check_rng(rng, op).random(att.shape, dtype=att.dtype) >= p).astype(att.dtype)
        keep *= 1.0 / (1.0 - p)
        weights = att * keep                                            # A after dropout
    else:
        weights = att
    y = np.matmul(weights, V)                                           # (..., Tq, dv)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gq = gk = gv = None
        if v.requires_grad:
            gv = unbroadcast(np.matmul(np.swapaxes(weights, -1, -2), g), v.shape)
        if q.requires_grad or k.requires_grad:
            dA = np.matmul(g, np.swapaxes(V, -1, -2))                   # (..., Tq, Tk)
            if keep is not None:
                dA *= keep
            dA *= att
            dS = dA - att * sum_last(dA)                                # softmax backward
            dS *= s
            if q.requires_grad:
                gq = unbroadcast(np.matmul(dS, K), q.shape)
            if k.requires_grad:
                gk = unbroadcast(np.matmul(np.swapaxes(dS, -1, -2), Q), k.shape)
        return gq, gk, gv

    return Tensor.from_op(y, (q, k, v), backward, op)
