"""What a learner reads when a command fails: one short message in the command's own terms.

The library's errors speak Python: ``TrainConfig: argument 'batch_size' must
be >= 1`` names the function and the argument. At the command line the same
setting is the option ``--batch-size``, so :func:`user_message` rewrites a
message in the words the user typed:

* the leading ``operation:`` becomes the command (``train:``, ``eval:``);
* an argument that is one of the command's options becomes that option
  (``argument 'max_tokens'`` becomes ``--max-tokens``); a training setting
  also names ``--set name=...``;
* the operating system's errors say what happened and what to do: a full
  disk, a read-only or forbidden directory, a path that is a file where a
  directory was wanted (and the reverse), a missing file;
* running out of memory names the size options of the command.

:func:`fail` prints the message (``error: ...`` on standard error) and hands
back the exit to raise, with status 1. ``cli.py`` applies the same to
whatever escapes a command, so a traceback never reaches the learner; with
the environment variable ``LLMMATH_DEBUG=1`` the original exception and its
traceback come through instead (for a bug report).

Examples
--------
>>> from llmmath.errors import InvalidValueError
>>> user_message(InvalidValueError("TrainConfig: argument 'batch_size' must be >= 1; got 0."),
...              "train", {"batch_size": "--batch-size"})
'train: --batch-size must be >= 1; got 0.'
>>> import errno
>>> user_message(OSError(errno.ENOSPC, "No space left on device", "out/ckpt.npz"), "train",
...              {"out_dir": "--out/-o"})        # doctest: +NORMALIZE_WHITESPACE
"train: no space left on the device to write 'out/ckpt.npz'. Nothing was replaced (files are
written whole or not at all); free some space, or write elsewhere with --out/-o, and run again."
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["DEBUG_ENV", "debug_requested", "expected", "passes_through", "option_names",
           "user_message", "internal_message", "fail", "print_error"]

#: Set to 1 to see the traceback of a failure instead of its one-line message.
DEBUG_ENV = "LLMMATH_DEBUG"

#: Options that set a size, by their Python name: the ones to name when memory runs out.
SIZE_SETTINGS = ("n_layer", "n_embd", "n_head", "block_size", "batch_size", "vocab_size",
                 "eval_iters", "max_tokens", "max_new_tokens", "resamples", "chunk",
                 "chunk_size")

#: Options whose Python name differs from the library argument they feed, per command.
ALIASES: dict[str, dict[str, str]] = {
    "compare": {"n_resamples": "resamples", "rng": "seed"},
    "eval": {"order": "baselines"},
    "sample": {"rng": "seed"},
    "attention": {"path": "out"},
}

# Names of the output option, in the order they are looked for.
_OUTPUT = ("out_dir", "out", "output")


def debug_requested() -> bool:
    """True when ``LLMMATH_DEBUG`` asks for tracebacks (any value but '', '0', 'false', 'no')."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def passes_through() -> tuple[type[BaseException], ...]:
    """The exceptions that are the command line's own business (an exit, a usage error)."""
    import typer

    usage = [c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"]
    return (typer.Exit, typer.Abort, *usage)


def _out_of_memory(exc: BaseException) -> bool:
    # PyTorch's allocator raises torch.OutOfMemoryError (a RuntimeError), not MemoryError.
    return isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError"


def expected(exc: BaseException) -> bool:
    """Is ``exc`` a failure a user can cause and fix (bad input, the file system, memory)?"""
    from llmmath.errors import LLMMathError

    return isinstance(exc, (LLMMathError, OSError)) or _out_of_memory(exc)


def option_names(command: Any) -> dict[str, str]:
    """Python parameter name -> what the user types, for a click command and its subcommands.

    Options give their flags (``--out/-o``); arguments their metavar (``CHECKPOINT``). The
    fields of a command with ``--set`` (``llmmath train``) also name ``--set field=...``.
    """
    names: dict[str, str] = {}
    commands = [command]
    while commands:
        cmd = commands.pop()
        params = list(getattr(cmd, "params", ()))
        has_set = any("--set" in getattr(p, "opts", ()) for p in params)
        for p in params:
            if p.name is None or p.name in names:
                continue
            if getattr(p, "param_type_name", "") == "option":
                long = min((o for o in p.opts if o.startswith("--")), key=len, default=None)
                short = [o for o in p.opts if not o.startswith("--")]
                text = "/".join([o for o in (long, *short[:1]) if o])
                if has_set and long == "--" + p.name.replace("_", "-"):
                    text += f" (or --set {p.name}=...)"
                names[p.name] = text
            else:
                names[p.name] = p.name.upper()
        commands.extend(getattr(cmd, "commands", {}).values())     # a group's subcommands
    return names


def _identifier(name: str) -> re.Pattern[str]:
    # the bare name: not part of a longer word or a path, not a --set assignment (name=...)
    return re.compile(rf"(?<![\w/.\\-]){re.escape(name)}(?![\w/\\=-]|\.\w)")


def _rewrite(message: str, command: str, options: Mapping[str, str]) -> str:
    op = re.match(r"([A-Za-z_][\w.]*)(?:\(\))?: ", message)
    ours = not op or op.group(1) == command or command.startswith(op.group(1) + " ")
    if not ours:            # the library speaking: its operation becomes the command
        message = f"{command}: {message[op.end():]}"
    elif not message.startswith(command):
        message = f"{command}: {message}"
    done: list[str] = []           # replacements, kept out of the later passes

    def keep(text: str) -> str:
        done.append(text)
        return f"\0{len(done) - 1}\0"

    def quoted(match: re.Match[str]) -> str:
        named = match.group(1) is not None or "_" in match.group(2)   # not a quoted value
        return keep(options[match.group(2)]) if named and match.group(2) in options \
            else match.group(0)

    message = re.sub(r"(argument |setting )?'(\w+)'", quoted, message)
    # Bare names, in the library's words only (a command's own words name its options).
    # Only names with an underscore (n_embd): plain ones (split, seed, text) may be English.
    bare = [n for n in options if "_" in n] if not ours else []
    for name in sorted(bare, key=len, reverse=True):
        flag = options[name].split(" (or ")[0]
        message = _identifier(name).sub(lambda m, f=flag: keep(f), message)
    return re.sub("\0(\\d+)\0", lambda m: done[int(m.group(1))], message)


def _first(options: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    return next((options[n] for n in names if n in options), None)


def _os_message(exc: OSError, command: str, options: Mapping[str, str]) -> str:
    path = exc.filename if exc.filename is not None else None
    where = f" '{os.fsdecode(path)}'" if path is not None else ""
    if exc.filename2 is not None:
        where += f" -> '{os.fsdecode(exc.filename2)}'"
    out = _first(options, _OUTPUT)
    elsewhere = f", or write elsewhere with {out}" if out else ", or write elsewhere"
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        text = (f"no space left on the device to write{where}. Nothing was replaced (files are "
                f"written whole or not at all); free some space{elsewhere}, and run again.")
    elif code == errno.EROFS:
        text = f"{where.strip() or 'the target'} is on a read-only file system; write elsewhere" + (
            f" with {out}." if out else ".")
    elif code in (errno.EACCES, errno.EPERM):
        text = (f"permission denied for{where}: this user may not read or write there. Choose a "
                f"file or directory you own{' (' + out + ' for the output)' if out else ''}, or "
                "change its permissions.")
    elif code == errno.ENOTDIR:
        text = (f"{where.strip() or 'a path'}: a part of this path is a file, where a directory "
                f"is needed. Check the path{' (' + out + ')' if out else ''}.")
    elif code == errno.EISDIR:
        text = f"{where.strip() or 'the path'} is a directory, where a file is needed."
    elif code == errno.EEXIST:
        text = (f"{where.strip() or 'a path'} is a file, where a directory was to be made. "
                f"Check the path{' (' + out + ')' if out else ''}.")
    elif code == errno.ENOENT:
        text = f"no such file or directory:{where}."
    else:
        text = f"{exc.strerror or exc}{':' + where if where else ''}."
    return f"{command}: {text}"


def _memory_message(exc: BaseException, command: str, options: Mapping[str, str]) -> str:
    detail = str(exc).strip()
    sizes = [options[n].split(" (or ")[0] for n in SIZE_SETTINGS if n in options]
    advice = (f"make the sizes smaller ({', '.join(sizes)})" if sizes
              else "free memory, or use a smaller model or input")
    return (f"{command}: not enough memory" + (f" ({detail})" if detail else "") + f"; "
            f"{advice}.")


def user_message(exc: BaseException, command: str = "llmmath",
                 options: Mapping[str, str] | None = None) -> str:
    """The one-line message for a failure of ``command`` (see the module docstring).

    Parameters
    ----------
    exc : BaseException
        What the command raised (an llmmath error, an ``OSError``, a ``MemoryError``, or a
        plain string's worth of ``Exception``).
    command : str
        The command as typed, without the program: ``"train"``, ``"exercise check"``.
    options : mapping, optional
        Python name -> option as typed (:func:`option_names`); aliases of ``command``
        (:data:`ALIASES`) are added.
    """
    options = dict(options or {})
    for alias, name in ALIASES.get(command.split(" ")[0], {}).items():
        if name in options:
            options.setdefault(alias, options[name])
    if _out_of_memory(exc):
        return _memory_message(exc, command, options)
    if isinstance(exc, OSError) and exc.errno is not None:
        return _os_message(exc, command, options)
    from llmmath.checkpoint import CheckpointError

    if isinstance(exc, CheckpointError):    # about what a file holds, not the options typed
        options = {}
    return _rewrite(str(exc).strip() or type(exc).__name__, command, options)


def internal_message(exc: BaseException, command: str = "llmmath") -> str:
    """The message for an exception no command expected: a bug, and how to report it."""
    return (f"{command}: internal error ({type(exc).__name__}: {exc}). This is a bug in "
            f"llmmath; run the command again with {DEBUG_ENV}=1 for the traceback, and report "
            "it with that output.")


def print_error(message: str) -> None:
    """``error: message`` on standard error, in one piece (paths are not wrapped)."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False,
                                soft_wrap=True)


def _context() -> tuple[str, dict[str, str]]:
    """The running command (``train``, ``exercise check``) and its options, from click."""
    try:    # typer >= 0.20 carries its own copy of click
        from typer._click.globals import get_current_context
    except ImportError:
        from click import get_current_context

    ctx = get_current_context(silent=True)
    if ctx is None:
        return "llmmath", {}
    chain = []
    while ctx.parent is not None:
        chain.append(ctx)
        ctx = ctx.parent
    if not chain:
        return "llmmath", {}
    names: dict[str, str] = {}
    for c in chain:
        for k, v in option_names(c.command).items():
            names.setdefault(k, v)
    return " ".join(c.info_name or "" for c in reversed(chain)).strip(), names


def fail(exc: BaseException | str) -> Any:
    """Print the message of ``exc`` for the running command; return the exit to raise (status 1).

    With ``LLMMATH_DEBUG=1`` an exception that carries a traceback is raised again instead.
    """
    import typer

    if isinstance(exc, BaseException) and exc.__traceback__ is not None and debug_requested():
        raise exc
    command, options = _context()
    if isinstance(exc, str):
        message = _rewrite(exc, command, options)
    elif expected(exc) or exc.__traceback__ is None:    # raised by llmmath, or made to be shown
        message = user_message(exc, command, options)
    else:
        message = internal_message(exc, command)
    print_error(message)
    return typer.Exit(1)
