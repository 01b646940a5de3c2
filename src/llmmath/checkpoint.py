"""Checkpoints: atomic, checksummed, pickle-free files of arrays plus a JSON header.

A checkpoint is an ordinary ``.npz`` archive (a zip of ``.npy`` files, as
written by :func:`numpy.savez`), so ``np.load(path)`` opens it for a look. It
holds three kinds of member, in this order:

``__header__.npy``
    The header: UTF-8 JSON stored as a ``uint8`` array.
``<name>.npy``
    One member per array (numbers or booleans only; object arrays are refused).
``__sha256__.npy``
    The SHA-256 (hex, as ``uint8``) of every member before it, each fed to the
    hash as ``name + b"\\0" + len(bytes) as 8 little-endian bytes + bytes``.

**Why no pickle.** ``pickle`` (``torch.save``, ``np.load(allow_pickle=True)``)
runs code chosen by whoever wrote the file. Here the header is JSON and the
arrays are read with ``allow_pickle=False``, so loading a file from a stranger
can fail but cannot execute anything.

**Why atomic.** :func:`save_checkpoint` writes through
:func:`atomic_write_bytes` (re-exported here from :mod:`llmmath._files`): a
temporary file in the same directory, flushed to disk (``os.fsync``) and
renamed over the target with :func:`os.replace`, which is atomic on POSIX and
Windows. A crash, a full disk or a Ctrl-C during the save leaves the previous
checkpoint untouched.

**Why a checksum.** A file cut short by a full disk or damaged in a copy is
found at load time (the zip's own CRC-32 and the SHA-256 both check it), and
the error names the file rather than surfacing later as a silently wrong model.

Nested Python values in the header (an optimiser state, for example) go
through :func:`to_tree` / :func:`from_tree`: dicts, lists, tuples, numbers,
strings and ``None`` stay JSON, every ``ndarray`` moves to its own member and
leaves a ``{"__array__": name}`` reference behind.

References
----------
.. [1] NumPy Enhancement Proposal 1, "A simple file format for NumPy arrays"
   (the ``.npy`` format, https://numpy.org/neps/nep-0001-npy-format.html).
.. [2] The Open Group Base Specifications, Issue 7: ``rename()`` (replacing a
   file by renaming is atomic) and ``fsync()`` (data reaches the storage device).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llmmath._files import atomic_write_bytes
from llmmath._validation import describe
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "save_checkpoint",
    "load_checkpoint",
    "atomic_write_bytes",
    "to_tree",
    "from_tree",
]

HEADER = "__header__"
CHECKSUM = "__sha256__"


class CheckpointError(InvalidValueError):
    """A checkpoint file is missing, truncated, corrupted or of the wrong kind.

    Lesson: none (checkpoint files of the training command).
    """


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """What :func:`load_checkpoint` returns.

    Lesson: none (checkpoint files of the training command).

    Attributes
    ----------
    header : dict
        The JSON header.
    arrays : dict of str to ndarray
        Every array member, by name.
    path : Path
        The file read.
    sha256 : str
        The verified checksum.
    """

    header: dict
    arrays: dict
    path: Path
    sha256: str


def _hash_update(h: Any, name: str, data: bytes) -> None:
    h.update(name.encode("utf-8") + b"\0" + len(data).to_bytes(8, "little"))
    h.update(data)


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def save_checkpoint(path: Any, header: Mapping[str, Any],
                    arrays: Mapping[str, Any] | None = None) -> Path:
    """Write ``header`` (JSON) and ``arrays`` to ``path`` atomically, with a SHA-256.

    Lesson: none (checkpoint files of the training command).

    Parameters
    ----------
    path : str or os.PathLike
        The target (conventionally ``*.npz``); its directory is created.
    header : mapping
        JSON-serialisable values (use :func:`to_tree` for nested state).
    arrays : mapping of str to array_like, optional
        Numeric or boolean arrays. Names must not start with ``"__"``.

    Returns
    -------
    Path

    Raises
    ------
    TypeError
        A header value JSON cannot hold, or an object/string array.
    ValueError
        A reserved or empty array name.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.npz"
    >>> _ = save_checkpoint(p, {"step": 3}, {"w": np.arange(4.0)})
    >>> ck = load_checkpoint(p)
    >>> ck.header["step"], ck.arrays["w"].tolist()
    (3, [0.0, 1.0, 2.0, 3.0])
    >>> sorted(np.load(p).files)                        # an ordinary .npz
    ['__header__', '__sha256__', 'w']
    """
    op = "save_checkpoint"
    if not isinstance(header, Mapping):
        raise InvalidTypeError(f"{op}: argument 'header' must be a mapping; got {describe(header)}.")
    try:
        head = json.dumps(dict(header), sort_keys=True, allow_nan=True).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidTypeError(f"{op}: argument 'header' is not JSON-serialisable ({exc}); use "
                               "to_tree() for nested state with arrays.") from None
    members = [(HEADER, _npy_bytes(np.frombuffer(head, dtype=np.uint8)))]
    for name, value in (arrays or {}).items():
        if not isinstance(name, str) or not name or name.startswith("__"):
            raise InvalidValueError(f"{op}: array name {name!r} is empty, not a str, or starts "
                                    "with '__' (reserved).")
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise InvalidTypeError(f"{op}: array {name!r} has dtype {arr.dtype}; only numbers "
                                   "and booleans are stored (no pickled objects).")
        members.append((name, _npy_bytes(arr)))
    h = hashlib.sha256()
    for name, data in members:
        _hash_update(h, name, data)
    members.append((CHECKSUM, _npy_bytes(np.frombuffer(h.hexdigest().encode("ascii"), np.uint8))))

    def write(f: Any) -> None:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
            for name, data in members:
                z.writestr(name + ".npy", data)

    return atomic_write_bytes(path, write)


def load_checkpoint(path: Any) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`, verifying its SHA-256.

    Lesson: none (checkpoint files of the training command).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Checkpoint

    Raises
    ------
    CheckpointError
        (a ``ValueError``) the file is missing, not a checkpoint, truncated, or
        its checksum does not match; the message names the file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidTypeError(f"load_checkpoint: argument 'path' must be a str or a path; got "
                               f"{describe(path)}.")
    path = Path(path)
    where = f"load_checkpoint: '{path}'"
    if not path.is_file():
        raise CheckpointError(f"{where} does not exist (or is not a file).")
    try:
        with zipfile.ZipFile(path, "r") as z:
            names = z.namelist()
            members = [(n.removesuffix(".npy"), z.read(n)) for n in names]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise CheckpointError(f"{where} is truncated or corrupted (not a readable archive: "
                              f"{exc}).") from None
    if len(members) < 2 or members[0][0] != HEADER or members[-1][0] != CHECKSUM:
        raise CheckpointError(f"{where} is not an llmmath checkpoint (expected members "
                              f"'{HEADER}.npy' first and '{CHECKSUM}.npy' last; got "
                              f"{names[:3]}...).")
    try:
        arrays = {n: np.lib.format.read_array(io.BytesIO(d), allow_pickle=False)
                  for n, d in members}
    except (ValueError, OSError, EOFError) as exc:
        raise CheckpointError(f"{where} has an unreadable array member ({exc}).") from None
    h = hashlib.sha256()
    for name, data in members[:-1]:
        _hash_update(h, name, data)
    stored = arrays.pop(CHECKSUM).tobytes().decode("ascii", errors="replace")
    if stored != h.hexdigest():
        raise CheckpointError(f"{where} failed its checksum: stored sha256 {stored[:16]}..., "
                              f"computed {h.hexdigest()[:16]}...; the file is corrupted.")
    try:
        header = json.loads(arrays.pop(HEADER).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{where} has an unreadable header ({exc}).") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{where}: the header is not a JSON object.")
    return Checkpoint(header=header, arrays=arrays, path=path, sha256=stored)


def to_tree(value: Any, arrays: dict[str, np.ndarray], prefix: str) -> Any:
    """Turn nested Python state into JSON, moving each array into ``arrays``.

    Lesson: none (checkpoint files of the training command).

    Dicts keep their keys when all are strings; otherwise (e.g. the integer
    keys of an optimiser state) they become ``{"__items__": [[key, value], ...]}``.
    Tuples become ``{"__tuple__": [...]}``; NumPy scalars become Python numbers.

    Examples
    --------
    >>> arrs = {}
    >>> tree = to_tree({"state": {0: {"m": np.zeros(2), "step": 1}}, "betas": (0.9, 0.99)},
    ...                arrs, "optim")
    >>> sorted(arrs), tree["betas"]
    (['optim/state/0/m'], {'__tuple__': [0.9, 0.99]})
    >>> back = from_tree(tree, arrs)
    >>> back["state"][0]["m"].tolist(), back["betas"]
    ([0.0, 0.0], (0.9, 0.99))
    """
    if isinstance(value, np.ndarray):
        arrays[prefix] = value
        return {"__array__": prefix}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [to_tree(v, arrays, f"{prefix}/{i}") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [to_tree(v, arrays, f"{prefix}/{i}") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: to_tree(v, arrays, f"{prefix}/{k}") for k, v in value.items()}
        return {"__items__": [[to_tree(k, arrays, f"{prefix}/key{i}"),
                               to_tree(v, arrays, f"{prefix}/{k}")]
                              for i, (k, v) in enumerate(value.items())]}
    raise InvalidTypeError(f"to_tree: cannot store {describe(value)} at '{prefix}'; expected "
                           "arrays, numbers, strings, None, lists, tuples or dicts.")


def from_tree(tree: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    """Inverse of :func:`to_tree` (arrays are looked up by their reference).

    Lesson: none (checkpoint files of the training command).
    """
    if isinstance(tree, list):
        return [from_tree(v, arrays) for v in tree]
    if isinstance(tree, dict):
        if set(tree) == {"__array__"}:
            name = tree["__array__"]
            if name not in arrays:
                raise CheckpointError(f"from_tree: the header refers to array {name!r}, which "
                                      "the file does not hold.")
            return arrays[name]
        if set(tree) == {"__tuple__"}:
            return tuple(from_tree(v, arrays) for v in tree["__tuple__"])
        if set(tree) == {"__items__"}:
            return {from_tree(k, arrays): from_tree(v, arrays) for k, v in tree["__items__"]}
        return {k: from_tree(v, arrays) for k, v in tree.items()}
    return tree
