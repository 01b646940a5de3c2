"""Global switches of the engine: gradient recording and anomaly detection.

Two flags, each flipped by a context manager that restores the previous value
on exit (so they nest):

- ``no_grad()`` / ``enable_grad()``: whether new operations record the graph.
  Under ``no_grad`` an operation returns a plain tensor with no parents, so no
  memory is kept for a backward pass (evaluation, sampling, optimiser steps).
- ``detect_anomaly()``: every backward function's results are checked for NaN
  and infinity, and the first offender is named (with the line of code that
  created the operation in the forward pass).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
]

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    grad_enabled: bool = True
    anomaly: bool = False


STATE = _State()


def is_grad_enabled() -> bool:
    """Whether operations currently record the graph for backward.

    Lesson: none (machinery of the engine's backward pass).

    Returns
    -------
    bool
        ``False`` inside ``no_grad()``, ``True`` otherwise.

    Examples
    --------
    >>> from llmmath.autograd import no_grad, is_grad_enabled
    >>> with no_grad():
    ...     print(is_grad_enabled())
    False
    >>> is_grad_enabled()
    True
    """
    return STATE.grad_enabled


class _GradMode:
    """Set the grad-recording flag inside a ``with`` block or a decorated function."""

    _value = True

    def __enter__(self) -> None:
        self._previous = STATE.grad_enabled
        STATE.grad_enabled = self._value

    def __exit__(self, *exc: object) -> None:
        STATE.grad_enabled = self._previous

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801  (named like torch.no_grad)
    """Context manager (and decorator) that stops recording the graph.

    Lesson: ``training_loop`` (The complete training loop).

    Inside the block every operation returns a tensor with
    ``requires_grad=False`` and no parents, as ``torch.no_grad`` does. Use it
    for evaluation, generation and parameter updates.

    Examples
    --------
    >>> from llmmath.autograd import Tensor, no_grad
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     y = w * 3
    >>> y.requires_grad
    False
    """

    _value = False


class enable_grad(_GradMode):  # noqa: N801
    """Context manager (and decorator) that records the graph even inside ``no_grad``.

    Lesson: none (machinery of the engine's backward pass).

    Examples
    --------
    >>> from llmmath.autograd import Tensor, no_grad, enable_grad
    >>> w = Tensor([1.0], requires_grad=True)
    >>> with no_grad():
    ...     with enable_grad():
    ...         y = w * 3
    >>> y.requires_grad
    True
    """

    _value = True


def is_anomaly_enabled() -> bool:
    """Whether backward passes check every gradient for NaN and infinity.

    Lesson: none (machinery of the engine's backward pass).

    Examples
    --------
    >>> from llmmath.autograd import detect_anomaly, is_anomaly_enabled
    >>> with detect_anomaly():
    ...     print(is_anomaly_enabled())
    True
    """
    return STATE.anomaly


class detect_anomaly:  # noqa: N801  (named like torch.autograd.detect_anomaly)
    """Context manager that names the operation whose backward first made NaN or inf.

    Lesson: none (machinery of the engine's backward pass).

    While it is active, operations remember where they were created, and the
    backward pass checks the gradients each operation's backward function
    returns. The first non-finite one raises :class:`~llmmath.autograd.AnomalyError`
    naming the operation, the input, the shapes and the line of the forward
    code that created it. It slows the backward pass (one finiteness check per
    gradient), so use it to debug, not to train.

    Examples
    --------
    >>> from llmmath.autograd import Tensor, detect_anomaly
    >>> x = Tensor([0.0, 1.0], requires_grad=True)
    >>> with detect_anomaly():
    ...     y = (x ** 0.5).sum()
    ...     try:
    ...         y.backward()
    ...     except ValueError as err:
    ...         print(str(err).splitlines()[0])
    backward of 'pow' returned inf in the gradient for its input 0 (shape (2,)); the output's shape is (2,).
    """

    def __enter__(self) -> None:
        self._previous = STATE.anomaly
        STATE.anomaly = True

    def __exit__(self, *exc: object) -> None:
        STATE.anomaly = self._previous
