"""Tests for llmmath.tokenizers: round trips, hand-derived BPE merges, and a
slow pure-Python BPE (recount everything, merge, repeat) as the reference."""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmmath.tokenizers import (
    GPT2_SPLIT_PATTERN,
    ByteBPETokenizer,
    CharTokenizer,
    tokenizer_fingerprint,
    tokenizer_from_dict,
)

SAMPLE = (
    "To be, or not to be, that is the question:\n"
    "Whether 'tis nobler in the mind to suffer\n"
    "The slings and arrows of outrageous fortune,\n"
    "Or to take arms against a sea of troubles 1599.\n"
) * 3


# ----------------------------------------------------------------- the reference
def reference_merge(seq, pair, new):
    out, i = [], 0
    while i < len(seq):
        if i + 1 < len(seq) and (seq[i], seq[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(seq[i])
            i += 1
    return out


def reference_train(text, vocab_size, pattern):
    """Textbook BPE: recount all adjacent pairs each round, merge the most frequent
    (ties: the smallest pair), on every chunk of the pre-split text."""
    chunks = [text] if pattern is None else re.findall(pattern, text)
    seqs = [list(c.encode("utf-8")) for c in chunks if c]
    merges = []
    for new in range(256, vocab_size):
        counts = Counter()
        for s in seqs:
            counts.update(zip(s, s[1:], strict=False))
        if not counts:
            break
        top = max(counts.values())
        pair = min(p for p, c in counts.items() if c == top)
        merges.append(pair)
        seqs = [reference_merge(s, pair, new) for s in seqs]
    return merges


def reference_encode(text, merges, pattern):
    """Apply the merges in the order they were learned, chunk by chunk."""
    chunks = [text] if pattern is None else re.findall(pattern, text)
    out = []
    for c in chunks:
        seq = list(c.encode("utf-8"))
        for rank, pair in enumerate(merges):
            seq = reference_merge(seq, pair, 256 + rank)
        out.extend(seq)
    return out


# ----------------------------------------------------------------- BPE
def test_wikipedia_example_by_hand():
    # "aaabdaaabac". Pair counts: aa 4 (two per "aaa"), ab 2, others 1 -> merge aa = 256:
    # "Z a b d Z a b a c" (in "aaa" the left pair wins). Now Za 2 and ab 2 tie; the smaller
    # pair (97, 98) < (256, 97) wins -> ab = 257: "Z Y d Z Y a c". ZY 2 -> 258: "X d X a c".
    # Every pair now occurs once; the smallest, (97, 99) = "ac", is the fourth merge.
    tok = ByteBPETokenizer.train("aaabdaaabac", vocab_size=300, pattern=None, min_frequency=2)
    assert tok.merges == ((97, 97), (97, 98), (256, 257))
    assert tok.encode("aaabdaaabac").tolist() == [258, ord("d"), 258, ord("a"), ord("c")]
    assert tok.vocab[258] == b"aaab"
    longer = ByteBPETokenizer.train("aaabdaaabac", vocab_size=260, pattern=None)
    assert longer.merges == ((97, 97), (97, 98), (256, 257), (97, 99))
    assert longer.encode("aaabdaaabac").tolist() == [258, ord("d"), 258, 259]


def test_overlapping_runs_and_ties_by_hand():
    # "aaaa": aa occurs 3 times (overlapping); merging left to right gives "Z Z", then ZZ.
    tok = ByteBPETokenizer.train("aaaa", vocab_size=300, pattern=None)
    assert tok.merges == ((97, 97), (256, 256))
    assert tok.encode("aaaaa").tolist() == [257, 97]
    # "abcd": three pairs once each; the smallest (a, b) goes first; then (c, d) < (256, c)
    tok = ByteBPETokenizer.train("abcd", vocab_size=258, pattern=None)
    assert tok.merges == ((97, 98), (99, 100))


@given(text=st.text(alphabet="ab c\n'1é", max_size=60), other=st.text(alphabet="abc '", max_size=30),
       extra=st.integers(0, 30), pattern=st.sampled_from([None, GPT2_SPLIT_PATTERN]))
def test_training_and_encoding_match_the_textbook_reference(text, other, extra, pattern):
    tok = ByteBPETokenizer.train(text, 256 + extra, pattern=pattern)
    assert list(tok.merges) == reference_train(text, 256 + extra, pattern)
    assert tok.encode(text).tolist() == reference_encode(text, tok.merges, pattern)
    assert tok.encode(other).tolist() == reference_encode(other, tok.merges, pattern)


def test_large_vocabulary_counting_path_matches_the_reference():
    # vocab_size**2 > 2**22 switches pair counting from a dense table to sorting
    for pattern in (None, GPT2_SPLIT_PATTERN):
        tok = ByteBPETokenizer.train(SAMPLE, vocab_size=2100, pattern=pattern)
        assert list(tok.merges) == reference_train(SAMPLE, 2100, pattern)
        assert tok.encode(SAMPLE).tolist() == reference_encode(SAMPLE, tok.merges, pattern)


def test_encoding_applies_earlier_merges_first():
    # merges ab (256) then bc (257): in "abc" the pair ab is fused first, leaving "c"
    tok = ByteBPETokenizer([(97, 98), (98, 99)], pattern=None)
    assert tok.encode("abc").tolist() == [256, 99]
    assert ByteBPETokenizer([(98, 99), (97, 98)], pattern=None).encode("abc").tolist() == [97, 256]


@pytest.fixture(scope="module")
def trained():
    return {p: ByteBPETokenizer.train(SAMPLE, 320, pattern=p) for p in (None, GPT2_SPLIT_PATTERN)}


@given(text=st.text(), pattern=st.sampled_from([None, GPT2_SPLIT_PATTERN]))
def test_any_text_round_trips(trained, text, pattern):
    tok = trained[pattern]
    ids = tok.encode(text)
    assert ids.dtype == np.int64 and ((0 <= ids) & (ids < tok.vocab_size)).all()
    assert tok.decode(ids) == text
    assert tok.decode_bytes(ids) == text.encode("utf-8")


def test_unseen_scripts_and_emoji_round_trip(trained):
    text = "Ça va? 日本語 🙂👍🏽 e\u0301 \t\r\n  end"
    for tok in trained.values():
        assert tok.decode(tok.encode(text)) == text
        assert len(tok.encode(text)) <= len(text.encode("utf-8"))


def test_vocabulary_size_is_respected(trained):
    for tok in trained.values():
        assert tok.vocab_size == 320 == len(tok.vocab)
    assert ByteBPETokenizer.train("ab", vocab_size=1000).vocab_size == 257   # ran out of pairs
    assert ByteBPETokenizer.train("", vocab_size=300).vocab_size == 256


def test_pre_split_keeps_merges_inside_words():
    text = "a b " * 50
    free = ByteBPETokenizer.train(text, 260, pattern=None)
    split = ByteBPETokenizer.train(text, 260, pattern=GPT2_SPLIT_PATTERN)
    # whole text: " b", "a ", "b " occur 50 times, " a" 49; the smallest pair " b" wins, then
    # "a"+" b" and " b"+" " tie at 50 and (97, 256) < (256, 32): a merge across the space
    assert free.vocab[256:258] == [b" b", b"a b"]
    assert all(not (t.endswith(b" ") and len(t.strip()) > 0) for t in split.vocab[256:])
    assert split.vocab[256] == b" b"         # chunks 'a', ' b', ' a', ...: ' b' 50 times, ' a' 49


def test_user_pattern_that_misses_text_still_round_trips():
    tok = ByteBPETokenizer.train("xx yy xx", 260, pattern=r"x+")
    for text in ["xx yy xx", "yy", "", "xyxy"]:
        assert tok.decode(tok.encode(text)) == text


def test_serialisation_and_fingerprint(trained):
    tok = trained[GPT2_SPLIT_PATTERN]
    d = json.loads(json.dumps(tok.to_dict()))
    again = tokenizer_from_dict(d)
    assert again == tok and again.fingerprint == tok.fingerprint
    assert again.encode(SAMPLE).tolist() == tok.encode(SAMPLE).tolist()
    other = ByteBPETokenizer(tok.merges[:-1], tok.pattern)
    assert other.fingerprint != tok.fingerprint
    assert ByteBPETokenizer(tok.merges, None).fingerprint != tok.fingerprint


def test_bpe_errors():
    with pytest.raises(ValueError, match="vocab_size"):
        ByteBPETokenizer.train("abc", vocab_size=100)
    with pytest.raises(TypeError, match="text"):
        ByteBPETokenizer.train(b"abc", vocab_size=300)
    with pytest.raises(ValueError, match="pattern"):
        ByteBPETokenizer(pattern="(")
    with pytest.raises(ValueError, match="merges"):
        ByteBPETokenizer([(0, 300)])                 # refers to a token not yet made
    tok = ByteBPETokenizer.train("abab", 258)
    with pytest.raises(ValueError, match="ids"):
        tok.decode([258])
    with pytest.raises(ValueError, match="surrogate"):
        tok.encode("a\ud800b")
    with pytest.raises(ValueError, match="type"):
        ByteBPETokenizer.from_dict({"type": "char", "version": 1, "chars": "ab"})


# ----------------------------------------------------------------- characters
@given(text=st.text(min_size=1))
def test_char_round_trip(text):
    tok = CharTokenizer.fit(text)
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert tok.vocab_size == len(set(text)) + 1
    assert ids.tolist() == [sorted(set(text)).index(c) for c in text]


def test_char_unknowns_and_serialisation():
    tok = CharTokenizer.fit("banana")
    assert tok.chars == "abn" and tok.unk_id == 3
    assert tok.encode("bandana").tolist() == [1, 0, 2, 3, 0, 2, 0]
    assert tok.decode([1, 3]) == "b\ufffd"
    with pytest.raises(ValueError, match=r"'d' at index 3"):
        tok.encode("band", errors="strict")
    with pytest.raises(ValueError, match="ids"):
        tok.decode([4])
    with pytest.raises(ValueError, match="errors"):
        tok.encode("a", errors="ignore")
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert again == tok and tokenizer_fingerprint(again) == tok.fingerprint
    assert CharTokenizer.fit("bat").fingerprint != tok.fingerprint
    empty = CharTokenizer.fit("")
    assert empty.encode("xy").tolist() == [0, 0] and empty.vocab_size == 1
