"""Compression benchmark: bits/char written by each llmmath model beside its cross-entropy.

In one run, on the corpus's four test plays (513,044 characters) and on
modern English prose unlike the corpus (the GNU GPL version 3,
``/usr/share/common-licenses/GPL-3``, 35,149 characters, installed on every
Debian system by the ``base-files`` package):

* for uniform, bigram, 5-gram, 6-gram and the default adaptive 6-gram (and a
  GPT and its mixtures with the n-gram models of ``--mix`` (default the 5-gram) when
  ``--checkpoint`` names one): the file's
  bits/char, the payload's, the model's cross-entropy on the same coding path
  (the overhead is written over cross-entropy), compress and decompress
  throughput (the round trip is checked), and the worker's peak memory; the
  GPT rows use chunks of 8,192 characters (``--gpt-chunk-size``), so that each
  batched forward pass advances 63 streams;
* gzip -9, bz2 -9 and xz -9e (``lzma`` preset ``9 | PRESET_EXTREME``) on the
  same UTF-8 bytes;
* what the chunks cost: the same model with one stream for the whole text
  against the default chunk size (65,536) and smaller ones: the 5-gram on the
  test plays, the adaptive model on their first 131,072 characters and on the GPL;
* the goals: the 5-gram writes at most its cross-entropy + 0.5 %; on the GPL
  the default model writes fewer bytes than xz -9e and bz2 -9.

Each model runs in a fresh process (so its peak memory is its own; a worker
that only loads the corpus gives the baseline), with one BLAS thread. Timings on a shared machine
swing with its load, which is printed. Prints figures; asserts nothing.
``python bench/bench_compress.py -h``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llmmath.compress.report import classical_sizes

GPL = Path("/usr/share/common-licenses/GPL-3")


def worker(spec: str, text_path: str, chunk_size: int, verify: bool) -> dict:
    """Compress (and decompress) one text with one model; runs in its own process."""
    from llmmath.compress import decompress, encode, load_model

    text = Path(text_path).read_text(encoding="utf-8")
    t = time.perf_counter()
    model = load_model(spec)
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    enc = encode(text, model, chunk_size=chunk_size)
    comp_s = time.perf_counter() - t
    dec_s = None
    if verify:
        t = time.perf_counter()
        ok = decompress(enc.data, model) == text
        dec_s = time.perf_counter() - t
        if not ok:
            raise SystemExit(f"{spec}: the round trip changed the text")
    return {"spec": model.spec, "chunk_size": chunk_size, "n": len(text), "bytes": len(enc.data),
            "payload": enc.payload_bytes, "model_bits": enc.model_bits,
            "ideal_bits": enc.ideal_bits, "chunks": enc.n_chunks, "escapes": enc.n_escapes,
            "load_s": load_s, "compress_s": comp_s, "decompress_s": dec_s,
            "model_bytes": model.size_bytes,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


_DONE: dict[tuple[str, str, int], dict] = {}


def run_worker(spec: str, text_path: Path, chunk_size: int, verify: bool) -> dict:
    """One worker process (a run already made with the same settings is reused)."""
    key = (spec, str(text_path), chunk_size)
    if key in _DONE and (_DONE[key]["decompress_s"] is not None or not verify):
        return _DONE[key]
    cmd = [sys.executable, __file__, "--worker", spec, "--text", str(text_path),
           "--chunk-size", str(chunk_size)] + (["--verify"] if verify else [])
    t = time.perf_counter()
    # One BLAS thread: on a busy two-core machine OpenBLAS's threads spin against each other
    # (a tiny GPT's forward pass took 160 ms with the default threads, 13 ms with one).
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise SystemExit(f"worker {spec} on {text_path.name} failed:\n{out.stderr[-3000:]}")
    print(f"# {spec} on {text_path.name}, chunk size {chunk_size:,}: "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    _DONE[key] = json.loads(out.stdout.strip().splitlines()[-1])
    return _DONE[key]


def baseline_mb(text_path: Path) -> float:
    code = ("import resource, sys; from pathlib import Path; import llmmath.compress; "
            "from llmmath.data import load_corpus; load_corpus(); "
            f"Path({str(text_path)!r}).read_text(); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.strip())


def table(title: str, rows: list[dict], data: bytes, base_mb: float, chunk: int) -> None:
    n = rows[0]["n"] if rows else len(data.decode("utf-8"))
    print(f"\n## {title}: {n:,} characters, {len(data):,} bytes\n")
    print("| compressor | bytes | bits/char (file) | payload | cross-entropy | overhead | "
          "model size | with model | compress chars/s | decompress chars/s | peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        bpc, pay, ce = 8 * r["bytes"] / n, 8 * r["payload"] / n, r["model_bits"] / n
        dec = f"{n / r['decompress_s']:,.0f}" if r["decompress_s"] else ""
        name = r["spec"] if len(r["spec"]) < 40 else "…" + r["spec"][-37:]
        if r["chunk_size"] != chunk:
            name += f" (chunks of {r['chunk_size']:,})"
        print(f"| {name} | {r['bytes']:,} | {bpc:.4f} | {pay:.4f} | {ce:.4f} | "
              f"{pay / ce - 1:+.3%} | {r['model_bytes']:,} | "
              f"{8 * (r['bytes'] + r['model_bytes']) / n:.3f} | "
              f"{n / r['compress_s']:,.0f} | {dec} | {r['peak_mb'] - base_mb:+.0f} |")
    for name, (size, seconds) in classical_sizes(data).items():
        print(f"| {name} | {size:,} | {8 * size / n:.4f} | | | | | | {n / seconds:,.0f} | | |")
    print(f"\n(overhead: payload over cross-entropy; peak MB: above a worker that only loads "
          f"the corpus and the text, {base_mb:.0f} MB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", help="a GPT checkpoint: adds the GPT and GPT + 5-gram rows")
    ap.add_argument("--mix", default="ngram:5",
                    help="n-gram specs to mix with the GPT, one row each (comma-separated)")
    ap.add_argument("--models", default="uniform,ngram:2,ngram:5,ngram:6,ngram:6:adaptive")
    ap.add_argument("--gpt-chunk-size", type=int, default=8192,
                    help="chunk size for the GPT rows (more streams per batched forward pass)")
    ap.add_argument("--chunk-size", type=int, default=None, help="default: the library's")
    ap.add_argument("--no-one-stream", action="store_true",
                    help="skip the one-stream runs of the chunk-cost table")
    ap.add_argument("--limit", type=int, default=None,
                    help="use only the first LIMIT characters of each text (a quick look)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--text", help=argparse.SUPPRESS)
    ap.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.text, args.chunk_size, args.verify)))
        return

    from llmmath.compress import CHUNK_SIZE, DEFAULT_SPEC
    from llmmath.data import load_corpus

    chunk = args.chunk_size or CHUNK_SIZE
    corpus = load_corpus()
    tmp = Path(tempfile.mkdtemp(prefix="bench-compress-"))
    test_path = tmp / "test.txt"
    test = corpus.test[:args.limit]
    test_path.write_text(test, encoding="utf-8")
    gpl = GPL.read_text(encoding="utf-8")[:args.limit]
    gpl_path = tmp / "gpl.txt"
    gpl_path.write_text(gpl, encoding="utf-8")
    models = [(m, chunk) for m in args.models.split(",")]
    if args.checkpoint:
        models += [(args.checkpoint, args.gpt_chunk_size)]
        models += [(f"mix:{args.checkpoint}+{m}", args.gpt_chunk_size)
                   for m in args.mix.split(",")]
    print(f"# bench_compress: load average at start {os.getloadavg()[0]:.1f} "
          f"({os.cpu_count()} CPUs); chunk size {chunk:,} characters")
    base = baseline_mb(test_path)
    started = time.perf_counter()

    rows = [run_worker(m, test_path, c, verify=True) for m, c in models]
    table(f"test plays ({', '.join(corpus.splits['test'])})", rows, test.encode("utf-8"), base,
          chunk)
    gpl_rows = [run_worker(m, gpl_path, chunk, verify=True)
                for m in ("uniform", "ngram:5", "ngram:6", DEFAULT_SPEC)]
    table(f"modern English prose: {GPL} (Debian base-files)", gpl_rows, gpl.encode("utf-8"),
          base, chunk)

    print("\n## What the chunks cost (compress only)\n")
    print("| text | model | chunk size | chunks | bits/char (file) | cross-entropy | "
          "vs one stream | chars/s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    prefix = test[:131072]
    prefix_path = tmp / "test-prefix.txt"
    prefix_path.write_text(prefix, encoding="utf-8")
    studies = [("test plays", test_path, len(test), "ngram:5", [4096, 16384, chunk]),
               ("test plays, first 131,072 chars", prefix_path, len(prefix), DEFAULT_SPEC,
                [16384, chunk]),
               ("GPL-3", gpl_path, len(gpl), DEFAULT_SPEC, [4096, 8192, 16384])]
    for name, path, n, spec, sizes in studies:
        sizes = [c for c in sizes if c < n]
        if not args.no_one_stream:
            sizes.append(max(n, 1))
        results = {c: run_worker(spec, path, c, verify=False) for c in sizes}
        one = results.get(max(n, 1))
        for c, r in results.items():
            bpc = 8 * r["bytes"] / n
            versus = f"{bpc - 8 * one['bytes'] / n:+.4f}" if one else ""
            label = f"{c:,}" + (" (one stream)" if c >= n else "") + (" (default)" if c == chunk
                                                                      else "")
            print(f"| {name} | {spec} | {label} | {r['chunks']} | {bpc:.4f} | "
                  f"{r['model_bits'] / n:.4f} | {versus} | {n / r['compress_s']:,.0f} |",
                  flush=True)

    print("\n## Goals\n")
    five = next(r for r in rows if r["spec"] == "ngram:5")
    over = 8 * five["payload"] / five["model_bits"] - 1
    print(f"- 5-gram on the test plays: payload {8 * five['payload'] / five['n']:.4f} bits/char, "
          f"cross-entropy {five['model_bits'] / five['n']:.4f}: overhead {over:+.3%} "
          f"(goal <= +0.5 %): {'met' if over <= 0.005 else 'NOT met'}; the whole file "
          f"{8 * five['bytes'] / five['model_bits'] - 1:+.3%}")
    default = next(r for r in gpl_rows if r["spec"] == DEFAULT_SPEC)
    cls = classical_sizes(gpl.encode("utf-8"))
    beats = default["bytes"] < min(cls["xz -9e"][0], cls["bz2 -9"][0])
    print(f"- {DEFAULT_SPEC} on the GPL: {default['bytes']:,} bytes against xz -9e "
          f"{cls['xz -9e'][0]:,} and bz2 -9 {cls['bz2 -9'][0]:,}: {'met' if beats else 'NOT met'}")
    print(f"\n(total {time.perf_counter() - started:.0f} s; load average at the end "
          f"{os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
