import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="LayerNorm and its gradient")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import calculus
    from llmmath.autograd import Tensor
    from llmmath.autograd import functional as F
    from llmmath.ledger.identities import syllabus_layer_norm_dx
    from llmmath.lessons import _kit as kit

    return F, Tensor, calculus, kit, math, mo, np, syllabus_layer_norm_dx


@app.cell(hide_code=True)
def _(kit):
    kit.header("layernorm")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Every transformer block normalises its input: each token's vector of
    features is shifted to mean 0 and scaled to variance 1, then stretched
    and shifted again by two learned vectors, $\gamma$ and $\beta$. This
    **layer normalisation** keeps activations in a range where the
    following layers, and their gradients, behave, however the weights
    drift during training.

    Its forward pass is three lines. Its backward pass is more interesting:
    the mean and the variance depend on *every* feature of the token, so the
    gradient with respect to one feature has three parts. The syllabus
    writes that gradient down, and gets two details wrong. This lesson
    derives the correct form, checks it three ways, and shows numerically
    where the syllabus's version fails.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\mu = \frac1d\sum_{j} x_j,\quad \sigma^2 = \frac1d\sum_j (x_j - \mu)^2,\quad "
        r"\hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}},\quad "
        r"y_i = \gamma_i\,\hat x_i + \beta_i",
        caption=(
            r"For one token with $d$ features $x_1, \dots, x_d$. $\epsilon$ is a small "
            r"constant that keeps the division safe when the variance is tiny. $\gamma$ and "
            r"$\beta$ have one entry per feature and are learned; the same $\gamma$ and "
            r"$\beta$ serve every token."
        ),
    )
    return


@app.cell
def _(mo, np):
    _rng = np.random.default_rng(3)
    d, n_tokens, x_spread = 8, 3, 0.1
    X = _rng.normal(scale=x_spread, size=(n_tokens, d))         # (T, d) tokens
    gamma_random = _rng.normal(loc=1.0, scale=0.5, size=d)       # (d,) a non-constant scale
    beta = _rng.normal(scale=0.1, size=d)                        # (d,)
    DY = _rng.normal(size=(n_tokens, d))                         # (T, d) upstream dL/dy
    mo.show_code()
    return DY, X, beta, d, gamma_random, n_tokens, x_spread


@app.cell(hide_code=True)
def _(d, eps_default, mo, n_tokens, x_spread):
    mo.md(f"""
    ## The forward pass

    Our example: {n_tokens} tokens of {d} features, drawn at random with a small
    spread (standard deviation {x_spread}), a random $\\gamma$ around 1, a small
    random $\\beta$, and a random upstream gradient $\\partial L/\\partial y$,
    standing in for whatever the layers above send back. `calculus.layer_norm`
    normalises each token (each row), with $\\epsilon = {eps_default:g}$,
    PyTorch's default.
    """)
    return


@app.cell
def _(X, beta, calculus, gamma_random, mo):
    eps_default = 1e-5
    x_hat = calculus.layer_norm(X, eps=eps_default)                        # (T, d) no gamma, beta
    Y = calculus.layer_norm(X, gamma_random, beta, eps=eps_default)        # (T, d)
    mo.show_code()
    return Y, eps_default, x_hat


@app.cell(hide_code=True)
def _(X, d, kit, mo, np, x_hat):
    _feat = [f"f{j}" for j in range(d)]
    mo.md(f"""
    First token, before and after normalisation:

    {kit.matrix_table(np.stack([X[0], x_hat[0]]), ["x", "x̂"], _feat, digits=3)}

    Each row of $\\hat x$ has mean {", ".join(f"{m:.0e}" for m in x_hat.mean(axis=1))}
    (zero to rounding) and variance {", ".join(kit.fmt(v, 4) for v in x_hat.var(axis=1))}:
    just under 1, because $\\epsilon$ sits next to variances of about
    {kit.fmt(X.var(axis=1).mean(), 4)}.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The backward pass: three paths

    Write $g = \partial L/\partial y$ for the gradient arriving from above and
    $s = \sqrt{\sigma^2 + \epsilon}$. Since $y_i = \gamma_i \hat x_i + \beta_i$,
    the gradient with respect to $\hat x$ is $\hat g = \gamma \odot g$:
    **$\gamma$ multiplies $g$ feature by feature**, before anything else.
    Then $x_i$ reaches the loss along three paths:

    1. **directly**, through its own $\hat x_i = (x_i - \mu)/s$, with slope $1/s$;
    2. **through the mean**: every $\hat x_j$ contains $-\mu/s$, and
       $\partial\mu/\partial x_i = 1/d$;
    3. **through the variance**: every $\hat x_j$ is divided by $s$, and
       $\partial s/\partial x_i = (x_i - \mu)/(d\,s)$. The derivative of
       $1/s$ is $-1/s^2$, and $s^2 = \sigma^2 + \epsilon$: the **ε stays**.

    Adding the three:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\frac{\partial L}{\partial x_i} = \frac{1}{s}\Big(\hat g_i "
        r"- \frac1d\sum_j \hat g_j - \hat x_i\,\frac1d\sum_j \hat g_j\,\hat x_j\Big) "
        r"= \frac{1}{s}\Big(\hat g_i - \overline{\hat g} "
        r"- \frac{x_i - \mu}{d\,(\sigma^2+\epsilon)}\sum_j \hat g_j\,(x_j - \mu)\Big),"
        r"\qquad \hat g = \gamma \odot g",
        caption=(
            "The parameter gradients: ∂L/∂γⱼ = Σₜ gₜⱼ x̂ₜⱼ and ∂L/∂βⱼ = Σₜ gₜⱼ, summed over "
            "the tokens t, one entry per feature j."
        ),
    )
    return


@app.cell
def _(DY, F, Tensor, X, beta, calculus, eps_default, gamma_random, mo, np):
    # 1. the closed form
    dx, dgamma, dbeta = calculus.layer_norm_backward(X, gamma_random, DY, eps=eps_default)

    # 2. finite differences of L(x) = sum(dy * LayerNorm(x))
    def loss_x(v):
        return np.sum(DY * calculus.layer_norm(v, gamma_random, beta, eps=eps_default))

    dx_fd = calculus.numerical_gradient(loss_x, X)

    # 3. autograd: backward through the fused functional.layer_norm
    _xt = Tensor(X, requires_grad=True)
    _gt, _bt = Tensor(gamma_random, requires_grad=True), Tensor(beta, requires_grad=True)
    (F.layer_norm(_xt, _gt, _bt, eps=eps_default) * Tensor(DY)).sum().backward()
    dx_ag, dgamma_ag, dbeta_ag = _xt.grad, _gt.grad, _bt.grad
    mo.show_code()
    return dbeta, dbeta_ag, dgamma, dgamma_ag, dx, dx_ag, dx_fd


@app.cell(hide_code=True)
def _(dbeta, dbeta_ag, dgamma, dgamma_ag, dx, dx_ag, dx_fd, kit, mo, np):
    mo.vstack([
        mo.md(f"""
        For the three tokens at once: closed form against finite differences
        **{np.abs(dx - dx_fd).max():.1e}**, against autograd
        **{np.abs(dx - dx_ag).max():.1e}**; ∂L/∂γ and ∂L/∂β against autograd
        {np.abs(dgamma - dgamma_ag).max():.1e} and {np.abs(dbeta - dbeta_ag).max():.1e}.
        The syllabus's closing remark, that autograd handles all this for you, holds:
        """),
        kit.claim_badge("001-layernorm-autograd"),
    ])
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([
        mo.md(r"""
        ## What the syllabus writes

        The syllabus's formula puts a single $\gamma$ outside the bracket and
        divides the variance term by $d\,\sigma^2$:
        $\dfrac{\gamma}{\sqrt{\sigma^2+\epsilon}}\Big[g_i - \overline{g} -
        \dfrac{x_i - \mu}{d\,\sigma^2}\sum_j g_j (x_j - \mu)\Big]$.
        That is right only when $\gamma$ is the same number for every feature
        (then it can move outside) and $\epsilon$ is negligible next to
        $\sigma^2$. The ledger records the erratum:
        """),
        kit.claim_badge("001-layernorm-gradient"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    eps_choice = mo.ui.slider(
        steps=[1e-8, 1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0],
        value=1e-5, show_value=True, label="ε", debounce=False)
    random_gamma = mo.ui.switch(value=True, label="γ varies by feature (off: γ = 1)")
    mo.vstack([
        mo.md(r"""
        ### Try it: the syllabus's formula against finite differences

        One token (the first). Finite differences, which need no formula at
        all, are the referee. Turn the random $\gamma$ off to remove the first
        fault; raise $\epsilon$ towards the token's variance to make the second
        one visible.
        """),
        mo.hstack([eps_choice, random_gamma], justify="start", gap=3),
    ])
    return eps_choice, random_gamma


@app.cell
def _(DY, X, beta, calculus, d, eps_choice, gamma_random, kit, mo, np, random_gamma, syllabus_layer_norm_dx):
    eps = kit.value(eps_choice)
    gamma = gamma_random if kit.value(random_gamma) else np.ones(d)
    x0, dy0 = X[0], DY[0]                                       # one token
    ours = calculus.layer_norm_backward(x0[None], gamma, dy0[None], eps=eps)[0][0]
    page = syllabus_layer_norm_dx(x0, gamma, dy0, eps)          # the syllabus's formula
    referee = calculus.numerical_gradient(
        lambda v: np.sum(dy0 * calculus.layer_norm(v, gamma, beta, eps=eps)), x0)
    mo.show_code()
    return eps, gamma, ours, page, referee, x0


@app.cell
def _(DY, X, beta, calculus, d, gamma_random, np, syllabus_layer_norm_dx):
    # the worst error of each formula over a range of eps, for both choices of gamma
    eps_grid = np.logspace(-8, 0, 33)
    error_curves = {}
    for _label, _g in (("random γ", gamma_random), ("γ = 1", np.ones(d))):
        _ours_err, _page_err = [], []
        for _e in eps_grid:
            _ref = calculus.numerical_gradient(
                lambda v, g=_g, e=_e: np.sum(DY[0] * calculus.layer_norm(v, g, beta, eps=e)), X[0])
            _o = calculus.layer_norm_backward(X[0][None], _g, DY[0][None], eps=_e)[0][0]
            _ours_err.append(np.abs(_o - _ref).max())
            _page_err.append(np.abs(syllabus_layer_norm_dx(X[0], _g, DY[0], _e) - _ref).max())
        error_curves[_label] = (np.array(_ours_err), np.array(_page_err))
    return eps_grid, error_curves


@app.cell(hide_code=True)
def _(d, eps, eps_grid, error_curves, gamma, kit, mo, np, ours, page, random_gamma, referee, x0):
    _fig, (_bars, _err) = kit.figure(1, 2, size=(9.4, 3.4))
    _j = np.arange(d)
    _bars.bar(_j - 0.27, referee, width=0.26, label="finite differences", color="0.6")
    _bars.bar(_j, ours, width=0.26, label="ours (three terms)", color="tab:blue")
    _bars.bar(_j + 0.27, page, width=0.26, label="syllabus", color="tab:red")
    _bars.axhline(0, color="0.3", lw=0.8)
    _bars.set_xticks(_j, labels=[f"x{j}" for j in _j])
    _bars.set_title(f"∂L/∂x for one token, ε = {eps:g}")
    _bars.legend(loc="lower left", fontsize=7)
    _label = "random γ" if kit.value(random_gamma) else "γ = 1"
    _o, _p = error_curves[_label]
    _floor = 1e-12  # an error below this is rounding; keep it on the log scale
    _err.loglog(eps_grid, np.maximum(_p, _floor), color="tab:red", label="syllabus")
    _err.loglog(eps_grid, np.maximum(_o, _floor), color="tab:blue", label="ours")
    _err.axvline(eps, color="tab:orange", lw=1.2)
    _err.axvline(float(x0.var()), color="0.5", lw=0.8, ls="--", label="σ² of the token")
    _err.set_xlabel("ε")
    _err.minorticks_off()
    _err.set_ylabel("largest |error|")
    _err.set_title(f"error against finite differences ({_label})")
    _err.legend(loc="upper left", fontsize=7)
    _rows = np.stack([referee, ours, page])
    mo.vstack([
        kit.show(_fig, alt="bars of the three gradients, and each formula's error against ε"),
        mo.md(kit.matrix_table(_rows, ["finite differences", "ours", "syllabus"],
                               [f"x{j}" for j in range(d)], digits=4,
                               corner=f"ε = {eps:g}, {_label}")),
        mo.md(f"""
        Largest gap to finite differences: ours **{np.abs(ours - referee).max():.1e}**,
        the syllabus's **{np.abs(page - referee).max():.1e}**. With a random $\\gamma$ the
        syllabus's version is wrong at every $\\epsilon$: it scales feature $i$'s gradient by
        $\\gamma_i$ after mixing, where the mixing itself should use $\\gamma_j g_j$. With
        $\\gamma = 1$ that fault disappears, and what is left is the missing $\\epsilon$:
        tiny while $\\epsilon \\ll \\sigma^2$ (this token's variance is
        {kit.fmt(float(x0.var()), 4)}), large once $\\epsilon$ approaches it. Ours follows
        finite differences everywhere, down to their own error.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The gradient of β: per feature, summed over tokens

    $\beta_j$ is added to feature $j$ of **every token**. So its gradient
    collects $g_{t,j}$ from each token $t$: one number per feature, a sum
    down a column of $g$. The page writes $\sum_i \partial L/\partial y_i$
    with $i$ the feature index, as in its $\partial L/\partial x_i$ line: a
    sum *along* a row, which is the gradient of a single scalar shift
    shared by all features, not of the vector $\beta$.
    """)
    return


@app.cell
def _(DY, X, beta, calculus, eps_default, gamma_random, mo, np):
    dbeta_fd = calculus.numerical_gradient(
        lambda b: np.sum(DY * calculus.layer_norm(X, gamma_random, b, eps=eps_default)), beta)
    dbeta_page = DY.sum(axis=1)         # the page's sum over features: one number per token
    mo.show_code()
    return dbeta_fd, dbeta_page


@app.cell(hide_code=True)
def _(d, dbeta, dbeta_fd, dbeta_page, kit, mo, n_tokens, np):
    mo.vstack([
        mo.md(f"""
        {kit.matrix_table(np.stack([dbeta, dbeta_fd]), ["∂L/∂β (ours: Σₜ g)", "finite differences"], [f"β{j}" for j in range(d)], digits=4)}

        The syllabus's sum over features gives {n_tokens} numbers, one per token
        ({", ".join(kit.fmt(v, 4) for v in dbeta_page)}), none of which is the gradient of
        any $\\beta_j$. Ours matches finite differences to
        {np.abs(dbeta - dbeta_fd).max():.1e}.
        """),
        kit.claim_badge("001-layernorm-dbeta"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## A common snippet mistake: ε outside the square root

    Many quick implementations, including the syllabus's NumPy snippet, divide
    by `x.std() + eps` instead of `sqrt(x.var() + eps)`. For features with a
    standard deviation far above $\sqrt\epsilon$ the two agree to many
    digits. For nearly constant features they part ways: the output spread
    becomes $\sigma/(\sigma + \epsilon)$ in one case and
    $\sigma/\sqrt{\sigma^2 + \epsilon}$ in the other, so the snippet keeps
    amplifying tiny (often pure noise) differences to unit size where the
    standard layer damps them. Neither gives exactly unit variance there.
    """)
    return


@app.cell
def _(calculus, eps_default, np):
    _rng = np.random.default_rng(7)
    _base = _rng.normal(size=64)
    _base = (_base - _base.mean()) / _base.std()             # spread exactly 1
    spreads = np.logspace(-5, 1, 25)                         # sigma of the input row
    std_library, std_snippet = [], []
    for _s in spreads:
        _x = 5.0 + _s * _base                                # mean 5, std _s
        std_library.append(calculus.layer_norm(_x, eps=eps_default).std())
        std_snippet.append(((_x - _x.mean()) / (_x.std() + eps_default)).std())
    std_library, std_snippet = np.array(std_library), np.array(std_snippet)
    return spreads, std_library, std_snippet


@app.cell(hide_code=True)
def _(eps_default, kit, math, mo, np, spreads, std_library, std_snippet):
    _fig, _ax = kit.figure(size=(5.8, 3.3))
    _ax.semilogx(spreads, std_library, "o-", ms=3, label="√(σ² + ε) (PyTorch, llmmath)")
    _ax.semilogx(spreads, std_snippet, "s-", ms=3, label="σ + ε (the snippet)")
    _ax.axvline(math.sqrt(eps_default), color="0.5", ls="--", lw=0.8, label="σ = √ε")
    _ax.set_xlabel("standard deviation σ of the input row")
    _ax.minorticks_off()
    _ax.set_ylabel("std of the output")
    _ax.set_title(f"ε = {eps_default:g}")
    _ax.legend(loc="lower right", fontsize=8)
    _k = int(np.argmin(np.abs(spreads - math.sqrt(eps_default))))
    mo.vstack([
        kit.show(_fig, alt="output standard deviation against input spread for both versions"),
        mo.md(f"""
        At $\\sigma = {kit.fmt(spreads[_k], 4)}$ (close to $\\sqrt\\epsilon$) the standard version's
        output has standard deviation {kit.fmt(std_library[_k], 3)}, the snippet's
        {kit.fmt(std_snippet[_k], 3)}; at $\\sigma = {spreads[-1]:g}$ both give
        {kit.fmt(std_library[-1], 6)} and {kit.fmt(std_snippet[-1], 6)}. A model trained
        with one and run with the other would see different numbers exactly for its
        quietest features. The ledger's verdict on the snippet:
        """),
        kit.claim_badge("002-layer-norm-snippet"),
    ])
    return


@app.cell(hide_code=True)
def _(DY, dx, kit, np):
    kit.check_yourself(
        "Add the same number to every entry of the upstream gradient $g$ of a token, with "
        "γ = 1. What happens to $\\partial L/\\partial x$?",
        f"Nothing: the mean term subtracts $\\overline{{g}}$, so a constant shift of $g$ "
        f"cancels. The same term makes every token's $\\partial L/\\partial x$ sum to "
        f"zero, whatever $g$ is. For our upstream gradient the token sums of $g$ are "
        f"{', '.join(kit.fmt(v, 3) for v in DY.sum(axis=1))}; those of "
        f"$\\partial L/\\partial x$ are at most {np.abs(dx.sum(axis=1)).max():.0e}.",
    )
    return


@app.cell(hide_code=True)
def _(dx, kit, np, x_hat):
    kit.check_yourself(
        "Why must each token's $\\partial L/\\partial x$ be orthogonal to both the all-ones "
        "vector and to $\\hat x$?",
        f"Moving $x$ along $\\mathbf 1$ changes only $\\mu$, and scaling $x - \\mu$ changes "
        f"only $\\sigma$ (when ε is negligible): $\\hat x$ and so the loss do not move. The "
        f"directional derivative along those directions is zero. Here the largest "
        f"$|\\sum_i \\partial L/\\partial x_i|$ over the tokens is "
        f"{np.abs(dx.sum(axis=1)).max():.1e} and the largest "
        f"$|\\hat x \\cdot \\partial L/\\partial x|$ is "
        f"{np.abs(np.sum(x_hat * dx, axis=1)).max():.1e} (small, not zero: ε is not "
        f"negligible next to these variances).",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "If autograd gets the LayerNorm gradient right anyway, why derive it by hand?",
        "To check the autograd engine (three independent answers that agree are strong "
        "evidence), to write a fused backward that is faster than a chain of small "
        "operations (as `functional.layer_norm` does), and to understand what the layer does "
        "to gradients: it removes their components along the mean and scale directions.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - LayerNorm normalises each token over its features, then applies a
      learned per-feature scale $\gamma$ and shift $\beta$.
    - Its input gradient has three terms (direct, through the mean, through
      the variance): $\frac1s\big(\hat g - \overline{\hat g} -
      \hat x\,\overline{\hat g\hat x}\big)$ with $\hat g = \gamma \odot g$ and
      $s = \sqrt{\sigma^2+\epsilon}$.
    - The syllabus's version puts $\gamma$ outside and drops $\epsilon$
      from the variance term; both matter, and finite differences expose
      them.
    - $\partial L/\partial \beta_j$ and $\partial L/\partial \gamma_j$ are
      per-feature sums over tokens.
    - $\epsilon$ belongs inside the square root.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("layernorm")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("layernorm")
    return


@app.cell
def test_forward_by_loops(X, Y, beta, eps_default, gamma_random, math):
    for _t in range(X.shape[0]):
        _row = list(X[_t])
        _mu = sum(_row) / len(_row)
        _var = sum((_v - _mu) ** 2 for _v in _row) / len(_row)
        for _j, _v in enumerate(_row):
            _want = gamma_random[_j] * (_v - _mu) / math.sqrt(_var + eps_default) + beta[_j]
            assert abs(Y[_t, _j] - _want) < 1e-12
    return


@app.cell
def test_three_term_gradient_by_loops(DY, X, dbeta, dgamma, dx, dx_ag, dx_fd, eps_default, gamma_random, math):
    # the three terms, written with scalar loops; finite differences and autograd must agree
    _T, _d = X.shape
    for _t in range(_T):
        _row = list(X[_t])
        _mu = sum(_row) / _d
        _s = math.sqrt(sum((_v - _mu) ** 2 for _v in _row) / _d + eps_default)
        _xh = [(_v - _mu) / _s for _v in _row]
        _gh = [gamma_random[_j] * DY[_t, _j] for _j in range(_d)]
        _m1 = sum(_gh) / _d
        _m2 = sum(_gh[_j] * _xh[_j] for _j in range(_d)) / _d
        for _i in range(_d):
            _want = (_gh[_i] - _m1 - _xh[_i] * _m2) / _s
            assert abs(dx[_t, _i] - _want) < 1e-10
            assert abs(dx_ag[_t, _i] - _want) < 1e-10
            assert abs(dx_fd[_t, _i] - _want) < 1e-6 * max(1.0, abs(_want))
    for _j in range(_d):
        assert abs(dbeta[_j] - sum(DY[_t, _j] for _t in range(_T))) < 1e-12
        _gsum = 0.0
        for _t in range(_T):
            _row = list(X[_t])
            _mu = sum(_row) / _d
            _s = math.sqrt(sum((_v - _mu) ** 2 for _v in _row) / _d + eps_default)
            _gsum += DY[_t, _j] * (X[_t, _j] - _mu) / _s
        assert abs(dgamma[_j] - _gsum) < 1e-10
    return


@app.cell
def test_live_comparison(DY, X, d, eps, gamma, math, np, ours, page, referee):
    # ours follows finite differences at every setting of the controls
    assert np.abs(ours - referee).max() < 1e-6 * max(1.0, np.abs(referee).max())
    # and "page" is the page's formula, written here from its text
    _x, _g = list(X[0]), list(DY[0])
    _mu = sum(_x) / d
    _var = sum((_v - _mu) ** 2 for _v in _x) / d
    _sum_gx = sum(_g[_j] * (_x[_j] - _mu) for _j in range(d))
    for _i in range(d):
        _want = gamma[_i] / math.sqrt(_var + eps) * (
            _g[_i] - sum(_g) / d - (_x[_i] - _mu) / (d * _var) * _sum_gx)
        assert abs(page[_i] - _want) < 1e-9 * max(1.0, abs(_want))
    return


@app.cell
def test_page_formula_misses_with_a_random_gamma(DY, X, beta, calculus, d, eps_default, gamma_random, math, np):
    # at the default eps, with the lesson's random gamma, the page's formula is far off
    _x, _g = list(X[0]), list(DY[0])
    _mu = sum(_x) / d
    _var = sum((_v - _mu) ** 2 for _v in _x) / d
    _sum_gx = sum(_g[_j] * (_x[_j] - _mu) for _j in range(d))
    _page = [gamma_random[_i] / math.sqrt(_var + eps_default)
             * (_g[_i] - sum(_g) / d - (_x[_i] - _mu) / (d * _var) * _sum_gx) for _i in range(d)]
    _ref = calculus.numerical_gradient(
        lambda v: float(np.sum(DY[0] * calculus.layer_norm(v, gamma_random, beta, eps=eps_default))),
        X[0])
    assert max(abs(_page[_i] - _ref[_i]) for _i in range(d)) > 0.05 * np.abs(_ref).max()
    return


@app.cell
def test_page_formula_written_here_and_its_eps_fault(DY, X, calculus, d, math, np):
    # the page's formula with gamma = 1, written from its text; compare against finite
    # differences of the forward pass at a small and at a large eps
    _x, _g = list(X[0]), list(DY[0])
    _mu = sum(_x) / d
    _var = sum((_v - _mu) ** 2 for _v in _x) / d
    for _eps, _bad in ((1e-8, False), (0.3, True)):
        _sum_gx = sum(_g[_j] * (_x[_j] - _mu) for _j in range(d))
        _page = [(_g[_i] - sum(_g) / d - (_x[_i] - _mu) / (d * _var) * _sum_gx)
                 / math.sqrt(_var + _eps) for _i in range(d)]
        _ref = calculus.numerical_gradient(
            lambda v, e=_eps: float(np.sum(DY[0] * calculus.layer_norm(v, eps=e))), X[0])
        _gap = max(abs(_page[_i] - _ref[_i]) for _i in range(d))
        assert (_gap > 1e-2 * np.abs(_ref).max()) == _bad, (_eps, _gap)
    return


@app.cell
def test_snippet_spread_formulas(eps_default, math, spreads, std_library, std_snippet):
    for _s, _lib, _snip in zip(spreads, std_library, std_snippet, strict=True):
        assert abs(_lib - _s / math.sqrt(_s * _s + eps_default)) < 1e-9
        assert abs(_snip - _s / (_s + eps_default)) < 1e-9
    return


if __name__ == "__main__":
    app.run()
