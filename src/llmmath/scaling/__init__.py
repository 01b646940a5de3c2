"""Scaling laws measured on a CPU: a sweep of small GPTs and the fit of L(N, D).

How the final loss of a language model falls with its size ``N`` and the
tokens ``D`` it was trained on, measured here on character-level GPTs of
about 10 thousand to 2 million parameters trained on the Shakespeare corpus,
and fitted with Chinchilla's third approach::

    L(N, D) = E + A / N^alpha + B / D^beta

The package, one idea per module; each imports only those above it:

``plan``
    The design of a sweep: the shape rule, the parameter counts (Kaplan's
    non-embedding N), the learning-rate rule, :class:`SweepPlan` and the
    named budgets (:data:`BUDGETS`).
``fit``
    :class:`ScalingLaw`, the Huber objective on log-losses, the multi-start
    L-BFGS fit, the bootstrap and the held-out predictions (SciPy, imported
    when a fit runs).
``frontier``
    The compute-optimal ``N_opt(C)``, ``D_opt(C)`` for ``C = 6 N D``.
``published``
    Chinchilla's and Kaplan et al.'s constants.
``sweep``
    :func:`run_sweep`: every run in its own directory, cached and resumable,
    on :mod:`llmmath.train`.
``analysis``
    :func:`check_fittable` (what cannot be fitted, and why) and :func:`analyze`.
``plots``
    Loss against N and D; IsoFLOP profiles and the frontier (matplotlib, imported
    when drawing).

>>> from llmmath import scaling
>>> law = scaling.ScalingLaw(E=1.0, A=100.0, B=100.0, alpha=0.5, beta=0.5)
>>> f = scaling.compute_optimal(law, 6e8)
>>> float(f.N[()]), float(f.D[()])
(10000.0, 10000.0)
"""

from __future__ import annotations

from llmmath.scaling.analysis import (
    MIN_RUNS,
    SUMMARY_NAME,
    ScalingAnalysis,
    ScalingFitError,
    analyze,
    check_fittable,
    points_table,
    summary,
)
from llmmath.scaling.fit import (
    HUBER_DELTA,
    BootstrapResult,
    FitResult,
    ScalingLaw,
    bootstrap_scaling_law,
    cross_validated_predictions,
    fit_power_law,
    fit_scaling_law,
    huber,
    huber_objective,
    predict_log_loss,
    r_squared,
    start_grid,
)
from llmmath.scaling.frontier import (
    Frontier,
    compute_optimal,
    frontier_exponents,
    isoflop_losses,
    training_flops,
)
from llmmath.scaling.plan import (
    BUDGETS,
    ModelShape,
    ParameterCount,
    RunSpec,
    SweepPlan,
    count_parameters,
    get_plan,
    peak_learning_rate,
    shape_for_width,
)
from llmmath.scaling.published import (
    CHINCHILLA,
    CHINCHILLA_COMPUTE,
    CHINCHILLA_RANGE,
    CHINCHILLA_TOKENS_PER_PARAMETER,
    KAPLAN,
)
from llmmath.scaling.sweep import (
    RunResult,
    SweepExistsError,
    SweepOutcome,
    SweepProgress,
    machine_info,
    read_results,
    read_sweep,
    run_sweep,
)

__all__ = [
    "ModelShape", "ParameterCount", "count_parameters", "shape_for_width",
    "peak_learning_rate", "RunSpec", "SweepPlan", "BUDGETS", "get_plan",
    "HUBER_DELTA", "ScalingLaw", "FitResult", "BootstrapResult", "huber", "predict_log_loss",
    "huber_objective", "start_grid", "fit_scaling_law", "bootstrap_scaling_law", "r_squared",
    "cross_validated_predictions", "fit_power_law",
    "training_flops", "frontier_exponents", "Frontier", "compute_optimal", "isoflop_losses",
    "CHINCHILLA", "CHINCHILLA_TOKENS_PER_PARAMETER", "CHINCHILLA_COMPUTE", "CHINCHILLA_RANGE",
    "KAPLAN",
    "RunResult", "SweepProgress", "SweepOutcome", "SweepExistsError", "run_sweep",
    "read_results", "read_sweep", "machine_info",
    "MIN_RUNS", "SUMMARY_NAME", "ScalingFitError", "points_table", "check_fittable",
    "ScalingAnalysis", "analyze", "summary",
]
