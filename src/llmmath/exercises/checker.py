"""The checker: is a learner's function right? Property-based, sandboxed, with a clear verdict.

A check goes in four steps, and stops at the first failure:

1. **The source.** Parsed here (never run here): a syntax error, a missing
   function, a signature that differs from the exercise's, ``import llmmath``
   (the library being checked against) or, where an exercise forbids it,
   ``@``/``np.dot``... each become a message naming the line.
2. **Edge cases.** The exercise's named inputs (logits of ±1e4, ``-inf``
   masks, zeros in distributions, ``T = 1``, ``k = V``...) are sent to the
   learner's function in a sandboxed worker (:mod:`llmmath.exercises.sandbox`)
   and the answers compared with the library's.
3. **Random cases.** Hypothesis draws inputs (shapes, dtypes, batch axes)
   from a seeded generator; when one fails, it shrinks the input to the
   smallest that still fails, and that is what the learner sees, with the
   expected and the actual output and the tolerance. The seed is printed, and
   ``--seed`` replays the same cases.
4. **Integrity.** The files of the reference modules are hashed before and
   after; a check during which they changed is void.

The worker only ever receives inputs: the reference answers are computed in
this process and never cross the pipe. Progress (attempts, passes, hints) is
recorded in :mod:`llmmath.exercises.progress`.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import os
import secrets
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from llmmath.exercises.compare import first_difference, show
from llmmath.exercises.sandbox import Limits, Outcome, Worker
from llmmath.exercises.spec import Exercise, library

__all__ = ["CheckResult", "Failure", "check_source", "check_file", "default_examples",
           "default_path", "WORKSPACE"]

WORKSPACE = "llmmath-exercises"      # where `llmmath exercise start` puts the stubs


def default_examples() -> int:
    """Random cases per check: ``LLMMATH_EXERCISE_EXAMPLES`` or 100."""
    try:
        return max(1, int(os.environ.get("LLMMATH_EXERCISE_EXAMPLES", "100")))
    except ValueError:
        return 100


def default_path(name: str, directory: str | Path | None = None) -> Path:
    """``./llmmath-exercises/NAME.py`` (or ``DIRECTORY/NAME.py``)."""
    return Path(directory if directory is not None else WORKSPACE) / f"{name}.py"


@dataclass
class Failure:
    """Why a check did not pass: one self-contained message and, for a wrong answer, the input."""

    kind: str
    message: str
    label: str = ""
    inputs: dict[str, str] = field(default_factory=dict)
    expected: str | None = None
    got: str | None = None
    tolerance: str | None = None
    detail: str = ""

    def report(self) -> str:
        lines = [self.message]
        if self.inputs:
            lines.append(f"  input ({self.label}):" if self.label else "  input:")
            for k, v in self.inputs.items():
                lines.append(_indent(f"{k} = {v}", 4))
        if self.expected is not None:
            lines.append(_indent(f"expected: {self.expected}", 2))
        if self.got is not None:
            lines.append(_indent(f"got:      {self.got}", 2))
        if self.tolerance:
            lines.append(f"  tolerance: {self.tolerance}")
        if self.detail:
            lines.append(_indent(self.detail, 2))
        return "\n".join(lines)


@dataclass
class CheckResult:
    """The verdict of one check. ``to_json()`` is what ``llmmath exercise check --json`` prints."""

    exercise: str
    passed: bool
    failures: list[Failure]
    hint: str | None = None
    hint_number: int | None = None
    seed: int = 0
    cases: int = 0
    seconds: float = 0.0
    reference: str = ""
    notices: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"exercise": self.exercise, "passed": self.passed,
                "failures": [asdict(f) for f in self.failures], "hint": self.hint,
                "hint_number": self.hint_number, "seed": self.seed, "cases": self.cases,
                "seconds": round(self.seconds, 3), "reference": self.reference,
                "notices": list(self.notices)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def report(self) -> str:
        """The verdict as text: the failure with its input, the next hint, how to reproduce."""
        if self.passed:
            text = (f"{self.exercise}: passed ({self.cases} cases, seed {self.seed}, "
                    f"{self.seconds:.2f} s). Checked against {self.reference}.\n"
                    f"A reference solution to compare with: llmmath exercise solution "
                    f"{self.exercise}")
        else:
            text = f"{self.exercise}: not passed yet.\n" + "\n".join(
                f.report() for f in self.failures)
            if self.hint:
                text += f"\nHint {self.hint_number} of 3: {self.hint}"
            if self.failures and self.failures[0].kind in _REPLAYABLE:
                text += (f"\nReproduce: llmmath exercise check {self.exercise} "
                         f"--seed {self.seed}")
        for n in self.notices:
            text += f"\nnote: {n}"
        return text


_REPLAYABLE = {"mismatch", "exception", "mutated", "type", "timeout", "died", "memory",
               "flood", "output"}


_NO_NEW_HINT = {"stub", "syntax", "missing", "signature", "load", "tampered", "internal"}


class _Stop(BaseException):
    """Ends the random phase at once (a timeout, a crash: nothing to gain from shrinking)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class _InternalError(BaseException):
    """A bug on the checker's side (a generated case the reference rejects): never shrunk."""


class _Wrong(AssertionError):
    """A wrong answer inside the random phase: Hypothesis shrinks the input."""


def _indent(text: str, n: int) -> str:
    pad = " " * n
    return "\n".join(pad + line for line in text.splitlines())


# ------------------------------------------------------------------------------- the source
def _literal(node: ast.expr | None) -> Any:
    try:
        return ast.literal_eval(node) if node is not None else None
    except ValueError:
        return ast.unparse(node)


def _static_check(ex: Exercise, source: str, display: str) -> Failure | None:
    try:
        tree = ast.parse(source, filename=display)
    except SyntaxError as exc:
        text = (exc.text or "").rstrip("\n")
        caret = " " * max(0, (exc.offset or 1) - 1) + "^" if text else ""
        return Failure("syntax", f"{display}, line {exc.lineno}: {exc.msg} (the file does not "
                                 f"parse, so nothing was run)",
                       detail="\n".join(x for x in (text, caret) if x))
    banned = {n for n in ex.forbidden_syntax if n != "@"}
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
            for a in node.names:
                if a.name in banned:
                    return _forbidden(ex, node, f"imports {a.name}")
        if any(m.partition(".")[0] == "llmmath" for m in modules):
            return Failure("forbidden", f"{display}, line {node.lineno}: the file imports "
                                        f"llmmath. The exercise is to write {ex.function} "
                                        f"yourself, so the library it is checked against "
                                        f"cannot be used (NumPy, math and SciPy can).")
        if "@" in ex.forbidden_syntax and isinstance(node, (ast.BinOp, ast.AugAssign)) \
                and isinstance(node.op, ast.MatMult):
            return _forbidden(ex, node, "uses the @ operator")
        if isinstance(node, ast.Attribute) and node.attr in banned:
            return _forbidden(ex, node, f"uses {ast.unparse(node)}")
        if isinstance(node, ast.Name) and node.id in banned:
            return _forbidden(ex, node, f"uses {node.id}")
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name == ex.function]
    assigned = any(isinstance(n, (ast.Assign, ast.AnnAssign, ast.Import, ast.ImportFrom))
                   and ex.function in _bound_names(n) for n in tree.body)
    if not defs:
        if assigned:
            return None
        return Failure("missing", f"{display} defines no function {ex.function}. The exercise "
                                  f"asks for:  def {ex.signature}:")
    fn = defs[-1]
    if isinstance(fn, ast.AsyncFunctionDef):
        return Failure("signature", f"{ex.function} is declared `async def`; write a plain "
                                    f"`def {ex.signature}:`.")
    args = fn.args
    positional = args.posonlyargs + args.args
    names = [a.arg for a in positional]
    wanted = list(ex.parameter_names)
    theirs = f"def {ex.function}({ast.unparse(args)})"
    if names[: len(wanted)] != wanted and args.vararg is None:
        return Failure("signature", f"line {fn.lineno}: the signature should be exactly "
                                    f"`def {ex.signature}:` (the checker passes these names); "
                                    f"yours is `{theirs}`.")
    defaults = dict(zip(names[len(names) - len(args.defaults):], args.defaults, strict=True))
    for p in ex.parameters:
        if p.default is None or p.name not in names:
            continue
        want = ast.literal_eval(p.default)
        if p.name not in defaults:
            return Failure("signature", f"line {fn.lineno}: {p.name} should default to "
                                        f"{p.default} as in `def {ex.signature}:`; yours has "
                                        f"no default.")
        got = _literal(defaults[p.name])
        if got != want or type(got) is not type(want) and not (
                isinstance(got, (int, float)) and isinstance(want, (int, float))):
            return Failure("signature", f"line {fn.lineno}: {p.name} should default to "
                                        f"{p.default}; yours defaults to "
                                        f"{ast.unparse(defaults[p.name])}.")
    extra = names[len(wanted):]
    missing_default = [n for n in extra if n not in defaults]
    if missing_default:
        return Failure("signature", f"line {fn.lineno}: the extra parameters "
                                    f"{', '.join(missing_default)} need defaults (the checker "
                                    f"calls {ex.signature}).")
    return None


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).partition(".")[0] for a in node.names}
    return set()


def _forbidden(ex: Exercise, node: ast.AST, what: str) -> Failure:
    return Failure("forbidden", f"line {getattr(node, 'lineno', '?')}: {ex.function} {what}. "
                                f"This exercise asks for the product written out with loops "
                                f"or broadcasting and a sum; @, np.dot, np.matmul, np.einsum, "
                                f"np.tensordot and np.inner do the work for you.")


# ------------------------------------------------------------------------------- integrity
def _integrity_files(ex: Exercise) -> list[Path]:
    """The files whose code decides the verdict: the reference modules and the checker."""
    files = {Path(__file__).resolve()}
    here = Path(__file__).resolve().parent
    files.update(p.resolve() for p in here.rglob("*.py"))
    for dotted in ex.references_all:
        module_name = dotted.rpartition(".")[0]
        for candidate in (module_name, module_name.rpartition(".")[0]):
            module = sys.modules.get(candidate)
            path = getattr(module, "__file__", None)
            if path:
                files.add(Path(path).resolve())
                break
    return sorted(files)


def _hashes(paths: list[Path]) -> dict[str, str]:
    out = {}
    for p in paths:
        try:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        except OSError:
            out[str(p)] = "missing"
    return out


# ------------------------------------------------------------------------------- the run
class _Run:
    """Sends cases to the worker and turns each outcome into a Failure or None."""

    def __init__(self, ex: Exercise, worker: Worker, display: str) -> None:
        self.ex, self.worker, self.display = ex, worker, display
        self.cases = 0

    def tolerance(self, case: dict[str, Any]) -> Any:
        import numpy as np

        def has32(v: Any) -> bool:
            if isinstance(v, (list, tuple)):
                return any(has32(x) for x in v)
            return isinstance(v, (np.ndarray, np.generic)) and v.dtype == np.float32

        return self.ex.tolerance32 if any(has32(v) for v in case.values()) else self.ex.tolerance

    def split(self, case: dict[str, Any]) -> tuple[list[Any], dict[str, Any], tuple[str, ...]]:
        args, kwargs, names, positional = [], {}, [], True
        for p in self.ex.parameters:
            if p.name not in case:
                positional = False
                continue
            if positional:
                args.append(case[p.name])
                names.append(p.name)
            else:
                kwargs[p.name] = case[p.name]
        return args, kwargs, tuple(names)

    def run(self, case: dict[str, Any], label: str) -> Failure | None:
        ex = self.ex
        try:
            expected = ex.expected(**copy.deepcopy(case))
        except Exception as exc:  # noqa: BLE001 - a generator bug is ours, not the learner's
            raise _InternalError(f"exercise {ex.name}: the reference {ex.reference} rejected "
                                 f"a generated case {case!r}: {exc!r}") from exc
        args, kwargs, names = self.split(case)
        out = self.worker.call(args, kwargs, names)
        self.cases += 1
        return self.judge(out, case, expected, label)

    def _inputs(self, case: dict[str, Any]) -> dict[str, str]:
        return {k: show(v) for k, v in case.items()}

    def judge(self, out: Outcome, case: dict[str, Any], expected: Any,
              label: str) -> Failure | None:
        ex, fn = self.ex, self.ex.function
        inputs = self._inputs(case)
        printed = _printed(out)
        if out.kind == "result":
            if ex.pure and out.mutated:
                return Failure("mutated", f"{fn} changed its argument{'s' if len(out.mutated) > 1 else ''} "
                                          f"{', '.join(out.mutated)} in place. The caller's array "
                                          f"must stay as it was: work on a copy (x = x - m, "
                                          f"not x -= m).", label, inputs, detail=printed)
            diff = first_difference(expected, out.result, self.tolerance(case))
            if diff is None:
                return None
            tol = self.tolerance(case)
            return Failure("mismatch", f"{fn} returned a wrong answer: {diff}.", label, inputs,
                           show(expected), show(out.result), tol.text(), printed)
        if out.kind == "exception":
            tb = out.traceback + (f"\n{printed}" if printed else "")
            if out.exc_type == "NotImplementedError":
                raise _Stop(Failure("stub", f"{fn} is still the stub: it raises "
                                            f"NotImplementedError. Replace the `raise` line "
                                            f"with your code.", detail=""))
            if out.exc_type in ("MemoryError", "_ArrayMemoryError"):
                raise _Stop(Failure("memory", f"{fn} ran out of memory (the check allows "
                                              f"{self.worker.limits.memory_mb} MiB): "
                                              f"{out.message}", label, inputs, detail=tb))
            if out.exc_type == "OSError" and out.errno == 27:
                raise _Stop(Failure("output", f"{fn} wrote more than "
                                              f"{self.worker.limits.file_bytes >> 20} MiB of "
                                              f"output; remove the prints from its loops.",
                                    label, inputs, detail=tb))
            if out.exc_type == "RefusedBySandbox":
                raise _Stop(Failure("forbidden", f"{fn} did something the checker refuses: "
                                                 f"{out.message}", label, inputs, detail=tb))
            return Failure("exception", f"{fn} raised {out.exc_type}: {out.message}", label,
                           inputs, expected=show(expected), detail=tb)
        if out.kind == "unencodable":
            return Failure("type", f"{fn} returned {out.message}; expected numbers "
                                   f"(an array, a float, or a tuple of them).", label, inputs,
                           expected=show(expected), detail=printed)
        raise _Stop(self.fatal(out, label, inputs))

    def fatal(self, out: Outcome, label: str, inputs: dict[str, str]) -> Failure:
        fn, lim = self.ex.function, self.worker.limits
        printed = _printed(out)
        if out.kind == "timeout":
            return Failure("timeout", f"{fn} did not return within {lim.call_seconds:g} s on "
                                      f"this input (an endless loop?); the process was stopped.",
                           label, inputs, detail=printed)
        if out.kind == "exit":
            return Failure("exit", f"{fn} called sys.exit({out.code}) (or raised SystemExit). "
                                   f"Return the answer instead.", label, inputs, detail=printed)
        if out.kind == "flood":
            return Failure("flood", f"{fn} printed more than {lim.output_chars:,} characters "
                                    f"on one input, so it was stopped; remove the prints from "
                                    f"its loops.", label, inputs, detail=printed)
        if out.kind == "died":
            return Failure("died", f"the process running {fn} ended without answering: "
                                   f"{out.message}.", label, inputs, detail=printed)
        return Failure("internal", f"the sandbox failed: {out.kind} {out.message}", label,
                       inputs, detail=printed)


def _printed(out: Outcome) -> str:
    if not out.printed and not out.printed_chars:
        return ""
    text = out.printed.rstrip()
    if len(text) > 1500:
        text = text[:1500] + " ..."
    extra = (f" ({out.printed_chars:,} characters in all)"
             if out.printed_chars > len(out.printed) else "")
    return f"it printed{extra}:\n{_indent(text, 2)}" if text else ""


def _load_failure(ex: Exercise, out: Outcome, display: str, run: _Run) -> Failure:
    printed = _printed(out)
    if out.kind == "load_exception":
        return Failure("load", f"{display} raised {out.exc_type} while it was loaded (its top "
                               f"level ran before {ex.function} could be called): "
                               f"{out.message}", detail=out.traceback + (
                                   f"\n{printed}" if printed else ""))
    if out.kind == "missing":
        return Failure("missing", f"after running {display}, {ex.function} is "
                                  f"{out.message}, not a function.")
    if out.kind == "load_exit":
        return Failure("exit", f"{display} called sys.exit({out.code}) while it was loaded.")
    if out.kind == "load_flood":
        return Failure("flood", f"{display} printed more than "
                                f"{run.worker.limits.output_chars:,} characters while it was "
                                f"loaded.")
    if out.kind == "timeout":
        return Failure("timeout", f"loading {display} took longer than "
                                  f"{run.worker.limits.load_seconds:g} s (is there an endless "
                                  f"loop at its top level?); the process was stopped.")
    return run.fatal(out, "while loading the file", {})


def _random_phase(run: _Run, seed: int, max_examples: int) -> Failure | None:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as hseed
    from hypothesis.errors import Flaky, Unsatisfiable

    found: list[Failure] = []

    @hseed(seed)
    @settings(max_examples=max_examples, deadline=None, database=None, derandomize=False,
              verbosity=Verbosity.quiet, report_multiple_bugs=False, print_blob=False,
              phases=(Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck))
    @given(run.ex.cases())
    def prop(case: dict[str, Any]) -> None:
        failure = run.run(case, "the smallest failing input found")
        if failure is not None:
            found.append(failure)
            raise _Wrong(failure.message)

    try:
        prop()
    except _Stop as stop:
        return stop.failure
    except _Wrong:
        return found[-1]
    except Flaky:
        if found:
            f = found[-1]
            f.message += (" (the same input did not fail every time: does the function "
                          "depend on a random number or a global variable?)")
            return f
        raise
    except Unsatisfiable as exc:   # pragma: no cover - a generator bug
        raise RuntimeError(f"exercise {run.ex.name}: no valid case could be generated") from exc
    except BaseExceptionGroup as group:  # several failures reported at once
        if found:
            return found[-1]
        raise group
    return None


# ------------------------------------------------------------------------------- entry points
def check_source(name: str, source: str, *, display: str | None = None, seed: int | None = None,
                 max_examples: int | None = None, limits: Limits | None = None,
                 record: bool = True, store: Any = None) -> CheckResult:
    r"""Check ``source`` (the text of a learner's file) against exercise ``name``.

    Parameters
    ----------
    name : str
        The exercise (see ``llmmath exercise list``).
    source : str
        The learner's code, defining the exercise's function.
    display : str, optional
        How the file is named in messages.
    seed : int, optional
        The Hypothesis seed (random when omitted; always reported).
    max_examples : int, optional
        Random cases (:func:`default_examples` by default).
    limits : Limits, optional
        Time, memory and output limits of the sandbox.
    record : bool
        Record the attempt (and, on failure, the hint shown) in the progress store.
    store : ProgressStore, optional
        Where to record; the per-user store by default.

    Returns
    -------
    CheckResult
        ``passed``, the ``failures`` (at most one), the ``hint`` for a failure.

    Examples
    --------
    >>> wrong = "import numpy as np\ndef causal_mask(T):\n    return np.triu(np.ones((T, T), bool))\n"
    >>> r = check_source("causal_mask", wrong, seed=0, max_examples=5, record=False)
    >>> r.passed, r.failures[0].kind, r.failures[0].inputs
    (False, 'mismatch', {'T': '2'})
    >>> print(r.failures[0].message)
    causal_mask returned a wrong answer: the result at index (0, 1): expected False, got True (2 of 4 entries differ).
    """
    from llmmath.exercises.catalog import get_exercise

    ex = get_exercise(name)
    display = display or f"{ex.name}.py"
    seed = secrets.randbits(32) if seed is None else int(seed)
    max_examples = default_examples() if max_examples is None else int(max_examples)
    limits = limits or Limits()
    t0 = time.perf_counter()
    failure = _static_check(ex, source, display)
    cases = 0
    if failure is None:
        library(ex.reference)                      # import the reference before the worker runs
        for extra in ex.references:
            library(extra)
        files = _integrity_files(ex)
        before = _hashes(files)
        protected = tuple(_protected_dirs())
        with Worker(source, ex.function, display=display, limits=limits,
                    forbidden=ex.forbidden, no_matmul=ex.no_matmul,
                    protected=protected) as worker:
            run = _Run(ex, worker, display)
            ready = worker.start()
            try:
                if not ready.ok:
                    failure = _load_failure(ex, ready, display, run)
                else:
                    failure = _edge_phase(run)
                    if failure is None:
                        failure = _random_phase(run, seed, max_examples)
            except _InternalError as exc:
                raise RuntimeError(str(exc)) from None
            cases = run.cases
        after = _hashes(files)
        changed = [f for f in files if before[str(f)] != after[str(f)]]
        if changed:
            failure = Failure("tampered", "these files changed while the check ran, so the "
                                          "check is void (exercise code must not touch the "
                                          "library): " + ", ".join(str(c) for c in changed)
                                          + ". Restore them (reinstall llmmath).")
    result = CheckResult(ex.name, failure is None, [failure] if failure else [], seed=seed,
                         cases=cases, seconds=time.perf_counter() - t0, reference=ex.reference)
    _record(result, ex, source, record, store)
    return result


def _edge_phase(run: _Run) -> Failure | None:
    for label, case in run.ex.edge_cases():
        try:
            failure = run.run(case, f"edge case: {label}")
        except _Stop as stop:
            return stop.failure
        if failure is not None:
            return failure
    return None


def _protected_dirs() -> list[Path]:
    try:
        from llmmath.exercises.progress import data_dir

        return [data_dir()]
    except Exception:  # noqa: BLE001 - no data directory is no reason to refuse a check
        return []


def _record(result: CheckResult, ex: Exercise, source: str, record: bool, store: Any) -> None:
    if not record:
        if not result.passed:
            result.hint, result.hint_number = ex.hints[0], 1
        return
    from llmmath.exercises.progress import ProgressError, ProgressStore

    try:
        own = store is None
        store = store or ProgressStore()
        try:
            result.notices.extend(store.notices)
            store.record_attempt(ex.name, result.passed, seed=result.seed,
                                 seconds=result.seconds,
                                 source_sha256=hashlib.sha256(source.encode()).hexdigest())
            if not result.passed:
                # a wrong answer earns the next hint; an unwritten or unreadable file does not
                take = result.failures[0].kind not in _NO_NEW_HINT
                result.hint_number, result.hint = (store.take_hint if take else
                                                   store.peek_hint)(ex.name, ex.hints)
            result.notices.extend(n for n in store.notices if n not in result.notices)
        finally:
            if own:
                store.close()
    except ProgressError as exc:
        result.notices.append(str(exc))
        if not result.passed and result.hint is None:
            result.hint, result.hint_number = ex.hints[0], 1


def check_file(name: str, path: str | Path | None = None, **kwargs: Any) -> CheckResult:
    """Check the learner's file (``./llmmath-exercises/NAME.py`` by default); see :func:`check_source`.

    Raises
    ------
    FileNotFoundError
        No such file (start the exercise first).
    """
    path = Path(path) if path is not None else default_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"exercise {name}: no file {path}; create it with "
                                f"`llmmath exercise start {name}` or pass --file PATH.")
    source = path.read_text(encoding="utf-8", errors="replace")
    kwargs.setdefault("display", str(path))
    return check_source(name, source, **kwargs)
