import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Statistics for evaluating models")


@app.cell
def _():
    import math

    import marimo as mo
    import numpy as np

    from llmmath import prob, stats
    from llmmath.lessons import _kit as kit

    return kit, math, mo, np, prob, stats


@app.cell(hide_code=True)
def _(kit):
    kit.header("evaluation")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    A benchmark number is an average over a finite set of test items, so it
    is an *estimate*: score the same model on a different draw of items and
    the number moves. When a new model beats the old one by a point, the
    question is whether that point is skill or the luck of the draw.
    Statistics answers with two tools: an **interval** that says how far the
    true score could plausibly be from the measured one, and a **test** that
    says how surprising the observed gap would be if the models were equally
    good. Both depend on how many items you scored and, when you compare
    two models, on whether you scored them on the *same* items.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\bar x = \frac{1}{n}\sum_{i=1}^{n} x_i, \qquad "
        r"s^2 = \frac{1}{n-1}\sum_{i=1}^{n} (x_i - \bar x)^2, \qquad "
        r"\operatorname{SE}(\bar x) = \frac{s}{\sqrt{n}}",
        caption=(
            r"$x_i$ are the $n$ scores, $\bar x$ their mean, $s^2$ the sample variance "
            r"($n - 1$ in the denominator makes it unbiased) and SE the standard error: the "
            r"typical distance between the measured mean and the true one."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 1. Five scores

    The syllabus works with five scores. Their mean, spread and standard
    error, and Student's t interval (which assumes the scores are normal):
    """)
    return


@app.cell
def _(mo, np, stats):
    scores = np.array([85, 88, 82, 90, 87]) / 100       # the syllabus's five scores
    mean = scores.mean()
    sd = scores.std(ddof=1)                              # s, with n − 1
    se = sd / np.sqrt(len(scores))
    t_interval = stats.mean_ci(scores, confidence=0.95)
    mo.show_code()
    return mean, scores, sd, se, t_interval


@app.cell(hide_code=True)
def _(kit, mean, mo, scores, sd, se, t_interval):
    mo.md(f"""
    Mean {kit.fmt(mean, 4)}, standard deviation {kit.fmt(sd, 4)}, standard error
    {kit.fmt(se, 4)} from {len(scores)} scores. The
    {kit.pct(t_interval.confidence, 0)} t interval is
    [{kit.fmt(t_interval.low, 3)}, {kit.fmt(t_interval.high, 3)}]: with so few
    scores the t quantile is large, so the interval spans
    {kit.fmt((t_interval.high - t_interval.low) / se, 1)} standard errors.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 2. The bootstrap

    The bootstrap treats the sample as a stand-in for the population. Draw
    $n$ scores **with replacement** from the $n$ you have, compute the mean,
    and repeat thousands of times; the spread of those resampled means
    imitates the spread you would see across fresh samples. The
    **percentile** interval reads off the 2.5% and 97.5% quantiles; **BCa**
    (bias-corrected and accelerated) shifts those two levels to correct for
    a median bias and for skew.
    """)
    return


@app.cell
def _(mo, scores, stats):
    n_boot, seed = 10_000, 0
    replicates = stats.bootstrap_distribution(scores, n_resamples=n_boot, rng=seed)
    percentile = stats.bootstrap_ci(scores, n_resamples=n_boot, method="percentile", rng=seed)
    bca = stats.bootstrap_ci(scores, n_resamples=n_boot, method="bca", rng=seed)
    mo.show_code()
    return bca, n_boot, percentile, replicates


@app.cell(hide_code=True)
def _(bca, kit, mo, n_boot, percentile, t_interval):
    _rows = ["percentile bootstrap", "BCa bootstrap", "Student's t"]
    _vals = [[c.low, c.high, c.high - c.low] for c in (percentile, bca, t_interval)]
    mo.md(f"""
    With {n_boot:,} resamples (seeded, so the numbers stay put):

    {kit.matrix_table(_vals, _rows, ["low", "high", "width"], digits=4, corner="95% interval")}

    Both bootstrap intervals are narrower than the t interval. That is not
    extra precision: the resampled means spread like $s\\sqrt{{(n-1)/n}}/\\sqrt{{n}}$
    with normal tails, while the t interval pays for not knowing the true
    spread. With five scores the bootstrap is overconfident, as the next
    section measures.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("000-bootstrap-ci-example")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 3. Does a 95% interval cover 95% of the time?

    An interval method makes a promise about repeated use. We can check it:
    draw many data sets from a population whose mean we know, build the
    interval on each, and count how often it contains that mean.
    """)
    return


@app.cell
def _(mo, stats):
    sizes = [5, 10, 20, 40]
    coverage = {m: [stats.bootstrap_coverage(n, method=m, n_datasets=1500, n_resamples=200,
                                             rng=n) for n in sizes]
                for m in ("percentile", "t")}
    mo.show_code()
    return coverage, sizes


@app.cell(hide_code=True)
def _(coverage, kit, mo, np, sizes):
    _fig, _ax = kit.figure(size=(5.0, 3.2))
    for _i, (_m, _label) in enumerate([("percentile", "percentile bootstrap"),
                                       ("t", "Student's t")]):
        _c = np.array([r.coverage for r in coverage[_m]])
        _e = np.array([r.standard_error for r in coverage[_m]])
        _ax.errorbar(sizes, _c, yerr=2 * _e, fmt="o-", ms=4, capsize=3, color=f"C{_i}",
                     label=_label)
    _promise = coverage["t"][0].confidence
    _ax.axhline(_promise, color="gray", ls=":", lw=1, label=f"promised {kit.pct(_promise, 0)}")
    _ax.set_xscale("log", base=2)
    _ax.set_xticks(sizes, labels=[str(n) for n in sizes])
    _ax.set_xlabel("scores per data set n")
    _ax.set_ylabel("coverage")
    _ax.legend(fontsize=8, loc="lower right")
    _first = coverage["percentile"][0]
    mo.hstack([
        kit.show(_fig, alt="coverage of the percentile bootstrap and t intervals against n"),
        mo.md(f"""
        Normal data, {_first.n_datasets:,} data sets per point (bars: ±2
        standard errors). With n = {sizes[0]} the percentile bootstrap covers
        the true mean only **{kit.pct(_first.coverage, 0)}** of the time; the
        t interval keeps its promise at every n. The bootstrap's shortfall
        shrinks as n grows, because the sample then describes the
        population well.
        """),
    ], justify="start", gap=1.5, align="center", widths=[3, 2])
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("000-bootstrap-without-assumptions")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 4. Try it: more scores, narrower intervals

    Below, the five scores are joined by more from a normal population with
    their mean and spread (seeded). Move the slider to score more items: the
    interval narrows like $1/\sqrt{n}$, and the percentile and BCa intervals
    agree more and more closely.
    """)
    return


@app.cell
def _(mean, mo, np, scores, sd, stats):
    counts = [5, 10, 20, 50, 100, 200, 500]
    _extra = np.random.default_rng(0).normal(mean, sd, counts[-1] - len(scores))
    pool = np.concatenate([scores, _extra])              # the first five: the syllabus's
    by_count = {}
    for _n in counts:
        _x = pool[:_n]
        by_count[_n] = {
            "replicates": stats.bootstrap_distribution(_x, n_resamples=4000, rng=_n),
            "percentile": stats.bootstrap_ci(_x, n_resamples=4000, method="percentile", rng=_n),
            "bca": stats.bootstrap_ci(_x, n_resamples=4000, method="bca", rng=_n),
        }
    mo.show_code()
    return by_count, counts, pool


@app.cell(hide_code=True)
def _(counts, mo):
    n_items = mo.ui.slider(steps=counts, value=5, show_value=True, label="number of scores n",
                           debounce=False)
    n_items
    return (n_items,)


@app.cell(hide_code=True)
def _(by_count, counts, kit, mo, n_items, np, pool):
    _n = kit.value(n_items)
    _r = by_count[_n]
    _fig, (_ax, _bx) = kit.figure(1, 2, size=(8.6, 3.2), margins={"wspace": 1.15})  # log ticks
    _vals, _counts = np.unique(_r["replicates"].round(12), return_counts=True)
    if len(_vals) <= 80:                       # few distinct means (small n): one bar each
        _ax.bar(_vals, _counts, width=0.8 * np.min(np.diff(_vals)), color="C0", alpha=0.7)
    else:
        _ax.hist(_r["replicates"], bins=40, color="C0", alpha=0.7)
    for _name, _color, _style in (("percentile", "C3", "-"), ("bca", "C2", "--")):
        for _v in (_r[_name].low, _r[_name].high):
            _ax.axvline(_v, color=_color, ls=_style, lw=1.2)
    _ax.axvline(pool[:_n].mean(), color="black", lw=1)
    _ax.set_xlabel("resampled mean")
    _ax.set_ylabel("count")
    _ax.set_title(f"{len(_r['replicates']):,} bootstrap means, n = {_n}")
    _w = np.array([by_count[c]["percentile"].high - by_count[c]["percentile"].low
                   for c in counts])
    _bx.loglog(counts, _w, "o-", ms=4, color="C3", label="percentile width")
    _bx.loglog(counts, _w[-1] * np.sqrt(counts[-1] / np.asarray(counts, float)), ":",
               color="gray", label="∝ 1/√n")
    _bx.plot(_n, _w[counts.index(_n)], "o", ms=10, mfc="none", color="black")
    _bx.set_xlabel("number of scores n")
    _bx.set_ylabel("interval width")
    _bx.legend(fontsize=8)
    mo.vstack([
        kit.show(_fig, alt="histogram of bootstrap means with the interval, and the width "
                 "against n"),
        mo.md(f"""
        n = {_n}: mean {kit.fmt(pool[:_n].mean(), 4)}; percentile interval
        [{kit.fmt(_r["percentile"].low, 4)}, {kit.fmt(_r["percentile"].high, 4)}]
        (red, solid); BCa [{kit.fmt(_r["bca"].low, 4)}, {kit.fmt(_r["bca"].high, 4)}]
        (green, dashed).
        """),
    ])
    return


@app.cell(hide_code=True)
def _(mo, n_test):
    mo.md(rf"""
    ## 5. Comparing two models: paired or not

    Two language models are scored on the same {n_test} test documents; an
    item's score is the model's average log-likelihood per token on it
    (nats; higher is better). Some documents are easy for both models and
    some are hard for both, so the per-item scores move together. A
    two-sample test (Welch's t) ignores that and treats the two columns as
    unrelated, so the item-to-item variation lands in its standard error. A
    **paired** test looks at the per-item differences $d_i = a_i - b_i$, in
    which the shared difficulty cancels:
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"t_{\text{Welch}} = \frac{\bar a - \bar b}{\sqrt{s_a^2/n + s_b^2/n}}, \qquad "
        r"t_{\text{paired}} = \frac{\bar d}{s_d/\sqrt{n}}, \qquad "
        r"s_d^2 = s_a^2 + s_b^2 - 2\,\operatorname{cov}(a, b)",
        caption=r"The covariance term is what pairing gains: the more the two models' "
                r"scores move together, the smaller $s_d$.",
    )
    return


@app.cell
def _(np):
    n_test = 300
    _gen = np.random.default_rng(3)
    difficulty = _gen.normal(0.0, 1.0, n_test)          # shared by both models
    noise_a, noise_b = _gen.normal(0.0, 0.05, (2, n_test))
    base_a, base_b = -2.10, -2.15                        # true mean log-likelihoods (nats/token)
    return base_a, base_b, difficulty, n_test, noise_a, noise_b


@app.cell(hide_code=True)
def _(mo):
    spread = mo.ui.slider(start=0.0, stop=0.5, step=0.05, value=0.3, show_value=True,
                          label="spread of item difficulty", debounce=False)
    spread
    return (spread,)


@app.cell
def _(base_a, base_b, difficulty, kit, mo, noise_a, noise_b, spread, stats):
    score_a = base_a - kit.value(spread) * difficulty + noise_a    # per-item scores, model A
    score_b = base_b - kit.value(spread) * difficulty + noise_b    # model B, same items
    welch = stats.welch_t_test(score_a, score_b)
    paired = stats.paired_t_test(score_a, score_b)
    welch_ci = stats.mean_difference_ci(score_a, score_b)
    paired_ci = stats.mean_difference_ci(score_a, score_b, paired=True)
    mo.show_code()
    return paired, paired_ci, score_a, score_b, welch, welch_ci


@app.cell(hide_code=True)
def _(
    base_a,
    base_b,
    kit,
    mo,
    n_test,
    np,
    paired,
    paired_ci,
    score_a,
    score_b,
    spread,
    welch,
    welch_ci,
):
    _fig, (_ax, _bx) = kit.figure(1, 2, size=(8.6, 3.2))
    _ax.scatter(score_b, score_a, s=5, alpha=0.5)
    _lo, _hi = min(score_a.min(), score_b.min()), max(score_a.max(), score_b.max())
    _ax.plot([_lo, _hi], [_lo, _hi], color="gray", lw=0.8, ls=":")
    _ax.set_xlabel("model B log-likelihood")
    _ax.set_ylabel("model A log-likelihood")
    _ax.set_title(f"correlation {kit.fmt(np.corrcoef(score_a, score_b)[0, 1], 2)}")
    for _i, (_label, _ci) in enumerate([("Welch", welch_ci), ("paired", paired_ci)]):
        _bx.errorbar([_ci.estimate], [_i], xerr=[[_ci.estimate - _ci.low], [_ci.high - _ci.estimate]],
                     fmt="o", capsize=5, color=f"C{_i + 3}")
    _bx.axvline(0.0, color="black", lw=0.8)
    _bx.axvline(base_a - base_b, color="gray", ls=":", lw=1)
    _bx.set_yticks([0, 1], labels=["Welch", "paired"])
    _bx.set_ylim(-0.6, 1.6)
    _bx.set_xlabel("95% interval for mean(A) − mean(B)")
    _table = kit.matrix_table(
        [[kit.fmt(r.statistic, 2), f"{r.pvalue:.2g}", kit.fmt(c.low, 4), kit.fmt(c.high, 4)]
         for r, c in ((welch, welch_ci), (paired, paired_ci))],
        ["Welch (unpaired)", "paired"], ["t", "p-value", "95% low", "95% high"])
    mo.vstack([
        kit.show(_fig, alt="scatter of the two models' per-item scores and the two intervals"),
        mo.md(f"""
        {n_test} documents; the true gap is {kit.fmt(base_a - base_b, 2)} nats per
        token (dotted line), item difficulty spread {kit.fmt(kit.value(spread), 2)}.

        {_table}

        The paired interval is {kit.fmt((welch_ci.high - welch_ci.low) / (paired_ci.high - paired_ci.low), 1)}
        times narrower. Raise the spread: the Welch interval widens and its
        p-value grows, while the paired one does not move, since the shared
        difficulty cancels in every difference.
        """),
    ])
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([kit.claim_badge("000-ab-test-t-test"), kit.claim_badge("004-hypothesis-evaluation")])
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## 6. Right or wrong: McNemar's test

    Many benchmarks score each item as right or wrong. Pair the two models'
    outcomes item by item: items both get right, or both get wrong, say
    nothing about which model is better. Only the **discordant** items do:
    $b$ items that A gets right and B wrong, $c$ the other way round. If the
    models were equally good, each discordant item would be a fair coin, so
    $b \sim \text{Binomial}(b + c, \tfrac12)$.
    """)
    return


@app.cell
def _(difficulty, mo, np, prob, stats):
    _gen = np.random.default_rng(5)
    _hard = 1.5 * difficulty                              # the same items as above
    right_a = _gen.random(len(_hard)) < prob.sigmoid(1.4 - _hard)   # skill 1.4
    right_b = _gen.random(len(_hard)) < prob.sigmoid(0.8 - _hard)   # skill 0.8
    mcnemar = stats.mcnemar_test(right_a, right_b)
    unpaired = stats.welch_t_test(right_a.astype(float), right_b.astype(float))
    mo.show_code()
    return mcnemar, right_a, right_b, unpaired


@app.cell(hide_code=True)
def _(kit, mcnemar, mo, np, right_a, right_b, unpaired):
    _table = np.array([[np.sum(right_a & right_b), np.sum(right_a & ~right_b)],
                       [np.sum(~right_a & right_b), np.sum(~right_a & ~right_b)]])
    mo.md(f"""
    Accuracy: A {kit.pct(right_a.mean())}, B {kit.pct(right_b.mean())} on
    {len(right_a)} items.

    {kit.matrix_table(_table, ["A right", "A wrong"], ["B right", "B wrong"], corner="items")}

    The discordant counts are $b = {mcnemar.b}$ and $c = {mcnemar.c}$; the exact
    two-sided test gives $p = {kit.fmt(mcnemar.pvalue, 4)}$. The
    {int(_table[0, 0] + _table[1, 1])} concordant items do not enter at all.
    A two-sample test that ignores the pairing (Welch's t on the 0/1
    outcomes) gives $p = {kit.fmt(unpaired.pvalue, 4)}$: it has to treat the
    shared easy and hard items as noise.
    """)
    return


@app.cell(hide_code=True)
def _(by_count, kit, pool):
    _few, _many = 50, 200  # two of the slider's sizes, a factor 4 apart
    _w_few = by_count[_few]["percentile"].high - by_count[_few]["percentile"].low
    _w_many = by_count[_many]["percentile"].high - by_count[_many]["percentile"].low
    _s_few, _s_many = pool[:_few].std(ddof=1), pool[:_many].std(ddof=1)
    kit.check_yourself(
        "You score a model on four times as many items. Roughly how does the width of its "
        "confidence interval change?",
        f"It halves: the standard error is s/√n, and √4 = 2. In section 4 the percentile "
        f"interval is {kit.fmt(_w_few, 4)} wide with {_few} scores and "
        f"{kit.fmt(_w_many, 4)} with {_many}, a ratio of {kit.fmt(_w_few / _w_many, 2)}. "
        f"It is not exactly 2 because s itself is an estimate: {kit.fmt(_s_few, 4)} from "
        f"the first {_few} scores, {kit.fmt(_s_many, 4)} from the first {_many}, and "
        f"2 × {kit.fmt(_s_few, 4)} / {kit.fmt(_s_many, 4)} = "
        f"{kit.fmt(2 * _s_few / _s_many, 2)}; the bootstrap's own resampling noise does "
        f"the rest.",
    )
    return


@app.cell(hide_code=True)
def _(coverage, kit, sizes):
    _c = coverage["percentile"][0].coverage
    kit.check_yourself(
        f"Why does a nominal 95% percentile bootstrap interval built from {sizes[0]} scores "
        "cover the true mean less often than promised?",
        f"Because the bootstrap only knows the sample. Resampled means spread like "
        f"s·√((n−1)/n)/√n with normal-looking tails, which understates the uncertainty when n "
        f"is small (the t interval widens for exactly this). Measured here: {kit.pct(_c, 0)} "
        "coverage. The bootstrap needs assumptions too: independent draws and a sample large "
        "enough to stand for the population.",
    )
    return


@app.cell(hide_code=True)
def _(kit, mcnemar):
    _extra = 50
    kit.check_yourself(
        f"In the McNemar example, what happens to the p-value if {_extra} more items are "
        f"added that both models get right?",
        f"Nothing: only the discordant items (b = {mcnemar.b}, c = {mcnemar.c}) enter the "
        "test. Items that both models get right, or both get wrong, cannot tell them apart.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - A score is an estimate; report it with a standard error or an interval.
    - The bootstrap resamples the data to get an interval without a formula,
      but it still assumes independent items and enough of them; with five
      scores it is overconfident.
    - Interval widths shrink like $1/\sqrt{n}$: four times the items, half the width.
    - Compare two models on the same items with a **paired** test or
      interval: shared item difficulty cancels in the differences.
    - For right/wrong outcomes, McNemar's test uses only the items on which
      the models disagree.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("evaluation")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("evaluation")
    return


@app.cell
def test_mean_spread_and_t_interval_by_hand(math, mean, scores, sd, se, t_interval):
    _n = len(scores)
    _m = sum(scores) / _n
    _v = sum((_x - _m) ** 2 for _x in scores) / (_n - 1)
    assert abs(mean - _m) < 1e-15 and abs(sd - math.sqrt(_v)) < 1e-15
    assert abs(se - math.sqrt(_v / _n)) < 1e-15
    # the half-width is q·SE with P(T₄ <= q) = 0.975: integrate the t density (Simpson)
    _q = (t_interval.high - _m) / se
    _df = _n - 1
    _c = math.gamma((_df + 1) / 2) / (math.sqrt(_df * math.pi) * math.gamma(_df / 2))
    _k = 2000
    _h = _q / _k
    _f = [_c * (1 + (_i * _h) ** 2 / _df) ** (-(_df + 1) / 2) for _i in range(_k + 1)]
    _area = _h / 3 * (_f[0] + _f[-1] + 4 * sum(_f[1:-1:2]) + 2 * sum(_f[2:-1:2]))
    assert abs(0.5 + _area - 0.975) < 1e-9
    assert abs((t_interval.low + t_interval.high) / 2 - _m) < 1e-12
    return


@app.cell
def test_bootstrap_interval_against_the_exact_distribution(percentile, replicates, scores):
    # all 5⁵ = 3125 equally likely resamples give the exact bootstrap distribution of the mean
    import itertools as _itertools

    _means = sorted(sum(_c) / 5 for _c in _itertools.product(scores, repeat=5))
    _lo, _hi = _means[int(0.025 * len(_means))], _means[int(0.975 * len(_means)) - 1]
    assert abs(percentile.low - _lo) < 0.003 and abs(percentile.high - _hi) < 0.003
    # and the interval is read off the plotted replicates
    _r = sorted(replicates)
    _B = len(_r)
    assert _r[int(0.025 * (_B - 1))] <= percentile.low <= _r[int(0.025 * (_B - 1)) + 1]
    assert _r[int(0.975 * (_B - 1))] <= percentile.high <= _r[int(0.975 * (_B - 1)) + 1]
    return


@app.cell
def test_t_statistics_by_hand(math, paired, score_a, score_b, welch):
    _n = len(score_a)
    _ma, _mb = sum(score_a) / _n, sum(score_b) / _n
    _va = sum((_x - _ma) ** 2 for _x in score_a) / (_n - 1)
    _vb = sum((_x - _mb) ** 2 for _x in score_b) / (_n - 1)
    assert abs(welch.statistic - (_ma - _mb) / math.sqrt(_va / _n + _vb / _n)) < 1e-9
    _df = (_va / _n + _vb / _n) ** 2 / ((_va / _n) ** 2 / (_n - 1) + (_vb / _n) ** 2 / (_n - 1))
    assert abs(welch.df - _df) < 1e-6
    _d = [_a - _b for _a, _b in zip(score_a, score_b, strict=True)]
    _md = sum(_d) / _n
    _sd = math.sqrt(sum((_x - _md) ** 2 for _x in _d) / (_n - 1))
    assert abs(paired.statistic - _md / (_sd / math.sqrt(_n))) < 1e-9
    return


@app.cell
def test_paired_interval_is_mean_difference_plus_minus_t_se(
    math,
    paired_ci,
    score_a,
    score_b,
):
    _n = len(score_a)
    _d = [_a - _b for _a, _b in zip(score_a, score_b, strict=True)]
    _md = sum(_d) / _n
    _se = math.sqrt(sum((_x - _md) ** 2 for _x in _d) / (_n - 1)) / math.sqrt(_n)
    assert abs(paired_ci.estimate - _md) < 1e-12
    # half-width = q·SE with P(T_{n-1} <= q) = 0.975: integrate the t density (Simpson)
    _q = (paired_ci.high - paired_ci.low) / 2 / _se
    _df = _n - 1
    _c = math.exp(math.lgamma((_df + 1) / 2) - math.lgamma(_df / 2)) / math.sqrt(_df * math.pi)
    _k = 2000
    _h = _q / _k
    _f = [_c * (1 + (_i * _h) ** 2 / _df) ** (-(_df + 1) / 2) for _i in range(_k + 1)]
    _area = _h / 3 * (_f[0] + _f[-1] + 4 * sum(_f[1:-1:2]) + 2 * sum(_f[2:-1:2]))
    assert abs(0.5 + _area - 0.975) < 1e-9
    return


@app.cell
def test_mcnemar_exact_p_by_counting(math, mcnemar, right_a, right_b):
    _b = sum(1 for _x, _y in zip(right_a, right_b, strict=True) if _x and not _y)
    _c = sum(1 for _x, _y in zip(right_a, right_b, strict=True) if _y and not _x)
    assert (mcnemar.b, mcnemar.c) == (_b, _c)
    _k, _m = min(_b, _c), _b + _c
    _p = min(1.0, 2 * sum(math.comb(_m, _i) for _i in range(_k + 1)) / 2**_m)
    assert abs(mcnemar.pvalue - _p) < 1e-12
    return


if __name__ == "__main__":
    app.run()
