"""Tensor: reverse-mode automatic differentiation over NumPy arrays.

Each operation computes its result with NumPy and, when any input requires a
gradient, attaches a ``backward`` function written right beside the forward
line: given dL/d(out) it returns dL/d(input) for each input. Broadcasting in
the forward pass becomes a sum in the backward pass (``unbroadcast``).

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

import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from llmmath._validation import as_float_array, check_axis, check_bool, describe
from llmmath.autograd._engine import BackwardError, creation_trace, run_backward, unbroadcast
from llmmath.autograd._mode import STATE
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = ["Tensor", "Parameter", "as_tensor"]

Backward = Callable[[np.ndarray], tuple[np.ndarray | None, ...]]


class Tensor:
    """An array that records how it was computed, so that it can be differentiated.

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

    __slots__ = (
        "data", "grad", "requires_grad", "_prev", "_backward", "_op",
        "_g", "_g_owned", "_retain_grad", "_trace", "__weakref__",
    )
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
        self._prev: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._op = ""
        self._g: np.ndarray | None = None
        self._g_owned = False
        self._retain_grad = False
        self._trace = None

    @staticmethod
    def from_op(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward,
                op: str) -> Tensor:
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
            hold a reference to the output tensor.
        op : str
            A name for error messages, ``repr`` and drawings.

        Returns
        -------
        Tensor
        """
        out = object.__new__(Tensor)
        out.data = data if type(data) is np.ndarray else np.asarray(data)
        out.grad = None
        out._g = None
        out._g_owned = False
        out._retain_grad = False
        out._op = op
        if STATE.grad_enabled and any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._prev = parents
            out._backward = backward
            out._trace = creation_trace() if STATE.anomaly else None
        else:
            out.requires_grad = False
            out._prev = ()
            out._backward = None
            out._trace = None
        return out

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
        return self._backward is None

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
        extra = f", op='{self._op}'" if self._backward is not None else (
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
        if self._backward is not None:
            self._retain_grad = True

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradient (``None``, or zeros in place)."""
        if set_to_none:
            self.grad = None
        elif self.grad is not None:
            self.grad[...] = 0

    # --------------------------------------------------------------- backward
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Compute dL/dx for every leaf x this tensor depends on, adding into ``x.grad``.

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
        run_backward(self, seed, check_bool(retain_graph, "retain_graph", "backward"))

    # ---------------------------------------------------- binary arithmetic
    def __add__(self, other: Any) -> Tensor:
        a, b = self, as_tensor(other, like=self)
        data = _broadcasting(np.add, a, b, "add")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
            return (unbroadcast(g, a.shape) if a.requires_grad else None,
                    unbroadcast(g, b.shape) if b.requires_grad else None)

        return Tensor.from_op(data, (a, b), backward, "add")

    def __sub__(self, other: Any) -> Tensor:
        a, b = self, as_tensor(other, like=self)
        data = _broadcasting(np.subtract, a, b, "sub")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
            return (unbroadcast(g, a.shape) if a.requires_grad else None,
                    unbroadcast(-g, b.shape) if b.requires_grad else None)

        return Tensor.from_op(data, (a, b), backward, "sub")

    def __mul__(self, other: Any) -> Tensor:
        a, b = self, as_tensor(other, like=self)
        data = _broadcasting(np.multiply, a, b, "mul")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:  # d(ab) = b da + a db
            return (unbroadcast(g * b.data, a.shape) if a.requires_grad else None,
                    unbroadcast(g * a.data, b.shape) if b.requires_grad else None)

        return Tensor.from_op(data, (a, b), backward, "mul")

    def __truediv__(self, other: Any) -> Tensor:
        a, b = self, as_tensor(other, like=self)
        data = _broadcasting(np.divide, a, b, "div")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:  # d(a/b) = da/b - a db/b^2
            return (unbroadcast(g / b.data, a.shape) if a.requires_grad else None,
                    unbroadcast(-g * data / b.data, b.shape) if b.requires_grad else None)

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
        a, p = self, float(exponent)
        x = a.data
        if p == 2.0:  # small integer powers as products: NumPy's power is slow
            data = x * x
        elif p == 3.0:
            data = x * x * x
        else:
            data = np.power(x, p)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            if p == 2.0:
                local = 2.0 * x
            elif p == 3.0:
                local = 3.0 * (x * x)
            else:
                local = p * np.power(x, p - 1.0)
            return (g * local,)

        return Tensor.from_op(data, (a,), backward, "pow")

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
        """GELU, the tanh approximation by default; see :func:`functional.gelu`."""
        from llmmath.autograd.functional import gelu

        return gelu(self, approximate=approximate)

    # ------------------------------------------------ reductions and shapes
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
        from llmmath.autograd._array_ops import reduce_sum

        return reduce_sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis``; the gradient is copied back, divided by the count."""
        from llmmath.autograd._array_ops import reduce_mean

        return reduce_mean(self, axis, keepdims)

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
        from llmmath.autograd._array_ops import reduce_extreme

        return reduce_extreme(self, axis, keepdims, "max")

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis``; ties share the gradient equally (as ``torch.amin``)."""
        from llmmath.autograd._array_ops import reduce_extreme

        return reduce_extreme(self, axis, keepdims, "min")

    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape (one entry may be -1); the gradient is reshaped back.

        Examples
        --------
        >>> from llmmath.autograd import Tensor
        >>> Tensor([1.0, 2.0, 3.0, 4.0]).reshape(2, -1).shape
        (2, 2)
        """
        from llmmath.autograd._array_ops import reshape

        return reshape(self, shape[0] if len(shape) == 1 and not isinstance(
            shape[0], (numbers.Integral, np.integer)) else shape)

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
        from llmmath.autograd._array_ops import permute, swap_axes_order

        return permute(self, swap_axes_order(self.ndim, dim0, dim1))

    def permute(self, *axes: Any) -> Tensor:
        """Reorder the axes: ``axes`` is a permutation of ``range(ndim)``."""
        from llmmath.autograd._array_ops import permute

        return permute(self, tuple(axes[0]) if len(axes) == 1 and isinstance(
            axes[0], Sequence) else axes)

    @property
    def T(self) -> Tensor:  # noqa: N802
        """All axes reversed (NumPy's ``.T``)."""
        return self.transpose()

    def __getitem__(self, index: Any) -> Tensor:
        """NumPy indexing; repeated fancy indices add their gradients (``np.add.at``).

        Examples
        --------
        >>> from llmmath.autograd import Tensor
        >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> x[[0, 0, 2]].sum().backward()        # entry 0 picked twice
        >>> print(x.grad)
        [2. 0. 1.]
        """
        from llmmath.autograd._array_ops import getitem

        return getitem(self, index)


class Parameter(Tensor):
    """A tensor that a :class:`~llmmath.nn.Module` trains: ``requires_grad`` is True.

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
