"""The training loop: steps, evaluations, the metrics log, checkpoints and stop signals.

Around the trainer's steps (:mod:`llmmath.train.trainer`):

* **evaluation** every ``eval_interval`` steps: the mean loss on
  ``eval_iters`` batches of each split, drawn from a generator seeded afresh
  for every evaluation, so the estimate uses the same batches each time and
  never touches the training randomness; beside it the same loss in bits per
  character (:func:`~llmmath.train.data.with_bits_per_char`), the scale on
  which char and BPE models compare;
* a **metrics log** (:mod:`llmmath.train.metrics`), appended and flushed as
  training goes, and a loss curve drawn from it at the end;
* **checkpoints** (:mod:`llmmath.train.state`) every ``checkpoint_interval``
  steps and at the end, holding everything a resumed run needs to continue
  bit for bit: 2 x 50 steps equal 100 steps exactly;
* **stop signals**: the first SIGINT (Ctrl-C), SIGTERM (``kill``, a job
  scheduler) or SIGHUP (the terminal closed) lets the current step finish,
  saves a checkpoint and returns (the command then says how to resume); a
  second one aborts at once, leaving the last checkpoint as it was. A signal
  that was ignored when training started (SIGHUP under ``nohup``) stays
  ignored;
* **one run per directory** (:mod:`llmmath.train.outdir`): a new run refuses
  a directory holding another run unless ``force`` archives it, and two
  processes never train in one directory.

:func:`train` builds the trainer (a new run or a resumed one) and hands it to
:func:`run`, which needs nothing of a trainer but ``config``, ``step``,
``elapsed``, ``resumed_from``, ``lr_at``, ``train_step``, ``estimate_loss``
and ``save`` (a trainer of several data-parallel processes adds ``world_size`` and
``agree_to_stop``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmmath.train.config import TrainConfig, apply_overrides
from llmmath.train.data import with_bits_per_char
from llmmath.train.metrics import METRICS_NAME, MetricsLog, read_metrics
from llmmath.train.outdir import claim
from llmmath.train.plots import PLOT_NAME, plot_loss_curve
from llmmath.train.state import CHECKPOINT_NAME
from llmmath.train.trainer import Trainer

__all__ = ["Reporter", "TrainResult", "STOP_SIGNALS", "train", "run"]

#: The signals that stop a run gracefully (those this platform has).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


class Reporter:
    """What :func:`train` tells the outside world; the base class stays silent.

    Lesson: none (part of the training command).
    """

    def start(self, trainer: Trainer) -> None: ...
    def update(self, step: int, loss: float, lr: float, tokens_per_s: float) -> None: ...
    def evaluated(self, step: int, losses: dict[str, float]) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What :func:`train` returns.

    Lesson: none (part of the training command).

    ``checkpoint`` and ``metrics`` are None when nothing was to be done
    (``max_iters`` already reached): no file was written then.
    """

    trainer: Trainer
    checkpoint: Path | None
    metrics: Path | None
    plot: Path | None
    losses: dict[int, float]            # step -> training-batch loss, this session
    evals: list[dict[str, float]]       # {"step", "train", "val", "<split>_bits_per_char"}
    interrupted: bool
    seconds: float                      # wall time of this session's loop
    start_step: int = 0                 # the step this session started from
    stop_signal: str | None = None      # "SIGINT", "SIGTERM" or "SIGHUP" when interrupted
    archived: Path | None = None        # where force moved a previous run
    removed: tuple[Path, ...] = ()      # temporary files of a killed save, deleted

    @property
    def trained(self) -> bool:
        """Whether this session took at least one step."""
        return self.trainer.step > self.start_step


class _StopFlag:
    signal: int | None = None           # the first stop signal received

    @property
    def requested(self) -> bool:
        return self.signal is not None


@contextlib.contextmanager
def _graceful_stop() -> Iterator[_StopFlag]:
    """While active, the first stop signal sets a flag the loop checks between steps; a
    second raises KeyboardInterrupt. The previous handlers come back on exit."""
    flag = _StopFlag()
    if threading.current_thread() is not threading.main_thread():   # only it gets signals
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.signal = signum

    previous = {}
    try:
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) is signal.SIG_IGN:   # nohup, a background job: respect it
                continue
            previous[sig] = signal.signal(sig, handler)
        yield flag
    finally:
        for sig, old in previous.items():
            # None: a handler installed outside Python, which cannot be put back; the default
            # action is the nearest
            signal.signal(sig, signal.SIG_DFL if old is None else old)


def _agreed_stop(trainer: Trainer, flag: _StopFlag) -> int | None:
    """The stop signal received before this step, if any. A trainer that is one of several
    processes (``agree_to_stop``) returns the one they all agree on, so that all of them
    stop after the same step."""
    agree = getattr(trainer, "agree_to_stop", None)
    return flag.signal if agree is None else agree(flag.signal)


def train(config: TrainConfig | None = None, *, resume: str | os.PathLike[str] | None = None,
          overrides: Mapping[str, Any] | None = None, reporter: Reporter | None = None,
          plot: bool = True, force: bool = False) -> TrainResult:
    """Train a GPT as ``config`` says, or continue the run saved at ``resume``.

    Lesson: none (part of the training command).

    Parameters
    ----------
    config : TrainConfig, optional
        A new run (default: the ``tiny`` preset). Ignored with ``resume``.
    resume : str or os.PathLike, optional
        A checkpoint file, or the ``out_dir`` holding ``ckpt.npz``. The run
        continues in the checkpoint's directory unless ``out_dir`` is overridden.
    overrides : mapping, optional
        Field changes: applied to ``config``, or, with ``resume``, checked
        against the checkpoint (only :data:`~llmmath.train.RESUMABLE` may differ).
    reporter : Reporter, optional
        Receives progress (the command passes a rich progress bar).
    plot : bool
        Draw ``loss.png`` at the end.
    force : bool
        If ``out_dir`` holds another run, move its files to a sibling
        ``<out_dir>.old-<date>-<time>`` and start afresh (without ``force`` that
        is an error). A resumed run continuing in its own directory is not
        "another run".

    Returns
    -------
    TrainResult

    Raises
    ------
    RunExistsError
        ``out_dir`` holds another run and ``force`` is false.
    RunBusyError
        Another process is training in ``out_dir``.
    """
    if resume is not None:
        trainer = Trainer.from_checkpoint(resume, overrides)
    else:
        trainer = Trainer(apply_overrides(config or TrainConfig(), overrides))
    return run(trainer, reporter=reporter, plot=plot, force=force)


def run(trainer: Trainer, *, reporter: Reporter | None = None, plot: bool = True,
        force: bool = False) -> TrainResult:
    """Train ``trainer`` from its current step to ``max_iters`` in its ``out_dir``.

    Lesson: none (part of the training command).

    With nothing to do (the step already at ``max_iters``) nothing is written
    and the result's ``checkpoint`` is None.
    """
    reporter = reporter or Reporter()
    c, start = trainer.config, trainer.step
    t_start = time.perf_counter()
    if start >= c.max_iters:
        return TrainResult(trainer, None, None, None, {}, [], False, 0.0, start)
    out = Path(c.out_dir)
    ckpt = out / CHECKPOINT_NAME
    resumed = trainer.resumed_from is not None
    source = Path(trainer.resumed_from).resolve() if resumed else None
    continuing = source is not None and source.parent == out.resolve()   # in its own directory
    losses: dict[int, float] = {}
    evals: list[dict[str, float]] = []
    saved_at = start if source == ckpt.resolve() else -1   # the step ckpt.npz holds now
    interrupted, stop = False, None
    tokens = c.batch_size * c.block_size * getattr(trainer, "world_size", 1)   # all processes'
    with claim(out, continuing=continuing, force=force) as rundir, \
            MetricsLog(out / METRICS_NAME) as log, _graceful_stop() as flag:
        log.write({"kind": "resume" if resumed else "start", "step": start,
                   "config": dataclasses.asdict(c)})
        reporter.start(trainer)
        try:
            while True:
                step = trainer.step
                if step % c.eval_interval == 0 or step == c.max_iters:
                    est = with_bits_per_char(trainer.estimate_loss(), trainer.data)
                    evals.append({"step": step, **est})
                    log.write({"kind": "eval", "step": step, **est})
                    reporter.evaluated(step, est)
                done = step >= c.max_iters
                stop = None if done else _agreed_stop(trainer, flag)
                interrupted = stop is not None
                periodic = step > start and step % c.checkpoint_interval == 0
                if step != saved_at and (done or interrupted or periodic):
                    trainer.save(ckpt)
                    saved_at = step
                if done or interrupted:
                    break
                t0 = time.perf_counter()
                lr = trainer.lr_at(step)
                loss = trainer.train_step()
                dt = time.perf_counter() - t0
                trainer.elapsed += dt
                losses[step] = loss
                if step % c.log_interval == 0 or step == c.max_iters - 1:
                    log.write({"kind": "train", "step": step, "loss": loss, "lr": lr,
                               "tokens_per_s": tokens / dt, "elapsed": trainer.elapsed})
                reporter.update(step, loss, lr, tokens / dt)
        finally:
            reporter.stop()
        stop_signal = signal.Signals(stop).name if interrupted else None
        if interrupted:
            log.write({"kind": "interrupt", "step": trainer.step, "signal": stop_signal})
        png = (plot_loss_curve(read_metrics(log.path), out / PLOT_NAME,
                               vocab_size=trainer.data.vocab_size) if plot else None)
    return TrainResult(trainer, ckpt, log.path, png, losses, evals, interrupted,
                       time.perf_counter() - t_start, start, stop_signal, rundir.archived,
                       rundir.removed)
