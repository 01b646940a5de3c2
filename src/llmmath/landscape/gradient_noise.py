"""Gradient noise on a real problem (public through :mod:`llmmath.landscape`).

A seeded logistic-regression data set, its per-example gradients in closed
form, mini-batch gradients drawn from them, and the measurement of
E‖g_B − g‖² against the batch size |B|.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._numerics import pow2_scale
from llmmath._validation import (
    as_float_array,
    as_int_array,
    check_allocation,
    check_bool,
    check_int,
    check_rng,
)
from llmmath.errors import InvalidValueError, ShapeError
from llmmath.prob import sigmoid

__all__ = [
    "LogisticProblem", "logistic_problem", "logistic_gradients",
    "minibatch_gradients", "GradientNoise", "minibatch_gradient_variance",
]


@dataclass(frozen=True)
class LogisticProblem:
    """A fixed binary classification data set for measuring gradient noise.

    Lesson: none (a helper of the loss-landscape figures).
    """

    features: np.ndarray      # (N, d)
    labels: np.ndarray        # (N,) 0.0 or 1.0
    true_weights: np.ndarray  # (d,) the weights the labels were drawn from


def logistic_problem(n_examples: int = 1000, n_features: int = 2,
                     rng: np.random.Generator | int | None = 0) -> LogisticProblem:
    r"""A seeded logistic-regression data set.

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    Features x ~ N(0, I_d), true weights w* ~ N(0, 4 I_d) / √d, labels
    y ~ Bernoulli(σ(x · w*)).

    Parameters
    ----------
    n_examples : int
        N >= 2.
    n_features : int
        d >= 1.
    rng : numpy.random.Generator or int or None
        Default 0: the same data set every time.

    Returns
    -------
    LogisticProblem

    Examples
    --------
    >>> from llmmath.landscape import logistic_problem
    >>> data = logistic_problem(500, 2)
    >>> data.features.shape, data.labels.shape
    ((500, 2), (500,))
    """
    op = "logistic_problem"
    n = check_int(n_examples, "n_examples", op, min_value=2, max_value=10_000_000)
    d = check_int(n_features, "n_features", op, min_value=1, max_value=10_000)
    check_allocation((n, d), ("n_examples", "n_features"), op, what="features")
    gen = check_rng(rng, op)
    w = gen.normal(scale=2.0, size=d) / np.sqrt(d)
    X = gen.standard_normal((n, d))
    y = (gen.random(n) < sigmoid(X @ w)).astype(np.float64)
    return LogisticProblem(X, y, w)


def logistic_gradients(features: Any, labels: Any, weights: Any) -> np.ndarray:
    r"""Per-example gradients of the logistic (binary cross-entropy) loss.

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    .. math::
        \ell_i(w) = -y_i \log \sigma(x_i \cdot w) - (1 - y_i) \log(1 - \sigma(x_i \cdot w)),
        \qquad \nabla \ell_i(w) = (\sigma(x_i \cdot w) - y_i)\, x_i

    Parameters
    ----------
    features : array_like, shape (N, d)
    labels : array_like, shape (N,)
        In [0, 1].
    weights : array_like, shape (d,)

    Returns
    -------
    ndarray, shape (N, d)
        Row i is ∇ℓ_i(w); their mean is the full-batch gradient.

    Examples
    --------
    >>> from llmmath.landscape import logistic_gradients
    >>> print(logistic_gradients([[1.0, 2.0]], [1.0], [0.0, 0.0]))   # (0.5 - 1) x
    [[-0.5 -1. ]]
    """
    op = "logistic_gradients"
    X = as_float_array(features, "features", op, ndim=2, dtype=np.float64)
    y = as_float_array(labels, "labels", op, ndim=1, dtype=np.float64)
    w = as_float_array(weights, "weights", op, ndim=1, dtype=np.float64)
    if y.shape[0] != X.shape[0] or w.shape[0] != X.shape[1]:
        raise ShapeError(f"{op}: arguments 'features' {X.shape}, 'labels' {y.shape} and "
                         f"'weights' {w.shape} do not fit; expected (N, d), (N,) and (d,).")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise InvalidValueError(f"{op}: argument 'labels' must lie in [0, 1]; got values in "
                                f"[{y.min():g}, {y.max():g}].")
    with np.errstate(over="ignore", invalid="ignore"):   # x·w beyond ±1e308 saturates σ
        z = X @ w
    if np.isnan(z).any():
        raise InvalidValueError(f"{op}: x·w is undefined (∞ − ∞) for example "
                                f"{int(np.argmax(np.isnan(z)))}; rescale 'features' or 'weights'.")
    return (sigmoid(z) - y)[:, None] * X


def _per_example(grads: Any, op: str) -> np.ndarray:
    g = as_float_array(grads, "per_example_grads", op, ndim=(1, 2), dtype=np.float64)
    g = g[:, None] if g.ndim == 1 else g
    if g.shape[0] < 2 or g.shape[1] < 1:
        raise ShapeError(f"{op}: argument 'per_example_grads' must be (N, P) with N >= 2 and "
                         f"P >= 1; got shape {g.shape}.")
    return g


def _batch_means(g: np.ndarray, bsz: int, n_batches: int, replace: bool,
                 gen: np.random.Generator, budget: int = 4_000_000) -> np.ndarray:
    n, p = g.shape
    out = np.empty((n_batches, p))
    per = max(1, budget // (bsz * p + (0 if replace else n)))
    for s in range(0, n_batches, per):
        m = min(per, n_batches - s)
        if replace:
            idx = gen.integers(0, n, (m, bsz))
        else:  # the bsz smallest of N uniform keys: a uniformly random subset
            idx = np.argpartition(gen.random((m, n)), bsz - 1, axis=1)[:, :bsz]
        out[s:s + m] = g[idx].mean(axis=1)        # (m, bsz, P) -> (m, P)
    return out


def minibatch_gradients(per_example_grads: Any, batch_size: int, n_batches: int = 1000,
                        replace: bool = True,
                        rng: np.random.Generator | int | None = None) -> np.ndarray:
    r"""Mini-batch gradients g_B = (1/|B|) Σ_{i∈B} ∇ℓ_i for random batches.

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    Parameters
    ----------
    per_example_grads : array_like, shape (N, P) or (N,)
    batch_size : int
        |B| >= 1 (at most N without replacement).
    n_batches : int
        How many batches, >= 1.
    replace : bool
        Draw each batch's examples with replacement (independent draws) or
        as a random subset.
    rng : numpy.random.Generator or int or None

    Returns
    -------
    ndarray, shape (n_batches, P)

    Examples
    --------
    >>> from llmmath.landscape import minibatch_gradients
    >>> minibatch_gradients([[1.0], [3.0]], batch_size=2, n_batches=5, replace=False, rng=0).ravel()
    array([2., 2., 2., 2., 2.])
    """
    op = "minibatch_gradients"
    g = _per_example(per_example_grads, op)
    rep = check_bool(replace, "replace", op)
    bsz = check_int(batch_size, "batch_size", op, min_value=1,
                    max_value=None if rep else g.shape[0])
    nb = check_int(n_batches, "n_batches", op, min_value=1)
    check_allocation((nb, bsz, g.shape[1]), ("n_batches", "batch_size"), op,
                     what="gathered gradients (drawn in batches)")
    return _batch_means(g, bsz, nb, rep, check_rng(rng, op))


@dataclass(frozen=True)
class GradientNoise:
    """Measured variance of mini-batch gradients against the batch size.

    Lesson: none (a helper of the loss-landscape figures).
    """

    batch_sizes: np.ndarray       # (K,)
    variances: np.ndarray         # (K,) mean over batches of ||g_B - g||^2
    standard_errors: np.ndarray   # (K,) of those means
    predicted: np.ndarray         # (K,) sigma2 / |B|, times (N - |B|)/(N - 1) without replacement
    sigma2: float                 # mean over examples of ||g_i - g||^2
    slope: float                  # least-squares slope of log variance on log |B|
    intercept: float
    n_batches: int
    replace: bool


def minibatch_gradient_variance(
    per_example_grads: Any,
    batch_sizes: Any = (1, 2, 4, 8, 16, 32, 64),
    n_batches: int = 1000,
    replace: bool = True,
    rng: np.random.Generator | int | None = None,
) -> GradientNoise:
    r"""Measure how the noise of a mini-batch gradient falls with the batch size.

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    With g = (1/N) Σ ∇ℓ_i the full gradient and σ² = (1/N) Σ ‖∇ℓ_i − g‖² the
    per-example variance (the trace of the covariance), a batch of |B|
    examples drawn with replacement has

    .. math:: \mathbb{E}\,\lVert g_B - g \rVert^2 = \frac{\sigma^2}{|B|},

    a line of slope −1 on log–log axes; a random subset (no replacement) has
    σ²/|B| · (N − |B|)/(N − 1). For each |B| this draws ``n_batches``
    batches, averages ‖g_B − g‖² (with its standard error) and fits
    log Var = slope · log |B| + intercept by least squares.

    Parameters
    ----------
    per_example_grads : array_like, shape (N, P) or (N,)
        Finite; not all equal.
    batch_sizes : array_like of int
        At least two distinct sizes >= 1 (at most N without replacement; below
        N, where the variance vanishes).
    n_batches : int
        Batches per size, >= 2.
    replace : bool
    rng : numpy.random.Generator or int or None

    Returns
    -------
    GradientNoise

    Raises
    ------
    InvalidValueError, ShapeError
        Bad shapes or sizes, all gradients equal, or a measured variance of 0
        (no logarithm).

    References
    ----------
    W. G. Cochran, *Sampling Techniques*, 3rd ed., Wiley, 1977, theorem 2.2
    (the finite-population correction); L. Bottou, F. E. Curtis and J.
    Nocedal, "Optimization Methods for Large-Scale Machine Learning", SIAM
    Review 60 (2018) 223-311, section 5.

    Examples
    --------
    >>> from llmmath.landscape import (logistic_gradients, logistic_problem,
    ...                                minibatch_gradient_variance)
    >>> data = logistic_problem(1000, 2)
    >>> grads = logistic_gradients(data.features, data.labels, [0.0, 0.0])
    >>> noise = minibatch_gradient_variance(grads, n_batches=2000, rng=0)
    >>> abs(noise.slope + 1) < 0.05
    True
    """
    op = "minibatch_gradient_variance"
    g = _per_example(per_example_grads, op)
    n = g.shape[0]
    rep = check_bool(replace, "replace", op)
    sizes = as_int_array(batch_sizes, "batch_sizes", op, min_value=1,
                         max_value=None if rep else n - 1, min_ndim=1)
    if sizes.ndim != 1 or np.unique(sizes).size < 2:
        raise InvalidValueError(f"{op}: argument 'batch_sizes' needs at least two distinct "
                                f"sizes to fit a slope; got {sizes.tolist()}.")
    nb = check_int(n_batches, "n_batches", op, min_value=2)
    check_allocation((nb, int(sizes.sum()), g.shape[1]), ("n_batches", "batch_sizes"), op,
                     what="gathered gradients (drawn in batches)")
    gen = check_rng(rng, op)
    scale = pow2_scale(g)
    g = g / scale                                   # exact, |g| < 2: the squares cannot overflow
    mean = g.mean(axis=0)
    sigma2 = float(np.mean(np.sum((g - mean) ** 2, axis=1)))
    if sigma2 == 0.0:
        raise InvalidValueError(f"{op}: every row of argument 'per_example_grads' is the same, "
                                "so there is no noise to measure; expected rows that differ.")
    var, se = np.empty(len(sizes)), np.empty(len(sizes))
    for k, bsz in enumerate(sizes):
        sq = np.sum((_batch_means(g, int(bsz), nb, rep, gen) - mean) ** 2, axis=1)   # (nb,)
        var[k], se[k] = sq.mean(), sq.std(ddof=1) / np.sqrt(nb)
    if np.any(var == 0.0):
        raise InvalidValueError(f"{op}: the measured variance is 0 at |B| = "
                                f"{int(sizes[np.argmax(var == 0.0)])} (argument 'batch_sizes'); "
                                "its logarithm is undefined (use more 'n_batches' or more "
                                "distinct examples).")
    slope, intercept = np.polyfit(np.log(sizes), np.log(var), 1)
    pred = sigma2 / sizes * (1.0 if rep else (n - sizes) / (n - 1.0))
    s2 = scale * scale
    return GradientNoise(sizes, var * s2, se * s2, pred * s2, sigma2 * s2, float(slope),
                         float(intercept + 2.0 * np.log(scale)), nb, rep)
