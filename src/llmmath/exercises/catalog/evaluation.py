"""Exercises on evaluating models: Welch's t statistic and a bootstrap interval."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from llmmath.exercises import _strategies as S
from llmmath.exercises.compare import Tolerance
from llmmath.exercises.spec import Exercise, library


@st.composite
def _welch_cases(draw):
    a = draw(S.arrays(np.float64, (draw(st.integers(2, 8)),)))
    b = draw(S.arrays(np.float64, (draw(st.integers(2, 8)),)))
    b = b * draw(st.sampled_from([1.0, 0.1, 10.0]))
    assume(np.ptp(a) > 1e-6 or np.ptp(b) > 1e-6)   # both constant: t is 0 / 0
    return {"a": a, "b": b}


WELCH_T = Exercise(
    name="welch_t",
    lesson="evaluation",
    pillar="stats",
    title="Welch's t statistic",
    signature="welch_t_statistic(a, b)",
    returns="t = (mean(a) - mean(b)) / sqrt(s_a^2 / n_a + s_b^2 / n_b), a float",
    statement="""
        Is model A better than model B, or did the scores differ by chance? Welch's t
        statistic compares the difference of the two means with its standard error, without
        assuming that the two samples have the same variance:
        t = (mean(a) - mean(b)) / sqrt(s_a^2 / n_a + s_b^2 / n_b), with s^2 the sample
        variance (divided by n - 1).

        Write welch_t_statistic(a, b) for two 1-D samples of at least two values each (not
        both constant).
    """,
    hints=(
        "Sample variances divide by n - 1: np.var(a, ddof=1).",
        "Each sample contributes its own variance over its own size; do not pool them "
        "(pooling is Student's test, which assumes equal variances).",
        "va = np.var(a, ddof=1) / len(a); vb = np.var(b, ddof=1) / len(b); return "
        "(np.mean(a) - np.mean(b)) / np.sqrt(va + vb).",
    ),
    reference="llmmath.stats.welch_t_test",
    expected=lambda a, b: library("llmmath.stats.welch_t_test")(a, b).statistic,
    cases=_welch_cases,
    edge_cases=lambda: [
        ("two samples of five scores", {"a": np.array([0.81, 0.84, 0.79, 0.86, 0.83]),
                                        "b": np.array([0.78, 0.80, 0.76, 0.79, 0.77])}),
        ("equal means: t = 0", {"a": np.array([1.0, 3.0]), "b": np.array([0.0, 2.0, 4.0])}),
        ("different sizes and variances (pooling gives another number)",
         {"a": np.array([1.0, 2.0]), "b": np.array([10.0, 30.0, 50.0, 70.0, 90.0, 11.0])}),
        ("one constant sample", {"a": np.array([2.0, 2.0, 2.0]), "b": np.array([1.0, 3.0])}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)


@st.composite
def _bootstrap_cases(draw):
    n = draw(st.integers(2, 15))
    case = {"data": draw(S.arrays(np.float64, (n,)))}
    if draw(st.booleans()):
        case["n_resamples"] = draw(st.integers(1, 400))
    if draw(st.booleans()):
        case["confidence"] = draw(st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]))
    if draw(st.booleans()):
        case["seed"] = draw(st.integers(0, 2**31 - 1))
    return case


def _bootstrap_expected(data, n_resamples=1000, confidence=0.95, seed=0):
    ci = library("llmmath.stats.bootstrap_ci")(data, np.mean, confidence=confidence,
                                               n_resamples=n_resamples, method="percentile",
                                               rng=seed, batch=n_resamples)
    return (ci.low, ci.high)


BOOTSTRAP_CI = Exercise(
    name="bootstrap_ci",
    lesson="evaluation",
    pillar="stats",
    title="A percentile bootstrap interval for the mean",
    signature="bootstrap_percentile_ci(data, n_resamples=1000, confidence=0.95, seed=0)",
    returns="(low, high): the confidence interval for the mean of data",
    statement="""
        The bootstrap estimates how much a statistic would vary between samples by
        resampling the one sample we have: draw n values from the data with replacement,
        compute the mean, repeat B times, and read the interval off the spread of those B
        means. The percentile interval at confidence c is the alpha and 1 - alpha quantiles
        of the bootstrap means, alpha = (1 - c) / 2.

        Write bootstrap_percentile_ci(data, n_resamples=1000, confidence=0.95, seed=0). So
        that every correct answer gives the same numbers, draw all resamples in one call,
        rng = np.random.default_rng(seed); idx = rng.integers(0, n, size=(n_resamples, n)),
        where row b of data[idx] is resample b, and take the quantiles with np.quantile
        (its default linear interpolation).
    """,
    hints=(
        "data[idx] has shape (n_resamples, n): one resample per row; .mean(axis=1) gives "
        "the B bootstrap means.",
        "Both tails share 1 - confidence: for 95 % the levels are 0.025 and 0.975, not 0.05 "
        "and 0.95.",
        "means = data[idx].mean(axis=1); alpha = (1 - confidence) / 2; low, high = "
        "np.quantile(means, [alpha, 1 - alpha]); return float(low), float(high).",
    ),
    reference="llmmath.stats.bootstrap_ci",
    expected=_bootstrap_expected,
    cases=_bootstrap_cases,
    edge_cases=lambda: [
        ("ten scores with the defaults", {"data": np.array([0.71, 0.74, 0.69, 0.77, 0.73, 0.80,
                                                            0.72, 0.75, 0.70, 0.78])}),
        ("a constant sample: a zero-width interval", {"data": np.full(4, 2.5)}),
        ("90 % with 200 resamples and seed 7", {"data": np.array([1.0, 4.0, 2.0, 8.0, 5.0]),
                                                "n_resamples": 200, "confidence": 0.9,
                                                "seed": 7}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)

EXERCISES = (WELCH_T, BOOTSTRAP_CI)
