"""Decoding: top-k, top-p and min-p filters and sampling (behind :mod:`llmmath.prob`).

Each filter takes logits of shape ``(..., V)`` and returns them with the
removed tokens set to ``-inf`` (probability exactly 0 after a softmax), so
filters compose and :func:`sample` can chain them. Import these from
:mod:`llmmath.prob`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from llmmath._validation import check_allocation, check_float, check_int, check_rng
from llmmath.errors import InvalidValueError
from llmmath.prob.softmax import _logits, _scaled_shifted, softmax

__all__ = ["filter_top_k", "filter_top_p", "filter_min_p", "sample", "decoding_distribution"]


def filter_top_k(logits: Any, k: int) -> np.ndarray:
    """Keep the ``k`` largest logits of each row; set the rest to ``-inf``.

    Lesson: ``sampling`` (Sampling: greedy, temperature, top-k, top-p, min-p).

    A token survives when its logit is not below the k-th largest logit of its
    row (the rule ``logits < kth_value -> -inf`` of Hugging Face's
    ``TopKLogitsWarper``). Ties with the k-th value are therefore all kept, so
    more than ``k`` tokens can survive; ``k >= vocabulary size`` keeps all.

    Parameters
    ----------
    logits : array_like
        Shape ``(..., V)``; finite or ``-inf``, at least one finite per row.
    k : int
        ``k >= 1``.

    Returns
    -------
    ndarray
        Same shape and float dtype as the logits, filtered tokens at ``-inf``.

    Raises
    ------
    ValueError
        ``k < 1``; NaN or ``+inf`` in the logits; a row that is all ``-inf``.
    TypeError
        ``k`` not an integer.

    See Also
    --------
    filter_top_p, filter_min_p, sample

    References
    ----------
    A. Fan, M. Lewis and Y. Dauphin, "Hierarchical Neural Story Generation",
    ACL 2018 (top-k sampling); transformers ``TopKLogitsWarper``.

    Examples
    --------
    >>> from llmmath.prob import filter_top_k
    >>> print(filter_top_k([1.0, 3.0, 2.0, 3.0], k=1))  # a tie at the top: both kept
    [-inf   3. -inf   3.]
    """
    x, _ = _logits(logits, "filter_top_k", -1, name="logits")
    k = check_int(k, "k", "filter_top_k", min_value=1)
    V = x.shape[-1]
    if k >= V or x.size == 0:
        return x.copy()
    kth = np.partition(x, V - k, axis=-1)[..., V - k : V - k + 1]  # (..., 1)
    return np.where(x < kth, -np.inf, x).astype(x.dtype)


def filter_top_p(logits: Any, p: float) -> np.ndarray:
    """Nucleus filtering: keep the smallest set of top tokens whose mass reaches ``p``.

    Lesson: ``sampling`` (Sampling: greedy, temperature, top-k, top-p, min-p).

    Sort the tokens by probability, largest first. A token is in the nucleus
    when the total probability of the tokens ranked above it is still below
    ``p``; the most probable token is always kept. This is the rule of Hugging
    Face's ``TopPLogitsWarper`` (which removes a token when the mass at or below
    it is at most ``1 - p``). Ties: every token whose logit equals that of the
    last token in the nucleus is kept too, so the result does not depend on the
    order of tied tokens (``TopPLogitsWarper`` breaks such ties by position).
    ``p = 1`` keeps every token; ``p = 0`` keeps only the most probable ones.

    Parameters
    ----------
    logits : array_like
        Shape ``(..., V)``; finite or ``-inf``, at least one finite per row.
    p : float
        ``0 <= p <= 1``.

    Returns
    -------
    ndarray
        Same shape and float dtype, filtered tokens at ``-inf``.

    Raises
    ------
    ValueError
        ``p`` outside [0, 1]; bad logits as in :func:`filter_top_k`.

    See Also
    --------
    filter_top_k, filter_min_p, sample

    References
    ----------
    A. Holtzman, J. Buys, L. Du, M. Forbes and Y. Choi, "The Curious Case of
    Neural Text Degeneration", ICLR 2020; transformers ``TopPLogitsWarper``.

    Examples
    --------
    >>> from llmmath.prob import filter_top_p
    >>> z = np.log([0.5, 0.3, 0.15, 0.05])
    >>> print(np.isfinite(filter_top_p(z, 0.7)))  # 0.5 < 0.7 <= 0.5 + 0.3
    [ True  True False False]
    """
    x, _ = _logits(logits, "filter_top_p", -1, name="logits")
    p = check_float(p, "p", "filter_top_p", min_value=0.0, max_value=1.0)
    if p == 1.0 or x.size == 0:
        return x.copy()
    order = np.argsort(-x, axis=-1, kind="stable")                   # (..., V) descending
    ranked = np.take_along_axis(x, order, axis=-1).astype(np.float64)
    probs = softmax(ranked, axis=-1)
    mass_above = np.cumsum(probs, axis=-1) - probs                   # exclusive cumsum
    mass_above[..., 0] = 0.0
    n_keep = np.maximum((mass_above < p).sum(axis=-1, keepdims=True), 1)  # (..., 1)
    threshold = np.take_along_axis(ranked, n_keep - 1, axis=-1).astype(x.dtype)
    return np.where(x < threshold, -np.inf, x).astype(x.dtype)


def filter_min_p(logits: Any, p: float) -> np.ndarray:
    """Min-p filtering: keep tokens at least ``p`` times as likely as the best one.

    Lesson: ``sampling`` (Sampling: greedy, temperature, top-k, top-p, min-p).

    A token survives when ``prob_i >= p * max_j prob_j``, which on logits reads
    ``z_i - max z >= log p`` (the same test, free of underflow). The threshold
    scales with the model's confidence: a peaked distribution keeps few tokens,
    a flat one keeps many. ``p = 0`` keeps all, ``p = 1`` keeps only the most
    probable tokens (all of them when tied).

    Parameters
    ----------
    logits : array_like
        Shape ``(..., V)``; finite or ``-inf``, at least one finite per row.
    p : float
        ``0 <= p <= 1``.

    Returns
    -------
    ndarray
        Same shape and float dtype, filtered tokens at ``-inf``.

    Raises
    ------
    ValueError
        ``p`` outside [0, 1]; bad logits as in :func:`filter_top_k`.

    See Also
    --------
    filter_top_k, filter_top_p, sample

    References
    ----------
    M. Nguyen et al., "Turning Up the Heat: Min-p Sampling for Creative and
    Coherent LLM Outputs", 2024 (arXiv:2407.01082); transformers
    ``MinPLogitsWarper``.

    Examples
    --------
    >>> from llmmath.prob import filter_min_p
    >>> z = np.log([0.6, 0.3, 0.07, 0.03])
    >>> print(np.isfinite(filter_min_p(z, 0.1)))  # threshold 0.1 * 0.6 = 0.06
    [ True  True  True False]
    """
    x, _ = _logits(logits, "filter_min_p", -1, name="logits")
    p = check_float(p, "p", "filter_min_p", min_value=0.0, max_value=1.0)
    if p == 0.0 or x.size == 0:
        return x.copy()
    gap = x - np.max(x, axis=-1, keepdims=True)                      # (..., V), <= 0
    return np.where(gap < math.log(p), -np.inf, x).astype(x.dtype)


def sample(
    logits: Any,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
    rng: np.random.Generator | int | None = None,
    num_samples: int | None = None,
) -> int | np.ndarray:
    """Draw token ids from logits the way a decoder does.

    Lessons: ``why_math`` (Why the mathematics matters); ``sampling`` (Sampling: greedy,
    temperature, top-k, top-p, min-p).

    The steps, in order (the order of Hugging Face's logits processors):
    divide the logits by ``temperature``; apply :func:`filter_top_k`, then
    :func:`filter_top_p`, then :func:`filter_min_p` (each only when given;
    top-p and min-p therefore see temperature-scaled probabilities); take the
    softmax; draw by inverting the cumulative distribution with one uniform
    number per draw. A filtered token has probability exactly 0 and is never
    drawn. ``temperature = 0`` is greedy decoding: the argmax (the first one
    when tied), with no filter needed and no random number consumed.

    Parameters
    ----------
    logits : array_like
        Shape ``(V,)`` or ``(..., V)``; finite or ``-inf``.
    temperature : float, optional
        ``T >= 0``. Default 1.
    top_k : int, optional
        Keep the ``top_k`` largest logits (ties kept).
    top_p : float, optional
        Nucleus mass in [0, 1].
    min_p : float, optional
        Relative probability floor in [0, 1].
    rng : numpy.random.Generator or int or None, optional
        Source of randomness (an int seeds a new generator).
    num_samples : int, optional
        Independent draws per distribution (with replacement). ``None`` draws
        one and drops that axis.

    Returns
    -------
    int or ndarray of int64
        An ``int`` for 1-D logits and ``num_samples=None``; otherwise an array
        of shape ``logits.shape[:-1]`` (plus ``(num_samples,)`` when given).

    Raises
    ------
    ValueError, TypeError
        Bad logits, a negative temperature, or filter arguments out of range.

    See Also
    --------
    softmax, filter_top_k, filter_top_p, filter_min_p

    References
    ----------
    Holtzman et al., ICLR 2020 (nucleus); Fan et al., ACL 2018 (top-k); Nguyen
    et al., 2024 (min-p); transformers ``LogitsProcessorList`` ordering.

    Examples
    --------
    >>> from llmmath.prob import sample
    >>> sample([1.0, 5.0, 2.0], temperature=0)
    1
    >>> draws = sample([0.0, 0.0, -np.inf], rng=0, num_samples=1000)
    >>> sorted(set(draws.tolist()))  # the masked token never appears
    [0, 1]
    """
    op = "sample"
    x, _ = _logits(logits, op, -1, name="logits")
    t = check_float(temperature, "temperature", op, min_value=0.0)
    if top_k is not None:
        top_k = check_int(top_k, "top_k", op, min_value=1)
    if top_p is not None:
        top_p = check_float(top_p, "top_p", op, min_value=0.0, max_value=1.0)
    if min_p is not None:
        min_p = check_float(min_p, "min_p", op, min_value=0.0, max_value=1.0)
    if num_samples is not None:
        num_samples = check_int(num_samples, "num_samples", op, min_value=1)
    gen = check_rng(rng, op)
    if x.shape[-1] == 0:
        raise InvalidValueError(f"{op}: argument 'logits' has no tokens (shape {x.shape}); expected V >= 1.")
    batch = x.shape[:-1]
    out_shape = batch + ((num_samples,) if num_samples is not None else ())
    if num_samples is not None:
        check_allocation(out_shape, "num_samples", op, dtype=np.int64, what="samples")

    if t == 0.0:  # greedy: deterministic, the generator is left untouched
        ids = np.argmax(x, axis=-1)
        if num_samples is not None:
            ids = np.broadcast_to(ids[..., None], out_shape).copy()
        return int(ids) if ids.ndim == 0 else ids.astype(np.int64)

    z = _scaled_shifted(x.astype(np.float64), -1, t)                  # (..., V)
    if top_k is not None:
        z = filter_top_k(z, top_k)
    if top_p is not None:
        z = filter_top_p(z, top_p)
    if min_p is not None:
        z = filter_min_p(z, min_p)
    probs = softmax(z, axis=-1).reshape(-1, x.shape[-1])              # (R, V)
    cdf = np.cumsum(probs, axis=-1)
    # the last token with positive probability: the guard for u * total
    # rounding up to total
    last = probs.shape[-1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)
    u = gen.random(size=(probs.shape[0], num_samples or 1))           # (R, n)
    ids = np.empty(u.shape, dtype=np.int64)
    for r in range(probs.shape[0]):
        found = np.searchsorted(cdf[r], u[r] * cdf[r, -1], side="right")
        ids[r] = np.minimum(found, last[r])
    ids = ids.reshape(out_shape)
    return int(ids) if ids.ndim == 0 else ids


def decoding_distribution(
    logits: Any,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
) -> np.ndarray:
    """The distribution that :func:`sample` draws from, after temperature and filters.

    Lessons: ``why_math`` (Why the mathematics matters); ``sampling`` (Sampling: greedy,
    temperature, top-k, top-p, min-p).

    The same steps as :func:`sample`, in the same order: divide the logits by
    ``temperature``; apply :func:`filter_top_k`, :func:`filter_top_p` and
    :func:`filter_min_p` (each only when given); take the softmax. Removed
    tokens get probability exactly 0 and the kept ones are renormalised.
    ``temperature = 0`` is greedy decoding: all the mass on the first largest
    logit (the token :func:`sample` returns), whatever the filters.

    Parameters
    ----------
    logits : array_like
        Shape ``(..., V)``; finite or ``-inf``, at least one finite per row.
    temperature : float, optional
        ``T >= 0``. Default 1.
    top_k : int, optional
        Keep the ``top_k`` largest logits (ties kept).
    top_p : float, optional
        Nucleus mass in [0, 1].
    min_p : float, optional
        Relative probability floor in [0, 1].

    Returns
    -------
    ndarray
        Same shape as the logits; each row is a distribution (float32 for
        float32 logits, float64 otherwise).

    Raises
    ------
    ValueError, TypeError
        As :func:`sample`.

    See Also
    --------
    sample, softmax, filter_top_k, filter_top_p, filter_min_p

    References
    ----------
    Holtzman et al., ICLR 2020 (nucleus); Fan et al., ACL 2018 (top-k); Nguyen
    et al., 2024 (min-p); transformers ``LogitsProcessorList`` ordering.

    Examples
    --------
    >>> from llmmath.prob import decoding_distribution
    >>> z = np.log([0.5, 0.3, 0.15, 0.05])
    >>> print(decoding_distribution(z, top_k=2).round(4))     # 0.5 and 0.3, renormalised
    [0.625 0.375 0.    0.   ]
    >>> print(decoding_distribution(z, temperature=0))        # greedy
    [1. 0. 0. 0.]
    """
    op = "decoding_distribution"
    x, _ = _logits(logits, op, -1, name="logits")
    t = check_float(temperature, "temperature", op, min_value=0.0)
    if top_k is not None:
        top_k = check_int(top_k, "top_k", op, min_value=1)
    if top_p is not None:
        top_p = check_float(top_p, "top_p", op, min_value=0.0, max_value=1.0)
    if min_p is not None:
        min_p = check_float(min_p, "min_p", op, min_value=0.0, max_value=1.0)
    if x.shape[-1] == 0:
        raise InvalidValueError(f"{op}: argument 'logits' has no tokens (shape {x.shape}); expected V >= 1.")
    if x.size == 0:
        return x.copy()
    if t == 0.0:  # greedy: one-hot on the first maximum, as sample(..., temperature=0) picks
        ids = np.argmax(x, axis=-1)[..., None]
        out = np.zeros(x.shape, dtype=x.dtype)
        np.put_along_axis(out, ids, 1.0, axis=-1)
        return out
    z = _scaled_shifted(x.astype(np.float64), -1, t)                  # (..., V)
    if top_k is not None:
        z = filter_top_k(z, top_k)
    if top_p is not None:
        z = filter_top_p(z, top_p)
    if min_p is not None:
        z = filter_min_p(z, min_p)
    return softmax(z, axis=-1).astype(x.dtype)
