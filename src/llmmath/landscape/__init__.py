"""Loss landscapes for the optimisation lesson: test surfaces, trajectories, curvature, noise.

* Surfaces (:mod:`llmmath.landscape.surfaces`): four classic 2-D surfaces,
  each with its value, analytic gradient and analytic Hessian:
  :func:`quadratic_bowl` (condition number κ), :func:`saddle` (x² − y²),
  :func:`rosenbrock` and :func:`double_well`. Their formula is written once
  with ``+ - *`` only, so the same expression runs on floats, NumPy arrays and
  :class:`~llmmath.autograd.Tensor`. Beside them, :func:`hessian_eigenvalues`
  and :func:`classify_point`: minimum, maximum or saddle from the signs of the
  Hessian's eigenvalues.
* Trajectories (:mod:`llmmath.landscape.trajectories`): :func:`run_optimizer`
  walks a surface with the optimisers of :mod:`llmmath.optim` (the update
  rules live there and only there), taking gradients with the autograd engine.
* Gradient noise on a real problem (:mod:`llmmath.landscape.gradient_noise`):
  :func:`logistic_problem`, :func:`logistic_gradients`,
  :func:`minibatch_gradients` and :func:`minibatch_gradient_variance`, which
  measures E‖g_B − g‖² against the batch size and fits the log–log slope
  (σ²/|B| predicts −1).

>>> from llmmath import landscape
>>> landscape.classify_point(landscape.saddle(), [0.0, 0.0]).kind
'saddle'
"""

# ruff: noqa: F401  (every import below is a re-export; __all__ is built from the modules' lists)
from __future__ import annotations

from llmmath.landscape import gradient_noise, surfaces, trajectories
from llmmath.landscape.gradient_noise import (
    GradientNoise,
    LogisticProblem,
    logistic_gradients,
    logistic_problem,
    minibatch_gradient_variance,
    minibatch_gradients,
)
from llmmath.landscape.surfaces import (
    CriticalPoint,
    Surface,
    classify_point,
    double_well,
    hessian_eigenvalues,
    quadratic_bowl,
    rosenbrock,
    saddle,
)

# MAX_BLOWUP, the largest box run_optimizer accepts, is importable but not in __all__.
from llmmath.landscape.trajectories import MAX_BLOWUP, OPTIMIZERS, Trajectory, run_optimizer

__all__ = [*surfaces.__all__, *trajectories.__all__, *gradient_noise.__all__]
