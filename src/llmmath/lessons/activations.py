import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="ReLU, sigmoid and vanishing gradients")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import calculus, prob
    from llmmath.autograd import Tensor
    from llmmath.lessons import _kit as kit

    return Tensor, calculus, kit, math, mo, np, prob


@app.cell(hide_code=True)
def _(kit):
    kit.header("activations")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Between its matrix products, a network applies a simple nonlinear
    function to every number: the **activation**. Without it, a stack of
    layers would collapse into a single matrix product. The backward pass
    multiplies the gradient by the activation's **slope** at every layer it
    crosses, so the slope decides what survives a deep network. A slope that
    is mostly below 1 shrinks the gradient layer after layer until the early
    layers stop learning: the **vanishing gradient** problem that held back
    deep networks for years, and the reason ReLU and its smooth cousins
    replaced the sigmoid.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\begin{aligned}"
        r"\operatorname{ReLU}(x) &= \max(0, x), & \operatorname{ReLU}'(x) &= [x > 0]\\"
        r"\sigma(x) &= \frac{1}{1 + e^{-x}}, & \sigma'(x) &= \sigma(x)\,(1 - \sigma(x))\\"
        r"\tanh(x) &= \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}, & \tanh'(x) &= 1 - \tanh^2(x)\\"
        r"\operatorname{GELU}(x) &= x\,\Phi(x), & \operatorname{GELU}'(x) &= \Phi(x) + x\,\varphi(x)"
        r"\end{aligned}",
        caption=(
            r"$[x > 0]$ is 1 when $x > 0$ and 0 otherwise (at exactly 0 the derivative does "
            r"not exist; 0 is the usual convention). $\Phi$ and $\varphi$ are the standard "
            r"normal CDF and density. GPT-2 and most current transformers use GELU."
        ),
    )
    return


@app.cell
def _(calculus, np, prob):
    xs = np.linspace(-5, 5, 401)
    activations = {  # name: (function values, slopes) on the grid
        "ReLU": (np.maximum(xs, 0.0), calculus.relu_grad(xs)),
        "sigmoid": (prob.sigmoid(xs), calculus.sigmoid_grad(xs)),
        "tanh": (np.tanh(xs), calculus.tanh_grad(xs)),
        "GELU": (calculus.gelu(xs), calculus.gelu_grad(xs)),
    }
    return activations, xs


@app.cell(hide_code=True)
def _(mo):
    x_probe = mo.ui.slider(start=-5.0, stop=5.0, step=0.1, value=1.0, show_value=True,
                           label="x", debounce=False)
    mo.vstack([
        mo.md(r"""
        ## The four functions and their slopes

        Move $x$ to read each function's value and slope there. The slopes
        come from `llmmath.calculus` (`relu_grad`, `sigmoid_grad`,
        `tanh_grad`, `gelu_grad`); the last column checks each one against a
        central difference of the function itself.
        """),
        x_probe,
    ])
    return (x_probe,)


@app.cell
def _(calculus, kit, np, prob, x_probe):
    at = np.array([kit.value(x_probe)])
    functions = {"ReLU": lambda t: np.maximum(t, 0.0), "sigmoid": prob.sigmoid,
                 "tanh": np.tanh, "GELU": calculus.gelu}
    slopes = {"ReLU": calculus.relu_grad, "sigmoid": calculus.sigmoid_grad,
              "tanh": calculus.tanh_grad, "GELU": calculus.gelu_grad}
    probe = {name: (float(functions[name](at)[0]), float(slopes[name](at)[0]),
                    float(calculus.difference_quotient(functions[name], at, 1e-6,
                                                       scheme="central")[0]))
             for name in functions}
    return (probe,)


@app.cell(hide_code=True)
def _(activations, kit, mo, np, probe, x_probe, xs):
    _fig, (_f, _d) = kit.figure(1, 2, size=(9.0, 3.3))
    for _name, (_vals, _slope) in activations.items():
        _f.plot(xs, _vals, label=_name)
        _d.plot(xs, _slope, label=_name)
    for _ax in (_f, _d):
        _ax.axvline(kit.value(x_probe), color="0.5", lw=1, ls=":")
        _ax.axhline(0, color="0.8", lw=0.8)
        _ax.set_xlabel("x")
    _f.set_ylim(-1.5, 3)
    _f.set_title("activation")
    _f.legend(loc="upper left")
    _d.axhline(0.25, color="tab:orange", lw=0.8, ls="--")
    _d.set_title("slope (derivative)")
    _d.set_ylim(-0.3, 1.2)
    _table = kit.matrix_table(
        np.array([list(v) for v in probe.values()]), list(probe),
        ["value", "slope", "central difference"], digits=5,
        corner=f"x = {kit.fmt(kit.value(x_probe), 1)}")
    _kink = (
        "At $x = 0$ ReLU has no derivative: the slope jumps from 0 to 1. The library "
        "returns 0 there (PyTorch's convention), while the central difference, which looks "
        "a little to both sides, returns the average of the two one-sided slopes."
        if abs(kit.value(x_probe)) < 1e-6 else ""
    )
    mo.vstack([
        kit.show(_fig, alt="the four activations and their derivatives"),
        mo.md(_table),
        mo.md(_kink),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    Things to notice: ReLU's slope is exactly 1 for every positive input and
    exactly 0 for every negative one. tanh reaches slope 1, but only at 0.
    GELU is a smoothed ReLU whose slope overshoots 1 a little for positive
    $x$ and dips slightly below 0 for negative $x$. And the sigmoid's slope
    (orange dashed line) never gets above one quarter.
    """)
    return


@app.cell
def _(activations, np, xs):
    sig_slope = activations["sigmoid"][1]
    best = int(np.argmax(sig_slope))
    sigmoid_peak = (float(xs[best]), float(sig_slope[best]))  # (where, how high)
    gelu_dip = float(activations["GELU"][1].min())
    return gelu_dip, sigmoid_peak


@app.cell(hide_code=True)
def _(gelu_dip, kit, mo, sigmoid_peak):
    mo.vstack([
        mo.md(f"""
        ## The sigmoid's steepest point

        On the grid the sigmoid's slope peaks at $x = {kit.fmt(sigmoid_peak[0], 2)}$ with
        value **{kit.fmt(sigmoid_peak[1], 6)}**. The algebra agrees: $\\sigma(0) = 1/2$,
        and $\\sigma'(0) = \\tfrac12\\cdot\\tfrac12$. Because $\\sigma(1 - \\sigma)$ is a
        parabola in $\\sigma$ with its top at $\\sigma = 1/2$, no input does better.
        (GELU's slope, by contrast, ranges from {kit.fmt(gelu_dip, 3)} upwards.)
        """),
        kit.claim_badge("001-sigmoid-max-gradient"),
        kit.claim_badge("001-relu-gradient"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Gradients through depth

    Stack $D$ layers $h_\ell = f(h_{\ell-1} W_\ell)$. By the chain rule, the
    gradient reaching layer $\ell$ has been multiplied, for each layer above
    it, by that layer's weights and by the activation's slope at that layer:

    $$\frac{\partial L}{\partial h_{\ell}} = \frac{\partial L}{\partial h_D}
    \prod_{k=\ell+1}^{D} \operatorname{diag}\!\big(f'(z_k)\big)\,W_k^{\top}.$$

    With the sigmoid each slope factor is at most one quarter, so even in
    the best case the gradient at the bottom of a $D$-layer stack is scaled
    by $0.25^{D}$ relative to the top, unless the weights grow to compensate
    (and large weights push the sigmoid into its flat tails, where the
    slope is far smaller still). ReLU's slope is 1 wherever the unit is
    active, so nothing in the activation itself shrinks the signal.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-sigmoid-vanishing-gradient")
    return


@app.cell(hide_code=True)
def _(mo, net_width):
    depth = mo.ui.slider(start=2, stop=30, step=1, value=12, show_value=True,
                         label="depth D (layers)", debounce=False)
    mo.vstack([
        mo.md(rf"""
        ### Try it: a random deep network

        A multilayer perceptron of width {net_width} and depth $D$, seeded. Both
        versions use the **same** random matrices, scaled as each activation
        is usually initialised: standard deviation $\sqrt{{1/n}}$ for the
        sigmoid (Xavier/LeCun), $\sqrt{{2/n}}$ for ReLU (He), with $n = {net_width}$
        inputs per unit. The loss is the mean squared error of the last
        layer's output against random targets. One `backward()` per network
        gives the gradient of every weight matrix; the plot shows the size
        (Frobenius norm) of each layer's gradient.
        """),
        depth,
    ])
    return (depth,)


@app.cell
def _(Tensor, np):
    net_width = 32

    def layer_gradient_norms(activation, depth, width=net_width, batch=16, seed=0):
        """Frobenius norm of dL/dW for each layer of a seeded random MLP (Tensor backward)."""
        rng = np.random.default_rng(seed)
        gain = 2.0 if activation == "relu" else 1.0          # He for ReLU, LeCun otherwise
        x = Tensor(rng.normal(size=(batch, width)))            # (B, n) inputs
        target = rng.normal(size=(batch, width))               # (B, n) random targets
        weights = [Tensor(rng.normal(size=(width, width)) * np.sqrt(gain / width),
                          requires_grad=True) for _ in range(depth)]
        h = x
        for w in weights[:-1]:
            z = h @ w                                          # (B, n)
            h = z.relu() if activation == "relu" else z.sigmoid()
        out = h @ weights[-1]                                  # last layer: linear
        err = out - Tensor(target)
        loss = (err * err).mean()
        loss.backward()
        return np.array([np.linalg.norm(w.grad) for w in weights])  # (D,) layer 1 first

    return layer_gradient_norms, net_width


@app.cell
def _(depth, kit, layer_gradient_norms, mo):
    norms_sigmoid = layer_gradient_norms("sigmoid", kit.value(depth))
    norms_relu = layer_gradient_norms("relu", kit.value(depth))
    mo.show_code()
    return norms_relu, norms_sigmoid


@app.cell(hide_code=True)
def _(depth, kit, mo, np, norms_relu, norms_sigmoid):
    _D = kit.value(depth)
    _layers = np.arange(1, _D + 1)
    _fig, _ax = kit.figure(size=(6.4, 3.6))
    _ax.semilogy(_layers, norms_relu, "o-", ms=4, label="ReLU (He init)")
    _ax.semilogy(_layers, norms_sigmoid, "s-", ms=4, label="sigmoid (LeCun init)")
    # best-case sigmoid bound: 0.25 per layer, anchored at the last hidden layer
    _ax.semilogy(_layers, norms_sigmoid[-2] * 0.25 ** (_D - 1 - _layers), ":",
                 color="tab:orange", lw=1, label="× 0.25 per layer")
    _ax.set_xlabel("layer (1 = closest to the input)")
    _ax.minorticks_off()
    _ax.set_ylabel("‖∂L/∂W‖ (log scale)")
    _ax.set_title(f"gradient size per layer, D = {_D}")
    _ax.legend(loc="lower right", fontsize=8)
    _ratio_s = norms_sigmoid[0] / norms_sigmoid[-1]
    _ratio_r = norms_relu[0] / norms_relu[-1]
    mo.vstack([
        kit.show(_fig, alt=f"gradient norm per layer of a {_D}-layer network on a log "
                           "scale, sigmoid against ReLU"),
        mo.md(f"""
        First layer against last: sigmoid **{_ratio_s:.1e}**, ReLU **{_ratio_r:.2g}**.
        With the sigmoid the gradient falls by roughly a constant factor per layer, a
        straight line on the log scale that runs parallel to the dotted $0.25^{{D}}$
        line or below it; by the first layer there is almost nothing left to learn from.
        With ReLU and He initialisation the size stays within a small factor from top to
        bottom. Drag the depth up and watch the sigmoid's line get longer and lower.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(kit):
    _d = 10
    kit.check_yourself(
        f"A gradient crosses {_d} sigmoid layers, each at the sigmoid's steepest point, and "
        f"the weights are exactly 1. By what factor has it shrunk?",
        f"By $0.25^{{{_d}}} = {kit.sci(0.25 ** _d)}$: about a millionth. Away from $x = 0$ each "
        f"factor is smaller still, so this is the best case.",
    )
    return


@app.cell(hide_code=True)
def _(kit, norms_relu):
    kit.check_yourself(
        "ReLU's slope is exactly 1 where a unit is active. Why is that not the end of every "
        "gradient problem?",
        f"Where a unit is inactive ($x \\le 0$) its slope is exactly 0: no gradient passes. "
        f"A unit that is inactive for every input (a 'dead ReLU') never learns again. The "
        f"weight matrices also multiply the gradient at every layer, so their scale must be "
        f"right; this is what He initialisation arranges. In the plot the ReLU norms range "
        f"from {norms_relu.min():.2g} to {norms_relu.max():.2g}.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "Transformers are dozens of layers deep, and some use sigmoids (in gates) or "
        "softmaxes. How do their gradients reach the bottom layers?",
        "Mostly through the **residual connections**: each block computes $x + f(x)$, whose "
        "derivative is $I + f'(x)$. The identity term carries the gradient straight down "
        "past every block, however small $f'$ is. LayerNorm and careful initialisation keep "
        "the rest in range.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Backpropagation multiplies by the activation's slope at every layer.
    - The sigmoid's slope is at most one quarter (at $x = 0$) and tiny in its
      tails, so products of many of them vanish: deep sigmoid networks barely
      train their early layers.
    - ReLU's slope is 1 for active units and 0 otherwise; with He
      initialisation gradients keep their size through depth. GELU is a
      smooth version with a small negative dip.
    - Depth also needs well-scaled weights and, in transformers, residual
      connections.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("activations")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("activations")
    return


@app.cell
def test_slopes_against_central_differences_written_here(calculus, math, np):
    def _gelu(t):
        return 0.5 * t * (1 + math.erf(t / math.sqrt(2)))

    _funcs = {
        "ReLU": (lambda t: max(t, 0.0), calculus.relu_grad),
        "sigmoid": (lambda t: 1 / (1 + math.exp(-t)), calculus.sigmoid_grad),
        "tanh": (math.tanh, calculus.tanh_grad),
        "GELU": (_gelu, calculus.gelu_grad),
    }
    _h = 1e-6
    for _name, (_f, _g) in _funcs.items():
        for _t in (-3.7, -1.2, -0.3, 0.4, 1.1, 2.9):
            _fd = (_f(_t + _h) - _f(_t - _h)) / (2 * _h)
            assert abs(float(_g(np.array([_t]))[0]) - _fd) < 1e-8, (_name, _t)
    return


@app.cell
def test_probe_table_follows_the_slider(kit, math, probe, x_probe):
    _t = kit.value(x_probe)
    _s = 1 / (1 + math.exp(-_t))
    assert abs(probe["sigmoid"][0] - _s) < 1e-15
    assert abs(probe["sigmoid"][1] - _s * (1 - _s)) < 1e-15
    assert abs(probe["tanh"][1] - (1 - math.tanh(_t) ** 2)) < 1e-14
    assert probe["ReLU"][1] == (1.0 if _t > 0 else 0.0)  # exact: a step function
    for _name, (_v, _slope, _fd) in probe.items():
        if _name == "ReLU" and abs(_t) < 1e-6:
            assert abs(_fd - 0.5) < 1e-6  # the central difference straddles the kink
        else:
            assert abs(_slope - _fd) < 1e-7, _name
    return


@app.cell
def test_sigmoid_peak_is_a_quarter_at_zero(math, sigmoid_peak):
    assert sigmoid_peak[0] == 0.0  # exact: linspace(-5, 5, 401)[200] is -5 + 200 * 0.025 = 0.0
    assert abs(sigmoid_peak[1] - 0.25) < 1e-15
    for _k in range(-500, 501):  # brute force on a fine grid
        _s = 1 / (1 + math.exp(-_k / 50))
        assert _s * (1 - _s) <= 0.25 + 1e-17
    return


@app.cell
def test_layer_norms_by_explicit_backprop(depth, kit, net_width, norms_relu, norms_sigmoid, np):
    # the same seeded network, differentiated with hand-written NumPy backprop
    for _act, _norms in (("sigmoid", norms_sigmoid), ("relu", norms_relu)):
        _rng = np.random.default_rng(0)
        _gain = 2.0 if _act == "relu" else 1.0
        _n = net_width
        _x = _rng.normal(size=(16, _n))
        _target = _rng.normal(size=(16, _n))
        _Ws = [_rng.normal(size=(_n, _n)) * np.sqrt(_gain / _n) for _ in range(kit.value(depth))]
        _hs, _zs = [_x], []
        for _W in _Ws[:-1]:
            _z = _hs[-1] @ _W
            _zs.append(_z)
            _hs.append(np.maximum(_z, 0) if _act == "relu" else 1 / (1 + np.exp(-_z)))
        _out = _hs[-1] @ _Ws[-1]
        _g = 2 * (_out - _target) / _out.size            # dL/dout for the mean
        _grads = [None] * len(_Ws)
        _grads[-1] = _hs[-1].T @ _g
        _g = _g @ _Ws[-1].T
        for _l in range(len(_Ws) - 2, -1, -1):
            _z, _h = _zs[_l], _hs[_l + 1]
            _g = _g * ((_z > 0) if _act == "relu" else _h * (1 - _h))
            _grads[_l] = _hs[_l].T @ _g
            _g = _g @ _Ws[_l].T
        for _l in range(len(_Ws)):
            _want = np.sqrt(np.sum(_grads[_l] ** 2))
            assert abs(_norms[_l] - _want) <= 1e-9 * _want, (_act, _l)
    return


if __name__ == "__main__":
    app.run()
