"""The sweep's pictures: loss against N (and D), and IsoFLOP profiles with the frontier.

Both are drawn on a bare :class:`matplotlib.figure.Figure` (no pyplot, so no
global state) with the Agg canvas and written atomically. matplotlib is
imported inside the functions: importing :mod:`llmmath.scaling` does not load it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from llmmath._files import atomic_write_bytes
from llmmath.scaling.analysis import ScalingAnalysis
from llmmath.scaling.frontier import compute_optimal, isoflop_losses

__all__ = ["LOSS_PLOT_NAME", "ISOFLOP_PLOT_NAME", "plot_loss_vs_size", "plot_isoflops"]

LOSS_PLOT_NAME = "loss_vs_n.png"
ISOFLOP_PLOT_NAME = "isoflop.png"


def _figure(width: float, height: float, ncols: int) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols)


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    return atomic_write_bytes(path, lambda f: fig.savefig(f, format="png"))


def plot_loss_vs_size(analysis: ScalingAnalysis, path: str | os.PathLike[str]) -> Path:
    """Validation loss against N, one colour per token budget D, with the fitted law (dashed);
    and against D, one colour per model size."""
    law = analysis.fit.law
    runs = analysis.results
    N = np.array([r.params for r in runs], dtype=float)
    D = np.array([r.tokens for r in runs], dtype=float)
    L = np.array([r.val_loss for r in runs])
    fig, (ax, bx) = _figure(10.0, 4.0, 2)
    import matplotlib as mpl

    for panel, x, group, label, xlabel in ((ax, N, D, "D", "non-embedding parameters N"),
                                          (bx, D, N, "N", "tokens seen D (characters)")):
        levels = np.unique(group)
        colors = mpl.colormaps["viridis"](np.linspace(0.0, 0.9, len(levels)))
        grid = np.geomspace(x.min() / 1.3, x.max() * 1.3, 100)
        for level, color in zip(levels, colors, strict=True):
            sel = group == level
            panel.plot(x[sel], L[sel], "o", color=color, label=f"{label} = {level:,.0f}")
            curve = law.loss(grid, level) if panel is ax else law.loss(level, grid)
            panel.plot(grid, curve, "--", color=color, lw=1)
        panel.axhline(law.E, color="gray", ls=":", lw=1)
        panel.set_xscale("log")
        panel.set_xlabel(xlabel)
        panel.set_ylabel("validation loss (nats/char)")
        panel.legend(fontsize=7)
    ax.set_title(f"L(N, D): E = {law.E:.3f}, alpha = {law.alpha:.3f}, beta = {law.beta:.3f}")
    bx.set_title("dotted: E, the fitted floor")
    return _save(fig, path)


def plot_isoflops(analysis: ScalingAnalysis, path: str | os.PathLike[str]) -> Path:
    """IsoFLOP profiles of the fitted law (loss against N at fixed C = 6ND) with the measured
    runs coloured by their compute; and the frontier N_opt(C), D_opt(C)."""
    import matplotlib as mpl
    from matplotlib.colors import LogNorm

    law = analysis.fit.law
    runs = analysis.results
    N = np.array([r.params for r in runs], dtype=float)
    C = np.array([r.flops for r in runs], dtype=float)
    L = np.array([r.val_loss for r in runs])
    c_lo, c_hi = analysis.compute_range
    fig, (ax, bx) = _figure(10.0, 4.0, 2)
    norm = LogNorm(c_lo, c_hi)
    cmap = mpl.colormaps["plasma"]
    budgets = np.geomspace(c_lo, c_hi, 5)
    n_grid = np.geomspace(N.min() / 3, N.max() * 3, 200)
    for c in budgets:
        color = cmap(norm(c) * 0.9)
        ax.plot(n_grid, isoflop_losses(law, c, n_grid), color=color, lw=1.2)
        if analysis.frontier is not None:
            opt = compute_optimal(law, c)
            ax.plot(opt.N, opt.loss, "*", color=color, ms=11, mec="black", mew=0.5)
    sc = ax.scatter(N, L, c=C, cmap=cmap, norm=norm, edgecolors="black", linewidths=0.4, s=28)
    span = float(L.max() - min(L.min(), law.E))
    ax.set_ylim(min(L.min(), law.E) - 0.1 * span, L.max() + 0.5 * span)   # the runs' range
    fig.colorbar(sc, ax=ax, label="compute C = 6ND (FLOPs)")
    ax.set_xscale("log")
    ax.set_xlabel("non-embedding parameters N")
    ax.set_ylabel("validation loss (nats/char)")
    ax.set_title("IsoFLOP profiles of the fit (stars: optimum)")
    f = analysis.frontier
    if f is not None:
        bx.loglog(f.C, f.N, label=f"N_opt ∝ C^{f.a:.2f}")
        bx.loglog(f.C, f.D, label=f"D_opt ∝ C^{f.b:.2f}")
    else:
        bx.text(0.5, 0.5, "no frontier:\n" + "alpha or beta fitted as 0", ha="center",
                transform=bx.transAxes)
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.scatter(C, N, s=12, color="C0", alpha=0.5, label="runs: N")
    bx.scatter(C, [r.tokens for r in runs], s=12, color="C1", alpha=0.5, label="runs: D")
    bx.set_xlabel("compute C (FLOPs)")
    bx.set_ylabel("parameters / tokens")
    bx.set_title("compute-optimal frontier of the fit")
    bx.legend(fontsize=7)
    return _save(fig, path)
