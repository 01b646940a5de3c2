"""SiLU, RMSNorm, RoPE and SwiGLU: the NumPy functions and the engine's nodes.

References, all independent of the code under test: PyTorch in float64
(``torch.nn.functional.silu`` and ``rms_norm``, SwiGLU written with
``torch.nn.functional.linear``, Meta's complex-number RoPE), an explicit
block-diagonal rotation matrix built entry by entry, central differences, and
identities (rotations keep lengths; scores depend on offsets only).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given
from hypothesis import strategies as st

from llmmath import attention, calculus
from llmmath.autograd import Tensor, gradcheck
from llmmath.autograd import functional as F
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

pytestmark = [pytest.mark.lesson_rmsnorm_swiglu, pytest.mark.lesson_rope]

TOL = 1e-10


def t64(a: np.ndarray, grad: bool = True) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def close(ours: np.ndarray, ref: torch.Tensor | np.ndarray, tol: float = TOL) -> None:
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else ref
    assert ours.shape == ref.shape
    scale = max(1.0, float(np.max(np.abs(ref)))) if ref.size else 1.0
    err = float(np.max(np.abs(ours - ref))) if ref.size else 0.0
    assert err <= tol * scale, f"max error {err:.3g} (scale {scale:.3g})"


# ---------------------------------------------------------------- SiLU

@pytest.mark.torch
def test_silu_values_and_slope_against_torch(rng):
    x = np.concatenate([rng.standard_normal(200) * 4, [0.0, -30.0, 30.0, -700.0, 700.0]])
    tx = t64(x)
    ty = TF.silu(tx)
    ty.backward(torch.ones_like(ty))
    close(calculus.silu(x), ty)
    close(calculus.silu_grad(x), tx.grad)
    ours = Tensor(x, requires_grad=True)
    y = F.silu(ours)
    y.backward(np.ones_like(x))
    close(y.data, ty)
    close(ours.grad, tx.grad)


def test_silu_limits_and_dtype():
    out = calculus.silu([np.inf, -np.inf, 1e300, -1e300])
    assert out.tolist() == [np.inf, 0.0, 1e300, 0.0]        # exact limits: x, and 0
    assert calculus.silu_grad([np.inf, -np.inf]).tolist() == [1.0, 0.0]
    y = F.silu(Tensor(np.ones(3, np.float32), requires_grad=True))
    y.sum().backward()
    assert y.dtype == np.float32


def test_silu_slope_extremes_by_hand():
    # the slope's turning points solve d/dx [s (1 + x (1 - s))] = 0; check the values against a
    # fine grid evaluated with the definition x / (1 + e^-x) and a second-order difference
    grid = np.linspace(-6, 6, 600_001)
    h = grid[1] - grid[0]
    f = grid / (1.0 + np.exp(-grid))
    slope = np.gradient(f, h)
    assert abs(calculus.silu_grad(grid).max() - slope.max()) < 1e-8
    assert abs(calculus.silu_grad(grid).min() - slope.min()) < 1e-8


# ---------------------------------------------------------------- RMSNorm

@pytest.mark.torch
@pytest.mark.parametrize("with_weight", [True, False])
def test_rms_norm_against_torch(rng, with_weight):
    x = rng.standard_normal((3, 5, 8)) * 3
    w = rng.standard_normal(8) if with_weight else None
    g = rng.standard_normal((3, 5, 8))
    tx, tw = t64(x), (t64(w) if with_weight else None)
    ty = TF.rms_norm(tx, (8,), tw, eps=1e-5)
    ty.backward(torch.from_numpy(g))
    close(calculus.rms_norm(x, w, eps=1e-5), ty)
    dx, dw = calculus.rms_norm_backward(x, w, g, eps=1e-5)
    close(dx, tx.grad)
    if with_weight:
        close(dw, tw.grad)
    ox = Tensor(x, requires_grad=True)
    ow = Tensor(w, requires_grad=True) if with_weight else None
    y = F.rms_norm(ox, ow, eps=1e-5)
    y.backward(g)
    close(y.data, ty)
    close(ox.grad, tx.grad)
    if with_weight:
        close(ow.grad, tw.grad)


@pytest.mark.torch
def test_rms_norm_gradient_without_weight_is_gradient_of_ones(rng):
    x, g = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    tx, tw = t64(x), t64(np.ones(6))
    TF.rms_norm(tx, (6,), tw, eps=1e-6).backward(torch.from_numpy(g))
    _, dw = calculus.rms_norm_backward(x, None, g, eps=1e-6)
    close(dw, tw.grad)


def test_rms_norm_scaled_rows_without_overflow():
    # With eps = 0, RMSNorm ignores the scale of a row: x * 2**k gives the same output, also
    # where the squares overflow (2**600) or underflow (2**-600). Powers of two scale exactly.
    x = np.array([[1.0, -2.0, 3.0, 0.5]])
    ref = x / np.sqrt(np.mean(x * x))
    for k in (600, -600, 0):
        big = np.ldexp(x, k)
        close(calculus.rms_norm(big, eps=0.0), ref, 1e-15)
        close(F.rms_norm(Tensor(big), eps=0.0).data, ref, 1e-15)


def test_rms_norm_gradient_is_orthogonal_to_x(rng):
    # x / rms(x) does not change when x grows along itself: dx . x = 0 (eps = 0)
    x, g = rng.standard_normal((5, 7)), rng.standard_normal((5, 7))
    dx, _ = calculus.rms_norm_backward(x, None, g, eps=0.0)
    assert np.max(np.abs(np.sum(dx * x, axis=-1))) < 1e-12


def test_rms_norm_refusals():
    with pytest.raises(InvalidValueError, match="rms_norm: a row of argument 'x' is all zeros"):
        calculus.rms_norm(np.zeros((2, 3)), eps=0.0)
    with pytest.raises(InvalidValueError, match="rms_norm: a row of argument 'x' is all zeros"):
        F.rms_norm(Tensor(np.zeros((2, 3))), eps=0.0)
    with pytest.raises(ShapeError, match="'weight' must have shape \\(3,\\)"):
        F.rms_norm(Tensor(np.ones((2, 3))), Tensor(np.ones(4)))
    with pytest.raises(ShapeError, match="rms_norm_backward: argument 'dy'"):
        calculus.rms_norm_backward(np.ones((2, 3)), None, np.ones((3, 2)))
    assert np.all(calculus.rms_norm(np.zeros((1, 3))) == 0.0)     # eps > 0: zeros stay zeros


# ---------------------------------------------------------------- RoPE

def rotation_matrix(m: int, d: int, theta: float) -> np.ndarray:
    """R(m): block-diagonal, the 2x2 rotation by m theta^(-2i/d) in block i, entry by entry."""
    R = np.zeros((d, d))
    for i in range(d // 2):
        angle = m * theta ** (-2.0 * i / d)
        c, s = np.cos(angle), np.sin(angle)
        R[2 * i, 2 * i], R[2 * i, 2 * i + 1] = c, -s
        R[2 * i + 1, 2 * i], R[2 * i + 1, 2 * i + 1] = s, c
    return R


def meta_rope(x: torch.Tensor, positions: torch.Tensor, theta: float) -> torch.Tensor:
    """Meta's Llama code: precompute_freqs_cis + apply_rotary_emb (complex numbers)."""
    d = x.shape[-1]
    freqs = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float64)[: d // 2] / d))
    angles = torch.outer(positions.to(torch.float64), freqs)             # (T, d/2)
    freqs_cis = torch.polar(torch.ones_like(angles), angles)             # e^{i m omega}
    xc = torch.view_as_complex(x.reshape(*x.shape[:-1], d // 2, 2))      # pairs as complex
    return torch.view_as_real(xc * freqs_cis).flatten(-2)


def test_rope_against_rotation_matrices(rng):
    T, d, theta = 7, 8, 10000.0
    x = rng.standard_normal((2, T, d))
    ref = np.stack([[rotation_matrix(m, d, theta) @ x[b, m] for m in range(T)]
                    for b in range(2)])
    close(attention.rope(x, np.arange(T), theta), ref, 1e-13)
    close(F.rope(Tensor(x), np.arange(T), theta).data, ref, 1e-13)
    pos = np.array([-3, 0, 5, 1000, 12345, 2, 9])
    ref = np.stack([rotation_matrix(int(m), d, 500.0) @ x[0, i] for i, m in enumerate(pos)])
    close(attention.rope(x[0], pos, theta=500.0), ref, 1e-11)


@pytest.mark.torch
def test_rope_against_the_complex_formulation_with_gradients(rng):
    B, nh, T, hs, theta = 2, 3, 6, 10, 10000.0
    x, g = rng.standard_normal((B, nh, T, hs)), rng.standard_normal((B, nh, T, hs))
    tx = t64(x)
    ty = meta_rope(tx, torch.arange(T), theta)
    ty.backward(torch.from_numpy(g))
    close(attention.rope(x, np.arange(T), theta), ty)
    ox = Tensor(x, requires_grad=True)
    y = F.rope(ox, np.arange(T), theta)
    y.backward(g)
    close(y.data, ty)
    close(ox.grad, tx.grad)


@given(m=st.integers(-500, 500), n=st.integers(-500, 500), shift=st.integers(-10**6, 10**6))
def test_rope_scores_depend_only_on_the_offset(m, n, shift):
    gen = np.random.default_rng(7)
    q, k = gen.standard_normal(16), gen.standard_normal(16)
    s1 = attention.rope(q, m) @ attention.rope(k, n)
    s2 = attention.rope(q, m + shift) @ attention.rope(k, n + shift)
    s3 = q @ attention.rope(k, n - m)                  # <R(m) q, R(n) k> = <q, R(n - m) k>
    assert abs(s1 - s2) < 1e-8 and abs(s1 - s3) < 1e-8


def test_rope_keeps_lengths_and_broadcasts_positions(rng):
    x = rng.standard_normal((2, 3, 5, 4))                      # (B, nh, T, hs)
    pos = rng.integers(-50, 50, (2, 1, 5))                     # per sequence, shared by heads
    y = attention.rope(x, pos)
    close(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), 1e-13)
    for b in range(2):
        close(y[b], attention.rope(x[b], pos[b, 0]), 1e-15)
    x32 = x.astype(np.float32)
    assert attention.rope(x32, np.arange(5)).dtype == np.float32
    assert F.rope(Tensor(x32), np.arange(5)).dtype == np.float32
    assert np.array_equal(attention.rope(x, np.zeros(5, int)), x)   # position 0: the identity


def test_rope_frequencies_by_hand():
    d, theta = 6, 81.0
    assert np.allclose(attention.rope_frequencies(d, theta),
                       [1.0, 81.0 ** (-2 / 6), 81.0 ** (-4 / 6)], rtol=1e-15)


def test_rope_refusals():
    with pytest.raises(ShapeError, match="rope: argument 'x' must have an even last axis"):
        attention.rope(np.ones((2, 3)), [0, 1])
    with pytest.raises(ShapeError, match="rope: argument 'positions' of shape \\(3,\\)"):
        F.rope(Tensor(np.ones((2, 4))), [0, 1, 2])
    with pytest.raises(InvalidTypeError, match="rope: argument 'positions' must hold integers"):
        attention.rope(np.ones((2, 4)), [0.0, 1.5])
    with pytest.raises(InvalidValueError, match="rope: argument 'theta' must be > 0"):
        attention.rope(np.ones((2, 4)), [0, 1], theta=0.0)
    with pytest.raises(InvalidValueError, match="rope_frequencies: argument 'dim' must be even"):
        attention.rope_frequencies(5)


# ---------------------------------------------------------------- SwiGLU

def torch_swiglu(x, w1, w2, w3):
    return TF.linear(TF.silu(TF.linear(x, w1)) * TF.linear(x, w3), w2)


@pytest.mark.torch
def test_swiglu_against_torch(rng):
    C, H, D = 6, 10, 5
    x, g = rng.standard_normal((2, 4, C)), rng.standard_normal((2, 4, D))
    w1, w3, w2 = (rng.standard_normal(s) * 0.7 for s in [(H, C), (H, C), (D, H)])
    tx, tw1, tw2, tw3 = t64(x), t64(w1), t64(w2), t64(w3)
    ty = torch_swiglu(tx, tw1, tw2, tw3)
    ty.backward(torch.from_numpy(g))
    refs = (tx.grad, tw1.grad, tw2.grad, tw3.grad)
    close(calculus.swiglu(x, w1, w2, w3), ty)
    for ours, ref in zip(calculus.swiglu_backward(x, w1, w2, w3, g), refs, strict=True):
        close(ours, ref)
    ts = [Tensor(a, requires_grad=True) for a in (x, w1, w2, w3)]
    y = F.swiglu(*ts)
    y.backward(g)
    close(y.data, ty)
    for ours, ref in zip(ts, refs, strict=True):
        close(ours.grad, ref)


def test_swiglu_only_some_gradients(rng):
    x, w1, w3, w2 = (rng.standard_normal(s) for s in [(3, 4), (5, 4), (5, 4), (4, 5)])
    full = calculus.swiglu_backward(x, w1, w2, w3, np.ones((3, 4)))
    tw2 = Tensor(w2, requires_grad=True)
    F.swiglu(Tensor(x), Tensor(w1), tw2, Tensor(w3)).sum().backward()
    close(tw2.grad, full[2], 1e-14)
    tx = Tensor(x, requires_grad=True)
    F.swiglu(tx, w1, w2, w3).sum().backward()
    close(tx.grad, full[0], 1e-14)


def test_swiglu_refusals():
    x, w = np.ones((2, 3)), np.ones((4, 3))
    with pytest.raises(ShapeError, match="swiglu: argument 'w2' must have shape \\(D, H\\)"):
        F.swiglu(x, w, np.ones((3, 3)), w)
    with pytest.raises(ShapeError, match="swiglu: argument 'w3' must have the shape of 'w1'"):
        calculus.swiglu(x, w, np.ones((3, 4)), np.ones((5, 3)))
    with pytest.raises(ShapeError, match="swiglu: argument 'w1' must have shape \\(H, C\\)"):
        calculus.swiglu(x, np.ones((4, 2)), np.ones((3, 4)), np.ones((4, 2)))
    with pytest.raises(InvalidValueError, match="swiglu: the output is not finite"):
        F.swiglu(Tensor(np.full((1, 3), 1e200)), Tensor(np.full((4, 3), 1e200)),
                 np.ones((3, 4)), Tensor(np.full((4, 3), 1e200)))


# ---------------------------------------------------------------- central differences

def test_every_node_passes_gradcheck(rng):
    x = rng.standard_normal((2, 3, 6))
    w = rng.standard_normal(6)
    w1, w3, w2 = (rng.standard_normal(s) * 0.5 for s in [(8, 6), (8, 6), (5, 8)])
    pos = np.array([0, 3, -2])
    checks = {
        "silu": (F.silu, [x]),
        "rms_norm": (lambda a, b: F.rms_norm(a, b, eps=1e-5), [x, w]),
        "rope": (lambda a: F.rope(a, pos, theta=50.0), [x]),
        "swiglu": (F.swiglu, [x, w1, w2, w3]),
    }
    for name, (fn, inputs) in checks.items():
        result = gradcheck(fn, [Tensor(a, requires_grad=True) for a in inputs], atol=1e-7,
                           rtol=1e-6)
        assert result, f"{name}: {result}"


def test_pillar_backwards_against_central_differences(rng):
    x, w, g = rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal((3, 5))
    dx, dw = calculus.rms_norm_backward(x, w, g, eps=1e-3)
    num_x = calculus.numerical_gradient(lambda v: np.sum(calculus.rms_norm(v, w, 1e-3) * g), x)
    num_w = calculus.numerical_gradient(lambda v: np.sum(calculus.rms_norm(x, v, 1e-3) * g), w)
    close(dx, num_x, 1e-8)
    close(dw, num_w, 1e-8)
    w1, w3, w2 = (rng.standard_normal(s) for s in [(4, 5), (4, 5), (2, 4)])
    gy = rng.standard_normal((3, 2))
    grads = calculus.swiglu_backward(x, w1, w2, w3, gy)
    args = [x, w1, w2, w3]
    for i, grad in enumerate(grads):
        def f(v, i=i):
            a = list(args)
            a[i] = v
            return np.sum(calculus.swiglu(*a) * gy)
        close(grad, calculus.numerical_gradient(f, args[i]), 1e-8)
    xs = np.linspace(-8, 8, 41)
    close(calculus.silu_grad(xs), calculus.numerical_gradient(
        lambda v: calculus.silu(v).sum(), xs), 1e-8)
