"""From a sweep's finished runs to a fitted law, its intervals, its held-out R² and its frontier.

:func:`check_fittable` refuses what cannot be fitted, with the points in the
message: too few runs, a single model size or token budget, or a run that
diverged (a NaN loss, or a loss above ``log V``, what a model that ignores its
input and spreads its probability evenly over the ``V`` characters scores).
:func:`analyze` then fits the law on all runs, bootstraps it (runs resampled
with replacement, seeded), predicts each run from a fit that did not see it
(k-fold, for the held-out R²), and evaluates the compute-optimal frontier
over the range of compute the sweep measured. :meth:`ScalingAnalysis.to_dict`
is the JSON summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmmath.errors import InvalidValueError
from llmmath.scaling.fit import (
    HUBER_DELTA,
    BootstrapResult,
    FitResult,
    bootstrap_scaling_law,
    cross_validated_predictions,
    fit_scaling_law,
    r_squared,
)
from llmmath.scaling.frontier import Frontier, compute_optimal, frontier_exponents
from llmmath.scaling.published import CHINCHILLA, CHINCHILLA_TOKENS_PER_PARAMETER, KAPLAN
from llmmath.scaling.sweep import RunResult

__all__ = ["MIN_RUNS", "MIN_RUNS_HELD_OUT", "SUMMARY_NAME", "ScalingFitError", "points_table",
           "check_fittable", "ScalingAnalysis", "analyze", "summary"]

SUMMARY_NAME = "summary.json"

#: Fewest runs a fit accepts: five constants and at least one point to spare.
MIN_RUNS = 6
#: Fewest runs for the k-fold held-out R² (each training part keeps MIN_RUNS).
MIN_RUNS_HELD_OUT = 8


class ScalingFitError(InvalidValueError):
    """The runs of a sweep cannot be fitted; the message says why and lists them.

    Lesson: none (part of the ``llmmath scaling`` command).
    """


def points_table(results: Sequence[RunResult], flagged: Sequence[str] = ()) -> str:
    """The runs as a plain-text table (for error messages); ``flagged`` runs get a ``<-``.

    Lesson: none (part of the ``llmmath scaling`` command).
    """
    lines = [f"  {'run':<16} {'N':>10} {'D':>11} {'val loss':>9}  {'log V':>6}"]
    for r in results:
        mark = "  <-" if r.name in flagged else ""
        lines.append(f"  {r.name:<16} {r.params:>10,} {r.tokens:>11,} {r.val_loss:>9.4f}  "
                     f"{math.log(r.vocab_size):>6.3f}{mark}")
    return "\n".join(lines)


def check_fittable(results: Sequence[RunResult]) -> None:
    """Raise :class:`ScalingFitError` unless the runs can be fitted.

    Lesson: none (part of the ``llmmath scaling`` command).

    Examples
    --------
    >>> from llmmath.scaling.sweep import RunResult
    >>> r = RunResult("L1-C32-S100", 1, 32, 1, 100, 102400, 12768, 17504, 84, float("nan"),
    ...               4.1, 1.0)
    >>> check_fittable([r])
    Traceback (most recent call last):
    ...
    llmmath.scaling.analysis.ScalingFitError: scaling: cannot fit L(N, D) to 1 run: ...
    """
    results = list(results)
    n = len(results)
    diverged = [r.name for r in results
                if not math.isfinite(r.val_loss) or r.val_loss > math.log(r.vocab_size)]
    if diverged:
        raise ScalingFitError(
            f"scaling: cannot fit L(N, D) to {n} run{'s' if n != 1 else ''}: "
            f"{len(diverged)} diverged ({', '.join(diverged)}): a loss that is NaN or above "
            f"log V, the loss of a uniform guess over the V characters. Lower the learning "
            f"rate or delete the run's directory to train it again. The runs:\n"
            + points_table(results, diverged))
    if n < MIN_RUNS:
        raise ScalingFitError(
            f"scaling: cannot fit L(N, D) to {n} run{'s' if n != 1 else ''}: the law has five "
            f"constants, so the fit needs at least {MIN_RUNS} finished runs. The runs:\n"
            + (points_table(results) if results else "  (none)"))
    n_sizes = len({r.params for r in results})
    n_budgets = len({r.tokens for r in results})
    if n_sizes < 2 or n_budgets < 2:
        raise ScalingFitError(
            f"scaling: cannot fit L(N, D) to {n} runs: they have {n_sizes} model size(s) and "
            f"{n_budgets} token budget(s); alpha needs two sizes or more, beta two budgets or "
            "more. The runs:\n" + points_table(results))


def _arrays(results: Sequence[RunResult]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.array([r.params for r in results], dtype=np.float64),
            np.array([r.tokens for r in results], dtype=np.float64),
            np.array([r.val_loss for r in results], dtype=np.float64))


@dataclass(frozen=True, eq=False)
class ScalingAnalysis:
    """The fit of a sweep and what follows from it.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    results: list[RunResult]
    fit: FitResult
    bootstrap: BootstrapResult | None
    heldout_predictions: np.ndarray | None = field(repr=False)
    heldout_r2: float | None
    frontier: Frontier | None = field(repr=False)   # over the measured compute; None if undefined
    intervals: dict[str, tuple[float, float]]      # constants, exponents, tokens/parameter
    k_folds: int
    seed: int

    @property
    def frontier_note(self) -> str | None:
        """Why there is no frontier (alpha or beta fitted as 0), or None."""
        law = self.fit.law
        if law.alpha > 0 and law.beta > 0:
            return None
        which, other = ("N", "D") if law.alpha == 0 else ("D", "N")
        return (f"the fit has {'alpha' if which == 'N' else 'beta'} = 0: over the measured range "
                f"{which} does not lower the loss, so every budget goes to {other} and there is no "
                "compute-optimal frontier")

    @property
    def compute_range(self) -> tuple[float, float]:
        c = [r.flops for r in self.results]
        return min(c), max(c)

    @property
    def reference_compute(self) -> float:
        """The geometric middle of the measured compute, where tokens/parameter is quoted."""
        lo, hi = self.compute_range
        return math.sqrt(lo * hi)

    def _frontier_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"compute_range": list(self.compute_range),
                             "reference_compute": self.reference_compute,
                             "note": self.frontier_note}
        if self.frontier is None:
            return d
        ref = compute_optimal(self.fit.law, self.reference_compute)
        return d | {"N_opt": float(ref.N[()]), "D_opt": float(ref.D[()]),
                    "tokens_per_parameter": float(ref.tokens_per_parameter[()]),
                    "C": self.frontier.C.tolist(), "N": self.frontier.N.tolist(),
                    "D": self.frontier.D.tolist(),
                    "tokens_per_parameter_curve": self.frontier.tokens_per_parameter.tolist()}

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready values (NaN, where an interval is undefined, as null)."""
        law = self.fit.law
        a, b = (frontier_exponents(law.alpha, law.beta) if law.alpha + law.beta > 0
                else (math.nan, math.nan))
        chin = compute_optimal(CHINCHILLA, self.reference_compute)
        runs = []
        for i, r in enumerate(self.results):
            row = r.to_dict()
            row["flops"] = r.flops
            row["fitted_loss"] = float(law.loss(r.params, r.tokens))
            if self.heldout_predictions is not None:
                row["heldout_loss"] = float(self.heldout_predictions[i])
            runs.append(row)
        return _json_safe({
            "parameter_count": "non-embedding (Kaplan et al.): blocks and final LayerNorm, "
                               "without token and position embeddings",
            "fit": {**law.to_dict(), "a": a, "b": b, "objective": self.fit.objective,
                    "delta": self.fit.delta, "r2_in_sample": self.fit.r2,
                    "n_runs": self.fit.n_points, "n_starts": self.fit.n_starts},
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "confidence": self.bootstrap.confidence if self.bootstrap else None,
            "n_resamples": self.bootstrap.n_resamples if self.bootstrap else 0,
            "heldout": {"r2": self.heldout_r2, "k_folds": self.k_folds, "seed": self.seed},
            "frontier": self._frontier_dict(),
            "published": {"chinchilla": {**CHINCHILLA.to_dict(),
                                         "tokens_per_parameter_rule": CHINCHILLA_TOKENS_PER_PARAMETER,
                                         "tokens_per_parameter_at_reference":
                                             float(chin.tokens_per_parameter[()])},
                          "kaplan": dict(KAPLAN)},
            "runs": runs,
        })


def _json_safe(x: Any) -> Any:
    """``x`` with every NaN or infinity replaced by None (JSON has neither)."""
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def analyze(results: Sequence[RunResult], *, n_resamples: int = 200, confidence: float = 0.95,
            seed: int = 0, k_folds: int = 5, delta: float = HUBER_DELTA,
            n_compute: int = 25) -> ScalingAnalysis:
    """Fit, bootstrap, held-out R² and frontier of a sweep's runs.

    Lesson: none (part of the ``llmmath scaling`` command).

    Parameters
    ----------
    results : sequence of RunResult
    n_resamples : int
        Bootstrap resamples (0: no intervals).
    confidence : float
        Of the percentile intervals.
    seed : int
        Seeds the bootstrap and the folds.
    k_folds : int
        For the held-out R² (skipped with fewer than :data:`MIN_RUNS_HELD_OUT` runs).
    n_compute : int
        Points of the frontier, log-spaced over the measured compute.

    Raises
    ------
    ScalingFitError
        The runs cannot be fitted (:func:`check_fittable`).
    """
    results = list(results)
    check_fittable(results)
    N, D, L = _arrays(results)
    fit = fit_scaling_law(N, D, L, delta=delta)
    boot = None
    intervals: dict[str, tuple[float, float]] = {}
    c_lo, c_hi = float((6 * N * D).min()), float((6 * N * D).max())
    c_ref = math.sqrt(c_lo * c_hi)
    if n_resamples:
        boot = bootstrap_scaling_law(N, D, L, n_resamples=n_resamples, confidence=confidence,
                                     rng=np.random.default_rng((seed, 0)), delta=delta,
                                     center=fit)
        intervals.update(boot.intervals)
        al, be = boot.samples[:, 3], boot.samples[:, 4]
        s = np.where(al + be > 0, al + be, np.nan)
        intervals["a"] = boot.interval(be / s)
        intervals["b"] = boot.interval(al / s)
        ratios = [float(compute_optimal(law, c_ref).tokens_per_parameter[()])
                  if law.alpha > 0 and law.beta > 0 else math.nan   # no optimum: left out
                  for law in boot.laws()]
        intervals["tokens_per_parameter"] = boot.interval(ratios)
    pred, r2 = None, None
    if len(results) >= MIN_RUNS_HELD_OUT:
        k = min(k_folds, len(results) - MIN_RUNS + 1)
        pred = cross_validated_predictions(N, D, L, k=k, rng=np.random.default_rng((seed, 1)),
                                           delta=delta)
        r2 = r_squared(L, pred)
        k_folds = k
    frontier = (compute_optimal(fit.law, np.geomspace(c_lo, c_hi, n_compute))
                if fit.law.alpha > 0 and fit.law.beta > 0 else None)
    return ScalingAnalysis(results, fit, boot, pred, r2, frontier, intervals, k_folds, seed)


def summary(analysis: ScalingAnalysis, sweep_record: dict[str, Any]) -> dict[str, Any]:
    """The JSON summary of a sweep: its plan, machine and time, then :meth:`ScalingAnalysis.to_dict`.

    Lesson: none (part of the ``llmmath scaling`` command).

    ``sweep_record`` is the sweep's ``sweep.json`` (:func:`llmmath.scaling.read_sweep`);
    ``sweep_seconds`` adds up the wall time of every session that ran the sweep.
    """
    sessions = sweep_record.get("sessions", [])
    seconds = sum(s.get("seconds") or 0.0 for s in sessions)
    trained = [s for s in sessions if s.get("trained")]
    return {
        "format": "llmmath-scaling-summary", "version": 1,
        "created": sweep_record.get("created"),
        "budget": sweep_record["plan"]["name"], "plan": sweep_record["plan"],
        "machine": (trained[-1] if trained else sessions[-1])["machine"] if sessions else None,
        "sessions": [{k: s.get(k) for k in ("started", "ended", "seconds", "trained",
                                              "interrupted", "load_average_end")}
                     | {"load_average_start": s.get("machine", {}).get("load_average")}
                     for s in sessions],
        "sweep_seconds": round(seconds, 2),
        "training_seconds": round(sum(r.seconds for r in analysis.results), 2),
        **analysis.to_dict(),
    }
