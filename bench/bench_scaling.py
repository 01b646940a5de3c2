"""Scaling-law benchmark: a measured sweep's fitted exponents, held-out R² and tokens/parameter.

Runs (or continues: every run is cached) the sweep of ``llmmath scaling
--budget BUDGET`` in ``--out``, fits L(N, D) = E + A/N^alpha + B/D^beta as
Chinchilla's approach 3 does, and prints, beside the published values:

- the constants E, A, B, alpha, beta with bootstrap intervals (runs resampled);
- the frontier exponents a = beta/(alpha+beta) and b = alpha/(alpha+beta);
- R² of the fit on held-out runs (k-fold; the goal is >= 0.95);
- the compute-optimal tokens per parameter over the measured compute,
  beside Chinchilla's rule of thumb of about 20;
- the sweep's wall time and the machine's load while it ran.

Training uses one BLAS thread (the models are small; see ``llmmath scaling
--help``). Prints figures; asserts nothing. Run ``python bench/bench_scaling.py -h``.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", default="quick", help="quick or full (default quick)")
    ap.add_argument("--out", type=Path, default=Path("out-scaling"),
                    help="the sweep's directory; finished runs there are reused")
    ap.add_argument("--resamples", type=int, default=200, help="bootstrap resamples")
    ap.add_argument("--seed", type=int, default=0, help="seeds the bootstrap and the folds")
    args = ap.parse_args()

    import scipy.optimize  # noqa: F401  (loaded before the thread limit, which then reaches it)
    from threadpoolctl import threadpool_limits

    from llmmath import scaling

    plan = scaling.get_plan(args.budget)
    with threadpool_limits(limits=1, user_api="blas"):
        t0 = time.perf_counter()
        outcome = scaling.run_sweep(plan, args.out, resume=True)
        trained_s = time.perf_counter() - t0
        if not outcome.complete:
            print(f"sweep stopped with {len(outcome.pending)} runs to do; run again to continue")
            return
        t1 = time.perf_counter()
        an = scaling.analyze(outcome.results, n_resamples=args.resamples, seed=args.seed)
        fit_s = time.perf_counter() - t1
    record = scaling.read_sweep(args.out)
    sessions = record["sessions"]
    law, iv = an.fit.law, an.intervals
    chin = scaling.CHINCHILLA
    ca, cb = scaling.frontier_exponents(chin.alpha, chin.beta)
    a, b = scaling.frontier_exponents(law.alpha, law.beta)
    conf = f"{an.bootstrap.confidence:.0%}"

    print(f"sweep {plan.name!r}: {len(an.results)} runs, N = {min(r.params for r in an.results):,}"
          f" .. {max(r.params for r in an.results):,} non-embedding parameters, D = "
          f"{min(r.tokens for r in an.results):,} .. {max(r.tokens for r in an.results):,} "
          f"characters")
    total = sum(s.get("seconds") or 0.0 for s in sessions)
    print(f"wall time of the sweep: {total:.0f} s over {len(sessions)} session(s) "
          f"({sum(r.seconds for r in an.results):.0f} s training); this call: {trained_s:.0f} s "
          f"sweeping ({len(outcome.trained)} runs trained), {fit_s:.1f} s fitting")
    for s in sessions:
        m = s["machine"]
        print(f"  session {s['started']}: {s.get('trained')} runs, {s.get('seconds')} s, load "
              f"average {m.get('load_average')} at the start, {s.get('load_average_end')} at the "
              f"end ({m.get('cores')} cores, {m.get('cpu')})")
    print(f"machine now: load average {os.getloadavg()}")
    print()
    print(f"{'':>22} {'ours':>10} {conf + ' interval':>24} {'Chinchilla':>11}")
    rows = [("E", law.E, "E", chin.E), ("A", law.A, "A", chin.A),
            ("B", law.B, "B", chin.B), ("alpha", law.alpha, "alpha", chin.alpha),
            ("beta", law.beta, "beta", chin.beta), ("a: N_opt ~ C^a", a, "a", ca),
            ("b: D_opt ~ C^b", b, "b", cb)]
    for label, ours, key, theirs in rows:
        lo, hi = iv[key]
        print(f"{label[:22]:>22} {ours:>10.4g} {f'[{lo:.4g}, {hi:.4g}]':>24} {theirs:>11.4g}")
    print("(E, A, B: ours per character, Chinchilla's per BPE token; only exponents compare)")
    print()
    r2 = an.heldout_r2
    print(f"held-out R² ({an.k_folds}-fold, each run predicted by a fit without it): "
          f"{r2:.4f} (goal >= 0.95: {'met' if r2 >= 0.95 else 'NOT met'}); in-sample R²: "
          f"{an.fit.r2:.4f}")
    c_lo, c_hi = an.compute_range
    print(f"compute-optimal tokens per parameter (Chinchilla's rule of thumb: about "
          f"{scaling.CHINCHILLA_TOKENS_PER_PARAMETER:.0f}):")
    for c in (c_lo, an.reference_compute, c_hi):
        if an.frontier is None:
            print(f"  no frontier: {an.frontier_note}")
            break
        ours = scaling.compute_optimal(law, c)
        theirs = scaling.compute_optimal(chin, c)
        print(f"  C = {c:.3g} FLOPs: ours {float(ours.tokens_per_parameter[()]):,.1f} "
              f"(N = {float(ours.N[()]):,.0f}, D = {float(ours.D[()]):,.0f}); Chinchilla's "
              f"constants {float(theirs.tokens_per_parameter[()]):.1f}")
    lo, hi = iv["tokens_per_parameter"]
    print(f"  {conf} interval at C = {an.reference_compute:.3g}: [{lo:,.1f}, {hi:,.1f}]")
    own = scaling.compute_optimal(chin, scaling.CHINCHILLA_COMPUTE)
    print(f"  (Chinchilla's constants at its own compute, {scaling.CHINCHILLA_COMPUTE:.3g} FLOPs:"
          f" {float(own.tokens_per_parameter[()]):.1f} tokens per parameter, N = "
          f"{float(own.N[()]):.3g})")
    if not math.isfinite(r2):
        print("held-out R² undefined")


if __name__ == "__main__":
    main()
