"""Decoding: top-k / top-p / min-p filters and sampling.

Filters are checked against the rules of Hugging Face's logits warpers,
re-implemented here in PyTorch float64 (TopK: ``scores < topk[-1]``; TopP:
ascending cumulative mass ``<= 1 - p``; MinP: ``probs < p * max``) and
against brute-force loops. Sampling is checked by chi-square goodness of fit
(scipy.stats.chisquare, fixed seeds, so deterministic) of many draws against
the filtered, renormalised distribution computed independently; tokens
outside the filter must never appear.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as st_h
from hypothesis.extra import numpy as hnp

from llmmath import prob
from llmmath.errors import InvalidValueError

pytestmark = pytest.mark.lesson_sampling

N_DRAWS = 40_000       # draws per goodness-of-fit test: detects a 2% relative error in
ALPHA = 1e-3           # a 10% token at this size; fixed seeds make every run identical

LOGITS = np.array([2.0, 1.5, 1.2, 0.9, 0.3, 0.0, -0.4, -1.0, -2.0, -3.5])


# ------------------------------------------------------------ references

def hf_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    import torch

    s = torch.tensor(scores, dtype=torch.float64)
    k = min(k, s.shape[-1])
    remove = s < torch.topk(s, k)[0][..., -1, None]
    return s.masked_fill(remove, -float("inf")).numpy()


def hf_top_p(scores: np.ndarray, p: float) -> np.ndarray:
    import torch

    s = torch.tensor(scores, dtype=torch.float64)
    sorted_logits, sorted_idx = torch.sort(s, descending=False)
    cum = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove_sorted = cum <= (1 - p)
    remove_sorted[..., -1:] = False
    remove = remove_sorted.scatter(-1, sorted_idx, remove_sorted)
    return s.masked_fill(remove, -float("inf")).numpy()


def hf_min_p(scores: np.ndarray, p: float) -> np.ndarray:
    import torch

    s = torch.tensor(scores, dtype=torch.float64)
    probs = torch.softmax(s, dim=-1)
    remove = probs < p * probs.amax(dim=-1, keepdim=True)
    return s.masked_fill(remove, -float("inf")).numpy()


def brute_top_p_keep(logits: np.ndarray, p: float) -> set[int]:
    probs = sp.softmax(logits)
    kept, mass = set(), 0.0
    for i in sorted(range(len(probs)), key=lambda j: -probs[j]):
        if kept and mass >= p:
            break
        kept.add(i)
        mass += probs[i]
    return kept


def reference_distribution(logits, temperature=1.0, top_k=None, top_p=None, min_p=None):
    z = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None:
        z = hf_top_k(z, top_k)
    if top_p is not None:
        z = hf_top_p(z, top_p)
    if min_p is not None:
        z = hf_min_p(z, min_p)
    return sp.softmax(z, axis=-1)


def goodness_of_fit(draws: np.ndarray, expected: np.ndarray) -> float:
    counts = np.bincount(draws, minlength=expected.shape[0])
    support = expected > 0
    assert counts[~support].sum() == 0, f"filtered tokens drawn: {np.nonzero(counts * ~support)}"
    if support.sum() == 1:
        return 1.0
    return st.chisquare(counts[support], expected[support] * draws.size).pvalue


# ------------------------------------------------------------ filters

@pytest.mark.torch
class TestFiltersAgainstHuggingFaceRules:
    @pytest.fixture
    def batch(self, rng):
        return rng.normal(0, 2, size=(20, 50))

    @pytest.mark.parametrize("k", [1, 2, 7, 49, 50, 80])
    def test_top_k(self, batch, k):
        np.testing.assert_array_equal(prob.filter_top_k(batch, k), hf_top_k(batch, k))

    @pytest.mark.parametrize("p", [0.0, 0.05, 0.3, 0.5, 0.9, 0.99, 1.0])
    def test_top_p(self, batch, p):
        np.testing.assert_array_equal(prob.filter_top_p(batch, p), hf_top_p(batch, p))

    @pytest.mark.parametrize("p", [0.0, 0.01, 0.1, 0.5, 1.0])
    def test_min_p(self, batch, p):
        np.testing.assert_array_equal(prob.filter_min_p(batch, p), hf_min_p(batch, p))


class TestFilters:
    @pytest.mark.parametrize("p", [0.1, 0.5, 0.75, 0.95])
    def test_top_p_is_the_smallest_set_reaching_p(self, rng, p):
        for row in rng.normal(0, 1.5, size=(30, 12)):
            kept = set(np.nonzero(np.isfinite(prob.filter_top_p(row, p)))[0].tolist())
            assert kept == brute_top_p_keep(row, p)

    def test_top_k_keeps_ties_with_the_kth_value(self):
        z = np.array([3.0, 1.0, 2.0, 2.0, 0.0])
        assert np.isfinite(prob.filter_top_k(z, 2)).tolist() == [True, False, True, True, False]

    def test_top_p_keeps_ties_with_the_last_token(self):
        z = np.log([0.4, 0.2, 0.2, 0.2])
        assert np.isfinite(prob.filter_top_p(z, 0.5)).tolist() == [True, True, True, True]

    def test_min_p_threshold_scales_with_the_top_probability(self):
        z = np.log([0.5, 0.3, 0.1, 0.04, 0.06])
        assert np.isfinite(prob.filter_min_p(z, 0.15)).tolist() == [True, True, True, False, False]
        assert np.isfinite(prob.filter_min_p(z, 1.0)).tolist() == [True, False, False, False, False]

    def test_masks_stay_masked_and_dtype_is_kept(self):
        z = np.array([[0.0, -np.inf, 1.0, 0.5]], dtype=np.float32)
        for f, arg in ((prob.filter_top_k, 3), (prob.filter_top_p, 0.99), (prob.filter_min_p, 0.01)):
            out = f(z, arg)
            assert out.dtype == np.float32 and out[0, 1] == -np.inf, f.__name__

    def test_errors(self):
        with pytest.raises(InvalidValueError, match="'k'"):
            prob.filter_top_k([1.0, 2.0], 0)
        with pytest.raises(TypeError, match="'k'"):
            prob.filter_top_k([1.0, 2.0], 1.5)
        with pytest.raises(InvalidValueError, match="'p'"):
            prob.filter_top_p([1.0, 2.0], 1.5)
        with pytest.raises(InvalidValueError, match="'p'"):
            prob.filter_min_p([1.0, 2.0], -0.1)
        with pytest.raises(InvalidValueError, match="entirely -inf"):
            prob.filter_top_p([[-np.inf, -np.inf]], 0.5)


logit_batches = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=7),
                           elements=st_h.floats(-30, 30))


@given(z=logit_batches, k=st_h.integers(1, 8), p=st_h.floats(0, 1))
def test_filters_keep_at_least_one_token_and_the_argmax(z, k, p):
    top = np.argmax(z, axis=-1)[..., None]
    for out in (prob.filter_top_k(z, k), prob.filter_top_p(z, p), prob.filter_min_p(z, p)):
        assert out.shape == z.shape
        assert (np.isfinite(out).sum(axis=-1) >= 1).all()
        assert np.isfinite(np.take_along_axis(out, top, axis=-1)).all()
        kept = np.isfinite(out)
        np.testing.assert_array_equal(out[kept], z[kept])  # survivors are untouched


@given(z=logit_batches, k=st_h.integers(1, 8), p=st_h.floats(0, 1))
def test_filters_are_row_by_row(z, k, p):
    rows = z.reshape(-1, z.shape[-1])
    for f, arg in ((prob.filter_top_k, k), (prob.filter_top_p, p), (prob.filter_min_p, p)):
        expected = np.stack([f(r, arg) for r in rows]).reshape(z.shape)
        np.testing.assert_array_equal(f(z, arg), expected)


# ------------------------------------------------------------ sampling

class TestGreedy:
    def test_temperature_zero_is_argmax_and_consumes_no_randomness(self, rng):
        z = rng.normal(size=(6, 30))
        before = rng.bit_generator.state
        out = prob.sample(z, temperature=0, top_p=0.5, rng=rng)
        assert rng.bit_generator.state == before
        np.testing.assert_array_equal(out, np.argmax(z, axis=-1))
        assert prob.sample(z[0], temperature=0.0) == int(np.argmax(z[0]))
        assert type(prob.sample(z[0], temperature=0)) is int

    def test_greedy_with_num_samples_repeats(self):
        out = prob.sample([[0.0, 3.0], [5.0, 1.0]], temperature=0, num_samples=4)
        np.testing.assert_array_equal(out, [[1, 1, 1, 1], [0, 0, 0, 0]])


@pytest.mark.torch
@pytest.mark.parametrize(
    "options",
    [
        dict(temperature=1.0),
        dict(temperature=0.7),
        dict(temperature=2.5),
        dict(top_k=3),
        dict(top_p=0.8),
        dict(min_p=0.1),
        dict(temperature=1.6, top_p=0.7),
        dict(temperature=0.5, min_p=0.05),
        dict(temperature=1.3, top_k=6, top_p=0.9, min_p=0.05),
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_draws_follow_the_filtered_distribution(options):
    expected = reference_distribution(LOGITS, **options)
    draws = prob.sample(LOGITS, rng=12345, num_samples=N_DRAWS, **options)
    assert draws.shape == (N_DRAWS,) and draws.dtype == np.int64
    assert goodness_of_fit(draws, expected) > ALPHA


@pytest.mark.torch
def test_the_goodness_of_fit_test_has_power():
    # the same draws, tested against what a wrong implementation would use
    draws = prob.sample(LOGITS, temperature=0.7, rng=12345, num_samples=N_DRAWS)
    assert goodness_of_fit(draws, reference_distribution(LOGITS, temperature=0.75)) < 1e-6
    draws = prob.sample(LOGITS, temperature=1.6, top_p=0.7, rng=12345, num_samples=N_DRAWS)
    # top-p applied before the temperature keeps a different set of tokens
    before = sp.softmax(hf_top_p(LOGITS, 0.7) / 1.6)
    with pytest.raises(AssertionError, match="filtered tokens drawn"):
        goodness_of_fit(draws, before)


def test_single_draws_follow_the_distribution():
    gen = np.random.default_rng(7)
    draws = np.array([prob.sample(LOGITS, temperature=0.8, rng=gen) for _ in range(4000)])
    assert goodness_of_fit(draws, sp.softmax(LOGITS / 0.8)) > ALPHA


def test_single_draws_equal_one_batch_of_draws():
    gen = np.random.default_rng(99)
    one_by_one = [prob.sample(LOGITS, top_k=5, rng=gen) for _ in range(50)]
    np.testing.assert_array_equal(prob.sample(LOGITS, top_k=5, rng=99, num_samples=50), one_by_one)


def test_batched_rows_sample_their_own_distributions():
    z = np.stack([LOGITS, LOGITS[::-1], np.zeros(10)])
    z[2, :5] = -np.inf
    draws = prob.sample(z, temperature=1.2, rng=3, num_samples=N_DRAWS)
    assert draws.shape == (3, N_DRAWS)
    for row, d in zip(z, draws, strict=True):
        assert goodness_of_fit(d, sp.softmax(row / 1.2)) > ALPHA
    one = prob.sample(z, rng=3)
    assert one.shape == (3,) and one.dtype == np.int64


def test_same_seed_same_draws_and_masked_tokens_never_drawn():
    z = np.array([1.0, -np.inf, 0.5, -np.inf, 2.0])
    a = prob.sample(z, rng=5, num_samples=5000)
    np.testing.assert_array_equal(a, prob.sample(z, rng=5, num_samples=5000))
    assert set(np.unique(a).tolist()) == {0, 2, 4}


def test_huge_logits_and_tiny_temperature():
    assert prob.sample([1e4, -1e4, 9999.0], rng=0, num_samples=100, temperature=1e-300).tolist() == [0] * 100
    draws = prob.sample([1e4, 1e4, -1e4], rng=0, num_samples=2000)
    assert set(draws.tolist()) == {0, 1}


def test_sample_errors():
    with pytest.raises(InvalidValueError, match="temperature"):
        prob.sample([1.0, 2.0], temperature=-1.0)
    with pytest.raises(InvalidValueError, match="top_k"):
        prob.sample([1.0, 2.0], top_k=0)
    with pytest.raises(InvalidValueError, match="top_p"):
        prob.sample([1.0, 2.0], top_p=2.0)
    with pytest.raises(InvalidValueError, match="num_samples"):
        prob.sample([1.0, 2.0], num_samples=0)
    with pytest.raises(TypeError, match="rng"):
        prob.sample([1.0, 2.0], rng="seed")
    with pytest.raises(InvalidValueError, match="no tokens"):
        prob.sample(np.zeros((2, 0)))
