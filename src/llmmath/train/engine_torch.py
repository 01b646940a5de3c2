"""The same run on PyTorch: nanoGPT's model and ``torch.optim.AdamW`` in place of llmmath's engine.

``llmmath train --engine torch`` trains a :class:`TorchTrainer`. It is the run
of :class:`~llmmath.train.Trainer` (configuration, data, initial weights, random
generators, learning-rate schedule, checkpoint) with the model and the optimiser
moved to PyTorch; everything around them stays as it is. The batches come
from :func:`llmmath.data.get_batch` drawing from the same NumPy generator,
the loop is :func:`llmmath.train.run`, and the checkpoint is the same
``ckpt.npz``: weights as NumPy arrays under nanoGPT's parameter names, AdamW's
moments and step counts in llmmath's layout, the generators' states. So a
run started on one engine continues on the other, and in float64 the two
engines give the same losses to rounding. Where they part: with dropout,
PyTorch draws its own masks (seeded step by step from the NumPy dropout
generator, so that a torch run still resumes exactly), not llmmath's.

:class:`TorchGPT` is nanoGPT's ``model.py`` (pre-LayerNorm blocks, learned
positions, tied input and output embeddings) with one deliberate
difference: GELU with the tanh approximation (GPT-2's choice, and llmmath's),
where nanoGPT's ``nn.GELU()`` is the exact erf form.

On several processes (``--nproc``, see :mod:`llmmath.train.ddp`) the trainer
wraps the model in ``DistributedDataParallel``: every rank draws the whole
global batch of ``world_size * batch_size`` windows from the shared generator
and trains on its own share, so N processes take the step one process takes
with an N times larger batch.

PyTorch is an optional extra (``pip install 'llmmath[torch]'``). Importing
this module without it raises :class:`TorchMissingError`, which says so;
``import llmmath.train`` never imports this module.

References
----------
.. [1] A. Karpathy, nanoGPT, ``model.py`` and ``train.py``,
   https://github.com/karpathy/nanoGPT.
.. [2] S. Li et al., "PyTorch Distributed: Experiences on Accelerating Data
   Parallel Training", VLDB 2020 (DistributedDataParallel).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from llmmath.data import get_batch
from llmmath.errors import InvalidValueError, LLMMathError, ShapeError
from llmmath.train.config import TrainConfig
from llmmath.train.data import TrainingData
from llmmath.train.trainer import Trainer

__all__ = ["TorchMissingError", "INSTALL_HINT", "TorchGPT", "TorchTrainer", "torch_dtype",
           "check_arch", "load_weights", "make_adamw", "adamw_state_to_numpy", "adamw_state_to_torch"]

#: What to run when PyTorch is missing.
INSTALL_HINT = "pip install 'llmmath[torch]'  (PyTorch 2.13.0)"


class TorchMissingError(LLMMathError, ImportError):
    """PyTorch, an optional extra, is not installed (the message says how to install it)."""


try:
    import torch
    import torch.distributed as dist
    from torch import nn
    from torch.nn import functional as F
except ImportError:
    raise TorchMissingError(
        "the torch engine (and export/import to nanoGPT) needs PyTorch, an optional extra of "
        f"llmmath that is not installed; install it with:  {INSTALL_HINT}") from None


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype of a :class:`~llmmath.train.TrainConfig` ``dtype`` name.

    Examples
    --------
    >>> torch_dtype("float64")
    torch.float64
    """
    return {"float32": torch.float32, "float64": torch.float64}[name]


# ------------------------------------------------------------------------------------ model

class LayerNorm(nn.Module):
    """LayerNorm over the last axis with an optional bias (``nn.LayerNorm`` has no bias=False)."""

    def __init__(self, ndim: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention, position t seeing positions <= t (PyTorch's fused kernel)."""

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)   # q, k, v at once
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_dropout = nn.Dropout(cfg.dropout)
        self.n_head, self.n_embd, self.dropout = cfg.n_head, cfg.n_embd, cfg.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.size()
        nh = self.n_head
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)              # (B, T, C) each
        q = q.view(B, T, nh, C // nh).transpose(1, 2)                   # (B, nh, T, hs)
        k = k.view(B, T, nh, C // nh).transpose(1, 2)                   # (B, nh, T, hs)
        v = v.view(B, T, nh, C // nh).transpose(1, 2)                   # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(B, T, C)                # (B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward: C -> 4C -> GELU (tanh) -> C."""

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))      # (B, T, C)


class Block(nn.Module):
    """One transformer block, pre-LayerNorm: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))                                 # (B, T, C)
        return x + self.mlp(self.ln_2(x))                               # (B, T, C)


class TorchGPT(nn.Module):
    """nanoGPT's GPT with the parameter names and shapes of :class:`llmmath.nn.GPT`.

    ``cfg`` is any object with the fields of :class:`llmmath.nn.GPTConfig`
    (``block_size``, ``vocab_size``, ``n_layer``, ``n_head``, ``n_embd``,
    ``dropout``, ``bias``). Weights start as nanoGPT's: N(0, 0.02²), each
    residual projection N(0, (0.02/√(2·n_layer))²), biases 0.

    Examples
    --------
    >>> from llmmath.nn import GPT, GPTConfig
    >>> cfg = GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8)
    >>> ours = GPT(cfg, dtype=np.float64, rng=0)
    >>> theirs = TorchGPT(cfg).double()
    >>> _ = theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    >>> x = np.arange(16).reshape(2, 8) % 11
    >>> bool(np.allclose(theirs(torch.from_numpy(x))[0].detach().numpy(), ours(x)[0].data))
    True
    """

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.config = cfg
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg.vocab_size, cfg.n_embd),
            wpe=nn.Embedding(cfg.block_size, cfg.n_embd),
            drop=nn.Dropout(cfg.dropout),
            h=nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)]),
            ln_f=LayerNorm(cfg.n_embd, bias=cfg.bias),
        ))
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight               # weight tying
        proj_std = 0.02 / math.sqrt(2 * cfg.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "ln_" not in name:
                nn.init.normal_(p, 0.0, proj_std if name.endswith("c_proj.weight") else 0.02)

    def num_params(self, non_embedding: bool = True) -> int:
        """Number of parameters; by default without the position embeddings (as nanoGPT)."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) and the mean cross-entropy; without targets the last position's
        logits only, (B, 1, V). Targets equal to -1 are ignored."""
        B, T = idx.size()
        tr = self.transformer
        pos = torch.arange(T, dtype=torch.long, device=idx.device)      # (T,)
        x = tr.drop(tr.wte(idx) + tr.wpe(pos))                          # (B, T, C)
        for block in tr.h:
            x = block(x)                                                # (B, T, C)
        x = tr.ln_f(x)                                                  # (B, T, C)
        if targets is None:
            return self.lm_head(x[:, [-1], :]), None                    # (B, 1, V)
        logits = self.lm_head(x)                                        # (B, T, V)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                               ignore_index=-1)
        return logits, loss


# --------------------------------------------------------- the checkpoint's view (NumPy arrays)

def load_weights(module: nn.Module, weights: Mapping[str, Any], where: str) -> None:
    """Copy NumPy ``weights`` into ``module`` in place (dtype and device kept), after checking
    that they are the same architecture: the same names and shapes."""
    own = module.state_dict()
    missing = [k for k in own if k not in weights]
    unexpected = [k for k in weights if k not in own]
    if missing or unexpected:
        raise InvalidValueError(
            f"{where}: the weights are not this model's architecture (a GPT with "
            f"{module.config.n_layer} layers in nanoGPT's layout): missing "
            f"{missing[:4]}{'...' if len(missing) > 4 else ''}, unexpected "
            f"{unexpected[:4]}{'...' if len(unexpected) > 4 else ''}.")
    for k, target in own.items():
        if tuple(np.shape(weights[k])) != tuple(target.shape):
            raise ShapeError(f"{where}: '{k}' has shape {tuple(np.shape(weights[k]))} in the "
                             f"weights but {tuple(target.shape)} in the model.")
    with torch.no_grad():
        for name, p in module.named_parameters():   # a tied parameter once, under its first name
            p.copy_(torch.as_tensor(np.asarray(weights[name])))


class NumpyModel:
    """A torch module as a checkpoint sees it: ``state_dict`` of NumPy arrays and back."""

    def __init__(self, module: TorchGPT) -> None:
        self.module = module

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter by name; tied ones under each name (as llmmath's)."""
        return {k: v.detach().cpu().numpy().copy() for k, v in self.module.state_dict().items()}

    def load_state_dict(self, weights: Mapping[str, Any]) -> None:
        load_weights(self.module, weights, "TorchTrainer")

    def num_params(self, non_embedding: bool = True) -> int:
        return self.module.num_params(non_embedding)


_GROUP_KEYS = ("lr", "betas", "eps", "weight_decay")   # llmmath's AdamW settings


def adamw_state_to_numpy(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """``torch.optim.AdamW.state_dict()`` in the layout of :meth:`llmmath.optim.AdamW.state_dict`:
    integer step counts, moments as NumPy arrays, only llmmath's group settings.

    Examples
    --------
    >>> p = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    >>> opt = torch.optim.AdamW([p], lr=0.1)
    >>> p.grad = torch.ones(2, dtype=torch.float64)
    >>> opt.step()
    >>> sd = adamw_state_to_numpy(opt.state_dict())
    >>> sd["state"][0]["step"], sd["state"][0]["exp_avg"].round(3).tolist(), sd["param_groups"][0]["betas"]
    (1, [0.1, 0.1], (0.9, 0.999))
    """
    state = {int(i): {"step": int(s["step"]),
                      "exp_avg": s["exp_avg"].detach().cpu().numpy().copy(),
                      "exp_avg_sq": s["exp_avg_sq"].detach().cpu().numpy().copy()}
             for i, s in state_dict["state"].items()}
    groups = [{"lr": float(g["lr"]), "betas": tuple(float(b) for b in g["betas"]),
               "eps": float(g["eps"]), "weight_decay": float(g["weight_decay"]),
               "params": [int(i) for i in g["params"]]} for g in state_dict["param_groups"]]
    return {"state": state, "param_groups": groups}


def adamw_state_to_torch(state_dict: Mapping[str, Any], optimizer: torch.optim.AdamW
                         ) -> dict[str, Any]:
    """The inverse of :func:`adamw_state_to_numpy` for ``optimizer``: a dict its
    ``load_state_dict`` takes, with ``optimizer``'s own settings where llmmath has none.

    Raises
    ------
    InvalidValueError
        The groups or the moments' shapes are not those of ``optimizer``'s parameters.
    """
    op = "AdamW state"
    own = optimizer.state_dict()
    try:
        groups, state = list(state_dict["param_groups"]), dict(state_dict["state"])
    except (KeyError, TypeError):
        raise InvalidValueError(f"{op}: expected a dict with 'state' and 'param_groups'."
                                ) from None
    sizes = [len(g["params"]) for g in groups]
    own_sizes = [len(g["params"]) for g in own["param_groups"]]
    if sizes != own_sizes:
        raise InvalidValueError(f"{op}: the saved parameter groups have sizes {sizes}; this "
                                f"model's have {own_sizes} (another architecture?).")
    params = [p for g in optimizer.param_groups for p in g["params"]]
    new_state = {}
    for key, s in state.items():
        p = params[int(key)]
        moments = {k: torch.as_tensor(np.asarray(s[k])) for k in ("exp_avg", "exp_avg_sq")}
        for k, v in moments.items():
            if tuple(v.shape) != tuple(p.shape):
                raise ShapeError(f"{op}: '{k}' of parameter {key} has shape {tuple(v.shape)}; "
                                 f"the parameter has {tuple(p.shape)}.")
        new_state[int(key)] = {"step": torch.tensor(float(s["step"])), **moments}
    new_groups = [{**mine, **{k: saved[k] for k in _GROUP_KEYS if k in saved},
                   "params": mine["params"]}
                  for mine, saved in zip(own["param_groups"], groups, strict=True)]
    for g in new_groups:
        g["betas"] = tuple(g["betas"])
    return {"state": new_state, "param_groups": new_groups}


def make_adamw(module: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """``torch.optim.AdamW`` with llmmath's (and nanoGPT's) two parameter groups, in
    :meth:`llmmath.nn.GPT.param_groups`' order: matrices decayed, biases and gains not."""
    named = list(module.named_parameters())
    return torch.optim.AdamW(
        [{"params": [p for _, p in named if p.dim() >= 2], "weight_decay": config.weight_decay},
         {"params": [p for _, p in named if p.dim() < 2], "weight_decay": 0.0}],
        lr=config.learning_rate, betas=(config.beta1, config.beta2), eps=1e-8)


class NumpyAdamW:
    """A ``torch.optim.AdamW`` as a checkpoint sees it (see :func:`adamw_state_to_numpy`)."""

    def __init__(self, optimizer: torch.optim.AdamW) -> None:
        self.optimizer = optimizer

    def state_dict(self) -> dict[str, Any]:
        return adamw_state_to_numpy(self.optimizer.state_dict())

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        self.optimizer.load_state_dict(adamw_state_to_torch(state_dict, self.optimizer))


# ---------------------------------------------------------------------------------- trainer

def check_arch(config: Any, what: str = "train --engine torch") -> None:
    """Refuse a run of another architecture than nanoGPT's GPT (``arch`` ``"gpt2"``).

    Raises
    ------
    InvalidValueError
        The configuration names another architecture (``llama``...).
    """
    arch = getattr(config, "arch", "gpt2")
    if arch != "gpt2":
        raise InvalidValueError(
            f"{what}: PyTorch here runs nanoGPT's GPT (arch 'gpt2': LayerNorm, learned "
            f"positions, GELU); this run is arch {arch!r}, another architecture. Train it "
            "with llmmath's engine (--engine llmmath).")


def default_device() -> torch.device:
    """Where a run trains: the GPU of this rank under NCCL, else CUDA if present, else the CPU."""
    if dist.is_available() and dist.is_initialized():
        if dist.get_backend() == "nccl":
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return torch.device("cpu")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TorchTrainer(Trainer):
    """A :class:`~llmmath.train.Trainer` whose model and optimiser are PyTorch's.

    The run is built exactly as the llmmath engine builds it (the same
    initial weights for the same seed, the same generators), then the
    weights move into a :class:`TorchGPT` on ``device``. ``model`` and
    ``optimizer`` are NumPy views for the checkpoint (:class:`NumpyModel`,
    :class:`NumpyAdamW`); ``module``, ``net`` (``module``, or its
    DistributedDataParallel wrapper) and ``torch_optimizer`` are the torch
    objects. Inside an initialised ``torch.distributed`` process group the
    trainer is one rank of a data-parallel run: each rank trains on its share
    of a ``world_size * batch_size`` batch, the loss it returns is the whole
    batch's, the evaluation batches are shared out, and only rank 0 writes the
    checkpoint.

    Parameters
    ----------
    config : TrainConfig
    data : TrainingData, optional
    device : str or torch.device, optional
        Default: see :func:`default_device`.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.txt"
    >>> _ = p.write_text("to be or not to be, that is the question. " * 40)
    >>> from llmmath.train import preset_config
    >>> cfg = preset_config("tiny", text=str(p), block_size=8, n_embd=16, dtype="float64")
    >>> a, b = Trainer(cfg), TorchTrainer(cfg, device="cpu")
    >>> la, lb = [a.train_step() for _ in range(3)], [b.train_step() for _ in range(3)]
    >>> bool(np.allclose(la, lb, rtol=1e-10)), b.engine
    (True, 'torch')
    """

    engine = "torch"

    def __init__(self, config: TrainConfig, data: TrainingData | None = None, *,
                 device: str | torch.device | None = None) -> None:
        check_arch(config)
        super().__init__(config, data)    # the llmmath run: data, initial weights, generators
        c = self.config
        self._generators = Trainer.generators(self)     # batches, then the model's (dropout)
        self.dropout_rng = self._generators[-1]
        self.distributed = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if self.distributed else 0
        self.world_size = dist.get_world_size() if self.distributed else 1
        self.device = torch.device(device) if device is not None else default_device()
        self.module = TorchGPT(self.gpt_config).to(device=self.device, dtype=torch_dtype(c.dtype))
        load_weights(self.module, self.model.state_dict(), "TorchTrainer")
        self.net: nn.Module = self.module
        if self.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.module, device_ids=ids)
        self.torch_optimizer = make_adamw(self.module, c)
        self.model = NumpyModel(self.module)            # the llmmath model is dropped here
        self.optimizer = NumpyAdamW(self.torch_optimizer)
        #: set by a launcher: returns a signal number asking every rank to stop, or 0
        self.stop_source: Callable[[], int] | None = None

    def generators(self) -> list[np.random.Generator]:
        """The generators of the llmmath engine's run: batches, then dropout."""
        return list(self._generators)

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).to(self.device)

    def train_step(self) -> float:
        """One optimiser step on a fresh batch; returns the (global) batch loss before it."""
        c, B, r = self.config, self.config.batch_size, self.rank
        lr = self.lr_at(self.step)
        for group in self.torch_optimizer.param_groups:
            group["lr"] = lr
        self.module.train()
        x, y = get_batch(self.data.train, c.block_size, B * self.world_size,
                         self.batch_rng)                                # (N*B, T): every rank
        x, y = x[r * B:(r + 1) * B], y[r * B:(r + 1) * B]              # (B, T): this rank's share
        if c.dropout > 0:   # masks from a seed the checkpointed NumPy generator draws
            torch.manual_seed(int(self.dropout_rng.integers(2**62)) + r)
        _, loss = self.net(self._tensor(x), self._tensor(y))
        loss.backward()                                   # DDP: gradients averaged over ranks
        if c.grad_clip > 0:
            try:
                torch.nn.utils.clip_grad_norm_(self.module.parameters(), c.grad_clip,
                                               error_if_nonfinite=True)
            except RuntimeError:
                raise InvalidValueError(
                    "clip_grad_norm: the gradient norm is not finite; some gradient holds NaN "
                    "or inf (the run diverged: try a lower learning_rate).") from None
        self.torch_optimizer.step()
        self.torch_optimizer.zero_grad(set_to_none=True)
        self.step += 1
        value = loss.detach()
        if self.distributed:                              # the mean over the whole batch
            dist.all_reduce(value, op=dist.ReduceOp.SUM)
            value = value / self.world_size
        return float(value.item())

    def estimate_loss(self) -> dict[str, float]:
        """Mean loss over ``eval_iters`` batches of train and val, dropout off: the batches of
        :meth:`Trainer.estimate_loss` (a generator seeded by ``(seed, 2)`` on every call),
        shared out among the ranks."""
        c = self.config
        rng = np.random.default_rng((c.seed, 2))
        out = {}
        self.module.eval()
        try:
            with torch.no_grad():
                for split in ("train", "val"):
                    data = getattr(self.data, split)
                    losses = torch.zeros(c.eval_iters, dtype=torch.float64, device=self.device)
                    for i in range(c.eval_iters):
                        x, y = get_batch(data, c.block_size, c.batch_size, rng)   # every rank
                        if i % self.world_size == self.rank:
                            losses[i] = self.module(self._tensor(x), self._tensor(y))[1]
                    if self.distributed:      # the others' entries are 0: the sum is exact
                        dist.all_reduce(losses, op=dist.ReduceOp.SUM)
                    out[split] = float(np.mean(losses.cpu().numpy()))
        finally:
            self.module.train()
        return out

    def agree_to_stop(self, signum: int | None) -> int | None:
        """The stop signal of this step for every rank alike (the largest any rank has, or the
        launcher's), so that all ranks stop after the same step; one process: ``signum``."""
        if not self.distributed:
            return signum
        local = max(signum or 0, self.stop_source() if self.stop_source is not None else 0)
        flag = torch.tensor([local], dtype=torch.int64, device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return int(flag.item()) or None

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the checkpoint (rank 0 only; the other ranks hold the same state)."""
        return super().save(path) if self.rank == 0 else Path(path)
