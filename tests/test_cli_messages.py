"""What a learner meets at the command line when something goes wrong.

Every failure below must end with exit status 1, one ``error:`` line that names
what the user typed (the option, the path) and says what to do, and no
traceback. With CliRunner a traceback never reaches the output, so "clean"
means more than that: the command must have *exited* (SystemExit), not died of
an exception. A few cases run in a subprocess to see the real stderr.

The full disk and the read-only directory are simulated where the failure
happens (``os.fsync`` of the atomic writer raising ENOSPC, ``mkstemp`` raising
EACCES): the suite runs as any user, root included, whom permissions do not stop.
"""

from __future__ import annotations

import copy
import errno
import math
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from typer.testing import CliRunner

from llmmath.checkpoint import load_checkpoint, save_checkpoint
from llmmath.cli import app
from llmmath.data import load_corpus
from llmmath.train import load_model, read_metrics

runner = CliRunner()
SMALL = ["--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--block-size", "16",
         "--batch-size", "4", "--eval-iters", "1", "--no-progress"]
WIDE = {"COLUMNS": "250"}        # rich wraps at the terminal width; keep messages whole


def _clean_failure(res, *needles: str) -> str:
    """Exit status 1 from a deliberate exit, one error message on stderr, no traceback;
    returns that message."""
    err = " ".join(res.stderr.split())       # undo any wrapping
    assert res.exit_code == 1, res.output
    assert isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output, res.output
    assert err.startswith("error:") and err.count("error:") == 1, res.stderr
    for needle in needles:
        assert needle in err, (needle, res.stderr)
    return err


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("msg") / "lear.txt"
    path.write_text(load_corpus().documents["lear"][:20_000], encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(text_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    res = runner.invoke(app, ["train", "--text", str(text_file), "--out", str(out),
                              "--max-iters", "6", "--eval-interval", "3",
                              "--warmup-iters", "1", "--lr-decay-iters", "6", *SMALL])
    assert res.exit_code == 0, res.output
    return out


def _train(text_file, out, *extra):
    return runner.invoke(app, ["train", "--text", str(text_file), "--out", str(out),
                               "--max-iters", "2", *SMALL, *extra], env=WIDE)


# ------------------------------------------------------------- the file system
def _no_space(monkeypatch):
    """The disk fills up while a file is being written (fsync is where a full disk shows)."""
    import llmmath._files as files

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)


def test_disk_full_while_training_names_the_file_and_keeps_nothing_half_written(
        text_file, tmp_path, monkeypatch):
    _no_space(monkeypatch)
    out = tmp_path / "run"
    text = _clean_failure(_train(text_file, out), "no space left", str(out / "ckpt.npz"),
                          "--out/-o", "free some space")
    assert "Nothing was replaced" in text
    assert not (out / "ckpt.npz").exists() and not list(out.glob(".*.tmp"))


def test_disk_full_for_attention_and_compress(run, text_file, tmp_path, monkeypatch):
    _no_space(monkeypatch)
    png = tmp_path / "a.png"
    _clean_failure(runner.invoke(app, ["attention", str(run), "--prompt", "the", "-o", str(png)],
                                 env=WIDE), "attention:", "no space left", str(png))
    lmz = tmp_path / "t.lmz"
    _clean_failure(runner.invoke(app, ["compress", str(text_file), "-m", "ngram:2", "-o",
                                       str(lmz)], env=WIDE), "compress:", str(lmz))
    assert not png.exists() and not lmz.exists()


def test_a_read_only_directory_is_a_clear_error(text_file, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() != 0:                 # a real read-only directory
        locked.chmod(0o555)
    else:                                 # root writes anywhere: refuse as the kernel would
        import llmmath._files as files

        def refuse(*args, dir=None, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))

        monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    try:
        _clean_failure(_train(text_file, locked / "run"), "train:", "permission denied",
                       str(locked), "--out/-o")
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("inside", [False, True], ids=["the file", "under a file"])
def test_out_naming_a_file_is_refused_before_training(text_file, tmp_path, inside):
    f = tmp_path / "notes.txt"
    f.write_text("mine\n")
    out = f / "run" if inside else f
    _clean_failure(_train(text_file, out), "train:", "--out", str(out), "is a file",
                   "directory")
    assert f.read_text() == "mine\n"


def test_attention_out_naming_a_directory_writes_attention_png_in_it(run, tmp_path):
    res = runner.invoke(app, ["attention", str(run), "--prompt", "the", "-o", str(tmp_path)],
                        env=WIDE)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "attention.png").read_bytes()[:4] == b"\x89PNG"


def test_a_missing_checkpoint_names_the_path_not_the_loader(tmp_path):
    for cmd in ("eval", "sample", "attention"):
        text = _clean_failure(runner.invoke(app, [cmd, str(tmp_path / "nope.npz")], env=WIDE),
                              f"{cmd}:", "nope.npz")
        assert "load_checkpoint" not in text


# ------------------------------------------------------------------- memory
def test_absurd_sizes_are_refused_up_front_with_the_options_to_lower(text_file, tmp_path,
                                                                      monkeypatch):
    import llmmath.train.memory as memory

    monkeypatch.setattr(memory, "available_memory", lambda: 8 * 10**9)
    out = tmp_path / "run"
    for args in (["--set", "n_embd=1048576", "--set", "n_head=1"],
                 ["--batch-size", str(10**12)], ["--set", f"batch_size={10**12}"],
                 ["--block-size", str(10**6)]):
        res = runner.invoke(app, ["train", "--text", str(text_file), "--out", str(out),
                                  "--no-progress", *args], env=WIDE)
        text = _clean_failure(res, "train:", "needs about", "8.0 GB is available",
                              "--n-embd", "--batch-size")
        assert "MemoryError" not in text and "check_fits" not in text
    assert not out.exists()                     # refused before anything was written
    _clean_failure(_train(text_file, out, "--set", "batch_size=10**23"),
                   "--set batch_size=10**23", "needs an integer")


def test_memory_running_out_inside_a_command_is_one_message(run, monkeypatch):
    import llmmath.train as tr

    def exhausted(path):
        raise MemoryError("Unable to allocate 24.0 TiB for an array")

    monkeypatch.setattr(tr, "load_model", exhausted)
    _clean_failure(runner.invoke(app, ["sample", str(run)], env=WIDE), "sample:",
                   "not enough memory", "24.0 TiB")


def test_the_parameter_count_is_the_models():
    from llmmath.nn import GPT, GPTConfig, Llama, LlamaConfig
    from llmmath.train.memory import parameter_count

    for L, C, V, T in [(1, 16, 30, 8), (2, 24, 65, 16), (3, 32, 300, 32)]:
        sizes = dict(n_layer=L, n_embd=C, vocab_size=V, block_size=T)
        gpt = GPT(GPTConfig(n_head=2, **sizes), rng=0)
        # nanoGPT ties its head to the embedding: the count without the untied head's V C
        assert parameter_count(**sizes) - V * C == gpt.num_params(False)
        llama = Llama(LlamaConfig(n_head=2, **sizes), rng=0).num_params(False)
        assert llama / 4 <= parameter_count(**sizes) <= 4 * llama   # the header check's margin


@pytest.mark.parametrize("sizes", [dict(n_layer=2, n_embd=32, n_head=2, block_size=32),
                                   dict(n_layer=1, n_embd=64, n_head=4, block_size=64),
                                   dict(n_layer=3, n_embd=16, n_head=1, block_size=16)])
def test_the_memory_estimate_bounds_what_a_training_step_allocates(text_file, tmp_path, sizes):
    """tracemalloc counts every NumPy allocation: the estimate must lie above the peak of a
    first training step (model, gradients, AdamW moments, activations) and within 3x of it."""
    from llmmath.train import Trainer, preset_config
    from llmmath.train.memory import estimate_training_memory

    cfg = preset_config(text=str(text_file), batch_size=8, eval_iters=1,
                        out_dir=str(tmp_path / "m"), **sizes)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        trainer = Trainer(cfg)
        trainer.train_step()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    est = estimate_training_memory(cfg, trainer.data.vocab_size).total
    assert peak <= est <= 3 * peak, (peak, est)


# --------------------------------------------------------- nonsense headers
def _mutations():
    def drop(key):
        return lambda h: h.pop(key)

    def set_(path, value):
        def f(h):
            d = h
            for k in path[:-1]:
                d = d[k]
            d[path[-1]] = value
        return f

    return {
        "negative step": (set_(["step"], -5), "step -5"),
        "step is text": (set_(["step"], "five"), "'step'"),
        "elapsed is text": (set_(["elapsed"], "x"), "'elapsed'"),
        "no gpt_config": (drop("gpt_config"), "gpt_config"),
        "no config": (drop("config"), "config"),
        "no optimizer": (drop("optimizer"), "optimizer"),
        "no rng": (drop("rng"), "rng"),
        "config is a list": (set_(["config"], [1, 2]), "'config'"),
        "config fails validation": (set_(["config", "n_head"], 3), "multiple of n_head"),
        "unknown architecture": (set_(["config", "arch"], "mamba"), "'mamba'"),
        "gpt_config size is text": (set_(["gpt_config", "n_embd"], "big"), "n_embd"),
        "gpt_config unknown key": (set_(["gpt_config", "wibble"], 3), "wibble"),
        "gpt_config absurd": (set_(["gpt_config", "n_embd"], 1 << 20), "parameters"),
        "weights of another shape": (set_(["gpt_config", "n_embd"], 32), "shape"),
        "tokenizer junk": (set_(["tokenizer"], {"type": "char"}), "tokenizer"),
        "data is a number": (set_(["data"], 5), "'data'"),
    }


MUTATIONS = _mutations()


@pytest.fixture(scope="module")
def bad_checkpoints(run, tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    ck = load_checkpoint(run / "ckpt.npz")
    paths = {}
    for i, (name, (mutate, _)) in enumerate(MUTATIONS.items()):
        header = copy.deepcopy(ck.header)
        mutate(header)
        paths[name] = save_checkpoint(root / f"bad{i}" / "ckpt.npz", header, ck.arrays)
    return paths


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_a_header_that_passes_the_checksum_but_holds_nonsense(bad_checkpoints, name):
    path = bad_checkpoints[name]
    for cmd in (["sample", str(path), "-n", "2"], ["eval", str(path), "--max-tokens", "50"],
                ["attention", str(path), "-o", str(path.parent / "a.png")],
                ["compress", str(path), "-m", str(path), "-o", str(path.parent / "x.lmz")]):
        text = _clean_failure(runner.invoke(app, cmd, env=WIDE), f"{cmd[0]}:", str(path))
        assert MUTATIONS[name][1] in text, (cmd[0], text)


@pytest.mark.parametrize("name", ["negative step", "no optimizer", "config fails validation",
                                  "no rng"])
def test_resuming_from_a_nonsense_header_is_refused(bad_checkpoints, name):
    path = bad_checkpoints[name]
    _clean_failure(runner.invoke(app, ["train", "--resume", str(path), "--no-progress"],
                                 env=WIDE), str(path))
    assert sorted(p.name for p in path.parent.iterdir()) == ["ckpt.npz"]   # nothing written


def test_resuming_from_a_header_whose_optimizer_state_is_junk(run, tmp_path):
    ck = load_checkpoint(run / "ckpt.npz")
    header = copy.deepcopy(ck.header)
    header["optimizer"] = {"x": 1}
    path = save_checkpoint(tmp_path / "ckpt.npz", header, ck.arrays)
    _clean_failure(runner.invoke(app, ["train", "--resume", str(path), "--max-iters", "9",
                                       "--no-progress"], env=WIDE),
                   "train --resume:", str(path), "does not fit")


# ----------------------------------------------- options named as they were typed
@pytest.mark.parametrize("args, named, internal", [
    (["train", "--preset", "nope"], "--preset must be one of tiny, baby, small", "preset_config"),
    (["train", "--learning-rate", "-1"], "--learning-rate", "TrainConfig"),
    (["train", "--n-embd", "30", "--n-head", "4"], "--n-embd (30) must be a multiple of --n-head",
     "TrainConfig"),
    (["train", "--set", "lr_decay_iters=5"], "--lr-decay-iters (5) must be >= --warmup-iters",
     "TrainConfig"),
    (["train", "--dtype", "float16"], "--dtype", "argument"),
    (["train", "--set", "bias=maybe"], "--set bias=maybe: needs true or false", "type"),
])
def test_training_settings_are_named_as_options(args, named, internal):
    text = _clean_failure(runner.invoke(app, args, env=WIDE), "train:", named)
    assert internal not in text


@pytest.mark.parametrize("args, named", [
    (["eval", "{run}", "--stride", "0"], "eval: --stride must be >= 1"),
    (["eval", "{run}", "--split", "dev"], "eval: --split must be one of"),
    (["eval", "{run}", "--max-tokens", "0"], "eval: --max-tokens must be >= 1"),
    (["eval", "{run}", "--baselines", "0"], "eval: --baselines must be >= 1"),
    (["sample", "{run}", "--top-p", "2", "-n", "2"], "sample: --top-p must be <= 1.0"),
    (["compare", "{run}", "{run}", "--confidence", "2", "--chunk", "20"],
     "compare: --confidence must be < 1.0"),
    (["compare", "{run}", "{run}", "--resamples", str(10**13), "--chunk", "20"],
     "compare: --resamples"),
])
def test_command_options_are_named_as_typed(run, args, named):
    args = [a.replace("{run}", str(run)) for a in args]
    text = _clean_failure(runner.invoke(app, args, env=WIDE), named)
    assert "argument '" not in text


def test_the_rewriting_leaves_paths_values_and_plain_words_alone():
    from llmmath.commands._messages import user_message
    from llmmath.errors import InvalidValueError

    options = {"max_tokens": "--max-tokens", "split": "--split", "n_embd": "--n-embd"}
    msg = ("evaluate: argument 'split' must be one of ('train', 'val', 'test'); got 'split'; "
           "see /runs/max_tokens/ckpt.npz and the split of n_embd.")
    assert user_message(InvalidValueError(msg), "eval", options) == (
        "eval: --split must be one of ('train', 'val', 'test'); got 'split'; see "
        "/runs/max_tokens/ckpt.npz and the split of --n-embd.")


# ------------------------------------------------------------------ prompts
@pytest.mark.parametrize("cmd", ["sample", "attention"])
def test_a_prompt_outside_the_vocabulary_is_refused_with_the_characters_named(run, cmd, tmp_path):
    chars = load_model(run).tokenizer.chars
    assert "Ω" not in chars and "€" not in chars
    args = [cmd, str(run), "--prompt", "Ωthe €"]
    if cmd == "attention":
        args += ["-o", str(tmp_path / "a.png")]
    _clean_failure(runner.invoke(app, args, env=WIDE), f"{cmd}: --prompt has 2 characters",
                   "'Ω' (U+03A9)", "'€' (U+20AC)")
    assert not (tmp_path / "a.png").exists()


# -------------------------------------------------------- the wrapper itself
def test_an_unexpected_exception_is_reported_as_a_bug_with_the_debug_switch(run, monkeypatch):
    import llmmath.evaluate as ev

    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(ev, "evaluate_model", broken)
    _clean_failure(runner.invoke(app, ["eval", str(run)], env=WIDE), "eval: internal error",
                   "RuntimeError: something inside broke", "LLMMATH_DEBUG=1")


def test_in_a_real_process_stderr_has_one_line_and_debug_shows_the_traceback(tmp_path):
    cmd = [sys.executable, "-m", "llmmath.cli", "eval", str(tmp_path / "nope.npz")]
    env = {k: v for k, v in os.environ.items() if k != "LLMMATH_DEBUG"} | WIDE
    plain = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert plain.returncode == 1 and plain.stdout == ""
    assert plain.stderr.startswith("error: eval: ") and "Traceback" not in plain.stderr
    assert plain.stderr.strip().count("\n") == 0 and "nope.npz" in plain.stderr
    debug = subprocess.run(cmd, capture_output=True, text=True, env=env | {"LLMMATH_DEBUG": "1"},
                           timeout=120)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert "CheckpointError" in debug.stderr


# ----------------------------------------------------------------- compare
def test_compare_of_two_checkpoints_says_what_its_interval_covers(run):
    res = runner.invoke(app, ["compare", str(run), str(run), "--chunk", "20", "--max-tokens",
                              "200", "--resamples", "100"], env=WIDE)
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "covers the sampling of test tokens only, not the variation between training runs" \
        in out
    assert "llmmath compare A1,A2,A3 B1,B2,B3" in out


def test_compare_of_groups_of_runs_states_n_and_warns_below_three(text_file, tmp_path):
    runs = {}
    for name, lr in (("a", "0.001"), ("b", "0.01")):
        for seed in (1, 2):
            out = tmp_path / f"{name}{seed}"
            assert _train(text_file, out, "--seed", str(seed), "--learning-rate", lr,
                          "--max-iters", "4").exit_code == 0
            runs.setdefault(name, []).append(str(out))
    res = runner.invoke(app, ["compare", ",".join(runs["a"]), ",".join(runs["b"]),
                              "--max-tokens", "300"], env=WIDE)
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    for needle in ("A: 2 runs", "B: 2 runs", "Welch interval over runs", "Welch's t-test",
                   "warning: only 2 runs", "variation between runs"):
        assert needle in out, needle
    one = runner.invoke(app, ["compare", ",".join(runs["a"]), runs["b"][0]], env=WIDE)
    _clean_failure(one, "compare:", "group B has 1 run", "at least 2 runs")


# ------------------------------------------------------------------ figures
def test_loss_figure_marks_the_evaluations_and_the_uniform_baseline(run):
    from llmmath.train.plots import loss_figure

    records = read_metrics(run / "metrics.jsonl")
    V = load_model(run).tokenizer.vocab_size
    fig = loss_figure(records, vocab_size=V)
    lines = {line.get_label(): line for line in fig.axes[0].lines}
    eval_steps = [r["step"] for r in records if r["kind"] == "eval"]
    assert eval_steps == [0, 3, 6]
    for split in ("train", "val"):
        line = lines[f"{split} (estimate)"]
        assert list(line.get_xdata()) == eval_steps and line.get_marker() not in ("None", "")
        assert list(line.get_ydata()) == [r[split] for r in records if r["kind"] == "eval"]
    uniform = next(line for label, line in lines.items() if label.startswith("uniform"))
    assert all(y == pytest.approx(math.log(V), rel=1e-15) for y in uniform.get_ydata())
    assert f"log {V}" in uniform.get_label()
    # the PNG the run wrote is this figure
    assert (run / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_attention_figure_has_token_labels_a_colour_bar_and_the_spectra(run):
    from scipy.linalg import eigvals

    from llmmath.inspect_attention import _label, attention_figure, inspect_prompt

    prompt = "the king is dead"
    ins = inspect_prompt(run, prompt)
    fig = attention_figure(ins)
    tokens = [_label(t) for t in ins.tokens]
    assert tokens[:4] == ["t", "h", "e", "␣"]
    axes = {ax.get_label(): ax for ax in fig.axes}
    bar = next(im.colorbar for ax in fig.axes for im in ax.get_images() if im.colorbar)
    assert bar.ax is axes["colour bar"]                # one colour bar, for every heatmap
    L, H, T, _ = ins.weights.shape
    for layer in range(L):
        for head in range(H):
            ax = axes[f"L{layer} H{head}"]
            assert [t.get_text() for t in ax.get_xticklabels()] == tokens
            assert [t.get_text() for t in ax.get_yticklabels()] == tokens
            image = ax.get_images()[0]
            np.testing.assert_array_equal(image.get_array(), ins.weights[layer, head])
            assert image.norm is bar.norm and (bar.vmin, bar.vmax) == (0.0, 1.0)
        spectra = axes[f"spectrum L{layer}"].lines
        assert len(spectra) == H
        for head, line in enumerate(spectra):
            ref = np.sort(np.abs(eigvals(ins.weights[layer, head].astype(np.float64))))[::-1]
            np.testing.assert_allclose(line.get_ydata(), ref, atol=1e-12)
            # causal: the eigenvalues are the diagonal, the first one position 0's 1
            np.testing.assert_allclose(
                line.get_ydata(), np.sort(np.diag(ins.weights[layer, head]))[::-1], atol=1e-12)


def test_long_prompts_label_every_kth_token(run):
    from llmmath.inspect_attention import MAX_TICK_LABELS, _label, attention_figure, inspect_prompt

    ins = inspect_prompt(run, "and so to bed " * 2)      # 28 tokens, cut to block_size (16)
    T = ins.weights.shape[-1]
    assert T == 16 <= MAX_TICK_LABELS
    ax = attention_figure(ins).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [_label(t) for t in ins.tokens]
    from llmmath.inspect_attention import _ticks

    assert _ticks(100) == list(range(0, 100, 3)) and len(_ticks(100)) <= MAX_TICK_LABELS


def test_attention_table_says_a_float64_copy_agrees(run, tmp_path):
    res = runner.invoke(app, ["attention", str(run), "--prompt", "the", "-o",
                              str(tmp_path / "a.png")], env=WIDE)
    assert res.exit_code == 0, res.output
    assert "a float64 copy agrees with the model to" in res.output
    assert "NumPy replica" not in res.output


# ----------------------------------------------------------- verify --show
def test_verify_show_prints_a_lambda_as_a_function_with_its_helpers():
    res = runner.invoke(app, ["verify", "--show", "001-attention-exp-sum"], env=WIDE)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "def ours():" in out and "return float(_exp_row0().sum())" in out
    assert "ours=lambda" not in out and "reference=" not in out
    assert "def _exp_row0():" in out and "def _scaled_row0():" in out   # what it calls
    assert "Q = np.array(" in out                                    # and the data it uses


def test_verify_show_prints_a_factory_reference_with_the_values_it_was_given():
    res = runner.invoke(app, ["verify", "--show", "000-softmax-example"], env=WIDE)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "def reference():" in out and "return _softmax(logits, axis)" in out
    assert "logits = [1.0, 2.0, 0.5]" in out and "axis = -1" in out
    assert "return lambda" not in out and "def _softmax(x, axis=-1):" in out


def test_every_claims_computation_prints_as_valid_python():
    import ast

    from llmmath.commands.verify import _source_of
    from llmmath.ledger import claims

    shown = 0
    for c in claims():
        for role, fn in (("ours", c.ours), ("reference", c.reference)):
            if fn is None:
                continue
            code = _source_of(fn, role)
            ast.parse(code)                               # a SyntaxError fails the test
            assert not any(line.lstrip().startswith(("ours=", "reference=", "return lambda"))
                           for line in code.splitlines()), (c.id, role, code)
            shown += 1
    assert shown > 200
