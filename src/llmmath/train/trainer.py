"""A run on llmmath's own engine: the model, AdamW, the random generators, and one step.

The model is the architecture ``config.arch`` names (``"gpt2"``:
:class:`~llmmath.nn.GPT`; ``"llama"``: :class:`~llmmath.nn.Llama`), built
through :func:`llmmath.nn.model_config` and :func:`llmmath.nn.build_model`.

One step is nanoGPT's: draw a batch of random windows, compute the mean
next-token cross-entropy, back-propagate, clip the gradient norm, take an
AdamW step at the learning rate of a warm-up + cosine schedule.

The loop (:mod:`llmmath.train.loop`) asks a trainer for ``config``,
``step``, ``elapsed``, ``resumed_from``, ``lr_at``, ``train_step``,
``estimate_loss`` and ``save`` only, and the
checkpoint (:mod:`llmmath.train.state`) for the attributes of
:class:`~llmmath.train.state.RunState`; this module is the only part of
:mod:`llmmath.train`, besides :mod:`~llmmath.train.load`, that knows the model.

References
----------
.. [1] A. Karpathy, nanoGPT, ``train.py`` (the step, the schedule, the
   evaluation), https://github.com/karpathy/nanoGPT.
.. [2] I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization",
   ICLR 2019 (AdamW).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from llmmath._validation import describe
from llmmath.autograd import no_grad
from llmmath.data import get_batch
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.nn import build_model, model_config
from llmmath.optim import AdamW, clip_grad_norm, cosine_schedule
from llmmath.train.config import RESUMABLE, TrainConfig, apply_overrides, config_types
from llmmath.train.data import TrainingData, prepare_data
from llmmath.train.state import read_checkpoint, restore_state, save_state

__all__ = ["Trainer", "model_settings"]


def model_settings(config: TrainConfig, vocab_size: int) -> dict[str, Any]:
    """The fields of the model configuration (GPTConfig or LlamaConfig) a run of ``config`` builds.

    Examples
    --------
    >>> from llmmath.train import preset_config
    >>> model_settings(preset_config("tiny", arch="llama"), 65)["tie_embeddings"]
    True
    """
    c = config
    fields = dict(block_size=c.block_size, vocab_size=vocab_size, n_layer=c.n_layer,
                  n_head=c.n_head, n_embd=c.n_embd, dropout=c.dropout)
    if c.arch == "llama":
        return fields | dict(rope_theta=c.rope_theta, ffn_hidden=c.ffn_hidden or None,
                             tie_embeddings=c.tie_embeddings)
    return fields | dict(bias=c.bias)


class Trainer:
    """The state of a run (model, optimiser, generators, step) and one training step.

    Lesson: ``training_loop`` (The complete training loop).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text("to be or not to be, that is the question. " * 40)
    >>> from llmmath.train import preset_config
    >>> tr = Trainer(preset_config("tiny", text=str(p), block_size=8, n_embd=16, eval_iters=2))
    >>> losses = [tr.train_step() for _ in range(3)]
    >>> tr.step, len(losses)
    (3, 3)
    """

    def __init__(self, config: TrainConfig, data: TrainingData | None = None) -> None:
        if not isinstance(config, TrainConfig):
            raise InvalidTypeError(f"Trainer: argument 'config' must be a TrainConfig; got "
                                   f"{describe(config)}.")
        if config.text is not None:     # absolute, so that a resume works from anywhere
            config = dataclasses.replace(config, text=str(Path(config.text).expanduser().resolve()))
        self.config = c = config
        self.data = data if data is not None else prepare_data(c)
        self.gpt_config = model_config(c.arch, **model_settings(c, self.data.vocab_size))
        self.model = build_model(self.gpt_config, dtype=np.dtype(c.dtype),
                                 rng=np.random.default_rng((c.seed, 0)))
        self.optimizer = AdamW(self.model.param_groups(c.weight_decay), lr=c.learning_rate,
                               betas=(c.beta1, c.beta2))
        self.batch_rng = np.random.default_rng((c.seed, 1))
        self.step = 0
        self.elapsed = 0.0   # training seconds before this session (from a checkpoint)
        self.resumed_from: Path | None = None   # the checkpoint file, for a resumed run

    def generators(self) -> list[np.random.Generator]:
        """Every generator the run draws from: batches first, then the model's (dropout), in
        module order, each once."""
        gens, seen = [self.batch_rng], {id(self.batch_rng)}
        for module in self.model.modules():
            for value in vars(module).values():
                if isinstance(value, np.random.Generator) and id(value) not in seen:
                    seen.add(id(value))
                    gens.append(value)
        return gens

    def lr_at(self, step: int) -> float:
        """The learning rate of ``step`` (warm-up, then cosine decay to ``min_lr``)."""
        c = self.config
        return cosine_schedule(step, c.learning_rate, c.min_lr, c.warmup_iters, c.lr_decay_iters)

    def train_step(self) -> float:
        """One optimiser step on a fresh batch; returns the batch loss (before the update).

        Lesson: ``training_loop`` (The complete training loop).
        """
        c = self.config
        lr = self.lr_at(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.model.train()
        x, y = get_batch(self.data.train, c.block_size, c.batch_size, self.batch_rng)  # (B, T)
        _, loss = self.model(x, y)
        loss.backward()
        if c.grad_clip > 0:
            clip_grad_norm(self.model.parameters(), c.grad_clip)
        self.optimizer.step()
        self.optimizer.zero_grad()
        self.step += 1
        return loss.item()

    def estimate_loss(self) -> dict[str, float]:
        """Mean loss over ``eval_iters`` batches of train and val, dropout off.

        The batches come from a generator seeded by ``(seed, 2)`` anew on every
        call: each evaluation sees the same windows, and the training
        generators are not touched.
        """
        c = self.config
        rng = np.random.default_rng((c.seed, 2))
        out = {}
        self.model.eval()
        try:
            with no_grad():
                for split in ("train", "val"):
                    data = getattr(self.data, split)
                    out[split] = float(np.mean([
                        self.model(*get_batch(data, c.block_size, c.batch_size, rng))[1].item()
                        for _ in range(c.eval_iters)]))
        finally:
            self.model.train()
        return out

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the whole state to ``path`` atomically (:func:`llmmath.train.state.save_state`)."""
        return save_state(self, path)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str],
                        overrides: Mapping[str, Any] | None = None) -> Trainer:
        """Rebuild a run from its checkpoint; ``overrides`` may only change
        :data:`~llmmath.train.RESUMABLE` settings."""
        ck, saved, tokenizer = read_checkpoint(path)
        changed = {k: (getattr(saved, k), v) for k, v in (overrides or {}).items()
                   if k not in RESUMABLE and k in config_types() and getattr(saved, k) != v}
        if changed:
            what = "; ".join(f"{k}: checkpoint {a!r}, asked {b!r}" for k, (a, b) in changed.items())
            raise InvalidValueError(
                f"train --resume: '{ck.path}' was trained with other settings ({what}). A resumed "
                f"run may change only {', '.join(sorted(RESUMABLE))}; start a new run (another "
                "--out directory) to change the rest.")
        config = apply_overrides(saved, {"out_dir": str(ck.path.parent), **(overrides or {})})
        data = prepare_data(config, tokenizer)
        if data.sha256 != ck.header["data"]["sha256"]:
            raise InvalidValueError(f"train --resume: '{ck.path}' was trained on another text "
                                    f"than {data.corpus.name!r} (its SHA-256 differs); pass the "
                                    "same --text.")
        self = cls(config, data)
        restore_state(self, ck)
        self.resumed_from = ck.path
        return self
