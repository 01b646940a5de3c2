"""The progress store: counts, hints, the v1 -> v2 migration, concurrency, corrupt and locked files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from llmmath.exercises import EXERCISES, check_source, get_exercise
from llmmath.exercises.progress import (
    MIGRATIONS,
    SCHEMA_V1,
    SCHEMA_VERSION,
    ProgressError,
    ProgressStore,
    data_dir,
    progress_by_lesson,
)


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMMATH_DATA_DIR", str(tmp_path / "data"))


def _version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_attempts_passes_and_the_first_pass(tmp_path):
    with ProgressStore(tmp_path / "p.db") as store:
        assert store.get("entropy").status == "new"
        store.record_attempt("entropy", passed=False, seed=1)
        assert store.get("entropy").status == "attempted"
        store.record_attempt("entropy", passed=True, seed=2)
        first = store.get("entropy").first_pass_at
        store.record_attempt("entropy", passed=True, seed=3)
        p = store.get("entropy")
        assert (p.attempts, p.passes, p.status) == (3, 2, "passed")
        assert p.first_pass_at == first is not None
        assert [a["seed"] for a in store.attempts("entropy")] == [1, 2, 3]
    assert _version(tmp_path / "p.db") == SCHEMA_VERSION


def test_hints_count_up_to_three_and_give_up(tmp_path):
    hints = ("a", "b", "c")
    with ProgressStore(tmp_path / "p.db") as store:
        assert store.peek_hint("kl_divergence", hints) == (1, "a")      # nothing counted
        assert [store.take_hint("kl_divergence", hints) for _ in range(4)] == [
            (1, "a"), (2, "b"), (3, "c"), (3, "c")]
        assert store.get("kl_divergence").hints_used == 3
        store.record_give_up("kl_divergence")
        assert store.get("kl_divergence").status == "gave up"


def test_data_dir_follows_the_environment(tmp_path, monkeypatch):
    assert data_dir() == tmp_path / "data"
    monkeypatch.delenv("LLMMATH_DATA_DIR")
    import platformdirs

    assert data_dir() == Path(platformdirs.user_data_dir("llmmath", appauthor=False))


def test_migration_from_v1_keeps_every_record(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:               # a file as the first release wrote it
        conn.execute(SCHEMA_V1)
        conn.execute("INSERT INTO progress VALUES ('entropy', 4, 1, 2, '2025-01-02T03:04:05')")
        conn.execute("PRAGMA user_version = 1")
    assert set(MIGRATIONS) == set(range(1, SCHEMA_VERSION))
    with ProgressStore(path) as store:
        p = store.get("entropy")
        assert (p.attempts, p.passes, p.hints_used, p.first_pass_at) == (
            4, 1, 2, "2025-01-02T03:04:05")
        assert p.gave_up_at is None and p.last_attempt_at is None
        store.record_attempt("entropy", passed=True)  # the v2 columns and table work
        assert store.get("entropy").attempts == 5
        assert len(store.attempts("entropy")) == 1
    assert _version(path) == 2


def test_a_newer_schema_is_refused_not_changed(tmp_path):
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE future (x)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    with pytest.raises(ProgressError, match="newer llmmath"):
        ProgressStore(path)
    assert path.read_bytes() == before


def test_a_corrupt_database_is_moved_aside_not_deleted(tmp_path):
    path = tmp_path / "progress.db"
    junk = b"this is not a database" * 100
    path.write_bytes(junk)
    with ProgressStore(path) as store:
        assert any("moved aside" in n for n in store.notices)
        store.record_attempt("entropy", passed=True)
        assert store.get("entropy").passes == 1
    aside = list(tmp_path.glob("progress.db.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == junk
    with ProgressStore(path) as store:               # the new file is fine next time
        assert store.notices == [] and store.get("entropy").passes == 1


def test_a_locked_database_keeps_the_record_for_later(tmp_path):
    path = tmp_path / "progress.db"
    ProgressStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")                  # another program holds the lock
    try:
        store = ProgressStore(path, timeout=0.2)
        store.record_attempt("entropy", passed=True)
        assert any("locked" in n for n in store.notices)
        pending = list((tmp_path / "pending").glob("*.json"))
        assert len(pending) == 1
        saved = pending[0].read_bytes()
        store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with ProgressStore(path) as store:
        assert store.get("entropy").passes == 1
        assert any("added 1 record" in n for n in store.notices)
    assert not list((tmp_path / "pending").glob("*.json"))
    (tmp_path / "pending" / "again.json").write_bytes(saved)   # replayed twice: counted once
    with ProgressStore(path) as store:
        assert store.get("entropy").attempts == 1


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "progress.db"
    script = textwrap.dedent(f"""
        import sys
        from llmmath.exercises.progress import ProgressStore
        with ProgressStore({str(path)!r}) as store:
            for i in range(40):
                store.record_attempt("entropy", passed=i % 2 == 0)
                store.take_hint("entropy", ("a", "b", "c"))
                store.record_attempt(sys.argv[1], passed=False)
            assert not store.notices, store.notices
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, f"writer{i}"]) for i in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with ProgressStore(path) as store:
        p = store.get("entropy")
        assert (p.attempts, p.passes, p.hints_used) == (80, 40, 3)
        assert len(store.attempts("entropy")) == 80
        assert store.get("writer0").attempts == store.get("writer1").attempts == 40


def test_checks_record_attempts_and_hints(tmp_path):
    store = ProgressStore(tmp_path / "p.db")
    ex = get_exercise("causal_mask")
    wrong = "import numpy as np\n\ndef causal_mask(T):\n    return np.triu(np.ones((T, T), bool))\n"
    stub = check_source("causal_mask", ex.stub, seed=1, max_examples=3, store=store)
    assert stub.hint_number == 1 and store.get("causal_mask").hints_used == 0   # not counted
    numbers = [check_source("causal_mask", wrong, seed=1, max_examples=3,
                            store=store).hint_number for _ in range(4)]
    assert numbers == [1, 2, 3, 3]
    assert check_source("causal_mask", ex.solution, seed=1, max_examples=3, store=store).passed
    p = store.get("causal_mask")
    assert (p.attempts, p.passes, p.hints_used) == (6, 1, 3) and p.first_pass_at
    by_lesson = progress_by_lesson(store)
    assert by_lesson["attention"].passed == 1 and by_lesson["attention"].attempted == 1
    assert by_lesson["attention"].total == len([e for e in EXERCISES if e.lesson == "attention"])
    assert sum(lp.total for lp in by_lesson.values()) == len(EXERCISES)
    store.close()


def test_progress_by_lesson_without_a_store_uses_the_data_dir():
    by_lesson = progress_by_lesson()
    assert all(lp.passed == 0 for lp in by_lesson.values())
    assert (data_dir() / "progress.db").exists()
