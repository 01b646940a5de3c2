import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Random variables, expectation and variance")


@app.cell
def _():
    import marimo as mo
    import numpy as np

    from llmmath import info, prob
    from llmmath.lessons import _kit as kit

    return info, kit, mo, np, prob


@app.cell(hide_code=True)
def _(kit):
    kit.header("random_variables")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    Every time a language model writes a token it rolls a weighted die: the
    next token is a **random variable**, and the model's output is its
    distribution. Training is no less random. The loss we minimise is an
    *expected* value over all the text the model could meet, and what we can
    actually compute is an average over a small batch of it. Two questions
    therefore come up all the time: what does an average over a sample tell
    us about the expectation, and how quickly does it settle down? The law of
    large numbers answers the first, the spread $\sigma/\sqrt{n}$ the second.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"\mathbb{E}[X] = \sum_x x\,p(x), \qquad "
        r"\operatorname{Var}[X] = \mathbb{E}\big[(X - \mathbb{E}[X])^2\big] "
        r"= \sum_x p(x)\,\big(x - \mathbb{E}[X]\big)^2",
        caption=(
            "A random variable $X$ assigns a number $x$ to every outcome; $p(x)$ is the "
            "probability of seeing that number. The expectation is the probability-weighted "
            "average, the variance the weighted average squared distance from it. For a "
            "continuous variable the sums become integrals against a density. The standard "
            "deviation $\\sigma$ is the square root of the variance."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## A random variable on top of a token distribution

    Picture a model that is about to finish *the cat sat on the …* and spreads
    its probability over five words. The outcome is a word; a random variable
    turns it into a number. Take $X$ = the length of the word in characters.
    Its expectation and variance follow from the word probabilities alone.
    """)
    return


@app.cell
def _(mo, np, prob):
    words = ["mat", "sofa", "floor", "windowsill", "rug"]
    word_probs = np.array([0.40, 0.20, 0.20, 0.05, 0.15])  # ours, sums to 1
    lengths = np.array([len(w) for w in words], dtype=float)  # X(word)
    mean_len = prob.expectation(lengths, word_probs)
    var_len = prob.variance(lengths, word_probs)
    mo.show_code()
    return lengths, mean_len, var_len, word_probs, words


@app.cell(hide_code=True)
def _(kit, lengths, mean_len, mo, np, var_len, word_probs, words):
    _terms = " + ".join(
        f"{kit.fmt(p, 2)} \\cdot {kit.fmt(x, 0)}" for p, x in zip(word_probs, lengths, strict=True)
    )
    mo.md(f"""
    {kit.matrix_table(np.vstack([word_probs, lengths]), ["p(word)", "X = length"], words, digits=2)}

    $\\mathbb{{E}}[X] = {_terms} = {kit.fmt(mean_len, 2)}$ characters, and
    $\\operatorname{{Var}}[X] = {kit.fmt(var_len, 3)}$, so the standard deviation is
    $\\sigma = {kit.fmt(np.sqrt(var_len), 3)}$ characters. No single word has length
    {kit.fmt(mean_len, 2)}: an expectation is a balance point, not a likely value.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Three distributions worth knowing

    - **Normal** $\mathcal{N}(\mu, \sigma^2)$: the bell curve. Weights at
      initialisation and the noise of a mini-batch gradient are modelled with
      it. Mean $\mu$, variance $\sigma^2$.
    - **Uniform** on $[a, b]$: every value equally likely. It is where random
      numbers start, including those that pick the next token. Mean
      $(a+b)/2$, variance $(b-a)^2/12$.
    - **Categorical** over $K$ outcomes: the output of a softmax, the
      distribution of the next token. Here it is the word-length variable
      from above.

    The cell below draws one long seeded sample from each. The slider then
    reveals only its first $n$ draws, so you can watch a sample grow.
    """)
    return


@app.cell
def _(lengths, mo, np, word_probs):
    n_max = 100_000
    rng = np.random.default_rng(0)
    params = {"normal": (2.0, 1.5), "uniform": (-1.0, 3.0)}  # (mu, sigma) and (a, b)
    draws = {
        "normal": rng.normal(*params["normal"], size=n_max),
        "uniform": rng.uniform(*params["uniform"], size=n_max),
        "categorical": lengths[rng.choice(len(lengths), size=n_max, p=word_probs)],
    }
    mo.show_code()
    return draws, n_max, params


@app.cell(hide_code=True)
def _(mean_len, params, var_len):
    _mu, _sigma = params["normal"]
    _a, _b = params["uniform"]
    truth = {  # (expectation, variance) from the closed forms
        "normal": (_mu, _sigma**2),
        "uniform": ((_a + _b) / 2, (_b - _a) ** 2 / 12),
        "categorical": (float(mean_len), float(var_len)),
    }
    return (truth,)


@app.cell(hide_code=True)
def _(mo, n_max):
    family = mo.ui.dropdown(["normal", "uniform", "categorical"], value="normal",
                            label="distribution")
    n_draws = mo.ui.slider(
        steps=[10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, n_max],
        value=1_000, show_value=True, label="sample size n", debounce=False,
    )
    return family, n_draws


@app.cell(hide_code=True)
def _(family, mo, n_draws):
    mo.vstack([
        mo.md(r"""
        ## Try it: a growing sample

        Pick a distribution and a sample size. The left plot compares the
        histogram of the first $n$ draws with the true density (for the
        categorical one, the true probabilities). The right plot follows the
        **running mean** $\bar X_k = \frac1k \sum_{i \le k} X_i$ for
        $k = 1, \dots, n$, inside the band $\mu \pm 2\sigma/\sqrt{k}$.
        """),
        mo.hstack([family, n_draws], justify="start", gap=2),
    ])
    return


@app.cell
def _(draws, family, kit, mo, n_draws, np):
    sample = draws[kit.value(family)][: kit.value(n_draws)]
    running_mean = np.cumsum(sample) / np.arange(1, len(sample) + 1)
    sample_mean = running_mean[-1]
    sample_var = np.mean((sample - sample_mean) ** 2)
    mo.show_code()
    return running_mean, sample, sample_mean, sample_var


@app.cell(hide_code=True)
def _(family, kit, mo, n_draws, np, sample_mean, sample_var, truth):
    _mu, _var = truth[kit.value(family)]
    _se = np.sqrt(_var / kit.value(n_draws))
    mo.md(f"""
    **{kit.value(family)}, n = {kit.value(n_draws):,}** &nbsp;·&nbsp; sample mean
    {kit.fmt(sample_mean, 4)} against $\\mathbb{{E}}[X] = {kit.fmt(_mu, 4)}$ (off by
    {kit.fmt(abs(sample_mean - _mu), 4)}; the typical error $\\sigma/\\sqrt{{n}}$ is
    {kit.fmt(_se, 4)}) &nbsp;·&nbsp; sample variance {kit.fmt(sample_var, 4)} against
    $\\operatorname{{Var}}[X] = {kit.fmt(_var, 4)}$
    """)
    return


@app.cell(hide_code=True)
def _(family, kit, lengths, np, params, prob, running_mean, sample, truth, word_probs):
    _fig, (_left, _right) = kit.figure(1, 2, size=(9.0, 3.2))
    if kit.value(family) == "categorical":
        _vals = np.unique(lengths)
        _freq = np.array([np.mean(sample == v) for v in _vals])
        _true = np.array([word_probs[lengths == v].sum() for v in _vals])
        _left.bar(_vals - 0.2, _freq, width=0.4, color="#9ecae1", label="sample")
        _left.bar(_vals + 0.2, _true, width=0.4, color="#08519c", label="true p")
        _left.set_xticks(_vals)
        _left.set_xlabel("word length")
        _left.set_ylabel("probability")
    else:
        _left.hist(sample, bins=40, density=True, color="#9ecae1", label="sample")
        if kit.value(family) == "normal":
            _mu, _sigma = params["normal"]
            _x = np.linspace(_mu - 4 * _sigma, _mu + 4 * _sigma, 300)
            _left.plot(_x, prob.normal_pdf(_x, _mu, _sigma), color="#08519c", label="density")
        else:
            _a, _b = params["uniform"]
            _left.plot([_a - 0.5, _a, _a, _b, _b, _b + 0.5],
                       [0, 0, 1 / (_b - _a), 1 / (_b - _a), 0, 0], color="#08519c",
                       label="density")
        _left.set_xlabel("x")
        _left.set_ylabel("density")
    _left.set_title(f"{kit.value(family)}: n = {len(sample):,}")
    _left.legend(frameon=False)
    _mean, _var = truth[kit.value(family)]
    _k = np.unique(np.geomspace(1, len(sample), 400).astype(int))   # log-spaced draws to plot
    _band = 2 * np.sqrt(_var / _k)
    _right.fill_between(_k, _mean - _band, _mean + _band, color="#deebf7",
                        label="μ ± 2σ/√k")
    _right.plot(_k, running_mean[_k - 1], color="#08519c", label="running mean")
    _right.axhline(_mean, color="black", lw=1, ls="--", label="E[X]")
    _right.set_xscale("log")
    _right.set_ylim(_mean - 4 * np.sqrt(_var), _mean + 4 * np.sqrt(_var))
    _right.set_xlabel("draws k")
    _right.set_title("law of large numbers")
    _right.legend(frameon=False, loc="upper right")
    kit.show(_fig, alt="histogram against the true density, and the running mean settling "
                       "on the expectation")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## The law of large numbers, and how fast

    For independent draws with mean $\mu$ and finite variance $\sigma^2$, the
    sample mean $\bar X_n$ converges to $\mu$. The speed follows from one line
    of algebra: the variance of a sum of independent variables is the sum of
    their variances, so

    $$\operatorname{Var}[\bar X_n] = \frac{1}{n^2}\sum_{i=1}^n \operatorname{Var}[X_i]
      = \frac{\sigma^2}{n}, \qquad \operatorname{sd}[\bar X_n] = \frac{\sigma}{\sqrt n}.$$

    Four times the data halves the error. The check below repeats the whole
    experiment many times for a few sample sizes and measures the spread of
    the sample means directly.
    """)
    return


@app.cell
def _(mo, np, params):
    repeats = 2_000
    sizes = [10, 100, 1_000]
    _mu, _sigma = params["normal"]
    _rng = np.random.default_rng(1)
    spread = np.array([
        _rng.normal(_mu, _sigma, size=(repeats, n)).mean(axis=1).std() for n in sizes
    ])  # measured sd of the sample mean, one per n
    predicted = _sigma / np.sqrt(sizes)
    mo.show_code()
    return predicted, repeats, sizes, spread


@app.cell(hide_code=True)
def _(kit, mo, predicted, repeats, sizes, spread):
    mo.md(f"""
    Normal draws, {repeats:,} repeated samples per size:

    {kit.matrix_table([spread, predicted], ["measured sd of the mean", "σ/√n"],
                      [f"n = {n:,}" for n in sizes], digits=4)}

    This is why a loss estimated on a batch of {sizes[0]} sequences jumps around from
    step to step, and why an evaluation on a few hundred examples can only
    separate models whose scores differ by more than a couple of $\\sigma/\\sqrt n$.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Independence, checked on counts

    Two events are **independent** when knowing one happened does not change
    the chance of the other: $P(A, B) = P(A)\,P(B)$, or equivalently
    $P(A \mid B) = P(A)$. Counts let us test it. Roll two fair dice many
    times and compare the observed frequency of a pair of events with the
    product of their separate frequencies.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.claim_badge("002-independence")
    return


@app.cell
def _(mo, np):
    n_rolls = 60_000
    dice = np.random.default_rng(2).integers(1, 7, size=(n_rolls, 2))  # (N, 2)
    events = {
        "first die shows 6": dice[:, 0] == 6,
        "second die shows 6": dice[:, 1] == 6,
        "sum is 10 or more": dice.sum(axis=1) >= 10,
    }
    pairs = [("first die shows 6", "second die shows 6"),
             ("first die shows 6", "sum is 10 or more")]
    checks = []
    for _a, _b in pairs:
        _both = np.mean(events[_a] & events[_b])  # P(A, B) from counts
        checks.append((_a, _b, _both, np.mean(events[_a]) * np.mean(events[_b])))
    mo.show_code()
    return checks, dice, events, n_rolls, pairs


@app.cell(hide_code=True)
def _(checks, kit, mo, n_rolls):
    _rows = [[both, prod, both / prod] for _a, _b, both, prod in checks]
    _labels = [f"A = {a}, B = {b}" for a, b, _x, _y in checks]
    mo.md(f"""
    {n_rolls:,} rolls of two dice:

    {kit.matrix_table(_rows, _labels, ["P(A, B)", "P(A) P(B)", "ratio"], digits=4)}

    The two dice do not influence each other, so the first ratio is 1 up to
    sampling noise. A large sum needs large faces, so a six on the first die
    makes it far more likely: the second ratio is nowhere near 1, and those
    events are dependent.
    """)
    return


@app.cell
def _(dice, info, mo, np):
    # the same test for whole variables: the joint table of the two faces
    joint_counts = np.zeros((6, 6))
    np.add.at(joint_counts, (dice[:, 0] - 1, dice[:, 1] - 1), 1)
    joint = joint_counts / joint_counts.sum()
    product = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    gap = np.abs(joint - product).max()
    mi_bits = info.mutual_information(joint, base=2)
    mo.show_code()
    return gap, joint, joint_counts, mi_bits, product


@app.cell(hide_code=True)
def _(gap, joint, kit, mi_bits, mo):
    mo.md(f"""
    For variables, independence means $P(X = x, Y = y) = P(X = x)\\,P(Y = y)$
    for **every** pair of values. Over all {joint.size} cells of the joint table
    of the two faces, the largest gap between the observed joint frequency and
    the product of the marginals is {kit.fmt(gap, 5)}, against a cell
    probability of {kit.fmt(1 / joint.size, 4)}. The mutual information of the
    table ([the lesson on information theory]({kit.lesson_href("information")})
    defines it) is
    {kit.fmt(mi_bits, 5)} bits: zero would be exact independence, and what is
    left is sampling noise.
    """)
    return


@app.cell(hide_code=True)
def _(kit, np):
    _sigma, _n = 2.0, 400
    kit.check_yourself(
        f"You average the losses of {_n} independent examples whose individual losses have "
        f"standard deviation {kit.fmt(_sigma, 1)}. How far is the average typically from the "
        f"expected loss? How many examples would halve that?",
        f"$\\sigma/\\sqrt{{n}} = {kit.fmt(_sigma, 1)}/\\sqrt{{{_n}}} = "
        f"{kit.fmt(_sigma / np.sqrt(_n), 3)}$. Halving it takes four times the examples, "
        f"{4 * _n:,}.",
    )
    return


@app.cell(hide_code=True)
def _(kit, params):
    _a, _b = params["uniform"]
    kit.check_yourself(
        f"What are the mean and variance of the uniform distribution on "
        f"$[{kit.fmt(_a, 0)}, {kit.fmt(_b, 0)}]$?",
        f"Mean $(a+b)/2 = {kit.fmt((_a + _b) / 2, 3)}$, variance "
        f"$(b-a)^2/12 = {kit.fmt((_b - _a) ** 2 / 12, 4)}$: the variance grows with the "
        f"square of the width.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    _pa, _pb = 0.5, 0.2
    kit.check_yourself(
        f"Events A and B are independent with $P(A) = {_pa}$ and $P(B) = {_pb}$. What are "
        f"$P(A, B)$ and $P(A \\mid B)$?",
        f"$P(A, B) = P(A)P(B) = {kit.fmt(_pa * _pb, 2)}$, and "
        f"$P(A \\mid B) = P(A, B)/P(B) = {kit.fmt(_pa * _pb / _pb, 2)} = P(A)$: learning "
        f"that B happened tells you nothing about A.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - A random variable maps outcomes to numbers; its expectation is the
      probability-weighted average, its variance the weighted squared spread.
    - A softmax output is a categorical distribution; normal and uniform
      distributions appear at initialisation and in every sampler.
    - Sample means converge to the expectation, with error about
      $\sigma/\sqrt{n}$: four times the data halves it.
    - Independence means the joint factorises, $P(A, B) = P(A)P(B)$, for
      every pair of values; counts test it.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("random_variables")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("random_variables")
    return


@app.cell
def test_word_length_moments_by_hand(lengths, mean_len, var_len, word_probs, words):
    _mean = sum(_p * len(_w) for _p, _w in zip(word_probs, words, strict=True))
    _var = sum(_p * (len(_w) - _mean) ** 2 for _p, _w in zip(word_probs, words, strict=True))
    assert abs(mean_len - _mean) < 1e-12
    assert abs(var_len - _var) < 1e-12
    assert list(lengths) == [len(_w) for _w in words]
    return


@app.cell
def test_running_mean_and_variance(running_mean, sample, sample_mean, sample_var):
    _total = 0.0
    for _k, _x in enumerate(sample[:50], start=1):
        _total += float(_x)
        assert abs(running_mean[_k - 1] - _total / _k) < 1e-12
    _m = sum(float(_x) for _x in sample) / len(sample)
    _v = sum((float(_x) - _m) ** 2 for _x in sample) / len(sample)
    assert abs(sample_mean - _m) < 1e-9 and abs(sample_var - _v) < 1e-9
    return


@app.cell
def test_closed_forms_by_integration(np, params, prob, truth):
    # normal: the density from its formula with math, then moments by a Riemann sum
    import math as _math

    _mu, _sigma = params["normal"]
    _x = np.linspace(_mu - 12 * _sigma, _mu + 12 * _sigma, 200_001)
    _dx = _x[1] - _x[0]
    _pdf = np.array([_math.exp(-((_t - _mu) ** 2) / (2 * _sigma**2)) /
                     (_sigma * _math.sqrt(2 * _math.pi)) for _t in _x[::1000]])
    assert np.allclose(prob.normal_pdf(_x[::1000], _mu, _sigma), _pdf, rtol=1e-12)
    _dens = prob.normal_pdf(_x, _mu, _sigma)
    _m = np.sum(_x * _dens) * _dx
    assert abs(_m - truth["normal"][0]) < 1e-9
    assert abs(np.sum((_x - _m) ** 2 * _dens) * _dx - truth["normal"][1]) < 1e-8
    # uniform: the mean and variance of an evenly spaced grid on [a, b] tend to the closed forms
    _a, _b = params["uniform"]
    _g = np.linspace(_a, _b, 1_000_001)
    assert abs(_g.mean() - truth["uniform"][0]) < 1e-9
    assert abs(_g.var() - truth["uniform"][1]) < 1e-5
    return


@app.cell
def test_spread_of_sample_means(params, predicted, sizes, spread):
    _sigma = params["normal"][1]
    for _n, _pred, _meas in zip(sizes, predicted, spread, strict=True):
        assert abs(_pred - _sigma / _n**0.5) < 1e-15
        # 2000 repeats: the measured sd is within 10% of sigma / sqrt(n) (about 6 standard errors)
        assert abs(_meas / _pred - 1) < 0.1, (_n, _meas, _pred)
    return


@app.cell
def test_independence_counts_by_loop(checks, dice, joint_counts, np, pairs):
    _counts = {}
    for _x, _y in dice[:5000]:
        _counts[(_x, _y)] = _counts.get((_x, _y), 0) + 1
    _head = np.zeros((6, 6))
    np.add.at(_head, (dice[:5000, 0] - 1, dice[:5000, 1] - 1), 1)
    for (_x, _y), _c in _counts.items():
        assert _head[_x - 1, _y - 1] == _c
    assert joint_counts.sum() == len(dice)
    # P(A, B) for the first pair by counting rows
    _both = sum(1 for _x, _y in dice if _x == 6 and _y == 6) / len(dice)
    _a = sum(1 for _x, _y in dice if _x == 6) / len(dice)
    _b = sum(1 for _x, _y in dice if _y == 6) / len(dice)
    assert checks[0][:2] == pairs[0]
    assert abs(checks[0][2] - _both) < 1e-12 and abs(checks[0][3] - _a * _b) < 1e-12
    return


if __name__ == "__main__":
    app.run()
