"""Softmax, log-softmax and cross-entropy: distributions over the last axis, each one node.

Built from elementary tensor operations, softmax would be six nodes (max,
subtract, exp, sum, divide…); here each function is one node whose backward
is the formula derived on paper: ``s * (g - sum(g * s))`` for softmax,
``g - softmax * sum(g)`` for log-softmax, ``p - y`` for cross-entropy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_axis, check_choice, check_int
from llmmath.autograd.functional._sums import sum_last
from llmmath.autograd.tensor import Tensor, tensor_argument
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["softmax", "log_softmax", "cross_entropy"]


def _shifted(x: np.ndarray, ax: int, op: str, name: str) -> np.ndarray:
    """x - max(x) along ``ax`` (the log-sum-exp shift), refusing slices with no finite max."""
    if x.shape[ax] == 0:
        raise InvalidValueError(f"{op}: argument '{name}' has an empty axis {ax} (shape "
                                f"{x.shape}); a distribution needs at least one entry.")
    m = x.max(axis=ax, keepdims=True)
    if not np.isfinite(m).all():
        raise InvalidValueError(
            f"{op}: argument '{name}' has a slice along axis {ax} with maximum "
            f"{float(m[~np.isfinite(m)][0])} "
            "(every entry -inf, or a +inf/NaN entry); expected finite logits or -inf masks "
            "with at least one finite entry per slice."
        )
    return x - m


def softmax(x: Any, axis: int = -1) -> Tensor:
    r"""Softmax along ``axis`` with its Jacobian-vector product as backward.

    Lesson: none (an engine op the lessons use through the models).

    .. math::
        s_i = e^{x_i - m} / \sum_j e^{x_j - m}, \quad m = \max_j x_j

    Backward, from ds_i/dx_j = s_i (\delta_{ij} - s_j):
    dL/dx = s * (g - sum(g * s)).

    Parameters
    ----------
    x : Tensor or array_like
        Logits; -inf entries (masked) get probability 0.
    axis : int
        The axis that sums to one.

    Returns
    -------
    Tensor
        Same shape and dtype as ``x``.

    Raises
    ------
    InvalidValueError
        A slice is entirely -inf or holds +inf/NaN.

    See Also
    --------
    log_softmax, cross_entropy

    References
    ----------
    J. S. Bridle, "Probabilistic interpretation of feedforward classification
    network outputs", 1990 (the name and the function).

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> s = F.softmax(x)
    >>> print(s.data.round(4))
    [0.09   0.2447 0.6652]
    >>> s[2].backward()        # ds_2/dx_j = s_2 (delta_2j - s_j)
    >>> print(x.grad.round(4))
    [-0.0599 -0.1628  0.2227]
    """
    x = tensor_argument(x, "x", "softmax", allow_inf="neg")
    ax = check_axis(axis, x.ndim, "axis", "softmax")
    last = ax == x.ndim - 1
    s = _shifted(x.data, ax, "softmax", "x")
    np.exp(s, out=s)
    s /= sum_last(s) if last else s.sum(axis=ax, keepdims=True)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        gs = g * s
        gs -= s * (sum_last(gs) if last else gs.sum(axis=ax, keepdims=True))
        return (gs,)

    return Tensor.from_op(s, (x,), backward, "softmax")


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    r"""Logarithm of the softmax, computed stably (log-sum-exp shift).

    Lesson: none (an engine op the lessons use through the models).

    .. math::
        \log s_i = (x_i - m) - \log \sum_j e^{x_j - m}

    Backward: dL/dx = g - softmax(x) * sum(g).

    Parameters
    ----------
    x : Tensor or array_like
    axis : int

    Returns
    -------
    Tensor
        log-probabilities; exp of them sums to 1 along ``axis``.

    Raises
    ------
    InvalidValueError
        A slice is entirely -inf or holds +inf/NaN.

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> print(F.log_softmax(Tensor([0.0, 0.0])).data.round(4))   # log(1/2)
    [-0.6931 -0.6931]
    """
    x = tensor_argument(x, "x", "log_softmax", allow_inf="neg")
    ax = check_axis(axis, x.ndim, "axis", "log_softmax")
    last = ax == x.ndim - 1
    z = _shifted(x.data, ax, "log_softmax", "x")
    e = np.exp(z)
    z -= np.log(sum_last(e) if last else e.sum(axis=ax, keepdims=True))

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (g - np.exp(z) * (sum_last(g) if last else g.sum(axis=ax, keepdims=True)),)

    return Tensor.from_op(z, (x,), backward, "log_softmax")


def cross_entropy(logits: Any, targets: Any, ignore_index: int | None = None,
                  reduction: str = "mean") -> Tensor:
    r"""Softmax + negative log-likelihood of integer targets, fused; backward is p - y.

    Lesson: ``cross_entropy_grad`` (The cross-entropy + softmax gradient).

    .. math::
        \ell_n = -\log \mathrm{softmax}(z_n)_{y_n}
              = \log \sum_j e^{z_{nj}} - z_{n y_n}, \qquad
        L = \frac{1}{N} \sum_n \ell_n

    dL/dz_n = (p_n - \mathrm{onehot}(y_n)) / N, where p_n = softmax(z_n).

    Parameters
    ----------
    logits : Tensor, shape (..., V)
        Unnormalised scores; the class axis is the last one (PyTorch puts it
        second; reshape to (N, V) to compare).
    targets : array_like of int, shape (...)
        Class indices in [0, V).
    ignore_index : int or None, optional
        Positions whose target equals this value add nothing to the loss and
        are not counted in the mean (nanoGPT uses -1 for padding). ``None``
        (default) ignores nothing; anything but an int or None is refused.
    reduction : {"mean", "sum", "none"}
        Mean over counted positions, their sum, or the per-position losses.

    Returns
    -------
    Tensor
        A scalar (``mean``, ``sum``) or shape ``targets.shape`` (``none``).

    Raises
    ------
    ShapeError
        ``targets.shape != logits.shape[:-1]``.
    InvalidValueError
        A target outside [0, V); every target ignored with ``mean``.
    InvalidTypeError
        ``ignore_index`` neither an int nor None (a string, a float, an array).

    References
    ----------
    PyTorch, ``torch.nn.functional.cross_entropy`` (the semantics matched here).

    Examples
    --------
    >>> from llmmath.autograd import Tensor, functional as F
    >>> z = Tensor([[2.0, 0.0, 0.0]], requires_grad=True)
    >>> loss = F.cross_entropy(z, [0])
    >>> print(round(loss.item(), 4))
    0.2395
    >>> loss.backward()
    >>> print(z.grad.round(4))                   # p - y
    [[-0.2129  0.1065  0.1065]]
    """
    op = "cross_entropy"
    z = tensor_argument(logits, "logits", op, allow_inf="neg")
    if z.ndim < 1 or z.shape[-1] == 0:
        raise ShapeError(f"{op}: argument 'logits' must have shape (..., V) with V >= 1; got "
                         f"shape {z.shape}.")
    red = check_choice(reduction, "reduction", op, ("mean", "sum", "none"))
    if ignore_index is not None:
        ignore_index = check_int(ignore_index, "ignore_index", op)
    y = as_int_array(targets, "targets", op)
    if y.shape != z.shape[:-1]:
        raise ShapeError(f"{op}: 'targets' must have shape logits.shape[:-1] = {z.shape[:-1]}; "
                         f"got logits {z.shape} and targets {y.shape}.")
    n_cls = z.shape[-1]
    x = z.data.reshape(-1, n_cls)
    t = y.reshape(-1)
    valid = None if ignore_index is None else t != ignore_index
    tv = t if valid is None else t[valid]
    if tv.size and (tv.min() < 0 or tv.max() >= n_cls):
        bad = int(tv[(tv < 0) | (tv >= n_cls)][0])
        raise InvalidValueError(f"{op}: argument 'targets': target {bad} is outside [0, "
                                f"{n_cls}) (logits have {n_cls} classes)"
                                f"{'' if ignore_index is None else ' and is not ignore_index'}.")
    n = t.size if valid is None else int(valid.sum())
    if red == "mean" and n == 0:
        raise InvalidValueError(f"{op}: every target is ignored (each entry of 'targets' equals "
                                f"ignore_index={ignore_index}); the mean over zero positions is "
                                "undefined.")
    t_safe = t if valid is None else np.where(valid, t, 0)
    rows = np.arange(t.size)
    p = _shifted(x, 1, op, "logits")             # z - max
    picked = p[rows, t_safe]                     # z_y - max
    np.exp(p, out=p)
    total = sum_last(p)
    p /= total                                   # softmax, kept for backward
    nll = np.log(total[:, 0]) - picked           # log sum e^(z - max) - (z_y - max)
    if valid is not None:
        nll = np.where(valid, nll, 0.0)          # an ignored row's -inf logit must not give nan
    data = nll.reshape(y.shape) if red == "none" else nll.sum()
    if red == "mean":
        data = data / n

    z_shape = z.shape                            # (not z: its logits need not stay alive)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        w = g.reshape(-1, 1) if red == "none" else g / n if red == "mean" else g
        if valid is not None:
            w = w * valid.reshape(-1, 1)
        w = np.broadcast_to(w, (t.size, 1))
        grad = p * w                             # (p - y) * weight of the row
        grad[rows, t_safe] -= w[:, 0]
        return (grad.reshape(z_shape),)

    return Tensor.from_op(np.asarray(data, dtype=z.dtype), (z,), backward, op)
