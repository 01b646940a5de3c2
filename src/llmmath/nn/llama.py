"""A Llama-style language model: RMSNorm, rotary positions, SwiGLU, no biases.

The decoder of Meta's Llama (``llama/model.py``) on the llmmath engine, with
Meta's module and parameter names: ``tok_embeddings``, ``layers.<i>.attention``
(``wq``, ``wk``, ``wv``, ``wo``), ``layers.<i>.feed_forward`` (``w1``, ``w2``,
``w3``), ``attention_norm``, ``ffn_norm``, ``norm``, ``output``. Against
:class:`~llmmath.nn.GPT` it changes four things:

* **positions by rotation**: no position table; each query and key is
  rotated by an angle proportional to its position
  (:func:`llmmath.autograd.functional.rope`), so attention scores depend
  on offsets only;
* **RMSNorm** instead of LayerNorm (no centring, no bias);
* **SwiGLU** instead of GELU: W2(SiLU(W1 x) ⊙ W3 x), with the hidden width cut
  to about 2/3 · 4C so that three matrices cost what two did;
* **no biases** anywhere, and an output layer of its own unless
  ``tie_embeddings``.

Hugging Face's ``LlamaForCausalLM`` holds the same numbers under other names
(:func:`hf_llama_key`) and rotates the halves of each head, (i, i + hs/2),
where Meta and this module rotate neighbours, (2i, 2i + 1). Permuting the
rows of ``wq`` and ``wk`` within each head (:func:`hf_rope_permutation`)
turns one convention into the other; :func:`to_hf_llama` and
:func:`from_hf_llama` convert whole state dicts.

Shape glossary: B batch, T time, C channels (``n_embd``), nh heads, hs head
size (C / nh), H hidden width of the feed-forward layer, V vocabulary.

References
----------
.. [1] H. Touvron et al., "LLaMA: Open and Efficient Foundation Language Models",
   arXiv:2302.13971, 2023; Meta's reference code, github.com/meta-llama/llama, ``model.py``.
.. [2] Hugging Face transformers, ``models/llama/modeling_llama.py`` and
   ``convert_llama_weights_to_hf.py`` (the names and the q/k permutation).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_bool, check_float, check_int, check_rng
from llmmath.autograd import Tensor
from llmmath.autograd import functional as F
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.nn.layers import Dropout, Embedding, Linear, RMSNorm
from llmmath.nn.lm import LanguageModel
from llmmath.nn.module import Module, ModuleList

__all__ = ["LlamaConfig", "Attention", "FeedForward", "TransformerBlock", "Llama",
           "llama_hidden_size", "HF_LLAMA_NAMES",
           "hf_llama_key", "hf_rope_permutation", "to_hf_llama", "from_hf_llama"]


def llama_hidden_size(n_embd: int, multiple_of: int) -> int:
    """Meta's rule for the SwiGLU width: 2/3 of 4C, rounded up to a multiple of ``multiple_of``.

    Lesson: ``rmsnorm_swiglu`` (RMSNorm and SwiGLU).

    Examples
    --------
    >>> llama_hidden_size(4096, 256), llama_hidden_size(64, 32)     # Llama 7B; our tiny width
    (11008, 192)
    """
    hidden = int(2 * (4 * n_embd) / 3)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)


@dataclass
class LlamaConfig:
    """Hyper-parameters of :class:`Llama` (sizes default to GPT-2 small's, as :class:`GPTConfig`).

    Lesson: ``rope`` (Positions by rotation (RoPE)).

    ``ffn_hidden`` None takes Meta's rule (:func:`llama_hidden_size`: 2/3 of
    4C rounded up to ``multiple_of``); set it to match another model's
    parameter count. ``rope_theta`` is the base of the rotation frequencies
    (10000 in Llama 1 and 2, 500000 in Llama 3). Meta's models keep the
    output layer separate (``tie_embeddings=False``); tying it to the token
    embedding saves V·C parameters.

    Examples
    --------
    >>> cfg = LlamaConfig(n_embd=64, n_head=4)
    >>> cfg.hidden_size, cfg.head_size
    (192, 16)
    """

    block_size: int = 1024
    vocab_size: int = 50304
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    ffn_hidden: int | None = None
    multiple_of: int = 32
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    tie_embeddings: bool = False
    dropout: float = 0.0

    def __post_init__(self) -> None:
        op = "LlamaConfig"
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd", "multiple_of"):
            check_int(getattr(self, name), name, op, min_value=1)
        if self.ffn_hidden is not None:
            check_int(self.ffn_hidden, "ffn_hidden", op, min_value=1)
        check_float(self.rope_theta, "rope_theta", op, min_value=0.0, min_inclusive=False)
        check_float(self.norm_eps, "norm_eps", op, min_value=0.0)
        check_bool(self.tie_embeddings, "tie_embeddings", op)
        check_float(self.dropout, "dropout", op, min_value=0.0, max_value=1.0,
                    max_inclusive=False)
        if self.n_embd % self.n_head:
            raise InvalidValueError(f"{op}: n_embd ({self.n_embd}) must be divisible by "
                                    f"n_head ({self.n_head}).")
        if (self.n_embd // self.n_head) % 2:
            raise InvalidValueError(f"{op}: the head size n_embd / n_head = "
                                    f"{self.n_embd // self.n_head} must be even (RoPE rotates "
                                    "pairs of coordinates).")

    @property
    def head_size(self) -> int:
        return self.n_embd // self.n_head

    @property
    def hidden_size(self) -> int:
        """H, the width of the SwiGLU layer."""
        return self.ffn_hidden or llama_hidden_size(self.n_embd, self.multiple_of)


def _positions(token_positions: Any, B: int, T: int, op: str) -> np.ndarray:
    """Positions (T,) or (B, T) as an int array, default ``arange(T)``."""
    if token_positions is None:
        return np.arange(T)
    pos = as_int_array(token_positions, "token_positions", op)
    if pos.shape not in ((T,), (B, T)):
        raise ShapeError(f"{op}: argument 'token_positions' must have shape (T,) = ({T},) or "
                         f"(B, T) = ({B}, {T}); got {pos.shape}.")
    return pos


class Attention(Module):
    """Causal multi-head self-attention with rotary positions (Meta's ``Attention``).

    Lesson: ``rope`` (Positions by rotation (RoPE)).

    q, k and v come from three bias-free projections; q and k of the token
    at position m are rotated by R(m) (:func:`~llmmath.autograd.functional.rope`)
    before the scaled dot product, so the score of query m and key n depends
    on m − n; v is not rotated.

    Parameters
    ----------
    config : LlamaConfig
    dtype, rng
        As for :class:`~llmmath.nn.Linear`; ``rng`` also draws dropout masks.

    Examples
    --------
    >>> from llmmath.nn import Attention, LlamaConfig
    >>> attn = Attention(LlamaConfig(n_embd=8, n_head=2), dtype=np.float64, rng=0)
    >>> x = np.random.default_rng(1).standard_normal((1, 5, 8))
    >>> shifted = attn(x, token_positions=np.arange(5) + 100)  # every position + 100 ...
    >>> bool(np.allclose(attn(x).data, shifted.data, atol=1e-12))   # ... same output
    True
    """

    def __init__(self, config: LlamaConfig, *, dtype: Any = np.float32, rng: Any = None) -> None:
        gen = check_rng(rng, "Attention")
        c = config.n_embd
        self.wq = Linear(c, c, bias=False, dtype=dtype, rng=gen)
        self.wk = Linear(c, c, bias=False, dtype=dtype, rng=gen)
        self.wv = Linear(c, c, bias=False, dtype=dtype, rng=gen)
        self.wo = Linear(c, c, bias=False, dtype=dtype, rng=gen)
        self.resid_dropout = Dropout(config.dropout, gen)
        self.n_head, self.head_size = config.n_head, config.head_size
        self.theta, self.dropout, self.rng = config.rope_theta, config.dropout, gen

    def forward(self, x: Tensor, token_positions: Any = None, need_weights: bool = False) -> Any:
        """y (B, T, C); with ``need_weights``, ``(y, weights)``, weights (B, nh, T, T) NumPy.

        ``token_positions`` (T,) or (B, T) integers; default 0 .. T-1.
        """
        need_weights = check_bool(need_weights, "need_weights", "Attention")
        B, T, C = x.shape
        nh, hs = self.n_head, self.head_size
        pos = _positions(token_positions, B, T, "Attention")[..., None]   # (T, 1) or (B, T, 1)
        q = self.wq(x).reshape(B, T, nh, hs)                              # (B, T, nh, hs)
        k = self.wk(x).reshape(B, T, nh, hs)
        v = self.wv(x).reshape(B, T, nh, hs)
        q = F.rope(q, pos, self.theta)                                    # rotate by position
        k = F.rope(k, pos, self.theta)
        q, k, v = (a.transpose(1, 2) for a in (q, k, v))                  # (B, nh, T, hs)
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, causal=True, dropout_p=p, rng=self.rng,
                                             need_weights=need_weights)
        y, weights = out if need_weights else (out, None)                 # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C)                            # heads side by side
        y = self.resid_dropout(self.wo(y))                                # (B, T, C)
        return (y, weights) if need_weights else y


class FeedForward(Module):
    """The SwiGLU layer: w2(SiLU(w1 x) ⊙ w3 x), C -> H -> C, no biases (Meta's ``FeedForward``).

    Lesson: none (a building block of the models).
    """

    def __init__(self, config: LlamaConfig, *, dtype: Any = np.float32, rng: Any = None) -> None:
        gen = check_rng(rng, "FeedForward")
        c, h = config.n_embd, config.hidden_size
        self.w1 = Linear(c, h, bias=False, dtype=dtype, rng=gen)          # gate
        self.w2 = Linear(h, c, bias=False, dtype=dtype, rng=gen)          # down
        self.w3 = Linear(c, h, bias=False, dtype=dtype, rng=gen)          # up (value)
        self.dropout = Dropout(config.dropout, gen)

    def forward(self, x: Tensor) -> Tensor:
        y = F.swiglu(x, self.w1.weight, self.w2.weight, self.w3.weight)   # (B, T, C)
        return self.dropout(y)


class TransformerBlock(Module):
    """One Llama block, pre-norm: h = x + attention(norm(x)), out = h + feed_forward(norm(h)).

    Lesson: none (a building block of the models).
    """

    def __init__(self, config: LlamaConfig, *, dtype: Any = np.float32, rng: Any = None) -> None:
        gen = check_rng(rng, "TransformerBlock")
        self.attention = Attention(config, dtype=dtype, rng=gen)
        self.feed_forward = FeedForward(config, dtype=dtype, rng=gen)
        self.attention_norm = RMSNorm(config.n_embd, config.norm_eps, dtype=dtype)
        self.ffn_norm = RMSNorm(config.n_embd, config.norm_eps, dtype=dtype)

    def forward(self, x: Tensor, token_positions: Any = None, need_weights: bool = False) -> Any:
        """x (B, T, C); with ``need_weights``, ``(x, weights)`` (B, nh, T, T)."""
        a = self.attention(self.attention_norm(x), token_positions, need_weights=need_weights)
        a, weights = a if need_weights else (a, None)
        h = x + a                                                          # (B, T, C)
        out = h + self.feed_forward(self.ffn_norm(h))                      # (B, T, C)
        return (out, weights) if need_weights else out


class Llama(LanguageModel):
    """A Llama-style decoder-only transformer (Meta's ``Transformer``), the same interface as GPT.

    Lesson: none (a building block of the models).

    ``forward``, ``generate``, ``param_groups`` and ``state_dict`` behave as
    :class:`~llmmath.nn.GPT`'s, so training, evaluation and sampling take
    either. Matrices start as N(0, 0.02²), each residual projection (``wo``,
    ``w2``) as N(0, (0.02/√(2·n_layer))²), the gains of the norms at 1 — the
    initialisation of our GPT, so that the two architectures start alike.

    Parameters
    ----------
    config : LlamaConfig
    dtype : numpy.float32 or numpy.float64
    rng : numpy.random.Generator, int or None

    Examples
    --------
    >>> from llmmath.nn import Llama, LlamaConfig
    >>> cfg = LlamaConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8)
    >>> model = Llama(cfg, rng=0)
    >>> logits, loss = model(np.zeros((2, 8), int), np.ones((2, 8), int))
    >>> logits.shape, round(loss.item(), 1)      # about log(11) = 2.4 at the start
    ((2, 8, 11), 2.4)
    >>> [name for name, _ in model.named_parameters()][:3]
    ['tok_embeddings.weight', 'layers.0.attention.wq.weight', 'layers.0.attention.wk.weight']
    """

    def __init__(self, config: LlamaConfig, *, dtype: Any = np.float32, rng: Any = None) -> None:
        if not isinstance(config, LlamaConfig):
            raise InvalidTypeError(f"Llama: argument 'config' must be a LlamaConfig; got "
                                   f"{type(config).__name__}.")
        gen = check_rng(rng, "Llama")
        self.config = config
        self.tok_embeddings = Embedding(config.vocab_size, config.n_embd, dtype=dtype, rng=gen)
        self.layers = ModuleList([TransformerBlock(config, dtype=dtype, rng=gen)
                                  for _ in range(config.n_layer)])
        self.norm = RMSNorm(config.n_embd, config.norm_eps, dtype=dtype)
        self.output = Linear(config.n_embd, config.vocab_size, bias=False, dtype=dtype, rng=gen)
        if config.tie_embeddings:
            self.tok_embeddings.weight = self.output.weight
        self._init_weights(gen)

    def _init_weights(self, gen: np.random.Generator) -> None:
        proj_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, p in self.named_parameters():
            if p.ndim == 2:
                residual = name.endswith(("attention.wo.weight", "feed_forward.w2.weight"))
                p.data[...] = gen.normal(0.0, proj_std if residual else 0.02, p.shape)

    def num_params(self, non_embedding: bool = True) -> int:
        """Number of parameters; ``non_embedding`` leaves out the token embedding unless it is
        tied to the output layer (there is no position table to leave out)."""
        n = super().num_params()
        if non_embedding and not self.config.tie_embeddings:
            n -= self.tok_embeddings.weight.data.size
        return n

    def forward(self, idx: Any, targets: Any = None, *, need_weights: bool = False,
                token_positions: Any = None) -> Any:
        """Logits for every position (and the mean cross-entropy when ``targets`` is given).

        As :meth:`GPT.forward <llmmath.nn.GPT.forward>`: without targets only the
        last position's logits (B, 1, V); targets of -1 are ignored; with
        ``need_weights``, ``(logits, loss, weights)`` with weights
        (B, n_layer, nh, T, T). ``token_positions`` ((T,) or (B, T) integers,
        default 0 .. T-1) are the positions RoPE rotates by.
        """
        need_weights = check_bool(need_weights, "need_weights", "Llama")
        cfg = self.config
        idx = as_int_array(idx, "idx", "Llama", min_value=0, max_value=cfg.vocab_size - 1)
        if idx.ndim != 2 or not 1 <= idx.shape[1] <= cfg.block_size:
            raise ShapeError(f"Llama: 'idx' must have shape (B, T) with 1 <= T <= block_size = "
                             f"{cfg.block_size}; got {idx.shape}.")
        B, T = idx.shape
        pos = _positions(token_positions, B, T, "Llama")
        x = self.tok_embeddings(idx)                                      # (B, T, C)
        maps = []
        for layer in self.layers:
            if need_weights:
                x, w = layer(x, pos, need_weights=True)                   # w: (B, nh, T, T)
                maps.append(w)
            else:
                x = layer(x, pos)                                         # (B, T, C)
        x = self.norm(x)                                                  # (B, T, C)
        if targets is None and not need_weights:
            return self.output(x[:, T - 1:T, :]), None                    # (B, 1, V)
        logits = self.output(x)                                           # (B, T, V)
        loss = None if targets is None else F.cross_entropy(logits, targets, ignore_index=-1)
        if need_weights:
            return logits, loss, np.stack(maps, axis=1)                   # (B, n_layer, nh, T, T)
        return logits, loss


# ------------------------------------------------------------------ Hugging Face names

#: Our parameter names (``{i}`` a layer) and Hugging Face ``LlamaForCausalLM``'s.
HF_LLAMA_NAMES: dict[str, str] = {
    "tok_embeddings.weight": "model.embed_tokens.weight",
    "layers.{i}.attention.wq.weight": "model.layers.{i}.self_attn.q_proj.weight",
    "layers.{i}.attention.wk.weight": "model.layers.{i}.self_attn.k_proj.weight",
    "layers.{i}.attention.wv.weight": "model.layers.{i}.self_attn.v_proj.weight",
    "layers.{i}.attention.wo.weight": "model.layers.{i}.self_attn.o_proj.weight",
    "layers.{i}.feed_forward.w1.weight": "model.layers.{i}.mlp.gate_proj.weight",
    "layers.{i}.feed_forward.w2.weight": "model.layers.{i}.mlp.down_proj.weight",
    "layers.{i}.feed_forward.w3.weight": "model.layers.{i}.mlp.up_proj.weight",
    "layers.{i}.attention_norm.weight": "model.layers.{i}.input_layernorm.weight",
    "layers.{i}.ffn_norm.weight": "model.layers.{i}.post_attention_layernorm.weight",
    "norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}


def _translate(name: Any, table: Mapping[str, str], op: str, what: str) -> str:
    if not isinstance(name, str):
        raise InvalidTypeError(f"{op}: argument 'name' must be a str; got "
                               f"{type(name).__name__}.")
    m = re.fullmatch(r"(.*?)\.(\d+)\.(.*)", name)
    key, layer = (f"{m[1]}.{{i}}.{m[3]}", m[2]) if m else (name, None)
    if key not in table:
        raise InvalidValueError(f"{op}: argument 'name' {name!r} is not a {what} parameter "
                                f"name; expected one of {sorted(table)} ({{i}} a layer).")
    return table[key].replace("{i}", layer) if layer is not None else table[key]


def hf_llama_key(name: str) -> str:
    """The Hugging Face ``LlamaForCausalLM`` name of one of our :class:`Llama` parameters.

    Lesson: none (a building block of the models).

    The whole table is :data:`HF_LLAMA_NAMES`. Meta's names are ours, so this
    is also Meta's ``convert_llama_weights_to_hf`` renaming. Remember the
    rows of ``wq`` and ``wk`` must also be permuted (:func:`hf_rope_permutation`).

    Examples
    --------
    >>> hf_llama_key("layers.3.attention.wq.weight")
    'model.layers.3.self_attn.q_proj.weight'
    >>> hf_llama_key("layers.0.feed_forward.w1.weight"), hf_llama_key("output.weight")
    ('model.layers.0.mlp.gate_proj.weight', 'lm_head.weight')
    """
    return _translate(name, HF_LLAMA_NAMES, "hf_llama_key", "Llama")


def hf_rope_permutation(n_heads: int, head_size: int) -> np.ndarray:
    """Row order that turns our (Meta's) ``wq``/``wk`` into Hugging Face's: ``W_hf = W[perm]``.

    Lesson: none (a building block of the models).

    We rotate neighbouring coordinates (2i, 2i+1) of a head; Hugging Face's
    ``rotate_half`` rotates i with i + hs/2, by the same angle m ω_i. So
    within each head the HF row j·hs/2 + i (j = 0, 1) is our row 2i + j:
    the even rows first, then the odd ones. Queries and keys are permuted
    alike, so q·k is unchanged (the permutation is orthogonal), and the
    permuted coordinates meet HF's rotation exactly as ours met ours. v and
    the other matrices are not permuted. This is the ``permute`` of
    ``convert_llama_weights_to_hf.py``.

    Parameters
    ----------
    n_heads, head_size : int
        head_size even.

    Returns
    -------
    ndarray of int64, shape (n_heads * head_size,)

    Examples
    --------
    >>> hf_rope_permutation(1, 6).tolist()
    [0, 2, 4, 1, 3, 5]
    >>> hf_rope_permutation(2, 4).tolist()
    [0, 2, 1, 3, 4, 6, 5, 7]
    """
    op = "hf_rope_permutation"
    nh = check_int(n_heads, "n_heads", op, min_value=1)
    hs = check_int(head_size, "head_size", op, min_value=2)
    if hs % 2:
        raise InvalidValueError(f"{op}: argument 'head_size' must be even; got {hs}.")
    within = np.arange(hs).reshape(hs // 2, 2).T.reshape(-1)       # 0, 2, 4, ..., 1, 3, 5, ...
    return (np.arange(nh)[:, None] * hs + within).reshape(-1)


def to_hf_llama(state_dict: Mapping[str, Any], config: LlamaConfig) -> dict[str, np.ndarray]:
    """Our :class:`Llama` state dict under Hugging Face's names, ``wq`` and ``wk`` permuted.

    Lesson: none (a building block of the models).

    Loaded into ``transformers.LlamaForCausalLM`` (with the same sizes,
    ``rope_theta``, ``rms_norm_eps`` and ``tie_word_embeddings``) it computes
    the same logits. Tied embeddings appear under both names.

    Examples
    --------
    >>> from llmmath.nn import Llama, LlamaConfig
    >>> cfg = LlamaConfig(block_size=4, vocab_size=5, n_layer=1, n_head=2, n_embd=4)
    >>> hf = to_hf_llama(Llama(cfg, rng=0).state_dict(), cfg)
    >>> sorted(hf)[:2]
    ['lm_head.weight', 'model.embed_tokens.weight']
    """
    if not isinstance(config, LlamaConfig):
        raise InvalidTypeError(f"to_hf_llama: argument 'config' must be a LlamaConfig; got "
                               f"{type(config).__name__}.")
    perm = hf_rope_permutation(config.n_head, config.head_size)
    out = {}
    for name, value in state_dict.items():
        arr = np.asarray(value)
        if name.endswith(("attention.wq.weight", "attention.wk.weight")):
            arr = arr[perm]
        out[hf_llama_key(name)] = arr
    return out


def from_hf_llama(state_dict: Mapping[str, Any], config: LlamaConfig) -> dict[str, np.ndarray]:
    """The inverse of :func:`to_hf_llama`: Hugging Face names and row order back to ours.

    Lesson: none (a building block of the models).

    Examples
    --------
    >>> from llmmath.nn import Llama, LlamaConfig
    >>> cfg = LlamaConfig(block_size=4, vocab_size=5, n_layer=1, n_head=2, n_embd=4)
    >>> sd = Llama(cfg, rng=0).state_dict()
    >>> back = from_hf_llama(to_hf_llama(sd, cfg), cfg)
    >>> all(np.array_equal(back[k], sd[k]) for k in sd)
    True
    """
    if not isinstance(config, LlamaConfig):
        raise InvalidTypeError(f"from_hf_llama: argument 'config' must be a LlamaConfig; got "
                               f"{type(config).__name__}.")
    inverse = np.argsort(hf_rope_permutation(config.n_head, config.head_size))
    back = {v: k for k, v in HF_LLAMA_NAMES.items()}
    out = {}
    for name, value in state_dict.items():
        arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        ours = _translate(name, back, "from_hf_llama", "Hugging Face Llama")
        if ours.endswith(("attention.wq.weight", "attention.wk.weight")):
            arr = arr[inverse]
        out[ours] = arr
    return out
