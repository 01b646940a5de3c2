import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Sampling: greedy, temperature, top-k, top-p, min-p")


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
    kit.header("sampling")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    A language model does not write text; it outputs a probability for every
    token of its vocabulary, and a **decoding strategy** turns that
    distribution into a choice. Always taking the most likely token gives
    safe, repetitive text; drawing from the full distribution now and then
    picks a token from the long tail of unlikely ones and derails the
    sentence. Temperature, top-k, top-p and min-p are four ways to reshape
    the distribution between those extremes. Each is a few lines of
    arithmetic on the logits, and this page lets you watch them work.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"p_i(\tau) = \frac{e^{z_i/\tau}}{\sum_j e^{z_j/\tau}}, \qquad "
        r"\text{top-}k:\ \text{rank}(i) \le k, \qquad "
        r"\text{top-}p:\ \sum_{j \text{ ranked above } i} p_j < p_{\text{top}}, \qquad "
        r"\text{min-}p:\ p_i \ge p_{\min} \cdot \max_j p_j",
        caption=(
            r"$z$ are the logits and $\tau > 0$ the temperature; $k$, $p_{\text{top}}$ and "
            r"$p_{\min}$ are the settings of the three filters. Each filter keeps the tokens "
            r"that pass its test (top-p keeps adding tokens, most probable first, until "
            r"their mass reaches $p_{\text{top}}$), sets the others to probability 0 and "
            r"renormalises the rest. Temperature is applied first, then top-k, top-p and "
            r"min-p in that order. $\tau = 0$ means greedy decoding: always the most "
            r"probable token."
        ),
    )
    return


@app.cell
def _(mo, np):
    contexts = {
        "The cat sat on the …": (
            ["mat", "sofa", "floor", "bed", "chair", "rug", "table", "roof", "windowsill",
             "keyboard", "moon", "banana"],
            np.array([3.2, 2.5, 2.3, 2.0, 1.8, 1.7, 1.2, 0.8, 0.5, 0.2, -1.0, -2.0]),
        ),
        "The capital of France is …": (
            ["Paris", "a", "the", "located", "Lyon", "not", "known", "one", "in", "beautiful",
             "big", "Marseille"],
            np.array([6.0, 2.5, 2.2, 1.6, 1.0, 0.9, 0.7, 0.5, 0.4, 0.3, 0.0, -0.5]),
        ),
    }  # our own logits: an open-ended context and a confident one
    mo.show_code()
    return (contexts,)


@app.cell(hide_code=True)
def _(contexts, mo):
    context_choice = mo.ui.dropdown(list(contexts), value="The cat sat on the …",
                                    label="context")
    temperature = mo.ui.slider(0.0, 2.0, step=0.05, value=1.0, show_value=True,
                               label="temperature τ (0 = greedy)", debounce=False)
    top_k = mo.ui.slider(1, 12, step=1, value=12, show_value=True,
                         label="top-k (12 = off)", debounce=False)
    top_p = mo.ui.slider(0.0, 1.0, step=0.01, value=0.9, show_value=True,
                         label="top-p (1 = off)", debounce=False)
    min_p = mo.ui.slider(0.0, 1.0, step=0.01, value=0.0, show_value=True,
                         label="min-p (0 = off)", debounce=False)
    return context_choice, min_p, temperature, top_k, top_p


@app.cell(hide_code=True)
def _(context_choice, min_p, mo, temperature, top_k, top_p):
    mo.vstack([
        mo.md(r"""
        ## Try it

        Pick a context and move the controls. Light bars: the distribution
        after temperature only. Dark bars: what is left after the filters,
        renormalised; these are the only tokens that can be drawn. Below the
        plot, a few tokens drawn from it with a fixed seed.
        """),
        context_choice,
        mo.hstack([temperature, top_k], justify="start", gap=2),
        mo.hstack([top_p, min_p], justify="start", gap=2),
    ])
    return


@app.cell
def _(context_choice, contexts, info, kit, min_p, mo, prob, temperature, top_k, top_p):
    words, logits = contexts[kit.value(context_choice)]
    settings = dict(
        temperature=kit.value(temperature),
        top_k=kit.value(top_k) if kit.value(top_k) < len(words) else None,
        top_p=kit.value(top_p) if kit.value(top_p) < 1.0 else None,
        min_p=kit.value(min_p) if kit.value(min_p) > 0.0 else None,
    )
    tempered = prob.softmax(logits, temperature=kit.value(temperature))   # before the filters
    final = prob.decoding_distribution(logits, **settings)           # what is sampled from
    kept = final > 0
    final_entropy = info.entropy(final, base=2)                      # bits
    draws = prob.sample(logits, **settings, rng=0, num_samples=20)
    mo.show_code()
    return draws, final, final_entropy, kept, logits, settings, tempered, words


@app.cell(hide_code=True)
def _(draws, final, final_entropy, info, kept, kit, mo, np, tempered, words):
    _fig, _ax = kit.figure(size=(7.0, 3.4), margins={"bottom": 0.85})  # slanted words
    _x = np.arange(len(words))
    _ax.bar(_x, tempered, color="#deebf7", edgecolor="#9ecae1", label="after temperature")
    _ax.bar(_x[kept], final[kept], width=0.5, color="#08519c", label="after filters")
    _ax.set_xticks(_x, labels=words, rotation=40, ha="right")
    _ax.set_ylabel("probability")
    _ax.set_ylim(0, 1.02)
    _ax.legend(frameon=False)
    _h_before = info.entropy(tempered, base=2)
    mo.vstack([
        mo.md(f"""
        **{int(kept.sum())} of {len(words)} tokens kept** &nbsp;·&nbsp; entropy
        {kit.fmt(_h_before, 3)} bits before the filters, **{kit.fmt(final_entropy, 3)} bits**
        after, as uncertain as a fair choice among {kit.fmt(2 ** final_entropy, 2)} tokens
        &nbsp;·&nbsp; most probable: “{words[int(np.argmax(final))]}” at
        {kit.pct(final.max())}
        """),
        kit.show(_fig, alt="bar chart of the next-token distribution before and after "
                           "filtering, kept tokens in dark blue"),
        mo.md("Seeded draws: " + " · ".join(f"*{words[i]}*" for i in draws)),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Greedy and temperature

    Dividing the logits by $\tau$ before the softmax stretches their gaps when
    $\tau < 1$ (the favourite grows, the tail shrinks) and squeezes them when
    $\tau > 1$ (everything drifts towards uniform). As $\tau \to 0$ the whole mass
    moves onto the largest logit, which is **greedy decoding**: the argmax,
    with no randomness left. The entropy of the tempered distribution rises
    steadily with $\tau$:
    """)
    return


@app.cell
def _(contexts, info, mo, np, prob):
    _z = contexts["The cat sat on the …"][1]
    temps = np.linspace(0.05, 3.0, 60)
    entropy_vs_t = np.array([info.entropy(prob.softmax(_z, temperature=t), base=2)
                             for t in temps])
    greedy = prob.sample(_z, temperature=0)          # the argmax, no random numbers used
    mo.show_code()
    return entropy_vs_t, greedy, temps


@app.cell(hide_code=True)
def _(contexts, entropy_vs_t, greedy, kit, mo, np, temperature, temps):
    _words = contexts["The cat sat on the …"][0]
    _fig, _ax = kit.figure(size=(5.0, 2.8))
    _ax.plot(temps, entropy_vs_t, color="#08519c")
    _ax.axhline(np.log2(len(_words)), color="grey", lw=1, ls="--", label="uniform: log₂ V")
    _ax.axvline(kit.value(temperature), color="#de2d26", lw=1, ls=":", label="your τ")
    _ax.set_xlabel("temperature τ")
    _ax.set_ylabel("entropy (bits)")
    _ax.legend(frameon=False, loc="lower right")
    mo.vstack([
        kit.show(_fig, alt="entropy of the tempered distribution against the temperature"),
        mo.md(f"""
        For “The cat sat on the …” greedy decoding returns token {greedy},
        “{_words[greedy]}”, the largest logit, every time. The entropy climbs from
        near 0 towards $\\log_2 {len(_words)} = {kit.fmt(np.log2(len(_words)), 3)}$ bits,
        the entropy of a uniform choice.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("002-temperature-randomness"),
               kit.claim_badge("002-greedy-is-argmax"),
               kit.claim_badge("002-temperature-sample")])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Fixed or adaptive cut-offs

    **Top-k** keeps a fixed number of tokens, whatever the distribution looks
    like. **Top-p** (nucleus sampling) keeps the most probable tokens until
    their total reaches $p$, so it keeps few tokens when the model is sure
    and many when it is not. **Min-p** keeps every token at least $p_{\min}$
    times as probable as the favourite, a threshold that also scales with the
    model's confidence. The table applies each at one setting to both
    contexts (temperature 1):
    """)
    return


@app.cell
def _(contexts, mo, np, prob):
    # each filter sends the tokens it drops to -inf; the survivors are the finite logits
    fixed = {"top-k = 5": lambda z: prob.filter_top_k(z, 5),
             "top-p = 0.9": lambda z: prob.filter_top_p(z, 0.9),
             "min-p = 0.1": lambda z: prob.filter_min_p(z, 0.1)}
    kept_counts = {
        (name, ctx): int(np.isfinite(keep(z)).sum())
        for name, keep in fixed.items() for ctx, (_w, z) in contexts.items()
    }
    mo.show_code()
    return fixed, kept_counts


@app.cell(hide_code=True)
def _(contexts, fixed, kept_counts, kit, mo, prob):
    _rows = [[kept_counts[name, ctx] for ctx in contexts] for name in fixed]
    _top = [kit.pct(prob.softmax(z).max()) for _w, z in contexts.values()]
    mo.md(f"""
    Tokens kept, out of {len(next(iter(contexts.values()))[0])}:

    {kit.matrix_table(_rows, list(fixed), [f"{c} (top token {t})" for c, t in
                                            zip(contexts, _top, strict=True)])}

    Top-k keeps the same number in both; the adaptive filters keep a handful
    of plausible words for the open context and little beyond the answer for
    the confident one.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-sampling-strategies")
    return


@app.cell(hide_code=True)
def _(contexts, kit, prob):
    _words, _z = contexts["The cat sat on the …"]
    _d = prob.decoding_distribution(_z, temperature=0.0)
    kit.check_yourself(
        "What does the sampler draw at temperature 0, whatever the filters, and what is the "
        "entropy of that distribution?",
        f"Always the argmax, “{_words[int(_d.argmax())]}”: the distribution is one-hot, "
        f"so its entropy is 0 bits and every seed gives the same text.",
    )
    return


@app.cell(hide_code=True)
def _(contexts, kit, prob):
    _words, _z = contexts["The capital of France is …"]
    _p, _nucleus = prob.softmax(_z), 0.9
    _n = int((prob.decoding_distribution(_z, top_p=_nucleus) > 0).sum())
    kit.check_yourself(
        f"For “The capital of France is …” the top token has {kit.pct(_p.max())} of the "
        f"mass. How many tokens does top-p = {_nucleus} keep?",
        f"It keeps {_n}. The nucleus grows until the mass of the tokens already in it reaches "
        f"{_nucleus}; “{_words[0]}” alone has {kit.pct(_p[0])}, "
        f"{'so nothing else is needed' if _p[0] >= _nucleus else 'so the next tokens join'}.",
    )
    return


@app.cell(hide_code=True)
def _(contexts, kit, prob):
    _words, _z = contexts["The cat sat on the …"]
    _p, _floor = prob.softmax(_z), 0.1
    _n = int((prob.decoding_distribution(_z, min_p=_floor) > 0).sum())
    kit.check_yourself(
        f"With min-p = {_floor} on “The cat sat on the …”, where is the cut-off and how "
        f"many tokens survive?",
        f"The favourite has {kit.pct(_p.max())}, so the cut-off is {_floor} × that = "
        f"{kit.pct(_floor * _p.max(), 2)}; {_n} tokens reach it.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Temperature divides the logits: $\tau < 1$ sharpens, $\tau > 1$ flattens,
      $\tau = 0$ is greedy (the argmax, entropy 0).
    - Top-k keeps a fixed number of tokens; top-p keeps the smallest
      most-probable set with mass at least $p$; min-p keeps tokens within a
      factor $p_{\min}$ of the favourite.
    - Filtered tokens get probability exactly 0 and the survivors are
      renormalised; the entropy of what is left measures how much choice
      remains.
    - Adaptive filters (top-p, min-p) cut more when the model is confident.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("sampling")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("sampling")
    return


@app.cell
def test_tempered_softmax_by_hand(kit, logits, math, temperature, tempered):
    # holds at every setting of the slider, greedy included
    _t = kit.value(temperature)
    if _t == 0:  # greedy: all the mass on the largest logit
        _best = max(range(len(logits)), key=lambda _i: logits[_i])
        _want = [1.0 if _i == _best else 0.0 for _i in range(len(logits))]
    else:
        _m = max(logits)
        _e = [math.exp((_z - _m) / _t) for _z in logits]
        _want = [_v / sum(_e) for _v in _e]
    for _i, _w in enumerate(_want):
        assert abs(tempered[_i] - _w) < 1e-12, (_i, tempered[_i], _w)
    return


@app.cell
def test_filtered_distribution_by_sorting(final, logits, math, settings):
    # temperature, then top-k, top-p and min-p, written out on plain lists; holds at
    # every setting of the controls
    _t, _k, _top, _floor = (settings[_s] for _s in ("temperature", "top_k", "top_p", "min_p"))
    _n = len(logits)
    if _t == 0:  # greedy, whatever the filters
        _best = max(range(_n), key=lambda _i: logits[_i])
        _want = [1.0 if _i == _best else 0.0 for _i in range(_n)]
    else:
        _m = max(logits)
        _w = [math.exp((_z - _m) / _t) for _z in logits]     # unnormalised probabilities
        _order = sorted(range(_n), key=lambda _i: -_w[_i])   # most probable first
        _keep = set(_order if _k is None else _order[:_k])
        if _top is not None:                                  # the nucleus of what is left
            _total = sum(_w[_i] for _i in _keep)
            _nucleus, _mass = set(), 0.0
            for _i in _order:
                if _i in _keep and (_mass < _top or not _nucleus):
                    _nucleus.add(_i)
                    _mass += _w[_i] / _total
            _keep = _nucleus
        if _floor is not None:                                # relative to the favourite
            _keep = {_i for _i in _keep if _w[_i] >= _floor * max(_w)}
        _z = sum(_w[_i] for _i in _keep)
        _want = [_w[_i] / _z if _i in _keep else 0.0 for _i in range(_n)]
    for _i in range(_n):
        assert abs(final[_i] - _want[_i]) < 1e-12, (_i, final[_i], _want[_i])
    return


@app.cell
def test_entropy_and_draws(draws, final, final_entropy, kept, logits, math, np, prob,
                           settings):
    _h = -sum(_q * math.log2(_q) for _q in final if _q > 0)
    assert abs(final_entropy - _h) < 1e-12
    assert all(kept[_i] for _i in draws)
    _many = prob.sample(logits, **settings, rng=1, num_samples=40_000)
    _freq = np.bincount(_many, minlength=len(final)) / len(_many)
    _se = np.sqrt(final * (1 - final) / len(_many))
    assert np.all(np.abs(_freq - final) <= 5 * _se + 1e-12)
    return


@app.cell
def test_greedy_and_entropy_curve(contexts, entropy_vs_t, greedy, math, np, temps):
    _z = contexts["The cat sat on the …"][1]
    assert greedy == max(range(len(_z)), key=lambda _i: _z[_i])
    for _t, _h in zip(temps[::10], entropy_vs_t[::10], strict=True):
        _e = [math.exp(_v / _t) for _v in _z]
        _q = [_v / sum(_e) for _v in _e]
        assert abs(_h + sum(_x * math.log2(_x) for _x in _q if _x > 0)) < 1e-10
    assert np.all(np.diff(entropy_vs_t) > 0)
    return


@app.cell
def test_kept_counts_by_hand(contexts, fixed, kept_counts, math):
    for _ctx, (_w, _z) in contexts.items():
        _e = [math.exp(_v) for _v in _z]
        _p = [_v / sum(_e) for _v in _e]
        _ranked = sorted(_p, reverse=True)
        assert kept_counts["top-k = 5", _ctx] == 5
        _n, _mass = 0, 0.0
        while _n == 0 or _mass < 0.9:
            _mass += _ranked[_n]
            _n += 1
        assert kept_counts["top-p = 0.9", _ctx] == _n
        assert kept_counts["min-p = 0.1", _ctx] == sum(1 for _q in _p if _q >= 0.1 * max(_p))
    assert set(fixed) == {"top-k = 5", "top-p = 0.9", "min-p = 0.1"}
    return


if __name__ == "__main__":
    app.run()
