"""Gradients of the softmax and of the cross-entropy on top of it.

The two derivations of the course's backpropagation section: the softmax
Jacobian ``diag(s) - s s^T`` (:func:`softmax_jacobian`) and the gradient of
``-sum_k y_k log softmax(z)_k`` with respect to the logits, ``softmax(z) - y``
(:func:`softmax_cross_entropy_grad`), where the Jacobian's terms cancel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import (
    as_float_array,
    as_int_array,
    check_allocation,
    check_distribution,
    describe,
    float_dtype,
)
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.prob import softmax

__all__ = ["softmax_jacobian", "softmax_cross_entropy_grad"]


def _probs(z: Any, name: str, op: str) -> np.ndarray:
    z = as_float_array(z, name, op, min_ndim=1, allow_inf="neg")
    if z.shape[-1] == 0:
        raise ShapeError(f"{op}: argument '{name}' has no classes on its last axis (shape {z.shape}).")
    dead = np.isneginf(z).all(axis=-1)
    if dead.any():
        at = tuple(int(i) for i in np.unravel_index(int(np.argmax(dead)), dead.shape))
        raise InvalidValueError(f"{op}: argument '{name}' is -inf everywhere in row {at}; expected a finite entry.")
    return softmax(z, axis=-1)


def softmax_jacobian(z: Any) -> np.ndarray:
    """Jacobian of the softmax over the last axis: ``d s_i / d z_j``.

    Lesson: ``softmax_jacobian`` (The softmax Jacobian).

    .. math:: \\frac{\\partial s_i}{\\partial z_j} = s_i (\\delta_{ij} - s_j),
              \\qquad J = \\mathrm{diag}(s) - s s^T

    ``J`` is symmetric, its rows sum to 0 (adding a constant to every logit
    changes nothing), and it is positive semi-definite.

    Parameters
    ----------
    z : array_like, shape (..., K)
        Logits: finite, or ``-inf`` for a masked class (its row and column are 0).

    Returns
    -------
    ndarray, shape (..., K, K)

    Raises
    ------
    InvalidValueError
        NaN, ``+inf``, or a row that is ``-inf`` everywhere.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT Press,
       2016, section 6.2.2.3.

    Examples
    --------
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    s = _probs(z, "z", "softmax_jacobian")  # (..., K)
    check_allocation(s.shape + s.shape[-1:], "z", "softmax_jacobian", dtype=s.dtype,
                     what="Jacobians")
    eye = np.eye(s.shape[-1], dtype=s.dtype)
    return s[..., :, None] * (eye - s[..., None, :])  # (..., K, K)


def softmax_cross_entropy_grad(logits: Any, target: Any) -> np.ndarray:
    """Gradient of the cross-entropy of ``softmax(logits)`` with respect to the logits.

    Lessons: ``why_math`` (Why the mathematics matters); ``cross_entropy_grad`` (The cross-entropy +
    softmax gradient).

    .. math:: L = -\\sum_k y_k \\log \\mathrm{softmax}(z)_k, \\qquad
              \\frac{\\partial L}{\\partial z} = \\mathrm{softmax}(z) - y

    The gradient is of the loss summed over every leading (batch) position;
    divide by the number of positions for a mean loss, as PyTorch's
    ``cross_entropy`` with the default ``reduction="mean"`` does.

    How ``target`` is read depends on its dtype:

    * integer dtype: class indices, shape ``logits.shape[:-1]``, each in
      ``[0, K)``; ``y`` is their one-hot encoding;
    * floating dtype: a distribution over the ``K`` classes (one-hot or soft
      labels), the same shape as ``logits``, rows summing to 1.

    A boolean target is refused as ambiguous (cast it to one of the above).

    Parameters
    ----------
    logits : array_like, shape (..., K)
        Finite, or ``-inf`` for a masked class.
    target : array_like
        See above.

    Returns
    -------
    ndarray, shape (..., K)
        Each row sums to 0.

    Raises
    ------
    ShapeError, InvalidValueError, InvalidTypeError
        A target of the wrong shape, out-of-range indices, rows not summing to 1.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*, Springer,
       2006, eq. (4.109).

    Examples
    --------
    >>> softmax_cross_entropy_grad([0.0, 0.0, 0.0, 0.0], 2)
    array([ 0.25,  0.25, -0.75,  0.25])
    >>> softmax_cross_entropy_grad([[0.0, 0.0]], [[0.5, 0.5]])
    array([[0., 0.]])
    """
    op = "softmax_cross_entropy_grad"
    p = _probs(logits, "logits", op)  # (..., K)
    K = p.shape[-1]
    if isinstance(target, (str, bytes)) or target is None:
        raise InvalidTypeError(f"{op}: argument 'target' must be class indices or probabilities; got {describe(target)}.")
    try:
        t = np.asarray(target)
    except (ValueError, TypeError):
        raise InvalidValueError(f"{op}: argument 'target' could not be read as a rectangular array.") from None
    if t.dtype.kind == "b":
        raise InvalidTypeError(
            f"{op}: argument 'target' is boolean, which is ambiguous; pass integer class indices "
            "or a float one-hot/probability array."
        )
    if t.dtype.kind in "iu" or (t.size == 0 and t.shape == p.shape[:-1]):
        idx = as_int_array(t, "target", op, min_value=0, max_value=K - 1)
        if idx.shape != p.shape[:-1]:
            raise ShapeError(
                f"{op}: integer 'target' holds class indices and must have shape logits.shape[:-1] "
                f"= {p.shape[:-1]}; got {idx.shape}."
            )
        grad, at = p.copy(), idx[..., None]
        np.put_along_axis(grad, at, np.take_along_axis(p, at, axis=-1) - 1, axis=-1)  # p - one_hot
        return grad
    y = check_distribution(t, "target", op)
    if y.shape != p.shape:
        raise ShapeError(
            f"{op}: float 'target' is a distribution over the classes and must have the shape of "
            f"'logits' {p.shape}; got {y.shape}. (Integer dtype means class indices.)"
        )
    return (p - y).astype(float_dtype(p, y), copy=False)
