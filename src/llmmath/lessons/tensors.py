import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="NumPy, PyTorch and llmmath side by side")


@app.cell
def _():
    import importlib
    import importlib.util

    import marimo as mo
    import numpy as np

    from llmmath import calculus, nn, optim
    from llmmath.autograd import Tensor, Value
    from llmmath.lessons import _kit as kit

    return Tensor, Value, calculus, importlib, kit, mo, nn, np, optim


@app.cell(hide_code=True)
def _(kit):
    kit.header("tensors")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Every lesson so far ran on NumPy arrays. Real models are trained in
    PyTorch, whose **tensors** are arrays that also remember how they were
    computed, so gradients come for free, and whose **modules** bundle
    weights with the function that uses them. `llmmath` rebuilds the same
    ideas on NumPy, in code short enough to read, with PyTorch's names and
    rules. Seeing the three side by side shows that the mathematics is
    identical and only the bookkeeping differs, and it makes PyTorch code
    readable to anyone who knows NumPy.
    """)
    return


@app.cell
def _(importlib):
    # PyTorch is optional here: `make test` installs it, `make course` does not.
    has_torch = importlib.util.find_spec("torch") is not None
    torch = importlib.import_module("torch") if has_torch else None
    return has_torch, torch


@app.cell(hide_code=True)
def _(has_torch, mo, torch):
    if has_torch:
        _note = mo.callout(mo.md(
            f"PyTorch {torch.__version__} is installed: every table below has a PyTorch "
            "column, computed live."), kind="success")
    else:
        _note = mo.callout(mo.md(
            "PyTorch is not installed in this environment (it comes with `make test`, not "
            "with `make course`), so the PyTorch column is left out. Everything else runs "
            "on NumPy and `llmmath`."), kind="info")
    _note
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\texttt{x.shape} = (d_1, \dots, d_k), \qquad "
        r"\frac{\partial L}{\partial x} \text{ in } \texttt{x.grad}, \qquad "
        r"\texttt{Linear}(x) = x W^{\top} + b",
        caption=r"The three ideas of this lesson: an array with a shape, a gradient stored "
                r"next to it, and a layer that owns its weights $W$ (out × in) and bias $b$.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 1. Shapes and broadcasting

    An elementwise operation on two arrays of different shapes **broadcasts**:
    line the shapes up from the right; each pair of lengths must be equal or
    one of them must be 1, which is then stretched; a missing axis counts as
    length 1. All three libraries follow this rule. Pick two shapes and add
    arrays of ones:
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    shape_options = ["(3, 4)", "(4,)", "(3, 1)", "(1, 4)", "(3,)", "(2, 1, 4)", "(2, 3, 4)"]
    shape_a = mo.ui.dropdown(shape_options, value="(3, 4)", label="shape of a")
    shape_b = mo.ui.dropdown(shape_options, value="(4,)", label="shape of b")
    mo.hstack([shape_a, shape_b], justify="start", gap=2)
    return shape_a, shape_b, shape_options


@app.cell
def _(Tensor, kit, np, shape_a, shape_b, torch):
    def parse(text):
        """'(3, 4)' -> (3, 4)"""
        return tuple(int(v) for v in text.strip("()").split(",") if v.strip())

    def add_shape(ones, a, b):
        """Shape of ones(a) + ones(b), or the library's error message."""
        try:
            return tuple((ones(a) + ones(b)).shape)
        except (ValueError, RuntimeError) as err:
            return str(err)

    libraries = {
        "NumPy": lambda s: np.ones(s),
        "llmmath": lambda s: Tensor(np.ones(s)),
    }
    if torch is not None:
        libraries["PyTorch"] = lambda s: torch.ones(s)
    sum_shapes = {name: add_shape(ones, parse(kit.value(shape_a)), parse(kit.value(shape_b)))
                  for name, ones in libraries.items()}
    return add_shape, libraries, parse, sum_shapes


@app.cell(hide_code=True)
def _(kit, mo, shape_a, shape_b, sum_shapes):
    _ok = all(isinstance(r, tuple) for r in sum_shapes.values())
    _table = kit.matrix_table([[str(r)] for r in sum_shapes.values()], list(sum_shapes),
                              ["shape of a + b" if _ok else "error message"])
    mo.md(f"`ones{kit.value(shape_a)} + ones{kit.value(shape_b)}` "
          + ("broadcasts to:" if _ok else "does not broadcast; each library says why:")
          + f" {_table}")
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("002-broadcast-shape"), kit.claim_badge("002-matmul-shape")])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 2. Automatic differentiation

    Take $y = x^2 + 3x + 1$. By hand, $dy/dx = 2x + 3$. NumPy has no notion
    of a derivative, so there we estimate it by central differences;
    `llmmath` has two engines, the scalar `Value` (one number per node, the
    easiest to follow) and the array `Tensor`; PyTorch has its tensors. In
    each autograd library the recipe is the same: mark the input as needing
    a gradient, compute, call `backward()`, read `.grad`.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    x_point = mo.ui.slider(start=-3.0, stop=3.0, step=0.5, value=2.0, show_value=True,
                           label="x", debounce=False)
    x_point
    return (x_point,)


@app.cell
def _(Tensor, Value, calculus, kit, mo, np, x_point):
    x0 = kit.value(x_point)

    # NumPy: no autograd, so central differences
    grad_numpy = calculus.numerical_gradient(lambda v: float(v[0] ** 2 + 3 * v[0] + 1),
                                             np.array([x0]))[0]

    # llmmath, scalar engine
    xv = Value(x0)
    yv = xv**2 + 3 * xv + 1
    yv.backward()
    grad_value = xv.grad

    # llmmath, array engine (PyTorch's interface)
    xt = Tensor([x0], requires_grad=True)
    yt = xt**2 + 3 * xt + 1
    yt.backward()
    grad_tensor = float(xt.grad[0])
    mo.show_code()
    return grad_numpy, grad_tensor, grad_value, x0, yv


@app.cell
def _(mo, torch, x0):
    grad_torch = None
    if torch is not None:
        xp = torch.tensor([x0], dtype=torch.float64, requires_grad=True)
        yp = xp**2 + 3 * xp + 1
        yp.backward()
        grad_torch = float(xp.grad[0])
    mo.show_code()
    return (grad_torch,)


@app.cell(hide_code=True)
def _(grad_numpy, grad_tensor, grad_torch, grad_value, kit, mo, x0, yv):
    _names = ["2x + 3 (by hand)", "NumPy, central differences", "llmmath Value",
              "llmmath Tensor"]
    _vals = [2 * x0 + 3, grad_numpy, grad_value, grad_tensor]
    if grad_torch is not None:
        _names.append("PyTorch")
        _vals.append(grad_torch)
    mo.md(f"""
    At $x = {kit.fmt(x0, 1)}$, $y = {kit.fmt(yv.data, 2)}$ and

    {kit.matrix_table([[v] for v in _vals], _names, ["dy/dx"], digits=10)}

    The central difference is off by {abs(grad_numpy - (2 * x0 + 3)):.0e}: for a
    parabola it has no truncation error, so what is left is rounding, the price of
    subtracting two nearly equal values of $y$. The autograd engines apply the
    chain rule exactly.
    """)
    return


@app.cell(hide_code=True)
def _(grad_tensor, kit, np, x0, yv):
    _xs = np.linspace(-4.0, 4.0, 161)
    _fig, _ax = kit.figure(size=(5.0, 3.0))
    _ax.plot(_xs, _xs**2 + 3 * _xs + 1, color="C0", label="y = x² + 3x + 1")
    _ax.plot(_xs, yv.data + grad_tensor * (_xs - x0), color="C3", lw=1.2,
             label=f"tangent, slope {kit.fmt(grad_tensor, 1)}")
    _ax.plot([x0], [yv.data], "o", color="C3")
    _ax.set_ylim(-5, 30)
    _ax.set_xlabel("x")
    _ax.set_ylabel("y")
    _ax.legend(fontsize=8, loc="upper left")
    kit.show(_fig, alt="the parabola and its tangent at the chosen x")
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("002-dydx-at-2")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### Gradients add up

    `backward()` **adds** into `.grad` rather than overwriting it, so that a
    gradient can be accumulated over several mini-batches. The price is that
    you must reset it between optimisation steps; that is what `zero_grad()`
    is for. Two backward passes without a reset:
    """)
    return


@app.cell
def _(Tensor, mo, torch):
    w = Tensor([2.0], requires_grad=True)
    (w**2 + 3 * w + 1).backward()
    (w**2 + 3 * w + 1).backward()          # no zero_grad in between
    twice = {"llmmath": float(w.grad[0])}
    w.zero_grad()
    (w**2 + 3 * w + 1).backward()
    once = {"llmmath": float(w.grad[0])}
    if torch is not None:
        wp = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
        (wp**2 + 3 * wp + 1).backward()
        (wp**2 + 3 * wp + 1).backward()
        twice["PyTorch"] = float(wp.grad[0])
        wp.grad = None                     # what optimizer.zero_grad() does
        (wp**2 + 3 * wp + 1).backward()
        once["PyTorch"] = float(wp.grad[0])
    mo.show_code()
    return once, twice


@app.cell(hide_code=True)
def _(kit, mo, once, twice):
    mo.vstack([
        mo.md(kit.matrix_table([[twice[k], once[k]] for k in twice], list(twice),
                               ["two passes", "after zero_grad"], digits=1, corner="x.grad")),
        kit.claim_badge("002-zero-grad-before-backward"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 3. A module: the linear layer

    A **module** owns its parameters and knows how to apply them.
    `nn.Linear(in_features, out_features)` stores $W$ with shape
    (out, in), PyTorch's layout, and a bias $b$, and computes $xW^\top + b$.
    Because `llmmath` uses the same names and shapes, its `state_dict()`
    loads straight into the PyTorch layer, and the two give the same output
    on the same input; NumPy needs the formula spelled out.
    """)
    return


@app.cell
def _(mo, nn, np):
    batch, d_in, d_out = 4, 10, 5
    x_batch = np.random.default_rng(1).standard_normal((batch, d_in))    # (B, in)
    layer = nn.Linear(d_in, d_out, dtype=np.float64, rng=0)
    out_llmmath = layer(x_batch).relu().data                              # (B, out)

    W, b = layer.weight.data, layer.bias.data                            # (out, in), (out,)
    out_numpy = np.maximum(x_batch @ W.T + b, 0.0)
    mo.show_code()
    return W, b, batch, d_in, d_out, layer, out_llmmath, out_numpy, x_batch


@app.cell
def _(d_in, d_out, layer, mo, torch, x_batch):
    out_torch = None
    if torch is not None:
        layer_torch = torch.nn.Linear(d_in, d_out, dtype=torch.float64)
        layer_torch.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
        with torch.no_grad():
            out_torch = torch.relu(layer_torch(torch.from_numpy(x_batch))).numpy()
    mo.show_code()
    return (out_torch,)


@app.cell(hide_code=True)
def _(W, batch, d_in, d_out, kit, mo, np, out_llmmath, out_numpy, out_torch):
    _gaps = [f"llmmath vs NumPy {np.max(np.abs(out_llmmath - out_numpy)):.1e}"]
    if out_torch is not None:
        _gaps.append(f"llmmath vs PyTorch {np.max(np.abs(out_llmmath - out_torch)):.1e}")
    mo.md(f"""
    An input batch of shape ({batch}, {d_in}), a weight of shape {W.shape}, an
    output of shape {out_llmmath.shape} ({batch} rows, {d_out} features), after a
    ReLU. Largest differences: {"; ".join(_gaps)}.

    {kit.matrix_table(out_llmmath, [f"row {i}" for i in range(batch)],
                      [f"out {j}" for j in range(d_out)], digits=4)}
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("002-relu-layer-shape")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 4. One step of training

    A training step is always the same four lines: clear the gradients,
    compute the loss, backpropagate, let the optimiser update the weights.
    Here the loss is the mean squared error of the linear layer against a
    fixed target, and the optimiser is plain SGD, $W \leftarrow W - \eta\,
    \partial L / \partial W$. In NumPy the gradient has to be derived by hand:
    with $e = xW^\top + b - y$ over $B \cdot m$ numbers,
    $\partial L/\partial W = \tfrac{2}{Bm}\, e^\top x$ and
    $\partial L/\partial b = \tfrac{2}{Bm} \sum_{\text{rows}} e$.
    """)
    return


@app.cell
def _(W, b, batch, d_in, d_out, mo, nn, np, optim, x_batch):
    lr = 0.1
    target = np.random.default_rng(2).standard_normal((batch, d_out))     # (B, out)

    # llmmath: the PyTorch recipe
    model = nn.Linear(d_in, d_out, dtype=np.float64, rng=0)
    opt = optim.SGD(model.parameters(), lr=lr)
    opt.zero_grad()
    err = model(x_batch) - target
    loss = (err * err).mean()
    loss.backward()
    opt.step()
    W_llmmath = model.weight.data.copy()

    # NumPy: the gradient by hand
    e = x_batch @ W.T + b - target                                        # (B, out)
    grad_W = 2.0 / e.size * e.T @ x_batch                                 # (out, in)
    grad_b = 2.0 / e.size * e.sum(axis=0)                                 # (out,)
    W_numpy, b_numpy = W - lr * grad_W, b - lr * grad_b
    mo.show_code()
    return W_llmmath, W_numpy, b_numpy, loss, lr, model, target


@app.cell
def _(layer, lr, mo, target, torch, x_batch):
    W_torch = None
    if torch is not None:
        model_torch = torch.nn.Linear(*layer.weight.shape[::-1], dtype=torch.float64)
        model_torch.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
        model_torch.zero_grad()
        loss_torch = ((model_torch(torch.from_numpy(x_batch)) - torch.from_numpy(target)) ** 2).mean()
        loss_torch.backward()
        # torch.optim.SGD(model_torch.parameters(), lr=lr).step() performs exactly this update;
        # building a torch.optim optimiser loads PyTorch's compiler (seconds), so it is spelled out
        with torch.no_grad():
            for _p in model_torch.parameters():
                _p -= lr * _p.grad
        W_torch = model_torch.weight.detach().numpy().copy()
    mo.show_code()
    return (W_torch,)


@app.cell(hide_code=True)
def _(W, W_llmmath, W_numpy, W_torch, kit, loss, lr, mo, np):
    _gaps = [f"llmmath vs NumPy {np.max(np.abs(W_llmmath - W_numpy)):.1e}"]
    if W_torch is not None:
        _gaps.append(f"llmmath vs PyTorch {np.max(np.abs(W_llmmath - W_torch)):.1e}")
    mo.md(f"""
    Loss before the step {kit.fmt(loss.item(), 4)}. With η = {kit.fmt(lr, 2)} the
    weights moved by up to {kit.fmt(np.max(np.abs(W_llmmath - W)), 4)}; the three
    updated weight matrices agree (largest differences: {"; ".join(_gaps)}).
    """)
    return


@app.cell(hide_code=True)
def _(add_shape, kit, libraries):
    _a, _b = (2, 1, 4), (3, 1)
    _shape = add_shape(libraries["NumPy"], _a, _b)
    kit.check_yourself(
        f"What shape does ones({_a}) + ones({_b}) have?",
        f"{_shape}. Aligned from the right: {_a[2]} against {_b[1]} gives {_shape[2]}, "
        f"{_a[1]} against {_b[0]} gives {_shape[1]}, and the {_a[0]} has no partner, so it "
        "stays. Try it with the two menus above.",
    )
    return


@app.cell(hide_code=True)
def _(kit, once, twice):
    kit.check_yourself(
        "A training loop forgets zero_grad(). What happens to the second step's gradient?",
        f"It is the sum of both steps' gradients, since backward() adds into .grad: "
        f"{kit.fmt(twice['llmmath'], 1)} instead of {kit.fmt(once['llmmath'], 1)} in the "
        "example. The updates grow with every step and training goes astray.",
    )
    return


@app.cell(hide_code=True)
def _(d_in, d_out, kit):
    kit.check_yourself(
        f"nn.Linear({d_in}, {d_out}): what shape is its weight, and why is the formula "
        "x Wᵀ + b rather than x W + b?",
        f"({d_out}, {d_in}): one row per output feature, as in PyTorch. Row j holds the "
        f"weights of output j, so output j is the dot product of x with row j, which is "
        f"x Wᵀ. A batch of shape (B, {d_in}) comes out as (B, {d_out}).",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Shapes broadcast from the right: equal lengths or a 1; NumPy, PyTorch
      and `llmmath` share the rule (and refuse the same mismatches).
    - Autograd: `requires_grad`, compute, `backward()`, read `.grad`; it
      computes exact derivatives, where finite differences only approximate.
    - `backward()` accumulates: call `zero_grad()` before each step.
    - `Linear` stores W as (out, in) and computes $xW^\top + b$; the same
      `state_dict` works in `llmmath` and PyTorch.
    - A training step: zero the gradients, forward, backward, `step()`.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("tensors")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("tensors")
    return


@app.cell
def test_broadcasting_rule_by_hand(add_shape, libraries, parse, shape_options):
    def _rule(a, b):
        _n = max(len(a), len(b))
        _a, _b = (1,) * (_n - len(a)) + a, (1,) * (_n - len(b)) + b
        _out = []
        for _x, _y in zip(_a, _b, strict=True):
            if _x != _y and 1 not in (_x, _y):
                return None
            _out.append(max(_x, _y))
        return tuple(_out)

    for _sa in shape_options:
        for _sb in shape_options:
            _expected = _rule(parse(_sa), parse(_sb))
            for _name in ("NumPy", "llmmath"):
                _got = add_shape(libraries[_name], parse(_sa), parse(_sb))
                if _expected is None:
                    assert isinstance(_got, str) and _got, (_name, _sa, _sb)
                else:
                    assert _got == _expected, (_name, _sa, _sb, _got)
    return


@app.cell
def test_derivative_closed_form(grad_numpy, grad_tensor, grad_value, x0):
    # to rounding: the engines may add x + x + 3 in another order than 2 x + 3
    assert abs(grad_value - (2 * x0 + 3)) < 1e-12 and abs(grad_tensor - (2 * x0 + 3)) < 1e-12
    assert abs(grad_numpy - (2 * x0 + 3)) < 1e-7
    return


@app.cell
def test_gradients_accumulate(once, twice):
    # d/dw at w = 2 is 7; exact: small whole numbers throughout
    assert once["llmmath"] == 7.0 and twice["llmmath"] == 14.0
    return


@app.cell
def test_linear_layer_by_loops(W, b, out_llmmath, x_batch):
    for _i in range(x_batch.shape[0]):
        for _j in range(W.shape[0]):
            _z = b[_j] + sum(x_batch[_i, _k] * W[_j, _k] for _k in range(W.shape[1]))
            assert abs(out_llmmath[_i, _j] - max(_z, 0.0)) < 1e-12, (_i, _j)
    return


@app.cell
def test_sgd_step_by_loops(W, W_llmmath, b, b_numpy, lr, model, target, x_batch):
    _B, _m = target.shape
    _n_in = x_batch.shape[1]
    _e = [[b[_j] + sum(x_batch[_i, _k] * W[_j, _k] for _k in range(_n_in)) - target[_i, _j]
           for _j in range(_m)] for _i in range(_B)]
    for _j in range(_m):
        for _k in range(_n_in):
            _g = sum(2.0 * _e[_i][_j] * x_batch[_i, _k] for _i in range(_B)) / (_B * _m)
            assert abs(W_llmmath[_j, _k] - (W[_j, _k] - lr * _g)) < 1e-12, (_j, _k)
        _gb = sum(2.0 * _e[_i][_j] for _i in range(_B)) / (_B * _m)
        assert abs(model.bias.data[_j] - (b[_j] - lr * _gb)) < 1e-12
        assert abs(b_numpy[_j] - (b[_j] - lr * _gb)) < 1e-12
    return


if __name__ == "__main__":
    app.run()
