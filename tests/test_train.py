"""Tests for llmmath.train: configuration, exact resume, stop signals, run directories,
metrics, bad input."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from llmmath._files import temporary_files
from llmmath.checkpoint import load_checkpoint
from llmmath.commands.training import parse_assignments
from llmmath.data import load_corpus
from llmmath.train import (
    PRESETS,
    RESUMABLE,
    Reporter,
    RunBusyError,
    RunExistsError,
    TrainConfig,
    Trainer,
    apply_overrides,
    load_model,
    preset_config,
    read_metrics,
    train,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "hamlet.txt"
    path.write_text(load_corpus().documents["hamlet"][:12_000], encoding="utf-8")
    return path


def small(text_file, out, **kw):
    """A few-second configuration: 1-2 layers, C=16, T=16, dropout on (so its RNG matters)."""
    base = dict(text=str(text_file), n_layer=2, n_head=2, n_embd=16, block_size=16, batch_size=4,
                dropout=0.1, max_iters=20, lr_decay_iters=20, warmup_iters=4, eval_interval=10,
                eval_iters=2, log_interval=1, out_dir=str(out))
    return preset_config("tiny", **{**base, **kw})


def train_losses(out):
    return {r["step"]: r["loss"] for r in read_metrics(Path(out) / "metrics.jsonl")
            if r["kind"] == "train"}


# ---------------------------------------------------------------------------- configuration
def test_baby_preset_is_nanogpts_cpu_recipe_at_twice_the_learning_rate():
    c = preset_config("baby")
    # the shapes and schedule of nanoGPT's README command for the CPU run; the peak
    # learning rate is doubled (see PRESETS) and still decays by 10x
    assert (c.n_layer, c.n_head, c.n_embd, c.block_size, c.batch_size) == (4, 4, 128, 64, 12)
    assert (c.dropout, c.max_iters, c.lr_decay_iters) == (0.0, 2000, 2000)
    assert c.learning_rate == 2 * 1e-3 and c.min_lr == c.learning_rate / 10
    # exact: preset values, no arithmetic
    assert c.warmup_iters == 100 and c.tokenizer == "char" and c.beta2 == 0.99
    assert set(PRESETS) == {"tiny", "baby", "small"}
    assert preset_config("baby", n_layer=2).n_layer == 2


def test_overrides_and_assignments():
    c = apply_overrides(TrainConfig(), {"n_layer": 3, "text": "x.txt"})
    assert c.n_layer == 3 and c.text == "x.txt" and TrainConfig().n_layer == 2
    assert parse_assignments(["max_iters=7", "learning-rate=1e-2", "bias=no"]) == {
        "max_iters": 7, "learning_rate": 0.01, "bias": False}
    with pytest.raises(ValueError, match="unknown setting"):
        apply_overrides(TrainConfig(), {"n_layers": 3})
    with pytest.raises(ValueError, match="key=value"):
        parse_assignments(["n_layer"])
    with pytest.raises(ValueError, match="needs an integer"):
        parse_assignments(["n_layer=two"])


@pytest.mark.parametrize("bad, match", [
    ({"n_embd": 30, "n_head": 4}, "multiple of n_head"),
    ({"tokenizer": "words"}, "tokenizer"),
    ({"dtype": "float16"}, "dtype"),
    ({"dropout": 1.0}, "dropout"),
    ({"n_layer": 0}, "n_layer"),
    ({"learning_rate": -1.0}, "learning_rate"),
    ({"tokenizer": "bpe", "vocab_size": 100}, "257"),
    ({"warmup_iters": 50, "lr_decay_iters": 10}, "lr_decay_iters"),
])
def test_bad_configs_are_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**bad)


# ---------------------------------------------------------------------------- bad data
def test_bad_text_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(ValueError, match="empty"):
        train(preset_config(text=str(empty), out_dir=str(tmp_path / "o")))
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 au lait".encode("latin-1") * 50)
    with pytest.raises(ValueError, match="UTF-8"):
        train(preset_config(text=str(latin), out_dir=str(tmp_path / "o")))
    with pytest.raises(ValueError, match="not an existing file"):
        train(preset_config(text=str(tmp_path / "none.txt"), out_dir=str(tmp_path / "o")))
    assert not (tmp_path / "o").exists()


def test_block_size_longer_than_the_data(tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("abcdefghij" * 30)                # val split: 15 characters
    with pytest.raises(ValueError, match=r"val split.*15 tokens.*block_size=32"):
        train(preset_config(text=str(short), out_dir=str(tmp_path / "o")))


# ---------------------------------------------------------------------------- exact resume
def test_two_runs_of_fifty_resumed_equal_a_hundred_straight(text_file, tmp_path):
    kw = dict(max_iters=100, lr_decay_iters=100, eval_interval=40)
    straight = train(small(text_file, tmp_path / "a", **kw), plot=False)
    first = train(small(text_file, tmp_path / "b", **{**kw, "max_iters": 50}), plot=False)
    assert first.trainer.step == 50 and first.checkpoint.exists()
    second = train(resume=tmp_path / "b", overrides={"max_iters": 100}, plot=False)
    assert second.trainer.step == 100
    sa, sb = straight.trainer.model.state_dict(), second.trainer.model.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k
    la, lb = train_losses(tmp_path / "a"), train_losses(tmp_path / "b")
    assert sorted(la) == list(range(100)) and la == lb
    oa = straight.trainer.optimizer.state_dict()["state"]
    ob = second.trainer.optimizer.state_dict()["state"]
    for i in oa:
        assert oa[i]["step"] == ob[i]["step"] == 100
        assert np.array_equal(oa[i]["exp_avg_sq"], ob[i]["exp_avg_sq"])
    ga = [g.bit_generator.state for g in straight.trainer.generators()]
    gb = [g.bit_generator.state for g in second.trainer.generators()]
    assert ga == gb and len(ga) == 2                   # batches and dropout
    assert straight.evals[-1] == second.evals[-1]


def test_evaluation_does_not_disturb_training(text_file, tmp_path):
    a = train(small(text_file, tmp_path / "a", max_iters=8, eval_interval=1), plot=False)
    b = train(small(text_file, tmp_path / "b", max_iters=8, eval_interval=100), plot=False)
    assert a.losses == b.losses and len(a.evals) == 9 and len(b.evals) == 2
    assert a.evals[0] == b.evals[0]                    # same fixed evaluation batches


def test_resume_refuses_changed_settings_and_other_text(text_file, tmp_path):
    train(small(text_file, tmp_path / "b", max_iters=4), plot=False)
    with pytest.raises(ValueError, match=r"n_embd: checkpoint 16, asked 32.*may change only"):
        train(resume=tmp_path / "b", overrides={"n_embd": 32, "max_iters": 8})
    other = tmp_path / "other.txt"
    other.write_text(text_file.read_text()[::-1])
    with pytest.raises(ValueError, match="another text"):
        train(resume=tmp_path / "b", overrides={"text": str(other), "max_iters": 8})
    same = train(resume=tmp_path / "b", overrides={"n_embd": 16, "max_iters": 6,
                                                   "eval_interval": 3}, plot=False)
    assert same.trainer.step == 6


def test_corrupted_checkpoint_is_not_loaded(text_file, tmp_path):
    r = train(small(text_file, tmp_path / "b", max_iters=2), plot=False)
    raw = bytearray(r.checkpoint.read_bytes())
    raw[len(raw) // 2] ^= 0x55
    r.checkpoint.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"ckpt\.npz"):
        train(resume=r.checkpoint, overrides={"max_iters": 4})
    with pytest.raises(ValueError, match=r"ckpt\.npz"):
        load_model(r.checkpoint)


def test_failed_save_keeps_the_previous_checkpoint(text_file, tmp_path, monkeypatch):
    r = train(small(text_file, tmp_path / "b", max_iters=4), plot=False)
    before = r.checkpoint.read_bytes()
    import zipfile

    real, calls = zipfile.ZipFile.writestr, {"n": 0}

    def failing(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("no space left on device (simulated)")
        return real(self, *a, **k)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="no space"):
        train(resume=r.checkpoint, overrides={"max_iters": 6}, plot=False)
    monkeypatch.undo()
    assert r.checkpoint.read_bytes() == before
    assert load_model(r.checkpoint).step == 4
    assert sorted(p.name for p in r.checkpoint.parent.iterdir()) == ["ckpt.npz", "metrics.jsonl"]


# ---------------------------------------------------------------------------- Ctrl-C, metrics
class _InterruptAt(Reporter):
    def __init__(self, step, sig=signal.SIGINT, times=1):
        self.step, self.sig, self.times = step, sig, times
        self.seen = []                                 # the handler of each stop signal, per step

    def update(self, step, loss, lr, tokens_per_s):
        self.seen.append({s: signal.getsignal(s) for s in STOP_SIGNALS})
        if step == self.step:
            for _ in range(self.times):
                os.kill(os.getpid(), self.sig)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@pytest.fixture
def own_handlers():
    """A handler of this test's own for each stop signal, whatever the process inherited (under
    nohup SIGHUP is ignored, in a background job SIGINT is); the originals come back after."""
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    mine = {}
    for s in STOP_SIGNALS:
        def handler(signum, frame):                    # a distinct function per signal
            raise AssertionError(f"signal {signum} reached the test's own handler")
        mine[s] = handler
        signal.signal(s, handler)
    yield mine
    for s, h in before.items():
        signal.signal(s, signal.SIG_DFL if h is None else h)


def _stop_and_resume(text_file, tmp_path, sig, handlers):
    straight = train(small(text_file, tmp_path / "a", max_iters=12), plot=False)
    cut = train(small(text_file, tmp_path / "b", max_iters=12), reporter=_InterruptAt(4, sig),
                plot=False)
    assert cut.interrupted and cut.trainer.step == 5   # the step in flight completes
    assert cut.stop_signal == signal.Signals(sig).name
    for s in STOP_SIGNALS:                             # the previous handlers are back
        assert signal.getsignal(s) is handlers[s], signal.Signals(s).name
    assert load_model(cut.checkpoint).step == 5
    rest = train(resume=cut.checkpoint, plot=False)
    assert not rest.interrupted and rest.trainer.step == 12
    assert train_losses(tmp_path / "a") == train_losses(tmp_path / "b")
    for k, v in straight.trainer.model.state_dict().items():
        assert np.array_equal(v, rest.trainer.model.state_dict()[k])
    records = read_metrics(tmp_path / "b" / "metrics.jsonl")
    kinds = [r["kind"] for r in records]
    assert kinds.count("interrupt") == 1 and kinds.count("resume") == 1
    assert [r["signal"] for r in records if r["kind"] == "interrupt"] == [cut.stop_signal]


def test_sigint_saves_between_steps_and_the_run_resumes_exactly(text_file, tmp_path,
                                                                own_handlers):
    _stop_and_resume(text_file, tmp_path, signal.SIGINT, own_handlers)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_save_and_stop_as_ctrl_c_does(text_file, tmp_path, own_handlers,
                                                         sig):
    _stop_and_resume(text_file, tmp_path, sig, own_handlers)


def test_an_ignored_sighup_stays_ignored(text_file, tmp_path, own_handlers):
    """Under nohup SIGHUP is ignored on purpose: training goes on when the terminal closes."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    spy = _InterruptAt(2, signal.SIGHUP)
    r = train(small(text_file, tmp_path / "a", max_iters=5), reporter=spy, plot=False)
    assert not r.interrupted and r.trainer.step == 5
    assert all(seen[signal.SIGHUP] is signal.SIG_IGN for seen in spy.seen)
    assert all(seen[signal.SIGTERM] is not own_handlers[signal.SIGTERM] for seen in spy.seen)
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGTERM) is own_handlers[signal.SIGTERM]


def test_a_second_stop_signal_aborts_and_keeps_the_last_checkpoint(text_file, tmp_path,
                                                                   own_handlers):
    cfg = small(text_file, tmp_path / "a", max_iters=20, checkpoint_interval=3)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, reporter=_InterruptAt(4, signal.SIGTERM, times=2), plot=False)
    assert load_model(tmp_path / "a").step == 3        # the periodic checkpoint, untouched
    assert signal.getsignal(signal.SIGTERM) is own_handlers[signal.SIGTERM]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["ckpt.npz", "metrics.jsonl"]


# ---------------------------------------------------------------------------- run directories
class _CheckpointSpy(Reporter):
    """Records, after each step, the step of the checkpoint on disk (None: no file yet)."""

    def __init__(self, path):
        self.path, self.seen = Path(path), []

    def update(self, step, loss, lr, tokens_per_s):
        self.seen.append(load_checkpoint(self.path).header["step"] if self.path.exists()
                         else None)


def test_checkpoints_every_checkpoint_interval_steps(text_file, tmp_path):
    spy = _CheckpointSpy(tmp_path / "a" / "ckpt.npz")
    r = train(small(text_file, tmp_path / "a", max_iters=8, eval_interval=100,
                    checkpoint_interval=3), reporter=spy, plot=False)
    # saved before steps 3 and 6 are taken, and at the end; evaluations do not checkpoint
    assert spy.seen == [None, None, None, 3, 3, 3, 6, 6]
    assert load_checkpoint(r.checkpoint).header["step"] == 8
    assert "checkpoint_interval" in RESUMABLE
    again = train(resume=r.checkpoint, overrides={"max_iters": 10, "checkpoint_interval": 1},
                  plot=False)
    assert again.trainer.config.checkpoint_interval == 1 and again.trainer.step == 10


def _run_bytes(out):
    return {p.name: p.read_bytes() for p in Path(out).iterdir()}


def test_a_new_run_refuses_a_directory_holding_another_run(text_file, tmp_path):
    first = train(small(text_file, tmp_path / "a", max_iters=3))
    before = _run_bytes(tmp_path / "a")
    assert set(before) == {"ckpt.npz", "metrics.jsonl", "loss.png"}
    with pytest.raises(RunExistsError, match=r"--resume .*--force"):
        train(small(text_file, tmp_path / "a", max_iters=2, seed=7))
    assert _run_bytes(tmp_path / "a") == before       # nothing was touched
    # a resume into another directory that holds a run is refused as well
    train(small(text_file, tmp_path / "b", max_iters=2), plot=False)
    with pytest.raises(RunExistsError, match="already holds a run"):
        train(resume=first.checkpoint, overrides={"out_dir": str(tmp_path / "b"),
                                                  "max_iters": 5})
    # files that are not a run's do not count
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "notes.txt").write_text("mine")
    assert train(small(text_file, tmp_path / "c", max_iters=1), plot=False).trained


def test_force_archives_the_old_run_and_never_mixes_two(text_file, tmp_path):
    train(small(text_file, tmp_path / "a", max_iters=3))
    before = _run_bytes(tmp_path / "a")
    new = train(small(text_file, tmp_path / "a", max_iters=2, seed=7), force=True)
    assert new.archived is not None and new.archived.parent == tmp_path
    assert new.archived.name.startswith("a.old-")
    assert _run_bytes(new.archived) == before          # moved whole, nothing deleted
    records = read_metrics(tmp_path / "a" / "metrics.jsonl")
    assert [r["kind"] for r in records].count("start") == 1
    assert {r["config"]["seed"] for r in records if "config" in r} == {7}
    assert load_model(tmp_path / "a").step == 2 and load_model(new.archived).step == 3
    # the archive is a run directory of its own: it resumes where it stopped
    assert train(resume=new.archived, overrides={"max_iters": 4}, plot=False).trainer.step == 4
    # a second --force in the same second gets a folder of its own
    newer = train(small(text_file, tmp_path / "a", max_iters=1), force=True, plot=False)
    assert newer.archived not in (None, new.archived) and load_model(newer.archived).step == 2


def test_two_processes_never_train_in_one_directory(text_file, tmp_path):
    class SecondRun(Reporter):
        def start(self, trainer):
            with pytest.raises(RunBusyError, match="another process is training"):
                train(small(text_file, tmp_path / "a", max_iters=2), force=True)

    r = train(small(text_file, tmp_path / "a", max_iters=2), reporter=SecondRun(), plot=False)
    assert r.trainer.step == 2
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["ckpt.npz", "metrics.jsonl"]


def test_a_killed_save_leaves_debris_the_next_start_removes(text_file, tmp_path):
    r = train(small(text_file, tmp_path / "a", max_iters=2), plot=False)
    # a save killed half-way (os._exit skips every clean-up), through the real writer
    code = ("import os, sys\nfrom llmmath._files import atomic_write_bytes\n"
            "atomic_write_bytes(sys.argv[1], lambda f: (f.write(b'PK half a zip'), "
            "os._exit(9)))\n")
    done = subprocess.run([sys.executable, "-c", code, str(r.checkpoint)], check=False)
    assert done.returncode == 9
    debris = temporary_files(r.checkpoint)
    assert len(debris) == 1
    again = train(resume=tmp_path / "a", overrides={"max_iters": 3}, plot=False)
    assert again.removed == tuple(debris) and temporary_files(r.checkpoint) == []
    assert load_model(tmp_path / "a").step == 3


def test_nothing_to_train_writes_nothing(text_file, tmp_path):
    r = train(small(text_file, tmp_path / "a", max_iters=0))
    assert r.checkpoint is None and r.metrics is None and not r.trained
    assert not (tmp_path / "a").exists()
    done = train(small(text_file, tmp_path / "b", max_iters=3), plot=False)
    before = _run_bytes(tmp_path / "b")
    again = train(resume=done.checkpoint)              # already at max_iters
    assert again.checkpoint is None and not again.trained and again.trainer.step == 3
    assert _run_bytes(tmp_path / "b") == before


def test_metrics_log_and_loss_curve(text_file, tmp_path):
    r = train(small(text_file, tmp_path / "a", max_iters=6, eval_interval=3, log_interval=2))
    lines = (tmp_path / "a" / "metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]     # every line is one JSON object
    assert records[0]["kind"] == "start" and records[0]["config"]["n_embd"] == 16
    assert [r["step"] for r in records if r["kind"] == "train"] == [0, 2, 4, 5]
    assert [r["step"] for r in records if r["kind"] == "eval"] == [0, 3, 6]
    assert all(math.isfinite(x["loss"]) and x["tokens_per_s"] > 0 for x in records
               if x["kind"] == "train")
    assert r.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a torn last line (a crash mid-write) is skipped, not fatal
    with open(tmp_path / "a" / "metrics.jsonl", "a") as f:
        f.write('{"kind": "train", "st')
    assert len(read_metrics(tmp_path / "a" / "metrics.jsonl")) == len(records)


def test_loaded_model_equals_the_trained_one(text_file, tmp_path):
    r = train(small(text_file, tmp_path / "a", max_iters=3, dropout=0.0), plot=False)
    m = load_model(tmp_path / "a")
    assert m.step == 3 and m.tokenizer.fingerprint == r.trainer.data.tokenizer.fingerprint
    assert dataclasses.asdict(m.config) == dataclasses.asdict(r.trainer.config)
    x = r.trainer.data.val[None, :16].astype(np.int64)
    r.trainer.model.eval()
    a, b = m.model(x, x)[0].data, r.trainer.model(x, x)[0].data
    assert np.array_equal(a, b)


def test_bpe_tokenizer_runs(text_file, tmp_path):
    r = train(small(text_file, tmp_path / "a", max_iters=2, tokenizer="bpe", vocab_size=300),
              plot=False)
    assert r.trainer.data.vocab_size == 300 and load_model(tmp_path / "a").tokenizer == \
        r.trainer.data.tokenizer


# ---------------------------------------------------------------------------- PyTorch reference
def _torch_gpt():
    from torch_gpt import TorchGPT  # imports torch: only for the tests that compare with it

    return TorchGPT


@pytest.mark.torch
def test_training_steps_match_pytorch_float64(text_file, tmp_path):
    """Same weights, same batches: torch.optim.AdamW, clip_grad_norm_ and nanoGPT's get_lr
    written out in PyTorch give the same losses and weights."""
    import torch

    from llmmath.data import get_batch

    cfg = small(text_file, tmp_path / "a", dropout=0.0, dtype="float64", max_iters=6,
                warmup_iters=2, lr_decay_iters=5, grad_clip=0.05, learning_rate=1e-2)
    tr = Trainer(cfg)
    ref = _torch_gpt()(tr.gpt_config).double()
    ref.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tr.model.state_dict().items()})
    decay = [p for p in ref.parameters() if p.dim() >= 2]
    rest = [p for p in ref.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=cfg.learning_rate,
                            betas=(cfg.beta1, cfg.beta2))

    def get_lr(it):                                    # nanoGPT train.py
        if it < cfg.warmup_iters:
            return cfg.learning_rate * (it + 1) / (cfg.warmup_iters + 1)
        if it > cfg.lr_decay_iters:
            return cfg.min_lr
        ratio = (it - cfg.warmup_iters) / (cfg.lr_decay_iters - cfg.warmup_iters)
        return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg.learning_rate -
                                                                       cfg.min_lr)

    batch_rng = np.random.default_rng((cfg.seed, 1))
    for it in range(cfg.max_iters):
        ours = tr.train_step()
        x, y = get_batch(tr.data.train, cfg.block_size, cfg.batch_size, batch_rng)
        for g in opt.param_groups:
            g["lr"] = get_lr(it)
        _, loss = ref(torch.from_numpy(x), torch.from_numpy(y))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ref.parameters(), cfg.grad_clip)
        opt.step()
        opt.zero_grad()
        assert ours == pytest.approx(loss.item(), rel=1e-12, abs=1e-12), it
    for k, v in ref.state_dict().items():
        np.testing.assert_allclose(tr.model.state_dict()[k], v.numpy(), rtol=1e-9, atol=1e-12)


def test_relative_paths_survive_a_resume_from_elsewhere(text_file, tmp_path, monkeypatch):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    (tmp_path / "x" / "play.txt").write_text(text_file.read_text())
    monkeypatch.chdir(tmp_path / "x")
    first = train(small("play.txt", "rel", max_iters=2), plot=False)
    assert first.trainer.config.text == str(tmp_path / "x" / "play.txt")
    monkeypatch.chdir(tmp_path / "y")
    again = train(resume=tmp_path / "x" / "rel", overrides={"max_iters": 4}, plot=False)
    assert again.checkpoint == tmp_path / "x" / "rel" / "ckpt.npz"
    assert load_model(again.checkpoint).step == 4 and not (tmp_path / "y" / "rel").exists()
