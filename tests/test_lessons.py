"""The lesson harness: every notebook in ``llmmath.lessons.LESSONS``.

For each lesson, one subprocess (run once, shared by the five tests below):

1. loads the notebook and runs it top to bottom headless (``app.run()``, with
   NumPy's RuntimeWarnings turned into errors), timing the run;
2. runs pytest on the notebook itself, which collects its ``test_`` cells;
3. checks every figure it shows with ``kit.layout_problems`` (no text cut
   off at the edge, no panel's labels over another panel).

A single ``marimo check --strict --format json`` call covers all lessons.
Run times go to ``artifacts/lesson_times/<name>.json`` and are printed; they
are recorded, never asserted (the machine is shared). A lesson whose file is
missing fails every test here: that is the signal that it is still to write.

Also here: unit tests of the shared helpers in ``llmmath.lessons._kit``.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from llmmath.lessons import LESSON_DIR, LESSONS, PILLARS, Lesson

ROOT = Path(__file__).resolve().parents[1]
TIMES_DIR = ROOT / "artifacts" / "lesson_times"
RUN_TIMEOUT_S = 300  # a hung notebook fails instead of stalling the suite

# Executed in a fresh interpreter: python -c DRIVER <lesson.py> <name> <result.json>
DRIVER = r"""
import importlib.util, json, os, sys, time, traceback, warnings
path, name, result_path = sys.argv[1:4]
result = {"name": name, "run_error": None, "load_s": None, "run_s": None, "layout": []}
t0 = time.perf_counter()
# every figure the lesson shows is checked against its fixed layout
from llmmath.lessons import _kit
_show = _kit.show
def _checked_show(fig, alt="figure"):
    shown = _show(fig, alt)
    problems = _kit.layout_problems(fig)
    if problems:
        result["layout"].append({"figure": alt, "problems": problems})
    return shown
_kit.show = _checked_show
try:
    spec = importlib.util.spec_from_file_location(f"_lesson_run_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    t1 = time.perf_counter()
    result["load_s"] = t1 - t0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        module.app.run()
    result["run_s"] = time.perf_counter() - t1
except BaseException:
    result["run_error"] = traceback.format_exc()[-4000:]

import pytest

class Recorder:
    def __init__(self):
        self.collected, self.outcomes = [], []
    def pytest_collection_finish(self, session):
        self.collected = [item.nodeid for item in session.items]
    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.failed:
            self.outcomes.append({"nodeid": report.nodeid, "when": report.when,
                                  "outcome": report.outcome,
                                  "longrepr": str(report.longrepr)[-3000:] if report.failed else ""})

recorder = Recorder()
t2 = time.perf_counter()
result["pytest_exit"] = int(pytest.main(
    [path, "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:xdist",
     "--assert=plain", "-o", "addopts=", "-o", "python_files=" + os.path.basename(path),
     "-o", "python_functions=test_*"],
    plugins=[recorder]))
result["tests_s"] = time.perf_counter() - t2
result["collected"] = recorder.collected
result["outcomes"] = recorder.outcomes
with open(result_path, "w", encoding="utf-8") as f:
    json.dump(result, f)
"""


def _params() -> list:
    return [
        pytest.param(lesson, id=lesson.name, marks=[
            getattr(pytest.mark, f"lesson_{lesson.name}"),
            pytest.mark.xdist_group(f"lesson_{lesson.name}"),
        ])
        for lesson in LESSONS
    ]


def _require_file(lesson: Lesson) -> None:
    if not lesson.path.exists():
        pytest.fail(f"lesson {lesson.name!r}: notebook {lesson.path} does not exist yet")


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@functools.cache
def _run(name: str) -> dict:
    """Run lesson ``name`` headless and collect its test cells (once per process)."""
    lesson = next(les for les in LESSONS if les.name == name)
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        # A clean interpreter: the outer run's PYTEST_* variables would stop
        # marimo from turning test_ cells into pytest functions.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env.update(MPLBACKEND="Agg", PYTHONHASHSEED="0")
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, str(lesson.path), name, str(result_path)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
            check=False)
        wall = time.perf_counter() - t0
        if not result_path.exists():
            pytest.fail(f"lesson {name!r}: the harness process died (exit {done.returncode}):\n"
                        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        result = json.loads(result_path.read_text(encoding="utf-8"))
    result["process_s"] = wall
    result["pytest_output"] = done.stdout[-6000:]
    record = {k: result.get(k) for k in ("name", "load_s", "run_s", "tests_s", "process_s")}
    record["n_test_cells"] = len(result.get("collected", []))
    record["budget_s"] = 10.0
    _write_atomic(TIMES_DIR / f"{name}.json", json.dumps(record, indent=2) + "\n")
    return result


@functools.cache
def _check_all() -> tuple[int, dict[str, list[dict]], str]:
    """``marimo check --strict --format json`` over every lesson file present."""
    files = [str(lesson.path) for lesson in LESSONS if lesson.path.exists()]
    if not files:
        return 0, {}, ""
    done = subprocess.run(
        [sys.executable, "-m", "marimo", "check", "--strict", "--format", "json", *files],
        cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.returncode, {}, done.stdout + done.stderr
    issues: dict[str, list[dict]] = {}
    for issue in report.get("issues", []):
        issues.setdefault(str(Path(issue.get("filename", "?")).resolve()), []).append(issue)
    return done.returncode, issues, done.stdout + done.stderr


# ------------------------------------------------------------ per lesson

@pytest.mark.parametrize("lesson", _params())
def test_lesson_file_exists(lesson: Lesson) -> None:
    _require_file(lesson)


@pytest.mark.parametrize("lesson", _params())
def test_lesson_runs_headless(lesson: Lesson) -> None:
    _require_file(lesson)
    result = _run(lesson.name)
    assert result["run_error"] is None, (
        f"lesson {lesson.name!r} fails when run top to bottom:\n{result['run_error']}")
    print(f"{lesson.name}: headless run {result['run_s']:.2f} s "
          f"(load {result['load_s']:.2f} s; whole process {result['process_s']:.2f} s; "
          f"recorded in {TIMES_DIR / (lesson.name + '.json')})")


@pytest.mark.parametrize("lesson", _params())
def test_lesson_figures_fit(lesson: Lesson) -> None:
    """Figures sit at fixed margins: no text may fall off the canvas or onto a neighbour."""
    _require_file(lesson)
    result = _run(lesson.name)
    assert result["run_error"] is None, result["run_error"]
    assert not result["layout"], f"{lesson.name}: figures that do not fit:\n" + "\n".join(
        f"  {f['figure']}: {'; '.join(f['problems'])}" for f in result["layout"])


@pytest.mark.parametrize("lesson", _params())
def test_lesson_reads_controls_through_kit_value(lesson: Lesson) -> None:
    """A control's value comes from the browser: every cell reads it via ``kit.value``.

    ``kit.value`` holds it to the control's range (a posted depth of 100000 on a
    slider that stops at 30 computes with 30); a bare ``control.value`` would not.
    """
    _require_file(lesson)
    tree = ast.parse(lesson.path.read_text(encoding="utf-8"))
    controls = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                and _is_ui_call(node.value) for target in node.targets
                if isinstance(target, ast.Name)}
    bare = [f"line {node.lineno}: {node.value.id}.value" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "value"
            and isinstance(node.value, ast.Name) and node.value.id in controls]
    assert not bare, f"{lesson.name} reads controls without kit.value: {bare}"


def _is_ui_call(node: ast.AST) -> bool:
    """``mo.ui.<anything>(...)``."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "ui")


@pytest.mark.parametrize("lesson", _params())
def test_lesson_names_the_code_it_teaches(lesson: Lesson) -> None:
    """``teaches`` lists library code the lesson uses, each with a source page and anchor."""
    from llmmath.source_view import locate, render

    assert lesson.teaches, f"{lesson.name}: Lesson.teaches is empty"
    tree = ast.parse(lesson.path.read_text(encoding="utf-8"))
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    used |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             for alias in node.names}
    used |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    for dotted in lesson.teaches:
        rel, anchor = locate(dotted)
        assert dotted in used or dotted.rsplit(".", 1)[-1] in used, \
            f"{lesson.name} never uses {dotted}"
        assert rel.startswith("llmmath/") and rel.endswith(".py"), rel
        page = render(rel)
        assert page is not None, rel
        if anchor is not None:
            assert f'id="{anchor}"' in page, (dotted, anchor)


@pytest.mark.parametrize("lesson", _params())
def test_lesson_passes_marimo_check(lesson: Lesson) -> None:
    _require_file(lesson)
    code, issues, output = _check_all()
    mine = issues.get(str(lesson.path.resolve()), [])
    assert not mine, f"marimo check --strict on {lesson.path.name}:\n" + "\n".join(
        f"  line {i.get('line')}: [{i.get('code')}] {i.get('message')}" for i in mine)
    if code != 0 and not issues:  # failed without a per-file report (crash, bad JSON)
        pytest.fail(f"marimo check --strict failed:\n{output[-3000:]}")


@pytest.mark.parametrize("lesson", _params())
def test_lesson_test_cells_pass(lesson: Lesson) -> None:
    _require_file(lesson)
    result = _run(lesson.name)
    collected = result["collected"]
    failed = [o for o in result["outcomes"] if o["outcome"] == "failed"]
    assert not failed, f"{lesson.name}: failing test cells:\n" + "\n\n".join(
        f"{o['nodeid']} ({o['when']}):\n{o['longrepr']}" for o in failed)
    assert len(collected) >= lesson.min_tests, (
        f"{lesson.name}: pytest collected {len(collected)} test_ cells "
        f"({', '.join(c.split('::')[-1] for c in collected) or 'none'}); the catalog "
        f"asks for at least {lesson.min_tests}.\n{result['pytest_output']}")
    assert result["pytest_exit"] == 0, result["pytest_output"]


# ------------------------------------------------------------ the catalog

def test_catalog_is_consistent() -> None:
    names = [lesson.name for lesson in LESSONS]
    assert len(set(names)) == len(names), "duplicate lesson names"
    assert all(name.isidentifier() for name in names)
    assert {lesson.pillar for lesson in LESSONS} <= set(PILLARS)
    assert all(lesson.min_tests >= 1 for lesson in LESSONS)
    assert [lesson.number for lesson in LESSONS] == list(range(1, len(LESSONS) + 1))


def test_no_stray_notebooks() -> None:
    """Every notebook in the lessons folder is listed in LESSONS."""
    listed = {lesson.name for lesson in LESSONS}
    stray = sorted(p.stem for p in LESSON_DIR.glob("*.py")
                   if not p.name.startswith("_") and p.stem not in listed)
    assert not stray, f"notebooks missing from LESSONS: {stray}"


# ------------------------------------------------------------ the kit

def test_kit_number_formatting() -> None:
    import numpy as np

    from llmmath.lessons import _kit as kit

    assert kit.fmt(2.0 / 3.0) == f"{2.0 / 3.0:.3f}"
    assert kit.fmt(-1e-9, 4) == "0.0000"  # never "-0.0000"
    assert kit.fmt(np.int64(7)) == "7"
    assert kit.fmt(float("inf")) == "∞" and kit.fmt(-np.inf) == "-∞"
    assert kit.fmt(float("nan")) == "nan"
    assert kit.fmt("✓") == "✓"
    assert kit.pct(0.125) == "12.5%"


def test_kit_matrix_table_is_one_line_html() -> None:
    import numpy as np

    from llmmath.lessons import _kit as kit

    table = kit.matrix_table(np.array([[1.0, 0.25], [0.5, -2.0]]), ["a", "b"], ["x", "<y>"],
                             digits=2)
    assert "\n" not in table and table.startswith("<table>")
    assert table.count("<tr>") == 3 and "&lt;y&gt;" in table
    assert ">0.25<" in table and ">-2.00<" in table
    with pytest.raises(ValueError, match="labels"):
        kit.matrix_table(np.zeros((2, 2)), ["only one"], ["x", "y"])
    assert kit.latex_matrix([[1, 2], [3, 4]]) == r"\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}"


def test_kit_links_follow_the_reading_place(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmmath.lessons import _kit as kit

    monkeypatch.delenv(kit.LINKS_ENV, raising=False)
    assert kit.lesson_href("attention") == "/lesson/attention/"
    assert kit.home_href() == "/"
    monkeypatch.setenv(kit.LINKS_ENV, "export")
    assert kit.lesson_href("attention") == "attention.html"
    assert kit.home_href() == "index.html"
    with pytest.raises(ValueError, match="no lesson named"):
        kit.lesson_href("no_such_lesson")


def test_kit_header_links_neighbours(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmmath.lessons import _kit as kit

    monkeypatch.delenv(kit.LINKS_ENV, raising=False)
    i = [lesson.name for lesson in LESSONS].index("attention")
    text = kit.header("attention").text
    assert f"/lesson/{LESSONS[i - 1].name}/" in text
    assert f"/lesson/{LESSONS[i + 1].name}/" in text
    assert 'href="/"' in text
    first = kit.header(LESSONS[0].name).text
    assert "←" not in first  # nothing before the first lesson


def test_kit_claim_badge_needs_the_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmmath.lessons import _kit as kit

    monkeypatch.setitem(sys.modules, "llmmath.ledger", None)  # import now fails
    with pytest.raises(RuntimeError, match="claims ledger"):
        kit.claim_badge("001-attention-worked-example")


def test_kit_figure_renders_png() -> None:
    import numpy as np

    from llmmath.lessons import _kit as kit

    fig, ax = kit.figure(size=(3.0, 2.0))
    kit.heatmap(ax, np.eye(2), ["a", "b"], ["a", "b"])
    html = kit.show(fig, alt="test").text
    assert "data:image/png;base64," in html and "width: 300px" in html


def test_kit_header_links_the_code_it_teaches(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmmath.lessons import _kit as kit
    from llmmath.lessons import get_lesson
    from llmmath.source_view import source_href

    monkeypatch.delenv(kit.LINKS_ENV, raising=False)
    lesson = get_lesson("sampling")
    text = kit.header("sampling").text
    for dotted in lesson.teaches:
        assert f'href="{source_href(dotted)}"' in text, dotted
    assert 'href="/source/llmmath/prob/' in text and "#softmax" in text
    monkeypatch.setenv(kit.LINKS_ENV, "export")     # no server behind an exported page
    exported = kit.header("sampling").text
    assert "/source/" not in exported and "prob.softmax" in exported


def test_kit_value_holds_controls_to_their_range() -> None:
    """Values as a browser could send them, through the method marimo calls with them."""
    import marimo as mo

    from llmmath.lessons import _kit as kit

    depth = mo.ui.slider(start=2, stop=30, step=1, value=12)
    for sent, held in ((100000, 30), (-7, 2), (1e300, 30), (17, 17)):
        depth._update(sent)         # what marimo does with a value from the frontend
        assert kit.value(depth) == held, sent
    tau = mo.ui.slider(0.0, 2.0, step=0.05, value=1.0)
    for sent, held in ((-1e9, 0.0), (float("inf"), 2.0), (float("nan"), 0.0)):
        tau._update(sent)
        assert kit.value(tau) == held, sent
    tau._update(1.25)
    assert kit.value(tau) == 1.25  # in range: unchanged, not snapped
    stepped = mo.ui.slider(steps=[1, 10, 100], value=10)
    stepped._update(2)             # the frontend sends an index into the steps
    assert kit.value(stepped) == 100
    switch = mo.ui.switch(value=False)
    for sent in ("yes", 1, [True], True):
        switch._update(sent)
        assert kit.value(switch) is (sent is True)
    box = mo.ui.checkbox(value=False)
    box._update("on")
    assert kit.value(box) is False
    choice = mo.ui.dropdown({"a": 1, "b": 2}, value="a")
    choice._update(["b"])
    assert kit.value(choice) == 2
    sliders = mo.ui.array([mo.ui.slider(-4.0, 4.0, step=0.1, value=0.0) for _ in range(3)])
    sliders[1]._update(99.0)
    assert kit.value(sliders) == [0.0, 4.0, 0.0]
    with pytest.raises(TypeError, match="no bounds known"):
        kit.value(mo.ui.text())


def test_kit_layout_problems_finds_what_does_not_fit() -> None:
    from llmmath.lessons import _kit as kit

    fig, ax = kit.figure(size=(3.0, 2.0))
    ax.set_yticks([0.0, 1.0], labels=["a very long tick label", "another long label"])
    kit.show(fig)
    problems = kit.layout_problems(fig)
    assert problems and "left" in problems[0], problems
    fig, (a, b) = kit.figure(1, 2, size=(6.0, 2.5), margins={"wspace": 0.05})
    b.set_ylabel("a label that needs room")
    b.set_yticks([0.0, 1.0], labels=["1000000", "2000000"])
    assert any("runs into" in p for p in kit.layout_problems(fig))
    fig, ax = kit.figure(size=(3.0, 2.0))
    ax.set_title("short")
    assert kit.layout_problems(fig) == []
    with pytest.raises(ValueError, match="unknown margins"):
        kit.figure(margins={"outer": 1.0})
    with pytest.raises(ValueError, match="no room"):
        kit.figure(size=(1.0, 1.0), margins={"left": 0.9})


def test_kit_has_no_private_matplotlib_calls() -> None:
    """The layout is fixed: no private attribute of another library is touched."""
    from llmmath.lessons import _kit as kit

    tree = ast.parse(Path(kit.__file__).read_text(encoding="utf-8"))
    private = [f"line {n.lineno}: .{n.attr}" for n in ast.walk(tree)
               if isinstance(n, ast.Attribute) and n.attr.startswith("_")
               and not n.attr.startswith("__")]
    assert not private, private


def test_kit_claim_badge_names_the_page_by_subject() -> None:
    from llmmath.ledger import SYLLABUS_FILES, SYLLABUS_TITLES
    from llmmath.lessons import _kit as kit

    text = kit.claim_badge("001-attention-worked-example").text
    assert SYLLABUS_TITLES["001"] in text
    assert SYLLABUS_FILES["001"] not in text and SYLLABUS_FILES["001"][4:12] not in text
