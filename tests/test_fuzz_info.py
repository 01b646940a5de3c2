"""Fuzz the public API of llmmath.info with the shared harness (tests/fuzz.py).

Distributions are sometimes valid (to reach the arithmetic), sometimes spoiled
(NaN, negative, not summing to 1, wrong shapes, junk). A clean result must be
NaN-free and obey the basic bounds; anything else must be a ValueError or
TypeError naming the argument.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import anything, check_call, weird_arrays
from llmmath import info

pytestmark = [
    pytest.mark.lesson_information,
]

COVERED = {
    "entropy", "cross_entropy", "kl_divergence", "js_divergence", "mutual_information",
    "conditional_entropy", "perplexity", "bits_per_token", "nats_to_bits", "bits_to_nats",
}

bases = st.one_of(st.none(), st.sampled_from([2, 10, math.e, 1, 0, -2, 0.5, "2", np.inf]),
                  anything(max_dims=0))
axes = st.one_of(st.integers(-3, 3), st.sampled_from([None, 0.5, "x"]))


@st.composite
def distributions(draw, min_dims=1):
    w = draw(weird_arrays(max_dims=3, min_dims=min_dims))
    if w.dtype.kind in "fiub" and w.size and draw(st.booleans()):
        with np.errstate(all="ignore"):
            w = np.abs(w.astype(np.float64))
            w = np.where(np.isfinite(w), w, 0.0)
            w[..., 0] += 1e-3
            w = w / w.sum(axis=-1, keepdims=True)
        if draw(st.booleans()):
            w = w.astype(np.float32)
    return w


dists = st.one_of(distributions(), anything())


def test_covered_names_are_the_public_api():
    assert COVERED == set(info.__all__)


@given(p=dists, base=bases, axis=axes)
def test_entropy(p, base, axis):
    h = check_call(info.entropy, p, base=base, axis=axis)
    if h is not None:
        assert (np.asarray(h) >= 0).all()


@given(p=dists, q=dists, base=bases, axis=axes)
def test_two_distribution_measures(p, q, base, axis):
    for f in (info.cross_entropy, info.kl_divergence, info.js_divergence):
        out = check_call(f, p, q, base=base, axis=axis)
        if out is not None and base is None:
            assert (np.asarray(out) >= 0).all(), f.__name__
    out = check_call(info.kl_divergence, p, p)
    if out is not None:
        assert (np.asarray(out) <= 1e-5).all()


@given(joint=st.one_of(distributions(min_dims=2), anything()), base=bases)
def test_joint_measures(joint, base):
    mi = check_call(info.mutual_information, joint, base=base)
    if mi is not None and base is None:
        assert (np.asarray(mi) >= 0).all()
    check_call(info.conditional_entropy, joint, base=base)


@given(nll=anything(), base=bases, axis=axes)
def test_perplexity_and_bits(nll, base, axis):
    ppl = check_call(info.perplexity, nll, base=base, axis=axis)
    if ppl is not None and base is None:
        assert (np.asarray(ppl) >= 1 - 1e-6).all()
    check_call(info.bits_per_token, nll, axis=axis)


@given(x=anything())
def test_unit_conversions(x):
    check_call(info.nats_to_bits, x)
    check_call(info.bits_to_nats, x)
