"""Every public function and class names its lesson in its docstring, as the catalog says.

The catalog (``Lesson.teaches`` in ``llmmath.lessons.LESSONS``) is the one source
of truth; the docstrings are checked against it. The paragraph right after a
docstring's summary is, in one of three forms::

    Lesson: ``softmax_jacobian`` (The softmax Jacobian).
    Lessons: ``why_math`` (Why the mathematics matters); ``attention`` (Attention as
    matrix operations).
    Lesson: none (a utility of the training command).

Several lessons are listed in course order, the one that introduces the name
first. ``none`` is for a name that no lesson's ``teaches`` lists, and says why.
A paragraph may wrap over several lines; it is read with its lines joined.

The names checked: the ``__all__`` of each module in ``MODULES`` (its functions
and classes; constants carry no docstring of their own), and every function,
class or method that a lesson's ``teaches`` names (``llmmath.nn.GPT.forward``).
An object exported under several names (``llmmath.data.CharTokenizer`` is
``llmmath.tokenizers.CharTokenizer``) is checked once, taught by the lessons
that list any of its names.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Sequence
from types import ModuleType

import pytest

import llmmath
from llmmath.lessons import LESSONS, Lesson

MODULES = (
    "linalg", "attention", "calculus", "prob", "info", "stats", "ngram", "landscape",
    "autograd", "autograd.functional", "nn", "optim", "tokenizers", "data", "checkpoint",
    "train", "generate", "evaluate", "inspect_attention", "compress", "scaling", "exercises",
)

_HEAD = re.compile(r"Lessons?: ")
_ENTRY = re.compile(r"``(\w+)`` \(")


def resolve(dotted: str) -> object:
    """The object a dotted name stands for, attribute first (as ``source_view.locate``)."""
    parts = dotted.split(".")
    obj: object = llmmath
    for i, attr in enumerate(parts[1:], start=1):
        if hasattr(obj, attr):
            obj = getattr(obj, attr)
        elif isinstance(obj, ModuleType):
            obj = importlib.import_module(".".join(parts[: i + 1]))
        else:
            raise AttributeError(f"{dotted}: {'.'.join(parts[:i])} has no {attr!r}")
    return obj


def _documentable(obj: object) -> bool:
    return (inspect.isfunction(obj) or inspect.isclass(obj)) and \
        getattr(obj, "__module__", "").startswith("llmmath")


def public_objects() -> dict[int, tuple[object, list[str]]]:
    """``id(obj) -> (obj, its dotted names)`` for every name this file checks."""
    found: dict[int, tuple[object, list[str]]] = {}
    for module in MODULES:
        mod = importlib.import_module(f"llmmath.{module}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if _documentable(obj):
                found.setdefault(id(obj), (obj, []))[1].append(f"llmmath.{module}.{name}")
    for lesson in LESSONS:
        for dotted in lesson.teaches:
            obj = resolve(dotted)
            if _documentable(obj):
                names = found.setdefault(id(obj), (obj, []))[1]
                if dotted not in names:
                    names.append(dotted)
    return found


def catalog() -> dict[int, list[Lesson]]:
    """``id(obj) -> the lessons whose teaches lists it``, in course order."""
    taught: dict[int, list[Lesson]] = {}
    for lesson in LESSONS:
        for dotted in lesson.teaches:
            lessons = taught.setdefault(id(resolve(dotted)), [])
            if lesson not in lessons:
                lessons.append(lesson)
    return taught


def lesson_paragraph(lessons: Sequence[Lesson], reason: str | None = None) -> str:
    """The paragraph a docstring carries for ``lessons`` (unwrapped)."""
    if not lessons:
        if not reason:
            raise ValueError("a name no lesson teaches needs a reason")
        return f"Lesson: none ({reason})."
    head = "Lesson: " if len(lessons) == 1 else "Lessons: "
    return head + "; ".join(f"``{lesson.name}`` ({lesson.title})" for lesson in lessons) + "."


def paragraphs(doc: str) -> list[str]:
    """The paragraphs of a docstring, each with its lines joined by one space."""
    text = inspect.cleandoc(doc)
    return [" ".join(line.strip() for line in block.splitlines())
            for block in re.split(r"\n\s*\n", text) if block.strip()]


def parse(paragraph: str) -> list[tuple[str, str]] | None:
    """``[(name, title), ...]`` of a lesson paragraph; ``None`` for ``Lesson: none (...)``."""
    if re.fullmatch(r"Lesson: none \(.+\)\.", paragraph):
        return None
    head = _HEAD.match(paragraph)
    if head is None or not paragraph.endswith(")."):
        raise ValueError(f"not a lesson paragraph: {paragraph!r}")
    pieces = _ENTRY.split(paragraph[head.end():])
    if pieces[0] or len(pieces) < 3:
        raise ValueError(f"expected ``name`` (Title) entries after {head.group()!r}: "
                         f"{paragraph!r}")
    entries = []
    names, rests = pieces[1::2], pieces[2::2]
    for i, (name, rest) in enumerate(zip(names, rests, strict=True)):
        end = ")." if i == len(names) - 1 else "); "
        if not rest.endswith(end):
            raise ValueError(f"entry ``{name}`` should end with {end!r}: {paragraph!r}")
        entries.append((name, rest[: -len(end)]))
    if (head.group() == "Lesson: ") != (len(entries) == 1):
        raise ValueError(f"'Lesson:' for one lesson, 'Lessons:' for several: {paragraph!r}")
    return entries


def problems(doc: str | None, dotted: str, expected: Sequence[Lesson]) -> list[str]:
    """What is wrong with ``doc`` for the name ``dotted`` that ``expected`` teach."""
    by_name = {lesson.name: lesson for lesson in LESSONS}
    want = lesson_paragraph(expected, reason="...")
    if not doc:
        return [f"{dotted} has no docstring; it should name its lesson: {want}"]
    paras = paragraphs(doc)
    found = [i for i, p in enumerate(paras) if _HEAD.match(p)]
    if len(found) != 1:
        return [f"{dotted}: expected one 'Lesson:' paragraph, found {len(found)}; write, "
                f"after the summary: {want}"]
    if found[0] != 1:
        return [f"{dotted}: the 'Lesson:' paragraph is paragraph {found[0] + 1}; it goes "
                f"right after the summary"]
    try:
        entries = parse(paras[1])
    except ValueError as err:
        return [f"{dotted}: {err}; expected {want}"]
    if entries is None:
        if expected:
            return [f"{dotted}: says 'Lesson: none' but the catalog has it taught by "
                    f"{[lesson.name for lesson in expected]}; write {want}"]
        return []
    errors = []
    for name, title in entries:
        lesson = by_name.get(name)
        if lesson is None:
            errors.append(f"{dotted}: names lesson {name!r}, which is not in LESSONS")
        elif lesson not in expected:
            errors.append(f"{dotted}: names lesson {name!r}, whose teaches does not list it")
        elif title != lesson.title:
            errors.append(f"{dotted}: lesson {name!r} is titled {lesson.title!r}, not "
                          f"{title!r}")
    if not errors and [name for name, _ in entries] != [lesson.name for lesson in expected]:
        errors.append(f"{dotted}: names {[name for name, _ in entries]}; the catalog, in "
                      f"course order: {[lesson.name for lesson in expected]}")
    if errors:
        errors.append(f"expected: {want}" if expected else
                      "expected: Lesson: none (why no lesson teaches it).")
    return errors


_OBJECTS = public_objects()
_CATALOG = catalog()


@pytest.mark.parametrize("key", list(_OBJECTS), ids=[names[0] for _, names in
                                                     _OBJECTS.values()])
def test_docstring_names_its_lessons(key: int) -> None:
    obj, names = _OBJECTS[key]
    # ``__doc__`` itself, not inspect.getdoc: a class without a docstring must not
    # borrow its base class's.
    errors = problems(obj.__doc__, " = ".join(names), _CATALOG.get(key, []))
    assert not errors, "\n".join(errors)


def test_every_module_is_covered() -> None:
    """Enough names are checked for the test to mean something, taught ones among them."""
    assert len(_OBJECTS) > 250
    taught = [key for key in _OBJECTS if key in _CATALOG]
    assert len(taught) > 100
    # Every catalog entry that is a function or class is among the checked names.
    for lesson in LESSONS:
        for dotted in lesson.teaches:
            obj = resolve(dotted)
            assert not _documentable(obj) or id(obj) in _OBJECTS, dotted


# --------------------------------------------------------- the check can fail

_SOFTMAX = llmmath.prob.softmax


def _softmax_doc() -> str:
    return _SOFTMAX.__doc__


def _softmax_lessons() -> list[Lesson]:
    return _CATALOG[id(_SOFTMAX)]


def test_softmax_is_taught_by_several_lessons() -> None:
    """The mutations below start from a correct docstring that lists several lessons."""
    assert len(_softmax_lessons()) >= 3
    assert problems(_softmax_doc(), "prob.softmax", _softmax_lessons()) == []


def test_fails_without_the_paragraph() -> None:
    doc = _softmax_doc()
    para = paragraphs(doc)[1]
    assert para.startswith("Lessons: ")
    stripped = "\n\n".join(p for p in paragraphs(doc) if p != para)
    assert "expected one 'Lesson:' paragraph, found 0" in \
        problems(stripped, "prob.softmax", _softmax_lessons())[0]
    assert "has no docstring" in problems(None, "prob.softmax", _softmax_lessons())[0]


def test_fails_on_a_lesson_that_does_not_exist() -> None:
    first = _softmax_lessons()[0].name
    doc = _softmax_doc().replace(f"``{first}``", "``no_such_lesson``", 1)
    assert any("not in LESSONS" in e for e in problems(doc, "prob.softmax",
                                                       _softmax_lessons()))


def test_fails_on_a_lesson_whose_teaches_does_not_list_it() -> None:
    other = next(lesson for lesson in LESSONS if lesson not in _softmax_lessons())
    first = _softmax_lessons()[0]
    doc = _softmax_doc().replace(f"``{first.name}`` ({first.title})",
                                 f"``{other.name}`` ({other.title})", 1)
    assert any("whose teaches does not list it" in e
               for e in problems(doc, "prob.softmax", _softmax_lessons()))


def test_fails_when_the_catalog_changes() -> None:
    """The catalog is the truth: a lesson added to (or dropped from) teaches fails the test."""
    lessons = _softmax_lessons()
    extra = next(lesson for lesson in LESSONS if lesson not in lessons)
    assert problems(_softmax_doc(), "prob.softmax", [*lessons, extra])
    assert problems(_softmax_doc(), "prob.softmax", lessons[1:])
    assert "says 'Lesson: none'" in problems("Summary.\n\nLesson: none (a utility).",
                                             "prob.softmax", lessons)[0]
    assert problems("Summary.\n\nLesson: none (a utility).", "x", []) == []


def test_fails_on_order_title_number_and_place() -> None:
    lessons = _softmax_lessons()
    expected = lesson_paragraph(lessons)
    swapped = lesson_paragraph([lessons[1], lessons[0], *lessons[2:]])
    assert "in course order" in problems(f"Summary.\n\n{swapped}", "s", lessons)[0]
    retitled = expected.replace(lessons[0].title, "Another title", 1)
    assert "is titled" in problems(f"Summary.\n\n{retitled}", "s", lessons)[0]
    singular = expected.replace("Lessons: ", "Lesson: ", 1)
    assert "for several" in problems(f"Summary.\n\n{singular}", "s", lessons)[0]
    late = f"Summary.\n\nMore prose.\n\n{expected}"
    assert "paragraph 3" in problems(late, "s", lessons)[0]
    twice = f"Summary.\n\n{expected}\n\n{expected}"
    assert "found 2" in problems(twice, "s", lessons)[0]
    assert "not a lesson paragraph" in problems("Summary.\n\nLesson: none.", "s", [])[0]


def test_a_wrapped_paragraph_reads_as_one() -> None:
    """Line breaks inside the paragraph (and titles with parentheses) parse back exactly."""
    rope = next(lesson for lesson in LESSONS if lesson.name == "rope")
    sampling = next(lesson for lesson in LESSONS if lesson.name == "sampling")
    text = lesson_paragraph([rope, sampling])
    words = text.split(" ")
    wrapped = "\n    ".join(" ".join(words[i:i + 3]) for i in range(0, len(words), 3))
    doc = f"Summary.\n\n    {wrapped}\n\n    Examples\n    --------\n    >>> 1\n    1\n"
    assert parse(paragraphs(doc)[1]) == [(rope.name, rope.title),
                                        (sampling.name, sampling.title)]
    assert problems(doc, "s", [rope, sampling]) == []
