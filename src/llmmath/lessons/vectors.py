import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Vectors, matrices and similarity")


@app.cell
def _():
    import html

    import marimo as mo
    import numpy as np

    from llmmath import linalg
    from llmmath.errors import ShapeError
    from llmmath.lessons import _kit as kit

    return ShapeError, html, kit, linalg, mo, np


@app.cell(hide_code=True)
def _(kit):
    kit.header("vectors")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Inside a language model every token is a **vector**: a row of numbers,
    all of the same length. Every layer is a **matrix** that takes such rows
    and returns new ones. Three questions come up again and again. How
    similar are two vectors? (A dot product, or its normalised cousin, the
    cosine.) How big is a vector? (A norm; gradient clipping and
    normalisation layers are built on it.) And which shapes may be
    multiplied or combined? (The shape rule of the matrix product, and
    broadcasting.) This lesson answers all three with `llmmath.linalg`, then
    looks at the eigenvalues of one special kind of matrix.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"a \cdot b = \sum_i a_i b_i, \qquad "
        r"\|a\|_1 = \sum_i |a_i|, \quad \|a\|_2 = \sqrt{\textstyle\sum_i a_i^2}, \quad "
        r"\|a\|_\infty = \max_i |a_i|, \qquad "
        r"\cos(a, b) = \frac{a \cdot b}{\|a\|_2\, \|b\|_2}",
        caption=(
            "$a$ and $b$ are vectors of the same length; $a_i$ is entry $i$. The dot product "
            "adds up entrywise products; the three norms measure size in three ways (L1: the "
            "sum of sizes, L2: the straight-line length, L∞: the largest entry). The "
            "cosine divides out both lengths and keeps only the angle between $a$ and $b$."
        ),
    )
    return


@app.cell
def _(linalg, mo, np):
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([4.0, 5.0, 6.0])
    dot_ab = linalg.dot(a, b)
    norm_a = linalg.norm(a)                      # L2 by default
    cos_ab = linalg.cosine_similarity(a, b)
    mo.show_code()
    return a, b, cos_ab, dot_ab, norm_a


@app.cell(hide_code=True)
def _(a, b, cos_ab, dot_ab, kit, linalg, mo, norm_a, np):
    _terms = " + ".join(f"{kit.fmt(x, 0)}\\cdot{kit.fmt(y, 0)}" for x, y in zip(a, b, strict=True))
    _angle = np.degrees(np.arccos(cos_ab))
    mo.vstack([
        mo.md(f"""
        The dot product is ${_terms} = {kit.fmt(dot_ab, 0)}$. The length of $a$ is
        $\\sqrt{{{kit.fmt(np.sum(a * a), 0)}}} = {kit.fmt(norm_a, 4)}$, the length of
        $b$ is {kit.fmt(linalg.norm(b), 4)}, and the cosine is
        {kit.fmt(dot_ab, 0)} / ({kit.fmt(norm_a, 4)} × {kit.fmt(linalg.norm(b), 4)}) =
        **{kit.fmt(cos_ab, 4)}**: the two vectors point almost the same way, about
        {kit.fmt(_angle, 1)}° apart. The syllabus prints the same three numbers
        in a code comment; the ledger checked each:
        """),
        kit.claim_badge("002-dot-product"),
        kit.claim_badge("002-l2-norm"),
        kit.claim_badge("002-cosine-similarity"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Three ways to measure size

    The three norms disagree about how big a vector is, because they weigh
    its entries differently. L1 adds up every entry's size, so many small
    entries count as much as one big one. L∞ looks only at the biggest
    entry. L2, the everyday length, sits between them. The plot draws every
    2-D vector whose norm is exactly 1: a diamond for L1, a circle for L2 and
    a square for L∞.
    """)
    return


@app.cell
def _(a, linalg, mo, np):
    norms_a = {
        "L1": linalg.norm(a, ord=1),
        "L2": linalg.norm(a, ord=2),
        "L∞": linalg.norm(a, ord=np.inf),
    }
    mo.show_code()
    return (norms_a,)


@app.cell(hide_code=True)
def _(a, kit, linalg, mo, norms_a, np):
    _theta = np.linspace(0.0, 2.0 * np.pi, 721)
    _dirs = np.stack([np.cos(_theta), np.sin(_theta)], axis=-1)  # (N, 2) unit directions
    _fig, _ax = kit.figure(size=(3.6, 3.4))
    for (_name, _ord), _color in zip(
        [("L1", 1), ("L2", 2), ("L∞", np.inf)], ["#e6550d", "#3182bd", "#31a354"], strict=True
    ):
        _pts = _dirs / linalg.norm(_dirs, axis=-1, ord=_ord, keepdims=True)  # norm exactly 1
        _ax.plot(_pts[:, 0], _pts[:, 1], color=_color, label=f"{_name} = 1")
    _ax.set_aspect("equal")
    _ax.axhline(0, color="0.85", lw=0.8)
    _ax.axvline(0, color="0.85", lw=0.8)
    _ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3,
               fontsize=8)
    _ax.set_title("vectors of norm 1")
    _ax.set_xlim(-1.25, 1.25)
    _ax.set_ylim(-1.25, 1.25)
    mo.hstack([
        kit.show(_fig, alt="unit circles of the L1, L2 and L-infinity norms"),
        mo.vstack([
            mo.md(f"For $a = ({', '.join(kit.fmt(v, 0) for v in a)})$:"),
            mo.md(kit.matrix_table(np.array(list(norms_a.values())), ["norm of a"],
                                   list(norms_a), digits=4)),
            mo.md(r"""
            Always $\|a\|_\infty \le \|a\|_2 \le \|a\|_1$. Gradient clipping
            rescales the whole gradient when its L2 norm passes a threshold;
            LayerNorm divides each centred row by its L2 norm divided by
            $\sqrt{d}$, which is the row's standard deviation.
            """),
        ]),
    ], justify="start", gap=2, align="center")
    return


@app.cell(hide_code=True)
def _(mo):
    angle = mo.ui.slider(
        start=0, stop=180, step=5, value=60, show_value=True,
        label="angle between u and v (degrees)", debounce=False,
    )
    length_v = mo.ui.slider(
        start=0.5, stop=3.0, step=0.1, value=1.5, show_value=True,
        label="length of v", debounce=False,
    )
    return angle, length_v


@app.cell(hide_code=True)
def _(angle, length_v, mo):
    mo.vstack([
        mo.md(r"""
        ## Try it: the angle decides the cosine

        $u$ is fixed; turn $v$ and stretch it. The dot product equals
        $\|u\|\,\|v\|\cos\theta$, so it grows with both lengths, while the
        cosine depends on the angle alone: 1 for the same direction, 0 at a
        right angle, −1 for opposite directions. That is why embedding search
        ranks by cosine: a long vector is not more similar, only longer.
        """),
        mo.hstack([angle, length_v], justify="start", gap=2),
    ])
    return


@app.cell
def _(angle, kit, length_v, linalg, mo, np):
    u = np.array([2.0, 0.6])                                     # fixed
    _t = np.arctan2(u[1], u[0]) + np.radians(kit.value(angle))        # v's direction
    v = kit.value(length_v) * np.array([np.cos(_t), np.sin(_t)])
    dot_uv = linalg.dot(u, v)
    cos_uv = linalg.cosine_similarity(u, v)
    mo.show_code()
    return cos_uv, dot_uv, u, v


@app.cell(hide_code=True)
def _(angle, cos_uv, dot_uv, kit, linalg, mo, u, v):
    _fig, _ax = kit.figure(size=(4.2, 3.4))
    _proj = dot_uv / linalg.dot(u, u) * u                        # v's shadow on u
    _ax.plot([v[0], _proj[0]], [v[1], _proj[1]], ls=":", color="0.5")
    _ax.plot([0, _proj[0]], [0, _proj[1]], color="#fd8d3c", lw=4, alpha=0.6,
             label="shadow of v on u")
    for _vec, _name, _color in [(u, "u", "#3182bd"), (v, "v", "#e6550d")]:
        _ax.annotate("", xy=tuple(_vec), xytext=(0, 0),
                     arrowprops={"arrowstyle": "-|>", "color": _color, "lw": 2})
        _ax.text(_vec[0] * 1.08, _vec[1] * 1.08 + 0.05, _name, color=_color, fontsize=12)
    _ax.set_aspect("equal")
    _ax.set_xlim(-3.3, 3.3)
    _ax.set_ylim(-1.2, 3.4)
    _ax.axhline(0, color="0.85", lw=0.8)
    _ax.axvline(0, color="0.85", lw=0.8)
    _ax.legend(frameon=False, loc="upper left", fontsize=8)
    _ax.set_title(f"θ = {kit.value(angle)}°")
    mo.hstack([
        kit.show(_fig, alt="two arrows u and v and the shadow of v on u"),
        mo.md(f"""
        | quantity | value |
        |:--|--:|
        | ‖u‖ | {kit.fmt(linalg.norm(u), 3)} |
        | ‖v‖ | {kit.fmt(linalg.norm(v), 3)} |
        | u · v | **{kit.fmt(dot_uv, 3)}** |
        | cos(u, v) | **{kit.fmt(cos_uv, 3)}** |
        | shadow length (u · v / ‖u‖) | {kit.fmt(dot_uv / linalg.norm(u), 3)} |
        """),
    ], justify="start", gap=2, align="center")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## A matrix is a transformation; a product is two in a row

    Multiplying a vector by a matrix $W$ gives a new vector whose entry $i$
    is the dot product of **row $i$** of $W$ with the vector. Seen
    geometrically, $W$ moves every point of the plane: it may rotate,
    stretch or shear. Applying $R$ and then $S$ is the same as applying the
    single matrix $SR$, because $(SR)\,x = S\,(Rx)$: a matrix product is a
    composition. The order matters: $SR$ and $RS$ are usually different
    transformations.
    """)
    return


@app.cell
def _(linalg, mo, np):
    R = np.array([[0.0, -1.0], [1.0, 0.0]])      # rotate a quarter turn
    S = np.array([[2.0, 0.0], [0.0, 0.5]])       # stretch x, squash y
    SR = linalg.matmul(S, R)                     # first R, then S
    RS = linalg.matmul(R, S)                     # first S, then R
    # the letter F as a path through 6 points, one point per column: (2, 6)
    shape_F = np.array([[0, 0, 0.6, 0, 0, 0.4], [0, 1, 1, 1, 0.5, 0.5]])
    mo.show_code()
    return R, RS, S, SR, shape_F


@app.cell(hide_code=True)
def _(R, RS, S, SR, kit, linalg, mo, shape_F):
    _panels = [
        ("x", shape_F),
        ("R x", linalg.matmul(R, shape_F)),
        ("S (R x) = (SR) x", linalg.matmul(SR, shape_F)),
        ("(RS) x", linalg.matmul(RS, shape_F)),
    ]
    _fig, _axes = kit.figure(1, 4, size=(8.4, 1.7), sharex=True, sharey=True)
    for _ax, (_title, _pts) in zip(_axes, _panels, strict=True):
        _ax.plot(shape_F[0], shape_F[1], color="0.85", lw=3)
        _ax.plot(_pts[0], _pts[1], color="#3182bd", lw=3)
        _ax.set_title(_title)
        _ax.set_aspect("equal")
        _ax.set_xlim(-2.2, 1.4)
        _ax.set_ylim(-0.4, 1.4)
        _ax.axhline(0, color="0.9", lw=0.8)
        _ax.axvline(0, color="0.9", lw=0.8)
    mo.vstack([
        kit.show(_fig, alt="a letter F, rotated, then stretched; and in the other order"),
        mo.md(f"""
        $R = {kit.latex_matrix(R, 0)}$, $S = {kit.latex_matrix(S, 1)}$,
        $SR = {kit.latex_matrix(SR, 1)}$, $RS = {kit.latex_matrix(RS, 1)}$.
        The grey F is the original. The last two panels use the same two
        matrices in opposite orders: rotating first and then stretching lays
        the F down long and flat, while stretching first and then rotating
        gives a short stem with long arms pointing up.
        """),
        kit.claim_badge("001-matmul-row-dot"),
    ])
    return


@app.cell(hide_code=True)
def _(A, B, mo):
    mo.md(rf"""
    ## The shape rule

    $(m \times n)\cdot(n \times p) \to (m \times p)$: the inner sizes must
    agree, because each output entry is a dot product of a row of length $n$
    with a column of length $n$; the outer sizes survive. A layer that maps
    {B.shape[0]} features to {B.shape[1]}, applied to a batch of {A.shape[0]}
    rows, is exactly this.
    """)
    return


@app.cell
def _(linalg, mo, np):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 8))              # 4 rows, 8 features
    B = rng.standard_normal((8, 16))             # maps 8 features to 16 (a layer)
    C = linalg.matmul(A, B)                      # (4, 8) @ (8, 16) -> (4, 16)
    mo.show_code()
    return A, B, C, rng


@app.cell(hide_code=True)
def _(A, B, C, ShapeError, html, kit, linalg, mo):
    try:
        linalg.matmul(A, A)
        _message = "no error (unexpected)"
    except ShapeError as _err:
        _message = str(_err)
    mo.vstack([
        mo.md(f"""
        $A$ is {A.shape[0]}×{A.shape[1]}, $B$ is {B.shape[0]}×{B.shape[1]}, so
        $C = AB$ is {C.shape[0]}×{C.shape[1]}.
        """),
        kit.claim_badge("002-matmul-shape"),
        mo.md(f"""
        Multiply $A$ by itself and the inner sizes ({A.shape[1]} and {A.shape[0]})
        clash. `llmmath.linalg.matmul(A, A)` refuses, and its message states the rule:

        <pre style="white-space: pre-wrap">{html.escape(_message)}</pre>
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Broadcasting

    Element-wise operations between arrays of different shapes line the
    shapes up **from the right**. Two sizes are compatible when they are
    equal or one of them is 1 (or missing); the smaller array is then reused
    along the missing axes, without being copied. A batch of token vectors
    times one vector of per-feature scales is the classic case: every row is
    scaled the same way.
    """)
    return


@app.cell
def _(linalg, mo, np, rng):
    batch = rng.standard_normal((32, 512))       # 32 tokens, 512 features each
    scale = rng.standard_normal(512)             # one factor per feature
    scaled = batch * scale                       # (32, 512) * (512,) -> (32, 512)
    W = rng.standard_normal((512, 512))
    projected = linalg.matmul(W, batch[0])       # (512, 512) @ (512,) -> (512,)
    mo.show_code()
    return W, batch, projected, scale, scaled


@app.cell(hide_code=True)
def _(
    W,
    batch,
    html,
    kit,
    mo,
    np,
    projected,
    scale,
    scaled,
):
    try:
        np.broadcast_shapes(batch.shape, (batch.shape[0],))
        _message = "no error (unexpected)"
    except ValueError as _err:
        _message = str(_err)
    _small = np.arange(1.0, 13.0).reshape(3, 4)
    _s = np.array([1.0, 10.0, 100.0, 0.0])
    mo.vstack([
        mo.md(f"""
        `batch` {batch.shape} times `scale` {scale.shape} gives {scaled.shape};
        `W` {W.shape} times one row {batch[0].shape} gives {projected.shape}.
        """),
        kit.claim_badge("002-broadcast-shape"),
        kit.claim_badge("002-matvec-shape"),
        mo.md(f"""
        Small enough to read: a {_small.shape} array times a {_s.shape} vector
        multiplies column $j$ by entry $j$.
        """),
        mo.hstack([
            mo.md(kit.matrix_table(_small, digits=0, corner="x")),
            mo.md("times"),
            mo.md(kit.matrix_table(_s, ["s"], digits=0)),
            mo.md("gives"),
            mo.md(kit.matrix_table(_small * _s, digits=0, corner="x · s")),
        ], justify="start", gap=1.5, align="center"),
        mo.md(f"""
        A vector with one entry per **token** instead, shape ({batch.shape[0]},),
        does not line up with the last axis ({batch.shape[1]}):

        <pre style="white-space: pre-wrap">{html.escape(_message)}</pre>

        Give it an axis of length 1, `per_token[:, None]` with shape
        ({batch.shape[0]}, 1), and it broadcasts along the features instead.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Eigenvalues of a symmetric matrix

    A square matrix $S$ can send some vectors to multiples of themselves:
    $S q = \lambda q$. Such a $q$ is an eigenvector and $\lambda$ its
    eigenvalue. Symmetric matrices are the friendly case: their eigenvalues
    are real and their eigenvectors can be chosen at right angles to each
    other (the spectral theorem). Covariance matrices, which PCA takes
    apart, are symmetric. So is $S = MM^\top$ for any $M$, and its
    eigenvalues are never negative, because for every $x$

    $$x^\top M M^\top x = (M^\top x)\cdot(M^\top x) = \|M^\top x\|_2^2 \ge 0.$$

    A matrix with that property is **positive semidefinite**. It is positive
    *definite* (all eigenvalues strictly above 0) exactly when $M$ has full
    rank.
    """)
    return


@app.cell
def _(linalg, mo, np):
    M = np.random.default_rng(1).standard_normal((4, 4))
    S_psd = linalg.matmul(M, M.T)                      # symmetric: S_psd == S_psd.T
    eigenvalues, eigenvectors = np.linalg.eigh(S_psd)  # ascending, real
    M_flat = M.copy()
    M_flat[3] = M[0] + M[1]                            # a row that repeats others: rank 3
    eigenvalues_flat = np.linalg.eigvalsh(linalg.matmul(M_flat, M_flat.T))
    mo.show_code()
    return M, M_flat, S_psd, eigenvalues, eigenvalues_flat, eigenvectors


@app.cell(hide_code=True)
def _(eigenvalues, eigenvalues_flat, eigenvectors, kit, mo, np):
    _orth = np.max(np.abs(eigenvectors.T @ eigenvectors - np.eye(len(eigenvalues))))
    _cols = [f"λ{i + 1}" for i in range(len(eigenvalues))]
    mo.vstack([
        mo.md(f"""
        {kit.matrix_table(np.stack([eigenvalues, eigenvalues_flat]),
                          ["M Mᵀ", "M Mᵀ, one row of M repeating others"], _cols, digits=4)}

        The first matrix has all eigenvalues positive (smallest
        {kit.fmt(eigenvalues.min(), 4)}), and its eigenvectors are at right angles
        (largest deviation of $Q^\\top Q$ from $I$: {_orth:.1e}). When one row
        of $M$ is the sum of two others, $M^\\top x = 0$ for some $x \\ne 0$, and
        the smallest eigenvalue drops to {kit.fmt(abs(eigenvalues_flat.min()), 4)}:
        still semidefinite, no longer definite. The syllabus calls $MM^\\top$
        positive definite; for a random Gaussian $M$ that holds with probability 1:
        """),
        kit.claim_badge("002-mmt-positive-definite"),
    ])
    return


@app.cell(hide_code=True)
def _(a, kit, linalg):
    _k = 10.0
    kit.check_yourself(
        f"Multiply $a = ({', '.join(kit.fmt(v, 0) for v in a)})$ by {kit.fmt(_k, 0)}. "
        f"What happens to its dot product with itself, its L2 norm and its cosine "
        f"with the original?",
        f"The dot product with itself is $\\|a\\|^2$, so it grows "
        f"{kit.fmt(_k * _k, 0)} times: {kit.fmt(linalg.dot(a, a), 0)} becomes "
        f"{kit.fmt(linalg.dot(_k * a, _k * a), 0)}. The norm grows {kit.fmt(_k, 0)} times "
        f"({kit.fmt(linalg.norm(a), 4)} to {kit.fmt(linalg.norm(_k * a), 4)}). The cosine "
        f"stays {kit.fmt(linalg.cosine_similarity(a, _k * a), 4)}: same direction.",
    )
    return


@app.cell(hide_code=True)
def _(kit, linalg, np):
    _x = np.zeros((8, 64, 128))                  # (batch, tokens, features)
    _w = np.zeros((128, 512))
    _out = linalg.matmul(_x, _w)
    kit.check_yourself(
        f"A batch of activations has shape {_x.shape} (sequences, tokens, features) and "
        f"a weight matrix has shape {_w.shape}. What is the shape of their product, and "
        f"which axes were matched?",
        f"{_out.shape}. The last axis of the activations ({_x.shape[-1]}) meets the first "
        f"axis of the weights ({_w.shape[0]}) and is summed away; the weights are reused "
        f"for all {_x.shape[0]} × {_x.shape[1]} token vectors, as with broadcasting.",
    )
    return


@app.cell(hide_code=True)
def _(eigenvalues_flat, kit):
    kit.check_yourself(
        "Why can no eigenvalue of $MM^\\top$ be negative, and when is one of them zero?",
        f"If $MM^\\top q = \\lambda q$ with $\\|q\\| = 1$, then "
        f"$\\lambda = q^\\top MM^\\top q = \\|M^\\top q\\|^2 \\ge 0$. It is zero exactly when "
        f"$M^\\top q = 0$ for some $q \\ne 0$, that is, when the rows of $M$ are linearly "
        f"dependent; the example above with a repeated row gets "
        f"{kit.fmt(abs(eigenvalues_flat.min()), 4)}.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Dot product: $\sum_i a_i b_i = \|a\|\,\|b\|\cos\theta$; the cosine keeps
      only the angle, in $[-1, 1]$.
    - Norms measure size: L1 (sum of sizes), L2 (length), L∞ (largest entry).
    - $(m \times n)(n \times p) \to (m \times p)$; a product of matrices is a
      composition of transformations, and the order matters.
    - Broadcasting lines shapes up from the right; sizes must match or be 1.
    - $MM^\top$ is symmetric positive semidefinite: real, non-negative
      eigenvalues, orthogonal eigenvectors.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("vectors")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("vectors")
    return


@app.cell
def test_dot_norm_cosine_by_hand(a, b, cos_ab, dot_ab, norm_a):
    import math

    _dot = sum(float(x) * float(y) for x, y in zip(a, b, strict=True))
    _na = math.sqrt(sum(float(x) ** 2 for x in a))
    _nb = math.sqrt(sum(float(y) ** 2 for y in b))
    # exact: whole numbers, so every product and partial sum is exact in any order
    assert _dot == dot_ab == 1 * 4 + 2 * 5 + 3 * 6
    assert abs(norm_a - math.sqrt(14.0)) < 1e-15 and abs(norm_a - _na) < 1e-15
    assert abs(cos_ab - _dot / (_na * _nb)) < 1e-15
    return


@app.cell
def test_three_norms_by_hand(a, norms_a):
    # exact: a holds whole numbers, so sums in any order are exact
    assert norms_a["L1"] == sum(abs(float(x)) for x in a)
    assert norms_a["L∞"] == max(abs(float(x)) for x in a)
    assert abs(norms_a["L2"] ** 2 - sum(float(x) * float(x) for x in a)) < 1e-12
    return


@app.cell
def test_live_cosine_is_cos_of_the_angle(angle, cos_uv, dot_uv, kit, length_v, np, u):
    _theta = np.radians(kit.value(angle))
    assert abs(cos_uv - np.cos(_theta)) < 1e-12
    _len_u = (u[0] ** 2 + u[1] ** 2) ** 0.5
    assert abs(dot_uv - _len_u * kit.value(length_v) * np.cos(_theta)) < 1e-12
    return


@app.cell
def test_composition_and_row_dots(R, RS, S, SR, shape_F):
    for _k in range(shape_F.shape[1]):
        _x = shape_F[:, _k]
        _rx = [R[_i, 0] * _x[0] + R[_i, 1] * _x[1] for _i in range(2)]
        _srx = [S[_i, 0] * _rx[0] + S[_i, 1] * _rx[1] for _i in range(2)]
        for _i in range(2):
            assert abs(SR[_i, 0] * _x[0] + SR[_i, 1] * _x[1] - _srx[_i]) < 1e-12
    assert abs(SR - RS).max() > 0.5  # the order matters here
    return


@app.cell
def test_broadcast_and_matvec_entries(W, batch, projected, scale, scaled):
    for _i, _j in [(0, 0), (5, 17), (31, 511), (12, 300)]:
        assert scaled[_i, _j] == batch[_i, _j] * scale[_j]
    for _i in (0, 100, 511):
        _row = sum(float(W[_i, _j]) * float(batch[0, _j]) for _j in range(batch.shape[1]))
        assert abs(projected[_i] - _row) < 1e-9
    return


@app.cell
def test_eigenvalues_are_squared_singular_values(M, M_flat, eigenvalues, eigenvalues_flat, np):
    # independent route: M M^T = U diag(s^2) U^T, so its eigenvalues are the squared
    # singular values of M; their sum is the trace and their product the determinant
    _s = np.linalg.svd(M, compute_uv=False)
    assert np.allclose(np.sort(_s**2), eigenvalues, rtol=1e-10, atol=1e-12)
    assert abs(eigenvalues.sum() - sum(M[_i] @ M[_i] for _i in range(4))) < 1e-10
    assert abs(np.prod(eigenvalues) - np.linalg.det(M) ** 2) < 1e-8 * max(1.0, np.prod(eigenvalues))
    assert eigenvalues.min() > 0
    assert abs(eigenvalues_flat.min()) < 1e-10 and eigenvalues_flat.max() > 1
    _s_flat = np.linalg.svd(M_flat, compute_uv=False)
    assert np.allclose(np.sort(_s_flat**2), eigenvalues_flat, atol=1e-10)
    return


if __name__ == "__main__":
    app.run()
