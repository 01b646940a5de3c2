"""Exercises on vectors and matrices: cosine similarity, the matrix product, SVD, the linear layer."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from llmmath.exercises import _strategies as S
from llmmath.exercises.compare import Tolerance
from llmmath.exercises.spec import Exercise, library

# ---------------------------------------------------------------------------- cosine similarity


@st.composite
def _cosine_cases(draw):
    dtype = draw(S.float_dtypes())
    d = draw(st.integers(1, 5))
    batch = draw(S.batch_shapes())
    a = draw(S.arrays(dtype, (*batch, d)))
    b = draw(S.arrays(dtype, draw(st.sampled_from([(*batch, d), (d,)]))))
    return {"a": a, "b": b}


def _cosine_edges():
    return [
        ("parallel vectors (similarity 1)", {"a": np.array([1.0, 2.0, 3.0]),
                                             "b": np.array([2.0, 4.0, 6.0])}),
        ("opposite vectors (similarity -1)", {"a": np.array([1.0, -1.0]),
                                              "b": np.array([-3.0, 3.0])}),
        ("a zero vector (similarity 0, not nan)", {"a": np.zeros(3),
                                                   "b": np.array([1.0, 2.0, 3.0])}),
        ("one vector against a batch of three (broadcasting)",
         {"a": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), "b": np.array([1.0, 0.0])}),
        ("float32 input", {"a": np.array([[0.5, -1.5, 2.0]], np.float32),
                           "b": np.array([[1.0, 1.0, 1.0]], np.float32)}),
    ]


DOT_AND_NORM = Exercise(
    name="dot_and_norm",
    lesson="vectors",
    pillar="linalg",
    title="Cosine similarity from a dot product and two norms",
    signature="cosine_similarity(a, b)",
    returns="the cosine of the angle between a and b along the last axis; the broadcast "
            "shape of a and b without that axis",
    statement="""
        Two embeddings point the same way when their cosine is 1, are unrelated at 0 and
        opposite at -1: cos(a, b) = a . b / (|a| |b|), where a . b = sum_i a_i b_i and
        |a| = sqrt(a . a).

        Write cosine_similarity(a, b) over the last axis. a and b broadcast against each
        other, so one vector can be compared with a whole batch at once. A zero vector has
        no direction: clamp each norm from below at 1e-8 on its own (use max(|a|, 1e-8) in
        place of |a|), as PyTorch does, so that a zero vector has similarity 0 instead of
        0 / 0 = nan.
    """,
    hints=(
        "Multiply elementwise and sum over the last axis: np.sum(a * b, axis=-1). The norms "
        "are the same sum with a twice and b twice, under a square root.",
        "Broadcast first (a * b already broadcasts); sum with axis=-1 so that batch axes "
        "stay. Then divide by np.maximum(norm_a, 1e-8) * np.maximum(norm_b, 1e-8).",
        "dot = np.sum(a * b, axis=-1); na = np.sqrt(np.sum(a * a, axis=-1)); nb likewise; "
        "return dot / (np.maximum(na, 1e-8) * np.maximum(nb, 1e-8)).",
    ),
    reference="llmmath.linalg.cosine_similarity",
    expected=lambda a, b: library("llmmath.linalg.cosine_similarity")(a, b),
    cases=_cosine_cases,
    edge_cases=_cosine_edges,
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
)

# ---------------------------------------------------------------------------- the matrix product


@st.composite
def _matmul_cases(draw):
    dtype = draw(S.float_dtypes())
    m, k, n = (draw(st.integers(1, 5)) for _ in range(3))
    return {"A": draw(S.arrays(dtype, (m, k))), "B": draw(S.arrays(dtype, (k, n)))}


def _matmul_edges():
    return [
        ("1 x 1 times 1 x 1", {"A": np.array([[3.0]]), "B": np.array([[-2.0]])}),
        ("a row times a column: a dot product, shape (1, 1)",
         {"A": np.array([[1.0, 2.0, 3.0]]), "B": np.array([[4.0], [5.0], [6.0]])}),
        ("a column times a row: an outer product, shape (3, 2)",
         {"A": np.array([[1.0], [2.0], [3.0]]), "B": np.array([[1.0, -1.0]])}),
        ("(2, 3) times (3, 4): the inner sizes match, the outer ones differ",
         {"A": np.arange(6.0).reshape(2, 3), "B": np.arange(12.0).reshape(3, 4) - 5.0}),
    ]


MATMUL_BANNED = ("numpy.dot", "numpy.matmul", "numpy.einsum", "numpy.tensordot", "numpy.inner",
                 "numpy.vdot", "numpy.vecdot", "numpy.matvec", "numpy.vecmat",
                 "numpy.linalg.multi_dot", "numpy.linalg.matmul", "numpy.linalg.vecdot",
                 "operator.matmul")

MATMUL_SHAPES = Exercise(
    name="matmul_shapes",
    lesson="vectors",
    pillar="linalg",
    title="The matrix product by hand",
    signature="matmul(A, B)",
    returns="the (m, n) product of the (m, k) matrix A and the (k, n) matrix B",
    statement="""
        Entry (i, j) of A B is the dot product of row i of A with column j of B:
        C[i, j] = sum over p of A[i, p] * B[p, j]. So the inner sizes must agree, (m, k) times
        (k, n), and the result is (m, n): every layer of a transformer is this product.

        Write matmul(A, B) for 2-D arrays with loops, or with broadcasting and a sum. The
        point is to build the product yourself: @, np.dot, np.matmul, np.einsum,
        np.tensordot and np.inner are refused. You may assume the shapes fit.
    """,
    hints=(
        "Three nested loops: over i (rows of A), j (columns of B) and p (the shared "
        "axis), adding A[i, p] * B[p, j] into C[i, j], which starts at 0.",
        "The result has shape (A.shape[0], B.shape[1]); start it with np.zeros. Or "
        "broadcast: A[:, :, None] has shape (m, k, 1) and B[None, :, :] has (1, k, n).",
        "return (A[:, :, None] * B[None, :, :]).sum(axis=1): the product of the broadcast "
        "shapes is (m, k, n), and summing over the middle axis p leaves (m, n).",
    ),
    reference="numpy.matmul",
    expected=lambda A, B: np.matmul(A, B),
    cases=_matmul_cases,
    edge_cases=_matmul_edges,
    tolerance=Tolerance(rtol=1e-9, atol=1e-9),
    forbidden=MATMUL_BANNED,
    forbidden_syntax=("@", "dot", "matmul", "einsum", "tensordot", "inner", "vdot",
                      "multi_dot", "vecdot", "matvec", "vecmat"),
    no_matmul=True,
)

# ---------------------------------------------------------------------------- low rank


@st.composite
def _low_rank_cases(draw):
    m, n = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    M = draw(S.arrays(np.float64, (m, n)))
    k = min(m, n)
    rank = draw(st.integers(0, k))
    s = np.linalg.svd(M, compute_uv=False)
    scale = max(float(s[0]), 1.0)
    if 0 < rank < k:   # the best rank-r matrix is unique only when sigma_r > sigma_{r+1}
        assume(s[rank] <= 1e-12 * scale or s[rank - 1] - s[rank] > 1e-3 * scale)
    return {"M": M, "rank": rank}


def _low_rank_edges():
    return [
        ("diag(3, 4) at rank 1: keep the larger singular value",
         {"M": np.diag([3.0, 4.0]), "rank": 1}),
        ("rank 0: the zero matrix, relative error 1", {"M": np.array([[1.0, 2.0],
                                                                     [3.0, 4.0]]), "rank": 0}),
        ("full rank: M itself, error 0", {"M": np.array([[2.0, 1.0, 0.0],
                                                         [1.0, 3.0, 1.0]]), "rank": 2}),
        ("the zero matrix (error 0, not 0 / 0)", {"M": np.zeros((2, 3)), "rank": 1}),
        ("a tall (4, 2) matrix at rank 1", {"M": np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0],
                                                           [1.0, 1.0]]), "rank": 1}),
    ]


LOW_RANK = Exercise(
    name="low_rank",
    lesson="svd_lora",
    pillar="linalg",
    title="The best low-rank approximation, and how far it is",
    signature="low_rank_approx(M, rank)",
    returns="(M_rank, relative_frobenius_error): the best approximation of rank at most "
            "`rank`, and ||M - M_rank||_F / ||M||_F (0 for the zero matrix)",
    statement="""
        The singular value decomposition M = U diag(s) V^T (s sorted from the largest) says
        how much each direction contributes. Keeping the first r terms,
        M_r = sum_{i < r} s_i u_i v_i^T, gives the closest matrix of rank r in the
        Frobenius norm (Eckart-Young), and the error is
        ||M - M_r||_F / ||M||_F = sqrt(sum_{i >= r} s_i^2 / sum_i s_i^2).

        Write low_rank_approx(M, rank) for a 2-D array M and 0 <= rank <= min(M.shape).
        Return the approximation and the relative error; the zero matrix has error 0.
        np.linalg.svd is allowed.
    """,
    hints=(
        "U, s, Vt = np.linalg.svd(M, full_matrices=False); the singular values come sorted "
        "from the largest.",
        "Keep the first `rank` columns of U, entries of s and rows of Vt: "
        "U[:, :r] * s[:r] @ Vt[:r]. The error uses squared singular values: the tail's "
        "energy over the total energy, under a square root.",
        "M_r = (U[:, :rank] * s[:rank]) @ Vt[:rank]; total = np.sum(s**2); "
        "err = 0.0 if total == 0 else np.sqrt(np.sum(s[rank:]**2) / total).",
    ),
    reference="llmmath.linalg.low_rank_approx",
    expected=lambda M, rank: library("llmmath.linalg.low_rank_approx")(M, rank),
    cases=_low_rank_cases,
    edge_cases=_low_rank_edges,
    tolerance=Tolerance(rtol=1e-7, atol=1e-8),
)

# ---------------------------------------------------------------------------- the linear layer


@st.composite
def _linear_cases(draw):
    dtype = draw(S.float_dtypes())
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(S.batch_shapes())
    case = {"x": draw(S.arrays(dtype, (*batch, n_in))),
            "weight": draw(S.arrays(dtype, (n_out, n_in)))}
    if draw(st.booleans()):
        case["bias"] = draw(S.arrays(dtype, (n_out,)))
    return case


def _linear_edges():
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    return [
        ("a square weight, where x @ W gives the wrong numbers silently",
         {"x": np.array([1.0, 0.0]), "weight": w, "bias": np.array([0.5, -0.5])}),
        ("no bias (bias=None)", {"x": np.array([[1.0, 2.0, 3.0]]),
                                 "weight": np.array([[1.0, 0.0, -1.0]])}),
        ("a batch of shape (2, 3) of 2-vectors into 3 outputs",
         {"x": np.arange(12.0).reshape(2, 3, 2), "weight": np.arange(6.0).reshape(3, 2),
          "bias": np.array([1.0, 2.0, 3.0])}),
    ]


def _linear_expected(x, weight, bias=None):
    from llmmath.autograd import Tensor

    F = library("llmmath.autograd.functional")
    return F.linear(Tensor(x), Tensor(weight), None if bias is None else Tensor(bias)).data


LINEAR = Exercise(
    name="linear",
    lesson="tensors",
    pillar="nn",
    title="A linear layer in PyTorch's layout",
    signature="linear(x, weight, bias=None)",
    returns="x W^T + b: shape (..., out_features)",
    statement="""
        PyTorch stores a linear layer's weight as (out_features, in_features), so the layer
        computes y = x W^T + b: each output is the dot product of the input with one row of
        W, plus that output's bias. Inputs may carry any number of leading (batch) axes.

        Write linear(x, weight, bias=None) for x of shape (..., in_features), weight of
        shape (out_features, in_features) and bias of shape (out_features,) or None.
    """,
    hints=(
        "The last axis of x meets the second axis of W: transpose W first.",
        "x @ weight.T has shape (..., out_features) for any leading axes; the bias, shape "
        "(out_features,), broadcasts over them when added.",
        "y = x @ weight.T; return y if bias is None else y + bias.",
    ),
    reference="llmmath.autograd.functional.linear",
    expected=_linear_expected,
    cases=_linear_cases,
    edge_cases=_linear_edges,
    tolerance=Tolerance(rtol=1e-9, atol=1e-10),
)

EXERCISES = (DOT_AND_NORM, MATMUL_SHAPES, LOW_RANK, LINEAR)
