"""Gated linear units: SwiGLU, the feed-forward layer of Llama, and its backward pass by hand.

:func:`swiglu` computes W2 (SiLU(W1 x) ⊙ W3 x); :func:`swiglu_backward` gives
the gradients of the input and of the three matrices. The engine's fused
operation, :func:`llmmath.autograd.functional.swiglu`, runs the same two
helpers (:func:`swiglu_forward` keeps what the backward needs,
:func:`swiglu_grads` uses it), so the formula is written once.

Weights follow PyTorch's ``nn.Linear`` layout (out, in): ``w1`` and ``w3`` are
(H, C), ``w2`` is (D, H), and a layer computes ``x @ w.T``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import as_float_array, float_dtype
from llmmath.calculus.activations import silu_parts, silu_slope
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["swiglu", "swiglu_backward"]


def swiglu_forward(X: np.ndarray, w1: np.ndarray, w2: np.ndarray, w3: np.ndarray
                   ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """``(Y, saved)`` for rows ``X`` (N, C), unchecked; ``saved`` feeds :func:`swiglu_grads`.

    a = X W1ᵀ (the gate's input), b = X W3ᵀ (the value), u = SiLU(a),
    Y = (u ⊙ b) W2ᵀ; ``saved`` is (a, b, sigmoid(a), u).
    """
    a = X @ w1.T                                   # (N, H) gate pre-activation
    b = X @ w3.T                                   # (N, H) value
    u, s = silu_parts(a)                           # SiLU(a), sigmoid(a)
    Y = (u * b) @ w2.T                             # (N, D)
    return Y, (a, b, s, u)


def swiglu_grads(G: np.ndarray, X: np.ndarray, w1: np.ndarray, w2: np.ndarray, w3: np.ndarray,
                 saved: tuple[np.ndarray, ...], need: tuple[bool, bool, bool, bool]
                 ) -> tuple[np.ndarray | None, ...]:
    """``(dX, dW1, dW2, dW3)`` from ``G = dL/dY`` (N, D), unchecked; ``None`` where not ``need``.

    With h = u ⊙ b: dh = G W2, dW2 = Gᵀ h; db = dh ⊙ u, da = dh ⊙ b ⊙ SiLU'(a);
    dX = da W1 + db W3, dW1 = daᵀ X, dW3 = dbᵀ X.
    """
    a, b, s, u = saved
    need_x, need_w1, need_w2, need_w3 = need
    dw2 = G.T @ (u * b) if need_w2 else None       # (D, H)
    if not (need_x or need_w1 or need_w3):
        return None, None, dw2, None
    dh = G @ w2                                    # (N, H)
    db = dh * u                                    # through the value
    da = dh                                        # through the gate (dh is not needed again)
    da *= b
    da *= silu_slope(a, s)
    dx = da @ w1 + db @ w3 if need_x else None     # (N, C)
    dw1 = da.T @ X if need_w1 else None            # (H, C)
    dw3 = db.T @ X if need_w3 else None            # (H, C)
    return dx, dw1, dw2, dw3


def as_rows(a: np.ndarray) -> np.ndarray:
    """``a`` (..., n) as a matrix (N, n), N the product of the leading axes (0 allowed)."""
    return a.reshape(int(np.prod(a.shape[:-1], dtype=np.int64)), a.shape[-1])


def _inputs(x: Any, w1: Any, w2: Any, w3: Any, op: str) -> tuple[np.ndarray, ...]:
    x = as_float_array(x, "x", op, min_ndim=1)
    w1 = as_float_array(w1, "w1", op, ndim=2)
    w2 = as_float_array(w2, "w2", op, ndim=2)
    w3 = as_float_array(w3, "w3", op, ndim=2)
    check_shapes(x.shape, w1.shape, w2.shape, w3.shape, op)
    dtype = float_dtype(x, w1, w2, w3)
    return tuple(a.astype(dtype, copy=False) for a in (x, w1, w2, w3))


def check_shapes(x: tuple[int, ...], w1: tuple[int, ...], w2: tuple[int, ...],
                 w3: tuple[int, ...], op: str) -> None:
    """Refuse shapes that do not chain: x (..., C), w1 and w3 (H, C), w2 (D, H)."""
    c = x[-1] if x else None
    if len(w1) != 2 or w1[1] != c:
        raise ShapeError(f"{op}: argument 'w1' must have shape (H, C) with C = {c}, the last "
                         f"axis of 'x' {x}; got {w1}.")
    if w3 != w1:
        raise ShapeError(f"{op}: argument 'w3' must have the shape of 'w1' {w1}; got {w3}.")
    if len(w2) != 2 or w2[1] != w1[0]:
        raise ShapeError(f"{op}: argument 'w2' must have shape (D, H) with H = {w1[0]} (the rows "
                         f"of 'w1'); got {w2}.")


def swiglu(x: Any, w1: Any, w2: Any, w3: Any) -> np.ndarray:
    """The SwiGLU feed-forward layer: W2 (SiLU(W1 x) ⊙ W3 x), applied to the last axis.

    Lesson: ``rmsnorm_swiglu`` (RMSNorm and SwiGLU).

    .. math:: y = W_2\\big(\\mathrm{SiLU}(W_1 x) \\odot W_3 x\\big)

    A gated linear unit: W3 x carries the value, SiLU(W1 x) decides how much
    of each of the H hidden units passes. Three matrices instead of the
    two of GPT-2's MLP, so Llama shrinks the hidden width to about
    (2/3) 4C to keep the parameter count.

    Parameters
    ----------
    x : array_like, shape (..., C)
    w1, w3 : array_like, shape (H, C)
        Gate and value projections (``nn.Linear`` layout: out, in).
    w2 : array_like, shape (D, H)
        Output projection.

    Returns
    -------
    ndarray, shape (..., D)

    Raises
    ------
    ShapeError
        Shapes that do not chain.
    InvalidValueError
        The result overflows the float range.

    References
    ----------
    .. [1] N. Shazeer, "GLU Variants Improve Transformer", arXiv:2002.05202, 2020.
    .. [2] H. Touvron et al., "LLaMA: Open and Efficient Foundation Language
       Models", arXiv:2302.13971, 2023.

    Examples
    --------
    >>> w1, w3, w2 = [[1.0, 0.0]], [[0.0, 2.0]], [[1.0]]     # H = 1, C = 2, D = 1
    >>> y = swiglu([[1.0, 3.0]], w1, w2, w3)                 # SiLU(1) * 6
    >>> print(y.round(6), bool(np.isclose(y[0, 0], 6.0 / (1.0 + np.exp(-1.0)))))
    [[4.386352]] True
    """
    op = "swiglu"
    x, w1, w2, w3 = _inputs(x, w1, w2, w3, op)
    with np.errstate(over="ignore", invalid="ignore"):
        Y, _ = swiglu_forward(as_rows(x), w1, w2, w3)
    if not np.isfinite(Y).all():
        raise InvalidValueError(f"{op}: the output overflows the float range; rescale 'x' or "
                                "the weights 'w1', 'w2', 'w3'.")
    return Y.reshape(x.shape[:-1] + (w2.shape[0],))


def swiglu_backward(x: Any, w1: Any, w2: Any, w3: Any, dy: Any
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`swiglu`: ``(dx, dw1, dw2, dw3)`` from ``dy = dL/dy``.

    Lesson: ``rmsnorm_swiglu`` (RMSNorm and SwiGLU).

    With a = W1 x, b = W3 x, u = SiLU(a), h = u ⊙ b and dh = W2ᵀ dy:

    .. math:: \\frac{\\partial L}{\\partial b} = dh \\odot u, \\qquad
              \\frac{\\partial L}{\\partial a} = dh \\odot b \\odot \\mathrm{SiLU}'(a)

    and then the rules of a linear layer: dx = W1ᵀ da + W3ᵀ db,
    dW1 = da xᵀ, dW3 = db xᵀ, dW2 = dy hᵀ (each summed over rows). The
    product rule splits dh between the two branches; SiLU' is
    :func:`~llmmath.calculus.silu_grad`.

    Parameters
    ----------
    x, w1, w2, w3
        As for :func:`swiglu`.
    dy : array_like, shape (..., D)

    Returns
    -------
    (dx, dw1, dw2, dw3) : ndarrays shaped like x, w1, w2, w3

    Examples
    --------
    >>> from llmmath.calculus import numerical_gradient
    >>> rng = np.random.default_rng(0)
    >>> x, w1, w3, w2 = (rng.standard_normal(s) for s in [(2, 3), (4, 3), (4, 3), (3, 4)])
    >>> dx, dw1, dw2, dw3 = swiglu_backward(x, w1, w2, w3, np.ones((2, 3)))
    >>> num = numerical_gradient(lambda v: swiglu(x, v, w2, w3).sum(), w1)
    >>> bool(np.allclose(dw1, num, atol=1e-8))
    True
    """
    op = "swiglu_backward"
    x, w1, w2, w3 = _inputs(x, w1, w2, w3, op)
    dy = as_float_array(dy, "dy", op)
    want = x.shape[:-1] + (w2.shape[0],)
    if dy.shape != want:
        raise ShapeError(f"{op}: argument 'dy' must have the output's shape {want}; got "
                         f"{dy.shape}.")
    dtype = float_dtype(x, dy)
    x, w1, w2, w3, dy = (a.astype(dtype, copy=False) for a in (x, w1, w2, w3, dy))
    X = as_rows(x)
    with np.errstate(over="ignore", invalid="ignore"):
        _, saved = swiglu_forward(X, w1, w2, w3)
        grads = swiglu_grads(as_rows(dy), X, w1, w2, w3, saved,
                             (True, True, True, True))
    for name, arr in zip(("dx", "dw1", "dw2", "dw3"), grads, strict=True):
        if not np.isfinite(arr).all():
            raise InvalidValueError(f"{op}: {name} overflows the float range; rescale 'x', "
                                    "'dy' or the weights.")
    dx, dw1, dw2, dw3 = grads
    return dx.reshape(x.shape), dw1, dw2, dw3
