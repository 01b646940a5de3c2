"""Tests for llmmath.attention against PyTorch, SciPy, mpmath and closed forms."""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
import scipy.linalg
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from llmmath import attention as att
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

# The course's worked example: 3 tokens ("The", "cat", "sat"), d_k = 2.
Q_EXAMPLE = [[1.0, 0.5], [0.3, 0.8], [0.1, 0.9]]
K_EXAMPLE = [[0.9, 0.2], [0.4, 0.7], [0.2, 0.8]]


def torch_attention(q, k, v, keep, scale):
    """PyTorch float64: the output from F.scaled_dot_product_attention, the weights by hand."""
    import torch

    tq, tk, tv = (torch.from_numpy(np.array(a)) for a in (q, k, v))
    mask = None if keep is None else torch.from_numpy(np.array(keep))
    out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=mask, scale=scale)
    scores = tq @ tk.transpose(-1, -2) * scale
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    return out.numpy(), torch.softmax(scores, dim=-1).numpy()


# --- scaled dot-product attention ------------------------------------------------------


@pytest.mark.torch
@pytest.mark.lesson_attention
@given(
    batch=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=2, max_side=3),
    tq=st.integers(1, 4), tk=st.integers(1, 4), d=st.integers(1, 4), dv=st.integers(1, 3),
    masking=st.sampled_from(["none", "mask", "causal", "both"]),
    scale=st.sampled_from([None, 0.3]),
    seed=st.integers(0, 2**16),
)
def test_sdpa_matches_torch(batch, tq, tk, d, dv, masking, scale, seed):
    rng = np.random.default_rng(seed)
    bq, bk, bv = batch.input_shapes
    q = rng.normal(size=bq + (tq, d))
    k = rng.normal(size=bk + (tk, d))
    v = rng.normal(size=bv + (tk, dv))
    mask = None
    if masking in ("mask", "both"):
        mask = rng.random(size=(tq, tk)) < 0.6
        mask[:, 0] = True  # every row keeps a key
    out, w = att.scaled_dot_product_attention(q, k, v, mask=mask, causal=masking in ("causal", "both"), scale=scale)
    # torch takes attn_mask or is_causal, not both: give it the combined mask
    keep = np.ones((tq, tk), bool) if mask is None else mask
    if masking in ("causal", "both"):
        keep = keep & np.tril(np.ones((tq, tk), bool))  # torch's is_causal alignment
    full = batch.result_shape
    q, k, v = (np.broadcast_to(a, full + a.shape[-2:]) for a in (q, k, v))
    want_out, want_w = torch_attention(q, k, v, keep, 1 / math.sqrt(d) if scale is None else scale)
    np.testing.assert_allclose(out, want_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(w, want_w, rtol=1e-12, atol=1e-15)
    assert (w[..., ~keep] == 0).all()
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-15)


@pytest.mark.torch
@pytest.mark.lesson_attention
def test_causal_alignment_is_torch_is_causal():
    import torch

    rng = np.random.default_rng(5)
    for tq, tk in [(3, 5), (5, 3), (4, 4)]:
        q, k, v = rng.normal(size=(2, tq, 4)), rng.normal(size=(2, tk, 4)), rng.normal(size=(2, tk, 3))
        out, _ = att.scaled_dot_product_attention(q, k, v, causal=True)
        want = torch.nn.functional.scaled_dot_product_attention(
            *(torch.from_numpy(a) for a in (q, k, v)), is_causal=True).numpy()
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(att.causal_mask(tq, tk), torch.ones(tq, tk).tril().bool().numpy())


@pytest.mark.lesson_attention
def test_worked_example_row_zero_against_mpmath():
    with mpmath.workdps(30):  # local precision: a global mp.dps would leak into later tests
        q0 = [mpmath.mpf(s) for s in ("1.0", "0.5")]
        scores = [sum(a * mpmath.mpf(repr(b)) for a, b in zip(q0, row, strict=True)) / mpmath.sqrt(2)
                  for row in K_EXAMPLE]
        exps = [mpmath.exp(s) for s in scores]
        want = [float(e / sum(exps)) for e in exps]
    _, w = att.scaled_dot_product_attention(Q_EXAMPLE, K_EXAMPLE, np.eye(3))
    np.testing.assert_allclose(w[0], want, rtol=2e-16)
    # The syllabus prints [0.386, 0.324, 0.291]; to 3 decimals the middle entry is 0.323.
    np.testing.assert_array_equal(w[0].round(3), [0.386, 0.323, 0.291])


@pytest.mark.lesson_attention
def test_huge_scores_give_exact_one_hot_rows_without_warnings():
    q = np.array([[100.0], [-100.0]])
    k = np.array([[100.0], [-100.0], [0.0]])
    v = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, w = att.scaled_dot_product_attention(q, k, v, scale=1.0)  # scores +-1e4
    np.testing.assert_array_equal(w, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(out, [[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.lesson_attention
def test_masked_keys_have_no_influence():
    rng = np.random.default_rng(2)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    mask = np.array([True, False, True, False, True])
    out, w = att.scaled_dot_product_attention(q, k, v, mask=mask)
    v2, k2 = v.copy(), k.copy()
    v2[~mask], k2[~mask] = 1e6, -1e3
    out2, _ = att.scaled_dot_product_attention(q, k2, v2, mask=mask)
    np.testing.assert_array_equal(out, out2)
    assert (w[:, ~mask] == 0).all()


def test_sdpa_float32_in_float32_out():
    q = np.ones((2, 3), np.float32)
    out, w = att.scaled_dot_product_attention(q, q, q)
    assert out.dtype == np.float32 and w.dtype == np.float32
    out, _ = att.scaled_dot_product_attention(q, q, q.astype(np.float64))
    assert out.dtype == np.float64


def test_sdpa_errors_name_rows_and_shapes():
    q = np.ones((2, 3, 4))
    mask = np.ones((3, 3), bool)
    mask[1] = False
    with pytest.raises(InvalidValueError, match="query row 1"):
        att.scaled_dot_product_attention(q, q, q, mask=mask)
    with pytest.raises(ShapeError, match=r"q \(2, 3, 4\) and k \(2, 3, 5\)"):
        att.scaled_dot_product_attention(q, np.ones((2, 3, 5)), q)
    with pytest.raises(ShapeError, match=r"k \(2, 3, 4\) and v \(2, 2, 4\)"):
        att.scaled_dot_product_attention(q, q, np.ones((2, 2, 4)))
    with pytest.raises(ShapeError, match="batch"):
        att.scaled_dot_product_attention(q, np.ones((3, 3, 4)), np.ones((3, 3, 4)))
    with pytest.raises(ShapeError, match="'mask'"):
        att.scaled_dot_product_attention(q, q, q, mask=np.ones((4, 3), bool))
    with pytest.raises(InvalidTypeError, match="'mask'"):
        att.scaled_dot_product_attention(q, q, q, mask=np.ones((3, 3)))
    with pytest.raises(InvalidValueError, match="'q'"):
        att.scaled_dot_product_attention(q * np.nan, q, q)


# --- masks and positions -------------------------------------------------------------------


@pytest.mark.lesson_attention
def test_causal_mask():
    np.testing.assert_array_equal(att.causal_mask(4), np.tril(np.ones((4, 4), bool)))
    assert att.causal_mask(0).shape == (0, 0)
    with pytest.raises(InvalidValueError, match="'T'"):
        att.causal_mask(-1)


@pytest.mark.lesson_attention
@given(T=st.integers(0, 20), d=st.integers(1, 12))
def test_sinusoidal_positions_follow_the_paper(T, d):
    pe = att.sinusoidal_positions(T, d)
    want = np.empty((T, d))
    for pos in range(T):
        for col in range(d):
            i = col // 2  # columns 2i (sine) and 2i + 1 (cosine) share the frequency 1/10000^(2i/d)
            angle = pos / 10000 ** (2 * i / d)
            want[pos, col] = math.sin(angle) if col % 2 == 0 else math.cos(angle)
    np.testing.assert_allclose(pe, want, rtol=1e-13, atol=1e-13)


def test_sinusoidal_positions_shift_is_a_rotation():
    pe = att.sinusoidal_positions(50, 16)
    k = 7
    for i in range(8):
        w = 1 / 10000 ** (2 * i / 16)
        # (sin, cos) of (pos + k) w = (sin, cos) of pos w, rotated by the angle k w
        rot = np.array([[math.cos(k * w), -math.sin(k * w)], [math.sin(k * w), math.cos(k * w)]])
        np.testing.assert_allclose(pe[k:, 2 * i: 2 * i + 2], pe[:-k, 2 * i: 2 * i + 2] @ rot, atol=1e-12)
    with mpmath.workdps(30):
        want = float(mpmath.cos(49 / mpmath.power(10000, mpmath.mpf(2) / 16)))
    assert pe[49, 3] == pytest.approx(want, rel=1e-14)
    with pytest.raises(InvalidValueError, match="'d_model'"):
        att.sinusoidal_positions(3, 0)


# --- multi-head attention -------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.lesson_attention
@given(
    lead=st.sampled_from([(), (1,), (3,)]), T=st.integers(1, 5), nh=st.sampled_from([1, 2, 4]),
    hs=st.integers(1, 3), causal=st.booleans(), seed=st.integers(0, 2**16),
)
def test_multi_head_attention_matches_torch(lead, T, nh, hs, causal, seed):
    import torch

    C = nh * hs
    rng = np.random.default_rng(seed)
    x = rng.normal(size=lead + (T, C))
    ws = [rng.normal(size=(C, C)) / math.sqrt(C) for _ in range(4)]
    out, w = att.multi_head_attention(x, *ws, n_heads=nh, causal=causal)
    mha = torch.nn.MultiheadAttention(C, nh, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # torch.nn.Linear stores the transpose of our x @ w layout
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([ws[0].T, ws[1].T, ws[2].T])))
        mha.out_proj.weight.copy_(torch.from_numpy(ws[3].T))
        # nn.MultiheadAttention's boolean mask means True = NOT allowed: the opposite of ours
        banned = torch.from_numpy(~att.causal_mask(T)) if causal else None
        tx = torch.from_numpy(x)
        want_out, want_w = mha(tx, tx, tx, attn_mask=banned, need_weights=True, average_attn_weights=False)
    np.testing.assert_allclose(out, want_out.numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(w, want_w.numpy(), rtol=1e-11, atol=1e-14)
    assert w.shape == lead + (nh, T, T)


def test_multi_head_attention_errors():
    x = np.ones((3, 6))
    w = np.eye(6)
    with pytest.raises(InvalidValueError, match="'n_heads' = 4 must divide the width C = 6"):
        att.multi_head_attention(x, w, w, w, w, n_heads=4)
    with pytest.raises(ShapeError, match="'w_k'"):
        att.multi_head_attention(x, w, np.eye(5), w, w, n_heads=2)
    with pytest.raises(InvalidTypeError, match="'n_heads'"):
        att.multi_head_attention(x, w, w, w, w, n_heads=2.0)
    out, weights = att.multi_head_attention(x.astype(np.float32), *(w.astype(np.float32),) * 4, n_heads=3)
    assert out.dtype == np.float32 and weights.dtype == np.float32


# --- stationary distribution and spectral gap -------------------------------------------------


def cesaro_limit(A: np.ndarray, doublings: int = 40) -> np.ndarray:
    """u (1/N) sum_{t<N} A^t with N = 2**doublings, by doubling: an independent brute force.

    M_N = (1/N) sum_{t<N} A^t obeys M_2N = (M_N + M_N A^N) / 2. The rows of A^N are
    renormalised after each squaring, or rounding would compound like (1 + 1e-16)^N.
    """
    n = len(A)
    M, P = np.eye(n), A.copy()
    for _ in range(doublings):
        M = (M + M @ P) / 2
        P = P @ P
        P /= P.sum(axis=1, keepdims=True)
    return np.full(n, 1 / n) @ M


def random_chain(rng: np.random.Generator, n: int, density: float) -> np.ndarray:
    """A random row-stochastic matrix with a random zero pattern (often reducible)."""
    A = rng.random((n, n)) * (rng.random((n, n)) < density)
    empty = A.sum(axis=1) == 0
    A[empty, rng.integers(0, n, empty.sum())] = 1.0
    return A / A.sum(axis=1, keepdims=True)


@pytest.mark.lesson_attention_spectrum
@given(a=st.floats(0, 1), b=st.floats(0, 1))
def test_two_state_chain_closed_forms(a, b):
    A = np.array([[1 - a, a], [b, 1 - b]])
    pi = att.stationary_distribution(A)
    if a + b > 0:
        np.testing.assert_allclose(pi, np.array([b, a]) / (a + b), rtol=1e-13, atol=1e-300)
    else:
        np.testing.assert_array_equal(pi, [0.5, 0.5])  # identity: the uniform start never moves
    assert att.spectral_gap(A) == pytest.approx(1 - abs(1 - a - b), abs=1e-14)


@pytest.mark.lesson_attention_spectrum
@given(n=st.integers(1, 7), seed=st.integers(0, 2**16))
def test_stationary_matches_scipy_left_eigenvector(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.random((n, n)) + 0.01  # positive: irreducible and aperiodic
    A /= A.sum(axis=1, keepdims=True)
    lam, left = scipy.linalg.eig(A, left=True, right=False)
    vec = np.real(left[:, np.argmin(np.abs(lam - 1))])
    pi = att.stationary_distribution(A)
    np.testing.assert_allclose(pi, vec / vec.sum(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(pi @ A, pi, rtol=1e-12, atol=1e-15)
    moduli = np.sort(np.abs(scipy.linalg.eigvals(A)))[::-1]
    want_gap = 1.0 if n == 1 else 1 - moduli[1]
    assert att.spectral_gap(A) == pytest.approx(want_gap, abs=1e-10)


@pytest.mark.lesson_attention_spectrum
@given(n=st.integers(1, 6), density=st.sampled_from([0.2, 0.4, 0.7]), seed=st.integers(0, 2**16))
def test_reducible_and_periodic_chains_give_the_cesaro_limit(n, density, seed):
    A = random_chain(np.random.default_rng(seed), n, density)
    pi = att.stationary_distribution(A)
    np.testing.assert_allclose(pi, cesaro_limit(A), atol=1e-6)  # transients fade like 1/N
    np.testing.assert_allclose(pi @ A, pi, atol=1e-12)
    assert pi.min() >= 0 and pi.sum() == pytest.approx(1.0, rel=1e-14)
    moduli = np.sort(np.abs(scipy.linalg.eigvals(A)))[::-1]
    want = 1.0 if n == 1 else 1 - moduli[1]
    assert att.spectral_gap(A) == pytest.approx(max(want, 0.0), abs=1e-6)


@pytest.mark.lesson_attention_spectrum
def test_causal_attention_matrix_puts_all_mass_on_position_zero():
    rng = np.random.default_rng(11)
    q, k = rng.normal(size=(2, 6, 4)), rng.normal(size=(2, 6, 4))
    _, w = att.scaled_dot_product_attention(q, k, np.zeros((2, 6, 1)), causal=True)
    pi = att.stationary_distribution(w)
    np.testing.assert_array_equal(pi, np.tile(np.eye(6)[0], (2, 1)))
    gaps = att.spectral_gap(w)
    for b in range(2):  # triangular: the eigenvalues are the diagonal
        moduli = np.sort(np.abs(scipy.linalg.eigvals(w[b])))[::-1]
        assert gaps[b] == pytest.approx(1 - moduli[1], abs=1e-12)
        assert gaps[b] == pytest.approx(1 - np.diag(w[b])[1:].max(), abs=1e-15)


@pytest.mark.lesson_attention_spectrum
def test_spectral_gap_counts_multiplicity_and_periods():
    assert att.spectral_gap(np.eye(4)) == 0.0
    cycle = np.roll(np.eye(3), 1, axis=1)  # eigenvalues: the cube roots of 1
    assert att.spectral_gap(cycle) == 0.0
    np.testing.assert_allclose(att.stationary_distribution(cycle), [1 / 3] * 3, rtol=1e-15)
    assert att.spectral_gap([[1.0]]) == 1.0
    uniform = np.full((5, 5), 0.2)  # rank one: lambda_2 = 0
    assert att.spectral_gap(uniform) == pytest.approx(1.0, abs=1e-14)
    assert att.spectral_gap(uniform.astype(np.float32)).dtype == np.float32
    batch = np.stack([np.eye(2), np.array([[0.7, 0.3], [0.1, 0.9]])])
    np.testing.assert_allclose(att.spectral_gap(batch), [0.0, 0.4], atol=1e-14)


def test_stationary_distribution_is_accurate_for_tiny_probabilities():
    eps = 1e-20  # 1 - eps rounds to 1, yet the answer is (b, a) / (a + b) exactly
    A = np.array([[1.0, eps], [2 * eps, 1.0]])
    A = A / A.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(att.stationary_distribution(A), [2 / 3, 1 / 3], rtol=1e-15)


def test_markov_input_validation():
    with pytest.raises(ShapeError, match="square"):
        att.stationary_distribution(np.full((2, 3), 1 / 3))
    with pytest.raises(InvalidValueError, match="negative"):
        att.spectral_gap([[1.5, -0.5], [0.5, 0.5]])
    with pytest.raises(InvalidValueError, match="sums to"):
        att.stationary_distribution([[0.5, 0.6], [0.5, 0.5]])
    with pytest.raises(ShapeError, match="'A'"):
        att.spectral_gap(np.ones((0, 0)))
