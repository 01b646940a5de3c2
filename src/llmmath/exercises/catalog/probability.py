"""Exercises on probability: the softmax family, decoding filters, moments, MLE, counts, Bayes."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from llmmath.exercises import _strategies as S
from llmmath.exercises.compare import Tolerance
from llmmath.exercises.spec import Exercise, library

# ---------------------------------------------------------------------------- softmax family


@st.composite
def _axis_cases(draw, masks=True):
    dtype = draw(S.float_dtypes())
    shape = draw(S.batch_shapes(max_dims=3, max_side=4).filter(bool))
    axis = draw(st.sampled_from([None, *range(-len(shape), len(shape))]))
    x = draw(S.logits(shape, dtype, axis=-1 if axis is None else axis, masks=masks))
    return {"x": x} if axis is None else {"x": x, "axis": axis}


def _softmax_edges():
    return [
        ("logits of 1000: exp overflows without the max shift", {"x": np.array([1000.0,
                                                                                1000.0])}),
        ("logits of -1e4 and 1e4", {"x": np.array([-1e4, 1e4, 1e4 - 2.0])}),
        ("rows far apart: [0, 0] and [1e4, 1e4] (shift each row by its own maximum)",
         {"x": np.array([[0.0, 0.0], [1e4, 1e4]])}),
        ("a masked entry (-inf gets probability 0)", {"x": np.array([1.0, -np.inf, 2.0])}),
        ("axis=0 of a (2, 3) matrix: columns are the distributions",
         {"x": np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]), "axis": 0}),
        ("a single logit", {"x": np.array([-5.0])}),
        ("float32 input", {"x": np.array([[0.5, 1.5, -2.0]], np.float32)}),
    ]


STABLE_SOFTMAX = Exercise(
    name="stable_softmax",
    lesson="sampling",
    pillar="prob",
    title="A softmax that never overflows",
    signature="softmax(x, axis=-1)",
    returns="an array shaped like x: non-negative, summing to 1 along axis",
    statement="""
        The softmax turns scores into probabilities: softmax(x)_i = exp(x_i) / sum_j
        exp(x_j). Written like that, exp(1000) overflows to inf and the result is nan.
        Subtracting a constant from every x_j changes nothing (it cancels between the
        numerator and the denominator), so subtract the maximum: every exponent is then
        <= 0 and the largest term is exactly 1.

        Write softmax(x, axis=-1) along any axis of an array. Entries may be -inf (masked:
        probability 0); every slice has at least one finite entry. Do not change x.
    """,
    hints=(
        "The maximum must be taken along the same axis as the sum, with keepdims=True, so "
        "that x - m broadcasts: one shift per distribution, not one for the whole array.",
        "m = np.max(x, axis=axis, keepdims=True); e = np.exp(x - m); np.exp(-inf) is 0, so "
        "masked entries need no special case.",
        "e = np.exp(x - np.max(x, axis=axis, keepdims=True)); return e / np.sum(e, axis=axis, "
        "keepdims=True).",
    ),
    reference="llmmath.prob.softmax",
    expected=lambda x, axis=-1: library("llmmath.prob.softmax")(x, axis=axis),
    cases=_axis_cases,
    edge_cases=_softmax_edges,
    tolerance=Tolerance(rtol=1e-9, atol=1e-14),
    tolerance32=Tolerance(rtol=1e-5, atol=1e-7),
)


def _log_softmax_edges():
    return [
        ("[0, -1000]: log(softmax) would give -inf, the answer is -1000",
         {"x": np.array([0.0, -1000.0])}),
        ("logits of 1e4", {"x": np.array([1e4, 1e4 - 1.0, 1e4 - 2.0])}),
        ("a masked entry (-inf stays -inf)", {"x": np.array([2.0, -np.inf, 0.0])}),
        ("axis=0 of a (3, 2) matrix", {"x": np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]]),
                                       "axis": 0}),
        ("rows far apart", {"x": np.array([[0.0, 1.0], [-1e4, -1e4 + 1.0]])}),
    ]


LOG_SOFTMAX = Exercise(
    name="log_softmax",
    lesson="cross_entropy_grad",
    pillar="prob",
    title="log softmax without forming the probabilities",
    signature="log_softmax(x, axis=-1)",
    returns="log(softmax(x)) along axis, shaped like x (every entry <= 0)",
    statement="""
        Training minimises -log p of the correct token, so what is needed is log softmax.
        np.log(softmax(x)) loses it where a probability underflows to 0: log_softmax([0,
        -1000]) is exactly [0, -1000], but softmax gives [1, 0] and the log of 0 is -inf.
        Instead: log_softmax(x)_i = x_i - m - log sum_j exp(x_j - m), m = max x.

        Write log_softmax(x, axis=-1) along any axis; entries may be -inf (they stay
        -inf); every slice has a finite entry.
    """,
    hints=(
        "Never take the log of a probability: subtract the log of the normaliser instead, "
        "log_softmax = x - logsumexp(x).",
        "With m = np.max(x, axis=axis, keepdims=True): z = x - m, then z - np.log(np.sum("
        "np.exp(z), axis=axis, keepdims=True)).",
        "z = x - np.max(x, axis=axis, keepdims=True); return z - np.log(np.exp(z).sum("
        "axis=axis, keepdims=True)).",
    ),
    reference="llmmath.prob.log_softmax",
    expected=lambda x, axis=-1: library("llmmath.prob.log_softmax")(x, axis=axis),
    cases=_axis_cases,
    edge_cases=_log_softmax_edges,
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
    # float32 logits near 1e4 are spaced 1e-3 apart: x - logsumexp(x) is only that exact
    tolerance32=Tolerance(rtol=1e-5, atol=2e-3),
)


@st.composite
def _lse_cases(draw):
    case = draw(_axis_cases())
    if draw(st.integers(0, 5)) == 0:              # now and then a slice of only -inf
        x = case["x"].copy()
        axis = case.get("axis", -1)
        index = [slice(None)] * x.ndim
        for ax in range(x.ndim):
            if ax != axis % x.ndim:
                index[ax] = 0
        x[tuple(index)] = -np.inf
        case["x"] = x
    return case


LOGSUMEXP = Exercise(
    name="logsumexp",
    lesson="cross_entropy_grad",
    pillar="prob",
    title="log-sum-exp",
    signature="logsumexp(x, axis=-1)",
    returns="log(sum(exp(x))) along axis: x with that axis removed",
    statement="""
        The log of the softmax's normaliser, log sum_i exp(x_i), is the cross-entropy loss
        minus the correct logit. Computed directly it overflows for x = 1000 and underflows
        to log 0 = -inf for x = -1000. With m = max x it is m + log sum_i exp(x_i - m),
        which is exact and safe.

        Write logsumexp(x, axis=-1), reducing one axis. Entries may be -inf, and a slice of
        only -inf has no mass: its log-sum-exp is -inf (not nan: -inf - (-inf) is nan, so
        such a slice needs a shift of 0).
    """,
    hints=(
        "m = np.max(x, axis=axis, keepdims=True), then m + log(sum(exp(x - m))); drop the "
        "kept axis at the end (np.squeeze(..., axis=axis) or sum without keepdims).",
        "Where the maximum is -inf, shift by 0 instead: m = np.where(np.isfinite(m), m, 0). "
        "The sum of exp(-inf) is 0 and log(0) is -inf, the right answer.",
        "m = np.max(x, axis=axis, keepdims=True); m = np.where(np.isfinite(m), m, 0.0); "
        "return np.log(np.sum(np.exp(x - m), axis=axis)) + np.squeeze(m, axis=axis).",
    ),
    reference="llmmath.prob.logsumexp",
    expected=lambda x, axis=-1: library("llmmath.prob.logsumexp")(x, axis=axis),
    cases=_lse_cases,
    edge_cases=lambda: [
        ("[1000, 1000]: 1000 + log 2", {"x": np.array([1000.0, 1000.0])}),
        ("[-1000, -1000]: -1000 + log 2", {"x": np.array([-1000.0, -1000.0])}),
        ("a slice of only -inf gives -inf", {"x": np.array([[-np.inf, -np.inf], [0.0, 0.0]])}),
        ("axis=0", {"x": np.array([[1.0, -np.inf], [2.0, 3.0]]), "axis": 0}),
    ],
    tolerance=Tolerance(rtol=1e-10, atol=1e-12),
    tolerance32=Tolerance(rtol=1e-6, atol=1e-5),
)

# ---------------------------------------------------------------------------- top-k and top-p


@st.composite
def _top_k_cases(draw):
    dtype = draw(S.float_dtypes())
    batch = draw(S.batch_shapes(max_dims=1, max_side=3))
    v = draw(st.integers(1, 6))
    # small integers make ties likely: the rule for ties is part of the exercise
    x = draw(S.int_arrays((*batch, v), -3, 3)).astype(dtype)
    if draw(st.booleans()):
        x = draw(S.logits((*batch, v), dtype))
    return {"logits": x, "k": draw(st.integers(1, v + 1))}


TOP_K = Exercise(
    name="top_k",
    lesson="sampling",
    pillar="prob",
    title="Top-k filtering",
    signature="filter_top_k(logits, k)",
    returns="an array shaped like logits: the logits kept, every other entry -inf",
    statement="""
        Top-k sampling draws the next token from the k most likely ones only. Filter the
        logits before the softmax: keep a logit when it is at least the k-th largest of its
        row, and set the others to -inf (so that their probability is exactly 0). Ties with
        the k-th largest value are all kept, so more than k tokens can survive (the rule of
        Hugging Face's TopKLogitsWarper); k >= V keeps every token.

        Write filter_top_k(logits, k) for logits of shape (..., V) (a row per position) and
        an integer k >= 1. Return a new array; do not change the caller's logits.
    """,
    hints=(
        "Find the threshold of each row: the k-th largest value. np.sort(logits, axis=-1) "
        "sorts ascending, so it is at index -k (when k <= V).",
        "kth = np.sort(logits, axis=-1)[..., -k][..., None] keeps one threshold per row; "
        "compare logits < kth to find what to drop. Cap k at V first.",
        "k = min(k, logits.shape[-1]); kth = np.sort(logits, axis=-1)[..., -k, None]; return "
        "np.where(logits < kth, -np.inf, logits).",
    ),
    reference="llmmath.prob.filter_top_k",
    expected=lambda logits, k: library("llmmath.prob.filter_top_k")(logits, k),
    cases=_top_k_cases,
    edge_cases=lambda: [
        ("k = 1 with a tie at the top: both kept", {"logits": np.array([1.0, 3.0, 2.0, 3.0]),
                                                    "k": 1}),
        ("k = V keeps every token", {"logits": np.array([0.5, -1.0, 2.0]), "k": 3}),
        ("k > V keeps every token", {"logits": np.array([[0.5, -1.0]]), "k": 5}),
        ("two rows, k = 2", {"logits": np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0]]), "k": 2}),
        ("an entry already at -inf", {"logits": np.array([-np.inf, 1.0, 0.0]), "k": 2}),
    ],
    tolerance=Tolerance(rtol=0.0, atol=0.0),
    tolerance32=Tolerance(rtol=0.0, atol=0.0),
)


@st.composite
def _top_p_cases(draw):
    dtype = draw(S.float_dtypes())
    batch = draw(S.batch_shapes(max_dims=1, max_side=3))
    v = draw(st.integers(1, 6))
    x = draw(S.logits((*batch, v), dtype, offsets=False, lo=-5.0, hi=5.0))
    p = draw(st.floats(0.05, 0.95))
    # keep p away from the cumulative sums, where summation order decides a tie
    z = np.asarray(x, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    probs = np.sort(e / e.sum(axis=-1, keepdims=True), axis=-1)[..., ::-1]
    assume(np.all(np.abs(np.cumsum(probs, axis=-1) - p) > 1e-6))
    return {"logits": x, "p": p}


TOP_P = Exercise(
    name="top_p",
    lesson="sampling",
    pillar="prob",
    title="Nucleus (top-p) filtering",
    signature="filter_top_p(logits, p)",
    returns="an array shaped like logits: the nucleus kept, every other entry -inf",
    statement="""
        Nucleus sampling keeps the smallest set of most likely tokens whose probability
        reaches p. Sort the tokens of a row by probability, largest first: a token is in the
        nucleus when the total probability of the tokens ranked above it is still below p
        (so the most likely token is always in). Then keep every token whose logit is at
        least the smallest logit in the nucleus (so tied tokens are all in or all out),
        and set the rest to -inf. p = 1 keeps every token.

        Write filter_top_p(logits, p) for logits of shape (..., V), probabilities from a
        stable softmax of each row, and 0 <= p <= 1. Do not change the caller's logits.
    """,
    hints=(
        "Work row by row on the probabilities sorted in decreasing order: "
        "np.argsort(-probs) and np.cumsum.",
        "The mass ranked above the j-th sorted token is cumsum[j] - sorted[j] (an exclusive "
        "cumulative sum). The token is in the nucleus when that is < p.",
        "In each row: threshold = the smallest logit among the tokens in the nucleus; keep "
        "logits >= threshold; if p >= 1 keep everything; set the others to -inf.",
    ),
    reference="llmmath.prob.filter_top_p",
    expected=lambda logits, p: library("llmmath.prob.filter_top_p")(logits, p),
    cases=_top_p_cases,
    edge_cases=lambda: [
        ("probabilities 0.5, 0.3, 0.15, 0.05 with p = 0.7: two tokens",
         {"logits": np.log(np.array([0.5, 0.3, 0.15, 0.05])), "p": 0.7}),
        ("the top token alone already reaches p", {"logits": np.array([5.0, 0.0, 0.0]),
                                                   "p": 0.5}),
        ("p = 1 keeps every token", {"logits": np.array([0.0, -1e4, 1.0]), "p": 1.0}),
        ("unsorted logits", {"logits": np.array([0.0, 2.0, -1.0, 1.0]), "p": 0.8}),
        ("a tie on the border: both tied tokens kept",
         {"logits": np.log(np.array([0.5, 0.25, 0.25])), "p": 0.6}),
        ("two rows", {"logits": np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 3.0]]), "p": 0.9}),
    ],
    tolerance=Tolerance(rtol=0.0, atol=0.0),
    tolerance32=Tolerance(rtol=0.0, atol=0.0),
)

# ---------------------------------------------------------------------------- moments


@st.composite
def _moment_cases(draw):
    k = draw(st.integers(1, 6))
    values = draw(S.arrays(np.float64, (k,), -100.0, 100.0))
    if draw(st.booleans()):
        values = values + draw(st.sampled_from([1e6, -1e8]))
    return {"values": values, "probs": draw(S.distributions((k,)))}


def _moments_expected(values, probs):
    prob = library("llmmath.prob")
    return (prob.expectation(values, probs), prob.variance(values, probs))


MEAN_AND_VARIANCE = Exercise(
    name="mean_and_variance",
    lesson="random_variables",
    pillar="prob",
    title="Mean and variance of a discrete random variable",
    signature="mean_and_variance(values, probs)",
    returns="(mean, variance): E[X] = sum p_i x_i and Var[X] = sum p_i (x_i - E[X])^2",
    statement="""
        A discrete random variable takes value x_i with probability p_i. Its expectation is
        the probability-weighted average E[X] = sum_i p_i x_i, and its variance the expected
        squared distance from it, Var[X] = sum_i p_i (x_i - E[X])^2.

        Write mean_and_variance(values, probs) for two vectors of the same length (probs
        non-negative and summing to 1; some may be 0). Values can be large with a small
        spread (1e8 + [0, 1, 2]): the shortcut E[X^2] - E[X]^2 then loses every digit to
        cancellation, so compute the variance around the mean.
    """,
    hints=(
        "Both are weighted sums: np.sum(probs * values) for the mean.",
        "Compute the mean first, then the deviations d = values - mean, then the weighted "
        "mean of d ** 2.",
        "m = np.sum(probs * values); return m, np.sum(probs * (values - m) ** 2).",
    ),
    reference="llmmath.prob.expectation",
    references=("llmmath.prob.variance",),
    expected=_moments_expected,
    cases=_moment_cases,
    edge_cases=lambda: [
        ("a fair die", {"values": np.arange(1.0, 7.0), "probs": np.full(6, 1 / 6)}),
        ("a certain outcome", {"values": np.array([4.0, 9.0]), "probs": np.array([1.0, 0.0])}),
        ("values near 1e8 with a spread of 1",
         {"values": 1e8 + np.array([0.0, 1.0, 2.0]), "probs": np.array([0.25, 0.5, 0.25])}),
        ("unequal weights", {"values": np.array([-1.0, 0.0, 10.0]),
                             "probs": np.array([0.5, 0.3, 0.2])}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-9),
)

# ---------------------------------------------------------------------------- cross-entropy loss


@st.composite
def _ce_cases(draw):
    dtype = draw(S.float_dtypes())
    n, v = draw(st.integers(1, 5)), draw(st.integers(1, 6))
    return {"logits": draw(S.logits((n, v), dtype, masks=False)),
            "targets": draw(S.int_arrays((n,), 0, v - 1))}


def _ce_expected(logits, targets):
    from llmmath.autograd import Tensor

    F = library("llmmath.autograd.functional")
    return F.cross_entropy(Tensor(logits), targets).item()


CROSS_ENTROPY = Exercise(
    name="cross_entropy",
    lesson="mle",
    pillar="autograd",
    title="The cross-entropy loss: mean negative log-likelihood",
    signature="cross_entropy(logits, targets)",
    returns="a float: the mean over the N rows of -log softmax(logits[n])[targets[n]]",
    statement="""
        Maximum likelihood for a classifier (and for a language model, one class per
        token) means minimising the average negative log-probability of the right answer:
        L = (1/N) sum_n -log softmax(z_n)[y_n]. Since log softmax(z)[y] = z_y -
        logsumexp(z), the loss is the mean of logsumexp(z_n) - z_{n, y_n}.

        Write cross_entropy(logits, targets) for logits of shape (N, V) and integer targets
        of shape (N,), each in [0, V). Logits may be as large as 1e4 in either direction.
    """,
    hints=(
        "Pick the logit of the right class in each row with fancy indexing: "
        "logits[np.arange(N), targets] has shape (N,).",
        "Compute logsumexp row by row with the maximum subtracted (keepdims=True), so that "
        "logits of 1e4 neither overflow nor give log(0).",
        "m = logits.max(1, keepdims=True); lse = m[:, 0] + np.log(np.exp(logits - m).sum(1)); "
        "return float(np.mean(lse - logits[np.arange(len(targets)), targets])).",
    ),
    reference="llmmath.autograd.functional.cross_entropy",
    expected=_ce_expected,
    cases=_ce_cases,
    edge_cases=lambda: [
        ("uniform logits: the loss is log V", {"logits": np.zeros((2, 4)),
                                               "targets": np.array([0, 3])}),
        ("logits of +-1e4: the right class far below the best",
         {"logits": np.array([[1e4, -1e4], [0.0, 1e4]]), "targets": np.array([1, 0])}),
        ("one class (V = 1): the loss is 0", {"logits": np.array([[3.0], [-2.0]]),
                                              "targets": np.array([0, 0])}),
        ("three rows: a mean, not a sum", {"logits": np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0],
                                                               [0.5, 0.5, 3.0]]),
                                           "targets": np.array([0, 2, 2])}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)

# ---------------------------------------------------------------------------- bigram counts


@st.composite
def _bigram_cases(draw):
    v = draw(st.integers(1, 6))
    n = draw(st.integers(0, 20))
    return {"tokens": draw(S.int_arrays((n,), 0, v - 1)), "vocab_size": v}


def _bigram_expected(tokens, vocab_size):
    counts = np.zeros((vocab_size, vocab_size), dtype=np.int64)
    np.add.at(counts, (tokens[:-1], tokens[1:]), 1)    # NumPy's unbuffered scatter-add
    return counts


BIGRAM_COUNTS = Exercise(
    name="bigram_counts",
    lesson="ngrams",
    pillar="ngram",
    title="Counting bigrams",
    signature="bigram_counts(tokens, vocab_size)",
    returns="an integer array C of shape (V, V): C[a, b] = how often token b directly follows "
            "token a",
    statement="""
        A bigram model estimates P(next = b | current = a) from counts: how many times b
        follows a in the training text, divided by how many times a is followed by
        anything. The counts come first.

        Write bigram_counts(tokens, vocab_size) for a 1-D integer array of token ids in
        [0, vocab_size): return C with C[a, b] the number of positions i with tokens[i] = a
        and tokens[i + 1] = b. A sequence of n tokens has n - 1 bigrams (none for n <= 1);
        the last token does not wrap around to the first. The counts are integers.
    """,
    hints=(
        "The pairs are (tokens[i], tokens[i + 1]) for i = 0 .. n - 2: zip(tokens[:-1], "
        "tokens[1:]).",
        "Start from np.zeros((V, V), dtype=int) and add 1 at [a, b] for each pair. (With "
        "fancy indexing, C[a_arr, b_arr] += 1 counts a repeated pair once: use np.add.at or a "
        "loop.)",
        "C = np.zeros((vocab_size, vocab_size), dtype=np.int64); for a, b in zip(tokens[:-1], "
        "tokens[1:]): C[a, b] += 1; return C.",
    ),
    reference="numpy.add.at",
    expected=_bigram_expected,
    cases=_bigram_cases,
    edge_cases=lambda: [
        ("a repeated pair: 'a a a' has the bigram (a, a) twice",
         {"tokens": np.array([0, 0, 0]), "vocab_size": 2}),
        ("one token: no bigrams", {"tokens": np.array([1]), "vocab_size": 3}),
        ("direction matters: [0, 1] counts (0, 1), not (1, 0)",
         {"tokens": np.array([0, 1]), "vocab_size": 2}),
        ("no wrap-around from the last token to the first",
         {"tokens": np.array([2, 0, 1, 2]), "vocab_size": 3}),
    ],
)

# ---------------------------------------------------------------------------- Bayes


@st.composite
def _bayes_cases(draw):
    k = draw(st.integers(1, 5))
    prior = draw(S.distributions((k,)))
    lik = draw(S.arrays(np.float64, (k,), 0.0, 1.0))
    j = int(np.argmax(prior))
    lik[j] = max(lik[j], 0.5)                  # some hypothesis explains the data
    scale = draw(st.sampled_from([1.0, 1e-200, 1e-310, 1e300]))
    return {"prior": prior, "likelihood": lik * scale}


BAYES_POSTERIOR = Exercise(
    name="bayes_posterior",
    lesson="bayes",
    pillar="prob",
    title="Bayes' rule over a few hypotheses",
    signature="bayes_posterior(prior, likelihood)",
    returns="the posterior P(h | D) over the hypotheses: non-negative, summing to 1",
    statement="""
        Bayes' rule updates a prior P(h) with the likelihood of the data under each
        hypothesis: P(h | D) = P(D | h) P(h) / sum_h' P(D | h') P(h'). The denominator (the
        evidence) only rescales, so any common factor of the likelihoods cancels.

        Write bayes_posterior(prior, likelihood) for two vectors over the same hypotheses.
        Likelihoods of long sequences are tiny (1e-310 is below the smallest normal float,
        and a product with the prior can underflow to 0): divide the likelihoods by their
        largest value before multiplying. At least one hypothesis has prior > 0 and
        likelihood > 0.
    """,
    hints=(
        "Unnormalised posterior: prior * likelihood; then divide by its sum.",
        "Before that, rescale: likelihood / likelihood.max() has the same posterior and its "
        "largest entry is 1, so nothing underflows.",
        "w = prior * (likelihood / np.max(likelihood)); return w / np.sum(w).",
    ),
    reference="llmmath.prob.bayes_posterior",
    expected=lambda prior, likelihood: library("llmmath.prob.bayes_posterior")(prior,
                                                                               likelihood),
    cases=_bayes_cases,
    edge_cases=lambda: [
        ("a fair prior and a 3:1 likelihood", {"prior": np.array([0.5, 0.5]),
                                               "likelihood": np.array([0.75, 0.25])}),
        ("likelihoods of 1e-310 and 3e-310 (subnormal)",
         {"prior": np.array([0.5, 0.5]), "likelihood": np.array([1e-310, 3e-310])}),
        ("likelihoods of 1e-322: prior times likelihood underflows to 0",
         {"prior": np.array([0.001, 0.999]), "likelihood": np.array([1e-322, 1e-322])}),
        ("a hypothesis with prior 0", {"prior": np.array([0.0, 0.2, 0.8]),
                                       "likelihood": np.array([1.0, 0.5, 0.1])}),
        ("one hypothesis", {"prior": np.array([1.0]), "likelihood": np.array([1e-300])}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)

EXERCISES = (STABLE_SOFTMAX, LOG_SOFTMAX, LOGSUMEXP, TOP_K, TOP_P, MEAN_AND_VARIANCE,
             CROSS_ENTROPY, BIGRAM_COUNTS, BAYES_POSTERIOR)
