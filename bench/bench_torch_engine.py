"""The two engines of ``llmmath train`` on the ``baby`` preset: ms per step, side by side.

``llmmath train`` (llmmath's NumPy autograd engine) and ``llmmath train
--engine torch`` (the same run on PyTorch: :class:`llmmath.train.engine_torch.TorchTrainer`)
train the baby preset (nanoGPT's CPU recipe: 4 layers, 4 heads, C=128, T=64,
B=12, float32) from the same weights on the same batches. Each engine runs
in a process of its own (sharing one heap with PyTorch slows NumPy, see
``bench_engine.py``), with ``--threads`` threads (``OPENBLAS_NUM_THREADS``
and ``torch.set_num_threads``); the processes run one after the other, twice,
in the order llmmath, torch, torch, llmmath, so that a change in the
machine's load reaches both alike. Each step (batch, forward, backward,
clipping, AdamW) is timed alone; the figure is the median over the timed steps
after ``--warmup`` untimed ones. Both engines' losses are printed as a check
that they trained the same run.

``--nproc N`` adds the torch engine on N data-parallel processes (gloo,
127.0.0.1, ``llmmath.train.ddp``), each rank with batch 12 of a global batch
of 12 N, timed from the run's ``metrics.jsonl``; on a machine with fewer cores
than N times the threads, the ranks share cores.

Prints figures; asserts nothing. ``python bench/bench_torch_engine.py -h``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def baby(steps: int, **kw):
    from llmmath.train import preset_config

    return preset_config("baby", max_iters=steps, lr_decay_iters=steps,
                         warmup_iters=min(100, steps // 5), **kw)


def worker(engine: str, steps: int, warmup: int, threads: int) -> None:
    """In a subprocess: train ``warmup + steps`` steps of one engine, print one JSON line."""
    from llmmath.train import Trainer

    cfg = baby(warmup + steps)
    if engine == "torch":
        import torch

        from llmmath.train.engine_torch import TorchTrainer

        torch.set_num_threads(threads)
        tr = TorchTrainer(cfg, device="cpu")
    else:
        tr = Trainer(cfg)
    losses, times = [], []
    for i in range(warmup + steps):
        t = time.perf_counter()
        losses.append(tr.train_step())
        if i >= warmup:
            times.append(time.perf_counter() - t)
    print(json.dumps({"engine": engine, "losses": losses, "times": times,
                      "params": tr.model.num_params(False)}), flush=True)


def run_worker(engine: str, args: argparse.Namespace) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(args.threads)}
    out = subprocess.run([sys.executable, __file__, "--worker", engine, "--steps",
                          str(args.steps), "--warmup", str(args.warmup), "--threads",
                          str(args.threads)], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ddp_ms_per_step(args: argparse.Namespace) -> tuple[float, float]:
    """Median wall ms per step (and per 12-sequence share of it) of the torch engine on
    ``args.nproc`` processes, after the warm-up steps."""
    from llmmath.train import read_metrics
    from llmmath.train.ddp import train_torch

    with tempfile.TemporaryDirectory() as tmp:
        cfg = baby(args.warmup + args.steps, out_dir=tmp, eval_interval=10**6, log_interval=1,
                   checkpoint_interval=10**6, eval_iters=1)
        train_torch(cfg, plot=False, nproc=args.nproc)
        recs = [r for r in read_metrics(Path(tmp) / "metrics.jsonl") if r["kind"] == "train"]
    tokens = cfg.batch_size * cfg.block_size * args.nproc
    dts = [tokens / r["tokens_per_s"] for r in recs[args.warmup:]]
    ms = 1e3 * statistics.median(dts)
    return ms, ms / args.nproc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50, help="timed steps per engine and round")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=2, help="threads per engine")
    ap.add_argument("--nproc", type=int, default=0,
                    help="also the torch engine on this many data-parallel processes")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--worker", choices=["llmmath", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.warmup, args.threads)
        return

    import torch

    print(f"baby preset, float32, {args.steps} timed steps after {args.warmup} per engine and "
          f"round, {args.threads} thread(s) each; numpy {np.__version__}, torch "
          f"{torch.__version__}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPU(s)")
    runs: dict[str, list[dict]] = {"llmmath": [], "torch": []}
    for engine in ("llmmath", "torch", "torch", "llmmath"):
        runs[engine].append(run_worker(engine, args))
    figures = {}
    for engine, rs in runs.items():
        times = [t for r in rs for t in r["times"]]
        figures[engine] = {"ms_per_step_median": 1e3 * statistics.median(times),
                           "ms_per_step_iqr": [1e3 * float(np.percentile(times, q))
                                               for q in (25, 75)],
                           "params": rs[0]["params"]}
    a, b = runs["llmmath"][0]["losses"], runs["torch"][0]["losses"]
    figures["max_abs_loss_difference"] = float(np.max(np.abs(np.subtract(a, b))))
    print(f"\n{'engine':<24}{'ms/step':>10}{'IQR':>16}")
    for engine in ("llmmath", "torch"):
        f = figures[engine]
        iqr = f"{f['ms_per_step_iqr'][0]:.1f}-{f['ms_per_step_iqr'][1]:.1f}"
        label = "llmmath (NumPy)" if engine == "llmmath" else "torch (--engine torch)"
        print(f"{label:<24}{f['ms_per_step_median']:>10.1f}{iqr:>16}")
    print(f"ratio llmmath/torch: {figures['llmmath']['ms_per_step_median'] / figures['torch']['ms_per_step_median']:.2f}; "
          f"max |loss difference| over {len(a)} steps (float32, same weights and batches): "
          f"{figures['max_abs_loss_difference']:.2e}; final losses {a[-1]:.4f} / {b[-1]:.4f}")
    if args.nproc:
        ms, share = ddp_ms_per_step(args)
        figures["ddp"] = {"nproc": args.nproc, "ms_per_step_median": ms}
        print(f"torch --nproc {args.nproc} (gloo): {ms:.1f} ms per step of {12 * args.nproc} "
              f"sequences, {share:.1f} ms per 12")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
