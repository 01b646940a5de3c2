import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Bayes' rule in training")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import nn, optim, prob
    from llmmath.autograd import Tensor, no_grad
    from llmmath.autograd import functional as F
    from llmmath.lessons import _kit as kit

    return F, Tensor, kit, math, mo, nn, no_grad, np, optim, prob


@app.cell(hide_code=True)
def _(kit):
    kit.header("bayes")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Bayes' rule is how evidence should change a belief. In training it shows
    up in disguise more often than by name: a penalty that keeps weights
    small is a *prior belief* that they are small, and some tricks that look
    like engineering can be read as averaging over many models. This lesson
    works through the rule itself, then the one correspondence that holds
    exactly (weight decay is a Gaussian prior), then one that holds only
    loosely (dropout as approximate Bayesian averaging).
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"P(h \mid D) = \frac{P(D \mid h)\,P(h)}{P(D)}, \qquad "
        r"P(D) = \sum_{h'} P(D \mid h')\,P(h')",
        caption=(
            r"$h$ is a hypothesis, $D$ the data. $P(h)$ is the prior (belief before the "
            r"data), $P(D \mid h)$ the likelihood (how well $h$ explains the data), "
            r"$P(h \mid D)$ the posterior. The evidence $P(D)$ only rescales the posterior "
            r"so that it sums to 1."
        ),
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("002-bayes-rule")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## A worked example: a detector of machine-written text

    A detector flags a text as machine-written. It catches most machine text
    and sometimes flags human text too. How likely is a flagged text to be
    machine-written? The answer depends on a number the detector knows
    nothing about: how common machine text is in the first place. Set that
    base rate with the slider.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    base_rate = mo.ui.slider(0.01, 0.9, step=0.01, value=0.1, show_value=True,
                             label="prior P(machine)", debounce=False)
    base_rate
    return (base_rate,)


@app.cell
def _(base_rate, kit, mo, prob):
    hypotheses = ["machine", "human"]
    prior = [kit.value(base_rate), 1 - kit.value(base_rate)]
    p_flag = [0.90, 0.08]          # P(flagged | machine), P(flagged | human): the detector
    posterior = prob.bayes_posterior(prior, p_flag)
    # a second, independent detector flags it too: yesterday's posterior is today's prior
    posterior_2 = prob.bayes_posterior(posterior, p_flag)
    mo.show_code()
    return hypotheses, p_flag, posterior, posterior_2, prior


@app.cell(hide_code=True)
def _(hypotheses, kit, mo, p_flag, posterior, posterior_2, prior):
    _evidence = sum(l * p for l, p in zip(p_flag, prior, strict=True))
    _fig, _ax = kit.figure(size=(5.0, 2.8))
    _x = range(len(hypotheses))
    for _k, (_label, _vals, _c) in enumerate([("prior", prior, "#c6dbef"),
                                              ("after one flag", posterior, "#6baed6"),
                                              ("after two flags", posterior_2, "#08519c")]):
        _ax.bar([i + 0.27 * (_k - 1) for i in _x], _vals, width=0.27, color=_c, label=_label)
    _ax.set_xticks(list(_x), labels=hypotheses)
    _ax.set_ylim(0, 1.3)
    _ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    _ax.set_ylabel("probability")
    _ax.legend(frameon=False, ncol=3, loc="upper center")
    mo.vstack([
        mo.md(f"""
        Evidence: $P(\\text{{flag}}) = {kit.fmt(p_flag[0], 2)} \\times {kit.fmt(prior[0], 2)} +
        {kit.fmt(p_flag[1], 2)} \\times {kit.fmt(prior[1], 2)} = {kit.fmt(_evidence, 4)}$.

        $P(\\text{{machine}} \\mid \\text{{flag}}) = {kit.fmt(p_flag[0], 2)} \\times
        {kit.fmt(prior[0], 2)} / {kit.fmt(_evidence, 4)}$ = **{kit.pct(posterior[0])}**.

        After a second independent flag: **{kit.pct(posterior_2[0])}**.

        With a low base rate most flags are false alarms, however good the
        detector: the few machine texts are outnumbered by the many human
        texts that get flagged by mistake.
        """),
        kit.show(_fig, alt="prior and posterior probabilities of the two hypotheses"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Weight decay is a Gaussian prior

    Fit a linear model $y = w^\top \phi(x) + \varepsilon$ with Gaussian noise
    $\varepsilon \sim \mathcal{N}(0, \sigma^2)$, and put a Gaussian prior on
    every weight, $w_j \sim \mathcal{N}(0, \sigma_p^2)$. The most probable
    weights after seeing the data (the **MAP** estimate) maximise the
    posterior, so they minimise its negative logarithm. Writing out the two
    Gaussian log-densities:

    $$-\log p(w \mid D) = \underbrace{\frac{1}{2\sigma^2}\sum_{i=1}^{N}\big(y_i - w^\top\phi(x_i)\big)^2}_{-\log p(D \mid w)} + \underbrace{\frac{1}{2\sigma_p^2}\lVert w\rVert^2}_{-\log p(w)} + \text{const}.$$

    Multiply by $2\sigma^2$, which moves no minimum:

    $$\sum_{i=1}^{N}\big(y_i - w^\top\phi(x_i)\big)^2 + \lambda \lVert w\rVert^2, \qquad \lambda = \frac{\sigma^2}{\sigma_p^2}.$$

    That is the squared-error loss with an L2 penalty: ridge regression, or
    weight decay. A narrow prior (small $\sigma_p$) is a strong penalty; a
    flat prior ($\sigma_p \to \infty$) is no penalty, and MAP becomes maximum
    likelihood. With the loss written as a *mean* over the $N$ examples the
    same prior gives $\lambda = \sigma^2 / (N\sigma_p^2)$; with the penalty
    written $\frac{\lambda}{2}\lVert w\rVert^2$ next to the negative
    log-likelihood, $\lambda = 1/\sigma_p^2$. The constants move with the
    convention; the correspondence does not. (AdamW's *decoupled* weight decay
    shrinks the weights outside the adaptive step, and is not exactly this
    penalty.)
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-weight-decay-gaussian-prior")
    return


@app.cell
def _(mo, np):
    _rng = np.random.default_rng(3)
    noise_std, degree = 0.25, 9
    x_train = np.sort(_rng.uniform(-1, 1, 14))
    y_train = np.sin(np.pi * x_train) + noise_std * _rng.standard_normal(14)
    x_test = np.linspace(-1, 1, 200)
    y_test = np.sin(np.pi * x_test) + noise_std * _rng.standard_normal(200)

    def features(x):
        """Polynomial features 1, x, ..., x^degree: (N,) -> (N, degree + 1)."""
        return np.vander(x, degree + 1, increasing=True)

    Phi = features(x_train)                                   # (N, D)
    mo.show_code()
    return Phi, degree, features, noise_std, x_test, x_train, y_test, y_train


@app.cell(hide_code=True)
def _(Phi, degree, kit, mo, noise_std, x_train):
    mo.md(f"""
    The data: {len(x_train)} noisy points of $\\sin(\\pi x)$ with noise
    $\\sigma = {kit.fmt(noise_std, 2)}$, fitted with a polynomial of degree
    {degree}, so {Phi.shape[1]} weights for {Phi.shape[0]} points: plenty of
    room to chase the noise. Move the prior width $\\sigma_p$.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    prior_width = mo.ui.slider(
        steps=[0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0],
        value=1.0, show_value=True, label="prior width σₚ", debounce=False,
    )
    prior_width
    return (prior_width,)


@app.cell
def _(Phi, kit, mo, noise_std, prior_width, prob, y_train):
    post = prob.linear_gaussian_posterior(Phi, y_train, noise_std, kit.value(prior_width))
    w_map = post.mean                                          # Bayesian side: MAP weights
    w_ridge = prob.ridge_regression(Phi, y_train, lam=post.ridge_lambda)  # penalty side
    w_mle = prob.ridge_regression(Phi, y_train, lam=0.0)       # no prior: least squares
    mo.show_code()
    return post, w_map, w_mle, w_ridge


@app.cell(hide_code=True)
def _(Phi, features, kit, mo, noise_std, np, post, prior_width, w_map, w_mle,
      w_ridge, x_test, x_train, y_test, y_train):
    _grid = np.linspace(-1, 1, 300)
    _F = features(_grid)
    _band = 2 * np.sqrt(np.einsum("ij,jk,ik->i", _F, post.cov, _F) + noise_std**2)
    _fig, _ax = kit.figure(size=(6.0, 3.6))
    _ax.fill_between(_grid, _F @ w_map - _band, _F @ w_map + _band, color="#deebf7",
                     label="MAP ± 2 predictive sd")
    _ax.plot(_grid, np.sin(np.pi * _grid), color="black", lw=1, ls="--", label="sin(πx)")
    _ax.plot(_grid, _F @ w_mle, color="#bdbdbd", label="least squares (no prior)")
    _ax.plot(_grid, _F @ w_map, color="#08519c", label="MAP = weight decay")
    _ax.plot(x_train, y_train, "o", color="#de2d26", ms=4, label="data")
    _ax.set_ylim(-2.5, 2.5)
    _ax.set_xlabel("x")
    _ax.legend(frameon=False, fontsize=8, loc="upper left")
    _rmse = {name: float(np.sqrt(np.mean((features(x_test) @ w - y_test) ** 2)))
             for name, w in (("map", w_map), ("mle", w_mle))}
    mo.vstack([
        mo.md(f"""
        $\\sigma_p$ = {kit.fmt(kit.value(prior_width), 2)} gives $\\lambda = \\sigma^2/\\sigma_p^2 =
        {kit.fmt(post.ridge_lambda, 5)}$ &nbsp;·&nbsp; largest difference between the MAP
        weights and the ridge weights: {np.max(np.abs(w_map - w_ridge)):.1e} &nbsp;·&nbsp;
        ‖w‖: {kit.fmt(np.linalg.norm(w_map), 2)} (MAP) against
        {kit.fmt(np.linalg.norm(w_mle), 1)} (no prior) &nbsp;·&nbsp; error on
        {len(x_test)} new points (RMSE): {kit.fmt(_rmse["map"], 3)} against
        {kit.fmt(_rmse["mle"], 3)}
        """),
        mo.hstack([
            kit.show(_fig, alt="data, the least-squares fit and the MAP fit with its band"),
            mo.md(kit.matrix_table(np.stack([w_map, w_ridge], axis=1),
                                   [f"w{j}" for j in range(Phi.shape[1])],
                                   ["MAP", "ridge"], digits=3)),
        ], justify="start", gap=2, align="center"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    Two routes, one answer: the MAP column comes from the posterior of the
    Bayesian model, the ridge column from minimising the penalised squared
    error. The reason is visible without any optimiser. For *every* weight
    vector $w$, the negative log posterior and the ridge loss divided by
    $2\sigma^2$ differ by the same constant, so they go up and down together
    and bottom out at the same place. Here it is for a few random $w$, with
    the log-densities evaluated by `prob.normal_logpdf`:
    """)
    return


@app.cell
def _(Phi, kit, mo, noise_std, np, post, prior_width, prob, y_train):
    _rng = np.random.default_rng(4)
    probes = _rng.normal(0, 2, size=(5, Phi.shape[1]))          # five arbitrary weight vectors
    neg_log_post = np.array([
        -(prob.normal_logpdf(y_train, Phi @ w, noise_std).sum()  # log-likelihood
          + prob.normal_logpdf(w, 0.0, kit.value(prior_width)).sum())  # log-prior
        for w in probes
    ])
    ridge_loss = np.array([np.sum((y_train - Phi @ w) ** 2) + post.ridge_lambda * w @ w
                           for w in probes])
    offset = neg_log_post - ridge_loss / (2 * noise_std**2)
    mo.show_code()
    return neg_log_post, offset, probes, ridge_loss


@app.cell(hide_code=True)
def _(kit, mo, offset):
    mo.md(f"""
    Offsets for the five probes: {", ".join(kit.fmt(o, 6) for o in offset)}. The
    constant is the log of the two normalising factors,
    $N\\log(\\sigma\\sqrt{{2\\pi}}) + D\\log(\\sigma_p\\sqrt{{2\\pi}})$; it depends on the
    prior width but not on $w$.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Dropout

    **Dropout** switches each hidden unit off at random during training, with
    probability $p$, and scales the survivors by $1/(1-p)$ so that every
    unit's output keeps its expected value. A network can then no longer lean
    on any single unit; it is in effect a random member of a huge family of
    thinned networks, a different one at every step. At test time dropout is
    switched off and the full network runs once.
    """)
    return


@app.cell
def _(F, Tensor, mo, np):
    drop_p = 0.2
    _ones = Tensor(np.ones((10_000, 8)))
    masked = F.dropout(_ones, p=drop_p, training=True, rng=0).data   # (10000, 8)
    mo.show_code()
    return drop_p, masked


@app.cell(hide_code=True)
def _(drop_p, kit, masked, mo, np):
    mo.md(f"""
    With $p = {drop_p}$ each entry becomes 0 or $1/(1-p) = {kit.fmt(1 / (1 - drop_p), 3)}$
    (values seen: {", ".join(kit.fmt(v, 3) for v in np.unique(masked))}); the share of
    zeros is {kit.pct(np.mean(masked == 0), 2)} and the average of every entry is
    {kit.fmt(masked.mean(), 4)}, the input's value 1 up to sampling noise.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### Monte Carlo dropout

    Gal and Ghahramani (2016) suggested leaving dropout **on** at test time,
    running the network $M$ times and reading the spread of the answers as a
    measure of uncertainty, with the average as the prediction. Under the
    assumptions of their paper this is approximate inference in a Bayesian
    network with a particular variational posterior, and the average over
    passes approximates the average over that posterior. Below, a tiny
    network (one input, two hidden layers of 64 ReLU units, dropout after
    each) is trained on noisy points with a gap in the middle.
    """)
    return


@app.cell
def _(F, Tensor, drop_p, mo, nn, np, optim):
    _rng = np.random.default_rng(5)
    x_obs = np.sort(_rng.uniform(-1, 1, 40))
    x_obs = x_obs[(x_obs < -0.3) | (x_obs > 0.3)]            # leave a gap in the data
    y_obs = np.sin(3 * x_obs) + 0.1 * _rng.standard_normal(len(x_obs))
    hidden = 64
    layers = [nn.Linear(1, hidden, dtype=np.float64, rng=1),
              nn.Linear(hidden, hidden, dtype=np.float64, rng=2),
              nn.Linear(hidden, 1, dtype=np.float64, rng=3)]

    def net(x, gen, p):
        """Forward pass with dropout (p = 0: the plain network); x: (B, 1) -> (B, 1)."""
        h = F.dropout(layers[0](x).relu(), p, True, gen)      # (B, H)
        h = F.dropout(layers[1](h).relu(), p, True, gen)      # (B, H)
        return layers[2](h)                                   # (B, 1)

    _opt = optim.Adam([q for layer in layers for q in layer.parameters()], lr=0.01)
    _gen = np.random.default_rng(6)
    for _step in range(600):
        _loss = ((net(Tensor(x_obs[:, None]), _gen, drop_p) - Tensor(y_obs[:, None])) ** 2).mean()
        _opt.zero_grad()
        _loss.backward()
        _opt.step()
    mo.show_code()
    return hidden, layers, net, x_obs, y_obs


@app.cell
def _(Tensor, drop_p, mo, net, no_grad, np):
    x_grid = np.linspace(-2, 2, 161)
    n_passes = 200
    mc_seed = 7
    with no_grad():
        _x = Tensor(np.tile(x_grid, n_passes)[:, None])              # (M * G, 1)
        passes = net(_x, np.random.default_rng(mc_seed), drop_p).data.reshape(n_passes, -1)
        plain = net(Tensor(x_grid[:, None]), None, 0.0).data[:, 0]   # dropout off
    mo.show_code()
    return mc_seed, n_passes, passes, plain, x_grid


@app.cell(hide_code=True)
def _(mo, n_passes):
    n_used = mo.ui.slider(steps=[1, 2, 5, 10, 20, 50, 100, n_passes], value=50,
                          show_value=True, label="passes M", debounce=False)
    n_used
    return (n_used,)


@app.cell(hide_code=True)
def _(kit, mo, n_used, np, passes, plain, x_grid, x_obs, y_obs):
    _P = passes[: kit.value(n_used)]
    _mean, _sd = _P.mean(axis=0), _P.std(axis=0)
    _fig, _ax = kit.figure(size=(6.0, 3.4))
    _ax.fill_between(x_grid, _mean - 2 * _sd, _mean + 2 * _sd, color="#deebf7",
                     label="MC mean ± 2 sd")
    for _row in _P[:5]:
        _ax.plot(x_grid, _row, color="#9ecae1", lw=0.8)
    _ax.plot(x_grid, _mean, color="#08519c", label=f"mean of {kit.value(n_used)} passes")
    _ax.plot(x_grid, plain, color="black", lw=1, ls="--", label="dropout off")
    _ax.plot(x_obs, y_obs, "o", color="#de2d26", ms=3, label="data")
    _ax.set_xlabel("x")
    _ax.legend(frameon=False, fontsize=8, loc="lower left")
    _regions = {"among the data": (np.abs(x_grid) <= 1) & (np.abs(x_grid) >= 0.3),
                "in the gap": np.abs(x_grid) < 0.3,
                "beyond the data": np.abs(x_grid) > 1}
    _sd_by = {k: float(_sd[m].mean()) for k, m in _regions.items()}
    mo.vstack([
        mo.md(f"""
        Average spread (sd across passes): {" &nbsp;·&nbsp; ".join(
            f"{k}: {kit.fmt(v, 3)}" for k, v in _sd_by.items())} &nbsp;·&nbsp; largest gap
        between the MC mean and the plain network: {kit.fmt(np.abs(_mean - plain).max(), 3)}
        """),
        kit.show(_fig, alt="Monte Carlo dropout: individual passes, their mean and spread"),
    ])
    return


@app.cell(hide_code=True)
def _(drop_p, kit, mo):
    mo.vstack([
        mo.md(f"""
        Read this plot modestly. The average of the passes stays close to the
        plain network, which is why switching dropout off at test time works.
        The spread is real information about how much the thinned networks
        disagree, but its size is set by the dropout rate $p = {drop_p}$, a
        setting we chose for training, not something the data determined, and
        nothing here checks that a band of ±2 sd covers the truth at the rate a
        calibrated uncertainty would. Whether it widens away from the data
        depends on the architecture and on $p$; compare the three averages above.
        That is why the ledger files the claim as an interpretation rather than
        a fact it can check:
        """),
        kit.claim_badge("001-mc-dropout-bayesian"),
    ])
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([
        mo.md(r"""
        ## Other Bayesian readings

        The syllabus lists two more. Both are descriptions or research
        hypotheses, with no number to check: the usual reward model of
        RLHF is fitted by maximum likelihood on pairwise preferences, and
        in-context learning as implicit Bayesian inference is a hypothesis
        studied on synthetic tasks.
        """),
        kit.claim_badge("001-rlhf-bayesian-ranking"),
        kit.claim_badge("001-in-context-learning-bayesian"),
    ])
    return


@app.cell(hide_code=True)
def _(kit, p_flag, prob):
    _rate = 0.01
    _post = prob.bayes_posterior([_rate, 1 - _rate], p_flag)
    kit.check_yourself(
        f"Only {kit.pct(_rate, 0)} of texts are machine-written. The detector above "
        f"(catches {kit.pct(p_flag[0], 0)}, false alarms on {kit.pct(p_flag[1], 0)}) flags a "
        f"text. How likely is it machine-written?",
        f"$\\frac{{{p_flag[0]} \\times {_rate}}}{{{p_flag[0]} \\times {_rate} + {p_flag[1]} "
        f"\\times {1 - _rate}}}$ = {kit.pct(_post[0])}. Most flags are false alarms: there are "
        f"far more human texts to flag by mistake.",
    )
    return


@app.cell(hide_code=True)
def _(kit, noise_std):
    _sp = 0.5
    kit.check_yourself(
        f"The noise has $\\sigma = {noise_std}$. What ridge penalty λ (sum-of-squares "
        f"loss) matches a prior width $\\sigma_p = {_sp}$, and what happens to λ if the "
        f"prior becomes twice as wide?",
        f"$\\lambda = \\sigma^2/\\sigma_p^2 = {kit.fmt(noise_std**2 / _sp**2, 4)}$. Doubling "
        f"$\\sigma_p$ divides λ by four: {kit.fmt(noise_std**2 / (2 * _sp) ** 2, 4)}. A wider "
        f"prior is a weaker belief that the weights are small.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "With dropout probability p = 0, what spread do the Monte Carlo passes show? What does "
        "that say about where the spread comes from?",
        "None: every pass is the same network and gives the same output. The spread is created "
        "by the dropout noise we inject, so its size follows p; it measures how much thinned "
        "networks disagree, which is a hint of uncertainty, not a calibrated one.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Posterior ∝ likelihood × prior; the evidence only normalises. A low
      base rate can outweigh a good test.
    - MAP with a Gaussian prior $\mathcal{N}(0, \sigma_p^2)$ on the weights and
      Gaussian noise $\sigma$ is ridge regression with $\lambda = \sigma^2/\sigma_p^2$:
      weight decay is a prior belief in small weights.
    - Dropout zeroes units with probability $p$ and rescales the rest by
      $1/(1-p)$, keeping expectations.
    - Monte Carlo dropout averages thinned networks; its spread is a useful
      hint of uncertainty, not a verified Bayesian posterior.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("bayes")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("bayes")
    return


@app.cell
def test_detector_by_hand(p_flag, posterior, posterior_2, prior):
    _joint = [p_flag[_i] * prior[_i] for _i in range(2)]
    _post = [_j / sum(_joint) for _j in _joint]
    assert all(abs(posterior[_i] - _post[_i]) < 1e-12 for _i in range(2))
    _joint2 = [p_flag[_i] ** 2 * prior[_i] for _i in range(2)]   # two independent flags
    assert all(abs(posterior_2[_i] - _joint2[_i] / sum(_joint2)) < 1e-12 for _i in range(2))
    return


@app.cell
def test_map_solves_the_normal_equations(
    Phi,
    kit,
    noise_std,
    np,
    prior_width,
    w_map,
    w_ridge,
    y_train,
):
    _lam = noise_std**2 / kit.value(prior_width)**2
    _A = Phi.T @ Phi + _lam * np.eye(Phi.shape[1])
    _ref = np.linalg.solve(_A, Phi.T @ y_train)
    assert np.allclose(w_ridge, _ref, rtol=1e-6, atol=1e-8)
    assert np.allclose(w_map, _ref, rtol=1e-6, atol=1e-8)
    # gradient of the negative log posterior vanishes at the MAP (relative to its terms)
    _g_lik = Phi.T @ (Phi @ w_map - y_train) / noise_std**2
    _g_prior = w_map / kit.value(prior_width)**2
    assert np.max(np.abs(_g_lik + _g_prior)) < 1e-6 * (1 + np.max(np.abs(_g_prior)))
    return


@app.cell
def test_offset_is_the_normalising_constant(
    Phi,
    kit,
    math,
    neg_log_post,
    noise_std,
    offset,
    prior_width,
    probes,
    y_train,
):
    _s, _sp = noise_std, kit.value(prior_width)
    for _w, _nlp in zip(probes, neg_log_post, strict=True):
        _manual = 0.0
        for _xi, _yi in zip(Phi, y_train, strict=True):
            _r = _yi - sum(_a * _b for _a, _b in zip(_xi, _w, strict=True))
            _manual += _r * _r / (2 * _s * _s) + math.log(_s) + 0.5 * math.log(2 * math.pi)
        for _wj in _w:
            _manual += _wj * _wj / (2 * _sp * _sp) + math.log(_sp) + 0.5 * math.log(2 * math.pi)
        assert abs(_nlp - _manual) < 1e-9 * abs(_manual)
    _const = (len(y_train) * math.log(_s * math.sqrt(2 * math.pi))
              + Phi.shape[1] * math.log(_sp * math.sqrt(2 * math.pi)))
    assert all(abs(_o - _const) < 1e-8 * max(1.0, abs(_const)) for _o in offset)
    return


@app.cell
def test_dropout_masks(drop_p, masked, np):
    _values = set(np.unique(masked).tolist())
    assert _values == {0.0, 1 / (1 - drop_p)}
    _n = masked.size
    _share = float((masked == 0).sum()) / _n
    assert abs(_share - drop_p) < 4 * (drop_p * (1 - drop_p) / _n) ** 0.5   # 4 standard errors
    return


@app.cell
def test_mc_passes_by_hand(drop_p, hidden, layers, mc_seed, n_passes, np, passes, plain,
                           x_grid):
    _W = [(_l.weight.data, _l.bias.data) for _l in layers]
    _gen = np.random.default_rng(mc_seed)
    _x = np.tile(x_grid, n_passes)[:, None]
    _keep = 1.0 / (1.0 - drop_p)
    _m1 = (_gen.random((len(_x), hidden)) >= drop_p) * _keep
    _h = np.maximum(_x @ _W[0][0].T + _W[0][1], 0.0) * _m1
    _m2 = (_gen.random((len(_x), hidden)) >= drop_p) * _keep
    _h = np.maximum(_h @ _W[1][0].T + _W[1][1], 0.0) * _m2
    _out = (_h @ _W[2][0].T + _W[2][1]).reshape(n_passes, -1)
    assert np.allclose(passes, _out, rtol=1e-12, atol=1e-12)
    _h0 = np.maximum(np.maximum(x_grid[:, None] @ _W[0][0].T + _W[0][1], 0) @ _W[1][0].T
                     + _W[1][1], 0)
    assert np.allclose(plain, (_h0 @ _W[2][0].T + _W[2][1])[:, 0], rtol=1e-12, atol=1e-12)
    return


if __name__ == "__main__":
    app.run()
