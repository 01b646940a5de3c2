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

import math
import numbers
from collections.abc import Callable, Sequence
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
    "check_allocation",
    "ensure_no_nan",
    "MAX_ELEMENTS",
]

# The most elements one request may ask the library to allocate, or to draw and
# process in batches: 2**31 float64 numbers are 16 GiB. A count beyond it is a typo
# (``10**23``) or a misunderstanding far more often than a real need, and would
# otherwise end in a MemoryError or in hours of computing; check_allocation refuses
# it up front, saying what was asked. Read at call time, so it can be changed.
MAX_ELEMENTS = 2**31

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

InfPolicy = Literal[False, "neg", "pos", True]


def int_text(value: int) -> str:
    """An integer for a message: in full up to 24 digits, then in scientific notation.

    Python refuses to print an integer of more than 4300 digits, and nobody
    reads one of 30.

    >>> int_text(2**63), int_text(10**30), int_text(-(10**5000))
    ('9223372036854775808', '1e+30', '-a 5001-digit integer')
    """
    value = int(value)
    size = abs(value)
    if size < 10**24:
        return str(value)
    if size < 10**300:
        return f"{float(value):.4g}"
    sign = "-" if value < 0 else ""
    return f"{sign}a {math.floor(math.log10(size)) + 1}-digit integer"


def describe(x: Any) -> str:
    """A short description of ``x`` for error messages."""
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    if x is None:
        return "None"
    if isinstance(x, bool):
        return f"the bool {x!r}"
    if isinstance(x, numbers.Integral) and not isinstance(x, np.integer):
        text = int_text(x)
        return text if text.lstrip("-").startswith("a ") else f"{type(x).__name__} {text}"
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
    except (ValueError, TypeError, OverflowError) as exc:  # ragged nested lists and the like
        raise InvalidValueError(
            f"{op}: argument '{name}' could not be read as a rectangular array of "
            f"numbers ({exc}); got {describe(x)}."
        ) from None
    kind = arr.dtype.kind
    if kind == "O":
        try:
            arr = arr.astype(np.float64)
        except OverflowError:  # Python integers beyond the float range
            raise InvalidValueError(
                f"{op}: argument '{name}' holds an integer beyond the float range "
                f"(about 1.8e308); expected {_finite_phrase(allow_inf)}."
            ) from None
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
                f"{op}: argument '{name}' must have {want} {'axis' if allowed == (1,) else 'axes'}; "
                f"got shape {arr.shape} ({_axes(arr.ndim)})."
            )
    if arr.ndim < min_ndim:
        raise ShapeError(
            f"{op}: argument '{name}' must have at least {_axes(min_ndim)}; got shape "
            f"{arr.shape}{' (a scalar)' if arr.ndim == 0 else ''}."
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


def _axes(n: int) -> str:
    return f"{n} axis" if n == 1 else f"{n} axes"


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
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidValueError(
            f"{op}: argument '{name}' could not be read as a rectangular array ({exc})."
        ) from None
    if not isinstance(x, np.ndarray) and arr.dtype.kind in "fO" and arr.size:
        # Python integers beyond int64 turn a list into float64 or object dtype
        objects = np.asarray(x, dtype=object).ravel()
        if all(isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))
               for v in objects):
            big = [int(v) for v in objects if not _INT64_MIN <= int(v) <= _INT64_MAX]
            if big:
                raise InvalidValueError(
                    f"{op}: argument '{name}' holds {int_text(big[0])}, which does not fit in a "
                    "64-bit integer; expected integers in [-2**63, 2**63 - 1]."
                )
            arr = objects.astype(np.int64).reshape(arr.shape)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise InvalidTypeError(
            f"{op}: argument '{name}' must hold integers; got dtype {arr.dtype} "
            f"(shape {arr.shape})."
        )
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        raise InvalidValueError(
            f"{op}: argument '{name}' holds {int(arr.max())}, which does not fit in a 64-bit "
            "integer; expected integers in [-2**63, 2**63 - 1]."
        )
    arr = arr.astype(np.int64, copy=False)
    if arr.ndim < min_ndim:
        raise ShapeError(
            f"{op}: argument '{name}' must have at least {_axes(min_ndim)}; got shape "
            f"{arr.shape}{' (a scalar)' if arr.ndim == 0 else ''}."
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
    """A Python ``int`` (``bool`` and floats refused) within the given bounds.

    Beyond the bounds, the value must fit in int64 (NumPy's integer), so that
    a count or an index of ``2**64`` is refused here with its name rather than
    with NumPy's ``OverflowError`` further down.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise InvalidTypeError(f"{op}: argument '{name}' must be an integer; got {describe(value)}.")
    value = int(value)
    if min_value is not None and value < min_value:
        raise InvalidValueError(
            f"{op}: argument '{name}' must be >= {min_value}; got {int_text(value)}."
        )
    if max_value is not None and value > max_value:
        raise InvalidValueError(
            f"{op}: argument '{name}' must be <= {max_value}; got {int_text(value)}."
        )
    if not _INT64_MIN <= value <= _INT64_MAX:  # NumPy would raise OverflowError
        raise InvalidValueError(
            f"{op}: argument '{name}' must fit in a 64-bit integer, [-2**63, 2**63 - 1]; "
            f"got {int_text(value)}."
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
    try:
        value = float(value)
    except OverflowError:  # an integer beyond the float range
        raise InvalidValueError(
            f"{op}: argument '{name}' must be finite; got {describe(value)}, beyond the float range."
        ) from None
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


def _bytes_text(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    for power, unit in enumerate(("KiB", "MiB", "GiB", "TiB"), start=1):
        if n < 1024 ** (power + 1):
            return f"{n / 1024**power:.3g} {unit}"
    return f"{int_text(n // 1024**5)} PiB"


def check_allocation(
    shape: int | Sequence[int],
    names: str | Sequence[str],
    op: str,
    *,
    dtype: Any = np.float64,
    what: str = "an array",
) -> int:
    """Refuse, before any work, a request for more than :data:`MAX_ELEMENTS` elements.

    Call it where a function would allocate (or draw and process in batches)
    ``prod(shape)`` elements because of a count the user gave: a sequence
    length, a number of resamples. The product is taken in Python integers,
    so ``10**23`` cannot overflow on the way.

    Parameters
    ----------
    shape : int or sequence of int
        The size of the request, already checked to be non-negative integers.
    names : str or sequence of str
        The argument(s) that set the size, for the message.
    op : str
        The public function's name.
    dtype : dtype
        What each element is (for the number of bytes in the message).
    what : str
        What is being asked for, e.g. ``"a mask"`` or ``"resampled values"``.

    Returns
    -------
    int
        The number of elements.

    Examples
    --------
    >>> check_allocation((3, 4), "T", "causal_mask")
    12
    >>> check_allocation((10**6, 10**6), ("T", "n_keys"), "causal_mask", dtype=bool, what="a mask")
    Traceback (most recent call last):
    ...
    llmmath.errors.InvalidValueError: causal_mask: arguments 'T' and 'n_keys' ask for a mask of shape (1000000, 1000000), 1,000,000,000,000 elements of bool (931 GiB); the limit is 2,147,483,648 elements (2**31). Ask for less.
    """
    dims = (shape,) if isinstance(shape, (numbers.Integral, np.integer)) else tuple(shape)
    count = math.prod(int(d) for d in dims)
    limit = MAX_ELEMENTS
    if count <= limit:
        return count
    quoted = [f"'{n}'" for n in ((names,) if isinstance(names, str) else tuple(names))]
    who = (f"argument {quoted[0]} asks" if len(quoted) == 1 else
           f"arguments {', '.join(quoted[:-1])} and {quoted[-1]} ask")
    dt = np.dtype(dtype)
    shown = "(" + ", ".join(int_text(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"
    raise InvalidValueError(
        f"{op}: {who} for {what} of shape {shown}, {_count_text(count)} elements of {dt.name} "
        f"({_bytes_text(count * dt.itemsize)}); the limit is {limit:,} elements"
        f"{' (2**31)' if limit == 2**31 else ''}. Ask for less."
    )


def _count_text(count: int) -> str:
    return f"{count:,}" if count < 10**24 else int_text(count)


def ensure_no_nan(result: np.ndarray, op: str, hint: str = "") -> np.ndarray:
    """Last line of defence against a silent NaN in a result."""
    if np.isnan(result).any():
        raise InvalidValueError(
            f"{op}: the computation produced NaN{'; ' + hint if hint else ''}. "
            "Check the inputs' scale."
        )
    return result
