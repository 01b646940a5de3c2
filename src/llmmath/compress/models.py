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

__all__ = ["CodingModel", "UniformModel", "NGramModel", "identity_sha256", "frequent_contexts"]

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


def frequent_contexts(text: str, k: int, m: int) -> list[str]:
    """The ``m`` most frequent substrings of length ``k`` in ``text`` (ties: in code-point order).

    Examples
    --------
    >>> frequent_contexts("abcabcabd", 2, 3)
    ['ab', 'bc', 'ca']
    """
    if k == 0 or len(text) < k:
        return []
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.int64)
    chars, idx = np.unique(cp, return_inverse=True)
    base = len(chars)
    if base ** k >= 2**63:                     # too many to pack in one integer: count in Python
        counts: dict[str, int] = {}
        for i in range(len(text) - k + 1):
            counts[text[i:i + k]] = counts.get(text[i:i + k], 0) + 1
        return sorted(counts, key=lambda h: (-counts[h], [ord(c) for c in h]))[:m]
    code = np.zeros(len(cp) - k + 1, dtype=np.int64)
    for j in range(k):                         # the k characters as digits in base len(chars)
        code = code * base + idx[j:len(cp) - k + 1 + j]
    keys, n = np.unique(code, return_counts=True)
    top = keys[np.lexsort((keys, -n))[:m]]     # most frequent first; ties by code
    digits = np.stack([(top // base ** (k - 1 - j)) % base for j in range(k)], axis=1)
    return ["".join(map(chr, chars[row])) for row in digits]


class CodingModel:
    """The interface every coding model implements (see the module docstring).

    Lesson: none (part of the ``llmmath compress`` command).
    """

    alphabet: str = ""
    spec: str = ""
    identity: dict = {}
    size_bytes: int = 0
    #: At most this many streams are coded together (one batch); more are coded batch after
    #: batch. A model whose state grows with the text keeps memory bounded by a lower value.
    max_batch: int = 64

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

    Lesson: none (part of the ``llmmath compress`` command).

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

    Lesson: ``compression`` (Language modelling is compression).

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
    warm : (list of str, ndarray), optional
        Contexts of ``order - 1`` characters and their distributions, as
        :meth:`distributions` computes them, kept for every run: the frequent
        contexts of the training text, so that a run rarely has to ask the
        n-gram model (see :func:`frequent_contexts`).

    Examples
    --------
    >>> m = NGramModel.fit("abracadabra", order=2)
    >>> m.alphabet, m.n_symbols
    ('abcdr', 6)
    """

    def __init__(self, lm: NGramLM, *, identity: dict | None = None, spec: str | None = None,
                 size_bytes: Any = None, warm: Any = None) -> None:
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
        self._warm: dict[str, np.ndarray] = {}
        if warm is not None:
            contexts, rows = warm
            if len(contexts) != len(rows) or any(len(h) != self.order - 1 for h in contexts):
                raise InvalidValueError(f"{op}: argument 'warm' must pair contexts of "
                                        f"{self.order - 1} characters with their rows.")
            self._warm = dict(zip(contexts, rows, strict=True))

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

    def distributions(self, contexts: list[str]) -> np.ndarray:
        """The next-character distributions after each context of ``order - 1`` characters.

        Row ``i`` of ``next_token_distributions(s)`` depends on ``s[i-k:i]`` only
        (``k = order - 1``), so for the contexts joined into one string the rows
        that follow each context are its distributions: one call per 4,096 contexts.

        Examples
        --------
        >>> m = NGramModel.fit("abab", order=2)
        >>> bool(np.allclose(m.distributions(["a", "b"]), [m.lm.distribution("a"),
        ...                                                 m.lm.distribution("b")]))
        True
        """
        k = self.order - 1
        out = [self.lm.next_token_distributions("".join(contexts[i:i + 4096]))[k::k]
               for i in range(0, len(contexts), 4096)] if k else []
        return np.concatenate(out) if out else np.zeros((0, self.n_symbols))

    def start(self, n_streams: int) -> dict:
        n = _check_streams(n_streams, "NGramModel.start")
        return {"history": [""] * n, "memo": {}}

    def probs(self, state: dict) -> np.ndarray:
        k, history, memo, warm = self.order - 1, state["history"], state["memo"], self._warm
        if k == 0:
            return np.tile(self.lm.distribution(()), (len(history), 1))
        if len(history[0]) < k:    # the first k steps: a short context means "text starts here"
            return np.stack([self.lm.distribution(h) for h in history])
        # A frequent context has its row ready (the same rows for every run); one met
        # before in this run reuses its row (the decoder, making the same calls in the same
        # order, reuses the same rows); the others are computed together, in one call.
        missing = list(dict.fromkeys(h for h in history if h not in warm and h not in memo))
        if missing and len(memo) + len(missing) > _MEMO_ROWS:       # full: start afresh
            memo.clear()
            missing = list(dict.fromkeys(h for h in history if h not in warm))
        if missing:
            memo.update(zip(missing, self.distributions(missing), strict=True))
        return np.stack([warm[h] if h in warm else memo[h] for h in history])

    def update(self, state: dict, chars: list[str]) -> None:
        k, history = self.order - 1, state["history"]
        for j, c in enumerate(chars):
            history[j] = (history[j] + c)[max(len(history[j]) + 1 - k, 0):] if k else ""
