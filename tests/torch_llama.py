"""PyTorch references for llmmath.nn.Llama, written from Meta's and Hugging Face's model code.

:class:`MetaLlama` follows Meta's ``llama/model.py``: the same module and
parameter names as :class:`llmmath.nn.Llama` (so ``load_state_dict`` takes
our weights as they are), RoPE on complex numbers (``precompute_freqs_cis``
and ``apply_rotary_emb``: ``torch.polar`` and ``torch.view_as_complex``),
RMSNorm as ``x * rsqrt(mean(x²) + eps)``, an explicit causal mask added to
the scores. Unlike Meta's, no key/value cache and no model parallelism, and
the initial values are PyTorch's defaults (the tests load weights anyway).

:class:`HFLlama` follows Hugging Face's ``modeling_llama.py``: its names
(``model.layers.0.self_attn.q_proj``…) and its RoPE, ``rotate_half`` with
``cos``/``sin`` of the frequencies repeated twice, which pairs coordinate i
with i + hs/2. Our weights reach it only through
:func:`llmmath.nn.to_hf_llama` (names and the q/k row permutation).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["MetaLlama", "HFLlama"]


def _causal_mask(T: int, dtype: torch.dtype) -> torch.Tensor:
    return torch.triu(torch.full((T, T), float("-inf"), dtype=dtype), diagonal=1)


# ------------------------------------------------------------------ Meta's layout

class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def precompute_freqs_cis(dim: int, positions: torch.Tensor, theta: float) -> torch.Tensor:
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64)[: dim // 2] / dim))
    angles = positions.to(torch.float64)[..., None] * freqs                # (..., T, hs/2)
    return torch.polar(torch.ones_like(angles), angles)                    # e^{i m omega}


def apply_rotary_emb(x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
    """x (B, T, nh, hs); freqs_cis (T, hs/2) or (B, T, hs/2)."""
    xc = torch.view_as_complex(x.reshape(*x.shape[:-1], -1, 2))           # (B, T, nh, hs/2)
    return torch.view_as_real(xc * freqs_cis.unsqueeze(-2)).flatten(3)


class Attention(nn.Module):
    def __init__(self, cfg) -> None:
        super().__init__()
        c = cfg.n_embd
        self.n_head, self.hs = cfg.n_head, c // cfg.n_head
        self.wq = nn.Linear(c, c, bias=False)
        self.wk = nn.Linear(c, c, bias=False)
        self.wv = nn.Linear(c, c, bias=False)
        self.wo = nn.Linear(c, c, bias=False)

    def forward(self, x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q = self.wq(x).view(B, T, self.n_head, self.hs)
        k = self.wk(x).view(B, T, self.n_head, self.hs)
        v = self.wv(x).view(B, T, self.n_head, self.hs)
        q, k = apply_rotary_emb(q, freqs_cis), apply_rotary_emb(k, freqs_cis)
        q, k, v = (a.transpose(1, 2) for a in (q, k, v))                 # (B, nh, T, hs)
        scores = q @ k.transpose(2, 3) / math.sqrt(self.hs) + _causal_mask(T, x.dtype)
        y = F.softmax(scores, dim=-1) @ v
        return self.wo(y.transpose(1, 2).contiguous().view(B, T, C))


class FeedForward(nn.Module):
    def __init__(self, cfg) -> None:
        super().__init__()
        h = cfg.hidden_size
        self.w1 = nn.Linear(cfg.n_embd, h, bias=False)
        self.w2 = nn.Linear(h, cfg.n_embd, bias=False)
        self.w3 = nn.Linear(cfg.n_embd, h, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self, cfg) -> None:
        super().__init__()
        self.attention = Attention(cfg)
        self.feed_forward = FeedForward(cfg)
        self.attention_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.ffn_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)

    def forward(self, x: torch.Tensor, freqs_cis: torch.Tensor) -> torch.Tensor:
        h = x + self.attention(self.attention_norm(x), freqs_cis)
        return h + self.feed_forward(self.ffn_norm(h))


class MetaLlama(nn.Module):
    """Meta's ``Transformer``; ``cfg`` is any object with the LlamaConfig fields."""

    def __init__(self, cfg) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok_embeddings = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.layers = nn.ModuleList([TransformerBlock(cfg) for _ in range(cfg.n_layer)])
        self.norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.output = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.tok_embeddings.weight = self.output.weight

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None,
                positions: torch.Tensor | None = None):
        T = idx.shape[1]
        pos = torch.arange(T) if positions is None else positions
        freqs_cis = precompute_freqs_cis(self.cfg.n_embd // self.cfg.n_head, pos,
                                         self.cfg.rope_theta)
        h = self.tok_embeddings(idx)
        for layer in self.layers:
            h = layer(h, freqs_cis)
        logits = self.output(self.norm(h))
        loss = None if targets is None else F.cross_entropy(
            logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


# ------------------------------------------------------------------ Hugging Face's layout

class HFRMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.variance_epsilon = eps

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        variance = hidden.pow(2).mean(-1, keepdim=True)
        return self.weight * (hidden * torch.rsqrt(variance + self.variance_epsilon))


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def hf_cos_sin(dim: int, T: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)                                # (T, hs)
    return emb.cos(), emb.sin()


class HFAttention(nn.Module):
    def __init__(self, cfg) -> None:
        super().__init__()
        c = cfg.n_embd
        self.n_head, self.hs = cfg.n_head, c // cfg.n_head
        self.q_proj = nn.Linear(c, c, bias=False)
        self.k_proj = nn.Linear(c, c, bias=False)
        self.v_proj = nn.Linear(c, c, bias=False)
        self.o_proj = nn.Linear(c, c, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = (p(x).view(B, T, self.n_head, self.hs).transpose(1, 2)
                   for p in (self.q_proj, self.k_proj, self.v_proj))       # (B, nh, T, hs)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(y.transpose(1, 2).reshape(B, T, C))


class HFMLP(nn.Module):
    def __init__(self, cfg) -> None:
        super().__init__()
        h = cfg.hidden_size
        self.gate_proj = nn.Linear(cfg.n_embd, h, bias=False)
        self.up_proj = nn.Linear(cfg.n_embd, h, bias=False)
        self.down_proj = nn.Linear(h, cfg.n_embd, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class HFDecoderLayer(nn.Module):
    def __init__(self, cfg) -> None:
        super().__init__()
        self.self_attn = HFAttention(cfg)
        self.mlp = HFMLP(cfg)
        self.input_layernorm = HFRMSNorm(cfg.n_embd, cfg.norm_eps)
        self.post_attention_layernorm = HFRMSNorm(cfg.n_embd, cfg.norm_eps)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class HFModel(nn.Module):
    def __init__(self, cfg) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.layers = nn.ModuleList([HFDecoderLayer(cfg) for _ in range(cfg.n_layer)])
        self.norm = HFRMSNorm(cfg.n_embd, cfg.norm_eps)


class HFLlama(nn.Module):
    """``LlamaForCausalLM``'s structure and names (untied: both matrices are loaded)."""

    def __init__(self, cfg) -> None:
        super().__init__()
        self.cfg = cfg
        self.model = HFModel(cfg)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        cos, sin = hf_cos_sin(self.cfg.n_embd // self.cfg.n_head, idx.shape[1],
                              self.cfg.rope_theta)
        h = self.model.embed_tokens(idx)
        for layer in self.model.layers:
            h = layer(h, cos, sin)
        return self.lm_head(self.model.norm(h))
