"""Evaluating a trained GPT: per-token loss, n-gram baselines, and comparing two checkpoints.

**What is measured.** For held-out token ids ``x_0 .. x_{N-1}`` every target
``x_j`` (``j >= 1``) gets its negative log-likelihood ``-log p(x_j | context)``
in nats. Their mean is the cross-entropy ``H``; ``H / ln 2`` is bits per
token, ``exp(H)`` the perplexity, and the total in bits divided by the number
of characters the targets spell is bits per character (for a character
tokenizer the same as bits per token; for BPE the number to compare across
tokenizers).

**Which context the GPT gets.** A GPT sees at most ``block_size`` tokens.
With ``stride=None`` (the default) the ids are cut into non-overlapping
blocks of ``block_size``, each scored in one forward pass: simple and fast,
but the first targets of each block see little context (position ``t`` sees
``t + 1`` tokens), so the loss is that of an *average* context of about
``block_size / 2`` and somewhat pessimistic. With ``stride = s < block_size``
the window slides by ``s`` and only its last ``s`` targets are scored, so
every target after the first window sees at least ``block_size - s`` tokens
of context; ``s = 1`` gives every target the full window, at ``block_size``
times the cost. The n-gram baselines always see their own ``n - 1`` tokens.

**Comparing two checkpoints.** Both score the same targets; the per-token
differences are strongly autocorrelated (a hard passage is hard for both
models), so resampling single tokens would give intervals far too narrow.
:func:`compare_models` therefore cuts the targets into contiguous chunks,
averages each chunk, and bootstraps (BCa) the chunk means: a block bootstrap.
The paired t-test runs on the same chunk means.

**What that interval does not cover.** The block bootstrap treats the two
trained models as fixed and the test text as the sample: it answers "do
*these two models* differ on text like this?". It says nothing about the
variation between training runs: a second run of A's recipe with another
seed can differ from the first by as much as B does. "Is my second recipe
better?" is a question about runs, and :func:`compare_runs` answers it from
several runs of each recipe (different seeds): each run's mean loss on the
same test targets is one observation; Welch's t-test and Welch's t interval
(:func:`llmmath.stats.welch_t_test`, :func:`llmmath.stats.mean_difference_ci`)
compare the two groups without assuming equal spreads. With two runs a group
has one degree of freedom for its variance, so the interval is wide; with
three or more it starts to mean something. A bootstrap of so few runs would
be worse, not better: three runs have only ten distinct resamples, and its
intervals come out too narrow.

References
----------
.. [1] C. E. Shannon, "Prediction and entropy of printed English", Bell
   System Technical Journal 30 (1951) (bits per character).
.. [2] Hugging Face Transformers documentation, "Perplexity of fixed-length
   models" (non-overlapping blocks against a sliding window).
.. [3] H. R. Künsch, "The jackknife and the bootstrap for general stationary
   observations", Annals of Statistics 17 (1989) (the block bootstrap).
.. [4] J. Dodge et al., "Fine-Tuning Pretrained Language Models: Weight
   Initializations, Data Orders, and Early Stopping", arXiv:2002.06305 (2020)
   (how much runs differ by seed alone).
.. [5] B. L. Welch, "The generalization of 'Student's' problem when several
   different population variances are involved", Biometrika 34 (1947).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llmmath._validation import check_choice, check_int, describe
from llmmath.autograd import functional as F
from llmmath.autograd import no_grad
from llmmath.errors import InvalidValueError
from llmmath.ngram import NGramLM
from llmmath.stats import bootstrap_ci, mean_difference_ci, paired_t_test, welch_t_test
from llmmath.train import LoadedModel, TrainingData, apply_overrides, load_model, prepare_data

__all__ = [
    "token_nll", "ngram_nll", "EvalRow", "Evaluation", "evaluate_model", "Comparison",
    "compare_models", "RunComparison", "compare_runs", "evaluation_tokens", "text_mismatch",
]

#: Runs per group below which compare_runs warns that the spread between runs is barely known.
FEW_RUNS = 3

LN2 = math.log(2.0)


def token_nll(model: Any, ids: Any, stride: int | None = None, batch_size: int = 32) -> np.ndarray:
    """Per-token negative log-likelihood (nats) of ``ids[1:]`` under a GPT.

    Lesson: ``training_loop`` (The complete training loop).

    ``nll[j - 1] = -log p(ids[j] | ids[max(0, j - c) : j])`` with ``c`` the
    context the window gives (see the module docstring): non-overlapping
    blocks of ``block_size`` when ``stride`` is None, a window sliding by
    ``stride`` otherwise.

    Parameters
    ----------
    model : llmmath.nn.GPT
    ids : array_like of int, 1-D, at least 2 ids
    stride : int, optional
        1 <= stride <= block_size; None (or block_size) = non-overlapping blocks.
    batch_size : int
        Windows per forward pass.

    Returns
    -------
    ndarray of float64, shape (len(ids) - 1,)

    Examples
    --------
    >>> from llmmath.nn import GPT, GPTConfig
    >>> m = GPT(GPTConfig(block_size=4, vocab_size=5, n_layer=1, n_head=1, n_embd=8), rng=0)
    >>> ids = np.arange(11) % 5
    >>> a, b = token_nll(m, ids), token_nll(m, ids, stride=1)
    >>> a.shape, bool(np.allclose(a[:4], b[:4]))     # the first block is scored alike
    ((10,), True)
    """
    op = "token_nll"
    T = model.config.block_size
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu" or len(ids) < 2:
        raise InvalidValueError(f"{op}: argument 'ids' must be a 1-D integer array of at least 2 "
                                f"token ids; got {describe(ids)}.")
    s = T if stride is None else check_int(stride, "stride", op, min_value=1, max_value=T)
    batch_size = check_int(batch_size, "batch_size", op, min_value=1)
    n_targets = len(ids) - 1
    windows = []                    # (start, length, first position scored)
    start, done = 0, 0              # targets 1..done are scored
    while done < n_targets:
        length = min(T, n_targets - start)
        windows.append((start, length, done - start))
        done = start + length
        start += s
    out = np.empty(n_targets)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for length in sorted({w[1] for w in windows}):
                group = [w for w in windows if w[1] == length]
                for i in range(0, len(group), batch_size):
                    part = group[i:i + batch_size]
                    idx = np.stack([ids[a:a + length] for a, _, _ in part]).astype(np.int64)
                    tgt = np.stack([ids[a + 1:a + 1 + length] for a, _, _ in part]).astype(np.int64)
                    logits, _ = model(idx, tgt)                                   # (b, L, V)
                    nll = F.cross_entropy(logits, tgt, reduction="none").data     # (b, L)
                    for row, (a, _, first) in zip(nll, part, strict=True):
                        out[a + first:a + length] = row[first:]
    finally:
        model.train(was_training)
    return out


def ngram_nll(train_ids: Any, ids: Any, order: int) -> np.ndarray:
    """Per-token NLL of ``ids[1:]`` under an interpolated Kneser-Ney ``order``-gram model
    fitted on ``train_ids`` (:class:`llmmath.ngram.NGramLM`).

    Lesson: none (part of the ``llmmath evaluate`` command).

    Examples
    --------
    >>> print(ngram_nll([0, 1, 0, 1, 0, 1], [0, 1, 0], order=2).round(3))
    [0.081 0.064]
    """
    op = "ngram_nll"
    checked = []
    for name, value, least in (("train_ids", train_ids, 1), ("ids", ids, 2)):
        arr = np.asarray(value)
        if arr.ndim != 1 or arr.dtype.kind not in "iu" or len(arr) < least:
            raise InvalidValueError(f"{op}: argument '{name}' must be a 1-D integer array of at "
                                    f"least {least} token id(s); got {describe(arr)}.")
        checked.append(arr)
    return NGramLM(order, smoothing="kneser_ney").fit(checked[0]).nll(checked[1])[1:]


@dataclass(frozen=True)
class EvalRow:
    """One model's scores on the evaluation targets.

    Lesson: none (part of the ``llmmath evaluate`` command).
    """

    name: str
    nats_per_token: float
    bits_per_token: float
    bits_per_char: float
    perplexity: float          # per token


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The table :func:`evaluate_model` builds, plus what it was computed on.

    Lesson: none (part of the ``llmmath evaluate`` command).
    """

    rows: tuple[EvalRow, ...]
    split: str
    n_tokens: int              # targets scored
    n_chars: int               # characters those targets spell
    stride: int | None
    block_size: int
    tokenizer: str
    nll: np.ndarray            # the GPT's per-token NLL
    text_warning: str | None = None   # set when the text is not the one trained on


def _row(name: str, nll: np.ndarray, n_chars: int) -> EvalRow:
    h = float(np.mean(nll))
    ppl = math.exp(h) if h < 700 else math.inf
    return EvalRow(name, h, h / LN2, float(np.sum(nll)) / LN2 / n_chars, ppl)


def text_mismatch(loaded: LoadedModel, data: TrainingData) -> str | None:
    """A warning when ``data`` is not the text ``loaded`` was trained on, else None.

    Lesson: none (part of the ``llmmath evaluate`` command).

    The checkpoint records the SHA-256 of its corpus text; a text that was
    edited, replaced or given with another ``--text`` has another one, and
    then its splits are not the run's held-out text.
    """
    recorded = loaded.header.get("data", {}).get("sha256")
    if recorded == data.sha256:
        return None
    return (f"the text {data.corpus.name!r} is not the one '{loaded.path}' was trained on "
            f"(SHA-256 {data.sha256[:12]}..., the checkpoint records "
            f"{str(recorded)[:12]}...): its splits are not the run's held-out text, so these "
            "scores do not compare with the training run's. Pass the training text with "
            "--text.")


def evaluation_tokens(loaded: LoadedModel, split: str = "test", max_tokens: int | None = None,
                      text: str | None = None) -> tuple[TrainingData, np.ndarray]:
    """The training data of a loaded checkpoint and the ids of ``split`` to score
    (at most ``max_tokens + 1`` of them); see :func:`text_mismatch` for whether the
    text is still the one trained on.

    Lesson: none (part of the ``llmmath evaluate`` command).
    """
    op = "evaluate"
    split = check_choice(split, "split", op, ("train", "val", "test"))
    config = loaded.config if text is None else apply_overrides(loaded.config, {"text": text})
    data = prepare_data(config, loaded.tokenizer)
    ids = getattr(data, split)
    if max_tokens is not None:
        ids = ids[:check_int(max_tokens, "max_tokens", op, min_value=1) + 1]
    if len(ids) < 2:
        raise InvalidValueError(f"{op}: the {split} split of {data.corpus.name!r} has "
                                f"{len(ids)} tokens; at least 2 are needed to score one.")
    return data, ids


def evaluate_model(model: Any, split: str = "test", stride: int | None = None,
                   max_tokens: int | None = None, baselines: tuple[int, ...] = (1, 2, 3, 5),
                   text: str | None = None) -> Evaluation:
    """Score a checkpoint on a split, next to uniform and n-gram baselines.

    Lesson: none (part of the ``llmmath evaluate`` command).

    Parameters
    ----------
    model : str, os.PathLike or llmmath.train.LoadedModel
        A checkpoint (file or ``out_dir``).
    split : {"test", "val", "train"}
    stride : int, optional
        See :func:`token_nll`.
    max_tokens : int, optional
        Score only the first ``max_tokens`` targets.
    baselines : tuple of int
        Orders of the Kneser-Ney n-gram baselines (fitted on the train split,
        same targets); empty for none. The uniform baseline ``log V`` is always there.
    text : str, optional
        The training text, when it has moved since training.

    Returns
    -------
    Evaluation
    """
    loaded = load_model(model)
    data, ids = evaluation_tokens(loaded, split, max_tokens, text)
    tok = loaded.tokenizer
    n_chars = max(len(tok.decode(ids[1:])), 1)
    nll = token_nll(loaded.model, ids, stride)
    V = tok.vocab_size
    rows = [_row(f"uniform (1/{V})", np.full(len(nll), math.log(V)), n_chars)]
    names = {1: "unigram", 2: "bigram", 3: "trigram"}
    for n in baselines:
        rows.append(_row(f"{names.get(n, f'{n}-gram')} (Kneser-Ney)",
                         ngram_nll(data.train, ids, n), n_chars))
    arch = "Llama" if loaded.config.arch == "llama" else "GPT"
    rows.append(_row(f"{arch} (step {loaded.step})", nll, n_chars))
    kind = type(tok).__name__
    return Evaluation(tuple(rows), split, len(nll), n_chars, stride,
                      loaded.model.config.block_size, f"{kind}(vocab_size={V})", nll,
                      text_mismatch(loaded, data))


@dataclass(frozen=True, eq=False)
class Comparison:
    """Result of :func:`compare_models`; differences are B minus A (negative: B is better).

    Lesson: none (part of the ``llmmath evaluate`` command).
    """

    path_a: Path
    path_b: Path
    loss_a: float              # mean nats/token over the chunks used
    loss_b: float
    difference: float          # loss_b - loss_a
    ci: Any                    # llmmath.stats.ConfidenceInterval of the difference
    ttest: Any                 # llmmath.stats.TTestResult (paired over chunks), or None
    n_tokens: int
    n_chunks: int
    chunk: int
    text_warning: str | None = None   # set when A or B was trained on another text

    @property
    def verdict(self) -> str:
        lvl = f"{self.ci.confidence:.0%}"
        if self.ci.high < 0:
            return (f"B is better on this text: lower loss, the {lvl} interval lies below 0 "
                    "(these two trained models; not their recipes, see the note).")
        if self.ci.low > 0:
            return (f"A is better on this text: B's loss is higher, the {lvl} interval lies "
                    "above 0 (these two trained models; not their recipes, see the note).")
        return f"No clear difference: the {lvl} interval contains 0."

    @property
    def note(self) -> str:
        """What the interval covers, and how to ask about recipes instead of two models."""
        return ("The interval covers the sampling of test tokens only, not the variation "
                "between training runs: another seed of A's recipe can differ from A by as "
                "much. To ask whether B's recipe is better, train several seeds of each and "
                "compare the groups: llmmath compare A1,A2,A3 B1,B2,B3")


def compare_models(a: Any, b: Any, split: str = "test", chunk: int = 1024,
                   confidence: float = 0.95, n_resamples: int = 10_000, rng: Any = 0,
                   stride: int | None = None, max_tokens: int | None = None,
                   text: str | None = None) -> Comparison:
    """Difference in per-token loss between checkpoints A and B on the same targets.

    Lesson: none (part of the ``llmmath evaluate`` command).

    Both score the targets of ``split`` (the data of A's configuration). The
    per-token differences ``d_j = nll_B(j) - nll_A(j)`` are averaged over
    contiguous chunks of ``chunk`` targets (a trailing partial chunk is left
    out); :func:`llmmath.stats.bootstrap_ci` (BCa) over the chunk means gives
    the interval, :func:`llmmath.stats.paired_t_test` over the chunk means of A
    and B the test. Chunks, not tokens, are resampled because neighbouring
    tokens' losses are correlated.

    Raises
    ------
    ValueError
        The two checkpoints use different tokenizers, or fewer than 2 chunks fit.
    """
    op = "compare"
    ma, mb = load_model(a), load_model(b)
    if ma.tokenizer.fingerprint != mb.tokenizer.fingerprint:
        raise InvalidValueError(
            f"{op}: '{ma.path}' uses {ma.tokenizer!r} and '{mb.path}' uses {mb.tokenizer!r} "
            "(different fingerprints); per-token losses are comparable only on the same tokens.")
    chunk = check_int(chunk, "chunk", op, min_value=1)
    data, ids = evaluation_tokens(ma, split, max_tokens, text)
    warnings = dict.fromkeys(w for w in (text_mismatch(ma, data), text_mismatch(mb, data)) if w)
    nll_a, nll_b = token_nll(ma.model, ids, stride), token_nll(mb.model, ids, stride)
    n_chunks = len(nll_a) // chunk
    if n_chunks < 2:
        raise InvalidValueError(f"{op}: {len(nll_a)} targets make {n_chunks} chunk(s) of "
                                f"{chunk}; at least 2 are needed; pass a smaller chunk.")
    used = n_chunks * chunk
    ca = nll_a[:used].reshape(n_chunks, chunk).mean(axis=1)
    cb = nll_b[:used].reshape(n_chunks, chunk).mean(axis=1)
    ci = bootstrap_ci(cb - ca, confidence=confidence, n_resamples=n_resamples, rng=rng)
    try:
        ttest = paired_t_test(cb, ca)
    except InvalidValueError:       # identical losses: the t statistic is 0/0
        ttest = None
    return Comparison(ma.path, mb.path, float(ca.mean()), float(cb.mean()),
                      float((cb - ca).mean()), ci, ttest, used, n_chunks, chunk,
                      " ".join(warnings) or None)



@dataclass(frozen=True, eq=False)
class RunComparison:
    """Result of :func:`compare_runs`; differences are B minus A (negative: B is better).

    Lesson: none (part of the ``llmmath evaluate`` command).
    """

    paths_a: tuple[Path, ...]
    paths_b: tuple[Path, ...]
    losses_a: np.ndarray       # each run's mean nats/token on the targets
    losses_b: np.ndarray
    difference: float          # mean(losses_b) - mean(losses_a)
    ci: Any                    # Welch t interval of the difference (ConfidenceInterval), or None
    ttest: Any                 # Welch's t-test of B against A (TTestResult), or None
    n_tokens: int
    text_warning: str | None = None   # set when a run was trained on another text

    @property
    def n_a(self) -> int:
        return len(self.losses_a)

    @property
    def n_b(self) -> int:
        return len(self.losses_b)

    @property
    def warning(self) -> str | None:
        """Set when a group has fewer than :data:`FEW_RUNS` runs."""
        n = min(self.n_a, self.n_b)
        if n >= FEW_RUNS:
            return None
        return (f"only {n} run{'s' if n > 1 else ''} in the smaller group: the spread between "
                "runs rests on a single degree of freedom, so the interval is wide and the "
                f"test weak. Train {FEW_RUNS} or more seeds of each recipe (5 or more for a "
                "small difference).")

    @property
    def verdict(self) -> str:
        if self.ci is None:
            return ("No interval: every run of both groups has the same loss (no spread to "
                    "estimate).")
        lvl = f"{self.ci.confidence:.0%}"
        if self.ci.high < 0:
            return f"B's recipe is better: lower loss, the {lvl} interval lies below 0."
        if self.ci.low > 0:
            return f"A's recipe is better: B's loss is higher, the {lvl} interval lies above 0."
        return (f"No clear difference between the recipes: the {lvl} interval contains 0.")


def compare_runs(a: Any, b: Any, split: str = "test", confidence: float = 0.95,
                 stride: int | None = None, max_tokens: int | None = None,
                 text: str | None = None) -> RunComparison:
    """Compare two recipes from several training runs of each (for example, different seeds).

    Lesson: none (part of the ``llmmath evaluate`` command).

    Every run scores the same targets of ``split`` (the data of A's first run); its mean
    per-token loss is one observation of its recipe. The interval is Welch's t interval
    for ``mean(B) - mean(A)`` over runs (:func:`llmmath.stats.mean_difference_ci`), the
    test Welch's t-test (:func:`llmmath.stats.welch_t_test`): both cover the variation
    between runs, which :func:`compare_models` cannot see.

    Parameters
    ----------
    a, b : sequence of str, os.PathLike or LoadedModel
        The runs of each recipe, at least two each; all must share one tokenizer.
    split, stride, max_tokens, text
        As in :func:`evaluate_model`.
    confidence : float
        Level of the interval, in (0, 1).

    Returns
    -------
    RunComparison

    Raises
    ------
    ValueError
        Fewer than two runs in a group, or runs with different tokenizers.

    Examples
    --------
    The reading, on three runs a side (the result of real runs is built the same way from
    their losses; tests/test_evaluate.py trains them): B is lower by 0.04 nats on average,
    yet runs of one recipe spread so much that the interval holds 0.

    >>> from llmmath.stats import mean_difference_ci, welch_t_test
    >>> la, lb = np.array([1.92, 1.95, 1.90]), np.array([1.88, 1.91, 1.86])
    >>> r = RunComparison((), (), la, lb, float(lb.mean() - la.mean()),
    ...                   mean_difference_ci(lb, la), welch_t_test(lb, la), n_tokens=1000)
    >>> print(round(r.difference, 3), round(r.ci.low, 3), round(r.ci.high, 3))
    -0.04 -0.097 0.017
    >>> print(r.verdict)
    No clear difference between the recipes: the 95% interval contains 0.
    """
    op = "compare"
    groups = []
    for name, group in (("a", a), ("b", b)):
        runs = [group] if isinstance(group, (str, Path, LoadedModel)) else list(group)
        if len(runs) < 2:
            raise InvalidValueError(
                f"{op}: group {name.upper()} has {len(runs)} run; comparing recipes needs at "
                "least 2 runs of each (3 or more to mean much). To compare two single "
                "models token by token, give one checkpoint on each side.")
        groups.append(runs)
    first = load_model(groups[0][0])
    data, ids = evaluation_tokens(first, split, max_tokens, text)
    losses, paths, warnings = ([], []), ([], []), {}
    for g, runs in enumerate(groups):
        for run in runs:
            m = first if run is groups[0][0] else load_model(run)
            if m.tokenizer.fingerprint != first.tokenizer.fingerprint:
                raise InvalidValueError(
                    f"{op}: '{m.path}' uses {m.tokenizer!r} and '{first.path}' uses "
                    f"{first.tokenizer!r} (different fingerprints); per-token losses are "
                    "comparable only on the same tokens.")
            w = text_mismatch(m, data)
            if w:
                warnings[w] = None
            losses[g].append(float(token_nll(m.model, ids, stride).mean()))
            paths[g].append(m.path)
            del m
    la, lb = np.array(losses[0]), np.array(losses[1])
    try:
        ci = mean_difference_ci(lb, la, confidence=confidence)
        ttest = welch_t_test(lb, la)
    except InvalidValueError:      # no spread in either group: 0/0
        ci = ttest = None
    return RunComparison(tuple(paths[0]), tuple(paths[1]), la, lb,
                         float(lb.mean() - la.mean()), ci, ttest, len(ids) - 1,
                         " ".join(warnings) or None)
