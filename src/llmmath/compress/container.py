"""The compressed file: a self-describing header, the chunks, and checksums.

Layout (integers little-endian)::

    offset  size  field
         0     8  magic  b"\\x89LMZ\\r\\n\\x1a\\n"  (PNG-style: a text-mode copy breaks it)
         8     1  format version (1)
         9     1  coder: 0 = range (constriction), 1 = arithmetic (the teaching coder)
        10     1  frequency precision in bits (24)
        11     1  streams coded together (a batch; 1 to 255)
        12     8  number of characters of the original
        20     4  chunk size (characters per chunk, at most)
        24     4  number of chunks k
        28     2  length m of the model spec
        30     m  model spec, UTF-8 ("ngram:6:adaptive", a checkpoint path, ...)
            32  SHA-256 of the model's identity
            32  SHA-256 of the original (its UTF-8 bytes)
           4 k  bytes of each chunk
             4  CRC-32 of the header (everything above)
      sum of k  the chunks, one after the other
             4  CRC-32 of the chunks

The chunk lengths in characters follow from the number of characters and the
chunk size (:func:`~llmmath.compress.codec.split_lengths`). The CRCs find a
damaged or cut file before any decoding; the model's SHA-256 refuses the
wrong model; the SHA-256 of the original is the end-to-end check that the
decoded text is the text that was compressed (so decoding never hands back a
wrong text). The fixed part is 102 bytes plus the spec and 4 bytes per chunk.

Examples
--------
>>> h = Header("range", 24, 3, 65536, "uniform", "0" * 64, "1" * 64, [2])
>>> blob = pack(h, [b"ab"])
>>> len(blob), unpack(blob)[1]
(115, [b'ab'])
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from llmmath.compress.errors import ContainerError

__all__ = ["MAGIC", "VERSION", "Header", "pack", "unpack", "ContainerError"]

MAGIC = b"\x89LMZ\r\n\x1a\n"
VERSION = 1
_CODERS = ("range", "arithmetic")
_FIXED = struct.Struct("<8sBBBBQIIH")      # magic .. spec length: 30 bytes


@dataclass(frozen=True)
class Header:
    """The decoded header (see the module docstring for the layout)."""

    coder: str
    precision: int
    n_chars: int
    chunk_size: int
    model_spec: str
    model_sha256: str
    text_sha256: str
    chunk_bytes: list[int]
    batch: int = 64
    version: int = VERSION


def pack(header: Header, chunks: list[bytes]) -> bytes:
    """The file's bytes for ``header`` and the ``chunks`` (in order)."""
    spec = header.model_spec.encode("utf-8", "surrogatepass")
    head = (_FIXED.pack(MAGIC, header.version, _CODERS.index(header.coder), header.precision,
                        header.batch,
                        header.n_chars, header.chunk_size, len(chunks), len(spec))
            + spec + bytes.fromhex(header.model_sha256) + bytes.fromhex(header.text_sha256)
            + b"".join(struct.pack("<I", len(c)) for c in chunks))
    payload = b"".join(chunks)
    return (head + struct.pack("<I", zlib.crc32(head)) + payload
            + struct.pack("<I", zlib.crc32(payload)))


def _need(data: bytes, end: int, what: str) -> None:
    if len(data) < end:
        raise ContainerError(f"decompress: the file is truncated: it ends at byte {len(data)}, "
                             f"inside the {what} (which needs {end} bytes).")


def unpack(data: bytes) -> tuple[Header, list[bytes]]:
    """Parse and check a file written by :func:`pack`; every failure is a :class:`ContainerError`
    that says what is wrong."""
    data = bytes(data)
    if not data.startswith(MAGIC[:min(len(data), len(MAGIC))]) or len(data) == 0:
        raise ContainerError("decompress: not an llmmath compressed file (it does not start "
                             f"with the magic bytes {MAGIC!r}).")
    _need(data, _FIXED.size, "fixed header")
    magic, version, coder, precision, batch, n_chars, chunk_size, k, m = _FIXED.unpack_from(data)
    end = _FIXED.size + m + 64 + 4 * k
    _need(data, end + 4, "header")
    (crc,) = struct.unpack_from("<I", data, end)
    if zlib.crc32(data[:end]) != crc:
        raise ContainerError("decompress: the header is damaged (its CRC-32 does not match); "
                             "the file was changed after it was written.")
    if version != VERSION:
        raise ContainerError(f"decompress: format version {version} is not supported (this "
                             f"llmmath reads version {VERSION}).")
    if coder >= len(_CODERS):
        raise ContainerError(f"decompress: unknown coder id {coder} in the header.")
    at = _FIXED.size
    spec = data[at:at + m].decode("utf-8", "surrogatepass")
    model_sha, text_sha = data[at + m:at + m + 32].hex(), data[at + m + 32:at + m + 64].hex()
    sizes = list(struct.unpack_from(f"<{k}I", data, at + m + 64))
    start, stop = end + 4, end + 4 + sum(sizes)
    _need(data, stop + 4, "compressed chunks")
    if len(data) > stop + 4:
        raise ContainerError(f"decompress: {len(data) - stop - 4} unexpected bytes after the end "
                             "of the compressed data (two files joined, or a damaged file).")
    (crc,) = struct.unpack_from("<I", data, stop)
    payload = data[start:stop]
    if zlib.crc32(payload) != crc:
        raise ContainerError("decompress: the compressed data is damaged (its CRC-32 does not "
                             "match).")
    chunks, pos = [], 0
    for size in sizes:
        chunks.append(payload[pos:pos + size])
        pos += size
    if batch < 1:
        raise ContainerError("decompress: the header's batch size is 0.")
    return Header(_CODERS[coder], precision, n_chars, chunk_size, spec, model_sha, text_sha,
                  sizes, batch, version), chunks
