import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Backpropagation")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import calculus
    from llmmath.autograd import Tensor
    from llmmath.lessons import _kit as kit

    return Tensor, calculus, kit, math, mo, np


@app.cell(hide_code=True)
def _(kit):
    kit.header("backprop")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    A network is a chain of layers, and the loss sits at the end of the
    chain. Training needs the derivative of that one loss with respect to
    every weight in every layer. **Backpropagation** gets all of them in a
    single sweep from the loss back to the inputs: it applies the chain rule
    in reverse, and at each layer reuses the gradient it has just computed
    for the layer above. The sweep costs about as much as running the
    network forward once or twice, whether the network has a dozen weights
    or a hundred billion. That is the reason large models can be trained at
    all.

    Below, a two-layer network on four examples is differentiated three
    ways: by hand with NumPy, by the autograd engine `llmmath.autograd.Tensor`,
    and by finite differences. All three agree; only the last is slow.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"z = XW_1 + b_1,\quad h = \tanh z,\quad \hat y = hW_2 + b_2,\quad "
        r"L = \frac{1}{N}\sum_{n}(\hat y_n - y_n)^2",
        caption=(
            r"$X$ holds $N$ examples as rows ($N \times d$), $W_1$ is $d \times H$ and $b_1$ "
            r"has $H$ entries: the first layer. $\tanh$ acts on every entry. $W_2$ is "
            r"$H \times 1$ and $b_2$ one number: the second layer, which predicts $\hat y$. "
            r"The loss $L$ is the mean squared error against the targets $y$."
        ),
    )
    return


@app.cell
def _(mo, np):
    X = np.array([[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.2, 0.1]])  # (N, d) four examples
    y = np.array([[1.0], [0.5], [-0.5], [0.2]])                        # (N, 1) targets
    _rng = np.random.default_rng(0)
    W1 = _rng.normal(scale=0.8, size=(2, 3)).round(2)                  # (d, H)
    b1 = np.array([0.1, -0.2, 0.0])                                    # (H,)
    W2 = _rng.normal(scale=0.8, size=(3, 1)).round(2)                  # (H, 1)
    b2 = np.array([0.05])                                              # (1,)
    N = X.shape[0]
    mo.show_code()
    return N, W1, W2, X, b1, b2, y


@app.cell(hide_code=True)
def _(W1, W2, X, b1, b2, kit, mo, np, y):
    _H = W1.shape[1]
    _units = [f"unit {j}" for j in range(_H)]
    _ex = [f"x{n}" for n in range(X.shape[0])]
    mo.vstack([
        mo.md(f"""
        {X.shape[0]} examples with {X.shape[1]} features, {_H} hidden units, one output:
        {W1.size + b1.size + W2.size + b2.size} parameters in all. The weights are
        seeded random numbers rounded to two decimals, so that you can follow them.
        """),
        mo.hstack([
            mo.md(f"**X** and **y** {kit.matrix_table(np.hstack([X, y]), _ex, ['feature 0', 'feature 1', 'target y'], digits=2)}"),
            mo.md(f"**W₁** (b₁ last row) {kit.matrix_table(np.vstack([W1, b1]), ['feature 0', 'feature 1', 'b₁'], _units, digits=2)}"),
            mo.md(f"**W₂** (b₂ last row) {kit.matrix_table(np.vstack([W2, b2]), _units + ['b₂'], ['output'], digits=2)}"),
        ], justify="start", gap=2),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The forward pass

    Each line computes one node of the graph and keeps it: the backward pass
    will need $h$ and $\hat y$ again.
    """)
    return


@app.cell
def _(N, W1, W2, X, b1, b2, mo, np, y):
    z = X @ W1 + b1            # (N, H)  pre-activations
    h = np.tanh(z)             # (N, H)  hidden activations
    y_hat = h @ W2 + b2        # (N, 1)  predictions
    r = y_hat - y              # (N, 1)  residuals
    L = float(np.sum(r * r) / N)
    mo.show_code()
    return L, h, r, y_hat, z


@app.cell(hide_code=True)
def _(L, X, h, kit, mo, np, y, y_hat, z):
    _ex = [f"x{n}" for n in range(X.shape[0])]
    _H = h.shape[1]
    _cols = [f"z{j}" for j in range(_H)] + [f"h{j}" for j in range(_H)] + ["ŷ", "y"]
    mo.md(f"""
    {kit.matrix_table(np.hstack([z, h, y_hat, y]), _ex, _cols, digits=3)}

    The loss is the mean of the squared residuals: **L = {kit.fmt(L, 5)}**.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The backward pass, by hand

    Start at the loss and walk back one node at a time. Each step multiplies
    the gradient that has arrived from above by the **local** derivative of
    one node, which needs only that node's inputs and output:

    1. $L = \frac1N\sum r_n^2$, so $\partial L/\partial \hat y_n = 2r_n/N$.
    2. $\hat y = hW_2 + b_2$ is linear: $\partial L/\partial W_2 = h^\top\,\partial L/\partial\hat y$,
       $\partial L/\partial b_2$ is the column sum, and the gradient passed down is
       $\partial L/\partial h = (\partial L/\partial\hat y)\,W_2^\top$.
    3. $h = \tanh z$ acts entry by entry with slope $1 - h^2$:
       $\partial L/\partial z = \partial L/\partial h \odot (1 - h^2)$.
    4. $z = XW_1 + b_1$, the same rule as step 2: $\partial L/\partial W_1 = X^\top\,\partial L/\partial z$.

    Nothing is computed twice: step 3 reuses the result of step 2, step 4
    the result of step 3.
    """)
    return


@app.cell
def _(N, W2, X, h, mo, r):
    g_yhat = 2 * r / N                 # (N, 1)  dL/dy_hat
    g_W2 = h.T @ g_yhat                # (H, 1)  dL/dW2
    g_b2 = g_yhat.sum(axis=0)          # (1,)    dL/db2
    g_h = g_yhat @ W2.T                # (N, H)  dL/dh
    g_z = g_h * (1 - h * h)            # (N, H)  dL/dz, tanh' = 1 - tanh^2
    g_W1 = X.T @ g_z                   # (d, H)  dL/dW1
    g_b1 = g_z.sum(axis=0)             # (H,)    dL/db1
    mo.show_code()
    return g_W1, g_W2, g_b1, g_b2, g_h, g_yhat, g_z


@app.cell(hide_code=True)
def _(W1, X, g_W1, g_W2, g_b1, g_b2, g_h, g_yhat, g_z, kit, mo, np):
    _H = W1.shape[1]
    _cols = ["∂L/∂ŷ"] + [f"∂L/∂h{j}" for j in range(_H)] + [f"∂L/∂z{j}" for j in range(_H)]
    _units = [f"unit {j}" for j in range(_H)]
    mo.vstack([
        mo.md("The gradient flowing back through each node, example by example (read the "
              "columns from left to right: that is the order in which they were computed):"),
        mo.md(kit.matrix_table(np.hstack([g_yhat, g_h, g_z]),
                               [f"x{n}" for n in range(X.shape[0])], _cols, digits=4)),
        mo.hstack([
            mo.md(f"**∂L/∂W₁** (∂L/∂b₁ last row) "
                  f"{kit.matrix_table(np.vstack([g_W1, g_b1]), ['feature 0', 'feature 1', 'b₁'], _units, digits=4)}"),
            mo.md(f"**∂L/∂W₂** (∂L/∂b₂ last row) "
                  f"{kit.matrix_table(np.vstack([g_W2, g_b2]), _units + ['b₂'], ['output'], digits=4)}"),
        ], justify="start", gap=2),
    ])
    return


@app.cell(hide_code=True)
def _(W2, X, g_W1, g_yhat, h, kit, mo, np):
    _terms = g_yhat[:, 0] * W2[0, 0] * (1 - h[:, 0] ** 2) * X[:, 0]
    _table = np.stack([g_yhat[:, 0], np.full(X.shape[0], W2[0, 0]), 1 - h[:, 0] ** 2,
                       X[:, 0], _terms], axis=1)
    mo.md(f"""
    ### One weight, one product per example

    Take $W_1[0, 0]$, which connects feature 0 to hidden unit 0. For each example the
    chain from the loss down to that weight is a product of four local derivatives,
    $\\partial L/\\partial \\hat y_n \\cdot W_2[0] \\cdot (1 - h_{{n0}}^2) \\cdot X_{{n0}}$,
    and the weight collects one such term from every example it touched:

    {kit.matrix_table(_table, [f"x{n}" for n in range(X.shape[0])], ["∂L/∂ŷₙ", "W₂[0]", "1 − hₙ₀²", "Xₙ₀", "product"], digits=4)}

    The products sum to **{kit.fmt(_terms.sum(), 6)}**, the entry $[0, 0]$ of `g_W1`
    above ({kit.fmt(g_W1[0, 0], 6)}).
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-chain-rule-backprop")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The same gradients from autograd

    `Tensor` records the forward pass as a graph while it computes it, each
    operation with its backward rule beside it. `loss.backward()` visits the
    graph in reverse order and does exactly what we did by hand.
    """)
    return


@app.cell
def _(N, Tensor, W1, W2, X, b1, b2, mo, y):
    params = {name: Tensor(value, requires_grad=True)
              for name, value in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2))}
    _pred = (Tensor(X) @ params["W1"] + params["b1"]).tanh() @ params["W2"] + params["b2"]
    _res = _pred - Tensor(y)
    loss_t = (_res * _res).sum() / N
    loss_t.backward()
    autograd_grads = {name: p.grad for name, p in params.items()}
    mo.show_code()
    return autograd_grads, loss_t


@app.cell(hide_code=True)
def _(W1, W2, b1, b2, mo):
    mo.md(f"""
    ## And from finite differences

    Finite differences ignore the graph: nudge one parameter up and down by a
    tiny step, run the whole network forward both times, and divide. We pack
    the {W1.size + b1.size + W2.size + b2.size} parameters into one vector, count
    how many forward passes that takes, and unpack the result.
    """)
    return


@app.cell
def _(N, W1, W2, X, b1, b2, calculus, mo, np, y):
    shapes = [W1.shape, b1.shape, W2.shape, b2.shape]
    sizes = [int(np.prod(s)) for s in shapes]
    theta = np.concatenate([W1.ravel(), b1, W2.ravel(), b2])  # (P,) all parameters
    forward_calls = []

    def loss_of(vec):
        forward_calls.append(1)  # count the forward passes
        w1, c1, w2, c2 = (part.reshape(s) for part, s in
                          zip(np.split(vec, np.cumsum(sizes)[:-1]), shapes, strict=True))
        res = np.tanh(X @ w1 + c1) @ w2 + c2 - y
        return np.sum(res * res) / N

    fd_flat = calculus.numerical_gradient(loss_of, theta)  # central differences
    n_forward_fd = len(forward_calls)
    fd_grads = dict(zip(["W1", "b1", "W2", "b2"],
                        (part.reshape(s) for part, s in
                         zip(np.split(fd_flat, np.cumsum(sizes)[:-1]), shapes, strict=True)),
                        strict=True))
    mo.show_code()
    return fd_grads, n_forward_fd, theta


@app.cell(hide_code=True)
def _(L, autograd_grads, fd_grads, g_W1, g_W2, g_b1, g_b2, kit, loss_t, mo, n_forward_fd, np, theta):
    by_hand = {"W1": g_W1, "b1": g_b1, "W2": g_W2, "b2": g_b2}
    _rows = []
    for _name, _g in by_hand.items():
        _rows.append([np.abs(_g - autograd_grads[_name]).max(),
                      np.abs(_g - fd_grads[_name]).max(),
                      np.abs(_g).max()])
    _table = "<table><thead><tr><th>parameter</th><th>largest |gradient|</th>" \
        "<th>hand − autograd</th><th>hand − finite diff.</th></tr></thead><tbody>" + "".join(
            f"<tr><th>{_n}</th><td>{kit.fmt(_r[2], 4)}</td><td>{_r[0]:.1e}</td>"
            f"<td>{_r[1]:.1e}</td></tr>" for _n, _r in zip(by_hand, _rows, strict=True)) \
        + "</tbody></table>"
    mo.md(f"""
    Autograd's loss is {kit.fmt(loss_t.item(), 6)} (by hand: {kit.fmt(L, 6)}). The largest
    gap between the three gradients, parameter block by parameter block:

    {_table}

    The hand-written and autograd gradients agree to rounding; finite differences
    agree to about the size of their truncation and rounding error. But they needed
    **{n_forward_fd} forward passes** for {theta.size} parameters (two per parameter),
    where backpropagation needed one forward and one backward pass.
    """)
    return (by_hand,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why one backward pass is enough

    Count the multiplications. The forward pass of our network costs two
    matrix products. The backward pass costs three, because each layer needs
    a gradient for its weights and, except the first, one for its input; a
    matrix product's two gradients each cost as much as the product itself.
    Finite differences (or forward-mode differentiation, which carries one
    input direction at a time) repeat a whole forward pass for every
    parameter. The counts below come from the matrix shapes.
    """)
    return


@app.cell
def _(X, mo, np):
    def multiply_counts(n, d, hidden, out=1):
        """Multiplications of the matrix products (elementwise ops are of lower order)."""
        forward = n * d * hidden + n * hidden * out              # X W1, h W2
        backward = hidden * n * out + n * out * hidden + d * n * hidden  # dW2, dh, dW1
        n_params = d * hidden + hidden + hidden * out + out
        return forward, backward, n_params

    fwd_mults, bwd_mults, n_params = multiply_counts(X.shape[0], X.shape[1], 3)
    widths = np.array([2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
    cost_reverse, cost_fd = [], []
    for _w in widths:
        _f, _b, _p = multiply_counts(X.shape[0], X.shape[1], int(_w))
        cost_reverse.append(_f + _b)     # one forward + one backward
        cost_fd.append(2 * _p * _f)      # two forward passes per parameter
    mo.show_code()
    return bwd_mults, cost_fd, cost_reverse, fwd_mults, n_params, widths


@app.cell(hide_code=True)
def _(bwd_mults, cost_fd, cost_reverse, fwd_mults, kit, mo, n_params, widths):
    _fig, _ax = kit.figure(size=(5.6, 3.4))
    _ax.loglog(widths, cost_fd, "o-", label="finite differences: 2 forward passes per parameter")
    _ax.loglog(widths, cost_reverse, "s-", label="backpropagation: 1 forward + 1 backward")
    _ax.set_xlabel("hidden units H")
    _ax.minorticks_off()
    _ax.set_ylabel("multiplications per gradient")
    _ax.set_title("cost of one full gradient")
    _ax.legend(loc="upper left", fontsize=8)
    mo.vstack([
        kit.show(_fig, alt="multiplications per gradient against the width, log scales"),
        mo.md(f"""
        For our network the forward pass takes {fwd_mults} multiplications and the backward
        pass {bwd_mults}, so one full gradient by backpropagation costs {fwd_mults + bwd_mults}.
        Finite differences cost $2 \\times {n_params} \\times {fwd_mults} =
        {2 * n_params * fwd_mults}$. As the network widens, the parameter count grows with
        it, and so does the gap: at $H = {widths[-1]}$ finite differences cost
        {kit.fmt(cost_fd[-1] / cost_reverse[-1], 0)} times as much. For a model with
        billions of parameters, reverse mode is the only option.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(gd_hidden, gd_points, gd_steps, mo):
    mo.md(f"""
    ## Gradient descent on a toy regression

    With gradients in hand, training is a loop: forward, backward, and a
    step against the gradient, $\\theta \\leftarrow \\theta - \\eta\\,\\nabla_\\theta L$.
    Here a network with one input, {gd_hidden} tanh units and one output learns
    $y = \\sin x$ from {gd_points} points in {gd_steps} full-batch steps, with the
    same kind of network as above and `Tensor` doing the backward pass. The runs for
    every learning rate η on the slider are computed once, when the page opens; the
    slider picks one.
    """)
    return


@app.cell
def _(Tensor, np):
    gd_steps, gd_hidden, gd_points = 200, 8, 24

    def train(lr, steps=gd_steps, hidden=gd_hidden, seed=0):
        """Full-batch gradient descent on y = sin x; returns the loss curve and the fit."""
        rng = np.random.default_rng(seed)
        xs = np.linspace(-3, 3, gd_points)[:, None]                  # (P, 1)
        ys = np.sin(xs)                                               # (P, 1)
        w1 = Tensor(rng.normal(size=(1, hidden)), requires_grad=True)
        c1 = Tensor(np.zeros(hidden), requires_grad=True)
        w2 = Tensor(rng.normal(size=(hidden, 1)) / np.sqrt(hidden), requires_grad=True)
        c2 = Tensor(np.zeros(1), requires_grad=True)
        losses = []
        for _ in range(steps):
            pred = (Tensor(xs) @ w1 + c1).tanh() @ w2 + c2          # forward
            res = pred - Tensor(ys)
            loss = (res * res).mean()
            losses.append(loss.item())
            if not np.isfinite(losses[-1]) or losses[-1] > 1e6:
                break                                                 # diverged: stop
            for p in (w1, c1, w2, c2):
                p.zero_grad()
            loss.backward()                                           # backward
            for p in (w1, c1, w2, c2):
                p.data -= lr * p.grad                                 # the update
        grid = np.linspace(-3.5, 3.5, 141)[:, None]
        fit = np.tanh(grid @ w1.data + c1.data) @ w2.data + c2.data
        return np.array(losses), xs, ys, grid, fit

    return gd_hidden, gd_points, gd_steps, train


@app.cell
def _(mo, train):
    learning_rates = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 2.0]
    default_lr = 0.1
    runs = {lr: train(lr) for lr in learning_rates}  # computed once, not on every slide
    mo.show_code()
    return default_lr, learning_rates, runs


@app.cell(hide_code=True)
def _(default_lr, learning_rates, mo):
    lr_choice = mo.ui.slider(steps=learning_rates, value=default_lr, show_value=True,
                             label="learning rate η", debounce=False)
    lr_choice
    return (lr_choice,)


@app.cell(hide_code=True)
def _(gd_steps, kit, lr_choice, mo, runs):
    _lr = kit.value(lr_choice)
    _losses, _xs, _ys, _grid, _fit = runs[_lr]
    _fig, (_ax, _fx) = kit.figure(1, 2, size=(9.0, 3.3))
    for _other, (_l, *_rest) in runs.items():
        if _other != _lr:
            _ax.semilogy(_l, color="0.8", lw=1)
    _ax.semilogy(_losses, color="tab:blue", lw=2, label=f"η = {_lr}")
    _ax.set_xlabel("step")
    _ax.minorticks_off()
    _ax.set_ylabel("mean squared error")
    _ax.set_title("loss curve (grey: the other η)")
    _ax.legend(loc="upper right")
    _fx.plot(_xs[:, 0], _ys[:, 0], "o", color="0.2", ms=4, label="data: sin x")
    _fx.plot(_grid[:, 0], _fit[:, 0], color="tab:blue", label="network after training")
    _fx.set_ylim(-2, 2)
    _fx.set_xlabel("x")
    _fx.set_title("the fit")
    _fx.legend(loc="upper left", fontsize=8)
    _diverged = len(_losses) < gd_steps
    _verdict = (
        f"the loss blew up after {len(_losses)} steps: each step overshoots the valley "
        f"further than the last" if _diverged else
        f"after {len(_losses)} steps the loss went from {kit.fmt(_losses[0], 4)} to "
        f"{kit.fmt(_losses[-1], 4)}"
    )
    mo.vstack([
        kit.show(_fig, alt="loss against step on a log scale, and the fitted curve"),
        mo.md(f"""
        With η = {_lr}, {_verdict}. Too small a rate crawls; too large a rate jumps over
        the minimum and can diverge. In between, the same gradients make fast progress.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("000-gradient-descent-loop")
    return


@app.cell(hide_code=True)
def _(g_b1, kit, n_forward_fd):
    kit.check_yourself(
        "The weights $W_1$ get `g_W1` $= X^\\top\\,\\partial L/\\partial z$. How do you get "
        "the gradient of the bias $b_1$ from the same formula?",
        f"A bias is a weight whose input is always 1: replace $X$ by a column of ones, and "
        f"$X^\\top\\,\\partial L/\\partial z$ becomes the column sum of "
        f"$\\partial L/\\partial z$, which is what `g_b1` computes: "
        f"({', '.join(kit.fmt(v, 4) for v in g_b1)}). Both reuse the same "
        f"$\\partial L/\\partial z$, computed once; finite differences had to rediscover "
        f"every entry separately, with {n_forward_fd} forward passes in all.",
    )
    return


@app.cell(hide_code=True)
def _(h, kit, np):
    _sat = float(np.abs(h).max())
    kit.check_yourself(
        "A hidden unit whose $|h|$ is close to 1 for every example passes almost no gradient "
        "to the weights below it. Why?",
        f"Its local derivative is $1 - h^2$, near 0 when $|h|$ is near 1 (tanh is flat "
        f"there), and every path through the unit is multiplied by it. In our network the "
        f"largest $|h|$ is {kit.fmt(_sat, 3)}, giving a slope of "
        f"{kit.fmt(1 - _sat**2, 3)}. [The lesson on activations]"
        f"({kit.lesson_href('activations')}) follows this effect through many layers.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    _p = 10**9
    kit.check_yourself(
        f"A model has {_p:,} parameters and one forward pass takes one second. Roughly how "
        f"long does one gradient take by central differences, and by backpropagation?",
        f"Central differences need two forward passes per parameter: {2 * _p:,} seconds, "
        f"about {2 * _p / 3.156e7:.0f} years. Backpropagation needs one forward pass and one "
        f"backward pass costing about twice as much: about three seconds. (The activations of "
        f"the forward pass must be kept for the backward pass: reverse mode trades memory "
        f"for time.)",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Backpropagation is the chain rule run from the loss towards the inputs;
      every layer turns "gradient of its output" into "gradient of its
      weights" and "gradient of its input".
    - For a linear layer $Y = XW$: $\partial L/\partial W = X^\top\,\partial L/\partial Y$
      and $\partial L/\partial X = \partial L/\partial Y\,W^\top$. For an
      activation: multiply entry by entry by its slope.
    - One backward pass gives the gradient of all parameters for about the
      price of two forward passes; finite differences pay two forward passes
      **per parameter**, and are for checking, not training.
    - Training repeats forward, backward, $\theta \leftarrow \theta - \eta\nabla L$;
      the learning rate decides between crawling, converging and diverging.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("backprop")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("backprop")
    return


@app.cell
def test_forward_by_loops(L, W1, W2, X, b1, b2, math, y, y_hat):
    _total = 0.0
    for _n in range(X.shape[0]):
        _hid = [math.tanh(sum(X[_n, _i] * W1[_i, _j] for _i in range(X.shape[1])) + b1[_j])
                for _j in range(W1.shape[1])]
        _out = sum(_hid[_j] * W2[_j, 0] for _j in range(W1.shape[1])) + b2[0]
        assert abs(_out - y_hat[_n, 0]) < 1e-12
        _total += (_out - y[_n, 0]) ** 2
    assert abs(L - _total / X.shape[0]) < 1e-12
    return


@app.cell
def test_gradients_by_scalar_chain_rule(W1, W2, X, autograd_grads, b1, by_hand, math, y, y_hat):
    # dL/dW1[i, j] = sum_n 2 r_n / N * W2[j] * (1 - h_nj^2) * X[n, i], written as loops
    _N, _d, _H = X.shape[0], X.shape[1], W1.shape[1]
    _gW1 = [[0.0] * _H for _ in range(_d)]
    _gb1 = [0.0] * _H
    _gW2 = [0.0] * _H
    _gb2 = 0.0
    for _n in range(_N):
        _r = y_hat[_n, 0] - y[_n, 0]
        _gb2 += 2 * _r / _N
        for _j in range(_H):
            _hid = math.tanh(sum(X[_n, _i] * W1[_i, _j] for _i in range(_d)) + b1[_j])
            _gW2[_j] += 2 * _r / _N * _hid
            _dz = 2 * _r / _N * W2[_j, 0] * (1 - _hid * _hid)
            _gb1[_j] += _dz
            for _i in range(_d):
                _gW1[_i][_j] += _dz * X[_n, _i]
    for _grads in (by_hand, autograd_grads):
        for _i in range(_d):
            for _j in range(_H):
                assert abs(_grads["W1"][_i, _j] - _gW1[_i][_j]) < 1e-12
        for _j in range(_H):
            assert abs(_grads["b1"][_j] - _gb1[_j]) < 1e-12
            assert abs(_grads["W2"][_j, 0] - _gW2[_j]) < 1e-12
        assert abs(_grads["b2"][0] - _gb2) < 1e-12
    return


@app.cell
def test_finite_differences_agree_and_cost_two_passes_each(by_hand, fd_grads, n_forward_fd, theta):
    assert n_forward_fd == 2 * theta.size
    for _name, _g in by_hand.items():
        assert abs(_g - fd_grads[_name]).max() < 1e-8, _name
    return


@app.cell
def test_multiply_counts_by_brute_force(N, W1, bwd_mults, fwd_mults, n_params):
    _d, _H = W1.shape
    # a matrix product (a x b) @ (b x c) takes a*b*c multiplications
    _products_fwd = [(N, _d, _H), (N, _H, 1)]                     # X W1, h W2
    _products_bwd = [(_H, N, 1), (N, 1, _H), (_d, N, _H)]          # h^T g, g W2^T, X^T g_z
    assert fwd_mults == sum(_a * _b * _c for _a, _b, _c in _products_fwd)
    assert bwd_mults == sum(_a * _b * _c for _a, _b, _c in _products_bwd)
    assert n_params == _d * _H + _H + _H + 1
    return


@app.cell
def test_default_run_descends(default_lr, gd_hidden, gd_steps, math, np, runs):
    _losses, _xs, _ys, _grid, _fit = runs[default_lr]
    assert len(_losses) == gd_steps and _losses[-1] < 0.1 * _losses[0]
    # the first loss: the untrained network, recomputed with explicit loops
    _rng = np.random.default_rng(0)  # the same seeded draws as train()
    _w1 = _rng.normal(size=(1, gd_hidden))
    _w2 = _rng.normal(size=(gd_hidden, 1)) / math.sqrt(gd_hidden)
    _total = 0.0
    for _x, _y in zip(_xs[:, 0], _ys[:, 0], strict=True):
        _p = sum(math.tanh(_x * _w1[0, _j]) * _w2[_j, 0] for _j in range(gd_hidden))
        _total += (_p - math.sin(_x)) ** 2
    assert abs(_losses[0] - _total / len(_xs)) < 1e-12
    return


if __name__ == "__main__":
    app.run()
