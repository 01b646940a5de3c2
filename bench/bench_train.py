"""Training benchmark: the ``baby`` preset trained by llmmath and by PyTorch eager, side by side.

The goal it measures: llmmath's ``baby`` preset (nanoGPT's CPU recipe:
n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12, dropout 0,
2000 steps of AdamW with 100 warm-up steps and a cosine decay, character
tokens; peak learning rate 2e-3 decaying to 2e-4, twice nanoGPT's, because at
1e-3 the recipe stops at 1.91 on our larger, by-play corpus) reaches a
validation loss of at most 1.88 nats/char on the default corpus (nanoGPT's
README quotes about 1.88 for this run on its own Shakespeare file).

Both engines start from the same weights and see the same batches: the
PyTorch side is ``bench/_torch_gpt.py`` (nanoGPT's model, GELU with the tanh
approximation as llmmath's) with ``torch.optim.AdamW``, ``clip_grad_norm_``
and the same schedule, on 2 threads. Steps alternate in blocks between the
two, so a busy machine slows both alike; each step is timed alone.

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
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOAL = 1.88   # nats/char, nanoGPT's quoted CPU figure for this configuration


def torch_side(trainer, threads: int):
    """A PyTorch copy of ``trainer``'s model, optimiser and batch stream; returns step()."""
    import torch

    sys.path.insert(0, str(HERE))
    from _torch_gpt import TorchGPT

    from llmmath.data import get_batch

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=2000, help="training steps (baby: 2000)")
    ap.add_argument("--block", type=int, default=50, help="steps per engine before switching")
    ap.add_argument("--eval-iters", type=int, default=200, help="batches in the val estimate")
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads")
    ap.add_argument("--no-torch", action="store_true", help="train llmmath only")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--save", type=Path, help="save llmmath's trained model as a checkpoint "
                                              "here (for llmmath eval / sample / attention)")
    args = ap.parse_args()

    from llmmath.autograd import no_grad
    from llmmath.evaluate import ngram_nll, token_nll
    from llmmath.nn import GPT
    from llmmath.train import Trainer, preset_config

    overrides = {} if args.iters == 2000 else {
        "max_iters": args.iters, "lr_decay_iters": args.iters,
        "warmup_iters": min(100, args.iters // 10)}
    t0 = time.perf_counter()
    tr = Trainer(preset_config("baby", **overrides))
    c = tr.config
    print(f"baby preset: {c.n_layer} layers, {c.n_head} heads, C={c.n_embd}, T={c.block_size}, "
          f"B={c.batch_size}, {c.max_iters} steps; {tr.model.num_params(False):,} parameters; "
          f"{tr.data.tokenizer!r}; data ready in {time.perf_counter() - t0:.1f} s")
    engines = [("llmmath", tr.train_step)]
    if not args.no_torch:
        import torch

        tmodel, tstep = torch_side(tr, args.threads)
        engines.append(("torch", tstep))
        print(f"numpy {np.__version__}, torch {torch.__version__} "
              f"({torch.get_num_threads()} threads)")
    times = {name: [] for name, _ in engines}
    losses = {name: [] for name, _ in engines}
    for start in range(0, c.max_iters, args.block):
        for name, step in engines:
            for _ in range(start, min(start + args.block, c.max_iters)):
                t = time.perf_counter()
                losses[name].append(step())
                times[name].append(time.perf_counter() - t)
        engines.reverse()
        done = min(start + args.block, c.max_iters)
        print(f"  step {done:5d}: " + ", ".join(
            f"{k} loss {v[-1]:.4f} ({1e3 * statistics.median(times[k][-args.block:]):.0f} "
            "ms/step)" for k, v in losses.items()), flush=True)

    if args.save:
        print(f"checkpoint: {tr.save(args.save)}")

    # ---- evaluation: both models through the same code on the same tokens
    models = {"llmmath": tr.model}
    if "torch" in times:
        twin = GPT(tr.gpt_config, dtype=np.float32, rng=0)
        twin.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
        models["torch"] = twin
    results = {}
    for name, model in models.items():
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
            "val_estimate": est, "val_full_split": float(nll.mean()),
            "eval_seconds": time.perf_counter() - t,
        }
    if "torch" in times:
        import torch

        with torch.no_grad():
            tmodel.eval()
            results["torch"]["val_estimate_in_torch"] = estimate_val(
                lambda x, y: tmodel(torch.from_numpy(x), torch.from_numpy(y))[1].item(),
                tr.data.val, c, args.eval_iters)

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
