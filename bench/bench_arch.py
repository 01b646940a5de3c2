"""Architecture benchmark: GPT-2 style against Llama style at equal parameter count.

Both models are trained by llmmath's engine on the default corpus (the
Shakespeare plays, split by play, character tokens unless ``--tokenizer bpe``)
with the same preset, schedule, seed and batches. They differ only in the
architecture:

* ``gpt2``: LayerNorm, learned positions, GELU MLP of width 4C, biases, tied
  output layer (our ``GPT``);
* ``llama``: RMSNorm, rotary positions, SwiGLU, no biases, tied output layer
  (our ``Llama``), with the SwiGLU width H chosen so that the total parameter
  count is as close as possible to the GPT's (the GPT's position table and
  biases are paid for by a wider H).

The two trainers live in one process and take their steps in alternating
blocks (``--block`` steps each), so a busy machine slows both alike; each
step is timed alone, and the table reports the median step and the total.
After training each model scores the same first ``--eval-tokens`` tokens of
the validation split in non-overlapping blocks of ``block_size``
(:func:`llmmath.evaluate.token_nll`), in nats per token and bits per
character; nanoGPT-style estimates (``eval_iters`` random batches) are
printed beside them.

Prints a table; asserts nothing. ``python bench/bench_arch.py -h``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time


def parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="baby", help="tiny or baby (default)")
    ap.add_argument("--steps", type=int, default=300, help="optimiser steps for each model")
    ap.add_argument("--block", type=int, default=25, help="steps per turn before switching")
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads (OPENBLAS_NUM_THREADS)")
    ap.add_argument("--eval-tokens", type=int, default=20_000,
                    help="validation tokens scored after training")
    ap.add_argument("--tokenizer", default="char", help="char (default) or bpe")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--json", default=None, help="also write the results here")
    return ap.parse_args()


def matched_hidden(c, vocab: int, gpt_params: int) -> int:
    """The SwiGLU width whose tied Llama has the parameter count closest to ``gpt_params``."""
    from llmmath.nn import Llama, LlamaConfig

    def count(h: int) -> int:
        cfg = LlamaConfig(block_size=c.block_size, vocab_size=vocab, n_layer=c.n_layer,
                          n_head=c.n_head, n_embd=c.n_embd, ffn_hidden=h, tie_embeddings=True)
        return Llama(cfg, rng=0).num_params(False)

    per_h = c.n_layer * 3 * c.n_embd                     # parameters one more unit of H adds
    h0 = max(1, round((gpt_params - count(1)) / per_h) + 1)
    return min(range(max(1, h0 - 2), h0 + 3), key=lambda h: abs(count(h) - gpt_params))


def main() -> None:
    args = parse()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)   # before NumPy loads BLAS
    import numpy as np

    from llmmath.evaluate import token_nll
    from llmmath.train import Trainer, preset_config
    from llmmath.train.data import prepare_data

    common = dict(max_iters=args.steps, lr_decay_iters=args.steps,
                  warmup_iters=min(100, args.steps // 10), seed=args.seed,
                  tokenizer=args.tokenizer, dropout=0.0)
    base = preset_config(args.preset, **common)
    data = prepare_data(base)
    gpt = Trainer(base, data)
    n_gpt = gpt.model.num_params(False)
    hidden = matched_hidden(base, data.vocab_size, n_gpt)
    llama = Trainer(preset_config(args.preset, **common, arch="llama", ffn_hidden=hidden,
                                  tie_embeddings=True), data)
    runs = {"gpt2": gpt, "llama": llama}
    times: dict[str, list[float]] = {k: [] for k in runs}
    losses: dict[str, list[float]] = {k: [] for k in runs}
    print(f"{args.preset}: {args.steps} steps each, B={base.batch_size}, T={base.block_size}, "
          f"C={base.n_embd}, {base.n_layer} layers, {data.tokenizer!r}; llama H={hidden}; "
          f"{args.threads} BLAS thread(s)", flush=True)
    done = 0
    while done < args.steps:
        n = min(args.block, args.steps - done)
        for name, tr in runs.items():
            for _ in range(n):
                t0 = time.perf_counter()
                losses[name].append(tr.train_step())
                times[name].append(time.perf_counter() - t0)
        done += n
        print(f"  step {done}: " + ", ".join(f"{k} {np.mean(losses[k][-n:]):.3f}"
                                             for k in runs), flush=True)
    ids = data.val[:args.eval_tokens + 1]
    chars = len(data.tokenizer.decode(ids[1:]))
    rows = {}
    for name, tr in runs.items():
        tr.model.eval()
        nll = token_nll(tr.model, ids)
        est = tr.estimate_loss()
        rows[name] = dict(
            params=tr.model.num_params(False), val_nats_per_token=float(nll.mean()),
            val_bits_per_char=float(nll.sum() / math.log(2) / chars),
            val_estimate=est["val"], train_estimate=est["train"],
            median_step_ms=1e3 * statistics.median(times[name]),
            train_seconds=float(sum(times[name])), last_batch_losses=losses[name][-10:])
    print(f"\nvalidation: first {len(ids) - 1:,} tokens ({chars:,} chars) in blocks of "
          f"{base.block_size}\n")
    print("| arch | parameters | val nats/token | val bits/char | val est. | train est. | "
          "median step (ms) | train time (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(f"| {name} | {r['params']:,} | {r['val_nats_per_token']:.4f} | "
              f"{r['val_bits_per_char']:.4f} | {r['val_estimate']:.4f} | "
              f"{r['train_estimate']:.4f} | {r['median_step_ms']:.1f} | "
              f"{r['train_seconds']:.1f} |")
    if args.json:
        from llmmath._files import atomic_write_text

        atomic_write_text(args.json, json.dumps({"args": vars(args), "llama_hidden": hidden,
                                                 "rows": rows}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
