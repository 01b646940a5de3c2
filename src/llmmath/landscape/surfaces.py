"""Test surfaces for the optimisation lesson (public through :mod:`llmmath.landscape`).

Each surface's formula is written once, with ``+ - *`` only, so that it runs
on floats, NumPy arrays and autograd Tensors alike; its gradient and Hessian
are written out in closed form beside it. The second-order classification of
stationary points lives here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmmath._validation import as_float_array, check_float, check_int, describe
from llmmath.autograd import Tensor
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = [
    "Surface", "quadratic_bowl", "saddle", "rosenbrock", "double_well",
    "CriticalPoint", "hessian_eigenvalues", "classify_point",
]

MAX_COORD = 1e50     # |coordinate| bound: quartic surfaces stay far from float64 overflow
MAX_COORD_32 = 1e6   # the same for float32 (100 x (1e6)^4 = 1e26 < 3.4e38)


# --------------------------------------------------------------------- surfaces

@dataclass(frozen=True, eq=False)
class Surface:
    """A smooth function of two variables with its gradient and Hessian in closed form.

    Lesson: none (a helper of the loss-landscape figures).

    Build one with :func:`quadratic_bowl`, :func:`saddle`, :func:`rosenbrock`
    or :func:`double_well`. Points are arrays whose last axis holds (x, y);
    leading axes are batches. float32 in, float32 out; float64 otherwise.

    Attributes
    ----------
    name : str
    formula : str
        The definition, as text.
    stationary_points : ndarray, shape (k, 2)
        Every point where the gradient vanishes.
    start : ndarray, shape (2,)
        A starting point that shows the surface's character.
    bounds : ndarray, shape (2, 2)
        ``[[x_min, x_max], [y_min, y_max]]``, a window for plots.
    f, grad, hess : callable
        ``f(x, y)``, ``grad(x, y) -> (f_x, f_y)`` and ``hess(x, y) -> (f_xx,
        f_xy, f_yy)``. ``f`` uses only ``+ - *`` and numbers, so it accepts
        floats, arrays and autograd Tensors; a custom surface must keep to that.
    """

    name: str
    formula: str
    stationary_points: np.ndarray
    start: np.ndarray
    bounds: np.ndarray
    f: Callable[[Any, Any], Any] = field(repr=False)             # f(x, y)
    grad: Callable[[Any, Any], tuple] = field(repr=False)        # (df/dx, df/dy)
    hess: Callable[[Any, Any], tuple] = field(repr=False)        # (f_xx, f_xy, f_yy)

    def _xy(self, points: Any, op: str, name: str = "points") -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` from points of shape (..., 2); ``op`` and ``name`` are the caller's."""
        p = as_float_array(points, name, op, min_ndim=1)
        if p.shape[-1] != 2:
            raise ShapeError(f"{op}: argument '{name}' must have a last axis of "
                             f"length 2 (x, y); got shape {p.shape}.")
        limit = MAX_COORD if p.dtype == np.float64 else MAX_COORD_32
        if p.size and float(np.max(np.abs(p))) > limit:
            raise InvalidValueError(f"{op}: argument '{name}' has a coordinate of "
                                    f"size {float(np.max(np.abs(p))):.3g}; expected at most "
                                    f"{limit:g} in absolute value ({p.dtype}).")
        return p[..., 0], p[..., 1]

    def value(self, points: Any) -> np.ndarray:
        """f at each point: shape (..., 2) -> (...)."""
        x, y = self._xy(points, f"{self.name}.value")
        return np.asarray(self.f(x, y) + 0 * x)

    def gradient(self, points: Any) -> np.ndarray:
        """∇f at each point, in closed form: shape (..., 2) -> (..., 2)."""
        return self._gradient(points, f"{self.name}.gradient")

    def _gradient(self, points: Any, op: str, name: str = "points") -> np.ndarray:
        x, y = self._xy(points, op, name)
        gx, gy = np.broadcast_arrays(*(g + 0 * x for g in self.grad(x, y)))
        return np.stack([gx, gy], axis=-1)

    def hessian(self, points: Any) -> np.ndarray:
        """The matrix of second derivatives, in closed form: shape (..., 2) -> (..., 2, 2)."""
        return self._hessian(points, f"{self.name}.hessian")

    def _hessian(self, points: Any, op: str, name: str = "points") -> np.ndarray:
        x, y = self._xy(points, op, name)
        hxx, hxy, hyy = np.broadcast_arrays(*(h + 0 * x for h in self.hess(x, y)))
        return np.stack([np.stack([hxx, hxy], -1), np.stack([hxy, hyy], -1)], -2)

    def tensor_value(self, theta: Any) -> Any:
        """f of a :class:`~llmmath.autograd.Tensor` of shape (2,), differentiable."""
        if not isinstance(theta, Tensor) or theta.shape != (2,):
            raise InvalidTypeError(f"{self.name}.tensor_value: argument 'theta' must be a "
                                   f"Tensor of shape (2,); got {describe(theta)}.")
        return self.f(theta[0], theta[1])

    def grid(self, n: int = 121) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(xs, ys, Z)`` over :attr:`bounds`, ``Z[i, j] = f(xs[j], ys[i])``, for contour plots."""
        n = check_int(n, "n", f"{self.name}.grid", min_value=2, max_value=4000)
        xs = np.linspace(*self.bounds[0], n)
        ys = np.linspace(*self.bounds[1], n)
        X, Y = np.meshgrid(xs, ys)
        return xs, ys, self.value(np.stack([X, Y], axis=-1))


def _arr(rows: Any) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64)


def quadratic_bowl(condition_number: float = 10.0, curvature: float = 1.0) -> Surface:
    r"""A convex quadratic with a chosen condition number.

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    .. math:: f(x, y) = \tfrac{c}{2}\,(x^2 + \kappa\, y^2), \qquad
              \nabla^2 f = \operatorname{diag}(c,\ c\kappa)

    The gradient is L-Lipschitz with L = cκ (the largest eigenvalue), and
    gradient descent with a constant step η converges from every start if and
    only if η < 2/L: along y each step multiplies the coordinate by 1 − ηcκ.

    Parameters
    ----------
    condition_number : float
        κ = L/μ >= 1, the ratio of the largest to the smallest curvature.
    curvature : float
        c > 0, the curvature along x (μ).

    Returns
    -------
    Surface

    References
    ----------
    Y. Nesterov, *Lectures on Convex Optimization*, 2nd ed., Springer, 2018,
    section 2.1 (smooth strongly convex functions).

    Examples
    --------
    >>> from llmmath.landscape import quadratic_bowl
    >>> bowl = quadratic_bowl(condition_number=10.0)
    >>> print(bowl.gradient([1.0, 1.0]), bowl.hessian([0.0, 0.0]).diagonal())
    [ 1. 10.] [ 1. 10.]
    """
    op = "quadratic_bowl"
    k = check_float(condition_number, "condition_number", op, min_value=1.0, max_value=1e12)
    c = check_float(curvature, "curvature", op, min_value=0.0, min_inclusive=False,
                    max_value=1e12)
    return Surface(
        "quadratic_bowl", f"f(x, y) = {c:g}/2 · (x² + {k:g} y²)",
        _arr([[0.0, 0.0]]), _arr([-2.5, 1.5]), _arr([[-3.0, 3.0], [-2.0, 2.0]]),
        f=lambda x, y: (0.5 * c) * (x * x + k * (y * y)),
        grad=lambda x, y: (c * x, (c * k) * y),
        hess=lambda x, y: (c, 0.0, c * k),
    )


def saddle() -> Surface:
    r"""The saddle f(x, y) = x² − y²: a minimum along x, a maximum along y.

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    .. math:: \nabla f = (2x, -2y), \qquad \nabla^2 f = \operatorname{diag}(2, -2)

    The origin is stationary and the Hessian's eigenvalues have opposite signs.
    The surface is unbounded below: gradient descent leaves along ±y.

    Returns
    -------
    Surface

    References
    ----------
    J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer,
    2006, section 2.1 (second-order conditions).

    Examples
    --------
    >>> from llmmath.landscape import saddle
    >>> print(saddle().value([[1.0, 0.0], [0.0, 1.0]]))
    [ 1. -1.]
    """
    return Surface(
        "saddle", "f(x, y) = x² − y²",
        _arr([[0.0, 0.0]]), _arr([1.5, 1e-3]), _arr([[-2.0, 2.0], [-2.0, 2.0]]),
        f=lambda x, y: x * x - y * y,
        grad=lambda x, y: (2.0 * x, -2.0 * y),
        hess=lambda x, y: (2.0, 0.0, -2.0),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    r"""Rosenbrock's banana valley, minimum f = 0 at (a, a²).

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    .. math::
        f = (a - x)^2 + b\,(y - x^2)^2, \quad
        \nabla f = \big(-2(a - x) - 4bx(y - x^2),\ 2b(y - x^2)\big), \\
        \nabla^2 f = \begin{bmatrix} 2 - 4b(y - x^2) + 8bx^2 & -4bx \\ -4bx & 2b \end{bmatrix}

    Parameters
    ----------
    a : float
    b : float
        b > 0; larger b makes the curved valley narrower.

    Returns
    -------
    Surface

    References
    ----------
    H. H. Rosenbrock, "An automatic method for finding the greatest or least
    value of a function", The Computer Journal 3 (1960) 175-184.

    Examples
    --------
    >>> from llmmath.landscape import rosenbrock
    >>> r = rosenbrock()
    >>> print(r.value([1.0, 1.0]), r.gradient([0.0, 0.0]))
    0.0 [-2.  0.]
    """
    a = check_float(a, "a", "rosenbrock", min_value=-1e3, max_value=1e3)
    b = check_float(b, "b", "rosenbrock", min_value=0.0, min_inclusive=False, max_value=1e6)
    return Surface(
        "rosenbrock", f"f(x, y) = ({a:g} − x)² + {b:g} (y − x²)²",
        _arr([[a, a * a]]), _arr([-1.2, 1.0]), _arr([[a - 3.0, a + 1.0], [a * a - 2.0, a * a + 2.0]]),
        f=lambda x, y: (a - x) * (a - x) + b * ((y - x * x) * (y - x * x)),
        grad=lambda x, y: (-2.0 * (a - x) - (4.0 * b) * x * (y - x * x), (2.0 * b) * (y - x * x)),
        hess=lambda x, y: (2.0 - (4.0 * b) * (y - x * x) + (8.0 * b) * (x * x),
                           (-4.0 * b) * x, 2.0 * b),
    )


def double_well() -> Surface:
    r"""Two minima at (±1, 0) with a saddle between them at the origin.

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    .. math::
        f = (x^2 - 1)^2 + y^2, \quad \nabla f = \big(4x(x^2 - 1),\ 2y\big), \quad
        \nabla^2 f = \operatorname{diag}(12x^2 - 4,\ 2)

    At the origin the Hessian is diag(−4, 2): a saddle. Gradient descent
    started exactly on the line x = 0 never leaves it and stops at the saddle.

    Returns
    -------
    Surface

    Examples
    --------
    >>> from llmmath.landscape import double_well
    >>> print(double_well().hessian([0.0, 0.0]))
    [[-4.  0.]
     [ 0.  2.]]
    """
    return Surface(
        "double_well", "f(x, y) = (x² − 1)² + y²",
        _arr([[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]]), _arr([0.0, 1.2]),
        _arr([[-1.8, 1.8], [-1.4, 1.4]]),
        f=lambda x, y: (x * x - 1.0) * (x * x - 1.0) + y * y,
        grad=lambda x, y: (4.0 * x * (x * x - 1.0), 2.0 * y),
        hess=lambda x, y: (12.0 * (x * x) - 4.0, 0.0, 2.0),
    )


# ------------------------------------------------------------------- curvature

@dataclass(frozen=True)
class CriticalPoint:
    """What the first and second derivatives say about one point.

    Lesson: none (a helper of the loss-landscape figures).
    """

    point: np.ndarray        # (2,)
    gradient: np.ndarray     # (2,)
    eigenvalues: np.ndarray  # (2,) of the Hessian, ascending
    kind: str                # "minimum", "maximum", "saddle", "degenerate" or "not stationary"


def hessian_eigenvalues(surface: Surface, points: Any) -> np.ndarray:
    r"""Eigenvalues of the Hessian at each point, ascending: shape (..., 2) -> (..., 2).

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    For a symmetric 2 × 2 matrix [[a, b], [b, d]] they are
    (a + d)/2 ∓ √(((a − d)/2)² + b²).

    Parameters
    ----------
    surface : Surface
    points : array_like, shape (..., 2)

    Returns
    -------
    ndarray

    Examples
    --------
    >>> from llmmath.landscape import hessian_eigenvalues, rosenbrock
    >>> [round(float(v), 4) for v in hessian_eigenvalues(rosenbrock(), [1.0, 1.0])]
    [0.3994, 1001.6006]
    """
    if not isinstance(surface, Surface):
        raise InvalidTypeError(f"hessian_eigenvalues: argument 'surface' must be a Surface; got "
                               f"{describe(surface)}.")
    return np.linalg.eigvalsh(surface._hessian(points, "hessian_eigenvalues"))


def classify_point(surface: Surface, point: Any, atol: float = 1e-8) -> CriticalPoint:
    r"""Classify a point by the second-order conditions.

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    Stationary when ‖∇f‖ <= ``atol``; then, with λ₁ <= λ₂ the Hessian's
    eigenvalues: a minimum if λ₁ > atol, a maximum if λ₂ < −atol, a saddle if
    λ₁ < −atol < atol < λ₂ (curving up one way and down another), and
    degenerate otherwise (a zero eigenvalue: the second derivative cannot tell).

    Parameters
    ----------
    surface : Surface
    point : array_like, shape (2,)
    atol : float
        > 0, the tolerance for "zero".

    Returns
    -------
    CriticalPoint

    References
    ----------
    J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd ed., Springer,
    2006, theorems 2.3 and 2.4.

    Examples
    --------
    >>> from llmmath.landscape import classify_point, double_well
    >>> [classify_point(double_well(), p).kind for p in ([0, 0], [1, 0], [0.5, 0])]
    ['saddle', 'minimum', 'not stationary']
    """
    op = "classify_point"
    if not isinstance(surface, Surface):
        raise InvalidTypeError(f"{op}: argument 'surface' must be a Surface; got "
                               f"{describe(surface)}.")
    p = as_float_array(point, "point", op, dtype=np.float64)
    if p.shape != (2,):
        raise ShapeError(f"{op}: argument 'point' must have shape (2,); got {p.shape}.")
    tol = check_float(atol, "atol", op, min_value=0.0, min_inclusive=False)
    g = surface._gradient(p, op, "point")
    lam = np.linalg.eigvalsh(surface._hessian(p, op, "point"))
    if np.linalg.norm(g) > tol:
        kind = "not stationary"
    elif lam[0] > tol:
        kind = "minimum"
    elif lam[1] < -tol:
        kind = "maximum"
    elif lam[0] < -tol and lam[1] > tol:
        kind = "saddle"
    else:
        kind = "degenerate"
    return CriticalPoint(p, g, lam, kind)
