"""Estimation: maximum likelihood, Bayes' rule, moments (behind :mod:`llmmath.prob`).

Import these from :mod:`llmmath.prob`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._numerics import pow2_scale, pow2_split
from llmmath._validation import (
    as_float_array,
    as_int_array,
    check_axis,
    check_distribution,
    check_float,
    ensure_no_nan,
)
from llmmath.errors import InvalidValueError, ShapeError
from llmmath.prob.softmax import softmax

# GaussianFit, the result type of gaussian_mle, is importable but not listed.
__all__ = [
    "categorical_mle",
    "gaussian_mle",
    "bayes_posterior",
    "expectation",
    "variance",
    "categorical_log_likelihood",
]


@dataclass(frozen=True)
class GaussianFit:
    """Maximum-likelihood fit of a normal distribution (see :func:`gaussian_mle`)."""

    mean: float | np.ndarray
    variance: float | np.ndarray   # the 1/N (biased) MLE
    std: float | np.ndarray
    n: int


def categorical_mle(counts: Any, axis: int = -1, alpha: float = 0.0) -> np.ndarray:
    """Maximum-likelihood (or additively smoothed) categorical probabilities.

    Lesson: ``mle`` (The chain rule of probability and MLE).

    Maximising ``sum_i c_i log p_i`` subject to ``sum_i p_i = 1`` (a Lagrange
    multiplier) gives ``p_i = c_i / sum_j c_j``: the relative frequencies. With
    ``alpha > 0`` the estimate is ``(c_i + alpha) / (sum_j c_j + K alpha)``
    (Laplace smoothing for ``alpha = 1``), the posterior mean under a symmetric
    Dirichlet(alpha) prior, which never assigns probability 0.

    Parameters
    ----------
    counts : array_like
        Non-negative counts (fractional counts allowed), outcomes along ``axis``.
    axis : int, optional
        The outcome axis. Default -1.
    alpha : float, optional
        Pseudo-count added to every outcome, ``alpha >= 0``. Default 0.

    Returns
    -------
    ndarray
        Probabilities, same shape as ``counts``.

    Raises
    ------
    ValueError
        Negative or non-finite counts, or (with ``alpha = 0``) a distribution
        whose counts are all zero.

    References
    ----------
    K. P. Murphy, *Probabilistic Machine Learning: An Introduction*, MIT Press,
    2022, chapter 4 (the categorical MLE and the Dirichlet-categorical model).

    Examples
    --------
    >>> from llmmath.prob import categorical_mle
    >>> print(categorical_mle([3, 1, 0, 4]))
    [0.375 0.125 0.    0.5  ]
    >>> print(categorical_mle([3, 1, 0, 4], alpha=1.0).round(4))
    [0.3333 0.1667 0.0833 0.4167]
    """
    op = "categorical_mle"
    c = as_float_array(counts, "counts", op, min_ndim=1)
    ax = check_axis(axis, c.ndim, "axis", op)
    a = check_float(alpha, "alpha", op, min_value=0.0)
    if c.shape[ax] == 0:
        raise InvalidValueError(f"{op}: argument 'counts' has no outcomes along axis {axis} (shape {c.shape}).")
    if c.size and (c < 0).any():
        raise InvalidValueError(f"{op}: argument 'counts' has a negative entry {float(c.min())}; expected counts >= 0.")
    # divide counts and alpha by one power of two first: sums of counts near
    # the float limit cannot overflow, and the ratios are unchanged
    s = pow2_scale(np.append(c.reshape(-1), a))
    c = c / s + a / s
    total = c.sum(axis=ax, keepdims=True)
    if c.size and (total == 0).any():
        raise InvalidValueError(
            f"{op}: argument 'counts' has a distribution whose counts are all zero; the "
            "MLE is undefined. Pass alpha > 0 to smooth, or drop that row."
        )
    return c / total


def gaussian_mle(x: Any, axis: int | None = None) -> GaussianFit:
    """Maximum-likelihood estimates of a normal distribution's mean and variance.

    Lesson: none (a utility beside the probability functions).

    Setting the derivatives of ``sum_i log N(x_i; mu, s^2)`` to zero gives
    ``mu = (1/N) sum_i x_i`` and ``s^2 = (1/N) sum_i (x_i - mu)^2``. The variance
    divides by ``N`` (the MLE, biased low by the factor ``(N-1)/N``), not by
    ``N - 1``.

    Parameters
    ----------
    x : array_like
        Finite observations, at least one.
    axis : int or None, optional
        The axis of observations; ``None`` uses every element. Default None.

    Returns
    -------
    GaussianFit
        Frozen dataclass with ``mean``, ``variance`` (1/N), ``std`` and ``n``;
        floats for ``axis=None``, arrays otherwise. A variance beyond the float
        range is ``inf``.

    Raises
    ------
    ValueError
        Empty input, NaN or infinity.

    References
    ----------
    C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer, 2006,
    §2.3.4 (eqs. 2.121-2.122 and the bias of the variance).

    Examples
    --------
    >>> from llmmath.prob import gaussian_mle
    >>> fit = gaussian_mle([1.0, 2.0, 3.0, 6.0])
    >>> print(fit.mean, fit.variance)
    3.0 3.5
    """
    op = "gaussian_mle"
    arr = as_float_array(x, "x", op, allow_empty=False)
    if axis is None:
        arr, ax = arr.reshape(-1), 0
    else:
        if arr.ndim == 0:
            arr = arr.reshape(1)
        ax = check_axis(axis, arr.ndim, "axis", op)
        if arr.shape[ax] == 0:
            raise InvalidValueError(f"{op}: argument 'x' has no observations along axis {axis}.")
    # Each slice of observations is divided by a power of two near its largest
    # |entry| (exact), so neither 1e308 (overflow) nor 1e-200 (underflow of the
    # squares) next to it in another slice can spoil its mean or variance.
    y, e = pow2_split(arr, axis=ax)                  # |y| < 1 along ax
    mean_y = y.mean(axis=ax, keepdims=True)
    var_y = ((y - mean_y) ** 2).mean(axis=ax, keepdims=True)
    with np.errstate(over="ignore"):                 # a true variance beyond float range is inf
        mean = np.squeeze(np.ldexp(mean_y, e), axis=ax)
        var = np.squeeze(np.ldexp(var_y, 2 * e), axis=ax)
    std = np.sqrt(var)
    if axis is None:
        return GaussianFit(float(mean), float(var), float(std), int(arr.shape[0]))
    return GaussianFit(mean, var, std, int(arr.shape[ax]))


def bayes_posterior(prior: Any, likelihood: Any, axis: int = -1) -> np.ndarray:
    """Bayes' rule over a discrete set of hypotheses.

    Lesson: ``bayes`` (Bayes' rule in training).

    ``P(h | D) = P(D | h) P(h) / sum_h' P(D | h') P(h')``. The likelihood is
    first divided by its largest value (the posterior ignores a common factor),
    so ``1e300`` does not overflow; where the evidence would still underflow,
    the posterior is taken in log space, as a :func:`softmax` of
    ``log prior + log likelihood``.

    Parameters
    ----------
    prior : array_like
        A distribution over hypotheses along ``axis`` (non-negative, sums to 1).
    likelihood : array_like
        ``P(D | h)`` for each hypothesis: non-negative and finite; broadcast
        against ``prior``.
    axis : int, optional
        The hypothesis axis. Default -1.

    Returns
    -------
    ndarray
        The posterior, broadcast shape of the inputs.

    Raises
    ------
    ValueError
        A prior that is not a distribution, a negative or non-finite
        likelihood, shapes that do not broadcast, or zero evidence
        (``sum_h P(D | h) P(h) = 0``: the data are impossible under the prior).

    References
    ----------
    J. K. Blitzstein and J. Hwang, *Introduction to Probability*, 2nd ed., CRC
    Press, 2019, Theorem 2.3.3 and the law of total probability.

    Examples
    --------
    >>> from llmmath.prob import bayes_posterior
    >>> # a test with 99% sensitivity and 95% specificity, 1% prevalence
    >>> post = bayes_posterior([0.01, 0.99], [0.99, 0.05])
    >>> print(post.round(4))
    [0.1667 0.8333]
    """
    op = "bayes_posterior"
    pri = check_distribution(prior, "prior", op, axis=axis)
    lik = as_float_array(likelihood, "likelihood", op)
    if lik.size and (lik < 0).any():
        raise InvalidValueError(f"{op}: argument 'likelihood' has a negative entry {float(lik.min())}; expected values >= 0.")
    try:
        shape = np.broadcast_shapes(pri.shape, lik.shape)
    except ValueError:
        raise ShapeError(
            f"{op}: arguments 'prior' and 'likelihood' do not broadcast; got shapes "
            f"{pri.shape} and {lik.shape}."
        ) from None
    ax = check_axis(axis, len(shape), "axis", op)
    pri_ax = check_axis(axis, pri.ndim, "axis", op) + len(shape) - pri.ndim  # where it lands
    if pri_ax != ax or pri.shape[ax - len(shape) + pri.ndim] != shape[ax]:
        raise ShapeError(
            f"{op}: argument 'likelihood' of shape {lik.shape} must give one value per "
            f"hypothesis of 'prior' {pri.shape} along axis {axis}; broadcasting them gives "
            f"{shape}."
        )
    pri_b = np.broadcast_to(pri, shape).astype(np.float64)
    lik_b = np.broadcast_to(lik, shape).astype(np.float64)
    # Rescale the likelihood by its maximum (the posterior ignores a common
    # factor): no overflow for 1e300, and full precision in the usual case.
    top = lik_b.max(axis=ax, keepdims=True)
    joint = pri_b * (lik_b / np.where(top > 0, top, 1.0))
    evidence = joint.sum(axis=ax, keepdims=True)
    post = joint / np.where(evidence > 0, evidence, 1.0)
    weak = evidence < 1e-250                              # underflow risk: redo in log space
    if weak.any():
        log_joint = np.full(shape, -np.inf)               # log 0 = -inf: ruled out
        np.log(pri_b, out=log_joint, where=pri_b > 0)
        log_lik = np.full(shape, -np.inf)
        np.log(lik_b, out=log_lik, where=lik_b > 0)
        log_joint += log_lik                              # -inf + -inf = -inf, never NaN
        if np.isneginf(log_joint).all(axis=ax).any():
            raise InvalidValueError(
                f"{op}: the evidence sum_h P(D|h) P(h) is zero for some slice along axis "
                f"{axis}: every hypothesis to which argument 'prior' gives mass has "
                "'likelihood' 0, so Bayes' rule is undefined; expected some overlap."
            )
        post = np.where(weak, softmax(log_joint, axis=ax), post)
    dtype = np.float32 if pri.dtype == lik.dtype == np.float32 else np.float64
    return post.astype(dtype)


def _values_and_probs(values: Any, probs: Any, axis: int, op: str) -> tuple[np.ndarray, np.ndarray, int]:
    p = check_distribution(probs, "probs", op, axis=axis)
    v = as_float_array(values, "values", op)
    try:
        shape = np.broadcast_shapes(v.shape, p.shape)
    except ValueError:
        raise ShapeError(
            f"{op}: arguments 'values' and 'probs' do not broadcast; got shapes {v.shape} and {p.shape}."
        ) from None
    if shape != p.shape:  # stretching probs must still leave distributions along axis
        p = check_distribution(np.broadcast_to(p, shape), "probs", op, axis=axis)
    return np.broadcast_to(v, shape), p, check_axis(axis, len(shape), "axis", op)


def expectation(values: Any, probs: Any, axis: int = -1) -> np.ndarray:
    """Expected value of a discrete random variable: ``E[X] = sum_i p_i x_i``.

    Lesson: ``random_variables`` (Random variables, expectation and variance).

    Parameters
    ----------
    values : array_like
        The values ``x_i`` (finite), broadcastable to the shape of ``probs``.
    probs : array_like
        Their probabilities ``p_i`` along ``axis``.
    axis : int, optional
        The outcome axis. Default -1.

    Returns
    -------
    ndarray
        ``probs`` with ``axis`` reduced (0-d for one distribution).

    Raises
    ------
    ValueError
        ``probs`` not a distribution, non-finite values, shapes that do not fit.

    See Also
    --------
    variance

    References
    ----------
    Blitzstein and Hwang, *Introduction to Probability*, 2nd ed., Definition 4.1.1.

    Examples
    --------
    >>> from llmmath.prob import expectation
    >>> die = np.arange(1, 7)
    >>> print(expectation(die, np.full(6, 1 / 6)).round(6))
    3.5
    """
    v, p, ax = _values_and_probs(values, probs, axis, "expectation")
    y, e = pow2_split(v, axis=ax)     # per distribution: exact, |y| < 1
    with np.errstate(over="ignore"):  # only a result beyond the float range overflows
        out = np.squeeze(np.ldexp((p * y).sum(axis=ax, keepdims=True), e), axis=ax)
    return ensure_no_nan(np.asarray(out), "expectation")


def variance(values: Any, probs: Any, axis: int = -1) -> np.ndarray:
    """Variance of a discrete random variable: ``Var[X] = sum_i p_i (x_i - E[X])^2``.

    Lesson: ``random_variables`` (Random variables, expectation and variance).

    Computed around the mean (two passes) rather than as ``E[X^2] - E[X]^2``,
    which cancels catastrophically when the mean is large compared with the
    spread.

    Parameters
    ----------
    values, probs, axis
        As in :func:`expectation`.

    Returns
    -------
    ndarray
        Non-negative, ``probs`` with ``axis`` reduced.

    Raises
    ------
    ValueError
        As :func:`expectation`.

    See Also
    --------
    expectation

    References
    ----------
    Blitzstein and Hwang, *Introduction to Probability*, 2nd ed., Definition 4.6.1.

    Examples
    --------
    >>> from llmmath.prob import variance
    >>> print(variance(np.arange(1, 7), np.full(6, 1 / 6)).round(6))  # 35/12
    2.916667
    """
    v, p, ax = _values_and_probs(values, probs, axis, "variance")
    y, e = pow2_split(v, axis=ax)     # per distribution: exact, |y| < 1
    mean = (p * y).sum(axis=ax, keepdims=True)
    with np.errstate(over="ignore"):  # a variance beyond the float range is inf
        out = np.squeeze(np.ldexp((p * (y - mean) ** 2).sum(axis=ax, keepdims=True), 2 * e),
                         axis=ax)
    return ensure_no_nan(np.asarray(out), "variance")


def categorical_log_likelihood(probs: Any, observations: Any) -> float:
    """Log-likelihood of observed categories: ``sum_t log p_t[x_t]``.

    Lesson: ``mle`` (The chain rule of probability and MLE).

    With one distribution ``probs`` of shape ``(K,)`` the observations are i.i.d.
    draws from it. With ``probs`` of shape ``(N, K)`` row ``t`` is the
    distribution of observation ``t`` given what came before, and the sum is
    the log-probability of the whole sequence by the chain rule of probability,
    ``log P(x_1..x_N) = sum_t log P(x_t | x_<t)``. Its negative divided by ``N``
    is the cross-entropy training loss.

    Parameters
    ----------
    probs : array_like
        Shape ``(K,)`` or ``(N, K)``: distributions over ``K`` categories.
    observations : array_like of int
        Shape ``(N,)``: category ids in ``[0, K)``.

    Returns
    -------
    float
        The log-likelihood in nats (``-inf`` if an observed category has
        probability 0).

    Raises
    ------
    ValueError
        Invalid distributions, ids out of range, mismatched lengths.
    TypeError
        Non-integer observations.

    References
    ----------
    Murphy, *Probabilistic Machine Learning: An Introduction*, 2022, chapter 4.

    Examples
    --------
    >>> from llmmath.prob import categorical_log_likelihood
    >>> print(round(categorical_log_likelihood([0.5, 0.25, 0.25], [0, 0, 2]), 6))  # 3 log(1/2) + ...
    -2.772589
    """
    op = "categorical_log_likelihood"
    p = check_distribution(probs, "probs", op)
    if p.ndim > 2:
        raise ShapeError(f"{op}: argument 'probs' must have shape (K,) or (N, K); got {p.shape}.")
    obs = as_int_array(observations, "observations", op, min_value=0, max_value=p.shape[-1] - 1)
    if obs.ndim != 1:
        raise ShapeError(f"{op}: argument 'observations' must be 1-D; got shape {obs.shape}.")
    if p.ndim == 2 and p.shape[0] != obs.shape[0]:
        raise ShapeError(
            f"{op}: 'probs' has {p.shape[0]} rows but 'observations' has {obs.shape[0]} entries; "
            "expected one distribution per observation."
        )
    picked = p[obs] if p.ndim == 1 else p[np.arange(obs.shape[0]), obs]
    if (picked == 0).any():
        return -math.inf
    return float(np.log(picked.astype(np.float64)).sum())
