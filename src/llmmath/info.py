"""Information theory for language models: entropy, cross-entropy, KL, perplexity.

The training loss of a language model is a cross-entropy, its evaluation
metric a perplexity, and the leash that keeps a fine-tuned model near its base
model a KL divergence. All of them are sums of ``p log(p / q)``-type terms
over a discrete distribution, computed here with the conventions of
information theory (and of ``scipy.stats.entropy`` / ``scipy.special.rel_entr``):

* ``0 log 0 = 0`` and ``0 log(0 / q) = 0``: outcomes that cannot happen add
  nothing;
* ``p log(p / 0) = inf`` for ``p > 0``: a model that rules out what happens
  pays an infinite price;
* logs are natural (nats) unless ``base`` is given (``base=2`` gives bits).

Inputs are validated as distributions along ``axis`` (entries finite and
``>= 0``, summing to 1 within 1e-6, or 1e-4 for float32); they are not
renormalised. Leading axes are batches; float32 in gives float32 out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from llmmath._numerics import pow2_split
from llmmath._validation import (
    as_float_array,
    check_axis,
    check_distribution,
    check_float,
    float_dtype,
)
from llmmath.errors import InvalidValueError, ShapeError

__all__ = [
    "entropy",
    "cross_entropy",
    "kl_divergence",
    "js_divergence",
    "mutual_information",
    "conditional_entropy",
    "perplexity",
    "bits_per_token",
    "nats_to_bits",
    "bits_to_nats",
]

_LN2 = math.log(2.0)


def _log_base(base: Any, op: str) -> float:
    """``log(base)``, the divisor that converts nats to the requested unit."""
    if base is None:
        return 1.0
    b = check_float(base, "base", op, min_value=0.0, min_inclusive=False)
    if b == 1.0:
        raise InvalidValueError(f"{op}: argument 'base' must not be 1 (log 1 = 0); got {base!r}.")
    return math.log(b)


def _log(x: np.ndarray) -> np.ndarray:
    """``log x`` where ``x > 0`` and ``-inf`` where ``x == 0``, with no warning."""
    out = np.full(x.shape, -np.inf, dtype=x.dtype)
    return np.log(x, out=out, where=x > 0)


def _pair(p: Any, q: Any, axis: int, op: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Two distributions along ``axis``, broadcast to a common shape."""
    p = check_distribution(p, "p", op, axis=axis)
    q = check_distribution(q, "q", op, axis=axis)
    try:
        shape = np.broadcast_shapes(p.shape, q.shape)
    except ValueError:
        raise ShapeError(
            f"{op}: arguments 'p' and 'q' do not broadcast; got shapes {p.shape} and {q.shape}."
        ) from None
    ax = check_axis(axis, len(shape), "axis", op)
    if p.shape[axis] != q.shape[axis]:
        raise ShapeError(
            f"{op}: arguments 'p' and 'q' must have the same number of outcomes along axis {axis}; got "
            f"shapes {p.shape} and {q.shape}."
        )
    return np.broadcast_to(p, shape), np.broadcast_to(q, shape), ax


def _rel_entr(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Elementwise ``p log(p / q)``: 0 where ``p = 0``, ``inf`` where ``q = 0 < p``.

    Written as ``p (log p - log q)``: no ratio ``p / q`` that could overflow.
    """
    return _weighted_log_ratio(p, p, q)


def _weighted_log_ratio(w: np.ndarray, num: np.ndarray, *dens: np.ndarray) -> np.ndarray:
    """Elementwise ``w * (log num - sum log dens)`` where ``w > 0``, and 0 where ``w = 0``.

    The logs are differenced only where ``w > 0``, so a ``-inf - -inf`` from
    two zero probabilities is never formed (it would be NaN and a warning).
    """
    shape = np.broadcast_shapes(w.shape, num.shape, *(d.shape for d in dens))
    pos = np.broadcast_to(w > 0, shape)
    diff = np.zeros(shape, dtype=np.result_type(w, num, *dens))
    np.copyto(diff, _log(num), where=pos)
    for d in dens:
        np.subtract(diff, _log(d), out=diff, where=pos)
    out = np.zeros_like(diff)
    np.multiply(w, diff, out=out, where=pos)
    return out


def entropy(p: Any, base: float | None = None, axis: int = -1) -> np.ndarray:
    """Shannon entropy ``H(p) = -sum_i p_i log p_i``.

    Lessons: ``attention_spectrum`` (Eigenvalues of attention); ``sampling`` (Sampling: greedy,
    temperature, top-k, top-p, min-p); ``information`` (Entropy, cross-entropy, KL and perplexity).

    The expected surprise ``-log p_i`` of an outcome drawn from ``p``: 0 for a
    certain outcome, ``log K`` (the maximum) for the uniform distribution over
    ``K`` outcomes.

    Parameters
    ----------
    p : array_like
        Distribution(s) along ``axis``.
    base : float, optional
        Logarithm base (2 for bits); natural log (nats) by default.
    axis : int, optional
        The outcome axis. Default -1.

    Returns
    -------
    ndarray
        ``p`` with ``axis`` reduced; ``>= 0``.

    Raises
    ------
    ValueError
        ``p`` not a distribution; ``base <= 0`` or ``base = 1``.

    See Also
    --------
    cross_entropy, scipy.stats.entropy

    References
    ----------
    C. E. Shannon, "A Mathematical Theory of Communication", Bell System
    Technical Journal 27 (1948). T. M. Cover and J. A. Thomas, *Elements of
    Information Theory*, 2nd ed., Wiley, 2006, §2.1.

    Examples
    --------
    >>> from llmmath.info import entropy
    >>> print(entropy([0.5, 0.5], base=2))
    1.0
    >>> print(entropy([1.0, 0.0, 0.0]))  # 0 log 0 = 0
    0.0
    """
    op = "entropy"
    lb = _log_base(base, op)
    arr = check_distribution(p, "p", op, axis=axis)
    terms = np.zeros_like(arr)
    np.multiply(arr, _log(arr), out=terms, where=arr > 0)
    return np.maximum(-terms.sum(axis=axis), 0.0) / arr.dtype.type(lb)


def cross_entropy(p: Any, q: Any, base: float | None = None, axis: int = -1) -> np.ndarray:
    """Cross-entropy ``H(p, q) = -sum_i p_i log q_i``.

    Lessons: ``why_math`` (Why the mathematics matters); ``mle`` (The chain rule of probability and
    MLE); ``information`` (Entropy, cross-entropy, KL and perplexity).

    The average code length (or surprise) when outcomes come from ``p`` but are
    scored with ``q``. With ``p`` one-hot on the observed token it is the
    language-modelling loss ``-log q[token]``. ``H(p, q) = H(p) + KL(p || q)``,
    so it is smallest, equal to ``H(p)``, when ``q = p``. ``inf`` where
    ``q_i = 0 < p_i``.

    Parameters
    ----------
    p, q : array_like
        Distributions along ``axis`` (broadcast against each other).
    base : float, optional
        Logarithm base; nats by default.
    axis : int, optional
        The outcome axis. Default -1.

    Returns
    -------
    ndarray
        The broadcast shape with ``axis`` reduced.

    Raises
    ------
    ValueError
        Inputs that are not distributions or do not broadcast; a bad ``base``.

    See Also
    --------
    entropy, kl_divergence

    References
    ----------
    Cover and Thomas, *Elements of Information Theory*, 2006, §5.4 (the cost
    of coding with the wrong distribution).

    Examples
    --------
    >>> from llmmath.info import cross_entropy
    >>> from llmmath.prob import softmax
    >>> q = softmax([3.0, 1.0, 0.2])
    >>> print(round(float(cross_entropy([1.0, 0.0, 0.0], q)), 4))  # -log q[0]
    0.1791
    """
    op = "cross_entropy"
    lb = _log_base(base, op)
    pp, qq, ax = _pair(p, q, axis, op)
    dtype = float_dtype(pp, qq)
    terms = np.zeros(pp.shape, dtype=dtype)
    np.multiply(pp, _log(qq.astype(dtype)), out=terms, where=pp > 0)
    return (-terms.sum(axis=ax) / dtype.type(lb)).astype(dtype)


def kl_divergence(p: Any, q: Any, base: float | None = None, axis: int = -1) -> np.ndarray:
    """Kullback-Leibler divergence ``KL(p || q) = sum_i p_i log(p_i / q_i)``.

    Lessons: ``mle`` (The chain rule of probability and MLE); ``information`` (Entropy,
    cross-entropy, KL and perplexity).

    The extra code length paid for using ``q`` when the truth is ``p``;
    ``KL >= 0`` with equality only when ``p = q`` (Gibbs' inequality), and it
    is not symmetric. Terms with ``p_i = 0`` are 0; a term with
    ``q_i = 0 < p_i`` is ``inf``. Rounding can leave a sum of terms that should
    be ``>= 0`` at ``-1e-17``; the result is clipped at 0.

    Parameters
    ----------
    p, q : array_like
        Distributions along ``axis`` (broadcast).
    base : float, optional
        Logarithm base; nats by default.
    axis : int, optional
        The outcome axis. Default -1.

    Returns
    -------
    ndarray
        ``>= 0``; the broadcast shape with ``axis`` reduced.

    Raises
    ------
    ValueError
        As :func:`cross_entropy`.

    See Also
    --------
    js_divergence, scipy.special.rel_entr, scipy.stats.entropy (two arguments)

    References
    ----------
    S. Kullback and R. A. Leibler, "On Information and Sufficiency", Ann. Math.
    Statist. 22 (1951) 79-86. Cover and Thomas, 2006, §2.3 and Theorem 2.6.3.

    Examples
    --------
    >>> from llmmath.info import kl_divergence
    >>> print(round(float(kl_divergence([0.5, 0.5], [0.9, 0.1])), 6))
    0.510826
    >>> print(kl_divergence([0.5, 0.5], [1.0, 0.0]))  # q rules out what p allows
    inf
    """
    op = "kl_divergence"
    lb = _log_base(base, op)
    pp, qq, ax = _pair(p, q, axis, op)
    dtype = float_dtype(pp, qq)
    total = _rel_entr(pp.astype(dtype), qq.astype(dtype)).sum(axis=ax)
    return (np.maximum(total, 0.0) / dtype.type(lb)).astype(dtype)


def js_divergence(p: Any, q: Any, base: float | None = None, axis: int = -1) -> np.ndarray:
    """Jensen-Shannon divergence ``JS(p, q) = KL(p || m) / 2 + KL(q || m) / 2``, ``m = (p + q) / 2``.

    Lesson: ``information`` (Entropy, cross-entropy, KL and perplexity).

    A symmetric, always finite relative of KL: ``0 <= JS <= log 2`` (1 bit),
    with 0 only for ``p = q`` and ``log 2`` for distributions with disjoint
    supports. Its square root is a metric, which is what
    ``scipy.spatial.distance.jensenshannon`` returns; this function returns the
    divergence itself (the square of that distance). The result is clipped to
    ``[0, log 2]`` against rounding.

    Parameters
    ----------
    p, q : array_like
        Distributions along ``axis`` (broadcast).
    base : float, optional
        Logarithm base; nats by default.
    axis : int, optional
        The outcome axis. Default -1.

    Returns
    -------
    ndarray
        Values in ``[0, log 2 / log base]``.

    Raises
    ------
    ValueError
        As :func:`cross_entropy`.

    See Also
    --------
    kl_divergence, scipy.spatial.distance.jensenshannon

    References
    ----------
    J. Lin, "Divergence measures based on the Shannon entropy", IEEE Trans.
    Inf. Theory 37 (1991) 145-151.

    Examples
    --------
    >>> from llmmath.info import js_divergence
    >>> print(js_divergence([1.0, 0.0], [0.0, 1.0], base=2))  # disjoint: 1 bit
    1.0
    """
    op = "js_divergence"
    lb = _log_base(base, op)
    pp, qq, ax = _pair(p, q, axis, op)
    dtype = float_dtype(pp, qq)
    pp, qq = pp.astype(dtype), qq.astype(dtype)
    m = 0.5 * pp + 0.5 * qq                  # m >= p / 2 > 0 wherever p > 0: finite terms
    js = 0.5 * _rel_entr(pp, m).sum(axis=ax) + 0.5 * _rel_entr(qq, m).sum(axis=ax)
    return (np.clip(js, 0.0, _LN2) / dtype.type(lb)).astype(dtype)


def _joint(joint: Any, op: str) -> np.ndarray:
    """A joint distribution over the last two axes ``(X, Y)``."""
    arr = as_float_array(joint, "joint", op, min_ndim=2)
    if arr.shape[-1] == 0 or arr.shape[-2] == 0:
        raise InvalidValueError(
            f"{op}: argument 'joint' must have at least one outcome for X and for Y; got shape "
            f"{arr.shape}."
        )
    flat = arr.reshape(arr.shape[:-2] + (arr.shape[-2] * arr.shape[-1],))
    return check_distribution(flat, "joint", op, axis=-1).reshape(arr.shape)


def mutual_information(joint: Any, base: float | None = None) -> np.ndarray:
    """Mutual information ``I(X; Y) = sum_xy p(x, y) log(p(x, y) / (p(x) p(y)))``.

    Lessons: ``random_variables`` (Random variables, expectation and variance); ``information``
    (Entropy, cross-entropy, KL and perplexity).

    How much knowing ``Y`` reduces uncertainty about ``X`` (and the reverse):
    ``I = H(X) + H(Y) - H(X, Y) = KL(p(x, y) || p(x) p(y)) >= 0``, zero exactly
    when ``X`` and ``Y`` are independent, at most ``min(H(X), H(Y))``. Computed
    from the KL form, which keeps small values accurate; clipped at 0.

    Parameters
    ----------
    joint : array_like
        ``p(x, y)`` with ``X`` along axis -2 and ``Y`` along axis -1, summing
        to 1 over both; leading axes are batches.
    base : float, optional
        Logarithm base; nats by default.

    Returns
    -------
    ndarray
        ``joint`` with its last two axes reduced.

    Raises
    ------
    ValueError
        Fewer than two axes, or ``joint`` not a distribution.

    See Also
    --------
    conditional_entropy, entropy

    References
    ----------
    Cover and Thomas, *Elements of Information Theory*, 2006, §2.4.

    Examples
    --------
    >>> from llmmath.info import mutual_information
    >>> print(mutual_information([[0.5, 0.0], [0.0, 0.5]], base=2))  # Y copies X
    1.0
    >>> print(mutual_information([[0.25, 0.25], [0.25, 0.25]]))  # independent
    0.0
    """
    op = "mutual_information"
    lb = _log_base(base, op)
    pxy = _joint(joint, op)
    px = pxy.sum(axis=-1, keepdims=True)                       # (..., X, 1)
    py = pxy.sum(axis=-2, keepdims=True)                       # (..., 1, Y)
    # px, py > 0 wherever pxy > 0, so every term is finite
    terms = _weighted_log_ratio(pxy, pxy, px, py)
    return np.maximum(terms.sum(axis=(-2, -1)), 0.0) / pxy.dtype.type(lb)


def conditional_entropy(joint: Any, base: float | None = None) -> np.ndarray:
    """Conditional entropy ``H(Y | X) = -sum_xy p(x, y) log p(y | x) = H(X, Y) - H(X)``.

    Lesson: none (a utility beside the information-theory functions).

    The uncertainty left in ``Y`` once ``X`` is known; ``0 <= H(Y|X) <= H(Y)``.
    A language model's loss on the true data distribution is bounded below by
    the conditional entropy of the next token given the context.

    Parameters
    ----------
    joint : array_like
        ``p(x, y)`` with ``X`` along axis -2 and ``Y`` along axis -1.
    base : float, optional
        Logarithm base; nats by default.

    Returns
    -------
    ndarray
        ``joint`` with its last two axes reduced.

    Raises
    ------
    ValueError
        As :func:`mutual_information`.

    See Also
    --------
    mutual_information, entropy

    References
    ----------
    Cover and Thomas, *Elements of Information Theory*, 2006, §2.2.

    Examples
    --------
    >>> from llmmath.info import conditional_entropy
    >>> print(conditional_entropy([[0.25, 0.25], [0.5, 0.0]], base=2))  # 1/2 * 1 bit
    0.5
    """
    op = "conditional_entropy"
    lb = _log_base(base, op)
    pxy = _joint(joint, op)
    px = pxy.sum(axis=-1, keepdims=True)
    terms = _weighted_log_ratio(pxy, pxy, px)
    return np.maximum(-terms.sum(axis=(-2, -1)), 0.0) / pxy.dtype.type(lb)


def _nll(nll: Any, op: str) -> np.ndarray:
    arr = as_float_array(nll, "nll", op, allow_inf="pos", allow_empty=False)
    if (arr < 0).any():
        raise InvalidValueError(
            f"{op}: argument 'nll' has a negative value {float(arr.min())}; a negative "
            "log-likelihood of a discrete token is -log p >= 0."
        )
    return arr


def _mean_nll(arr: np.ndarray, axis: int | None) -> np.ndarray:
    """The mean along ``axis`` (all axes for None) without overflow.

    Each slice is divided by a power of two near its largest entry first (exact),
    so ``[1e308, 1e308]`` has mean 1e308 instead of ``inf``; an infinite NLL
    (a token of probability 0) makes its slice's mean ``inf``, as it should.
    """
    y, e = pow2_split(arr, axis=axis)
    with np.errstate(over="ignore"):  # only a slice holding inf can overflow: its mean is inf
        m = np.ldexp(y.mean(axis=axis, keepdims=True), e)
    return m.reshape(()) if axis is None else np.squeeze(m, axis=axis)


def perplexity(nll: Any, base: float | None = None, axis: int | None = None) -> np.ndarray:
    """Perplexity ``exp(mean NLL)`` from per-token negative log-likelihoods.

    Lesson: ``information`` (Entropy, cross-entropy, KL and perplexity).

    ``PPL = exp(-(1/N) sum_t log q(x_t | x_<t))``: the exponential of the
    average cross-entropy. A model with perplexity ``k`` is as uncertain, on
    average, as a uniform choice among ``k`` tokens (1 is perfect prediction,
    ``V`` is a uniform guess over the vocabulary). The exponent's base matches
    the log used for the NLL: ``base=2`` for NLL in bits gives ``2 ** mean``,
    the same number. An infinite NLL (a token given probability 0) gives
    ``inf``; so does a mean NLL above about 709 nats.

    Parameters
    ----------
    nll : array_like
        Per-token negative log-likelihoods ``-log q(x_t | x_<t) >= 0`` (nats
        unless ``base`` is given).
    base : float, optional
        The base of the logs in ``nll``; ``e`` by default.
    axis : int, optional
        Average over this axis only (e.g. one perplexity per sequence); all
        tokens by default.

    Returns
    -------
    ndarray
        ``>= 1``.

    Raises
    ------
    ValueError
        Empty input, NaN, negative NLL; a bad ``base`` or ``axis``.

    See Also
    --------
    bits_per_token, cross_entropy

    References
    ----------
    F. Jelinek, R. L. Mercer, L. R. Bahl and J. K. Baker, "Perplexity - a
    measure of the difficulty of speech recognition tasks", JASA 62 (1977) S63.
    D. Jurafsky and J. H. Martin, *Speech and Language Processing*, 3rd ed.
    draft, §3.3.

    Examples
    --------
    >>> from llmmath.info import perplexity
    >>> print(round(float(perplexity(np.full(10, np.log(50_000)))), 6))  # uniform over 50k
    50000.0
    >>> print(perplexity([1.0, 3.0], base=2))  # mean 2 bits: 4 choices
    4.0
    """
    op = "perplexity"
    lb = _log_base(base, op)
    arr = _nll(nll, op)
    if axis is not None:
        axis = check_axis(axis, arr.ndim, "axis", op)
        if arr.shape[axis] == 0:
            raise InvalidValueError(f"{op}: argument 'nll' has no tokens along axis {axis}.")
    mean = _mean_nll(arr, axis)
    with np.errstate(over="ignore"):  # a perplexity beyond the float range is inf
        return np.exp(mean * arr.dtype.type(lb))


def bits_per_token(nll: Any, axis: int | None = None) -> np.ndarray:
    """Average code length in bits: ``mean(nll) / ln 2`` for NLL in nats.

    Lesson: none (a utility beside the information-theory functions).

    The cross-entropy in bits: what an arithmetic coder driven by the model
    would spend per token (``log2`` of the perplexity).

    Parameters
    ----------
    nll : array_like
        Per-token negative log-likelihoods in nats, ``>= 0``.
    axis : int, optional
        Average over this axis only; all tokens by default.

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        As :func:`perplexity`.

    See Also
    --------
    perplexity, nats_to_bits

    References
    ----------
    Cover and Thomas, *Elements of Information Theory*, 2006, §5.4 and §13.3
    (arithmetic coding).

    Examples
    --------
    >>> from llmmath.info import bits_per_token
    >>> print(bits_per_token([np.log(2.0), np.log(8.0)]).round(12))  # 1 and 3 bits
    2.0
    """
    op = "bits_per_token"
    arr = _nll(nll, op)
    if axis is not None:
        axis = check_axis(axis, arr.ndim, "axis", op)
        if arr.shape[axis] == 0:
            raise InvalidValueError(f"{op}: argument 'nll' has no tokens along axis {axis}.")
    with np.errstate(over="ignore"):  # more bits than the float range holds: inf
        return _mean_nll(arr, axis) / arr.dtype.type(_LN2)


def nats_to_bits(x: Any) -> np.ndarray:
    """Convert an information quantity from nats to bits: ``x / ln 2``.

    Lesson: ``information`` (Entropy, cross-entropy, KL and perplexity).

    Parameters
    ----------
    x : array_like
        Values in nats (``±inf`` allowed).

    Returns
    -------
    ndarray
        Values in bits (``inf`` beyond the float range).

    Raises
    ------
    ValueError
        NaN in ``x``.

    See Also
    --------
    bits_to_nats

    References
    ----------
    Cover and Thomas, *Elements of Information Theory*, 2006, §2.1 (the unit
    depends on the base of the logarithm).

    Examples
    --------
    >>> from llmmath.info import nats_to_bits
    >>> print(nats_to_bits(np.log(8.0)).round(12))
    3.0
    """
    arr = as_float_array(x, "x", "nats_to_bits", allow_inf=True)
    with np.errstate(over="ignore"):  # within 1.44x of the float limit: inf
        return arr / arr.dtype.type(_LN2)


def bits_to_nats(x: Any) -> np.ndarray:
    """Convert an information quantity from bits to nats: ``x * ln 2``.

    Lesson: ``information`` (Entropy, cross-entropy, KL and perplexity).

    Parameters
    ----------
    x : array_like
        Values in bits (``±inf`` allowed).

    Returns
    -------
    ndarray

    Raises
    ------
    ValueError
        NaN in ``x``.

    See Also
    --------
    nats_to_bits

    References
    ----------
    Cover and Thomas, *Elements of Information Theory*, 2006, §2.1.

    Examples
    --------
    >>> from llmmath.info import bits_to_nats
    >>> print(bits_to_nats(1.0).round(6))  # one bit
    0.693147
    """
    arr = as_float_array(x, "x", "bits_to_nats", allow_inf=True)
    return arr * arr.dtype.type(_LN2)
