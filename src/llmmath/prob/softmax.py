"""The softmax family (implementation behind :mod:`llmmath.prob`).

Logits to probabilities without overflow: ``softmax``, ``log_softmax``,
``logsumexp``, ``sigmoid``, ``log_sigmoid``. Every function shifts by the
maximum (or, for the sigmoid, picks the branch) so that ``exp`` only ever
sees numbers <= 0.
Import these from :mod:`llmmath.prob`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import as_float_array, check_axis, check_bool, check_float
from llmmath.errors import InvalidValueError

__all__ = ["softmax", "log_softmax", "logsumexp", "sigmoid", "log_sigmoid"]


def _logits(x: Any, op: str, axis: Any, name: str = "x") -> tuple[np.ndarray, int]:
    """Finite-or-masked logits with at least one axis, and the normalised axis."""
    arr = as_float_array(x, name, op, allow_inf="neg", min_ndim=1)
    ax = check_axis(axis, arr.ndim, "axis", op)
    if arr.size and np.isneginf(arr).all(axis=ax).any():
        dead = np.isneginf(arr).all(axis=ax)
        where = int(np.argmax(dead.ravel())) if dead.ndim else 0
        at = np.unravel_index(where, dead.shape) if dead.ndim else ()
        raise InvalidValueError(
            f"{op}: argument '{name}' has a slice along axis {axis} that is entirely -inf "
            f"(at batch index {tuple(int(i) for i in at)}); every token is masked, so no "
            "distribution exists. Expected at least one finite logit per slice."
        )
    return arr, ax


def _scaled_shifted(x: np.ndarray, ax: int, temperature: float) -> np.ndarray:
    """``(x - max(x)) / T``: every entry <= 0 and the largest exactly 0."""
    z = x - np.max(x, axis=ax, keepdims=True)
    if temperature != 1.0:
        # z <= 0, so a tiny T can only overflow towards -inf, whose exp is the
        # exact limit 0: the overflow is harmless and silenced here alone.
        with np.errstate(over="ignore"):
            z = z / temperature
    return z


def _argmax_uniform(x: np.ndarray, ax: int) -> np.ndarray:
    """The T -> 0 limit of softmax: uniform over the maximal entries."""
    top = x == np.max(x, axis=ax, keepdims=True)
    return (top / top.sum(axis=ax, keepdims=True)).astype(x.dtype)


def _log_sum_exp_shifted(z: np.ndarray, ax: int) -> np.ndarray:
    """``log sum_j exp(z_j)`` for ``z`` whose maximum along ``ax`` is 0.

    The maximal entry contributes exactly 1, so the sum is ``1 + r`` and its log
    is ``log1p(r)``, with ``r`` summed from the other entries alone. Forming
    ``1 + r`` first would round away the digits of a small ``r``
    (Blanchard, Higham and Higham, IMA J. Numer. Anal., 2021).
    """
    e = np.exp(z)
    top = np.argmax(z, axis=ax)
    np.put_along_axis(e, np.expand_dims(top, ax), 0.0, axis=ax)
    return np.log1p(e.sum(axis=ax, keepdims=True))


def softmax(x: Any, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Normalised exponentials: turn logits into a probability distribution.

    Lessons: ``why_math`` (Why the mathematics matters); ``attention`` (Attention as matrix
    operations); ``attention_spectrum`` (Eigenvalues of attention); ``softmax_jacobian`` (The
    softmax Jacobian); ``sampling`` (Sampling: greedy, temperature, top-k, top-p, min-p).

    ``softmax(x)_i = exp(x_i / T) / sum_j exp(x_j / T)``, computed as
    ``exp(z_i) / sum_j exp(z_j)`` with ``z = (x - max x) / T`` so that no
    exponential overflows (the shift cancels between numerator and
    denominator). ``T -> 0`` tends to the uniform distribution over the
    largest logits (one-hot when the maximum is unique); ``T = 0`` returns that
    limit. ``T -> inf`` tends to the uniform distribution over the unmasked
entries.

    Parameters
    ----------
    x : array_like
        Logits: finite numbers, or ``-inf`` for a masked entry (probability 0).
    axis : int, optional
        The axis that holds the outcomes. Default -1.
    temperature : float, optional
        ``T >= 0``. Default 1.

    Returns
    -------
    ndarray
        Same shape as ``x``; non-negative, summing to 1 along ``axis``.
        float32 for float32 input, float64 otherwise.

    Raises
    ------
    ValueError
        NaN or ``+inf`` in ``x``, a slice that is entirely ``-inf``, a
        negative temperature, or an axis out of range.

    See Also
    --------
    log_softmax, logsumexp, scipy.special.softmax

    References
    ----------
    J. S. Bridle, "Probabilistic interpretation of feedforward classification
    network outputs", Neurocomputing, 1990 (the name "softmax").
    Goodfellow, Bengio and Courville, *Deep Learning*, MIT Press, 2016, §4.1
    (the max-shift for stability).

    Examples
    --------
    >>> from llmmath.prob import softmax
    >>> print(softmax([1.0, 2.0, 0.5]).round(4))
    [0.2312 0.6285 0.1402]
    >>> print(softmax([1e4, 0.0, -np.inf]))  # no overflow, masked entry is 0
    [1. 0. 0.]
    >>> print(softmax([2.0, 5.0, 5.0], temperature=0))  # the greedy limit
    [0.  0.5 0.5]
    """
    x, ax = _logits(x, "softmax", axis)
    t = check_float(temperature, "temperature", "softmax", min_value=0.0)
    if x.size == 0:
        return x.copy()
    if t == 0.0:
        return _argmax_uniform(x, ax)
    e = np.exp(_scaled_shifted(x, ax, t))
    return e / e.sum(axis=ax, keepdims=True)


def log_softmax(x: Any, axis: int = -1, temperature: float = 1.0) -> np.ndarray:
    """Logarithm of :func:`softmax`, computed without forming the probabilities.

    Lesson: ``cross_entropy_grad`` (The cross-entropy + softmax gradient).

    ``log_softmax(x)_i = z_i - log sum_j exp(z_j)`` with ``z = (x - max x) / T``.
    Accurate where ``log(softmax(x))`` would give ``-inf`` for a probability that
    underflows (``log_softmax([0, -1000])[1]`` is exactly ``-1000``).
    ``T = 0`` gives the log of the greedy limit: ``-log m`` on the ``m`` largest
    logits and ``-inf`` elsewhere.

    Parameters
    ----------
    x : array_like
        Logits, finite or ``-inf`` (masked; its log-probability is ``-inf``).
    axis : int, optional
        The outcome axis. Default -1.
    temperature : float, optional
        ``T >= 0``. Default 1.

    Returns
    -------
    ndarray
        Log-probabilities (all <= 0), same shape and float dtype rule as
        :func:`softmax`.

    Raises
    ------
    ValueError
        As :func:`softmax`.

    See Also
    --------
    softmax, logsumexp, scipy.special.log_softmax

    References
    ----------
    scipy.special.log_softmax, whose definition this follows.

    Examples
    --------
    >>> from llmmath.prob import log_softmax
    >>> print(log_softmax([0.0, -1000.0]))
    [    0. -1000.]
    >>> print(np.exp(log_softmax([1.0, 2.0, 0.5])).round(4))
    [0.2312 0.6285 0.1402]
    """
    x, ax = _logits(x, "log_softmax", axis)
    t = check_float(temperature, "temperature", "log_softmax", min_value=0.0)
    if x.size == 0:
        return x.copy()
    if t == 0.0:
        top = x == np.max(x, axis=ax, keepdims=True)
        m = top.sum(axis=ax, keepdims=True)
        return np.where(top, -np.log(m), -np.inf).astype(x.dtype)
    z = _scaled_shifted(x, ax, t)
    return z - _log_sum_exp_shifted(z, ax)


def logsumexp(x: Any, axis: int | None = -1, keepdims: bool = False) -> np.ndarray:
    """``log(sum(exp(x)))`` along an axis, without overflow or underflow.

    Lesson: ``cross_entropy_grad`` (The cross-entropy + softmax gradient).

    ``logsumexp(x) = m + log sum_i exp(x_i - m)`` with ``m = max x``. A slice of
    only ``-inf`` (the log of zero mass) gives ``-inf``, and an empty slice
    gives ``-inf`` (the log of an empty sum), as in SciPy.

    Parameters
    ----------
    x : array_like
        Finite numbers or ``-inf``.
    axis : int or None, optional
        The axis to reduce; ``None`` reduces over every element. Default -1.
    keepdims : bool, optional
        Keep the reduced axis with length 1. Default False.

    Returns
    -------
    ndarray
        The reduced array (0-d for a full reduction).

    Raises
    ------
    ValueError
        NaN or ``+inf`` in ``x``; an axis out of range.

    See Also
    --------
    softmax, scipy.special.logsumexp

    References
    ----------
    scipy.special.logsumexp; Blanchard, Higham and Higham, "Accurately
    computing the log-sum-exp and softmax functions", IMA J. Numer. Anal., 2021.

    Examples
    --------
    >>> from llmmath.prob import logsumexp
    >>> print(logsumexp([1000.0, 1000.0]).round(6))  # 1000 + log 2
    1000.693147
    >>> print(logsumexp([-np.inf, -np.inf]))
    -inf
    """
    arr = as_float_array(x, "x", "logsumexp", allow_inf="neg")
    keepdims = check_bool(keepdims, "keepdims", "logsumexp")
    if axis is None:
        flat = arr.reshape(-1)
        out = logsumexp(flat, axis=0)
        return out.reshape((1,) * arr.ndim) if keepdims else out
    ax = check_axis(axis, arr.ndim, "axis", "logsumexp")
    if arr.shape[ax] == 0:
        shape = list(arr.shape)
        shape[ax] = 1
        out = np.full(shape, -np.inf, dtype=arr.dtype)
        return out if keepdims else np.squeeze(out, axis=ax)
    m = np.max(arr, axis=ax, keepdims=True)
    dead = np.isneginf(m)                                 # slices with no mass at all
    m = np.where(dead, 0.0, m).astype(arr.dtype)          # shift those by 0: no -inf - -inf
    out = np.where(dead, -np.inf, m + _log_sum_exp_shifted(arr - m, ax)).astype(arr.dtype)
    return out if keepdims else np.squeeze(out, axis=ax)


def sigmoid(x: Any) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``, stable for any input.

    Lesson: ``activations`` (ReLU, sigmoid and vanishing gradients).

    Computed as ``1 / (1 + exp(-x))`` for ``x >= 0`` and ``exp(x) / (1 + exp(x))``
    for ``x < 0``, so the exponential never exceeds 1 and never overflows.
    ``sigmoid(x) = softmax([x, 0])[0]``; ``sigmoid(-inf) = 0``, ``sigmoid(inf) = 1``.

    Parameters
    ----------
    x : array_like
        Real numbers; ``±inf`` allowed.

    Returns
    -------
    ndarray
        Values in [0, 1], same shape as ``x``.

    Raises
    ------
    ValueError
        NaN in ``x``.

    See Also
    --------
    log_sigmoid, softmax, scipy.special.expit

    References
    ----------
    scipy.special.expit.

    Examples
    --------
    >>> from llmmath.prob import sigmoid
    >>> print(sigmoid([-1e4, 0.0, 1e4]))
    [0.  0.5 1. ]
    """
    arr = as_float_array(x, "x", "sigmoid", allow_inf=True)
    out = np.empty_like(arr)
    pos = arr >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-arr[pos]))
    e = np.exp(arr[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def log_sigmoid(x: Any) -> np.ndarray:
    """``log(sigmoid(x)) = -log(1 + exp(-x))``, accurate in both tails.

    Lesson: none (a utility beside the probability functions).

    Computed with ``numpy.logaddexp(0, -x)``, so ``log_sigmoid(-1000)`` is
    ``-1000`` rather than ``log(0) = -inf``. It is the log-likelihood of a
    positive label under a logistic model.

    Parameters
    ----------
    x : array_like
        Real numbers; ``±inf`` allowed.

    Returns
    -------
    ndarray
        Values <= 0.

    Raises
    ------
    ValueError
        NaN in ``x``.

    See Also
    --------
    sigmoid, scipy.special.log_expit

    References
    ----------
    scipy.special.log_expit.

    Examples
    --------
    >>> from llmmath.prob import log_sigmoid
    >>> print(log_sigmoid(-1000.0), round(float(log_sigmoid(0.0)), 6))
    -1000.0 -0.693147
    """
    arr = as_float_array(x, "x", "log_sigmoid", allow_inf=True)
    return -np.logaddexp(arr.dtype.type(0), -arr)


# ----------------------------------------------------------------------------
