"""Special functions for the statistics module, in pure Python floats.

:mod:`llmmath.stats` needs the normal CDF and its inverse (for BCa bootstrap
intervals), Student's t distribution (t-tests, t-intervals) and the binomial
CDF (McNemar's exact test). SciPy has all of them; the library core may not
import SciPy, so they are written out here from their textbook definitions.

* ``betainc(a, b, x)``: the regularised incomplete beta function
  ``I_x(a, b)``, by its continued fraction evaluated with the modified Lentz
  method (Numerical Recipes, 3rd ed., §6.4). Student's t and the binomial CDF
  are both special cases of it.
* ``ndtr(x)``: the standard normal CDF, ``erfc(-x / sqrt 2) / 2``.
* ``ndtri(p)``: its inverse, by P. J. Acklam's rational approximation
  (relative error below 1.2e-9) refined by one Halley step, which brings it to
  within a few ulps.

All functions take and return Python floats (scalars); the statistics code
calls them a handful of times per test, so clarity wins over vectorisation.
Checked against ``scipy.special`` and mpmath in ``tests/test_stats.py``.
"""

from __future__ import annotations

import math

__all__ = [
    "betainc",
    "ndtr",
    "ndtri",
    "t_cdf",
    "t_sf",
    "t_ppf",
    "chi2_sf_1df",
    "binom_cdf",
]

_TINY = 1e-300      # Lentz's guard against a zero denominator
_EPS = 1e-16        # continued fraction convergence: relative change below this
_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _betacf(a: float, b: float, x: float, y: float) -> float:
    """The continued fraction of I_x(a, b) (Numerical Recipes §6.4), modified Lentz.

    ``I_x(a, b) = x^a (1-x)^b / (a B(a, b)) * 1 / (1 + d_1 / (1 + d_2 / (1 + ...)))``
    with ``d_{2m+1} = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1))`` and
    ``d_{2m} = m(b-m) x / ((a+2m-1)(a+2m))``; ``y = 1 - x``. Converges fast for
    ``x < (a+1)/(a+b+2)``; in about ``O(sqrt(max(a, b)))`` steps at worst.
    """
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    # first denominator 1 - (a+b) x / (a+1); written with y = 1 - x when x is
    # near 1, where the plain form would cancel away most of its digits
    d = 1.0 - qab * x / qap if x < 0.5 else (1.0 - b + qab * y) / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    max_iter = 10_000 + int(20 * math.sqrt(max(a, b)))
    for m in range(1, max_iter):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))          # even step d_2m
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))  # odd step d_2m+1
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > _TINY else _TINY)
        c = 1.0 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return h
    raise ArithmeticError(f"betainc: continued fraction did not converge for a={a}, b={b}, x={x}")


# Stirling series of log Gamma: log G(z) = (z - 1/2) log z - z + log sqrt(2 pi) + S(z),
# S(z) = sum_k B_2k / (2k (2k - 1) z^(2k-1)); eight terms reach ~1e-17 for z >= 10.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400)


def _stirling_tail(z: float) -> float:
    w, z2, total = 1.0 / z, 1.0 / (z * z), 0.0
    for coef in _STIRLING:
        total += coef * w
        w *= z2
    return total


def _lbeta(a: float, b: float) -> float:
    """``log B(a, b) = log G(a) + log G(b) - log G(a + b)`` without cancellation.

    When the larger argument ``z`` is 10 or more, ``log G(z) - log G(z + w)``
    (``w`` the smaller) is taken from the Stirling series as
    ``-w log z - (z + w - 1/2) log1p(w / z) + w + S(z) - S(z + w)``, which has
    no difference of two large numbers (``lgamma(5e5)`` alone is 6e6, and
    subtracting two such values would lose nine digits).
    """
    w, z = (a, b) if a < b else (b, a)
    if z < 10.0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    diff = (-w * math.log(z) - (z + w - 0.5) * math.log1p(w / z) + w
            + _stirling_tail(z) - _stirling_tail(z + w))
    return math.lgamma(w) + diff


def betainc(a: float, b: float, x: float, y: float | None = None) -> float:
    """Regularised incomplete beta ``I_x(a, b) = B(x; a, b) / B(a, b)``.

    ``a, b > 0`` and ``0 <= x <= 1``. Pass ``y = 1 - x`` when it is known more
    accurately than ``1 - x`` can be computed (Student's t near ``t = 0``).
    Uses the symmetry ``I_x(a, b) = 1 - I_{1-x}(b, a)`` to keep the continued
    fraction where it converges.
    """
    if y is None:
        y = 1.0 - x
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    # log of the prefactor x^a y^b / B(a, b); log1p keeps the digits of x or y near 1
    log_x = math.log(x) if x < 0.5 else math.log1p(-y)
    log_y = math.log(y) if y < 0.5 else math.log1p(-x)
    log_front = a * log_x + b * log_y - _lbeta(a, b)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        value = front * _betacf(a, b, x, y) / a
        # Student's t at large df (a = df/2 huge, b = 1/2, x near 1): here the
        # fraction loses about a * 2e-17 relative (2e-11 at df = 2e6), while the
        # other side, 1 - I_y(b, a), stays within 1e-12 as long as the value is
        # not small. Measured against mpmath; used only in that regime. Far in
        # the tail at df > 1e5 the error stays near a * 2e-17.
        if b <= 1.0 and a > 1000.0 and value > 5e-3:
            return 1.0 - front * _betacf(b, a, y, x) / b
        return value
    return 1.0 - front * _betacf(b, a, y, x) / b


def ndtr(x: float) -> float:
    """Standard normal CDF ``Phi(x) = erfc(-x / sqrt 2) / 2`` (accurate in both tails)."""
    return 0.5 * math.erfc(-x / _SQRT2)


# P. J. Acklam, "An algorithm for computing the inverse normal cumulative
# distribution function" (2003): rational approximations on three regions.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
      1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
      6.680131188771972e01, -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
      3.754408661907416e00)
_P_LOW = 0.02425


def _acklam(p: float) -> float:
    """Acklam's approximation of Phi^{-1}(p) for 0 < p <= 0.5 (relative error < 1.2e-9)."""
    if p < _P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        num = ((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]
        den = (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        return num / den
    q = p - 0.5
    r = q * q
    num = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
    den = ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0
    return num / den


def ndtri(p: float) -> float:
    """Inverse of the standard normal CDF: the ``x`` with ``Phi(x) = p``.

    ``ndtri(0) = -inf``, ``ndtri(1) = inf``. For ``p > 1/2`` the symmetry
    ``Phi^{-1}(p) = -Phi^{-1}(1 - p)`` is used (``1 - p`` is exact there). One
    Halley step ``x -= u / (1 + x u / 2)``, ``u = (Phi(x) - p) / phi(x)``,
    polishes Acklam's starting value. The residual ``Phi(x) - p`` is formed
    without cancellation: via ``erf`` near the centre, and relative to ``p``
    (in log space) in the tail, so no ``exp(x^2 / 2)`` overflows.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"ndtri: p must lie in [0, 1]; got {p}.")
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if p > 0.5:
        return -ndtri(1.0 - p)
    x = _acklam(p)
    if p >= 0.25:
        # Phi(x) - p = erf(x / sqrt 2) / 2 - (p - 1/2); p - 1/2 is exact here
        resid = 0.5 * math.erf(x / _SQRT2) - (p - 0.5)
        u = resid * math.exp(_LOG_SQRT_2PI + 0.5 * x * x)
    else:
        rel = ndtr(x) / p - 1.0                                   # (Phi(x) - p) / p
        u = rel * math.exp(math.log(p) + _LOG_SQRT_2PI + 0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


def _t_tail(t: float, df: float) -> float:
    """``P(T > |t|)`` for Student's t with ``df`` degrees of freedom.

    ``P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2)``; both ``x`` and
    ``1 - x = t^2 / (df + t^2)`` are formed directly so neither loses digits.
    """
    if t == 0.0:
        return 0.5
    if math.isinf(t):
        return 0.0
    t2 = t * t
    if math.isinf(t2):          # |t| > 1e154: the tail is below any float
        return 0.0
    else:
        x, y = df / (df + t2), t2 / (df + t2)
    return 0.5 * betainc(0.5 * df, 0.5, x, y)


def t_cdf(t: float, df: float) -> float:
    """Student's t CDF ``P(T <= t)``, ``df > 0`` (not necessarily an integer)."""
    tail = _t_tail(t, df)
    return tail if t < 0 else 1.0 - tail


def t_sf(t: float, df: float) -> float:
    """Student's t survival function ``P(T > t)`` (accurate for large ``t``)."""
    tail = _t_tail(t, df)
    return tail if t > 0 else 1.0 - tail


def _t_logpdf(t: float, df: float) -> float:
    return (math.lgamma(0.5 * (df + 1.0)) - math.lgamma(0.5 * df)
            - 0.5 * math.log(df * math.pi) - 0.5 * (df + 1.0) * math.log1p(t * t / df))


def t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t: the ``t`` with ``P(T <= t) = q``, ``0 < q < 1``.

    Newton's method on :func:`t_cdf` inside a bracket that only shrinks (a step
    that would leave the bracket bisects instead), started from the normal
    quantile. Stops when the step is below ``1e-15 |t|``.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"t_ppf: q must lie in (0, 1); got {q}.")
    if q == 0.5:
        return 0.0
    # by symmetry solve P(T > t) = min(q, 1 - q) for t > 0, then fix the sign
    target_sf = 1.0 - q if q > 0.5 else q        # 1 - q is exact for q > 1/2
    lo, hi = 0.0, max(1.0, -ndtri(target_sf))
    while t_sf(hi, df) > target_sf:              # widen until the root is bracketed
        lo, hi = hi, 2.0 * hi
    t = 0.5 * (lo + hi)
    for _ in range(200):
        f = t_sf(t, df) - target_sf              # decreasing in t
        if f > 0:
            lo = t
        else:
            hi = t
        pdf = math.exp(_t_logpdf(t, df))
        new = t + f / pdf if pdf > 0 else hi      # Newton: t_new = t + f / pdf
        if not lo < new < hi:
            new = 0.5 * (lo + hi)
        if abs(new - t) <= 1e-15 * abs(new):
            t = new
            break
        t = new
    return t if q > 0.5 else -t


def chi2_sf_1df(x: float) -> float:
    """``P(X > x)`` for a chi-square variable with one degree of freedom: ``erfc(sqrt(x / 2))``."""
    if x <= 0.0:
        return 1.0
    return math.erfc(math.sqrt(0.5 * x))


def binom_cdf(k: int, n: int, p: float) -> float:
    """``P(K <= k)`` for ``K ~ Binomial(n, p)``: ``I_{1-p}(n - k, k + 1)``."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return betainc(float(n - k), float(k + 1), 1.0 - p, p)
