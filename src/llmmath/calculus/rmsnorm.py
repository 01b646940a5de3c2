"""RMSNorm and its backward pass, derived by hand: LayerNorm without the mean.

:func:`rms_norm` divides each row by its root mean square and scales it;
:func:`rms_norm_backward` gives ``(dx, dweight)``. With no mean to subtract
the backward has two terms where LayerNorm's has three (compare
:func:`~llmmath.calculus.layer_norm_backward`). The engine's fused operation,
:func:`llmmath.autograd.functional.rms_norm`, runs the same two helpers
(:func:`rms_normalize` and :func:`rms_grad`), so the formula is written once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._numerics import pow2_split
from llmmath._validation import as_float_array, check_float, float_dtype
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["rms_norm", "rms_norm_backward"]


def _floors(dtype: np.dtype) -> tuple[float, float]:
    """(smallest mean square the fast path trusts, smallest eps that hides anything below it).

    Below sqrt(tiny) the squares of a row's entries may have underflowed, so
    the mean square may have lost digits; that matters only where eps is not
    large enough to swamp it (eps >= floor / machine epsilon).
    """
    info = np.finfo(dtype)
    floor = float(np.sqrt(info.tiny))
    return floor, floor / float(info.eps)


def rms_normalize(x: np.ndarray, eps: float, op: str) -> tuple[np.ndarray, np.ndarray]:
    """``(x_hat, inv_rms)`` over the last axis of a float array, unchecked but overflow-safe.

    ``inv_rms = 1 / sqrt(mean(x^2) + eps)`` of shape ``(..., 1)`` and
    ``x_hat = x * inv_rms``. Rows whose squares would overflow or underflow
    are scaled by a power of two first (exact), as LayerNorm does.

    Raises
    ------
    InvalidValueError
        A row of zeros with ``eps = 0`` (0/0).
    """
    c = x.shape[-1]
    with np.errstate(over="ignore", under="ignore"):
        ms = np.einsum("...c,...c->...", x, x)[..., None] / c      # mean square, (..., 1)
    floor, eps_floor = _floors(x.dtype)
    if np.isfinite(ms).all() and (eps >= eps_floor or ms.size == 0 or ms.min() >= floor):
        inv = ms
        inv += eps
        np.sqrt(inv, out=inv)
        np.divide(1.0, inv, out=inv)                 # finite: mean square >= floor, or eps > 0
        return x * inv, inv
    xs, e = pow2_split(x, axis=-1)                                  # rows scaled into [0.5, 1)
    rms_s = np.sqrt(np.einsum("...c,...c->...", xs, xs)[..., None] / c)
    rms = np.hypot(np.ldexp(rms_s, e), np.sqrt(x.dtype.type(eps)))
    if not rms.all():
        raise InvalidValueError(f"{op}: a row of argument 'x' is all zeros and 'eps' = 0, so "
                                "x / rms(x) would be 0/0; use eps > 0.")
    with np.errstate(under="ignore"):
        return x / rms, 1.0 / rms


def rms_grad(g: np.ndarray, x_hat: np.ndarray, inv_rms: np.ndarray, weight: np.ndarray | None,
             need_x: bool = True, need_weight: bool = True
             ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(dx, dweight)`` of RMSNorm from the upstream gradient ``g``, unchecked.

    With d = g * weight: dx = inv_rms (d - x_hat mean(d x_hat)) and
    dweight = sum of g x_hat over the leading axes. ``x_hat`` and ``inv_rms``
    come from :func:`rms_normalize`.
    """
    dw = dx = None
    c = x_hat.shape[-1]
    if need_weight and weight is not None:
        dw = np.einsum("nc,nc->c", g.reshape(-1, c), x_hat.reshape(-1, c))
    if need_x:
        d = g * weight if weight is not None else g                 # dL/dx_hat
        proj = np.einsum("...c,...c->...", d, x_hat)[..., None] / c  # mean(d x_hat), (..., 1)
        dx = d - x_hat * proj                                       # remove the radial part
        dx *= inv_rms
    return dx, dw


def _inputs(x: Any, weight: Any, op: str, eps: Any) -> tuple[np.ndarray, np.ndarray | None, float]:
    x = as_float_array(x, "x", op, min_ndim=1)
    if x.shape[-1] == 0:
        raise ShapeError(f"{op}: argument 'x' has no features on its last axis (shape {x.shape}).")
    w = None
    if weight is not None:
        w = as_float_array(weight, "weight", op, ndim=1)
        if w.shape != x.shape[-1:]:
            raise ShapeError(f"{op}: argument 'weight' must have shape (d,) = {x.shape[-1:]} to "
                             f"match x {x.shape}; got {w.shape}.")
    eps = check_float(eps, "eps", op, min_value=0.0)
    return x, w, eps


def rms_norm(x: Any, weight: Any = None, eps: float = 1e-5) -> np.ndarray:
    """Root-mean-square normalisation over the last axis (RMSNorm).

    Lesson: ``rmsnorm_swiglu`` (RMSNorm and SwiGLU).

    .. math:: y = w \\odot \\frac{x}{\\mathrm{rms}(x)}, \\qquad
              \\mathrm{rms}(x) = \\sqrt{\\frac{1}{d}\\sum_j x_j^2 + \\epsilon}

    LayerNorm without the centring and without the shift: each row is put on
    the sphere of radius sqrt(d) (for eps = 0) and then scaled per feature.
    Llama, Mistral and Qwen normalise this way; it is
    ``torch.nn.functional.rms_norm`` (whose default eps differs: pass it).

    Parameters
    ----------
    x : array_like, shape (..., d)
    weight : array_like, shape (d,), optional
        The gain w (default ones).
    eps : float
        >= 0, added to the mean square. With 0, a row of zeros is an error.

    Returns
    -------
    ndarray, shape (..., d)

    Raises
    ------
    InvalidValueError
        ``weight * x_hat`` overflows, or a row of zeros with ``eps = 0``.

    References
    ----------
    .. [1] B. Zhang and R. Sennrich, "Root Mean Square Layer Normalization",
       NeurIPS 2019.

    Examples
    --------
    >>> y = rms_norm([[3.0, 4.0]], eps=0.0)            # rms = sqrt((9 + 16) / 2)
    >>> print(y.round(6), float((y * y).mean()))
    [[0.848528 1.131371]] 1.0
    """
    op = "rms_norm"
    x, w, eps = _inputs(x, weight, op, eps)
    dtype = float_dtype(x) if w is None else float_dtype(x, w)
    x_hat, _ = rms_normalize(x.astype(dtype, copy=False), eps, op)
    if w is None:
        return x_hat
    with np.errstate(over="ignore"):
        y = x_hat * w.astype(dtype, copy=False)
    if not np.isfinite(y).all():
        raise InvalidValueError(f"{op}: weight * x_hat overflows the float range; rescale "
                                "'weight'.")
    return y


def rms_norm_backward(x: Any, weight: Any, dy: Any, eps: float = 1e-5
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Backward pass of :func:`rms_norm`: ``(dx, dweight)`` from ``dy = dL/dy``.

    Lesson: ``rmsnorm_swiglu`` (RMSNorm and SwiGLU).

    With ``r = rms(x)``, ``x_hat = x / r`` and ``g = dy * weight``:

    .. math:: \\frac{\\partial L}{\\partial x_i} = \\frac{1}{r}\\Big(g_i
              - \\hat x_i \\frac{1}{d}\\sum_j g_j \\hat x_j\\Big), \\qquad
              \\frac{\\partial L}{\\partial w} = \\sum_{\\text{rows}} dy \\odot \\hat x

    Two terms: the direct path, and the path through r (dr/dx_i = x_i / (d r)).
    The second removes from g its component along x_hat, so dx is orthogonal
    to x: growing x along itself does not change x / r. LayerNorm's third
    term, the one through the mean, is missing because nothing is centred.

    Parameters
    ----------
    x : array_like, shape (..., d)
    weight : array_like, shape (d,), or None
        The gain of the forward pass; ``None`` means ones (``dweight`` is
        still returned: the gradient with respect to a gain of ones).
    dy : array_like, shape (..., d)
    eps : float

    Returns
    -------
    (dx, dweight) : ndarray of shapes (..., d) and (d,)

    Raises
    ------
    InvalidValueError
        A gradient overflows the float range.

    Examples
    --------
    >>> dx, dw = rms_norm_backward([[3.0, 4.0]], None, [[3.0, 4.0]], eps=0.0)
    >>> print(np.abs(dx).max() < 1e-15, dw.round(4))    # dy along x: dx = 0
    True [2.5456 4.5255]
    """
    op = "rms_norm_backward"
    x, w, eps = _inputs(x, weight, op, eps)
    dy = as_float_array(dy, "dy", op)
    if dy.shape != x.shape:
        raise ShapeError(f"{op}: argument 'dy' must have the shape of x {x.shape}; got {dy.shape}.")
    dtype = float_dtype(x, dy) if w is None else float_dtype(x, w, dy)
    x, dy = x.astype(dtype, copy=False), dy.astype(dtype, copy=False)
    w = np.ones(x.shape[-1:], dtype) if w is None else w.astype(dtype, copy=False)
    x_hat, inv = rms_normalize(x, eps, op)
    with np.errstate(over="ignore", invalid="ignore"):
        dx, dw = rms_grad(dy, x_hat, inv, w)
    for name, arr in (("dx", dx), ("dweight", dw)):
        if not np.isfinite(arr).all():
            raise InvalidValueError(f"{op}: {name} overflows the float range; rescale 'dy' or "
                                    "'weight'.")
    return dx, dw
