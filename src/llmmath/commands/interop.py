"""``llmmath export`` and ``llmmath import``: training checkpoints to and from nanoGPT's ``ckpt.pt``.

nanoGPT saves a run as ``ckpt.pt``, a ``torch.save`` dict: ``model`` (the
state dict, under the parameter names llmmath's GPT shares), ``optimizer``
(``torch.optim.AdamW``'s state dict), ``model_args`` (the seven fields of its
``GPTConfig``), ``iter_num``, ``best_val_loss`` and ``config`` (the
training script's settings; ``config["dataset"]`` tells ``sample.py`` where to
find ``data/<dataset>/meta.pkl``, the character tables ``stoi`` and
``itos``). :func:`export_nanogpt` writes one from an llmmath checkpoint;
:func:`import_nanogpt` reads one back. An exported file also carries
llmmath's own header (tokenizer, configuration, generator states) inside
``config["llmmath"]``, so that importing it gives back the checkpoint it came
from, resumable as before.

Both need PyTorch (``pip install 'llmmath[torch]'``), imported inside the
functions. ``ckpt.pt`` is read with ``torch.load(weights_only=True)`` and
``meta.pkl`` with an unpickler that refuses every class: a file from a
stranger can fail to load but cannot run code.

References
----------
.. [1] A. Karpathy, nanoGPT, ``train.py`` (the checkpoint), ``sample.py`` (how
   it is loaded), ``data/shakespeare_char/prepare.py`` (``meta.pkl``),
   https://github.com/karpathy/nanoGPT.
"""

from __future__ import annotations

import dataclasses
import io
import math
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import typer

__all__ = ["register", "export_nanogpt", "import_nanogpt", "read_meta", "ExportResult",
           "MODEL_ARGS"]

#: The fields of nanoGPT's GPTConfig, the keys of ``model_args``.
MODEL_ARGS = ("n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size", "dropout")

#: TrainConfig fields that nanoGPT's train.py has under the same name.
_SHARED_SETTINGS = ("batch_size", "block_size", "n_layer", "n_head", "n_embd", "dropout", "bias",
                    "learning_rate", "max_iters", "weight_decay", "beta1", "beta2", "grad_clip",
                    "warmup_iters", "lr_decay_iters", "min_lr", "eval_interval", "eval_iters",
                    "log_interval", "out_dir")

EXPORT_HELP = """Write a training checkpoint as nanoGPT's ckpt.pt (model_args, model, optimizer,
iter_num, best_val_loss, config).

nanoGPT's sample.py loads it: python sample.py --out_dir=DIR, DIR holding the
ckpt.pt. For a character tokenizer a meta.pkl (stoi, itos) is written beside
it; sample.py looks for it in data/<dataset>/meta.pkl, dataset being the name
printed (set it with --dataset), so copy it there. Without it sample.py falls
back to GPT-2's BPE, which is wrong for a character model. nanoGPT's MLP uses
the exact (erf) GELU, llmmath's the tanh approximation: under nanoGPT's
model.py the outputs differ slightly from llmmath's (nn.GELU(approximate='tanh')
in its MLP makes them agree). The optimizer state is AdamW's, in nanoGPT's two
groups, so nanoGPT's train.py can resume the run (init_from='resume').
"""

IMPORT_HELP = """Bring nanoGPT's ckpt.pt back as an llmmath training checkpoint (DIR/ckpt.npz).

A file written by llmmath export comes back whole (weights, optimizer,
generators, tokenizer: it resumes as before). A checkpoint trained by nanoGPT
itself needs its tokenizer: --meta data/<dataset>/meta.pkl (a character
model); its model can then be sampled, evaluated and inspected (llmmath
sample / eval / attention), not resumed (llmmath does not have its text).
The file is read with torch.load(weights_only=True): no code in it runs.
"""


def _torch() -> Any:
    from llmmath.train import engine_torch  # PyTorch, or a message saying how to install it

    return engine_torch


def _dataset_name(name: str) -> str:
    """A directory name for nanoGPT's data/<dataset>/ from a corpus name."""
    return "llmmath_" + (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "corpus")


def char_meta(tokenizer: Any) -> dict[str, Any]:
    """nanoGPT's ``meta.pkl`` for a :class:`~llmmath.tokenizers.CharTokenizer`: every id,
    the unknown one (the last) decoding to U+FFFD as in llmmath.

    Examples
    --------
    >>> from llmmath.tokenizers import CharTokenizer
    >>> m = char_meta(CharTokenizer.fit("abca"))
    >>> m["vocab_size"], m["stoi"], m["itos"][3] == CharTokenizer.UNKNOWN_CHAR
    (4, {'a': 0, 'b': 1, 'c': 2}, True)
    """
    itos = dict(enumerate(tokenizer.chars))
    itos[tokenizer.unk_id] = tokenizer.UNKNOWN_CHAR
    return {"vocab_size": tokenizer.vocab_size, "itos": itos,
            "stoi": {c: i for i, c in enumerate(tokenizer.chars)}}


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_nanogpt` wrote."""

    path: Path                 # ckpt.pt
    meta: Path | None          # meta.pkl beside it (character tokenizers)
    dataset: str               # config["dataset"]: sample.py reads data/<dataset>/meta.pkl


def _best_val_loss(ck_path: Path, step: int) -> float:
    """The lowest validation estimate logged up to ``step`` beside the checkpoint (1e9,
    nanoGPT's starting value, without one)."""
    from llmmath.train import METRICS_NAME, read_metrics

    log = ck_path.parent / METRICS_NAME
    vals = [r["val"] for r in read_metrics(log) if r.get("kind") == "eval"
            and r.get("step", math.inf) <= step] if log.is_file() else []
    return float(min(vals)) if vals else 1e9


def export_nanogpt(checkpoint: str | Path, out: str | Path | None = None, *,
                   dataset: str | None = None, force: bool = False) -> ExportResult:
    """Write llmmath training checkpoint ``checkpoint`` as nanoGPT's ``ckpt.pt``.

    Parameters
    ----------
    checkpoint : path
        A ``ckpt.npz`` or the run directory holding it.
    out : path, optional
        Default: ``ckpt.pt`` beside the checkpoint.
    dataset : str, optional
        ``config["dataset"]`` (default ``llmmath_<corpus name>``).
    force : bool
        Replace an existing ``out`` (and ``meta.pkl``).

    Raises
    ------
    CheckpointError
        Not a readable llmmath training checkpoint.
    InvalidValueError
        ``out`` exists and ``force`` is false.
    """
    from llmmath._files import atomic_write_bytes
    from llmmath.checkpoint import from_tree
    from llmmath.errors import InvalidValueError
    from llmmath.nn import GPTConfig
    from llmmath.tokenizers import CharTokenizer
    from llmmath.train.state import model_weights, read_checkpoint

    et = _torch()
    torch = et.torch
    ck, config, tokenizer = read_checkpoint(checkpoint)
    et.check_arch(config, "export --format nanogpt")
    h = ck.header
    out = Path(out) if out is not None else ck.path.parent / "ckpt.pt"
    meta_path = out.parent / "meta.pkl" if isinstance(tokenizer, CharTokenizer) else None
    for p in (out, meta_path):
        if p is not None and p.exists() and not force:
            raise InvalidValueError(f"export: '{p}' exists; pass --force to replace it, or "
                                    "choose another -o.")
    gpt_config = GPTConfig(**h["gpt_config"])
    module = et.TorchGPT(gpt_config).to(et.torch_dtype(config.dtype))
    et.load_weights(module, model_weights(ck), "export")
    optimizer = et.make_adamw(module, config)
    optimizer.load_state_dict(et.adamw_state_to_torch(from_tree(h["optimizer"], ck.arrays),
                                                      optimizer))
    dataset = dataset or _dataset_name(h["data"]["name"])
    settings = dataclasses.asdict(config)
    nano_config = {k: settings[k] for k in _SHARED_SETTINGS}
    nano_config.update(dataset=dataset, gradient_accumulation_steps=1, decay_lr=True,
                       dtype=config.dtype, device="cpu", compile=False, init_from="resume",
                       llmmath={k: v for k, v in h.items() if k != "optimizer"})
    payload = {
        "model": module.state_dict(),          # lm_head.weight and wte.weight: one tensor
        "optimizer": optimizer.state_dict(),
        "model_args": {k: getattr(gpt_config, k) for k in MODEL_ARGS},
        "iter_num": int(h["step"]),
        "best_val_loss": _best_val_loss(ck.path, int(h["step"])),
        "config": nano_config,
    }
    atomic_write_bytes(out, lambda f: torch.save(payload, f))
    if meta_path is not None:
        meta = char_meta(tokenizer)
        atomic_write_bytes(meta_path, lambda f: pickle.dump(meta, f))
    return ExportResult(out, meta_path, dataset)


class _DataOnly(pickle.Unpickler):
    """An unpickler of plain data: dicts, lists, strings, numbers; any class is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"it refers to {module}.{name}; only plain data "
                                     "(dicts, strings, numbers) is read")


def read_meta(path: str | Path) -> Any:
    """A :class:`~llmmath.tokenizers.CharTokenizer` from nanoGPT's ``meta.pkl``.

    The ids must be llmmath's: the characters in sorted order (as nanoGPT's
    ``prepare.py`` numbers them), optionally followed by U+FFFD for unknown
    characters (as :func:`export_nanogpt` writes them).

    Raises
    ------
    InvalidValueError
        Not a readable ``meta.pkl``, or ids in another order.
    """
    from llmmath.errors import InvalidValueError
    from llmmath.tokenizers import CharTokenizer

    path = Path(path)
    try:
        meta = _DataOnly(io.BytesIO(path.read_bytes())).load()
        itos = meta["itos"]
        chars = "".join(itos[i] for i in range(len(itos)))
    except FileNotFoundError:
        raise InvalidValueError(f"import --meta: '{path}' does not exist.") from None
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, IndexError,
            AttributeError) as exc:
        raise InvalidValueError(f"import --meta: '{path}' is not nanoGPT's meta.pkl (a dict "
                                f"with 'itos', id -> character): {exc}.") from None
    if len(chars) != len(itos):
        raise InvalidValueError(f"import --meta: '{path}': every 'itos' entry must be one "
                                "character (a character-level tokenizer).")
    if chars.endswith(CharTokenizer.UNKNOWN_CHAR):
        chars = chars[:-1]
    if chars != "".join(sorted(set(chars))):
        raise InvalidValueError(f"import --meta: '{path}' numbers its characters in another "
                                "order than sorted; llmmath's character tokenizer numbers them "
                                "in sorted order, so the ids would not match.")
    return CharTokenizer(chars)


def _load_pt(path: Path) -> dict[str, Any]:
    from llmmath.checkpoint import CheckpointError

    torch = _torch().torch
    if not path.is_file():
        raise CheckpointError(f"import: '{path}' does not exist (or is not a file).")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CheckpointError(f"import: '{path}' holds objects that torch.load(weights_only="
                              f"True) does not read, so it is not loaded ({first}).") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"import: '{path}' is not a readable torch.save file "
                              f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})."
                              ) from None
    if not isinstance(obj, dict) or not {"model", "model_args"} <= set(obj):
        raise CheckpointError(f"import: '{path}' is not a nanoGPT checkpoint (expected a dict "
                              "with 'model' and 'model_args').")
    return obj


def _gpt_config(args: Any, path: Path) -> Any:
    from llmmath.checkpoint import CheckpointError
    from llmmath.nn import GPTConfig

    try:
        missing = [k for k in MODEL_ARGS if k not in args]
        if missing:
            raise KeyError(f"no {', '.join(missing)}")
        return GPTConfig(**{k: args[k] for k in MODEL_ARGS})
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"import: '{path}' has unusable model_args ({exc}); expected "
                              f"nanoGPT's {', '.join(MODEL_ARGS)}.") from None


def _nanogpt_weights(state: Any, gpt_config: Any, path: Path) -> dict[str, Any]:
    """The state dict as NumPy arrays under llmmath's names, checked against the layout."""
    from llmmath.checkpoint import CheckpointError

    et = _torch()
    if not isinstance(state, dict) or not all(isinstance(v, et.torch.Tensor)
                                              for v in state.values()):
        raise CheckpointError(f"import: '{path}': 'model' is not a state dict of tensors.")
    sd = {str(k).removeprefix("_orig_mod."): v for k, v in state.items()}   # torch.compile's
    sd = {k: v for k, v in sd.items()                                       # the causal mask
          if not (k.endswith(".attn.bias") and getattr(v, "ndim", 0) == 4)}  # of slow attention
    with et.torch.device("meta"):
        expected = et.TorchGPT(gpt_config).state_dict()
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    bad = [k for k in expected if k in sd and tuple(sd[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or bad:
        raise CheckpointError(
            f"import: '{path}' is not a GPT of nanoGPT's architecture ({gpt_config.n_layer} "
            f"layers, C={gpt_config.n_embd}): missing {missing[:4]}, unexpected "
            f"{unexpected[:4]}, wrong shapes {bad[:4]}" + ("..." if max(
                len(missing), len(unexpected), len(bad)) > 4 else "") + ".")
    return {k: v.detach().cpu().numpy().copy() for k, v in sd.items()}


def _config_from_nanogpt(obj: dict, gpt_config: Any, weights: dict, out_dir: Path) -> Any:
    """A TrainConfig for a checkpoint trained by nanoGPT: its shapes, and its settings where
    they are valid ones."""
    import numpy as np

    from llmmath.train import TrainConfig

    dtype = "float64" if weights["lm_head.weight"].dtype == np.float64 else "float32"
    arch = {k: getattr(gpt_config, k) for k in ("n_layer", "n_head", "n_embd", "block_size",
                                                 "dropout", "bias")}
    base = dict(arch, tokenizer="char", dtype=dtype, out_dir=str(out_dir))
    theirs = obj.get("config") if isinstance(obj.get("config"), dict) else {}
    shared = {k: theirs[k] for k in _SHARED_SETTINGS if k in theirs and k not in arch
              and k != "out_dir"}
    try:
        return TrainConfig(**{**base, **shared})
    except (TypeError, ValueError):
        return TrainConfig(**base)


def import_nanogpt(path: str | Path, out_dir: str | Path, *, meta: str | Path | None = None,
                   force: bool = False) -> Path:
    """Write nanoGPT checkpoint ``path`` as an llmmath training checkpoint ``out_dir/ckpt.npz``.

    Returns
    -------
    Path
        The ``ckpt.npz`` written.

    Raises
    ------
    CheckpointError
        Not a nanoGPT checkpoint, or a model of another architecture.
    InvalidValueError
        No tokenizer (a checkpoint trained by nanoGPT needs ``meta``), or
        ``out_dir`` holds a checkpoint and ``force`` is false.
    """
    import numpy as np

    from llmmath.checkpoint import CheckpointError
    from llmmath.errors import InvalidValueError
    from llmmath.nn import GPTConfig
    from llmmath.tokenizers import tokenizer_from_dict
    from llmmath.train import CHECKPOINT_NAME, TrainConfig, save_state

    et = _torch()
    path, out_dir = Path(path), Path(out_dir)
    target = out_dir / CHECKPOINT_NAME
    if target.exists() and not force:
        raise InvalidValueError(f"import: '{target}' exists; pass --force to replace it, or "
                                "choose another -o directory.")
    obj = _load_pt(path)
    gpt_config = _gpt_config(obj["model_args"], path)
    weights = _nanogpt_weights(obj["model"], gpt_config, path)
    ours = (obj.get("config") or {}).get("llmmath") if isinstance(obj.get("config"), dict) \
        else None
    try:
        if ours is not None:      # written by llmmath export: everything comes back
            config = TrainConfig(**ours["config"])
            gpt_config = GPTConfig(**ours["gpt_config"])
            tokenizer = tokenizer_from_dict(ours["tokenizer"])
            data, rng = ours["data"], ours["rng"]
            step, elapsed = int(ours["step"]), float(ours["elapsed"])
            engine, world_size = ours.get("engine", "llmmath"), ours.get("world_size", 1)
        else:                     # trained by nanoGPT
            if meta is None:
                raise InvalidValueError(
                    f"import: '{path}' was trained by nanoGPT and carries no tokenizer; pass "
                    "--meta data/<dataset>/meta.pkl (the character tables of a character-level "
                    "model; GPT-2 BPE models are not supported).")
            tokenizer = read_meta(meta)
            if tokenizer.vocab_size not in (gpt_config.vocab_size, gpt_config.vocab_size + 1):
                raise InvalidValueError(
                    f"import: '{meta}' has {len(tokenizer.chars)} characters, but the model "
                    f"has vocab_size {gpt_config.vocab_size}: not this model's meta.pkl.")
            config = _config_from_nanogpt(obj, gpt_config, weights, out_dir)
            name = (obj.get("config") or {}).get("dataset", path.stem)
            data = {"name": f"nanoGPT:{name}", "sha256": ""}
            rng = [np.random.default_rng((config.seed, i)).bit_generator.state for i in (1, 0)]
            step, elapsed, engine, world_size = int(obj.get("iter_num", 0)), 0.0, "nanogpt", 1
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"import: '{path}' has an unusable llmmath header ({exc})."
                              ) from None
    config = dataclasses.replace(config, out_dir=str(out_dir))
    module = et.TorchGPT(gpt_config).to(et.torch_dtype(config.dtype))
    et.load_weights(module, weights, "import")
    optimizer = et.make_adamw(module, config)
    if "optimizer" in obj:
        try:
            optimizer.load_state_dict(obj["optimizer"])
        except (ValueError, KeyError, TypeError, RuntimeError):
            optimizer = et.make_adamw(module, config)   # another optimiser: start AdamW afresh
    generators = []
    for state in rng:
        g = np.random.default_rng()
        g.bit_generator.state = state
        generators.append(g)
    run = SimpleNamespace(
        config=config, gpt_config=gpt_config, step=step, elapsed=elapsed, engine=engine,
        world_size=world_size, model=et.NumpyModel(module), optimizer=et.NumpyAdamW(optimizer),
        data=SimpleNamespace(tokenizer=tokenizer, corpus=SimpleNamespace(name=data["name"]),
                             sha256=data["sha256"]),
        generators=lambda: generators)
    return save_state(run, target)


def _fail(exc: Exception) -> typer.Exit:
    from llmmath.commands.training import _fail as fail

    return fail(exc)


def _errors() -> tuple[type[BaseException], ...]:
    from llmmath.commands.training import _errors as errors

    return errors()


def register(app: typer.Typer) -> None:
    """Add ``export`` and ``import`` to ``app``."""

    @app.command("export", help=EXPORT_HELP)
    def export(
        checkpoint: Path = typer.Argument(..., help="llmmath checkpoint (ckpt.npz) or its "
                                                    "out_dir"),
        format: str = typer.Option("nanogpt", "--format", help="nanogpt (the only one)"),
        out: Path | None = typer.Option(None, "--out", "-o",
                                        help="file to write (default: ckpt.pt beside the "
                                             "checkpoint)"),
        dataset: str | None = typer.Option(None, "--dataset",
                                           help="config['dataset'], where sample.py looks for "
                                                "data/<dataset>/meta.pkl (default: "
                                                "llmmath_<corpus>)"),
        force: bool = typer.Option(False, "--force", help="replace existing files"),
    ) -> None:
        try:
            if format != "nanogpt":
                raise _fail(ValueError(f"export: --format must be 'nanogpt'; got {format!r}."))
            r = export_nanogpt(checkpoint, out, dataset=dataset, force=force)
        except _errors() as exc:
            raise _fail(exc) from None
        typer.echo(f"wrote {r.path}" + (f" and {r.meta}" if r.meta else ""))
        if r.meta:
            typer.echo(f"nanoGPT: copy {r.meta.name} to data/{r.dataset}/meta.pkl, then "
                       f"python sample.py --out_dir={r.path.parent}")
        else:
            typer.echo(f"nanoGPT: python sample.py --out_dir={r.path.parent} (no meta.pkl: "
                       "sample.py will use GPT-2's BPE, not this model's tokenizer)")

    @app.command("import", help=IMPORT_HELP)
    def import_checkpoint(
        ckpt: Path = typer.Argument(..., help="nanoGPT's ckpt.pt"),
        out: Path = typer.Option(..., "--out", "-o", help="directory for ckpt.npz"),
        meta: Path | None = typer.Option(None, "--meta",
                                         help="nanoGPT's meta.pkl (character tables), for a "
                                              "checkpoint not written by llmmath export"),
        force: bool = typer.Option(False, "--force", help="replace an existing ckpt.npz"),
    ) -> None:
        try:
            path = import_nanogpt(ckpt, out, meta=meta, force=force)
        except _errors() as exc:
            raise _fail(exc) from None
        typer.echo(f"wrote {path}\nnext: llmmath sample {path}   |   llmmath eval {path}")
