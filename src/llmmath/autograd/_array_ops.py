"""Reductions and shape operations of :class:`~llmmath.autograd.Tensor`.

Each function is one operation: the forward line, then its ``backward``.
They are the bodies of ``Tensor.sum``, ``Tensor.reshape``, ``Tensor[...]`` and
friends (the methods call them), kept here so that ``tensor.py`` stays about
arithmetic and the engine.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from llmmath._validation import check_axis
from llmmath.autograd.tensor import Tensor, _check_axes
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = [
    "reduce_sum", "reduce_mean", "reduce_extreme", "reshape", "permute",
    "swap_axes_order", "getitem",
]


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduce_sum(x: Tensor, axis: Any, keepdims: bool) -> Tensor:
    """sum_i x_i over ``axis``: each input got dL/d(sum), so copy g back (broadcast)."""
    axes = _check_axes(axis, x.ndim, "sum")
    data = np.sum(x.data, axis=axes, keepdims=keepdims)
    shape, kept = x.shape, _kept_shape(x.shape, axes)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (np.broadcast_to(g.reshape(kept), shape),)

    return Tensor.from_op(data, (x,), backward, "sum")


def reduce_mean(x: Tensor, axis: Any, keepdims: bool) -> Tensor:
    """(1/n) sum_i x_i over ``axis``: copy g/n back to each input."""
    axes = _check_axes(axis, x.ndim, "mean")
    count = math.prod(x.shape[i] for i in axes)
    if count == 0:
        raise InvalidValueError(
            f"mean: cannot average over axis {axis!r} of shape {x.shape}: it is empty."
        )
    data = np.sum(x.data, axis=axes, keepdims=keepdims) / count
    shape, kept = x.shape, _kept_shape(x.shape, axes)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (np.broadcast_to(g.reshape(kept) / count, shape),)

    return Tensor.from_op(data, (x,), backward, "mean")


def reduce_extreme(x: Tensor, axis: Any, keepdims: bool, which: str) -> Tensor:
    """max (or min) over ``axis``.

    The derivative of a maximum is 1 at the position of the maximum and 0
    elsewhere. When several entries tie, the gradient is shared equally
    among them, as ``torch.amax``/``torch.amin`` do (``torch.max(x, dim)``
    instead gives it all to one index).
    """
    axes = _check_axes(axis, x.ndim, which)
    if x.data.size == 0 or any(x.shape[i] == 0 for i in axes):
        raise InvalidValueError(
            f"{which}: cannot take the {which}imum over axis {axis!r} of shape {x.shape}: "
            "it is empty."
        )
    fn = np.max if which == "max" else np.min
    data = fn(x.data, axis=axes, keepdims=keepdims)
    kept = _kept_shape(x.shape, axes)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        hit = x.data == data.reshape(kept)                          # where the extreme is
        count = hit.sum(axis=axes, keepdims=True, dtype=x.dtype)    # ties share equally
        return (hit * (g.reshape(kept) / count),)

    return Tensor.from_op(data, (x,), backward, which)


def reshape(x: Tensor, shape: Any) -> Tensor:
    """The same values, new shape; the gradient is reshaped back."""
    try:
        new_shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"reshape: argument 'shape' must be integers; got {shape!r}."
        ) from None
    try:
        data = x.data.reshape(new_shape)
    except ValueError:
        raise ShapeError(
            f"reshape: cannot reshape shape {x.shape} ({x.data.size} elements) into "
            f"{new_shape}; the number of elements must stay the same."
        ) from None
    old = x.shape
    return Tensor.from_op(data, (x,), lambda g: (g.reshape(old),), "reshape")


def permute(x: Tensor, axes: tuple[Any, ...]) -> Tensor:
    """Reorder axes; the gradient goes through the inverse permutation."""
    if sorted(check_axis(a, x.ndim, "axes", "permute") for a in axes) != list(range(x.ndim)) \
            or len(axes) != x.ndim:
        raise InvalidValueError(
            f"permute: argument 'axes' must be a permutation of range({x.ndim}) for shape "
            f"{x.shape}; got {axes!r}."
        )
    order = tuple(a % x.ndim for a in axes)
    inverse = tuple(int(i) for i in np.argsort(order))
    data = x.data.transpose(order)
    return Tensor.from_op(data, (x,), lambda g: (g.transpose(inverse),), "permute")


def swap_axes_order(ndim: int, dim0: Any, dim1: Any) -> tuple[int, ...]:
    """The permutation that swaps ``dim0`` and ``dim1`` (all axes reversed if both None)."""
    if dim0 is None and dim1 is None:
        return tuple(range(ndim))[::-1]
    if dim0 is None or dim1 is None:
        raise InvalidValueError("transpose: give both axes to swap, or neither to reverse all.")
    i = check_axis(dim0, ndim, "dim0", "transpose")
    j = check_axis(dim1, ndim, "dim1", "transpose")
    order = list(range(ndim))
    order[i], order[j] = order[j], order[i]
    return tuple(order)


def _is_basic(item: Any) -> bool:
    return (item is None or item is Ellipsis or isinstance(item, slice)
            or (isinstance(item, (numbers.Integral, np.integer))
                and not isinstance(item, (bool, np.bool_))))


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with NumPy's rules.

    Basic indexing (ints, slices, ``None``, ``...``) picks each entry at most
    once, so backward writes g into a zero array. Fancy indexing (integer or
    boolean arrays) may pick an entry several times, and the gradients of the
    copies must add up: ``np.add.at`` accumulates repeated indices (a plain
    ``grad[idx] += g`` would keep only the last one).
    """
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
    fancy = not all(_is_basic(k) for k in key)
    idx = tuple(key)
    try:
        data = x.data[idx]
    except IndexError as err:
        raise InvalidValueError(
            f"getitem: index {index!r} does not fit a tensor of shape {x.shape} ({err})."
        ) from None
    shape, dtype = x.shape, x.dtype

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = np.zeros(shape, dtype)
        if fancy:
            np.add.at(grad, idx, g)
        else:
            grad[idx] = g
        return (grad,)

    return Tensor.from_op(data, (x,), backward, "getitem")
