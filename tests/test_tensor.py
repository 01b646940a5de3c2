"""Tensor: every operation's value and gradient against PyTorch float64, plus gradcheck.

Relative error of an array result is max|ours - torch| / max|torch| (a
norm-wise relative error); the bar is 1e-10.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from llmmath.autograd import (
    AnomalyError,
    BackwardError,
    Parameter,
    Tensor,
    detect_anomaly,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
)
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError

pytestmark = [pytest.mark.lesson_backprop]


def rel_err(a, b) -> float:
    """max|a - b| / max|b|: relative to the largest reference entry (at least 1e-3, so that
    gradients that are zero in exact arithmetic compare their rounding noise absolutely)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-3))


def both(*arrays):
    """The same float64 data as llmmath tensors and as torch tensors, all requiring grad."""
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    return ours, theirs


def compare(f_ours, f_torch, *arrays, tol=1e-10, weights_seed=0):
    """Forward values and gradients of f on the same inputs, through a random projection."""
    ours, theirs = both(*arrays)
    out, ref = f_ours(*ours), f_torch(*theirs)
    assert out.dtype == np.float64
    assert rel_err(out.data, ref.detach().numpy()) <= tol
    w = np.random.default_rng(weights_seed).standard_normal(ref.shape)
    (out * w).sum().backward()
    (ref * torch.from_numpy(w)).sum().backward()
    for x, t in zip(ours, theirs, strict=True):
        assert x.grad is not None and x.grad.shape == x.shape
        assert rel_err(x.grad, t.grad.numpy()) <= tol
    return ours


floats = st.floats(-3, 3, allow_nan=False, width=64)
positive = st.floats(0.1, 3, allow_nan=False, width=64)


@st.composite
def broadcast_pair(draw, elements=floats):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                    max_side=3))
    a, b = (draw(hnp.arrays(np.float64, s, elements=elements)) for s in shapes.input_shapes)
    return a, b


@st.composite
def array(draw, elements=floats, min_dims=0, max_dims=3, min_side=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                  max_side=4))
    return draw(hnp.arrays(np.float64, shape, elements=elements))


# ----------------------------------------------------------------- binary ops
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=broadcast_pair())
def test_binary_broadcasting_matches_torch(name, pair):
    f_ours, f_torch = BINARY[name]
    compare(f_ours, f_torch, *pair)
    assert gradcheck(f_ours, [Tensor(a, requires_grad=True) for a in pair])


@pytest.mark.torch
@given(a=array(), b=array(elements=positive))
def test_division_matches_torch(a, b):
    b = b.reshape(b.shape)  # independent shapes: only broadcastable pairs are kept
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        b = np.abs(a) + 0.5
    compare(lambda x, y: x / y, lambda x, y: x / y, a, b)
    assert gradcheck(lambda x, y: x / y, [Tensor(a, requires_grad=True),
                                          Tensor(b, requires_grad=True)])


@pytest.mark.torch
@given(a=array(), c=st.floats(-2, 2, allow_nan=False))
def test_scalar_operands_on_either_side(a, c):
    compare(lambda x: (2.0 - x) * c + x / 4.0 - 1.0 / (x * x + 1.0) + (c + x),
            lambda x: (2.0 - x) * c + x / 4.0 - 1.0 / (x * x + 1.0) + (c + x), a)


@pytest.mark.torch
@pytest.mark.parametrize("p", [2, 3, 0.5, -1.5, 1.0, 0, 2.7])
@given(a=array(elements=positive))
def test_pow_matches_torch(p, a):
    compare(lambda x: x ** p, lambda x: x ** p, a)
    assert gradcheck(lambda x: x ** p, [Tensor(a, requires_grad=True)])


def test_pow_refuses_a_tensor_exponent():
    with pytest.raises(InvalidTypeError, match="exponent"):
        Tensor([1.0]) ** Tensor([2.0])


# ------------------------------------------------------------------- matmul
@st.composite
def matmul_operands(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    kind = draw(st.sampled_from(["vv", "mv", "vm", "mm", "batched", "broadcast"]))
    batch = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    shapes = {
        "vv": ((k,), (k,)),
        "mv": ((n, k), (k,)),
        "vm": ((k,), (k, m)),
        "mm": ((n, k), (k, m)),
        "batched": (batch + (n, k), batch + (k, m)),
        "broadcast": (batch + (n, k), (k, m)) if draw(st.booleans()) else
                     ((1,) + batch[1:] + (n, k), batch + (k, m)),
    }[kind]
    return tuple(draw(hnp.arrays(np.float64, s, elements=floats)) for s in shapes)


@pytest.mark.torch
@given(ops=matmul_operands())
def test_matmul_matches_torch(ops):
    compare(lambda a, b: a @ b, lambda a, b: a @ b, *ops)
    assert gradcheck(lambda a, b: a @ b, [Tensor(o, requires_grad=True) for o in ops])


def test_matmul_with_a_plain_array_on_the_left():
    w = Tensor(np.eye(2), requires_grad=True)
    (np.array([[1.0, 2.0]]) @ w).sum().backward()
    np.testing.assert_array_equal(w.grad, [[1.0, 1.0], [2.0, 2.0]])


def test_shape_errors_name_the_op_and_both_shapes():
    with pytest.raises(ShapeError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ShapeError, match=r"mul: shapes \(2,\) and \(3,\)"):
        Tensor(np.ones(2)) * np.ones(3)
    with pytest.raises(ShapeError, match=r"matmul: shapes \(2, 3\) and \(2, 3\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"reshape: cannot reshape shape \(2, 3\)"):
        Tensor(np.ones((2, 3))).reshape(4)
    with pytest.raises(ValueError):  # ShapeError is a ValueError
        Tensor(np.ones(2)) - Tensor(np.ones(5))


# ------------------------------------------------------------------ unary ops
UNARY = {
    "exp": (lambda x: x.exp(), torch.exp, floats),
    "log": (lambda x: x.log(), torch.log, positive),
    "tanh": (lambda x: x.tanh(), torch.tanh, floats),
    "relu": (lambda x: x.relu(), torch.relu, floats),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid, st.floats(-40, 40, allow_nan=False)),
    "gelu": (lambda x: x.gelu(), lambda t: torch.nn.functional.gelu(t, approximate="tanh"),
             floats),
    "gelu_exact": (lambda x: x.gelu("none"), torch.nn.functional.gelu, floats),
    "neg": (lambda x: -x, lambda t: -t, floats),
}


@pytest.mark.torch
@pytest.mark.lesson_activations
@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_matches_torch(name, data):
    f_ours, f_torch, elements = UNARY[name]
    a = data.draw(array(elements=elements))
    if name == "relu":  # the kink: away from 0 so finite differences are fair
        a = np.where(np.abs(a) < 1e-3, 0.5, a)
    compare(f_ours, f_torch, a)
    assert gradcheck(f_ours, [Tensor(a, requires_grad=True)])


def test_relu_gradient_at_zero_is_zero_like_torch():
    x = Tensor([0.0, -0.0, 1.0], requires_grad=True)
    x.relu().sum().backward()
    t = torch.tensor([0.0, -0.0, 1.0], requires_grad=True)
    t.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


def test_sigmoid_does_not_overflow_for_large_inputs():
    s = Tensor([-1000.0, 0.0, 1000.0]).sigmoid().data
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])


# ------------------------------------------------------------------ reductions
@st.composite
def reduction_case(draw):
    a = draw(array(min_dims=1))
    axis = draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1),
                          st.lists(st.integers(0, a.ndim - 1), min_size=1, max_size=a.ndim,
                                   unique=True).map(tuple)))
    return a, axis, draw(st.booleans())


def _dim(axis):
    return None if axis is None else axis


@pytest.mark.torch
@given(case=reduction_case())
def test_sum_and_mean_match_torch(case):
    a, axis, keep = case
    for ours, theirs in (("sum", "sum"), ("mean", "mean")):
        def f_ours(x, ours=ours):
            return getattr(x, ours)(axis=axis, keepdims=keep)

        def f_torch(t, theirs=theirs):
            if axis is None:
                out = getattr(t, theirs)()
                return out.reshape((1,) * t.ndim) if keep else out
            return getattr(t, theirs)(dim=axis, keepdim=keep)

        compare(f_ours, f_torch, a)
        assert gradcheck(f_ours, [Tensor(a, requires_grad=True)])


@pytest.mark.torch
@given(case=reduction_case(), ties=st.booleans())
def test_max_and_min_match_torch_amax_amin_with_ties(case, ties):
    a, axis, keep = case
    if ties:  # few distinct values: many ties
        a = np.round(a)
    dims = tuple(range(a.ndim)) if axis is None else axis
    compare(lambda x: x.max(axis=axis, keepdims=keep),
            lambda t: torch.amax(t, dim=dims, keepdim=keep), a)
    compare(lambda x: x.min(axis=axis, keepdims=keep),
            lambda t: torch.amin(t, dim=dims, keepdim=keep), a)


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2), -1])
@pytest.mark.parametrize("keep", [True, False])
def test_max_and_min_pass_gradcheck_without_ties(axis, keep):
    a = np.random.default_rng(5).permutation(24).reshape(2, 3, 4) * 0.1   # distinct values
    for name in ("max", "min"):
        assert gradcheck(lambda x, name=name: getattr(x, name)(axis=axis, keepdims=keep),
                         [Tensor(a, requires_grad=True)])


def test_max_shares_the_gradient_among_ties():
    x = Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 0.5, 0.0])


def test_reductions_refuse_bad_axes_and_empty_arrays():
    with pytest.raises(InvalidValueError, match="axis"):
        Tensor(np.ones((2, 3))).sum(axis=2)
    with pytest.raises(InvalidValueError, match="repeats"):
        Tensor(np.ones((2, 3))).sum(axis=(0, 0))
    with pytest.raises(InvalidValueError, match="empty"):
        Tensor(np.ones((0, 3))).max(axis=0)
    with pytest.raises(InvalidValueError, match="empty"):
        Tensor(np.ones((0,))).mean()


# ---------------------------------------------------------- shapes, indexing
@pytest.mark.torch
@given(a=array(min_dims=1, max_dims=4), data=st.data())
def test_reshape_transpose_permute_T_match_torch(a, data):
    perm = data.draw(st.permutations(range(a.ndim)))
    i, j = data.draw(st.integers(0, a.ndim - 1)), data.draw(st.integers(0, a.ndim - 1))
    compare(lambda x: x.reshape(-1), lambda t: t.reshape(-1), a)
    compare(lambda x: x.reshape(a.shape[::-1]), lambda t: t.reshape(a.shape[::-1]), a)
    compare(lambda x: x.permute(*perm), lambda t: t.permute(*perm), a)
    compare(lambda x: x.transpose(i, j), lambda t: t.transpose(i, j), a)
    compare(lambda x: x.T, lambda t: t.permute(*reversed(range(t.ndim))), a)
    assert gradcheck(lambda x: x.permute(*perm).reshape(-1)[::2], [Tensor(a, requires_grad=True)])


@pytest.mark.torch
@given(a=array(min_dims=2, max_dims=3), data=st.data())
def test_indexing_matches_torch(a, data):
    n0 = a.shape[0]
    idx = data.draw(st.lists(st.integers(-n0, n0 - 1), min_size=1, max_size=6))  # repeats likely
    compare(lambda x: x[np.array(idx)], lambda t: t[torch.tensor(idx)], a)
    compare(lambda x: x[1:, ::2], lambda t: t[1:, ::2], a)
    compare(lambda x: x[-1], lambda t: t[-1], a)
    compare(lambda x: x[..., None, 0], lambda t: t[..., None, 0], a)
    rows = np.array(idx)
    cols = np.zeros_like(rows)
    compare(lambda x: x[rows, cols], lambda t: t[torch.tensor(rows), torch.tensor(cols)], a)
    mask = a > 0
    compare(lambda x: x[mask], lambda t: t[torch.from_numpy(mask)], a)
    assert gradcheck(lambda x: x[rows, cols] * x[np.array(idx)].sum(), [Tensor(a, requires_grad=True)])


def test_repeated_fancy_indices_accumulate():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


def test_iterating_over_rows_keeps_the_graph():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert len(rows) == 2
    (rows[0] * rows[1]).sum().backward()
    np.testing.assert_array_equal(x.grad, [[3.0, 4.0], [1.0, 2.0]])


def test_bad_indices_raise_value_or_type_errors():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(InvalidValueError, match=r"getitem.*shape \(2, 3\)"):
        x[5]
    with pytest.raises(InvalidTypeError):
        x[np.array([0.5])]
    with pytest.raises(InvalidValueError, match="permutation"):
        x.permute(0, 0)


# ------------------------------------------------------- dtypes and conversion
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_through_ops_and_gradients(dtype):
    x = Tensor(np.linspace(-1, 1, 6, dtype=dtype).reshape(2, 3), requires_grad=True)
    w = Tensor(np.ones((3, 2), dtype), requires_grad=True)
    y = ((x @ w).tanh() * 2.0 + 1.0).exp().mean() + x.sigmoid().max() + (x ** 2).sum() / 3
    assert y.dtype == dtype
    y.backward()
    assert x.grad.dtype == dtype and w.grad.dtype == dtype


def test_float32_is_kept_with_float64_constants():
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    y = x * np.float64(2.0) + np.ones(3) * 0.5
    assert y.dtype == np.float32


def test_other_inputs_become_float64_and_junk_is_refused():
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor(np.ones(2, np.float16)).dtype == np.float64
    with pytest.raises(InvalidTypeError):
        Tensor("abc")
    with pytest.raises(InvalidTypeError):
        Tensor([1 + 2j])
    with pytest.raises(InvalidTypeError):
        Tensor([1.0]) + "a"


def test_tensor_copies_its_input():
    a = np.ones(3)
    t = Tensor(a)
    a[0] = 5.0
    assert t.data[0] == 1.0


# ------------------------------------------------------------ grad semantics
def test_grad_is_none_until_backward_then_accumulates():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.grad is None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    (x * x).sum().backward()                      # adds 2x
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3).sum().backward()
    x.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


@pytest.mark.torch
def test_accumulation_matches_torch_over_several_graphs():
    a = np.array([[0.5, -1.0], [2.0, 0.3]])
    (x,), (t,) = both(a)
    for k in range(3):
        ((x * (k + 1)).tanh() @ x).sum().backward()
        ((t * (k + 1)).tanh() @ t).sum().backward()
    assert rel_err(x.grad, t.grad.numpy()) <= 1e-12


def test_intermediates_keep_no_grad_unless_asked():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(k.grad, [2.0, 4.0])
    assert x.is_leaf and not h.is_leaf


def test_second_backward_raises_unless_graph_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(BackwardError, match="retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError):  # BackwardError is also a RuntimeError, like torch's
        y.backward()
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_array_equal(x.grad, [6.0, 12.0])   # 2x from y, then 2x twice from z


def test_backward_errors_explain_themselves():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BackwardError, match=r"one-element output; got shape \(2,\)"):
        (x * 2).backward()
    with pytest.raises(BackwardError, match="does not require grad"):
        Tensor([1.0]).sum().backward()
    with pytest.raises(BackwardError, match="gradient"):
        (x * 2).backward(gradient=np.ones(3))
    (x * 2).backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 20.0])


def test_no_grad_records_nothing_and_restores_the_mode():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
        with enable_grad():
            z = x * 2
    assert is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad

    @no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad


def test_manual_sgd_in_place_under_no_grad_updates_the_parameter():
    w = Parameter(np.array([1.0, -2.0]))
    params = [w]
    (w * w).sum().backward()
    with no_grad():
        for p in params:
            p -= 0.25 * p.grad                    # the classic manual update
    np.testing.assert_array_equal(w.data, [0.5, -1.0])
    with pytest.raises(InvalidValueError, match="in place"):
        w += 1.0                                  # grad mode on: refused, as in PyTorch
    c = Tensor([1.0, 2.0])
    c *= 3.0                                      # no gradient involved: fine
    np.testing.assert_array_equal(c.data, [3.0, 6.0])
    with pytest.raises(ShapeError, match="in place"):
        c += np.ones(3)


def test_detach_cuts_the_graph():
    x = Tensor([2.0], requires_grad=True)
    (x * x.detach()).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0])


def test_parameter_requires_grad():
    p = Parameter(np.zeros(2))
    assert p.requires_grad and isinstance(p, Tensor)
    assert "Parameter" in repr(p)


def test_a_chain_of_100k_operations_backpropagates():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = -y
    y.backward()
    assert x.grad == 1.0   # an even number of sign flips


def test_the_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        x = Tensor(np.ones(3), requires_grad=True)
        h = (x * 2).tanh()
        probe = weakref.ref(h)
        loss = (h * h).sum()
        del h
        loss.backward()
        assert probe() is None  # freed by backward (the graph is cut), before the loss goes
        h2 = (x * 2).tanh()
        probe2 = weakref.ref(h2)
        loss2 = (h2 * h2).sum()
        del h2, loss2            # no backward: dropping the loss frees the graph (no cycles)
        assert probe2() is None
    finally:
        gc.enable()


# ------------------------------------------------------------------ anomaly
def test_detect_anomaly_names_the_op_whose_backward_made_inf():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly():
        y = (x.log() * 2.0).sum()     # log(0) = -inf is fine forward; d/dx = 1/0 = inf
        with pytest.raises(AnomalyError, match="backward of 'log' returned inf") as info:
            y.backward()
    assert "test_tensor.py" in str(info.value)        # where the op was created


def test_detect_anomaly_reports_nan():
    x = Tensor([-1.0, 4.0], requires_grad=True)
    with detect_anomaly():
        with np.errstate(invalid="ignore"):
            y = (x ** 0.5).sum()      # sqrt(-1) = NaN forward
        with pytest.raises(AnomalyError, match="'pow' returned NaN"):
            y.backward()


def test_repr_shows_the_op():
    y = Tensor([1.0], requires_grad=True) * 2
    assert "op='mul'" in repr(y)
    assert repr(Tensor([1.0], requires_grad=True)) == "Tensor([1.], requires_grad=True)"
