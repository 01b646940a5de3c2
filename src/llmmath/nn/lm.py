"""What every language model of :mod:`llmmath.nn` shares: sampling and AdamW's parameter groups.

:class:`LanguageModel` is the base of :class:`~llmmath.nn.GPT` and
:class:`~llmmath.nn.Llama`. A subclass sets ``config`` (with ``block_size``
and ``vocab_size``) and implements ``forward(idx, targets=None)`` returning
``(logits, loss)``, the logits of the last position (B, 1, V) when no
targets are given; :meth:`LanguageModel.generate` then works unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_bool, check_int, check_rng
from llmmath.autograd import no_grad
from llmmath.errors import ShapeError
from llmmath.generate import generate as generate_with_cache
from llmmath.nn.module import Module
from llmmath.prob import sample

__all__ = ["LanguageModel"]


class LanguageModel(Module):
    """A next-token model: ``forward(idx, targets)`` -> ``(logits, loss)``; sampling on top.

    Lesson: none (a building block of the models).
    """

    config: Any

    def generate(self, idx: Any, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None,
                 min_p: float | None = None, rng: Any = None,
                 use_cache: bool = True) -> np.ndarray:
        """Extend each sequence by sampling one token at a time from the model.

        Lesson: ``training_loop`` (The complete training loop).

        The context is cropped to the last ``block_size`` tokens; each next
        token is drawn by :func:`llmmath.prob.sample` from the last position's
        logits (temperature 0 is greedy). Runs in eval mode (no dropout) and
        without recording a graph; the previous mode is restored.

        Parameters
        ----------
        idx : array_like of int, shape (B, T) or (T,)
        max_new_tokens : int
        temperature, top_k, top_p, min_p
            Passed to :func:`llmmath.prob.sample`.
        rng : numpy.random.Generator, int or None
        use_cache : bool
            True: keep each position's keys and values (:mod:`llmmath.generate`),
            so that a new token costs one position's work; False: run the
            whole context again for every token (nanoGPT's loop, below). The
            same tokens either way.

        Returns
        -------
        numpy.ndarray of int64, shape (B, T + max_new_tokens) (or (T + max_new_tokens,))
        """
        if check_bool(use_cache, "use_cache", "generate"):
            return generate_with_cache(self, idx, max_new_tokens, temperature, top_k, top_p,
                                       min_p, rng)
        n_new = check_int(max_new_tokens, "max_new_tokens", "generate", min_value=0)
        seq = as_int_array(idx, "idx", "generate", min_value=0,
                           max_value=self.config.vocab_size - 1)
        one_d = seq.ndim == 1
        seq = seq[None, :] if one_d else seq
        if seq.ndim != 2 or seq.shape[1] == 0:
            raise ShapeError(f"generate: 'idx' must have shape (B, T) or (T,) with T >= 1; got "
                             f"{np.shape(idx)}.")
        gen = check_rng(rng, "generate")
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(n_new):
                    logits, _ = self(seq[:, -self.config.block_size:])
                    nxt = sample(logits.data[:, -1, :], temperature=temperature, top_k=top_k,
                                 top_p=top_p, min_p=min_p, rng=gen)
                    seq = np.concatenate([seq, np.asarray(nxt, np.int64).reshape(-1, 1)], axis=1)
        finally:
            self.train(was_training)
        return seq[0] if one_d else seq

    def param_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        """nanoGPT's split for AdamW: decay matrices (2-D), not biases or norm gains."""
        params = self.parameters()
        return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
                {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
