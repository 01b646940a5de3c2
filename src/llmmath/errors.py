"""The one exception family of llmmath.

Every error raised on purpose by the library derives from :class:`LLMMathError`
and from the builtin a NumPy user expects (``ValueError`` or ``TypeError``), so
``except ValueError`` keeps working and ``except LLMMathError`` catches only ours.
Messages name the operation, the argument, what was seen and what was expected.
"""

from __future__ import annotations

__all__ = ["LLMMathError", "InvalidValueError", "InvalidTypeError", "ShapeError"]


class LLMMathError(Exception):
    """Base class of every error llmmath raises deliberately."""


class InvalidValueError(LLMMathError, ValueError):
    """An argument has the right type but a value outside what the function accepts."""


class InvalidTypeError(LLMMathError, TypeError):
    """An argument has a type the function cannot work with."""


class ShapeError(InvalidValueError):
    """Array shapes do not fit the rule of the operation (the message states the rule)."""
