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
from llmmath.nn import build_model

__all__ = ["attention_forward", "HeadStats", "head_statistics", "AttentionInspection",
           "inspect_prompt", "attention_figure", "plot_attention"]


def attention_forward(model: Any, idx: Any) -> tuple[np.ndarray, np.ndarray]:
    """The GPT's own forward pass in eval mode, keeping every head's attention weights.

    Lesson: none (part of the ``llmmath attention`` command).

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
    """The same model (GPT or Llama) with float64 parameters (itself if float64 already)."""
    if all(p.dtype == np.float64 for p in model.parameters()):
        return model
    twin = build_model(model.config, dtype=np.float64, rng=0)
    twin.load_state_dict(model.state_dict())
    return twin


@dataclass(frozen=True, eq=False)
class HeadStats:
    """Summary of one head's attention matrix A (T x T) on a prompt.

    Lesson: none (part of the ``llmmath attention`` command).
    """

    layer: int
    head: int
    stationary: np.ndarray     # pi with pi A = pi (e_0 for every causal matrix)
    spectral_gap: float        # 1 - |lambda_2|; for causal A, 1 - max_{i>=1} A[i, i]
    lambda2: float             # |lambda_2|
    mean_entropy: float        # mean over rows of the row entropy, nats
    received: np.ndarray       # column means: attention each position receives on average


def head_statistics(weights: Any) -> list[HeadStats]:
    """Stationary distribution, spectral gap, row entropy and received attention of each head.

    Lesson: none (part of the ``llmmath attention`` command).

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
    """What :func:`inspect_prompt` returns.

    Lesson: none (part of the ``llmmath attention`` command).
    """

    tokens: list[str]          # the prompt's tokens as text
    ids: np.ndarray            # (T,)
    weights: np.ndarray        # (n_layer, n_head, T, T)
    heads: list[HeadStats]
    max_logit_error: float     # max |float64 copy's logits - the model's own logits|


def inspect_prompt(model: Any, prompt: str) -> AttentionInspection:
    """Attention maps and their statistics for ``prompt`` under a checkpoint.

    Lesson: none (part of the ``llmmath attention`` command).

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
    """A token as an axis label: whitespace made visible."""
    return {"\n": "\\n", " ": "␣", "\t": "\\t"}.get(tok, tok)


#: At most this many tick labels per axis; a longer prompt labels every k-th token.
MAX_TICK_LABELS = 48


def _ticks(T: int) -> list[int]:
    step = -(-T // MAX_TICK_LABELS)               # ceil(T / MAX_TICK_LABELS)
    return list(range(0, T, step))


def attention_figure(inspection: AttentionInspection, title: str = "") -> Any:
    """The figure :func:`plot_attention` saves (a matplotlib Figure, not shown).

    Lesson: none (part of the ``llmmath attention`` command).

    One heatmap per head, layers down and heads across, both axes labelled with the
    prompt's tokens (query rows, key columns; every k-th token past
    :data:`MAX_TICK_LABELS`), one colour bar for all of them (attention weight, 0 to 1).
    The last column is each layer's spectrum: the moduli of every head's eigenvalues,
    largest first, with the spectral gap ``1 - |lambda_2|`` marked. For a causal matrix
    the eigenvalues are its diagonal, so ``|lambda_1| = 1`` (position 0) and the rest say
    how much each position attends to itself.

    Examples
    --------
    >>> A = np.array([[[[1.0, 0.0], [0.25, 0.75]]]])
    >>> ins = AttentionInspection(["a", " "], np.array([0, 1]), A, head_statistics(A), 0.0)
    >>> fig = attention_figure(ins)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['a', '␣']
    >>> [ax.get_label() for ax in fig.axes[1:]]
    ['spectrum L0', 'colour bar']
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    w = inspection.weights
    L, H, T, _ = w.shape
    labels = [_label(t) for t in inspection.tokens]
    ticks = _ticks(T)
    side = max(2.6, 0.085 * len(ticks) + 0.9)     # inches per heatmap: room for the labels
    fig = Figure(figsize=(side * (H + 1) + 0.8, side * L + 0.8), layout="constrained")
    grid = fig.add_gridspec(L, H + 1)
    image, scale = None, Normalize(vmin=0.0, vmax=1.0)     # one scale, one colour bar
    for s in inspection.heads:
        ax = fig.add_subplot(grid[s.layer, s.head])
        ax.set_label(f"L{s.layer} H{s.head}")
        image = ax.imshow(w[s.layer, s.head], cmap="viridis", norm=scale)
        ax.set_title(f"L{s.layer} H{s.head}  gap {s.spectral_gap:.2f}\n"
                     f"π₀ {s.stationary[0]:.2f}  H̄ {s.mean_entropy:.2f} nats", fontsize=8)
        ax.set_xticks(ticks, [labels[i] for i in ticks], fontsize=6, rotation=90)
        ax.set_yticks(ticks, [labels[i] for i in ticks], fontsize=6)
        if s.layer == L - 1:
            ax.set_xlabel("key (attended to)", fontsize=7)
        if s.head == 0:
            ax.set_ylabel("query", fontsize=7)
    for layer in range(L):
        ax = fig.add_subplot(grid[layer, H])
        ax.set_label(f"spectrum L{layer}")
        for head in range(H):
            mod = np.sort(np.abs(np.linalg.eigvals(w[layer, head])))[::-1]      # (T,)
            gap = next(s.spectral_gap for s in inspection.heads
                       if (s.layer, s.head) == (layer, head))
            ax.plot(np.arange(1, T + 1), mod, "o-", ms=3, lw=1,
                    label=f"H{head}  gap {gap:.2f}")
        ax.set_ylim(-0.03, 1.05)
        ax.set_xlabel("i (largest first)", fontsize=7)
        ax.set_ylabel("|λ_i|", fontsize=7)
        ax.set_title(f"L{layer} spectra", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.legend(fontsize=6)
    bar = fig.colorbar(image, ax=fig.axes[:L * H], shrink=0.8, location="left")
    bar.ax.set_label("colour bar")
    bar.set_label("attention weight", fontsize=7)
    fig.suptitle(title or "attention weights (row: query, column: key)", fontsize=10)
    return fig


def plot_attention(inspection: AttentionInspection, path: Any, title: str = "") -> Path:
    """Save :func:`attention_figure` as a PNG, atomically (matplotlib, Agg).

    Lesson: none (part of the ``llmmath attention`` command).
    """
    fig = attention_figure(inspection, title)
    path = Path(path)
    atomic_write_bytes(path, lambda f: fig.savefig(f, format="png", dpi=110))
    return path
