"""Fuzz the public API of llmmath.calculus with the shared harness (tests/fuzz.py).

Random shapes, dtypes, NaN/inf, odd callables and junk: a clean result of the
right shape, or a ValueError/TypeError that names the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fuzz import anything, check_call, junk, special_floats
from llmmath import calculus as calc

pytestmark = [
    pytest.mark.lesson_derivatives,
]

COVERED = {"numerical_gradient", "jacobian", "softmax_jacobian", "softmax_cross_entropy_grad",
           "relu_grad", "sigmoid_grad", "tanh_grad", "erf", "erfc", "gelu", "gelu_grad",
           "layer_norm", "layer_norm_backward", "silu", "silu_grad", "rms_norm",
           "rms_norm_backward", "swiglu", "swiglu_backward",
           "difference_quotient"}  # fuzzed in test_lesson_support_calculus.py

ELEMENTWISE = [calc.relu_grad, calc.sigmoid_grad, calc.tanh_grad, calc.erf, calc.erfc, calc.gelu,
               calc.gelu_grad, calc.silu, calc.silu_grad]

finite_awkward = st.sampled_from([0.0, -0.0, 1e300, -1e300, 1e-300, 5e-324, 1e4, -1e4])


def values(shape):
    return st.one_of(
        hnp.arrays(np.float64, shape, elements=st.floats(-10, 10)),
        hnp.arrays(np.float64, shape, elements=st.one_of(st.floats(-10, 10), finite_awkward)),
        hnp.arrays(np.float32, shape, elements=st.one_of(st.floats(-10, 10, width=32), st.sampled_from([1e4, -1e4]))),
        hnp.arrays(np.float64, shape, elements=st.one_of(st.floats(-10, 10), special_floats)),
    )


def test_covered_names_are_the_public_api():
    assert COVERED == set(calc.__all__)


functions = st.sampled_from([
    np.sum,
    lambda v: np.sum(np.sin(v)),
    lambda v: v,                      # not a scalar
    lambda v: np.sum(v) * np.nan,     # NaN
    lambda v: "text",                 # not numbers
    lambda v: [[1.0], [1.0, 2.0]],    # ragged
    lambda v: 1e308 * np.sign(np.max(v, initial=-1.0)),  # the difference quotient overflows
    None, 3, "f",                     # not callable
])


@given(f=functions, x=st.one_of(anything(max_dims=2), values(st.tuples(st.integers(0, 3)))),
       eps=st.one_of(st.just(1e-6), st.floats(), anything(max_dims=0)))
def test_finite_differences(f, x, eps):
    g = check_call(calc.numerical_gradient, f, x, eps)
    if g is not None:
        assert g.shape == np.shape(x) and g.dtype == np.float64
    J = check_call(calc.jacobian, f, x, eps)
    if J is not None:
        assert J.shape[J.ndim - np.ndim(x):] == np.shape(x)


@given(x=anything(), approximate=st.one_of(st.sampled_from(["none", "tanh"]), junk()))
def test_elementwise(x, approximate):
    for fn in ELEMENTWISE:
        y = check_call(fn, x)
        if y is not None:
            assert y.shape == np.shape(x)
            assert y.dtype == (np.float32 if np.asarray(x).dtype == np.float32 else np.float64)
    check_call(calc.gelu_grad, x, approximate)
    check_call(calc.gelu, x, approximate)


@given(x=values(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4)))
def test_elementwise_on_awkward_values(x):
    for fn in ELEMENTWISE:
        y = check_call(fn, x)
        if y is not None:
            assert y.shape == x.shape


@given(z=anything(), target=anything())
def test_softmax_grads_refuse_cleanly(z, target):
    check_call(calc.softmax_jacobian, z)
    check_call(calc.softmax_cross_entropy_grad, z, target)


@given(data=st.data(), n=st.integers(0, 3), K=st.integers(0, 4))
def test_softmax_grads_on_compatible_shapes(data, n, K):
    z = data.draw(st.one_of(values((n, K)), hnp.arrays(np.float64, (n, K), elements=st.sampled_from([-np.inf, 0.0, 1e4]))))
    J = check_call(calc.softmax_jacobian, z)
    if J is not None:
        assert J.shape == (n, K, K)
    target = data.draw(st.one_of(
        hnp.arrays(np.int64, (n,), elements=st.integers(-1, K)),
        st.just(np.eye(max(K, 1))[np.zeros(n, int)][:, :K]),
        hnp.arrays(np.float64, (n, K), elements=st.floats(0, 1)),
    ))
    g = check_call(calc.softmax_cross_entropy_grad, z, target)
    if g is not None:
        assert g.shape == (n, K)
        np.testing.assert_allclose(g.sum(axis=-1), 0.0, atol=1e-5)


@given(x=anything(), gamma=anything(max_dims=1), beta=st.one_of(st.none(), anything(max_dims=1)),
       dy=anything(), eps=st.one_of(st.just(1e-5), anything(max_dims=0)))
def test_layer_norm_refuses_cleanly(x, gamma, beta, dy, eps):
    check_call(calc.layer_norm, x, gamma, beta, eps)
    check_call(calc.layer_norm_backward, x, gamma, dy, eps)


@given(data=st.data(), n=st.integers(0, 3), d=st.integers(0, 4), eps=st.sampled_from([1e-5, 1.0, 0.0, -1.0, np.nan]))
def test_layer_norm_on_compatible_shapes(data, n, d, eps):
    x, dy = data.draw(values((n, d))), data.draw(values((n, d)))
    gamma, beta = data.draw(values((d,))), data.draw(values((d,)))
    y = check_call(calc.layer_norm, x, gamma, beta, eps)
    if y is not None:
        assert y.shape == (n, d)
    out = check_call(calc.layer_norm_backward, x, gamma, dy, eps)
    if out is not None:
        assert out[0].shape == (n, d) and out[1].shape == (d,) and out[2].shape == (d,)


@given(x=st.one_of(anything(), values(st.tuples(st.integers(0, 3), st.integers(1, 4)))),
       w=st.one_of(st.none(), anything(max_dims=1), values(st.tuples(st.integers(1, 4)))),
       eps=st.one_of(st.just(1e-5), st.just(0.0), st.floats(), anything(max_dims=0)))
def test_rms_norm(x, w, eps):
    y = check_call(calc.rms_norm, x, w, eps=eps)
    if y is not None:
        assert y.shape == np.shape(x) and np.isfinite(y).all()
    grads = check_call(calc.rms_norm_backward, x, w, x, eps=eps)
    if grads is not None:
        assert grads[0].shape == np.shape(x) and all(np.isfinite(g).all() for g in grads)


@given(data=st.data(), n=st.integers(0, 3), c=st.integers(0, 3), h=st.integers(0, 3),
       d=st.integers(1, 3), odd=st.booleans())
def test_swiglu(data, n, c, h, d, odd):
    x = data.draw(st.one_of(values((n, c)), anything()))
    w1 = data.draw(st.one_of(values((h, c)), anything(max_dims=2)))
    w3 = data.draw(values((h, c + odd)))
    w2 = data.draw(values((d, h)))
    y = check_call(calc.swiglu, x, w1, w2, w3)
    if y is not None:
        assert y.shape == np.shape(x)[:-1] + (d,) and np.isfinite(y).all()
    dy = data.draw(st.one_of(values((n, d)), anything()))
    grads = check_call(calc.swiglu_backward, x, w1, w2, w3, dy)
    if grads is not None:
        assert [g.shape for g in grads] == [np.shape(a) for a in (x, w1, w2, w3)]
