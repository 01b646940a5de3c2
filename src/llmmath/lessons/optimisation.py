import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Loss landscapes, SGD noise, momentum and Adam")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import landscape
    from llmmath.lessons import _kit as kit

    return kit, landscape, math, mo, np


@app.cell(hide_code=True)
def _(kit):
    kit.header("optimisation")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Training a language model means walking downhill on a surface with
    millions of dimensions: the loss as a function of every weight. We never
    see that surface; we only feel its slope where we stand, and only
    approximately, because each step looks at a small batch of text rather
    than the whole corpus.

    Four questions decide whether the walk ends well. How long may a step be
    before it overshoots? What happens at a point that is flat but is not a
    valley floor? How noisy is a slope measured on a mini-batch? And how do
    momentum and Adam turn those noisy slopes into better steps? On surfaces
    of two variables every one of these questions can be drawn, and every
    number below is computed on the spot by `llmmath.landscape`, which drives
    the optimisers of `llmmath.optim` on autograd tensors.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\theta_{t+1} = \theta_t - \eta_t\, \nabla L(\theta_t)",
        caption=(
            r"$\theta$ are the parameters, $L$ the loss, $\nabla L$ its gradient (the "
            r"direction of steepest ascent, so we step against it) and $\eta_t$ the "
            r"learning rate at step $t$."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 1. The step size and the curvature

    Start with the friendliest surface there is, a bowl whose cross-sections
    are ellipses. Its **Hessian**, the matrix of second derivatives, is the
    same everywhere; its eigenvalues are the curvatures along the two axes.
    The largest one, $L$, is the Lipschitz constant of the gradient, and the
    ratio of largest to smallest is the **condition number** $\kappa$.
    """)
    return


@app.cell
def _(landscape, mo):
    kappa = 10.0
    bowl = landscape.quadratic_bowl(condition_number=kappa)     # f = (x² + κy²)/2
    curvatures = landscape.hessian_eigenvalues(bowl, bowl.start)  # ascending
    mu_bowl, L_bowl = float(curvatures[0]), float(curvatures[1])
    lr_limit = 2.0 / L_bowl                                       # the Hessian is constant
    mo.show_code()
    return L_bowl, bowl, kappa, lr_limit, mu_bowl


@app.cell(hide_code=True)
def _(L_bowl, bowl, kappa, kit, lr_limit, mo, mu_bowl):
    mo.md(f"""
    For `{bowl.formula}` the curvatures are $\\mu = {kit.fmt(mu_bowl, 0)}$ and
    $L = {kit.fmt(L_bowl, 0)}$, so $\\kappa = {kit.fmt(kappa, 0)}$. Gradient
    descent multiplies the distance to the minimum along each axis by
    $1 - \\eta\\lambda$ at every step. Along the steep axis that factor has
    size below 1 only while

    $$\\eta < \\frac{{2}}{{L}} = {kit.fmt(lr_limit, 3)}.$$

    Past that threshold each step overshoots by more than it gained and the
    iterates fly off. Move the slider across it.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    lr_bowl = mo.ui.slider(start=0.01, stop=0.25, step=0.005, value=0.17, show_value=True,
                           label="learning rate η", debounce=False)
    lr_bowl
    return (lr_bowl,)


@app.cell
def _(bowl, kit, landscape, lr_bowl, mo):
    gd_path = landscape.run_optimizer(bowl, "sgd", lr=kit.value(lr_bowl), steps=60)
    mo.show_code()
    return (gd_path,)


@app.cell(hide_code=True)
def _(L_bowl, gd_path, kit, lr_bowl, lr_limit, mo, mu_bowl, np):
    _eta = kit.value(lr_bowl)
    _factors = [abs(1 - _eta * mu_bowl), abs(1 - _eta * L_bowl)]
    _start, _end = gd_path.losses[0], gd_path.losses[-1]
    if np.isclose(_eta, lr_limit):
        _verdict = (f"**On the edge**: at η = 2/L the steep coordinate flips sign every step "
                    f"without shrinking; the loss stalls near {kit.fmt(_end, 3)}.")
        _kind = "warn"
    elif _eta > lr_limit:
        _verdict = (f"**Diverges**: η = {kit.fmt(_eta, 3)} is above 2/L = "
                    f"{kit.fmt(lr_limit, 3)}, and the loss grew from {kit.fmt(_start, 2)} to "
                    f"{_end:.3g} in {gd_path.steps} steps"
                    + (" (the run stops once the iterates leave a large box)."
                       if gd_path.diverged else "."))
        _kind = "danger"
    else:
        _verdict = (f"**Converges**: after {gd_path.steps} steps the loss is {_end:.2e} "
                    f"(from {kit.fmt(_start, 2)}).")
        _kind = "success"
    mo.callout(mo.md(
        f"{_verdict} Per-step factors $|1 - \\eta\\lambda|$: "
        f"{kit.fmt(_factors[0], 3)} along the flat axis, "
        f"{kit.fmt(_factors[1], 3)} along the steep one."), kind=_kind)
    return


@app.cell(hide_code=True)
def _(bowl, gd_path, kit, lr_bowl, np, plot_paths):
    _fig, (_ax, _bx) = kit.figure(1, 2, size=(8.6, 3.2))
    plot_paths(_ax, bowl, {f"η = {kit.fmt(kit.value(lr_bowl), 3)}": gd_path})
    _bx.semilogy(np.arange(gd_path.steps + 1), np.maximum(gd_path.losses, 1e-300), color="C3")
    _bx.set_xlabel("step")
    _bx.set_ylabel("loss (log scale)")
    _bx.set_title("loss per step")
    kit.show(_fig, alt="contour plot of the bowl with the gradient-descent path, and the loss")
    return


@app.cell(hide_code=True)
def _(landscape, np):
    _grid_cache = {}

    def plot_paths(ax, surface, paths, n=101):
        """Contours of ``surface`` (log scale) and each trajectory in ``paths`` on ``ax``."""
        if surface.formula not in _grid_cache:          # the formula names the parameters too
            _grid_cache[surface.formula] = surface.grid(n)
        xs, ys, z = _grid_cache[surface.formula]
        ax.contour(xs, ys, np.log1p(z - z.min()), levels=14, cmap="Blues", linewidths=0.7)
        for i, (label, tr) in enumerate(paths.items()):
            ax.plot(tr.points[:, 0], tr.points[:, 1], ".-", ms=2.5, lw=1.0, color=f"C{i + 3}",
                    label=label)
        for p in surface.stationary_points:
            kind = landscape.classify_point(surface, p).kind
            ax.plot(*p, marker="*" if kind == "minimum" else "x", color="black", ms=8, ls="")
        ax.set_xlim(*surface.bounds[0])
        ax.set_ylim(*surface.bounds[1])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.legend(loc="upper right", fontsize=8)

    return (plot_paths,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 2. Saddle points

    A point where the gradient vanishes need not be a minimum. The
    eigenvalues of the Hessian tell them apart: all positive is a minimum,
    all negative a maximum, and **mixed signs a saddle**, a pass between two
    hills where the surface curves up one way and down the other. The
    classic example is $x^2 - y^2$:
    """)
    return


@app.cell
def _(landscape, mo):
    pass_point = landscape.classify_point(landscape.saddle(), [0.0, 0.0])
    wells = landscape.double_well()                      # f = (x² − 1)² + y²
    well_points = [landscape.classify_point(wells, p) for p in wells.stationary_points]
    mo.show_code()
    return pass_point, well_points, wells


@app.cell(hide_code=True)
def _(kit, mo, pass_point, well_points, wells):
    _rows = [f"({kit.fmt(c.point[0], 0)}, {kit.fmt(c.point[1], 0)})" for c in well_points]
    _table = kit.matrix_table(
        [[c.eigenvalues[0], c.eigenvalues[1], c.kind] for c in well_points],
        _rows, ["λ₁", "λ₂", "kind"], digits=2, corner="point")
    mo.md(f"""
    At the origin of $x^2 - y^2$ the Hessian's eigenvalues are
    {kit.fmt(pass_point.eigenvalues[0], 0)} and {kit.fmt(pass_point.eigenvalues[1], 0)}:
    a **{pass_point.kind}**. A more useful picture is the double well
    `{wells.formula}`, with two valleys and a saddle between them; its
    stationary points classify as

    {_table}
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-saddle-points-dominate")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    Near a saddle the gradient is tiny, so plain gradient descent crawls. How
    fast it leaves depends on how far off the ridge it starts: the escaping
    coordinate grows by a factor $1 + \eta\,|\lambda_{\min}|$ per step, so a
    start that is exactly on the ridge never leaves at all. Noise in the
    gradient (as in SGD) or momentum pushes it off much sooner.
    """)
    return


@app.cell
def _(landscape, mo, wells):
    saddle_lr, saddle_steps, offset = 0.05, 200, 1e-6
    escapes = {
        "GD on the ridge": landscape.run_optimizer(
            wells, "sgd", lr=saddle_lr, steps=saddle_steps, start=[0.0, 1.2]),
        f"GD, {offset:g} off": landscape.run_optimizer(
            wells, "sgd", lr=saddle_lr, steps=saddle_steps, start=[offset, 1.2]),
        f"momentum, {offset:g} off": landscape.run_optimizer(
            wells, "momentum", lr=saddle_lr, steps=saddle_steps, start=[offset, 1.2]),
        "GD + noise σ = 0.01": landscape.run_optimizer(
            wells, "sgd", lr=saddle_lr, steps=saddle_steps, start=[0.0, 1.2], noise=0.01,
            rng=0),
    }
    mo.show_code()
    return escapes, offset, saddle_lr


@app.cell(hide_code=True)
def _(escapes, np):
    escape_threshold = 0.5

    def _escape_step(tr):
        """First step at which |x| exceeds the threshold (None if never)."""
        far = np.abs(tr.points[:, 0]) > escape_threshold
        return int(np.argmax(far)) if far.any() else None

    escape_steps = {label: _escape_step(tr) for label, tr in escapes.items()}
    return escape_steps, escape_threshold


@app.cell(hide_code=True)
def _(
    escape_steps,
    escape_threshold,
    escapes,
    kit,
    mo,
    np,
    plot_paths,
    saddle_lr,
    well_points,
    wells,
):
    _growth = 1 + saddle_lr * abs(well_points[1].eigenvalues[0])
    _fig, (_ax, _bx) = kit.figure(1, 2, size=(8.6, 3.2))
    plot_paths(_ax, wells, escapes)
    for _i, (_label, _tr) in enumerate(escapes.items()):
        _bx.plot(np.arange(_tr.steps + 1), _tr.losses, color=f"C{_i + 3}", label=_label)
    _bx.set_xlabel("step")
    _bx.set_ylabel("loss")
    _bx.set_title(f"the plateau is the saddle (f = {kit.fmt(float(wells.value(well_points[1].point)), 0)})")
    _steps = " · ".join(f"{k}: **{'never' if v is None else v}**" for k, v in escape_steps.items())
    mo.vstack([
        kit.show(_fig, alt="paths near the saddle of the double well and their losses"),
        mo.md(f"""
        Steps until $|x| > {escape_threshold}$: {_steps}. With η = {kit.fmt(saddle_lr, 2)} the
        linearisation predicts a growth factor of {kit.fmt(_growth, 2)} per step
        for plain gradient descent.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo, play_steps):
    mo.md(f"""
    ## 3. Try it: surfaces and optimisers

    Pick a surface, an optimiser and a learning rate (the slider moves in
    steps of ×2 or ×2.5). Every run takes {play_steps} steps from the surface's
    usual starting point; the switch adds Gaussian noise to each gradient,
    a stand-in for mini-batch noise. Rosenbrock's narrow curved valley is
    where plain gradient descent struggles; the double well starts you
    exactly on the ridge above its saddle.
    """)
    return


@app.cell(hide_code=True)
def _(bowl, landscape, mo):
    surface_choice = mo.ui.dropdown(
        {"Rosenbrock's valley": landscape.rosenbrock(), "double well": landscape.double_well(),
         "quadratic bowl (κ = 10)": bowl},
        value="Rosenbrock's valley", label="surface")
    optimiser_choice = mo.ui.dropdown(
        {"gradient descent": "sgd", "momentum (β = 0.9)": "momentum",
         "Nesterov momentum": "nesterov", "Adam": "adam"},
        value="momentum (β = 0.9)", label="optimiser")
    lr_play = mo.ui.slider(steps=[1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1,
                                  0.2, 0.5], value=1e-3, show_value=True,
                           label="learning rate", debounce=False)
    play_steps, play_noise = 300, 0.05
    noisy = mo.ui.switch(value=False, label=f"gradient noise σ = {play_noise}")
    mo.hstack([surface_choice, optimiser_choice, lr_play, noisy], justify="start", gap=1.5,
              wrap=True)
    return lr_play, noisy, optimiser_choice, play_noise, play_steps, surface_choice


@app.cell
def _(
    kit,
    landscape,
    lr_play,
    mo,
    noisy,
    optimiser_choice,
    play_noise,
    play_steps,
    surface_choice,
):
    play = landscape.run_optimizer(
        kit.value(surface_choice), kit.value(optimiser_choice), lr=kit.value(lr_play), steps=play_steps,
        noise=play_noise if kit.value(noisy) else 0.0, rng=0, gradient="analytic")
    mo.show_code()
    return (play,)


@app.cell(hide_code=True)
def _(kit, landscape, lr_play, mo, np, optimiser_choice, play, plot_paths, surface_choice):
    _s = kit.value(surface_choice)
    _near = np.linalg.norm(_s.stationary_points - play.points[-1], axis=1)
    _closest = landscape.classify_point(_s, _s.stationary_points[int(np.argmin(_near))])
    _L0 = float(landscape.hessian_eigenvalues(_s, play.points[0])[-1])
    _fig, _ax = kit.figure(size=(5.6, 3.6))
    plot_paths(_ax, _s, {optimiser_choice.selected_key: play})
    if play.diverged:
        _text = (f"**Diverged** after {play.steps} steps. At the start the largest curvature is "
                 f"{kit.fmt(_L0, 1)}, so plain gradient descent needs η below "
                 f"{kit.fmt(2 / _L0, 4)} there.")
    else:
        _text = (f"After {play.steps} steps: loss {kit.fmt(play.losses[-1], 5)}, "
                 f"{kit.fmt(_near.min(), 3)} away from the nearest stationary point "
                 f"(a {_closest.kind}). Learning rate {kit.fmt(kit.value(lr_play), 4)}.")
    mo.hstack([kit.show(_fig, alt="contour plot with the optimiser's path"), mo.md(_text)],
              justify="start", gap=1.5, align="center", widths=[3, 2])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 4. How noisy is a mini-batch gradient?

    The training loss is an average over $N$ examples, so its gradient is an
    average of per-example gradients $g_i$. SGD replaces it with the average
    over a random batch $B$. If the batch is drawn with replacement the $|B|$
    draws are independent, and the variance of an average of independent
    terms is the variance of one term divided by their number:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\mathbb{E}\,\lVert g_B - g \rVert^2 = \frac{\sigma^2}{|B|}, \qquad "
        r"\sigma^2 = \frac{1}{N}\sum_{i=1}^{N} \lVert g_i - g \rVert^2",
        caption=(
            r"$g$ is the full gradient (the mean of the $g_i$) and $\sigma^2$ the per-example "
            r"variance. On log–log axes this is a line of slope −1. Drawn without "
            r"replacement, the right side gains a factor $(N - |B|)/(N - 1)$."
        ),
    )
    return


@app.cell
def _(landscape, mo, np):
    task = landscape.logistic_problem(n_examples=2000, n_features=2, rng=0)
    w_now = np.zeros(2)                                   # the weights at the start of training
    per_example = landscape.logistic_gradients(task.features, task.labels, w_now)  # (N, 2)
    batch_sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    noise = landscape.minibatch_gradient_variance(per_example, batch_sizes, n_batches=2000,
                                                  rng=1)
    mo.show_code()
    return batch_sizes, noise, per_example, task


@app.cell(hide_code=True)
def _(kit, mo, noise, task):
    mo.md(f"""
    The problem is a logistic regression with {task.features.shape[1]} weights on a
    fixed, seeded data set of {task.features.shape[0]:,} examples, at the weights
    where training starts. The per-example variance is
    $\\sigma^2 = {kit.fmt(noise.sigma2, 4)}$. For each batch size,
    {noise.n_batches:,} random batches give the measured variance; a least-squares
    line through the points on log–log axes has slope
    **{kit.fmt(noise.slope, 3)}**.
    """)
    return


@app.cell(hide_code=True)
def _(batch_sizes, mo):
    batch_size = mo.ui.slider(steps=batch_sizes, value=8, show_value=True,
                              label="batch size |B|", debounce=False)
    batch_size
    return (batch_size,)


@app.cell(hide_code=True)
def _(batch_sizes, landscape, per_example):
    clouds = {b: landscape.minibatch_gradients(per_example, b, n_batches=400, rng=10 + b)
              for b in batch_sizes}
    return (clouds,)


@app.cell(hide_code=True)
def _(batch_size, batch_sizes, clouds, kit, mo, noise, np, per_example):
    _b = kit.value(batch_size)
    _k = batch_sizes.index(_b)
    _g = per_example.mean(axis=0)
    _fig, (_ax, _bx) = kit.figure(1, 2, size=(8.6, 3.3))
    _c = clouds[_b]
    _ax.scatter(_c[:, 0], _c[:, 1], s=4, alpha=0.5, color="C0", label=f"g_B, |B| = {_b}")
    _ax.plot(*_g, "k*", ms=10, label="full gradient g")
    _half = 4 * np.sqrt(noise.sigma2)
    _ax.set_xlim(_g[0] - _half, _g[0] + _half)
    _ax.set_ylim(_g[1] - _half, _g[1] + _half)
    _ax.set_aspect("equal")
    _ax.set_xlabel("∂L/∂w₁")
    _ax.set_ylabel("∂L/∂w₂")
    _ax.legend(loc="upper right", fontsize=8)
    _bs = np.asarray(batch_sizes, dtype=float)
    _bx.errorbar(_bs, noise.variances, yerr=2 * noise.standard_errors, fmt="o", ms=4,
                 color="C0", label="measured")
    _bx.plot(_bs, np.exp(noise.intercept) * _bs ** noise.slope, color="C0", lw=1,
             label=f"fit, slope {kit.fmt(noise.slope, 3)}")
    _bx.plot(_bs, noise.predicted, "--", color="C3", lw=1, label="σ²/|B|")
    _bx.plot(_b, noise.variances[_k], "o", ms=10, mfc="none", color="C3")
    _bx.set_xscale("log", base=2)
    _bx.set_yscale("log")
    _bx.set_xlabel("batch size |B|")
    _bx.set_ylabel("E‖g_B − g‖²")
    _bx.legend(fontsize=8)
    mo.vstack([
        kit.show(_fig, alt="mini-batch gradients around the full gradient; variance against "
                 "batch size on log-log axes"),
        mo.md(f"""
        |B| = {_b}: measured variance {noise.variances[_k]:.3e}
        (± {noise.standard_errors[_k]:.1e}), predicted σ²/|B| = {noise.predicted[_k]:.3e}.
        The spread of the cloud, a standard deviation, shrinks only like
        $1/\\sqrt{{|B|}}$: four times the batch buys half the noise.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("001-minibatch-gradient-variance"),
               kit.claim_badge("001-gradient-noise-regularises")])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 5. When does SGD converge?

    With noisy gradients a constant learning rate never settles: the noise
    keeps kicking the iterate around the minimum. Shrinking the rate calms
    the noise, but shrinking it too fast freezes the walk before it arrives.
    Robbins and Monro's conditions (1951) balance the two:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\sum_{t=1}^{\infty} \eta_t = \infty \qquad\text{and}\qquad "
        r"\sum_{t=1}^{\infty} \eta_t^2 < \infty",
        caption=(
            "The first sum lets the steps cover any distance; the second bounds the total noise "
            "they let in. Together they are sufficient for convergence on convex problems "
            "under standard assumptions; neither alone is."
        ),
    )
    return


@app.cell
def _(mo, np):
    schedules = {                              # each works on a step t or an array of steps
        "η = 0.1 (constant)": lambda t: 0.1 + 0.0 * t,
        "η = 1/t": lambda t: 1.0 / t,
        "η = 1/√t": lambda t: 1.0 / np.sqrt(t),
        "η = 0.5/t²": lambda t: 0.5 / (t * t),
    }
    horizons = [10**3, 10**6]
    _t = np.arange(1, horizons[-1] + 1, dtype=float)
    partial_sums = {}                          # schedule -> [(Σ η_t, Σ η_t²) up to each horizon]
    for _name, _rate in schedules.items():
        _eta = _rate(_t)
        _s1, _s2 = np.cumsum(_eta), np.cumsum(_eta * _eta)
        partial_sums[_name] = [(float(_s1[h - 1]), float(_s2[h - 1])) for h in horizons]
    mo.show_code()
    return horizons, partial_sums, schedules


@app.cell(hide_code=True)
def _(horizons, kit, mo, partial_sums):
    _cols = [f"Σ η_t to {h:,}" for h in horizons] + [f"Σ η_t² to {h:,}" for h in horizons]
    _rows = list(partial_sums)
    _vals = [[s[0][0], s[1][0], s[0][1], s[1][1]] for s in partial_sums.values()]
    mo.md(f"""
    Partial sums show which schedules meet the conditions: a sum that keeps
    growing between {horizons[0]:,} and {horizons[1]:,} terms diverges, one
    that stands still converges.

    {kit.matrix_table(_vals, _rows, _cols, digits=3, corner="schedule")}

    Only $1/t$ has the first sum growing and the second settling. The
    constant rate lets in unbounded noise, $0.5/t^2$ runs out of steps, and
    $1/\\sqrt{{t}}$ fails the second condition: its squares form the harmonic
    series.
    """)
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("001-sgd-step-size-conditions"),
               kit.claim_badge("001-sgd-one-over-sqrt-t")])
    return


@app.cell
def _(landscape, mo, np, schedules):
    round_bowl = landscape.quadratic_bowl(condition_number=1.0)   # f = ‖θ‖²/2, ∇f = θ
    rm_sigma, rm_steps, rm_start = 1.0, 1000, [3.0, 3.0]
    rm_runs = {name: landscape.run_optimizer(round_bowl, "sgd", steps=rm_steps, start=rm_start,
                                             lr_schedule=rate, noise=rm_sigma, rng=7,
                                             gradient="analytic")
               for name, rate in schedules.items()}
    # The mean squared distance obeys E d²_{t+1} = (1 − η_t)² E d²_t + 2 σ² η_t² exactly here.
    rm_expected = {}
    for _name, _rate in schedules.items():
        _d2 = [float(np.sum(np.square(rm_start)))]
        for _t in range(1, rm_steps + 1):
            _eta = float(_rate(_t))
            _d2.append((1 - _eta) ** 2 * _d2[-1] + 2 * rm_sigma**2 * _eta**2)
        rm_expected[_name] = np.array(_d2)
    mo.show_code()
    return rm_expected, rm_runs, rm_sigma, rm_start, rm_steps


@app.cell(hide_code=True)
def _(kit, mo, np, rm_expected, rm_runs, rm_sigma, rm_start, rm_steps):
    _fig, _ax = kit.figure(size=(5.6, 3.4))
    _final, _tail = {}, rm_steps // 10
    _edges = np.unique(np.geomspace(1, rm_steps + 1, 24).astype(int))   # windows of steps, log-spaced
    for _i, (_name, _tr) in enumerate(rm_runs.items()):
        _d2 = np.sum(_tr.points**2, axis=1)                       # squared distance to 0
        _rms = [np.sqrt(_d2[_a:_b].mean()) for _a, _b in zip(_edges[:-1], _edges[1:], strict=True)]
        _mid = np.sqrt(_edges[:-1] * (_edges[1:] - 1).clip(min=_edges[:-1]))
        _ax.loglog(_mid, _rms, ".", ms=5, color=f"C{_i}")
        _ax.loglog(np.arange(1, _tr.steps + 1), np.sqrt(rm_expected[_name][1:]), lw=1.2,
                   color=f"C{_i}", label=_name)
        _final[_name] = float(np.sqrt(np.mean(_d2[-_tail:])))
    _ax.set_xlabel("step t")
    _ax.set_ylabel("RMS distance to the minimum")
    _ax.legend(fontsize=8)
    _lines = ", ".join(f"{k}: {kit.fmt(v, 3)}" for k, v in _final.items())
    mo.hstack([
        kit.show(_fig, alt="distance to the minimum against the step for four schedules"),
        mo.md(f"""
        Noisy SGD (σ = {kit.fmt(rm_sigma, 1)}) on $\\lVert\\theta\\rVert^2/2$ from
        ({", ".join(kit.fmt(v, 1) for v in rm_start)}). Dots: one run, root-mean-square
        distance over windows of steps (over the last {_tail} of {rm_steps:,}
        steps — {_lines}). Lines: the exact expectation, from
        $\\mathbb{{E}}\\,d_{{t+1}}^2 = (1 - \\eta_t)^2\\,\\mathbb{{E}}\\,d_t^2 + 2\\sigma^2\\eta_t^2$;
        the last term is where $\\sum \\eta_t^2$ enters.

        The constant rate hovers at its noise floor; $0.5/t^2$ stops short; $1/t$
        keeps closing in. $1/\\sqrt{{t}}$ closes in too, more slowly: the
        conditions are sufficient, not necessary, and on a strongly convex bowl
        a slower decay still gets there.
        """),
    ], justify="start", gap=1.5, align="center", widths=[3, 2])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 6. Momentum

    On a long narrow valley gradient descent zigzags across the steep walls
    and inches along the floor. **Momentum** keeps a running sum of past
    gradients, so the zigzags cancel and the steady downhill component adds
    up. In PyTorch's form, which `llmmath.optim.SGD` follows:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"b_t = \beta\, b_{t-1} + \nabla L(\theta_t), \qquad \theta_{t+1} = \theta_t - \eta\, b_t",
        caption=r"$b$ is the velocity ($b_1$ = the first gradient) and $\beta$ in $[0, 1)$ "
                r"how much of it survives each step; $\beta = 0$ is plain gradient descent. "
                r"(PyTorch calls $\beta$ `momentum`.)",
    )
    return


@app.cell
def _(landscape, math, mo):
    steep = landscape.quadratic_bowl(condition_number=100.0)
    _lam = landscape.hessian_eigenvalues(steep, steep.start)
    m_s, L_s = float(_lam[0]), float(_lam[1])
    # the best constant settings for each method on a quadratic (Polyak 1964)
    gd_lr = 2.0 / (L_s + m_s)
    hb_lr = 4.0 / (math.sqrt(L_s) + math.sqrt(m_s)) ** 2
    hb_mu = ((math.sqrt(L_s) - math.sqrt(m_s)) / (math.sqrt(L_s) + math.sqrt(m_s))) ** 2
    race = {
        "gradient descent": landscape.run_optimizer(steep, "sgd", lr=gd_lr, steps=600,
                                                    gradient="analytic"),
        "momentum": landscape.run_optimizer(steep, "momentum", lr=hb_lr, momentum=hb_mu,
                                            steps=600, gradient="analytic"),
    }
    mo.show_code()
    return L_s, hb_lr, hb_mu, m_s, race, steep


@app.cell(hide_code=True)
def _(L_s, hb_lr, hb_mu, kit, m_s, math, mo, np, race):
    _kappa = L_s / m_s
    _target = 1e-8
    _hits = {k: int(np.argmax(tr.losses <= _target * tr.losses[0])) for k, tr in race.items()}
    _fig, _ax = kit.figure(size=(5.2, 3.2))
    for _i, (_k, _tr) in enumerate(race.items()):
        _ax.semilogy(_tr.losses / _tr.losses[0], color=f"C{_i + 3}", label=_k)
    _ax.axhline(_target, color="gray", lw=0.8, ls=":")
    _ax.set_ylim(1e-16, 10)
    _ax.set_xlabel("step")
    _ax.set_ylabel("loss / initial loss")
    _ax.legend(fontsize=8)
    mo.hstack([
        kit.show(_fig, alt="loss against step for gradient descent and momentum"),
        mo.md(f"""
        A bowl with $\\kappa = {kit.fmt(_kappa, 0)}$, each method at its best
        constant settings: gradient descent with $\\eta = 2/(L + \\mu)$, which
        shrinks the error by $(\\kappa - 1)/(\\kappa + 1) = {kit.fmt((_kappa - 1) / (_kappa + 1), 4)}$
        per step; momentum with $\\eta = {kit.fmt(hb_lr, 4)}$, $\\beta = {kit.fmt(hb_mu, 4)}$,
        rate $(\\sqrt{{\\kappa}} - 1)/(\\sqrt{{\\kappa}} + 1) = {kit.fmt((math.sqrt(_kappa) - 1) / (math.sqrt(_kappa) + 1), 4)}$.

        Steps to cut the loss by a factor $10^{{{round(-math.log10(_target))}}}$: gradient descent
        **{_hits["gradient descent"]}**, momentum **{_hits["momentum"]}**.
        """),
    ], justify="start", gap=1.5, align="center", widths=[3, 2])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 7. Adam

    Adam keeps two moving averages per parameter: $m$ of the gradient and
    $v$ of its square. Both start at zero, which biases them towards zero
    early on, so each is divided by the weight its average has gathered so
    far. The step is then the averaged gradient measured in units of its own
    typical size:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,"
        r"\quad \hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t},"
        r"\quad \theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}",
        caption=r"All operations act entry by entry. Defaults $\beta_1 = 0.9$, "
                r"$\beta_2 = 0.999$, $\epsilon = 10^{-8}$.",
    )
    return


@app.cell
def _(landscape, mo, steep):
    adam_lr = 0.1
    adam_run = landscape.run_optimizer(steep, "adam", lr=adam_lr, steps=3)
    first_step = adam_run.points[1] - adam_run.points[0]
    first_grad = steep.gradient(adam_run.points[0])
    mo.show_code()
    return adam_lr, adam_run, first_grad, first_step


@app.cell(hide_code=True)
def _(L_s, adam_lr, first_grad, first_step, kit, m_s, mo):
    mo.md(f"""
    On the κ = {kit.fmt(L_s / m_s, 0)} bowl of section 6 the first gradient is
    ({kit.fmt(first_grad[0], 2)}, {kit.fmt(first_grad[1], 2)}), steep in one
    coordinate and gentle in the other. At $t = 1$, $\\hat m = g$ and
    $\\sqrt{{\\hat v}} = |g|$, so Adam's first step is $-\\eta$ times the
    **sign** of the gradient, whatever its size: with η = {kit.fmt(adam_lr, 1)} it
    moves by ({kit.fmt(first_step[0], 6)}, {kit.fmt(first_step[1], 6)}).
    Rescaling one parameter's loss does not change how far Adam moves it,
    which is why one learning rate can serve embeddings and output layers
    alike. The update in `llmmath.optim.Adam` follows this formula line for line:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-adam-update")
    return


@app.cell(hide_code=True)
def _(kit, lr_limit):
    _k = 10  # how much steeper the bowl becomes
    kit.check_yourself(
        f"The bowl in section 1 is made {_k} times steeper along y, so L grows {_k}-fold. "
        f"What happens to the largest learning rate at which gradient descent still "
        f"converges?",
        f"It shrinks {_k}-fold: the limit is 2/L, {kit.fmt(lr_limit, 3)} now and "
        f"{kit.fmt(lr_limit / _k, 3)} then. The steepest direction sets the step size for "
        "every direction, which is why ill-conditioned problems are slow.",
    )
    return


@app.cell(hide_code=True)
def _(kit, noise):
    _b = [int(b) for b in noise.batch_sizes]
    _small, _large = 8, 32  # two of the measured batch sizes, a factor 4 apart
    _i, _j = _b.index(_small), _b.index(_large)
    kit.check_yourself(
        f"You quadruple the batch size from {_small} to {_large}. By how much does the "
        f"typical size (standard deviation) of the mini-batch gradient's error shrink?",
        f"By half, since the variance falls by four and the standard deviation is its square "
        f"root. Measured here: √Var = {kit.fmt(noise.variances[_i] ** 0.5, 4)} at "
        f"|B| = {_small} and {kit.fmt(noise.variances[_j] ** 0.5, 4)} at |B| = {_large}, "
        f"a ratio of "
        f"{kit.fmt((noise.variances[_j] / noise.variances[_i]) ** 0.5, 3)}.",
    )
    return


@app.cell(hide_code=True)
def _(horizons, kit, partial_sums):
    _s = partial_sums["η = 1/√t"]
    kit.check_yourself(
        "Does the schedule η_t = 1/√t satisfy both Robbins–Monro conditions?",
        f"No. Σ η_t diverges, as required, but Σ η_t² = Σ 1/t is the harmonic series, which "
        f"also diverges: {kit.fmt(_s[0][1], 2)} after {horizons[0]:,} terms and "
        f"{kit.fmt(_s[1][1], 2)} after {horizons[1]:,}, growing like ln T. The O(1/√T) "
        "guarantee people quote for this schedule is a different theorem, about the average "
        "of the iterates on convex problems.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Gradient descent on a quadratic converges exactly when $\eta < 2/L$, $L$
      the largest Hessian eigenvalue; the condition number sets how slow it is.
    - A stationary point with Hessian eigenvalues of both signs is a saddle;
      gradient descent lingers there, and noise or momentum shortens the stay.
    - A mini-batch gradient's variance is $\sigma^2/|B|$ (with replacement):
      slope −1 on log–log axes, so its standard deviation falls like $1/\sqrt{|B|}$.
    - Robbins–Monro asks for $\sum \eta_t = \infty$ **and** $\sum \eta_t^2 < \infty$;
      $1/t$ qualifies, $1/\sqrt{t}$ and $0.5/t^2$ do not.
    - Momentum turns κ into √κ in the convergence rate; Adam divides each
      coordinate's step by its own gradient scale.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("optimisation")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("optimisation")
    return


@app.cell
def test_step_limit_and_path_by_hand(gd_path, kappa, kit, lr_bowl, lr_limit):
    # f = (x² + κ y²)/2: curvatures 1 and κ, so L = κ and the limit 2/κ
    assert abs(lr_limit - 2.0 / kappa) < 1e-15
    _eta = kit.value(lr_bowl)
    _x, _y = -2.5, 1.5
    for _t in range(gd_path.steps + 1):
        _size = 1.0 + abs(_x) + abs(_y)
        assert abs(gd_path.points[_t, 0] - _x) < 1e-12 * _size
        assert abs(gd_path.points[_t, 1] - _y) < 1e-12 * _size
        assert abs(gd_path.losses[_t] - 0.5 * (_x * _x + kappa * _y * _y)) < 1e-12 * _size**2
        _x, _y = _x - _eta * _x, _y - _eta * kappa * _y
    # a run is cut short only when the steep factor |1 - η κ| exceeds 1
    assert not gd_path.diverged or abs(1 - _eta * kappa) > 1
    return


@app.cell
def test_saddle_curvatures_by_second_differences(pass_point, well_points, wells):
    _h = 1e-4

    def _second(f, i):
        _e = [0.0, 0.0]
        _e[i] = _h
        return (f(_e[0], _e[1]) + f(-_e[0], -_e[1]) - 2 * f(0.0, 0.0)) / _h**2

    def _saddle(x, y):
        return x * x - y * y

    def _wells(x, y):
        return (x * x - 1) ** 2 + y * y

    _s = sorted([_second(_saddle, 0), _second(_saddle, 1)])
    assert abs(_s[0] + 2) < 1e-6 and abs(_s[1] - 2) < 1e-6
    # the eigenvalues come from LAPACK (eigvalsh): equal to -2 and 2 up to rounding only
    _lo, _hi = pass_point.eigenvalues
    assert pass_point.kind == "saddle" and abs(_lo + 2.0) < 1e-12 and abs(_hi - 2.0) < 1e-12
    _w = sorted([_second(_wells, 0), _second(_wells, 1)])
    assert abs(well_points[1].eigenvalues[0] - _w[0]) < 1e-5
    assert abs(well_points[1].eigenvalues[1] - _w[1]) < 1e-5
    assert [c.kind for c in well_points] == ["minimum", "saddle", "minimum"]
    assert wells.stationary_points.shape == (3, 2)
    return


@app.cell
def test_noise_falls_as_sigma2_over_batch(noise, np, per_example):
    _n = per_example.shape[0]
    _g = [sum(per_example[_i, _c] for _i in range(_n)) / _n for _c in range(2)]
    _s2 = sum((per_example[_i, 0] - _g[0]) ** 2 + (per_example[_i, 1] - _g[1]) ** 2
              for _i in range(_n)) / _n
    assert abs(noise.sigma2 - _s2) < 1e-12 * _s2
    for _b, _v, _se in zip(noise.batch_sizes, noise.variances, noise.standard_errors,
                           strict=True):
        assert abs(_v - _s2 / _b) < 4 * _se, (_b, _v, _s2 / _b)
    # slope: least squares by hand; its standard error from the per-size errors
    _x = [np.log(float(_b)) for _b in noise.batch_sizes]
    _y = [np.log(_v) for _v in noise.variances]
    _mx, _my = sum(_x) / len(_x), sum(_y) / len(_y)
    _sxx = sum((_a - _mx) ** 2 for _a in _x)
    _slope = sum((_a - _mx) * (_b - _my) for _a, _b in zip(_x, _y, strict=True)) / _sxx
    _se = np.sqrt(sum(((_a - _mx) / _sxx * _e / _v) ** 2 for _a, _e, _v in
                      zip(_x, noise.standard_errors, noise.variances, strict=True)))
    assert abs(noise.slope - _slope) < 1e-9
    assert _se < 0.01 and abs(_slope + 1) < 4 * _se
    return


@app.cell
def test_partial_sums_against_closed_forms(horizons, math, partial_sums):
    _euler_gamma = 0.5772156649015329
    for _k, _T in enumerate(horizons):
        _harmonic = math.log(_T) + _euler_gamma + 1 / (2 * _T) - 1 / (12 * _T**2)
        assert abs(partial_sums["η = 1/t"][_k][0] - _harmonic) < 1e-9
        assert abs(partial_sums["η = 1/√t"][_k][1] - _harmonic) < 1e-9
        # Σ 1/t² = π²/6 − 1/T + 1/(2T²) − …
        assert abs(partial_sums["η = 1/t"][_k][1] - (math.pi**2 / 6 - 1 / _T + 1 / (2 * _T**2))) < 1e-9
        assert abs(partial_sums["η = 0.1 (constant)"][_k][0] - 0.1 * _T) < 1e-6 * _T
    return


@app.cell
def test_expected_distance_under_one_over_t(rm_expected, rm_sigma, rm_steps):
    # η_t = 1/t on f = ‖θ‖²/2: t² E d²_{t+1} = (t − 1)² E d²_t + 2σ², so E d²_{t+1} = 2σ²/t
    _d2 = rm_expected["η = 1/t"]
    for _t in (1, 10, rm_steps):
        assert abs(_d2[_t] - 2 * rm_sigma**2 / _t) < 1e-12 * (1 + 2 / _t), _t
    # η = 0.5/t²: the noise-free part stalls at ‖θ₀‖² ∏ (1 − 0.5/t²)² > 0
    _prod = 1.0
    for _t in range(1, rm_steps + 1):
        _prod *= (1 - 0.5 / _t**2) ** 2
    assert rm_expected["η = 0.5/t²"][-1] > 18.0 * _prod
    return


@app.cell
def test_adam_steps_by_hand(adam_lr, adam_run, np):
    _theta = np.array([-2.5, 1.5])
    _m, _v = np.zeros(2), np.zeros(2)
    for _t in range(1, 4):
        _g = np.array([_theta[0], 100.0 * _theta[1]])         # gradient of (x² + 100 y²)/2
        _m = 0.9 * _m + 0.1 * _g
        _v = 0.999 * _v + 0.001 * _g * _g
        _theta = _theta - adam_lr * (_m / (1 - 0.9**_t)) / (np.sqrt(_v / (1 - 0.999**_t)) + 1e-8)
        assert np.allclose(adam_run.points[_t], _theta, rtol=1e-13, atol=1e-15), _t
    return


@app.cell
def test_momentum_rate_matches_theory(L_s, m_s, math, race):
    # error contracts by (√κ − 1)/(√κ + 1) per step with the tuned heavy ball; the loss
    # (a square) by its square. Compare the average rate over steps 100 to 200.
    _k = L_s / m_s
    _rate = (math.sqrt(_k) - 1) / (math.sqrt(_k) + 1)
    _l = race["momentum"].losses
    _measured = (_l[200] / _l[100]) ** (1 / 100)
    assert abs(math.sqrt(_measured) - _rate) < 0.02
    _gd = race["gradient descent"].losses
    _gd_rate = (_gd[200] / _gd[100]) ** (1 / 100)
    assert abs(math.sqrt(_gd_rate) - (_k - 1) / (_k + 1)) < 1e-6
    return


if __name__ == "__main__":
    app.run()
