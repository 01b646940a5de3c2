"""Checking analytic gradients against central finite differences.

The differences are :func:`llmmath.calculus.numerical_gradient`'s (the
library's one copy of the formula); this module adds what a gradient check
needs around it: the random projection of a non-scalar output, the tolerance
test element by element, and a report that names the worst element.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._validation import (
    as_float_array,
    check_bool,
    check_callable,
    check_float,
    describe,
)
from llmmath.autograd._mode import enable_grad, no_grad
from llmmath.autograd.tensor import Tensor
from llmmath.calculus import numerical_gradient
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = ["gradcheck", "GradcheckResult", "GradcheckError"]


class GradcheckError(InvalidValueError):
    """The analytic and the numerical gradient disagree (``raise_exception=True``).

    Lesson: none (the engine's check against finite differences, for tests).
    """


@dataclass(frozen=True)
class GradcheckResult:
    """Outcome of :func:`gradcheck`; true when every element is within tolerance.

    Lesson: none (the engine's check against finite differences, for tests).

    Attributes
    ----------
    passed : bool
    input_index : int
        Which input holds the worst element.
    index : tuple of int
        Where in that input.
    analytic, numeric : float
        The two derivatives there.
    abs_error : float
        |analytic - numeric| there.
    allowed : float
        atol + rtol·|numeric| there.
    n_checked : int
        How many elements were perturbed.
    """

    passed: bool
    input_index: int
    index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    allowed: float
    n_checked: int

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (f"gradcheck {verdict} over {self.n_checked} elements; worst: input "
                f"{self.input_index} at index {self.index}: analytic {self.analytic:.10g}, "
                f"numeric {self.numeric:.10g}, |difference| {self.abs_error:.3g} "
                f"(allowed {self.allowed:.3g})")


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6,
              atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = False,
              seed: int = 0) -> GradcheckResult:
    r"""Compare backward() with central differences, in float64, element by element.

    Lesson: none (the engine's check against finite differences, for tests).

    For a non-scalar output y the check uses L = Σ w ⊙ y with fixed random
    weights w (a random row combination of the Jacobian), so one backward
    pass gives the analytic gradient. Each input element x_i is then
    perturbed (:func:`llmmath.calculus.numerical_gradient`):

    .. math::
        \frac{\partial L}{\partial x_i} \approx
        \frac{L(x + \varepsilon e_i) - L(x - \varepsilon e_i)}{2\varepsilon}

    and the element passes when \|analytic − numeric\| ≤ atol + rtol·\|numeric\|.

    Parameters
    ----------
    fn : callable
        ``fn(*tensors) -> Tensor``; must not modify its inputs.
    inputs : sequence of Tensor or array_like
        Converted to float64 copies. A Tensor with ``requires_grad=False`` is
        held fixed; every other input is checked.
    eps, atol, rtol : float
        Step and tolerances.
    raise_exception : bool
        Raise :class:`GradcheckError` instead of returning a failed result.
    seed : int
        Seed of the weights w.

    Returns
    -------
    GradcheckResult
        Truthy when passed; its text names the worst element (which input,
        which index, analytic and numeric values).

    Raises
    ------
    GradcheckError
        Only with ``raise_exception=True``.

    References
    ----------
    The same test as ``torch.autograd.gradcheck`` (its fast mode also
    projects the output on random vectors).

    Examples
    --------
    >>> from llmmath.autograd import Tensor, gradcheck
    >>> x = Tensor([0.3, -1.2, 2.0], requires_grad=True)
    >>> result = gradcheck(lambda x: (x * x).tanh(), [x])
    >>> result.passed
    True
    """
    op = "gradcheck"
    fn = check_callable(fn, "fn", op)
    eps = check_float(eps, "eps", op, min_value=0.0, min_inclusive=False)
    atol = check_float(atol, "atol", op, min_value=0.0)
    rtol = check_float(rtol, "rtol", op, min_value=0.0)
    check_bool(raise_exception, "raise_exception", op)
    if isinstance(inputs, (Tensor, np.ndarray, str, bytes)) or not isinstance(inputs, Sequence):
        raise InvalidTypeError(f"{op}: argument 'inputs' must be a list or tuple of tensors; "
                               f"got {describe(inputs)}.")
    xs = [Tensor(as_float_array(x.data if isinstance(x, Tensor) else x, f"inputs[{i}]", op,
                                dtype=np.float64),
                 requires_grad=not (isinstance(x, Tensor) and not x.requires_grad))
          for i, x in enumerate(inputs)]
    checked = [i for i, x in enumerate(xs) if x.requires_grad]
    if not checked:
        raise InvalidValueError(f"{op}: no input requires a gradient; nothing to check.")

    with enable_grad():
        out = _call(fn, xs)
    weights = (np.ones(out.shape) if out.data.size == 1
               else np.random.default_rng(seed).standard_normal(out.shape))
    if out.requires_grad:
        out.backward(gradient=weights)

    worst: tuple[float, int, tuple[int, ...], float, float, float, float] | None = None
    n = 0
    for i in checked:
        x = xs[i].data
        analytic = xs[i].grad if xs[i].grad is not None else np.zeros_like(x)
        numeric = _numerical(fn, xs, i, weights, eps)
        for idx in np.ndindex(x.shape):
            a, num = float(analytic[idx]), float(numeric[idx])
            err, allowed = abs(a - num), atol + rtol * abs(num)
            ratio = err / allowed if allowed > 0 else (0.0 if err == 0 else np.inf)
            if not np.isfinite(a) or not np.isfinite(num):
                ratio = np.inf
            n += 1
            if worst is None or ratio > worst[0]:
                worst = (ratio, i, tuple(int(j) for j in idx), a, num, err, allowed)
    if worst is None:  # every checked input is empty
        return GradcheckResult(True, checked[0], (), 0.0, 0.0, 0.0, atol, 0)
    ratio, i, idx, a, numeric, err, allowed = worst
    result = GradcheckResult(bool(ratio <= 1.0), i, idx, a, numeric, err, allowed, n)
    if raise_exception and not result.passed:
        raise GradcheckError(str(result))
    return result


def _numerical(fn: Callable[..., Tensor], xs: list[Tensor], i: int, weights: np.ndarray,
               eps: float) -> np.ndarray:
    """dL/d(inputs[i]) by :func:`llmmath.calculus.numerical_gradient`, with L = Σ w ⊙ fn(...).

    Where L is not finite next to an element, that element's entry is NaN,
    which the check reports as a failure at that element.
    """
    x = xs[i].data
    not_finite: list[int] = []

    def loss(xi: np.ndarray) -> float:
        args = list(xs)
        args[i] = Tensor(xi, requires_grad=True)
        with no_grad():
            value = float(np.sum(weights * _call(fn, args).data))
        if np.isfinite(value):
            return value
        not_finite.append(int(np.argmax(xi != x)))   # the element being perturbed
        return 0.0

    numeric = numerical_gradient(loss, x, eps)
    numeric.flat[not_finite] = np.nan
    return numeric


def _call(fn: Callable[..., Any], xs: list[Tensor]) -> Tensor:
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise InvalidTypeError(f"gradcheck: 'fn' must return a Tensor; got {describe(out)}.")
    return out
