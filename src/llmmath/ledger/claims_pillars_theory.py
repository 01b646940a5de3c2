"""Claims of page 001, last part: information theory (cross-entropy,
perplexity, mutual information), optimisation theory and the training loop."""

from __future__ import annotations

import numpy as np

from llmmath.ledger import identities as ids
from llmmath.ledger import references as ref
from llmmath.ledger.core import add_claim

__all__: list[str] = []

F = "001"


# --- Entropy, cross-entropy, perplexity ------------------------------------ #

def _entropy_bounds():
    from llmmath import info

    p = ids.random_distributions(51, 200, 10)
    return {"uniform": float(info.entropy(np.full(10, 0.1))), "one_hot": float(info.entropy(np.eye(10)[2])),
            "random": info.entropy(p), "random_max": float(info.entropy(p).max())}


add_claim(
    id="001-entropy-extremes", file=F, locator="Entropy",
    stated="uniform: maximum entropy; deterministic: zero entropy",
    ours=_entropy_bounds, reference=ref.entropy_extremes(10, lambda: ids.random_distributions(51, 200, 10)),
    needs=("scipy",),
    holds=lambda v: v["one_hot"] == 0.0 and abs(v["uniform"] - np.log(10)) < 1e-12
    and v["random_max"] < v["uniform"],
    status="verified",
    explanation="H = log 10 for the uniform distribution over 10 outcomes, 0 for a one-hot one, "
    "and strictly between for 200 random distributions.",
)

add_claim(
    id="001-cross-entropy-unique-loss", file=F, locator="Why Cross-Entropy?",
    stated="cross-entropy is the unique loss with certain desirable properties",
    status="unverifiable",
    explanation="The properties are not named. One precise version: the log score is the only "
    "local strictly proper scoring rule (for three or more outcomes; Bernardo 1979).",
)

add_claim(
    id="001-cross-entropy-decomposition", file=F, locator="Why Cross-Entropy? (Proof)",
    stated="H(p, q) = H(p) + D_KL(p ‖ q)",
    ours=ids.cross_entropy_decomposition, reference=ref.ce_decomposition(0, 64, 7),
    needs=("scipy",),
    holds=lambda v: np.allclose(v["cross_entropy"], v["entropy_plus_kl"], rtol=0, atol=1e-12),
    status="verified",
    explanation="Checked on 64 random pairs of distributions over 7 outcomes; the page's proof "
    "(add and subtract Σ p log p) is right.",
)


def _ce_kl_gradients():
    from llmmath import calculus, info, prob

    p = ids.random_distributions(52, 1, 6)[0]
    z = ids.normal_input(53, 6)
    g_ce = calculus.numerical_gradient(lambda v: float(info.cross_entropy(p, prob.softmax(v))), z)
    g_kl = calculus.numerical_gradient(lambda v: float(info.kl_divergence(p, prob.softmax(v))), z)
    return {"grad_cross_entropy": g_ce, "grad_kl": g_kl}


add_claim(
    id="001-cross-entropy-kl-same-minimiser", file=F, locator="Why Cross-Entropy?",
    stated="H(p) does not depend on θ, so minimising H(p, q) = minimising D_KL(p ‖ q)",
    ours=_ce_kl_gradients, reference=ref.ce_kl_gradients(52, 53), needs=("torch",),
    holds=lambda v: np.allclose(v["grad_cross_entropy"], v["grad_kl"], atol=1e-8),
    rtol=1e-5, atol=1e-7, status="verified",
    explanation="The two losses differ by a constant, so their gradients with respect to the "
    "logits coincide (both equal softmax(z) − p).",
)


def _perplexity_cases():
    from llmmath import info

    return {
        "perfect": float(info.perplexity(np.zeros(20))),
        "uniform_50k": float(info.perplexity(np.full(20, np.log(50_000)))),
        "uniform_10": float(info.perplexity(np.full(20, np.log(10)))),
    }


add_claim(
    id="001-perplexity-perfect", file=F, locator="Perplexity: Information-Theoretic Interpretation",
    stated="PPL = 1: perfect prediction",
    ours=_perplexity_cases, reference=ref.perplexity_uniform, needs=("mpmath",),
    value_key="perfect", stated_value=1.0, stated_tol=1e-12, rtol=1e-12, status="verified",
    explanation="Probability 1 for every token means zero loss, and e⁰ = 1.",
)
add_claim(
    id="001-perplexity-uniform", file=F, locator="Perplexity: Information-Theoretic Interpretation",
    stated="PPL = |V| for the uniform distribution (Random, V = 50K: 50,000)",
    ours=_perplexity_cases, reference=ref.perplexity_uniform, needs=("mpmath",),
    value_key="uniform_50k", stated_value=50_000.0, stated_tol=1e-6, rtol=1e-12, status="verified",
    explanation="Each token costs log|V| nats, and exp(log 50,000) = 50,000. (GPT-2's vocabulary "
    "has 50,257 tokens.)",
)
add_claim(
    id="001-perplexity-effective-choices", file=F, locator="Perplexity: Information-Theoretic Interpretation",
    stated="PPL = 10: as uncertain as a uniform choice among 10 tokens",
    ours=_perplexity_cases, reference=ref.perplexity_uniform, needs=("mpmath",),
    value_key="uniform_10", stated_value=10.0, stated_tol=1e-9, rtol=1e-12, status="verified",
    explanation="A uniform choice among 10 has perplexity exactly 10; any model with the same "
    "cross-entropy has the same perplexity.",
)

_TABLE_WHY = ("Perplexities depend on the test set (WikiText-2 or -103), the tokenizer (word- and "
              "BPE-level values are not comparable) and the evaluation protocol; ")
for _id, _stated, _why in [
    ("001-perplexity-table-trigram", "trigram model: ~200", "no model or data set is named."),
    ("001-perplexity-table-gpt2", "GPT-2: ~30–40",
     "Radford et al. (2019, Table 3) report zero-shot WikiText-103 values from 37.5 (117M) down "
     "to 17.5 (1.5B), so the range fits only the smallest model."),
    ("001-perplexity-table-gpt3", "GPT-3: ~15–20",
     "Brown et al. (2020) report no WikiText perplexity (they cite test-set contamination); "
     "their zero-shot Penn Treebank value is 20.5."),
    ("001-perplexity-table-gpt4", "GPT-4 (estimated): ~10–15", "no figure has been published."),
]:
    add_claim(id=_id, file=F, locator="Perplexity in Practice", stated=_stated,
              status="unverifiable", explanation=_TABLE_WHY + _why)


def _mutual_information():
    from llmmath import info

    joint = _joint()
    px, py = joint.sum(1), joint.sum(0)
    return {
        "mi": float(info.mutual_information(joint)),
        "entropies": float(info.entropy(px) + info.entropy(py) - info.entropy(joint.ravel())),
        "kl_to_product": float(info.kl_divergence(joint.ravel(), np.outer(px, py).ravel())),
    }


def _joint():
    w = np.random.default_rng(54).random((3, 4)) ** 2
    return w / w.sum()


add_claim(
    id="001-mutual-information", file=F, locator="Mutual Information and Attention",
    stated="mutual information: how much knowing one token tells about another",
    ours=_mutual_information, reference=ref.mutual_information(_joint), needs=("scipy",),
    holds=lambda v: abs(v["mi"] - v["entropies"]) < 1e-12 and abs(v["mi"] - v["kl_to_product"]) < 1e-12,
    status="verified",
    explanation="I(X; Y) = H(X) + H(Y) − H(X, Y) = KL(P_XY ‖ P_X P_Y), checked on a random 3 × 4 "
    "joint table (the page's formula itself is missing).",
)
add_claim(
    id="001-attention-estimates-mutual-information", file=F, locator="Mutual Information and Attention",
    stated="attention weights estimate the mutual information between tokens",
    status="unverifiable",
    explanation="An interpretation without a definition to test: attention weights are a softmax "
    "of query–key scores per row, not an estimator of I(X; Y) between tokens.",
)


# --- Optimisation theory --------------------------------------------------- #

for _id, _stated, _why in [
    ("001-local-minima-are-good", "most local minima of a network have similar, good loss",
     "An empirical and theoretical research claim (Choromanska et al. 2015) about large "
     "networks; no computation on a page-sized example can confirm it."),
    ("001-saddle-points-dominate", "most stationary points in high dimensions are saddles",
     "Supported for random-matrix models of the Hessian (Dauphin et al. 2014); for real "
     "networks it is an empirical finding, not a computable fact."),
    ("001-gradient-noise-regularises", "mini-batch noise regularises, escaping sharp minima",
     "A hypothesis with mixed evidence (Keskar et al. 2017; Dinh et al. 2017 show sharpness "
     "depends on parametrisation)."),
    ("001-overparameterisation-valleys", "overparameterisation creates connected valleys of similar loss",
     "Mode connectivity is an empirical finding (Garipov et al. 2018; Draxler et al. 2018)."),
    ("001-small-batches-generalise", "small-batch SGD generalises better than large-batch SGD",
     "Depends on the learning rate and schedule; with them tuned, large batches can match "
     "(Goyal et al. 2017; Shallue et al. 2019)."),
    ("001-momentum-escapes-saddles", "SGD with momentum escapes saddle points effectively",
     "'Effectively' is not defined. Gradient descent from a random start avoids strict saddles "
     "almost surely (Lee et al. 2016) yet can need exponential time (Du et al. 2017), and added "
     "noise provably helps (Jin et al. 2017); how fast momentum escapes in a real network is an "
     "empirical question."),
    ("001-flat-minima-generalise", "flat minima generalise better: small parameter perturbations "
     "do not raise the loss much",
     "Flatness has no parametrisation-free definition: rescaling a ReLU network makes any minimum "
     "as sharp as wanted without changing the function (Dinh et al. 2017). Links between "
     "flatness measures and generalisation are empirical (Keskar et al. 2017; Jiang et al. 2020)."),
]:
    add_claim(id=_id, file=F, locator="Convex vs. Non-Convex Landscape; SGD and Generalization",
              stated=_stated, status="unverifiable", explanation=_why)

add_claim(
    id="001-minibatch-gradient-variance", file=F, locator="SGD and Generalization",
    stated="Var[∇L_B] = σ²/|B|",
    ours=ids.minibatch_gradient_variance, reference=ref.minibatch_variance(20000, 0, (1, 2, 4, 8, 16, 32, 64), 200, 100),
    needs=("torch",),
    holds=lambda v: abs(v["slope"] + 1) < 0.05, rtol=0.1, atol=0.05, status="verified",
    correct="slope −1 on log–log axes (with replacement); × (N − |B|)/(N − 1) without",
    explanation="Per-example gradients of a character bigram model on 20,000 corpus pairs: the "
    "mean squared deviation of the mini-batch gradient, over 2,000 batches drawn with "
    "replacement for each |B| from 1 to 64, falls with slope −1. Drawing without replacement "
    "from N examples multiplies it by (N − |B|)/(N − 1) (0.503 for |B| = 100 of N = 200).",
)


def _stalled():
    from llmmath import calculus

    x = np.array([10.0])
    for t in range(1, 5001):
        grad = calculus.numerical_gradient(lambda v: 0.5 * float(v[0] ** 2), x)   # f = x²/2
        x = x - (0.5 / t**2) * grad
    return {"final_x": float(x[0]), "sum_eta": float(np.sum(0.5 / np.arange(1, 5001) ** 2))}


add_claim(
    id="001-sgd-step-size-conditions", file=F, locator="Convergence Guarantees",
    stated="SGD converges if Σ η_t² < ∞",
    ours=_stalled, reference=ref.stalled_descent(10.0), needs=("mpmath",),
    holds=lambda v: abs(v["final_x"]) < 1e-3, rtol=1e-3, atol=1e-6,
    status="erratum", correct="Robbins–Monro needs both Σ η_t = ∞ and Σ η_t² < ∞",
    explanation="With η_t = 0.5/t² the squares are summable but the steps are too (Σ η_t = π²/12): "
    "gradient descent on x²/2 from x = 10 stops at 10·sin(π/√2)/(π/√2) ≈ 3.58, never reaching 0. "
    "(The stored page has lost its other display formulas, so a first line Σ η_t = ∞ may have "
    "been lost too; as it stands the condition is not sufficient.)",
)


def _partial_sums():
    ts = np.array([10**3, 10**4, 10**5, 10**6])
    t = np.arange(1, ts[-1] + 1, dtype=float)
    inv_sqrt_sq = np.cumsum(1 / t)          # Σ (1/√t)² = Σ 1/t
    inv_sq = np.cumsum(1 / t**2)            # Σ (1/t)²
    inv = np.cumsum(1 / t)                  # Σ 1/t
    return {"T": ts, "sum_sq_inv_sqrt": inv_sqrt_sq[ts - 1], "sum_sq_inv_t": inv_sq[ts - 1],
            "sum_inv_t": inv[ts - 1]}


add_claim(
    id="001-sgd-one-over-t", file=F, locator="Convergence Guarantees",
    stated="η_t = 1/t converges (slowly)",
    ours=_partial_sums, reference=ref.harmonic_partial_sums((10**3, 10**4, 10**5, 10**6)),
    needs=("mpmath",),
    holds=lambda v: v["sum_sq_inv_t"][-1] < np.pi**2 / 6 and v["sum_inv_t"][-1] - v["sum_inv_t"][0] > 6,
    rtol=1e-9, atol=1e-9, status="verified",
    explanation="Σ 1/t² = π²/6 is finite and Σ 1/t grows like ln T without bound: both "
    "Robbins–Monro conditions hold.",
)
add_claim(
    id="001-sgd-one-over-sqrt-t", file=F, locator="Convergence Guarantees",
    stated="η_t = 1/√t satisfies the condition and converges at rate O(1/√t)",
    ours=_partial_sums, reference=ref.harmonic_partial_sums((10**3, 10**4, 10**5, 10**6)),
    needs=("mpmath",),
    holds=lambda v: v["sum_sq_inv_sqrt"][-1] - v["sum_sq_inv_sqrt"][0] < 1.0,
    rtol=1e-9, atol=1e-9, status="erratum",
    correct="Σ (1/√t)² = Σ 1/t diverges, so 1/√t violates Σ η_t² < ∞",
    explanation="The partial sums grow like ln T + 0.577 (7.49 at T = 10³, 14.39 at 10⁶). "
    "The O(1/√T) rate for 1/√t steps is a different theorem, which does not need Σ η_t² < ∞: "
    "convex problems, bounded gradients, the average of the iterates, and a bounded domain "
    "(projected steps; Zinkevich 2003), or O(log T/√T) without one.",
)


def _double_well():
    from llmmath import calculus

    def f(v):
        return float((v[0] ** 2 - 1) ** 2 + 0.3 * v[0])

    x = np.array([1.2])
    for _ in range(2000):
        x = x - 0.01 * calculus.numerical_gradient(f, x)
    grid = np.linspace(-2, 2, 400_001)
    return {"final_x": float(x[0]), "final_loss": f(x),
            "global_min": float(np.min((grid**2 - 1) ** 2 + 0.3 * grid))}


add_claim(
    id="001-nonconvex-no-global-guarantee", file=F, locator="Convergence Guarantees",
    stated="non-convex: convergence to a global minimum is not guaranteed",
    ours=_double_well, reference=ref.double_well_minima, needs=("scipy",),
    holds=lambda v: v["final_loss"] > v["global_min"] + 0.1, rtol=1e-5, atol=1e-5,
    status="verified",
    explanation="Gradient descent on (x² − 1)² + 0.3x started at x = 1.2 settles in the right-hand "
    "well (x ≈ 0.96, loss ≈ 0.29), while the global minimum is at x ≈ −1.04 (loss ≈ −0.31).",
)


# --- Complete Training Loop ------------------------------------------------ #

def _batch_problem():
    rng = np.random.default_rng(56)
    return rng.normal(size=(4, 6, 9)), rng.integers(0, 9, size=(4, 6))   # B = 4 sequences, T = 6


def _batch_loss():
    from llmmath.autograd import Tensor, functional

    logits, targets = _batch_problem()
    b, t, _ = logits.shape
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    page = -np.sum(np.take_along_axis(logp, targets[..., None], -1)) / b   # -(1/|B|) Σ_b Σ_i
    token_mean = float(functional.cross_entropy(Tensor(logits), targets).data)
    return {"page_loss": float(page), "token_mean": token_mean, "tokens_per_sequence": t}


add_claim(
    id="001-batch-loss-normalisation", file=F, locator="Complete Training Loop — Mathematical View (Step 3)",
    stated="L = −(1/|B|) Σ_b Σᵢ log P_θ(xᵢᵇ | x<ᵢᵇ)",
    ours=_batch_loss, reference=ref.batch_loss(_batch_problem), needs=("torch",),
    holds=lambda v: abs(v["page_loss"] - v["tokens_per_sequence"] * v["token_mean"]) < 1e-12,
    rtol=1e-10, atol=1e-12, status="verified",
    explanation="A valid MLE objective: summed over tokens and averaged over sequences it is T "
    "times the per-token mean that the derivation's step 5 and PyTorch's cross_entropy use; "
    "same minimiser, gradients T times larger (learning rates are quoted for the per-token mean).",
)


def _adam():
    from llmmath import optim
    from llmmath.autograd import Tensor

    w0, target = _adam_problem()
    p = Tensor(w0.copy(), requires_grad=True)
    opt = optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    lib, formula = [], []
    m = v = np.zeros_like(w0)
    theta = w0.copy()
    for t in range(1, 4):
        opt.zero_grad()
        loss = ((p - Tensor(target)) ** 2).sum()
        loss.backward()
        opt.step()
        lib.append(np.array(p.data))
        g = 2 * (theta - target)                    # the page's update, bias-corrected
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        theta = theta - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        formula.append(theta.copy())
    return {"params": np.array(lib), "page_formula": np.array(formula)}


def _adam_problem():
    rng = np.random.default_rng(55)
    return rng.normal(size=4), rng.normal(size=4)


add_claim(
    id="001-adam-update", file=F, locator="Complete Training Loop — Mathematical View (Step 5)",
    stated="m_t, v_t moving averages; θ ← θ − η·m̂_t/(√v̂_t + ε)",
    ours=_adam, reference=ref.adam_steps(_adam_problem, 0.1, 3), needs=("torch",),
    holds=lambda v: np.allclose(v["params"], v["page_formula"], atol=1e-12),
    rtol=1e-9, atol=1e-12, status="verified",
    explanation="Three steps on a quadratic agree with torch.optim.Adam, with m̂ = m/(1 − β₁ᵗ) "
    "and v̂ = v/(1 − β₂ᵗ), the bias corrections the page uses but does not define.",
)
