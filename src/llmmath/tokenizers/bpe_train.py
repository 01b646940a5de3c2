"""Training byte-level BPE: learn merges greedily from pre-token counts.

Every pre-token starts as its UTF-8 bytes. One round of training:

1. count every adjacent pair of symbols over all pre-tokens, each pre-token
   weighted by how often it occurs (overlapping pairs count: ``a a a`` holds
   two ``a a``);
2. take the most frequent pair; **ties go to the lexicographically greater
   pair**, comparing ``(left_bytes, right_bytes)`` as a tuple of ``bytes``
   (GPT-2's convention, so ``(b"e", b" ")`` beats ``(b" ", b"t")``);
3. fuse that pair everywhere, left to right (``a a a -> aa a``), and record it.

The textbook version recounts every pair after each merge. Here a merge only
touches the pre-tokens that hold its pair: an index maps each pair to those
pre-tokens, the counts are updated for them alone, and a max-heap of counts
(with stale entries skipped when they surface) finds the next pair. The result
is the same merge list, found in time proportional to what each merge changes.

Vocabulary ids (:func:`train_bpe`): the 256 single bytes first (id = byte
value), then one id per merge in the order learned, then the special tokens in
the order given. :class:`~llmmath.tokenizers.Tokenizer` accepts any id order,
so GPT-2's published files (which order ids differently) load too.

References
----------
.. [1] R. Sennrich, B. Haddow and A. Birch, "Neural machine translation of rare
   words with subword units", ACL 2016 (the merge loop).
.. [2] A. Radford et al., "Language models are unsupervised multitask learners",
   OpenAI 2019 (byte-level BPE).
"""

from __future__ import annotations

import heapq
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from llmmath._validation import check_int, describe
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.tokenizers._common import utf8
from llmmath.tokenizers.pretokenize import (
    GPT2_SPLIT_PATTERN,
    PreTokenizer,
    _check_special_tokens,
)

__all__ = ["count_pretokens", "learn_merges", "train_bpe", "vocab_from_merges"]

#: The 256 one-byte strings, shared so that equal symbols are usually the same object.
BYTES = tuple(bytes([i]) for i in range(256))

Pair = tuple[bytes, bytes]


def count_pretokens(pieces: Iterable[str], pretokenizer: PreTokenizer) -> Counter[str]:
    """How often each pre-token occurs in the text ``pieces`` (special tokens are
    left out: they are not merged). Pass pieces cut by
    :meth:`PreTokenizer.safe_pieces` when the text is streamed.

    Lesson: ``tokenization`` (Tokenization is compression).

    Examples
    --------
    >>> pre = PreTokenizer(special_tokens=["<|endoftext|>"])
    >>> sorted(count_pretokens(["the cat<|endoftext|>the dog"], pre).items())
    [(' cat', 1), (' dog', 1), ('the', 2)]
    """
    if not isinstance(pretokenizer, PreTokenizer):
        raise InvalidTypeError("count_pretokens: argument 'pretokenizer' must be a PreTokenizer; "
                               f"got {describe(pretokenizer)}.")
    counts: Counter[str] = Counter()
    for piece in pieces:
        for text, special in pretokenizer.segments(piece):
            if not special:
                counts.update(pretokenizer.pretokens(text))
    return counts


def _check_counts(counts: Any, op: str) -> dict[bytes, int]:
    if not isinstance(counts, Mapping):
        raise InvalidTypeError(f"{op}: argument 'counts' must be a mapping from bytes to counts; "
                               f"got {describe(counts)}.")
    out: dict[bytes, int] = {}
    for word, c in counts.items():
        if not isinstance(word, bytes):
            raise InvalidTypeError(f"{op}: the keys of 'counts' must be bytes; got {describe(word)}.")
        out[word] = c if type(c) is int and c > 0 else check_int(c, f"counts[{word!r}]", op,
                                                                   min_value=1)
    return out


def _pop_best(heap: list, pair_count: dict[Pair, int]) -> Pair | None:
    """Remove and return the most frequent pair (ties: the greatest pair), or None.

    Invariant: every pair with a positive count has a heap entry whose value is at
    least its count (an entry is pushed whenever a count grows; shrinking leaves
    an over-estimate). An entry whose value equals the current count is exact; the
    top exact entry is therefore the maximum.
    """
    best_count, ties = 0, set()
    while heap:
        value = -heap[0][0]
        if best_count and value < best_count:
            break
        _, pair = heapq.heappop(heap)
        count = pair_count.get(pair, 0)
        if count == value:
            best_count = value
            ties.add(pair)
        elif 0 < count < value:          # an over-estimate: put the true count back
            heapq.heappush(heap, (-count, pair))
        # count > value: a newer, exact entry is in the heap already; drop this one
    if not ties:
        return None
    best = max(ties)                     # tuples of bytes compare lexicographically
    for pair in ties - {best}:
        heapq.heappush(heap, (-best_count, pair))
    return best


def learn_merges(counts: Mapping[bytes, int], num_merges: int, *,
                 min_count: int = 1) -> list[Pair]:
    """The BPE merges, in order, learned from pre-token counts.

    Lesson: ``tokenization`` (Tokenization is compression).

    Parameters
    ----------
    counts : mapping of bytes to int
        Each distinct pre-token (its UTF-8 bytes) and how often it occurs.
    num_merges : int
        The most merges to learn (fewer when no pair is left).
    min_count : int
        Stop when the most frequent pair occurs fewer than this many times.

    Returns
    -------
    list of (bytes, bytes)
        ``merges[i]`` fuses the two byte strings into one token.

    Examples
    --------
    Sennrich et al.'s example: ``es`` and ``st`` both occur 9 times, and the greater
    pair, ``(b"s", b"t")``, goes first; later ``lo``/``ow`` tie at 7 the same way.

    >>> learn_merges({b"low": 5, b"lower": 2, b"newest": 6, b"widest": 3}, 6)
    [(b's', b't'), (b'e', b'st'), (b'o', b'w'), (b'l', b'ow'), (b'w', b'est'), (b'n', b'e')]
    """
    op = "learn_merges"
    counts = _check_counts(counts, op)
    num_merges = check_int(num_merges, "num_merges", op, min_value=0)
    min_count = check_int(min_count, "min_count", op, min_value=1)
    words: list[list[bytes]] = []
    freq: list[int] = []
    for word, c in counts.items():
        if len(word) > 1:                # a single byte holds no pair
            words.append([BYTES[x] for x in word])
            freq.append(c)
    pair_count: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)     # pair -> words that (may) hold it
    for i, (w, f) in enumerate(zip(words, freq, strict=True)):
        for p in zip(w, w[1:], strict=False):
            pair_count[p] += f
            where[p].add(i)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)

    merges: list[Pair] = []
    while len(merges) < num_merges:
        best = _pop_best(heap, pair_count)
        if best is None or pair_count[best] < min_count:
            break
        merges.append(best)
        a, b = best
        new = a + b
        grown: set[Pair] = set()
        for i in where.pop(best):        # the index may be stale: re-check each word
            w = words[i]
            out: list[bytes] = []
            j, n = 0, len(w)
            while j < n:
                if j + 1 < n and w[j] == a and w[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            if len(out) == n:
                continue
            f = freq[i]
            for p in zip(w, w[1:], strict=False):
                pair_count[p] -= f
            for p in zip(out, out[1:], strict=False):
                pair_count[p] += f
                if p[0] is new or p[1] is new:     # only pairs with the new token grow
                    where[p].add(i)
                    grown.add(p)
            words[i] = out
        del pair_count[best]
        for p in grown:
            heapq.heappush(heap, (-pair_count[p], p))
    return merges


def vocab_from_merges(merges: Iterable[Pair], special_tokens: Any = None) -> dict[int, bytes]:
    """The vocabulary that goes with ``merges``: bytes 0..255, one id per merge in
    order, then the special tokens (their UTF-8) in order.

    Lesson: ``tokenization`` (Tokenization is compression).

    Examples
    --------
    >>> v = vocab_from_merges([(b"a", b"b"), (b"ab", b"c")], ["<|endoftext|>"])
    >>> len(v), v[97], v[256], v[257], v[258]
    (259, b'a', b'ab', b'abc', b'<|endoftext|>')
    """
    op = "vocab_from_merges"
    if isinstance(merges, (str, bytes)) or not isinstance(merges, Iterable):
        raise InvalidTypeError(f"{op}: argument 'merges' must be a sequence of (bytes, bytes); "
                               f"got {describe(merges)}.")
    vocab = {i: BYTES[i] for i in range(256)}
    for k, pair in enumerate(merges):
        if (not isinstance(pair, tuple) or len(pair) != 2
                or not all(isinstance(x, bytes) for x in pair)):
            raise InvalidTypeError(f"{op}: argument 'merges' must hold pairs of bytes; item {k} "
                                   f"is {pair!r}.")
        vocab[256 + k] = pair[0] + pair[1]
    for s in _check_special_tokens(special_tokens, op):
        vocab[len(vocab)] = utf8(s, op, "special_tokens")
    return vocab


def _chunks_of(f: Any, size: int) -> Iterable[str]:
    while chunk := f.read(size):
        yield chunk


def train_bpe(input_path: str | os.PathLike[str], vocab_size: int, special_tokens: Any = None,
              *, chunk_chars: int = 1 << 20) -> tuple[dict[int, bytes], list[Pair]]:
    """Train a GPT-2-style byte-level BPE on a UTF-8 text file.

    Lesson: none (tokenizer machinery).

    The file is read ``chunk_chars`` characters at a time and cut only where the
    pre-tokens cannot change (:meth:`PreTokenizer.safe_pieces`); pre-tokens are
    counted piece by piece, so memory holds one piece and the table of distinct
    pre-tokens, never the whole file. Special tokens split the text (no pre-token
    crosses one) and are not counted; they get the last ids.

    Parameters
    ----------
    input_path : str or os.PathLike
        A UTF-8 text file (read as it is: no newline translation).
    vocab_size : int
        The most ids in the vocabulary: 256 bytes + merges + special tokens, so at
        least ``256 + len(special_tokens)``. Training stops early when no pair is
        left, and the vocabulary is then smaller.
    special_tokens : sequence of str, optional
        For example ``["<|endoftext|>"]``.
    chunk_chars : int
        Characters read at a time.

    Returns
    -------
    vocab : dict of int to bytes
        Ids 0..255 the bytes, then the merged tokens, then the special tokens.
    merges : list of (bytes, bytes)
        In the order learned.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text("low low low lower<|endoftext|>newest newest", encoding="utf-8")
    >>> vocab, merges = train_bpe(p, 256 + 3 + 1, ["<|endoftext|>"])
    >>> merges                # "lo" and "ow" both occur 4 times: the greater pair first
    [(b'o', b'w'), (b'l', b'ow'), (b' ', b'low')]
    >>> vocab[258], vocab[259]
    (b' low', b'<|endoftext|>')
    """
    op = "train_bpe"
    if not isinstance(input_path, (str, os.PathLike)):
        raise InvalidTypeError(f"{op}: argument 'input_path' must be a path; got "
                               f"{describe(input_path)}.")
    specials = _check_special_tokens(special_tokens, op)
    vocab_size = check_int(vocab_size, "vocab_size", op, min_value=256 + len(specials))
    chunk_chars = check_int(chunk_chars, "chunk_chars", op, min_value=1)
    pre = PreTokenizer(GPT2_SPLIT_PATTERN, specials)
    path = Path(input_path)
    try:
        with path.open(encoding="utf-8", newline="") as f:
            counts = count_pretokens(pre.safe_pieces(_chunks_of(f, chunk_chars), chunk_chars), pre)
    except UnicodeDecodeError as exc:
        raise InvalidValueError(f"{op}: '{path}' is not UTF-8 text ({exc.reason} in a chunk read "
                                "from it).") from None
    merges = learn_merges({utf8(w, op, "input_path"): c for w, c in counts.items()},
                          vocab_size - 256 - len(specials))
    return vocab_from_merges(merges, specials), merges
