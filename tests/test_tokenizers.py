"""Tests for llmmath.tokenizers' ByteBPETokenizer (the face the training loop uses) and
CharTokenizer: round trips, hand-derived merges, the brute-force trainer of test_bpe as
the reference, the dict form of both versions, and fingerprints."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import numpy as np
import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from llmmath.tokenizers import (
    GPT2_SPLIT_PATTERN,
    ByteBPETokenizer,
    CharTokenizer,
    tokenizer_fingerprint,
    tokenizer_from_dict,
)
from test_bpe import reference_learn, reference_merge

SAMPLE = (
    "To be, or not to be, that is the question:\n"
    "Whether 'tis nobler in the mind to suffer\n"
    "The slings and arrows of outrageous fortune,\n"
    "Or to take arms against a sea of troubles 1599.\n"
) * 3

#: The pre-split pattern that version-1 dicts carry (written for the standard ``re``).
V1_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"


# ----------------------------------------------------------------- the reference
def chunks_of(text, pattern):
    return ([text] if text else []) if pattern is None else regex.findall(pattern, text)


def reference_train(text, vocab_size, pattern):
    """The brute-force trainer on the pre-tokens, as id pairs (merge k is id 256 + k)."""
    counts = Counter(c.encode("utf-8") for c in chunks_of(text, pattern))
    merges = reference_learn(counts, vocab_size - 256)
    ids = {bytes([i]): i for i in range(256)}
    out = []
    for k, (a, b) in enumerate(merges):
        out.append((ids[a], ids[b]))
        ids.setdefault(a + b, 256 + k)
    return out


def reference_encode(text, tok, pattern):
    """Apply the merges in the order they were learned, chunk by chunk."""
    out = []
    pairs = [(tok.vocab[a], tok.vocab[b]) for a, b in tok.merges]
    ids = {t: i for i, t in reversed(list(enumerate(tok.vocab)))}
    for c in chunks_of(text, pattern):
        word = tuple(bytes([b]) for b in c.encode("utf-8"))
        for pair in pairs:
            word = reference_merge(word, pair)
        out.extend(ids[w] for w in word)
    return out


# ----------------------------------------------------------------- BPE
def test_wikipedia_example_by_hand():
    # "aaabdaaabac". Pair counts: aa 4 (two per "aaa"), ab 2, others 1 -> merge aa = 256:
    # "Z a b d Z a b a c" (in "aaa" the left pair wins). Now (Z, a) and (a, b) tie at 2;
    # (b"aa", b"a") > (b"a", b"b") -> Y = "aaa" = 257: "Y b d Y b a c". (Y, b) 2 -> 258.
    # Every pair now occurs once: (aaab, d), (d, aaab), (aaab, a), (a, c); b"d" is the
    # greatest first element, so (d, aaab) is the fourth merge.
    tok = ByteBPETokenizer.train("aaabdaaabac", vocab_size=300, pattern=None, min_frequency=2)
    assert tok.merges == ((97, 97), (256, 97), (257, 98))
    assert tok.encode("aaabdaaabac").tolist() == [258, ord("d"), 258, ord("a"), ord("c")]
    assert tok.vocab[258] == b"aaab"
    longer = ByteBPETokenizer.train("aaabdaaabac", vocab_size=260, pattern=None)
    assert longer.merges == ((97, 97), (256, 97), (257, 98), (100, 258))
    assert longer.encode("aaabdaaabac").tolist() == [258, 259, ord("a"), ord("c")]


def test_overlapping_runs_and_ties_by_hand():
    # "aaaa": aa occurs 3 times (overlapping); merging left to right gives "Z Z", then ZZ.
    tok = ByteBPETokenizer.train("aaaa", vocab_size=300, pattern=None)
    assert tok.merges == ((97, 97), (256, 256))
    assert tok.encode("aaaaa").tolist() == [257, 97]
    # "abcd": three pairs once each; the greatest, (c, d), goes first; then (b, cd) > (a, b)
    tok = ByteBPETokenizer.train("abcd", vocab_size=258, pattern=None)
    assert tok.merges == ((99, 100), (98, 256))


@given(text=st.text(alphabet="ab c\n'1é", max_size=60), other=st.text(alphabet="abc '", max_size=30),
       extra=st.integers(0, 30), pattern=st.sampled_from([None, GPT2_SPLIT_PATTERN]))
def test_training_and_encoding_match_the_textbook_reference(text, other, extra, pattern):
    tok = ByteBPETokenizer.train(text, 256 + extra, pattern=pattern)
    assert list(tok.merges) == reference_train(text, 256 + extra, pattern)
    assert tok.encode(text).tolist() == reference_encode(text, tok, pattern)
    assert tok.encode(other).tolist() == reference_encode(other, tok, pattern)


def test_training_to_exhaustion_matches_the_reference():
    for pattern in (None, GPT2_SPLIT_PATTERN):
        tok = ByteBPETokenizer.train(SAMPLE, vocab_size=2100, pattern=pattern)
        assert list(tok.merges) == reference_train(SAMPLE, 2100, pattern)
        assert tok.encode(SAMPLE).tolist() == reference_encode(SAMPLE, tok, pattern)


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
    # whole text: " b", "a ", "b " occur 50 times, " a" 49; the greatest pair, "b ", wins; then
    # ("a", " ") and (" ", "b ") tie at 50 and b"a" > b" ": "a ", a merge across the space
    assert free.vocab[256:258] == [b"b ", b"a "]
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
    with pytest.raises(ValueError, match="version 1 or 2"):
        ByteBPETokenizer.from_dict({"type": "byte_bpe", "version": 3, "pattern": None,
                                    "merges": []})
    with pytest.raises(ValueError, match="special_tokens"):
        ByteBPETokenizer.from_dict({"type": "byte_bpe", "version": 2, "pattern": None,
                                    "merges": []})
    with pytest.raises(ValueError, match="pattern"):
        ByteBPETokenizer.from_dict({"type": "byte_bpe", "version": 1, "pattern": "(",
                                    "merges": []})
    with pytest.raises(TypeError, match="merges"):
        ByteBPETokenizer(7)


def test_version_1_dicts_load_unchanged():
    # A dict written before special tokens and the regex module: its pattern is compiled
    # with the standard re, as then, and it writes itself back as version 1, so a
    # checkpoint's stored fingerprint still matches.
    v1 = {"type": "byte_bpe", "version": 1, "pattern": V1_PATTERN,
          "merges": [[120, 194], [256, 178], [116, 104]]}
    blob = json.dumps(v1, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    tok = tokenizer_from_dict(json.loads(json.dumps(v1)))
    assert tok.to_dict() == v1
    assert tok.fingerprint == hashlib.sha256(blob.encode("ascii")).hexdigest()
    # re's [^\W\d_] takes "²" (a number, not a letter) as part of a word, so "x²" is one
    # chunk and the two merges make it token 257; GPT-2's pattern cuts "x" | "²".
    assert tok.encode("x² the").tolist() == [257, 32, 258, 101]
    now = ByteBPETokenizer(v1["merges"])
    assert now.encode("x² the").tolist() == [120, 194, 178, 32, 258, 101]
    assert now.to_dict()["version"] == 2 and now.fingerprint != tok.fingerprint
    none = {"type": "byte_bpe", "version": 1, "pattern": None, "merges": [[97, 98]]}
    assert tokenizer_from_dict(none).to_dict() == none
    assert tokenizer_from_dict(none).encode("ab ab").tolist() == [256, 32, 256]


def test_special_tokens_in_the_face():
    eot = "<|endoftext|>"
    text = f"{SAMPLE}{eot}{SAMPLE}"
    tok = ByteBPETokenizer.train(text, 300, special_tokens=[eot])
    assert tok.vocab_size == 300 and len(tok.merges) == 299 - 256
    assert tok.vocab[299] == eot.encode() and tok.special_tokens == (eot,)
    ids = tok.encode(text)
    assert (ids == 299).sum() == 1 and tok.decode(ids) == text
    assert all(eot.encode() not in t for t in tok.vocab[256:299])   # never merged into
    d = json.loads(json.dumps(tok.to_dict()))
    assert d["version"] == 2 and d["special_tokens"] == [eot]
    again = tokenizer_from_dict(d)
    assert again == tok and again.fingerprint == tok.fingerprint
    plain = ByteBPETokenizer(tok.merges)
    assert plain.fingerprint != tok.fingerprint and plain.vocab_size == 299
    assert list(tok.encode_iterable(iter(text.splitlines(keepends=True)))) == ids.tolist()
    with pytest.raises(ValueError, match="vocab_size"):
        ByteBPETokenizer.train("abc", 256, special_tokens=[eot])


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
