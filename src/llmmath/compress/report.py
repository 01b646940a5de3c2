"""Bits per character written by each model, beside its cross-entropy and classical compressors.

For each model the report gives the size of the file :func:`~llmmath.compress.compress`
writes, its cross-entropy on the same text (the bits the coder aims at; the
difference is the coder's overhead, the header and the chunking), and the
size of the model itself, so that a size "counting the model", as the Hutter
prize counts it, can be compared. A corpus n-gram model is rebuilt from its
training text, so its size is that text at ``bz2 -9``; a GPT's is its
parameters; the uniform model's is its alphabet. ``gzip -9``, ``bz2 -9`` and
``xz -9e`` (``lzma`` preset ``9 | PRESET_EXTREME``) compress the same UTF-8
bytes; their "model" is their program, which is not counted.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from llmmath.compress import DEFAULT_SPEC, decompress, encode, load_model
from llmmath.compress.codec import CHUNK_SIZE

__all__ = ["ReportRow", "Report", "classical_sizes", "compression_report", "plot_report",
           "DEFAULT_MODELS"]

#: The models ``llmmath compress --report`` compares when none are named.
DEFAULT_MODELS = ("uniform", "ngram:2", "ngram:5", DEFAULT_SPEC)


@dataclass(frozen=True)
class ReportRow:
    """One compressor on one text."""

    name: str
    bytes: int                      # the whole file
    bits_per_char: float
    cross_entropy: float | None     # bits/char under the model's own probabilities
    model_bytes: int | None
    n_chars: int
    compress_s: float
    decompress_s: float | None = None

    @property
    def overhead(self) -> float | None:
        """Written over cross-entropy, minus 1."""
        return None if self.cross_entropy is None else self.bits_per_char / self.cross_entropy - 1

    @property
    def with_model_bits_per_char(self) -> float | None:
        """Bits per character when the model's own size is added to the file."""
        if self.model_bytes is None:
            return None
        return 8 * (self.bytes + self.model_bytes) / self.n_chars


@dataclass(frozen=True)
class Report:
    """Rows for the models, then the classical compressors, on ``n_chars`` characters."""

    rows: list[ReportRow]
    n_chars: int
    n_bytes: int
    source: str
    chunk_size: int


def classical_sizes(data: bytes) -> dict[str, tuple[int, float]]:
    """Compressed size and seconds for gzip -9, bz2 -9 and xz -9e.

    Lesson: ``compression`` (Language modelling is compression).

    Examples
    --------
    >>> sizes = classical_sizes(b"abc" * 1000)
    >>> sorted(sizes), all(n < 3000 for n, _ in sizes.values())
    (['bz2 -9', 'gzip -9', 'xz -9e'], True)
    """
    out = {}
    for name, fn in (("gzip -9", lambda b: gzip.compress(b, 9, mtime=0)),
                     ("bz2 -9", lambda b: bz2.compress(b, 9)),
                     ("xz -9e", lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME))):
        t = time.perf_counter()
        n = len(fn(data))
        out[name] = (n, time.perf_counter() - t)
    return out


def compression_report(text: str, models: Any = DEFAULT_MODELS, *, source: str = "",
                       chunk_size: int = CHUNK_SIZE, verify: bool = False,
                       progress: Callable[[str, int], None] | None = None) -> Report:
    """Compress ``text`` with each model (specs or models) and with the classical compressors.

    ``verify=True`` also decompresses (checking the round trip) and times it.
    ``progress(name, chars_done)`` is called while each model codes.
    """
    rows = []
    n = max(len(text), 1)
    for spec in models:
        model = load_model(spec)
        report = None if progress is None else (lambda k, _s=model.spec: progress(_s, k))
        t = time.perf_counter()
        enc = encode(text, model, chunk_size=chunk_size, progress=report)
        seconds = time.perf_counter() - t
        back_s = None
        if verify:
            t = time.perf_counter()
            if decompress(enc.data, model) != text:      # decompress checks the SHA-256 too
                raise AssertionError(f"{model.spec}: the round trip changed the text")
            back_s = time.perf_counter() - t
        rows.append(ReportRow(model.spec, len(enc.data), 8 * len(enc.data) / n,
                              enc.model_bits / n, model.size_bytes, len(text), seconds, back_s))
    data = text.encode("utf-8", "surrogateescape")
    for name, (size, seconds) in classical_sizes(data).items():
        rows.append(ReportRow(name, size, 8 * size / n, None, None, len(text), seconds))
    return Report(rows, len(text), len(data), source, chunk_size)


def plot_report(report: Report, path: Any) -> Any:
    """A bar chart of bits/char (written, and each model's cross-entropy), PNG, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from llmmath.checkpoint import atomic_write_bytes

    rows = report.rows
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.6), dpi=100, layout="constrained")
    y = range(len(rows))
    ax.barh(y, [r.bits_per_char for r in rows], height=0.4, label="written (whole file)",
            color=["tab:blue" if r.cross_entropy is not None else "tab:gray" for r in rows])
    ce = [(i, r.cross_entropy) for i, r in enumerate(rows) if r.cross_entropy is not None]
    ax.barh([i + 0.4 for i, _ in ce], [c for _, c in ce], height=0.4, color="tab:orange",
            label="model cross-entropy")
    for i, r in enumerate(rows):
        ax.text(r.bits_per_char + 0.03, i, f"{r.bits_per_char:.3f}", va="center", fontsize=8)
    ax.set_yticks([i + (0.2 if r.cross_entropy is not None else 0) for i, r in enumerate(rows)],
                  [r.name for r in rows])
    ax.invert_yaxis()
    ax.set_xlabel("bits per character")
    ax.set_title(f"{report.source or 'text'}: {report.n_chars:,} characters", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    out = atomic_write_bytes(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
    return out
