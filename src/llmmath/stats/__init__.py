"""Statistics for evaluating models: confidence intervals and significance tests.

A benchmark score is an estimate from a finite sample of test items, so it
comes with uncertainty; two models' scores differ by chance as well as by
skill. This package quantifies both:

* intervals (:mod:`llmmath.stats.intervals`): :func:`bootstrap_ci`
  (percentile, basic and BCa bootstrap) and :func:`mean_ci` (Student's t
  interval), both returning a :class:`ConfidenceInterval`;
  :func:`mean_difference_ci` (Welch or paired t interval for a difference of
  means); :func:`bootstrap_distribution` (the resampled statistics behind an
  interval);
* coverage (:mod:`llmmath.stats.coverage`): :func:`bootstrap_coverage`, how
  often an interval covers the truth, by simulation;
* tests (:mod:`llmmath.stats.tests`): :func:`welch_t_test` (independent
  samples, unequal variances), :func:`paired_t_test` (the same items scored
  twice), :func:`permutation_test` (difference in means, no distributional
  assumption) and :func:`mcnemar_test` (paired right/wrong outcomes), each
  returning a result with ``statistic`` and ``pvalue``.

Only NumPy is used: Student's t, the normal quantile and the binomial CDF come
from :mod:`llmmath.stats.special`, the resampling loops from
:mod:`llmmath.stats.resampling` (both internal: not re-exported here).

>>> from llmmath import stats
>>> r = stats.paired_t_test([0.81, 0.84, 0.79, 0.86, 0.83], [0.78, 0.80, 0.77, 0.84, 0.80])
>>> print(round(r.pvalue, 5), stats.mean_difference_ci([0.81, 0.84, 0.79], [0.78, 0.80, 0.77],
...                                                    paired=True).low > 0)
0.00171 True
"""

# ruff: noqa: F401  (every import below is a re-export; __all__ is built from the modules' lists)
from __future__ import annotations

from llmmath.stats import coverage, intervals, tests

# The result types (classes) are importable from here but not listed in __all__.
from llmmath.stats.coverage import CoverageResult, bootstrap_coverage
from llmmath.stats.intervals import (
    ConfidenceInterval,
    bootstrap_ci,
    bootstrap_distribution,
    mean_ci,
    mean_difference_ci,
)
from llmmath.stats.tests import (
    McNemarResult,
    PermutationTestResult,
    TTestResult,
    mcnemar_test,
    paired_t_test,
    permutation_test,
    welch_t_test,
)

__all__ = [*intervals.__all__, *coverage.__all__, *tests.__all__]
