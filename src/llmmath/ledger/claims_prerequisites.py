"""Claims of page 002, the prerequisites (NumPy and PyTorch snippets,
probability basics, the two-week plan)."""

from __future__ import annotations

import numpy as np

from llmmath.ledger import references as ref
from llmmath.ledger.core import add_claim

__all__: list[str] = []

F = "002"
V1 = [1.0, 2.0, 3.0]
V2 = [4.0, 5.0, 6.0]
LOGITS = [3.0, 1.0, 0.2]
P_REF_LOGITS = [2.0, 1.5, 0.5]
P_NEW_LOGITS = [1.8, 1.6, 0.8]


# --- Linear algebra snippet ------------------------------------------------ #

def _vector_ops():
    from llmmath import linalg

    return {"dot": float(linalg.dot(V1, V2)), "norm": float(linalg.norm(V1)),
            "cosine": float(linalg.cosine_similarity(V1, V2))}


_VEC_REF = ref.vector_ops(V1, V2)
add_claim(
    id="002-dot-product", file=F, locator="Linear algebra snippet",
    stated="np.dot([1,2,3], [4,5,6]) = 32.0", ours=_vector_ops, reference=_VEC_REF, needs=("torch",),
    value_key="dot", stated_value=32.0, stated_tol=1e-12, status="verified",
    explanation="4 + 10 + 18 = 32.",
)
add_claim(
    id="002-l2-norm", file=F, locator="Linear algebra snippet",
    stated="‖[1,2,3]‖ = 3.7417", ours=_vector_ops, reference=_VEC_REF, needs=("torch",),
    value_key="norm", stated_value=3.7417, stated_tol=5e-5, status="verified",
    explanation="√14 = 3.741657…",
)
add_claim(
    id="002-cosine-similarity", file=F, locator="Linear algebra snippet",
    stated="cos([1,2,3], [4,5,6]) = 0.9746", ours=_vector_ops, reference=_VEC_REF, needs=("torch",),
    value_key="cosine", stated_value=0.9746, stated_tol=5e-5, status="verified",
    explanation="32 / (√14 · √77) = 0.974632…",
)


def _random_shapes():
    from llmmath import linalg

    rng = np.random.default_rng(61)
    a, b = rng.normal(size=(4, 8)), rng.normal(size=(8, 16))
    batch, scale = rng.normal(size=(32, 512)), rng.normal(size=512)
    w, x = rng.normal(size=(512, 512)), rng.normal(size=512)
    return {"matmul": list(linalg.matmul(a, b).shape), "broadcast": list((batch * scale).shape),
            "matvec": list(linalg.matmul(w, x).shape)}


_SHAPES_REF = ref.snippet_shapes
add_claim(
    id="002-matmul-shape", file=F, locator="Linear algebra snippet",
    stated="(4, 8) @ (8, 16) → (4, 16)", ours=_random_shapes, reference=_SHAPES_REF, needs=("torch",),
    holds=lambda v: v["matmul"] == [4, 16], status="verified",
    explanation="Inner sizes must match and the outer ones remain. The snippet's random entries are "
    "unseeded, so its values cannot be checked; the shape can.",
)
add_claim(
    id="002-broadcast-shape", file=F, locator="Linear algebra snippet",
    stated="(32, 512) * (512,) → (32, 512)", ours=_random_shapes, reference=_SHAPES_REF, needs=("torch",),
    holds=lambda v: v["broadcast"] == [32, 512], status="verified",
    explanation="The (512,) scale is stretched over the 32 rows (unseeded values unchecked).",
)
add_claim(
    id="002-matvec-shape", file=F, locator="Practical minimum snippet",
    stated="(512, 512) @ (512,) → (512,)", ours=_random_shapes, reference=_SHAPES_REF, needs=("torch",),
    holds=lambda v: v["matvec"] == [512], status="verified",
    explanation="A matrix times a vector is a vector of the row count (unseeded values unchecked).",
)


SINGULAR = [[1.0, 2, 0, 0], [2, 4, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]   # rank 3


def _mmt():
    m = _mmt_input()
    s = m @ m.T
    eig = np.linalg.eigh(s)[0]
    singular = np.asarray(SINGULAR)
    return {"symmetric_error": float(np.abs(s - s.T).max()), "eigenvalues": eig,
            "singular_case_min_eigenvalue": float(np.linalg.eigh(singular @ singular.T)[0].min())}


def _mmt_input():
    return np.random.default_rng(62).normal(size=(4, 4))


add_claim(
    id="002-mmt-positive-definite", file=F, locator="Linear algebra snippet",
    stated="M @ M.T makes M symmetric positive definite",
    ours=_mmt, reference=ref.mmt_eigenvalues(_mmt_input, SINGULAR), needs=("scipy",),
    holds=lambda v: v["symmetric_error"] == 0 and v["eigenvalues"].min() > 0,
    rtol=1e-9, atol=1e-10, status="verified",
    explanation="M Mᵀ is always symmetric positive semi-definite, and definite exactly when M is "
    "invertible, which a Gaussian M is with probability 1 (a singular M gives eigenvalue 0). "
    "The printed eigenvalues are unseeded and cannot be checked.",
)


# --- Probability snippet --------------------------------------------------- #

def _softmax_example():
    from llmmath import prob

    return prob.softmax(LOGITS)


add_claim(
    id="002-softmax-example", file=F, locator="Probability snippet (1)",
    stated="softmax([3.0, 1.0, 0.2]).round(3) = [0.844, 0.114, 0.042]",
    ours=_softmax_example, reference=ref.softmax_of(LOGITS), needs=("scipy",),
    stated_value=[0.844, 0.114, 0.042], stated_tol=5e-4,
    correct_value=[0.8360, 0.1131, 0.0508], correct_tol=5e-5,
    status="erratum", correct="[0.836, 0.113, 0.051]",
    explanation="e³ : e¹ : e^0.2 = 20.086 : 2.718 : 1.221, out of 24.025.",
)


def _temperature():
    from llmmath import info, prob

    temps = np.array([0.05, 0.3, 0.7, 1.0, 2.0, 5.0])
    h = np.array([float(info.entropy(prob.softmax(LOGITS, temperature=t))) for t in temps])
    return {"temperatures": temps, "entropy": h, "p_at_0.7": prob.softmax(LOGITS, temperature=0.7)}


add_claim(
    id="002-temperature-randomness", file=F, locator="Probability snippet (2)",
    stated="higher temperature = more random; lower = more greedy",
    ours=_temperature, reference=ref.temperature_entropies(LOGITS, (0.05, 0.3, 0.7, 1.0, 2.0, 5.0)),
    needs=("scipy",),
    holds=lambda v: bool(np.all(np.diff(v["entropy"]) > 0)) and v["entropy"][0] < 1e-6,
    rtol=1e-9, atol=1e-12, status="verified",
    explanation="The entropy of softmax(z/T) rises with T (dH/dT = Var(z)/T³ ≥ 0 under the "
    "softmax) and tends to 0, the argmax, as T → 0.",
)


def _temperature_samples():
    from llmmath import prob

    n = 20_000
    draws = prob.sample(LOGITS, temperature=0.7, rng=63, num_samples=n)
    return np.bincount(draws, minlength=3) / n


add_claim(
    id="002-temperature-sample", file=F, locator="Probability snippet (2)",
    stated="token = sample with temperature 0.7 (unseeded: one random token)",
    ours=_temperature_samples, reference=ref.softmax_of(np.asarray(LOGITS) / 0.7), needs=("scipy",),
    holds=lambda v: abs(float(np.sum(v)) - 1) < 1e-12, rtol=0, atol=0.015, status="verified",
    correct="P(token) = softmax(z/0.7) = [0.930, 0.053, 0.017]",
    explanation="One unseeded draw cannot be checked; 20,000 seeded draws land on each token "
    "with the tempered softmax probabilities.",
)


def _ce_example():
    from llmmath import info, prob

    p = prob.softmax(LOGITS)
    return {"cross_entropy": float(info.cross_entropy([1.0, 0.0, 0.0], p)),
            "neg_log_p_true": float(-np.log(p[0] + 1e-9))}      # the page's version


add_claim(
    id="002-cross-entropy-example", file=F, locator="Probability snippet (3)",
    stated="cross_entropy(logits, target_idx=0) = 0.1699",
    ours=_ce_example, reference=ref.cross_entropy_onehot(LOGITS, 0), needs=("torch",),
    value_key="cross_entropy", stated_value=0.1699, stated_tol=5e-5,
    correct_value=0.1791, correct_tol=5e-5, rtol=1e-8, atol=1e-8,
    status="erratum", correct="0.1791",
    explanation="−log 0.8360 = 0.1791; 0.1699 is −log 0.844, the page's wrong softmax value.",
)


def _kl_example():
    from llmmath import info, prob

    ref_p, new_p = prob.softmax(P_REF_LOGITS), prob.softmax(P_NEW_LOGITS)
    guarded = ref_p * np.log(ref_p / (new_p + 1e-9) + 1e-9)          # the page's 1e-9 guards
    return {"kl": float(info.kl_divergence(ref_p, new_p)),
            "kl_reversed": float(info.kl_divergence(new_p, ref_p)), "snippet": float(guarded.sum())}


_KL_REF = ref.kl_logit_pair(P_REF_LOGITS, P_NEW_LOGITS)
add_claim(
    id="002-kl-example", file=F, locator="Probability snippet (4)",
    stated="KL(p_ref ‖ p_new) is small (value not printed)",
    ours=_kl_example, reference=_KL_REF, needs=("scipy",),
    holds=lambda v: abs(v["snippet"] - v["kl"]) < 1e-7 and v["kl"] < 0.05,
    value_key="kl", correct_value=0.0178, correct_tol=5e-5,
    status="verified", correct="0.0178 nats",
    explanation="The 1e-9 guards shift the value by less than 1e-8.",
)
add_claim(
    id="002-kl-not-a-distance", file=F, locator="Probability snippet (4)",
    stated="KL divergence measures distribution distance",
    ours=_kl_example, reference=_KL_REF, needs=("scipy",),
    holds=lambda v: abs(v["kl"] - v["kl_reversed"]) < 1e-9,
    status="erratum", correct="not a distance: KL(p_ref ‖ p_new) = 0.0178 ≠ KL(p_new ‖ p_ref) = 0.0182",
    explanation="KL is asymmetric (and breaks the triangle inequality, see 000-kl-not-a-distance); "
    "the comment's own reading, how much Q departs from the reference P, is the right one.",
)


# --- Practical minimum snippet --------------------------------------------- #

def _vocab_logits():
    return np.random.default_rng(64).normal(size=50_000)


def _vocab_softmax():
    from llmmath import prob

    z = _vocab_logits()
    p = prob.softmax(z)
    greedy = prob.sample(z, temperature=0.0, rng=0)
    return {"sum": float(p.sum()), "greedy": int(np.asarray(greedy)), "argmax": int(np.argmax(p))}


add_claim(
    id="002-vocab-softmax-sums-to-one", file=F, locator="Practical minimum snippet",
    stated="softmax over 50,000 logits sums to 1.0",
    ours=_vocab_softmax, reference=ref.vocab_softmax(_vocab_logits), needs=("torch",),
    value_key="sum", stated_value=1.0, stated_tol=1e-12, status="verified",
    explanation="Checked with seeded logits (the snippet's are unseeded).",
)
add_claim(
    id="002-greedy-is-argmax", file=F, locator="Practical minimum snippet",
    stated="argmax of the probabilities = greedy decoding",
    ours=_vocab_softmax, reference=ref.vocab_softmax(_vocab_logits), needs=("torch",),
    holds=lambda v: v["greedy"] == v["argmax"], status="verified",
    explanation="Temperature-0 sampling returns the most probable token.",
)


def _cosine_range():
    from llmmath import linalg

    a, b = _cosine_inputs()
    c = linalg.cosine_similarity(a, b)
    return {"cosines": c, "self": float(linalg.cosine_similarity(a[0], a[0])),
            "opposite": float(linalg.cosine_similarity(a[0], -a[0]))}


def _cosine_inputs():
    rng = np.random.default_rng(65)
    return rng.normal(size=(200, 1536)), rng.normal(size=(200, 1536))


add_claim(
    id="002-cosine-range", file=F, locator="Practical minimum snippet",
    stated="cosine similarity ranges from −1 to 1",
    ours=_cosine_range, reference=ref.cosine_range(_cosine_inputs), needs=("torch",),
    holds=lambda v: bool(np.all(np.abs(v["cosines"]) <= 1)) and abs(v["self"] - 1) < 1e-12
    and abs(v["opposite"] + 1) < 1e-12,
    status="verified",
    explanation="Cauchy–Schwarz bounds it; ±1 for parallel and opposite vectors. Random 1,536-d "
    "Gaussian pairs sit near 0 (standard deviation about 1/√1536 ≈ 0.026).",
)
add_claim(
    id="002-embedding-width-1536", file=F, locator="Practical minimum snippet",
    stated="1536 is the text-embedding-3-small dimension",
    status="unverifiable",
    explanation="A product fact from OpenAI's documentation (1,536 is its default output size), "
    "not something to compute.",
)


def _ln_data():
    rng = np.random.default_rng(66)
    out = rng.normal(size=(512, 512)) @ rng.normal(size=512)
    return out, rng.normal(scale=1e-3, size=512)               # the second: variance near eps


def _snippet_layer_norm():
    from llmmath.autograd import Tensor, functional

    out, small = _ln_data()
    normed = (out - out.mean()) / (out.std() + 1e-5)          # the page's version
    ours = functional.layer_norm(Tensor(out), Tensor(np.ones(512)), Tensor(np.zeros(512)), eps=1e-5)
    small_page = (small - small.mean()) / (small.std() + 1e-5)
    return {"mean": float(normed.mean()), "var": float(normed.var()),
            "library": np.asarray(ours.data), "page": normed,
            "page_var_small_input": float(small_page.var())}


add_claim(
    id="002-layer-norm-snippet", file=F, locator="Practical minimum snippet",
    stated="(x − mean) / (std + eps): zero mean, unit variance",
    ours=_snippet_layer_norm, reference=ref.torch_layer_norm(_ln_data), needs=("torch",),
    holds=lambda v: abs(v["mean"]) < 1e-12 and abs(v["var"] - 1) < 1e-4,
    rtol=1e-6, atol=1e-6, status="verified",
    explanation="True to 1e-6 here (σ ≈ 22), but eps belongs inside the square root, "
    "(x − μ)/√(σ² + ε), as in PyTorch; for inputs with σ² near ε the two differ, and "
    "neither gives unit variance. The learnable γ, β are left out.",
)


# --- PyTorch snippet ------------------------------------------------------- #

def _matrix_mult():
    from llmmath import linalg

    return linalg.matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]])


add_claim(
    id="002-matrix-product-2x2", file=F, locator="PyTorch snippet (1)",
    stated="[[1,2],[3,4]] @ [[5,6],[7,8]] (printed, no value given)",
    ours=_matrix_mult, reference=ref.matmul_2x2, needs=("torch",),
    holds=lambda v: np.array_equal(v, [[19, 22], [43, 50]]), status="verified",
    correct="[[19, 22], [43, 50]]",
    explanation="Row-by-column: 1·5 + 2·7 = 19, 1·6 + 2·8 = 22, 3·5 + 4·7 = 43, 3·6 + 4·8 = 50.",
)


def _dydx():
    from llmmath.autograd import Value

    x = Value(2.0)
    y = x**2 + 3 * x + 1
    y.backward()
    return float(x.grad)


add_claim(
    id="002-dydx-at-2", file=F, locator="PyTorch snippet (2)",
    stated="dy/dx of x**2 + 3x + 1 at x = 2 is 7",
    ours=_dydx, reference=ref.torch_dydx, needs=("torch",),
    stated_value=7.0, stated_tol=1e-12, status="verified",
    explanation="dy/dx = 2x + 3 = 7 at x = 2.",
)


def _torch_entropy():
    from llmmath import info, prob

    return float(info.entropy(prob.softmax([1.0, 2.0, 0.5])))


add_claim(
    id="002-softmax-entropy", file=F, locator="PyTorch snippet (3)",
    stated="entropy of softmax([1.0, 2.0, 0.5]) (printed, no value given)",
    ours=_torch_entropy, reference=ref.torch_entropy([1.0, 2.0, 0.5]), needs=("torch",),
    holds=lambda v: 0 < v < np.log(3), correct_value=0.9060, correct_tol=5e-5,
    status="verified", correct="0.9060 nats",
    explanation="Between 0 and log 3 = 1.0986, as for any non-degenerate 3-way distribution.",
)


def _relu_layer():
    from llmmath.autograd import Tensor

    x, w, b = _relu_layer_inputs()
    y = (Tensor(x) @ Tensor(w) + Tensor(b)).relu()
    return {"shape": list(y.data.shape), "values": np.asarray(y.data)}


def _relu_layer_inputs():
    rng = np.random.default_rng(67)
    return rng.normal(size=(4, 10)), rng.normal(size=(10, 5)), rng.normal(size=5)


add_claim(
    id="002-relu-layer-shape", file=F, locator="PyTorch snippet (4)",
    stated="relu(x @ W + b) with x: (4, 10), W: (10, 5) has shape [4, 5]",
    ours=_relu_layer, reference=ref.torch_relu_layer(_relu_layer_inputs), needs=("torch",),
    holds=lambda v: v["shape"] == [4, 5], status="verified",
    explanation="Checked with seeded inputs (the page's torch.randn calls are unseeded).",
)


def _accumulate():
    from llmmath.autograd import Tensor

    w = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    for _ in range(2):
        (w * w).sum().backward()                                   # no zero_grad in between
    return {"accumulated": np.array(w.grad), "single": 2 * np.array([1.0, -2.0, 0.5])}


add_claim(
    id="002-zero-grad-before-backward", file=F, locator="torch.optim paragraph",
    stated="call zero_grad() before backprop",
    ours=_accumulate, reference=ref.torch_backward_twice([1.0, -2.0, 0.5]), needs=("torch",),
    holds=lambda v: np.allclose(v["accumulated"], 2 * v["single"]), status="verified",
    explanation="backward() adds into .grad; two backward passes without zero_grad() give twice "
    "the gradient, in PyTorch and in llmmath.",
)


# --- Calculus and probability prose ---------------------------------------- #

def _ascent():
    from llmmath.ledger.identities import steepest_ascent

    return steepest_ascent(_bowl, np.array([0.3, -1.2, 0.8]), seed=68)


def _bowl(v):
    return float(v[0] ** 2 + 3 * v[1] ** 2 + np.sin(v[2]) + v[0] * v[2])


add_claim(
    id="002-gradient-steepest-ascent", file=F, locator="Calculus prerequisites",
    stated="the gradient points in the direction of steepest ascent",
    ours=_ascent, reference=ref.steepest_ascent_torch("bowl", (0.3, -1.2, 0.8)), needs=("torch",),
    holds=lambda v: v["best_random_direction"] <= v["gradient_norm"] + 1e-9
    and abs(v["along_gradient"] - v["gradient_norm"]) < 1e-6,
    rtol=1e-6, atol=1e-7, status="verified",
    explanation="D_u f = ∇f · u ≤ ‖∇f‖ for unit u (Cauchy–Schwarz), with equality along ∇f; "
    "2,000 random directions all rise more slowly.",
)


P_A, P_B = [0.2, 0.8], [0.5, 0.3, 0.2]
DEPENDENT = [[0.15, 0.03, 0.02], [0.05, 0.47, 0.28]]


def _independence():
    from llmmath import info

    return {"mi_product": float(info.mutual_information(np.outer(P_A, P_B))),
            "mi_dependent": float(info.mutual_information(np.asarray(DEPENDENT)))}


add_claim(
    id="002-independence", file=F, locator="Probability prerequisites",
    stated="independence: the joint is the product of the marginals",
    ours=_independence, reference=ref.independence_mi(P_A, P_B, DEPENDENT), needs=("scipy",),
    holds=lambda v: abs(v["mi_product"]) < 1e-12 and v["mi_dependent"] > 0, atol=1e-12,
    status="verified",
    explanation="A product joint has zero mutual information; a joint that is not a product has "
    "positive mutual information.",
)


def _bayes():
    from llmmath import prob

    prior, likelihood = _bayes_inputs()
    return prob.bayes_posterior(prior, likelihood)


def _bayes_inputs():
    return np.array([0.5, 0.3, 0.2]), np.array([0.1, 0.6, 0.9])   # P(H), P(E | H)


add_claim(
    id="002-bayes-rule", file=F, locator="Probability prerequisites",
    stated="Bayes' rule: posterior = likelihood × prior / evidence",
    ours=_bayes, reference=ref.bayes_exact(_bayes_inputs), rtol=1e-12, atol=1e-15,
    holds=lambda v: abs(float(np.sum(v)) - 1) < 1e-12, status="verified",
    explanation="Posterior over three hypotheses matches exact rational arithmetic: the joint "
    "P(E | H) P(H) divided by P(E) = Σ_H P(E | H) P(H).",
)


# --- The two-week plan ----------------------------------------------------- #

PLAN_DAYS = [(1, 2), (3, 4), (5, 5), (6, 7), (8, 9), (10, 11), (12, 12), (13, 14)]


def _plan():
    days = [d for lo, hi in PLAN_DAYS for d in range(lo, hi + 1)]
    return {"days": days, "count": len(days)}


add_claim(
    id="002-two-week-plan", file=F, locator="Study plan",
    stated="days 1–2, 3–4, 5, 6–7, 8–9, 10–11, 12, 13–14: two weeks",
    ours=_plan, reference=ref.study_days(14),
    holds=lambda v: v["days"] == list(range(1, 15)), status="verified",
    explanation="The eight blocks cover days 1 to 14 once each, without gaps or overlaps.",
)
