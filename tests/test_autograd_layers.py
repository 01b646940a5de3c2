"""The engine's modules import one another in one direction only, at module level and inside
functions alike (a function-level import can hide a circle as well as a module-level one)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import llmmath.autograd

pytestmark = [pytest.mark.lesson_backprop]

PACKAGE = Path(llmmath.autograd.__file__).parent

#: Lower layers first; a module may import only modules of a lower layer
#: (a package's __init__ may also import its own submodules).
LAYERS = {
    "_mode": 0, "_draw": 0, "functional._sums": 0,
    "_engine": 1, "value": 1,
    "tensor": 2,
    "functional.probabilities": 3, "functional.layers": 3, "functional.attention": 3,
    "functional.modern": 3,
    "gradcheck": 3,
    "functional": 4,
    "": 5,                       # llmmath.autograd itself
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every llmmath.autograd module ``path`` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path.name}: relative import; write llmmath.autograd...")
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for n in names:
            if n == "llmmath.autograd" or n.startswith("llmmath.autograd."):
                found.add(n.removeprefix("llmmath.autograd").lstrip("."))
    return found


def test_every_module_has_a_layer():
    assert {_name(p) for p in PACKAGE.rglob("*.py")} == set(LAYERS)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=_name)
def test_imports_point_down(path):
    me = _name(path)
    for dep in _imports(path) & set(LAYERS):
        if path.name == "__init__.py" and dep.startswith(f"{me}." if me else ""):
            continue                                  # a package gathering its own parts
        assert LAYERS[dep] < LAYERS[me], f"{me or 'llmmath.autograd'} imports {dep}, not below it"
