"""What the graph keeps alive: values a backward function needs, and nothing else.

The graph is made of nodes that know their tensor's shape and dtype but not
its values, so an intermediate result that no backward function reads is
freed as soon as the code that made it drops it (as in PyTorch). Checked
with weak references to the arrays (freed or not is exact, not a timing),
and with the gradients against PyTorch, so that freeing never changes a
result.
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import torch

from llmmath.autograd import Parameter, Tensor
from llmmath.autograd import functional as F


def test_an_intermediate_no_backward_reads_is_freed_while_the_graph_lives():
    rng = np.random.default_rng(0)
    w = Parameter(rng.standard_normal((4, 3)))
    x = Tensor(rng.standard_normal((5, 3)))
    h = F.linear(x, w)                       # (5, 4): add's backward never reads it
    alive = weakref.ref(h.data)
    out = (h + 1.0).sum()
    del h
    gc.collect()
    assert alive() is None, "the graph kept the values of an input its backward never reads"
    out.backward()
    tw = torch.tensor(w.data, requires_grad=True)
    (torch.tensor(x.data) @ tw.T + 1.0).sum().backward()
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-12)


def test_what_a_backward_reads_stays_alive_until_backward_has_used_it():
    rng = np.random.default_rng(1)
    w = Parameter(rng.standard_normal((4, 3)))
    x = Parameter(rng.standard_normal((5, 3)))
    h = F.linear(x, w)
    y = h.tanh()                             # tanh keeps its output; mul keeps both inputs
    kept = weakref.ref(y.data)
    loss = (y * h).sum()
    del y, h
    gc.collect()
    assert kept() is not None
    loss.backward()
    del loss
    gc.collect()
    assert kept() is None, "backward did not free what the graph kept"
    tw, tx = (torch.tensor(a, requires_grad=True) for a in (w.data, x.data))
    th = tx @ tw.T
    (th.tanh() * th).sum().backward()
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)


def test_retain_grad_on_a_dropped_intermediate_and_leaves_used_twice():
    a = Parameter([1.0, 2.0])
    b = a * a
    b.retain_grad()
    c = (b * a + a).sum()                    # a used three times: its gradient adds up
    c.backward()
    np.testing.assert_array_equal(b.grad, [1.0, 2.0])          # dc/db = a
    np.testing.assert_array_equal(a.grad, 3 * a.data ** 2 + 1)  # d(a^3 + a)/da


def test_gelu_recovers_h_from_its_output_even_at_zero_and_subnormal_inputs():
    # backward keeps x and y = x h, not h: h = y / x, and 1/2 where x is (nearly) 0
    x = np.array([0.0, -0.0, 5e-324, -1e-310, 1e-300, 1e-30, -1e-8, 0.3, -0.7518, -3.0,
                  -9.0, -40.0, 8.0, 40.0, 1e6])
    t = Tensor(x, requires_grad=True)
    t.gelu().backward(np.ones_like(x))
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.gelu(tx, approximate="tanh").backward(torch.ones_like(tx))
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-15)
    x32 = np.array([0.0, 1e-45, -3e-39, 2e-38, 1e-20, 0.5, -2.0], np.float32)
    t = Tensor(x32, requires_grad=True)
    t.gelu().backward(np.ones_like(x32))
    tx = torch.tensor(x32, requires_grad=True)
    torch.nn.functional.gelu(tx, approximate="tanh").backward(torch.ones_like(tx))
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_gelu_writes_into_the_incoming_gradient_only_when_the_engine_owns_it():
    # one gradient array shared by two branches (add passes g to both), a brand-new one
    # (from mul), a retained one and the user's seed: each must come out as torch's
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((3, 70000)) for _ in range(3)]   # over one chunk of entries
    seed = rng.standard_normal((3, 70000))
    ours = [Parameter(x) for x in xs]
    a, b, c = (p.gelu() for p in ours)
    b.retain_grad()
    out = a + b + (c * 2.0)
    kept = seed.copy()
    out.backward(seed)
    np.testing.assert_array_equal(seed, kept)                  # the seed is never written
    theirs = [torch.tensor(x, requires_grad=True) for x in xs]
    ta, tb, tc = (torch.nn.functional.gelu(t, approximate="tanh") for t in theirs)
    tb.retain_grad()
    (ta + tb + tc * 2.0).backward(torch.tensor(seed))
    for p, t in zip(ours, theirs, strict=True):   # atol: near gelu's minimum dy/dx cancels
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=0, atol=0)  # exact: it is g


def test_the_allocator_is_left_alone_when_the_user_set_malloc_variables(monkeypatch):
    from llmmath.autograd import _engine

    monkeypatch.setitem(_engine._ALLOCATOR, "tuned", False)
    monkeypatch.setitem(_engine._ALLOCATOR, "set", False)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    assert _engine.keep_freed_memory() is False
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert _engine.keep_freed_memory() is False      # tried once: later calls change nothing
