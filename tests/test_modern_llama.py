"""The Llama-style model against PyTorch references with identical weights (float64).

``tests/torch_llama.py`` holds two references written from the published
model code: Meta's layout (complex-number RoPE, our names) and Hugging Face's
(``rotate_half`` RoPE, its names), the latter reached only through
``to_hf_llama``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llmmath import nn
from llmmath.autograd import Tensor
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.nn import (
    GPT,
    GPTConfig,
    Llama,
    LlamaConfig,
    TransformerBlock,
    build_model,
    from_hf_llama,
    hf_llama_key,
    hf_rope_permutation,
    model_config,
    to_hf_llama,
)
from llmmath.optim import AdamW
from torch_llama import HFLlama, MetaLlama, precompute_freqs_cis
from torch_llama import TransformerBlock as TorchBlock

pytestmark = [pytest.mark.torch, pytest.mark.lesson_rope]

CONFIGS = {
    "untied": LlamaConfig(block_size=12, vocab_size=29, n_layer=2, n_head=4, n_embd=16),
    "tied": LlamaConfig(block_size=9, vocab_size=17, n_layer=2, n_head=2, n_embd=12,
                        tie_embeddings=True, ffn_hidden=20, rope_theta=500.0, norm_eps=1e-6),
}


def spread(model: Llama, seed: int) -> Llama:
    """Weights far from their small initial values (std 0.02 makes attention nearly uniform and
    rotations nearly invisible): matrices N(0, 0.4^2), gains 1 + N(0, 0.1^2)."""
    gen = np.random.default_rng(seed)
    for _, p in model.named_parameters():
        p.data[...] = gen.normal(0.0, 0.4, p.shape) if p.ndim == 2 else \
            1.0 + gen.normal(0.0, 0.1, p.shape)
    return model


def pair(cfg: LlamaConfig, seed: int = 0):
    ours = spread(Llama(cfg, dtype=np.float64, rng=seed), seed)
    theirs = MetaLlama(cfg).to(torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def tokens(cfg, b: int, seed: int, ignore: bool = False):
    gen = np.random.default_rng(seed)
    x = gen.integers(0, cfg.vocab_size, (b, cfg.block_size))
    y = gen.integers(0, cfg.vocab_size, (b, cfg.block_size))
    if ignore:
        y[0, :3] = -1
    return x, y


def rel_err(a: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(a - ref)) / max(np.max(np.abs(ref)), 1e-300))


def test_state_dict_names_say_what_they_hold():
    names = list(Llama(CONFIGS["untied"], rng=0).state_dict())
    for want in ("tok_embeddings.weight", "layers.0.attention_norm.weight",
                 "layers.0.attention.wq.weight", "layers.0.attention.wk.weight",
                 "layers.0.attention.wv.weight", "layers.0.attention.wo.weight",
                 "layers.0.feed_forward.w1.weight", "layers.0.feed_forward.w2.weight",
                 "layers.0.feed_forward.w3.weight", "layers.1.ffn_norm.weight",
                 "norm.weight", "output.weight"):
        assert want in names
    assert not any("bias" in n for n in names)


def test_one_block_and_its_gradients_match_torch(rng):
    cfg = CONFIGS["untied"]
    ours = TransformerBlock(cfg, dtype=np.float64, rng=3)
    theirs = TorchBlock(cfg).to(torch.float64)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = rng.standard_normal((2, 7, cfg.n_embd))
    g = rng.standard_normal((2, 7, cfg.n_embd))
    pos = np.array([3, 0, 9, 1, 40, 2, 5])                  # any positions, not only 0..T-1
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt, precompute_freqs_cis(cfg.head_size, torch.from_numpy(pos), cfg.rope_theta))
    yt.backward(torch.from_numpy(g))
    xo = Tensor(x, requires_grad=True)
    y = ours(xo, pos)
    y.backward(g)
    assert rel_err(y.data, yt.detach().numpy()) <= 1e-12
    assert rel_err(xo.grad, xt.grad.numpy()) <= 1e-10
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert rel_err(p.grad, tparams[name].grad.numpy()) <= 1e-10, name


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_full_model_logits_loss_and_every_gradient_match_torch(name):
    cfg = CONFIGS[name]
    ours, theirs = pair(cfg, seed=1)
    x, y = tokens(cfg, 3, seed=2, ignore=True)
    logits, loss = ours(x, y)
    loss.backward()
    tlogits, tloss = theirs(torch.from_numpy(x), torch.from_numpy(y))
    tloss.backward()
    np.testing.assert_allclose(logits.data, tlogits.detach().numpy(), rtol=1e-9, atol=1e-9)
    assert abs(loss.item() - tloss.item()) <= 1e-10 * abs(tloss.item())
    tparams = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tparams)
    for n, p in ours.named_parameters():
        assert rel_err(p.grad, tparams[n].grad.numpy()) <= 1e-9, n


def test_token_positions_match_torch_and_only_offsets_matter():
    cfg = CONFIGS["untied"]
    ours, theirs = pair(cfg, seed=5)
    x, _ = tokens(cfg, 2, seed=6)
    pos = np.random.default_rng(7).permutation(50)[:cfg.block_size]
    mine = ours(x, x, token_positions=pos)[0].data
    ref = theirs(torch.from_numpy(x), positions=torch.from_numpy(pos))[0].detach().numpy()
    np.testing.assert_allclose(mine, ref, rtol=1e-9, atol=1e-9)
    shifted = ours(x, x, token_positions=pos + 1000)[0].data        # every position + 1000
    np.testing.assert_allclose(shifted, mine, rtol=1e-9, atol=1e-9)
    per_row = ours(x, x, token_positions=np.stack([pos, pos + 7]))[0].data   # (B, T) positions
    np.testing.assert_allclose(per_row, mine, rtol=1e-9, atol=1e-9)
    with pytest.raises(ShapeError, match="'token_positions' must have shape"):
        ours(x, token_positions=np.arange(3))


def test_hugging_face_names_and_permutation_reproduce_the_logits():
    cfg = CONFIGS["untied"]
    ours = spread(Llama(cfg, dtype=np.float64, rng=8), 8)
    hf = HFLlama(cfg).to(torch.float64)
    converted = to_hf_llama(ours.state_dict(), cfg)
    assert set(converted) == set(hf.state_dict())             # every name, no extra
    hf.load_state_dict({k: torch.from_numpy(v) for k, v in converted.items()})
    x, y = tokens(cfg, 2, seed=9)
    ref = hf(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(x, y)[0].data, ref, rtol=1e-9, atol=1e-9)
    # without the permutation the two conventions disagree: the test can fail
    plain = {hf_llama_key(k): torch.from_numpy(v) for k, v in ours.state_dict().items()}
    hf.load_state_dict(plain)
    assert np.max(np.abs(hf(torch.from_numpy(x)).detach().numpy() - ref)) > 1e-2
    back = from_hf_llama({k: torch.from_numpy(v) for k, v in converted.items()}, cfg)
    assert all(np.array_equal(back[k], v) for k, v in ours.state_dict().items())


def test_hf_rope_permutation_turns_interleaved_into_half_rotation(rng):
    # rotate pairs (2i, 2i+1) then permute == permute then rotate halves (i, i + hs/2)
    from llmmath.attention import rope
    nh, hs, T = 3, 8, 5
    x = rng.standard_normal((T, nh * hs))
    perm = hf_rope_permutation(nh, hs)
    ours = rope(x.reshape(T, nh, hs), np.arange(T)[:, None]).reshape(T, -1)[:, perm]
    inv = 1.0 / 10000.0 ** (np.arange(0, hs, 2) / hs)
    ang = np.arange(T)[:, None] * inv                                     # (T, hs/2)
    xp = x[:, perm].reshape(T, nh, hs)
    a, b = xp[..., : hs // 2], xp[..., hs // 2:]
    cos, sin = np.cos(ang)[:, None], np.sin(ang)[:, None]
    half = np.concatenate([a * cos - b * sin, b * cos + a * sin], -1).reshape(T, -1)
    np.testing.assert_allclose(ours, half, rtol=1e-13, atol=1e-13)
    assert sorted(perm.tolist()) == list(range(nh * hs))


def test_hf_llama_key_refusals():
    with pytest.raises(InvalidValueError, match="hf_llama_key: argument 'name' 'layers.0.attn"):
        hf_llama_key("layers.0.attn.c_attn.weight")
    with pytest.raises(InvalidTypeError, match="hf_llama_key: argument 'name' must be a str"):
        hf_llama_key(3)
    with pytest.raises(InvalidValueError, match="hf_rope_permutation: argument 'head_size'"):
        hf_rope_permutation(2, 5)


def test_greedy_generation_matches_the_reference_past_the_block():
    cfg = CONFIGS["tied"]
    ours, theirs = pair(cfg, seed=10)
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    out = ours.generate(prompt, 14, temperature=0.0)               # 17 tokens > block_size 9
    seq = torch.from_numpy(prompt)
    with torch.no_grad():
        for _ in range(14):
            logits, _ = theirs(seq[:, -cfg.block_size:])
            seq = torch.cat([seq, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert out.shape == (2, 17) and np.array_equal(out, seq.numpy())
    assert ours.training                                            # mode restored


def test_adamw_steps_match_torch():
    cfg = CONFIGS["untied"]
    ours, theirs = pair(cfg, seed=11)
    opt = AdamW(ours.param_groups(0.1), lr=3e-3, betas=(0.9, 0.95))
    decay = [p for p in theirs.parameters() if p.dim() >= 2]
    rest = [p for p in theirs.parameters() if p.dim() < 2]
    topt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                              {"params": rest, "weight_decay": 0.0}], lr=3e-3, betas=(0.9, 0.95))
    for step in range(6):
        x, y = tokens(cfg, 2, seed=100 + step)
        _, loss = ours(x, y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        _, tloss = theirs(torch.from_numpy(x), torch.from_numpy(y))
        tloss.backward()
        topt.step()
        topt.zero_grad()
        assert abs(loss.item() - tloss.item()) <= 1e-9, step


def test_weights_start_as_documented_and_groups_split_as_gpt():
    cfg = LlamaConfig(block_size=8, vocab_size=50, n_layer=4, n_head=4, n_embd=64)
    m = Llama(cfg, dtype=np.float64, rng=0)
    sd = m.state_dict()
    assert abs(sd["layers.0.attention.wq.weight"].std() - 0.02) < 0.002
    assert abs(sd["layers.0.feed_forward.w2.weight"].std() - 0.02 / np.sqrt(8)) < 0.001
    assert np.array_equal(sd["norm.weight"], np.ones(64))
    decay, no_decay = m.param_groups(0.1)
    assert all(p.ndim == 2 for p in decay["params"]) and all(p.ndim == 1 for p in
                                                             no_decay["params"])
    assert len(no_decay["params"]) == 2 * cfg.n_layer + 1          # the RMSNorm gains
    per_layer = 4 * 64 * 64 + 3 * 64 * cfg.hidden_size + 2 * 64
    assert m.num_params(False) == 2 * 50 * 64 + 4 * per_layer + 64
    assert m.num_params() == 50 * 64 + 4 * per_layer + 64
    tied = Llama(LlamaConfig(block_size=8, vocab_size=50, n_layer=4, n_head=4, n_embd=64,
                             tie_embeddings=True), rng=0)
    assert tied.output.weight is tied.tok_embeddings.weight
    assert tied.num_params(False) == tied.num_params() == 50 * 64 + 4 * per_layer + 64


def test_need_weights_and_config_checks():
    cfg = CONFIGS["untied"]
    m = Llama(cfg, rng=0)
    logits, loss, w = m(np.zeros((2, 5), int), need_weights=True)
    assert logits.shape == (2, 5, cfg.vocab_size) and loss is None
    assert w.shape == (2, cfg.n_layer, cfg.n_head, 5, 5)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-6)
    assert np.all(np.triu(w[0, 0, 0], 1) == 0)                    # causal: exact zeros
    with pytest.raises(InvalidValueError, match="head size n_embd / n_head = 3 must be even"):
        LlamaConfig(n_embd=12, n_head=4)
    with pytest.raises(InvalidTypeError, match="Llama: argument 'config' must be a LlamaConfig"):
        Llama(GPTConfig())
    with pytest.raises(ShapeError, match="Llama: 'idx' must have shape"):
        m(np.zeros((1, cfg.block_size + 1), int))
    assert LlamaConfig(n_embd=4096, n_head=32, multiple_of=256).hidden_size == 11008  # 7B


def test_architectures_by_name():
    sizes = dict(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8)
    assert isinstance(build_model(model_config("gpt2", **sizes), rng=0), GPT)
    assert isinstance(build_model(model_config("llama", **sizes), rng=0), Llama)
    with pytest.raises(InvalidValueError, match="model_config: 'llama' has no setting"):
        model_config("llama", bias=True)
    with pytest.raises(InvalidValueError, match="model_config: argument 'arch'"):
        model_config("mamba")


def test_every_name_of_the_old_module_is_still_importable():
    old = ["Module", "ModuleList", "ModuleDict", "Linear", "Embedding", "LayerNorm", "Dropout",
           "MLP", "CausalSelfAttention", "Block", "GPTConfig", "GPT"]
    assert all(hasattr(nn, name) and name in nn.__all__ for name in old)
    gpt = GPT(GPTConfig(block_size=4, vocab_size=5, n_layer=1, n_head=1, n_embd=4), rng=0)
    assert hasattr(gpt.transformer.h[0].attn, "c_attn")            # the GPT's layout is kept
