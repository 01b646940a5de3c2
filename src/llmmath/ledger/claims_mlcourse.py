"""Claims of page 003, the mathematics overview of the LLM course (pillars,
calculus in training, the concept-to-application table)."""

from __future__ import annotations

import numpy as np

from llmmath.ledger import identities as ids
from llmmath.ledger import references as ref
from llmmath.ledger.core import add_claim

__all__: list[str] = []

F = "003"

add_claim(
    id="003-three-pillars", file=F, locator="Overview of the mathematical pillars",
    stated="three pillars: linear algebra, calculus, probability/statistics",
    status="unverifiable",
    explanation="A way of grouping topics, not a fact. Page 001 counts four pillars (information "
    "theory on its own), page 000 lists linear algebra, calculus, probability and statistics; "
    "llmmath follows 001 and adds statistics for evaluation.",
)
add_claim(
    id="003-fundamentals-track-position", file=F, locator="Position in the course",
    stated="the first of four topics of the fundamentals track",
    status="unverifiable",
    explanation="About the outside course's structure, not mathematics; nothing to compute.",
)


def _logistic_ascent():
    from llmmath.ledger.identities import steepest_ascent

    return steepest_ascent(_logistic_loss, np.array([0.5, -0.4, 0.2, 0.1]), seed=71)


def _logistic_loss(w):
    x, y = _logistic_data()
    z = x @ w
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def _logistic_data():
    rng = np.random.default_rng(72)
    x = rng.normal(size=(60, 4))
    y = (x @ np.array([1.0, -1.0, 0.5, 0.0]) + rng.normal(size=60) > 0).astype(float)
    return x, y


add_claim(
    id="003-gradient-steepest-ascent", file=F, locator="Calculus in LLM training",
    stated="the gradient vector points in the direction of steepest ascent",
    ours=_logistic_ascent, reference=ref.steepest_ascent_torch("logistic", (0.5, -0.4, 0.2, 0.1), _logistic_data),
    needs=("torch",),
    holds=lambda v: v["best_random_direction"] <= v["gradient_norm"] + 1e-9
    and abs(v["along_gradient"] - v["gradient_norm"]) < 1e-6,
    rtol=1e-6, atol=1e-7, status="verified",
    explanation="On a logistic-regression loss no random unit direction rises faster than "
    "‖∇L‖, which the normalised gradient attains.",
)


def _clipping():
    from llmmath import optim
    from llmmath.autograd import Tensor

    grads = _clip_grads()
    params = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.copy()
    total = optim.clip_grad_norm(params, max_norm=1.0)
    clipped = [np.array(p.grad) for p in params]
    new_norm = float(np.sqrt(sum(np.sum(c**2) for c in clipped)))
    cos = float(sum(np.sum(c * g) for c, g in zip(clipped, grads, strict=True))
                / (new_norm * float(total)))
    return {"total_norm": float(total), "clipped": np.concatenate([c.ravel() for c in clipped]),
            "clipped_norm": new_norm, "direction_cosine": cos}


def _clip_grads():
    rng = np.random.default_rng(73)
    return [rng.normal(scale=3.0, size=(5, 4)), rng.normal(scale=3.0, size=7)]


add_claim(
    id="003-gradient-clipping", file=F, locator="Calculus in LLM training",
    stated="gradient clipping prevents gradient explosion (vector norms)",
    ours=_clipping, reference=ref.clip_grad(_clip_grads, 1.0), needs=("torch",),
    holds=lambda v: v["clipped_norm"] <= 1.0 + 1e-6 and abs(v["direction_cosine"] - 1) < 1e-12,
    rtol=1e-6, atol=1e-6, status="verified",
    explanation="Clipping by the global norm rescales all gradients so their joint norm is at most "
    "the threshold, keeping the direction, as torch.nn.utils.clip_grad_norm_ does.",
)


def _det_inputs():
    a = np.random.default_rng(74).normal(size=(4, 4))
    singular = a.copy()
    singular[3] = singular[0] + 2 * singular[1]          # a dependent row
    return a, singular


def _determinant():
    a, singular = _det_inputs()
    return {"det": float(np.linalg.det(a)), "rank": int(np.linalg.matrix_rank(a)),
            "det_singular": float(np.linalg.det(singular)),
            "rank_singular": int(np.linalg.matrix_rank(singular))}


add_claim(
    id="003-determinant-invertibility", file=F, locator="Linear algebra concepts",
    stated="determinants tell invertibility",
    ours=_determinant, reference=ref.det_rank(_det_inputs), needs=("scipy",),
    holds=lambda v: abs(v["det"]) > 1e-6 and v["rank"] == 4 and abs(v["det_singular"]) < 1e-12
    and v["rank_singular"] == 3,
    rtol=1e-8, atol=1e-12, status="verified",
    explanation="det A ≠ 0 exactly when A has full rank; a row that combines others makes det 0.",
)


def _pca():
    from llmmath import linalg

    x = _pca_data()
    r = linalg.pca(x, 2)
    return {"components_abs": np.abs(np.asarray(r.components)),
            "explained_variance_ratio": np.asarray(r.explained_variance_ratio)}


def _pca_data():
    rng = np.random.default_rng(75)
    return rng.normal(size=(300, 5)) @ np.diag([3.0, 2.0, 1.0, 0.5, 0.2]) @ np.linalg.qr(rng.normal(size=(5, 5)))[0]


add_claim(
    id="003-eigendecomposition-pca", file=F, locator="Concept-to-application table",
    stated="eigendecomposition gives principal component analysis",
    ours=_pca, reference=ref.pca_eig(_pca_data, 2), needs=("scipy",),
    holds=lambda v: v["explained_variance_ratio"][0] > v["explained_variance_ratio"][1] > 0,
    rtol=1e-6, atol=1e-8, status="verified",
    explanation="The principal axes are the top eigenvectors of the covariance matrix (up to "
    "sign) and the explained-variance ratios its eigenvalues over their sum (scipy.linalg.eigh).",
)

add_claim(
    id="003-maximum-likelihood-cross-entropy", file=F, locator="Concept-to-application table",
    stated="maximum likelihood is the training objective (cross-entropy)",
    ours=lambda: ids.mle_equals_cross_entropy(seed=76),
    reference=ref.mle_cross_entropy(76, 2000, 5),
    needs=("torch", "scipy"),
    holds=lambda v: abs(v["mean_nll"] - v["cross_entropy"]) < 1e-12, rtol=1e-6, atol=1e-6,
    status="verified",
    explanation="The mean negative log-likelihood of a token sample is its cross-entropy against "
    "the model (see 001-mle-is-cross-entropy).",
)


def _row_logits():
    return np.random.default_rng(77).normal(scale=4.0, size=(50, 9))


def _softmax_rows():
    from llmmath import prob

    p = prob.softmax(_row_logits())
    return {"min": float(p.min()), "row_sums": p.sum(axis=-1)}


add_claim(
    id="003-softmax-gives-distributions", file=F, locator="Concept-to-application table",
    stated="softmax gives attention weights and token probabilities",
    ours=_softmax_rows, reference=ref.softmax_rows(_row_logits), needs=("scipy",),
    holds=lambda v: v["min"] > 0 and np.allclose(v["row_sums"], 1, atol=1e-14), atol=1e-12,
    status="verified",
    explanation="Every row is positive and sums to 1, so it is a distribution over keys or tokens.",
)


def _gpt_formula(vocab: int, block: int, n_layer: int, d: int) -> int:
    """Parameters of a GPT-2-shaped model: embeddings, L blocks, final LayerNorm.

    Per block: two LayerNorms (4d), the qkv and output projections with biases
    (4d² + 4d), the 4x MLP with biases (8d² + 5d): 12d² + 13d. The output layer
    shares the token embedding.
    """
    return vocab * d + block * d + n_layer * (12 * d * d + 13 * d) + 2 * d


def _param_scale():
    from llmmath import nn

    tiny = nn.GPTConfig(vocab_size=65, block_size=32, n_layer=2, n_head=2, n_embd=32)
    counted = int(sum(np.asarray(p.data).size for p in nn.GPT(tiny).parameters()))
    return {"tiny_counted": counted, "tiny_formula": _gpt_formula(65, 32, 2, 32),
            "gpt2_small": _gpt_formula(50257, 1024, 12, 768),
            "gpt3_175b": _gpt_formula(50257, 2048, 96, 12288)}


add_claim(
    id="003-parameter-scale", file=F, locator="Calculus in LLM training",
    stated="LLMs contain millions to billions of parameters",
    ours=_param_scale, reference=ref.gpt_param_counts, needs=("torch",),
    holds=lambda v: v["tiny_counted"] == v["tiny_formula"] and 1e8 < v["gpt2_small"] < 1e9
    and 1e11 < v["gpt3_175b"] < 1e12,
    rtol=0, atol=0.5, status="verified",
    correct="GPT-2 small: 124,439,808; GPT-3: about 175 billion",
    explanation="Counting V·d + T·d + L(12d² + 13d) + 2d (tied output layer): GPT-2 small has "
    "124,439,808 parameters and GPT-3 174.6 billion, the same as GPT-2-shaped PyTorch models "
    "built on the meta device; llmmath's own GPT matches the count at a tiny size.",
)
