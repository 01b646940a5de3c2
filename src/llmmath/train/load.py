"""Opening a trained model: the model, its tokenizer and its configuration from a checkpoint.

:func:`load_model` is the one way in for evaluation, sampling and
inspection (``llmmath eval``, ``sample``, ``compare``, ``attention``); it is
also importable as ``llmmath.train.load_model``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llmmath.checkpoint import CheckpointError
from llmmath.nn import GPT, Llama, build_model, model_config
from llmmath.train.config import TrainConfig
from llmmath.train.data import Tokenizer
from llmmath.train.state import model_weights, read_checkpoint

__all__ = ["LoadedModel", "load_model"]


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A trained model ready to evaluate or sample from (see :func:`load_model`).

    Lesson: none (part of the training command).
    """

    model: GPT | Llama    # in eval mode (the architecture config.arch names)
    tokenizer: Tokenizer
    config: TrainConfig
    step: int
    path: Path            # the checkpoint file read
    header: dict


def load_model(path: str | os.PathLike[str] | LoadedModel) -> LoadedModel:
    """The model, tokenizer and configuration stored in a training checkpoint (a file or its
    ``out_dir``), the checksum verified; the model is in eval mode.

    Lesson: none (part of the training command).

    The architecture is the checkpoint's ``config.arch`` (``"gpt2"`` for
    checkpoints written before there was a choice), its sizes the header's
    ``gpt_config``.

    A :class:`LoadedModel` is returned as it is, so functions that take
    either a path or a loaded model call this once.

    Raises
    ------
    CheckpointError
        Missing, truncated, corrupted or foreign file (the message names it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from llmmath.train import Trainer, preset_config
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "t.txt").write_text("to be or not to be, that is the question. " * 40)
    >>> tr = Trainer(preset_config(text=str(d / "t.txt"), block_size=8, n_embd=16))
    >>> _ = tr.train_step(), tr.save(d / "ckpt.npz")
    >>> m = load_model(d)
    >>> m.step, m.model.training, m.tokenizer == tr.data.tokenizer
    (1, False, True)
    """
    if isinstance(path, LoadedModel):
        return path
    ck, config, tokenizer = read_checkpoint(path)
    try:
        model_cfg = model_config(config.arch, **ck.header["gpt_config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"load_checkpoint: '{ck.path}' has an unusable model "
                              f"configuration for arch {config.arch!r} ({exc}).") from None
    model = build_model(model_cfg, dtype=np.dtype(config.dtype), rng=0)
    try:
        model.load_state_dict(model_weights(ck))
    except ValueError as exc:      # weights of another shape than gpt_config says
        raise CheckpointError(f"load_checkpoint: '{ck.path}': its weights do not fit its "
                              f"gpt_config ({exc}).") from None
    model.eval()
    return LoadedModel(model, tokenizer, config, int(ck.header["step"]), ck.path, ck.header)
