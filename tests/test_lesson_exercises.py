"""The exercises inside the lessons, and the exercise progress on the course home.

Every lesson with exercises ends with the section (two cells calling
``kit.exercises``), lists exactly its catalog exercises with their stubs and
links each from its header; lessons without exercises have no section. A
lesson run headless (the attention lesson, in a clean interpreter, as the
lesson harness runs it) checks nothing until a Check button is pressed; then
the stub fails, an off-by-one mask fails on a shown input, the reference
solution passes, and every attempt lands in the progress store the command
line uses. The course home reads that store without writing to it, and still
comes when the database is corrupt or locked.
"""

from __future__ import annotations

import ast
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmmath.exercises import EXERCISES, exercises_for_lesson, get_exercise, progress_by_lesson
from llmmath.exercises.progress import DB_NAME, ProgressStore, data_dir
from llmmath.lessons import LESSONS, get_lesson
from llmmath.lessons import _exercises as section_mod
from llmmath.lessons import _kit as kit

ROOT = Path(__file__).resolve().parents[1]
WITH_EXERCISES = [lesson for lesson in LESSONS if exercises_for_lesson(lesson.name)]


def _section_calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "exercises"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "kit"]


def test_every_exercise_belongs_to_a_lesson() -> None:
    lessons = {lesson.name for lesson in LESSONS}
    assert {e.lesson for e in EXERCISES} <= lessons
    assert len(WITH_EXERCISES) == len({e.lesson for e in EXERCISES})


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.name for lesson in LESSONS])
def test_the_lessons_with_exercises_end_with_the_section(lesson) -> None:
    if not lesson.path.exists():
        pytest.fail(f"{lesson.name}: the notebook {lesson.path} does not exist")
    calls = _section_calls(lesson.path)
    if not exercises_for_lesson(lesson.name):
        assert not calls, f"{lesson.name} has no exercises but a section"
        assert kit.exercises_html(lesson.name) == ""
        return
    assert len(calls) == 1, f"{lesson.name}: expected one kit.exercises(...) cell, got {len(calls)}"
    assert [ast.literal_eval(a) for a in calls[0].args] == [lesson.name]
    text = lesson.path.read_text(encoding="utf-8")
    assert "exercises.show(kit.value(exercise_buttons), kit.value(exercises.editors))" in text
    assert text.index("kit.exercises(") < text.index(f'kit.footer("{lesson.name}")')


@pytest.mark.parametrize("lesson", WITH_EXERCISES, ids=[les.name for les in WITH_EXERCISES])
def test_the_section_holds_the_lessons_exercises(lesson, monkeypatch, tmp_path) -> None:
    """Built by the helper as the lesson builds it: nothing is checked, nothing written."""
    monkeypatch.setenv("LLMMATH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv(kit.LINKS_ENV, raising=False)
    section = kit.exercises(lesson.name)
    want = [e.name for e in exercises_for_lesson(lesson.name)]
    assert list(section.names) == want
    assert list(section.buttons.value) == want
    view = section.view().text
    header = kit.header(lesson.name).text
    for name in want:
        assert kit.value(section.editors[name]) == get_exercise(name).stub
        assert f"exercise-{name}" in view                      # the block's anchor
        assert f'href="#exercise-{name}"' in header            # linked from the header
        assert f"Check {name}" in view
    assert kit.value(section.buttons) == dict.fromkeys(want, False)
    pressed, sources = kit.value(section.buttons), kit.value(section.editors)
    assert sources == {name: get_exercise(name).stub for name in want}
    assert section.show(pressed, sources).text == view       # no press, no check
    assert section.verdicts == {} and not list(tmp_path.iterdir())


def test_the_shown_exercises_are_the_catalogs(tmp_path) -> None:
    """The cached copy a lesson reads (no catalog import) equals the catalog, and is rebuilt."""
    script = textwrap.dedent("""
        import json, sys
        from dataclasses import asdict
        from llmmath.lessons import _exercises as s
        infos = s.exercise_infos()
        print(json.dumps({"catalog": "llmmath.exercises.catalog" in sys.modules,
                          "infos": [asdict(i) for i in infos]}))
    """)
    env = {**os.environ, "LLMMATH_CACHE_DIR": str(tmp_path)}
    runs = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, check=True, timeout=300)
        runs.append(json.loads(done.stdout))
    files = list((tmp_path / "lessons").glob("exercises-*.json"))
    assert len(files) == 1
    assert runs[0]["catalog"] is True and runs[1]["catalog"] is False  # built, then read
    want = [{"name": e.name, "lesson": e.lesson, "title": e.title, "signature": e.signature,
             "returns": e.returns, "reference": e.reference, "stub": e.stub,
             "capstone": bool(e.capstone)} for e in EXERCISES]
    assert runs[0]["infos"] == want and runs[1]["infos"] == want
    files[0].write_text("[{\"name\": 1}]", encoding="utf-8")      # a damaged copy is not used
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, check=True, timeout=300)
    again = json.loads(done.stdout)
    assert again["catalog"] is True and again["infos"] == want
    assert json.loads(files[0].read_text(encoding="utf-8"))[0]["name"] == EXERCISES[0].name


# Runs the attention lesson headless in a clean interpreter (as tests/test_lessons.py does),
# then presses Check the way marimo does: the editor's text and the button's value are set
# through the elements' own update method, then the section cell's call runs again.
HEADLESS = r"""
import json, os, sys, importlib.util
from pathlib import Path
spec = importlib.util.spec_from_file_location("_lesson", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
outputs, defs = module.app.run()
from llmmath.lessons import _kit as kit
section, buttons = defs["exercises"], defs["exercise_buttons"]
report = {"names": list(section.names), "checked_at_start": dict(section.verdicts),
          "db_at_start": (Path(os.environ["LLMMATH_DATA_DIR"]) / "progress.db").exists(),
          "verdicts": []}
for source in json.loads(sys.argv[2]):
    section.editors._update({"causal_mask": source})   # the kernel updates the dictionary
    buttons._update({"causal_mask": 1})                # a click: the counter the frontend sends
    page = section.show(kit.value(buttons), kit.value(section.editors)).text
    buttons._update({"causal_mask": 0})
    report["verdicts"].append({"verdict": section.verdicts["causal_mask"][1],
                               "shown": 'data-exercise-result=' in page.replace("&quot;", '"')})
print("REPORT " + json.dumps(report))
"""

OFF_BY_ONE = textwrap.dedent("""
    import numpy as np


    def causal_mask(T):
        return np.tril(np.ones((T, T), dtype=bool), k=-1)
""")


def test_check_in_the_lesson_runs_the_checker_and_records_progress(tmp_path) -> None:
    lesson = get_lesson("attention")
    stub, solution = get_exercise("causal_mask").stub, get_exercise("causal_mask").solution
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(MPLBACKEND="Agg", LLMMATH_DATA_DIR=str(tmp_path / "data"),
               LLMMATH_EXERCISE_EXAMPLES="20")
    done = subprocess.run([sys.executable, "-c", HEADLESS, str(lesson.path),
                           json.dumps([stub, OFF_BY_ONE, solution])],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("REPORT ")]
    assert lines, f"the headless run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    report = json.loads(lines[-1][len("REPORT "):])
    assert report["names"] == ["causal_mask", "attention"]
    assert report["checked_at_start"] == {} and report["db_at_start"] is False
    (v_stub, s1), (v_wrong, s2), (v_right, s3) = [(r["verdict"], r["shown"])
                                                  for r in report["verdicts"]]
    assert s1 and s2 and s3
    assert v_stub["passed"] is False and v_stub["failures"][0]["kind"] == "stub"
    assert v_wrong["passed"] is False
    failure = v_wrong["failures"][0]
    assert failure["kind"] == "mismatch" and failure["inputs"] and failure["expected"]
    assert v_wrong["hint"] == get_exercise("causal_mask").hints[0]
    assert v_right["passed"] is True and v_right["failures"] == []
    # the same store as the command line, where the lesson's process was told to write
    with ProgressStore(tmp_path / "data" / DB_NAME) as store:
        record = store.get("causal_mask")
        assert (record.attempts, record.passes) == (3, 1)
        assert record.first_pass_at is not None
        counted = progress_by_lesson(store)["attention"]
    shown, note = section_mod.lesson_progress(tmp_path / "data" / DB_NAME)
    assert note == "" and shown["attention"] == (counted.passed, counted.total) == (1, 2)


# ------------------------------------------------------------------ checking, unit by unit

def test_a_check_refuses_what_no_source_can_be(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LLMMATH_DATA_DIR", str(tmp_path))
    huge = "x = 1\n" * (section_mod.MAX_SOURCE_CHARS // 6 + 1)
    verdict = section_mod.run_check("causal_mask", huge)
    assert verdict["passed"] is False and "at most 100,000" in verdict["error"]
    verdict = section_mod.run_check("causal_mask", "def causal_mask(T):\n    return 0\0\n")
    assert "NUL" in verdict["error"]
    assert section_mod.run_check("causal_mask", 7)["passed"] is False   # not text
    assert not list(tmp_path.iterdir())                                 # nothing ran


def test_a_check_that_runs_too_long_is_stopped(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LLMMATH_DATA_DIR", str(tmp_path))
    endless = "def causal_mask(T):\n    return None\n\n\nwhile True:\n    pass\n"
    verdict = section_mod.run_check("causal_mask", endless, timeout_s=3.0)
    assert verdict["passed"] is False and "longer than 3 s" in verdict["error"]


def test_a_verdict_shows_the_learners_text_escaped() -> None:
    """Messages quote the learner's code and output: none of it becomes HTML."""
    evil = "<img src=x onerror=alert(1)>"
    verdict = {"passed": False, "hint": "h", "hint_number": 2, "seed": 5, "notices": [evil],
               "failures": [{"kind": "exception", "message": f"raised ValueError: {evil}",
                             "label": evil, "inputs": {"T": evil}, "expected": "1",
                             "got": evil, "tolerance": "", "detail": evil}]}
    body = section_mod._verdict_body("causal_mask", verdict, stale=True)
    assert "<img" not in body
    assert body.count("&lt;img src=x onerror=alert(1)&gt;") == 6   # each place it was quoted
    assert "Hint 2 of 3" in body and "it has changed since" in body


def test_kit_value_holds_editors_and_dictionaries() -> None:
    import marimo as mo

    editor = mo.ui.code_editor(value="x = 1", language="python")
    assert kit.value(editor) == "x = 1"
    editor._update(["not", "text"])          # what a hand-written request could send
    assert kit.value(editor) == ""
    group = mo.ui.dictionary({"a": mo.ui.run_button(), "b": mo.ui.slider(0, 10, value=3)})
    group["b"]._update(99)
    assert kit.value(group) == {"a": False, "b": 10}


def test_an_unknown_exercise_is_refused_by_name() -> None:
    section = kit.exercises("attention")
    with pytest.raises(ValueError, match="no exercise 'entropy'"):
        section.check("entropy", "")


# ------------------------------------------------------------------ the course home

def test_the_progress_file_is_the_stores(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("LLMMATH_DATA_DIR", str(tmp_path))
    assert section_mod.progress_path() == data_dir() / DB_NAME == tmp_path / DB_NAME
    with ProgressStore() as store:
        assert store.path == tmp_path / DB_NAME


def test_the_course_home_reads_progress_without_the_catalog(tmp_path) -> None:
    """The home page reads the store's own reader, and only cached exercise metadata: once the
    cache is warm, neither the catalog nor Hypothesis (0.4 s to import) is loaded."""

    code = ("import sys; from llmmath.lessons._exercises import lesson_progress; "
            "shown, note = lesson_progress(); assert note == '', note; "
            "print(sum(t for _, t in shown.values()), 'llmmath.exercises.catalog' in sys.modules, "
            "'hypothesis' in sys.modules)")
    env = {**os.environ, "LLMMATH_DATA_DIR": str(tmp_path / "data"),
           "LLMMATH_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout.split() for _ in range(2)]
    total = str(len(EXERCISES))
    assert runs[0] == [total, "True", "True"]                  # a cold cache: built from it
    assert runs[1] == [total, "False", "False"]                # warm: neither is imported


def test_home_progress_counts_passes_without_writing(tmp_path) -> None:
    db = tmp_path / DB_NAME
    shown, note = section_mod.lesson_progress(db)
    assert note == "" and not db.exists()                    # nothing passed, nothing created
    totals = {lesson: len(exercises_for_lesson(lesson)) for lesson in shown}
    assert shown == {lesson: (0, total) for lesson, total in totals.items()}
    with ProgressStore(db) as store:
        store.record_attempt("entropy", passed=False)
        store.record_attempt("entropy", passed=True)
        store.record_attempt("kl_divergence", passed=False)
        store.record_attempt("layer_norm", passed=True)
        expected = progress_by_lesson(store)
    before = db.read_bytes()
    shown, note = section_mod.lesson_progress(db)
    assert note == ""
    assert shown == {k: (v.passed, v.total) for k, v in expected.items()}
    assert shown["information"] == (1, 3) and shown["layernorm"] == (1, 2)
    assert db.read_bytes() == before


def test_home_progress_on_a_corrupt_or_locked_database(tmp_path) -> None:
    corrupt = tmp_path / "corrupt" / DB_NAME
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"this is not a database" * 200)
    shown, note = section_mod.lesson_progress(corrupt)
    assert "could not be read" in note and all(p == 0 for p, _ in shown.values())
    assert corrupt.read_bytes() == b"this is not a database" * 200    # left as it was
    locked = tmp_path / "locked" / DB_NAME
    locked.parent.mkdir()
    holder = sqlite3.connect(locked, isolation_level=None)
    try:
        holder.execute("CREATE TABLE progress (exercise TEXT PRIMARY KEY, passes INTEGER)")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO progress VALUES ('entropy', 1)")
        shown, note = section_mod.lesson_progress(locked)
        assert "locked" in note and shown["information"][0] == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_course_home_shows_progress_per_lesson(monkeypatch, tmp_path) -> None:
    from llmmath import server

    monkeypatch.setenv("LLMMATH_DATA_DIR", str(tmp_path))
    app = server.build_app()
    page = app.render_home()
    for lesson in WITH_EXERCISES:
        n = len(exercises_for_lesson(lesson.name))
        assert f'data-progress="{lesson.name}">0/{n} exercises passed<' in page
    without = [lesson for lesson in LESSONS if lesson not in WITH_EXERCISES]
    assert all(f'data-progress="{lesson.name}"' not in page for lesson in without)
    with ProgressStore() as store:
        store.record_attempt("causal_mask", passed=True)
    assert 'data-progress="attention">1/2 exercises passed<' in app.render_home()
    (tmp_path / DB_NAME).write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        (tmp_path / (DB_NAME + suffix)).unlink(missing_ok=True)
    page = app.render_home()
    assert "data-progress-note" in page and "could not be read" in page
    assert 'data-lesson="attention"' in page                       # the page itself is whole
    assert "data-progress" not in server.render_home(lambda lesson: None)  # export: none
