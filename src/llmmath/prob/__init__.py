"""Probability for language models: the softmax family, decoding, estimation.

A language model ends in a vector of logits ``z``, one score per token of the
vocabulary. This module is where those scores become probabilities and
tokens, and where simple models are fitted to data:

* the softmax family (:mod:`llmmath.prob.softmax`): :func:`softmax`,
  :func:`log_softmax`, :func:`logsumexp`, :func:`sigmoid`, :func:`log_sigmoid`,
  all stable for logits of any size and for ``-inf`` masks;
* decoding (:mod:`llmmath.prob.decoding`): :func:`filter_top_k`,
  :func:`filter_top_p`, :func:`filter_min_p`, :func:`sample` with
  temperature (0 = greedy) and :func:`decoding_distribution` (what
  :func:`sample` draws from);
* estimation (:mod:`llmmath.prob.estimation`): :func:`categorical_mle`,
  :func:`gaussian_mle` (returns a :class:`GaussianFit`),
  :func:`bayes_posterior`, :func:`expectation`, :func:`variance`,
  :func:`categorical_log_likelihood`;
* Gaussian models (:mod:`llmmath.prob.gaussian`): :func:`normal_logpdf`,
  :func:`normal_pdf`, :func:`ridge_regression` and
  :func:`linear_gaussian_posterior` (weight decay as a Gaussian prior).

Every name is importable from :mod:`llmmath.prob` itself. (``llmmath.prob.softmax``
is the function; the module of that name is ``sys.modules["llmmath.prob.softmax"]``.)

Conventions: ``axis=-1`` is the token (outcome) axis and every leading axis is
a batch; float32 in gives float32 out, everything else computes in float64;
``-inf`` is a masked logit (probability exactly 0); ``+inf`` and NaN logits
are refused; random functions take ``rng`` (a ``numpy.random.Generator``, an
int seed, or None).

>>> from llmmath import prob
>>> p = prob.softmax([2.0, 1.0, 0.1])
>>> print(p.round(3), float(p.sum()))
[0.659 0.242 0.099] 1.0
"""

# ruff: noqa: F401  (every import below is a re-export; __all__ is built from the modules' lists)
from __future__ import annotations

# The modules first, under names that the functions re-exported below cannot
# shadow (``softmax`` is both a module and, after the last import, a function).
from llmmath.prob import decoding as _decoding
from llmmath.prob import estimation as _estimation
from llmmath.prob import gaussian as _gaussian
from llmmath.prob import softmax as _softmax

# The result types (classes) are importable from here but not listed in __all__.
from llmmath.prob.decoding import (
    decoding_distribution,
    filter_min_p,
    filter_top_k,
    filter_top_p,
    sample,
)
from llmmath.prob.estimation import (
    GaussianFit,
    bayes_posterior,
    categorical_log_likelihood,
    categorical_mle,
    expectation,
    gaussian_mle,
    variance,
)
from llmmath.prob.gaussian import (
    LinearGaussianPosterior,
    linear_gaussian_posterior,
    normal_logpdf,
    normal_pdf,
    ridge_regression,
)
from llmmath.prob.softmax import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax

__all__ = [*_softmax.__all__, *_decoding.__all__, *_estimation.__all__, *_gaussian.__all__]
