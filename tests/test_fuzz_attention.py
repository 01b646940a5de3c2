"""Fuzz the public API of llmmath.attention with the shared harness (tests/fuzz.py).

Random shapes, dtypes, NaN/inf, masks and junk: a clean result (row-stochastic
weights, a probability vector, a gap in [0, 1]) or a ValueError/TypeError that
names the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fuzz import anything, check_call, junk, special_floats
from llmmath import attention as att

pytestmark = [
    pytest.mark.lesson_attention,
]

COVERED = {"scaled_dot_product_attention", "causal_mask", "sinusoidal_positions",
           "multi_head_attention", "stationary_distribution", "spectral_gap", "rope_frequencies",
           "rope"}

small_ints = st.one_of(st.integers(-1, 5), st.integers(1, 4), junk(), st.floats(allow_nan=True), st.booleans())
finite_awkward = st.sampled_from([0.0, -0.0, 1e300, -1e300, 1e-300, 1e4, -1e4])


def values(shape):
    return st.one_of(
        hnp.arrays(np.float64, shape, elements=st.floats(-10, 10)),
        hnp.arrays(np.float64, shape, elements=st.one_of(st.floats(-10, 10), finite_awkward)),
        hnp.arrays(np.float32, shape, elements=st.one_of(st.floats(-10, 10, width=32), st.sampled_from([1e4, -1e4]))),
        hnp.arrays(np.float64, shape, elements=st.one_of(st.floats(-10, 10), special_floats)),
    )


def test_covered_names_are_the_public_api():
    assert COVERED == set(att.__all__)


def check_weights(w):
    assert (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)


@given(q=anything(), k=anything(), v=anything(), mask=st.one_of(st.none(), anything()),
       causal=st.one_of(st.booleans(), junk()), scale=st.one_of(st.none(), anything(max_dims=0)))
def test_sdpa_refuses_cleanly(q, k, v, mask, causal, scale):
    check_call(att.scaled_dot_product_attention, q, k, v, mask=mask, causal=causal, scale=scale)


@given(data=st.data(), tq=st.integers(0, 3), tk=st.integers(0, 3), d=st.integers(0, 3),
       causal=st.booleans(), scale=st.one_of(st.none(), st.floats(-5, 5), st.floats()))
def test_sdpa_on_compatible_shapes(data, tq, tk, d, causal, scale):
    q, k, v = data.draw(values((2, tq, d))), data.draw(values((tk, d))), data.draw(values((tk, 2)))
    mask = data.draw(st.one_of(st.none(), hnp.arrays(np.bool_, st.sampled_from([(tq, tk), (1, tk), (2, 1, tk), (tk,)]))))
    out = check_call(att.scaled_dot_product_attention, q, k, v, mask=mask, causal=causal, scale=scale)
    if out is not None:
        assert out[0].shape == (2, tq, 2) and out[1].shape == (2, tq, tk)
        check_weights(out[1])


@given(T=small_ints, n_keys=st.one_of(st.none(), small_ints))
def test_causal_mask(T, n_keys):
    m = check_call(att.causal_mask, T, n_keys)
    if m is not None:
        assert m.dtype == bool and m.shape == (T, T if n_keys is None else n_keys)


@given(T=small_ints, d=small_ints, base=st.one_of(st.floats(), small_ints))
def test_sinusoidal_positions(T, d, base):
    pe = check_call(att.sinusoidal_positions, T, d, base)
    if pe is not None:
        assert pe.shape == (T, d) and (np.abs(pe) <= 1).all()


@given(x=anything(), w=anything(max_dims=2), n_heads=small_ints, causal=st.one_of(st.booleans(), junk()))
def test_mha_refuses_cleanly(x, w, n_heads, causal):
    check_call(att.multi_head_attention, x, w, w, w, w, n_heads, causal)


@given(data=st.data(), T=st.integers(0, 3), C=st.integers(0, 4), n_heads=small_ints, causal=st.booleans())
def test_mha_on_compatible_shapes(data, T, C, n_heads, causal):
    x = data.draw(values((2, T, C)))
    ws = [data.draw(values((C, C))) for _ in range(4)]
    out = check_call(att.multi_head_attention, x, *ws, n_heads=n_heads, causal=causal)
    if out is not None:
        assert out[0].shape == (2, T, C) and out[1].shape == (2, n_heads, T, T)
        check_weights(out[1])


@given(A=anything())
def test_markov_refuses_cleanly(A):
    check_call(att.stationary_distribution, A)
    check_call(att.spectral_gap, A)


@given(n=st.integers(0, 5), seed=st.integers(0, 2**16), density=st.floats(0, 1),
       dtype=st.sampled_from([np.float32, np.float64]), tweak=st.sampled_from([None, "neg", "sum", "nan", "tiny"]))
def test_markov_on_near_stochastic_matrices(n, seed, density, dtype, tweak):
    rng = np.random.default_rng(seed)
    A = rng.random((2, n, n)) * (rng.random((2, n, n)) < density)
    if n:
        A[..., 0] += (A.sum(axis=-1) == 0)  # no empty rows
        A /= A.sum(axis=-1, keepdims=True)
        if tweak == "neg":
            A[0, 0, 0] -= 0.5
        elif tweak == "sum":
            A[1, -1] *= 1.01
        elif tweak == "nan":
            A[0, 0, -1] = np.nan
        elif tweak == "tiny":
            A = A * (1 - 1e-300) + 1e-300 * (A > 0)  # keeps the pattern, adds subnormal noise
    A = A.astype(dtype)
    pi = check_call(att.stationary_distribution, A)
    if pi is not None:
        assert pi.dtype == dtype and (pi >= 0).all()
        np.testing.assert_allclose(pi.sum(axis=-1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(np.einsum("bi,bij->bj", pi.astype(float), A.astype(float)), pi, atol=1e-4)
    gap = check_call(att.spectral_gap, A)
    if gap is not None:
        assert ((gap >= 0) & (gap <= 1)).all()


@given(dim=small_ints, theta=st.one_of(st.floats(), small_ints, anything(max_dims=0)))
def test_rope_frequencies(dim, theta):
    w = check_call(att.rope_frequencies, dim, theta)
    if w is not None:
        assert w.shape == (dim // 2,) and w[0] == 1.0


@given(data=st.data(), T=st.integers(0, 4), d=st.integers(0, 5),
       theta=st.one_of(st.just(10000.0), st.floats(), small_ints))
def test_rope(data, T, d, theta):
    x = data.draw(st.one_of(values((2, T, d)), anything()))
    positions = data.draw(st.one_of(
        hnp.arrays(np.int64, st.sampled_from([(T,), (2, 1), (1, T), (3,), ()]),
                   elements=st.integers(-10**12, 10**12)),
        st.integers(-5, 5), anything()))
    y = check_call(att.rope, x, positions, theta)
    if y is not None:
        assert y.shape == np.shape(x)
        x64 = np.asarray(x, np.float64)
        s = 2.0 ** np.frexp(np.max(np.abs(x64), initial=1.0))[1]   # exact scaling: no overflow
        np.testing.assert_allclose(np.linalg.norm(y / s, axis=-1), np.linalg.norm(x64 / s, axis=-1),
                                   rtol=1e-5 if y.dtype == np.float32 else 1e-12, atol=1e-300)
