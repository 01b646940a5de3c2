"""Sums over one axis as matrix-vector products with a vector of ones.

A speed branch. ``np.sum(x, axis=-1)`` over a short last axis (64 to 512
entries, the sizes of a small transformer) runs row by row; ``x @ ones`` hands
the same sum to BLAS. Measured on float32 arrays of the baby GPT's sizes, one
thread: (768, 128) 0.035 ms against 0.008 ms; (3072, 64) 0.10 against 0.02 ms;
(768, 512) 0.10 against 0.03 ms; over the leading axis (a bias gradient)
(768, 128) 0.024 against 0.006 ms. Same result up to rounding (the order of
the additions differs). Used in the hot loops of the fused operations; this
module imports nothing from the engine.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["sum_last", "sum_leading"]


@functools.lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def sum_last(x: np.ndarray) -> np.ndarray:
    """Σ over the last axis, kept with length 1 (like ``x.sum(-1, keepdims=True)``)."""
    n = x.shape[-1]
    if x.ndim == 0 or x.size == 0 or not x.flags.c_contiguous or x.dtype.kind != "f":
        return x.sum(axis=-1, keepdims=True)
    return (x.reshape(-1, n) @ _ones(n, x.dtype)).reshape(x.shape[:-1] + (1,))


def sum_leading(x: np.ndarray) -> np.ndarray:
    """Σ over every axis but the last (like ``x.reshape(-1, n).sum(0)``): a bias gradient."""
    n = x.shape[-1]
    rows = x.size // n if n else 0
    if x.size == 0 or not x.flags.c_contiguous or x.dtype.kind != "f":
        return x.reshape(-1, n).sum(axis=0)
    return _ones(rows, x.dtype) @ x.reshape(rows, n)
