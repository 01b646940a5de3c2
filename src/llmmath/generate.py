"""Fast generation: a key/value cache, so that each new token costs one position's work.

:meth:`GPT.forward <llmmath.nn.GPT.forward>` on a context of T tokens
computes every position's queries, keys and values in every layer. While
generating, only the newest position is new: attention is causal, so the
hidden states of positions 0 .. t-1 do not depend on token t, and their keys
and values are the ones computed at the previous step. A *key/value cache*
keeps them, per layer, in two preallocated arrays (B, nh, T_max, hs); for a
new token each layer computes its q, k and v only (one row), appends k and v
to the cache, and attends with its one query over the cached keys:

    scores = q Kᵀ / √hs    (B, nh, 1, t+1),   y = softmax(scores) V

Per new token and layer that is O(C² + t·C) arithmetic instead of the
O(t·C² + t²·C) of running the whole context again. The readable model is
untouched: this module drives the model's own layers (its LayerNorms or
RMSNorms, linear layers, MLP, embeddings: the library's one implementation of
each formula, under ``no_grad``) and does only the bookkeeping — which
positions are new, where their keys and values go.

**The crop.** A model sees at most ``block_size`` tokens. Past that,
nanoGPT's ``generate`` crops the context to its last ``block_size`` tokens,
and so does :meth:`LanguageModel.generate <llmmath.nn.LanguageModel.generate>`.
Then every kept token sits at a new position and has lost the oldest token
from its past, so its hidden states — and its keys and values in every
layer — change: nothing in the cache is valid any more. (Rotary positions do
not rescue it: they make layer 0's scores depend on offsets only, but the
inputs of the later layers still depend on the dropped token.) The exact
thing to do, and what :class:`CachedDecoder` does, is to *re-prefill*: one
full pass over the last ``block_size`` tokens, which is what generation
without a cache costs at every step. So the cache saves work while the
context fits in ``block_size``; past it, each token costs one full
``block_size`` pass, with or without the cache.

Works with any model laid out as :class:`~llmmath.nn.GPT` (``transformer.wte``,
``wpe``, ``h[i].ln_1``, ``attn.c_attn``, ``attn.c_proj``, ``ln_2``, ``mlp``,
``ln_f``, ``lm_head``) or as :class:`~llmmath.nn.Llama` (``tok_embeddings``,
``layers[i].attention_norm``, ``attention.wq/wk/wv/wo``, rotary positions
offset by the cache length, ``ffn_norm``, ``feed_forward``, ``norm``,
``output``); it reads those attributes and imports nothing from
:mod:`llmmath.nn`.

Shape glossary: B batch, T new tokens, L tokens already cached, C channels,
nh heads, hs head size, V vocabulary.

References
----------
A. Karpathy, nanoGPT ``model.py`` (``generate`` crops to ``block_size`` and
keeps no cache); R. Pope et al., "Efficiently Scaling Transformer Inference",
MLSys 2023 (the key/value cache and its memory).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from llmmath._validation import as_int_array, check_int, check_rng, describe
from llmmath.autograd import Tensor, no_grad
from llmmath.autograd import functional as F
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.prob import sample

__all__ = ["KVCache", "CachedDecoder", "generate"]


class KVCache:
    """Keys and values of the positions seen so far: per layer two arrays (B, nh, T_max, hs).

    Lesson: none (text generation for ``llmmath sample``).

    Positions ``0 .. length - 1`` are filled; :meth:`store` writes the keys
    and values of new positions after them and returns views of everything
    stored so far. The arrays are allocated once (``np.empty``: nothing past
    ``length`` is ever read).

    Parameters
    ----------
    n_layer, batch, n_head, head_size, capacity : int
        capacity is T_max, the most positions the cache holds.
    dtype : numpy.float32 or numpy.float64

    Examples
    --------
    >>> cache = KVCache(n_layer=2, batch=1, n_head=2, head_size=4, capacity=8)
    >>> k = v = np.ones((1, 2, 3, 4), np.float32)       # 3 new positions
    >>> K, V = cache.store(0, k, v)
    >>> K.shape, cache.length                           # length moves on only by advance()
    ((1, 2, 3, 4), 0)
    >>> cache.advance(3); cache.length
    3
    >>> cache.nbytes                          # 2 layers x (K, V) x 1*2*8*4 floats x 4 bytes
    1024
    """

    def __init__(self, n_layer: int, batch: int, n_head: int, head_size: int, capacity: int,
                 dtype: Any = np.float32) -> None:
        op = "KVCache"
        sizes = {name: check_int(value, name, op, min_value=1) for name, value in (
            ("n_layer", n_layer), ("batch", batch), ("n_head", n_head),
            ("head_size", head_size), ("capacity", capacity))}
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise InvalidTypeError(f"{op}: argument 'dtype' must be float32 or float64; got "
                                   f"{dtype!r}.")
        self.capacity = sizes["capacity"]
        shape = (sizes["batch"], sizes["n_head"], self.capacity, sizes["head_size"])
        self.keys = [np.empty(shape, dtype) for _ in range(sizes["n_layer"])]
        self.values = [np.empty(shape, dtype) for _ in range(sizes["n_layer"])]
        self.length = 0

    @property
    def nbytes(self) -> int:
        """Memory held by the cache, in bytes."""
        return sum(a.nbytes for a in self.keys + self.values)

    def store(self, layer: int, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Write k, v (B, nh, T, hs) at positions length .. length+T-1; views (B, nh, length+T, hs)."""
        start, end = self.length, self.length + k.shape[2]
        if end > self.capacity:
            raise InvalidValueError(f"KVCache.store: {k.shape[2]} new positions after {start} "
                                    f"exceed the capacity {self.capacity}.")
        K, V = self.keys[layer], self.values[layer]
        K[:, :, start:end] = k
        V[:, :, start:end] = v
        return K[:, :, :end], V[:, :, :end]

    def advance(self, n: int) -> None:
        """Count ``n`` more positions as stored (after every layer has stored them)."""
        self.length += n

    def reset(self) -> None:
        """Forget every position (the arrays are kept for reuse)."""
        self.length = 0


def _constant(a: np.ndarray) -> Tensor:
    """A NumPy array as a Tensor outside any graph, without a copy (cache views are large)."""
    return Tensor.from_op(a, (), _no_backward, "kv_cache")


def _no_backward(g: np.ndarray) -> tuple[()]:  # pragma: no cover - constants have no graph
    return ()


def _attend(q: np.ndarray, K: np.ndarray, V: np.ndarray, start: int) -> Tensor:
    """softmax(q Kᵀ/√hs + mask) V, heads merged: q (B, nh, T, hs), K, V (B, nh, start+T, hs).

    New query i sits at position start + i and may see keys 0 .. start + i:
    no mask for one new token, the usual causal mask when the cache was empty,
    the causal mask shifted right by ``start`` otherwise.
    """
    B, nh, T, hs = q.shape
    if T == 1:
        mask, causal = None, False
    elif start == 0:
        mask, causal = None, True
    else:
        mask, causal = np.tri(T, start + T, start, dtype=bool), False    # j <= start + i
    y = F.scaled_dot_product_attention(_constant(q), _constant(K), _constant(V), mask=mask,
                                       causal=causal)                    # (B, nh, T, hs)
    return y.transpose(1, 2).reshape(B, T, nh * hs)                      # heads side by side


def _gpt_step(model: Any, idx: np.ndarray, cache: KVCache) -> np.ndarray:
    """GPT.forward's lines for the new positions only; the last position's logits (B, V)."""
    tr = model.transformer
    B, T = idx.shape
    start = cache.length
    x = tr.drop(tr.wte(idx) + tr.wpe(np.arange(start, start + T)))       # (B, T, C)
    for i, block in enumerate(tr.h):
        attn = block.attn
        nh = attn.n_head
        qkv = attn.c_attn(block.ln_1(x)).data                            # (B, T, 3C)
        C = qkv.shape[-1] // 3
        heads = qkv.reshape(B, T, 3, nh, C // nh).transpose(2, 0, 3, 1, 4)  # (3, B, nh, T, hs)
        K, V = cache.store(i, heads[1], heads[2])                        # (B, nh, start+T, hs)
        q, x, at = _last_rows(heads[0], x, start, i == len(tr.h) - 1)
        y = _attend(q, K, V, at)                                         # (B, T or 1, C)
        x = x + attn.resid_dropout(attn.c_proj(y))
        x = x + block.mlp(block.ln_2(x))
    cache.advance(T)
    x = tr.ln_f(x[:, -1:, :])                                            # (B, 1, C)
    return model.lm_head(x).data[:, 0, :]                                # (B, V)


def _last_rows(q: np.ndarray, x: Tensor, start: int,
               last_layer: bool) -> tuple[np.ndarray, Tensor, int]:
    """The queries a layer must answer, their rows of the residual stream, and the position
    of the first of them (q (B, nh, T, hs), x (B, T, C)).

    Only the last position's logits are read, and the cache needs every new
    position's keys and values from every layer; but the last layer's outputs
    feed nothing but the logits, so there only the newest query is needed (its
    attention row, projection and MLP row): one row instead of T when a whole
    context is prefilled, as past ``block_size`` at every token.
    """
    T = q.shape[2]
    if last_layer and T > 1:
        return q[:, :, T - 1:], x[:, T - 1:], start + T - 1
    return q, x, start


def _llama_step(model: Any, idx: np.ndarray, cache: KVCache) -> np.ndarray:
    """Llama.forward's lines for the new positions only, rotated by their absolute positions."""
    B, T = idx.shape
    start = cache.length
    pos = np.arange(start, start + T)[:, None]                           # (T, 1)
    x = model.tok_embeddings(idx)                                        # (B, T, C)
    for i, layer in enumerate(model.layers):
        att = layer.attention
        nh, hs = att.n_head, att.head_size
        h = layer.attention_norm(x)
        q, k, v = (w(h).reshape(B, T, nh, hs) for w in (att.wq, att.wk, att.wv))
        q = F.rope(q, pos, att.theta).data.transpose(0, 2, 1, 3)         # (B, nh, T, hs)
        k = F.rope(k, pos, att.theta).data.transpose(0, 2, 1, 3)
        K, V = cache.store(i, k, v.data.transpose(0, 2, 1, 3))
        q, x, at = _last_rows(q, x, start, i == len(model.layers) - 1)
        y = _attend(q, K, V, at)                                         # (B, T or 1, C)
        x = x + att.resid_dropout(att.wo(y))
        x = x + layer.feed_forward(layer.ffn_norm(x))
    cache.advance(T)
    x = model.norm(x[:, -1:, :])
    return model.output(x).data[:, 0, :]                                 # (B, V)


def _layout(model: Any, op: str) -> tuple[Any, int, int, int, Any]:
    """(step function, n_layer, n_head, head_size, dtype) of a GPT- or Llama-shaped model."""
    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "block_size"):
        raise InvalidTypeError(f"{op}: argument 'model' must be a language model with a "
                               f"'config' holding block_size; got {describe(model)}.")
    tr = getattr(model, "transformer", None)
    if tr is not None and all(hasattr(model, a) for a in ("lm_head",)) \
            and all(hasattr(tr, a) for a in ("wte", "wpe", "h", "ln_f")):
        attn = tr.h[0].attn
        C = attn.c_attn.weight.shape[1]
        return _gpt_step, len(tr.h), attn.n_head, C // attn.n_head, tr.wte.weight.dtype
    if all(hasattr(model, a) for a in ("tok_embeddings", "layers", "norm", "output")):
        att = model.layers[0].attention
        return (_llama_step, len(model.layers), att.n_head, att.head_size,
                model.tok_embeddings.weight.dtype)
    raise InvalidTypeError(f"{op}: argument 'model' must be laid out as a GPT (transformer.wte, "
                           "wpe, h, ln_f, lm_head) or as a Llama (tok_embeddings, layers, norm, "
                           f"output); got {type(model).__name__}.")


class CachedDecoder:
    """A language model with a key/value cache: feed it tokens, get the next token's logits.

    Lesson: none (text generation for ``llmmath sample``).

    ``feed(tokens)`` appends tokens (B, T) to the context and returns the
    logits (B, V) for the token after them — what ``model(context)`` gives
    for the last position, computed for the new positions only. When the
    context would exceed ``block_size`` it is cropped to its last
    ``block_size`` tokens and the cache is filled again from them (see the
    module's notes on the crop). Runs under ``no_grad``; dropout follows the
    model's mode, so call ``model.eval()`` first (:func:`generate` does).

    Parameters
    ----------
    model : GPT- or Llama-shaped model
    batch : int
        B, the number of sequences fed side by side.
    capacity : int, optional
        Positions to allocate at first (default ``block_size``); the cache
        grows, up to ``block_size``, when a longer context needs it.
    keep : int, optional
        How many of the last tokens a crop keeps (default ``block_size``:
        the exact crop of :meth:`GPT.generate <llmmath.nn.LanguageModel.generate>`,
        a full ``block_size`` pass at every token past the window). A smaller
        ``keep`` crops less often: after a crop to ``keep`` tokens the cache
        serves the next ``block_size - keep`` tokens, so a token costs about
        ``block_size / (block_size - keep)`` positions' work instead of
        ``block_size``, and each token sees ``keep - 1`` to ``block_size - 1``
        tokens before it instead of always ``block_size - 1``. Deterministic
        either way: two decoders fed the same tokens give the same floats
        (what a compressor's encoder and decoder need).

    Attributes
    ----------
    context : numpy.ndarray of int64, shape (B, length)
        The tokens in the cache (at most ``block_size``).
    prefills : int
        How many times the cache was filled from scratch (the first feed, and each crop).

    Examples
    --------
    >>> from llmmath.nn import GPT, GPTConfig
    >>> model = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8),
    ...             rng=0).eval()
    >>> dec = CachedDecoder(model)
    >>> first = dec.feed([[1, 2, 3]])                    # three tokens: one pass (prefill)
    >>> logits = dec.feed([[4]])                         # one more: one position's work
    >>> full, _ = model(np.array([[1, 2, 3, 4]]))        # the whole context again
    >>> bool(np.allclose(logits, full.data[:, -1], atol=1e-6)), dec.context.shape
    (True, (1, 4))
    """

    def __init__(self, model: Any, batch: int = 1, capacity: int | None = None,
                 keep: int | None = None) -> None:
        op = "CachedDecoder"
        self._step, n_layer, n_head, head_size, dtype = _layout(model, op)
        self.model = model
        self.block_size = int(model.config.block_size)
        self.batch = check_int(batch, "batch", op, min_value=1)
        cap = self.block_size if capacity is None else check_int(
            capacity, "capacity", op, min_value=1, max_value=self.block_size)
        self.keep = self.block_size if keep is None else check_int(
            keep, "keep", op, min_value=1, max_value=self.block_size)
        self._sizes = (n_layer, self.batch, n_head, head_size)
        self._dtype = dtype
        self.cache = KVCache(*self._sizes, cap, dtype)
        self.context = np.zeros((self.batch, 0), np.int64)
        self.prefills = 0

    def reset(self) -> None:
        """Forget the context (the cache's memory is kept)."""
        self.cache.reset()
        self.context = self.context[:, :0]

    def feed(self, tokens: Any) -> np.ndarray:
        """Append ``tokens`` (B, T) to the context; the logits (B, V) of the next token."""
        op = "CachedDecoder.feed"
        new = as_int_array(tokens, "tokens", op, min_value=0,
                           max_value=self.model.config.vocab_size - 1)
        if new.ndim != 2 or new.shape[0] != self.batch or new.shape[1] == 0:
            raise ShapeError(f"{op}: argument 'tokens' must have shape (B, T) with B = "
                             f"{self.batch} and T >= 1; got {new.shape}.")
        context = np.concatenate([self.context, new], axis=1)
        if context.shape[1] > self.block_size:                 # crop: every position moves
            context = context[:, -min(self.block_size, max(self.keep, new.shape[1])):]
            self.cache.reset()
            new = context
        if self.cache.length == 0:
            self.prefills += 1
        needed = self.cache.length + new.shape[1]
        if needed > self.cache.capacity:                       # grow, keeping what is stored
            old = self.cache
            self.cache = KVCache(*self._sizes, min(self.block_size, max(needed, 2 * old.capacity)),
                                 self._dtype)
            for mine, theirs in ((self.cache.keys, old.keys), (self.cache.values, old.values)):
                for a, b in zip(mine, theirs, strict=True):
                    a[:, :, :old.length] = b[:, :, :old.length]
            self.cache.length = old.length
        with no_grad():
            logits = self._step(self.model, new, self.cache)
        self.context = context
        return logits


def generate(model: Any, idx: Any, max_new_tokens: int, temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, min_p: float | None = None,
             rng: Any = None) -> np.ndarray:
    """Extend each sequence by sampling one token at a time, with a key/value cache.

    Lesson: none (text generation for ``llmmath sample``).

    The same tokens as :meth:`LanguageModel.generate <llmmath.nn.LanguageModel.generate>`
    without a cache (the same logits up to rounding, the same draws from
    ``rng``): the context is cropped to the last ``block_size`` tokens, each
    token is drawn by :func:`llmmath.prob.sample` from the last position's
    logits (temperature 0 is greedy). Runs in eval mode; the previous mode is
    restored.

    Parameters
    ----------
    model : GPT- or Llama-shaped model
    idx : array_like of int, shape (B, T) or (T,)
    max_new_tokens : int
    temperature, top_k, top_p, min_p
        Passed to :func:`llmmath.prob.sample`.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    numpy.ndarray of int64, shape (B, T + max_new_tokens) (or (T + max_new_tokens,))

    Examples
    --------
    >>> from llmmath.nn import GPT, GPTConfig
    >>> model = GPT(GPTConfig(block_size=8, vocab_size=11, n_layer=1, n_head=2, n_embd=8), rng=0)
    >>> out = generate(model, [1, 2], 12, temperature=0.0)      # past block_size: crops
    >>> out.shape, bool((out == model.generate([1, 2], 12, temperature=0.0,
    ...                                        use_cache=False)).all())
    ((14,), True)
    """
    op = "generate"
    _layout(model, op)
    n_new = check_int(max_new_tokens, "max_new_tokens", op, min_value=0)
    seq = as_int_array(idx, "idx", op, min_value=0, max_value=model.config.vocab_size - 1)
    one_d = seq.ndim == 1
    seq = seq[None, :] if one_d else seq
    if seq.ndim != 2 or seq.shape[1] == 0:
        raise ShapeError(f"{op}: argument 'idx' must have shape (B, T) or (T,) with T >= 1; got "
                         f"{np.shape(idx)}.")
    gen = check_rng(rng, op)
    B, T = seq.shape
    block = int(model.config.block_size)
    out = np.empty((B, T + n_new), np.int64)
    out[:, :T] = seq
    if n_new == 0:
        return out[0] if one_d else out
    was_training = model.training
    model.eval()
    try:
        dec = CachedDecoder(model, B, capacity=min(block, T + n_new))
        logits = dec.feed(seq[:, -block:])                              # prefill the prompt
        for t in range(T, T + n_new):
            nxt = sample(logits, temperature=temperature, top_k=top_k, top_p=top_p,
                         min_p=min_p, rng=gen)
            out[:, t] = np.asarray(nxt, np.int64).reshape(B)
            if t + 1 < T + n_new:
                logits = dec.feed(out[:, t:t + 1])                      # one position's work
    finally:
        model.train(was_training)
    return out[0] if one_d else out
