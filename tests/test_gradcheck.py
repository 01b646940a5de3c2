"""gradcheck: passes correct gradients, and catches (and locates) a wrong one."""

from __future__ import annotations

import numpy as np
import pytest

from llmmath.autograd import GradcheckError, Tensor, gradcheck
from llmmath.errors import InvalidTypeError, InvalidValueError

pytestmark = [pytest.mark.lesson_backprop]


def wrong_square(x: Tensor) -> Tensor:
    """x**2 whose backward is off at one element: (1, 2) gets 2x + 0.5."""
    data = x.data ** 2

    def backward(g):
        local = 2 * x.data
        local[1, 2] += 0.5
        return (g * local,)

    return Tensor.from_op(data, (x,), backward, "wrong_square")


def test_correct_gradients_pass():
    rng = np.random.default_rng(0)
    a, b = Tensor(rng.standard_normal((3, 4)), requires_grad=True), \
        Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    result = gradcheck(lambda x, y: (x @ y).tanh().sum(axis=0), [a, b])
    assert result and result.passed
    assert result.n_checked == 12 + 8
    assert "passed" in str(result)


def test_a_wrong_gradient_is_caught_and_located():
    x = Tensor(np.arange(12.0).reshape(3, 4) / 10, requires_grad=True)
    y = Tensor(np.ones(2), requires_grad=True)
    result = gradcheck(lambda y_, x_: wrong_square(x_) * y_.sum(), [y, x])
    assert not result
    assert result.input_index == 1 and result.index == (1, 2)
    assert result.abs_error > result.allowed
    assert result.abs_error == pytest.approx(abs(result.analytic - result.numeric))
    text = str(result)
    assert "FAILED" in text and "input 1" in text and "(1, 2)" in text
    with pytest.raises(GradcheckError, match=r"input 1 at index \(1, 2\)"):
        gradcheck(lambda y_, x_: wrong_square(x_) * y_.sum(), [y, x], raise_exception=True)


def test_a_function_that_is_not_finite_next_to_an_element_fails_there():
    """log at 5e-7 - eps is log of a negative number: no numerical derivative there."""
    x = Tensor([[1.0, 2.0], [5e-7, 3.0]], requires_grad=True)
    with np.errstate(invalid="ignore"):
        result = gradcheck(lambda t: t.log(), [x])
    assert not result and result.input_index == 0 and result.index == (1, 0)
    assert np.isnan(result.numeric) and result.n_checked == 4


def test_the_numerical_gradient_is_calculus_numerical_gradient():
    """Where the analytic gradient is off, gradcheck reports the numerical value that
    llmmath.calculus.numerical_gradient gives for the same function."""
    from llmmath.calculus import numerical_gradient

    x = Tensor(np.arange(12.0).reshape(3, 4) / 10, requires_grad=True)
    result = gradcheck(wrong_square, [x], seed=3)
    w = np.random.default_rng(3).standard_normal((3, 4))
    want = numerical_gradient(lambda a: float(np.sum(w * a ** 2)), x.data)
    assert result.numeric == want[1, 2]                 # the same differences, bit for bit
    assert result.numeric == pytest.approx(2 * x.data[1, 2] * w[1, 2], rel=1e-8)


def test_fixed_inputs_are_not_perturbed_and_arrays_are_checked():
    a = Tensor(np.array([1.0, 2.0]))                  # requires_grad=False: held fixed
    b = np.array([0.5, -0.5])                         # a plain array: checked
    result = gradcheck(lambda u, v: u * v.exp(), [a, b])
    assert result.passed and result.n_checked == 2 and result.input_index == 1


def test_runs_in_float64_even_for_float32_inputs():
    x = Tensor(np.array([0.3, 0.7], np.float32), requires_grad=True)
    assert gradcheck(lambda t: (t * t * t).tanh(), [x], atol=1e-8, rtol=1e-6)


def test_bad_arguments():
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(InvalidTypeError, match="return a Tensor"):
        gradcheck(lambda t: 1.0, [x])
    with pytest.raises(InvalidTypeError, match="inputs"):
        gradcheck(lambda t: t, x)
    with pytest.raises(InvalidValueError, match="no input requires"):
        gradcheck(lambda t: t, [Tensor([1.0])])
    with pytest.raises(InvalidValueError, match="eps"):
        gradcheck(lambda t: t, [x], eps=0.0)
    with pytest.raises(InvalidTypeError, match="callable"):
        gradcheck(3, [x])
