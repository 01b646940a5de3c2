"""``llmmath.source_view``: the library's source, read-only, for the lessons' links.

The page of a module must carry an anchor for every function and class at its
``def``/``class`` line (found here by reading the file's lines, not by the
module's own AST walk), escape what it shows, and refuse every path that is
not a ``.py`` file inside the installed package. The HTTP side (200 and 404
through the real server) is in ``test_server.py``.
"""

from __future__ import annotations

import html
import inspect
import re
from pathlib import Path

import pytest

import llmmath
from llmmath import info, source_view
from llmmath.autograd import Tensor


def _ids_by_line(page: str) -> dict[int, set[str]]:
    """Line number -> the ids on that line of a rendered page."""
    out: dict[int, set[str]] = {}
    for line in re.findall(r'<span class="line"[^>]*>.*?</span>(?=<span class="line"|</pre>)',
                           page, flags=re.S):
        number = int(re.search(r'id="L(\d+)"', line).group(1))
        out[number] = set(re.findall(r'id="([^"]+)"', line)) - {f"L{number}"}
    return out


def test_a_module_page_has_every_line_and_an_anchor_per_definition() -> None:
    rel, _ = source_view.locate("llmmath.info")
    page = source_view.render(rel)
    assert page is not None
    source = Path(info.__file__).read_text(encoding="utf-8").splitlines()
    ids = _ids_by_line(page)
    assert sorted(ids) == list(range(1, len(source) + 1))
    # every top-level def/class line, found by its text
    for n, text in enumerate(source, start=1):
        match = re.match(r"(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", text)
        if match:
            assert match.group(1) in ids[n], (n, text)
    for name, fn in inspect.getmembers(info, inspect.isfunction):
        if fn.__module__ == info.__name__:
            assert f'id="{name}"' in page, name


def test_methods_are_anchored_by_qualified_name() -> None:
    rel, anchor = source_view.locate("llmmath.autograd.Tensor.backward")
    assert anchor == "Tensor.backward" and rel == source_view.locate("llmmath.autograd.Tensor")[0]
    page = source_view.render(rel)
    line = inspect.getsourcelines(Tensor.backward)[1]
    while not re.match(r"\s*def backward", inspect.getsourcelines(Tensor)[0][
            line - inspect.getsourcelines(Tensor)[1]]):
        line += 1  # past decorators, if any
    assert "Tensor.backward" in _ids_by_line(page)[line]


def test_a_function_links_to_the_file_that_defines_it() -> None:
    """Re-exported names link to where they are written, not to the package that re-exports."""
    from llmmath import prob

    rel, anchor = source_view.locate("llmmath.prob.softmax")
    assert anchor == "softmax"
    defined_in = Path(inspect.getsourcefile(prob.softmax)).resolve()
    assert rel == defined_in.relative_to(Path(llmmath.__file__).resolve().parents[1]).as_posix()
    assert source_view.source_href("llmmath.prob.softmax") == f"/source/{rel}#softmax"


def test_the_page_is_escaped_and_highlighted() -> None:
    rel, _ = source_view.locate("llmmath.source_view")
    page = source_view.render(rel)
    text = Path(source_view.__file__).read_text(encoding="utf-8")
    assert "<script" not in page and "<script" not in html.unescape(page).split("<pre", 1)[0]
    assert "&lt;span" in page  # the module's own HTML strings are shown, not rendered
    assert '<span class="k">def</span>' in page  # keywords are coloured
    # the text of the page, tags removed and entities decoded, is the file itself
    code = page.split('<pre class="src">', 1)[1].rsplit("</pre>", 1)[0]
    shown = []
    for part in code.split('<span class="line"')[1:]:
        part = part.split("</a>", 1)[1]                      # after the line number
        assert part.endswith("</span>")
        shown.append(html.unescape(re.sub(r"<[^>]+>", "", part[: -len("</span>")])))
    assert shown == text.splitlines()


@pytest.mark.parametrize("rel", [
    "", "llmmath", "llmmath/", "llmmath/../pyproject.toml", "llmmath/../../etc/passwd",
    "/etc/passwd", "llmmath//info.py", "llmmath/./info.py", "llmmath\\info.py",
    "llmmath/info.pyc", "llmmath/ledger/CLAIMS.md", "llmmath/prob", "llmmath/no_such.py",
    "numpy/__init__.py", "llmmath/.hidden.py", "llmmath/info.py\x00.txt",
    "llmmath/__pycache__/info.cpython-311.pyc",
])
def test_paths_outside_the_package_are_refused(rel: str) -> None:
    assert source_view.resolve(rel) is None
    assert source_view.render(rel) is None


def test_a_link_out_of_the_package_is_refused(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "llmmath"
    package.mkdir()
    (package / "inside.py").write_text("def f():\n    return 1\n")
    outside = tmp_path / "secret.py"
    outside.write_text("TOKEN = 'x'\n")
    (package / "escape.py").symlink_to(outside)
    monkeypatch.setattr(source_view, "PACKAGE_DIR", package.resolve())
    assert source_view.resolve("llmmath/inside.py") == (package / "inside.py").resolve()
    assert source_view.resolve("llmmath/escape.py") is None
    page = source_view.render("llmmath/inside.py")
    assert 'id="f"' in page and 'id="L2"' in page


@pytest.mark.parametrize("dotted, why", [
    ("numpy.exp", "inside llmmath"), ("llmmath.info.no_such", "does not exist"),
    ("llmmath.no_such_module", "does not exist"), ("llmmath.lessons.LESSONS", "not a module"),
    ("llmmath.server.HOST", "not a module"),
])
def test_locate_refuses_what_has_no_source_here(dotted: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        source_view.locate(dotted)
