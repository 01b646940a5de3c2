"""Tensor: reverse-mode automatic differentiation over NumPy arrays, every primitive op in one file.

Each operation is written the same way: compute ``data`` with NumPy, define
``backward(g)`` right beside it (given dL/d(out), return dL/d(input) for each
input), and return ``Tensor.from_op(data, parents, backward, name)``. The
primitives, in the order of this file: arithmetic (``+ - * / ** @``), unary
maps (exp, log, tanh, relu, sigmoid, gelu), reductions (sum, mean, max, min)
and shapes (reshape, permute, transpose, indexing). Broadcasting in the
forward pass becomes a sum in the backward pass (``unbroadcast``). The fused
operations built on these (softmax, layer norm, attention…) are in
:mod:`llmmath.autograd.functional`; the walk of the graph is in ``_engine.py``.

Gradient semantics are PyTorch's:

- ``.grad`` of a leaf is ``None`` until the first ``backward()``; later calls
  *add* into it (gradient accumulation). ``zero_grad`` sets it back to
  ``None`` (or to zeros).
- Intermediate tensors keep no ``.grad`` unless ``retain_grad()`` was called.
- ``backward()`` frees the graph; a second ``backward()`` through it raises
  :class:`~llmmath.autograd.BackwardError` unless the first one passed
  ``retain_graph=True``. (Stricter than PyTorch, which raises only when a
  freed operation had saved tensors: here every freed operation raises.)
- dtypes are kept: float32 in, float32 gradients out.
"""

from __future__ import annotations

import math
import numbers
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from llmmath._validation import as_float_array, check_axis, check_bool, check_choice, describe
from llmmath.autograd._engine import BackwardError, Node, creation_trace, run_backward, unbroadcast
from llmmath.autograd._mode import STATE
from llmmath.calculus import gelu as gelu_exact
from llmmath.calculus import gelu_grad as gelu_exact_grad
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = ["Tensor", "Parameter", "as_tensor"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_K = 0.044715                             # the cubic term of GELU's tanh approximation
_CHUNK = 1 << 14                               # entries per chunk of GELU's backward

Backward = Callable[[np.ndarray], tuple[np.ndarray | None, ...]]


class Tensor:
    """An array that records how it was computed, so that it can be differentiated.

    Lessons: ``svd_lora`` (SVD, low-rank approximation and LoRA); ``backprop`` (Backpropagation);
    ``tensors`` (NumPy, PyTorch and llmmath side by side).

    Parameters
    ----------
    data : array_like
        Real numbers. float32 stays float32; everything else becomes float64.
        The array is copied.
    requires_grad : bool
        Whether gradients with respect to this tensor are wanted.
    dtype : {None, numpy.float32, numpy.float64}
        Force a dtype.

    Attributes
    ----------
    data : numpy.ndarray
        The values.
    grad : numpy.ndarray or None
        dL/d(data) after ``backward()``, same shape and dtype as ``data``.

    Examples
    --------
    >>> from llmmath.autograd import Tensor
    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> loss = (x * x).sum()          # L = sum of x_ij^2
    >>> loss.backward()
    >>> print(x.grad)                 # dL/dx = 2x
    [[2. 4.]
     [6. 8.]]
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "__weakref__")
    __array_ufunc__ = None  # numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
            raise InvalidTypeError(
                f"Tensor: argument 'dtype' must be float32 or float64; got {dtype!r}."
            )
        arr = as_float_array(data, "data", "Tensor", allow_nan=True, allow_inf=True, dtype=dtype)
        if arr is data:
            arr = arr.copy()
        self.data: np.ndarray = arr
        self.grad: np.ndarray | None = None
        self.requires_grad: bool = check_bool(requires_grad, "requires_grad", "Tensor")
        self._node: Node | None = None              # set by from_op when the graph records

    @staticmethod
    def from_op(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward,
                op: str, reuse_grad: bool = False) -> Tensor:
        """The result of an operation: ``data``, and its place in the graph.

        This is how every operation (and any custom one) is built. The graph is
        recorded only when grad mode is on and some parent requires a gradient.

        Parameters
        ----------
        data : numpy.ndarray
            The forward result.
        parents : tuple of Tensor
            The inputs, in the order ``backward`` returns their gradients.
        backward : callable
            ``backward(g)`` takes dL/d(out) and returns one array (or ``None``)
            per parent: dL/d(parent). It must not modify ``g``, and must not
            hold a reference to the output tensor. It should keep the arrays it
            needs rather than the parent tensors, so that the graph does not
            keep alive the values of tensors whose backward needs none.
        op : str
            A name for error messages, ``repr`` and drawings.
        reuse_grad : bool
            Call backward as ``backward(g, owned)``: when ``owned`` is True the
            engine holds the only reference to ``g``, and backward may write
            its result into ``g`` and return it (for one parent only).

        Returns
        -------
        Tensor
        """
        out = object.__new__(Tensor)
        out.data = data if type(data) is np.ndarray else np.asarray(data)
        out.grad = None
        if STATE.grad_enabled and any(p.requires_grad for p in parents):
            out.requires_grad = True
            prev = tuple(p._graph_node() if p.requires_grad else None for p in parents)
            out._node = Node(prev, backward, op, out.data.shape, out.data.dtype,
                             trace=creation_trace() if STATE.anomaly else None,
                             reuse_grad=reuse_grad)
        else:
            out.requires_grad = False
            out._node = None
        return out

    def _graph_node(self) -> Node:
        """This tensor's place in a graph: its operation's node, or a new node for a leaf."""
        node = self._node
        if node is None:
            node = Node((), None, "leaf", self.data.shape, self.data.dtype, tensor=self)
        return node

    # ----------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an operation that records a graph)."""
        return self._node is None

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise InvalidTypeError("len: a 0-d tensor has no length.")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        """Sub-tensors along the first axis (each keeps its place in the graph)."""
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = f", op='{self._node.op}'" if self._node is not None else (
            ", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({body}{extra})"

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise InvalidValueError(
                f"item: only a one-element tensor converts to a number; got shape {self.shape}."
            )
        return float(self.data.reshape(()))

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        return self.data

    def detach(self) -> Tensor:
        """A tensor sharing ``data`` but cut from the graph (no gradient flows through it)."""
        out = Tensor.from_op(self.data, (), _no_backward, "detach")
        return out

    def retain_grad(self) -> None:
        """Keep ``.grad`` of this intermediate tensor after ``backward()``."""
        if self._node is not None:
            self._node.tensor = weakref.ref(self)   # weak: the graph never keeps a tensor alive

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradient (``None``, or zeros in place)."""
        if set_to_none:
            self.grad = None
        elif self.grad is not None:
            self.grad[...] = 0

    # --------------------------------------------------------------- backward
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Compute dL/dx for every leaf x this tensor depends on, adding into ``x.grad``.

        Lesson: ``backprop`` (Backpropagation).

        Reverse-mode chain rule: visit the graph from this tensor back to the
        leaves in reverse topological order; at each operation multiply the
        incoming gradient by the local derivative (the op's ``backward``).

        Parameters
        ----------
        gradient : array_like, optional
            dL/d(self). Required unless the tensor has one element (then 1).
        retain_graph : bool
            Keep the graph so that ``backward()`` can run through it again.

        Raises
        ------
        BackwardError
            The tensor does not require grad, is not a scalar and no gradient
            is given, the gradient has the wrong shape, or the graph was freed.

        Examples
        --------
        >>> from llmmath.autograd import Tensor
        >>> x = Tensor(3.0, requires_grad=True)
        >>> y = x * x
        >>> y.backward(retain_graph=True)
        >>> y.backward()                    # accumulates: 6 + 6
        >>> print(x.grad)
        12.0
        """
        if not self.requires_grad:
            raise BackwardError(
                "backward: this tensor does not require grad and has no graph (it was made "
                "from tensors with requires_grad=False, or under no_grad())."
            )
        if gradient is None:
            if self.data.size != 1:
                raise BackwardError(
                    f"backward: the gradient can be implied only for a one-element output; got "
                    f"shape {self.shape}. Reduce it to a scalar (e.g. .sum()) or pass "
                    "gradient= with that shape."
                )
            seed = np.ones_like(self.data)
        else:
            seed = as_float_array(gradient, "gradient", "backward", allow_nan=True,
                                  allow_inf=True, dtype=self.dtype)
            if seed.shape != self.shape:
                raise BackwardError(
                    f"backward: argument 'gradient' must have the output's shape {self.shape}; "
                    f"got shape {seed.shape}."
                )
        run_backward(self._graph_node(), seed, check_bool(retain_graph, "retain_graph", "backward"))

    # ---------------------------------------------------- binary arithmetic
    def __add__(self, other: Any) -> Tensor:
        a, b = self, as_tensor(other, like=self)
        data = _broadcasting(np.add, a, b, "add")
        (sa, need_a), (sb, need_b) = _shape_and_need(a), _shape_and_need(b)

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
            return (unbroadcast(g, sa) if need_a else None,
                    unbroadcast(g, sb) if need_b else None)

        return Tensor.from_op(data, (a, b), backward, "add")

    def __sub__(self, other: Any) -> Tensor:
        a, b = self, as_tensor(other, like=self)
        data = _broadcasting(np.subtract, a, b, "sub")
        (sa, need_a), (sb, need_b) = _shape_and_need(a), _shape_and_need(b)

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
            return (unbroadcast(g, sa) if need_a else None,
                    unbroadcast(-g, sb) if need_b else None)

        return Tensor.from_op(data, (a, b), backward, "sub")

    def __mul__(self, other: Any) -> Tensor:
        a, b = self, as_tensor(other, like=self)
        data = _broadcasting(np.multiply, a, b, "mul")
        (sa, need_a), (sb, need_b) = _shape_and_need(a), _shape_and_need(b)
        A = a.data if need_b else None                  # keep only what backward reads
        B = b.data if need_a else None

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:  # d(ab) = b da + a db
            return (unbroadcast(g * B, sa) if need_a else None,
                    unbroadcast(g * A, sb) if need_b else None)

        return Tensor.from_op(data, (a, b), backward, "mul")

    def __truediv__(self, other: Any) -> Tensor:
        a, b = self, as_tensor(other, like=self)
        data = _broadcasting(np.divide, a, b, "div")
        (sa, need_a), (sb, need_b) = _shape_and_need(a), _shape_and_need(b)
        B = b.data

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:  # d(a/b) = da/b - a db/b^2
            return (unbroadcast(g / B, sa) if need_a else None,
                    unbroadcast(-g * data / B, sb) if need_b else None)

        return Tensor.from_op(data, (a, b), backward, "div")

    def __radd__(self, other: Any) -> Tensor:
        return as_tensor(other, like=self) + self

    def __rsub__(self, other: Any) -> Tensor:
        return as_tensor(other, like=self) - self

    def __rmul__(self, other: Any) -> Tensor:
        return as_tensor(other, like=self) * self

    def __rtruediv__(self, other: Any) -> Tensor:
        return as_tensor(other, like=self) / self

    # In place (``p -= lr * p.grad``): allowed only where no graph can be corrupted, i.e.
    # inside ``no_grad()`` or on tensors that do not require grad -- PyTorch's rule.
    def _in_place(self, other: Any, ufunc: np.ufunc, op: str) -> Tensor:
        if STATE.grad_enabled and self.requires_grad:
            raise InvalidValueError(
                f"{op}: a tensor that requires grad cannot be changed in place while the graph "
                "is recorded (backward would use the new values). Update parameters inside "
                "`with no_grad():`, or write `x = x + ...` for a new tensor."
            )
        other_data = other.data if isinstance(other, Tensor) else other
        try:
            ufunc(self.data, other_data, out=self.data)
        except ValueError:
            raise ShapeError(f"{op}: cannot update shape {self.shape} in place with shape "
                             f"{np.shape(other_data)}.") from None
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place(other, np.add, "iadd")

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place(other, np.subtract, "isub")

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place(other, np.multiply, "imul")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place(other, np.divide, "idiv")

    def __neg__(self) -> Tensor:
        return Tensor.from_op(-self.data, (self,), lambda g: (-g,), "neg")

    def __pow__(self, exponent: Any) -> Tensor:
        """``x ** p`` for a real number p; d(x^p)/dx = p x^(p-1)."""
        if isinstance(exponent, (bool, np.bool_)) or not isinstance(
                exponent, (numbers.Real, np.integer, np.floating)):
            raise InvalidTypeError(
                f"pow: the exponent must be a real number; got {describe(exponent)}. "
                "For a tensor exponent write (b * a.log()).exp()."
            )
        x, p = self.data, float(exponent)
        data = _power(x, p)
        return Tensor.from_op(data, (self,), lambda g: (g * (p * _power(x, p - 1.0)),), "pow")

    def __matmul__(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules (1-D operands, batched and broadcast stacks)."""
        a, b = self, as_tensor(other, like=self)
        if a.ndim == 0 or b.ndim == 0:
            raise ShapeError(f"matmul: operands must have at least 1 axis; got shapes "
                             f"{a.shape} and {b.shape}.")
        try:
            data = np.matmul(a.data, b.data)
        except ValueError:
            raise ShapeError(
                f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the first "
                f"({a.shape[-1]}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
                f"axis of the second ({b.shape[0] if b.ndim == 1 else b.shape[-2]}), and the "
                "leading (batch) axes must broadcast."
            ) from None

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
            A = a.data[None, :] if a.ndim == 1 else a.data     # (..., n, k)
            B = b.data[:, None] if b.ndim == 1 else b.data     # (..., k, m)
            G = g[..., None] if b.ndim == 1 else g
            G = G[..., None, :] if a.ndim == 1 else G          # (..., n, m)
            ga = gb = None
            if a.requires_grad:
                ga = unbroadcast(G @ np.swapaxes(B, -1, -2), A.shape).reshape(a.shape)
            if b.requires_grad:
                if B.ndim == 2 and A.ndim > 2:   # x @ W: one big product, not a stack
                    gb = A.reshape(-1, A.shape[-1]).T @ G.reshape(-1, G.shape[-1])
                else:
                    gb = unbroadcast(np.swapaxes(A, -1, -2) @ G, B.shape)
                gb = gb.reshape(b.shape)
            return ga, gb

        return Tensor.from_op(data, (a, b), backward, "matmul")

    def __rmatmul__(self, other: Any) -> Tensor:
        return as_tensor(other, like=self) @ self

    # ------------------------------------------------------------ unary maps
    def exp(self) -> Tensor:
        """e^x; d/dx e^x = e^x."""
        data = np.exp(self.data)
        return Tensor.from_op(data, (self,), lambda g: (g * data,), "exp")

    def log(self) -> Tensor:
        """Natural log; d/dx log x = 1/x. log 0 = -inf (NumPy warns for x < 0)."""
        x = self.data
        with np.errstate(divide="ignore"):
            data = np.log(x)
        return Tensor.from_op(data, (self,), lambda g: (g / x,), "log")

    def tanh(self) -> Tensor:
        """Hyperbolic tangent; d/dx tanh x = 1 - tanh(x)^2."""
        t = np.tanh(self.data)
        return Tensor.from_op(t, (self,), lambda g: (g * (1.0 - t * t),), "tanh")

    def relu(self) -> Tensor:
        """max(x, 0); the derivative is 1 for x > 0 and 0 for x <= 0 (as in PyTorch)."""
        x = self.data
        return Tensor.from_op(np.maximum(x, 0.0), (self,), lambda g: (g * (x > 0),), "relu")

    def sigmoid(self) -> Tensor:
        """1/(1 + e^-x), computed without overflow; d/dx = s(1 - s)."""
        x = self.data
        e = np.exp(-np.abs(x))
        s = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        return Tensor.from_op(s, (self,), lambda g: (g * s * (1.0 - s),), "sigmoid")

    def gelu(self, approximate: str = "tanh") -> Tensor:
        r"""GELU, x Φ(x): GPT-2's tanh approximation by default, or the exact form ("none").

        The formulas and their derivatives are in :func:`llmmath.autograd.functional.gelu`.
        The exact form is :func:`llmmath.calculus.gelu` (forward) and
        :func:`llmmath.calculus.gelu_grad` (backward), the library's one copy of it.

        Examples
        --------
        >>> from llmmath.autograd import Tensor
        >>> print(Tensor([-1.0, 0.0, 1.0]).gelu().data.round(4))
        [-0.1588  0.      0.8412]
        """
        mode = check_choice(approximate, "approximate", "gelu", ("tanh", "none"))
        x = self.data
        if mode == "none":
            return Tensor.from_op(gelu_exact(x), (self,),
                                  lambda g: (g * gelu_exact_grad(x),), "gelu")
        X = x.reshape(-1)                            # 1-D: in-place ops need arrays, not scalars
        y = X * X                                    # x^2 (never x ** 3: NumPy's power is slow)
        y *= _GELU_K * _SQRT_2_OVER_PI
        y += _SQRT_2_OVER_PI
        y *= X                                       # u = sqrt(2/pi) (x + 0.044715 x^3)
        np.tanh(y, out=y)                            # t = tanh(u)
        y += 1.0
        y *= 0.5                                     # h = (1 + t) / 2
        y *= X                                       # y = x h
        # Memory branch: backward needs x and h, and the next layer keeps y anyway, so h is
        # not stored but recovered as y / x, within two roundings of h wherever x h is a
        # normal number; where |x| is below 4 x the smallest normal number (x h could be
        # subnormal, or 0/0), h = 1/2 + O(x) is 1/2 to the dtype's precision. Saves one
        # array of the input's size: 1.5 MiB per MLP of the baby GPT, 6 MiB of a step.
        tiny = 4.0 * float(np.finfo(y.dtype).tiny)

        def backward(g: np.ndarray, owned: bool = False) -> tuple[np.ndarray]:
            # dy/dx = h + x dh/dx, and dh/dx = (1 - t^2)/2 du/dx = 2 h (1 - h) du/dx;
            # x (1 - h) = x - y, so dy/dx = h (1 + (x - y) 2 du/dx).
            # Memory branch: in chunks of _CHUNK entries, so that the temporaries are small,
            # and into g itself when the engine owns it (no new array of the input's size);
            # 4.5 MiB less at the baby GPT's peak (the backward of the last MLP's GELU).
            G = g.reshape(-1)
            out = G if owned else np.empty_like(G)
            n = min(X.size, _CHUNK)
            d, h, a = (np.empty(n, X.dtype) for _ in range(3))
            small = np.empty(n, bool)
            for i in range(0, X.size, _CHUNK):
                xs, ys = X[i:i + _CHUNK], y[i:i + _CHUNK]
                m = xs.size
                dc, hc, sc = d[:m], h[:m], small[:m]
                np.multiply(xs, xs, out=dc)
                dc *= 6.0 * _GELU_K * _SQRT_2_OVER_PI
                dc += 2.0 * _SQRT_2_OVER_PI          # 2 du/dx
                np.subtract(xs, ys, out=hc)          # x (1 - h)
                dc *= hc
                dc += 1.0
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    np.divide(ys, xs, out=hc)        # h = y / x ...
                np.less(np.abs(xs, out=a[:m]), tiny, out=sc)
                if sc.any():
                    hc[sc] = 0.5                     # ... or 1/2 where x is (nearly) 0
                dc *= hc
                np.multiply(dc, G[i:i + m], out=out[i:i + m])
            return (out.reshape(x.shape),)

        return Tensor.from_op(y.reshape(x.shape), (self,), backward, "gelu", reuse_grad=True)

    # ------------------------------------------------------------ reductions
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (int, tuple or None for all); the gradient is copied back.

        Each input entry contributed with coefficient 1, so dL/dx_i = dL/d(sum):
        backward broadcasts g back to the input's shape.

        Examples
        --------
        >>> from llmmath.autograd import Tensor
        >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> s = x.sum(axis=0)
        >>> print(s.data)
        [4. 6.]
        >>> s.backward(gradient=[10.0, 1.0])
        >>> print(x.grad)
        [[10.  1.]
         [10.  1.]]
        """
        axes = _check_axes(axis, self.ndim, "sum")
        data = np.sum(self.data, axis=axes, keepdims=keepdims)
        shape, kept = self.shape, _kept_shape(self.shape, axes)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (np.broadcast_to(g.reshape(kept), shape),)

        return Tensor.from_op(data, (self,), backward, "sum")

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis``: (1/n) Σ x_i, so g/n is copied back to each input."""
        axes = _check_axes(axis, self.ndim, "mean")
        count = math.prod(self.shape[i] for i in axes)
        if count == 0:
            raise InvalidValueError(
                f"mean: cannot average over axis {axis!r} of shape {self.shape}: it is empty."
            )
        data = np.sum(self.data, axis=axes, keepdims=keepdims) / count
        shape, kept = self.shape, _kept_shape(self.shape, axes)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (np.broadcast_to(g.reshape(kept) / count, shape),)

        return Tensor.from_op(data, (self,), backward, "mean")

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis``; ties share the gradient equally (as ``torch.amax``).

        The derivative is 1 at the maximum and 0 elsewhere; with k tied maxima
        each gets 1/k. (``torch.max(x, dim)`` gives all of it to one index;
        ``torch.amax`` and ``torch.max(x)`` share it, as here.)

        Examples
        --------
        >>> from llmmath.autograd import Tensor
        >>> x = Tensor([1.0, 5.0, 5.0], requires_grad=True)
        >>> x.max().backward()
        >>> print(x.grad)
        [0.  0.5 0.5]
        """
        return self._extreme(axis, keepdims, "max")

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; ties share the gradient equally (as ``torch.amin``)."""
        return self._extreme(axis, keepdims, "min")

    def _extreme(self, axis: Any, keepdims: bool, which: str) -> Tensor:
        axes = _check_axes(axis, self.ndim, which)
        if self.data.size == 0 or any(self.shape[i] == 0 for i in axes):
            raise InvalidValueError(
                f"{which}: cannot take the {which}imum over axis {axis!r} of shape "
                f"{self.shape}: it is empty."
            )
        x = self.data
        data = (np.max if which == "max" else np.min)(x, axis=axes, keepdims=keepdims)
        kept = _kept_shape(self.shape, axes)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            hit = x == data.reshape(kept)                            # where the extreme is
            count = hit.sum(axis=axes, keepdims=True, dtype=x.dtype)  # ties share equally
            return (hit * (g.reshape(kept) / count),)

        return Tensor.from_op(data, (self,), backward, which)

    # ---------------------------------------------------------------- shapes
    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape (one entry may be -1); the gradient is reshaped back.

        Examples
        --------
        >>> from llmmath.autograd import Tensor
        >>> Tensor([1.0, 2.0, 3.0, 4.0]).reshape(2, -1).shape
        (2, 2)
        """
        if len(shape) == 1 and not isinstance(shape[0], (numbers.Integral, np.integer)):
            shape = shape[0]
        try:
            new_shape = tuple(int(n) for n in shape)
        except (TypeError, ValueError):
            raise InvalidTypeError(
                f"reshape: argument 'shape' must be integers; got {shape!r}."
            ) from None
        try:
            data = self.data.reshape(new_shape)
        except ValueError:
            raise ShapeError(
                f"reshape: cannot reshape shape {self.shape} ({self.data.size} elements) into "
                f"{new_shape}; the number of elements must stay the same."
            ) from None
        old = self.shape
        return Tensor.from_op(data, (self,), lambda g: (g.reshape(old),), "reshape")

    def permute(self, *axes: Any) -> Tensor:
        """Reorder the axes: ``axes`` is a permutation of ``range(ndim)``.

        The gradient goes back through the inverse permutation.
        """
        if len(axes) == 1 and isinstance(axes[0], Sequence):
            axes = tuple(axes[0])
        n = self.ndim
        if len(axes) != n or sorted(check_axis(a, n, "axes", "permute") for a in axes) \
                != list(range(n)):
            raise InvalidValueError(
                f"permute: argument 'axes' must be a permutation of range({n}) for shape "
                f"{self.shape}; got {axes!r}."
            )
        order = tuple(a % n for a in axes)
        inverse = tuple(int(i) for i in np.argsort(order))
        data = self.data.transpose(order)
        return Tensor.from_op(data, (self,), lambda g: (g.transpose(inverse),), "permute")

    def transpose(self, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        """Swap two axes (PyTorch's meaning); with no arguments reverse all axes.

        Note NumPy's ``transpose(1, 0)`` is a full permutation; here two
        arguments always name the two axes to swap. Use :meth:`permute` for
        any other order.

        Examples
        --------
        >>> from llmmath.autograd import Tensor
        >>> import numpy as np
        >>> Tensor(np.zeros((2, 3, 4))).transpose(1, 2).shape    # (B, T, C) -> (B, C, T)
        (2, 4, 3)
        """
        order = list(range(self.ndim))
        if dim0 is None and dim1 is None:
            return self.permute(order[::-1])
        if dim0 is None or dim1 is None:
            raise InvalidValueError("transpose: give both axes to swap, or neither to reverse all.")
        i = check_axis(dim0, self.ndim, "dim0", "transpose")
        j = check_axis(dim1, self.ndim, "dim1", "transpose")
        order[i], order[j] = order[j], order[i]
        return self.permute(order)

    @property
    def T(self) -> Tensor:  # noqa: N802
        """All axes reversed (NumPy's ``.T``)."""
        return self.transpose()

    def __getitem__(self, index: Any) -> Tensor:
        """``x[index]`` with NumPy's rules; repeated fancy indices add their gradients.

        Basic indexing (ints, slices, ``None``, ``...``) picks each entry at most
        once, so backward writes g into a zero array. Fancy indexing (integer or
        boolean arrays) may pick an entry several times, and the gradients of the
        copies must add up: ``np.add.at`` accumulates repeated indices (a plain
        ``grad[idx] += g`` would keep only the last one).

        Examples
        --------
        >>> from llmmath.autograd import Tensor
        >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> x[[0, 0, 2]].sum().backward()        # entry 0 picked twice
        >>> print(x.grad)
        [2. 0. 1.]
        """
        idx, fancy = _index_key(index)
        try:
            data = self.data[idx]
        except IndexError as err:
            raise InvalidValueError(
                f"getitem: index {index!r} does not fit a tensor of shape {self.shape} ({err})."
            ) from None
        shape, dtype = self.shape, self.dtype

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            grad = np.zeros(shape, dtype)
            if fancy:
                np.add.at(grad, idx, g)
            else:
                grad[idx] = g
            return (grad,)

        return Tensor.from_op(data, (self,), backward, "getitem")


class Parameter(Tensor):
    """A tensor that a :class:`~llmmath.nn.Module` trains: ``requires_grad`` is True.

    Lesson: none (part of the autograd engine the lessons use through the models).

    Examples
    --------
    >>> from llmmath.autograd import Parameter
    >>> Parameter([1.0, 2.0]).requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]


def _no_backward(g: np.ndarray) -> tuple[()]:
    return ()


def as_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant Tensor (no gradient).

    Lesson: none (part of the autograd engine the lessons use through the models).

    A constant takes the dtype of ``like`` when given (so ``x32 * 2.0`` stays
    float32, as in PyTorch).
    """
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if like is not None else None
    if dtype is not None and (type(x) is float or (type(x) is int and abs(x) < 2**53)):
        # fast path for Python numbers
        return Tensor.from_op(np.asarray(x, dtype=dtype), (), _no_backward, "constant")
    if isinstance(x, (str, bytes)) or x is None:
        raise InvalidTypeError(
            f"Tensor: cannot combine a tensor with {describe(x)}; expected a number, an "
            "array or a Tensor."
        )
    return Tensor(x, dtype=dtype)


def tensor_argument(x: Any, name: str, op: str, allow_inf: Any = False) -> Tensor:
    """An argument of a public function as a Tensor.

    A Tensor is used as it is. Anything else is checked like every llmmath
    array argument (real, finite; ``allow_inf="neg"`` admits -inf, a masked
    logit) and wrapped as a constant.
    """
    if isinstance(x, Tensor):
        return x
    return Tensor(as_float_array(x, name, op, allow_inf=allow_inf))


def _shape_and_need(t: Tensor) -> tuple[tuple[int, ...], bool]:
    """What a backward function keeps of an input: its shape and whether it wants a gradient
    (not the tensor, whose values the graph then need not keep alive)."""
    return t.data.shape, t.requires_grad


def _broadcasting(ufunc: np.ufunc, a: Tensor, b: Tensor, op: str) -> np.ndarray:
    try:
        return ufunc(a.data, b.data)
    except ValueError:
        raise ShapeError(
            f"{op}: shapes {a.shape} and {b.shape} do not broadcast (aligned from the right, "
            "each pair of lengths must be equal or one of them 1)."
        ) from None


def _check_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Normalised tuple of axes for a reduction (None means all)."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = tuple(check_axis(ax, ndim, "axis", op) for ax in axes)
    if len(set(out)) != len(out):
        raise InvalidValueError(f"{op}: argument 'axis' repeats an axis: {axis!r}.")
    return out


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as length 1 (where g broadcasts back)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _power(x: np.ndarray, p: float) -> np.ndarray:
    """x ** p, element by element (a new array).

    Speed branch: NumPy's general power routine is slow for small integer
    exponents, so p = 1, 2, 3 are written as a copy and products (same values
    up to rounding). Measured on a float32 (768, 512) array: ``np.power(x, 3.0)``
    24 ms against 0.10 ms for ``x * x * x``; ``np.power(x, 2.0)`` 0.20 ms
    against 0.05 ms for ``x * x``. The backward of ``x ** 2`` and ``x ** 3``
    (exponents 1 and 2) takes the same branches.
    """
    if p == 1.0:
        return x.copy()
    if p == 2.0:
        return x * x
    if p == 3.0:
        return x * x * x
    return np.power(x, p)


def _is_basic(item: Any) -> bool:
    return (item is None or item is Ellipsis or isinstance(item, slice)
            or (isinstance(item, (numbers.Integral, np.integer))
                and not isinstance(item, (bool, np.bool_))))


def _index_key(index: Any) -> tuple[tuple[Any, ...], bool]:
    """``index`` as a NumPy key (checked), and whether it holds a fancy (array) entry."""
    items = index if isinstance(index, tuple) else (index,)
    key: list[Any] = []
    for item in items:
        if isinstance(item, Tensor):
            raise InvalidTypeError(
                "getitem: index with an integer or boolean NumPy array, not a Tensor."
            )
        if _is_basic(item):
            key.append(item)
            continue
        try:
            arr = np.asarray(item)
        except ValueError:  # a ragged nested list
            raise InvalidValueError(
                "getitem: an index entry could not be read as a rectangular array."
            ) from None
        if arr.dtype.kind not in "iub":
            raise InvalidTypeError(
                f"getitem: index entries must be ints, slices, None, ... or integer/boolean "
                f"arrays; got an entry of dtype {arr.dtype}."
            )
        key.append(arr)
    return tuple(key), not all(_is_basic(k) for k in key)
