"""The ``llmmath`` command.

The top-level app lives here; each capability registers its own subcommands
from a module in :mod:`llmmath.commands` (course and lessons, training,
the claims ledger…). Those modules import their heavy dependencies inside the
command bodies, so ``llmmath --help`` stays fast.

A command that fails prints one line, ``error: …``, naming the option or the path
at fault and what to do, and exits with status 1; ``LLMMATH_DEBUG=1`` shows the
traceback instead.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from llmmath import __version__


class _Group(TyperGroup):
    """The top-level group: a failure that escapes a command becomes one message and status 1.

    An llmmath error, an ``OSError`` (a full disk, a read-only directory…) or running out of
    memory prints ``error: …`` in the command's terms (:mod:`llmmath.commands._messages`);
    anything else is reported as a bug. ``LLMMATH_DEBUG=1`` lets the traceback through.
    """

    def invoke(self, ctx: Any) -> Any:
        from llmmath.commands import _messages as m

        try:
            return super().invoke(ctx)
        except m.passes_through():
            raise
        except BrokenPipeError:     # the reader went away (`llmmath ... | head`): say nothing
            raise typer.Exit(1) from None
        except Exception as exc:
            if m.debug_requested():
                raise
            name = ctx.invoked_subcommand or "llmmath"
            command = self.get_command(ctx, name) if ctx.invoked_subcommand else None
            options = m.option_names(command) if command is not None else {}
            m.print_error(m.user_message(exc, name, options) if m.expected(exc)
                          else m.internal_message(exc, name))
            raise typer.Exit(1) from None


app = typer.Typer(
    name="llmmath",
    cls=_Group,
    help="The mathematics of large language models, executable.",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

# Modules under llmmath.commands that define `register(app)`, in help order.
COMMAND_MODULES = ("course", "training", "interop", "compress", "verify", "exercise", "scaling")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"llmmath {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """The mathematics of large language models, executable."""


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"llmmath.commands.{name}").register(app)


_register_all()


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
