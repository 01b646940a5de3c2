"""Fuzz the public API of llmmath.ngram with the shared harness (tests/fuzz.py).

Every call gets odd shapes, dtypes, NaN/inf, junk objects and odd symbols. It
must return a clean result (a distribution that sums to 1, probabilities in
[0, 1], NLLs >= 0) or raise ValueError/TypeError naming what was wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import anything, check_call, weird_arrays
from llmmath import ngram
from llmmath.ngram import BOS, SMOOTHING_METHODS, UNK, NGramLM

pytestmark = [
    pytest.mark.lesson_ngrams,
]

COVERED = ["NGramLM", "BOS", "UNK", "SMOOTHING_METHODS"]

# sequences of symbols: text, small int lists, weird arrays (NaN, complex, 2-D, empty…),
# lists mixing BOS/UNK with other symbols, and junk
symbol = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b", "", "ab", BOS, UNK, 1.5, None,
                                                           float("nan"), (1, 2), True]))
sequences = st.one_of(
    st.text(max_size=12),
    st.lists(symbol, max_size=10),
    weird_arrays(max_dims=2, max_side=6),
    anything(max_dims=2),
)


def test_covered_names_are_the_public_api():
    assert sorted(COVERED) == sorted(ngram.__all__)


@given(order=anything(max_dims=1), smoothing=st.one_of(st.sampled_from(SMOOTHING_METHODS),
                                                         anything(max_dims=0)),
       k=anything(max_dims=0), discount=st.one_of(st.none(), anything(max_dims=2)))
def test_constructor_accepts_or_refuses_cleanly(order, smoothing, k, discount):
    check_call(NGramLM, order, smoothing, k=k, discount=discount)


@given(order=st.integers(1, 4), smoothing=st.sampled_from(SMOOTHING_METHODS), tokens=sequences)
def test_fit_accepts_or_refuses_cleanly(order, smoothing, tokens):
    lm = NGramLM(order, smoothing)
    fitted = check_call(lm.fit, tokens)
    if fitted is not None:
        assert fitted is lm and lm.vocab[-1] is UNK
        p = lm.distribution(())
        assert abs(p.sum() - 1.0) < 1e-12 and (p >= 0).all()


@pytest.fixture(scope="module", params=SMOOTHING_METHODS)
def models(request):
    return [NGramLM(n, request.param).fit(data) for n, data in
            [(1, "abcab"), (3, "abcabcaab"), (2, [1, 2, 3, 2, 1, 1])]]


@given(context=sequences, token=st.one_of(symbol, anything(max_dims=1)), seq=sequences,
       n=anything(max_dims=0), base=anything(max_dims=0), allow_unk=anything(max_dims=0),
       rng=st.one_of(st.none(), st.integers(-2, 5), anything(max_dims=0)))
def test_methods_accept_or_refuse_cleanly(models, context, token, seq, n, base, allow_unk, rng):
    for lm in models:
        p = check_call(lm.distribution, context)
        if p is not None:
            assert p.shape == (len(lm.vocab),) and abs(p.sum() - 1.0) < 1e-12 and (p >= 0).all()
        q = check_call(lm.prob, context, token)
        if q is not None:
            assert 0.0 <= q <= 1.0
        lq = check_call(lm.logprob, context, token)
        if lq is not None:
            assert lq <= 0.0
        nll = check_call(lm.nll, seq)
        if nll is not None:
            assert (nll >= 0).all()
        ppl = check_call(lm.perplexity, seq)
        if ppl is not None:
            assert ppl >= 1.0 or math.isclose(ppl, 1.0)
        check_call(lm.cross_entropy, seq, base=base)
        P = check_call(lm.next_token_distributions, seq)
        if P is not None:
            np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        check_call(lm.count, seq)
        if isinstance(n, int) and n < 20:
            out = check_call(lm.generate, n, rng, context, allow_unk=allow_unk)
            if out is not None:
                assert len(out) == n
        huge = check_call(lm.generate, 2**31 + 1)  # beyond MAX_ELEMENTS: refused before the loop
        assert huge is None
