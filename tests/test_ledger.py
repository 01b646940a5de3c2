"""The claims ledger: every claim is computed, checked against its independent
reference, and its computed status must equal the recorded one."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from llmmath.errors import InvalidValueError
from llmmath.ledger import SYLLABUS_FILES, claims, evaluate, get_claim
from llmmath.ledger import core as ledger_core
from llmmath.ledger.identities import layer_norm_inputs, syllabus_layer_norm_dx

ALL = claims()


def _param(c):
    marks = [pytest.mark.torch] if "torch" in c.needs else []
    return pytest.param(c, id=c.id, marks=marks)


# --------------------------------------------------------------- structure -- #

def test_ids_are_unique_and_readable():
    ids = [c.id for c in ALL]
    assert len(ids) == len(set(ids))
    for c in ALL:
        assert re.fullmatch(r"\d{3}-[a-z0-9]+(-[a-z0-9]+)*", c.id), c.id
        assert c.id.startswith(c.file + "-")


def test_every_syllabus_file_has_entries():
    for prefix in SYLLABUS_FILES:
        assert len(claims(prefix)) >= 5, prefix


def test_each_status_is_represented_and_errata_exist():
    statuses = {c.status for c in ALL}
    assert statuses == {"verified", "erratum", "unverifiable"}
    assert sum(c.status == "erratum" for c in ALL) >= 10


def test_checkable_claims_have_a_reference_and_unverifiable_a_reason():
    for c in ALL:
        if c.status == "unverifiable":
            assert c.ours is None and c.reference is None, c.id
            assert len(c.explanation.split()) >= 8, c.id
        else:
            assert callable(c.ours) and callable(c.reference), c.id
            assert c.explanation.strip(), c.id
        if c.status == "erratum":
            assert c.correct and c.correct != c.stated, c.id


def test_duplicate_id_is_refused():
    c = ALL[0]
    with pytest.raises(InvalidValueError, match="duplicate"):
        ledger_core.add_claim(**{f.name: getattr(c, f.name) for f in dataclasses.fields(c)})


def test_claims_md_lists_every_claim():
    text = (Path(ledger_core.__file__).with_name("CLAIMS.md")).read_text(encoding="utf-8")
    assert text == ledger_core.claims_markdown(), "regenerate with write_claims_markdown()"


# --------------------------------------------------- recorded data, no runs -- #

def test_get_claim_reads_recorded_data():
    c = get_claim("001-attention-worked-example")
    assert (c.id, c.status) == ("001-attention-worked-example", "erratum")
    assert "0.324" in c.stated and "0.323" in c.correct
    assert c.source.startswith(SYLLABUS_FILES["001"]) and "Step 4" in c.source
    assert get_claim("002-dydx-at-2").correct == get_claim("002-dydx-at-2").stated
    assert get_claim("001-perplexity-table-gpt4").correct is None


def test_get_claim_unknown_id_names_it():
    with pytest.raises(InvalidValueError, match="no claim with id 'nope'"):
        get_claim("nope")
    with pytest.raises(TypeError):
        get_claim(3)


def test_reading_the_ledger_imports_no_reference_package():
    code = ("import sys; from llmmath.ledger import claims, get_claim; "
            "get_claim('000-softmax-example'); claims(); "
            "bad = [m for m in ('scipy', 'torch', 'mpmath') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------- the ledger -- #

@pytest.mark.parametrize("claim", [_param(c) for c in ALL if c.checkable])
def test_claim_computed_status_matches_recorded(claim):
    e = evaluate(claim)
    assert e.error is None, e.error
    assert e.agrees, f"{claim.id}: llmmath {e.ours!r} vs reference {e.reference!r}"
    assert e.computed_status == claim.status, claim.id
    assert e.correct_matches is not False, claim.id
    assert e.ok


def test_tampered_status_is_caught():
    c = get_claim("002-softmax-example")
    tampered = dataclasses.replace(c, status="verified")
    e = evaluate(tampered)
    assert not e.ok and "differs from the recorded 'verified'" in e.problems[0]


def test_disagreeing_reference_is_reported_as_a_library_bug():
    c = get_claim("002-dot-product")
    e = evaluate(dataclasses.replace(c, reference=lambda: {"dot": 33.0}))
    assert e.agrees is False and any("library bug" in p for p in e.problems)


def test_cache_is_not_fooled_by_a_reused_function_address():
    c = get_claim("002-dot-product")
    first = evaluate(dataclasses.replace(c, reference=lambda: {"dot": 33.0})).agrees
    # the first lambda is gone unless the cache holds it; CPython tends to put the next one at
    # the same address, and a cache keyed on id() alone would then return the old values
    second = evaluate(dataclasses.replace(c, reference=lambda: {"dot": 32.0})).agrees
    assert (first, second) == (False, True)


def test_failing_computation_is_reported():
    def broken():
        raise RuntimeError("boom")

    e = evaluate(dataclasses.replace(get_claim("002-dot-product"), ours=broken))
    assert e.computed_status == "error" and "boom" in e.problems[0]


def test_stale_correct_value_is_reported():
    c = get_claim("000-softmax-example")
    e = evaluate(dataclasses.replace(c, correct_value=[0.25, 0.6, 0.15]))
    assert e.correct_matches is False and not e.ok


# -------------------------------------------- the LayerNorm erratum, in detail -- #

@pytest.mark.lesson_layernorm
def test_syllabus_layer_norm_formula_is_right_only_without_its_two_faults():
    """The page's dL/dx matches finite differences once gamma is a scalar and
    eps is negligible next to the variance, and not otherwise."""
    from scipy.optimize import approx_fprime

    x, gamma, _, dy = layer_norm_inputs(5, 8, 1.0)

    def numeric(g, eps):
        def loss(v):
            return float(np.sum(dy * g * (v - v.mean()) / np.sqrt(v.var() + eps)))
        return approx_fprime(x, loss, 1e-7)

    scalar = np.full(8, 1.7)
    np.testing.assert_allclose(syllabus_layer_norm_dx(x, scalar, dy, 1e-12), numeric(scalar, 1e-12),
                               rtol=1e-5, atol=1e-5)
    assert not np.allclose(syllabus_layer_norm_dx(x, gamma, dy, 1e-12), numeric(gamma, 1e-12),
                           rtol=1e-2, atol=1e-2)
    small, _, _, _ = layer_norm_inputs(5, 8, 3e-3)
    x = small
    assert not np.allclose(syllabus_layer_norm_dx(x, scalar, dy, 1e-5), numeric(scalar, 1e-5),
                           rtol=1e-2, atol=1e-2)


def test_values_close_compares_only_reference_keys():
    close = ledger_core.values_close
    assert close({"a": 1.0, "b": [1, 2]}, {"a": 1.0 + 1e-12}, 1e-9, 0)
    assert not close({"a": 1.0}, {"a": 1.0, "b": 2.0}, 1e-9, 0)
    assert not close([1.0, 2.0], [1.0, 2.0, 3.0], 1e-9, 0)
    assert close(float("nan"), float("nan"), 0, 0)
    assert ledger_core.to_jsonable({"x": np.array([1.0, np.inf]), "n": np.int64(3)}) == {
        "x": [1.0, "inf"], "n": 3}
