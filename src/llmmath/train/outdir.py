"""A run's directory: one run in it, one process writing it, no debris from a killed save.

Three rules keep two runs from mixing or overwriting each other:

* a **new** run does not start in a directory that holds another run's
  files (``ckpt.npz``, ``metrics.jsonl``, ``loss.png``); it is refused with
  :class:`RunExistsError`, unless ``force`` moves the old run's files aside
  into ``<dir>.old-<date>-<time>`` (nothing is ever deleted). Other files in
  the directory are left alone.
* a **lock** (an advisory ``flock`` on a hidden file, released by the
  kernel when the process dies, however it dies) lets one process at a time
  train in a directory; a second one is refused with :class:`RunBusyError`.
* the temporary files of a save that was killed half-way (``kill -9`` between
  creating the file and renaming it, see :func:`llmmath._files.temporary_files`)
  are removed when the next run starts: holding the lock, nothing else is
  writing them.

Nothing here knows the model or the engine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from llmmath._files import temporary_files
from llmmath.errors import InvalidValueError
from llmmath.train.metrics import METRICS_NAME
from llmmath.train.plots import PLOT_NAME
from llmmath.train.state import CHECKPOINT_NAME

try:
    import fcntl
except ImportError:   # Windows: no flock; keeping one process per directory is then the user's
    fcntl = None      # type: ignore[assignment]

__all__ = ["RUN_FILES", "LOCK_NAME", "RunExistsError", "RunBusyError", "RunDir", "run_files",
           "archive_run", "claim"]

#: The files a run writes into its directory.
RUN_FILES = (CHECKPOINT_NAME, METRICS_NAME, PLOT_NAME)
LOCK_NAME = ".llmmath-train.lock"


class RunExistsError(InvalidValueError):
    """A new run was asked to start in a directory that holds another run.

    Lesson: none (part of the training command).
    """


class RunBusyError(InvalidValueError):
    """Another process is training in the directory.

    Lesson: none (part of the training command).
    """


@dataclass(frozen=True)
class RunDir:
    """What :func:`claim` did to a run's directory before the run started."""

    path: Path
    archived: Path | None           # where the previous run's files went (``force``)
    removed: tuple[Path, ...]       # temporary files of killed saves, deleted


def run_files(out: str | os.PathLike[str]) -> list[Path]:
    """The run files present in directory ``out`` (see :data:`RUN_FILES`)."""
    out = Path(out)
    return [out / name for name in RUN_FILES if (out / name).is_file()]


def archive_run(out: str | os.PathLike[str]) -> Path:
    """Move the run files of ``out`` into a new sibling ``<out>.old-<date>-<time>[-n]``; return it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> d.mkdir()
    >>> _ = (d / "metrics.jsonl").write_text("{}\\n"), (d / "notes.txt").write_text("mine")
    >>> old = archive_run(d)
    >>> old.name.startswith("run.old-"), sorted(p.name for p in old.iterdir())
    (True, ['metrics.jsonl'])
    >>> sorted(p.name for p in d.iterdir())                    # other files stay
    ['notes.txt']
    """
    out = Path(out).resolve()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        dest = out.with_name(f"{out.name}.old-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            dest.mkdir()            # exclusive: two archivers never share a folder
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a thousand archives in one second
        raise InvalidValueError(f"train --force: no free archive name beside '{out}'.")
    for path in run_files(out):
        shutil.move(path, dest / path.name)     # a rename, or copy-then-delete across devices
    return dest


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``out/LOCK_NAME`` (removed again on exit)."""
    if fcntl is None:
        yield
        return
    path = out / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunBusyError(f"train: another process is training in '{out}' (it holds "
                               f"'{path.name}'); wait for it to finish, or choose another "
                               "--out directory.") from None
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)    # its holder removed the file between our open and our lock: again
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


@contextlib.contextmanager
def claim(out: str | os.PathLike[str], *, continuing: bool, force: bool = False
          ) -> Iterator[RunDir]:
    """Make ``out`` this process's run directory for the duration of the ``with`` block.

    Parameters
    ----------
    out : str or os.PathLike
        Created if missing.
    continuing : bool
        The run resumes the checkpoint in ``out`` itself: its files are this
        run's, not another's.
    force : bool
        Move another run's files aside (:func:`archive_run`) instead of refusing.

    Raises
    ------
    RunExistsError
        ``out`` holds another run and ``force`` is false; nothing was changed.
    RunBusyError
        Another process holds ``out``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with claim(d, continuing=False) as rd:
    ...     _ = (d / "metrics.jsonl").write_text("{}\\n")
    >>> with claim(d, continuing=False):
    ...     pass
    Traceback (most recent call last):
    ...
    llmmath.train.outdir.RunExistsError: train: '...run' already holds a run (metrics.jsonl). ...
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with _lock(out):
        archived = None
        present = [] if continuing else run_files(out)
        if present and not force:
            raise RunExistsError(
                f"train: '{out}' already holds a run ({', '.join(p.name for p in present)}). "
                f"Continue it with --resume {out}, or pass --force to start afresh there: the "
                f"old run is then moved to '{out.name}.old-<date>-<time>' beside it (nothing is "
                "deleted).")
        removed = []
        for name in (CHECKPOINT_NAME, PLOT_NAME):
            for tmp in temporary_files(out / name):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
        if present:
            archived = archive_run(out)
        yield RunDir(out, archived, tuple(removed))
