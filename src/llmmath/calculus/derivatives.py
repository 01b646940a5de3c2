"""Numerical derivatives: central differences and difference quotients.

:func:`numerical_gradient` and :func:`jacobian` estimate a derivative from
function values alone, by central differences; one private core,
``_central_differences``, serves both (and :mod:`llmmath.autograd.gradcheck`
calls :func:`numerical_gradient`). :func:`difference_quotient` shows the
derivative before the limit: the slope of a forward, backward or central
secant of a function of one variable. Every analytic gradient of
:mod:`llmmath.calculus` is tested against these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from llmmath._validation import (
    as_float_array,
    check_allocation,
    check_callable,
    check_choice,
    check_float,
    describe,
)
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = ["numerical_gradient", "jacobian", "difference_quotient"]


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
    check_allocation(x.shape + (out_shape or ()), ("x", "f"), op,
                     what="derivatives (one per input and output)")
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

    Lessons: ``derivatives`` (Derivatives, gradients and the chain rule); ``backprop``
    (Backpropagation); ``cross_entropy_grad`` (The cross-entropy + softmax gradient); ``layernorm``
    (LayerNorm and its gradient); ``rmsnorm_swiglu`` (RMSNorm and SwiGLU); ``tensors`` (NumPy,
    PyTorch and llmmath side by side).

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

    Lesson: ``softmax_jacobian`` (The softmax Jacobian).

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

    Lessons: ``derivatives`` (Derivatives, gradients and the chain rule); ``activations`` (ReLU,
    sigmoid and vanishing gradients).

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
        raise InvalidValueError(f"{op}: the difference quotient of 'f' at 'x' overflows the "
                                "float range; use a larger step 'h' or rescale 'f'.")
    return out
