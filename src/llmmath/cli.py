"""The ``llmmath`` command.

The top-level app lives here; each capability registers its own subcommands
from a module in :mod:`llmmath.commands` (course and lessons, training,
the claims ledger…). Those modules import their heavy dependencies inside the
command bodies, so ``llmmath --help`` stays fast.
"""

from __future__ import annotations

import importlib

import typer

from llmmath import __version__

app = typer.Typer(
    name="llmmath",
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
