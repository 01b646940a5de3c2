"""Fuzz the public API of llmmath.prob with the shared harness (tests/fuzz.py).

Every function gets odd shapes, dtypes, NaN/inf, junk objects and odd
parameters. It must return a clean result (checked below where a property is
cheap to state) or raise ValueError/TypeError naming what was wrong.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import anything, check_call, weird_arrays
from llmmath import prob

pytestmark = [
    pytest.mark.lesson_sampling,
]

COVERED = {
    "softmax", "log_softmax", "logsumexp", "sigmoid", "log_sigmoid",
    "filter_top_k", "filter_top_p", "filter_min_p", "sample",
    "categorical_mle", "gaussian_mle", "bayes_posterior", "expectation", "variance",
    "categorical_log_likelihood",
    # fuzzed in test_lesson_support_prob.py, next to their reference tests
    "decoding_distribution", "normal_logpdf", "normal_pdf", "ridge_regression",
    "linear_gaussian_posterior",
}

scalars = st.one_of(anything(max_dims=0), st.floats(-2, 3), st.integers(-2, 12),
                    st.sampled_from([0, 0.0, 1, 1.0, None, True, np.float32(0.5)]))
axes = st.one_of(st.integers(-4, 4), st.sampled_from([None, 1.0, "x"]))


@st.composite
def distributions(draw):
    """Valid distributions (so later checks are reached), sometimes spoiled."""
    w = draw(weird_arrays(max_dims=2, min_dims=1))
    if w.dtype.kind in "fiub" and w.size and draw(st.booleans()):
        with np.errstate(all="ignore"):
            w = np.abs(w.astype(np.float64))
            w = np.where(np.isfinite(w), w, 1.0) + 1e-3
            w = w / w.sum(axis=-1, keepdims=True)
    return w


def test_covered_names_are_the_public_api():
    assert COVERED == set(prob.__all__)


@given(x=anything(), axis=axes, t=scalars)
def test_softmax_family(x, axis, t):
    p = check_call(prob.softmax, x, axis=axis, temperature=t)
    if p is not None and p.size:
        assert (p >= 0).all() and np.allclose(p.sum(axis=axis), 1.0, atol=1e-4)
    lp = check_call(prob.log_softmax, x, axis=axis, temperature=t)
    if lp is not None:
        assert (lp <= 1e-6).all()
    check_call(prob.logsumexp, x, axis=axis, keepdims=t)
    check_call(prob.logsumexp, x, axis=axis)


@given(x=anything())
def test_sigmoids(x):
    s = check_call(prob.sigmoid, x)
    if s is not None:
        assert ((s >= 0) & (s <= 1)).all()
    ls = check_call(prob.log_sigmoid, x)
    if ls is not None:
        assert (ls <= 0).all()


@given(x=anything(), k=scalars, p=scalars)
def test_filters(x, k, p):
    for f, arg in ((prob.filter_top_k, k), (prob.filter_top_p, p), (prob.filter_min_p, p)):
        out = check_call(f, x, arg)
        if out is not None and out.size:
            assert np.isfinite(out).any(axis=-1).all(), f.__name__


@given(x=anything(), t=scalars, k=scalars, p=scalars, m=scalars, n=scalars,
       rng=st.one_of(st.integers(-1, 3), st.sampled_from([None, "seed", 1.5])))
def test_sample(x, t, k, p, m, n, rng):
    out = check_call(prob.sample, x, temperature=t, top_k=k, top_p=p, min_p=m, rng=rng,
                     num_samples=n)
    if out is not None:
        xs = np.asarray(x)
        ids = np.asarray(out)
        assert ids.dtype.kind == "i" and ((ids >= 0) & (ids < xs.shape[-1])).all()
    check_call(prob.sample, x, rng=0)


@given(counts=anything(), axis=axes, alpha=scalars)
def test_categorical_mle(counts, axis, alpha):
    out = check_call(prob.categorical_mle, counts, axis=axis, alpha=alpha)
    if out is not None and out.size:
        assert (out >= 0).all()


@given(x=anything(), axis=axes)
def test_gaussian_mle(x, axis):
    fit = check_call(prob.gaussian_mle, x, axis=axis)
    if fit is not None:
        assert np.all(np.asarray(fit.variance) >= 0)


@given(prior=st.one_of(distributions(), anything()), lik=anything(), axis=axes)
def test_bayes_posterior(prior, lik, axis):
    out = check_call(prob.bayes_posterior, prior, lik, axis=axis)
    if out is not None and out.size:
        assert (out >= 0).all()


@given(values=anything(), probs=st.one_of(distributions(), anything()), axis=axes)
def test_moments(values, probs, axis):
    check_call(prob.expectation, values, probs, axis=axis)
    var = check_call(prob.variance, values, probs, axis=axis)
    if var is not None:
        assert (np.asarray(var) >= 0).all()


@given(probs=st.one_of(distributions(), anything()), obs=anything(max_dims=1))
def test_categorical_log_likelihood(probs, obs):
    ll = check_call(prob.categorical_log_likelihood, probs, obs)
    if ll is not None:
        assert ll <= 1e-9
