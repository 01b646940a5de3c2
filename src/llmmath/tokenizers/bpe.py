"""Encoding and decoding with a byte-level BPE vocabulary (GPT-2's conventions).

To encode, the text is cut into special tokens and pre-tokens
(:class:`~llmmath.tokenizers.PreTokenizer`); a special token is one id; a
pre-token starts as its UTF-8 bytes and, as long as some adjacent pair is a
merge, the pair with the **lowest rank** (the earliest learned) is fused,
everywhere in the pre-token, left to right. This replays training exactly,
because a token can only take part in merges learned after it. The symbols left
are looked up in the vocabulary. Pre-tokens repeat a lot in text, so their
encodings are kept in a least-recently-used cache.

To decode, the ids' byte strings are joined and read as UTF-8; a byte run that
is not valid UTF-8 (an id sequence cut inside a character, say) becomes the
replacement character U+FFFD, one per maximal invalid subsequence, as the
Unicode standard recommends.

References
----------
.. [1] OpenAI, ``gpt-2/src/encoder.py`` (2019): the ``bpe`` loop by merge rank.
.. [2] The Unicode Standard, section 3.9, "U+FFFD Substitution of Maximal Subparts".
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

import regex

from llmmath._validation import as_int_array, check_int, describe
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.tokenizers._common import check_merges, check_text, check_vocab
from llmmath.tokenizers.bpe_train import BYTES, Pair
from llmmath.tokenizers.gpt2_files import read_gpt2_files, write_gpt2_files
from llmmath.tokenizers.pretokenize import (
    GPT2_SPLIT_PATTERN,
    PreTokenizer,
    _check_special_tokens,
)

__all__ = ["Tokenizer"]

_SURROGATE = regex.compile(r"[\ud800-\udfff]")


class Tokenizer:
    """A byte-level BPE tokenizer: vocabulary, ranked merges and special tokens.

    Lesson: ``tokenization`` (Tokenization is compression).

    Parameters
    ----------
    vocab : mapping of int to bytes
        Every id and the bytes it stands for. It must hold all 256 single bytes
        (so any text can be encoded) and the result of every merge; ids may come
        in any order (GPT-2's files do not put the bytes first).
    merges : sequence of (bytes, bytes)
        In rank order: ``merges[0]`` is applied first.
    special_tokens : sequence of str, optional
        Strings that always become one id and are never merged with their
        neighbours; of several that could start at the same place, the longest
        wins. Each takes the (highest) id in ``vocab`` whose bytes are its UTF-8,
        or, if there is none, a new id after the largest.
    pattern : str, compiled pattern or None
        Pre-tokenization regex (default GPT-2's, see
        :class:`~llmmath.tokenizers.PreTokenizer`).
    cache_size : int
        How many pre-token encodings to keep (least recently used go first).

    Examples
    --------
    >>> from llmmath.tokenizers import vocab_from_merges
    >>> merges = [(b"h", b"e"), (b" ", b"w"), (b"l", b"l"), (b"he", b"ll")]
    >>> tok = Tokenizer(vocab_from_merges(merges, ["<|endoftext|>"]), merges, ["<|endoftext|>"])
    >>> ids = tok.encode("hello<|endoftext|> world")
    >>> ids
    [259, 111, 260, 257, 111, 114, 108, 100]
    >>> [tok.vocab[i] for i in ids]
    [b'hell', b'o', b'<|endoftext|>', b' w', b'o', b'r', b'l', b'd']
    >>> tok.decode(ids)
    'hello<|endoftext|> world'
    >>> tok.decode([226, 130])          # the first two bytes of '€': invalid, replaced
    '\\ufffd'
    """

    def __init__(self, vocab: Mapping[int, bytes], merges: Iterable[Pair],
                 special_tokens: Iterable[str] | None = None, *,
                 pattern: Any = GPT2_SPLIT_PATTERN, cache_size: int = 1 << 16) -> None:
        op = "Tokenizer"
        self.vocab = check_vocab(vocab, op)
        self.merges = check_merges(merges, op)
        self.special_tokens = _check_special_tokens(special_tokens, op)
        cache_size = check_int(cache_size, "cache_size", op, min_value=0)
        # Plain symbols -> id: the lowest id holding those bytes.
        self._id_of: dict[bytes, int] = {}
        for i in sorted(self.vocab):
            self._id_of.setdefault(self.vocab[i], i)
        missing = [b for b in range(256) if BYTES[b] not in self._id_of]
        if missing:
            raise InvalidValueError(f"{op}: argument 'vocab' lacks {len(missing)} of the 256 "
                                    f"single bytes (first: {BYTES[missing[0]]!r}); a byte-level "
                                    "tokenizer needs all of them.")
        # Each special token: the highest id holding its bytes, or a new id.
        highest = {token: i for i, token in sorted(self.vocab.items())}
        self.special_ids: dict[str, int] = {}
        for s in self.special_tokens:
            data = s.encode("utf-8")
            if data not in highest:
                highest[data] = max(self.vocab) + 1
                self.vocab[highest[data]] = data
            self.special_ids[s] = highest[data]
        self._ranks: dict[Pair, int] = {}
        for k, (a, b) in enumerate(self.merges):
            for part in (a, b, a + b):
                if part not in self._id_of:
                    raise InvalidValueError(f"{op}: argument 'merges' has {(a, b)!r} at index "
                                            f"{k}, which needs the token {part!r}; 'vocab' "
                                            "lacks it.")
            self._ranks.setdefault((a, b), k)     # a repeated merge keeps its first rank
        self.pretokenizer = PreTokenizer(pattern, self.special_tokens)
        self._encode_pretoken = lru_cache(maxsize=cache_size)(self._bpe)

    @property
    def vocab_size(self) -> int:
        """Number of ids."""
        return len(self.vocab)

    def __repr__(self) -> str:
        return (f"Tokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
                f"special_tokens={list(self.special_tokens)!r})")

    # -- files ------------------------------------------------------------------
    @classmethod
    def from_files(cls, vocab_path: str | os.PathLike[str], merges_path: str | os.PathLike[str],
                   special_tokens: Iterable[str] | None = None, **kwargs: Any) -> Tokenizer:
        """The tokenizer stored in GPT-2's ``vocab.json`` and ``merges.txt`` format
        (see :mod:`llmmath.tokenizers.gpt2_files`); ``kwargs`` go to the constructor.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from llmmath.tokenizers import train_bpe
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "t.txt").write_text("the cat, the hat", encoding="utf-8")
        >>> tok = Tokenizer(*train_bpe(d / "t.txt", 262))
        >>> tok.to_files(d / "vocab.json", d / "merges.txt")
        >>> (d / "merges.txt").read_text(encoding="utf-8").splitlines()   # Ġ is the space
        ['#version: 0.2', 't h', 'th e', 'a t', 'h at', 'c at', 'Ġ the']
        >>> again = Tokenizer.from_files(d / "vocab.json", d / "merges.txt")
        >>> again.encode("the hat") == tok.encode("the hat")
        True
        """
        specials = _check_special_tokens(special_tokens, "Tokenizer.from_files")
        vocab, merges = read_gpt2_files(vocab_path, merges_path, specials)
        return cls(vocab, merges, specials, **kwargs)

    def to_files(self, vocab_path: str | os.PathLike[str],
                 merges_path: str | os.PathLike[str]) -> None:
        """Write the vocabulary and merges in GPT-2's format (:meth:`from_files` reads them)."""
        write_gpt2_files(vocab_path, merges_path, self.vocab, self.merges)

    # -- encoding ---------------------------------------------------------------
    def _bpe(self, pretoken: str) -> tuple[int, ...]:
        """The ids of one pre-token: fuse the lowest-ranked pair until none is a merge."""
        word = [BYTES[b] for b in pretoken.encode("utf-8")]
        ranks = self._ranks
        while len(word) > 1:
            best, best_rank = None, len(ranks)
            for pair in zip(word, word[1:], strict=False):
                r = ranks.get(pair, best_rank)
                if r < best_rank:
                    best, best_rank = pair, r
            if best is None:
                break
            a, b = best
            merged, out, j, n = a + b, [], 0, len(word)
            while j < n:
                if j + 1 < n and word[j] == a and word[j + 1] == b:
                    out.append(merged)
                    j += 2
                else:
                    out.append(word[j])
                    j += 1
            word = out
        id_of = self._id_of
        return tuple([id_of[s] for s in word])

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``.

        Raises
        ------
        TypeError
            ``text`` is not a str.
        ValueError
            ``text`` holds an unpaired surrogate (it has no UTF-8 form).
        """
        op = "Tokenizer.encode"
        text = check_text(text, "text", op)
        ids: list[int] = []
        pre, encode_one = self.pretokenizer, self._encode_pretoken
        try:
            for piece, special in pre.segments(text):
                if special:
                    ids.append(self.special_ids[piece])
                else:
                    for p in pre.pretokens(piece):
                        ids.extend(encode_one(p))
        except UnicodeEncodeError:
            at = _SURROGATE.search(text).start()
            raise InvalidValueError(f"{op}: argument 'text' has the unpaired surrogate "
                                    f"{text[at]!r} at index {at}; it has no UTF-8 "
                                    "encoding.") from None
        return ids

    def encode_iterable(self, iterable: Iterable[str], min_piece: int = 1 << 16) -> Iterator[int]:
        """Lazily the ids of the concatenation of ``iterable`` (a file handle, say).

        The same ids as ``encode("".join(iterable))``: the stream is re-cut only
        where no special token or pre-token can straddle the cut
        (:meth:`PreTokenizer.safe_pieces`), about every ``min_piece`` characters,
        so memory stays bounded for text with spaces (GPT-2's pattern) or special
        tokens.

        Examples
        --------
        >>> from llmmath.tokenizers import vocab_from_merges
        >>> tok = Tokenizer(vocab_from_merges([(b"a", b"b")], ["<s>"]), [(b"a", b"b")], ["<s>"])
        >>> list(tok.encode_iterable(["a", "b<", "s>ab"], min_piece=1)) == tok.encode("ab<s>ab")
        True
        """
        if isinstance(iterable, bytes) or not isinstance(iterable, Iterable):
            raise InvalidTypeError("Tokenizer.encode_iterable: argument 'iterable' must be an "
                                   f"iterable of str; got {describe(iterable)}.")
        for piece in self.pretokenizer.safe_pieces(iterable, min_piece):
            yield from self.encode(piece)

    # -- decoding ---------------------------------------------------------------
    def decode_bytes(self, ids: Any) -> bytes:
        """The bytes that ``ids`` stand for."""
        flat = as_int_array(ids, "ids", "Tokenizer.decode").reshape(-1).tolist()
        vocab = self.vocab
        try:
            return b"".join([vocab[i] for i in flat])
        except KeyError as exc:
            raise InvalidValueError(f"Tokenizer.decode: argument 'ids' has the id {exc.args[0]}, "
                                    f"which is not in the vocabulary ({self.vocab_size} ids)."
                                    ) from None

    def decode(self, ids: Any) -> str:
        """The text of ``ids``; invalid UTF-8 becomes U+FFFD (never an error)."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")
