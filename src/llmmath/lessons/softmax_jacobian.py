import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="The softmax Jacobian")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import calculus, prob
    from llmmath.lessons import _kit as kit

    return calculus, kit, math, mo, np, prob


@app.cell(hide_code=True)
def _(kit):
    kit.header("softmax_jacobian")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Softmax turns a vector of scores into probabilities, and a transformer
    uses it everywhere: over the vocabulary at the output, and over the keys
    in every attention row. Training pushes gradients back through each of
    those softmaxes, so we need its derivative. Softmax has several inputs and
    several outputs, and every output depends on every input (they share the
    normalising sum), so its derivative is a matrix: the **Jacobian**, one
    row per output and one column per input. Its entries have a short closed
    form, and the matrix has a handful of properties that explain how
    softmax behaves in training.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"p_i = \frac{e^{z_i}}{\sum_k e^{z_k}}, \qquad "
        r"J_{ij} = \frac{\partial p_i}{\partial z_j} = p_i\,(\delta_{ij} - p_j), \qquad "
        r"J = \operatorname{diag}(p) - p\,p^{\top}",
        caption=(
            "$z$ are the logits, $p$ the probabilities; $\\delta_{ij}$ is 1 when $i = j$ and 0 "
            "otherwise. "
            "Row i of J says how output i responds to each logit; column j how every output "
            "responds to logit j."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Two cases

    Write $S = \sum_k e^{z_k}$, so $p_i = e^{z_i}/S$, and note that
    $\partial S/\partial z_j = e^{z_j}$.

    **Same index ($i = j$).** Both the numerator and $S$ depend on $z_i$. The
    quotient rule gives
    $\dfrac{e^{z_i} S - e^{z_i} e^{z_i}}{S^2} = p_i - p_i^2 = p_i(1 - p_i)$.
    Raising a logit raises its own probability, most strongly when that
    probability is one half.

    **Different indices ($i \ne j$).** Only $S$ depends on $z_j$:
    $\dfrac{\partial}{\partial z_j}\dfrac{e^{z_i}}{S} = -\dfrac{e^{z_i} e^{z_j}}{S^2} = -p_i p_j$.
    Raising another logit takes probability away from $i$, in proportion to
    both probabilities.

    The Kronecker delta merges the two into $p_i(\delta_{ij} - p_j)$. The
    ledger checks all three statements of the course:
    """)
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("001-softmax-jacobian-diagonal"),
               kit.claim_badge("001-softmax-jacobian-offdiagonal"),
               kit.claim_badge("001-softmax-jacobian")])
    return


@app.cell(hide_code=True)
def _(mo, z):
    mo.md(rf"""
    ## The Jacobian, computed and checked

    {len(z)} logits of our own choosing. A **temperature** $\tau$ divides the
    logits before the softmax, $p = \operatorname{{softmax}}(z/\tau)$, as in
    sampling; by the chain rule the Jacobian with respect to $z$ is then
    $J(z/\tau)/\tau$. `calculus.softmax_jacobian` evaluates the closed form;
    `calculus.jacobian` knows nothing about softmax and estimates every entry
    by central differences.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    temperature = mo.ui.slider(start=0.2, stop=5.0, step=0.1, value=1.0, show_value=True,
                               label="temperature τ", debounce=False)
    temperature
    return (temperature,)


@app.cell
def _(calculus, kit, mo, np, prob, temperature):
    z = np.array([2.0, 1.0, 0.1, -1.0])  # logits (ours)
    tau = kit.value(temperature)
    p = prob.softmax(z, temperature=tau)                                    # (K,)
    J = calculus.softmax_jacobian(z / tau) / tau                            # (K, K) closed form
    J_fd = calculus.jacobian(lambda v: prob.softmax(v, temperature=tau), z)  # (K, K) numerical
    mo.show_code()
    return J, J_fd, p, tau, z


@app.cell(hide_code=True)
def _(J, J_fd, kit, mo, np, p, tau, z):
    _names = [f"z{j}" for j in range(len(z))]
    _outs = [f"p{i}" for i in range(len(z))]
    _lim = max(float(np.abs(J).max()), 1e-12)
    _fig, _ax = kit.figure(size=(4.4, 3.6))
    _im = kit.heatmap(_ax, J, _outs, _names, digits=3, vmin=-_lim, vmax=_lim, cmap="RdBu_r")
    _fig.colorbar(_im, ax=_ax, shrink=0.8)
    _ax.set_xlabel("logit (input)")
    _ax.set_ylabel("probability (output)")
    _ax.set_title(f"∂pᵢ/∂zⱼ at τ = {tau:.1f}")
    mo.hstack([
        kit.show(_fig, alt="heatmap of the softmax Jacobian"),
        mo.vstack([
            mo.md(f"Probabilities at $\\tau = {tau:.1f}$:"),
            mo.md(kit.matrix_table(p, ["p"], _outs, digits=4)),
            mo.md(f"""
            Red is positive, blue negative. The diagonal is positive (a logit lifts its
            own probability); everything else is negative (it lowers the others). The
            largest entry, {kit.fmt(J.max(), 4)}, sits on the diagonal.
            """),
            mo.md(f"Closed form against finite differences: largest gap "
                  f"**{np.abs(J - J_fd).max():.1e}**."),
        ]),
    ], justify="start", gap=2, align="center", widths=[1, 1])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Four properties, computed live

    1. **Symmetric**: $J_{ij} = -p_i p_j = J_{ji}$ off the diagonal.
    2. **Rows sum to zero**: $\sum_j p_i(\delta_{ij} - p_j) = p_i - p_i\sum_j p_j = 0$.
       Adding the same constant to every logit leaves the softmax unchanged,
       so the derivative along the all-ones direction $\mathbf 1$ must vanish:
       $J\mathbf 1 = 0$. The all-ones vector is an eigenvector with eigenvalue 0.
    3. **Positive semi-definite**: for any vector $v$,
       $v^\top J v = \sum_i p_i v_i^2 - \big(\sum_i p_i v_i\big)^2$, which is
       the **variance** of $v$ when its entries are drawn with probabilities
       $p$. A variance is never negative, so no eigenvalue is.
    4. **Shrinks with confidence**: as one probability approaches 1, every
       entry approaches 0. A saturated softmax passes almost no gradient back.

    Move the temperature slider: low $\tau$ sharpens the distribution, high $\tau$
    flattens it (and the factor $1/\tau$ scales the whole matrix).
    """)
    return


@app.cell
def _(J, mo, np):
    asymmetry = np.abs(J - J.T).max()
    row_sums = J.sum(axis=1)                      # (K,)
    eigvals, eigvecs = np.linalg.eigh(J)          # ascending; J is symmetric
    null_vector = eigvecs[:, 0]                   # for the smallest eigenvalue
    ones = np.ones(len(J)) / np.sqrt(len(J))
    alignment = abs(float(null_vector @ ones))    # |cos| of the angle to 1/sqrt(K)
    mo.show_code()
    return alignment, asymmetry, eigvals, row_sums


@app.cell(hide_code=True)
def _(J, alignment, asymmetry, eigvals, kit, mo, np, p, row_sums, tau, temperatures_curve):
    _fig, (_ev, _nrm) = kit.figure(1, 2, size=(9.0, 3.2))
    _ev.bar(range(len(eigvals)), eigvals, color=["tab:gray"] + ["tab:blue"] * (len(eigvals) - 1))
    _ev.axhline(0, color="0.3", lw=0.8)
    _ev.set_xticks(range(len(eigvals)), labels=[f"λ{k}" for k in range(len(eigvals))])
    _ev.set_title("eigenvalues of J (ascending)")
    _ts, _norms = temperatures_curve
    _nrm.plot(_ts, _norms, color="0.2")
    _nrm.axvline(tau, color="tab:orange", lw=1.5, label=f"τ = {tau:.1f}")
    _nrm.set_xlabel("temperature τ")
    _nrm.set_ylabel("largest eigenvalue of J")
    _nrm.set_title("how much gradient softmax can pass")
    _nrm.legend(loc="upper right")
    mo.vstack([
        kit.show(_fig, alt="bar chart of the eigenvalues, and the largest eigenvalue against τ"),
        mo.md(f"""
        - largest $|J_{{ij}} - J_{{ji}}|$: {asymmetry:.1e} (symmetric);
        - row sums: {", ".join(f"{v:.1e}" for v in row_sums)} (all zero to rounding);
        - eigenvalues: {", ".join(kit.fmt(v, 5) for v in eigvals)}. The smallest,
          {eigvals[0]:.1e}, is zero up to rounding, the others are positive, and the
          eigenvector of the zero is parallel to $(1, 1, \\dots, 1)$:
          $|\\cos| = {kit.fmt(alignment, 6)}$;
        - the largest probability is {kit.fmt(p.max(), 4)} and the largest eigenvalue
          {kit.fmt(eigvals[-1], 4)}; trace of $J$, $\\sum_i p_i(1 - p_i)/\\tau$:
          {kit.fmt(np.trace(J), 4)}.
        """),
    ])
    return


@app.cell
def _(calculus, np, z):
    # the largest eigenvalue of J(z/τ)/τ over a range of temperatures (computed once)
    _ts = np.linspace(0.2, 5.0, 49)
    _top = [np.linalg.eigvalsh(calculus.softmax_jacobian(z / _t) / _t)[-1] for _t in _ts]
    temperatures_curve = (_ts, np.array(_top))
    return (temperatures_curve,)


@app.cell(hide_code=True)
def _(mo):
    _V = 50_000  # a vocabulary size of the order of GPT-2's
    mo.md(f"""
    ## In practice nobody builds the matrix

    A backward pass needs $J^\\top g$ for an incoming gradient $g$, not $J$
    itself. Because $J = \\operatorname{{diag}}(p) - pp^\\top$ is symmetric,
    $J^\\top g = p \\odot g - p\\,(p^\\top g) = p \\odot (g - p\\cdot g)$: a few
    passes over the vector instead of a $K \\times K$ matrix. For a vocabulary of
    {_V:,} tokens that is about {3 * _V:,} multiplications instead of {_V * _V:,}.
    `llmmath.autograd.functional.softmax` uses this formula in its backward pass.
    """)
    return


@app.cell
def _(J, mo, np, p):
    g = np.array([0.5, -1.0, 0.25, 2.0])   # an upstream gradient dL/dp (ours)
    via_matrix = J.T @ g                    # K*K multiplications
    via_formula = p * (g - p @ g)           # about 3K; note J here carries no 1/τ
    mo.show_code()
    return g, via_formula, via_matrix


@app.cell(hide_code=True)
def _(kit, mo, np, tau, via_formula, via_matrix):
    _scaled = via_formula / tau
    mo.md(f"""
    $J^\\top g$ = ({", ".join(kit.fmt(v, 4) for v in via_matrix)}) from the matrix, and
    ({", ".join(kit.fmt(v, 4) for v in _scaled)}) from the formula divided by $\\tau$
    (largest gap {np.abs(via_matrix - _scaled).max():.1e}). At $\\tau = 1$ the division
    does nothing; otherwise it is the chain rule's factor for $z/\\tau$.
    """)
    return


@app.cell(hide_code=True)
def _(kit, np, prob):
    _z = np.array([3.0, 0.0])
    _s = prob.softmax(_z)
    kit.check_yourself(
        "Without computing anything: what is the sum of every row of the Jacobian, and why "
        "must it be so?",
        f"Zero. Adding the same number $c$ to every logit multiplies numerator and "
        f"denominator by $e^c$, so the probabilities do not move; the row sum is exactly the "
        f"derivative along that direction. For logits ({', '.join(kit.fmt(v, 1) for v in _z)}) "
        f"the first row is ({kit.fmt(_s[0] * (1 - _s[0]), 4)}, {kit.fmt(-_s[0] * _s[1], 4)}).",
    )
    return


@app.cell(hide_code=True)
def _(kit, prob):
    _sure, _gap = 0.99, 10.0  # a confident probability; a logit gap between two classes
    _p_gap = float(prob.sigmoid(_gap))  # a two-class softmax of (gap, 0)
    kit.check_yourself(
        "What is the largest value a diagonal entry $p_i(1 - p_i)$ can take, and for which "
        "probability?",
        f"$p(1-p)$ is a parabola with its peak at $p = 1/2$, where it equals "
        f"{kit.fmt(0.5 * (1 - 0.5), 2)}. (With two classes this is exactly the sigmoid's "
        f"slope: a two-class softmax of $(z, 0)$ is $\\sigma(z)$, and "
        f"$\\sigma'(z) = \\sigma(z)(1 - \\sigma(z))$.) Far from 1/2 it falls fast: at "
        f"$p = {_sure}$ it is {kit.fmt(_sure * (1 - _sure), 4)}, and at a logit gap of "
        f"{kit.fmt(_gap, 0)} between two classes it is {kit.fmt(_p_gap * (1 - _p_gap), 6)}.",
    )
    return


@app.cell(hide_code=True)
def _(calculus, kit, np, z):
    _cold_tau = 0.05  # a very low temperature
    _cold = calculus.softmax_jacobian(z / _cold_tau) / _cold_tau
    kit.check_yourself(
        "Attention scores are divided by $\\sqrt{d_k}$ before the softmax. What would happen "
        "to training if they were not, and the scores were large?",
        f"Large scores act like a low temperature: the softmax becomes nearly one-hot and "
        f"its Jacobian nearly zero, so almost no gradient reaches the queries and keys. With "
        f"our logits divided by {_cold_tau} (temperature {_cold_tau}) the largest Jacobian "
        f"entry is "
        f"{np.abs(_cold).max():.1e}.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - $\partial p_i/\partial z_j = p_i(\delta_{ij} - p_j)$, i.e.
      $J = \operatorname{diag}(p) - pp^\top$: positive on the diagonal,
      negative off it.
    - $J$ is symmetric, its rows sum to 0 (shifting all logits changes
      nothing) and it is positive semi-definite, with a zero eigenvalue along
      the all-ones direction.
    - A confident (low-temperature, large-logit) softmax has a tiny Jacobian:
      it passes little gradient back.
    - Backward passes use $p \odot (g - p\cdot g)$ and never build the
      $K \times K$ matrix.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("softmax_jacobian")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("softmax_jacobian")
    return


@app.cell
def test_jacobian_by_explicit_loops(J, math, tau, z):
    _e = [math.exp(_v / tau) for _v in z]
    _p = [_x / sum(_e) for _x in _e]
    for _i in range(len(z)):
        for _j in range(len(z)):
            _want = (_p[_i] * (1 - _p[_i]) if _i == _j else -_p[_i] * _p[_j]) / tau
            assert abs(J[_i, _j] - _want) < 1e-12, (_i, _j)
    return


@app.cell
def test_finite_differences_written_here(J, math, tau, z):
    def _soft(v):
        _e = [math.exp(_x / tau) for _x in v]
        return [_x / sum(_e) for _x in _e]

    _h = 1e-6
    for _j in range(len(z)):
        _up, _dn = list(z), list(z)
        _up[_j] += _h
        _dn[_j] -= _h
        _col = [(_a - _b) / (2 * _h) for _a, _b in zip(_soft(_up), _soft(_dn), strict=True)]
        for _i in range(len(z)):
            assert abs(J[_i, _j] - _col[_i]) < 1e-8, (_i, _j)
    return


@app.cell
def test_properties_by_hand(J, eigvals, kit, np, p, row_sums, temperature):
    _K = len(p)
    for _i in range(_K):
        assert abs(sum(J[_i, _j] for _j in range(_K))) < 1e-15
        assert abs(row_sums[_i]) < 1e-15
        for _j in range(_K):
            # exact: J[i, j] = p_i (0 - p_j) and J[j, i] = p_j (0 - p_i), one product each
            assert J[_i, _j] == J[_j, _i]
    # v^T J v is the variance of v under p (times 1/tau): never negative
    _rng = np.random.default_rng(1)
    for _ in range(200):
        _v = _rng.normal(size=_K)
        _mean = sum(p[_i] * _v[_i] for _i in range(_K))
        _var = sum(p[_i] * (_v[_i] - _mean) ** 2 for _i in range(_K))
        _quad = sum(_v[_i] * J[_i, _j] * _v[_j] for _i in range(_K) for _j in range(_K))
        assert abs(_quad - _var / kit.value(temperature)) < 1e-12
    # the eigenvalues: a zero, and the others positive; their sum is the trace
    assert abs(eigvals[0]) < 1e-12 and (eigvals[1:] > 0).all()
    assert abs(sum(eigvals) - sum(p[_i] * (1 - p[_i]) for _i in range(_K)) / kit.value(temperature)) < 1e-12
    return


@app.cell
def test_vector_product_without_the_matrix(J, g, p, tau, via_matrix):
    _pg = sum(p[_k] * g[_k] for _k in range(len(p)))
    for _i in range(len(p)):
        assert abs(via_matrix[_i] - sum(J[_j, _i] * g[_j] for _j in range(len(p)))) < 1e-14
        assert abs(via_matrix[_i] - p[_i] * (g[_i] - _pg) / tau) < 1e-12
    return


if __name__ == "__main__":
    app.run()
