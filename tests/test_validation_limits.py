"""Every failure a clear message: size limits, int64 bounds and overflow-free moments.

* A function that would allocate (or draw and process in batches) a number of
  elements set by a user's count refuses, before any work, a request beyond
  ``llmmath._validation.MAX_ELEMENTS``, naming the argument, the size asked
  for and the limit. Each site is tested at the limit (accepted) and one
  element past it (refused), with the limit lowered so the test stays small.
* Integers beyond int64 and beyond the float range are refused by name, not
  with NumPy's ``OverflowError``.
* Argument gaps a fuzz run found: ``norm(keepdims=...)``,
  ``layer_norm_backward(gamma=None)``, optimiser hyper-parameters.
* Means and variances of data near 1e308 (or of slices of very different
  scales) are finite whenever the true value is, checked against exact
  ``Fraction`` arithmetic and mpmath.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from llmmath import _validation, attention, calculus, data, info, landscape, linalg, prob, stats
from llmmath.autograd import Tensor
from llmmath.errors import InvalidTypeError, InvalidValueError, LLMMathError, ShapeError
from llmmath.ngram import NGramLM
from llmmath.optim import SGD, Adam, AdamW

BIG = 1.7976931348623157e308  # the largest float64


@pytest.fixture
def limit(monkeypatch):
    """Lower MAX_ELEMENTS to 1000 so that the boundary can be tested on small inputs."""
    monkeypatch.setattr(_validation, "MAX_ELEMENTS", 1000)
    return 1000


# ------------------------------------------------------ the check itself -- #

def test_check_allocation_counts_in_python_integers_and_says_what_was_asked():
    assert _validation.check_allocation((3, 4), "T", "op") == 12
    assert _validation.check_allocation(0, "n", "op") == 0
    assert _validation.check_allocation(_validation.MAX_ELEMENTS, "n", "op") == 2**31
    with pytest.raises(InvalidValueError) as info_:
        _validation.check_allocation((10**23, 10**23), ("T", "n_keys"), "causal_mask", dtype=bool,
                                     what="a mask")
    msg = str(info_.value)
    # the operation, both arguments, the shape asked for, the element count and the limit
    for part in ("causal_mask:", "'T'", "'n_keys'", "a mask", "(100000000000000000000000, 1", "1e+46 elements", "bool",
                 "2,147,483,648 elements (2**31)"):
        assert part in msg, (part, msg)
    with pytest.raises(InvalidValueError, match=r"op: argument 'n' asks for an array of shape "
                                                 r"\(2147483649,\), 2,147,483,649 elements"):
        _validation.check_allocation(2**31 + 1, "n", "op")


def test_check_allocation_reads_the_limit_at_call_time(limit):
    assert _validation.check_allocation((10, 100), "n", "op") == limit
    with pytest.raises(InvalidValueError, match="the limit is 1,000 elements"):
        _validation.check_allocation((10, 101), "n", "op")


# ----------------------------------------------- every allocation site -- #

def _refused(fn, *args, names, **kwargs):
    with pytest.raises(InvalidValueError) as exc:
        fn(*args, **kwargs)
    msg = str(exc.value)
    assert "limit is 1,000 elements" in msg, msg
    for name in names:
        assert f"'{name}'" in msg, (name, msg)


def test_causal_mask_and_positions(limit):
    assert attention.causal_mask(10, 100).shape == (10, 100)
    _refused(attention.causal_mask, 10, 101, names=("T", "n_keys"))
    _refused(attention.causal_mask, 32, names=("T",))
    assert attention.causal_mask(2**40, 0).shape == (2**40, 0)   # empty: nothing to allocate
    assert attention.sinusoidal_positions(10, 100).shape == (10, 100)
    _refused(attention.sinusoidal_positions, 11, 100, names=("T", "d_model"))


def test_bootstrap_resamples_and_coverage(limit):
    x = np.arange(10.0)
    assert stats.bootstrap_ci(x, n_resamples=100, rng=0).n_resamples == 100
    _refused(stats.bootstrap_ci, x, n_resamples=101, rng=0, names=("n_resamples",))
    assert stats.bootstrap_distribution(x, n_resamples=100, rng=0).shape == (100,)
    _refused(stats.bootstrap_distribution, x, n_resamples=101, rng=0, names=("n_resamples",))
    assert stats.bootstrap_coverage(10, n_datasets=10, n_resamples=10, rng=0).n_datasets == 10
    _refused(stats.bootstrap_coverage, 10, n_datasets=11, n_resamples=10, rng=0,
             names=("n_datasets", "n_resamples", "sample_size"))
    _refused(stats.bootstrap_coverage, 10, method="t", n_datasets=101, rng=0,
             names=("n_datasets", "sample_size"))
    # 20 observations, C(20, 10) = 184756 splits: n_resamples random permutations
    a, b = np.arange(10.0), np.arange(10.0) + 0.5
    assert stats.permutation_test(a, b, n_resamples=50, rng=0).n_resamples == 50
    _refused(stats.permutation_test, a, b, n_resamples=51, rng=0, names=("n_resamples",))


def test_absurd_counts_are_refused_at_the_default_limit_without_any_work():
    # each of these would run for hours or end in MemoryError
    with pytest.raises(InvalidValueError, match="'n_resamples'"):
        stats.bootstrap_ci([1.0, 2.0, 3.0], n_resamples=10**12)
    with pytest.raises(InvalidValueError, match="'n_datasets', 'n_resamples' and 'sample_size'"):
        stats.bootstrap_coverage(100, n_datasets=10**6, n_resamples=10**6)
    with pytest.raises(InvalidValueError, match="'T' and 'n_keys'"):
        attention.causal_mask(10**6, 10**6)
    lm = NGramLM(2).fit("abab")
    with pytest.raises(InvalidValueError, match="NGramLM.generate: argument 'n'"):
        lm.generate(10**23)
    with pytest.raises(InvalidValueError, match="'batch_size' and 'block_size'"):
        data.get_batch(np.arange(100), block_size=4, batch_size=10**12)


def test_generate_sample_and_batches(limit):
    lm = NGramLM(2, smoothing="mle").fit("abababab")
    assert len(lm.generate(1000, rng=0)) == 1000
    _refused(lm.generate, 1001, rng=0, names=("n",))
    assert prob.sample(np.zeros((2, 3)), rng=0, num_samples=500).shape == (2, 500)
    _refused(prob.sample, np.zeros((2, 3)), rng=0, num_samples=501, names=("num_samples",))
    x, _ = data.get_batch(np.arange(100), block_size=9, batch_size=100, rng=0)
    assert x.shape == (100, 9)
    _refused(data.get_batch, np.arange(100), block_size=9, batch_size=101, rng=0,
             names=("batch_size", "block_size"))


def test_landscape_and_calculus(limit):
    assert landscape.logistic_problem(500, 2, rng=0).features.shape == (500, 2)
    _refused(landscape.logistic_problem, 501, 2, rng=0, names=("n_examples", "n_features"))
    g = np.random.default_rng(0).normal(size=(20, 2))
    assert landscape.minibatch_gradients(g, 5, n_batches=100, rng=0).shape == (100, 2)
    _refused(landscape.minibatch_gradients, g, 5, n_batches=101, rng=0,
             names=("n_batches", "batch_size"))
    _refused(landscape.minibatch_gradient_variance, g, (1, 2, 4), n_batches=100, rng=0,
             names=("n_batches", "batch_sizes"))
    assert calculus.jacobian(lambda v: v, np.zeros(31)).shape == (31, 31)
    _refused(calculus.jacobian, lambda v: v, np.zeros(32), names=("x", "f"))
    assert calculus.softmax_jacobian(np.zeros((1, 31))).shape == (1, 31, 31)
    _refused(calculus.softmax_jacobian, np.zeros((1, 32)), names=("z",))


# ----------------------------------------------------- int64 and floats -- #

@pytest.mark.parametrize("value", [2**63, 2**64, -(2**63) - 1, -(2**64), 10**400])
def test_integers_beyond_int64_are_refused_by_name(value):
    with pytest.raises(InvalidValueError, match=r"argument 'k' must fit in a 64-bit integer"):
        _validation.check_int(value, "k", "op")
    with pytest.raises(InvalidValueError, match=r"argument 'ids' holds .* 64-bit integer"):
        _validation.as_int_array([1, value], "ids", "op")
    assert _validation.check_int(2**63 - 1, "k", "op") == 2**63 - 1
    np.testing.assert_array_equal(_validation.as_int_array([2**63 - 1, -(2**63)], "ids", "op"),
                                  np.array([2**63 - 1, -(2**63)], dtype=np.int64))


@pytest.mark.parametrize("call", [
    lambda v: attention.causal_mask(v),
    lambda v: attention.sinusoidal_positions(4, v),
    lambda v: prob.filter_top_k([1.0, 2.0], v),
    lambda v: prob.categorical_log_likelihood([0.5, 0.5], [0, v]),
    lambda v: stats.bootstrap_ci([1.0, 2.0, 3.0], n_resamples=v),
    lambda v: NGramLM(2).fit("abab").generate(v),
    lambda v: linalg.lora_param_count(v, 4, 2),
])
def test_public_functions_refuse_huge_integers_without_overflow_error(call):
    for v in (2**63, 2**64, 10**400):
        with pytest.raises(LLMMathError) as exc:
            call(v)
        assert isinstance(exc.value, ValueError) and "'" in str(exc.value)


def test_integers_beyond_the_float_range_are_refused_by_name():
    with pytest.raises(InvalidValueError, match="argument 'x' holds an integer beyond the float"):
        _validation.as_float_array([1, 10**400], "x", "op")
    with pytest.raises(InvalidValueError, match="argument 't' must be finite; got a 401-digit"):
        _validation.check_float(10**400, "t", "op")
    with pytest.raises(InvalidValueError, match="softmax: argument 'x'"):
        prob.softmax([10**400, 1])
    assert _validation.int_text(10**5000) == "a 5001-digit integer"   # str() would refuse it


# --------------------------------------------------------- argument gaps -- #

@pytest.mark.lesson_vectors
@pytest.mark.parametrize("keepdims", [0, 1, None, "yes", np.array(True)])
def test_norm_keepdims_must_be_a_bool(keepdims):
    with pytest.raises(InvalidTypeError, match="norm: argument 'keepdims' must be True or False"):
        linalg.norm([3.0, 4.0], keepdims=keepdims)
    assert linalg.norm([[3.0, 4.0]], axis=1, keepdims=np.bool_(True)).shape == (1, 1)


@pytest.mark.torch
@pytest.mark.lesson_layernorm
def test_layer_norm_backward_without_gamma_is_the_gradient_at_a_scale_of_ones():
    import torch

    rng = np.random.default_rng(3)
    x, dy = rng.normal(size=(4, 5)) * 2 + 1, rng.normal(size=(4, 5))
    dx, dgamma, dbeta = calculus.layer_norm_backward(x, None, dy, eps=1e-5)
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tg = torch.ones(5, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.layer_norm(tx, (5,), tg, None, eps=1e-5).backward(torch.from_numpy(dy))
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(dgamma, tg.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dbeta, dy.sum(axis=0), rtol=1e-13)
    x32 = x.astype(np.float32)
    assert all(a.dtype == np.float32 for a in calculus.layer_norm_backward(x32, None, dy.astype(np.float32)))


@pytest.mark.lesson_optimisation
@pytest.mark.parametrize("cls, kwargs, message", [
    (Adam, {"betas": float("nan")}, "Adam: argument 'betas' must be a pair"),
    (Adam, {"betas": 0.9}, "Adam: argument 'betas' must be a pair"),
    (Adam, {"betas": None}, "Adam: argument 'betas' must be a pair"),
    (Adam, {"betas": (0.9,)}, "Adam: argument 'betas' must be a pair"),
    (Adam, {"betas": (float("nan"), 0.9)}, r"Adam: argument 'betas\[0\]' must be finite"),
    (Adam, {"betas": (0.9, float("inf"))}, r"Adam: argument 'betas\[1\]' must be finite"),
    (Adam, {"betas": (10**400, 0.9)}, r"Adam: argument 'betas\[0\]' must be finite"),
    (Adam, {"betas": (-0.1, 0.9)}, r"argument 'betas\[0\]' must be >= 0"),
    (Adam, {"lr": float("inf")}, "Adam: argument 'lr' must be finite"),
    (Adam, {"eps": float("nan")}, "Adam: argument 'eps' must be finite"),
    (Adam, {"eps": -1e-8}, "Adam: argument 'eps' must be >= 0"),
    (AdamW, {"weight_decay": float("inf")}, "AdamW: argument 'weight_decay' must be finite"),
    (SGD, {"lr": float("nan")}, "SGD: argument 'lr' must be finite"),
    (SGD, {"lr": 0.1, "momentum": float("nan")}, "SGD: argument 'momentum' must be finite"),
    (SGD, {"lr": 0.1, "momentum": 1.5}, "SGD: argument 'momentum' must be <= 1"),
    (SGD, {"lr": 0.1, "dampening": 2.0}, "SGD: argument 'dampening' must be <= 1"),
    (SGD, {"lr": 0.1, "weight_decay": -1.0}, "SGD: argument 'weight_decay' must be >= 0"),
    (SGD, {"lr": "0.1"}, "SGD: argument 'lr' must be a real number"),
])
def test_optimiser_hyper_parameters_out_of_range(cls, kwargs, message):
    p = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises((InvalidValueError, InvalidTypeError), match=message):
        cls([p], **kwargs)


@pytest.mark.lesson_optimisation
def test_optimiser_settings_are_checked_again_when_a_checkpoint_is_loaded():
    p = Tensor(np.ones(2), requires_grad=True)
    opt = Adam([p], lr=0.01)
    saved = opt.state_dict()
    saved["param_groups"][0]["betas"] = (0.9, float("nan"))
    with pytest.raises(InvalidValueError, match=r"Adam: argument 'betas\[1\]' must be finite"):
        opt.load_state_dict(saved)
    assert opt.param_groups[0]["betas"] == (0.9, 0.999)     # nothing was half-loaded
    assert SGD([p], lr=0.1, momentum=1.0).param_groups[0]["momentum"] == 1.0   # heavy ball
    assert Adam([p], betas=np.array([0.8, 0.9])).param_groups[0]["betas"] == (0.8, 0.9)


@pytest.mark.lesson_bayes
def test_bayes_posterior_refuses_a_likelihood_that_does_not_line_up_with_the_prior():
    with pytest.raises(ShapeError, match="'likelihood'"):
        prob.bayes_posterior([0.2, 0.3, 0.5], np.ones((0, 1)), axis=0)   # was NumPy's ValueError
    with pytest.raises(ShapeError, match="'likelihood'"):
        prob.bayes_posterior([1.0], [1.0, 2.0, 3.0])      # one hypothesis stretched to three
    with pytest.raises(ShapeError, match="'likelihood'"):
        prob.bayes_posterior([0.5, 0.5], [[1.0, 2.0], [3.0, 4.0]], axis=0)
    np.testing.assert_allclose(prob.bayes_posterior([0.5, 0.5], [[1.0, 3.0], [1.0, 1.0]]),
                               [[0.25, 0.75], [0.5, 0.5]], rtol=1e-15)


# ------------------------------------------ moments of huge and tiny data -- #

def _exact(fr: Fraction) -> float:
    """The float nearest an exact rational (inf beyond the float range)."""
    try:
        return float(fr)
    except OverflowError:
        return math.inf if fr > 0 else -math.inf


def _mean(xs) -> Fraction:
    return sum(map(Fraction, xs), Fraction(0)) / len(xs)


def _var(xs, ddof=0) -> Fraction:
    m = _mean(xs)
    return sum(((Fraction(x) - m) ** 2 for x in xs), Fraction(0)) / (len(xs) - ddof)


ROWS = [[1e308, 1.5e308, BIG], [1e-10, 2e-10, 4e-10], [0.0, 2.6e154, 1.3e154], [-BIG, -BIG, -BIG]]


@pytest.mark.lesson_mle
def test_gaussian_mle_per_slice_against_exact_arithmetic():
    fit = prob.gaussian_mle(np.array(ROWS), axis=1)
    for i, row in enumerate(ROWS):
        np.testing.assert_allclose(fit.mean[i], _exact(_mean(row)), rtol=4e-16, err_msg=str(i))
        np.testing.assert_allclose(fit.variance[i], _exact(_var(row)), rtol=1e-14, err_msg=str(i))
    # row 0's variance is beyond the float range: inf is the honest answer
    assert math.isinf(_exact(_var(ROWS[0]))) and math.isinf(fit.variance[0])
    # the slice of 1e-10s kept its variance next to a slice of 1e308s (it used to be 0)
    assert fit.variance[1] > 0
    one = prob.gaussian_mle(ROWS[0])
    assert one.mean == pytest.approx(_exact(_mean(ROWS[0])), rel=4e-16)


@pytest.mark.lesson_random_variables
def test_expectation_and_variance_per_distribution_against_exact_arithmetic():
    probs = [0.25, 0.25, 0.5]
    v = np.array(ROWS)
    e, var = prob.expectation(v, probs), prob.variance(v, probs)
    for i, row in enumerate(ROWS):
        w = [Fraction(p) for p in probs]
        mean = sum(wi * Fraction(x) for wi, x in zip(w, row, strict=True))
        exact_var = sum(wi * (Fraction(x) - mean) ** 2 for wi, x in zip(w, row, strict=True))
        np.testing.assert_allclose(e[i], _exact(mean), rtol=1e-15, err_msg=str(i))
        np.testing.assert_allclose(var[i], _exact(exact_var), rtol=1e-14, err_msg=str(i))
    assert np.isfinite(e).all() and var[1] > 0 and np.isfinite(var[2])


@pytest.mark.lesson_evaluation
def test_mean_ci_of_data_near_the_largest_float_against_mpmath():
    import scipy.stats

    x = [1.5e308, 1.5e308 * (1 + 1e-10), 1.5e308 * (1 - 3e-10), 1.5e308 * (1 + 2e-10)]
    ci = stats.mean_ci(x, 0.9)
    mpmath.mp.dps = 60
    xs = [mpmath.mpf(v) for v in x]
    n = len(xs)
    m = mpmath.fsum(xs) / n
    s = mpmath.sqrt(mpmath.fsum((v - m) ** 2 for v in xs) / (n - 1))
    half = mpmath.mpf(scipy.stats.t.ppf(0.95, n - 1)) * s / mpmath.sqrt(n)
    for got, want in ((ci.estimate, m), (ci.low, m - half), (ci.high, m + half),
                      (ci.standard_error, s / mpmath.sqrt(n))):
        assert math.isfinite(got)
        assert got == pytest.approx(float(want), rel=1e-12)


@pytest.mark.lesson_evaluation
def test_bootstrap_of_a_mean_or_median_near_the_largest_float():
    import scipy.stats

    x = np.array([1e308, 1.5e308, BIG, 1.2e308, 1.1e308])
    # np.mean of these overflows; the interval runs on x / 2**1023 and is scaled back
    for stat in (np.mean, np.median):
        ci = stats.bootstrap_ci(x, stat, n_resamples=400, method="percentile", rng=1)
        ref = scipy.stats.bootstrap((x / 2.0**1000,), stat, n_resamples=400, method="percentile",
                                    rng=np.random.default_rng(1))
        low, high = (v * 2.0**1000 for v in (ref.confidence_interval.low, ref.confidence_interval.high))
        assert math.isfinite(ci.low) and math.isfinite(ci.high)
        assert ci.low == pytest.approx(low, rel=1e-13) and ci.high == pytest.approx(high, rel=1e-13)
    assert stats.bootstrap_ci(x, rng=0, n_resamples=200).estimate == pytest.approx(
        _exact(_mean(x)), rel=4e-16)
    theta = stats.bootstrap_distribution(x, n_resamples=50, rng=0)
    assert np.isfinite(theta).all() and theta.max() <= BIG


@pytest.mark.lesson_evaluation
def test_bootstrap_of_ordinary_data_is_unchanged_by_the_scaling():
    # scaling by a power of two commutes with rounding: the same interval, bit for bit,
    # as the statistic computed on the data as given (a lambda is not in the equivariant set)
    x = np.random.default_rng(5).normal(size=30) * 3 + 1
    for method in ("percentile", "basic", "bca"):
        a = stats.bootstrap_ci(x, np.mean, n_resamples=300, method=method, rng=2)
        b = stats.bootstrap_ci(x, lambda s, axis: np.mean(s, axis=axis), n_resamples=300,
                               method=method, rng=2)
        assert (a.low, a.high, a.estimate) == (b.low, b.high, b.estimate)   # exact by construction


@pytest.mark.lesson_information
def test_bits_per_token_and_perplexity_of_huge_nlls():
    nll = np.array([[1e308, 1.2e308], [1e-300, 3e-300]])
    mpmath.mp.dps = 40
    for axis in (None, 1):
        got = info.bits_per_token(nll, axis=axis)
        rows = [nll.ravel()] if axis is None else list(nll)
        want = [mpmath.fsum(map(mpmath.mpf, r)) / len(r) / mpmath.log(2) for r in rows]
        np.testing.assert_allclose(np.ravel(got), [float(w) for w in want], rtol=1e-15)
    ppl = info.perplexity(nll, axis=1)
    assert math.isinf(ppl[0]) and ppl[1] == pytest.approx(1.0, abs=1e-15)
    assert math.isinf(info.bits_per_token([BIG, BIG]))   # 2.6e308 bits: beyond the float range


@pytest.mark.lesson_svd_lora
def test_pca_keeps_a_small_column_next_to_a_huge_one():
    X = np.array([[1e300, 1e-10], [1e300, 2e-10], [1e300, 3e-10], [1e300, 6e-10]])
    res = linalg.pca(X, 1)
    col = X[:, 1].tolist()
    np.testing.assert_allclose(res.explained_variance, [_exact(_var(col, ddof=1))], rtol=1e-13)
    np.testing.assert_allclose(res.mean, [1e300, _exact(_mean(col))], rtol=1e-15)
    np.testing.assert_allclose(np.abs(res.components), [[0.0, 1.0]], atol=1e-15)
    Y = np.array([[0.0, 1.0], [2.6e154, -1.0], [1.3e154, 0.0]])    # variance 1.69e308: finite
    var = linalg.pca(Y, 1).explained_variance[0]
    np.testing.assert_allclose(var, _exact(_var(Y[:, 0].tolist(), ddof=1)), rtol=1e-12)


@pytest.mark.lesson_cross_entropy_grad
@pytest.mark.parametrize("ignore", ["-1", -1.0, True, [-1], np.array(-1), np.array([0, -1]), 2**64])
def test_cross_entropy_ignore_index_must_be_an_int_or_none(ignore):
    from llmmath.autograd import functional as F

    z = Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(LLMMathError, match="cross_entropy: argument 'ignore_index'"):
        F.cross_entropy(z, [0, -1], ignore_index=ignore)


@pytest.mark.torch
@pytest.mark.lesson_cross_entropy_grad
def test_cross_entropy_ignores_a_row_whose_logits_hold_minus_inf():
    import torch

    from llmmath.autograd import functional as F

    logits = np.array([[-np.inf, 1.0, 2.0], [0.5, -1.0, 0.0], [-np.inf, 0.0, 3.0]])
    targets = np.array([-1, 2, 1])           # row 0 ignored; its class 0 is -inf
    for reduction in ("mean", "sum", "none"):
        z = Tensor(logits.copy(), requires_grad=True)
        loss = F.cross_entropy(z, targets, ignore_index=np.int64(-1), reduction=reduction)
        tz = torch.tensor(logits, requires_grad=True)
        ref = torch.nn.functional.cross_entropy(tz, torch.from_numpy(targets), ignore_index=-1,
                                                reduction=reduction)
        np.testing.assert_allclose(loss.data, ref.detach().numpy(), rtol=1e-14)
        g = np.ones(loss.shape)
        loss.backward(g)
        ref.backward(torch.from_numpy(g))
        np.testing.assert_allclose(z.grad, tz.grad.numpy(), rtol=1e-13, atol=1e-15)
