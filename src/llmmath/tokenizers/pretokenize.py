"""Pre-tokenization: cut text into the pieces inside which BPE may merge.

Byte-pair encoding never merges across a pre-token boundary. GPT-2 cuts text
with one regular expression, :data:`GPT2_SPLIT_PATTERN`: an English contraction
(``'s``, ``'t``, ``'re``, ``'ve``, ``'m``, ``'ll``, ``'d``), a run of letters, a run of
numbers or a run of other symbols (each with at most one leading space), or
whitespace. Unicode letters and numbers are ``\\p{L}`` and ``\\p{N}``, which the
third-party ``regex`` module understands and the standard ``re`` does not.

Special tokens such as ``<|endoftext|>`` are cut out before the pattern runs:
they become single tokens, and no pre-token reaches across one. When several
special tokens could start at the same place the longest wins.

Text that arrives in pieces (a file read chunk by chunk, lines of a file
handle) is re-cut only where cutting cannot change the result
(:meth:`PreTokenizer.safe_pieces`), so streaming and all-at-once agree.

References
----------
.. [1] A. Radford et al., "Language models are unsupervised multitask learners",
   OpenAI 2019, section 2.2 (byte-level BPE, and why merges should not cross
   character categories).
.. [2] Unicode Technical Standard #18, "Unicode Regular Expressions"
   (``\\p{L}``, ``\\p{N}``, ``\\s``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import regex

from llmmath._validation import check_int, describe
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = ["GPT2_SPLIT_PATTERN", "PreTokenizer", "pretokenize"]

#: GPT-2's pre-tokenization pattern (``regex`` syntax).
GPT2_SPLIT_PATTERN = (
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)

# A place where the GPT-2 pattern may cut a text in two without changing its
# pre-tokens: after a non-space character and before a space. No alternative of
# the pattern matches across a non-space -> space step, and every pre-token that
# ends there ends for the same reason in both halves (see safe_pieces).
_SPACE_AFTER_WORD = regex.compile(r"\S(?=\s)", flags=regex.REVERSE)


def _check_special_tokens(special_tokens: Any, op: str) -> tuple[str, ...]:
    """The special tokens as a tuple of distinct non-empty strings, in the order given."""
    if special_tokens is None:
        return ()
    if isinstance(special_tokens, (str, bytes)) or not isinstance(special_tokens, Iterable):
        raise InvalidTypeError(f"{op}: argument 'special_tokens' must be a list of str; got "
                               f"{describe(special_tokens)}.")
    out: list[str] = []
    for i, s in enumerate(special_tokens):
        if not isinstance(s, str):
            raise InvalidTypeError(f"{op}: argument 'special_tokens' must hold str; item {i} is "
                                   f"{describe(s)}.")
        if not s:
            raise InvalidValueError(f"{op}: argument 'special_tokens' has the empty string at "
                                    f"index {i}; a special token needs at least one character.")
        if s not in out:
            out.append(s)
    return tuple(out)


class PreTokenizer:
    """Splits text into special tokens and pre-tokens.

    Lesson: ``tokenization`` (Tokenization is compression).

    Parameters
    ----------
    pattern : str, compiled pattern or None
        The pre-tokenization regex (``regex`` syntax; default GPT-2's). A compiled
        ``re`` or ``regex`` pattern is used as it is. ``None`` keeps every stretch
        between special tokens whole. Text between two matches of a pattern that
        does not match everything becomes a pre-token too, so no text is lost;
        empty matches are skipped.
    special_tokens : sequence of str, optional
        Strings that are always one token each (duplicates are dropped).

    Examples
    --------
    >>> pre = PreTokenizer(special_tokens=["<|endoftext|>"])
    >>> pre.split("Hi there<|endoftext|>it's 2024!")
    ['Hi', ' there', '<|endoftext|>', 'it', "'s", ' 2024', '!']
    >>> list(pre.segments("a<|endoftext|>b"))
    [('a', False), ('<|endoftext|>', True), ('b', False)]
    """

    def __init__(self, pattern: Any = GPT2_SPLIT_PATTERN, special_tokens: Any = None) -> None:
        op = "PreTokenizer"
        if pattern is None or isinstance(pattern, (re.Pattern, regex.Pattern)):
            compiled = pattern
        elif isinstance(pattern, str):
            try:
                compiled = regex.compile(pattern)
            except regex.error as exc:
                raise InvalidValueError(f"{op}: argument 'pattern' is not a valid regex ({exc}); "
                                        f"got {pattern!r}.") from None
        else:
            raise InvalidTypeError(f"{op}: argument 'pattern' must be a str, a compiled pattern "
                                   f"or None; got {describe(pattern)}.")
        self.pattern = compiled
        self.special_tokens = _check_special_tokens(special_tokens, op)
        # Longest first, so that at any position the longest special token wins.
        by_length = sorted(self.special_tokens, key=len, reverse=True)
        self._special = (regex.compile("|".join(regex.escape(s) for s in by_length))
                         if by_length else None)
        self._longest_special = len(by_length[0]) if by_length else 0
        # Cutting a stream at spaces is proven safe for GPT-2's pattern only (see
        # _SPACE_AFTER_WORD); any other pattern is cut at special tokens only.
        self._cuts_at_spaces = (isinstance(compiled, regex.Pattern)
                                and compiled.pattern == GPT2_SPLIT_PATTERN)

    def __repr__(self) -> str:
        shown = ("gpt2" if self._cuts_at_spaces else
                 None if self.pattern is None else self.pattern.pattern)
        return f"PreTokenizer(pattern={shown!r}, special_tokens={list(self.special_tokens)!r})"

    # -- one text -------------------------------------------------------------
    def segments(self, text: str) -> Iterator[tuple[str, bool]]:
        """``(piece, is_special)`` for the special tokens of ``text`` and the
        (non-empty) stretches between them, in order."""
        if self._special is None:
            if text:
                yield text, False
            return
        at = 0
        for m in self._special.finditer(text):
            if m.start() > at:
                yield text[at:m.start()], False
            yield m.group(), True
            at = m.end()
        if at < len(text):
            yield text[at:], False

    def pretokens(self, text: str) -> list[str]:
        """The pre-tokens of ``text`` (special tokens are not looked for here)."""
        if self.pattern is None:
            return [text] if text else []
        if self._cuts_at_spaces:
            # GPT-2's pattern matches every character (its last alternative takes
            # any whitespace, the others everything else) and has no groups, so
            # findall already returns the full cover.
            return self.pattern.findall(text)
        out, at = [], 0
        for m in self.pattern.finditer(text):
            if m.start() > at:
                out.append(text[at:m.start()])
            if m.end() > m.start():
                out.append(m.group())
            at = max(at, m.end())
        if at < len(text):
            out.append(text[at:])
        return out

    def split(self, text: str) -> list[str]:
        """Special tokens and pre-tokens of ``text`` in order; ``"".join`` restores it."""
        if not isinstance(text, str):
            raise InvalidTypeError(f"PreTokenizer.split: argument 'text' must be a str; got "
                                   f"{describe(text)}.")
        out: list[str] = []
        for piece, special in self.segments(text):
            if special:
                out.append(piece)
            else:
                out.extend(self.pretokens(piece))
        return out

    # -- a stream -------------------------------------------------------------
    def _safe_cut(self, buf: str) -> int:
        """The largest position of ``buf`` where cutting cannot change the special
        tokens or pre-tokens, whatever text follows; 0 when there is none.

        A special token that starts at ``s`` with ``s + longest <= len(buf)`` is
        fully decided by ``buf`` (a longer one starting there would also fit), and so
        is everything before it. Positions up to ``limit = len(buf) - longest + 1``
        therefore see their final segmentation. Safe cuts are the ends (and starts)
        of decided special tokens, and, for GPT-2's pattern, a step from a
        non-space to a space inside plain text.
        """
        n = len(buf)
        limit = n - max(self._longest_special - 1, 0)
        best, start = 0, 0
        if self._special is not None:
            for m in self._special.finditer(buf):
                if m.start() >= limit:
                    break
                best = m.end()
                start = m.end()
        end = min(n, limit + 1)          # a cut at p <= limit also needs to see buf[p]
        if self._cuts_at_spaces and end - start >= 2:
            # Only the last plain stretch can hold a cut beyond ``best``. (The range
            # check matters: a negative end would count from the end of ``buf``.)
            m = _SPACE_AFTER_WORD.search(buf, start, end)
            if m is not None:
                best = max(best, m.end())
        return best

    def safe_pieces(self, chunks: Iterable[str], min_size: int = 1 << 16) -> Iterator[str]:
        """Re-cut a stream of strings into pieces that can be tokenized one by one.

        The pieces concatenate to the input, and tokenizing each piece on its own
        gives the same special tokens and pre-tokens as tokenizing the whole. Input
        is buffered until about ``min_size`` characters, then cut at the last safe
        place (:meth:`_safe_cut`); memory stays near ``min_size`` unless the text
        has no safe place for a long stretch (no spaces with GPT-2's pattern, or no
        special token with any other), which has to be held whole.

        Examples
        --------
        >>> pre = PreTokenizer()
        >>> list(pre.safe_pieces(["one tw", "o three", " four"], min_size=4))
        ['one', ' two', ' three', ' four']
        """
        op = "PreTokenizer.safe_pieces"
        min_size = check_int(min_size, "min_size", op, min_value=1)
        parts: list[str] = []
        size, want = 0, min_size
        for i, chunk in enumerate(chunks):
            if not isinstance(chunk, str):
                raise InvalidTypeError(f"{op}: argument 'chunks' must yield str; item {i} is "
                                       f"{describe(chunk)}.")
            parts.append(chunk)
            size += len(chunk)
            if size < want:
                continue
            buf = "".join(parts)
            cut = self._safe_cut(buf)
            if cut:
                yield buf[:cut]
                buf = buf[cut:]
                want = min_size
            else:                      # no safe place yet: wait for twice as much text
                want = 2 * len(buf)
            parts, size = [buf], len(buf)
        tail = "".join(parts)
        if tail:
            yield tail


def pretokenize(text: str, special_tokens: Any = None) -> list[str]:
    """GPT-2's pre-tokens of ``text``, with ``special_tokens`` kept whole.

    Lesson: none (tokenizer machinery).

    Examples
    --------
    >>> pretokenize("I'll pay 100 dollars,  now!")
    ['I', "'ll", ' pay', ' 100', ' dollars', ',', ' ', ' now', '!']
    >>> pretokenize("ab<|x|><|x|>|>", special_tokens=["<|x|>", "<|x|><|x|>"])  # longest wins
    ['ab', '<|x|><|x|>', '|>']
    """
    return PreTokenizer(GPT2_SPLIT_PATTERN, special_tokens).split(text)
