"""Tests for llmmath.linalg against NumPy/SciPy, PyTorch and exact arithmetic."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from llmmath import linalg
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

finite = st.floats(-1e3, 1e3, allow_nan=False, width=64)


def within_dot_bound(got, a, b) -> bool:
    """|got - a.b| <= n u sum |a_i b_i| (the classic bound), in exact rational arithmetic."""
    terms = [Fraction(float(x)) * Fraction(float(y)) for x, y in zip(a, b, strict=True)]
    bound = len(terms) * Fraction(2) ** -53 * sum(abs(v) for v in terms)
    return abs(Fraction(float(got)) - sum(terms)) <= bound


# --- dot ---------------------------------------------------------------------------


@pytest.mark.lesson_vectors
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
    n=st.integers(0, 5),
    data=st.data(),
)
def test_dot_matches_einsum_batched(shapes, n, data):
    sa, sb = shapes.input_shapes
    a = data.draw(hnp.arrays(np.float64, sa + (n,), elements=finite))
    b = data.draw(hnp.arrays(np.float64, sb + (n,), elements=finite))
    got = linalg.dot(a, b)
    np.testing.assert_allclose(got, np.einsum("...i,...i->...", a, b), rtol=1e-12, atol=1e-9)
    assert np.shape(got) == shapes.result_shape


@pytest.mark.lesson_vectors
def test_dot_examples_and_float32():
    assert linalg.dot([1, 2, 3], [4, 5, 6]) == 32.0  # syllabus: 32.0
    assert linalg.dot([1, 0, 0], [1, 1, 0]) == 1.0
    a32 = np.ones((2, 3), np.float32)
    assert linalg.dot(a32, a32).dtype == np.float32
    assert linalg.dot(a32, np.ones(3)).dtype == np.float64


def test_dot_overflow_is_repaired_without_warnings():
    # Each product overflows, so plain sums give inf - inf = nan; the true sums are finite.
    assert linalg.dot([1e300, -1e300], [1e10, 1e10]) == 0.0
    assert linalg.dot([1e200, 1e200], [1e200, -1e200]) == 0.0
    assert linalg.dot([1e300, 1e300], [1e300, 1e300]) == np.inf  # truly beyond the range
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.normal(size=8) * 1e300
        b = rng.normal(size=8) * 1e10
        partial = sum(Fraction(x) * Fraction(y) for x, y in zip(a[:-1], b[:-1], strict=True))
        b[-1] = -float(partial / Fraction(a[-1]))  # the last term cancels the rest
        got = linalg.dot(a, b)
        assert np.isfinite(got) and within_dot_bound(got, a, b)


def test_dot_shape_errors_state_the_rule():
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(4,\)|a \(\.\.\., n\)"):
        linalg.dot(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ShapeError, match=r"\(2, 3\) and b \(4, 3\)"):
        linalg.dot(np.ones((2, 3)), np.ones((4, 3)))
    with pytest.raises(ShapeError, match="'a'"):
        linalg.dot(3.0, [1.0])


# --- norm --------------------------------------------------------------------------


@pytest.mark.lesson_vectors
@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4), elements=finite),
    ord=st.sampled_from([1, 2, np.inf]),
    keepdims=st.booleans(),
    data=st.data(),
)
def test_norm_matches_numpy_along_an_axis(x, ord, keepdims, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    if x.shape[axis] == 0 and ord == np.inf:
        return  # NumPy refuses the max of nothing; we return 0 (the sup of the empty set of |x|)
    want = np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    if ord == 2 and x.size:  # NumPy squares without scaling: tiny entries underflow. math.hypot does not.
        want = np.apply_along_axis(lambda v: math.hypot(*v), axis, x)
        want = np.expand_dims(want, axis) if keepdims else want
    np.testing.assert_allclose(linalg.norm(x, axis=axis, ord=ord, keepdims=keepdims), want, rtol=1e-13)


def test_norm_whole_array_is_frobenius():
    x = np.arange(12.0).reshape(3, 4) - 5
    assert linalg.norm(x) == pytest.approx(np.linalg.norm(x, "fro"), rel=1e-15)
    assert linalg.norm(x, keepdims=True).shape == (1, 1)
    assert linalg.norm(np.zeros((0, 3))) == 0.0


def test_norm_is_safe_from_overflow_and_underflow():
    assert linalg.norm([1e200, 1e200]) == pytest.approx(math.hypot(1e200, 1e200), rel=1e-15)
    assert np.isfinite(linalg.norm([1e200, 1e200]))
    assert linalg.norm([1e-200, 1e-200]) == pytest.approx(math.hypot(1e-200, 1e-200), rel=1e-15)
    assert linalg.norm([5e-324, 5e-324]) > 0
    assert linalg.norm([1e308, 1e308, 1e308], ord=1) == np.inf  # truly beyond the range
    assert linalg.norm([3.0, -4.0], ord=np.inf) == 4.0
    assert linalg.norm(np.array([3.0, 4.0], np.float32)).dtype == np.float32
    assert linalg.norm([1.0, 2.0, 3.0]) == pytest.approx(math.sqrt(14), rel=1e-15)  # syllabus: 3.7417


def test_norm_rejects_bad_ord_and_axis():
    with pytest.raises(InvalidValueError, match="'ord'"):
        linalg.norm([1.0], ord=3)
    with pytest.raises(InvalidTypeError, match="'ord'"):
        linalg.norm([1.0], ord="fro")
    with pytest.raises(InvalidValueError, match="'axis'"):
        linalg.norm([1.0], axis=2)


# --- cosine similarity -------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.lesson_vectors
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, max_side=4),
    data=st.data(),
    zero=st.booleans(),
)
def test_cosine_similarity_matches_torch(shapes, data, zero):
    import torch

    sa, sb = shapes.input_shapes
    a = data.draw(hnp.arrays(np.float64, sa, elements=finite))
    b = data.draw(hnp.arrays(np.float64, sb, elements=finite))
    if zero:
        a = a * 0.0  # zero vectors: torch's eps clamp gives 0, never nan
    axis = data.draw(st.integers(-len(shapes.result_shape), len(shapes.result_shape) - 1))
    want = torch.nn.functional.cosine_similarity(torch.from_numpy(a), torch.from_numpy(b), dim=axis).numpy()
    got = linalg.cosine_similarity(a, b, axis=axis)
    np.testing.assert_allclose(got, np.clip(want, -1, 1), rtol=1e-12, atol=1e-14)


@pytest.mark.torch
def test_cosine_similarity_eps_semantics_match_torch():
    import torch

    for a, b in [([1e-9, 0.0], [1e-9, 0.0]), ([0.0, 0.0], [0.0, 0.0]), ([1e-9, 2e-9], [1.0, 3.0])]:
        want = torch.nn.functional.cosine_similarity(
            torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64), dim=0)
        assert linalg.cosine_similarity(a, b) == pytest.approx(float(want), rel=1e-12, abs=1e-15)


@pytest.mark.lesson_vectors
def test_cosine_similarity_closed_forms():
    # syllabus: cos([1,2,3], [4,5,6]) = 32 / sqrt(14 * 77) = 0.9746
    assert linalg.cosine_similarity([1, 2, 3], [4, 5, 6]) == pytest.approx(32 / math.sqrt(14 * 77), rel=1e-15)
    assert linalg.cosine_similarity([1e200, 1e200], [1e200, 1e200]) == pytest.approx(1.0, rel=1e-15)
    assert linalg.cosine_similarity([1e-200, 0], [0, 1e-200]) == 0.0
    assert linalg.cosine_similarity([2.0, 0.0], [-3.0, 0.0]) == -1.0
    x = np.array([[1.0, 2.0]], np.float32)
    assert linalg.cosine_similarity(x, x).dtype == np.float32
    with pytest.raises(InvalidValueError, match="'eps'"):
        linalg.cosine_similarity([1.0], [1.0], eps=0.0)
    with pytest.raises(ShapeError, match=r"\(2,\) and \(3,\)"):
        linalg.cosine_similarity([1.0, 2.0], [1.0, 2.0, 3.0])


# --- matmul -------------------------------------------------------------------------


@pytest.mark.lesson_vectors
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
    m=st.integers(0, 3), n=st.integers(0, 3), p=st.integers(0, 3),
    vec=st.sampled_from(["none", "A", "B", "both"]),
    data=st.data(),
)
def test_matmul_matches_numpy(shapes, m, n, p, vec, data):
    sa, sb = shapes.input_shapes
    shape_a = (n,) if vec in ("A", "both") else sa + (m, n)
    shape_b = (n,) if vec in ("B", "both") else sb + (n, p)
    A = data.draw(hnp.arrays(np.float64, shape_a, elements=finite))
    B = data.draw(hnp.arrays(np.float64, shape_b, elements=finite))
    want = np.matmul(A, B)
    got = linalg.matmul(A, B)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_matmul_error_states_the_rule_and_both_shapes():
    with pytest.raises(ShapeError) as info:
        linalg.matmul(np.ones((2, 3)), np.ones((4, 5)))
    message = str(info.value)
    assert "(..., m, n) @ (..., n, p)" in message
    assert "(2, 3)" in message and "(4, 5)" in message
    with pytest.raises(ShapeError, match="batch"):
        linalg.matmul(np.ones((2, 1, 3)), np.ones((3, 3, 2)))
    with pytest.raises(ShapeError, match="'A'"):
        linalg.matmul(2.0, np.ones((1, 1)))


def test_matmul_overflow_gives_inf_or_a_bounded_value_never_nan():
    A = np.array([[1e300, 1e300], [1.0, 2.0]])
    B = np.array([[1e10, 3.0, 1e10], [-1e10, 4.0, 1e10]])
    got = linalg.matmul(A, B)  # plain @ gives nan in [0, 0]
    for i, j in np.ndindex(2, 2):
        assert within_dot_bound(got[i, j], A[i], B[:, j])
    assert got[0, 2] == np.inf  # 2e310 is truly beyond the range
    assert got[1, 2] == 3e10
    assert linalg.matmul(np.ones((2, 2), np.float32), np.ones((2, 2), np.float32)).dtype == np.float32


# --- PCA -----------------------------------------------------------------------------


def _sign_fix(vectors):
    """Our sign rule applied independently: largest |entry| of each row positive."""
    idx = np.abs(vectors).argmax(axis=1)
    return vectors * np.sign(vectors[np.arange(len(vectors)), idx])[:, None]


@pytest.mark.lesson_svd_lora
@given(n=st.integers(3, 12), f=st.integers(1, 5), seed=st.integers(0, 2**16), data=st.data())
def test_pca_matches_the_covariance_eigendecomposition(n, f, seed, data):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f)) @ rng.normal(size=(f, f)) + rng.normal(size=f)
    k = data.draw(st.integers(1, min(n, f)))
    res = linalg.pca(X, k)
    evals, evecs = scipy.linalg.eigh(np.cov(X, rowvar=False).reshape(f, f))
    evals, evecs = evals[::-1], evecs[:, ::-1]
    np.testing.assert_allclose(res.explained_variance, evals[:k], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.explained_variance_ratio, evals[:k] / evals.sum(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(res.mean, X.mean(axis=0), rtol=1e-12, atol=1e-12)
    gaps = np.diff(evals[: k + 1]) if k < f else np.diff(evals)
    if np.all(np.abs(gaps) > 1e-6 * evals[0]):  # directions are defined only for distinct eigenvalues
        np.testing.assert_allclose(res.components, _sign_fix(evecs[:, :k].T), atol=1e-7)
    np.testing.assert_allclose(res.transformed, (X - X.mean(axis=0)) @ res.components.T, atol=1e-9)
    np.testing.assert_allclose(res.components @ res.components.T, np.eye(k), atol=1e-12)
    s = scipy.linalg.svdvals(X - X.mean(axis=0))
    np.testing.assert_allclose(res.singular_values, s[:k], rtol=1e-10)
    big = np.abs(res.components).argmax(axis=1)
    assert (res.components[np.arange(k), big] > 0).all()


@pytest.mark.lesson_svd_lora
def test_pca_edge_cases():
    const = linalg.pca(np.ones((4, 3)), 2)
    np.testing.assert_array_equal(const.explained_variance_ratio, [0.0, 0.0])
    np.testing.assert_array_equal(const.transformed, np.zeros((4, 2)))
    huge = linalg.pca(np.array([[1e300, 0.0], [-1e300, 0.0], [0.0, 1e299]]), 1)
    assert np.isfinite(huge.explained_variance_ratio).all()
    assert huge.explained_variance_ratio[0] == pytest.approx(2 / (2 + 2 / 300), rel=1e-12)  # var_x : var_y = 2 : 2/300
    res32 = linalg.pca(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32), 2)
    assert res32.components.dtype == np.float32 and res32.transformed.dtype == np.float32
    with pytest.raises(InvalidValueError, match="'n_components'"):
        linalg.pca(np.ones((4, 3)), 4)
    with pytest.raises(InvalidValueError, match="2 samples"):
        linalg.pca(np.ones((1, 3)), 1)
    with pytest.raises(ShapeError, match="'X'"):
        linalg.pca(np.ones(3), 1)
    with pytest.raises(AttributeError):
        huge.mean = 0  # frozen


# --- low-rank approximation -----------------------------------------------------------


@pytest.mark.lesson_svd_lora
@given(m=st.integers(1, 6), n=st.integers(1, 6), seed=st.integers(0, 2**16), data=st.data())
def test_low_rank_approx_is_eckart_young(m, n, seed, data):
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(m, n))
    r = data.draw(st.integers(0, min(m, n)))
    M_r, err = linalg.low_rank_approx(M, r)
    s = np.linalg.svd(M, compute_uv=False)
    want = math.sqrt(np.sum(s[r:] ** 2)) / math.sqrt(np.sum(s ** 2))
    assert err == pytest.approx(want, rel=1e-10, abs=1e-14)
    assert err == pytest.approx(np.linalg.norm(M - M_r) / np.linalg.norm(M), rel=1e-8, abs=1e-12)
    assert np.linalg.matrix_rank(M_r, tol=1e-10) <= r
    # No rank-r matrix from random trials does better (Eckart-Young).
    for _ in range(20):
        trial = rng.normal(size=(m, r)) @ rng.normal(size=(r, n))
        # the best multiple of each trial, so the trial is at its strongest
        scale = np.sum(trial * M) / max(np.sum(trial * trial), 1e-300)
        assert np.linalg.norm(M - scale * trial) >= np.linalg.norm(M - M_r) - 1e-12


@pytest.mark.lesson_svd_lora
def test_low_rank_approx_batched_and_edges():
    rng = np.random.default_rng(3)
    M = rng.normal(size=(2, 3, 4, 5))
    M_r, err = linalg.low_rank_approx(M, 2)
    assert M_r.shape == M.shape and err.shape == (2, 3)
    for idx in np.ndindex(2, 3):
        one, e1 = linalg.low_rank_approx(M[idx], 2)
        np.testing.assert_allclose(M_r[idx], one, atol=1e-12)
        assert err[idx] == pytest.approx(e1, rel=1e-12)
    zero_r, zero_err = linalg.low_rank_approx(np.zeros((3, 3)), 1)
    assert zero_err == 0.0 and not np.isnan(zero_r).any()
    full, full_err = linalg.low_rank_approx(M[0, 0], 4)
    assert full_err == 0.0
    np.testing.assert_allclose(full, M[0, 0], atol=1e-12)
    _, none_err = linalg.low_rank_approx(M[0, 0], 0)
    assert none_err == 1.0
    big_r, big_err = linalg.low_rank_approx(M[0, 0] * 1e300, 2)
    _, small_err = linalg.low_rank_approx(M[0, 0], 2)
    assert big_err == pytest.approx(small_err, rel=1e-12)
    assert np.isfinite(big_r).all()
    with pytest.raises(InvalidValueError, match=r"'rank'=5 .*\[0, 4\]"):
        linalg.low_rank_approx(M[0, 0], 5)
    with pytest.raises(InvalidValueError, match="'rank'"):
        linalg.low_rank_approx(M[0, 0], -1)
    assert linalg.low_rank_approx(M[0, 0].astype(np.float32), 1)[0].dtype == np.float32


# --- LoRA --------------------------------------------------------------------------------


@pytest.mark.lesson_svd_lora
@given(d_in=st.integers(1, 64), d_out=st.integers(1, 64), data=st.data())
def test_lora_count_is_the_size_of_the_two_factors(d_in, d_out, data):
    r = data.draw(st.integers(1, min(d_in, d_out)))
    B, A = np.zeros((d_out, r)), np.zeros((r, d_in))  # delta W = B @ A has shape (d_out, d_in)
    assert (B @ A).shape == (d_out, d_in)
    assert linalg.lora_param_count(d_in, d_out, r) == B.size + A.size
    assert linalg.lora_compression_ratio(d_in, d_out, r) == pytest.approx(d_in * d_out / (B.size + A.size), rel=1e-15)


@pytest.mark.lesson_svd_lora
def test_lora_syllabus_numbers_and_errors():
    # d = 4096, r = 8: 65,536 against 16,777,216, a 256-fold reduction (all three check out).
    assert linalg.lora_param_count(4096, 4096, 8) == 65_536
    assert linalg.lora_compression_ratio(4096, 4096, 8) == 256.0
    with pytest.raises(InvalidValueError, match="'rank'"):
        linalg.lora_param_count(4, 8, 5)
    with pytest.raises(InvalidTypeError, match="'d_in'"):
        linalg.lora_param_count(4.0, 8, 2)
    with pytest.raises(InvalidValueError, match="'d_out'"):
        linalg.lora_param_count(4, 0, 1)
    with pytest.raises(InvalidValueError, match=r"lora_compression_ratio: argument 'rank'=5 exceeds"):
        linalg.lora_compression_ratio(4, 8, 5)
    with pytest.raises(InvalidValueError, match="lora_compression_ratio: argument 'rank' must be >= 1"):
        linalg.lora_compression_ratio(4, 8, 0)
    with pytest.raises(InvalidTypeError, match="lora_compression_ratio: argument 'd_in'"):
        linalg.lora_compression_ratio(4.0, 8, 2)
