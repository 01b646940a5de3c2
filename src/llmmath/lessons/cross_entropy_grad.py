import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="The cross-entropy + softmax gradient")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import calculus, prob
    from llmmath.autograd import Tensor
    from llmmath.autograd import functional as F
    from llmmath.lessons import _kit as kit

    return F, Tensor, calculus, kit, math, mo, np, prob


@app.cell(hide_code=True)
def _(kit):
    kit.header("cross_entropy_grad")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Every training step of a language model ends the same way: the network
    produces one score (logit) per token of the vocabulary, a softmax turns
    the scores into probabilities, and the loss is minus the log-probability
    of the token that actually came next. The very first gradient of the
    backward pass, the one everything else is built from, is the gradient of
    that loss with respect to the logits. It turns out to be as simple as a
    gradient can be: **predicted probabilities minus the one-hot target**.
    This lesson derives it, checks it three ways, and shows why frameworks
    compute softmax and loss as one fused operation.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"L = -\log p_c, \quad p = \operatorname{softmax}(z) \qquad\Longrightarrow\qquad "
        r"\frac{\partial L}{\partial z_i} = p_i - y_i",
        caption=(
            "$z$ are the logits, $c$ the index of the correct class and $y$ its one-hot "
            "vector ($y_c = 1$, every other entry 0). The gradient is $p - y$: the "
            "probability of each wrong class, and the probability of the correct class "
            "minus one."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The derivation, in two cases

    Write the loss with the log-sum-exp: since
    $\log p_c = z_c - \log\sum_k e^{z_k}$,

    $$L = -z_c + \log \sum_k e^{z_k}.$$

    The derivative of $\log\sum_k e^{z_k}$ with respect to $z_i$ is
    $e^{z_i}/\sum_k e^{z_k} = p_i$. The first term depends only on $z_c$.

    - **The correct class** ($i = c$): $\partial L/\partial z_c = -1 + p_c = p_c - 1$,
      which is negative: gradient descent *raises* the correct logit.
    - **Any other class** ($i \ne c$): $\partial L/\partial z_i = p_i$, which is
      positive: descent *lowers* each wrong logit, the more so the more
      probability it wrongly holds.

    The same result comes through the softmax Jacobian of the previous
    lesson: $\partial L/\partial p_c = -1/p_c$, and
    $\sum_k \frac{\partial L}{\partial p_k}\frac{\partial p_k}{\partial z_i}
    = -\frac{1}{p_c}\,p_c(\delta_{ci} - p_i) = p_i - \delta_{ci}$: the
    $1/p_c$ cancels against the $p_c$ in the Jacobian.
    """)
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("001-ce-softmax-grad-correct-class"),
               kit.claim_badge("001-ce-softmax-grad-wrong-class"),
               kit.claim_badge("001-ce-softmax-grad")])
    return


@app.cell(hide_code=True)
def _(mo):
    classes = ["class 0", "class 1", "class 2", "class 3"]
    logit_sliders = mo.ui.array([
        mo.ui.slider(start=-4.0, stop=4.0, step=0.1, value=_v, show_value=True,
                     label=f"z{_k}", debounce=False)
        for _k, _v in enumerate([2.0, 1.0, 0.1, -1.0])
    ])
    target_choice = mo.ui.dropdown({name: k for k, name in enumerate(classes)},
                                   value=classes[1], label="correct class c")
    return classes, logit_sliders, target_choice


@app.cell(hide_code=True)
def _(logit_sliders, mo, target_choice):
    mo.vstack([
        mo.md(r"""
        ## Try it: move the logits, change the target

        Four classes. Set the logits and pick the class that is correct. The
        plot shows the probabilities, the one-hot target and their difference,
        the gradient.
        """),
        mo.hstack([logit_sliders.vstack(), target_choice], justify="start", gap=3),
    ])
    return


@app.cell
def _(F, Tensor, calculus, kit, logit_sliders, mo, np, prob, target_choice):
    z = np.array(kit.value(logit_sliders), dtype=float)   # (K,) logits
    c = kit.value(target_choice)                          # the correct class
    p = prob.softmax(z)                              # (K,)
    loss = float(-prob.log_softmax(z)[c])

    grad_formula = calculus.softmax_cross_entropy_grad(z, c)          # p - y
    grad_fd = calculus.numerical_gradient(lambda v: -prob.log_softmax(v)[c], z)
    _zt = Tensor(z[None, :], requires_grad=True)                      # (1, K): a batch of one
    F.cross_entropy(_zt, [c]).backward()
    grad_autograd = _zt.grad[0]
    mo.show_code()
    return c, grad_autograd, grad_fd, grad_formula, loss, p, z


@app.cell(hide_code=True)
def _(c, classes, grad_autograd, grad_fd, grad_formula, kit, loss, mo, np, p):
    _K = len(p)
    _y = np.eye(_K)[c]
    _fig, _ax = kit.figure(size=(6.0, 3.3))
    _x = np.arange(_K)
    _ax.bar(_x - 0.27, p, width=0.26, label="p (predicted)", color="tab:blue")
    _ax.bar(_x, _y, width=0.26, label="y (target)", color="0.75")
    _ax.bar(_x + 0.27, grad_formula, width=0.26, label="p − y (gradient)", color="tab:red")
    _ax.axhline(0, color="0.3", lw=0.8)
    _ax.set_xticks(_x, labels=classes)
    _ax.set_ylim(-1.05, 1.05)
    _ax.set_title(f"correct class: {classes[c]}, loss {kit.fmt(loss, 4)}")
    _ax.legend(loc="lower left", fontsize=8)
    _table = kit.matrix_table(
        np.stack([p, _y, grad_formula, grad_fd, grad_autograd]),
        ["p", "y", "p − y (formula)", "finite differences", "autograd backward"],
        classes, digits=5)
    mo.vstack([
        kit.show(_fig, alt="bars of the probabilities, the target and the gradient"),
        mo.md(f"""
        {_table}

        The three gradients agree: formula against finite differences
        {np.abs(grad_formula - grad_fd).max():.1e}, formula against autograd's fused
        `cross_entropy` {np.abs(grad_formula - grad_autograd).max():.1e}. The entries sum
        to {grad_formula.sum():.1e}: the correct class's $p_c - 1$ is exactly minus the
        probability held by the others. Push the correct logit far above the rest and every
        bar of the gradient shrinks towards zero: a confident, correct prediction has
        nothing left to learn. Make a wrong class the largest and its bar grows.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo, np):
    _big64 = float(np.log(np.finfo(np.float64).max))
    _big32 = float(np.log(np.finfo(np.float32).max))
    _tiny = float(np.finfo(np.float64).smallest_subnormal)
    mo.md(f"""
    ## Why the fused operation is stable

    Computed the way it is written, the loss first forms the probabilities
    $e^{{z_k}}/\\sum_j e^{{z_j}}$, then takes a logarithm, then backpropagates
    through the log ($-1/p_c$) and the softmax Jacobian. Each of those steps
    can break. $e^z$ overflows for $z$ beyond {_big64:.1f} in float64 ({_big32:.1f}
    in float32), and a probability below {_tiny:.0e} rounds to 0, so
    $\\log p_c = -\\infty$ and $-1/p_c$ is infinite.

    The fused operation never takes the log of a probability: it computes
    $L = \\log\\sum_k e^{{z_k - m}} - (z_c - m)$ with $m = \\max_k z_k$, where
    every exponent is at most 0, and its backward pass is the subtraction
    $p - y$. Scale the logits up and compare. (The naive route is run with
    floating-point warnings silenced so that its infinities and NaNs can be
    shown.)
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    scale = mo.ui.slider(steps=[1, 10, 100, 300, 500, 700, 750, 1000, 2000], value=1,
                         show_value=True, label="multiply the logits by", debounce=False)
    scale
    return (scale,)


@app.cell
def _(c, calculus, kit, mo, np, prob, scale, z):
    zs = z * kit.value(scale)
    # naive: softmax, then log, then the chain rule through -1/p_c and the Jacobian
    with np.errstate(all="ignore"):  # on purpose: we want to see the infs and NaNs
        _e = np.exp(zs)
        p_naive = _e / _e.sum()
        loss_naive = -np.log(p_naive[c])
        _dL_dp = np.zeros_like(zs)
        _dL_dp[c] = -1.0 / p_naive[c]
        grad_naive = (np.diag(p_naive) - np.outer(p_naive, p_naive)).T @ _dL_dp
        # the syllabus snippet's guard: -log(p_c + 1e-9)
        loss_guarded = -np.log(p_naive[c] + 1e-9)
    # fused: log-sum-exp for the loss, p - y for the gradient
    loss_fused = float(prob.logsumexp(zs) - zs[c])
    grad_fused = calculus.softmax_cross_entropy_grad(zs, c)
    mo.show_code()
    return grad_fused, grad_naive, loss_fused, loss_guarded, loss_naive, zs


@app.cell(hide_code=True)
def _(
    classes,
    grad_fused,
    grad_naive,
    kit,
    loss_fused,
    loss_guarded,
    loss_naive,
    math,
    mo,
    np,
    scale,
):
    _cap = -math.log(1e-9)
    _try_scale = 100  # one of the slider's steps
    _cols = ["loss"] + [f"∂L/∂z{k}" for k in range(len(grad_fused))]
    _table = kit.matrix_table(
        np.array([[loss_naive, *grad_naive], [loss_fused, *grad_fused]]),
        ["naive", "fused"], _cols, digits=4, corner=f"logits × {kit.value(scale)}")
    mo.md(f"""
    {_table}

    At small scales both agree. Once a logit passes the overflow threshold, $e^z$ is
    infinite, infinity divided by infinity is NaN, and the naive loss and gradient are
    useless; when the correct class falls far behind, its probability underflows to 0
    and the naive loss is $\\infty$. The fused version stays exact at every scale.

    The syllabus's NumPy snippet guards the logarithm with $-\\log(p_c + 10^{{-9}})$: here
    that gives {kit.fmt(loss_guarded, 4)}. The guard hides the infinity but caps the loss
    at $-\\log 10^{{-9}} \\approx {kit.fmt(_cap, 2)}$: once $p_c$ is far below
    $10^{{-9}}$ the loss sits at the cap, however wrong the model is, and no longer
    responds to the logits. Its gradient is then zero exactly where the model most needs
    one. (Try {classes[-1]} as the correct class with the logits multiplied by
    {_try_scale}.)
    """)
    return


@app.cell(hide_code=True)
def _(kit, mo, prob):
    _logits, _target = [3.0, 1.0, 0.2], 0
    _value = float(-prob.log_softmax(_logits)[_target])
    mo.vstack([
        mo.md(f"""
        The same snippet prints the loss for logits
        ({", ".join(kit.fmt(v, 1) for v in _logits)}) and target {_target}. Computed
        stably, it is **{kit.fmt(_value, 4)}**; the syllabus states a different value:
        """),
        kit.claim_badge("002-cross-entropy-example"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    _V = 50_000  # a vocabulary of the order of GPT-2's
    mo.md(f"""
    ## Why it is cheap

    The forward pass already holds $p$. The fused backward pass only
    subtracts 1 at the correct class: {_V:,} numbers to write for a vocabulary of
    {_V:,} tokens. Backpropagating through the log and then through a softmax
    Jacobian built as a matrix would take {_V * _V:,} multiplications per position, and
    even the vector form of the previous lesson needs several passes over the
    vocabulary and keeps $\\log p$ around. For a batch of thousands of positions per
    step, the single subtraction is what makes the output layer affordable.
    """)
    return


@app.cell(hide_code=True)
def _(kit, math):
    _K, _V = 4, 50_257  # our classes; GPT-2's vocabulary
    kit.check_yourself(
        f"At the start of training a model often predicts the uniform distribution. With "
        f"{_K} classes, what are the loss and the gradient?",
        f"Every $p_i = 1/{_K}$, so the loss is $\\log {_K} = {kit.fmt(math.log(_K), 4)}$ "
        f"nats. The gradient is $1/{_K} - 1 = {kit.fmt(1 / _K - 1, 4)}$ at the correct "
        f"class and $1/{_K} = {kit.fmt(1 / _K, 4)}$ elsewhere. For a vocabulary of {_V:,} "
        f"tokens the starting loss would be {kit.fmt(math.log(_V), 2)} nats.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "Why do the entries of the gradient always sum to zero, whatever the logits?",
        "Both $p$ and $y$ sum to one, so $p - y$ sums to zero. Equivalently: adding the same "
        "number to every logit changes neither the probabilities nor the loss, so the "
        "derivative along the all-ones direction, the sum of the entries, must vanish.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    _N = 8  # positions in a batch
    kit.check_yourself(
        "With the mean over a batch of $N$ positions as the loss (PyTorch's default), how "
        "does the gradient for one position change?",
        f"It is divided by $N$: each position contributes $(p - y)/N$. With one position, as "
        f"in the check above, autograd's `cross_entropy` returns $p - y$ itself; with "
        f"{_N} positions each gets $(p - y)/{_N}$ of its own.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - $\partial L/\partial z = p - y$: the probability of every wrong class,
      and $p_c - 1$ at the correct one. The entries sum to 0.
    - Descent raises the correct logit and lowers the others in proportion to
      the probability they hold; a confident correct prediction gets a tiny
      gradient.
    - Compute the loss as $\log\sum e^{z - m} - (z_c - m)$ and the gradient
      as $p - y$, in one fused operation: no overflow, no $\log 0$, one
      subtraction in the backward pass.
    - Adding $10^{-9}$ inside the log hides the infinity but caps the loss
      and kills its gradient; use the fused form instead.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("cross_entropy_grad")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("cross_entropy_grad")
    return


@app.cell
def test_gradient_by_explicit_exponentials(c, grad_formula, math, z):
    _e = [math.exp(_v) for _v in z]
    for _i in range(len(z)):
        _want = _e[_i] / sum(_e) - (1.0 if _i == c else 0.0)
        assert abs(grad_formula[_i] - _want) < 1e-12, _i
    return


@app.cell
def test_loss_and_finite_differences_written_here(c, grad_autograd, grad_fd, loss, math, z):
    def _loss(v):
        return -v[c] + math.log(sum(math.exp(_x) for _x in v))

    assert abs(loss - _loss(list(z))) < 1e-12
    _h = 1e-6
    for _i in range(len(z)):
        _up, _dn = list(z), list(z)
        _up[_i] += _h
        _dn[_i] -= _h
        _d = (_loss(_up) - _loss(_dn)) / (2 * _h)
        assert abs(grad_fd[_i] - _d) < 1e-8
        assert abs(grad_autograd[_i] - _d) < 1e-8
    return


@app.cell
def test_fused_stays_exact_at_every_scale(c, calculus, math, prob, z):
    for _k in (1, 100, 1000, 2000):
        _zs = [_v * _k for _v in z]
        _m = max(_zs)
        _lse = _m + math.log(sum(math.exp(_v - _m) for _v in _zs))
        assert abs((float(prob.logsumexp(_zs)) - _zs[c]) - (_lse - _zs[c])) < 1e-9 * max(1, _lse)
        _g = calculus.softmax_cross_entropy_grad(_zs, c)
        for _i in range(len(z)):
            _want = math.exp(_zs[_i] - _lse) - (1.0 if _i == c else 0.0)
            assert abs(_g[_i] - _want) < 1e-12
    return


@app.cell
def test_naive_breaks_only_past_the_overflow(c, math, np, z):
    _limit = math.log(np.finfo(np.float64).max)
    for _k in (1, 1000):
        _zs = np.array(z) * _k
        with np.errstate(all="ignore"):
            _e = np.exp(_zs)
            _p = _e / _e.sum()
            _naive = -np.log(_p[c])
        _m = max(_zs)
        _exact = _m + math.log(sum(math.exp(_v - _m) for _v in _zs)) - _zs[c]
        if _m > _limit:  # exp overflows: inf / inf
            assert not np.isfinite(_naive)
        elif _k == 1:    # small logits: the naive route is fine
            assert abs(_naive - _exact) < 1e-12
    return


@app.cell
def test_syllabus_example_value(math, prob):
    _z = [3.0, 1.0, 0.2]
    _want = -math.log(math.exp(3.0) / sum(math.exp(_v) for _v in _z))
    assert abs(float(-prob.log_softmax(_z)[0]) - _want) < 1e-12
    return


if __name__ == "__main__":
    app.run()
