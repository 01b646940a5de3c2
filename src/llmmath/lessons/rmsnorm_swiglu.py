import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="RMSNorm and SwiGLU")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import calculus
    from llmmath.autograd import Tensor
    from llmmath.autograd import functional as F
    from llmmath.lessons import _kit as kit
    from llmmath.nn import llama_hidden_size

    return F, Tensor, calculus, kit, llama_hidden_size, math, mo, np


@app.cell(hide_code=True)
def _(kit):
    kit.header("rmsnorm_swiglu")
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.md(f"""
    ## Why this matters

    A Llama block differs from a GPT-2 block in two small layers. Its norm
    is **RMSNorm**: LayerNorm without subtracting the mean and without the
    shift β. Its feed-forward layer is **SwiGLU**: instead of one matrix, an
    activation and another matrix, it multiplies two projections of the
    input, one of them passed through the smooth gate SiLU, before the
    output matrix.

    Both are easy to write down; this lesson derives their gradients by
    hand, as the [LayerNorm lesson]({kit.lesson_href("layernorm")}) did, and
    checks each against finite differences, which know nothing of the
    formulas, and against the engine's fused operations.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"r = \sqrt{\frac1d \sum_j x_j^2 + \epsilon},\qquad \hat x_i = \frac{x_i}{r},"
        r"\qquad y_i = w_i\,\hat x_i",
        caption=(
            r"One token with $d$ features. $r$ is the root mean square of the features, "
            r"$w$ a learned gain with one entry per feature, $\epsilon$ a small constant. "
            r"LayerNorm would subtract the mean $\mu$ first and add a learned $\beta$ after."
        ),
    )
    return


@app.cell
def _(mo, np):
    _rng = np.random.default_rng(5)
    d, n_tokens, eps = 8, 3, 1e-5
    X = 1.5 + _rng.normal(size=(n_tokens, d))          # (T, d) tokens with a mean of about 1.5
    w = _rng.normal(loc=1.0, scale=0.3, size=d)        # (d,) gain
    DY = _rng.normal(size=(n_tokens, d))               # (T, d) upstream dL/dy
    mo.show_code()
    return DY, X, d, eps, n_tokens, w


@app.cell
def _(X, calculus, eps, mo):
    rms_out = calculus.rms_norm(X, eps=eps)            # gain 1: only the division
    ln_out = calculus.layer_norm(X, eps=eps)           # gain 1, shift 0
    mo.show_code()
    return ln_out, rms_out


@app.cell(hide_code=True)
def _(kit, ln_out, mo, np, rms_out):
    _rows = np.stack([rms_out.mean(1), np.sqrt((rms_out ** 2).mean(1)),
                      ln_out.mean(1), np.sqrt((ln_out ** 2).mean(1))])
    mo.md(f"""
    After each norm, the mean and the root mean square of every token:

    {kit.matrix_table(_rows, ["RMSNorm: mean", "RMSNorm: rms", "LayerNorm: mean",
                              "LayerNorm: rms"], [f"token {t}" for t in range(_rows.shape[1])],
                      digits=3)}

    Both bring each token to a root mean square of 1 (to within ε). Only
    LayerNorm also moves its mean to 0; RMSNorm keeps the direction of the
    vector, mean included, and only fixes its length: $\\hat x$ lies on the
    sphere of radius $\\sqrt d$. One reduction per token instead of two, and
    no β.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The backward pass: two paths

    With $g = \partial L/\partial y$ and $\hat g = w \odot g$ (the gradient
    with respect to $\hat x$), feature $x_i$ reaches the loss

    1. **directly**, through $\hat x_i = x_i / r$, with slope $1/r$;
    2. **through $r$**, which every $\hat x_j$ is divided by:
       $\partial r/\partial x_i = x_i/(d\,r)$, and the derivative of $1/r$ is
       $-1/r^2$.

    LayerNorm's third path, through the mean, is gone.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\frac{\partial L}{\partial x_i} = \frac1r\Big(\hat g_i - \hat x_i\,"
        r"\frac1d\sum_j \hat g_j\,\hat x_j\Big),\qquad "
        r"\frac{\partial L}{\partial w_j} = \sum_{t} g_{tj}\,\hat x_{tj}",
        caption=(
            r"The bracket removes from $\hat g$ its component along $\hat x$: growing $x$ "
            r"along itself leaves $x/r$ unchanged (when $\epsilon$ is negligible), so that "
            r"direction gets no gradient."
        ),
    )
    return


@app.cell
def _(DY, F, Tensor, X, calculus, eps, mo, np, w):
    # 1. the closed form
    dx, dw = calculus.rms_norm_backward(X, w, DY, eps=eps)

    # 2. finite differences of L(x) = sum(dy * RMSNorm(x)) and of L(w)
    dx_fd = calculus.numerical_gradient(lambda v: np.sum(DY * calculus.rms_norm(v, w, eps)), X)
    dw_fd = calculus.numerical_gradient(lambda v: np.sum(DY * calculus.rms_norm(X, v, eps)), w)

    # 3. the engine's fused node
    _xt, _wt = Tensor(X, requires_grad=True), Tensor(w, requires_grad=True)
    (F.rms_norm(_xt, _wt, eps=eps) * Tensor(DY)).sum().backward()
    dx_ag, dw_ag = _xt.grad, _wt.grad
    mo.show_code()
    return dw, dw_ag, dw_fd, dx, dx_ag, dx_fd


@app.cell(hide_code=True)
def _(X, dw, dw_ag, dw_fd, dx, dx_ag, dx_fd, mo, np):
    mo.md(f"""
    Closed form against finite differences: ∂L/∂x **{np.abs(dx - dx_fd).max():.1e}**,
    ∂L/∂w **{np.abs(dw - dw_fd).max():.1e}**; against the engine
    {np.abs(dx - dx_ag).max():.1e} and {np.abs(dw - dw_ag).max():.1e}. And the
    direction the bracket removes: $x \\cdot \\partial L/\\partial x$ is at most
    {np.abs(np.sum(X * dx, axis=1)).max():.1e} per token, against
    $|x|\\,|\\partial L/\\partial x|$ of about
    {np.mean(np.linalg.norm(X, axis=1) * np.linalg.norm(dx, axis=1)):.2f}.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    shift = mo.ui.slider(-3.0, 3.0, step=0.1, value=1.0, show_value=True,
                         label="c added to every feature", debounce=False)
    mo.vstack([
        mo.md(r"""
        ### Try it: what the mean does

        Add the same number $c$ to every feature of the first token.
        LayerNorm subtracts the mean, so it cannot tell; RMSNorm sees a
        different vector. The gradient check runs again at every $c$.
        """),
        shift,
    ])
    return (shift,)


@app.cell
def _(DY, X, calculus, eps, kit, np, shift, w):
    c = kit.value(shift)
    x_c = X[0] + c                                       # one token, shifted
    rms_c = calculus.rms_norm(x_c, w, eps)
    ln_c = calculus.layer_norm(x_c, w, eps=eps)
    dx_c, _ = calculus.rms_norm_backward(x_c, w, DY[0], eps)
    fd_c = calculus.numerical_gradient(lambda v: np.sum(DY[0] * calculus.rms_norm(v, w, eps)),
                                       x_c)
    return c, dx_c, fd_c, ln_c, rms_c, x_c


@app.cell(hide_code=True)
def _(X, c, calculus, d, dx_c, eps, fd_c, kit, ln_c, mo, np, rms_c, w):
    _fig, (_a, _b) = kit.figure(1, 2, size=(9.0, 3.2), margins={"wspace": 0.7})
    _j = np.arange(d)
    _a.plot(_j, calculus.layer_norm(X[0], w, eps=eps), "o-", color="0.6", lw=2, label="c = 0")
    _a.plot(_j, ln_c, "s--", color="tab:blue", ms=3, label=f"c = {c:g}")
    _a.set_title("LayerNorm")
    _b.plot(_j, calculus.rms_norm(X[0], w, eps), "o-", color="0.6", lw=2, label="c = 0")
    _b.plot(_j, rms_c, "s--", color="tab:red", ms=3, label=f"c = {c:g}")
    _b.set_title("RMSNorm")
    for _ax in (_a, _b):
        _ax.set_xlabel("feature")
        _ax.legend(loc="lower right", fontsize=7)
    _a.set_ylabel("output")
    mo.vstack([
        kit.show(_fig, alt="LayerNorm and RMSNorm outputs of a token before and after "
                           "adding a constant"),
        mo.md(f"""
        At $c = {c:g}$ LayerNorm's output moved by at most
        {np.abs(ln_c - calculus.layer_norm(X[0], w, eps=eps)).max():.1e}, RMSNorm's by
        {kit.fmt(np.abs(rms_c - calculus.rms_norm(X[0], w, eps)).max(), 3)}. Closed form
        against finite differences at this $c$: {np.abs(dx_c - fd_c).max():.1e}.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\mathrm{SiLU}(x) = x\,\sigma(x) = \frac{x}{1 + e^{-x}},\qquad "
        r"\mathrm{SiLU}'(x) = \sigma(x)\big(1 + x\,(1 - \sigma(x))\big)",
        caption=(
            r"$\sigma$ is the logistic sigmoid; the derivative is the product rule with "
            r"$\sigma' = \sigma(1 - \sigma)$."
        ),
    )
    return


@app.cell
def _(calculus, mo, np):
    grid = np.linspace(-5, 5, 201)
    silu_y, silu_dy = calculus.silu(grid), calculus.silu_grad(grid)
    silu_fd = calculus.numerical_gradient(lambda v: calculus.silu(v).sum(), grid)
    gelu_y = calculus.gelu(grid)
    mo.show_code()
    return gelu_y, grid, silu_dy, silu_fd, silu_y


@app.cell(hide_code=True)
def _(gelu_y, grid, kit, mo, np, silu_dy, silu_fd, silu_y):
    _fig, (_a, _b) = kit.figure(1, 2, size=(9.0, 3.2), margins={"wspace": 0.7})
    _a.plot(grid, np.maximum(grid, 0), color="0.6", lw=1, label="ReLU")
    _a.plot(grid, gelu_y, color="tab:green", lw=1, label="GELU")
    _a.plot(grid, silu_y, color="tab:red", lw=1.6, label="SiLU")
    _a.set_title("activations")
    _a.legend(loc="upper left", fontsize=7)
    _b.plot(grid, silu_dy, color="tab:red", lw=1.6, label="SiLU′ (formula)")
    _b.plot(grid[::10], silu_fd[::10], "k.", ms=4, label="finite differences")
    _b.axhline(0, color="0.5", lw=0.8)
    _b.set_title("the slope of SiLU")
    _b.legend(loc="upper left", fontsize=7)
    for _ax in (_a, _b):
        _ax.set_xlabel("x")
    _lo = int(np.argmin(silu_y))
    mo.vstack([
        kit.show(_fig, alt="SiLU beside ReLU and GELU, and SiLU's derivative"),
        mo.md(f"""
        SiLU looks like GELU: smooth, close to ReLU away from 0, with a dip to
        {kit.fmt(silu_y[_lo], 3)} near $x = {kit.fmt(grid[_lo], 2)}$. Its slope goes a
        little above 1 (at most {kit.fmt(silu_dy.max(), 3)}) and a little below 0; the
        formula and finite differences differ by {np.abs(silu_dy - silu_fd).max():.1e}.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"y = W_2\big(\mathrm{SiLU}(W_1 x) \odot W_3 x\big),\qquad "
        r"W_1, W_3 \in \mathbb R^{H \times C},\; W_2 \in \mathbb R^{C \times H}",
        caption=(
            r"$W_3 x$ carries the value, $\mathrm{SiLU}(W_1 x)$ decides how much of each of "
            r"the $H$ hidden units passes, $W_2$ maps back to the model width $C$. "
            r"$\odot$ multiplies entry by entry."
        ),
    )
    return


@app.cell
def _(llama_hidden_size):
    C, multiple = 64, 32
    gpt_mlp = 2 * C * 4 * C                          # C -> 4C -> C, two matrices
    H = llama_hidden_size(C, multiple_of=multiple)   # Meta's rule: 2/3 of 4C, rounded up
    swiglu_params = 3 * C * H                        # three matrices
    return C, H, gpt_mlp, multiple, swiglu_params


@app.cell(hide_code=True)
def _(C, H, gpt_mlp, mo, multiple, swiglu_params):
    mo.md(f"""
    Three matrices instead of two, so Llama shrinks the hidden width from
    $4C$ to about $\\tfrac23 \\cdot 4C$. For $C = {C}$: GPT-2's MLP has
    {gpt_mlp:,} weights; SwiGLU with $H = {H}$ (the rule rounds
    $\\tfrac23 \\cdot {4 * C}$ up to a multiple of {multiple}) has {swiglu_params:,}.

    ## The gradient of SwiGLU

    Name the pieces $a = W_1 x$, $b = W_3 x$, $u = \\mathrm{{SiLU}}(a)$,
    $h = u \\odot b$, $y = W_2 h$. Going back from $g = \\partial L/\\partial y$:
    $\\partial L/\\partial h = W_2^\\top g$; the product rule splits it between
    the two branches, $\\partial L/\\partial b = W_2^\\top g \\odot u$ and
    $\\partial L/\\partial a = W_2^\\top g \\odot b \\odot \\mathrm{{SiLU}}'(a)$;
    the rest is the rule of a linear layer, for each of the three matrices.
    """)
    return


@app.cell
def _(F, Tensor, calculus, mo, np):
    _rng = np.random.default_rng(9)
    xs = _rng.normal(size=(4, 6))                         # (T, C) four tokens, C = 6
    w1, w3 = _rng.normal(size=(10, 6)), _rng.normal(size=(10, 6))    # (H, C), H = 10
    w2 = _rng.normal(size=(6, 10))                        # (C, H)
    gs = _rng.normal(size=(4, 6))                         # (T, C) upstream gradient
    closed = calculus.swiglu_backward(xs, w1, w2, w3, gs)     # dx, dw1, dw2, dw3
    args = [xs, w1, w2, w3]

    def loss_of(i, v):
        """L with argument i replaced by v."""
        a = list(args)
        a[i] = v
        return np.sum(gs * calculus.swiglu(*a))

    numeric = [calculus.numerical_gradient(lambda v, i=i: loss_of(i, v), args[i])
               for i in range(4)]
    _ts = [Tensor(a, requires_grad=True) for a in args]
    (F.swiglu(*_ts) * Tensor(gs)).sum().backward()
    engine = [t.grad for t in _ts]
    mo.show_code()
    return args, closed, engine, gs, numeric, w1, w2, w3, xs


@app.cell(hide_code=True)
def _(closed, engine, kit, mo, np, numeric):
    _errs = np.array([[np.abs(c - n).max() for c, n in zip(closed, numeric, strict=True)],
                      [np.abs(c - e).max() for c, e in zip(closed, engine, strict=True)]])
    mo.md(f"""
    Largest difference per gradient:

    {kit.matrix_table(_errs, ["closed form − finite differences", "closed form − engine"],
                      ["∂L/∂x", "∂L/∂W₁", "∂L/∂W₂", "∂L/∂W₃"], digits=12)}

    Finite differences agree to within their own error (their step is
    $10^{{-6}}$, so they carry errors of about the square of it); the engine's
    fused node runs the same closed form, so it agrees to rounding.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "Add the same number to every entry of the upstream gradient of an RMSNorm token. "
        "Does ∂L/∂x stay the same, as it does for LayerNorm?",
        "No. LayerNorm's mean term cancels a constant shift of g; RMSNorm has no mean term. "
        "What RMSNorm's gradient ignores instead is the component of g along x̂ itself.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "Where does SwiGLU's gradient for W₃ come from, and why does it vanish where the "
        "gate is closed?",
        "∂L/∂W₃ = (∂L/∂b)ᵀ x with ∂L/∂b = W₂ᵀg ⊙ SiLU(W₁x). Where SiLU(W₁x) is near 0 (a very "
        "negative gate input) the value branch passes nothing forward, and gets almost "
        "nothing back.",
    )
    return


@app.cell(hide_code=True)
def _(C, H, gpt_mlp, kit, swiglu_params):
    kit.check_yourself(
        f"With C = {C} and H = {H}, which costs more arithmetic per token: GPT-2's MLP or "
        "SwiGLU?",
        f"About the same: each weight is one multiply-add per token, {gpt_mlp:,} for GPT-2 "
        f"and {swiglu_params:,} for SwiGLU, plus a cheap elementwise product and the gate.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - RMSNorm divides each token by its root mean square and applies a
      gain; no mean, no shift.
    - Its gradient has two terms, $\frac1r(\hat g - \hat x\,\overline{\hat g
      \hat x})$: the direct path and the path through $r$; it is orthogonal
      to $x$.
    - SiLU is $x\,\sigma(x)$, with slope $\sigma(x)(1 + x(1 - \sigma(x)))$.
    - SwiGLU multiplies a gated and a plain projection; its backward splits
      the gradient between them by the product rule.
    - Every one of these gradients matches finite differences, which need
      no formula at all.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("rmsnorm_swiglu")
    return


@app.cell
def test_rms_forward_by_loops(X, calculus, d, eps, math, w):
    _y = calculus.rms_norm(X, w, eps)
    for _t in range(X.shape[0]):
        _r = math.sqrt(sum(X[_t, _j] ** 2 for _j in range(d)) / d + eps)
        for _j in range(d):
            assert abs(_y[_t, _j] - w[_j] * X[_t, _j] / _r) < 1e-12
    return


@app.cell
def test_rms_backward_two_terms_by_loops(DY, X, d, dw, dx, dx_ag, dx_fd, eps, math, w):
    for _t in range(X.shape[0]):
        _r = math.sqrt(sum(X[_t, _j] ** 2 for _j in range(d)) / d + eps)
        _xh = [X[_t, _j] / _r for _j in range(d)]
        _gh = [w[_j] * DY[_t, _j] for _j in range(d)]
        _proj = sum(_gh[_j] * _xh[_j] for _j in range(d)) / d
        for _i in range(d):
            _want = (_gh[_i] - _xh[_i] * _proj) / _r
            assert abs(dx[_t, _i] - _want) < 1e-12
            assert abs(dx_ag[_t, _i] - _want) < 1e-12
            assert abs(dx_fd[_t, _i] - _want) < 1e-6
    for _j in range(d):
        _want = sum(DY[_t, _j] * X[_t, _j] / math.sqrt(sum(X[_t, _k] ** 2 for _k in range(d))
                                                        / d + eps) for _t in range(X.shape[0]))
        assert abs(dw[_j] - _want) < 1e-12
    return


@app.cell
def test_layer_norm_ignores_the_shift(X, dx_c, eps, fd_c, ln_c, math, np, w):
    # holds for every value of the slider
    _x = list(X[0])
    _mu = sum(_x) / len(_x)
    _s = math.sqrt(sum((_v - _mu) ** 2 for _v in _x) / len(_x) + eps)
    for _j, _v in enumerate(_x):
        assert abs(ln_c[_j] - w[_j] * (_v - _mu) / _s) < 1e-9
    assert np.abs(dx_c - fd_c).max() < 1e-6
    return


@app.cell
def test_silu_slope_by_hand(grid, math, silu_dy, silu_y):
    for _i in range(0, len(grid), 20):
        _x = float(grid[_i])
        _s = 1.0 / (1.0 + math.exp(-_x))
        assert abs(silu_y[_i] - _x * _s) < 1e-14
        assert abs(silu_dy[_i] - (_s + _x * _s * (1.0 - _s))) < 1e-14
    return


@app.cell
def test_swiglu_forward_by_loops(calculus, math, w1, w2, w3, xs):
    _y = calculus.swiglu(xs, w1, w2, w3)
    _H, _C = w1.shape
    for _t in range(xs.shape[0]):
        _h = []
        for _k in range(_H):
            _a = sum(w1[_k, _j] * xs[_t, _j] for _j in range(_C))
            _b = sum(w3[_k, _j] * xs[_t, _j] for _j in range(_C))
            _h.append(_a / (1.0 + math.exp(-_a)) * _b)
        for _o in range(w2.shape[0]):
            assert abs(_y[_t, _o] - sum(w2[_o, _k] * _h[_k] for _k in range(_H))) < 1e-10
    return


@app.cell
def test_swiglu_gradients_by_central_differences(args, calculus, closed, gs, np):
    # a few entries of each gradient, by explicit central differences of the forward pass
    _h = 1e-6
    for _i, _grad in enumerate(closed):
        for _idx in [(0, 0), (1, 2), (3, 5)]:
            _plus, _minus = [a.copy() for a in args], [a.copy() for a in args]
            _plus[_i][_idx] += _h
            _minus[_i][_idx] -= _h
            _num = (np.sum(gs * calculus.swiglu(*_plus))
                    - np.sum(gs * calculus.swiglu(*_minus))) / (2 * _h)
            assert abs(_grad[_idx] - _num) < 1e-6 * max(1.0, abs(_num)), (_i, _idx)
    return


@app.cell
def test_parameter_counts(C, H, gpt_mlp, multiple, swiglu_params):
    assert gpt_mlp == 8 * C * C
    assert H % multiple == 0 and H - multiple < 2 * 4 * C / 3 <= H
    assert swiglu_params == 3 * C * H
    return


if __name__ == "__main__":
    app.run()
