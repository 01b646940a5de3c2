"""The course: marimo notebooks, one per syllabus section, in course order.

Each lesson is a plain ``.py`` marimo notebook in this folder. ``LESSONS`` is
the single list the course home, ``llmmath lesson NAME``, the tests and the
study path read; its order is the syllabus order.

``min_tests`` is the number of ``test_`` cells a lesson must carry at least;
``tests/test_lessons.py`` collects them with pytest and fails a lesson that has
fewer. ``teaches`` names the library functions the lesson is about; its header
links each to a read-only view of its source served by the course server.
How to write a lesson: ``AUTHORING.md`` in this folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Lesson", "LESSONS", "LESSON_DIR", "PILLARS", "get_lesson", "neighbours"]

LESSON_DIR = Path(__file__).resolve().parent

# Every pillar a lesson may name (the course home groups lessons by pillar, in course order).
PILLARS: tuple[str, ...] = (
    "foundations", "linear algebra", "calculus", "probability",
    "information theory", "optimisation", "evaluation", "tools", "study path",
)


@dataclass(frozen=True)
class Lesson:
    name: str        # file stem and URL path: lessons/<name>.py, /lesson/<name>
    title: str
    pillar: str      # one of PILLARS
    summary: str
    min_tests: int = 3  # test_ cells the lesson must carry at least
    # The library code the lesson teaches, as dotted names of functions, classes,
    # methods or modules ("llmmath.prob.softmax"); the header links each one to
    # its source (llmmath.source_view finds the file when the page is drawn).
    teaches: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return LESSON_DIR / f"{self.name}.py"

    @property
    def number(self) -> int:
        """Position in the course, counting from 1."""
        return LESSONS.index(self) + 1


LESSONS: tuple[Lesson, ...] = (
    Lesson("why_math", "Why the mathematics matters", "foundations",
           "The LLM pipeline, stage by stage, and the mathematics each stage runs on.",
           min_tests=6,
           teaches=("llmmath.tokenizers.CharTokenizer", "llmmath.linalg.matmul",
                    "llmmath.attention.sinusoidal_positions",
                    "llmmath.attention.scaled_dot_product_attention", "llmmath.calculus.gelu",
                    "llmmath.prob.softmax", "llmmath.info.cross_entropy",
                    "llmmath.calculus.softmax_cross_entropy_grad",
                    "llmmath.prob.decoding_distribution", "llmmath.prob.sample")),
    Lesson("vectors", "Vectors, matrices and similarity", "linear algebra",
           "Dot products, norms, cosine similarity, matrix products and broadcasting.",
           min_tests=6,
           teaches=("llmmath.linalg.dot", "llmmath.linalg.norm",
                    "llmmath.linalg.cosine_similarity", "llmmath.linalg.matmul")),
    Lesson("attention", "Attention as matrix operations", "linear algebra",
           "QKᵀ, scaling by √d_k, a row-wise softmax and a weighted sum of values.",
           min_tests=6,
           teaches=("llmmath.attention.scaled_dot_product_attention",
                    "llmmath.attention.causal_mask", "llmmath.prob.softmax",
                    "llmmath.linalg.matmul")),
    Lesson("attention_spectrum", "Eigenvalues of attention", "linear algebra",
           "Row-stochastic matrices, the stationary distribution and the spectral gap.",
           min_tests=5,
           teaches=("llmmath.attention.stationary_distribution",
                    "llmmath.attention.spectral_gap", "llmmath.attention.causal_mask",
                    "llmmath.prob.softmax", "llmmath.info.entropy")),
    Lesson("rope", "Positions by rotation (RoPE)", "linear algebra",
           "Queries and keys turned by position: scores that depend only on the offset m − n.",
           min_tests=6,
           teaches=("llmmath.attention.rope", "llmmath.attention.rope_frequencies",
                    "llmmath.attention.sinusoidal_positions",
                    "llmmath.autograd.functional.rope", "llmmath.nn.Attention",
                    "llmmath.nn.LlamaConfig")),
    Lesson("svd_lora", "SVD, low-rank approximation and LoRA", "linear algebra",
           "Eckart-Young, the rank/error trade-off and LoRA's parameter count.",
           min_tests=4,
           teaches=("llmmath.linalg.low_rank_approx", "llmmath.linalg.lora_param_count",
                    "llmmath.linalg.lora_compression_ratio", "llmmath.autograd.Tensor",
                    "llmmath.optim.SGD")),
    Lesson("derivatives", "Derivatives, gradients and the chain rule", "calculus",
           "Partial derivatives, gradients and a computation graph drawn node by node.",
           min_tests=5,
           teaches=("llmmath.calculus.difference_quotient",
                    "llmmath.calculus.numerical_gradient", "llmmath.autograd.Value",
                    "llmmath.autograd.Value.backward")),
    Lesson("backprop", "Backpropagation", "calculus",
           "Reverse-mode differentiation: the chain rule applied backwards through a graph.",
           min_tests=5,
           teaches=("llmmath.autograd.Tensor", "llmmath.autograd.Tensor.backward",
                    "llmmath.calculus.numerical_gradient")),
    Lesson("softmax_jacobian", "The softmax Jacobian", "calculus",
           "∂pᵢ/∂zⱼ = pᵢ(δᵢⱼ − pⱼ), checked against finite differences.",
           min_tests=4,
           teaches=("llmmath.calculus.softmax_jacobian", "llmmath.calculus.jacobian",
                    "llmmath.prob.softmax")),
    Lesson("cross_entropy_grad", "The cross-entropy + softmax gradient", "calculus",
           "Why the gradient of the training loss with respect to the logits is p - y.",
           min_tests=5,
           teaches=("llmmath.calculus.softmax_cross_entropy_grad", "llmmath.prob.log_softmax",
                    "llmmath.prob.logsumexp", "llmmath.autograd.functional.cross_entropy",
                    "llmmath.calculus.numerical_gradient")),
    Lesson("activations", "ReLU, sigmoid and vanishing gradients", "calculus",
           "How activation derivatives multiply through depth.",
           min_tests=4,
           teaches=("llmmath.calculus.relu_grad", "llmmath.prob.sigmoid",
                    "llmmath.calculus.sigmoid_grad", "llmmath.calculus.tanh_grad",
                    "llmmath.calculus.gelu", "llmmath.calculus.gelu_grad",
                    "llmmath.calculus.difference_quotient")),
    Lesson("layernorm", "LayerNorm and its gradient", "calculus",
           "Normalisation and the three-term backward pass.",
           min_tests=6,
           teaches=("llmmath.calculus.layer_norm", "llmmath.calculus.layer_norm_backward",
                    "llmmath.autograd.functional.layer_norm",
                    "llmmath.calculus.numerical_gradient")),
    Lesson("rmsnorm_swiglu", "RMSNorm and SwiGLU", "calculus",
           "Llama's norm and gated feed-forward layer, their gradients against finite differences.",
           min_tests=7,
           teaches=("llmmath.calculus.rms_norm", "llmmath.calculus.rms_norm_backward",
                    "llmmath.calculus.silu", "llmmath.calculus.silu_grad",
                    "llmmath.calculus.swiglu", "llmmath.calculus.swiglu_backward",
                    "llmmath.autograd.functional.rms_norm", "llmmath.autograd.functional.swiglu",
                    "llmmath.nn.llama_hidden_size", "llmmath.calculus.numerical_gradient")),
    Lesson("random_variables", "Random variables, expectation and variance", "probability",
           "Distributions, sample means and the law of large numbers.",
           min_tests=5,
           teaches=("llmmath.prob.expectation", "llmmath.prob.variance",
                    "llmmath.prob.normal_pdf", "llmmath.info.mutual_information")),
    Lesson("mle", "The chain rule of probability and MLE", "probability",
           "Autoregressive factorisation, and why maximum likelihood is cross-entropy.",
           min_tests=6,
           teaches=("llmmath.prob.categorical_mle", "llmmath.prob.categorical_log_likelihood",
                    "llmmath.info.cross_entropy", "llmmath.info.kl_divergence",
                    "llmmath.ngram.NGramLM")),
    Lesson("ngrams", "The Markov assumption and n-gram models", "probability",
           "Counting, smoothing, Kneser-Ney and what a fixed context costs.",
           min_tests=6,
           teaches=("llmmath.ngram.NGramLM", "llmmath.data.load_corpus")),
    Lesson("bayes", "Bayes' rule in training", "probability",
           "Posteriors, weight decay as a Gaussian prior, and dropout.",
           min_tests=5,
           teaches=("llmmath.prob.bayes_posterior", "llmmath.prob.linear_gaussian_posterior",
                    "llmmath.prob.ridge_regression", "llmmath.prob.normal_logpdf",
                    "llmmath.autograd.functional.dropout", "llmmath.optim.Adam")),
    Lesson("sampling", "Sampling: greedy, temperature, top-k, top-p, min-p", "probability",
           "How decoding strategies reshape the next-token distribution.",
           min_tests=5,
           teaches=("llmmath.prob.softmax", "llmmath.prob.decoding_distribution",
                    "llmmath.prob.filter_top_k", "llmmath.prob.filter_top_p",
                    "llmmath.prob.filter_min_p", "llmmath.prob.sample",
                    "llmmath.info.entropy")),
    Lesson("information", "Entropy, cross-entropy, KL and perplexity", "information theory",
           "H(p, q) = H(p) + KL(p‖q), perplexity as effective choices, mutual information.",
           min_tests=5,
           teaches=("llmmath.info.entropy", "llmmath.info.cross_entropy",
                    "llmmath.info.kl_divergence", "llmmath.info.js_divergence",
                    "llmmath.info.perplexity", "llmmath.info.mutual_information",
                    "llmmath.info.nats_to_bits", "llmmath.info.bits_to_nats")),
    Lesson("tokenization", "Tokenization is compression", "information theory",
           "BPE merges step by step; characters per token and bits per character as V grows.",
           min_tests=5,
           teaches=("llmmath.tokenizers.learn_merges", "llmmath.tokenizers.count_pretokens",
                    "llmmath.tokenizers.Tokenizer", "llmmath.tokenizers.PreTokenizer",
                    "llmmath.tokenizers.vocab_from_merges", "llmmath.ngram.NGramLM")),
    Lesson("compression", "Language modelling is compression", "information theory",
           "An arithmetic coder driven by a model writes its cross-entropy in bits: the loss "
           "is a file size.",
           min_tests=8,
           teaches=("llmmath.compress.encode", "llmmath.compress.decompress",
                    "llmmath.compress.frequencies.quantize",
                    "llmmath.compress.arithmetic.Encoder", "llmmath.compress.arithmetic.Decoder",
                    "llmmath.compress.arithmetic.narrow", "llmmath.compress.models.NGramModel",
                    "llmmath.compress.report.classical_sizes")),
    Lesson("optimisation", "Loss landscapes, SGD noise, momentum and Adam", "optimisation",
           "Saddle points, gradient noise that shrinks as 1/|B|, and adaptive steps.",
           min_tests=7,
           teaches=("llmmath.landscape.run_optimizer", "llmmath.landscape.classify_point",
                    "llmmath.landscape.hessian_eigenvalues",
                    "llmmath.landscape.quadratic_bowl", "llmmath.landscape.rosenbrock",
                    "llmmath.landscape.saddle", "llmmath.landscape.double_well",
                    "llmmath.landscape.minibatch_gradient_variance",
                    "llmmath.landscape.logistic_problem", "llmmath.landscape.logistic_gradients",
                    "llmmath.landscape.minibatch_gradients")),
    Lesson("training_loop", "The complete training loop", "optimisation",
           "Batch, forward, loss, backward, clip, AdamW: a small GPT trained on the page.",
           min_tests=8,
           teaches=("llmmath.train.Trainer", "llmmath.train.Trainer.train_step",
                    "llmmath.train.preset_config", "llmmath.train.prepare_data",
                    "llmmath.data.get_batch", "llmmath.nn.GPT", "llmmath.nn.GPT.forward",
                    "llmmath.optim.clip_grad_norm", "llmmath.optim.AdamW", "llmmath.optim.cosine_schedule",
                    "llmmath.nn.GPT.generate", "llmmath.evaluate.token_nll",
                    "llmmath.autograd.no_grad")),
    Lesson("scaling_laws", "Scaling laws", "optimisation",
           "L(N, D) = E + A/N^α + B/D^β fitted to a sweep of small GPTs, and how to split C ≈ 6ND.",
           min_tests=7,
           teaches=("llmmath.scaling.fit_scaling_law", "llmmath.scaling.huber_objective",
                    "llmmath.scaling.compute_optimal", "llmmath.scaling.frontier_exponents",
                    "llmmath.scaling.isoflop_losses", "llmmath.scaling.fit_power_law",
                    "llmmath.scaling.peak_learning_rate")),
    Lesson("evaluation", "Statistics for evaluating models", "evaluation",
           "Bootstrap confidence intervals, t-tests and A/B comparisons.",
           min_tests=5,
           teaches=("llmmath.stats.mean_ci", "llmmath.stats.bootstrap_ci",
                    "llmmath.stats.bootstrap_distribution", "llmmath.stats.bootstrap_coverage",
                    "llmmath.stats.welch_t_test", "llmmath.stats.paired_t_test",
                    "llmmath.stats.mean_difference_ci", "llmmath.stats.mcnemar_test")),
    Lesson("tensors", "NumPy, PyTorch and llmmath side by side", "tools",
           "Tensors, autograd and modules in three libraries.",
           min_tests=5,
           teaches=("llmmath.autograd.Value", "llmmath.autograd.Tensor", "llmmath.nn.Linear",
                    "llmmath.optim.SGD", "llmmath.calculus.numerical_gradient")),
    Lesson("study_path", "A two-week study path", "study path",
           "Fourteen days through the lessons, with what to do each day.",
           min_tests=5,
           teaches=("llmmath.lessons", "llmmath.ledger.claims")),
)


def get_lesson(name: str) -> Lesson:
    """The lesson called ``name`` (its file stem)."""
    for lesson in LESSONS:
        if lesson.name == name:
            return lesson
    names = ", ".join(lesson.name for lesson in LESSONS)
    raise ValueError(f"lesson: no lesson named {name!r}; expected one of: {names}.")


def neighbours(name: str) -> tuple[Lesson | None, Lesson | None]:
    """The lessons just before and just after ``name`` in course order."""
    i = LESSONS.index(get_lesson(name))
    prev = LESSONS[i - 1] if i > 0 else None
    nxt = LESSONS[i + 1] if i + 1 < len(LESSONS) else None
    return prev, nxt
