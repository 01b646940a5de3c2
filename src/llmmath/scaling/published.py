"""Published scaling-law constants, to set beside a measured sweep.

Both papers trained transformers on hundreds of billions of BPE tokens of web
text; their losses are nats per BPE token, ours nats per character, so the
constants ``E``, ``A``, ``B`` (and Kaplan's ``N_c``, ``D_c``) do not carry over to a
character-level model. The exponents are pure numbers and can be compared,
with care: they depend on the data, the tokenizer and the range measured.

References
----------
.. [1] J. Hoffmann et al., "Training Compute-Optimal Large Language Models",
   NeurIPS 2022 (arXiv:2203.15556), equation (10) (approach 3) and the
   "about 20 tokens per parameter" of approaches 1 and 2.
.. [2] J. Kaplan et al., "Scaling Laws for Neural Language Models",
   arXiv:2001.08361 (2020), equations (1.1), (1.2) and (1.7).
"""

from __future__ import annotations

from llmmath.scaling.fit import ScalingLaw

__all__ = ["CHINCHILLA", "CHINCHILLA_TOKENS_PER_PARAMETER", "CHINCHILLA_COMPUTE",
           "CHINCHILLA_RANGE", "KAPLAN"]

#: Chinchilla's approach 3: L(N, D) = 1.69 + 406.4 / N^0.34 + 410.7 / D^0.28 (nats/token).
CHINCHILLA = ScalingLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)

#: The rule of thumb of Chinchilla's approaches 1 and 2: about 20 tokens per parameter.
CHINCHILLA_TOKENS_PER_PARAMETER = 20.0

#: The compute of Chinchilla itself (70 B parameters, 1.4 T tokens): about 5.76e23 FLOPs.
CHINCHILLA_COMPUTE = 5.76e23

#: Kaplan et al.: L(N) = (N_c / N)^alpha_N with non-embedding N (models trained to
#: convergence), L(D) = (D_c / D)^alpha_D (large models, early stopping), and their
#: compute-optimal N_opt ∝ C^0.73.
KAPLAN = {"alpha_N": 0.076, "N_c": 8.8e13, "alpha_D": 0.095, "D_c": 5.4e13,
          "frontier_N": 0.73}

#: The range of Chinchilla's training runs: over 400 models of 70 M to over 16 B
#: parameters, trained on 5 B to 500 B tokens (their abstract).
CHINCHILLA_RANGE = {"N": (7e7, 1.6e10), "D": (5e9, 5e11)}
