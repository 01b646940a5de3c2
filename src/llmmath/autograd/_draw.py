"""Drawing a :class:`~llmmath.autograd.Value` graph with matplotlib (no Graphviz needed)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

__all__ = ["draw_value_graph"]

_MAX_WIDTH_INCHES = 10.0  # fits a laptop page; wider graphs get narrower columns
_GAP = 3.0               # data units between columns (a box is about 1.1 wide)


def draw_value_graph(root: Any, order: list[Any], figsize: tuple[float, float] | None) -> Any:
    """Lay the graph out in columns by depth and draw it on a new Figure.

    A value's depth is the length of the longest path from an input to it,
    so every edge goes left to right. Each edge is labelled with the
    operation and the local derivative d(parent)/d(input) it carries; the
    labels of a value's inputs stack in the gap before its column and name
    the input, so none lands on a box. An input used twice by one operation (``x * x``) gets two
    curved edges, one per use; an edge that skips columns is curved too, so
    it does not run hidden behind the boxes in between.
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
            pos[id(v)] = (_GAP * d, (len(col) - 1) / 2.0 - i)
    n_cols, n_rows = len(columns), max(len(c) for c in columns.values())
    width = min(2.0 * n_cols + 0.4, _MAX_WIDTH_INCHES)
    fig = Figure(figsize=figsize or (width, 0.95 * n_rows + 1.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    boxes = {}
    for v in order:                      # boxes first: the edges attach to their outlines
        x, y = pos[id(v)]
        head = " ".join(part for part in (v.label, f"[{v._op}]" if v._op else "") if part)
        head = f"{head}\n" if head else ""
        colour = "#ffe9a8" if v is root else ("#dceeff" if not v._prev else "#eeeeee")
        boxes[id(v)] = ax.text(x, y, f"{head}data {v.data:.4g}\ngrad {v.grad:.4g}",
                               ha="center", va="center", fontsize=8, family="monospace",
                               zorder=4,
                               bbox={"boxstyle": "round,pad=0.35", "fc": colour, "ec": "0.35"})
    for v in order:
        x1, y1 = pos[id(v)]
        uses: dict[int, int] = defaultdict(int)      # how often each input appears
        for child in v._prev:
            uses[id(child)] += 1
        seen: dict[int, int] = defaultdict(int)
        for child, local in zip(v._prev, v._local, strict=True):
            x0, y0 = pos[id(child)]
            k, n = seen[id(child)], uses[id(child)]
            seen[id(child)] += 1
            fan = k - (n - 1) / 2.0                  # -0.5, +0.5 for x * x; 0 otherwise
            rad = 0.3 * fan if n > 1 else (-0.45 if x1 - x0 > _GAP else 0.0)
            ax.annotate("", xy=(0.0, 0.5), xycoords=boxes[id(v)],
                        xytext=(1.0, 0.5), textcoords=boxes[id(child)],
                        arrowprops={"arrowstyle": "->", "color": "0.45", "lw": 1.0,
                                    "shrinkA": 2, "shrinkB": 2,
                                    "connectionstyle": f"arc3,rad={rad}"}, zorder=1)
            # the labels of one value's inputs stack in the gap before its column,
            # each naming its input, so none lands on a box or on another label
            i = v._prev.index(child) + k if n > 1 else v._prev.index(child)
            name = child.label.removeprefix("const ") if child.label else f"({child.data:.3g})"
            ly = y1 + 0.3 * ((len(v._prev) - 1) / 2.0 - i)
            ax.text(x1 - _GAP / 2.0, ly, f"∂/∂{name}={local:.3g}", ha="center",
                    va="center", fontsize=7, color="0.15", zorder=3,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.85})
    ax.set_xlim(-1.0, _GAP * (n_cols - 1) + 1.0)
    spans = [pos[id(v)][0] - pos[id(c)][0] for v in order for c in v._prev]
    arc_room = 0.12 * max(spans, default=0.0) if any(s > _GAP for s in spans) else 0.0
    ax.set_ylim(-n_rows / 2.0 - 0.2 - arc_room, n_rows / 2.0 + 0.2 + arc_room)
    ax.set_title("forward values and backward gradients; on each edge, the local "
                 "derivative of the value on the right", fontsize=9)
    return fig
