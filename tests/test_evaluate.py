"""Tests for llmmath.evaluate and llmmath.inspect_attention."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.special import log_softmax

from llmmath.autograd import no_grad
from llmmath.data import load_corpus
from llmmath.errors import InvalidValueError
from llmmath.evaluate import compare_models, evaluate_model, ngram_nll, token_nll
from llmmath.inspect_attention import (
    attention_forward,
    head_statistics,
    inspect_prompt,
    plot_attention,
)
from llmmath.ngram import NGramLM
from llmmath.nn import GPT, GPTConfig
from llmmath.train import load_model, preset_config, train


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two short runs on the same text and tokenizer (B trained longer), and one with BPE."""
    root = tmp_path_factory.mktemp("eval")
    text = root / "play.txt"
    text.write_text(load_corpus().documents["macbeth"][:30_000], encoding="utf-8")
    base = dict(text=str(text), n_layer=1, n_head=2, n_embd=16, block_size=16, batch_size=8,
                warmup_iters=2, lr_decay_iters=60, eval_interval=1000, eval_iters=1)
    a = train(preset_config("tiny", **base, max_iters=3, out_dir=str(root / "a")), plot=False)
    b = train(preset_config("tiny", **base, max_iters=60, out_dir=str(root / "b")), plot=False)
    bpe = train(preset_config("tiny", **base, max_iters=2, tokenizer="bpe", vocab_size=300,
                              out_dir=str(root / "bpe")), plot=False)
    return {"a": a.checkpoint, "b": b.checkpoint, "bpe": bpe.checkpoint, "text": text}


def _model(T=6, V=7, seed=0, dtype=np.float64, bias=True):
    cfg = GPTConfig(block_size=T, vocab_size=V, n_layer=2, n_head=2, n_embd=8, bias=bias)
    return GPT(cfg, dtype=dtype, rng=seed)


def _brute_nll(model, ids, context):
    """-log p(ids[j] | previous context(j) tokens), one forward pass per target; SciPy's
    log_softmax on the logits."""
    out = []
    with no_grad():
        for j in range(1, len(ids)):
            ctx = ids[j - context(j):j]
            logits = model(ctx[None, :])[0].data[0, -1]          # last position only
            out.append(-log_softmax(logits.astype(np.float64))[ids[j]])
    return np.array(out)


@pytest.mark.parametrize("n", [2, 7, 13, 20])
def test_non_overlapping_blocks_match_brute_force(n):
    model, T = _model(), 6
    ids = np.random.default_rng(n).integers(0, 7, n)
    # target j sits in block (j - 1) // T and sees the tokens of that block up to it
    ref = _brute_nll(model, ids, lambda j: (j - 1) % T + 1)
    np.testing.assert_allclose(token_nll(model, ids), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(token_nll(model, ids, stride=T, batch_size=1), ref, rtol=1e-10)


@pytest.mark.parametrize("stride", [1, 2, 5])
def test_sliding_window_matches_brute_force(stride):
    model, T = _model(), 6
    ids = np.random.default_rng(stride).integers(0, 7, 23)
    got = token_nll(model, ids, stride=stride, batch_size=3)
    if stride == 1:                                    # every target sees min(j, T) tokens
        ref = _brute_nll(model, ids, lambda j: min(j, T))
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    # in general: at least T - stride tokens of context once past the first window
    ctx = []
    start, done = 0, 0
    while done < len(ids) - 1:
        length = min(T, len(ids) - 1 - start)
        ctx += [j - start for j in range(done + 1, start + length + 1)]
        done, start = start + length, start + stride
    ref = _brute_nll(model, ids, lambda j: ctx[j - 1])
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    assert min(ctx[T:]) >= T - stride


def test_token_nll_rejects_bad_input():
    model = _model()
    with pytest.raises(ValueError, match="at least 2"):
        token_nll(model, np.array([1]))
    with pytest.raises(ValueError, match="stride"):
        token_nll(model, np.arange(5), stride=7)
    with pytest.raises(ValueError, match="integer"):
        token_nll(model, np.linspace(0, 1, 5))


def test_ngram_baseline_scores_the_same_targets():
    train_ids = np.random.default_rng(0).integers(0, 5, 500)
    ids = np.random.default_rng(1).integers(0, 5, 40)
    got = ngram_nll(train_ids, ids, 3)
    lm = NGramLM(3).fit(train_ids.tolist())
    ref = [-math.log(lm.prob(ids[max(0, j - 2):j].tolist(), int(ids[j])))
           for j in range(1, len(ids))]
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_evaluation_table(runs):
    ev = evaluate_model(runs["b"], split="test", max_tokens=600)
    names = [r.name for r in ev.rows]
    assert names[0].startswith("uniform") and names[-1] == "GPT (step 60)"
    assert names[1:5] == ["unigram (Kneser-Ney)", "bigram (Kneser-Ney)", "trigram (Kneser-Ney)",
                          "5-gram (Kneser-Ney)"]
    m = load_model(runs["b"])
    V = m.tokenizer.vocab_size
    assert ev.rows[0].nats_per_token == pytest.approx(math.log(V), rel=1e-12)
    assert ev.n_tokens == 600 and ev.n_chars == 600
    for r in ev.rows:
        assert r.bits_per_token == pytest.approx(r.nats_per_token / math.log(2), rel=1e-12)
        assert r.perplexity == pytest.approx(math.exp(r.nats_per_token), rel=1e-12)
        assert r.bits_per_char == pytest.approx(r.bits_per_token, rel=1e-12)   # char tokens
    assert ev.rows[-1].nats_per_token < ev.rows[0].nats_per_token
    assert ev.rows[-1].nats_per_token == pytest.approx(float(ev.nll.mean()), rel=1e-12)
    # the GPT's own numbers come from token_nll on the same ids
    from llmmath.evaluate import evaluation_tokens

    _, ids = evaluation_tokens(m, "test", 600)
    np.testing.assert_array_equal(token_nll(m.model, ids), ev.nll)


def test_bpe_reports_bits_per_character(runs):
    ev = evaluate_model(runs["bpe"], max_tokens=200, baselines=(2,))
    m = load_model(runs["bpe"])
    from llmmath.evaluate import evaluation_tokens

    _, ids = evaluation_tokens(m, "test", 200)
    chars = len(m.tokenizer.decode(ids[1:]))
    assert ev.n_chars == chars > ev.n_tokens          # a BPE token spans several characters
    for r in ev.rows:
        total_bits = r.nats_per_token * ev.n_tokens / math.log(2)
        assert r.bits_per_char == pytest.approx(total_bits / chars, rel=1e-12)


@pytest.mark.lesson_evaluation
def test_compare_matches_scipy_on_chunk_means(runs):
    c = compare_models(runs["a"], runs["b"], chunk=64, n_resamples=2000, rng=3, max_tokens=1400)
    ma, mb = load_model(runs["a"]), load_model(runs["b"])
    from llmmath.evaluate import evaluation_tokens

    _, ids = evaluation_tokens(ma, "test", 1400)
    da, db = token_nll(ma.model, ids), token_nll(mb.model, ids)
    n = len(da) // 64
    ca, cb = da[: n * 64].reshape(n, 64).mean(1), db[: n * 64].reshape(n, 64).mean(1)
    assert (c.n_chunks, c.n_tokens) == (n, n * 64) == (21, 1344)
    assert c.difference == pytest.approx(float((cb - ca).mean()), rel=1e-12)
    assert c.loss_b < c.loss_a and "B is better" in c.verdict       # 60 steps beat 3
    t = sps.ttest_rel(cb, ca)
    assert c.ttest.statistic == pytest.approx(t.statistic, rel=1e-9)
    assert c.ttest.pvalue == pytest.approx(t.pvalue, rel=1e-6, abs=1e-300)
    ref = sps.bootstrap((cb - ca,), np.mean, n_resamples=2000, method="BCa",
                        random_state=np.random.default_rng(0), confidence_level=0.95)
    # an independent resampling: the intervals agree to within bootstrap noise
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert abs(c.ci.low - ref.confidence_interval.low) < 0.25 * width
    assert abs(c.ci.high - ref.confidence_interval.high) < 0.25 * width
    assert c.ci.high < 0


@pytest.mark.lesson_evaluation
def test_compare_same_model_and_errors(runs):
    same = compare_models(runs["a"], runs["a"], chunk=100, max_tokens=400, n_resamples=200)
    assert same.difference == 0.0 and same.ttest is None and "No clear" in same.verdict
    with pytest.raises(ValueError, match="different fingerprints"):
        compare_models(runs["a"], runs["bpe"], chunk=10, max_tokens=100)
    with pytest.raises(ValueError, match="at least 2 are needed"):
        compare_models(runs["a"], runs["b"], chunk=400, max_tokens=500)


# ---------------------------------------------------------------------------- attention
def _numpy_gpt(model, idx):
    """The GPT's forward pass written out in NumPy float64 from its parameters, every head's
    weights kept: an independent reference for attention_forward and inspect_prompt."""
    cfg = model.config
    B, T = idx.shape
    C, nh = cfg.n_embd, cfg.n_head

    def f64(p):
        return None if p is None else p.data.astype(np.float64)

    def layer_norm(x, ln):
        mu = x.mean(-1, keepdims=True)
        y = (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + ln.eps) * f64(ln.weight)
        return y if ln.bias is None else y + f64(ln.bias)

    def linear(x, layer):
        y = x @ f64(layer.weight).T
        return y if layer.bias is None else y + f64(layer.bias)

    def gelu_tanh(x):
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))

    tr = model.transformer
    x = f64(tr.wte.weight)[idx] + f64(tr.wpe.weight)[:T]                  # (B, T, C)
    maps = []
    for block in tr.h:
        qkv = linear(layer_norm(x, block.ln_1), block.attn.c_attn)         # (B, T, 3C)
        q, k, v = (qkv[..., i * C:(i + 1) * C].reshape(B, T, nh, C // nh).transpose(0, 2, 1, 3)
                   for i in range(3))                                      # (B, nh, T, hs)
        s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(C // nh)
        s = np.where(np.tril(np.ones((T, T), bool)), s, -np.inf)
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        maps.append(w)
        y = (w @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
        x = x + linear(y, block.attn.c_proj)
        x = x + linear(gelu_tanh(linear(layer_norm(x, block.ln_2), block.mlp.c_fc)),
                       block.mlp.c_proj)
    logits = layer_norm(x, tr.ln_f) @ f64(model.lm_head.weight).T          # (B, T, V)
    return logits, np.stack(maps, axis=1)                                  # (B, L, nh, T, T)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fused", [True, False])
def test_attention_forward_matches_a_numpy_gpt(dtype, fused):
    cfg = GPTConfig(block_size=8, vocab_size=11, n_layer=2, n_head=2, n_embd=8,
                    fused_attention=fused)
    model = GPT(cfg, dtype=dtype, rng=4)
    model.train()
    idx = np.random.default_rng(0).integers(0, 11, (3, 8))
    logits, w = attention_forward(model, idx)
    assert model.training                               # the mode is restored
    ref_logits, ref_w = _numpy_gpt(model, idx)
    tol = 1e-10 if dtype == np.float64 else 2e-5
    assert logits.dtype == w.dtype == dtype
    np.testing.assert_allclose(logits, ref_logits, rtol=tol, atol=tol)
    np.testing.assert_allclose(w, ref_w, rtol=tol, atol=tol)
    assert w.shape == (3, 2, 2, 8, 8)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=tol)
    assert not np.triu(w, 1).any()                     # causal: nothing above the diagonal


def test_first_layer_weights_match_multi_head_attention():
    """Without biases, layer 0's weights are those of llmmath.attention.multi_head_attention
    applied to LayerNorm(x) with the projection matrices cut from c_attn."""
    from llmmath.attention import multi_head_attention

    model = _model(T=8, V=11, seed=2, bias=False)
    idx = np.random.default_rng(1).integers(0, 11, (1, 8))
    _, w = attention_forward(model, idx)
    tr = model.transformer
    x = tr.wte.weight.data[idx[0]] + tr.wpe.weight.data[:8]
    h = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)
    W = tr.h[0].attn.c_attn.weight.data                 # (3C, C), torch layout
    C = 8
    _, ref = multi_head_attention(h, W[:C].T, W[C:2 * C].T, W[2 * C:].T, np.eye(C), n_heads=2)
    np.testing.assert_allclose(w[0, 0], ref, rtol=1e-10, atol=1e-12)


@pytest.mark.lesson_attention_spectrum
def test_head_statistics_against_eigenvalues():
    rng = np.random.default_rng(5)
    T = 6
    scores = rng.standard_normal((2, 3, T, T)) * 2
    scores[..., np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] = -np.inf
    A = np.exp(scores - scores.max(-1, keepdims=True))
    A /= A.sum(-1, keepdims=True)
    for s in head_statistics(A):
        M = A[s.layer, s.head]
        mods = np.sort(np.abs(np.linalg.eigvals(M)))[::-1]
        assert s.lambda2 == pytest.approx(mods[1], abs=1e-9)
        assert s.spectral_gap == pytest.approx(1 - mods[1], abs=1e-9)
        np.testing.assert_allclose(s.stationary, np.eye(T)[0], atol=1e-12)   # pi = e_0
        assert np.allclose(s.stationary @ M, s.stationary, rtol=0, atol=1e-12)
        np.testing.assert_allclose(s.received, M.mean(0), rtol=1e-14, atol=1e-16)
        ent = -np.sum(np.where(M > 0, M * np.log(np.where(M > 0, M, 1)), 0), axis=1).mean()
        assert s.mean_entropy == pytest.approx(ent, rel=1e-12)
    with pytest.raises(ValueError, match="n_layer, n_head"):
        head_statistics(A[0])


@pytest.mark.lesson_attention_spectrum
def test_inspect_prompt_and_heatmaps(runs, tmp_path):
    ins = inspect_prompt(runs["b"], "Thou art a villain, sir. " * 3)
    assert len(ins.tokens) == 16 and ins.weights.shape == (1, 2, 16, 16)   # cut to block_size
    assert 0 < ins.max_logit_error < 1e-4 and len(ins.heads) == 2          # float32 rounding
    m = load_model(runs["b"])                  # the weights: float64 from the float32 model
    assert m.model.lm_head.weight.dtype == np.float32
    ref_logits, ref_w = _numpy_gpt(m.model, ins.ids[None, :])
    assert ins.weights.dtype == np.float64
    np.testing.assert_allclose(ins.weights, ref_w[0], rtol=1e-10, atol=1e-12)
    with no_grad():
        own = m.model(ins.ids[None, :], ins.ids[None, :])[0].data
    assert ins.max_logit_error == pytest.approx(np.max(np.abs(ref_logits - own)), rel=1e-3)
    png = plot_attention(ins, tmp_path / "att.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="prompt"):
        inspect_prompt(runs["b"], "")


def test_ngram_nll_refuses_what_token_nll_refuses() -> None:
    with pytest.raises(InvalidValueError, match="ngram_nll: argument 'ids'"):
        ngram_nll([0, 1, 0], [0.0, 1.0], order=2)
    with pytest.raises(InvalidValueError, match="ngram_nll: argument 'ids'"):
        ngram_nll([0, 1, 0], [1], order=2)
    with pytest.raises(InvalidValueError, match="ngram_nll: argument 'train_ids'"):
        ngram_nll([], [0, 1], order=2)


@pytest.mark.lesson_evaluation
def test_compare_runs_is_welch_over_the_runs_mean_losses(runs):
    from llmmath.evaluate import compare_runs, evaluation_tokens

    group_a, group_b = [runs["a"], runs["b"]], [runs["b"], runs["a"], runs["b"]]
    r = compare_runs(group_a, group_b, max_tokens=300)
    _, ids = evaluation_tokens(load_model(runs["a"]), "test", 300)
    # each run's loss from the brute-force-checked token_nll, then SciPy's Welch on them
    loss = {k: float(token_nll(load_model(runs[k]).model, ids).mean()) for k in ("a", "b")}
    la, lb = np.array([loss["a"], loss["b"]]), np.array([loss["b"], loss["a"], loss["b"]])
    np.testing.assert_allclose(r.losses_a, la, rtol=1e-12)
    np.testing.assert_allclose(r.losses_b, lb, rtol=1e-12)
    assert (r.n_a, r.n_b, r.n_tokens) == (2, 3, 300)
    ref = sps.ttest_ind(lb, la, equal_var=False)
    assert r.ttest.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert r.ttest.pvalue == pytest.approx(ref.pvalue, rel=1e-6)
    ci = ref.confidence_interval(0.95)
    assert (r.ci.low, r.ci.high) == (pytest.approx(ci.low, rel=1e-9), pytest.approx(ci.high,
                                                                                 rel=1e-9))
    assert r.warning is not None and "only 2 runs" in r.warning
    with pytest.raises(InvalidValueError, match="group B has 1 run"):
        compare_runs(group_a, [runs["b"]], max_tokens=100)
    with pytest.raises(InvalidValueError, match="different fingerprints"):
        compare_runs(group_a, [runs["b"], runs["bpe"]], max_tokens=100)
