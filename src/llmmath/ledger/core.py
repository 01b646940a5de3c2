"""The claim model, the registry and the evaluation of claims.

A :class:`Claim` records one statement of the course: where it is, what it
says, and what is true. Two functions come with every checkable claim:

* ``ours`` computes the quantity with llmmath (NumPy only);
* ``reference`` computes it independently (SciPy, PyTorch, mpmath or a
  closed form), importing those packages inside the function.

Evaluating a claim runs both. Ours must agree with the reference (otherwise
the library has a bug), and the claim's *computed* status -- ``verified`` when
the statement holds for our value, ``erratum`` when it does not -- must equal
the status recorded in the ledger. Claims that no computation can settle (an
estimate, an opinion, a fact about the outside world) are ``unverifiable`` and
carry the reason in their explanation.

Reading a claim (:func:`get_claim`, :func:`claims`) runs nothing: lessons show
the recorded status, the stated and the correct value straight from here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import multiprocessing
import signal
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from llmmath._files import atomic_write_text
from llmmath.errors import InvalidTypeError, InvalidValueError

__all__ = [
    "STATUSES",
    "SYLLABUS_FILES",
    "SYLLABUS_TITLES",
    "REFERENCE_PACKAGES",
    "DEFAULT_TIMEOUT",
    "Claim",
    "Evaluation",
    "add_claim",
    "get_claim",
    "claims",
    "evaluate",
    "evaluate_all",
    "missing_packages",
    "values_close",
    "to_jsonable",
    "claims_markdown",
    "write_claims_markdown",
]

STATUSES = ("verified", "erratum", "unverifiable")

# The five course pages, by the three-digit prefix of their file names.
SYLLABUS_FILES = {
    "000": "000_97d7a72c9d4a29b4.txt",
    "001": "001_c562c1f75373f238.txt",
    "002": "002_9d9b53e1f0c05a0e.txt",
    "003": "003_437b9f542ed3b60d.txt",
    "004": "004_ecbfb1364e8bbb09.txt",
}

# What each page is about: the name a learner sees (in `llmmath verify`, on the
# claim badges of the lessons, on the course home), since the files are named
# by a hash of their address.
SYLLABUS_TITLES = {
    "000": "Why maths matters for LLMs",
    "001": "The four pillars",
    "002": "Prerequisites: maths, Python and core ML",
    "003": "Mathematical foundations, a reference",
    "004": "Essential mathematics for LLMs",
}

# The test extras the reference computations import, with the import name.
REFERENCE_PACKAGES = ("scipy", "torch", "mpmath")

# Seconds a claim's two computations may take together in `llmmath verify` (its
# --timeout option); the slowest claim takes well under a second.
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Claim:
    """One statement of the course and what is true about it.

    Attributes
    ----------
    id : str
        Stable identifier, ``"<file prefix>-<short-name>"``.
    file : str
        The syllabus prefix (``"000"`` ... ``"004"``).
    locator : str
        The section heading where the statement is made.
    stated : str
        The statement, short: the formula or the number as the page gives it.
    status : str
        The recorded status: ``verified``, ``erratum`` or ``unverifiable``.
    correct : str or None
        What is true, as text (for an erratum the corrected value).
    explanation : str
        One or two sentences: why it holds, why it is wrong, or why nothing can
        check it.
    ours, reference : callable or None
        Zero-argument functions computing the claim's value with llmmath and
        independently. ``None`` only for unverifiable claims.
    holds : callable or None
        ``holds(ours_value) -> bool``: does the statement hold for this value?
        When omitted, ``stated_value`` is compared with the value within
        ``stated_tol``.
    stated_value, stated_tol
        The number(s) the page states and how far from them still counts as
        the same (its rounding).
    correct_value, correct_tol
        The corrected number(s) of an erratum; checked against our value so
        that the recorded text cannot drift from the computation.
    value_key : str or None
        When ``ours`` returns a mapping, the key that ``stated_value`` and
        ``correct_value`` refer to.
    rtol, atol : float
        Tolerance between ours and the reference.
    needs : tuple of str
        Reference packages the reference function imports.
    """

    id: str
    file: str
    locator: str
    stated: str
    status: str
    explanation: str
    correct: str | None = None
    ours: Callable[[], Any] | None = field(default=None, repr=False, compare=False)
    reference: Callable[[], Any] | None = field(default=None, repr=False, compare=False)
    holds: Callable[[Any], bool] | None = field(default=None, repr=False, compare=False)
    stated_value: Any = None
    stated_tol: float = 0.0
    correct_value: Any = None
    correct_tol: float = 0.0
    value_key: str | None = None
    rtol: float = 1e-7
    atol: float = 1e-9
    needs: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """The syllabus file and the section, e.g. ``001_c56….txt § Perplexity``."""
        return f"{SYLLABUS_FILES[self.file]} § {self.locator}"

    @property
    def page(self) -> str:
        """The page by its subject: ``“The four pillars”``."""
        return f"“{SYLLABUS_TITLES[self.file]}”"

    @property
    def cited(self) -> str:
        """The page by its subject and the section, e.g. ``“The four pillars” § Perplexity``."""
        return f"{self.page} § {self.locator}"

    @property
    def checkable(self) -> bool:
        return self.ours is not None


_REGISTRY: dict[str, Claim] = {}
_LOADED = False
_CLAIM_MODULES = (
    "claims_foundation",
    "claims_pillars",
    "claims_pillars_derivations",
    "claims_pillars_theory",
    "claims_prerequisites",
    "claims_mlcourse",
    "claims_essentials",
)


def add_claim(**fields: Any) -> Claim:
    """Build a :class:`Claim`, check it is well formed, and register it."""
    c = Claim(**fields)
    if c.id in _REGISTRY:
        raise InvalidValueError(f"add_claim: duplicate claim id {c.id!r}.")
    if c.file not in SYLLABUS_FILES:
        raise InvalidValueError(
            f"add_claim: claim {c.id!r} has file {c.file!r}; expected one of "
            f"{sorted(SYLLABUS_FILES)}."
        )
    if not c.id.startswith(c.file + "-"):
        raise InvalidValueError(f"add_claim: claim id {c.id!r} must start with {c.file + '-'!r}.")
    if c.status not in STATUSES:
        raise InvalidValueError(
            f"add_claim: claim {c.id!r} has status {c.status!r}; expected one of {STATUSES}."
        )
    if not c.explanation.strip():
        raise InvalidValueError(f"add_claim: claim {c.id!r} needs an explanation.")
    if c.status == "unverifiable":
        if c.ours is not None or c.reference is not None:
            raise InvalidValueError(
                f"add_claim: unverifiable claim {c.id!r} must not carry computations."
            )
    else:
        if c.ours is None or c.reference is None:
            raise InvalidValueError(
                f"add_claim: claim {c.id!r} ({c.status}) needs both 'ours' and 'reference'."
            )
        if c.holds is None and c.stated_value is None:
            raise InvalidValueError(
                f"add_claim: claim {c.id!r} needs 'holds' or a 'stated_value'."
            )
        if c.status == "erratum" and not c.correct:
            raise InvalidValueError(f"add_claim: erratum {c.id!r} needs its 'correct' value.")
    unknown = set(c.needs) - set(REFERENCE_PACKAGES)
    if unknown:
        raise InvalidValueError(f"add_claim: claim {c.id!r} needs unknown packages {unknown}.")
    if c.status == "verified" and c.correct is None:
        c = Claim(**{**fields, "correct": c.stated})
    _REGISTRY[c.id] = c
    return c


def _load() -> None:
    global _LOADED
    if not _LOADED:
        for name in _CLAIM_MODULES:
            importlib.import_module(f"llmmath.ledger.{name}")
        _LOADED = True


def claims(file: str | None = None) -> list[Claim]:
    """Every claim of the ledger in syllabus order (optionally one file's).

    Lesson: ``study_path`` (A two-week study path).

    Nothing is computed: this reads the recorded data.
    """
    _load()
    if file is not None and file not in SYLLABUS_FILES:
        raise InvalidValueError(
            f"claims: argument 'file' must be one of {sorted(SYLLABUS_FILES)}; got {file!r}."
        )
    out = [c for c in _REGISTRY.values() if file is None or c.file == file]
    return sorted(out, key=lambda c: c.file)  # stable: keeps page order within a file


def get_claim(claim_id: str) -> Claim:
    """The claim with this id, as recorded (no computation runs).

    Examples
    --------
    >>> from llmmath.ledger import get_claim
    >>> c = get_claim("002-dydx-at-2")
    >>> c.status, c.stated
    ('verified', 'dy/dx of x**2 + 3x + 1 at x = 2 is 7')
    """
    if not isinstance(claim_id, str):
        raise InvalidTypeError(f"get_claim: argument 'claim_id' must be a str; got {claim_id!r}.")
    _load()
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        near = [k for k in _REGISTRY if claim_id.split("-", 1)[-1] in k][:5]
        hint = f" Did you mean one of {near}?" if near else ""
        raise InvalidValueError(
            f"get_claim: no claim with id {claim_id!r}.{hint} See llmmath/ledger/CLAIMS.md."
        ) from None


# --------------------------------------------------------------------------- #
# Evaluation
# --------------------------------------------------------------------------- #


def missing_packages(selected: Sequence[Claim] | None = None) -> list[str]:
    """Reference packages some claim needs that are not importable here."""
    selected = claims() if selected is None else selected
    needed = sorted({p for c in selected for p in c.needs})
    return [p for p in needed if importlib.util.find_spec(p) is None]


def values_close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    """Whether two results (numbers, arrays, bools, tuples, mappings) agree.

    For a mapping ``b``, only the keys of ``b`` are compared.
    """
    if isinstance(b, Mapping):
        return isinstance(a, Mapping) and all(
            k in a and values_close(a[k], v, rtol, atol) for k, v in b.items()
        )
    if isinstance(b, (str, bool, np.bool_)) or b is None:
        return bool(a == b) if not isinstance(a, np.ndarray) else False
    if isinstance(b, (tuple, list)) and any(isinstance(x, (Mapping, str)) for x in b):
        return len(a) == len(b) and all(values_close(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
    try:
        x = np.asarray(a, dtype=float)
        y = np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    if x.shape != y.shape:
        return False
    return bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))


def _pick(value: Any, key: str | None) -> Any:
    return value[key] if key is not None and isinstance(value, Mapping) else value


@dataclass(frozen=True)
class Evaluation:
    """The outcome of running one claim's computations."""

    claim: Claim
    ours: Any = None
    reference: Any = None
    computed_status: str = "unverifiable"
    agrees: bool | None = None          # ours vs the reference
    correct_matches: bool | None = None  # the recorded correct value vs ours
    error: str | None = None

    @property
    def problems(self) -> list[str]:
        """Why this claim fails verification (empty when it passes)."""
        out = []
        if self.error:
            out.append(f"computation failed: {self.error}")
        if self.computed_status != self.claim.status and not self.error:
            out.append(
                f"computed status {self.computed_status!r} differs from the recorded "
                f"{self.claim.status!r}"
            )
        if self.agrees is False:
            out.append("ours and the reference disagree (a library bug)")
        if self.correct_matches is False:
            out.append("the recorded correct value does not match the computation")
        return out

    @property
    def ok(self) -> bool:
        return not self.problems


# (claim id, id(ours), id(reference)) -> (result, (ours, reference)). The entry keeps the two
# functions alive, so their ids cannot be reused by other functions (a replaced claim's
# temporary lambda, say) while the entry exists.
_CACHE: dict[tuple[str, int, int], tuple[tuple[Any, Any, str | None], tuple[Any, Any]]] = {}


class _TimeLimit(BaseException):
    """Raised inside a claim's computation when its time is up.

    A ``BaseException``, so that a claim's own ``except Exception`` cannot swallow it.
    """


def _compute(c: Claim) -> tuple[Any, Any]:
    with np.errstate(divide="raise", over="raise", invalid="raise"):
        ours = c.ours()
    return ours, c.reference()


def _timed_out(seconds: float) -> str:
    return (f"timed out: the computations ran past the time limit of {seconds:g} s and were "
            "stopped (raise the limit if the machine is slow)")


# What the reference computations import, loaded before a claim's clock starts: an
# import takes seconds the first time (torch), which is not the claim's time.
_PRELOAD = {
    "scipy": ("scipy.linalg", "scipy.optimize", "scipy.special", "scipy.stats"),
    "torch": ("torch", "torch.func"),
    "mpmath": ("mpmath",),
}


def _preload(needs: Sequence[str]) -> None:
    for package in needs:
        for name in _PRELOAD.get(package, (package,)):
            with contextlib.suppress(ImportError):  # a missing package is reported elsewhere
                importlib.import_module(name)


def _importing(frame: Any) -> bool:
    """Whether ``frame`` (or a caller of it) is executing an import."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise :class:`_TimeLimit` in this (the main) thread after ``seconds``, with SIGALRM.

    The previous handler and timer come back afterwards. An alarm that fires
    after the block has finished is ignored, and one that fires during an
    import waits for the import to finish (a module cut short halfway would be
    left half-initialised for every claim after it).
    """
    armed = True

    def on_alarm(signum: int, frame: Any) -> None:
        if not armed:
            return
        if _importing(frame):
            signal.setitimer(signal.ITIMER_REAL, 0.05)      # try again in a moment
            return
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        try:
            armed = False
        finally:  # restored even if the alarm fired on the line above
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _can_alarm() -> bool:
    """SIGALRM is usable: POSIX, the main thread, and no other timer already running."""
    return (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))


def _worker(c: Claim, conn: Any) -> None:  # runs in a forked child
    try:
        conn.send(("ok", _compute(c)))
    except Exception as exc:  # noqa: BLE001 - sent back and reported
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _in_worker(c: Claim, seconds: float) -> tuple[Any, Any, str | None]:
    """Run the claim in a forked process, killed when ``seconds`` have passed."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(c, send), daemon=True)
    with warnings.catch_warnings():
        # Python 3.12+ warns that a child forked from a threaded process may deadlock;
        # if it does, the limit below kills it and the claim is reported as timed out.
        warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
        proc.start()
    send.close()
    try:
        if not receive.poll(seconds):
            return None, None, _timed_out(seconds)
        try:
            status, payload = receive.recv()
        except (EOFError, OSError):
            return None, None, "the process computing the claim died without an answer"
        except Exception as exc:  # noqa: BLE001 - an answer that cannot be unpickled
            return None, None, f"the claim's values could not be sent back: {exc}"
        return (*payload, None) if status == "ok" else (None, None, payload)
    finally:
        receive.close()
        if proc.is_alive():
            proc.kill()
        proc.join()


def _run_limited(c: Claim, timeout: float | None) -> tuple[Any, Any, str | None]:
    """The claim's two values, or an error message (which may say that time ran out).

    In the main thread on POSIX the limit is a SIGALRM timer that interrupts the
    computation between two Python operations (one long NumPy call finishes
    first); elsewhere the claim runs in a forked process that is killed at the
    limit; where neither exists (Windows, off the main thread) it runs unlimited.
    """
    if timeout is not None:
        _preload(c.needs)
    if timeout is not None and not _can_alarm():
        if "fork" in multiprocessing.get_all_start_methods():
            return _in_worker(c, timeout)
        timeout = None
    try:
        with _alarm(timeout) if timeout is not None else contextlib.nullcontext():
            ours, reference = _compute(c)
        return ours, reference, None
    except _TimeLimit:
        return None, None, _timed_out(timeout)
    except Exception as exc:  # noqa: BLE001 - reported, never swallowed
        return None, None, f"{type(exc).__name__}: {exc}"


def _run(c: Claim, use_cache: bool, timeout: float | None = None) -> tuple[Any, Any, str | None]:
    key = (c.id, id(c.ours), id(c.reference))
    if use_cache and key in _CACHE:
        return _CACHE[key][0]
    result = _run_limited(c, timeout)
    if use_cache and not (result[2] or "").startswith("timed out"):  # a longer limit may do
        _CACHE[key] = (result, (c.ours, c.reference))
    return result


def _check_timeout(timeout: Any, op: str) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
            math.isfinite(timeout) and timeout > 0):
        raise InvalidValueError(f"{op}: argument 'timeout' must be a number of seconds > 0 or "
                                f"None (no limit); got {timeout!r}.")
    return float(timeout)


def evaluate(claim: Claim | str, *, use_cache: bool = True,
             timeout: float | None = None) -> Evaluation:
    """Run one claim's computations and compare them.

    ``use_cache`` reuses the values of an earlier run in this process (the
    computations are deterministic); the comparison with the recorded status
    always happens afresh. ``timeout`` (seconds, ``None`` for no limit) stops
    computations that run longer: the claim then fails with a message that says
    so (``computed_status`` ``"error"``).
    """
    timeout = _check_timeout(timeout, "evaluate")
    c = get_claim(claim) if isinstance(claim, str) else claim
    if not c.checkable:
        return Evaluation(claim=c)
    ours, reference, error = _run(c, use_cache, timeout)
    if error is not None:
        return Evaluation(claim=c, computed_status="error", error=error)
    value = _pick(ours, c.value_key)
    if c.holds is not None:
        holds = bool(c.holds(ours))
    else:
        holds = values_close(value, c.stated_value, rtol=0.0, atol=c.stated_tol)
    correct_matches = None
    if c.correct_value is not None:
        correct_matches = values_close(value, c.correct_value, rtol=0.0, atol=c.correct_tol)
    return Evaluation(
        claim=c,
        ours=ours,
        reference=reference,
        computed_status="verified" if holds else "erratum",
        agrees=values_close(ours, reference, rtol=c.rtol, atol=c.atol),
        correct_matches=correct_matches,
    )


def evaluate_all(
    selected: Sequence[Claim] | None = None, *, use_cache: bool = True,
    timeout: float | None = None,
) -> list[Evaluation]:
    """Evaluate every claim (or the ``selected`` ones) in ledger order.

    ``timeout`` applies to each claim on its own: one that runs past it fails,
    and the others still run.
    """
    timeout = _check_timeout(timeout, "evaluate_all")
    return [evaluate(c, use_cache=use_cache, timeout=timeout)
            for c in (claims() if selected is None else selected)]


def to_jsonable(value: Any) -> Any:
    """Numbers, arrays, mappings and sequences as plain JSON types.

    Non-finite floats become the strings ``"nan"``, ``"inf"``, ``"-inf"``
    (JSON has no such numbers).
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else str(v)
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def claims_markdown() -> str:
    """The text of ``CLAIMS.md``: every id with its status, page by page."""
    lines = [
        "# The claims ledger",
        "",
        "Generated from the ledger (`llmmath.ledger.core.write_claims_markdown()`);",
        "a test keeps it in step. Look a claim up with `llmmath.ledger.get_claim(id)`",
        "and run it with `llmmath verify --show ID`.",
    ]
    for prefix, name in SYLLABUS_FILES.items():
        lines += ["", f"## {prefix}: {SYLLABUS_TITLES[prefix]} (`{name}`)", "",
                  "| id | status | stated |", "|---|---|---|"]
        for c in claims(prefix):
            stated = c.stated.replace("|", "\\|")
            lines.append(f"| `{c.id}` | {c.status} | {stated} |")
    return "\n".join(lines) + "\n"


def write_claims_markdown(path: str | None = None) -> str:
    """Write ``CLAIMS.md`` next to this module (atomically); return its path."""
    from pathlib import Path

    target = Path(path) if path is not None else Path(__file__).with_name("CLAIMS.md")
    return str(atomic_write_text(target, claims_markdown()))
