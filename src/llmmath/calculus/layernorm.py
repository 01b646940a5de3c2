"""Layer normalisation and its backward pass, derived by hand.

:func:`layer_norm` normalises each row over its last axis and
:func:`layer_norm_backward` gives ``(dx, dgamma, dbeta)``: the three paths
through the mean, the variance and the direct one, as the course derives them
(and as ``torch.nn.functional.layer_norm`` computes them, the test reference).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._numerics import pow2_split
from llmmath._validation import as_float_array, check_float, float_dtype
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["layer_norm", "layer_norm_backward"]


def _layer_norm_inputs(x: Any, gamma: Any, op: str) -> tuple[np.ndarray, np.ndarray | None]:
    x = as_float_array(x, "x", op, min_ndim=1)
    if x.shape[-1] == 0:
        raise ShapeError(f"{op}: argument 'x' has no features on its last axis (shape {x.shape}).")
    if gamma is None:
        return x, None
    g = as_float_array(gamma, "gamma", op, ndim=1)
    if g.shape != x.shape[-1:]:
        raise ShapeError(f"{op}: argument 'gamma' must have shape (d,) = {x.shape[-1:]} to match x {x.shape}; got {g.shape}.")
    return x, g


def _normalize(x: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """(x_hat, s) with x_hat = (x - mean) / s and s = sqrt(var + eps), over the last axis.

    Each row is first divided by a power of two near its largest entry
    (exact), so squaring cannot overflow; ``hypot`` joins the standard
    deviation and ``sqrt(eps)`` without overflow either.
    """
    xs, e = pow2_split(x, axis=-1)
    dev = xs - xs.mean(axis=-1, keepdims=True)  # (x - mean) * 2**-e
    std = np.ldexp(np.sqrt((dev * dev).mean(axis=-1, keepdims=True)), e)
    s = np.hypot(std, np.sqrt(x.dtype.type(eps)))
    return np.ldexp(dev, e) / s, s


def layer_norm(x: Any, gamma: Any = None, beta: Any = None, eps: float = 1e-5) -> np.ndarray:
    """Layer normalisation over the last axis.

    Lesson: ``layernorm`` (LayerNorm and its gradient).

    .. math:: y = \\gamma \\odot \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta,
              \\qquad \\mu = \\frac{1}{d}\\sum_j x_j, \\quad
              \\sigma^2 = \\frac{1}{d}\\sum_j (x_j - \\mu)^2

    The biased variance (divisor ``d``), as ``torch.nn.functional.layer_norm``.

    Parameters
    ----------
    x : array_like, shape (..., d)
    gamma, beta : array_like, shape (d,), optional
        Scale (default ones) and shift (default zeros).
    eps : float
        > 0, added to the variance.

    Returns
    -------
    ndarray, shape (..., d)

    References
    ----------
    .. [1] J. L. Ba, J. R. Kiros and G. E. Hinton, "Layer Normalization",
       arXiv:1607.06450, 2016.

    Examples
    --------
    >>> print(layer_norm([1.0, 2.0, 3.0], eps=1e-12).round(6))
    [-1.224745  0.        1.224745]
    """
    op = "layer_norm"
    x, g = _layer_norm_inputs(x, gamma, op)
    b = None if beta is None else as_float_array(beta, "beta", op, ndim=1)
    if b is not None and b.shape != x.shape[-1:]:
        raise ShapeError(f"{op}: argument 'beta' must have shape (d,) = {x.shape[-1:]}; got {b.shape}.")
    eps = check_float(eps, "eps", op, min_value=0.0, min_inclusive=False)
    dtype = float_dtype(x, *(a for a in (g, b) if a is not None))
    if x.size == 0:
        return x.astype(dtype)
    y, _ = _normalize(x.astype(dtype, copy=False), eps)
    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        if g is not None:
            y = y * g.astype(dtype, copy=False)
        if b is not None:
            y = y + b.astype(dtype, copy=False)
    if not np.isfinite(y).all():
        raise InvalidValueError(f"{op}: gamma * x_hat + beta overflows the float range; rescale 'gamma' or 'beta'.")
    return y


def layer_norm_backward(x: Any, gamma: Any, dy: Any, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`layer_norm`: ``(dx, dgamma, dbeta)`` from ``dy = dL/dy``.

    Lesson: ``layernorm`` (LayerNorm and its gradient).

    With ``x_hat = (x - mu) / s``, ``s = sqrt(sigma^2 + eps)`` and
    ``g = dy * gamma`` (elementwise), for each row of ``d`` features:

    .. math:: \\frac{\\partial L}{\\partial x_i} = \\frac{1}{s}\\Big(g_i
              - \\frac{1}{d}\\sum_j g_j - \\hat x_i \\frac{1}{d}\\sum_j g_j \\hat x_j\\Big)
              = \\frac{1}{s}\\Big(g_i - \\frac{1}{d}\\sum_j g_j
              - \\frac{x_i - \\mu}{d\\,(\\sigma^2 + \\epsilon)} \\sum_j g_j (x_j - \\mu)\\Big)

    The three terms: the direct path, the path through the mean, and the
    path through the variance. ``gamma`` sits inside the sums (it varies
    with ``j``), and the variance term divides by ``sigma^2 + eps``, not
    ``sigma^2``. The parameter gradients sum over every leading axis:
    ``dgamma = sum(dy * x_hat)``, ``dbeta = sum(dy)``.

    Parameters
    ----------
    x : array_like, shape (..., d)
        The forward input.
    gamma : array_like, shape (d,), or None
        The scale used in the forward pass; ``None`` means no scale (ones), as
        in :func:`layer_norm`. ``dgamma`` is returned either way: it is the
        gradient with respect to a scale of ones.
    dy : array_like, shape (..., d)
        Upstream gradient, same shape as ``x``.
    eps : float
        > 0, as in the forward pass.

    Returns
    -------
    dx : ndarray, shape (..., d)
    dgamma, dbeta : ndarray, shape (d,)

    Raises
    ------
    ShapeError, InvalidValueError
        Mismatched shapes, non-finite input, or gradients beyond the float range.

    References
    ----------
    .. [1] J. L. Ba, J. R. Kiros and G. E. Hinton, "Layer Normalization", 2016.
    .. [2] PyTorch, ``torch.nn.functional.layer_norm`` (the reference in the tests).

    Examples
    --------
    A gradient that only shifts or only scales the row is removed entirely:

    >>> dx, dgamma, dbeta = layer_norm_backward([[1.0, 2.0, 3.0]], [1.0, 1.0, 1.0], [[1.0, 1.0, 1.0]])
    >>> print(np.abs(dx).max() < 1e-15, dbeta)
    True [1. 1. 1.]
    >>> no_scale = layer_norm_backward([[1.0, 2.0, 3.0]], None, [[1.0, 1.0, 1.0]])
    >>> print(all(np.array_equal(a, b) for a, b in zip(no_scale, (dx, dgamma, dbeta))))
    True
    """
    op = "layer_norm_backward"
    x, g = _layer_norm_inputs(x, gamma, op)
    dy = as_float_array(dy, "dy", op)
    if dy.shape != x.shape:
        raise ShapeError(f"{op}: argument 'dy' must have the shape of x {x.shape}; got {dy.shape}.")
    eps = check_float(eps, "eps", op, min_value=0.0, min_inclusive=False)
    dtype = float_dtype(x, dy) if g is None else float_dtype(x, g, dy)
    if g is None:                      # no scale: gamma = 1
        g = np.ones(x.shape[-1:], dtype)
    x, g, dy = (a.astype(dtype, copy=False) for a in (x, g, dy))
    lead = tuple(range(x.ndim - 1))
    if x.size == 0:
        return np.zeros_like(x), np.zeros_like(g), np.zeros_like(g)
    x_hat, s = _normalize(x, eps)  # (..., d), (..., 1)
    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        gd = dy * g  # dL/dx_hat
        dx = (gd - gd.mean(axis=-1, keepdims=True)
              - x_hat * (gd * x_hat).mean(axis=-1, keepdims=True)) / s
        dgamma = (dy * x_hat).sum(axis=lead)
        dbeta = dy.sum(axis=lead)
    for name, arr in (("dx", dx), ("dgamma", dgamma), ("dbeta", dbeta)):
        if not np.isfinite(arr).all():
            raise InvalidValueError(f"{op}: {name} overflows the float range; rescale 'dy' or 'gamma'.")
    return dx, dgamma, dbeta
