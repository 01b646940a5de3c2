"""The loss curve of a run, ``loss.png``, drawn from its metrics records.

The figure shows three things a learner is asked to look for:

* the loss of every training batch (noisy: one batch is a small sample);
* the evaluations, each a marker at the step it was made: the train and
  val estimates over ``eval_iters`` batches (the gap between them is
  over-fitting);
* the uniform baseline ``log V`` (dashed): the loss of a model that gives
  every one of the ``V`` tokens the same probability ``1/V``. An untrained
  GPT starts near it, and any loss above it is worse than guessing.

:func:`loss_figure` builds the matplotlib figure (tests inspect it);
:func:`plot_loss_curve` saves it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from llmmath._files import atomic_write_bytes

__all__ = ["PLOT_NAME", "loss_figure", "plot_loss_curve"]

PLOT_NAME = "loss.png"


def loss_figure(records: list[dict[str, Any]], vocab_size: int | None = None) -> Any:
    """The loss curve of ``records`` as a matplotlib Figure (Agg, not shown).

    Where a run was resumed from an earlier step, the later record of a step wins.

    Parameters
    ----------
    records : list of dict
        ``metrics.jsonl`` records (:func:`llmmath.train.read_metrics`): ``train`` ones
        (``step``, ``loss``) and ``eval`` ones (``step``, ``train``, ``val``).
    vocab_size : int, optional
        ``V``; draws the uniform baseline ``log V`` when given.

    Returns
    -------
    matplotlib.figure.Figure
        One axes; its lines carry the labels ``train (batch)``, ``train (estimate)``,
        ``val (estimate)`` and ``uniform: log V = ...``.

    Examples
    --------
    >>> recs = [{"kind": "train", "step": s, "loss": 4.0 - s / 10} for s in range(5)]
    >>> recs.append({"kind": "eval", "step": 4, "train": 3.6, "val": 3.7})
    >>> fig = loss_figure(recs, vocab_size=65)
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['train (batch)', 'train (estimate)', 'val (estimate)', 'uniform: log V = log 65 = 4.17']
    """
    # matplotlib is imported here, not at the top, so that importing llmmath.train (and the
    # CLI's startup) does not pay for it; Agg draws without a display.
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    train_pts = {r["step"]: r["loss"] for r in records if r.get("kind") == "train"}
    evals = {r["step"]: r for r in records if r.get("kind") == "eval"}
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    if train_pts:
        s = sorted(train_pts)
        ax.plot(s, [train_pts[k] for k in s], lw=0.8, alpha=0.6, label="train (batch)")
    for split, style in (("train", "o-"), ("val", "s-")):
        s = sorted(k for k, r in evals.items() if split in r)
        if s:
            ax.plot(s, [evals[k][split] for k in s], style, ms=5, label=f"{split} (estimate)")
    if vocab_size is not None:
        log_v = math.log(vocab_size)
        ax.axhline(log_v, color="0.35", ls="--", lw=1.0,
                   label=f"uniform: log V = log {vocab_size} = {log_v:.2f}")
    ax.set_xlabel("step (markers: evaluations)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_loss_curve(records: list[dict[str, Any]], path: str | os.PathLike[str],
                    vocab_size: int | None = None) -> Path:
    """Draw :func:`loss_figure` of ``records`` into a PNG, written atomically.

    Lesson: none (part of the training command).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> recs = [{"kind": "train", "step": s, "loss": 4.0 - s / 10} for s in range(5)]
    >>> recs.append({"kind": "eval", "step": 4, "train": 3.6, "val": 3.7})
    >>> png = plot_loss_curve(recs, pathlib.Path(tempfile.mkdtemp()) / PLOT_NAME, 65)
    >>> png.read_bytes()[:4]
    b'\\x89PNG'
    """
    fig = loss_figure(records, vocab_size)
    return atomic_write_bytes(path, lambda f: fig.savefig(f, format="png"))
