"""The teaching arithmetic coder: integers only, one screen, every step visible.

A message is a point in [0, 1). Each symbol narrows the current interval to
the slice its frequency owns: with cumulative frequencies ``c_lo <= c_hi`` out
of ``T = 2**PRECISION``,

    low  <- low + width * c_lo / T,     width <- width * (c_hi - c_lo) / T.

After ``n`` symbols the width is ``prod_t q_t(x_t)``, so about
``-log2(width) = sum_t -log2 q_t(x_t)`` bits name a point inside it: the code
length is the quantised model's cross-entropy, plus at most two bits.
:func:`narrow` does exactly this with exact fractions (the mathematics).

:class:`Encoder` and :class:`Decoder` do it with 32-bit integers (the method
of Witten, Neal and Cleary, 1987): whenever the interval lies in one half of
the register, its leading bit is decided, written out, and the interval is
doubled ("renormalised"). An interval that straddles the middle while shrinking
inside the second and third quarters doubles around the centre, and the bit it
owes is written as soon as the next bit is known (``pending``). After
renormalising, the width exceeds 2**30 >= T, so every symbol (frequency >= 1)
keeps a non-empty slice. The decoder mirrors each step on the bits it reads.

This coder is slow (pure Python, one symbol at a time) and meant for reading
and for short texts; :mod:`llmmath.compress.range_coder` is the fast path.
Both take the same frequencies and write output of the same length to within
a few bytes.

References
----------
.. [1] I. H. Witten, R. M. Neal and J. G. Cleary, "Arithmetic coding for data
   compression", Communications of the ACM 30(6), 1987.
.. [2] T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed.,
   section 13.3 "Arithmetic coding".

Examples
--------
>>> enc = Encoder()
>>> for x in [0, 1, 1, 0]:
...     enc.encode(x, [1 << 23, 1 << 23])            # two equally likely symbols
>>> data = enc.finish()
>>> dec = Decoder(data)
>>> [dec.decode([1 << 23, 1 << 23]) for _ in range(4)]
[0, 1, 1, 0]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from llmmath.compress.frequencies import TOTAL

__all__ = ["narrow", "Encoder", "Decoder"]

BITS = 32
FULL, HALF, QUARTER = 1 << BITS, 1 << (BITS - 1), 1 << (BITS - 2)


def _slice(freqs: Any, symbol: int) -> tuple[int, int]:
    """Cumulative frequencies ``(c_lo, c_hi)`` of ``symbol``."""
    c_lo = sum(int(f) for f in freqs[:symbol])
    return c_lo, c_lo + int(freqs[symbol])


def narrow(symbols: Any, freqs: Any) -> list[tuple[Fraction, Fraction]]:
    """The exact interval ``[low, low + width)`` after each symbol (ideal arithmetic coding).

    Lesson: ``compression`` (Language modelling is compression).

    Examples
    --------
    >>> [(str(lo), str(w)) for lo, w in narrow([1, 0], [[1 << 22, 3 << 22]] * 2)]
    [('1/4', '3/4'), ('1/4', '3/16')]
    """
    low, width, out = Fraction(0), Fraction(1), []
    for x, f in zip(symbols, freqs, strict=True):
        c_lo, c_hi = _slice(f, int(x))
        low, width = low + width * Fraction(c_lo, TOTAL), width * Fraction(c_hi - c_lo, TOTAL)
        out.append((low, width))
    return out


class Encoder:
    """Arithmetic encoder; ``trace`` (a list) receives ``(low, high, bits written)`` per symbol.

    Lesson: ``compression`` (Language modelling is compression).
    """

    def __init__(self, trace: list | None = None) -> None:
        self.low, self.high, self.pending = 0, FULL - 1, 0
        self.bits: list[int] = []
        self.trace = trace

    def _emit(self, bit: int) -> None:
        self.bits.append(bit)
        self.bits.extend([1 - bit] * self.pending)    # the bits owed by centre doublings
        self.pending = 0

    def encode(self, symbol: int, freqs: Any) -> None:
        c_lo, c_hi = _slice(freqs, symbol)
        width = self.high - self.low + 1
        self.low, self.high = self.low + width * c_lo // TOTAL, self.low + width * c_hi // TOTAL - 1
        if self.trace is not None:
            self.trace.append((self.low, self.high, len(self.bits) + self.pending))
        while True:
            if self.high < HALF:                              # in the lower half: a 0
                self._emit(0)
            elif self.low >= HALF:                            # in the upper half: a 1
                self._emit(1)
                self.low, self.high = self.low - HALF, self.high - HALF
            elif self.low >= QUARTER and self.high < HALF + QUARTER:   # around the centre
                self.pending += 1
                self.low, self.high = self.low - QUARTER, self.high - QUARTER
            else:
                break
            self.low, self.high = 2 * self.low, 2 * self.high + 1

    def finish(self) -> bytes:
        """Two more bits select a quarter inside the interval; then pack (trailing zero bytes
        are dropped: the decoder reads zeros past the end)."""
        self.pending += 1
        self._emit(0 if self.low < QUARTER else 1)
        bits = self.bits + [0] * (-len(self.bits) % 8)
        data = bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))
        return data.rstrip(b"\0")


class Decoder:
    """Arithmetic decoder over ``data`` (bits past its end read as 0).

    Lesson: ``compression`` (Language modelling is compression).
    """

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = bytes(data), 0
        self.low, self.high, self.value = 0, FULL - 1, 0
        for _ in range(BITS):
            self.value = 2 * self.value + self._bit()

    def _bit(self) -> int:
        i, self.pos = self.pos, self.pos + 1
        return (self.data[i >> 3] >> (7 - (i & 7))) & 1 if i < 8 * len(self.data) else 0

    def decode(self, freqs: Any) -> int:
        width = self.high - self.low + 1
        target = ((self.value - self.low + 1) * TOTAL - 1) // width   # where value falls, in T
        symbol, c_hi = 0, int(freqs[0])
        while c_hi <= target:
            symbol += 1
            c_hi += int(freqs[symbol])
        c_lo = c_hi - int(freqs[symbol])
        self.low, self.high = self.low + width * c_lo // TOTAL, self.low + width * c_hi // TOTAL - 1
        while True:
            if self.high < HALF:
                pass
            elif self.low >= HALF:
                self.low, self.high, self.value = self.low - HALF, self.high - HALF, self.value - HALF
            elif self.low >= QUARTER and self.high < HALF + QUARTER:
                self.low, self.high = self.low - QUARTER, self.high - QUARTER
                self.value -= QUARTER
            else:
                break
            self.low, self.high = 2 * self.low, 2 * self.high + 1
            self.value = 2 * self.value + self._bit()
        return symbol
