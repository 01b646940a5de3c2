"""Value: a scalar autograd engine in which every step of the chain rule is visible.

Each Value remembers the Values it was computed from (``_prev``) and, right
beside them, the *local derivative* of itself with respect to each one
(``_local``), computed during the forward pass. ``backward()`` then applies
the chain rule node by node, from the output back to the inputs::

    child.grad += local * node.grad        # dL/dchild += dnode/dchild * dL/dnode

The ``+=`` matters: a Value used twice receives a contribution from each use.
``to_dot()`` and ``draw()`` show the graph with every value and gradient.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from llmmath._validation import describe
from llmmath.autograd._draw import draw_value_graph
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = ["Value"]


class Value:
    """A scalar that records the operations applied to it.

    Lessons: ``derivatives`` (Derivatives, gradients and the chain rule); ``tensors`` (NumPy,
    PyTorch and llmmath side by side).

    Parameters
    ----------
    data : float
        The value.
    label : str
        A name shown in drawings.

    Attributes
    ----------
    data : float
    grad : float
        dL/d(this value) after ``L.backward()``; 0 before.

    Examples
    --------
    >>> from llmmath.autograd import Value
    >>> x, y = Value(2.0, label="x"), Value(-3.0, label="y")
    >>> z = x * y + x.tanh()
    >>> z.backward()
    >>> print(round(x.grad, 6), round(y.grad, 6))   # y + (1 - tanh(x)^2), x
    -2.929349 2.0
    """

    __slots__ = ("data", "grad", "_prev", "_local", "_op", "label")

    def __init__(self, data: float, _prev: tuple[Value, ...] = (), _local: tuple[float, ...] = (),
                 _op: str = "", label: str = "") -> None:
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise InvalidTypeError(f"Value: argument 'data' must be a real number; got "
                                   f"{describe(data)}.")
        self.data = float(data)
        self.grad = 0.0
        self._prev = _prev      # the inputs of the operation that made this value
        self._local = _local    # d(self)/d(input) for each input, same order
        self._op = _op
        self.label = label

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # ---------------------------------------------------------------- the ops
    def __add__(self, other: Any) -> Value:             # d(a+b)/da = 1, d(a+b)/db = 1
        other = _lift(other, "add")
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: Any) -> Value:             # d(ab)/da = b, d(ab)/db = a
        other = _lift(other, "mul")
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, p: Any) -> Value:                 # d(x^p)/dx = p x^(p-1)
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise InvalidTypeError(f"pow: the exponent must be a number; got {describe(p)}.")
        x, p = self.data, float(p)
        if x < 0 and not p.is_integer():
            raise InvalidValueError(f"pow: a negative base ({x}) needs an integer exponent; "
                                    f"got {p}.")
        if x == 0 and p < 1:
            raise InvalidValueError(f"pow: 0 ** {p} or its derivative is infinite.")
        out = _checked(lambda: x ** p, "pow")
        return Value(out, (self,), (_checked(lambda: p * x ** (p - 1), "pow"),), f"**{p:g}")

    def __rpow__(self, base: Any) -> Value:             # d(b^x)/dx = b^x ln b
        if isinstance(base, bool) or not isinstance(base, numbers.Real) or base <= 0:
            raise InvalidValueError(f"pow: a Value exponent needs a positive number as base; "
                                    f"got {describe(base)}.")
        out = _checked(lambda: float(base) ** self.data, "pow")
        return Value(out, (self,), (out * math.log(base),), f"{base:g}**")

    def exp(self) -> Value:                             # d(e^x)/dx = e^x
        out = _checked(lambda: math.exp(self.data), "exp")
        return Value(out, (self,), (out,), "exp")

    def log(self) -> Value:                             # d(ln x)/dx = 1/x
        if self.data <= 0:
            raise InvalidValueError(f"log: the input must be > 0; got {self.data}.")
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")

    def tanh(self) -> Value:                            # d(tanh x)/dx = 1 - tanh(x)^2
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def relu(self) -> Value:                            # 1 for x > 0, else 0
        x = self.data
        return Value(max(x, 0.0), (self,), (1.0 if x > 0 else 0.0,), "relu")

    def sigmoid(self) -> Value:                         # d(s)/dx = s (1 - s)
        x = self.data
        s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    # Everything else is built from the ops above.
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Any) -> Value:
        return self + (-_lift(other, "sub"))

    def __truediv__(self, other: Any) -> Value:
        other = _lift(other, "div")
        if other.data == 0:
            raise InvalidValueError(f"div: division of {self.data} by zero.")
        return self * other ** -1

    def __radd__(self, other: Any) -> Value:
        return self + other

    def __rmul__(self, other: Any) -> Value:
        return self * other

    def __rsub__(self, other: Any) -> Value:
        return _lift(other, "sub") - self

    def __rtruediv__(self, other: Any) -> Value:
        return _lift(other, "div") / self

    # --------------------------------------------------------- the chain rule
    def backward(self) -> None:
        """Fill ``.grad`` of every Value this one depends on with dL/d(value), L = self.

        Lesson: ``derivatives`` (Derivatives, gradients and the chain rule).

        Inputs (leaves) *accumulate*, as in PyTorch: a second ``backward()``
        adds to their ``.grad``; set ``leaf.grad = 0.0`` to start over.
        Intermediate values are reset, so their ``.grad`` always shows the
        last backward pass.
        """
        order = _topological_order(self)
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad += 1.0                                # dL/dL
        for node in reversed(order):
            for child, local in zip(node._prev, node._local, strict=True):
                child.grad += local * node.grad         # the chain rule, one edge

    # --------------------------------------------------------------- pictures
    def to_dot(self) -> str:
        """The graph as Graphviz DOT text: one record per value (label | data | grad).

        Returns
        -------
        str
            Render it with any Graphviz tool, e.g. ``dot -Tsvg``; nothing here
            needs Graphviz installed.

        Examples
        --------
        >>> from llmmath.autograd import Value
        >>> print((Value(2.0, label="a") * 3).to_dot().splitlines()[0])
        digraph value_graph {
        """
        order = _topological_order(self)
        ids = {id(v): f"v{i}" for i, v in enumerate(order)}
        lines = ["digraph value_graph {", "  rankdir=LR;"]
        for v in order:
            name = ids[id(v)]
            text = f"{v.label} | " if v.label else ""
            lines.append(f'  {name} [shape=record, label="{{ {text}data {v.data:.4f} | '
                         f'grad {v.grad:.4f} }}"];')
            if v._op:
                lines.append(f'  {name}_op [shape=circle, label="{v._op}"];')
                lines.append(f"  {name}_op -> {name};")
                for child, local in zip(v._prev, v._local, strict=True):
                    lines.append(f'  {ids[id(child)]} -> {name}_op [label="{local:.4g}"];')
        lines.append("}")
        return "\n".join(lines)

    def draw(self, figsize: tuple[float, float] | None = None) -> Any:
        """The graph as a matplotlib Figure: boxes for values, edges labelled with local derivatives.

        Columns are depths (inputs on the left, this value on the right).
        Each box shows label, data and grad; each edge shows d(parent)/d(child)
        and the operation's name.

        Returns
        -------
        matplotlib.figure.Figure
        """
        return draw_value_graph(self, _topological_order(self), figsize)


def _lift(x: Any, op: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise InvalidTypeError(f"{op}: cannot combine a Value with {describe(x)}.")
    return Value(float(x), label=f"const {float(x):g}")  # named, so a drawn graph says what it is


def _checked(fn: Any, op: str) -> float:
    try:
        return fn()
    except OverflowError:
        raise InvalidValueError(f"{op}: the result overflows a float.") from None


def _topological_order(root: Value) -> list[Value]:
    """Every value reachable from ``root``, each after its inputs (no recursion)."""
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if id(child) not in seen)
    return order
