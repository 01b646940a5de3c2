"""N-gram language models: counting, add-k smoothing and Kneser-Ney.

An order-n model makes the Markov assumption: the next token depends on the
``n - 1`` tokens before it only, ``P(x_i | x_<i) ~ P(x_i | x_{i-n+1}, ..., x_{i-1})``.
The probabilities come from counts over a training sequence.

Conventions used throughout this module:

* **Symbols.** Tokens are any hashable symbols: the characters of a string,
  integers, words. The vocabulary is fixed by :meth:`NGramLM.fit`: the distinct
  training symbols (sorted when they can be compared, else in order of first
  appearance) followed by :data:`UNK`, which stands for every symbol never seen
  in training. ``distribution(context)`` is a vector over ``model.vocab``.
* **Start of a sequence.** Every sequence is read as if preceded by ``order - 1``
  copies of :data:`BOS`. A context shorter than ``order - 1`` symbols therefore
  means "the sequence starts here"; a longer one is cut to its last
  ``order - 1`` symbols. :data:`BOS` is a context symbol only: it is never
  predicted and is not part of ``vocab``.
* **Units.** Log-probabilities are natural logs; ``nll`` and ``cross_entropy``
  are in nats per token (``base=2`` gives bits).

Smoothing methods (``smoothing=``):

``"mle"``
    Relative frequencies ``c(h w) / c(h)``. A context never seen in training
    uses its longest seen suffix (down to the unigram). Tokens never seen after
    a context get probability 0, so a held-out perplexity is usually ``inf``.
``"laplace"``, ``"add_k"``
    ``(c(h w) + k) / (c(h) + k |V|)`` with ``k = 1`` for Laplace; an unseen
    context gives the uniform distribution.
``"kneser_ney"``
    Interpolated Kneser-Ney as written by Chen & Goodman (1998) with one
    absolute discount ``D`` per order, estimated as ``D = n1 / (n1 + 2 n2)``
    where ``n_r`` counts the n-grams seen exactly ``r`` times (``D = 0.5``
    when there are no singletons, so unseen tokens keep some probability).
``"modified_kneser_ney"``
    The same recursion with three discounts per order (for counts 1, 2 and 3+),
    Chen & Goodman's modified Kneser-Ney: with ``Y = n1 / (n1 + 2 n2)``,
    ``D1 = 1 - 2Y n2/n1``, ``D2 = 2 - 3Y n3/n2``, ``D3+ = 3 - 4Y n4/n3``, each
    clipped to ``[0, r]`` (one shared ``Y`` when some of ``n1..n3`` is 0).

Both Kneser-Ney variants use the recursion::

    p_m(w | h) = [ max(c_m(h w) - D(c_m(h w)), 0) + gamma_m(h) p_{m-1}(w | h') ] / c_m(h .)
    gamma_m(h) = sum_w D(c_m(h w)),      p_0(w) = 1 / |V|

where ``h'`` drops the first symbol of ``h``, ``c_n`` are raw counts at the
highest order and, below it, ``c_m(h w)`` is the continuation count: the number
of distinct symbols ``u`` for which ``u h w`` occurs. A context with
``c_m(h .) = 0`` passes ``p_{m-1}`` through unchanged. The discounts of order
``m`` are estimated from the counts ``c_m`` that order discounts (raw counts at
the top, continuation counts below), as in Heafield et al. (2013).

References
----------
.. [1] S. F. Chen and J. Goodman, "An empirical study of smoothing techniques
   for language modeling", Harvard TR-10-98, 1998.
.. [2] R. Kneser and H. Ney, "Improved backing-off for m-gram language
   modeling", ICASSP 1995.
.. [3] K. Heafield, I. Pouzyrevsky, J. H. Clark and P. Koehn, "Scalable
   modified Kneser-Ney language model estimation", ACL 2013.
.. [4] D. Jurafsky and J. H. Martin, *Speech and Language Processing*, 3rd ed.
   draft, chapter 3 "N-gram language models".
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Set
from typing import Any

import numpy as np

from llmmath._validation import (
    as_float_array,
    check_allocation,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_rng,
)
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = ["NGramLM", "BOS", "UNK", "SMOOTHING_METHODS"]

SMOOTHING_METHODS = ("mle", "laplace", "add_k", "kneser_ney", "modified_kneser_ney")
MAX_ORDER = 255


class _Special:
    """A marker symbol that cannot be confused with any user symbol."""

    __slots__ = ("_global", "_text")

    def __init__(self, global_name: str, text: str) -> None:
        self._global = global_name
        self._text = text

    def __repr__(self) -> str:
        return self._text

    def __reduce__(self) -> str:  # copy and pickle give back the module's own object
        return self._global


#: The beginning-of-sequence marker that pads every context on the left.
BOS = _Special("BOS", "<s>")
#: The vocabulary entry that stands for every symbol not seen in training.
UNK = _Special("UNK", "<unk>")


def _as_symbols(tokens: Any, name: str, op: str) -> str | list:
    """A ``str`` as is, any other ordered collection as a list of symbols."""
    if isinstance(tokens, str):
        return tokens
    if isinstance(tokens, np.ndarray):
        if tokens.ndim != 1:
            raise ShapeError(f"{op}: argument '{name}' must be a 1-D sequence of symbols; got "
                             f"an array of shape {tokens.shape}.")
        return tokens.tolist()
    if isinstance(tokens, (Mapping, Set)) or not isinstance(tokens, Iterable):
        raise InvalidTypeError(f"{op}: argument '{name}' must be a string or an ordered sequence "
                               f"of hashable symbols; got {type(tokens).__name__}.")
    return list(tokens)


def _safe_log(p: np.ndarray) -> np.ndarray:
    """Natural log with log 0 = -inf and no warning."""
    return np.log(p, out=np.full(p.shape, -np.inf), where=p > 0)


def _unique(keys: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted distinct values of ``keys`` (all in ``[0, bound)``), the position of each
    key among them, and how often each occurs. Counting replaces sorting when the
    key space is small enough for a table."""
    if bound <= 1 << 25:
        counts = np.bincount(keys, minlength=bound)
        present = np.flatnonzero(counts)
        table = np.zeros(bound, dtype=np.int64)
        table[present] = np.arange(len(present))
        return present, table[keys], counts[present]
    distinct, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return distinct, inverse.reshape(-1), counts


def _lookup(keys: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Position of each query in the sorted array ``keys``, or -1 where absent."""
    j = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[j] == query, j, -1)


class NGramLM:
    """An order-n language model estimated by counting.

    Lessons: ``mle`` (The chain rule of probability and MLE); ``ngrams`` (The Markov assumption and
    n-gram models); ``tokenization`` (Tokenization is compression).

    Parameters
    ----------
    order : int
        ``n``: the model conditions on the previous ``n - 1`` tokens (1 to 255).
    smoothing : str
        One of ``"mle"``, ``"laplace"``, ``"add_k"``, ``"kneser_ney"`` (default)
        and ``"modified_kneser_ney"`` (see the module docstring for formulas).
    k : float
        The pseudo-count of ``"add_k"`` (> 0). ``"laplace"`` is ``k = 1``.
    discount : float or array_like, optional
        Fixed Kneser-Ney discounts instead of the estimated ones: a number in
        [0, 1] or one per order (lowest order first) for ``"kneser_ney"``; three
        numbers (for counts 1, 2, 3+, each ``D_r <= r``), or ``order`` rows of
        three, for ``"modified_kneser_ney"``.

    Raises
    ------
    ValueError
        ``order < 1``, an unknown ``smoothing``, ``k <= 0`` or a discount out of range.

    Notes
    -----
    Fitting encodes each context as an integer: the context of length ``j`` gets
    a dense id from the pair (id of its last ``j - 1`` symbols, the symbol before
    them), so the counts of every order come from a few :func:`numpy.unique`
    calls, and scoring a sequence is a handful of :func:`numpy.searchsorted`
    look-ups per order. Order 5 on four million characters fits in seconds.

    References
    ----------
    Chen & Goodman (1998); Kneser & Ney (1995); see the module docstring.

    Examples
    --------
    >>> lm = NGramLM(2, smoothing="mle").fit("abab")
    >>> print(lm.prob("a", "b"))    # 'a' is followed by 'b' both times
    1.0
    >>> kn = NGramLM(3).fit("the cat sat on the mat")
    >>> print(round(float(kn.distribution("th").sum()), 12))
    1.0
    >>> print(kn.perplexity("the cat") < kn.perplexity("xyz zq"))
    True
    """

    def __init__(self, order: int, smoothing: str = "kneser_ney", *, k: float = 1.0,
                 discount: Any = None) -> None:
        op = "NGramLM"
        self.order = check_int(order, "order", op, min_value=1, max_value=MAX_ORDER)
        self.smoothing = check_choice(smoothing, "smoothing", op, SMOOTHING_METHODS)
        self.k = check_float(k, "k", op, min_value=0.0, min_inclusive=False)
        if smoothing == "laplace" and self.k != 1.0:
            raise InvalidValueError(f"{op}: smoothing 'laplace' means k = 1; got k={self.k}. "
                                    "Use smoothing='add_k' for another pseudo-count.")
        self._fixed_discount = None if discount is None else self._check_discount(discount)
        self._fitted = False

    # ------------------------------------------------------------------ set-up
    def _check_discount(self, discount: Any) -> np.ndarray:
        op, n = "NGramLM", self.order
        if self.smoothing not in ("kneser_ney", "modified_kneser_ney"):
            raise InvalidValueError(f"{op}: argument 'discount' applies to Kneser-Ney smoothing "
                                    f"only; got smoothing={self.smoothing!r}.")
        d = as_float_array(discount, "discount", op, ndim=(0, 1, 2))
        if self.smoothing == "kneser_ney":
            if d.shape not in ((), (n,)):
                raise ShapeError(f"{op}: argument 'discount' must be a number or {n} numbers "
                                 f"(one per order); got shape {d.shape}.")
            table = np.repeat(np.broadcast_to(d, (n,))[:, None], 3, axis=1)
        else:
            if d.shape not in ((3,), (n, 3)):
                raise ShapeError(f"{op}: argument 'discount' must have shape (3,) or ({n}, 3) "
                                 f"(discounts for counts 1, 2, 3+); got shape {d.shape}.")
            table = np.array(np.broadcast_to(d, (n, 3)), dtype=np.float64)
        limit = np.array([1.0, 1.0, 1.0] if self.smoothing == "kneser_ney" else [1.0, 2.0, 3.0])
        if (table < 0).any() or (table > limit).any():
            raise InvalidValueError(f"{op}: argument 'discount' must lie in [0, 1] (modified "
                                    f"Kneser-Ney: D_r in [0, r]); got {d.tolist()}.")
        return table

    def _estimate_discounts(self, counts: np.ndarray) -> np.ndarray:
        """Chen & Goodman's estimates from the count-of-counts n_1..n_4 of one order."""
        n1, n2, n3, n4 = (int(np.count_nonzero(counts == r)) for r in (1, 2, 3, 4))
        y = n1 / (n1 + 2 * n2) if n1 > 0 else 0.5  # no singletons: keep mass for unseen tokens
        if self.smoothing == "kneser_ney" or min(n1, n2, n3) == 0:
            return np.array([y, y, y])
        d = np.array([1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3])
        return np.clip(d, 0.0, [1.0, 2.0, 3.0])

    def _require_fit(self, op: str) -> None:
        if not self._fitted:
            raise InvalidValueError(f"{op}: the model is not fitted; call fit(tokens) first.")

    # ------------------------------------------------------------------ encoding
    def _encode(self, tokens: Any, name: str, op: str, *, allow_bos: bool = False) -> np.ndarray:
        """Symbol ids (unknown symbols become UNK's id)."""
        seq = _as_symbols(tokens, name, op)
        if isinstance(seq, str) and self._codepoints is None:
            raise InvalidTypeError(f"{op}: argument '{name}' is a str, but the model's symbols are "
                                   "not single characters; pass a sequence of symbols, e.g. a "
                                   "tuple of words.")
        if isinstance(seq, str) and self._codepoints is not None:
            cp = np.frombuffer(seq.encode("utf-32-le", "surrogatepass"), dtype="<u4")
            j = np.minimum(np.searchsorted(self._codepoints, cp), len(self._codepoints) - 1)
            return np.where(self._codepoints[j] == cp, j, self._unk).astype(np.int64)
        if isinstance(seq, str):
            seq = list(seq)
        get, unk = self._index.get, self._unk
        try:
            ids = np.fromiter((get(s, unk) for s in seq), dtype=np.int64, count=len(seq))
        except TypeError as exc:
            raise InvalidTypeError(f"{op}: argument '{name}' holds an unhashable symbol "
                                   f"({exc}); symbols must be hashable.") from None
        if not allow_bos and (ids == self._bos).any():
            raise InvalidValueError(f"{op}: argument '{name}' contains BOS at index "
                                    f"{int(np.argmax(ids == self._bos))}; BOS is a context "
                                    "marker and is never predicted.")
        return ids

    def _context_ids(self, context: Any, op: str) -> np.ndarray:
        ids = self._encode(context, "context", op, allow_bos=True)
        ids = ids[max(len(ids) - (self.order - 1), 0):] if self.order > 1 else ids[:0]
        return np.concatenate([np.full(self.order - 1 - len(ids), self._bos), ids])

    def _padded(self, ids: np.ndarray) -> np.ndarray:
        return np.concatenate([np.full(self.order - 1, self._bos, dtype=np.int64), ids])

    # ------------------------------------------------------------------ fitting
    def fit(self, tokens: Any) -> NGramLM:
        """Count the n-grams of ``tokens`` and build the smoothed model.

        Parameters
        ----------
        tokens : str or sequence of hashable
            One training sequence (at least one symbol, no NaN, no BOS).

        Returns
        -------
        NGramLM
            ``self``, fitted (a second call starts afresh).

        Raises
        ------
        ValueError
            ``tokens`` is empty, contains NaN or BOS. TypeError: unhashable symbols.

        Examples
        --------
        >>> lm = NGramLM(1, smoothing="mle").fit([3, 1, 3])
        >>> lm.vocab
        (1, 3, <unk>)
        """
        op = "NGramLM.fit"
        seq = _as_symbols(tokens, "tokens", op)
        if len(seq) == 0:
            raise InvalidValueError(f"{op}: argument 'tokens' is empty; expected at least one "
                                    "symbol.")
        if isinstance(seq, str):
            cp = np.frombuffer(seq.encode("utf-32-le", "surrogatepass"), dtype="<u4")
            self._codepoints, ids, _ = _unique(cp.astype(np.int64), int(cp.max()) + 1)
            symbols = [chr(c) for c in self._codepoints.tolist()]
        else:
            try:
                distinct = list(dict.fromkeys(seq))
            except TypeError as exc:
                raise InvalidTypeError(f"{op}: argument 'tokens' holds an unhashable symbol "
                                       f"({exc}); symbols must be hashable.") from None
            for s in distinct:
                if s is BOS or (isinstance(s, (float, complex, np.inexact)) and s != s):
                    raise InvalidValueError(f"{op}: argument 'tokens' contains {s!r}; NaN "
                                            "differs from itself and BOS is never predicted.")
            distinct = [s for s in distinct if s is not UNK]
            try:
                symbols = sorted(distinct)
            except (TypeError, ValueError, ArithmeticError):  # not comparable: first appearance
                symbols = distinct
            self._codepoints = None
            if all(isinstance(s, str) and len(s) == 1 for s in symbols):
                self._codepoints = np.array([ord(s) for s in symbols], dtype=np.uint32)
            index = {s: i for i, s in enumerate(symbols)}
            index[UNK] = len(symbols)
            ids = np.fromiter((index[s] for s in seq), dtype=np.int64, count=len(seq))
        self._vocab = (*symbols, UNK)
        self._index = {s: i for i, s in enumerate(self._vocab)}
        self._unk, self._bos = len(symbols), len(symbols) + 1
        self._index[BOS] = self._bos
        self._text = isinstance(seq, str)
        self._count_ngrams(np.asarray(ids, dtype=np.int64))
        self._fitted = True
        return self

    def _count_ngrams(self, ids: np.ndarray) -> None:
        n, N, B = self.order, len(ids), self._bos + 1  # ids are < B (BOS is the largest)
        x = self._padded(ids)                          # (n-1+N,)
        target = x[n - 1:]                             # (N,)
        # ctx[j][i]: dense id of the j symbols before target i (0 for the empty context)
        ctx, self._ctx_keys = [np.zeros(N, dtype=np.int64)], [np.zeros(1, dtype=np.int64)]
        for j in range(1, n):
            bound = len(self._ctx_keys[j - 1]) * B
            keys, inverse, _ = _unique(ctx[j - 1] * B + x[n - 1 - j:n - 1 - j + N], bound)
            self._ctx_keys.append(keys)
            ctx.append(inverse)
        # grams of length m = 1..n: key = (context id of length m-1) * B + target
        gram_keys, gram_inv, raw = {}, {}, {}
        for m in range(1, n + 1):
            bound = len(self._ctx_keys[m - 1]) * B
            gram_keys[m], gram_inv[m], raw[m] = _unique(ctx[m - 1] * B + target, bound)
        kn = self.smoothing in ("kneser_ney", "modified_kneser_ney")
        self._levels = list(range(1, n + 1)) if self.smoothing in ("mle",) or kn else [n]
        self._gram_keys, self._raw = gram_keys, raw
        self._adj, self._gamma, self._norm = {}, {}, {}
        discounts = []
        V = len(self._vocab)
        for m in self._levels:
            if kn and m < n:  # continuation count: distinct (m+1)-grams ending in this m-gram
                suffix = np.empty(len(gram_keys[m + 1]), dtype=np.int64)
                suffix[gram_inv[m + 1]] = gram_inv[m]     # the m-gram that ends each (m+1)-gram
                c = np.bincount(suffix, minlength=len(gram_keys[m]))
            else:
                c = raw[m]
            c = c.astype(np.float64)
            h = gram_keys[m] // B                      # context id of each gram
            total = np.bincount(h, weights=c, minlength=len(self._ctx_keys[m - 1]))
            if kn:
                d = (self._fixed_discount[m - 1] if self._fixed_discount is not None
                     else self._estimate_discounts(c))
                discounts.append(d)
                dc = d[np.minimum(c, 3).astype(np.int64) - 1]   # D(c) for c = 1, 2, 3+
                self._adj[m] = np.maximum(c - dc, 0.0)
                self._gamma[m] = np.bincount(h, weights=c - self._adj[m], minlength=len(total))
                self._norm[m] = total
            elif self.smoothing == "mle":
                self._adj[m], self._gamma[m], self._norm[m] = c, np.zeros_like(total), total
            else:  # add-k: (c + k) / (T + kV) = (c + kV * uniform) / (T + kV)
                kv = self.k * V
                self._adj[m], self._gamma[m], self._norm[m] = c, np.full_like(total, kv), total + kv
        self._discounts = np.array(discounts) if kn else None
        self.n_tokens = N

    # ------------------------------------------------------------------ core
    def _contexts(self, x: np.ndarray, pos: np.ndarray) -> list[np.ndarray]:
        """Dense context ids (-1: unseen) of every length for targets at ``x[pos]``."""
        B = self._bos + 1
        h = np.zeros(len(pos), dtype=np.int64)
        out = [h]
        for j in range(1, self.order):
            h = _lookup(self._ctx_keys[j], np.where(h >= 0, h * B + x[pos - j], -1))
            out.append(h)
        return out

    def _target_probs(self, ctx: list[np.ndarray], w: np.ndarray) -> np.ndarray:
        B = self._bos + 1
        p = np.full(len(w), 1.0 / len(self._vocab))
        for m in self._levels:
            h = ctx[m - 1]
            seen = h >= 0
            hs = np.where(seen, h, 0)
            g = _lookup(self._gram_keys[m], np.where(seen, h * B + w, -1))
            a = np.where(g >= 0, self._adj[m][np.maximum(g, 0)], 0.0)
            p = np.where(seen, (a + self._gamma[m][hs] * p) / self._norm[m][hs], p)
        return p

    def _distributions(self, ctx: list[np.ndarray]) -> np.ndarray:
        B, V = self._bos + 1, len(self._vocab)
        P = np.full((len(ctx[0]), V), 1.0 / V)                 # (R, V)
        for m in self._levels:
            rows = np.flatnonzero(ctx[m - 1] >= 0)
            h = ctx[m - 1][rows]
            P[rows] *= (self._gamma[m][h] / self._norm[m][h])[:, None]
            keys = self._gram_keys[m]
            lo, hi = np.searchsorted(keys, h * B), np.searchsorted(keys, h * B + B)
            length = hi - lo                                   # grams of each seen context
            at = np.repeat(lo - (np.cumsum(length) - length), length) + np.arange(length.sum())
            r, hr = np.repeat(rows, length), np.repeat(h, length)
            P[r, keys[at] - hr * B] += self._adj[m][at] / self._norm[m][hr]
        return P

    # ------------------------------------------------------------------ queries
    @property
    def vocab(self) -> tuple:
        """The symbols that distributions range over, in order; the last is :data:`UNK`."""
        self._require_fit("NGramLM.vocab")
        return self._vocab

    @property
    def vocab_size(self) -> int:
        """``len(vocab)``, :data:`UNK` included."""
        self._require_fit("NGramLM.vocab_size")
        return len(self._vocab)

    @property
    def discounts(self) -> np.ndarray | None:
        """The Kneser-Ney discounts used, lowest order first: shape ``(order,)``, or
        ``(order, 3)`` (counts 1, 2, 3+) for modified Kneser-Ney; ``None`` otherwise."""
        self._require_fit("NGramLM.discounts")
        if self._discounts is None:
            return None
        return self._discounts[:, 0].copy() if self.smoothing == "kneser_ney" else self._discounts.copy()

    def count(self, ngram: Any) -> int:
        """Raw training count of an m-gram (``m <= order``, :data:`BOS` allowed in front).

        Examples
        --------
        >>> lm = NGramLM(3).fit("abcabd")
        >>> lm.count("ab"), lm.count((BOS, "a")), lm.count("zz")
        (2, 1, 0)
        """
        op = "NGramLM.count"
        self._require_fit(op)
        ids = self._encode(ngram, "ngram", op, allow_bos=True)
        if not 1 <= len(ids) <= self.order:
            raise InvalidValueError(f"{op}: argument 'ngram' must hold 1 to {self.order} symbols; "
                                    f"got {len(ids)}.")
        m = len(ids)
        x = np.concatenate([np.full(self.order - m, self._bos), ids[:-1], [0]])  # target last
        h = self._contexts(x, np.array([self.order - 1]))[m - 1]
        g = _lookup(self._gram_keys[m], np.where(h >= 0, h * (self._bos + 1) + ids[-1], -1))
        return int(self._raw[m][g[0]]) if g[0] >= 0 else 0

    def num_ngrams(self, m: int | None = None) -> int:
        """How many distinct m-grams the training sequence holds (``m = order`` by default).

        Counted on the sequence as the model reads it, padded in front with
        ``order - 1`` copies of :data:`BOS`, so an m-gram may begin with BOS
        (``(BOS, "a")`` is the bigram that starts a sequence with ``"a"``). This is
        the size of the model's count table for that order: the memory a fixed
        context of ``m - 1`` symbols costs.

        Parameters
        ----------
        m : int, optional
            ``1 <= m <= order``; default ``order``.

        Returns
        -------
        int

        Examples
        --------
        >>> lm = NGramLM(2).fit("abab")
        >>> lm.num_ngrams(1), lm.num_ngrams()   # a, b; and (<s>,a), (a,b), (b,a)
        (2, 3)
        """
        op = "NGramLM.num_ngrams"
        self._require_fit(op)
        m = self.order if m is None else check_int(m, "m", op, min_value=1, max_value=self.order)
        return int(len(self._gram_keys[m]))

    def distribution(self, context: Any = ()) -> np.ndarray:
        """The next-token distribution after ``context``, a vector over ``vocab``.

        Parameters
        ----------
        context : str or sequence
            The preceding symbols; only the last ``order - 1`` matter, and a
            shorter context is padded with :data:`BOS` (start of a sequence).

        Returns
        -------
        ndarray, shape (len(vocab),)
            Non-negative, sums to 1 for any context, seen or not.

        Examples
        --------
        >>> lm = NGramLM(2, smoothing="laplace").fit("aab")
        >>> print(lm.distribution("b"))        # 'b' was never a context: uniform
        [0.333 0.333 0.333]
        """
        op = "NGramLM.distribution"
        self._require_fit(op)
        x = self._context_ids(context, op)
        x = np.concatenate([x, [0]])                            # target slot after the context
        return self._distributions(self._contexts(x, np.array([len(x) - 1])))[0]

    def next_token_distributions(self, tokens: Any) -> np.ndarray:
        """Every next-token distribution along a sequence, in one vectorised pass.

        Row ``i`` is ``distribution(tokens[:i])``; the last row (``i = len(tokens)``)
        predicts the symbol after the sequence. Memory is ``(len + 1) * |V|`` floats,
        so feed long texts in pieces (with their preceding ``order - 1`` symbols).

        Returns
        -------
        ndarray, shape (len(tokens) + 1, len(vocab))

        Examples
        --------
        >>> lm = NGramLM(2).fit("abba")
        >>> P = lm.next_token_distributions("ab")
        >>> P.shape, bool(np.allclose(P.sum(axis=1), 1.0))
        ((3, 3), True)
        """
        op = "NGramLM.next_token_distributions"
        self._require_fit(op)
        ids = self._encode(tokens, "tokens", op)
        x = np.concatenate([self._padded(ids), [0]])
        return self._distributions(self._contexts(x, np.arange(self.order - 1, len(x))))

    def prob(self, context: Any, token: Hashable) -> float:
        """``P(token | context)``; an unseen ``token`` is scored as :data:`UNK`.

        Examples
        --------
        >>> lm = NGramLM(2, smoothing="mle").fit("abac")
        >>> print(lm.prob("a", "c"))
        0.5
        """
        return self._prob(context, token, "NGramLM.prob")

    def _prob(self, context: Any, token: Hashable, op: str) -> float:
        self._require_fit(op)
        w = self._encode([token], "token", op)
        x = np.concatenate([self._context_ids(context, op), w])
        return float(self._target_probs(self._contexts(x, np.array([len(x) - 1])), w)[0])

    def logprob(self, context: Any, token: Hashable) -> float:
        """``log P(token | context)`` in nats (``-inf`` for probability 0).

        Examples
        --------
        >>> lm = NGramLM(2, smoothing="mle").fit("abac")
        >>> print(round(lm.logprob("a", "b"), 4))
        -0.6931
        """
        p = self._prob(context, token, "NGramLM.logprob")
        return float(_safe_log(np.array([p]))[0])

    def nll(self, tokens: Any) -> np.ndarray:
        """Per-token negative log-likelihood ``-log P(x_i | x_<i)`` in nats.

        ``tokens`` is read as a fresh sequence (its first token follows BOS).
        Returns an array of shape ``(len(tokens),)``; ``inf`` marks a token of
        probability 0 (possible with ``"mle"`` only, or with zero discounts).

        Examples
        --------
        >>> lm = NGramLM(1, smoothing="mle").fit("aab")
        >>> print(lm.nll("ab").round(4))
        [0.4055 1.0986]
        """
        return self._nll(tokens, "NGramLM.nll")

    def _nll(self, tokens: Any, op: str) -> np.ndarray:
        self._require_fit(op)
        ids = self._encode(tokens, "tokens", op)
        if len(ids) == 0:
            raise InvalidValueError(f"{op}: argument 'tokens' is empty; expected at least one "
                                    "symbol to score.")
        x = self._padded(ids)
        pos = np.arange(self.order - 1, len(x))
        return -_safe_log(self._target_probs(self._contexts(x, pos), ids))

    def cross_entropy(self, tokens: Any, base: float | None = None) -> float:
        """Mean negative log-likelihood per token, ``-(1/N) sum_i log P(x_i | x_<i)``.

        In nats, or in units of ``log(base)`` (``base=2``: bits per token).

        Examples
        --------
        >>> lm = NGramLM(1, smoothing="mle").fit("ab")
        >>> print(lm.cross_entropy("abab", base=2))
        1.0
        """
        return self._cross_entropy(tokens, base, "NGramLM.cross_entropy")

    def _cross_entropy(self, tokens: Any, base: float | None, op: str) -> float:
        if base is not None:
            base = check_float(base, "base", op, min_value=0.0, min_inclusive=False)
            if base == 1.0:
                raise InvalidValueError(f"{op}: argument 'base' must not be 1 (log 1 = 0); "
                                        "got 1.0.")
        mean = float(np.mean(self._nll(tokens, op)))
        return mean if base is None else mean / math.log(base)

    def perplexity(self, tokens: Any) -> float:
        """``exp(cross_entropy(tokens))``: the effective number of equally likely choices.

        ``inf`` when some token has probability 0.

        Examples
        --------
        >>> lm = NGramLM(1, smoothing="mle").fit("abcd")
        >>> print(round(lm.perplexity("dcba"), 10))   # uniform over 4 symbols
        4.0
        """
        ce = self._cross_entropy(tokens, None, "NGramLM.perplexity")
        return math.exp(ce) if ce < math.log(np.finfo(np.float64).max) else math.inf

    def generate(self, n: int, rng: Any = None, context: Any = (), *,
                 allow_unk: bool = False) -> str | list:
        """Sample ``n`` symbols one at a time from :meth:`distribution`.

        Parameters
        ----------
        n : int
            How many symbols to draw (>= 0).
        rng : Generator, int or None
            The randomness (an int seeds a new generator).
        context : str or sequence
            Symbols the sample continues (not included in the result).
        allow_unk : bool
            When False (default), :data:`UNK` is removed from each distribution
            and the rest renormalised.

        Returns
        -------
        str or list
            A ``str`` for a model fitted on a ``str`` (UNK shown as U+FFFD), else a list.

        Examples
        --------
        >>> lm = NGramLM(2, smoothing="mle").fit("abababab")
        >>> lm.generate(6, rng=0)
        'ababab'
        """
        op = "NGramLM.generate"
        self._require_fit(op)
        n = check_int(n, "n", op, min_value=0)
        check_allocation(n, "n", op, dtype=object, what="generated symbols")
        rng = check_rng(rng, op)
        allow_unk = check_bool(allow_unk, "allow_unk", op)
        history = list(self._context_ids(context, op))
        out = []
        for _ in range(n):
            x = np.array(history[len(history) - (self.order - 1):] + [0], dtype=np.int64)
            p = self._distributions(self._contexts(x, np.array([len(x) - 1])))[0]
            if not allow_unk:
                p[self._unk] = 0.0
            cdf = np.cumsum(p)
            if cdf[-1] <= 0:
                raise InvalidValueError(f"{op}: after argument 'context' = {context!r} only UNK "
                                        "has positive probability; pass allow_unk=True.")
            i = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(p) - 1)
            history.append(i)
            out.append(self._vocab[i])
        if self._text:
            return "".join("\ufffd" if s is UNK else s for s in out)
        return out

    def __repr__(self) -> str:
        state = f", vocab_size={len(self._vocab)}, n_tokens={self.n_tokens}" if self._fitted else ""
        return f"NGramLM(order={self.order}, smoothing={self.smoothing!r}{state})"
