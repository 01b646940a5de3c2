"""Attention as one node: scaled dot-product attention, and a GPT's causal self-attention.

:func:`scaled_dot_product_attention` takes q, k and v and any mask.
:func:`causal_self_attention` takes the packed output of a GPT's ``c_attn``
layer (q, k and v side by side) and does in one node what nanoGPT writes in
four lines — split q, k, v; give each a head axis; attend causally; merge the
heads — the lines :class:`llmmath.nn.CausalSelfAttention` runs with
``fused=False``. Both return their attention weights on request
(``need_weights=True``).

The causal mask is :func:`llmmath.attention.causal_mask` (True = may attend);
the kernels add it to the scores as a bias of 0 and -inf, built from it once
per size and dtype.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from llmmath._validation import as_bool_array, check_bool, check_float, check_int, check_rng
from llmmath.attention import causal_mask
from llmmath.autograd._engine import unbroadcast
from llmmath.autograd.functional._sums import sum_last
from llmmath.autograd.tensor import Tensor, tensor_argument
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["scaled_dot_product_attention", "causal_self_attention"]


@functools.lru_cache(maxsize=16)
def _future(tq: int, tk: int) -> np.ndarray:
    """True where key j is in the future of query i (j > i): the complement of the causal mask."""
    hidden = ~causal_mask(tq, tk)
    hidden.flags.writeable = False
    return hidden


@functools.lru_cache(maxsize=32)
def _causal_bias(tq: int, tk: int, dtype: np.dtype, keys_first: bool = False) -> np.ndarray:
    """0 where a query may look, -inf in its future: added to the scores in one pass.

    Shape (Tq, Tk), or (Tk, Tq) with ``keys_first`` (the fused kernel's transposed scores).
    """
    keep = causal_mask(tq, tk)
    bias = np.where(keep.T if keys_first else keep, 0.0, -np.inf).astype(dtype)
    bias.flags.writeable = False
    return bias


@functools.lru_cache(maxsize=16)
def _ones_row(t: int, dtype: np.dtype) -> np.ndarray:
    """A (1, T) row of ones: ``ones @ M`` sums each column of M through BLAS."""
    ones = np.ones((1, t), dtype)
    ones.flags.writeable = False
    return ones


def scaled_dot_product_attention(q: Any, k: Any, v: Any, mask: Any = None, causal: bool = False,
                                 dropout_p: float = 0.0, rng: Any = None,
                                 scale: float | None = None,
                                 need_weights: bool = False) -> Any:
    r"""softmax(q kᵀ / √d + mask) v as one node, with the backward derived by hand.

    Lesson: none (an engine op the lessons use through the models).

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
    need_weights : bool
        Also return the attention weights A.

    Returns
    -------
    y : Tensor, shape (..., Tq, dv)
    weights : numpy.ndarray, shape (..., Tq, Tk)
        Only with ``need_weights``: A, rows summing to 1 (before dropout), a
        copy outside the graph (as :func:`llmmath.attention.scaled_dot_product_attention`
        returns them).

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
        raise ShapeError(f"{op}: expected 'q' (..., Tq, d), 'k' (..., Tk, d), 'v' (..., Tk, dv); "
                         f"got q {q.shape}, k {k.shape}, v {v.shape}.")
    causal = check_bool(causal, "causal", op)
    need_weights = check_bool(need_weights, "need_weights", op)
    p = check_float(dropout_p, "dropout_p", op, min_value=0.0, max_value=1.0, max_inclusive=False)
    if scale is None and q.shape[-1] == 0:
        raise ShapeError(f"{op}: 'q' and 'k' have width d = 0 (q {q.shape}); the default scale "
                         "1/sqrt(d) needs d >= 1.")
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
        with_mask = "" if mask is None else f", 'mask' {np.shape(mask)}"
        raise ShapeError(f"{op}: shapes do not fit: 'q' {q.shape}, 'k' {k.shape}, 'v' {v.shape}"
                         f"{with_mask}.") from None
    if hidden is not None and hidden.all(axis=-1).any():
        raise InvalidValueError(f"{op}: argument 'mask' lets some query attend to no key (a "
                                "row with no True); its weights would be 0/0.")
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

    (need_q, q_shape), (need_k, k_shape), (need_v, v_shape) = (
        (a.requires_grad, a.shape) for a in (q, k, v))               # not the tensors themselves

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        gq = gk = gv = None
        if need_v:
            gv = unbroadcast(np.matmul(np.swapaxes(weights, -1, -2), g), v_shape)
        if need_q or need_k:
            dA = np.matmul(g, np.swapaxes(V, -1, -2))                   # (..., Tq, Tk)
            if keep is not None:
                dA *= keep
            dA *= att
            dS = dA - att * sum_last(dA)                                # softmax backward
            dS *= s
            if need_q:
                gq = unbroadcast(np.matmul(dS, K), q_shape)
            if need_k:
                gk = unbroadcast(np.matmul(np.swapaxes(dS, -1, -2), Q), k_shape)
        return gq, gk, gv

    out = Tensor.from_op(y, (q, k, v), backward, op)
    return (out, att.copy()) if need_weights else out


def causal_self_attention(qkv: Any, n_head: int, dropout_p: float = 0.0,
                          rng: Any = None, need_weights: bool = False) -> Any:
    r"""Causal multi-head self-attention of packed ``qkv`` (B, T, 3C) → (B, T, C), one node.

    Lesson: none (an engine op the lessons use through the models).

    The same result as nanoGPT's four lines, which
    :class:`llmmath.nn.CausalSelfAttention` runs with ``fused=False``::

        q, k, v = (qkv[:, :, i * C:(i + 1) * C] for i in range(3))   # (B, T, C) each
        q, k, v = (a.reshape(B, T, nh, hs).transpose(1, 2)
                   for a in (q, k, v))                               # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, causal=True)     # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C)                       # heads side by side

    On the engine each of those steps is a node, and in backward the split
    costs three zero-filled gradients of the packed shape that are then
    added, the head transposes cost copies, and the products run on strided
    views. Here heads are copied once into contiguous arrays, the output is
    written straight into the merged (B, T, C) layout, and backward writes
    dq, dk and dv straight into one packed gradient.

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
        Randomness of the dropout (the same draws as
        :func:`scaled_dot_product_attention` on the split heads).
    need_weights : bool
        Also return the attention weights A.

    Returns
    -------
    y : Tensor, shape (B, T, C)
    weights : numpy.ndarray, shape (B, nh, T, T)
        Only with ``need_weights``: every head's A (query i along the rows,
        summing to 1; before dropout), a copy outside the graph.

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
    >>> y, w = F.causal_self_attention(qkv, n_head=1, need_weights=True)
    >>> print(y.data.round(4))
    [[[0.4    0.5   ]
      [0.7807 0.8807]]]
    >>> print(w[0, 0].round(4))          # row 0 sees only key 0; y_1 = 0.3655 v_0 + 0.6345 v_1
    [[1.     0.    ]
     [0.3655 0.6345]]
    """
    op = "causal_self_attention"
    x = tensor_argument(qkv, "qkv", op)
    nh = check_int(n_head, "n_head", op, min_value=1)
    if x.ndim != 3 or x.shape[-1] % (3 * nh) or x.shape[-1] == 0:
        raise ShapeError(f"{op}: argument 'qkv' must have shape (B, T, 3C) with C a multiple of "
                         f"n_head = {nh}; got shape {x.shape}.")
    p = check_float(dropout_p, "dropout_p", op, min_value=0.0, max_value=1.0, max_inclusive=False)
    need_weights = check_bool(need_weights, "need_weights", op)
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
    # Speed branch: the scores are stored transposed, at[..., j, i] = s q_i . k_j (keys along
    # the rows, one column per query), so that the softmax reduces over the rows of each
    # (T, T) matrix, which NumPy vectorises better than a reduction along a short last axis.
    # Measured at the baby GPT's (12, 4, 64, 64), float32: the column max 0.10 ms against
    # 0.18 ms along the rows, the whole softmax 0.39 ms against 0.50 ms.
    # Speed branch: the mask is added to one row of T*T scores per head (0.04 ms against
    # 0.09 ms for the same sum over (B, nh, T, T) at the baby GPT's size: NumPy's loops over
    # 4-D broadcasting cost as much as the additions).
    bias = _causal_bias(T, T, dt, keys_first=True).reshape(T * T)
    with np.errstate(over="ignore", invalid="ignore"):              # checked just below
        at = np.matmul(k, np.swapaxes(q, -1, -2))                   # (B, nh, T, T)
        flat = at.reshape(B * nh, T * T)
        flat += bias
    top = at.max(axis=-2, keepdims=True, initial=-np.inf)           # each query's maximum
    if not np.isfinite(top).all():
        raise InvalidValueError(f"{op}: a dot product q.k overflows {dt} (a score is inf or "
                                "NaN); scale 'qkv' down.")
    at -= top                                                       # no overflow in exp
    np.exp(at, out=at)
    total = np.matmul(_ones_row(T, dt), at)                         # (B, nh, 1, T)
    at /= total                                                     # A^T: columns sum to 1
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
    weights = np.swapaxes(at, -1, -2).copy() if need_weights else None
    # Memory branch: backward does not keep A (B, nh, T, T) but computes it again from q, k
    # and each query's log-normaliser lse = max + log(sum), A^T = exp(k q^T + mask - lse),
    # as FlashAttention does: 0.75 MiB per layer of the baby GPT (3 MiB a step) for one
    # more (T, T) product and two passes over the scores in backward.
    lse = np.log(total, out=total)
    lse += top                                                      # (B, nh, 1, T)
    del at, weights_t, flat, top

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        G = np.ascontiguousarray(g.reshape(B, T, nh, hs).transpose(0, 2, 1, 3))  # (B, nh, T, hs)
        grad = np.empty((B, T, C3), dt)
        dq, dk, dv = grad.reshape(B, T, 3, nh, hs).transpose(2, 0, 3, 1, 4)     # views of grad
        a = np.matmul(k, np.swapaxes(q, -1, -2))                    # s k q^T, as in forward
        flat = a.reshape(B * nh, T * T)
        flat += bias
        a -= lse
        np.exp(a, out=a)                                            # A^T
        np.matmul(a if keep_t is None else a * keep_t, G, out=dv)   # dv = A^T g
        d = np.matmul(v, np.swapaxes(G, -1, -2))                    # dA^T = v g^T
        if keep_t is not None:
            d *= keep_t
        d *= a                                                      # A * dA
        a *= np.matmul(_ones_row(T, dt), d)                         # A * sum_j A * dA
        d -= a                                                      # dS^T
        np.matmul(np.swapaxes(d, -1, -2), k, out=dq)
        dq *= s                                                     # dq = dS (s k)
        np.matmul(d, q, out=dk)                                     # dk = dS^T (s q)
        return (grad,)

    out = Tensor.from_op(y, (x,), backward, op)
    return (out, weights) if need_weights else out

