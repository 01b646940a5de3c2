"""Hypothesis strategies shared by the exercise specs: arrays, logits, distributions.

Every strategy shrinks towards the plain case (float64, no batch axes, no
huge offsets, no masked entries), so the failing input a learner is shown
contains an edge feature only when the bug needs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["float_dtypes", "floats", "arrays", "batch_shapes", "logits", "distributions",
           "int_arrays"]

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)


def float_dtypes(float32: bool = True) -> st.SearchStrategy[np.dtype]:
    """float64, and float32 unless ``float32=False`` (float64 first: it is what shrinking reaches)."""
    return st.sampled_from([F64, F32] if float32 else [F64])


def floats(dtype: Any = F64, lo: float = -10.0, hi: float = 10.0) -> st.SearchStrategy[float]:
    """Finite floats in ``[lo, hi]`` representable in ``dtype``; none of magnitude below 1e-6."""
    width = 32 if np.dtype(dtype) == F32 else 64
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False,
                     width=width).map(_no_tiny)


def _no_tiny(v: float) -> float:
    """Magnitudes below 1e-6 become 0: squares of 1e-200 underflow, and no exercise is about that."""
    return 0.0 if abs(v) < 1e-6 else v


def arrays(dtype: Any, shape: tuple[int, ...], lo: float = -10.0,
           hi: float = 10.0) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``dtype`` and ``shape`` with entries from :func:`floats`."""
    return hnp.arrays(np.dtype(dtype), shape, elements=floats(dtype, lo, hi))


def int_arrays(shape: tuple[int, ...], lo: int, hi: int) -> st.SearchStrategy[np.ndarray]:
    """int64 arrays with entries in ``[lo, hi]``."""
    return hnp.arrays(np.int64, shape, elements=st.integers(lo, hi))


def batch_shapes(max_dims: int = 2, max_side: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """Leading (batch) axes: ``()`` up to ``max_dims`` axes of 1 to ``max_side``."""
    return hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side)


@st.composite
def logits(draw: Any, shape: tuple[int, ...], dtype: Any = F64, axis: int = -1,
           offsets: bool = True, masks: bool = True, lo: float = -20.0,
           hi: float = 20.0) -> np.ndarray:
    """Logits of ``shape``: moderate values, optionally shifted by ±1e4 and with ``-inf`` entries.

    Every slice along ``axis`` keeps at least one finite entry.
    """
    x = draw(arrays(dtype, shape, lo, hi)).astype(dtype)
    if x.size == 0:
        return x
    if offsets and draw(st.booleans()):
        x = (x + np.asarray(draw(st.sampled_from([1e4, -1e4, 1e3])), dtype=dtype)).astype(dtype)
    if masks and draw(st.booleans()):
        mask = draw(hnp.arrays(np.bool_, shape))
        keep = np.moveaxis(mask, axis, -1)
        keep[..., 0] = False                      # the first entry of each slice stays finite
        x = np.where(np.moveaxis(keep, -1, axis), -np.inf, x).astype(dtype)
    return x


@st.composite
def distributions(draw: Any, shape: tuple[int, ...], dtype: Any = F64,
                  zeros: bool = True) -> np.ndarray:
    """Probability vectors along the last axis (``shape[-1] >= 1``), with exact zeros if ``zeros``."""
    lo = 0.0 if zeros else 0.01
    w = draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, 10.0, allow_subnormal=False)))
    w = np.where(w < 1e-3, 0.0, w) if zeros else w
    empty = w.sum(axis=-1, keepdims=True) == 0
    w = np.where(empty & (np.arange(shape[-1]) == 0), 1.0, w)   # no all-zero rows
    p = w / w.sum(axis=-1, keepdims=True)
    return p.astype(dtype)
