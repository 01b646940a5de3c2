"""``llmmath course`` and ``llmmath lesson NAME``: the interactive course.

Both start the course server (:mod:`llmmath.server`) on 127.0.0.1 and open a
browser tab; ``course --export DIR`` writes static HTML instead. marimo,
uvicorn and the server are imported inside the command bodies so that
``llmmath --help`` stays fast.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import typer

from llmmath._files import atomic_write_bytes, atomic_write_text
from llmmath.lessons import LESSONS, Lesson

__all__ = ["register", "export_course"]

DEFAULT_PORT = 2718  # same as llmmath.server.DEFAULT_PORT (kept here to avoid importing it)

_NO_BROWSER = typer.Option(
    False, "--no-browser", help="Print the URL instead of opening a browser tab.")
_PORT = typer.Option(
    DEFAULT_PORT, "--port", min=0, max=65535,
    help="Port on 127.0.0.1; a free one is used instead when it is busy.")
# defaults as llmmath.server.MAX_KERNELS and IDLE_TIMEOUT_S (not imported: --help stays fast)
_MAX_KERNELS = typer.Option(
    8, "--max-kernels", min=1, max=256,
    help="Lessons that may run at once (each open lesson tab runs one Python kernel).")
_IDLE_TIMEOUT = typer.Option(
    3600.0, "--idle-timeout", min=1.0,
    help="Seconds after which a lesson nobody has used is stopped (reload its tab to "
         "restart it).")

CDN_NOTE = ("Note: pages exported by marimo load marimo's frontend (JavaScript and CSS) "
            "from a CDN when they are opened, so viewing them needs an internet "
            "connection. `llmmath course` serves the same lessons fully offline.")


def _valid_names() -> str:
    return ", ".join(lesson.name for lesson in LESSONS)


def _start(path: str, port: int, no_browser: bool, max_kernels: int = 8,
           idle_timeout: float = 3600.0) -> None:
    """Serve the course and point the reader (or a browser) at ``path``.

    The address carries the server's access token (a fresh one each start), as
    Jupyter's does: only a browser given that address can use the course.
    """
    from llmmath import server

    app = server.build_app(max_kernels=max_kernels, idle_timeout_s=idle_timeout)
    sock, exact = server.bind_socket(port)
    url = f"http://{server.HOST}:{sock.getsockname()[1]}{path}?{server.TOKEN_PARAM}={app.token}"
    if not exact:
        typer.echo(f"Port {port} is busy; using a free port instead.")
    typer.echo(f"llmmath course: {url}")
    typer.echo("The address holds this server's access token: open it as it is. "
               "Press Ctrl+C to stop the server.")

    def open_browser() -> None:
        import webbrowser

        opened = False
        headless = sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if not headless:  # without a display, webbrowser may start a text browser
            try:
                opened = webbrowser.open(url)
            except Exception:  # any launcher failure: the URL is printed anyway
                opened = False
        if not opened:
            typer.echo(f"Could not open a browser; open {url} yourself.")

    server.serve(sock, app, on_ready=None if no_browser else open_browser)


def _export_one(lesson: Lesson, out_dir: Path, scratch: str) -> tuple[Lesson, str | None]:
    """Run ``marimo export html`` on one lesson; return an error text or None.

    ``marimo export`` also saves a session snapshot in a ``__marimo__`` folder
    beside the notebook; pointing ``PYTHONPYCACHEPREFIX`` at ``scratch`` moves
    that folder (and the bytecode caches) out of the installed package.
    """
    from llmmath.lessons._kit import LINKS_ENV

    target = out_dir / f"{lesson.name}.html"
    draft = Path(scratch) / f"{lesson.name}.html"   # marimo writes here; then one atomic copy
    env = {**os.environ, LINKS_ENV: "export", "PYTHONPYCACHEPREFIX": scratch}
    cmd = [sys.executable, "-m", "marimo", "export", "html", "--no-sandbox", "--force",
           "-o", str(draft), str(lesson.path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return lesson, (done.stderr or done.stdout).strip()[-2000:]
    html = draft.read_bytes()
    atomic_write_bytes(target, lambda f: f.write(html))
    return lesson, None


def export_course(out_dir: Path, names: list[str] | None = None) -> dict[str, str | None]:
    """Write ``<name>.html`` for each lesson present, and ``index.html``.

    Lessons run in parallel, one ``marimo export html`` process each. Returns
    ``{name: None}`` for each exported lesson and ``{name: error}`` for each
    that failed. ``index.html`` links every lesson whose HTML is in ``out_dir``.
    """
    from llmmath.server import render_home

    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = [lesson for lesson in LESSONS
              if lesson.path.exists() and (names is None or lesson.name in names)]
    workers = max(1, min(len(chosen), os.cpu_count() or 1))
    results: dict[str, str | None] = {}
    if chosen:
        with tempfile.TemporaryDirectory(prefix="llmmath-export-") as scratch, \
                ThreadPoolExecutor(max_workers=workers) as pool:
            for lesson, error in pool.map(lambda les: _export_one(les, out_dir, scratch),
                                          chosen):
                results[lesson.name] = error
    home = render_home(
        lambda lesson: f"{lesson.name}.html" if (out_dir / f"{lesson.name}.html").exists()
        else None,
        note="Exported by <code>llmmath course --export</code>. The lesson pages are "
             "snapshots: their controls do not recompute; run <code>llmmath course</code> "
             "for the live course.")
    atomic_write_text(out_dir / "index.html", home)
    return results


def course(
    no_browser: bool = _NO_BROWSER,
    port: int = _PORT,
    export: Path | None = typer.Option(
        None, "--export", file_okay=False, dir_okay=True, writable=True,
        help="Write static HTML of every lesson and an index.html into this folder, then exit."),
    only: list[str] | None = typer.Option(
        None, "--lesson", "-l",
        help="With --export: export only this lesson (repeat for several)."),
    max_kernels: int = _MAX_KERNELS,
    idle_timeout: float = _IDLE_TIMEOUT,
) -> None:
    """Open the interactive course (served on 127.0.0.1, fully offline)."""
    if only and export is None:
        typer.echo("Error: --lesson only applies with --export; to open one lesson, "
                   "run `llmmath lesson NAME`.", err=True)
        raise typer.Exit(2)
    unknown = [name for name in only or [] if name not in {les.name for les in LESSONS}]
    if unknown:
        typer.echo(f"Error: no lesson named {', '.join(map(repr, unknown))}. Valid names, "
                   f"in course order:\n  {_valid_names()}", err=True)
        raise typer.Exit(2)
    if export is not None:
        typer.echo(f"Exporting the lessons to {export} ...")
        results = export_course(export, only or None)
        for name, error in results.items():
            if error is None:
                typer.echo(f"  wrote {export / (name + '.html')}")
            else:
                typer.echo(f"  FAILED {name}:\n{error}", err=True)
        missing = [lesson.name for lesson in LESSONS
                   if not lesson.path.exists() and (not only or lesson.name in only)]
        if missing:
            typer.echo(f"  not written yet (skipped): {', '.join(missing)}")
        typer.echo(f"  wrote {export / 'index.html'}")
        typer.echo(CDN_NOTE)
        if any(error is not None for error in results.values()):
            raise typer.Exit(1)
        return
    _start("/", port, no_browser, max_kernels, idle_timeout)


def lesson(
    name: str = typer.Argument(..., help="Lesson name, for example 'attention'."),
    no_browser: bool = _NO_BROWSER,
    port: int = _PORT,
    max_kernels: int = _MAX_KERNELS,
    idle_timeout: float = _IDLE_TIMEOUT,
) -> None:
    """Open one lesson of the course by name."""
    match = [les for les in LESSONS if les.name == name]
    if not match:
        typer.echo(f"Error: no lesson named {name!r}. Valid names, in course order:\n"
                   f"  {_valid_names()}", err=True)
        raise typer.Exit(2)
    if not match[0].path.exists():
        typer.echo(f"Error: lesson {name!r} is part of the course but its notebook "
                   f"({match[0].path}) is not written yet.", err=True)
        raise typer.Exit(1)
    _start(f"/lesson/{name}/", port, no_browser, max_kernels, idle_timeout)


def register(app: typer.Typer) -> None:
    """Add ``course`` and ``lesson`` to the ``llmmath`` command."""
    app.command("course")(course)
    app.command("lesson")(lesson)
