"""Derivatives for language models: finite differences and analytic gradients.

Two ways to get a gradient meet here. :func:`numerical_gradient` and
:func:`jacobian` estimate it from function values alone (central
differences); the other functions write out the derivatives the course
derives by hand (softmax, cross-entropy, activations, LayerNorm). Each
analytic gradient is tested against both finite differences and PyTorch.

Also exported here, because GELU needs it and NumPy lacks it: a vectorised
error function :func:`erf` (and :func:`erfc`), accurate to about 1e-15
relative (implemented in :mod:`llmmath._erf`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from llmmath._erf import erf, erfc, ndtr_pdf
from llmmath._validation import (
    as_float_array,
    as_int_array,
    check_callable,
    check_choice,
    check_distribution,
    check_float,
    describe,
    float_dtype,
)
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.prob import softmax

__all__ = [
    "numerical_gradient",
    "jacobian",
    "difference_quotient",
    "softmax_jacobian",
    "softmax_cross_entropy_grad",
    "relu_grad",
    "sigmoid_grad",
    "tanh_grad",
    "erf",
    "erfc",
    "gelu",
    "gelu_grad",
    "layer_norm",
    "layer_norm_backward",
]

# --- finite differences --------------------------------------------------------


def _values(value: Any, op: str, where: str) -> np.ndarray:
    """What ``f`` returned, as a finite float64 array."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise InvalidValueError(f"{op}: argument 'f' returned a ragged object at {where}.") from None
    if arr.dtype.kind not in "biuf":
        raise InvalidTypeError(f"{op}: argument 'f' must return real numbers; got {describe(value)} at {where}.")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        bad = arr[~np.isfinite(arr)].flat[0]
        raise InvalidValueError(f"{op}: argument 'f' returned {bad} at {where}; expected finite values.")
    return arr


def _central_differences(f: Callable[[np.ndarray], Any], x: np.ndarray, eps: float, op: str,
                         out_shape: tuple[int, ...] | None) -> np.ndarray:
    """(f(x + h e_i) - f(x - h e_i)) / (2h) for every i, stacked on the last axes."""
    cols = np.empty(x.shape + (out_shape or ()))
    for i in range(x.size):
        at = np.unravel_index(i, x.shape) if x.ndim else ()
        xp, xm = x.copy(), x.copy()
        with np.errstate(over="ignore"):  # checked on the next lines
            xp[at] += eps
            xm[at] -= eps
            step = xp[at] - xm[at]  # the step actually taken, after rounding
        if not 0 < step < np.inf:
            raise InvalidValueError(
                f"{op}: argument 'eps'={eps:g} is lost in rounding or overflows next to "
                f"x{list(at)} = {x[at]:g}; use an eps that suits the scale of x."
            )
        where = f"x{list(at)} +/- eps"
        hi, lo = _values(f(xp), op, where), _values(f(xm), op, where)
        if hi.shape != (out_shape or ()) or lo.shape != hi.shape:
            want = "a scalar" if out_shape is None else f"shape {out_shape}"
            raise ShapeError(f"{op}: argument 'f' must return {want}; got shape {hi.shape} at {where}.")
        with np.errstate(over="ignore"):
            cols[at] = (hi - lo) / step
        if not np.isfinite(cols[at]).all():
            raise InvalidValueError(f"{op}: the difference quotient of 'f' overflows at {where}.")
    return cols


def numerical_gradient(f: Callable[[np.ndarray], Any], x: Any, eps: float = 1e-6) -> np.ndarray:
    """Gradient of a scalar function by central differences, in float64.

    .. math:: \\frac{\\partial f}{\\partial x_i} \\approx
              \\frac{f(x + h e_i) - f(x - h e_i)}{2h}

    The error is O(h^2) from truncation plus about ``eps_machine |f| / h``
    from rounding; ``h = 1e-6`` balances the two for well-scaled ``f``. The
    step is absolute, so for ``|x_i| >> 1`` pass a larger ``eps``; the
    quotient divides by the step actually taken after rounding.

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar``, called with float64 arrays shaped like ``x``.
    x : array_like
        The point, finite; always computed in float64.
    eps : float
        The step ``h`` > 0.

    Returns
    -------
    ndarray
        Same shape as ``x``, float64 (float32 differences would drown in rounding).

    Raises
    ------
    InvalidTypeError, InvalidValueError, ShapeError
        ``f`` not callable, or returning a non-scalar or non-finite value.

    See Also
    --------
    jacobian

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed.,
       Springer, 2006, section 8.1.

    Examples
    --------
    >>> g = numerical_gradient(lambda v: np.sum(v ** 2), [1.0, -2.0])
    >>> print(g.round(6))
    [ 2. -4.]
    """
    op = "numerical_gradient"
    f = check_callable(f, "f", op)
    x = as_float_array(x, "x", op, dtype=np.float64)
    eps = check_float(eps, "eps", op, min_value=0.0, min_inclusive=False)
    return _central_differences(f, x, eps, op, None)


def jacobian(f: Callable[[np.ndarray], Any], x: Any, eps: float = 1e-6) -> np.ndarray:
    """Jacobian of an array function by central differences, in float64.

    .. math:: J_{i \\ldots, j \\ldots} = \\frac{\\partial f_{i\\ldots}}{\\partial x_{j\\ldots}}

    Parameters
    ----------
    f : callable
        ``f(x) -> array`` of a fixed shape ``out_shape``.
    x : array_like
        The point, finite.
    eps : float
        The step ``h`` > 0.

    Returns
    -------
    ndarray, shape ``out_shape + x.shape``
        The layout of ``torch.autograd.functional.jacobian``.

    Raises
    ------
    InvalidTypeError, InvalidValueError, ShapeError
        As for :func:`numerical_gradient`, or ``f`` changing its output shape.

    Examples
    --------
    >>> J = jacobian(lambda v: np.array([v[0] * v[1], v[0] + 2 * v[1]]), [3.0, 5.0])
    >>> print(J.round(6))
    [[5. 3.]
     [1. 2.]]
    """
    op = "jacobian"
    f = check_callable(f, "f", op)
    x = as_float_array(x, "x", op, dtype=np.float64)
    eps = check_float(eps, "eps", op, min_value=0.0, min_inclusive=False)
    out_shape = _values(f(x.copy()), op, "x").shape
    cols = _central_differences(f, x, eps, op, out_shape)  # (*x.shape, *out_shape)
    return np.moveaxis(cols, tuple(range(x.ndim)), tuple(range(len(out_shape), cols.ndim)))


_SCHEMES = ("forward", "backward", "central")


def difference_quotient(f: Callable[[np.ndarray], Any], x: Any, h: Any,
                        scheme: str = "forward") -> np.ndarray:
    """Slope of a secant of a function of one variable: the derivative before the limit.

    .. math:: \\text{forward: } \\frac{f(x + h) - f(x)}{h}, \\quad
              \\text{backward: } \\frac{f(x) - f(x - h)}{h}, \\quad
              \\text{central: } \\frac{f(x + h) - f(x - h)}{2h}

    As ``h -> 0`` each tends to ``f'(x)``. The forward and backward errors
    shrink like ``h`` (about ``f''(x) h / 2``), the central one like ``h**2``
    (about ``f'''(x) h**2 / 6``), until rounding, about ``eps_machine |f| / h``,
    takes over. The quotient divides by the step actually taken after
    rounding, ``(x + h) - x``, as :func:`numerical_gradient` does.

    Parameters
    ----------
    f : callable
        A vectorised function of one variable, ``f(array) -> array`` of the
        same shape (a NumPy ufunc or an expression in its argument).
    x, h : array_like
        Points and steps, broadcast together; float64. ``h`` may be negative
        but not zero or lost in rounding next to ``x``.
    scheme : {"forward", "backward", "central"}

    Returns
    -------
    ndarray
        The secant slopes, float64, with the broadcast shape of ``x`` and ``h``.

    Raises
    ------
    InvalidTypeError, InvalidValueError, ShapeError
        ``f`` not callable or returning the wrong shape or non-finite values,
        a step of zero, an unknown scheme.

    See Also
    --------
    numerical_gradient : the central quotient for every coordinate of a gradient.

    References
    ----------
    .. [1] J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed.,
       Springer, 2006, section 8.1.

    Examples
    --------
    For ``f(x) = x**2`` the forward secant from 3 has slope ``2*3 + h`` exactly,
    and the central one is exact:

    >>> print(difference_quotient(lambda t: t * t, 3.0, [0.5, 0.25]))
    [6.5  6.25]
    >>> print(difference_quotient(lambda t: t * t, 3.0, 0.5, scheme="central"))
    6.0
    """
    op = "difference_quotient"
    f = check_callable(f, "f", op)
    scheme = check_choice(scheme, "scheme", op, _SCHEMES)
    x = as_float_array(x, "x", op, dtype=np.float64)
    h = as_float_array(h, "h", op, dtype=np.float64)
    try:
        x, h = np.broadcast_arrays(x, h)
    except ValueError:
        raise ShapeError(f"{op}: arguments 'x' {x.shape} and 'h' {h.shape} do not broadcast.") from None
    with np.errstate(over="ignore"):  # an overflowing step is caught just below
        hi = x + h if scheme != "backward" else x
        lo = x - h if scheme != "forward" else x
        step = hi - lo  # the step actually taken (twice h for the central scheme)
    bad = ~(np.isfinite(step) & (step != 0))
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        raise InvalidValueError(
            f"{op}: argument 'h'={h[at]:g} is zero, lost in rounding or overflows next to "
            f"x = {x[at]:g}; use a step that suits the scale of x."
        )
    f_hi = _values(f(hi.copy()), op, "x + h" if scheme != "backward" else "x")
    f_lo = _values(f(lo.copy()), op, "x - h" if scheme != "forward" else "x")
    for v in (f_hi, f_lo):
        if v.shape != x.shape:
            raise ShapeError(f"{op}: argument 'f' must return an array shaped like its input "
                             f"{x.shape}; got {v.shape}.")
    with np.errstate(over="ignore"):
        out = (f_hi - f_lo) / step
    if not np.isfinite(out).all():
        raise InvalidValueError(f"{op}: the difference quotient of 'f' overflows.")
    return out


# --- softmax and cross-entropy -------------------------------------------------


def _probs(z: Any, name: str, op: str) -> np.ndarray:
    z = as_float_array(z, name, op, min_ndim=1, allow_inf="neg")
    if z.shape[-1] == 0:
        raise ShapeError(f"{op}: argument '{name}' has no classes on its last axis (shape {z.shape}).")
    dead = np.isneginf(z).all(axis=-1)
    if dead.any():
        at = tuple(int(i) for i in np.unravel_index(int(np.argmax(dead)), dead.shape))
        raise InvalidValueError(f"{op}: argument '{name}' is -inf everywhere in row {at}; expected a finite entry.")
    return softmax(z, axis=-1)


def softmax_jacobian(z: Any) -> np.ndarray:
    """Jacobian of the softmax over the last axis: ``d s_i / d z_j``.

    .. math:: \\frac{\\partial s_i}{\\partial z_j} = s_i (\\delta_{ij} - s_j),
              \\qquad J = \\mathrm{diag}(s) - s s^T

    ``J`` is symmetric, its rows sum to 0 (adding a constant to every logit
    changes nothing), and it is positive semi-definite.

    Parameters
    ----------
    z : array_like, shape (..., K)
        Logits: finite, or ``-inf`` for a masked class (its row and column are 0).

    Returns
    -------
    ndarray, shape (..., K, K)

    Raises
    ------
    InvalidValueError
        NaN, ``+inf``, or a row that is ``-inf`` everywhere.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT Press,
       2016, section 6.2.2.3.

    Examples
    --------
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    s = _probs(z, "z", "softmax_jacobian")  # (..., K)
    eye = np.eye(s.shape[-1], dtype=s.dtype)
    return s[..., :, None] * (eye - s[..., None, :])  # (..., K, K)


def softmax_cross_entropy_grad(logits: Any, target: Any) -> np.ndarray:
    """Gradient of the cross-entropy of ``softmax(logits)`` with respect to the logits.

    .. math:: L = -\\sum_k y_k \\log \\mathrm{softmax}(z)_k, \\qquad
              \\frac{\\partial L}{\\partial z} = \\mathrm{softmax}(z) - y

    The gradient is of the loss summed over every leading (batch) position;
    divide by the number of positions for a mean loss, as PyTorch's
    ``cross_entropy`` with the default ``reduction="mean"`` does.

    How ``target`` is read depends on its dtype:

    * integer dtype: class indices, shape ``logits.shape[:-1]``, each in
      ``[0, K)``; ``y`` is their one-hot encoding;
    * floating dtype: a distribution over the ``K`` classes (one-hot or soft
      labels), the same shape as ``logits``, rows summing to 1.

    A boolean target is refused as ambiguous (cast it to one of the above).

    Parameters
    ----------
    logits : array_like, shape (..., K)
        Finite, or ``-inf`` for a masked class.
    target : array_like
        See above.

    Returns
    -------
    ndarray, shape (..., K)
        Each row sums to 0.

    Raises
    ------
    ShapeError, InvalidValueError, InvalidTypeError
        A target of the wrong shape, out-of-range indices, rows not summing to 1.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer,
       2006, eq. (4.109).

    Examples
    --------
    >>> softmax_cross_entropy_grad([0.0, 0.0, 0.0, 0.0], 2)
    array([ 0.25,  0.25, -0.75,  0.25])
    >>> softmax_cross_entropy_grad([[0.0, 0.0]], [[0.5, 0.5]])
    array([[0., 0.]])
    """
    op = "softmax_cross_entropy_grad"
    p = _probs(logits, "logits", op)  # (..., K)
    K = p.shape[-1]
    if isinstance(target, (str, bytes)) or target is None:
        raise InvalidTypeError(f"{op}: argument 'target' must be class indices or probabilities; got {describe(target)}.")
    try:
        t = np.asarray(target)
    except (ValueError, TypeError):
        raise InvalidValueError(f"{op}: argument 'target' could not be read as a rectangular array.") from None
    if t.dtype.kind == "b":
        raise InvalidTypeError(
            f"{op}: argument 'target' is boolean, which is ambiguous; pass integer class indices "
            "or a float one-hot/probability array."
        )
    if t.dtype.kind in "iu" or (t.size == 0 and t.shape == p.shape[:-1]):
        idx = as_int_array(t, "target", op, min_value=0, max_value=K - 1)
        if idx.shape != p.shape[:-1]:
            raise ShapeError(
                f"{op}: integer 'target' holds class indices and must have shape logits.shape[:-1] "
                f"= {p.shape[:-1]}; got {idx.shape}."
            )
        grad, at = p.copy(), idx[..., None]
        np.put_along_axis(grad, at, np.take_along_axis(p, at, axis=-1) - 1, axis=-1)  # p - one_hot
        return grad
    y = check_distribution(t, "target", op)
    if y.shape != p.shape:
        raise ShapeError(
            f"{op}: float 'target' is a distribution over the classes and must have the shape of "
            f"'logits' {p.shape}; got {y.shape}. (Integer dtype means class indices.)"
        )
    return (p - y).astype(float_dtype(p, y), copy=False)


# --- activations ---------------------------------------------------------------


def relu_grad(x: Any) -> np.ndarray:
    """Derivative of ReLU: 1 where ``x > 0``, else 0 (0 at ``x = 0``, as PyTorch).

    .. math:: \\frac{d}{dx}\\max(0, x) = [x > 0]

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> relu_grad([-1.0, 0.0, 2.0])
    array([0., 0., 1.])
    """
    x = as_float_array(x, "x", "relu_grad", allow_inf=True)
    return (x > 0).astype(x.dtype)


def sigmoid_grad(x: Any) -> np.ndarray:
    """Derivative of the logistic sigmoid, at most 1/4 (at 0).

    .. math:: \\sigma'(x) = \\sigma(x)\\,(1 - \\sigma(x)) = \\frac{e^{-|x|}}{(1 + e^{-|x|})^2}

    The right-hand form has no cancellation and no overflow for any ``x``.

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed (derivative 0).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> sigmoid_grad([0.0, 1e4])
    array([0.25, 0.  ])
    """
    x = as_float_array(x, "x", "sigmoid_grad", allow_inf=True)
    e = np.exp(-np.abs(x))
    return e / ((1 + e) * (1 + e))


def tanh_grad(x: Any) -> np.ndarray:
    """Derivative of tanh.

    .. math:: \\tanh'(x) = 1 - \\tanh^2(x) = \\frac{4 e^{-2|x|}}{(1 + e^{-2|x|})^2}

    The right-hand form keeps full relative accuracy in the tails, where
    ``1 - tanh(x)**2`` rounds to 0 long before the true value does.

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed (derivative 0).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> print(tanh_grad([0.0, 20.0]))
    [1.00000000e+00 1.69934170e-17]
    """
    x = as_float_array(x, "x", "tanh_grad", allow_inf=True)
    e = np.exp(-2 * np.minimum(np.abs(x), 400))  # exp(-800) is already 0
    return 4 * e / ((1 + e) * (1 + e))


# --- GELU --------------------------------------------------------------------------

_TANH_C = np.sqrt(2 / np.pi)  # constants of the tanh approximation of GELU
_TANH_K = 0.044715


def _sigmoid(t: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1 / (1 + e), e / (1 + e))


def _gelu_parts(x: Any, approximate: Any, op: str) -> tuple[np.ndarray, np.ndarray, str]:
    x = as_float_array(x, "x", op, allow_inf=True)
    approximate = check_choice(approximate, "approximate", op, ("none", "tanh"))
    # Beyond |x| = 40 both forms equal their limits (x or 0; slope 1 or 0) in float64.
    return x, np.clip(x.astype(np.float64), -40.0, 40.0), approximate


def gelu(x: Any, approximate: str = "none") -> np.ndarray:
    """Gaussian error linear unit, exact or with the tanh approximation.

    .. math:: \\mathrm{GELU}(x) = x\\,\\Phi(x) = \\frac{x}{2}\\left(1 + \\mathrm{erf}(x/\\sqrt{2})\\right)

    ``approximate="tanh"`` gives ``x * sigmoid(2u)`` with
    ``u = sqrt(2/pi) (x + 0.044715 x^3)``, i.e. ``x/2 (1 + tanh u)`` (GPT-2's
    choice); the two are PyTorch's ``gelu(approximate=...)`` options.

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed.
    approximate : {"none", "tanh"}

    Returns
    -------
    ndarray

    References
    ----------
    .. [1] D. Hendrycks and K. Gimpel, "Gaussian Error Linear Units (GELUs)",
       arXiv:1606.08415, 2016.

    Examples
    --------
    >>> print(gelu([-1.0, 0.0, 1.0]).round(6))
    [-0.158655  0.        0.841345]
    """
    x, xc, approximate = _gelu_parts(x, approximate, "gelu")
    if approximate == "tanh":
        gate = _sigmoid(2 * _TANH_C * (xc + _TANH_K * xc * xc * xc))
    else:
        gate = ndtr_pdf(xc)[0]
    return (np.where(x < -40, 0.0, x) * gate).astype(x.dtype, copy=False)


def gelu_grad(x: Any, approximate: str = "none") -> np.ndarray:
    """Derivative of :func:`gelu`.

    .. math:: \\mathrm{GELU}'(x) = \\Phi(x) + x\\,\\varphi(x), \\qquad
              \\varphi(x) = e^{-x^2/2} / \\sqrt{2\\pi}

    With ``approximate="tanh"``, ``d/dx [x s(2u)] = s(2u) + 2 x s(2u) s(-2u) u'(x)``
    where ``s`` is the sigmoid and ``u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)``.
    Unlike ReLU's, this slope dips below 0: its minimum is at ``x = -sqrt(2)``
    (where ``d/dx [Phi + x phi] = phi (2 - x^2)`` vanishes), about -0.129. (The
    function itself bottoms out near -0.17 at ``x = -0.75``.)

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed.
    approximate : {"none", "tanh"}

    Returns
    -------
    ndarray

    Examples
    --------
    >>> print(gelu_grad([-1.0, 0.0, 1.0]).round(6))
    [-0.083315  0.5       1.083315]
    """
    x, xc, approximate = _gelu_parts(x, approximate, "gelu_grad")
    if approximate == "tanh":
        t = 2 * _TANH_C * (xc + _TANH_K * xc * xc * xc)
        s, s_neg = _sigmoid(t), _sigmoid(-t)
        du = _TANH_C * (1 + 3 * _TANH_K * xc * xc)
        grad = s + 2 * xc * s * s_neg * du
    else:
        cdf, pdf = ndtr_pdf(xc)
        grad = cdf + xc * pdf
    return grad.astype(x.dtype, copy=False)


# --- LayerNorm -------------------------------------------------------------------


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
    e = np.frexp(np.abs(x).max(axis=-1, keepdims=True))[1]
    xs = np.ldexp(x, -e)
    dev = xs - xs.mean(axis=-1, keepdims=True)  # (x - mean) * 2**-e
    std = np.ldexp(np.sqrt((dev * dev).mean(axis=-1, keepdims=True)), e)
    s = np.hypot(std, np.sqrt(x.dtype.type(eps)))
    return np.ldexp(dev, e) / s, s


def layer_norm(x: Any, gamma: Any = None, beta: Any = None, eps: float = 1e-5) -> np.ndarray:
    """Layer normalisation over the last axis.

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
    gamma : array_like, shape (d,)
        The scale used in the forward pass.
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
    """
    op = "layer_norm_backward"
    x, g = _layer_norm_inputs(x, gamma, op)
    dy = as_float_array(dy, "dy", op)
    if dy.shape != x.shape:
        raise ShapeError(f"{op}: argument 'dy' must have the shape of x {x.shape}; got {dy.shape}.")
    eps = check_float(eps, "eps", op, min_value=0.0, min_inclusive=False)
    dtype = float_dtype(x, g, dy)
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
