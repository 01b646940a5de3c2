"""Mixing models: geometric (logarithmic) mixing with weights learned while coding.

Context-mixing compressors (PAQ and its descendants) predict with many models
at once and combine them with weights that are trained online, one symbol at
a time, in the encoder and identically in the decoder. For an alphabet of
``V`` symbols the natural combination is the *geometric* mixture

    p(w)  =  prod_i p_i(w)^{b_i}  /  sum_v prod_i p_i(v)^{b_i}
          =  softmax_w( sum_i b_i log p_i(w) ),

which for ``V = 2`` is PAQ's logistic mixing. After the symbol ``x`` is seen,
the weights take a gradient step on the code length ``-log2 p(x)``:

    d(-ln p(x)) / d b_i  =  -( log p_i(x) - sum_v p(v) log p_i(v) ),
    b_i  <-  b_i + lr * ( log p_i(x) - E_p[log p_i] ).

A model whose log-probability of the actual symbol beats its average under
the mixture gains weight. A uniform component adds the same constant to every
logit and so changes nothing: mixing in a model that knows nothing is free.
Weights may be kept in several *sets*, one chosen per step by a small context
(here: how long a context an adaptive component has seen), as PAQ does.

The components may have different alphabets: each one's distribution is
spread over the union alphabet, a character it does not know receiving an
equal share of its escape probability.

References
----------
.. [1] M. V. Mahoney, "Adaptive weighing of context models for lossless data
   compression", Florida Tech. TR CS-2005-16, 2005 (PAQ's mixer).
.. [2] C. Mattern, "Mixing strategies in data compression", Data Compression
   Conference 2012 (geometric mixing).

Examples
--------
>>> from llmmath.compress.models import UniformModel
>>> mix = GeometricMixture([UniformModel("ab"), UniformModel("bc")], init=[0.5, 0.5])
>>> mix.alphabet                   # 'c' is the first model's escape, 'a' the second's
'abc'
>>> p = mix.probs(mix.start(1))    # proportional to sqrt([1/3, 1/3, 1/6, 1/6] * [1/6, 1/3, 1/3, 1/6])
>>> print(p.round(3))
[[0.243 0.343 0.243 0.172]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import check_float
from llmmath.compress.models import CodingModel
from llmmath.errors import InvalidTypeError, InvalidValueError
from llmmath.prob import softmax

__all__ = ["GeometricMixture", "spread"]

_FLOOR = 1e-12         # log-probabilities are clipped here (a float32 softmax can underflow)
_WEIGHT_RANGE = (-1.0, 4.0)


def spread(alphabet: str, union: str) -> tuple[np.ndarray, np.ndarray]:
    """Index and divisor that carry a distribution over ``alphabet + escape`` to ``union + escape``.

    ``p_union = p[:, index] / share``: characters of ``union`` missing from
    ``alphabet`` (and the union's escape) split the escape probability equally.

    Examples
    --------
    >>> index, share = spread("ab", "abc")
    >>> index.tolist(), share.tolist()
    ([0, 1, 2, 2], [1.0, 1.0, 2.0, 2.0])
    """
    where = {c: i for i, c in enumerate(alphabet)}
    esc = len(alphabet)
    index = np.array([where.get(c, esc) for c in union] + [esc], dtype=np.int64)
    share = np.ones(len(index))
    share[index == esc] = np.count_nonzero(index == esc)
    return index, share


class GeometricMixture(CodingModel):
    """``softmax(sum_i b_i log p_i)`` over the union alphabet, weights learned online.

    Lesson: none (part of the ``llmmath compress`` command).

    Parameters
    ----------
    components : sequence of CodingModel
    lr : float
        Step size of the weight update (in nats of log-probability).
    init : sequence of float, optional
        Starting weights (default: 1 for the first component, 0 for the others,
        so coding starts with the first model's own distribution).
    spec : str, optional
        The name ``-m`` gives it (default ``"mix:" + "+".join(specs)``).
    identity : dict, optional
        Extra fields for the identity (which always holds the components' and the settings).

    Notes
    -----
    ``probs`` remembers each component's log-probabilities for the ``update``
    that follows; the coder alternates the two calls. A component with a
    ``mixing_context(state)`` method (an int array per stream, values below
    its ``n_mixing_contexts``) selects the weight set.
    """

    def __init__(self, components: Any, *, lr: float = 0.02, init: Any = None,
                 spec: str | None = None, identity: dict | None = None) -> None:
        op = "GeometricMixture"
        comps = list(components)
        if not comps or not all(isinstance(c, CodingModel) for c in comps):
            raise InvalidTypeError(f"{op}: argument 'components' must be a non-empty sequence "
                                   "of CodingModel.")
        self.components = comps
        self.lr = check_float(lr, "lr", op, min_value=0.0)
        k = len(comps)
        init = [1.0] + [0.0] * (k - 1) if init is None else [float(b) for b in init]
        if len(init) != k:
            raise InvalidValueError(f"{op}: argument 'init' must hold {k} weights (one per "
                                    f"component); got {len(init)}.")
        self.init = np.array(init)
        self.alphabet = "".join(sorted(set().union(*(c.alphabet for c in comps))))
        # (index, share), or None where a component's alphabet already is the union's
        self._maps = [None if c.alphabet == self.alphabet else spread(c.alphabet, self.alphabet)
                      for c in comps]
        self._index = {c: i for i, c in enumerate(self.alphabet)}
        self._ctx = next((i for i, c in enumerate(comps) if hasattr(c, "mixing_context")), None)
        self.n_sets = 1 if self._ctx is None else int(comps[self._ctx].n_mixing_contexts)
        self.max_batch = min(c.max_batch for c in comps)
        self.spec = spec or "mix:" + "+".join(c.spec for c in comps)
        self.identity = {"kind": "mix", "mixing": "geometric", "lr": self.lr,
                         "init": self.init.tolist(), "components": [c.identity for c in comps],
                         **(identity or {})}

    @property
    def size_bytes(self) -> int:
        """The components' sizes added."""
        return sum(c.size_bytes for c in self.components)

    def start(self, n_streams: int) -> dict:
        states = [c.start(n_streams) for c in self.components]
        weights = np.tile(self.init, (n_streams, self.n_sets, 1))          # (n, sets, k)
        return {"states": states, "weights": weights, "logp": None, "p": None, "sel": None}

    def probs(self, state: dict) -> np.ndarray:
        logp = []
        for comp, s, spreading in zip(self.components, state["states"], self._maps,
                                      strict=True):
            p = comp.probs(s)
            if spreading is not None:
                p = p[:, spreading[0]] / spreading[1]                     # (n, V) of the union
            logp.append(np.log(np.maximum(p, _FLOOR)))
        n = len(logp[0])
        sel = (np.zeros(n, dtype=np.int64) if self._ctx is None else
               self.components[self._ctx].mixing_context(state["states"][self._ctx]))
        b = state["weights"][np.arange(n), sel]                           # (n, k)
        z = b[:, 0:1] * logp[0]
        for i in range(1, len(logp)):
            z = z + b[:, i:i + 1] * logp[i]
        p = softmax(z, axis=-1)
        state["logp"], state["p"], state["sel"] = logp, p, sel
        return p

    def update(self, state: dict, chars: list[str]) -> None:
        esc = len(self.alphabet)
        x = np.array([self._index.get(c, esc) for c in chars], dtype=np.int64)
        rows, p, sel = np.arange(len(x)), state["p"], state["sel"]
        w = state["weights"]
        for i, lp in enumerate(state["logp"]):
            grad = lp[rows, x] - (p * lp).sum(axis=-1)          # log p_i(x) - E_p[log p_i]
            w[rows, sel, i] = np.clip(w[rows, sel, i] + self.lr * grad, *_WEIGHT_RANGE)
        for comp, s in zip(self.components, state["states"], strict=True):
            comp.update(s, chars)
