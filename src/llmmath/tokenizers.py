"""Tokenizers: characters, and byte-level byte-pair encoding (BPE) trained from scratch.

Both tokenizers map a ``str`` to an ``int64`` array of token ids and back, and
serialise to a plain dict (JSON-ready) with :meth:`to_dict` / :meth:`from_dict`.
Their :attr:`fingerprint` (a SHA-256 of that dict) lets a checkpoint notice that
it is being used with a different tokenizer.

References
----------
.. [1] P. Gage, "A new algorithm for data compression", C Users Journal 12(2), 1994
   (byte-pair encoding as compression).
.. [2] R. Sennrich, B. Haddow and A. Birch, "Neural machine translation of rare
   words with subword units", ACL 2016 (BPE for vocabularies).
.. [3] A. Radford et al., "Language models are unsupervised multitask learners",
   OpenAI 2019 (byte-level BPE and the pre-split pattern of GPT-2).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_choice, check_int, describe
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = [
    "CharTokenizer",
    "ByteBPETokenizer",
    "GPT2_SPLIT_PATTERN",
    "tokenizer_from_dict",
    "tokenizer_fingerprint",
]

#: GPT-2's pre-split rule written for the standard library's ``re``: contractions,
#: runs of letters, of digits or of other symbols (each with one optional leading
#: space), and whitespace. ``re`` lacks ``\p{L}``/``\p{N}``, so letters are
#: ``[^\W\d_]`` and numbers ``\d`` (decimal digits only) -- an approximation.
GPT2_SPLIT_PATTERN = (
    r"'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"
)


def _check_text(text: Any, name: str, op: str) -> str:
    if not isinstance(text, str):
        raise InvalidTypeError(f"{op}: argument '{name}' must be a str; got {describe(text)}.")
    return text


def _utf8(text: str, op: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate has no UTF-8 form
        raise InvalidValueError(f"{op}: argument 'text' has the unpaired surrogate "
                                f"{text[exc.start]!r} at index {exc.start}; it has no UTF-8 "
                                "encoding.") from None


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """SHA-256 (hex) of a tokenizer's canonical JSON form.

    Two tokenizers get the same fingerprint exactly when their ``to_dict()`` agree.

    Examples
    --------
    >>> a, b = CharTokenizer.fit("abc"), CharTokenizer.fit("cab")
    >>> tokenizer_fingerprint(a) == tokenizer_fingerprint(b)
    True
    >>> len(tokenizer_fingerprint(a))
    64
    """
    if not hasattr(tokenizer, "to_dict"):
        raise InvalidTypeError("tokenizer_fingerprint: argument 'tokenizer' must have a to_dict() "
                               f"method; got {describe(tokenizer)}.")
    blob = json.dumps(tokenizer.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def tokenizer_from_dict(d: Any) -> CharTokenizer | ByteBPETokenizer:
    """Rebuild whichever tokenizer ``d`` describes (its ``"type"`` field decides).

    Examples
    --------
    >>> tok = tokenizer_from_dict(CharTokenizer.fit("hi").to_dict())
    >>> tok.decode(tok.encode("hih"))
    'hih'
    """
    if not isinstance(d, dict):
        raise InvalidTypeError(f"tokenizer_from_dict: argument 'd' must be a dict; got {describe(d)}.")
    kinds = {"char": CharTokenizer, "byte_bpe": ByteBPETokenizer}
    kind = check_choice(d.get("type"), "d['type']", "tokenizer_from_dict", tuple(kinds))
    return kinds[kind].from_dict(d)


def _check_dict(d: Any, kind: str, keys: tuple[str, ...], op: str) -> dict:
    if not isinstance(d, dict):
        raise InvalidTypeError(f"{op}: argument 'd' must be a dict; got {describe(d)}.")
    if d.get("type") != kind or d.get("version") != 1:
        raise InvalidValueError(f"{op}: argument 'd' describes type {d.get('type')!r} version "
                                f"{d.get('version')!r}; expected type {kind!r} version 1.")
    missing = [k for k in keys if k not in d]
    if missing:
        raise InvalidValueError(f"{op}: argument 'd' lacks the field(s) {missing}.")
    return d


# ---------------------------------------------------------------------- characters
class CharTokenizer:
    """One token per character: the sorted characters get ids ``0 .. n-1``, and id
    ``n`` (:attr:`unk_id`, the last) stands for any character not in the set.

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
        chars = _check_text(chars, "chars", "CharTokenizer")
        self.chars = "".join(sorted(set(chars)))
        self._codepoints = np.array([ord(c) for c in self.chars], dtype=np.int64)
        self._table = np.array([*self._codepoints, ord(self.UNKNOWN_CHAR)], dtype="<u4")

    @classmethod
    def fit(cls, text: str) -> CharTokenizer:
        """The tokenizer whose vocabulary is the set of characters of ``text``."""
        return cls(_check_text(text, "text", "CharTokenizer.fit"))

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
        text = _check_text(text, "text", op)
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
        d = _check_dict(d, "char", ("chars",), "CharTokenizer.from_dict")
        return cls(_check_text(d["chars"], "d['chars']", "CharTokenizer.from_dict"))

    @property
    def fingerprint(self) -> str:
        """SHA-256 of :meth:`to_dict` (see :func:`tokenizer_fingerprint`)."""
        return tokenizer_fingerprint(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and other.chars == self.chars

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


# ---------------------------------------------------------------------- byte-level BPE
def _merge_pair(ids: np.ndarray, start: np.ndarray, a: int, b: int, new: int,
                *extra: np.ndarray) -> tuple[np.ndarray, ...]:
    """Replace each adjacent (a, b) inside a chunk by ``new``, left to right.

    ``start[i]`` marks the first token of a chunk; pairs never straddle chunks.
    In a run such as ``a a a`` (a == b) the pairs overlap and the leftmost wins:
    ``a a a -> new a``. ``extra`` arrays (per-token weights) shrink alongside.
    """
    pos = np.flatnonzero((ids[:-1] == a) & (ids[1:] == b) & ~start[1:])
    if a == b and len(pos) > 1:   # keep every other position of each run of overlaps
        i = np.arange(len(pos))
        run_begins = np.ones(len(pos), dtype=bool)
        run_begins[1:] = pos[1:] != pos[:-1] + 1
        first_of_run = np.maximum.accumulate(np.where(run_begins, i, 0))
        pos = pos[(i - first_of_run) % 2 == 0]
    keep = np.ones(len(ids), dtype=bool)
    keep[pos + 1] = False
    ids = ids.copy()
    ids[pos] = new
    return (ids[keep], start[keep], *(e[keep] for e in extra))


class ByteBPETokenizer:
    """Byte-level byte-pair encoding.

    Text is UTF-8 encoded and every byte is a token (ids 0..255), so any string,
    emoji and unseen scripts included, encodes and decodes exactly. Training
    learns merges: merge ``i`` fuses the adjacent pair ``merges[i]`` into the new
    token ``256 + i``.

    Training, one merge at a time:

    1. optionally pre-split the text with a regex (:data:`GPT2_SPLIT_PATTERN` by
       default), so merges never cross chunk boundaries (e.g. word + space);
    2. count every adjacent pair of tokens in every chunk, overlapping ones
       included (``a a a`` holds two ``a a``);
    3. merge the most frequent pair everywhere, left to right. **Ties go to the
       smallest pair** ``(a, b)`` in lexicographic order of ids;
    4. stop at ``vocab_size`` tokens, or earlier when no pair occurs
       ``min_frequency`` times.

    Identical chunks are counted once with their frequency as a weight, and each
    round's counting and merging are vectorised NumPy passes over the distinct
    chunks. Encoding applies the learned merges in the order they were learned
    (at each step the lowest-ranked pair present), which reproduces training.

    Parameters
    ----------
    merges : sequence of (int, int)
        The learned pairs, in order (merge ``i`` may use tokens below ``256 + i``).
    pattern : str or None
        The pre-split regex (Python ``re`` syntax); ``None`` keeps the text whole.
        Text between matches becomes chunks too, so no pattern can lose text.

    Examples
    --------
    >>> tok = ByteBPETokenizer.train("aaabdaaabac", vocab_size=259, pattern=None)
    >>> tok.merges                        # (97, 97) is 'aa', 256 is 'aa', 257 is 'ab'
    ((97, 97), (97, 98), (256, 257))
    >>> tok.encode("aaabdaaabac").tolist()
    [258, 100, 258, 97, 99]
    >>> tok.decode(tok.encode("naïve 🙂"))
    'naïve 🙂'
    """

    def __init__(self, merges: Iterable = (), pattern: str | None = GPT2_SPLIT_PATTERN) -> None:
        op = "ByteBPETokenizer"
        pairs = []
        for i, pair in enumerate(merges):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise InvalidValueError(f"{op}: merge {i} must be a pair of token ids; got {pair!r}.")
            a = check_int(pair[0], f"merges[{i}][0]", op, min_value=0, max_value=255 + i)
            b = check_int(pair[1], f"merges[{i}][1]", op, min_value=0, max_value=255 + i)
            pairs.append((a, b))
        self.merges = tuple(pairs)
        if pattern is not None and not isinstance(pattern, str):
            raise InvalidTypeError(f"{op}: argument 'pattern' must be a str or None; got "
                                   f"{describe(pattern)}.")
        try:
            self._regex = None if pattern is None else re.compile(pattern)
        except re.error as exc:
            raise InvalidValueError(f"{op}: argument 'pattern' is not a valid regex ({exc}).") from None
        self.pattern = pattern
        self.vocab = [bytes([i]) for i in range(256)]   # token id -> its bytes
        for a, b in self.merges:
            self.vocab.append(self.vocab[a] + self.vocab[b])
        v = self.vocab_size
        keys = np.array([a * v + b for a, b in self.merges], dtype=np.int64)
        self._rank_order = np.argsort(keys, kind="stable")
        self._sorted_keys = keys[self._rank_order]

    @property
    def vocab_size(self) -> int:
        """``256 + len(merges)``."""
        return 256 + len(self.merges)

    # -- helpers ------------------------------------------------------------
    def _chunks(self, text: str) -> list[str]:
        if self._regex is None:
            return [text] if text else []
        out, at = [], 0
        for m in self._regex.finditer(text):
            if m.start() > at:
                out.append(text[at:m.start()])
            if m.end() > m.start():
                out.append(m.group())
            at = max(at, m.end())
        if at < len(text):
            out.append(text[at:])
        return out

    @staticmethod
    def _pack(chunks: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """All chunks' bytes end to end, and the mark of each chunk's first byte."""
        ids = np.frombuffer(b"".join(chunks), dtype=np.uint8).astype(np.int64)
        start = np.zeros(len(ids) + 1, dtype=bool)
        start[np.cumsum([0, *(len(c) for c in chunks)])] = True
        return ids, start[:-1]

    # -- training -----------------------------------------------------------
    @classmethod
    def train(cls, text: str, vocab_size: int, *, pattern: str | None = GPT2_SPLIT_PATTERN,
              min_frequency: int = 1) -> ByteBPETokenizer:
        """Learn ``vocab_size - 256`` merges (or fewer) from ``text``.

        Parameters
        ----------
        text : str
            Training text.
        vocab_size : int
            The wanted vocabulary size, at least 256 (the bytes).
        pattern : str or None
            Pre-split regex; ``None`` lets merges cross everything.
        min_frequency : int
            Stop when the best pair occurs fewer times than this (>= 1).

        Returns
        -------
        ByteBPETokenizer
        """
        op = "ByteBPETokenizer.train"
        text = _check_text(text, "text", op)
        vocab_size = check_int(vocab_size, "vocab_size", op, min_value=256)
        min_frequency = check_int(min_frequency, "min_frequency", op, min_value=1)
        chunk_counts: dict[str, int] = {}
        for c in cls([], pattern)._chunks(text):
            chunk_counts[c] = chunk_counts.get(c, 0) + 1
        chunks = [_utf8(c, op) for c in chunk_counts]
        ids, start = cls._pack(chunks)
        weight = np.repeat(np.array(list(chunk_counts.values()), dtype=np.float64),
                           [len(c) for c in chunks])           # each byte carries its chunk's count
        V, merges = vocab_size, []
        for new in range(256, vocab_size):
            if len(ids) < 2:
                break
            keys = np.where(start[1:], V * V, ids[:-1] * V + ids[1:])   # V*V: a chunk boundary
            if V * V <= 1 << 22:
                counts = np.bincount(keys, weights=weight[:-1], minlength=V * V + 1)[:-1]
                best = int(np.argmax(counts))                # first maximum = smallest pair
                best_count = counts[best]
            else:
                distinct, inverse = np.unique(keys, return_inverse=True)
                counts = np.bincount(inverse.reshape(-1), weights=weight[:-1])
                counts[distinct == V * V] = 0
                j = int(np.argmax(counts))
                best, best_count = int(distinct[j]), counts[j]
            if best_count < min_frequency:
                break
            a, b = divmod(best, V)
            merges.append((a, b))
            ids, start, weight = _merge_pair(ids, start, a, b, new, weight)
        return cls(merges, pattern)

    # -- encoding -----------------------------------------------------------
    def encode(self, text: str) -> np.ndarray:
        """Token ids of ``text`` (int64): its UTF-8 bytes with the merges applied."""
        op = "ByteBPETokenizer.encode"
        text = _check_text(text, "text", op)
        chunks = self._chunks(text)
        distinct = list(dict.fromkeys(chunks))
        which = {c: i for i, c in enumerate(distinct)}
        ids, start = self._pack([_utf8(c, op) for c in distinct])
        v = self.vocab_size
        while len(self.merges) and len(ids) > 1:
            keys = np.where(start[1:], -1, ids[:-1] * v + ids[1:])
            j = np.minimum(np.searchsorted(self._sorted_keys, keys), len(self.merges) - 1)
            present = self._sorted_keys[j] == keys
            if not present.any():
                break
            rank = int(self._rank_order[j[present]].min())     # the earliest merge present
            a, b = self.merges[rank]
            ids, start = _merge_pair(ids, start, a, b, 256 + rank)
        # reassemble the text's chunks from the distinct ones
        offsets = np.flatnonzero(start)
        lengths = np.diff(np.append(offsets, len(ids)))
        order = np.fromiter((which[c] for c in chunks), dtype=np.int64, count=len(chunks))
        length = lengths[order]
        gather = (np.repeat(offsets[order] - (np.cumsum(length) - length), length)
                  + np.arange(length.sum()))
        return ids[gather]

    def decode_bytes(self, ids: Any) -> bytes:
        """The bytes that the ids stand for."""
        ids = as_int_array(ids, "ids", "ByteBPETokenizer.decode", min_value=0,
                           max_value=self.vocab_size - 1).reshape(-1)
        return b"".join([self.vocab[i] for i in ids.tolist()])

    def decode(self, ids: Any) -> str:
        """The text of the ids. Exact for the output of :meth:`encode`; an arbitrary
        id sequence may cut a UTF-8 character, which then decodes as U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # -- persistence ----------------------------------------------------------
    def to_dict(self) -> dict:
        """A JSON-ready description (``from_dict`` inverts it)."""
        return {"type": "byte_bpe", "version": 1, "pattern": self.pattern,
                "merges": [list(p) for p in self.merges]}

    @classmethod
    def from_dict(cls, d: dict) -> ByteBPETokenizer:
        """The tokenizer :meth:`to_dict` described."""
        d = _check_dict(d, "byte_bpe", ("pattern", "merges"), "ByteBPETokenizer.from_dict")
        if not isinstance(d["merges"], (list, tuple)):
            raise InvalidTypeError("ByteBPETokenizer.from_dict: field 'merges' must be a list of "
                                   f"pairs; got {describe(d['merges'])}.")
        return cls(d["merges"], d["pattern"])

    @property
    def fingerprint(self) -> str:
        """SHA-256 of :meth:`to_dict` (see :func:`tokenizer_fingerprint`)."""
        return tokenizer_fingerprint(self)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ByteBPETokenizer) and other.merges == self.merges
                and other.pattern == self.pattern)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ByteBPETokenizer(vocab_size={self.vocab_size}, pattern={'gpt2' if self.pattern == GPT2_SPLIT_PATTERN else self.pattern!r})"
