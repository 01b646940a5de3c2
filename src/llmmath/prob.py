"""Probability for language models: the softmax family, decoding, estimation.

A language model ends in a vector of logits ``z``, one score per token of the
vocabulary. This module is where those scores become probabilities and
tokens, and where simple models are fitted to data:

* the softmax family (``llmmath/_softmax.py``): :func:`softmax`,
  :func:`log_softmax`, :func:`logsumexp`, :func:`sigmoid`, :func:`log_sigmoid`,
  all stable for logits of any size and for ``-inf`` masks;
* decoding (``llmmath/_decoding.py``): :func:`filter_top_k`,
  :func:`filter_top_p`, :func:`filter_min_p`, :func:`sample` with
  temperature (0 = greedy) and :func:`decoding_distribution` (what
  :func:`sample` draws from);
* estimation (``llmmath/_estimation.py``): :func:`categorical_mle`,
  :func:`gaussian_mle` (returns a :class:`GaussianFit`),
  :func:`bayes_posterior`, :func:`expectation`, :func:`variance`,
  :func:`categorical_log_likelihood`;
* Gaussian models (``llmmath/_gaussian.py``): :func:`normal_logpdf`,
  :func:`normal_pdf`, :func:`ridge_regression` and
  :func:`linear_gaussian_posterior` (weight decay as a Gaussian prior).

The code lives in those private files to keep each one short enough to
read in a sitting; this module is the public name for all of it.

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

from __future__ import annotations

from llmmath._decoding import (
    decoding_distribution,
    filter_min_p,
    filter_top_k,
    filter_top_p,
    sample,
)
from llmmath._estimation import (
    GaussianFit as GaussianFit,  # result type of gaussian_mle (a class, not in __all__)
)
from llmmath._estimation import (
    bayes_posterior,
    categorical_log_likelihood,
    categorical_mle,
    expectation,
    gaussian_mle,
    variance,
)
from llmmath._gaussian import (
    LinearGaussianPosterior as LinearGaussianPosterior,  # result type (a class, not in __all__)
)
from llmmath._gaussian import (
    linear_gaussian_posterior,
    normal_logpdf,
    normal_pdf,
    ridge_regression,
)
from llmmath._softmax import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "sigmoid",
    "log_sigmoid",
    "filter_top_k",
    "filter_top_p",
    "filter_min_p",
    "sample",
    "decoding_distribution",
    "categorical_mle",
    "gaussian_mle",
    "bayes_posterior",
    "expectation",
    "variance",
    "categorical_log_likelihood",
    "normal_logpdf",
    "normal_pdf",
    "ridge_regression",
    "linear_gaussian_posterior",
]
