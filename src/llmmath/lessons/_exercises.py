"""The exercises at the end of a lesson: an editor per exercise, a Check button, the verdict.

A lesson with exercises (``llmmath.exercises.exercises_for_lesson``) ends, just
before its footer, with two cells:

.. code-block:: python

    @app.cell(hide_code=True)
    def _(kit):
        exercises = kit.exercises("attention")
        exercise_buttons = exercises.buttons
        return exercise_buttons, exercises


    @app.cell(hide_code=True)
    def _(exercise_buttons, exercises, kit):
        exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
        return

The first makes the controls once per session: a code editor per exercise,
holding its stub (``exercises.editors``, a ``mo.ui.dictionary``), and a Check
button per exercise (``exercise_buttons``, a ``mo.ui.dictionary`` of run
buttons). The second draws the section and runs again only when a Check button
is pressed. The editors are deliberately not bound to a global name, so typing
re-runs nothing; their text is read, through ``kit.value``, when Check is
pressed. (``kit.exercises`` imports this module, never the other way round.)

Check runs the same checker as ``llmmath exercise check``
(:func:`llmmath.exercises.check_source`) in a separate Python process, so the
lesson's kernel (in the course server, a thread of the server's process) only
waits on a pipe: the server and the other lessons keep answering. The text of
an editor is untrusted: it goes to that process on its standard input, and the
checker runs it in its own sandbox. The attempt, and the hint a failure earns,
are recorded in the same progress store as the command line's.

Nothing here imports the exercise catalog when the lesson starts: what a
section shows (titles, signatures, stubs) is kept in a small JSON file in the
per-user cache, keyed by a hash of the exercises package's source, so it is
rebuilt whenever an exercise changes and a lesson's first run stays as fast
as it was without exercises.
"""

from __future__ import annotations

import functools
import hashlib
import html
import importlib.util
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import marimo as mo

from llmmath.lessons import get_lesson

__all__ = ["ExerciseInfo", "ExerciseSection", "CHECK_TIMEOUT_S", "MAX_SOURCE_CHARS",
           "exercise_infos", "lesson_exercises", "lesson_progress", "progress_path",
           "run_check", "anchor"]

CHECK_TIMEOUT_S = 120.0          # a whole check, in its process; each call has its own limit
MAX_SOURCE_CHARS = 100_000       # what an editor may send to the checker
RESULT_MARK = "LLMMATH-CHECK-RESULT "

# Runs in the checking process: the source arrives on stdin, the verdict leaves as one line.
_DRIVER = r"""
import signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # a clean exit stops the sandbox too
from llmmath.exercises import check_source
name = sys.argv[1]
source = sys.stdin.read()
result = check_source(name, source, display="your code")
sys.stdout.write("\n" + sys.argv[2] + result.to_json() + "\n")
"""


# --------------------------------------------------------------------- what is shown

@dataclass(frozen=True)
class ExerciseInfo:
    """What a lesson shows of one exercise (read from the catalog, or from its cached copy)."""

    name: str
    lesson: str
    title: str
    signature: str
    returns: str
    reference: str
    stub: str
    capstone: bool = False


def _cache_dir() -> Path:
    """``$LLMMATH_CACHE_DIR``, else the per-user cache directory (as :mod:`llmmath.compress`)."""
    env = os.environ.get("LLMMATH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("llmmath"))


def _source_fingerprint() -> str:
    """A hash of every ``.py`` file of ``llmmath.exercises``, found without importing it."""
    import llmmath

    spec = importlib.util.find_spec("llmmath.exercises")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("llmmath.exercises is not installed")
    digest = hashlib.sha256(getattr(llmmath, "__version__", "").encode())
    for root in spec.submodule_search_locations:
        for path in sorted(Path(root).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _from_catalog() -> tuple[ExerciseInfo, ...]:
    from llmmath.exercises import EXERCISES

    return tuple(ExerciseInfo(e.name, e.lesson, e.title, e.signature, e.returns, e.reference,
                              e.stub, bool(e.capstone)) for e in EXERCISES)


def _read_cache(path: Path) -> tuple[ExerciseInfo, ...] | None:
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        names = {f.name for f in fields(ExerciseInfo)}
        if not isinstance(rows, list) or not all(isinstance(r, dict) and set(r) == names
                                                 for r in rows):
            return None
        infos = tuple(ExerciseInfo(**r) for r in rows)
    except (OSError, ValueError, TypeError):
        return None
    text = (str, str, str, str, str, str, str)
    ok = all(all(isinstance(getattr(i, f), t) for f, t in zip(
        ("name", "lesson", "title", "signature", "returns", "reference", "stub"), text,
        strict=True)) and isinstance(i.capstone, bool) for i in infos)
    return infos if ok else None


@functools.cache
def exercise_infos() -> tuple[ExerciseInfo, ...]:
    """Every exercise as a lesson shows it, in course order.

    From the catalog when it is already imported, else from the cached copy
    (rebuilt from the catalog, and written atomically, when the exercises'
    source has changed or the cache cannot be read).
    """
    if "llmmath.exercises.catalog" in sys.modules:
        return _from_catalog()
    try:
        path = _cache_dir() / "lessons" / f"exercises-{_source_fingerprint()[:24]}.json"
    except (ImportError, OSError):
        return _from_catalog()
    cached = _read_cache(path)
    if cached is not None:
        return cached
    infos = _from_catalog()
    try:
        from llmmath._files import atomic_write_text

        atomic_write_text(path, json.dumps([asdict(i) for i in infos], indent=1) + "\n")
    except OSError:
        pass                       # a read-only cache: the catalog is read every time
    return infos


def lesson_exercises(lesson: str) -> tuple[ExerciseInfo, ...]:
    """The exercises of ``lesson``, in course order (empty for a lesson without any).

    >>> [e.name for e in lesson_exercises("attention")]
    ['causal_mask', 'attention']
    >>> lesson_exercises("study_path")
    ()
    """
    get_lesson(lesson)  # an unknown lesson fails here
    return tuple(i for i in exercise_infos() if i.lesson == lesson)


def anchor(name: str) -> str:
    """The id of exercise ``name``'s block on its lesson's page.

    >>> anchor("causal_mask")
    'exercise-causal_mask'
    """
    return f"exercise-{name}"


# --------------------------------------------------------------------- checking

def run_check(name: str, source: str, *, timeout_s: float = CHECK_TIMEOUT_S,
              env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Check ``source`` against exercise ``name`` in a separate process; the verdict as a dict.

    The dict is :meth:`llmmath.exercises.checker.CheckResult.to_dict`'s
    (``passed``, ``failures``, ``hint``, ``seed``...). When no verdict comes
    back (the checking process failed, or took longer than ``timeout_s``), it
    is ``{"passed": False, "error": message}``. The attempt is recorded in
    the progress store by the checker itself.
    """
    if not isinstance(source, str):
        return {"passed": False, "error": f"the editor sent {type(source).__name__}, not text."}
    if len(source) > MAX_SOURCE_CHARS:
        return {"passed": False, "error": (f"your code is {len(source):,} characters long; the "
                                           f"checker takes at most {MAX_SOURCE_CHARS:,}.")}
    if "\0" in source:
        return {"passed": False, "error": "your code contains a NUL character, which Python "
                                          "source cannot hold; delete it and check again."}
    proc = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, name, RESULT_MARK],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=dict(os.environ if env is None else env), start_new_session=True)
    try:
        out, err = proc.communicate(source.encode("utf-8", "surrogatepass"), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _stop(proc)
        return {"passed": False, "error": (f"the check took longer than {timeout_s:g} s and was "
                                           f"stopped. Does your code loop for a long time on "
                                           f"larger inputs? Try it from a file: llmmath "
                                           f"exercise start {name}, then llmmath exercise "
                                           f"check {name}.")}
    for line in reversed(out.decode("utf-8", "replace").splitlines()):
        if line.startswith(RESULT_MARK):
            try:
                verdict = json.loads(line[len(RESULT_MARK):])
            except ValueError:
                break
            if isinstance(verdict, dict) and isinstance(verdict.get("passed"), bool):
                return verdict
            break
    why = err.decode("utf-8", "replace").strip().splitlines()
    return {"passed": False, "error": (f"the checker stopped without a verdict (exit "
                                       f"{proc.returncode})" + (f": {why[-1]}" if why else "")
                                       + ".")}


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM (the checker then closes its sandbox), then SIGKILL for the whole group."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            pass
        try:
            proc.communicate(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------- drawing

def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _pre(text: str) -> str:
    return f'<pre style="white-space: pre-wrap; margin: .3rem 0">{_esc(text)}</pre>'


def _verdict_body(name: str, verdict: Mapping[str, Any], stale: bool) -> str:
    """A verdict as HTML; every text in it is escaped (it may quote the learner's code)."""
    parts: list[str] = []
    passed = verdict.get("passed") is True
    if "error" in verdict:
        parts.append(f"<p><strong>Not checked.</strong> {_esc(verdict['error'])}</p>")
    elif passed:
        parts.append(
            f"<p><strong>✓ Passed.</strong> {_esc(verdict.get('cases', 0))} cases (seed "
            f"{_esc(verdict.get('seed', ''))}, {float(verdict.get('seconds', 0.0)):.2f} s), "
            f"checked against <code>{_esc(verdict.get('reference', ''))}</code>. A reference "
            f"solution to compare with: <code>llmmath exercise solution {_esc(name)}</code>.</p>")
    else:
        parts.append("<p><strong>Not passed yet.</strong></p>")
        for failure in verdict.get("failures") or []:
            if not isinstance(failure, Mapping):
                continue
            parts.append(f"<p>{_esc(failure.get('message', ''))}</p>")
            inputs = failure.get("inputs") or {}
            if isinstance(inputs, Mapping) and inputs:
                label = failure.get("label") or ""
                parts.append(f"<p>Input{f' ({_esc(label)})' if label else ''}:</p>"
                             + _pre("\n".join(f"{k} = {v}" for k, v in inputs.items())))
            lines = [f"{key + ':':<9} {failure[key]}" for key in ("expected", "got")
                     if failure.get(key) is not None]
            if lines:
                parts.append(_pre("\n".join(lines)))
            if failure.get("tolerance"):
                parts.append(f"<p>Tolerance: {_esc(failure['tolerance'])}</p>")
            if failure.get("detail"):
                parts.append(f"<details><summary>Details</summary>{_pre(failure['detail'])}"
                             f"</details>")
        if verdict.get("hint"):
            parts.append(f"<p><strong>Hint {_esc(verdict.get('hint_number') or '')} of 3:"
                         f"</strong> {_esc(verdict['hint'])}</p>")
        if verdict.get("seed") is not None and verdict.get("failures"):
            parts.append(f"<p><small>Random cases from seed {_esc(verdict['seed'])} (replay "
                         f"them from a file with <code>llmmath exercise check {_esc(name)} "
                         f"--seed {_esc(verdict['seed'])}</code>).</small></p>")
    for notice in verdict.get("notices") or []:
        parts.append(f"<p><small>Note: {_esc(notice)}</small></p>")
    if stale:
        parts.append("<p><small>This is the verdict on the code as it was when you pressed "
                     "Check; it has changed since.</small></p>")
    return (f'<div data-exercise-result="{_esc(name)}" '
            f'data-passed="{"true" if passed else "false"}">{"".join(parts)}</div>')


def _verdict_html(name: str, verdict: Mapping[str, Any], stale: bool) -> mo.Html:
    """The verdict in a callout: green for a pass, red otherwise."""
    kind = "success" if verdict.get("passed") is True else "danger"
    return mo.callout(mo.Html(_verdict_body(name, verdict, stale)), kind=kind)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class ExerciseSection:
    """The exercises of one lesson: editors, Check buttons, and the last verdict of each.

    Make it with ``kit.exercises(lesson)`` in a lesson cell (see the module
    docstring). ``buttons`` is the ``mo.ui.dictionary`` of Check buttons, to
    bind to a global name; ``editors`` the ``mo.ui.dictionary`` of code editors,
    not to bind to one (typing would re-run the section).
    """

    def __init__(self, lesson: str) -> None:
        self.lesson = lesson
        self.infos = lesson_exercises(lesson)
        self.editors = mo.ui.dictionary({i.name: mo.ui.code_editor(
            value=i.stub, language="python", min_height=160, debounce=False, label="")
            for i in self.infos})
        self.buttons = mo.ui.dictionary({i.name: mo.ui.run_button(label=f"Check {i.name}",
                                                                  kind="success")
                                         for i in self.infos})
        self.verdicts: dict[str, tuple[str, dict[str, Any]]] = {}  # name -> (source hash, verdict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.infos)

    def check(self, name: str, source: str) -> dict[str, Any]:
        """Check ``source`` against exercise ``name``; keep and return the verdict."""
        if name not in self.names:
            raise ValueError(f"exercises: lesson {self.lesson!r} has no exercise {name!r}; "
                             f"expected one of {', '.join(self.names)}.")
        verdict = run_check(name, source)
        self.verdicts[name] = (_sha(source) if isinstance(source, str) else "", verdict)
        return verdict

    def show(self, pressed: Mapping[str, Any] | None = None,
             sources: Mapping[str, Any] | None = None) -> mo.Html:
        """The section; first checks each exercise whose button is ``True`` in ``pressed``.

        ``pressed`` and ``sources`` are ``kit.value`` of the buttons and of the
        editors: ``{name: bool}`` and ``{name: text}``.
        """
        sources = sources or {}
        chosen = [n for n in self.names if pressed and pressed.get(n) is True]
        for name in chosen:
            mo.output.replace(self.view(sources))
            with mo.status.spinner(title=f"Checking {name}…",
                                   subtitle="edge cases first, then random inputs"):
                self.check(name, sources.get(name, ""))
        return self.view(sources)

    def view(self, sources: Mapping[str, Any] | None = None) -> mo.Html:
        """The section: each exercise with its editor, button and last verdict.

        A verdict on other code than ``sources`` holds now says so.
        """
        if not self.infos:
            return mo.md("")
        links = " · ".join(f'<a href="#{anchor(i.name)}">{_esc(i.title)}</a>'
                           for i in self.infos)
        intro = mo.md(
            "## Exercises\n\n"
            "Write each function yourself in its editor, then press its Check button. The "
            "checker runs your code in a separate, limited process on edge cases and random "
            "inputs, compares every answer with llmmath's own function, and shows the first "
            "input it gets wrong, what was expected, what came back, and the next hint. It is "
            "the checker of `llmmath exercise check`, and your progress is the same in both "
            "places (the course home counts it).\n\n"
            f"<small>In this lesson: {links}</small>")
        blocks = [intro]
        for number, info in enumerate(self.infos, start=1):
            capstone = " <small>(capstone)</small>" if info.capstone else ""
            head = mo.Html(
                f'<div id="{anchor(info.name)}" data-exercise="{_esc(info.name)}">'
                f'<h3 style="font-size: 1.2rem; font-weight: 600; margin: .5rem 0 .3rem">'
                f"Exercise {number}: {_esc(info.title)}{capstone}</h3>"
                f"<p>Write <code>{_esc(info.signature)}</code>; it returns {_esc(info.returns)}."
                f"</p><p><small>Prefer your own editor? <code>llmmath exercise start "
                f"{_esc(info.name)}</code> copies this stub to a file, <code>llmmath exercise "
                f"check {_esc(info.name)}</code> checks it, <code>llmmath exercise hint "
                f"{_esc(info.name)}</code> gives a hint.</small></p></div>")
            parts: list[Any] = [head, self.editors[info.name], self.buttons[info.name]]
            kept = self.verdicts.get(info.name)
            if kept is not None:
                now = (sources or {}).get(info.name)
                stale = isinstance(now, str) and kept[0] != _sha(now)
                parts.append(_verdict_html(info.name, kept[1], stale=stale))
            blocks.append(mo.vstack(parts, gap=0.5))
        return mo.vstack(blocks, gap=1.25)


# --------------------------------------------------------------------- the course home

def progress_path() -> Path:
    """The progress database (:func:`llmmath.exercises.progress.database_path`)."""
    from llmmath.exercises.progress import database_path

    return database_path()


def lesson_progress(path: Path | None = None) -> tuple[dict[str, tuple[int, int]], str]:
    """Exercises passed and in all, per lesson with exercises, read without writing anything.

    Returns ``({lesson: (passed, total)}, note)``. ``note`` is empty, or a
    sentence saying why the progress could not be read (a locked or corrupt
    database); the counts are then 0. A database that does not exist yet means
    nothing passed.
    """
    from llmmath.exercises.progress import ProgressError, read_passed

    totals: dict[str, list[str]] = {}
    for info in exercise_infos():
        totals.setdefault(info.lesson, []).append(info.name)
    passed: set[str] = set()
    note = ""
    try:
        passed = read_passed(path)
    except ProgressError as exc:
        note = (f"Your exercise progress could not be read just now ({_esc(exc)}); the counts "
                f"below show none passed. <code>llmmath exercise progress</code> says more.")
    return {lesson: (sum(n in passed for n in names), len(names))
            for lesson, names in totals.items()}, note
