"""llmmath.prob: the softmax family and estimation, against independent references.

References: scipy.special (softmax, log_softmax, logsumexp, expit, log_expit),
PyTorch float64, mpmath at 50 digits, scipy.stats (norm.fit, rv_discrete) and
closed forms. Decoding (filters and sampling) is in tests/test_sampling.py.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as st_h
from hypothesis.extra import numpy as hnp

from llmmath import prob
from llmmath.errors import InvalidValueError, LLMMathError

finite = st_h.floats(-50, 50, allow_nan=False, allow_infinity=False)


def logit_arrays(dtype=np.float64, min_side=1, max_dims=3):
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=min_side,
                                              max_side=6),
                      elements=st_h.floats(-50, 50, width=np.finfo(dtype).bits))


def mp_softmax(x, t=1):
    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(v) / t) for v in x]
        s = mpmath.fsum(e)
        return [float(v / s) for v in e]


# ---------------------------------------------------------------- softmax family

class TestSoftmax:
    @pytest.mark.parametrize("axis", [0, 1, -1])
    def test_matches_scipy(self, rng, axis):
        x = rng.normal(0, 5, size=(4, 7))
        np.testing.assert_allclose(prob.softmax(x, axis=axis), sp.softmax(x, axis=axis),
                                   rtol=1e-14, atol=1e-16)

    @pytest.mark.parametrize("t", [0.01, 0.5, 2.0, 1e3])
    def test_temperature_is_division_of_logits(self, rng, t):
        x = rng.normal(size=(3, 9))
        np.testing.assert_allclose(prob.softmax(x, temperature=t), sp.softmax(x / t, axis=-1),
                                   rtol=1e-13, atol=1e-300)

    def test_mpmath_spot_values(self):
        # the example of syllabus file 000: it states [0.21, 0.58, 0.21]
        p = prob.softmax([1.0, 2.0, 0.5])
        np.testing.assert_allclose(p, mp_softmax([1.0, 2.0, 0.5]), rtol=1e-15)
        assert np.round(p, 2).tolist() == [0.23, 0.63, 0.14]
        # syllabus file 002 states [0.844, 0.114, 0.042]
        q = prob.softmax([3.0, 1.0, 0.2])
        np.testing.assert_allclose(q, mp_softmax([3.0, 1.0, 0.2]), rtol=1e-15)
        assert np.round(q, 3).tolist() == [0.836, 0.113, 0.051]
        np.testing.assert_allclose(prob.softmax([3.0, 1.0, 0.2], temperature=0.7),
                                   mp_softmax([3.0, 1.0, 0.2], t=mpmath.mpf("0.7")), rtol=1e-14)

    def test_huge_logits_are_exact_and_silent(self):
        # filterwarnings=error: any overflow warning would fail this test
        assert prob.softmax([1e4, -1e4]).tolist() == [1.0, 0.0]
        assert prob.softmax([1e4, 1e4]).tolist() == [0.5, 0.5]
        assert prob.softmax([-1e4, -1e4, -np.inf]).tolist() == [0.5, 0.5, 0.0]
        np.testing.assert_allclose(prob.softmax([1e4, 1e4 - 1.0]), sp.softmax([0.0, -1.0]),
                                   rtol=1e-15)

    def test_masked_entries_get_exactly_zero(self):
        p = prob.softmax([[0.0, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]])
        assert p[0, 1] == 0.0 and p[1].tolist() == [0.0, 1.0, 0.0]

    def test_fully_masked_row_is_an_error_not_nan(self):
        with pytest.raises(InvalidValueError, match="entirely -inf"):
            prob.softmax([[0.0, 1.0], [-np.inf, -np.inf]])
        with pytest.raises(ValueError, match="'x'"):
            prob.log_softmax([-np.inf])

    def test_refuses_nan_plus_inf_and_negative_temperature(self):
        for bad, what in (([0.0, np.nan], "NaN"), ([0.0, np.inf], "inf")):
            with pytest.raises(InvalidValueError, match=rf"softmax: argument 'x' contains {what} at index 1"):
                prob.softmax(bad)
            with pytest.raises(InvalidValueError, match=rf"logsumexp: argument 'x' contains {what}"):
                prob.logsumexp(bad)
        assert issubclass(InvalidValueError, LLMMathError) and issubclass(InvalidValueError, ValueError)
        with pytest.raises(InvalidValueError, match="temperature"):
            prob.softmax([1.0, 2.0], temperature=-0.5)
        with pytest.raises(InvalidValueError, match="axis"):
            prob.softmax(3.0)

    def test_temperature_zero_is_the_limit(self):
        x = np.array([[1.0, 4.0, 2.0], [3.0, 3.0, -1.0]])
        np.testing.assert_array_equal(prob.softmax(x, temperature=0),
                                      [[0, 1, 0], [0.5, 0.5, 0]])
        # a small positive temperature is already (numerically) there
        np.testing.assert_allclose(prob.softmax(x, temperature=1e-3),
                                   prob.softmax(x, temperature=0), atol=1e-300)
        np.testing.assert_array_equal(np.exp(prob.log_softmax(x, temperature=0)),
                                      prob.softmax(x, temperature=0))

    def test_tiny_temperature_does_not_overflow(self):
        assert prob.softmax([1e4, -1e4, 0.0], temperature=1e-300).tolist() == [1.0, 0.0, 0.0]

    def test_empty_inputs(self):
        assert prob.softmax(np.zeros((0, 3))).shape == (0, 3)
        assert prob.softmax(np.zeros((2, 0))).shape == (2, 0)

    @pytest.mark.torch
    def test_matches_torch_float64(self, rng):
        import torch

        x = rng.normal(0, 10, size=(5, 11))
        x[0, 3] = -np.inf
        t = torch.tensor(x, dtype=torch.float64)
        np.testing.assert_allclose(prob.softmax(x), torch.softmax(t, -1).numpy(), rtol=1e-14, atol=1e-300)
        # torch forms log(1 + r) where we use log1p(r): agreement to 1 ulp of 1, not of the value
        np.testing.assert_allclose(prob.log_softmax(x), torch.log_softmax(t, -1).numpy(),
                                   rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(prob.logsumexp(x), torch.logsumexp(t, -1).numpy(), rtol=1e-15)

    def test_log_softmax_of_a_dominant_logit_is_accurate(self):
        # log p_max = -log(1 + r) with r about 5e-8: forming 1 + r would keep 8 digits of r
        x = [20.0, 20.0 - 17.0, 20.0 - 18.5]
        with mpmath.workdps(50):
            ref = float(-mpmath.log(1 + mpmath.exp(-17) + mpmath.exp(mpmath.mpf(-18.5))))
        assert prob.log_softmax(x)[0] == pytest.approx(ref, rel=1e-15)


@given(x=logit_arrays(), shift=finite)
def test_softmax_sums_to_one_and_ignores_shifts(x, shift):
    p = prob.softmax(x)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    assert (p >= 0).all()
    np.testing.assert_allclose(prob.softmax(x + shift), p, rtol=1e-9, atol=1e-15)


@given(x=logit_arrays(np.float32))
def test_float32_in_float32_out(x):
    for f in (prob.softmax, prob.log_softmax, prob.logsumexp, prob.sigmoid, prob.log_sigmoid):
        assert f(x).dtype == np.float32, f.__name__
    np.testing.assert_allclose(prob.softmax(x), sp.softmax(x.astype(np.float64), axis=-1),
                               rtol=2e-5, atol=1e-7)


@given(x=logit_arrays(max_dims=3))
def test_batched_equals_row_by_row(x):
    rows = x.reshape(-1, x.shape[-1])
    expected = np.stack([prob.softmax(r) for r in rows]).reshape(x.shape)
    np.testing.assert_array_equal(prob.softmax(x), expected)
    lse = np.array([prob.logsumexp(r) for r in rows]).reshape(x.shape[:-1])
    np.testing.assert_array_equal(prob.logsumexp(x), lse)


@given(x=logit_arrays())
def test_log_softmax_is_x_minus_logsumexp(x):
    np.testing.assert_allclose(prob.log_softmax(x), sp.log_softmax(x, axis=-1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(prob.log_softmax(x), x - prob.logsumexp(x, keepdims=True),
                               rtol=1e-12, atol=1e-12)


class TestLogsumexp:
    @pytest.mark.parametrize("axis", [None, 0, 1, -1])
    @pytest.mark.parametrize("keepdims", [False, True])
    def test_matches_scipy(self, rng, axis, keepdims):
        x = rng.normal(0, 300, size=(3, 5))
        x[1, 2] = -np.inf
        np.testing.assert_allclose(prob.logsumexp(x, axis=axis, keepdims=keepdims),
                                   sp.logsumexp(x, axis=axis, keepdims=keepdims), rtol=1e-15)

    def test_all_masked_and_empty_give_minus_inf(self):
        assert prob.logsumexp([-np.inf, -np.inf]) == -np.inf
        assert prob.logsumexp(np.empty(0)) == -np.inf
        assert sp.logsumexp(np.full(2, -np.inf)) == -np.inf  # the reference agrees
        np.testing.assert_array_equal(prob.logsumexp([[-np.inf, -np.inf], [0.0, 0.0]]),
                                      [-np.inf, math.log(2)])

    def test_mpmath(self):
        x = [1000.0, 999.5, -3.0, 1e-3]
        with mpmath.workdps(50):
            ref = float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(v)) for v in x)))
        assert prob.logsumexp(x) == pytest.approx(ref, rel=1e-16)


class TestSigmoid:
    def test_matches_scipy_across_the_range(self):
        x = np.concatenate([np.linspace(-800, 800, 4001), [-1e4, 1e4, -np.inf, np.inf, 0.0]])
        np.testing.assert_allclose(prob.sigmoid(x), sp.expit(x), rtol=1e-15, atol=1e-300)
        np.testing.assert_allclose(prob.log_sigmoid(x), sp.log_expit(x), rtol=1e-15, atol=1e-300)

    def test_extremes(self):
        assert prob.sigmoid([-1e4, 1e4]).tolist() == [0.0, 1.0]
        assert prob.log_sigmoid(-1e4) == -1e4
        assert prob.sigmoid(-745.0) > 0  # exp(-745) is the smallest subnormal, not 0

    def test_is_two_way_softmax(self, rng):
        x = rng.normal(0, 4, size=20)
        np.testing.assert_allclose(prob.sigmoid(x), prob.softmax(np.stack([x, 0 * x], -1))[:, 0],
                                   rtol=1e-14)

    def test_refuses_nan_and_non_numbers(self):
        for f in (prob.sigmoid, prob.log_sigmoid):
            with pytest.raises(InvalidValueError, match=rf"{f.__name__}: argument 'x' contains NaN"):
                f([0.0, np.nan])
            with pytest.raises(TypeError, match=rf"{f.__name__}: argument 'x'"):
                f("abc")

    def test_mpmath(self):
        for v in (-30.0, -0.1, 2.5, 40.0):
            with mpmath.workdps(50):
                ref = float(1 / (1 + mpmath.exp(-mpmath.mpf(v))))
            assert prob.sigmoid(v) == pytest.approx(ref, rel=1e-15)


# ---------------------------------------------------------------- estimation

@pytest.mark.lesson_mle
class TestMLE:
    def test_categorical_is_relative_frequency(self, rng):
        counts = rng.integers(0, 50, size=(4, 6))
        counts[:, 0] += 1
        np.testing.assert_allclose(prob.categorical_mle(counts), counts / counts.sum(-1, keepdims=True),
                                   rtol=1e-15)
        np.testing.assert_allclose(prob.categorical_mle(counts.T, axis=0),
                                   (counts / counts.sum(-1, keepdims=True)).T, rtol=1e-15)

    def test_categorical_maximises_the_likelihood(self, rng):
        counts = np.array([5.0, 2.0, 9.0, 1.0])
        p_hat = prob.categorical_mle(counts)
        best = (counts * np.log(p_hat)).sum()
        for q in rng.dirichlet(np.ones(4), size=200):
            assert (counts * np.log(q)).sum() <= best + 1e-12

    def test_laplace_smoothing_is_dirichlet_posterior_mean(self):
        counts = np.array([3, 0, 1])
        post = st.dirichlet(counts + 2.0).mean()
        np.testing.assert_allclose(prob.categorical_mle(counts, alpha=2.0), post, rtol=1e-15)

    def test_categorical_errors(self):
        with pytest.raises(InvalidValueError, match="all zero"):
            prob.categorical_mle([0, 0, 0])
        with pytest.raises(InvalidValueError, match="negative"):
            prob.categorical_mle([1, -1])
        assert prob.categorical_mle([0, 0], alpha=1.0).tolist() == [0.5, 0.5]
        # counts near the float limit: the total would overflow without rescaling
        np.testing.assert_allclose(prob.categorical_mle([1.5e308, 1.5e308, 0.0]), [0.5, 0.5, 0.0], rtol=1e-15, atol=0)

    def test_gaussian_matches_scipy_norm_fit(self, rng):
        x = rng.normal(3.0, 2.0, size=500)
        fit = prob.gaussian_mle(x)
        loc, scale = st.norm.fit(x)
        assert fit.mean == pytest.approx(loc, rel=1e-14)
        assert fit.std == pytest.approx(scale, rel=1e-13)
        assert fit.variance == pytest.approx(np.var(x), rel=1e-13) and fit.n == 500

    def test_gaussian_axis_and_extremes(self, rng):
        x = rng.normal(size=(3, 40))
        fit = prob.gaussian_mle(x, axis=1)
        np.testing.assert_allclose(fit.variance, x.var(axis=1), rtol=1e-13)
        big = prob.gaussian_mle([1.5e308, 1.7e308])
        assert big.mean == pytest.approx(1.6e308, rel=1e-15) and big.variance == np.inf
        assert prob.gaussian_mle([2.0, 2.0, 2.0]).variance == 0.0

    def test_gaussian_refuses_empty_and_non_finite(self):
        with pytest.raises(InvalidValueError, match="gaussian_mle: argument 'x' is empty"):
            prob.gaussian_mle([])
        for bad, what in (([1.0, np.nan], "NaN"), ([1.0, np.inf], "inf")):
            with pytest.raises(InvalidValueError, match=rf"gaussian_mle: argument 'x' contains {what}"):
                prob.gaussian_mle(bad)
        with pytest.raises(InvalidValueError, match="'axis'=2"):
            prob.gaussian_mle([1.0, 2.0], axis=2)

    def test_log_likelihood_chain_rule(self):
        # P(x1, x2, x3) = P(x1) P(x2 | x1) P(x3 | x1, x2), one row per factor
        rows = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.25, 0.25, 0.5]])
        obs = [0, 2, 1]
        expected = math.log(0.5) + math.log(0.8) + math.log(0.25)
        assert prob.categorical_log_likelihood(rows, obs) == pytest.approx(expected, rel=1e-15)
        iid = st.multinomial(3, [0.5, 0.3, 0.2]).logpmf([1, 1, 1]) - math.log(6)  # one ordering
        assert prob.categorical_log_likelihood([0.5, 0.3, 0.2], [0, 1, 2]) == pytest.approx(iid, rel=1e-13)
        assert prob.categorical_log_likelihood([1.0, 0.0], [1]) == -math.inf
        with pytest.raises(InvalidValueError):
            prob.categorical_log_likelihood([0.5, 0.5], [2])


@pytest.mark.lesson_bayes
class TestBayes:
    def test_closed_form(self, rng):
        prior = rng.dirichlet(np.ones(5))
        lik = rng.uniform(size=5)
        np.testing.assert_allclose(prob.bayes_posterior(prior, lik), prior * lik / (prior * lik).sum(),
                                   rtol=1e-14)

    def test_diagnostic_test_example(self):
        # P(sick | +) = 0.99 * 0.01 / (0.99 * 0.01 + 0.05 * 0.99) = 1/6
        assert prob.bayes_posterior([0.01, 0.99], [0.99, 0.05])[0] == pytest.approx(1 / 6, rel=1e-14)

    def test_tiny_and_huge_likelihoods(self):
        np.testing.assert_allclose(prob.bayes_posterior([0.5, 0.5], [1e-300, 3e-300]), [0.25, 0.75],
                                   rtol=1e-14)
        np.testing.assert_allclose(prob.bayes_posterior([0.5, 0.5], [1e300, 3e300]), [0.25, 0.75],
                                   rtol=1e-14)

    def test_sequential_updates_equal_one_batch_update(self, rng):
        prior = np.array([0.2, 0.5, 0.3])
        liks = rng.uniform(size=(4, 3))
        post = prior
        for lik in liks:
            post = prob.bayes_posterior(post, lik)
        np.testing.assert_allclose(post, prob.bayes_posterior(prior, liks.prod(axis=0)), rtol=1e-13)

    def test_broadcast_and_errors(self):
        out = prob.bayes_posterior([0.5, 0.5], [[1.0, 3.0], [1.0, 1.0]])
        np.testing.assert_allclose(out, [[0.25, 0.75], [0.5, 0.5]], rtol=1e-15, atol=0)
        with pytest.raises(InvalidValueError, match="evidence"):
            prob.bayes_posterior([1.0, 0.0], [0.0, 1.0])
        with pytest.raises(InvalidValueError, match="prior"):
            prob.bayes_posterior([0.5, 0.6], [1.0, 1.0])
        with pytest.raises(InvalidValueError, match="negative"):
            prob.bayes_posterior([0.5, 0.5], [1.0, -1.0])


@pytest.mark.lesson_random_variables
class TestMoments:
    def test_fair_die(self):
        p = np.full(6, 1 / 6)
        assert prob.expectation(np.arange(1, 7), p) == pytest.approx(3.5, rel=1e-15)
        assert prob.variance(np.arange(1, 7), p) == pytest.approx(35 / 12, rel=1e-14)

    def test_matches_scipy_rv_discrete(self, rng):
        xk, pk = rng.normal(size=8), rng.dirichlet(np.ones(8))
        ref = st.rv_discrete(values=(np.arange(8), pk))
        # rv_discrete needs integer support: map it through the values
        mean = (xk * ref.pmf(np.arange(8))).sum()
        assert prob.expectation(xk, pk) == pytest.approx(mean, rel=1e-13)
        assert prob.variance(xk, pk) == pytest.approx(((xk - mean) ** 2 * pk).sum(), rel=1e-12)
        assert prob.variance(np.arange(8), pk) == pytest.approx(ref.var(), rel=1e-12)

    def test_large_offset_does_not_cancel(self):
        # E[X^2] - E[X]^2 would lose every digit here
        v = 1e9 + np.array([0.0, 1.0])
        assert prob.variance(v, [0.5, 0.5]) == pytest.approx(0.25, rel=1e-12)

    def test_batched(self, rng):
        p = rng.dirichlet(np.ones(4), size=3)
        v = rng.normal(size=4)
        np.testing.assert_allclose(prob.expectation(v, p), p @ v, rtol=1e-14)
        with pytest.raises(ValueError, match="probs"):
            prob.expectation([1.0, 2.0], [[1.0]])
