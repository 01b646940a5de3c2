"""What an exercise is: a statement, a function to write, hints, and how it is checked.

An :class:`Exercise` holds, for one small task:

* what the learner reads: ``title``, ``statement``, the exact ``signature`` of
  the function to write, what it ``returns``, three ``hints`` of increasing
  strength, and the ``lesson`` it belongs to;
* how it is checked: ``reference`` names the library function the answer is
  compared with (always llmmath's own, or NumPy's where the table says so),
  ``expected`` computes the reference answer for one case by calling it,
  ``cases`` builds the Hypothesis strategy of random inputs and
  ``edge_cases`` the named inputs every careful implementation must survive;
  tolerances, forbidden functions and whether arguments may be changed in place.

The stub a learner starts from is generated from these fields (:attr:`Exercise.stub`),
so the signature in the statement, the stub and the checker can never disagree.
The reference solutions live in ``answers/NAME.txt`` (not importable as a module).
"""

from __future__ import annotations

import ast
import importlib
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from llmmath.exercises.compare import Tolerance

__all__ = ["Exercise", "Parameter", "library", "ANSWER_DIR", "DEFAULT_TOLERANCE",
           "DEFAULT_TOLERANCE32"]

ANSWER_DIR = Path(__file__).resolve().parent / "answers"
DEFAULT_TOLERANCE = Tolerance(rtol=1e-7, atol=1e-10)      # float64 inputs
DEFAULT_TOLERANCE32 = Tolerance(rtol=1e-4, atol=1e-5)     # any float32 input


def library(dotted: str) -> Callable[..., Any]:
    """The object named ``dotted`` (``"llmmath.prob.softmax"``), imported when first needed.

    >>> library("llmmath.prob.softmax").__name__
    'softmax'
    """
    module, _, attr = dotted.rpartition(".")
    try:
        obj = importlib.import_module(module)
    except ImportError:                      # a method: "llmmath.autograd.Value.tanh"
        module, _, owner = module.rpartition(".")
        obj = getattr(importlib.import_module(module), owner)
    return getattr(obj, attr)


@dataclass(frozen=True)
class Parameter:
    """One parameter of the function the learner writes: its name and default (as source)."""

    name: str
    default: str | None = None           # source text of the default; None when required

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Exercise:
    """One exercise; see the module docstring for the fields.

    Lesson: none (part of the exercise checker).
    """

    name: str
    lesson: str
    title: str
    signature: str
    returns: str
    statement: str
    hints: tuple[str, str, str]
    reference: str
    expected: Callable[..., Any]
    cases: Callable[[], Any]
    edge_cases: Callable[[], list[tuple[str, dict[str, Any]]]]
    tolerance: Tolerance = DEFAULT_TOLERANCE
    tolerance32: Tolerance = DEFAULT_TOLERANCE32
    forbidden: tuple[str, ...] = ()         # qualified names that raise while checking
    forbidden_syntax: tuple[str, ...] = ()  # names and operators refused in the source
    no_matmul: bool = False                 # float arrays arrive as a view whose @ raises
    pure: bool = True                       # the function must leave its arguments unchanged
    capstone: bool = False
    pillar: str = ""                        # the library module it exercises
    imports: str = "import numpy as np"
    references: tuple[str, ...] = field(default=())  # further library names used by `expected`

    def __post_init__(self) -> None:
        if len(self.hints) != 3:
            raise ValueError(f"exercise {self.name}: expected 3 hints; got {len(self.hints)}")
        _ = self.parameters  # the signature must parse

    # ------------------------------------------------------------------ the signature
    @cached_property
    def _tree(self) -> ast.FunctionDef:
        node = ast.parse(f"def {self.signature}:\n    pass\n").body[0]
        assert isinstance(node, ast.FunctionDef)
        return node

    @property
    def function(self) -> str:
        """The name of the function the learner writes."""
        return self._tree.name

    @cached_property
    def parameters(self) -> tuple[Parameter, ...]:
        args = self._tree.args
        positional = args.args
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        return tuple(Parameter(a.arg, None if d is None else ast.unparse(d))
                     for a, d in zip(positional, defaults, strict=True))

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def references_all(self) -> tuple[str, ...]:
        """Every library name the check relies on (for the integrity check)."""
        return (self.reference, *self.references)

    # ------------------------------------------------------------------ what the learner gets
    @property
    def stub(self) -> str:
        """The starting file: the statement as its docstring and a function that raises."""
        paragraphs = [p for p in (textwrap.fill(" ".join(par.split()), 79)
                                  for par in self.statement.split("\n\n")) if p]
        statement = "\n\n".join(paragraphs)
        doc = (f'"""{self.title}  (llmmath exercise {self.name}, lesson {self.lesson})\n\n'
               f"{statement}\n\n"
               f"Write: {self.signature}\n"
               f"Returns: {self.returns}\n\n"
               f"Check:   llmmath exercise check {self.name}\n"
               f"Stuck?   llmmath exercise hint {self.name}\n"
               f'"""\n')
        body = (f"\n{self.imports}\n\n\ndef {self.signature}:\n"
                f'    """{self.returns[:1].upper() + self.returns[1:]}"""\n'
                f'    raise NotImplementedError("{self.function}: not written yet")\n')
        return doc + body

    @property
    def solution(self) -> str:
        """The reference solution (shown only after a pass or on giving up)."""
        return (ANSWER_DIR / f"{self.name}.txt").read_text(encoding="utf-8")

    def describe(self) -> str:
        """The statement, signature and return value as plain text."""
        text = "\n\n".join(textwrap.fill(" ".join(p.split()), 88)
                           for p in self.statement.split("\n\n") if p.strip())
        return (f"{self.title}\n\n{text}\n\nWrite:   {self.signature}\n"
                f"Returns: {self.returns}\nChecked against {self.reference}.")
