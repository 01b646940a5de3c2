"""nn: module bookkeeping (names, order, state dicts, modes) and the layers' initialisation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from llmmath.autograd import Parameter, Tensor
from llmmath.errors import InvalidTypeError, InvalidValueError, ShapeError
from llmmath.nn import (
    GPT,
    MLP,
    Block,
    CausalSelfAttention,
    Dropout,
    Embedding,
    GPTConfig,
    LayerNorm,
    Linear,
    Module,
    ModuleList,
)

SMALL = GPTConfig(block_size=8, vocab_size=13, n_layer=2, n_head=2, n_embd=8)


class Tiny(Module):
    def __init__(self):
        self.first = Linear(3, 4, rng=0)
        self.scale = Parameter(np.ones(4))
        self.blocks = ModuleList([LayerNorm(4), Linear(4, 2, bias=False, rng=1)])
        self.not_a_param = Tensor(np.zeros(2))

    def forward(self, x):
        h = self.first(x) * self.scale
        for m in self.blocks:
            h = m(h)
        return h


def test_named_parameters_follow_attribute_order_like_torch():
    names = [n for n, _ in Tiny().named_parameters()]
    assert names == ["first.weight", "first.bias", "scale", "blocks.0.weight", "blocks.0.bias",
                     "blocks.1.weight"]
    assert len(Tiny().parameters()) == 6


def test_state_dict_round_trip_and_strict_errors():
    a, b = Tiny(), Tiny()
    b.first.weight.data += 1.0
    sd = a.state_dict()
    sd["scale"][0] = 7.0                           # a copy: the model is not touched
    assert a.scale.data[0] == 1.0                  # exact: initialised to ones, untouched
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    missing = a.state_dict()
    del missing["scale"]
    with pytest.raises(InvalidValueError, match=r"missing keys \['scale'\]"):
        b.load_state_dict(missing)
    extra = {**a.state_dict(), "ghost": np.zeros(1)}
    with pytest.raises(InvalidValueError, match=r"unexpected keys \['ghost'\]"):
        b.load_state_dict(extra)
    b.load_state_dict(missing, strict=False)
    wrong = {**a.state_dict(), "scale": np.zeros(5)}
    with pytest.raises(ShapeError, match=r"'scale' has shape \(5,\).*\(4,\)"):
        b.load_state_dict(wrong)
    with pytest.raises(InvalidTypeError):
        b.load_state_dict([1, 2])


def test_load_state_dict_keeps_the_parameter_dtype():
    m = Linear(2, 2, rng=0)
    m.load_state_dict({"weight": np.ones((2, 2)), "bias": np.zeros(2)})
    assert m.weight.dtype == np.float32 and m.weight.data[0, 0] == 1.0   # exact: 1.0 is a float32


def test_train_eval_and_zero_grad_reach_every_submodule():
    m = Tiny()
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    assert all(x.training for x in m.modules())
    m(np.ones((2, 3), np.float32)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(not p.grad.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_layers_initialise_like_torch_defaults():
    from scipy import stats

    lin = Linear(100, 50, rng=0)
    bound = 1 / np.sqrt(100)
    w, b = lin.weight.data.astype(np.float64).ravel(), lin.bias.data.astype(np.float64)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # filling U(-bound, bound), not merely staying inside it: Kolmogorov-Smirnov on the 5000
    # weights (fixed seed, so the p-value is the same every run), and the bias is not all ~0
    assert stats.kstest(w, stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3
    assert np.abs(b).max() > bound / 2
    assert lin.weight.shape == (50, 100) and lin.weight.dtype == np.float32
    emb = Embedding(500, 20, rng=0, dtype=np.float64)
    assert stats.kstest(emb.weight.data.ravel(), "norm").pvalue > 1e-3    # N(0, 1), as torch
    assert emb.weight.dtype == np.float64
    ln = LayerNorm(5, bias=False)
    assert [n for n, _ in ln.named_parameters()] == ["weight"]
    assert (ln.weight.data == 1).all()


@pytest.mark.torch
def test_linear_and_layer_norm_modules_match_torch():
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    lin, tlin = Linear(5, 6, dtype=np.float64, rng=0), torch.nn.Linear(5, 6).double()
    tlin.load_state_dict({k: torch.from_numpy(v) for k, v in lin.state_dict().items()})
    np.testing.assert_allclose(lin(x).data, tlin(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-12)
    ln, tln = LayerNorm(5, dtype=np.float64), torch.nn.LayerNorm(5).double()
    np.testing.assert_allclose(ln(Tensor(x)).data, tln(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_dropout_module_is_identity_in_eval_mode():
    d = Dropout(0.5, rng=0)
    x = Tensor(np.ones(100))
    assert (d(x).data == 0).any()
    d.eval()
    assert d(x) is x


def test_layer_constructors_and_inputs_refuse_bad_arguments():
    with pytest.raises(InvalidValueError, match="Linear: argument 'in_features' must be >= 1"):
        Linear(0, 3)
    with pytest.raises(InvalidValueError, match="Linear: argument 'out_features' must be >= 1"):
        Linear(3, 0)
    with pytest.raises(InvalidTypeError, match="Linear: argument 'in_features' must be an integer"):
        Linear(2.5, 3)
    with pytest.raises(InvalidTypeError, match="Linear: argument 'dtype' must be float32 or float64"):
        Linear(3, 2, dtype=np.int32)
    with pytest.raises(InvalidTypeError, match="Linear: argument 'rng'"):
        Linear(3, 2, rng="x")
    with pytest.raises(ShapeError, match=r"linear: 'x' of shape \(2, 4\)"):
        Linear(3, 2, rng=0)(np.ones((2, 4), np.float32))
    with pytest.raises(InvalidValueError, match="Embedding: argument 'num_embeddings' must be >= 1"):
        Embedding(0, 2)
    with pytest.raises(InvalidTypeError, match="Embedding: argument 'embedding_dim'"):
        Embedding(3, 2.0)
    emb = Embedding(5, 2, rng=0)
    with pytest.raises(InvalidValueError, match="argument 'indices' has value -1 below the minimum 0"):
        emb(np.array([-1]))
    with pytest.raises(InvalidValueError, match="argument 'indices' has value 5 above the maximum 4"):
        emb(np.array([5]))
    with pytest.raises(InvalidTypeError, match="argument 'indices' must hold integers"):
        emb(np.array([1.0]))
    with pytest.raises(InvalidValueError, match="LayerNorm: argument 'ndim' must be >= 1"):
        LayerNorm(0)
    with pytest.raises(ShapeError, match=r"layer_norm: argument 'weight' must have shape \(3,\)"):
        LayerNorm(4)(Tensor(np.ones((2, 3))))
    for p in (-0.1, 1.5):
        with pytest.raises(InvalidValueError, match="Dropout: argument 'p'"):
            Dropout(p)


def test_gpt_config_validation():
    with pytest.raises(InvalidValueError, match="divisible"):
        GPTConfig(n_embd=10, n_head=3)
    with pytest.raises(InvalidValueError, match="n_layer"):
        GPTConfig(n_layer=0)
    with pytest.raises(InvalidValueError, match="GPTConfig: argument 'vocab_size' must be >= 1"):
        GPTConfig(vocab_size=0)
    with pytest.raises(InvalidValueError, match="GPTConfig: argument 'dropout' must be < 1.0"):
        GPTConfig(dropout=1.0)
    with pytest.raises(InvalidTypeError):
        GPT({"n_layer": 1})


def test_gpt_shares_the_output_matrix_with_the_token_embedding():
    model = GPT(SMALL, rng=0)
    assert model.lm_head.weight is model.transformer.wte.weight
    names = [n for n, _ in model.named_parameters()]
    assert "lm_head.weight" not in names and names[0] == "transformer.wte.weight"
    sd = model.state_dict()
    assert "lm_head.weight" in sd and "transformer.wte.weight" in sd


def test_gpt_initialisation_follows_nanogpt():
    cfg = GPTConfig(block_size=64, vocab_size=200, n_layer=4, n_head=4, n_embd=64)
    model = GPT(cfg, rng=0)
    sd = model.state_dict()
    assert abs(sd["transformer.wte.weight"].std() - 0.02) < 0.002
    assert abs(sd["transformer.h.0.mlp.c_fc.weight"].std() - 0.02) < 0.002
    proj = np.concatenate([sd[f"transformer.h.{i}.{m}.c_proj.weight"].ravel()
                           for i in range(4) for m in ("attn", "mlp")])
    assert abs(proj.std() - 0.02 / np.sqrt(2 * 4)) < 0.0005
    assert not sd["transformer.h.0.attn.c_attn.bias"].any()
    assert (sd["transformer.h.0.ln_1.weight"] == 1).all()
    assert sd["transformer.h.0.attn.c_attn.weight"].shape == (3 * 64, 64)


@pytest.mark.torch
def test_num_params_matches_torch_count():
    from torch_gpt import TorchGPT
    for bias in (True, False):
        cfg = GPTConfig(block_size=8, vocab_size=13, n_layer=2, n_head=2, n_embd=8, bias=bias)
        ref = sum(p.numel() for p in TorchGPT(cfg).parameters())
        model = GPT(cfg, rng=0)
        assert model.num_params(non_embedding=False) == ref
        assert model.num_params() == ref - 8 * 8


def test_gpt_forward_shapes_and_input_errors():
    model = GPT(SMALL, rng=0)
    idx = np.zeros((2, 5), int)
    logits, loss = model(idx)
    assert logits.shape == (2, 1, 13) and loss is None
    logits, loss = model(idx, np.ones((2, 5), int))
    assert logits.shape == (2, 5, 13) and loss.shape == ()
    with pytest.raises(ShapeError, match="block_size"):
        model(np.zeros((1, 9), int))
    with pytest.raises(InvalidValueError, match="above the maximum"):
        model(np.full((1, 3), 13))
    with pytest.raises(InvalidTypeError):
        model(np.zeros((1, 3)))


def test_blocks_and_parts_run_alone():
    x = Tensor(np.random.default_rng(0).standard_normal((2, 4, 8)).astype(np.float32))
    for part in (CausalSelfAttention(SMALL, rng=0), MLP(SMALL, rng=0), Block(SMALL, rng=0)):
        assert part(x).shape == (2, 4, 8)


@pytest.mark.lesson_sampling
def test_generate_samples_through_prob_sample_and_restores_the_mode():
    model = GPT(SMALL, rng=0)
    out = model.generate(np.array([[1, 2]]), 10, temperature=0.8, top_k=5, rng=3)
    assert out.shape == (1, 12) and out.dtype == np.int64
    np.testing.assert_array_equal(out, model.generate(np.array([[1, 2]]), 10, temperature=0.8,
                                                      top_k=5, rng=3))
    assert model.training
    one = model.generate([4], 3, temperature=0.0)
    assert one.shape == (4,)                                   # 1 prompt token + 3
    assert one[0] == 4
    long = model.generate(np.zeros((2, 3), int), 12, rng=0)   # longer than block_size
    assert long.shape == (2, 15)
    with pytest.raises(ShapeError):
        model.generate(np.zeros((1, 0), int), 2)


@pytest.mark.lesson_sampling
def test_greedy_generation_picks_the_argmax_each_step():
    model = GPT(SMALL, rng=1, dtype=np.float64)
    seq = model.generate(np.array([[3]]), 6, temperature=0.0)
    for t in range(1, seq.shape[1]):
        logits, _ = model(seq[:, :t])
        assert seq[0, t] == int(np.argmax(logits.data[0, -1]))


def test_module_list_refuses_non_modules() -> None:
    from llmmath.nn import ModuleList

    with pytest.raises(InvalidTypeError, match="ModuleList: item 1 must be a Module"):
        ModuleList([Linear(2, 2), 3])
