"""Exercises: the learner writes the mathematics, a sandboxed checker says whether it is right.

Each exercise (:class:`~llmmath.exercises.spec.Exercise`) asks for one
function with an exact signature, belongs to one lesson, and is checked
against llmmath's own implementation of the same thing. The checker
(:mod:`llmmath.exercises.checker`) runs the learner's file in a separate,
limited process (:mod:`llmmath.exercises.sandbox`), tries named edge cases
and then random ones from Hypothesis, and on a failure shows the smallest
input that fails, the expected and the actual answer, the tolerance and the
next hint. Progress is kept in SQLite (:mod:`llmmath.exercises.progress`).

The command line (``llmmath exercise list|show|start|check|hint|solution|progress``)
and the lessons' Check buttons share these functions:

>>> from llmmath.exercises import EXERCISES, get_exercise, exercises_for_lesson
>>> len(EXERCISES) >= 30
True
>>> get_exercise("stable_softmax").signature
'softmax(x, axis=-1)'
>>> [e.name for e in exercises_for_lesson("layernorm")]
['layer_norm', 'layer_norm_backward']

``check_source(name, source)`` checks code given as text (a lesson's editor),
``check_file(name, path)`` a file; both return a
:class:`~llmmath.exercises.checker.CheckResult`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmmath.exercises.spec import Exercise

if TYPE_CHECKING:  # pragma: no cover
    from llmmath.exercises.catalog import EXERCISES, exercises_for_lesson, get_exercise, names
    from llmmath.exercises.checker import CheckResult

#: Names served by the catalog, imported on first use: the catalog builds its random cases
#: with Hypothesis (0.4 s to import), which the course home and the progress store never need.
_FROM_CATALOG = ("EXERCISES", "get_exercise", "exercises_for_lesson", "names")


def __getattr__(name: str) -> Any:
    if name in _FROM_CATALOG:
        from llmmath.exercises import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module 'llmmath.exercises' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FROM_CATALOG))

__all__ = ["Exercise", "EXERCISES", "get_exercise", "exercises_for_lesson", "names",
           "check_source", "check_file", "progress_by_lesson"]


def check_source(name: str, source: str, **kwargs: Any) -> CheckResult:
    """Check ``source`` against exercise ``name``; see :func:`llmmath.exercises.checker.check_source`.

    Lesson: none (part of the exercise checker).
    """
    from llmmath.exercises.checker import check_source as _check

    return _check(name, source, **kwargs)


def check_file(name: str, path: Any = None, **kwargs: Any) -> CheckResult:
    """Check a file; see :func:`llmmath.exercises.checker.check_file`.

    Lesson: none (part of the exercise checker).
    """
    from llmmath.exercises.checker import check_file as _check

    return _check(name, path, **kwargs)


def progress_by_lesson(store: Any = None) -> dict[str, Any]:
    """Passed and attempted exercises per lesson; see :func:`llmmath.exercises.progress.progress_by_lesson`.

    Lesson: none (part of the exercise checker).
    """
    from llmmath.exercises.progress import progress_by_lesson as _by_lesson

    return _by_lesson(store)
