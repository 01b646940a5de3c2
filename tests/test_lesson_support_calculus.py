"""Library support for the calculus lessons, against independent references.

- ``calculus.difference_quotient``: the exact secant slopes of polynomials
  (closed forms), derivatives from mpmath (``mpmath.diff`` at 50 digits) and
  the truncation-error orders h and h**2; fuzzed with the shared harness.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import anything, check_call
from llmmath import calculus as calc
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

pytestmark = [
    pytest.mark.lesson_derivatives,
]


def quadratic(t):
    return t * t + 3 * t + 1


@given(x=st.floats(-5, 5), h=st.floats(1e-3, 1.0))
def test_quadratic_secants_are_exact(x, h):
    # For f = x^2 + 3x + 1: forward (f(x+h) - f(x))/h = 2x + 3 + h, backward 2x + 3 - h,
    # central exactly 2x + 3 -- algebra, not numerics.
    step = (x + h) - x  # what the function divides by (the step after rounding)
    fwd = calc.difference_quotient(quadratic, x, h)
    assert fwd.shape == () and fwd.dtype == np.float64
    assert float(fwd) == pytest.approx(2 * x + 3 + step, rel=1e-9, abs=1e-9)
    back = calc.difference_quotient(quadratic, x, h, scheme="backward")
    assert float(back) == pytest.approx(2 * x + 3 - (x - (x - h)), rel=1e-9, abs=1e-9)
    cen = calc.difference_quotient(quadratic, x, h, scheme="central")
    assert float(cen) == pytest.approx(2 * x + 3, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name, f, mf", [
    ("sin", np.sin, mpmath.sin),
    ("tanh", np.tanh, mpmath.tanh),
    ("exp(-x^2)", lambda t: np.exp(-t * t), lambda t: mpmath.exp(-t * t)),
])
def test_central_quotient_converges_to_mpmath_derivative(name, f, mf):
    x = np.array([-1.3, -0.2, 0.0, 0.7, 2.1])
    with mpmath.workdps(50):
        exact = np.array([float(mpmath.diff(mf, mpmath.mpf(float(v)))) for v in x])
    got = calc.difference_quotient(f, x, 1e-5, scheme="central")
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-9, err_msg=name)


def test_truncation_error_orders_match_taylor():
    # f = exp at x = 0.5: forward error ~ f''(x) h / 2, central error ~ f'''(x) h^2 / 6.
    x, hs = 0.5, np.array([1e-2, 5e-3, 2.5e-3])
    d = math.exp(x)
    fwd_err = calc.difference_quotient(np.exp, x, hs) - d
    cen_err = calc.difference_quotient(np.exp, x, hs, scheme="central") - d
    # the leading Taylor terms, to within the next term's share (h/3 and h^2/20)
    np.testing.assert_allclose(fwd_err, d * hs / 2, rtol=0.004)
    np.testing.assert_allclose(cen_err, d * hs * hs / 6, rtol=1e-5)
    # and the exact errors, e^x (expm1(h)/h - 1) and e^x (sinh(h)/h - 1): only rounding
    # (about 1e-16 e^x / h absolutely) separates the computed quotients from them
    np.testing.assert_allclose(fwd_err, d * (np.expm1(hs) / hs - 1), rtol=1e-9)
    np.testing.assert_allclose(cen_err, d * ((np.sinh(hs) - hs) / hs), rtol=1e-6)


def test_broadcasting_and_negative_steps():
    x = np.array([[0.0], [1.0]])          # (2, 1)
    h = np.array([0.5, -0.5, 0.25])       # (3,)
    got = calc.difference_quotient(quadratic, x, h)
    assert got.shape == (2, 3)
    step = (x + h) - x
    np.testing.assert_allclose(got, 2 * x + 3 + step, rtol=1e-12)


def test_bad_input_is_explained():
    with pytest.raises(InvalidValueError, match="'h'"):
        calc.difference_quotient(np.sin, 1.0, 0.0)
    with pytest.raises(InvalidValueError, match="'h'"):
        calc.difference_quotient(np.sin, 1e20, 1e-10)   # lost in rounding next to x
    with pytest.raises(InvalidValueError, match="scheme"):
        calc.difference_quotient(np.sin, 1.0, 0.1, scheme="sideways")
    with pytest.raises(InvalidTypeError, match="'f'"):
        calc.difference_quotient(3.0, 1.0, 0.1)
    with pytest.raises(ShapeError, match="'f'"):
        calc.difference_quotient(np.sum, [1.0, 2.0], 0.1)
    with pytest.raises(ShapeError, match="broadcast"):
        calc.difference_quotient(np.sin, [1.0, 2.0], [0.1, 0.2, 0.3])
    with pytest.raises(InvalidValueError, match="'f'"):
        calc.difference_quotient(lambda t: np.full_like(t, -np.inf), 1.0, 0.1)  # -inf values


functions = st.sampled_from([
    np.sin,
    lambda t: t * t,
    np.sum,                           # wrong shape
    lambda t: t * np.nan,             # NaN
    lambda t: "text",                 # not numbers
    lambda t: 1e308 * np.sign(t),     # the quotient overflows
    None, 3,                          # not callable
])


@given(f=functions, x=anything(max_dims=2), h=st.one_of(st.just(1e-4), anything(max_dims=1)),
       scheme=st.sampled_from(["forward", "backward", "central", "up", 3]))
def test_fuzz_difference_quotient(f, x, h, scheme):
    out = check_call(calc.difference_quotient, f, x, h, scheme)
    if out is not None:
        assert out.dtype == np.float64 and np.isfinite(out).all()
        assert out.shape == np.broadcast_shapes(np.shape(x), np.shape(h))


def test_gelu_slope_minimum_is_at_minus_sqrt2():
    # GELU'(x) = Phi(x) + x phi(x) has derivative phi(x) (2 - x^2): its minimum is at -sqrt(2).
    with mpmath.workdps(40):
        x0 = -mpmath.sqrt(2)
        want = float(mpmath.ncdf(x0) + x0 * mpmath.npdf(x0))
    grid = np.linspace(-3.0, 0.0, 300001)
    slopes = calc.gelu_grad(grid)
    assert abs(grid[int(np.argmin(slopes))] + math.sqrt(2)) < 1e-4
    assert float(calc.gelu_grad(-math.sqrt(2))) == pytest.approx(want, rel=1e-13)
    assert slopes.min() == pytest.approx(want, abs=1e-9)
