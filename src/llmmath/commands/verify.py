"""``llmmath verify``: run the claims ledger and report.

Every claim's computation runs with llmmath and with an independent reference
(SciPy, PyTorch, mpmath, exact arithmetic). The command exits with status 1
when a claim's computed status differs from the status the ledger records, or
when llmmath and the reference disagree (a library bug); with status 2 when a
reference package is missing.
"""

from __future__ import annotations

import inspect
import json
from collections import Counter
from typing import Any

import typer

from llmmath.ledger.core import DEFAULT_TIMEOUT

__all__ = ["register", "JSON_SCHEMA_VERSION", "INSTALL_HINT"]

JSON_SCHEMA_VERSION = 1
INSTALL_HINT = "pip install 'llmmath[test]'"


def _select(ids: list[str] | None, file: str | None):
    from llmmath.ledger import claims, get_claim

    if ids:
        return [get_claim(i) for i in ids]
    return claims(file)


def _summary(evaluations) -> dict[str, Any]:
    by_file: dict[str, Counter] = {}
    for e in evaluations:
        by_file.setdefault(e.claim.file, Counter())[e.claim.status] += 1
        if not e.ok:
            by_file[e.claim.file]["failing"] += 1
    total = Counter()
    for c in by_file.values():
        total.update(c)
    keys = ("verified", "erratum", "unverifiable", "failing")
    return {
        "total": {k: total.get(k, 0) for k in keys} | {"claims": len(evaluations)},
        "by_file": {f: {k: c.get(k, 0) for k in keys} for f, c in sorted(by_file.items())},
    }


def _record(e) -> dict[str, Any]:
    from llmmath.ledger.core import to_jsonable

    c = e.claim
    return {
        "id": c.id,
        "file": c.file,
        "locator": c.locator,
        "page": c.page.strip("“”"),
        "source": c.source,
        "stated": c.stated,
        "correct": c.correct,
        "computed": to_jsonable(e.ours),
        "reference": to_jsonable(e.reference),
        "status": e.computed_status,
        "recorded_status": c.status,
        "agrees": e.agrees,
        "explanation": c.explanation,
        "problems": e.problems,
    }


def _lambda_node(fn):
    """The ``ast.Lambda`` that compiled to ``fn`` (found in its file by its bytecode), or None."""
    import ast

    try:
        tree = ast.parse(inspect.getsource(inspect.getmodule(fn)))
    except (OSError, TypeError, SyntaxError):
        return None
    # where the lambda's instructions start in the file (line, column): its body's start
    starts = {(p[0], p[2]) for p in fn.__code__.co_positions() if p[0] is not None}
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda) and node.lineno == fn.__code__.co_firstlineno \
                and (node.body.lineno, node.body.col_offset) in starts:
            return node
    return None


def _value_code(value: Any) -> str:
    """A value as it would be written in Python (arrays as np.array(...), shortened if long)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, suppress=True, threshold=40, linewidth=88):
            return "np." + repr(value).replace("\n", "\n   ")     # rows under the first
    if inspect.isfunction(value) and value.__name__ == "<lambda>":
        node = _lambda_node(value)
        if node is not None:
            import ast

            return ast.unparse(node)
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    text = repr(value)
    return text if len(text) <= 400 else text[:400] + " ..."


def _is_ledger_function(value: Any) -> bool:
    """A named function of the ledger (a lambda is written out where it is used)."""
    return (inspect.isfunction(value) and value.__name__ != "<lambda>"
            and (value.__module__ or "").startswith("llmmath.ledger"))


def _readable(fn, name: str) -> tuple[str, list]:
    """``fn`` as a def named ``name`` (a lambda's expression returned), preceded by the values
    it closes over; and the ledger functions it calls, whose source is shown after it."""
    import textwrap

    node = _lambda_node(fn) if fn.__name__ == "<lambda>" else None
    if node is not None:
        import ast

        args = ast.unparse(node.args)
        body = f"def {name}({args}):\n    return {ast.unparse(node.body)}"
    else:
        try:
            body = textwrap.dedent(inspect.getsource(fn)).rstrip()
        except (OSError, TypeError):
            return repr(fn), []
    try:
        free = inspect.getclosurevars(fn)
    except (TypeError, ValueError):
        return body, []
    constants = {k: v for k, v in free.globals.items()
                 if not (inspect.ismodule(v) or callable(v))}     # data such as LOGITS, Q
    values = [f"{k} = {_value_code(v)}" for k, v in (*free.nonlocals.items(),
                                                     *constants.items())]
    helpers = [v for v in (*free.nonlocals.values(), *free.globals.values())
               if _is_ledger_function(v) and v is not fn]
    head = "# the values it uses\n" + "\n".join(values) + "\n\n" if values else ""
    return head + body, helpers


def _source_of(fn, name: str = "computation") -> str:
    """Readable code for a claim's computation: the function (a lambda becomes a def), the
    values it closes over, and the source of the ledger functions it calls (two levels)."""
    if fn is None:
        return "(none)"
    text, pending = _readable(fn, name)
    seen, parts = {fn}, [text]
    for _ in range(2):
        nxt = []
        for h in pending:
            if h in seen:
                continue
            seen.add(h)
            code, more = _readable(h, h.__name__)
            parts.append(code)
            nxt.extend(more)
        pending = nxt
    if len(parts) > 1:
        parts.insert(1, "# ... which calls:")
    return "\n\n".join(parts)


def _format_value(value: Any) -> str:
    import numpy as np

    with np.printoptions(precision=6, suppress=True, threshold=40, linewidth=96):
        if isinstance(value, dict):
            return "\n".join(f"{k}: {_format_value(v)}" for k, v in value.items())
        if isinstance(value, np.ndarray):
            return np.array2string(value)
        return repr(value) if not isinstance(value, float) else f"{value:.10g}"


def _show(console, e) -> None:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.syntax import Syntax

    c = e.claim
    lines = [
        f"[bold]{c.id}[/bold]  ({escape(c.cited)}; page {c.file})",
        f"stated:      {escape(c.stated)}",
        f"recorded:    {c.status}",
        f"computed:    {e.computed_status}",
    ]
    if c.correct and c.status != "verified":
        lines.append(f"correct:     {escape(c.correct)}")
    lines.append(f"explanation: {escape(c.explanation)}")
    if c.checkable:
        lines.append(f"tolerance:   ours vs reference rtol={c.rtol:g}, atol={c.atol:g}; needs "
                     f"{', '.join(c.needs) or 'nothing beyond NumPy'}")
    console.print(Panel("\n".join(lines), title="claim", expand=False))
    if not c.checkable:
        return
    console.print(Syntax(_source_of(c.ours, "ours"), "python", word_wrap=True), "\n")
    console.print(Panel(escape(_format_value(e.ours)), title="ours (llmmath)", expand=False))
    console.print(Syntax(_source_of(c.reference, "reference"), "python", word_wrap=True), "\n")
    console.print(Panel(escape(_format_value(e.reference)), title="reference", expand=False))
    for p in e.problems:
        console.print(f"[red]problem:[/red] {escape(p)}")


def _tables(console, evaluations, summary, list_all: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from llmmath.ledger import SYLLABUS_TITLES

    t = Table(title="The claims ledger", show_footer=True)
    t.add_column("syllabus page", footer="total")
    keys = ("verified", "erratum", "unverifiable", "failing")
    for k in keys:
        t.add_column(k, justify="right", footer=str(summary["total"][k]))
    for f, counts in summary["by_file"].items():
        t.add_row(f"{f} {escape(SYLLABUS_TITLES[f])}", *(str(counts[k]) for k in keys))
    console.print(t)

    rows = evaluations if list_all else [e for e in evaluations if e.claim.status == "erratum"]
    if rows:
        lt = Table(title="All claims" if list_all else "Errata: what the course states and what is true")
        lt.add_column("id", no_wrap=True)
        lt.add_column("stated")
        lt.add_column("correct" if not list_all else "status")
        for e in rows:
            third = e.computed_status if list_all else (e.claim.correct or "")
            lt.add_row(e.claim.id, escape(e.claim.stated), escape(third))
        console.print(lt)

    bad = [e for e in evaluations if not e.ok]
    for e in bad:
        console.print(f"[red]FAIL[/red] {e.claim.id}: " + escape("; ".join(e.problems)))
    if not bad:
        console.print(f"[green]All {len(evaluations)} claims check out:[/green] every computed "
                      "status matches the ledger and llmmath agrees with every reference.")


def register(app: typer.Typer) -> None:
    """Add ``verify`` to the ``llmmath`` app."""

    @app.command("verify")
    def verify(
        claim_ids: list[str] = typer.Argument(None, metavar="[ID]...",
                                              help="Check only these claims (default: all)."),
        show: str = typer.Option(None, "--show", metavar="ID",
                                 help="Explain one claim: its code, values and status."),
        as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
        file: str = typer.Option(None, "--file", metavar="NNN",
                                 help="Only the claims of one syllabus page (000 to 004; "
                                      "`llmmath verify` lists them by subject)."),
        list_all: bool = typer.Option(False, "--list", help="One row per claim."),
        timeout: float = typer.Option(DEFAULT_TIMEOUT, "--timeout", metavar="SECONDS", min=0.001,
                                      help="Stop a claim whose computations run longer, and "
                                           "report it as failing; the others still run."),
    ) -> None:
        """Check every number the course states, against independent references."""
        from rich.console import Console

        from llmmath.errors import InvalidValueError
        from llmmath.ledger import evaluate_all, missing_packages

        console = Console()
        try:
            selected = _select([show] if show else claim_ids, file)
        except InvalidValueError as exc:
            typer.echo(f"verify: {exc}", err=True)
            raise typer.Exit(2) from None
        missing = missing_packages(selected)
        if missing:
            names = ", ".join(missing)
            typer.echo(
                f"verify: the reference computations need {names}, which "
                f"{'is' if len(missing) == 1 else 'are'} not installed. Install the test "
                f"extras with: {INSTALL_HINT}", err=True)
            raise typer.Exit(2)
        evaluations = evaluate_all(selected, timeout=timeout)
        failed = any(not e.ok for e in evaluations)
        if as_json:
            doc = {"schema_version": JSON_SCHEMA_VERSION, "summary": _summary(evaluations),
                   "claims": [_record(e) for e in evaluations]}
            typer.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        elif show:
            _show(console, evaluations[0])
        else:
            _tables(console, evaluations, _summary(evaluations), list_all)
        raise typer.Exit(1 if failed else 0)
