"""Shared helpers for the lesson notebooks.

Every lesson imports this module as ``from llmmath.lessons import _kit as kit``
and uses it for the parts that should look the same on every page:

- :func:`header` / :func:`footer` -- title, pillar, position in the course and
  links to the previous lesson, the next one and the course home;
- :func:`formula` -- a displayed equation with a short caption;
- :func:`check_yourself` -- a question whose answer opens on demand;
- :func:`claim_badge` -- the verdict of the claims ledger on a syllabus number;
- :func:`exercises` -- the exercises at the end of a lesson, each with a code
  editor and a Check button (:mod:`llmmath.lessons._exercises`);
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
    "MARGINS",
    "STYLE",
    "check_yourself",
    "claim_badge",
    "exercises",
    "figure",
    "fmt",
    "footer",
    "formula",
    "header",
    "heatmap",
    "home_href",
    "latex_matrix",
    "layout_problems",
    "lesson_href",
    "matrix_table",
    "pct",
    "sci",
    "show",
    "teaches_html",
    "value",
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
_PNG_DPI = 120  # 1.2 times the display size: crisp on laptop screens, readable on dense ones, quick


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


def teaches_html(name: str) -> str:
    """The library code lesson ``name`` teaches, one link per name to its source.

    Served pages link to the course server's source view (a new tab, so the
    lesson keeps its state); exported pages, which have no server, name the
    code without links.
    """
    from llmmath.source_view import source_href

    lesson = get_lesson(name)
    if not lesson.teaches:
        return ""
    items = []
    for dotted in lesson.teaches:
        label = html.escape(dotted.removeprefix("llmmath."))
        if _export_links():
            items.append(f"<code>{label}</code>")
        else:
            items.append(f'<a href="{html.escape(source_href(dotted))}" target="_blank" '
                         f'rel="noopener" data-teaches="{html.escape(dotted)}"><code>{label}'
                         f"</code></a>")
    return "The code behind this lesson: " + " · ".join(items)


def exercises_html(name: str) -> str:
    """Links to the exercises at the end of lesson ``name`` (empty when it has none)."""
    from llmmath.lessons._exercises import anchor, lesson_exercises

    items = [f'<a href="#{anchor(e.name)}" data-exercise-link="{html.escape(e.name)}">'
             f"<code>{html.escape(e.name)}</code></a>" for e in lesson_exercises(name)]
    return ("Exercises at the end of this lesson: " + " · ".join(items)) if items else ""


def header(name: str) -> mo.Html:
    """The top of lesson ``name``: navigation, number, pillar, title, summary, its code,
    and links to its exercises."""
    lesson = get_lesson(name)
    code = teaches_html(name)
    practice = exercises_html(name)
    return mo.md(
        f"{_nav_line(name)}\n\n"
        f"<small>Lesson {lesson.number} of {len(LESSONS)} · {lesson.pillar}</small>\n\n"
        f"# {html.escape(lesson.title)}\n\n"
        f"<em>{html.escape(lesson.summary)}</em>"  # summaries hold _ and *: no Markdown
        + (f"\n\n<small>{code}</small>" if code else "")
        + (f"\n\n<small>{practice}</small>" if practice else "")
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

_MARKDOWN_SPECIALS = str.maketrans({c: "\\" + c for c in "\\`*_^~$"})


def _plain(text: str) -> str:
    r"""Text shown as it is inside ``mo.md``: no Markdown, no HTML, no LaTeX.

    Ledger texts are plain text with formulas such as ``x**2``, ``e^{x²}`` or
    ``U_r``, which Markdown would turn into bold, superscripts or emphasis.

    >>> print(_plain("x**2 < 1"))
    x\*\*2 &lt; 1
    """
    return html.escape(text, quote=False).translate(_MARKDOWN_SPECIALS)


def claim_badge(claim_id: str) -> mo.Html:
    """The ledger's verdict on a number stated in the syllabus.

    Reads ``llmmath.ledger.get_claim(claim_id)``. A verified claim shows as a
    green badge; an erratum shows what the syllabus states, the correct value
    and why; an unverifiable claim says so. The source line names the syllabus
    page by its subject (``“The four pillars”``) and the section.

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
    lines = [f"**{label}** · the syllabus states: {_plain(claim.stated)}"]
    if claim.status == "erratum" and claim.correct:
        lines += ["", f"**Correct:** {_plain(claim.correct)}"]
    details = f"claim `{claim.id}` · syllabus page {_plain(claim.cited)}"
    if claim.explanation:
        details += f" · {_plain(claim.explanation)}"
    lines += ["", f"<small>{details}</small>"]
    return mo.callout(mo.md("\n".join(lines)), kind=kind)


# ----------------------------------------------------------------- controls

def exercises(name: str) -> Any:
    """The exercises section of lesson ``name``: editors, Check buttons, verdicts.

    See :mod:`llmmath.lessons._exercises` for the two cells a lesson adds.
    """
    from llmmath.lessons._exercises import ExerciseSection

    return ExerciseSection(name)


def value(control: Any) -> Any:
    """The value of a marimo control, held to the values the control offers.

    A control's value arrives from the browser, and a browser sends whatever
    it is told to: a hand-written request can set a slider that stops at 30
    to 100000. Every lesson cell reads its controls through this function,
    never through ``control.value``, so that no cell ever computes with a
    value its control does not offer:

    - a slider with ``start``/``stop``: the value clamped to ``[start, stop]``
      (a value that is not a number becomes ``start``);
    - a slider with ``steps``: the value if it is one of the steps, else the
      nearest step;
    - a switch, a checkbox or a run button: ``True`` only for ``True``;
    - a dropdown: the value if it is one of the options, else the first option;
    - a code editor: its text if it is a string, else the empty string (the text
      itself is untrusted: only ever hand it to the sandboxed exercise checker);
    - an array of controls: the list of its elements' values, each held so;
      a dictionary of controls: the dict of them.

    >>> import marimo as mo
    >>> depth = mo.ui.slider(start=2, stop=30, step=1, value=12)
    >>> value(depth)
    12
    """
    ui = mo.ui
    if isinstance(control, ui.array):
        return [value(element) for element in control]
    if isinstance(control, ui.dictionary):
        return {key: value(element) for key, element in control.items()}
    v = control.value
    if isinstance(control, ui.slider):
        number = isinstance(v, (int, float, np.integer, np.floating)) and \
            not isinstance(v, (bool, np.bool_)) and not math.isnan(v)
        if control.steps:
            steps = list(control.steps)
            if number and v in steps:
                return v
            return min(steps, key=lambda s: abs(s - v)) if number else steps[0]
        if not number:
            return control.start
        return min(max(v, control.start), control.stop)
    if isinstance(control, (ui.switch, ui.checkbox, ui.run_button)):
        return v is True
    if isinstance(control, ui.dropdown):
        options = list(control.options.values())
        if any(v is option or (type(v) is type(option) and v == option) for option in options):
            return v
        return options[0] if options else None
    if isinstance(control, ui.code_editor):
        return v if isinstance(v, str) else ""
    raise TypeError(f"value: no bounds known for a {type(control).__name__} control; "
                    f"expected a marimo slider, switch, checkbox, run button, dropdown, code editor, "
                    f"array or dictionary.")


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


def sci(x: Any, digits: int = 2) -> str:
    r"""A number in scientific notation as LaTeX, for use inside ``$...$``.

    Python's ``9.54e-07`` reads as a subtraction in a formula; this gives
    ``9.54 \cdot 10^{-7}``.

    >>> sci(0.25 ** 10), sci(-1234.5, 1), sci(0.5)
    ('9.54 \\cdot 10^{-7}', '-1.2 \\cdot 10^{3}', '5.00 \\cdot 10^{-1}')
    """
    x = float(x)
    if x == 0.0 or not math.isfinite(x):
        return fmt(x, digits)
    mantissa, exponent = f"{x:.{digits}e}".split("e")
    return f"{mantissa} \\cdot 10^{{{int(exponent)}}}"


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

# Margins in inches, the same on every figure: room for tick labels and an axis
# label on the left and at the bottom, for a title at the top, and between
# panels for the next panel's tick labels and axis label. A fixed layout costs
# nothing at draw time (an automatic one, matplotlib's constrained layout,
# costs about as much as the drawing itself, on every slider move). A figure
# that needs more room (a colour bar, a legend outside the axes, long tick
# labels) asks for it: ``kit.figure(margins={"right": 0.9})``.
MARGINS: dict[str, float] = {"left": 0.72, "right": 0.2, "bottom": 0.52, "top": 0.34,
                             "wspace": 0.78, "hspace": 0.66}


def _subplot_params(size: tuple[float, float], nrows: int, ncols: int,
                    margins: dict[str, float]) -> dict[str, float]:
    """``MARGINS``-style inches as the fractions ``Figure.subplots_adjust`` takes.

    ``wspace`` and ``hspace`` are fractions of the average panel width and height.

    >>> p = _subplot_params((5.0, 4.0), 1, 2, dict(MARGINS, left=0.5, right=0.5, wspace=1.0))
    >>> p["left"], p["right"], p["wspace"]     # two panels of 1.5 in, 1 in apart
    (0.1, 0.9, 0.6666666666666666)
    """
    unknown = set(margins) - set(MARGINS)
    if unknown:
        raise ValueError(f"figure: unknown margins {sorted(unknown)}; expected some of "
                         f"{sorted(MARGINS)}.")
    width, height = size
    inner_w = width - margins["left"] - margins["right"] - (ncols - 1) * margins["wspace"]
    inner_h = height - margins["bottom"] - margins["top"] - (nrows - 1) * margins["hspace"]
    if inner_w <= 0 or inner_h <= 0:
        raise ValueError(f"figure: margins {margins} leave no room for {nrows} x {ncols} "
                         f"panels in a {width} x {height} inch figure.")
    return {"left": margins["left"] / width, "right": 1.0 - margins["right"] / width,
            "bottom": margins["bottom"] / height, "top": 1.0 - margins["top"] / height,
            "wspace": margins["wspace"] / (inner_w / ncols),
            "hspace": margins["hspace"] / (inner_h / nrows)}


def figure(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = _FIG_SIZE,
           margins: dict[str, float] | None = None, **kwargs: Any) -> tuple[Figure, Any]:
    """A new figure in the course style and its axes: ``fig, ax = kit.figure()``.

    Built without pyplot (no global figure registry, nothing to close), so a
    lesson that redraws on every slider move does not leak memory. The panels
    sit at fixed margins (:data:`MARGINS`, in inches; ``margins`` overrides
    some of them), so a redraw spends no time on layout and the panels do not
    jump when a title or a tick label changes. Other keyword arguments go to
    :meth:`matplotlib.figure.Figure.subplots` (``width_ratios``, ``sharey``...).
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    params = _subplot_params(tuple(size), nrows, ncols, {**MARGINS, **(margins or {})})
    with mpl.rc_context(STYLE):
        fig = Figure(figsize=size)
        fig.subplots_adjust(**params)
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


def layout_problems(fig: Figure, tolerance: float = 1.0) -> list[str]:
    """What of ``fig``'s drawing does not fit its fixed layout (empty when all fits).

    Two faults are reported: a piece of text that sticks out of the canvas (cut off in the
    picture), and a panel whose labels, ticks or title run into the plotting
    area of another panel. ``tolerance`` is in pixels. The lesson tests run it
    on every figure a lesson shows.
    """
    fig.draw_without_rendering()  # text extents at the figure's own dpi
    canvas = fig.bbox
    problems = []
    visible = [ax for ax in fig.axes if ax.get_visible()]

    def outside(box: Any) -> str | None:
        by = {"left": canvas.x0 - box.x0, "bottom": canvas.y0 - box.y0,
              "right": box.x1 - canvas.x1, "top": box.y1 - canvas.y1}
        cut = {side: round(px) for side, px in by.items() if px > tolerance}
        return ", ".join(f"{px} px on the {side}" for side, px in cut.items()) or None

    for i, ax in enumerate(visible):
        box = ax.get_tightbbox()   # the panel with its ticks, labels, title, legend, texts
        if box is not None and (where := outside(box)):
            problems.append(f"panel {i} ({ax.get_title() or 'untitled'}) sticks out of "
                            f"the figure: {where}")
    for artist in [*fig.texts, *fig.legends]:
        if artist.get_visible() and (where := outside(artist.get_window_extent())):
            problems.append(f"{type(artist).__name__} of the figure sticks out: {where}")
    for i, ax in enumerate(visible):
        decorated = ax.get_tightbbox()
        if decorated is None:
            continue
        for j, other in enumerate(visible):
            if i == j or not other.axison:
                continue
            area = other.get_window_extent()
            overlap = decorated.intersection(decorated, area)
            if overlap is not None and min(overlap.width, overlap.height) > tolerance:
                problems.append(f"panel {i} ({ax.get_title() or 'untitled'}) runs into "
                                f"panel {j} ({other.get_title() or 'untitled'})")
    return problems


def show(fig: Figure, alt: str = "figure") -> mo.Html:
    """Render ``fig`` as a sharp PNG at its natural size (shrinks on narrow screens).

    >>> fig, ax = figure(size=(3.0, 2.0))
    >>> _ = ax.plot([0.0, 1.0, 2.0], [1.0, 0.0, 1.0])
    >>> 'width: 300px' in show(fig, alt="a V").text, layout_problems(fig)
    (True, [])
    """
    import matplotlib as mpl

    buffer = io.BytesIO()
    with mpl.rc_context(STYLE):
        fig.savefig(buffer, format="png", dpi=_PNG_DPI)
    width = round(fig.get_figwidth() * 100)
    return mo.image(buffer.getvalue(), alt=alt, width=width,
                    style={"max-width": "100%", "height": "auto"})
