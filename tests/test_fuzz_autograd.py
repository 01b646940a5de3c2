"""Fuzz llmmath.autograd.functional with the shared harness (tests/fuzz.py).

Raw arrays handed to the fused operations are arguments like any other: odd
shapes, dtypes, NaN, inf and junk must give a clean Tensor or a
ValueError/TypeError naming what was wrong.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import anything, check_call, junk, weird_arrays
from llmmath.autograd import Tensor
from llmmath.autograd import functional as F

pytestmark = [
    pytest.mark.lesson_backprop,
]

COVERED = {
    "softmax", "log_softmax", "cross_entropy", "layer_norm", "gelu", "linear", "embedding",
    "dropout", "masked_fill", "scaled_dot_product_attention", "causal_self_attention",
    "silu", "rms_norm", "rope", "swiglu",
}


def clean(result):
    if result is not None:
        assert isinstance(result, Tensor)
        assert not np.isnan(result.data).any()
    return result


@given(x=anything(), axis=st.integers(-3, 3))
def test_softmax_family(x, axis):
    clean(check_call(F.softmax, x, axis=axis))
    clean(check_call(F.log_softmax, x, axis=axis))


@given(logits=anything(), targets=anything(),
       ignore=st.one_of(st.sampled_from([None, -1, 0, np.int64(-1), "-1", -1.0, True, [-1],
                                         np.array(-1), np.array([0, -1])]), junk()),
       reduction=st.sampled_from(["mean", "sum", "none", "max"]))
def test_cross_entropy(logits, targets, ignore, reduction):
    out = clean(check_call(F.cross_entropy, logits, targets, ignore_index=ignore,
                           reduction=reduction))
    if out is not None:
        assert ignore is None or isinstance(ignore, (int, np.integer)) and not isinstance(ignore, bool)


@given(x=anything(), w=anything(), b=anything(), eps=st.floats(-1, 1))
def test_layer_norm(x, w, b, eps):
    clean(check_call(F.layer_norm, x))
    clean(check_call(F.layer_norm, x, w, b, eps=eps))


@given(x=anything(), approximate=st.sampled_from(["tanh", "none", "exact"]))
def test_gelu(x, approximate):
    clean(check_call(F.gelu, x, approximate=approximate))


@given(x=anything(), w=anything(), b=st.one_of(st.none(), anything()))
def test_linear(x, w, b):
    clean(check_call(F.linear, x, w, b))


@given(idx=anything(), w=anything())
def test_embedding(idx, w):
    clean(check_call(F.embedding, idx, w))


@given(x=anything(), p=st.floats(-0.5, 1.5), training=st.sampled_from([True, False, 1]))
def test_dropout(x, p, training):
    clean(check_call(F.dropout, x, p=p, training=training, rng=0))


@given(x=anything(), mask=anything(), value=st.floats(allow_nan=True))
def test_masked_fill(x, mask, value):
    clean(check_call(F.masked_fill, x, mask, value))


@given(qkv=st.one_of(anything(), weird_arrays(min_dims=3, max_dims=3, max_side=6)),
       n_head=st.one_of(st.integers(-1, 3), st.sampled_from([1.5, "2", None, True])),
       p=st.one_of(st.just(0.0), st.floats(-0.5, 1.5)))
def test_causal_self_attention(qkv, n_head, p):
    out = clean(check_call(F.causal_self_attention, qkv, n_head, dropout_p=p, rng=0))
    if out is not None:
        shape = np.shape(qkv)
        assert out.shape == shape[:2] + (shape[2] // 3,)
    both = check_call(F.causal_self_attention, qkv, n_head, dropout_p=p, rng=0, need_weights=True)
    if both is not None:
        y, w = both
        clean(y)
        assert w.shape == (y.shape[0], n_head, y.shape[1], y.shape[1]) and not np.isnan(w).any()


@given(q=weird_arrays(max_dims=3, max_side=3), k=weird_arrays(max_dims=3, max_side=3),
       v=weird_arrays(max_dims=3, max_side=3), mask=st.one_of(st.none(), anything()),
       causal=st.sampled_from([True, False, "yes"]))
def test_attention(q, k, v, mask, causal):
    clean(check_call(F.scaled_dot_product_attention, q, k, v, mask=mask, causal=causal))
    both = check_call(F.scaled_dot_product_attention, q, k, v, mask=mask, causal=causal,
                      need_weights=True)
    if both is not None:
        y, w = both
        clean(y)
        assert w.shape == y.shape[:-1] + (np.shape(k)[-2],) and not np.isnan(w).any()


@given(x=anything())
def test_silu(x):
    clean(check_call(F.silu, x))


@given(x=st.one_of(anything(), weird_arrays(min_dims=1, max_dims=3)),
       w=st.one_of(st.none(), anything(max_dims=1)), eps=st.floats(-1, 1))
def test_rms_norm(x, w, eps):
    clean(check_call(F.rms_norm, x))
    clean(check_call(F.rms_norm, x, w, eps=eps))


@given(x=st.one_of(anything(), weird_arrays(min_dims=1, max_dims=3)),
       positions=st.one_of(anything(max_dims=2), st.integers(-3, 3)),
       theta=st.one_of(st.just(10000.0), st.floats(-1, 1e6)))
def test_rope(x, positions, theta):
    out = clean(check_call(F.rope, x, positions, theta=theta))
    if out is not None:
        assert out.shape == np.shape(x)


@given(x=st.one_of(anything(max_dims=2), weird_arrays(min_dims=2, max_dims=2, max_side=3)),
       w1=weird_arrays(min_dims=2, max_dims=2, max_side=3),
       w2=weird_arrays(min_dims=2, max_dims=2, max_side=3), same=st.booleans())
def test_swiglu(x, w1, w2, same):
    w3 = w1 if same else np.ones_like(w1)
    out = clean(check_call(F.swiglu, x, w1, w2, w3))
    if out is not None:
        assert out.shape == np.shape(x)[:-1] + (np.shape(w2)[0],)
