import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Attention as matrix operations")


@app.cell
def _():
    import html

    import marimo as mo
    import numpy as np

    from llmmath import attention, linalg, prob
    from llmmath.errors import ShapeError
    from llmmath.lessons import _kit as kit

    return ShapeError, attention, html, kit, linalg, mo, np, prob


@app.cell(hide_code=True)
def _(kit):
    kit.header("attention")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    A word rarely means much on its own. In *the cat sat*, the verb only
    makes sense once it is tied to whoever did the sitting. A transformer
    makes those ties with **attention**: each position looks at every
    position it is allowed to see, decides how relevant each one is, and
    takes a blend of what they carry.

    Nothing in that recipe is exotic. It is one matrix product that scores
    every pair of tokens, a division by a constant, a softmax along each row,
    and one more matrix product that mixes the value vectors. Below, a short
    sentence goes through each of those steps, and every number you see is
    computed on the spot by `llmmath`.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\operatorname{Attention}(Q, K, V) = "
        r"\operatorname{softmax}\!\left(\frac{Q K^{\top}}{\sqrt{d_k}}\right) V",
        caption=(
            "$Q$ holds one query row per position, $K$ one key row per position, $V$ one "
            "value row per position; $d_k$ is the width of queries and keys. The "
            "softmax runs along each row, that is, over the keys."
        ),
    )
    return


@app.cell(hide_code=True)
def _(V, d_k, kit, mo, tokens):
    _carries = ", ".join(
        f'"{t}" carries $({", ".join(kit.fmt(x, 0) for x in row)})$'
        for t, row in zip(tokens, V, strict=True)
    )
    mo.md(f"""
    ## The example

    {len(tokens)} tokens, queries and keys of width $d_k = {d_k}$. The query
    and key numbers are the ones used in the syllabus; it gives no
    values, so the matrix $V$ is our own choice. Each value row is easy to
    follow: {_carries}; so an output row can be read straight off its
    attention weights.
    """)
    return


@app.cell
def _(mo, np):
    tokens = ["The", "cat", "sat"]
    Q = np.array([[1.0, 0.5], [0.3, 0.8], [0.1, 0.9]])  # (T, d_k) queries
    K = np.array([[0.9, 0.2], [0.4, 0.7], [0.2, 0.8]])  # (T, d_k) keys
    V = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # (T, d_v) values: ours
    d_k = Q.shape[-1]
    mo.show_code()
    return K, Q, V, d_k, tokens


@app.cell(hide_code=True)
def _(K, Q, V, d_k, kit, mo, tokens):
    _dims = [f"dim {c + 1}" for c in range(d_k)]
    mo.hstack([
        mo.md(f"**Q** (queries) {kit.matrix_table(Q, tokens, _dims, digits=1)}"),
        mo.md(f"**K** (keys) {kit.matrix_table(K, tokens, _dims, digits=1)}"),
        mo.md(f"**V** (values, ours) {kit.matrix_table(V, tokens, _dims, digits=1)}"),
    ], justify="start", gap=2)
    return


@app.cell(hide_code=True)
def _(K, K_T, mo):
    mo.md(f"""
    ## Step 1 — turn the keys on their side

    A score is a dot product of one query row with one key row. Writing the
    keys as **columns** lets a single matrix product compute all of them at
    once, so we transpose: $K$ is {K.shape[0]}×{K.shape[1]}, $K^\\top$ is
    {K_T.shape[0]}×{K_T.shape[1]}.
    """)
    return


@app.cell
def _(K, mo):
    K_T = K.T  # (d_k, T)
    mo.show_code()
    return (K_T,)


@app.cell(hide_code=True)
def _(K_T, d_k, kit, mo, tokens):
    mo.md(kit.matrix_table(K_T, [f"dim {c + 1}" for c in range(d_k)], tokens, digits=1))
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Step 2 — score every query against every key

    Row *i* of $QK^\top$ holds the scores of query *i* against each key, so
    one product fills the whole table.
    """)
    return


@app.cell
def _(K_T, Q, linalg, mo):
    scores = linalg.matmul(Q, K_T)  # (T, d_k) @ (d_k, T) -> (T, T)
    mo.show_code()
    return (scores,)


@app.cell(hide_code=True)
def _(K, Q, kit, mo, scores, tokens):
    _terms = " + ".join(
        f"{kit.fmt(Q[0, c], 1)} \\times {kit.fmt(K[0, c], 1)}" for c in range(Q.shape[1])
    )
    mo.md(f"""
    For "{tokens[0]}" looking at itself:
    $\\;{_terms} = {kit.fmt(scores[0, 0], 2)}$.

    {kit.matrix_table(scores, tokens, tokens, digits=3, corner="query ↓ key →")}
    """)
    return


@app.cell(hide_code=True)
def _(K, K_T, Q, ShapeError, html, linalg, mo, scores):
    try:
        linalg.matmul(Q, K)
        _message = "no error (unexpected)"
    except ShapeError as _err:
        _message = str(_err)
    mo.md(f"""
    ### The shape rule

    A product $(T_q \\times d)\\cdot(d \\times T_k)$ needs the two inner sizes
    to agree and returns a $T_q \\times T_k$ matrix: the inner size is summed
    away, the outer sizes survive. Here $Q$ is {Q.shape[0]}×{Q.shape[1]} and
    $K^\\top$ is {K_T.shape[0]}×{K_T.shape[1]}, so the scores form a
    {scores.shape[0]}×{scores.shape[1]} table: one row per query, one column
    per key. Forget the transpose and the inner sizes no longer match;
    `llmmath.linalg.matmul(Q, K)` refuses and says why:

    <pre style="white-space: pre-wrap">{html.escape(_message)}</pre>
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Step 3 — divide by $\sqrt{d_k}$

    A dot product of $d_k$ terms has a spread that grows like
    $\sqrt{d_k}$ (the first question at the end works this out). Real models
    use wide queries and keys, and without a correction their scores would be
    so far apart that the softmax would put almost all weight on one key and
    stop responding to anything else. Dividing by $\sqrt{d_k}$ undoes the
    growth.
    """)
    return


@app.cell
def _(d_k, mo, np, scores):
    scale = 1.0 / np.sqrt(d_k)
    scaled = scores * scale  # (T, T)
    mo.show_code()
    return scale, scaled


@app.cell(hide_code=True)
def _(d_k, kit, mo, scale, scaled, tokens):
    mo.md(f"""
    With $d_k = {d_k}$ every score is multiplied by
    $1/\\sqrt{{{d_k}}} \\approx {kit.fmt(scale, 4)}$:

    {kit.matrix_table(scaled, tokens, tokens, digits=3, corner="query ↓ key →")}
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Step 4 — a softmax along each row

    Each row becomes a probability distribution over the keys: exponentiate
    every entry, then divide by the row's total. `axis=-1` says "along each
    row", that is, over the keys.
    """)
    return


@app.cell
def _(mo, prob, scaled):
    weights = prob.softmax(scaled, axis=-1)  # (T, T); each row sums to 1
    mo.show_code()
    return (weights,)


@app.cell(hide_code=True)
def _(kit, np, scaled, weights):
    row0_exp = np.exp(scaled[0])  # the first row's exponentials, for the text below
    row0_shown = [kit.fmt(w, 3) for w in weights[0]]
    return row0_exp, row0_shown


@app.cell(hide_code=True)
def _(kit, mo, row0_exp, row0_shown, scaled, tokens, weights):
    _exps = ", ".join(
        f"$e^{{{kit.fmt(s, 3)}}} = {kit.fmt(e, 4)}$" for s, e in zip(scaled[0], row0_exp, strict=True)
    )
    mo.md(f"""
    For the first row the exponentials are {_exps}; their sum is
    {kit.fmt(row0_exp.sum(), 4)}, and dividing gives
    **{", ".join(row0_shown)}**. Read it as: "{tokens[0]}" spends
    {kit.pct(weights[0, 0])} of its attention on itself,
    {kit.pct(weights[0, 1])} on "{tokens[1]}" and {kit.pct(weights[0, 2])} on
    "{tokens[2]}".

    {kit.matrix_table(weights, tokens, tokens, digits=3, corner="query ↓ key →")}

    Every row sums to one: {", ".join(kit.fmt(r, 6) for r in weights.sum(axis=-1))}.
    The syllabus works out the same first row by hand; the claims ledger
    checked its rounding:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-attention-worked-example")
    return


@app.cell(hide_code=True)
def _(mo, tokens):
    mo.md(f"""
    ## Step 5 — blend the values

    Output row *i* is the weighted average of the value rows, with row *i* of
    the weights as the recipe. With our $V$, the first output column is the
    weight on "{tokens[0]}" plus the weight on "{tokens[2]}", and the second
    is the weight on "{tokens[1]}" plus the weight on "{tokens[2]}".
    """)
    return


@app.cell
def _(V, linalg, mo, weights):
    out = linalg.matmul(weights, V)  # (T, T) @ (T, d_v) -> (T, d_v)
    mo.show_code()
    return (out,)


@app.cell(hide_code=True)
def _(V, kit, mo, out, tokens):
    mo.md(kit.matrix_table(out, tokens, [f"dim {c + 1}" for c in range(V.shape[1])], digits=3))
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md("""
    The five steps are one library call:
    """)
    return


@app.cell
def _(K, Q, V, attention, mo):
    out_lib, weights_lib = attention.scaled_dot_product_attention(Q, K, V)
    mo.show_code()
    return out_lib, weights_lib


@app.cell(hide_code=True)
def _(mo, np, out, out_lib, weights, weights_lib):
    _gap = max(np.max(np.abs(out - out_lib)), np.max(np.abs(weights - weights_lib)))
    mo.md(f"""
    It returns the same outputs and weights as the steps above (largest
    difference {_gap:.1e}).
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    temperature = mo.ui.slider(
        start=0.1, stop=5.0, step=0.1, value=1.0, show_value=True,
        label="temperature τ", debounce=False,
    )
    causal = mo.ui.switch(value=False, label="causal mask")
    return causal, temperature


@app.cell(hide_code=True)
def _(causal, mo, temperature):
    mo.vstack([
        mo.md(r"""
        ## Try it: sharpen, flatten, hide the future

        Dividing the scores by a temperature τ as well as by $\sqrt{d_k}$
        changes how decisive the softmax is. Small τ stretches the gaps between
        scores, so each row piles onto its best-matching key; large τ squeezes
        them, so each row drifts towards an even split. Switching on the causal
        mask stops each token from seeing tokens that come after it, as a model
        that writes left to right must.
        """),
        mo.hstack([temperature, causal], justify="start", gap=2),
    ])
    return


@app.cell(hide_code=True)
def _(causal, kit, live_weights, mo, temperature, tokens):
    _fig, _ax = kit.figure(size=(4.2, 3.2))
    kit.heatmap(_ax, live_weights, tokens, tokens, digits=2)
    _ax.set_xlabel("key (attended to)")
    _ax.set_ylabel("query (attending)")
    _ax.set_title(
        f"τ = {kit.value(temperature):.1f}, causal mask {'on' if kit.value(causal) else 'off'}"
    )
    _uniform = 1.0 / len(tokens)
    mo.vstack([
        mo.md(f"""
        **Weight of “{tokens[0]}” on itself: {kit.fmt(live_weights[0, 0], 4)}**
        &nbsp;·&nbsp; largest weight: {kit.fmt(live_weights.max(), 4)}
        &nbsp;·&nbsp; an even split over {len(tokens)} keys: {kit.fmt(_uniform, 4)} each
        """),
        mo.hstack([
            kit.show(_fig, alt="heatmap of the attention weights"),
            mo.md(kit.matrix_table(live_weights, tokens, tokens, digits=4,
                                   corner="query ↓ key →")),
        ], justify="start", gap=2, align="center"),
    ])
    return


@app.cell
def _(K, Q, V, attention, causal, d_k, kit, mo, np, temperature):
    live_scale = 1.0 / (np.sqrt(d_k) * kit.value(temperature))
    live_out, live_weights = attention.scaled_dot_product_attention(
        Q, K, V, causal=kit.value(causal), scale=live_scale
    )  # (T, d_v), (T, T)
    mo.show_code()
    return live_out, live_weights


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The causal mask

    A model that generates text left to right must not peek at tokens it has
    not written yet. The mask lists, for each query, the keys it may use.
    """)
    return


@app.cell
def _(K, Q, V, attention, mo):
    mask = attention.causal_mask(Q.shape[0])  # (T, T), True = may attend
    causal_out, causal_weights = attention.scaled_dot_product_attention(
        Q, K, V, causal=True
    )
    mo.show_code()
    return causal_weights, mask


@app.cell(hide_code=True)
def _(causal_weights, kit, mask, mo, np, tokens):
    _marks = np.where(mask, "✓", "·")
    mo.md(f"""
    ✓ marks a key the query may use: itself and everything before it.

    {kit.matrix_table(_marks, tokens, tokens, corner="query ↓ key →")}

    Blocked scores are set to $-\\infty$ before the softmax, and
    $e^{{-\\infty}} = 0$, so they receive no weight while the allowed ones
    still sum to one. With the plain $1/\\sqrt{{d_k}}$ scaling the weights
    become:

    {kit.matrix_table(causal_weights, tokens, tokens, digits=3, corner="query ↓ key →")}

    The first token has nothing before it, so all of its weight lands on
    itself; the last row is unchanged because nothing comes after it.
    """)
    return


@app.cell(hide_code=True)
def _(kit, np):
    _rng = np.random.default_rng(0)
    _d, _pairs = 64, 20_000
    _q = _rng.standard_normal((_pairs, _d))
    _k = _rng.standard_normal((_pairs, _d))
    _spread = np.std(np.sum(_q * _k, axis=-1))
    kit.check_yourself(
        f"Query and key entries are independent with mean 0 and variance 1, and "
        f"$d_k = {_d}$. How large is the spread (standard deviation) of a raw score "
        f"$q \\cdot k$, and what does dividing by $\\sqrt{{d_k}}$ do to it?",
        f"A sum of {_d} independent products, each with variance 1, has variance "
        f"{_d}, so the standard deviation is $\\sqrt{{{_d}}} = {kit.fmt(np.sqrt(_d), 0)}$ "
        f"(a simulation with {_pairs:,} random pairs gives {kit.fmt(_spread, 2)}). "
        f"Dividing by $\\sqrt{{d_k}}$ brings it back to about 1, so the softmax is not "
        f"pushed into a near one-hot regime where its gradients vanish.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    _tq, _tk, _d = 5, 7, 64
    kit.check_yourself(
        f"Queries come from a sequence of {_tq} tokens, keys and values from one of "
        f"{_tk} tokens, all of width {_d}. What are the shapes of $QK^\\top$ and of "
        f"the weights, and along which axis do the weights sum to 1?",
        f"$({_tq}\\times{_d})\\cdot({_d}\\times{_tk})$ gives {_tq}×{_tk} scores, "
        f"and the weights have the same {_tq}×{_tk} shape. Each of the {_tq} rows "
        f"(one per query) sums to 1: the softmax runs along the last axis, over the "
        f"{_tk} keys.",
    )
    return


@app.cell(hide_code=True)
def _(causal_weights, kit, tokens):
    kit.check_yourself(
        f"With the causal mask on, how much weight does “{tokens[0]}” give itself, "
        f"whatever the temperature? Why?",
        f"All of it: {kit.fmt(causal_weights[0, 0], 0)}. The first query may only "
        f"see its own key, and a softmax over a single allowed score returns 1 "
        f"whatever that score is.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Scores: $QK^\top$ compares every query with every key in one product.
    - Scale: divide by $\sqrt{d_k}$ so the softmax keeps a useful slope.
    - Weights: a softmax along each row gives a distribution over the keys.
    - Output: the weights times $V$ blend the value rows.
    - A causal mask removes future keys before the softmax.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("attention")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("attention")
    return


@app.cell
def test_scores_are_dot_products(K, Q, scores):
    for _i in range(Q.shape[0]):
        for _j in range(K.shape[0]):
            _dot = sum(Q[_i, _c] * K[_j, _c] for _c in range(Q.shape[1]))
            assert abs(scores[_i, _j] - _dot) < 1e-12, (_i, _j)
    return


@app.cell
def test_weights_match_explicit_exp_and_sum(K, Q, np, weights):
    for _i in range(Q.shape[0]):
        _raw = [sum(Q[_i, _c] * K[_j, _c] for _c in range(Q.shape[1])) / np.sqrt(Q.shape[1])
                for _j in range(K.shape[0])]
        _exps = [np.exp(_s) for _s in _raw]
        _total = sum(_exps)
        for _j in range(K.shape[0]):
            assert abs(weights[_i, _j] - _exps[_j] / _total) < 1e-12, (_i, _j)
    return


@app.cell
def test_output_is_weighted_sum_of_values(V, out, weights):
    for _i in range(weights.shape[0]):
        for _c in range(V.shape[1]):
            _mix = sum(weights[_i, _j] * V[_j, _c] for _j in range(V.shape[0]))
            assert abs(out[_i, _c] - _mix) < 1e-12, (_i, _c)
    return


@app.cell
def test_row0_as_shown(K, Q, np, row0_shown):
    _raw = [(Q[0, 0] * K[_j, 0] + Q[0, 1] * K[_j, 1]) / np.sqrt(2.0) for _j in range(3)]
    _exps = [np.exp(_s) for _s in _raw]
    _expected = [f"{_e / sum(_exps):.3f}" for _e in _exps]
    assert row0_shown == _expected
    return


@app.cell
def test_causal_weights_by_hand(K, Q, causal_weights, mask, np):
    for _i in range(Q.shape[0]):
        _allowed = list(range(_i + 1))
        _exps = {_j: np.exp(np.dot(Q[_i], K[_j]) / np.sqrt(Q.shape[1])) for _j in _allowed}
        _total = sum(_exps.values())
        for _j in range(K.shape[0]):
            assert bool(mask[_i, _j]) == (_j <= _i)
            _expected = _exps[_j] / _total if _j in _allowed else 0.0
            assert abs(causal_weights[_i, _j] - _expected) < 1e-12, (_i, _j)
    return


@app.cell
def test_live_weights_follow_the_controls(K, Q, causal, kit, live_weights, np, temperature):
    _tau = kit.value(temperature)
    for _i in range(Q.shape[0]):
        _keys = range(_i + 1) if kit.value(causal) else range(K.shape[0])
        _exps = {_j: np.exp(np.dot(Q[_i], K[_j]) / (np.sqrt(Q.shape[1]) * _tau))
                 for _j in _keys}
        _total = sum(_exps.values())
        for _j in range(K.shape[0]):
            assert abs(live_weights[_i, _j] - _exps.get(_j, 0.0) / _total) < 1e-12
    return


if __name__ == "__main__":
    app.run()
