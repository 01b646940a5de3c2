"""llmmath.info against scipy.stats.entropy, scipy.special.rel_entr,
scipy.spatial.distance.jensenshannon, mpmath and closed forms, plus the
identities of information theory as Hypothesis properties."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
from hypothesis import assume, given
from hypothesis import strategies as st_h
from hypothesis.extra import numpy as hnp
from scipy.spatial.distance import jensenshannon

from llmmath import info, prob
from llmmath.errors import InvalidValueError, ShapeError

pytestmark = pytest.mark.lesson_information


@st_h.composite
def distributions(draw, k=None, batch=(), dtype=np.float64, zeros=True):
    """Random distributions (some entries exactly 0) of shape batch + (k,)."""
    k = k or draw(st_h.integers(1, 8))
    w = draw(hnp.arrays(np.float64, batch + (k,), elements=st_h.floats(0, 10)))
    if not zeros:
        w = w + 0.01
    w[..., 0] += 1e-3  # never all zero
    return (w / w.sum(axis=-1, keepdims=True)).astype(dtype)


@st_h.composite
def pairs(draw, zeros=True):
    k = draw(st_h.integers(1, 8))
    batch = draw(st_h.sampled_from([(), (3,), (2, 2)]))
    return draw(distributions(k, batch, zeros=zeros)), draw(distributions(k, batch, zeros=zeros))


# ------------------------------------------------------------ references

class TestAgainstScipy:
    @pytest.mark.parametrize("base", [None, 2, 10])
    def test_entropy(self, rng, base):
        p = rng.dirichlet(np.ones(7) * 0.3, size=5)
        p[0, 2:] = 0
        p[0] /= p[0].sum()
        np.testing.assert_allclose(info.entropy(p, base=base), st.entropy(p, base=base, axis=-1),
                                   rtol=1e-14, atol=1e-16)
        np.testing.assert_allclose(info.entropy(p.T, base=base, axis=0),
                                   st.entropy(p, base=base, axis=-1), rtol=1e-14, atol=1e-16)

    @pytest.mark.parametrize("base", [None, 2])
    def test_kl_and_cross_entropy(self, rng, base):
        p, q = rng.dirichlet(np.ones(6), size=(2, 4))
        p[1, :2] = 0
        p[1] /= p[1].sum()
        np.testing.assert_allclose(info.kl_divergence(p, q, base=base),
                                   st.entropy(p, q, base=base, axis=-1), rtol=1e-13)
        np.testing.assert_allclose(info.kl_divergence(p, q), sp.rel_entr(p, q).sum(-1), rtol=1e-13)
        # cross-entropy as -sum xlogy(p, q), scipy's 0 log 0 convention
        np.testing.assert_allclose(info.cross_entropy(p, q), -sp.xlogy(p, q).sum(-1), rtol=1e-14)

    @pytest.mark.parametrize("base", [None, 2])
    def test_js_is_the_square_of_scipys_distance(self, rng, base):
        p, q = rng.dirichlet(np.ones(5) * 0.5, size=(2, 6))
        ref = jensenshannon(p, q, base=base, axis=-1) ** 2
        np.testing.assert_allclose(info.js_divergence(p, q, base=base), ref, rtol=1e-12)

    def test_mutual_information_and_conditional_entropy(self, rng):
        joint = rng.dirichlet(np.ones(12)).reshape(3, 4)
        hx, hy = st.entropy(joint.sum(1)), st.entropy(joint.sum(0))
        hxy = st.entropy(joint.ravel())
        assert info.mutual_information(joint) == pytest.approx(hx + hy - hxy, rel=1e-12)
        assert info.conditional_entropy(joint) == pytest.approx(hxy - hx, rel=1e-13)
        assert info.mutual_information(joint, base=2) == pytest.approx((hx + hy - hxy) / math.log(2),
                                                                         rel=1e-12)


class TestClosedForms:
    def test_uniform_and_certain(self):
        assert info.entropy(np.full(50_000, 1 / 50_000)) == pytest.approx(math.log(50_000), rel=1e-14)
        assert info.entropy([0.0, 1.0, 0.0]) == 0.0
        assert info.entropy([0.5, 0.25, 0.25], base=2) == pytest.approx(1.5, rel=1e-15)

    def test_mpmath_spot_values(self):
        p = [0.1, 0.2, 0.3, 0.4]
        q = [0.4, 0.3, 0.2, 0.1]
        with mpmath.workdps(50):
            mp = [mpmath.mpf(v) for v in ("0.1", "0.2", "0.3", "0.4")]
            mq = mp[::-1]
            h = -mpmath.fsum(v * mpmath.log(v) for v in mp)
            kl = mpmath.fsum(a * mpmath.log(a / b) for a, b in zip(mp, mq, strict=True))
        assert info.entropy(p) == pytest.approx(float(h), rel=1e-15)
        assert info.kl_divergence(p, q) == pytest.approx(float(kl), rel=1e-14)

    def test_syllabus_cross_entropy(self):
        # syllabus file 002 prints 0.1699 for -log softmax([3, 1, 0.2])[0]
        q = prob.softmax([3.0, 1.0, 0.2])
        with mpmath.workdps(50):
            e = [mpmath.exp(v) for v in (3, 1, mpmath.mpf("0.2"))]
            ref = float(-mpmath.log(e[0] / mpmath.fsum(e)))
        loss = float(info.cross_entropy([1.0, 0.0, 0.0], q))
        assert loss == pytest.approx(ref, rel=1e-14)
        assert round(loss, 4) == 0.1791

    def test_infinities_and_zeros(self):
        assert info.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
        assert info.cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
        assert info.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2), rel=1e-15)
        assert info.js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2), rel=1e-15)
        # subnormal q: log q is finite, no overflow in p / q
        assert info.kl_divergence([0.5, 0.5], [1.0 - 5e-324, 5e-324]) == pytest.approx(
            0.5 * math.log(0.5) + 0.5 * (math.log(0.5) - math.log(5e-324)), rel=1e-14)

    def test_perplexity(self, rng):
        nll = rng.exponential(2.0, size=100)
        assert info.perplexity(nll) == pytest.approx(math.exp(nll.mean()), rel=1e-14)
        assert info.perplexity(nll / math.log(2), base=2) == pytest.approx(math.exp(nll.mean()), rel=1e-13)
        assert info.bits_per_token(nll) == pytest.approx(nll.mean() / math.log(2), rel=1e-14)
        np.testing.assert_allclose(info.perplexity(nll.reshape(4, 25), axis=1),
                                   np.exp(nll.reshape(4, 25).mean(1)), rtol=1e-14)
        assert info.perplexity([0.0, 0.0]) == 1.0
        assert info.perplexity([1.0, np.inf]) == np.inf
        assert info.perplexity([800.0]) == np.inf  # beyond float range, silently inf

    def test_perplexity_equals_exp_cross_entropy_of_a_model(self, rng):
        # a "model" q and tokens drawn from it: PPL = exp(mean -log q[x])
        q = rng.dirichlet(np.ones(20))
        tokens = rng.choice(20, size=300, p=q)
        nll = -np.log(q[tokens])
        onehot = np.eye(20)[tokens]
        assert info.perplexity(nll) == pytest.approx(
            math.exp(info.cross_entropy(onehot, q).mean()), rel=1e-13)

    def test_unit_conversions(self):
        assert info.nats_to_bits(math.log(2)) == pytest.approx(1.0, rel=1e-15)
        assert info.nats_to_bits(1.7) == pytest.approx(1.7 / math.log(2), rel=1e-15)
        assert info.bits_to_nats(1.7) == pytest.approx(1.7 * math.log(2), rel=1e-15)
        np.testing.assert_array_equal(info.bits_to_nats([np.inf, 0.0]), [np.inf, 0.0])
        assert info.bits_to_nats(info.nats_to_bits(1.7)) == pytest.approx(1.7, rel=1e-15)
        assert info.nats_to_bits(info.entropy([0.3, 0.7])) == pytest.approx(
            st.entropy([0.3, 0.7], base=2), rel=1e-15)

    def test_mutual_information_extremes(self):
        joint = np.diag([0.2, 0.3, 0.5])  # Y = X
        assert info.mutual_information(joint) == pytest.approx(info.entropy([0.2, 0.3, 0.5]), rel=1e-14)
        indep = np.outer([0.2, 0.8], [0.1, 0.6, 0.3])
        assert info.mutual_information(indep) == pytest.approx(0.0, abs=1e-16)
        batch = np.stack([joint[:2, :2] / 0.5, np.full((2, 2), 0.25)])
        np.testing.assert_allclose(info.mutual_information(batch), [info.entropy([0.4, 0.6]), 0.0],
                                   atol=1e-15)


class TestValidation:
    def test_not_a_distribution(self):
        with pytest.raises(InvalidValueError, match="sums to"):
            info.entropy([0.5, 0.6])
        with pytest.raises(InvalidValueError, match="negative"):
            info.kl_divergence([1.2, -0.2], [0.5, 0.5])
        with pytest.raises(InvalidValueError, match="'q'"):
            info.cross_entropy([0.5, 0.5], [0.5, np.nan])
        with pytest.raises(ShapeError):
            info.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
        with pytest.raises(InvalidValueError, match="base"):
            info.entropy([0.5, 0.5], base=1)
        with pytest.raises(InvalidValueError, match="nll"):
            info.perplexity([1.0, -0.5])
        with pytest.raises(InvalidValueError, match="nll"):
            info.perplexity([])
        with pytest.raises(ShapeError, match="joint"):
            info.mutual_information([0.5, 0.5])

    def test_js_conditional_and_unit_functions_refuse_bad_input(self):
        with pytest.raises(InvalidValueError, match="js_divergence: argument 'p' sums to 1.1"):
            info.js_divergence([0.5, 0.6], [0.5, 0.5])
        with pytest.raises(InvalidValueError, match="js_divergence: argument 'q' has a negative"):
            info.js_divergence([0.5, 0.5], [1.2, -0.2])
        with pytest.raises(ShapeError, match="js_divergence"):
            info.js_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
        with pytest.raises(InvalidValueError, match="js_divergence: argument 'base'"):
            info.js_divergence([0.5, 0.5], [0.5, 0.5], base=-1)
        with pytest.raises(ShapeError, match="conditional_entropy: argument 'joint'"):
            info.conditional_entropy([0.5, 0.5])
        with pytest.raises(InvalidValueError, match="conditional_entropy: argument 'joint' has a negative"):
            info.conditional_entropy([[0.6, -0.1], [0.25, 0.25]])
        for f in (info.mutual_information, info.conditional_entropy):
            with pytest.raises(InvalidValueError, match=rf"{f.__name__}: argument 'joint' sums to 1.2"):
                f([[0.6, 0.1], [0.25, 0.25]])
        with pytest.raises(InvalidValueError, match="bits_per_token: argument 'nll' has a negative"):
            info.bits_per_token([1.0, -0.5])
        with pytest.raises(InvalidValueError, match="bits_per_token: argument 'nll' is empty"):
            info.bits_per_token([])
        with pytest.raises(InvalidValueError, match="bits_per_token: argument 'nll' contains NaN"):
            info.bits_per_token([np.nan])
        for f in (info.nats_to_bits, info.bits_to_nats):
            with pytest.raises(InvalidValueError, match=rf"{f.__name__}: argument 'x' contains NaN"):
                f([1.0, np.nan])
            with pytest.raises(TypeError, match=rf"{f.__name__}: argument 'x'"):
                f("abc")


# ------------------------------------------------------------ identities

@given(pq=pairs())
def test_cross_entropy_is_entropy_plus_kl(pq):
    p, q = pq
    h, ce, kl = info.entropy(p), info.cross_entropy(p, q), info.kl_divergence(p, q)
    finite = np.isfinite(ce)
    np.testing.assert_array_equal(np.isfinite(kl), finite)
    np.testing.assert_allclose(ce[finite], (h + kl)[finite], rtol=1e-10, atol=1e-12)


@given(pq=pairs())
def test_gibbs_inequality_and_js_bounds(pq):
    p, q = pq
    assert (info.kl_divergence(p, q) >= 0).all()
    assert (info.kl_divergence(p, p) <= 1e-15).all()
    js = info.js_divergence(p, q)
    assert ((0 <= js) & (js <= math.log(2))).all()
    np.testing.assert_allclose(js, info.js_divergence(q, p), rtol=1e-12, atol=1e-15)


@given(p=distributions(batch=(3,)))
def test_entropy_is_between_zero_and_log_k(p):
    h = info.entropy(p)
    assert ((h >= 0) & (h <= math.log(p.shape[-1]) + 1e-12)).all()
    assert np.isclose(info.entropy(p, base=2), h / math.log(2), rtol=1e-13).all()


@given(p=distributions(batch=(4,), dtype=np.float32), q=st_h.data())
def test_float32_in_float32_out(p, q):
    q = q.draw(distributions(p.shape[-1], (4,), dtype=np.float32))
    for value in (info.entropy(p), info.cross_entropy(p, q), info.kl_divergence(p, q),
                  info.js_divergence(p, q), info.perplexity(np.abs(p)), info.nats_to_bits(p)):
        assert value.dtype == np.float32
    np.testing.assert_allclose(info.entropy(p), st.entropy(p.astype(np.float64), axis=-1),
                               rtol=1e-4, atol=1e-6)


@given(joint=distributions(k=12, zeros=True))
def test_mutual_information_identities(joint):
    joint = joint.reshape(3, 4)
    hx, hy = info.entropy(joint.sum(1)), info.entropy(joint.sum(0))
    hxy = info.entropy(joint.ravel())
    mi = info.mutual_information(joint)
    assert mi >= 0 and mi <= min(hx, hy) + 1e-12
    assert mi == pytest.approx(hx + hy - hxy, abs=1e-12)
    assert info.conditional_entropy(joint) == pytest.approx(hxy - hx, abs=1e-12)


@given(p=distributions(batch=(2, 3)))
def test_batched_shapes(p):
    q = p[::-1]
    assert info.entropy(p).shape == (2, 3)
    assert info.kl_divergence(p, q).shape == (2, 3)
    assert info.kl_divergence(p, q[0, 0]).shape == (2, 3)  # broadcasts
    assert info.entropy(np.moveaxis(p, -1, 0), axis=0).shape == (2, 3)
    assume(p.shape[-1] > 1)
    np.testing.assert_allclose(info.cross_entropy(p, q)[1, 2], info.cross_entropy(p[1, 2], q[1, 2]))
