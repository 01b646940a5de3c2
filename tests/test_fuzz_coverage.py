"""Every public name of every pillar module is fuzzed.

Each ``tests/test_fuzz_<module>.py`` declares ``COVERED``; a public function
added to a module without fuzz coverage fails here.
"""

from __future__ import annotations

import importlib

import pytest

# module under llmmath -> the test module that fuzzes it
FUZZED = {
    "linalg": "test_fuzz_linalg",
    "attention": "test_fuzz_attention",
    "calculus": "test_fuzz_calculus",
    "prob": "test_fuzz_prob",
    "info": "test_fuzz_info",
    "stats": "test_fuzz_stats",
    "ngram": "test_fuzz_ngram",
    "autograd.functional": "test_fuzz_autograd",
    "optim": "test_fuzz_optim",
    "tokenizers": "test_bpe",
}


@pytest.mark.parametrize("name", sorted(FUZZED))
def test_every_public_name_is_fuzzed(name: str) -> None:
    module = importlib.import_module(f"llmmath.{name}")
    fuzz = importlib.import_module(FUZZED[name])
    public = set(module.__all__)
    missing = public - set(fuzz.COVERED)
    assert not missing, f"llmmath.{name}: public names without a fuzz test: {sorted(missing)}"
    stale = set(fuzz.COVERED) - public
    assert not stale, f"test_fuzz_{name}.COVERED names that are not public: {sorted(stale)}"


def test_library_core_imports_numpy_only() -> None:
    import subprocess
    import sys

    code = (
        "import sys, llmmath\n"
        "for m in ('linalg','attention','calculus','prob','info','stats','ngram','data',"
        "'tokenizers','autograd','nn','optim'):\n"
        "    getattr(llmmath, m)\n"
        "bad = [m for m in ('scipy','torch','mpmath','matplotlib','marimo') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
