"""The claims ledger: every claim is computed, checked against its independent
reference, and its computed status must equal the recorded one."""

from __future__ import annotations

import dataclasses
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from llmmath.errors import InvalidValueError
from llmmath.ledger import SYLLABUS_FILES, claims, evaluate, evaluate_all, get_claim
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


# ----------------------------------------------------------- time limits -- #

def _slow(seconds: float = 600.0):
    """A claim computation that would take ``seconds`` (a fake slow claim)."""
    def slow():
        time.sleep(seconds)
        return {"dot": 32.0}
    return slow


def test_a_claim_past_its_time_limit_fails_and_the_others_still_run():
    slow = dataclasses.replace(get_claim("002-dot-product"), ours=_slow())
    before = signal.getsignal(signal.SIGALRM)
    results = evaluate_all([slow, get_claim("002-dot-product"), get_claim("002-dydx-at-2")],
                           timeout=2.0)
    assert results[0].computed_status == "error" and not results[0].ok
    assert results[0].problems == ["computation failed: timed out: the computations ran past "
                                   "the time limit of 2 s and were stopped (raise the limit if "
                                   "the machine is slow)"]
    assert results[1].ok and results[2].ok
    # the alarm is gone and the previous handler is back
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_claim_cannot_swallow_its_time_limit():
    def stubborn():
        while True:
            try:
                time.sleep(600)
            except Exception:  # noqa: BLE001 - what a careless claim might do
                pass

    e = evaluate(dataclasses.replace(get_claim("002-dot-product"), ours=stubborn), timeout=1.0)
    assert e.error is not None and e.error.startswith("timed out")


def test_a_timed_out_claim_is_not_cached():
    calls = []
    original = get_claim("002-dot-product")

    def slow_once():
        calls.append(1)
        if len(calls) == 1:
            time.sleep(600)
        return original.ours()

    c = dataclasses.replace(original, ours=slow_once)
    assert evaluate(c, timeout=1.0).error.startswith("timed out")
    again = evaluate(c, timeout=60.0)                 # computed afresh, not the cached failure
    assert again.ok and again.ours["dot"] == 32.0 and len(calls) == 2


def test_the_time_limit_never_cuts_an_import_short(tmp_path, monkeypatch):
    # a module that takes longer to import than the whole limit; cut short, it would be
    # left half-initialised for every claim after this one
    (tmp_path / "llmmath_slow_import.py").write_text("import time\ntime.sleep(2.5)\nDONE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "llmmath_slow_import", raising=False)

    def imports_then_spins():
        import llmmath_slow_import  # noqa: F401

        time.sleep(600)

    c = dataclasses.replace(get_claim("002-dot-product"), ours=imports_then_spins)
    e = evaluate(c, timeout=1.0)
    assert e.error.startswith("timed out")
    assert sys.modules["llmmath_slow_import"].DONE is True   # the import ran to its end


def test_off_the_main_thread_a_worker_process_is_stopped_at_the_limit():
    slow = dataclasses.replace(get_claim("002-dot-product"), ours=_slow())
    out = {}

    def run():
        out["slow"] = evaluate(slow, timeout=2.0)
        out["fast"] = evaluate(get_claim("002-dot-product"), timeout=60.0, use_cache=False)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert out["slow"].error.startswith("timed out")
    assert out["fast"].ok and out["fast"].ours == evaluate(get_claim("002-dot-product")).ours


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf"), "30", True])
def test_bad_timeouts_are_refused(timeout):
    with pytest.raises(InvalidValueError, match="evaluate: argument 'timeout'"):
        evaluate("002-dot-product", timeout=timeout)


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
