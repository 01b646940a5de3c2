"""Tests for llmmath.checkpoint: round trips, checksums, atomic saves, pickle-free trees."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmmath import _files, checkpoint
from llmmath._files import atomic_write_text
from llmmath.checkpoint import (
    CheckpointError,
    atomic_write_bytes,
    from_tree,
    load_checkpoint,
    save_checkpoint,
    to_tree,
)


def _arrays(rng):
    return {
        "model/w": rng.standard_normal((3, 4)).astype(np.float32),
        "model/b": rng.standard_normal(4),
        "ids": np.arange(7, dtype=np.uint16),
        "mask": np.array([True, False]),
        "scalar": np.array(3.5),
        "empty": np.zeros((0, 2)),
    }


def test_round_trip_is_exact_and_the_file_is_an_ordinary_npz(tmp_path, rng):
    arrays = _arrays(rng)
    header = {"step": 12, "lr": 0.1 + 0.2, "name": "héllo", "nested": {"a": [1, None, True]},
              "big": 2**100 + 1}
    path = save_checkpoint(tmp_path / "c.npz", header, arrays)
    ck = load_checkpoint(path)
    assert ck.header == header and ck.path == path
    assert set(ck.arrays) == set(arrays)
    for k, v in arrays.items():
        assert ck.arrays[k].dtype == v.dtype and ck.arrays[k].shape == v.shape
        assert np.array_equal(ck.arrays[k], v)
    with np.load(path, allow_pickle=False) as z:       # readable without our code, no pickle
        assert np.array_equal(z["model/w"], arrays["model/w"])
    # the checksum is SHA-256 over the members as documented, recomputed independently
    h = hashlib.sha256()
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert names[0] == "__header__.npy" and names[-1] == "__sha256__.npy"
        for n in names[:-1]:
            data = z.read(n)
            h.update(n.removesuffix(".npy").encode() + b"\0" + len(data).to_bytes(8, "little"))
            h.update(data)
    assert ck.sha256 == h.hexdigest()


def _rewrite_member(src, dst, name, change):
    """Copy a zip, passing one member's bytes through ``change`` (zip CRCs stay valid)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for n in zin.namelist():
            data = zin.read(n)
            zout.writestr(n, change(data) if n == name else data)


def test_a_changed_array_fails_the_sha256_even_with_valid_zip_crcs(tmp_path, rng):
    path = save_checkpoint(tmp_path / "c.npz", {"step": 1}, _arrays(rng))
    bad = tmp_path / "bad.npz"

    def flip_last_byte(data):
        return data[:-1] + bytes([data[-1] ^ 0x01])

    _rewrite_member(path, bad, "model/w.npy", flip_last_byte)
    with pytest.raises(CheckpointError, match=r"bad\.npz.*checksum"):
        load_checkpoint(bad)
    _rewrite_member(path, bad, "__header__.npy", lambda d: d.replace(b'"step": 1', b'"step": 2'))
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(bad)


@pytest.mark.parametrize("cut", [0.3, 0.9, 0.999])
def test_truncated_file_is_a_clear_error_naming_it(tmp_path, rng, cut):
    path = save_checkpoint(tmp_path / "c.npz", {"step": 1}, _arrays(rng))
    raw = path.read_bytes()
    short = tmp_path / "short.npz"
    short.write_bytes(raw[: int(len(raw) * cut)])
    with pytest.raises(CheckpointError, match=r"short\.npz"):
        load_checkpoint(short)


def test_corrupted_byte_in_the_middle_is_caught(tmp_path, rng):
    path = save_checkpoint(tmp_path / "c.npz", {"step": 1}, _arrays(rng))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"c\.npz"):
        load_checkpoint(path)


def test_other_files_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.npz")
    txt = tmp_path / "x.npz"
    txt.write_text("not a zip")
    with pytest.raises(CheckpointError, match=r"x\.npz"):
        load_checkpoint(txt)
    plain = tmp_path / "plain.npz"
    np.savez(plain, a=np.zeros(2))                     # an npz, but not ours
    with pytest.raises(CheckpointError, match="not an llmmath checkpoint"):
        load_checkpoint(plain)
    with pytest.raises(TypeError, match="path"):
        load_checkpoint(3)


def test_pickled_member_is_never_unpickled(tmp_path, rng):
    path = save_checkpoint(tmp_path / "c.npz", {"step": 1}, _arrays(rng))
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    bad = tmp_path / "obj.npz"
    _rewrite_member(path, bad, "ids.npy", lambda d: buf.getvalue())
    with pytest.raises(CheckpointError, match=r"obj\.npz"):
        load_checkpoint(bad)


def test_save_refuses_what_it_cannot_store_safely(tmp_path):
    with pytest.raises(TypeError, match="dtype object"):
        save_checkpoint(tmp_path / "c.npz", {}, {"o": np.array([None, 1], dtype=object)})
    with pytest.raises(TypeError, match="dtype <U"):
        save_checkpoint(tmp_path / "c.npz", {}, {"s": np.array(["a"])})
    with pytest.raises(ValueError, match="reserved"):
        save_checkpoint(tmp_path / "c.npz", {}, {"__header__": np.zeros(1)})
    with pytest.raises(TypeError, match="JSON"):
        save_checkpoint(tmp_path / "c.npz", {"a": np.zeros(2)})
    with pytest.raises(TypeError, match="mapping"):
        save_checkpoint(tmp_path / "c.npz", [1, 2])
    assert not list(tmp_path.iterdir())                # nothing was written


def test_failed_save_leaves_the_old_checkpoint_intact(tmp_path, rng, monkeypatch):
    path = save_checkpoint(tmp_path / "c.npz", {"step": 1}, _arrays(rng))
    before = path.read_bytes()
    calls = {"n": 0}
    real = zipfile.ZipFile.writestr

    def failing_writestr(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:                            # midway through the members
            raise OSError("disk full (simulated)")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"step": 2}, _arrays(np.random.default_rng(1)))
    monkeypatch.undo()
    assert calls["n"] == 3
    assert path.read_bytes() == before
    assert load_checkpoint(path).header == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]   # no temporary file left


def test_atomic_write_uses_fsync_and_replace(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(_files.os, "fsync", lambda fd: (events.append("fsync"),
                                                        real_fsync(fd))[1])
    monkeypatch.setattr(_files.os, "replace", lambda a, b: (events.append("replace"),
                                                            real_replace(a, b))[1])
    target = tmp_path / "sub" / "f.bin"
    atomic_write_bytes(target, lambda f: f.write(b"xyz"))
    assert target.read_bytes() == b"xyz"
    assert events[:2] == ["fsync", "replace"]          # data on disk before the rename
    events.clear()
    atomic_write_text(target, "abc\n")
    assert target.read_bytes() == b"abc\n" and events[:2] == ["fsync", "replace"]


def test_one_atomic_writer_for_the_whole_package():
    # checkpoint re-exports the one writer rather than keeping a copy
    assert checkpoint.atomic_write_bytes is _files.atomic_write_bytes
    # a hand-written atomic write makes a temporary file and fsyncs it; only _files does
    # (os.replace alone is a move, e.g. setting a damaged file aside, and is allowed)
    src = Path(_files.__file__).parent
    writers = sorted(str(p.relative_to(src)) for p in src.rglob("*.py")
                     if any(word in p.read_text(encoding="utf-8")
                            for word in ("mkstemp(", "NamedTemporaryFile(", ".fsync(")))
    assert writers == ["_files.py"]


def test_a_failed_text_write_keeps_the_old_file_and_leaves_no_debris(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    atomic_write_text(target, "old")

    def full_disk(fd):
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(_files.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        atomic_write_text(target, "new " * 1000)
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]
    assert _files.temporary_files(target) == []


def test_temporary_files_finds_what_a_killed_writer_left(tmp_path):
    """A process killed inside the write (os._exit skips every cleanup) leaves exactly its
    temporary file, next to an untouched target."""
    import subprocess
    import sys

    target = tmp_path / "ckpt.npz"
    target.write_bytes(b"previous")
    code = ("import os, sys\nfrom llmmath._files import atomic_write_bytes\n"
            "atomic_write_bytes(sys.argv[1], lambda f: (f.write(b'half'), f.flush(), "
            "os._exit(9)))\n")
    done = subprocess.run([sys.executable, "-c", code, str(target)], check=False)
    assert done.returncode == 9
    left = _files.temporary_files(target)
    assert len(left) == 1 and left[0].read_bytes() == b"half"
    assert target.read_bytes() == b"previous"
    assert _files.temporary_files(tmp_path / "other.npz") == []


def test_optimizer_state_tree_round_trip(tmp_path, rng):
    state = {"state": {0: {"step": 3, "exp_avg": rng.standard_normal(4)},
                       2: {"step": 3, "exp_avg": rng.standard_normal((2, 2))}},
             "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.99), "params": [0, 1, 2],
                               "weight_decay": np.float64(0.1)}]}
    arrays = {}
    tree = to_tree(state, arrays, "optim")
    path = save_checkpoint(tmp_path / "o.npz", {"optimizer": tree}, arrays)
    ck = load_checkpoint(path)
    back = from_tree(ck.header["optimizer"], ck.arrays)
    assert set(back["state"]) == {0, 2}
    assert np.array_equal(back["state"][2]["exp_avg"], state["state"][2]["exp_avg"])
    assert back["param_groups"][0]["betas"] == (0.9, 0.99)
    assert type(back["param_groups"][0]["weight_decay"]) is float
    with pytest.raises(TypeError, match="cannot store"):
        to_tree({"f": object()}, {}, "x")
    with pytest.raises(CheckpointError, match="does not hold"):
        from_tree({"__array__": "nope"}, {})


_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                  st.floats(allow_nan=False), st.text(max_size=5),
                  st.lists(st.floats(-1e6, 1e6), max_size=4).map(np.array))
_tree = st.recursive(_leaf, lambda kids: st.one_of(
    st.lists(kids, max_size=3), st.tuples(kids, kids),
    st.dictionaries(st.one_of(st.text(max_size=3), st.integers(0, 9)), kids, max_size=3)),
    max_leaves=12)


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@given(_tree)
def test_any_nested_state_survives_a_save(tmp_path_factory, value):
    arrays = {}
    tree = to_tree({"v": value}, arrays, "t")
    path = save_checkpoint(tmp_path_factory.mktemp("h") / "t.npz", {"tree": tree}, arrays)
    ck = load_checkpoint(path)
    assert _same(from_tree(ck.header["tree"], ck.arrays)["v"], value)
