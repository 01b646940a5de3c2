"""Numeric comparison of a learner's answer with the reference, and how values are shown.

Answers are compared as numbers, never as printed text: the same structure
(a tuple stays a tuple of the same length; a list of arrays may come back as
a list or a tuple), the same shape, the same kind of number (a boolean mask
must be boolean, integer counts integer; a float answer may be any real
dtype, so float64 for float32 input is fine), the same non-finite entries in
the same places (``nan``, ``inf``, ``-inf``), and finite entries within
``|got - expected| <= atol + rtol * |expected|``.

Examples
--------
>>> import numpy as np
>>> tol = Tolerance(rtol=1e-7, atol=1e-10)
>>> print(first_difference(np.array([0.5, 0.5]), [0.5, 0.5], tol))
None
>>> print(first_difference(np.array([0.0, 1.0]), np.array([np.nan, np.nan]), tol))
the result at index (0,): expected 0.0, got nan (2 of 2 entries differ)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Tolerance", "first_difference", "show"]


@dataclass(frozen=True)
class Tolerance:
    """``|got - expected| <= atol + rtol * |expected|`` for every finite entry.

    With ``relative_to="array"`` the relative part is measured against the
    largest ``|expected|`` of the whole array instead of each entry. That is
    the honest rule for an answer whose small entries come out of a
    cancellation between large terms (a LayerNorm gradient whose row has a
    tiny variance): there the reference itself is only accurate to a fraction
    of the row's largest value, and a more accurate answer must not fail.
    """

    rtol: float = 1e-7
    atol: float = 1e-10
    relative_to: str = "entry"

    def __post_init__(self) -> None:
        if self.relative_to not in ("entry", "array"):
            raise ValueError(f"Tolerance: relative_to must be 'entry' or 'array'; got "
                             f"{self.relative_to!r}")

    def text(self) -> str:
        """The rule as a learner reads it.

        >>> Tolerance(1e-7, 1e-10).text()
        '|got - expected| <= 1e-10 + 1e-07 * |expected|'
        >>> Tolerance(1e-4, 1e-5, relative_to="array").text()
        '|got - expected| <= 1e-05 + 0.0001 * max|expected| (the largest entry of the array)'
        """
        if self.relative_to == "array":
            return (f"|got - expected| <= {self.atol:g} + {self.rtol:g} * max|expected| "
                    "(the largest entry of the array)")
        return f"|got - expected| <= {self.atol:g} + {self.rtol:g} * |expected|"

    def bound(self, expected: np.ndarray) -> np.ndarray:
        """The allowed ``|got - expected|`` for each entry of ``expected`` (float64)."""
        scale = np.abs(expected)
        if self.relative_to == "array":
            finite = scale[np.isfinite(scale)]
            scale = np.full_like(scale, finite.max() if finite.size else 0.0)
        return self.atol + self.rtol * scale


def _kind_name(kind: str) -> str:
    return {"b": "boolean", "i": "integer", "u": "integer", "f": "floating-point",
            "c": "complex", "O": "Python objects", "U": "text", "S": "bytes"}.get(kind, kind)


def _as_array(got: Any) -> np.ndarray | str:
    """``got`` as an array, or a sentence saying why it is not numbers."""
    if got is None:
        return "None (is a `return` missing?)"
    if isinstance(got, (str, bytes)):
        return f"the text {got!r}"
    try:
        with np.errstate(all="ignore"):
            a = np.asarray(got)
    except (ValueError, TypeError):
        return f"a {type(got).__name__} that is not an array of numbers (ragged nesting?)"
    if a.dtype.kind not in "biuf":
        return f"a {type(got).__name__} holding {_kind_name(a.dtype.kind)}"
    return a


def first_difference(expected: Any, got: Any, tol: Tolerance, where: str = "the result") -> str | None:
    """``None`` when ``got`` matches ``expected``; else one sentence naming the first difference."""
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)):
            return (f"{where} should be a tuple of {len(expected)} values; got "
                    f"{_short_type(got)}")
        if len(got) != len(expected):
            return f"{where} should have {len(expected)} items; got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            diff = first_difference(e, g, tol, f"{where}[{i}]")
            if diff:
                return diff
        return None
    if isinstance(expected, list):
        if not isinstance(got, (tuple, list)):
            return f"{where} should be a list of {len(expected)} arrays; got {_short_type(got)}"
        if len(got) != len(expected):
            return f"{where} should have {len(expected)} items; got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            diff = first_difference(e, g, tol, f"{where}[{i}]")
            if diff:
                return diff
        return None
    e = np.asarray(expected)
    g = _as_array(got)
    if isinstance(g, str):
        return f"{where} should be {_describe_expected(e)}; got {g}"
    if e.dtype.kind == "b" and g.dtype.kind != "b":
        return (f"{where} should be a boolean array (dtype bool); got dtype {g.dtype} "
                f"(compare, or use .astype(bool))")
    if e.dtype.kind in "iu" and g.dtype.kind not in "iu":
        return f"{where} should hold integers; got dtype {g.dtype}"
    if e.dtype.kind == "f" and g.dtype.kind == "b":
        return f"{where} should hold numbers; got booleans"
    if e.shape != g.shape:
        return (f"{where} should have shape {e.shape}{' (a single number)' if not e.shape else ''};"
                f" got shape {g.shape}")
    if e.dtype.kind in "biu":
        bad = e != g
        if bad.any():
            idx = _first(bad)
            return (f"{where} at index {idx}: expected {_scalar(e, idx)}, got {_scalar(g, idx)} "
                    f"({int(bad.sum())} of {bad.size} entries differ)")
        return None
    ef, gf = e.astype(np.float64), g.astype(np.float64)
    with np.errstate(all="ignore"):
        same_special = (np.isnan(ef) & np.isnan(gf)) | (np.isinf(ef) & (ef == gf))
        finite = np.isfinite(ef) & np.isfinite(gf)
        bound = tol.bound(ef)
        close = finite & (np.abs(gf - ef) <= bound)
    bad = ~(same_special | close)
    if not bad.any():
        return None
    with np.errstate(all="ignore"):
        excess = np.where(bad & finite, np.abs(gf - ef) / bound, 0)
    nonfinite = bad & ~finite
    idx = _first(nonfinite) if nonfinite.any() else np.unravel_index(int(np.argmax(excess)),
                                                                      e.shape)
    idx = tuple(int(i) for i in idx)
    return (f"{where} at index {idx}: expected {_scalar(e, idx)}, got {_scalar(g, idx)} "
            f"({int(bad.sum())} of {bad.size} entries differ)" if e.ndim else
            f"{where}: expected {_scalar(e, ())}, got {_scalar(g, ())}")


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0]) if mask.ndim else ()


def _scalar(a: np.ndarray, idx: tuple[int, ...]) -> str:
    v = a[idx] if a.ndim else a[()]
    if a.dtype.kind == "b":
        return str(bool(v))
    if a.dtype.kind in "iu":
        return str(int(v))
    return repr(float(v))


def _short_type(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    return "None" if x is None else f"a {type(x).__name__}"


def _describe_expected(e: np.ndarray) -> str:
    if e.ndim == 0:
        return "a number"
    return f"an array of shape {e.shape}"


def show(x: Any, width: int = 88) -> str:
    """A value as the learner would type it: ``array([...])``, with the dtype when not float64.

    Examples
    --------
    >>> import numpy as np
    >>> show(np.array([1.0, -np.inf], dtype=np.float32))
    'array([  1., -inf], dtype=float32)'
    >>> show((1, np.array([True, False])))
    '(1, array([ True, False]))'
    """
    if isinstance(x, tuple):
        inner = ", ".join(show(v, width) for v in x)
        return f"({inner}{',' if len(x) == 1 else ''})"
    if isinstance(x, list):
        return "[" + ", ".join(show(v, width) for v in x) + "]"
    if isinstance(x, np.ndarray):
        body = np.array2string(x, separator=", ", max_line_width=width, threshold=120,
                               precision=8, floatmode="maxprec", prefix="array(")
        suffix = "" if x.dtype in (np.float64, np.int64, np.bool_) else f", dtype={x.dtype}"
        if x.size == 0:
            return f"np.zeros({x.shape}{suffix})"
        return f"array({body}{suffix})"
    if isinstance(x, np.generic):
        return f"np.{type(x).__name__}({x.item()!r})"
    if isinstance(x, float):
        return repr(x)
    return repr(x)
