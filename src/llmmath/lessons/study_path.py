import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="A two-week study path")


@app.cell
def _():
    import ast
    import re

    import marimo as mo
    import numpy as np

    from llmmath.ledger import claims
    from llmmath.lessons import LESSONS, PILLARS, get_lesson
    from llmmath.lessons import _kit as kit

    return LESSONS, PILLARS, ast, claims, get_lesson, kit, mo, np, re


@app.cell(hide_code=True)
def _(kit):
    kit.header("study_path")
    return


@app.cell(hide_code=True)
def _(LESSONS, mo, plan):
    _lesson_days = sum(1 for _d in plan if _d["new"])
    mo.md(f"""
    ## Why a plan

    The course has {len(LESSONS)} lessons, and they lean on each other:
    gradients are written with matrix products, the training loss is a
    cross-entropy, and evaluation needs statistics. Taken in order, each
    lesson reuses what the previous ones built. This page spreads them over
    {len(plan)} days: the first {_lesson_days} introduce the lessons, pillar
    by pillar; the last {len(plan) - _lesson_days} put them to work on a real
    model trained on your machine with `llmmath`, each day sending you back
    to the lessons it uses. Tick a day off when it is done; the plan below
    and its picture are computed from the course catalog, so they stay right
    when lessons are added.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.formula(
        r"n_j = \left\lfloor \frac{n}{k} \right\rfloor + "
        r"\begin{cases} 1 & j \le n \bmod k \\ 0 & \text{otherwise} \end{cases}, "
        r"\qquad j = 1, \dots, k",
        caption=(
            r"How a block of the plan shares its lessons out: $n$ lessons over $k$ days, "
            r"in course order, as evenly as possible, with the earlier days taking one "
            r"extra when the division leaves a remainder (NumPy's `array_split` rule)."
        ),
    )
    return


@app.cell
def _(mo):
    # Days 1-8: the pillars whose lessons are new on those days (in this order).
    LESSON_BLOCKS = (
        (2, ("study path", "foundations", "linear algebra")),
        (2, ("calculus",)),
        (2, ("probability",)),
        (1, ("information theory", "optimisation")),
        (1, ("evaluation", "tools")),
    )
    # Days 9-14: hands-on days. Title, commands to run, what to look for, lessons to
    # go back to.
    PRACTICE_DAYS = (
        ("Check the syllabus's numbers",
         ("llmmath verify", "llmmath verify --show 001-spectral-gap-focus"),
         "each ✗ is a statement of the syllabus that the ledger found wrong; "
         "find the lesson that teaches the correct value",
         ("why_math",)),
        ("Train the tiny model",
         ("llmmath train --preset tiny",),
         "the loss starts near log V, the loss of a uniform guess over the V "
         "characters, and falls; loss.png shows it",
         ("optimisation", "cross_entropy_grad")),
        ("Generate text",
         ("llmmath sample out-tiny --temperature 0.5",
          "llmmath sample out-tiny --temperature 1.5 --top-p 0.9"),
         "low temperatures repeat themselves, high ones invent words",
         ("sampling",)),
        ("Measure the model",
         ("llmmath eval out-tiny",),
         "bits per character and perplexity beside the n-gram baselines",
         ("information", "ngrams")),
        ("Look inside the attention",
         ("llmmath attention out-tiny",),
         "every head's π sits on position 0, as causal attention forces; the received "
         "attention and the entropies tell the heads apart",
         ("attention", "attention_spectrum")),
        ("Is a second run better?",
         ("llmmath train --preset tiny --seed 1 --out-dir out-tiny-seed1",
          "llmmath compare out-tiny out-tiny-seed1"),
         "whether the interval of the loss difference contains 0",
         ("evaluation",)),
    )
    mo.show_code()
    return LESSON_BLOCKS, PRACTICE_DAYS


@app.cell
def _(LESSONS, LESSON_BLOCKS, PRACTICE_DAYS, mo, np):
    plan = []  # one dict per day
    for _n_days, _pillars in LESSON_BLOCKS:
        _names = [les.name for p in _pillars for les in LESSONS if les.pillar == p]
        for _share in np.array_split(np.array(_names, dtype=object), _n_days):
            plan.append({"day": len(plan) + 1, "new": list(_share), "revisit": [],
                         "commands": [], "title": None, "look_for": None})
    for _title, _commands, _look, _revisit in PRACTICE_DAYS:
        plan.append({"day": len(plan) + 1, "new": [], "revisit": list(_revisit),
                     "commands": list(_commands), "title": _title, "look_for": _look})
    mo.show_code()
    return (plan,)


@app.cell(hide_code=True)
def _(LESSONS, re):
    # What each lesson asks of the reader, counted from its file.
    _calls = re.compile(r"kit\.check_yourself\(")
    _controls = re.compile(
        r"mo\.ui\.(slider|switch|dropdown|checkbox|radio|number|range_slider|multiselect)\(")
    lesson_facts = {}
    for _les in LESSONS:
        _text = _les.path.read_text(encoding="utf-8") if _les.path.exists() else ""
        lesson_facts[_les.name] = {
            "written": _les.path.exists(),
            "questions": len(_calls.findall(_text)),
            "controls": len(_controls.findall(_text)),
        }
    return (lesson_facts,)


@app.cell(hide_code=True)
def _(get_lesson, kit, lesson_facts):
    def lesson_link(name):
        """'n. Title' linked to the lesson, or plain text while its file does not exist."""
        _les = get_lesson(name)
        _label = f"{_les.number}. {_les.title}"
        if not lesson_facts[name]["written"]:
            return f"{_label} <small>(not written yet)</small>"
        return f"[{_label}]({kit.lesson_href(name)})"

    return (lesson_link,)


@app.cell(hide_code=True)
def _(get_lesson, lesson_facts, lesson_link, plan):
    def _day_text(day):
        _lines = []
        if day["new"]:
            _pillars = sorted({get_lesson(n).pillar for n in day["new"]},
                              key=lambda p: min(get_lesson(n).number for n in day["new"]
                                                if get_lesson(n).pillar == p))
            _q = sum(lesson_facts[n]["questions"] for n in day["new"])
            _c = sum(lesson_facts[n]["controls"] for n in day["new"])
            _head = f"**Day {day['day']} · {', '.join(_pillars)}** ({len(day['new'])} lessons)"
            _lines.append(_head)
            _lines += [f"- read {lesson_link(n)}" for n in day["new"]]
            _lines.append(f"- move each of the {_c} controls and watch what changes")
            _lines.append(f"- answer the {_q} check-yourself questions before opening them")
        else:
            _lines.append(f"**Day {day['day']} · {day['title']}**")
            _lines += [f"- run `{c}`" for c in day["commands"]]
            _lines.append(f"- look for: {day['look_for']}")
            _lines += [f"- go back to {lesson_link(n)}" for n in day["revisit"]]
        return "\n".join(_lines)

    day_texts = [_day_text(day) for day in plan]
    return (day_texts,)


@app.cell(hide_code=True)
def _(mo, plan):
    day_checks = mo.ui.array([mo.ui.checkbox(label="done") for _ in plan])
    return (day_checks,)


@app.cell(hide_code=True)
def _(LESSONS, day_checks, kit, mo, plan):
    done_days = [day["day"] for day, ok in zip(plan, kit.value(day_checks), strict=True) if ok]
    lessons_read = sum(len(day["new"]) for day in plan if day["day"] in done_days)
    mo.md(f"""
    ## Your progress

    <progress value="{len(done_days)}" max="{len(plan)}" style="width: 60%; height: 1.2em"></progress>

    **{len(done_days)} of {len(plan)} days** done ({kit.pct(len(done_days) / len(plan), 0)});
    {lessons_read} of {len(LESSONS)} lessons read. The ticks live in this page
    only: reloading it clears them.
    """)
    return done_days, lessons_read


@app.cell(hide_code=True)
def _(LESSONS, PILLARS, done_days, kit, mo, plan):
    _pillars = [p for p in PILLARS if any(les.pillar == p for les in LESSONS)]
    _colors = dict(zip(_pillars, ["#6baed6", "#3182bd", "#e6550d", "#fd8d3c", "#31a354",
                                  "#756bb1", "#636363", "#bdbdbd", "#9e9ac8"], strict=False))
    _pillar_of = {les.name: les.pillar for les in LESSONS}
    _fig, (_ax0, _ax1) = kit.figure(1, 2, size=(9.0, 3.2), width_ratios=[2.2, 1],
                                     margins={"wspace": 1.45})  # room for pillar names
    for _day in plan:
        _bottom = 0
        for _name in _day["new"]:
            _ax0.bar(_day["day"], 1, bottom=_bottom, color=_colors[_pillar_of[_name]],
                     edgecolor="white", alpha=1.0 if _day["day"] in done_days else 0.45)
            _bottom += 1
        for _name in _day["revisit"]:
            _ax0.bar(_day["day"], 1, bottom=_bottom, color="white", hatch="///",
                     edgecolor=_colors[_pillar_of[_name]])
            _bottom += 1
        if _day["day"] in done_days:
            _ax0.text(_day["day"], _bottom + 0.1, "✓", ha="center", color="#31a354",
                      fontsize=12)
    _ax0.set_xticks([d["day"] for d in plan])
    _ax0.set_xlabel("day")
    _ax0.set_ylabel("lessons")
    _ax0.set_yticks(range(max(len(d["new"]) + len(d["revisit"]) for d in plan) + 1))
    _ax0.set_ylim(0, max(len(d["new"]) + len(d["revisit"]) for d in plan) + 1)
    _ax0.set_title("solid: new lessons · hatched: lessons to revisit")
    _counts = [sum(les.pillar == p for les in LESSONS) for p in _pillars]
    _ax1.barh(range(len(_pillars)), _counts, color=[_colors[p] for p in _pillars])
    _ax1.set_yticks(range(len(_pillars)), labels=_pillars)
    _ax1.invert_yaxis()
    _ax1.set_xlabel("lessons in the course")
    _ax1.set_title("by pillar")
    kit.show(_fig, alt="lessons per day of the plan, coloured by pillar, and lessons per pillar")
    return


@app.cell(hide_code=True)
def _(day_checks, day_texts, mo, plan):
    _week = sum(1 for _d in plan if _d["new"])  # the last day that brings new lessons
    _cards = [
        mo.hstack([day_checks[_i], mo.md(day_texts[_i])], justify="start", gap=1,
                  align="start", widths=[1, 12])
        for _i in range(len(plan))
    ]
    mo.vstack([
        mo.md("## The plan"),
        mo.md(f"### Days 1–{_week}: the lessons, pillar by pillar"),
        *_cards[:_week],
        mo.md(f"### Days {_week + 1}–{len(plan)}: a model of your own"),
        *_cards[_week:],
    ], gap=0.8)
    return


@app.cell(hide_code=True)
def _(kit, mo):
    mo.vstack([
        mo.md(r"""
        The syllabus proposes a two-week plan of its own, organised by
        topic blocks rather than by lessons; the ledger checked that its
        blocks fit its two weeks exactly:
        """),
        kit.claim_badge("002-two-week-plan"),
    ])
    return


@app.cell(hide_code=True)
def _(get_lesson, kit, plan):
    _busiest = max(plan, key=lambda d: len(d["new"]))
    kit.check_yourself(
        "Which day of the plan introduces the most lessons, and how many?",
        f"Day {_busiest['day']}, with {len(_busiest['new'])}: "
        f"{'; '.join(get_lesson(_n).title for _n in _busiest['new'])}. Blocks with more "
        f"lessons than days give the "
        f"extra ones to their earlier days (the formula above).",
    )
    return


@app.cell(hide_code=True)
def _(claims, kit):
    _all = claims()
    _errata = [c for c in _all if c.status == "erratum"]
    _open = [c for c in _all if c.status == "unverifiable"]
    kit.check_yourself(
        "Which command checks every number the syllabus states, and how many of "
        "those statements turn out to be wrong?",
        f"`llmmath verify`. The ledger holds {len(_all)} statements: "
        f"{len(_all) - len(_errata) - len(_open)} verified, {len(_errata)} errata and "
        f"{len(_open)} that no computation can settle. Each erratum is shown in the "
        f"lesson that teaches the topic, with the correct value; "
        f"`llmmath verify --show ID` explains one.",
    )
    return


@app.cell(hide_code=True)
def _(kit):
    _first, _second = "vectors", "derivatives"
    kit.check_yourself(
        "Why does the plan put linear algebra before calculus?",
        f"The gradients of a network are written with the same matrix products and "
        f"shapes as its forward pass: the gradient of $y = xW$ with respect to $W$ is "
        f"$x^\\top$ times the incoming gradient. Reading "
        f"[the lesson on vectors]({kit.lesson_href(_first)}) first makes "
        f"[the one on derivatives]({kit.lesson_href(_second)}) a matter of calculus "
        f"alone.",
    )
    return


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    ## What to remember

    - Follow the course order: each pillar builds on the previous ones.
    - Move every control and answer the questions before opening them.
    - `llmmath verify` checks every number the syllabus states.
    - `llmmath train --preset tiny`, `sample`, `eval`, `attention` and
      `compare` turn the lessons into measurements on a model of your own.
    """)
    return


@app.cell(hide_code=True)
def _(kit):
    kit.footer("study_path")
    return


@app.cell
def test_every_lesson_is_new_exactly_once(LESSONS, plan):
    _seen = {}
    for _day in plan:
        for _name in _day["new"]:
            _seen[_name] = _seen.get(_name, 0) + 1
    assert _seen == {_les.name: 1 for _les in LESSONS}
    # new lessons come in course order, except the plan itself, read on day 1
    _order = [_n for _day in plan for _n in _day["new"] if _n != "study_path"]
    assert _order == [_les.name for _les in LESSONS if _les.name != "study_path"]
    assert "study_path" in plan[0]["new"]
    return


@app.cell
def test_fourteen_consecutive_days(LESSON_BLOCKS, PRACTICE_DAYS, day_checks, kit, plan):
    assert [_d["day"] for _d in plan] == list(range(1, 7 * 2 + 1))
    assert len(plan) == sum(_k for _k, _p in LESSON_BLOCKS) + len(PRACTICE_DAYS)
    assert len(kit.value(day_checks)) == len(plan)
    for _d in plan:
        assert bool(_d["new"]) != bool(_d["commands"])  # a lesson day or a practice day
    # within a block, day loads differ by at most one lesson, earlier days first
    _start = 0
    for _k, _pillars in LESSON_BLOCKS:
        _sizes = [len(_d["new"]) for _d in plan[_start:_start + _k]]
        assert max(_sizes) - min(_sizes) <= 1 and _sizes == sorted(_sizes, reverse=True)
        _start += _k
    return


@app.cell
def test_links_resolve_to_lesson_files(LESSONS, day_texts, kit, re):
    _targets = {kit.lesson_href(_les.name): _les for _les in LESSONS}
    _links = [_m for _t in day_texts for _m in re.findall(r"\]\(([^)]+)\)", _t)]
    assert _links
    for _href in _links:
        assert _href in _targets, _href
        assert _targets[_href].path.is_file(), _href
    # every lesson the plan names is either linked or marked as not written yet
    for _les in LESSONS:
        _label = f"{_les.number}. {_les.title}"
        _mentions = [_t for _t in day_texts if _label in _t]
        assert _mentions, _les.name
        for _t in _mentions:
            assert (f"[{_label}]({kit.lesson_href(_les.name)})" in _t) == _les.path.is_file()
    return


@app.cell
def test_question_counts_match_the_syntax_tree(LESSONS, ast, lesson_facts):
    for _les in LESSONS:
        if not _les.path.is_file():
            assert lesson_facts[_les.name]["questions"] == 0
            continue
        _tree = ast.parse(_les.path.read_text(encoding="utf-8"))
        _n = sum(
            1 for _node in ast.walk(_tree)
            if isinstance(_node, ast.Call) and isinstance(_node.func, ast.Attribute)
            and _node.func.attr == "check_yourself"
        )
        assert lesson_facts[_les.name]["questions"] == _n, _les.name
    return


@app.cell
def test_progress_counts_the_ticked_days(day_checks, done_days, kit, lessons_read, plan):
    # holds for any ticks (none when the page opens)
    _ticked = [_i + 1 for _i, _ok in enumerate(kit.value(day_checks)) if _ok]
    assert done_days == _ticked
    _read = 0
    for _day in plan:
        if _day["day"] in _ticked:
            _read += len(_day["new"])
    assert lessons_read == _read
    return


if __name__ == "__main__":
    app.run()
