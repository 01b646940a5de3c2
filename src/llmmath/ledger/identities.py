"""Identities of the course, checked with llmmath on seeded random inputs.

Each function computes both sides of an identity (or a quantity and its
finite-difference estimate) with the library and returns them in a dict.
The claims decide whether the sides agree; :mod:`llmmath.ledger.references`
computes the same quantities independently. NumPy only.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import numpy as np

__all__ = [
    "random_distributions",
    "cross_entropy_decomposition",
    "mle_equals_cross_entropy",
    "softmax_jacobian_parts",
    "ce_softmax_gradient_parts",
    "layer_norm_gradients",
    "syllabus_layer_norm_dx",
    "chain_rule_of_probability",
    "steepest_ascent",
    "minibatch_gradient_variance",
    "bigram_per_example_gradients",
    "coverage_datasets",
    "normal_input",
    "layer_norm_inputs",
    "mle_inputs",
    "bigram_data",
    "joint_weights",
]


def normal_input(seed: int, k: int) -> np.ndarray:
    """A seeded standard-normal vector of length ``k`` (logits and the like)."""
    return np.random.default_rng(seed).normal(size=k)


def layer_norm_inputs(seed: int, d: int, scale: float):
    """x (with standard deviation ``scale``), gamma, beta and dy for the LayerNorm checks."""
    rng = np.random.default_rng(seed)
    x = rng.normal(scale=scale, size=d)
    gamma = rng.normal(loc=1.0, scale=0.5, size=d)
    beta = rng.normal(size=d)
    dy = rng.normal(size=d)
    return x, gamma, beta, dy


def mle_inputs(seed: int, n_tokens: int, k: int):
    """Tokens drawn from a random categorical distribution, and a random model q."""
    rng = np.random.default_rng(seed)
    tokens = rng.choice(k, size=n_tokens, p=random_distributions(seed, 1, k)[0])
    return tokens, random_distributions(seed + 1, 1, k)[0]


def random_distributions(seed: int, n: int, k: int) -> np.ndarray:
    """``n`` strictly positive probability vectors over ``k`` outcomes (Dirichlet(1))."""
    return np.random.default_rng(seed).dirichlet(np.ones(k), size=n)


def cross_entropy_decomposition(seed: int = 0, n: int = 64, k: int = 7) -> dict:
    """Both sides of H(p, q) = H(p) + KL(p || q) for ``n`` random pairs."""
    from llmmath import info

    p = random_distributions(seed, n, k)
    q = random_distributions(seed + 1, n, k)
    return {
        "cross_entropy": info.cross_entropy(p, q),
        "entropy_plus_kl": info.entropy(p) + info.kl_divergence(p, q),
    }


def mle_equals_cross_entropy(seed: int = 0, n_tokens: int = 2000, k: int = 5) -> dict:
    """The mean negative log-likelihood of tokens under a model q equals the
    cross-entropy H(empirical, q); the categorical MLE is the empirical
    distribution, and it attains the least cross-entropy."""
    from llmmath import info, prob

    tokens, q = mle_inputs(seed, n_tokens, k)
    counts = np.bincount(tokens, minlength=k)
    empirical = counts / n_tokens
    mle = prob.categorical_mle(counts)
    others = random_distributions(seed + 2, 200, k)
    return {
        "mean_nll": float(np.mean(-np.log(q[tokens]))),
        "cross_entropy": float(info.cross_entropy(empirical, q)),
        "mle": mle,
        "mle_cross_entropy": float(info.cross_entropy(empirical, mle)),
        "least_other_cross_entropy": float(np.min(info.cross_entropy(empirical, others))),
        "counts": counts,
        "model": q,
        "tokens": tokens,
    }


def softmax_jacobian_parts(seed: int = 0, k: int = 5) -> dict:
    """The library's softmax Jacobian, the course's two cases and finite differences."""
    from llmmath import calculus, prob

    z = normal_input(seed, k)
    s = prob.softmax(z)
    jac = calculus.softmax_jacobian(z)
    return {
        "z": z,
        "jacobian": jac,
        "diagonal_formula": s * (1 - s),           # d s_i / d z_i = s_i (1 - s_i)
        "offdiagonal_formula": -np.outer(s, s),    # d s_i / d z_j = -s_i s_j  (i != j)
        "combined_formula": s[:, None] * (np.eye(k) - s[None, :]),
        "finite_differences": calculus.jacobian(prob.softmax, z),
    }


def ce_softmax_gradient_parts(seed: int = 0, k: int = 6, target: int = 2) -> dict:
    """The gradient of -log softmax(z)[c] with respect to z, three ways."""
    from llmmath import calculus, prob

    z = normal_input(seed, k)
    p = prob.softmax(z)
    y = np.eye(k)[target]

    def loss(logits):
        return -prob.log_softmax(logits)[target]

    return {
        "z": z,
        "target": target,
        "library": calculus.softmax_cross_entropy_grad(z, target),
        "p_minus_y": p - y,
        "finite_differences": calculus.numerical_gradient(loss, z),
    }


def syllabus_layer_norm_dx(x, gamma, dy, eps: float = 1e-5) -> np.ndarray:
    """dL/dx as the course page writes it (to show that it is wrong).

    (gamma / sqrt(var + eps)) * [dy - mean(dy) - (x - mu) / (d var) * sum(dy (x - mu))]:
    the variance term lacks ``eps`` and the vector ``gamma`` stands outside
    the sums instead of multiplying ``dy`` inside them.
    """
    x, gamma, dy = (np.asarray(a, dtype=float) for a in (x, gamma, dy))
    d = x.shape[-1]
    mu = x.mean()
    var = x.var()
    xc = x - mu
    bracket = dy - dy.mean() - xc / (d * var) * np.sum(dy * xc)
    return gamma / np.sqrt(var + eps) * bracket


def layer_norm_gradients(seed: int = 0, d: int = 8, scale: float = 3e-3, eps: float = 1e-5) -> dict:
    """dL/dx for L = sum(dy * LayerNorm(x)): library, finite differences, the page's formula.

    ``scale`` makes the variance of ``x`` comparable to ``eps`` (about 1e-5), so
    that leaving eps out of the variance term shows; ``gamma`` is a vector.
    """
    from llmmath import calculus

    x, gamma, beta, dy = layer_norm_inputs(seed, d, scale)

    def loss(v):
        xhat = (v - v.mean()) / np.sqrt(v.var() + eps)
        return float(np.sum(dy * (gamma * xhat + beta)))

    dx, dgamma, dbeta = calculus.layer_norm_backward(x, gamma, dy, eps=eps)
    return {
        "x": x, "gamma": gamma, "beta": beta, "dy": dy, "eps": eps,
        "library_dx": dx,
        "finite_differences_dx": calculus.numerical_gradient(loss, x, eps=1e-9),
        "syllabus_dx": syllabus_layer_norm_dx(x, gamma, dy, eps),
        "library_dbeta": dbeta,
        "library_dgamma": dgamma,
        "sum_dy": dy.sum(),
    }


def joint_weights(seed: int, sizes: tuple[int, ...]) -> np.ndarray:
    """Positive integer weights of a joint table (divide by the sum for probabilities)."""
    return np.random.default_rng(seed).integers(1, 20, size=sizes)


def chain_rule_of_probability(seed: int = 0, sizes: tuple[int, ...] = (2, 3, 2)) -> dict:
    """P(x1, x2, x3) = P(x1) P(x2 | x1) P(x3 | x1, x2) on an explicit joint table.

    The joint has rational entries and the conditionals are formed by
    marginalising and dividing in exact arithmetic (``fractions.Fraction``), so
    the identity must hold exactly, not just to rounding.
    """
    weights = joint_weights(seed, sizes)
    total = int(weights.sum())
    joint = {idx: Fraction(int(weights[idx]), total) for idx in product(*map(range, sizes))}

    def marginal(prefix):
        return sum(p for idx, p in joint.items() if idx[: len(prefix)] == prefix)

    worst = Fraction(0)
    products = np.zeros(sizes)
    for idx, p in joint.items():
        chain = Fraction(1)
        for i in range(len(sizes)):
            chain *= marginal(idx[: i + 1]) / marginal(idx[:i])  # P(x_i | x_<i)
        worst = max(worst, abs(chain - p))
        products[idx] = float(chain)
    return {
        "joint": weights / total,
        "product_of_conditionals": products,
        "exact_max_difference": float(worst),
    }


def steepest_ascent(f, x, n_directions: int = 2000, seed: int = 0, h: float = 1e-6) -> dict:
    """Directional derivatives of ``f`` at ``x`` along many unit vectors.

    Returns the gradient norm, the largest directional derivative found among
    random directions, and the one along the normalised gradient.
    """
    from llmmath import calculus

    x = np.asarray(x, dtype=float)
    g = calculus.numerical_gradient(f, x)
    u = np.random.default_rng(seed).normal(size=(n_directions, x.size))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    directional = u @ g                                 # D_u f = grad f . u
    along_gradient = (f(x + h * g / np.linalg.norm(g)) - f(x - h * g / np.linalg.norm(g))) / (2 * h)
    return {
        "gradient": g,
        "gradient_norm": float(np.linalg.norm(g)),
        "best_random_direction": float(directional.max()),
        "along_gradient": float(along_gradient),
    }


def bigram_data(n_examples: int = 20000, seed: int = 0):
    """A character bigram model and examples from the corpus.

    The logits ``w`` (V x V) are half the log of add-one bigram counts from
    the first half of the validation split; the examples are ``n_examples`` consecutive
    (current, next) character pairs from a seeded place in the second half.
    Returns ``(current, next, w)``.
    """
    from llmmath import data

    text = data.load_corpus().val          # about half a million characters
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.fromiter((index[c] for c in text), dtype=np.int64, count=len(text))
    half = len(ids) // 2
    v = len(chars)
    counts = np.ones((v, v))
    np.add.at(counts, (ids[: half - 1], ids[1:half]), 1.0)
    start = int(np.random.default_rng(seed).integers(half, len(ids) - n_examples - 1))
    return ids[start : start + n_examples], ids[start + 1 : start + n_examples + 1], 0.5 * np.log(counts)


def bigram_per_example_gradients(n_examples: int = 20000, seed: int = 0) -> dict:
    """Per-example gradients of the bigram model's loss (see :func:`bigram_data`).

    The gradient of -log softmax(W[a])[b] with respect to W is zero outside
    row ``a`` and ``softmax(W[a]) - onehot(b)`` on it, so each example is
    stored as its row index and that row.
    """
    from llmmath import calculus

    a, b, w = bigram_data(n_examples, seed)
    rows = calculus.softmax_cross_entropy_grad(w[a], b)   # (N, V)
    return {"rows": a, "grads": rows, "vocab_size": w.shape[0]}


def _mean_sq_deviation(rows, grads, mean_grad, idx, budget: int = 2_000_000) -> float:
    """Mean over batches of ||mean of the selected per-example gradients - g||^2.

    Each per-example gradient is ``e_row (x) grad`` (one non-zero row), so a
    batch's mean gradient is a V x V matrix built with one ``bincount``.
    ``idx`` is (n_batches, B); batches go in chunks of about ``budget`` numbers.
    """
    n_batches, bsz = idx.shape
    v = grads.shape[1]
    per = max(1, budget // (bsz * v))
    total = 0.0
    for s in range(0, n_batches, per):
        part = idx[s : s + per]
        nb = len(part)
        cell = (np.arange(nb)[:, None] * v + rows[part]) * v              # (nb, B): start of the row
        flat = (cell[:, :, None] + np.arange(v)).ravel()                  # (nb * B * V,)
        sums = np.bincount(flat, weights=grads[part].ravel(), minlength=nb * v * v)
        batch_mean = sums.reshape(nb, v, v) / bsz                         # (nb, V, V)
        total += float(np.sum((batch_mean - mean_grad) ** 2))
    return total / n_batches


def minibatch_gradient_variance(
    batch_sizes=(1, 2, 4, 8, 16, 32, 64),
    n_batches: int = 2000,
    n_examples: int = 20000,
    seed: int = 0,
    fpc_population: int = 200,
    fpc_batch: int = 100,
) -> dict:
    """Var of the mini-batch gradient, E ||g_B - g||^2, measured for several |B|.

    Batches are drawn with replacement from ``n_examples`` corpus bigrams
    (seeded); the slope of log Var against log |B| is fitted by least
    squares. The same measurement without replacement, with |B| =
    ``fpc_batch`` out of ``fpc_population`` examples, shows the
    finite-population correction (N - |B|) / (N - 1).
    """
    ex = bigram_per_example_gradients(n_examples, seed)
    rows, grads, v = ex["rows"], ex["grads"], ex["vocab_size"]
    rng = np.random.default_rng(seed + 1)

    def full_mean(sel_rows, sel_grads):
        m = np.zeros((v, v))
        np.add.at(m, sel_rows, sel_grads)
        return m / len(sel_rows)

    mean_grad = full_mean(rows, grads)
    variances = []
    for bsz in batch_sizes:
        idx = rng.integers(0, n_examples, (n_batches, bsz))   # with replacement
        variances.append(_mean_sq_deviation(rows, grads, mean_grad, idx))
    slope = float(np.polyfit(np.log(batch_sizes), np.log(variances), 1)[0])

    # without replacement from a small population
    pr, pg = rows[:fpc_population], grads[:fpc_population]
    pmean = full_mean(pr, pg)
    idx = np.argsort(rng.random((n_batches, fpc_population)), axis=1)[:, :fpc_batch]
    without = _mean_sq_deviation(pr, pg, pmean, idx)
    idx_with = rng.integers(0, fpc_population, (n_batches, fpc_batch))
    with_repl = _mean_sq_deviation(pr, pg, pmean, idx_with)
    return {
        "batch_sizes": np.asarray(batch_sizes, dtype=float),
        "variance": np.asarray(variances),
        "slope": slope,
        "fpc_with_replacement": with_repl,
        "fpc_without_replacement": without,
        "fpc_ratio": without / with_repl,
    }


def coverage_datasets(n_sets: int = 1000, size: int = 5, seed: int = 7) -> np.ndarray:
    """``n_sets`` standard-normal samples of ``size`` values (true mean 0)."""
    return np.random.default_rng(seed).normal(size=(n_sets, size))
