"""Value, the scalar engine: composite expressions against PyTorch float64, and its pictures."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from llmmath.autograd import Value
from llmmath.errors import InvalidTypeError, InvalidValueError

pytestmark = [pytest.mark.lesson_backprop]


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def expression(lib, x, y):
    """The same formula for Value and for torch: every operation, some values used twice."""
    if lib == "torch":
        exp, log, tanh, relu, sig = torch.exp, torch.log, torch.tanh, torch.relu, torch.sigmoid
    else:
        exp, log, tanh, relu, sig = (lambda v: v.exp()), (lambda v: v.log()), \
            (lambda v: v.tanh()), (lambda v: v.relu()), (lambda v: v.sigmoid())
    z = 2 * x + 2 + x
    q = relu(z) + z * x
    h = relu(z * z)
    y2 = h + q + q * x
    a = tanh(x * y) + sig(y - x) * 3.0
    b = log(x * x + 1.0) - exp(y / 4.0) / (1.0 + x * x)
    c = (a - b) ** 2 / 5.0 + 2.0 ** (y * 0.3) + (y * y + 0.5) ** 0.5
    d = 1.0 / (c + 1.0) - 3.0 - (-y2) + 10.0 / (y * y + 2.0)
    return d + d * a


@pytest.mark.torch
@given(x=st.floats(-3, 3, allow_nan=False), y=st.floats(-3, 3, allow_nan=False))
def test_composite_expression_matches_torch(x, y):
    vx, vy = Value(x), Value(y)
    out = expression("value", vx, vy)
    out.backward()
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    ref = expression("torch", tx, ty)
    ref.backward()
    assert close(out.data, ref.item())
    assert close(vx.grad, tx.grad.item(), 1e-10)
    assert close(vy.grad, ty.grad.item(), 1e-10)


@pytest.mark.torch
def test_micrograd_sanity_expression():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xt = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    zt = 2 * xt + 2 + xt
    qt = zt.relu() + zt * xt
    ht = (zt * zt).relu()
    yt = ht + qt + qt * xt
    yt.backward()
    assert y.data == yt.item()
    assert x.grad == xt.grad.item()


def test_local_derivatives_are_stored_beside_the_inputs():
    a, b = Value(3.0), Value(-2.0)
    c = a * b
    assert c._prev == (a, b) and c._local == (-2.0, 3.0)
    t = a.tanh()
    assert math.isclose(t._local[0], 1 - math.tanh(3.0) ** 2)


def test_leaves_accumulate_and_intermediates_start_over():
    x = Value(2.0)
    h = x * x
    y = h * 3.0
    y.backward()
    assert x.grad == 12.0 and h.grad == 3.0
    y.backward()
    assert x.grad == 24.0 and h.grad == 3.0     # leaves accumulate, as in PyTorch
    x.grad = 0.0
    (x + x).backward()
    assert x.grad == 2.0                         # a value used twice gets both contributions


def test_a_deep_chain_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_bad_inputs_raise_value_or_type_errors():
    with pytest.raises(InvalidValueError, match="log"):
        Value(0.0).log()
    with pytest.raises(InvalidValueError, match="by zero"):
        Value(1.0) / 0.0
    with pytest.raises(InvalidValueError, match="negative base"):
        Value(-2.0) ** 0.5
    with pytest.raises(InvalidValueError, match="overflows"):
        Value(1000.0).exp()
    with pytest.raises(InvalidTypeError):
        Value("a")
    with pytest.raises(InvalidTypeError):
        Value(1.0) + "a"
    with pytest.raises(InvalidTypeError):
        Value(1.0) ** Value(2.0)


def test_to_dot_shows_labels_values_gradients_and_local_derivatives():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    c.backward()
    dot = c.to_dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert "a | data 2.0000 | grad -3.0000" in dot
    assert "c | data -6.0000 | grad 1.0000" in dot
    assert 'label="*"' in dot and 'label="-3"' in dot     # the op and a local derivative
    assert dot.count("->") == 3


def test_draw_returns_a_matplotlib_figure_with_every_value():
    from matplotlib.figure import Figure

    x, w = Value(1.5, label="x"), Value(-0.5, label="w")
    out = (x * w + 1.0).tanh()
    out.backward()
    fig = out.draw()
    assert isinstance(fig, Figure)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert sum("data" in t for t in texts) == 6          # x, w, x*w, 1.0, x*w + 1, tanh
    assert any(t.startswith("x\n") for t in texts)
