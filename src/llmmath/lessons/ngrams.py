import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="The Markov assumption and n-gram models")


@app.cell
def _():
    import html
    import math

    import marimo as mo
    import numpy as np

    from llmmath.data import load_corpus
    from llmmath.lessons import _kit as kit
    from llmmath.ngram import NGramLM

    return NGramLM, html, kit, load_corpus, math, mo, np


@app.cell(hide_code=True)
def _(kit):
    kit.header("ngrams")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    By the chain rule, predicting a text means predicting every token from
    *all* the tokens before it. The oldest way to make that affordable is to
    forget: keep only the last few tokens and count how often each
    continuation followed them in a training text. These **n-gram models**
    are the baseline every neural language model is measured against, and
    they show the two problems any language model must solve: what to do
    with contexts and continuations never seen in training, and how much
    context to pay for.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"P(x_i \mid x_1, \dots, x_{i-1}) \;\approx\; P(x_i \mid x_{i-n+1}, \dots, x_{i-1}),"
        r"\qquad \hat P_{\text{MLE}}(w \mid h) = \frac{c(h\,w)}{c(h)}",
        caption=(
            r"The Markov assumption of order $n - 1$: only the last $n - 1$ tokens, the "
            r"context $h$, matter. $c(h\,w)$ counts how often $h$ was followed by $w$ in "
            r"the training text, $c(h)$ how often $h$ was followed by anything. Counting is "
            f"the maximum-likelihood estimate, as [the previous lesson]"
            f"({kit.lesson_href('mle')}) showed."
        ),
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-markov-ngram-context")
    return


@app.cell
def _(load_corpus, mo):
    corpus = load_corpus()
    train_chars, test_chars = 500_000, 50_000         # slices keep this page quick
    train = corpus.train[:train_chars]
    test = corpus.test[:test_chars]
    mo.show_code()
    return corpus, test, test_chars, train, train_chars


@app.cell(hide_code=True)
def _(corpus, mo, test_chars, train_chars):
    _sizes = corpus.split_sizes()
    mo.md(f"""
    The data are Shakespeare's plays, split **by play** so that the test text
    comes from plays the model never saw. The models here read characters.
    To keep this page quick they are fitted on the first {train_chars:,} of the
    {_sizes["train"]:,} training characters ({", ".join(corpus.splits["train"][:3])}, …)
    and scored on the first {test_chars:,} of the {_sizes["test"]:,} test
    characters (from *{corpus.titles[corpus.splits["test"][0]]}*). Fitting on
    everything lowers every number below a little and changes none of the
    conclusions.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Counting

    A trigram model ($n = 3$) keeps two characters of context. Here is what
    it learned to expect after the context "th", straight from the counts:
    """)
    return


@app.cell
def _(NGramLM, mo, np, train):
    trigram = NGramLM(3, smoothing="mle").fit(train)
    context = "th"
    next_probs = trigram.distribution(context)           # over trigram.vocab
    top = np.argsort(-next_probs)[:6]
    top_rows = [(trigram.vocab[i], trigram.count(context + trigram.vocab[i]), next_probs[i])
                for i in top]
    mo.show_code()
    return context, next_probs, top_rows, trigram


@app.cell(hide_code=True)
def _(context, kit, mo, next_probs, top_rows, trigram):
    _names = [repr(w) for w, _c, _p in top_rows]
    _total = sum(trigram.count(context + w) for w in trigram.vocab[:-1])
    mo.md(f"""
    {kit.matrix_table([[f"{c:,}" for _w, c, _p in top_rows],
                       [kit.fmt(p, 3) for _w, _c, p in top_rows]],
                      [f"c('{context}' + w)", f"P(w | '{context}')"], _names, corner="next w")}

    "{context}" was followed by a character {_total:,} times, and each
    probability is a count divided by that total. Of the
    {len(trigram.vocab) - 1} characters in the vocabulary, only
    {int((next_probs > 0).sum())} ever followed "{context}"; the rest get
    probability exactly 0.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The zero-probability problem

    Zeros are harmless on the training text, where every n-gram was seen at
    least once. On new text they are fatal: a single character with
    probability 0 has negative log-likelihood $-\log 0 = \infty$, and the
    perplexity $\exp\big(-\frac1N\sum_i \log P(x_i \mid h_i)\big)$ of the whole
    test text becomes infinite. Longer contexts make it worse, because each
    one is seen fewer times.
    """)
    return


@app.cell
def _(NGramLM, mo, test, train):
    orders = [1, 2, 3, 4, 5]
    mle = {n: NGramLM(n, smoothing="mle").fit(train) for n in orders}
    mle_nll = {n: mle[n].nll(test) for n in orders}     # nats per test character
    mo.show_code()
    return mle, mle_nll, orders


@app.cell
def _(mle_nll, mo, np, test):
    # the first test character that the 5-gram MLE model rules out (after the first four:
    # the very first one follows the start marker, a context seen once in training)
    first_zero = 4 + int(np.argmax(np.isinf(mle_nll[5][4:])))
    zero_context = test[first_zero - 4:first_zero]
    zero_char = test[first_zero]
    mo.show_code()
    return first_zero, zero_char, zero_context


@app.cell(hide_code=True)
def _(html, kit, mle, mle_nll, mo, np, orders, zero_char, zero_context):
    _mle5 = mle[5]
    _shares = ", ".join(f"{kit.pct(np.mean(np.isinf(mle_nll[n])), 2)} (n = {n})"
                        for n in orders)
    mo.md(f"""
    The first test character the 5-gram MLE model rules out: after
    <code>{html.escape(repr(zero_context))}</code> comes
    <code>{html.escape(repr(zero_char))}</code>. The context occurs
    {_mle5.count(zero_context):,} times in the training slice, never followed
    by that character. Share of test characters that get probability 0, by
    order: {_shares}. One is enough for an infinite perplexity.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Smoothing

    **Add-k** pretends every continuation was seen $k$ extra times:

    $$P_{\text{add-}k}(w \mid h) = \frac{c(h\,w) + k}{c(h) + k\,|V|}.$$

    Nothing is zero any more, but the same small share goes to every unseen
    character, whether it is plausible there or not, and a long context seen
    once or twice is swamped by the pseudo-counts.

    **Kneser–Ney** subtracts a fixed discount $D$ from every seen count and
    gives the mass it collects to a lower-order model:

    $$P_{\text{KN}}(w \mid h) = \frac{\max(c(h\,w) - D, 0)}{c(h)} + \frac{D \cdot N_{1+}(h\,\bullet)}{c(h)}\, P_{\text{KN}}(w \mid h'),$$

    where $N_{1+}(h\,\bullet)$ is the number of distinct characters seen after
    $h$ and $h'$ drops the oldest character of $h$. Its lower orders count
    *continuations* (in how many distinct contexts $w$ appears) rather than
    occurrences: a character that is frequent only inside one fixed phrase
    earns little trust elsewhere. The discounts are estimated from the counts
    of counts, $D = n_1/(n_1 + 2 n_2)$.
    """)
    return


@app.cell
def _(NGramLM, mo, orders, test, train):
    add_k = 0.01
    addk = {n: NGramLM(n, smoothing="add_k", k=add_k).fit(train) for n in orders}
    addk_nll = {n: addk[n].nll(test) for n in orders}
    mo.show_code()
    return add_k, addk, addk_nll


@app.cell
def _(NGramLM, math, mo, np, orders, test, train):
    kn = {n: NGramLM(n, smoothing="kneser_ney").fit(train) for n in orders}
    kn_bits = {n: float(np.mean(kn[n].nll(test))) / math.log(2) for n in orders}
    mo.show_code()
    return kn, kn_bits


@app.cell(hide_code=True)
def _(add_k, addk, addk_nll, kn, kn_bits, math, mle, mle_nll, np, orders):
    # one table for the plot: (estimator, order) -> bits per test character
    models = {}
    bits, zero_share = {}, {}
    smoothings = ["MLE (counts)", f"add-k, k = {add_k}", "Kneser-Ney"]
    for _n in orders:
        models[smoothings[0], _n], models[smoothings[1], _n] = mle[_n], addk[_n]
        models[smoothings[2], _n] = kn[_n]
        for _name, _v in ((smoothings[0], mle_nll[_n]), (smoothings[1], addk_nll[_n])):
            bits[_name, _n] = float(np.mean(_v)) / math.log(2)
            zero_share[_name, _n] = float(np.mean(np.isinf(_v)))
        bits[smoothings[2], _n] = kn_bits[_n]
    return bits, models, smoothings, zero_share


@app.cell(hide_code=True)
def _(kit, kn, mo, orders):
    _kn5 = kn[max(orders)]
    mo.md(f"""
    Discounts of the {max(orders)}-gram Kneser–Ney model, order 1 to
    {max(orders)}: {", ".join(kit.fmt(d, 3) for d in _kn5.discounts)}.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    order = mo.ui.slider(1, 5, step=1, value=3, show_value=True, label="order n",
                         debounce=False)
    return (order,)


@app.cell(hide_code=True)
def _(mo, order):
    mo.vstack([
        mo.md(r"""
        ## Try it: more context, or more data per context?

        Move the order. The plot shows the test cross-entropy in bits per
        character (lower is better; perplexity is $2$ to that power) for the
        three estimators; the text below is sampled from the Kneser–Ney model
        of that order, with a fixed seed.
        """),
        order,
    ])
    return


@app.cell
def _(kn, mo, orders):
    samples = {n: kn[n].generate(300, rng=0) for n in orders}   # seeded text from each order
    mo.show_code()
    return (samples,)


@app.cell(hide_code=True)
def _(bits, html, kit, mo, models, order, orders, samples, smoothings, zero_share):
    _fig, _ax = kit.figure(size=(6.0, 3.4))
    _colors = ["#de2d26", "#6baed6", "#08519c"]
    _top = max(b for b in bits.values() if b != float("inf"))
    for _z, (_name, _c) in enumerate(zip(smoothings, _colors, strict=True)):
        _finite = [(n, bits[_name, n]) for n in orders if bits[_name, n] != float("inf")]
        _ax.plot([n for n, _b in _finite], [b for _n, b in _finite], "o-", color=_c,
                 label=_name, zorder=3 - _z, ms=8 - 2 * _z)   # MLE on top, largest marker
        for _n in orders:
            if bits[_name, _n] == float("inf"):
                _ax.annotate("∞", (_n, _top + 0.3), ha="center", color=_c, fontsize=12)
    _ax.axvline(kit.value(order), color="grey", lw=1, ls=":")
    _ax.set_xticks(orders)
    _ax.set_ylim(None, _top + 0.6)
    _ax.set_xlabel("order n (context of n - 1 characters)")
    _ax.set_ylabel("test bits per character")
    _ax.legend(frameon=False, loc="lower left")
    _n = kit.value(order)
    _cells = []
    for _name in smoothings:
        _b = bits[_name, _n]
        _cells.append(f"{_name}: **{kit.fmt(_b, 3)}** bits/char, perplexity "
                      f"{kit.fmt(2 ** _b if _b != float('inf') else _b, 2)}")
    mo.vstack([
        mo.md(f"""
        **n = {_n}** &nbsp;·&nbsp; {" &nbsp;·&nbsp; ".join(_cells)} &nbsp;·&nbsp;
        MLE zeros: {kit.pct(zero_share["MLE (counts)", _n], 2)} of test characters
        &nbsp;·&nbsp; distinct {_n}-grams in training: {models["Kneser-Ney", _n].num_ngrams():,}
        """),
        kit.show(_fig, alt="test bits per character against the order for MLE, add-k and "
                           "Kneser-Ney"),
        mo.md(f"<pre style='white-space: pre-wrap'>{html.escape(samples[_n])}</pre>"),
    ])
    return


@app.cell(hide_code=True)
def _(add_k, bits, kit, mo, orders):
    _add, _kn = f"add-k, k = {add_k}", "Kneser-Ney"
    _best_add = min(orders, key=lambda n: bits[_add, n])
    _best_kn = min(orders, key=lambda n: bits[_kn, n])
    _add_text = (f"and gets worse beyond it ({kit.fmt(bits[_add, max(orders)], 3)} at "
                 f"n = {max(orders)}), because long contexts are rare and its pseudo-counts "
                 f"then dominate" if _best_add < max(orders) else
                 "but its gains shrink as the contexts get rarer")
    mo.md(f"""
    More context helps only while there is enough data per context. Add-k is
    best at n = {_best_add} here ({kit.fmt(bits[_add, _best_add], 3)} bits/char)
    {_add_text}. Kneser–Ney leans on the lower orders exactly when a context is
    rare; its best order is n = {_best_kn}, at {kit.fmt(bits[_kn, _best_kn], 3)}
    bits/char. The samples tell the same story in words: short contexts give
    letter soup, longer ones give real words and the shape of a play.
    """)
    return


@app.cell(hide_code=True)
def _(bits, kit, mo):
    _ppl3 = 2 ** bits["Kneser-Ney", 3]
    mo.vstack([
        mo.md(f"""
        Numbers like these depend on the unit being predicted. Our trigram
        model predicts characters and reaches a perplexity of
        {kit.fmt(_ppl3, 2)}; a word-level trigram chooses among tens of
        thousands of words and lands in the hundreds. The syllabus quotes
        such a number without saying on what data, so the ledger cannot check it:
        """),
        kit.claim_badge("001-perplexity-table-trigram"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What a fixed context costs, and what a full one costs

    An n-gram model pays for its context in **memory**: a table entry for
    every distinct n-gram it has seen, a number that grows quickly with $n$
    while each entry is seen less often. Its **time** per token is a handful
    of table look-ups, whatever the length $T$ of the text.

    A transformer makes no Markov assumption: every position attends to every
    earlier one. Position $i$ scores $i$ keys, so a text of $T$ tokens needs
    $1 + 2 + \dots + T = T(T+1)/2$ query–key scores in each attention layer,
    a cost that grows as $O(T^2)$.
    """)
    return


@app.cell
def _(mo, models, orders):
    table_sizes = {n: models["Kneser-Ney", n].num_ngrams() for n in orders}
    lengths = [256, 2_048, 16_384, 131_072]
    attention_scores = {T: T * (T + 1) // 2 for T in lengths}   # causal: query i sees i keys
    mo.show_code()
    return attention_scores, lengths, table_sizes


@app.cell(hide_code=True)
def _(attention_scores, kit, lengths, mo, orders, table_sizes):
    _ratio = [attention_scores[T] / T for T in lengths]
    mo.vstack([
        mo.md(f"""
        Distinct n-grams in the training slice (the table an n-gram model must
        store):

        {kit.matrix_table([[f"{table_sizes[n]:,}" for n in orders]], ["table entries"],
                          [f"n = {n}" for n in orders])}

        Query–key scores per attention layer against the one look-up per token
        of an n-gram model:

        {kit.matrix_table([[f"{attention_scores[T]:,}" for T in lengths],
                           [kit.fmt(r, 1) for r in _ratio]],
                          ["attention scores", "scores per token"],
                          [f"T = {T:,}" for T in lengths])}
        """),
        kit.claim_badge("001-attention-quadratic-cost"),
    ])
    return


@app.cell(hide_code=True)
def _(kit, models, zero_share):
    _z = zero_share["MLE (counts)", 5]
    _z1 = zero_share["MLE (counts)", 1]
    kit.check_yourself(
        "Why is the unsmoothed unigram model's test perplexity finite, while the 5-gram's "
        "is infinite?",
        "The unigram model gives probability 0 only to characters never seen at all, and "
        + ("no test character is one of them. " if _z1 == 0 else
           f"{kit.pct(_z1, 2)} of test characters are such. ")
        + f"The 5-gram model gives 0 to every "
        f"continuation not seen after that exact 4-character context, which hits "
        f"{kit.pct(_z, 2)} of the test characters; one zero makes the average −log p "
        f"infinite. It has {models['MLE (counts)', 5].num_ngrams():,} table entries and "
        f"still misses them.",
    )
    return


@app.cell(hide_code=True)
def _(kit, models, orders):
    _n = max(orders)
    _V = models["Kneser-Ney", _n].vocab_size - 1      # characters, without the UNK entry
    _possible = _V**_n
    _seen = models["Kneser-Ney", _n].num_ngrams()
    kit.check_yourself(
        f"With {_V} distinct characters, how many {_n}-grams are possible, and what share "
        f"did the training slice contain?",
        f"${_V}^{_n} = {_possible:,}$ possible; {_seen:,} seen, which is "
        f"{kit.pct(_seen / _possible, 4)}. Most contexts are never seen and most of the "
        f"seen ones are rare, which is why smoothing matters more as n grows.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    _T, _n = 4_096, 5
    kit.check_yourself(
        f"A text of {_T:,} tokens: how many query–key scores does one causal attention "
        f"layer compute, and how many table look-ups does a {_n}-gram model need?",
        f"Attention: $T(T+1)/2 = {_T * (_T + 1) // 2:,}$ scores. The {_n}-gram model: one "
        f"distribution per token, {_T:,} look-ups (times a few for the back-off orders). "
        f"Double the text and attention costs four times as much, the n-gram model twice.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - The Markov assumption keeps only the last $n - 1$ tokens; counting
      then gives the maximum-likelihood n-gram model.
    - Unsmoothed counts give probability 0 to unseen continuations, so the
      held-out perplexity is infinite; the longer the context, the more zeros.
    - Add-k removes the zeros crudely; Kneser–Ney discounts seen counts and
      backs off to continuation counts, and keeps gaining from longer contexts.
    - An n-gram model pays for context in table size; full-context attention
      pays $O(T^2)$ time per layer.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("ngrams")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("ngrams")
    return


@app.cell
def test_trigram_counts_by_scanning(context, next_probs, top_rows, train):
    def _count(_s):
        _n, _i = 0, train.find(_s)
        while _i >= 0:
            _n, _i = _n + 1, train.find(_s, _i + 1)
        return _n

    # c(h .): occurrences of the context that have a next character
    _ctx = _count(context) - (1 if train.endswith(context) else 0)
    for _w, _c, _p in top_rows:
        assert _c == _count(context + _w)
        assert abs(_p - _c / _ctx) < 1e-12
    assert abs(next_probs.sum() - 1) < 1e-12
    return


@app.cell
def test_first_zero_is_unseen(first_zero, mle, mle_nll, test, train, zero_char, zero_context):
    assert len(zero_context) == 4 and test[first_zero - 4:first_zero + 1] == zero_context + zero_char
    assert zero_context in train and zero_context + zero_char not in train
    assert mle[5].prob(zero_context, zero_char) == 0.0
    assert all(_v != float("inf") for _v in mle_nll[5][4:first_zero])
    return


@app.cell
def test_add_k_by_hand(add_k, addk, train):
    _lm = addk[2]
    _V = _lm.vocab_size                                      # characters plus UNK
    for _h, _w in [("q", "u"), ("e", " "), ("z", "x")]:
        _chw = train.count(_h + _w)                          # two different characters: no overlaps
        _ch = train[:-1].count(_h)                           # occurrences with a next character
        assert abs(_lm.prob(_h, _w) - (_chw + add_k) / (_ch + add_k * _V)) < 1e-12
    return


@app.cell
def test_bits_and_perplexity(kn, kn_bits, math, orders, test):
    _piece = test[:300]
    for _n in orders:
        _lm = kn[_n]
        _logs = [math.log2(_lm.prob(_piece[max(_i - _n + 1, 0):_i], _piece[_i]))
                 for _i in range(len(_piece))]
        assert abs(-sum(_logs) / len(_logs) - _lm.cross_entropy(_piece, base=2)) < 1e-9
        _ppl = _lm.perplexity(test)
        assert abs(2 ** kn_bits[_n] - _ppl) < 1e-9 * _ppl
    return


@app.cell
def test_markov_property(trigram):
    # a trigram model sees only the last two characters of any context
    _lm = trigram
    for _a, _b in [("to be or no", "what is no"), ("the king", "our ring")]:
        assert (_lm.distribution(_a) == _lm.distribution(_b)).all()
    return


@app.cell
def test_attention_score_count(attention_scores, lengths, np):
    from llmmath.attention import causal_mask as _causal_mask

    for _T in lengths[:2]:
        _loops = sum(1 for _i in range(_T) for _j in range(_T) if _j <= _i)
        assert attention_scores[_T] == _loops == int(np.sum(_causal_mask(_T)))
    return


if __name__ == "__main__":
    app.run()
