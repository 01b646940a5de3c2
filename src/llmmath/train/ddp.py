"""Running the torch engine: in this process, or as N data-parallel processes.

:func:`train_torch` is the torch engine's :func:`llmmath.train.train`. With
``nproc`` above 1 it hands over to :func:`launch`, which starts the
processes with torchrun's own machinery (``torch.distributed.launcher``: its
supervisor in this process, a c10d rendezvous on 127.0.0.1 at a free
port, one worker process per rank). Each worker joins the process group
(gloo on the CPU, NCCL when there are GPUs, one per rank), builds a
:class:`~llmmath.train.engine_torch.TorchTrainer` and runs the ordinary loop,
:func:`llmmath.train.run`:

* every rank runs the same loop, so all of them make the same collective
  calls in the same order: the gradient all-reduce inside each step, the
  shared-out evaluation, and the agreement on whether to stop;
* only rank 0 writes the run's directory (checkpoint, ``metrics.jsonl``,
  ``loss.png``); the other ranks' loops write their log into a scratch
  directory that is deleted when they finish, and their ``save`` writes nothing;
* the run directory is claimed here, before any worker starts (a directory
  holding another run is refused, or archived with ``force``);
* **stop signals** reach this process (Ctrl-C reaches every process of the
  terminal's group; the workers ignore it): the first asks the ranks to stop,
  and they all stop after the same step, rank 0 saving the checkpoint; a
  second kills the workers at once, leaving the last checkpoint as it was.
  A worker whose launcher has died saves and stops as if it had been sent SIGHUP.

References
----------
.. [1] PyTorch, "torchrun (Elastic Launch)" and ``torch.distributed.launcher.api``,
   https://pytorch.org/docs/stable/elastic/run.html.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import signal
import socket
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmmath._validation import check_int
from llmmath.errors import InvalidValueError
from llmmath.tokenizers import tokenizer_from_dict
from llmmath.train.config import TrainConfig, apply_overrides
from llmmath.train.data import prepare_data
from llmmath.train.engine_torch import TorchTrainer, check_arch, dist, torch
from llmmath.train.loop import STOP_SIGNALS, Reporter, TrainResult, run
from llmmath.train.outdir import claim
from llmmath.train.trainer import Trainer

__all__ = ["train_torch", "launch", "choose_backend", "max_processes", "RunSummary"]

ReporterArg = Reporter | Callable[[], Reporter] | None


def choose_backend() -> str:
    """``"nccl"`` when CUDA GPUs are present (one per rank), else ``"gloo"`` (CPU processes)."""
    return "nccl" if torch.cuda.is_available() and torch.cuda.device_count() > 0 else "gloo"


def max_processes(backend: str) -> int:
    """How many ranks this machine allows: one per GPU under NCCL, one per CPU core under gloo."""
    return torch.cuda.device_count() if backend == "nccl" else (os.cpu_count() or 1)


def _reporter(reporter: ReporterArg) -> Reporter | None:
    """A reporter, made by calling ``reporter`` when it is a maker (a class, a function)."""
    if reporter is None or (hasattr(reporter, "start") and not isinstance(reporter, type)):
        return reporter
    return reporter()


def train_torch(config: TrainConfig | None = None, *,
                resume: str | os.PathLike[str] | None = None,
                overrides: Mapping[str, Any] | None = None, reporter: ReporterArg = None,
                plot: bool = True, force: bool = False, nproc: int = 1) -> TrainResult:
    """Train with the torch engine as :func:`llmmath.train.train` trains with llmmath's.

    Parameters
    ----------
    config, resume, overrides, plot, force
        As for :func:`llmmath.train.train`.
    reporter : Reporter or callable, optional
        A reporter, or a picklable callable that makes one (with ``nproc`` > 1
        rank 0 makes its own, in its own process).
    nproc : int
        Data-parallel processes; each takes ``batch_size`` sequences of a
        global batch of ``nproc * batch_size``.

    Returns
    -------
    TrainResult
        With ``nproc`` > 1 its ``trainer`` is a :class:`RunSummary` (the
        trainers lived in the worker processes).
    """
    nproc = check_int(nproc, "nproc", "train", min_value=1)
    if nproc > 1:
        return launch(config, resume=resume, overrides=overrides, reporter=reporter, plot=plot,
                      force=force, nproc=nproc)
    if resume is not None:
        trainer = TorchTrainer.from_checkpoint(resume, overrides)
    else:
        trainer = TorchTrainer(apply_overrides(config or TrainConfig(), overrides))
    return run(trainer, reporter=_reporter(reporter), plot=plot, force=force)


@dataclass(frozen=True)
class RunSummary:
    """What a data-parallel run's :class:`TrainResult` keeps of its trainer."""

    step: int
    config: TrainConfig
    resumed_from: Path | None
    world_size: int
    engine: str = "torch"


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs (pickled into each process as it is spawned)."""

    config: TrainConfig
    tokenizer: dict
    resume: str | None
    overrides: dict
    plot: bool
    reporter: ReporterArg
    backend: str
    threads: int
    stop: Any              # multiprocessing Value: the stop signal the launcher received, or 0
    pids: Any              # multiprocessing Array: each rank's process id
    launcher_pid: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(config: TrainConfig | None = None, *, resume: str | os.PathLike[str] | None = None,
           overrides: Mapping[str, Any] | None = None, reporter: ReporterArg = None,
           plot: bool = True, force: bool = False, nproc: int = 2) -> TrainResult:
    """Train on ``nproc`` data-parallel processes (see the module's description).

    Raises
    ------
    InvalidValueError
        ``nproc`` above what the machine allows, a bad configuration or
        checkpoint, a directory holding another run, or a worker that failed
        (its message is passed on).
    KeyboardInterrupt
        A second stop signal killed the workers.
    """
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    nproc = check_int(nproc, "nproc", "train", min_value=1)
    backend = choose_backend()
    limit = max_processes(backend)
    if nproc > limit:
        what = (f"{limit} GPU(s)" if backend == "nccl" else f"{limit} CPU core(s) "
                "(os.cpu_count())")
        raise InvalidValueError(f"train --nproc: {nproc} processes asked, but this machine has "
                                f"{what}, one per process under {backend}; pass --nproc "
                                f"{limit} or fewer.")
    # Check everything here, with llmmath's engine (building a run takes no step), so that bad
    # input is one clear message before any process starts.
    if resume is not None:
        probe = Trainer.from_checkpoint(resume, overrides)
    else:
        probe = Trainer(apply_overrides(config or TrainConfig(), overrides))
    c = probe.config
    check_arch(c)
    if probe.step >= c.max_iters:
        return run(probe)                          # nothing to do: nothing written
    out = Path(c.out_dir)
    source = probe.resumed_from
    continuing = source is not None and Path(source).resolve().parent == out.resolve()
    with claim(out, continuing=continuing, force=force) as rundir:
        pass                                       # refused, or archived, now
    ctx = multiprocessing.get_context("spawn")
    job = _Job(config=c, tokenizer=probe.data.tokenizer.to_dict(),
               resume=None if source is None else str(source), overrides=dict(overrides or {}),
               plot=plot, reporter=reporter, backend=backend,
               threads=max(1, (os.cpu_count() or 1) // nproc), stop=ctx.Value("i", 0),
               pids=ctx.Array("i", nproc), launcher_pid=os.getpid())
    del probe
    with tempfile.TemporaryDirectory(prefix="llmmath-ddp-") as logs, _quiet_elastic(), \
            _forward_stop_signals(job):
        launch_config = LaunchConfig(
            min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=f"llmmath-{os.getpid()}",
            rdzv_backend="c10d", rdzv_endpoint=f"127.0.0.1:{_free_port()}",
            local_addr="127.0.0.1", max_restarts=0, monitor_interval=0.1,
            start_method="spawn", signals_to_handle="SIGQUIT",   # the others are ours
            shutdown_timeout=5,   # after a rank failed, the others (ignoring SIGTERM) are killed
            logs_specs=DefaultLogsSpecs(log_dir=logs))
        try:
            results = elastic_launch(launch_config, _worker)(job)
        except ChildFailedError as exc:
            rank, failure = exc.get_first_failure()
            raise InvalidValueError(f"train --nproc {nproc}: rank {rank} failed: "
                                    f"{_failure_message(failure)}") from None
    result = results[0]
    return dataclasses.replace(result, archived=rundir.archived, removed=rundir.removed)


def _failure_message(failure: Any) -> str:
    """The worker's exception message ("Type: message" with the type dropped)."""
    message = failure.message
    if isinstance(message, dict):
        message = message.get("message", "")
    head, sep, rest = str(message).partition(": ")
    if sep and head.replace(".", "").replace("_", "").isalnum():
        return rest
    if failure.exitcode is not None and failure.exitcode < 0:
        return f"killed by signal {signal.Signals(-failure.exitcode).name}"
    return str(message)


@contextlib.contextmanager
def _quiet_elastic() -> Iterator[None]:
    """The launcher's log lines (a failure's traceback, workers being terminated) stay out of the
    terminal: a failure becomes one message."""
    loggers = [logging.getLogger(n) for n in ("torch.distributed.elastic", "torch.multiprocessing",
                                               "torch.distributed.launcher")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


@contextlib.contextmanager
def _forward_stop_signals(job: _Job) -> Iterator[None]:
    """In the launching process: the first stop signal asks every rank to stop (through
    ``job.stop``), a second kills the workers and raises KeyboardInterrupt."""

    def handler(signum: int, frame: Any) -> None:
        if job.stop.value:
            for pid in job.pids[:]:
                if pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            raise KeyboardInterrupt
        job.stop.value = signum

    previous = {}
    try:
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) is signal.SIG_IGN:   # nohup: stays ignored
                continue
            previous[sig] = signal.signal(sig, handler)
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, signal.SIG_DFL if old is None else old)


def _worker(job: _Job) -> TrainResult | None:
    """One rank: join the group, build the trainer, run the loop (rank 0 in the run's directory,
    the others in a scratch one)."""
    for sig in STOP_SIGNALS:          # the launcher decides when to stop (see _stop_source)
        signal.signal(sig, signal.SIG_IGN)
    if job.backend == "nccl":
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    else:
        torch.set_num_threads(job.threads)
    dist.init_process_group(job.backend)
    try:
        rank = dist.get_rank()
        job.pids[rank] = os.getpid()
        if job.resume is not None:
            trainer = TorchTrainer.from_checkpoint(job.resume, job.overrides)
        else:
            data = prepare_data(job.config, tokenizer_from_dict(job.tokenizer))
            trainer = TorchTrainer(job.config, data)
        trainer.stop_source = lambda: _stop_source(job)
        if rank == 0:
            result = run(trainer, reporter=_reporter(job.reporter), plot=job.plot)
            summary = RunSummary(trainer.step, trainer.config, trainer.resumed_from,
                                 trainer.world_size)
            return dataclasses.replace(result, trainer=summary)
        with tempfile.TemporaryDirectory(prefix=f"llmmath-rank{rank}-") as scratch:
            trainer.config = dataclasses.replace(trainer.config, out_dir=scratch)
            run(trainer, plot=False)
        return None
    finally:
        dist.destroy_process_group()


def _stop_source(job: _Job) -> int:
    """The stop signal the launcher received (0: none); SIGHUP when the launcher is gone."""
    if os.getppid() != job.launcher_pid:
        return int(signal.SIGHUP)
    return int(job.stop.value)
