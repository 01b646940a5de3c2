"""Library support for the probability and information lessons, against independent references.

- ``prob.normal_logpdf`` / ``prob.normal_pdf``: scipy.stats.norm and mpmath.
- ``prob.ridge_regression``: the normal equations solved by scipy.linalg, the
  minimum-norm least-squares solution of scipy.linalg.lstsq, and
  scipy.optimize.minimize on the penalised loss.
- ``prob.linear_gaussian_posterior``: scipy.optimize.minimize on the negative
  log posterior written with scipy.stats.norm.logpdf (the MAP), and the
  inverse Hessian of that function (the covariance) by scipy.linalg.inv.
- ``prob.decoding_distribution``: a sort-based reference written from the
  published rules (Fan et al. 2018; Holtzman et al. 2020; Nguyen et al. 2024)
  and the frequencies of ``prob.sample``'s draws.
- ``NGramLM.num_ngrams``: a brute-force count of padded tuples.

Each function is also fuzzed with the shared harness (tests/fuzz.py).
"""

from __future__ import annotations

from collections import Counter

import mpmath
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.optimize as so
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as st_h
from hypothesis.extra import numpy as hnp

from fuzz import anything, check_call
from llmmath import prob
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.ngram import BOS, NGramLM

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")

scalars = st_h.one_of(anything(max_dims=0), st_h.floats(-3, 3), st_h.integers(-2, 6),
                      st_h.sampled_from([0, 0.0, 1, 1.0, None, True, np.float32(0.5)]))


# ------------------------------------------------------------------ the normal density

@pytest.mark.lesson_random_variables
class TestNormalDensity:
    def test_matches_scipy(self, rng):
        x = rng.normal(0, 5, size=(4, 6))
        mu = rng.normal(size=6)
        sd = rng.uniform(0.1, 4, size=(4, 1))
        np.testing.assert_allclose(prob.normal_logpdf(x, mu, sd), st.norm.logpdf(x, mu, sd),
                                   rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(prob.normal_pdf(x, mu, sd), st.norm.pdf(x, mu, sd),
                                   rtol=1e-13, atol=1e-300)

    def test_mpmath_tail_and_centre(self):
        with mpmath.workdps(40):
            for x, mu, sd in [(0.0, 0.0, 1.0), (40.0, 0.0, 1.0), (-3.5, 1.0, 0.25), (1e3, 0, 1e-2)]:
                z = (mpmath.mpf(x) - mu) / sd
                ref = -z * z / 2 - mpmath.log(sd) - mpmath.log(2 * mpmath.pi) / 2
                got = float(prob.normal_logpdf(x, mu, sd))
                assert got == pytest.approx(float(ref), rel=1e-14)

    def test_limits(self):
        assert prob.normal_logpdf(np.inf).item() == -np.inf
        assert prob.normal_logpdf(-np.inf, 3.0, 2.0).item() == -np.inf
        assert prob.normal_pdf(60.0).item() == 0.0             # underflows quietly
        assert np.isfinite(prob.normal_logpdf(60.0))            # the log does not
        assert prob.normal_logpdf(1e308, -1e308, 1e-3).item() == -np.inf

    def test_integrates_to_one(self):
        # trapezoid rule on a fine grid against the exact integral 1
        x = np.linspace(-12.0, 14.0, 200_001)
        y = prob.normal_pdf(x, 1.0, 1.7)
        assert float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))) == pytest.approx(1.0, abs=1e-10)

    def test_dtypes(self):
        x32 = np.array([0.5, -1.0], dtype=np.float32)
        assert prob.normal_logpdf(x32).dtype == np.float32
        assert prob.normal_pdf(x32, 1.0, 2).dtype == np.float32
        assert prob.normal_pdf(x32, np.array([1.0])).dtype == np.float64
        assert prob.normal_pdf([0, 1]).dtype == np.float64

    def test_errors(self):
        with pytest.raises(InvalidValueError, match="'std' must be > 0"):
            prob.normal_pdf(0.0, 0.0, 0.0)
        with pytest.raises(InvalidValueError, match="'x'"):
            prob.normal_logpdf([np.nan])
        with pytest.raises(InvalidValueError, match="'mean'"):
            prob.normal_logpdf(0.0, np.inf)
        with pytest.raises(ShapeError, match="broadcast"):
            prob.normal_logpdf(np.zeros(3), np.zeros(2))
        with pytest.raises(InvalidTypeError):
            prob.normal_pdf("x")

    @given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5),
                        elements=st_h.floats(-1e6, 1e6)),
           mu=st_h.floats(-1e3, 1e3), sd=st_h.floats(1e-3, 1e3))
    def test_property_against_scipy(self, x, mu, sd):
        np.testing.assert_allclose(prob.normal_logpdf(x, mu, sd), st.norm.logpdf(x, mu, sd),
                                   rtol=1e-12, atol=1e-12)

    @given(x=anything(), mu=scalars, sd=scalars)
    def test_fuzz(self, x, mu, sd):
        check_call(prob.normal_logpdf, x, mu, sd)
        p = check_call(prob.normal_pdf, x, mu, sd)
        if p is not None:
            assert (np.asarray(p) >= 0).all()


# ------------------------------------------------------------------ ridge and the Gaussian posterior

def _regression(rng, n=30, d=4, k=None):
    X = rng.normal(size=(n, d))
    w = rng.normal(size=(d,) if k is None else (d, k))
    y = X @ w + 0.3 * rng.normal(size=(n,) if k is None else (n, k))
    return X, y


@pytest.mark.lesson_bayes
class TestRidge:
    @pytest.mark.parametrize("lam", [0.0, 1e-3, 0.7, 25.0])
    def test_normal_equations(self, rng, lam):
        X, y = _regression(rng)
        ref = sla.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y, assume_a="pos")
        np.testing.assert_allclose(prob.ridge_regression(X, y, lam), ref, rtol=1e-10, atol=1e-12)

    def test_minimises_the_penalised_loss(self, rng):
        X, y = _regression(rng, n=12, d=3)
        lam = 2.5
        res = so.minimize(lambda w: np.sum((y - X @ w) ** 2) + lam * w @ w, np.zeros(3),
                          method="BFGS", options={"gtol": 1e-10})
        np.testing.assert_allclose(prob.ridge_regression(X, y, lam), res.x, atol=1e-6)

    def test_lam_zero_is_minimum_norm_least_squares(self, rng):
        X = rng.normal(size=(3, 6))                      # underdetermined: many exact fits
        y = rng.normal(size=3)
        ref, *_ = sla.lstsq(X, y)
        np.testing.assert_allclose(prob.ridge_regression(X, y, 0.0), ref, rtol=1e-10, atol=1e-12)
        Xr = np.c_[X.T, X.T[:, :1]]                       # (6, 4) of rank 3
        yr = rng.normal(size=6)
        ref, *_ = sla.lstsq(Xr, yr)
        np.testing.assert_allclose(prob.ridge_regression(Xr, yr, 0.0), ref, rtol=1e-9, atol=1e-10)

    def test_several_targets_and_scale(self, rng):
        X, Y = _regression(rng, k=3)
        W = prob.ridge_regression(X, Y, 1.5)
        for j in range(3):
            np.testing.assert_allclose(W[:, j], prob.ridge_regression(X, Y[:, j], 1.5), rtol=1e-12)
        # scaling X and y by c and lam by c^2 leaves the weights unchanged (and nothing overflows)
        c = 2.0 ** 500
        np.testing.assert_allclose(prob.ridge_regression(X * c, Y * c, 1.5 * c * c), W, rtol=1e-10)

    def test_errors(self, rng):
        X, y = _regression(rng)
        with pytest.raises(InvalidValueError, match="'lam'"):
            prob.ridge_regression(X, y, -1.0)
        with pytest.raises(ShapeError, match="rows"):
            prob.ridge_regression(X, y[:-1], 1.0)
        with pytest.raises(ShapeError, match="'X'"):
            prob.ridge_regression(np.zeros((0, 2)), np.zeros(0), 1.0)
        with pytest.raises(InvalidValueError, match="'y'"):
            prob.ridge_regression(X, np.full(len(y), np.inf), 1.0)

    @given(X=anything(), y=anything(), lam=scalars)
    def test_fuzz(self, X, y, lam):
        w = check_call(prob.ridge_regression, X, y, lam)
        if w is not None:
            assert w.shape[0] == np.asarray(X).shape[1]


@pytest.mark.lesson_bayes
class TestLinearGaussianPosterior:
    @pytest.mark.parametrize("noise_std,prior_std", [(0.3, 1.0), (1.0, 0.2), (2.0, 10.0)])
    def test_map_by_optimisation(self, rng, noise_std, prior_std):
        X, y = _regression(rng, n=15, d=3)

        def neg_log_post(w):
            return -(st.norm.logpdf(y, X @ w, noise_std).sum()
                     + st.norm.logpdf(w, 0.0, prior_std).sum())

        res = so.minimize(neg_log_post, np.zeros(3), method="BFGS", options={"gtol": 1e-9})
        post = prob.linear_gaussian_posterior(X, y, noise_std, prior_std)
        np.testing.assert_allclose(post.mean, res.x, atol=1e-5)
        assert post.ridge_lambda == pytest.approx((noise_std / prior_std) ** 2, rel=1e-15)
        # the MAP is the ridge solution with lam = s^2 / s_p^2, as solved by scipy
        ref = sla.solve(X.T @ X + post.ridge_lambda * np.eye(3), X.T @ y)
        np.testing.assert_allclose(post.mean, ref, rtol=1e-10)

    def test_covariance_is_inverse_hessian(self, rng):
        X, y = _regression(rng, n=8, d=5)
        s, sp = 0.5, 1.5
        hess = X.T @ X / s**2 + np.eye(5) / sp**2       # Hessian of -log posterior
        post = prob.linear_gaussian_posterior(X, y, s, sp)
        np.testing.assert_allclose(post.cov, sla.inv(hess), rtol=1e-10, atol=1e-14)
        assert np.array_equal(post.cov, post.cov.T)

    def test_more_weights_than_data(self, rng):
        # directions X cannot see keep the prior variance
        X = rng.normal(size=(2, 4))
        post = prob.linear_gaussian_posterior(X, rng.normal(size=2), 1.0, 3.0)
        null = sla.null_space(X)                          # (4, 2)
        np.testing.assert_allclose(null.T @ post.cov @ null, 9.0 * np.eye(2), atol=1e-10)

    def test_limits_of_the_prior(self, rng):
        X, y = _regression(rng)
        wide = prob.linear_gaussian_posterior(X, y, 1.0, 1e8)
        ols, *_ = sla.lstsq(X, y)
        np.testing.assert_allclose(wide.mean, ols, rtol=1e-8)
        tight = prob.linear_gaussian_posterior(X, y, 1.0, 1e-200)
        assert np.array_equal(tight.mean, np.zeros(4)) and np.all(np.isfinite(tight.cov))

    def test_errors(self, rng):
        X, y = _regression(rng)
        with pytest.raises(InvalidValueError, match="'noise_std'"):
            prob.linear_gaussian_posterior(X, y, 0.0, 1.0)
        with pytest.raises(InvalidValueError, match="'prior_std'"):
            prob.linear_gaussian_posterior(X, y, 1.0, -2.0)
        with pytest.raises(InvalidValueError, match="beyond the float range"):
            prob.linear_gaussian_posterior(np.zeros((2, 2)), np.zeros(2), 1.0, 1e200)

    @given(X=anything(), y=anything(), s=scalars, sp=scalars)
    def test_fuzz(self, X, y, s, sp):
        post = check_call(prob.linear_gaussian_posterior, X, y, s, sp)
        if post is not None:
            assert np.all(np.diag(post.cov) >= 0)


# ------------------------------------------------------------------ decoding

def reference_decoding(z, temperature, top_k, top_p, min_p):
    """Sort-based reference, one token at a time, from the published rules."""
    z = np.asarray(z, dtype=np.float64)
    V = len(z)
    if temperature == 0:
        out = np.zeros(V)
        out[int(np.argmax(z))] = 1.0
        return out
    keep = np.isfinite(z)
    z = np.where(keep, z / temperature, -np.inf)

    def probs(mask):
        e = np.where(mask, np.exp(z - z[mask].max()), 0.0)
        return e / e.sum()

    if top_k is not None:      # keep logits >= the k-th largest
        kth = sorted(z, reverse=True)[min(top_k, V) - 1]
        keep &= z >= kth
    if top_p is not None:      # keep while the mass ranked strictly above is < p (ties kept)
        p = probs(keep)
        order = sorted(range(V), key=lambda i: -p[i])
        above, last = 0.0, None
        nucleus = np.zeros(V, bool)
        for i in order:
            if p[i] == 0:
                break
            if above < top_p or last is None:
                nucleus[i], last = True, p[i]
                above += p[i]
            elif p[i] == last:
                nucleus[i] = True
        keep &= nucleus
    if min_p is not None:      # keep p_i >= min_p * max p
        p = probs(keep)
        keep &= p >= min_p * p.max() * (1 - 1e-12)
    return probs(keep)


@pytest.mark.lesson_sampling
class TestDecodingDistribution:
    @pytest.mark.parametrize("t,k,p,m", [
        (1.0, None, None, None), (0.7, 3, None, None), (1.3, None, 0.8, None),
        (1.0, None, None, 0.2), (0.5, 5, 0.9, 0.05), (2.0, 2, 0.3, None), (0.0, 3, 0.5, 0.5),
    ])
    def test_matches_reference(self, rng, t, k, p, m):
        for _ in range(20):
            z = rng.normal(0, 2, size=8)
            got = prob.decoding_distribution(z, t, k, p, m)
            np.testing.assert_allclose(got, reference_decoding(z, t, k, p, m), atol=1e-12)

    def test_sample_draws_from_it(self):
        z = np.log([0.35, 0.25, 0.2, 0.1, 0.06, 0.04])
        dist = prob.decoding_distribution(z, 0.8, top_k=5, top_p=0.9)
        draws = prob.sample(z, 0.8, top_k=5, top_p=0.9, rng=0, num_samples=40_000)
        counts = np.bincount(draws, minlength=6)
        assert counts[dist == 0].sum() == 0
        kept = dist > 0
        res = st.chisquare(counts[kept], 40_000 * dist[kept])
        assert res.pvalue > 1e-3

    def test_greedy_ties_and_batches(self):
        z = np.array([[1.0, 3.0, 3.0], [0.0, -np.inf, 2.0]])
        assert prob.decoding_distribution(z, 0.0).tolist() == [[0, 1, 0], [0, 0, 1]]
        assert [int(prob.sample(r, temperature=0)) for r in z] == [1, 2]
        out = prob.decoding_distribution(z.astype(np.float32), 1.0, top_k=1)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, [[0, 0.5, 0.5], [0, 0, 1]])

    def test_errors(self):
        op = "decoding_distribution"
        with pytest.raises(InvalidValueError, match=f"{op}: argument 'temperature' must be >= 0.0"):
            prob.decoding_distribution([1.0, 2.0], -1.0)
        with pytest.raises(InvalidValueError, match=f"{op}: argument 'top_k' must be >= 1"):
            prob.decoding_distribution([1.0, 2.0], 1.0, top_k=0)
        with pytest.raises(InvalidValueError, match=f"{op}: argument 'top_p' must be <= 1.0"):
            prob.decoding_distribution([1.0, 2.0], 1.0, top_p=2.0)
        with pytest.raises(InvalidValueError, match=f"{op}: argument 'min_p' must be >= 0.0"):
            prob.decoding_distribution([1.0, 2.0], 1.0, min_p=-0.1)
        with pytest.raises(InvalidValueError, match=f"{op}: argument 'logits' has a slice .* entirely -inf"):
            prob.decoding_distribution([-np.inf, -np.inf], 1.0)
        with pytest.raises(InvalidValueError, match=f"{op}: argument 'logits' contains NaN"):
            prob.decoding_distribution([np.nan, 1.0], 1.0)

    @given(x=anything(), t=scalars, k=scalars, p=scalars, m=scalars)
    def test_fuzz(self, x, t, k, p, m):
        out = check_call(prob.decoding_distribution, x, t, top_k=k, top_p=p, min_p=m)
        if out is not None and out.size:
            assert (out >= 0).all() and np.allclose(out.sum(axis=-1), 1.0, atol=1e-4)


# ------------------------------------------------------------------ n-gram table sizes

@pytest.mark.lesson_ngrams
@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_num_ngrams_by_brute_force(order):
    text = "the cat sat on the mat; the rat sat on the cat."
    lm = NGramLM(order).fit(text)
    padded = [BOS] * (order - 1) + list(text)
    for m in range(1, order + 1):
        grams = Counter(tuple(padded[i - m + 1:i + 1]) for i in range(order - 1, len(padded)))
        assert lm.num_ngrams(m) == len(grams), m
    assert lm.num_ngrams() == lm.num_ngrams(order)
    with pytest.raises(InvalidValueError, match="'m'"):
        lm.num_ngrams(order + 1)
