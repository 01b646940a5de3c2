"""The torch engine: the same run as llmmath's, checkpoints across engines, data-parallel
training on two processes, export to and import from nanoGPT's ckpt.pt, and the messages for
what cannot work.

The references are independent of the code under test: llmmath's own engine (a
checkpoint continued by each engine), one process with the doubled batch (for
two data-parallel processes), and ``tests/torch_gpt.py``, a separate PyTorch
rewrite of nanoGPT's model.py, loading an exported file the way nanoGPT's
sample.py does.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from llmmath.checkpoint import load_checkpoint, save_checkpoint
from llmmath.cli import app
from llmmath.commands.interop import MODEL_ARGS, export_nanogpt, import_nanogpt, read_meta
from llmmath.data import load_corpus
from llmmath.nn import GPT, GPTConfig
from llmmath.tokenizers import CharTokenizer
from llmmath.train import Trainer, load_model, preset_config, read_metrics
from llmmath.train.engine_torch import TorchTrainer
from torch_gpt import TorchGPT

pytestmark = [pytest.mark.torch]

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(n_layer=1, n_head=2, n_embd=16, block_size=16, batch_size=4, eval_iters=2,
             warmup_iters=2, grad_clip=0.5)


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "hamlet.txt"
    path.write_text(load_corpus().documents["hamlet"][:12_000], encoding="utf-8")
    return path


def config(text_file, out, **kw):
    return preset_config("tiny", **{**SMALL, "text": str(text_file), "out_dir": str(out),
                                    "max_iters": 40, "lr_decay_iters": 40, **kw})


def steps(trainer, n):
    return [trainer.train_step() for _ in range(n)]


def test_importing_the_package_and_the_command_does_not_import_torch():
    code = ("import sys, llmmath.train, llmmath.cli, llmmath.commands.interop; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


# ------------------------------------------------------------- one run, two engines

@pytest.mark.parametrize("first, then", [(Trainer, TorchTrainer), (TorchTrainer, Trainer)],
                         ids=["llmmath->torch", "torch->llmmath"])
def test_a_checkpoint_continues_under_the_other_engine_with_the_same_losses(
        text_file, tmp_path, first, then):
    cfg = config(text_file, tmp_path / "run", dtype="float64", weight_decay=0.1)
    kw = {"device": "cpu"} if first is TorchTrainer else {}
    a = first(cfg, **kw)
    steps(a, 6)
    a.save(tmp_path / "run" / "ckpt.npz")
    header = load_checkpoint(tmp_path / "run" / "ckpt.npz").header
    assert header["engine"] == ("torch" if first is TorchTrainer else "llmmath")
    same = first.from_checkpoint(tmp_path / "run")        # the reference: the engine that wrote it
    other = then.from_checkpoint(tmp_path / "run")
    ref, got = steps(same, 6), steps(other, 6)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5)
    w_ref, w_got = same.model.state_dict(), other.model.state_dict()
    for k in w_ref:
        np.testing.assert_allclose(w_got[k], w_ref[k], rtol=0, atol=1e-8, err_msg=k)
    e_ref, e_got = same.estimate_loss(), other.estimate_loss()
    assert abs(e_ref["val"] - e_got["val"]) < 1e-5 and abs(e_ref["train"] - e_got["train"]) < 1e-5


def test_a_torch_run_with_dropout_resumes_exactly(text_file, tmp_path):
    # the dropout masks come from seeds drawn from the checkpointed NumPy generator
    cfg = config(text_file, tmp_path / "a", dtype="float64", dropout=0.2)
    straight = TorchTrainer(cfg, device="cpu")
    ref = steps(straight, 8)
    half = TorchTrainer(cfg, device="cpu")
    first = steps(half, 4)
    half.save(tmp_path / "a" / "ckpt.npz")
    rest = steps(TorchTrainer.from_checkpoint(tmp_path / "a"), 4)
    # float64 on the CPU: a rebuilt module may round differently in its last bits (memory
    # alignment picks the kernel), far below 1e-12
    np.testing.assert_allclose(first + rest, ref, rtol=1e-12)
    no_dropout = steps(TorchTrainer(dataclasses.replace(cfg, dropout=0.0), device="cpu"), 8)
    assert np.min(np.abs(np.subtract(no_dropout[1:], ref[1:]))) > 1e-6   # the masks act


def test_train_engine_torch_command_writes_the_usual_run(text_file, tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(app, ["train", "--engine", "torch", "--text", str(text_file), "--out",
                              str(out), "--max-iters", "6", "--eval-interval", "3",
                              "--n-layer", "1", "--n-embd", "16", "--block-size", "16",
                              "--batch-size", "4", "--eval-iters", "1", "--no-progress",
                              "--no-plot"])
    assert res.exit_code == 0, res.output
    assert "done: step 6" in res.output
    m = load_model(out)
    assert m.step == 6 and m.header["engine"] == "torch" and m.header["world_size"] == 1
    assert [r["step"] for r in read_metrics(out / "metrics.jsonl") if r["kind"] == "eval"] == \
        [0, 3, 6]


# ------------------------------------------------------------- two data-parallel processes

def _default_stop_signals():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def test_two_process_ddp_equals_one_process_with_the_doubled_batch_and_stops_on_ctrl_c(
        text_file, tmp_path):
    """Two gloo ranks on 127.0.0.1, each with batch_size 4 of a global batch of 8, against one
    process with batch_size 8; Ctrl-C (SIGINT to the terminal's whole process group) stops
    both ranks after the same step, rank 0 saving the checkpoint."""
    out, scratch = tmp_path / "ddp", tmp_path / "tmp"
    scratch.mkdir()
    cfg = config(text_file, out, dtype="float64", max_iters=10**6, lr_decay_iters=50,
                 eval_interval=10**6, checkpoint_interval=10**6)
    sets = [a for k, v in dataclasses.asdict(cfg).items() if k != "out_dir"
            for a in ("--set", f"{k}={v}")]
    cmd = [sys.executable, "-m", "llmmath.cli", "train", "--engine", "torch", "--nproc", "2",
           "--out", str(out), "--no-progress", "--no-plot", *sets]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "TMPDIR": str(scratch),
           "CUDA_VISIBLE_DEVICES": ""}                    # gloo, whatever the machine has
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, preexec_fn=_default_stop_signals, start_new_session=True)
    metrics = out / "metrics.jsonl"
    deadline = time.monotonic() + 300     # a hang guard for a loaded machine, not a timing check
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if metrics.exists() and sum(json.loads(line)["kind"] == "train"
                                        for line in metrics.read_text().splitlines()[:-1]) >= 10:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[0]
        os.killpg(proc.pid, signal.SIGINT)               # what Ctrl-C in a terminal does
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, output
    assert "Interrupted at step" in output and "Traceback" not in output
    ck = load_checkpoint(out / "ckpt.npz")
    k = ck.header["step"]
    assert k >= 10 and ck.header["world_size"] == 2 and ck.header["engine"] == "torch"
    records = read_metrics(metrics)
    assert records[-1] == {"kind": "interrupt", "step": k, "signal": "SIGINT"}
    ddp_losses = [r["loss"] for r in records if r["kind"] == "train"]
    assert len(ddp_losses) == k
    assert sorted(p.name for p in out.iterdir()) == ["ckpt.npz", "metrics.jsonl"]   # rank 0's
    assert [p.name for p in scratch.iterdir() if p.name.startswith(("llmmath", "torchelastic"))
            ] == []                                      # scratch dirs and launcher logs removed

    one = TorchTrainer(dataclasses.replace(cfg, batch_size=8), device="cpu")
    losses = steps(one, k)
    np.testing.assert_allclose(ddp_losses, losses, rtol=0, atol=1e-5)
    diff = max(float(np.max(np.abs(ck.arrays[f"model/{n}"] - w)))
               for n, w in one.model.state_dict().items())
    assert diff < 1e-5, diff


# ------------------------------------------------------------- nanoGPT's ckpt.pt

@pytest.fixture(scope="module")
def run_dir(text_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    tr = Trainer(config(text_file, out, n_layer=2, bias=True))
    steps(tr, 5)
    tr.save(out / "ckpt.npz")
    return out


@dataclasses.dataclass
class NanoGPTConfig:
    """nanoGPT's GPTConfig, field for field: sample.py builds one from model_args."""

    block_size: int = 1024
    vocab_size: int = 50304
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True


def test_export_loads_as_nanogpts_sample_py_loads_it_and_gives_the_same_logits(run_dir,
                                                                                tmp_path):
    r = export_nanogpt(run_dir, tmp_path / "nano" / "ckpt.pt")
    checkpoint = torch.load(r.path, map_location="cpu", weights_only=True)   # sample.py's load
    assert set(checkpoint["model_args"]) == set(MODEL_ARGS)
    model = TorchGPT(NanoGPTConfig(**checkpoint["model_args"]))
    model.load_state_dict(checkpoint["model"])                               # strict
    model.eval()
    sd = checkpoint["model"]
    assert sd["lm_head.weight"].data_ptr() == sd["transformer.wte.weight"].data_ptr()   # tied
    assert checkpoint["iter_num"] == 5 and "dataset" in checkpoint["config"]

    ours = load_model(run_dir)
    x = np.random.default_rng(0).integers(0, ours.model.config.vocab_size, (3, 16))
    with torch.no_grad():
        theirs = model(torch.from_numpy(x), torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(theirs, ours.model(x, x)[0].data, rtol=0, atol=1e-6)

    with open(r.meta, "rb") as f:                      # nanoGPT's own pickle.load
        meta = pickle.load(f)
    text = "To be, or not to be"
    assert [meta["stoi"][c] for c in text] == ours.tokenizer.encode(text).tolist()
    assert "".join(meta["itos"][i] for i in ours.tokenizer.encode(text)) == text
    assert meta["vocab_size"] == ours.model.config.vocab_size

    # nanoGPT's train.py resume: its two AdamW groups take the exported state
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": rest, "weight_decay": 0.0}], lr=1e-3)
    opt.load_state_dict(checkpoint["optimizer"])
    saved = load_checkpoint(run_dir / "ckpt.npz")
    first = opt.state[decay[0]]["exp_avg"].numpy()
    np.testing.assert_array_equal(first, saved.arrays["optim/state/0/exp_avg"])
    assert opt.param_groups[0]["decoupled_weight_decay"] is True    # still AdamW


def test_export_then_import_gives_back_the_same_checkpoint(run_dir, tmp_path):
    pt = export_nanogpt(run_dir, tmp_path / "x" / "ckpt.pt").path
    back = import_nanogpt(pt, tmp_path / "back")
    a, b = load_checkpoint(run_dir / "ckpt.npz"), load_checkpoint(back)
    assert sorted(a.arrays) == sorted(b.arrays)
    for k, v in a.arrays.items():
        assert b.arrays[k].dtype == v.dtype
        np.testing.assert_array_equal(b.arrays[k], v, err_msg=k)
    ha, hb = dict(a.header), dict(b.header)
    assert ha.pop("config").pop("out_dir") != hb.pop("config").pop("out_dir")
    assert ha == hb
    resumed = Trainer.from_checkpoint(back)
    original = Trainer.from_checkpoint(run_dir)
    # the same arrays and header: the same computation, bit for bit
    assert steps(resumed, 2) == steps(original, 2)


def test_import_of_a_checkpoint_trained_by_nanogpt_needs_and_uses_its_meta(tmp_path):
    chars = "\n !',.?abcdefghijklmnopqrstuvwxyz"
    cfg = NanoGPTConfig(block_size=16, vocab_size=len(chars), n_layer=1, n_head=2, n_embd=16)
    torch.manual_seed(0)
    model = TorchGPT(cfg)
    pt = tmp_path / "ckpt.pt"
    torch.save({"model": {"_orig_mod." + k: v for k, v in model.state_dict().items()},
                "model_args": dataclasses.asdict(cfg), "iter_num": 250, "best_val_loss":
                torch.tensor(1.5), "config": {"dataset": "shakespeare_char", "batch_size": 12}},
               pt)
    meta = tmp_path / "meta.pkl"
    with open(meta, "wb") as f:    # as nanoGPT's data/shakespeare_char/prepare.py writes it
        pickle.dump({"vocab_size": len(chars), "itos": dict(enumerate(chars)),
                     "stoi": {c: i for i, c in enumerate(chars)}}, f)
    res = runner.invoke(app, ["import", str(pt), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1 and "--meta" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["import", str(pt), "-o", str(tmp_path / "out"), "--meta",
                              str(meta)])
    assert res.exit_code == 0, res.output
    m = load_model(tmp_path / "out")
    assert m.step == 250 and m.config.batch_size == 12 and m.header["engine"] == "nanogpt"
    x = m.tokenizer.encode("to be, or not to")[None, :]   # T = block_size
    assert x.tolist()[0] == [chars.index(c) for c in "to be, or not to"]
    model.eval()
    with torch.no_grad():
        ref = model(torch.from_numpy(x), torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(m.model(x, x)[0].data, ref, rtol=0, atol=1e-6)


# ------------------------------------------------------------- what cannot work, said clearly

def test_nproc_beyond_the_machine_is_a_clear_message(tmp_path):
    res = runner.invoke(app, ["train", "--engine", "torch", "--nproc", "100000", "--out",
                              str(tmp_path / "o")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "--nproc" in res.output and ("os.cpu_count" in res.output or "GPU" in res.output)
    assert not (tmp_path / "o").exists()
    res = runner.invoke(app, ["train", "--nproc", "2", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "--engine torch" in res.output


def test_missing_torch_says_how_to_install_it(run_dir, tmp_path, monkeypatch):
    import llmmath.train

    for name in ("engine_torch", "ddp"):            # as in a fresh process: not imported yet
        monkeypatch.delitem(sys.modules, f"llmmath.train.{name}", raising=False)
        monkeypatch.delattr(llmmath.train, name, raising=False)
    monkeypatch.setitem(sys.modules, "torch", None)      # `import torch` raises ImportError
    for args in (["train", "--engine", "torch", "--out", str(tmp_path / "o")],
                 ["export", str(run_dir), "-o", str(tmp_path / "x.pt")],
                 ["import", str(tmp_path / "x.pt"), "-o", str(tmp_path / "i")]):
        res = runner.invoke(app, args)
        assert res.exit_code == 1, (args, res.output)
        assert "pip install 'llmmath[torch]'" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_a_checkpoint_of_another_architecture_is_a_clear_message(text_file, run_dir, tmp_path):
    pt = tmp_path / "linear.pt"
    lin = torch.nn.Linear(4, 3)
    torch.save({"model": lin.state_dict(), "model_args": dataclasses.asdict(
        NanoGPTConfig(block_size=8, vocab_size=3, n_layer=1, n_head=1, n_embd=4))}, pt)
    res = runner.invoke(app, ["import", str(pt), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "not a GPT of nanoGPT's architecture" in res.output and "weight" in res.output

    exported = export_nanogpt(run_dir, tmp_path / "e" / "ckpt.pt").path   # 2 layers
    obj = torch.load(exported, weights_only=True)
    obj["model_args"]["n_layer"] = 3
    torch.save(obj, pt)
    res = runner.invoke(app, ["import", str(pt), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "transformer.h.2" in res.output

    other = tmp_path / "other.npz"                     # an llmmath file of another kind
    save_checkpoint(other, {"format": "llmmath-ngram", "version": 1}, {"w": np.zeros(2)})
    for args in (["train", "--engine", "torch", "--resume", str(other)],
                 ["export", str(other), "-o", str(tmp_path / "y.pt")]):
        res = runner.invoke(app, args)
        assert res.exit_code == 1 and "llmmath-gpt-train" in res.output, res.output

    ours = TorchTrainer(config(text_file, tmp_path / "t"), device="cpu")
    with pytest.raises(ValueError, match="not this model's architecture"):
        ours.model.load_state_dict(GPT(GPTConfig(block_size=16, vocab_size=5, n_layer=2,
                                                 n_head=2, n_embd=16)).state_dict())


def test_files_from_strangers_cannot_run_code(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    pt = tmp_path / "evil.pt"
    torch.save({"model": {"w": torch.zeros(1)}, "model_args": {}, "x": Payload()}, pt)
    res = runner.invoke(app, ["import", str(pt), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "weights_only" in res.output
    meta = tmp_path / "meta.pkl"
    meta.write_bytes(pickle.dumps({"itos": Payload()}))
    with pytest.raises(ValueError, match="not nanoGPT's meta.pkl"):
        read_meta(meta)
    assert not marker.exists()
    ok = CharTokenizer.fit("abc")
    meta.write_bytes(pickle.dumps({"itos": dict(enumerate("bac"))}))
    with pytest.raises(ValueError, match="sorted"):
        read_meta(meta)
    meta.write_bytes(pickle.dumps({"itos": dict(enumerate("abc"))}))
    assert read_meta(meta) == ok


def test_a_run_of_another_architecture_is_refused_by_the_torch_engine_and_export(text_file,
                                                                               tmp_path):
    out = tmp_path / "llama"
    tr = Trainer(config(text_file, out, arch="llama", bias=False))
    steps(tr, 1)
    tr.save(out / "ckpt.npz")
    for args in (["train", "--engine", "torch", "--resume", str(out), "--max-iters", "3"],
                 ["train", "--engine", "torch", "--nproc", "2", "--resume", str(out),
                  "--max-iters", "3"],
                 ["export", str(out), "-o", str(tmp_path / "l.pt")]):
        res = runner.invoke(app, args)
        assert res.exit_code == 1 and "Traceback" not in res.output, (args, res.output)
        assert "arch 'llama'" in res.output and "gpt2" in res.output, res.output
    assert not (tmp_path / "l.pt").exists()
    assert load_checkpoint(out / "ckpt.npz").header["step"] == 1      # untouched
