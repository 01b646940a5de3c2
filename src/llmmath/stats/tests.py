"""Significance tests for comparing models (public through :mod:`llmmath.stats`).

Two models' scores differ by chance as well as by skill; each test here turns
the difference into a p-value under a null hypothesis of no difference:

* :func:`welch_t_test`: independent samples, unequal variances;
* :func:`paired_t_test`: the same items scored twice;
* :func:`permutation_test`: difference in means, no distributional assumption;
* :func:`mcnemar_test`: paired right/wrong outcomes.

Each returns a result with ``statistic`` and ``pvalue``. Student's t and the
binomial CDF come from :mod:`llmmath.stats.special`, the permutations from
:mod:`llmmath.stats.resampling`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._numerics import pow2_scale
from llmmath._validation import (
    as_float_array,
    check_allocation,
    check_bool,
    check_choice,
    check_int,
    check_rng,
    check_same_shape,
    describe,
)
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.stats import resampling, special

# TTestResult, PermutationTestResult and McNemarResult are importable but not listed.
__all__ = ["welch_t_test", "paired_t_test", "permutation_test", "mcnemar_test"]

_ALTERNATIVES = ("two-sided", "less", "greater")


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
    """A finite 1-D sample of at least ``min_size`` observations (shared with the intervals)."""
    arr = as_float_array(x, name, op, ndim=1)
    if arr.shape[0] < min_size:
        raise InvalidValueError(
            f"{op}: argument '{name}' has {arr.shape[0]} observations; expected at least "
            f"{min_size}."
        )
    return arr


def _welch(x: np.ndarray, y: np.ndarray, op: str, undefined: str) -> tuple[float, float, float]:
    """Welch's pieces for two samples: ``(mean(x) - mean(y), v_x + v_y, df)``.

    ``v = s^2 / n`` (sample variance, ``ddof=1``) and the Welch-Satterthwaite
    ``df = (v_x + v_y)^2 / (v_x^2 / (n_x - 1) + v_y^2 / (n_y - 1))``, written
    with the shares ``v / (v_x + v_y)`` (they sum to 1, so nothing underflows).
    Pass data divided by :func:`~llmmath._numerics.pow2_scale` of both samples.
    Two constant samples are refused: ``undefined`` says what would be 0/0.
    """
    va, vb = x.var(ddof=1) / x.shape[0], y.var(ddof=1) / y.shape[0]
    se2 = float(va + vb)
    if se2 == 0.0:
        raise InvalidValueError(
            f"{op}: arguments 'a' and 'b' are both constant (zero variance), so {undefined} "
            "undefined; compare the values directly."
        )
    wa, wb = float(va) / se2, float(vb) / se2
    df = 1.0 / (wa * wa / (x.shape[0] - 1) + wb * wb / (y.shape[0] - 1))
    return float(x.mean() - y.mean()), se2, df


def _t_pvalue(t: float, df: float, alternative: str) -> float:
    if alternative == "less":
        return special.t_cdf(t, df)
    if alternative == "greater":
        return special.t_sf(t, df)
    return min(1.0, 2.0 * special.t_sf(abs(t), df))


def welch_t_test(a: Any, b: Any, alternative: str = "two-sided") -> TTestResult:
    """Welch's t-test: do two independent samples have the same mean?

    Lesson: ``evaluation`` (Statistics for evaluating models).

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
    s = pow2_scale(x, y)
    diff, se2, df = _welch(x / s, y / s, op, "the t statistic and its degrees of freedom are")
    t = diff / math.sqrt(se2)
    return TTestResult(t, _t_pvalue(t, df, alternative), df, alternative)


def paired_t_test(a: Any, b: Any, alternative: str = "two-sided") -> TTestResult:
    """Paired t-test: is the mean of the differences ``a - b`` zero?

    Lesson: ``evaluation`` (Statistics for evaluating models).

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
    s = pow2_scale(x, y)
    d = x / s - y / s                                    # |d| < 4: no overflow
    n = d.shape[0]
    md, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        if md == 0.0:
            raise InvalidValueError(
                f"{op}: arguments 'a' and 'b' are identical (every difference a - b is zero), "
                "so the t statistic is 0/0."
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

    Lesson: none (a utility beside the evaluation statistics).

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
    n = x.shape[0] + y.shape[0]
    check_allocation((min(B, math.comb(n, x.shape[0])), n), "n_resamples", op, dtype=np.int64,
                     what="permuted indices (drawn in batches)")
    s = pow2_scale(x, y)
    pooled = np.concatenate([x, y]) / s                                 # (n,)
    n_a = x.shape[0]
    observed = float(pooled[:n_a].mean() - pooled[n_a:].mean())
    batches, count, exact = resampling.permutation_indices(n_a, y.shape[0], B, gen)
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

    Lesson: ``evaluation`` (Statistics for evaluating models).

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
        return McNemarResult(float(k), min(1.0, 2.0 * special.binom_cdf(k, b + c, 0.5)), b, c, method)
    gap = max(abs(b - c) - (1 if correction else 0), 0)
    stat = gap * gap / (b + c)
    return McNemarResult(float(stat), special.chi2_sf_1df(stat), b, c, method)
