"""Tests for llmmath.ngram against references written here, independently.

The reference Kneser-Ney below follows Chen & Goodman (1998) literally: it
builds Counters of padded n-gram tuples, continuation counts as sets of
distinct left extensions, and evaluates the interpolation recursively, one
probability at a time. It shares no code with the vectorised model.
"""

from __future__ import annotations

import copy
import math
import pickle
import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmmath.ngram import BOS, SMOOTHING_METHODS, UNK, NGramLM

pytestmark = pytest.mark.lesson_ngrams

_PAD = object()      # the reference's own start marker
_NOVEL = object()    # the reference's stand-in for "a symbol never seen"


# ----------------------------------------------------------------- the reference
class ReferenceKN:
    """Interpolated (or modified) Kneser-Ney, straight from the definitions."""

    def __init__(self, tokens, order, modified=False, discount=None):
        self.order, self.modified = order, modified
        self.vocab_size = len(set(tokens)) + 1            # the seen symbols and one unknown
        padded = [_PAD] * (order - 1) + list(tokens)
        events = [tuple(padded[i:i + order]) for i in range(len(tokens))]
        self.counts = {order: Counter(events)}
        for m in range(order - 1, 0, -1):
            extended = {e[order - m - 1:] for e in events}   # distinct (m+1)-suffixes of events
            self.counts[m] = Counter(g[1:] for g in extended)
        self.D = {}
        for m in range(1, order + 1):
            if discount is not None:
                self.D[m] = discount[m - 1]
            else:
                self.D[m] = self._estimate(list(self.counts[m].values()))

    def _estimate(self, values):
        n = {r: sum(1 for v in values if v == r) for r in (1, 2, 3, 4)}
        y = n[1] / (n[1] + 2 * n[2]) if n[1] else 0.5
        if not self.modified or 0 in (n[1], n[2], n[3]):
            return (y, y, y)
        d1 = 1 - 2 * y * n[2] / n[1]
        d2 = 2 - 3 * y * n[3] / n[2]
        d3 = 3 - 4 * y * n[4] / n[3]
        return (min(max(d1, 0), 1), min(max(d2, 0), 2), min(max(d3, 0), 3))

    def _d(self, m, c):
        return self.D[m][min(c, 3) - 1]

    def _p(self, m, h, w):
        if m == 0:
            return 1.0 / self.vocab_size
        follow = {g[-1]: c for g, c in self.counts[m].items() if g[:-1] == h}
        lower = self._p(m - 1, h[1:], w)
        total = sum(follow.values())
        if total == 0:
            return lower
        gamma = sum(min(self._d(m, c), c) for c in follow.values()) / total
        c = follow.get(w, 0)
        own = max(c - self._d(m, c), 0) / total if c else 0.0
        return own + gamma * lower

    def prob(self, context, w):
        h = ([_PAD] * (self.order - 1) + list(context))[len(context):] if self.order > 1 else []
        return self._p(self.order, tuple(h), w)


def reference_symbol(s):
    return _NOVEL if s is UNK else s


small_texts = st.text(alphabet="abcd", min_size=1, max_size=30)
small_ints = st.lists(st.integers(0, 3), min_size=1, max_size=30)
contexts = st.lists(st.sampled_from(["a", "b", "c", "d", "z"]), max_size=6)


# ----------------------------------------------------------------- Kneser-Ney
@given(text=small_texts, order=st.integers(1, 5), ctx=contexts,
       smoothing=st.sampled_from(["kneser_ney", "modified_kneser_ney"]))
def test_kneser_ney_matches_brute_force(text, order, ctx, smoothing):
    lm = NGramLM(order, smoothing).fit(text)
    ref = ReferenceKN(text, order, modified=smoothing == "modified_kneser_ney")
    p = lm.distribution(ctx)
    expected = np.array([ref.prob(ctx, reference_symbol(s)) for s in lm.vocab])
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-12)
    assert abs(p.sum() - 1.0) < 1e-12
    assert (p > 0).all()                      # KN leaves mass for every symbol, UNK included


@given(tokens=small_ints, order=st.integers(1, 5),
       ctx=st.lists(st.integers(0, 5), max_size=6))
def test_kneser_ney_sums_to_one_for_int_tokens(tokens, order, ctx):
    lm = NGramLM(order).fit(tokens)
    p = lm.distribution(ctx)
    assert p.shape == (len(set(tokens)) + 1,)
    assert abs(p.sum() - 1.0) < 1e-12
    ref = ReferenceKN(tokens, order)
    for s, q in zip(lm.vocab, p, strict=True):
        assert abs(q - ref.prob(ctx, reference_symbol(s))) < 1e-12


@given(text=small_texts, order=st.integers(1, 5))
def test_every_context_seen_partly_seen_and_unseen_sums_to_one(text, order):
    lm = NGramLM(order).fit(text)
    seen = [text[max(i - order + 1, 0):i] for i in range(len(text) + 1)]
    partly = ["z" + c[1:] for c in seen] + [c[:-1] + "z" for c in seen if c]
    for ctx in seen + partly + ["zzzz", ""]:
        assert abs(lm.distribution(ctx).sum() - 1.0) < 1e-12, ctx


@given(text=small_texts, order=st.integers(1, 4))
def test_estimated_discounts_follow_n1_over_n1_plus_2n2(text, order):
    lm = NGramLM(order).fit(text)
    ref = ReferenceKN(text, order)
    np.testing.assert_allclose(lm.discounts, [ref.D[m][0] for m in range(1, order + 1)],
                               rtol=0, atol=1e-15)


def test_discounts_by_hand():
    # "abab", order 2, padded <s> a b a b: bigrams (<s>,a) (a,b) (b,a) (a,b): counts 1, 2, 1
    # -> n1 = 2, n2 = 1 -> D = 2 / (2 + 2) = 0.5. Unigram continuation counts:
    # a is preceded by {<s>, b} -> 2, b by {a} -> 1 -> n1 = 1, n2 = 1 -> D = 1/3.
    lm = NGramLM(2).fit("abab")
    np.testing.assert_allclose(lm.discounts, [1 / 3, 0.5], rtol=1e-15, atol=0)
    # p(b | a) = (2 - 0.5)/2 + (0.5 * 1/2) * p1(b); p1(b) = (1 - 1/3)/3 + (2/3)/3 * 1/3
    p1_b = (1 - 1 / 3) / 3 + (2 * (1 / 3) / 3) * (1 / 3)
    assert lm.prob("a", "b") == pytest.approx(1.5 / 2 + 0.25 * p1_b, abs=1e-15)


def test_fixed_discounts_match_reference():
    text = "abracadabra cadabra"
    lm = NGramLM(3, discount=[0.3, 0.6, 0.9]).fit(text)
    ref = ReferenceKN(text, 3, discount=[(0.3,) * 3, (0.6,) * 3, (0.9,) * 3])
    for ctx in ["", "a", "ab", "ra", "zz", " c"]:
        expected = [ref.prob(ctx, reference_symbol(s)) for s in lm.vocab]
        np.testing.assert_allclose(lm.distribution(ctx), expected, rtol=0, atol=1e-12)
    mkn = NGramLM(2, "modified_kneser_ney", discount=[0.5, 1.0, 1.5]).fit(text)
    ref = ReferenceKN(text, 2, modified=True, discount=[(0.5, 1.0, 1.5)] * 2)
    for ctx in ["a", "b", "q"]:
        np.testing.assert_allclose(mkn.distribution(ctx),
                                   [ref.prob(ctx, reference_symbol(s)) for s in mkn.vocab],
                                   rtol=0, atol=1e-12)


def test_words_and_tuples_as_symbols():
    words = "the cat sat on the mat the cat ran".split()
    lm = NGramLM(3).fit(words)
    ref = ReferenceKN(words, 3)
    for ctx in [(), ("the",), ("the", "cat"), ("a", "dog"), ("cat", "sat")]:
        expected = [ref.prob(list(ctx), reference_symbol(s)) for s in lm.vocab]
        np.testing.assert_allclose(lm.distribution(ctx), expected, rtol=0, atol=1e-12)
    assert lm.vocab[-1] is UNK and lm.vocab[:-1] == tuple(sorted(set(words)))
    assert lm.prob(("the",), "dog") == lm.prob(("the",), "zebra") == lm.prob(("the",), UNK)
    with pytest.raises(TypeError, match="context"):
        lm.prob("the", "cat")               # a str is not a sequence of words
    with pytest.raises(TypeError, match="tokens"):
        lm.perplexity("the cat")
    with pytest.raises(ValueError, match="not fitted"):
        NGramLM(3).vocab


def test_string_and_list_of_characters_give_the_same_model():
    a, b = NGramLM(3).fit("hello world"), NGramLM(3).fit(list("hello world"))
    assert a.vocab == b.vocab
    for ctx in ["", "l", "lo", "xy"]:
        np.testing.assert_array_equal(a.distribution(ctx), b.distribution(list(ctx)))


# ----------------------------------------------------------------- MLE and add-k
@given(text=small_texts, order=st.integers(1, 4))
def test_mle_is_relative_frequency_with_longest_seen_suffix(text, order):
    lm = NGramLM(order, "mle").fit(text)
    padded = [_PAD] * (order - 1) + list(text)
    events = [tuple(padded[i:i + order]) for i in range(len(text))]

    def expected(ctx, w):
        h = tuple(([_PAD] * (order - 1) + list(ctx))[len(ctx):]) if order > 1 else ()
        for cut in range(len(h) + 1):           # longest suffix first
            suffix = h[cut:]
            k = len(suffix)
            total = sum(1 for e in events if e[order - 1 - k:order - 1] == suffix)
            if total:
                hits = sum(1 for e in events if e[order - 1 - k:] == (*suffix, w))
                return hits / total
        raise AssertionError("the empty context is always seen")

    for ctx in ["", "a", "ab", "ba", "zb", "zz", text[-3:]]:
        for w in "abcd":
            assert lm.prob(ctx, w) == pytest.approx(expected(ctx, w), abs=1e-15)
        assert lm.prob(ctx, "z") == 0.0           # exact: an unseen symbol has count 0


def test_mle_perplexity_is_inf_on_an_unseen_symbol_without_warnings():
    lm = NGramLM(2, "mle").fit("aabb")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lm.perplexity("abz") == math.inf
        assert lm.logprob("a", "z") == -math.inf
        assert np.isinf(lm.nll("az")).tolist() == [False, True]


@given(text=small_texts, k=st.sampled_from([1.0, 0.5, 0.01, 3.0]))
def test_add_k_closed_form(text, k):
    lm = NGramLM(2, "add_k", k=k).fit(text)
    V = len(set(text)) + 1
    pairs = Counter(zip([_PAD, *text[:-1]], text, strict=True))
    firsts = Counter([_PAD, *text[:-1]])
    for h in ["", *"abcdz"]:
        key = _PAD if h == "" else h
        for w in [*"abcd", "z"]:
            c = pairs.get((key, w), 0)
            assert lm.prob(h, w) == pytest.approx((c + k) / (firsts.get(key, 0) + k * V),
                                                  abs=1e-15)


def test_laplace_is_add_one():
    text = "mississippi"
    a, b = NGramLM(3, "laplace").fit(text), NGramLM(3, "add_k", k=1.0).fit(text)
    for ctx in ["", "s", "ss", "is", "qq"]:
        np.testing.assert_array_equal(a.distribution(ctx), b.distribution(ctx))
    # "ss" is followed by i twice: (2 + 1) / (2 + 5), V = {i, m, p, s, <unk>}
    assert a.prob("ss", "i") == pytest.approx(3 / 7, abs=1e-15)


# ----------------------------------------------------------------- scoring
@given(text=small_texts, test=st.text(alphabet="abcde", min_size=1, max_size=15),
       order=st.integers(1, 4))
def test_perplexity_is_exp_mean_nll(text, test, order):
    lm = NGramLM(order).fit(text)
    ref = ReferenceKN(text, order)
    logs = [math.log(ref.prob(test[:i], test[i] if test[i] in text else _NOVEL))
            for i in range(len(test))]
    nll = -np.array(logs)
    np.testing.assert_allclose(lm.nll(test), nll, rtol=1e-12, atol=0)
    assert lm.cross_entropy(test) == pytest.approx(nll.mean(), rel=1e-12)
    assert lm.cross_entropy(test, base=2) == pytest.approx(nll.mean() / math.log(2), rel=1e-12)
    assert lm.perplexity(test) == pytest.approx(math.exp(nll.mean()), rel=1e-12)


@given(text=small_texts, test=st.text(alphabet="abcz", max_size=12), order=st.integers(1, 5),
       smoothing=st.sampled_from(SMOOTHING_METHODS))
def test_batched_distributions_agree_with_single_ones(text, test, order, smoothing):
    lm = NGramLM(order, smoothing).fit(text)
    P = lm.next_token_distributions(test)
    assert P.shape == (len(test) + 1, len(lm.vocab))
    for i in range(len(test) + 1):
        np.testing.assert_allclose(P[i], lm.distribution(test[:i]), rtol=0, atol=1e-15)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    if test:
        idx = [lm.vocab.index(c) if c in lm.vocab else len(lm.vocab) - 1 for c in test]
        np.testing.assert_allclose(np.exp(-lm.nll(test)), P[np.arange(len(test)), idx],
                                   rtol=1e-12, atol=0)


def test_start_of_sequence_is_bos_padding():
    lm = NGramLM(3).fit("abcabc")
    assert lm.prob("", "a") == lm.prob([BOS, BOS], "a") == lm.prob([BOS], "a")
    assert lm.prob("zzz" + "", "a") != lm.prob("", "a")       # a long unknown context is not a start
    assert lm.count((BOS, BOS, "a")) == 1 and lm.count((BOS, "a")) == 1 and lm.count("a") == 2
    assert lm.count("bc") == 2 and lm.count("ca") == 1 and lm.count("abc") == 2


def test_count_matches_counter():
    text = "she sells sea shells"
    lm = NGramLM(4).fit(text)
    for m in range(1, 5):
        grams = Counter(text[i - m + 1:i + 1] for i in range(m - 1, len(text)))
        for g, c in grams.items():
            assert lm.count(g) == c
    assert lm.count("xyz") == 0


# ----------------------------------------------------------------- sampling
def test_generate_is_seeded_and_follows_the_distribution():
    text = "aaaaaaabbbc"
    lm = NGramLM(1, "mle").fit(text)
    a = lm.generate(10000, rng=np.random.default_rng(7))
    assert a == lm.generate(10000, rng=7) and isinstance(a, str)
    freq = np.array([a.count(c) for c in "abc"]) / len(a)
    p = np.array([7, 3, 1]) / 11
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / len(a)))   # 4 standard errors


def test_generate_continues_a_context_and_excludes_unk_by_default():
    lm = NGramLM(3, "mle").fit("abcabcabc")
    assert lm.generate(6, rng=0, context="ab") == "cabcab"
    words = NGramLM(2).fit([1, 2, 3, 1, 2])
    out = words.generate(50, rng=1)
    assert isinstance(out, list) and set(out) <= {1, 2, 3}
    with_unk = words.generate(2000, rng=1, allow_unk=True)
    assert UNK in with_unk


# ----------------------------------------------------------------- errors and misc
@pytest.mark.parametrize("order", [0, -1])
def test_order_below_one_is_refused(order):
    with pytest.raises(ValueError, match="'order'"):
        NGramLM(order)


@pytest.mark.parametrize("kwargs, word", [
    (dict(order=2, smoothing="good_turing"), "smoothing"),
    (dict(order=2, smoothing="laplace", k=2.0), "add_k"),
    (dict(order=2, smoothing="add_k", k=0.0), "'k'"),
    (dict(order=2, discount=1.5), "discount"),
    (dict(order=2, discount=[0.5, 0.5, 0.5]), "discount"),
    (dict(order=2, smoothing="mle", discount=0.5), "discount"),
    (dict(order=2, smoothing="modified_kneser_ney", discount=[0.5, 2.5, 1.0]), "discount"),
])
def test_bad_settings_are_refused(kwargs, word):
    with pytest.raises(ValueError, match=word):
        NGramLM(**kwargs)


def test_bad_data_is_refused():
    with pytest.raises(ValueError, match="empty"):
        NGramLM(2).fit("")
    with pytest.raises(ValueError, match="NaN"):
        NGramLM(2).fit([1.0, float("nan")])
    with pytest.raises(ValueError, match="BOS"):
        NGramLM(2).fit(["a", BOS])
    with pytest.raises(TypeError, match="hashable"):
        NGramLM(2).fit([[1], [2]])
    with pytest.raises(ValueError, match="not fitted"):
        NGramLM(2).prob("a", "b")
    lm = NGramLM(2).fit("ab")
    with pytest.raises(ValueError, match="empty"):
        lm.perplexity("")
    with pytest.raises(ValueError, match="BOS"):
        lm.prob("a", BOS)
    with pytest.raises(ValueError, match="'base'"):
        lm.cross_entropy("ab", base=1)


def test_copies_keep_the_special_symbols():
    lm = NGramLM(2).fit(["x", "y", "x"])
    for clone in (copy.deepcopy(lm), pickle.loads(pickle.dumps(lm))):
        assert clone.vocab[-1] is UNK
        np.testing.assert_array_equal(clone.distribution(["x"]), lm.distribution(["x"]))


def test_unorderable_symbols_keep_first_appearance_order():
    lm = NGramLM(1, "mle").fit([3, "a", 3, (1, 2)])
    assert lm.vocab == (3, "a", (1, 2), UNK)
    assert lm.prob((), 3) == 0.5                # exact: a count ratio, 2 of 4


def test_a_larger_corpus_stays_normalised():
    rng = np.random.default_rng(0)
    text = "".join(rng.choice(list("abcdefgh "), size=20000, p=[.2, .1, .1, .1, .1, .1, .1, .1, .1]))
    for order in (1, 2, 3, 5):
        lm = NGramLM(order).fit(text[:15000])
        P = lm.next_token_distributions(text[15000:])
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # i.i.d. symbols: a unigram model's perplexity approaches exp(entropy) = exp(2.164)
    entropy = -(0.2 * math.log(0.2) + 8 * 0.1 * math.log(0.1))
    assert NGramLM(1).fit(text[:15000]).perplexity(text[15000:]) == pytest.approx(
        math.exp(entropy), rel=0.03)
