"""Looking inside a trained GPT: every head's attention matrix, and its spectrum.

:func:`attention_forward` runs the model's own forward pass with
``need_weights=True``: every :class:`llmmath.nn.CausalSelfAttention` hands
back its weights, (B, nh, T, T) per block. :func:`inspect_prompt` runs it on
a float64 copy of the model (the weights then carry no float32 rounding) and
reports how far that copy's logits are from the model's own.

**What the spectrum of a causal attention matrix says.** Each head's matrix
``A`` (T x T) is row-stochastic: row ``i`` is how position ``i`` spreads its
attention over positions ``0..i``. Read as a Markov chain, a walker at
position ``i`` jumps to ``j`` with probability ``A[i, j]``. Because of the
causal mask the chain can only move left, and position 0 can only attend to
itself (row 0 is ``e_0``): every walk ends at position 0, so the stationary
distribution is ``(1, 0, ..., 0)`` for every head of every model, whatever it
learned. It carries no information here. ``A`` is lower-triangular, so its
eigenvalues are its diagonal entries ``A[i, i]``: the spectral gap
``1 - max_{i >= 1} A[i, i]`` is small exactly when some position (other than
the first) attends almost only to itself. The column means of ``A`` (how much
attention each position receives on average) and the row entropies (how
spread each query's attention is) describe a head better; both are reported.

References
----------
.. [1] J. Vig and Y. Belinkov, "Analyzing the Structure of Attention in a
   Transformer Language Model", BlackboxNLP 2019 (attention per head and layer).
.. [2] D. A. Levin and Y. Peres, *Markov Chains and Mixing Times*, 2nd ed.,
   AMS 2017, chapters 1 and 12 (stationary distributions, spectral gap).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llmmath.attention import spectral_gap, stationary_distribution
from llmmath.autograd import no_grad
from llmmath.checkpoint import atomic_write_bytes
from llmmath.errors import InvalidValueError, ShapeError
from llmmath.info import entropy
from llmmath.nn import GPT

__all__ = ["attention_forward", "HeadStats", "head_statistics", "AttentionInspection",
           "inspect_prompt", "plot_attention"]


def attention_forward(model: Any, idx: Any) -> tuple[np.ndarray, np.ndarray]:
    """The GPT's own forward pass in eval mode, keeping every head's attention weights.

    Parameters
    ----------
    model : llmmath.nn.GPT
    idx : array_like of int, shape (B, T), T <= block_size

    Returns
    -------
    logits : ndarray, shape (B, T, V)
    weights : ndarray, shape (B, n_layer, n_head, T, T)
        Row-stochastic, lower-triangular; in the model's dtype.

    Examples
    --------
    >>> from llmmath.nn import GPT, GPTConfig
    >>> m = GPT(GPTConfig(block_size=8, vocab_size=5, n_layer=2, n_head=2, n_embd=8), rng=0)
    >>> logits, w = attention_forward(m, [[1, 2, 3]])
    >>> logits.shape, w.shape
    ((1, 3, 5), (1, 2, 2, 3, 3))
    >>> print(w[0, 0, 0, 0])                 # position 0 can only attend to itself
    [1. 0. 0.]
    """
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            logits, _, weights = model(idx, need_weights=True)
    finally:
        model.train(was_training)
    return logits.data, weights


def _float64_copy(model: Any) -> Any:
    """The same GPT with float64 parameters (the model itself if it is float64 already)."""
    if model.lm_head.weight.dtype == np.float64:
        return model
    twin = GPT(model.config, dtype=np.float64, rng=0)
    twin.load_state_dict(model.state_dict())
    return twin


@dataclass(frozen=True, eq=False)
class HeadStats:
    """Summary of one head's attention matrix A (T x T) on a prompt."""

    layer: int
    head: int
    stationary: np.ndarray     # pi with pi A = pi (e_0 for every causal matrix)
    spectral_gap: float        # 1 - |lambda_2|; for causal A, 1 - max_{i>=1} A[i, i]
    lambda2: float             # |lambda_2|
    mean_entropy: float        # mean over rows of the row entropy, nats
    received: np.ndarray       # column means: attention each position receives on average


def head_statistics(weights: Any) -> list[HeadStats]:
    """Stationary distribution, spectral gap, row entropy and received attention of each head.

    Parameters
    ----------
    weights : array_like, shape (n_layer, n_head, T, T)
        Row-stochastic matrices (one prompt).

    Returns
    -------
    list of HeadStats, layer by layer, head by head

    Examples
    --------
    >>> A = np.array([[[[1.0, 0.0], [0.25, 0.75]]]])
    >>> s = head_statistics(A)[0]
    >>> s.stationary.tolist(), round(s.spectral_gap, 4), s.received.tolist()
    ([1.0, 0.0], 0.25, [0.625, 0.375])
    """
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 4 or w.shape[-1] != w.shape[-2]:
        raise ShapeError(f"head_statistics: 'weights' must have shape (n_layer, n_head, T, T); "
                         f"got {w.shape}.")
    pi = stationary_distribution(w)                     # (L, nh, T)
    gap = np.asarray(spectral_gap(w), dtype=np.float64).reshape(w.shape[:2])
    ent = entropy(w).mean(axis=-1)                      # (L, nh)
    recv = w.mean(axis=-2)                              # (L, nh, T)
    return [HeadStats(layer, head, pi[layer, head], float(gap[layer, head]),
                      1.0 - float(gap[layer, head]), float(ent[layer, head]), recv[layer, head])
            for layer in range(w.shape[0]) for head in range(w.shape[1])]


@dataclass(frozen=True, eq=False)
class AttentionInspection:
    """What :func:`inspect_prompt` returns."""

    tokens: list[str]          # the prompt's tokens as text
    ids: np.ndarray            # (T,)
    weights: np.ndarray        # (n_layer, n_head, T, T)
    heads: list[HeadStats]
    max_logit_error: float     # max |float64 copy's logits - the model's own logits|


def inspect_prompt(model: Any, prompt: str) -> AttentionInspection:
    """Attention maps and their statistics for ``prompt`` under a checkpoint.

    The prompt is cut to its last ``block_size`` tokens. The weights come from
    a float64 copy of the model; ``max_logit_error`` says how far its logits
    are from the model's own (the rounding of the model's dtype). Raises
    ``InvalidValueError`` for an empty prompt, or if the two disagree beyond
    that rounding.
    """
    from llmmath.train import load_model  # the training package sits above this module

    loaded = load_model(model)
    if not isinstance(prompt, str) or not prompt:
        raise InvalidValueError("attention: argument 'prompt' must be a non-empty str.")
    ids = np.asarray(loaded.tokenizer.encode(prompt), dtype=np.int64)
    ids = ids[-loaded.model.config.block_size:]
    if len(ids) == 0:
        raise InvalidValueError("attention: the prompt encodes to no tokens.")
    ref, _ = attention_forward(loaded.model, ids[None, :])           # (1, T, V), own dtype
    logits, w = attention_forward(_float64_copy(loaded.model), ids[None, :])
    err = float(np.max(np.abs(logits - ref)))
    tol = 1e-3 * max(1.0, float(np.max(np.abs(ref)))) if ref.dtype == np.float32 else 1e-8
    if not err <= tol:
        raise InvalidValueError(f"attention: the float64 copy's logits differ from the model's "
                                f"by {err:.3g} (tolerance {tol:.1g}); the model's "
                                f"{ref.dtype} arithmetic is not to be trusted on this prompt.")
    tokens = [loaded.tokenizer.decode([int(i)]) for i in ids]
    return AttentionInspection(tokens, ids, w[0], head_statistics(w[0]), err)


def _label(tok: str) -> str:
    return {"\n": "\\n", " ": "␣", "\t": "\\t"}.get(tok, tok)


def plot_attention(inspection: AttentionInspection, path: Any, title: str = "") -> Path:
    """A grid of heatmaps (layers down, heads across), each titled with its spectral gap and
    the stationary mass on position 0; written atomically as a PNG (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w = inspection.weights
    L, H, T, _ = w.shape
    fig, axes = plt.subplots(L, H, figsize=(2.6 * H + 0.6, 2.6 * L + 0.6), squeeze=False)
    labels = [_label(t) for t in inspection.tokens]
    for s in inspection.heads:
        ax = axes[s.layer][s.head]
        ax.imshow(w[s.layer, s.head], cmap="viridis", vmin=0.0, vmax=1.0)
        ax.set_title(f"L{s.layer} H{s.head}  gap {s.spectral_gap:.2f}\n"
                     f"π₀ {s.stationary[0]:.2f}  H̄ {s.mean_entropy:.2f} nats", fontsize=8)
        ticks = range(T) if T <= 24 else []
        ax.set_xticks(list(ticks))
        ax.set_yticks(list(ticks))
        if T <= 24:
            ax.set_xticklabels([labels[i] for i in ticks], fontsize=6)
            ax.set_yticklabels([labels[i] for i in ticks], fontsize=6)
    fig.suptitle(title or "attention weights (row: query, column: key)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    atomic_write_bytes(path, lambda f: fig.savefig(f, format="png", dpi=110))
    plt.close(fig)
    return path
