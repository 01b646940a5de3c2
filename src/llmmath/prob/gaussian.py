"""Gaussian models: the normal density, ridge regression and its Bayesian reading.

Behind :mod:`llmmath.prob`; import these from there. Weight decay is the
Bayesian statement "the weights are probably small": with a Gaussian prior
``w ~ N(0, s_p^2 I)`` and Gaussian noise ``y ~ N(X w, s^2 I)``,

    -log p(w | X, y) = ||y - X w||^2 / (2 s^2) + ||w||^2 / (2 s_p^2) + const
                     = (||y - X w||^2 + lam ||w||^2) / (2 s^2) + const,

with ``lam = s^2 / s_p^2``: the most probable weights (MAP) are the ridge
(L2-penalised least-squares) weights. :func:`linear_gaussian_posterior`
computes the posterior from the Bayesian side, :func:`ridge_regression` the
penalised fit from the optimisation side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._numerics import pow2_scale
from llmmath._validation import as_float_array, check_float
from llmmath.errors import InvalidValueError, ShapeError

# LinearGaussianPosterior, the result type, is importable but not listed.
__all__ = [
    "normal_logpdf",
    "normal_pdf",
    "ridge_regression",
    "linear_gaussian_posterior",
]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _normal_args(x: Any, mean: Any, std: Any, op: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.dtype]:
    """Validated, broadcast ``x``, ``mean`` and ``std``, and the output dtype."""
    xa = as_float_array(x, "x", op, allow_inf=True)
    mu = as_float_array(mean, "mean", op)
    sd = as_float_array(std, "std", op)
    if sd.size and (sd <= 0).any():
        raise InvalidValueError(
            f"{op}: argument 'std' must be > 0; got {float(sd.min())}. A normal distribution "
            "needs a positive standard deviation."
        )
    try:
        shape = np.broadcast_shapes(xa.shape, mu.shape, sd.shape)
    except ValueError:
        raise ShapeError(
            f"{op}: arguments 'x', 'mean' and 'std' do not broadcast; got shapes {xa.shape}, "
            f"{mu.shape} and {sd.shape}."
        ) from None
    # float32 in, float32 out: plain Python numbers for mean/std do not force float64
    weak = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in (mean, std)]
    single = xa.dtype == np.float32 and all(
        w or a.dtype == np.float32 for w, a in zip(weak, (mu, sd), strict=True))
    dtype = np.dtype(np.float32 if single else np.float64)
    f64 = np.float64
    return (np.broadcast_to(xa.astype(f64), shape), np.broadcast_to(mu.astype(f64), shape),
            np.broadcast_to(sd.astype(f64), shape), dtype)


def normal_logpdf(x: Any, mean: Any = 0.0, std: Any = 1.0) -> np.ndarray:
    """Log-density of the normal distribution ``N(mean, std^2)``.

    Lesson: ``bayes`` (Bayes' rule in training).

    ``log N(x; mu, s^2) = -(x - mu)^2 / (2 s^2) - log s - log(2 pi) / 2``,
    evaluated as ``-z^2 / 2 - log s - log(2 pi) / 2`` with ``z = (x - mu) / s``,
    so it stays finite where the density itself underflows to 0. ``x = ±inf``
    gives ``-inf``.

    Parameters
    ----------
    x : array_like
        Where to evaluate (infinities allowed).
    mean : array_like, optional
        ``mu``, finite; broadcast against ``x``. Default 0.
    std : array_like, optional
        ``s > 0``, finite; broadcast against ``x``. Default 1.

    Returns
    -------
    ndarray
        The broadcast shape; float32 when ``x`` is float32 (and ``mean``/``std``
        are Python numbers or float32), float64 otherwise.

    Raises
    ------
    ValueError
        NaN anywhere, infinite ``mean`` or ``std``, ``std <= 0``, shapes that
        do not broadcast.

    See Also
    --------
    normal_pdf, gaussian_mle, scipy.stats.norm.logpdf

    References
    ----------
    J. K. Blitzstein and J. Hwang, *Introduction to Probability*, 2nd ed., CRC
    Press, 2019, §5.4 (the normal distribution).

    Examples
    --------
    >>> from llmmath.prob import normal_logpdf
    >>> print(round(float(normal_logpdf(0.0)), 6))  # -log(2 pi) / 2
    -0.918939
    >>> print(normal_logpdf([1.0, 3.0], mean=1.0, std=2.0).round(4))
    [-1.6121 -2.1121]
    """
    return _logpdf(x, mean, std, "normal_logpdf")


def _logpdf(x: Any, mean: Any, std: Any, op: str) -> np.ndarray:
    xa, mu, sd, dtype = _normal_args(x, mean, std, op)
    # |x - mu| / s beyond the float range is inf, and -inf is the exact log-density there
    with np.errstate(over="ignore"):
        z = (xa - mu) / sd
        out = -0.5 * (z * z) - np.log(sd) - _HALF_LOG_2PI
    return np.asarray(out, dtype=dtype)


def normal_pdf(x: Any, mean: Any = 0.0, std: Any = 1.0) -> np.ndarray:
    """Density of the normal distribution ``N(mean, std^2)``.

    Lesson: ``random_variables`` (Random variables, expectation and variance).

    ``N(x; mu, s^2) = exp(-(x - mu)^2 / (2 s^2)) / (s sqrt(2 pi))``, computed as
    ``exp(normal_logpdf(x, mean, std))``: no overflow for a tiny ``s``, and 0
    (not a warning) far in the tails.

    Parameters
    ----------
    x, mean, std : array_like
        As in :func:`normal_logpdf`.

    Returns
    -------
    ndarray
        Non-negative densities, the broadcast shape.

    Raises
    ------
    ValueError
        As :func:`normal_logpdf`.

    See Also
    --------
    normal_logpdf, scipy.stats.norm.pdf

    References
    ----------
    Blitzstein and Hwang, *Introduction to Probability*, 2nd ed., §5.4.

    Examples
    --------
    >>> from llmmath.prob import normal_pdf
    >>> print(round(float(normal_pdf(0.0)), 6))  # 1 / sqrt(2 pi)
    0.398942
    >>> print(normal_pdf([-1.0, 1.0]).round(6))  # symmetric about the mean
    [0.241971 0.241971]
    """
    lp = _logpdf(x, mean, std, "normal_pdf")
    with np.errstate(over="ignore"):  # a density above the float range (std ~ 1e-310) is inf
        return np.exp(lp)


def _design(X: Any, y: Any, op: str) -> tuple[np.ndarray, np.ndarray]:
    """A finite ``(n, d)`` design matrix and finite targets ``(n,)`` or ``(n, k)``."""
    Xa = as_float_array(X, "X", op, ndim=2).astype(np.float64)
    ya = as_float_array(y, "y", op, ndim=(1, 2)).astype(np.float64)
    if Xa.shape[0] == 0 or Xa.shape[1] == 0:
        raise ShapeError(f"{op}: argument 'X' must have at least one row and one column; got "
                         f"shape {Xa.shape}.")
    if ya.shape[0] != Xa.shape[0]:
        raise ShapeError(f"{op}: 'X' has {Xa.shape[0]} rows but 'y' has {ya.shape[0]} entries "
                         f"(shape {ya.shape}); expected one target per row of X.")
    if ya.ndim == 2 and ya.shape[1] == 0:
        raise ShapeError(f"{op}: argument 'y' has no target columns (shape {ya.shape}).")
    return Xa, ya


def _shrunk_solution(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """``V diag(s / (s^2 + lam)) U^T y`` from the thin SVD of ``X``, with scaling.

    ``X`` and ``y`` are divided by powers of two first (exact), so no square or
    sum overflows; ``s / (s^2 + lam)`` is written ``1 / (s + lam / s)``, whose
    only overflow (``lam / s`` for a tiny ``s``) gives the exact limit 0. A
    singular value below ``s_max * max(n, d) * eps`` counts as zero and
    contributes 0 (the minimum-norm solution when ``lam = 0``, as ``lstsq``).
    """
    cx, cy = pow2_scale(X), pow2_scale(y)
    U, s, Vt = np.linalg.svd(X / cx, full_matrices=False)           # (n, r), (r,), (r, d)
    lam_s = lam / (cx * cx)                                         # penalty in the scaled units
    # singular values below rounding level count as 0 (the cutoff of numpy.linalg.lstsq)
    live = s > s[0] * max(X.shape) * np.finfo(np.float64).eps
    safe = np.where(live, s, 1.0)
    with np.errstate(over="ignore"):
        f = np.where(live, 1.0 / (safe + lam_s / safe), 0.0)       # (r,)
    uty = U.T @ (y / cy)                                            # (r,) or (r, k)
    coef = (f[:, None] * uty) if uty.ndim == 2 else f * uty
    w = Vt.T @ coef                                                 # (d,) or (d, k)
    with np.errstate(over="ignore"):  # a weight beyond the float range is inf
        return w * (cy / cx)


def ridge_regression(X: Any, y: Any, lam: float) -> np.ndarray:
    """L2-penalised least squares (ridge regression, weight decay in the loss).

    Lesson: ``bayes`` (Bayes' rule in training).

    ``w = argmin_w ||y - X w||^2 + lam ||w||^2 = (X^T X + lam I)^{-1} X^T y``.
    Computed from the singular value decomposition ``X = U S V^T`` as
    ``w = V diag(s_i / (s_i^2 + lam)) U^T y``, which never forms ``X^T X`` (whose
    condition number is the square of ``X``'s). With ``lam = 0`` this is the
    minimum-norm least-squares solution (singular values below
    ``s_max * max(n, d) * eps`` count as zero, as in ``numpy.linalg.lstsq``). No intercept is fitted: add a column
    of ones to ``X`` (it is then penalised too).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Finite design matrix, ``n >= 1`` rows, ``d >= 1`` columns.
    y : array_like, shape (n,) or (n, k)
        Finite targets (``k`` independent problems share ``X``).
    lam : float
        The penalty ``lam >= 0``.

    Returns
    -------
    ndarray, shape (d,) or (d, k)
        The weights.

    Raises
    ------
    ValueError
        Non-finite entries, ``lam < 0``, shapes that do not fit.

    See Also
    --------
    linear_gaussian_posterior : the same weights as a MAP estimate.

    References
    ----------
    A. E. Hoerl and R. W. Kennard, "Ridge regression: biased estimation for
    nonorthogonal problems", Technometrics 12 (1970) 55-67. T. Hastie, R.
    Tibshirani and J. Friedman, *The Elements of Statistical Learning*, 2nd ed.,
    Springer, 2009, §3.4.1 (eq. 3.47, the SVD form).

    Examples
    --------
    >>> from llmmath.prob import ridge_regression
    >>> X = np.array([[1.0], [2.0], [3.0]])
    >>> y = np.array([2.0, 4.0, 6.0])
    >>> print(ridge_regression(X, y, lam=0.0).round(6))   # exact fit: slope 2
    [2.]
    >>> print(ridge_regression(X, y, lam=14.0).round(6))  # 28 / (14 + 14): shrunk to 1
    [1.]
    """
    op = "ridge_regression"
    Xa, ya = _design(X, y, op)
    lam = check_float(lam, "lam", op, min_value=0.0)
    return _shrunk_solution(Xa, ya, lam)


@dataclass(frozen=True)
class LinearGaussianPosterior:
    """Posterior of a linear-Gaussian model (see :func:`linear_gaussian_posterior`).

    ``mean`` is also the posterior mode: the MAP weights. ``cov`` is the
    posterior covariance (shared by every target column). ``ridge_lambda`` is
    the penalty ``noise_std^2 / prior_std^2`` for which :func:`ridge_regression`
    returns ``mean``.
    """

    mean: np.ndarray          # (d,) or (d, k): posterior mean = MAP weights
    cov: np.ndarray           # (d, d)
    ridge_lambda: float
    noise_std: float
    prior_std: float


def linear_gaussian_posterior(X: Any, y: Any, noise_std: float,
                              prior_std: float) -> LinearGaussianPosterior:
    """Bayesian linear regression with a zero-mean Gaussian prior on the weights.

    Lesson: ``bayes`` (Bayes' rule in training).

    Model: ``w ~ N(0, prior_std^2 I)`` and ``y | w ~ N(X w, noise_std^2 I)``.
    The posterior is Gaussian with precision ``A = X^T X / s^2 + I / s_p^2``,
    covariance ``A^{-1}`` and mean ``A^{-1} X^T y / s^2`` (``s = noise_std``,
    ``s_p = prior_std``). A Gaussian's mean is its mode, so the mean is the MAP
    estimate, and multiplying ``A`` by ``s^2`` shows it equals
    ``ridge_regression(X, y, lam=s^2 / s_p^2)``: weight decay is a Gaussian prior.
    Computed from the full SVD of ``X``: ``A = V diag(s_i^2 / s^2 + 1 / s_p^2) V^T``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Finite design matrix.
    y : array_like, shape (n,) or (n, k)
        Finite targets.
    noise_std : float
        ``s > 0``: the standard deviation of the observation noise.
    prior_std : float
        ``s_p > 0``: the prior standard deviation of each weight.

    Returns
    -------
    LinearGaussianPosterior
        Frozen dataclass with ``mean`` (the MAP weights), ``cov``,
        ``ridge_lambda``, ``noise_std`` and ``prior_std``.

    Raises
    ------
    ValueError
        Non-finite entries, a non-positive standard deviation, shapes that do
        not fit.

    See Also
    --------
    ridge_regression, bayes_posterior, normal_logpdf

    References
    ----------
    C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006,
    §3.3.1 (eqs. 3.53-3.55: the posterior, and its mode as the regularised
    least-squares solution with lambda = alpha / beta).

    Examples
    --------
    >>> from llmmath.prob import linear_gaussian_posterior, ridge_regression
    >>> X = np.array([[1.0], [2.0], [3.0]])
    >>> y = np.array([2.0, 4.0, 6.0])
    >>> post = linear_gaussian_posterior(X, y, noise_std=1.0, prior_std=0.5)
    >>> print(post.ridge_lambda, post.mean.round(6), post.cov.round(6))
    4.0 [1.555556] [[0.055556]]
    >>> print(ridge_regression(X, y, lam=post.ridge_lambda).round(6))
    [1.555556]
    """
    op = "linear_gaussian_posterior"
    Xa, ya = _design(X, y, op)
    s = check_float(noise_std, "noise_std", op, min_value=0.0, min_inclusive=False)
    sp = check_float(prior_std, "prior_std", op, min_value=0.0, min_inclusive=False)
    with np.errstate(over="ignore", under="ignore"):
        ratio = np.float64(s) / np.float64(sp)
        lam = ratio * ratio          # beyond the float range: inf, the prior pins w at 0
    d = Xa.shape[1]
    mean = np.zeros((d,) + ya.shape[1:]) if math.isinf(lam) else _shrunk_solution(Xa, ya, lam)
    # covariance: V diag(1 / (s_i^2 / s^2 + 1 / s_p^2)) V^T, with s_i = 0 past the rank
    cx = pow2_scale(Xa)
    _, sv, Vt = np.linalg.svd(Xa / cx, full_matrices=True)          # Vt: (d, d)
    sing = np.zeros(d)
    sing[: len(sv)] = sv
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        # each term of the precision may overflow to inf (variance 0, the exact limit)
        # or underflow to 0; both 0 only when the prior variance is beyond the float range
        t = (sing / s) * cx                                         # s_i / s, unscaled
        var = 1.0 / (t * t + 1.0 / np.square(np.float64(sp)))
    if not np.isfinite(var).all():
        raise InvalidValueError(
            f"{op}: the posterior covariance is beyond the float range (argument 'prior_std' = "
            f"{sp!r} with a design matrix 'X' that leaves some direction unconstrained); use a "
            "smaller prior_std."
        )
    cov = (Vt.T * var) @ Vt
    cov = 0.5 * (cov + cov.T)                                       # exactly symmetric
    return LinearGaussianPosterior(mean=mean, cov=cov, ridge_lambda=float(lam),
                                   noise_std=s, prior_std=sp)
