"""Fuzz the public API of llmmath.linalg with the shared harness (tests/fuzz.py).

Every call gets odd shapes, dtypes, NaN/inf and junk. It must return a clean
result of the right shape and dtype, or raise ValueError/TypeError naming the
argument.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fuzz import anything, check_call, junk, special_floats
from llmmath import linalg

pytestmark = [
    pytest.mark.lesson_vectors,
]

# PCAResult is built by every pca call fuzzed below.
COVERED = {"dot", "norm", "cosine_similarity", "matmul", "PCAResult", "pca", "low_rank_approx",
           "lora_param_count", "lora_compression_ratio"}

# mostly plausible integers, sometimes junk
small_ints = st.one_of(st.integers(-1, 6), st.integers(1, 6), st.integers(1, 4), junk(),
                       st.floats(allow_nan=True), st.booleans())
finite_awkward = st.sampled_from([0.0, -0.0, 1e300, -1e300, 1e-300, 5e-324, 1e4, -1e4])


def values(shape):
    """Arrays of a given shape: usually finite but awkward (huge, tiny, zero), sometimes NaN/inf."""
    return st.one_of(
        hnp.arrays(np.float64, shape, elements=st.one_of(st.floats(-10, 10), finite_awkward)),
        hnp.arrays(np.float64, shape, elements=st.floats(-10, 10)),
        hnp.arrays(np.float32, shape, elements=st.one_of(
            st.floats(-10, 10, width=32), st.sampled_from([0.0, 1e4, -3e38, 1e-40]))),
        hnp.arrays(np.float64, shape, elements=st.one_of(st.floats(-10, 10), special_floats)),
    )


def out_dtype(*arrays):
    return np.float32 if all(np.asarray(a).dtype == np.float32 for a in arrays) else np.float64


def test_covered_names_are_the_public_api():
    assert COVERED == set(linalg.__all__)


@given(a=anything(), b=anything())
def test_dot_and_matmul_refuse_cleanly(a, b):
    check_call(linalg.dot, a, b)
    check_call(linalg.matmul, a, b)
    check_call(linalg.cosine_similarity, a, b)


@given(data=st.data(), n=st.integers(0, 4), m=st.integers(0, 3))
def test_products_on_compatible_shapes(data, n, m):
    a = data.draw(values((m, n)))
    b = data.draw(values((n,)))
    r = check_call(linalg.dot, a, b)
    if r is not None:
        assert np.shape(r) == (m,) and np.asarray(r).dtype == out_dtype(a, b)
    r = check_call(linalg.matmul, a, b)
    if r is not None:
        assert r.shape == (m,) and r.dtype == out_dtype(a, b)
    r = check_call(linalg.norm, a, axis=data.draw(st.one_of(st.none(), small_ints)),
                   ord=data.draw(st.sampled_from([1, 2, np.inf])))
    if r is not None:
        assert (np.asarray(r) >= 0).all()
    r = check_call(linalg.cosine_similarity, a, b, eps=data.draw(st.one_of(st.floats(), small_ints)))
    if r is not None:
        assert np.shape(r) == (m,) and (np.abs(r) <= 1).all()


@given(x=anything(), axis=st.one_of(st.none(), small_ints), ord=st.one_of(st.sampled_from([1, 2, np.inf, 3, "fro", -np.inf]), small_ints),
       keepdims=st.one_of(st.booleans(), st.integers(0, 1), junk()))
def test_norm(x, axis, ord, keepdims):
    r = check_call(linalg.norm, x, axis=axis, ord=ord, keepdims=keepdims)
    if r is not None:
        assert isinstance(keepdims, bool)  # 0, 1, None, "yes"... are refused
        assert (np.asarray(r) >= 0).all()


@given(X=anything(), k=small_ints)
def test_pca_refuses_cleanly(X, k):
    check_call(linalg.pca, X, k)


@given(data=st.data(), n=st.integers(1, 5), f=st.integers(0, 4), k=small_ints)
def test_pca_on_matrices(data, n, f, k):
    X = data.draw(values((n, f)))
    res = check_call(linalg.pca, X, k)
    if res is not None:
        assert isinstance(res, linalg.PCAResult)
        assert res.components.shape == (k, f) and res.transformed.shape == (n, k)
        assert ((res.explained_variance_ratio >= 0) & (res.explained_variance_ratio <= 1 + 1e-6)).all()


@given(M=anything(), rank=small_ints)
def test_low_rank_approx_refuses_cleanly(M, rank):
    out = check_call(linalg.low_rank_approx, M, rank)
    if out is not None:
        M_r, err = out
        assert M_r.shape == np.shape(M) and ((np.asarray(err) >= 0) & (np.asarray(err) <= 1)).all()


@given(data=st.data(), m=st.integers(0, 4), n=st.integers(0, 4), rank=small_ints)
def test_low_rank_approx_on_matrices(data, m, n, rank):
    M = data.draw(values((2, m, n)))
    out = check_call(linalg.low_rank_approx, M, rank)
    if out is not None:
        assert out[0].shape == M.shape and out[0].dtype == M.dtype and np.shape(out[1]) == (2,)


@given(d_in=small_ints, d_out=small_ints, rank=small_ints)
def test_lora(d_in, d_out, rank):
    count = check_call(linalg.lora_param_count, d_in, d_out, rank)
    ratio = check_call(linalg.lora_compression_ratio, d_in, d_out, rank)
    assert (count is None) == (ratio is None)
    if count is not None:
        assert isinstance(count, int) and count == rank * (d_in + d_out)
        assert ratio == pytest.approx(d_in * d_out / count, rel=1e-15)
