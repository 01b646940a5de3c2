"""Run a learner's function in a separate, limited process: the checker's side of ``_worker.py``.

A :class:`Worker` copies the learner's source into a fresh temporary
directory, starts ``python -I _worker.py`` there (a new session, so the whole
process group can be killed), and then sends it one call at a time over a
pair of pipes. The learner's module is never imported into this process, and
the worker never sees a reference value: it receives inputs and returns
outputs.

Every way a submission can go wrong comes back as an :class:`Outcome` with a
``kind``: ``exception`` (raised, with the learner's part of the traceback),
``exit`` (``sys.exit``), ``timeout`` (no answer within the wall-clock limit; the
process is killed), ``died`` (the process ended: ``os._exit``, a signal such
as the CPU limit's SIGXCPU, a segmentation fault), ``flood`` (printed more
than the limit), ``unencodable`` (returned something that is not numbers),
``missing`` (the file defines no such function). Nothing here raises for a
mistake in the learner's code, and nothing waits without a deadline.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmmath.exercises import _worker as wire

__all__ = ["Limits", "Outcome", "Worker", "WORKER_PATH"]

WORKER_PATH = Path(wire.__file__).resolve()


@dataclass(frozen=True)
class Limits:
    """Resource limits of one check.

    ``call_seconds`` is the wall-clock limit of one call, ``load_seconds`` that
    of starting the process and running the file's top level,
    ``cpu_seconds`` the CPU time of the worker's whole life (RLIMIT_CPU),
    ``memory_mb`` its address space (RLIMIT_AS), ``output_chars`` what one call
    may print before it is stopped, ``file_bytes`` the largest file it may
    write (RLIMIT_FSIZE, which also caps output written to the raw file
    descriptors).
    """

    call_seconds: float = 10.0
    load_seconds: float = 30.0
    cpu_seconds: float = 120.0
    memory_mb: int = 1024
    output_chars: int = 1 << 20
    file_bytes: int = 16 << 20


@dataclass
class Outcome:
    """What one step of the worker produced (see the module docstring for ``kind``)."""

    kind: str
    result: Any = None
    exc_type: str = ""
    message: str = ""
    traceback: str = ""
    errno: int | None = None
    code: str = ""
    mutated: list[str] = field(default_factory=list)
    printed: str = ""
    printed_chars: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind in ("ready", "result")


_SIGNALS = {signal.SIGKILL: "it was killed (SIGKILL), most often for using too much memory",
            signal.SIGXCPU: "it used up its CPU-time limit (SIGXCPU)",
            signal.SIGSEGV: "it crashed with a segmentation fault (SIGSEGV)",
            signal.SIGABRT: "it aborted (SIGABRT)",
            signal.SIGXFSZ: "it wrote a file larger than the limit (SIGXFSZ)",
            signal.SIGBUS: "it crashed with a bus error (SIGBUS)",
            signal.SIGFPE: "it crashed with a floating-point exception (SIGFPE)"}


def _package_root() -> Path:
    import llmmath

    return Path(llmmath.__file__).resolve().parent


class Worker:
    """One sandboxed process that runs ``function`` from ``source``.

    Parameters
    ----------
    source : str
        The learner's file, as text.
    function : str
        The name of the function to call.
    display : str
        How the file is named in messages (its path).
    limits : Limits
    forbidden : sequence of str
        Qualified names (``"numpy.dot"``) that raise inside the worker.
    no_matmul : bool
        Hand float arrays to the function as a view whose ``@`` raises.
    protected : sequence of path
        Directories the learner's code may not write to (besides the llmmath package).

    Use as a context manager; :meth:`close` kills what is left.
    """

    def __init__(self, source: str, function: str, *, display: str = "submission.py",
                 limits: Limits | None = None, forbidden: tuple[str, ...] = (),
                 no_matmul: bool = False, protected: tuple[str | Path, ...] = ()) -> None:
        self.source, self.function, self.display = source, function, display
        self.limits = limits or Limits()
        self.forbidden, self.no_matmul = tuple(forbidden), no_matmul
        self.protected = tuple(str(p) for p in protected)
        self.proc: subprocess.Popen[bytes] | None = None
        self.tmp: str | None = None
        self._r = self._w = -1
        self.path = ""
        self.starts = 0

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> Outcome:
        """Start the process and run the file's top level; ``kind == "ready"`` on success."""
        self.close()
        self.starts += 1
        self.tmp = tempfile.mkdtemp(prefix="llmmath-check-")
        work = Path(self.tmp)
        self.path = str(work / "exercise_submission.py")
        with open(self.path, "w", encoding="utf-8") as f:   # a scratch copy, removed on close
            f.write(self.source)
        root = _package_root()
        lim = self.limits
        cfg = {
            "path": self.path, "function": self.function,
            "blocked_imports": ["llmmath"],
            "protected_write": [str(root), *self.protected],
            "protected_read": [str(root)],
            "forbidden": list(self.forbidden), "no_matmul": self.no_matmul,
            "memory_bytes": int(lim.memory_mb) << 20 if lim.memory_mb else 0,
            "cpu_seconds": lim.cpu_seconds, "file_bytes": lim.file_bytes,
            "keep_chars": 4000, "output_chars": lim.output_chars,
        }
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.tmp,
               "TMPDIR": self.tmp, "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MPLBACKEND": "Agg"}
        for key in ("OPENBLAS_CORETYPE", "SYSTEMROOT"):
            if key in os.environ:
                env[key] = os.environ[key]
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        log = open(work / "output.log", "wb")  # noqa: SIM115 - the child writes here
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", str(WORKER_PATH), json.dumps(cfg), str(to_child_r),
                 str(from_child_w)],
                cwd=self.tmp, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                pass_fds=(to_child_r, from_child_w), start_new_session=True)
        finally:
            log.close()
            os.close(to_child_r)
            os.close(from_child_w)
        self._w, self._r = to_child_w, from_child_r
        return self._exchange(None, self.limits.load_seconds)

    def call(self, args: list[Any], kwargs: dict[str, Any] | None = None,
             names: tuple[str, ...] = ()) -> Outcome:
        """Run the function once; restarts the process first if an earlier call killed it."""
        if not self.alive:
            ready = self.start()
            if not ready.ok:
                return ready
        request = {"args": [wire.encode(a) for a in args],
                   "kwargs": {k: wire.encode(v) for k, v in (kwargs or {}).items()},
                   "names": list(names)}
        return self._exchange(request, self.limits.call_seconds)

    def close(self) -> None:
        """Stop the process (its whole group) and remove the temporary directory."""
        for fd in (self._r, self._w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._r = self._w = -1
        if self.proc is not None:
            try:
                self.proc.wait(timeout=0.5)      # it exits by itself once its pipe closes
            except subprocess.TimeoutExpired:
                self._kill()
            self.proc = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    # ------------------------------------------------------------------ internals
    def _kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process that survives SIGKILL
            pass

    def _exchange(self, request: dict[str, Any] | None, timeout: float) -> Outcome:
        t0 = time.perf_counter()
        try:
            if request is not None:
                wire.send(self._w, request)
            reply = self._recv(t0 + timeout)
        except TimeoutError:
            self._kill()
            return Outcome("timeout", seconds=time.perf_counter() - t0,
                           message=f"no answer within {timeout:g} s (the process was stopped)")
        except (EOFError, BrokenPipeError, ConnectionError, OSError):
            return self._died(time.perf_counter() - t0)
        except (ValueError, KeyError, TypeError) as exc:
            self._kill()
            return Outcome("bad_reply", message=f"the worker's reply was unreadable ({exc})",
                           seconds=time.perf_counter() - t0)
        seconds = time.perf_counter() - t0
        kind = str(reply.get("kind", "bad_reply"))
        out = Outcome(kind, seconds=seconds,
                      printed=str(reply.get("printed", "")).replace(self.path, self.display),
                      printed_chars=int(reply.get("printed_chars", 0)),
                      mutated=[str(m) for m in reply.get("mutated", [])])
        if kind == "result":
            try:
                out.result = wire.decode(reply["result"])
            except (ValueError, KeyError, TypeError) as exc:
                return Outcome("bad_reply", message=f"the return value was unreadable ({exc})")
        elif kind == "exception":
            out.exc_type = str(reply.get("type", "Exception"))
            out.message = str(reply.get("message", ""))
            out.errno = reply.get("errno")
            out.traceback = str(reply.get("traceback", "")).replace(self.path, self.display)
            out.message = out.message.replace(self.path, self.display)
        elif kind == "exit":
            out.code = str(reply.get("code", ""))
        elif kind == "unencodable":
            out.message = str(reply.get("what", ""))
        elif kind == "missing":
            out.message = str(reply.get("found", ""))
        if reply.get("phase") == "load" and kind != "ready":
            out.kind = "load_" + kind if kind in ("exception", "exit", "flood") else kind
        return out

    def _recv(self, deadline: float) -> dict[str, Any]:
        header = self._read(wire._HEADER.size, deadline)
        (n,) = wire._HEADER.unpack(header)
        if n > wire.MAX_FRAME:
            raise ValueError(f"a reply of {n} bytes")
        message = json.loads(self._read(n, deadline))
        if not isinstance(message, dict):
            raise ValueError("a reply that is not an object")
        return message

    def _read(self, n: int, deadline: float) -> bytes:
        chunks, got = [], 0
        while got < n:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._r], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._r, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _died(self, seconds: float) -> Outcome:
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._kill()
                code = self.proc.returncode
        printed = self._log_tail()
        if code is not None and code < 0:
            how = _SIGNALS.get(-code, f"it was stopped by signal {-code}")
        else:
            how = (f"it exited with status {code} without answering (os._exit, or a crash "
                   f"inside a compiled library)")
        return Outcome("died", message=how, code=str(code), printed=printed, seconds=seconds)

    def _log_tail(self, limit: int = 2000) -> str:
        if self.tmp is None:
            return ""
        try:
            with open(Path(self.tmp) / "output.log", "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - limit))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""
