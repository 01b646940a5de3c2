"""Attention as matrix operations, and the spectrum of attention matrices.

Shapes follow NOTATION.md: ``B`` batch, ``T`` tokens, ``C`` model width,
``nh`` heads, ``hs = C // nh`` head width. Leading axes written ``...`` are a
batch and broadcast as in NumPy.

An attention matrix ``A = softmax(Q K^T / sqrt(d))`` is row-stochastic:
entries >= 0, rows sum to 1. Read as the transition matrix of a Markov chain
over positions, it has a stationary distribution (where attention "flows" in
the long run) and a spectral gap (how fast repeated mixing forgets its start).
"""

from __future__ import annotations

from math import gcd
from typing import Any

import numpy as np

from llmmath._validation import (
    as_float_array,
    as_int_array,
    check_allocation,
    check_bool,
    check_distribution,
    check_float,
    check_int,
    ensure_no_nan,
    float_dtype,
)
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.linalg import matmul
from llmmath.prob import softmax

__all__ = [
    "scaled_dot_product_attention",
    "causal_mask",
    "sinusoidal_positions",
    "rope_frequencies",
    "rope",
    "multi_head_attention",
    "stationary_distribution",
    "spectral_gap",
]


def causal_mask(T: int, n_keys: int | None = None) -> np.ndarray:
    """Boolean causal mask: query ``i`` may look at key ``j`` iff ``j <= i``.

    Lessons: ``attention`` (Attention as matrix operations); ``attention_spectrum`` (Eigenvalues of
    attention).

    ``True`` means keep. For ``T`` queries and ``S = n_keys`` keys this is the
    lower triangle of a ``(T, S)`` matrix of ones, aligned at the top-left
    corner, the same alignment as ``is_causal=True`` in PyTorch's
    ``scaled_dot_product_attention``.

    Parameters
    ----------
    T : int
        Number of queries, >= 0.
    n_keys : int, optional
        Number of keys, >= 0 (default ``T``).

    Returns
    -------
    ndarray of bool, shape (T, n_keys)

    Raises
    ------
    InvalidValueError, InvalidTypeError
        A size that is not a non-negative integer, or a mask of more than
        ``llmmath._validation.MAX_ELEMENTS`` entries (refused before allocating).

    Examples
    --------
    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    op = "causal_mask"
    T = check_int(T, "T", op, min_value=0)
    S = T if n_keys is None else check_int(n_keys, "n_keys", op, min_value=0)
    check_allocation((T, S), "T" if n_keys is None else ("T", "n_keys"), op, dtype=bool,
                     what="a mask")
    if T == 0 or S == 0:  # np.tri would still build arange(T) and arange(S)
        return np.zeros((T, S), dtype=bool)
    return np.tri(T, S, dtype=bool)


def _attend(q: np.ndarray, k: np.ndarray, v: np.ndarray, keep: np.ndarray | None,
            scale: float, op: str, rescale: str = "'q', 'k' or 'scale'",
            ) -> tuple[np.ndarray, np.ndarray]:
    """softmax(q k^T * scale, masked) @ v on validated arrays of one dtype.

    ``rescale`` names the caller's arguments that set the size of the scores.
    """
    Tq, Tk = q.shape[-2], k.shape[-2]
    if Tk == 0 and Tq > 0:
        raise ShapeError(f"{op}: argument 'k' holds no keys (shape {k.shape}, Tk = 0); every "
                         "query needs at least one key.")
    with np.errstate(over="ignore", invalid="ignore"):  # checked on the next line
        scores = (q @ np.swapaxes(k, -1, -2)) * scale  # (..., Tq, Tk)
    if not np.isfinite(scores).all():
        raise InvalidValueError(
            f"{op}: the scores q @ k^T * scale overflow the float range (largest |q| "
            f"{np.abs(q).max(initial=0):.3g}, largest |k| {np.abs(k).max(initial=0):.3g}, scale "
            f"{scale:.3g}); rescale {rescale}."
        )
    if keep is not None:
        keep = np.broadcast_to(keep, scores.shape)
        dead = ~keep.any(axis=-1)  # (..., Tq)
        if dead.any():
            where = tuple(int(i) for i in np.unravel_index(int(np.argmax(dead)), dead.shape))
            raise InvalidValueError(
                f"{op}: every key is masked for query row {where[-1]} (batch index {where[:-1]}); "
                "each row of 'mask' (and of the causal mask) needs at least one True."
            )
        scores = np.where(keep, scores, -np.inf)
    if scores.size == 0:
        return np.zeros(scores.shape[:-1] + v.shape[-1:], q.dtype), scores
    weights = softmax(scores, axis=-1)  # max-shifted; masked entries get exactly 0
    with np.errstate(over="ignore"):  # a convex combination of v stays in range
        out = weights @ v  # (..., Tq, dv)
    return ensure_no_nan(out, op), weights


def scaled_dot_product_attention(
    q: Any, k: Any, v: Any, mask: Any = None, causal: bool = False, scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Scaled dot-product attention, returning the output and the weights.

    Lessons: ``why_math`` (Why the mathematics matters); ``attention`` (Attention as matrix
    operations).

    .. math:: \\mathrm{Attention}(Q, K, V) = \\mathrm{softmax}\\!\\left(
              \\frac{Q K^T}{\\sqrt{d}}\\right) V

    The softmax runs over the keys (the last axis) after subtracting each
    row's maximum, so scores of any size give exact finite weights. Masked
    scores become ``-inf`` and so get weight exactly 0.

    Parameters
    ----------
    q : array_like, shape (..., Tq, d)
    k : array_like, shape (..., Tk, d)
    v : array_like, shape (..., Tk, dv)
        Finite queries, keys and values; the batch axes broadcast.
    mask : array_like of bool, optional
        Broadcastable to ``(..., Tq, Tk)``; ``True`` keeps a key (the meaning
        of a boolean ``attn_mask`` in ``torch.nn.functional.
        scaled_dot_product_attention``; note ``torch.nn.MultiheadAttention``
        uses the opposite).
    causal : bool
        Also apply :func:`causal_mask` ``(Tq, Tk)`` (top-left aligned, as
        PyTorch's ``is_causal``). Combined with ``mask`` by logical and.
    scale : float, optional
        Multiplies the scores; default ``1 / sqrt(d)``.

    Returns
    -------
    out : ndarray, shape (..., Tq, dv)
    weights : ndarray, shape (..., Tq, Tk)
        Row-stochastic attention weights. float32 when q, k, v all are.

    Raises
    ------
    ShapeError
        Shapes that do not fit the rule above (the message shows them).
    InvalidValueError
        A query row whose keys are all masked (the row is named), or scores
        beyond the float range.
    InvalidTypeError
        A mask that is not boolean.

    References
    ----------
    .. [1] A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017, eq. (1).

    Examples
    --------
    The three-token example of the course (d = 2):

    >>> Q = [[1.0, 0.5], [0.3, 0.8], [0.1, 0.9]]
    >>> K = [[0.9, 0.2], [0.4, 0.7], [0.2, 0.8]]
    >>> out, w = scaled_dot_product_attention(Q, K, np.eye(3))
    >>> print(w[0].round(4))
    [0.3859 0.3233 0.2908]
    >>> _, w = scaled_dot_product_attention(Q, K, np.eye(3), causal=True)
    >>> print(w[1].round(4))
    [0.4559 0.5441 0.    ]
    """
    op = "scaled_dot_product_attention"
    q = as_float_array(q, "q", op, min_ndim=2)
    k = as_float_array(k, "k", op, min_ndim=2)
    v = as_float_array(v, "v", op, min_ndim=2)
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(
            f"{op}: arguments 'q' (..., Tq, d) and 'k' (..., Tk, d) need the same width d; got "
            f"q {q.shape} and k {k.shape}."
        )
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(
            f"{op}: arguments 'k' (..., Tk, d) and 'v' (..., Tk, dv) need the same number of "
            f"keys Tk; got k {k.shape} and v {v.shape}."
        )
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ShapeError(
            f"{op}: the batch axes of arguments 'q', 'k' and 'v' must broadcast; got q {q.shape}, "
            f"k {k.shape}, v {v.shape}."
        ) from None
    Tq, d, Tk = q.shape[-2], q.shape[-1], k.shape[-2]
    causal = check_bool(causal, "causal", op)
    if scale is None:
        if d == 0:
            raise ShapeError(f"{op}: arguments 'q' and 'k' have width d = 0 (q {q.shape}); the "
                             "default scale 1/sqrt(d) needs d >= 1 (or pass 'scale').")
        scale = 1.0 / np.sqrt(d)
    scale = check_float(scale, "scale", op)
    keep = None
    if mask is not None:
        if isinstance(mask, (str, bytes)):
            raise InvalidTypeError(f"{op}: argument 'mask' must be a boolean array; got a string.")
        try:
            keep = np.asarray(mask)
        except (ValueError, TypeError):
            raise InvalidValueError(f"{op}: argument 'mask' could not be read as a rectangular boolean array.") from None
        if keep.dtype != bool:
            raise InvalidTypeError(
                f"{op}: argument 'mask' must be a boolean array (True = keep); got dtype "
                f"{keep.dtype} (shape {keep.shape})."
            )
        target = batch + (Tq, Tk)
        if not _broadcasts(keep.shape, target) or np.broadcast_shapes(keep.shape, target) != target:
            raise ShapeError(
                f"{op}: argument 'mask' of shape {keep.shape} must broadcast to the weights' shape "
                f"(..., Tq, Tk) = {target}."
            )
    if causal:
        tri = causal_mask(Tq, Tk)
        keep = tri if keep is None else keep & tri
    dtype = float_dtype(q, k, v)
    q, k, v = (np.broadcast_to(a.astype(dtype, copy=False), batch + a.shape[-2:]) for a in (q, k, v))
    return _attend(q, k, v, keep, scale, op)


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def sinusoidal_positions(T: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """Fixed sinusoidal position encodings (Vaswani et al., 2017, section 3.5).

    Lessons: ``why_math`` (Why the mathematics matters); ``rope`` (Positions by rotation (RoPE)).

    .. math:: PE_{pos, 2i} = \\sin(pos / base^{2i/d}), \\qquad
              PE_{pos, 2i+1} = \\cos(pos / base^{2i/d})

    Even columns hold sines, odd columns cosines; the pair ``(2i, 2i + 1)``
    shares one frequency, so shifting the position by ``k`` rotates each pair
    by a fixed angle. For odd ``d_model`` the last column is a sine whose
    partner cosine would have been column ``d_model``.

    Parameters
    ----------
    T : int
        Number of positions ``0 .. T-1``, >= 0.
    d_model : int
        Width of each encoding, >= 1.
    base : float
        The wavelength base, > 1 (10000 in the paper).

    Returns
    -------
    ndarray, shape (T, d_model), float64

    References
    ----------
    .. [1] A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017, sec. 3.5.

    Examples
    --------
    >>> sinusoidal_positions(2, 4).round(4)
    array([[0.    , 1.    , 0.    , 1.    ],
           [0.8415, 0.5403, 0.01  , 1.    ]])
    """
    op = "sinusoidal_positions"
    T = check_int(T, "T", op, min_value=0)
    d = check_int(d_model, "d_model", op, min_value=1)
    base = check_float(base, "base", op, min_value=1.0, min_inclusive=False)
    check_allocation((T, d), ("T", "d_model"), op, what="encodings")
    two_i = np.arange(0, d, 2, dtype=np.float64)  # 2i for every sine column
    angles = np.arange(T, dtype=np.float64)[:, None] / np.power(base, two_i / d)  # (T, ceil(d/2))
    pe = np.empty((T, d))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d // 2])
    return pe


def rope_frequencies(dim: int, theta: float = 10000.0) -> np.ndarray:
    """The angular speed of each rotated pair of RoPE: omega_i = theta^(-2i/dim).

    Lesson: ``rope`` (Positions by rotation (RoPE)).

    .. math:: \\omega_i = \\theta^{-2i/d}, \\qquad i = 0, 1, \\dots, d/2 - 1

    Pair ``(2i, 2i + 1)`` of a query or key at position m turns by the angle
    m omega_i: the first pair once per position, the last about theta times
    more slowly. The same ladder of wavelengths as the sinusoidal encoding
    (:func:`sinusoidal_positions`), computed as Meta's Llama code does,
    ``1 / theta ** (2i / d)``.

    Parameters
    ----------
    dim : int
        The rotated width (a head's width hs), even, >= 2.
    theta : float
        The base, > 0 (10000 in RoFormer and Llama 1 and 2).

    Returns
    -------
    ndarray, shape (dim // 2,), float64

    Examples
    --------
    >>> rope_frequencies(4, theta=100.0)
    array([1. , 0.1])
    """
    op = "rope_frequencies"
    d = check_int(dim, "dim", op, min_value=2)
    if d % 2:
        raise InvalidValueError(f"{op}: argument 'dim' must be even (RoPE rotates pairs of "
                                f"coordinates); got {d}.")
    theta = check_float(theta, "theta", op, min_value=0.0, min_inclusive=False)
    check_allocation((d // 2,), ("dim",), op, what="frequencies")
    return _frequencies(d, theta)


def _frequencies(d: int, theta: float) -> np.ndarray:
    return 1.0 / np.power(theta, np.arange(0, d, 2, dtype=np.float64) / d)   # (d/2,)


def rope_cos_sin(positions: np.ndarray, d: int, theta: float,
                 dtype: np.dtype | type = np.float64) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of the angles m omega_i, shape ``positions.shape + (d // 2,)``, unchecked.

    The angles are formed in float64 and only then rounded to ``dtype``, so
    float32 tensors get correctly rounded rotations even at large positions.
    """
    angles = positions.astype(np.float64)[..., None] * _frequencies(d, theta)   # (..., d/2)
    return np.cos(angles).astype(dtype, copy=False), np.sin(angles).astype(dtype, copy=False)


def rotate_pairs(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotate each pair ``(x[..., 2i], x[..., 2i+1])`` by the angle whose cos and sin are given.

    Unchecked; ``cos`` and ``sin`` (..., d/2) broadcast against ``x[..., ::2]``.
    The one copy of RoPE's rotation: :func:`rope` calls it, and so does the
    engine's :func:`llmmath.autograd.functional.rope`, forward with ``sin``
    and backward with ``-sin`` (the inverse rotation is the transpose).
    """
    pairs = x.reshape(x.shape[:-1] + (x.shape[-1] // 2, 2))                  # (..., d/2, 2)
    a, b = pairs[..., 0], pairs[..., 1]
    out = np.empty(np.broadcast_shapes(pairs.shape, cos.shape + (2,)), x.dtype)
    with np.errstate(over="ignore"):
        np.subtract(a * cos, b * sin, out=out[..., 0])        # a cos - b sin
        np.add(a * sin, b * cos, out=out[..., 1])             # a sin + b cos
    return out.reshape(out.shape[:-2] + (x.shape[-1],))


def rope(x: Any, positions: Any, theta: float = 10000.0) -> np.ndarray:
    """Rotary position embedding: rotate pair (2i, 2i+1) of the last axis by m omega_i.

    Lesson: ``rope`` (Positions by rotation (RoPE)).

    .. math:: \\begin{pmatrix} y_{2i} \\\\ y_{2i+1} \\end{pmatrix} =
              \\begin{pmatrix} \\cos m\\omega_i & -\\sin m\\omega_i \\\\
                              \\sin m\\omega_i & \\cos m\\omega_i \\end{pmatrix}
              \\begin{pmatrix} x_{2i} \\\\ x_{2i+1} \\end{pmatrix},
              \\qquad \\omega_i = \\theta^{-2i/d}

    with m the position of the row (:func:`rope_frequencies` gives omega).
    Applied to queries and keys before their dot product: rotations are
    orthogonal and R(m)ᵀ R(n) = R(n − m), so

    .. math:: \\langle R(m) q, R(n) k \\rangle = \\langle q, R(n - m) k \\rangle

    and a score depends on the positions only through their offset n − m.
    This is the interleaved form of the RoFormer paper and of Meta's Llama
    code (a pair is two neighbouring coordinates, or one complex number);
    Hugging Face's ``rotate_half`` pairs coordinate i with i + d/2 instead
    (see :func:`llmmath.nn.hf_rope_permutation`).

    Parameters
    ----------
    x : array_like, shape (..., d)
        d even; typically (B, nh, T, hs) queries or keys.
    positions : array_like of int
        Broadcastable to ``x.shape[:-1]``: ``arange(T)`` for (..., T, d).
        Any integers, negative ones included.
    theta : float
        The base of the frequencies, > 0.

    Returns
    -------
    ndarray, shape of ``x``

    Raises
    ------
    ShapeError
        An odd last axis, or positions that do not broadcast.

    References
    ----------
    .. [1] J. Su, Y. Lu, S. Pan, A. Murtadha, B. Wen and Y. Liu, "RoFormer:
       Enhanced Transformer with Rotary Position Embedding", arXiv:2104.09864, 2021.
    .. [2] H. Touvron et al., "LLaMA: Open and Efficient Foundation Language
       Models", arXiv:2302.13971, 2023.

    Examples
    --------
    >>> print(rope([[1.0, 0.0]], [1], theta=100.0).round(6))     # one pair, turned by 1 rad
    [[0.540302 0.841471]]
    >>> q, k = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, -1.0, 2.0, 1.0])
    >>> s1 = rope(q, 7) @ rope(k, 3)               # positions 7 and 3 ...
    >>> s2 = rope(q, 104) @ rope(k, 100)           # ... and 104 and 100: the same offset
    >>> bool(np.isclose(s1, s2, rtol=1e-12))
    True
    """
    op = "rope"
    x = as_float_array(x, "x", op, min_ndim=1)
    d = x.shape[-1]
    if d % 2:
        raise ShapeError(f"{op}: argument 'x' must have an even last axis (RoPE rotates pairs "
                         f"of coordinates); got shape {x.shape}.")
    pos = as_int_array(positions, "positions", op)
    if not _broadcasts(pos.shape, x.shape[:-1]) or \
            np.broadcast_shapes(pos.shape, x.shape[:-1]) != x.shape[:-1]:
        raise ShapeError(f"{op}: argument 'positions' of shape {pos.shape} must broadcast to "
                         f"x.shape[:-1] = {x.shape[:-1]} (one position per row of 'x').")
    theta = check_float(theta, "theta", op, min_value=0.0, min_inclusive=False)
    cos, sin = rope_cos_sin(pos, d, theta, x.dtype)
    out = rotate_pairs(x, cos, sin)
    if not np.isfinite(out).all():
        raise InvalidValueError(f"{op}: the rotated 'x' overflows the float range; rescale "
                                "'x'.")
    return out


def multi_head_attention(
    x: Any, w_q: Any, w_k: Any, w_v: Any, w_o: Any, n_heads: int, causal: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head self-attention without biases.

    Lesson: none (a helper of the attention functions).

    The projections are applied on the right, ``q = x @ w_q`` (the layout of
    nanoGPT's code; ``torch.nn.Linear`` stores the transpose, so its
    ``weight`` is ``w_q.T``). Each of ``nh`` heads attends in its own slice of
    ``hs = C // nh`` features, the heads are put side by side again and
    projected by ``w_o``::

        q, k, v = x @ w_q, x @ w_k, x @ w_v           # (..., T, C)
        split into heads                              # (..., nh, T, hs)
        o = softmax(q k^T / sqrt(hs)) v               # (..., nh, T, hs)
        out = concat(heads of o) @ w_o                # (..., T, C)

    Parameters
    ----------
    x : array_like, shape (..., T, C)
        Finite token representations; leading axes are a batch.
    w_q, w_k, w_v, w_o : array_like, shape (C, C)
        Finite projection matrices.
    n_heads : int
        Number of heads; must divide ``C``.
    causal : bool
        Mask future positions (default, as in a decoder).

    Returns
    -------
    out : ndarray, shape (..., T, C)
    weights : ndarray, shape (..., nh, T, T)
        Every head's attention weights.

    Raises
    ------
    ShapeError, InvalidValueError
        Wrong shapes, ``C % n_heads != 0``, or projections beyond the float range.

    See Also
    --------
    scaled_dot_product_attention

    References
    ----------
    .. [1] A. Vaswani et al., "Attention Is All You Need", NeurIPS 2017, sec. 3.2.2.

    Examples
    --------
    >>> x = np.eye(4)[:3]                       # 3 tokens, C = 4
    >>> out, w = multi_head_attention(x, np.eye(4), np.eye(4), np.eye(4), np.eye(4), n_heads=2)
    >>> w.shape
    (2, 3, 3)
    >>> print(w[0, 1].round(4))
    [0.3302 0.6698 0.    ]
    """
    op = "multi_head_attention"
    x = as_float_array(x, "x", op, min_ndim=2)
    T, C = x.shape[-2:]
    nh = check_int(n_heads, "n_heads", op, min_value=1)
    causal = check_bool(causal, "causal", op)
    ws = []
    for name, w in (("w_q", w_q), ("w_k", w_k), ("w_v", w_v), ("w_o", w_o)):
        w = as_float_array(w, name, op, ndim=2)
        if w.shape != (C, C):
            raise ShapeError(
                f"{op}: argument '{name}' must have shape (C, C) = ({C}, {C}) to match x "
                f"(..., T, C) = {x.shape}; got {w.shape}."
            )
        ws.append(w)
    if C == 0 or C % nh:
        raise InvalidValueError(
            f"{op}: argument 'n_heads' = {nh} must divide the width C = {C} of 'x' (shape "
            f"{x.shape}), and C must be positive; each head takes C // n_heads features."
        )
    dtype = float_dtype(x, *ws)
    x = x.astype(dtype, copy=False)
    w_q, w_k, w_v, w_o = (w.astype(dtype, copy=False) for w in ws)
    hs, lead = C // nh, x.shape[:-2]

    def heads(w: np.ndarray, name: str) -> np.ndarray:
        y = matmul(x, w)  # (..., T, C)
        if not np.isfinite(y).all():
            raise InvalidValueError(f"{op}: x @ {name} overflows the float range; rescale 'x' or '{name}'.")
        return np.swapaxes(y.reshape(lead + (T, nh, hs)), -2, -3)  # (..., nh, T, hs)

    q, k, v = heads(w_q, "w_q"), heads(w_k, "w_k"), heads(w_v, "w_v")
    keep = causal_mask(T) if causal else None
    o, weights = _attend(q, k, v, keep, 1.0 / float(np.sqrt(hs)), op,
                         rescale="'x', 'w_q' or 'w_k'")  # (..., nh, T, hs), (..., nh, T, T)
    o = np.swapaxes(o, -2, -3).reshape(lead + (T, C))  # heads side by side again
    out = matmul(o, w_o)  # (..., T, C)
    return ensure_no_nan(out, op), weights


# --- attention matrices as Markov chains -------------------------------------


def _check_stochastic(A: Any, op: str) -> tuple[np.ndarray, np.ndarray]:
    """(A as given, A in float64 with rows renormalised to sum to 1 exactly)."""
    A = as_float_array(A, "A", op, min_ndim=2)
    if A.shape[-1] != A.shape[-2] or A.shape[-1] == 0:
        raise ShapeError(f"{op}: argument 'A' must be a stack of square matrices (..., n, n) with n >= 1; got shape {A.shape}.")
    check_distribution(A, "A", op)  # entries >= 0; every row sums to 1
    P = A.astype(np.float64)
    return A, P / P.sum(axis=-1, keepdims=True)


def _structure(P: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Closed communicating classes and transient states of the chain ``P > 0``."""
    n = len(P)
    reach = (P > 0) | np.eye(n, dtype=bool)
    while True:  # transitive closure by squaring: about log2(n) rounds
        f = reach.astype(np.float64)
        wider = (f @ f) > 0
        if (wider == reach).all():
            break
        reach = wider
    closed = ~(reach & ~reach.T).any(axis=1)  # i is recurrent: whatever i reaches, reaches i
    classes, todo = [], closed.copy()
    while todo.any():
        members = np.flatnonzero(reach[int(np.argmax(todo))])  # a closed class = all it reaches
        classes.append(members)
        todo[members] = False
    return classes, np.flatnonzero(~closed)


def _gth(P: np.ndarray, op: str) -> np.ndarray:
    """Stationary vector of an irreducible chain by Grassmann-Taksar-Heyman state reduction.

    States are censored one by one (the chain watched only while in states
    < k), then the vector is rebuilt upwards. No subtractions are performed,
    so every entry keeps a small relative error, even tiny ones. Dividing
    rows rather than columns, and rescaling while rebuilding, keeps every
    intermediate in [0, k], so nothing overflows.
    """
    P = P.copy()
    n = len(P)
    leave = np.ones(n)
    for k in range(n - 1, 0, -1):
        leave[k] = P[k, :k].sum()  # = 1 - P[k, k] without the cancellation
        if not leave[k] > 0:
            raise InvalidValueError(f"{op}: transition probabilities in 'A' are too small to resolve (underflow).")
        P[k, :k] /= leave[k]  # where k goes once it leaves: a distribution over states < k
        P[:k, :k] += np.outer(P[:k, k], P[k, :k])
    pi = np.zeros(n)
    pi[0] = 1.0
    for k in range(1, n):  # balance of state k: pi_k * leave_k = inflow
        inflow = pi[:k] @ P[:k, k]
        if inflow > leave[k]:  # pi_k would exceed max(pi) = 1: rescale the others instead
            pi[:k] *= leave[k] / inflow
            pi[k] = 1.0
        else:
            pi[k] = inflow / leave[k]
    return pi / pi.sum()


def _stationary_one(P: np.ndarray, op: str) -> np.ndarray:
    n = len(P)
    classes, t = _structure(P)
    mass = np.array([len(c) for c in classes], dtype=np.float64)  # uniform start, in classes already
    if t.size:
        # Absorption probabilities h[i, c] from transient i into class c solve
        # (I - Q) h = R. The diagonal 1 - P[i, i] is formed as the sum of the
        # other entries of the row, which is accurate even when P[i, i] ~ 1.
        off = P[t].copy()
        off[np.arange(t.size), t] = 0.0
        M = -off[:, t]
        M[np.diag_indices(t.size)] = off.sum(axis=1)
        R = np.stack([P[np.ix_(t, c)].sum(axis=1) for c in classes], axis=1)  # (|t|, n_classes)
        try:
            h = np.linalg.solve(M, R)
        except np.linalg.LinAlgError:
            raise InvalidValueError(f"{op}: the absorption system of 'A' is singular (underflow).") from None
        mass += np.clip(h, 0.0, None).sum(axis=0)
    pi = np.zeros(n)
    for c, w in zip(classes, mass, strict=True):
        pi[c] = w * _gth(P[np.ix_(c, c)], op)
    return pi / pi.sum()


def stationary_distribution(A: Any) -> np.ndarray:
    """The stationary distribution ``pi`` of a row-stochastic matrix: ``pi A = pi``.

    Lesson: ``attention_spectrum`` (Eigenvalues of attention).

    .. math:: \\pi A = \\pi, \\qquad \\sum_i \\pi_i = 1, \\qquad \\pi_i \\ge 0

    ``pi`` is the left eigenvector of eigenvalue 1. When it is not unique
    (the chain ``i -> j`` for ``A[i, j] > 0`` has several closed classes) this
    returns the long-run average position of a walker who starts uniformly
    at random, the Cesaro limit

    .. math:: \\pi = \\lim_{N\\to\\infty} \\frac{1}{N} \\sum_{t < N} u A^t,
              \\qquad u = (1/n, \\ldots, 1/n),

    which is one of the stationary distributions, equals the unique one
    whenever it is unique, and exists for periodic chains too (where ``u A^t``
    itself oscillates). Each closed class gets its own stationary vector
    (computed without subtractions, by GTH state reduction) weighted by the
    chance that the walker ends up there. For a causal attention matrix,
    position 0 attends only to itself, so every walk ends there and ``pi`` is
    ``(1, 0, ..., 0)``.

    Parameters
    ----------
    A : array_like, shape (..., n, n)
        Row-stochastic: entries >= 0, rows summing to 1 within 1e-6 (1e-4 for
        float32). Rows are renormalised before use.

    Returns
    -------
    ndarray, shape (..., n)

    Raises
    ------
    ShapeError, InvalidValueError
        ``A`` is not square, has a negative entry, or a row sum off 1.

    See Also
    --------
    spectral_gap

    References
    ----------
    .. [1] W. K. Grassmann, M. I. Taksar and D. P. Heyman, "Regenerative analysis
       and steady state distributions for Markov chains", Operations Research
       33(5), 1107-1116, 1985.
    .. [2] J. R. Norris, *Markov Chains*, Cambridge University Press, 1997,
       sections 1.3 and 1.7.

    Examples
    --------
    A two-state chain leaves state 0 with probability a = 0.3 and state 1
    with b = 0.1; then pi = (b, a) / (a + b):

    >>> stationary_distribution([[0.7, 0.3], [0.1, 0.9]])
    array([0.25, 0.75])
    >>> _, w = scaled_dot_product_attention(np.ones((3, 2)), np.ones((3, 2)), np.eye(3), causal=True)
    >>> stationary_distribution(w)
    array([1., 0., 0.])
    """
    op = "stationary_distribution"
    A, P = _check_stochastic(A, op)
    out = np.empty(P.shape[:-1])
    for idx in np.ndindex(P.shape[:-2]):
        out[idx] = _stationary_one(P[idx], op)
    return out.astype(A.dtype, copy=False)


def _period(P: np.ndarray, members: np.ndarray) -> int:
    """The period of a communicating class: the gcd of its cycle lengths."""
    sub = P[np.ix_(members, members)] > 0
    level = np.full(len(members), -1)
    level[0] = 0
    frontier, depth = level == 0, 0
    while frontier.any():  # breadth-first levels from the first member
        depth += 1
        frontier = sub[frontier].any(axis=0) & (level < 0)
        level[frontier] = depth
    u, v = np.nonzero(sub)
    return gcd(*(int(d) for d in np.abs(level[u] + 1 - level[v])))


def _second_modulus(P: np.ndarray) -> float:
    n = len(P)
    classes, _ = _structure(P)
    if len(classes) > 1 or _period(P, classes[0]) > 1:
        return 1.0  # 1 is a repeated eigenvalue, or -1 (a root of unity) is one
    if n == 1:
        return 0.0
    if not np.triu(P, 1).any() or not np.tril(P, -1).any():
        lam = np.diag(P).astype(complex)  # triangular (causal attention): exact eigenvalues
    else:
        lam = np.linalg.eigvals(P)
    rest = np.delete(lam, int(np.argmin(np.abs(lam - 1.0))))  # drop the eigenvalue 1
    return float(min(np.abs(rest).max(), 1.0))


def spectral_gap(A: Any) -> np.ndarray:
    """Spectral gap ``1 - |lambda_2|`` of a row-stochastic matrix.

    Lesson: ``attention_spectrum`` (Eigenvalues of attention).

    ``|lambda_2|`` is the second largest eigenvalue modulus, counting
    multiplicity, so a matrix with eigenvalue 1 twice (the identity, or any
    chain with two closed classes) has gap 0, and so does a periodic chain
    (eigenvalues on the unit circle). It bounds how fast ``u A^t`` forgets
    its start: the distance to ``pi`` shrinks like ``|lambda_2|^t``.

    Which moduli equal 1 is decided exactly from the pattern of nonzero
    entries (closed classes and their periods), not from rounded
    eigenvalues; the remaining moduli come from ``numpy.linalg.eigvals``
    (or the diagonal, exactly, when ``A`` is triangular, as causal attention
    is). Gaps below about ``n * 1e-16`` cannot be resolved and may read 0.
    A 1 x 1 matrix has no second eigenvalue; its gap is defined as 1.

    Parameters
    ----------
    A : array_like, shape (..., n, n)
        Row-stochastic matrices (see :func:`stationary_distribution`).

    Returns
    -------
    scalar or ndarray, shape (...)
        Gaps in [0, 1].

    Raises
    ------
    ShapeError, InvalidValueError
        As for :func:`stationary_distribution`.

    References
    ----------
    .. [1] D. A. Levin and Y. Peres, *Markov Chains and Mixing Times*, 2nd ed.,
       AMS, 2017, chapter 12.

    Examples
    --------
    For the two-state chain, lambda_2 = 1 - a - b:

    >>> print(round(float(spectral_gap([[0.7, 0.3], [0.1, 0.9]])), 12))
    0.4
    >>> print(spectral_gap(np.eye(3)))
    0.0
    """
    op = "spectral_gap"
    A, P = _check_stochastic(A, op)
    out = np.empty(P.shape[:-2])
    for idx in np.ndindex(P.shape[:-2]):
        out[idx] = 1.0 - _second_modulus(P[idx])
    return out.astype(A.dtype, copy=False)[()]
