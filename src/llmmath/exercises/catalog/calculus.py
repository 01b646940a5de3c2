"""Exercises on derivatives: central differences, a Value op, backprop, softmax and LayerNorm gradients."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from llmmath.exercises import _strategies as S
from llmmath.exercises._worker import TestFunction
from llmmath.exercises.compare import Tolerance
from llmmath.exercises.spec import Exercise, library

# ---------------------------------------------------------------------------- central differences


@st.composite
def _gradient_cases(draw):
    shape = draw(st.sampled_from([(1,), (2,), (3,), (5,), (2, 2), (2, 3)]))
    dtype = draw(S.float_dtypes())
    x = draw(S.arrays(dtype, shape, -2.0, 2.0))
    family = draw(st.sampled_from(TestFunction.FAMILIES))
    names = {"quadratic": "ab", "trig": "abc", "logsumexp": "a", "cubic": "ab"}[family]
    params = {n: draw(S.arrays(np.float64, shape, -2.0, 2.0)).tolist() for n in names}
    case = {"f": TestFunction({"family": family, "shape": list(shape), "params": params}),
            "x": x}
    eps = draw(st.sampled_from([None, 1e-4, 1e-3, 1e-2]))
    if eps is not None:
        case["eps"] = eps
    return case


def _fn(family, shape, **params):
    return TestFunction({"family": family, "shape": list(shape),
                         "params": {k: np.broadcast_to(v, shape).tolist()
                                    for k, v in params.items()}})


def _gradient_edges():
    return [
        ("f(x) = x^2 / 2 + x at x = 3 (a single entry)",
         {"f": _fn("quadratic", (1,), a=1.0, b=1.0), "x": np.array([3.0])}),
        ("a cubic with a large step, eps = 1e-2 (a one-sided difference is off by eps f''/2)",
         {"f": _fn("cubic", (3,), a=[1.0, -0.5, 2.0], b=[0.0, 1.0, 0.0]),
          "x": np.array([0.5, -1.0, 1.5]), "eps": 1e-2}),
        ("a (2, 2) input: the gradient has the shape of x",
         {"f": _fn("trig", (2, 2), a=1.0, b=[[1.0, 2.0], [0.5, 1.0]], c=0.5),
          "x": np.array([[0.1, 0.2], [0.3, 0.4]])}),
        ("float32 input: the differences must be taken in float64",
         {"f": _fn("quadratic", (2,), a=1.0, b=0.0), "x": np.array([10.0, -20.0], np.float32)}),
    ]


NUMERICAL_GRADIENT = Exercise(
    name="numerical_gradient",
    lesson="derivatives",
    pillar="calculus",
    title="A gradient by central differences",
    signature="numerical_gradient(f, x, eps=1e-6)",
    returns="a float64 array shaped like x: entry i approximates df/dx_i",
    statement="""
        The derivative is the limit of a difference quotient. The central difference
        (f(x + h e_i) - f(x - h e_i)) / (2h), with e_i the i-th unit vector, is accurate to
        O(h^2), where the one-sided (f(x + h e_i) - f(x)) / h is only O(h): it is how every
        hand-written gradient in this course is checked.

        Write numerical_gradient(f, x, eps=1e-6) for a scalar function f of an array x (of
        any shape), with h = eps. Call f with float64 arrays shaped like x; work in float64
        whatever the dtype of x (in float32 a step of 1e-6 is lost in rounding). Do not change
        the caller's x.
    """,
    hints=(
        "Loop over the entries of x (np.ndindex(x.shape) gives every index); for each, "
        "evaluate f twice with that one entry moved by +eps and -eps.",
        "Start from x = np.array(x, dtype=np.float64) (a copy). For index i: xp = x.copy(); "
        "xp[i] += eps; xm = x.copy(); xm[i] -= eps.",
        "g = np.zeros_like(x); for i in np.ndindex(x.shape): ... g[i] = (f(xp) - f(xm)) / "
        "(2 * eps); return g.",
    ),
    reference="llmmath.calculus.numerical_gradient",
    expected=lambda f, x, eps=1e-6: library("llmmath.calculus.numerical_gradient")(f, x, eps),
    cases=_gradient_cases,
    edge_cases=_gradient_edges,
    tolerance=Tolerance(rtol=1e-6, atol=1e-7),
    tolerance32=Tolerance(rtol=1e-6, atol=1e-7),
)

# ---------------------------------------------------------------------------- a Value op


def _tanh_expected(x, grad_out=1.0):
    Value = library("llmmath.autograd.Value")
    v = Value(float(x))
    out = v.tanh()
    (out * float(grad_out)).backward()
    return (out.data, v.grad)


@st.composite
def _tanh_cases(draw):
    case = {"x": draw(st.one_of(S.floats(np.float64, -5.0, 5.0), S.floats(np.float64, -1e3,
                                                                          1e3)))}
    if draw(st.booleans()):
        case["grad_out"] = draw(S.floats(np.float64, -5.0, 5.0))
    return case


VALUE_TANH = Exercise(
    name="value_tanh",
    lesson="derivatives",
    pillar="autograd",
    title="One Value op: tanh, forward and backward",
    signature="tanh_forward_backward(x, grad_out=1.0)",
    returns="(out, grad_x): tanh(x), and the gradient that flows back to x",
    statement="""
        Each operation of the scalar engine (llmmath.autograd.Value) does two things: in the
        forward pass it computes its output, and it records its local derivative beside it;
        in the backward pass it multiplies the gradient arriving from above by that local
        derivative (the chain rule, one edge). For out = tanh(x) the local derivative is
        d out / dx = 1 - tanh(x)^2, written with the output.

        Write tanh_forward_backward(x, grad_out=1.0) for a Python float x: return
        (out, grad_x) with out = tanh(x) and grad_x = grad_out * (1 - out^2), the numbers
        Value.tanh and backward() produce. It must work for large |x| too (x = 1000).
    """,
    hints=(
        "math.tanh (or np.tanh) is stable for every x; the textbook (e^x - e^-x) / (e^x + "
        "e^-x) overflows to inf / inf = nan at x = 1000.",
        "The local derivative uses the output, not the input: 1 - out**2. Then multiply by "
        "grad_out, the gradient from above.",
        "out = math.tanh(x); return out, grad_out * (1.0 - out * out).",
    ),
    reference="llmmath.autograd.Value.tanh",
    expected=_tanh_expected,
    cases=_tanh_cases,
    edge_cases=lambda: [("x = 0", {"x": 0.0}), ("x = 1000 (saturated)", {"x": 1000.0}),
                        ("x = -800 with grad_out = 2", {"x": -800.0, "grad_out": 2.0}),
                        ("x = 0.5 with grad_out = -3", {"x": 0.5, "grad_out": -3.0})],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
    imports="import math\n\nimport numpy as np",
)

# ---------------------------------------------------------------------------- MLP backprop


@st.composite
def _mlp_shapes(draw, dtype=None):
    dtype = dtype or draw(S.float_dtypes())
    n, d, h, v = (draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4)),
                  draw(st.integers(2, 4)))
    return {"x": draw(S.arrays(dtype, (n, d), -2.0, 2.0)),
            "W1": draw(S.arrays(dtype, (d, h), -2.0, 2.0)),
            "b1": draw(S.arrays(dtype, (h,), -1.0, 1.0)),
            "W2": draw(S.arrays(dtype, (h, v), -2.0, 2.0)),
            "b2": draw(S.arrays(dtype, (v,), -1.0, 1.0)),
            "targets": draw(S.int_arrays((n,), 0, v - 1))}


def _mlp_forward(x, W1, b1, W2, b2):
    from llmmath.autograd import Tensor

    params = [Tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
    h = (Tensor(x) @ params[0] + params[1]).tanh()          # (N, H)
    logits = h @ params[2] + params[3]                      # (N, V)
    return params, logits


def _mlp_backward_expected(x, W1, b1, W2, b2, targets):
    F = library("llmmath.autograd.functional")
    params, logits = _mlp_forward(x, W1, b1, W2, b2)
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    return (loss.item(), *(p.grad for p in params))


def _mlp_edges():
    rng = np.random.default_rng(3)
    return [
        ("one example", {"x": np.array([[0.5, -1.0]]), "W1": np.array([[0.1, 0.2, -0.3],
                                                                      [0.4, -0.5, 0.6]]),
                         "b1": np.zeros(3), "W2": np.array([[1.0, -1.0], [0.5, 0.5],
                                                           [-0.2, 0.3]]),
                         "b2": np.array([0.1, -0.1]), "targets": np.array([1])}),
        ("a batch of 4: the loss is a mean, so every gradient carries 1/4",
         {"x": rng.normal(size=(4, 3)), "W1": rng.normal(size=(3, 2)), "b1": rng.normal(size=2),
          "W2": rng.normal(size=(2, 3)), "b2": rng.normal(size=3),
          "targets": np.array([0, 2, 1, 2])}),
    ]


MLP_BACKWARD = Exercise(
    name="mlp_backward",
    lesson="backprop",
    pillar="autograd",
    title="Backpropagation through a two-layer network, by hand",
    signature="mlp_backward(x, W1, b1, W2, b2, targets)",
    returns="(loss, dW1, db1, dW2, db2): the mean cross-entropy and its gradient with "
            "respect to each parameter (each shaped like the parameter)",
    statement="""
        The network: h = tanh(x W1 + b1), logits = h W2 + b2, and the loss is the mean over
        the N examples of the cross-entropy -log softmax(logits_n)[targets_n]. Shapes: x is
        (N, D), W1 (D, H), b1 (H,), W2 (H, V), b2 (V,), targets (N,) integers in [0, V).

        Write mlp_backward(x, W1, b1, W2, b2, targets): run the forward pass, then apply the
        chain rule backwards, layer by layer, without an autograd engine. Return the loss and
        the four gradients.
    """,
    hints=(
        "Go backwards one step at a time. At the logits: dlogits = (softmax(logits) - "
        "onehot(targets)) / N, because the loss is a mean over the N rows.",
        "A layer y = a W + b passes back dW = a^T dy, db = dy summed over the batch, da = dy "
        "W^T. Through tanh: dz = dh * (1 - h**2), with h the tanh output.",
        "dW2 = h.T @ dlogits; db2 = dlogits.sum(0); dh = dlogits @ W2.T; dz = dh * (1 - "
        "h**2); dW1 = x.T @ dz; db1 = dz.sum(0).",
    ),
    reference="llmmath.autograd.Tensor.backward",
    references=("llmmath.autograd.functional.cross_entropy",),
    expected=_mlp_backward_expected,
    cases=_mlp_shapes,
    edge_cases=_mlp_edges,
    tolerance=Tolerance(rtol=1e-8, atol=1e-10),
)

# ---------------------------------------------------------------------------- softmax Jacobian


@st.composite
def _jacobian_cases(draw):
    dtype = draw(S.float_dtypes())
    k = draw(st.integers(1, 6))
    return {"z": draw(S.logits((k,), dtype))}


SOFTMAX_JACOBIAN = Exercise(
    name="softmax_jacobian",
    lesson="softmax_jacobian",
    pillar="calculus",
    title="The Jacobian of the softmax",
    signature="softmax_jacobian(z)",
    returns="J, shape (K, K), with J[i, j] = d softmax(z)_i / d z_j",
    statement="""
        With s = softmax(z), each output depends on every logit:
        d s_i / d z_j = s_i (delta_ij - s_j), where delta_ij is 1 on the diagonal and 0 off
        it. In matrix form J = diag(s) - s s^T: symmetric, rows summing to 0.

        Write softmax_jacobian(z) for a vector z of K logits. Logits may be as large as
        1e4 or -inf (a masked class, whose row and column are 0): compute s stably.
    """,
    hints=(
        "First s = softmax(z) with the maximum subtracted: np.exp(z - z.max()) / sum. A -inf "
        "logit then gives s = 0 by itself.",
        "np.diag(s) puts s on the diagonal; np.outer(s, s) is the matrix s_i s_j.",
        "s = np.exp(z - np.max(z)); s = s / s.sum(); return np.diag(s) - np.outer(s, s).",
    ),
    reference="llmmath.calculus.softmax_jacobian",
    expected=lambda z: library("llmmath.calculus.softmax_jacobian")(z),
    cases=_jacobian_cases,
    edge_cases=lambda: [
        ("one logit: J = [[0]]", {"z": np.array([2.0])}),
        ("two equal logits", {"z": np.array([0.0, 0.0])}),
        ("logits of +-1e4", {"z": np.array([1e4, -1e4, 1e4 - 1.0])}),
        ("a masked logit (-inf)", {"z": np.array([1.0, -np.inf, 0.5])}),
    ],
    tolerance=Tolerance(rtol=1e-8, atol=1e-12),
)

# ---------------------------------------------------------------------------- CE + softmax grad


@st.composite
def _ce_grad_cases(draw):
    dtype = draw(S.float_dtypes())
    batch = draw(S.batch_shapes())
    k = draw(st.integers(1, 5))
    return {"logits": draw(S.logits((*batch, k), dtype, masks=False)),
            "target": draw(S.int_arrays(batch, 0, k - 1))}


CE_SOFTMAX_GRAD = Exercise(
    name="ce_softmax_grad",
    lesson="cross_entropy_grad",
    pillar="calculus",
    title="The gradient of cross-entropy through the softmax",
    signature="softmax_cross_entropy_grad(logits, target)",
    returns="dL/dlogits, shaped like logits: softmax(logits) - onehot(target)",
    statement="""
        The training loss of a language model at one position is L = -log softmax(z)[y]
        for the correct token y. Its gradient with respect to the logits is remarkably
        simple: dL/dz = p - onehot(y), with p = softmax(z). Every wrong class is pushed
        down by its probability, the right one up by 1 - p_y.

        Write softmax_cross_entropy_grad(logits, target) for logits of shape (..., K) and
        integer class indices target of shape logits.shape[:-1] (a single integer for a
        vector of logits). The gradient is of the loss summed over positions: do not divide
        by their number. Logits may be as large as 1e4.
    """,
    hints=(
        "The softmax runs over the last axis, with each row's maximum subtracted "
        "(keepdims=True).",
        "Build the one-hot: np.eye(K)[target] has shape (..., K) for any integer array "
        "target; np.put_along_axis also works.",
        "p = softmax(logits, axis=-1); return p - np.eye(logits.shape[-1])[target].",
    ),
    reference="llmmath.calculus.softmax_cross_entropy_grad",
    expected=lambda logits, target: library("llmmath.calculus.softmax_cross_entropy_grad")(
        logits, target),
    cases=_ce_grad_cases,
    edge_cases=lambda: [
        ("one position, four equal logits", {"logits": np.zeros(4), "target": np.array(2)}),
        ("logits of +-1e4", {"logits": np.array([[1e4, -1e4, 0.0]]), "target": np.array([1])}),
        ("a batch of three rows", {"logits": np.array([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]]),
                                   "target": np.array([1, 0, 1])}),
    ],
    tolerance=Tolerance(rtol=1e-8, atol=1e-12),
)

# ---------------------------------------------------------------------------- GELU


@st.composite
def _gelu_cases(draw):
    dtype = draw(S.float_dtypes())
    shape = draw(S.batch_shapes(max_dims=2, max_side=4))
    return {"x": draw(S.arrays(dtype, shape, -8.0, 8.0))}


GELU = Exercise(
    name="gelu",
    lesson="activations",
    pillar="calculus",
    title="GELU, exactly",
    signature="gelu(x)",
    returns="x * Phi(x) elementwise, shaped like x",
    statement="""
        GPT-2 and most transformers since use the Gaussian error linear unit,
        GELU(x) = x Phi(x), where Phi is the standard normal CDF:
        Phi(x) = (1 + erf(x / sqrt(2))) / 2. It is close to ReLU for large |x| but smooth,
        and slightly negative for small negative x.

        Write gelu(x), the exact form (not the tanh approximation), for an array x of any
        shape. math.erf, scipy.special.erf or scipy.special.ndtr may be used.
    """,
    hints=(
        "Phi(x) = 0.5 * (1 + erf(x / sqrt(2))): the argument of erf is divided by the square "
        "root of 2.",
        "math.erf works on one number; np.vectorize(math.erf) applies it to an array, or use "
        "scipy.special.erf directly.",
        "from scipy.special import erf; return x * 0.5 * (1.0 + erf(x / np.sqrt(2.0))).",
    ),
    reference="llmmath.calculus.gelu",
    expected=lambda x: library("llmmath.calculus.gelu")(x),
    cases=_gelu_cases,
    edge_cases=lambda: [("x = 0, 1, -1", {"x": np.array([0.0, 1.0, -1.0])}),
                        ("large |x|", {"x": np.array([-30.0, 30.0, -1e4, 1e4])}),
                        ("a (2, 3) array", {"x": np.linspace(-3, 3, 6).reshape(2, 3)})],
    tolerance=Tolerance(rtol=1e-9, atol=1e-12),
    tolerance32=Tolerance(rtol=1e-5, atol=1e-6),
)

# ---------------------------------------------------------------------------- LayerNorm


@st.composite
def _ln_cases(draw, backward=False):
    dtype = draw(S.float_dtypes())
    batch = draw(S.batch_shapes())
    d = draw(st.integers(1, 6))
    x = draw(S.arrays(dtype, (*batch, d)))
    if draw(st.booleans()):                       # rows of almost constant values
        x = (x * np.asarray(draw(st.sampled_from([1e-3, 1e-4])), dtype=dtype)).astype(dtype)
    case = {"x": x, "gamma": draw(S.arrays(dtype, (d,), -2.0, 2.0))}
    if backward:
        case["dy"] = draw(S.arrays(dtype, (*batch, d)))
    else:
        case["beta"] = draw(S.arrays(dtype, (d,), -2.0, 2.0))
    eps = draw(st.sampled_from([None, 1e-5, 1e-3]))
    if eps is not None:
        case["eps"] = eps
    return case


def _ln_expected(x, gamma, beta, eps=1e-5):
    from llmmath.autograd import Tensor

    F = library("llmmath.autograd.functional")
    return F.layer_norm(Tensor(x), Tensor(gamma), Tensor(beta), eps=eps).data


def _ln_edges():
    return [
        ("three features", {"x": np.array([1.0, 2.0, 3.0]), "gamma": np.ones(3),
                            "beta": np.zeros(3)}),
        ("a row with a tiny spread (variance 1e-8, well below eps)",
         {"x": np.array([[1e-4, -1e-4, 0.0, 2e-4]]), "gamma": np.ones(4), "beta": np.zeros(4)}),
        ("a constant row", {"x": np.full((1, 3), 7.0), "gamma": np.ones(3),
                            "beta": np.array([0.5, 0.0, -0.5])}),
        ("one feature (d = 1)", {"x": np.array([[3.0], [-1.0]]), "gamma": np.array([2.0]),
                                 "beta": np.array([0.25])}),
        ("values near 1e8 with a spread of 1 (E[x^2] - E[x]^2 cancels)",
         {"x": 1e8 + np.array([0.0, 1.0, 2.0, 3.0]), "gamma": np.ones(4), "beta": np.zeros(4)}),
    ]


LAYER_NORM = Exercise(
    name="layer_norm",
    lesson="layernorm",
    pillar="calculus",
    title="Layer normalisation",
    signature="layer_norm(x, gamma, beta, eps=1e-5)",
    returns="gamma * (x - mean) / sqrt(var + eps) + beta over the last axis, shaped like x",
    statement="""
        LayerNorm rescales each vector of features to mean 0 and variance 1, then applies a
        learned scale gamma and shift beta: y = gamma (x - mu) / sqrt(sigma^2 + eps) + beta,
        with mu and sigma^2 the mean and the variance of the last axis. The variance is
        the biased one (divide by d, not d - 1), as in PyTorch, and eps sits inside the
        square root.

        Write layer_norm(x, gamma, beta, eps=1e-5) for x of shape (..., d) and gamma, beta
        of shape (d,).
    """,
    hints=(
        "mu = x.mean(axis=-1, keepdims=True); keepdims keeps the axis so that x - mu "
        "broadcasts row by row.",
        "var = ((x - mu) ** 2).mean(axis=-1, keepdims=True) (the same as np.var, ddof=0); "
        "computing it around the mean avoids the cancellation of E[x^2] - E[x]^2.",
        "return gamma * (x - mu) / np.sqrt(var + eps) + beta.",
    ),
    reference="llmmath.autograd.functional.layer_norm",
    expected=_ln_expected,
    cases=_ln_cases,
    edge_cases=_ln_edges,
    tolerance=Tolerance(rtol=1e-7, atol=1e-9),
)


def _ln_backward_edges():
    return [
        ("three features", {"x": np.array([1.0, 2.0, 3.0]), "gamma": np.array([1.0, 2.0, 0.5]),
                            "dy": np.array([0.1, -0.2, 0.3])}),
        ("a batch of two rows: dgamma and dbeta sum over it",
         {"x": np.array([[1.0, 0.0, -1.0], [2.0, 2.5, 1.0]]), "gamma": np.ones(3),
          "dy": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])}),
        ("a row with a tiny spread (variance well below eps)",
         {"x": np.array([[1e-4, -1e-4, 0.0]]), "gamma": np.array([1.0, -1.0, 2.0]),
          "dy": np.array([[1.0, 2.0, 3.0]])}),
        ("one feature (d = 1): dx is 0", {"x": np.array([[3.0]]), "gamma": np.array([2.0]),
                                          "dy": np.array([[1.0]])}),
    ]


LAYER_NORM_BACKWARD = Exercise(
    name="layer_norm_backward",
    lesson="layernorm",
    pillar="calculus",
    title="The backward pass of LayerNorm",
    signature="layer_norm_backward(x, gamma, dy, eps=1e-5)",
    returns="(dx, dgamma, dbeta): dx shaped like x, dgamma and dbeta of shape (d,)",
    statement="""
        Given the upstream gradient dy = dL/dy of y = gamma x_hat + beta with
        x_hat = (x - mu) / s and s = sqrt(sigma^2 + eps), the parameter gradients are sums
        over every leading (batch) position: dgamma = sum(dy * x_hat), dbeta = sum(dy). For
        the input, with g = dy * gamma, three paths meet, the direct one, the one through
        the mean and the one through the variance:
        dx = (g - mean(g) - x_hat * mean(g * x_hat)) / s, the means taken over the last axis.

        Write layer_norm_backward(x, gamma, dy, eps=1e-5) for x and dy of shape (..., d) and
        gamma of shape (d,).
    """,
    hints=(
        "Recompute the forward pieces first: mu, var (biased), s = np.sqrt(var + eps) and "
        "x_hat, all with keepdims=True over the last axis.",
        "dbeta and dgamma sum over every axis but the last: dy.reshape(-1, d).sum(0). The mean "
        "in dx is over the last axis, with gamma inside it: g = dy * gamma.",
        "g = dy * gamma; dx = (g - g.mean(-1, keepdims=True) - x_hat * (g * x_hat).mean(-1, "
        "keepdims=True)) / s; dgamma = (dy * x_hat).reshape(-1, d).sum(0).",
    ),
    reference="llmmath.calculus.layer_norm_backward",
    expected=lambda x, gamma, dy, eps=1e-5: library("llmmath.calculus.layer_norm_backward")(
        x, gamma, dy, eps),
    cases=lambda: _ln_cases(backward=True),
    edge_cases=_ln_backward_edges,
    # dx = (g - mean(g) - x_hat mean(g x_hat)) / s subtracts terms as large as the row's
    # largest entry, so a float32 reference is only accurate to ~1e-7 of that largest entry:
    # the tolerance is relative to it, not to each (possibly tiny) entry.
    tolerance=Tolerance(rtol=1e-7, atol=1e-8, relative_to="array"),
    tolerance32=Tolerance(rtol=1e-4, atol=1e-5, relative_to="array"),
)

EXERCISES = (NUMERICAL_GRADIENT, VALUE_TANH, MLP_BACKWARD, SOFTMAX_JACOBIAN, CE_SOFTMAX_GRAD,
             GELU, LAYER_NORM, LAYER_NORM_BACKWARD)
