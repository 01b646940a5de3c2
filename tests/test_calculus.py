"""Tests for llmmath.calculus: every analytic gradient against finite differences
and against PyTorch float64 (or a closed form / mpmath)."""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from llmmath import calculus as calc
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

logits_elems = st.floats(-20, 20, allow_nan=False, width=64)


def fd_check(name, analytic, numeric, rtol=1e-6, atol=1e-8):
    """Compare analytic and central-difference gradients; name the function and index on failure."""
    bad = ~np.isclose(analytic, numeric, rtol=rtol, atol=atol)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        pytest.fail(f"{name}: analytic {analytic[idx]!r} != finite differences {numeric[idx]!r} at index {idx}")


# --- finite differences ------------------------------------------------------------------


@pytest.mark.lesson_derivatives
def test_numerical_gradient_closed_forms():
    x = np.array([0.3, -1.2, 2.0])
    g = calc.numerical_gradient(lambda v: np.sum(np.sin(v)) * v[0], x)
    want = np.cos(x) * x[0]
    want[0] += np.sum(np.sin(x))
    np.testing.assert_allclose(g, want, rtol=1e-8)
    assert calc.numerical_gradient(lambda v: v ** 3, 2.0) == pytest.approx(12.0, rel=1e-9)  # 0-d x
    assert calc.numerical_gradient(np.sum, np.ones((2, 3), np.float32)).dtype == np.float64


@pytest.mark.torch
@pytest.mark.lesson_derivatives
@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-2, 2)))
def test_numerical_gradient_matches_torch_autograd(x):
    import torch

    def f(v):
        return np.sum(np.tanh(v) * v ** 2) + np.log1p(np.sum(v * v))

    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    (torch.sum(torch.tanh(tx) * tx ** 2) + torch.log1p(torch.sum(tx * tx))).backward()
    np.testing.assert_allclose(calc.numerical_gradient(f, x), tx.grad.numpy(), rtol=1e-7, atol=1e-8)


@pytest.mark.torch
@pytest.mark.lesson_derivatives
def test_jacobian_matches_torch_layout_and_values():
    import torch

    x = np.random.default_rng(0).normal(size=(2, 3))
    W = np.random.default_rng(1).normal(size=(3, 4))

    def f(v):
        return np.tanh(v @ W)  # (2, 4)

    J = calc.jacobian(f, x)
    want = torch.autograd.functional.jacobian(lambda t: torch.tanh(t @ torch.from_numpy(W)), torch.from_numpy(x))
    assert J.shape == (2, 4, 2, 3)
    np.testing.assert_allclose(J, want.numpy(), rtol=1e-7, atol=1e-9)


def test_finite_difference_errors():
    with pytest.raises(ShapeError, match="'f' must return a scalar"):
        calc.numerical_gradient(lambda v: v, [1.0, 2.0])
    with pytest.raises(InvalidValueError, match="'f' returned nan"):
        calc.numerical_gradient(lambda v: np.sum(v) * np.nan, [1.0])
    with pytest.raises(InvalidValueError, match="'f' returned inf"):
        calc.jacobian(lambda v: v * np.inf, [1.0])
    with pytest.raises(InvalidTypeError, match="'f'"):
        calc.numerical_gradient(3, [1.0])
    with pytest.raises(InvalidTypeError, match="'f' must return real"):
        calc.numerical_gradient(lambda v: "x", [1.0])
    with pytest.raises(ShapeError, match="shape"):
        calc.jacobian(lambda v: np.ones(1 if v[0] > 0 else 2), [0.0])  # the output shape changes
    with pytest.raises(InvalidValueError, match="'eps'"):
        calc.numerical_gradient(np.sum, [1e300])  # the step is lost in rounding
    with pytest.raises(InvalidValueError, match="'eps'"):
        calc.numerical_gradient(np.sum, [1.0], eps=0.0)


# --- softmax Jacobian and cross-entropy -------------------------------------------------------


@pytest.mark.torch
@pytest.mark.lesson_softmax_jacobian
@given(z=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=logits_elems))
def test_softmax_jacobian_matches_torch_and_finite_differences(z):
    import torch

    J = calc.softmax_jacobian(z)
    assert J.shape == z.shape + z.shape[-1:]
    flat = z.reshape(-1, z.shape[-1])
    for row, Jrow in zip(flat, J.reshape(-1, z.shape[-1], z.shape[-1]), strict=True):
        want = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=-1), torch.from_numpy(row))
        np.testing.assert_allclose(Jrow, want.numpy(), rtol=1e-12, atol=1e-16)
        numeric = calc.jacobian(lambda v: scipy.special.softmax(v), row)
        fd_check("softmax_jacobian", Jrow, numeric, atol=1e-8)
    np.testing.assert_allclose(J.sum(axis=-1), 0.0, atol=1e-15)  # shift invariance
    np.testing.assert_array_equal(J, np.swapaxes(J, -1, -2))


@pytest.mark.lesson_softmax_jacobian
def test_softmax_jacobian_entry_against_mpmath_and_masks():
    z = [0.5, -1.25, 2.0]
    with mpmath.workdps(30):  # local precision: a global mp.dps would leak into later tests
        e = [mpmath.exp(mpmath.mpf(v)) for v in z]
        s = [v / sum(e) for v in e]
        j02, j11 = float(-s[0] * s[2]), float(s[1] * (1 - s[1]))
    J = calc.softmax_jacobian(z)
    assert J[0, 2] == pytest.approx(j02, rel=1e-14)
    assert J[1, 1] == pytest.approx(j11, rel=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        masked = calc.softmax_jacobian([0.0, -np.inf, 0.0])
        huge = calc.softmax_jacobian([1e4, -1e4])
    np.testing.assert_array_equal(masked, [[0.25, 0, -0.25], [0, 0, 0], [-0.25, 0, 0.25]])
    np.testing.assert_array_equal(huge, np.zeros((2, 2)))
    assert calc.softmax_jacobian(np.zeros(3, np.float32)).dtype == np.float32
    with pytest.raises(InvalidValueError, match="row"):
        calc.softmax_jacobian([[0.0, 1.0], [-np.inf, -np.inf]])


def ce_loss(z, y):
    """Summed cross-entropy of softmax(z) against distributions y, from SciPy's log_softmax."""
    return -np.sum(y * scipy.special.log_softmax(z, axis=-1))


@pytest.mark.torch
@pytest.mark.lesson_cross_entropy_grad
@given(
    z=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=logits_elems),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_grad_with_indices_matches_torch(z, seed):
    import torch

    idx = np.random.default_rng(seed).integers(0, z.shape[1], z.shape[0])
    grad = calc.softmax_cross_entropy_grad(z, idx)
    tz = torch.from_numpy(z.copy()).requires_grad_(True)
    torch.nn.functional.cross_entropy(tz, torch.from_numpy(idx), reduction="sum").backward()
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-12, atol=1e-15)
    onehot = np.eye(z.shape[1])[idx]
    np.testing.assert_allclose(calc.softmax_cross_entropy_grad(z, onehot), grad, atol=1e-16)
    fd_check("softmax_cross_entropy_grad", grad, calc.numerical_gradient(lambda v: ce_loss(v, onehot), z))


@pytest.mark.torch
@pytest.mark.lesson_cross_entropy_grad
@given(
    z=hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 5)), elements=logits_elems),
    seed=st.integers(0, 2**16),
)
def test_cross_entropy_grad_with_soft_targets_matches_torch(z, seed):
    import torch

    y = np.random.default_rng(seed).dirichlet(np.ones(z.shape[-1]), size=z.shape[:-1])
    grad = calc.softmax_cross_entropy_grad(z, y)
    tz = torch.from_numpy(z.copy()).requires_grad_(True)
    # torch wants classes on axis 1
    torch.nn.functional.cross_entropy(tz.movedim(-1, 1), torch.from_numpy(y).movedim(-1, 1), reduction="sum").backward()
    np.testing.assert_allclose(grad, tz.grad.numpy(), rtol=1e-12, atol=1e-15)
    fd_check("softmax_cross_entropy_grad", grad, calc.numerical_gradient(lambda v: ce_loss(v, y), z))
    np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=1e-15)


@pytest.mark.lesson_cross_entropy_grad
def test_cross_entropy_grad_target_forms_and_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = calc.softmax_cross_entropy_grad([1e4, -1e4, -np.inf], 1)
    np.testing.assert_array_equal(g, [1.0, -1.0, 0.0])
    g32 = calc.softmax_cross_entropy_grad(np.zeros((2, 3), np.float32), np.array([0, 2]))
    assert g32.dtype == np.float32
    with pytest.raises(InvalidTypeError, match="boolean"):
        calc.softmax_cross_entropy_grad([0.0, 0.0], np.array([True, False]))
    with pytest.raises(ShapeError, match=r"logits.shape\[:-1\]"):
        calc.softmax_cross_entropy_grad(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(InvalidValueError, match="'target'"):
        calc.softmax_cross_entropy_grad(np.zeros((2, 3)), [0, 3])
    with pytest.raises(InvalidValueError, match="sums to"):
        calc.softmax_cross_entropy_grad(np.zeros(3), [0.5, 0.6, 0.0])
    with pytest.raises(ShapeError, match="shape of 'logits'"):
        calc.softmax_cross_entropy_grad(np.zeros((2, 3)), [0.5, 0.5])


# --- activations ----------------------------------------------------------------------------------

acts = hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=6), elements=st.floats(-30, 30))


def torch_grad(fn, x):
    import torch

    tx = torch.from_numpy(np.array(x, dtype=np.float64)).requires_grad_(True)
    fn(tx).sum().backward()
    return tx.grad.numpy()


@pytest.mark.torch
@pytest.mark.lesson_activations
@given(x=acts)
def test_activation_grads_match_torch(x):
    import torch

    np.testing.assert_array_equal(calc.relu_grad(x), torch_grad(torch.relu, x))
    # torch forms s (1 - s) and 1 - tanh^2: accurate to about 1e-16 absolutely, not relatively,
    # in the tails. The tails are checked against mpmath below.
    np.testing.assert_allclose(calc.sigmoid_grad(x), torch_grad(torch.sigmoid, x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(calc.tanh_grad(x), torch_grad(torch.tanh, x), rtol=1e-12, atol=1e-15)
    exact = torch_grad(lambda t: torch.nn.functional.gelu(t), x)
    approx = torch_grad(lambda t: torch.nn.functional.gelu(t, approximate="tanh"), x)
    np.testing.assert_allclose(calc.gelu_grad(x), exact, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(calc.gelu_grad(x, approximate="tanh"), approx, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(calc.gelu(x), torch.nn.functional.gelu(torch.from_numpy(x)).numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.lesson_activations
def test_activation_grads_match_finite_differences():
    x = np.linspace(-6, 6, 49) + 0.0123  # avoid ReLU's kink at 0
    cases = [
        ("relu_grad", calc.relu_grad, lambda v: np.maximum(v, 0)),
        ("sigmoid_grad", calc.sigmoid_grad, scipy.special.expit),
        ("tanh_grad", calc.tanh_grad, np.tanh),
        ("gelu_grad", calc.gelu_grad, lambda v: v * scipy.special.ndtr(v)),
        ("gelu_grad(tanh)", lambda v: calc.gelu_grad(v, "tanh"),
         lambda v: 0.5 * v * (1 + np.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))),
    ]
    for name, grad, f in cases:
        numeric = np.diagonal(calc.jacobian(f, x))
        fd_check(name, grad(x), numeric, rtol=1e-7, atol=1e-9)
    numeric = np.diagonal(calc.jacobian(calc.gelu, x))
    fd_check("gelu vs gelu_grad", calc.gelu_grad(x), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.lesson_activations
def test_activation_tails_against_mpmath():
    with mpmath.workdps(50):  # local precision: a global mp.dps would leak into later tests
        for v in [-30.0, -10.0, 8.0, 25.0]:
            s = 1 / (1 + mpmath.exp(-mpmath.mpf(v)))
            assert calc.sigmoid_grad([v])[0] == pytest.approx(float(s * (1 - s)), rel=1e-14)
            assert calc.tanh_grad([v])[0] == pytest.approx(float(1 / mpmath.cosh(mpmath.mpf(v)) ** 2),
                                                           rel=1e-14)
            m = mpmath.mpf(v)
            assert calc.gelu_grad([v])[0] == pytest.approx(float(mpmath.ncdf(m) + m * mpmath.npdf(m)),
                                                           rel=1e-14)
            assert calc.gelu([v])[0] == pytest.approx(float(m * mpmath.ncdf(m)), rel=1e-14)
        c, k = mpmath.sqrt(2 / mpmath.pi), mpmath.mpf(0.044715)

        def gelu_tanh(v):  # x sigmoid(2u): no cancellation, so mpmath keeps all its digits
            return v / (1 + mpmath.exp(-2 * c * (v + k * v ** 3)))

        for v in [-9.0, -5.0, -1.0, 3.0]:
            want = float(mpmath.diff(gelu_tanh, mpmath.mpf(v)))
            assert calc.gelu_grad([v], "tanh")[0] == pytest.approx(want, rel=1e-14)
            assert calc.gelu([v], "tanh")[0] == pytest.approx(float(gelu_tanh(mpmath.mpf(v))), rel=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        edge = np.array([-np.inf, -1e300, -1e4, 0.0, 1e4, 1e300, np.inf])
        np.testing.assert_array_equal(calc.sigmoid_grad(edge), [0, 0, 0, 0.25, 0, 0, 0])
        np.testing.assert_array_equal(calc.tanh_grad(edge), [0, 0, 0, 1, 0, 0, 0])
        np.testing.assert_array_equal(calc.gelu_grad(edge), [0, 0, 0, 0.5, 1, 1, 1])
        np.testing.assert_array_equal(calc.gelu_grad(edge, "tanh"), [0, 0, 0, 0.5, 1, 1, 1])
        np.testing.assert_array_equal(calc.gelu(edge), [0, 0, 0, 0, 1e4, 1e300, np.inf])
    # the largest slope of the sigmoid; exact: e = exp(0) = 1, so e / ((1 + e)(1 + e)) is 1/4
    assert calc.sigmoid_grad([0.0]).max() == 0.25
    for fn in (calc.relu_grad, calc.sigmoid_grad, calc.tanh_grad, calc.gelu_grad, calc.gelu, calc.erf):
        assert fn(np.zeros(2, np.float32)).dtype == np.float32
    with pytest.raises(InvalidValueError, match="'approximate'"):
        calc.gelu_grad([0.0], approximate="erf")


@pytest.mark.parametrize("fn", [calc.relu_grad, calc.sigmoid_grad, calc.tanh_grad, calc.erf, calc.erfc,
                                calc.gelu, calc.gelu_grad])
def test_elementwise_functions_refuse_nan_complex_and_text(fn):
    name = fn.__name__
    with pytest.raises(InvalidValueError, match=rf"{name}: argument 'x' contains NaN at index 1"):
        fn([1.0, np.nan])
    with pytest.raises(InvalidTypeError, match=rf"{name}: argument 'x' must be real"):
        fn([1j])
    with pytest.raises(InvalidTypeError, match=rf"{name}: argument 'x'"):
        fn("abc")


@pytest.mark.lesson_activations
def test_erf_and_erfc_to_1e15_against_mpmath_and_scipy():
    rng = np.random.default_rng(7)
    x = np.concatenate([np.linspace(-6, 6, 241), rng.uniform(-27, 27, 60), 10.0 ** rng.uniform(-300, 1, 40),
                        [0.0, 5e-324, 0.999999, 1.0, 1.5, 3.0, 26.5]])
    with mpmath.workdps(40):
        erf_ref = np.array([float(mpmath.erf(mpmath.mpf(v))) for v in x])
        erfc_ref = np.array([float(mpmath.erfc(mpmath.mpf(v))) for v in x])
    np.testing.assert_allclose(calc.erf(x), erf_ref, rtol=1e-15, atol=0)
    np.testing.assert_allclose(calc.erfc(x), erfc_ref, rtol=2e-15, atol=0)
    np.testing.assert_allclose(calc.erf(x), scipy.special.erf(x), rtol=2e-15, atol=0)
    # SciPy's erfc is itself off by up to ~4e-14 in the far tail, and flushes subnormals to 0
    np.testing.assert_allclose(calc.erfc(x), scipy.special.erfc(x), rtol=1e-13, atol=1e-300)
    np.testing.assert_array_equal(calc.erf([-np.inf, np.inf, 30.0]), [-1, 1, 1])
    np.testing.assert_array_equal(calc.erfc([-np.inf, np.inf, 30.0]), [2, 0, 0])


# --- LayerNorm --------------------------------------------------------------------------------------


@pytest.mark.torch
@pytest.mark.lesson_layernorm
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
    eps=st.sampled_from([1e-5, 1e-2, 1.0]),
    spread=st.sampled_from([1e-3, 1.0, 100.0]),
    seed=st.integers(0, 2**16),
)
def test_layer_norm_backward_matches_torch(shape, eps, spread, seed):
    import torch

    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * spread + 3.0
    gamma, beta = rng.normal(size=shape[-1:]), rng.normal(size=shape[-1:])
    dy = rng.normal(size=shape)
    dx, dgamma, dbeta = calc.layer_norm_backward(x, gamma, dy, eps=eps)
    tx, tg, tb = (torch.from_numpy(a.copy()).requires_grad_(True) for a in (x, gamma, beta))
    y = torch.nn.functional.layer_norm(tx, shape[-1:], tg, tb, eps=eps)
    y.backward(torch.from_numpy(dy))
    np.testing.assert_allclose(calc.layer_norm(x, gamma, beta, eps=eps), y.detach().numpy(), rtol=1e-10, atol=1e-12)
    scale = np.abs(dy * gamma).max() / math.sqrt(eps)  # the size of a typical dx entry, at most
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-8, atol=1e-12 * scale)
    # x - mean rounds with an error near ulp(x), which torch carries into x_hat (d = 1: x_hat = 0)
    x_hat_error = 1e-15 * np.abs(x).max() / math.sqrt(eps)
    np.testing.assert_allclose(dgamma, tg.grad.numpy(), rtol=1e-10, atol=np.abs(dy).sum() * x_hat_error + 1e-14)
    np.testing.assert_allclose(dbeta, tb.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.lesson_layernorm
def test_layer_norm_backward_matches_finite_differences():
    rng = np.random.default_rng(4)
    x, gamma, beta, dy = rng.normal(size=(2, 5)), rng.normal(size=5), rng.normal(size=5), rng.normal(size=(2, 5))
    eps = 0.1

    def loss(xx, gg, bb):  # L = sum(dy * y), with LayerNorm written out independently
        mu = xx.mean(axis=-1, keepdims=True)
        var = ((xx - mu) ** 2).mean(axis=-1, keepdims=True)
        return np.sum(dy * (gg * (xx - mu) / np.sqrt(var + eps) + bb))

    dx, dgamma, dbeta = calc.layer_norm_backward(x, gamma, dy, eps=eps)
    fd_check("layer_norm_backward dx", dx, calc.numerical_gradient(lambda v: loss(v, gamma, beta), x))
    fd_check("layer_norm_backward dgamma", dgamma, calc.numerical_gradient(lambda v: loss(x, v, beta), gamma))
    fd_check("layer_norm_backward dbeta", dbeta, calc.numerical_gradient(lambda v: loss(x, gamma, v), beta))


@pytest.mark.lesson_layernorm
def test_syllabus_layer_norm_formula_is_wrong():
    """The course's dx formula divides the variance term by d*sigma^2 (not d*(sigma^2 + eps))
    and keeps a vector gamma outside the sums; both give wrong gradients."""
    rng = np.random.default_rng(8)
    d, eps = 6, 1e-2
    x = rng.normal(size=d) * 0.1  # variance comparable to eps, so eps matters
    gamma, dy = rng.normal(size=d), rng.normal(size=d)
    mu, var = x.mean(), x.var()
    s = math.sqrt(var + eps)
    syllabus = gamma / s * (dy - dy.mean() - (x - mu) / (d * var) * np.sum(dy * (x - mu)))
    dx, _, _ = calc.layer_norm_backward(x[None], gamma, dy[None], eps=eps)
    numeric = calc.numerical_gradient(
        lambda v: np.sum(dy * gamma * (v - v.mean()) / np.sqrt(v.var() + eps)), x)
    np.testing.assert_allclose(dx[0], numeric, rtol=1e-6, atol=1e-9)
    assert np.abs(syllabus - numeric).max() > 0.1 * np.abs(numeric).max()


def test_layer_norm_edges_and_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = calc.layer_norm([1e300, -1e300, 0.0])
        dx, _, _ = calc.layer_norm_backward([[1e300, -1e300, 0.0]], np.ones(3), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(y, [math.sqrt(1.5), -math.sqrt(1.5), 0.0], rtol=1e-15)
    # closed form: x_hat = (sqrt 1.5, -sqrt 1.5, 0), sigma = 1e300 sqrt(2/3), eps negligible, so
    # dx = (dy - mean(dy) - x_hat mean(dy x_hat)) / sigma = (1/6, 1/6, -1/3) sqrt(1.5) / 1e300
    np.testing.assert_allclose(dx, [[1 / 6 * math.sqrt(1.5) / 1e300, 1 / 6 * math.sqrt(1.5) / 1e300,
                                     -1 / 3 * math.sqrt(1.5) / 1e300]], rtol=1e-13, atol=0)
    const, _, _ = calc.layer_norm_backward(np.full((1, 4), 7.0), np.ones(4), np.ones((1, 4)))
    np.testing.assert_array_equal(const, np.zeros((1, 4)))
    x32 = np.ones((2, 3), np.float32)
    assert all(a.dtype == np.float32 for a in calc.layer_norm_backward(x32, np.ones(3, np.float32), x32))
    with pytest.raises(ShapeError, match="'gamma'"):
        calc.layer_norm_backward(np.ones((2, 3)), np.ones(4), np.ones((2, 3)))
    with pytest.raises(ShapeError, match="'dy'"):
        calc.layer_norm_backward(np.ones((2, 3)), np.ones(3), np.ones((3, 3)))
    with pytest.raises(InvalidValueError, match="'eps'"):
        calc.layer_norm_backward(np.ones((2, 3)), np.ones(3), np.ones((2, 3)), eps=0.0)
    with pytest.raises(InvalidValueError, match="overflows"):
        calc.layer_norm_backward(np.arange(3.0)[None], np.full(3, 1e300), np.full((1, 3), 1e300))
