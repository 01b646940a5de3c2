"""Claims of page 001, second half: the derivations (softmax and loss
gradients, LayerNorm, the chain rule of probability, MLE, cross-entropy and
perplexity, optimisation theory, the training loop)."""

from __future__ import annotations

import numpy as np

from llmmath.ledger import identities as ids
from llmmath.ledger import references as ref
from llmmath.ledger.core import add_claim

__all__: list[str] = []

F = "001"


# --- Calculus: chain rule (overview) and derivations ----------------------- #

def _neuron():
    from llmmath.autograd import Value

    w, x, b, t = 0.8, 1.5, -0.3, 0.2
    wv = Value(w)
    a = (wv * x + b).tanh()
    loss = (a - t) ** 2
    loss.backward()
    z = w * x + b
    dl_da, da_dz, dz_dw = 2 * (np.tanh(z) - t), 1 - np.tanh(z) ** 2, x
    return {"autograd": float(wv.grad), "product": float(dl_da * da_dz * dz_dw)}


add_claim(
    id="001-chain-rule-backprop", file=F, locator="Chain Rule Derivation",
    stated="dL/dw is the product of the local derivatives along the path from w to L",
    ours=_neuron, reference=ref.neuron_grad(0.8, 1.5, -0.3, 0.2), needs=("torch",),
    holds=lambda v: abs(v["autograd"] - v["product"]) < 1e-12, status="verified",
    explanation="For L = (tanh(w x + b) − t)², backpropagation through the scalar engine gives "
    "the product of the local derivatives, as PyTorch does.",
)

_JAC = ids.softmax_jacobian_parts
add_claim(
    id="001-softmax-jacobian-diagonal", file=F, locator="Derivative of the Softmax",
    stated="∂σᵢ/∂zᵢ = σᵢ(1 − σᵢ)",
    ours=_JAC, reference=ref.softmax_jacobian(0, 5), needs=("torch",),
    holds=lambda v: np.allclose(np.diag(v["finite_differences"]), v["diagonal_formula"], atol=1e-8),
    rtol=1e-6, atol=1e-8, status="verified",
    explanation="The diagonal of the finite-difference Jacobian matches σᵢ(1 − σᵢ).",
)
add_claim(
    id="001-softmax-jacobian-offdiagonal", file=F, locator="Derivative of the Softmax (Case 2)",
    stated="∂σᵢ/∂zⱼ = −σᵢσⱼ for i ≠ j",
    ours=_JAC, reference=ref.softmax_jacobian(0, 5), needs=("torch",),
    holds=lambda v: np.allclose((v["finite_differences"] - v["offdiagonal_formula"])[~np.eye(5, dtype=bool)], 0, atol=1e-8),
    rtol=1e-6, atol=1e-8, status="verified",
    explanation="Off the diagonal the finite-difference Jacobian matches −σᵢσⱼ.",
)
add_claim(
    id="001-softmax-jacobian", file=F, locator="Derivative of the Softmax (Combined)",
    stated="∂σᵢ/∂zⱼ = σᵢ(δᵢⱼ − σⱼ)",
    ours=_JAC, reference=ref.softmax_jacobian(0, 5), needs=("torch",),
    holds=lambda v: np.allclose(v["jacobian"], v["finite_differences"], atol=1e-8)
    and np.allclose(v["jacobian"], v["combined_formula"], atol=1e-15),
    rtol=1e-6, atol=1e-8, status="verified",
    explanation="diag(σ) − σσᵀ: the library's Jacobian, the formula, central differences and "
    "torch.autograd.functional.jacobian agree.",
)

_CE = ids.ce_softmax_gradient_parts
add_claim(
    id="001-ce-softmax-grad-correct-class", file=F, locator="Cross-Entropy + Softmax Gradient Derivation",
    stated="∂L/∂z_c = ŷ_c − 1 for the correct class",
    ours=_CE, reference=ref.ce_softmax_grad(0, 6, 2), needs=("torch",),
    holds=lambda v: abs(v["finite_differences"][v["target"]] - v["p_minus_y"][v["target"]]) < 1e-8,
    rtol=1e-6, atol=1e-8, status="verified",
    explanation="The target's component of the finite-difference gradient equals ŷ_c − 1.",
)
add_claim(
    id="001-ce-softmax-grad-wrong-class", file=F, locator="Cross-Entropy + Softmax Gradient Derivation",
    stated="∂L/∂zᵢ = ŷᵢ for i ≠ c",
    ours=_CE, reference=ref.ce_softmax_grad(0, 6, 2), needs=("torch",),
    holds=lambda v: np.allclose(np.delete(v["finite_differences"], v["target"]),
                                np.delete(v["p_minus_y"], v["target"]), atol=1e-8),
    rtol=1e-6, atol=1e-8, status="verified",
    explanation="Every other component equals the predicted probability.",
)
add_claim(
    id="001-ce-softmax-grad", file=F, locator="Cross-Entropy + Softmax Gradient Derivation",
    stated="∇_z CE(softmax(z), y) = ŷ − y (predicted − true)",
    ours=_CE, reference=ref.ce_softmax_grad(0, 6, 2), needs=("torch",),
    holds=lambda v: np.allclose(v["library"], v["finite_differences"], atol=1e-8),
    rtol=1e-6, atol=1e-8, status="verified",
    explanation="Library, central differences and torch autograd of F.cross_entropy agree.",
)


def _relu():
    from llmmath import calculus

    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    return calculus.relu_grad(x)


add_claim(
    id="001-relu-gradient", file=F, locator="The Gradient of ReLU",
    stated="∂ReLU/∂x = 0 for x ≤ 0 (and 1 for x > 0)",
    ours=_relu, reference=ref.relu_grad([-2.0, -0.5, 0.0, 0.5, 2.0]), needs=("torch",),
    stated_value=[0.0, 0.0, 0.0, 1.0, 1.0], stated_tol=0.0, status="verified",
    explanation="The page prints only the x ≤ 0 case; the derivative is 1 for x > 0. At x = 0 "
    "it does not exist and 0 is the convention (PyTorch's too).",
)


def _sigmoid_slope():
    from llmmath import calculus, prob

    grid = np.linspace(-6, 6, 1201)
    slopes = np.array([calculus.numerical_gradient(lambda v: float(prob.sigmoid(v[0])), np.array([g]))[0]
                       for g in grid[::20]])
    s = prob.sigmoid(grid)
    return {"max_slope": float(np.max(s * (1 - s))), "argmax": float(grid[np.argmax(s * (1 - s))]),
            "max_numerical_slope": float(slopes.max())}


add_claim(
    id="001-sigmoid-max-gradient", file=F, locator="The Gradient of ReLU",
    stated="the sigmoid's largest gradient is 0.25",
    ours=_sigmoid_slope, reference=ref.sigmoid_max_slope, needs=("mpmath",),
    value_key="max_slope", stated_value=0.25, stated_tol=1e-12, rtol=1e-9, atol=1e-9,
    status="verified",
    explanation="σ'(x) = σ(x)(1 − σ(x)) peaks at x = 0 where σ = 1/2, giving 1/4.",
)


def _sigmoid_depth():
    from llmmath.autograd import Value

    x = Value(0.0)
    h = x
    for _ in range(10):
        h = 1 / (1 + (-h).exp()) - 0.5   # a sigmoid unit, re-centred so each input is 0
    h.backward()
    return {"gradient_through_10_sigmoids": float(x.grad), "quarter_to_the_10": 0.25**10}


add_claim(
    id="001-sigmoid-vanishing-gradient", file=F, locator="The Gradient of ReLU",
    stated="sigmoid's max gradient 0.25 makes gradients vanish in deep networks",
    ours=_sigmoid_depth, reference=ref.sigmoid_chain(10), needs=("torch",),
    holds=lambda v: v["gradient_through_10_sigmoids"] <= v["quarter_to_the_10"] * (1 + 1e-12),
    rtol=1e-9, atol=1e-15, status="verified",
    explanation="Even at the sigmoid's steepest point, ten stacked units pass on at most "
    "0.25¹⁰ ≈ 9.5e-7 of the gradient.",
)

def _relu_depth():
    from llmmath.autograd import Value

    out = {}
    for name, x0 in _RELU_STARTS.items():
        x = Value(x0)
        h = x
        for _ in range(10):
            h = h.relu()
        h.backward()
        out[name] = float(x.grad)
    return out


_RELU_STARTS = {"active": 0.7, "inactive": -0.7}

add_claim(
    id="001-relu-gradient-does-not-shrink", file=F, locator="The Gradient of ReLU",
    stated="ReLU's gradient is 0 or 1, so the gradient does not shrink as it passes through ReLU",
    ours=_relu_depth, reference=ref.relu_chain(10, _RELU_STARTS), needs=("torch",),
    holds=lambda v: v["active"] == 1.0 and v["inactive"] == 0.0, rtol=0, atol=0,
    status="verified",
    explanation="Through ten stacked ReLUs the gradient reaching an active input is exactly 1, "
    "against at most 0.25¹⁰ ≈ 9.5e-7 through ten sigmoids; an inactive unit passes 0 (the 'dead "
    "ReLU' side of 'either 0 or 1'). That ReLU alone 'makes deep networks trainable' is too "
    "strong: initialisation, normalisation and residual paths matter as much.",
)


def _ln_batch():
    rng = np.random.default_rng(42)
    return (rng.normal(size=(3, 4, 16)), rng.normal(1.0, 0.3, size=16), rng.normal(size=16),
            rng.normal(size=(3, 4, 16)))


_LN = ids.layer_norm_gradients
def _layer_norm_dbeta():
    from llmmath import calculus

    x, gamma, _, dy = _ln_batch()
    _, _, dbeta = calculus.layer_norm_backward(x, gamma, dy, eps=1e-5)
    return {"library_dbeta": dbeta,                         # (d,): one per feature
            "sum_over_tokens": dy.reshape(-1, dy.shape[-1]).sum(axis=0),
            "page_sum_over_features": dy.sum(axis=-1)}       # (3, 4): one per token


add_claim(
    id="001-layernorm-dbeta", file=F, locator="Gradient of Layer Normalization",
    stated="∂L/∂β = Σᵢ ∂L/∂yᵢ (i the feature index, as in the ∂L/∂xᵢ line)",
    ours=_layer_norm_dbeta, reference=ref.torch_layer_norm_dbeta(_ln_batch), needs=("torch",),
    holds=lambda v: np.shape(v["page_sum_over_features"]) == np.shape(v["library_dbeta"])
    and np.allclose(v["page_sum_over_features"], v["library_dbeta"]),
    rtol=1e-10, atol=1e-12, status="erratum",
    correct="∂L/∂βⱼ = Σ over tokens of ∂L/∂y_{t,j}: one value per feature, not a sum over features",
    explanation="LayerNorm's β (like γ) has one entry per feature. Each βⱼ is added to feature j of "
    "every token, so its gradient sums ∂L/∂y over the tokens of the batch, feature by feature "
    "(PyTorch agrees); the page's sum over features is the gradient of a single shared scalar β. "
    "Read with i running over the tokens of a batch it would be the usual formula, but in this "
    "block i is the feature index (μ and σ² in the ∂L/∂xᵢ line average over it).",
)
add_claim(
    id="001-layernorm-gradient", file=F, locator="Gradient of Layer Normalization",
    stated="∂L/∂xᵢ = (γ/√(σ²+ε))·[gᵢ − mean(g) − (xᵢ−μ)/(d·σ²)·Σⱼ gⱼ(xⱼ−μ)], g = ∂L/∂y",
    ours=_LN, reference=ref.layer_norm_grads(0, 8, 3e-3, 1e-5), needs=("torch",),
    holds=lambda v: np.allclose(v["syllabus_dx"], v["finite_differences_dx"], rtol=1e-3, atol=1e-3),
    rtol=1e-5, atol=1e-4, status="erratum",
    correct="∂L/∂xᵢ = (1/√(σ²+ε))·[ĝᵢ − mean(ĝ) − x̂ᵢ·mean(ĝ ⊙ x̂)], ĝ = γ ⊙ ∂L/∂y, "
    "x̂ = (x−μ)/√(σ²+ε)",
    explanation="Two faults: the variance term divides by d·σ² instead of d·(σ²+ε), and a vector "
    "γ must multiply ∂L/∂y inside the sums, not the bracket outside. With σ² ≈ ε and a random γ "
    "the page's formula misses finite differences and PyTorch by up to 40 (48.9 against 8.8 in "
    "one entry); the library's gradient agrees with both.",
)



def _layer_norm_autograd():
    from llmmath import calculus
    from llmmath.autograd import Tensor, functional

    x, gamma, beta, dy = _ln_batch()
    xt, gt, bt = (Tensor(a, requires_grad=True) for a in (x, gamma, beta))
    (functional.layer_norm(xt, gt, bt, eps=1e-5) * Tensor(dy)).sum().backward()
    dx, dgamma, dbeta = calculus.layer_norm_backward(x, gamma, dy, eps=1e-5)
    return {"autograd": {"dx": np.array(xt.grad), "dgamma": np.array(gt.grad), "dbeta": np.array(bt.grad)},
            "closed_form": {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}}


add_claim(
    id="001-layernorm-autograd", file=F, locator="Gradient of Layer Normalization",
    stated="autograd handles the LayerNorm gradient automatically",
    ours=_layer_norm_autograd, reference=ref.torch_layer_norm_backward(_ln_batch), needs=("torch",),
    holds=lambda v: all(np.allclose(v["autograd"][k], v["closed_form"][k], atol=1e-10)
                        for k in ("dx", "dgamma", "dbeta")),
    rtol=1e-8, atol=1e-10, status="verified",
    explanation="Backpropagating through llmmath's LayerNorm gives the closed-form three-term "
    "gradient and PyTorch's, for a (3, 4, 16) batch with a vector γ.",
)


# --- Probability ----------------------------------------------------------- #

add_claim(
    id="001-chain-rule-of-probability", file=F, locator="The Chain Rule of Probability",
    stated="P(x₁, …, xₙ) = Πᵢ P(xᵢ | x<ᵢ), an identity",
    ours=ids.chain_rule_of_probability, reference=ref.exact_chain_rule(lambda: ids.joint_weights(0, (2, 3, 2))),
    holds=lambda v: v["exact_max_difference"] == 0.0, rtol=1e-12, atol=1e-15, status="verified",
    explanation="On an explicit 2 × 3 × 2 joint table with rational entries the product of "
    "conditionals equals the joint exactly (fractions, no rounding).",
)


def _coin_flips():
    return np.random.default_rng(41).random(2000) < 0.3        # 2000 coin flips


def _log_monotone():
    from llmmath import prob

    x = _coin_flips()
    grid = np.linspace(0.001, 0.999, 999)
    k, n = int(x.sum()), x.size
    likelihood = np.exp(k * np.log(grid) + (n - k) * np.log1p(-grid))  # underflows to 0
    log_likelihood = k * np.log(grid) + (n - k) * np.log1p(-grid)
    mle = prob.categorical_mle(np.array([n - k, k]))[1]
    return {"argmax_log_likelihood": float(grid[np.argmax(log_likelihood)]),
            "mle": float(mle), "likelihood_underflows": bool(np.all(likelihood == 0.0)),
            "k": k, "n": n}


add_claim(
    id="001-mle-log-same-optimum", file=F, locator="Maximum Likelihood Estimation — Derivation (Step 2)",
    stated="argmax Π P_θ(d) = argmax Σ log P_θ(d) (log is monotonic)",
    ours=_log_monotone, reference=ref.bernoulli_mle(_coin_flips), needs=("scipy",),
    holds=lambda v: abs(v["argmax_log_likelihood"] - v["mle"]) <= 1e-3, rtol=0, atol=1e-3,
    status="verified",
    explanation="For 2,000 seeded coin flips the log-likelihood peaks at k/n like the likelihood; "
    "the product itself underflows to 0.0 in float64, which is why the log is taken.",
)

add_claim(
    id="001-mle-is-cross-entropy", file=F, locator="Maximum Likelihood Estimation — Derivation (Step 5)",
    stated="−(1/N) Σ log P_θ(xᵢ | x<ᵢ) is the cross-entropy; MLE = cross-entropy minimisation",
    ours=ids.mle_equals_cross_entropy, reference=ref.mle_cross_entropy(0, 2000, 5),
    needs=("torch", "scipy"),
    holds=lambda v: abs(v["mean_nll"] - v["cross_entropy"]) < 1e-12
    and v["mle_cross_entropy"] < v["least_other_cross_entropy"],
    rtol=1e-5, atol=1e-5, status="verified",
    explanation="The mean negative log-likelihood of 2,000 tokens equals H(empirical, model); "
    "the MLE (counts / N) attains the least cross-entropy (scipy.optimize finds the same).",
)


def _markov_tokens():
    return [int(t) for t in np.random.default_rng(43).integers(0, 4, size=3000)]


def _markov_context():
    from llmmath.ngram import NGramLM

    tokens = _markov_tokens()
    lm = NGramLM(3, smoothing="mle").fit(tokens)
    same_tail = [lm.prob([a, 2, 1], 3) for a in range(4)]   # contexts differ only before the last 2
    other_tail = lm.prob([0, 3, 1], 3)
    return {"same_last_two": np.array(same_tail), "spread": float(np.ptp(same_tail)),
            "different_last_two": float(other_tail)}


add_claim(
    id="001-markov-ngram-context", file=F, locator="Conditional Independence and the Markov Property",
    stated="n-gram models condition on the last k = n − 1 tokens",
    ours=_markov_context, reference=ref.trigram_counts(_markov_tokens),
    holds=lambda v: v["spread"] == 0.0 and v["different_last_two"] != v["same_last_two"][0],
    status="verified",
    explanation="A trigram model gives the same next-token probability for every context that "
    "shares the last two tokens.",
)


def _attention_cost():
    from llmmath import attention

    d = 16
    ts = np.array([16, 32, 64, 128, 256])
    mults = []
    for t in ts:
        q = np.ones((t, d))
        _, w = attention.scaled_dot_product_attention(q, q, q)
        mults.append(2 * w.size * d)      # QKᵀ: one length-d dot per weight; AV: the same again
    slope = float(np.polyfit(np.log(ts), np.log(mults), 1)[0])
    return {"T": ts, "multiplications": np.array(mults, dtype=float), "slope": slope}


add_claim(
    id="001-attention-quadratic-cost", file=F, locator="Conditional Independence and the Markov Property",
    stated="full-context attention costs O(T²)",
    ours=_attention_cost, reference=ref.quadratic_cost(16, (16, 32, 64, 128, 256)),
    value_key="slope", stated_value=2.0, stated_tol=1e-9, status="verified",
    explanation="Every query scores every key: T² weights, each a length-d dot product, and the "
    "same again to mix the values: 2·T²·d multiplications, slope 2 on log–log axes.",
)


def _ridge_problem():
    rng = np.random.default_rng(44)
    x = rng.normal(size=(40, 5))
    y = x @ rng.normal(size=5) + rng.normal(scale=0.5, size=40)
    return x, y, 0.5, 0.7        # data, noise sd, prior sd


def _ridge_is_map():
    x, y, s_noise, s_prior = _ridge_problem()
    lam = s_noise**2 / s_prior**2                    # the L2 strength the prior implies
    w = np.linalg.solve(x.T @ x + lam * np.eye(x.shape[1]), x.T @ y)   # ridge / L2 solution
    # gradient of the negative log posterior (Gaussian likelihood and prior) at w
    grad = -x.T @ (y - x @ w) / s_noise**2 + w / s_prior**2
    return {"ridge": w, "log_posterior_gradient_norm": float(np.linalg.norm(grad))}


add_claim(
    id="001-weight-decay-gaussian-prior", file=F, locator="Bayes' Theorem in LLMs",
    stated="L2 regularisation = a Gaussian prior on the weights",
    ours=_ridge_is_map, reference=ref.gaussian_map(_ridge_problem), needs=("scipy",),
    holds=lambda v: v["log_posterior_gradient_norm"] < 1e-9, rtol=1e-5, atol=1e-6,
    status="verified",
    explanation="−log N(w; 0, σ_p²I) = ‖w‖²/(2σ_p²) + const, so the MAP weights of a Gaussian "
    "linear model are the L2 (ridge) solution with λ = σ²/σ_p²; scipy.optimize on the log "
    "posterior (scipy.stats.norm.logpdf) finds the same weights. This is L2 in the loss, not "
    "AdamW's decoupled weight decay.",
)

for _id, _stated, _why in [
    ("001-mc-dropout-bayesian", "Monte Carlo dropout approximates Bayesian inference",
     "An interpretation (Gal & Ghahramani 2016) that holds under that paper's variational "
     "assumptions; there is no number to compute."),
    ("001-rlhf-bayesian-ranking", "the RLHF reward model uses Bayesian ranking",
     "A description, not a computation; the usual reward model (Bradley–Terry, as in "
     "Ouyang et al. 2022) is fitted by maximum likelihood on pairwise preferences."),
    ("001-in-context-learning-bayesian", "in-context learning is implicit Bayesian inference",
     "A research hypothesis (Xie et al. 2021), not something a computation here can settle."),
]:
    add_claim(id=_id, file=F, locator="Bayes' Theorem in LLMs", stated=_stated,
              status="unverifiable", explanation=_why)
