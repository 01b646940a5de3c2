import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="The complete training loop")


@app.cell
def _():
    import contextlib
    import html
    import inspect
    import math
    import textwrap
    import time

    import marimo as mo
    import numpy as np

    from llmmath.autograd import no_grad
    from llmmath.data import get_batch, load_corpus
    from llmmath.evaluate import token_nll
    from llmmath.lessons import _kit as kit
    from llmmath.nn import GPT
    from llmmath.optim import AdamW, clip_grad_norm, cosine_schedule
    from llmmath.train import Trainer, prepare_data, preset_config

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:        # not installed: BLAS keeps its threads, and the page still works
        threadpool_limits = None

    def one_thread():
        """One BLAS thread while a cell computes: the matrices of a tiny GPT are too small to
        share out, and on a busy machine a second thread waiting for a core slows every
        product down many times over."""
        if threadpool_limits is None:
            return contextlib.nullcontext()
        return threadpool_limits(limits=1, user_api="blas")

    return (
        AdamW,
        GPT,
        Trainer,
        clip_grad_norm,
        cosine_schedule,
        get_batch,
        html,
        inspect,
        kit,
        load_corpus,
        math,
        mo,
        no_grad,
        np,
        one_thread,
        prepare_data,
        preset_config,
        textwrap,
        time,
        token_nll,
    )


@app.cell(hide_code=True)
def _(kit):
    kit.header("training_loop")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Every earlier lesson took one piece of a language model apart: the
    matrix products of attention, the softmax and its Jacobian, the
    cross-entropy and its gradient $p - y$, backpropagation, the noise of a
    mini-batch, Adam. Training puts the pieces in a loop of six steps and
    runs it again and again. Nothing else happens: no step of the loop knows
    anything about Shakespeare, yet repeated often enough it turns
    random weights into a model that spells words and lays out a play.

    Below, each step is written as a formula beside the line of llmmath
    that carries it out, read from the library's source as the page loads.
    Then a small GPT trains on this page while you watch its loss, writes
    text at two temperatures, and shows which characters of a sentence
    still surprise it.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"""\begin{aligned}
        &1.\ \text{batch:} && (x, y) \sim \text{windows of } \mathcal{D},\quad
            y_{b,t} = x_{b,t+1} \\
        &2.\ \text{forward:} && z = f_\theta(x) \in \mathbb{R}^{B \times T \times V} \\
        &3.\ \text{loss:} && L(\theta) = -\frac{1}{BT}\sum_{b=1}^{B}\sum_{t=1}^{T}
            \log \operatorname{softmax}(z_{b,t})_{y_{b,t}} \\
        &4.\ \text{backward:} && g = \nabla_\theta L \\
        &5.\ \text{clip:} && g \leftarrow g \cdot \min\!\big(1,\ c / \lVert g \rVert\big) \\
        &6.\ \text{update:} && m \leftarrow \beta_1 m + (1 - \beta_1) g,\quad
            v \leftarrow \beta_2 v + (1 - \beta_2) g^2,\quad
            \theta \leftarrow \theta - \eta_t \Big(\frac{\hat m}{\sqrt{\hat v} + \epsilon}
            + \lambda \theta\Big)
        \end{aligned}""",
        caption=(
            r"$\mathcal{D}$ is the training text as token ids; a batch is $B$ windows of $T$ "
            r"tokens starting at random places, and the targets $y$ are the same windows "
            r"shifted by one token. $f_\theta$ is the GPT with parameters $\theta$, $z$ its "
            r"logits over the $V$ tokens of the vocabulary. $c$ is the largest gradient norm "
            r"allowed. $\eta_t$ is the learning rate of step $t$ (a linear warm-up, then a "
            r"cosine decay), $\hat m = m/(1 - \beta_1^t)$ and $\hat v = v/(1 - \beta_2^t)$ "
            r"are Adam's bias-corrected moment estimates, and $\lambda$ is AdamW's weight "
            r"decay, applied to the weight matrices only. Then back to step 1."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    Step 3 divides by $BT$: the loss is the mean over every predicted token,
    the quantity the earlier lessons called the cross-entropy, in nats per
    token. The syllabus sums over the positions of a sequence and averages
    over sequences, which is $T$ times larger. Both have the same minimum,
    but the gradient grows by the same factor $T$, and learning rates are
    quoted for the mean.
    """)
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("001-batch-loss-normalisation"),
               kit.claim_badge("001-adam-update")])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 1. The six steps in our code

    `llmmath.train.Trainer.train_step` is one turn of the loop. The table
    below is built from its source and from the source of the model's
    forward pass (`llmmath.nn.GPT.forward`): each row finds the line that
    does its step, so the code shown is the code that runs.
    """)
    return


@app.cell(hide_code=True)
def _(GPT, Trainer, inspect):
    def source_line(function, marker):
        """The one line of ``function``'s source that contains ``marker``, and its line number."""
        lines, first = inspect.getsourcelines(function)
        found = [(first + i, line.strip()) for i, line in enumerate(lines) if marker in line]
        if len(found) != 1:
            raise LookupError(f"{function.__qualname__}: {len(found)} lines contain {marker!r}")
        return found[0]

    loop_steps = [  # (step, its formula, the function holding it, a piece of the line)
        (1, r"(x, y) \sim \mathcal{D}", Trainer.train_step, "get_batch("),
        (2, r"z = f_\theta(x)", GPT.forward, "logits = self.lm_head("),
        (3, r"L = -\tfrac{1}{BT}\sum_{b,t} \log \operatorname{softmax}(z_{b,t})_{y_{b,t}}",
         GPT.forward, "F.cross_entropy("),
        (4, r"g = \nabla_\theta L", Trainer.train_step, ".backward()"),
        (5, r"g \leftarrow g \min(1, c / \lVert g \rVert)", Trainer.train_step,
         "clip_grad_norm("),
        (6, r"\eta_t:\ \text{warm-up, then cosine}", Trainer.train_step, "self.lr_at("),
        (6, r"\theta \leftarrow \theta - \eta_t \big(\hat m / (\sqrt{\hat v} + \epsilon) "
            r"+ \lambda \theta\big)", Trainer.train_step, "self.optimizer.step()"),
    ]
    code_lines = [(n, tex, f.__qualname__, *source_line(f, marker))
                  for n, tex, f, marker in loop_steps]
    return (code_lines,)


@app.cell(hide_code=True)
def _(code_lines, mo):
    _rows = [f"| {n} | ${tex}$ | `{code.replace('|', chr(92) + '|')}` | `{where}`, line {line} |"
             for n, tex, where, line, code in code_lines]
    mo.md("| step | formula | our line | where |\n|:--|:--|:--|:--|\n" + "\n".join(_rows))
    return


@app.cell(hide_code=True)
def _(Trainer, inspect, mo, textwrap):
    _source = textwrap.dedent(inspect.getsource(Trainer.train_step))
    mo.accordion({"The whole of Trainer.train_step": mo.md(f"```python\n{_source}```")})
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    In `train_step` steps 2 and 3 are the single call `self.model(x, y)`:
    given targets, the model returns its logits and their mean
    cross-entropy. `loss.backward()` runs backpropagation through the whole
    graph that call recorded, and leaves a gradient on every parameter.
    `clip_grad_norm` rescales all the gradients together, and the
    optimiser's `step()` applies AdamW at the learning rate set at the top
    of the function, then `zero_grad()` clears the gradients for the next
    turn.

    ## 2. Step 1 up close: windows of the corpus

    The training text is the Shakespeare corpus, split by play, with one
    token per character. The run below uses the `tiny` preset of
    `llmmath train`, with these settings:
    """)
    return


@app.cell
def _():
    live_steps, eval_every = 500, 50   # steps of the run below; a train/val estimate every 50
    return eval_every, live_steps


@app.cell
def _(eval_every, get_batch, live_steps, load_corpus, mo, prepare_data, preset_config):
    config = preset_config("tiny", max_iters=live_steps, lr_decay_iters=live_steps,
                           eval_interval=eval_every, eval_iters=5)
    corpus = load_corpus()           # read once per process and kept
    data = prepare_data(config)      # the same corpus, its character tokenizer, the splits as ids
    x_demo, y_demo = get_batch(data.train, config.block_size, config.batch_size, rng=0)  # (B, T)
    mo.show_code()
    return config, corpus, data, x_demo, y_demo


@app.cell(hide_code=True)
def _(config, corpus, data, kit, mo, x_demo, y_demo):
    _sizes = corpus.split_sizes()
    _shown = 12

    def _char(i):
        c = data.tokenizer.decode([int(i)])
        return {"\n": "↵", " ": "␣"}.get(c, c)

    _table = kit.matrix_table([[_char(a) for a in x_demo[0, :_shown]],
                               [_char(b) for b in y_demo[0, :_shown]]],
                              ["x (input)", "y (target)"], [str(t) for t in range(_shown)],
                              corner="position t")
    mo.md(f"""
    The splits hold {_sizes['train']:,} / {_sizes['val']:,} / {_sizes['test']:,} characters
    (train / validation / test); the vocabulary has $V = {data.vocab_size}$ characters.
    `get_batch` returns two integer arrays of shape $B \\times T$ =
    {x_demo.shape[0]} × {x_demo.shape[1]}. The first positions of the first window, with
    ␣ for a space and ↵ for a line break:

    {_table}

    Every column is one prediction problem: from the characters up to position $t$,
    guess $y_t$. One batch poses $BT = {config.batch_size * config.block_size}$ of them,
    and step 3 averages their losses.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 3. Before training: the uniform baseline

    A model that knows nothing gives every character the same probability
    $1/V$, and pays $-\log(1/V) = \log V$ nats on every prediction. That is
    the number to beat, and it is also where training starts.
    """)
    return


@app.cell
def _(Trainer, config, data, math, no_grad, one_thread, x_demo, y_demo):
    untrained = Trainer(config, data)          # step 0: the weights as initialised
    baseline = math.log(data.vocab_size)       # log V nats: a uniform guess
    with one_thread():
        start_losses = untrained.estimate_loss()      # mean over eval_iters batches per split
        with no_grad():
            start_logits, start_batch_loss = untrained.model(x_demo, y_demo)  # (B, T, V)
    return baseline, start_batch_loss, start_logits, start_losses, untrained


@app.cell(hide_code=True)
def _(baseline, kit, mo, np, start_logits, start_losses, untrained):
    _z = start_logits.data
    _p = np.exp(_z - _z.max(-1, keepdims=True))
    _p = _p / _p.sum(-1, keepdims=True)
    _std = float(np.std(untrained.model.lm_head.weight.data))   # the output layer's weights
    mo.callout(mo.md(f"""
    Untrained, the model's {untrained.model.num_params(non_embedding=False):,} parameters
    give a loss of **{kit.fmt(start_losses['train'], 3)}** nats on the training plays and
    **{kit.fmt(start_losses['val'], 3)}** on the held-out ones; $\\log V$ =
    **{kit.fmt(baseline, 3)}**. The weights start as small random numbers (those of the
    output layer have a standard deviation of {kit.fmt(_std, 3)}), so the logits are small
    too: on the batch above their standard deviation is {kit.fmt(_z.std(), 3)}, and the
    softmax gives each character a probability between {kit.fmt(_p.min(), 4)} and
    {kit.fmt(_p.max(), 4)}, never far from $1/V$ = {kit.fmt(1 / untrained.data.vocab_size, 4)}.
    """), kind="neutral")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 4. Train it

    The function below is the whole loop: call `train_step` (steps 1 to 6)
    again and again, keep each batch's loss, and every `eval_every` steps
    estimate the loss on fixed batches of the training and the held-out
    plays, with no gradients. The button trains a fresh model from the
    initial weights; the page keeps the result, and everything after the
    curve uses the trained model.
    """)
    return


@app.cell
def _(mo):
    def train_live(trainer, steps, eval_every, on_step=None):
        """Train ``trainer`` for ``steps`` steps; the losses it went through."""
        history = {"step": [], "loss": [], "lr": [],
                   "evals": [(trainer.step, trainer.estimate_loss())]}
        for i in range(steps):
            history["lr"].append(trainer.lr_at(trainer.step))
            history["loss"].append(trainer.train_step())      # one turn of the loop
            history["step"].append(trainer.step)
            if trainer.step % eval_every == 0 or i == steps - 1:
                history["evals"].append((trainer.step, trainer.estimate_loss()))
            if on_step is not None:
                on_step(history)
        return history

    mo.show_code()
    return (train_live,)


@app.cell(hide_code=True)
def _(config, kit, mo, untrained):
    _rows = [
        ("transformer blocks", config.n_layer), ("attention heads", config.n_head),
        ("embedding width C", config.n_embd), ("context length T", config.block_size),
        ("batch size B", config.batch_size), ("steps", config.max_iters),
        ("peak learning rate", config.learning_rate), ("final learning rate", config.min_lr),
        ("warm-up steps", config.warmup_iters), ("weight decay λ", config.weight_decay),
        ("gradient clip c", config.grad_clip),
        ("parameters", untrained.model.num_params(non_embedding=False)),
    ]
    _settings = kit.matrix_table([[kit.fmt(_v, 4) if isinstance(_v, float) else f"{_v:,}"]
                                  for _, _v in _rows], [_k for _k, _ in _rows], ["value"],
                                 corner="setting")
    train_button = mo.ui.run_button(label="Train the model", kind="success")
    mo.hstack([mo.md(_settings), mo.vstack([
        train_button,
        mo.md("Training runs in this page's process. The progress bar says how far it "
              "has gone and how long it has left; the curve redraws as it goes."),
    ])], justify="start", gap=2, align="start", widths=[1, 2])
    return (train_button,)


@app.cell(hide_code=True)
def _(baseline, config, kit, np, untrained):
    _schedule = np.array([untrained.lr_at(t) for t in range(config.max_iters)])

    def draw_curve(history):
        """The loss so far (left) and the learning-rate schedule with the current step (right)."""
        fig, (ax, bx) = kit.figure(1, 2, size=(8.6, 3.4), width_ratios=[1.6, 1])
        if history["loss"]:
            ax.plot(history["step"], history["loss"], color="0.6", lw=0.8, label="batch loss")
        evals = history["evals"]
        steps = [s for s, _ in evals]
        ax.plot(steps, [e["train"] for _, e in evals], "o-", color="C0", ms=3.5,
                label="train (estimate)")
        ax.plot(steps, [e["val"] for _, e in evals], "s--", color="C1", ms=4.5, mfc="none",
                label="validation (estimate)")
        ax.axhline(baseline, color="C3", ls="--", lw=1.2, label="uniform: log V")
        low = min([1.5, *history["loss"], *[e["val"] for _, e in evals]])
        ax.set_xlim(0, config.max_iters)
        ax.set_ylim(low - 0.05, baseline + 0.45)
        ax.set_xlabel("step")
        ax.set_ylabel("loss (nats per character)")
        ax.set_title("the loss while training")
        ax.legend(loc="center right", fontsize=8)
        bx.plot(np.arange(config.max_iters), _schedule, color="C2")
        now = history["step"][-1] if history["step"] else 0
        bx.plot([now], [untrained.lr_at(min(now, config.max_iters - 1))], "o", color="C2")
        bx.set_xlim(0, config.max_iters)
        bx.set_xlabel("step")
        bx.set_ylabel(r"$\eta_t$")
        bx.set_title("learning rate")
        return fig

    return (draw_curve,)


@app.cell(hide_code=True)
def _(
    Trainer,
    config,
    data,
    draw_curve,
    eval_every,
    kit,
    live_steps,
    mo,
    one_thread,
    start_losses,
    time,
    train_button,
    train_live,
):
    if kit.value(train_button):
        trained = Trainer(config, data)
        _t0 = time.perf_counter()
        with mo.status.progress_bar(total=live_steps, title="Training",
                                    subtitle="step 0", show_eta=True) as _bar:
            mo.output.append(kit.show(draw_curve(
                {"step": [], "loss": [], "evals": [(0, start_losses)]}),
                alt="loss curve at step 0"))

            _last = {"end": time.perf_counter(), "cost": 0.0}   # of the latest drawing

            def _on_step(h):
                _bar.update(subtitle=f"step {h['step'][-1]}: batch loss "
                                     f"{kit.fmt(h['loss'][-1], 3)}")
                # a drawing costs as much as several steps: redraw about once a second, and
                # never spend more than a fifth of the time on drawing
                _now = time.perf_counter()
                if _now - _last["end"] >= max(1.0, 4 * _last["cost"]):
                    mo.output.replace_at_index(
                        kit.show(draw_curve(h), alt="the loss curve while training"), 1)
                    _last["end"] = time.perf_counter()
                    _last["cost"] = _last["end"] - _now

            with one_thread():
                history = train_live(trained, live_steps, eval_every, on_step=_on_step)
        train_seconds = time.perf_counter() - _t0
        _final = history["evals"][-1][1]
        _summary = mo.callout(mo.md(
            f"Trained for {trained.step} steps in {kit.fmt(train_seconds, 1)} s "
            f"({kit.fmt(trained.step * config.batch_size * config.block_size / train_seconds, 0)}"
            f" characters per second). Final estimates: **{kit.fmt(_final['train'], 3)}** nats "
            f"on the training plays, **{kit.fmt(_final['val'], 3)}** on the held-out plays."),
            kind="success")
    else:
        trained, history, train_seconds = None, None, None
        _summary = mo.callout(mo.md(
            "Not trained yet: the curve shows the estimates at step 0 and the learning-rate "
            "schedule the run will follow. Press **Train the model**."), kind="neutral")
    mo.vstack([_summary, kit.show(draw_curve(
        history or {"step": [], "loss": [], "evals": [(0, start_losses)]}),
        alt="loss curve: batch loss, train and validation estimates, and log V")])
    return history, train_seconds, trained


@app.cell(hide_code=True)
def _(trained, untrained):
    model_now = trained if trained is not None else untrained
    model_state = (f"trained for {trained.step} steps" if trained is not None
                   else "untrained (step 0): press the button above to train it")
    return model_now, model_state


@app.cell(hide_code=True)
def _(baseline, config, data, history, kit, mo):
    _seen = config.max_iters * config.batch_size * config.block_size
    if history is None:
        _text = (f"The first batch loss will be close to $\\log V$ = {kit.fmt(baseline, 3)}, "
                 "for the reason given in section 3.")
    else:
        _text = (f"The first batch cost {kit.fmt(history['loss'][0], 3)} nats, next to "
                 f"$\\log V$ = {kit.fmt(baseline, 3)}: the untrained model guesses uniformly. "
                 f"The last one cost {kit.fmt(history['loss'][-1], 3)}.")
    mo.md(f"""
    {_text} The grey batch losses jump from step to step because each batch is a new
    draw of {config.batch_size} windows; the estimates average {config.eval_iters} fixed
    batches per split and move smoothly. The run shows the model
    {_seen:,} characters, {kit.pct(_seen / len(data.train))} of the training text, so it
    has had no chance to learn its particular lines by heart: the validation loss follows
    the training loss.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 5. What the model writes

    `GPT.generate` extends a prompt one character at a time: a forward pass
    on the last $T$ characters, a softmax of the last position's logits
    divided by the temperature $\tau$, one draw. A low temperature sharpens
    the distribution towards the likeliest characters; $\tau = 1$ samples
    the model as it is.
    """)
    return


@app.cell
def _(data, model_now, one_thread):
    taus, prompt, n_new = (0.5, 1.0), "ROMEO.\n", 160
    with one_thread():
        samples = {tau: data.tokenizer.decode(model_now.model.generate(
            data.tokenizer.encode(prompt), n_new, temperature=tau, rng=0)) for tau in taus}
    return n_new, prompt, samples, taus


@app.cell(hide_code=True)
def _(html, mo, model_state, samples, taus):
    mo.vstack([
        mo.md(f"Samples from the model, **{model_state}**, from the same random seed:"),
        mo.hstack([mo.md(f"**τ = {tau}**\n\n<pre style='white-space: pre-wrap'>"
                         f"{html.escape(samples[tau])}</pre>") for tau in taus],
                  widths="equal", gap=1.5, align="start"),
    ])
    return


@app.cell(hide_code=True)
def _(mo, taus, trained):
    mo.md(
        f"Before training both columns are noise: with logits this small, dividing by "
        f"τ = {taus[0]} still leaves the distribution close to uniform." if trained is None
        else "After training the model has begun to learn the layout of a play (names in "
        "capitals on a line of their own, then the speech), the commonest short words, and "
        f"where spaces go. At τ = {taus[0]} it keeps returning to its favourite words; at "
        f"τ = {taus[1]} it invents more, and misspells more."
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 6. Which characters surprise it

    The loss of one prediction, in bits, is its **surprise**
    $-\log_2 p(y_t \mid x_{\le t})$: 0 bits for a character the model was
    sure of, $\log_2 V$ for a uniform guess, more for a character it thought
    unlikely. The mean surprise over a text is the cross-entropy in bits per
    character. `llmmath.evaluate.token_nll` computes it for every
    character, each seen with up to $T$ characters of context.
    """)
    return


@app.cell(hide_code=True)
def _(mo, np):
    _rng = np.random.default_rng(0)
    _letters = "abcdefghijklmnopqrstuvwxyz"
    _random = "".join(_rng.choice(list(_letters + "  "), size=40))
    sentences = {
        "Twelfth Night, a held-out play": "If music be the food of love, play on,",
        "Hamlet, a play it trained on": "To be, or not to be,--that is the question:",
        "letters and spaces at random": _random,
    }
    sentence_choice = mo.ui.dropdown(sentences, value="Twelfth Night, a held-out play",
                                     label="sentence")
    sentence_choice
    return sentence_choice, sentences


@app.cell
def _(data, kit, mo, model_now, np, one_thread, sentence_choice, token_nll):
    sentence = kit.value(sentence_choice)
    ids = data.tokenizer.encode(sentence)
    with one_thread():
        surprise = token_nll(model_now.model, ids, stride=1) / np.log(2)  # bits, for ids[1:]
    mo.show_code()
    return ids, sentence, surprise


@app.cell(hide_code=True)
def _(html, kit, mo, model_state, np, sentence, surprise):
    from matplotlib import colormaps as _colormaps

    _cmap, _top = _colormaps["YlOrRd"], 8.0     # the colour scale ends at 8 bits

    def _colour(bits):
        r, g, b, _ = _cmap(min(bits, _top) / _top)
        return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}", \
            "white" if bits > 0.6 * _top else "black"

    def _span(ch, bits):
        shown = {"\n": "↵", " ": "\u00a0"}.get(ch, ch)
        if bits is None:
            return (f'<span title="first character: no context, not scored" '
                    f'style="color:#888">{html.escape(shown)}</span>')
        bg, fg = _colour(bits)
        return (f'<span title="{html.escape(repr(ch))}: {kit.fmt(bits, 2)} bits, p = '
                f'{kit.fmt(2.0 ** -bits, 3)}" style="background:{bg};color:{fg};'
                f'padding:2px 1px">{html.escape(shown)}</span>')

    _spans = "".join(_span(c, None if i == 0 else float(surprise[i - 1]))
                     for i, c in enumerate(sentence))
    _stops = ", ".join(_colour(b)[0] for b in np.linspace(0, _top, 9))
    _legend = (f'<div style="display:flex;align-items:center;gap:8px;font-size:0.85em">'
               f'<span>0 bits</span><span style="display:inline-block;width:220px;height:12px;'
               f'background:linear-gradient(to right, {_stops})"></span>'
               f'<span>≥ {kit.fmt(_top, 0)} bits</span></div>')
    mo.vstack([
        mo.md(f"Surprise of each character under the model, **{model_state}** "
              "(hover over a character for its probability):"),
        mo.Html(f'<div style="font-family:monospace;font-size:1.5em;line-height:2.1">'
                f"{_spans}</div>"),
        mo.Html(_legend),
    ])
    return


@app.cell(hide_code=True)
def _(baseline, kit, math, mo, np, sentence, surprise):
    _kinds = {"the first letter of a word": [], "a later letter of a word": [],
              "a space or a punctuation mark": []}
    for _j in range(1, len(sentence)):             # surprise[_j - 1] scores sentence[_j]
        if not sentence[_j].isalpha():
            _kind = "a space or a punctuation mark"
        elif sentence[_j - 1].isalpha():
            _kind = "a later letter of a word"
        else:
            _kind = "the first letter of a word"
        _kinds[_kind].append(surprise[_j - 1])
    _by_kind = "; ".join(f"{k}, {kit.fmt(np.mean(v), 2)} bits ({len(v)})"
                         for k, v in _kinds.items() if v)
    mo.md(f"""
    Mean surprise: **{kit.fmt(surprise.mean(), 2)} bits per character**, against
    $\\log_2 V$ = {kit.fmt(baseline / math.log(2), 2)} bits for a uniform guess. On average,
    by the kind of character predicted: {_by_kind}. Once a model has learnt some words,
    the first letter of a word is where it has the most choices and the later letters the
    fewest; letters drawn at random stay expensive whatever it learns.
    """)
    return


@app.cell(hide_code=True)
def _(baseline, config, kit, start_losses):
    kit.check_yourself(
        "The first loss of training sits almost exactly on the line log V. Why, and what "
        "would a first loss far above it tell you?",
        f"Initial weights are small, so the logits are all near 0 and the softmax is close "
        f"to uniform: each of the $BT$ = {config.batch_size * config.block_size} predictions "
        f"costs about $\\log V$ = {kit.fmt(baseline, 3)} nats (measured here: "
        f"{kit.fmt(start_losses['train'], 3)}). A first loss well above $\\log V$ means the "
        f"logits are far from 0 before any training: initial weights too large (a missing "
        f"scale factor, say), so that the model starts out confidently wrong and spends "
        f"its first steps undoing that.",
    )
    return


@app.cell(hide_code=True)
def _(config, kit):
    kit.check_yourself(
        "Step 5 clips the gradient norm. Which steps does it change, and why does Adam make "
        "clipping matter less than it would for plain SGD?",
        f"Only the steps whose gradient norm exceeds $c$ = {kit.fmt(config.grad_clip, 1)}, "
        "such as a step on an unusual batch. Adam divides each coordinate by the "
        "root of its own running mean square $\\sqrt{\\hat v}$, so a gradient scaled by a "
        "constant gives nearly the same step; what clipping still prevents is one huge "
        "gradient entering $\\hat m$ and $\\hat v$ at once and throwing the moment estimates "
        "off for many steps.",
    )
    return


@app.cell(hide_code=True)
def _(kit, taus):
    kit.check_yourself(
        f"The samples used τ = {taus[0]} and τ = {taus[1]}. What would τ = 0 give, and why "
        "does the training loss say nothing about which temperature reads best?",
        "τ = 0 is greedy decoding: always the likeliest character, which soon falls into a "
        "loop of the commonest words. The loss scores the model's whole distribution "
        "against the real next character, which is the same as sampling at τ = 1; the "
        "temperature is chosen after training, by reading the output.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Training is one loop: batch, forward, loss, backward, clip, update;
      `Trainer.train_step` is those six steps, one line each.
    - The loss is the mean cross-entropy over $BT$ predictions. An untrained
      model starts at $\log V$; a first loss far from it points to a bug.
    - Batch losses are noisy; judge a run by estimates on fixed batches, and
      by the held-out split, which says whether it learns the language or
      the lines.
    - Sampling, and the temperature, come after training; the surprise
      $-\log_2 p$ of each character shows where the model is still unsure.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("training_loop")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("training_loop")
    return


@app.cell
def test_code_lines_follow_the_loop(GPT, Trainer, code_lines, inspect, textwrap):
    import ast

    # the calls of train_step in the order they run, found by walking its syntax tree
    _tree = ast.parse(textwrap.dedent(inspect.getsource(Trainer.train_step)))
    _calls = [n for n in ast.walk(_tree) if isinstance(n, ast.Call)]
    _name = {id(n): ast.unparse(n.func) for n in _calls}
    _order = [_name[id(n)] for n in sorted(_calls, key=lambda n: (n.lineno, n.col_offset))]
    _wanted = ["self.lr_at", "get_batch", "self.model", "loss.backward", "clip_grad_norm",
               "self.optimizer.step", "self.optimizer.zero_grad"]
    _positions = [_order.index(w) for w in _wanted]
    assert _positions == sorted(_positions), _order
    # every line shown is the source line at the number shown
    _files = {"Trainer.train_step": Trainer.train_step, "GPT.forward": GPT.forward}
    for _n, _what, _where, _line, _code in code_lines:
        _lines, _first = inspect.getsourcelines(_files[_where])
        assert _lines[_line - _first].strip() == _code, (_where, _line)
    assert [c[0] for c in code_lines] == [1, 2, 3, 4, 5, 6, 6]
    return


@app.cell
def test_batches_are_shifted_windows_of_the_train_text(data, np, x_demo, y_demo):
    _train = np.asarray(data.train)
    _B, _T = x_demo.shape
    for _b in range(_B):
        assert (y_demo[_b, :-1] == x_demo[_b, 1:]).all()
        _window = np.concatenate([x_demo[_b], y_demo[_b, -1:]])      # T + 1 tokens
        _starts = np.arange(len(_train) - _T)      # every place a window could start
        for _k in range(_T + 1):                   # keep those that agree up to token _k
            _starts = _starts[_train[_starts + _k] == _window[_k]]
        assert len(_starts) >= 1, f"window {_b} is not in the training split"
    return


@app.cell
def test_first_loss_is_the_cross_entropy_near_log_v(
    baseline,
    math,
    np,
    start_batch_loss,
    start_logits,
    y_demo,
):
    _z = np.asarray(start_logits.data, dtype=np.float64)     # (B, T, V)
    _B, _T, _V = _z.shape
    _total = 0.0
    for _b in range(_B):
        for _t in range(_T):
            _row = _z[_b, _t]
            _m = max(_row)
            _log_norm = _m + math.log(sum(math.exp(v - _m) for v in _row))
            _total += _log_norm - _row[y_demo[_b, _t]]
    _loss = _total / (_B * _T)
    assert abs(start_batch_loss.item() - _loss) < 1e-5        # float32 forward
    assert abs(baseline - math.log(_V)) < 1e-15
    # near-uniform start: logits of weights with std 0.02 differ from log V by little
    assert abs(_loss - baseline) < 0.05, (_loss, baseline)
    return


@app.cell
def test_learning_rate_schedule_by_hand(config, cosine_schedule, math, untrained):
    _w, _d = config.warmup_iters, config.lr_decay_iters
    _hi, _lo = config.learning_rate, config.min_lr
    for _t in (0, _w // 2, _w - 1, _w, (_w + _d) // 2, _d - 1, _d, _d + 5):
        if _t < _w:
            _want = _hi * (_t + 1) / (_w + 1)
        elif _t > _d:
            _want = _lo
        else:
            _want = _lo + 0.5 * (1 + math.cos(math.pi * (_t - _w) / (_d - _w))) * (_hi - _lo)
        assert abs(untrained.lr_at(_t) - _want) < 1e-15, _t
        assert abs(cosine_schedule(_t, _hi, _lo, _w, _d) - _want) < 1e-15, _t
    return


@app.cell
def test_surprise_is_minus_log2_p_of_each_character(
    config,
    ids,
    math,
    model_now,
    no_grad,
    np,
    surprise,
):
    assert surprise.shape == (len(ids) - 1,)
    _T = config.block_size
    with no_grad():
        for _j in (1, len(ids) // 2, len(ids) - 1):            # the target is ids[_j]
            _context = np.asarray(ids[max(0, _j - _T):_j])[None, :]
            _z = [float(v) for v in model_now.model(_context)[0].data[0, -1]]
            _m = max(_z)
            _log_p = _z[ids[_j]] - _m - math.log(sum(math.exp(v - _m) for v in _z))
            assert abs(surprise[_j - 1] - (-_log_p / math.log(2))) < 1e-4, _j
    return


@app.cell
def test_clip_and_the_first_adamw_step_by_hand(
    AdamW,
    Trainer,
    clip_grad_norm,
    config,
    data,
    np,
    x_demo,
    y_demo,
):
    _tr = Trainer(config, data)
    assert isinstance(_tr.optimizer, AdamW)
    _params = _tr.model.parameters()
    _, _loss = _tr.model(x_demo, y_demo)
    _loss.backward()
    _theta = [p.data.astype(np.float64) for p in _params]
    _g = [p.grad.astype(np.float64) for p in _params]
    _norm = np.sqrt(sum(float((g * g).sum()) for g in _g))
    _g = [g * min(1.0, config.grad_clip / (_norm + 1e-6)) for g in _g]   # step 5
    assert abs(clip_grad_norm(_params, config.grad_clip) - _norm) < 1e-5 * _norm
    for _p, _gc in zip(_params, _g, strict=True):
        assert np.allclose(_p.grad, _gc, rtol=1e-5, atol=1e-9)
    # step 6 at t = 1: m̂ = g and v̂ = g², so the step is η g / (|g| + ε), plus the decay
    _eta = _tr.lr_at(0)
    for _group in _tr.optimizer.param_groups:
        _group["lr"] = _eta
    _tr.optimizer.step()
    for _p, _t0, _gc in zip(_params, _theta, _g, strict=True):
        _lam = config.weight_decay if _p.ndim >= 2 else 0.0     # matrices only
        _want = _t0 * (1 - _eta * _lam) - _eta * _gc / (np.abs(_gc) + 1e-8)
        assert np.allclose(_p.data, _want, rtol=1e-5, atol=1e-7)
    return


@app.cell
def test_sentences_come_from_the_plays_they_name(corpus, data, sentences):
    for _s in sentences.values():
        assert data.tokenizer.decode(data.tokenizer.encode(_s)) == _s
    _held_out = sentences["Twelfth Night, a held-out play"]
    assert _held_out in corpus.documents["twelfth_night"] and _held_out in corpus.val
    assert _held_out not in corpus.train
    assert "twelfth_night" in corpus.splits["val"] and "hamlet" in corpus.splits["train"]
    assert sentences["Hamlet, a play it trained on"] in corpus.documents["hamlet"]
    return


@app.cell
def test_samples_extend_the_prompt(n_new, prompt, samples, taus):
    for _tau in taus:
        assert samples[_tau].startswith(prompt)
        assert len(samples[_tau]) == len(prompt) + n_new       # one character per token
    return


if __name__ == "__main__":
    app.run()
