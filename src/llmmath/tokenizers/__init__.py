"""Tokenizers: characters, and GPT-2-style byte-level byte-pair encoding (BPE).

- :mod:`~llmmath.tokenizers.char`: :class:`CharTokenizer`, one id per character.
- :mod:`~llmmath.tokenizers.pretokenize`: GPT-2's pre-tokenization pattern
  (:data:`GPT2_SPLIT_PATTERN`), special tokens, and cutting a stream of text
  where cutting changes nothing (:class:`PreTokenizer`, :func:`pretokenize`).
- :mod:`~llmmath.tokenizers.bpe_train`: learning merges from pre-token counts
  (:func:`learn_merges`) and from a file, streamed (:func:`train_bpe`).
- :mod:`~llmmath.tokenizers.bpe`: :class:`Tokenizer`, encoding by merge rank,
  decoding with U+FFFD for invalid UTF-8, lazy encoding of a file handle.
- :mod:`~llmmath.tokenizers.gpt2_files`: GPT-2's ``vocab.json``/``merges.txt``.
- :mod:`~llmmath.tokenizers.byte_bpe`: :class:`ByteBPETokenizer`, the face the
  training loop and checkpoints use (``int64`` ids, a dict form, a fingerprint).

Every tokenizer that a checkpoint stores has ``encode``, ``decode``,
``vocab_size``, ``to_dict``/``from_dict`` and a :attr:`fingerprint` (a SHA-256
of its dict) that lets a checkpoint notice a different tokenizer;
:func:`tokenizer_from_dict` rebuilds either kind.

References
----------
.. [1] P. Gage, "A new algorithm for data compression", C Users Journal 12(2), 1994
   (byte-pair encoding as compression).
.. [2] R. Sennrich, B. Haddow and A. Birch, "Neural machine translation of rare
   words with subword units", ACL 2016 (BPE for vocabularies).
.. [3] A. Radford et al., "Language models are unsupervised multitask learners",
   OpenAI 2019 (byte-level BPE and the pre-tokenization pattern of GPT-2).
"""

from llmmath.tokenizers._common import tokenizer_fingerprint
from llmmath.tokenizers.bpe import Tokenizer
from llmmath.tokenizers.bpe_train import count_pretokens, learn_merges, train_bpe, vocab_from_merges
from llmmath.tokenizers.byte_bpe import ByteBPETokenizer
from llmmath.tokenizers.char import CharTokenizer
from llmmath.tokenizers.gpt2_files import gpt2_bytes_to_unicode, read_gpt2_files, write_gpt2_files
from llmmath.tokenizers.pretokenize import GPT2_SPLIT_PATTERN, PreTokenizer, pretokenize
from llmmath.tokenizers.registry import tokenizer_from_dict

__all__ = [
    "CharTokenizer",
    "ByteBPETokenizer",
    "GPT2_SPLIT_PATTERN",
    "tokenizer_from_dict",
    "tokenizer_fingerprint",
    "Tokenizer",
    "train_bpe",
    "learn_merges",
    "count_pretokens",
    "vocab_from_merges",
    "PreTokenizer",
    "pretokenize",
    "gpt2_bytes_to_unicode",
    "read_gpt2_files",
    "write_gpt2_files",
]
