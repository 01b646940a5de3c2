"""stats.bootstrap_distribution and stats.bootstrap_coverage (used by the evaluation lesson).

References: scipy.stats.bootstrap (same seed, same resamples: its
``bootstrap_distribution``; and, on other draws, its percentile intervals for
a coverage count), the exactness of Student's t interval for normal data
(coverage = the confidence level), and binomial standard errors for counts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as st_

from fuzz import anything, check_call
from llmmath import stats
from llmmath.errors import InvalidTypeError, InvalidValueError

pytestmark = [pytest.mark.lesson_evaluation]

SCORES = np.random.default_rng(11).beta(8, 2, size=30)


@pytest.mark.parametrize("batch", [None, 300])
def test_bootstrap_distribution_is_scipys(batch):
    ours = stats.bootstrap_distribution(SCORES, np.median, n_resamples=1500, rng=3, batch=batch)
    ref = st.bootstrap((SCORES,), np.median, n_resamples=1500, batch=batch, method="percentile",
                       rng=np.random.default_rng(3))
    assert ours.shape == (1500,)
    assert np.allclose(ours, ref.bootstrap_distribution, rtol=1e-14, atol=0)


def test_bootstrap_distribution_is_what_the_interval_reads():
    theta = stats.bootstrap_distribution(SCORES, n_resamples=4000, rng=8)
    for method in ("percentile", "basic"):
        ci = stats.bootstrap_ci(SCORES, n_resamples=4000, method=method, rng=8, confidence=0.9)
        lo, hi = np.quantile(theta, [0.05, 0.95])
        if method == "basic":
            lo, hi = 2 * SCORES.mean() - hi, 2 * SCORES.mean() - lo
        assert (ci.low, ci.high) == pytest.approx((lo, hi), rel=1e-14)
        assert ci.standard_error == pytest.approx(np.std(theta, ddof=1), rel=1e-12)
    loop = stats.bootstrap_distribution(SCORES, lambda s: float(np.mean(s)), n_resamples=4000,
                                        rng=8)
    assert np.allclose(loop, theta, rtol=1e-14)


def test_t_interval_coverage_is_exact_for_normal_data():
    r = stats.bootstrap_coverage(6, method="t", n_datasets=20_000, rng=0)
    # Student's interval covers with probability exactly 0.95; 20 000 data sets give a
    # binomial standard error of 0.0015.
    se = math.sqrt(0.95 * 0.05 / 20_000)
    assert abs(r.coverage - 0.95) < 4 * se
    assert r.standard_error == pytest.approx(math.sqrt(r.coverage * (1 - r.coverage) / 20_000), rel=1e-12)
    assert (r.sample_size, r.n_datasets, r.method, r.confidence) == (6, 20_000, "t", 0.95)


def test_percentile_coverage_of_five_scores_matches_scipy_and_falls_short():
    ours = stats.bootstrap_coverage(5, n_datasets=3000, n_resamples=1000, rng=1)
    gen = np.random.default_rng(2)
    hits, D = 0, 400
    for _ in range(D):
        x = gen.standard_normal(5)
        ci = st.bootstrap((x,), np.mean, n_resamples=1000, method="percentile",
                          rng=gen).confidence_interval
        hits += ci.low <= 0.0 <= ci.high
    ref = hits / D
    se = math.sqrt(ours.standard_error ** 2 + ref * (1 - ref) / D)
    assert abs(ours.coverage - ref) < 4 * se, (ours.coverage, ref)
    assert ours.coverage < 0.95 - 4 * ours.standard_error          # the erratum: well below 95%


@pytest.mark.parametrize("method", ["percentile", "basic"])
def test_bootstrap_coverage_follows_the_normal_theory_at_moderate_n(method):
    # For the mean of n normal values the resampled means are close to normal with spread
    # s sqrt((n-1)/n) / sqrt(n), so the interval is about mean -+ z s sqrt((n-1)/n)/sqrt(n)
    # and covers with probability P(|t_{n-1}| <= z sqrt((n-1)/n)).
    n = 30
    z = st.norm.ppf(0.975)
    expected = 2 * st.t.cdf(z * math.sqrt((n - 1) / n), n - 1) - 1
    r = stats.bootstrap_coverage(n, method=method, n_datasets=2000, n_resamples=400, rng=4)
    assert abs(r.coverage - expected) < 4 * math.sqrt(expected * (1 - expected) / 2000) + 0.005


def test_coverage_is_seeded():
    a = stats.bootstrap_coverage(5, n_datasets=200, n_resamples=200, rng=7)
    b = stats.bootstrap_coverage(5, n_datasets=200, n_resamples=200, rng=7)
    assert a == b


@pytest.mark.parametrize("conf", [0.8, 0.95, 0.99])
def test_mean_difference_ci_matches_scipy(conf):
    gen = np.random.default_rng(21)
    a, b = gen.normal(0.7, 0.1, 25), gen.normal(0.65, 0.2, 31)
    ours = stats.mean_difference_ci(a, b, confidence=conf)
    ref = st.ttest_ind(a, b, equal_var=False).confidence_interval(conf)
    assert (ours.low, ours.high) == pytest.approx((ref.low, ref.high), rel=1e-10)
    assert ours.estimate == pytest.approx(a.mean() - b.mean(), rel=1e-13)
    assert ours.method == "welch" and ours.confidence == conf
    c = a + gen.normal(0.02, 0.03, 25)
    ours = stats.mean_difference_ci(c, a, paired=True, confidence=conf)
    ref = st.ttest_rel(c, a).confidence_interval(conf)
    assert (ours.low, ours.high) == pytest.approx((ref.low, ref.high), rel=1e-10)
    assert ours.standard_error == pytest.approx(np.std(c - a, ddof=1) / 5.0, rel=1e-12)
    assert ours.method == "paired-t"


def test_pairing_narrows_the_interval_when_scores_share_item_effects():
    gen = np.random.default_rng(5)
    item = gen.normal(0.0, 0.15, 200)                     # difficulty shared by both models
    a = 0.70 + item + gen.normal(0, 0.03, 200)
    b = 0.68 + item + gen.normal(0, 0.03, 200)
    paired = stats.mean_difference_ci(a, b, paired=True)
    welch = stats.mean_difference_ci(a, b)
    assert paired.high - paired.low < 0.3 * (welch.high - welch.low)
    # the interval excludes 0 exactly when the matching t-test rejects at 5%
    for ci, test in ((paired, stats.paired_t_test(a, b)), (welch, stats.welch_t_test(a, b))):
        assert (ci.low > 0 or ci.high < 0) == (test.pvalue < 0.05)


def test_bad_input():
    with pytest.raises(InvalidValueError, match="data"):
        stats.bootstrap_distribution([1.0])
    with pytest.raises(InvalidValueError, match="n_resamples"):
        stats.bootstrap_distribution([1.0, 2.0], n_resamples=0)
    with pytest.raises(InvalidTypeError, match="statistic"):
        stats.bootstrap_distribution([1.0, 2.0], statistic="mean")
    with pytest.raises(InvalidValueError, match="NaN"):
        stats.bootstrap_distribution([1.0, np.nan])
    with pytest.raises(InvalidValueError, match="sample_size"):
        stats.bootstrap_coverage(1)
    with pytest.raises(InvalidTypeError, match="sample_size"):
        stats.bootstrap_coverage(5.0)
    with pytest.raises(InvalidValueError, match="method"):
        stats.bootstrap_coverage(5, method="bca")
    with pytest.raises(InvalidValueError, match="confidence"):
        stats.bootstrap_coverage(5, confidence=1.0)
    with pytest.raises(InvalidValueError, match="n_datasets"):
        stats.bootstrap_coverage(5, n_datasets=0)
    with pytest.raises(InvalidTypeError, match="rng"):
        stats.bootstrap_coverage(5, rng="x")
    with pytest.raises(InvalidValueError, match="same shape"):
        stats.mean_difference_ci([1.0, 2.0, 3.0], [1.0, 2.0], paired=True)
    with pytest.raises(InvalidValueError, match="same"):
        stats.mean_difference_ci([1.0, 2.0, 3.0], [0.0, 1.0, 2.0], paired=True)
    with pytest.raises(InvalidValueError, match="constant"):
        stats.mean_difference_ci([1.0, 1.0], [2.0, 2.0])
    with pytest.raises(InvalidTypeError, match="paired"):
        stats.mean_difference_ci([1.0, 2.0], [2.0, 3.0], paired="yes")
    with pytest.raises(InvalidValueError, match="observations"):
        stats.mean_difference_ci([1.0], [2.0, 3.0])


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@given(data=st_.one_of(anything(max_dims=2),
                       st_.lists(st_.sampled_from([0.0, 1.0, 2.5, 1e300, -1e300]), max_size=6)),
       n=st_.one_of(st_.integers(-2, 30), st_.sampled_from([None, 2.0, True])),
       statistic=st_.sampled_from([np.mean, np.median, lambda s: float(s[0]), "mean", None]))
def test_fuzz_bootstrap_distribution(data, n, statistic):
    r = check_call(stats.bootstrap_distribution, data, statistic, n, 0)
    if r is not None:
        assert r.shape == (n,) and np.all(np.isfinite(r))


@given(n=st_.one_of(st_.integers(-1, 8), st_.sampled_from([None, 3.0, True, 10**6])),
       conf=st_.sampled_from([0.0, 0.5, 0.95, 1.0, np.nan, "x"]),
       method=st_.sampled_from(["percentile", "basic", "t", "bca", None]),
       d=st_.sampled_from([0, 1, 7, -3, 2.0]))
def test_fuzz_bootstrap_coverage(n, conf, method, d):
    r = check_call(stats.bootstrap_coverage, n, conf, method, d, 20, 0)
    if r is not None:
        assert 0.0 <= r.coverage <= 1.0


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@given(a=st_.one_of(anything(max_dims=2),
                    st_.lists(st_.sampled_from([0.0, 1.0, 2.5, 1e300, -1e300]), max_size=6)),
       b=st_.one_of(anything(max_dims=2),
                    st_.lists(st_.sampled_from([0.0, 1.0, 2.5, 1e300, -1e300]), max_size=6)),
       paired=st_.sampled_from([True, False, 1]),
       conf=st_.sampled_from([0.5, 0.95, 1.0, np.nan]))
def test_fuzz_mean_difference_ci(a, b, paired, conf):
    r = check_call(stats.mean_difference_ci, a, b, paired, conf)
    if r is not None:
        assert r.low <= r.high or np.isinf(r.low) or np.isinf(r.high)
