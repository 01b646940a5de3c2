"""llmmath.compress: frequencies, the two coders, the container, and round trips.

References used here: exact rational arithmetic (``fractions``) for the ideal
interval, SciPy's entropy for KL divergences, a direct sum of -log2 q for code
lengths, and the n-gram model's own ``nll`` for what the coder aims at.
"""

from __future__ import annotations

import math
import struct
import zlib
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from llmmath.compress import (
    ContainerError,
    CorruptDataError,
    ModelMismatchError,
    NGramModel,
    UniformModel,
    arithmetic,
    compress,
    container,
    decompress,
    encode,
    quantize,
    range_coder,
    read_header,
)
from llmmath.compress.codec import split_lengths
from llmmath.compress.frequencies import PRECISION, TOTAL, code_length
from llmmath.errors import InvalidTypeError, InvalidValueError

CODERS = {"arithmetic": (arithmetic.Encoder, arithmetic.Decoder),
          "range": (range_coder.Encoder, range_coder.Decoder)}
TRAIN = ("It was the best of times, it was the worst of times, it was the age of wisdom, "
         "it was the age of foolishness.\n") * 5


@pytest.fixture(scope="module")
def ngram3():
    return NGramModel.fit(TRAIN, order=3)


# ------------------------------------------------------------------ frequencies
probs_rows = st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=300).filter(
    lambda r: sum(r) > 0)


@given(probs_rows)
def test_quantize_sums_to_total_and_keeps_every_symbol(row):
    f = quantize(row)
    assert f.dtype == np.int64 and int(f.sum()) == TOTAL and f.min() >= 1
    p = np.asarray(row) / np.sum(row)
    # Each entry is within (number of symbols + 1) slots of its exact share, and the
    # divergence of the quantised distribution obeys the bound stated in the docstring.
    assert np.all(np.abs(f - p * TOTAL) <= len(row) + 1)
    kl = scipy.stats.entropy(p, f / TOTAL, base=2)
    assert kl <= len(row) / (TOTAL * math.log(2)) * 1.01 + 1e-12


def test_quantize_is_deterministic_and_batched_rows_match_single_rows(rng):
    P = rng.dirichlet(np.ones(50) * 0.1, size=20)
    F = quantize(P)
    assert np.array_equal(F, quantize(P.copy()))
    for i in range(20):      # exact: the same elementwise operations on the same row
        assert np.array_equal(F[i], quantize(P[i]))


def test_quantize_examples_by_hand():
    # p = (1/2, 1/4, 1/4, 0): floor(p * (2^24 - 4)) + 1, remainder 0
    assert quantize([0.5, 0.25, 0.25, 0.0]).tolist() == [2**23 - 1, 2**22, 2**22, 1]
    assert quantize([7.0]).tolist() == [TOTAL]
    # (2/3, 1/3): floor(2/3 (2^24 - 2)) + 1 = 11184810, floor(1/3 (2^24 - 2)) + 1 = 5592405,
    # and the one left over goes to the larger
    assert quantize([2.0, 1.0]).tolist() == [11184811, 5592405]
    assert PRECISION == 24


@pytest.mark.parametrize("bad", [[0.5, np.nan], [1.0, -0.1], [0.0, 0.0], [np.inf, 1.0], []])
def test_quantize_rejects_bad_rows(bad):
    with pytest.raises(InvalidValueError, match="quantize"):
        quantize(bad)


def test_code_length_is_the_direct_sum():
    f = quantize([[0.25, 0.75]] * 3)
    assert code_length(f, [0, 0, 1]) == pytest.approx(2 + 2 + math.log2(4 / 3), abs=1e-6)


# ------------------------------------------------------------------ the coders
def freq_streams():
    """A list of (frequency row, symbol) pairs with alphabets of 1 to 40 symbols."""
    step = st.integers(1, 40).flatmap(lambda V: st.tuples(
        st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=V, max_size=V).map(
            lambda r: quantize(np.asarray(r) + 1e-9)),
        st.integers(0, V - 1)))
    return st.lists(step, max_size=200)


def _roundtrip(coder, stream):
    Enc, Dec = CODERS[coder]
    enc = Enc()
    for f, x in stream:
        enc.encode(x, f)
    data = enc.finish()
    dec = Dec(data)
    return data, [dec.decode(f) for f, _ in stream]


@given(freq_streams())
def test_both_coders_decode_the_same_frequency_streams(stream):
    ideal = sum(-math.log2(f[x] / TOTAL) for f, x in stream)
    sizes = {}
    for coder in CODERS:
        data, back = _roundtrip(coder, stream)
        assert back == [x for _, x in stream], coder
        sizes[coder] = 8 * len(data)
    # The teaching coder: at most 2 bits over the code length, plus the last byte's padding.
    # constriction writes 32-bit words and flushes its state at the end. (Either can write
    # less: trailing zero bytes are dropped, and a message that is the point 0 is empty.)
    assert sizes["arithmetic"] <= ideal + 2 + 8
    assert sizes["range"] <= ideal + 64 + 8
    assert abs(sizes["arithmetic"] - sizes["range"]) <= 72      # the same code, within bytes


def test_typical_messages_cost_their_code_length(rng):
    # symbols drawn from the coded distributions themselves: size = ideal to a few bytes
    for V in (2, 7, 90):
        P = rng.dirichlet(np.full(V, 0.3), size=3000)
        F = quantize(P)
        xs = [int(rng.choice(V, p=F[i] / TOTAL)) for i in range(len(F))]
        ideal = code_length(F, xs)
        for coder in CODERS:
            data, back = _roundtrip(coder, list(zip(F, xs, strict=True)))
            assert back == xs
            assert ideal - 32 <= 8 * len(data) <= ideal + 72, (coder, V)


def test_skewed_frequencies_cost_what_they_should():
    # 2000 symbols of probability 3/2^24: 22.415 bits each, to a few bytes in total
    f = np.array([TOTAL - 3, 3])
    for coder in CODERS:
        data, back = _roundtrip(coder, [(f, 1)] * 2000)
        assert back == [1] * 2000
        assert abs(8 * len(data) - 2000 * -math.log2(3 / TOTAL)) < 64, coder
    data, back = _roundtrip("range", [(f, 0)] * 2000)        # the point 0: nothing to write
    assert data == b"" and back == [0] * 2000


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30), st.data())
def test_teaching_coder_output_lies_in_the_exact_interval(symbols, data):
    freqs = [quantize(data.draw(st.lists(st.floats(0.01, 1.0), min_size=6, max_size=6)))
             for _ in symbols]
    low, width = arithmetic.narrow(symbols, freqs)[-1]
    # independent product of the chosen slices
    assert width == math.prod(Fraction(int(f[x]), TOTAL) for f, x in zip(freqs, symbols,
                                                                          strict=True))
    enc = arithmetic.Encoder()
    for f, x in zip(freqs, symbols, strict=True):
        enc.encode(x, f)
    out = enc.finish()
    value = Fraction(int.from_bytes(out, "big"), 2 ** (8 * len(out)))
    # The integer coder rounds each cut down to a unit of its 32-bit register, and a unit is
    # at most 2^-32 of [0, 1): its interval moves from the exact one by at most n units.
    slack = Fraction(len(symbols), 2**31)
    assert low - slack <= value < low + width + slack
    # the exact low end, summed independently: sum_t c_lo(t)/T * prod_{s<t} q_s
    lows = [Fraction(int(sum(f[:x])), TOTAL) for f, x in zip(freqs, symbols, strict=True)]
    qs = [Fraction(int(f[x]), TOTAL) for f, x in zip(freqs, symbols, strict=True)]
    assert low == sum(lo * math.prod(qs[:t]) for t, lo in enumerate(lows))


def test_teaching_coder_trace_narrows():
    trace = []
    enc = arithmetic.Encoder(trace)
    for x in [1, 1, 0]:
        enc.encode(x, [1 << 22, 3 << 22])
    assert len(trace) == 3 and all(lo <= hi for lo, hi, _ in trace)


# ------------------------------------------------------------------ round trips
texts = st.one_of(
    st.text(max_size=60),                                         # random Unicode
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.tuples(st.characters(), st.integers(1, 400)).map(lambda t: t[0] * t[1]),   # long runs
    st.text(alphabet=st.sampled_from(list(TRAIN[:40]) + ["\x00", "😀", "é", "\U0010ffff"]),
            max_size=80),                                        # mostly in the vocabulary
)


@settings(max_examples=40)
@given(texts, st.sampled_from(["range", "arithmetic"]), st.sampled_from([7, 1 << 16]))
def test_roundtrip_uniform_and_ngram(ngram3, text, coder, chunk):
    for model in (UniformModel("abc \n"), ngram3):
        data = compress(text, model, coder=coder, chunk_size=chunk)
        assert decompress(data, model) == text


@pytest.mark.parametrize("text", ["", "\x00", "\ud800x\udfff", "😀" * 50, "a" * 5000,
                                  "zzz qqq \x00 @#~ 😀😀 " * 20])
@pytest.mark.parametrize("coder", ["range", "arithmetic"])
def test_roundtrip_edge_cases(ngram3, text, coder):
    data = compress(text, ngram3, coder=coder, chunk_size=100)
    assert decompress(data, ngram3) == text
    assert read_header(data).n_chars == len(text)


def test_escaped_repeats_are_cheap(ngram3):
    base = encode("it was ", ngram3).model_bits
    assert encode("it was @", ngram3).model_bits - base > 21    # escape + 21-bit code point
    repeats = encode("it was " + " @" * 200, ngram3).model_bits
    fresh = encode("it was " + "".join(" " + chr(0x4E00 + i) for i in range(200)),
                   ngram3).model_bits
    # a repeat is found in the stream's table of escaped characters: it saves most of the
    # 21 bits a new code point costs
    assert (fresh - repeats) / 200 > 15


def test_split_lengths():
    for n, c in [(0, 5), (1, 5), (10, 3), (65536, 65536), (65537, 65536), (513044, 65536)]:
        parts = split_lengths(n, c)
        assert sum(parts) == n and all(0 < p <= c for p in parts)
        assert len(parts) == -(-n // c) and (not parts or max(parts) - min(parts) <= 1)


# ------------------------------------------------------------------ what the coder writes
def test_written_size_matches_direct_sum_and_ngram_nll(ngram3):
    text = ("it was the age of wisdom, it was the season of light, " * 6)[:300]
    lm = ngram3.lm
    nll_bits = float(lm.nll(text).sum()) / math.log(2)          # the model's own scoring
    # the direct sum of -log2 q, q from quantize on the model's distributions along the text
    P = lm.next_token_distributions(text)[:-1]
    idx = [ngram3.alphabet.index(c) for c in text]
    direct = code_length(quantize(P), idx)
    for coder in CODERS:
        enc = encode(text, ngram3, coder=coder)
        assert enc.model_bits == pytest.approx(nll_bits, rel=1e-9)
        assert enc.ideal_bits == pytest.approx(direct, abs=1e-6)
        assert abs(8 * enc.payload_bytes - direct) <= 64, coder
        assert len(enc.data) - enc.payload_bytes == 102 + len(ngram3.spec) + 4 * enc.n_chunks


def test_chunks_are_scored_as_independent_texts(ngram3):
    # several streams per step: each stream's distributions are its own chunk's, as NGramLM
    # scores that chunk alone (the batched path must not mix the streams' rows up)
    text = ("it was the age of wisdom, it was the season of light, it was the best " * 5)[:333]
    lengths = split_lengths(len(text), 37)
    starts = np.cumsum([0, *lengths[:-1]])
    expected = sum(float(ngram3.lm.nll(text[a:a + m]).sum())
                   for a, m in zip(starts, lengths, strict=True)) / math.log(2)
    enc = encode(text, ngram3, chunk_size=37)
    assert enc.n_chunks == 9 and enc.model_bits == pytest.approx(expected, rel=1e-9)


# ------------------------------------------------------------------ damaged and mismatched data
@pytest.fixture(scope="module")
def packed(ngram3):
    text = "it was the worst of times, it was the epoch of incredulity 😀\x00."
    return text, compress(text, ngram3, chunk_size=20)


def test_every_truncation_is_detected(ngram3, packed):
    text, data = packed
    for n in range(len(data)):
        with pytest.raises(ContainerError, match="truncated|not an llmmath"):
            decompress(data[:n], ngram3)


def test_every_flipped_byte_is_detected(ngram3, packed):
    text, data = packed
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x10
        with pytest.raises((ContainerError, ModelMismatchError)):
            decompress(bytes(bad), ngram3)
    with pytest.raises(ContainerError, match="unexpected bytes"):
        decompress(data + b"\0", ngram3)


def test_damaged_payload_with_recomputed_crc_never_returns_wrong_text(ngram3, packed):
    text, data = packed
    header, chunks = container.unpack(data)
    rng = np.random.default_rng(0)
    for _ in range(30):
        k = int(rng.integers(len(chunks)))
        damaged = bytearray(chunks[k])
        if not damaged:
            continue
        damaged[int(rng.integers(len(damaged)))] ^= 1 << int(rng.integers(8))
        forged = container.pack(header, chunks[:k] + [bytes(damaged)] + chunks[k + 1:])
        try:
            out = decompress(forged, ngram3)
        except (CorruptDataError, InvalidValueError):
            continue
        assert out == text          # a flip the coder can absorb must still give the text


def test_wrong_model_is_refused(ngram3, packed):
    text, data = packed
    other = NGramModel.fit(TRAIN + "x", order=3)
    with pytest.raises(ModelMismatchError, match="compressed with the model 'ngram:3'"):
        decompress(data, other)
    with pytest.raises(ModelMismatchError):
        decompress(data, UniformModel("abc"))


def test_wrong_model_sha_in_the_header_is_refused(ngram3, packed):
    text, data = packed
    header, chunks = container.unpack(data)
    forged = container.pack(container.Header(**{**header.__dict__, "model_sha256": "ab" * 32}),
                            chunks)
    with pytest.raises(ModelMismatchError):
        decompress(forged, ngram3)


def test_container_layout_by_hand(packed):
    text, data = packed
    assert data[:8] == b"\x89LMZ\r\n\x1a\n" and data[8] == 1
    (n_chars,) = struct.unpack_from("<Q", data, 12)
    assert n_chars == len(text)
    assert struct.unpack_from("<I", data, len(data) - 4)[0] == zlib.crc32(
        b"".join(container.unpack(data)[1]))


def test_version_and_garbage_are_named():
    with pytest.raises(ContainerError, match="not an llmmath"):
        decompress(b"PK\x03\x04 not ours")
    with pytest.raises(InvalidTypeError):
        decompress("text")
    with pytest.raises(InvalidTypeError):
        compress(b"bytes", UniformModel("a"))
    with pytest.raises(InvalidValueError, match="coder"):
        compress("a", UniformModel("a"), coder="huffman")
