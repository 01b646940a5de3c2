"""Exercises on information theory: entropy, KL divergence, perplexity."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from llmmath.exercises import _strategies as S
from llmmath.exercises.compare import Tolerance
from llmmath.exercises.spec import Exercise, library


@st.composite
def _entropy_cases(draw):
    dtype = draw(S.float_dtypes())
    batch = draw(S.batch_shapes())
    k = draw(st.integers(1, 6))
    return {"p": draw(S.distributions((*batch, k), dtype))}


ENTROPY = Exercise(
    name="entropy",
    lesson="information",
    pillar="info",
    title="Shannon entropy, with 0 log 0 = 0",
    signature="entropy(p)",
    returns="H(p) = -sum_i p_i log p_i in nats, over the last axis",
    statement="""
        The entropy of a distribution is its expected surprise, H(p) = -sum_i p_i log p_i: 0
        for a certain outcome, log K for the uniform distribution over K outcomes. An
        outcome of probability 0 contributes nothing (p log p tends to 0 as p tends to 0),
        but np.log(0) is -inf and 0 * -inf is nan in floating point, so zeros need care.

        Write entropy(p) in nats (natural log) over the last axis of p, for distributions
        that may contain zeros.
    """,
    hints=(
        "Natural log: np.log, not np.log2 (that would be bits).",
        "Only the positive entries contribute. np.where(p > 0, p * np.log(p), 0.0) still "
        "evaluates log(0) (a warning, but the where picks 0); a mask avoids it: "
        "np.log(np.where(p > 0, p, 1.0)).",
        "logp = np.log(np.where(p > 0, p, 1.0)); return -np.sum(p * logp, axis=-1).",
    ),
    reference="llmmath.info.entropy",
    expected=lambda p: library("llmmath.info.entropy")(p),
    cases=_entropy_cases,
    edge_cases=lambda: [
        ("a certain outcome, [1, 0, 0]: H = 0 (not nan)", {"p": np.array([1.0, 0.0, 0.0])}),
        ("uniform over 4: H = log 4", {"p": np.full(4, 0.25)}),
        ("two rows", {"p": np.array([[0.5, 0.5], [0.9, 0.1]])}),
        ("a zero in the middle", {"p": np.array([0.2, 0.0, 0.8])}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)


@st.composite
def _kl_cases(draw):
    dtype = draw(S.float_dtypes(float32=False))
    batch = draw(S.batch_shapes(max_dims=1))
    k = draw(st.integers(1, 6))
    return {"p": draw(S.distributions((*batch, k), dtype)),
            "q": draw(S.distributions((*batch, k), dtype))}


KL_DIVERGENCE = Exercise(
    name="kl_divergence",
    lesson="information",
    pillar="info",
    title="The Kullback-Leibler divergence",
    signature="kl_divergence(p, q)",
    returns="KL(p || q) = sum_i p_i log(p_i / q_i) in nats, over the last axis",
    statement="""
        KL(p || q) = sum_i p_i log(p_i / q_i) is the extra code length paid for using q when
        the truth is p; it is >= 0, 0 only when p = q, and not symmetric. Two conventions
        handle zeros: a term with p_i = 0 is 0 (whatever q_i), and a term with
        q_i = 0 < p_i is +inf (q rules out what p allows).

        Write kl_divergence(p, q) in nats over the last axis, for distributions that may
        contain zeros. Rounding may leave -1e-17 for equal distributions; anything within
        the tolerance of 0 is accepted.
    """,
    hints=(
        "Only the terms with p_i > 0 count; for those, q_i = 0 gives log(p_i / 0) = +inf, "
        "which is the right answer.",
        "Mask before the log: ratio = np.where(p > 0, p / np.where(q > 0, q, 1), 1); then "
        "where p > 0 and q == 0 put +inf.",
        "terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / np.where(q > 0, q, 1)), "
        "0); terms = np.where((p > 0) & (q == 0), np.inf, terms); return terms.sum(-1).",
    ),
    reference="llmmath.info.kl_divergence",
    expected=lambda p, q: library("llmmath.info.kl_divergence")(p, q),
    cases=_kl_cases,
    edge_cases=lambda: [
        ("p has a zero where q does not (that term is 0)",
         {"p": np.array([0.5, 0.5, 0.0]), "q": np.array([0.25, 0.25, 0.5])}),
        ("q = 0 < p gives inf", {"p": np.array([0.5, 0.5]), "q": np.array([1.0, 0.0])}),
        ("both zero at the same place", {"p": np.array([0.5, 0.5, 0.0]),
                                         "q": np.array([0.25, 0.75, 0.0])}),
        ("the order matters: KL(p || q) is not KL(q || p)",
         {"p": np.array([0.9, 0.1]), "q": np.array([0.5, 0.5])}),
        ("equal distributions: 0", {"p": np.array([0.2, 0.3, 0.5]),
                                    "q": np.array([0.2, 0.3, 0.5])}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)


@st.composite
def _ppl_cases(draw):
    shape = draw(st.sampled_from([(1,), (2,), (5,), (10,), (2, 3)]))
    nll = draw(S.arrays(np.float64, shape, 0.0, 15.0))
    if draw(st.integers(0, 9)) == 0:
        nll = nll.copy()
        nll.flat[0] = np.inf
    return {"nll": nll}


PERPLEXITY = Exercise(
    name="perplexity",
    lesson="information",
    pillar="info",
    title="Perplexity from per-token losses",
    signature="perplexity(nll)",
    returns="exp of the mean of nll (a float >= 1)",
    statement="""
        A language model scores a text token by token; the negative log-likelihood of token t
        is -log q(x_t | x_<t) in nats. Perplexity is the exponential of their mean,
        exp((1/N) sum_t nll_t): a model with perplexity k is, on average, as unsure as a
        uniform choice among k tokens.

        Write perplexity(nll) for an array of per-token NLLs in nats (the mean runs over
        every entry). A token given probability 0 has nll = inf, and so does the perplexity.
    """,
    hints=(
        "The mean comes first, then the exponential: exp of the average, not the average of "
        "the exps.",
        "Natural units: np.exp, because the NLLs are in nats (2 ** mean would be for bits).",
        "return float(np.exp(np.mean(nll))).",
    ),
    reference="llmmath.info.perplexity",
    expected=lambda nll: library("llmmath.info.perplexity")(nll),
    cases=_ppl_cases,
    edge_cases=lambda: [
        ("every token at log 50000: perplexity 50000", {"nll": np.full(10, np.log(50000.0))}),
        ("perfect prediction: perplexity 1", {"nll": np.zeros(3)}),
        ("an infinite loss", {"nll": np.array([0.5, np.inf])}),
        ("a (2, 3) array: the mean runs over every entry",
         {"nll": np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)

EXERCISES = (ENTROPY, KL_DIVERGENCE, PERPLEXITY)
