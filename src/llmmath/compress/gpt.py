"""A trained GPT as a coding model: the chunks of a text advance as one batch.

The streams (chunks) advance together, one character per step, through a
key/value cache (:class:`llmmath.generate.CachedDecoder`, batch = streams):
a step feeds each stream's newest character and reads the logits of the
next. The decoder takes the same steps once it has decoded the characters
of that position, so encoder and decoder run the same matrix products on
the same shapes, which is what makes their floating-point results equal;
scoring the whole text in one pass while encoding would not be.

**The context.** Past ``block_size`` characters an exact crop would cost a
full ``block_size`` pass per character (see :mod:`llmmath.generate`). The
coder crops to the last ``block_size // 2`` characters instead, and the
cache then serves the next ``block_size // 2``: every character is
predicted from between ``block_size // 2 - 1`` and ``block_size - 1``
characters before it (the most recent ones), at about two positions' work.
The rule is part of the model's identity in the container.

Every stream starts from a newline (a text is read as if it began a line),
and only the logits of the tokenizer's ids are used (a padded vocabulary's
extra rows never occur). The tokenizer's unknown id is the escape.

Only character-level checkpoints can code text this way: a BPE model's
tokens are not characters.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from llmmath.compress.models import CodingModel, _check_streams
from llmmath.errors import InvalidValueError
from llmmath.generate import CachedDecoder
from llmmath.prob import softmax
from llmmath.tokenizers import CharTokenizer

__all__ = ["GPTModel"]


def file_sha256(path: Any) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class GPTModel(CodingModel):
    """A GPT and its character tokenizer (from :func:`llmmath.train.load_model`, or built).

    Parameters
    ----------
    model : llmmath.nn.GPT
    tokenizer : CharTokenizer
    identity : dict
        What the model is (for a checkpoint: the file's SHA-256).
    spec : str
        The name ``-m`` gives it (a checkpoint path).

    Examples
    --------
    >>> from llmmath.nn import GPT, GPTConfig
    >>> tok = CharTokenizer.fit("abc\\n")
    >>> net = GPT(GPTConfig(block_size=4, vocab_size=tok.vocab_size, n_layer=1, n_head=1,
    ...                     n_embd=8), rng=0)
    >>> m = GPTModel(net, tok, identity={"kind": "gpt", "seed": 0}, spec="tiny")
    >>> m.probs(m.start(3)).shape
    (3, 5)
    """

    def __init__(self, model: Any, tokenizer: Any, *, identity: dict, spec: str) -> None:
        if not isinstance(tokenizer, CharTokenizer):
            raise InvalidValueError(f"GPTModel: the checkpoint's tokenizer is {tokenizer!r}; "
                                    "compression needs a character-level model (train with "
                                    "--tokenizer char).")
        if model.config.vocab_size < tokenizer.vocab_size:
            raise InvalidValueError(f"GPTModel: the model has {model.config.vocab_size} "
                                    f"outputs for a tokenizer of {tokenizer.vocab_size} ids.")
        model.eval()
        self.model, self.tokenizer = model, tokenizer
        self.block_size = model.config.block_size
        self.alphabet = tokenizer.chars
        self.identity, self.spec = dict(identity), spec
        self.size_bytes = int(sum(p.data.nbytes for p in model.parameters()))
        self._start = int(tokenizer.encode("\n")[0]) if "\n" in tokenizer.chars else 0
        self.keep = max(1, self.block_size // 2)          # the crop (see the module docstring)
        self.identity.setdefault("context", f"cached, crop to the last {self.keep} of "
                                            f"{self.block_size}")

    @classmethod
    def from_checkpoint(cls, path: Any) -> GPTModel:
        """Load a training checkpoint (a file or its directory); the spec is its absolute path."""
        # The training stack is imported here, not at the top: the n-gram models, which are
        # the default, must work without loading it.
        from llmmath.train import load_model

        loaded = load_model(path)
        sha = file_sha256(loaded.path)
        target = Path(path).resolve()
        return cls(loaded.model, loaded.tokenizer, spec=str(target),
                   identity={"kind": "gpt", "checkpoint_sha256": sha, "step": loaded.step})

    def start(self, n_streams: int) -> dict:
        n = _check_streams(n_streams, "GPTModel.start")
        decoder = CachedDecoder(self.model, batch=n, keep=self.keep)
        return {"decoder": decoder, "new": np.full((n, 1), self._start, dtype=np.int64),
                "probs": None}

    def probs(self, state: dict) -> np.ndarray:
        if state["new"] is not None:                                    # feed, once per step
            logits = state["decoder"].feed(state["new"])                # (n, V_model)
            z = logits[:, :self.tokenizer.vocab_size].astype(np.float64)
            state["probs"], state["new"] = softmax(z, axis=-1), None
        return state["probs"]

    def update(self, state: dict, chars: list[str]) -> None:
        if state["new"] is not None:            # a step whose probabilities were never read
            self.probs(state)
        state["new"] = self.tokenizer.encode("".join(chars))[:, None]   # (n, 1)
