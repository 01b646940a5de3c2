"""Independent reference computations for the ledger's claims.

Nothing here calls llmmath's numerical code: each function recomputes a
claim's quantity with SciPy, PyTorch (float64), mpmath, exact arithmetic or a
closed form. Those packages are test extras, so they are imported inside the
functions, never at module level (``llmmath verify`` reports a missing one).

Most entries are factories: ``softmax_of(logits)`` returns the zero-argument
function the claim runs, with the claim's inputs bound. Data that ours and the
reference share (seeded inputs) is passed in as a function that builds it.

The module is long because it holds one reference per checkable claim of
five pages; the functions are independent of each other.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from typing import Any

import numpy as np

__all__: list[str] = []  # filled at the end of the module


def _softmax(x, axis=-1):
    from scipy.special import softmax

    return softmax(np.asarray(x, dtype=float), axis=axis)


def _kl(p, q):
    from scipy.stats import entropy

    return float(entropy(p, q))


# ----------------------------------------------------------------- basics -- #

def softmax_of(logits, axis: int = -1) -> Callable[[], np.ndarray]:
    return lambda: _softmax(logits, axis)


def dot_example_000() -> float:
    import torch

    return float(torch.dot(torch.tensor([1.0, 0, 0], dtype=torch.float64),
                           torch.tensor([1.0, 1, 0], dtype=torch.float64)))


def identity_scores_000() -> dict:
    from scipy.linalg import svdvals

    return {"scores": np.eye(2), "singular_values": svdvals(np.eye(2))}


def embedding_widths(published: dict) -> Callable[[], dict]:
    def run():
        import torch

        widths = {
            name: int(torch.nn.Embedding(v, d, device="meta").weight.shape[1])
            for name, (v, d) in published.items()
        }
        return {"widths": widths, "widest_embedding": max(widths.values())}
    return run


def mse_gradient_direction(problem: Callable, h: float) -> Callable[[], dict]:
    def run():
        import torch

        x, y, w0 = (torch.tensor(a, dtype=torch.float64) for a in problem())
        w = w0.clone().requires_grad_(True)
        loss = torch.mean((x @ w - y) ** 2)
        loss.backward()
        g = w.grad.detach()
        with torch.no_grad():
            up = torch.mean((x @ (w0 + h * g) - y) ** 2)
            down = torch.mean((x @ (w0 - h * g) - y) ** 2)
        return {"gradient": g.numpy(), "loss": loss.item(), "loss_after_step_along_gradient": float(up),
                "loss_after_step_against_gradient": float(down)}
    return run


def chain_rule_three_000() -> dict:
    import mpmath

    x = mpmath.mpf("0.7")
    composite = mpmath.diff(lambda t: mpmath.sin(mpmath.exp(t * t)), x)
    closed = mpmath.cos(mpmath.exp(x * x)) * mpmath.exp(x * x) * 2 * x
    return {"composite": float(composite), "product_of_local_derivatives": float(closed)}


def cross_entropy_onehot(logits, target: int) -> Callable[[], dict]:
    def run():
        import torch

        z = torch.tensor(logits, dtype=torch.float64)
        v = float(torch.nn.functional.cross_entropy(z[None], torch.tensor([target])))
        return {"cross_entropy": v, "neg_log_p_true": v}
    return run


def kl_onehot(p_logits, target: np.ndarray) -> Callable[[], dict]:
    return lambda: {"kl": _kl(target, _softmax(p_logits))}


def kl_logit_pair(p_logits, q_logits) -> Callable[[], dict]:
    def run():
        p, q = _softmax(p_logits), _softmax(q_logits)
        return {"kl": _kl(p, q), "kl_reversed": _kl(q, p)}
    return run


def torch_entropy(logits) -> Callable[[], float]:
    def run():
        import torch

        p = torch.softmax(torch.tensor(logits, dtype=torch.float64), dim=0)
        return float(-(p * torch.log(p)).sum())
    return run


def kl_asymmetry(logits, a, b, c) -> Callable[[], dict]:
    def run():
        p = _softmax(logits)
        q = np.full(len(p), 1 / len(p))
        return {"kl_pq": _kl(p, q), "kl_qp": _kl(q, p), "kl_ac": _kl(a, c),
                "kl_ab_plus_kl_bc": _kl(a, b) + _kl(b, c)}
    return run


def entropy_extremes(k: int, random_p: Callable) -> Callable[[], dict]:
    def run():
        from scipy.stats import entropy

        return {"uniform": float(entropy(np.full(k, 1 / k))), "one_hot": float(entropy(np.eye(k)[2])),
                "random": entropy(random_p(), axis=-1)}
    return run


def _exact_percentile_interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of the exact bootstrap distribution of the mean.

    The n^n equally likely resamples are grouped by how often each point is
    drawn: a composition (c_1..c_n) of n has multinomial weight
    n! / (c_1! ... c_n!) / n^n.
    """
    from math import factorial

    n = len(x)
    comps = [c for c in product(range(n + 1), repeat=n) if sum(c) == n]
    comps = np.array(comps)
    weights = np.array([factorial(n) / np.prod([factorial(int(k)) for k in c]) for c in comps]) / n**n
    means = comps @ np.asarray(x) / n
    order = np.argsort(means)
    means, weights = means[order], weights[order]
    cdf = np.cumsum(weights)
    alpha = (1 - level) / 2
    return float(means[np.searchsorted(cdf, alpha)]), float(means[np.searchsorted(cdf, 1 - alpha)])


def exact_bootstrap_ci(scores) -> Callable[[], dict]:
    def run():
        low, high = _exact_percentile_interval(np.asarray(scores, dtype=float))
        return {"low": low, "high": high, "mean": float(np.mean(scores))}
    return run


def exact_bootstrap_coverage(datasets: Callable) -> Callable[[], dict]:
    def run():
        from math import factorial

        data = datasets()
        n = data.shape[1]
        comps = np.array([c for c in product(range(n + 1), repeat=n) if sum(c) == n])
        weights = np.array([factorial(n) / np.prod([factorial(int(k)) for k in c]) for c in comps]) / n**n
        means = data @ comps.T / n                       # (sets, compositions)
        order = np.argsort(means, axis=1)
        sorted_means = np.take_along_axis(means, order, axis=1)
        cdf = np.cumsum(weights[order], axis=1)
        lo = sorted_means[np.arange(len(data)), np.argmax(cdf >= 0.025, axis=1)]
        hi = sorted_means[np.arange(len(data)), np.argmax(cdf >= 0.975, axis=1)]
        return {"coverage": float(np.mean((lo <= 0) & (0 <= hi)))}
    return run


def welch(samples: Callable) -> Callable[[], dict]:
    def run():
        from scipy.stats import ttest_ind

        a, b = samples()
        r = ttest_ind(a, b, equal_var=False)
        return {"statistic": float(r.statistic), "pvalue": float(r.pvalue)}
    return run


def paired_t(samples: Callable) -> Callable[[], dict]:
    def run():
        from scipy.stats import ttest_rel

        a, b = samples()
        r = ttest_rel(a, b)
        return {"statistic": float(r.statistic), "pvalue": float(r.pvalue)}
    return run


def exact_dot(vectors: Callable) -> Callable[[], dict]:
    def run():
        import mpmath

        a, b = vectors()
        with mpmath.workdps(40):
            s = float(mpmath.fsum(mpmath.mpf(float(x)) * mpmath.mpf(float(y)) for x, y in zip(a, b, strict=True)))
        return {"dot": s, "sum_of_products": s}
    return run


def softmax_formula(x: Callable) -> Callable[[], dict]:
    return lambda: {"softmax": _softmax(x()), "large_logits": _softmax([1000.0, 999.0])}


def ce_per_example(problem: Callable) -> Callable[[], dict]:
    def run():
        import torch

        z, t = problem()
        ce = torch.nn.functional.cross_entropy(torch.tensor(z, dtype=torch.float64), torch.tensor(t),
                                               reduction="none").numpy()
        return {"cross_entropy": ce, "neg_log_q_target": ce}
    return run


def tanh_chain(x0: float) -> Callable[[], dict]:
    def run():
        import torch

        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        torch.tanh(3 * x + 1).backward()
        return {"autograd": float(x.grad), "product": float(x.grad)}
    return run


def _t(x):
    import torch

    return torch.as_tensor(np.asarray(x, dtype=float), dtype=torch.float64)


def _masked_softmax_attention(q, k, mask=None, causal=False):
    """softmax(q kᵀ / √d) with masked (False) entries set to -inf, in torch float64."""
    import torch

    q, k = _t(q), _t(k)
    scores = q @ k.T / np.sqrt(q.shape[-1])
    keep = torch.ones_like(scores, dtype=torch.bool) if mask is None else torch.as_tensor(mask)
    if causal:
        keep = keep & torch.tril(torch.ones_like(keep))
    return torch.softmax(scores.masked_fill(~keep, float("-inf")), dim=-1).numpy()


def _second_modulus(a) -> float:
    from scipy.linalg import eigvals

    return float(np.sort(np.abs(eigvals(a)))[-2])


# -------------------------------------------------------- linear algebra -- #

def torch_matmul(inputs: Callable) -> Callable[[], dict]:
    def run():
        w, x = inputs()
        y = (_t(w) @ _t(x)).numpy()
        return {"y": y, "row_dots": y}
    return run


def attention_weights(inputs: Callable) -> Callable[[], dict]:
    def run():
        import torch

        q, k, v = (_t(a) for a in inputs())
        out = torch.nn.functional.scaled_dot_product_attention(q[None], k[None], v[None])[0]
        w = torch.softmax(q @ k.T / np.sqrt(q.shape[-1]), dim=-1)
        return {"out": out.numpy(), "weights": w.numpy(), "scores_shape": list(w.shape),
                "out_shape": list(out.shape)}
    return run


def worked_attention(q, k, what: str) -> Callable[[], Any]:
    def run():
        import torch

        scores = _t(q) @ _t(k).T
        scaled = scores / np.sqrt(q.shape[-1])
        e = torch.exp(scaled[0])
        values = {"keys_t": _t(k).T, "scores": scores[0], "scaled": scaled[0], "exp": e, "sum": e.sum(),
                  "weights_row0": torch.softmax(scaled, dim=-1)[0]}
        v = values[what].numpy()
        return float(v) if v.ndim == 0 else v
    return run


def attention_row_sums(q, k, inputs: Callable) -> Callable[[], dict]:
    def run():
        q2, k2, _ = inputs()
        return {"worked": _masked_softmax_attention(q, k).sum(axis=-1),
                "causal": _masked_softmax_attention(q2, k2, causal=True).sum(axis=-1)}
    return run


def eig_summary(q, k) -> Callable[[], dict]:
    def run():
        from scipy.linalg import eig

        a = _masked_softmax_attention(q, k)
        lam, left = eig(a, left=True, right=False)
        i = int(np.argmin(np.abs(lam - 1)))
        pi = np.real(left[:, i])
        return {"largest_modulus": float(np.abs(lam).max()), "pi": pi / pi.sum()}
    return run


def special_attention_eigs(qkv: Callable, masks: Callable) -> Callable[[], dict]:
    def run():
        q, k, _ = qkv()
        out = {}
        for name, mask in masks().items():
            causal = isinstance(mask, str) and mask == "causal"
            a = _masked_softmax_attention(q, k, None if causal else mask, causal=causal)
            out[name] = _second_modulus(a)
        return out
    return run


def gap_vs_focus(matrices: Callable) -> Callable[[], dict]:
    """``matrices()`` gives name -> (q, k, mask) to rebuild each attention matrix."""
    def run():
        from scipy.stats import entropy

        out = {}
        for name, (q, k, mask) in matrices().items():
            a = _masked_softmax_attention(q, k, mask)
            out[name] = {"gap": 1 - _second_modulus(a),
                         "mean_row_entropy": float(np.mean(entropy(a, axis=-1)))}
        return out
    return run


def lora_counts(d: int, r: int) -> Callable[[], dict]:
    def run():
        import torch

        a = torch.empty(r, d, device="meta")       # LoRA's A: r x d
        b = torch.empty(d, r, device="meta")       # LoRA's B: d x r
        full = torch.empty(d, d, device="meta").numel()
        lora = a.numel() + b.numel()
        return {"lora": lora, "full": full, "ratio": full / lora}
    return run


def _tail_errors(m, ranks):
    from scipy.linalg import svdvals

    s2 = svdvals(m) ** 2
    return [float(np.sqrt(s2[r:].sum() / s2.sum())) for r in ranks]


def svd_low_rank_error(matrix: Callable, ranks) -> Callable[[], dict]:
    return lambda: {f"error_rank_{r}": e for r, e in zip(ranks, _tail_errors(matrix(), ranks), strict=True)}


def svd_tail_errors(matrix: Callable, ranks) -> Callable[[], dict]:
    return lambda: {"errors": np.array(_tail_errors(matrix(), ranks))}


def vector_ops(a, b) -> Callable[[], dict]:
    def run():
        import torch

        x, y = _t(a), _t(b)
        return {"dot": float(torch.dot(x, y)), "norm": float(torch.linalg.vector_norm(x)),
                "cosine": float(torch.nn.functional.cosine_similarity(x, y, dim=0))}
    return run


def snippet_shapes() -> dict:
    import torch

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(4, 8, generator=g), torch.randn(8, 16, generator=g)
    batch, scale = torch.randn(32, 512, generator=g), torch.randn(512, generator=g)
    w, x = torch.randn(512, 512, generator=g), torch.randn(512, generator=g)
    return {"matmul": list((a @ b).shape), "broadcast": list((batch * scale).shape),
            "matvec": list((w @ x).shape)}


def mmt_eigenvalues(matrix: Callable, singular) -> Callable[[], dict]:
    def run():
        from scipy.linalg import eigvalsh

        m = matrix()
        s = np.asarray(singular, dtype=float)
        return {"eigenvalues": eigvalsh(m @ m.T), "singular_case_min_eigenvalue": float(eigvalsh(s @ s.T).min())}
    return run


def matmul_2x2() -> np.ndarray:
    return (_t([[1, 2], [3, 4]]) @ _t([[5, 6], [7, 8]])).numpy()


def cosine_range(inputs: Callable) -> Callable[[], dict]:
    def run():
        import torch

        a, b = (_t(x) for x in inputs())
        cs = torch.nn.functional.cosine_similarity
        return {"cosines": cs(a, b, dim=-1).numpy(), "self": float(cs(a[0], a[0], dim=0)),
                "opposite": float(cs(a[0], -a[0], dim=0))}
    return run


def det_rank(matrices: Callable) -> Callable[[], dict]:
    def run():
        from scipy.linalg import det, svdvals

        a, singular = matrices()

        def rank(m):
            s = svdvals(m)
            return int(np.sum(s > s[0] * m.shape[0] * np.finfo(float).eps))

        return {"det": float(det(a)), "rank": rank(a), "det_singular": float(det(singular)),
                "rank_singular": rank(singular)}
    return run


def pca_eig(data: Callable, k: int) -> Callable[[], dict]:
    def run():
        from scipy.linalg import eigh

        x = data()
        lam, vec = eigh(np.cov(x, rowvar=False))
        lam, vec = lam[::-1], vec[:, ::-1]
        return {"components_abs": np.abs(vec[:, :k].T), "explained_variance_ratio": lam[:k] / lam.sum()}
    return run


def eigh_reconstruction(matrix: Callable) -> Callable[[], dict]:
    def run():
        from scipy.linalg import eigh

        s = matrix()
        lam, q = eigh(s)
        return {"eigenvalues": lam, "reconstruction_error": float(np.abs(q @ np.diag(lam) @ q.T - s).max()),
                "orthogonality_error": float(np.abs(q.T @ q - np.eye(len(s))).max())}
    return run


def gpt_param_counts() -> dict:
    """Parameters of GPT-2-shaped PyTorch models built on the meta device (no memory)."""
    import torch
    from torch import nn

    def count(vocab, block, n_layer, d):
        with torch.device("meta"):
            parts = [nn.Embedding(vocab, d), nn.Embedding(block, d), nn.LayerNorm(d)]
            for _ in range(n_layer):
                parts += [nn.LayerNorm(d), nn.Linear(d, 3 * d), nn.Linear(d, d),
                          nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)]
        return sum(p.numel() for m in parts for p in m.parameters())   # output layer tied

    tiny = count(65, 32, 2, 32)
    return {"tiny_counted": tiny, "tiny_formula": tiny, "gpt2_small": count(50257, 1024, 12, 768),
            "gpt3_175b": count(50257, 2048, 96, 12288)}


# -------------------------------------------------------------- calculus -- #

def neuron_grad(w: float, x: float, b: float, t: float) -> Callable[[], dict]:
    def run():
        import torch

        wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        ((torch.tanh(wt * x + b) - t) ** 2).backward()
        return {"autograd": float(wt.grad), "product": float(wt.grad)}
    return run


def softmax_jacobian(seed: int, k: int) -> Callable[[], dict]:
    def run():
        import torch

        from llmmath.ledger.identities import normal_input

        z = _t(normal_input(seed, k))
        jac = torch.autograd.functional.jacobian(lambda v: torch.softmax(v, 0), z).numpy()
        s = torch.softmax(z, 0).numpy()
        return {"jacobian": jac, "finite_differences": jac, "combined_formula": jac,
                "diagonal_formula": np.diag(jac), "offdiagonal_formula": -np.outer(s, s)}
    return run


def ce_softmax_grad(seed: int, k: int, target: int) -> Callable[[], dict]:
    def run():
        import torch

        from llmmath.ledger.identities import normal_input

        z = _t(normal_input(seed, k)).requires_grad_(True)
        torch.nn.functional.cross_entropy(z[None], torch.tensor([target])).backward()
        g = z.grad.numpy()
        return {"library": g, "p_minus_y": g, "finite_differences": g}
    return run


def relu_grad(xs) -> Callable[[], np.ndarray]:
    def run():
        import torch

        x = _t(xs).requires_grad_(True)
        torch.relu(x).sum().backward()
        return x.grad.numpy()
    return run


def sigmoid_max_slope() -> dict:
    import mpmath

    # sigma'' vanishes at 0 (sigma' is even), so 0 is where sigma' peaks
    slope = mpmath.diff(lambda x: 1 / (1 + mpmath.exp(-x)), 0)
    return {"max_slope": float(slope), "argmax": 0.0, "max_numerical_slope": float(slope)}


def sigmoid_chain(depth: int) -> Callable[[], dict]:
    def run():
        import torch

        x = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        h = x
        for _ in range(depth):
            h = torch.sigmoid(h) - 0.5
        h.backward()
        return {"gradient_through_10_sigmoids": float(x.grad), "quarter_to_the_10": 0.25**depth}
    return run


def layer_norm_grads(seed: int, d: int, scale: float, eps: float) -> Callable[[], dict]:
    def run():
        import torch

        from llmmath.ledger.identities import layer_norm_inputs

        x, gamma, beta, dy = (_t(a).requires_grad_(True) for a in layer_norm_inputs(seed, d, scale))
        y = torch.nn.functional.layer_norm(x, (d,), gamma, beta, eps)
        (y * dy).sum().backward()
        return {"library_dx": x.grad.numpy(), "finite_differences_dx": x.grad.numpy(),
                "library_dbeta": beta.grad.numpy(), "library_dgamma": gamma.grad.numpy(),
                "sum_dy": float(dy.detach().sum())}
    return run


def torch_layer_norm_backward(inputs: Callable) -> Callable[[], dict]:
    def run():
        import torch

        x, gamma, beta, dy = (_t(a).requires_grad_(True) for a in inputs())
        y = torch.nn.functional.layer_norm(x, (x.shape[-1],), gamma, beta, 1e-5)
        (y * dy).sum().backward()
        g = {"dx": x.grad.numpy(), "dgamma": gamma.grad.numpy(), "dbeta": beta.grad.numpy()}
        return {"autograd": g, "closed_form": g}
    return run


def torch_layer_norm_dbeta(inputs: Callable) -> Callable[[], dict]:
    def run():
        import torch

        x, gamma, beta, dy = (_t(a).requires_grad_(True) for a in inputs())
        y = torch.nn.functional.layer_norm(x, (x.shape[-1],), gamma, beta, 1e-5)
        (y * dy).sum().backward()
        return {"library_dbeta": beta.grad.numpy(), "sum_over_tokens": beta.grad.numpy()}
    return run


def batch_loss(problem: Callable) -> Callable[[], dict]:
    def run():
        import torch

        logits, targets = problem()
        b, t, v = logits.shape
        token_mean = torch.nn.functional.cross_entropy(_t(logits).reshape(b * t, v),
                                                       torch.as_tensor(targets).reshape(b * t))
        return {"page_loss": float(token_mean) * t, "token_mean": float(token_mean), "tokens_per_sequence": t}
    return run


def torch_jacobian(x0) -> Callable[[], dict]:
    def run():
        import torch

        def field(x):
            return torch.stack([torch.sin(x[0]) * x[1], x[0] ** 2 + torch.exp(0.3 * x[1]), x[0] * x[1] * x[2]])

        jac = torch.autograd.functional.jacobian(field, _t(x0)).numpy()
        return {"jacobian": jac, "analytic": jac}
    return run


def _scalar_field_torch(x):
    import torch

    return torch.sin(x[0] * x[1]) + x[0] ** 2 * x[2] + torch.exp(0.5 * x[2])


def torch_hessian(x0) -> Callable[[], dict]:
    def run():
        import torch

        h = torch.autograd.functional.hessian(_scalar_field_torch, _t(x0)).numpy()
        return {"hessian": h, "asymmetry": 0.0}
    return run


def torch_jvp(x0, u) -> Callable[[], dict]:
    def run():
        from torch.func import jvp

        _, slope = jvp(_scalar_field_torch, (_t(x0),), (_t(u),))
        return {"difference_quotient": float(slope), "gradient_dot_u": float(slope)}
    return run


def steepest_ascent_torch(kind: str, x0, data: Callable | None = None) -> Callable[[], dict]:
    def run():
        import torch

        x = _t(x0).requires_grad_(True)
        if kind == "bowl":
            f = x[0] ** 2 + 3 * x[1] ** 2 + torch.sin(x[2]) + x[0] * x[2]
        else:
            a, y = (_t(v) for v in data())
            z = a @ x
            f = torch.mean(torch.logaddexp(torch.zeros_like(z), z) - y * z)
        f.backward()
        g = x.grad.numpy()
        n = float(np.linalg.norm(g))
        return {"gradient": g, "gradient_norm": n, "along_gradient": n}
    return run


def torch_dydx() -> float:
    import torch

    x = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    (x**2 + 3 * x + 1).sum().backward()
    return float(x.grad[0])


def torch_backward_twice(w0) -> Callable[[], dict]:
    def run():
        w = _t(w0).requires_grad_(True)
        for _ in range(2):
            (w * w).sum().backward()
        return {"accumulated": w.grad.numpy(), "single": 2 * np.asarray(w0, dtype=float)}
    return run


def torch_relu_layer(inputs: Callable) -> Callable[[], dict]:
    def run():
        import torch

        x, w, b = (_t(a) for a in inputs())
        y = torch.relu(x @ w + b)
        return {"shape": list(y.shape), "values": y.numpy()}
    return run


def torch_layer_norm(inputs: Callable) -> Callable[[], dict]:
    def run():
        import torch

        out = _t(inputs()[0])
        return {"library": torch.nn.functional.layer_norm(out, (out.shape[-1],), eps=1e-5).numpy()}
    return run


def trigram_counts(tokens: Callable) -> Callable[[], dict]:
    """Maximum-likelihood trigram probabilities by counting in plain Python."""
    def run():
        from collections import Counter

        t = tokens()
        tri = Counter(zip(t, t[1:], t[2:], strict=False))
        bi = Counter(zip(t, t[1:-1], strict=False))          # bigrams that have a successor

        def p(a, b, w):
            return tri[(a, b, w)] / bi[(a, b)]

        same = np.array([p(2, 1, 3)] * 4)                      # depends on (2, 1) only
        return {"same_last_two": same, "spread": 0.0, "different_last_two": p(3, 1, 3)}
    return run


def sampling_filters(logits: Callable, k: int, p: float) -> Callable[[], dict]:
    """Top-k and nucleus sets by sorting (Holtzman et al. 2020's rule)."""
    def run():
        z = logits()
        probs = _softmax(z)
        order = np.argsort(-z, kind="stable")
        top_k = np.zeros(z.size, dtype=bool)
        top_k[order[:k]] = True
        mass_before = np.concatenate([[0.0], np.cumsum(probs[order])[:-1]])
        nucleus = np.zeros(z.size, dtype=bool)
        nucleus[order[mass_before < p]] = True
        return {"top_k_kept": top_k, "top_p_kept": nucleus, "top_p_mass": float(probs[nucleus].sum()),
                "greedy": int(order[0]), "argmax": int(order[0])}
    return run


def quadratic_cost(d: int, ts) -> Callable[[], dict]:
    def run():
        t = np.asarray(ts, dtype=float)
        return {"T": np.asarray(ts), "multiplications": 2 * t**2 * d, "slope": 2.0}
    return run


# ------------------------------------------------------------ probability -- #

def exact_chain_rule(table: Callable) -> Callable[[], dict]:
    """The conditionals by array marginals (a second route to the Fraction one)."""
    def run():
        w = table().astype(float)
        joint = w / w.sum()
        p1 = joint.sum(axis=(1, 2))
        p12 = joint.sum(axis=2)
        chain = p1[:, None, None] * (p12 / p1[:, None])[:, :, None] * (joint / p12[:, :, None])
        return {"joint": joint, "product_of_conditionals": chain, "exact_max_difference": 0.0}
    return run


def bernoulli_mle(flips: Callable) -> Callable[[], dict]:
    def run():
        from scipy.optimize import minimize_scalar
        from scipy.stats import binom

        x = flips()
        k, n = int(x.sum()), x.size
        r = minimize_scalar(lambda th: -binom.logpmf(k, n, th), bounds=(1e-6, 1 - 1e-6),
                            method="bounded", options={"xatol": 1e-10})
        return {"argmax_log_likelihood": float(r.x), "mle": float(r.x), "k": k, "n": n}
    return run


def mle_cross_entropy(seed: int, n_tokens: int, k: int) -> Callable[[], dict]:
    def run():
        import torch
        from scipy.optimize import minimize
        from scipy.special import log_softmax

        from llmmath.ledger.identities import mle_inputs

        tokens, q = mle_inputs(seed, n_tokens, k)
        logq = torch.log(_t(q))[None].expand(n_tokens, k)
        nll = float(torch.nn.functional.nll_loss(logq, torch.as_tensor(tokens)))
        r = minimize(lambda z: -np.mean(log_softmax(z)[tokens]), np.zeros(k), method="BFGS",
                     options={"gtol": 1e-12})
        return {"mean_nll": nll, "cross_entropy": nll, "mle": _softmax(r.x)}
    return run


def gaussian_map(problem: Callable) -> Callable[[], dict]:
    def run():
        from scipy.optimize import minimize
        from scipy.stats import norm

        x, y, s_noise, s_prior = problem()

        def neg_log_posterior(w):
            return -(norm.logpdf(y, loc=x @ w, scale=s_noise).sum() + norm.logpdf(w, scale=s_prior).sum())

        r = minimize(neg_log_posterior, np.zeros(x.shape[1]), method="BFGS", options={"gtol": 1e-10})
        return {"ridge": r.x}
    return run


def bayes_exact(inputs: Callable) -> Callable[[], np.ndarray]:
    def run():
        from fractions import Fraction

        prior, likelihood = inputs()
        joint = [Fraction(float(p)) * Fraction(float(lk)) for p, lk in zip(prior, likelihood, strict=True)]
        evidence = sum(joint)
        return np.array([float(j / evidence) for j in joint])
    return run


def beta_posterior(k: int, n: int) -> Callable[[], dict]:
    def run():
        from scipy.stats import beta

        return {"posterior_mean": float(beta(k + 1, n - k + 1).mean()), "posterior_mode": k / n}
    return run


def temperature_entropies(logits, temps) -> Callable[[], dict]:
    def run():
        from scipy.stats import entropy

        z = np.asarray(logits, dtype=float)
        return {"temperatures": np.asarray(temps), "p_at_0.7": _softmax(z / 0.7),
                "entropy": np.array([float(entropy(_softmax(z / t))) for t in temps])}
    return run


def vocab_softmax(logits: Callable) -> Callable[[], dict]:
    def run():
        import torch

        p = torch.softmax(_t(logits()), 0)
        return {"sum": float(p.sum()), "argmax": int(torch.argmax(p)), "greedy": int(torch.argmax(p))}
    return run


def softmax_rows(logits: Callable) -> Callable[[], dict]:
    def run():
        p = _softmax(logits())
        return {"min": float(p.min()), "row_sums": p.sum(axis=-1)}
    return run


def clip_grad(grads: Callable, max_norm: float) -> Callable[[], dict]:
    def run():
        import torch

        gs = grads()
        params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in gs]
        for p, g in zip(params, gs, strict=True):
            p.grad = _t(g)
        total = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        clipped = np.concatenate([p.grad.numpy().ravel() for p in params])
        return {"total_norm": total, "clipped": clipped, "clipped_norm": float(np.linalg.norm(clipped)),
                "direction_cosine": 1.0}
    return run


# ---------------------------------------------------- information theory -- #

def ce_decomposition(seed: int, n: int, k: int) -> Callable[[], dict]:
    def run():
        from scipy.special import xlogy
        from scipy.stats import entropy

        from llmmath.ledger.identities import random_distributions

        p, q = random_distributions(seed, n, k), random_distributions(seed + 1, n, k)
        return {"cross_entropy": -np.sum(xlogy(p, q), axis=-1),
                "entropy_plus_kl": entropy(p, axis=-1) + entropy(p, q, axis=-1)}
    return run


def cross_entropy_argmin(seed: int) -> Callable[[], dict]:
    def run():
        from scipy.optimize import minimize
        from scipy.special import log_softmax
        from scipy.stats import entropy

        from llmmath.ledger.identities import random_distributions

        p = random_distributions(seed, 1, 5)[0]
        r = minimize(lambda z: -np.sum(p * log_softmax(z)), np.zeros(5), method="BFGS",
                     options={"gtol": 1e-12})
        return {"p": _softmax(r.x), "at_p": float(entropy(p))}
    return run


def ce_kl_gradients(p_seed: int, z_seed: int) -> Callable[[], dict]:
    def run():
        import torch

        from llmmath.ledger.identities import normal_input, random_distributions

        p = _t(random_distributions(p_seed, 1, 6)[0])
        grads = []
        for kind in ("ce", "kl"):
            z = _t(normal_input(z_seed, 6)).requires_grad_(True)
            logq = torch.log_softmax(z, 0)
            loss = -(p * logq).sum() if kind == "ce" else (p * (torch.log(p) - logq)).sum()
            loss.backward()
            grads.append(z.grad.numpy())
        return {"grad_cross_entropy": grads[0], "grad_kl": grads[1]}
    return run


def perplexity_from_nll(nll: Callable) -> Callable[[], dict]:
    def run():
        import mpmath

        x = nll()
        v = float(mpmath.exp(mpmath.fsum(map(float, x)) / len(x)))
        return {"perplexity": v, "two_to_bits": v}
    return run


def perplexity_uniform() -> dict:
    import mpmath

    return {"perfect": float(mpmath.exp(0)), "uniform_50k": float(mpmath.exp(mpmath.log(50_000))),
            "uniform_10": float(mpmath.exp(mpmath.log(10)))}


def mutual_information(joint: Callable) -> Callable[[], dict]:
    def run():
        from scipy.stats import entropy

        j = joint()
        px, py = j.sum(1), j.sum(0)
        mi = float(entropy(px) + entropy(py) - entropy(j.ravel()))
        return {"mi": mi, "entropies": mi, "kl_to_product": float(entropy(j.ravel(), np.outer(px, py).ravel()))}
    return run


def independence_mi(a, b, dependent) -> Callable[[], dict]:
    def run():
        from scipy.stats import entropy

        def mi(j):
            return float(entropy(j.sum(1)) + entropy(j.sum(0)) - entropy(j.ravel()))

        return {"mi_product": mi(np.outer(a, b)), "mi_dependent": mi(np.asarray(dependent))}
    return run


# ---------------------------------------------------------- optimisation -- #

def minibatch_variance(n_examples: int, seed: int, batch_sizes, population: int, batch: int) -> Callable[[], dict]:
    """Exact variance of the mini-batch mean gradient: σ²/|B| with replacement,
    times (N − |B|)/(N − 1) without (per-example gradients from torch)."""
    def run():
        import torch

        from llmmath.ledger.identities import bigram_data

        a, b, w = bigram_data(n_examples, seed)
        g = (torch.softmax(_t(w[a]), -1) - torch.nn.functional.one_hot(torch.as_tensor(b), w.shape[0])).numpy()

        def sigma2(rows, grads):
            mean = np.zeros((w.shape[0], w.shape[0]))
            np.add.at(mean, rows, grads)
            mean /= len(rows)
            return float(np.mean(np.sum(grads**2, axis=1)) - np.sum(mean**2))

        s2 = sigma2(a, g)
        bs = np.asarray(batch_sizes, dtype=float)
        s2_pop = sigma2(a[:population], g[:population])
        fpc = (population - batch) / (population - 1)
        return {"batch_sizes": bs, "variance": s2 / bs, "slope": -1.0,
                "fpc_with_replacement": s2_pop / batch, "fpc_without_replacement": s2_pop / batch * fpc,
                "fpc_ratio": fpc}
    return run


def stalled_descent(x0: float) -> Callable[[], dict]:
    """x0 · Π_t (1 − a²/t²) = x0 · sin(πa)/(πa) with a² = 1/2 (Euler's product)."""
    def run():
        import mpmath

        a = mpmath.sqrt(mpmath.mpf(1) / 2)
        return {"final_x": float(x0 * mpmath.sin(mpmath.pi * a) / (mpmath.pi * a)),
                "sum_eta": float(mpmath.zeta(2) / 2)}
    return run


def harmonic_partial_sums(ts) -> Callable[[], dict]:
    def run():
        import mpmath

        h = np.array([float(mpmath.harmonic(t)) for t in ts])
        sq = np.array([float(mpmath.zeta(2) - mpmath.zeta(2, t + 1)) for t in ts])
        return {"T": np.asarray(ts), "sum_sq_inv_sqrt": h, "sum_sq_inv_t": sq, "sum_inv_t": h}
    return run


def double_well_minima() -> dict:
    from scipy.optimize import minimize_scalar

    def f(x):
        return (x * x - 1) ** 2 + 0.3 * x

    right = minimize_scalar(f, bracket=(0.5, 0.9, 1.5), tol=1e-12)
    left = minimize_scalar(f, bracket=(-1.5, -1.0, -0.5), tol=1e-12)
    return {"final_x": float(right.x), "final_loss": float(right.fun), "global_min": float(left.fun)}


def adam_steps(problem: Callable, lr: float, steps: int) -> Callable[[], dict]:
    def run():
        import torch

        w0, target = problem()
        p = _t(w0).requires_grad_(True)
        opt = torch.optim.Adam([p], lr=lr, betas=(0.9, 0.999), eps=1e-8)
        out = []
        for _ in range(steps):
            opt.zero_grad()
            ((p - _t(target)) ** 2).sum().backward()
            opt.step()
            out.append(p.detach().numpy().copy())
        return {"params": np.array(out)}
    return run


def kl_rel_entr(inputs: Callable) -> Callable[[], dict]:
    def run():
        from scipy.special import rel_entr

        p, q = inputs()
        return {"kl": rel_entr(p, q).sum(axis=-1)}
    return run


def attention_scale_2() -> dict:
    import mpmath

    with mpmath.workdps(30):
        return {"scale": float(1 / mpmath.sqrt(2))}


def relu_chain(depth: int, starts) -> Callable[[], dict]:
    def run():
        import torch

        out = {}
        for name, x0 in starts.items():
            x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
            h = x
            for _ in range(depth):
                h = torch.relu(h)
            h.backward()
            out[name] = float(x.grad)
        return out
    return run


def study_days(n: int) -> Callable[[], dict]:
    return lambda: {"days": list(range(1, n + 1)), "count": n}


__all__ = sorted(
    name for name, obj in list(globals().items())
    if callable(obj) and not name.startswith("_") and getattr(obj, "__module__", None) == __name__
)
