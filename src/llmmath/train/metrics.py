"""A run's metrics log, ``metrics.jsonl``: one JSON object per line, appended as training goes.

Each record has a ``kind``: ``start`` or ``resume`` (with the whole
configuration), ``train`` (step, batch loss, learning rate, tokens/s,
elapsed training seconds), ``eval`` (step, train and val loss estimates) and
``interrupt``. Every line is flushed when written, so a crash loses at most
the line being written, and :func:`read_metrics` skips such a torn line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["METRICS_NAME", "MetricsLog", "read_metrics"]

METRICS_NAME = "metrics.jsonl"


class MetricsLog:
    """Append records to a ``metrics.jsonl``, one flushed line each (a context manager).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / METRICS_NAME
    >>> with MetricsLog(p) as log:
    ...     log.write({"kind": "train", "step": 0, "loss": 4.2})
    >>> read_metrics(p)
    [{'kind': 'train', 'step': 0, 'loss': 4.2}]
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file = open(self.path, "a", encoding="utf-8")   # noqa: SIM115 (closed in close())

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl``; a torn last line (a crash mid-write) is skipped.

    Lesson: none (part of the training command).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / METRICS_NAME
    >>> _ = p.write_text('{"kind": "eval", "step": 0, "val": 4.1}\\n{"kind": "tra')
    >>> read_metrics(p)
    [{'kind': 'eval', 'step': 0, 'val': 4.1}]
    """
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
