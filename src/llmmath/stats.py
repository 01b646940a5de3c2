"""Statistics for evaluating models: confidence intervals and significance tests.

A benchmark score is an estimate from a finite sample of test items, so it
comes with uncertainty; two models' scores differ by chance as well as by
skill. This module quantifies both:

* intervals: :func:`bootstrap_ci` (percentile, basic and BCa bootstrap) and
  :func:`mean_ci` (Student's t interval), both returning a
  :class:`ConfidenceInterval`; :func:`mean_difference_ci` (Welch or paired
  t interval for a difference of means); :func:`bootstrap_distribution` (the resampled
  statistics behind an interval) and :func:`bootstrap_coverage` (how often an
  interval covers the truth, by simulation);
* tests: :func:`welch_t_test` (independent samples, unequal variances),
  :func:`paired_t_test` (the same items scored twice),
  :func:`permutation_test` (difference in means, no distributional
  assumption) and :func:`mcnemar_test` (paired right/wrong outcomes), each
  returning a result with ``statistic`` and ``pvalue``.

Only NumPy is used: Student's t, the normal quantile and the binomial CDF come
from :mod:`llmmath._special`, the resampling loops from
:mod:`llmmath._resampling`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath import _resampling, _special
from llmmath._coverage import bootstrap_coverage
from llmmath._validation import (
    as_float_array,
    check_bool,
    check_callable,
    check_choice,
    check_float,
    check_int,
    check_rng,
    check_same_shape,
    describe,
)
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = [
    "bootstrap_ci",
    "bootstrap_distribution",
    "bootstrap_coverage",
    "mean_ci",
    "mean_difference_ci",
    "welch_t_test",
    "paired_t_test",
    "permutation_test",
    "mcnemar_test",
]

_ALTERNATIVES = ("two-sided", "less", "greater")


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


@dataclass(frozen=True)
class TTestResult:
    """Result of a t-test: the t statistic, its p-value and degrees of freedom."""

    statistic: float
    pvalue: float
    df: float
    alternative: str


@dataclass(frozen=True)
class PermutationTestResult:
    """Result of :func:`permutation_test`."""

    statistic: float                 # mean(a) - mean(b)
    pvalue: float
    n_resamples: int                 # permutations used (all splits when exact)
    exact: bool                      # True when every split was enumerated
    alternative: str
    null_distribution: np.ndarray    # the statistic under each permutation


@dataclass(frozen=True)
class McNemarResult:
    """Result of :func:`mcnemar_test`; ``b`` and ``c`` are the discordant counts."""

    statistic: float
    pvalue: float
    b: int                  # a right, b wrong
    c: int                  # a wrong, b right
    method: str


def _sample(x: Any, name: str, op: str, min_size: int) -> np.ndarray:
    arr = as_float_array(x, name, op, ndim=1)
    if arr.shape[0] < min_size:
        raise InvalidValueError(
            f"{op}: argument '{name}' has {arr.shape[0]} observations; expected at least "
            f"{min_size}."
        )
    return arr


def _common_scale(*arrays: np.ndarray) -> float:
    """A power of two ``s`` with every ``|x| / s < 2``: dividing by it is exact and
    keeps sums and squares of the data far from overflow and underflow."""
    big = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    return 1.0 if big == 0.0 else math.ldexp(1.0, math.frexp(big)[1] - 1)


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
    method = check_choice(method.lower() if isinstance(method, str) else method, "method", op,
                          ("bca", "percentile", "basic"))
    gen = check_rng(rng, op)
    if vectorized is not None:
        vectorized = check_bool(vectorized, "vectorized", op)
    if batch is not None:
        batch = check_int(batch, "batch", op, min_value=1)

    on_rows = _resampling.statistic_on_rows(statistic, vectorized, op)
    estimate = float(on_rows(x[None, :])[0])
    theta_b = _resampling.bootstrap_distribution(x, on_rows, B, gen, batch)   # (B,)
    alpha = (1.0 - conf) / 2.0
    if method == "bca":
        theta_jack = _resampling.jackknife_values(x, on_rows)                 # (n,)
        levels = _resampling.bca_levels(theta_b, estimate, theta_jack, alpha, op)
    else:
        levels = (alpha, 1.0 - alpha)
    low, high = (float(v) for v in np.quantile(theta_b, levels))
    if method == "basic":
        low, high = 2.0 * estimate - high, 2.0 * estimate - low
    s = _common_scale(theta_b)                   # std of 1e300-sized values: no overflow
    with np.errstate(over="ignore"):
        se = float(np.std(theta_b / s, ddof=1) * s) if B > 1 else 0.0
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
    gen = check_rng(rng, op)
    if vectorized is not None:
        vectorized = check_bool(vectorized, "vectorized", op)
    if batch is not None:
        batch = check_int(batch, "batch", op, min_value=1)
    on_rows = _resampling.statistic_on_rows(statistic, vectorized, op)
    return _resampling.bootstrap_distribution(x, on_rows, B, gen, batch)


def mean_ci(data: Any, confidence: float = 0.95) -> ConfidenceInterval:
    """Student's t confidence interval for a population mean.

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
    s = _common_scale(x)
    y = x / s
    n = y.shape[0]
    m, sd = float(y.mean()), float(y.std(ddof=1))
    half = _special.t_ppf(0.5 + conf / 2.0, n - 1) * sd / math.sqrt(n)
    with np.errstate(over="ignore"):  # an endpoint beyond the float range is +-inf
        low, high, est, se = (float(np.float64(v) * s) for v in (m - half, m + half, m,
                                                                 sd / math.sqrt(n)))
    return ConfidenceInterval(low, high, est, se, conf, "t", 0)


def mean_difference_ci(a: Any, b: Any, paired: bool = False,
                       confidence: float = 0.95) -> ConfidenceInterval:
    """Student-t confidence interval for ``mean(a) - mean(b)``, paired or not.

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
        s = _common_scale(x, y)
        d = x / s - y / s                                      # |d| < 4: no overflow
        if not np.any(d != d[0]):
            raise InvalidValueError(f"{op}: every difference a - b is the same, so the "
                                    "interval has zero width and no t distribution applies.")
        ci = mean_ci(d, conf)
        with np.errstate(over="ignore"):
            low, high, est, se = (float(np.float64(v) * s) for v in
                                  (ci.low, ci.high, ci.estimate, ci.standard_error))
        return ConfidenceInterval(low, high, est, se, conf, "paired-t", 0)
    s = _common_scale(x, y)
    x, y = x / s, y / s
    va, vb = x.var(ddof=1) / x.shape[0], y.var(ddof=1) / y.shape[0]
    se2 = float(va + vb)
    if se2 == 0.0:
        raise InvalidValueError(f"{op}: both samples are constant (zero variance), so the "
                                "interval is undefined; compare the values directly.")
    wa, wb = float(va) / se2, float(vb) / se2
    df = 1.0 / (wa * wa / (x.shape[0] - 1) + wb * wb / (y.shape[0] - 1))
    est, se = float(x.mean() - y.mean()), math.sqrt(se2)
    half = _special.t_ppf(0.5 + conf / 2.0, df) * se
    with np.errstate(over="ignore"):
        low, high, est, se = (float(np.float64(v) * s) for v in (est - half, est + half, est, se))
    return ConfidenceInterval(low, high, est, se, conf, "welch", 0)


def _t_pvalue(t: float, df: float, alternative: str) -> float:
    if alternative == "less":
        return _special.t_cdf(t, df)
    if alternative == "greater":
        return _special.t_sf(t, df)
    return min(1.0, 2.0 * _special.t_sf(abs(t), df))


def welch_t_test(a: Any, b: Any, alternative: str = "two-sided") -> TTestResult:
    """Welch's t-test: do two independent samples have the same mean?

    ``t = (mean(a) - mean(b)) / sqrt(s_a^2 / n_a + s_b^2 / n_b)`` with sample
    variances (``ddof=1``), and the Welch-Satterthwaite degrees of freedom
    ``df = (v_a + v_b)^2 / (v_a^2 / (n_a - 1) + v_b^2 / (n_b - 1))``,
    ``v = s^2 / n``. Unlike Student's pooled test it does not assume equal
    variances. The p-value comes from Student's t CDF (an incomplete beta
    function) with ``df`` degrees of freedom.

    Parameters
    ----------
    a, b : array_like
        1-D samples, at least two finite observations each.
    alternative : {"two-sided", "less", "greater"}, optional
        The alternative hypothesis about ``mean(a) - mean(b)``.

    Returns
    -------
    TTestResult
        ``statistic``, ``pvalue``, ``df``, ``alternative``.

    Raises
    ------
    ValueError
        Fewer than two observations, non-finite values, or both samples
        constant (the statistic is 0/0 or infinite and ``df`` is 0/0).

    See Also
    --------
    paired_t_test, permutation_test, scipy.stats.ttest_ind (``equal_var=False``)

    References
    ----------
    B. L. Welch, "The generalization of 'Student's' problem when several
    different population variances are involved", Biometrika 34 (1947) 28-35.

    Examples
    --------
    >>> from llmmath.stats import welch_t_test
    >>> r = welch_t_test([0.81, 0.84, 0.79, 0.86, 0.83], [0.78, 0.80, 0.76, 0.79, 0.77])
    >>> print(round(r.statistic, 4), round(r.df, 2), round(r.pvalue, 4))
    3.2857 6.45 0.015
    """
    op = "welch_t_test"
    x, y = _sample(a, "a", op, 2), _sample(b, "b", op, 2)
    alternative = check_choice(alternative, "alternative", op, _ALTERNATIVES)
    s = _common_scale(x, y)
    x, y = x / s, y / s
    va, vb = x.var(ddof=1) / x.shape[0], y.var(ddof=1) / y.shape[0]
    se2 = float(va + vb)
    if se2 == 0.0:
        raise InvalidValueError(
            f"{op}: both samples are constant (zero variance), so the t statistic and its "
            "degrees of freedom are undefined; compare the values directly."
        )
    t = float((x.mean() - y.mean()) / math.sqrt(se2))
    wa, wb = float(va) / se2, float(vb) / se2        # shares of the variance, sum 1: no underflow
    df = 1.0 / (wa * wa / (x.shape[0] - 1) + wb * wb / (y.shape[0] - 1))
    return TTestResult(t, _t_pvalue(t, df, alternative), df, alternative)


def paired_t_test(a: Any, b: Any, alternative: str = "two-sided") -> TTestResult:
    """Paired t-test: is the mean of the differences ``a - b`` zero?

    For the same items scored by two models, ``d_i = a_i - b_i`` and
    ``t = mean(d) / (s_d / sqrt(n))`` with ``n - 1`` degrees of freedom. Pairing
    removes the item-to-item variation that a two-sample test must carry.
    Differences that are all equal and non-zero give ``t = +-inf``.

    Parameters
    ----------
    a, b : array_like
        1-D paired samples of the same length, at least two pairs.
    alternative : {"two-sided", "less", "greater"}, optional
        The alternative about ``mean(a - b)``.

    Returns
    -------
    TTestResult

    Raises
    ------
    ValueError
        Different lengths, fewer than two pairs, non-finite values, or all
        differences zero (0/0).

    See Also
    --------
    welch_t_test, scipy.stats.ttest_rel

    References
    ----------
    "Student", Biometrika 6 (1908) 1-25; scipy.stats.ttest_rel.

    Examples
    --------
    >>> from llmmath.stats import paired_t_test
    >>> r = paired_t_test([0.81, 0.84, 0.79, 0.86, 0.83], [0.78, 0.80, 0.77, 0.84, 0.80])
    >>> print(round(r.statistic, 4), r.df, round(r.pvalue, 5))
    7.4833 4.0 0.00171
    """
    op = "paired_t_test"
    x, y = _sample(a, "a", op, 2), _sample(b, "b", op, 2)
    check_same_shape(x, y, ("a", "b"), op)
    alternative = check_choice(alternative, "alternative", op, _ALTERNATIVES)
    s = _common_scale(x, y)
    d = x / s - y / s                                    # |d| < 4: no overflow
    n = d.shape[0]
    md, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        if md == 0.0:
            raise InvalidValueError(
                f"{op}: every difference a - b is zero, so the t statistic is 0/0; the two "
                "samples are identical."
            )
        t = math.copysign(math.inf, md)
    else:
        t = md / sd * math.sqrt(n)                   # sd > 0; a huge ratio is inf, fine
    return TTestResult(t, _t_pvalue(t, n - 1.0, alternative), float(n - 1), alternative)


def permutation_test(
    a: Any,
    b: Any,
    n_resamples: int = 10_000,
    rng: np.random.Generator | int | None = None,
    alternative: str = "two-sided",
) -> PermutationTestResult:
    """Permutation test for a difference in means of two independent samples.

    Under the null hypothesis the group labels are exchangeable: pool the data,
    split it at random into groups of the original sizes, and recompute
    ``mean(a) - mean(b)``. The p-value is the share of splits at least as
    extreme as the observed one, counting the observed split itself:
    ``(1 + #{null <= observed}) / (1 + B)`` for "less" (">=" for "greater"),
    and twice the smaller of the two for "two-sided" (at most 1), as in
    ``scipy.stats.permutation_test``. When ``C(n_a + n_b, n_a) <= n_resamples``
    every split is enumerated and the test is exact (no +1). Values within
    ``100 eps`` (relative) of the observed statistic count as ties.

    Parameters
    ----------
    a, b : array_like
        1-D samples, at least one finite observation each.
    n_resamples : int, optional
        Random permutations, ``>= 1``. Default 10 000.
    rng : numpy.random.Generator or int or None, optional
    alternative : {"two-sided", "less", "greater"}, optional

    Returns
    -------
    PermutationTestResult
        ``statistic``, ``pvalue``, ``n_resamples``, ``exact``, ``alternative``,
        ``null_distribution``.

    Raises
    ------
    ValueError
        Empty samples, non-finite values, ``n_resamples < 1``.

    See Also
    --------
    welch_t_test, scipy.stats.permutation_test

    References
    ----------
    R. A. Fisher, *The Design of Experiments*, Oliver and Boyd, 1935 (the
    randomisation test); B. Phipson and G. K.
    Smyth, "Permutation P-values Should Never Be Zero", Stat. Appl. Genet. Mol.
    Biol. 9 (2010) (the +1).

    Examples
    --------
    >>> from llmmath.stats import permutation_test
    >>> r = permutation_test([0.81, 0.84, 0.79, 0.86], [0.78, 0.80, 0.76, 0.77])
    >>> print(r.exact, r.n_resamples, round(r.pvalue, 4))  # all 70 splits
    True 70 0.0571
    """
    op = "permutation_test"
    x, y = _sample(a, "a", op, 1), _sample(b, "b", op, 1)
    B = check_int(n_resamples, "n_resamples", op, min_value=1)
    gen = check_rng(rng, op)
    alternative = check_choice(alternative, "alternative", op, _ALTERNATIVES)
    s = _common_scale(x, y)
    pooled = np.concatenate([x, y]) / s                                 # (n,)
    n_a = x.shape[0]
    observed = float(pooled[:n_a].mean() - pooled[n_a:].mean())
    batches, count, exact = _resampling.permutation_indices(n_a, y.shape[0], B, gen)
    null = np.concatenate([
        pooled[idx[:, :n_a]].mean(axis=-1) - pooled[idx[:, n_a:]].mean(axis=-1)
        for idx in batches                                              # idx: (rows, n)
    ])
    gamma = abs(observed) * 100 * np.finfo(np.float64).eps
    adj = 0 if exact else 1
    p_less = (np.count_nonzero(null <= observed + gamma) + adj) / (count + adj)
    p_greater = (np.count_nonzero(null >= observed - gamma) + adj) / (count + adj)
    p = {"less": p_less, "greater": p_greater,
         "two-sided": min(1.0, 2.0 * min(p_less, p_greater))}[alternative]
    with np.errstate(over="ignore"):  # a difference beyond the float range is +-inf
        stat, null = float(np.float64(observed) * s), null * s
    return PermutationTestResult(stat, float(p), count, exact, alternative, null)


def _as_bool(x: Any, name: str, op: str) -> np.ndarray:
    if isinstance(x, (str, bytes)) or x is None:
        raise InvalidTypeError(f"{op}: argument '{name}' must be an array of booleans; got {describe(x)}.")
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):
        raise InvalidValueError(f"{op}: argument '{name}' could not be read as a rectangular array.") from None
    if arr.dtype.kind in "iu" and arr.size and not np.isin(arr, (0, 1)).all():
        raise InvalidValueError(f"{op}: argument '{name}' must hold only 0/1 or True/False; got other integers.")
    if arr.dtype.kind not in "biu" and not (arr.dtype.kind == "f" and arr.size == 0):
        raise InvalidTypeError(
            f"{op}: argument '{name}' must hold booleans (right/wrong per item); got dtype "
            f"{arr.dtype} (shape {arr.shape})."
        )
    return arr.astype(bool).reshape(-1) if arr.ndim else arr.astype(bool).reshape(1)


def mcnemar_test(correct_a: Any, correct_b: Any, method: str = "exact",
                 correction: bool = True) -> McNemarResult:
    """McNemar's test: do two models, scored on the same items, differ in accuracy?

    Only the discordant items carry information: ``b`` items that model A gets
    right and B wrong, ``c`` the other way round. Under the null hypothesis
    each discordant item is a fair coin, ``b ~ Binomial(b + c, 1/2)``.

    * ``method="exact"`` (default): the two-sided binomial test,
      ``p = min(1, 2 P(K <= min(b, c)))``; ``statistic = min(b, c)``.
    * ``method="chi2"``: ``statistic = (|b - c| - 1)^2 / (b + c)`` (Edwards'
      continuity correction, floored at 0; ``correction=False`` drops the
      ``- 1``), referred to a chi-square distribution with one degree of freedom.

    With no discordant items (``b = c = 0``) there is no evidence either way:
    ``statistic = 0``, ``pvalue = 1``.

    Parameters
    ----------
    correct_a, correct_b : array_like of bool
        Per-item correctness of each model (booleans or 0/1), same shape.
    method : {"exact", "chi2"}, optional
    correction : bool, optional
        Continuity correction for ``"chi2"``. Default True.

    Returns
    -------
    McNemarResult
        ``statistic``, ``pvalue``, ``b``, ``c``, ``method``.

    Raises
    ------
    ValueError, TypeError
        Shapes that differ, empty input, values other than booleans or 0/1.

    See Also
    --------
    scipy.stats.binomtest, statsmodels.stats.contingency_tables.mcnemar

    References
    ----------
    Q. McNemar, "Note on the sampling error of the difference between
    correlated proportions or percentages", Psychometrika 12 (1947) 153-157.
    A. L. Edwards, "Note on the correction for continuity in testing the
    significance of the difference between correlated proportions",
    Psychometrika 13 (1948) 185-187.

    Examples
    --------
    >>> from llmmath.stats import mcnemar_test
    >>> a = [True] * 15 + [False] * 3 + [True] * 70 + [False] * 12
    >>> b = [False] * 15 + [True] * 3 + [True] * 70 + [False] * 12
    >>> r = mcnemar_test(a, b)
    >>> print(r.b, r.c, round(r.pvalue, 5))
    15 3 0.00754
    """
    op = "mcnemar_test"
    x, y = _as_bool(correct_a, "correct_a", op), _as_bool(correct_b, "correct_b", op)
    check_same_shape(x, y, ("correct_a", "correct_b"), op)
    if x.size == 0:
        raise InvalidValueError(f"{op}: arguments 'correct_a' and 'correct_b' are empty; expected at least one item.")
    method = check_choice(method, "method", op, ("exact", "chi2"))
    correction = check_bool(correction, "correction", op)
    b, c = int(np.count_nonzero(x & ~y)), int(np.count_nonzero(~x & y))
    if b + c == 0:
        return McNemarResult(0.0, 1.0, 0, 0, method)
    if method == "exact":
        k = min(b, c)
        return McNemarResult(float(k), min(1.0, 2.0 * _special.binom_cdf(k, b + c, 0.5)), b, c, method)
    gap = max(abs(b - c) - (1 if correction else 0), 0)
    stat = gap * gap / (b + c)
    return McNemarResult(float(stat), _special.chi2_sf_1df(stat), b, c, method)
