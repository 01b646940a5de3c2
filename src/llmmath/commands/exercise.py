"""``llmmath exercise``: write the mathematics yourself and have it checked.

``list`` shows every exercise with its status, ``show NAME`` its statement,
``start NAME`` copies the stub to ``./llmmath-exercises/NAME.py`` (never over
a file that is already there), ``check NAME`` runs the sandboxed checker on
that file, ``hint NAME`` gives the next hint (counted), ``solution NAME``
prints a reference solution once the exercise is passed (or with
``--give-up``), and ``progress`` sums up per lesson. The checker and the
progress store are :mod:`llmmath.exercises`; heavy imports happen inside the
command bodies.

Exit status of ``check``: 0 when the exercise passes, 1 when it does not,
2 for a usage error (an unknown exercise, a missing file). The other
subcommands: 0 on success, 1 when refused (a solution before a pass), 2 for a
usage error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

__all__ = ["register", "EXIT_FAILED", "EXIT_USAGE"]

EXIT_FAILED = 1
EXIT_USAGE = 2

_NAME = typer.Argument(..., help="the exercise (see `llmmath exercise list`)")


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _usage(message: str, as_json: bool = False) -> typer.Exit:
    """Print a usage error (as one JSON line with --json) and return the exit to raise."""
    if as_json:
        typer.echo(json.dumps({"passed": False, "failures": [], "hint": None,
                               "error": message}, separators=(",", ":")))
    else:
        from llmmath.commands._messages import print_error

        print_error(message)
    return typer.Exit(EXIT_USAGE)


def _exercise(name: str, as_json: bool = False) -> Any:
    from llmmath.errors import InvalidValueError
    from llmmath.exercises import get_exercise

    try:
        return get_exercise(name)
    except InvalidValueError as exc:
        raise _usage(str(exc), as_json) from None


def _store() -> Any:
    """The progress store, or None with a message when it cannot be opened."""
    from rich.markup import escape

    from llmmath.exercises.progress import ProgressError, ProgressStore

    try:
        store = ProgressStore()
    except ProgressError as exc:
        _console(stderr=True).print(f"[yellow]warning:[/] {escape(str(exc))}")
        return None
    for notice in store.notices:
        _console(stderr=True).print(f"[yellow]note:[/] {escape(notice)}")
    return store


def register(app: typer.Typer) -> None:
    """Add ``exercise`` (list, show, start, check, hint, solution, progress) to ``app``."""
    ex_app = typer.Typer(name="exercise", no_args_is_help=True,
                         help="Exercises: write the function, have it checked, see your "
                              "progress.",
                         context_settings={"help_option_names": ["-h", "--help"]})
    app.add_typer(ex_app, name="exercise")

    @ex_app.command("list")
    def list_exercises(
        lesson: str | None = typer.Option(None, "--lesson", "-l",
                                          help="only this lesson's exercises"),
    ) -> None:
        """Every exercise in course order, with its lesson and your status."""
        from rich.markup import escape
        from rich.table import Table

        from llmmath.exercises import EXERCISES

        shown = [e for e in EXERCISES if lesson is None or e.lesson == lesson]
        if lesson is not None and not shown:
            with_exercises = ", ".join(dict.fromkeys(e.lesson for e in EXERCISES))
            raise _usage(f"exercise list: no exercises for lesson {lesson!r}; lessons with "
                         f"exercises: {with_exercises}.")
        store = _store()
        records = store.all() if store is not None else {}
        if store is not None:
            store.close()
        table = Table(title=f"{len(shown)} exercises", caption="llmmath exercise start NAME, "
                      "then llmmath exercise check NAME")
        for col in ("exercise", "lesson", "you write", "status", "hints"):
            table.add_column(col, no_wrap=col != "you write")
        for e in shown:
            r = records.get(e.name)
            status = r.status if r else "new"
            colour = {"passed": "green", "gave up": "yellow", "attempted": "red"}.get(status)
            table.add_row(e.name + (" (capstone)" if e.capstone else ""), e.lesson,
                          escape(e.signature),
                          f"[{colour}]{status}[/]" if colour else status,
                          f"{r.hints_used}/3" if r and r.hints_used else "")
        _console().print(table)

    @ex_app.command("show")
    def show(name: str = _NAME) -> None:
        """The statement of an exercise: what to write and what it must return."""
        ex = _exercise(name)
        typer.echo(f"{ex.name} (lesson {ex.lesson})\n\n{ex.describe()}\n\n"
                   f"Start it with:  llmmath exercise start {ex.name}")

    @ex_app.command("start")
    def start(
        name: str = _NAME,
        directory: Path = typer.Option(Path("llmmath-exercises"), "--dir", "-d",
                                       help="the workspace folder"),
    ) -> None:
        """Copy the exercise's stub to DIR/NAME.py (an existing file is never overwritten)."""
        from llmmath.exercises.checker import default_path

        ex = _exercise(name)
        path = default_path(ex.name, directory)
        try:
            created = _create_new(path, ex.stub)
        except OSError as exc:
            raise _usage(f"exercise start: cannot write {path}: {exc.strerror or exc}") from None
        typer.echo(ex.describe() + "\n")
        if created:
            typer.echo(f"Wrote {path}. Edit it, then run:  llmmath exercise check {ex.name}"
                       + ("" if path == default_path(ex.name) else f" --file {path}"))
        else:
            typer.echo(f"{path} already exists; it was left as it is (delete it to start "
                       f"over). Check it with:  llmmath exercise check {ex.name}"
                       + ("" if path == default_path(ex.name) else f" --file {path}"))

    @ex_app.command("check")
    def check(
        name: str = _NAME,
        file: Path | None = typer.Option(None, "--file", "-f",
                                         help="the file to check [default: "
                                              "llmmath-exercises/NAME.py]"),
        as_json: bool = typer.Option(False, "--json",
                                     help="print one JSON object on one line"),
        seed: int | None = typer.Option(None, "--seed", min=0,
                                        help="replay the random cases of an earlier check"),
        examples: int | None = typer.Option(None, "--examples", min=1,
                                            help="random cases to try [default: 100]"),
    ) -> None:
        """Run the checker on your file: 0 = passed, 1 = not yet, 2 = usage error."""
        from llmmath.exercises.checker import check_file

        ex = _exercise(name, as_json)
        try:
            result = check_file(ex.name, file, seed=seed, max_examples=examples)
        except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
            raise _usage(str(exc), as_json) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        if as_json:
            typer.echo(result.to_json())
        else:
            _console().print(result.report(), markup=False)
        raise typer.Exit(0 if result.passed else EXIT_FAILED)

    @ex_app.command("hint")
    def hint(name: str = _NAME) -> None:
        """The next hint for an exercise (three, each stronger; the count is recorded)."""
        ex = _exercise(name)
        store = _store()
        if store is None:
            typer.echo(f"Hint 1 of 3 (not recorded): {ex.hints[0]}")
            return
        with store:
            used = store.get(ex.name).hints_used
            n, text = store.take_hint(ex.name, ex.hints)
        more = ("That was the last hint; `llmmath exercise solution "
                f"{ex.name} --give-up` shows a solution." if used >= len(ex.hints) - 1 else
                f"`llmmath exercise hint {ex.name}` again for a stronger one.")
        typer.echo(f"Hint {n} of {len(ex.hints)}: {text}\n{more}")

    @ex_app.command("solution")
    def solution(
        name: str = _NAME,
        give_up: bool = typer.Option(False, "--give-up",
                                     help="show it without having passed (recorded)"),
    ) -> None:
        """A reference solution: shown after a pass, or with --give-up."""
        ex = _exercise(name)
        store = _store()
        passed = False
        if store is not None:
            with store:
                record = store.get(ex.name)
                passed = record.passed
                if give_up and not passed:
                    store.record_give_up(ex.name)
        if not passed and not give_up:
            _console(stderr=True).print(
                f"{ex.name} is not passed yet, so its solution stays hidden. Keep going "
                f"(`llmmath exercise hint {ex.name}`), or add --give-up to see it.",
                markup=False)
            raise typer.Exit(EXIT_FAILED)
        typer.echo(f"# A reference solution of {ex.name} (checked against {ex.reference})\n")
        typer.echo(ex.solution)

    @ex_app.command("progress")
    def progress() -> None:
        """Passed exercises per lesson, with totals."""
        from rich.table import Table

        from llmmath.exercises import EXERCISES
        from llmmath.exercises.progress import progress_by_lesson
        from llmmath.lessons import get_lesson

        store = _store()
        try:
            by_lesson = progress_by_lesson(store)
            records = store.all() if store is not None else {}
        finally:
            if store is not None:
                store.close()
        table = Table(title="Your progress")
        for col in ("lesson", "passed", "attempted", "exercises"):
            table.add_column(col, justify="left" if col in ("lesson", "exercises") else "right")
        for name, lp in by_lesson.items():
            marks = " ".join(n + (" ✓" if records.get(n) and records[n].passed else "")
                             for n in lp.exercises)
            table.add_row(f"{get_lesson(name).number}. {name}", f"{lp.passed}/{lp.total}",
                          str(lp.attempted), marks)
        _console().print(table)
        passed = sum(lp.passed for lp in by_lesson.values())
        hints = sum(r.hints_used for r in records.values())
        firsts = sorted(r.first_pass_at for r in records.values() if r.first_pass_at)
        typer.echo(f"{passed} of {len(EXERCISES)} exercises passed, {hints} hints used"
                   + (f"; first pass {firsts[0]}, latest {firsts[-1]}" if firsts else "") + ".")


def _create_new(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` unless a file is already there; True when written
    (a learner's file is never replaced: :func:`llmmath._files.create_text`)."""
    from llmmath._files import create_text

    return create_text(path, text)
