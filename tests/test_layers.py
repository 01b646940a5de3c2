"""The package's layering, read from the source: no import circle, no import of a higher layer.

Every ``import`` statement under ``src/llmmath`` counts, at module level and
inside functions alike (a function-level import is still a dependency; it only
runs later). Imports under ``if TYPE_CHECKING:`` are left out: they never run.

A module's layer is the layer of its top-level part of the package
(``llmmath.prob.softmax`` belongs to ``prob``). A module may import its own
layer and the layers below; inside one part of the package only circles are
forbidden.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import llmmath

ROOT = Path(llmmath.__file__).resolve().parent

#: Bottom to top. A part may import parts of its own layer or of a lower one.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "_validation", "_numerics", "_files"),
    # the pillars: NumPy only
    ("linalg", "info", "calculus", "prob", "attention", "stats", "ngram"),
    ("autograd", "tokenizers", "checkpoint", "data"),
    ("nn", "optim", "generate"),
    ("landscape", "train", "evaluate", "inspect_attention", "compress", "scaling"),
    ("ledger", "exercises"),
    ("lessons", "source_view"),
    ("server", "commands", "cli"),
)
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}
PILLARS = set(LAYERS[0]) | set(LAYERS[1])

#: What the pillars may import besides the standard library and llmmath itself.
PILLAR_THIRD_PARTY = {"numpy"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import that runs, resolved to the most specific module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = name.split(".")
                    base = base[: len(base) - child.level + (1 if is_package else 0)]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                for alias in child.names:
                    sub = f"{mod}.{alias.name}"
                    found.append((sub if sub in MODULES else mod, child.lineno))
            visit(child)

    visit(tree)
    return found


def _part(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


GRAPH = {
    name: sorted({m for m, _ in _imports(name, path) if m in MODULES and m != name})
    for name, path in MODULES.items()
}


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {_part(m) for m in MODULES} - {""}
    missing = sorted(parts - set(RANK))
    assert not missing, f"give these parts of llmmath a layer in LAYERS: {missing}"


def test_no_import_circle() -> None:
    # Tarjan's strongly connected components over the module graph.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(GRAPH)))
    try:
        for v in GRAPH:
            if v not in index:
                connect(v)
    finally:
        sys.setrecursionlimit(limit)
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _part(m)))
def test_no_import_of_a_higher_layer(module: str) -> None:
    here = RANK.get(_part(module))
    if here is None:
        pytest.fail(f"{module} has no layer")
    upward = [
        (m, line) for m, line in _imports(module, MODULES[module])
        if m in MODULES and _part(m) and _part(m) != _part(module) and RANK[_part(m)] > here
    ]
    assert not upward, f"{module} imports a higher layer: " + ", ".join(
        f"{m} (line {line}, layer {RANK[_part(m)]} > {here})" for m, line in upward)


def _stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names or name == "__future__"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _part(m) in PILLARS))
def test_pillars_import_numpy_and_the_standard_library_only(module: str) -> None:
    outside = sorted({
        m for m, _ in _imports(module, MODULES[module])
        if not m.startswith("llmmath") and not _stdlib(m)
        and m.split(".")[0] not in PILLAR_THIRD_PARTY
    })
    assert not outside, f"{module} (a pillar) imports {outside}"
