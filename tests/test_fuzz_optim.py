"""Fuzz the public API of llmmath.optim with the shared harness (tests/fuzz.py).

Hyper-parameters of every kind (NaN, inf, negative, huge integers, junk, pairs
of the wrong length) and odd parameter lists: a working optimiser whose step
keeps the parameters finite, or a ValueError/TypeError that names the argument.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz import anything, check_call, junk
from llmmath import optim
from llmmath.autograd import Tensor

pytestmark = [
    pytest.mark.lesson_optimisation,
]

# Optimizer, the base class, is built by every constructor fuzzed below.
COVERED = {"Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm", "cosine_schedule",
           "CosineSchedule"}

numbers = st.one_of(
    st.floats(-1.0, 2.0), st.sampled_from([0.0, 1e-8, 0.9, 0.999, 1.0, 10.0]),
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3), junk(),
    st.sampled_from([np.float32(0.5), np.nan, "0.1", True]),
)
pairs = st.one_of(st.tuples(numbers, numbers), numbers, st.lists(numbers, max_size=3),
                  st.just(np.array([0.8, 0.9])))
counts = st.one_of(st.integers(-2, 50), junk(), st.floats(allow_nan=True), st.booleans())


def params():
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    p.grad = np.array([0.5, -0.25])
    return [p]


def test_covered_names_are_the_public_api():
    assert COVERED == set(optim.__all__)


def _steps_stay_finite(opt):
    if opt is not None:
        for _ in range(3):
            opt.step()
        p = opt.param_groups[0]["params"][0]
        assert np.isfinite(p.data).all()


@given(lr=numbers, momentum=numbers, dampening=numbers, weight_decay=numbers,
       nesterov=st.one_of(st.booleans(), junk()))
def test_sgd(lr, momentum, dampening, weight_decay, nesterov):
    _steps_stay_finite(check_call(optim.SGD, params(), lr, momentum, nesterov, weight_decay,
                                  dampening=dampening))


@given(lr=numbers, betas=pairs, eps=numbers, weight_decay=numbers,
       cls=st.sampled_from([optim.Adam, optim.AdamW]))
def test_adam_family(lr, betas, eps, weight_decay, cls):
    opt = check_call(cls, params(), lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    if opt is not None:
        b1, b2 = opt.param_groups[0]["betas"]
        assert 0 <= b1 < 1 and 0 <= b2 < 1 and math.isfinite(opt.param_groups[0]["lr"])
        if opt.param_groups[0]["eps"] > 0:
            _steps_stay_finite(opt)


@given(ps=st.one_of(anything(max_dims=1), st.lists(st.sampled_from([1.0, None, "p"]), max_size=3),
                    st.just([]), st.just([{"lr": 0.1}]), st.just([{"params": [], "momentum": 1}])))
def test_parameter_lists(ps):
    for cls in (optim.SGD, optim.Adam):
        check_call(cls, ps, lr=0.1)


@given(max_norm=numbers, norm_type=numbers)
def test_clip_grad_norm(max_norm, norm_type):
    ps = params()
    total = check_call(optim.clip_grad_norm, ps, max_norm, norm_type)
    if total is not None:
        assert total >= 0 and np.isfinite(ps[0].grad).all()


@given(step=counts, max_lr=numbers, min_lr=numbers, warmup=counts, decay=counts)
def test_cosine_schedule(step, max_lr, min_lr, warmup, decay):
    lr = check_call(optim.cosine_schedule, step, max_lr, min_lr, warmup, decay)
    if lr is not None:
        assert 0 <= lr <= max_lr
    opt = optim.SGD(params(), lr=0.1)
    sched = check_call(optim.CosineSchedule, opt, max_lr, min_lr, warmup, decay)
    if sched is not None:
        sched.step()
        assert 0 <= opt.param_groups[0]["lr"] <= max_lr
    check_call(optim.CosineSchedule, None, 1.0, 0.0, 1, 2)
