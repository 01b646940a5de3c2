"""Rebuilding a tokenizer from its dict form (what checkpoints store)."""

from __future__ import annotations

from typing import Any

from llmmath._validation import check_choice, describe
from llmmath.errors import InvalidTypeError
from llmmath.tokenizers.byte_bpe import ByteBPETokenizer
from llmmath.tokenizers.char import CharTokenizer

__all__ = ["tokenizer_from_dict"]

_KINDS = {"char": CharTokenizer, "byte_bpe": ByteBPETokenizer}


def tokenizer_from_dict(d: Any) -> CharTokenizer | ByteBPETokenizer:
    """Rebuild whichever tokenizer ``d`` describes (its ``"type"`` field decides).

    Lesson: none (tokenizer machinery).

    Examples
    --------
    >>> tok = tokenizer_from_dict(CharTokenizer.fit("hi").to_dict())
    >>> tok.decode(tok.encode("hih"))
    'hih'
    """
    if not isinstance(d, dict):
        raise InvalidTypeError(f"tokenizer_from_dict: argument 'd' must be a dict; got {describe(d)}.")
    kind = check_choice(d.get("type"), "d['type']", "tokenizer_from_dict", tuple(_KINDS))
    return _KINDS[kind].from_dict(d)
