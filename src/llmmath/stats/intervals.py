"""Confidence intervals for a model's score (public through :mod:`llmmath.stats`).

A benchmark score is an estimate from a finite sample of test items, so it
comes with uncertainty:

* :func:`bootstrap_ci` (percentile, basic and BCa bootstrap) and
  :func:`mean_ci` (Student's t interval), both returning a
  :class:`ConfidenceInterval`;
* :func:`mean_difference_ci`: Welch or paired t interval for a difference
  of means (the interval that matches :func:`~llmmath.stats.welch_t_test`
  and :func:`~llmmath.stats.paired_t_test`);
* :func:`bootstrap_distribution`: the resampled statistics behind an interval.

Student's t and the normal quantile come from :mod:`llmmath.stats.special`,
the resampling loops from :mod:`llmmath.stats.resampling`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._numerics import pow2_scale
from llmmath._validation import (
    check_allocation,
    check_bool,
    check_callable,
    check_choice,
    check_float,
    check_int,
    check_rng,
    check_same_shape,
)
from llmmath.errors import InvalidValueError
from llmmath.stats import resampling, special
from llmmath.stats.tests import _sample, _welch

# ConfidenceInterval, the result type, is importable but not listed.
__all__ = ["bootstrap_ci", "bootstrap_distribution", "mean_ci", "mean_difference_ci"]


@dataclass(frozen=True)
class ConfidenceInterval:
    """An interval estimate: ``low <= estimate <= high`` at level ``confidence``."""

    low: float
    high: float
    estimate: float
    standard_error: float
    confidence: float
    method: str             # "percentile", "basic", "bca" or "t"
    n_resamples: int = 0    # bootstrap resamples (0 for the t interval)


def bootstrap_ci(
    data: Any,
    statistic: Callable[..., Any] = np.mean,
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    method: str = "bca",
    rng: np.random.Generator | int | None = None,
    *,
    vectorized: bool | None = None,
    batch: int | None = None,
) -> ConfidenceInterval:
    """Bootstrap confidence interval for a statistic of one sample.

    Lesson: ``evaluation`` (Statistics for evaluating models).

    Draw ``B = n_resamples`` samples of size ``n`` from ``data`` with
    replacement and compute ``theta*_b = statistic(resample_b)``. With
    ``alpha = (1 - confidence) / 2``:

    * ``"percentile"``: the ``alpha`` and ``1 - alpha`` quantiles of ``theta*``;
    * ``"basic"``: ``2 theta_hat`` minus those quantiles (reflected);
    * ``"bca"`` (default): quantiles at levels corrected for bias and skew,
      ``Phi(z0 + (z0 + z) / (1 - a (z0 + z)))`` for ``z = Phi^{-1}(alpha)``,
      ``Phi^{-1}(1 - alpha)``, where ``z0`` measures the median bias of
      ``theta*`` and ``a`` (the acceleration) comes from the jackknife.
      Second-order accurate (Efron 1987).

    Quantiles interpolate linearly, like ``numpy.quantile``. Definitions and
    random draws follow ``scipy.stats.bootstrap`` (same seed and ``batch``,
    same interval). A constant sample gives a zero-width interval.

    Parameters
    ----------
    data : array_like
        1-D sample of at least two finite observations.
    statistic : callable, optional
        ``statistic(sample) -> float``. If it accepts ``axis`` (like ``np.mean``
        or ``np.median``) it is called as ``statistic(samples, axis=-1)`` on
        many resamples at once. Default ``np.mean``.
    confidence : float, optional
        In (0, 1). Default 0.95.
    n_resamples : int, optional
        ``B >= 1``. Default 10 000.
    method : {"bca", "percentile", "basic"}, optional
    rng : numpy.random.Generator or int or None, optional
    vectorized : bool, optional
        Force (True) or forbid (False) the ``axis=-1`` call; by default it is
        used when ``statistic`` has an ``axis`` parameter.
    batch : int, optional
        Resamples drawn per call to the generator (memory bound).

    Returns
    -------
    ConfidenceInterval
        ``low``, ``high``, ``estimate`` (the statistic of ``data``),
        ``standard_error`` (std of ``theta*``, ``ddof=1``; 0 when ``B = 1``),
        ``confidence``, ``method``, ``n_resamples``.

    Raises
    ------
    ValueError
        Empty or too small ``data``, non-finite values, ``n_resamples < 1``,
        ``confidence`` outside (0, 1), an unknown method, a statistic that
        returns a non-finite or non-scalar value, or a BCa interval that is
        undefined (the estimate outside every bootstrap value).

    See Also
    --------
    mean_ci, scipy.stats.bootstrap

    References
    ----------
    B. Efron, "Better Bootstrap Confidence Intervals", JASA 82 (1987) 171-185.
    B. Efron and R. Tibshirani, *An Introduction to the Bootstrap*, Chapman &
    Hall, 1993, chapters 13-14. scipy.stats.bootstrap.

    Examples
    --------
    >>> from llmmath.stats import bootstrap_ci
    >>> scores = [0.71, 0.74, 0.69, 0.77, 0.73, 0.80, 0.72, 0.75]
    >>> ci = bootstrap_ci(scores, rng=0)
    >>> print(round(ci.estimate, 4), ci.low < ci.estimate < ci.high)
    0.7388 True
    >>> bootstrap_ci([3.0, 3.0, 3.0], rng=0).high  # no spread, no width
    3.0
    """
    op = "bootstrap_ci"
    x = _sample(data, "data", op, 2)
    check_callable(statistic, "statistic", op)
    conf = check_float(confidence, "confidence", op, min_value=0.0, max_value=1.0,
                       min_inclusive=False, max_inclusive=False)
    B = check_int(n_resamples, "n_resamples", op, min_value=1)
    check_allocation((B, x.shape[0]), "n_resamples", op,
                     what="resampled values (n_resamples x len(data), drawn in batches)")
    method = check_choice(method.lower() if isinstance(method, str) else method, "method", op,
                          ("bca", "percentile", "basic"))
    gen = check_rng(rng, op)
    if vectorized is not None:
        vectorized = check_bool(vectorized, "vectorized", op)
    if batch is not None:
        batch = check_int(batch, "batch", op, min_value=1)

    on_rows = resampling.statistic_on_rows(statistic, vectorized, op)
    unit = resampling.data_scale(statistic, x)    # np.mean & co. run on x / unit (exact)
    xs = x / unit
    estimate = float(on_rows(xs[None, :])[0])
    theta_b = resampling.bootstrap_replicates(xs, on_rows, B, gen, batch)  # (B,)
    alpha = (1.0 - conf) / 2.0
    if method == "bca":
        theta_jack = resampling.jackknife_values(xs, on_rows)                # (n,)
        levels = resampling.bca_levels(theta_b, estimate, theta_jack, alpha, op)
    else:
        levels = (alpha, 1.0 - alpha)
    low, high = (float(v) for v in np.quantile(theta_b, levels))
    s = pow2_scale(theta_b)                   # std of 1e300-sized values: no overflow
    with np.errstate(over="ignore"):          # an endpoint beyond the float range is +-inf
        if method == "basic":
            low, high = 2.0 * estimate - high, 2.0 * estimate - low
        se = float(np.std(theta_b / s, ddof=1) * s) if B > 1 else 0.0
        low, high, estimate, se = (float(np.float64(v) * unit) for v in (low, high, estimate, se))
    return ConfidenceInterval(low, high, estimate, se, conf, method, B)


def bootstrap_distribution(
    data: Any,
    statistic: Callable[..., Any] = np.mean,
    n_resamples: int = 10_000,
    rng: np.random.Generator | int | None = None,
    *,
    vectorized: bool | None = None,
    batch: int | None = None,
) -> np.ndarray:
    """The bootstrap replicates ``theta*_b = statistic(resample_b)`` behind an interval.

    Lesson: ``evaluation`` (Statistics for evaluating models).

    Exactly the values :func:`bootstrap_ci` computes from the same ``rng``,
    ``n_resamples`` and ``batch``: its percentile interval is
    ``np.quantile(theta_star, [alpha, 1 - alpha])``. Use it to draw the
    histogram an interval is read from.

    Parameters
    ----------
    data, statistic, n_resamples, rng, vectorized, batch
        As in :func:`bootstrap_ci`.

    Returns
    -------
    ndarray, shape (n_resamples,)

    Raises
    ------
    ValueError
        As :func:`bootstrap_ci`.

    See Also
    --------
    bootstrap_ci, scipy.stats.bootstrap (its ``bootstrap_distribution``)

    References
    ----------
    B. Efron and R. Tibshirani, *An Introduction to the Bootstrap*, Chapman &
    Hall, 1993, chapter 6.

    Examples
    --------
    >>> from llmmath.stats import bootstrap_ci, bootstrap_distribution
    >>> scores = [0.71, 0.74, 0.69, 0.77, 0.73, 0.80, 0.72, 0.75]
    >>> theta = bootstrap_distribution(scores, n_resamples=2000, rng=0)
    >>> ci = bootstrap_ci(scores, n_resamples=2000, method="percentile", rng=0)
    >>> bool(np.allclose(np.quantile(theta, [0.025, 0.975]), [ci.low, ci.high]))
    True
    """
    op = "bootstrap_distribution"
    x = _sample(data, "data", op, 2)
    check_callable(statistic, "statistic", op)
    B = check_int(n_resamples, "n_resamples", op, min_value=1)
    check_allocation((B, x.shape[0]), "n_resamples", op,
                     what="resampled values (n_resamples x len(data), drawn in batches)")
    gen = check_rng(rng, op)
    if vectorized is not None:
        vectorized = check_bool(vectorized, "vectorized", op)
    if batch is not None:
        batch = check_int(batch, "batch", op, min_value=1)
    on_rows = resampling.statistic_on_rows(statistic, vectorized, op)
    unit = resampling.data_scale(statistic, x)
    theta = resampling.bootstrap_replicates(x / unit, on_rows, B, gen, batch)
    with np.errstate(over="ignore"):  # cannot overflow: each value is a mean, median... of x
        return theta * unit


def mean_ci(data: Any, confidence: float = 0.95) -> ConfidenceInterval:
    """Student's t confidence interval for a population mean.

    Lesson: ``evaluation`` (Statistics for evaluating models).

    ``mean +- t_{(1+c)/2, n-1} * s / sqrt(n)`` with ``s`` the sample standard
    deviation (``ddof=1``). Exact for normal data; for other data it relies on
    the central limit theorem, and :func:`bootstrap_ci` is the alternative.

    Parameters
    ----------
    data : array_like
        1-D sample of at least two finite observations.
    confidence : float, optional
        In (0, 1). Default 0.95.

    Returns
    -------
    ConfidenceInterval
        With ``method="t"``; ``standard_error`` is ``s / sqrt(n)``.

    Raises
    ------
    ValueError
        Fewer than two observations, non-finite values, confidence outside (0, 1).

    See Also
    --------
    bootstrap_ci, scipy.stats.t.interval

    References
    ----------
    "Student" (W. S. Gosset), "The probable error of a mean", Biometrika 6
    (1908) 1-25; scipy.stats.t.interval.

    Examples
    --------
    >>> from llmmath.stats import mean_ci
    >>> ci = mean_ci([0.71, 0.74, 0.69, 0.77, 0.73, 0.80, 0.72, 0.75])
    >>> print(round(ci.low, 4), round(ci.high, 4))
    0.7096 0.7679
    """
    op = "mean_ci"
    x = _sample(data, "data", op, 2)
    conf = check_float(confidence, "confidence", op, min_value=0.0, max_value=1.0,
                       min_inclusive=False, max_inclusive=False)
    s = pow2_scale(x)
    y = x / s
    n = y.shape[0]
    m, sd = float(y.mean()), float(y.std(ddof=1))
    half = special.t_ppf(0.5 + conf / 2.0, n - 1) * sd / math.sqrt(n)
    with np.errstate(over="ignore"):  # an endpoint beyond the float range is +-inf
        low, high, est, se = (float(np.float64(v) * s) for v in (m - half, m + half, m,
                                                                 sd / math.sqrt(n)))
    return ConfidenceInterval(low, high, est, se, conf, "t", 0)


def mean_difference_ci(a: Any, b: Any, paired: bool = False,
                       confidence: float = 0.95) -> ConfidenceInterval:
    """Student-t confidence interval for ``mean(a) - mean(b)``, paired or not.

    Lesson: ``evaluation`` (Statistics for evaluating models).

    * ``paired=False`` (Welch): ``d +- t_{(1+c)/2, df} sqrt(s_a^2/n_a + s_b^2/n_b)``
      with the Welch-Satterthwaite ``df`` of :func:`welch_t_test`;
    * ``paired=True``: :func:`mean_ci` of the differences ``a_i - b_i``,
      ``d +- t_{(1+c)/2, n-1} s_d / sqrt(n)``.

    When the same items are scored twice, the item-to-item variation is
    shared by ``a`` and ``b`` and cancels in ``a_i - b_i``: the paired
    interval is narrower whenever the two scores are positively correlated
    (``s_d^2 = s_a^2 + s_b^2 - 2 cov(a, b)``). The interval excludes 0
    exactly when the matching two-sided t-test has ``p < 1 - c``.

    Parameters
    ----------
    a, b : array_like
        1-D samples with at least two finite observations each (the same
        length when paired).
    paired : bool, optional
    confidence : float, optional
        In (0, 1). Default 0.95.

    Returns
    -------
    ConfidenceInterval
        ``method`` is ``"welch"`` or ``"paired-t"``; ``standard_error`` is the
        standard error of the difference.

    Raises
    ------
    ValueError
        Too few observations, non-finite values, different lengths when
        paired, no variation at all (the interval would be 0/0).

    See Also
    --------
    welch_t_test, paired_t_test, mean_ci,
    scipy.stats.ttest_ind (``equal_var=False``) and scipy.stats.ttest_rel,
    whose results have a ``confidence_interval`` method

    References
    ----------
    B. L. Welch, Biometrika 34 (1947) 28-35; "Student", Biometrika 6 (1908) 1-25.

    Examples
    --------
    >>> from llmmath.stats import mean_difference_ci
    >>> a = [0.81, 0.84, 0.79, 0.86, 0.83]
    >>> b = [0.78, 0.80, 0.77, 0.84, 0.80]
    >>> welch = mean_difference_ci(a, b)
    >>> paired = mean_difference_ci(a, b, paired=True)
    >>> print(round(welch.estimate, 3), paired.high - paired.low < welch.high - welch.low)
    0.028 True
    """
    op = "mean_difference_ci"
    x, y = _sample(a, "a", op, 2), _sample(b, "b", op, 2)
    paired = check_bool(paired, "paired", op)
    conf = check_float(confidence, "confidence", op, min_value=0.0, max_value=1.0,
                       min_inclusive=False, max_inclusive=False)
    if paired:
        check_same_shape(x, y, ("a", "b"), op)
        s = pow2_scale(x, y)
        d = x / s - y / s                                      # |d| < 4: no overflow
        if not np.any(d != d[0]):
            raise InvalidValueError(f"{op}: every difference between arguments 'a' and 'b' is "
                                    "the same, so the interval has zero width and no t "
                                    "distribution applies; expected differences that vary.")
        ci = mean_ci(d, conf)
        with np.errstate(over="ignore"):
            low, high, est, se = (float(np.float64(v) * s) for v in
                                  (ci.low, ci.high, ci.estimate, ci.standard_error))
        return ConfidenceInterval(low, high, est, se, conf, "paired-t", 0)
    s = pow2_scale(x, y)
    est, se2, df = _welch(x / s, y / s, op, "the interval is")
    se = math.sqrt(se2)
    half = special.t_ppf(0.5 + conf / 2.0, df) * se
    with np.errstate(over="ignore"):
        low, high, est, se = (float(np.float64(v) * s) for v in (est - half, est + half, est, se))
    return ConfidenceInterval(low, high, est, se, conf, "welch", 0)
