"""F.causal_self_attention (packed q, k, v in one node) against the unfused ops it replaces.

The comparison with PyTorch float64 and the argument errors are in test_functional.py;
here: the same numbers as split + heads + scaled_dot_product_attention + merge (dropout
included), causality, an overflowing score, and empty inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from llmmath.autograd import Tensor, no_grad
from llmmath.autograd import functional as F
from llmmath.errors import InvalidValueError

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
