"""What every tokenizer shares: argument checks, UTF-8 with a clear error, and the
fingerprint of a tokenizer's dict form."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from llmmath._validation import check_int, describe
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = ["tokenizer_fingerprint"]


def check_text(text: Any, name: str, op: str) -> str:
    if not isinstance(text, str):
        raise InvalidTypeError(f"{op}: argument '{name}' must be a str; got {describe(text)}.")
    return text


def utf8(text: str, op: str, name: str = "text") -> bytes:
    """``text.encode("utf-8")``, with a ValueError naming the unpaired surrogate that
    has no UTF-8 form (the only str that cannot be encoded)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidValueError(f"{op}: argument '{name}' has the unpaired surrogate "
                                f"{text[exc.start]!r} at index {exc.start}; it has no UTF-8 "
                                "encoding.") from None


def check_dict(d: Any, kind: str, versions: tuple[int, ...], keys: tuple[str, ...],
               op: str) -> dict:
    """``d`` is a dict of type ``kind`` in one of ``versions`` with the fields ``keys``."""
    if not isinstance(d, dict):
        raise InvalidTypeError(f"{op}: argument 'd' must be a dict; got {describe(d)}.")
    if d.get("type") != kind or d.get("version") not in versions:
        wanted = " or ".join(str(v) for v in versions)
        raise InvalidValueError(f"{op}: argument 'd' describes type {d.get('type')!r} version "
                                f"{d.get('version')!r}; expected type {kind!r} version {wanted}.")
    missing = [k for k in keys if k not in d]
    if missing:
        raise InvalidValueError(f"{op}: argument 'd' lacks the field(s) {missing}.")
    return d


def check_vocab(vocab: Any, op: str) -> dict[int, bytes]:
    if not isinstance(vocab, Mapping):
        raise InvalidTypeError(f"{op}: argument 'vocab' must be a mapping from id to bytes; got "
                               f"{describe(vocab)}.")
    out: dict[int, bytes] = {}
    for i, token in vocab.items():
        i = check_int(i, "a key of 'vocab'", op, min_value=0)
        if not isinstance(token, bytes) or not token:
            raise InvalidTypeError(f"{op}: argument 'vocab' must map ids to non-empty bytes; id "
                                   f"{i} has {describe(token)}.")
        out[i] = token
    return out


def check_merges(merges: Any, op: str) -> list[tuple[bytes, bytes]]:
    if isinstance(merges, (str, bytes)) or not isinstance(merges, Iterable):
        raise InvalidTypeError(f"{op}: argument 'merges' must be a list of (bytes, bytes); got "
                               f"{describe(merges)}.")
    out = []
    for k, pair in enumerate(merges):
        if (not isinstance(pair, (tuple, list)) or len(pair) != 2
                or not all(isinstance(x, bytes) and x for x in pair)):
            raise InvalidTypeError(f"{op}: argument 'merges' must hold pairs of non-empty bytes; "
                                   f"item {k} is {pair!r}.")
        out.append((pair[0], pair[1]))
    return out


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """SHA-256 (hex) of a tokenizer's canonical JSON form.

    Lesson: none (tokenizer machinery).

    Two tokenizers get the same fingerprint exactly when their ``to_dict()`` agree.

    Examples
    --------
    >>> from llmmath.tokenizers import CharTokenizer
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
