"""Fused operations: values and hand-derived gradients against PyTorch float64, and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from llmmath.autograd import Tensor, gradcheck
from llmmath.autograd import functional as F
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

floats = st.floats(-4, 4, allow_nan=False, width=64)


def rel_err(a, b) -> float:
    """max|a - b| / max|b|: relative to the largest reference entry (at least 1e-3, so that
    gradients that are zero in exact arithmetic compare their rounding noise absolutely)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-3))


def compare(f_ours, f_torch, *arrays, tol=1e-10, grad=None):
    """Values and gradients (through a random projection) of the same function in both."""
    grad = [True] * len(arrays) if grad is None else grad
    ours = [Tensor(a, requires_grad=g) for a, g in zip(arrays, grad, strict=True)]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=g)
              for a, g in zip(arrays, grad, strict=True)]
    out, ref = f_ours(*ours), f_torch(*theirs)
    assert out.dtype == np.float64
    assert rel_err(out.data, ref.detach().numpy()) <= tol
    w = np.random.default_rng(1).standard_normal(ref.shape)
    (out * w).sum().backward()
    (ref * torch.from_numpy(w)).sum().backward()
    for x, t, g in zip(ours, theirs, grad, strict=True):
        if g:
            assert rel_err(x.grad, t.grad.numpy()) <= tol
    return ours


def arrays(min_dims=1, max_dims=3, elements=floats, max_side=5):
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=min_dims, max_dims=max_dims,
                                                   max_side=max_side), elements=elements)


# ------------------------------------------------------------- softmax family
@pytest.mark.torch
@pytest.mark.lesson_softmax_jacobian
@given(x=arrays(), data=st.data())
def test_softmax_and_log_softmax_match_torch(x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    compare(lambda t: F.softmax(t, axis=axis), lambda t: torch.softmax(t, dim=axis), x)
    compare(lambda t: F.log_softmax(t, axis=axis), lambda t: torch.log_softmax(t, dim=axis), x)
    assert gradcheck(lambda t: F.softmax(t, axis=axis), [Tensor(x, requires_grad=True)])
    assert gradcheck(lambda t: F.log_softmax(t, axis=axis), [Tensor(x, requires_grad=True)])


@pytest.mark.lesson_softmax_jacobian
def test_softmax_handles_masked_entries_and_huge_logits():
    s = F.softmax(Tensor([1000.0, -np.inf, 1000.0])).data
    np.testing.assert_allclose(s, [0.5, 0.0, 0.5], rtol=1e-15, atol=0)
    with pytest.raises(InvalidValueError, match="every entry -inf"):
        F.softmax(Tensor([[0.0, 1.0], [-np.inf, -np.inf]]))
    with pytest.raises(InvalidValueError, match="axis"):
        F.softmax(Tensor([1.0, 2.0]), axis=1)


# ---------------------------------------------------------------- cross-entropy
@st.composite
def ce_case(draw):
    lead = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    v = draw(st.integers(1, 6))
    logits = draw(hnp.arrays(np.float64, lead + (v,), elements=floats))
    targets = draw(hnp.arrays(np.int64, lead, elements=st.integers(0, v - 1)))
    ignore = draw(st.booleans())
    if ignore:
        targets = np.where(draw(hnp.arrays(np.bool_, lead)), -1, targets)
        if (targets == -1).all():
            targets.flat[0] = 0
    return logits, targets, (-1 if ignore else None)


@pytest.mark.torch
@pytest.mark.lesson_cross_entropy_grad
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(case=ce_case())
def test_cross_entropy_matches_torch(reduction, case):
    logits, targets, ignore = case
    v = logits.shape[-1]

    def theirs(z):
        out = TF.cross_entropy(z.reshape(-1, v), torch.from_numpy(targets.reshape(-1)),
                               ignore_index=-100 if ignore is None else ignore,
                               reduction=reduction)
        return out.reshape(targets.shape) if reduction == "none" else out

    compare(lambda z: F.cross_entropy(z, targets, ignore_index=ignore, reduction=reduction),
            theirs, logits)
    assert gradcheck(lambda z: F.cross_entropy(z, targets, ignore_index=ignore,
                                               reduction=reduction),
                     [Tensor(logits, requires_grad=True)])


@pytest.mark.lesson_cross_entropy_grad
def test_cross_entropy_gradient_is_p_minus_y():
    z = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]])
    y = np.array([1, 2])
    t = Tensor(z, requires_grad=True)
    F.cross_entropy(t, y).backward()
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)   # closed form, by hand
    np.testing.assert_allclose(t.grad, (p - np.eye(3)[y]) / 2, rtol=1e-12, atol=1e-15)


def test_cross_entropy_refuses_bad_targets():
    z = Tensor(np.zeros((2, 3)))
    with pytest.raises(InvalidValueError, match="target 3 is outside"):
        F.cross_entropy(z, [0, 3])
    with pytest.raises(ShapeError, match="targets"):
        F.cross_entropy(z, [0, 1, 2])
    with pytest.raises(InvalidTypeError):
        F.cross_entropy(z, [0.0, 1.0])
    with pytest.raises(InvalidValueError, match="every target is ignored"):
        F.cross_entropy(z, [-1, -1], ignore_index=-1)
    with pytest.raises(InvalidValueError, match="reduction"):
        F.cross_entropy(z, [0, 1], reduction="avg")


# ------------------------------------------------------------------ layer norm
@pytest.mark.torch
@pytest.mark.lesson_layernorm
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=6),
                   elements=floats), data=st.data())
def test_layer_norm_matches_torch(affine, x, data):
    c = x.shape[-1]   # >= 2: a single entry (or a constant row) has variance 0 and xhat = 0
    w = data.draw(hnp.arrays(np.float64, (c,), elements=floats))
    b = data.draw(hnp.arrays(np.float64, (c,), elements=floats))
    x = x + np.arange(c) * 0.1   # avoid rows of equal entries (variance 0: eps dominates)
    if affine == "both":
        compare(lambda t, w_, b_: F.layer_norm(t, w_, b_),
                lambda t, w_, b_: TF.layer_norm(t, (c,), w_, b_, 1e-5), x, w, b)
        assert gradcheck(lambda t, w_, b_: F.layer_norm(t, w_, b_),
                         [Tensor(a, requires_grad=True) for a in (x, w, b)])
    elif affine == "weight":
        compare(lambda t, w_: F.layer_norm(t, w_),
                lambda t, w_: TF.layer_norm(t, (c,), w_, None, 1e-5), x, w)
    else:
        compare(lambda t: F.layer_norm(t), lambda t: TF.layer_norm(t, (c,), None, None, 1e-5), x)
        assert gradcheck(lambda t: F.layer_norm(t), [Tensor(x, requires_grad=True)])


@pytest.mark.lesson_layernorm
def test_layer_norm_gradient_is_the_three_term_formula():
    rng = np.random.default_rng(3)
    x, g, gamma = rng.standard_normal((4, 5)), rng.standard_normal((4, 5)), rng.random(5) + 0.5
    eps = 1e-5
    t = Tensor(x, requires_grad=True)
    F.layer_norm(t, Tensor(gamma), None, eps).backward(gradient=g)
    mu, var = x.mean(1, keepdims=True), x.var(1, keepdims=True)
    xhat, d = (x - mu) / np.sqrt(var + eps), g * gamma
    expected = (d - d.mean(1, keepdims=True) - xhat * (d * xhat).mean(1, keepdims=True)) \
        / np.sqrt(var + eps)
    np.testing.assert_allclose(t.grad, expected, rtol=1e-10, atol=1e-12)


def test_layer_norm_checks_parameter_shapes():
    with pytest.raises(ShapeError, match=r"'weight' must have shape \(3,\)"):
        F.layer_norm(Tensor(np.ones((2, 3))), Tensor(np.ones(2)))


# ------------------------------------------------------------------------ GELU
@pytest.mark.torch
@pytest.mark.lesson_activations
@pytest.mark.parametrize("approximate", ["tanh", "none"])
@given(x=arrays(min_dims=0, elements=st.floats(-6, 6, allow_nan=False)))
def test_gelu_matches_torch(approximate, x):
    compare(lambda t: F.gelu(t, approximate=approximate),
            lambda t: TF.gelu(t, approximate=approximate), x)
    assert gradcheck(lambda t: F.gelu(t, approximate=approximate), [Tensor(x, requires_grad=True)])


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(InvalidValueError, match="gelu: argument 'approximate'.*got 'erf'"):
        F.gelu(Tensor([1.0]), approximate="erf")


def test_gelu_float32_stays_float32():
    y = F.gelu(Tensor(np.linspace(-3, 3, 7, dtype=np.float32), requires_grad=True))
    y.sum().backward()
    assert y.dtype == np.float32


# ---------------------------------------------------------------------- linear
@pytest.mark.torch
@given(data=st.data(), bias=st.booleans())
def test_linear_matches_torch(data, bias):
    lead = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    x = data.draw(hnp.arrays(np.float64, lead + (n_in,), elements=floats))
    w = data.draw(hnp.arrays(np.float64, (n_out, n_in), elements=floats))
    b = data.draw(hnp.arrays(np.float64, (n_out,), elements=floats))
    if bias:
        compare(F.linear, TF.linear, x, w, b)
        assert gradcheck(F.linear, [Tensor(a, requires_grad=True) for a in (x, w, b)])
    else:
        compare(F.linear, TF.linear, x, w)


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(ShapeError, match=r"linear: 'x' of shape \(2, 3\).*got 'weight' \(4, 2\)"):
        F.linear(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 2))))


# ------------------------------------------------------------------- attention
@st.composite
def attention_case(draw):
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    tq, tk, d, dv = (draw(st.integers(1, 5)) for _ in range(4))
    shapes = [batch + s for s in ((tq, d), (tk, d), (tk, dv))]
    if batch and draw(st.booleans()):           # one operand broadcast along the batch
        i = draw(st.integers(0, 2))
        shapes[i] = (1,) + shapes[i][1:]
    q, k, v = (draw(hnp.arrays(np.float64, s, elements=floats)) for s in shapes)
    return q, k, v


@pytest.mark.torch
@pytest.mark.lesson_attention
@given(case=attention_case(), causal=st.booleans(), data=st.data())
def test_attention_matches_torch(case, causal, data):
    q, k, v = case
    tq, tk = q.shape[-2], k.shape[-2]
    mask = None
    if data.draw(st.booleans()):
        mask = data.draw(hnp.arrays(np.bool_, (tq, tk)))
        mask[:, 0] = True                                  # every query sees key 0
    if causal and mask is not None:
        causal = False                                     # torch takes one or the other
    tmask = None if mask is None else torch.from_numpy(mask)
    compare(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, mask=mask, causal=causal),
            lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, attn_mask=tmask,
                                                            is_causal=causal), q, k, v)
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, mask=mask,
                                                                     causal=causal),
                     [Tensor(a, requires_grad=True) for a in (q, k, v)])


@pytest.mark.torch
@pytest.mark.lesson_attention
@given(b=st.integers(1, 2), t=st.integers(1, 5), nh=st.sampled_from([1, 2, 3]), hs=st.integers(1, 3),
       data=st.data())
def test_causal_self_attention_matches_torch(b, t, nh, hs, data):
    c = nh * hs
    qkv = data.draw(hnp.arrays(np.float64, (b, t, 3 * c), elements=floats))

    def theirs(x):  # nanoGPT's CausalSelfAttention.forward without the projections
        q, k, v = (a.reshape(b, t, nh, hs).transpose(1, 2) for a in x.split(c, dim=-1))
        y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
        return y.transpose(1, 2).reshape(b, t, c)

    compare(lambda x: F.causal_self_attention(x, nh), theirs, qkv)
    assert gradcheck(lambda x: F.causal_self_attention(x, nh), [Tensor(qkv, requires_grad=True)])


def test_causal_self_attention_dtype_dropout_and_errors():
    qkv = np.random.default_rng(3).standard_normal((2, 4, 12))
    y32 = F.causal_self_attention(Tensor(qkv.astype(np.float32)), 2)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32.data, F.causal_self_attention(Tensor(qkv), 2).data, rtol=1e-5,
                               atol=1e-6)
    a = F.causal_self_attention(Tensor(qkv), 2, dropout_p=0.3, rng=5).data
    np.testing.assert_array_equal(a, F.causal_self_attention(Tensor(qkv), 2, dropout_p=0.3, rng=5).data)
    assert not np.array_equal(a, F.causal_self_attention(Tensor(qkv), 2).data)
    with pytest.raises(ShapeError, match="causal_self_attention: argument 'qkv'"):
        F.causal_self_attention(Tensor(np.ones((2, 4, 10))), 2)      # 10 is not 3C
    with pytest.raises(ShapeError, match="causal_self_attention: argument 'qkv'"):
        F.causal_self_attention(Tensor(np.ones((4, 12))), 2)          # not (B, T, 3C)
    with pytest.raises(InvalidValueError, match="causal_self_attention: argument 'n_head'"):
        F.causal_self_attention(Tensor(qkv), 0)
    with pytest.raises(InvalidValueError, match="causal_self_attention: argument 'dropout_p'"):
        F.causal_self_attention(Tensor(qkv), 2, dropout_p=1.0)


def test_attention_dropout_keeps_the_expectation_and_the_mask_in_backward():
    rng = np.random.default_rng(0)
    q, k, v = (Tensor(rng.standard_normal((2, 4, 3)), requires_grad=True) for _ in range(3))
    f = lambda a, b, c: F.scaled_dot_product_attention(a, b, c, causal=True, dropout_p=0.3,  # noqa: E731
                                                       rng=7)
    assert gradcheck(f, [q, k, v])   # the same seed gives the same mask in every call
    outs = np.mean([F.scaled_dot_product_attention(q, k, v, causal=True, dropout_p=0.3,
                                                   rng=s).data for s in range(3000)], axis=0)
    exact = F.scaled_dot_product_attention(q, k, v, causal=True).data
    assert np.max(np.abs(outs - exact)) < 0.1


def test_attention_refuses_a_query_that_sees_nothing_and_bad_shapes():
    q = Tensor(np.ones((2, 3)))
    with pytest.raises(InvalidValueError, match="attend to no key"):
        F.scaled_dot_product_attention(q, q, q, mask=np.array([[True, True], [False, False]]))
    with pytest.raises(ShapeError, match="q"):
        F.scaled_dot_product_attention(q, Tensor(np.ones((2, 4))), q)
    with pytest.raises(ShapeError, match="width d = 0"):              # 1/sqrt(0) scale
        F.scaled_dot_product_attention(Tensor(np.ones((2, 0))), Tensor(np.ones((3, 0))),
                                       Tensor(np.ones((3, 2))))
    with pytest.raises(InvalidTypeError, match="boolean"):
        F.scaled_dot_product_attention(q, q, q, mask=np.ones((2, 2)))


# ---------------------------------------------------------- embedding, dropout
@pytest.mark.torch
@given(data=st.data())
def test_embedding_with_repeated_indices_matches_torch(data):
    n, dim = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 4))
    w = data.draw(hnp.arrays(np.float64, (n, dim), elements=floats))
    idx = data.draw(hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=5),
                               elements=st.integers(0, n - 1)))
    compare(lambda t: F.embedding(idx, t), lambda t: TF.embedding(torch.from_numpy(idx), t), w)


def test_embedding_large_vocabulary_path_adds_repeats():
    w = Tensor(np.zeros((70_000, 2)), requires_grad=True)
    idx = np.array([5, 69_999, 5, 5, 0] * 20)
    F.embedding(idx, w).sum().backward()
    assert w.grad[5, 0] == 60 and w.grad[69_999, 1] == 20 and w.grad[0, 0] == 20
    assert w.grad.sum() == 200
    with pytest.raises(InvalidValueError, match="above the maximum"):
        F.embedding([70_000], w)


def test_dropout_zeroes_and_scales_with_a_seed_and_is_identity_in_eval():
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    y = F.dropout(x, p=0.25, rng=1)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.75, rtol=1e-15)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, y.data)     # dL/dx = mask / (1 - p)
    np.testing.assert_array_equal(F.dropout(x, 0.25, rng=1).data, y.data)
    assert F.dropout(x, 0.25, training=False) is x
    assert not F.dropout(x, 1.0, rng=0).data.any()
    with pytest.raises(InvalidValueError, match="'p'"):
        F.dropout(x, 1.5)


@pytest.mark.torch
@given(x=arrays(), data=st.data())
def test_masked_fill_matches_torch(x, data):
    mask = data.draw(hnp.arrays(np.bool_, x.shape[-1:]))
    compare(lambda t: F.masked_fill(t, mask, -2.5),
            lambda t: t.masked_fill(torch.from_numpy(mask), -2.5), x)


def test_masked_fill_with_minus_inf_then_softmax():
    s = F.softmax(F.masked_fill(Tensor([1.0, 2.0, 3.0]), [False, False, True], -np.inf))
    np.testing.assert_allclose(s.data, [1 / (1 + np.e), np.e / (1 + np.e), 0.0], rtol=1e-14, atol=0)
    with pytest.raises(InvalidTypeError, match="boolean"):
        F.masked_fill(Tensor([1.0]), [1], 0.0)


def test_attention_scores_that_overflow_are_a_clear_error() -> None:
    # 1e200 * 1e200 overflows float64: an error naming the op, never a RuntimeWarning or NaN
    q = np.full((1, 2, 2), 1e200)
    with pytest.raises(InvalidValueError, match="scaled_dot_product_attention: a score"):
        F.scaled_dot_product_attention(q, q, q)
