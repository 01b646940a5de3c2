"""The loss curve of a run, ``loss.png``, drawn from its metrics records."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from llmmath._files import atomic_write_bytes

__all__ = ["PLOT_NAME", "plot_loss_curve"]

PLOT_NAME = "loss.png"


def plot_loss_curve(records: list[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Draw the training loss and the evaluations of ``records`` into a PNG, written atomically.

    Where a run was resumed from an earlier step, the later record of a step
    wins.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> recs = [{"kind": "train", "step": s, "loss": 4.0 - s / 10} for s in range(5)]
    >>> recs.append({"kind": "eval", "step": 4, "train": 3.6, "val": 3.7})
    >>> png = plot_loss_curve(recs, pathlib.Path(tempfile.mkdtemp()) / PLOT_NAME)
    >>> png.read_bytes()[:4]
    b'\\x89PNG'
    """
    # matplotlib is imported here, not at the top, so that importing llmmath.train (and the
    # CLI's startup) does not pay for it; Agg draws without a display.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train_pts = {r["step"]: r["loss"] for r in records if r.get("kind") == "train"}
    evals = {r["step"]: r for r in records if r.get("kind") == "eval"}
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if train_pts:
        s = sorted(train_pts)
        ax.plot(s, [train_pts[k] for k in s], lw=0.8, alpha=0.6, label="train (batch)")
    for split, style in (("train", "o-"), ("val", "s-")):
        s = sorted(k for k, r in evals.items() if split in r)
        if s:
            ax.plot(s, [evals[k][split] for k in s], style, ms=4, label=f"{split} (estimate)")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    try:
        return atomic_write_bytes(path, lambda f: fig.savefig(f, format="png"))
    finally:
        plt.close(fig)
