"""Claims of page 001, first half: the four pillars in overview and the
linear-algebra worked examples (attention by hand, eigenvalues of attention,
LoRA). The derivations of the second half are in
:mod:`llmmath.ledger.claims_pillars_derivations`."""

from __future__ import annotations

import numpy as np

from llmmath.ledger import references as ref
from llmmath.ledger.core import add_claim

__all__: list[str] = []

F = "001"

# The worked example: 3 tokens ("The", "cat", "sat"), d_k = 2.
Q = np.array([[10, 5], [3, 8], [1, 9]]) / 10      # queries, one row per token
K = np.array([[9, 2], [4, 7], [2, 8]]) / 10       # keys


# --- Linear Algebra: The Language of Deep Learning ------------------------- #

def _matvec():
    from llmmath import linalg

    w, x = _matvec_inputs()
    y = linalg.matmul(w, x)
    rows = np.array([linalg.dot(w[i], x) for i in range(w.shape[0])])
    return {"y": y, "row_dots": rows}


def _matvec_inputs():
    rng = np.random.default_rng(21)
    return rng.normal(size=(4, 6)), rng.normal(size=6)


add_claim(
    id="001-matmul-row-dot", file=F, locator="Matrix Multiplication Visualization",
    stated="yᵢ = Σⱼ wᵢⱼ xⱼ (row i of W dotted with x)",
    ours=_matvec, reference=ref.torch_matmul(_matvec_inputs), needs=("torch",),
    holds=lambda v: np.allclose(v["y"], v["row_dots"], atol=1e-13), status="verified",
    explanation="Each output of W x is the dot product of one row of W with x.",
)


def _attention_inputs():
    rng = np.random.default_rng(22)
    return rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 4))


def _attention_shapes():
    from llmmath import attention

    q, k, v = _attention_inputs()
    out, weights = attention.scaled_dot_product_attention(q, k, v)
    return {"out": out, "weights": weights, "scores_shape": list(weights.shape), "out_shape": list(out.shape)}


add_claim(
    id="001-attention-shapes", file=F, locator="Attention as Matrix Operations",
    stated="Q, K, V: (seq_len × d_model); QKᵀ: (seq_len × seq_len); softmax(·)V: (seq_len × d_model)",
    ours=_attention_shapes, reference=ref.attention_weights(_attention_inputs), needs=("torch",),
    holds=lambda v: v["scores_shape"] == [5, 5] and v["out_shape"] == [5, 4], status="verified",
    explanation="For 5 tokens of width 4 the score matrix is 5 × 5 and the output 5 × 4; values "
    "match torch.nn.functional.scaled_dot_product_attention.",
)


# --- Sampling from models -------------------------------------------------- #

def _sampling_filters():
    from llmmath import prob

    z = _sampling_logits()
    p = prob.softmax(z)
    top_k = prob.filter_top_k(z, 3)
    top_p = prob.filter_top_p(z, 0.8)
    kept_p = np.isfinite(top_p)
    return {"top_k_kept": np.isfinite(top_k), "top_p_kept": kept_p,
            "top_p_mass": float(p[kept_p].sum()),
            "greedy": int(prob.sample(z, temperature=0.0)), "argmax": int(np.argmax(z))}


def _sampling_logits():
    return np.random.default_rng(26).normal(scale=1.5, size=12)


add_claim(
    id="001-sampling-strategies", file=F, locator="Sampling from Models",
    stated="greedy, temperature, top-k and top-p reshape the next-token distribution",
    ours=_sampling_filters, reference=ref.sampling_filters(_sampling_logits, 3, 0.8), needs=("scipy",),
    holds=lambda v: v["top_k_kept"].sum() == 3 and v["top_p_mass"] >= 0.8 and v["greedy"] == v["argmax"],
    status="verified",
    explanation="Top-k keeps the k largest logits; top-p the smallest most-probable set with mass "
    "≥ p; greedy takes the argmax. Checked against a sort-based implementation.",
)

add_claim(
    id="001-kl-rlhf-forgetting", file=F, locator="KL Divergence",
    stated="in RLHF the KL term keeps the model near the base model, preventing catastrophic forgetting",
    status="unverifiable",
    explanation="The KL penalty to the reference policy is standard (Stiennon et al. 2020; Ouyang "
    "et al. 2022), where it is motivated by reward over-optimisation; how much it prevents "
    "forgetting is an empirical question about trained models.",
)


# --- Information theory overview ------------------------------------------- #

def _ce_minimised_at_p():
    from llmmath import info
    from llmmath.ledger.identities import random_distributions

    p = random_distributions(31, 1, 5)[0]
    others = random_distributions(32, 500, 5)
    return {"p": p, "at_p": float(info.cross_entropy(p, p)),
            "least_other": float(info.cross_entropy(p, others).min())}


add_claim(
    id="001-cross-entropy-minimised-at-truth", file=F, locator="Cross-Entropy",
    stated="minimising cross-entropy makes the model's q match the true p",
    ours=_ce_minimised_at_p, reference=ref.cross_entropy_argmin(31), needs=("scipy",),
    holds=lambda v: v["at_p"] < v["least_other"], rtol=1e-5, atol=1e-6, status="verified",
    explanation="Gibbs' inequality: H(p, q) ≥ H(p, p) = H(p) with equality only at q = p "
    "(scipy.optimize over softmax parameters lands on p).",
)


def _nll_data():
    return np.random.default_rng(33).exponential(2.0, size=200)     # nats per token


def _perplexity_base():
    from llmmath import info

    nll = _nll_data()
    return {"perplexity": float(info.perplexity(nll)),
            "two_to_bits": float(2.0 ** (nll.mean() / np.log(2.0)))}


add_claim(
    id="001-perplexity-base-two", file=F, locator="Perplexity: Information-Theoretic Interpretation",
    stated="PPL = 2^{H(p, q)} with H in bits",
    ours=_perplexity_base, reference=ref.perplexity_from_nll(_nll_data), needs=("mpmath",),
    holds=lambda v: abs(v["perplexity"] - v["two_to_bits"]) < 1e-9 * v["perplexity"], rtol=1e-10,
    status="verified",
    explanation="2 raised to the cross-entropy in bits equals e raised to it in nats.",
)


# --- Linear Algebra: Worked Examples --------------------------------------- #

def _keys_transposed():
    return np.asarray(K).T


add_claim(
    id="001-attention-keys-transposed", file=F, locator="Matrix Multiplication in Attention (Step 1)",
    stated="Kᵀ is 2 × 3, its rows the columns of K",
    ours=_keys_transposed, reference=ref.worked_attention(Q, K, "keys_t"), needs=("torch",),
    stated_value=np.array([[9, 4, 2], [2, 7, 8]]) / 10, stated_tol=0.0, status="verified",
    explanation="Rows of K become columns.",
)


def _scores_row0():
    from llmmath import linalg

    return linalg.matmul(Q, K.T)[0]


def _scaled_row0():
    from llmmath import linalg

    return linalg.matmul(Q, K.T)[0] / np.sqrt(2.0)


def _exp_row0():
    return np.exp(_scaled_row0())


def _weights():
    from llmmath import attention

    _, w = attention.scaled_dot_product_attention(Q, K, K)
    return w


add_claim(
    id="001-attention-scores-row0", file=F, locator="Matrix Multiplication in Attention (Step 2)",
    stated="QKᵀ[0] = [1.0, 0.75, 0.6]",
    ours=_scores_row0, reference=ref.worked_attention(Q, K, "scores"), needs=("torch",),
    stated_value=[1.0, 0.75, 0.6], stated_tol=1e-12, status="verified",
    explanation="Row 0 of Q is (1, ½); against the three keys: 0.9 + 0.1, 0.4 + 0.35 and "
    "0.2 + 0.4.",
)


def _attention_scale():
    from llmmath import attention

    # two keys whose scores differ by exactly 1: log(w0 / w1) is the scale the softmax saw
    _, w = attention.scaled_dot_product_attention([[1.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]], np.eye(2))
    return {"scale": float(np.log(w[0, 0] / w[0, 1]))}


add_claim(
    id="001-attention-scale-factor", file=F, locator="Matrix Multiplication in Attention (Step 3)",
    stated="1/√d_k = 1/√2 ≈ 0.707",
    ours=_attention_scale, reference=ref.attention_scale_2, needs=("mpmath",),
    value_key="scale", stated_value=0.707, stated_tol=5e-4, rtol=1e-14, atol=1e-15,
    status="verified", correct="1/√2 = 0.70711",
    explanation="llmmath's attention divides the scores by √d_k = √2 for d_k = 2: two keys whose "
    "scores differ by 1 get weights in the ratio e^{0.70711} (mpmath: 1/√2 = 0.7071068).",
)

add_claim(
    id="001-attention-scaled-row0", file=F, locator="Matrix Multiplication in Attention (Step 3)",
    stated="scaled[0] = [0.707, 0.530, 0.424] (÷√2)",
    ours=_scaled_row0, reference=ref.worked_attention(Q, K, "scaled"), needs=("torch",),
    stated_value=[0.707, 0.530, 0.424], stated_tol=5e-4, status="verified",
    explanation="Each score times 1/√2 = 0.70711, to three decimals.",
)
add_claim(
    id="001-attention-exp-row0", file=F, locator="Matrix Multiplication in Attention (Step 4)",
    stated="exp(scaled[0]) = [2.028, 1.699, 1.528]",
    ours=_exp_row0, reference=ref.worked_attention(Q, K, "exp"), needs=("torch",),
    stated_value=[2.028, 1.699, 1.528], stated_tol=5e-4, status="verified",
    explanation="e^0.70711 = 2.0281, e^0.53033 = 1.6995, e^0.42426 = 1.5285.",
)
add_claim(
    id="001-attention-exp-sum", file=F, locator="Matrix Multiplication in Attention (Step 4)",
    stated="sum = 5.255",
    ours=lambda: float(_exp_row0().sum()), reference=ref.worked_attention(Q, K, "sum"), needs=("torch",),
    stated_value=5.255, stated_tol=5e-4, correct_value=5.2561, correct_tol=5e-5,
    status="erratum", correct="5.256",
    explanation="The exact sum is 5.2561; 5.255 is the sum of the three rounded terms, off in "
    "the third decimal.",
)
add_claim(
    id="001-attention-worked-example", file=F, locator="Matrix Multiplication in Attention (Step 4)",
    stated="attention[0] = [0.386, 0.324, 0.291] (38.6%, 32.4%, 29.1%)",
    ours=lambda: _weights()[0], reference=ref.worked_attention(Q, K, "weights_row0"), needs=("torch",),
    stated_value=[0.386, 0.324, 0.291], stated_tol=5e-4,
    correct_value=[0.3859, 0.3233, 0.2908], correct_tol=5e-5,
    status="erratum", correct="[0.386, 0.323, 0.291] (38.6%, 32.3%, 29.1%)",
    explanation="1.6995 / 5.2561 = 0.3233, so \"cat\" gets 32.3%, not 32.4% (the stated row sums "
    "to 1.001). The full matrix has rows [0.386 0.323 0.291], [0.294 0.351 0.356], "
    "[0.269 0.357 0.375].",
)


# --- Eigenvalues and Attention --------------------------------------------- #

def _row_sums():
    from llmmath import attention

    q, k, v = _attention_inputs()
    _, causal = attention.scaled_dot_product_attention(q, k, v, causal=True)
    return {"worked": _weights().sum(axis=-1), "causal": causal.sum(axis=-1)}


add_claim(
    id="001-attention-row-stochastic", file=F, locator="Eigenvalues and Attention",
    stated="A = softmax(QKᵀ/√d_k) is row-stochastic (rows sum to 1)",
    ours=_row_sums, reference=ref.attention_row_sums(Q, K, _attention_inputs), needs=("torch",),
    holds=lambda v: np.allclose(v["worked"], 1, atol=1e-14) and np.allclose(v["causal"], 1, atol=1e-14),
    status="verified",
    explanation="Each row is a softmax, so its entries are positive (or 0 where masked) and sum to 1.",
)


def _stationary():
    from llmmath import attention

    a = _weights()
    pi = attention.stationary_distribution(a)
    return {"largest_modulus": float(np.abs(np.linalg.eigvals(a)).max()), "pi": pi,
            "residual": float(np.abs(pi @ a - pi).max())}


add_claim(
    id="001-attention-largest-eigenvalue", file=F, locator="Eigenvalues and Attention",
    stated="λ₁ = 1, belonging to the stationary distribution",
    ours=_stationary, reference=ref.eig_summary(Q, K), needs=("scipy",),
    holds=lambda v: abs(v["largest_modulus"] - 1) < 1e-12 and v["residual"] < 1e-12,
    status="verified", correct="λ₁ = 1; π = [0.314, 0.344, 0.342] for the worked example",
    explanation="A·1 = 1 for any row-stochastic A, and no eigenvalue exceeds 1 in modulus; the "
    "stationary distribution is the left eigenvector π A = π (the long-run share of attention "
    "under repeated application, not the column sums of one layer).",
)


def _special_qkv():
    return np.random.default_rng(23).normal(size=(3, 6, 4))


def _special_masks():
    t = 6
    return {
        "self_only": np.eye(t, dtype=bool),                                      # the identity
        "two_documents": np.kron(np.eye(2, dtype=bool), np.ones((3, 3), dtype=bool)),
        "cyclic_shift": np.roll(np.eye(t, dtype=bool), 1, axis=1),               # next token, cyclic
        "causal": "causal",
        "unmasked": None,
    }


def _special_attention():
    from llmmath import attention

    q, k, v = _special_qkv()
    out = {}
    for name, mask in _special_masks().items():
        if isinstance(mask, str):
            _, a = attention.scaled_dot_product_attention(q, k, v, causal=True)
        else:
            _, a = attention.scaled_dot_product_attention(q, k, v, mask=mask)
        out[name] = float(np.sort(np.abs(np.linalg.eigvals(a)))[-2])   # |λ₂|
    return out


add_claim(
    id="001-attention-other-eigenvalues", file=F, locator="Eigenvalues and Attention",
    stated="the other eigenvalues have |λᵢ| < 1",
    ours=_special_attention, reference=ref.special_attention_eigs(_special_qkv, _special_masks), needs=("scipy", "torch"),
    holds=lambda v: v["unmasked"] < 1 - 1e-12 and v["causal"] < 1 - 1e-12,
    status="verified",
    correct="|λᵢ| < 1 (i ≥ 2) for the page's A = softmax(QKᵀ/√d_k) and for causal attention; "
    "other masks can give |λ₂| = 1",
    explanation="The page's A has every entry positive, so Perron–Frobenius gives |λᵢ| < 1 for "
    "i ≥ 2 (|λ₂| = 0.392 for 6 random tokens); causal attention is lower triangular with "
    "eigenvalues A[t, t] < 1 for t ≥ 1 (|λ₂| = 0.396). It is not true of every masked attention "
    "matrix: self-only attention (the identity), two packed documents with a block mask "
    "(eigenvalue 1 twice) and a cyclic shift (roots of unity) all have |λ₂| = 1.",
)


def _focus_cases():
    """name -> (q, k, mask): self-only, uniform (zero queries) and all-on-the-first-token attention."""
    t = 5
    q, k = np.random.default_rng(24).normal(size=(2, t, 4))
    first_only = np.zeros((t, t), dtype=bool)
    first_only[:, 0] = True
    sharp = 5.0 * np.eye(t)            # unmasked: each token's score with itself 25/√5 above the rest
    return {"self_only": (q, k, np.eye(t, dtype=bool)), "uniform": (np.zeros((t, 4)), k, None),
            "all_on_first": (q, k, first_only), "sharp_self_unmasked": (sharp, sharp, None)}


def _gap_vs_focus():
    from llmmath import attention, info

    out = {}
    for name, (q, k, mask) in _focus_cases().items():
        _, a = attention.scaled_dot_product_attention(q, k, k, mask=mask)
        out[name] = {"gap": float(attention.spectral_gap(a)),
                     "mean_row_entropy": float(np.mean(info.entropy(a)))}
    return out


add_claim(
    id="001-spectral-gap-focus", file=F, locator="Eigenvalues and Attention",
    stated="a larger spectral gap 1 − |λ₂| means more focused attention",
    ours=_gap_vs_focus, reference=ref.gap_vs_focus(_focus_cases), needs=("scipy", "torch"),
    holds=lambda v: v["self_only"]["gap"] > v["uniform"]["gap"]
    and v["sharp_self_unmasked"]["gap"] > v["uniform"]["gap"],
    status="erratum",
    correct="the gap measures mixing speed, not focus: self-only attention has gap 0, uniform gap 1",
    explanation="Each token attending only to itself (row entropy 0) gives the identity, gap 0; "
    "uniform attention (row entropy log 5) gives gap 1; all tokens on the first token (entropy 0) "
    "also gap 1. No mask is needed: the page's plain softmax with q = k = 5·I (5 tokens) puts "
    "0.99994 of each row on the token itself (entropy 0.0007) and has gap 7.0e-5. The gap sets "
    "how fast repeated attention averages tokens together (‖Aᵏ − 1π‖ ~ |λ₂|ᵏ).",
)


# --- Low-Rank Approximation & LoRA ----------------------------------------- #

def _lora_counts():
    from llmmath import linalg

    lora = linalg.lora_param_count(4096, 4096, 8)
    return {"lora": int(lora), "full": 4096 * 4096, "ratio": 4096 * 4096 / int(lora)}


add_claim(
    id="001-lora-parameter-count", file=F, locator="Low-Rank Approximation & LoRA",
    stated="2dr parameters, 65,536 for d = 4096 and r = 8, against d² = 16,777,216",
    ours=_lora_counts, reference=ref.lora_counts(4096, 8), needs=("torch",),
    holds=lambda v: v["lora"] == 65_536 and v["full"] == 16_777_216, status="verified",
    explanation="2·4096·8 = 65,536 and 4096² = 16,777,216 (torch: the sizes of the A, B factors).",
)
add_claim(
    id="001-lora-reduction", file=F, locator="Low-Rank Approximation & LoRA",
    stated="a 256× reduction",
    ours=_lora_counts, reference=ref.lora_counts(4096, 8), needs=("torch",),
    value_key="ratio", stated_value=256.0, stated_tol=1e-12, status="verified",
    explanation="d² / 2dr = d / 2r = 4096 / 16 = 256.",
)


def _low_rank_update():
    from llmmath import linalg

    delta = _rank8_update()
    _, err8 = linalg.low_rank_approx(delta, 8)
    _, err7 = linalg.low_rank_approx(delta, 7)
    return {"error_rank_8": float(err8), "error_rank_7": float(err7)}


def _rank8_update():
    rng = np.random.default_rng(25)
    return rng.normal(size=(64, 8)) @ rng.normal(size=(8, 64))


add_claim(
    id="001-lora-factorisation", file=F, locator="Low-Rank Approximation & LoRA",
    stated="a rank-r ΔW ∈ ℝ^{d×d} factorises as B A with B: d×r, A: r×d",
    ours=_low_rank_update, reference=ref.svd_low_rank_error(_rank8_update, (8, 7)), needs=("scipy",),
    holds=lambda v: v["error_rank_8"] < 1e-12 and v["error_rank_7"] > 1e-3,
    rtol=1e-6, atol=1e-12, status="verified",
    explanation="A rank-8 64 × 64 matrix is reproduced exactly by its rank-8 SVD truncation "
    "(B = U_r Σ_r, A = V_rᵀ) and not by rank 7.",
)

add_claim(
    id="001-lora-updates-are-low-rank", file=F, locator="Low-Rank Approximation & LoRA",
    stated="fine-tuning weight updates are typically low-rank",
    status="unverifiable",
    explanation="An empirical finding about large pretrained models (Hu et al. 2021; Aghajanyan "
    "et al. 2020); checking it needs full fine-tuning runs of such models.",
)
