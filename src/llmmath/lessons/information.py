import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Entropy, cross-entropy, KL and perplexity")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import info, prob
    from llmmath.lessons import _kit as kit

    return info, kit, math, mo, np, prob


@app.cell(hide_code=True)
def _(kit):
    kit.header("information")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Three numbers from information theory run a language model's life. Its
    training loss is a **cross-entropy**. Its headline evaluation metric,
    **perplexity**, is that cross-entropy exponentiated. And when a
    fine-tuned model must stay close to the model it started from, the leash
    is a **KL divergence**. All three are built from one idea: the surprise
    of an outcome of probability $p$ is $-\log p$. Rare events surprise us a
    lot, certain ones not at all.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"H(p) = -\sum_x p(x)\log p(x), \qquad "
        r"H(p, q) = -\sum_x p(x)\log q(x), \qquad "
        r"\mathrm{KL}(p\,\|\,q) = \sum_x p(x)\log\frac{p(x)}{q(x)}",
        caption=(
            r"$p$ is the true distribution, $q$ a model of it. Entropy is the average "
            r"surprise under $p$; cross-entropy is the average surprise when outcomes come "
            r"from $p$ but are scored with $q$; KL is the difference. By convention "
            r"$0 \log 0 = 0$. With log base 2 the unit is the bit, with the natural log the "
            r"nat."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    p_true = mo.ui.slider(0.01, 0.99, step=0.01, value=0.3, show_value=True,
                          label="true p(heads)", debounce=False)
    q_model = mo.ui.slider(0.01, 0.99, step=0.01, value=0.6, show_value=True,
                           label="model q(heads)", debounce=False)
    return p_true, q_model


@app.cell(hide_code=True)
def _(mo, p_true, q_model):
    mo.vstack([
        mo.md(r"""
        ## Try it: a coin and a model of the coin

        The simplest distribution has two outcomes. Set how often the coin
        really lands heads, and what a model believes. The left plot is the
        entropy of a coin as a function of its bias, with your coin marked.
        The right plot keeps your true coin fixed and scores every possible
        model $q$ by cross-entropy: the curve never dips below $H(p)$, and the
        gap above it is the KL divergence.
        """),
        mo.hstack([p_true, q_model], justify="start", gap=2),
    ])
    return


@app.cell
def _(info, kit, mo, np, p_true, q_model):
    p = np.array([kit.value(p_true), 1 - kit.value(p_true)])      # true distribution over {heads, tails}
    q = np.array([kit.value(q_model), 1 - kit.value(q_model)])    # the model's
    h_p = info.entropy(p, base=2)
    h_pq = info.cross_entropy(p, q, base=2)
    kl_pq = info.kl_divergence(p, q, base=2)
    kl_qp = info.kl_divergence(q, p, base=2)
    mo.show_code()
    return h_p, h_pq, kl_pq, kl_qp, p, q


@app.cell(hide_code=True)
def _(h_p, h_pq, info, kit, kl_pq, mo, np, p, q):
    _grid = np.linspace(0.001, 0.999, 400)
    _coins = np.stack([_grid, 1 - _grid], axis=1)                  # (G, 2)
    _fig, (_left, _right) = kit.figure(1, 2, size=(9.0, 3.3))
    _left.plot(_grid, info.entropy(_coins, base=2), color="#08519c")
    _left.plot([p[0]], [h_p], "o", color="#de2d26")
    _left.set_xlabel("p(heads)")
    _left.set_ylabel("bits")
    _left.set_title("entropy H(p) of a coin")
    _right.plot(_grid, info.cross_entropy(p, _coins, base=2), color="#08519c",
                label="H(p, q) for every q")
    _right.axhline(h_p, color="grey", lw=1, ls="--", label="H(p)")
    _right.vlines(q[0], h_p, h_pq, color="#de2d26", lw=2, label="KL(p ‖ q)")
    _right.plot([q[0]], [h_pq], "o", color="#de2d26")
    _right.set_ylim(0, max(3.0, h_pq + 0.3))
    _right.set_xlabel("model q(heads)")
    _right.set_title("cross-entropy against your p")
    _right.legend(frameon=False, loc="upper center")
    mo.vstack([
        mo.md(f"""
        $H(p) = {kit.fmt(h_p, 4)}$ bits &nbsp;+&nbsp;
        $\\mathrm{{KL}}(p\\,\\|\\,q) = {kit.fmt(kl_pq, 4)}$ bits &nbsp;=&nbsp;
        {kit.fmt(h_p + kl_pq, 4)} bits, and the cross-entropy computed directly is
        $H(p, q) = {kit.fmt(h_pq, 4)}$ bits.
        """),
        kit.show(_fig, alt="binary entropy curve with the true coin marked, and the "
                           "cross-entropy against every model with the KL gap"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why the decomposition holds, and why it matters

    Add and subtract $\sum_x p(x)\log p(x)$ inside the cross-entropy:

    $$H(p, q) = -\sum_x p(x)\log p(x) + \sum_x p(x)\log\frac{p(x)}{q(x)} = H(p) + \mathrm{KL}(p\,\|\,q).$$

    Training adjusts $q$ (the model) while $p$ (the data) stays put, so $H(p)$
    is a constant of the problem: minimising the cross-entropy loss and
    minimising the KL divergence to the data are the same job. Gibbs'
    inequality, $\mathrm{KL} \ge 0$ with equality only at $q = p$, says the
    best possible loss is the entropy of the data itself, reached only by a
    model that matches it.
    """)
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("001-cross-entropy-decomposition"),
               kit.claim_badge("001-cross-entropy-kl-same-minimiser"),
               kit.claim_badge("001-cross-entropy-minimised-at-truth"),
               kit.claim_badge("001-entropy-extremes")])
    return


@app.cell(hide_code=True)
def _(kit, kl_pq, kl_qp, mo):
    _note = "" if abs(kl_pq - kl_qp) > 5e-5 else " (move the sliders apart to see them differ)"
    mo.md(f"""
    ## KL is not a distance

    With your sliders, $\\mathrm{{KL}}(p\\,\\|\\,q) = {kit.fmt(kl_pq, 4)}$ bits and
    $\\mathrm{{KL}}(q\\,\\|\\,p) = {kit.fmt(kl_qp, 4)}$ bits{_note}. A distance would not
    care about the order. The two directions ask different questions: $\\mathrm{{KL}}(p\\,\\|\\,q)$
    weighs the log-ratio by how often things *really* happen, so it punishes a model that
    misses likely outcomes; $\\mathrm{{KL}}(q\\,\\|\\,p)$ weighs by the model's own beliefs.
    """)
    return


@app.cell
def _(info, mo, np):
    coins = {"a": 0.9, "b": 0.6, "c": 0.3}                   # three coins' p(heads)
    _d = {k: np.array([v, 1 - v]) for k, v in coins.items()}
    kl_ab = info.kl_divergence(_d["a"], _d["b"])
    kl_bc = info.kl_divergence(_d["b"], _d["c"])
    kl_ac = info.kl_divergence(_d["a"], _d["c"])
    js_root = {pair: float(np.sqrt(info.js_divergence(_d[pair[0]], _d[pair[1]])))
               for pair in ("ab", "bc", "ac")}
    mo.show_code()
    return coins, js_root, kl_ab, kl_ac, kl_bc


@app.cell(hide_code=True)
def _(coins, js_root, kit, kl_ab, kl_ac, kl_bc, mo):
    _holds = js_root["ac"] <= js_root["ab"] + js_root["bc"]
    mo.vstack([
        mo.md(f"""
        It breaks the triangle inequality too. For coins with
        p(heads) = {coins["a"]}, {coins["b"]} and {coins["c"]} (call them a, b, c):
        $\\mathrm{{KL}}(a\\|c) = {kit.fmt(kl_ac, 4)}$ nats, more than the detour
        $\\mathrm{{KL}}(a\\|b) + \\mathrm{{KL}}(b\\|c) = {kit.fmt(kl_ab, 4)} + {kit.fmt(kl_bc, 4)}
        = {kit.fmt(kl_ab + kl_bc, 4)}$ nats. The square root of the Jensen–Shannon
        divergence is a true metric: {kit.fmt(js_root["ac"], 4)}
        {"≤" if _holds else ">"} {kit.fmt(js_root["ab"], 4)} + {kit.fmt(js_root["bc"], 4)}. The
        syllabus calls KL a distance twice; the ledger marks both as errata:
        """),
        kit.claim_badge("000-kl-not-a-distance"),
        kit.claim_badge("002-kl-not-a-distance"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ### A trap in the formula: 0 · log 0

    Written naively in floating point, a KL or cross-entropy with a one-hot
    target computes $0 \cdot \log 0 = 0 \cdot (-\infty)$, which IEEE arithmetic
    defines as NaN. Information theory defines the term as 0 (its limit), and
    the library follows that convention:
    """)
    return


@app.cell
def _(info, math, mo, prob):
    target = [0.0, 1.0, 0.0]                          # the true next token is token 1
    probs = prob.softmax([1.0, 2.0, 0.5])
    naive_term = 0.0 * float("-inf")                  # what 0 * log(0 / q) becomes
    kl_onehot = info.kl_divergence(target, probs)
    ce_onehot = -math.log(probs[1])                   # one-hot: KL = cross-entropy
    mo.show_code()
    return ce_onehot, kl_onehot, naive_term


@app.cell(hide_code=True)
def _(ce_onehot, kit, kl_onehot, mo, naive_term):
    mo.vstack([
        mo.md(f"""
        The naive term is `{naive_term}`, which poisons the whole sum. With
        $0 \\log 0 = 0$ the KL divergence is {kit.fmt(kl_onehot, 4)} nats, the same as
        the cross-entropy $-\\log q(\\text{{token 1}}) = {kit.fmt(ce_onehot, 4)}$: a one-hot
        target has zero entropy, so the two coincide.
        """),
        kit.claim_badge("000-kl-snippet-nan"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Perplexity: the effective number of choices

    Perplexity is the exponential of the average cross-entropy per token,
    $\mathrm{PPL} = e^{H}$ with $H$ in nats, or equally $2^{H}$ with $H$ in
    bits. It converts a loss into a count: a model with perplexity $k$ is,
    on average, as unsure as if it were choosing uniformly among $k$ tokens.
    A model that guesses uniformly over a vocabulary of $V$ tokens pays
    $\log V$ per token, so its perplexity is exactly $V$; a perfect model
    pays nothing and scores 1.
    """)
    return


@app.cell
def _(info, mo, np):
    vocab_size = 50_000
    uniform_nll = np.full(1_000, np.log(vocab_size))      # -log(1/V) for every token
    ppl_uniform = info.perplexity(uniform_nll)
    loss_nats = 2.3                                        # a typical-looking training loss
    ppl_loss = info.perplexity([loss_nats])
    loss_bits = info.nats_to_bits(loss_nats)
    ppl_from_bits = info.perplexity([loss_bits], base=2)
    mo.show_code()
    return loss_bits, loss_nats, ppl_from_bits, ppl_loss, ppl_uniform, vocab_size


@app.cell(hide_code=True)
def _(h_p, kit, loss_bits, loss_nats, mo, ppl_from_bits, ppl_loss, ppl_uniform,
      vocab_size):
    mo.vstack([
        mo.md(f"""
        Uniform guessing over {vocab_size:,} tokens: perplexity
        **{float(ppl_uniform):,.2f}**. A loss of {loss_nats} nats per token is
        {kit.fmt(loss_bits, 4)} bits, and $e^{{{loss_nats}}} = 2^{{{kit.fmt(loss_bits, 4)}}}$
        = **{kit.fmt(ppl_loss, 3)}** (from bits: {kit.fmt(ppl_from_bits, 3)}): about as
        unsure as a choice among {kit.fmt(ppl_loss, 0)} tokens. Your coin from the sliders
        has entropy {kit.fmt(h_p, 3)} bits, so perplexity {kit.fmt(2 ** h_p, 3)}: between 1
        (a certain coin) and 2 (a fair one).
        """),
        kit.claim_badge("001-perplexity-uniform"),
        kit.claim_badge("001-perplexity-effective-choices"),
        kit.claim_badge("001-perplexity-base-two"),
        kit.claim_badge("001-perplexity-perfect"),
    ])
    return


@app.cell
def _(info, np):
    units = np.array([1.0, np.log(2.0), np.log(256.0)])   # 1 nat, log 2 nats, log 256 nats
    in_bits = info.nats_to_bits(units)
    back = info.bits_to_nats(in_bits)
    return back, in_bits, units


@app.cell(hide_code=True)
def _(in_bits, kit, mo, units):
    mo.md(f"""
    ## Bits and nats

    The base of the logarithm only sets the unit: $\\log_2 x = \\ln x / \\ln 2$, so
    one nat is $1/\\ln 2 = {kit.fmt(in_bits[0], 4)}$ bits.
    {kit.matrix_table([units, in_bits], ["nats", "bits"],
                      ["1 nat", "ln 2", "ln 256"], digits=4)}
    A byte's worth of uncertainty, a uniform choice among 256, is
    {kit.fmt(in_bits[2], 1)} bits or {kit.fmt(units[2], 3)} nats. PyTorch's
    cross-entropy loss is in nats; compression results are quoted in bits.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    coupling = mo.ui.slider(0.0, 1.0, step=0.05, value=0.5, show_value=True,
                            label="coupling between X and Y", debounce=False)
    return (coupling,)


@app.cell(hide_code=True)
def _(coupling, mo):
    mo.vstack([
        mo.md(r"""
        ## Mutual information

        How much does knowing one token tell you about another? Mutual
        information measures it: the entropy of $X$ plus the entropy of $Y$,
        minus the entropy of the pair,

        $$I(X; Y) = H(X) + H(Y) - H(X, Y) = \mathrm{KL}\big(p(x, y)\,\|\,p(x)\,p(y)\big).$$

        It is zero exactly when $X$ and $Y$ are independent and grows as they
        become predictable from each other. The table below is the joint
        distribution of a word class $X$ and the class $Y$ of the word after
        it. Coupling 0 makes them independent; coupling 1 makes $Y$ a
        function of $X$.
        """),
        coupling,
    ])
    return


@app.cell
def _(coupling, info, kit, mo, np):
    classes_x = ["article", "adjective", "noun"]
    classes_y = ["adjective", "noun", "verb"]
    px = np.array([0.3, 0.2, 0.5])
    py = np.array([0.25, 0.35, 0.4])
    follows = np.array([[0.0, 1.0, 0.0],    # article -> noun
                        [0.0, 1.0, 0.0],    # adjective -> noun
                        [0.0, 0.0, 1.0]])   # noun -> verb
    c = kit.value(coupling)
    joint = (1 - c) * np.outer(px, py) + c * px[:, None] * follows   # (X, Y), sums to 1
    h_x = info.entropy(joint.sum(axis=1), base=2)
    h_y = info.entropy(joint.sum(axis=0), base=2)
    h_xy = info.entropy(joint.reshape(-1), base=2)
    mi = info.mutual_information(joint, base=2)
    mo.show_code()
    return classes_x, classes_y, h_x, h_xy, h_y, joint, mi


@app.cell(hide_code=True)
def _(classes_x, classes_y, h_x, h_xy, h_y, joint, kit, mi, mo):
    _fig, _ax = kit.figure(size=(4.2, 3.0))
    kit.heatmap(_ax, joint, classes_x, classes_y, digits=3, vmax=max(0.5, float(joint.max())))
    _ax.set_xlabel("Y (next word's class)")
    _ax.set_ylabel("X")
    mo.hstack([
        kit.show(_fig, alt="heatmap of the joint distribution of X and Y"),
        mo.md(kit.matrix_table(
            [[h_x], [h_y], [h_xy], [h_x + h_y - h_xy], [mi]],
            ["H(X)", "H(Y)", "H(X, Y)", "H(X) + H(Y) − H(X, Y)", "info.mutual_information"],
            ["bits"], digits=4)),
    ], justify="start", gap=2, align="center")
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([
        kit.claim_badge("001-mutual-information"),
        mo.md("""
        The syllabus goes further and reads attention weights as estimates
        of mutual information. Attention weights are a softmax of query–key
        scores, one row per query, with no estimator of I(X; Y) in them, so
        there is nothing to check:
        """),
        kit.claim_badge("001-attention-estimates-mutual-information"),
    ])
    return


@app.cell(hide_code=True)
def _(info, kit, np):
    _k = 8
    _h = info.entropy(np.full(_k, 1 / _k), base=2)
    kit.check_yourself(
        f"What is the entropy, in bits, of a uniform choice among {_k} tokens, and its "
        f"perplexity?",
        f"$\\log_2 {_k} = {kit.fmt(_h, 3)}$ bits, and the perplexity is "
        f"$2^{{{kit.fmt(_h, 0)}}} = {kit.fmt(2 ** _h, 0)}$: the number of equally likely "
        f"choices. No distribution over {_k} outcomes has more entropy.",
    )
    return


@app.cell(hide_code=True)
def _(info, kit):
    _p, _q = [0.5, 0.5], [1.0, 0.0]
    kit.check_yourself(
        f"The truth is p = {_p} and the model says q = {_q}. What is KL(p ‖ q), and "
        f"KL(q ‖ p)?",
        f"KL(p ‖ q) = {kit.fmt(info.kl_divergence(_p, _q), 4)}: the model rules out an "
        f"outcome that happens half the time, and −log 0 is infinite. KL(q ‖ p) = "
        f"{kit.fmt(info.kl_divergence(_q, _p), 4)} nats = log 2, finite. The asymmetry can "
        f"be as large as finite against infinite.",
    )
    return


@app.cell(hide_code=True)
def _(info, kit):
    _bits = 1.5
    kit.check_yourself(
        f"A character-level model reaches {_bits} bits per character on held-out text. What "
        f"is its perplexity, and its loss in nats?",
        f"Perplexity $2^{{{_bits}}} = {kit.fmt(2 ** _bits, 3)}$ (about as unsure as a choice "
        f"among {kit.fmt(2 ** _bits, 1)} characters); the loss is "
        f"{kit.fmt(info.bits_to_nats(_bits), 4)} nats, and $e$ to that power gives the same "
        f"perplexity.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Entropy is average surprise: 0 for a certain outcome, $\log K$ for a
      uniform choice among $K$.
    - Cross-entropy = entropy + KL: minimising the training loss minimises
      the KL divergence to the data, and the best loss is the data's entropy.
    - KL is a divergence, not a distance: it is asymmetric and breaks the
      triangle inequality; $0 \log 0 = 0$ by convention.
    - Perplexity $= e^{H_{\text{nats}}} = 2^{H_{\text{bits}}}$ is the effective
      number of choices; uniform over $V$ gives $V$.
    - Mutual information $I = H(X) + H(Y) - H(X, Y)$ is zero exactly for
      independent variables.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("information")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("information")
    return


@app.cell
def test_coin_quantities_by_hand(h_p, h_pq, kl_pq, kl_qp, math, p, q):
    _h = -sum(_a * math.log2(_a) for _a in p)
    _ce = -sum(_a * math.log2(_b) for _a, _b in zip(p, q, strict=True))
    _kl = sum(_a * math.log2(_a / _b) for _a, _b in zip(p, q, strict=True))
    _lk = sum(_b * math.log2(_b / _a) for _a, _b in zip(p, q, strict=True))
    assert abs(h_p - _h) < 1e-12 and abs(h_pq - _ce) < 1e-12
    assert abs(kl_pq - _kl) < 1e-12 and abs(kl_qp - _lk) < 1e-12
    assert abs(h_pq - (h_p + kl_pq)) < 1e-12
    return


@app.cell
def test_triangle_counterexample(coins, kl_ab, kl_ac, kl_bc, math):
    def _kl(_a, _b):
        return _a * math.log(_a / _b) + (1 - _a) * math.log((1 - _a) / (1 - _b))

    assert abs(kl_ab - _kl(coins["a"], coins["b"])) < 1e-12
    assert abs(kl_bc - _kl(coins["b"], coins["c"])) < 1e-12
    assert abs(kl_ac - _kl(coins["a"], coins["c"])) < 1e-12
    assert kl_ac > kl_ab + kl_bc
    return


@app.cell
def test_onehot_kl_is_cross_entropy(ce_onehot, kl_onehot, math, naive_term):
    _e = [math.exp(_z) for _z in (1.0, 2.0, 0.5)]
    _q1 = _e[1] / sum(_e)
    assert abs(kl_onehot - (-math.log(_q1))) < 1e-12
    assert abs(ce_onehot - (-math.log(_q1))) < 1e-12
    assert naive_term != naive_term                       # NaN is the one value unequal to itself
    return


@app.cell
def test_perplexity_values(loss_bits, loss_nats, math, ppl_from_bits, ppl_loss, ppl_uniform,
                           vocab_size):
    assert abs(ppl_uniform - vocab_size) < 1e-9 * vocab_size
    assert abs(ppl_loss - math.exp(loss_nats)) < 1e-12
    assert abs(loss_bits - loss_nats / math.log(2)) < 1e-12
    assert abs(ppl_from_bits - 2 ** (loss_nats / math.log(2))) < 1e-12
    return


@app.cell
def test_mutual_information_three_ways(h_x, h_xy, h_y, joint, math, mi):
    _px = [sum(_row) for _row in joint]
    _py = [sum(joint[_i][_j] for _i in range(3)) for _j in range(3)]

    def _h(_ps):
        return -sum(_v * math.log2(_v) for _v in _ps if _v > 0)

    _pxy = [_v for _row in joint for _v in _row]
    assert abs(h_x - _h(_px)) < 1e-12 and abs(h_y - _h(_py)) < 1e-12
    assert abs(h_xy - _h(_pxy)) < 1e-12
    _kl = sum(joint[_i][_j] * math.log2(joint[_i][_j] / (_px[_i] * _py[_j]))
              for _i in range(3) for _j in range(3) if joint[_i][_j] > 0)
    assert abs(mi - _kl) < 1e-12
    assert abs(mi - (_h(_px) + _h(_py) - _h(_pxy))) < 1e-12
    return


if __name__ == "__main__":
    app.run()
