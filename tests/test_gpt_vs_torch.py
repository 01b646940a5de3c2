"""A 2-layer GPT in llmmath and in PyTorch with identical weights: losses, gradients, training.

The PyTorch model is nanoGPT's ``model.py`` rewritten in ``tests/torch_gpt.py``
(with GELU's tanh approximation, as GPT-2 and llmmath use).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llmmath.nn import GPT, GPTConfig
from llmmath.optim import AdamW, clip_grad_norm
from torch_gpt import TorchGPT

pytestmark = [pytest.mark.torch, pytest.mark.lesson_backprop]


def pair(cfg: GPTConfig, seed: int = 0, dtype=np.float64):
    ours = GPT(cfg, dtype=dtype, rng=seed)
    theirs = TorchGPT(cfg).to(torch.float64 if dtype == np.float64 else torch.float32)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def batch(cfg: GPTConfig, b: int, seed: int, ignore: bool = False):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, cfg.vocab_size, (b, cfg.block_size))
    y = rng.integers(0, cfg.vocab_size, (b, cfg.block_size))
    if ignore:
        y[0, :3] = -1
    return x, y


CONFIGS = {
    "bias": GPTConfig(block_size=12, vocab_size=29, n_layer=2, n_head=4, n_embd=16, bias=True),
    "no_bias": GPTConfig(block_size=9, vocab_size=17, n_layer=2, n_head=2, n_embd=12, bias=False),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_loss_and_every_gradient_agree_in_float64(name):
    cfg = CONFIGS[name]
    ours, theirs = pair(cfg, seed=1)
    x, y = batch(cfg, 3, seed=2, ignore=True)
    logits, loss = ours(x, y)
    loss.backward()
    tlogits, tloss = theirs(torch.from_numpy(x), torch.from_numpy(y))
    tloss.backward()
    assert abs(loss.item() - tloss.item()) <= 1e-9 * abs(tloss.item())
    np.testing.assert_allclose(logits.data, tlogits.detach().numpy(), rtol=1e-9, atol=1e-12)
    tparams = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tparams)
    for n, p in ours.named_parameters():
        ref = tparams[n].grad.numpy()
        err = np.max(np.abs(p.grad - ref)) / np.max(np.abs(ref))
        assert err <= 1e-9, (n, err)


def test_eval_mode_with_dropout_configured_matches_torch():
    cfg = GPTConfig(block_size=8, vocab_size=11, n_layer=2, n_head=2, n_embd=8, dropout=0.3)
    ours, theirs = pair(cfg, seed=4)
    ours.eval()
    theirs.eval()
    x, y = batch(cfg, 2, seed=5)
    _, loss = ours(x, y)
    _, tloss = theirs(torch.from_numpy(x), torch.from_numpy(y))
    assert abs(loss.item() - tloss.item()) <= 1e-10
    ours.train()
    _, loss_a = ours(x, y)
    _, loss_b = ours(x, y)
    assert loss_a.item() != loss_b.item()          # dropout is on in training mode


def test_twenty_adamw_steps_give_the_same_losses():
    cfg = CONFIGS["bias"]
    ours, theirs = pair(cfg, seed=6)
    opt = AdamW(ours.param_groups(0.1), lr=3e-3, betas=(0.9, 0.95))
    decay = [p for p in theirs.parameters() if p.dim() >= 2]
    other = [p for p in theirs.parameters() if p.dim() < 2]
    topt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                              {"params": other, "weight_decay": 0.0}], lr=3e-3, betas=(0.9, 0.95))
    losses, tlosses = [], []
    for step in range(20):
        x, _ = batch(cfg, 4, seed=100 + step)
        y = (x * 3 + 1) % cfg.vocab_size              # a learnable rule
        _, loss = ours(x, y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm(ours.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        _, tloss = theirs(torch.from_numpy(x), torch.from_numpy(y))
        topt.zero_grad()
        tloss.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        topt.step()
        tlosses.append(tloss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-6)
    assert losses[-1] < losses[0] - 0.3             # it learned something


def test_float32_forward_and_backward_stay_close_to_torch_float32():
    cfg = CONFIGS["bias"]
    ours, theirs = pair(cfg, seed=7, dtype=np.float32)
    x, y = batch(cfg, 3, seed=8)
    _, loss = ours(x, y)
    loss.backward()
    _, tloss = theirs(torch.from_numpy(x), torch.from_numpy(y))
    tloss.backward()
    assert loss.dtype == np.float32
    assert abs(loss.item() - tloss.item()) <= 1e-5
    tparams = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad, tparams[n].grad.numpy(), rtol=1e-3, atol=1e-6)


def test_state_dict_round_trip_llmmath_torch_llmmath():
    cfg = CONFIGS["no_bias"]
    ours, theirs = pair(cfg, seed=9)
    with torch.no_grad():                           # change the weights on the torch side
        for p in theirs.parameters():
            p.mul_(1.5).add_(0.01)
    back = GPT(cfg, dtype=np.float64, rng=123)
    back.load_state_dict(theirs.state_dict())       # torch tensors in, NumPy arrays kept
    assert back.lm_head.weight is back.transformer.wte.weight
    tsd = theirs.state_dict()
    for name, value in back.state_dict().items():
        np.testing.assert_array_equal(value, tsd[name].numpy())
    x, _ = batch(cfg, 2, seed=10)
    logits, _ = back(x)
    tlogits, _ = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(logits.data, tlogits.detach().numpy(), rtol=1e-10)


@pytest.mark.lesson_sampling
def test_greedy_generation_matches_torch():
    cfg = CONFIGS["bias"]
    ours, theirs = pair(cfg, seed=11)
    prompt = np.array([[1, 5, 2]])
    seq = ours.generate(prompt, 15, temperature=0.0)
    idx = torch.from_numpy(prompt)
    with torch.no_grad():
        for _ in range(15):
            logits, _ = theirs(idx[:, -cfg.block_size:])
            idx = torch.cat([idx, logits[:, -1, :].argmax(-1, keepdim=True)], dim=1)
    np.testing.assert_array_equal(seq, idx.numpy())
