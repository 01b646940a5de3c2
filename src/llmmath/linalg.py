"""Linear algebra for language models: similarity, products, PCA, SVD and LoRA.

Everything here works on stacks of vectors or matrices (leading axes are a
batch, as in NumPy) and is careful about the floating-point range: norms,
dot products and matrix products rescale by powers of two, which is exact,
so ``norm([1e200, 1e200])`` is ``1.414...e200`` and not ``inf``.

A power-of-two rescaling ``x * 2**-e`` changes only the exponent of each
number, so no rounding happens; that is the one trick used throughout (written
once, in :mod:`llmmath._numerics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._numerics import pow2_exponent, pow2_split
from llmmath._validation import (
    as_float_array,
    check_axis,
    check_bool,
    check_float,
    check_int,
    describe,
    float_dtype,
)
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

__all__ = [
    "dot",
    "norm",
    "cosine_similarity",
    "matmul",
    "PCAResult",
    "pca",
    "low_rank_approx",
    "lora_param_count",
    "lora_compression_ratio",
]


def _broadcast(shapes: list[tuple[int, ...]], what: str, op: str) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{op}: {what}") from None


def dot(a: Any, b: Any) -> np.ndarray:
    """Dot product over the last axis, batched over the leading axes.

    Lesson: ``vectors`` (Vectors, matrices and similarity).

    .. math:: \\mathrm{dot}(a, b) = \\sum_i a_i b_i

    Leading axes broadcast as in NumPy, so one query ``(d,)`` against a stack
    of keys ``(T, d)`` gives ``(T,)`` scores.

    Parameters
    ----------
    a, b : array_like, shapes (..., n)
        Finite real vectors with the same last axis ``n``.

    Returns
    -------
    ndarray or scalar
        Shape: the broadcast of the leading axes. A NumPy scalar for two
        vectors. float32 when both inputs are float32, float64 otherwise.
        A sum too large for the float range is ``inf``, never NaN: when the
        plain sum overflows, the vectors are rescaled by powers of two first.

    Raises
    ------
    ShapeError
        The last axes differ, or the leading axes do not broadcast.

    See Also
    --------
    cosine_similarity : the dot product of the unit vectors.

    References
    ----------
    .. [1] numpy.einsum, ``"...i,...i->..."``.

    Examples
    --------
    >>> print(dot([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]))
    32.0
    >>> dot([[1, 0], [0, 1], [1, 1]], [2.0, 3.0])
    array([2., 3., 5.])
    >>> print(dot([1e300, -1e300], [1e10, 1e10]))  # plain sums give nan
    0.0
    """
    op = "dot"
    a = as_float_array(a, "a", op, min_ndim=1)
    b = as_float_array(b, "b", op, min_ndim=1)
    rule = f"the rule is a (..., n) . b (..., n) -> (...); got a {a.shape} and b {b.shape}"
    if a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"{op}: arguments 'a' and 'b' need the same last axis n; {rule}.")
    _broadcast([a.shape[:-1], b.shape[:-1]], f"the leading axes of 'a' and 'b' must broadcast; {rule}.", op)
    dtype = float_dtype(a, b)
    a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
    # A non-finite sum here is repaired just below, so its warning is noise.
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(np.einsum("...i,...i->...", a, b))
    if not np.isfinite(out).all():
        sa, ea = pow2_split(a, axis=-1)
        sb, eb = pow2_split(b, axis=-1)
        small = np.einsum("...i,...i->...", sa, sb)  # |.| <= n
        with np.errstate(over="ignore"):  # a true sum beyond the range is inf
            out = np.asarray(np.ldexp(small, ea[..., 0] + eb[..., 0]))
    return out[()]


def _check_ord(ord: Any, op: str) -> float:
    if isinstance(ord, (bool, np.bool_)) or not isinstance(ord, (int, float, np.integer, np.floating)):
        raise InvalidTypeError(f"{op}: argument 'ord' must be 1, 2 or numpy.inf; got {describe(ord)}.")
    if ord not in (1, 2, np.inf):
        raise InvalidValueError(f"{op}: argument 'ord' must be 1, 2 or numpy.inf; got {ord!r}.")
    return float(ord)


def norm(x: Any, axis: int | None = None, ord: float = 2, keepdims: bool = False) -> np.ndarray:
    """Vector norm, safe from overflow and underflow.

    Lesson: ``vectors`` (Vectors, matrices and similarity).

    .. math:: \\|x\\|_2 = \\sqrt{\\sum_i x_i^2}, \\quad
              \\|x\\|_1 = \\sum_i |x_i|, \\quad \\|x\\|_\\infty = \\max_i |x_i|

    Each vector is divided by a power of two near its largest entry before
    squaring (exact), so ``[1e200, 1e200]`` and ``[1e-200, 1e-200]`` give the
    right answer where ``sqrt(sum(x**2))`` gives ``inf`` and ``0``.

    Parameters
    ----------
    x : array_like
        Finite real numbers.
    axis : int or None
        The axis holding the vectors. ``None`` treats the whole array as one
        vector: for ``ord=2`` that is the Frobenius norm, as in
        ``numpy.linalg.norm``; for ``ord=1`` or ``inf`` it is the entrywise
        norm, not NumPy's induced matrix norm.
    ord : {1, 2, numpy.inf}
        Which norm.
    keepdims : bool
        Keep the reduced axes with length 1.

    Returns
    -------
    ndarray or scalar
        The norms (a NumPy scalar when everything is reduced); ``inf`` only
        when the true norm exceeds the float range.

    Raises
    ------
    InvalidValueError, InvalidTypeError
        Non-finite entries, a bad ``axis`` or ``ord``.

    References
    ----------
    .. [1] LAPACK ``dnrm2`` and C99 ``hypot`` use the same rescaling idea.

    Examples
    --------
    >>> print(norm([3.0, 4.0]))
    5.0
    >>> print(norm([1e200, 1e200]))
    1.4142135623730951e+200
    >>> norm([[3.0, 4.0], [1.0, -1.0]], axis=-1, ord=1)
    array([7., 2.])
    """
    op = "norm"
    x = as_float_array(x, "x", op)
    ord_ = _check_ord(ord, op)
    keepdims = check_bool(keepdims, "keepdims", op)
    axes = tuple(range(x.ndim)) if axis is None else (check_axis(axis, x.ndim, "axis", op),)
    a = np.abs(x)
    if a.size == 0:
        return np.sum(a, axis=axes, keepdims=keepdims)[()]
    m = a.max(axis=axes, keepdims=True)
    if ord_ == np.inf:
        out = m
    else:
        e = pow2_exponent(m)
        u = np.ldexp(a, -e)  # entries in [0, 1)
        s = u.sum(axis=axes, keepdims=True) if ord_ == 1 else np.sqrt((u * u).sum(axis=axes, keepdims=True))
        with np.errstate(over="ignore"):  # a norm beyond the float range is inf
            out = np.ldexp(s, e)
    if not keepdims:
        out = out.reshape([n for i, n in enumerate(out.shape) if i not in axes])
    return out[()]


def _unit(x: np.ndarray, axis: int, eps: float) -> np.ndarray:
    """``x / max(||x||, eps)`` along ``axis``, without overflow or underflow."""
    u, e = pow2_split(x, axis=axis)
    nu = np.sqrt((u * u).sum(axis=axis, keepdims=True))  # ||x|| = nu * 2**e
    # eps * 2**-e overflows only when ||x|| is far below eps; then x / eps is 0 anyway.
    # The floor never drops below the dtype's smallest number, so 0 / floor stays 0.
    with np.errstate(over="ignore"):
        floor = np.maximum(np.ldexp(eps, -e), np.finfo(x.dtype).smallest_subnormal).astype(x.dtype)
    return u / np.maximum(nu, floor)


def cosine_similarity(a: Any, b: Any, axis: int = -1, eps: float = 1e-8) -> np.ndarray:
    """Cosine of the angle between vectors, like ``torch.nn.functional.cosine_similarity``.

    Lesson: ``vectors`` (Vectors, matrices and similarity).

    .. math:: \\cos(a, b) = \\frac{a \\cdot b}{\\max(\\|a\\|, \\epsilon)\\,\\max(\\|b\\|, \\epsilon)}

    Each norm is clamped below by ``eps`` on its own (PyTorch's rule), so a
    zero vector has similarity 0 with everything, never NaN. Results are
    clipped to [-1, 1] so that ``arccos`` of them is always defined.

    Parameters
    ----------
    a, b : array_like
        Finite real arrays that broadcast to a common shape.
    axis : int
        The axis of the common shape that holds the vectors.
    eps : float
        The floor of each norm, > 0.

    Returns
    -------
    ndarray or scalar
        The common shape without ``axis``.

    Raises
    ------
    ShapeError
        ``a`` and ``b`` do not broadcast.

    References
    ----------
    .. [1] PyTorch documentation, ``torch.nn.functional.cosine_similarity``.

    Examples
    --------
    >>> print(round(float(cosine_similarity([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])), 4))
    0.9746
    >>> print(cosine_similarity([0.0, 0.0], [1.0, 2.0]))
    0.0
    """
    op = "cosine_similarity"
    a = as_float_array(a, "a", op, min_ndim=1)
    b = as_float_array(b, "b", op, min_ndim=1)
    eps = check_float(eps, "eps", op, min_value=0.0, min_inclusive=False)
    shape = _broadcast([a.shape, b.shape], f"arguments 'a' and 'b' must broadcast to one shape; got {a.shape} and {b.shape}.", op)
    ax = check_axis(axis, len(shape), "axis", op)
    dtype = float_dtype(a, b)
    a = np.broadcast_to(a.astype(dtype, copy=False), shape)
    b = np.broadcast_to(b.astype(dtype, copy=False), shape)
    if shape[ax] == 0:
        return np.zeros(shape[:ax] + shape[ax + 1:], dtype)[()]
    cos = (_unit(a, ax, eps) * _unit(b, ax, eps)).sum(axis=ax)
    return np.clip(cos, -1.0, 1.0)[()]


def matmul(A: Any, B: Any) -> np.ndarray:
    """Matrix product ``A @ B``, batched, with a shape error that states the rule.

    Lessons: ``why_math`` (Why the mathematics matters); ``vectors`` (Vectors, matrices and
    similarity); ``attention`` (Attention as matrix operations).

    .. math:: C_{ij} = \\sum_k A_{ik} B_{kj}, \\qquad
              (\\ldots, m, n) \\mathbin{@} (\\ldots, n, p) \\to (\\ldots, m, p)

    As with ``@``, leading (batch) axes broadcast, a 1-D ``A`` is a row
    vector and a 1-D ``B`` a column vector whose added axis is then removed.
    When the plain product overflows, the rows of ``A`` and the columns of
    ``B`` are rescaled by powers of two and the product redone, so the result
    holds ``inf`` where the true entry exceeds the float range, never NaN.

    Parameters
    ----------
    A : array_like, shape (..., m, n) or (n,)
    B : array_like, shape (..., n, p) or (n,)

    Returns
    -------
    ndarray
        Shape ``(..., m, p)``; float32 when both inputs are float32.

    Raises
    ------
    ShapeError
        ``A``'s last axis differs from ``B``'s second-to-last, the batch axes
        do not broadcast, or an input is a scalar.

    Examples
    --------
    >>> matmul([[1.0, 2.0], [3.0, 4.0]], [[1.0], [1.0]])
    array([[3.],
           [7.]])
    >>> matmul(np.ones((2, 3)), np.ones((2, 3)))
    Traceback (most recent call last):
    ...
    llmmath.errors.ShapeError: matmul: the rule is (..., m, n) @ (..., n, p) -> (..., m, p): ...
    """
    op = "matmul"
    A = as_float_array(A, "A", op, min_ndim=1)
    B = as_float_array(B, "B", op, min_ndim=1)
    a2 = A[None, :] if A.ndim == 1 else A
    b2 = B[:, None] if B.ndim == 1 else B
    rule = "the rule is (..., m, n) @ (..., n, p) -> (..., m, p)"
    if a2.shape[-1] != b2.shape[-2]:
        raise ShapeError(
            f"{op}: {rule}: the last axis of argument 'A' (n={a2.shape[-1]}) must equal the "
            f"second-to-last of argument 'B' (n={b2.shape[-2]}); got A {A.shape} and B {B.shape}."
        )
    _broadcast([a2.shape[:-2], b2.shape[:-2]],
               f"{rule}, and the batch axes '...' of arguments 'A' and 'B' must broadcast; got "
               f"A {A.shape} and B {B.shape}.", op)
    dtype = float_dtype(A, B)
    a2, b2 = a2.astype(dtype, copy=False), b2.astype(dtype, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):  # repaired below
        C = a2 @ b2
    if not np.isfinite(C).all():
        sa, er = pow2_split(a2, axis=-1)  # er: (..., m, 1), one exponent per row of A
        sb, ec = pow2_split(b2, axis=-2)  # ec: (..., 1, p), one per column of B
        small = sa @ sb  # every entry |.| <= n
        with np.errstate(over="ignore"):
            C = np.ldexp(small, er + ec)
    if A.ndim == 1:
        C = C[..., 0, :]
    if B.ndim == 1:
        C = C[..., 0]
    return C


@dataclass(frozen=True)
class PCAResult:
    """The result of :func:`pca`.

    Lesson: none (a linear-algebra utility).

    Attributes
    ----------
    components : ndarray, shape (k, n_features)
        Orthonormal principal directions, strongest first.
    explained_variance : ndarray, shape (k,)
        Variance of the data along each direction (divisor ``n_samples - 1``).
    explained_variance_ratio : ndarray, shape (k,)
        Each variance over the total variance (0 when the data are constant).
    singular_values : ndarray, shape (k,)
        Singular values of the centred data.
    mean : ndarray, shape (n_features,)
        The mean that was subtracted.
    transformed : ndarray, shape (n_samples, k)
        The centred data in the new coordinates, ``(X - mean) @ components.T``.
    """

    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    singular_values: np.ndarray
    mean: np.ndarray
    transformed: np.ndarray


def pca(X: Any, n_components: int) -> PCAResult:
    """Principal component analysis through the SVD of the centred data.

    Lesson: none (a linear-algebra utility).

    With ``X - mean = U S V^T``, the components are the first rows of ``V^T``,
    the variances ``s_i^2 / (n - 1)`` and the ratios ``s_i^2 / sum_j s_j^2``.

    Sign convention: an SVD fixes each direction only up to sign. Here every
    component is flipped so that its entry of largest absolute value is
    positive (the first such entry on ties), as in scikit-learn 1.5+, and the
    scores in ``transformed`` flip with it.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
        Finite data, one sample per row, at least two samples.
    n_components : int
        How many directions to keep, ``1 <= n_components <= min(X.shape)``.

    Returns
    -------
    PCAResult
        ``components``, ``explained_variance``, ``explained_variance_ratio``,
        ``singular_values``, ``mean``, ``transformed``.

    Raises
    ------
    ShapeError, InvalidValueError
        ``X`` is not 2-D, has fewer than two rows or no columns, or
        ``n_components`` is out of range.

    References
    ----------
    .. [1] I. T. Jolliffe, *Principal Component Analysis*, 2nd ed., Springer, 2002.
    .. [2] scikit-learn, ``sklearn.decomposition.PCA`` (the sign rule).

    Examples
    --------
    >>> X = [[2.0, 0.0], [0.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]]
    >>> res = pca(X, 1)
    >>> res.components
    array([[1., 0.]])
    >>> print(res.explained_variance_ratio.round(3))
    [0.8]
    """
    op = "pca"
    X = as_float_array(X, "X", op, ndim=2)
    n, f = X.shape
    if n < 2:
        raise InvalidValueError(f"{op}: argument 'X' needs at least 2 samples (rows); got shape {X.shape}.")
    if f < 1:
        raise ShapeError(f"{op}: argument 'X' has no features (columns); got shape {X.shape}.")
    k = check_int(n_components, "n_components", op, min_value=1, max_value=min(n, f))
    # Centre each column in its own unit (divided by a power of two near its
    # largest |entry|, exact), so a column of 1e300s next to one of 1e-10s keeps
    # both its mean and its spread; then bring the centred columns to one unit,
    # that of the largest centred entry, for the SVD (|entries| < 1: no overflow).
    Xc, ec = pow2_split(X, axis=0)                         # (n, f), (1, f)
    mean_c = Xc.mean(axis=0, keepdims=True)                # (1, f)
    Dc = Xc - mean_c
    spread = np.abs(Dc).max(axis=0, keepdims=True)         # (1, f)
    ed = np.where(spread > 0, pow2_exponent(spread) + ec, np.iinfo(np.int64).min)
    E = int(ed.max()) if (spread > 0).any() else 0
    D = np.ldexp(Dc, ec - E)                               # the centred data times 2**-E
    try:
        U, s, Vt = np.linalg.svd(D, full_matrices=False)
    except np.linalg.LinAlgError:
        raise InvalidValueError(f"{op}: the SVD of the centred 'X' (shape {X.shape}) did not converge.") from None
    total = np.sum(s * s)  # total variance of the scaled data, times (n - 1)
    U, s, Vt = U[:, :k], s[:k], Vt[:k]
    big = np.abs(Vt).argmax(axis=1)
    signs = np.where(Vt[np.arange(k), big] < 0, -1.0, 1.0).astype(X.dtype)
    Vt, U = Vt * signs[:, None], U * signs
    ratio = (s * s / total) if total > 0 else np.zeros_like(s)
    with np.errstate(over="ignore"):  # variances beyond the float range are inf
        # the standard deviation first, then its square: finite whenever the variance is
        std = np.ldexp((s / np.sqrt(n - 1)).astype(X.dtype), E)
        return PCAResult(
            components=Vt,
            explained_variance=(std * std).astype(X.dtype),
            explained_variance_ratio=ratio.astype(X.dtype),
            singular_values=np.ldexp(s, E),
            mean=np.ldexp(mean_c[0], ec[0]),
            transformed=np.ldexp(U * s, E),
        )


def low_rank_approx(M: Any, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Best rank-``r`` approximation through the truncated SVD (Eckart-Young).

    Lesson: ``svd_lora`` (SVD, low-rank approximation and LoRA).

    .. math:: M_r = \\sum_{i \\le r} \\sigma_i u_i v_i^T, \\qquad
              \\frac{\\|M - M_r\\|_F}{\\|M\\|_F}
              = \\sqrt{\\frac{\\sum_{i > r} \\sigma_i^2}{\\sum_i \\sigma_i^2}}

    No matrix of rank at most ``r`` is closer to ``M`` in the Frobenius norm
    (Eckart and Young, 1936). The error is computed from the singular values,
    so it is exactly 0 at full rank and for the zero matrix.

    Parameters
    ----------
    M : array_like, shape (..., m, n)
        Finite matrices; leading axes are a batch.
    rank : int
        ``0 <= rank <= min(m, n)``.

    Returns
    -------
    M_rank : ndarray, shape (..., m, n)
        The approximations.
    relative_frobenius_error : scalar or ndarray, shape (...)
        ``||M - M_r||_F / ||M||_F`` in [0, 1] (0 for a zero matrix); a NumPy
        scalar for a single matrix.

    Raises
    ------
    ShapeError, InvalidValueError
        ``M`` has fewer than 2 axes, or ``rank`` is out of range.

    References
    ----------
    .. [1] C. Eckart and G. Young, "The approximation of one matrix by another of
       lower rank", Psychometrika 1(3), 211-218, 1936.

    Examples
    --------
    >>> M = np.diag([3.0, 4.0])
    >>> M1, err = low_rank_approx(M, 1)
    >>> M1
    array([[0., 0.],
           [0., 4.]])
    >>> print(err)  # sqrt(3**2 / (3**2 + 4**2))
    0.6
    """
    op = "low_rank_approx"
    M = as_float_array(M, "M", op, min_ndim=2)
    m, n = M.shape[-2:]
    r = check_int(rank, "rank", op)
    if not 0 <= r <= min(m, n):
        raise InvalidValueError(
            f"{op}: argument 'rank'={r} must lie in [0, min(m, n)] = [0, {min(m, n)}] for 'M' of "
            f"shape {M.shape}."
        )
    batch = M.shape[:-2]
    if M.size == 0:
        return M.copy(), np.zeros(batch, M.dtype)[()]
    Ms, e = pow2_split(M, axis=(-2, -1))
    try:
        U, s, Vt = np.linalg.svd(Ms, full_matrices=False)
    except np.linalg.LinAlgError:
        raise InvalidValueError(f"{op}: the SVD of 'M' (shape {M.shape}) did not converge.") from None
    approx = (U[..., :, :r] * s[..., None, :r]) @ Vt[..., :r, :]  # (..., m, n)
    with np.errstate(over="ignore"):  # only entries at the very edge of the range
        M_rank = np.ldexp(approx, e)
    total = np.sqrt(np.sum(s * s, axis=-1))
    tail = np.sqrt(np.sum(s[..., r:] ** 2, axis=-1))
    err = np.divide(tail, total, out=np.zeros_like(total), where=total > 0)
    return M_rank, np.clip(err, 0.0, 1.0)[()]


def _lora_dims(d_in: Any, d_out: Any, rank: Any, op: str) -> tuple[int, int, int]:
    d_in = check_int(d_in, "d_in", op, min_value=1)
    d_out = check_int(d_out, "d_out", op, min_value=1)
    r = check_int(rank, "rank", op, min_value=1)
    if r > min(d_in, d_out):
        raise InvalidValueError(
            f"{op}: argument 'rank'={r} exceeds min(d_in, d_out) = {min(d_in, d_out)}; a larger "
            "rank saves nothing over the full matrix."
        )
    return d_in, d_out, r


def lora_param_count(d_in: int, d_out: int, rank: int) -> int:
    """Trainable parameters of a LoRA update ``delta W = B A``.

    Lesson: ``svd_lora`` (SVD, low-rank approximation and LoRA).

    ``B`` is ``(d_out, r)`` and ``A`` is ``(r, d_in)``, so the count is
    ``r * (d_in + d_out)`` instead of ``d_in * d_out`` for a full update.

    Parameters
    ----------
    d_in, d_out : int
        The weight's input and output widths, >= 1.
    rank : int
        ``1 <= rank <= min(d_in, d_out)``.

    Returns
    -------
    int

    Raises
    ------
    InvalidTypeError, InvalidValueError
        Non-integers or values out of range.

    See Also
    --------
    lora_compression_ratio, low_rank_approx

    References
    ----------
    .. [1] E. J. Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models",
       ICLR 2022, arXiv:2106.09685.

    Examples
    --------
    >>> lora_param_count(4096, 4096, 8)
    65536
    >>> 4096 * 4096
    16777216
    """
    d_in, d_out, r = _lora_dims(d_in, d_out, rank, "lora_param_count")
    return r * (d_in + d_out)


def lora_compression_ratio(d_in: int, d_out: int, rank: int) -> float:
    """How many times fewer parameters a LoRA update trains than a full one.

    Lesson: ``svd_lora`` (SVD, low-rank approximation and LoRA).

    .. math:: \\frac{d_{in}\\, d_{out}}{r\\,(d_{in} + d_{out})}

    Parameters and errors as for :func:`lora_param_count`.

    Returns
    -------
    float

    Examples
    --------
    >>> lora_compression_ratio(4096, 4096, 8)
    256.0
    """
    d_in, d_out, r = _lora_dims(d_in, d_out, rank, "lora_compression_ratio")
    return d_in * d_out / (r * (d_in + d_out))
