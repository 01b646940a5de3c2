"""Coverage of confidence intervals by simulation (public through :mod:`llmmath.stats`).

An interval method claims a confidence level c; the only way to see whether
it keeps that promise is to build it on many data sets whose truth is known
and count how often it covers. The intervals themselves are in
:mod:`llmmath.stats.intervals`; this module runs the simulation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from llmmath._validation import (
    check_allocation,
    check_choice,
    check_float,
    check_int,
    check_rng,
)
from llmmath.stats import special

# CoverageResult, the result type, is importable but not listed.
__all__ = ["bootstrap_coverage"]


@dataclass(frozen=True)
class CoverageResult:
    """How often an interval method covered the true mean in simulated data sets."""

    coverage: float          # fraction of data sets whose interval held the true mean
    standard_error: float    # sqrt(c (1 - c) / n_datasets)
    sample_size: int
    n_datasets: int
    method: str
    confidence: float


def bootstrap_coverage(
    sample_size: int,
    confidence: float = 0.95,
    method: str = "percentile",
    n_datasets: int = 1000,
    n_resamples: int = 1000,
    rng: np.random.Generator | int | None = None,
) -> CoverageResult:
    """Coverage of a confidence interval for the mean, measured by simulation.

    Lesson: ``evaluation`` (Statistics for evaluating models).

    Draw ``n_datasets`` samples of ``sample_size`` values from the standard
    normal distribution (true mean 0), build the interval for each and count
    how often it contains 0. A method is honest at level ``c`` when the
    coverage is ``c``; the percentile bootstrap falls short on small
    samples because the spread of the resampled means is that of the sample,
    ``s sqrt((n - 1) / n) / sqrt(n)``, with normal rather than Student tails.

    * ``"percentile"``: ``np.quantile`` of ``n_resamples`` resampled means at
      ``alpha`` and ``1 - alpha``, as :func:`bootstrap_ci`;
    * ``"basic"``: those quantiles reflected about the sample mean;
    * ``"t"``: Student's interval, :func:`mean_ci` (exact for normal data).

    Parameters
    ----------
    sample_size : int
        n >= 2.
    confidence : float
        In (0, 1).
    method : {"percentile", "basic", "t"}
    n_datasets : int
        >= 1.
    n_resamples : int
        >= 1 (bootstrap methods only).
    rng : numpy.random.Generator or int or None

    Returns
    -------
    CoverageResult

    Raises
    ------
    ValueError, TypeError
        Arguments out of range or of the wrong type.

    See Also
    --------
    bootstrap_ci, mean_ci

    References
    ----------
    P. Hall, *The Bootstrap and Edgeworth Expansion*, Springer, 1992,
    section 3.5 (coverage error of bootstrap intervals); B. Efron and R.
    Tibshirani, *An Introduction to the Bootstrap*, 1993, section 13.3.

    Examples
    --------
    >>> from llmmath.stats import bootstrap_coverage
    >>> small = bootstrap_coverage(5, n_datasets=2000, rng=0)
    >>> large = bootstrap_coverage(5, method="t", n_datasets=2000, rng=0)
    >>> print(small.coverage < 0.9, abs(large.coverage - 0.95) < 0.02)
    True True
    """
    op = "bootstrap_coverage"
    n = check_int(sample_size, "sample_size", op, min_value=2, max_value=100_000)
    conf = check_float(confidence, "confidence", op, min_value=0.0, max_value=1.0,
                       min_inclusive=False, max_inclusive=False)
    method = check_choice(method, "method", op, ("percentile", "basic", "t"))
    D = check_int(n_datasets, "n_datasets", op, min_value=1)
    R = check_int(n_resamples, "n_resamples", op, min_value=1)
    gen = check_rng(rng, op)
    if method == "t":
        check_allocation((D, n), ("n_datasets", "sample_size"), op,
                         what="simulated values (drawn in batches)")
    else:
        check_allocation((D, R, n), ("n_datasets", "n_resamples", "sample_size"), op,
                         what="resampled values (drawn in batches)")
    alpha = (1.0 - conf) / 2.0
    hits = 0
    per = max(1, 4_000_000 // (n * (1 if method == "t" else R)))     # data sets per chunk
    for start in range(0, D, per):
        x = gen.standard_normal((min(per, D - start), n))           # (d, n), true mean 0
        m = x.mean(axis=1)
        if method == "t":
            half = special.t_ppf(1.0 - alpha, n - 1) * x.std(axis=1, ddof=1) / math.sqrt(n)
            low, high = m - half, m + half
        else:
            idx = gen.integers(0, n, (x.shape[0], R, n))            # (d, R, n)
            means = np.take_along_axis(x[:, None, :], idx, axis=2).mean(axis=2)   # (d, R)
            low, high = np.quantile(means, [alpha, 1.0 - alpha], axis=1)
            if method == "basic":
                low, high = 2.0 * m - high, 2.0 * m - low
        hits += int(np.count_nonzero((low <= 0.0) & (0.0 <= high)))
    c = hits / D
    return CoverageResult(c, math.sqrt(c * (1.0 - c) / D), n, D, method, conf)
