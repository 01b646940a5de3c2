import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="SVD, low-rank approximation and LoRA")


@app.cell
def _():
    import marimo as mo
    import numpy as np

    from llmmath import linalg
    from llmmath.autograd import Tensor
    from llmmath.lessons import _kit as kit
    from llmmath.optim import SGD

    return SGD, Tensor, kit, linalg, mo, np


@app.cell(hide_code=True)
def _(kit):
    kit.header("svd_lora")
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## Why this matters

    The weight matrices of a language model are large, yet many of them, and
    many of the *changes* made to them when a model is adapted to a new task,
    carry most of their content in a few directions. The **singular value
    decomposition** finds those directions and ranks them by importance.
    Keeping only the top few gives the best possible compressed copy of a
    matrix, with an error we can read off in advance. **LoRA** turns the
    same idea around: instead of learning a full update to a weight matrix,
    learn a product of two thin matrices, and train a small fraction of the
    parameters.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"M = U \Sigma V^{\top} = \sum_{i=1}^{k} \sigma_i\, u_i v_i^{\top}, \qquad "
        r"M_r = \sum_{i=1}^{r} \sigma_i\, u_i v_i^{\top}, \qquad "
        r"\frac{\|M - M_r\|_F}{\|M\|_F} = \sqrt{\frac{\sum_{i>r} \sigma_i^2}"
        r"{\sum_{i} \sigma_i^2}}",
        caption=(
            r"$M$ is any $m \times n$ matrix and $k = \min(m, n)$. The columns $u_i$ of "
            r"$U$ and $v_i$ of $V$ are orthonormal directions; the singular values "
            r"$\sigma_1 \ge \sigma_2 \ge \dots \ge 0$ say how much of $M$ lies along each "
            r"pair. $M_r$ keeps the first $r$ terms. $\|\cdot\|_F$ is the Frobenius norm "
            r"(the square root of the sum of all squared entries). By the Eckart–Young "
            r"theorem no matrix of rank $r$ is closer to $M$, and the error is exactly the "
            r"part of the singular values that was dropped."
        ),
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## A picture as a matrix

    Any grid of numbers is a matrix, and a greyscale picture makes the
    approximation visible. This one is drawn by formulas, not loaded from a
    file: a sky that brightens towards the horizon, a sun with a hard edge,
    a wavy line of hills, and a little seeded noise for grain.
    """)
    return


@app.cell
def _(mo, np):
    h, w = 96, 128
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w], dtype=float)[:, None, None]  # (h, w) each
    sky = 0.35 + 0.5 * y                                        # brighter lower down
    sun = ((x - 0.72) ** 2 + (y - 0.3) ** 2 < 0.12**2).astype(float)   # a disc
    hills = y > 0.68 + 0.08 * np.sin(2 * np.pi * 1.5 * x)        # below a wavy line
    grain = 0.02 * np.random.default_rng(0).standard_normal((h, w))  # like film grain
    picture = np.where(hills, 0.15 + 0.1 * np.sin(12 * x), sky + 0.6 * sun) + grain  # (h, w)
    mo.show_code()
    return h, picture, w


@app.cell
def _(mo, np, picture):
    U_pic, sigma, _ = np.linalg.svd(picture, full_matrices=False)  # sigma: largest first
    energy = sigma**2 / np.sum(sigma**2)                    # share of each, sums to 1
    # Eckart-Young: the error of rank r is what the dropped sigmas hold, r = 0 .. k
    errors = np.append(np.sqrt(np.cumsum(energy[::-1])[::-1]), 0.0)
    ranks = np.arange(len(errors))
    mo.show_code()
    return U_pic, errors, ranks, sigma


@app.cell(hide_code=True)
def _(errors, kit, mo, np, picture, sigma):
    _good = 0.1
    _r_good = int(np.argmax(errors <= _good))
    mo.md(f"""
    The picture is {picture.shape[0]} × {picture.shape[1]}, so it has
    {len(sigma)} singular values. The largest are
    {", ".join(kit.fmt(s, 2) for s in sigma[:5])}, …; they fall fast, because
    the sky and the hills are smooth, then level off at the grain. The formula turns them into the error
    of every rank at once, before any approximation is built: rank {_r_good}
    is already within {kit.pct(_good, 0)} of the picture.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    rank = mo.ui.slider(
        start=1, stop=40, step=1, value=4, show_value=True, label="rank r", debounce=False,
    )
    rank
    return (rank,)


@app.cell
def _(h, kit, linalg, mo, picture, rank, w):
    approx, rel_error = linalg.low_rank_approx(picture, kit.value(rank))   # (h, w), scalar
    numbers_kept = kit.value(rank) * (h + w + 1)     # r columns of U, r rows of V^T, r sigmas
    mo.show_code()
    return approx, numbers_kept, rel_error


@app.cell(hide_code=True)
def _(
    approx,
    errors,
    h,
    kit,
    mo,
    numbers_kept,
    picture,
    rank,
    ranks,
    rel_error,
    w,
):
    _fig, (_a0, _a1, _a2) = kit.figure(1, 3, size=(9.0, 2.6), width_ratios=[1, 1, 1.15])
    for _ax, _img, _title in [(_a0, picture, "the picture"), (_a1, approx, f"rank {kit.value(rank)}")]:
        _ax.imshow(_img, cmap="gray", vmin=0.0, vmax=1.3, interpolation="nearest")
        _ax.set_title(_title)
        _ax.axis("off")
    _a2.semilogy(ranks[1:-1], errors[1:-1], color="#3182bd")
    _a2.scatter([kit.value(rank)], [rel_error], color="#d62728", zorder=3)
    _a2.set_xlabel("rank r")
    _a2.set_ylabel("relative error")
    _a2.set_title(r"$\|M - M_r\|_F \,/\, \|M\|_F$")
    _a2.set_ylim(1e-3, 1.5)
    mo.vstack([
        kit.show(_fig, alt="the picture, its rank-r approximation and the error against r"),
        mo.md(f"""
        Rank {kit.value(rank)}: `low_rank_approx` measures a relative error of
        **{kit.pct(rel_error, 3)}**, and the formula predicted
        {kit.pct(errors[kit.value(rank)], 3)}. The approximation is stored in
        {numbers_kept:,} numbers instead of {h * w:,}
        ({kit.pct(numbers_kept / (h * w))}). The first few ranks draw the sky
        and the sun; the wavy edge of the hills needs many more.
        """),
    ])
    return


@app.cell
def _(U_pic, kit, linalg, mo, np, picture, rank):
    # Eckart-Young: no rank-r matrix does better. Try rank-r matrices near the optimum:
    # nudge the SVD's r column directions at random, then fit the picture within them.
    _rng = np.random.default_rng(0)
    nudged_errors = []
    for _ in range(20):
        _noise = _rng.standard_normal((picture.shape[0], kit.value(rank)))
        _noise *= 0.1 / linalg.norm(_noise, axis=0, keepdims=True)  # each column moves 0.1
        _basis, _ = np.linalg.qr(U_pic[:, :kit.value(rank)] + _noise)    # (h, r) orthonormal
        _guess = linalg.matmul(_basis, linalg.matmul(_basis.T, picture))  # rank <= r
        nudged_errors.append(linalg.norm(picture - _guess) / linalg.norm(picture))
    mo.show_code()
    return (nudged_errors,)


@app.cell(hide_code=True)
def _(kit, mo, nudged_errors, rank, rel_error):
    mo.md(f"""
    These {len(nudged_errors)} rank-{kit.value(rank)} matrices next to the truncated SVD
    have relative errors from {kit.pct(min(nudged_errors), 3)} to
    {kit.pct(max(nudged_errors), 3)}: every one is worse than the SVD's
    {kit.pct(rel_error, 3)}. Move the slider: the same holds at every rank.
    """)
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## LoRA: learn a low-rank change

    Fine-tuning changes a weight matrix $W_0$ of size $d_\text{out} \times
    d_\text{in}$ to $W_0 + \Delta W$. Training $\Delta W$ in full costs as many
    parameters as $W_0$ itself. LoRA (Hu et al. 2021) freezes $W_0$ and writes
    the change as a product of two thin matrices,

    $$\Delta W = B A, \qquad B \in \mathbb{R}^{d_\text{out} \times r}, \quad
    A \in \mathbb{R}^{r \times d_\text{in}},$$

    which has rank at most $r$ and holds $r\,(d_\text{in} + d_\text{out})$
    numbers instead of $d_\text{in}\, d_\text{out}$. $B$ starts at zero, so
    training starts exactly from the pretrained model.
    """)
    return


@app.cell
def _(linalg, mo):
    d, r_lora = 4096, 8
    lora_count = linalg.lora_param_count(d, d, r_lora)     # r (d_in + d_out)
    full_count = d * d
    reduction = linalg.lora_compression_ratio(d, d, r_lora)
    mo.show_code()
    return d, full_count, lora_count, r_lora, reduction


@app.cell(hide_code=True)
def _(d, full_count, kit, lora_count, mo, r_lora, reduction):
    mo.vstack([
        mo.md(f"""
        For a square $d \\times d$ matrix with $d = {d:,}$ and $r = {r_lora}$:
        $B$ and $A$ hold ${d:,} \\cdot {r_lora} + {r_lora} \\cdot {d:,} = {lora_count:,}$
        numbers, against ${d:,}^2 = {full_count:,}$: **{kit.fmt(reduction, 0)}
        times fewer**, or {kit.pct(lora_count / full_count, 2)} of the full update.
        The syllabus gives the same numbers:
        """),
        kit.claim_badge("001-lora-factorisation"),
        kit.claim_badge("001-lora-parameter-count"),
        kit.claim_badge("001-lora-reduction"),
        mo.md(f"""
        Why should a rank-{r_lora} change be enough? That is an observation about
        real fine-tuning runs, not a theorem, and no small computation can
        settle it:
        """),
        kit.claim_badge("001-lora-updates-are-low-rank"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    lora_rank = mo.ui.slider(
        steps=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048], value=8, show_value=True,
        label="LoRA rank r", debounce=False,
    )
    lora_rank
    return (lora_rank,)


@app.cell(hide_code=True)
def _(d, full_count, kit, linalg, lora_rank, mo, np):
    _r = kit.value(lora_rank)
    _count = linalg.lora_param_count(d, d, _r)
    _all_r = np.array([2**i for i in range(12)])
    _fig, _ax = kit.figure(size=(5.2, 3.0))
    _ax.loglog(_all_r, [linalg.lora_param_count(d, d, int(r)) for r in _all_r],
               marker="o", ms=3, color="#3182bd", label="LoRA, r (d + d)")
    _ax.axhline(full_count, color="#d62728", ls="--", label="full update, d²")
    _ax.scatter([_r], [_count], color="#d62728", s=50, zorder=3)
    _ax.set_xscale("log", base=2)
    _ax.set_xlabel("rank r")
    _ax.set_ylabel("trainable parameters")
    _ax.set_title(f"one {d:,} × {d:,} matrix")
    _ax.legend(frameon=False, loc="lower right")
    mo.hstack([
        kit.show(_fig, alt="LoRA parameter count against rank, with the full count"),
        mo.vstack([
            mo.md(f"""
            r = {_r}: **{_count:,}** trainable numbers,
            {kit.pct(_count / full_count, 2)} of {full_count:,}.
            """),
            mo.md(f"""
            The count grows linearly in $r$; at $r = d/2 = {d // 2:,}$ it equals
            the full matrix, and LoRA saves nothing.
            """),
        ]),
    ], justify="start", gap=2, align="center")
    return


@app.cell(hide_code=True)
def _(fits, mo, momentum, true_rank):
    mo.md(f"""
    ## A LoRA update, trained

    Below, a frozen matrix $W_0$ gets a "fine-tuned" target $W_0 + \\Delta W$,
    where $\\Delta W$ is a random matrix of rank {true_rank}. We train only $B$
    and $A$, starting from $B = 0$ as LoRA does, with gradient descent
    (momentum {momentum}) on $\\tfrac12\\|W_0 + BA - (W_0 + \\Delta W)\\|_F^2$,
    once for each of the ranks {", ".join(str(r) for r in fits)}.
    """)
    return


@app.cell
def _(SGD, Tensor, linalg, mo, np):
    d_out, d_in, true_rank = 48, 40, 4
    momentum = 0.9
    _rng = np.random.default_rng(0)
    W0 = _rng.standard_normal((d_out, d_in))                  # frozen "pretrained" weights
    delta = (_rng.standard_normal((d_out, true_rank)) @ _rng.standard_normal((true_rank, d_in))
             / np.sqrt(true_rank * d_in))                      # the change to learn: rank 4
    W_target = W0 + delta

    def train_lora(r, steps=400, lr=0.02):
        B = Tensor(np.zeros((d_out, r)), requires_grad=True)    # (d_out, r), zero at start
        A = Tensor(np.random.default_rng(1).standard_normal((r, d_in)) / np.sqrt(d_in),
                   requires_grad=True)                          # (r, d_in)
        opt = SGD([B, A], lr=lr, momentum=momentum)
        frozen, target = Tensor(W0), Tensor(W_target)
        history = []
        for _ in range(steps):
            diff = frozen + B @ A - target                      # (d_out, d_in)
            loss = 0.5 * (diff * diff).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            history.append(linalg.norm(B.data @ A.data - delta) / linalg.norm(delta))
        return B.data @ A.data, np.array(history)

    fits = {r: train_lora(r) for r in (2, true_rank, 8)}       # rank -> (B A, error per step)
    mo.show_code()
    return delta, fits, momentum, true_rank


@app.cell(hide_code=True)
def _(delta, fits, kit, linalg, mo, np, true_rank):
    _fig, _ax = kit.figure(size=(5.6, 3.2))
    _colors = {2: "#e6550d", true_rank: "#3182bd", 8: "#31a354"}
    for _r, (_ba, _hist) in fits.items():
        _ax.semilogy(np.arange(1, len(_hist) + 1), np.maximum(_hist, 1e-16),
                     color=_colors[_r], label=f"r = {_r}")
        _floor = linalg.low_rank_approx(delta, _r)[1]
        if _floor > 1e-12:
            _ax.axhline(_floor, color=_colors[_r], ls=":", lw=1,
                        label=f"best possible at r = {_r}")
    _ax.set_xlabel("training step")
    _ax.set_ylabel("‖BA − ΔW‖ / ‖ΔW‖")
    _ax.set_ylim(1e-12, 2)
    _ax.legend(frameon=False, fontsize=8, loc="lower left")
    _low, _big = min(fits), max(fits)

    def _small(v):
        return kit.fmt(v, 10) if v >= 1e-3 else f"{v:.1e}"

    _rows = [
        (f"r = {_r}", _small(_h[-1]),
         _small(linalg.low_rank_approx(delta, _r)[1]),
         str(np.linalg.matrix_rank(_ba)))
        for _r, (_ba, _h) in fits.items()
    ]
    _md = ["| | error after training | Eckart–Young bound | rank of BA |", "|:--|--:|--:|--:|"]
    _md += [f"| {a} | {b} | {c} | {e} |" for a, b, c, e in _rows]
    mo.hstack([
        kit.show(_fig, alt="training curves of three LoRA ranks"),
        mo.vstack([
            mo.md("\n".join(_md)),
            mo.md(f"""
            With $r \\ge {true_rank}$ the product $BA$ closes in on $\\Delta W$
            itself: after {len(fits[_big][1])} steps the relative error is at most
            {max(fits[_r][1][-1] for _r in fits if _r >= true_rank):.0e}, and still
            falling. Extra rank does no harm: with $r = {_big}$, $BA$
            still has rank {true_rank}, the spare directions unused. With
            $r = {_low}$ the error stops exactly at the Eckart–Young bound:
            training finds the best rank-{_low} matrix there is, the truncated
            SVD of $\\Delta W$.
            """),
        ]),
    ], justify="start", gap=2, align="center")
    return


@app.cell(hide_code=True)
def _(kit, sigma):
    _r = 3
    kit.check_yourself(
        f"The picture's singular values start {', '.join(kit.fmt(s, 2) for s in sigma[:4])}. "
        f"Without running anything, what is the relative error of the best rank-{_r} "
        f"approximation, in terms of the σ's?",
        f"$\\sqrt{{\\sum_{{i>{_r}}} \\sigma_i^2 / \\sum_i \\sigma_i^2}}$: drop the first "
        f"{_r} squared singular values from the total. Here that is "
        f"{kit.pct(float((sigma[_r:] ** 2).sum() / (sigma**2).sum()) ** 0.5)}.",
    )
    return


@app.cell(hide_code=True)
def _(kit, linalg):
    _d_in, _d_out, _r = 768, 3072, 16
    kit.check_yourself(
        f"A LoRA adapter of rank {_r} on a {_d_out} × {_d_in} weight (an MLP layer of a "
        f"model of width {_d_in}). How many parameters does it train, and how many "
        f"times fewer than a full update?",
        f"$r(d_\\text{{in}} + d_\\text{{out}}) = {_r} \\cdot ({_d_in} + {_d_out}) = "
        f"{linalg.lora_param_count(_d_in, _d_out, _r):,}$ against "
        f"{_d_in * _d_out:,}: "
        f"{kit.fmt(linalg.lora_compression_ratio(_d_in, _d_out, _r), 1)} times fewer.",
    )
    return


@app.cell(hide_code=True)
def _(fits, kit):
    _hist = fits[2][1]
    kit.check_yourself(
        "Why could training with r = 2 not get below its dotted line, however long it ran?",
        f"$BA$ has rank at most 2, and by Eckart–Young no rank-2 matrix is closer to "
        f"$\\Delta W$ than its truncated SVD, whose relative error is the dotted line. "
        f"Training reached {kit.fmt(_hist[-1], 6)}: the bound itself.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - The SVD writes any matrix as a sum of rank-1 pieces $\sigma_i u_i
      v_i^\top$, largest first.
    - Keeping the first $r$ gives the best rank-$r$ approximation
      (Eckart–Young); the relative error is
      $\sqrt{\sum_{i>r}\sigma_i^2 / \sum_i \sigma_i^2}$.
    - LoRA learns $\Delta W = BA$ with $r(d_\text{in} + d_\text{out})$
      parameters instead of $d_\text{in} d_\text{out}$.
    - A rank-$r$ update can represent any change of rank up to $r$ exactly,
      and the best rank-$r$ part of anything else.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    exercises = kit.exercises("svd_lora")
    exercise_buttons = exercises.buttons
    return exercise_buttons, exercises


@app.cell(hide_code=True)
def _(exercise_buttons, exercises, kit):
    exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("svd_lora")
    return


@app.cell
def test_error_is_the_residual_norm(approx, kit, np, picture, rank, rel_error):
    _residual = float(np.sqrt(((picture - approx) ** 2).sum()))
    _whole = float(np.sqrt((picture**2).sum()))
    assert abs(rel_error - _residual / _whole) < 1e-12
    assert np.linalg.matrix_rank(approx) == kit.value(rank)
    return


@app.cell
def test_eckart_young_from_eigenvalues(
    errors, linalg, np, nudged_errors, picture, rel_error
):
    # the squared singular values are the eigenvalues of M M^T (a symmetric eigensolver,
    # not the SVD used by the library)
    _lam = np.clip(np.sort(np.linalg.eigvalsh(picture @ picture.T))[::-1], 0.0, None)
    _total = _lam.sum()
    for _r in (0, 1, 2, 5, 10, 30):
        _expected = np.sqrt(_lam[_r:].sum() / _total)
        assert abs(errors[_r] - _expected) < 1e-7, _r
        _m_r, _err = linalg.low_rank_approx(picture, _r)
        assert abs(_err - _expected) < 1e-7, _r
        _direct = np.sqrt(((picture - _m_r) ** 2).sum() / (picture**2).sum())
        assert abs(_direct - _expected) < 1e-7, _r
    # errors[0] is the square root of a sum of energy fractions: 1 only up to the last bit,
    # which depends on the BLAS kernels (0.9999999999999999 with OpenBLAS's Haswell ones);
    # errors[-1] is the 0.0 appended for the full rank: exact by construction
    assert abs(errors[0] - 1.0) < 1e-12 and errors[-1] == 0.0
    assert np.all(np.diff(errors) <= 1e-15)
    assert min(nudged_errors) > rel_error
    return


@app.cell
def test_lora_counts_by_hand(
    d,
    full_count,
    kit,
    linalg,
    lora_count,
    lora_rank,
    np,
    r_lora,
    reduction,
):
    _B, _A = np.empty((d, r_lora)), np.empty((r_lora, d))
    assert lora_count == _B.size + _A.size
    assert full_count == np.broadcast_to(0.0, (d, d)).size
    # exact: both sides are one correctly rounded division of the same rational d / (2 r)
    assert reduction == d / (2 * r_lora)
    _r = kit.value(lora_rank)
    assert linalg.lora_param_count(d, d, _r) == 2 * d * _r
    return


@app.cell
def test_trained_adapter_recovers_the_change(delta, fits, np, true_rank):
    _lam = np.sort(np.linalg.eigvalsh(delta @ delta.T))[::-1]
    _lam = np.clip(_lam, 0.0, None)
    assert _lam[true_rank] < 1e-12 * _lam[0]  # delta really has rank 4
    for _r in (true_rank, 8):
        _ba, _hist = fits[_r]
        assert np.linalg.norm(_ba - delta) / np.linalg.norm(delta) < 1e-6
    _ba2, _hist2 = fits[2]
    _floor = np.sqrt(_lam[2:].sum() / _lam.sum())
    assert _hist2[-1] >= _floor - 1e-9 and _hist2[-1] - _floor < 1e-6
    assert np.linalg.matrix_rank(_ba2) <= 2
    return


if __name__ == "__main__":
    app.run()
