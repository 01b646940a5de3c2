"""``llmmath exercise``: list, show, start, check (exit codes 0/1/2, --json), hint, solution, progress."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from llmmath.cli import app
from llmmath.exercises import EXERCISES, get_exercise

runner = CliRunner()


@pytest.fixture(autouse=True)
def _workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMMATH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LLMMATH_EXERCISE_EXAMPLES", "5")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def _run(*args: str):
    return runner.invoke(app, ["exercise", *args])


def test_list_shows_every_exercise_with_its_status():
    result = _run("list")
    assert result.exit_code == 0, result.output
    assert len(EXERCISES) >= 30
    for ex in EXERCISES:
        assert ex.name in result.output
    assert "new" in result.output
    only = _run("list", "--lesson", "layernorm")
    assert "layer_norm_backward" in only.output and "entropy" not in only.output
    assert _run("list", "--lesson", "nope").exit_code == 2


def test_show_prints_the_statement():
    result = _run("show", "kl_divergence")
    assert result.exit_code == 0
    assert "kl_divergence(p, q)" in result.output and "llmmath.info.kl_divergence" in result.output


def test_start_writes_the_stub_and_never_overwrites(tmp_path):
    result = _run("start", "entropy")
    assert result.exit_code == 0, result.output
    path = tmp_path / "llmmath-exercises" / "entropy.py"
    assert path.read_text() == get_exercise("entropy").stub
    path.write_text("# my work\n")
    again = _run("start", "entropy")
    assert again.exit_code == 0 and "left as it is" in again.output
    assert path.read_text() == "# my work\n"
    other = _run("start", "entropy", "--dir", "elsewhere")
    assert (tmp_path / "elsewhere" / "entropy.py").exists()
    assert "--file elsewhere/entropy.py" in other.output
    assert not [p for p in (tmp_path / "llmmath-exercises").iterdir() if p.name != "entropy.py"]


def test_check_exit_codes_and_json(tmp_path):
    assert _run("start", "causal_mask").exit_code == 0
    stub = _run("check", "causal_mask", "--json", "--seed", "3")
    assert stub.exit_code == 1
    lines = stub.stdout.strip().splitlines()
    assert len(lines) == 1
    doc = json.loads(lines[0])
    assert doc["passed"] is False and doc["seed"] == 3
    assert doc["failures"][0]["kind"] == "stub" and isinstance(doc["hint"], str)

    path = tmp_path / "llmmath-exercises" / "causal_mask.py"
    path.write_text("import numpy as np\n\ndef causal_mask(T):\n    return np.triu(np.ones((T, T), bool))\n")
    wrong = _run("check", "causal_mask")
    assert wrong.exit_code == 1
    assert "expected" in wrong.output and "T = " in wrong.output and "Hint 1 of 3" in wrong.output
    wrong_json = json.loads(_run("check", "causal_mask", "--json").stdout)
    failure = wrong_json["failures"][0]
    assert failure["kind"] == "mismatch" and failure["inputs"]["T"]
    assert failure["expected"] and failure["got"] and failure["tolerance"]
    assert wrong_json["hint_number"] == 2                   # the next hint, counted

    other = tmp_path / "mine.py"
    other.write_text(get_exercise("causal_mask").solution)
    good = _run("check", "causal_mask", "--file", str(other), "--json")
    assert good.exit_code == 0
    doc = json.loads(good.stdout)
    assert doc["passed"] is True and doc["failures"] == [] and doc["hint"] is None


def test_check_usage_errors_exit_2():
    assert _run("check", "no_such_exercise").exit_code == 2
    missing = _run("check", "entropy")
    assert missing.exit_code == 2 and "llmmath exercise start entropy" in missing.output
    as_json = _run("check", "entropy", "--json")
    assert as_json.exit_code == 2
    doc = json.loads(as_json.stdout.strip())
    assert doc["passed"] is False and doc["failures"] == [] and "error" in doc
    assert _run("check").exit_code == 2                       # typer's own usage error
    assert _run("check", "entropy", "--seed", "-1").exit_code == 2


def test_hint_then_solution_after_give_up_or_pass(tmp_path):
    first = _run("hint", "perplexity")
    assert first.exit_code == 0 and "Hint 1 of 3" in first.output
    assert "Hint 2 of 3" in _run("hint", "perplexity").output
    third = _run("hint", "perplexity")
    assert "Hint 3 of 3" in third.output and "--give-up" in third.output
    refused = _run("solution", "perplexity")
    assert refused.exit_code == 1 and "def perplexity" not in refused.output
    shown = _run("solution", "perplexity", "--give-up")
    assert shown.exit_code == 0 and "def perplexity" in shown.output

    (tmp_path / "ok.py").write_text(get_exercise("entropy").solution)
    assert _run("check", "entropy", "--file", "ok.py").exit_code == 0
    after = _run("solution", "entropy")
    assert after.exit_code == 0 and "def entropy" in after.output
    listing = _run("list").output
    assert "passed" in listing and "gave up" in listing


def test_progress_sums_up_per_lesson(tmp_path):
    (tmp_path / "ok.py").write_text(get_exercise("entropy").solution)
    assert _run("check", "entropy", "--file", "ok.py").exit_code == 0
    result = _run("progress")
    assert result.exit_code == 0
    assert "information" in result.output and f"1 of {len(EXERCISES)} exercises passed" in result.output


def test_a_corrupt_progress_file_is_reported_and_kept(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "progress.db").write_bytes(b"garbage" * 50)
    result = _run("list")
    assert result.exit_code == 0
    assert "moved aside" in result.output
    assert list(data.glob("progress.db.corrupt-*"))
