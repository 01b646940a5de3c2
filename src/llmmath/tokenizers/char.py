"""One token per character: the smallest tokenizer, and the course's default.

The vocabulary is the sorted set of characters of the training text plus one
id for every character outside it, so the number of ids is small and a model's
loss in nats per token is directly nats per character.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_choice
from llmmath.errors import InvalidValueError
from llmmath.tokenizers._common import check_dict, check_text, tokenizer_fingerprint

__all__ = ["CharTokenizer"]


class CharTokenizer:
    """One token per character: the sorted characters get ids ``0 .. n-1``, and id
    ``n`` (:attr:`unk_id`, the last) stands for any character not in the set.

    Lesson: ``why_math`` (Why the mathematics matters).

    Parameters
    ----------
    chars : str
        The characters of the vocabulary (duplicates are dropped, order is sorted).

    Examples
    --------
    >>> tok = CharTokenizer.fit("hello")
    >>> tok.chars, tok.vocab_size
    ('ehlo', 5)
    >>> tok.encode("hole!").tolist()      # '!' is unknown: id 4
    [1, 3, 2, 0, 4]
    >>> tok.decode([1, 3, 2, 0, 4]) == "hole\\ufffd"   # the unknown id decodes to U+FFFD
    True
    """

    UNKNOWN_CHAR = "\ufffd"

    def __init__(self, chars: str) -> None:
        chars = check_text(chars, "chars", "CharTokenizer")
        self.chars = "".join(sorted(set(chars)))
        self._codepoints = np.array([ord(c) for c in self.chars], dtype=np.int64)
        self._table = np.array([*self._codepoints, ord(self.UNKNOWN_CHAR)], dtype="<u4")

    @classmethod
    def fit(cls, text: str) -> CharTokenizer:
        """The tokenizer whose vocabulary is the set of characters of ``text``."""
        return cls(check_text(text, "text", "CharTokenizer.fit"))

    @property
    def vocab_size(self) -> int:
        """Number of ids: the characters plus the unknown id."""
        return len(self.chars) + 1

    @property
    def unk_id(self) -> int:
        """The id of every character outside :attr:`chars`."""
        return len(self.chars)

    def encode(self, text: str, errors: str = "replace") -> np.ndarray:
        """Token ids of ``text``; ``errors="strict"`` refuses unknown characters
        (ValueError naming the first one and its index) instead of using :attr:`unk_id`."""
        op = "CharTokenizer.encode"
        text = check_text(text, "text", op)
        check_choice(errors, "errors", op, ("replace", "strict"))
        cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64)
        if len(self.chars) == 0:
            found = np.zeros(len(cp), dtype=bool)
            j = np.zeros(len(cp), dtype=np.int64)
        else:
            j = np.minimum(np.searchsorted(self._codepoints, cp), len(self.chars) - 1)
            found = self._codepoints[j] == cp
        if errors == "strict" and not found.all():
            at = int(np.argmin(found))
            raise InvalidValueError(f"{op}: argument 'text' has the character {text[at]!r} at "
                                    f"index {at}, which is not in the vocabulary.")
        return np.where(found, j, self.unk_id).astype(np.int64)

    def decode(self, ids: Any) -> str:
        """The text of a sequence of ids (each in ``[0, vocab_size)``)."""
        ids = as_int_array(ids, "ids", "CharTokenizer.decode", min_value=0,
                           max_value=self.vocab_size - 1).reshape(-1)
        return self._table[ids].tobytes().decode("utf-32-le", "surrogatepass")

    def to_dict(self) -> dict:
        """A JSON-ready description (``from_dict`` inverts it)."""
        return {"type": "char", "version": 1, "chars": self.chars}

    @classmethod
    def from_dict(cls, d: dict) -> CharTokenizer:
        """The tokenizer :meth:`to_dict` described."""
        d = check_dict(d, "char", (1,), ("chars",), "CharTokenizer.from_dict")
        return cls(check_text(d["chars"], "d['chars']", "CharTokenizer.from_dict"))

    @property
    def fingerprint(self) -> str:
        """SHA-256 of :meth:`to_dict` (see :func:`tokenizer_fingerprint`)."""
        return tokenizer_fingerprint(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and other.chars == self.chars

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"
