"""A GPT-2 style language model (nanoGPT's ``model.py``) on the llmmath autograd engine.

:class:`GPT` follows nanoGPT's ``model.py``: pre-LayerNorm blocks, learned
positions, tied input and output embeddings, GELU with the tanh
approximation. Parameter names, order and shapes are nanoGPT's, so a
``state_dict`` moves between the two.

Shape glossary: B batch, T time (tokens), C channels (``n_embd``), nh heads,
hs head size (C / nh), V vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_bool, check_float, check_int, check_rng
from llmmath.autograd import Tensor
from llmmath.autograd import functional as F
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.nn.layers import Dropout, Embedding, LayerNorm, Linear
from llmmath.nn.lm import LanguageModel
from llmmath.nn.module import Module, ModuleDict, ModuleList

__all__ = ["GPTConfig", "CausalSelfAttention", "MLP", "Block", "GPT"]


@dataclass
class GPTConfig:
    """Hyper-parameters of :class:`GPT` (nanoGPT's defaults: GPT-2 small, padded vocabulary).

    Lesson: none (a building block of the models).
    """

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

    Lesson: none (a building block of the models).

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
    """Position-wise feed-forward: C -> 4C -> GELU (tanh) -> C.

    Lesson: none (a building block of the models).
    """

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
    """One transformer block, pre-LayerNorm: x + attn(ln(x)), then x + mlp(ln(x)).

    Lesson: none (a building block of the models).
    """

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


class GPT(LanguageModel):
    """A GPT-2 style decoder-only transformer (nanoGPT's ``model.py``).

    Lesson: ``training_loop`` (The complete training loop).

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

        Lesson: ``training_loop`` (The complete training loop).

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
