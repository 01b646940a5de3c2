"""Exercises on attention: positions, the causal mask, attention itself, its stationary distribution."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from llmmath.exercises import _strategies as S
from llmmath.exercises.compare import Tolerance
from llmmath.exercises.spec import Exercise, library

# ---------------------------------------------------------------------------- positions


@st.composite
def _positions_cases(draw):
    return {"T": draw(st.integers(1, 12)), "d_model": draw(st.integers(1, 10))}


def _positions_edges():
    return [("one position, four features", {"T": 1, "d_model": 4}),
            ("an odd width: the last column is a sine", {"T": 5, "d_model": 5}),
            ("width 1", {"T": 3, "d_model": 1}),
            ("8 positions of width 6", {"T": 8, "d_model": 6})]


SINUSOIDAL_POSITIONS = Exercise(
    name="sinusoidal_positions",
    lesson="why_math",
    pillar="attention",
    title="Sinusoidal position encodings",
    signature="sinusoidal_positions(T, d_model)",
    returns="a float array of shape (T, d_model): row pos is the encoding of position pos",
    statement="""
        Attention by itself does not know the order of the tokens, so the original
        transformer adds to each embedding a vector that depends on the position only.
        Column pairs (2i, 2i + 1) share one frequency w_i = 1 / 10000^(2i / d_model):
        PE[pos, 2i] = sin(pos * w_i) and PE[pos, 2i + 1] = cos(pos * w_i). Even columns hold
        sines and odd columns cosines; shifting the position turns each pair by a fixed
        angle.

        Write sinusoidal_positions(T, d_model) for positions 0 .. T - 1. When d_model is
        odd, the last column is a sine whose cosine partner would have been column d_model.
    """,
    hints=(
        "Make a column of positions, np.arange(T)[:, None], and one frequency per pair of "
        "columns: the pair index i of column j is j // 2.",
        "w = 1 / 10000 ** (2 * (np.arange(d_model) // 2) / d_model) gives every column its "
        "frequency; angle = pos * w has shape (T, d_model).",
        "angle = np.arange(T)[:, None] * w[None, :]; return np.where(np.arange(d_model) % 2 "
        "== 0, np.sin(angle), np.cos(angle)).",
    ),
    reference="llmmath.attention.sinusoidal_positions",
    expected=lambda T, d_model: library("llmmath.attention.sinusoidal_positions")(T, d_model),
    cases=_positions_cases,
    edge_cases=_positions_edges,
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)

# ---------------------------------------------------------------------------- causal mask


CAUSAL_MASK = Exercise(
    name="causal_mask",
    lesson="attention",
    pillar="attention",
    title="The causal mask",
    signature="causal_mask(T)",
    returns="a boolean array of shape (T, T); entry [i, j] is True when query i may attend "
            "to key j",
    statement="""
        A language model predicts token i + 1 from tokens 0 .. i, so when attention runs over a
        sequence of T tokens, query i may look at key j only when j <= i: never at the future.
        The mask is the lower triangle of a T x T matrix, diagonal included.

        Write causal_mask(T): a boolean (T, T) array with True where attention is allowed.
    """,
    hints=(
        "Row i has True in columns 0 .. i: the diagonal belongs to the mask (a token may "
        "attend to itself).",
        "Compare positions: np.arange(T)[:, None] is the query index i, np.arange(T)[None, :] "
        "the key index j; broadcasting gives all pairs. np.tril works too.",
        "return np.arange(T)[:, None] >= np.arange(T)[None, :]  (or np.tril(np.ones((T, T), "
        "dtype=bool))).",
    ),
    reference="llmmath.attention.causal_mask",
    expected=lambda T: library("llmmath.attention.causal_mask")(T),
    cases=lambda: st.fixed_dictionaries({"T": st.integers(1, 16)}),
    edge_cases=lambda: [("T = 1: one token attends to itself", {"T": 1}),
                        ("T = 2", {"T": 2}), ("T = 5", {"T": 5})],
)

# ---------------------------------------------------------------------------- attention


@st.composite
def _attention_cases(draw):
    dtype = draw(S.float_dtypes())
    batch = draw(S.batch_shapes(max_dims=2, max_side=2))
    tq, tk = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    d, dv = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    big = draw(st.booleans())
    lo, hi = (-30.0, 30.0) if big else (-3.0, 3.0)
    case = {"q": draw(S.arrays(dtype, (*batch, tq, d), lo, hi)),
            "k": draw(S.arrays(dtype, (*batch, tk, d), lo, hi)),
            "v": draw(S.arrays(dtype, (*batch, tk, dv)))}
    kind = draw(st.sampled_from(["none", "omit", "mask", "causal"]))
    if kind == "mask":
        mask = draw(hnp.arrays(np.bool_, draw(st.sampled_from([(tq, tk), (*batch, tq, tk)]))))
        mask[..., 0] = True                       # every query keeps at least one key
        case["mask"] = mask
    elif kind == "causal":
        case["mask"] = np.tril(np.ones((tq, tk), dtype=bool))
    elif kind == "none":
        case["mask"] = None
    return case


def _attention_edges():
    rng = np.random.default_rng(7)
    q = rng.normal(size=(3, 2))
    return [
        ("one query, one key: the output is that key's value",
         {"q": np.array([[1.0, 2.0]]), "k": np.array([[3.0, -1.0]]), "v": np.array([[5.0]])}),
        ("scores near 1e3: a softmax without the max shift overflows",
         {"q": np.array([[30.0, 30.0], [-30.0, 30.0]]), "k": np.array([[30.0, 30.0],
                                                                       [30.0, -30.0]]),
          "v": np.array([[1.0, 0.0], [0.0, 1.0]])}),
        ("a causal mask (True = may attend)",
         {"q": q, "k": q, "v": rng.normal(size=(3, 2)), "mask": np.tril(np.ones((3, 3), bool))}),
        ("a batch of 2 heads sharing one (Tq, Tk) mask",
         {"q": rng.normal(size=(2, 2, 3)), "k": rng.normal(size=(2, 4, 3)),
          "v": rng.normal(size=(2, 4, 2)),
          "mask": np.array([[True, False, True, False], [False, True, True, True]])}),
    ]


def _attention_expected(q, k, v, mask=None):
    out, _ = library("llmmath.attention.scaled_dot_product_attention")(q, k, v, mask=mask)
    return out


ATTENTION = Exercise(
    name="attention",
    lesson="attention",
    pillar="attention",
    title="Scaled dot-product attention",
    signature="scaled_dot_product_attention(q, k, v, mask=None)",
    returns="the output, shape (..., Tq, dv): each query's weighted average of the values",
    statement="""
        Each query scores every key by a dot product, scaled by 1 / sqrt(d) so that the
        scores do not grow with the width d: S = q k^T / sqrt(d), shape (..., Tq, Tk). A
        softmax over the keys (the last axis) turns each row of scores into weights, and the
        output is the weighted sum of the values: softmax(S) v.

        Write scaled_dot_product_attention(q, k, v, mask=None) for q of shape (..., Tq, d),
        k of shape (..., Tk, d) and v of shape (..., Tk, dv); leading axes are a batch. mask,
        when given, is boolean and broadcasts to (..., Tq, Tk); True means the query may
        attend to that key. A masked score becomes -inf, so its weight is exactly 0. Every
        query keeps at least one key. Scores can be in the hundreds: the softmax must not
        overflow.
    """,
    hints=(
        "Scores: q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]); the swap transposes the "
        "last two axes and leaves the batch axes alone.",
        "Mask with np.where(mask, scores, -np.inf), then softmax over axis -1 after "
        "subtracting each row's maximum (keepdims=True).",
        "s = np.where(mask, s, -np.inf) if mask is not None else s; w = np.exp(s - s.max(-1, "
        "keepdims=True)); w = w / w.sum(-1, keepdims=True); return w @ v.",
    ),
    reference="llmmath.attention.scaled_dot_product_attention",
    expected=_attention_expected,
    cases=_attention_cases,
    edge_cases=_attention_edges,
    tolerance=Tolerance(rtol=1e-8, atol=1e-10),
)

# ---------------------------------------------------------------------------- stationary dist.


@st.composite
def _stationary_cases(draw):
    n = draw(st.integers(1, 6))
    z = draw(S.arrays(np.float64, (n, n), -3.0, 3.0))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return {"A": e / e.sum(axis=1, keepdims=True)}


def _stationary_edges():
    return [
        ("a single state", {"A": np.array([[1.0]])}),
        ("two states: pi = (5/6, 1/6)", {"A": np.array([[0.9, 0.1], [0.5, 0.5]])}),
        ("slow mixing (|lambda_2| = 0.97): a few iterations are not enough",
         {"A": np.array([[0.99, 0.01], [0.02, 0.98]])}),
        ("a sparse chain with zeros", {"A": np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0],
                                                      [0.5, 0.5, 0.0]])}),
        ("a doubly stochastic matrix: pi is uniform",
         {"A": np.array([[0.2, 0.3, 0.5], [0.5, 0.2, 0.3], [0.3, 0.5, 0.2]])}),
    ]


STATIONARY_DISTRIBUTION = Exercise(
    name="stationary_distribution",
    lesson="attention_spectrum",
    pillar="attention",
    title="The stationary distribution by power iteration",
    signature="stationary_distribution(A)",
    returns="pi, shape (n,): non-negative, summing to 1, with pi A = pi",
    statement="""
        A row-stochastic matrix A (non-negative, each row summing to 1, like an attention
        matrix) moves a distribution p over the n states to p A. The stationary distribution
        pi is the one that does not move: pi A = pi, the left eigenvector of eigenvalue 1,
        scaled to sum to 1.

        Write stationary_distribution(A) by power iteration: start from the uniform
        distribution and apply p <- p A until p stops changing (to about 1e-12). The
        matrices given have a single stationary distribution and power iteration
        converges, though slowly for some: iterate until converged, not a fixed number of
        times. (An eigenvector from np.linalg.eig is also accepted.)
    """,
    hints=(
        "p A multiplies the row vector p by A from the left: p @ A, not A @ p (that is the "
        "right eigenvector, which is all ones for a stochastic matrix).",
        "Loop: new = p @ A; stop when np.max(np.abs(new - p)) < 1e-13; keep a cap on the "
        "iterations (a million is plenty) so that a bug cannot loop forever.",
        "p = np.full(n, 1 / n); repeat p_next = p @ A until the change is below 1e-13; "
        "return p_next / p_next.sum().",
    ),
    reference="llmmath.attention.stationary_distribution",
    expected=lambda A: library("llmmath.attention.stationary_distribution")(A),
    cases=_stationary_cases,
    edge_cases=_stationary_edges,
    tolerance=Tolerance(rtol=1e-6, atol=1e-9),
    tolerance32=Tolerance(rtol=1e-6, atol=1e-9),
)

EXERCISES = (SINUSOIDAL_POSITIONS, CAUSAL_MASK, ATTENTION, STATIONARY_DISTRIBUTION)
