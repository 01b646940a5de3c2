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
           "read_checkpoint", "check_header", "model_weights"]

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

    Lesson: none (part of the training command).

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
    freshly built ``run`` of the same configuration.

    Lesson: none (part of the training command).
    """
    try:
        run.model.load_state_dict(model_weights(ck))
        run.optimizer.load_state_dict(from_tree(ck.header["optimizer"], ck.arrays))
    except (InvalidValueError, TypeError, KeyError) as exc:    # a header that lies
        raise CheckpointError(f"train --resume: '{ck.path}' does not fit the model its "
                              f"configuration builds ({exc}).") from None
    gens, states = run.generators(), ck.header["rng"]
    if len(gens) != len(states):
        raise InvalidValueError(f"train --resume: '{ck.path}' holds {len(states)} generator "
                                f"states; this model uses {len(gens)}.")
    for g, state in zip(gens, states, strict=True):
        g.bit_generator.state = state
    run.step, run.elapsed = int(ck.header["step"]), float(ck.header["elapsed"])


def read_checkpoint(path: str | os.PathLike[str]) -> tuple[Checkpoint, TrainConfig, Tokenizer]:
    """Load and check a training checkpoint (a file, or the ``out_dir`` holding ``ckpt.npz``).

    Lesson: none (part of the training command).

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
    check_header(ck)
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


# What every header must hold, with the JSON type of each entry.
_HEADER_TYPES = {"step": int, "elapsed": (int, float), "config": dict, "gpt_config": dict,
                 "tokenizer": dict, "tokenizer_fingerprint": str, "data": dict,
                 "optimizer": dict, "rng": list}


def check_header(ck: Checkpoint) -> None:
    """Refuse a header that passed the checksum but cannot be a run's: a missing entry, a
    wrong type, a negative step or time, a model far larger than the weights in the file.

    The checksum proves the file is the one written, not that its writer was sane (a
    hand-edited or foreign file can be checksummed too). Every refusal is a
    :class:`~llmmath.checkpoint.CheckpointError` naming the file and the entry.
    """
    import math

    from llmmath.train.memory import parameter_count

    h, where = ck.header, f"load_checkpoint: '{ck.path}'"
    missing = [k for k in _HEADER_TYPES if k not in h]
    if missing:
        raise CheckpointError(f"{where} is not a complete training checkpoint: its header has "
                              f"no {', '.join(missing)}.")
    for key, typ in _HEADER_TYPES.items():
        value = h[key]
        if not isinstance(value, typ) or isinstance(value, bool):
            kind = {"step": "an integer", "elapsed": "a number", "rng": "a list",
                    "tokenizer_fingerprint": "a string"}.get(key, "a mapping")
            raise CheckpointError(f"{where}: header entry '{key}' is {value!r:.60}, not {kind}.")
    if h["step"] < 0 or not (math.isfinite(h["elapsed"]) and h["elapsed"] >= 0):
        raise CheckpointError(f"{where}: header says step {h['step']} after {h['elapsed']} "
                              "seconds; both must be >= 0.")
    if not all(isinstance(s, dict) for s in h["rng"]):
        raise CheckpointError(f"{where}: header entry 'rng' must be a list of generator states.")
    g = h["gpt_config"]
    sizes = {k: g.get(k) for k in ("n_layer", "n_embd", "vocab_size", "block_size")}
    bad = [k for k, v in sizes.items() if not isinstance(v, int) or isinstance(v, bool) or v < 1]
    if bad:
        raise CheckpointError(f"{where}: gpt_config has no usable "
                              f"{', '.join(f'{k} ({sizes[k]!r})' for k in bad)}.")
    stored = sum(int(a.size) for k, a in ck.arrays.items() if k.startswith("model/"))
    implied = parameter_count(**sizes)
    if implied > 4 * stored + 10**6:   # legitimate counts of every architecture lie within 4x
        raise CheckpointError(f"{where}: gpt_config describes a model of about {implied:,} "
                              f"parameters, but the file holds {stored:,} weights.")
