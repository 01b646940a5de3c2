"""Neural-network modules and a GPT-2 style language model, on the llmmath autograd engine.

:class:`Module` keeps parameters and sub-modules in attribute order, the way
``torch.nn.Module`` registers them, so parameter names, order and shapes
match PyTorch: a ``state_dict`` moves between the two. :class:`GPT` follows
nanoGPT's ``model.py`` (pre-LayerNorm blocks, learned positions, tied input
and output embeddings, GELU with the tanh approximation).

Shape glossary: B batch, T time (tokens), C channels (``n_embd``), nh heads,
hs head size (C / nh), V vocabulary.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_bool, check_float, check_int, check_rng
from llmmath.autograd import Parameter, Tensor, no_grad
from llmmath.autograd import functional as F
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.prob import sample

__all__ = [
    "Module", "ModuleList", "ModuleDict", "Linear", "Embedding", "LayerNorm", "Dropout",
    "MLP", "CausalSelfAttention", "Block", "GPTConfig", "GPT",
]


class Module:
    """Base class: parameters and sub-modules are found through attributes, in order.

    Examples
    --------
    >>> from llmmath.nn import Linear
    >>> layer = Linear(3, 2)
    >>> [(name, p.shape) for name, p in layer.named_parameters()]
    [('weight', (2, 3)), ('bias', (2,))]
    """

    training: bool = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def _children(self) -> Iterator[tuple[str, Any]]:
        for name, value in vars(self).items():
            if isinstance(value, (Parameter, Module)):
                yield name, value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every sub-module, with dotted names."""
        yield prefix, self
        for name, value in self._children():
            if isinstance(value, Module):
                yield from value.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def _named_tensors(self, prefix: str = "") -> list[tuple[str, Parameter]]:
        found: list[tuple[str, Parameter]] = []
        self._collect_tensors(prefix, found)
        return found

    def _collect_tensors(self, prefix: str, found: list[tuple[str, Parameter]]) -> None:
        # A list filled by plain recursion: nested generators cost more, and parameters()
        # runs every training step (gradient clipping).
        for name, value in self._children():
            full = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Parameter):
                found.append((full, value))
            else:
                value._collect_tensors(full, found)

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs; a shared (tied) parameter appears once, under its first name."""
        seen: set[int] = set()
        for name, p in self._named_tensors():
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self) -> list[Parameter]:
        return [p for _, p in self.named_parameters()]

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter by name; tied parameters appear under each name (as in PyTorch)."""
        return {name: p.data.copy() for name, p in self._named_tensors()}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> None:
        """Copy values into the parameters (in place, keeping each parameter's dtype).

        Raises
        ------
        InvalidValueError
            With ``strict``: keys missing or unexpected. Always: a shape mismatch.
        """
        if not isinstance(state_dict, Mapping):
            raise InvalidTypeError("load_state_dict: argument 'state_dict' must be a mapping of "
                                   f"names to arrays; got {type(state_dict).__name__}.")
        own = dict(self._named_tensors())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise InvalidValueError(f"load_state_dict: {type(self).__name__} has missing keys "
                                    f"{missing} and unexpected keys {unexpected}.")
        arrays = {}
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            if hasattr(value, "detach"):  # a torch tensor
                value = value.detach().cpu().numpy()
            arr = np.asarray(value)
            if arr.shape != p.shape:
                raise ShapeError(f"load_state_dict: '{name}' has shape {arr.shape} in the "
                                 f"state dict but {p.shape} in the model.")
            arrays[name] = arr
        for name, arr in arrays.items():
            own[name].data[...] = arr

    def train(self, mode: bool = True) -> Module:
        mode = check_bool(mode, "mode", "train")
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to None by default, as PyTorch)."""
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def num_params(self) -> int:
        return sum(p.data.size for p in self.parameters())


class ModuleList(Module):
    """Modules in a list, named '0', '1', … (like ``torch.nn.ModuleList``)."""

    def __init__(self, modules: list[Module]) -> None:
        self._items = list(modules)
        for i, m in enumerate(self._items):
            if not isinstance(m, Module):
                raise InvalidTypeError(f"ModuleList: item {i} must be a Module; got "
                                       f"{type(m).__name__}.")

    def _children(self) -> Iterator[tuple[str, Any]]:
        yield from ((str(i), m) for i, m in enumerate(self._items))

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> Module:
        return self._items[i]


class ModuleDict(Module):
    """Modules by name, reachable as attributes (like ``torch.nn.ModuleDict``)."""

    def __init__(self, **modules: Module) -> None:
        for name, m in modules.items():
            setattr(self, name, m)


def _dtype(dtype: Any, op: str) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise InvalidTypeError(f"{op}: argument 'dtype' must be float32 or float64; got {dt}.")
    return dt


class Linear(Module):
    """y = x Wᵀ + b with W of shape (out_features, in_features), PyTorch's layout and init.

    Weights and bias start uniform in ±1/√in_features (PyTorch's default).

    Examples
    --------
    >>> from llmmath.nn import Linear
    >>> Linear(4, 3, rng=0)(np.ones((2, 4), np.float32)).shape
    (2, 3)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 dtype: Any = np.float32, rng: Any = None) -> None:
        n_in = check_int(in_features, "in_features", "Linear", min_value=1)
        n_out = check_int(out_features, "out_features", "Linear", min_value=1)
        gen, dt, bound = check_rng(rng, "Linear"), _dtype(dtype, "Linear"), 1.0 / math.sqrt(n_in)
        self.weight = Parameter(gen.uniform(-bound, bound, (n_out, n_in)).astype(dt))
        self.bias = Parameter(gen.uniform(-bound, bound, n_out).astype(dt)) if bias else None

    def forward(self, x: Any) -> Tensor:
        return F.linear(x, self.weight, self.bias)


class Embedding(Module):
    """A lookup table: row i of ``weight`` (num_embeddings, embedding_dim) is token i's vector."""

    def __init__(self, num_embeddings: int, embedding_dim: int, *, dtype: Any = np.float32,
                 rng: Any = None) -> None:
        n = check_int(num_embeddings, "num_embeddings", "Embedding", min_value=1)
        d = check_int(embedding_dim, "embedding_dim", "Embedding", min_value=1)
        gen = check_rng(rng, "Embedding")
        self.weight = Parameter(gen.standard_normal((n, d)).astype(_dtype(dtype, "Embedding")))

    def forward(self, idx: Any) -> Tensor:
        return F.embedding(idx, self.weight)


class LayerNorm(Module):
    """Layer normalisation over the last axis, bias optional (nanoGPT's LayerNorm)."""

    def __init__(self, ndim: int, bias: bool = True, eps: float = 1e-5, *,
                 dtype: Any = np.float32) -> None:
        n = check_int(ndim, "ndim", "LayerNorm", min_value=1)
        dt = _dtype(dtype, "LayerNorm")
        self.weight = Parameter(np.ones(n, dt))
        self.bias = Parameter(np.zeros(n, dt)) if bias else None
        self.eps = check_float(eps, "eps", "LayerNorm", min_value=0.0)

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.weight, self.bias, self.eps)


class Dropout(Module):
    """Inverted dropout with probability p while training; the identity in eval mode."""

    def __init__(self, p: float = 0.0, rng: Any = None) -> None:
        self.p = check_float(p, "p", "Dropout", min_value=0.0, max_value=1.0)
        self.rng = check_rng(rng, "Dropout")

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(x, Tensor) and (self.p == 0.0 or not self.training):
            return x                                  # the identity (what F.dropout returns)
        return F.dropout(x, self.p, self.training, self.rng)


@dataclass
class GPTConfig:
    """Hyper-parameters of :class:`GPT` (nanoGPT's defaults: GPT-2 small, padded vocabulary)."""

    block_size: int = 1024
    vocab_size: int = 50304
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True
    fused_attention: bool = True    # one engine node for attention; False: nanoGPT's lines

    def __post_init__(self) -> None:
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            check_int(getattr(self, name), name, "GPTConfig", min_value=1)
        check_float(self.dropout, "dropout", "GPTConfig", min_value=0.0, max_value=1.0,
                    max_inclusive=False)
        check_bool(self.bias, "bias", "GPTConfig")
        check_bool(self.fused_attention, "fused_attention", "GPTConfig")
        if self.n_embd % self.n_head:
            raise InvalidValueError(f"GPTConfig: n_embd ({self.n_embd}) must be divisible by "
                                    f"n_head ({self.n_head}).")


class CausalSelfAttention(Module):
    """Multi-head self-attention in which position t sees only positions <= t.

    Two paths compute the same numbers. The readable one (``fused=False``) is
    nanoGPT's: split the packed projection into q, k and v, give each a head
    axis, attend with the causal mask, put the heads back side by side. The
    fused one (the default) does those steps in one engine node,
    :func:`~llmmath.autograd.functional.causal_self_attention`, without the
    copies and zero-filled gradients of the split and the merge.

    Parameters
    ----------
    config : GPTConfig
    fused : bool, optional
        Which path; ``None`` takes ``config.fused_attention``.
    dtype, rng
        As for :class:`Linear`; ``rng`` also draws the dropout masks.

    Examples
    --------
    >>> from llmmath.nn import CausalSelfAttention, GPTConfig
    >>> cfg = GPTConfig(block_size=4, vocab_size=5, n_layer=1, n_head=2, n_embd=4)
    >>> x = np.random.default_rng(0).standard_normal((1, 3, 4))
    >>> fused = CausalSelfAttention(cfg, dtype=np.float64, rng=0)
    >>> readable = CausalSelfAttention(cfg, fused=False, dtype=np.float64, rng=0)
    >>> bool(np.allclose(fused(x).data, readable(x).data, rtol=1e-12, atol=1e-15))
    True
    >>> y, w = fused(x, need_weights=True)          # w: (B, nh, T, T), rows sum to 1
    >>> w.shape, w[0, 0, 0].tolist()
    ((1, 2, 3, 3), [1.0, 0.0, 0.0])
    """

    def __init__(self, config: GPTConfig, *, fused: bool | None = None, dtype: Any = np.float32,
                 rng: Any = None) -> None:
        gen = check_rng(rng, "CausalSelfAttention")
        c = config.n_embd
        self.c_attn = Linear(c, 3 * c, bias=config.bias, dtype=dtype, rng=gen)  # q, k, v at once
        self.c_proj = Linear(c, c, bias=config.bias, dtype=dtype, rng=gen)
        self.resid_dropout = Dropout(config.dropout, gen)
        self.n_head, self.n_embd, self.dropout, self.rng = config.n_head, c, config.dropout, gen
        self.fused = config.fused_attention if fused is None else check_bool(
            fused, "fused", "CausalSelfAttention")

    def forward(self, x: Tensor, need_weights: bool = False) -> Any:
        """y (B, T, C); with ``need_weights``, ``(y, weights)``, weights (B, nh, T, T) NumPy."""
        qkv = self.c_attn(x)                                          # (B, T, 3C)
        p = self.dropout if self.training else 0.0
        need_weights = check_bool(need_weights, "need_weights", "CausalSelfAttention")
        attend = self._fused if self.fused else self._readable
        y, weights = attend(qkv, p, need_weights)
        y = self.resid_dropout(self.c_proj(y))                        # (B, T, C)
        return (y, weights) if need_weights else y

    def _readable(self, qkv: Tensor, p: float, need_weights: bool) -> tuple[Tensor, Any]:
        """nanoGPT's lines, one engine node each: split, heads, causal attention, merge."""
        B, T, C, nh = qkv.shape[0], qkv.shape[1], self.n_embd, self.n_head
        q, k, v = (qkv[:, :, i * C:(i + 1) * C] for i in range(3))  # (B, T, C) each
        q, k, v = (a.reshape(B, T, nh, C // nh).transpose(1, 2)
                   for a in (q, k, v))                              # (B, nh, T, hs)
        out = F.scaled_dot_product_attention(q, k, v, causal=True, dropout_p=p, rng=self.rng,
                                             need_weights=need_weights)
        y, weights = out if need_weights else (out, None)           # (B, nh, T, hs)
        return y.transpose(1, 2).reshape(B, T, C), weights          # heads side by side

    def _fused(self, qkv: Tensor, p: float, need_weights: bool) -> tuple[Tensor, Any]:
        """The same arithmetic as :meth:`_readable` in one node."""
        out = F.causal_self_attention(qkv, self.n_head, dropout_p=p, rng=self.rng,
                                      need_weights=need_weights)
        return out if need_weights else (out, None)


class MLP(Module):
    """Position-wise feed-forward: C -> 4C -> GELU (tanh) -> C."""

    def __init__(self, config: GPTConfig, *, dtype: Any = np.float32, rng: Any = None) -> None:
        gen = check_rng(rng, "MLP")
        c = config.n_embd
        self.c_fc = Linear(c, 4 * c, bias=config.bias, dtype=dtype, rng=gen)
        self.c_proj = Linear(4 * c, c, bias=config.bias, dtype=dtype, rng=gen)
        self.dropout = Dropout(config.dropout, gen)

    def forward(self, x: Tensor) -> Tensor:
        h = F.gelu(self.c_fc(x))                                      # (B, T, 4C)
        return self.dropout(self.c_proj(h))                           # (B, T, C)


class Block(Module):
    """One transformer block, pre-LayerNorm: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig, *, dtype: Any = np.float32, rng: Any = None) -> None:
        gen = check_rng(rng, "Block")
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias, dtype=dtype)
        self.attn = CausalSelfAttention(config, dtype=dtype, rng=gen)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias, dtype=dtype)
        self.mlp = MLP(config, dtype=dtype, rng=gen)

    def forward(self, x: Tensor, need_weights: bool = False) -> Any:
        """x (B, T, C); with ``need_weights``, ``(x, weights)`` (the attention's, (B, nh, T, T))."""
        a = self.attn(self.ln_1(x), need_weights=need_weights)
        a, weights = a if need_weights else (a, None)
        x = x + a                                                     # (B, T, C)
        x = x + self.mlp(self.ln_2(x))                                # (B, T, C)
        return (x, weights) if need_weights else x


class GPT(Module):
    """A GPT-2 style decoder-only transformer (nanoGPT's ``model.py``).

    Parameters and names match nanoGPT, so ``state_dict`` and
    ``load_state_dict`` exchange weights with the PyTorch model. The output
    layer shares its matrix with the token embedding
    (``lm_head.weight is transformer.wte.weight``). Weights start as
    N(0, 0.02²); each residual projection (``c_proj``) as N(0, (0.02/√(2·n_layer))²).

    Parameters
    ----------
    config : GPTConfig
    dtype : numpy.float32 or numpy.float64
    rng : numpy.random.Generator, int or None
        Seeds the initial weights and the dropout masks.

    References
    ----------
    A. Radford et al., "Language Models are Unsupervised Multitask
    Learners", 2019 (GPT-2); A. Karpathy, nanoGPT ``model.py``.

    Examples
    --------
    >>> from llmmath.nn import GPT, GPTConfig
    >>> model = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8), rng=0)
    >>> logits, loss = model(np.zeros((2, 8), int), np.ones((2, 8), int))
    >>> logits.shape, round(loss.item(), 1)      # about log(11) = 2.4 at the start
    ((2, 8, 11), 2.4)
    """

    def __init__(self, config: GPTConfig, *, dtype: Any = np.float32, rng: Any = None) -> None:
        if not isinstance(config, GPTConfig):
            raise InvalidTypeError(f"GPT: argument 'config' must be a GPTConfig; got "
                                   f"{type(config).__name__}.")
        gen = check_rng(rng, "GPT")
        self.config = config
        self.transformer = ModuleDict(
            wte=Embedding(config.vocab_size, config.n_embd, dtype=dtype, rng=gen),
            wpe=Embedding(config.block_size, config.n_embd, dtype=dtype, rng=gen),
            drop=Dropout(config.dropout, gen),
            h=ModuleList([Block(config, dtype=dtype, rng=gen) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, bias=config.bias, dtype=dtype),
        )
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False, dtype=dtype, rng=gen)
        self.transformer.wte.weight = self.lm_head.weight             # weight tying
        self._init_weights(gen)

    def _init_weights(self, gen: np.random.Generator) -> None:
        proj_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("bias") and "ln_" not in name:
                p.data[...] = 0.0
            elif name.endswith("weight") and "ln_" not in name:
                std = proj_std if name.endswith("c_proj.weight") else 0.02
                p.data[...] = gen.normal(0.0, std, p.shape)

    def num_params(self, non_embedding: bool = True) -> int:
        """Number of parameters; by default without the position embeddings (as nanoGPT).

        The token embedding counts because it is also the output layer.
        """
        n = super().num_params()
        return n - self.transformer.wpe.weight.data.size if non_embedding else n

    def forward(self, idx: Any, targets: Any = None, *, need_weights: bool = False) -> Any:
        """Logits for every position (and the mean cross-entropy when ``targets`` is given).

        Without targets only the last position's logits are computed, shape (B, 1, V).
        Targets equal to -1 are ignored (padding). With ``need_weights`` the
        result is ``(logits, loss, weights)``: logits at every position, and
        every block's attention weights as one NumPy array (B, n_layer, nh, T, T).
        """
        need_weights = check_bool(need_weights, "need_weights", "GPT")
        cfg = self.config
        idx = as_int_array(idx, "idx", "GPT", min_value=0, max_value=cfg.vocab_size - 1)
        if idx.ndim != 2 or not 1 <= idx.shape[1] <= cfg.block_size:
            raise ShapeError(f"GPT: 'idx' must have shape (B, T) with 1 <= T <= block_size = "
                             f"{cfg.block_size}; got {idx.shape}.")
        B, T = idx.shape
        tr = self.transformer
        tok = tr.wte(idx)                                             # (B, T, C)
        pos = tr.wpe(np.arange(T))                                    # (T, C)
        x = tr.drop(tok + pos)                                        # (B, T, C)
        maps = []
        for block in tr.h:
            if need_weights:
                x, w = block(x, need_weights=True)                    # w: (B, nh, T, T)
                maps.append(w)
            else:
                x = block(x)                                          # (B, T, C)
        x = tr.ln_f(x)                                                # (B, T, C)
        if targets is None and not need_weights:
            return self.lm_head(x[:, T - 1:T, :]), None               # (B, 1, V)
        logits = self.lm_head(x)                                      # (B, T, V)
        loss = None if targets is None else F.cross_entropy(logits, targets, ignore_index=-1)
        if need_weights:
            return logits, loss, np.stack(maps, axis=1)               # (B, n_layer, nh, T, T)
        return logits, loss

    def generate(self, idx: Any, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None,
                 min_p: float | None = None, rng: Any = None) -> np.ndarray:
        """Extend each sequence by sampling one token at a time from the model.

        The context is cropped to the last ``block_size`` tokens; each next
        token is drawn by :func:`llmmath.prob.sample` from the last position's
        logits (temperature 0 is greedy). Runs in eval mode (no dropout) and
        without recording a graph; the previous mode is restored.

        Parameters
        ----------
        idx : array_like of int, shape (B, T) or (T,)
        max_new_tokens : int
        temperature, top_k, top_p, min_p
            Passed to :func:`llmmath.prob.sample`.
        rng : numpy.random.Generator, int or None

        Returns
        -------
        numpy.ndarray of int64, shape (B, T + max_new_tokens) (or (T + max_new_tokens,))
        """
        n_new = check_int(max_new_tokens, "max_new_tokens", "generate", min_value=0)
        seq = as_int_array(idx, "idx", "generate", min_value=0,
                           max_value=self.config.vocab_size - 1)
        one_d = seq.ndim == 1
        seq = seq[None, :] if one_d else seq
        if seq.ndim != 2 or seq.shape[1] == 0:
            raise ShapeError(f"generate: 'idx' must have shape (B, T) or (T,) with T >= 1; got "
                             f"{np.shape(idx)}.")
        gen = check_rng(rng, "generate")
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for _ in range(n_new):
                    logits, _ = self(seq[:, -self.config.block_size:])
                    nxt = sample(logits.data[:, -1, :], temperature=temperature, top_k=top_k,
                                 top_p=top_p, min_p=min_p, rng=gen)
                    seq = np.concatenate([seq, np.asarray(nxt, np.int64).reshape(-1, 1)], axis=1)
        finally:
            self.train(was_training)
        return seq[0] if one_d else seq

    def param_groups(self, weight_decay: float) -> list[dict[str, Any]]:
        """nanoGPT's split for AdamW: decay matrices (2-D), not biases or LayerNorm gains."""
        params = self.parameters()
        return [{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
                {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
