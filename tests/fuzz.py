"""Shared machinery for the fuzz tests of the public API.

Every public function of the pillar modules is thrown random shapes, dtypes,
NaN and inf. It must either return a correct, NaN-free result or raise
``ValueError``/``TypeError`` of :mod:`llmmath.errors` whose message names the
operation and, quoted, one of the arguments the call passed (``'x'``). Any
other exception, a message that names no argument, or a NaN in the output
fails the test.

Each ``tests/test_fuzz_<module>.py`` declares ``COVERED`` (the names of the
module's ``__all__`` it fuzzes); ``tests/test_fuzz_coverage.py`` checks that
nothing public escapes.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

FLOAT_DTYPES = [np.float16, np.float32, np.float64]
OTHER_DTYPES = [np.int8, np.int32, np.int64, np.uint8, np.bool_, np.complex128]

special_floats = st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, 1e300, -1e4, 1e4])

# Integers a count or an index must refuse by name: beyond int64 (NumPy's OverflowError
# otherwise), and absurd sizes (a MemoryError or hours of work otherwise).
huge_ints = st.sampled_from([2**63, 2**64, -(2**63) - 1, -(2**64), 10**23, 2**40, 10**400])


def _cast(value: float, dtype: type) -> float:
    # 1e300 cast to float32 overflows to inf on purpose; keep it quiet here.
    with np.errstate(over="ignore"):
        return np.asarray(value).astype(dtype).item()


@st.composite
def weird_arrays(draw, max_dims: int = 3, max_side: int = 5, min_dims: int = 0) -> np.ndarray:
    """Arrays of any small shape (empty included) and dtype, sometimes with NaN/inf."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side))
    dtype = draw(st.sampled_from(FLOAT_DTYPES + OTHER_DTYPES))
    if np.dtype(dtype).kind == "f":
        elements = st.one_of(
            st.floats(-10, 10, width=np.finfo(dtype).bits, allow_nan=False),
            special_floats.map(lambda v: _cast(v, dtype)) if dtype != np.float16
            else st.sampled_from([np.nan, np.inf, -np.inf, 0.0]),
        )
        return draw(hnp.arrays(dtype, shape, elements=elements))
    return draw(hnp.arrays(dtype, shape))


def junk() -> st.SearchStrategy[Any]:
    """Things that are not arrays of numbers at all, and integers no array can hold."""
    return st.one_of(
        st.sampled_from([None, "abc", b"xy", object(), [1, [2, 3]], {"a": 1}, 1 + 2j, [[1, 2], [3]],
                         [2**64, 1], [[-(2**70)]], [10**400]]),
        huge_ints,
    )


def anything(max_dims: int = 3) -> st.SearchStrategy[Any]:
    """A weird array most of the time, junk some of the time, sometimes a plain list or scalar."""
    return st.one_of(
        weird_arrays(max_dims=max_dims),
        weird_arrays(max_dims=max_dims).map(lambda a: a.tolist()),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-5, 5),
        junk(),
    )


def _has_nan(result: Any) -> bool:
    if isinstance(result, np.ndarray):
        return result.dtype.kind in "fc" and bool(np.isnan(result).any())
    if isinstance(result, (float, np.floating)):
        return bool(np.isnan(result))
    if isinstance(result, (tuple, list)):
        return any(_has_nan(r) for r in result)
    if hasattr(result, "__dataclass_fields__"):
        return any(_has_nan(getattr(result, f)) for f in result.__dataclass_fields__)
    return False


def argument_names(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> set[str]:
    """The names of the arguments a call passes: keywords as written, positionals by signature.

    A positional argument takes its parameter's name from ``inspect.signature``
    (for a class, its constructor's; for a bound method, without ``self``);
    a positional that lands in ``*args`` is named after that parameter.
    """
    names = set(kwargs)
    try:
        bound = inspect.signature(fn).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):  # no signature, or a call the signature refuses
        return names
    for name, param in bound.signature.parameters.items():
        if name in bound.arguments and param.kind is not inspect.Parameter.VAR_KEYWORD:
            names.add(name)
    return names


def message_problem(message: str, op: str, names: set[str]) -> str | None:
    """Why an error message is not good enough, or ``None`` when it is.

    A message must name the operation (``op``, the function's ``__name__``) and
    one of the arguments the call passed, quoted: ``'x'``, or an item of it
    such as ``'betas[0]'``.
    """
    if not message.strip():
        return "the message is empty"
    if op and op not in message:
        return f"the message does not name the operation {op!r}"
    if not names:
        return None  # nothing was passed, so there is no argument to name
    quoted = re.compile(r"'(" + "|".join(re.escape(n) for n in sorted(names)) + r")(\[[^']*\])?'")
    if not quoted.search(message):
        return ("the message names none of the arguments passed, quoted ("
                + ", ".join(f"'{n}'" for n in sorted(names)) + ")")
    return None


def check_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; accept a clean result or a ValueError/TypeError with a useful message.

    A refusal must be one of :mod:`llmmath.errors` and its message must name
    the operation and, quoted, one of the arguments this call passed (see
    :func:`message_problem`). Returns the result (``None`` when the call was
    refused) so a test can also check the value against a reference.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning is a failure, not noise
        try:
            result = fn(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            from llmmath.errors import LLMMathError

            message = str(exc)
            name = getattr(fn, "__name__", "")
            assert isinstance(exc, LLMMathError), (
                f"{name} let {type(exc).__module__}.{type(exc).__name__} escape: {message!r}"
            )
            problem = message_problem(message, name, argument_names(fn, args, kwargs))
            assert problem is None, f"{name} raised {type(exc).__name__}: {problem}: {message!r}"
            return None
    assert not _has_nan(result), f"{getattr(fn, '__name__', fn)} returned NaN for {args!r} {kwargs!r}"
    return result
