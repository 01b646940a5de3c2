"""The learner's progress: one SQLite database under the per-user data directory.

``progress.db`` lives in ``platformdirs.user_data_dir("llmmath")``, or in
``$LLMMATH_DATA_DIR`` when that is set (tests use a temporary directory). It
holds, per exercise, the attempts, the passes, the hints used, the time of
the first pass and of giving up, and a log of every attempt.

Safety:

* **Concurrency.** WAL mode, a busy timeout, and every change in one
  ``BEGIN IMMEDIATE`` transaction: two ``llmmath exercise check`` runs at the
  same time both count.
* **A locked database** (another program holding it past the timeout): the
  record is written to ``pending/`` as a small JSON file and added the next
  time the store opens. Attempts carry a unique id, so a record is never
  counted twice.
* **A corrupt database** is moved aside to ``progress.db.corrupt-<time>``
  (never deleted) and a new one is started; :attr:`ProgressStore.notices`
  says so, and the command prints it.
* **Schema versions.** ``PRAGMA user_version`` holds the schema version;
  :data:`MIGRATIONS` upgrades an older file in place, step by step, and a file
  from a newer llmmath is refused with a message instead of being changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmmath.errors import LLMMathError

__all__ = ["ProgressStore", "ProgressError", "ExerciseProgress", "LessonProgress",
           "data_dir", "progress_by_lesson", "SCHEMA_VERSION", "SCHEMA_V1", "MIGRATIONS",
           "DB_NAME", "ENV_VAR"]

ENV_VAR = "LLMMATH_DATA_DIR"
DB_NAME = "progress.db"
SCHEMA_VERSION = 2

# Version 1: counters only (kept verbatim: the migration test builds a v1 file from it).
SCHEMA_V1 = """
CREATE TABLE progress (
    exercise      TEXT PRIMARY KEY,
    attempts      INTEGER NOT NULL DEFAULT 0,
    passes        INTEGER NOT NULL DEFAULT 0,
    hints_used    INTEGER NOT NULL DEFAULT 0,
    first_pass_at TEXT
);
"""


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """v2: when the last attempt was, when the learner gave up, and a log of attempts."""
    conn.execute("ALTER TABLE progress ADD COLUMN last_attempt_at TEXT")
    conn.execute("ALTER TABLE progress ADD COLUMN gave_up_at TEXT")
    conn.execute("""
        CREATE TABLE attempts (
            id            INTEGER PRIMARY KEY,
            uid           TEXT NOT NULL UNIQUE,
            exercise      TEXT NOT NULL,
            at            TEXT NOT NULL,
            passed        INTEGER NOT NULL,
            seed          INTEGER,
            seconds       REAL,
            source_sha256 TEXT
        )""")
    conn.execute("CREATE INDEX attempts_by_exercise ON attempts (exercise)")


# MIGRATIONS[v] turns a version-v database into version v + 1.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _migrate_1_to_2}


class ProgressError(LLMMathError, RuntimeError):
    """The progress database cannot be used (locked, unwritable, from a newer llmmath)."""


def data_dir() -> Path:
    """``$LLMMATH_DATA_DIR``, else ``platformdirs.user_data_dir("llmmath")``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("llmmath", appauthor=False))


def database_path() -> Path:
    """The progress database: ``data_dir() / "progress.db"``."""
    return data_dir() / DB_NAME


def read_passed(path: str | Path | None = None) -> set[str]:
    """The exercises passed at least once, read without writing anything.

    For the course home, which must never create, migrate or lock the
    database: it is opened read-only (``mode=ro``), with a short timeout. A
    database that does not exist yet means nothing passed. Records parked in
    ``pending/`` (a check that found the database locked) count once the next
    :class:`ProgressStore` has replayed them.

    Raises
    ------
    ProgressError
        The database is locked, corrupt or unreadable.
    """
    path = database_path() if path is None else Path(path)
    if not path.exists():
        return set()
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
        try:
            rows = conn.execute("SELECT exercise FROM progress WHERE passes > 0").fetchall()
        finally:
            conn.close()
    except (sqlite3.Error, OSError) as exc:
        raise ProgressError(f"progress: cannot read {path} ({exc}).") from None
    return {str(r[0]) for r in rows}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ExerciseProgress:
    """One exercise's record."""

    exercise: str
    attempts: int = 0
    passes: int = 0
    hints_used: int = 0
    first_pass_at: str | None = None
    last_attempt_at: str | None = None
    gave_up_at: str | None = None

    @property
    def passed(self) -> bool:
        return self.passes > 0

    @property
    def status(self) -> str:
        """``passed``, ``gave up``, ``attempted`` or ``new``."""
        if self.passes:
            return "passed"
        if self.gave_up_at:
            return "gave up"
        return "attempted" if self.attempts else "new"


@dataclass(frozen=True)
class LessonProgress:
    """How far the learner is with one lesson's exercises."""

    lesson: str
    exercises: tuple[str, ...]
    passed: int
    attempted: int

    @property
    def total(self) -> int:
        return len(self.exercises)


def _errorname(exc: sqlite3.Error) -> str:
    return str(getattr(exc, "sqlite_errorname", "") or "")


def _is_locked(exc: sqlite3.Error) -> bool:
    name = _errorname(exc)
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)


def _is_corrupt(exc: sqlite3.Error) -> bool:
    name = _errorname(exc)
    return name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or any(
        s in str(exc) for s in ("file is not a database", "malformed"))


class ProgressStore:
    """Progress of every exercise, in ``progress.db`` (see the module docstring).

    Parameters
    ----------
    path : path, optional
        The database file; ``data_dir() / "progress.db"`` by default.
    timeout : float
        Seconds to wait for a lock held by another process before the record
        is parked in ``pending/``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = ProgressStore(pathlib.Path(tempfile.mkdtemp()) / "progress.db")
    >>> store.record_attempt("stable_softmax", passed=False)
    >>> store.record_attempt("stable_softmax", passed=True)
    >>> p = store.get("stable_softmax")
    >>> (p.attempts, p.passes, p.status)
    (2, 1, 'passed')
    >>> store.close()
    """

    def __init__(self, path: str | Path | None = None, timeout: float = 10.0) -> None:
        self.path = Path(path) if path is not None else database_path()
        self.timeout = float(timeout)
        self.notices: list[str] = []
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProgressError(f"progress: cannot create the data directory "
                                f"{self.path.parent} ({exc.strerror or exc}); set "
                                f"{ENV_VAR} to a writable directory.") from None
        self._open()
        self._replay_pending()

    # ------------------------------------------------------------------ opening
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return conn

    def _open(self) -> None:
        try:
            conn = self._connect()
            try:
                self._prepare(conn)
            except BaseException:
                conn.close()
                raise
        except sqlite3.Error as exc:
            if _is_locked(exc):
                raise ProgressError(f"progress: the database {self.path} is locked by another "
                                    f"program (waited {self.timeout:g} s); try again when it "
                                    f"has finished.") from None
            if not _is_corrupt(exc):
                raise ProgressError(f"progress: cannot use {self.path}: {exc}") from None
            conn = self._repair(str(exc))
        self._conn = conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        row = conn.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise sqlite3.DatabaseError(f"database disk image is malformed ({row and row[0]})")
        self._ensure_schema(conn)                  # refuses a newer file before changing it
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":  # pragma: no cover - e.g. a network FS
            self.notices.append(f"progress: {self.path} could not switch to WAL mode "
                                f"({mode and mode[0]}); concurrent checks will wait for each "
                                f"other.")
        conn.execute("PRAGMA synchronous = NORMAL")

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION:
            raise ProgressError(f"progress: {self.path} has schema version {version}, written by "
                                f"a newer llmmath (this one reads up to {SCHEMA_VERSION}); "
                                f"upgrade llmmath, or point {ENV_VAR} elsewhere.")
        with _transaction(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # under the lock
            if version == 0:
                tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables:
                    raise sqlite3.DatabaseError("file is not a database (unknown tables and "
                                                "no schema version)")
                conn.execute(SCHEMA_V1)
                version = 1
            while version < SCHEMA_VERSION:
                MIGRATIONS[version](conn)
                version += 1
            conn.execute(f"PRAGMA user_version = {version}")

    def _repair(self, reason: str) -> sqlite3.Connection:
        """Move a corrupt file aside (never delete it) and start a new database."""
        with self._file_lock():
            try:                                   # another process may have repaired it
                conn = self._connect()
                self._prepare(conn)
                return conn
            except sqlite3.Error as exc:
                with contextlib.suppress(Exception):
                    conn.close()
                if not _is_corrupt(exc):
                    raise ProgressError(f"progress: cannot use {self.path}: {exc}") from None
            stamp = time.strftime("%Y%m%dT%H%M%S")
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            n = 1
            while target.exists():
                n += 1
                target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            os.replace(self.path, target)
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    os.replace(side, target.with_name(target.name + suffix))
            self.notices.append(f"progress: {self.path} could not be read ({reason}); it was "
                                f"moved aside to {target} (nothing was deleted) and a new "
                                f"progress database was started.")
            conn = self._connect()
            self._prepare(conn)
            return conn

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        with open(lock_path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ProgressStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ProgressError("progress: the store is closed.")
        return self._conn

    # ------------------------------------------------------------------ writing
    def _apply(self, rec: dict[str, Any]) -> None:
        conn = self.conn
        with _transaction(conn):
            name = rec["exercise"]
            conn.execute("INSERT INTO progress (exercise) VALUES (?) "
                         "ON CONFLICT (exercise) DO NOTHING", (name,))
            if rec["type"] == "attempt":
                cur = conn.execute(
                    "INSERT OR IGNORE INTO attempts (uid, exercise, at, passed, seed, seconds, "
                    "source_sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (rec["uid"], name, rec["at"], int(rec["passed"]), rec.get("seed"),
                     rec.get("seconds"), rec.get("source_sha256")))
                if cur.rowcount == 1:            # first time this attempt is seen
                    conn.execute(
                        "UPDATE progress SET attempts = attempts + 1, passes = passes + ?, "
                        "last_attempt_at = ?, first_pass_at = CASE WHEN ? AND first_pass_at "
                        "IS NULL THEN ? ELSE first_pass_at END WHERE exercise = ?",
                        (int(rec["passed"]), rec["at"], int(rec["passed"]), rec["at"], name))
            elif rec["type"] == "hint":
                conn.execute("UPDATE progress SET hints_used = MAX(hints_used, ?) "
                             "WHERE exercise = ?", (int(rec["hints"]), name))
            elif rec["type"] == "give_up":
                conn.execute("UPDATE progress SET gave_up_at = COALESCE(gave_up_at, ?) "
                             "WHERE exercise = ?", (rec["at"], name))
            else:
                raise ValueError(f"unknown record type {rec['type']!r}")

    def _apply_or_park(self, rec: dict[str, Any]) -> None:
        try:
            self._apply(rec)
        except sqlite3.Error as exc:
            if not _is_locked(exc):
                self._park(rec)
                raise ProgressError(f"progress: could not write to {self.path} ({exc}); the "
                                    f"record was kept in {self.pending_dir} and will be added "
                                    f"later.") from None
            path = self._park(rec)
            self.notices.append(f"progress: {self.path} is locked by another program (waited "
                                f"{self.timeout:g} s); this record was kept in {path} and "
                                f"will be added the next time progress is opened.")

    @property
    def pending_dir(self) -> Path:
        return self.path.with_name("pending")

    def _park(self, rec: dict[str, Any]) -> Path:
        from llmmath.checkpoint import atomic_write_bytes

        path = self.pending_dir / f"{time.time_ns()}-{rec['uid']}.json"
        data = json.dumps(rec).encode()
        return atomic_write_bytes(path, lambda f: f.write(data))

    def _replay_pending(self) -> None:
        directory = self.pending_dir
        if not directory.is_dir():
            return
        added = 0
        for path in sorted(directory.glob("*.json")):
            try:
                rec = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue                          # a half-written or foreign file: leave it
            try:
                self._apply(rec)
            except sqlite3.Error:
                return                            # still locked: try again next time
            except (KeyError, ValueError, TypeError):
                continue
            path.unlink(missing_ok=True)
            added += 1
        if added:
            self.notices.append(f"progress: added {added} record{'s' if added > 1 else ''} "
                                f"kept while the database was locked.")

    def record_attempt(self, exercise: str, passed: bool, *, seed: int | None = None,
                       seconds: float | None = None, source_sha256: str | None = None) -> None:
        """Count one check of ``exercise`` (a pass also sets the time of the first pass)."""
        self._apply_or_park({"type": "attempt", "uid": uuid.uuid4().hex, "exercise": exercise,
                             "passed": bool(passed), "at": _now(), "seed": seed,
                             "seconds": seconds, "source_sha256": source_sha256})

    def take_hint(self, exercise: str, hints: tuple[str, ...]) -> tuple[int, str]:
        """The next hint not yet seen (counted); the last one again once all are used."""
        conn = self.conn
        try:
            with _transaction(conn):
                conn.execute("INSERT INTO progress (exercise) VALUES (?) "
                             "ON CONFLICT (exercise) DO NOTHING", (exercise,))
                used = conn.execute("SELECT hints_used FROM progress WHERE exercise = ?",
                                    (exercise,)).fetchone()[0]
                n = min(int(used) + 1, len(hints))
                conn.execute("UPDATE progress SET hints_used = ? WHERE exercise = ?",
                             (n, exercise))
        except sqlite3.Error as exc:
            if not _is_locked(exc):
                raise ProgressError(f"progress: could not write to {self.path} ({exc}).") from None
            n = min(self.get(exercise).hints_used + 1, len(hints))
            path = self._park({"type": "hint", "uid": uuid.uuid4().hex, "exercise": exercise,
                               "hints": n, "at": _now()})
            self.notices.append(f"progress: {self.path} is locked; the hint count was kept in "
                                f"{path}.")
        return n, hints[n - 1]

    def peek_hint(self, exercise: str, hints: tuple[str, ...]) -> tuple[int, str]:
        """The latest hint already seen (the first when none), without counting one."""
        n = max(1, min(self.get(exercise).hints_used, len(hints)))
        return n, hints[n - 1]

    def record_give_up(self, exercise: str) -> None:
        """Note that the learner asked for the solution before passing."""
        self._apply_or_park({"type": "give_up", "uid": uuid.uuid4().hex, "exercise": exercise,
                             "at": _now()})

    # ------------------------------------------------------------------ reading
    _COLUMNS = ("exercise, attempts, passes, hints_used, first_pass_at, last_attempt_at, "
                "gave_up_at")

    def get(self, exercise: str) -> ExerciseProgress:
        """The record of ``exercise`` (all zeros when never attempted)."""
        try:
            row = self.conn.execute(f"SELECT {self._COLUMNS} FROM progress WHERE exercise = ?",
                                    (exercise,)).fetchone()
        except sqlite3.Error as exc:
            raise ProgressError(f"progress: cannot read {self.path} ({exc}).") from None
        return ExerciseProgress(*row) if row else ExerciseProgress(exercise)

    def all(self) -> dict[str, ExerciseProgress]:
        """Every exercise with a record, by name."""
        try:
            rows = self.conn.execute(f"SELECT {self._COLUMNS} FROM progress").fetchall()
        except sqlite3.Error as exc:
            raise ProgressError(f"progress: cannot read {self.path} ({exc}).") from None
        return {r[0]: ExerciseProgress(*r) for r in rows}

    def attempts(self, exercise: str | None = None) -> list[dict[str, Any]]:
        """The attempt log, oldest first."""
        sql = "SELECT uid, exercise, at, passed, seed, seconds FROM attempts"
        params: tuple[Any, ...] = ()
        if exercise is not None:
            sql, params = sql + " WHERE exercise = ?", (exercise,)
        rows = self.conn.execute(sql + " ORDER BY id", params).fetchall()
        keys = ("uid", "exercise", "at", "passed", "seed", "seconds")
        return [dict(zip(keys, r, strict=True)) for r in rows]


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def progress_by_lesson(store: ProgressStore | None = None) -> dict[str, LessonProgress]:
    """For each lesson with exercises (in course order): how many are passed and attempted.

    The course home shows this. Without a readable database every count is 0.
    """
    from llmmath.exercises.catalog import EXERCISES

    records: dict[str, ExerciseProgress] = {}
    try:
        if store is not None:
            records = store.all()
        else:
            with ProgressStore() as own:
                records = own.all()
    except ProgressError:
        records = {}
    out: dict[str, LessonProgress] = {}
    for lesson in dict.fromkeys(e.lesson for e in EXERCISES):
        names = tuple(e.name for e in EXERCISES if e.lesson == lesson)
        recs = [records.get(n, ExerciseProgress(n)) for n in names]
        out[lesson] = LessonProgress(lesson, names, sum(r.passed for r in recs),
                                     sum(r.attempts > 0 for r in recs))
    return out
