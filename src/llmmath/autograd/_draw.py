"""Drawing a :class:`~llmmath.autograd.Value` graph with matplotlib (no Graphviz needed)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

__all__ = ["draw_value_graph"]


def draw_value_graph(root: Any, order: list[Any], figsize: tuple[float, float] | None) -> Any:
    """Lay the graph out in columns by depth and draw it on a new Figure.

    A value's depth is the length of the longest path from an input to it,
    so every edge goes left to right. Each edge is labelled with the
    operation and the local derivative d(parent)/d(child) it carries.
    """
    from matplotlib.figure import Figure  # lazily: the engine does not need matplotlib

    depth: dict[int, int] = {}
    for v in order:                      # inputs come before the values made from them
        depth[id(v)] = 1 + max((depth[id(c)] for c in v._prev), default=-1)
    columns: dict[int, list[Any]] = defaultdict(list)
    for v in order:
        columns[depth[id(v)]].append(v)
    pos = {}
    for d, col in columns.items():
        for i, v in enumerate(col):
            pos[id(v)] = (2.0 * d, (len(col) - 1) / 2.0 - i)
    n_cols, n_rows = len(columns), max(len(c) for c in columns.values())
    fig = Figure(figsize=figsize or (2.4 * n_cols + 1.0, 1.0 * n_rows + 1.2))
    ax = fig.add_subplot()
    ax.set_axis_off()
    for v in order:
        x1, y1 = pos[id(v)]
        for child, local in zip(v._prev, v._local, strict=True):
            x0, y0 = pos[id(child)]
            ax.annotate("", xy=(x1 - 0.55, y1), xytext=(x0 + 0.55, y0),
                        arrowprops={"arrowstyle": "->", "color": "0.45", "lw": 1.0})
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.12, f"{v._op}  ∂={local:.3g}",
                    ha="center", va="bottom", fontsize=7, color="0.25")
    for v in order:
        x, y = pos[id(v)]
        head = f"{v.label}\n" if v.label else ""
        colour = "#ffe9a8" if v is root else ("#dceeff" if not v._prev else "#eeeeee")
        ax.text(x, y, f"{head}data {v.data:.4g}\ngrad {v.grad:.4g}", ha="center", va="center",
                fontsize=8, family="monospace",
                bbox={"boxstyle": "round,pad=0.35", "fc": colour, "ec": "0.35"})
    ax.set_xlim(-1.0, 2.0 * (n_cols - 1) + 1.0)
    ax.set_ylim(-n_rows / 2.0 - 0.2, n_rows / 2.0 + 0.2)
    ax.set_title("forward values and backward gradients (∂ = local derivative)", fontsize=9)
    return fig
