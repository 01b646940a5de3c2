"""The fused attention's speed and memory branches against the plain formulas they replace.

The fused kernel adds the mask to flattened scores and recomputes the
attention weights in backward from each query's log-normaliser; these tests
feed it scores that lie far apart (where a shared shift or a lost normaliser
would underflow) and compare with the unfused operations and with PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llmmath.autograd import Parameter, Tensor
from llmmath.autograd import functional as F


def unfused(qkv: Tensor, nh: int):
    B, T, C3 = qkv.shape
    C = C3 // 3
    q, k, v = (qkv[:, :, i * C:(i + 1) * C].reshape(B, T, nh, C // nh).transpose(1, 2)
               for i in range(3))
    y = F.scaled_dot_product_attention(q, k, v, causal=True)
    return y.transpose(1, 2).reshape(B, T, C)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_queries_whose_scores_lie_far_apart_are_each_normalised_alone(dtype):
    # head 0: query 0 sees only key 0 with score 0, query 2's best score is 300: one shift
    # for the whole head would make query 0's exp(0 - 300) underflow
    rng = np.random.default_rng(0)
    B, T, nh, hs = 2, 5, 2, 4
    C = nh * hs
    qkv = rng.standard_normal((B, T, 3 * C))
    qkv[0, 0, :hs] = 0.0                                  # q of token 0, head 0
    qkv[0, 2, :hs] = 30.0                                 # q of token 2, head 0
    qkv[0, 2, C:C + hs] = 5.0                             # k of token 2, head 0: s q.k = 300
    x = Parameter(qkv.astype(dtype))
    ref = Parameter(qkv.astype(dtype))
    y, w = F.causal_self_attention(x, nh, need_weights=True)
    y_ref = unfused(ref, nh)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.data, y_ref.data, **tol)
    np.testing.assert_allclose(w.sum(-1), 1.0, **tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(g)
    y_ref.backward(g)
    np.testing.assert_allclose(x.grad, ref.grad, **tol)


def test_fused_attention_gradients_against_torch_with_scores_spread_widely():
    rng = np.random.default_rng(1)
    B, T, nh, hs = 3, 17, 4, 8
    C = nh * hs
    qkv = rng.standard_normal((B, T, 3 * C)) * rng.uniform(0.1, 6.0, (B, T, 1))
    x = Parameter(qkv)
    y = F.causal_self_attention(x, nh)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    t = torch.tensor(qkv, requires_grad=True)
    q, k, v = (a.view(B, T, nh, hs).transpose(1, 2) for a in t.split(C, dim=2))
    ty = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    ty = ty.transpose(1, 2).reshape(B, T, C)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-11)
