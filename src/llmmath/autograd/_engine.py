"""The backward pass: a topological order of the graph, then the chain rule.

Every non-leaf tensor stores ``_prev`` (the tensors it was computed from) and
``_backward``, a function that takes the gradient of the loss with respect to
the tensor and returns one gradient per parent (``None`` where a parent needs
none). Backward functions never capture their own output tensor, so the graph
has no reference cycles: once the last reference to the loss goes, Python
frees the whole graph at once, without waiting for the garbage collector.

The engine walks the graph in reverse topological order (an explicit stack,
so a chain of 100 000 operations needs no recursion) and adds each parent's
share into a running total. Gradients of intermediate tensors are dropped as
soon as their backward function has run; leaves accumulate into ``.grad``.

Ownership rule (what makes in-place accumulation safe): a backward function
may return the incoming gradient itself, or a view of it, or a brand-new
array; it never modifies its input. The engine adds in place only into arrays
it created or received brand new (when the running total is borrowed and the
new share is brand new, the total is added into the new share).
"""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np

from llmmath.autograd._mode import STATE
from llmmath.errors import InvalidValueError

__all__ = ["BackwardError", "AnomalyError", "run_backward", "unbroadcast", "FREED"]


class BackwardError(InvalidValueError, RuntimeError):
    """``backward()`` cannot run: no scalar loss, a freed graph, a wrong gradient shape.

    It is a ``ValueError`` (the llmmath family) and a ``RuntimeError`` (what
    PyTorch raises in the same situations).
    """


class AnomalyError(BackwardError):
    """Raised under ``detect_anomaly()`` when a backward function makes NaN or inf."""


def _freed(g: np.ndarray) -> tuple[None, ...]:  # pragma: no cover - never called
    raise AssertionError("the engine checks for FREED before calling _backward")


#: Placed in ``_backward`` of a tensor whose graph was freed by ``backward()``.
FREED = _freed


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting stretched, giving back ``shape``.

    Broadcasting copies an operand along new leading axes and along axes of
    length 1, so in backward the copies' gradients add up: sum over exactly
    those axes.
    """
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    return g.sum(axis=axes).reshape(shape)


def _topological_order(root: Any) -> list[Any]:
    """Tensors that need a gradient, each after all of its parents (iterative DFS)."""
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._prev:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


def _describe_node(node: Any) -> str:
    where = ""
    if node._trace:
        frame = node._trace[-1]
        where = f"\nThe operation was created at {frame.filename}:{frame.lineno}: {frame.line}"
    return where


def _check_finite(node: Any, grads: tuple[Any, ...]) -> None:
    for i, pg in enumerate(grads):
        if pg is None or np.all(np.isfinite(pg)):
            continue
        kind = "NaN" if np.isnan(pg).any() else "inf"
        raise AnomalyError(
            f"backward of '{node._op}' returned {kind} in the gradient for its input {i} "
            f"(shape {node._prev[i].shape}); the output's shape is {node.data.shape}."
            + _describe_node(node)
        )


def run_backward(root: Any, gradient: np.ndarray, retain_graph: bool) -> None:
    """Propagate ``gradient`` (dL/d root) to every leaf that requires a gradient."""
    order = _topological_order(root)
    root._g, root._g_owned = gradient, False
    anomaly = STATE.anomaly
    try:
        for node in reversed(order):
            g = node._g
            node._g = None
            if g is None:
                continue
            backward = node._backward
            if backward is FREED:
                raise BackwardError(
                    f"backward: the graph through '{node._op}' (output shape {node.data.shape}) "
                    "was already freed by an earlier backward(). Pass retain_graph=True to "
                    "the first backward() to go backward through the same graph twice."
                )
            if backward is None or node._retain_grad:  # a leaf, or asked to keep .grad
                if node.grad is None:
                    node.grad = g if backward is None and node._g_owned else g.copy()
                else:
                    node.grad += g
                if backward is None:
                    continue
            if anomaly:
                with np.errstate(all="ignore"):
                    grads = backward(g)
                _check_finite(node, grads)
            else:
                grads = backward(g)
            for parent, pg in zip(node._prev, grads, strict=True):
                if pg is None or not parent.requires_grad:
                    continue
                if type(pg) is not np.ndarray:  # NumPy gives scalars for 0-d arithmetic
                    pg = np.asarray(pg)
                if pg.dtype != parent.data.dtype:
                    pg = pg.astype(parent.data.dtype)
                if pg.shape != parent.data.shape:  # an engine bug, never user error
                    raise AssertionError(
                        f"backward of '{node._op}' gave a gradient of shape {pg.shape} "
                        f"for an input of shape {parent.data.shape}"
                    )
                if parent._g is None:
                    parent._g = pg
                    parent._g_owned = pg.base is None and pg is not g
                elif parent._g_owned:
                    parent._g += pg
                elif pg.base is None and pg is not g:  # the new share is brand new: add into it
                    pg += parent._g
                    parent._g = pg
                    parent._g_owned = True
                else:
                    parent._g = parent._g + pg
                    parent._g_owned = True
            if not retain_graph:
                node._backward = FREED
                node._prev = ()
    finally:
        for node in order:
            node._g = None


def creation_trace() -> list[traceback.FrameSummary]:
    """The user's stack frames (outside llmmath.autograd) where an op was created."""
    frames = traceback.extract_stack()[:-2]
    outside = [f for f in frames if "llmmath/autograd" not in f.filename.replace("\\", "/")]
    return outside[-3:]
