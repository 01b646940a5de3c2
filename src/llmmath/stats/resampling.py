"""Resampling machinery behind :func:`llmmath.stats.bootstrap_ci` and
:func:`llmmath.stats.permutation_test`.

The internal machinery shared by :mod:`llmmath.stats.intervals` and
:mod:`llmmath.stats.tests` (none of it is re-exported by :mod:`llmmath.stats`):
bootstrap replicates, jackknife values, the BCa levels and the index batches
of a permutation test. The random draws follow ``scipy.stats.bootstrap`` and ``scipy.stats.permutation_test``
exactly (``rng.integers(0, n, (batch, n))`` per batch of bootstrap resamples,
one ``rng.permutation(n)`` per permutation), so the same seed gives the same
resamples as SciPy and results can be compared number for number.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from llmmath._numerics import pow2_scale
from llmmath.errors import InvalidValueError
from llmmath.stats import special

__all__ = [
    "SCALE_EQUIVARIANT",
    "data_scale",
    "statistic_on_rows",
    "bootstrap_replicates",
    "jackknife_values",
    "bca_levels",
    "permutation_indices",
]

_CHUNK_ELEMENTS = 2**22  # resampled values held in memory at once (32 MiB of float64)

# Statistics with stat(c x) = c stat(x) for c > 0. For these the bootstrap runs on
# x / s, s a power of two near max |x| (an exact division), and the results are
# multiplied back: np.mean of [1e308, 1e308] is then 1e308, not inf, and for
# ordinary data every value is the same to the last bit (scaling by 2**k commutes
# with rounding).
SCALE_EQUIVARIANT = frozenset({np.mean, np.median, np.std, np.min, np.max, np.amin, np.amax})


def data_scale(statistic: Callable[..., Any], x: np.ndarray) -> float:
    """The power of two to divide ``x`` by before resampling (1.0 for other statistics)."""
    return pow2_scale(x) if statistic in SCALE_EQUIVARIANT else 1.0


def _accepts_axis(statistic: Callable[..., Any]) -> bool:
    try:
        return "axis" in inspect.signature(statistic).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def statistic_on_rows(
    statistic: Callable[..., Any], vectorized: bool | None, op: str
) -> Callable[[np.ndarray], np.ndarray]:
    """Wrap ``statistic`` as a function from ``(R, n)`` samples to ``(R,)`` values.

    A vectorised statistic (one that takes ``axis``, like ``np.mean``) is called
    once per batch as ``statistic(rows, axis=-1)``; any other is called row by
    row. The values must be finite numbers, one per row.
    """
    vec = _accepts_axis(statistic) if vectorized is None else vectorized

    def on_rows(rows: np.ndarray) -> np.ndarray:
        # A floating-point fault inside the user's statistic (np.std of 1e300s
        # overflows) shows up as a non-finite value, refused below with a
        # message, instead of a RuntimeWarning from deep inside NumPy.
        with np.errstate(all="ignore"):
            if vec:
                values = np.asarray(statistic(rows, axis=-1))
            else:
                values = np.asarray([np.asarray(statistic(row)) for row in rows])
        if values.shape != rows.shape[:1] or values.dtype.kind not in "biuf":
            raise InvalidValueError(
                f"{op}: argument 'statistic' must return one real number per sample; "
                f"got values of shape {values.shape} and dtype {values.dtype} for "
                f"{rows.shape[0]} samples" + (" (called with axis=-1)." if vec else ".")
            )
        values = values.astype(np.float64)
        if not np.isfinite(values).all():
            raise InvalidValueError(
                f"{op}: argument 'statistic' returned a non-finite value "
                f"({float(values[~np.isfinite(values)][0])}) on a resample; expected "
                "finite numbers."
            )
        return values

    return on_rows


def _chunks(total: int, size: int) -> Iterator[int]:
    for start in range(0, total, size):
        yield min(size, total - start)


def bootstrap_replicates(
    x: np.ndarray,
    on_rows: Callable[[np.ndarray], np.ndarray],
    n_resamples: int,
    gen: np.random.Generator,
    batch: int | None,
) -> np.ndarray:
    """The statistic on ``n_resamples`` resamples of ``x`` drawn with replacement.

    Each batch draws ``gen.integers(0, n, (batch, n))``, as SciPy does; with
    ``batch=None`` the batch holds as many resamples as fit in
    ``_CHUNK_ELEMENTS`` values (all of them for moderate sizes, SciPy's default).
    """
    n = x.shape[0]
    size = batch if batch is not None else max(1, min(n_resamples, _CHUNK_ELEMENTS // n))
    parts = []
    for b in _chunks(n_resamples, size):
        idx = gen.integers(0, n, size=(b, n))                # (b, n)
        parts.append(on_rows(x[idx]))                       # (b,)
    return np.concatenate(parts)


def jackknife_values(x: np.ndarray, on_rows: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """The statistic on the ``n`` leave-one-out samples of ``x`` (row ``i`` drops ``x[i]``)."""
    n = x.shape[0]
    j = np.arange(n - 1)
    size = max(1, _CHUNK_ELEMENTS // n)
    parts = []
    for start in range(0, n, size):
        i = np.arange(start, min(n, start + size))
        idx = j[None, :] + (j[None, :] >= i[:, None])       # (rows, n-1): skip index i
        parts.append(on_rows(x[idx]))
    return np.concatenate(parts)


def bca_levels(
    theta_b: np.ndarray, theta_hat: float, theta_jack: np.ndarray, alpha: float, op: str
) -> tuple[float, float]:
    """The BCa quantile levels ``(alpha_1, alpha_2)`` of Efron (1987).

    ``z0 = Phi^{-1}(fraction of theta_b below theta_hat)`` (ties count half),
    ``a = sum U^3 / (6 (sum U^2)^{3/2})`` with jackknife influence values
    ``U_i = (n - 1)(mean(theta_(.)) - theta_(i))`` and
    ``alpha_k = Phi(z0 + (z0 + z_k) / (1 - a (z0 + z_k)))`` for
    ``z_k = Phi^{-1}(alpha), Phi^{-1}(1 - alpha)``. This is the definition of
    ``scipy.stats.bootstrap`` (Efron and Tibshirani 1993, §14.3), except
    that ``a = 0`` when the jackknife values are all equal (SciPy gives NaN).
    """
    B = theta_b.shape[0]
    below = (np.count_nonzero(theta_b < theta_hat) + np.count_nonzero(theta_b <= theta_hat)) / (2 * B)
    if below <= 0.0 or below >= 1.0:
        raise InvalidValueError(
            f"{op}: the BCa interval ('method' = 'bca') is undefined for this 'data': the "
            f"estimate {theta_hat!r} lies {'below' if below <= 0 else 'above'} every one of "
            f"the {B} bootstrap values, so the bias correction z0 is infinite. Use "
            "method='percentile' or more resamples."
        )
    z0 = special.ndtri(below)
    n = theta_jack.shape[0]
    u = (n - 1) * (theta_jack.mean() - theta_jack)
    top = float(np.max(np.abs(u)))
    if top == 0.0:
        a_hat = 0.0
    else:
        u = u / top                                          # a is scale-free; avoids overflow
        a_hat = float((u**3).sum() / n**3 / (6.0 * ((u**2).sum() / n**2) ** 1.5))
    levels = []
    for z in (special.ndtri(alpha), -special.ndtri(alpha)):
        num = z0 + z
        den = 1.0 - a_hat * num
        if den <= 0.0:
            raise InvalidValueError(
                f"{op}: the BCa interval ('method' = 'bca') is undefined for this 'data': "
                f"the acceleration a={a_hat:.3g} and bias z0={z0:.3g} give 1 - a (z0 + z) <= 0 "
                "at this 'confidence'. Use method='percentile' or a lower confidence."
            )
        levels.append(special.ndtr(z0 + num / den))
    return levels[0], levels[1]


def permutation_indices(
    n_a: int, n_b: int, n_resamples: int, gen: np.random.Generator
) -> tuple[Iterator[np.ndarray], int, bool]:
    """Batches of index rows whose first ``n_a`` entries form the permuted group a.

    When every split of the pooled data into groups of sizes ``n_a`` and ``n_b``
    fits in ``n_resamples`` (``C(n_a + n_b, n_a) <= n_resamples``), all splits
    are enumerated: an exact test. Otherwise ``n_resamples`` random
    permutations, one ``gen.permutation(n)`` each, as in SciPy.
    Returns ``(batches, count, exact)``.
    """
    n = n_a + n_b
    n_max = math.comb(n, n_a)
    size = max(1, _CHUNK_ELEMENTS // n)
    if n_resamples >= n_max:
        def exact() -> Iterator[np.ndarray]:
            splits = itertools.combinations(range(n), n_a)
            while rows := list(itertools.islice(splits, size)):
                first = np.asarray(rows, dtype=np.int64).reshape(len(rows), n_a)
                mask = np.ones((len(rows), n), dtype=bool)
                np.put_along_axis(mask, first, False, axis=1)
                rest = np.nonzero(mask)[1].reshape(len(rows), n_b)
                yield np.concatenate([first, rest], axis=1)
        return exact(), n_max, True

    def randomised() -> Iterator[np.ndarray]:
        for b in _chunks(n_resamples, size):
            yield np.stack([gen.permutation(n) for _ in range(b)])
    return randomised(), n_resamples, False
