"""What a training run reads and writes: its data, its checkpoints, its metrics log and plot.

* :func:`prepare_data` loads the corpus of a :class:`~llmmath.train.TrainConfig`,
  fits the tokenizer on the train split and encodes the three splits.
* :func:`save_state` / :func:`restore_state` put a whole run in a
  checkpoint (:mod:`llmmath.checkpoint`: atomic, checksummed, no pickle) and
  back: the configuration, the tokenizer, the weights, the optimiser's state
  and the ``bit_generator.state`` of every random generator (the batches and
  the dropout masks), which is what makes a resumed run continue bit for bit.
* :func:`load_model` opens a checkpoint for evaluation or sampling.
* :func:`read_metrics` / :func:`plot_loss_curve` read ``metrics.jsonl``
  (one JSON object per line) and draw it.

A training checkpoint's header holds ``format`` (``"llmmath-gpt-train"``),
``version``, ``step``, ``elapsed`` (training seconds), ``config``,
``gpt_config``, ``tokenizer`` with its ``tokenizer_fingerprint``, ``data``
(corpus name and SHA-256 of its text), ``optimizer`` (a :func:`~llmmath.checkpoint.to_tree`
tree) and ``rng`` (generator states, batches first). Its arrays are
``model/<parameter name>`` and the optimiser's moments ``optim/...``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llmmath.errors import InvalidValueError

__all__ = [
    "FORMAT", "CHECKPOINT_NAME", "METRICS_NAME", "PLOT_NAME", "TrainingData", "prepare_data",
    "save_state", "restore_state", "read_checkpoint", "LoadedModel", "load_model",
    "read_metrics", "plot_loss_curve",
]

FORMAT = "llmmath-gpt-train"
CHECKPOINT_NAME, METRICS_NAME, PLOT_NAME = "ckpt.npz", "metrics.jsonl", "loss.png"


# ---------------------------------------------------------------------------- data
@dataclass(frozen=True, eq=False)
class TrainingData:
    """A corpus, its tokenizer and the token ids of each split."""

    corpus: Any          # llmmath.data.Corpus
    tokenizer: Any       # CharTokenizer or ByteBPETokenizer
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    sha256: str          # of the corpus text: a resumed run checks it trains on the same text

    @property
    def vocab_size(self) -> int:
        return int(self.tokenizer.vocab_size)


def prepare_data(config: Any, tokenizer: Any = None) -> TrainingData:
    """Load the corpus of ``config``, fit its tokenizer on the train split (unless given), encode.

    Raises
    ------
    ValueError
        An empty or non-UTF-8 text file, or a train/val split too short for one
        window of ``block_size`` tokens plus its target.
    """
    from llmmath.data import ByteBPETokenizer, CharTokenizer, encode_corpus, load_corpus, load_text

    corpus = load_corpus() if config.text is None else load_text(config.text)
    if tokenizer is None:
        tokenizer = (CharTokenizer.fit(corpus.train) if config.tokenizer == "char"
                     else ByteBPETokenizer.train(corpus.train, config.vocab_size))
    enc = encode_corpus(corpus, tokenizer)
    for split in ("train", "val"):
        n = len(getattr(enc, split))
        if n <= config.block_size:
            raise InvalidValueError(
                f"train: the {split} split of {corpus.name!r} has {n} tokens, but block_size="
                f"{config.block_size} needs at least {config.block_size + 1} (a window and its "
                "shifted target); use a smaller block_size or a longer text.")
    digest = hashlib.sha256(corpus.text.encode("utf-8")).hexdigest()
    return TrainingData(corpus, tokenizer, enc.train, enc.val, enc.test, digest)


# ---------------------------------------------------------------------------- checkpoints
def save_state(trainer: Any, path: Any) -> Path:
    """Write everything a :class:`~llmmath.train.Trainer` needs to continue, atomically."""
    from llmmath.checkpoint import save_checkpoint, to_tree

    arrays = {f"model/{k}": v for k, v in trainer.model.state_dict().items()}
    tok = trainer.data.tokenizer
    header = {
        "format": FORMAT, "version": 1, "step": trainer.step, "elapsed": trainer.elapsed,
        "config": dataclasses.asdict(trainer.config),
        "gpt_config": dataclasses.asdict(trainer.gpt_config),
        "tokenizer": tok.to_dict(), "tokenizer_fingerprint": tok.fingerprint,
        "data": {"name": trainer.data.corpus.name, "sha256": trainer.data.sha256},
        "optimizer": to_tree(trainer.optimizer.state_dict(), arrays, "optim"),
        "rng": [g.bit_generator.state for g in trainer.generators()],
    }
    return save_checkpoint(path, header, arrays)


def _model_arrays(ck: Any) -> dict[str, np.ndarray]:
    return {k.removeprefix("model/"): v for k, v in ck.arrays.items() if k.startswith("model/")}


def restore_state(trainer: Any, ck: Any) -> None:
    """Load weights, optimiser state, generator states and step of checkpoint ``ck`` into a
    freshly built trainer of the same configuration."""
    from llmmath.checkpoint import from_tree

    trainer.model.load_state_dict(_model_arrays(ck))
    trainer.optimizer.load_state_dict(from_tree(ck.header["optimizer"], ck.arrays))
    gens, states = trainer.generators(), ck.header["rng"]
    if len(gens) != len(states):
        raise InvalidValueError(f"train --resume: '{ck.path}' holds {len(states)} generator "
                                f"states; this model uses {len(gens)}.")
    for g, state in zip(gens, states, strict=True):
        g.bit_generator.state = state
    trainer.step, trainer.elapsed = int(ck.header["step"]), float(ck.header["elapsed"])


def read_checkpoint(path: Any) -> tuple[Any, Any, Any]:
    """Load and check a training checkpoint (a file, or the ``out_dir`` holding ``ckpt.npz``).

    Returns
    -------
    (Checkpoint, TrainConfig, tokenizer)

    Raises
    ------
    CheckpointError
        Missing, truncated or corrupted file, another kind of file, or an
        unusable configuration or tokenizer; the message names the file.
    """
    from llmmath.checkpoint import CheckpointError, load_checkpoint
    from llmmath.tokenizers import tokenizer_from_dict
    from llmmath.train import TrainConfig

    path = Path(path)
    ck = load_checkpoint(path / CHECKPOINT_NAME if path.is_dir() else path)
    h = ck.header
    if h.get("format") != FORMAT or h.get("version") != 1:
        raise CheckpointError(f"load_checkpoint: '{ck.path}' is a {h.get('format')!r} file; "
                              f"expected a {FORMAT!r} training checkpoint (version 1).")
    try:
        config = TrainConfig(**h["config"])
        tokenizer = tokenizer_from_dict(h["tokenizer"])
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"load_checkpoint: '{ck.path}' has an unusable config or "
                              f"tokenizer ({exc}).") from None
    if tokenizer.fingerprint != h.get("tokenizer_fingerprint"):
        raise CheckpointError(f"load_checkpoint: '{ck.path}': the tokenizer does not match its "
                              "recorded fingerprint.")
    return ck, config, tokenizer


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A trained model ready to evaluate or sample from (see :func:`load_model`)."""

    model: Any            # llmmath.nn.GPT, in eval mode
    tokenizer: Any
    config: Any           # llmmath.train.TrainConfig
    step: int
    path: Path
    header: dict


def load_model(path: Any) -> LoadedModel:
    """The GPT, tokenizer and configuration stored in a training checkpoint (a file or its
    ``out_dir``), the checksum verified; the model is in eval mode."""
    from llmmath.nn import GPT, GPTConfig

    ck, config, tokenizer = read_checkpoint(path)
    model = GPT(GPTConfig(**ck.header["gpt_config"]), dtype=np.dtype(config.dtype), rng=0)
    model.load_state_dict(_model_arrays(ck))
    model.eval()
    return LoadedModel(model, tokenizer, config, int(ck.header["step"]), ck.path, ck.header)


# ---------------------------------------------------------------------------- metrics
def read_metrics(path: Any) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl``; a torn last line (a crash mid-write) is skipped."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def plot_loss_curve(records: list[dict[str, Any]], path: Any) -> Path:
    """Draw the training loss and the evaluations of ``records`` into a PNG (matplotlib, Agg),
    written atomically. Where a run was resumed from an earlier step, the later record wins."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from llmmath.checkpoint import atomic_write_bytes

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
    path = atomic_write_bytes(path, lambda f: fig.savefig(f, format="png"))
    plt.close(fig)
    return path
