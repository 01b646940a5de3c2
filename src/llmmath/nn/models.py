"""The architectures by name: a configuration from its fields, a model from its configuration.

``"gpt2"`` is :class:`~llmmath.nn.GPT` (:class:`~llmmath.nn.GPTConfig`),
``"llama"`` is :class:`~llmmath.nn.Llama` (:class:`~llmmath.nn.LlamaConfig`).
The trainer and the checkpoint loader go through these two functions, so a
checkpoint records its architecture by name and its configuration as fields.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from llmmath._validation import check_choice
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.nn.gpt import GPT, GPTConfig
from llmmath.nn.llama import Llama, LlamaConfig

__all__ = ["ARCHITECTURES", "model_config", "build_model", "architecture"]

#: name -> (configuration class, model class)
ARCHITECTURES: dict[str, tuple[type, type]] = {
    "gpt2": (GPTConfig, GPT),
    "llama": (LlamaConfig, Llama),
}


def model_config(arch: str, **fields: Any) -> GPTConfig | LlamaConfig:
    """The configuration of architecture ``arch`` with ``fields``.

    Lesson: none (a building block of the models).

    Raises
    ------
    InvalidValueError
        An unknown architecture, or a field it does not have.

    Examples
    --------
    >>> model_config("llama", n_layer=2, n_embd=64, n_head=4).hidden_size
    192
    >>> model_config("gpt2", rope_theta=1.0)
    Traceback (most recent call last):
    ...
    llmmath.errors.InvalidValueError: model_config: 'gpt2' has no setting(s) ['rope_theta']; ...
    """
    arch = check_choice(arch, "arch", "model_config", tuple(ARCHITECTURES))
    cls = ARCHITECTURES[arch][0]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise InvalidValueError(f"model_config: {arch!r} has no setting(s) {unknown}; its "
                                f"settings are {', '.join(sorted(known))}.")
    return cls(**fields)


def architecture(config: Any) -> str:
    """The name of the architecture of a configuration or a model.

    Lesson: none (a building block of the models).

    Examples
    --------
    >>> architecture(GPTConfig()), architecture(LlamaConfig())
    ('gpt2', 'llama')
    """
    for name, (cfg_cls, model_cls) in ARCHITECTURES.items():
        if isinstance(config, (cfg_cls, model_cls)):
            return name
    raise InvalidTypeError(f"architecture: argument 'config' must be one of the configurations "
                           f"or models of {sorted(ARCHITECTURES)}; got {type(config).__name__}.")


def build_model(config: GPTConfig | LlamaConfig, *, dtype: Any = np.float32,
                rng: Any = None) -> GPT | Llama:
    """A fresh model of the architecture ``config`` belongs to.

    Lesson: none (a building block of the models).

    Examples
    --------
    >>> m = build_model(LlamaConfig(block_size=4, vocab_size=5, n_layer=1, n_head=1, n_embd=4),
    ...                 rng=0)
    >>> type(m).__name__, m.config.n_layer
    ('Llama', 1)
    """
    return ARCHITECTURES[architecture(config)][1](config, dtype=dtype, rng=rng)
