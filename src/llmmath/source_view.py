"""llmmath's own source, one file per page, for the course: read-only and highlighted.

A lesson names the functions it teaches (``Lesson.teaches``, dotted names
such as ``"llmmath.prob.softmax"``). :func:`locate` finds the file and the
definition behind a name at the moment it is asked, with
:func:`inspect.getsourcefile`, so the links follow the package wherever a
module moves. :func:`source_href` makes the link the course server answers:
``/source/llmmath/prob/softmax.py#softmax``. :func:`render` writes that page:
the file with line numbers, syntax colours (Pygments) and an anchor on every
function and class (``#softmax``, ``#Tensor.backward``).

Only ``.py`` files inside the installed ``llmmath`` package are shown
(:func:`resolve` refuses every other path, ``..`` and links that lead out
included); the page is escaped HTML with no script.

>>> locate("llmmath.info.entropy")[1]
'entropy'
>>> source_href("llmmath.info.entropy").endswith(".py#entropy")
True
>>> resolve("llmmath/../../etc/passwd") is None, resolve("llmmath/info.pyc") is None
(True, True)
"""

from __future__ import annotations

import ast
import html
import importlib
import inspect
from pathlib import Path
from types import ModuleType

import llmmath

__all__ = ["PACKAGE_DIR", "PREFIX", "anchors", "locate", "render", "resolve", "source_href"]

PACKAGE_DIR = Path(llmmath.__file__).resolve().parent
PREFIX = "/source/"


def locate(dotted: str) -> tuple[str, str | None]:
    """Where a module, class or function of llmmath is written.

    Parameters
    ----------
    dotted : str
        A full dotted name: ``"llmmath.prob.softmax"``,
        ``"llmmath.autograd.Tensor.backward"``, ``"llmmath.info"``.

    Returns
    -------
    (path, anchor)
        ``path`` relative to the folder that holds the package
        (``"llmmath/prob/softmax.py"``, with ``/`` on every system) and the
        anchor of the definition in it (its qualified name, ``None`` for a
        module).

    Raises
    ------
    ValueError
        If the name is not an importable llmmath module, class or function.
    """
    if not isinstance(dotted, str) or not (dotted == "llmmath" or dotted.startswith("llmmath.")):
        raise ValueError(f"locate: expected a dotted name inside llmmath, got {dotted!r}.")
    parts = dotted.split(".")
    obj: object = llmmath
    for i, attr in enumerate(parts[1:], start=1):
        # An attribute first: a package may bind a function over its submodule of the
        # same name (llmmath.prob.softmax is the function); a submodule otherwise.
        if hasattr(obj, attr):
            obj = getattr(obj, attr)
            continue
        if isinstance(obj, ModuleType):
            try:
                obj = importlib.import_module(".".join(parts[: i + 1]))
                continue
            except ModuleNotFoundError:
                pass
        raise ValueError(f"locate: {dotted!r} does not exist ({'.'.join(parts[:i])} has "
                         f"no attribute {attr!r}).")
    if isinstance(obj, property):
        obj = obj.fget
    obj = inspect.unwrap(obj) if callable(obj) else obj
    if not isinstance(obj, ModuleType) and not inspect.isclass(obj) and \
            not inspect.isfunction(obj):
        raise ValueError(f"locate: {dotted!r} is a {type(obj).__name__}, not a module, "
                         f"class or function.")
    try:
        file = inspect.getsourcefile(obj)  # type: ignore[arg-type]
    except TypeError:
        file = None
    if file is None:
        raise ValueError(f"locate: no source file for {dotted!r}.")
    path = Path(file).resolve()
    if not path.is_relative_to(PACKAGE_DIR):
        raise ValueError(f"locate: {dotted!r} is defined outside llmmath (in {path.name}).")
    rel = path.relative_to(PACKAGE_DIR.parent).as_posix()
    anchor = None if isinstance(obj, ModuleType) else obj.__qualname__
    return rel, anchor


def source_href(dotted: str) -> str:
    """The course server's link to the definition of ``dotted``."""
    rel, anchor = locate(dotted)
    return PREFIX + rel + (f"#{anchor}" if anchor else "")


def resolve(rel: str) -> Path | None:
    """The file that the page ``/source/<rel>`` shows, or ``None`` when it is refused.

    ``rel`` must name a ``.py`` file inside the installed llmmath package,
    starting with ``llmmath/``: no empty, ``.`` or ``..`` parts, no hidden
    names, no backslashes, no link that resolves outside the package.
    """
    if not isinstance(rel, str) or "\\" in rel or "\x00" in rel:
        return None
    parts = rel.split("/")
    if parts[0] != PACKAGE_DIR.name or len(parts) < 2:
        return None
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    path = PACKAGE_DIR.parent.joinpath(*parts).resolve()
    if not path.is_relative_to(PACKAGE_DIR) or path.suffix != ".py" or not path.is_file():
        return None
    return path


def anchors(source: str) -> dict[int, str]:
    """Line number -> anchor for every top-level function and class and their methods.

    >>> anchors("class A:\\n    def f(self):\\n        pass\\n\\ndef g():\\n    pass\\n")
    {1: 'A', 2: 'A.f', 5: 'g'}
    """
    out: dict[int, str] = {}
    definition = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, definition):
                name = prefix + node.name
                out.setdefault(node.lineno, name)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, name + ".")

    visit(ast.parse(source).body, "")
    return out


_CSS = """
:root { color-scheme: light dark; --fg: #1d1f23; --muted: #6a717c; --bg: #fbfbfa;
        --line: #e3e3df; --accent: #1f6feb; --mark: #fff4c2; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e6e3; --muted: #9aa1ab; --bg: #16181c; --line: #30343b;
          --accent: #6ea8ff; --mark: #3a3520; } }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { padding: 1rem 1.25rem .5rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.15rem; margin: 0 0 .3rem; font-family: ui-monospace, monospace; }
header p { margin: .2rem 0; color: var(--muted); font-size: .9rem; }
nav.defs { font-size: .85rem; line-height: 1.9; }
nav.defs a { margin-right: .8rem; font-family: ui-monospace, monospace; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
pre.src { margin: 0; padding: .75rem 0 3rem; overflow-x: auto;
          font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.line { display: block; padding-right: 1.5rem; }
.line:target, .line:has(a.ln:target) { background: var(--mark); }
a.ln { display: inline-block; width: 4.2em; padding-right: 1em; text-align: right;
       color: var(--muted); user-select: none; }
"""


def _pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(style="default").get_style_defs("pre.src")
    dark = HtmlFormatter(style="github-dark").get_style_defs("pre.src")
    # the styles' own background colours would fight the page's: keep the page's
    keep = [line for line in light.splitlines() if "background" not in line.split("{")[-1]
            or ".hll" in line]
    keep_dark = [line for line in dark.splitlines() if "background" not in line.split("{")[-1]]
    return "\n".join(keep) + "\n@media (prefers-color-scheme: dark) {\n" + \
        "\n".join(keep_dark) + "\n}\n"


def _highlighted_lines(source: str) -> list[str]:
    """The source as HTML, one string per line (every span closes on its line)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    text = highlight(source, PythonLexer(stripnl=False, ensurenl=True),
                     HtmlFormatter(nowrap=True))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def render(rel: str, home: str = "/") -> str | None:
    """The page ``/source/<rel>``: the whole file, highlighted, or ``None`` if refused.

    Every line has an anchor ``#L<n>``; every function, class and method an
    anchor with its qualified name (``#softmax``, ``#Tensor.backward``).
    """
    path = resolve(rel)
    if path is None:
        return None
    source = path.read_text(encoding="utf-8")
    named = anchors(source)
    lines = _highlighted_lines(source)
    body = []
    for n, code in enumerate(lines, start=1):
        ident = f' id="{html.escape(named[n])}"' if n in named else ""
        body.append(f'<span class="line"{ident}><a class="ln" id="L{n}" href="#L{n}">{n}</a>'
                    f"{code}</span>")
    contents = " ".join(f'<a href="#{html.escape(name)}">{html.escape(name)}</a>'
                        for name in named.values() if "." not in name)
    title = html.escape(rel)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — llmmath source</title>
<style>{_CSS}{_pygments_css()}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>Read-only: the code the lessons run, as installed ({len(lines)} lines).
<a href="{html.escape(home)}">Course home</a></p>
<nav class="defs">{contents}</nav>
</header>
<pre class="src">{"".join(body)}</pre>
</body>
</html>
"""
