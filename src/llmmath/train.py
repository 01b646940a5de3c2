"""The training loop: a GPT trained on a corpus with llmmath's own autograd engine.

One step is nanoGPT's: draw a batch of random windows, compute the mean
next-token cross-entropy, back-propagate, clip the gradient norm, take an
AdamW step at the learning rate of a warm-up + cosine schedule. Around it:

* **evaluation** every ``eval_interval`` steps: the mean loss on
  ``eval_iters`` batches of each split, drawn from a generator seeded afresh
  for every evaluation, so the estimate uses the same batches each time and
  never touches the training randomness;
* a **metrics log**: one JSON object per line (``metrics.jsonl``), appended and
  flushed as training goes, and a loss-curve PNG drawn from it;
* **checkpoints** (:mod:`llmmath.train_io`, :mod:`llmmath.checkpoint`) holding the configuration,
  the tokenizer, the weights, the optimiser's moments and the state of every
  random generator (batches and dropout), so that a resumed run continues
  bit for bit: 2 x 50 steps equal 100 steps exactly;
* **Ctrl-C**: the first SIGINT lets the current step finish, saves a
  checkpoint and returns (the command then says how to resume); a second one
  aborts at once, leaving the last checkpoint as it was.

Every hyper-parameter is a field of :class:`TrainConfig`; :data:`PRESETS`
holds named sets of them (``tiny``, ``baby``, ``small``).

References
----------
.. [1] A. Karpathy, nanoGPT, ``train.py`` and
   ``config/train_shakespeare_char.py`` (the loop, the schedule, the baby
   configuration and its CPU recipe), https://github.com/karpathy/nanoGPT.
.. [2] I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization",
   ICLR 2019 (AdamW).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import threading
import time
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llmmath import train_io
from llmmath._validation import check_choice, check_float, check_int, describe
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.train_io import (
    CHECKPOINT_NAME,
    METRICS_NAME,
    PLOT_NAME,
    LoadedModel,
    TrainingData,
    load_model,
    plot_loss_curve,
    prepare_data,
    read_metrics,
)

__all__ = [
    "TrainConfig", "config_types", "PRESETS", "RESUMABLE", "preset_config", "apply_overrides",
    "Trainer", "TrainResult", "Reporter", "train",
    # defined in llmmath.train_io, re-exported for convenience
    "TrainingData", "prepare_data", "LoadedModel", "load_model", "read_metrics",
    "plot_loss_curve", "CHECKPOINT_NAME", "METRICS_NAME", "PLOT_NAME",
]


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """Every setting of a training run (the defaults are the ``tiny`` preset)."""

    text: str | None = _f(None, "UTF-8 text file to train on (default: the Shakespeare corpus, "
                                "split by play)")
    tokenizer: str = _f("char", "'char' (one token per character) or 'bpe' (byte-level BPE)")
    vocab_size: int = _f(512, "BPE vocabulary size (ignored by the char tokenizer)")
    n_layer: int = _f(2, "transformer blocks")
    n_head: int = _f(2, "attention heads per block")
    n_embd: int = _f(64, "embedding width C")
    block_size: int = _f(32, "context length T")
    dropout: float = _f(0.0, "dropout probability while training")
    bias: bool = _f(True, "biases in Linear and LayerNorm layers")
    batch_size: int = _f(16, "sequences per step B")
    max_iters: int = _f(300, "optimiser steps in total")
    learning_rate: float = _f(3e-3, "peak learning rate")
    min_lr: float = _f(3e-4, "learning rate at the end of the cosine decay")
    warmup_iters: int = _f(20, "steps of linear warm-up")
    lr_decay_iters: int = _f(300, "step at which the cosine reaches min_lr")
    weight_decay: float = _f(0.1, "AdamW decoupled weight decay (matrices only)")
    beta1: float = _f(0.9, "AdamW beta1")
    beta2: float = _f(0.99, "AdamW beta2")
    grad_clip: float = _f(1.0, "clip the gradient norm to this (0 = no clipping)")
    eval_interval: int = _f(100, "evaluate (and checkpoint) every this many steps")
    eval_iters: int = _f(10, "batches per split in each loss estimate")
    log_interval: int = _f(1, "write a train record to metrics.jsonl every this many steps")
    seed: int = _f(1337, "seeds the weights, the dropout masks and the batches")
    dtype: str = _f("float32", "'float32' or 'float64'")
    out_dir: str = _f("out-tiny", "directory for the checkpoint, metrics.jsonl and loss.png")

    def __post_init__(self) -> None:
        op = "TrainConfig"
        for name, typ in config_types().items():
            value = getattr(self, name)
            if typ is int:
                check_int(value, name, op, min_value=0 if name in _ZERO_OK else 1)
            elif typ is float:
                check_float(value, name, op, min_value=0.0)
            elif typ is bool and not isinstance(value, (bool, np.bool_)):
                raise InvalidTypeError(f"{op}: '{name}' must be a bool; got {describe(value)}.")
            elif typ is str and not isinstance(value, str):
                raise InvalidTypeError(f"{op}: '{name}' must be a str; got {describe(value)}.")
        if self.text is not None and not isinstance(self.text, str):
            raise InvalidTypeError(f"{op}: 'text' must be a path (str) or None; got "
                                   f"{describe(self.text)}.")
        check_choice(self.tokenizer, "tokenizer", op, ("char", "bpe"))
        check_choice(self.dtype, "dtype", op, ("float32", "float64"))
        check_float(self.dropout, "dropout", op, min_value=0.0, max_value=1.0, max_inclusive=False)
        for b in ("beta1", "beta2"):
            check_float(getattr(self, b), b, op, min_value=0.0, max_value=1.0, max_inclusive=False)
        if self.n_embd % self.n_head:
            raise InvalidValueError(f"{op}: n_embd ({self.n_embd}) must be a multiple of n_head "
                                    f"({self.n_head}).")
        if self.tokenizer == "bpe" and self.vocab_size < 257:
            raise InvalidValueError(f"{op}: a byte-level BPE needs vocab_size >= 257 (256 bytes "
                                    f"+ merges); got {self.vocab_size}.")
        if self.lr_decay_iters < self.warmup_iters:
            raise InvalidValueError(f"{op}: lr_decay_iters ({self.lr_decay_iters}) must be >= "
                                    f"warmup_iters ({self.warmup_iters}).")


_ZERO_OK = {"max_iters", "warmup_iters", "lr_decay_iters", "seed"}


def config_types() -> dict[str, Any]:
    """Field name -> type (int, float, bool, str, or ``str | None``) of :class:`TrainConfig`."""
    hints = typing.get_type_hints(TrainConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(TrainConfig)}


#: Named configurations. ``baby`` is nanoGPT's CPU recipe for Shakespeare characters
#: (its shapes, 2000 steps, warm-up and cosine decay) with the peak learning rate
#: doubled to 2e-3: our corpus is four times nanoGPT's file and split by play, and
#: at 1e-3 the recipe ends at 1.91 nats/char on the validation plays (2e-3: 1.81).
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {},
    "baby": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, dropout=0.0,
                 max_iters=2000, learning_rate=2e-3, min_lr=2e-4, warmup_iters=100,
                 lr_decay_iters=2000, eval_interval=250, eval_iters=50, log_interval=10,
                 out_dir="out-baby"),
    "small": dict(n_layer=6, n_head=6, n_embd=192, block_size=128, batch_size=32, dropout=0.1,
                  max_iters=4000, learning_rate=1e-3, min_lr=1e-4, warmup_iters=200,
                  lr_decay_iters=4000, eval_interval=500, eval_iters=50, log_interval=10,
                  out_dir="out-small"),
}

#: Settings a resumed run may change; any other difference is an error.
RESUMABLE = frozenset({"max_iters", "eval_interval", "eval_iters", "log_interval", "out_dir",
                       "text"})


def preset_config(name: str = "tiny", **overrides: Any) -> TrainConfig:
    """The :class:`TrainConfig` of preset ``name`` with ``overrides`` applied.

    Examples
    --------
    >>> cfg = preset_config("baby", max_iters=10)
    >>> cfg.n_layer, cfg.block_size, cfg.max_iters
    (4, 64, 10)
    """
    check_choice(name, "name", "preset_config", tuple(PRESETS))
    return apply_overrides(TrainConfig(**PRESETS[name]), overrides)


def apply_overrides(config: TrainConfig, overrides: Mapping[str, Any] | None) -> TrainConfig:
    """A copy of ``config`` with some fields replaced (unknown names are an error)."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(config_types()))
    if unknown:
        raise InvalidValueError(f"TrainConfig: unknown setting(s) {unknown}; known: "
                                f"{', '.join(config_types())}.")
    return dataclasses.replace(config, **overrides)


# ---------------------------------------------------------------------------- trainer
class Trainer:
    """The state of a run (model, optimiser, generators, step) and one training step.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text("to be or not to be, that is the question. " * 40)
    >>> tr = Trainer(preset_config("tiny", text=str(p), block_size=8, n_embd=16, eval_iters=2))
    >>> losses = [tr.train_step() for _ in range(3)]
    >>> tr.step, len(losses)
    (3, 3)
    """

    def __init__(self, config: TrainConfig, data: TrainingData | None = None) -> None:
        from llmmath.nn import GPT, GPTConfig
        from llmmath.optim import AdamW

        if not isinstance(config, TrainConfig):
            raise InvalidTypeError(f"Trainer: argument 'config' must be a TrainConfig; got "
                                   f"{describe(config)}.")
        if config.text is not None:     # absolute, so that a resume works from anywhere
            config = dataclasses.replace(config, text=str(Path(config.text).expanduser().resolve()))
        self.config = c = config
        self.data = data if data is not None else prepare_data(c)
        self.gpt_config = GPTConfig(block_size=c.block_size, vocab_size=self.data.vocab_size,
                                    n_layer=c.n_layer, n_head=c.n_head, n_embd=c.n_embd,
                                    dropout=c.dropout, bias=c.bias)
        self.model = GPT(self.gpt_config, dtype=np.dtype(c.dtype),
                         rng=np.random.default_rng((c.seed, 0)))
        self.optimizer = AdamW(self.model.param_groups(c.weight_decay), lr=c.learning_rate,
                               betas=(c.beta1, c.beta2))
        self.batch_rng = np.random.default_rng((c.seed, 1))
        self.step = 0
        self.elapsed = 0.0   # training seconds before this session (from a checkpoint)

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
        from llmmath.optim import cosine_schedule

        c = self.config
        return cosine_schedule(step, c.learning_rate, c.min_lr, c.warmup_iters, c.lr_decay_iters)

    def train_step(self) -> float:
        """One optimiser step on a fresh batch; returns the batch loss (before the update)."""
        from llmmath.data import get_batch
        from llmmath.optim import clip_grad_norm

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
        from llmmath.autograd import no_grad
        from llmmath.data import get_batch

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

    def save(self, path: Any) -> Path:
        """Write the whole state to ``path`` atomically (:func:`llmmath.train_io.save_state`)."""
        return train_io.save_state(self, path)

    @classmethod
    def from_checkpoint(cls, path: Any, overrides: Mapping[str, Any] | None = None) -> Trainer:
        """Rebuild a run from its checkpoint; ``overrides`` may only change :data:`RESUMABLE`."""
        ck, saved, tokenizer = train_io.read_checkpoint(path)
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
        train_io.restore_state(self, ck)
        return self


# ---------------------------------------------------------------------------- the loop
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


def train(config: TrainConfig | None = None, *, resume: Any = None,
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
        against the checkpoint (only :data:`RESUMABLE` may differ).
    reporter : Reporter, optional
        Receives progress (the command passes a rich progress bar).
    plot : bool
        Draw ``loss.png`` at the end.

    Returns
    -------
    TrainResult
    """
    reporter = reporter or Reporter()
    if resume is not None:
        trainer = Trainer.from_checkpoint(resume, overrides)
    else:
        trainer = Trainer(apply_overrides(config or TrainConfig(), overrides))
    c, start = trainer.config, trainer.step
    out = Path(c.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt, metrics = out / CHECKPOINT_NAME, out / METRICS_NAME
    losses: dict[int, float] = {}
    evals: list[dict[str, float]] = []
    saved_at, interrupted, t_start = -1, False, time.perf_counter()
    tokens = c.batch_size * c.block_size
    with open(metrics, "a", encoding="utf-8") as log, _graceful_sigint() as flag:
        def write(record: dict[str, Any]) -> None:
            log.write(json.dumps(record) + "\n")
            log.flush()

        write({"kind": "resume" if resume is not None else "start", "step": start,
               "config": dataclasses.asdict(c)})
        reporter.start(trainer)
        try:
            while True:
                step = trainer.step
                if step % c.eval_interval == 0 or step == c.max_iters:
                    est = trainer.estimate_loss()
                    evals.append({"step": step, **est})
                    write({"kind": "eval", "step": step, **est})
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
                    write({"kind": "train", "step": step, "loss": loss, "lr": lr,
                           "tokens_per_s": tokens / dt, "elapsed": trainer.elapsed})
                reporter.update(step, loss, lr, tokens / dt)
            if trainer.step != saved_at and (interrupted or trainer.step > start):
                trainer.save(ckpt)
        finally:
            reporter.stop()
        if interrupted:
            write({"kind": "interrupt", "step": trainer.step})
    png = plot_loss_curve(read_metrics(metrics), out / PLOT_NAME) if plot else None
    return TrainResult(trainer, ckpt, metrics, png, losses, evals, interrupted,
                       time.perf_counter() - t_start)
