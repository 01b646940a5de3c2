"""Model specs (the ``-m`` of ``llmmath compress``) and the cache of corpus n-gram models.

The specs are a contract:

``uniform``
    Every character of the corpus's training split, and the escape, equally likely.
``ngram:N``
    Kneser-Ney of order ``N`` fitted on the corpus's training split
    (:func:`llmmath.data.load_corpus`).
``ngram:N:adaptive``
    The same, mixed with counts of the text being coded (:mod:`~llmmath.compress.adaptive`).
``CKPT``
    A GPT training checkpoint (a ``ckpt.npz`` or its directory).
``mix:A+B``
    The geometric mixture of two of the above, e.g. ``mix:out-small+ngram:5``.

Fitting an n-gram model on four million characters takes seconds, so the
fitted model is cached in the per-user cache directory (``platformdirs``)
after first use, as an ordinary llmmath checkpoint (JSON and arrays, no
pickle), written atomically. The cache key covers the corpus text, the order,
the smoothing and the source of :mod:`llmmath.ngram`; an unreadable or stale
entry is refitted and replaced.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from llmmath import ngram
from llmmath._validation import describe
from llmmath.checkpoint import (
    CheckpointError,
    from_tree,
    load_checkpoint,
    save_checkpoint,
    to_tree,
)
from llmmath.compress.adaptive import adaptive_ngram
from llmmath.compress.mixing import GeometricMixture
from llmmath.compress.models import CodingModel, NGramModel, UniformModel, frequent_contexts
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = ["DEFAULT_SPEC", "load_model", "corpus_ngram", "cache_dir", "SPEC_HELP"]

#: The model used when none is named: the best one that needs no training run.
DEFAULT_SPEC = "ngram:6:adaptive"
SPEC_HELP = ("uniform | ngram:N | ngram:N:adaptive | CKPT (a GPT checkpoint or its directory) | "
             "mix:CKPT+ngram:N")
_NGRAM = re.compile(r"ngram:(\d+)(:adaptive)?")
_MAX_ORDER = 12
#: Contexts whose distributions a corpus n-gram model keeps ready (the most frequent ones).
WARM_CONTEXTS = 1 << 15
_SPECIALS = {"BOS": ngram.BOS, "UNK": ngram.UNK}
_MARK = "\0llmmath.ngram."                     # a symbol of length > 1 cannot be a character


def cache_dir() -> Path:
    """Where fitted corpus models are kept (``LLMMATH_CACHE_DIR`` overrides the per-user default)."""
    import platformdirs

    return Path(os.environ.get("LLMMATH_CACHE_DIR") or platformdirs.user_cache_dir("llmmath"))


def _corpus_train() -> str:
    from llmmath.data import load_corpus

    return load_corpus().train


def _encode_specials(value: Any) -> Any:
    if value is ngram.BOS or value is ngram.UNK:
        return _MARK + repr(value)
    if isinstance(value, dict):
        return {_encode_specials(k): _encode_specials(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_encode_specials(v) for v in value)
    return value


def _decode_specials(value: Any) -> Any:
    names = {_MARK + repr(v): v for v in _SPECIALS.values()}
    if isinstance(value, str) and value in names:
        return names[value]
    if isinstance(value, dict):
        return {_decode_specials(k): _decode_specials(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_decode_specials(v) for v in value)
    return value


def _probe(lm: ngram.NGramLM) -> np.ndarray:
    return lm.distribution("the " [: max(lm.order - 1, 0)])


def _save(path: Path, lm: ngram.NGramLM, key: str) -> None:
    arrays: dict[str, np.ndarray] = {}
    tree = to_tree(_encode_specials(dict(vars(lm))), arrays, "lm")
    arrays["probe"] = _probe(lm)
    save_checkpoint(path, {"format": "llmmath-ngram-cache", "key": key, "state": tree}, arrays)


def _load(path: Path, key: str) -> ngram.NGramLM | None:
    try:
        ck = load_checkpoint(path)
        if ck.header.get("format") != "llmmath-ngram-cache" or ck.header.get("key") != key:
            return None
        lm = ngram.NGramLM.__new__(ngram.NGramLM)
        vars(lm).update(_decode_specials(from_tree(ck.header["state"], ck.arrays)))
        if not np.array_equal(_probe(lm), ck.arrays["probe"]):   # exact: same numbers stored
            return None
        return lm
    except (CheckpointError, KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None


@functools.lru_cache(maxsize=4)
def corpus_ngram(order: int, smoothing: str = "kneser_ney") -> tuple[ngram.NGramLM, str, str]:
    """The n-gram model fitted on the corpus's training split, that text's SHA-256, and the
    cache key (which also covers the order, the smoothing and the n-gram code).

    Cached in memory and in :func:`cache_dir` (written atomically).
    """
    text = _corpus_train()
    text_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    source = hashlib.sha256(Path(ngram.__file__).read_bytes()).hexdigest()
    key = hashlib.sha256(f"{text_sha}:{order}:{smoothing}:{source}".encode()).hexdigest()
    path = cache_dir() / "ngram" / f"shakespeare-train-{smoothing}-{order}-{key[:16]}.npz"
    lm = _load(path, key) if path.is_file() else None
    if lm is None:
        lm = ngram.NGramLM(order, smoothing).fit(text)
        try:
            _save(path, lm, key)
            for stale in path.parent.glob(f"shakespeare-train-{smoothing}-{order}-*.npz"):
                if stale != path:     # fitted by an older llmmath or on another text
                    stale.unlink()
        except OSError:               # a read-only cache is no reason to fail; refit next time
            pass
    return lm, text_sha, key


def _warm_table(model: NGramModel, key: str) -> tuple[list[str], np.ndarray]:
    """The distributions after the :data:`WARM_CONTEXTS` most frequent contexts of the
    training text, computed by ``model.distributions`` and cached beside the model."""
    k = model.order - 1
    path = cache_dir() / "ngram" / f"warm-{k}-{WARM_CONTEXTS}-{key[:16]}.npz"
    try:
        ck = load_checkpoint(path)
        if ck.header.get("key") == key:
            codes = ck.arrays["contexts"]
            contexts = [codes[i].tobytes().decode("utf-32-le") for i in range(len(codes))]
            return contexts, ck.arrays["rows"]
    except (CheckpointError, KeyError, ValueError):
        pass
    contexts = frequent_contexts(_corpus_train(), k, WARM_CONTEXTS)
    rows = model.distributions(contexts)
    codes = np.array([[ord(c) for c in h] for h in contexts], dtype=np.uint32).reshape(-1, k)
    try:
        save_checkpoint(path, {"format": "llmmath-ngram-warm", "key": key},
                        {"contexts": codes, "rows": rows})
        for stale in path.parent.glob(f"warm-{k}-{WARM_CONTEXTS}-*.npz"):
            if stale != path:
                stale.unlink()
    except OSError:
        pass
    return contexts, rows


def _corpus_model(order: int) -> NGramModel:
    lm, sha, key = corpus_ngram(order)
    identity = {"kind": "ngram", "order": order, "smoothing": "kneser_ney",
                "corpus": "shakespeare", "split": "train", "text_sha256": sha}
    model = NGramModel(lm, identity=identity, spec=f"ngram:{order}",
                       size_bytes=_size_of_corpus_train)
    if order == 1:
        return model
    return NGramModel(lm, identity=identity, spec=f"ngram:{order}",
                      size_bytes=_size_of_corpus_train, warm=_warm_table(model, key))


@functools.lru_cache(maxsize=1)
def _size_of_corpus_train() -> int:
    """The model's size for a size that counts it: what rebuilds it, its training text,
    compressed (bz2 -9, the best classical compressor on this corpus, and a fast one)."""
    import bz2

    return len(bz2.compress(_corpus_train().encode("utf-8"), 9))


def _simple(spec: str) -> CodingModel:
    if spec == "uniform":
        return UniformModel("".join(sorted(set(_corpus_train()))))
    match = _NGRAM.fullmatch(spec)
    if match:
        order = int(match.group(1))
        if not 1 <= order <= _MAX_ORDER:
            raise InvalidValueError(f"model spec {spec!r}: the order must be 1 to {_MAX_ORDER}.")
        base = _corpus_model(order)
        return adaptive_ngram(base, spec=spec) if match.group(2) else base
    if spec.startswith("ngram"):
        raise InvalidValueError(f"model spec {spec!r} is not ngram:N or ngram:N:adaptive.")
    path = Path(spec)
    if not path.exists():
        raise InvalidValueError(f"model spec {spec!r} is not one of {SPEC_HELP}, and no file or "
                                "directory of that name exists.")
    from llmmath.compress.gpt import GPTModel  # loads the training stack: only for checkpoints

    return GPTModel.from_checkpoint(path)


def load_model(spec: Any) -> CodingModel:
    """The :class:`CodingModel` a spec names (see the module docstring).

    Lesson: none (part of the ``llmmath compress`` command).

    Examples
    --------
    >>> load_model("uniform").n_symbols     # the 83 characters of the training plays, and the escape
    84
    """
    if isinstance(spec, CodingModel):
        return spec
    if not isinstance(spec, (str, os.PathLike)):
        raise InvalidTypeError(f"load_model: argument 'spec' must be a model spec ({SPEC_HELP}) "
                               f"or a CodingModel; got {describe(spec)}.")
    spec = os.fspath(spec).strip()
    if spec.startswith("mix:"):
        body = spec[4:]
        for at in [i for i, c in enumerate(body) if c == "+"]:
            left, right = body[:at], body[at + 1:]
            if _NGRAM.fullmatch(right) or right == "uniform" or Path(right).exists():
                parts = [_simple(left), _simple(right)]
                return GeometricMixture(parts, init=[0.5, 0.5],
                                        spec="mix:" + "+".join(p.spec for p in parts))
        raise InvalidValueError(f"model spec {spec!r}: a mixture is mix:A+B with A and B two "
                                f"specs ({SPEC_HELP}).")
    return _simple(spec)
