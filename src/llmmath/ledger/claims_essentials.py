"""Claims of page 004, the essential-mathematics guide (topic lists; the
checkable items are the named tools: eigendecomposition, dimension
reduction, Jacobians, Hessians, directional derivatives, hypothesis tests and
Bayesian updating)."""

from __future__ import annotations

import numpy as np

from llmmath.ledger import references as ref
from llmmath.ledger.core import add_claim

__all__: list[str] = []

F = "004"


def _symmetric():
    a = np.random.default_rng(81).normal(size=(5, 5))
    return a + a.T


def _eigendecomposition():
    s = _symmetric()
    lam, q = np.linalg.eigh(s)
    return {"eigenvalues": lam, "reconstruction_error": float(np.abs(q @ np.diag(lam) @ q.T - s).max()),
            "orthogonality_error": float(np.abs(q.T @ q - np.eye(5)).max())}


add_claim(
    id="004-eigenvalue-decomposition", file=F, locator="Vector Spaces and Matrix Operations",
    stated="eigenvalue decomposition",
    ours=_eigendecomposition, reference=ref.eigh_reconstruction(_symmetric), needs=("scipy",),
    holds=lambda v: v["reconstruction_error"] < 1e-12 and v["orthogonality_error"] < 1e-12,
    rtol=1e-9, atol=1e-10, status="verified",
    explanation="A symmetric matrix is Q Λ Qᵀ with orthonormal Q (the spectral theorem).",
)


def _eckart_young():
    from llmmath import linalg

    m = _low_rank_target()
    return {"errors": np.array([float(linalg.low_rank_approx(m, r)[1]) for r in (1, 2, 4, 8)])}


def _low_rank_target():
    rng = np.random.default_rng(82)
    return rng.normal(size=(30, 20)) * np.linspace(2, 0.1, 20)


add_claim(
    id="004-dimension-reduction", file=F, locator="Vector Spaces and Matrix Operations",
    stated="dimension reduction methods (truncated SVD)",
    ours=_eckart_young, reference=ref.svd_tail_errors(_low_rank_target, (1, 2, 4, 8)), needs=("scipy",),
    holds=lambda v: bool(np.all(np.diff(v["errors"]) < 0)), rtol=1e-9, atol=1e-12,
    status="verified",
    explanation="Eckart–Young: the best rank-r approximation keeps the top r singular values; "
    "its relative Frobenius error is √(Σ_{i>r} σᵢ²)/‖M‖_F, falling as r grows.",
)


def _vector_field(x):
    return np.array([np.sin(x[0]) * x[1], x[0] ** 2 + np.exp(0.3 * x[1]), x[0] * x[1] * x[2]])


def _jacobian():
    from llmmath import calculus

    x = np.array([0.4, -1.1, 0.7])
    jac = calculus.jacobian(_vector_field, x)
    analytic = np.array([[np.cos(x[0]) * x[1], np.sin(x[0]), 0.0],
                         [2 * x[0], 0.3 * np.exp(0.3 * x[1]), 0.0],
                         [x[1] * x[2], x[0] * x[2], x[0] * x[1]]])
    return {"jacobian": jac, "analytic": analytic}


add_claim(
    id="004-jacobian", file=F, locator="Advanced Calculus in Multiple Dimensions",
    stated="Jacobian computation",
    ours=_jacobian, reference=ref.torch_jacobian((0.4, -1.1, 0.7)), needs=("torch",),
    holds=lambda v: np.allclose(v["jacobian"], v["analytic"], atol=1e-8), rtol=1e-6, atol=1e-8,
    status="verified",
    explanation="The matrix of partial derivatives of a map ℝ³ → ℝ³, by central differences, "
    "matches the hand derivation and torch.autograd.functional.jacobian.",
)


def _scalar_field(x):
    return float(np.sin(x[0] * x[1]) + x[0] ** 2 * x[2] + np.exp(0.5 * x[2]))


def _hessian():
    from llmmath import calculus

    x = np.array([0.3, 0.8, -0.5])
    h = calculus.jacobian(lambda v: calculus.numerical_gradient(_scalar_field, v, eps=1e-5), x)
    return {"hessian": h, "asymmetry": float(np.abs(h - h.T).max())}


add_claim(
    id="004-hessian", file=F, locator="Advanced Calculus in Multiple Dimensions",
    stated="Hessian matrices",
    ours=_hessian, reference=ref.torch_hessian((0.3, 0.8, -0.5)), needs=("torch",),
    holds=lambda v: v["asymmetry"] < 1e-4, rtol=1e-4, atol=1e-4, status="verified",
    explanation="The Hessian of a smooth function is symmetric (Schwarz); nested central "
    "differences agree with torch.autograd.functional.hessian to about 1e-5.",
)


def _directional():
    from llmmath import calculus

    x = np.array([0.3, 0.8, -0.5])
    u = np.array([2.0, -1.0, 2.0]) / 3.0
    h = 1e-6
    return {"difference_quotient": (_scalar_field(x + h * u) - _scalar_field(x - h * u)) / (2 * h),
            "gradient_dot_u": float(calculus.numerical_gradient(_scalar_field, x) @ u)}


add_claim(
    id="004-directional-derivative", file=F, locator="Advanced Calculus in Multiple Dimensions",
    stated="directional derivative analysis",
    ours=_directional, reference=ref.torch_jvp((0.3, 0.8, -0.5), (2 / 3, -1 / 3, 2 / 3)),
    needs=("torch",),
    holds=lambda v: abs(v["difference_quotient"] - v["gradient_dot_u"]) < 1e-7, rtol=1e-6, atol=1e-8,
    status="verified",
    explanation="D_u f = ∇f · u: the slope along a unit direction equals the gradient's "
    "projection on it (torch.func.jvp).",
)


def _paired_scores():
    rng = np.random.default_rng(83)
    base = rng.uniform(0.5, 0.9, size=30)
    return base + rng.normal(0, 0.02, size=30), base + 0.01 + rng.normal(0, 0.02, size=30)


def _paired():
    from llmmath import stats

    a, b = _paired_scores()
    r = stats.paired_t_test(a, b)
    d = a - b
    return {"statistic": float(r.statistic), "pvalue": float(r.pvalue),
            "t_direct": float(d.mean() / (d.std(ddof=1) / np.sqrt(d.size)))}


add_claim(
    id="004-hypothesis-evaluation", file=F, locator="Statistical Analysis and Probability Theory",
    stated="hypothesis evaluation (a paired test of two models)",
    ours=_paired, reference=ref.paired_t(_paired_scores), needs=("scipy",),
    holds=lambda v: abs(v["statistic"] - v["t_direct"]) < 1e-10 and 0 < v["pvalue"] < 1,
    rtol=1e-7, atol=1e-10, status="verified",
    explanation="The paired t statistic is the mean score difference over its standard error; "
    "statistic and p-value match scipy.stats.ttest_rel.",
)


def _beta_binomial():
    from llmmath import prob

    grid = np.linspace(0.001, 0.999, 999)
    prior = np.ones_like(grid) / grid.size                    # flat prior on θ
    k, n = 7, 20
    likelihood = grid**k * (1 - grid) ** (n - k)
    post = prob.bayes_posterior(prior, likelihood)
    return {"posterior_mean": float(post @ grid), "posterior_mode": float(grid[np.argmax(post)])}


add_claim(
    id="004-bayesian-methodology", file=F, locator="Statistical Analysis and Probability Theory",
    stated="Bayesian methodology",
    ours=_beta_binomial, reference=ref.beta_posterior(7, 20), needs=("scipy",),
    holds=lambda v: abs(v["posterior_mode"] - 7 / 20) < 1e-3, rtol=0, atol=1e-4,
    status="verified",
    explanation="A flat prior and 7 successes in 20 trials give the Beta(8, 14) posterior: mean "
    "8/22 = 0.364 (scipy.stats.beta), mode 0.35.",
)
