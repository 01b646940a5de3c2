import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Why the mathematics matters")


@app.cell
def _():
    import marimo as mo
    import numpy as np

    from llmmath import attention, calculus, info, linalg, prob
    from llmmath.lessons import LESSONS, get_lesson
    from llmmath.lessons import _kit as kit
    from llmmath.tokenizers import CharTokenizer

    return (
        CharTokenizer,
        LESSONS,
        attention,
        calculus,
        get_lesson,
        info,
        kit,
        linalg,
        mo,
        np,
        prob,
    )


@app.cell(hide_code=True)
def _(kit):
    kit.header("why_math")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    A large language model is a long chain of small, ordinary computations.
    Text is cut into integer ids; each id picks a row of a table of numbers;
    those rows are mixed with each other by attention and reshaped by a small
    network; a last matrix product scores every possible next token; a
    softmax turns the scores into probabilities; and training nudges every
    number in the model so that the token that really came next gets a little
    more probability.

    Each link in that chain is a piece of undergraduate mathematics: linear
    algebra moves the vectors around, probability turns scores into
    predictions, information theory measures how wrong they were, and
    calculus says which way to change the weights. When training diverges,
    when a loss refuses to fall, or when a paper proposes a new layer, the
    question is always which link misbehaves, and why. This course takes the
    links one at a time; this page shows the whole chain once, on a model
    small enough to print.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The pipeline, stage by stage

    Every row names a stage, the mathematics it runs on and the lessons that
    take it apart.
    """)
    return


@app.cell(hide_code=True)
def _():
    # stage, what it computes, the lessons that teach it (names from the catalog)
    STAGES = (
        ("text → tokens", "split text into ids from a fixed vocabulary",
         ("ngrams", "mle")),
        ("tokens → embeddings", "one row of a V × d table per token, plus a position vector",
         ("vectors",)),
        ("attention", "scores QKᵀ/√d, a causal mask, a softmax per row, a blend of values",
         ("attention", "attention_spectrum")),
        ("MLP", "two matrix products with a GELU between them, added back (residual)",
         ("activations", "layernorm")),
        ("logits", "one more matrix product: a score for every token of the vocabulary",
         ("vectors", "svd_lora")),
        ("softmax", "exponentiate the scores and divide by their sum",
         ("softmax_jacobian", "random_variables")),
        ("loss", "cross-entropy: minus the log-probability of the true next token",
         ("information", "mle")),
        ("gradients", "the chain rule, run backwards; at the logits it is p − y",
         ("derivatives", "backprop", "cross_entropy_grad")),
        ("update", "a small step against the gradient",
         ("optimisation", "bayes")),
        ("sampling", "temperature and filters reshape p, then one draw",
         ("sampling",)),
    )
    return (STAGES,)


@app.cell(hide_code=True)
def _(STAGES, get_lesson, kit):
    def _links(names):
        _in_order = sorted(names, key=lambda n: get_lesson(n).number)
        return ", ".join(
            f"[{get_lesson(n).number}. {get_lesson(n).title}]({kit.lesson_href(n)})"
            for n in _in_order
        )

    stage_links = {stage: _links(names) for stage, _what, names in STAGES}
    return (stage_links,)


@app.cell(hide_code=True)
def _(STAGES, mo, stage_links):
    _rows = [
        "| stage | the mathematics | where the course teaches it |",
        "|:---|:---|:---|",
        *(f"| **{stage}** | {what} | {stage_links[stage]} |" for stage, what, _n in STAGES),
    ]
    mo.md("\n".join(_rows))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"p = \operatorname{softmax}\!\big(h_T\, W_{\text{out}}\big), \qquad "
        r"L = -\log p_{y}, \qquad "
        r"W \leftarrow W - \eta\, \frac{\partial L}{\partial W}",
        caption=(
            r"$h_T$ is the vector the network ends with at the last position, "
            r"$W_\text{out}$ turns it into one score per vocabulary entry, $p$ is the "
            r"predicted distribution of the next token, $y$ the token that really came "
            r"next, $L$ the loss in nats and $\eta$ the learning rate of the update."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## A whole pipeline on a toy

    The toy reads characters. Its vocabulary is the set of characters of one
    short sentence; it reads two characters and predicts the third. Its
    weights are random (seeded), so the prediction starts out poor; one
    gradient step shows what training does. Pick the two characters it reads
    and the sampling temperature: every number below is recomputed.
    """)
    return


@app.cell
def _(CharTokenizer, mo):
    corpus = "the cat sat on the mat"
    tokenizer = CharTokenizer.fit(corpus)  # one id per character (plus one for unknowns)
    V = tokenizer.vocab_size
    mo.show_code()
    return V, corpus, tokenizer


@app.cell(hide_code=True)
def _(corpus):
    def visible(text):
        """Spaces drawn as ␣ so that a space token can be seen."""
        return text.replace(" ", "␣")

    # every two-character context of the sentence and the character that follows it
    continuations = {}
    for _i in range(len(corpus) - 2):
        continuations.setdefault(corpus[_i:_i + 2], corpus[_i + 2])
    return continuations, visible


@app.cell(hide_code=True)
def _(continuations, mo, visible):
    _options = {f"“{visible(c)}” → “{visible(n)}”": c for c, n in continuations.items()}
    context_choice = mo.ui.dropdown(
        options=_options, value=next(iter(_options)), label="reads → should predict",
    )
    temperature = mo.ui.slider(
        start=0.0, stop=3.0, step=0.1, value=1.0, show_value=True,
        label="sampling temperature (0 = greedy)", debounce=False,
    )
    mo.hstack([context_choice, temperature], justify="start", gap=2)
    return context_choice, temperature


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    **The weights.** Matrices of random numbers, drawn once from a seeded
    generator. A trained model has the same kinds of matrices, only far larger
    and with useful values.
    """)
    return


@app.cell
def _(V, mo, np):
    d = 8  # the embedding width of the toy
    rng = np.random.default_rng(0)
    E = rng.normal(0.0, 1.0, (V, d))                      # (V, d) embedding table
    W_q, W_k, W_v = (rng.normal(0.0, d**-0.5, (d, d)) for _ in range(3))  # (d, d) each
    W_1 = rng.normal(0.0, d**-0.5, (d, 4 * d))            # (d, 4d) MLP, up
    W_2 = rng.normal(0.0, (4 * d) ** -0.5, (4 * d, d))    # (4d, d) MLP, down
    W_out = rng.normal(0.0, d**-0.5, (d, V))              # (d, V) scores per token
    mo.show_code()
    return E, W_1, W_2, W_k, W_out, W_q, W_v, d


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    **1 · Text to tokens.** The tokenizer maps each character to its id.
    """)
    return


@app.cell
def _(context_choice, continuations, kit, mo, tokenizer):
    context = kit.value(context_choice)                           # two characters of text
    ids = tokenizer.encode(context)                          # (T,) token ids
    target = int(tokenizer.encode(continuations[context])[0])  # the id that came next
    mo.show_code()
    return context, ids, target


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    **2 · Embeddings.** Each id selects one row of the embedding table; a fixed
    sinusoidal vector tells the model where the token sits.
    """)
    return


@app.cell
def _(E, attention, d, ids, mo):
    positions = attention.sinusoidal_positions(len(ids), d)  # (T, d)
    x = E[ids] + positions                                   # (T, d) one row per token
    mo.show_code()
    return (x,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    **3 · Attention.** Queries, keys and values are three matrix products of the
    same rows; the causal mask keeps the first token from seeing the second.
    """)
    return


@app.cell
def _(W_k, W_q, W_v, attention, linalg, mo, x):
    attn_out, attn_weights = attention.scaled_dot_product_attention(
        linalg.matmul(x, W_q), linalg.matmul(x, W_k), linalg.matmul(x, W_v), causal=True,
    )                                                        # (T, d), (T, T)
    h1 = x + attn_out                                        # (T, d) residual
    mo.show_code()
    return attn_weights, h1


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    **4 · MLP.** Widen each row four times, bend it with a GELU, narrow it back.
    """)
    return


@app.cell
def _(W_1, W_2, calculus, h1, linalg, mo):
    hidden = calculus.gelu(linalg.matmul(h1, W_1))          # (T, 4d)
    h2 = h1 + linalg.matmul(hidden, W_2)                     # (T, d) residual
    h_last = h2[-1]                                          # (d,) the last position
    mo.show_code()
    return h2, h_last, hidden


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    **5 · Logits, softmax and loss.** The last row gets a score per vocabulary
    entry; the softmax makes them probabilities; the loss reads off the one
    that belongs to the true next character.
    """)
    return


@app.cell
def _(V, W_out, h_last, info, linalg, mo, np, prob, target):
    logits = linalg.matmul(h_last, W_out)                    # (V,) one score per token
    p = prob.softmax(logits)                                 # (V,) sums to 1
    y = np.eye(V)[target]                                    # (V,) one-hot true token
    loss = info.cross_entropy(y, p)                          # nats, = -log p[target]
    mo.show_code()
    return logits, loss, p, y


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    **6 · Gradient and update.** At the logits the gradient is $p - y$; the
    chain rule through $z = h\,W_\text{out}$ turns it into a gradient for every
    entry of $W_\text{out}$, and one small step goes against it. (Training
    updates every matrix this way; here only the last one moves.)
    """)
    return


@app.cell
def _(W_out, calculus, h_last, info, linalg, logits, mo, np, prob, target, y):
    g_logits = calculus.softmax_cross_entropy_grad(logits, target)  # (V,) = p - y
    g_W_out = np.outer(h_last, g_logits)                     # (d, V) chain rule
    lr = 0.05
    W_out_new = W_out - lr * g_W_out                         # (d, V) one SGD step
    p_new = prob.softmax(linalg.matmul(h_last, W_out_new))   # (V,)
    loss_new = info.cross_entropy(y, p_new)
    mo.show_code()
    return W_out_new, g_W_out, g_logits, loss_new, lr, p_new


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    **7 · Sampling.** Generation divides the logits by the temperature and
    draws one token from the resulting distribution.
    """)
    return


@app.cell
def _(kit, logits, mo, prob, temperature, tokenizer):
    q = prob.decoding_distribution(logits, temperature=kit.value(temperature))  # (V,)
    next_id = prob.sample(logits, temperature=kit.value(temperature), rng=0)
    next_char = tokenizer.decode([next_id])
    mo.show_code()
    return next_char, next_id, q


@app.cell(hide_code=True)
def _(
    attn_weights,
    context,
    context_choice,
    d,
    g_W_out,
    g_logits,
    h2,
    hidden,
    ids,
    kit,
    linalg,
    logits,
    loss,
    loss_new,
    lr,
    mo,
    next_char,
    next_id,
    p,
    q,
    stage_links,
    target,
    temperature,
    tokenizer,
    visible,
    x,
):
    _rows = [
        ("text → tokens", f"“{visible(context)}” → ids {ids.tolist()}", str(ids.shape)),
        ("tokens → embeddings", f"row norms {', '.join(kit.fmt(v, 2) for v in linalg.norm(x, axis=-1))}",
         str(x.shape)),
        ("attention", f"last row of the weights {', '.join(kit.fmt(v, 3) for v in attn_weights[-1])}",
         str(attn_weights.shape)),
        ("MLP", f"hidden {hidden.shape}, GELU; output {h2.shape}", str(h2.shape)),
        ("logits", f"largest score {kit.fmt(logits.max(), 3)} "
                   f"(“{visible(tokenizer.decode([int(logits.argmax())]))}”)",
         str(logits.shape)),
        ("softmax", f"p(“{visible(tokenizer.decode([target]))}”) = {kit.fmt(p[target], 4)}",
         str(p.shape)),
        ("loss", f"−log p = {kit.fmt(loss, 4)} nats", "()"),
        ("gradients", f"∂L/∂z at the target = {kit.fmt(g_logits[target], 4)}; "
                      f"‖∂L/∂W_out‖ = {kit.fmt(linalg.norm(g_W_out), 4)}", str(g_W_out.shape)),
        ("update", f"η = {kit.fmt(lr, 2)}: the loss falls from {kit.fmt(loss, 4)} to "
                   f"{kit.fmt(loss_new, 4)}", str(g_W_out.shape)),
        ("sampling", f"τ = {kit.fmt(kit.value(temperature), 1)}: drew “{visible(next_char)}” "
                     f"(id {next_id}, probability {kit.fmt(q[next_id], 3)})", str(q.shape)),
    ]
    _md = ["| stage | shape | a number from this run | lessons |", "|:---|:---|:---|:---|"]
    _md += [f'| **{s}** | <code style="white-space:nowrap">{shape}</code> | {num} '
            f"| {stage_links[s]} |" for s, num, shape in _rows]
    mo.vstack([
        mo.md(f"### The run, stage by stage (d = {d})"),
        mo.hstack([context_choice, temperature], justify="start", gap=2),
        mo.md("\n".join(_md)),
    ])
    return


@app.cell(hide_code=True)
def _(
    V,
    attn_weights,
    context,
    kit,
    mo,
    p,
    p_new,
    q,
    target,
    temperature,
    tokenizer,
    visible,
):
    _labels = [visible(tokenizer.decode([i])) for i in range(V)]
    _labels[tokenizer.unk_id] = "unk"
    _fig, (_ax0, _ax1) = kit.figure(1, 2, size=(8.0, 3.2), width_ratios=[1, 2.6])
    _chars = [visible(c) for c in context]
    kit.heatmap(_ax0, attn_weights, _chars, _chars, digits=2)
    _ax0.set_title("attention weights")
    _ax0.set_xlabel("key")
    _ax0.set_ylabel("query")
    _xs = range(V)
    _w = 0.28
    _ax1.bar([i - _w for i in _xs], p, width=_w, label="p before the step", color="#9ecae1")
    _ax1.bar(list(_xs), p_new, width=_w, label="p after one step", color="#3182bd")
    _ax1.bar([i + _w for i in _xs], q, width=_w,
             label=f"sampled from (τ = {kit.value(temperature):.1f})", color="#fd8d3c")
    _ax1.set_xticks(list(_xs), labels=_labels)
    _ax1.get_xticklabels()[target].set_color("#d62728")
    _ax1.get_xticklabels()[target].set_fontweight("bold")
    _ax1.set_ylabel("probability")
    _ax1.set_title(f"next token after “{visible(context)}” (true one in red)")
    _ax1.legend(frameon=False, loc="upper right")
    mo.vstack([
        kit.show(_fig, alt="attention weights and next-token probabilities before and after "
                           "one gradient step"),
        mo.md(f"""
        One step with the gradient raises the probability of the true token from
        {kit.fmt(p[target], 4)} to {kit.fmt(p_new[target], 4)}. Training a real
        model is this step repeated over billions of tokens, with the gradient
        reaching every weight, not only the last matrix.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## How wide is an embedding?

    In the toy each token becomes a vector of a handful of numbers. In a real
    model that width, $d_\text{model}$, is the same for every token and every
    layer, and it is chosen when the model is designed. The syllabus says
    something different about it, and the claims ledger disagrees:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("000-embedding-dimensions")
    return


@app.cell
def _(mo):
    # name, d_model, layers, vocabulary size V, where these numbers are published
    MODEL_CONFIGS = (
        ("GPT-2 small", 768, 12, 50257, "Radford et al. 2019, Table 2 and §2.2"),
        ("GPT-2 XL", 1600, 48, 50257, "Radford et al. 2019, Table 2 and §2.2"),
        ("LLaMA 7B", 4096, 32, 32000, "Touvron et al. 2023a, Table 2; V: 2023b, §2.2"),
        ("LLaMA 65B", 8192, 80, 32000, "Touvron et al. 2023a, Table 2; V: 2023b, §2.2"),
        ("GPT-3 175B", 12288, 96, 50257, "Brown et al. 2020, Table 2.1; V as GPT-2"),
    )
    widths = {name: d_model for name, d_model, _L, _V, _src in MODEL_CONFIGS}
    table_entries = {name: V * d_model for name, d_model, _L, V, _src in MODEL_CONFIGS}
    block_params = {name: 12 * L * d_model**2 for name, d_model, L, _V, _src in MODEL_CONFIGS}
    mo.show_code()
    return MODEL_CONFIGS, block_params, table_entries, widths


@app.cell(hide_code=True)
def _(MODEL_CONFIGS, block_params, kit, mo, table_entries, widths):
    def _big(n):
        return f"{n / 1e9:.1f} B" if n >= 1e9 else f"{n / 1e6:.1f} M"

    _md = ["| model | width d | layers | vocabulary V | numbers in the V × d table "
           "| ≈ 12·L·d² in the blocks | source |", "|:---|---:|---:|---:|---:|---:|:---|"]
    _md += [f"| {name} | {d:,} | {L} | {V:,} | {_big(table_entries[name])} "
            f"| {_big(block_params[name])} | {src} |"
            for name, d, L, V, src in MODEL_CONFIGS]
    _narrow = min(widths, key=widths.get)
    _wide = max(widths, key=widths.get)
    mo.vstack([
        mo.md("\n".join(_md)),
        mo.md("<small>Radford et al. 2019, *Language Models are Unsupervised Multitask "
              "Learners*; Brown et al. 2020, *Language Models are Few-Shot Learners*; "
              "Touvron et al. 2023a, *LLaMA: Open and Efficient Foundation Language "
              "Models*; Touvron et al. 2023b, *Llama 2: Open Foundation and Fine-Tuned "
              "Chat Models*; Kaplan et al. 2020, *Scaling Laws for Neural Language "
              "Models*.</small>"),
        mo.md(f"""
        A token's embedding holds between {widths[_narrow]:,} numbers ({_narrow}) and
        {widths[_wide]:,} ({_wide}) in this table: hundreds to tens of thousands.
        The counts in the hundreds of millions and the billions belong to
        whole matrices. The embedding table stacks one row per vocabulary
        entry, so {_wide}'s holds {kit.fmt(table_entries[_wide] / 1e6, 1)} million
        numbers; the transformer blocks hold about $12\\,L\\,d^2$ more (four
        $d \\times d$ attention matrices and two $d \\times 4d$ MLP matrices per
        layer, the estimate of Kaplan et al. 2020, §2.1). Widths are what
        make a model expressive; matrices built from them are what make it big.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(kit, loss, p, target, tokenizer, visible):
    kit.check_yourself(
        "The loss of the toy is a single number. Which one, and what would it be for a "
        "model that was certain of the right character?",
        f"It is $-\\log p$ of the character that really came next, here "
        f"“{visible(tokenizer.decode([target]))}” with $p = {kit.fmt(p[target], 4)}$, "
        f"so the loss is {kit.fmt(loss, 4)} nats. A model certain of the right answer "
        f"gives it $p = 1$ and loss $-\\log 1 = 0$; it can never go below that.",
    )
    return


@app.cell(hide_code=True)
def _(g_logits, kit, p, target):
    kit.check_yourself(
        "The gradient of the loss with respect to the logits is $p - y$. Which of its "
        "entries is negative, and what does a step against the gradient do to that logit?",
        f"Only the entry of the true token: {kit.fmt(p[target], 4)} − 1 = "
        f"{kit.fmt(g_logits[target], 4)}. All others equal their probability and are "
        f"positive. A step against the gradient therefore raises the true token's score "
        f"and lowers every other one, in proportion to how much probability each took.",
    )
    return


@app.cell(hide_code=True)
def _(MODEL_CONFIGS, block_params, kit, mo):
    _name, _d, _L, _V, _src = MODEL_CONFIGS[0]
    _T = 1024  # GPT-2's context length (Radford et al. 2019, §2.3)
    _tables = _V * _d + _T * _d                # token and position embeddings
    _small = _L * 13 * _d + 2 * _d             # biases and LayerNorm gains and shifts
    _total = block_params[_name] + _tables + _small
    kit.check_yourself(
        f"The estimate $12 L d^2$ gives {block_params[_name]:,} parameters for {_name}. "
        f"What does it leave out, and how many parameters does the model have in all?",
        mo.vstack([
            mo.md(
                f"It counts only the weight matrices of the {_L} blocks. The token table "
                f"({_V:,} × {_d}) and the position table ({_T:,} × {_d}) add {_tables:,}; "
                f"the biases and LayerNorm parameters, $13d$ per block and $2d$ at the "
                f"end, add {_small:,}. In all: {_total:,}, of which the blocks' matrices "
                f"are {kit.pct(block_params[_name] / _total)}. The output layer reuses the "
                f"token table, so it adds nothing. The ledger checked that count:"
            ),
            kit.claim_badge("003-parameter-scale"),
        ]),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - A language model is a pipeline: tokens, embeddings, attention, MLP,
      logits, softmax, loss, gradients, update, sampling.
    - Linear algebra moves vectors (embeddings, attention, MLP, logits);
      probability and information theory turn scores into predictions and a
      loss; calculus turns the loss into a direction for every weight.
    - The loss is $-\log p$ of the true token, and its gradient at the logits
      is $p - y$.
    - An embedding has $d_\text{model}$ entries, hundreds to tens of
      thousands; hundreds of millions is the size of whole matrices.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("why_math")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("why_math")
    return


@app.cell
def test_attention_weights_by_hand(W_k, W_q, attn_weights, np, x):
    _d = x.shape[1]
    _q = [[sum(x[_t, _c] * W_q[_c, _j] for _c in range(_d)) for _j in range(_d)]
          for _t in range(2)]
    _k = [[sum(x[_t, _c] * W_k[_c, _j] for _c in range(_d)) for _j in range(_d)]
          for _t in range(2)]
    _s = [sum(_q[1][_j] * _k[_t][_j] for _j in range(_d)) / np.sqrt(_d) for _t in range(2)]
    _e = [np.exp(_v - max(_s)) for _v in _s]
    # the masked weight is exp(-inf) = 0 exactly, whatever the kernels
    assert abs(attn_weights[0, 0] - 1.0) < 1e-12 and attn_weights[0, 1] == 0.0
    for _t in range(2):
        assert abs(attn_weights[1, _t] - _e[_t] / sum(_e)) < 1e-12
    return


@app.cell
def test_loss_is_minus_log_softmax(logits, loss, np, p, target):
    _m = max(logits)
    _total = sum(np.exp(_z - _m) for _z in logits)
    _log_p = logits[target] - _m - np.log(_total)
    assert abs(loss + _log_p) < 1e-12
    assert abs(p[target] - np.exp(_log_p)) < 1e-12
    return


@app.cell
def test_gradient_by_central_differences(W_out, g_W_out, h_last, np, target):
    def _loss(w):
        _z = [sum(h_last[_c] * w[_c, _j] for _c in range(w.shape[0])) for _j in range(w.shape[1])]
        _m = max(_z)
        return -(_z[target] - _m - np.log(sum(np.exp(_v - _m) for _v in _z)))

    _eps = 1e-6
    for _i, _j in [(0, 0), (3, target), (7, 1), (5, W_out.shape[1] - 1)]:
        _up, _down = W_out.copy(), W_out.copy()
        _up[_i, _j] += _eps
        _down[_i, _j] -= _eps
        _fd = (_loss(_up) - _loss(_down)) / (2 * _eps)
        assert abs(_fd - g_W_out[_i, _j]) < 1e-7, (_i, _j, _fd, g_W_out[_i, _j])
    return


@app.cell
def test_update_lowers_the_loss(W_out_new, h_last, loss, loss_new, np, target):
    _z = h_last @ W_out_new
    _m = _z.max()
    _again = -(_z[target] - _m - np.log(np.exp(_z - _m).sum()))
    assert abs(_again - loss_new) < 1e-12
    assert loss_new < loss
    return


@app.cell
def test_model_table_against_the_ledger_and_by_hand(MODEL_CONFIGS, np, table_entries, widths):
    from llmmath.ledger.claims_foundation import PUBLISHED_EMBEDDINGS

    _ours = {"gpt2-small": "GPT-2 small", "gpt2-xl": "GPT-2 XL", "gpt3-175b": "GPT-3 175B"}
    for _key, (_V, _d) in PUBLISHED_EMBEDDINGS.items():
        assert widths[_ours[_key]] == _d
        assert table_entries[_ours[_key]] == _V * _d
    for _name, _d, _L, _V, _src in MODEL_CONFIGS:
        assert table_entries[_name] == np.broadcast_to(0.0, (_V, _d)).size  # no memory used
        assert 100 <= _d < 100_000  # hundreds to tens of thousands
    return


@app.cell
def test_every_stage_links_to_catalog_lessons(LESSONS, STAGES, kit, stage_links):
    _names = {_lesson.name for _lesson in LESSONS}
    for _stage, _what, _lessons in STAGES:
        assert _lessons and set(_lessons) <= _names, _stage
        for _n in _lessons:
            assert f"]({kit.lesson_href(_n)})" in stage_links[_stage]
    return


if __name__ == "__main__":
    app.run()
