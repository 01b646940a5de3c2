"""The design of a sweep: model shapes, parameter counts, the learning-rate rule, the budgets.

**Shapes.** One rule turns a width ``C`` (``n_embd``) into a GPT: ``n_layer =
max(1, round(C / 48))`` (an aspect ratio ``C / n_layer`` between 32 and 64:
Kaplan et al. found the loss to depend on the shape only weakly in that
range) and ``n_head = max(1, C // 32)`` (heads 32 to 48 wide).

**Parameters.** The fit uses Kaplan's *non-embedding* count: every weight
and bias of the blocks and the final LayerNorm, without the token and
position embeddings,

    N = n_layer (12 C^2 + 13 C) + 2 C.

The embeddings are left out because they grow with the vocabulary and the
context rather than with what the model can compute, and because counting
them bends the small models off the power law (Kaplan et al., figure 6);
in our smallest models they are a quarter of all weights. (Our GPT ties the
output layer to the token embedding, so the embedding does spend compute in
the output layer; ``C = 6 N D`` leaves that out too, as Kaplan does.)
:func:`count_parameters` also gives the total, which the model itself reports
(``GPT.num_params(non_embedding=False)``), and the test suite checks both
counts against the model's own parameters.

**Tokens.** A run of ``S`` steps sees ``D = S * batch_size * block_size``
tokens (characters here); every run of a sweep uses one batch size and one
context length.

**Budgets.** The shortest run has 600 steps: before about 400 steps a
character model of these sizes may still sit on the plateau of pairs of
characters, or may have left it, depending on its seed (half of our
400-step runs had, half had not), and such runs follow no power law.

**Seeds and the loss.** Each run has its own seed, derived from its name
(weights, batch order): runs are independent draws, as the bootstrap over
runs assumes. Short runs of one seed can sit on the early plateaus of
character-level training (about 3.3 nats: the character frequencies; about
2.5: pairs of characters) for a while longer than another seed's; at 400
steps we saw 0.28 nats between two seeds of one model, so a sweep whose
runs shared a seed would move a whole row of runs at once. The loss that is
fitted is measured on one fixed stretch of the validation plays
(``eval_tokens`` characters, non-overlapping windows of ``block_size``), the
same for every run, so that its sampling noise is common to all of them.

**Learning rate.** Peak ``lr = 0.24 / C`` (7.5e-3 at width 32, 2.5e-3 at 96,
1.9e-3 at 128, close to the 2e-3 that the ``baby`` preset found best at that
width over 2,000 steps): Adam's rate inversely proportional to the width, as
in Yang et al.'s muP for the hidden weights. The warm-up is a tenth of the
run (10 to 100 steps), then a cosine decay to ``lr / 10`` ends at the run's
last step: no run is judged halfway down a schedule meant for a longer one
(Hoffmann et al., figure A1). Short runs prefer higher rates: over 300 to
500 steps the best peaks were about twice these (1.7e-2 at width 32, 5e-3
at 96). But at such rates the longer runs stay on the plateau of pairs of
characters (a loss near 2.4 nats) until the cosine has brought the rate
down to about 5e-3 at width 32: a 2,400-step run at 1.5e-2 left it after
1,500 steps and ended worse than a 1,200-step run. A sweep needs one rule
for all its lengths, so it takes the lower one.

**Budgets.** The shortest run has 600 steps: before about 400 steps a
character model of these sizes may still sit on the plateau of pairs of
characters, or may have left it, depending on its seed (half of our
400-step runs had, half had not), and such runs follow no power law.

**Seeds and the loss.** Each run has its own seed, derived from its name
(weights, batch order): runs are independent draws, as the bootstrap over
runs assumes. Short runs of one seed can sit on the early plateaus of
character-level training (about 3.3 nats: the character frequencies; about
2.5: pairs of characters) for a while longer than another seed's; at 400
steps we saw 0.28 nats between two seeds of one model, so a sweep whose
runs shared a seed would move a whole row of runs at once. The loss that is
fitted is measured on one fixed stretch of the validation plays
(``eval_tokens`` characters, non-overlapping windows of ``block_size``), the
same for every run, so that its sampling noise is common to all of them.

**Learning rate.** Peak ``lr = 0.48 / C`` (1.5e-2 at width 32, 5e-3 at 96,
2.5e-3 at 192): Adam's rate inversely proportional to the width, as in
Yang et al.'s muP for the hidden weights, so that each model trains near its
own best rate. The warm-up is a tenth of the run (10 to 100 steps), then a
cosine decay to ``lr / 10`` ends at the run's last step: no run is judged
halfway down a schedule meant for a longer one (Hoffmann et al., figure A1).
The constant comes from a search on this corpus along the shape rule: at
width 32 (500 steps) the best of 2e-3 ... 3.4e-2 was 1.7e-2 (8.5e-3 close
behind), at width 96 (300 steps) the best of 1.2e-3 ... 2e-2 was 5e-3; the
two optima are a factor 3 apart, as the widths are.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

from llmmath._validation import check_int
from llmmath.errors import InvalidValueError
from llmmath.train.config import TrainConfig

__all__ = ["ModelShape", "ParameterCount", "count_parameters", "shape_for_width",
           "peak_learning_rate", "RunSpec", "SweepPlan", "BUDGETS", "get_plan"]


@dataclass(frozen=True, order=True)
class ModelShape:
    """A GPT's depth, width and heads.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    n_layer: int
    n_embd: int
    n_head: int

    def __post_init__(self) -> None:
        for name in ("n_layer", "n_embd", "n_head"):
            check_int(getattr(self, name), name, "ModelShape", min_value=1)
        if self.n_embd % self.n_head:
            raise InvalidValueError(f"ModelShape: n_embd ({self.n_embd}) must be a multiple of "
                                    f"n_head ({self.n_head}).")

    @property
    def name(self) -> str:
        return f"L{self.n_layer}-C{self.n_embd}"


def shape_for_width(n_embd: int) -> ModelShape:
    """The sweep's shape rule: ``n_layer = max(1, round(C / 48))``, ``n_head = max(1, C // 32)``.

    Lesson: none (part of the ``llmmath scaling`` command).

    Examples
    --------
    >>> [shape_for_width(c).name for c in (32, 64, 96, 128, 192)]
    ['L1-C32', 'L1-C64', 'L2-C96', 'L3-C128', 'L4-C192']
    >>> shape_for_width(160).n_head
    5
    """
    n_embd = check_int(n_embd, "n_embd", "shape_for_width", min_value=1)
    return ModelShape(max(1, round(n_embd / 48)), n_embd, max(1, n_embd // 32))


@dataclass(frozen=True)
class ParameterCount:
    """A GPT's parameters: Kaplan's non-embedding count, the embeddings and the total.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    non_embedding: int      # blocks + final LayerNorm
    token_embedding: int    # V C (also the output layer: the weights are tied)
    position_embedding: int  # T C

    @property
    def total(self) -> int:
        return self.non_embedding + self.token_embedding + self.position_embedding


def count_parameters(shape: ModelShape, vocab_size: int, block_size: int,
                     bias: bool = True) -> ParameterCount:
    """Parameters of our GPT (``llmmath.nn.GPT``) of this shape, by formula.

    Lesson: none (part of the ``llmmath scaling`` command).

    Per block: two LayerNorms (``2 C`` each), the attention's ``C x 3C``
    projection and ``C x C`` output, the MLP's ``C x 4C`` and ``4C x C``: ``12 C^2``
    weights and ``13 C`` biases and LayerNorm parameters. Without biases the
    LayerNorms keep their ``C`` weights only: ``12 C^2 + 2 C``.

    Examples
    --------
    >>> p = count_parameters(ModelShape(1, 32, 1), vocab_size=84, block_size=64)
    >>> p.non_embedding, p.token_embedding, p.position_embedding, p.total
    (12768, 2688, 2048, 17504)
    """
    C, L = shape.n_embd, shape.n_layer
    per_block = 12 * C * C + (13 * C if bias else 2 * C)
    final_ln = 2 * C if bias else C
    return ParameterCount(L * per_block + final_ln, vocab_size * C, block_size * C)


def peak_learning_rate(n_embd: int) -> float:
    """The sweep's learning-rate rule: ``0.24 / n_embd``.

    Lesson: ``scaling_laws`` (Scaling laws).

    Examples
    --------
    >>> peak_learning_rate(32), peak_learning_rate(96), peak_learning_rate(192)
    (0.0075, 0.0025, 0.00125)
    """
    n_embd = check_int(n_embd, "n_embd", "peak_learning_rate", min_value=1)
    return 0.24 / n_embd


@dataclass(frozen=True, order=True)
class RunSpec:
    """One run of a sweep: a shape trained for ``steps`` steps.

    Lesson: none (part of the ``llmmath scaling`` command).
    """

    shape: ModelShape
    steps: int

    @property
    def name(self) -> str:
        """The run's directory name, e.g. ``L2-C96-S500``."""
        return f"{self.shape.name}-S{self.steps}"


@dataclass(frozen=True)
class SweepPlan:
    """A sweep: every width in ``widths`` trained for every step count in ``steps``.

    Lesson: none (part of the ``llmmath scaling`` command).

    Examples
    --------
    >>> plan = SweepPlan("demo", widths=(32, 64), steps=(100, 200))
    >>> [r.name for r in plan.runs()]
    ['L1-C32-S100', 'L1-C32-S200', 'L1-C64-S100', 'L1-C64-S200']
    >>> plan.tokens(plan.runs()[0])                      # 100 steps x 16 x 64
    102400
    >>> cfg = plan.train_config(plan.runs()[0], "out")
    >>> cfg.n_layer, cfg.n_embd, cfg.max_iters, cfg.lr_decay_iters, cfg.warmup_iters
    (1, 32, 100, 100, 10)
    """

    name: str
    widths: tuple[int, ...]
    steps: tuple[int, ...]
    batch_size: int = 16
    block_size: int = 64
    eval_tokens: int = 65_536          # of the validation split, scored at the end of each run
    checkpoints_per_run: int = 4       # a run killed outright loses at most a quarter of it
    seed: int = 1337
    text: str | None = None            # None: the Shakespeare corpus
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        op = "SweepPlan"
        if not self.widths or not self.steps:
            raise InvalidValueError(f"{op}: widths and steps must be non-empty; got "
                                    f"{self.widths!r} and {self.steps!r}.")
        for w in self.widths:
            shape_for_width(w)
        for s in self.steps:
            check_int(s, "steps", op, min_value=1)
        for name in ("batch_size", "block_size", "eval_tokens", "checkpoints_per_run"):
            check_int(getattr(self, name), name, op, min_value=1)
        object.__setattr__(self, "widths", tuple(sorted(set(self.widths))))
        object.__setattr__(self, "steps", tuple(sorted(set(self.steps))))

    def runs(self) -> list[RunSpec]:
        """Every run, smallest model first, shortest run first within a model."""
        return [RunSpec(shape_for_width(w), s) for w in self.widths for s in self.steps]

    @property
    def tokens_per_step(self) -> int:
        return self.batch_size * self.block_size

    def tokens(self, run: RunSpec) -> int:
        return run.steps * self.tokens_per_step

    def seed_of(self, run: RunSpec) -> int:
        """The run's seed: ``seed`` plus the CRC-32 of its name (the same on every machine)."""
        return (self.seed + zlib.crc32(run.name.encode("ascii"))) % 2**31

    def train_config(self, run: RunSpec, out_dir: str) -> TrainConfig:
        """The :class:`~llmmath.train.TrainConfig` of one run.

        Its own evaluations (at the first and the last step) use two batches per
        split: they are the log's, not the fit's (see :attr:`eval_tokens`).
        """
        lr = peak_learning_rate(run.shape.n_embd)
        warmup = min(100, max(10, run.steps // 10), run.steps)
        every = max(1, math.ceil(run.steps / self.checkpoints_per_run))
        return TrainConfig(
            text=self.text, tokenizer="char", n_layer=run.shape.n_layer,
            n_head=run.shape.n_head, n_embd=run.shape.n_embd, block_size=self.block_size,
            dropout=0.0, bias=True, batch_size=self.batch_size, max_iters=run.steps,
            learning_rate=lr, min_lr=lr / 10, warmup_iters=warmup, lr_decay_iters=run.steps,
            eval_interval=run.steps, checkpoint_interval=every, eval_iters=2,
            log_interval=max(1, run.steps // 50), seed=self.seed_of(run), out_dir=out_dir)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["widths"], d["steps"] = list(self.widths), list(self.steps)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SweepPlan:
        d = dict(d)
        d["widths"], d["steps"] = tuple(d["widths"]), tuple(d["steps"])
        return cls(**d)


#: The named budgets of ``llmmath scaling --budget``. ``test`` (a few seconds) is for
#: the test suite and not offered in the command's help.
BUDGETS: dict[str, SweepPlan] = {
    "quick": SweepPlan("quick", widths=(32, 48, 64, 96), steps=(600, 1200, 2400),
                       description="4 widths x 3 token budgets, 12 runs: about 6 minutes"),
    "full": SweepPlan("full", widths=(32, 48, 64, 96, 128, 192),
                      steps=(600, 1200, 2400, 4800), eval_tokens=131_072,
                      description="6 widths x 4 token budgets, 24 runs: about an hour"),
    "test": SweepPlan("test", widths=(16, 32), steps=(6, 12, 24, 48), batch_size=8,
                      block_size=32, eval_tokens=2048, checkpoints_per_run=2,
                      description="2 widths x 4 token budgets of tiny runs, for the tests"),
}


def get_plan(name: str) -> SweepPlan:
    """The budget called ``name`` (``quick``, ``full`` or ``test``).

    Lesson: none (part of the ``llmmath scaling`` command).
    """
    if name not in BUDGETS:
        raise InvalidValueError(f"scaling: unknown budget {name!r}; expected "
                                f"{' or '.join(n for n in BUDGETS if n != 'test')}.")
    return BUDGETS[name]
