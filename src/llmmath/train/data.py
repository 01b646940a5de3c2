"""A run's data: the corpus of a :class:`~llmmath.train.TrainConfig`, its tokenizer, its splits.

The tokenizer is fitted on the train split only (a BPE trained on all of the
text would have seen the test plays). The SHA-256 of the corpus text goes
into every checkpoint, so that a resumed run, and an evaluation, can tell
whether they read the text the run was trained on.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from llmmath.data import Corpus, encode_corpus, load_corpus, load_text
from llmmath.errors import InvalidValueError
from llmmath.tokenizers import ByteBPETokenizer, CharTokenizer
from llmmath.train.config import TrainConfig

__all__ = ["TrainingData", "prepare_data", "text_sha256", "with_bits_per_char"]

Tokenizer = CharTokenizer | ByteBPETokenizer


@dataclass(frozen=True, eq=False)
class TrainingData:
    """A corpus, its tokenizer and the token ids of each split.

    Lesson: none (part of the training command).
    """

    corpus: Corpus
    tokenizer: Tokenizer
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    sha256: str              # of the corpus text (see text_sha256)

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.vocab_size)

    def chars_per_token(self, split: str) -> float:
        """Characters of ``split``'s text per token it encodes to: 1 for the char tokenizer,
        more for a BPE (each token spells a few characters on average)."""
        n = len(getattr(self, split))
        return len(getattr(self.corpus, split)) / n if n else 1.0


def with_bits_per_char(losses: Mapping[str, float], data: TrainingData) -> dict[str, float]:
    """``losses`` (mean nats per token, by split) with ``<split>_bits_per_char`` beside each.

    .. math:: \\text{bits/char} = \\frac{\\text{nats/token}}{\\ln 2}
              \\cdot \\frac{\\text{tokens}}{\\text{chars}}

    with tokens and characters counted over the whole split, so models with
    different tokenizers land on one scale: a BPE model's loss per token is
    larger because each token carries more text. (The loss is a mean over
    sampled windows; the ratio is the split's.)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from llmmath.train import TrainConfig
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text("to be or not to be, that is the question. " * 40)
    >>> d = prepare_data(TrainConfig(text=str(p), block_size=8))
    >>> with_bits_per_char({"val": math.log(4)}, d)     # char tokens: log2(4) bits each
    {'val': 1.3862943611198906, 'val_bits_per_char': 2.0}
    """
    out = dict(losses)
    for split, nats in losses.items():
        if split in ("train", "val", "test"):
            out[f"{split}_bits_per_char"] = nats / math.log(2) / data.chars_per_token(split)
    return out


def text_sha256(text: str) -> str:
    """The fingerprint a checkpoint records of its corpus: SHA-256 of the UTF-8 text, in hex.

    Examples
    --------
    >>> text_sha256("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def prepare_data(config: TrainConfig, tokenizer: Tokenizer | None = None) -> TrainingData:
    """Load the corpus of ``config``, fit its tokenizer on the train split (unless given), encode.

    Lesson: ``training_loop`` (The complete training loop).

    Raises
    ------
    ValueError
        An empty or non-UTF-8 text file, or a train/val split too short for one
        window of ``block_size`` tokens plus its target.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text("to be or not to be, that is the question. " * 40)
    >>> d = prepare_data(TrainConfig(text=str(p), block_size=8))
    >>> d.tokenizer.decode(d.train[:12])                    # one token per character
    'to be or not'
    >>> len(d.train) + len(d.val) + len(d.test) == len(d.corpus.text)
    True
    """
    corpus = load_corpus() if config.text is None else load_text(config.text)
    if tokenizer is None:
        tokenizer = (CharTokenizer.fit(corpus.train) if config.tokenizer == "char"
                     else ByteBPETokenizer.train(corpus.train, config.vocab_size))
    enc = encode_corpus(corpus, tokenizer)
    for split in ("train", "val"):
        n = len(getattr(enc, split))
        if n <= config.block_size:
            raise InvalidValueError(
                f"train: the {split} split of {corpus.name!r} has {n} tokens, but block_size="
                f"{config.block_size} needs at least {config.block_size + 1} (a window and its "
                "shifted target); use a smaller block_size or a longer text.")
    return TrainingData(corpus, tokenizer, enc.train, enc.val, enc.test, text_sha256(corpus.text))
