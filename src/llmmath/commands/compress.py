"""``llmmath compress`` and ``llmmath decompress``: a model-driven entropy coder on files.

``compress FILE -o OUT`` codes the file with a model (``-m``, default the
adaptive n-gram); ``decompress OUT -o FILE`` reads the model's name from the
file, rebuilds it and decodes, checking the SHA-256 of the original.
``compress --report [FILE]`` compares the models and gzip, bz2 and xz on
held-out text (default: the corpus's test plays).

Any file round-trips: bytes that are not UTF-8 are carried as escaped
characters (Python's ``surrogateescape``). Nothing is overwritten unless
``--force`` says so, and never the input.

Exit status: 0 on success, 1 for bad input, a damaged file or the wrong model
(a message names the problem).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import typer

__all__ = ["register", "SUFFIX"]

SUFFIX = ".lmz"
# Literals, so that `llmmath --help` need not import the coder; a test checks that they are
# llmmath.compress.CHUNK_SIZE, DEFAULT_SPEC and llmmath.compress.specs.SPEC_HELP.
CHUNK_SIZE = 1 << 16
DEFAULT_SPEC = "ngram:6:adaptive"
SPEC_HELP = ("uniform | ngram:N | ngram:N:adaptive | CKPT (a GPT checkpoint or its directory) | "
             "mix:CKPT+ngram:N")

REPORT_HELP = ("Instead of compressing, compare bits/char of the models (-m, repeatable; default "
               f"uniform, ngram:2, ngram:5, {DEFAULT_SPEC}) with gzip -9, bz2 -9 and xz -9e on "
               "FILE (default: the corpus's test plays); writes a table and a bar chart.")


def _fail(exc: Exception | str) -> typer.Exit:
    """``error: ...`` in the command's terms (the options typed, what to do); exit status 1."""
    from llmmath.commands._messages import fail

    return fail(exc)


def _errors() -> tuple[type[BaseException], ...]:
    from llmmath.errors import LLMMathError

    return (LLMMathError, FileNotFoundError, IsADirectoryError, PermissionError,
            NotADirectoryError, ModuleNotFoundError)


class _Bar:
    """A rich progress bar over characters (chars/s and time left), updated at most 10 times/s."""

    def __init__(self, label: str, total: int, show: bool) -> None:
        self.label, self.total, self.show = label, total, show
        self.progress, self.last = None, 0.0

    def __enter__(self) -> _Bar:
        if self.show and self.total > 0:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TextColumn("chars"),
                TextColumn("{task.fields[rate]} chars/s"), TimeElapsedColumn(),
                TextColumn("ETA"), TimeRemainingColumn(), transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=self.total, rate="-")
            self.t0 = time.perf_counter()
        return self

    def __call__(self, done: int) -> None:
        if self.progress is None:
            return
        now = time.perf_counter()
        if now - self.last >= 0.1 or done >= self.total:
            self.last = now
            rate = done / max(now - self.t0, 1e-9)
            self.progress.update(self.task, completed=done, rate=f"{rate:,.0f}")

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.stop()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _check_output(src: Path, out: Path, force: bool, verb: str) -> None:
    from llmmath.errors import InvalidValueError

    if _same_file(src, out):
        raise InvalidValueError(f"{verb}: the output {out} is the input; refusing to overwrite "
                                "it (choose another -o).")
    if out.is_dir():
        raise InvalidValueError(f"{verb}: the output {out} is a directory.")
    if out.exists() and not force:
        raise InvalidValueError(f"{verb}: {out} exists; pass --force to overwrite it.")


def _copy_mode(src: Path, out: Path) -> None:
    """Give the output the input's permission bits (as gzip does; the atomic write makes it 0600)."""
    try:
        os.chmod(out, src.stat().st_mode & 0o777)
    except OSError:
        pass


def _read_text(path: Path) -> tuple[str, int]:
    """The file as text (invalid UTF-8 bytes kept as escapes) and how many bytes were invalid."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        text = data.decode("utf-8", "surrogateescape")
        return text, sum(0xDC80 <= ord(c) <= 0xDCFF for c in text)


def _to_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:            # a lone surrogate from a str compressed by the API
        return text.encode("utf-8", "surrogatepass")


def _compress(file: Path, models: list[str], out: Path | None, force: bool, chunk_size: int,
              coder: str, progress: bool) -> None:
    from rich.console import Console

    from llmmath.checkpoint import atomic_write_bytes
    from llmmath.compress import DEFAULT_SPEC, encode, load_model
    from llmmath.errors import InvalidValueError

    if len(models) > 1:
        raise InvalidValueError("compress: give one -m (several are for --report).")
    if not file.is_file():
        raise FileNotFoundError(f"compress: {file} does not exist or is not a file.")
    out = Path(str(file) + SUFFIX) if out is None else out
    _check_output(file, out, force, "compress")
    text, invalid = _read_text(file)
    con = Console(stderr=True)
    with con.status("loading the model…"):
        model = load_model(models[0] if models else DEFAULT_SPEC)
    with _Bar(f"compress {model.spec}", len(text), progress) as bar:
        enc = encode(text, model, coder=coder, chunk_size=chunk_size, progress=bar)
    atomic_write_bytes(out, lambda f: f.write(enc.data))
    _copy_mode(file, out)
    n, size = max(len(text), 1), len(enc.data)
    note = f" ({invalid} bytes that are not UTF-8 were escaped)" if invalid else ""
    typer.echo(f"{file} -> {out}: {len(text):,} chars, {file.stat().st_size:,} bytes -> "
               f"{size:,} bytes, {8 * size / n:.4f} bits/char (model cross-entropy "
               f"{enc.model_bits / n:.4f}; {enc.n_chunks} chunk(s)){note}\n"
               f"model: {model.spec}")


def _decompress(file: Path, models: list[str], out: Path | None, force: bool,
                progress: bool) -> None:
    from rich.console import Console

    from llmmath.checkpoint import atomic_write_bytes
    from llmmath.compress import decompress, load_model, read_header
    from llmmath.errors import InvalidValueError

    if len(models) > 1:
        raise InvalidValueError("decompress: give at most one -m.")
    if not file.is_file():
        raise FileNotFoundError(f"decompress: {file} does not exist or is not a file.")
    if out is None:
        if file.suffix != SUFFIX:
            raise InvalidValueError(f"decompress: {file} does not end in {SUFFIX}; name the "
                                    "output with -o.")
        out = file.with_suffix("")
    _check_output(file, out, force, "decompress")
    data = file.read_bytes()
    header = read_header(data)
    con = Console(stderr=True)
    with con.status("loading the model…"):
        try:
            model = load_model(models[0] if models else header.model_spec)
        except InvalidValueError as exc:
            hint = "" if models else " (pass -m to say where the model is)"
            raise InvalidValueError(f"decompress: {file} was compressed with the model "
                                    f"{header.model_spec!r}, which cannot be loaded here: "
                                    f"{exc}{hint}") from None
    with _Bar(f"decompress {model.spec}", header.n_chars, progress) as bar:
        text = decompress(data, model, progress=bar)
    atomic_write_bytes(out, lambda f: f.write(_to_bytes(text)))
    _copy_mode(file, out)
    typer.echo(f"{file} -> {out}: {len(text):,} chars, checksum verified (model {model.spec})")


def _report(file: Path | None, models: list[str], png: Path, chunk_size: int,
            progress: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from llmmath.compress.report import DEFAULT_MODELS, compression_report, plot_report

    if file is None:
        from llmmath.data import load_corpus

        corpus = load_corpus()
        text = corpus.test
        source = f"{corpus.name} test split ({', '.join(corpus.splits['test'])})"
    else:
        if not file.is_file():
            raise FileNotFoundError(f"compress --report: {file} does not exist or is not a file.")
        text, _ = _read_text(file)
        source = str(file)
    con = Console()
    bars: dict[str, _Bar] = {}

    def tick(spec: str, done: int) -> None:
        if spec not in bars:
            for b in bars.values():
                b.__exit__()
            bars[spec] = _Bar(f"{spec}", len(text), progress).__enter__()
        bars[spec](done)

    try:
        rep = compression_report(text, tuple(models) or DEFAULT_MODELS, source=source,
                                 chunk_size=chunk_size, progress=tick)
    finally:
        for b in bars.values():
            b.__exit__()
    table = Table(title=f"{escape(source)}: {rep.n_chars:,} characters, {rep.n_bytes:,} bytes",
                  caption="written = the whole file (header, chunks, checksums); cross-entropy "
                          "under the model's own probabilities; with model = file + model size "
                          "(a corpus n-gram model is its training text at bz2 -9)")
    for col in ("compressor", "bytes", "bits/char", "cross-entropy", "overhead", "model size",
                "with model", "chars/s"):
        table.add_column(col, justify="left" if col == "compressor" else "right")
    for r in rep.rows:
        table.add_row(
            escape(r.name), f"{r.bytes:,}", f"{r.bits_per_char:.4f}",
            "" if r.cross_entropy is None else f"{r.cross_entropy:.4f}",
            "" if r.overhead is None else f"{r.overhead:+.2%}",
            "" if r.model_bytes is None else f"{r.model_bytes:,} B",
            "" if r.with_model_bits_per_char is None else f"{r.with_model_bits_per_char:.3f}",
            f"{r.n_chars / max(r.compress_s, 1e-9):,.0f}")
    con.print(table)
    path = plot_report(rep, png)
    typer.echo(f"chart: {path}")


def register(app: typer.Typer) -> None:
    """Add ``compress`` and ``decompress`` to ``app``."""
    @app.command("compress")
    def compress(
        file: Path | None = typer.Argument(None, help="the file to compress (with --report: "
                                                      "the text to measure on)"),
        model: list[str] | None = typer.Option(None, "--model", "-m",
                                               help=f"{SPEC_HELP} (default: the adaptive "
                                                    f"n-gram, {DEFAULT_SPEC})"),
        out: Path | None = typer.Option(None, "--out", "-o",
                                        help=f"output file (default: FILE{SUFFIX})"),
        force: bool = typer.Option(False, "--force", "-f", help="overwrite an existing output"),
        chunk_size: int = typer.Option(CHUNK_SIZE, "--chunk-size", min=1,
                                       help="characters per independent chunk"),
        coder: str = typer.Option("range", "--coder",
                                  help="range (constriction, fast) or arithmetic (the "
                                       "teaching coder, slow)"),
        report: bool = typer.Option(False, "--report", help=REPORT_HELP),
        png: Path = typer.Option(Path("compress-report.png"), "--png",
                                 help="where --report draws its chart"),
        progress: bool = typer.Option(True, "--progress/--no-progress",
                                      help="show the progress bar"),
    ) -> None:
        """Compress a file with a language model driving an exact entropy coder."""
        try:
            if report:
                _report(file, model or [], png, chunk_size, progress)
            elif file is None:
                raise _fail("compress: name the FILE to compress (or pass --report).")
            else:
                _compress(file, model or [], out, force, chunk_size, coder, progress)
        except _errors() as exc:
            raise _fail(exc) from None

    @app.command("decompress")
    def decompress(
        file: Path = typer.Argument(..., help=f"a file written by llmmath compress (*{SUFFIX})"),
        out: Path | None = typer.Option(None, "--out", "-o",
                                        help=f"output file (default: FILE without {SUFFIX})"),
        model: list[str] | None = typer.Option(None, "--model", "-m",
                                               help="the model, if not where the file says "
                                                    "(e.g. a moved checkpoint)"),
        force: bool = typer.Option(False, "--force", "-f", help="overwrite an existing output"),
        progress: bool = typer.Option(True, "--progress/--no-progress",
                                      help="show the progress bar"),
    ) -> None:
        """Decompress a file written by llmmath compress (the model is named inside it)."""
        try:
            _decompress(file, model or [], out, force, progress)
        except _errors() as exc:
            raise _fail(exc) from None
