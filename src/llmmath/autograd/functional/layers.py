"""The layers of a transformer as functions: linear, embedding, layer norm, GELU, dropout, masks.

Each is one node of the graph with its backward written out by hand (GELU is
the primitive :meth:`Tensor.gelu <llmmath.autograd.Tensor.gelu>` with its
arguments checked); :mod:`llmmath.nn` wraps them in modules that hold the
parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import as_bool_array, as_int_array, check_bool, check_float, check_rng
from llmmath.autograd.functional._sums import sum_last, sum_leading
from llmmath.autograd.tensor import Tensor, tensor_argument
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["linear", "embedding", "layer_norm", "gelu", "dropout", "masked_fill"]

#: Stands in for a missing weight or bias: a parent that needs no gradient.
_ABSENT = Tensor(0.0)


def layer_norm(x: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Tensor:
    r"""Layer normalisation over the last axis, with the three-term backward.

    Lesson: ``layernorm`` (LayerNorm and its gradient).

    .. math::
        \hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}, \qquad y = \gamma \hat x + \beta

    with μ and σ² the mean and (biased) variance of the last axis. With
    d = g·γ and the means taken over the last axis:

    .. math::
        \frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma^2+\epsilon}}
        \left(d - \overline{d} - \hat x\,\overline{d \hat x}\right)

    — the direct path, a correction for the mean, a correction for the
    variance. dL/dγ = Σ g·x̂, dL/dβ = Σ g over every other axis.

    Parameters
    ----------
    x : Tensor, shape (..., C)
    weight, bias : Tensor of shape (C,), optional
        γ and β; ``None`` leaves them out (γ = 1, β = 0).
    eps : float
        Added to the variance.

    Returns
    -------
    Tensor
        Same shape and dtype as ``x``.

    Raises
    ------
    ShapeError
        ``weight`` or ``bias`` is not of shape (C,).

    References
    ----------
    J. L. Ba, J. R. Kiros, G. E. Hinton, "Layer Normalization", arXiv:1607.06450, 2016.

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> y = F.layer_norm(Tensor([[1.0, 2.0, 3.0]]), eps=0.0)
    >>> print(y.data.round(4))                   # mean 0, variance 1
    [[-1.2247  0.      1.2247]]
    """
    op = "layer_norm"
    x = tensor_argument(x, "x", op)
    eps = check_float(eps, "eps", op, min_value=0.0)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ShapeError(f"{op}: argument 'x' must have a last axis with at least one entry; "
                         f"got shape {x.shape}.")
    c = x.shape[-1]
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            p = tensor_argument(p, name, op)
            if p.shape != (c,):
                raise ShapeError(f"{op}: argument '{name}' must have shape ({c},) to match x of "
                                 f"shape {x.shape}; got {p.shape}.")
        params.append(p)
    w, b = params
    X = x.data.reshape(-1, c)                                # (N, C): one row per position
    xhat = X - sum_last(X) / c                               # x - mu
    sq = np.multiply(xhat, xhat)                             # (x - mu)^2, later reused for y
    var = sum_last(sq) / c                                   # biased variance, (N, 1)
    if eps == 0.0 and not var.all():
        raise InvalidValueError(f"{op}: a row of argument 'x' is constant (variance 0) and "
                                "'eps' = 0, so x̂ would be 0/0; use eps > 0.")
    rstd = var
    rstd += eps
    np.sqrt(rstd, out=rstd)
    np.divide(1.0, rstd, out=rstd)                           # 1 / sqrt(var + eps)
    xhat *= rstd                                             # x̂
    dtype = np.result_type(xhat, *(p.data for p in params if p is not None))
    y = sq if sq.dtype == dtype else np.empty(sq.shape, dtype)
    if w is not None:
        np.multiply(xhat, w.data, out=y)
    else:
        np.copyto(y, xhat)
    if b is not None:
        y += b.data

    need_x, x_shape = x.requires_grad, x.shape
    need_w, need_b = w is not None and w.requires_grad, b is not None and b.requires_grad
    W = w.data if w is not None else None

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        G = g.reshape(-1, c)
        gw = gb = gx = None
        if need_b:
            gb = sum_leading(G)
        if not (need_x or need_w):
            return gx, gw, gb
        gxhat = G * xhat                                     # g x̂, (N, C)
        if need_w:
            gw = sum_leading(gxhat)
        if need_x:
            # With d = g γ (dL/dx̂), the means over C of d and of d x̂ are the
            # matrix-vector products g @ γ and (g x̂) @ γ, so d x̂ is never formed.
            gx = np.empty(x_shape, G.dtype)
            d = gx.reshape(-1, c)                            # a view: d fills gx
            if W is not None:
                mean_d, mean_dxhat = G @ W, gxhat @ W
                np.multiply(G, W, out=d)
            else:
                mean_d, mean_dxhat = sum_last(G)[:, 0], sum_last(gxhat)[:, 0]
                np.copyto(d, G)
            mean_d /= c
            mean_dxhat /= c
            d -= mean_d[:, None]                             # the mean's correction
            d -= np.multiply(xhat, mean_dxhat[:, None], out=gxhat)  # the variance's correction
            d *= rstd
        return gx, gw, gb

    y = y.reshape(x.shape)
    parents = (x,) + tuple(p if p is not None else _ABSENT for p in (w, b))
    return Tensor.from_op(y, parents, backward, op)


def gelu(x: Any, approximate: str = "tanh") -> Tensor:
    r"""Gaussian error linear unit x Φ(x); by default GPT-2's tanh approximation.

    Lesson: none (an engine op the lessons use through the models).

    The default here is ``"tanh"`` (GPT-2's and nanoGPT's), whereas
    :func:`llmmath.calculus.gelu` defaults to the exact form
    (``approximate="none"``, the definition); both accept either.

    .. math::
        \mathrm{tanh}:\ y = \tfrac12 x \left(1 + \tanh u\right),\quad
        u = \sqrt{2/\pi}\,(x + 0.044715 x^3)

        \mathrm{none}:\ y = \tfrac12 x \left(1 + \mathrm{erf}(x/\sqrt2)\right)

    Derivatives: tanh form h + 2 x h (1 − h) √(2/π)(1 + 3·0.044715 x²) with
    h = (1 + tanh u)/2 (since 1 − tanh² u = 4 h (1 − h)); exact form Φ(x) + x φ(x).
    The primitive is :meth:`Tensor.gelu <llmmath.autograd.Tensor.gelu>`; the
    exact form is computed by :func:`llmmath.calculus.gelu` and
    :func:`llmmath.calculus.gelu_grad` (the vectorised erf).

    Parameters
    ----------
    x : Tensor or array_like
    approximate : {"tanh", "none"}

    Returns
    -------
    Tensor

    References
    ----------
    D. Hendrycks, K. Gimpel, "Gaussian Error Linear Units (GELUs)",
    arXiv:1606.08415, 2016 (both forms). GPT-2 and nanoGPT use the tanh form.

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> print(F.gelu(Tensor([-1.0, 0.0, 1.0])).data.round(4))
    [-0.1588  0.      0.8412]
    >>> print(F.gelu(Tensor([-1.0, 0.0, 1.0]), approximate="none").data.round(4))
    [-0.1587  0.      0.8413]
    """
    return tensor_argument(x, "x", "gelu").gelu(approximate)


def linear(x: Any, weight: Any, bias: Any = None) -> Tensor:
    r"""Affine map y = x Wᵀ + b as one matrix product, with W stored (out, in) like PyTorch.

    Lesson: none (an engine op the lessons use through the models).

    Leading axes of ``x`` are flattened so that forward and both backward
    products are single large matrix multiplications:
    dL/dx = g W, dL/dW = gᵀ x, dL/db = Σ g.

    Parameters
    ----------
    x : Tensor, shape (..., in)
    weight : Tensor, shape (out, in)
    bias : Tensor, shape (out,), optional

    Returns
    -------
    Tensor, shape (..., out)

    Raises
    ------
    ShapeError
        The last axis of ``x`` is not ``in``, or ``bias`` is not (out,).

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> W = Tensor([[1.0, 2.0], [0.0, 1.0], [1.0, 1.0]])     # (out=3, in=2)
    >>> print(F.linear(Tensor([[1.0, 1.0]]), W, Tensor([0.0, 0.0, 1.0])).data)
    [[3. 1. 3.]]
    """
    op = "linear"
    x = tensor_argument(x, "x", op)
    w = tensor_argument(weight, "weight", op)
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ShapeError(f"{op}: 'x' of shape {x.shape} needs 'weight' of shape (out, "
                         f"{x.shape[-1] if x.ndim else '?'}); got 'weight' {w.shape}.")
    out_f, in_f = w.shape
    b = None
    if bias is not None:
        b = tensor_argument(bias, "bias", op)
        if b.shape != (out_f,):
            raise ShapeError(f"{op}: argument 'bias' must have shape ({out_f},) for weight "
                             f"{w.shape}; got {b.shape}.")
    X2 = x.data.reshape(-1, in_f)                          # (N, in)
    Y = np.matmul(X2, w.data.T)                            # (N, out)
    if b is not None:
        Y += b.data
    Y = Y.reshape(x.shape[:-1] + (out_f,))
    need_x, need_w, need_b = x.requires_grad, w.requires_grad, b is not None and b.requires_grad
    x_shape = x.shape
    W = w.data if need_x else None                         # backward keeps only what it reads:
    X = X2 if need_w else None                             # dL/dx needs W, dL/dW needs x

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        G = g.reshape(-1, out_f)                           # (N, out)
        gx = None
        if need_x:                                         # g W, written straight into x's shape
            gx = np.empty(x_shape, np.result_type(G, W))
            np.matmul(G, W, out=gx.reshape(-1, in_f))
        gw = G.T @ X if need_w else None                   # (out, in)
        gb = sum_leading(G) if need_b else None
        return gx, gw, gb

    return Tensor.from_op(Y, (x, w, b if b is not None else _ABSENT), backward, op)


def _scatter_rows(ids: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """out[k] = sum of rows[i] with ids[i] == k, for k < n (repeated ids add up)."""
    out = np.zeros((n, rows.shape[1]), rows.dtype)
    if ids.size == 0:
        return out
    if n * ids.size <= 1 << 22:                   # small vocabulary: a one-hot product
        onehot = np.zeros((n, ids.size), rows.dtype)
        onehot[ids, np.arange(ids.size)] = 1.0
        return np.matmul(onehot, rows, out=out)
    order = np.argsort(ids, kind="stable")         # large vocabulary: sort, then segment sums
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


def embedding(indices: Any, weight: Any) -> Tensor:
    r"""Rows of ``weight`` picked by integer ``indices``: out[..., :] = W[idx[...], :].

    Lesson: none (an engine op the lessons use through the models).

    Backward scatters the gradient rows back, adding rows whose index
    repeats: dL/dW_k = Σ_{i: idx_i = k} g_i (a one-hot product for small
    vocabularies, a sort and segment sums otherwise).

    Parameters
    ----------
    indices : array_like of int, any shape
        Values in [0, num_embeddings).
    weight : Tensor, shape (num_embeddings, dim)

    Returns
    -------
    Tensor, shape indices.shape + (dim,)

    Raises
    ------
    InvalidValueError
        An index out of range.

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> W = Tensor([[0.0, 1.0], [2.0, 3.0]], requires_grad=True)
    >>> F.embedding([1, 1, 0], W).sum().backward()
    >>> print(W.grad)                  # row 1 was used twice
    [[1. 1.]
     [2. 2.]]
    """
    op = "embedding"
    w = tensor_argument(weight, "weight", op)
    if w.ndim != 2:
        raise ShapeError(f"{op}: argument 'weight' must have shape (num_embeddings, dim); got "
                         f"{w.shape}.")
    n, dim = w.shape
    ids = as_int_array(indices, "indices", op, min_value=0, max_value=n - 1)
    data = w.data[ids]

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (_scatter_rows(ids.reshape(-1), g.reshape(-1, dim), n),)

    return Tensor.from_op(data, (w,), backward, op)


def dropout(x: Any, p: float = 0.5, training: bool = True, rng: Any = None) -> Tensor:
    r"""Zero each entry with probability p and scale the survivors by 1/(1 − p).

    Lesson: ``bayes`` (Bayes' rule in training).

    .. math:: y = x \cdot m / (1 - p), \quad m_i \sim \mathrm{Bernoulli}(1 - p)

    so E[y] = x. Backward multiplies by the same mask: dL/dx = g·m/(1 − p).
    Outside training, or with p = 0, ``x`` is returned unchanged.

    Parameters
    ----------
    x : Tensor
    p : float in [0, 1]
    training : bool
    rng : numpy.random.Generator, int or None

    Returns
    -------
    Tensor

    References
    ----------
    N. Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks
    from Overfitting", JMLR 15, 2014 (this is the "inverted" form).

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> y = F.dropout(Tensor([1.0] * 6), p=0.5, rng=0)
    >>> sorted(set(y.data.tolist()))       # dropped, or doubled
    [0.0, 2.0]
    """
    op = "dropout"
    x = tensor_argument(x, "x", op)
    p = check_float(p, "p", op, min_value=0.0, max_value=1.0)
    if not check_bool(training, "training", op) or p == 0.0:
        return x
    gen = check_rng(rng, op)
    if p == 1.0:
        mask = np.zeros(x.shape, x.dtype)
    else:
        mask = (gen.random(x.shape, dtype=x.dtype) >= p).astype(x.dtype)
        mask *= 1.0 / (1.0 - p)
    return Tensor.from_op(x.data * mask, (x,), lambda g: (g * mask,), op)


def masked_fill(x: Any, mask: Any, value: float) -> Tensor:
    r"""Replace the entries where ``mask`` is True by ``value``; they get no gradient.

    Lesson: none (an engine op the lessons use through the models).

    y = where(mask, value, x); dL/dx = where(mask, 0, g). With value = -inf
    this is how attention hides future positions before the softmax.

    Parameters
    ----------
    x : Tensor
    mask : array_like of bool
        Broadcastable to ``x.shape``.
    value : float
        May be ±inf.

    Returns
    -------
    Tensor

    Examples
    --------
    >>> import numpy as np
    >>> from llmmath.autograd import Tensor, functional as F
    >>> print(F.masked_fill(Tensor([1.0, 2.0, 3.0]), [False, True, False], -np.inf).data)
    [  1. -inf   3.]
    """
    op = "masked_fill"
    x = tensor_argument(x, "x", op)
    m = as_bool_array(mask, "mask", op)
    try:
        m = np.broadcast_to(m, x.shape)
    except ValueError:
        raise ShapeError(f"{op}: argument 'mask' of shape {m.shape} does not broadcast to 'x' "
                         f"of shape {x.shape}.") from None
    value = check_float(value, "value", op, allow_inf=True)
    data = np.where(m, value, x.data).astype(x.dtype, copy=False)
    return Tensor.from_op(data, (x,), lambda g: (np.where(m, 0.0, g).astype(g.dtype,
                                                                          copy=False),), op)
