"""Optimiser trajectories on the test surfaces (public through :mod:`llmmath.landscape`).

:func:`run_optimizer` walks a :class:`~llmmath.landscape.Surface` with the
optimisers of :mod:`llmmath.optim` (the update rules live there and only
there), taking gradients with the autograd engine or the surface's closed
form, and records the path as a :class:`Trajectory`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._validation import (
    as_float_array,
    check_callable,
    check_choice,
    check_float,
    check_int,
    check_rng,
    describe,
)
from llmmath.autograd import Tensor
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.landscape.surfaces import Surface
from llmmath.optim import SGD, Adam

__all__ = ["OPTIMIZERS", "Trajectory", "run_optimizer"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
MAX_BLOWUP = 1e20  # with |θ| below it, gradients and Adam's g² stay finite on every surface


@dataclass(frozen=True)
class Trajectory:
    """The path of an optimiser: ``points[t]`` after t steps, ``losses[t] = f(points[t])``.

    Lesson: none (a helper of the loss-landscape figures).
    """

    points: np.ndarray      # (n + 1, 2)
    losses: np.ndarray      # (n + 1,)
    lrs: np.ndarray         # (n,) the learning rate of each step taken
    diverged: bool          # stopped early: a coordinate left the `blowup` box
    optimizer: str

    @property
    def steps(self) -> int:
        """Steps taken (fewer than asked for when the run diverged)."""
        return len(self.points) - 1


def run_optimizer(
    surface: Surface,
    optimizer: str = "sgd",
    lr: float = 0.01,
    steps: int = 200,
    start: Any = None,
    *,
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    noise: float = 0.0,
    lr_schedule: Callable[[int], float] | None = None,
    gradient: str = "autograd",
    blowup: float = 1e6,
    rng: np.random.Generator | int | None = None,
) -> Trajectory:
    r"""Minimise a surface with an optimiser of :mod:`llmmath.optim` and record the path.

    Lesson: ``optimisation`` (Loss landscapes, SGD noise, momentum and Adam).

    The parameters are one :class:`~llmmath.autograd.Tensor` of shape (2,).
    Each step: ``zero_grad``; the gradient (autograd through
    :meth:`Surface.tensor_value`, or the closed form); optionally Gaussian
    noise, g ← g + σ ξ with ξ ~ N(0, I), which turns gradient descent into
    a model of SGD; optionally the step size η_t = ``lr_schedule(t)``
    (t = 1, 2, …); then ``optimizer.step()``. The update rules are those of
    :class:`llmmath.optim.SGD` and :class:`llmmath.optim.Adam`:

    * ``"sgd"``: θ ← θ − η g;
    * ``"momentum"``: b ← μ b + g (b₁ = g), θ ← θ − η b;
    * ``"nesterov"``: the same b, θ ← θ − η (g + μ b);
    * ``"adam"``: θ ← θ − η m̂/(√v̂ + ε) with bias-corrected moving averages.

    A run whose coordinates leave the box |θ_i| <= ``blowup`` stops there with
    ``diverged=True`` (the point outside the box is not recorded).

    Parameters
    ----------
    surface : Surface
    optimizer : {"sgd", "momentum", "nesterov", "adam"}
    lr : float
        η in [0, 1e6] (unused when ``lr_schedule`` is given).
    steps : int
        Number of steps, 0 to 100 000.
    start : array_like, shape (2,), optional
        Default ``surface.start``.
    momentum : float
        μ in (0, 1] for ``"momentum"`` and ``"nesterov"``.
    betas, eps : float
        Adam's β₁, β₂ and ε.
    noise : float
        σ in [0, 1e6], the standard deviation of the noise added to each gradient coordinate.
    lr_schedule : callable, optional
        ``lr_schedule(t) -> η_t`` in [0, 1e6] for t = 1 … steps; replaces ``lr``.
    gradient : {"autograd", "analytic"}
        Backpropagation through the surface's formula, or its closed-form
        gradient (the same numbers to rounding, about ten times faster).
    blowup : float
        In (0, 1e20].
    rng : numpy.random.Generator or int or None
        For the noise.

    Returns
    -------
    Trajectory

    Raises
    ------
    InvalidTypeError, InvalidValueError, ShapeError
        Not a Surface, an unknown optimiser, a negative or non-finite rate,
        a start of the wrong shape or outside the box, a schedule that
        returns a bad rate.

    See Also
    --------
    llmmath.optim.SGD, llmmath.optim.Adam

    References
    ----------
    B. T. Polyak, "Some methods of speeding up the convergence of iteration
    methods", USSR Comput. Math. Math. Phys. 4 (1964) 1-17; D. P. Kingma and
    J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.

    Examples
    --------
    >>> from llmmath.landscape import quadratic_bowl, run_optimizer
    >>> bowl = quadratic_bowl(condition_number=10.0)        # L = 10
    >>> run_optimizer(bowl, "sgd", lr=0.19, steps=100).diverged
    False
    >>> run_optimizer(bowl, "sgd", lr=0.21, steps=1000).diverged  # beyond 2/L
    True
    >>> print(run_optimizer(bowl, "sgd", lr=0.1, steps=1, start=[1.0, 1.0]).points[1])
    [0.9 0. ]
    """
    op = "run_optimizer"
    if not isinstance(surface, Surface):
        raise InvalidTypeError(f"{op}: argument 'surface' must be a Surface (quadratic_bowl(), "
                               f"rosenbrock(), …); got {describe(surface)}.")
    name = check_choice(optimizer, "optimizer", op, OPTIMIZERS)
    lr = check_float(lr, "lr", op, min_value=0.0, max_value=1e6)
    n = check_int(steps, "steps", op, min_value=0, max_value=100_000)
    noise = check_float(noise, "noise", op, min_value=0.0, max_value=1e6)
    check_choice(gradient, "gradient", op, ("autograd", "analytic"))
    blowup = check_float(blowup, "blowup", op, min_value=0.0, min_inclusive=False,
                         max_value=MAX_BLOWUP)
    if lr_schedule is not None:
        check_callable(lr_schedule, "lr_schedule", op)
    theta0 = as_float_array(surface.start if start is None else start, "start", op,
                            dtype=np.float64)
    if theta0.shape != (2,):
        raise ShapeError(f"{op}: argument 'start' must have shape (2,); got {theta0.shape}.")
    if np.max(np.abs(theta0)) > blowup:
        raise InvalidValueError(f"{op}: argument 'start' {theta0.tolist()} lies outside the box "
                                f"|θ_i| <= blowup = {blowup:g}.")
    gen = check_rng(rng, op) if noise > 0 else None

    theta = Tensor(theta0, requires_grad=True)
    if name == "adam":
        opt: Any = Adam([theta], lr=lr, betas=betas, eps=eps)
    else:
        mu = 0.0 if name == "sgd" else check_float(momentum, "momentum", op, min_value=0.0,
                                                   min_inclusive=False, max_value=1.0)
        opt = SGD([theta], lr=lr, momentum=mu, nesterov=name == "nesterov")
    points, lrs = [theta0.copy()], []
    diverged = False
    for t in range(1, n + 1):
        if lr_schedule is not None:
            rate = check_float(lr_schedule(t), "lr_schedule(t)", op, min_value=0.0,
                               max_value=1e6)
            opt.param_groups[0]["lr"] = rate
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        if gradient == "autograd":
            surface.tensor_value(theta).backward()
        else:
            theta.grad = surface.gradient(theta.data)
        if gen is not None:
            theta.grad = theta.grad + noise * gen.standard_normal(2)
        opt.step()
        if not np.all(np.abs(theta.data) <= blowup):   # also catches NaN
            diverged = True
            break
        points.append(theta.data.copy())
    pts = np.array(points)
    return Trajectory(pts, surface.value(pts), np.asarray(lrs[: len(pts) - 1], dtype=np.float64),
                      diverged, name)
