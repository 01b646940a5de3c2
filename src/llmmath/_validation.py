"""Argument checking shared by every public function.

Each checker takes the value, the argument's name and the operation's name, and
either returns a clean value (a NumPy array of the right dtype, a plain ``int``,
a ``numpy.random.Generator``…) or raises an error of the :mod:`llmmath.errors`
family whose message reads::

    softmax: argument 'x' contains NaN at index (0, 2); expected finite numbers
    or -inf (a masked logit).

Dtype policy (ARCHITECTURE.md): float32 in, float32 out; every other real
numeric input (bool, integers, float16, float64, longdouble) computes in
float64. Complex numbers, strings and other objects are a ``TypeError``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = [
    "describe",
    "as_float_array",
    "as_int_array",
    "as_bool_array",
    "float_dtype",
    "check_int",
    "check_float",
    "check_bool",
    "check_axis",
    "check_rng",
    "check_distribution",
    "check_callable",
    "check_choice",
    "check_same_shape",
    "ensure_no_nan",
]

InfPolicy = Literal[False, "neg", "pos", True]


def describe(x: Any) -> str:
    """A short description of ``x`` for error messages."""
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    if isinstance(x, bool):
        return f"the bool {x!r}"
    if isinstance(x, (numbers.Number, np.generic)):
        return f"{type(x).__name__} {x!r}"
    if isinstance(x, str):
        text = x if len(x) <= 40 else x[:37] + "..."
        return f"the string {text!r}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"an object of type {type(x).__name__}"


def _index_of_first(mask: np.ndarray) -> tuple[int, ...] | int:
    idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))
    return idx[0] if len(idx) == 1 else idx


def float_dtype(*arrays: np.ndarray) -> np.dtype:
    """float32 when every input is float32, float64 otherwise."""
    if arrays and all(a.dtype == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def as_float_array(
    x: Any,
    name: str,
    op: str,
    *,
    allow_nan: bool = False,
    allow_inf: InfPolicy = False,
    min_ndim: int = 0,
    ndim: int | tuple[int, ...] | None = None,
    allow_empty: bool = True,
    dtype: np.dtype | type | None = None,
) -> np.ndarray:
    """Convert an array-like of real numbers to a float array, checking it.

    Parameters
    ----------
    x : array_like
        The argument.
    name, op : str
        The argument's name and the public function's name (for messages).
    allow_nan : bool
        Whether NaN may appear (almost never: NaN in, NaN out is a silent NaN).
    allow_inf : {False, "neg", "pos", True}
        Which infinities may appear. ``"neg"`` admits ``-inf`` only (masked
        logits).
    min_ndim, ndim : int
        The least number of axes, or the exact number(s) of axes.
    allow_empty : bool
        Whether an array with no elements is acceptable.
    dtype : dtype, optional
        Force this float dtype instead of the float32-preserving policy.
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise InvalidTypeError(
            f"{op}: argument '{name}' must be an array of real numbers; got {describe(x)}."
        )
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists and the like
        raise InvalidValueError(
            f"{op}: argument '{name}' could not be read as a rectangular array of "
            f"numbers ({exc}); got {describe(x)}."
        ) from None
    kind = arr.dtype.kind
    if kind == "O":
        try:
            arr = arr.astype(np.float64)
        except (ValueError, TypeError):
            raise InvalidTypeError(
                f"{op}: argument '{name}' must hold real numbers; got an array of "
                f"Python objects of shape {arr.shape}."
            ) from None
    elif kind == "c":
        raise InvalidTypeError(
            f"{op}: argument '{name}' must be real; got complex dtype {arr.dtype}."
        )
    elif kind not in "biuf":
        raise InvalidTypeError(
            f"{op}: argument '{name}' must hold real numbers; got dtype {arr.dtype} "
            f"(shape {arr.shape})."
        )
    if dtype is not None:
        target = np.dtype(dtype)
    else:
        target = np.dtype(np.float32) if arr.dtype == np.float32 else np.dtype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        arr = arr.astype(target, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ShapeError(
                f"{op}: argument '{name}' must have {want} axes; got shape {arr.shape} "
                f"({arr.ndim} axes)."
            )
    if arr.ndim < min_ndim:
        raise ShapeError(
            f"{op}: argument '{name}' must have at least {min_ndim} axes; got shape "
            f"{arr.shape}."
        )
    if not allow_empty and arr.size == 0:
        raise InvalidValueError(
            f"{op}: argument '{name}' is empty (shape {arr.shape}); expected at least "
            "one element."
        )
    if arr.size:
        if not allow_nan:
            nan = np.isnan(arr)
            if nan.any():
                raise InvalidValueError(
                    f"{op}: argument '{name}' contains NaN at index {_index_of_first(nan)}; "
                    f"expected {_finite_phrase(allow_inf)}."
                )
        if allow_inf is not True:
            bad = np.isinf(arr)
            if allow_inf == "neg":
                bad &= arr > 0
            elif allow_inf == "pos":
                bad &= arr < 0
            if bad.any():
                at = _index_of_first(bad)
                value = arr[np.unravel_index(int(np.argmax(bad)), arr.shape)] if arr.ndim else arr
                raise InvalidValueError(
                    f"{op}: argument '{name}' contains {float(value)} at index {at}; "
                    f"expected {_finite_phrase(allow_inf)}."
                )
    return arr


def _finite_phrase(allow_inf: InfPolicy) -> str:
    return {
        False: "finite numbers",
        "neg": "finite numbers or -inf (a masked entry)",
        "pos": "finite numbers or +inf",
        True: "numbers (infinities allowed)",
    }[allow_inf]


def as_int_array(
    x: Any,
    name: str,
    op: str,
    *,
    min_value: int | None = None,
    max_value: int | None = None,
    min_ndim: int = 0,
    allow_empty: bool = True,
) -> np.ndarray:
    """Convert an array-like of integers (token ids, class labels…) to int64.

    Floats are refused even when integral: a float where an index belongs is
    almost always a bug upstream.
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise InvalidTypeError(
            f"{op}: argument '{name}' must be an array of integers; got {describe(x)}."
        )
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise InvalidValueError(
            f"{op}: argument '{name}' could not be read as a rectangular array ({exc})."
        ) from None
    if arr.dtype.kind == "O" and arr.size:
        if all(isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)
               for v in arr.flat):
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise InvalidTypeError(
            f"{op}: argument '{name}' must hold integers; got dtype {arr.dtype} "
            f"(shape {arr.shape})."
        )
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise InvalidValueError(f"{op}: argument '{name}' has values beyond int64.")
    arr = arr.astype(np.int64, copy=False)
    if arr.ndim < min_ndim:
        raise ShapeError(
            f"{op}: argument '{name}' must have at least {min_ndim} axes; got shape {arr.shape}."
        )
    if not allow_empty and arr.size == 0:
        raise InvalidValueError(f"{op}: argument '{name}' is empty; expected at least one element.")
    if arr.size:
        if min_value is not None and arr.min() < min_value:
            raise InvalidValueError(
                f"{op}: argument '{name}' has value {int(arr.min())} below the minimum "
                f"{min_value}."
            )
        if max_value is not None and arr.max() > max_value:
            raise InvalidValueError(
                f"{op}: argument '{name}' has value {int(arr.max())} above the maximum "
                f"{max_value}."
            )
    return arr


def as_bool_array(x: Any, name: str, op: str) -> np.ndarray:
    """A boolean array (masks); integers and floats are refused, not cast."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise InvalidValueError(
            f"{op}: argument '{name}' could not be read as a rectangular boolean array ({exc})."
        ) from None
    if arr.dtype != np.bool_:
        raise InvalidTypeError(
            f"{op}: argument '{name}' must be boolean; got dtype {arr.dtype} (shape {arr.shape})."
        )
    return arr


def check_int(
    value: Any, name: str, op: str, *, min_value: int | None = None,
    max_value: int | None = None,
) -> int:
    """A Python ``int`` (``bool`` and floats refused) within the given bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise InvalidTypeError(f"{op}: argument '{name}' must be an integer; got {describe(value)}.")
    value = int(value)
    if min_value is not None and value < min_value:
        raise InvalidValueError(
            f"{op}: argument '{name}' must be >= {min_value}; got {value}."
        )
    if max_value is not None and value > max_value:
        raise InvalidValueError(
            f"{op}: argument '{name}' must be <= {max_value}; got {value}."
        )
    return value


def check_float(
    value: Any,
    name: str,
    op: str,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_inf: bool = False,
) -> float:
    """A finite real scalar (``bool`` refused) within the given bounds."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise InvalidTypeError(f"{op}: argument '{name}' must be a real number; got {describe(value)}.")
    value = float(value)
    if np.isnan(value) or (np.isinf(value) and not allow_inf):
        raise InvalidValueError(f"{op}: argument '{name}' must be finite; got {value}.")
    if min_value is not None and (value < min_value or (value == min_value and not min_inclusive)):
        sign = ">=" if min_inclusive else ">"
        raise InvalidValueError(f"{op}: argument '{name}' must be {sign} {min_value}; got {value}.")
    if max_value is not None and (value > max_value or (value == max_value and not max_inclusive)):
        sign = "<=" if max_inclusive else "<"
        raise InvalidValueError(f"{op}: argument '{name}' must be {sign} {max_value}; got {value}.")
    return value


def check_bool(value: Any, name: str, op: str) -> bool:
    """A real ``bool`` (NumPy's included); 0/1 and strings refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{op}: argument '{name}' must be True or False; got {describe(value)}.")
    return bool(value)


def check_axis(axis: Any, ndim: int, name: str, op: str) -> int:
    """Normalise an axis (negative counts from the end) for an array of ``ndim`` axes."""
    axis = check_int(axis, name, op)
    if not -ndim <= axis < ndim or ndim == 0:
        raise InvalidValueError(
            f"{op}: argument '{name}'={axis} is out of range for an array with {ndim} axes; "
            f"expected an integer in [{-ndim}, {ndim - 1}]." if ndim else
            f"{op}: argument '{name}'={axis} needs an array with at least one axis; got a scalar."
        )
    return axis % ndim


def check_rng(rng: Any, op: str, name: str = "rng") -> np.random.Generator:
    """``Generator`` as is; an ``int`` or ``SeedSequence`` seeds a new PCG64; ``None`` is fresh entropy."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise InvalidValueError(f"{op}: argument '{name}' seed must be >= 0; got {rng}.")
        return np.random.default_rng(int(rng))
    raise InvalidTypeError(
        f"{op}: argument '{name}' must be a numpy.random.Generator, an int seed or None; "
        f"got {describe(rng)}."
    )


def check_distribution(
    p: Any,
    name: str,
    op: str,
    *,
    axis: int = -1,
    atol: float | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """A probability vector (or a stack of them along ``axis``).

    Entries must be finite and >= 0, and each distribution must sum to 1 within
    ``atol`` (default 1e-6 for float64, 1e-4 for float32).
    """
    arr = as_float_array(p, name, op, min_ndim=1, allow_empty=allow_empty)
    ax = check_axis(axis, arr.ndim, "axis", op)
    if arr.shape[ax] == 0:
        raise InvalidValueError(
            f"{op}: argument '{name}' has no outcomes along axis {axis} (shape {arr.shape}); "
            "expected a distribution over at least one outcome."
        )
    if arr.size == 0:
        return arr
    if (arr < 0).any():
        neg = arr < 0
        raise InvalidValueError(
            f"{op}: argument '{name}' has a negative probability {float(arr[np.unravel_index(int(np.argmax(neg)), arr.shape)])} "
            f"at index {_index_of_first(neg)}; expected entries >= 0."
        )
    tol = atol if atol is not None else (1e-4 if arr.dtype == np.float32 else 1e-6)
    sums = arr.sum(axis=ax, dtype=np.float64)
    off = np.abs(sums - 1.0) > tol
    if off.any():
        bad_sum = float(sums.flat[int(np.argmax(off))]) if np.ndim(sums) else float(sums)
        where = "" if np.ndim(sums) == 0 else f" (distribution at index {_index_of_first(off)})"
        raise InvalidValueError(
            f"{op}: argument '{name}' sums to {bad_sum!r} along axis {axis}{where}; expected "
            f"1 within {tol:g}. Normalise it first (p / p.sum(axis={axis}, keepdims=True))."
        )
    return arr


def check_callable(f: Any, name: str, op: str) -> Callable[..., Any]:
    if not callable(f):
        raise InvalidTypeError(f"{op}: argument '{name}' must be callable; got {describe(f)}.")
    return f


def check_choice(value: Any, name: str, op: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise InvalidTypeError(
            f"{op}: argument '{name}' must be one of {choices}; got {describe(value)}."
        )
    if value not in choices:
        raise InvalidValueError(f"{op}: argument '{name}' must be one of {choices}; got {value!r}.")
    return value


def check_same_shape(a: np.ndarray, b: np.ndarray, names: tuple[str, str], op: str) -> None:
    if a.shape != b.shape:
        raise ShapeError(
            f"{op}: arguments '{names[0]}' and '{names[1]}' must have the same shape; got "
            f"{a.shape} and {b.shape}."
        )


def ensure_no_nan(result: np.ndarray, op: str, hint: str = "") -> np.ndarray:
    """Last line of defence against a silent NaN in a result."""
    if np.isnan(result).any():
        raise InvalidValueError(
            f"{op}: the computation produced NaN{'; ' + hint if hint else ''}. "
            "Check the inputs' scale."
        )
    return result
