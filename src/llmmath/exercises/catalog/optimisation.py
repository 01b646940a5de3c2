"""Exercises on optimisation: Adam, gradient clipping, the cosine schedule, per-example gradients."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from llmmath.exercises import _strategies as S
from llmmath.exercises.compare import Tolerance
from llmmath.exercises.spec import Exercise, library

# ---------------------------------------------------------------------------- Adam


@st.composite
def _adam_cases(draw):
    shape = draw(st.sampled_from([(1,), (3,), (2, 2)]))
    case = {"param": draw(S.arrays(np.float64, shape)),
            "grad": draw(S.arrays(np.float64, shape)),
            "m": draw(S.arrays(np.float64, shape, -1.0, 1.0)),
            "v": draw(S.arrays(np.float64, shape, 0.0, 4.0)),
            "t": draw(st.integers(1, 1000))}
    optional = {"lr": S.floats(np.float64, 1e-4, 1.0), "beta1": st.sampled_from([0.0, 0.5, 0.9]),
                "beta2": st.sampled_from([0.9, 0.99, 0.999]),
                "eps": st.sampled_from([1e-8, 1e-6, 1e-3])}
    for key, strategy in optional.items():   # given in signature order, or left at the default
        if draw(st.booleans()):
            case[key] = draw(strategy)
    return case


def _adam_expected(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    from llmmath.autograd import Tensor

    optim = library("llmmath.optim")
    p = Tensor(np.array(param, dtype=np.float64), requires_grad=True)
    opt = optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    state = opt.state_dict()
    state["state"] = {0: {"step": int(t) - 1, "exp_avg": np.array(m, dtype=np.float64),
                          "exp_avg_sq": np.array(v, dtype=np.float64)}}
    opt.load_state_dict(state)
    p.grad = np.array(grad, dtype=np.float64)
    opt.step()
    after = opt.state_dict()["state"][0]
    return (p.data, after["exp_avg"], after["exp_avg_sq"])


ADAM_STEP = Exercise(
    name="adam_step",
    lesson="optimisation",
    pillar="optim",
    title="One step of Adam",
    signature="adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)",
    returns="(param, m, v) after the step: the new parameter and moment estimates",
    statement="""
        Adam keeps two running averages per parameter: m of the gradient and v of its square,
        m <- beta1 m + (1 - beta1) g and v <- beta2 v + (1 - beta2) g^2. Both start at 0, so
        early on they are biased towards 0; dividing by 1 - beta^t removes that bias:
        m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t). The step is
        param <- param - lr m_hat / (sqrt(v_hat) + eps), with eps outside the square root
        (as in PyTorch).

        Write adam_step(param, grad, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8)
        where t is the number of this step, counted from 1 (the first step has t = 1), and
        m, v are the averages before it.
    """,
    hints=(
        "Update m and v first, with the new gradient; then bias-correct the new values with "
        "the power t (t starts at 1, so 1 - beta^t is never 0).",
        "m_hat = m / (1 - beta1 ** t); v_hat = v / (1 - beta2 ** t); eps is added after the "
        "square root: np.sqrt(v_hat) + eps.",
        "m = beta1 * m + (1 - beta1) * grad; v = beta2 * v + (1 - beta2) * grad**2; param = "
        "param - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps).",
    ),
    reference="llmmath.optim.Adam",
    expected=_adam_expected,
    cases=_adam_cases,
    edge_cases=lambda: [
        ("the first step (t = 1) from zero moments: each weight moves by about lr",
         {"param": np.array([1.0, -1.0]), "grad": np.array([2.0, -2.0]), "m": np.zeros(2),
          "v": np.zeros(2), "t": 1, "lr": 0.1}),
        ("step 10 with beta1 = 0.5", {"param": np.array([0.5]), "grad": np.array([0.1]),
                                      "m": np.array([0.05]), "v": np.array([0.01]), "t": 10,
                                      "lr": 0.01, "beta1": 0.5}),
        ("a zero gradient with a large eps", {"param": np.array([1.0, 2.0]),
                                              "grad": np.zeros(2), "m": np.array([0.1, -0.1]),
                                              "v": np.array([0.0, 1.0]), "t": 3,
                                              "eps": 1e-3}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
    pure=False,
)

# ---------------------------------------------------------------------------- clipping


@st.composite
def _clip_cases(draw):
    n = draw(st.integers(1, 4))
    grads = [draw(S.arrays(np.float64, draw(st.sampled_from([(1,), (3,), (2, 2), (2, 3)]))))
             for _ in range(n)]
    return {"grads": grads, "max_norm": draw(S.floats(np.float64, 0.01, 30.0))}


def _clip_expected(grads, max_norm):
    from llmmath.autograd import Tensor

    clip = library("llmmath.optim.clip_grad_norm")
    params = []
    for g in grads:
        p = Tensor(np.zeros_like(g, dtype=np.float64), requires_grad=True)
        p.grad = np.array(g, dtype=np.float64)
        params.append(p)
    total = clip(params, max_norm)
    return ([p.grad for p in params], total)


CLIP_GRAD_NORM = Exercise(
    name="clip_grad_norm",
    lesson="optimisation",
    pillar="optim",
    title="Clipping the global gradient norm",
    signature="clip_grad_norm(grads, max_norm)",
    returns="(clipped_grads, total_norm): the list of scaled arrays, and the norm before "
            "clipping",
    statement="""
        One bad batch can produce a huge gradient and undo hours of training. Clipping
        rescales all gradients together when their joint size is too large: the total norm
        is N = sqrt(sum over every array and every entry of g^2), and every array is
        multiplied by the same factor min(1, max_norm / (N + 1e-6)) (PyTorch's rule; the
        1e-6 guards N = 0). Scaling them together keeps the direction of the whole update.

        Write clip_grad_norm(grads, max_norm) for a list of arrays of any shapes. Return a
        list of the clipped arrays (in the same order) and N, the norm before clipping.
    """,
    hints=(
        "One norm for everything: add up the squares of every entry of every array, then "
        "take one square root.",
        "The factor is min(1, max_norm / (N + 1e-6)): gradients already small enough are "
        "left alone, never scaled up.",
        "N = np.sqrt(sum(np.sum(g * g) for g in grads)); c = min(1.0, max_norm / (N + 1e-6)); "
        "return [g * c for g in grads], N.",
    ),
    reference="llmmath.optim.clip_grad_norm",
    expected=_clip_expected,
    cases=_clip_cases,
    edge_cases=lambda: [
        ("one gradient [3, 4] (norm 5) clipped to 1",
         {"grads": [np.array([3.0, 4.0])], "max_norm": 1.0}),
        ("two arrays clipped together: the joint norm is 13",
         {"grads": [np.array([3.0, 4.0]), np.array([[12.0]])], "max_norm": 6.5}),
        ("a norm below max_norm: nothing changes",
         {"grads": [np.array([0.1, -0.2]), np.array([0.05])], "max_norm": 1.0}),
        ("all zeros: nothing changes, the norm is 0",
         {"grads": [np.zeros(2), np.zeros((2, 2))], "max_norm": 1.0}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
    pure=False,
)

# ---------------------------------------------------------------------------- cosine schedule


@st.composite
def _schedule_cases(draw):
    warmup = draw(st.integers(0, 20))
    decay = warmup + draw(st.integers(1, 60))
    max_lr = draw(S.floats(np.float64, 1e-5, 1.0))
    min_lr = max_lr * draw(st.sampled_from([0.0, 0.1, 0.5]))
    return {"step": draw(st.integers(0, decay + 10)), "max_lr": max_lr, "min_lr": min_lr,
            "warmup_steps": warmup, "decay_steps": decay}


def _schedule(step, warmup, decay, max_lr=1.0, min_lr=0.1):
    return {"step": step, "max_lr": max_lr, "min_lr": min_lr, "warmup_steps": warmup,
            "decay_steps": decay}


COSINE_SCHEDULE = Exercise(
    name="cosine_schedule",
    lesson="optimisation",
    pillar="optim",
    title="Warm-up, then cosine decay",
    signature="cosine_schedule(step, max_lr, min_lr, warmup_steps, decay_steps)",
    returns="the learning rate at `step` (a float)",
    statement="""
        Large models are trained with a learning rate that rises linearly for the first w
        steps and then follows half a cosine down to a floor (nanoGPT's get_lr). With t the
        step counted from 0:

        for t < w: lr = max_lr (t + 1) / (w + 1); for w <= t <= d: lr = min_lr + (1 + cos(pi
        r)) / 2 (max_lr - min_lr) with r = (t - w) / (d - w); for t > d: lr = min_lr.

        Write cosine_schedule(step, max_lr, min_lr, warmup_steps, decay_steps) with
        w = warmup_steps and d = decay_steps > w (d counts from 0, warm-up included).
    """,
    hints=(
        "Three cases, in order: warm-up (t < w), the cosine (w <= t <= d), the floor (t > d).",
        "The warm-up uses t + 1 and w + 1, so step 0 already has a small positive rate and "
        "the rate reaches max_lr exactly at t = w (where r = 0 and the cosine is 1).",
        "if step < w: return max_lr * (step + 1) / (w + 1); if step > d: return min_lr; r = "
        "(step - w) / (d - w); return min_lr + 0.5 * (1 + math.cos(math.pi * r)) * (max_lr - "
        "min_lr).",
    ),
    reference="llmmath.optim.cosine_schedule",
    expected=lambda step, max_lr, min_lr, warmup_steps, decay_steps: library(
        "llmmath.optim.cosine_schedule")(step, max_lr, min_lr, warmup_steps, decay_steps),
    cases=_schedule_cases,
    edge_cases=lambda: [
        ("step 0 of a 4-step warm-up", _schedule(0, 4, 14)),
        ("the last warm-up step", _schedule(3, 4, 14)),
        ("the peak, t = w", _schedule(4, 4, 14)),
        ("half way down the cosine", _schedule(9, 4, 14)),
        ("t = d: the floor", _schedule(14, 4, 14)),
        ("after the decay", _schedule(20, 4, 14)),
        ("no warm-up", _schedule(0, 0, 10, 0.5, 0.0)),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-15),
    imports="import math",
)

# ---------------------------------------------------------------------------- per-example grads


@st.composite
def _logistic_cases(draw):
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    scale = draw(st.sampled_from([1.0, 100.0]))
    return {"features": draw(S.arrays(np.float64, (n, d), -5.0, 5.0)),
            "labels": draw(S.int_arrays((n,), 0, 1)).astype(np.float64),
            "weights": draw(S.arrays(np.float64, (d,), -5.0, 5.0)) * scale}


LOGISTIC_GRADIENTS = Exercise(
    name="logistic_gradients",
    lesson="optimisation",
    pillar="landscape",
    title="Per-example gradients of the logistic loss",
    signature="logistic_gradients(features, labels, weights)",
    returns="an (N, d) array: row i is the gradient of example i's loss with respect to the "
            "weights",
    statement="""
        For logistic regression, example i has features x_i, a label y_i in {0, 1} and the
        loss l_i(w) = -y_i log s_i - (1 - y_i) log(1 - s_i) with s_i = sigmoid(x_i . w). Its
        gradient is (s_i - y_i) x_i: the prediction error times the input. A mini-batch
        gradient is the mean of some of these rows, and how much the rows differ is the
        noise of SGD.

        Write logistic_gradients(features, labels, weights) for features (N, d), labels
        (N,) and weights (d,): one gradient per example, not their mean. x . w can reach
        +-1000: compute the sigmoid without overflow.
    """,
    hints=(
        "s = sigmoid(features @ weights) has shape (N,); the error s - labels too.",
        "Multiply each row of features by its error: (s - labels)[:, None] * features. A "
        "stable sigmoid: np.exp(-np.logaddexp(0, -z)), or scipy.special.expit.",
        "z = features @ weights; s = np.exp(-np.logaddexp(0.0, -z)); return (s - labels)"
        "[:, None] * features.",
    ),
    reference="llmmath.landscape.logistic_gradients",
    expected=lambda features, labels, weights: library("llmmath.landscape.logistic_gradients")(
        features, labels, weights),
    cases=_logistic_cases,
    edge_cases=lambda: [
        ("one example at w = 0: s = 1/2", {"features": np.array([[1.0, 2.0]]),
                                           "labels": np.array([1.0]),
                                           "weights": np.zeros(2)}),
        ("x . w = +-1000", {"features": np.array([[1.0], [-1.0]]),
                            "labels": np.array([0.0, 1.0]), "weights": np.array([1000.0])}),
        ("three examples: one row each", {"features": np.array([[1.0, 0.0], [0.0, 1.0],
                                                                [1.0, 1.0]]),
                                          "labels": np.array([1.0, 0.0, 1.0]),
                                          "weights": np.array([0.5, -0.5])}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)

EXERCISES = (ADAM_STEP, CLIP_GRAD_NORM, COSINE_SCHEDULE, LOGISTIC_GRADIENTS)
