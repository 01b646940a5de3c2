"""The settings of a training run: :class:`TrainConfig`, the named presets, the overrides.

Every other module of :mod:`llmmath.train` imports this one and it imports
none of them, nor the model: a configuration can be built, checked and
written into a checkpoint header without the engine that will train it.

References
----------
.. [1] A. Karpathy, nanoGPT, ``config/train_shakespeare_char.py`` and the
   README's CPU command (the ``baby`` preset), https://github.com/karpathy/nanoGPT.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmmath._validation import check_choice, check_float, check_int, describe
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = ["TrainConfig", "config_types", "PRESETS", "RESUMABLE", "preset_config",
           "apply_overrides"]


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """Every setting of a training run (the defaults are the ``tiny`` preset).

    Lesson: none (part of the training command).

    Each field's ``help`` (``dataclasses.fields(TrainConfig)[i].metadata``)
    becomes the help of its command-line option.

    Examples
    --------
    >>> TrainConfig(n_layer=3).n_layer, TrainConfig().tokenizer, TrainConfig().arch
    (3, 'char', 'gpt2')
    >>> TrainConfig(n_embd=30, n_head=4)
    Traceback (most recent call last):
    ...
    llmmath.errors.InvalidValueError: TrainConfig: n_embd (30) must be a multiple of n_head (4).
    """

    text: str | None = _f(None, "UTF-8 text file to train on (default: the Shakespeare corpus, "
                                "split by play)")
    tokenizer: str = _f("char", "'char' (one token per character) or 'bpe' (byte-level BPE)")
    vocab_size: int = _f(512, "BPE vocabulary size (ignored by the char tokenizer)")
    arch: str = _f("gpt2", "'gpt2' (LayerNorm, learned positions, GELU, biases) or 'llama' "
                           "(RMSNorm, rotary positions, SwiGLU, no biases)")
    n_layer: int = _f(2, "transformer blocks")
    n_head: int = _f(2, "attention heads per block")
    n_embd: int = _f(64, "embedding width C")
    block_size: int = _f(32, "context length T")
    dropout: float = _f(0.0, "dropout probability while training")
    bias: bool = _f(True, "biases in Linear and LayerNorm layers (gpt2; llama has none)")
    rope_theta: float = _f(10000.0, "llama: base of the rotary frequencies theta^(-2i/hs)")
    ffn_hidden: int = _f(0, "llama: width of the SwiGLU layer (0: Meta's rule, 2/3 of 4 n_embd "
                            "rounded up to a multiple of 32)")
    tie_embeddings: bool = _f(True, "llama: the output layer shares the token embedding "
                                    "(gpt2 always does)")
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
    eval_interval: int = _f(100, "estimate the train and val loss every this many steps")
    checkpoint_interval: int = _f(100, "save ckpt.npz every this many steps (and always at "
                                       "the end, and on Ctrl-C, SIGTERM or SIGHUP)")
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
        check_choice(self.arch, "arch", op, ("gpt2", "llama"))
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
        self._check_arch(op)


    def _check_arch(self, op: str) -> None:
        """llama's own settings, and refusing them for gpt2 rather than ignoring them (``bias``
        is gpt2's: llama has no biases whatever it says)."""
        if self.arch == "llama":
            check_float(self.rope_theta, "rope_theta", op, min_value=0.0, min_inclusive=False)
            if (self.n_embd // self.n_head) % 2:
                raise InvalidValueError(f"{op}: arch 'llama' needs an even head size (RoPE "
                                        f"rotates pairs); n_embd / n_head = "
                                        f"{self.n_embd // self.n_head}.")
            return
        defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
        changed = [k for k in ("rope_theta", "ffn_hidden", "tie_embeddings")
                   if getattr(self, k) != defaults[k]]
        if changed:
            raise InvalidValueError(f"{op}: the setting(s) {', '.join(changed)} apply only to "
                                    f"arch 'llama' (arch is {self.arch!r}).")


_ZERO_OK = {"max_iters", "warmup_iters", "lr_decay_iters", "seed", "ffn_hidden"}


def config_types() -> dict[str, Any]:
    """Field name -> type (int, float, bool, str, or ``str | None``) of :class:`TrainConfig`.

    Lesson: none (part of the training command).

    Examples
    --------
    >>> t = config_types()
    >>> t["n_layer"], t["dropout"], t["bias"]
    (<class 'int'>, <class 'float'>, <class 'bool'>)
    """
    hints = typing.get_type_hints(TrainConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(TrainConfig)}


#: Named configurations. ``baby`` is nanoGPT's CPU recipe for Shakespeare characters
#: (its shapes, 2000 steps, warm-up and cosine decay) with the peak learning rate
#: doubled to 2e-3: our corpus is four times nanoGPT's file and split by play, and
#: at 1e-3 the recipe ends at 1.91 nats/char on the validation plays (2e-3: 1.81).
#: ``small`` checkpoints twice per evaluation: a run killed outright (``kill -9``, a
#: power cut) loses at most ``checkpoint_interval`` steps; a signal loses none.
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {},
    "baby": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, dropout=0.0,
                 max_iters=2000, learning_rate=2e-3, min_lr=2e-4, warmup_iters=100,
                 lr_decay_iters=2000, eval_interval=250, checkpoint_interval=250,
                 eval_iters=50, log_interval=10, out_dir="out-baby"),
    "small": dict(n_layer=6, n_head=6, n_embd=192, block_size=128, batch_size=32, dropout=0.1,
                  max_iters=4000, learning_rate=1e-3, min_lr=1e-4, warmup_iters=200,
                  lr_decay_iters=4000, eval_interval=500, checkpoint_interval=250,
                  eval_iters=50, log_interval=10, out_dir="out-small"),
}

#: Settings a resumed run may change; any other difference is an error.
RESUMABLE = frozenset({"max_iters", "eval_interval", "checkpoint_interval", "eval_iters",
                       "log_interval", "out_dir", "text"})


def preset_config(name: str = "tiny", **overrides: Any) -> TrainConfig:
    """The :class:`TrainConfig` of preset ``name`` with ``overrides`` applied.

    Lesson: ``training_loop`` (The complete training loop).

    Examples
    --------
    >>> cfg = preset_config("baby", max_iters=10)
    >>> cfg.n_layer, cfg.block_size, cfg.max_iters
    (4, 64, 10)
    """
    check_choice(name, "name", "preset_config", tuple(PRESETS))
    return apply_overrides(TrainConfig(**PRESETS[name]), overrides)


def apply_overrides(config: TrainConfig, overrides: Mapping[str, Any] | None) -> TrainConfig:
    """A copy of ``config`` with some fields replaced (unknown names are an error).

    Lesson: none (part of the training command).

    Examples
    --------
    >>> apply_overrides(TrainConfig(), {"n_layer": 3}).n_layer
    3
    >>> apply_overrides(TrainConfig(), {"n_layers": 3})
    Traceback (most recent call last):
    ...
    llmmath.errors.InvalidValueError: TrainConfig: unknown setting(s) ['n_layers']; known: ...
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(config_types()))
    if unknown:
        raise InvalidValueError(f"TrainConfig: unknown setting(s) {unknown}; known: "
                                f"{', '.join(config_types())}.")
    return dataclasses.replace(config, **overrides)
