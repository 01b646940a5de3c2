"""Tests for llmmath.scaling and ``llmmath scaling``: counts, the fit, the frontier, the sweep.

References used here: the model's own parameters (the counts), explicit loops
with ``math`` (the Huber objective), central differences (its gradient), a
brute-force search along each compute budget (the frontier), the truth of
synthetic data drawn from a known law (the fit, its intervals), and
``scipy.stats.linregress`` (the power law).
"""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from llmmath import scaling
from llmmath.cli import app
from llmmath.data import load_corpus
from llmmath.nn import GPT, GPTConfig
from llmmath.scaling import fit as fitmod
from llmmath.train import Reporter

runner = CliRunner()


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The fits move 5-vectors through L-BFGS: extra BLAS threads only wait on each other
    (and on a busy machine they make the optimiser many times slower)."""
    import scipy.optimize  # noqa: F401  (its BLAS loaded before the limit is applied)

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:             # the results do not depend on it, only the time
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


TRUTH = scaling.ScalingLaw(E=1.3, A=60.0, B=400.0, alpha=0.45, beta=0.38)


def synthetic(noise: float, seed: int, n_sizes: int = 6, n_budgets: int = 5,
              law: scaling.ScalingLaw = TRUTH):
    """A grid of runs from ``law`` with multiplicative log-normal noise (seeded)."""
    N, D = (g.ravel() for g in np.meshgrid(np.geomspace(1e4, 2e6, n_sizes),
                                           np.geomspace(1e5, 2e7, n_budgets)))
    L = law.loss(N, D) * np.exp(np.random.default_rng(seed).normal(0.0, noise, N.size))
    return N, D, L


# ----------------------------------------------------------------- the design


@pytest.mark.parametrize("shape", [scaling.ModelShape(1, 16, 1), scaling.ModelShape(1, 32, 1),
                                   scaling.ModelShape(2, 96, 3), scaling.ModelShape(3, 128, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_parameter_counts_match_the_model(shape, bias):
    V, T = 84, 64
    model = GPT(GPTConfig(block_size=T, vocab_size=V, n_layer=shape.n_layer, n_head=shape.n_head,
                          n_embd=shape.n_embd, bias=bias), rng=0)
    params = dict(model.named_parameters())
    wte = params["transformer.wte.weight"].data.size
    wpe = params["transformer.wpe.weight"].data.size
    total = sum(p.data.size for p in params.values())
    count = scaling.count_parameters(shape, V, T, bias=bias)
    assert (count.token_embedding, count.position_embedding) == (wte, wpe)
    assert count.non_embedding == total - wte - wpe
    assert count.total == total == model.num_params(non_embedding=False)
    # Kaplan's approximation 12 L C^2 is what the count tends to as C grows
    assert abs(count.non_embedding / (12 * shape.n_layer * shape.n_embd**2) - 1) < 0.1


def test_budgets_follow_the_shape_rule_and_span_the_sizes():
    for name in ("quick", "full"):
        plan = scaling.get_plan(name)
        for spec in plan.runs():
            s = spec.shape
            assert 32 <= s.n_embd / s.n_layer <= 64, spec.name
            assert s.n_embd % s.n_head == 0 and 32 <= s.n_embd // s.n_head <= 48, spec.name
    sizes = [scaling.count_parameters(r.shape, 84, 64).non_embedding
             for r in scaling.get_plan("full").runs()]
    assert 1e4 <= min(sizes) and max(sizes) <= 2e6 and max(sizes) / min(sizes) > 100


def test_learning_rate_rule_is_inverse_width_and_schedule_ends_with_the_run():
    plan = scaling.SweepPlan("t", widths=(32, 64, 128), steps=(50, 500, 5000))
    for spec in plan.runs():
        cfg = plan.train_config(spec, "x")
        assert math.isclose(cfg.learning_rate * spec.shape.n_embd, 0.24)
        assert math.isclose(cfg.min_lr, cfg.learning_rate / 10)
        assert cfg.lr_decay_iters == cfg.max_iters == spec.steps
        assert 10 <= cfg.warmup_iters <= 100 and cfg.warmup_iters <= spec.steps
        assert plan.tokens(spec) == spec.steps * cfg.batch_size * cfg.block_size


def test_unknown_budget_is_named():
    with pytest.raises(ValueError, match="unknown budget 'huge'; expected quick or full"):
        scaling.get_plan("huge")


# ------------------------------------------------------------------- the fit


def test_huber_objective_against_a_direct_computation():
    N, D, L = synthetic(0.02, seed=1, n_sizes=3, n_budgets=3)
    for theta in [(4.0, 6.0, 0.2, 0.4, 0.4), TRUTH.theta, (0.0, 25.0, -1.0, 2.0, 0.0)]:
        a, b, e, alpha, beta = theta
        delta = 1e-3
        total = 0.0
        for n, d, loss in zip(N, D, L, strict=True):
            pred = math.log(math.exp(a - alpha * math.log(n)) + math.exp(b - beta * math.log(d))
                            + math.exp(e))
            r = abs(pred - math.log(loss))
            total += 0.5 * r * r if r <= delta else delta * (r - 0.5 * delta)
        assert math.isclose(scaling.huber_objective(theta, N, D, L), total, rel_tol=1e-12)
        # the optimiser's scaled objective is the same sum divided by delta
        value, _ = fitmod._objective_and_gradient(np.array(theta, dtype=float), np.log(N),
                                                  np.log(D), np.log(L), delta)
        assert math.isclose(value * delta, total, rel_tol=1e-12)


@pytest.mark.parametrize("delta", [1e-3, 0.5])
def test_objective_gradient_against_central_differences(delta):
    N, D, L = synthetic(0.05, seed=2, n_sizes=3, n_budgets=3)
    args = (np.log(N), np.log(D), np.log(L), delta)
    rng = np.random.default_rng(3)
    for _ in range(5):
        theta = np.array([3.0, 5.0, 0.2, 0.4, 0.35]) + rng.normal(0.0, 0.3, 5)
        r = np.abs(scaling.predict_log_loss(theta, N, D) - np.log(L))
        h = 1e-7
        assert np.all(np.abs(r - delta) > 50 * h * 30)     # away from Huber's two kinks
        _, grad = fitmod._objective_and_gradient(theta, *args)
        numeric = np.array([(fitmod._objective_and_gradient(theta + h * e, *args)[0]
                             - fitmod._objective_and_gradient(theta - h * e, *args)[0]) / (2 * h)
                            for e in np.eye(5)])
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-6)


def test_fit_recovers_the_law_from_noiseless_data():
    N, D, L = synthetic(0.0, seed=0)
    law = scaling.fit_scaling_law(N, D, L).law
    np.testing.assert_allclose(law.as_tuple(), TRUTH.as_tuple(), rtol=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_recovers_the_law_from_noisy_data(seed):
    N, D, L = synthetic(0.005, seed=seed)
    fit = scaling.fit_scaling_law(N, D, L)
    law = fit.law
    assert abs(law.alpha - TRUTH.alpha) < 0.05 and abs(law.beta - TRUTH.beta) < 0.05
    assert abs(law.E - TRUTH.E) < 0.05
    # the fitted law predicts the noiseless losses to about the noise level
    grid_N, grid_D = np.meshgrid(np.geomspace(1e4, 2e6, 9), np.geomspace(1e5, 2e7, 9))
    rel = np.abs(law.loss(grid_N, grid_D) / TRUTH.loss(grid_N, grid_D) - 1)
    assert rel.max() < 0.01
    # and no start of Hoffmann's grid finds a lower objective than the reported optimum
    assert fit.objective <= scaling.huber_objective(TRUTH.theta, N, D, L) + 1e-12


def test_fit_is_robust_to_one_bad_run_where_least_squares_is_not():
    N, D, L = synthetic(0.003, seed=4)
    L = L.copy()
    L[7] *= 1.3                                       # one run went badly
    law = scaling.fit_scaling_law(N, D, L).law
    assert abs(law.alpha - TRUTH.alpha) < 0.05 and abs(law.beta - TRUTH.beta) < 0.05
    # the same fit with a huge delta (least squares on logs) is pulled away
    ls = scaling.fit_scaling_law(N, D, L, delta=10.0).law
    err_huber = np.abs(law.loss(N, D) / TRUTH.loss(N, D) - 1).max()
    err_ls = np.abs(ls.loss(N, D) / TRUTH.loss(N, D) - 1).max()
    assert err_huber < err_ls


def test_fit_refuses_too_few_points_and_bad_values():
    with pytest.raises(ValueError, match="at least 5 runs; got 4"):
        scaling.fit_scaling_law([1e4, 2e4, 3e4, 4e4], [1e5] * 4, [3.0] * 4)
    with pytest.raises(ValueError, match="'L' must be > 0 everywhere; got -1.0 at index 2"):
        scaling.fit_scaling_law([1e4] * 5, [1e5] * 5, [3.0, 3.0, -1.0, 3.0, 3.0])
    with pytest.raises(ValueError, match="'L' contains NaN"):
        scaling.fit_scaling_law([1e4] * 5, [1e5] * 5, [3.0, np.nan, 3.0, 3.0, 3.0])
    with pytest.raises(ValueError, match="one length"):
        scaling.fit_scaling_law([1e4] * 5, [1e5] * 6, [3.0] * 5)


def test_power_law_fit_against_scipy_linregress():
    from scipy.stats import linregress

    rng = np.random.default_rng(5)
    x = np.geomspace(1e4, 1e7, 12)
    y = (8.8e13 / x) ** 0.076 * np.exp(rng.normal(0.0, 0.01, x.size))
    c, k = scaling.fit_power_law(x, y)
    ref = linregress(np.log(x), np.log(y))
    assert math.isclose(k, -ref.slope, rel_tol=1e-9)
    assert math.isclose(math.log(c), ref.intercept / k, rel_tol=1e-9)


# ----------------------------------------------------- intervals and held-out R²


def test_bootstrap_intervals_cover_the_truth_and_widen_with_noise():
    widths = {}
    for noise in (0.003, 0.02):
        for seed in (0, 1):
            N, D, L = synthetic(noise, seed=seed, n_sizes=5, n_budgets=4)
            boot = scaling.bootstrap_scaling_law(N, D, L, n_resamples=40, rng=seed)
            for name in ("alpha", "beta", "E"):
                lo, hi = boot.intervals[name]
                assert lo <= getattr(TRUTH, name) <= hi, (noise, seed, name, lo, hi)
            widths.setdefault(noise, []).append(boot.intervals["alpha"][1]
                                                - boot.intervals["alpha"][0])
    assert max(widths[0.003]) < min(widths[0.02])


def test_bootstrap_is_seeded():
    N, D, L = synthetic(0.01, seed=0, n_sizes=4, n_budgets=4)
    a = scaling.bootstrap_scaling_law(N, D, L, n_resamples=5, rng=7)
    b = scaling.bootstrap_scaling_law(N, D, L, n_resamples=5, rng=7)
    np.testing.assert_array_equal(a.samples, b.samples)   # same draws, same arithmetic


def test_heldout_r2_is_high_for_a_law_and_low_for_noise():
    N, D, L = synthetic(0.005, seed=0, n_sizes=5, n_budgets=4)
    assert scaling.r_squared(L, scaling.cross_validated_predictions(N, D, L)) > 0.99
    shuffled = np.random.default_rng(0).permutation(L)   # losses no longer follow N and D
    assert scaling.r_squared(shuffled, scaling.cross_validated_predictions(N, D, shuffled)) < 0.5


def test_r_squared_against_its_definition():
    y, y_hat = np.array([3.0, 2.5, 2.2, 2.0]), np.array([2.9, 2.6, 2.2, 1.9])
    ss_res = sum((a - b) ** 2 for a, b in zip(y, y_hat, strict=True))
    ss_tot = sum((a - y.mean()) ** 2 for a in y)
    assert math.isclose(scaling.r_squared(y, y_hat), 1 - ss_res / ss_tot, rel_tol=1e-12)


# ------------------------------------------------------------------ frontier


@pytest.mark.parametrize("law", [TRUTH, scaling.CHINCHILLA,
                                 scaling.ScalingLaw(1.0, 30.0, 900.0, 0.2, 0.6)])
def test_frontier_against_a_brute_force_search(law):
    C = np.geomspace(1e12, 1e20, 5)
    f = scaling.compute_optimal(law, C)
    n_grid = np.geomspace(1e2, 1e14, 400_001)               # steps of 0.007 % in N
    brute = np.array([n_grid[np.argmin(law.loss(n_grid, c / (6 * n_grid)))] for c in C])
    np.testing.assert_allclose(f.N, brute, rtol=2e-4)
    np.testing.assert_allclose(f.N * f.D * 6, C, rtol=1e-12)
    # the exponents: slopes of log N_opt and log D_opt against log C
    slope_n = np.polyfit(np.log(C), np.log(brute), 1)[0]
    a, b = scaling.frontier_exponents(law.alpha, law.beta)
    assert abs(slope_n - law.beta / (law.alpha + law.beta)) < 1e-3
    assert math.isclose(a, law.beta / (law.alpha + law.beta)) and math.isclose(a + b, 1.0)
    assert abs(np.polyfit(np.log(C), np.log(f.D), 1)[0] - b) < 1e-9


def test_chinchilla_frontier_exponents():
    a, b = scaling.frontier_exponents(0.34, 0.28)
    assert math.isclose(a, 0.28 / 0.62) and math.isclose(b, 0.34 / 0.62)


# --------------------------------------------------------------- bad input


def _result(name="L1-C32-S100", params=12768, tokens=102400, loss=2.9, vocab=84):
    return scaling.RunResult(name, 1, 32, 1, 100, tokens, params, params + 4736, vocab, loss,
                             loss, 1.0)


def test_check_fittable_names_what_is_wrong_and_shows_the_points():
    good = [_result(f"r{i}", params=1000 * (1 + i % 3), tokens=10**5 * (1 + i // 3),
                    loss=3.0 - 0.1 * i) for i in range(6)]
    scaling.check_fittable(good)
    with pytest.raises(scaling.ScalingFitError) as exc:
        scaling.check_fittable(good[:4])
    msg = str(exc.value)
    assert "at least 6 finished runs" in msg and all(r.name in msg for r in good[:4])
    bad = [*good, _result("nan-run", loss=float("nan")), _result("high-run", loss=4.6)]
    with pytest.raises(scaling.ScalingFitError) as exc:
        scaling.check_fittable(bad)
    msg = str(exc.value)
    assert "2 diverged (nan-run, high-run)" in msg and "log V" in msg
    assert msg.count("<-") == 2 and "nan-run" in msg.splitlines()[-2]
    one_size = [_result(f"r{i}", tokens=10**5 * (i + 1)) for i in range(6)]
    with pytest.raises(scaling.ScalingFitError, match="1 model size"):
        scaling.check_fittable(one_size)


def test_log_v_is_the_loss_of_a_uniform_guess():
    # a model with all-zero logits predicts 1/V for every character: loss log V
    from llmmath.info import cross_entropy

    V = 84
    assert math.isclose(cross_entropy(np.eye(V)[3], np.full(V, 1.0 / V)), math.log(V))


# ------------------------------------------------------------------ the sweep


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scaling") / "othello.txt"
    path.write_text(load_corpus().documents["othello"][:30_000], encoding="utf-8")
    return path


def tiny_plan(text_file: Path, steps=(4, 8, 12)) -> scaling.SweepPlan:
    return scaling.SweepPlan("tiny", widths=(16,), steps=steps, batch_size=4, block_size=16,
                             eval_tokens=256, checkpoints_per_run=2, text=str(text_file))


class Recorder(scaling.SweepProgress):
    """Records what the sweep did; ``act(run, step)`` may interrupt a run."""

    def __init__(self, act=None):
        self.started, self.finished, self.act = [], [], act

    def run_started(self, index, spec, start_step):
        self.started.append((spec.name, start_step))
        act, name = self.act, spec.name

        class R(Reporter):
            def update(self, step, loss, lr, tokens_per_s):
                if act is not None:
                    act(name, step)
        return R()

    def run_finished(self, index, spec, result, cached):
        self.finished.append((spec.name, cached))


def test_a_limited_sweep_continues_without_redoing_finished_runs(text_file, tmp_path):
    plan, out = tiny_plan(text_file), tmp_path / "sweep"
    first = scaling.run_sweep(plan, out, max_runs=1)
    assert first.trained == ["L1-C16-S4"] and first.pending == ["L1-C16-S8", "L1-C16-S12"]
    result_file = out / "runs" / "L1-C16-S4" / "result.json"
    stamp = result_file.stat().st_mtime_ns
    with pytest.raises(scaling.SweepExistsError, match="1 of 3 runs finished.*--resume"):
        scaling.run_sweep(plan, out)
    rec = Recorder()
    second = scaling.run_sweep(plan, out, resume=True, progress=rec)
    assert second.cached == ["L1-C16-S4"] and second.trained == ["L1-C16-S8", "L1-C16-S12"]
    assert [name for name, _ in rec.started] == ["L1-C16-S8", "L1-C16-S12"]   # 2 trained
    assert result_file.stat().st_mtime_ns == stamp
    third = scaling.run_sweep(plan, out, resume=True)
    assert third.trained == [] and len(third.cached) == 3 and third.complete
    assert [r.name for r in third.results] == [s.name for s in plan.runs()]
    record = scaling.read_sweep(out)
    assert [s["trained"] for s in record["sessions"]] == [1, 2, 0]


def test_the_results_record_what_the_model_counts(text_file, tmp_path):
    plan = tiny_plan(text_file, steps=(4,))
    (res,) = scaling.run_sweep(plan, tmp_path / "s").results
    count = scaling.count_parameters(scaling.shape_for_width(16), res.vocab_size, 16)
    assert (res.params, res.params_total) == (count.non_embedding, count.total)
    assert res.tokens == 4 * 4 * 16 and res.flops == 6 * res.params * res.tokens
    saved = json.loads((tmp_path / "s" / "runs" / res.name / "result.json").read_text())
    assert scaling.RunResult.from_dict(saved) == res


def _uninterrupted(text_file, tmp_path):
    return {r.name: r for r in scaling.run_sweep(tiny_plan(text_file), tmp_path / "ref").results}


@pytest.fixture
def terminal_sigint():
    """SIGINT handled as in a terminal, whatever the process inherited: under nohup or in a
    background job SIGINT is ignored, and the training loop rightly leaves it ignored then."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, signal.SIG_DFL if before is None else before)


def test_a_run_stopped_by_a_signal_resumes_from_its_checkpoint(text_file, tmp_path,
                                                               terminal_sigint):
    def ctrl_c(name, step):
        if name == "L1-C16-S12" and step == 8:
            signal.raise_signal(signal.SIGINT)     # as Ctrl-C: the loop saves and returns

    out = tmp_path / "sweep"
    stopped = scaling.run_sweep(tiny_plan(text_file), out, progress=Recorder(ctrl_c))
    assert stopped.interrupted and stopped.stop_signal == "SIGINT"
    assert (stopped.interrupted_run, stopped.interrupted_step) == ("L1-C16-S12", 9)
    assert stopped.trained == ["L1-C16-S4", "L1-C16-S8"] and stopped.pending == ["L1-C16-S12"]
    rec = Recorder()
    resumed = scaling.run_sweep(tiny_plan(text_file), out, resume=True, progress=rec)
    assert rec.started == [("L1-C16-S12", 9)]                 # from step 9, not from 0
    assert resumed.resumed == ["L1-C16-S12"] and resumed.complete
    ref = _uninterrupted(text_file, tmp_path)
    got = {r.name: r for r in resumed.results}
    # llmmath.train resumes bit for bit (weights, optimiser, generators), so the losses of
    # the interrupted run are exactly those of the uninterrupted one
    assert got["L1-C16-S12"].val_loss == ref["L1-C16-S12"].val_loss
    assert got["L1-C16-S12"].resumed and not ref["L1-C16-S12"].resumed


def test_a_run_killed_between_checkpoints_continues_from_the_last_one(text_file, tmp_path):
    class Killed(Exception):
        pass

    def crash(name, step):
        if name == "L1-C16-S12" and step == 9:     # checkpoints every 6 steps: at 6 and 12
            raise Killed

    out = tmp_path / "sweep"
    with pytest.raises(Killed):
        scaling.run_sweep(tiny_plan(text_file), out, progress=Recorder(crash))
    rundir = out / "runs" / "L1-C16-S12"
    assert (rundir / "ckpt.npz").is_file() and not (rundir / "result.json").exists()
    rec = Recorder()
    resumed = scaling.run_sweep(tiny_plan(text_file), out, resume=True, progress=rec)
    assert rec.started == [("L1-C16-S12", 6)]
    ref = _uninterrupted(text_file, tmp_path)
    # bit-for-bit resumption (see above): steps 6..9 are redone with the same batches
    assert {r.name: r.val_loss for r in resumed.results} == {k: r.val_loss for k, r in ref.items()}


def test_a_run_killed_before_its_first_checkpoint_starts_afresh(text_file, tmp_path):
    out = tmp_path / "sweep"
    plan = tiny_plan(text_file, steps=(4,))
    rundir = out / "runs" / "L1-C16-S4"
    rundir.mkdir(parents=True)
    (rundir / "metrics.jsonl").write_text('{"kind": "start", "step": 0}\n')   # and no ckpt
    done = scaling.run_sweep(plan, out)
    assert done.trained == ["L1-C16-S4"] and (rundir / "result.json").is_file()


def test_resuming_with_another_plan_is_refused(text_file, tmp_path):
    out = tmp_path / "sweep"
    scaling.run_sweep(tiny_plan(text_file, steps=(4,)), out)
    with pytest.raises(ValueError, match="plan differs .* \\(in steps\\)"):
        scaling.run_sweep(tiny_plan(text_file, steps=(4, 8)), out, resume=True)


def test_analysis_of_a_sweep_and_its_summary(tmp_path):
    # a law whose losses stay below log V = log 84, as a character model's do
    mild = scaling.ScalingLaw(E=1.0, A=20.0, B=80.0, alpha=0.4, beta=0.35)
    N, D, L = synthetic(0.005, seed=3, n_sizes=4, n_budgets=3, law=mild)
    results = [_result(f"r{i}", params=int(n), tokens=int(d), loss=float(l))
               for i, (n, d, l) in enumerate(zip(N, D, L, strict=True))]
    an = scaling.analyze(results, n_resamples=20, seed=1)
    assert an.heldout_r2 is not None and an.heldout_r2 > 0.98
    assert an.frontier is not None and an.frontier_note is None
    d = an.to_dict()
    json.dumps(d, allow_nan=False)                     # valid JSON: no NaN anywhere
    assert d["fit"]["alpha"] == an.fit.law.alpha and len(d["runs"]) == len(results)
    lo, hi = d["intervals"]["tokens_per_parameter"]
    assert lo <= d["frontier"]["tokens_per_parameter"] <= hi
    from llmmath.scaling.plots import plot_isoflops, plot_loss_vs_size

    for draw in (plot_isoflops, plot_loss_vs_size):
        assert draw(an, tmp_path / f"{draw.__name__}.png").read_bytes()[:4] == b"\x89PNG"


def test_losses_that_ignore_n_give_a_negligible_n_term_and_a_frontier_of_data():
    N, D = (g.ravel() for g in np.meshgrid(np.geomspace(1e4, 1e6, 3), np.geomspace(1e5, 1e7, 3)))
    L = 1.5 + 30.0 * D ** -0.4                       # no N term at all
    results = [_result(f"r{i}", params=int(n), tokens=int(d), loss=float(l))
               for i, (n, d, l) in enumerate(zip(N, D, L, strict=True))]
    an = scaling.analyze(results, n_resamples=0)
    law = an.fit.law
    assert np.all(law.A * N ** -law.alpha < 1e-6)    # the fit finds no N term either
    if an.frontier is not None:                      # the optimum buys data, not parameters
        assert an.frontier.N.max() < N.min()
    json.dumps(an.to_dict(), allow_nan=False)


def test_a_law_with_alpha_zero_has_no_frontier():
    with pytest.raises(ValueError, match="alpha = 0.0 and beta = 0.3 one of N and D does not"):
        scaling.compute_optimal(scaling.ScalingLaw(1.0, 2.0, 3.0, 0.0, 0.3), 1e12)


# ------------------------------------------------------------------- command


@pytest.fixture(scope="module")
def cli_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "sweep"
    res = runner.invoke(app, ["scaling", "--budget", "test", "--out", str(out),
                              "--resamples", "4", "--no-progress"], env={"COLUMNS": "160"})
    return out, res


def test_cli_runs_a_micro_sweep_and_writes_its_outputs(cli_sweep):
    out, res = cli_sweep
    assert res.exit_code == 0, res.output
    assert "8 run(s) trained now" in res.output and "held-out R²" in res.output
    assert "alpha" in res.output and "Chinchilla" in res.output
    for name in ("summary.json", "loss_vs_n.png", "isoflop.png", "sweep.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(), parse_constant=float)
    assert summary["budget"] == "test" and len(summary["runs"]) == 8
    assert summary["machine"]["cores"] >= 1 and summary["sweep_seconds"] > 0


def test_cli_resume_reads_every_run_and_refuses_a_second_start(cli_sweep):
    out, _ = cli_sweep
    again = runner.invoke(app, ["scaling", "--budget", "test", "--out", str(out), "--resume",
                                "--resamples", "0", "--no-progress"])
    assert again.exit_code == 0, again.output
    assert "0 run(s) trained now" in again.output and "8 read from" in again.output
    fresh = runner.invoke(app, ["scaling", "--budget", "test", "--out", str(out),
                                "--no-progress"])
    assert fresh.exit_code == 1 and "already holds a sweep" in fresh.output
    other = runner.invoke(app, ["scaling", "--budget", "quick", "--out", str(out), "--resume",
                                "--no-progress"])
    assert other.exit_code == 1 and "--budget test" in other.output


def test_cli_refuses_a_diverged_run_and_shows_the_points(cli_sweep, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(cli_sweep[0], out)
    path = out / "runs" / "L1-C32-S24" / "result.json"
    record = json.loads(path.read_text())
    record["val_loss"] = float("nan")
    path.write_text(json.dumps(record))
    res = runner.invoke(app, ["scaling", "--budget", "test", "--out", str(out), "--resume",
                              "--no-progress"], env={"COLUMNS": "200"})
    assert res.exit_code == 1
    assert "1 diverged (L1-C32-S24)" in res.output and "L1-C16-S6" in res.output
    assert "nan" in res.output and "<-" in res.output


def test_cli_limited_sweep_and_unknown_budget(tmp_path):
    out = tmp_path / "part"
    res = runner.invoke(app, ["scaling", "--budget", "test", "--out", str(out), "--max-runs",
                              "2", "--no-progress"])
    assert res.exit_code == 0 and "2 run(s) trained; 6 still to do" in res.output
    bad = runner.invoke(app, ["scaling", "--budget", "huge", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 1 and "unknown budget 'huge'" in bad.output


def test_scipy_is_not_imported_by_the_package():
    import subprocess
    import sys

    code = ("import sys, llmmath.scaling\n"
            "bad = [m for m in ('scipy', 'matplotlib', 'torch') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)
