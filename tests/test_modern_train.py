"""Training the Llama-style model, and bits per character for char and BPE runs.

The architecture is a setting (``arch``), recorded in the checkpoint; a llama
run trains, resumes bit for bit and loads back as a Llama. Bits per
character are checked against hand computations: the split's own token and
character counts, and token losses recomputed from the model's logits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from llmmath.checkpoint import load_checkpoint
from llmmath.cli import app
from llmmath.data import load_corpus
from llmmath.errors import InvalidValueError
from llmmath.evaluate import evaluate_model
from llmmath.nn import GPT, Llama
from llmmath.train import Trainer, load_model, preset_config, read_metrics, train

pytestmark = [pytest.mark.lesson_training_loop, pytest.mark.lesson_tokenization]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "macbeth.txt"
    path.write_text(load_corpus().documents["macbeth"][:12_000], encoding="utf-8")
    return path


def small(text_file, out, **kw):
    base = dict(text=str(text_file), arch="llama", n_layer=2, n_head=2, n_embd=16,
                block_size=16, batch_size=4, dropout=0.1, max_iters=12, lr_decay_iters=12,
                warmup_iters=2, eval_interval=6, eval_iters=2, out_dir=str(out))
    return preset_config("tiny", **{**base, **kw})


def test_llama_trains_and_its_loss_falls(text_file, tmp_path):
    cfg = small(text_file, tmp_path / "a", max_iters=40, lr_decay_iters=40, eval_interval=40,
                dropout=0.0, learning_rate=1e-2)
    res = train(cfg, plot=False)
    assert isinstance(res.trainer.model, Llama)
    losses = [res.losses[s] for s in sorted(res.losses)]
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.5
    assert res.evals[-1]["val"] < res.evals[0]["val"] - 0.5


def test_llama_resume_is_bit_identical(text_file, tmp_path):
    straight = train(small(text_file, tmp_path / "a"), plot=False)
    train(small(text_file, tmp_path / "b", max_iters=6), plot=False)
    second = train(resume=tmp_path / "b", overrides={"max_iters": 12}, plot=False)
    sa, sb = straight.trainer.model.state_dict(), second.trainer.model.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:      # the same operations in the same order: exactly equal by construction
        assert np.array_equal(sa[k], sb[k]), k
    la = {r["step"]: r["loss"] for r in read_metrics(tmp_path / "a" / "metrics.jsonl")
          if r["kind"] == "train"}
    lb = {r["step"]: r["loss"] for r in read_metrics(tmp_path / "b" / "metrics.jsonl")
          if r["kind"] == "train"}
    assert la == lb and len(la) == 12
    assert len(straight.trainer.generators()) == 2          # batches and dropout, restored


def test_checkpoint_records_the_architecture_and_loads_as_llama(text_file, tmp_path):
    res = train(small(text_file, tmp_path / "c", max_iters=2, rope_theta=500.0,
                      tie_embeddings=False, ffn_hidden=24), plot=False)
    header = load_checkpoint(res.checkpoint).header
    assert header["config"]["arch"] == "llama"
    # exact: settings stored and read back, no arithmetic
    assert header["gpt_config"]["rope_theta"] == 500.0 and header["gpt_config"]["ffn_hidden"] == 24
    m = load_model(tmp_path / "c")
    assert isinstance(m.model, Llama) and not m.model.training
    assert m.model.output.weight is not m.model.tok_embeddings.weight
    x = np.arange(16)[None] % m.tokenizer.vocab_size
    res.trainer.model.eval()
    assert np.array_equal(m.model(x)[0].data, res.trainer.model(x)[0].data)
    with pytest.raises(ValueError, match="arch: checkpoint 'llama', asked 'gpt2'"):
        train(resume=tmp_path / "c", overrides={"arch": "gpt2", "max_iters": 4})
    gpt = train(small(text_file, tmp_path / "g", arch="gpt2", max_iters=1), plot=False)
    assert isinstance(load_model(gpt.checkpoint).model, GPT)
    assert load_checkpoint(gpt.checkpoint).header["config"]["arch"] == "gpt2"


def test_llama_settings_are_refused_for_gpt2():
    with pytest.raises(InvalidValueError, match="rope_theta apply only to arch 'llama'"):
        preset_config("tiny", rope_theta=100.0)
    with pytest.raises(InvalidValueError, match="arch"):
        preset_config("tiny", arch="mamba")
    with pytest.raises(InvalidValueError, match="needs an even head size"):
        preset_config("tiny", arch="llama", n_embd=30, n_head=10)


@pytest.mark.parametrize("tokenizer", ["char", "bpe"])
def test_eval_records_carry_bits_per_char_by_hand(text_file, tmp_path, tokenizer):
    res = train(small(text_file, tmp_path / tokenizer, tokenizer=tokenizer, vocab_size=300,
                      max_iters=2, eval_interval=2), plot=False)
    data = res.trainer.data
    tok = data.tokenizer
    for record in [r for r in read_metrics(res.metrics) if r["kind"] == "eval"]:
        for split in ("train", "val"):
            text = getattr(data.corpus, split)
            n_tokens = len(tok.encode(text))                    # the split, encoded anew
            hand = record[split] / math.log(2) * n_tokens / len(text)
            assert abs(record[f"{split}_bits_per_char"] - hand) <= 1e-12 * hand
            if tokenizer == "char":                             # one token per character
                assert abs(record[f"{split}_bits_per_char"] - record[split] / math.log(2)) \
                    <= 1e-12 * record[split]
    if tokenizer == "bpe":
        assert len(tok.encode(data.corpus.val)) < 0.8 * len(data.corpus.val)   # it compresses


def test_llmmath_eval_bits_per_char_by_hand(text_file, tmp_path):
    res = train(small(text_file, tmp_path / "e", tokenizer="bpe", vocab_size=300, max_iters=3,
                      dropout=0.0), plot=False)
    ev = evaluate_model(res.checkpoint, split="val", max_tokens=100, baselines=())
    m = load_model(res.checkpoint)
    ids = m.tokenizer.encode(res.trainer.data.corpus.val)[:101]
    T, total = m.config.block_size, 0.0
    for s in range(0, len(ids) - 1, T):                          # non-overlapping blocks
        x, y = np.array(ids[s:s + T]), np.array(ids[s + 1:s + T + 1])
        x = x[:len(y)]
        logits = m.model(x[None], y[None])[0].data[0].astype(np.float64)   # (T, V)
        z = logits - logits.max(-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        total -= logp[np.arange(len(y)), y].sum()
    n_chars = len(m.tokenizer.decode(ids[1:]))
    row = ev.rows[-1]
    assert row.name == "Llama (step 3)"                         # the row says what model it is
    assert ev.n_tokens == 100 and ev.n_chars == n_chars
    assert abs(row.nats_per_token - total / 100) < 1e-5
    assert abs(row.bits_per_char - total / math.log(2) / n_chars) < 1e-5


def test_cli_trains_a_llama_and_prints_bits_per_char(text_file, tmp_path):
    out = tmp_path / "cli"
    res = CliRunner().invoke(app, [
        "train", "--preset", "tiny", "--set", "arch=llama", "--text", str(text_file),
        "--out", str(out), "--max-iters", "2", "--set", "eval_interval=2", "--n-embd", "16",
        "--block-size", "16", "--batch-size", "2", "--eval-iters", "1", "--no-progress",
        "--no-plot"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "bits/char" in res.output and "nats/token" in res.output
    assert isinstance(load_model(out).model, Llama)
    sample = CliRunner().invoke(app, ["sample", str(out), "-n", "5", "--seed", "0"])
    assert sample.exit_code == 0, sample.output


def test_a_trainer_builds_what_arch_names(text_file):
    for arch, cls in (("gpt2", GPT), ("llama", Llama)):
        tr = Trainer(preset_config("tiny", text=str(text_file), arch=arch, block_size=8,
                                   n_embd=16))
        assert isinstance(tr.model, cls)
        assert tr.model.config is tr.gpt_config


def test_attention_inspection_reads_a_llama_checkpoint(text_file, tmp_path):
    from llmmath.inspect_attention import inspect_prompt

    res = train(small(text_file, tmp_path / "i", max_iters=1, dtype="float32"), plot=False)
    inspection = inspect_prompt(res.checkpoint, "to be or not")
    w = inspection.weights                                       # (n_layer, nh, T, T)
    assert w.shape[:2] == (2, 2)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-9)
    assert np.all(np.triu(w, 1) == 0)                            # causal: exact zeros
