"""Running a sweep: every run in its own directory, cached, resumable, one process at a time.

A sweep directory looks like this::

    sweep.json              the plan, each run's training settings, one record per session
    runs/L1-C32-S100/       one training run (llmmath.train): ckpt.npz, metrics.jsonl,
        result.json         ... and, once it has finished, its result (written atomically)
    summary.json, *.png     the analysis (written by the command)

:func:`run_sweep` goes through the plan's runs in order. A run with a
``result.json`` is done and is read, not trained again; a run with a
checkpoint but no result was stopped part-way (Ctrl-C, ``kill``, a power cut)
and continues from its checkpoint, bit for bit as :mod:`llmmath.train`
guarantees; any other run starts afresh. A stop signal during a run saves
its checkpoint and ends the sweep (:attr:`SweepOutcome.interrupted`); a
later call with ``resume=True`` carries on. ``max_runs`` stops after that many
runs have been trained in this call.

Two processes never run one sweep: the directory is locked while a sweep
runs in it (the advisory lock of :func:`llmmath.train.outdir.claim`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llmmath import __version__
from llmmath._files import atomic_write_text
from llmmath.errors import InvalidValueError
from llmmath.evaluate import token_nll
from llmmath.scaling.plan import RunSpec, SweepPlan
from llmmath.train import (
    CHECKPOINT_NAME,
    METRICS_NAME,
    PLOT_NAME,
    Reporter,
    RunBusyError,
    Trainer,
    prepare_data,
    run,
)
from llmmath.train.outdir import claim

__all__ = ["PLAN_NAME", "RESULT_NAME", "RUNS_DIR", "SweepExistsError", "RunResult",
           "SweepProgress", "SweepOutcome", "run_sweep", "read_results", "read_sweep",
           "machine_info", "validation_loss"]

PLAN_NAME = "sweep.json"
RESULT_NAME = "result.json"
RUNS_DIR = "runs"
_FORMAT = "llmmath-scaling-sweep"


class SweepExistsError(InvalidValueError):
    """A new sweep was asked to start in a directory that holds another one.

    Lesson: none (part of the ``llmmath scaling`` command).
    """


@dataclass(frozen=True)
class RunResult:
    """The outcome of one finished run: its shape, what it saw and its final losses.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    name: str
    n_layer: int
    n_embd: int
    n_head: int
    steps: int
    tokens: int              # D = steps x batch_size x block_size
    params: int              # N: non-embedding parameters (Kaplan's count), used by the fit
    params_total: int        # every weight, as GPT.num_params(non_embedding=False)
    vocab_size: int
    val_loss: float          # nats per token (character) on the plan's stretch of validation
    train_loss: float        # the training loop's own estimate (two batches): for the log
    seconds: float           # training time, every session of the run together
    resumed: bool = False    # continued from a checkpoint at least once

    @property
    def flops(self) -> float:
        """C = 6 N D."""
        return 6.0 * self.params * self.tokens

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        names = {f.name for f in dataclasses.fields(cls)}
        missing = names - set(d) - {"resumed"}
        if missing:
            raise InvalidValueError(f"scaling: a run result lacks {sorted(missing)}.")
        return cls(**{k: v for k, v in d.items() if k in names})


class SweepProgress:
    """What :func:`run_sweep` tells the outside world; the base class stays silent.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    def sweep_started(self, plan: SweepPlan, n_done: int) -> None: ...

    def run_started(self, index: int, spec: RunSpec, start_step: int) -> Reporter | None:
        """A run begins (``start_step`` > 0: from its checkpoint); may return a training
        :class:`~llmmath.train.Reporter` for its steps."""
        return None

    def run_finished(self, index: int, spec: RunSpec, result: RunResult, cached: bool) -> None:
        ...

    def sweep_stopped(self) -> None: ...


@dataclass(eq=False)
class SweepOutcome:
    """What :func:`run_sweep` did.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    plan: SweepPlan
    out: Path
    results: list[RunResult]                           # finished runs, in plan order
    trained: list[str] = field(default_factory=list)   # finished by training in this call
    resumed: list[str] = field(default_factory=list)   # ... of which continued a checkpoint
    cached: list[str] = field(default_factory=list)    # finished before this call
    pending: list[str] = field(default_factory=list)   # not finished
    interrupted: bool = False
    stop_signal: str | None = None
    interrupted_run: str | None = None
    interrupted_step: int | None = None
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.pending


def machine_info() -> dict[str, Any]:
    """The machine a sweep ran on: processor, cores, system, load, library versions.

    Lesson: none (part of the ``llmmath scaling`` command).
    """
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        load = None
    return {"cpu": cpu, "cores": os.cpu_count(),
            "system": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(), "numpy": np.__version__,
            "llmmath": __version__, "load_average": load, "blas_threads": _blas_threads()}


def _blas_threads() -> int | None:
    """The threads NumPy's BLAS uses now (None where threadpoolctl cannot tell)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [i.get("num_threads") for i in threadpool_info() if i.get("user_api") == "blas"]
    return min(counts) if counts else None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _run_configs(plan: SweepPlan) -> dict[str, dict[str, Any]]:
    """Each run's training settings (without its directory), as recorded in sweep.json."""
    out = {}
    for spec in plan.runs():
        d = dataclasses.asdict(plan.train_config(spec, "."))
        d.pop("out_dir")
        out[spec.name] = d
    return out


def read_sweep(out: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``sweep.json`` of directory ``out``, or None where there is none.

    Lesson: none (part of the ``llmmath scaling`` command).
    """
    path = Path(out) / PLAN_NAME
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidValueError(f"scaling: '{path}' is not a sweep record ({exc}).") from None
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        raise InvalidValueError(f"scaling: '{path}' is not a sweep record (format "
                                f"{record.get('format') if isinstance(record, dict) else None!r}).")
    return record


def read_results(out: str | os.PathLike[str], plan: SweepPlan) -> list[RunResult]:
    """The finished runs of the sweep in ``out``, in plan order.

    Lesson: none (part of the ``llmmath scaling`` command).
    """
    results = []
    for spec in plan.runs():
        path = Path(out) / RUNS_DIR / spec.name / RESULT_NAME
        if path.is_file():
            results.append(_read_result(path))
    return results


def _read_result(path: Path) -> RunResult:
    try:
        return RunResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise InvalidValueError(f"scaling: '{path}' is not a run result ({exc}); delete it to "
                                "train that run again.") from None


def _check_plan(record: dict[str, Any], plan: SweepPlan, out: Path) -> None:
    stored = SweepPlan.from_dict(record["plan"])
    if stored != plan:
        diff = [k for k in plan.to_dict() if k != "description"
                and stored.to_dict().get(k) != plan.to_dict()[k]]
        raise InvalidValueError(
            f"scaling: '{out}' holds the {stored.name!r} sweep, whose plan differs from the "
            f"{plan.name!r} budget asked for (in {', '.join(diff)}); resume it with "
            f"--budget {stored.name}, or choose another --out for a new sweep.")
    changed = [name for name, cfg in _run_configs(plan).items()
               if record.get("configs", {}).get(name) != cfg]
    if changed:
        raise InvalidValueError(
            f"scaling: the training settings of {len(changed)} run(s) of '{out}' (first: "
            f"{changed[0]}) differ from the ones this version of llmmath would use (the "
            "learning-rate or schedule rule changed); its runs cannot be mixed with new ones. "
            "Start a new sweep in another --out.")


def _start_trainer(plan: SweepPlan, spec: RunSpec, rundir: Path,
                   data: Callable[[], Any]) -> Trainer:
    config = plan.train_config(spec, str(rundir))
    if (rundir / CHECKPOINT_NAME).is_file():
        try:
            return Trainer.from_checkpoint(rundir, dataclasses.asdict(config))
        except InvalidValueError as exc:
            raise InvalidValueError(f"scaling: cannot continue run {spec.name} from its "
                                    f"checkpoint: {exc}") from None
    # No checkpoint: whatever a run killed before its first save left (its metrics log) holds
    # nothing to keep, and the sweep's lock says nobody else is writing here.
    for name in (METRICS_NAME, PLOT_NAME):
        (rundir / name).unlink(missing_ok=True)
    return Trainer(config, data())


def run_sweep(plan: SweepPlan, out: str | os.PathLike[str], *, resume: bool = False,
              max_runs: int | None = None, progress: SweepProgress | None = None
              ) -> SweepOutcome:
    """Train every run of ``plan`` under ``out`` that is not finished yet.

    Lesson: none (part of the ``llmmath scaling`` command).

    Parameters
    ----------
    plan : SweepPlan
    out : str or os.PathLike
        The sweep's directory (created if missing).
    resume : bool
        Continue the sweep that ``out`` holds. Without it a directory holding a
        sweep is refused (:class:`SweepExistsError`).
    max_runs : int, optional
        Train at most this many runs in this call (the rest stay pending).
    progress : SweepProgress, optional
        Receives progress (the command passes rich progress bars).

    Returns
    -------
    SweepOutcome

    Raises
    ------
    SweepExistsError
        ``out`` holds a sweep and ``resume`` is false.
    ValueError
        ``out`` holds a sweep of another plan, or another process runs a sweep there.
    """
    progress = progress or SweepProgress()
    out = Path(out)
    t0 = time.perf_counter()
    if max_runs is not None and max_runs < 0:
        raise InvalidValueError(f"run_sweep: max_runs must be >= 0; got {max_runs}.")
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(claim(out, continuing=True))
        except RunBusyError:
            raise InvalidValueError(f"scaling: another process is running a sweep in '{out}'; "
                                    "wait for it to finish, or choose another --out.") from None
        return _run_locked(plan, out, resume, max_runs, progress, t0)


def _run_locked(plan: SweepPlan, out: Path, resume: bool, max_runs: int | None,
                progress: SweepProgress, t0: float) -> SweepOutcome:
    record = read_sweep(out)
    specs = plan.runs()
    if record is not None:
        if not resume:
            done = len(read_results(out, SweepPlan.from_dict(record["plan"])))
            raise SweepExistsError(
                f"scaling: '{out}' already holds a sweep ({record['plan']['name']!r}, {done} of "
                f"{len(SweepPlan.from_dict(record['plan']).runs())} runs finished). Continue it "
                f"with --resume, or choose another --out for a new sweep.")
        _check_plan(record, plan, out)
    else:
        record = {"format": _FORMAT, "version": 1, "created": _now(), "plan": plan.to_dict(),
                  "configs": _run_configs(plan), "sessions": []}
    session = {"started": _now(), "machine": machine_info(), "trained": 0, "seconds": None}
    record["sessions"].append(session)
    atomic_write_text(out / PLAN_NAME, json.dumps(record, indent=1) + "\n")

    outcome = SweepOutcome(plan, out, [])
    cache: dict[str, Any] = {}

    def data() -> Any:            # the corpus, read and encoded once per call, when first needed
        if "data" not in cache:
            cache["data"] = prepare_data(plan.train_config(specs[0], str(out)))
        return cache["data"]

    done_before = len(read_results(out, plan))
    progress.sweep_started(plan, done_before)
    try:
        for index, spec in enumerate(specs):
            rundir = out / RUNS_DIR / spec.name
            if (rundir / RESULT_NAME).is_file():
                res = _read_result(rundir / RESULT_NAME)
                outcome.results.append(res)
                outcome.cached.append(spec.name)
                progress.run_finished(index, spec, res, True)
                continue
            if outcome.interrupted or (max_runs is not None and len(outcome.trained) >= max_runs):
                outcome.pending.append(spec.name)
                continue
            rundir.mkdir(parents=True, exist_ok=True)
            trainer = _start_trainer(plan, spec, rundir, data)
            continued = trainer.resumed_from is not None
            reporter = progress.run_started(index, spec, trainer.step)
            result = run(trainer, reporter=reporter, plot=False)
            if result.interrupted:
                outcome.interrupted, outcome.stop_signal = True, result.stop_signal
                outcome.interrupted_run, outcome.interrupted_step = spec.name, trainer.step
                outcome.pending.append(spec.name)
                continue
            final = result.evals[-1] if result.evals else None
            if final is None or final["step"] != spec.steps:   # a checkpoint saved at the end
                final = {"step": trainer.step, **trainer.estimate_loss()}
            val = validation_loss(trainer.model, trainer.data.val, plan.eval_tokens)
            res = _result(plan, spec, trainer, val, final["train"],
                          continued or _was_resumed(rundir))
            atomic_write_text(rundir / RESULT_NAME, json.dumps(res.to_dict(), indent=1) + "\n")
            outcome.results.append(res)
            outcome.trained.append(spec.name)
            if continued:
                outcome.resumed.append(spec.name)
            progress.run_finished(index, spec, res, False)
    finally:
        progress.sweep_stopped()
        outcome.seconds = time.perf_counter() - t0
        session.update(trained=len(outcome.trained), seconds=round(outcome.seconds, 2),
                       ended=_now(), load_average_end=machine_info()["load_average"],
                       interrupted=outcome.interrupted)
        atomic_write_text(out / PLAN_NAME, json.dumps(record, indent=1) + "\n")
    return outcome


def _was_resumed(rundir: Path) -> bool:
    """Whether the run's metrics log records a resumed session."""
    path = rundir / METRICS_NAME
    if not path.is_file():
        return False
    return any('"kind": "resume"' in line for line in
               path.read_text(encoding="utf-8").splitlines())


def validation_loss(model: Any, val: np.ndarray, n_tokens: int) -> float:
    """Mean loss (nats per token) on the first ``n_tokens`` targets of ``val``, in
    non-overlapping windows of the model's context: the same characters for every run."""
    ids = np.asarray(val[:n_tokens + 1])
    return float(np.mean(token_nll(model, ids)))


def _result(plan: SweepPlan, spec: RunSpec, trainer: Trainer, val_loss: float,
            train_loss: float, resumed: bool) -> RunResult:
    model = trainer.model
    total = int(model.num_params(non_embedding=False))
    embeddings = int(model.transformer.wte.weight.data.size + model.transformer.wpe.weight.data.size)
    return RunResult(
        name=spec.name, n_layer=spec.shape.n_layer, n_embd=spec.shape.n_embd,
        n_head=spec.shape.n_head, steps=spec.steps, tokens=plan.tokens(spec),
        params=total - embeddings, params_total=total, vocab_size=trainer.data.vocab_size,
        val_loss=val_loss, train_loss=float(train_loss),
        seconds=round(float(trainer.elapsed), 3), resumed=resumed)
