import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="The chain rule of probability and MLE")


@app.cell
def _():
    import math
    import re

    import marimo as mo
    import numpy as np

    from llmmath import info, prob
    from llmmath.data import load_corpus
    from llmmath.lessons import _kit as kit
    from llmmath.ngram import BOS, NGramLM

    return BOS, NGramLM, info, kit, load_corpus, math, mo, np, prob, re


@app.cell(hide_code=True)
def _(kit):
    kit.header("mle")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    A language model gives a probability to a whole text, and training makes
    the texts we show it as probable as possible. Two facts turn that goal
    into the loss every model is trained with. The **chain rule of
    probability** splits the probability of a sequence into one prediction
    per token, which is exactly what a model that reads left to right
    produces. **Maximum likelihood**, written with logarithms and averaged
    over tokens, is then the **cross-entropy** between the data and the
    model. This lesson checks both facts on numbers.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"P(x_1, x_2, \dots, x_n) = P(x_1)\,P(x_2 \mid x_1)\,P(x_3 \mid x_1, x_2)\cdots"
        r"= \prod_{i=1}^{n} P(x_i \mid x_{<i})",
        caption=(
            r"$x_{<i}$ stands for all the tokens before position $i$. Each factor is a "
            r"conditional probability, $P(B \mid A) = P(A, B) / P(A)$, so the product "
            r"telescopes back to the joint. Nothing is assumed: it holds for every joint "
            r"distribution."
        ),
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-chain-rule-of-probability")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The chain rule on a joint we can write down

    Take a vocabulary of two tokens and sequences of length three: eight
    possible sequences. Any table of eight non-negative numbers summing to 1
    is a joint distribution; we draw one at random (seeded). Summing the
    table over the later positions gives the marginals, and dividing gives
    each conditional.
    """)
    return


@app.cell
def _(mo, np):
    vocab = ["a", "b"]
    joint = np.random.default_rng(0).dirichlet(np.ones(8)).reshape(2, 2, 2)  # P(x1, x2, x3)
    p_x1 = joint.sum(axis=(1, 2))                      # P(x1)
    p_x1x2 = joint.sum(axis=2)                         # P(x1, x2)
    cond_x2 = p_x1x2 / p_x1[:, None]                   # P(x2 | x1)
    cond_x3 = joint / p_x1x2[:, :, None]               # P(x3 | x1, x2)
    chain = p_x1[:, None, None] * cond_x2[:, :, None] * cond_x3  # the product of conditionals
    mo.show_code()
    return chain, cond_x2, cond_x3, joint, p_x1, vocab


@app.cell(hide_code=True)
def _(chain, cond_x2, cond_x3, joint, kit, mo, np, p_x1, vocab):
    _rows, _labels = [], []
    for (_i, _j, _k), _p in np.ndenumerate(joint):
        _labels.append(vocab[_i] + vocab[_j] + vocab[_k])
        _rows.append([p_x1[_i], cond_x2[_i, _j], cond_x3[_i, _j, _k], chain[_i, _j, _k], _p])
    mo.md(f"""
    {kit.matrix_table(_rows, _labels, ["P(x1)", "P(x2 | x1)", "P(x3 | x1, x2)",
                                       "product", "joint"], digits=4, corner="sequence")}

    The product column reproduces the joint for all eight sequences (largest
    difference {np.abs(chain - joint).max():.1e}; only rounding could make it
    nonzero). A model
    that outputs the three conditionals therefore *is* a model of whole
    sequences.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    An autoregressive model does this one step at a time: at each position
    it outputs a distribution over the vocabulary, and the log-probability of
    the text is the sum of the log-probabilities it gave to the tokens that
    actually came. For the sequence *b a b*:
    """)
    return


@app.cell
def _(cond_x2, cond_x3, joint, mo, np, p_x1, prob):
    seq = [1, 0, 1]                                           # "bab"
    step_dists = np.stack([p_x1, cond_x2[seq[0]], cond_x3[seq[0], seq[1]]])  # (3, V)
    seq_logprob = prob.categorical_log_likelihood(step_dists, seq)
    seq_joint = joint[tuple(seq)]
    mo.show_code()
    return seq, seq_joint, seq_logprob, step_dists


@app.cell(hide_code=True)
def _(kit, mo, np, seq_joint, seq_logprob):
    mo.md(f"""
    Sum of the three log-probabilities: {kit.fmt(seq_logprob, 6)} nats;
    $\\log P(\\text{{bab}})$ read straight from the joint table:
    {kit.fmt(np.log(seq_joint), 6)} nats.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Maximum likelihood, step by step

    Given data $x_1, \dots, x_N$ and a model $P_\theta$ with parameters
    $\theta$, maximum likelihood picks the $\theta$ under which the data are
    most probable:

    1. $\theta^\star = \arg\max_\theta \prod_{d} P_\theta(d)$ over the documents $d$.
    2. The logarithm is increasing, so maximising $\sum_d \log P_\theta(d)$
       picks the same $\theta$, and a sum is far kinder to floating point
       than a product of thousands of small numbers.
    3. The chain rule splits each document: $\log P_\theta(d) = \sum_i \log P_\theta(x_i \mid x_{<i})$.
    4. Maximising a quantity is minimising its negative.
    5. Dividing by the number of tokens $N$ changes the scale, not the minimiser:

    $$\theta^\star = \arg\min_\theta \; -\frac{1}{N}\sum_{i=1}^{N} \log P_\theta(x_i \mid x_{<i}).$$

    That last expression is the training loss of every language model. Its
    name, the cross-entropy, comes from the next section.
    """)
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("001-mle-log-same-optimum"),
               kit.claim_badge("001-mle-is-cross-entropy")])
    return


@app.cell
def _(load_corpus, mo, np, re):
    # data: the first sonnets, lower-cased, letters and single spaces only
    _raw = load_corpus().documents["sonnets"].lower()
    text = re.sub(r"[^a-z]+", " ", _raw)[:20_000]
    alphabet = sorted(set(text))                          # 27 symbols: space and a-z
    ids = np.array([alphabet.index(c) for c in text])     # (N,)
    mo.show_code()
    return alphabet, ids, text


@app.cell(hide_code=True)
def _(alphabet, ids, mo, text):
    mo.md(f"""
    Our data: the opening {len(ids):,} characters of the sonnets, reduced to
    {len(alphabet)} symbols. It starts *“{text[:70]}…”*
    """)
    return


@app.cell
def _(alphabet, ids, info, mo, np, prob):
    counts = np.bincount(ids, minlength=len(alphabet))
    p_hat = prob.categorical_mle(counts)                  # the MLE: counts / N
    p_empirical = counts / counts.sum()                   # the data's own distribution
    nll_mle = -prob.categorical_log_likelihood(p_hat, ids) / len(ids)
    ce_mle = info.cross_entropy(p_empirical, p_hat)       # H(empirical, model)
    product_of_probs = np.prod(p_hat[ids])                # the likelihood itself
    mo.show_code()
    return ce_mle, counts, nll_mle, p_empirical, p_hat, product_of_probs


@app.cell(hide_code=True)
def _(ce_mle, ids, kit, mo, nll_mle, product_of_probs):
    mo.md(f"""
    A unigram model (one probability per symbol, no context) fitted by
    counting. Its average negative log-likelihood on the data is
    **{kit.fmt(nll_mle, 6)}** nats per symbol, and the cross-entropy
    $H(\\hat p, q) = -\\sum_x \\hat p(x) \\log q(x)$ between the empirical
    distribution $\\hat p$ and the model $q$ is **{kit.fmt(ce_mle, 6)}** nats.
    They are the same number, because grouping the {len(ids):,} terms of
    the average by symbol turns it into that sum:

    $$-\\frac1N \\sum_{{i=1}}^N \\log q(x_i) = -\\sum_x \\frac{{\\text{{count}}(x)}}{{N}} \\log q(x)
      = H(\\hat p, q).$$

    Step 2 was not a matter of taste either: the product of the
    {len(ids):,} probabilities underflows to {product_of_probs} in
    double precision.
    """)
    return


@app.cell(hide_code=True)
def _(alphabet, counts, mo, np):
    _top = [alphabet[i] for i in np.argsort(-counts)[:6]]
    _names = {c: ("space" if c == " " else c) for c in _top}
    symbol = mo.ui.dropdown({_names[c]: c for c in _top}, value=_names[_top[1]],
                            label="symbol to move")
    q_value = mo.ui.slider(0.005, 0.5, step=0.005, value=0.2, show_value=True,
                           label="its probability q", debounce=False)
    return q_value, symbol


@app.cell(hide_code=True)
def _(mo, q_value, symbol):
    mo.vstack([
        mo.md(r"""
        ## Try it: walk away from the MLE

        Choose a symbol and set its probability by hand; the other symbols
        keep their relative sizes and share what is left. The curve is the
        average negative log-likelihood of the data for every value of that
        probability. Its lowest point sits exactly at the symbol's frequency
        in the data, and any step away costs exactly
        $\mathrm{KL}(\hat p \,\|\, q)$ nats per symbol.
        """),
        mo.hstack([symbol, q_value], justify="start", gap=2),
    ])
    return


@app.cell
def _(alphabet, info, kit, np, p_empirical, p_hat, q_value, symbol):
    a = alphabet.index(kit.value(symbol))

    def moved(q_a):
        """p_hat with symbol a set to q_a and the rest rescaled to share 1 - q_a."""
        q = p_hat * (1 - q_a) / (1 - p_hat[a])
        q[a] = q_a
        return q

    q_model = moved(kit.value(q_value))
    nll_q = info.cross_entropy(p_empirical, q_model)
    kl_q = info.kl_divergence(p_empirical, q_model)
    grid = np.linspace(0.005, 0.5, 200)
    nll_curve = info.cross_entropy(p_empirical, np.stack([moved(g) for g in grid]))  # (G,)
    return a, grid, kl_q, nll_curve, nll_q, q_model


@app.cell(hide_code=True)
def _(a, grid, kit, kl_q, mo, nll_curve, nll_mle, nll_q, p_hat, q_value, symbol):
    _fig, _ax = kit.figure(size=(6.0, 3.4))
    _ax.plot(grid, nll_curve, color="#08519c", label="average NLL")
    _ax.axhline(nll_mle, color="grey", lw=1, ls="--", label="at the MLE")
    _ax.axvline(p_hat[a], color="grey", lw=1, ls=":")
    _ax.plot([kit.value(q_value)], [nll_q], "o", color="#de2d26", label="your q")
    _ax.set_xlabel(f"q({symbol.selected_key})")
    _ax.set_ylabel("nats per symbol")
    _ax.set_ylim(nll_mle - 0.05, nll_mle + 1.0)
    _ax.legend(frameon=False)
    mo.vstack([
        mo.md(f"""
        MLE: $\\hat p$({symbol.selected_key}) = {kit.fmt(p_hat[a], 4)} &nbsp;·&nbsp;
        your q = {kit.fmt(kit.value(q_value), 3)} &nbsp;·&nbsp; NLL {kit.fmt(nll_q, 5)} against
        {kit.fmt(nll_mle, 5)} at the MLE &nbsp;·&nbsp; the extra
        {kit.fmt(nll_q - nll_mle, 5)} nats equals KL($\\hat p$ ‖ q) = {kit.fmt(kl_q, 5)}
        """),
        kit.show(_fig, alt="average negative log-likelihood against the probability of one "
                           "symbol, lowest at the symbol's frequency"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    Moving one parameter is a single direction. To probe them all, draw many
    random distributions near the MLE and score each one on the same data.
    """)
    return


@app.cell
def _(info, mo, np, p_empirical, p_hat):
    n_rivals = 2_000
    rivals = np.random.default_rng(1).dirichlet(2_000 * p_hat, size=n_rivals)  # (R, V)
    rival_nll = info.cross_entropy(p_empirical, rivals)                        # (R,)
    mo.show_code()
    return n_rivals, rival_nll, rivals


@app.cell(hide_code=True)
def _(kit, mo, n_rivals, nll_mle, rival_nll):
    mo.md(f"""
    Of {n_rivals:,} random rivals, the best reaches an average NLL of
    {kit.fmt(rival_nll.min(), 6)} nats, still {kit.fmt(rival_nll.min() - nll_mle, 6)}
    above the counting estimate's {kit.fmt(nll_mle, 6)}. None of them does better,
    and none can: the gap is a KL divergence, which is zero only for $q = \\hat p$.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The same with context: a bigram model

    A bigram model conditions each symbol on the one before it,
    $q(x_i \mid x_{i-1})$, which is a separate categorical distribution per
    context. The same argument, run once per context, says its maximum
    likelihood estimate is again counting: the number of times *h* is
    followed by *x*, divided by the number of times *h* occurs. The average
    NLL becomes a cross-entropy between *conditional* distributions,
    weighted by how often each context appears. `NGramLM` with
    `smoothing="mle"` does the counting; its first symbol is conditioned on
    the start marker `<s>`.
    """)
    return


@app.cell
def _(BOS, NGramLM, alphabet, ids, info, mo, np, text):
    bigram = NGramLM(2, smoothing="mle").fit(text)
    nll_bigram = float(bigram.nll(text).mean())
    # the same number from pair counts: contexts are <s> (row 0) and each symbol
    _prev = np.concatenate([[0], ids[:-1] + 1])             # context index per position
    pair_counts = np.zeros((len(alphabet) + 1, len(alphabet)))
    np.add.at(pair_counts, (_prev, ids), 1)
    context_weight = pair_counts.sum(axis=1) / len(ids)     # how often each context occurs
    seen = context_weight > 0
    empirical_cond = pair_counts[seen] / pair_counts[seen].sum(axis=1, keepdims=True)
    model_cond = np.stack([bigram.distribution(c)[: len(alphabet)]
                           for c in [(BOS,), *alphabet]])[seen]      # q(. | h) per context
    conditional_ce = float(np.sum(context_weight[seen]
                                  * info.cross_entropy(empirical_cond, model_cond)))
    mo.show_code()
    return bigram, conditional_ce, nll_bigram, pair_counts


@app.cell(hide_code=True)
def _(bigram, conditional_ce, kit, mo, nll_bigram, nll_mle, pair_counts):
    _t, _h = "t", "h"
    mo.md(f"""
    Average NLL of the bigram model on the text: **{kit.fmt(nll_bigram, 6)}**
    nats per symbol; the context-weighted cross-entropy of the conditional
    distributions: **{kit.fmt(conditional_ce, 6)}**. One symbol of context
    already saves {kit.fmt(nll_mle - nll_bigram, 3)} nats per symbol against
    the unigram model's {kit.fmt(nll_mle, 3)}. For instance
    $q(\\text{{{_h}}} \\mid \\text{{{_t}}}) = {kit.fmt(bigram.prob(_t, _h), 4)}$:
    "{_t}{_h}" occurs {bigram.count(_t + _h):,} times and "{_t}" occurs
    {bigram.count(_t):,} times. {int(pair_counts.sum()):,} pairs were counted
    in all.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Sum or mean?

    Training code averages the loss over the tokens of a batch; some texts
    write it as a sum over each sequence, averaged over the sequences. The two
    differ by a constant factor (the sequence length), so they share their
    minimiser; only the size of the gradient, and with it a sensible learning
    rate, changes.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("001-batch-loss-normalisation")
    return


@app.cell(hide_code=True)
def _(ids, kit, nll_mle, product_of_probs):
    kit.check_yourself(
        "Why does nobody maximise the likelihood itself, the product of the probabilities?",
        f"For {len(ids):,} symbols the product is {product_of_probs} in float64: it "
        f"underflows long before the end, so every θ looks equally bad. The logarithm "
        f"keeps the same maximiser (it is increasing) and turns the product into a sum, "
        f"here {kit.fmt(-nll_mle * len(ids), 1)} nats.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    kit.check_yourself(
        "A model gives probability 0 to a symbol that occurs once in the data. What is its "
        "average NLL, and what does that say about unsmoothed models on new text?",
        "Infinite: one term is −log 0 = ∞. A model fitted by counting gives 0 to everything "
        "it never saw, so on held-out text it usually scores ∞. Smoothing "
        f"([the n-gram lesson]({kit.lesson_href('ngrams')})) exists to fix exactly this.",
    )
    return


@app.cell(hide_code=True)
def _(joint, kit, np):
    _p_x3 = joint.sum(axis=(0, 1))
    _p_x2x3 = joint.sum(axis=0)
    _rev = _p_x3[None, None, :] * (_p_x2x3 / _p_x3)[None] * (joint / _p_x2x3[None])
    kit.check_yourself(
        "Must the chain rule run left to right? What about P(x₃) P(x₂ | x₃) P(x₁ | x₂, x₃)?",
        f"Any order works: the identity only uses the definition of a conditional. "
        f"Computed right to left on the same table, the largest difference from the joint "
        f"is {np.abs(_rev - joint).max():.1e}. Language models pick left to right because "
        f"that is the order in which text is generated.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - The chain rule $P(x_{1:n}) = \prod_i P(x_i \mid x_{<i})$ is an identity:
      predicting the next token, over and over, models whole texts.
    - Maximum likelihood with logs, a minus sign and an average over tokens
      is the loss $-\frac1N \sum_i \log P_\theta(x_i \mid x_{<i})$.
    - That loss equals the cross-entropy $H(\hat p, q_\theta)$ between the
      data's empirical distribution and the model.
    - For categorical models the maximiser is counting; any other choice
      pays an extra $\mathrm{KL}(\hat p \,\|\, q)$ per token.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("mle")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("mle")
    return


@app.cell
def test_chain_rule_in_exact_arithmetic(chain, joint):
    from fractions import Fraction as _F

    _J = {(_i, _j, _k): _F(float(joint[_i, _j, _k]))
          for _i in range(2) for _j in range(2) for _k in range(2)}
    for (_i, _j, _k), _p in _J.items():
        _p1 = sum(_v for _key, _v in _J.items() if _key[0] == _i)
        _p12 = sum(_v for _key, _v in _J.items() if _key[:2] == (_i, _j))
        _exact = _p1 * (_p12 / _p1) * (_p / _p12)
        assert _exact == _p
        assert abs(float(_exact) - chain[_i, _j, _k]) < 1e-15
    return


@app.cell
def test_sequence_logprob_by_hand(joint, math, seq, seq_logprob, step_dists):
    _total = sum(math.log(step_dists[_t, _x]) for _t, _x in enumerate(seq))
    assert abs(seq_logprob - _total) < 1e-12
    assert abs(seq_logprob - math.log(joint[tuple(seq)])) < 1e-12
    return


@app.cell
def test_unigram_nll_is_cross_entropy(alphabet, ce_mle, math, nll_mle, p_hat, text):
    from collections import Counter as _Counter

    _c = _Counter(text)
    _n = len(text)
    for _s in alphabet:
        assert abs(p_hat[alphabet.index(_s)] - _c[_s] / _n) < 1e-15
    _nll = -sum(math.log(_c[_ch] / _n) for _ch in text) / _n           # average over positions
    _ce = -sum(_c[_s] / _n * math.log(_c[_s] / _n) for _s in alphabet)  # sum over symbols
    assert abs(nll_mle - _nll) < 1e-12 and abs(ce_mle - _ce) < 1e-12
    return


@app.cell
def test_slider_nll_and_kl_by_hand(a, ids, kit, kl_q, math, nll_mle, nll_q, p_hat, q_model, q_value):
    assert abs(q_model[a] - kit.value(q_value)) < 1e-15 and abs(q_model.sum() - 1) < 1e-12
    _nll = -sum(math.log(q_model[_x]) for _x in ids) / len(ids)
    assert abs(nll_q - _nll) < 1e-10
    _kl = sum(_p * math.log(_p / _q) for _p, _q in zip(p_hat, q_model, strict=True) if _p > 0)
    assert abs(kl_q - _kl) < 1e-12
    assert abs((nll_q - nll_mle) - _kl) < 1e-10
    return


@app.cell
def test_rivals_never_beat_counting(ids, math, nll_mle, rival_nll, rivals):
    for _r in range(5):
        _nll = -sum(math.log(rivals[_r, _x]) for _x in ids) / len(ids)
        assert abs(rival_nll[_r] - _nll) < 1e-10
    assert (rival_nll > nll_mle).all()
    return


@app.cell
def test_bigram_is_pair_counting(bigram, conditional_ce, math, nll_bigram, text):
    _pairs, _ctx = {}, {}
    for _h, _x in zip(text[:-1], text[1:], strict=True):
        _pairs[(_h, _x)] = _pairs.get((_h, _x), 0) + 1
        _ctx[_h] = _ctx.get(_h, 0) + 1
    for _h, _x in [("t", "h"), ("h", "e"), (" ", "t"), ("q", "u")]:
        assert abs(bigram.prob(_h, _x) - _pairs[(_h, _x)] / _ctx[_h]) < 1e-12
    # average NLL by hand: the first symbol follows the start marker, seen once
    _nll = -math.log(1.0) - sum(math.log(_pairs[(_h, _x)] / _ctx[_h])
                                 for _h, _x in zip(text[:-1], text[1:], strict=True))
    assert abs(nll_bigram - _nll / len(text)) < 1e-10
    assert abs(conditional_ce - nll_bigram) < 1e-10
    return


if __name__ == "__main__":
    app.run()
