"""Language modelling is compression: any llmmath model drives an exact entropy coder.

A model that gives the next character probability ``p`` can store it in
``-log2 p`` bits, so a text costs its cross-entropy under the model. This
package makes that literal: :func:`compress` asks a model for each next-
character distribution, turns it into integer frequencies
(:func:`~llmmath.compress.frequencies.quantize`) and codes the character with
an arithmetic coder; :func:`decompress` runs the same model the same way and
reads the characters back.

Parts, bottom up:

* :mod:`~llmmath.compress.frequencies`: probabilities to integer frequencies (the one place).
* :mod:`~llmmath.compress.arithmetic`: the teaching arithmetic coder (integers, one screen).
* :mod:`~llmmath.compress.range_coder`: the fast path, ``constriction``'s range coder.
* :mod:`~llmmath.compress.models`: the model interface; uniform and n-gram models.
* :mod:`~llmmath.compress.mixing`, :mod:`~llmmath.compress.adaptive`: geometric mixing
  with online weights; n-gram counts that learn the text while coding it.
* :mod:`~llmmath.compress.gpt`: a trained GPT, its chunks advanced as one batch.
* :mod:`~llmmath.compress.codec`: the loop shared by encoder and decoder, chunks, escapes.
* :mod:`~llmmath.compress.container`: the file format. :mod:`~llmmath.compress.specs`: ``-m``.

Examples
--------
>>> from llmmath.compress import compress, decompress, NGramModel
>>> model = NGramModel.fit("the cat sat on the mat. " * 20, order=3)
>>> data = compress("the cat sat on the hat.", model)
>>> decompress(data, model)
'the cat sat on the hat.'
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from llmmath._validation import check_int, describe
from llmmath.compress.adaptive import OnlineNGram, adaptive_ngram
from llmmath.compress.codec import (
    CHUNK_SIZE,
    CODERS,
    decode_streams,
    encode_streams,
    split_lengths,
)
from llmmath.compress.container import Header, pack, unpack
from llmmath.compress.errors import ContainerError, CorruptDataError, ModelMismatchError
from llmmath.compress.frequencies import PRECISION, quantize
from llmmath.compress.mixing import GeometricMixture
from llmmath.compress.models import CodingModel, NGramModel, UniformModel
from llmmath.compress.specs import DEFAULT_SPEC, load_model
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = [
    "compress", "decompress", "encode", "Encoded", "read_header",
    "CodingModel", "UniformModel", "NGramModel", "OnlineNGram", "GeometricMixture",
    "adaptive_ngram", "load_model", "quantize", "PRECISION", "CHUNK_SIZE", "DEFAULT_SPEC",
    "ModelMismatchError", "ContainerError", "CorruptDataError",
]


@dataclass(frozen=True)
class Encoded:
    """:func:`encode`'s result: the file's bytes and what the coder aimed at.

    Lesson: none (part of the ``llmmath compress`` command).

    Attributes
    ----------
    data : bytes
        The whole file (header, chunks, checksums).
    n_chars : int
    payload_bytes : int
        The chunks alone.
    model_bits : float
        ``sum -log2 p`` under the model's own probabilities (its cross-entropy
        on this text, times the number of characters).
    ideal_bits : float
        ``sum -log2 q`` under the quantised frequencies the coder used.
    n_escapes : int
        Characters coded through the escape.
    n_chunks : int
    """

    data: bytes
    n_chars: int
    payload_bytes: int
    model_bits: float
    ideal_bits: float
    n_escapes: int
    n_chunks: int

    @property
    def bits_per_char(self) -> float:
        """The whole file's bits per character."""
        return 8 * len(self.data) / max(self.n_chars, 1)


def _text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def encode(text: str, model: Any = None, *, coder: str = "range", chunk_size: int = CHUNK_SIZE,
           progress: Callable[[int], None] | None = None) -> Encoded:
    """Compress ``text`` and report the code lengths (see :func:`compress` for the parameters).

    Lesson: ``compression`` (Language modelling is compression).
    """
    op = "compress"
    if not isinstance(text, str):
        raise InvalidTypeError(f"{op}: argument 'text' must be a str; got {describe(text)}.")
    if coder not in CODERS:
        raise InvalidValueError(f"{op}: argument 'coder' must be one of {sorted(CODERS)}; got "
                                f"{coder!r}.")
    chunk_size = check_int(chunk_size, "chunk_size", op, min_value=1, max_value=2**32 - 1)
    model = load_model(DEFAULT_SPEC if model is None else model)
    lengths = split_lengths(len(text), chunk_size)
    ends = list(itertools.accumulate(lengths))
    texts = [text[b - m:b] for b, m in zip(ends, lengths, strict=True)]
    batch = min(model.max_batch, 255)
    coded = encode_streams(texts, model, coder, progress, batch)
    header = Header(coder, PRECISION, len(text), chunk_size, model.spec, model.sha256,
                    _text_sha256(text), [len(c) for c in coded.chunks], batch)
    data = pack(header, coded.chunks)
    return Encoded(data, len(text), coded.payload_bytes, coded.model_bits, coded.ideal_bits,
                   coded.n_escapes, len(texts))


def compress(text: str, model: Any = None, *, coder: str = "range", chunk_size: int = CHUNK_SIZE,
             progress: Callable[[int], None] | None = None) -> bytes:
    """Compress ``text`` with a model-driven entropy coder.

    Lesson: none (part of the ``llmmath compress`` command).

    Parameters
    ----------
    text : str
        Any text (every code point round-trips).
    model : CodingModel or str, optional
        A model, or a spec (``"uniform"``, ``"ngram:5"``, ``"ngram:5:adaptive"``,
        a GPT checkpoint path, ``"mix:CKPT+ngram:5"``); default
        :data:`DEFAULT_SPEC`, the adaptive n-gram.
    coder : {"range", "arithmetic"}
        ``constriction``'s range coder (fast) or the teaching arithmetic coder.
    chunk_size : int
        Characters per independent chunk, at most; the chunks are coded as one batch.
    progress : callable, optional
        Called with the number of characters coded so far, once per step.

    Returns
    -------
    bytes
        A self-describing file (:mod:`llmmath.compress.container`).

    Examples
    --------
    >>> m = UniformModel("ab")
    >>> len(compress("abba" * 100, m)) < 100 + 120      # 400 chars at log2(3) bits, + header
    True
    """
    return encode(text, model, coder=coder, chunk_size=chunk_size, progress=progress).data


def read_header(data: bytes) -> Header:
    """The checked header of compressed ``data`` (which model, how long, which coder).

    Lesson: none (part of the ``llmmath compress`` command).
    """
    return unpack(data)[0]


def decompress(data: bytes, model: Any = None, *,
               progress: Callable[[int], None] | None = None) -> str:
    """The text that :func:`compress` stored in ``data``.

    Lesson: ``compression`` (Language modelling is compression).

    Parameters
    ----------
    data : bytes
    model : CodingModel or str, optional
        The model it was compressed with (default: the one its header names).
    progress : callable, optional

    Raises
    ------
    ContainerError
        Not an llmmath file, truncated, or damaged (a CRC fails).
    ModelMismatchError
        ``model`` is not the model the data was compressed with.
    CorruptDataError
        The decoded text does not match the stored SHA-256 (never returned).

    Examples
    --------
    >>> m = UniformModel("ab")
    >>> decompress(compress("a\\x00b😀", m), m)
    'a\\x00b😀'
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidTypeError(f"decompress: argument 'data' must be bytes; got {describe(data)}.")
    header, chunks = unpack(data)
    if header.precision != PRECISION:
        raise ContainerError(f"decompress: the data uses {header.precision}-bit frequencies; this "
                             f"llmmath codes with {PRECISION}.")
    if header.chunk_size < 1:
        raise ContainerError("decompress: the header's chunk size is 0.")
    lengths = split_lengths(header.n_chars, header.chunk_size)
    if len(lengths) != len(chunks):
        raise ContainerError(f"decompress: the header lists {len(chunks)} chunks, but "
                             f"{header.n_chars} characters in chunks of {header.chunk_size} "
                             f"make {len(lengths)}.")
    model = load_model(header.model_spec if model is None else model)
    if model.sha256 != header.model_sha256:
        raise ModelMismatchError(
            f"decompress: the data was compressed with the model {header.model_spec!r} (identity "
            f"sha256 {header.model_sha256[:16]}...), but the model given is {model.spec!r} "
            f"(sha256 {model.sha256[:16]}...); pass the model it was compressed with.")
    texts = decode_streams(chunks, lengths, model, header.coder, progress, header.batch)
    text = "".join(texts)
    if len(text) != header.n_chars or _text_sha256(text) != header.text_sha256:
        raise CorruptDataError(
            "decompress: the decoded text does not match the SHA-256 of the original. The model "
            "produced different probabilities than when compressing (another machine or BLAS "
            "library can round a GPT's floats differently), or the data was altered in a way "
            "the CRCs did not catch.")
    return text
