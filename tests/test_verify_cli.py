"""``llmmath verify``: exit codes, the JSON schema, ``--show`` and missing packages."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from typer.testing import CliRunner

from llmmath.cli import app
from llmmath.ledger import claims, get_claim
from llmmath.ledger import core as ledger_core

runner = CliRunner()

JSON_KEYS = {"id", "file", "locator", "stated", "computed", "reference", "status",
             "recorded_status", "explanation"}


def _invoke(*args: str):
    return runner.invoke(app, ["verify", *args])


@pytest.mark.torch
def test_whole_ledger_passes_and_json_has_the_stable_schema():
    result = _invoke("--json")
    assert result.exit_code == 0, result.output[-2000:]
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert len(doc["claims"]) == len(claims())
    for rec in doc["claims"]:
        assert JSON_KEYS <= set(rec), rec["id"]
        assert rec["status"] in {"verified", "erratum", "unverifiable"}
        assert rec["status"] == rec["recorded_status"]
        assert rec["file"] in {"000", "001", "002", "003", "004"}
    total = doc["summary"]["total"]
    assert total["claims"] == len(claims()) and total["failing"] == 0
    assert total["verified"] + total["erratum"] + total["unverifiable"] == total["claims"]
    erratum = next(r for r in doc["claims"] if r["id"] == "000-softmax-example")
    assert erratum["computed"] == pytest.approx(erratum["reference"], abs=1e-12)
    e = math.exp
    assert erratum["computed"][1] == pytest.approx(e(2) / (e(1) + e(2) + e(0.5)), rel=1e-14)


@pytest.mark.torch
def test_table_counts_per_status_and_file():
    result = _invoke()
    assert result.exit_code == 0
    for prefix in ("000", "001", "002", "003", "004"):
        assert prefix in result.output
    for word in ("verified", "erratum", "unverifiable", "Errata"):
        assert word in result.output


def test_show_explains_one_claim_with_its_code_and_values():
    result = _invoke("--show", "002-cross-entropy-example")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "002-cross-entropy-example" in out and "0.1699" in out and "0.1791" in out
    assert "def _ce_example" in out                 # our computation's source
    assert "cross_entropy_onehot" in out or "def run" in out    # the reference's
    assert "erratum" in out


def test_show_an_unverifiable_claim_gives_the_reason():
    result = _invoke("--show", "001-perplexity-table-gpt4")
    assert result.exit_code == 0
    assert "unverifiable" in result.output and "published" in result.output


def test_file_filter_selects_one_page():
    result = _invoke("--json", "--file", "003")
    assert result.exit_code == 0
    ids = [r["id"] for r in json.loads(result.stdout)["claims"]]
    assert ids and all(i.startswith("003-") for i in ids)


def test_tampered_recorded_status_exits_non_zero(monkeypatch):
    cid = "002-softmax-example"
    tampered = dataclasses.replace(get_claim(cid), status="verified")
    monkeypatch.setitem(ledger_core._REGISTRY, cid, tampered)
    result = _invoke("--json", cid)
    assert result.exit_code == 1
    rec = json.loads(result.stdout)["claims"][0]
    assert (rec["status"], rec["recorded_status"]) == ("erratum", "verified")
    assert "differs from the recorded" in rec["problems"][0]
    table = _invoke(cid)
    assert table.exit_code == 1 and "FAIL" in table.output and cid in table.output


def test_library_disagreeing_with_reference_exits_non_zero(monkeypatch):
    cid = "002-l2-norm"
    broken = dataclasses.replace(get_claim(cid), reference=lambda: {"norm": 3.75})
    monkeypatch.setitem(ledger_core._REGISTRY, cid, broken)
    result = _invoke(cid)
    assert result.exit_code == 1 and "library bug" in result.output


def test_missing_reference_package_says_how_to_install(monkeypatch):
    real = ledger_core.importlib.util.find_spec

    def fake(name, *args):
        return None if name == "torch" else real(name, *args)

    monkeypatch.setattr(ledger_core.importlib.util, "find_spec", fake)
    result = _invoke("002-dydx-at-2")
    assert result.exit_code == 2
    assert "torch" in result.output and "pip install 'llmmath[test]'" in result.output


def test_a_claim_past_the_time_limit_fails_and_the_others_still_run(monkeypatch):
    import time

    cid = "002-l2-norm"

    def slow():
        time.sleep(600)

    monkeypatch.setitem(ledger_core._REGISTRY, cid,
                        dataclasses.replace(get_claim(cid), ours=slow))
    result = _invoke("--json", "--timeout", "1.5", cid, "002-dot-product")
    assert result.exit_code == 1
    records = {r["id"]: r for r in json.loads(result.stdout)["claims"]}
    assert records[cid]["status"] == "error"
    assert records[cid]["problems"][0].startswith(
        "computation failed: timed out: the computations ran past the time limit of 1.5 s")
    assert records["002-dot-product"]["problems"] == []
    table = _invoke("--timeout", "1.5", cid)
    assert table.exit_code == 1 and "FAIL" in table.output and "timed out" in table.output


def test_timeout_must_be_positive():
    result = _invoke("--timeout", "0", "002-dot-product")
    assert result.exit_code == 2 and "--timeout" in result.output


def test_unknown_claim_id_exits_2():
    result = _invoke("--show", "000-no-such-claim")
    assert result.exit_code == 2 and "no claim with id" in result.output
