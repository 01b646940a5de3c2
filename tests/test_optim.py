"""Optimisers against torch.optim: 100 steps on the same problem, parameters equal to 1e-12."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from llmmath.autograd import Tensor
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.optim import (
    SGD,
    Adam,
    AdamW,
    CosineSchedule,
    clip_grad_norm,
    cosine_schedule,
)

pytestmark = [pytest.mark.lesson_optimisation]

SHAPES = [(6, 4), (6,), (3, 6), (3,)]


def problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) * 0.5 for s in SHAPES]
    X, Y = rng.standard_normal((10, 4)), rng.standard_normal((10, 3))
    return init, X, Y


def loss_ours(ps, X, Y):
    w1, b1, w2, b2 = ps
    h = (Tensor(X) @ w1.T + b1).tanh()
    err = h @ w2.T + b2 - Y
    return (err * err).mean()


def loss_torch(ps, X, Y):
    w1, b1, w2, b2 = ps
    h = torch.tanh(torch.from_numpy(X) @ w1.T + b1)
    return ((h @ w2.T + b2 - torch.from_numpy(Y)) ** 2).mean()


def run_both(make_ours, make_torch, steps=100, schedule=None, groups=False, shared=False):
    """Train the same model from the same start with both optimisers; compare the parameters.

    Each side computes its own gradients, except with ``shared``: then llmmath's optimiser
    gets torch's gradient of each step (for settings under which Adam is chaotic, where a
    1e-16 difference in a gradient near zero changes the update at 1e-5).
    """
    init, X, Y = problem()
    ours = [Tensor(a, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    if groups:  # matrices and vectors in separate groups with their own settings
        ours_arg = [{"params": ours[0::2]}, {"params": ours[1::2], "lr": 0.05,
                                              "weight_decay": 0.0}]
        theirs_arg = [{"params": theirs[0::2]}, {"params": theirs[1::2], "lr": 0.05,
                                                  "weight_decay": 0.0}]
    else:
        ours_arg, theirs_arg = ours, theirs
    opt, ref = make_ours(ours_arg), make_torch(theirs_arg)
    for step in range(steps):
        if schedule is not None:
            for o in (opt, ref):
                for g in o.param_groups:
                    g["lr"] = schedule(step)
        ref.zero_grad()
        loss_torch(theirs, X, Y).backward()
        opt.zero_grad()
        if shared:
            for p, t in zip(ours, theirs, strict=True):
                p.grad = t.grad.numpy().copy()
        else:
            loss_ours(ours, X, Y).backward()
        opt.step()
        ref.step()
    for p, t, a in zip(ours, theirs, init, strict=True):
        assert np.max(np.abs(p.data - a)) > 1e-3                 # training moved it
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-13)
    return ours, opt


SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.05, momentum=0.9),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.01),
    "all": dict(lr=0.03, momentum=0.8, nesterov=True, weight_decay=0.05),
    "dampening": dict(lr=0.05, momentum=0.9, dampening=0.3),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(SGD_CASES))
def test_sgd_matches_torch(case):
    kw = SGD_CASES[case]
    run_both(lambda p: SGD(p, **kw), lambda p: torch.optim.SGD(p, **kw))


ADAM_CASES = {
    "Adam": (Adam, torch.optim.Adam, dict(lr=0.01)),
    "Adam_wd_betas": (Adam, torch.optim.Adam, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6,
                                                   weight_decay=0.1)),
    "Adam_small_beta1": (Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.3, 0.9))),  # lerp's
    # other branch (weight 1 - beta1 >= 0.5)
    "AdamW": (AdamW, torch.optim.AdamW, dict(lr=0.01)),
    "AdamW_wd": (AdamW, torch.optim.AdamW, dict(lr=0.02, betas=(0.9, 0.95), weight_decay=0.1)),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(ADAM_CASES))
def test_adam_family_matches_torch(case):
    ours, theirs, kw = ADAM_CASES[case]
    run_both(lambda p: ours(p, **kw), lambda p: theirs(p, **kw),
             shared=case == "Adam_small_beta1")


@pytest.mark.torch
def test_parameter_groups_and_a_schedule_match_torch():
    def sched(t):
        return cosine_schedule(t, 0.02, 0.002, 10, 80)

    run_both(lambda p: AdamW(p, lr=0.01, weight_decay=0.1),
             lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1), schedule=sched,
             groups=True)
    run_both(lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
             lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
             schedule=sched, groups=True)


@pytest.mark.parametrize("make", [lambda p: AdamW(p, lr=0.01, weight_decay=0.1),
                                  lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True)])
def test_a_resumed_run_equals_an_uninterrupted_one(make):
    init, X, Y = problem(1)
    straight = [Tensor(a, requires_grad=True) for a in init]
    opt = make(straight)
    for _ in range(40):
        opt.zero_grad()
        loss_ours(straight, X, Y).backward()
        opt.step()
    first = [Tensor(a, requires_grad=True) for a in init]
    opt1 = make(first)
    for _ in range(25):
        opt1.zero_grad()
        loss_ours(first, X, Y).backward()
        opt1.step()
    saved_opt, saved_params = opt1.state_dict(), [p.data.copy() for p in first]
    for p in first:                                # the live buffers must not leak into the save
        p.data += 1.0
    opt1.step()
    resumed = [Tensor(a, requires_grad=True) for a in saved_params]
    opt2 = make(resumed)
    opt2.load_state_dict(saved_opt)
    for _ in range(15):
        opt2.zero_grad()
        loss_ours(resumed, X, Y).backward()
        opt2.step()
    for a, b in zip(straight, resumed, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_layout_and_errors():
    ps = [Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(3), requires_grad=True)]
    opt = Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.5}])
    for p in ps:
        p.grad = np.ones_like(p.data)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and sd["param_groups"][1]["params"] == [1]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["state"][1]["step"] == 1
    assert sd["state"][1]["exp_avg"].shape == (3,)
    other = Adam([Tensor(np.ones(2), requires_grad=True)])
    with pytest.raises(InvalidValueError, match=r"the groups of argument .state_dict. have sizes"):
        other.load_state_dict(sd)


def test_zero_grad_sets_none_or_zeros():
    p = Tensor(np.ones(2), requires_grad=True)
    p.grad = np.ones(2)
    opt = SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None
    opt.step()                                   # no gradient: nothing moves
    np.testing.assert_array_equal(p.data, [1.0, 1.0])


def test_bad_optimiser_arguments():
    p = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(InvalidValueError, match="nesterov"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(InvalidValueError, match="lr"):
        SGD([p], lr=-1.0)
    with pytest.raises(InvalidValueError, match="betas"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(InvalidTypeError, match="Tensor"):
        Adam(p)
    with pytest.raises(InvalidValueError, match="empty"):
        Adam([])
    with pytest.raises(InvalidValueError, match="more than one group"):
        Adam([p, p])
    with pytest.raises(InvalidValueError, match="unknown settings"):
        Adam([{"params": [p], "momentum": 0.9}])
    with pytest.raises(InvalidValueError, match="AdamW: argument 'lr' must be >= 0.0"):
        AdamW([p], lr=-1.0)
    with pytest.raises(InvalidValueError, match="AdamW: argument 'weight_decay'"):
        AdamW([p], weight_decay=-1.0)
    with pytest.raises(InvalidValueError, match=r"AdamW: argument 'betas\[1\]' must be < 1.0"):
        AdamW([p], betas=(0.9, 1.5))
    with pytest.raises(InvalidValueError, match="Adam: argument 'lr' must be finite"):
        Adam([p], lr=float("nan"))
    with pytest.raises(InvalidValueError, match="SGD: argument 'momentum'"):
        SGD([p], lr=0.1, momentum=-0.1)
    with pytest.raises(InvalidTypeError, match="AdamW: argument 'params'"):
        AdamW(p)


def test_bad_clipping_and_schedule_arguments():
    p = Tensor(np.ones(2), requires_grad=True)
    p.grad = np.ones(2)
    with pytest.raises(InvalidValueError, match="clip_grad_norm: argument 'max_norm' must be >= 0.0"):
        clip_grad_norm([p], -1.0)
    with pytest.raises(InvalidValueError, match="clip_grad_norm: argument 'max_norm' must be finite"):
        clip_grad_norm([p], float("nan"))
    with pytest.raises(InvalidValueError, match="clip_grad_norm: argument 'norm_type' must be > 0.0"):
        clip_grad_norm([p], 1.0, 0.0)
    with pytest.raises(InvalidTypeError, match="clip_grad_norm: argument 'norm_type'"):
        clip_grad_norm([p], 1.0, "fro")
    np.testing.assert_array_equal(p.grad, [1.0, 1.0])              # refused calls change nothing
    with pytest.raises(InvalidTypeError, match="CosineSchedule: argument 'optimizer'"):
        CosineSchedule("sgd", 1.0, 0.1, 1, 5)
    with pytest.raises(InvalidValueError, match="argument 'max_lr' must be >= 0.0"):
        CosineSchedule(SGD([p], lr=1.0), -1.0, 0.1, 1, 5)
    with pytest.raises(InvalidTypeError, match="argument 'warmup_steps' must be an integer"):
        CosineSchedule(SGD([p], lr=1.0), 1.0, 0.1, 1.5, 5)
    with pytest.raises(InvalidValueError, match="cosine_schedule: argument 'step' must be >= 0"):
        cosine_schedule(-1, 1.0, 0.1, 1, 5)
    with pytest.raises(InvalidTypeError, match="cosine_schedule: argument 'step' must be an integer"):
        cosine_schedule(1.5, 1.0, 0.1, 1, 5)


# -------------------------------------------------------------------- clipping
@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal(s) for s in SHAPES]
    ours = [Tensor(np.zeros(s), requires_grad=True) for s in SHAPES]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in SHAPES]
    for p, t, g in zip(ours, theirs, grads, strict=True):
        p.grad, t.grad = g.copy(), torch.from_numpy(g.copy())
    ours[1].grad = None
    theirs[1].grad = None
    total = clip_grad_norm(ours, max_norm, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total == pytest.approx(ref.item(), rel=1e-13)
    for p, t in zip(ours, theirs, strict=True):
        if t.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-13)


# -------------------------------------------------------------------- schedule
def nanogpt_get_lr(it, learning_rate, min_lr, warmup_iters, lr_decay_iters):
    """nanoGPT train.py's get_lr, as published (the reference)."""
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


def test_cosine_schedule_is_nanogpts_get_lr():
    for it in range(0, 2100, 7):
        assert cosine_schedule(it, 1e-3, 1e-4, 100, 2000) == \
            nanogpt_get_lr(it, 1e-3, 1e-4, 100, 2000)
    lrs = [cosine_schedule(t, 1.0, 0.1, 10, 50) for t in range(60)]
    assert all(a < b for a, b in zip(lrs[:10], lrs[1:11], strict=True))      # warm-up rises
    assert all(a >= b for a, b in zip(lrs[10:51], lrs[11:52], strict=True))  # then decays
    assert lrs[10] == 1.0 and lrs[50] == pytest.approx(0.1, rel=1e-15) and lrs[59] == 0.1
    assert cosine_schedule(5, 1.0, 0.1, 5, 5) == 0.1
    with pytest.raises(InvalidValueError, match="decay_steps"):
        cosine_schedule(0, 1.0, 0.1, 10, 5)


def test_cosine_schedule_object_drives_the_optimiser_and_resumes():
    p = Tensor(np.zeros(1), requires_grad=True)
    opt = SGD([p], lr=1.0)
    sched = CosineSchedule(opt, 1.0, 0.1, 3, 12)
    seen = []
    for _ in range(15):
        seen.append(opt.param_groups[0]["lr"])
        sched.step()
    assert seen == [cosine_schedule(t, 1.0, 0.1, 3, 12) for t in range(15)]
    again = CosineSchedule(SGD([p], lr=1.0), 1.0, 0.1, 3, 12)
    again.load_state_dict(sched.state_dict())
    assert again.get_lr() == sched.get_lr() == 0.1


def test_clip_grad_norm_refuses_non_tensors_and_non_finite_norms() -> None:
    with pytest.raises(InvalidTypeError, match="clip_grad_norm: argument 'params'"):
        clip_grad_norm([1, 2], 1.0)
    w = Tensor([0.0, 0.0], requires_grad=True)
    w.grad = np.array([np.nan, 1.0])
    with pytest.raises(InvalidValueError, match="gradient norm is nan"):
        clip_grad_norm([w], 1.0)
    with pytest.raises(InvalidValueError, match="min_lr"):
        cosine_schedule(0, 1e-3, 2e-3, 10, 100)
