"""F.causal_self_attention (packed q, k, v in one node) against the unfused ops it replaces.

The comparison with PyTorch float64 and the argument errors are in test_functional.py;
here: the same numbers as split + heads + scaled_dot_product_attention + merge (dropout
included), causality, an overflowing score, and empty inputs; the module's readable path
(``CausalSelfAttention(fused=False)``) against its fused one; and the attention weights
both return on request, against NumPy by hand and torch.nn.MultiheadAttention.
"""

from __future__ import annotations

import numpy as np
import pytest

from llmmath.autograd import Tensor, no_grad
from llmmath.autograd import functional as F
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.nn import GPT, CausalSelfAttention, GPTConfig

pytestmark = [pytest.mark.lesson_attention]


@pytest.mark.parametrize("dropout_p", [0.0, 0.3])
def test_equals_the_unfused_ops_float32(dropout_p):
    """Same numbers as nanoGPT's split, reshape, transpose, attention and merge written with
    the engine's elementary ops, dropout included (the same generator draws the same mask)."""
    B, T, nh, hs = 2, 5, 2, 4
    C = nh * hs
    rng = np.random.default_rng(0)
    qkv = rng.standard_normal((B, T, 3 * C)).astype(np.float32)
    g = rng.standard_normal((B, T, C)).astype(np.float32)
    a = Tensor(qkv, requires_grad=True)
    y = F.causal_self_attention(a, nh, dropout_p=dropout_p, rng=7)
    y.backward(g)
    b = Tensor(qkv, requires_grad=True)
    q, k, v = (b[:, :, i * C:(i + 1) * C].reshape(B, T, nh, hs).transpose(1, 2) for i in range(3))
    y2 = F.scaled_dot_product_attention(q, k, v, causal=True, dropout_p=dropout_p, rng=7)
    y2 = y2.transpose(1, 2).reshape(B, T, C)
    y2.backward(g)
    assert y.dtype == a.grad.dtype == np.float32
    np.testing.assert_allclose(y.data, y2.data, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-5, atol=1e-6)


def test_a_position_sees_only_the_past():
    rng = np.random.default_rng(3)
    qkv = rng.standard_normal((2, 4, 6))
    changed = qkv.copy()
    changed[:, -1] += 1.0                       # change the last position only
    with no_grad():
        a = F.causal_self_attention(Tensor(qkv), 2).data
        b = F.causal_self_attention(Tensor(changed), 2).data
    np.testing.assert_array_equal(a[:, :-1], b[:, :-1])
    assert not np.allclose(a[:, -1], b[:, -1])


def test_an_overflowing_score_is_an_error_not_nan():
    with pytest.raises(InvalidValueError, match="overflows float64"):
        F.causal_self_attention(Tensor(np.full((1, 2, 6), 1e200)), 1)


def test_empty_batch_or_sequence():
    for shape in [(2, 0, 6), (0, 3, 6)]:
        x = Tensor(np.ones(shape), requires_grad=True)
        y = F.causal_self_attention(x, 2)
        y.sum().backward()
        assert y.shape == shape[:2] + (2,) and x.grad.shape == shape


# ------------------------------------------------------------ the readable path
def _run(module, x, g):
    """y, dL/dx and dL/d(parameter) for L = sum(g * module(x))."""
    xt = Tensor(x, requires_grad=True)
    y = module(xt)
    y.backward(g)
    return y.data, xt.grad, {n: p.grad for n, p in module.named_parameters()}


def _assert_same(a, b, tol):
    ya, gxa, gpa = a
    yb, gxb, gpb = b
    np.testing.assert_allclose(ya, yb, rtol=tol, atol=tol)
    np.testing.assert_allclose(gxa, gxb, rtol=tol, atol=tol)
    assert gpa.keys() == gpb.keys()
    for name in gpa:
        np.testing.assert_allclose(gpa[name], gpb[name], rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_readable_path_equals_the_fused_kernel(dtype, tol, dropout):
    """nanoGPT's lines (fused=False) and the fused node: the same values and gradients, with
    dropout off and on (both modules start from the same seed, so they draw the same masks)."""
    cfg = GPTConfig(block_size=8, vocab_size=5, n_layer=1, n_head=2, n_embd=8, dropout=dropout)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 8)).astype(dtype)
    g = rng.standard_normal((3, 7, 8)).astype(dtype)
    fused = CausalSelfAttention(cfg, dtype=dtype, rng=1)
    readable = CausalSelfAttention(cfg, fused=False, dtype=dtype, rng=1)
    assert fused.fused and not readable.fused
    for name, p in fused.named_parameters():                  # the same initial weights
        np.testing.assert_array_equal(p.data, dict(readable.named_parameters())[name].data)
    a, b = _run(fused, x, g), _run(readable, x, g)
    assert a[0].dtype == b[0].dtype == dtype
    _assert_same(a, b, tol)
    if dropout:                                               # the masks really were drawn
        fused.eval()
        assert not np.allclose(fused(x).data, a[0])


def test_a_gpt_on_the_readable_path_equals_the_fused_one():
    """GPTConfig.fused_attention picks the path for every block: same loss, same gradients."""
    base = dict(block_size=6, vocab_size=11, n_layer=2, n_head=2, n_embd=8)
    idx = np.random.default_rng(2).integers(0, 11, (2, 6))
    targets = np.random.default_rng(3).integers(0, 11, (2, 6))
    runs = []
    for fused in (True, False):
        model = GPT(GPTConfig(**base, fused_attention=fused), dtype=np.float64, rng=0)
        assert all(b.attn.fused == fused for b in model.transformer.h)
        logits, loss = model(idx, targets)
        loss.backward()
        runs.append((logits.data, loss.item(), {n: p.grad for n, p in model.named_parameters()}))
    (la, a, ga), (lb, b, gb) = runs
    np.testing.assert_allclose(la, lb, rtol=1e-12, atol=1e-12)
    assert a == pytest.approx(b, rel=1e-12)
    for name in ga:
        np.testing.assert_allclose(ga[name], gb[name], rtol=1e-10, atol=1e-12, err_msg=name)
    with pytest.raises(InvalidTypeError, match="fused_attention"):
        GPTConfig(**base, fused_attention="no")
    with pytest.raises(InvalidTypeError, match="CausalSelfAttention: argument 'fused'"):
        CausalSelfAttention(GPTConfig(**base), fused=0)


# ------------------------------------------------------------ attention weights
def _weights_by_hand(x, module):
    """softmax(q k^T / sqrt(hs) with -inf above the diagonal), NumPy float64, per head."""
    B, T, C = x.shape
    nh = module.n_head
    hs = C // nh
    qkv = x @ module.c_attn.weight.data.T + module.c_attn.bias.data
    q, k = (qkv[..., i * C:(i + 1) * C].reshape(B, T, nh, hs).transpose(0, 2, 1, 3)
            for i in range(2))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hs)
    s[..., np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] = -np.inf
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.torch
@pytest.mark.parametrize("fused", [True, False])
def test_weights_match_numpy_and_torch_multihead_attention(fused):
    """The module's output and per-head weights against torch.nn.MultiheadAttention carrying
    the same matrices (in_proj = c_attn, out_proj = c_proj) with a causal mask."""
    import torch

    cfg = GPTConfig(block_size=8, vocab_size=5, n_layer=1, n_head=2, n_embd=8)
    x = np.random.default_rng(4).standard_normal((2, 5, 8))
    m = CausalSelfAttention(cfg, fused=fused, dtype=np.float64, rng=3)
    init = np.random.default_rng(7)
    for p in m.parameters():                                  # nonzero biases, too
        p.data[...] = init.standard_normal(p.shape) * 0.5
    y, w = m(x, need_weights=True)
    assert isinstance(w, np.ndarray) and w.shape == (2, 2, 5, 5) and w.dtype == np.float64
    np.testing.assert_allclose(w, _weights_by_hand(x, m), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y.data, m(x).data, rtol=0, atol=0)  # same arithmetic either way

    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(m.c_attn.weight.data))
        mha.in_proj_bias.copy_(torch.from_numpy(m.c_attn.bias.data))
        mha.out_proj.weight.copy_(torch.from_numpy(m.c_proj.weight.data))
        mha.out_proj.bias.copy_(torch.from_numpy(m.c_proj.bias.data))
    tx = torch.from_numpy(x)
    hidden = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)   # torch: True = hide
    ty, tw = mha(tx, tx, tx, attn_mask=hidden, need_weights=True, average_attn_weights=False)
    np.testing.assert_allclose(w, tw.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-13)


def test_functional_weights_are_a_copy_before_dropout():
    """F.causal_self_attention and F.scaled_dot_product_attention hand back A itself (rows sum
    to 1, before dropout); y is unchanged by asking, and writing into A changes no gradient."""
    B, T, nh, hs = 2, 4, 2, 3
    C = nh * hs
    rng = np.random.default_rng(5)
    qkv = rng.standard_normal((B, T, 3 * C))
    g = rng.standard_normal((B, T, C))
    q, k, v = (Tensor(qkv[..., i * C:(i + 1) * C].reshape(B, T, nh, hs).transpose(0, 2, 1, 3))
               for i in range(3))
    _, ref = F.scaled_dot_product_attention(q, k, v, causal=True, need_weights=True)
    np.testing.assert_allclose(ref.sum(-1), 1.0, rtol=1e-14)
    for p in (0.0, 0.4):
        plain = Tensor(qkv, requires_grad=True)
        F.causal_self_attention(plain, nh, dropout_p=p, rng=9).backward(g)
        asked = Tensor(qkv, requires_grad=True)
        y, w = F.causal_self_attention(asked, nh, dropout_p=p, rng=9, need_weights=True)
        np.testing.assert_allclose(w, ref, rtol=1e-12, atol=1e-15)
        w[...] = 0.0                                          # the graph keeps its own copy
        y.backward(g)
        np.testing.assert_array_equal(asked.grad, plain.grad)   # same ops, same order: exact
        _, w2 = F.scaled_dot_product_attention(q, k, v, causal=True, dropout_p=p, rng=9,
                                               need_weights=True)
        np.testing.assert_allclose(w2, ref, rtol=0, atol=0)   # the same kernel: exact
    with pytest.raises(InvalidTypeError, match="causal_self_attention: argument 'need_weights'"):
        F.causal_self_attention(Tensor(qkv), nh, need_weights=1)
    with pytest.raises(InvalidTypeError,
                       match="scaled_dot_product_attention: argument 'need_weights'"):
        F.scaled_dot_product_attention(q, k, v, need_weights="yes")


def test_gpt_hands_back_every_blocks_weights():
    cfg = GPTConfig(block_size=6, vocab_size=11, n_layer=3, n_head=2, n_embd=8)
    model = GPT(cfg, dtype=np.float64, rng=0)
    idx = np.random.default_rng(6).integers(0, 11, (2, 5))
    with no_grad():
        logits, loss, w = model(idx, idx, need_weights=True)
        ref_logits, ref_loss = model(idx, idx)
        last, none = model(idx)
        all_logits, no_loss, _ = model(idx, need_weights=True)
    assert w.shape == (2, 3, 2, 5, 5) and none is None and no_loss is None
    np.testing.assert_array_equal(logits.data, ref_logits.data)    # the same forward pass
    assert loss.item() == ref_loss.item()
    np.testing.assert_array_equal(all_logits.data, ref_logits.data)
    np.testing.assert_array_equal(last.data, ref_logits.data[:, -1:])
    x = model.transformer.drop(model.transformer.wte(idx) + model.transformer.wpe(np.arange(5)))
    block0 = model.transformer.h[0]
    with no_grad():
        _, w0 = block0.attn(block0.ln_1(x), need_weights=True)
    np.testing.assert_array_equal(w[:, 0], w0)
