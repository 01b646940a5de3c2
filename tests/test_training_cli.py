"""Tests for the training commands: llmmath train / sample / eval / compare / attention."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmmath.cli import app
from llmmath.data import load_corpus
from llmmath.evaluate import compare_models, evaluate_model
from llmmath.train import load_model, read_metrics, train

runner = CliRunner()
SMALL = ["--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--block-size", "16",
         "--batch-size", "4", "--eval-iters", "1", "--no-progress"]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "othello.txt"
    path.write_text(load_corpus().documents["othello"][:20_000], encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def trained(text_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    res = runner.invoke(app, ["train", "--text", str(text_file), "--out", str(out),
                              "--max-iters", "12", "--set", "eval_interval=6",
                              "--set", "lr_decay_iters=12", "--warmup-iters", "2", *SMALL])
    assert res.exit_code == 0, res.output
    return out, res.output


def test_train_writes_checkpoint_metrics_and_plot(trained):
    out, output = trained
    assert {p.name for p in out.iterdir()} == {"ckpt.npz", "metrics.jsonl", "loss.png"}
    assert "step 12" in output and "val loss" in output and "llmmath eval" in output
    m = load_model(out)
    assert m.step == 12 and m.config.n_embd == 16 and m.config.eval_interval == 6
    evals = [r["step"] for r in read_metrics(out / "metrics.jsonl") if r["kind"] == "eval"]
    assert evals == [0, 6, 12]


def test_every_config_field_is_an_option():
    import dataclasses

    from llmmath.train import TrainConfig

    res = runner.invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in res.output, f.name


def test_sample_is_reproducible_with_a_seed(trained):
    out, _ = trained
    args = ["sample", str(out), "--prompt", "KING", "-n", "30", "--seed", "7", "--top-k", "5",
            "--temperature", "0.9"]
    a, b = runner.invoke(app, args), runner.invoke(app, args)
    assert a.exit_code == 0, a.output
    assert a.output == b.output and a.output.startswith("KING")
    assert len(a.output.rstrip("\n")) >= 4 + 30 - 1
    greedy = runner.invoke(app, ["sample", str(out), "-n", "10", "--temperature", "0",
                                 "--top-p", "0.9", "--min-p", "0.05"])
    assert greedy.exit_code == 0, greedy.output


def test_eval_prints_the_table(trained):
    out, _ = trained
    res = runner.invoke(app, ["eval", str(out), "--max-tokens", "300", "--baselines", "1,3"],
                        env={"COLUMNS": "150"})
    assert res.exit_code == 0, res.output
    for word in ("uniform", "unigram", "trigram", "GPT (step 12)", "bits/char", "perplexity",
                 "non-overlapping blocks of 16"):
        assert word in res.output
    res = runner.invoke(app, ["eval", str(out), "--baselines", "x"])
    assert res.exit_code == 1 and "--baselines" in res.output


def test_compare_and_attention(trained, tmp_path):
    out, _ = trained
    res = runner.invoke(app, ["compare", str(out), str(out), "--chunk", "50", "--max-tokens",
                              "300", "--resamples", "200"], env={"COLUMNS": "150"})
    assert res.exit_code == 0, res.output
    assert "B - A = +0.0000" in res.output and "No clear difference" in res.output
    png = tmp_path / "att.png"
    res = runner.invoke(app, ["attention", str(out), "--prompt", "Nothing will come",
                              "-o", str(png)], env={"COLUMNS": "150"})
    assert res.exit_code == 0, res.output
    assert png.exists() and "gap" in res.output and "pi_0" in res.output
    help_text = runner.invoke(app, ["attention", "--help"], env={"COLUMNS": "200"}).output
    assert "stationary" in help_text and "e_0" in help_text


@pytest.mark.parametrize("content, match", [(b"", "empty"), (b"\xff\xfe\x00bad", "UTF-8")])
def test_bad_text_is_a_clean_error(tmp_path, content, match):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    res = runner.invoke(app, ["train", "--text", str(bad), "--out", str(tmp_path / "o"), *SMALL])
    assert res.exit_code == 1 and match in res.output and "Traceback" not in res.output


def test_bad_checkpoints_and_settings_are_clean_errors(trained, tmp_path):
    out, _ = trained
    broken = tmp_path / "broken.npz"
    broken.write_bytes((out / "ckpt.npz").read_bytes()[:5000])
    for cmd in (["eval", str(broken)], ["sample", str(broken)],
                ["train", "--resume", str(broken)]):
        res = runner.invoke(app, cmd)
        assert res.exit_code == 1 and "broken.npz" in res.output, cmd
    res = runner.invoke(app, ["train", "--resume", str(out), "--n-layer", "3"])
    assert res.exit_code == 1 and "n_layer" in res.output
    res = runner.invoke(app, ["train", "--set", "n_layers=3"])
    assert res.exit_code == 1 and "key=value" in res.output
    res = runner.invoke(app, ["train", "--text", str(tmp_path / "none.txt")])
    assert res.exit_code == 1 and "none.txt" in res.output
    res = runner.invoke(app, ["train", "--resume", str(out), "--preset", "baby"])
    assert res.exit_code == 1 and "do not go together" in res.output


def _default_stop_signals():
    """In the child, before it starts: the default action for every stop signal, whatever this
    process has (a background job ignores SIGINT, nohup ignores SIGHUP, and children inherit
    what is ignored)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143),
                                       (signal.SIGHUP, 129)], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_ctrl_c_saves_and_exits_with_a_resume_hint(text_file, tmp_path, sig, code):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "llmmath.cli", "train", "--text", str(text_file), "--out",
           str(out), "--max-iters", "1000000", "--eval-interval", "100000",
           "--checkpoint-interval", "100000", *SMALL]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, preexec_fn=_default_stop_signals)
    metrics = out / "metrics.jsonl"
    deadline = time.monotonic() + 300           # a hang guard for a loaded machine, not a timing check
    started = False
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if metrics.exists() and sum(json.loads(line)["kind"] == "train"
                                        for line in metrics.read_text().splitlines()[:-1]) >= 3:
                started = True
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[0]
        assert started, "the training run logged fewer than 3 steps in 300 s"
        assert not (out / "ckpt.npz").exists()         # no checkpoint before the signal
        proc.send_signal(sig)
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, output
    assert "Interrupted at step" in output and "llmmath train --resume" in output
    assert (signal.Signals(sig).name in output) == (sig != signal.SIGINT)
    assert "Traceback" not in output
    m = load_model(out)
    assert m.step >= 3
    resumed = train(resume=out, overrides={"max_iters": m.step + 2}, plot=False)
    assert resumed.trainer.step == m.step + 2 and not resumed.interrupted
    assert Path(out / "ckpt.npz").exists()


def _train_cli(text_file, out, *extra):
    return runner.invoke(app, ["train", "--text", str(text_file), "--out", str(out),
                               "--max-iters", "2", *SMALL, *extra])


def test_train_into_another_run_refuses_and_force_archives_it(text_file, tmp_path):
    out = tmp_path / "run"
    assert _train_cli(text_file, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = _train_cli(text_file, out, "--seed", "3")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "--resume" in res.output and "--force" in res.output and "already holds" in res.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    res = _train_cli(text_file, out, "--seed", "3", "--force")
    assert res.exit_code == 0, res.output
    archives = [p for p in tmp_path.iterdir() if p.name.startswith("run.old-")]
    assert len(archives) == 1 and str(archives[0]) in res.output.replace("\n", "")
    assert {p.name: p.read_bytes() for p in archives[0].iterdir()} == before
    starts = [r for r in read_metrics(out / "metrics.jsonl") if r["kind"] == "start"]
    assert [r["config"]["seed"] for r in starts] == [3]


def test_nothing_to_train_says_so(text_file, tmp_path):
    out = tmp_path / "run"
    res = _train_cli(text_file, out, "--max-iters", "0")
    assert res.exit_code == 0, res.output
    assert "Nothing was trained" in res.output and "checkpoint" in res.output
    assert "ckpt.npz" not in res.output and not out.exists()
    assert _train_cli(text_file, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = runner.invoke(app, ["train", "--resume", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "Nothing was trained" in res.output and "at step 2" in res.output
    assert "--max-iters" in res.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_eval_says_when_the_text_is_not_the_one_trained_on(text_file, tmp_path):
    text = tmp_path / "play.txt"
    text.write_text(text_file.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "run"
    assert _train_cli(text, out).exit_code == 0
    args = ["eval", str(out), "--max-tokens", "100", "--baselines", "1"]
    same = runner.invoke(app, args)
    assert same.exit_code == 0 and "warning" not in same.output, same.output
    text.write_text(text.read_text(encoding="utf-8") + "An added line.\n", encoding="utf-8")
    changed = runner.invoke(app, args, env={"COLUMNS": "150"})
    assert changed.exit_code == 0, changed.output
    assert "warning" in changed.output and "not the one" in changed.output
    assert "--text" in changed.output and "GPT (step 2)" in changed.output
    m = load_model(out)
    assert evaluate_model(m, max_tokens=100, baselines=()).text_warning is not None
    assert compare_models(m, m, chunk=20, max_tokens=100, n_resamples=50).text_warning
    text.write_text(text_file.read_text(encoding="utf-8"), encoding="utf-8")   # restored
    assert evaluate_model(m, max_tokens=100, baselines=()).text_warning is None
    assert compare_models(m, m, chunk=20, max_tokens=100, n_resamples=50).text_warning is None
    moved = tmp_path / "moved.txt"                     # the same text elsewhere is fine
    moved.write_text(text.read_text(encoding="utf-8"), encoding="utf-8")
    assert evaluate_model(m, max_tokens=100, baselines=(), text=str(moved)).text_warning is None
