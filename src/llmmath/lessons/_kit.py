"""Shared helpers for the lesson notebooks.

Every lesson imports this module as ``from llmmath.lessons import _kit as kit``
and uses it for the parts that should look the same on every page:

- :func:`header` / :func:`footer` -- title, pillar, position in the course and
  links to the previous lesson, the next one and the course home;
- :func:`formula` -- a displayed equation with a short caption;
- :func:`check_yourself` -- a question whose answer opens on demand;
- :func:`claim_badge` -- the verdict of the claims ledger on a syllabus number;
- :func:`fmt`, :func:`pct`, :func:`matrix_table`, :func:`latex_matrix` --
  numbers and arrays as text, always formatted from computed values;
- :func:`figure`, :func:`heatmap`, :func:`show` -- small matplotlib figures in
  one style, readable on a laptop screen.

Links depend on where the page is read: the course server serves lessons at
``/lesson/<name>/``; ``llmmath course --export DIR`` writes ``<name>.html``
files side by side and sets ``LLMMATH_COURSE_LINKS=export`` while it runs
the notebooks, so the same lesson links correctly in both places.
"""

from __future__ import annotations

import html
import io
import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import marimo as mo
import numpy as np

from llmmath.lessons import LESSONS, get_lesson, neighbours

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "LINKS_ENV",
    "STYLE",
    "check_yourself",
    "claim_badge",
    "figure",
    "fmt",
    "footer",
    "formula",
    "header",
    "heatmap",
    "home_href",
    "latex_matrix",
    "lesson_href",
    "matrix_table",
    "pct",
    "show",
]

LINKS_ENV = "LLMMATH_COURSE_LINKS"  # "export" for static HTML files, else served pages

# One matplotlib look for the whole course: small figures, large-enough text,
# no chart junk. Applied with ``matplotlib.rc_context`` (never globally).
STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.8,
    "image.cmap": "Blues",
}

_FIG_SIZE = (5.0, 3.2)  # inches; about 500 x 320 CSS pixels
_PNG_DPI = 150  # 1.5 times the display size: sharp on high-density screens, quick to redraw


# --------------------------------------------------------------------- links

def _export_links() -> bool:
    return os.environ.get(LINKS_ENV, "") == "export"


def lesson_href(name: str) -> str:
    """URL of lesson ``name`` from another lesson or the home page."""
    get_lesson(name)  # unknown names fail here, not as a dead link
    return f"{name}.html" if _export_links() else f"/lesson/{name}/"


def home_href() -> str:
    """URL of the course home."""
    return "index.html" if _export_links() else "/"


# -------------------------------------------------------------- page parts

def _nav_line(name: str) -> str:
    prev, nxt = neighbours(name)
    parts = []
    if prev is not None:
        parts.append(f"[← {prev.number}. {prev.title}]({lesson_href(prev.name)})")
    parts.append(f"[Course home]({home_href()})")
    if nxt is not None:
        parts.append(f"[{nxt.number}. {nxt.title} →]({lesson_href(nxt.name)})")
    return " &nbsp;·&nbsp; ".join(parts)


def header(name: str) -> mo.Html:
    """The top of lesson ``name``: navigation, number, pillar, title, summary."""
    lesson = get_lesson(name)
    return mo.md(
        f"{_nav_line(name)}\n\n"
        f"<small>Lesson {lesson.number} of {len(LESSONS)} · {lesson.pillar}</small>\n\n"
        f"# {html.escape(lesson.title)}\n\n"
        f"<em>{html.escape(lesson.summary)}</em>"  # summaries hold _ and *: no Markdown
    )


def footer(name: str) -> mo.Html:
    """The bottom of lesson ``name``: the same navigation links as the header."""
    return mo.md(f"---\n\n{_nav_line(name)}")


def formula(tex: str, caption: str | None = None) -> mo.Html:
    """A displayed equation (LaTeX, without ``$$``) with an optional caption.

    Write the LaTeX in a raw string: ``kit.formula(r"\\frac{a}{b}")``.
    """
    text = f"$$\n{tex.strip()}\n$$"
    if caption:
        text += f"\n\n<small>{caption}</small>"
    return mo.md(text)


def check_yourself(question: str, answer: str | mo.Html) -> mo.Html:
    """A question with its answer hidden until the reader opens it."""
    body = mo.md(answer) if isinstance(answer, str) else answer
    return mo.callout(
        mo.vstack([mo.md(f"**Check yourself.** {question}"),
                   mo.accordion({"Show the answer": body})]),
        kind="info",
    )


_BADGE = {
    "verified": ("success", "✓ Verified"),
    "erratum": ("warn", "✗ Erratum"),
    "unverifiable": ("neutral", "? Unverifiable"),
}


def claim_badge(claim_id: str) -> mo.Html:
    """The ledger's verdict on a number stated in the syllabus.

    Reads ``llmmath.ledger.get_claim(claim_id)``. A verified claim shows as a
    green badge; an erratum shows what the syllabus states, the correct value
    and why; an unverifiable claim says so.

    Raises
    ------
    RuntimeError
        If the claims ledger cannot be imported (the badge is never dropped
        silently: a lesson that cites a claim needs the ledger).
    """
    try:
        from llmmath.ledger import get_claim
    except ImportError as exc:
        raise RuntimeError(
            f"claim_badge: cannot show claim {claim_id!r}: the claims ledger "
            f"(llmmath.ledger.get_claim) is not available ({exc})."
        ) from exc
    claim = get_claim(claim_id)
    if claim.status not in _BADGE:
        raise ValueError(
            f"claim_badge: claim {claim_id!r} has status {claim.status!r}; "
            f"expected one of {sorted(_BADGE)}."
        )
    kind, label = _BADGE[claim.status]
    lines = [f"**{label}** · claim `{claim.id}` · source: {claim.source}", "",
             f"The syllabus states: {claim.stated}"]
    if claim.status == "erratum":
        lines += ["", f"Correct: {claim.correct}"]
    if claim.explanation:
        lines += ["", f"<small>{claim.explanation}</small>"]
    return mo.callout(mo.md("\n".join(lines)), kind=kind)


# ------------------------------------------------------------------ numbers

def fmt(x: Any, digits: int = 3) -> str:
    """A number as text with ``digits`` decimals (integers stay integers).

    Negative zero prints as zero, infinities as ``∞`` and ``-∞``; strings pass
    through unchanged.

    >>> fmt(0.38586), fmt(-0.0001), fmt(7), fmt(float("-inf"))
    ('0.386', '0.000', '7', '-∞')
    """
    if isinstance(x, (str, np.str_)):
        return str(x)
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    text = f"{x:.{digits}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def pct(x: Any, digits: int = 1) -> str:
    """A fraction as a percentage: ``pct(0.38586) == '38.6%'``."""
    return f"{fmt(100.0 * float(x), digits)}%"


def matrix_table(
    a: Any,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    digits: int = 3,
    corner: str = "",
) -> str:
    """A 1-D or 2-D array as an HTML table on a single line.

    Being one line, it can sit anywhere inside an indented ``mo.md(f\"\"\"…\"\"\")``
    without upsetting the indentation that ``mo.md`` strips (a multi-line
    Markdown table would). Numbers go through :func:`fmt`; strings are shown
    as they are. Rows and columns are numbered from 0 unless labels are given.
    """
    m = np.asarray(a)
    if m.ndim == 1:
        m = m[None, :]
    if m.ndim != 2:
        raise ValueError(f"matrix_table: expected a 1-D or 2-D array, got shape {m.shape}.")
    rows = list(row_labels) if row_labels is not None else [str(i) for i in range(m.shape[0])]
    cols = list(col_labels) if col_labels is not None else [str(j) for j in range(m.shape[1])]
    if len(rows) != m.shape[0] or len(cols) != m.shape[1]:
        raise ValueError(
            f"matrix_table: {len(rows)} row and {len(cols)} column labels "
            f"for an array of shape {m.shape}."
        )
    right = ' style="text-align:right"'
    head = f"<th>{html.escape(corner)}</th>" + "".join(
        f"<th{right}>{html.escape(c)}</th>" for c in cols)
    body = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        + "".join(f"<td{right}>{html.escape(fmt(v, digits))}</td>" for v in row)
        + "</tr>"
        for label, row in zip(rows, m, strict=True)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def latex_matrix(a: Any, digits: int = 3) -> str:
    r"""A 1-D or 2-D array as a LaTeX ``bmatrix`` (for :func:`formula`)."""
    m = np.atleast_2d(np.asarray(a))
    body = r" \\ ".join(" & ".join(fmt(v, digits) for v in row) for row in m)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


# ------------------------------------------------------------------ figures

def figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = _FIG_SIZE,
           **kwargs: Any) -> tuple[Figure, Any]:
    """A new figure in the course style and its axes: ``fig, ax = kit.figure()``.

    Built without pyplot (no global figure registry, nothing to close), so a
    lesson that redraws on every slider move does not leak memory.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    with mpl.rc_context(STYLE):
        fig = Figure(figsize=size, layout="constrained")
        axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def heatmap(ax: Axes, m: Any, row_labels: Sequence[str], col_labels: Sequence[str],
            digits: int = 2, vmin: float = 0.0, vmax: float = 1.0,
            cmap: str = "Blues") -> Any:
    """Draw matrix ``m`` on ``ax`` as a heatmap with every cell's value written in it."""
    import matplotlib as mpl

    m = np.asarray(m, dtype=float)
    with mpl.rc_context(STYLE):
        image = ax.imshow(m, vmin=vmin, vmax=vmax, cmap=cmap, interpolation="nearest")
        ax.set_xticks(range(m.shape[1]), labels=list(col_labels))
        ax.set_yticks(range(m.shape[0]), labels=list(row_labels))
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        middle = vmin + 0.6 * (vmax - vmin)
        for (i, j), value in np.ndenumerate(m):
            ax.text(j, i, fmt(value, digits), ha="center", va="center",
                    color="white" if value > middle else "black")
    return image


def show(fig: Figure, alt: str = "figure") -> mo.Html:
    """Render ``fig`` as a sharp PNG at its natural size (shrinks on narrow screens)."""
    import matplotlib as mpl

    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        fig.savefig(buffer, format="png", dpi=_PNG_DPI)
    width = round(fig.get_figwidth() * 100)
    return mo.image(buffer.getvalue(), alt=alt, width=width,
                    style={"max-width": "100%", "height": "auto"})
