"""Activation functions' derivatives, and GELU and SiLU themselves.

:func:`relu_grad`, :func:`sigmoid_grad` and :func:`tanh_grad` in forms that
keep full accuracy in the tails; :func:`gelu` and :func:`gelu_grad`, whose
exact form ``x Phi(x)`` uses this package's error function
(:mod:`llmmath.calculus.erf`) and whose tanh form is GPT-2's; :func:`silu`
and :func:`silu_grad`, the gate of Llama's SwiGLU feed-forward layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import as_float_array, check_choice
from llmmath.calculus.erf import ndtr_pdf
from llmmath.prob import sigmoid

__all__ = ["relu_grad", "sigmoid_grad", "tanh_grad", "gelu", "gelu_grad", "silu", "silu_grad"]


def relu_grad(x: Any) -> np.ndarray:
    """Derivative of ReLU: 1 where ``x > 0``, else 0 (0 at ``x = 0``, as PyTorch).

    Lesson: ``activations`` (ReLU, sigmoid and vanishing gradients).

    .. math:: \\frac{d}{dx}\\max(0, x) = [x > 0]

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> relu_grad([-1.0, 0.0, 2.0])
    array([0., 0., 1.])
    """
    x = as_float_array(x, "x", "relu_grad", allow_inf=True)
    return (x > 0).astype(x.dtype)


def sigmoid_grad(x: Any) -> np.ndarray:
    """Derivative of the logistic sigmoid, at most 1/4 (at 0).

    Lesson: ``activations`` (ReLU, sigmoid and vanishing gradients).

    .. math:: \\sigma'(x) = \\sigma(x)\\,(1 - \\sigma(x)) = \\frac{e^{-|x|}}{(1 + e^{-|x|})^2}

    The right-hand form has no cancellation and no overflow for any ``x``.

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed (derivative 0).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> sigmoid_grad([0.0, 1e4])
    array([0.25, 0.  ])
    """
    x = as_float_array(x, "x", "sigmoid_grad", allow_inf=True)
    e = np.exp(-np.abs(x))
    return e / ((1 + e) * (1 + e))


def tanh_grad(x: Any) -> np.ndarray:
    """Derivative of tanh.

    Lesson: ``activations`` (ReLU, sigmoid and vanishing gradients).

    .. math:: \\tanh'(x) = 1 - \\tanh^2(x) = \\frac{4 e^{-2|x|}}{(1 + e^{-2|x|})^2}

    The right-hand form keeps full relative accuracy in the tails, where
    ``1 - tanh(x)**2`` rounds to 0 long before the true value does.

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed (derivative 0).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> print(tanh_grad([0.0, 20.0]))
    [1.00000000e+00 1.69934170e-17]
    """
    x = as_float_array(x, "x", "tanh_grad", allow_inf=True)
    e = np.exp(-2 * np.minimum(np.abs(x), 400))  # exp(-800) is already 0
    return 4 * e / ((1 + e) * (1 + e))


_TANH_C = np.sqrt(2 / np.pi)  # constants of the tanh approximation of GELU
_TANH_K = 0.044715


def _gelu_parts(x: Any, approximate: Any, op: str) -> tuple[np.ndarray, np.ndarray, str]:
    x = as_float_array(x, "x", op, allow_inf=True)
    approximate = check_choice(approximate, "approximate", op, ("none", "tanh"))
    # Beyond |x| = 40 both forms equal their limits (x or 0; slope 1 or 0) in float64.
    return x, np.clip(x.astype(np.float64), -40.0, 40.0), approximate


def gelu(x: Any, approximate: str = "none") -> np.ndarray:
    """Gaussian error linear unit, exact by default or with the tanh approximation.

    Lessons: ``why_math`` (Why the mathematics matters); ``activations`` (ReLU, sigmoid and
    vanishing gradients).

    The default here is the exact form (``approximate="none"``, PyTorch's
    default too), computed with this package's error function; the layer of
    the GPT, :func:`llmmath.autograd.functional.gelu`, defaults to
    ``approximate="tanh"`` instead, the variant GPT-2 was trained with. The
    two differ by less than 5e-4 (most near ``|x| = 2.7``; see the last
    example), so pass ``approximate`` explicitly when comparing them.

    .. math:: \\mathrm{GELU}(x) = x\\,\\Phi(x) = \\frac{x}{2}\\left(1 + \\mathrm{erf}(x/\\sqrt{2})\\right)

    ``approximate="tanh"`` gives ``x * sigmoid(2u)`` with
    ``u = sqrt(2/pi) (x + 0.044715 x^3)``, i.e. ``x/2 (1 + tanh u)`` (GPT-2's
    choice); the two are PyTorch's ``gelu(approximate=...)`` options.

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed.
    approximate : {"none", "tanh"}

    Returns
    -------
    ndarray

    References
    ----------
    .. [1] D. Hendrycks and K. Gimpel, "Gaussian Error Linear Units (GELUs)",
       arXiv:1606.08415, 2016.

    Examples
    --------
    >>> print(gelu([-1.0, 0.0, 1.0]).round(6))
    [-0.158655  0.        0.841345]
    >>> x = np.linspace(-10.0, 10.0, 200_001)
    >>> gap = np.abs(gelu(x) - gelu(x, approximate="tanh"))
    >>> print(f"{gap.max():.2g} at |x| = {abs(x[gap.argmax()]):.1f}")
    0.00047 at |x| = 2.7
    """
    x, xc, approximate = _gelu_parts(x, approximate, "gelu")
    if approximate == "tanh":
        gate = sigmoid(2 * _TANH_C * (xc + _TANH_K * xc * xc * xc))
    else:
        gate = ndtr_pdf(xc)[0]
    return (np.where(x < -40, 0.0, x) * gate).astype(x.dtype, copy=False)


def gelu_grad(x: Any, approximate: str = "none") -> np.ndarray:
    """Derivative of :func:`gelu`.

    Lesson: ``activations`` (ReLU, sigmoid and vanishing gradients).

    .. math:: \\mathrm{GELU}'(x) = \\Phi(x) + x\\,\\varphi(x), \\qquad
              \\varphi(x) = e^{-x^2/2} / \\sqrt{2\\pi}

    With ``approximate="tanh"``, ``d/dx [x s(2u)] = s(2u) + 2 x s(2u) s(-2u) u'(x)``
    where ``s`` is the sigmoid and ``u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)``.
    Unlike ReLU's, this slope dips below 0: its minimum is at ``x = -sqrt(2)``
    (where ``d/dx [Phi + x phi] = phi (2 - x^2)`` vanishes), about -0.129. (The
    function itself bottoms out near -0.17 at ``x = -0.75``.)

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed.
    approximate : {"none", "tanh"}

    Returns
    -------
    ndarray

    Examples
    --------
    >>> print(gelu_grad([-1.0, 0.0, 1.0]).round(6))
    [-0.083315  0.5       1.083315]
    """
    x, xc, approximate = _gelu_parts(x, approximate, "gelu_grad")
    if approximate == "tanh":
        t = 2 * _TANH_C * (xc + _TANH_K * xc * xc * xc)
        s, s_neg = sigmoid(t), sigmoid(-t)
        du = _TANH_C * (1 + 3 * _TANH_K * xc * xc)
        grad = s + 2 * xc * s * s_neg * du
    else:
        cdf, pdf = ndtr_pdf(xc)
        grad = cdf + xc * pdf
    return grad.astype(x.dtype, copy=False)


# Beyond |x| = 1000, silu and its slope equal their limits in float32 and float64:
# sigmoid(-1000) is 0 and sigmoid(1000) is 1 exactly, and x e^{-|x|} is below the
# smallest subnormal. Clipping there keeps -inf * 0 and inf * 0 out of the formulas.
_SILU_CLIP = 1000.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function without argument checks (x finite or +-inf), dtype kept."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def silu_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(silu(x), sigmoid(x))`` of a float array, unchecked: the one copy of SiLU's formula.

    :func:`silu`, :func:`~llmmath.calculus.swiglu` and the engine's
    :func:`llmmath.autograd.functional.silu` all call it; the sigmoid comes
    back too because the slope (:func:`silu_slope`) needs it.
    """
    s = _sigmoid(x)
    return np.maximum(x, -_SILU_CLIP) * s, s


def silu_slope(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    """d silu / dx from ``x`` and ``s = sigmoid(x)``, unchecked: s (1 + x (1 - s))."""
    xc = np.clip(x, -_SILU_CLIP, _SILU_CLIP)
    return s * (1.0 + xc * (1.0 - s))


def silu(x: Any) -> np.ndarray:
    """Sigmoid linear unit (also called swish): x times its own sigmoid.

    Lesson: ``rmsnorm_swiglu`` (RMSNorm and SwiGLU).

    .. math:: \\mathrm{SiLU}(x) = x\\,\\sigma(x) = \\frac{x}{1 + e^{-x}}

    Smooth, close to ReLU far from 0 (``silu(x) -> x`` as x -> inf, ``-> 0`` as
    x -> -inf), with a dip to about -0.278 near x = -1.278. Llama's
    feed-forward layer gates with it (:func:`~llmmath.calculus.swiglu`);
    ``torch.nn.functional.silu`` is the same function.

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed (``silu(-inf) = 0``).

    Returns
    -------
    ndarray

    References
    ----------
    .. [1] S. Elfwing, E. Uchibe and K. Doya, "Sigmoid-Weighted Linear Units for
       Neural Network Function Approximation in Reinforcement Learning",
       Neural Networks 107, 2018.
    .. [2] P. Ramachandran, B. Zoph and Q. V. Le, "Searching for Activation
       Functions", arXiv:1710.05941, 2017 (swish).

    Examples
    --------
    >>> print(silu([-1.0, 0.0, 1.0]).round(6))
    [-0.268941  0.        0.731059]
    >>> bool(silu(2.0) == 2.0 / (1.0 + np.exp(-2.0)))
    True
    """
    x = as_float_array(x, "x", "silu", allow_inf=True)
    return silu_parts(x)[0]


def silu_grad(x: Any) -> np.ndarray:
    """Derivative of :func:`silu`.

    Lesson: ``rmsnorm_swiglu`` (RMSNorm and SwiGLU).

    .. math:: \\frac{d}{dx}\\,x\\sigma(x) = \\sigma(x) + x\\,\\sigma(x)(1 - \\sigma(x))
              = \\sigma(x)\\,\\bigl(1 + x\\,(1 - \\sigma(x))\\bigr)

    (the product rule with sigma' = sigma (1 - sigma)). It is 1/2 at 0, tends
    to 1 on the right and to 0 on the left, overshoots 1 (about 1.0998 near
    x = 2.4) and dips below 0 (about -0.0998 near x = -2.4): unlike ReLU's,
    the slope is never exactly 0 for a finite input.

    Parameters
    ----------
    x : array_like
        Real numbers; ``+-inf`` allowed (slopes 1 and 0).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> print(silu_grad([-1.0, 0.0, 1.0]).round(6))
    [0.072329 0.5      0.927671]
    """
    x = as_float_array(x, "x", "silu_grad", allow_inf=True)
    return silu_slope(x, _sigmoid(x))
