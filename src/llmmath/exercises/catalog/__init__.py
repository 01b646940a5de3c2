"""Every exercise, in course order (the order of the lessons they belong to).

The specs live in one module per subject; this module lists them, lesson by
lesson, as a table of contents. (The order is checked against
``llmmath.lessons.LESSONS`` by the tests; lessons sit above exercises, so
nothing here imports them.) Each exercise has a reference solution in
``answers/NAME.txt``.
"""

from __future__ import annotations

from llmmath.exercises.catalog import (
    attention,
    calculus,
    capstone,
    evaluation,
    information,
    linalg,
    optimisation,
    probability,
)

__all__ = ["EXERCISES", "names", "get_exercise", "exercises_for_lesson"]

EXERCISES = (
    attention.SINUSOIDAL_POSITIONS,                                   # why_math
    linalg.DOT_AND_NORM, linalg.MATMUL_SHAPES,                        # vectors
    attention.CAUSAL_MASK, attention.ATTENTION,                       # attention
    attention.STATIONARY_DISTRIBUTION,                                # attention_spectrum
    linalg.LOW_RANK,                                                  # svd_lora
    calculus.NUMERICAL_GRADIENT, calculus.VALUE_TANH,                 # derivatives
    calculus.MLP_BACKWARD,                                            # backprop
    calculus.SOFTMAX_JACOBIAN,                                        # softmax_jacobian
    calculus.CE_SOFTMAX_GRAD, probability.LOG_SOFTMAX,                # cross_entropy_grad
    probability.LOGSUMEXP,
    calculus.GELU,                                                    # activations
    calculus.LAYER_NORM, calculus.LAYER_NORM_BACKWARD,                # layernorm
    probability.MEAN_AND_VARIANCE,                                    # random_variables
    probability.CROSS_ENTROPY,                                        # mle
    probability.BIGRAM_COUNTS,                                        # ngrams
    probability.BAYES_POSTERIOR,                                      # bayes
    probability.STABLE_SOFTMAX, probability.TOP_K, probability.TOP_P,  # sampling
    information.ENTROPY, information.KL_DIVERGENCE,                   # information
    information.PERPLEXITY,
    optimisation.ADAM_STEP, optimisation.CLIP_GRAD_NORM,              # optimisation
    optimisation.COSINE_SCHEDULE, optimisation.LOGISTIC_GRADIENTS,
    capstone.NEXT_TOKEN_LOSS, capstone.MLP_SGD_STEP,                  # training_loop (capstone)
    evaluation.WELCH_T, evaluation.BOOTSTRAP_CI,                      # evaluation
    linalg.LINEAR,                                                    # tensors
)

_grouped = (linalg.EXERCISES + attention.EXERCISES + calculus.EXERCISES + probability.EXERCISES
            + information.EXERCISES + optimisation.EXERCISES + evaluation.EXERCISES
            + capstone.EXERCISES)
if sorted(e.name for e in EXERCISES) != sorted(e.name for e in _grouped):  # pragma: no cover
    raise ImportError("llmmath.exercises.catalog: EXERCISES does not list every spec once")


def names() -> tuple[str, ...]:
    """Every exercise name, in course order.

    Lesson: none (part of the exercise checker).
    """
    return tuple(e.name for e in EXERCISES)


def get_exercise(name: str):
    """The exercise called ``name``.

    Lesson: none (part of the exercise checker).

    Raises
    ------
    InvalidValueError
        No such exercise (the message lists them).
    """
    from llmmath.errors import InvalidValueError

    for ex in EXERCISES:
        if ex.name == name:
            return ex
    raise InvalidValueError(f"exercise: no exercise named {name!r}; expected one of: "
                            f"{', '.join(names())}.")


def exercises_for_lesson(lesson: str) -> tuple:
    """The exercises that belong to ``lesson`` (a name from ``llmmath.lessons.LESSONS``).

    Lesson: none (part of the exercise checker).
    """
    return tuple(e for e in EXERCISES if e.lesson == lesson)
