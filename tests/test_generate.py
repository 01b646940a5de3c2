"""The key/value cache: the cached path against the full recompute, step by step, and against PyTorch.

The reference for every logit is the model's own readable forward pass over
the whole (cropped) context, ``model(context)[:, -1]``: a different
computation (every position, every layer, again) that must give the same
numbers. Greedy generation is also checked against nanoGPT's generate loop
in PyTorch (no cache), which knows nothing of ours.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.generate import CachedDecoder, KVCache, generate
from llmmath.nn import GPT, GPTConfig, Llama, LlamaConfig
from torch_gpt import TorchGPT

SIZES = dict(block_size=16, vocab_size=11, n_layer=3, n_head=2, n_embd=16)
STEPS = 40                                  # from a 3-token prompt: well past block_size


def make(kind: str, dtype, seed: int = 0, jitter: float = 0.0):
    """A GPT or a Llama in eval mode; ``jitter`` adds N(0, jitter²) to every weight.

    At the initial scale (weights N(0, 0.02²)) logits are about 0.1; with
    jitter 0.3 they are a few units, as in a trained model, and every layer
    matters.
    """
    model = (GPT(GPTConfig(**SIZES), dtype=dtype, rng=seed) if kind == "gpt"
             else Llama(LlamaConfig(**SIZES), dtype=dtype, rng=seed))
    gen = np.random.default_rng(seed + 100)
    for p in model.parameters():
        p.data += gen.normal(0.0, jitter, p.shape).astype(dtype)
    return model.eval()


def worst_step_error(model, tokens: np.ndarray, prompt: int = 3) -> tuple[float, int]:
    """Feed ``tokens`` one at a time after a prompt; the largest |cached - full| over all steps."""
    block = model.config.block_size
    dec = CachedDecoder(model, batch=tokens.shape[0])
    logits = dec.feed(tokens[:, :prompt])
    worst = 0.0
    for t in range(prompt, tokens.shape[1]):
        full, _ = model(tokens[:, max(0, t - block):t])          # the readable forward pass
        worst = max(worst, float(np.abs(logits - full.data[:, -1]).max()))
        logits = dec.feed(tokens[:, t:t + 1])
    return worst, dec.prefills


@pytest.mark.lesson_sampling
@pytest.mark.parametrize("kind", ["gpt", "llama"])
def test_cached_logits_equal_the_full_forward_in_float32_at_every_step(kind):
    model = make(kind, np.float32)
    tokens = np.random.default_rng(1).integers(0, SIZES["vocab_size"], (2, 3 + STEPS))
    worst, prefills = worst_step_error(model, tokens)
    assert worst <= 1e-6, f"{kind}: cached logits differ from the full forward by {worst:.2e}"
    # 3 + 40 tokens, block 16: the first prefill, then one per token past the 16th
    assert prefills == 1 + (3 + STEPS) - SIZES["block_size"]


@pytest.mark.lesson_sampling
@pytest.mark.parametrize("kind", ["gpt", "llama"])
def test_cached_logits_equal_the_full_forward_in_float64_with_large_weights(kind):
    model = make(kind, np.float64, seed=2, jitter=0.3)
    tokens = np.random.default_rng(3).integers(0, SIZES["vocab_size"], (2, 3 + STEPS))
    worst, _ = worst_step_error(model, tokens)
    assert worst <= 1e-12, f"{kind}: cached logits differ from the full forward by {worst:.2e}"


@pytest.mark.parametrize("kind", ["gpt", "llama"])
def test_feeding_several_tokens_after_a_cached_context_shifts_the_causal_mask(kind):
    # new query i sits at position L + i and sees keys 0 .. L + i (a mask shifted right by L)
    model = make(kind, np.float64, seed=4, jitter=0.3)
    tokens = np.random.default_rng(5).integers(0, SIZES["vocab_size"], (1, 14))
    dec = CachedDecoder(model)
    dec.feed(tokens[:, :5])
    logits = dec.feed(tokens[:, 5:9])                             # 4 at once after 5
    full, _ = model(tokens[:, :9])
    np.testing.assert_allclose(logits, full.data[:, -1], rtol=0, atol=1e-12)
    logits = dec.feed(tokens[:, 9:14])
    full, _ = model(tokens[:, :14])
    np.testing.assert_allclose(logits, full.data[:, -1], rtol=0, atol=1e-12)
    assert dec.prefills == 1 and dec.cache.length == 14


@pytest.mark.lesson_sampling
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["gpt", "llama"])
def test_sampling_with_a_fixed_rng_gives_the_same_tokens_with_or_without_the_cache(kind, dtype):
    model = make(kind, dtype, seed=6, jitter=0.1).train()
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    kwargs = dict(temperature=0.9, top_k=8, rng=7)
    cached = generate(model, prompt, STEPS, **kwargs)
    assert model.training                                         # the mode is restored
    model.eval()
    seq = prompt                                                  # the loop without a cache
    gen = np.random.default_rng(7)
    from llmmath.prob import sample
    for _ in range(STEPS):
        logits, _ = model(seq[:, -SIZES["block_size"]:])
        nxt = sample(logits.data[:, -1], temperature=0.9, top_k=8, rng=gen)
        seq = np.concatenate([seq, np.asarray(nxt).reshape(-1, 1)], axis=1)
    np.testing.assert_array_equal(cached, seq)
    # the model's own generate: the cache by default, nanoGPT's loop with use_cache=False
    np.testing.assert_array_equal(model.generate(prompt, STEPS, **kwargs), seq)
    np.testing.assert_array_equal(model.generate(prompt, STEPS, use_cache=False, **kwargs), seq)


def test_greedy_generation_with_the_cache_matches_nanogpt_in_torch():
    model = make("gpt", np.float64, seed=8, jitter=0.1)
    theirs = TorchGPT(model.config).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    theirs.eval()
    prompt = np.array([[1, 5, 2]])
    ours = generate(model, prompt, 30, temperature=0.0)         # 33 tokens > block_size 16
    idx = torch.from_numpy(prompt)
    with torch.no_grad():
        for _ in range(30):                                       # nanoGPT's generate, greedy
            logits, _ = theirs(idx[:, -model.config.block_size:])
            idx = torch.cat([idx, logits[:, -1, :].argmax(-1, keepdim=True)], dim=1)
    np.testing.assert_array_equal(ours, idx.numpy())


def test_one_dimensional_prompts_and_zero_new_tokens():
    model = make("gpt", np.float32)
    out = generate(model, [3, 4], 5, temperature=0.0)
    assert out.shape == (7,) and out.dtype == np.int64 and out[:2].tolist() == [3, 4]
    assert generate(model, [[3, 4]], 0).tolist() == [[3, 4]]
    # a prompt longer than block_size is cropped before the first token, as without a cache
    long = np.arange(40) % SIZES["vocab_size"]
    np.testing.assert_array_equal(generate(model, long, 3, temperature=0.0)[:40], long)
    full, _ = model(long[None, -SIZES["block_size"]:])
    assert generate(model, long, 1, temperature=0.0)[-1] == int(full.data[0, -1].argmax())


def test_the_cache_grows_up_to_block_size_and_a_reset_forgets():
    model = make("gpt", np.float64, seed=9, jitter=0.3)
    tokens = np.random.default_rng(10).integers(0, SIZES["vocab_size"], (1, 12))
    dec = CachedDecoder(model, capacity=2)
    for t in range(12):
        logits = dec.feed(tokens[:, t:t + 1])
    assert dec.cache.capacity == SIZES["block_size"] and dec.prefills == 1
    full, _ = model(tokens)
    np.testing.assert_allclose(logits, full.data[:, -1], rtol=0, atol=1e-12)
    dec.reset()
    assert dec.context.shape == (1, 0)
    np.testing.assert_allclose(dec.feed(tokens[:, :4]), model(tokens[:, :4])[0].data[:, -1],
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", ["gpt", "llama"])
def test_a_smaller_keep_crops_less_often_and_equals_the_forward_on_what_it_keeps(kind):
    model = make(kind, np.float64, seed=11, jitter=0.3)
    B, keep = SIZES["block_size"], 6
    tokens = np.random.default_rng(12).integers(0, SIZES["vocab_size"], (2, 60))
    dec = CachedDecoder(model, batch=2, keep=keep)
    context = tokens[:, :0]
    for t in range(60):
        logits = dec.feed(tokens[:, t:t + 1])
        context = np.concatenate([context, tokens[:, t:t + 1]], axis=1)
        if context.shape[1] > B:                                  # the rule, written out
            context = context[:, -keep:]
        full, _ = model(context)
        np.testing.assert_allclose(logits, full.data[:, -1], rtol=0, atol=1e-10)
        np.testing.assert_array_equal(dec.context, context)
    # one prefill at the start, then one per B - keep + 1 = 11 tokens past the first 16
    assert dec.prefills == 1 + len(range(B, 60, B - keep + 1))
    with pytest.raises(InvalidValueError, match="'keep'"):
        CachedDecoder(model, keep=B + 1)


def test_kv_cache_memory_and_overflow():
    cache = KVCache(n_layer=4, batch=1, n_head=4, head_size=32, capacity=64)
    assert cache.nbytes == 2 * 4 * 64 * 128 * 4                 # K and V, 4 layers, float32
    k = np.zeros((1, 4, 65, 32), np.float32)
    with pytest.raises(InvalidValueError, match="exceed the capacity 64"):
        cache.store(0, k, k)
    with pytest.raises(InvalidTypeError, match="'dtype'"):
        KVCache(1, 1, 1, 1, 1, dtype=np.int32)
    with pytest.raises(InvalidValueError, match="'capacity'"):
        KVCache(1, 1, 1, 1, 0)


def test_bad_input_is_refused_by_name():
    model = make("gpt", np.float32)
    with pytest.raises(InvalidTypeError, match="generate: argument 'model'"):
        generate(object(), [1], 2)
    with pytest.raises(InvalidTypeError, match="CachedDecoder: argument 'model'"):
        CachedDecoder(torch.nn.Linear(2, 2))
    with pytest.raises(ShapeError, match="generate: argument 'idx'"):
        generate(model, np.zeros((1, 0), int), 2)
    with pytest.raises(InvalidValueError, match="'idx'"):
        generate(model, [SIZES["vocab_size"]], 2)                 # a token outside the vocabulary
    with pytest.raises(InvalidValueError, match="'max_new_tokens'"):
        generate(model, [1], -1)
    dec = CachedDecoder(model, batch=2)
    with pytest.raises(ShapeError, match="CachedDecoder.feed: argument 'tokens'"):
        dec.feed([[1, 2]])                                        # batch 1, not 2
    with pytest.raises(InvalidValueError, match="'capacity'"):
        CachedDecoder(model, capacity=SIZES["block_size"] + 1)
    with pytest.raises(InvalidTypeError, match="generate: argument 'use_cache'"):
        model.generate([1], 2, use_cache="yes")
