"""Tests for GPT-2-style byte-level BPE (llmmath.tokenizers): pre-tokenization against
hand-written lists, training against a brute-force trainer written here (recount every
pair after every merge), encoding against the textbook "apply every merge in order",
special tokens, streaming, GPT-2's file format, and decoding of invalid UTF-8."""

from __future__ import annotations

import io
import json
import tracemalloc
from collections import Counter
from itertools import islice

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

import llmmath.tokenizers as tokenizers
from llmmath.errors import LLMMathError
from llmmath.tokenizers import (
    GPT2_SPLIT_PATTERN,
    ByteBPETokenizer,
    PreTokenizer,
    Tokenizer,
    count_pretokens,
    gpt2_bytes_to_unicode,
    learn_merges,
    pretokenize,
    read_gpt2_files,
    train_bpe,
    vocab_from_merges,
    write_gpt2_files,
)

# The pattern as published with GPT-2 (written out again, not imported).
PUBLISHED_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
EOT = "<|endoftext|>"

SAMPLE = (
    "To be, or not to be, that is the question:\n"
    "Whether 'tis nobler in the mind to suffer\n"
    "The slings and arrows of outrageous fortune,\n"
    "Or to take arms against a sea of troubles 1599.\n"
    "I'm sure you'll say they've done it; we'd   see.\n"
) * 4


# ----------------------------------------------------------------- the references
def reference_split_specials(text, specials):
    """Scan left to right; at each position take the longest special token starting
    there. Returns (piece, is_special) with the plain pieces kept whole."""
    out, plain, i = [], [], 0
    longest_first = sorted(specials, key=len, reverse=True)
    while i < len(text):
        hit = next((s for s in longest_first if text.startswith(s, i)), None)
        if hit is None:
            plain.append(text[i])
            i += 1
            continue
        if plain:
            out.append(("".join(plain), False))
            plain = []
        out.append((hit, True))
        i += len(hit)
    if plain:
        out.append(("".join(plain), False))
    return out


def reference_pretokens(text, specials=()):
    return [p for seg, special in reference_split_specials(text, specials) if not special
            for p in regex.findall(PUBLISHED_PATTERN, seg)]


def reference_merge(word, pair):
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def reference_learn(counts, num_merges):
    """Textbook BPE on byte strings: recount all pairs, merge the most frequent
    (ties: the greater (bytes, bytes) tuple), repeat."""
    words = Counter({tuple(bytes([b]) for b in w): c for w, c in counts.items()})
    merges = []
    for _ in range(num_merges):
        pairs = Counter()
        for w, c in words.items():
            for p in zip(w, w[1:], strict=False):
                pairs[p] += c
        if not pairs:
            break
        best = max(pairs, key=lambda p: (pairs[p], p))
        merges.append(best)
        merged = Counter()
        for w, c in words.items():
            merged[reference_merge(w, best)] += c
        words = merged
    return merges


def reference_train(text, vocab_size, specials=()):
    counts = Counter(p.encode("utf-8") for p in reference_pretokens(text, specials))
    return reference_learn(counts, vocab_size - 256 - len(specials))


def reference_encode(text, vocab, merges, specials=()):
    """Apply every merge, in the order learned, to each pre-token; look the pieces up."""
    inverse = {}
    for i in sorted(vocab, reverse=True):
        inverse[vocab[i]] = i
    ids = []
    for seg, special in reference_split_specials(text, specials):
        if special:
            ids.append(inverse[seg.encode("utf-8")])
            continue
        for p in regex.findall(PUBLISHED_PATTERN, seg):
            word = tuple(bytes([b]) for b in p.encode("utf-8"))
            for pair in merges:
                word = reference_merge(word, pair)
            ids.extend(inverse[w] for w in word)
    return ids


def write(tmp_path, text, name="corpus.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# ----------------------------------------------------------------- pre-tokenization
def test_the_pattern_is_gpt2s():
    assert GPT2_SPLIT_PATTERN == PUBLISHED_PATTERN


@pytest.mark.parametrize("text, expected", [
    ("I'm can't we'll they've you're he'd she's",
     ["I", "'m", " can", "'t", " we", "'ll", " they", "'ve", " you", "'re", " he", "'d",
      " she", "'s"]),
    ("I'M DON'T", ["I", "'", "M", " DON", "'", "T"]),          # contractions are lowercase only
    ("'tis", ["'t", "is"]),                                    # GPT-2's well-known quirk
    (" 'tis", [" '", "tis"]),
    ("abc123 4567 8.5", ["abc", "123", " 4567", " 8", ".", "5"]),
    ("hello  world", ["hello", " ", " world"]),                # the last space joins the word
    ("a   \n\nb", ["a", "   \n", "\n", "b"]),
    ("Hello, world!!!  ", ["Hello", ",", " world", "!!!", "  "]),
    ("a\tb", ["a", "\t", "b"]),
    ("naïve café 日本語", ["naïve", " café", " 日本語"]),
    ("e\u0301t\u00e9", ["e", "\u0301", "t\u00e9"]),            # a combining accent is not \p{L}
    ("x² Ⅻ½", ["x", "²", " Ⅻ½"]),                             # No and Nl are numbers
    ("🙂👍 ok", ["🙂👍", " ok"]),
    ("", []),
])
def test_pretokenize_by_hand(text, expected):
    assert pretokenize(text) == expected


@given(st.text(max_size=80))
def test_pretokens_cover_the_text(text):
    pieces = pretokenize(text)
    assert "".join(pieces) == text and all(pieces)
    assert pieces == regex.findall(PUBLISHED_PATTERN, text)


def test_special_tokens_are_kept_whole_and_the_longest_wins():
    specials = [EOT, EOT + EOT, "<|end"]
    text = f"a{EOT}{EOT}{EOT}b<|endo c{EOT}"
    assert pretokenize(text, specials) == [
        "a", EOT + EOT, EOT, "b", "<|end", "o", " c", EOT]
    assert list(PreTokenizer(special_tokens=specials).segments(text)) == \
        reference_split_specials(text, specials)
    # nothing is special without being listed
    assert pretokenize("x<|endoftext|>") == ["x", "<|", "endoftext", "|>"]


@given(parts=st.lists(st.one_of(st.text(alphabet="<|>ab e", max_size=5),
                                st.sampled_from(["<|a|>", "<|a|><|a|>", "<|a", "a|>"])),
                      max_size=12))
def test_special_splitting_matches_the_scan(parts):
    specials = ["<|a|>", "<|a|><|a|>", "<|a", "a|>"]
    text = "".join(parts)
    assert list(PreTokenizer(special_tokens=specials).segments(text)) == \
        reference_split_specials(text, specials)


def test_user_patterns_keep_the_gaps():
    pre = PreTokenizer(r"x+")
    assert pre.split("axxbx") == ["a", "xx", "b", "x"]
    assert PreTokenizer(None, ["<s>"]).split("ab c<s>d") == ["ab c", "<s>", "d"]


# ----------------------------------------------------------------- training
def test_ties_go_to_the_greater_pair_of_byte_strings(tmp_path):
    # "ab ab cd cd": (a,b) and (c,d) both occur twice -> (c,d) first; then (a,b); then
    # (" ", "ab") and (" ", "cd") once each -> b"cd" > b"ab"; then (" ", "ab").
    vocab, merges = train_bpe(write(tmp_path, "ab ab cd cd"), 260)
    assert merges == [(b"c", b"d"), (b"a", b"b"), (b" ", b"cd"), (b" ", b"ab")]
    assert [vocab[i] for i in range(256, 260)] == [b"cd", b"ab", b" cd", b" ab"]
    # Bytes decide, not ids: after "ab" (id 256), (ab, c) and (b, x) tie at 2 and
    # b"b" > b"ab", although id 256 > id 98.
    assert learn_merges({b"abc": 2, b"ab": 3, b"bx": 2}, 3) == \
        [(b"a", b"b"), (b"b", b"x"), (b"ab", b"c")]
    # a prefix is smaller: (b"aa", b"a") beats (b"a", b"b")
    assert learn_merges({b"aaab": 2}, 2) == [(b"a", b"a"), (b"aa", b"a")]


def test_overlapping_pairs_are_counted_but_merged_left_to_right():
    # "aaaa": (a,a) occurs 3 times; merging left to right gives "aa aa", then (aa, aa).
    assert learn_merges({b"aaaa": 1}, 5) == [(b"a", b"a"), (b"aa", b"aa")]
    # "aaa" x3 against "ab" x5: (a,a) counts 2 per word, 6 > 5
    assert learn_merges({b"aaa": 3, b"ab": 5}, 1) == [(b"a", b"a")]


def test_min_count_and_running_out_of_pairs():
    # "abab": (a,b) twice -> merged; then (ab,ab) and (c,d) once each: below min_count=2
    assert learn_merges({b"abab": 1, b"cd": 1}, 10, min_count=2) == [(b"a", b"b")]
    # without the floor they follow, the greater pair (b"c" > b"ab") first
    assert learn_merges({b"abab": 1, b"cd": 1}, 10) == [(b"a", b"b"), (b"c", b"d"), (b"ab", b"ab")]
    assert learn_merges({b"ab": 1}, 10) == [(b"a", b"b")]
    assert learn_merges({b"a": 7}, 10) == []


_corpus_text = st.lists(st.sampled_from(["a", "b", "ab", " ", "  ", "c", "\n", "'s", "é", "1",
                                         "12", ".", EOT, "<|", "x"]),
                        max_size=60).map("".join)


@given(text=_corpus_text, extra=st.integers(0, 40))
@settings(max_examples=80)
def test_train_bpe_equals_the_brute_force_trainer(tmp_path_factory, text, extra):
    path = write(tmp_path_factory.mktemp("c"), text)
    vocab, merges = train_bpe(path, 256 + 1 + extra, [EOT], chunk_chars=7)
    assert merges == reference_train(text, 256 + 1 + extra, [EOT])
    assert len(vocab) == 256 + len(merges) + 1 and vocab[len(vocab) - 1] == EOT.encode()
    assert all(vocab[b] == bytes([b]) for b in range(256))
    assert all(vocab[256 + k] == a + b for k, (a, b) in enumerate(merges))
    # the in-memory trainer (the training loop's) learns the same merges
    face = ByteBPETokenizer.train(text, 256 + 1 + extra, special_tokens=[EOT])
    assert [(face.vocab[a], face.vocab[b]) for a, b in face.merges] == merges


def test_train_bpe_on_real_text_equals_the_brute_force_trainer(tmp_path):
    vocab, merges = train_bpe(write(tmp_path, SAMPLE), 256 + 100)
    assert merges == reference_train(SAMPLE, 256 + 100)
    assert len(merges) == 100
    # to exhaustion: every distinct pre-token becomes one token
    vocab, merges = train_bpe(write(tmp_path, SAMPLE), 256 + 1000)
    assert merges == reference_train(SAMPLE, 256 + 1000)
    tok = Tokenizer(vocab, merges)
    assert all(len(tok.encode(p)) == 1 for p in set(pretokenize(SAMPLE)))


def test_streaming_cuts_do_not_change_training(tmp_path):
    # a chunk size that cuts words, runs of spaces and special tokens in every way
    text = ("the  cat sat<|endoftext|>on   the mat's edge \n\n" * 30) + "end"
    path = write(tmp_path, text)
    whole = train_bpe(path, 400, [EOT], chunk_chars=1 << 20)
    for chunk in (1, 2, 3, 5, 13, 64):
        assert train_bpe(path, 400, [EOT], chunk_chars=chunk) == whole
    assert whole[1] == reference_train(text, 400, [EOT])


def test_train_bpe_streams_in_bounded_memory(tmp_path):
    rng = np.random.default_rng(7)
    words = np.array(["".join(rng.choice(list("abcdefghij"), size=int(n)))
                      for n in rng.integers(1, 8, 300)])
    peaks, sizes = [], []
    for n_words in (50_000, 250_000):
        path = write(tmp_path, " ".join(words[rng.integers(0, 300, n_words)].tolist()))
        sizes.append(path.stat().st_size)
        tracemalloc.start()
        try:
            train_bpe(path, 300, chunk_chars=1 << 12)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    # five times the text, about the same peak; far below the size of the text
    assert sizes[1] > 1_000_000
    assert peaks[1] < 1.5 * peaks[0] and peaks[1] < sizes[1] / 3, (peaks, sizes)


def test_special_tokens_are_not_counted(tmp_path):
    vocab, merges = train_bpe(write(tmp_path, f"{EOT}{EOT}ab{EOT}"), 300, [EOT])
    assert merges == [(b"a", b"b")]                       # nothing from inside <|endoftext|>
    assert vocab[257] == EOT.encode() and len(vocab) == 258


def test_count_pretokens_by_hand():
    pre = PreTokenizer(special_tokens=[EOT])
    counts = count_pretokens(["the cat", f" the{EOT}the"], pre)
    assert counts == Counter({"the": 2, " cat": 1, " the": 1})


# ----------------------------------------------------------------- encoding and decoding
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    specials = [EOT, EOT + EOT, "<|pad|>"]
    path = write(tmp_path_factory.mktemp("t"), SAMPLE + EOT + SAMPLE[:200])
    vocab, merges = train_bpe(path, 256 + 100 + len(specials), specials)
    return Tokenizer(vocab, merges, specials), vocab, merges, specials


@given(text=st.text())
def test_random_unicode_round_trips(trained, text):
    tok = trained[0]
    ids = tok.encode(text)
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert tok.decode(ids) == text
    assert tok.decode_bytes(ids) == text.encode("utf-8")


@given(parts=st.lists(st.one_of(st.text(max_size=8), st.sampled_from(
    [EOT, EOT + EOT, "<|pad|>", "<|", "|>", "endoftext", "<|endoftext", " the", "  "])),
    max_size=15))
def test_text_with_special_tokens_round_trips_and_matches_the_reference(trained, parts):
    tok, vocab, merges, specials = trained
    text = "".join(parts)
    ids = tok.encode(text)
    assert tok.decode(ids) == text
    assert ids == reference_encode(text, vocab, merges, specials)
    n_special = sum(1 for _, special in reference_split_specials(text, specials) if special)
    assert sum(i in set(tok.special_ids.values()) for i in ids) == n_special


def test_overlapping_special_tokens_by_hand(trained):
    tok = trained[0]
    eot, double, pad = (tok.special_ids[s] for s in (EOT, EOT + EOT, "<|pad|>"))
    assert (eot, double, pad) == (356, 357, 358)          # after 256 bytes and 100 merges
    assert tok.encode(EOT * 3) == [double, eot]
    assert tok.encode(EOT * 4 + "<|pad|>" + EOT) == [double, double, pad, eot]
    assert tok.encode("<|endoftext") == tok.encode("<|") + tok.encode("endoftext")


def test_encoding_applies_the_lowest_rank_first():
    # merges (b,c) then (a,b): in "abc" (b,c) goes first, leaving "a" + "bc"
    merges = [(b"b", b"c"), (b"a", b"b")]
    tok = Tokenizer(vocab_from_merges(merges), merges)
    assert tok.encode("abc") == [97, 256]
    merges = [(b"a", b"b"), (b"b", b"c")]
    assert Tokenizer(vocab_from_merges(merges), merges).encode("abc") == [256, 99]


def test_encoding_reproduces_the_training_segmentation(trained):
    tok, vocab, merges, _ = trained
    assert tok.encode(SAMPLE) == reference_encode(SAMPLE, vocab, merges)
    assert len(tok.encode(SAMPLE)) < len(SAMPLE.encode()) / 2


@pytest.mark.parametrize("data, expected", [
    (b"a\xffb", "a\ufffdb"),
    (b"\xe2\x82", "\ufffd"),                 # a cut-off euro sign: one maximal subpart
    (b"\xe2\x82\xac", "€"),
    (b"a\xc0\xafb", "a\ufffd\ufffdb"),       # C0 never starts a valid sequence
    (b"\xed\xa0\x80", "\ufffd\ufffd\ufffd"),  # an encoded surrogate is not UTF-8
    (b"\xf0\x9f\x99a", "\ufffda"),            # a cut-off emoji, then text
])
def test_decoding_invalid_utf8_gives_replacement_characters(trained, data, expected):
    tok = trained[0]
    assert tok.decode(list(data)) == expected     # ids 0..255 are the bytes themselves


@given(ids=st.lists(st.integers(0, 10**6), max_size=30))
def test_decoding_any_ids_never_fails(trained, ids):
    tok = trained[0]
    ids = [i % tok.vocab_size for i in ids]
    text = tok.decode(ids)
    data = b"".join(tok.vocab[i] for i in ids)
    try:
        assert text == data.decode("utf-8")
    except UnicodeDecodeError:
        assert "\ufffd" in text


# ----------------------------------------------------------------- streaming
@given(text=st.lists(st.sampled_from(["the", " cat", "  ", " ", "\n", EOT, "<|", "endo", "ftext|>",
                                      "é", "’", "'s", "12"]), max_size=40).map("".join),
       cuts=st.lists(st.integers(0, 200), max_size=8), min_piece=st.sampled_from([1, 2, 5, 64]))
def test_encode_iterable_equals_encode_wherever_the_chunks_end(trained, text, cuts, min_piece):
    tok = trained[0]
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    chunks = ["", *(text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)), ""]
    assert list(tok.encode_iterable(chunks, min_piece=min_piece)) == tok.encode(text)


def test_encode_iterable_waits_for_special_tokens_that_may_grow():
    # "<s>" is complete at the end of a chunk, but "<s><s>" may follow; "< s >" holds
    # spaces, so a cut at a space inside it would split it.
    specials = ["<s>", "<s><s>", "< s >", "a b c d e f"]
    merges = [(b"a", b"b")]
    tok = Tokenizer(vocab_from_merges(merges, specials), merges, specials)
    s1, s2, s3, s4 = (tok.special_ids[s] for s in specials)
    for chunks, expected in [
        (["ab<s>", "<s>ab"], [256, s2, 256]),
        (["ab <s", "><s>", "<s> ab"], [256, 32, s2, s1, 32, 256]),
        (["ab < s", " >ab"], [256, 32, s3, 256]),
        (["x <", " s >", " <", " s", " > y"], [120, 32, s3, 32, s3, 32, 121]),
        (["x a b c", " d e f y"], [120, 32, s4, 32, 121]),     # a buffer shorter than a special
    ]:
        assert tok.encode("".join(chunks)) == expected
        for min_piece in (1, 2, 3):
            assert list(tok.encode_iterable(chunks, min_piece=min_piece)) == expected, chunks


def test_encode_iterable_over_a_file_handle(trained, tmp_path):
    tok = trained[0]
    text = (SAMPLE + EOT) * 20 + "  trailing  \n\n  "
    path = write(tmp_path, text)
    with path.open(encoding="utf-8", newline="") as f:
        streamed = list(tok.encode_iterable(f, min_piece=100))
    assert streamed == tok.encode(text)
    assert list(tok.encode_iterable(io.StringIO(text))) == tok.encode(text)


def test_encode_iterable_is_lazy_and_bounded(trained):
    tok = trained[0]

    def forever():
        while True:
            yield "the question is "

    first = list(islice(tok.encode_iterable(forever(), min_piece=50), 12))
    assert first == tok.encode("the question is " * 10)[:12]

    def lines(n):
        for i in range(n):
            yield f"line {i % 97} of the question, whether 'tis nobler\n"

    tracemalloc.start()
    try:
        count = sum(1 for _ in tok.encode_iterable(lines(40_000), min_piece=1 << 12))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    size = sum(len(s) for s in lines(40_000))
    assert count == len(tok.encode("".join(lines(40_000))))
    assert size > 1_500_000 and peak < size / 4, (peak, size)


# ----------------------------------------------------------------- GPT-2's files
def stand_ins():
    """GPT-2's byte -> character table, from its definition: printable bytes stand for
    themselves, the other 68, in order, for U+0100, U+0101, ..."""
    keep = [b for b in range(256) if 0x21 <= b <= 0x7E or 0xA1 <= b <= 0xAC or 0xAE <= b <= 0xFF]
    others = [b for b in range(256) if b not in keep]
    return {**{b: chr(b) for b in keep}, **{b: chr(0x100 + k) for k, b in enumerate(others)}}


def test_the_byte_stand_ins_are_gpt2s():
    table = gpt2_bytes_to_unicode()
    assert table == stand_ins()
    # the characters everybody meets in GPT-2's vocab.json
    assert table[0x20] == "Ġ" and table[0x0A] == "Ċ" and table[0x00] == "Ā" and table[0xAD] == "Ń"
    assert "".join(table[b] for b in "’".encode()) == "âĢĻ"


@pytest.fixture
def gpt2_style_files(tmp_path):
    """A small vocabulary in GPT-2's format with ids in a shuffled order."""
    table = stand_ins()
    tokens = [table[b] for b in range(256)] + ["Ġt", "he", "Ġthe", "âĢ", "âĢĻ", "ĠĠ"]
    ids = np.random.default_rng(3).permutation(len(tokens)).tolist()
    vocab = dict(zip(tokens, ids, strict=True))
    vocab[EOT] = len(tokens)
    (tmp_path / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "merges.txt").write_text(
        "#version: 0.2\nĠ t\nh e\nĠt he\nâ Ģ\nâĢ Ļ\nĠ Ġ\n", encoding="utf-8")
    return tmp_path, vocab


def test_from_files_reads_gpt2s_format(gpt2_style_files):
    d, vocab = gpt2_style_files
    tok = Tokenizer.from_files(d / "vocab.json", d / "merges.txt", [EOT])
    assert tok.merges == [(b" ", b"t"), (b"h", b"e"), (b" t", b"he"), (b"\xe2", b"\x80"),
                          (b"\xe2\x80", b"\x99"), (b" ", b" ")]
    assert tok.vocab[vocab["Ġthe"]] == b" the" and tok.vocab[vocab[EOT]] == EOT.encode()
    assert tok.encode(" the") == [vocab["Ġthe"]]
    assert tok.encode("the") == [vocab["t"], vocab["he"]]
    assert tok.encode("’") == [vocab["âĢĻ"]]
    # "   the": pre-tokens "  " and " the"; "  " is one merged token
    assert tok.encode("   the" + EOT) == [vocab["ĠĠ"], vocab["Ġthe"], vocab[EOT]]
    assert tok.encode("\n") == [vocab["Ċ"]]
    assert tok.decode(tok.encode("It’s the end.\n" + EOT)) == "It’s the end.\n" + EOT


def test_to_files_writes_what_from_files_reads(gpt2_style_files, tmp_path):
    d, _ = gpt2_style_files
    tok = Tokenizer.from_files(d / "vocab.json", d / "merges.txt", [EOT])
    tok.to_files(tmp_path / "v2.json", tmp_path / "m2.txt")
    assert (tmp_path / "m2.txt").read_text(encoding="utf-8") == \
        (d / "merges.txt").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "v2.json").read_text(encoding="utf-8")) == \
        json.loads((d / "vocab.json").read_text(encoding="utf-8"))
    again = Tokenizer.from_files(tmp_path / "v2.json", tmp_path / "m2.txt", [EOT])
    assert again.vocab == tok.vocab and again.merges == tok.merges


def test_trained_vocabularies_survive_the_file_format(trained, tmp_path):
    tok, vocab, merges, specials = trained
    write_gpt2_files(tmp_path / "v.json", tmp_path / "m.txt", vocab, merges)
    assert read_gpt2_files(tmp_path / "v.json", tmp_path / "m.txt") == (vocab, merges)
    again = Tokenizer.from_files(tmp_path / "v.json", tmp_path / "m.txt", specials)
    assert again.encode(SAMPLE + EOT) == tok.encode(SAMPLE + EOT)


def test_file_format_errors(gpt2_style_files, tmp_path):
    d, _ = gpt2_style_files
    bad = tmp_path / "bad.txt"
    bad.write_text("#version: 0.2\nĠt\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_gpt2_files(d / "vocab.json", bad)
    bad.write_text("#version: 0.2\na \u4e00\n", encoding="utf-8")
    with pytest.raises(ValueError, match="stand-ins"):
        read_gpt2_files(d / "vocab.json", bad)
    (tmp_path / "v.json").write_text('{"a": 0, "b": 0}', encoding="utf-8")
    with pytest.raises(ValueError, match="two tokens"):
        read_gpt2_files(tmp_path / "v.json", d / "merges.txt")
    (tmp_path / "v.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ValueError, match="JSON object"):
        read_gpt2_files(tmp_path / "v.json", d / "merges.txt")
    with pytest.raises(ValueError, match="same bytes"):
        write_gpt2_files(tmp_path / "x.json", tmp_path / "x.txt", {0: b"a", 1: b"a"}, [])
    with pytest.raises(TypeError, match="vocab_path"):
        read_gpt2_files(3, d / "merges.txt")


# ----------------------------------------------------------------- bad input
def test_errors_name_the_argument(tmp_path):
    merges = [(b"a", b"b")]
    vocab = vocab_from_merges(merges)
    with pytest.raises(ValueError, match="256 single bytes"):
        Tokenizer({i: bytes([i]) for i in range(255)}, [])
    with pytest.raises(ValueError, match="merges' has .* at index 0"):
        Tokenizer(vocab, [(b"a", b"c")])
    with pytest.raises(TypeError, match="merges"):
        Tokenizer(vocab, [("a", "b")])
    with pytest.raises(TypeError, match="vocab"):
        Tokenizer([b"a"], merges)
    tok = Tokenizer(vocab, merges, [EOT])
    with pytest.raises(TypeError, match="text"):
        tok.encode(b"ab")
    with pytest.raises(ValueError, match="surrogate '\\\\ud800' at index 1"):
        tok.encode("a\ud800b")
    with pytest.raises(ValueError, match="ids"):
        tok.decode([10_000])
    with pytest.raises(TypeError, match="ids"):
        tok.decode("ab")
    with pytest.raises(TypeError, match="item 1"):
        list(tok.encode_iterable(["a", b"b"]))
    with pytest.raises(ValueError, match="special_tokens' has the empty string"):
        Tokenizer(vocab, merges, [""])
    with pytest.raises(TypeError, match="special_tokens"):
        Tokenizer(vocab, merges, EOT)
    path = write(tmp_path, "abc")
    with pytest.raises(ValueError, match="vocab_size"):
        train_bpe(path, 256, [EOT])
    with pytest.raises(TypeError, match="input_path"):
        train_bpe(None, 300)
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 ok")
    with pytest.raises(ValueError, match="not UTF-8"):
        train_bpe(tmp_path / "latin1.txt", 300)
    with pytest.raises(ValueError, match="pattern"):
        PreTokenizer("(")
    with pytest.raises(TypeError, match="counts"):
        learn_merges({"ab": 1}, 3)
    with pytest.raises(ValueError, match="counts"):
        learn_merges({b"ab": 0}, 3)


# ----------------------------------------------------------------- fuzzing
#: The public names of llmmath.tokenizers that the fuzz test below throws junk at.
COVERED = (
    "CharTokenizer", "ByteBPETokenizer", "GPT2_SPLIT_PATTERN", "tokenizer_from_dict",
    "tokenizer_fingerprint", "Tokenizer", "train_bpe", "learn_merges", "count_pretokens",
    "vocab_from_merges", "PreTokenizer", "pretokenize", "gpt2_bytes_to_unicode",
    "read_gpt2_files", "write_gpt2_files",
)


def test_every_public_name_is_fuzzed():
    assert set(COVERED) == set(tokenizers.__all__)


junk = st.one_of(st.none(), st.integers(-3, 300), st.floats(allow_nan=True), st.text(max_size=5),
                 st.binary(max_size=5), st.lists(st.integers(-2, 500), max_size=4),
                 st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
                 st.dictionaries(st.binary(max_size=2), st.integers(-1, 3), max_size=2),
                 st.just(object()))


@given(a=junk, b=junk, c=junk)
@settings(max_examples=150)
def test_junk_gives_a_clear_error_or_a_valid_result(tmp_path_factory, a, b, c):
    merges = [(b"a", b"b")]
    tok = Tokenizer(vocab_from_merges(merges, [EOT]), merges, [EOT])
    face = ByteBPETokenizer([(97, 98)], special_tokens=[EOT])
    d = tmp_path_factory.mktemp("f")
    (d / "v.json").write_text("{}", encoding="utf-8")
    (d / "m.txt").write_text("#version: 0.2\n", encoding="utf-8")
    calls = [
        lambda: tokenizers.CharTokenizer.fit(a), lambda: tokenizers.CharTokenizer(a).decode(b),
        lambda: ByteBPETokenizer.train(a, b), lambda: ByteBPETokenizer(a, b, c),
        lambda: face.encode(a), lambda: face.decode(a), lambda: tokenizers.tokenizer_from_dict(a),
        lambda: tokenizers.tokenizer_fingerprint(a), lambda: Tokenizer(a, b, c),
        lambda: tok.encode(a), lambda: tok.decode(a), lambda: list(tok.encode_iterable(a)),
        lambda: train_bpe(a, b, c), lambda: learn_merges(a, b), lambda: count_pretokens(a, b),
        lambda: vocab_from_merges(a, b), lambda: PreTokenizer(a, b), lambda: pretokenize(a, b),
        lambda: read_gpt2_files(a, d / "m.txt"), lambda: read_gpt2_files(d / "v.json", a),
        lambda: write_gpt2_files(d / "o.json", d / "o.txt", a, b),
        gpt2_bytes_to_unicode,
    ]
    for call in calls:
        try:
            call()
        except LLMMathError as exc:      # our ValueError/TypeError, naming what was wrong
            assert ": " in str(exc) and ("argument" in str(exc) or "'" in str(exc)), exc
        except OSError:                  # a junk string taken as a path that does not exist
            pass
