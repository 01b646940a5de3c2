"""The layers of a Llama-style block as nodes: SiLU, RMSNorm, RoPE and SwiGLU.

Each is one node of the graph with its backward derived by hand. The
formulas themselves live once, in the pillar modules, and both the NumPy
functions there and these nodes run them:

- :func:`silu` — :func:`llmmath.calculus.silu` (``silu_parts``, ``silu_slope``);
- :func:`rms_norm` — :func:`llmmath.calculus.rms_norm` (``rms_normalize``, ``rms_grad``);
- :func:`rope` — :func:`llmmath.attention.rope` (``rope_cos_sin``, ``rotate_pairs``);
  its backward is the inverse rotation, the same function with −sin;
- :func:`swiglu` — :func:`llmmath.calculus.swiglu` (``swiglu_forward``, ``swiglu_grads``).

:mod:`llmmath.nn` builds :class:`~llmmath.nn.Llama` from them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_float
from llmmath.attention import rope_cos_sin, rotate_pairs
from llmmath.autograd.tensor import Tensor, tensor_argument
from llmmath.calculus.activations import silu_parts, silu_slope
from llmmath.calculus.glu import as_rows, check_shapes, swiglu_forward, swiglu_grads
from llmmath.calculus.rmsnorm import rms_grad, rms_normalize
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["silu", "rms_norm", "rope", "swiglu"]

#: Stands in for a missing weight: a parent that needs no gradient.
_ABSENT = Tensor(0.0)


def silu(x: Any) -> Tensor:
    r"""SiLU (swish), x σ(x), as one node.

    Lesson: none (an engine op the lessons use through the models).

    .. math:: y = x\,\sigma(x), \qquad \frac{dy}{dx} = \sigma(x)\bigl(1 + x(1 - \sigma(x))\bigr)

    The sigmoid of the forward pass is kept for the backward.

    Parameters
    ----------
    x : Tensor or array_like

    Returns
    -------
    Tensor

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> x = Tensor([-1.0, 0.0, 1.0], requires_grad=True)
    >>> y = F.silu(x)
    >>> y.sum().backward()
    >>> print(y.data.round(4), x.grad.round(4))
    [-0.2689  0.      0.7311] [0.0723 0.5    0.9277]
    """
    op = "silu"
    x = tensor_argument(x, "x", op)
    X = x.data
    y, s = silu_parts(X)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (g * silu_slope(X, s),)

    return Tensor.from_op(np.asarray(y, X.dtype), (x,), backward, op)


def rms_norm(x: Any, weight: Any = None, eps: float = 1e-5) -> Tensor:
    r"""RMSNorm over the last axis, with its two-term backward.

    Lesson: ``rmsnorm_swiglu`` (RMSNorm and SwiGLU).

    .. math::
        r = \sqrt{\overline{x^2} + \epsilon}, \quad \hat x = x / r, \quad y = w \odot \hat x

    With d = g·w and the mean over the last axis:

    .. math::
        \frac{\partial L}{\partial x} = \frac{1}{r}\left(d - \hat x\,\overline{d \hat x}\right),
        \qquad \frac{\partial L}{\partial w} = \sum g \odot \hat x

    — LayerNorm's backward without the correction for the mean.

    Parameters
    ----------
    x : Tensor, shape (..., C)
    weight : Tensor of shape (C,), optional
        The gain w; ``None`` leaves it out (w = 1).
    eps : float
        >= 0, added to the mean square.

    Returns
    -------
    Tensor
        Same shape as ``x``.

    Raises
    ------
    ShapeError
        ``weight`` is not of shape (C,).

    References
    ----------
    B. Zhang, R. Sennrich, "Root Mean Square Layer Normalization", NeurIPS 2019.

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> y = F.rms_norm(Tensor([[3.0, 4.0]]), eps=0.0)
    >>> print(y.data.round(4), float((y.data ** 2).mean()))    # mean square 1
    [[0.8485 1.1314]] 1.0
    """
    op = "rms_norm"
    x = tensor_argument(x, "x", op)
    eps = check_float(eps, "eps", op, min_value=0.0)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ShapeError(f"{op}: argument 'x' must have a last axis with at least one entry; "
                         f"got shape {x.shape}.")
    c = x.shape[-1]
    w = None
    if weight is not None:
        w = tensor_argument(weight, "weight", op)
        if w.shape != (c,):
            raise ShapeError(f"{op}: argument 'weight' must have shape ({c},) to match x of "
                             f"shape {x.shape}; got {w.shape}.")
    X = x.data.reshape(-1, c)                                # (N, C): one row per position
    xhat, inv_rms = rms_normalize(X, eps, op)                # (N, C), (N, 1)
    wdata = None if w is None else w.data
    y = xhat * wdata if w is not None else xhat
    # the backward keeps arrays and flags, not the input tensors
    shape, need_x, need_w = x.shape, x.requires_grad, w is not None and w.requires_grad

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        dx, dw = rms_grad(g.reshape(-1, c), xhat, inv_rms, wdata, need_x=need_x,
                          need_weight=need_w)
        return (None if dx is None else dx.reshape(shape)), dw

    return Tensor.from_op(y.reshape(x.shape), (x, _ABSENT if w is None else w), backward, op)


def rope(x: Any, positions: Any, theta: float = 10000.0) -> Tensor:
    r"""Rotary position embedding as one node: pair (2i, 2i+1) of row m turned by m ω_i.

    Lesson: ``rope`` (Positions by rotation (RoPE)).

    .. math:: y = R(m)\,x, \qquad \omega_i = \theta^{-2i/d}

    with R(m) block-diagonal, one 2×2 rotation by m ω_i per pair. A rotation
    is orthogonal, so the backward is the inverse rotation of the upstream
    gradient: dL/dx = R(m)ᵀ g = R(−m) g (the forward with sin negated).
    The positions get no gradient. The NumPy version, with the algebra of
    why scores then depend only on offsets, is :func:`llmmath.attention.rope`.

    Parameters
    ----------
    x : Tensor, shape (..., d)
        d even; typically (B, nh, T, hs) queries or keys.
    positions : array_like of int
        Broadcastable to ``x.shape[:-1]`` (``arange(T)`` for the usual layout).
    theta : float
        The base of the frequencies, > 0.

    Returns
    -------
    Tensor, shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> from llmmath.autograd import Tensor, functional as F
    >>> x = Tensor(np.ones((3, 2)), requires_grad=True)      # T = 3 rows, one pair each
    >>> y = F.rope(x, np.arange(3))
    >>> print(np.linalg.norm(y.data, axis=-1).round(6))       # rotations keep lengths
    [1.414214 1.414214 1.414214]
    """
    op = "rope"
    x = tensor_argument(x, "x", op)
    if x.ndim == 0 or x.shape[-1] % 2:
        raise ShapeError(f"{op}: argument 'x' must have an even last axis (RoPE rotates pairs "
                         f"of coordinates); got shape {x.shape}.")
    pos = as_int_array(positions, "positions", op)
    try:
        fits = np.broadcast_shapes(pos.shape, x.shape[:-1]) == x.shape[:-1]
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: argument 'positions' of shape {pos.shape} must broadcast to "
                         f"x.shape[:-1] = {x.shape[:-1]} (one position per row of 'x').")
    theta = check_float(theta, "theta", op, min_value=0.0, min_inclusive=False)
    cos, sin = rope_cos_sin(pos, x.shape[-1], theta, x.dtype)   # (..., d/2) each

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (rotate_pairs(g, cos, -sin),)                    # R(m)ᵀ g

    return Tensor.from_op(rotate_pairs(x.data, cos, sin), (x,), backward, op)


def swiglu(x: Any, w1: Any, w2: Any, w3: Any) -> Tensor:
    r"""The SwiGLU feed-forward layer W2(SiLU(W1 x) ⊙ W3 x) as one node.

    Lesson: ``rmsnorm_swiglu`` (RMSNorm and SwiGLU).

    With a = x W1ᵀ, b = x W3ᵀ, u = SiLU(a), h = u ⊙ b, y = h W2ᵀ and g = dL/dy:

    .. math::
        dh = g W_2,\ dW_2 = g^\top h,\ db = dh \odot u,\ da = dh \odot b \odot \mathrm{SiLU}'(a),

        dx = da\,W_1 + db\,W_3,\ dW_1 = da^\top x,\ dW_3 = db^\top x

    a, b, σ(a) and u are kept from the forward pass.

    Parameters
    ----------
    x : Tensor, shape (..., C)
    w1, w3 : Tensor, shape (H, C)
        Gate and value projections, ``nn.Linear`` layout (out, in).
    w2 : Tensor, shape (D, H)
        Output projection.

    Returns
    -------
    Tensor, shape (..., D)

    Raises
    ------
    ShapeError
        Shapes that do not chain.
    InvalidValueError
        The output is not finite (an overflow, or inf/NaN already in the inputs).

    References
    ----------
    N. Shazeer, "GLU Variants Improve Transformer", arXiv:2002.05202, 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from llmmath.autograd import Tensor, functional as F
    >>> w1, w3, w2 = Tensor([[1.0, 0.0]]), Tensor([[0.0, 2.0]]), Tensor([[1.0]])
    >>> print(F.swiglu(Tensor([[1.0, 3.0]]), w1, w2, w3).data.round(6))   # SiLU(1) * 6
    [[4.386352]]
    """
    op = "swiglu"
    x, w1, w2, w3 = (tensor_argument(a, n, op) for a, n in
                     ((x, "x"), (w1, "w1"), (w2, "w2"), (w3, "w3")))
    check_shapes(x.shape, w1.shape, w2.shape, w3.shape, op)
    d = w2.shape[0]
    X = as_rows(x.data)                                             # (N, C)
    with np.errstate(over="ignore", invalid="ignore"):
        Y, saved = swiglu_forward(X, w1.data, w2.data, w3.data)     # (N, D)
    if not np.isfinite(Y).all():
        raise InvalidValueError(f"{op}: the output is not finite (an overflow, or inf/NaN in "
                                "'x', 'w1', 'w2' or 'w3'); rescale the inputs.")

    # the backward keeps arrays and flags, not the input tensors
    need = (x.requires_grad, w1.requires_grad, w2.requires_grad, w3.requires_grad)
    shape, W1, W2, W3 = x.shape, w1.data, w2.data, w3.data

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        dx, dw1, dw2, dw3 = swiglu_grads(as_rows(g), X, W1, W2, W3, saved, need)
        return (None if dx is None else dx.reshape(shape)), dw1, dw2, dw3

    return Tensor.from_op(Y.reshape(x.shape[:-1] + (d,)), (x, w1, w2, w3), backward, op)
