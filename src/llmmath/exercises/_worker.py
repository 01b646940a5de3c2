"""The sandboxed half of the exercise checker: run a learner's function on the inputs it is sent.

The checker (:mod:`llmmath.exercises.sandbox`) starts this file as a script in
a fresh process::

    python -I _worker.py CONFIG_JSON READ_FD WRITE_FD

in an empty temporary directory. The process loads the learner's file by its
path, then answers one request per frame on the two pipes: the arguments of a
call in, the return value (or what went wrong) out. It never imports llmmath
and refuses to let the learner's code do so, so neither the reference
implementations nor the case generator exist on this side: the parent sends
inputs and compares the outputs itself.

Before the learner's code runs, the process lowers its own resource limits
(address space, CPU time, file size, no core dumps), installs an audit hook
that refuses writes anywhere under the protected directories (the llmmath
package, the progress database) and reads of the package, and refuses new
processes and network connections. ``print`` goes to a capped buffer. None of
this is a security boundary against a determined attacker (the parent also
checks the library's files by hash); it keeps honest mistakes from doing harm
and turns each of them into a clear message.

The module is importable without side effects: the parent uses
:func:`encode`, :func:`decode`, :func:`send`, :func:`recv` and
:class:`TestFunction` from here, so both sides speak the same wire format.
Only the standard library and NumPy are imported.
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import math
import os
import struct
import sys
import traceback
from typing import Any

import numpy as np

__all__ = ["encode", "decode", "send", "recv", "TestFunction", "Unencodable", "MAX_FRAME"]

MAX_FRAME = 64 << 20          # bytes in one message; a bigger reply is refused
_MAX_DEPTH = 32               # nesting of lists and tuples in a message
_HEADER = struct.Struct(">Q")
_KINDS = "biuf"               # bool, signed, unsigned, float: what may cross the pipe


class Unencodable(TypeError):
    """A value that cannot be sent (an object array, a class instance, a generator...)."""


# ----------------------------------------------------------------------------------- wire format
def encode(x: Any, depth: int = 0) -> Any:
    """A JSON-ready form of ``x``: arrays as dtype, shape and raw bytes; tuples marked as tuples."""
    if depth > _MAX_DEPTH:
        raise Unencodable(f"a value nested more than {_MAX_DEPTH} levels deep")
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        if abs(x) >= 1 << 63:
            raise Unencodable(f"an integer too large for int64 ({x.bit_length()} bits)")
        return x
    if isinstance(x, float):
        return x                                            # json writes NaN and Infinity
    if isinstance(x, (np.ndarray, np.generic)):
        a = np.asarray(x)
        if a.dtype.kind not in _KINDS:
            raise Unencodable(f"a NumPy {'scalar' if a.ndim == 0 else 'array'} of dtype {a.dtype}")
        a = np.array(a, order="C", copy=True)        # (ascontiguousarray would make 0-d 1-d)
        return {"__nd__": [a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode(),
                           isinstance(x, np.generic)]}
    if isinstance(x, TestFunction):
        return {"__fn__": x.spec}
    if isinstance(x, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in x]}
    if isinstance(x, list):
        return [encode(v, depth + 1) for v in x]
    raise Unencodable(f"an object of type {type(x).__name__}")


def decode(x: Any, depth: int = 0) -> Any:
    """Inverse of :func:`encode`; refuses anything :func:`encode` would not have produced."""
    if depth > _MAX_DEPTH:
        raise ValueError("message nested too deeply")
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, list):
        return [decode(v, depth + 1) for v in x]
    if isinstance(x, dict) and len(x) == 1:
        (key, value), = x.items()
        if key == "__tuple__" and isinstance(value, list):
            return tuple(decode(v, depth + 1) for v in value)
        if key == "__fn__" and isinstance(value, dict):
            return TestFunction(value)
        if key == "__nd__" and isinstance(value, list) and len(value) == 4:
            dtype_str, shape, data, scalar = value
            dtype = np.dtype(str(dtype_str))
            if dtype.kind not in _KINDS or not all(isinstance(s, int) and s >= 0 for s in shape):
                raise ValueError("bad array header")
            raw = base64.b64decode(data, validate=True)
            if len(raw) != dtype.itemsize * math.prod(shape):
                raise ValueError("array data of the wrong length")
            a = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
            return a[()] if scalar and a.ndim == 0 else a
    raise ValueError(f"unexpected value in message: {str(x)[:80]}")


def send(fd: int, message: dict[str, Any]) -> None:
    """Write one frame: an 8-byte length, then the message as JSON."""
    payload = json.dumps(message, allow_nan=True).encode()
    if len(payload) > MAX_FRAME:
        raise Unencodable(f"a reply of {len(payload) >> 20} MiB (the limit is {MAX_FRAME >> 20})")
    data = _HEADER.pack(len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(fd: int) -> dict[str, Any]:
    """Read one frame written by :func:`send` (blocking)."""
    (n,) = _HEADER.unpack(_read_exact(fd, _HEADER.size))
    if n > MAX_FRAME:
        raise ValueError(f"a frame of {n} bytes")
    message = json.loads(_read_exact(fd, n))
    if not isinstance(message, dict):
        raise ValueError("a frame that is not an object")
    return message


# ------------------------------------------------------------- functions handed to the learner
class TestFunction:
    """A scalar function of an array, sent by description (code cannot cross the pipe).

    ``spec`` is ``{"family": ..., "shape": [...], "params": {name: list}}``; both
    processes rebuild the same function from it, so the checker's reference
    and the learner's code differentiate exactly the same ``f``.

    Families: ``quadratic`` ``0.5 sum(a x^2) + sum(b x)``, ``trig``
    ``sum(a sin(b x)) + sum(c cos x)``, ``logsumexp`` ``log sum exp(a x)``,
    ``cubic`` ``sum(a x^3) + (sum b x)^2``.
    """

    FAMILIES = ("quadratic", "trig", "logsumexp", "cubic")

    def __init__(self, spec: dict[str, Any]) -> None:
        family = spec.get("family")
        if family not in self.FAMILIES:
            raise ValueError(f"unknown test function family {family!r}")
        self.spec = {"family": family, "shape": [int(s) for s in spec["shape"]],
                     "params": {k: [float(v) for v in np.ravel(p)]
                                for k, p in spec["params"].items()}}
        self.shape = tuple(self.spec["shape"])
        self._p = {k: np.asarray(v, dtype=np.float64).reshape(self.shape)
                   for k, v in self.spec["params"].items()}

    def __call__(self, x: Any) -> float:
        x = np.asarray(x, dtype=np.float64)
        if x.shape != self.shape:
            raise ValueError(f"f expects an array of shape {self.shape} (the shape of x); "
                             f"it was called with shape {x.shape}")
        p, fam = self._p, self.spec["family"]
        if fam == "quadratic":
            return float(0.5 * np.sum(p["a"] * x * x) + np.sum(p["b"] * x))
        if fam == "trig":
            return float(np.sum(p["a"] * np.sin(p["b"] * x)) + np.sum(p["c"] * np.cos(x)))
        if fam == "logsumexp":
            z = p["a"] * x
            m = np.max(z) if z.size else 0.0
            return float(m + np.log(np.sum(np.exp(z - m))))
        return float(np.sum(p["a"] * x * x * x) + np.sum(p["b"] * x) ** 2)

    def __repr__(self) -> str:
        formula = {"quadratic": "0.5*sum(a*x**2) + sum(b*x)",
                   "trig": "sum(a*sin(b*x)) + sum(c*cos(x))",
                   "logsumexp": "log(sum(exp(a*x)))",
                   "cubic": "sum(a*x**3) + sum(b*x)**2"}[self.spec["family"]]
        params = ", ".join(f"{k} = {np.array2string(v, separator=', ')}"
                           for k, v in self._p.items())
        return f"<f(x) = {formula} with {params}>"


# --------------------------------------------------------------------------------- the sandbox
class RefusedBySandbox(PermissionError):
    """Something the checker does not allow (the parent reports it as such, by this name)."""


class _Flood(BaseException):
    """Raised inside the learner's code when it prints more than the limit."""


class _CappedStream(io.TextIOBase):
    """A text stream that keeps the first ``keep`` characters and counts the rest."""

    def __init__(self, keep: int, limit: int) -> None:
        self.keep, self.limit = keep, limit
        self.buffer_text: list[str] = []
        self.kept = 0
        self.total = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        s = str(s)
        self.total += len(s)
        if self.kept < self.keep:
            part = s[: self.keep - self.kept]
            self.buffer_text.append(part)
            self.kept += len(part)
        if self.total > self.limit:
            raise _Flood()
        return len(s)

    def take(self) -> tuple[str, int]:
        text, total = "".join(self.buffer_text), self.total
        self.buffer_text, self.kept, self.total = [], 0, 0
        return text, total


def _set_limits(cfg: dict[str, Any]) -> None:
    import resource

    def lower(which: int, value: int) -> None:
        soft, hard = resource.getrlimit(which)
        new_hard = value if hard == resource.RLIM_INFINITY else min(hard, value)
        resource.setrlimit(which, (min(value, new_hard), new_hard))

    lower(resource.RLIMIT_CORE, 0)
    lower(resource.RLIMIT_FSIZE, int(cfg["file_bytes"]))
    if cfg.get("memory_bytes"):
        lower(resource.RLIMIT_AS, int(cfg["memory_bytes"]))
    cpu = int(math.ceil(cfg["cpu_seconds"]))
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    new_hard = cpu + 2 if hard == resource.RLIM_INFINITY else min(hard, cpu + 2)
    resource.setrlimit(resource.RLIMIT_CPU, (min(cpu, new_hard), new_hard))


class _NoLibrary:
    """A meta-path finder that refuses ``import llmmath`` (the code being checked against)."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        root = fullname.partition(".")[0]
        if root in self.names:
            raise ImportError(f"import {fullname}: the exercise asks you to write this yourself, "
                              f"so {root} cannot be imported while your code is checked",
                              name=fullname)
        return None


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _install_audit_hook(protected_write: list[str], protected_read: list[str]) -> None:
    """Refuse writes under ``protected_write``, reads under ``protected_read``, processes, sockets."""
    roots_w = [os.path.realpath(p) for p in protected_write]
    roots_r = [os.path.realpath(p) for p in protected_read]
    real = os.path.realpath

    def under(path: Any, roots: list[str]) -> bool:
        if isinstance(path, int) or path is None:
            return False
        try:
            p = real(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(p == r or p.startswith(r + os.sep) for r in roots)

    path_events = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.truncate", "os.chmod",
                   "os.chown", "os.link", "os.symlink", "os.utime", "shutil.rmtree",
                   "shutil.move", "shutil.copyfile", "os.chflags", "os.lchown", "os.setxattr",
                   "os.removexattr"}
    refused = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
               "os.fork", "os.forkpty", "socket.connect", "socket.bind", "socket.sendto",
               "os.kill", "os.killpg", "signal.pthread_kill", "pty.spawn"}

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and bool(flags & _WRITE_FLAGS))
            if writing and under(path, roots_w):
                raise RefusedBySandbox(f"the checker does not let exercise code write to {path}")
            if under(path, roots_r):
                raise RefusedBySandbox(f"the checker does not let exercise code read {path}")
        elif event in path_events:
            for a in args[:2]:
                if under(a, roots_w):
                    raise RefusedBySandbox(f"{event}: the checker does not let exercise code "
                                          f"change {a}")
        elif event in refused:
            raise RefusedBySandbox(f"{event}: exercise code may not start processes, send "
                                  f"signals or open network connections while it is checked")

    sys.addaudithook(hook)


def _forbid(names: list[str]) -> None:
    """Replace NumPy functions (``"numpy.dot"``...) with ones that raise, for the whole run."""
    import operator

    def refuse(qualname: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            raise RefusedBySandbox(f"{qualname} is not allowed in this exercise: compute the "
                                  f"result with loops or broadcasting")
        refused.__name__ = qualname.rpartition(".")[2]
        return refused

    for qualname in names:
        module_name, _, attr = qualname.rpartition(".")
        if module_name == "operator":
            setattr(operator, attr, refuse(qualname))
            continue
        module = sys.modules.get(module_name)
        if module is None:
            try:
                module = __import__(module_name, fromlist=[attr])
            except ImportError:
                continue
        if hasattr(module, attr):
            setattr(module, attr, refuse(qualname))


class _NoMatmul(np.ndarray):
    """An array view whose ``@``, ``.dot`` and matrix-product functions raise.

    Results of other operations stay of this type, so ``(A * 1) @ B`` is
    refused too; :func:`numpy.asarray` removes it (the source check catches ``@``).
    """

    _BANNED = ("matmul", "dot", "vdot", "inner", "tensordot", "einsum", "vecdot", "matvec",
               "vecmat", "multi_dot")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if ufunc.__name__ in self._BANNED:
            raise RefusedBySandbox(f"numpy.{ufunc.__name__} (or the @ operator) is not allowed in "
                                  f"this exercise: compute the product with loops or broadcasting")
        inputs = tuple(np.asarray(i) if isinstance(i, _NoMatmul) else i for i in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(o) if isinstance(o, _NoMatmul) else o
                                  for o in kwargs["out"])
        result = getattr(ufunc, method)(*inputs, **kwargs)
        return _rewrap(result)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func.__name__ in self._BANNED:
            raise RefusedBySandbox(f"numpy.{func.__name__} is not allowed in this exercise: "
                                  f"compute the product with loops or broadcasting")
        args = _unwrap(args)
        kwargs = _unwrap(kwargs)
        return _rewrap(func(*args, **kwargs))

    def dot(self, *args: Any, **kwargs: Any) -> Any:
        raise RefusedBySandbox("ndarray.dot is not allowed in this exercise: compute the product "
                              "with loops or broadcasting")

    def __matmul__(self, other: Any) -> Any:
        raise RefusedBySandbox("the @ operator is not allowed in this exercise: compute the "
                              "product with loops or broadcasting")

    __rmatmul__ = __imatmul__ = __matmul__


def _unwrap(x: Any) -> Any:
    if isinstance(x, _NoMatmul):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _rewrap(x: Any) -> Any:
    if type(x) is np.ndarray:
        return x.view(_NoMatmul)
    if isinstance(x, tuple):
        return tuple(_rewrap(v) for v in x)
    return x


def _plain(x: Any) -> Any:
    """Undo :class:`_NoMatmul` in a return value so that it can be encoded."""
    if isinstance(x, _NoMatmul):
        return np.asarray(x).view(np.ndarray)
    if isinstance(x, tuple):
        return tuple(_plain(v) for v in x)
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def _copy(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, list):
        return [_copy(v) for v in x]
    if isinstance(x, tuple):
        return tuple(_copy(v) for v in x)
    return x


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.shape == b.shape
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f")))
    if isinstance(a, (list, tuple)):
        return (isinstance(b, type(a)) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    return True


def _learner_traceback(exc: BaseException, filename: str) -> str:
    """The traceback of ``exc`` limited to frames in the learner's file (and the last frame)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if f.filename == filename]
    if frames and frames[-1].filename not in (filename, __file__):
        mine.append(frames[-1])
    lines = traceback.format_list(mine)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines).rstrip()


def _describe_exception(exc: BaseException, filename: str) -> dict[str, Any]:
    if isinstance(exc, SystemExit):
        return {"ok": False, "kind": "exit", "code": repr(exc.code)}
    if isinstance(exc, _Flood):
        return {"ok": False, "kind": "flood"}
    if isinstance(exc, KeyboardInterrupt):
        return {"ok": False, "kind": "exception", "type": "KeyboardInterrupt", "message": "",
                "traceback": _learner_traceback(exc, filename)}
    return {"ok": False, "kind": "exception", "type": type(exc).__name__,
            "message": str(exc)[:2000], "errno": getattr(exc, "errno", None),
            "traceback": _learner_traceback(exc, filename)[:6000]}


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[1])
    rfd, wfd = int(argv[2]), int(argv[3])
    _set_limits(cfg)
    sys.meta_path.insert(0, _NoLibrary(tuple(cfg["blocked_imports"])))
    for name in list(sys.modules):
        if name.partition(".")[0] in cfg["blocked_imports"]:
            del sys.modules[name]
    _forbid(cfg.get("forbidden", []))
    _install_audit_hook(cfg["protected_write"], cfg["protected_read"])
    out = _CappedStream(cfg["keep_chars"], cfg["output_chars"])
    sys.stdout = sys.stderr = out
    builtins.input = lambda *a: (_ for _ in ()).throw(EOFError("input() is not available"))

    import importlib.util

    path, fn_name = cfg["path"], cfg["function"]
    try:
        spec = importlib.util.spec_from_file_location("exercise_submission", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["exercise_submission"] = module
        spec.loader.exec_module(module)
        fn = getattr(module, fn_name, None)
        if not callable(fn):
            text, total = out.take()
            send(wfd, {"ok": False, "kind": "missing", "printed": text, "printed_chars": total,
                       "found": type(fn).__name__})
            return 0
    except BaseException as exc:  # noqa: BLE001 - every failure of the learner's file is reported
        reply = _describe_exception(exc, path)
        reply["phase"] = "load"
        reply["printed"], reply["printed_chars"] = out.take()
        send(wfd, reply)
        return 0
    text, total = out.take()
    send(wfd, {"ok": True, "kind": "ready", "printed": text, "printed_chars": total})

    wrap = bool(cfg.get("no_matmul"))
    while True:
        try:
            request = recv(rfd)
        except EOFError:
            return 0
        args = decode(request["args"])
        kwargs = {k: decode(v) for k, v in request.get("kwargs", {}).items()}
        names = request.get("names", [])
        if wrap:
            args = [a.view(_NoMatmul) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                    for a in args]
        before = [_copy(a) for a in args], {k: _copy(v) for k, v in kwargs.items()}
        try:
            result = fn(*args, **kwargs)
            reply = {"ok": True, "kind": "result"}
            try:
                reply["result"] = encode(_plain(result))
            except Unencodable as exc:
                reply = {"ok": False, "kind": "unencodable", "what": str(exc)}
            mutated = [names[i] if i < len(names) else f"argument {i}"
                       for i, (a, b) in enumerate(zip(before[0], args, strict=True))
                       if not _same(a, np.asarray(b) if isinstance(b, _NoMatmul) else b)]
            mutated += [k for k, v in kwargs.items() if not _same(before[1][k], v)]
            reply["mutated"] = mutated
        except BaseException as exc:  # noqa: BLE001
            reply = _describe_exception(exc, path)
        reply["printed"], reply["printed_chars"] = out.take()
        try:
            send(wfd, reply)
        except Unencodable as exc:
            send(wfd, {"ok": False, "kind": "unencodable", "what": str(exc), "printed": "",
                       "printed_chars": 0})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
