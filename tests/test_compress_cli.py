"""``llmmath compress`` / ``decompress``: round trips on files, refusals, errors and the report."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from llmmath.cli import app

runner = CliRunner()
TEXT = ("Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n"
        "Rough winds do shake the darling buds of May 😀\x00\n") * 4


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LLMMATH_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def _run(*args):
    return runner.invoke(app, [*args, "--no-progress"])


@pytest.fixture
def src(tmp_path):
    path = tmp_path / "sonnet.txt"
    path.write_bytes(TEXT.encode("utf-8") + b"\xff\xfe not utf-8 \xc3(")   # any bytes round-trip
    path.chmod(0o640)
    return path


@pytest.mark.parametrize("model", ["uniform", "ngram:3", None])
def test_compress_then_decompress_gives_the_same_bytes(src, tmp_path, model):
    out, back = tmp_path / "s.lmz", tmp_path / "back.txt"
    res = _run("compress", str(src), "-o", str(out), *(["-m", model] if model else []))
    assert res.exit_code == 0, res.output
    assert "bits/char" in res.output and "escaped" in res.output
    assert out.stat().st_mode & 0o777 == 0o640            # the input's permissions
    res = _run("decompress", str(out), "-o", str(back))
    assert res.exit_code == 0, res.output
    assert back.read_bytes() == src.read_bytes()
    assert "checksum verified" in res.output


def test_default_output_names(src):
    assert _run("compress", str(src), "-m", "uniform").exit_code == 0
    packed = src.with_name(src.name + ".lmz")
    assert packed.is_file()
    src.rename(src.with_name("moved.txt"))
    assert _run("decompress", str(packed)).exit_code == 0
    assert src.is_file()


def test_refusals(src, tmp_path):
    out = tmp_path / "s.lmz"
    before = src.read_bytes()
    res = _run("compress", str(src), "-o", str(src), "-m", "uniform")
    assert res.exit_code == 1 and "is the input" in res.output
    res = _run("compress", str(src), "-o", str(tmp_path / ".." / tmp_path.name / src.name))
    assert res.exit_code == 1 and "is the input" in res.output
    assert src.read_bytes() == before
    assert _run("compress", str(src), "-o", str(out), "-m", "uniform").exit_code == 0
    res = _run("compress", str(src), "-o", str(out), "-m", "uniform")
    assert res.exit_code == 1 and "--force" in res.output
    assert _run("compress", str(src), "-o", str(out), "-m", "uniform", "--force").exit_code == 0
    res = _run("decompress", str(out), "-o", str(src))
    assert res.exit_code == 1 and "exists" in res.output and src.read_bytes() == before
    res = _run("decompress", str(src))
    assert res.exit_code == 1 and "-o" in res.output
    res = _run("compress", str(tmp_path / "missing.txt"))
    assert res.exit_code == 1 and "does not exist" in res.output
    res = _run("compress", str(src), "-o", str(tmp_path / "x"), "-m", "ngram:nine")
    assert res.exit_code == 1 and "ngram:N" in res.output
    res = _run("compress", str(src), "-o", str(tmp_path / "y"), "-m", "uniform", "-m", "ngram:2")
    assert res.exit_code == 1 and "one -m" in res.output
    res = _run("compress")
    assert res.exit_code == 1 and "FILE" in res.output


def test_damaged_and_mismatched_files(src, tmp_path):
    out = tmp_path / "s.lmz"
    assert _run("compress", str(src), "-o", str(out), "-m", "ngram:2").exit_code == 0
    data = out.read_bytes()
    cases = {"cut.lmz": (data[:len(data) // 2], "truncated"),
             "head.lmz": (data[:40] + bytes([data[40] ^ 1]) + data[41:], "header is damaged"),
             "body.lmz": (data[:-10] + bytes([data[-10] ^ 1]) + data[-9:], "data is damaged"),
             "other.lmz": (b"GIF89a" + data[6:], "not an llmmath")}
    for name, (blob, message) in cases.items():
        (tmp_path / name).write_bytes(blob)
        res = _run("decompress", str(tmp_path / name), "-o", str(tmp_path / (name + ".txt")))
        assert res.exit_code == 1 and message in res.output, (name, res.output)
        assert not (tmp_path / (name + ".txt")).exists()
        assert "Traceback" not in res.output
    res = _run("decompress", str(out), "-o", str(tmp_path / "w.txt"), "-m", "ngram:3")
    assert res.exit_code == 1 and "compressed with the model 'ngram:2'" in res.output


def test_a_missing_checkpoint_is_named(src, tmp_path):
    from llmmath.compress import container

    out = tmp_path / "s.lmz"
    assert _run("compress", str(src), "-o", str(out), "-m", "uniform").exit_code == 0
    header, chunks = container.unpack(out.read_bytes())
    forged = container.Header(**{**header.__dict__, "model_spec": str(tmp_path / "gone")})
    (tmp_path / "g.lmz").write_bytes(container.pack(forged, chunks))
    res = _run("decompress", str(tmp_path / "g.lmz"), "-o", str(tmp_path / "g.txt"))
    assert res.exit_code == 1 and "gone" in res.output and "-m" in res.output


def test_report_table_and_chart(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text(TEXT * 3, encoding="utf-8")
    png = tmp_path / "r.png"
    res = runner.invoke(app, ["compress", "--report", str(text), "-m", "uniform", "-m",
                              "ngram:2", "--png", str(png), "--no-progress"])
    assert res.exit_code == 0, res.output
    for name in ("uniform", "ngram:2", "gzip -9", "bz2 -9", "xz -9e", "cross-entropy"):
        assert name in res.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_help_literals_are_the_library_values():
    from llmmath.commands import compress as cmd
    from llmmath.compress import CHUNK_SIZE, DEFAULT_SPEC
    from llmmath.compress.report import DEFAULT_MODELS
    from llmmath.compress.specs import SPEC_HELP

    assert cmd.CHUNK_SIZE == CHUNK_SIZE and cmd.SPEC_HELP == SPEC_HELP
    assert cmd.DEFAULT_SPEC == DEFAULT_SPEC
    assert ", ".join(DEFAULT_MODELS) in cmd.REPORT_HELP


def test_help_does_not_import_the_coder():
    code = ("import sys; from llmmath.cli import app\n"
            "assert 'constriction' not in sys.modules and 'llmmath.compress' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
