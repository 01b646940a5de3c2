import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Scaling laws")


@app.cell
def _():
    import json
    import math

    import marimo as mo
    import numpy as np

    from llmmath import scaling
    from llmmath.data import load_corpus
    from llmmath.lessons import LESSON_DIR
    from llmmath.lessons import _kit as kit

    return LESSON_DIR, json, kit, load_corpus, math, mo, np, scaling


@app.cell(hide_code=True)
def _(kit):
    kit.header("scaling_laws")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Whoever trains a language model has a compute budget and two ways to
    spend it: a bigger model, or more text for the model they have. Train
    too big a model on too little text and it never sees enough to use its
    size; train a small one for ever and it runs out of room to learn. The
    papers that sized today's models measured this trade-off on hundreds of
    small runs, fitted a formula to the final losses, and read the best split
    of the budget off the formula. This lesson does the same on runs trained
    on this course's own machine, and sets the result beside the published
    constants, with an honest list of why the two differ.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"L(N, D) = E + \frac{A}{N^{\alpha}} + \frac{B}{D^{\beta}}, \qquad C \approx 6 N D",
        caption=(
            r"$L$ is the final loss of a model with $N$ parameters trained on $D$ tokens; "
            r"$E$ is the loss no model gets below (the text's own unpredictability); "
            r"$A/N^{\alpha}$ is what a finite model costs and $B/D^{\beta}$ what finite data "
            r"costs. Training costs about $C = 6ND$ floating-point operations: 2 per parameter "
            r"and token forward, 4 backward."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 1. The sweep

    The runs below were trained by `llmmath scaling --budget quick`, the
    command that comes with the course; the lesson reads its summary and
    never trains. Every model follows one shape rule (a fixed ratio of width
    to depth, heads of a fixed width), its learning rate is inversely
    proportional to its width, and each run's cosine schedule ends at its own
    last step. $N$ counts the weights of the transformer blocks only, without
    the token and position embeddings (Kaplan et al.'s choice), and $D$ counts
    characters.
    """)
    return


@app.cell
def _(LESSON_DIR, json, mo, np):
    sweep = json.loads((LESSON_DIR / "scaling_laws.json").read_text(encoding="utf-8"))
    runs = sweep["runs"]
    N = np.array([r["params"] for r in runs], dtype=float)     # non-embedding parameters
    D = np.array([r["tokens"] for r in runs], dtype=float)     # characters seen
    L = np.array([r["val_loss"] for r in runs])                # nats per character
    C_runs = 6 * N * D                                         # each run's compute
    mo.show_code()
    return C_runs, D, L, N, runs, sweep


@app.cell(hide_code=True)
def _(D, N, kit, mo, runs, sweep):
    _m, _plan = sweep["machine"], sweep["plan"]
    _small = min(runs, key=lambda r: r["params"])
    _emb = 1 - _small["params"] / _small["params_total"]
    _load = _m["load_average"]
    _rows = [[str(r["n_layer"]), str(r["n_embd"]), f"{r['params']:,}", f"{r['tokens']:,}",
              kit.fmt(r["tokens"] / r["params"], 1), kit.fmt(r["val_loss"], 4)] for r in runs]
    _end = sweep["sessions"][0].get("load_average_end")
    mo.vstack([
        mo.md(f"""
        **Measured on** {sweep["created"][:10]}, on one {_m["cpu"]} machine with
        {_m["cores"]} cores ({_m["system"]}; load average {kit.fmt(_load[0], 1) if _load else "?"}
        when the sweep started and {kit.fmt(_end[0], 1) if _end else "?"} when it ended: the
        machine was shared), with {_m.get("blas_threads") or "the default number of"} BLAS
        thread(s). The
        {len(runs)} runs took {kit.fmt(sweep["sweep_seconds"] / 60, 1)} minutes in all,
        {kit.fmt(sweep["training_seconds"] / 60, 1)} of them training. Sizes from
        {int(N.min()):,} to {int(N.max()):,} parameters, {_plan["batch_size"]} x
        {_plan["block_size"]} = {_plan["batch_size"] * _plan["block_size"]:,} characters a step,
        from {int(D.min()):,} to {int(D.max()):,} characters per run. The loss is measured
        on the same {_plan["eval_tokens"]:,} characters of the validation plays for every run.
        In the smallest model the embeddings are {kit.pct(_emb, 0)} of all weights.
        """),
        mo.md(kit.matrix_table(_rows, [r["name"] for r in runs],
                               ["layers", "width", "N", "D", "D/N", "loss"], digits=3,
                               corner="run")),
    ])
    return


@app.cell(hide_code=True)
def _(kit, mo, scaling):
    mo.md(rf"""
    ## 2. The fit

    Hoffmann et al. (the Chinchilla paper) fit the formula in log space. With
    $A = e^a$, $B = e^b$, $E = e^e$ the predicted log-loss is a log-sum-exp,

    $$\log \hat L_i = \operatorname{{LSE}}(a - \alpha \log N_i,\; b - \beta \log D_i,\; e),$$

    and the five numbers minimise $\sum_i \operatorname{{Huber}}_\delta(\log \hat L_i - \log L_i)$
    with $\delta = {kit.sci(scaling.HUBER_DELTA, 0)}$, by L-BFGS from a grid of starting
    points. Huber's loss is quadratic for residuals smaller than $\delta$ and linear
    beyond, so a run that went badly pulls the fit far less than under least squares.
    """)
    return


@app.cell
def _(D, L, N, mo, scaling):
    fit = scaling.fit_scaling_law(N, D, L)          # L-BFGS from the 16 best grid points
    law = fit.law
    objective = scaling.huber_objective(fit.theta, N, D, L)   # what the fit minimised
    a_opt, b_opt = scaling.frontier_exponents(law.alpha, law.beta)
    mo.show_code()
    return a_opt, b_opt, fit, law, objective


@app.cell(hide_code=True)
def _(a_opt, b_opt, fit, kit, law, mo, np, objective, scaling, sweep):
    _iv = sweep["intervals"]
    _ch = scaling.CHINCHILLA
    _ca, _cb = scaling.frontier_exponents(_ch.alpha, _ch.beta)

    def _num(x):
        return f"{x:,.0f}" if abs(x) >= 100 else kit.fmt(x, 3)

    def _ci(name):
        lo, hi = _iv.get(name) or (None, None)
        return "-" if lo is None else f"[{_num(lo)}, {_num(hi)}]"

    _rows = [["E", _num(law.E), _ci("E"), kit.fmt(_ch.E, 2)],
             ["A", _num(law.A), _ci("A"), kit.fmt(_ch.A, 1)],
             ["B", _num(law.B), _ci("B"), kit.fmt(_ch.B, 1)],
             ["α", kit.fmt(law.alpha, 3), _ci("alpha"), kit.fmt(_ch.alpha, 2)],
             ["β", kit.fmt(law.beta, 3), _ci("beta"), kit.fmt(_ch.beta, 2)],
             ["a = β/(α+β)", kit.fmt(a_opt, 3), _ci("a"), kit.fmt(_ca, 3)],
             ["b = α/(α+β)", kit.fmt(b_opt, 3), _ci("b"), kit.fmt(_cb, 3)]]
    _r2 = sweep["heldout"]["r2"]
    mo.vstack([
        mo.md(kit.matrix_table([r[1:] for r in _rows], [r[0] for r in _rows],
                               ["ours", f"{kit.pct(sweep['confidence'], 0)} interval",
                                "Chinchilla"], corner="")),
        mo.md(f"""
        At the optimum the Huber objective is ${kit.sci(objective)}$ and the median
        residual $|\\log \\hat L_i - \\log L_i|$ is {kit.fmt(float(np.median(np.abs(fit.residuals))), 4)}:
        the fit misses a typical run by {kit.pct(float(np.expm1(np.median(np.abs(fit.residuals)))), 1)}
        of its loss. The intervals come from the command: {sweep["n_resamples"]} refits on the runs
        resampled with replacement (seeded). Over the runs the fit explains
        {kit.pct(fit.r2)} of the variance of the loss (R²); predicting each run from
        a fit that did not see it ({sweep["heldout"]["k_folds"]}-fold cross-validation,
        also computed by the command) it explains {kit.pct(_r2) if _r2 is not None else "?"}.
        Chinchilla's $E$, $A$ and $B$ are in nats per BPE token of web text and ours in
        nats per character of Shakespeare: only the exponents can be set side by side.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(D, L, N, kit, law, np):
    _fig, (_ax, _bx) = kit.figure(1, 2, size=(9.0, 3.4), margins={"wspace": 0.9})
    for _panel, _x, _group, _xl in ((_ax, N, D, "parameters N"), (_bx, D, N, "characters D")):
        _levels = np.unique(_group)
        _grid = np.geomspace(_x.min() / 1.4, _x.max() * 1.4, 80)
        for _i, _g in enumerate(_levels):
            _sel = _group == _g
            _panel.plot(_x[_sel], L[_sel], "o", ms=4, color=f"C{_i}")
            _fitted = law.loss(_grid, _g) if _panel is _ax else law.loss(_g, _grid)
            _panel.plot(_grid, _fitted, "--", lw=1, color=f"C{_i}")
        _panel.axhline(law.E, color="gray", ls=":", lw=1)
        _panel.set_xscale("log")
        _panel.set_xlabel(_xl)
        _panel.set_ylabel("loss (nats/char)")
    _ax.set_title("one colour per D")
    _bx.set_title("one colour per N")
    kit.show(_fig, alt="measured losses against N and against D with the fitted law dashed")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 3. Spending a compute budget

    On the curve $C = 6ND$ the loss is lowest where its derivative in $N$
    vanishes, which gives a closed form:

    $$N_{\text{opt}}(C) = G \left(\tfrac{C}{6}\right)^{a}, \quad
      D_{\text{opt}}(C) = G^{-1} \left(\tfrac{C}{6}\right)^{b}, \quad
      G = \left(\tfrac{\alpha A}{\beta B}\right)^{1/(\alpha+\beta)},$$

    with $a = \beta/(\alpha+\beta)$ and $b = \alpha/(\alpha+\beta)$. Move the
    budget: the left panel is the IsoFLOP profile (the loss of every split of
    that budget between parameters and data) under our fit, the right one the
    tokens per parameter at the optimum, ours and Chinchilla's.
    """)
    return


@app.cell(hide_code=True)
def _(mo, np, sweep):
    _lo, _hi = sweep["frontier"]["compute_range"]
    compute_steps = [round(float(x), 2) for x in
                     np.arange(np.floor(np.log10(_lo)) - 1, np.ceil(np.log10(_hi)) + 2.01, 0.25)]
    log_c = mo.ui.slider(steps=compute_steps,
                         value=min(compute_steps, key=lambda s: abs(s - np.log10(np.sqrt(_lo * _hi)))),
                         show_value=True, label="compute budget log₁₀ C (FLOPs)",
                         debounce=False)
    log_c
    return compute_steps, log_c


@app.cell
def _(kit, law, log_c, mo, scaling):
    budget = 10.0 ** kit.value(log_c)
    ours = scaling.compute_optimal(law, budget)
    theirs = scaling.compute_optimal(scaling.CHINCHILLA, budget)
    mo.show_code()
    return budget, ours, theirs


@app.cell(hide_code=True)
def _(
    C_runs,
    L,
    N,
    budget,
    compute_steps,
    kit,
    law,
    math,
    mo,
    np,
    ours,
    scaling,
    sweep,
    theirs,
):
    _fig, (_ax, _bx) = kit.figure(1, 2, size=(9.0, 3.4), margins={"wspace": 0.95})
    _n = np.geomspace(float(ours.N[()]) / 300, float(ours.N[()]) * 300, 200)
    _ax.plot(_n, scaling.isoflop_losses(law, budget, _n), color="C0")
    _ax.plot(ours.N, ours.loss, "*", ms=12, color="C3")
    _top = max(float(L.max()), float(ours.loss[()])) + 0.3
    _ax.set_ylim(min(float(L.min()), float(ours.loss[()])) - 0.1, _top)
    _near = np.abs(np.log10(C_runs / budget)) < 0.25
    _ax.plot(N[_near], L[_near], "o", ms=5, color="C1", label="runs with C within ×1.8")
    _ax.set_xscale("log")
    _ax.set_xlabel("parameters N")
    _ax.set_ylabel("loss (nats/char)")
    _ax.set_title(f"IsoFLOP profile, C = {budget:.2g}")
    if _near.any():
        _ax.legend(fontsize=8)
    _cs = 10.0 ** np.array(compute_steps)
    _bx.loglog(_cs, scaling.compute_optimal(law, _cs).tokens_per_parameter, label="our fit")
    _bx.loglog(_cs, scaling.compute_optimal(scaling.CHINCHILLA, _cs).tokens_per_parameter,
               label="Chinchilla's constants")
    _lo, _hi = sweep["frontier"]["compute_range"]
    _bx.axvspan(_lo, _hi, color="gray", alpha=0.15, lw=0)
    _bx.axvline(budget, color="black", lw=0.8)
    _bx.set_xlabel("compute C (FLOPs)")
    _bx.set_ylabel("tokens per parameter")
    _bx.legend(fontsize=8)
    mo.vstack([
        kit.show(_fig, alt="the IsoFLOP profile at the chosen budget and tokens per parameter "
                           "against compute"),
        mo.md(f"""
        With $C = {kit.sci(budget)}$ FLOPs our fit spends it on
        $N = {int(round(float(ours.N[()]))):,}$ parameters and $D = {int(round(float(ours.D[()]))):,}$
        characters, **{kit.fmt(float(ours.tokens_per_parameter[()]), 1)} characters per
        parameter**, for a loss of {kit.fmt(float(ours.loss[()]), 3)}. Chinchilla's
        constants would say $N = {int(round(float(theirs.N[()]))):,}$ and
        $D = {int(round(float(theirs.D[()]))):,}$:
        {kit.fmt(float(theirs.tokens_per_parameter[()]), 1)} tokens per parameter (their
        rule of thumb, from their other two methods, is about
        {kit.fmt(scaling.CHINCHILLA_TOKENS_PER_PARAMETER, 0)}). The grey band is the
        compute our runs measured; outside it both lines extrapolate. Chinchilla itself
        was trained with ${kit.sci(scaling.CHINCHILLA_COMPUTE, 1)}$ FLOPs,
        {kit.fmt(math.log10(scaling.CHINCHILLA_COMPUTE / _hi), 0)} orders of magnitude
        above our largest run.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 4. Kaplan's power laws

    Kaplan et al. (2020) wrote the two effects separately, without a floor:
    $L(N) = (N_c/N)^{\alpha_N}$ for models trained to convergence and
    $L(D) = (D_c/D)^{\alpha_D}$ for large models stopped early. A power law
    without $E$ is a straight line in log-log axes, and its exponent is the
    slope of that line over the range measured. Fitted to our largest budget
    (loss against $N$) and our largest model (loss against $D$):
    """)
    return


@app.cell
def _(D, L, N, mo, scaling):
    at_max_d = D == D.max()
    at_max_n = N == N.max()
    Nc, alpha_N = scaling.fit_power_law(N[at_max_d], L[at_max_d])
    Dc, alpha_D = scaling.fit_power_law(D[at_max_n], L[at_max_n])
    mo.show_code()
    return alpha_D, alpha_N, at_max_d, at_max_n


@app.cell(hide_code=True)
def _(D, N, alpha_D, alpha_N, kit, law, mo, scaling):
    _k = scaling.KAPLAN
    _ca, _ = scaling.frontier_exponents(scaling.CHINCHILLA.alpha, scaling.CHINCHILLA.beta)
    _n_mid, _d_max = float(N.max()), float(D.max())
    _local = law.alpha * law.A * _n_mid ** -law.alpha / float(law.loss(_n_mid, _d_max))
    mo.md(f"""
    Our pure power laws have $\\alpha_N = {kit.fmt(alpha_N, 3)}$ and
    $\\alpha_D = {kit.fmt(alpha_D, 3)}$; Kaplan's are $\\alpha_N \\approx {kit.fmt(_k["alpha_N"], 3)}$
    and $\\alpha_D \\approx {kit.fmt(_k["alpha_D"], 3)}$, with $N_c \\approx {kit.sci(_k["N_c"], 1)}$
    parameters and $D_c \\approx {kit.sci(_k["D_c"], 1)}$ tokens. These exponents are much
    smaller than the $\\alpha$ and $\\beta$ of the formula with a floor: without $E$ the
    whole loss has to follow the power law, and most of it is the floor. The slope
    of our fitted law itself, $-\\partial \\log L / \\partial \\log N = \\alpha A N^{{-\\alpha}} / L$,
    at our largest model and budget is {kit.fmt(_local, 3)}. Kaplan et al. also found
    the compute-optimal model to grow as $C^{{{kit.fmt(_k["frontier_N"], 2)}}}$, much
    faster than Chinchilla's $C^{{{kit.fmt(_ca, 2)}}}$. They used one learning-rate schedule
    and one number of training tokens for all their models; Hoffmann et al. found that a
    cosine schedule much longer than the run leaves the run's loss too high, which tilted
    the earlier estimate toward large models trained briefly.
    """)
    return


@app.cell(hide_code=True)
def _(load_corpus):
    corpus_chars = len(load_corpus().train)
    return (corpus_chars,)


@app.cell(hide_code=True)
def _(D, N, a_opt, corpus_chars, kit, law, math, mo, scaling, sweep):
    _epochs = float(D.max()) / corpus_chars
    _iv_e = sweep["intervals"]["E"]
    _big = 1_000_000                      # a model size to ask about
    _G = float(scaling.compute_optimal(law, 1.0).G)
    _d_big = (_big / _G) ** (1.0 / a_opt) / _big     # C/6 = (N/G)^(1/a), D = (C/6)/N
    _span_n, _span_d = float(N.max() / N.min()), float(D.max() / D.min())
    _chin = scaling.CHINCHILLA_RANGE
    mo.md(f"""
    ## 5. Where a character-level CPU sweep differs, and why

    - **Tiny models.** Our models have {int(N.min()):,} to {int(N.max()):,} parameters, a
      range of {kit.fmt(_span_n, 0)}x; Chinchilla's ran from
      ${kit.sci(_chin["N"][0], 0)}$ to ${kit.sci(_chin["N"][1], 1)}$. Over a narrow range many
      combinations of $A$ and $\\alpha$ draw nearly the same curve, which is why the
      intervals above are wide.
    - **Characters, not BPE tokens.** Our loss is per character, theirs per
      token of a byte-pair vocabulary (several characters each), on different
      text. $E$ = {kit.fmt(law.E, 3)} nats per character ({kit.fmt(law.E / math.log(2), 3)}
      bits) is where these small models trained briefly would level off, not the
      entropy of Shakespeare, and its interval [{kit.fmt(_iv_e[0], 3)}, {kit.fmt(_iv_e[1], 3)}]
      shows how loosely the sweep pins it; it is no number to compare with their
      {kit.fmt(scaling.CHINCHILLA.E, 2)} nats per token.
    - **Few tokens.** Our longest runs saw {int(D.max()):,} characters; theirs
      ${kit.sci(_chin["D"][0], 0)}$ to ${kit.sci(_chin["D"][1], 0)}$ tokens. Short runs of
      character models cross plateaus (the character frequencies, then pairs of
      characters) at moments that vary from seed to seed, so their losses are noisy
      and not yet on a power law.
    - **Learning rate and schedule.** One rule
      ({kit.fmt(scaling.peak_learning_rate(1), 2)} / width), set by a small search at
      two widths and lowered so that the longest runs leave the plateaus; every run decays its cosine to its own end, as Chinchilla did, but
      nothing was tuned per run.
    - **Data.** The corpus has {corpus_chars:,} training characters; the longest run
      read {kit.pct(_epochs, 0)} of them, so no text was repeated. Under our fit a
      compute-optimal model of {_big:,} parameters would read {_d_big:,.0f} characters,
      {kit.fmt(_d_big / corpus_chars, 0)} passes over the same plays (at Chinchilla's
      {kit.fmt(scaling.CHINCHILLA_TOKENS_PER_PARAMETER, 0)} tokens per parameter,
      {kit.fmt(scaling.CHINCHILLA_TOKENS_PER_PARAMETER * _big / corpus_chars, 0)} passes);
      the formula knows nothing of repeated text.
    """)
    return


@app.cell(hide_code=True)
def _(a_opt, kit, scaling):
    _k = 10       # the question's factor
    _ca, _ = scaling.frontier_exponents(scaling.CHINCHILLA.alpha, scaling.CHINCHILLA.beta)
    kit.check_yourself(
        f"You get {_k} times the compute. By what factor should the model grow?",
        f"By {_k}^a: {kit.fmt(_k ** a_opt, 2)}x under our fit (a = {kit.fmt(a_opt, 3)}), "
        f"{kit.fmt(_k ** _ca, 2)}x under Chinchilla's constants (a = {kit.fmt(_ca, 3)}). "
        f"The rest of the factor goes to data: D grows by {_k}^b = {_k}^(1 − a).",
    )
    return


@app.cell(hide_code=True)
def _(kit, law, scaling):
    _ch = scaling.CHINCHILLA
    kit.check_yourself(
        "When does the best number of tokens per parameter not depend on the budget?",
        "When α = β: then a = b = 1/2, and D_opt/N_opt = G⁻² (C/6)^(b − a) is a constant. "
        f"Our fit has α = {kit.fmt(law.alpha, 3)} and β = {kit.fmt(law.beta, 3)}, so our "
        f"ratio {'grows' if law.alpha > law.beta else 'shrinks'} with C; Chinchilla's "
        f"α = {kit.fmt(_ch.alpha, 2)} > β = {kit.fmt(_ch.beta, 2)} makes theirs grow slowly.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "Why fit log-losses with a Huber loss rather than losses with least squares?",
        "On logs, a run's error counts relative to its loss, so small and large runs weigh "
        "alike; Huber's loss grows only linearly beyond δ, so one run that diverged or sat "
        "on a plateau moves the five constants far less than its square would.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - The final loss falls like $E + A/N^\alpha + B/D^\beta$: a floor plus a
      power law for the model and one for the data.
    - Compute $C \approx 6ND$ is spent best with $N \propto C^{a}$,
      $D \propto C^{b}$, $a = \beta/(\alpha + \beta)$: the exponents alone decide how a
      bigger budget divides.
    - Fit on logs with a robust loss from many starts; report intervals (the
      bootstrap over runs) and a held-out score, not only the best fit.
    - Constants carry their units: a per-character floor is not a per-token one.
    - A small sweep measures a narrow range with short, noisy runs; its exponents
      are a sketch of the law, not the law.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("scaling_laws")
    return


@app.cell
def test_objective_by_hand(D, L, N, fit, math, objective, sweep):
    def _objective(theta):
        _a, _b, _e, _al, _be = theta
        _total = 0.0
        for _n, _d, _l in zip(N, D, L, strict=True):
            _p = math.log(math.exp(_a - _al * math.log(_n)) + math.exp(_b - _be * math.log(_d))
                          + math.exp(_e))
            _r = abs(_p - math.log(_l))
            _total += 0.5 * _r * _r if _r <= 1e-3 else 1e-3 * (_r - 0.5e-3)
        return _total

    assert math.isclose(_objective(fit.theta), fit.objective, rel_tol=1e-9)
    assert math.isclose(_objective(fit.theta), objective, rel_tol=1e-12)
    _f = sweep["fit"]
    _stored = (math.log(_f["A"]), math.log(_f["B"]), math.log(_f["E"]), _f["alpha"], _f["beta"])
    assert _objective(fit.theta) <= _objective(_stored) + 1e-9   # the live fit is as good
    for _i in range(5):                                          # and a local minimum
        for _h in (-1e-3, 1e-3):
            _t = list(fit.theta)
            _t[_i] += _h
            assert _objective(_t) >= _objective(fit.theta) - 1e-12
    return


@app.cell
def test_frontier_by_brute_force(budget, law, np, ours, scaling, theirs):
    for _law, _opt in ((law, ours), (scaling.CHINCHILLA, theirs)):
        _n = np.geomspace(float(_opt.N[()]) / 1e3, float(_opt.N[()]) * 1e3, 60001)
        _loss = _law.E + _law.A * _n ** -_law.alpha + _law.B * (budget / (6 * _n)) ** -_law.beta
        _best = _n[np.argmin(_loss)]
        assert abs(_best / float(_opt.N[()]) - 1) < 1e-3
        assert abs(6 * float(_opt.N[()]) * float(_opt.D[()]) / budget - 1) < 1e-12
    return


@app.cell
def test_frontier_exponents_by_hand(a_opt, b_opt, law, scaling):
    assert abs(a_opt - law.beta / (law.alpha + law.beta)) < 1e-15
    assert abs(a_opt + b_opt - 1) < 1e-15
    _ca, _cb = scaling.frontier_exponents(0.34, 0.28)
    assert abs(_ca - 0.28 / 0.62) < 1e-15 and abs(_cb - 0.34 / 0.62) < 1e-15
    # the ratio of two optima a decade apart is 10^a
    _o1, _o2 = scaling.compute_optimal(law, 1e12), scaling.compute_optimal(law, 1e13)
    assert abs(float(_o2.N[()] / _o1.N[()]) - 10 ** a_opt) < 1e-9
    return


@app.cell
def test_runs_count_tokens_and_parameters(runs, sweep):
    _plan = sweep["plan"]
    for _r in runs:
        assert _r["tokens"] == _r["steps"] * _plan["batch_size"] * _plan["block_size"]
        _c, _l = _r["n_embd"], _r["n_layer"]
        assert _r["params"] == _l * (12 * _c * _c + 13 * _c) + 2 * _c      # blocks + final LN
        assert _r["params_total"] == _r["params"] + (_r["vocab_size"] + _plan["block_size"]) * _c
    return


@app.cell
def test_power_law_slope_by_hand(D, L, N, alpha_D, alpha_N, at_max_d, at_max_n, math):
    for _x, _y, _k in ((N[at_max_d], L[at_max_d], alpha_N), (D[at_max_n], L[at_max_n], alpha_D)):
        _lx = [math.log(v) for v in _x]
        _ly = [math.log(v) for v in _y]
        _mx, _my = sum(_lx) / len(_lx), sum(_ly) / len(_ly)
        _slope = (sum((a - _mx) * (b - _my) for a, b in zip(_lx, _ly, strict=True))
                  / sum((a - _mx) ** 2 for a in _lx))
        assert abs(-_slope - _k) < 1e-9
    return


@app.cell
def test_pure_power_laws_are_flatter_than_the_law(alpha_D, alpha_N, law):
    # the claim of section 4: without a floor the fitted exponents are smaller
    assert 0 < alpha_N < law.alpha and 0 < alpha_D < law.beta
    return


@app.cell
def test_local_slope_of_the_law(D, N, law, math):
    _n, _d = float(N.max()), float(D.max())
    _h = 1e-5
    _numeric = -(math.log(float(law.loss(_n * math.exp(_h), _d)))
                 - math.log(float(law.loss(_n * math.exp(-_h), _d)))) / (2 * _h)
    _formula = law.alpha * law.A * _n ** -law.alpha / float(law.loss(_n, _d))
    assert abs(_numeric - _formula) < 1e-7
    return


if __name__ == "__main__":
    app.run()
