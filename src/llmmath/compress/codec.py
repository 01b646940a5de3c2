"""The coding loop shared by encoder and decoder: chunks in lockstep, escapes, statistics.

A text is cut into chunks of (nearly) equal length, at most ``chunk_size``
characters each, and the chunks are coded as independent streams that advance
together, up to ``model.max_batch`` of them at a time (64; 8 for an adaptive
model, whose tables grow with the text; the file records the number): at step
``t`` the model is asked once for the distributions of character ``t`` of
every chunk in the batch (for a GPT: one batched forward pass), each
stream codes its character into its own coder, and the model is told the
characters. The decoder runs the very same loop (:func:`_lockstep`), taking the
characters from its decoders instead of the text, so both sides make the same
calls on the same shapes and see the same floating-point numbers.

A character outside the model's alphabet is coded as the escape symbol, then
through a small per-stream table of the characters escaped so far (a repeat
costs a few bits; the table's "new" entry weighs as much as its size, as in
PPM's method C), and a new one by its code point: three 7-bit pieces, 21 bits,
each coded with equal frequencies. Any ``str`` round-trips, NUL, emoji and
lone surrogates included.

Chunks cost compression (each starts with no context, and an adaptive model
starts learning anew) and buy speed (a batch per model call); the cost is
measured by ``bench/bench_compress.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from llmmath.compress import arithmetic, range_coder
from llmmath.compress.errors import CorruptDataError
from llmmath.compress.frequencies import TOTAL, quantize
from llmmath.compress.models import CodingModel
from llmmath.errors import ShapeError

__all__ = ["CODERS", "CHUNK_SIZE", "split_lengths", "Coded", "encode_streams", "decode_streams",
           "CorruptDataError"]

#: Characters per chunk by default (2**16): one stream for texts up to 64 K characters.
CHUNK_SIZE = 1 << 16
#: The coders, by the name the container records.
CODERS = {"range": (range_coder.Encoder, range_coder.Decoder),
          "arithmetic": (arithmetic.Encoder, arithmetic.Decoder)}

_PIECE_BITS, _PIECES = 7, 3                   # a code point as three 7-bit pieces (21 bits)
_UNIFORM_PIECE = np.full(1 << _PIECE_BITS, TOTAL >> _PIECE_BITS, dtype=np.int64)
_MAX_CODE_POINT = 0x10FFFF


def split_lengths(n_chars: int, chunk_size: int) -> list[int]:
    """Lengths of the ``ceil(n / chunk_size)`` chunks, as equal as possible (longer ones first).

    Examples
    --------
    >>> split_lengths(10, 4), split_lengths(0, 4)
    ([4, 3, 3], [])
    """
    k = -(-n_chars // chunk_size)
    return [n_chars // k + (i < n_chars % k) for i in range(k)] if k else []


class _Escapes:
    """Per-stream table of the escaped characters seen so far, with counts."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.counts: list[int] = []

    def weights(self) -> np.ndarray:
        return np.array(self.counts + [max(1, len(self.chars))], dtype=np.float64)

    def add(self, j: int, c: str) -> None:
        if j == len(self.chars):
            self.chars.append(c)
            self.counts.append(1)
        else:
            self.counts[j] += 1


@dataclass
class Coded:
    """What :func:`encode_streams` returns: the chunks' bytes and the code lengths behind them.

    ``model_bits`` adds ``-log2 p`` of every coded symbol under the model's own
    (float) probabilities (escape tables and code-point pieces included):
    the cross-entropy the coder aims at. ``ideal_bits`` adds ``-log2 q`` for the
    quantised frequencies actually used; an exact coder writes that plus a
    few bits per stream.
    """

    chunks: list[bytes]
    lengths: list[int]
    model_bits: float
    ideal_bits: float
    n_escapes: int

    @property
    def payload_bytes(self) -> int:
        return sum(len(c) for c in self.chunks)


def _check_probs(P: np.ndarray, model: CodingModel, n: int) -> np.ndarray:
    P = np.asarray(P)
    if P.shape != (n, model.n_symbols):
        raise ShapeError(f"{model!r}.probs returned shape {P.shape}; expected ({n}, "
                         f"{model.n_symbols}) (streams, alphabet + escape).")
    return P


def _lockstep(model: CodingModel, lengths: list[int],
              step: Callable[[int, np.ndarray, np.ndarray], str],
              progress: Callable[[int], None] | None) -> None:
    """Advance every stream one character per step; ``step(stream, P_row, F_row)`` codes it."""
    n = len(lengths)
    if n == 0:
        return
    state = model.start(n)
    filler = model.alphabet[:1] or " "     # fed to streams that are done (chunks differ by 1)
    done = 0
    for t in range(max(lengths)):
        P = _check_probs(model.probs(state), model, n)
        F = quantize(P)
        chars = [step(s, P[s], F[s]) if t < lengths[s] else filler for s in range(n)]
        model.update(state, chars)
        done += sum(t < m for m in lengths)
        if progress is not None:
            progress(done)


def _batches(n: int, batch: int) -> list[range]:
    return [range(i, min(i + batch, n)) for i in range(0, n, batch)]


def _offset(progress: Callable[[int], None] | None, base: int) -> Callable[[int], None] | None:
    return None if progress is None else (lambda done: progress(base + done))


def encode_streams(texts: list[str], model: CodingModel, coder: str = "range",
                   progress: Callable[[int], None] | None = None,
                   batch: int | None = None) -> Coded:
    """Code each text as one stream; ``batch`` streams (default ``model.max_batch``) advance
    in lockstep at a time, batch after batch. See the module docstring."""
    batch = model.max_batch if batch is None else batch
    parts, base = [], 0
    for group in _batches(len(texts), batch):
        parts.append(_encode_batch([texts[i] for i in group], model, coder,
                                   _offset(progress, base)))
        base += sum(len(texts[i]) for i in group)
    return Coded([c for p in parts for c in p.chunks], [len(t) for t in texts],
                 sum(p.model_bits for p in parts), sum(p.ideal_bits for p in parts),
                 sum(p.n_escapes for p in parts))


def _encode_batch(texts: list[str], model: CodingModel, coder: str,
                  progress: Callable[[int], None] | None) -> Coded:
    Encoder = CODERS[coder][0]
    encoders = [Encoder() for _ in texts]
    escapes = [_Escapes() for _ in texts]
    index = {c: i for i, c in enumerate(model.alphabet)}
    esc = len(model.alphabet)
    t_of = [0] * len(texts)
    probs: list[float] = []       # the model's probability of each coded symbol
    freqs_used: list[int] = []    # and its frequency (summed as code lengths at the end)
    n_escapes = [0]

    def code(s: int, symbol: int, p: float, f: int, freqs: np.ndarray) -> None:
        encoders[s].encode(symbol, freqs)
        probs.append(p)
        freqs_used.append(f)

    def step(s: int, P: np.ndarray, F: np.ndarray) -> str:
        c = texts[s][t_of[s]]
        t_of[s] += 1
        x = index.get(c, esc)
        code(s, x, float(P[x]), int(F[x]), F)
        if x == esc:
            n_escapes[0] += 1
            table = escapes[s]
            w = table.weights()
            j = table.chars.index(c) if c in table.chars else len(table.chars)
            fw = quantize(w)
            code(s, j, float(w[j] / w.sum()), int(fw[j]), fw)
            if j == len(table.chars):
                cp = ord(c)
                for k in reversed(range(_PIECES)):
                    piece = (cp >> (k * _PIECE_BITS)) & ((1 << _PIECE_BITS) - 1)
                    code(s, piece, 2.0 ** -_PIECE_BITS, int(_UNIFORM_PIECE[piece]), _UNIFORM_PIECE)
            table.add(j, c)
        return c

    _lockstep(model, [len(t) for t in texts], step, progress)
    with np.errstate(divide="ignore"):                # a probability of 0 costs inf bits
        model_bits = float(-np.log2(np.array(probs, dtype=np.float64)).sum())
    ideal_bits = float(-np.log2(np.array(freqs_used, dtype=np.float64) / TOTAL).sum())
    return Coded([e.finish() for e in encoders], [len(t) for t in texts], model_bits,
                 ideal_bits, n_escapes[0])


def decode_streams(chunks: list[bytes], lengths: list[int], model: CodingModel,
                   coder: str = "range", progress: Callable[[int], None] | None = None,
                   batch: int | None = None) -> list[str]:
    """Inverse of :func:`encode_streams` (the same loop, the same batches, reading the
    characters back)."""
    batch = model.max_batch if batch is None else batch
    out, base = [], 0
    for group in _batches(len(chunks), batch):
        out += _decode_batch([chunks[i] for i in group], [lengths[i] for i in group], model,
                             coder, _offset(progress, base))
        base += sum(lengths[i] for i in group)
    return out


def _decode_batch(chunks: list[bytes], lengths: list[int], model: CodingModel, coder: str,
                  progress: Callable[[int], None] | None) -> list[str]:
    Decoder = CODERS[coder][1]
    decoders = [Decoder(c) for c in chunks]
    escapes = [_Escapes() for _ in chunks]
    out: list[list[str]] = [[] for _ in chunks]
    alphabet, esc = model.alphabet, len(model.alphabet)
    known = set(alphabet)

    def step(s: int, P: np.ndarray, F: np.ndarray) -> str:
        x = decoders[s].decode(F)
        if x < esc:
            c = alphabet[x]
        else:
            table = escapes[s]
            j = decoders[s].decode(quantize(table.weights()))
            if j < len(table.chars):
                c = table.chars[j]
            else:
                cp = 0
                for _ in range(_PIECES):
                    cp = (cp << _PIECE_BITS) | decoders[s].decode(_UNIFORM_PIECE)
                if cp > _MAX_CODE_POINT or chr(cp) in known or chr(cp) in table.chars:
                    raise CorruptDataError(f"decompress: chunk {s} decodes an escaped code point "
                                           f"{cp:#x} that the encoder cannot have written; the "
                                           "data is damaged or the model differs.")
                c = chr(cp)
            table.add(j, c)
        out[s].append(c)
        return c

    _lockstep(model, lengths, step, progress)
    return ["".join(o) for o in out]
