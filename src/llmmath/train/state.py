"""What a training run's checkpoint holds, and putting a run into one and back.

A training checkpoint is a :mod:`llmmath.checkpoint` file (atomic,
checksummed, no pickle). Its header holds ``format`` (``"llmmath-gpt-train"``),
``version``, ``engine`` (``"llmmath"`` or ``"torch"``, the engine that wrote it) and
``world_size`` (its number of data-parallel processes), ``step``, ``elapsed`` (training
seconds), ``config`` (the
:class:`~llmmath.train.TrainConfig`), ``gpt_config``, ``tokenizer`` with its
``tokenizer_fingerprint``, ``data`` (corpus name and SHA-256 of its text),
``optimizer`` (a :func:`~llmmath.checkpoint.to_tree` tree) and ``rng`` (the
``bit_generator.state`` of every random generator, batches first). Its arrays
are ``model/<parameter name>`` and the optimiser's moments ``optim/...``. The
generator states are what make a resumed run continue bit for bit.

Nothing here builds a model: :func:`save_state` and :func:`restore_state`
work on any object with the attributes of :class:`RunState` (the trainer of
:mod:`llmmath.train.trainer` is one), and :func:`read_checkpoint` returns the
header, the configuration and the tokenizer, leaving the weights as arrays.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from llmmath.checkpoint import (
    Checkpoint,
    CheckpointError,
    from_tree,
    load_checkpoint,
    save_checkpoint,
    to_tree,
)
from llmmath.errors import InvalidValueError
from llmmath.tokenizers import tokenizer_from_dict
from llmmath.train.config import TrainConfig
from llmmath.train.data import Tokenizer, TrainingData

__all__ = ["FORMAT", "CHECKPOINT_NAME", "RunState", "save_state", "restore_state",
           "read_checkpoint", "model_weights"]

FORMAT = "llmmath-gpt-train"
CHECKPOINT_NAME = "ckpt.npz"


class RunState(Protocol):
    """What a checkpoint is written from and restored into (a trainer, whatever its engine).

    ``model`` and ``optimizer`` need ``state_dict()`` / ``load_state_dict()``
    with NumPy arrays; ``generators()`` lists every random generator the run
    draws from, always in the same order.
    """

    config: TrainConfig
    gpt_config: Any
    data: TrainingData
    model: Any
    optimizer: Any
    step: int
    elapsed: float

    def generators(self) -> list[np.random.Generator]: ...


def save_state(run: RunState, path: str | os.PathLike[str]) -> Path:
    """Write everything ``run`` needs to continue to ``path``, atomically.

    Returns
    -------
    Path
    """
    arrays = {f"model/{k}": v for k, v in run.model.state_dict().items()}
    tok = run.data.tokenizer
    header = {
        "format": FORMAT, "version": 1, "step": run.step, "elapsed": run.elapsed,
        "engine": getattr(run, "engine", "llmmath"), "world_size": getattr(run, "world_size", 1),
        "config": dataclasses.asdict(run.config),
        "gpt_config": dataclasses.asdict(run.gpt_config),
        "tokenizer": tok.to_dict(), "tokenizer_fingerprint": tok.fingerprint,
        "data": {"name": run.data.corpus.name, "sha256": run.data.sha256},
        "optimizer": to_tree(run.optimizer.state_dict(), arrays, "optim"),
        "rng": [g.bit_generator.state for g in run.generators()],
    }
    return save_checkpoint(path, header, arrays)


def model_weights(ck: Checkpoint) -> dict[str, np.ndarray]:
    """The model's parameters in checkpoint ``ck``, by name (the ``model/`` prefix removed)."""
    return {k.removeprefix("model/"): v for k, v in ck.arrays.items() if k.startswith("model/")}


def restore_state(run: RunState, ck: Checkpoint) -> None:
    """Load weights, optimiser state, generator states and step of checkpoint ``ck`` into a
    freshly built ``run`` of the same configuration."""
    run.model.load_state_dict(model_weights(ck))
    run.optimizer.load_state_dict(from_tree(ck.header["optimizer"], ck.arrays))
    gens, states = run.generators(), ck.header["rng"]
    if len(gens) != len(states):
        raise InvalidValueError(f"train --resume: '{ck.path}' holds {len(states)} generator "
                                f"states; this model uses {len(gens)}.")
    for g, state in zip(gens, states, strict=True):
        g.bit_generator.state = state
    run.step, run.elapsed = int(ck.header["step"]), float(ck.header["elapsed"])


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[Checkpoint, TrainConfig, Tokenizer]:
    """Load and check a training checkpoint (a file, or the ``out_dir`` holding ``ckpt.npz``).

    Returns
    -------
    (Checkpoint, TrainConfig, tokenizer)

    Raises
    ------
    CheckpointError
        Missing, truncated or corrupted file, another kind of file, or an
        unusable configuration or tokenizer; the message names the file.
    """
    path = Path(path)
    ck = load_checkpoint(path / CHECKPOINT_NAME if path.is_dir() else path)
    h = ck.header
    if h.get("format") != FORMAT or h.get("version") != 1:
        raise CheckpointError(f"load_checkpoint: '{ck.path}' is a {h.get('format')!r} file; "
                              f"expected a {FORMAT!r} training checkpoint (version 1).")
    try:
        config = TrainConfig(**h["config"])
        tokenizer = tokenizer_from_dict(h["tokenizer"])
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"load_checkpoint: '{ck.path}' has an unusable config or "
                              f"tokenizer ({exc}).") from None
    if tokenizer.fingerprint != h.get("tokenizer_fingerprint"):
        raise CheckpointError(f"load_checkpoint: '{ck.path}': the tokenizer does not match its "
                              "recorded fingerprint.")
    return ck, config, tokenizer
