"""The backward pass: a topological order of the graph, then the chain rule.

Every tensor made by a recorded operation points to a :class:`Node`: the
nodes of its inputs (``prev``), and ``backward``, a function that takes the
gradient of the loss with respect to the tensor and returns one gradient per
input (``None`` where an input needs none). The graph is made of nodes, not
of tensors: a node keeps the shape and dtype of its tensor but not its
values, so an intermediate result that no backward function needs (the
output of a residual branch, logits once the softmax is kept) is freed as
soon as the model's code drops it, as in PyTorch. What a backward function
needs, it keeps itself (its closure holds the arrays, never the input
tensors). A leaf that wants a gradient appears as a :class:`Node` with no
``backward`` that holds the tensor, so that the gradient can be added into
its ``.grad``. Backward functions never capture their own output, so the
graph has no reference cycles: once the last reference to the loss goes,
Python frees the whole graph at once, without waiting for the garbage
collector.

The engine walks the graph in reverse topological order (an explicit stack,
so a chain of 100 000 operations needs no recursion) and adds each input's
share into a running total. Gradients of intermediate tensors are dropped as
soon as their backward function has run, and so is the function with what it
kept (unless ``retain_graph``); leaves accumulate into ``.grad``.

Ownership rule (what makes in-place accumulation safe): a backward function
may return the incoming gradient itself, or a view of it, or a brand-new
array; it never modifies its input. The engine adds in place only into arrays
it created or received brand new (when the running total is borrowed and the
new share is brand new, the total is added into the new share). One
exception, asked for by the operation (``Tensor.from_op(..., reuse_grad=True)``):
its backward is called as ``backward(g, owned)``, and when ``owned`` is True
(the engine received g brand new and nobody else holds it) it may overwrite g
and return it as the gradient of one input -- an element-wise op then needs no
new array of its size.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import traceback
from typing import Any

import numpy as np

from llmmath.autograd._mode import STATE
from llmmath.errors import InvalidValueError

__all__ = ["BackwardError", "AnomalyError", "Node", "run_backward", "unbroadcast", "FREED"]


class BackwardError(InvalidValueError, RuntimeError):
    """``backward()`` cannot run: no scalar loss, a freed graph, a wrong gradient shape.

    Lesson: none (machinery of the engine's backward pass).

    It is a ``ValueError`` (the llmmath family) and a ``RuntimeError`` (what
    PyTorch raises in the same situations).
    """


class AnomalyError(BackwardError):
    """Raised under ``detect_anomaly()`` when a backward function makes NaN or inf.

    Lesson: none (machinery of the engine's backward pass).
    """


def _freed(g: np.ndarray) -> tuple[None, ...]:  # pragma: no cover - never called
    raise AssertionError("the engine checks for FREED before calling _backward")


#: Placed in ``Node.backward`` once ``backward()`` has freed the graph through the node.
FREED = _freed


class Node:
    """One place in the graph: a recorded operation, or a leaf that wants a gradient.

    ``prev`` holds one entry per input of the operation (a Node, or ``None``
    for an input that needs no gradient), in the order ``backward`` returns
    gradients. A leaf's node has no ``backward`` and holds its tensor in
    ``tensor``; an operation's node holds its tensor (weakly) only when
    ``retain_grad()`` asked for the gradient. ``g`` is the running total of
    dL/d(tensor) during a backward pass.
    """

    __slots__ = ("prev", "backward", "op", "shape", "dtype", "tensor", "g", "g_owned", "trace",
                 "reuse_grad")

    def __init__(self, prev: tuple[Any, ...], backward: Any, op: str, shape: tuple[int, ...],
                 dtype: np.dtype, tensor: Any = None, trace: Any = None,
                 reuse_grad: bool = False) -> None:
        self.prev, self.backward, self.op = prev, backward, op
        self.shape, self.dtype, self.tensor, self.trace = shape, dtype, tensor, trace
        self.reuse_grad = reuse_grad                 # backward(g, owned) may overwrite g
        self.g: np.ndarray | None = None
        self.g_owned = False

    def target(self) -> Any:
        """The tensor whose ``.grad`` receives this node's gradient, if any (leaf or retained)."""
        t = self.tensor
        if t is None or self.backward is None:
            return t
        return t()                                   # retain_grad: a weak reference


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


def _topological_order(root: Node) -> list[Node]:
    """Nodes, each after all of its inputs' nodes (iterative depth-first search)."""
    order: list[Node] = []
    visited: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node.prev:
            if parent is not None and id(parent) not in visited:
                stack.append((parent, False))
    return order


def _describe_node(node: Node) -> str:
    where = ""
    if node.trace:
        frame = node.trace[-1]
        where = f"\nThe operation was created at {frame.filename}:{frame.lineno}: {frame.line}"
    return where


def _check_finite(node: Node, grads: tuple[Any, ...]) -> None:
    for i, pg in enumerate(grads):
        if pg is None or np.all(np.isfinite(pg)):
            continue
        kind = "NaN" if np.isnan(pg).any() else "inf"
        shape = f" (shape {np.shape(pg)})"
        raise AnomalyError(
            f"backward of '{node.op}' returned {kind} in the gradient for its input {i}"
            f"{shape}; the output's shape is {node.shape}."
            + _describe_node(node)
        )


_ALLOCATOR = {"tuned": False, "set": False}
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3        # mallopt's parameter numbers (glibc)


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse rather than hand it back at once (once).

    Backward frees what each operation saved as soon as the operation is
    done, last layer first, so the top of the heap empties while later layers'
    gradients are still to be allocated. glibc gives the top back to the system
    whenever more than twice its largest freed block is free there (3 MiB for
    the baby GPT), and every page taken again costs a page fault: measured, 5000
    faults per baby step, about a quarter of its time. Here blocks below 32 MiB
    (glibc's own upper limit for that adaptive threshold) come from the heap and
    up to 128 MiB of free heap is kept. Nothing is done when the user set a
    ``MALLOC_*`` variable, or off glibc. Returns whether the settings were made.
    """
    if _ALLOCATOR["tuned"]:
        return _ALLOCATOR["set"]
    _ALLOCATOR["tuned"] = True                        # try once
    if not sys.platform.startswith("linux") or any(k.startswith("MALLOC_") for k in os.environ):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    done = bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20) and mallopt(_M_TRIM_THRESHOLD, 128 << 20))
    _ALLOCATOR["set"] = done
    return done


def run_backward(root: Node, gradient: np.ndarray, retain_graph: bool) -> None:
    """Propagate ``gradient`` (dL/d root) to every leaf that requires a gradient."""
    if not _ALLOCATOR["tuned"]:
        keep_freed_memory()
    order = _topological_order(root)
    root.g, root.g_owned = gradient, False
    anomaly = STATE.anomaly
    try:
        for node in reversed(order):
            g = node.g
            node.g = None
            if g is None:
                continue
            owned = node.g_owned
            backward = node.backward
            if backward is FREED:
                raise BackwardError(
                    f"backward: the graph through '{node.op}' (output shape {node.shape}) "
                    "was already freed by an earlier backward(). Pass retain_graph=True to "
                    "the first backward() to go backward through the same graph twice."
                )
            if node.tensor is not None:                  # a leaf, or asked to keep .grad
                t = node.target()
                if t is not None:
                    if t.grad is None:
                        t.grad = g if backward is None and node.g_owned else g.copy()
                    else:
                        t.grad += g
                if backward is None:
                    continue
            reuse = node.reuse_grad
            owned = owned and reuse and node.tensor is None
            if anomaly:
                with np.errstate(all="ignore"):
                    grads = backward(g, owned) if reuse else backward(g)
                _check_finite(node, grads)
            else:
                grads = backward(g, owned) if reuse else backward(g)
            for parent, pg in zip(node.prev, grads, strict=True):
                if pg is None or parent is None:
                    continue
                if type(pg) is not np.ndarray:  # NumPy gives scalars for 0-d arithmetic
                    pg = np.asarray(pg)
                if pg.dtype != parent.dtype:
                    pg = pg.astype(parent.dtype)
                if pg.shape != parent.shape:  # an engine bug, never user error
                    raise AssertionError(
                        f"backward of '{node.op}' gave a gradient of shape {pg.shape} "
                        f"for an input of shape {parent.shape}"
                    )
                fresh = pg.base is None and (pg is not g or owned)   # nobody else holds it
                if parent.g is None:
                    parent.g = pg
                    parent.g_owned = fresh
                elif parent.g_owned:
                    parent.g += pg
                elif fresh:                           # the new share is brand new: add into it
                    pg += parent.g
                    parent.g = pg
                    parent.g_owned = True
                else:
                    parent.g = parent.g + pg
                    parent.g_owned = True
            del grads, g
            if not retain_graph:
                node.backward = FREED                     # frees what the function kept
                node.prev = ()
    finally:
        for node in order:
            node.g = None


def creation_trace() -> list[traceback.FrameSummary]:
    """The user's stack frames (outside llmmath.autograd) where an op was created."""
    frames = traceback.extract_stack()[:-2]
    outside = [f for f in frames if "llmmath/autograd" not in f.filename.replace("\\", "/")]
    return outside[-3:]
