"""``llmmath scaling``: measure a scaling law on this machine.

Trains a sweep of small character-level GPTs (``--budget quick``: 12 runs,
minutes; ``full``: 24 runs, about an hour), each run in its own directory
under ``--out`` and cached there, then fits L(N, D) = E + A/N^alpha + B/D^beta
(Chinchilla's approach 3), bootstraps the fit, scores it on held-out runs and
prints the compute-optimal frontier beside Chinchilla's constants. Writes
``summary.json``, ``loss_vs_n.png`` and ``isoflop.png`` into ``--out``.

A sweep stopped by Ctrl-C, SIGTERM or SIGHUP saves the run in progress; one
killed outright keeps its finished runs and the last checkpoint of the run in
progress. ``--resume`` continues either. The fit needs SciPy
(``pip install 'llmmath[scaling]'``).

Exit status: 0 on success (also when ``--max-runs`` left runs to do), 1 for
bad input or runs that cannot be fitted (the message shows them), 128 + the
signal's number when a stop signal ended the sweep.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from llmmath.commands._messages import fail

__all__ = ["register"]

BUDGET_HELP = ("quick (12 runs up to 0.22 M parameters: about 6 minutes on 2 cores, 10 when "
               "they are busy) or full (24 runs up to 1.8 M parameters, about an hour)")
THREADS_HELP = ("BLAS threads while training and fitting (default 1: these models are too small "
                "to gain from more, and on a busy machine extra threads wait on each other); "
                "0 leaves the library's default")


def _errors() -> tuple[type[BaseException], ...]:
    from llmmath.errors import LLMMathError

    return (LLMMathError, FileNotFoundError, IsADirectoryError, PermissionError,
            NotADirectoryError)


@contextlib.contextmanager
def _blas_threads(n: int) -> Iterator[str]:
    """Limit the BLAS threads to ``n`` (0: leave them) through threadpoolctl; says what it did."""
    if n == 0:
        yield "BLAS threads: the library's default"
        return
    import scipy.optimize  # noqa: F401  (its own BLAS must be loaded for the limit to reach it)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield ("BLAS threads: not limited (threadpoolctl is not installed: pip install "
               "'llmmath[scaling]', or set OPENBLAS_NUM_THREADS)")
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield f"BLAS threads: {n}"


class _RichProgress:
    """Two rich bars: runs of the sweep, steps of the run in progress."""

    def __init__(self, console: Any, show: bool) -> None:
        self.console, self.show = console, show
        self.progress = None

    def sweep_started(self, plan: Any, n_done: int) -> None:
        self.console.print(f"[bold]sweep[/] {plan.name!r}: {len(plan.runs())} runs "
                           f"({len(plan.widths)} widths x {len(plan.steps)} token budgets, "
                           f"{plan.tokens_per_step:,} tokens a step), {n_done} finished before",
                           highlight=False)
        if not self.show:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(TextColumn("{task.description:<18}"), MofNCompleteColumn(),
                                 BarColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), console=self.console)
        self.progress.start()
        self.runs = self.progress.add_task("runs", total=len(plan.runs()))
        self.steps = self.progress.add_task("-", total=1, visible=False)

    def run_started(self, index: int, spec: Any, start_step: int) -> Any:
        from llmmath.train import Reporter

        if start_step:
            self.console.print(f"{spec.name}: continuing from its checkpoint at step "
                               f"{start_step}", highlight=False)
        outer = self

        class _Steps(Reporter):
            def update(self, step: int, loss: float, lr: float, tokens_per_s: float) -> None:
                if outer.progress is not None:
                    outer.progress.update(outer.steps, completed=step + 1)

        if self.progress is not None:
            self.progress.reset(self.steps, total=spec.steps, completed=start_step,
                                description=spec.name, visible=True)
        return _Steps()

    def run_finished(self, index: int, spec: Any, result: Any, cached: bool) -> None:
        if self.progress is not None:
            self.progress.advance(self.runs)
        if not cached:
            self.console.print(f"{spec.name}: N = {result.params:,}, D = {result.tokens:,}, "
                               f"val loss {result.val_loss:.4f} ({result.seconds:.1f} s)",
                               highlight=False)

    def sweep_stopped(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:.4g}" if abs(x) < 1e4 else f"{x:.3g}"


def _print_report(console: Any, analysis: Any, info: dict[str, Any]) -> None:
    from rich.table import Table

    from llmmath.scaling import CHINCHILLA, CHINCHILLA_TOKENS_PER_PARAMETER, compute_optimal
    from llmmath.scaling.frontier import frontier_exponents

    law = analysis.fit.law
    runs = Table(title="runs (N: non-embedding parameters; D: characters seen)")
    for col in ("run", "N", "N total", "D", "D/N", "val loss", "fit", "held out", "s"):
        runs.add_column(col, justify="left" if col == "run" else "right")
    for i, r in enumerate(analysis.results):
        held = (f"{analysis.heldout_predictions[i]:.4f}"
                if analysis.heldout_predictions is not None else "-")
        runs.add_row(r.name, f"{r.params:,}", f"{r.params_total:,}", f"{r.tokens:,}",
                     f"{r.tokens / r.params:.1f}", f"{r.val_loss:.4f}",
                     f"{float(law.loss(r.params, r.tokens)):.4f}", held, f"{r.seconds:.1f}")
    console.print(runs)

    c_ref = analysis.reference_compute
    ours = compute_optimal(law, c_ref) if analysis.frontier is not None else None
    chin = compute_optimal(CHINCHILLA, c_ref)
    nan = float("nan")
    conf = f"{analysis.bootstrap.confidence:.0%}" if analysis.bootstrap else "-"
    fit = Table(title="L(N, D) = E + A/N^alpha + B/D^beta  (Huber on log L, delta = "
                      f"{analysis.fit.delta:g}, L-BFGS from {analysis.fit.n_starts} starts)",
                caption=f"{conf} bootstrap intervals ({analysis.bootstrap.n_resamples if analysis.bootstrap else 0} "
                        "resamples of the runs). Chinchilla's E, A, B are per BPE token of web "
                        "text, ours per character of Shakespeare: only the exponents compare.")
    for col in ("", "ours", f"{conf} interval", "Chinchilla"):
        fit.add_column(col, justify="left" if not col else "right")
    a, b = frontier_exponents(law.alpha, law.beta) if law.alpha + law.beta > 0 else (nan, nan)
    ca, cb = frontier_exponents(CHINCHILLA.alpha, CHINCHILLA.beta)
    rows = [("E", law.E, "E", CHINCHILLA.E), ("A", law.A, "A", CHINCHILLA.A),
            ("B", law.B, "B", CHINCHILLA.B), ("alpha", law.alpha, "alpha", CHINCHILLA.alpha),
            ("beta", law.beta, "beta", CHINCHILLA.beta),
            ("a: N_opt ∝ C^a", a, "a", ca), ("b: D_opt ∝ C^b", b, "b", cb),
            (f"D/N at C = {c_ref:.2g}",
             float(ours.tokens_per_parameter[()]) if ours is not None else nan,
             "tokens_per_parameter", float(chin.tokens_per_parameter[()]))]
    for label, value, key, theirs in rows:
        lo_hi = analysis.intervals.get(key)
        interval = f"[{_fmt(lo_hi[0])}, {_fmt(lo_hi[1])}]" if lo_hi else "-"
        fit.add_row(label, _fmt(value), interval, _fmt(theirs))
    console.print(fit)
    r2 = "-" if analysis.heldout_r2 is None else f"{analysis.heldout_r2:.4f}"
    console.print(
        f"held-out R² ({analysis.k_folds}-fold: each run predicted by a fit without it): {r2}; "
        f"in-sample R²: {analysis.fit.r2:.4f}\n"
        + (f"compute-optimal at C = {c_ref:.3g} FLOPs (the middle of the measured range): "
           f"N = {float(ours.N[()]):,.0f}, D = {float(ours.D[()]):,.0f}, "
           f"{float(ours.tokens_per_parameter[()]):.1f} tokens per parameter (Chinchilla's "
           f"rule of thumb: about {CHINCHILLA_TOKENS_PER_PARAMETER:.0f})\n"
           if ours is not None else f"no compute-optimal frontier: {analysis.frontier_note}\n")
        + f"sweep time: {info['sweep_seconds']:.0f} s over {len(info['sessions'])} session(s), "
        f"{info['training_seconds']:.0f} s of it training", highlight=False)


def _scaling(budget: str, out: Path, resume: bool, threads: int, resamples: int, seed: int,
             max_runs: int | None, progress: bool) -> None:
    import json
    import signal

    from rich.console import Console

    from llmmath import scaling
    from llmmath._files import atomic_write_text
    from llmmath.scaling.plots import (
        ISOFLOP_PLOT_NAME,
        LOSS_PLOT_NAME,
        plot_isoflops,
        plot_loss_vs_size,
    )

    console = Console()
    if importlib.util.find_spec("scipy") is None:
        raise fail("scaling: the fit needs SciPy (scipy.optimize); install it with "
                    "pip install 'llmmath[scaling]'.")
    if threads < 0 or resamples < 0:
        raise fail(f"scaling: --threads and --resamples must be >= 0; got {threads} and "
                    f"{resamples}.")
    try:
        plan = scaling.get_plan(budget)
        with _blas_threads(threads) as threads_note:
            console.print(threads_note, highlight=False)
            outcome = scaling.run_sweep(plan, out, resume=resume, max_runs=max_runs,
                                        progress=_RichProgress(console, progress))
            if outcome.interrupted:
                how = "" if outcome.stop_signal == "SIGINT" else f" by {outcome.stop_signal}"
                console.print(
                    f"\nInterrupted{how} in run {outcome.interrupted_run} at step "
                    f"{outcome.interrupted_step}; its checkpoint is saved. "
                    f"{len(outcome.results)} of {len(plan.runs())} runs finished.\nContinue "
                    f"with:  llmmath scaling --budget {plan.name} --out {out} --resume",
                    highlight=False)
                raise typer.Exit(128 + int(getattr(signal, outcome.stop_signal or "SIGINT")))
            if outcome.pending:
                console.print(f"{len(outcome.trained)} run(s) trained; {len(outcome.pending)} "
                              f"still to do. Continue with:  llmmath scaling --budget "
                              f"{plan.name} --out {out} --resume", highlight=False)
                return
            console.print(f"{len(outcome.trained)} run(s) trained now ("
                          f"{len(outcome.resumed)} continued from a checkpoint), "
                          f"{len(outcome.cached)} read from {out}; fitting", highlight=False)
            analysis = scaling.analyze(outcome.results, n_resamples=resamples, seed=seed)
        info = scaling.summary(analysis, scaling.read_sweep(out))
        atomic_write_text(out / scaling.SUMMARY_NAME, json.dumps(info, indent=1) + "\n")
        plot_loss_vs_size(analysis, out / LOSS_PLOT_NAME)
        plot_isoflops(analysis, out / ISOFLOP_PLOT_NAME)
    except _errors() as exc:
        raise fail(exc) from None
    except KeyboardInterrupt:
        typer.echo("\nAborted by a second stop signal; finished runs and the last checkpoint "
                   "of the run in progress are kept (continue with --resume).", err=True)
        raise typer.Exit(130) from None
    _print_report(console, analysis, info)
    console.print(f"summary    {out / scaling.SUMMARY_NAME}\nplots      "
                  f"{out / LOSS_PLOT_NAME}, {out / ISOFLOP_PLOT_NAME}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``scaling`` to ``app``."""

    @app.command("scaling")
    def scaling_command(
        budget: str = typer.Option("quick", "--budget", "-b", help=BUDGET_HELP),
        out: Path = typer.Option(Path("out-scaling"), "--out", "-o",
                                 help="the sweep's directory (one subdirectory per run)"),
        resume: bool = typer.Option(False, "--resume", "-r",
                                    help="continue the sweep in --out: finished runs are read, "
                                         "a run stopped part-way continues from its checkpoint"),
        threads: int = typer.Option(1, "--threads", help=THREADS_HELP),
        resamples: int = typer.Option(200, "--resamples",
                                      help="bootstrap resamples of the runs (0: no intervals)"),
        seed: int = typer.Option(0, "--seed", min=0, help="seeds the bootstrap and the folds"),
        max_runs: int | None = typer.Option(None, "--max-runs", min=0, hidden=True,
                                            help="train at most this many runs, then stop"),
        progress: bool = typer.Option(True, "--progress/--no-progress",
                                      help="show the progress bars"),
    ) -> None:
        """Measure a scaling law: train a sweep of small GPTs and fit L(N, D) = E + A/N^α + B/D^β."""
        _scaling(budget, out, resume, threads, resamples, seed, max_runs, progress)
