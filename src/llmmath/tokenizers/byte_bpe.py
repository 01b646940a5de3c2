"""The byte-level BPE tokenizer that training runs and checkpoints use.

:class:`ByteBPETokenizer` is a face over :func:`~llmmath.tokenizers.learn_merges`
and :class:`~llmmath.tokenizers.Tokenizer` with what the training loop needs:
training from text in memory, ``int64`` arrays of ids, a JSON-ready dict form
and its fingerprint. Ids are laid out as in :func:`~llmmath.tokenizers.train_bpe`:
the 256 bytes, then one per merge, then the special tokens.

The dict form has two versions. Version 2 (written now) compiles ``pattern``
with the ``regex`` module and lists the special tokens. Version 1 (written
before the ``regex`` module was used) had no special tokens, and its pattern is
compiled with the standard ``re``, as when it was written, so that a model
trained then sees exactly the same ids; such a tokenizer writes version 1 back,
so its fingerprint does not change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_int, describe
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.tokenizers._common import check_dict, check_text, tokenizer_fingerprint, utf8
from llmmath.tokenizers.bpe import Tokenizer
from llmmath.tokenizers.bpe_train import count_pretokens, learn_merges
from llmmath.tokenizers.pretokenize import (
    GPT2_SPLIT_PATTERN,
    PreTokenizer,
    _check_special_tokens,
)

__all__ = ["ByteBPETokenizer"]


class ByteBPETokenizer:
    """Byte-level byte-pair encoding with merges given as pairs of token ids.

    Lesson: none (tokenizer machinery).

    Text is UTF-8 encoded and every byte is a token (ids 0..255), so any string,
    emoji and unseen scripts included, encodes and decodes exactly. Merge ``i``
    fuses the pair of ids ``merges[i]`` into the new token ``256 + i``; special
    tokens follow, from id ``256 + len(merges)``.

    Training (:meth:`train`) pre-tokenizes the text (GPT-2's pattern by default)
    and learns merges greedily by pair frequency, ties going to the
    lexicographically greater pair of byte strings (see
    :func:`~llmmath.tokenizers.learn_merges`). Encoding applies the merges by
    rank inside each pre-token, which reproduces training.

    Parameters
    ----------
    merges : sequence of (int, int)
        The learned pairs, in order (merge ``i`` may use tokens below ``256 + i``).
    pattern : str or None
        The pre-tokenization regex (``regex`` syntax); ``None`` keeps the text
        between special tokens whole. Text between matches becomes pre-tokens too,
        so no pattern can lose text.
    special_tokens : sequence of str
        Strings that are always one token (the longest wins where they overlap).

    Examples
    --------
    "aaabdaaabac": ``aa`` occurs 4 times (twice in each "aaa") and is merged
    first; then ``(aa, a)`` and ``(a, b)`` tie at 2, and ``(b"aa", b"a")`` is the
    greater pair; then ``aaa`` + ``b``.

    >>> tok = ByteBPETokenizer.train("aaabdaaabac", vocab_size=259, pattern=None)
    >>> tok.merges                        # 256 is 'aa', 257 is 'aaa'
    ((97, 97), (256, 97), (257, 98))
    >>> tok.encode("aaabdaaabac").tolist()
    [258, 100, 258, 97, 99]
    >>> tok.decode(tok.encode("naïve 🙂"))
    'naïve 🙂'
    >>> eot = ByteBPETokenizer(tok.merges, special_tokens=["<|endoftext|>"])
    >>> eot.encode("aaab<|endoftext|>").tolist(), eot.vocab_size
    ([258, 259], 260)
    """

    def __init__(self, merges: Iterable = (), pattern: str | None = GPT2_SPLIT_PATTERN,
                 special_tokens: Iterable[str] = ()) -> None:
        self._setup(merges, pattern, special_tokens, version=2)

    def _setup(self, merges: Iterable, pattern: Any, special_tokens: Iterable[str],
               version: int) -> None:
        op = "ByteBPETokenizer"
        if isinstance(merges, (str, bytes)) or not isinstance(merges, Iterable):
            raise InvalidTypeError(f"{op}: argument 'merges' must be a sequence of pairs of token "
                                   f"ids; got {describe(merges)}.")
        pairs = []
        for i, pair in enumerate(merges):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise InvalidValueError(f"{op}: argument 'merges' must hold pairs of token ids; "
                                        f"item {i} is {pair!r}.")
            a = check_int(pair[0], f"merges[{i}][0]", op, min_value=0, max_value=255 + i)
            b = check_int(pair[1], f"merges[{i}][1]", op, min_value=0, max_value=255 + i)
            pairs.append((a, b))
        self.merges = tuple(pairs)
        if pattern is not None and not isinstance(pattern, str):
            raise InvalidTypeError(f"{op}: argument 'pattern' must be a str or None; got "
                                   f"{describe(pattern)}.")
        compiled: Any = pattern
        if version == 1 and pattern is not None:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise InvalidValueError(f"{op}: argument 'pattern' is not a valid regex "
                                        f"({exc}).") from None
        self.pattern = pattern
        self.special_tokens = _check_special_tokens(special_tokens, op)
        self._version = version
        self.vocab = [bytes([i]) for i in range(256)]   # token id -> its bytes
        for a, b in self.merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        byte_merges = [(self.vocab[a], self.vocab[b]) for a, b in self.merges]
        self.vocab.extend(s.encode("utf-8") for s in self.special_tokens)
        self.tokenizer = Tokenizer(dict(enumerate(self.vocab)), byte_merges,
                                   self.special_tokens, pattern=compiled)

    @property
    def vocab_size(self) -> int:
        """``256 + len(merges) + len(special_tokens)``."""
        return len(self.vocab)

    # -- training ---------------------------------------------------------------
    @classmethod
    def train(cls, text: str, vocab_size: int, *, pattern: str | None = GPT2_SPLIT_PATTERN,
              min_frequency: int = 1, special_tokens: Iterable[str] = ()) -> ByteBPETokenizer:
        """Learn up to ``vocab_size - 256 - len(special_tokens)`` merges from ``text``.

        Parameters
        ----------
        text : str
            Training text (special tokens in it separate pre-tokens and are not
            counted).
        vocab_size : int
            The wanted vocabulary size, at least ``256 + len(special_tokens)``.
        pattern : str or None
            Pre-tokenization regex; ``None`` lets merges cross everything but
            special tokens.
        min_frequency : int
            Stop when the best pair occurs fewer times than this (>= 1).
        special_tokens : sequence of str
            They get the last ids.

        Returns
        -------
        ByteBPETokenizer
        """
        op = "ByteBPETokenizer.train"
        text = check_text(text, "text", op)
        utf8(text, op)                                      # a clear error for surrogates
        specials = _check_special_tokens(special_tokens, op)
        vocab_size = check_int(vocab_size, "vocab_size", op, min_value=256 + len(specials))
        min_frequency = check_int(min_frequency, "min_frequency", op, min_value=1)
        if pattern is not None and not isinstance(pattern, str):
            raise InvalidTypeError(f"{op}: argument 'pattern' must be a str or None; got "
                                   f"{describe(pattern)}.")
        pre = PreTokenizer(pattern, specials)
        step = 1 << 20          # count a long text piece by piece: smaller lists of pre-tokens
        slices = (text[i:i + step] for i in range(0, len(text), step))
        counts = count_pretokens(pre.safe_pieces(slices, step), pre)
        byte_merges = learn_merges({w.encode("utf-8"): c for w, c in counts.items()},
                                   vocab_size - 256 - len(specials), min_count=min_frequency)
        id_of = {bytes([i]): i for i in range(256)}
        merges = []
        for k, (a, b) in enumerate(byte_merges):
            merges.append((id_of[a], id_of[b]))
            id_of.setdefault(a + b, 256 + k)
        return cls(merges, pattern, specials)

    # -- encoding and decoding --------------------------------------------------
    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text`` (int64)."""
        ids = self.tokenizer.encode(check_text(text, "text", "ByteBPETokenizer.encode"))
        return np.array(ids, dtype=np.int64)

    def encode_iterable(self, iterable: Iterable[str]) -> Iterator[int]:
        """Lazily the ids of the concatenation of ``iterable`` (see
        :meth:`Tokenizer.encode_iterable`)."""
        return self.tokenizer.encode_iterable(iterable)

    def decode_bytes(self, ids: Any) -> bytes:
        """The bytes that the ids stand for."""
        ids = as_int_array(ids, "ids", "ByteBPETokenizer.decode", min_value=0,
                           max_value=self.vocab_size - 1)
        return self.tokenizer.decode_bytes(ids)

    def decode(self, ids: Any) -> str:
        """The text of the ids. Exact for the output of :meth:`encode`; an arbitrary
        id sequence may cut a UTF-8 character, which then decodes as U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # -- persistence ------------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-ready description (``from_dict`` inverts it); version 2, or 1 for a
        tokenizer read from a version-1 dict (see the module notes)."""
        d: dict[str, Any] = {"type": "byte_bpe", "version": self._version,
                             "pattern": self.pattern, "merges": [list(p) for p in self.merges]}
        if self._version >= 2:
            d["special_tokens"] = list(self.special_tokens)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ByteBPETokenizer:
        """The tokenizer :meth:`to_dict` described (version 1 or 2)."""
        op = "ByteBPETokenizer.from_dict"
        d = check_dict(d, "byte_bpe", (1, 2), ("pattern", "merges"), op)
        if d["version"] == 2 and "special_tokens" not in d:
            raise InvalidValueError(f"{op}: argument 'd' lacks the field(s) ['special_tokens'].")
        if not isinstance(d["merges"], (list, tuple)):
            raise InvalidTypeError(f"{op}: field 'merges' must be a list of pairs; got "
                                   f"{describe(d['merges'])}.")
        tok = cls.__new__(cls)
        tok._setup(d["merges"], d["pattern"], d.get("special_tokens", ()), version=d["version"])
        return tok

    @property
    def fingerprint(self) -> str:
        """SHA-256 of :meth:`to_dict` (see :func:`tokenizer_fingerprint`)."""
        return tokenizer_fingerprint(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ByteBPETokenizer) and other.to_dict() == self.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = "gpt2" if self.pattern == GPT2_SPLIT_PATTERN else self.pattern
        extra = f", special_tokens={list(self.special_tokens)!r}" if self.special_tokens else ""
        return f"ByteBPETokenizer(vocab_size={self.vocab_size}, pattern={shown!r}{extra})"
