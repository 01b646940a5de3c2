"""Models that drive the coder: one interface, used the same way by encoder and decoder.

An arithmetic coder is only as good as its model, and only correct if the
decoder sees *bit for bit* the probabilities the encoder saw. Floating point
makes that fragile: a batched forward pass and an incremental one round
differently, so a model that scored the whole text at once while encoding
and one character at a time while decoding would, now and then, produce a
different frequency table and decode garbage. Here both sides run the same
loop (:mod:`llmmath.compress.codec`) through the same three calls:

``state = model.start(n_streams)``
    A fresh state for ``n_streams`` independent texts (the chunks of one input).
``P = model.probs(state)``
    The next-symbol distributions, shape ``(n_streams, V)``, float64.
``model.update(state, chars)``
    Each stream's next character (a ``str`` of length 1).

The ``V = len(alphabet) + 1`` symbols are the model's characters, in order,
and one **escape** (the last symbol): a character outside the alphabet is
coded as the escape followed by the character itself (see the codec), so any
text round-trips.

Every model also has a ``spec`` (how ``llmmath compress -m`` names it), an
``identity`` (a JSON-ready description of exactly what it is; its SHA-256 goes
into the container so that decoding with another model is refused) and a
``size_bytes`` (what it takes to ship the model, for a size that counts it).

Examples
--------
>>> m = UniformModel("ab")
>>> s = m.start(2)
>>> m.probs(s).tolist()
[[0.333..., 0.333..., 0.333...], [0.333..., 0.333..., 0.333...]]
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from llmmath._validation import check_int, describe
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.ngram import UNK, NGramLM

__all__ = ["CodingModel", "UniformModel", "NGramModel", "identity_sha256"]

_MEMO_ROWS = 1 << 16     # distributions an n-gram model keeps per run (then starts afresh)


def identity_sha256(identity: dict) -> str:
    """SHA-256 (hex) of an identity's canonical JSON (sorted keys, no spaces)."""
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(blob.encode("ascii")).hexdigest()


def _check_alphabet(alphabet: Any, op: str) -> str:
    if not isinstance(alphabet, str):
        raise InvalidTypeError(f"{op}: argument 'alphabet' must be a str of characters; got "
                               f"{describe(alphabet)}.")
    if len(set(alphabet)) != len(alphabet):
        raise InvalidValueError(f"{op}: argument 'alphabet' repeats a character; expected "
                                "distinct characters.")
    return alphabet


class CodingModel:
    """The interface every coding model implements (see the module docstring)."""

    alphabet: str = ""
    spec: str = ""
    identity: dict = {}
    size_bytes: int = 0

    @property
    def n_symbols(self) -> int:
        """``V``: the characters of :attr:`alphabet` plus the escape."""
        return len(self.alphabet) + 1

    @property
    def sha256(self) -> str:
        """:func:`identity_sha256` of :attr:`identity`."""
        return identity_sha256(self.identity)

    def start(self, n_streams: int) -> Any:
        raise NotImplementedError

    def probs(self, state: Any) -> np.ndarray:
        raise NotImplementedError

    def update(self, state: Any, chars: list[str]) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r}, {len(self.alphabet)} characters)"


def _check_streams(n_streams: Any, op: str) -> int:
    return check_int(n_streams, "n_streams", op, min_value=1)


class UniformModel(CodingModel):
    """Every symbol (each character of ``alphabet`` and the escape) equally likely.

    The baseline: ``log2(len(alphabet) + 1)`` bits per character, whatever the text.
    """

    def __init__(self, alphabet: str, *, spec: str = "uniform") -> None:
        self.alphabet = "".join(sorted(_check_alphabet(alphabet, "UniformModel")))
        self.spec = spec
        self.identity = {"kind": "uniform", "alphabet": self.alphabet}
        self.size_bytes = len(self.alphabet.encode("utf-8"))

    def start(self, n_streams: int) -> int:
        return _check_streams(n_streams, "UniformModel.start")

    def probs(self, state: int) -> np.ndarray:
        return np.full((state, self.n_symbols), 1.0 / self.n_symbols)

    def update(self, state: int, chars: list[str]) -> None:
        pass


class NGramModel(CodingModel):
    """A fitted character :class:`~llmmath.ngram.NGramLM` (any order, any smoothing).

    The escape is the model's :data:`~llmmath.ngram.UNK`: the probability it
    keeps for characters it never saw. A stream's first ``order - 1``
    characters are predicted from the shorter context (the start of a text,
    as :meth:`NGramLM.nll` reads it); after that every step asks the model for
    all streams at once, in one :meth:`~NGramLM.next_token_distributions` call
    (a context already met in this run reuses its row).

    Parameters
    ----------
    lm : NGramLM
        Fitted on a ``str`` (its symbols are characters).
    identity : dict, optional
        What the model is (default: its order, smoothing, vocabulary and
        counts, and the SHA-256 of its distribution after a fixed context).
    spec : str, optional
        The name ``-m`` gives it (default ``"ngram:<order>"``).
    size_bytes : int or callable, optional
        What shipping the model costs (default: 12 bytes per stored n-gram), or
        a function that computes it when first asked.

    Examples
    --------
    >>> m = NGramModel.fit("abracadabra", order=2)
    >>> m.alphabet, m.n_symbols
    ('abcdr', 6)
    """

    def __init__(self, lm: NGramLM, *, identity: dict | None = None, spec: str | None = None,
                 size_bytes: Any = None) -> None:
        op = "NGramModel"
        if not isinstance(lm, NGramLM):
            raise InvalidTypeError(f"{op}: argument 'lm' must be a fitted NGramLM; got "
                                   f"{describe(lm)}.")
        try:
            vocab = lm.vocab
        except InvalidValueError:
            raise InvalidValueError(f"{op}: argument 'lm' is not fitted; call fit(text) "
                                    "first.") from None
        chars = vocab[:-1]
        if vocab[-1] is not UNK or not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise InvalidValueError(f"{op}: argument 'lm' must be fitted on a str (its symbols "
                                    "characters); got symbols of another kind.")
        self.lm, self.order = lm, lm.order
        self.alphabet = "".join(chars)
        self.spec = spec or f"ngram:{lm.order}"
        self.identity = identity or self._fingerprint()
        counts = sum(lm.num_ngrams(m) for m in range(1, lm.order + 1))
        self._size = 12 * counts if size_bytes is None else size_bytes

    @property
    def size_bytes(self) -> int:
        """What shipping the model costs, in bytes (computed on first use when given as a
        function)."""
        if callable(self._size):
            self._size = int(self._size())
        return int(self._size)

    @classmethod
    def fit(cls, text: str, order: int, smoothing: str = "kneser_ney", **kwargs: Any) -> NGramModel:
        """Fit an :class:`NGramLM` on ``text``; the identity records the text's SHA-256."""
        lm = NGramLM(order, smoothing).fit(text)
        sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        identity = {"kind": "ngram", "order": order, "smoothing": smoothing, "text_sha256": sha}
        return cls(lm, identity=kwargs.pop("identity", identity), **kwargs)

    def _fingerprint(self) -> dict:
        lm = self.lm
        probe = lm.distribution(self.alphabet[: lm.order - 1])
        return {"kind": "ngram", "order": lm.order, "smoothing": lm.smoothing,
                "alphabet": self.alphabet, "n_tokens": int(lm.n_tokens),
                "ngrams": [lm.num_ngrams(m) for m in range(1, lm.order + 1)],
                "probe_sha256": hashlib.sha256(probe.tobytes()).hexdigest()}

    def start(self, n_streams: int) -> dict:
        n = _check_streams(n_streams, "NGramModel.start")
        return {"history": [""] * n, "memo": {}}

    def probs(self, state: dict) -> np.ndarray:
        k, history, memo = self.order - 1, state["history"], state["memo"]
        if k == 0:
            return np.tile(self.lm.distribution(()), (len(history), 1))
        if len(history[0]) < k:    # the first k steps: a short context means "text starts here"
            return np.stack([self.lm.distribution(h) for h in history])
        # A context seen before in this run reuses its row (the decoder, running the same
        # calls in the same order, reuses the same rows). The others are computed in one
        # call: row i of next_token_distributions(s) depends on s[i-k:i] only, so the rows
        # that follow each k-character context are the distributions after it.
        missing = list(dict.fromkeys(h for h in history if h not in memo))
        if missing:
            if len(memo) + len(missing) > _MEMO_ROWS:
                memo.clear()
            rows = self.lm.next_token_distributions("".join(missing))[k::k].copy()
            memo.update(zip(missing, rows, strict=True))
        return np.stack([memo[h] for h in history])

    def update(self, state: dict, chars: list[str]) -> None:
        k, history = self.order - 1, state["history"]
        for j, c in enumerate(chars):
            history[j] = (history[j] + c)[max(len(history[j]) + 1 - k, 0):] if k else ""
