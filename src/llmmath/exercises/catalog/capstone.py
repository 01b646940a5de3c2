"""Capstone exercises: the language-model loss and one training step of a small network, by hand.

They belong to the capstone lesson, the complete training loop (and to the study
path's hands-on days: build a tiny network, update its weights manually), and
are marked ``capstone=True``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from llmmath.exercises import _strategies as S
from llmmath.exercises.catalog.calculus import _mlp_forward, _mlp_shapes
from llmmath.exercises.compare import Tolerance
from llmmath.exercises.spec import Exercise, library


@st.composite
def _next_token_cases(draw):
    dtype = draw(S.float_dtypes())
    b, t, v = draw(st.integers(1, 3)), draw(st.integers(2, 5)), draw(st.integers(2, 5))
    return {"logits": draw(S.logits((b, t, v), dtype, masks=False, lo=-5.0, hi=5.0)),
            "tokens": draw(S.int_arrays((b, t), 0, v - 1))}


def _next_token_expected(logits, tokens):
    from llmmath.autograd import Tensor

    F = library("llmmath.autograd.functional")
    return F.cross_entropy(Tensor(logits[:, :-1]), tokens[:, 1:]).item()


NEXT_TOKEN_LOSS = Exercise(
    name="next_token_loss",
    lesson="training_loop",
    pillar="autograd",
    capstone=True,
    title="The language-model loss: predict the next token",
    signature="next_token_loss(logits, tokens)",
    returns="a float: the mean cross-entropy of predicting tokens[:, t + 1] from "
            "logits[:, t]",
    statement="""
        A GPT reads a batch of token sequences, tokens of shape (B, T), and at every position
        t outputs logits over the vocabulary, logits of shape (B, T, V). The scores at
        position t are its guess for the token that comes next, tokens[:, t + 1]; the last
        position has nothing to predict inside the sequence.

        Write next_token_loss(logits, tokens): the mean over the B (T - 1) predictions of
        -log softmax(logits[b, t])[tokens[b, t + 1]], for T >= 2. Logits may be shifted by
        +-1e4: compute the log-softmax stably.
    """,
    hints=(
        "Align predictions with targets: the logits of positions 0 .. T - 2 with the tokens "
        "of positions 1 .. T - 1, i.e. logits[:, :-1] with tokens[:, 1:].",
        "Flatten both to (B (T - 1), V) and (B (T - 1),), then it is the ordinary "
        "cross-entropy of the mle exercise.",
        "z = logits[:, :-1].reshape(-1, V); y = tokens[:, 1:].reshape(-1); m = z.max(1, "
        "keepdims=True); lse = m[:, 0] + np.log(np.exp(z - m).sum(1)); return "
        "float(np.mean(lse - z[np.arange(len(y)), y])).",
    ),
    reference="llmmath.autograd.functional.cross_entropy",
    expected=_next_token_expected,
    cases=_next_token_cases,
    edge_cases=lambda: [
        ("one sequence of two tokens", {"logits": np.array([[[2.0, 0.0, -1.0], [0.0, 0.0, 5.0]]]),
                                        "tokens": np.array([[0, 1]])}),
        ("the prediction at t is scored on token t + 1, not on token t",
         {"logits": np.array([[[5.0, 0.0], [0.0, 5.0], [5.0, 0.0]]]),
          "tokens": np.array([[0, 1, 0]])}),
        ("logits shifted by 1e4", {"logits": np.array([[[1e4, 1e4 - 3.0], [1e4, 1e4],
                                                        [1e4, 1e4]]]),
                                   "tokens": np.array([[1, 1, 0]])}),
        ("a batch of two sequences", {"logits": np.arange(24.0).reshape(2, 3, 4) % 5,
                                      "tokens": np.array([[0, 1, 2], [3, 2, 1]])}),
    ],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)


@st.composite
def _sgd_cases(draw):
    case = draw(_mlp_shapes(dtype=np.dtype(np.float64)))
    case["lr"] = draw(st.sampled_from([0.01, 0.1, 0.5, 1.0]))
    return case


def _sgd_expected(x, W1, b1, W2, b2, targets, lr):
    F = library("llmmath.autograd.functional")
    SGD = library("llmmath.optim.SGD")
    params, logits = _mlp_forward(x, W1, b1, W2, b2)
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    SGD(params, lr=lr).step()
    return (loss.item(), *(p.data for p in params))


MLP_SGD_STEP = Exercise(
    name="mlp_sgd_step",
    lesson="training_loop",
    pillar="optim",
    capstone=True,
    title="One training step of a tiny network, by hand",
    signature="mlp_sgd_step(x, W1, b1, W2, b2, targets, lr)",
    returns="(loss, W1, b1, W2, b2): the loss before the step and the parameters after it",
    statement="""
        Training is a loop of four moves: forward, loss, backward, update. Put them together
        for the network of the mlp_backward exercise, h = tanh(x W1 + b1),
        logits = h W2 + b2, loss = mean cross-entropy of the targets, and one step of plain
        gradient descent: every parameter moves against its gradient,
        W <- W - lr dL/dW.

        Write mlp_sgd_step(x, W1, b1, W2, b2, targets, lr): return the loss computed before
        the update, and the four updated parameters.
    """,
    hints=(
        "Reuse your mlp_backward: forward, then the gradients of all four parameters at the "
        "current values.",
        "Update every parameter (biases too) with the gradient computed before any of them "
        "changed; the loss to return is the one of the forward pass.",
        "loss, dW1, db1, dW2, db2 = mlp_backward(...); return loss, W1 - lr * dW1, b1 - lr * "
        "db1, W2 - lr * dW2, b2 - lr * db2.",
    ),
    reference="llmmath.optim.SGD",
    references=("llmmath.autograd.functional.cross_entropy",),
    expected=_sgd_expected,
    cases=_sgd_cases,
    edge_cases=lambda: [
        ("one example, lr = 0.1",
         {"x": np.array([[1.0, -1.0]]), "W1": np.array([[0.5, -0.5], [0.25, 0.75]]),
          "b1": np.array([0.0, 0.1]), "W2": np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.5]]),
          "b2": np.zeros(3), "targets": np.array([2]), "lr": 0.1}),
        ("a batch of three, lr = 1",
         {"x": np.array([[1.0], [0.0], [-2.0]]), "W1": np.array([[0.3, -0.2]]),
          "b1": np.array([0.1, 0.0]), "W2": np.array([[1.0, -1.0], [0.5, 2.0]]),
          "b2": np.array([0.0, 0.2]), "targets": np.array([0, 1, 1]), "lr": 1.0}),
    ],
    tolerance=Tolerance(rtol=1e-8, atol=1e-10),
    pure=False,
)

EXERCISES = (NEXT_TOKEN_LOSS, MLP_SGD_STEP)
