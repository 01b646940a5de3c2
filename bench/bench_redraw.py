"""How long a lesson figure takes to redraw when a control moves.

Three figures drawn the way the lessons draw them (``kit.figure`` ... ``kit.show``):
the activations lesson's two line panels with a legend, the SVD lesson's two
images beside an error curve with a mathtext title, and the attention lesson's
annotated heatmap. Each is redrawn for a sweep of control values, as a slider
would; the script prints the median time per redraw and asserts nothing.

    .venv/bin/python bench/bench_redraw.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from llmmath import calculus, prob
from llmmath.lessons import _kit as kit

XS = np.linspace(-5, 5, 401)
CURVES = {
    "ReLU": (np.maximum(XS, 0.0), calculus.relu_grad(XS)),
    "sigmoid": (prob.sigmoid(XS), calculus.sigmoid_grad(XS)),
    "tanh": (np.tanh(XS), calculus.tanh_grad(XS)),
    "GELU": (calculus.gelu(XS), calculus.gelu_grad(XS)),
}
PICTURE = np.add.outer(np.sin(np.linspace(0, 3, 60)), np.cos(np.linspace(0, 5, 90)))
ERRORS = np.geomspace(1.0, 1e-3, 40)
TOKENS = ["The", "cat", "sat", "on", "the", "mat"]


def activations(x: float) -> None:
    fig, (f, d) = kit.figure(1, 2, size=(9.0, 3.3))
    for name, (vals, slope) in CURVES.items():
        f.plot(XS, vals, label=name)
        d.plot(XS, slope, label=name)
    for ax in (f, d):
        ax.axvline(x, color="0.5", lw=1, ls=":")
        ax.set_xlabel("x")
    f.set_ylim(-1.5, 3)
    f.set_title("activation")
    f.legend(loc="upper left")
    d.set_title("slope (derivative)")
    d.set_ylim(-0.3, 1.2)
    kit.show(fig)


def svd(rank: int) -> None:
    fig, (a0, a1, a2) = kit.figure(1, 3, size=(9.0, 2.6), width_ratios=[1, 1, 1.15])
    for ax, img, title in [(a0, PICTURE, "the picture"), (a1, PICTURE * 0.9, f"rank {rank}")]:
        ax.imshow(img, cmap="gray", interpolation="nearest")
        ax.set_title(title)
        ax.axis("off")
    a2.semilogy(np.arange(1, 41), ERRORS, color="#3182bd")
    a2.scatter([rank], [ERRORS[rank - 1]], color="#d62728", zorder=3)
    a2.set_xlabel("rank r")
    a2.set_ylabel("relative error")
    a2.set_title(r"$\|M - M_r\|_F \,/\, \|M\|_F$")
    a2.set_ylim(1e-3, 1.5)
    kit.show(fig)


def heatmap(tau: float) -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 6))
    fig, ax = kit.figure(size=(4.2, 3.4))
    kit.heatmap(ax, prob.softmax(z, temperature=tau), TOKENS, TOKENS)
    ax.set_title(f"attention weights, τ = {tau:.1f}")
    kit.show(fig)


CASES = {
    "activations (x from -2 to 2)": (activations, list(np.round(np.linspace(-2, 2, 9), 1))),
    "svd_lora (rank 1 to 9)": (svd, list(range(1, 10))),
    "attention heatmap (τ 0.5 to 2)": (heatmap, list(np.round(np.linspace(0.5, 2.0, 9), 2))),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for name, (draw, values) in CASES.items():
        draw(values[0])  # warm-up: imports, font cache
        times = []
        for _ in range(args.repeats):
            for v in values:
                t0 = time.perf_counter()
                draw(v)
                times.append(time.perf_counter() - t0)
        print(f"{name:34s} median {1e3 * statistics.median(times):6.1f} ms per redraw "
              f"({len(times)} redraws)")


if __name__ == "__main__":
    main()
