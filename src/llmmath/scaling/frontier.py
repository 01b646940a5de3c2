"""The compute-optimal frontier of a fitted law: the best N and D for a compute budget C.

Training a model of ``N`` parameters on ``D`` tokens costs about ``C = 6 N D``
floating-point operations (2 per parameter and token in the forward pass, 4
in the backward pass [1]_). Minimising ``L(N, D) = E + A N^-alpha + B D^-beta``
on that curve (set the derivative of ``L(N, C / 6N)`` in ``N`` to zero) gives
Hoffmann et al.'s closed form [2]_:

    N_opt(C) = G (C/6)^a,   D_opt(C) = G^-1 (C/6)^b,   G = (alpha A / (beta B))^(1/(alpha+beta)),

    a = beta / (alpha + beta),   b = alpha / (alpha + beta),   a + b = 1,

so the tokens per parameter at the optimum, ``D_opt / N_opt = G^-2 (C/6)^(b-a)``,
stay constant only when ``alpha = beta``.

References
----------
.. [1] J. Kaplan et al., "Scaling Laws for Neural Language Models",
   arXiv:2001.08361 (2020), section 2.1.
.. [2] J. Hoffmann et al., "Training Compute-Optimal Large Language Models",
   NeurIPS 2022, equation (4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._validation import as_float_array, check_float
from llmmath.errors import InvalidValueError
from llmmath.scaling.fit import ScalingLaw

__all__ = ["FLOPS_PER_PARAMETER_TOKEN", "training_flops", "frontier_exponents",
           "Frontier", "compute_optimal", "isoflop_losses"]

#: C ≈ 6 N D: forward (2) and backward (4) multiply-adds per parameter and token.
FLOPS_PER_PARAMETER_TOKEN = 6.0


def training_flops(N: Any, D: Any) -> np.ndarray:
    """``C = 6 N D``.

    Lesson: none (part of the ``llmmath scaling`` command).

    Examples
    --------
    >>> float(training_flops(1e6, 2e7))
    1.2e+14
    """
    return FLOPS_PER_PARAMETER_TOKEN * np.asarray(N, dtype=np.float64) * np.asarray(D, np.float64)


def frontier_exponents(alpha: float, beta: float) -> tuple[float, float]:
    """``(a, b) = (beta / (alpha + beta), alpha / (alpha + beta))``: N_opt ∝ C^a, D_opt ∝ C^b.

    Lesson: ``scaling_laws`` (Scaling laws).

    Examples
    --------
    >>> a, b = frontier_exponents(0.34, 0.28)          # Chinchilla's approach 3
    >>> print(round(a, 3), round(b, 3))
    0.452 0.548
    """
    alpha = check_float(alpha, "alpha", "frontier_exponents", min_value=0.0)
    beta = check_float(beta, "beta", "frontier_exponents", min_value=0.0)
    if alpha + beta == 0.0:
        raise InvalidValueError("frontier_exponents: alpha + beta must be > 0 (a law in which "
                                "neither N nor D matters has no optimum).")
    return beta / (alpha + beta), alpha / (alpha + beta)


@dataclass(frozen=True, eq=False)
class Frontier:
    """The optimum at each compute budget ``C``.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    C: np.ndarray
    N: np.ndarray                 # N_opt(C)
    D: np.ndarray                 # D_opt(C)
    loss: np.ndarray              # L(N_opt, D_opt)
    a: float                      # N_opt ∝ C^a
    b: float                      # D_opt ∝ C^b
    G: float

    @property
    def tokens_per_parameter(self) -> np.ndarray:
        return self.D / self.N


def compute_optimal(law: ScalingLaw, C: Any) -> Frontier:
    """The compute-optimal ``N`` and ``D`` of ``law`` for budgets ``C`` (FLOPs), ``C = 6 N D``.

    Lesson: ``scaling_laws`` (Scaling laws).

    Examples
    --------
    >>> law = ScalingLaw(E=1.0, A=100.0, B=100.0, alpha=0.5, beta=0.5)
    >>> f = compute_optimal(law, [6e6, 6e8])
    >>> f.N.tolist(), f.D.tolist(), f.tokens_per_parameter.tolist()  # alpha = beta: N = D
    ([1000.0, 10000.0], [1000.0, 10000.0], [1.0, 1.0])
    """
    C = as_float_array(C, "C", "compute_optimal", dtype=np.float64)
    if (C <= 0).any():
        raise InvalidValueError("compute_optimal: every compute budget C must be > 0.")
    a, b = frontier_exponents(law.alpha, law.beta)
    if law.alpha == 0.0 or law.beta == 0.0:
        raise InvalidValueError(f"compute_optimal: with alpha = {law.alpha} and beta = "
                                f"{law.beta} one of N and D does not lower the loss, so the "
                                "optimum puts the whole budget into the other.")
    G = (law.alpha * law.A / (law.beta * law.B)) ** (1.0 / (law.alpha + law.beta))
    c6 = C / FLOPS_PER_PARAMETER_TOKEN
    N = G * c6 ** a
    D = c6 ** b / G
    return Frontier(C, N, D, law.loss(N, D), a, b, G)


def isoflop_losses(law: ScalingLaw, C: float, N: Any) -> np.ndarray:
    """``L(N, C / 6N)``: the loss along one compute budget, an IsoFLOP profile.

    Lesson: ``scaling_laws`` (Scaling laws).

    Examples
    --------
    >>> law = ScalingLaw(E=1.0, A=100.0, B=100.0, alpha=0.5, beta=0.5)
    >>> isoflop_losses(law, 6e6, [100.0, 1000.0, 10000.0]).round(3).tolist()
    [12.0, 7.325, 12.0]
    """
    C = check_float(C, "C", "isoflop_losses", min_value=0.0, min_inclusive=False)
    N = as_float_array(N, "N", "isoflop_losses", dtype=np.float64)
    return law.loss(N, C / (FLOPS_PER_PARAMETER_TOKEN * N))
