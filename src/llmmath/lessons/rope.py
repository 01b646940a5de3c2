import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Positions by rotation (RoPE)")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import attention
    from llmmath.autograd import Tensor
    from llmmath.autograd import functional as F
    from llmmath.lessons import _kit as kit
    from llmmath.nn import Attention, LlamaConfig

    return Attention, F, LlamaConfig, Tensor, attention, kit, math, mo, np


@app.cell(hide_code=True)
def _(kit):
    kit.header("rope")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Attention on its own has no idea of order: shuffle the tokens of a
    sentence, and each token's scores against the others are shuffled the
    same way, nothing more. Position has to be put in by hand. GPT-2 learns a
    table with one vector per position and adds it to each token's
    embedding; the original transformer added fixed sines and cosines
    instead. Llama, Mistral and Qwen do something else: they leave the
    embeddings alone and **rotate** every query and key by an angle that
    grows with its position.

    Rotations have one property that makes this work: turning two vectors by
    the same angle leaves their dot product unchanged. So a score can only
    see how far apart a query and a key are, never where they sit. This
    lesson checks that claim with a slider, and compares the rotation with
    the two additive schemes.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\begin{pmatrix} y_{2i} \\ y_{2i+1} \end{pmatrix} = "
        r"\begin{pmatrix} \cos m\omega_i & -\sin m\omega_i \\ \sin m\omega_i & \cos m\omega_i"
        r"\end{pmatrix} \begin{pmatrix} x_{2i} \\ x_{2i+1} \end{pmatrix},\qquad "
        r"\omega_i = \theta^{-2i/d}",
        caption=(
            r"A query or key $x$ of width $d$ at position $m$ is cut into $d/2$ pairs of "
            r"neighbouring coordinates; pair $i$ is turned by the angle $m\omega_i$. "
            r"$\theta$ is the base of the frequencies (10000 in RoFormer and Llama 2)."
        ),
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\langle R(m)\,q,\; R(n)\,k \rangle = q^{\top} R(m)^{\top} R(n)\,k = "
        r"q^{\top} R(n - m)\,k",
        caption=(
            r"$R(m)$ is the block-diagonal matrix of all the pair rotations. A rotation's "
            r"transpose is its inverse, $R(m)^\top = R(-m)$, and rotations by angles add, so "
            r"only the offset $n - m$ survives."
        ),
    )
    return


@app.cell
def _(attention, mo, np):
    d, theta = 16, 10000.0
    _rng = np.random.default_rng(0)
    q, k = _rng.standard_normal(d), _rng.standard_normal(d)    # one query, one key
    omega = attention.rope_frequencies(d, theta)                # (d/2,) radians per position
    wavelengths = 2 * np.pi / omega                             # positions per full turn
    mo.show_code()
    return d, k, omega, q, theta, wavelengths


@app.cell(hide_code=True)
def _(kit, mo, np, omega, wavelengths):
    mo.md(f"""
    Each pair turns at its own speed. The first turns by one radian per
    position, the last by {kit.fmt(omega[-1], 5)}: a ladder from fast to slow,
    with wavelengths (positions per full turn) from
    {kit.fmt(wavelengths[0], 1)} to {kit.fmt(wavelengths[-1], 0)}.

    {kit.matrix_table(np.stack([omega, wavelengths]), ["ω (rad / position)", "wavelength"],
                      [f"pair {i}" for i in range(len(omega))], digits=3)}

    Fast pairs tell neighbours apart; slow ones still change over thousands
    of positions. The same ladder of frequencies is used by the sinusoidal
    encoding, whose pairs are sines and cosines of the same angles.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Scores against distance, three ways

    Take the query at position $m$ and the key $\Delta$ positions before it,
    at $n = m - \Delta$, for $\Delta = 0, 1, \dots$ (a causal model only looks
    back). Each scheme gives a score for every $\Delta$:

    - **RoPE**: rotate $q$ by $m$ and $k$ by $n$, then take the dot product;
    - **sinusoidal**: add the fixed encodings $p_m$ and $p_n$ first,
      $(q + p_m)\cdot(k + p_n)$;
    - **learned**: the same with rows of a table $P$ (here random, as at the
      start of training).

    The slider moves the whole picture along: both positions grow by the
    same shift $s$. A scheme that only sees offsets draws the same curve for
    every $s$.
    """)
    return


@app.cell
def _(attention, d, k, np, q, theta):
    deltas = np.arange(0, 49)                                  # how far back the key is
    m0 = 48                                                    # the query's position at s = 0
    table_rows = 2200                                          # positions a learned table holds
    sinusoidal = attention.sinusoidal_positions(table_rows, d)            # (rows, d)
    learned = np.random.default_rng(1).normal(0.0, 0.5, (table_rows, d))  # (rows, d)

    def scores(shift):
        """Score of the query at m0 + shift against the keys Delta positions before it."""
        m = m0 + shift
        n = m - deltas                                         # (len(deltas),)
        rope_scores = attention.rope(np.tile(k, (len(n), 1)), n, theta) @ \
            attention.rope(q, m, theta)
        return {"RoPE": rope_scores,
                "sinusoidal": (k + sinusoidal[n]) @ (q + sinusoidal[m]),
                "learned": (k + learned[n]) @ (q + learned[m])}

    at_rest = scores(0)
    return at_rest, deltas, m0, scores, table_rows


@app.cell(hide_code=True)
def _(mo):
    shift = mo.ui.slider(0, 2000, step=10, value=500, show_value=True,
                         label="shift s of both positions", debounce=False)
    shift
    return (shift,)


@app.cell
def _(at_rest, kit, np, scores, shift):
    s = kit.value(shift)
    shifted = scores(s)
    gaps = {name: float(np.abs(shifted[name] - at_rest[name]).max()) for name in at_rest}
    return gaps, s, shifted


@app.cell(hide_code=True)
def _(at_rest, deltas, gaps, kit, m0, mo, s, shifted):
    _fig, _axes = kit.figure(1, 3, size=(10.0, 3.2), margins={"wspace": 0.55})
    for _ax, _name in zip(_axes, ["RoPE", "sinusoidal", "learned"], strict=True):
        _ax.plot(deltas, at_rest[_name], color="0.6", lw=2.2, label=f"m = {m0}")
        _ax.plot(deltas, shifted[_name], color="tab:blue", lw=1.0, label=f"m = {m0 + s}")
        _ax.set_title(_name)
        _ax.set_xlabel("offset Δ = m − n")
    _axes[0].set_ylabel("score q·k")
    _axes[0].legend(loc="lower right", fontsize=7)
    mo.vstack([
        kit.show(_fig, alt="score against offset for three position schemes, before and "
                           "after shifting both positions"),
        mo.md(f"""
        Largest change of a score when both positions move by $s = {s}$: RoPE
        **{gaps["RoPE"]:.1e}** (rounding), sinusoidal **{kit.fmt(gaps["sinusoidal"], 3)}**,
        learned **{kit.fmt(gaps["learned"], 3)}**. The additive schemes mix the
        position into the content: $(q + p_m)\\cdot(k + p_n)$ contains $q \\cdot p_n$
        and $p_m \\cdot k$, which depend on where the tokens are, not only on how far
        apart.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## In the model

    In `llmmath.nn.Llama` every attention layer rotates its queries and keys
    this way (the values are not rotated). So adding the same number to all
    the positions of a sequence changes nothing the layer computes. Below, one
    attention layer runs on the same five token vectors twice: at positions
    $0, \dots, 4$ and at positions $1000, \dots, 1004$.
    """)
    return


@app.cell
def _(Attention, LlamaConfig, mo, np):
    layer = Attention(LlamaConfig(n_embd=16, n_head=2), dtype=np.float64, rng=0)
    tokens_in = np.random.default_rng(2).standard_normal((1, 5, 16))     # (B, T, C)
    out_start = layer(tokens_in, token_positions=np.arange(5)).data
    out_far = layer(tokens_in, token_positions=np.arange(5) + 1000).data
    mo.show_code()
    return out_far, out_start


@app.cell(hide_code=True)
def _(mo, np, out_far, out_start):
    mo.md(f"""
    The two outputs differ by at most **{np.abs(out_far - out_start).max():.1e}**,
    out of entries as large as {np.abs(out_start).max():.2f}. A learned table
    could not even be asked about position 1000 if it had fewer rows; here
    there is no table at all.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## A gentle decay with distance

    Rotations also shape which offsets a score can reach. With $q = k$ equal
    to the all-ones vector of a head of width 128, the score is
    $2\sum_i \cos(\Delta\,\omega_i)$: at
    $\Delta = 0$ every pair adds up, and as $\Delta$ grows the fast pairs fall
    out of step with the slow ones, so the sum wanders down towards zero. The
    base $\theta$ sets how far that takes.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    base_choice = mo.ui.dropdown({"100": 100.0, "10000 (Llama 2)": 10000.0,
                                  "500000 (Llama 3)": 500000.0},
                                 value="10000 (Llama 2)", label="base θ")
    base_choice
    return (base_choice,)


@app.cell
def _(attention, base_choice, kit, np):
    decay_theta = kit.value(base_choice)
    d_head = 128                                                     # a Llama head's width
    far = np.unique(np.geomspace(1, 100_000, 200).astype(int))      # offsets, log-spaced
    ones = np.ones((len(far), d_head))
    decay = attention.rope(ones, far, decay_theta) @ np.ones(d_head) / d_head  # mean cos(Δω)
    return d_head, decay, decay_theta, far


@app.cell(hide_code=True)
def _(decay, decay_theta, far, kit, mo, np):
    _fig, _ax = kit.figure()
    _ax.semilogx(far, decay, color="tab:blue")
    _ax.axhline(0, color="0.5", lw=0.8)
    _ax.set_xlabel("offset Δ")
    _ax.set_ylabel("score / d for q = k = 1")
    _ax.set_title(f"θ = {decay_theta:g}")
    _half = far[np.argmax(decay < 0.5)] if (decay < 0.5).any() else None
    mo.vstack([
        kit.show(_fig, alt="RoPE score of two all-ones vectors against their offset"),
        mo.md(f"With θ = {decay_theta:g} the score first falls below half its start at "
              f"Δ = {_half}." if _half is not None else
              f"With θ = {decay_theta:g} the score stays above half its start up to "
              f"Δ = {far[-1]:,}."),
    ])
    return


@app.cell(hide_code=True)
def _(d, mo, table_rows):
    mo.md(f"""
    ## The three schemes side by side

    | | learned table (GPT-2) | sinusoidal (Vaswani et al.) | rotation (RoPE) |
    |---|---|---|---|
    | where | added to the input once | added to the input once | turns q and k in every layer |
    | parameters | one row per position ({table_rows} × {d} here) | none | none |
    | a score depends on | both positions | both positions (through q·pₙ, pₘ·k) | the offset only |
    | past the longest position seen | no row to use | defined | defined (offsets never trained on) |

    "Defined" is not "good": a model trained on 2048 tokens has never seen
    an offset of 5000, whatever the scheme. Extending the context of a RoPE
    model is done by rescaling $\\theta$ or the positions, and then some
    further training.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "The backward pass of RoPE needs no new formula. Why?",
        "The rotation is linear and orthogonal: y = R(m) x, so ∂L/∂x = R(m)ᵀ ∂L/∂y = "
        "R(−m) ∂L/∂y, the same rotation with the sine's sign flipped. "
        "`functional.rope` computes it exactly so.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "Why are the values v not rotated?",
        "The rotation is there to make the scores q·k depend on offsets. The values are "
        "only averaged with those scores as weights; rotating them would mix their "
        "coordinates by position and help nothing.",
    )
    return


@app.cell(hide_code=True)
def _(gaps, kit):
    kit.check_yourself(
        "The sinusoidal encodings' own dot products pₘ·pₙ depend only on m − n too. Why do "
        "the sinusoidal scores still change with the shift?",
        "Because the encodings are added to the content: (q + pₘ)·(k + pₙ) = q·k + q·pₙ + "
        "pₘ·k + pₘ·pₙ. Only the last term is relative; the two cross terms move with the "
        f"absolute positions (here by up to {gaps['sinusoidal']:.3f} at the chosen shift).",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - RoPE rotates pair $i$ of each query and key at position $m$ by
      $m\,\theta^{-2i/d}$; the values are left alone.
    - Since $R(m)^\top R(n) = R(n - m)$, scores depend only on the offset
      between query and key: shifting every position changes nothing.
    - Additive schemes (a learned table, sinusoids) leak absolute position
      into the scores through the cross terms.
    - RoPE adds no parameters; its backward pass is the inverse rotation.
    - Meta's code rotates neighbouring coordinates, Hugging Face's rotates
      the two halves of a head: the same model up to a permutation of the
      rows of $W_q$ and $W_k$ (`llmmath.nn.hf_rope_permutation`).
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("rope")
    return


@app.cell
def test_rotation_by_hand(attention, math, np):
    _x = [0.3, -1.2, 2.0, 0.5]
    _m, _theta = 7, 100.0
    _y = attention.rope(np.array(_x), _m, _theta)
    for _i in range(2):
        _angle = _m * _theta ** (-2 * _i / 4)
        _a, _b = _x[2 * _i], _x[2 * _i + 1]
        assert abs(_y[2 * _i] - (_a * math.cos(_angle) - _b * math.sin(_angle))) < 1e-14
        assert abs(_y[2 * _i + 1] - (_a * math.sin(_angle) + _b * math.cos(_angle))) < 1e-14
    return


@app.cell
def test_rope_scores_ignore_the_shift(deltas, gaps, k, m0, math, omega, q, s, shifted):
    # holds for every slider value; the score is also written out pair by pair
    assert gaps["RoPE"] < 1e-9
    for _j in (0, len(deltas) - 1):
        _delta = int(deltas[_j])
        _want = 0.0
        for _i in range(len(omega)):
            _c, _s = math.cos(_delta * omega[_i]), math.sin(_delta * omega[_i])
            # q . R(-delta) k for one pair: the key sits delta positions before the query
            _want += q[2 * _i] * (_c * k[2 * _i] + _s * k[2 * _i + 1]) + \
                q[2 * _i + 1] * (-_s * k[2 * _i] + _c * k[2 * _i + 1])
        assert abs(shifted["RoPE"][_j] - _want) < 1e-9, (s, m0, _delta)
    return


@app.cell
def test_sinusoidal_cross_terms_move(at_rest, d, deltas, k, m0, math, np, q, scores):
    # at a fixed shift the additive score changes; recompute it from the definition
    _s = 137
    _moved = scores(_s)["sinusoidal"]
    assert np.abs(_moved - at_rest["sinusoidal"]).max() > 0.05

    def _pe(pos):
        _v = []
        for _j in range(d):
            _ang = pos / 10000.0 ** ((_j - _j % 2) / d)
            _v.append(math.sin(_ang) if _j % 2 == 0 else math.cos(_ang))
        return _v

    _m = m0 + _s
    _n = _m - int(deltas[5])
    _want = sum((k[_j] + _pe(_n)[_j]) * (q[_j] + _pe(_m)[_j]) for _j in range(d))
    assert abs(_moved[5] - _want) < 1e-9
    return


@app.cell
def test_model_ignores_a_common_shift(np, out_far, out_start):
    assert np.abs(out_far - out_start).max() < 1e-9 * max(1.0, np.abs(out_start).max())
    return


@app.cell
def test_decay_curve_by_hand(d_head, decay, decay_theta, far, math):
    for _j in (0, len(far) // 2, len(far) - 1):
        _want = sum(math.cos(far[_j] * decay_theta ** (-2 * _i / d_head))
                    for _i in range(d_head // 2))
        assert abs(decay[_j] - 2 * _want / d_head) < 1e-9
    return


@app.cell
def test_backward_is_the_inverse_rotation(F, Tensor, attention, np):
    _x = Tensor(np.random.default_rng(3).standard_normal((5, 8)), requires_grad=True)
    _g = np.random.default_rng(4).standard_normal((5, 8))
    F.rope(_x, np.arange(5)).backward(_g)
    assert np.abs(_x.grad - attention.rope(_g, -np.arange(5))).max() < 1e-14
    return


if __name__ == "__main__":
    app.run()
