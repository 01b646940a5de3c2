"""The production coder: ``constriction``'s range coder, fed the same integer frequencies.

``constriction`` (Bamler, 2022) implements range coding, the byte-oriented
form of arithmetic coding, in Rust. Its queue coder
(:class:`constriction.stream.queue.RangeEncoder`) decodes symbols in the order
they were encoded, which is what an autoregressive model needs, and its
categorical models work at ``PRECISION = 24`` bits, the precision of
:func:`~llmmath.compress.frequencies.quantize`.

**Exactly our frequencies.** ``constriction`` builds a categorical model from
floating-point weights ``w`` by giving every symbol 1 and the rest of
``2**24 - V`` in proportion to ``w``: the left end of symbol ``i`` is
``floor(sum_{j<i} w_j * (2**24 - V) / sum(w)) + i``. Passing ``w = f - 1``
(exact integers in float64, summing to ``2**24 - V``) makes the scale exactly
1, so its model has exactly the frequencies ``f`` that :func:`quantize` chose:
the two coders code the same distributions, and a test checks the code length.

The encoder buffers symbols and hands them to ``constriction`` in blocks of
equal alphabet size (one call per block, not per symbol); the decoder has to
ask one symbol at a time, because the next distribution depends on it.

References
----------
.. [1] R. Bamler, "Understanding entropy coding with asymmetric numeral
   systems (ANS): a statistician's perspective", 2022 (the ``constriction``
   library, https://bamler-lab.github.io/constriction/).
.. [2] G. N. N. Martin, "Range encoding: an algorithm for removing redundancy
   from a digitised message", 1979.

Examples
--------
>>> enc = Encoder()
>>> for x in [0, 1, 1, 0]:
...     enc.encode(x, [1 << 23, 1 << 23])
>>> dec = Decoder(enc.finish())
>>> [dec.decode([1 << 23, 1 << 23]) for _ in range(4)]
[0, 1, 1, 0]
"""

from __future__ import annotations

from typing import Any

import constriction
import numpy as np

from llmmath.compress.errors import CorruptDataError

__all__ = ["Encoder", "Decoder"]

_BLOCK = 4096          # symbols handed to constriction per call


def _weights(freqs: Any) -> np.ndarray:
    """``f - 1`` as float64: the weights for which constriction's quantiser returns ``f``."""
    return np.asarray(freqs, dtype=np.float64) - 1.0


class Encoder:
    """Range encoder over integer frequencies (the interface of the teaching coder)."""

    def __init__(self) -> None:
        self._coder = constriction.stream.queue.RangeEncoder()
        self._family = constriction.stream.model.Categorical(perfect=False)
        self._symbols: list[int] = []
        self._rows: list[np.ndarray] = []

    def encode(self, symbol: int, freqs: Any) -> None:
        if len(freqs) == 1:                     # a certain symbol costs nothing
            return
        if self._rows and len(self._rows[0]) != len(freqs) or len(self._rows) >= _BLOCK:
            self._flush()
        self._symbols.append(int(symbol))
        self._rows.append(freqs)

    def _flush(self) -> None:
        if self._rows:
            self._coder.encode(np.array(self._symbols, dtype=np.int32), self._family,
                               _weights(np.stack(self._rows)))
            self._symbols, self._rows = [], []

    def finish(self) -> bytes:
        """The compressed bytes (32-bit words, little-endian; trailing zero bytes dropped)."""
        self._flush()
        return self._coder.get_compressed().astype("<u4").tobytes().rstrip(b"\0")


class Decoder:
    """Range decoder over ``data`` written by :class:`Encoder`."""

    def __init__(self, data: bytes) -> None:
        data = bytes(data) + b"\0" * (-len(data) % 4)          # restore the dropped zero bytes
        words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
        self._coder = constriction.stream.queue.RangeDecoder(words)
        self._family = constriction.stream.model.Categorical(perfect=False)

    def decode(self, freqs: Any) -> int:
        row = _weights(freqs)
        if len(row) == 1:
            return 0
        try:
            return int(self._coder.decode(self._family, row[None, :])[0])
        except (ValueError, RuntimeError) as exc:      # damaged data can end the stream early
            raise CorruptDataError(f"decompress: the compressed stream is damaged ({exc}).") \
                from None
