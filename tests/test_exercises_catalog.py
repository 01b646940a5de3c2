"""Every exercise: its reference solution passes, its stub fails, typical mistakes fail with a
message that shows the input, and a correct solution in another style passes.

The mistakes are the ones a learner makes (an unstable softmax, the wrong axis, an
off-by-one mask, Adam without bias correction...). Each is checked to fail for the
right reason: a wrong answer (or an exception) on a shown input, never the stub or
a sandbox problem. The random phase runs few examples here (the edge cases always
run), with fixed seeds, so the file stays fast and deterministic.
"""

from __future__ import annotations

import textwrap

import pytest

from llmmath.exercises import EXERCISES, get_exercise
from llmmath.exercises.checker import check_source
from llmmath.exercises.sandbox import Limits

EXAMPLES = 15          # random cases per check here (the command uses 100)
SEED = 20261203
LIMITS = Limits(call_seconds=20.0, load_seconds=60.0)   # generous: the test machine is shared


def _src(text: str) -> str:
    return "import math\n\nimport numpy as np\n\n" + textwrap.dedent(text).strip() + "\n"


# name -> (wrong solutions as (what is wrong, source), a correct solution in another style)
VARIANTS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "dot_and_norm": ([
        ("no clamp: a zero vector gives 0/0 = nan", """
            def cosine_similarity(a, b):
                return np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
        """),
        ("sums over the first axis", """
            def cosine_similarity(a, b):
                na = np.maximum(np.sqrt(np.sum(a * a, axis=0)), 1e-8)
                nb = np.maximum(np.sqrt(np.sum(b * b, axis=0)), 1e-8)
                return np.sum(a * b, axis=0) / (na * nb)
        """),
        ("normalises only a", """
            def cosine_similarity(a, b):
                return np.sum(a * b, -1) / np.maximum(np.linalg.norm(a, axis=-1), 1e-8)
        """)], """
        def cosine_similarity(a, b):
            a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
            out = np.zeros(a.shape[:-1])
            for idx in np.ndindex(out.shape):
                u, v = a[idx], b[idx]
                dot = sum(x * y for x, y in zip(u, v))
                nu = max(math.sqrt(sum(x * x for x in u)), 1e-8)
                nv = max(math.sqrt(sum(y * y for y in v)), 1e-8)
                out[idx] = dot / (nu * nv)
            return out
    """),
    "matmul_shapes": ([
        ("uses np.dot through getattr (refused at run time)", """
            def matmul(A, B):
                return getattr(np, "d" + "ot")(A, B)
        """),
        ("the inner loop indexes B[j, p] (transposed)", """
            def matmul(A, B):
                m, k = A.shape
                n = B.shape[1]
                C = np.zeros((m, n))
                for i in range(m):
                    for j in range(n):
                        for p in range(k):
                            C[i, j] += A[i, p] * B[j, p]
                return C
        """),
        ("overwrites instead of accumulating", """
            def matmul(A, B):
                m, k = A.shape
                n = B.shape[1]
                C = np.zeros((m, n))
                for i in range(m):
                    for j in range(n):
                        for p in range(k):
                            C[i, j] = A[i, p] * B[p, j]
                return C
        """)], """
        def matmul(A, B):
            m, k = A.shape
            n = B.shape[1]
            C = np.zeros((m, n))
            for i in range(m):
                for j in range(n):
                    total = 0.0
                    for p in range(k):
                        total += float(A[i, p]) * float(B[p, j])
                    C[i, j] = total
            return C
    """),
    "sinusoidal_positions": ([
        ("sines in the first half, cosines in the second", """
            def sinusoidal_positions(T, d_model):
                half = (d_model + 1) // 2
                freq = 1 / 10000 ** (2 * np.arange(half) / d_model)
                ang = np.arange(T)[:, None] * freq
                return np.concatenate([np.sin(ang), np.cos(ang)], axis=1)[:, :d_model]
        """),
        ("exponent i / d instead of 2i / d", """
            def sinusoidal_positions(T, d_model):
                i = np.arange(d_model) // 2
                ang = np.arange(T)[:, None] / 10000 ** (i / d_model)
                return np.where(np.arange(d_model) % 2 == 0, np.sin(ang), np.cos(ang))
        """)], """
        def sinusoidal_positions(T, d_model):
            pe = np.zeros((T, d_model))
            for pos in range(T):
                for j in range(d_model):
                    w = 1.0 / 10000.0 ** (2 * (j // 2) / d_model)
                    pe[pos, j] = math.sin(pos * w) if j % 2 == 0 else math.cos(pos * w)
            return pe
    """),
    "causal_mask": ([
        ("the upper triangle (attends to the future)", """
            def causal_mask(T):
                return np.triu(np.ones((T, T), dtype=bool))
        """),
        ("off by one: the diagonal is excluded", """
            def causal_mask(T):
                return np.tril(np.ones((T, T), dtype=bool), k=-1)
        """),
        ("float ones and zeros instead of booleans", """
            def causal_mask(T):
                return np.tril(np.ones((T, T)))
        """)], """
        def causal_mask(T):
            return np.array([[j <= i for j in range(T)] for i in range(T)], dtype=bool)
    """),
    "attention": ([
        ("scales by 1/d instead of 1/sqrt(d)", """
            def scaled_dot_product_attention(q, k, v, mask=None):
                s = q @ np.swapaxes(k, -1, -2) / q.shape[-1]
                if mask is not None:
                    s = np.where(mask, s, -np.inf)
                w = np.exp(s - s.max(-1, keepdims=True))
                return (w / w.sum(-1, keepdims=True)) @ v
        """),
        ("softmax over the queries (axis -2)", """
            def scaled_dot_product_attention(q, k, v, mask=None):
                s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
                if mask is not None:
                    s = np.where(mask, s, -np.inf)
                w = np.exp(s - s.max(-2, keepdims=True))
                return (w / w.sum(-2, keepdims=True)) @ v
        """),
        ("no max shift: exp overflows", """
            def scaled_dot_product_attention(q, k, v, mask=None):
                s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
                w = np.exp(s)
                if mask is not None:
                    w = np.where(mask, w, 0.0)
                return (w / w.sum(-1, keepdims=True)) @ v
        """)], """
        def scaled_dot_product_attention(q, k, v, mask=None):
            from scipy.special import softmax
            s = np.einsum("...qd,...kd->...qk", q, k) / math.sqrt(q.shape[-1])
            if mask is not None:
                s = np.where(mask, s, -np.inf)
            return np.einsum("...qk,...kv->...qv", softmax(s, axis=-1), v)
    """),
    "stationary_distribution": ([
        ("the right eigenvector (A p)", """
            def stationary_distribution(A):
                p = np.full(len(A), 1 / len(A))
                for _ in range(10000):
                    p = A @ p
                return p / p.sum()
        """),
        ("a fixed 10 iterations", """
            def stationary_distribution(A):
                p = np.full(len(A), 1 / len(A))
                for _ in range(10):
                    p = p @ A
                return p
        """)], """
        def stationary_distribution(A):
            w, vecs = np.linalg.eig(np.asarray(A).T)
            v = np.real(vecs[:, np.argmin(np.abs(w - 1))])
            return np.abs(v) / np.abs(v).sum()
    """),
    "low_rank": ([
        ("keeps the smallest singular values", """
            def low_rank_approx(M, rank):
                U, s, Vt = np.linalg.svd(M, full_matrices=False)
                k = len(s)
                Mr = (U[:, k - rank:] * s[k - rank:]) @ Vt[k - rank:] if rank else np.zeros_like(M)
                t = np.sum(s**2)
                return Mr, 0.0 if t == 0 else np.sqrt(np.sum(s[:k - rank]**2) / t)
        """),
        ("the error from singular values, not their squares", """
            def low_rank_approx(M, rank):
                U, s, Vt = np.linalg.svd(M, full_matrices=False)
                t = np.sum(s)
                return (U[:, :rank] * s[:rank]) @ Vt[:rank], 0.0 if t == 0 else np.sum(s[rank:]) / t
        """),
        ("the absolute error, not the relative one", """
            def low_rank_approx(M, rank):
                U, s, Vt = np.linalg.svd(M, full_matrices=False)
                Mr = (U[:, :rank] * s[:rank]) @ Vt[:rank]
                return Mr, np.linalg.norm(M - Mr)
        """)], """
        def low_rank_approx(M, rank):
            U, s, Vt = np.linalg.svd(np.asarray(M, float), full_matrices=False)
            Mr = np.zeros(np.shape(M))
            for i in range(rank):
                Mr += s[i] * np.outer(U[:, i], Vt[i])
            total = np.linalg.norm(M)
            return Mr, 0.0 if total == 0 else np.linalg.norm(M - Mr) / total
    """),
    "numerical_gradient": ([
        ("a one-sided (forward) difference", """
            def numerical_gradient(f, x, eps=1e-6):
                x = np.array(x, dtype=float)
                g = np.zeros_like(x)
                for i in np.ndindex(x.shape):
                    xp = x.copy(); xp[i] += eps
                    g[i] = (f(xp) - f(x)) / eps
                return g
        """),
        ("divides by eps instead of 2 eps", """
            def numerical_gradient(f, x, eps=1e-6):
                x = np.array(x, dtype=float)
                g = np.zeros_like(x)
                for i in np.ndindex(x.shape):
                    xp = x.copy(); xp[i] += eps
                    xm = x.copy(); xm[i] -= eps
                    g[i] = (f(xp) - f(xm)) / eps
                return g
        """),
        ("moves the caller's x and does not put it back", """
            def numerical_gradient(f, x, eps=1e-6):
                g = np.zeros(x.shape)
                for i in np.ndindex(x.shape):
                    x[i] += eps
                    fp = f(np.array(x, dtype=float))
                    x[i] -= 2 * eps
                    g[i] = (fp - f(np.array(x, dtype=float))) / (2 * eps)
                return g
        """)], """
        def numerical_gradient(f, x, eps=1e-6):
            x = np.asarray(x, dtype=np.float64)
            flat = x.ravel()
            out = []
            for i in range(flat.size):
                e = np.zeros(flat.size)
                e[i] = eps
                out.append((f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape)))
                           / (2 * eps))
            return np.array(out).reshape(x.shape)
    """),
    "value_tanh": ([
        ("tanh from exponentials: nan at x = 1000", """
            def tanh_forward_backward(x, grad_out=1.0):
                e, f = np.exp(x), np.exp(-x)
                t = float((e - f) / (e + f))
                return t, grad_out * (1 - t * t)
        """),
        ("the local derivative 1 - x^2 (the input, not the output)", """
            def tanh_forward_backward(x, grad_out=1.0):
                return math.tanh(x), grad_out * (1 - x * x)
        """),
        ("ignores grad_out", """
            def tanh_forward_backward(x, grad_out=1.0):
                t = math.tanh(x)
                return t, 1 - t * t
        """)], """
        def tanh_forward_backward(x, grad_out=1.0):
            s = 1.0 / (1.0 + math.exp(-2 * x)) if x >= 0 else math.exp(2 * x) / (1.0 + math.exp(2 * x))
            t = 2 * s - 1
            return t, grad_out * (1 - t) * (1 + t)
    """),
    "mlp_backward": ([
        ("the loss is a sum: no 1/N", """
            def mlp_backward(x, W1, b1, W2, b2, targets):
                n = len(x); h = np.tanh(x @ W1 + b1); z = h @ W2 + b2
                z = z - z.max(1, keepdims=True); p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
                loss = -np.log(p[np.arange(n), targets]).mean()
                d = p.copy(); d[np.arange(n), targets] -= 1
                dz1 = (d @ W2.T) * (1 - h**2)
                return loss, x.T @ dz1, dz1.sum(0), h.T @ d, d.sum(0)
        """),
        ("tanh's derivative taken as 1 - h", """
            def mlp_backward(x, W1, b1, W2, b2, targets):
                n = len(x); h = np.tanh(x @ W1 + b1); z = h @ W2 + b2
                z = z - z.max(1, keepdims=True); p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
                loss = -np.log(p[np.arange(n), targets]).mean()
                d = p.copy(); d[np.arange(n), targets] -= 1; d /= n
                dz1 = (d @ W2.T) * (1 - h)
                return loss, x.T @ dz1, dz1.sum(0), h.T @ d, d.sum(0)
        """)], """
        def mlp_backward(x, W1, b1, W2, b2, targets):
            n = len(x)
            grads = [np.zeros_like(W1, dtype=float), np.zeros_like(b1, dtype=float),
                     np.zeros_like(W2, dtype=float), np.zeros_like(b2, dtype=float)]
            loss = 0.0
            for xi, yi in zip(x.astype(float), targets):
                h = np.tanh(xi @ W1 + b1)
                z = h @ W2 + b2
                lse = z.max() + math.log(np.exp(z - z.max()).sum())
                loss += (lse - z[yi]) / n
                dz = np.exp(z - lse)
                dz[yi] -= 1
                dz /= n
                grads[2] += np.outer(h, dz)
                grads[3] += dz
                da = (W2 @ dz) * (1 - h * h)
                grads[0] += np.outer(xi, da)
                grads[1] += da
            return (loss, *grads)
    """),
    "softmax_jacobian": ([
        ("forgets the diagonal: -s s^T only", """
            def softmax_jacobian(z):
                s = np.exp(z - z.max()); s = s / s.sum()
                return -np.outer(s, s)
        """),
        ("an unstable softmax: nan at 1e4", """
            def softmax_jacobian(z):
                s = np.exp(z) / np.exp(z).sum()
                return np.diag(s) - np.outer(s, s)
        """)], """
        def softmax_jacobian(z):
            from scipy.special import softmax
            s = softmax(z)
            K = len(s)
            return np.array([[s[i] * ((i == j) - s[j]) for j in range(K)] for i in range(K)])
    """),
    "ce_softmax_grad": ([
        ("the sign is flipped: y - p", """
            def softmax_cross_entropy_grad(logits, target):
                e = np.exp(logits - logits.max(-1, keepdims=True)); p = e / e.sum(-1, keepdims=True)
                return np.eye(logits.shape[-1])[target] - p
        """),
        ("divides by the batch size (the mean, not the sum)", """
            def softmax_cross_entropy_grad(logits, target):
                e = np.exp(logits - logits.max(-1, keepdims=True)); p = e / e.sum(-1, keepdims=True)
                n = max(1, int(np.prod(logits.shape[:-1])))
                return (p - np.eye(logits.shape[-1])[target]) / n
        """),
        ("an unstable softmax", """
            def softmax_cross_entropy_grad(logits, target):
                p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
                return p - np.eye(logits.shape[-1])[target]
        """)], """
        def softmax_cross_entropy_grad(logits, target):
            from scipy.special import softmax
            g = softmax(np.asarray(logits, dtype=float), axis=-1)
            t = np.asarray(target)[..., None]
            np.put_along_axis(g, t, np.take_along_axis(g, t, -1) - 1.0, axis=-1)
            return g
    """),
    "log_softmax": ([
        ("log of the softmax: -inf where the probability underflows", """
            def log_softmax(x, axis=-1):
                e = np.exp(x - x.max(axis=axis, keepdims=True))
                return np.log(e / e.sum(axis=axis, keepdims=True))
        """),
        ("no max shift: overflows at 1e4", """
            def log_softmax(x, axis=-1):
                return x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))
        """),
        ("always the last axis", """
            def log_softmax(x, axis=-1):
                z = x - x.max(-1, keepdims=True)
                return z - np.log(np.exp(z).sum(-1, keepdims=True))
        """)], """
        def log_softmax(x, axis=-1):
            from scipy.special import logsumexp
            return x - logsumexp(x, axis=axis, keepdims=True)
    """),
    "logsumexp": ([
        ("naive: log(sum(exp(x))) overflows", """
            def logsumexp(x, axis=-1):
                return np.log(np.sum(np.exp(x), axis=axis))
        """),
        ("a slice of only -inf gives nan (-inf - -inf)", """
            def logsumexp(x, axis=-1):
                m = np.max(x, axis=axis, keepdims=True)
                return np.log(np.sum(np.exp(x - m), axis=axis)) + np.squeeze(m, axis=axis)
        """),
        ("forgets to add the maximum back", """
            def logsumexp(x, axis=-1):
                m = np.max(x, axis=axis, keepdims=True)
                m = np.where(np.isfinite(m), m, 0)
                return np.log(np.sum(np.exp(x - m), axis=axis))
        """)], """
        def logsumexp(x, axis=-1):
            import scipy.special
            return scipy.special.logsumexp(x, axis=axis)
    """),
    "gelu": ([
        ("the tanh approximation", """
            def gelu(x):
                return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
        """),
        ("erf(x) without the sqrt(2)", """
            def gelu(x):
                from scipy.special import erf
                return x * 0.5 * (1 + erf(x))
        """)], """
        def gelu(x):
            from scipy.special import ndtr
            return x * ndtr(x)
    """),
    "layer_norm": ([
        ("the variance outside the square root", """
            def layer_norm(x, gamma, beta, eps=1e-5):
                mu = x.mean(-1, keepdims=True)
                return gamma * (x - mu) / (x.std(-1, keepdims=True) + eps) + beta
        """),
        ("the unbiased variance (ddof=1)", """
            def layer_norm(x, gamma, beta, eps=1e-5):
                mu = x.mean(-1, keepdims=True)
                var = x.var(-1, ddof=1, keepdims=True) if x.shape[-1] > 1 else np.zeros_like(mu)
                return gamma * (x - mu) / np.sqrt(var + eps) + beta
        """),
        ("E[x^2] - E[x]^2: cancels for values near 1e8", """
            def layer_norm(x, gamma, beta, eps=1e-5):
                mu = x.mean(-1, keepdims=True)
                var = np.maximum((x * x).mean(-1, keepdims=True) - mu * mu, 0)
                return gamma * (x - mu) / np.sqrt(var + eps) + beta
        """)], """
        def layer_norm(x, gamma, beta, eps=1e-5):
            x = np.asarray(x, dtype=float)
            out = np.empty_like(x)
            for idx in np.ndindex(x.shape[:-1]):
                row = x[idx]
                mu = sum(row) / len(row)
                var = sum((r - mu) ** 2 for r in row) / len(row)
                out[idx] = gamma * (row - mu) / math.sqrt(var + eps) + beta
            return out
    """),
    "layer_norm_backward": ([
        ("dgamma and dbeta not summed over the batch", """
            def layer_norm_backward(x, gamma, dy, eps=1e-5):
                mu = x.mean(-1, keepdims=True); s = np.sqrt(x.var(-1, keepdims=True) + eps)
                xh = (x - mu) / s; g = dy * gamma
                dx = (g - g.mean(-1, keepdims=True) - xh * (g * xh).mean(-1, keepdims=True)) / s
                return dx, dy * xh, dy
        """),
        ("drops the path through the variance", """
            def layer_norm_backward(x, gamma, dy, eps=1e-5):
                d = x.shape[-1]
                mu = x.mean(-1, keepdims=True); s = np.sqrt(x.var(-1, keepdims=True) + eps)
                xh = (x - mu) / s; g = dy * gamma
                dx = (g - g.mean(-1, keepdims=True)) / s
                return dx, (dy * xh).reshape(-1, d).sum(0), dy.reshape(-1, d).sum(0)
        """),
        ("gamma left out of the means (dy instead of dy * gamma)", """
            def layer_norm_backward(x, gamma, dy, eps=1e-5):
                d = x.shape[-1]
                mu = x.mean(-1, keepdims=True); s = np.sqrt(x.var(-1, keepdims=True) + eps)
                xh = (x - mu) / s
                dx = gamma * (dy - dy.mean(-1, keepdims=True) - xh * (dy * xh).mean(-1, keepdims=True)) / s
                return dx, (dy * xh).reshape(-1, d).sum(0), dy.reshape(-1, d).sum(0)
        """)], """
        def layer_norm_backward(x, gamma, dy, eps=1e-5):
            x = np.asarray(x, float); d = x.shape[-1]
            dx = np.empty_like(x)
            for idx in np.ndindex(x.shape[:-1]):
                r = x[idx]; mu = r.mean(); var = ((r - mu) ** 2).mean(); s = math.sqrt(var + eps)
                # the Jacobian of x_hat with respect to x, row by row
                J = (np.eye(d) - 1.0 / d) / s - np.outer(r - mu, r - mu) / (d * s**3)
                dx[idx] = (dy[idx] * gamma) @ J
            xh = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps)
            return dx, (dy * xh).reshape(-1, d).sum(0), dy.reshape(-1, d).sum(0)
    """),
    "mean_and_variance": ([
        ("E[X^2] - E[X]^2: cancels for values near 1e8", """
            def mean_and_variance(values, probs):
                m = np.sum(probs * values)
                return m, np.sum(probs * values**2) - m**2
        """),
        ("the unweighted mean", """
            def mean_and_variance(values, probs):
                m = np.mean(values)
                return m, np.sum(probs * (values - m) ** 2)
        """)], """
        def mean_and_variance(values, probs):
            m = 0.0
            for v, p in zip(values, probs):
                m += p * v
            var = 0.0
            for v, p in zip(values, probs):
                var += p * (v - m) ** 2
            return m, var
    """),
    "cross_entropy": ([
        ("log of an unstable softmax: inf at 1e4", """
            def cross_entropy(logits, targets):
                p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
                return float(-np.mean(np.log(p[np.arange(len(targets)), targets])))
        """),
        ("a sum over rows, not a mean", """
            def cross_entropy(logits, targets):
                m = logits.max(1, keepdims=True)
                lse = m[:, 0] + np.log(np.exp(logits - m).sum(1))
                return float(np.sum(lse - logits[np.arange(len(targets)), targets]))
        """),
        ("logits[:, targets]: an (N, N) block instead of one entry per row", """
            def cross_entropy(logits, targets):
                m = logits.max(1, keepdims=True)
                lse = m[:, 0] + np.log(np.exp(logits - m).sum(1))
                return float(np.mean(lse[:, None] - logits[:, targets]))
        """)], """
        def cross_entropy(logits, targets):
            from scipy.special import log_softmax
            lp = log_softmax(np.asarray(logits, dtype=np.float64), axis=1)
            return float(-sum(lp[i, t] for i, t in enumerate(targets)) / len(targets))
    """),
    "bigram_counts": ([
        ("transposed: C[next, current]", """
            def bigram_counts(tokens, vocab_size):
                C = np.zeros((vocab_size, vocab_size), dtype=int)
                for a, b in zip(tokens[:-1], tokens[1:]):
                    C[b, a] += 1
                return C
        """),
        ("wraps around from the last token to the first", """
            def bigram_counts(tokens, vocab_size):
                C = np.zeros((vocab_size, vocab_size), dtype=int)
                for a, b in zip(tokens, np.roll(tokens, -1)):
                    C[a, b] += 1
                return C
        """),
        ("fancy-index += counts a repeated pair once", """
            def bigram_counts(tokens, vocab_size):
                C = np.zeros((vocab_size, vocab_size), dtype=int)
                C[tokens[:-1], tokens[1:]] += 1
                return C
        """)], """
        def bigram_counts(tokens, vocab_size):
            V = vocab_size
            t = np.asarray(tokens, dtype=np.int64)
            return np.bincount(t[:-1] * V + t[1:], minlength=V * V).reshape(V, V)
    """),
    "bayes_posterior": ([
        ("not normalised: prior times likelihood", """
            def bayes_posterior(prior, likelihood):
                return prior * likelihood
        """),
        ("normalises without rescaling: 0/0 for subnormal likelihoods", """
            def bayes_posterior(prior, likelihood):
                w = prior * likelihood
                return w / w.sum()
        """)], """
        def bayes_posterior(prior, likelihood):
            from scipy.special import softmax
            with np.errstate(divide="ignore"):
                logw = np.log(prior) + np.log(likelihood)
            return softmax(logw)
    """),
    "stable_softmax": ([
        ("unstable: exp overflows", """
            def softmax(x, axis=-1):
                e = np.exp(x)
                return e / e.sum(axis=axis, keepdims=True)
        """),
        ("softmax over the wrong axis (always the last)", """
            def softmax(x, axis=-1):
                e = np.exp(x - x.max(axis=-1, keepdims=True))
                return e / e.sum(axis=-1, keepdims=True)
        """),
        ("one shift for the whole array (x.max()): a far row underflows to 0/0", """
            def softmax(x, axis=-1):
                e = np.exp(x - np.max(x))
                return e / e.sum(axis=axis, keepdims=True)
        """),
        ("shifts x in place", """
            def softmax(x, axis=-1):
                x -= x.max(axis=axis, keepdims=True)
                e = np.exp(x)
                return e / e.sum(axis=axis, keepdims=True)
        """)], """
        def softmax(x, axis=-1):
            import scipy.special
            return scipy.special.softmax(x, axis=axis)
    """),
    "top_k": ([
        ("argsort keeps exactly k: ties with the k-th are dropped", """
            def filter_top_k(logits, k):
                out = np.full_like(logits, -np.inf)
                idx = np.argsort(-logits, axis=-1, kind="stable")[..., :k]
                np.put_along_axis(out, idx, np.take_along_axis(logits, idx, -1), -1)
                return out
        """),
        ("off by one: keeps k + 1", """
            def filter_top_k(logits, k):
                k = min(k + 1, logits.shape[-1])
                kth = np.sort(logits, axis=-1)[..., -k, None]
                return np.where(logits < kth, -np.inf, logits)
        """),
        ("filters in place", """
            def filter_top_k(logits, k):
                k = min(k, logits.shape[-1])
                kth = np.sort(logits, axis=-1)[..., -k, None]
                logits[logits < kth] = -np.inf
                return logits
        """)], """
        def filter_top_k(logits, k):
            out = np.array(logits, copy=True)
            V = out.shape[-1]
            for row in out.reshape(-1, V):
                if k < V:
                    kth = np.partition(row, V - k)[V - k]
                    row[row < kth] = -np.inf
            return out
    """),
    "top_p": ([
        ("cumsum <= p: drops the token that crosses p", """
            def filter_top_p(logits, p):
                out = np.array(logits, copy=True)
                for row in out.reshape(-1, out.shape[-1]):
                    e = np.exp(row - row.max()); pr = e / e.sum()
                    order = np.argsort(-pr)
                    keep = order[np.cumsum(pr[order]) <= p]
                    mask = np.ones(row.shape, bool); mask[keep] = False; mask[order[0]] = False
                    row[mask] = -np.inf
                return out
        """),
        ("no sorting: cumulative mass in vocabulary order", """
            def filter_top_p(logits, p):
                out = np.array(logits, copy=True)
                for row in out.reshape(-1, out.shape[-1]):
                    e = np.exp(row - row.max()); pr = e / e.sum()
                    above = np.cumsum(pr) - pr
                    row[above >= p] = -np.inf
                return out
        """)], """
        def filter_top_p(logits, p):
            logits = np.asarray(logits)
            out = np.array(logits, copy=True)
            if p >= 1:
                return out
            for idx in np.ndindex(logits.shape[:-1]):
                row = logits[idx]
                pr = np.exp(row - row.max()); pr = pr / pr.sum()
                total, kept = 0.0, []
                for j in sorted(range(len(row)), key=lambda j: -pr[j]):
                    if total < p or not kept:
                        kept.append(row[j])
                    total += pr[j]
                out[idx] = np.where(row >= min(kept), row, -np.inf)
            return out
    """),
    "entropy": ([
        ("0 log 0 gives nan", """
            def entropy(p):
                return -np.sum(p * np.log(p), axis=-1)
        """),
        ("in bits (log2)", """
            def entropy(p):
                return -np.sum(p * np.log2(np.where(p > 0, p, 1)), axis=-1)
        """)], """
        def entropy(p):
            from scipy.special import entr
            return np.sum(entr(p), axis=-1)
    """),
    "kl_divergence": ([
        ("0 log(0 / q) gives nan", """
            def kl_divergence(p, q):
                return np.sum(p * np.log(p / q), axis=-1)
        """),
        ("the arguments swapped", """
            def kl_divergence(p, q):
                t = np.where(q > 0, q * np.log(np.where(q > 0, q, 1) / np.where(p > 0, p, 1)), 0)
                return np.sum(np.where((q > 0) & (p == 0), np.inf, t), axis=-1)
        """)], """
        def kl_divergence(p, q):
            from scipy.special import rel_entr
            return np.sum(rel_entr(p, q), axis=-1)
    """),
    "perplexity": ([
        ("exp of the sum, not the mean", """
            def perplexity(nll):
                with np.errstate(over="ignore"):
                    return float(np.exp(np.sum(nll)))
        """),
        ("2 ** mean (bits) for losses in nats", """
            def perplexity(nll):
                return float(2.0 ** np.mean(nll))
        """),
        ("the mean of exp (Jensen's inequality: too large)", """
            def perplexity(nll):
                with np.errstate(over="ignore"):
                    return float(np.mean(np.exp(nll)))
        """)], """
        def perplexity(nll):
            flat = [float(v) for v in np.ravel(nll)]
            mean = sum(flat) / len(flat)
            return math.inf if mean > 709 else math.exp(mean)
    """),
    "adam_step": ([
        ("no bias correction", """
            def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                m = beta1 * m + (1 - beta1) * grad
                v = beta2 * v + (1 - beta2) * grad**2
                return param - lr * m / (np.sqrt(v) + eps), m, v
        """),
        ("eps inside the square root", """
            def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                m = beta1 * m + (1 - beta1) * grad
                v = beta2 * v + (1 - beta2) * grad**2
                mh, vh = m / (1 - beta1**t), v / (1 - beta2**t)
                return param - lr * mh / np.sqrt(vh + eps), m, v
        """),
        ("t counted from 0 (1 - beta^(t - 1))", """
            def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
                m = beta1 * m + (1 - beta1) * grad
                v = beta2 * v + (1 - beta2) * grad**2
                with np.errstate(all="ignore"):
                    mh, vh = m / (1 - beta1**(t - 1)), v / (1 - beta2**(t - 1))
                    return param - lr * mh / (np.sqrt(vh) + eps), m, v
        """)], """
        def adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
            # Kingma and Ba's efficient form: fold both corrections into the step size
            m = beta1 * m + (1 - beta1) * grad
            v = beta2 * v + (1 - beta2) * grad * grad
            c2 = math.sqrt(1 - beta2**t)
            step = lr * c2 / (1 - beta1**t)
            return param - step * m / (np.sqrt(v) + eps * c2), m, v
    """),
    "clip_grad_norm": ([
        ("clips each array by its own norm", """
            def clip_grad_norm(grads, max_norm):
                out = [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]
                return out, float(np.sqrt(sum(np.sum(g * g) for g in grads)))
        """),
        ("scales up too: the factor max_norm / norm without the min", """
            def clip_grad_norm(grads, max_norm):
                n = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
                return [g * (max_norm / (n + 1e-6)) for g in grads], n
        """),
        ("returns the norm after clipping", """
            def clip_grad_norm(grads, max_norm):
                n = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
                c = min(1.0, max_norm / (n + 1e-6))
                return [g * c for g in grads], n * c
        """)], """
        def clip_grad_norm(grads, max_norm):
            flat = np.concatenate([np.ravel(g) for g in grads])
            total = float(np.linalg.norm(flat))
            c = np.clip(max_norm / (total + 1e-6), None, 1.0)
            sizes = np.cumsum([np.size(g) for g in grads])[:-1]
            pieces = np.split(flat * c, sizes)
            return [p.reshape(np.shape(g)) for p, g in zip(pieces, grads)], total
    """),
    "cosine_schedule": ([
        ("warm-up t / w (off by one)", """
            def cosine_schedule(step, max_lr, min_lr, warmup_steps, decay_steps):
                if step < warmup_steps:
                    return max_lr * step / warmup_steps
                if step > decay_steps:
                    return min_lr
                r = (step - warmup_steps) / (decay_steps - warmup_steps)
                return min_lr + 0.5 * (1 + math.cos(math.pi * r)) * (max_lr - min_lr)
        """),
        ("decays to 0 instead of min_lr", """
            def cosine_schedule(step, max_lr, min_lr, warmup_steps, decay_steps):
                if step < warmup_steps:
                    return max_lr * (step + 1) / (warmup_steps + 1)
                if step > decay_steps:
                    return min_lr
                r = (step - warmup_steps) / (decay_steps - warmup_steps)
                return 0.5 * (1 + math.cos(math.pi * r)) * max_lr
        """),
        ("r = t / d: the warm-up not subtracted", """
            def cosine_schedule(step, max_lr, min_lr, warmup_steps, decay_steps):
                if step < warmup_steps:
                    return max_lr * (step + 1) / (warmup_steps + 1)
                if step > decay_steps:
                    return min_lr
                r = step / decay_steps
                return min_lr + 0.5 * (1 + math.cos(math.pi * r)) * (max_lr - min_lr)
        """)], """
        def cosine_schedule(step, max_lr, min_lr, warmup_steps, decay_steps):
            warm = max_lr * (step + 1) / (warmup_steps + 1)
            r = min(max((step - warmup_steps) / (decay_steps - warmup_steps), 0.0), 1.0)
            cos = min_lr + (max_lr - min_lr) * (math.cos(math.pi * r) + 1) / 2
            return warm if step < warmup_steps else cos
    """),
    "logistic_gradients": ([
        ("the mean gradient, not one row per example", """
            def logistic_gradients(features, labels, weights):
                s = 1 / (1 + np.exp(-(features @ weights)))
                return ((s - labels)[:, None] * features).mean(0)
        """),
        ("the sign flipped: (y - s) x", """
            def logistic_gradients(features, labels, weights):
                s = np.exp(-np.logaddexp(0, -(features @ weights)))
                return (labels - s)[:, None] * features
        """)], """
        def logistic_gradients(features, labels, weights):
            from scipy.special import expit
            return np.array([(expit(x @ weights) - y) * x for x, y in zip(features, labels)])
    """),
    "welch_t": ([
        ("the pooled variance (Student's t)", """
            def welch_t_statistic(a, b):
                na, nb = len(a), len(b)
                sp = ((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / (na + nb - 2)
                return float((np.mean(a) - np.mean(b)) / np.sqrt(sp * (1 / na + 1 / nb)))
        """),
        ("population variances (ddof=0)", """
            def welch_t_statistic(a, b):
                return float((np.mean(a) - np.mean(b)) / np.sqrt(np.var(a) / len(a) + np.var(b) / len(b)))
        """)], """
        def welch_t_statistic(a, b):
            from scipy.stats import ttest_ind
            return float(ttest_ind(a, b, equal_var=False).statistic)
    """),
    "bootstrap_ci": ([
        ("one-sided levels: 5 % and 95 % for a 95 % interval", """
            def bootstrap_percentile_ci(data, n_resamples=1000, confidence=0.95, seed=0):
                idx = np.random.default_rng(seed).integers(0, len(data), size=(n_resamples, len(data)))
                m = data[idx].mean(1)
                return tuple(float(v) for v in np.quantile(m, [1 - confidence, confidence]))
        """),
        ("resamples without replacement (a permutation has the same mean)", """
            def bootstrap_percentile_ci(data, n_resamples=1000, confidence=0.95, seed=0):
                rng = np.random.default_rng(seed)
                m = np.array([rng.permutation(data).mean() for _ in range(n_resamples)])
                a = (1 - confidence) / 2
                return tuple(float(v) for v in np.quantile(m, [a, 1 - a]))
        """),
        ("a normal interval, mean +- 1.96 standard errors", """
            def bootstrap_percentile_ci(data, n_resamples=1000, confidence=0.95, seed=0):
                se = np.std(data, ddof=1) / np.sqrt(len(data))
                return float(np.mean(data) - 1.96 * se), float(np.mean(data) + 1.96 * se)
        """)], """
        def bootstrap_percentile_ci(data, n_resamples=1000, confidence=0.95, seed=0):
            n = len(data)
            idx = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
            means = sorted(sum(data[i] for i in row) / n for row in idx)
            alpha = (1 - confidence) / 2
            return tuple(float(np.percentile(means, 100 * q)) for q in (alpha, 1 - alpha))
    """),
    "linear": ([
        ("x @ W: W used without its transpose", """
            def linear(x, weight, bias=None):
                y = x @ weight if weight.shape[0] == x.shape[-1] else x @ weight.T
                return y if bias is None else y + bias
        """),
        ("ignores the bias", """
            def linear(x, weight, bias=None):
                return x @ weight.T
        """)], """
        def linear(x, weight, bias=None):
            y = np.einsum("...i,oi->...o", x, weight)
            return y + (0.0 if bias is None else bias)
    """),
    "next_token_loss": ([
        ("no shift: each position scored on its own token", """
            def next_token_loss(logits, tokens):
                z = logits.reshape(-1, logits.shape[-1]); y = tokens.reshape(-1)
                m = z.max(1, keepdims=True); lse = m[:, 0] + np.log(np.exp(z - m).sum(1))
                return float(np.mean(lse - z[np.arange(len(y)), y]))
        """),
        ("shifted the wrong way: logits[:, 1:] with tokens[:, :-1]", """
            def next_token_loss(logits, tokens):
                z = logits[:, 1:].reshape(-1, logits.shape[-1]); y = tokens[:, :-1].reshape(-1)
                m = z.max(1, keepdims=True); lse = m[:, 0] + np.log(np.exp(z - m).sum(1))
                return float(np.mean(lse - z[np.arange(len(y)), y]))
        """),
        ("an unstable log-softmax", """
            def next_token_loss(logits, tokens):
                z = logits[:, :-1].reshape(-1, logits.shape[-1]); y = tokens[:, 1:].reshape(-1)
                p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
                return float(-np.mean(np.log(p[np.arange(len(y)), y])))
        """)], """
        def next_token_loss(logits, tokens):
            from scipy.special import log_softmax
            B, T, V = logits.shape
            lp = log_softmax(np.asarray(logits, dtype=np.float64), axis=-1)
            total = sum(lp[b, t, tokens[b, t + 1]] for b in range(B) for t in range(T - 1))
            return float(-total / (B * (T - 1)))
    """),
    "mlp_sgd_step": ([
        ("steps up the gradient (+ instead of -)", """
            def mlp_sgd_step(x, W1, b1, W2, b2, targets, lr):
                n = len(x); h = np.tanh(x @ W1 + b1); z = h @ W2 + b2
                z = z - z.max(1, keepdims=True); p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
                loss = float(-np.log(p[np.arange(n), targets]).mean())
                d = p.copy(); d[np.arange(n), targets] -= 1; d /= n
                dz1 = (d @ W2.T) * (1 - h**2)
                return loss, W1 + lr * (x.T @ dz1), b1 + lr * dz1.sum(0), W2 + lr * (h.T @ d), b2 + lr * d.sum(0)
        """),
        ("forgets to update the biases", """
            def mlp_sgd_step(x, W1, b1, W2, b2, targets, lr):
                n = len(x); h = np.tanh(x @ W1 + b1); z = h @ W2 + b2
                z = z - z.max(1, keepdims=True); p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
                loss = float(-np.log(p[np.arange(n), targets]).mean())
                d = p.copy(); d[np.arange(n), targets] -= 1; d /= n
                dz1 = (d @ W2.T) * (1 - h**2)
                return loss, W1 - lr * (x.T @ dz1), b1, W2 - lr * (h.T @ d), b2
        """)], """
        def mlp_sgd_step(x, W1, b1, W2, b2, targets, lr):
            def loss_of(W1, b1, W2, b2):
                h = np.tanh(x @ W1 + b1)
                z = h @ W2 + b2
                m = z.max(1, keepdims=True)
                lse = m[:, 0] + np.log(np.exp(z - m).sum(1))
                return float(np.mean(lse - z[np.arange(len(x)), targets])), h, z
            loss, h, z = loss_of(W1, b1, W2, b2)
            n = len(x)
            d = np.exp(z - z.max(1, keepdims=True)); d /= d.sum(1, keepdims=True)
            d[np.arange(n), targets] -= 1
            d /= n
            dh = d @ W2.T
            da = dh * (1 - h) * (1 + h)
            new = [W1 - lr * x.T @ da, b1 - lr * da.sum(0), W2 - lr * h.T @ d, b2 - lr * d.sum(0)]
            return (loss, *new)
    """),
}

NAMES = [e.name for e in EXERCISES]
WRONG = [(name, i, what, src) for name, (wrongs, _) in VARIANTS.items()
         for i, (what, src) in enumerate(wrongs)]


def _check(name: str, source: str):
    for _ in range(3):
        result = check_source(name, source, seed=SEED, max_examples=EXAMPLES, limits=LIMITS,
                              record=False)
        # A check is void when a library file changes while it runs. In a working tree that
        # someone is editing, that happens without the learner's code; check again then.
        if not result.failures or result.failures[0].kind != "tampered":
            return result
    return result


def test_exercises_come_in_course_order_and_cover_every_lesson_pillar():
    from llmmath.lessons import LESSONS, get_lesson

    order = [lesson.name for lesson in LESSONS]
    positions = [order.index(e.lesson) for e in EXERCISES]
    assert positions == sorted(positions)
    assert len(set(NAMES)) == len(NAMES) >= 30
    # every pillar of the course (the study path is a plan, not a subject)
    assert {get_lesson(e.lesson).pillar for e in EXERCISES} == {
        lesson.pillar for lesson in LESSONS} - {"study path"}
    assert {e.pillar for e in EXERCISES} >= {"linalg", "attention", "calculus", "prob", "info",
                                             "stats", "ngram", "landscape", "autograd", "optim"}
    assert {e.name for e in EXERCISES if e.capstone} == {"next_token_loss", "mlp_sgd_step"}
    assert {e.lesson for e in EXERCISES if e.capstone} == {"training_loop"}


def test_every_exercise_has_variants():
    assert set(VARIANTS) == set(NAMES)
    for name, (wrongs, _) in VARIANTS.items():
        assert len(wrongs) >= 2, name


@pytest.mark.parametrize("name", NAMES)
def test_reference_solution_passes(name):
    ex = get_exercise(name)
    result = _check(name, ex.solution)
    assert result.passed, result.report()
    assert result.cases >= len(ex.edge_cases()) + 1
    assert result.failures == [] and result.hint is None


@pytest.mark.parametrize("name", NAMES)
def test_untouched_stub_fails_as_a_stub(name):
    result = _check(name, get_exercise(name).stub)
    assert not result.passed
    assert [f.kind for f in result.failures] == ["stub"], result.report()
    assert result.hint == get_exercise(name).hints[0]


@pytest.mark.parametrize("name,index,what,source", WRONG,
                         ids=[f"{n}-{i}" for n, i, _, _ in WRONG])
def test_typical_mistake_fails_and_shows_the_input(name, index, what, source):
    ex = get_exercise(name)
    result = _check(name, _src(source))
    assert not result.passed, f"{name}: the mistake '{what}' passed"
    failure = result.failures[0]
    report = result.report()
    if name == "matmul_shapes" and index == 0:        # refused by the sandbox, on a shown input
        assert failure.kind == "forbidden" and "numpy.dot" in failure.message, report
    else:
        assert failure.kind in ("mismatch", "exception", "mutated", "type"), report
    # the message names the input: every argument of the failing call is shown by name
    assert failure.inputs, report
    assert set(failure.inputs) <= set(ex.parameter_names), report
    for arg in failure.inputs:
        assert f"{arg} = " in report
    if failure.kind == "mismatch":
        assert failure.expected is not None and failure.got is not None and failure.tolerance
    assert "Hint 1 of 3" in report


@pytest.mark.parametrize("name", NAMES)
def test_a_correct_solution_in_another_style_passes(name):
    result = _check(name, _src(VARIANTS[name][1]))
    assert result.passed, result.report()


@pytest.mark.parametrize("name", NAMES)
def test_spec_is_complete(name):
    from llmmath.lessons import get_lesson

    ex = get_exercise(name)
    get_lesson(ex.lesson)                               # a lesson that exists
    assert len(ex.hints) == 3 and all(h.strip() for h in ex.hints)
    assert ex.reference.startswith(("llmmath.", "numpy."))
    assert f"def {ex.signature}:" in ex.stub
    assert ex.edge_cases(), name
    compile(ex.solution, f"{name}.txt", "exec")
    assert "llmmath" not in ex.solution.replace("llmmath exercise", "")
