"""The fit of L(N, D) = E + A / N^alpha + B / D^beta, as in Chinchilla's third approach.

Hoffmann et al. [1]_ model the final loss of a run with ``N`` parameters
trained on ``D`` tokens as

    L(N, D) = E + A / N^alpha + B / D^beta

(``E``: the loss no model reaches, the entropy of the text itself; the other
two terms: what a finite model and a finite amount of data cost). They fit it
in log space: with ``A = e^a``, ``B = e^b``, ``E = e^e`` the prediction is
``log L = LSE(a - alpha log N, b - beta log D, e)`` (``LSE`` is log-sum-exp),
and the five numbers ``(a, b, e, alpha, beta)`` minimise

    sum_i Huber_delta(LSE(a - alpha log N_i, b - beta log D_i, e) - log L_i)

with ``delta = 1e-3``, by L-BFGS from a grid of starting points. The Huber
loss is quadratic within ``delta`` of zero and linear beyond, so one bad run
moves the fit far less than under least squares.

Here the grid is theirs (alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5,
..., 1}, a, b in {0, 5, ..., 25}: 4,500 points); the objective is evaluated
at all of them at once and L-BFGS-B (L-BFGS with alpha, beta kept in
[0, 5]) starts from the best ``n_starts``, which finds the same optimum as
starting from every point at a fraction of the cost (the test suite checks
the recovered constants on synthetic data). SciPy's optimiser is imported
inside :func:`fit_scaling_law`, so importing this module needs NumPy only.

References
----------
.. [1] J. Hoffmann et al., "Training Compute-Optimal Large Language Models",
   NeurIPS 2022 (arXiv:2203.15556), section 3.3 and appendix D.2.
.. [2] P. J. Huber, "Robust Estimation of a Location Parameter", Annals of
   Mathematical Statistics 35 (1964).
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmmath._validation import as_float_array, check_float, check_int, check_rng
from llmmath.errors import InvalidValueError, ShapeError

__all__ = ["HUBER_DELTA", "PARAMETERS", "ScalingLaw", "FitResult", "BootstrapResult",
           "huber", "predict_log_loss", "huber_objective", "start_grid", "fit_scaling_law",
           "bootstrap_scaling_law", "r_squared", "cross_validated_predictions",
           "fit_power_law"]

#: Hoffmann et al.'s Huber threshold on log-loss residuals.
HUBER_DELTA = 1e-3

#: The law's constants, in the order of :meth:`ScalingLaw.as_tuple`.
PARAMETERS = ("E", "A", "B", "alpha", "beta")

_ALPHA_BOUNDS = (0.0, 5.0)


@dataclass(frozen=True)
class ScalingLaw:
    """L(N, D) = E + A / N^alpha + B / D^beta.

    Lesson: none (part of the ``llmmath scaling`` command).

    Examples
    --------
    >>> law = ScalingLaw(E=1.0, A=10.0, B=20.0, alpha=0.5, beta=0.5)
    >>> float(law.loss(100.0, 400.0))                 # 1 + 10/10 + 20/20
    3.0
    >>> law.theta                                     # (log A, log B, log E, alpha, beta)
    (2.302585092994046, 2.995732273553991, 0.0, 0.5, 0.5)
    >>> np.allclose(ScalingLaw.from_theta(law.theta).as_tuple(), law.as_tuple(), rtol=1e-15)
    True
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def loss(self, N: Any, D: Any) -> np.ndarray:
        """The predicted loss at ``N`` parameters and ``D`` tokens (broadcast)."""
        N = np.asarray(N, dtype=np.float64)
        D = np.asarray(D, dtype=np.float64)
        return self.E + self.A * N ** -self.alpha + self.B * D ** -self.beta

    @property
    def theta(self) -> tuple[float, float, float, float, float]:
        """The fitted coordinates ``(a, b, e, alpha, beta) = (log A, log B, log E, alpha, beta)``."""
        return (math.log(self.A), math.log(self.B), math.log(self.E), self.alpha, self.beta)

    @classmethod
    def from_theta(cls, theta: Any) -> ScalingLaw:
        a, b, e, alpha, beta = (float(t) for t in theta)
        return cls(E=math.exp(e), A=math.exp(a), B=math.exp(b), alpha=alpha, beta=beta)

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        return (self.E, self.A, self.B, self.alpha, self.beta)

    def to_dict(self) -> dict[str, float]:
        return dict(zip(PARAMETERS, self.as_tuple(), strict=True))


def _points(N: Any, D: Any, L: Any, op: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """N, D, L as float64 vectors of one length, all finite and > 0."""
    arrays = []
    for name, x in (("N", N), ("D", D), ("L", L)):
        a = as_float_array(x, name, op, ndim=1, allow_empty=False, dtype=np.float64)
        if (a <= 0).any():
            i = int(np.argmax(a <= 0))
            raise InvalidValueError(f"{op}: argument '{name}' must be > 0 everywhere; got "
                                    f"{float(a[i])!r} at index {i}.")
        arrays.append(a)
    n, d, l = arrays
    if not n.shape == d.shape == l.shape:
        raise ShapeError(f"{op}: N, D and L must have one length (one entry per run); got "
                         f"shapes {n.shape}, {d.shape}, {l.shape}.")
    return n, d, l


def huber(r: Any, delta: float = HUBER_DELTA) -> np.ndarray:
    """Huber's loss: ``r**2 / 2`` where ``|r| <= delta``, ``delta * (|r| - delta / 2)`` beyond.

    Lesson: none (part of the ``llmmath scaling`` command).

    Examples
    --------
    >>> huber([0.0, 0.5e-3, 2e-3]).tolist()          # 0, r²/2, δ(|r| − δ/2)
    [0.0, 1.25e-07, 1.5e-06]
    """
    delta = check_float(delta, "delta", "huber", min_value=0.0, min_inclusive=False)
    a = np.abs(np.asarray(r, dtype=np.float64))
    return np.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta))


def _lse3(u1: np.ndarray, u2: np.ndarray, u3: np.ndarray) -> tuple[np.ndarray, ...]:
    """log(e^u1 + e^u2 + e^u3) and the three softmax weights, without overflow."""
    m = np.maximum(np.maximum(u1, u2), u3)
    w1, w2, w3 = np.exp(u1 - m), np.exp(u2 - m), np.exp(u3 - m)
    s = w1 + w2 + w3
    return m + np.log(s), w1 / s, w2 / s, w3 / s


def predict_log_loss(theta: Any, N: Any, D: Any) -> np.ndarray:
    """``LSE(a - alpha log N, b - beta log D, e)``: log L(N, D) for ``theta = (a, b, e, alpha, beta)``.

    Lesson: none (part of the ``llmmath scaling`` command).

    Examples
    --------
    >>> law = ScalingLaw(E=1.0, A=10.0, B=20.0, alpha=0.5, beta=0.5)
    >>> float(np.exp(predict_log_loss(law.theta, 100.0, 400.0)))
    3.0
    """
    a, b, e, alpha, beta = (float(t) for t in theta)
    log_n = np.log(np.asarray(N, dtype=np.float64))
    log_d = np.log(np.asarray(D, dtype=np.float64))
    return _lse3(a - alpha * log_n, b - beta * log_d, np.full(np.broadcast(log_n, log_d).shape,
                                                              e))[0]


def huber_objective(theta: Any, N: Any, D: Any, L: Any, delta: float = HUBER_DELTA) -> float:
    """The quantity the fit minimises: ``sum_i Huber_delta(log L_hat(N_i, D_i) - log L_i)``.

    Lesson: ``scaling_laws`` (Scaling laws).

    Examples
    --------
    >>> law = ScalingLaw(E=1.0, A=10.0, B=20.0, alpha=0.5, beta=0.5)
    >>> huber_objective(law.theta, [100.0], [400.0], [3.0])   # a perfect prediction
    0.0
    """
    n, d, l = _points(N, D, L, "huber_objective")
    return float(huber(predict_log_loss(theta, n, d) - np.log(l), delta).sum())


def _objective_and_gradient(theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray,
                            log_l: np.ndarray, delta: float) -> tuple[float, np.ndarray]:
    """The objective divided by ``delta`` (the same minimiser, gradients of order one) and its
    gradient with respect to ``(a, b, e, alpha, beta)``.

    With ``c = clip(r, -delta, delta)`` Huber's loss is ``c (r - c/2)`` and its derivative
    ``c``; the derivatives of the log-sum-exp are its softmax weights ``w_k``.
    """
    a, b, e, alpha, beta = theta
    u1 = a - alpha * log_n
    u2 = b - beta * log_d
    m = np.maximum(np.maximum(u1, u2), e)
    w1, w2, w3 = np.exp(u1 - m), np.exp(u2 - m), np.exp(e - m)
    s = w1 + w2 + w3
    r = m + np.log(s) - log_l                      # log L_hat - log L
    c = np.clip(r, -delta, delta)
    q = c / (delta * s)                            # dHuber/dr / delta, over the softmax's sum
    grad = np.array([q @ w1, q @ w2, q @ w3, -(q * w1) @ log_n, -(q * w2) @ log_d])
    return float(c @ (r - 0.5 * c)) / delta, grad


def start_grid() -> np.ndarray:
    """Hoffmann et al.'s grid of starting points, rows ``(a, b, e, alpha, beta)``: 4,500 of them.

    Lesson: none (part of the ``llmmath scaling`` command).

    Examples
    --------
    >>> g = start_grid()
    >>> g.shape, float(g[:, 3].min()), float(g[:, 3].max()), sorted(set(g[:, 2].tolist()))
    ((4500, 5), 0.0, 2.0, [-1.0, -0.5, 0.0, 0.5, 1.0])
    """
    exps = (0.0, 0.5, 1.0, 1.5, 2.0)
    es = (-1.0, -0.5, 0.0, 0.5, 1.0)
    abs_ = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
    return np.array([(a, b, e, al, be) for a, b, e, al, be
                     in itertools.product(abs_, abs_, es, exps, exps)], dtype=np.float64)


def _grid_objectives(grid: np.ndarray, log_n: np.ndarray, log_d: np.ndarray,
                     log_l: np.ndarray, delta: float) -> np.ndarray:
    """The objective at every row of ``grid`` at once, shape (len(grid),)."""
    a, b, e, alpha, beta = (grid[:, i:i + 1] for i in range(5))               # (G, 1)
    pred = _lse3(a - alpha * log_n, b - beta * log_d, np.broadcast_to(e, (len(grid),
                                                                          len(log_n))))[0]
    return huber(pred - log_l, delta).sum(axis=1)


@dataclass(frozen=True, eq=False)
class FitResult:
    """What :func:`fit_scaling_law` returns.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    law: ScalingLaw
    objective: float          # sum of Huber losses at the optimum (not divided by delta)
    delta: float
    n_points: int
    n_starts: int             # L-BFGS runs
    theta: tuple[float, ...]  # (a, b, e, alpha, beta)
    r2: float                 # R² of the fitted losses (not logs) on the points fitted
    residuals: np.ndarray = field(repr=False)   # log L_hat - log L, one per point


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run the optimiser with one BLAS thread where threadpoolctl is installed.

    L-BFGS moves 5-vectors: more threads only wait on one another, and on a busy
    machine that waiting makes the fit ten times slower. SciPy is imported first, so
    that its own BLAS is loaded when the limit is applied.
    """
    import scipy.optimize  # noqa: F401

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _minimize(theta0: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_l: np.ndarray,
              delta: float) -> tuple[np.ndarray, float]:
    from scipy.optimize import minimize

    bounds = [(None, None), (None, None), (-20.0, 10.0), _ALPHA_BOUNDS, _ALPHA_BOUNDS]
    theta0 = np.clip(theta0, [-np.inf, -np.inf, -20.0, 0.0, 0.0], [np.inf, np.inf, 10.0, 5.0, 5.0])
    res = minimize(_objective_and_gradient, theta0, args=(log_n, log_d, log_l, delta), jac=True,
                   method="L-BFGS-B", bounds=bounds,
                   options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-10})
    return np.asarray(res.x, dtype=np.float64), float(res.fun) * delta


def fit_scaling_law(N: Any, D: Any, L: Any, *, delta: float = HUBER_DELTA, n_starts: int = 16,
                    starts: Any = None) -> FitResult:
    """Fit ``L(N, D) = E + A / N^alpha + B / D^beta`` to measured runs (Chinchilla's approach 3).

    Lesson: ``scaling_laws`` (Scaling laws).

    Parameters
    ----------
    N, D, L : array_like, shape (n,)
        Parameters, tokens seen and final loss of each run (all > 0).
    delta : float
        Huber threshold on log-loss residuals (Hoffmann et al.: 1e-3).
    n_starts : int
        L-BFGS runs from the best points of :func:`start_grid` (0 is allowed when
        ``starts`` are given).
    starts : array_like, shape (k, 5), optional
        Further starting points ``(a, b, e, alpha, beta)`` (a bootstrap passes the
        full-data optimum).

    Returns
    -------
    FitResult
        ``law`` is the best optimum over all starts.

    Raises
    ------
    ValueError
        Fewer than 5 points, or arrays of unequal length, or a value <= 0.

    Examples
    --------
    >>> truth = ScalingLaw(E=1.2, A=40.0, B=300.0, alpha=0.4, beta=0.35)
    >>> N, D = np.meshgrid(np.geomspace(1e4, 2e6, 5), np.geomspace(1e5, 1e7, 4))
    >>> fit = fit_scaling_law(N.ravel(), D.ravel(), truth.loss(N, D).ravel())
    >>> print(round(fit.law.alpha, 3), round(fit.law.beta, 3), round(fit.law.E, 3))
    0.4 0.35 1.2
    """
    op = "fit_scaling_law"
    n, d, l = _points(N, D, L, op)
    delta = check_float(delta, "delta", op, min_value=0.0, min_inclusive=False)
    n_starts = check_int(n_starts, "n_starts", op, min_value=0 if starts is not None else 1)
    if len(n) < 5:
        raise InvalidValueError(f"{op}: the law has 5 constants, so it needs at least 5 runs; "
                                f"got {len(n)}.")
    if starts is not None:
        starts = as_float_array(starts, "starts", op, dtype=np.float64)
        if starts.size % 5:
            raise ShapeError(f"{op}: 'starts' must hold rows of 5 numbers (a, b, e, alpha, "
                             f"beta); got shape {starts.shape}.")
    with _one_blas_thread():
        return _fit(n, d, l, delta, n_starts, starts)


def _fit(n: np.ndarray, d: np.ndarray, l: np.ndarray, delta: float, n_starts: int,
         starts: np.ndarray | None) -> FitResult:
    log_n, log_d, log_l = np.log(n), np.log(d), np.log(l)
    grid = start_grid()
    best = np.argsort(_grid_objectives(grid, log_n, log_d, log_l, delta), kind="stable")
    candidates = [grid[i] for i in best[:n_starts]]
    if starts is not None:
        candidates = [*starts.reshape(-1, 5), *candidates]
    theta, value = None, math.inf
    for theta0 in candidates:
        t, f = _minimize(np.asarray(theta0, dtype=np.float64), log_n, log_d, log_l, delta)
        if f < value:
            theta, value = t, f
    law = ScalingLaw.from_theta(theta)
    residuals = predict_log_loss(theta, n, d) - log_l
    r2 = r_squared(l, law.loss(n, d)) if len(np.unique(l)) > 1 else math.nan
    return FitResult(law, value, delta, len(n), len(candidates),
                     tuple(float(t) for t in theta), r2, residuals)


def r_squared(y: Any, y_hat: Any) -> float:
    """Coefficient of determination ``1 - sum (y - y_hat)^2 / sum (y - mean y)^2``.

    Lesson: none (part of the ``llmmath scaling`` command).

    Examples
    --------
    >>> r_squared([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), r_squared([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    (1.0, 0.0)
    """
    y = as_float_array(y, "y", "r_squared", ndim=1, allow_empty=False, dtype=np.float64)
    y_hat = as_float_array(y_hat, "y_hat", "r_squared", ndim=1, dtype=np.float64)
    if y.shape != y_hat.shape:
        raise ShapeError(f"r_squared: y and y_hat must have one shape; got {y.shape} and "
                         f"{y_hat.shape}.")
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0.0:
        raise InvalidValueError("r_squared: every y is the same, so R² is undefined.")
    return 1.0 - float(((y - y_hat) ** 2).sum()) / total


def _identifiable(n: np.ndarray, d: np.ndarray) -> bool:
    """At least two distinct N and two distinct D: otherwise alpha or beta is not determined."""
    return len(np.unique(n)) >= 2 and len(np.unique(d)) >= 2


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Percentile intervals for the law's constants from refits on resampled runs.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    samples: np.ndarray = field(repr=False)   # (n_resamples, 5): E, A, B, alpha, beta
    confidence: float
    intervals: dict[str, tuple[float, float]]
    n_resamples: int
    redrawn: int                              # resamples drawn again (one distinct N or D)

    def interval(self, values: Any) -> tuple[float, float]:
        """The percentile interval of any per-resample quantity ``values``.

        Resamples where the quantity is undefined (NaN: a fit with alpha = 0 has no
        compute-optimal N) are left out; with none left the interval is (nan, nan).
        """
        values = np.asarray(values, dtype=np.float64)
        values = values[np.isfinite(values)]
        if values.size == 0:
            return math.nan, math.nan
        tail = (1.0 - self.confidence) / 2.0
        lo, hi = np.quantile(values, [tail, 1.0 - tail])
        return float(lo), float(hi)

    def laws(self) -> list[ScalingLaw]:
        return [ScalingLaw(*row) for row in self.samples]


def bootstrap_scaling_law(N: Any, D: Any, L: Any, *, n_resamples: int = 200,
                          confidence: float = 0.95, rng: np.random.Generator | int | None = 0,
                          delta: float = HUBER_DELTA, n_starts: int = 1,
                          center: FitResult | None = None) -> BootstrapResult:
    """Refit the law on runs resampled with replacement; percentile intervals for its constants.

    Lesson: none (part of the ``llmmath scaling`` command).

    Each resample draws ``n`` of the ``n`` runs with replacement (a resample
    with a single distinct N or D cannot determine alpha or beta and is drawn
    again) and is fitted from the full-data optimum ``center`` and the best
    ``n_starts`` grid points.

    Examples
    --------
    >>> truth = ScalingLaw(E=1.2, A=40.0, B=300.0, alpha=0.4, beta=0.35)
    >>> N, D = (g.ravel() for g in np.meshgrid(np.geomspace(1e4, 2e6, 5), np.geomspace(1e5, 1e7, 4)))
    >>> noise = np.exp(np.random.default_rng(0).normal(0.0, 0.01, N.size))
    >>> boot = bootstrap_scaling_law(N, D, truth.loss(N, D) * noise, n_resamples=20, rng=0)
    >>> lo, hi = boot.intervals["alpha"]
    >>> bool(lo < 0.4 < hi)
    True
    """
    op = "bootstrap_scaling_law"
    n, d, l = _points(N, D, L, op)
    n_resamples = check_int(n_resamples, "n_resamples", op, min_value=2)
    confidence = check_float(confidence, "confidence", op, min_value=0.0, max_value=1.0,
                             min_inclusive=False, max_inclusive=False)
    gen = check_rng(rng, op)
    delta = check_float(delta, "delta", op, min_value=0.0, min_inclusive=False)
    n_starts = check_int(n_starts, "n_starts", op, min_value=0)
    if not _identifiable(n, d):
        raise InvalidValueError(f"{op}: the runs need at least two distinct N and two distinct "
                                "D to determine alpha and beta.")
    with _one_blas_thread():
        center = center or _fit(n, d, l, delta, 16, None)
        samples, redrawn = _resample_fits(n, d, l, n_resamples, gen, delta, n_starts,
                                          np.array([center.theta]))
    samples_arr = np.array(samples, dtype=np.float64)
    result = BootstrapResult(samples_arr, confidence, {}, n_resamples, redrawn)
    result.intervals.update({name: result.interval(samples_arr[:, i])
                             for i, name in enumerate(PARAMETERS)})
    return result


def _resample_fits(n: np.ndarray, d: np.ndarray, l: np.ndarray, n_resamples: int,
                   gen: np.random.Generator, delta: float, n_starts: int,
                   center: np.ndarray) -> tuple[list[tuple[float, ...]], int]:
    samples: list[tuple[float, ...]] = []
    redrawn = 0
    op = "bootstrap_scaling_law"
    while len(samples) < n_resamples:
        idx = gen.integers(0, len(n), len(n))
        if not _identifiable(n[idx], d[idx]):
            redrawn += 1
            if redrawn > 100 * n_resamples:   # pragma: no cover - needs an absurd data set
                raise InvalidValueError(f"{op}: almost every resample has one distinct N or D.")
            continue
        fit = _fit(n[idx], d[idx], l[idx], delta, n_starts, center)
        samples.append(fit.law.as_tuple())
    return samples, redrawn


def cross_validated_predictions(N: Any, D: Any, L: Any, *, k: int = 5,
                                rng: np.random.Generator | int | None = 0,
                                delta: float = HUBER_DELTA, n_starts: int = 4) -> np.ndarray:
    """Each run's loss predicted by a fit that did not see it (``k``-fold, folds shuffled).

    Lesson: none (part of the ``llmmath scaling`` command).

    The folds are drawn so that every training part keeps two distinct N and
    two distinct D. ``r_squared(L, cross_validated_predictions(N, D, L))`` is
    the held-out R².

    Examples
    --------
    >>> truth = ScalingLaw(E=1.2, A=40.0, B=300.0, alpha=0.4, beta=0.35)
    >>> N, D = (g.ravel() for g in np.meshgrid(np.geomspace(1e4, 2e6, 5), np.geomspace(1e5, 1e7, 4)))
    >>> pred = cross_validated_predictions(N, D, truth.loss(N, D))
    >>> bool(r_squared(truth.loss(N, D), pred) > 0.999)
    True
    """
    op = "cross_validated_predictions"
    n, d, l = _points(N, D, L, op)
    k = check_int(k, "k", op, min_value=2)
    gen = check_rng(rng, op)
    delta = check_float(delta, "delta", op, min_value=0.0, min_inclusive=False)
    n_starts = check_int(n_starts, "n_starts", op, min_value=1)
    if len(n) < k + 5:
        raise InvalidValueError(f"{op}: {k}-fold cross-validation needs at least {k + 5} runs "
                                f"(5 constants to fit on each training part); got {len(n)}.")
    for _ in range(1000):
        folds = gen.permutation(len(n)) % k
        if all(_identifiable(n[folds != f], d[folds != f]) for f in range(k)):
            break
    else:  # pragma: no cover
        raise InvalidValueError(f"{op}: no split into {k} folds leaves two distinct N and D in "
                                "every training part.")
    pred = np.empty_like(l)
    with _one_blas_thread():
        for f in range(k):
            train = folds != f
            law = _fit(n[train], d[train], l[train], delta, n_starts, None).law
            pred[~train] = law.loss(n[~train], d[~train])
    return pred


def fit_power_law(x: Any, y: Any) -> tuple[float, float]:
    """Least squares on logs for ``y = (c / x)^k``, Kaplan et al.'s form; returns ``(c, k)``.

    Lesson: ``scaling_laws`` (Scaling laws).

    Examples
    --------
    >>> x = np.array([1e4, 1e5, 1e6])
    >>> c, k = fit_power_law(x, (8.8e13 / x) ** 0.076)
    >>> print(f"{c:.3g} {k:.3f}")
    8.8e+13 0.076
    """
    x = as_float_array(x, "x", "fit_power_law", ndim=1, allow_empty=False, dtype=np.float64)
    y = as_float_array(y, "y", "fit_power_law", ndim=1, allow_empty=False, dtype=np.float64)
    if x.shape != y.shape or len(np.unique(x)) < 2 or (x <= 0).any() or (y <= 0).any():
        raise InvalidValueError("fit_power_law: x and y must have one length, hold positive "
                                "values and at least two distinct x.")
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    k = -slope                      # log y = k log c - k log x
    return float(np.exp(intercept / k)) if k != 0 else math.inf, float(k)
