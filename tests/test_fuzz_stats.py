"""Fuzz the public API of llmmath.stats with the shared harness (tests/fuzz.py).

Samples of every odd shape and dtype, NaN/inf, constant samples, junk
statistics and parameters: a clean result must be NaN-free (p-values in
[0, 1], ``low <= high``); anything else a ValueError or TypeError.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import anything, check_call
from llmmath import stats

pytestmark = [
    pytest.mark.lesson_evaluation,
]

COVERED = {
    "bootstrap_ci", "mean_ci", "welch_t_test", "paired_t_test", "permutation_test",
    "mcnemar_test",
    # fuzzed in test_lesson_support_stats.py, next to their reference tests
    "bootstrap_distribution", "bootstrap_coverage", "mean_difference_ci",
}

samples = st.one_of(anything(max_dims=2),
                    st.lists(st.sampled_from([0.0, 1.0, 1.0, 2.5, -3.0, 1e300, -1e300, 1e-300]),
                             max_size=7))
small_ints = st.one_of(st.integers(-2, 40), anything(max_dims=0), st.sampled_from([None, 2.0, True]))
confidences = st.one_of(st.floats(-0.5, 1.5), st.sampled_from([0.0, 1.0, 0.95, np.nan]),
                        anything(max_dims=0))
alternatives = st.sampled_from(["two-sided", "less", "greater", "both", None, 3])
statistics = st.sampled_from([np.mean, np.median, np.std, np.min, lambda s: float(s[0]), "mean", None])
methods = st.sampled_from(["bca", "percentile", "basic", "BCa", "t", None])


def test_covered_names_are_the_public_api():
    assert COVERED == set(stats.__all__)


def _ok_interval(ci):
    if ci is not None:
        assert ci.low <= ci.high or np.isinf(ci.low) or np.isinf(ci.high)


@given(data=samples, statistic=statistics, conf=confidences, n=small_ints, method=methods,
       rng=st.sampled_from([0, 1, None, -1, "x"]))
def test_bootstrap_ci(data, statistic, conf, n, method, rng):
    _ok_interval(check_call(stats.bootstrap_ci, data, statistic, conf, n, method, rng))
    _ok_interval(check_call(stats.bootstrap_ci, data, rng=0, n_resamples=200))


@given(data=samples, conf=confidences)
def test_mean_ci(data, conf):
    _ok_interval(check_call(stats.mean_ci, data, conf))


@given(a=samples, b=samples, alternative=alternatives)
def test_t_tests(a, b, alternative):
    for f in (stats.welch_t_test, stats.paired_t_test):
        r = check_call(f, a, b, alternative)
        if r is not None:
            assert 0.0 <= r.pvalue <= 1.0 and r.df > 0


@given(a=samples, b=samples, n=small_ints, alternative=alternatives)
def test_permutation_test(a, b, n, alternative):
    r = check_call(stats.permutation_test, a, b, n, 0, alternative)
    if r is not None:
        assert 0.0 < r.pvalue <= 1.0


@given(a=st.one_of(anything(max_dims=2), st.lists(st.booleans(), max_size=8)),
       b=st.one_of(anything(max_dims=2), st.lists(st.booleans(), max_size=8)),
       method=st.sampled_from(["exact", "chi2", "mid-p", None]),
       correction=st.sampled_from([True, False, 1, None]))
def test_mcnemar_test(a, b, method, correction):
    r = check_call(stats.mcnemar_test, a, b, method, correction)
    if r is not None:
        assert 0.0 <= r.pvalue <= 1.0 and r.statistic >= 0
