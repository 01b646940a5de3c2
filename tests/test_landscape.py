"""llmmath.landscape: surfaces, optimiser trajectories, curvature and gradient noise.

References used here, each independent of the code under test:

- gradients: central differences (llmmath.calculus.numerical_gradient) and the
  autograd engine; Hessians: the Jacobian of the finite-difference gradient,
  the closed-form eigenvalues of a symmetric 2x2 matrix, torch.autograd;
- trajectories: the update rules written out by hand in NumPy below, the
  closed form (1 - eta*lambda)^t of gradient descent on a quadratic, and
  torch.optim in float64;
- gradient noise: E||g_B - g||^2 = sigma^2/|B| (with replacement) and
  sigma^2/|B| * (N - |B|)/(N - 1) (without), sigma^2 computed here from the
  per-example gradients; the tolerance comes from the measured standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import anything, check_call
from llmmath import calculus, landscape
from llmmath.autograd import Tensor
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.landscape import (
    classify_point,
    double_well,
    hessian_eigenvalues,
    logistic_gradients,
    logistic_problem,
    minibatch_gradient_variance,
    minibatch_gradients,
    quadratic_bowl,
    rosenbrock,
    run_optimizer,
    saddle,
)

pytestmark = [pytest.mark.lesson_optimisation]

SURFACES = {
    "bowl": quadratic_bowl(condition_number=7.0, curvature=0.5),
    "saddle": saddle(),
    "rosenbrock": rosenbrock(),
    "rosenbrock_a2": rosenbrock(a=-0.5, b=30.0),
    "double_well": double_well(),
}
unit = st.floats(min_value=0.0, max_value=1.0)


def _inside(surface, u, v):
    (x0, x1), (y0, y1) = surface.bounds
    return np.array([x0 + u * (x1 - x0), y0 + v * (y1 - y0)])


# ------------------------------------------------------------------ surfaces

@pytest.mark.parametrize("name", SURFACES)
@given(u=unit, v=unit)
def test_gradient_matches_finite_differences_and_autograd(name, u, v):
    s = SURFACES[name]
    p = _inside(s, u, v)
    analytic = s.gradient(p)
    fd = calculus.numerical_gradient(lambda q: float(s.value(q)), p, eps=1e-5)
    scale = max(1.0, float(np.max(np.abs(analytic))))
    assert np.allclose(analytic, fd, rtol=1e-6, atol=1e-6 * scale), (name, p, analytic, fd)
    theta = Tensor(p, requires_grad=True)
    s.tensor_value(theta).backward()
    assert np.allclose(theta.grad, analytic, rtol=1e-12, atol=1e-12 * scale), (name, p)


@pytest.mark.parametrize("name", SURFACES)
@given(u=unit, v=unit)
def test_hessian_is_jacobian_of_gradient(name, u, v):
    s = SURFACES[name]
    p = _inside(s, u, v)
    h = s.hessian(p)
    fd = calculus.jacobian(lambda q: s.gradient(q), p, eps=1e-5)
    scale = max(1.0, float(np.max(np.abs(h))))
    assert np.allclose(h, fd, rtol=1e-6, atol=1e-6 * scale), (name, p)
    assert np.array_equal(h, h.T)
    # eigenvalues of [[a, b], [b, d]]: (a + d)/2 -+ sqrt(((a - d)/2)^2 + b^2)
    a, b, d = h[0, 0], h[0, 1], h[1, 1]
    r = math.hypot((a - d) / 2, b)
    lam = hessian_eigenvalues(s, p)
    assert np.allclose(lam, [(a + d) / 2 - r, (a + d) / 2 + r], rtol=1e-12, atol=1e-9 * scale)


def test_closed_forms_at_known_points():
    bowl = quadratic_bowl(condition_number=10.0, curvature=2.0)
    assert bowl.value([1.0, 1.0]) == pytest.approx(0.5 * 2.0 * (1 + 10), rel=1e-15)
    assert np.allclose(hessian_eigenvalues(bowl, [0.3, -4.0]), [2.0, 20.0], rtol=1e-14, atol=0)
    r = rosenbrock(a=2.0, b=10.0)
    # exact at the minimum (a, a^2): both terms are (2 - 2)^2 and (4 - 2^2)^2, integers in floats
    assert r.value([2.0, 4.0]) == 0.0 and np.array_equal(r.gradient([2.0, 4.0]), [0.0, 0.0])
    assert np.allclose(r.gradient([0.0, 0.0]), [-4.0, 0.0], rtol=1e-14, atol=1e-14)           # -2a, 2b(0 - 0)
    assert np.allclose(r.gradient([1.0, 0.0]), [-2 + 40, -20.0], rtol=1e-14, atol=0)       # -2(a-x) - 4bx(y-x^2)
    assert np.allclose(saddle().value([[2.0, 1.0]]), [3.0], rtol=1e-15, atol=0)
    assert np.allclose(double_well().value([0.0, 0.0]), 1.0, rtol=1e-15, atol=0)


def test_value_is_batched_and_keeps_float32():
    s = rosenbrock()
    pts = np.random.default_rng(0).uniform(-1, 1, (4, 3, 2))
    z = s.value(pts)
    assert z.shape == (4, 3)
    assert np.allclose(z, (1 - pts[..., 0]) ** 2 + 100 * (pts[..., 1] - pts[..., 0] ** 2) ** 2, rtol=1e-13, atol=1e-13)
    assert s.gradient(pts).shape == (4, 3, 2) and s.hessian(pts).shape == (4, 3, 2, 2)
    assert s.value(pts.astype(np.float32)).dtype == np.float32
    xs, ys, Z = s.grid(11)
    assert Z.shape == (11, 11) and Z[0, -1] == pytest.approx(float(s.value([xs[-1], ys[0]])), rel=1e-15)


@pytest.mark.torch
def test_hessian_against_torch():
    import torch

    for name, s in SURFACES.items():
        p = _inside(s, 0.3, 0.7)
        h = torch.autograd.functional.hessian(
            lambda t, s=s: s.f(t[0], t[1]), torch.tensor(p, dtype=torch.float64)).numpy()
        assert np.allclose(s.hessian(p), h, rtol=1e-12, atol=1e-12), name


def test_classify_stationary_points():
    kinds = {(s.name, tuple(p)): classify_point(s, p).kind
             for s in SURFACES.values() for p in s.stationary_points}
    assert kinds == {
        ("quadratic_bowl", (0.0, 0.0)): "minimum",
        ("saddle", (0.0, 0.0)): "saddle",
        ("rosenbrock", (1.0, 1.0)): "minimum",
        ("rosenbrock", (-0.5, 0.25)): "minimum",
        ("double_well", (-1.0, 0.0)): "minimum",
        ("double_well", (0.0, 0.0)): "saddle",
        ("double_well", (1.0, 0.0)): "minimum",
    }
    cp = classify_point(saddle(), [0.0, 0.0])
    assert cp.eigenvalues[0] < 0 < cp.eigenvalues[1]
    assert classify_point(rosenbrock(), [0.0, 0.0]).kind == "not stationary"
    # -f has a maximum: the negated bowl through a custom surface
    neg = landscape.Surface("neg", "-x^2-y^2", np.zeros((1, 2)), np.zeros(2),
                            np.array([[-1.0, 1.0], [-1.0, 1.0]]),
                            f=lambda x, y: -(x * x) - y * y,
                            grad=lambda x, y: (-2.0 * x, -2.0 * y),
                            hess=lambda x, y: (-2.0, 0.0, -2.0))
    assert classify_point(neg, [0.0, 0.0]).kind == "maximum"
    flat = landscape.Surface("flat", "x^4", np.zeros((1, 2)), np.zeros(2),
                             np.array([[-1.0, 1.0], [-1.0, 1.0]]),
                             f=lambda x, y: x * x * x * x + y * y,
                             grad=lambda x, y: (4.0 * x * x * x, 2.0 * y),
                             hess=lambda x, y: (12.0 * x * x, 0.0, 2.0))
    assert classify_point(flat, [0.0, 0.0]).kind == "degenerate"


# --------------------------------------------------------------- trajectories

def _hand_trajectory(grad, start, steps, kind, lr, mu=0.9, b1=0.9, b2=0.999, eps=1e-8,
                     schedule=None, noise=None):
    """The update rules written out once more, in plain NumPy."""
    theta = np.array(start, dtype=float)
    buf = m = v = None
    out = [theta.copy()]
    for t in range(1, steps + 1):
        eta = schedule(t) if schedule else lr
        g = grad(theta) + (noise[t - 1] if noise is not None else 0.0)
        if kind == "sgd":
            theta = theta - eta * g
        elif kind in ("momentum", "nesterov"):
            buf = g.copy() if buf is None else mu * buf + g
            theta = theta - eta * (g + mu * buf if kind == "nesterov" else buf)
        else:  # adam
            m = (1 - b1) * g if m is None else b1 * m + (1 - b1) * g
            v = (1 - b2) * g * g if v is None else b2 * v + (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
            theta = theta - eta * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta.copy())
    return np.array(out)


@pytest.mark.parametrize("kind,lr", [("sgd", 0.15), ("momentum", 0.02), ("nesterov", 0.02),
                                     ("adam", 0.1)])
def test_trajectory_matches_hand_written_updates_on_the_quadratic(kind, lr):
    bowl = quadratic_bowl(condition_number=10.0)

    def grad(p):  # f = (x^2 + 10 y^2)/2
        return np.array([p[0], 10.0 * p[1]])

    tr = run_optimizer(bowl, kind, lr=lr, steps=60, start=[-2.0, 1.5])
    ref = _hand_trajectory(grad, [-2.0, 1.5], 60, kind, lr)
    assert tr.steps == 60 and not tr.diverged and tr.optimizer == kind
    assert np.allclose(tr.points, ref, rtol=1e-12, atol=1e-13)
    assert np.allclose(tr.losses, 0.5 * (ref[:, 0] ** 2 + 10 * ref[:, 1] ** 2), atol=1e-13)
    assert np.allclose(tr.lrs, lr, rtol=1e-15, atol=0)


def test_schedule_and_noise_follow_the_hand_written_rule():
    bowl = quadratic_bowl(condition_number=4.0)

    def sched(t):
        return 0.2 / t

    tr = run_optimizer(bowl, "sgd", steps=40, lr_schedule=sched, noise=0.3, rng=5,
                       start=[1.0, -1.0])
    gen = np.random.default_rng(5)
    noise = np.array([0.3 * gen.standard_normal(2) for _ in range(40)])
    ref = _hand_trajectory(lambda p: np.array([p[0], 4.0 * p[1]]), [1.0, -1.0], 40, "sgd",
                           None, schedule=sched, noise=noise)
    assert np.allclose(tr.points, ref, rtol=1e-12, atol=1e-13)
    assert np.allclose(tr.lrs, [0.2 / t for t in range(1, 41)], rtol=1e-15, atol=0)
    again = run_optimizer(bowl, "sgd", steps=40, lr_schedule=sched, noise=0.3, rng=5,
                          start=[1.0, -1.0])
    assert np.array_equal(tr.points, again.points)


@pytest.mark.parametrize("kappa", [2.0, 10.0, 50.0])
def test_gradient_descent_diverges_exactly_beyond_two_over_L(kappa):
    bowl = quadratic_bowl(condition_number=kappa)
    L = float(hessian_eigenvalues(bowl, [0.0, 0.0]).max())
    assert L == pytest.approx(kappa, rel=1e-14)
    start = np.array([1.0, 1.0])
    for factor in (0.9, 0.99):
        eta = factor * 2.0 / L
        tr = run_optimizer(bowl, "sgd", lr=eta, steps=50, start=start)
        t = np.arange(51)[:, None]
        closed = start * (1.0 - eta * np.array([1.0, kappa])) ** t   # per coordinate
        assert not tr.diverged and np.allclose(tr.points, closed, rtol=1e-10, atol=1e-14)
    tr = run_optimizer(bowl, "sgd", lr=1.01 * 2.0 / L, steps=5000, start=start, blowup=100.0)
    assert tr.diverged and tr.steps < 5000
    assert np.all(np.abs(tr.points) <= 100.0)
    growth = abs(1.0 - 1.01 * 2.0)                                  # |1 - eta L| > 1
    assert tr.steps == math.floor(math.log(100.0) / math.log(growth))


def test_autograd_and_analytic_gradients_give_the_same_path():
    s = rosenbrock()
    for kind in ("sgd", "momentum", "adam"):
        lr = 1e-3 if kind != "adam" else 0.02
        a = run_optimizer(s, kind, lr=lr, steps=200)
        b = run_optimizer(s, kind, lr=lr, steps=200, gradient="analytic")
        assert np.allclose(a.points, b.points, rtol=1e-9, atol=1e-12), kind


def test_saddle_stalls_without_noise_and_escapes_with_it():
    dw = double_well()
    stuck = run_optimizer(dw, "sgd", lr=0.05, steps=300, start=[0.0, 1.2])
    assert np.allclose(stuck.points[-1], [0.0, 0.0], atol=1e-6)     # y shrinks by 0.9 per step
    assert classify_point(dw, stuck.points[-1], atol=1e-5).kind == "saddle"
    free = run_optimizer(dw, "sgd", lr=0.05, steps=300, start=[0.0, 1.2], noise=0.01, rng=0)
    assert abs(abs(free.points[-1, 0]) - 1.0) < 0.05                # fell into a well


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["sgd", "momentum", "nesterov", "adam"])
def test_trajectory_matches_torch_optim_on_rosenbrock(kind):
    import torch

    lr = 0.02 if kind == "adam" else 5e-4
    ours = run_optimizer(rosenbrock(), kind, lr=lr, steps=150)
    p = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    if kind == "adam":
        opt = torch.optim.Adam([p], lr=lr)
    else:
        opt = torch.optim.SGD([p], lr=lr, momentum=0.0 if kind == "sgd" else 0.9,
                              nesterov=kind == "nesterov")
    path = [p.detach().numpy().copy()]
    for _ in range(150):
        opt.zero_grad()
        ((1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    assert np.allclose(ours.points, np.array(path), rtol=1e-10, atol=1e-12)


# -------------------------------------------------------------- gradient noise

def _logistic_loss(X, y, w):
    z = X @ w                                            # -y log s(z) - (1-y) log(1-s(z))
    return float(np.sum(y * np.logaddexp(0.0, -z) + (1 - y) * np.logaddexp(0.0, z)))


def test_logistic_gradients_match_finite_differences():
    data = logistic_problem(50, 3, rng=1)
    w = np.array([0.3, -0.7, 1.1])
    g = logistic_gradients(data.features, data.labels, w)
    assert g.shape == (50, 3)
    for i in (0, 17, 49):
        fd = calculus.numerical_gradient(
            lambda v, i=i: _logistic_loss(data.features[i:i + 1], data.labels[i:i + 1], v), w)
        assert np.allclose(g[i], fd, atol=1e-8), i
    full = calculus.numerical_gradient(lambda v: _logistic_loss(data.features, data.labels, v), w)
    assert np.allclose(g.sum(axis=0), full, atol=1e-6)
    assert set(np.unique(data.labels)) <= {0.0, 1.0}


@pytest.mark.torch
def test_logistic_gradients_match_torch():
    import torch

    data = logistic_problem(40, 2, rng=3)
    w = torch.tensor([0.5, -0.25], dtype=torch.float64, requires_grad=True)
    X = torch.tensor(data.features)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        X @ w, torch.tensor(data.labels), reduction="mean")
    loss.backward()
    ours = logistic_gradients(data.features, data.labels, [0.5, -0.25]).mean(axis=0)
    assert np.allclose(ours, w.grad.numpy(), rtol=1e-12, atol=1e-14)


def _slope_standard_error(noise):
    """Delta method: Var(log v_k) ~ (se_k / v_k)^2, independent across sizes."""
    x = np.log(noise.batch_sizes)
    c = (x - x.mean()) / np.sum((x - x.mean()) ** 2)      # slope = sum c_k log v_k
    return float(np.sqrt(np.sum((c * noise.standard_errors / noise.variances) ** 2)))


def test_variance_falls_as_one_over_batch_size():
    data = logistic_problem(1000, 2)
    g = logistic_gradients(data.features, data.labels, [0.0, 0.0])
    sigma2 = float(np.sum(np.var(g, axis=0)))                 # trace of the covariance, ddof 0
    sizes = (1, 2, 4, 8, 16, 32, 64, 128, 256)
    noise = minibatch_gradient_variance(g, sizes, n_batches=2000, rng=0)
    assert noise.sigma2 == pytest.approx(sigma2, rel=1e-12)
    assert np.allclose(noise.predicted, sigma2 / np.array(sizes), rtol=1e-12)
    # each measured mean is within 4 standard errors of sigma^2/|B|
    z = (noise.variances - sigma2 / np.array(sizes)) / noise.standard_errors
    assert np.all(np.abs(z) < 4.0), z
    # 2000 batches per size give each log-variance a standard error near 0.022, so the
    # fitted slope is known to about 0.004: a 4-sigma band is still a sharp test of -1.
    se = _slope_standard_error(noise)
    assert se < 0.01
    assert abs(noise.slope + 1.0) < 4.0 * se, (noise.slope, se)
    x, yv = np.log(sizes), np.log(noise.variances)
    assert noise.slope == pytest.approx(np.cov(x, yv, bias=True)[0, 1] / np.var(x), rel=1e-9)


def test_sampling_without_replacement_has_the_finite_population_correction():
    g = np.random.default_rng(2).standard_normal((200, 3)) * [1.0, 2.0, 0.5]
    n = 200
    sizes = np.array([10, 50, 100, 150, 190])
    noise = minibatch_gradient_variance(g, sizes, n_batches=3000, replace=False, rng=1)
    sigma2 = float(np.sum(np.var(g, axis=0)))
    expected = sigma2 / sizes * (n - sizes) / (n - 1)
    assert np.allclose(noise.predicted, expected, rtol=1e-12)
    assert np.all(np.abs(noise.variances - expected) < 4.0 * noise.standard_errors)
    assert noise.slope < -1.1                                     # steeper than -1


def test_minibatch_gradients_are_unbiased_and_seeded():
    g = np.random.default_rng(0).standard_normal((300, 2))
    batches = minibatch_gradients(g, 8, n_batches=4000, rng=4)
    assert batches.shape == (4000, 2)
    se = g.std(axis=0) / math.sqrt(8 * 4000)
    assert np.all(np.abs(batches.mean(axis=0) - g.mean(axis=0)) < 4 * se)
    assert np.array_equal(batches, minibatch_gradients(g, 8, n_batches=4000, rng=4))
    whole = minibatch_gradients(g, 300, n_batches=3, replace=False, rng=0)
    assert np.allclose(whole, g.mean(axis=0), rtol=1e-13, atol=1e-15)                     # the batch is everything
    one_d = minibatch_gradients(np.arange(5.0), 2, n_batches=7, rng=0)
    assert one_d.shape == (7, 1)


def test_variance_is_scale_equivariant():
    g = np.random.default_rng(3).standard_normal((100, 2))
    a = minibatch_gradient_variance(g, (1, 4, 16), n_batches=50, rng=9)
    b = minibatch_gradient_variance(g * 1e100, (1, 4, 16), n_batches=50, rng=9)
    assert np.allclose(b.variances, a.variances * 1e200, rtol=1e-12)
    assert b.slope == pytest.approx(a.slope, rel=1e-12)


# ----------------------------------------------------------------- bad input

def test_bad_input_is_refused_with_our_errors():
    bowl = quadratic_bowl()
    with pytest.raises(ShapeError, match="last axis of length 2"):
        bowl.value([1.0, 2.0, 3.0])
    with pytest.raises(InvalidValueError, match="NaN"):
        bowl.gradient([np.nan, 0.0])
    with pytest.raises(InvalidValueError, match="at most"):
        rosenbrock().value([1e60, 0.0])
    with pytest.raises(InvalidValueError, match="at most"):
        rosenbrock().value(np.array([1e7, 0.0], dtype=np.float32))
    with pytest.raises(InvalidValueError, match="condition_number"):
        quadratic_bowl(condition_number=0.5)
    with pytest.raises(InvalidValueError, match="curvature"):
        quadratic_bowl(curvature=0.0)
    with pytest.raises(InvalidValueError, match="'b'"):
        rosenbrock(b=-1.0)
    with pytest.raises(InvalidTypeError, match="Surface"):
        run_optimizer("bowl")
    with pytest.raises(InvalidValueError, match="optimizer"):
        run_optimizer(bowl, "lbfgs")
    with pytest.raises(InvalidTypeError, match="optimizer"):
        run_optimizer(bowl, 3)
    with pytest.raises(InvalidValueError, match="lr"):
        run_optimizer(bowl, lr=-0.1)
    with pytest.raises(InvalidValueError, match="lr"):
        run_optimizer(bowl, lr=float("inf"))
    with pytest.raises(InvalidValueError, match="steps"):
        run_optimizer(bowl, steps=-1)
    with pytest.raises(InvalidTypeError, match="steps"):
        run_optimizer(bowl, steps=2.5)
    with pytest.raises(ShapeError, match="start"):
        run_optimizer(bowl, start=[1.0, 2.0, 3.0])
    with pytest.raises(InvalidValueError, match="outside the box"):
        run_optimizer(bowl, start=[1e7, 0.0])
    with pytest.raises(InvalidValueError, match="noise"):
        run_optimizer(bowl, noise=-1.0)
    with pytest.raises(InvalidValueError, match="gradient"):
        run_optimizer(bowl, gradient="numeric")
    with pytest.raises(InvalidTypeError, match="lr_schedule"):
        run_optimizer(bowl, lr_schedule=0.1)
    with pytest.raises(InvalidValueError, match="lr_schedule"):
        run_optimizer(bowl, lr_schedule=lambda t: -1.0)
    with pytest.raises(InvalidValueError, match="momentum"):
        run_optimizer(bowl, "momentum", momentum=0.0)
    with pytest.raises(InvalidValueError, match="betas"):
        run_optimizer(bowl, "adam", betas=(1.0, 0.9))
    with pytest.raises(InvalidTypeError, match="rng"):
        run_optimizer(bowl, noise=0.1, rng="seed")
    with pytest.raises(InvalidTypeError, match="theta"):
        bowl.tensor_value(np.zeros(2))
    with pytest.raises(ShapeError, match="point"):
        classify_point(bowl, [[0.0, 0.0]])
    with pytest.raises(InvalidValueError, match="atol"):
        classify_point(bowl, [0.0, 0.0], atol=0.0)
    with pytest.raises(InvalidTypeError, match="surface"):
        hessian_eigenvalues(None, [0.0, 0.0])


def test_bad_noise_input_is_refused_with_our_errors():
    g = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(ShapeError, match="per_example_grads"):
        minibatch_gradient_variance(g[:1])
    with pytest.raises(ShapeError, match="per_example_grads"):
        minibatch_gradient_variance(np.zeros((2, 2, 2)))
    with pytest.raises(InvalidValueError, match="NaN"):
        minibatch_gradient_variance(np.where(np.arange(40).reshape(20, 2) == 7, np.nan, g))
    with pytest.raises(InvalidValueError, match="same"):
        minibatch_gradient_variance(np.ones((20, 2)))
    with pytest.raises(InvalidValueError, match="two distinct"):
        minibatch_gradient_variance(g, (4, 4))
    with pytest.raises(InvalidValueError, match="batch_sizes"):
        minibatch_gradient_variance(g, (0, 4))
    with pytest.raises(InvalidTypeError, match="batch_sizes"):
        minibatch_gradient_variance(g, (1.5, 4))
    with pytest.raises(InvalidValueError, match="batch_sizes"):
        minibatch_gradient_variance(g, (2, 20), replace=False)    # |B| = N: no variance
    with pytest.raises(InvalidValueError, match="n_batches"):
        minibatch_gradient_variance(g, n_batches=1)
    with pytest.raises(InvalidTypeError, match="replace"):
        minibatch_gradient_variance(g, replace=1)
    with pytest.raises(InvalidValueError, match="batch_size"):
        minibatch_gradients(g, 21, replace=False)
    with pytest.raises(ShapeError, match="do not fit"):
        logistic_gradients(np.zeros((3, 2)), np.zeros(4), np.zeros(2))
    with pytest.raises(InvalidValueError, match="labels"):
        logistic_gradients(np.zeros((3, 2)), [0.0, 2.0, 1.0], np.zeros(2))
    with pytest.raises(InvalidValueError, match="n_examples"):
        logistic_problem(1)


# ----------------------------------------------------------------------- fuzz

@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@given(points=st.one_of(st.just([[1e49, -1e49]]), st.just([[1e6, 1e6]]),
                        anything(max_dims=3)),
       name=st.sampled_from(sorted(SURFACES)))
def test_fuzz_surfaces(points, name):
    s = SURFACES[name]
    for method in (s.value, s.gradient, s.hessian):
        check_call(method, points)
    check_call(hessian_eigenvalues, s, points)
    check_call(classify_point, s, points)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@given(start=st.one_of(st.none(), anything(max_dims=1)),
       lr=st.sampled_from([0.0, 1e-3, 0.5, 1e6, 2e6, -1.0, np.nan, None, "x"]),
       kind=st.sampled_from(list(landscape.OPTIMIZERS) + ["bad"]),
       noise=st.sampled_from([0.0, 0.1, 1e6, np.inf]),
       blowup=st.sampled_from([1e-3, 1.0, 1e6, 1e20, 1e21]),
       name=st.sampled_from(sorted(SURFACES)))
def test_fuzz_run_optimizer(start, lr, kind, noise, blowup, name):
    tr = check_call(run_optimizer, SURFACES[name], kind, lr, 20, start, noise=noise, rng=0,
               blowup=blowup)
    if tr is not None:
        assert np.all(np.abs(tr.points) <= blowup) and np.all(np.isfinite(tr.losses))


@given(g=anything(max_dims=3),
       sizes=st.sampled_from([(1, 2), (1, 4, 16), (2, 2), (0, 3), (1,), "x", None]),
       replace=st.sampled_from([True, False, 1]))
def test_fuzz_gradient_noise(g, sizes, replace):
    r = check_call(minibatch_gradient_variance, g, sizes, 5, replace, 0)
    if r is not None:
        assert np.all(r.variances >= 0) and np.isfinite(r.slope)
    check_call(minibatch_gradients, g, 3, 4, replace, 0)


@given(X=anything(max_dims=2),
       y=anything(max_dims=1),
       w=anything(max_dims=1))
def test_fuzz_logistic_gradients(X, y, w):
    check_call(logistic_gradients, X, y, w)
    check_call(logistic_gradients, [[1e300, -1e300]], [1.0], [1e300, 1e300])
