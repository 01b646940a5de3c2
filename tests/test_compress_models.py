"""llmmath.compress models: adaptive counts, geometric mixing, GPT, specs and the n-gram cache.

Each model is checked against an independent computation (counts recounted
from scratch, the mixture's formula and a finite-difference gradient, the GPT's
own forward pass on the whole context) and round-trips exactly through both coders.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmmath.compress import (
    GeometricMixture,
    ModelMismatchError,
    NGramModel,
    OnlineNGram,
    UniformModel,
    adaptive_ngram,
    compress,
    decompress,
    encode,
    load_model,
    specs,
)
from llmmath.compress.gpt import GPTModel
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.ngram import NGramLM
from llmmath.nn import GPT, GPTConfig
from llmmath.tokenizers import CharTokenizer

TRAIN = ("Now is the winter of our discontent made glorious summer by this sun of York;\n"
         "and all the clouds that lour'd upon our house in the deep bosom of the ocean buried.\n")
ROUNDTRIP = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(list(TRAIN[:50]) + ["\x00", "😀", "Ж"]), max_size=40),
    st.tuples(st.sampled_from(["e", "\x00", "😀"]), st.integers(1, 60)).map(lambda t: t[0] * t[1]),
)


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LLMMATH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def ngram():
    return NGramModel.fit(TRAIN, order=3)


@pytest.fixture(scope="module")
def gpt():
    tok = CharTokenizer.fit(TRAIN)
    net = GPT(GPTConfig(block_size=8, vocab_size=tok.vocab_size + 3, n_layer=1, n_head=2,
                        n_embd=16), rng=0)
    return GPTModel(net, tok, identity={"kind": "gpt", "test": "seed 0"}, spec="tiny-gpt")


def _roundtrips(model, text, coder="range", chunk_size=13):
    data = compress(text, model, coder=coder, chunk_size=chunk_size)
    return decompress(data, model) == text


# ------------------------------------------------------------------ online counts
def _online_reference(alphabet: str, order: int, prefix: str) -> np.ndarray:
    """The online model's distribution after ``prefix``, recounted from scratch."""
    V = len(alphabet) + 1
    sym = [alphabet.index(c) if c in alphabet else V - 1 for c in prefix]
    p = np.full(V, 1.0 / V)
    for k in range(order):
        if k > len(prefix):
            break
        ctx = tuple(sym[len(sym) - k:]) if k else ()
        grams = Counter((tuple(sym[i - k:i]), sym[i]) for i in range(k, len(sym)))
        follow = {w: c for (h, w), c in grams.items() if h == ctx}
        if not follow:
            break
        of = Counter(grams.values())
        n1, n2 = of[1], of[2]
        d = min(max(n1 / (n1 + 2 * n2) if n1 else 0.5, 0.3), 0.95)
        counts = np.zeros(V)
        for w, c in follow.items():
            counts[w] = c
        p = (np.maximum(counts - d, 0) + d * len(follow) * p) / counts.sum()
    return p


@settings(max_examples=25)
@given(st.text(alphabet=st.sampled_from("abc d\n@"), max_size=60), st.integers(1, 4))
def test_online_ngram_matches_counts_recomputed_from_scratch(text, order):
    m = OnlineNGram("abcd \n", order=order)
    s = m.start(1)
    for t, c in enumerate(text + "a"):
        p = m.probs(s)[0]
        np.testing.assert_allclose(p, _online_reference("abcd \n", order, text[:t]),
                                   rtol=1e-12, atol=1e-15)
        assert abs(p.sum() - 1) < 1e-12
        m.update(s, [c])


def test_adaptive_model_learns_a_text_unlike_its_training(ngram):
    text = "the quick brown fox jumps over the lazy dog. " * 12
    static, adaptive = encode(text, ngram).model_bits, encode(text, adaptive_ngram(ngram)).model_bits
    assert adaptive < 0.6 * static
    assert adaptive_ngram(ngram).sha256 != ngram.sha256


@given(st.text(alphabet=st.sampled_from("abc \n😀"), max_size=80), st.integers(1, 4),
       st.integers(1, 20))
def test_frequent_contexts_are_the_most_common_substrings(text, k, m):
    from llmmath.compress.models import frequent_contexts

    counts = Counter(text[i:i + k] for i in range(len(text) - k + 1))
    expected = sorted(counts, key=lambda h: (-counts[h], [ord(c) for c in h]))[:m]
    assert frequent_contexts(text, k, m) == expected


def test_warm_rows_change_nothing_but_the_work(ngram):
    from llmmath.compress.models import frequent_contexts

    contexts = frequent_contexts(TRAIN, 2, 40)
    warm = NGramModel(ngram.lm, identity=ngram.identity, warm=(contexts,
                                                                 ngram.distributions(contexts)))
    text = TRAIN[10:200] + " ok 😀"
    assert encode(text, warm, chunk_size=50).model_bits == pytest.approx(
        encode(text, ngram, chunk_size=50).model_bits, rel=1e-12)
    assert _roundtrips(warm, text)
    with pytest.raises(InvalidValueError, match="warm"):
        NGramModel(ngram.lm, warm=(["abc"], np.zeros((1, ngram.n_symbols))))


def test_a_full_memo_starts_afresh(ngram, monkeypatch):
    from llmmath.compress import models
    from llmmath.compress.codec import split_lengths

    monkeypatch.setattr(models, "_MEMO_ROWS", 5)       # cleared every few steps
    assert _roundtrips(ngram, TRAIN * 2 + "@ 😀", chunk_size=40)
    text = TRAIN * 2
    lengths = split_lengths(len(text), 40)
    starts = np.cumsum([0, *lengths[:-1]])
    expected = sum(float(ngram.lm.nll(text[a:a + m]).sum())
                   for a, m in zip(starts, lengths, strict=True)) / math.log(2)
    assert encode(text, ngram, chunk_size=40).model_bits == pytest.approx(expected, rel=1e-9)


def test_streams_are_coded_batch_after_batch_as_the_file_says(ngram, gpt):
    from llmmath.compress import read_header

    text = (TRAIN * 2)[:300] + "😀"
    for model in (adaptive_ngram(ngram), gpt):
        data = compress(text, model, chunk_size=10)              # 31 chunks
        assert read_header(data).batch == model.max_batch
        assert decompress(data, model) == text
    small = NGramModel(ngram.lm, identity=ngram.identity)
    small.max_batch = 3                                          # 11 batches
    data = compress(text, small, chunk_size=10)
    assert read_header(data).batch == 3
    assert decompress(data, ngram) == text                       # the header's batch is used
    assert adaptive_ngram(ngram).max_batch == 8 and GeometricMixture([gpt, ngram]).max_batch == 64


class _BatchSensitive(UniformModel):
    """Probabilities that depend on how many streams share the batch (as a GPT's floats may)."""

    max_batch = 3

    def probs(self, state):
        p = np.ones((state, self.n_symbols))
        p[:, state % self.n_symbols] += 5.0
        return p / p.sum(axis=1, keepdims=True)


def test_decoding_uses_the_batches_of_the_encoder():
    from llmmath.compress import CorruptDataError, container
    from llmmath.compress.codec import decode_streams, split_lengths

    model = _BatchSensitive("abcdefg")
    text = "abcdefgabcdefgfedcbaggg" * 3
    data = compress(text, model, chunk_size=5)           # 14 chunks: batches 3, 3, 3, 3, 2
    assert decompress(data, model) == text
    other = _BatchSensitive("abcdefg")
    other.max_batch = 4
    assert decompress(data, other) == text               # the file's batch size wins
    header, chunks = container.unpack(data)
    lengths = split_lengths(len(text), 5)
    assert "".join(decode_streams(chunks, lengths, model, batch=3)) == text
    try:                                                 # batched otherwise: other numbers
        assert "".join(decode_streams(chunks, lengths, model, batch=4)) != text
    except CorruptDataError:
        pass


# ------------------------------------------------------------------ geometric mixing
def test_mixture_is_the_normalised_weighted_product(ngram):
    other = NGramModel.fit("a different text, with other letters: xyz!", order=2)
    mix = GeometricMixture([ngram, other], init=[0.7, 0.6])
    s = mix.start(2)
    p = mix.probs(s)
    p1, p2 = ngram.probs(ngram.start(2)), other.probs(other.start(2))
    # spread each over the union alphabet by hand
    union = mix.alphabet
    assert union == "".join(sorted(set(ngram.alphabet) | set(other.alphabet)))

    def to_union(model, q):
        esc_share = sum(c not in model.alphabet for c in union) + 1
        cols = [q[:, model.alphabet.index(c)] if c in model.alphabet else q[:, -1] / esc_share
                for c in union] + [q[:, -1] / esc_share]
        return np.stack(cols, axis=1)

    ref = to_union(ngram, p1) ** 0.7 * to_union(other, p2) ** 0.6
    np.testing.assert_allclose(p, ref / ref.sum(axis=1, keepdims=True), rtol=1e-10)


def test_mixture_weight_step_is_the_gradient_of_the_code_length(ngram):
    other = UniformModel("abc")
    online = OnlineNGram(ngram.alphabet, 2)
    mix = GeometricMixture([ngram, online, other], lr=0.01, init=[0.8, 0.3, 0.1])
    s = mix.start(1)
    for c in "Now is the wint":
        mix.probs(s)
        mix.update(s, [c])
    mix.probs(s)
    chosen = int(s["sel"][0])                           # the weight set this step uses
    b = s["weights"][0, chosen].copy()
    L = np.stack([lp[0] for lp in s["logp"]])           # (k, V): each model's log p
    x = mix.alphabet.index("e")

    def log_p(beta):
        z = beta @ L
        return z[x] - np.log(np.exp(z - z.max()).sum()) - z.max()

    eps = 1e-6
    grad = np.array([(log_p(b + eps * e) - log_p(b - eps * e)) / (2 * eps) for e in np.eye(3)])
    mix.update(s, ["e"])
    np.testing.assert_allclose(s["weights"][0, chosen] - b, 0.01 * grad, rtol=1e-5, atol=1e-12)


@settings(max_examples=20)
@given(ROUNDTRIP, st.sampled_from(["range", "arithmetic"]))
def test_mixtures_and_adaptive_models_roundtrip(ngram, text, coder):
    other = NGramModel.fit("Ж and 😀 and other signs: ~ ^ |", order=2)
    for model in (adaptive_ngram(ngram), GeometricMixture([ngram, other], init=[0.5, 0.5])):
        assert _roundtrips(model, text, coder)


# ------------------------------------------------------------------ GPT
def test_gpt_probabilities_are_the_forward_pass_on_the_cropped_context(gpt):
    """The cached steps give the full forward pass on the context the crop rule keeps: the
    characters so far, and once they exceed block_size (8), their last block_size // 2 (4),
    growing again to 8 before the next crop."""
    from llmmath.autograd import no_grad
    from llmmath.prob import softmax

    text = "winter of our discontent"
    B = gpt.model.config.block_size
    assert B == 8 and gpt.keep == 4 and "crop to the last 4 of 8" in gpt.identity["context"]
    s = gpt.start(1)
    context, lengths = "\n", []
    for c in text:
        p = gpt.probs(s)[0]
        ids = gpt.tokenizer.encode(context)[None, :]
        with no_grad():
            logits, _ = gpt.model(ids)
        ref = softmax(logits.data[0, -1, :gpt.tokenizer.vocab_size].astype(np.float64))
        np.testing.assert_allclose(p, ref, rtol=1e-5, atol=1e-7)
        lengths.append(len(context))
        gpt.update(s, [c])
        context += c
        if len(context) > B:
            context = context[-gpt.keep:]
    assert lengths[:12] == [1, 2, 3, 4, 5, 6, 7, 8, 4, 5, 6, 7]


@settings(max_examples=12)
@given(ROUNDTRIP, st.sampled_from(["range", "arithmetic"]))
def test_gpt_and_gpt_ngram_mixture_roundtrip(gpt, ngram, text, coder):
    assert _roundtrips(gpt, text, coder)
    assert _roundtrips(GeometricMixture([gpt, ngram], init=[0.5, 0.5]), text, coder)


def test_gpt_needs_a_character_tokenizer():
    from llmmath.tokenizers import ByteBPETokenizer

    tok = ByteBPETokenizer()
    net = GPT(GPTConfig(block_size=4, vocab_size=256, n_layer=1, n_head=1, n_embd=8), rng=0)
    with pytest.raises(InvalidValueError, match="character-level"):
        GPTModel(net, tok, identity={}, spec="x")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from typer.testing import CliRunner

    from llmmath.cli import app

    d = tmp_path_factory.mktemp("gpt")
    text = d / "text.txt"
    text.write_text(TRAIN * 20, encoding="utf-8")
    out = d / "out"
    res = CliRunner().invoke(app, ["train", "--text", str(text), "--out", str(out),
                                   "--max-iters", "2", "--n-layer", "1", "--n-head", "2",
                                   "--n-embd", "16", "--block-size", "8", "--batch-size", "2",
                                   "--eval-iters", "1", "--no-progress", "--no-plot"])
    assert res.exit_code == 0, res.output
    return out


def test_checkpoint_spec_roundtrip_and_identity(checkpoint, ngram):
    model = load_model(str(checkpoint))
    assert model.identity["kind"] == "gpt" and len(model.identity["checkpoint_sha256"]) == 64
    text = "Now is the winter 😀"
    data = compress(text, str(checkpoint))
    assert decompress(data) == text                       # the header names the checkpoint
    mix = load_model(f"mix:{checkpoint}+ngram:2")
    data = compress(text, mix)
    assert decompress(data) == text
    with pytest.raises(ModelMismatchError):
        decompress(data, str(checkpoint))


def test_gpt_file_decodes_in_another_process(checkpoint, tmp_path):
    import os
    import subprocess
    import sys

    text = "and all the clouds that lour'd upon our house " * 3
    packed, out = tmp_path / "g.lmz", tmp_path / "g.txt"
    packed.write_bytes(compress(text, str(checkpoint), chunk_size=40))     # 4 streams
    subprocess.run([sys.executable, "-m", "llmmath.cli", "decompress", str(packed), "-o",
                    str(out), "--no-progress"], check=True, capture_output=True,
                   env={**os.environ})
    assert out.read_text(encoding="utf-8") == text


# ------------------------------------------------------------------ specs and the cache
def test_specs_and_their_errors(checkpoint):
    assert load_model("uniform").identity["kind"] == "uniform"
    assert load_model("ngram:2").spec == "ngram:2"
    assert load_model("ngram:2:adaptive").spec == "ngram:2:adaptive"
    assert load_model(f"mix:{checkpoint}+ngram:2:adaptive").spec.endswith("+ngram:2:adaptive")
    for bad, match in [("ngram:0", "order"), ("ngram:99", "order"), ("ngram:x", "ngram:N"),
                       ("no/such/checkpoint", "no file"), ("mix:uniform", "mix:A\\+B")]:
        with pytest.raises(InvalidValueError, match=match):
            load_model(bad)
    with pytest.raises(InvalidTypeError):
        load_model(5)


def test_ngram_model_checks_its_lm():
    with pytest.raises(InvalidValueError, match="not fitted"):
        NGramModel(NGramLM(2))
    with pytest.raises(InvalidValueError, match="fitted on a str"):
        NGramModel(NGramLM(2).fit(["to", "be", "or"]))
    with pytest.raises(InvalidTypeError):
        NGramModel("ngram:2")


def test_ngram_cache_roundtrip_is_exact(tmp_path):
    lm = NGramLM(4).fit(TRAIN * 3)
    path = tmp_path / "c.npz"
    specs._save(path, lm, "key")
    back = specs._load(path, "key")
    assert back is not None and back.vocab == lm.vocab
    probe = TRAIN[::7] + "@"
    assert np.array_equal(back.next_token_distributions(probe), lm.next_token_distributions(probe))
    assert specs._load(path, "another key") is None           # stale: refit
    path.write_bytes(path.read_bytes()[:100])
    assert specs._load(path, "key") is None                   # damaged: refit


def test_corpus_ngram_is_written_to_the_cache_once(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMMATH_CACHE_DIR", str(tmp_path))
    lm, sha, key = specs.corpus_ngram.__wrapped__(2)
    files = list((tmp_path / "ngram").glob("*.npz"))
    assert len(files) == 1 and len(sha) == 64
    again, _, again_key = specs.corpus_ngram.__wrapped__(2)
    assert again_key == key
    assert np.array_equal(again.distribution("th"), lm.distribution("th"))
    assert math.isclose(float(lm.distribution("q")[lm.vocab.index("u")]), 1.0, rel_tol=0.1)
