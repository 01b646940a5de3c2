"""Derivatives for language models: finite differences and analytic gradients.

Two ways to get a gradient meet here. Numerical derivatives
(:mod:`llmmath.calculus.derivatives`): :func:`numerical_gradient` and
:func:`jacobian` estimate a gradient from function values alone (central
differences), :func:`difference_quotient` shows the secant before the limit.
The other modules write out the derivatives the course derives by hand, each
tested against both finite differences and PyTorch:

* the softmax and cross-entropy (:mod:`llmmath.calculus.cross_entropy`):
  :func:`softmax_jacobian`, :func:`softmax_cross_entropy_grad`;
* activations (:mod:`llmmath.calculus.activations`): :func:`relu_grad`,
  :func:`sigmoid_grad`, :func:`tanh_grad`, :func:`gelu` and :func:`gelu_grad`
  (exact GELU by default; the GPT's layer uses the tanh form, see :func:`gelu`);
* LayerNorm (:mod:`llmmath.calculus.layernorm`): :func:`layer_norm` and
  :func:`layer_norm_backward`;
* the parts of a Llama block: :func:`silu` and :func:`silu_grad`
  (:mod:`~llmmath.calculus.activations`), RMSNorm (:mod:`llmmath.calculus.rmsnorm`:
  :func:`rms_norm`, :func:`rms_norm_backward`) and the SwiGLU feed-forward layer
  (:mod:`llmmath.calculus.glu`: :func:`swiglu`, :func:`swiglu_backward`).

Also here, because GELU needs it and NumPy lacks it: a vectorised error
function :func:`erf` (and :func:`erfc`), accurate to about 1e-15 relative
(:mod:`llmmath.calculus.erf`). (``llmmath.calculus.erf`` is the function; the
module of that name is ``sys.modules["llmmath.calculus.erf"]``.)

>>> import numpy as np
>>> from llmmath import calculus
>>> x = np.array([0.3, -1.2])
>>> bool(np.allclose(calculus.numerical_gradient(lambda v: calculus.gelu(v).sum(), x),
...                  calculus.gelu_grad(x)))
True
"""

# ruff: noqa: F401  (every import below is a re-export; __all__ is built from the modules' lists)
from __future__ import annotations

# The modules first, under names that the functions re-exported below cannot
# shadow (``erf`` is both a module and, after the last import, a function).
from llmmath.calculus import activations as _activations
from llmmath.calculus import cross_entropy as _cross_entropy
from llmmath.calculus import derivatives as _derivatives
from llmmath.calculus import erf as _erf
from llmmath.calculus import glu as _glu
from llmmath.calculus import layernorm as _layernorm
from llmmath.calculus import rmsnorm as _rmsnorm
from llmmath.calculus.activations import (
    gelu,
    gelu_grad,
    relu_grad,
    sigmoid_grad,
    silu,
    silu_grad,
    tanh_grad,
)
from llmmath.calculus.cross_entropy import softmax_cross_entropy_grad, softmax_jacobian
from llmmath.calculus.derivatives import difference_quotient, jacobian, numerical_gradient

# ndtr_pdf (Phi and phi together, for GELU) is importable from here but not in __all__.
from llmmath.calculus.erf import erf, erfc, ndtr_pdf
from llmmath.calculus.glu import swiglu, swiglu_backward
from llmmath.calculus.layernorm import layer_norm, layer_norm_backward
from llmmath.calculus.rmsnorm import rms_norm, rms_norm_backward

__all__ = [
    *_derivatives.__all__,
    *_cross_entropy.__all__,
    *_activations.__all__,
    *_erf.__all__,
    *_layernorm.__all__,
    *_rmsnorm.__all__,
    *_glu.__all__,
]
