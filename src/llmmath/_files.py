"""Writing a file atomically: a reader finds the old file or the new one, never part of either.

The new content goes to a temporary file in the target's directory (so the
final rename never crosses file systems), is flushed and ``os.fsync``'ed, and
then renamed over the target with :func:`os.replace`, which is atomic on POSIX
and Windows; the directory entry is synced too. If writing fails (an
exception, a full disk, Ctrl-C) the temporary file is removed and the old file
is untouched; an ``OSError`` that names no file (a full disk fails in ``write``)
is raised again naming the target. Only a process killed outright (``kill -9``, a power cut)
between the two steps leaves its temporary file behind; it is named
``.<target name>.<random>.tmp`` and :func:`temporary_files` finds it.

This module uses the standard library only, so that every layer of the
package may write through it.

References
----------
.. [1] The Open Group Base Specifications, Issue 7: ``rename()`` (replacing a
   file by renaming is atomic) and ``fsync()`` (data reaches the storage device).
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = [
    "atomic_write_bytes", "atomic_write_text", "create_text", "temporary_files", "TEMP_SUFFIX",
]

TEMP_SUFFIX = ".tmp"


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable by syncing the directory entry (POSIX only; a no-op elsewhere)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """Write a file atomically: ``write(f)`` fills a temporary file, which then replaces ``path``.

    Lesson: none (the atomic file writer the commands share).

    Parameters
    ----------
    path : str or os.PathLike
        The target; its directory is created if missing.
    write : callable
        ``write(f)`` with ``f`` a binary file open for writing.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(d / "x.bin", lambda f: f.write(b"abc")).read_bytes()
    b'abc'
    >>> def fail(f):
    ...     f.write(b"half")
    ...     raise OSError("disk full")
    >>> atomic_write_bytes(d / "x.bin", fail)
    Traceback (most recent call last):
    OSError: disk full
    >>> (d / "x.bin").read_bytes(), temporary_files(d / "x.bin")   # old file kept, no debris
    (b'abc', [])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename is None:
            # a full disk fails in write/flush/fsync, which name no file: name the target
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`); no newline
    translation, so the bytes are the same on every platform.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.md"
    >>> atomic_write_text(p, "héllo\\n").read_bytes()
    b'h\\xc3\\xa9llo\\n'
    """
    data = text.encode(encoding)
    return atomic_write_bytes(path, lambda f: f.write(data))


def create_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> bool:
    """Write ``text`` to a *new* file ``path``, whole, and never replace one that exists.

    The text is written to a temporary file beside ``path`` (atomically, as
    :func:`atomic_write_bytes` does) and then hard-linked into place, which
    fails if ``path`` appeared in the meantime: a file someone else wrote, even
    a moment ago, is never overwritten. Where the file system has no hard links,
    an exclusive create (``open(path, "x")``) takes over.

    Returns
    -------
    bool
        True when the file was created, False when ``path`` already existed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mine.py"
    >>> create_text(p, "first"), create_text(p, "second"), p.read_text()
    (True, False, 'first')
    """
    path = Path(path)
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    os.close(fd)
    tmp = Path(name)
    try:
        atomic_write_text(tmp, text, encoding)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:                   # no hard links (some network or FAT file systems)
            try:
                with open(path, "x", encoding=encoding, newline="") as f:
                    f.write(text)
            except FileExistsError:
                return False
        return True
    finally:
        tmp.unlink(missing_ok=True)


def temporary_files(path: str | os.PathLike[str]) -> list[Path]:
    """The temporary files that interrupted atomic writes of ``path`` left behind, sorted.

    Only a process killed between creating its temporary file and renaming it
    leaves one. Deleting them is safe once no other process is writing
    ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".ckpt.npz.k3j9x1qa.tmp").write_bytes(b"cut short")
    >>> [p.name for p in temporary_files(d / "ckpt.npz")]
    ['.ckpt.npz.k3j9x1qa.tmp']
    """
    path = Path(path)
    pattern = f".{glob.escape(path.name)}.*{TEMP_SUFFIX}"
    return sorted(p for p in path.parent.glob(pattern) if p.is_file())
