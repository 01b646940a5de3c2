"""GPT-2's published tokenizer files: ``vocab.json`` and ``merges.txt``.

Both files write byte strings as text through a fixed table of 256 stand-in
characters (:func:`gpt2_bytes_to_unicode`): the printable bytes ``!``..``~``,
``¡``..``¬`` and ``®``..``ÿ`` stand for themselves, and the other 68 bytes, in
increasing order, for U+0100, U+0101, ... (so the space 0x20 is ``Ġ`` and the
newline 0x0A is ``Ċ``). No stand-in is a space, so a merge can be written as
two tokens separated by one space.

- ``vocab.json``: a JSON object from each token (in stand-ins) to its id.
- ``merges.txt``: a first line ``#version: 0.2``, then one merge per line,
  ``left right``, highest priority first.

References
----------
.. [1] OpenAI, ``gpt-2/src/encoder.py`` (2019): ``bytes_to_unicode`` and the
   merge ranks read from ``vocab.bpe``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from llmmath._files import atomic_write_text
from llmmath._validation import describe
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.tokenizers._common import check_merges, check_vocab

__all__ = ["gpt2_bytes_to_unicode", "read_gpt2_files", "write_gpt2_files"]

MERGES_HEADER = "#version: 0.2"


@cache
def _tables() -> tuple[dict[int, str], dict[str, int]]:
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    to_char = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in to_char:
            to_char[b] = chr(256 + extra)
            extra += 1
    return to_char, {c: b for b, c in to_char.items()}


def gpt2_bytes_to_unicode() -> dict[int, str]:
    """GPT-2's stand-in character for each byte value.

    Lesson: none (tokenizer machinery).

    Examples
    --------
    >>> table = gpt2_bytes_to_unicode()
    >>> table[ord("a")], table[ord(" ")], table[ord("\\n")], len(set(table.values()))
    ('a', 'Ġ', 'Ċ', 256)
    >>> "".join(table[b] for b in "’".encode("utf-8"))   # a curly quote: 3 bytes
    'âĢĻ'
    """
    return dict(_tables()[0])


def _to_text(token: bytes) -> str:
    to_char = _tables()[0]
    return "".join(to_char[b] for b in token)


def _to_bytes(text: str, where: str, op: str) -> bytes:
    to_byte = _tables()[1]
    try:
        return bytes(to_byte[c] for c in text)
    except KeyError as exc:
        raise InvalidValueError(f"{op}: {where} has the character {exc.args[0]!r}, which is not "
                                "one of GPT-2's 256 byte stand-ins.") from None


def _check_path(path: Any, name: str, op: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidTypeError(f"{op}: argument '{name}' must be a path; got {describe(path)}.")
    return Path(path)


def read_gpt2_files(vocab_path: str | os.PathLike[str], merges_path: str | os.PathLike[str],
                    special_tokens: Sequence[str] = ()
                    ) -> tuple[dict[int, bytes], list[tuple[bytes, bytes]]]:
    """The vocabulary and merges stored in GPT-2's file format.

    Lesson: none (tokenizer machinery).

    A key of ``vocab.json`` equal to one of ``special_tokens`` is taken as that
    string's UTF-8 (so a special token need not be written in stand-ins); every
    other key is decoded through the stand-in table.

    Returns
    -------
    vocab : dict of int to bytes
    merges : list of (bytes, bytes)
    """
    op = "read_gpt2_files"
    vocab_path = _check_path(vocab_path, "vocab_path", op)
    merges_path = _check_path(merges_path, "merges_path", op)
    specials = set(special_tokens)
    try:
        table = json.loads(vocab_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidValueError(f"{op}: '{vocab_path}' is not JSON ({exc}).") from None
    if not isinstance(table, dict):
        raise InvalidValueError(f"{op}: '{vocab_path}' must hold a JSON object from token to id; "
                                f"got {describe(table)}.")
    vocab: dict[int, bytes] = {}
    for token, i in table.items():
        if isinstance(i, bool) or not isinstance(i, int) or i < 0:
            raise InvalidValueError(f"{op}: '{vocab_path}': token {token!r} has id {i!r}; ids are "
                                    "integers >= 0.")
        if i in vocab:
            raise InvalidValueError(f"{op}: '{vocab_path}': id {i} is given to two tokens.")
        vocab[i] = (token.encode("utf-8") if token in specials
                    else _to_bytes(token, f"'{vocab_path}': token {token!r}", op))
    merges: list[tuple[bytes, bytes]] = []
    lines = merges_path.read_text(encoding="utf-8").split("\n")
    for n, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        if not line or (n == 1 and line.startswith("#version")):
            continue
        parts = line.split(" ")
        if len(parts) != 2 or not all(parts):
            raise InvalidValueError(f"{op}: '{merges_path}' line {n} must be two tokens separated "
                                    f"by one space; got {line!r}.")
        where = f"'{merges_path}' line {n}"
        merges.append((_to_bytes(parts[0], where, op), _to_bytes(parts[1], where, op)))
    return vocab, merges


def write_gpt2_files(vocab_path: str | os.PathLike[str], merges_path: str | os.PathLike[str],
                     vocab: Mapping[int, bytes], merges: Sequence[tuple[bytes, bytes]]) -> None:
    """Write ``vocab`` and ``merges`` in GPT-2's format (atomically, UTF-8); every
    token, special ones included, is written in stand-ins.

    Lesson: none (tokenizer machinery).
    """
    op = "write_gpt2_files"
    vocab_path = _check_path(vocab_path, "vocab_path", op)
    merges_path = _check_path(merges_path, "merges_path", op)
    vocab, merges = check_vocab(vocab, op), check_merges(merges, op)
    table: dict[str, int] = {}
    for i in sorted(vocab):
        text = _to_text(vocab[i])
        if text in table:
            raise InvalidValueError(f"{op}: ids {table[text]} and {i} hold the same bytes "
                                    f"{vocab[i]!r}; vocab.json can name a token only once.")
        table[text] = i
    lines = [MERGES_HEADER, *(f"{_to_text(a)} {_to_text(b)}" for a, b in merges)]
    atomic_write_text(vocab_path, json.dumps(table, ensure_ascii=False))
    atomic_write_text(merges_path, "\n".join(lines) + "\n")
