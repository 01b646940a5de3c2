"""Training a GPT on a corpus with llmmath's own autograd engine, resumable bit for bit.

Every hyper-parameter is a field of :class:`TrainConfig`; :data:`PRESETS`
holds named sets of them (``tiny``, ``baby``, ``small``). :func:`train` runs
(or resumes) a run and :func:`load_model` opens its checkpoint::

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.txt").write_text("to be or not to be, that is the question. " * 40)
    >>> r = train(preset_config(text=str(d / "t.txt"), block_size=8, n_embd=16, max_iters=3,
    ...                         eval_iters=1, out_dir=str(d / "run")), plot=False)
    >>> r.trainer.step, load_model(d / "run").step
    (3, 3)

The package, one job per module; each imports only those above it:

``config``
    :class:`TrainConfig`, the presets, the overrides (imports no other part).
``data``
    :func:`prepare_data`: the corpus, its tokenizer and splits, the text's SHA-256.
``state``
    What a checkpoint holds: :func:`save_state`, :func:`restore_state`,
    :func:`read_checkpoint`.
``metrics``, ``plots``
    ``metrics.jsonl`` (:func:`read_metrics`) and ``loss.png``
    (:func:`plot_loss_curve`).
``outdir``
    One run per directory, one process at a time, no debris of a killed save
    (:class:`RunExistsError`, :class:`RunBusyError`).
``trainer``
    :class:`Trainer`: the GPT, AdamW, the generators and one step, on
    llmmath's engine.
``load``
    :func:`load_model`: a checkpoint opened for evaluation and sampling.
``loop``
    :func:`train` and :func:`run`: evaluations, the log, checkpoints, and
    Ctrl-C, SIGTERM and SIGHUP saving before they stop the run.

Only ``trainer`` and ``load`` import the model; the rest does not depend on
the engine that trains. ``engine_torch`` (the same run on PyTorch) and
``ddp`` (:func:`~llmmath.train.ddp.train_torch`, on one process or N
data-parallel ones) need PyTorch, an optional extra; this package does not
import them.
"""

from __future__ import annotations

from llmmath.train.config import (
    PRESETS,
    RESUMABLE,
    TrainConfig,
    apply_overrides,
    config_types,
    preset_config,
)
from llmmath.train.data import TrainingData, prepare_data
from llmmath.train.load import LoadedModel, load_model
from llmmath.train.loop import Reporter, TrainResult, run, train
from llmmath.train.metrics import METRICS_NAME, read_metrics
from llmmath.train.outdir import RunBusyError, RunExistsError
from llmmath.train.plots import PLOT_NAME, plot_loss_curve
from llmmath.train.state import (
    CHECKPOINT_NAME,
    FORMAT,
    read_checkpoint,
    restore_state,
    save_state,
)
from llmmath.train.trainer import Trainer

__all__ = [
    "TrainConfig", "config_types", "PRESETS", "RESUMABLE", "preset_config", "apply_overrides",
    "TrainingData", "prepare_data",
    "FORMAT", "CHECKPOINT_NAME", "save_state", "restore_state", "read_checkpoint",
    "METRICS_NAME", "read_metrics", "PLOT_NAME", "plot_loss_curve",
    "Trainer", "LoadedModel", "load_model",
    "RunExistsError", "RunBusyError", "Reporter", "TrainResult", "train", "run",
]
