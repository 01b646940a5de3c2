"""llmmath — the mathematics of large language models, executable.

The pillar modules (:mod:`~llmmath.linalg`, :mod:`~llmmath.attention`,
:mod:`~llmmath.calculus`, :mod:`~llmmath.prob`, :mod:`~llmmath.info`,
:mod:`~llmmath.stats`, :mod:`~llmmath.ngram`) depend on NumPy only. They load
on first use, so ``import llmmath`` stays cheap::

    >>> import llmmath
    >>> p = llmmath.prob.softmax([1.0, 2.0, 0.5])
    >>> print(p.round(4))
    [0.2312 0.6285 0.1402]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_SUBMODULES = (
    "errors",
    "linalg",
    "attention",
    "calculus",
    "prob",
    "info",
    "stats",
    "ngram",
    "autograd",
    "nn",
    "optim",
    "landscape",
    "data",
    "tokenizers",
    "train",
    "checkpoint",
    "evaluate",
    "inspect_attention",
    "ledger",
)

__all__ = ["__version__", *_SUBMODULES]

if TYPE_CHECKING:  # pragma: no cover
    from llmmath import (  # noqa: F401
        attention,
        autograd,
        calculus,
        checkpoint,
        data,
        errors,
        evaluate,
        info,
        inspect_attention,
        landscape,
        ledger,
        linalg,
        ngram,
        nn,
        optim,
        prob,
        stats,
        tokenizers,
        train,
    )


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"llmmath.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'llmmath' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
