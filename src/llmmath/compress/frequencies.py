"""From a model's probabilities to the integer frequencies an entropy coder needs.

An arithmetic coder cannot work with real numbers: encoder and decoder must cut
an interval into exactly the same pieces, so each step needs integer
frequencies ``f_1 .. f_V`` with a fixed total ``2**PRECISION``. The symbol ``x``
then costs ``-log2(f_x / 2**PRECISION)`` bits, the code length of the
*quantised* distribution ``q = f / 2**PRECISION``.

:func:`quantize` is the one function in llmmath that makes that step. It is
deterministic (the same floats in give the same integers out, on both sides of
the channel) and gives every symbol at least 1, so a symbol the model thinks
impossible can still be coded (at most ``PRECISION`` bits).

**Precision and what it costs.** With ``PRECISION = 24`` (the precision of
``constriction``'s default range coder, which the production path uses) each
of the ``V`` symbols first gets 1, the remaining ``2**24 - V`` are shared in
proportion to ``p`` and rounded down, and the few left over go to the most
probable symbol. The excess code length is the divergence
``KL(p || q)``, which is at most about ``V / (2**24 ln 2)`` bits per symbol:
``5e-6`` bits for ``V = 85`` characters, nothing a file size shows.

Examples
--------
>>> import numpy as np
>>> f = quantize(np.array([0.5, 0.25, 0.25, 0.0]))
>>> f.tolist(), int(f.sum()) == 2**PRECISION
([8388607, 4194304, 4194304, 1], True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath.errors import InvalidValueError

__all__ = ["PRECISION", "TOTAL", "quantize", "code_length"]

#: Bits of the frequency total: every distribution is coded as integers summing to 2**24.
PRECISION = 24
TOTAL = 1 << PRECISION


def quantize(probs: Any) -> np.ndarray:
    """Integer frequencies, each >= 1 and summing to ``2**PRECISION``, from probabilities.

    Lesson: ``compression`` (Language modelling is compression).

    Parameters
    ----------
    probs : array_like, shape (..., V)
        Non-negative finite weights along the last axis (they need not sum to
        1; each row is normalised first). ``2 <= V`` is not required, but
        ``V <= 2**PRECISION / 2`` is.

    Returns
    -------
    ndarray of int64, shape (..., V)
        ``f = floor(p (2**P - V)) + 1`` with the rounding remainder added to
        the largest entry (the first one on a tie), so every row sums to
        exactly ``2**PRECISION``.

    Raises
    ------
    ValueError
        A negative, NaN or infinite entry, a row that sums to 0, or too many symbols.

    Examples
    --------
    >>> quantize([[1.0, 1.0], [3.0, 1.0]]).tolist()
    [[8388608, 8388608], [12582912, 4194304]]
    """
    op = "quantize"
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 0:
        raise InvalidValueError(f"{op}: argument 'probs' must have at least one axis; got a "
                                "scalar.")
    V = p.shape[-1]
    if V == 0 or V > TOTAL // 2:
        raise InvalidValueError(f"{op}: argument 'probs' must have 1 to {TOTAL // 2} entries per "
                                f"row; got {V}.")
    total = p.sum(axis=-1, keepdims=True)
    # One check catches NaN, infinities, negative entries and empty rows (a NaN fails every
    # comparison; a negative or infinite entry makes the row's minimum or sum fail).
    if not (np.isfinite(total).all() and (total > 0).all() and p.min() >= 0):
        raise InvalidValueError(f"{op}: argument 'probs' must hold finite non-negative weights "
                                "with a positive sum in every row; got a NaN, an infinity, a "
                                "negative entry or an all-zero row.")
    free = TOTAL - V
    f = np.floor(p * (free / total)).astype(np.int64) + 1
    # Rounding down leaves a remainder of at most about V; it goes to the most likely symbol.
    rest = TOTAL - f.sum(axis=-1)
    flat = f.reshape(-1, V)
    flat[np.arange(len(flat)), p.reshape(-1, V).argmax(axis=-1)] += rest.reshape(-1)
    return f


def code_length(freqs: Any, symbols: Any) -> float:
    """``sum_t -log2(f_t[x_t] / 2**PRECISION)``: the bits an exact coder needs for the symbols.

    Parameters
    ----------
    freqs : array_like of int, shape (T, V)
    symbols : array_like of int, shape (T,)

    Examples
    --------
    >>> code_length([[4194304, 12582912]] * 3, [0, 0, 1])      # 2 + 2 + log2(4/3) bits
    4.415...
    """
    f = np.asarray(freqs, dtype=np.float64)
    x = np.asarray(symbols, dtype=np.int64)
    return float(-np.log2(np.take_along_axis(f, x[:, None], axis=1) / TOTAL).sum())
