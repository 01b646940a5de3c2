import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Eigenvalues of attention")


@app.cell
def _():
    import marimo as mo
    import numpy as np

    from llmmath import attention, info, prob
    from llmmath.lessons import _kit as kit

    return attention, info, kit, mo, np, prob


@app.cell(hide_code=True)
def _(kit):
    kit.header("attention_spectrum")
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.md(f"""
    ## Why this matters

    An attention matrix has non-negative entries and every row sums to 1.
    Read row $i$ as "where token $i$ sends its attention" and the matrix is
    the transition table of a random walk over positions: a **Markov chain**.
    That view answers questions that one matrix product cannot. Stack many
    attention layers (ignore everything else a block does for a moment) and
    the same averaging is applied again and again. Do the tokens' vectors
    blur into one? How fast? Which positions end up with the most weight?
    The eigenvalues of the matrix answer all three, and they also show two
    places where the syllabus overstates things. The lesson
    [Attention as matrix operations]({kit.lesson_href("attention")}) builds
    the matrix; here we study it.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"A\,\mathbf{1} = \mathbf{1}, \qquad \pi A = \pi, \qquad "
        r"A^n \xrightarrow[n \to \infty]{} \mathbf{1}\,\pi, \qquad "
        r"\text{gap} = 1 - |\lambda_2|",
        caption=(
            r"$A$ is an $n \times n$ row-stochastic matrix (entries $\ge 0$, rows summing "
            r"to 1) and $\mathbf{1}$ the all-ones column. The first equation says 1 is an "
            r"eigenvalue with eigenvector $\mathbf{1}$. $\pi$ is a row vector of "
            r"probabilities, the stationary distribution: one more application of $A$ "
            r"leaves it unchanged. When all entries are positive, every row of $A^n$ tends "
            r"to $\pi$, and the distance shrinks roughly like $|\lambda_2|^n$, where "
            r"$\lambda_2$ is the eigenvalue of second-largest modulus."
        ),
    )
    return


@app.cell(hide_code=True)
def _(A, mo):
    mo.md(f"""
    ## The worked example

    The same queries and keys as in the attention lesson give a
    {A.shape[0]} × {A.shape[1]} attention matrix (the values do not matter
    here, so we pass the identity).
    """)
    return


@app.cell
def _(attention, mo, np):
    tokens = ["The", "cat", "sat"]
    Q = np.array([[1.0, 0.5], [0.3, 0.8], [0.1, 0.9]])
    K = np.array([[0.9, 0.2], [0.4, 0.7], [0.2, 0.8]])
    _, A = attention.scaled_dot_product_attention(Q, K, np.eye(3))  # (T, T)
    eig = np.linalg.eigvals(A)
    eig = eig[np.argsort(-np.abs(eig))]          # largest modulus first
    pi = attention.stationary_distribution(A)    # (T,) with pi @ A == pi
    gap = attention.spectral_gap(A)
    mo.show_code()
    return A, K, Q, eig, gap, pi, tokens


@app.cell(hide_code=True)
def _(A, eig, gap, kit, mo, np, pi, tokens):
    _cols = [f"λ{i + 1}" for i in range(len(eig))]
    mo.vstack([
        mo.hstack([
            mo.md(f"**A** {kit.matrix_table(A, tokens, tokens, digits=3, corner='query ↓ key →')}"),
            mo.md(f"**eigenvalues** {kit.matrix_table(eig.real, ['λ'], _cols, digits=4)}"),
            mo.md(f"**π** {kit.matrix_table(pi, ['π'], tokens, digits=3)}"),
        ], justify="start", gap=2),
        mo.md(f"""
        Row sums: {", ".join(kit.fmt(s, 6) for s in A.sum(axis=1))}, so the
        matrix is row-stochastic and $\\lambda_1 = {kit.fmt(eig[0].real, 6)}$. The
        other eigenvalues are tiny ({kit.fmt(abs(eig[1]), 4)} and
        {kit.fmt(abs(eig[2]), 4)}): the rows are nearly equal already, so one or
        two more applications wash out almost every difference between
        positions. The gap is $1 - |\\lambda_2| = {kit.fmt(gap, 4)}$.
        $\\pi$ checks out: $\\pi A$ differs from $\\pi$ by at most
        {np.max(np.abs(pi @ A - pi)):.1e}. It is not the column sums of $A$
        divided by {len(tokens)} ({", ".join(kit.fmt(c, 3) for c in A.sum(axis=0) / len(tokens))}),
        which describe one step from an even start, not the long run.
        """),
        kit.claim_badge("001-attention-row-stochastic"),
        kit.claim_badge("001-attention-largest-eigenvalue"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why 1, and why nothing larger

    Multiply $A$ by the all-ones column: each entry of the result is a row
    sum, which is 1, so $A\mathbf 1 = \mathbf 1$. No eigenvalue can be larger
    in modulus: if $Av = \lambda v$ and $v_i$ is the entry of largest size,
    then $|\lambda|\,|v_i| = |\sum_j A_{ij} v_j| \le \sum_j A_{ij} |v_i| = |v_i|$.
    So every eigenvalue lies in the closed unit disc. Whether the others
    stay strictly **inside** depends on the pattern of zeros, and masks
    create zeros.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    sharpness = mo.ui.slider(
        start=0.0, stop=8.0, step=0.1, value=2.0, show_value=True,
        label="sharpness β (1 / temperature)", debounce=False,
    )
    causal = mo.ui.switch(value=False, label="causal mask")
    return causal, sharpness


@app.cell(hide_code=True)
def _(T, causal, mo, sharpness):
    mo.vstack([
        mo.md(f"## Try it: {T} tokens, random scores"),
        mo.md(r"""

        The scores below are random numbers (seeded), multiplied by a
        sharpness β before a row-wise softmax. β = 0 makes every row uniform;
        a large β makes each row pile onto its largest score. The causal mask
        lets each token see only itself and earlier tokens.
        """),
        mo.hstack([sharpness, causal], justify="start", gap=2),
    ])
    return


@app.cell
def _(attention, causal, kit, mo, np, prob, sharpness):
    T = 6
    Z = np.random.default_rng(0).standard_normal((T, T))        # raw scores
    keep = attention.causal_mask(T) if kit.value(causal) else np.ones((T, T), dtype=bool)
    A_live = prob.softmax(np.where(keep, kit.value(sharpness) * Z, -np.inf))  # (T, T)
    eig_live = np.linalg.eigvals(A_live)
    eig_live = eig_live[np.argsort(-np.abs(eig_live))]
    pi_live = attention.stationary_distribution(A_live)
    gap_live = attention.spectral_gap(A_live)
    mo.show_code()
    return A_live, T, Z, eig_live, gap_live, keep, pi_live


@app.cell
def _(A_live, mo, np, pi_live):
    n_steps = 40
    powers = [np.eye(len(A_live))]
    for _ in range(n_steps):
        powers.append(powers[-1] @ A_live)                      # A^n, n = 0 .. n_steps
    # how far each row of A^n is from pi (total variation: half the L1 distance)
    row_distance = np.array([0.5 * np.abs(P - pi_live).sum(axis=1) for P in powers])  # (n+1, T)
    mo.show_code()
    return n_steps, powers, row_distance


@app.cell(hide_code=True)
def _(
    T,
    causal,
    eig_live,
    gap_live,
    kit,
    mo,
    n_steps,
    np,
    pi_live,
    row_distance,
    sharpness,
):
    _fig, (_ax0, _ax1) = kit.figure(1, 2, size=(8.6, 3.4), width_ratios=[1, 1.35])
    _t = np.linspace(0, 2 * np.pi, 361)
    _ax0.plot(np.cos(_t), np.sin(_t), color="0.6", lw=1, label="unit circle")
    _lam2 = abs(eig_live[1])
    _ax0.plot(_lam2 * np.cos(_t), _lam2 * np.sin(_t), color="#fd8d3c", lw=1, ls="--",
              label=f"|λ₂| = {_lam2:.3f}")
    _ax0.scatter(eig_live.real[1:], eig_live.imag[1:], color="#3182bd", zorder=3, s=28)
    _ax0.scatter([eig_live[0].real], [eig_live[0].imag], color="#d62728", zorder=4, s=40,
                 label="λ₁ = 1")
    _ax0.set_aspect("equal")
    _ax0.set_xlim(-1.15, 1.15)
    _ax0.set_ylim(-1.15, 1.15)
    _ax0.axhline(0, color="0.9", lw=0.8)
    _ax0.axvline(0, color="0.9", lw=0.8)
    _ax0.set_xlabel("real part")
    _ax0.set_ylabel("imaginary part")
    _ax0.set_title("eigenvalues")
    _n = np.arange(n_steps + 1)
    _floor = 1e-16
    for _i in range(T):
        _ax1.semilogy(_n, np.maximum(row_distance[:, _i], _floor), lw=1.2, label=f"row {_i}")
    if _lam2 > 0:
        _ax1.semilogy(_n, np.maximum(_lam2**_n, _floor), color="k", ls="--", lw=1,
                      label="|λ₂|ⁿ")
    _ax1.set_ylim(1e-12, 2)
    _ax1.set_xlabel("n (applications of A)")
    _ax1.set_ylabel("distance of row i of Aⁿ from π")
    _ax1.set_title("rows of Aⁿ converge to π")
    _ax1.legend(frameon=False, fontsize=7, ncol=2, loc="upper right")
    _tol = 1e-3
    _hit = np.flatnonzero(row_distance.max(axis=1) < _tol)
    _when = (f"every row of $A^n$ is within {_tol:g} of π from n = {_hit[0]}"
             if _hit.size else f"some row is still more than {_tol:g} from π at n = {n_steps}")
    mo.vstack([
        kit.show(_fig, alt="eigenvalues in the complex plane, and the distance of each row of "
                           "A to the n from the stationary distribution"),
        mo.md(f"""
        β = {kit.fmt(kit.value(sharpness), 1)}, causal mask {"on" if kit.value(causal) else "off"}:
        $|\\lambda_2| = {kit.fmt(_lam2, 4)}$, gap = **{kit.fmt(gap_live, 4)}**, and
        {_when}. π = ({", ".join(kit.fmt(v, 3) for v in pi_live)}).

        <small>Left: the eigenvalues (red: λ₁ = 1), the unit circle (grey) and
        the circle of radius |λ₂| (dashed); the gap is the distance between
        the two circles. Right: for each row of $A^n$, its total-variation
        distance from π, with $|\\lambda_2|^n$ dashed.</small>
        """),
    ])
    return


@app.cell(hide_code=True)
def _(T, kit, mo, powers):
    _show = [1, 2, 4, 16]
    _fig, _axes = kit.figure(1, len(_show), size=(8.6, 2.5))
    for _ax, _n in zip(_axes, _show, strict=True):
        _ax.imshow(powers[_n], vmin=0.0, vmax=1.0, cmap="Blues", interpolation="nearest")
        _ax.set_xticks(range(T))
        _ax.set_yticks(range(T))
        _ax.tick_params(length=0, labelsize=7)
        _ax.set_title(f"$A^{{{_n}}}$")
    _ax.set_xlabel("key position")
    _axes[0].set_ylabel("query position")
    mo.vstack([
        kit.show(_fig, alt="heatmaps of powers of A whose rows become equal"),
        mo.md("<small>Darker is more weight. As n grows, every row of Aⁿ turns into "
              "the same row, π: each position ends up with the same blend.</small>"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    Two things to try. Push β up: rows get peaked, $|\lambda_2|$ creeps
    towards 1 and convergence slows, because a walk that nearly always
    stays put (or bounces between two favourite positions) takes long to
    forget where it started. Then switch on the causal mask.

    ## Why causal attention ends on position 0

    With the mask, token 0 sees only itself, so row 0 of $A$ is
    $(1, 0, \dots, 0)$: a walk that reaches position 0 stays there forever.
    Every other row gives some weight to earlier positions and none to later
    ones, so a walk never moves right, and sooner or later it arrives at 0. The stationary
    distribution is therefore $\pi = (1, 0, \dots, 0)$, and every row of
    $A^n$ tends to it. The matrix is lower triangular, so its eigenvalues
    are its diagonal entries: $A_{00} = 1$ and the weights each later token
    keeps on itself.
    """)
    return


@app.cell
def _(T, Z, attention, kit, mo, np, prob, sharpness):
    A_causal = prob.softmax(np.where(attention.causal_mask(T), kit.value(sharpness) * Z, -np.inf))
    pi_causal = attention.stationary_distribution(A_causal)
    mo.show_code()
    return A_causal, pi_causal


@app.cell(hide_code=True)
def _(A_causal, kit, mo, np, pi_causal):
    mo.md(f"""
    At the current β the diagonal is
    ({", ".join(kit.fmt(v, 3) for v in np.diag(A_causal))}), and
    π = ({", ".join(kit.fmt(v, 3) for v in pi_causal)}). Every position but the
    first ends with no share at all: under repeated causal averaging the
    first token's vector takes over. Attention applied layer after layer,
    with nothing else in between, drives all positions towards one shared
    vector (Dong, Cordonnier and Loukas 2021 show this "rank collapse" is
    fast); residual connections are what hold it off. Trained models also
    put surprisingly much attention on the first token, the "attention
    sink" of Xiao et al. 2023.
    """)
    return


@app.cell(hide_code=True)
def _(mo, patterns):
    mo.md(rf"""
    ## Two errata: the gap is not focus, and $|\lambda|$ can be 1

    The syllabus says the other eigenvalues all have $|\lambda_i| < 1$,
    and that a larger spectral gap means more focused attention. The ledger
    marks both statements as errata. {len(patterns)} small attention patterns
    show why:
    """)
    return


@app.cell
def _(attention, info, mo, np):
    n = 5
    patterns = {
        "each token on itself": np.eye(n),
        "uniform over all tokens": np.full((n, n), 1.0 / n),
        "every token on the first": np.tile(np.eye(n)[0], (n, 1)),
        "each token on the previous (wrapping)": np.roll(np.eye(n), -1, axis=1),
        "two documents packed (2 + 3 tokens)": np.block([
            [np.full((2, 2), 1 / 2), np.zeros((2, 3))],
            [np.zeros((3, 2)), np.full((3, 3), 1 / 3)],
        ]),
    }
    pattern_stats = {
        name: {
            "entropy": float(info.entropy(P, base=2).mean()),   # bits per row
            "moduli": np.sort(np.abs(np.linalg.eigvals(P)))[::-1],
            "gap": float(attention.spectral_gap(P)),
        }
        for name, P in patterns.items()
    }
    mo.show_code()
    return n, pattern_stats, patterns


@app.cell(hide_code=True)
def _(kit, mo, pattern_stats):
    _md = ["| pattern | row entropy (bits) | eigenvalue moduli | gap |",
           "|:---|---:|:---|---:|"]
    _md += [
        f"| {name} | {kit.fmt(s['entropy'], 3)} | "
        f"{', '.join(kit.fmt(m, 3) for m in s['moduli'])} | **{kit.fmt(s['gap'], 3)}** |"
        for name, s in pattern_stats.items()
    ]
    mo.md("\n".join(_md))
    return


@app.cell(hide_code=True)
def _(kit, mo, n, pattern_stats):
    _self = pattern_stats["each token on itself"]
    _uni = pattern_stats["uniform over all tokens"]
    _sink = pattern_stats["every token on the first"]
    mo.vstack([
        mo.md(f"""
        Row entropy measures focus: 0 bits is one token, $\\log_2 {n}$ =
        {kit.fmt(_uni["entropy"], 3)} bits is an even spread. The most focused
        pattern possible, each token on itself (entropy {kit.fmt(_self["entropy"], 0)}),
        has gap {kit.fmt(_self["gap"], 0)}; the least focused, uniform, has gap
        {kit.fmt(_uni["gap"], 0)}; and "every token on the first" is as focused as
        the first yet has gap {kit.fmt(_sink["gap"], 0)}. The gap measures how fast
        repeated attention **mixes** positions together, whatever the entropy.
        """),
        kit.claim_badge("001-spectral-gap-focus"),
        mo.md(f"""
        Three of the patterns also break the strict inequality. Self-attention
        only (the identity) has every eigenvalue equal to 1. Attending to the
        previous token around a cycle is a permutation: its eigenvalues are
        the {n}th roots of unity, all on the unit circle, and $A^n$ just keeps
        rotating, never converging. Two packed documents with a block mask
        give two separate chains, so the eigenvalue 1 appears twice. All three
        need zeros in the matrix, which is what masks create; a plain softmax
        has none, and then the Perron–Frobenius theorem guarantees
        $|\\lambda_i| < 1$ for every eigenvalue but the first.
        """),
        kit.claim_badge("001-attention-other-eigenvalues"),
    ])
    return


@app.cell(hide_code=True)
def _(A, kit, np):
    kit.check_yourself(
        "Why is 1 an eigenvalue of every attention matrix, and what is its eigenvector?",
        f"Every row sums to 1, so $A\\mathbf 1 = \\mathbf 1$: the all-ones column is a "
        f"right eigenvector for the eigenvalue 1 (for the example, $A\\mathbf 1$ = "
        f"({', '.join(kit.fmt(v, 6) for v in A @ np.ones(len(A)))})). The *left* "
        f"eigenvector for the same eigenvalue, scaled to sum to 1, is the stationary "
        f"distribution π.",
    )
    return


@app.cell(hide_code=True)
def _(attention, kit, np):
    _a = 0.3
    _A2 = np.array([[1.0, 0.0], [_a, 1.0 - _a]])
    _n = 10
    _An = np.linalg.matrix_power(_A2, _n)
    kit.check_yourself(
        f"Two tokens with a causal mask: the second puts weight {_a} on the first and "
        f"{kit.fmt(1 - _a, 1)} on itself. What are the eigenvalues, the gap and π?",
        f"The matrix is lower triangular, so the eigenvalues are its diagonal: 1 and "
        f"{kit.fmt(1 - _a, 1)}. The gap is {kit.fmt(attention.spectral_gap(_A2), 3)} and "
        f"π = ({', '.join(kit.fmt(v, 0) for v in attention.stationary_distribution(_A2))}). "
        f"After {_n} applications the second row is "
        f"({kit.fmt(_An[1, 0], 4)}, {kit.fmt(_An[1, 1], 4)}): its weight on itself is "
        f"${kit.fmt(1 - _a, 1)}^{{{_n}}}$ and shrinks towards 0.",
    )
    return


@app.cell(hide_code=True)
def _(kit, n, np, patterns):
    _P = patterns["each token on the previous (wrapping)"]
    _P5 = np.linalg.matrix_power(_P, n)
    kit.check_yourself(
        f"For the wrapping shift on {n} tokens, what is $A^{{{n}}}$, and why does $A^n$ "
        f"never settle?",
        f"$A^{{{n}}}$ is the identity (largest deviation "
        f"{np.max(np.abs(_P5 - np.eye(n))):.0e}): after {n} steps every walk is back where "
        f"it started. All eigenvalues have modulus 1 (they are the {n}th roots of unity), "
        f"so no part of the starting position fades away; the powers cycle with period "
        f"{n}.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - An attention matrix is row-stochastic: a Markov chain over positions,
      with eigenvalue $\lambda_1 = 1$ (eigenvector $\mathbf 1$).
    - Its stationary distribution $\pi$ ($\pi A = \pi$) is the long-run share
      of attention; with positive entries every row of $A^n$ tends to $\pi$.
    - $1 - |\lambda_2|$ sets how fast that happens; it measures mixing, not
      focus.
    - Masks create zeros, and then $|\lambda_i| = 1$ is possible (identity,
      cycles, packed documents).
    - Causal attention's $\pi$ sits entirely on position 0.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("attention_spectrum")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("attention_spectrum")
    return


@app.cell
def test_example_is_row_stochastic_with_eigenvalue_one(A, K, Q, eig, np):
    for _i in range(3):
        _s = [sum(Q[_i, _c] * K[_j, _c] for _c in range(2)) / np.sqrt(2.0) for _j in range(3)]
        _e = [np.exp(_v) for _v in _s]
        for _j in range(3):
            assert abs(A[_i, _j] - _e[_j] / sum(_e)) < 1e-12
    # det(A - x I) for a 3 x 3 matrix, expanded by hand: -x^3 + tr x^2 - m x + det
    _tr = A[0, 0] + A[1, 1] + A[2, 2]
    _m = (A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0] + A[0, 0] * A[2, 2] - A[0, 2] * A[2, 0]
          + A[1, 1] * A[2, 2] - A[1, 2] * A[2, 1])
    _det = (A[0, 0] * (A[1, 1] * A[2, 2] - A[1, 2] * A[2, 1])
            - A[0, 1] * (A[1, 0] * A[2, 2] - A[1, 2] * A[2, 0])
            + A[0, 2] * (A[1, 0] * A[2, 1] - A[1, 1] * A[2, 0]))
    assert abs(-1.0 + _tr - _m + _det) < 1e-12  # x = 1 is a root
    for _lam in eig:
        assert abs(-_lam**3 + _tr * _lam**2 - _m * _lam + _det) < 1e-12
    return


@app.cell
def test_stationary_by_power_iteration(A, eig, gap, np, pi):
    _v = [1.0 / 3] * 3
    for _ in range(200):
        _v = [sum(_v[_i] * A[_i, _j] for _i in range(3)) for _j in range(3)]
    assert max(abs(_v[_j] - pi[_j]) for _j in range(3)) < 1e-12
    # |lambda_2| from how fast the distance to pi shrinks: ||A^k - 1 pi|| ~ |lambda_2|^k
    _P4 = np.linalg.matrix_power(A, 4) - pi
    _P5 = np.linalg.matrix_power(A, 5) - pi
    assert abs(np.linalg.norm(_P5) / np.linalg.norm(_P4) - abs(eig[1])) < 1e-3
    assert abs(gap - (1.0 - abs(eig[1]))) < 1e-12
    return


@app.cell
def test_live_matrix_and_gap(
    A_live,
    T,
    Z,
    causal,
    eig_live,
    gap_live,
    kit,
    np,
    row_distance,
    sharpness,
):
    _b = kit.value(sharpness)
    for _i in range(T):
        _cols = range(_i + 1) if kit.value(causal) else range(T)
        _e = {_j: np.exp(_b * Z[_i, _j]) for _j in _cols}
        for _j in range(T):
            assert abs(A_live[_i, _j] - _e.get(_j, 0.0) / sum(_e.values())) < 1e-12
    # the characteristic polynomial by Faddeev-LeVerrier (traces only): every eigenvalue
    # shown is one of its roots, and together they give its trace and determinant (at
    # beta = 0 the root 0 is multiple, so roots are checked, not recomputed from it)
    _c, _M = [1.0], np.zeros((T, T))
    for _k in range(1, T + 1):
        _M = A_live @ _M + _c[-1] * np.eye(T)
        _c.append(-np.trace(A_live @ _M) / _k)
    for _lam in eig_live:
        assert abs(np.polyval(_c, _lam)) < 1e-9, _lam
    assert abs(np.sum(eig_live) - np.trace(A_live)) < 1e-9
    assert abs(np.prod(eig_live) - (-1) ** T * _c[-1]) < 1e-9
    assert abs(eig_live[0] - 1.0) < 1e-9 and np.all(np.diff(np.abs(eig_live)) <= 1e-12)
    assert abs(gap_live - (1.0 - abs(eig_live[1]))) < 1e-9
    # row distances from an independent matrix power; pi as the limit of A^n
    _P = np.linalg.matrix_power(A_live, 7)
    _pi = np.linalg.matrix_power(A_live, 2000)[0]
    assert np.allclose(row_distance[7], 0.5 * np.abs(_P - _pi).sum(axis=1), atol=1e-10)
    return


@app.cell
def test_causal_walks_end_on_position_zero(A_causal, T, np, pi_causal):
    # exact: row 0 keeps one logit (exp(0) / exp(0)); masked logits are -inf, exp(-inf) = 0
    assert A_causal[0, 0] == 1.0 and np.all(np.triu(A_causal, 1) == 0)
    _P = np.eye(T)
    for _ in range(3000):
        _P = _P @ A_causal
    assert np.allclose(_P[:, 0], 1.0, atol=1e-9)
    # exact: one closed class {0}, so pi is w e_0 / w (the other entries are never written)
    assert pi_causal[0] == 1.0 and np.all(pi_causal[1:] == 0.0)
    # a triangular matrix's characteristic polynomial is prod (x - A_tt):
    # compare with Faddeev-LeVerrier's coefficients
    _c, _M = [1.0], np.zeros((T, T))
    for _k in range(1, T + 1):
        _M = A_causal @ _M + _c[-1] * np.eye(T)
        _c.append(-np.trace(A_causal @ _M) / _k)
    _from_diagonal = [1.0]
    for _t in range(T):
        _from_diagonal = list(np.convolve(_from_diagonal, [1.0, -A_causal[_t, _t]]))
    assert np.allclose(_c, _from_diagonal, atol=1e-10)
    return


@app.cell
def test_errata_patterns_closed_forms(n, np, pattern_stats):
    _self = pattern_stats["each token on itself"]
    _uni = pattern_stats["uniform over all tokens"]
    _sink = pattern_stats["every token on the first"]
    _cycle = pattern_stats["each token on the previous (wrapping)"]
    _docs = pattern_stats["two documents packed (2 + 3 tokens)"]
    assert _self["gap"] == 0.0 and _self["entropy"] == 0.0  # eigenvalues all 1
    assert abs(_uni["gap"] - 1.0) < 1e-12 and abs(_uni["entropy"] - np.log2(n)) < 1e-12
    assert abs(_sink["gap"] - 1.0) < 1e-12 and _sink["entropy"] == 0.0
    # roots of unity: x^n - 1 = 0, every modulus 1
    _roots = np.roots([1.0] + [0.0] * (n - 1) + [-1.0])
    assert np.allclose(np.abs(_roots), 1.0) and np.allclose(_cycle["moduli"], 1.0)
    assert _cycle["gap"] == 0.0 and _docs["gap"] == 0.0
    assert np.sum(np.isclose(_docs["moduli"], 1.0)) == 2
    return


if __name__ == "__main__":
    app.run()
