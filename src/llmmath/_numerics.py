"""Scaling by a power of two before squaring or summing, written once.

A sum of squares, a variance or a dot product of numbers near 1e200
overflows although the answer (1e200 or so) is a perfectly good float, and
numbers near 1e-200 underflow to 0 in the same way. Dividing the data by a
power of two close to its largest entry first, and multiplying the result
back, cures both: dividing by ``2**e`` changes only the exponent of each
number, so it is exact (no rounding; the significands are untouched), and the
scaled entries are at most about 1 in size, so their squares and sums stay
far from the ends of the float range.

Two forms, for two kinds of caller:

* :func:`pow2_split` scales an array along some axes (per row of a batch, as
  norms and LayerNorm need) and returns the exponents, which the caller
  applies back with ``np.ldexp``; the power ``2**e`` itself is never formed.
* :func:`pow2_scale` gives one float scale ``s`` for a whole data set (the
  statistics functions divide by it and multiply their results back).

>>> import numpy as np
>>> x = np.array([3e200, 4e200])
>>> with np.errstate(over="ignore"):
...     print(np.sqrt(np.sum(x * x)))                  # the squares overflow
inf
>>> s = pow2_scale(x)
>>> print(f"{np.sqrt(np.sum((x / s) ** 2)) * s:.6g}")   # exact scaling, no overflow
5e+200
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["pow2_exponent", "pow2_split", "pow2_scale"]


def pow2_exponent(absmax: Any) -> np.ndarray:
    """The integer ``e`` with ``absmax * 2**-e`` in [0.5, 1), elementwise (0 for 0).

    Parameters
    ----------
    absmax : array_like
        Non-negative magnitudes (typically ``max |x|`` over some axes), finite.

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> pow2_exponent([0.0, 0.75, 1.0, 3e200]).tolist()
    [0, 0, 1, 666]
    """
    return np.frexp(absmax)[1]


def pow2_split(x: np.ndarray, axis: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x * 2**-e, e)``: ``x`` scaled so that its largest ``|entry|`` along ``axis`` is in [0.5, 1).

    ``e`` is :func:`pow2_exponent` of ``max |x|`` over ``axis`` (all axes for
    ``None``), kept with the reduced axes of size 1 so that it broadcasts
    against ``x``; ``np.ldexp(y, e)`` undoes the scaling exactly. A slice of
    zeros gets ``e = 0``. ``x`` must be finite and not empty along ``axis``.

    Examples
    --------
    >>> import numpy as np
    >>> y, e = pow2_split(np.array([[1e200, -3e200], [0.5, 0.25]]), axis=-1)
    >>> print(e.ravel().tolist(), bool(np.all(np.ldexp(y, e) == [[1e200, -3e200], [0.5, 0.25]])))
    [666, 0] True
    """
    e = pow2_exponent(np.abs(x).max(axis=axis, keepdims=True))
    return np.ldexp(x, -e), e


def pow2_scale(*arrays: np.ndarray) -> float:
    """One power of two ``s`` with ``max |x| / s`` in [1, 2) over every entry of every array.

    Dividing by ``s`` is exact and leaves every entry below 2 in size. ``s``
    is one binade below :func:`pow2_exponent`'s ``2**e`` so that it is a
    finite float even for data near the largest float (``2**1024`` is not).
    Gives 1.0 when there are no entries, when all are 0, or when the largest
    is not finite (then there is nothing a rescaling could save).

    Examples
    --------
    >>> import numpy as np
    >>> pow2_scale(np.array([3.0, -5.0]), np.array([0.5]))
    4.0
    >>> pow2_scale(np.zeros(3)), pow2_scale(np.array([np.inf]))
    (1.0, 1.0)
    """
    big = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    if big == 0.0 or not math.isfinite(big):
        return 1.0
    return math.ldexp(1.0, math.frexp(big)[1] - 1)
