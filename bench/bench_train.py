"""Training benchmark: the ``baby`` preset trained by llmmath and by PyTorch eager, side by side.

The goal it measures: llmmath's ``baby`` preset (nanoGPT's CPU recipe:
n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, dropout 0,
2000 steps of AdamW with 100 warm-up steps and a cosine decay, character
tokens; peak learning rate 2e-3 decaying to 2e-4, twice nanoGPT's, because at
1e-3 the recipe stops at 1.91 on our larger, by-play corpus) reaches a
validation loss of at most 1.88 nats/char on the default corpus (nanoGPT's
README quotes about 1.88 for this run on its own Shakespeare file).

Both engines start from the same weights and see the same batches: the
PyTorch side is ``tests/torch_gpt.py`` (nanoGPT's model, GELU with the tanh
approximation as llmmath's) with ``torch.optim.AdamW``, ``clip_grad_norm_``
and the same schedule. Each engine trains in a process of its own (as in
``bench_engine.py``: sharing one heap with PyTorch costs NumPy thousands of
page faults a step), with ``--threads`` threads for both (``torch.set_num_threads``
and ``OPENBLAS_NUM_THREADS``). Steps alternate in blocks between the two
processes, so a busy machine slows both alike; each step is timed alone.
The trained weights come back to this process, and both models are scored
by the same llmmath code on the same tokens.

Validation loss is reported two ways for each model: nanoGPT's estimate
(the mean loss of ``--eval-iters`` random batches of the validation split)
and the whole validation split scored in non-overlapping blocks of 64
tokens (:func:`llmmath.evaluate.token_nll`). Both protocols give each token
an average context of about 32 characters. The n-gram baselines (fitted on
the train split) score the same validation characters.

Prints figures; asserts nothing. ``python bench/bench_train.py -h``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOAL = 1.88   # nats/char, nanoGPT's quoted CPU figure for this configuration


def torch_side(trainer, threads: int):
    """A PyTorch copy of ``trainer``'s model, optimiser and batch stream; returns step()."""
    import torch

    sys.path.insert(0, str(HERE.parent / "tests"))  # the reference model lives with the tests
    from llmmath.data import get_batch
    from torch_gpt import TorchGPT

    torch.set_num_threads(threads)
    c = trainer.config
    model = TorchGPT(trainer.gpt_config)
    model.load_state_dict({k: torch.from_numpy(v.copy())
                           for k, v in trainer.model.state_dict().items()})
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": c.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=c.learning_rate,
                            betas=(c.beta1, c.beta2))
    rng = np.random.default_rng((c.seed, 1))          # the stream Trainer draws from
    state = {"step": 0}

    def step() -> float:
        lr = trainer.lr_at(state["step"])
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = get_batch(trainer.data.train, c.block_size, c.batch_size, rng)
        _, loss = model(torch.from_numpy(x), torch.from_numpy(y))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        state["step"] += 1
        return loss.item()

    return model, step


def estimate_val(forward, data, c, n_batches: int) -> float:
    """nanoGPT's estimate_loss on the validation split (same batches for every model)."""
    from llmmath.data import get_batch

    rng = np.random.default_rng((c.seed, 2))
    return float(np.mean([forward(*get_batch(data, c.block_size, c.batch_size, rng))
                          for _ in range(n_batches)]))


def make_trainer(iters: int):
    """The ``baby`` preset's Trainer (deterministic: the same weights and batches every time)."""
    from llmmath.train import Trainer, preset_config

    overrides = {} if iters == 2000 else {
        "max_iters": iters, "lr_decay_iters": iters, "warmup_iters": min(100, iters // 10)}
    return Trainer(preset_config("baby", **overrides))


def worker(engine: str, args: argparse.Namespace) -> None:
    """Run in a subprocess: one engine, commands on stdin, one JSON line back per command.

    ``steps A B`` trains steps A..B-1 and returns their losses and wall times;
    ``weights PATH`` writes the model's state_dict (float32 .npz);
    ``estimate N`` (torch) is nanoGPT's validation estimate computed by PyTorch itself;
    ``checkpoint PATH`` (llmmath) saves a full llmmath checkpoint.
    """
    tr = make_trainer(args.iters)
    info = {"numpy": np.__version__, "params": tr.model.num_params(False)}
    step, model = tr.train_step, None
    if engine == "torch":
        import torch

        model, step = torch_side(tr, args.threads)
        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        cmd, arg, *rest = line.split()
        if cmd == "steps":
            out = {"loss": [], "wall": []}
            for _ in range(int(arg), int(rest[0])):
                t = time.perf_counter()
                out["loss"].append(float(step()))
                out["wall"].append(time.perf_counter() - t)
        elif cmd == "weights":
            state = ({k: v.detach().numpy() for k, v in model.state_dict().items()}
                     if model is not None else tr.model.state_dict())
            np.savez(arg, **state)
            out = {"ok": True}
        elif cmd == "estimate" and model is not None:
            import torch

            model.eval()
            with torch.no_grad():
                est = estimate_val(lambda x, y: model(torch.from_numpy(x),
                                                      torch.from_numpy(y))[1].item(),
                                   tr.data.val, tr.config, int(arg))
            out = {"estimate": est}
        elif cmd == "checkpoint":
            out = {"path": str(tr.save(Path(arg)))}
        else:
            raise SystemExit(f"worker: unknown command {line!r}")
        print(json.dumps(out), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=2000, help="training steps (baby: 2000)")
    ap.add_argument("--block", type=int, default=50, help="steps per engine before switching")
    ap.add_argument("--eval-iters", type=int, default=200, help="batches in the val estimate")
    ap.add_argument("--threads", type=int, default=2,
                    help="threads for both engines: torch.set_num_threads and OpenBLAS")
    ap.add_argument("--no-torch", action="store_true", help="train llmmath only")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--save", type=Path, help="save llmmath's trained model as a checkpoint "
                                              "here (for llmmath eval / sample / attention)")
    ap.add_argument("--worker", choices=["llmmath", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(args.threads):
        # OpenBLAS reads its thread count when NumPy loads: start again with it set.
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
        os.execv(sys.executable, [sys.executable, __file__, *sys.argv[1:]])
    if args.worker:
        worker(args.worker, args)
        return

    import tempfile

    from llmmath.autograd import no_grad
    from llmmath.evaluate import ngram_nll, token_nll
    from llmmath.nn import GPT

    t0 = time.perf_counter()
    tr = make_trainer(args.iters)       # data, config and the evaluation model's shape
    c = tr.config
    print(f"baby preset: {c.n_layer} layers, {c.n_head} heads, C={c.n_embd}, T={c.block_size}, "
          f"B={c.batch_size}, {c.max_iters} steps; {tr.model.num_params(False):,} parameters; "
          f"{tr.data.tokenizer!r}; data ready in {time.perf_counter() - t0:.1f} s")
    names = ["llmmath"] if args.no_torch else ["llmmath", "torch"]
    passthrough = ["--iters", str(args.iters), "--threads", str(args.threads)]
    procs = {k: subprocess.Popen([sys.executable, __file__, "--worker", k, *passthrough],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for k in names}
    info = {}
    for proc in procs.values():
        info.update(json.loads(proc.stdout.readline()))

    def ask(name: str, *words) -> dict:
        procs[name].stdin.write(" ".join(str(w) for w in words) + "\n")
        procs[name].stdin.flush()
        return json.loads(procs[name].stdout.readline())

    print(f"numpy {info['numpy']}" + (f", torch {info['torch']}" if "torch" in info else "")
          + f"; threads: OpenBLAS {args.threads}"
          + (f", torch {info['torch_threads']}" if "torch" in info else "")
          + "; one process per engine")
    times = {k: [] for k in names}
    losses = {k: [] for k in names}
    order = list(names)
    for start in range(0, c.max_iters, args.block):
        stop = min(start + args.block, c.max_iters)
        for name in order:
            r = ask(name, "steps", start, stop)
            losses[name] += r["loss"]
            times[name] += r["wall"]
        order.reverse()  # alternate which engine goes first
        print(f"  step {stop:5d}: " + ", ".join(
            f"{k} loss {v[-1]:.4f} ({1e3 * statistics.median(times[k][-args.block:]):.0f} "
            "ms/step)" for k, v in losses.items()), flush=True)

    if args.save:
        print(f"checkpoint: {ask('llmmath', 'checkpoint', args.save.resolve())['path']}")

    # ---- evaluation: both models through the same code on the same tokens
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if name == "torch":
                torch_est = ask(name, "estimate", args.eval_iters)["estimate"]
            path = Path(tmp) / f"{name}.npz"
            ask(name, "weights", path)
            model = GPT(tr.gpt_config, dtype=np.float32, rng=0)
            with np.load(path) as z:
                model.load_state_dict({k: z[k] for k in z.files})
            model.eval()
            t = time.perf_counter()
            with no_grad():
                est = estimate_val(lambda x, y, m=model: m(x, y)[1].item(), tr.data.val, c,
                                   args.eval_iters)
            nll = token_nll(model, tr.data.val, batch_size=64)
            results[name] = {
                "train_seconds": sum(times[name]),
                "ms_per_step_median": 1e3 * statistics.median(times[name]),
                "ms_per_step_iqr": [1e3 * float(np.percentile(times[name], q)) for q in (25, 75)],
                "final_batch_loss": losses[name][-1],
                "val_estimate": est,
                "val_full_split": float(nll.mean()),
                "eval_seconds": time.perf_counter() - t,
            }
    for proc in procs.values():
        proc.stdin.close()
        proc.wait()
    if "torch" in results:
        results["torch"]["val_estimate_in_torch"] = torch_est

    print(f"\n{'engine':<9}{'train wall s':>13}{'ms/step':>9}{'IQR':>13}{'val est.':>10}"
          f"{'val (full split)':>18}")
    for name, r in results.items():
        iqr = f"{r['ms_per_step_iqr'][0]:.0f}-{r['ms_per_step_iqr'][1]:.0f}"
        print(f"{name:<9}{r['train_seconds']:>13.1f}{r['ms_per_step_median']:>9.1f}{iqr:>13}"
              f"{r['val_estimate']:>10.4f}{r['val_full_split']:>18.4f}")
    if "torch" in results:
        r = results
        print(f"ratio llmmath/torch: {r['llmmath']['ms_per_step_median'] / r['torch']['ms_per_step_median']:.2f} "
              f"(median ms/step); torch's own val estimate {r['torch']['val_estimate_in_torch']:.4f}")
    ours = results["llmmath"]["val_full_split"]
    print(f"goal: llmmath val loss {ours:.4f} nats/char "
          f"{'<=' if ours <= GOAL else '>'} {GOAL} -> {'met' if ours <= GOAL else 'NOT met'} "
          f"(estimate over {args.eval_iters} batches: {results['llmmath']['val_estimate']:.4f})")

    print(f"\nbaselines on the same {len(tr.data.val) - 1:,} validation characters "
          "(fitted on the train split):")
    V = tr.data.vocab_size
    base = {f"uniform (1/{V})": math.log(V)}
    for n, label in ((1, "unigram"), (2, "bigram"), (3, "trigram"), (5, "5-gram")):
        base[f"{label} Kneser-Ney"] = float(ngram_nll(tr.data.train, tr.data.val, n).mean())
    for name, h in base.items():
        print(f"  {name:<20}{h:8.4f} nats/char {h / math.log(2):8.4f} bits/char")
    if args.json:
        args.json.write_text(json.dumps({"config": vars(c), "results": results,
                                         "baselines": base}, indent=2))


if __name__ == "__main__":
    main()
