"""Will a training run fit in memory? An estimate made before anything is allocated.

A training step on llmmath's engine holds, in the configuration's dtype:

* the parameters four times over (the weights, their gradients and AdamW's
  two moments): ``4 N`` numbers, with ``N`` counted from the shapes (below);
* the activations every block keeps for the backward pass, about
  ``B T (34 C + 3 nh T)`` numbers per layer: the ``34 C`` of Korthikanti et
  al.'s count for a GPT block (inputs of the layer norms and of every
  matrix product, the MLP's 4C-wide hidden layer, the dropout masks) and the
  attention scores, weights and their gradient, ``nh T x T`` per sequence;
* the logits, their softmax and its gradient, ``3 B T V`` numbers.

Measured with :mod:`tracemalloc` on small models (tests/test_cli_messages.py),
the estimate lies between the true peak and about twice it: it refuses runs
that could not fit, never one that is close. ``N`` is counted for GPT-2's
shapes (nanoGPT): ``V C + T C`` for the embeddings, ``12 C^2 + 13 C`` per
block, ``2 C`` for the final norm and, untied, another ``V C`` for the head;
a Llama-style block (``3 C h`` with ``h`` about ``8 C / 3``, plus ``4 C^2``)
has about the same ``12 C^2`` (more for small ``C``, where ``h`` is rounded up
to a multiple of 32).

References
----------
.. [1] V. Korthikanti et al., "Reducing Activation Recomputation in Large
   Transformer Models", MLSys 2023, section 4.1 (activation memory per layer).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

__all__ = ["MemoryEstimate", "parameter_count", "estimate_training_memory", "available_memory",
           "format_bytes", "check_fits"]

#: Vocabulary assumed for a character tokenizer before the text is read (bytes' worth).
CHAR_VOCAB_GUESS = 256


@dataclass(frozen=True)
class MemoryEstimate:
    """What :func:`estimate_training_memory` found, in bytes (and the parameter count)."""

    parameters: int            # N
    parameter_bytes: int       # weights, gradients, two AdamW moments
    activation_bytes: int      # kept for backward, all layers, one batch
    logit_bytes: int           # logits, softmax, gradient

    @property
    def total(self) -> int:
        return self.parameter_bytes + self.activation_bytes + self.logit_bytes


def parameter_count(n_layer: int, n_embd: int, vocab_size: int, block_size: int) -> int:
    """Parameters of a GPT with an untied head: ``2 V C + T C + L (12 C^2 + 13 C) + 2 C``
    (within a factor of 4 of the count of every architecture here; see the module docstring).

    Examples
    --------
    >>> parameter_count(n_layer=2, n_embd=64, vocab_size=65, block_size=32)
    110464
    """
    L, C, V, T = int(n_layer), int(n_embd), int(vocab_size), int(block_size)
    return 2 * V * C + T * C + L * (12 * C * C + 13 * C) + 2 * C


def estimate_training_memory(config: Any, vocab_size: int | None = None) -> MemoryEstimate:
    """The memory one training step of ``config`` (a :class:`~llmmath.train.TrainConfig`) needs.

    Parameters
    ----------
    config : TrainConfig
        Uses ``n_layer, n_head, n_embd, block_size, batch_size, tokenizer, vocab_size, dtype``.
    vocab_size : int, optional
        The tokenizer's vocabulary when known; otherwise ``config.vocab_size`` for BPE and
        :data:`CHAR_VOCAB_GUESS` for characters.

    Examples
    --------
    >>> from llmmath.train import TrainConfig
    >>> e = estimate_training_memory(TrainConfig(), vocab_size=65)
    >>> e.parameters, format_bytes(e.total)
    (110464, '11.9 MB')
    >>> e.parameters - 65 * 64        # nanoGPT's GPT ties its head to the embedding
    106304
    """
    V = int(vocab_size if vocab_size is not None else
            config.vocab_size if config.tokenizer != "char" else CHAR_VOCAB_GUESS)
    L, nh, C = int(config.n_layer), int(config.n_head), int(config.n_embd)
    T, B = int(config.block_size), int(config.batch_size)
    size = 8 if str(config.dtype) == "float64" else 4
    n = parameter_count(L, C, V, T)
    acts = L * B * T * (34 * C + 3 * nh * T)
    return MemoryEstimate(n, 4 * n * size, acts * size, 3 * B * T * V * size)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux: ``MemAvailable``), or None if
    unknown (then no limit is applied)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def format_bytes(n: float) -> str:
    """``n`` bytes in decimal units, three significant figures.

    Examples
    --------
    >>> format_bytes(999), format_bytes(12_400_000), format_bytes(3.5e16)
    ('999 B', '12.4 MB', '35.0 PB')
    """
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 999.5 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}" if n >= 100 \
                else f"{n:.1f} {unit}"
        n /= 1000.0
    raise AssertionError("unreachable")


def check_fits(config: Any, vocab_size: int | None = None,
               available: int | None = None) -> MemoryEstimate:
    """Refuse (:class:`~llmmath.errors.InvalidValueError`) a run whose estimate exceeds the
    memory available; the message gives the estimate, its parts and the options to lower.

    Examples
    --------
    >>> from llmmath.train import TrainConfig
    >>> check_fits(TrainConfig(n_embd=1 << 20, n_head=1), available=8 * 10**9)
    Traceback (most recent call last):
    ...
    llmmath.errors.InvalidValueError: check_fits: this run needs about 422 TB of memory ...
    """
    from llmmath.errors import InvalidValueError

    est = estimate_training_memory(config, vocab_size)
    limit = available_memory() if available is None else available
    if limit is not None and est.total > limit:
        c = config
        raise InvalidValueError(
            f"check_fits: this run needs about {format_bytes(est.total)} of memory "
            f"({est.parameters:,} parameters: {format_bytes(est.parameter_bytes)} for the "
            f"weights, gradients and AdamW's moments; {format_bytes(est.activation_bytes)} of "
            f"activations for B={c.batch_size} x T={c.block_size} x C={c.n_embd} x "
            f"{c.n_layer} layers), and {format_bytes(limit)} is available. Make it smaller: "
            "n_embd, n_layer, block_size or batch_size.")
    return est
