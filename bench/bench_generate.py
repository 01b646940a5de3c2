"""Generation benchmark: tokens per second with and without the key/value cache, beside PyTorch.

Three generators produce the same greedy tokens from the same float32 weights:

* ``llmmath, cache``: :func:`llmmath.generate.generate` (a key/value cache,
  one position's work per new token while the context fits in ``block_size``;
  past it, one full pass over the last ``block_size`` tokens per token, the
  exact re-prefill explained in :mod:`llmmath.generate`);
* ``llmmath, no cache``: ``model.generate(..., use_cache=False)``, nanoGPT's
  loop on our engine (the whole cropped context again for every token);
* ``torch (nanoGPT)``: nanoGPT's ``generate`` loop on its PyTorch model
  (``tests/torch_gpt.py``), which keeps no cache.

Two runs per generator: one that stays inside the context window (a 1-token
prompt, ``block_size - 1`` new tokens: the cache's case) and one four windows
long (past the window every generator does a full pass per token). Weights
are random (speed does not depend on training). Runs alternate between the
generators and the figure is the median over ``--repeats`` runs. One thread
each by default (``--threads``): generation at batch 1 is a chain of small
products that a second thread barely helps.

Prints figures; asserts nothing (the tokens are checked equal, and the line
says so). ``python bench/bench_generate.py -h``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PRESETS = {
    "baby": dict(n_layer=4, n_head=4, n_embd=128, block_size=64),
    "small": dict(n_layer=6, n_head=6, n_embd=192, block_size=128),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="small")
    ap.add_argument("--vocab", type=int, default=84, help="vocabulary size (84: our characters)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    # OpenBLAS reads its thread count when NumPy loads: set it before the imports below.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)

    import numpy as np
    import torch

    sys.path.insert(0, str(HERE.parent / "tests"))   # the reference model lives with the tests
    from llmmath.generate import generate
    from llmmath.nn import GPT, GPTConfig
    from torch_gpt import TorchGPT

    torch.set_num_threads(args.threads)
    cfg = GPTConfig(vocab_size=args.vocab, dropout=0.0, bias=True, **PRESETS[args.preset])
    ours = GPT(cfg, rng=0)
    ours.eval()
    theirs = TorchGPT(cfg)
    theirs.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                            for k, v in ours.state_dict().items()})
    theirs.eval()
    T = cfg.block_size

    def torch_generate(prompt: np.ndarray, n: int) -> np.ndarray:
        idx = torch.from_numpy(prompt)
        with torch.no_grad():
            for _ in range(n):                      # nanoGPT's generate, greedy
                logits, _ = theirs(idx[:, -T:])
                idx = torch.cat([idx, logits[:, -1, :].argmax(-1, keepdim=True)], dim=1)
        return idx.numpy()

    runners = {
        "llmmath, cache": lambda p, n: generate(ours, p, n, temperature=0.0),
        "llmmath, no cache": lambda p, n: ours.generate(p, n, temperature=0.0,
                                                        use_cache=False),
        "torch (nanoGPT)": torch_generate,
    }
    print(f"preset {args.preset}: {ours.num_params(non_embedding=False):,} parameters, block_size {T}, "
          f"vocab {args.vocab}, float32, batch 1, greedy, {args.threads} thread(s), "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(native)')}")
    prompt = np.zeros((1, 1), np.int64)
    for label, n in ((f"inside the window: 1 + {T - 1} tokens", T - 1),
                     (f"four windows: 1 + {4 * T - 1} tokens", 4 * T - 1)):
        for run in runners.values():                # warm-up (allocations, torch's first call)
            run(prompt, 4)
        times: dict[str, list[float]] = {name: [] for name in runners}
        outputs: dict[str, np.ndarray] = {}
        for _ in range(args.repeats):
            for name, run in runners.items():
                t0 = time.perf_counter()
                outputs[name] = run(prompt, n)
                times[name].append(time.perf_counter() - t0)
        same = all(np.array_equal(o, outputs["torch (nanoGPT)"]) for o in outputs.values())
        print(f"\n{label} (same tokens from all three: {'yes' if same else 'NO'})")
        print(f"{'generator':<20}{'tokens/s':>10}{'ms/token':>10}{'vs torch':>10}")
        ref = statistics.median(times["torch (nanoGPT)"])
        for name, ts in times.items():
            med = statistics.median(ts)
            print(f"{name:<20}{n / med:>10.0f}{1e3 * med / n:>10.2f}{ref / med:>9.2f}x")


if __name__ == "__main__":
    main()
