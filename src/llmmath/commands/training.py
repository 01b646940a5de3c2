"""``llmmath train``, ``sample``, ``eval``, ``compare`` and ``attention``.

The options of ``train`` are generated from the fields of
:class:`llmmath.train.TrainConfig` (``--n-layer``, ``--learning-rate``…), so
every hyper-parameter can be set from the command line; ``--set key=value``
does the same by field name. Heavy imports (NumPy, the model, matplotlib)
happen inside the command bodies.

Exit status: 0 on success, 1 for bad input (a message names the problem),
128 + the signal's number when training stopped on a signal after saving a
checkpoint: 130 for Ctrl-C (SIGINT), 143 for SIGTERM, 129 for SIGHUP.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import typer

__all__ = ["register", "RichReporter", "parse_assignments", "EXIT_INTERRUPTED"]

EXIT_INTERRUPTED = 130   # the shell's convention for "stopped by SIGINT" (128 + 2)

ATTENTION_HELP = """Heatmaps of every head's attention matrix for a prompt, with spectra.

Each head's matrix A is row-stochastic (a Markov chain over positions). The
table gives, per head: the stationary distribution pi (pi A = pi), the
spectral gap 1 - |lambda_2|, the mean row entropy and the position that
receives most attention. Under a causal mask row 0 of A is e_0 and every
walk drifts left to position 0, so pi = (1, 0, ..., 0) for every head of
every model: it says nothing about what was learned. A is lower-triangular,
so its eigenvalues are its diagonal entries and the gap is
1 - max over i >= 1 of A_ii: near 0 when some position attends almost only to
itself. Received attention (column means) and entropy are the informative
columns.
"""


COMPARE_HELP = """Is B better than A? Two checkpoints, or two groups of runs.

Two checkpoints (A B): both score the same test tokens; the loss difference
gets a block-bootstrap interval (contiguous chunks of tokens, since
neighbouring tokens' losses are correlated) and a paired t-test over chunks.
That interval covers the sampling of test tokens only, not the variation
between training runs: it says whether these two trained models differ, not
whether B's recipe is better (another seed of A can differ from A as much).

Groups of runs (A1,A2,A3 B1,B2,B3: runs of each recipe with different seeds):
each run's mean loss on the same test tokens is one observation; Welch's
t-test and Welch's t interval over runs compare the recipes. Use 3 or more
runs a side (a warning says so below 3).
"""


def _fail(exc: Exception) -> typer.Exit:
    """Print ``error: ...`` in the command's terms (the options typed, what to do); exit 1."""
    from llmmath.commands._messages import fail

    return fail(exc)


def _warn(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False,
                                soft_wrap=True)


def _errors() -> tuple[type[BaseException], ...]:
    from llmmath.errors import LLMMathError

    return (LLMMathError, OSError, MemoryError)


class RichReporter:
    """A rich progress bar: step, loss, tokens/s and time left; evaluations printed above it."""

    def __init__(self, console: Any = None, bar: bool = True) -> None:
        from rich.console import Console

        self.console = console or Console()
        self.bar = bar
        self.progress = None

    def start(self, trainer: Any) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        c = trainer.config
        self.console.print(
            f"[bold]training[/] {trainer.model.num_params(False):,} parameters "
            f"({c.n_layer} layers, {c.n_head} heads, C={c.n_embd}, T={c.block_size}, "
            f"B={c.batch_size}) on {trainer.data.corpus.name!r}, {trainer.data.tokenizer!r}; "
            f"steps {trainer.step}..{c.max_iters}", highlight=False)
        if not self.bar:
            return
        self.progress = Progress(
            TextColumn("step"), MofNCompleteColumn(), BarColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[tps]} tok/s"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=self.console, transient=False)
        self.progress.start()
        self.task = self.progress.add_task("train", total=c.max_iters, completed=trainer.step,
                                           loss="-", tps="-")

    def update(self, step: int, loss: float, lr: float, tokens_per_s: float) -> None:
        if self.progress is None:
            return
        self.progress.update(self.task, completed=step + 1, loss=f"{loss:.4f}",
                             tps=f"{tokens_per_s:,.0f}")

    def evaluated(self, step: int, losses: dict[str, float]) -> None:
        self.console.print(f"step {step}: {loss_text(losses)}", highlight=False)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def loss_text(losses: dict[str, float]) -> str:
    """An evaluation in words: nats per token, and bits per character where it is known.

    Examples
    --------
    >>> loss_text({"train": 1.5, "val": 1.75, "val_bits_per_char": 2.5})
    'train loss 1.5000 nats/token, val loss 1.7500 nats/token (2.5000 bits/char)'
    """
    parts = []
    for split in ("train", "val"):
        bpc = losses.get(f"{split}_bits_per_char")
        parts.append(f"{split} loss {losses[split]:.4f} nats/token"
                     + ("" if bpc is None else f" ({bpc:.4f} bits/char)"))
    return ", ".join(parts)


def parse_assignments(items: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Parse ``["key=value", ...]`` (the ``--set`` option) into typed TrainConfig overrides.

    Examples
    --------
    >>> parse_assignments(["n_layer=3", "dropout=0.1", "bias=false", "text=none"])
    {'n_layer': 3, 'dropout': 0.1, 'bias': False, 'text': None}
    """
    from llmmath.errors import InvalidValueError
    from llmmath.train import config_types

    types, out = config_types(), {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in types:
            raise InvalidValueError(f"--set: expected key=value with key one of "
                                    f"{', '.join(types)}; got {item!r}.")
        typ, raw = types[key], raw.strip()
        try:
            if raw.lower() == "none" and typ not in (int, float, bool, str):
                out[key] = None
            elif typ is bool:
                out[key] = {"true": True, "1": True, "yes": True, "false": False, "0": False,
                            "no": False}[raw.lower()]
            elif typ in (int, float):
                out[key] = typ(raw)
            else:
                out[key] = raw
        except (KeyError, ValueError):
            kind = {int: "an integer (such as 64)", float: "a number (such as 0.001)",
                    bool: "true or false"}.get(typ, getattr(typ, "__name__", str(typ)))
            raise InvalidValueError(f"--set {key}={raw}: needs {kind}; got {raw!r}.") from None
    return out


def _config_options() -> list[inspect.Parameter]:
    """One typer option per TrainConfig field, default None (= not given)."""
    import dataclasses

    from llmmath.train import TrainConfig, config_types

    hints = config_types()
    params = []
    for f in dataclasses.fields(TrainConfig):
        typ = hints[f.name]
        base = str if typ not in (int, float, bool, str) else typ
        flag = "--" + f.name.replace("_", "-")
        decl = f"{flag}/--no-{f.name.replace('_', '-')}" if base is bool else flag
        extra = ("--out", "-o") if f.name == "out_dir" else ()
        opt = typer.Option(None, decl, *extra, help=f.metadata.get("help", ""),
                           rich_help_panel="Hyper-parameters (override the preset)")
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=opt,
                                        annotation=base | None))
    return params


def _preset(name: str) -> Any:
    """The configuration of preset ``name`` (``--preset``)."""
    from llmmath.errors import InvalidValueError
    from llmmath.train import PRESETS, preset_config

    if name not in PRESETS:
        raise InvalidValueError(f"train: --preset must be one of {', '.join(PRESETS)}; got "
                                f"{name!r}.")
    return preset_config(name)


def _check_out_dir(out: str | Path) -> None:
    """Refuse an ``--out`` that is a file, or lies under one, before training starts."""
    from llmmath.errors import InvalidValueError

    out = Path(out)
    for p in (out, *out.parents):
        if p.exists() and not p.is_dir():
            inside = "" if p == out else f" ('{p}' in it)"
            raise InvalidValueError(
                f"train: --out '{out}' is a file{inside}: --out names the directory that "
                "receives the run's ckpt.npz, metrics.jsonl and loss.png (it is made if "
                "missing). Give a directory that is not a file, such as --out "
                f"{out.parent / 'run'}.")
        if p.exists():
            return


def _run_list(arg: str) -> list[Path]:
    """The checkpoints of a ``compare`` argument: one path, or several separated by commas."""
    return [Path(p.strip()) for p in str(arg).split(",") if p.strip()]


def _print_runs(con: Any, r: Any) -> None:
    """The report of :func:`llmmath.evaluate.compare_runs`: each run, then the groups."""
    from rich.table import Table

    table = Table(title=f"{r.n_tokens:,} test targets; each run's mean loss (nats/token)")
    for col in ("group", "run", "loss"):
        table.add_column(col, justify="right" if col == "loss" else "left")
    for name, paths, losses in (("A", r.paths_a, r.losses_a), ("B", r.paths_b, r.losses_b)):
        for path, loss in zip(paths, losses, strict=True):
            table.add_row(name, str(path), f"{loss:.4f}")
    con.print(table)
    con.print(f"A: {r.n_a} runs, mean {r.losses_a.mean():.4f}; B: {r.n_b} runs, mean "
              f"{r.losses_b.mean():.4f}", highlight=False)
    if r.ci is None:
        con.print(f"B - A = {r.difference:+.4f} nats/token; Welch's test is undefined (no "
                  "spread within either group)", highlight=False)
    else:
        con.print(f"B - A = {r.difference:+.4f} nats/token, {r.ci.confidence:.0%} Welch "
                  f"interval over runs [{r.ci.low:+.4f}, {r.ci.high:+.4f}]; Welch's t-test: "
                  f"t = {r.ttest.statistic:.3f}, df = {r.ttest.df:.1f}, p = "
                  f"{r.ttest.pvalue:.3g}", highlight=False)
    con.print(f"[bold]{r.verdict}[/]")
    con.print("note: the interval covers the variation between runs (seeds), measured on these "
              "test tokens; it assumes the runs of a recipe differ only by chance.",
              highlight=False)


def _encode_prompt(tokenizer: Any, prompt: str, command: str) -> Any:
    """The token ids of ``--prompt``, refusing characters a character tokenizer does not have
    (they would all become its one unknown id, and the model would continue something else).

    Examples
    --------
    >>> from llmmath.tokenizers import CharTokenizer
    >>> _encode_prompt(CharTokenizer("abc"), "cab", "sample").tolist()
    [2, 0, 1]
    >>> _encode_prompt(CharTokenizer("abc"), "aΩb!", "sample")
    Traceback (most recent call last):
    ...
    llmmath.errors.InvalidValueError: sample: --prompt has 2 characters that are not in the model's vocabulary: 'Ω' (U+03A9), '!' (U+0021). ...
    """
    import numpy as np

    from llmmath.errors import InvalidValueError

    chars = getattr(tokenizer, "chars", None)     # a CharTokenizer; byte-level BPE knows all
    if chars is not None:
        unknown = list(dict.fromkeys(c for c in prompt if c not in set(chars)))
        if unknown:
            shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in unknown[:12])
            more = f" and {len(unknown) - 12} more" if len(unknown) > 12 else ""
            raise InvalidValueError(
                f"{command}: --prompt has {len(unknown)} character{'s' * (len(unknown) > 1)} "
                f"that {'are' if len(unknown) > 1 else 'is'} not in the model's vocabulary: "
                f"{shown}{more}. The model knows the {len(chars)} characters of its training "
                "text; leave these out or replace them.")
    return np.asarray(tokenizer.encode(prompt), dtype=np.int64)


def _train(preset: str | None, resume: Path | None, assignments: list[str], plot: bool,
           progress: bool, force: bool, engine: str = "llmmath", nproc: int = 1,
           **fields: Any) -> None:
    import functools
    import signal

    from llmmath import train as tr
    from llmmath.train.memory import check_fits

    try:
        overrides = parse_assignments(assignments or [])
        overrides.update({k: v for k, v in fields.items() if v is not None})
        reporter = RichReporter(bar=progress)
        train = tr.train
        if engine not in ("llmmath", "torch"):
            raise _fail(ValueError(f"train: --engine must be 'llmmath' or 'torch'; got "
                                   f"{engine!r}."))
        if engine == "torch":   # PyTorch, or a message saying how to install it
            from llmmath.train.ddp import train_torch

            train = functools.partial(train_torch, nproc=nproc)
            reporter = functools.partial(RichReporter, bar=progress)   # made where it reports
        elif nproc != 1:
            raise _fail(ValueError("train: --nproc needs --engine torch (data-parallel "
                                   "processes run on PyTorch)."))
        if "out_dir" in overrides:
            _check_out_dir(overrides["out_dir"])
        if resume is not None:
            if preset is not None:
                raise _fail(ValueError("train: --preset and --resume do not go together; the "
                                       "checkpoint holds its configuration."))
            result = train(resume=resume, overrides=overrides, reporter=reporter, plot=plot,
                           force=force)
        else:
            config = tr.apply_overrides(_preset(preset or "tiny"), overrides)
            _check_out_dir(config.out_dir)
            check_fits(config)              # before anything is allocated
            result = train(config, reporter=reporter, plot=plot, force=force)
    except _errors() as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        typer.echo("\nAborted by a second stop signal (Ctrl-C, SIGTERM or SIGHUP); the last "
                   "checkpoint written (if any) is unchanged.", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    step, c = result.trainer.step, result.trainer.config
    if result.checkpoint is None:
        if result.trainer.resumed_from is None:
            typer.echo(f"Nothing was trained: max_iters is {c.max_iters}, so no step was "
                       "taken and no checkpoint was written.")
        else:
            typer.echo(f"Nothing was trained: {result.trainer.resumed_from} is at step {step} "
                       f"and max_iters is {c.max_iters}; pass --max-iters N with N > {step} to "
                       "continue it.")
        return
    if result.archived is not None:
        typer.echo(f"--force: the previous run in {c.out_dir} was moved to {result.archived}.")
    if result.removed:
        typer.echo(f"Removed {len(result.removed)} temporary file(s) left by a save that was "
                   f"killed: {', '.join(p.name for p in result.removed)}.")
    if result.interrupted:
        how = "" if result.stop_signal == "SIGINT" else f" by {result.stop_signal}"
        typer.echo(f"\nInterrupted at step {step}{how}; checkpoint saved to "
                   f"{result.checkpoint}.\nResume with:  llmmath train --resume "
                   f"{result.checkpoint}")
        raise typer.Exit(128 + int(getattr(signal, result.stop_signal or "SIGINT")))
    last = result.evals[-1] if result.evals else None
    summary = f"; {loss_text(last)}" if last else ""
    typer.echo(f"done: step {step} in {result.seconds:.1f} s{summary}\n"
               f"checkpoint {result.checkpoint}\nmetrics    {result.metrics}"
               + (f"\nloss curve {result.plot}" if result.plot else "")
               + f"\nnext: llmmath eval {result.checkpoint}   |   "
                 f"llmmath sample {result.checkpoint}")


def _make_train_command() -> Any:
    def train(**kwargs: Any) -> None:
        _train(**kwargs)

    fixed = [
        inspect.Parameter("preset", inspect.Parameter.KEYWORD_ONLY,
                          annotation=str | None,
                          default=typer.Option(None, "--preset", "-p",
                                               help="tiny (default; under a minute), baby "
                                                    "(nanoGPT's CPU recipe), small (about an "
                                                    "hour)")),
        inspect.Parameter("resume", inspect.Parameter.KEYWORD_ONLY,
                          annotation=Path | None,
                          default=typer.Option(None, "--resume", "-r",
                                               help="continue from this checkpoint (or its "
                                                    "out_dir), bit for bit")),
        inspect.Parameter("assignments", inspect.Parameter.KEYWORD_ONLY,
                          annotation=list[str] | None,
                          default=typer.Option(None, "--set", "-s",
                                               help="key=value for any TrainConfig field "
                                                    "(repeatable)")),
        inspect.Parameter("force", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                          default=typer.Option(False, "--force",
                                               help="if --out holds another run, move it to "
                                                    "<out>.old-<date>-<time> (nothing is "
                                                    "deleted) and start afresh")),
        inspect.Parameter("engine", inspect.Parameter.KEYWORD_ONLY, annotation=str,
                          default=typer.Option("llmmath", "--engine",
                                               help="llmmath (our autograd engine) or torch "
                                                    "(nanoGPT's model on PyTorch, an optional "
                                                    "extra: pip install 'llmmath\\[torch]'); the "
                                                    "same run, checkpoint and metrics")),
        inspect.Parameter("nproc", inspect.Parameter.KEYWORD_ONLY, annotation=int,
                          default=typer.Option(1, "--nproc", min=1,
                                               help="data-parallel processes (--engine torch: "
                                                    "DistributedDataParallel, gloo on CPUs, NCCL "
                                                    "on GPUs); each takes batch_size sequences "
                                                    "of a global batch of nproc x batch_size")),
        inspect.Parameter("plot", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                          default=typer.Option(True, "--plot/--no-plot",
                                               help="draw loss.png at the end")),
        inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                          default=typer.Option(True, "--progress/--no-progress",
                                               help="show the progress bar")),
    ]
    params = fixed + _config_options()
    train.__signature__ = inspect.Signature(params)
    train.__annotations__ = {p.name: p.annotation for p in params} | {"return": None}
    train.__doc__ = ("Train a GPT with llmmath's own autograd engine, or with PyTorch "
                     "(--engine torch, --nproc N) (Ctrl-C, SIGTERM and SIGHUP save a "
                     "checkpoint; --resume continues it exactly).")
    return train


def register(app: typer.Typer) -> None:
    """Add ``train``, ``sample``, ``eval``, ``compare`` and ``attention`` to ``app``."""
    app.command("train")(_make_train_command())

    @app.command("sample")
    def sample(
        checkpoint: Path = typer.Argument(..., help="checkpoint file or its out_dir"),
        prompt: str | None = typer.Option(None, "--prompt",
                                          help="text to continue [default: a newline]"),
        max_new_tokens: int = typer.Option(500, "--max-new-tokens", "-n", min=0),
        temperature: float = typer.Option(0.8, "--temperature", "-t", min=0.0,
                                          help="0 = greedy"),
        top_k: int | None = typer.Option(None, "--top-k", min=1),
        top_p: float | None = typer.Option(None, "--top-p"),
        min_p: float | None = typer.Option(None, "--min-p"),
        seed: int | None = typer.Option(None, "--seed", min=0),
    ) -> None:
        """Generate text from a trained checkpoint."""
        from llmmath.train import load_model

        try:
            m = load_model(checkpoint)
            ids = _encode_prompt(m.tokenizer, "\n" if prompt is None else prompt, "sample")
            if len(ids) == 0:
                raise _fail(ValueError("sample: the prompt encodes to no tokens; give a "
                                       "non-empty --prompt."))
            out = m.model.generate(ids, max_new_tokens, temperature=temperature, top_k=top_k,
                                   top_p=top_p, min_p=min_p, rng=seed)
        except _errors() as exc:
            raise _fail(exc) from None
        typer.echo(m.tokenizer.decode(out))

    @app.command("eval")
    def evaluate(
        checkpoint: Path = typer.Argument(..., help="checkpoint file or its out_dir"),
        split: str = typer.Option("test", "--split", help="test, val or train"),
        stride: int | None = typer.Option(
            None, "--stride", help="slide the window by this many tokens (default: "
                                   "non-overlapping blocks of block_size)"),
        max_tokens: int | None = typer.Option(None, "--max-tokens"),
        baselines: str = typer.Option("1,2,3,5", "--baselines",
                                      help="Kneser-Ney n-gram orders ('' for none)"),
        text: Path | None = typer.Option(None, "--text",
                                            help="the training text, if it moved"),
    ) -> None:
        """Cross-entropy, bits/char and perplexity on held-out text, beside n-gram baselines."""
        from rich.console import Console
        from rich.table import Table

        from llmmath.evaluate import evaluate_model

        try:
            orders = tuple(int(o) for o in baselines.replace(" ", "").split(",") if o)
        except ValueError:
            raise _fail(ValueError(f"eval: --baselines must be orders such as '1,2,3,5'; got "
                                   f"{baselines!r}.")) from None
        try:
            ev = evaluate_model(checkpoint, split=split, stride=stride, max_tokens=max_tokens,
                                baselines=orders, text=None if text is None else str(text))
        except _errors() as exc:
            raise _fail(exc) from None
        if ev.text_warning:
            _warn(ev.text_warning)
        context = ("non-overlapping blocks of " f"{ev.block_size} tokens (average context "
                   f"about {ev.block_size // 2})" if ev.stride in (None, ev.block_size) else
                   f"a window of {ev.block_size} sliding by {ev.stride} (context >= "
                   f"{ev.block_size - ev.stride})")
        table = Table(title=f"{ev.split} split: {ev.n_tokens:,} targets, {ev.n_chars:,} chars, "
                            f"{ev.tokenizer}",
                      caption=f"GPT scored on {context}; n-grams fitted on the train split.")
        for col in ("model", "nats/token", "bits/token", "bits/char", "perplexity"):
            table.add_column(col, justify="left" if col == "model" else "right")
        for r in ev.rows:
            table.add_row(r.name, f"{r.nats_per_token:.4f}", f"{r.bits_per_token:.4f}",
                          f"{r.bits_per_char:.4f}", f"{r.perplexity:.2f}")
        Console().print(table)

    @app.command("compare", help=COMPARE_HELP)
    def compare(
        a: str = typer.Argument(..., metavar="A",
                                help="checkpoint A, or runs of recipe A: A1,A2,A3"),
        b: str = typer.Argument(..., metavar="B",
                                help="checkpoint B, or runs of recipe B: B1,B2,B3"),
        split: str = typer.Option("test", "--split"),
        chunk: int = typer.Option(1024, "--chunk", min=1,
                                  help="two checkpoints: tokens per bootstrap block "
                                       "(contiguous)"),
        confidence: float = typer.Option(0.95, "--confidence"),
        resamples: int = typer.Option(10_000, "--resamples", min=1,
                                      help="two checkpoints: bootstrap resamples"),
        seed: int = typer.Option(0, "--seed", min=0, help="seeds the bootstrap"),
        stride: int | None = typer.Option(None, "--stride"),
        max_tokens: int | None = typer.Option(None, "--max-tokens"),
    ) -> None:
        from rich.console import Console

        from llmmath.evaluate import compare_models, compare_runs

        runs_a, runs_b = _run_list(a), _run_list(b)
        con = Console()
        try:
            if len(runs_a) == 1 and len(runs_b) == 1:
                c = compare_models(runs_a[0], runs_b[0], split=split, chunk=chunk,
                                   confidence=confidence, n_resamples=resamples, rng=seed,
                                   stride=stride, max_tokens=max_tokens)
            else:
                r = compare_runs(runs_a, runs_b, split=split, confidence=confidence,
                                 stride=stride, max_tokens=max_tokens)
                if r.text_warning:
                    _warn(r.text_warning)
                if r.warning:
                    _warn(r.warning)
                _print_runs(con, r)
                return
        except _errors() as exc:
            raise _fail(exc) from None
        if c.text_warning:
            _warn(c.text_warning)
        con.print(f"A {c.path_a}: {c.loss_a:.4f} nats/token\nB {c.path_b}: {c.loss_b:.4f} "
                  f"nats/token\n{c.n_tokens:,} targets in {c.n_chunks} chunks of {c.chunk}",
                  highlight=False)
        con.print(f"B - A = {c.difference:+.4f} nats/token, {c.ci.confidence:.0%} block-bootstrap "
                  f"(BCa) interval [{c.ci.low:+.4f}, {c.ci.high:+.4f}]", highlight=False)
        if c.ttest is None:
            con.print("paired t-test: undefined (identical losses on every chunk)")
        else:
            con.print(f"paired t-test over chunks: t = {c.ttest.statistic:.3f}, "
                      f"df = {c.ttest.df:.0f}, p "
                      + (f"= {c.ttest.pvalue:.3g}" if c.ttest.pvalue > 0 else "< 1e-300"),
                      highlight=False)
        con.print(f"[bold]{c.verdict}[/]")
        con.print(f"note: {c.note}", highlight=False)

    @app.command("attention", help=ATTENTION_HELP)
    def attention(
        checkpoint: Path = typer.Argument(..., help="checkpoint file or its out_dir"),
        prompt: str = typer.Option("To be, or not to be, that is the question:", "--prompt"),
        out: Path = typer.Option(Path("attention.png"), "--out", "-o",
                                 help="PNG to write (a directory: attention.png in it)"),
    ) -> None:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        from llmmath.inspect_attention import inspect_prompt, plot_attention
        from llmmath.train import load_model

        if out.is_dir():            # -o DIR: the default name inside it
            out = out / "attention.png"
        try:
            m = load_model(checkpoint)
            _encode_prompt(m.tokenizer, prompt, "attention")
            ins = inspect_prompt(m, prompt)
            png = plot_attention(ins, out, title=f"{Path(checkpoint).name}: {prompt[:60]!r}")
        except _errors() as exc:
            raise _fail(exc) from None
        labels = list(ins.tokens)
        table = Table(title=f"{len(ins.tokens)} tokens; a float64 copy agrees with the model to "
                            f"{ins.max_logit_error:.1e}",
                      caption="pi: stationary distribution (e_0 under a causal mask, see "
                              "--help); gap = 1 - |lambda_2| = 1 - max over i >= 1 of A_ii")
        for col in ("layer", "head", "pi_0", "gap", "|lambda_2|", "entropy", "most attended"):
            table.add_column(col, justify="right")
        for s in ins.heads:
            j = int(s.received.argmax())
            table.add_row(str(s.layer), str(s.head), f"{s.stationary[0]:.3f}",
                          f"{s.spectral_gap:.3f}", f"{s.lambda2:.3f}", f"{s.mean_entropy:.3f}",
                          escape(f"{j} {labels[j]!r} ({s.received[j]:.2f})"))
        Console().print(table)
        typer.echo(f"heatmaps: {png}")
