"""The training loop: steps, evaluations, the metrics log, checkpoints and Ctrl-C.

Around the trainer's steps (:mod:`llmmath.train.trainer`):

* **evaluation** every ``eval_interval`` steps: the mean loss on
  ``eval_iters`` batches of each split, drawn from a generator seeded afresh
  for every evaluation, so the estimate uses the same batches each time and
  never touches the training randomness;
* a **metrics log** (:mod:`llmmath.train.metrics`), appended and flushed as
  training goes, and a loss curve drawn from it at the end;
* **checkpoints** (:mod:`llmmath.train.state`) holding everything a resumed
  run needs to continue bit for bit: 2 x 50 steps equal 100 steps exactly;
* **Ctrl-C**: the first SIGINT lets the current step finish, saves a
  checkpoint and returns (the command then says how to resume); a second one
  aborts at once, leaving the last checkpoint as it was.

:func:`train` builds the trainer (a new run or a resumed one) and hands it to
:func:`run`, which needs nothing of a trainer but ``config``, ``step``,
``elapsed``, ``lr_at``, ``train_step``, ``estimate_loss`` and ``save``.
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
from llmmath.train.metrics import METRICS_NAME, MetricsLog, read_metrics
from llmmath.train.plots import PLOT_NAME, plot_loss_curve
from llmmath.train.state import CHECKPOINT_NAME
from llmmath.train.trainer import Trainer

__all__ = ["Reporter", "TrainResult", "train", "run"]


class Reporter:
    """What :func:`train` tells the outside world; the base class stays silent."""

    def start(self, trainer: Trainer) -> None: ...
    def update(self, step: int, loss: float, lr: float, tokens_per_s: float) -> None: ...
    def evaluated(self, step: int, losses: dict[str, float]) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What :func:`train` returns."""

    trainer: Trainer
    checkpoint: Path
    metrics: Path
    plot: Path | None
    losses: dict[int, float]            # step -> training-batch loss, this session
    evals: list[dict[str, float]]       # {"step", "train", "val"} per evaluation
    interrupted: bool
    seconds: float                      # wall time of this session's loop


class _StopFlag:
    requested = False


@contextlib.contextmanager
def _graceful_sigint() -> Iterator[_StopFlag]:
    """First SIGINT: set a flag the loop checks between steps. Second: KeyboardInterrupt."""
    flag = _StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: Any) -> None:
        if flag.requested:
            raise KeyboardInterrupt
        flag.requested = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def train(config: TrainConfig | None = None, *, resume: str | os.PathLike[str] | None = None,
          overrides: Mapping[str, Any] | None = None, reporter: Reporter | None = None,
          plot: bool = True) -> TrainResult:
    """Train a GPT as ``config`` says, or continue the run saved at ``resume``.

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

    Returns
    -------
    TrainResult
    """
    if resume is not None:
        trainer = Trainer.from_checkpoint(resume, overrides)
    else:
        trainer = Trainer(apply_overrides(config or TrainConfig(), overrides))
    return run(trainer, resumed=resume is not None, reporter=reporter, plot=plot)


def run(trainer: Trainer, *, resumed: bool = False, reporter: Reporter | None = None,
        plot: bool = True) -> TrainResult:
    """Train ``trainer`` from its current step to ``max_iters`` in its ``out_dir``.

    ``resumed`` says whether the trainer came from a checkpoint (the metrics
    log then records a ``resume`` rather than a ``start``).
    """
    reporter = reporter or Reporter()
    c, start = trainer.config, trainer.step
    out = Path(c.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / CHECKPOINT_NAME
    losses: dict[int, float] = {}
    evals: list[dict[str, float]] = []
    saved_at, interrupted, t_start = -1, False, time.perf_counter()
    tokens = c.batch_size * c.block_size
    with MetricsLog(out / METRICS_NAME) as log, _graceful_sigint() as flag:
        log.write({"kind": "resume" if resumed else "start", "step": start,
                   "config": dataclasses.asdict(c)})
        reporter.start(trainer)
        try:
            while True:
                step = trainer.step
                if step % c.eval_interval == 0 or step == c.max_iters:
                    est = trainer.estimate_loss()
                    evals.append({"step": step, **est})
                    log.write({"kind": "eval", "step": step, **est})
                    reporter.evaluated(step, est)
                    if step > start:
                        trainer.save(ckpt)
                        saved_at = step
                if step >= c.max_iters:
                    break
                if flag.requested:
                    interrupted = True
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
            if trainer.step != saved_at and (interrupted or trainer.step > start):
                trainer.save(ckpt)
        finally:
            reporter.stop()
        if interrupted:
            log.write({"kind": "interrupt", "step": trainer.step})
    png = plot_loss_curve(read_metrics(log.path), out / PLOT_NAME) if plot else None
    return TrainResult(trainer, ckpt, log.path, png, losses, evals, interrupted,
                       time.perf_counter() - t_start)
