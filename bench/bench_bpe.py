"""BPE benchmark: training time, peak memory and encoding throughput on the Shakespeare corpus.

Two training runs of :func:`llmmath.tokenizers.train_bpe`, each from a file:

- the first 100 KB of the corpus, 500 merges (vocabulary 756 with ``<|endoftext|>``);
- the whole corpus (about 5 MB), vocabulary 10,000.

Each run happens in a fresh subprocess, which reports three figures: the wall
time of training (best of ``--repeat`` runs for the small text, one run for the
large), the growth of the process's peak resident set during that first run
(``resource.getrusage``), and, in a separate run under ``tracemalloc``, the
peak of Python's own allocations (``tracemalloc`` slows allocation, so that run
is not timed). Then the 10,000-token tokenizer encodes the whole corpus: with
a cold pre-token cache, with a warm one, and lazily from a file handle
(``encode_iterable``); throughput is UTF-8 bytes of text per second.

Prints figures; asserts nothing. Run ``python bench/bench_bpe.py -h``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

EOT = "<|endoftext|>"


def worker(path: str, vocab_size: int, repeat: int) -> None:
    """Train in this (fresh) process and print the figures as JSON."""
    from llmmath.tokenizers import train_bpe

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        vocab, merges = train_bpe(path, vocab_size, [EOT])
        times.append(time.perf_counter() - t0)
        if i == 0:
            rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
    tracemalloc.start()
    train_bpe(path, vocab_size, [EOT])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"seconds": min(times), "merges": len(merges), "vocab": len(vocab),
                      "rss_growth_bytes": rss_kib * 1024, "tracemalloc_peak_bytes": peak}))


def run_worker(path: Path, vocab_size: int, repeat: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", str(path), str(vocab_size),
                          str(repeat)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def mib(n: float) -> str:
    return f"{n / 2**20:7.1f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the 100 KB training")
    parser.add_argument("--worker", nargs=3, metavar=("PATH", "VOCAB", "REPEAT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), int(args.worker[2]))
        return

    from llmmath.data import load_corpus
    from llmmath.tokenizers import Tokenizer, train_bpe

    text = load_corpus().text
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "100k.txt", Path(tmp) / "all.txt"
        small.write_bytes(text.encode("utf-8")[:100_000])
        large.write_bytes(text.encode("utf-8"))
        print(f"python {sys.version.split()[0]}, one process, corpus {large.stat().st_size:,} bytes")
        print(f"{'text':>10} {'merges':>7} {'train':>9} {'RSS growth':>12} {'tracemalloc':>12}")
        runs = [(small, 256 + 500 + 1, args.repeat), (large, 10_000, 1)]
        for path, vocab_size, repeat in runs:
            r = run_worker(path, vocab_size, repeat)
            print(f"{path.stat().st_size:>10,} {r['merges']:>7} {r['seconds']:>8.2f}s "
                  f"{mib(r['rss_growth_bytes']):>12} {mib(r['tracemalloc_peak_bytes']):>12}")

        vocab, merges = train_bpe(large, 10_000, [EOT])
        n_bytes = large.stat().st_size
        tok = Tokenizer(vocab, merges, [EOT])
        t0 = time.perf_counter()
        ids = tok.encode(text)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        tok.encode(text)
        warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        with large.open(encoding="utf-8", newline="") as f:
            streamed = sum(1 for _ in tok.encode_iterable(f))
        lazy = time.perf_counter() - t0
        assert streamed == len(ids) and tok.decode(ids) == text
        print(f"encoding {n_bytes:,} bytes with {len(vocab):,} tokens: {len(ids):,} ids, "
              f"{n_bytes / len(ids):.2f} bytes per token")
        for name, seconds in (("cold cache", cold), ("warm cache", warm),
                              ("encode_iterable, file", lazy)):
            print(f"  {name:<22} {seconds:6.2f}s  {n_bytes / seconds / 1e6:6.2f} MB/s")


if __name__ == "__main__":
    main()
