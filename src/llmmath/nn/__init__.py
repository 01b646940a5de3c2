"""Neural-network modules and language models on the llmmath autograd engine, one file per idea.

- :mod:`~llmmath.nn.module` — :class:`Module`, :class:`ModuleList`,
  :class:`ModuleDict`: parameters found through attributes, in order, so that
  names, order and shapes match PyTorch's and a ``state_dict`` moves between the two;
- :mod:`~llmmath.nn.layers` — :class:`Linear`, :class:`Embedding`,
  :class:`LayerNorm`, :class:`RMSNorm`, :class:`Dropout`;
- :mod:`~llmmath.nn.lm` — :class:`LanguageModel`, the base of both models:
  ``generate`` and AdamW's ``param_groups``;
- :mod:`~llmmath.nn.gpt` — :class:`GPT` (GPT-2 as nanoGPT writes it:
  LayerNorm, learned positions, GELU, tied embeddings) and its parts;
- :mod:`~llmmath.nn.llama` — :class:`Llama` (RMSNorm, rotary positions,
  SwiGLU, no biases) and its parts, with the mapping to Hugging Face's names
  (:func:`hf_llama_key`, :func:`hf_rope_permutation`, :func:`to_hf_llama`);
- :mod:`~llmmath.nn.models` — the architectures by name (``"gpt2"``,
  ``"llama"``): :func:`model_config`, :func:`build_model`.

Shape glossary: B batch, T time (tokens), C channels (``n_embd``), nh heads,
hs head size (C / nh), V vocabulary.

Examples
--------
>>> import numpy as np
>>> from llmmath.nn import GPT, GPTConfig, Llama, LlamaConfig
>>> sizes = dict(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8)
>>> [m(np.zeros((1, 8), int))[0].shape for m in (GPT(GPTConfig(**sizes), rng=0),
...                                              Llama(LlamaConfig(**sizes), rng=0))]
[(1, 1, 11), (1, 1, 11)]
"""

from __future__ import annotations

from llmmath.nn.gpt import GPT, MLP, Block, CausalSelfAttention, GPTConfig
from llmmath.nn.layers import Dropout, Embedding, LayerNorm, Linear, RMSNorm
from llmmath.nn.llama import (
    HF_LLAMA_NAMES,
    Attention,
    FeedForward,
    Llama,
    LlamaConfig,
    TransformerBlock,
    from_hf_llama,
    hf_llama_key,
    hf_rope_permutation,
    llama_hidden_size,
    to_hf_llama,
)
from llmmath.nn.lm import LanguageModel
from llmmath.nn.models import ARCHITECTURES, architecture, build_model, model_config
from llmmath.nn.module import Module, ModuleDict, ModuleList

__all__ = [
    "Module", "ModuleList", "ModuleDict", "Linear", "Embedding", "LayerNorm", "Dropout",
    "MLP", "CausalSelfAttention", "Block", "GPTConfig", "GPT",
    "RMSNorm", "LanguageModel", "LlamaConfig", "Attention", "FeedForward", "TransformerBlock",
    "Llama", "llama_hidden_size", "HF_LLAMA_NAMES", "hf_llama_key", "hf_rope_permutation",
    "to_hf_llama", "from_hf_llama", "ARCHITECTURES", "model_config", "build_model",
    "architecture",
]
