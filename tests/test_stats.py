"""llmmath.stats and its special functions against SciPy, mpmath and closed forms.

The bootstrap and the permutation test draw their random numbers exactly as
scipy.stats.bootstrap and scipy.stats.permutation_test do, so with the same
seed the two libraries see the same resamples and must agree to rounding.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st

from llmmath import stats
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.stats import special as _special

pytestmark = pytest.mark.lesson_evaluation


# ------------------------------------------------------------ special functions

class TestSpecialFunctions:
    def test_betainc_against_mpmath(self):
        gen = np.random.default_rng(1)
        with mpmath.workdps(40):
            for _ in range(150):
                a, b = 10 ** gen.uniform(-1.5, 2, size=2)
                x = float(gen.uniform())
                ref = float(mpmath.betainc(a, b, 0, x, regularized=True))
                assert _special.betainc(a, b, x) == pytest.approx(ref, rel=1e-12, abs=1e-300)

    def test_betainc_against_scipy_wide_range(self):
        gen = np.random.default_rng(2)
        a, b = 10 ** gen.uniform(-2, 3, size=(2, 2000))
        x = gen.uniform(size=2000)
        ref = sp.betainc(a, b, x)
        ours = np.array([_special.betainc(*v) for v in zip(a, b, x, strict=True)])
        ok = ref > 1e-250  # SciPy itself is off near underflow
        # large parameters: lgamma-sized exponents cost a few digits (see _special.py)
        np.testing.assert_allclose(ours[ok], ref[ok], rtol=5e-12)

    def test_normal_cdf_and_quantile_against_scipy_and_mpmath(self):
        x = np.concatenate([np.linspace(-5, 8, 901), [0.0, -1e-12, 1e-12]])
        np.testing.assert_allclose([_special.ndtr(v) for v in x], sp.ndtr(x), rtol=1e-14)
        # deep tail: erfc(-x / sqrt 2) inherits the rounding of its argument,
        # about x^2 eps relative; SciPy and ours are both ~2e-13 from mpmath there
        tail = np.linspace(-37, -5, 301)
        np.testing.assert_allclose([_special.ndtr(v) for v in tail], sp.ndtr(tail), rtol=5e-13)
        p = np.concatenate([10.0 ** -np.arange(1, 308, 3.7), np.linspace(0.01, 0.99, 197),
                            0.5 + 10.0 ** -np.arange(3, 16), 1 - 10.0 ** -np.arange(1, 16)])
        np.testing.assert_allclose([_special.ndtri(v) for v in p], sp.ndtri(p), rtol=1e-14)
        with mpmath.workdps(50):
            for v in (1e-300, 1e-20, 0.001, 0.3, 0.5 + 1e-9, 0.975, 1 - 1e-10):
                root = mpmath.findroot(lambda z, v=v: mpmath.ncdf(z) - mpmath.mpf(v), float(sp.ndtri(v)))
                assert _special.ndtri(v) == pytest.approx(float(root), rel=1e-14)
            for v in (-30.0, -5.0, 0.3, 6.0):
                assert _special.ndtr(v) == pytest.approx(float(mpmath.ncdf(v)), rel=1e-13)
        assert _special.ndtri(0.5) == 0.0
        assert (_special.ndtri(0.0), _special.ndtri(1.0)) == (-math.inf, math.inf)

    def test_student_t_against_scipy(self):
        gen = np.random.default_rng(3)
        for _ in range(400):
            t, df = gen.standard_cauchy() * 3, 10 ** gen.uniform(-0.5, 4)
            assert _special.t_cdf(t, df) == pytest.approx(st.t.cdf(t, df), rel=1e-11)
            assert _special.t_sf(t, df) == pytest.approx(st.t.sf(t, df), rel=1e-11)
        # huge df: still close to SciPy (the error grows like df * 2e-17)
        assert _special.t_sf(2.0, 2e6) == pytest.approx(st.t.sf(2.0, 2e6), rel=1e-12)
        assert _special.t_sf(1e200, 3.0) == 0.0

    def test_student_t_quantile(self):
        for q in (1e-10, 0.025, 0.3, 0.5, 0.9, 0.975, 1 - 1e-9):
            for df in (1.0, 2.5, 9.0, 120.0, 1e5):
                assert _special.t_ppf(q, df) == pytest.approx(st.t.ppf(q, df), rel=1e-11, abs=1e-15)

    def test_student_t_mpmath_spot_value(self):
        # P(T > 2) for df = 5: 1/2 I_{5/9}(5/2, 1/2)
        with mpmath.workdps(40):
            ref = float(mpmath.betainc(2.5, 0.5, 0, mpmath.mpf(5) / 9, regularized=True) / 2)
        assert _special.t_sf(2.0, 5.0) == pytest.approx(ref, rel=1e-14)

    def test_binomial_and_chi_square(self):
        for n, k in ((1, 0), (10, 3), (57, 20), (400, 150), (3000, 1400)):
            assert _special.binom_cdf(k, n, 0.5) == pytest.approx(st.binom.cdf(k, n, 0.5), rel=1e-11)
        for x in (0.0, 0.3, 3.84, 50.0):
            assert _special.chi2_sf_1df(x) == pytest.approx(st.chi2.sf(x, 1), rel=1e-14)


# ------------------------------------------------------------ bootstrap

@pytest.fixture
def skewed():
    return np.random.default_rng(42).exponential(2.0, size=60)


class TestBootstrapAgainstScipy:
    @pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
    @pytest.mark.parametrize("statistic", [np.mean, np.median, np.std], ids=["mean", "median", "std"])
    def test_same_seed_same_interval(self, skewed, method, statistic):
        ours = stats.bootstrap_ci(skewed, statistic, 0.9, 3000, method, np.random.default_rng(5))
        ref = st.bootstrap((skewed,), statistic, n_resamples=3000, confidence_level=0.9,
                           method=method, rng=np.random.default_rng(5))
        assert ours.low == pytest.approx(ref.confidence_interval.low, rel=1e-12)
        assert ours.high == pytest.approx(ref.confidence_interval.high, rel=1e-12)
        assert ours.standard_error == pytest.approx(ref.standard_error, rel=1e-12)
        assert ours.estimate == pytest.approx(statistic(skewed), rel=1e-14)

    def test_batches_match_scipy_batches(self, skewed):
        ours = stats.bootstrap_ci(skewed, np.mean, n_resamples=2500, rng=9, batch=700)
        ref = st.bootstrap((skewed,), np.mean, n_resamples=2500, batch=700, rng=np.random.default_rng(9))
        assert (ours.low, ours.high) == pytest.approx(tuple(ref.confidence_interval), rel=1e-12)

    def test_loop_fallback_equals_vectorised(self, skewed):
        vec = stats.bootstrap_ci(skewed, np.mean, n_resamples=2000, rng=4)
        loop = stats.bootstrap_ci(skewed, lambda s: float(np.mean(s)), n_resamples=2000, rng=4)
        assert (vec.low, vec.high) == pytest.approx((loop.low, loop.high), rel=1e-13)
        forced = stats.bootstrap_ci(skewed, np.mean, n_resamples=2000, rng=4, vectorized=False)
        assert (forced.low, forced.high) == pytest.approx((vec.low, vec.high), rel=1e-13)

    def test_bca_close_to_scipy_with_independent_draws(self, skewed):
        # different seeds: Monte Carlo noise only; with 20000 resamples the
        # endpoint quantiles have a standard error near 1% of the interval width
        ours = stats.bootstrap_ci(skewed, n_resamples=20_000, rng=1)
        ref = st.bootstrap((skewed,), np.mean, n_resamples=20_000, rng=np.random.default_rng(2))
        width = ref.confidence_interval.high - ref.confidence_interval.low
        assert abs(ours.low - ref.confidence_interval.low) < 0.05 * width
        assert abs(ours.high - ref.confidence_interval.high) < 0.05 * width


def test_bootstrap_coverage_is_near_nominal():
    # 200 normal samples (n = 25) with a known mean: a 95% interval should cover
    # it about 190 times. The count is tested against Binomial(200, 0.93), the
    # lower end of what bootstrap intervals reach at this n (they under-cover
    # slightly); an interval that is too narrow or shifted fails it.
    gen = np.random.default_rng(2024)
    hits = {"bca": 0, "percentile": 0}
    for _ in range(200):
        x = gen.normal(5.0, 2.0, size=25)
        for method in hits:
            ci = stats.bootstrap_ci(x, np.mean, 0.95, 1000, method, gen)
            hits[method] += ci.low <= 5.0 <= ci.high
    for method, h in hits.items():
        assert h < 200, method  # an interval that always covers is too wide
        assert st.binomtest(h, 200, 0.93, alternative="less").pvalue > 1e-3, (method, h)


def test_mean_ci_matches_scipy_and_covers():
    gen = np.random.default_rng(8)
    x = gen.normal(1.0, 3.0, size=12)
    ci = stats.mean_ci(x, 0.9)
    low, high = st.t.interval(0.9, 11, loc=x.mean(), scale=st.sem(x))
    assert (ci.low, ci.high) == pytest.approx((low, high), rel=1e-12)
    assert ci.standard_error == pytest.approx(st.sem(x), rel=1e-14) and ci.method == "t"
    hits = 0
    for _ in range(400):
        c = stats.mean_ci(gen.normal(0.0, 1.0, size=8), 0.95)
        hits += c.low <= 0.0 <= c.high
    assert st.binomtest(hits, 400, 0.95).pvalue > 1e-3  # exact for normal data


def test_mean_ci_refuses_bad_input():
    for data in ([], [1.0]):
        with pytest.raises(InvalidValueError, match=rf"mean_ci: argument 'data' has {len(data)} observations"):
            stats.mean_ci(data)
    with pytest.raises(ShapeError, match="mean_ci: argument 'data'"):
        stats.mean_ci([[1.0, 2.0]])
    for bad, what in (([1.0, np.nan], "NaN"), ([1.0, np.inf], "inf")):
        with pytest.raises(InvalidValueError, match=rf"mean_ci: argument 'data' contains {what}"):
            stats.mean_ci(bad)
    for c in (0.0, 1.0, 1.5):
        with pytest.raises(InvalidValueError, match="mean_ci: argument 'confidence'"):
            stats.mean_ci([1.0, 2.0], c)


class TestBootstrapEdgeCases:
    @pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
    def test_constant_sample_gives_zero_width(self, method):
        ci = stats.bootstrap_ci([0.7] * 10, method=method, n_resamples=500, rng=0)
        assert ci.low == ci.high == ci.estimate == pytest.approx(0.7, rel=1e-15)
        assert ci.standard_error == 0.0

    def test_errors(self):
        with pytest.raises(InvalidValueError, match="data"):
            stats.bootstrap_ci([])
        with pytest.raises(InvalidValueError, match="data"):
            stats.bootstrap_ci([1.0])
        with pytest.raises(InvalidValueError, match="n_resamples"):
            stats.bootstrap_ci([1.0, 2.0], n_resamples=0)
        for c in (0.0, 1.0, 1.5):
            with pytest.raises(InvalidValueError, match="confidence"):
                stats.bootstrap_ci([1.0, 2.0], confidence=c)
        with pytest.raises(InvalidValueError, match="method"):
            stats.bootstrap_ci([1.0, 2.0], method="studentized")
        with pytest.raises(InvalidTypeError, match="statistic"):
            stats.bootstrap_ci([1.0, 2.0], statistic="mean")
        with pytest.raises(InvalidValueError, match="statistic"):
            stats.bootstrap_ci([1.0, 2.0, 3.0], statistic=lambda s: np.nan, rng=0)
        with pytest.raises(InvalidValueError, match="statistic"):
            stats.bootstrap_ci([1.0, 2.0, 3.0], statistic=lambda s, axis: s, rng=0)
        with pytest.raises(ShapeError, match="data"):
            stats.bootstrap_ci([[1.0, 2.0]])
        # a statistic of the user's that overflows on 1e300s: a ValueError, not a warning
        with pytest.raises(InvalidValueError, match="non-finite"):
            stats.bootstrap_ci([1e300, -1e300, 0.0], lambda s, axis: np.std(s, axis=axis),
                               n_resamples=50, rng=0)
        # np.std itself is scale-equivariant: it runs on the data over a power of two
        ci = stats.bootstrap_ci([1e300, -1e300, 0.0], np.std, n_resamples=50, rng=0,
                                method="percentile")
        assert math.isfinite(ci.low) and math.isfinite(ci.high) and ci.high <= 1e300

    def test_bca_undefined_is_an_error_not_nan(self):
        # distinct values: 8 in the data, fewer in (almost) every resample, so the
        # estimate lies above the whole bootstrap distribution and z0 = +inf
        def distinct(s):
            return float(len(np.unique(s)))

        data = np.arange(8.0)
        with pytest.raises(InvalidValueError, match="BCa"):
            stats.bootstrap_ci(data, distinct, n_resamples=30, rng=0)
        ci = stats.bootstrap_ci(data, distinct, n_resamples=30, method="percentile", rng=0)
        assert ci.high < ci.estimate == 8.0

    def test_single_resample_and_reproducibility(self):
        ci = stats.bootstrap_ci([1.0, 2.0, 3.0], n_resamples=1, method="percentile", rng=3)
        assert ci.standard_error == 0.0 and ci.low == ci.high
        assert stats.bootstrap_ci([1.0, 5.0, 2.0], rng=11) == stats.bootstrap_ci([1.0, 5.0, 2.0], rng=11)


# ------------------------------------------------------------ t-tests

class TestTTests:
    @pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
    def test_welch_matches_scipy(self, rng, alternative):
        a, b = rng.normal(0.0, 1.0, 15), rng.normal(0.4, 2.5, 23)
        ours = stats.welch_t_test(a, b, alternative)
        ref = st.ttest_ind(a, b, equal_var=False, alternative=alternative)
        assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
        assert ours.df == pytest.approx(ref.df, rel=1e-12)
        assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-11)

    @pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
    def test_paired_matches_scipy(self, rng, alternative):
        a = rng.normal(0.7, 0.1, 30)
        b = a - rng.normal(0.02, 0.05, 30)
        ours = stats.paired_t_test(a, b, alternative)
        ref = st.ttest_rel(a, b, alternative=alternative)
        assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
        assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-11) and ours.df == 29

    def test_tiny_p_values_and_large_samples(self, rng):
        a, b = rng.normal(0, 1, 5000), rng.normal(0.3, 1, 4000)
        ours, ref = stats.welch_t_test(a, b), st.ttest_ind(a, b, equal_var=False)
        assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-9)
        assert ours.pvalue < 1e-30

    def test_scale_free_and_extreme_values(self, rng):
        a, b = rng.normal(0, 1, 10), rng.normal(1, 1, 12)
        base = stats.welch_t_test(a, b)
        big = stats.welch_t_test(a * 1e300, b * 1e300)
        assert big.statistic == pytest.approx(base.statistic, rel=1e-13)
        assert big.pvalue == pytest.approx(base.pvalue, rel=1e-12)

    def test_one_constant_sample_gives_the_other_samples_df(self):
        # v_b = 0: Welch-Satterthwaite reduces to n_a - 1, even when v_a is subnormal
        a = np.array([1e-160, 2e-160, 3e-160])
        r = stats.welch_t_test(a, [1.0, 1.0])
        assert r.df == pytest.approx(2.0, rel=1e-12) and r.pvalue == 0.0
        r = stats.welch_t_test([0.1, 0.4, 0.2, 0.9], [0.5, 0.5, 0.5])
        ref = st.ttest_1samp([0.1, 0.4, 0.2, 0.9], 0.5)
        assert r.df == pytest.approx(3.0, rel=1e-12) and r.pvalue == pytest.approx(ref.pvalue, rel=1e-12)

    def test_degenerate_samples(self):
        with pytest.raises(InvalidValueError, match="constant"):
            stats.welch_t_test([1.0, 1.0, 1.0], [2.0, 2.0])
        with pytest.raises(InvalidValueError, match="zero"):
            stats.paired_t_test([1.0, 2.0], [1.0, 2.0])
        r = stats.paired_t_test([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
        assert r.statistic == math.inf and r.pvalue == 0.0
        assert stats.paired_t_test([2.0, 3.0, 4.0], [1.0, 2.0, 3.0], "less").pvalue == 1.0
        with pytest.raises(ShapeError):
            stats.paired_t_test([1.0, 2.0], [1.0, 2.0, 3.0])
        with pytest.raises(InvalidValueError, match="alternative"):
            stats.welch_t_test([1.0, 2.0], [1.0, 3.0], "two_sided")


# ------------------------------------------------------------ permutation and McNemar

class TestPermutationTest:
    @staticmethod
    def diff(x, y, axis):
        return np.mean(x, axis=axis) - np.mean(y, axis=axis)

    @pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
    def test_exact_enumeration_matches_scipy(self, rng, alternative):
        a, b = rng.normal(0, 1, 6), rng.normal(0.8, 1, 5)  # C(11, 6) = 462 splits
        ours = stats.permutation_test(a, b, alternative=alternative)
        ref = st.permutation_test((a, b), self.diff, alternative=alternative, n_resamples=10_000)
        assert ours.exact and ours.n_resamples == 462
        assert ours.pvalue == pytest.approx(ref.pvalue, rel=1e-14)
        np.testing.assert_allclose(np.sort(ours.null_distribution), np.sort(ref.null_distribution),
                                   rtol=1e-12, atol=1e-15)

    @pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
    def test_random_permutations_match_scipy_with_the_same_seed(self, rng, alternative):
        a, b = rng.normal(0, 1, 25), rng.normal(0.5, 1, 30)
        ours = stats.permutation_test(a, b, 3000, np.random.default_rng(17), alternative)
        ref = st.permutation_test((a, b), self.diff, n_resamples=3000, alternative=alternative,
                                  rng=np.random.default_rng(17))
        assert not ours.exact and ours.pvalue == pytest.approx(ref.pvalue, rel=1e-14)
        assert ours.statistic == pytest.approx(a.mean() - b.mean(), rel=1e-14)

    def test_p_value_is_never_zero(self):
        r = stats.permutation_test(np.arange(30.0), np.arange(30.0) + 100, n_resamples=999, rng=1)
        assert r.pvalue == pytest.approx(2 / 1000, rel=1e-15)

    def test_errors(self):
        with pytest.raises(InvalidValueError, match="'a'"):
            stats.permutation_test([], [1.0])
        with pytest.raises(InvalidValueError, match="n_resamples"):
            stats.permutation_test([1.0], [2.0], n_resamples=0)


class TestMcNemar:
    @staticmethod
    def pairs(b, c, both_right=10, both_wrong=4):
        a = [True] * b + [False] * c + [True] * both_right + [False] * both_wrong
        bb = [False] * b + [True] * c + [True] * both_right + [False] * both_wrong
        return np.array(a), np.array(bb)

    @pytest.mark.parametrize("b,c", [(15, 3), (3, 15), (7, 7), (0, 6), (40, 25), (1, 0)])
    def test_exact_is_a_binomial_test(self, b, c):
        r = stats.mcnemar_test(*self.pairs(b, c))
        assert (r.b, r.c) == (b, c)
        assert r.pvalue == pytest.approx(st.binomtest(b, b + c, 0.5).pvalue, rel=1e-12)

    @pytest.mark.parametrize("b,c", [(15, 3), (40, 25), (7, 8)])
    def test_chi_square_closed_form(self, b, c):
        r = stats.mcnemar_test(*self.pairs(b, c), method="chi2")
        stat = max(abs(b - c) - 1, 0) ** 2 / (b + c)
        assert r.statistic == pytest.approx(stat, rel=1e-15)
        assert r.pvalue == pytest.approx(st.chi2.sf(stat, 1), rel=1e-13)
        r = stats.mcnemar_test(*self.pairs(b, c), method="chi2", correction=False)
        assert r.statistic == pytest.approx((b - c) ** 2 / (b + c), rel=1e-15)

    def test_no_discordant_pairs_and_errors(self):
        r = stats.mcnemar_test([True, False], [True, False])
        assert (r.statistic, r.pvalue) == (0.0, 1.0)
        assert stats.mcnemar_test([1, 0, 1], [0, 0, 1]).b == 1
        with pytest.raises(ShapeError):
            stats.mcnemar_test([True], [True, False])
        with pytest.raises(InvalidTypeError, match="correct_a"):
            stats.mcnemar_test([0.5, 1.0], [True, False])
        with pytest.raises(InvalidValueError, match="correct_b"):
            stats.mcnemar_test([1, 0], [2, 0])
        with pytest.raises(InvalidValueError, match="empty"):
            stats.mcnemar_test([], [])
