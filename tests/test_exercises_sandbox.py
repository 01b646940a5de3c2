"""The checker's sandbox: every way a submission can misbehave becomes a clear message.

A syntax error, an exception, an endless loop (in the function or at the top of
the file), a huge allocation, ``sys.exit``, ``os._exit``, a flood of output,
writing to or deleting protected files, importing llmmath, starting a process:
each is reported by kind, the check returns (never hangs or raises), and the
worker process and its temporary directory are gone afterwards.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

import llmmath
from llmmath.exercises import checker, get_exercise
from llmmath.exercises.checker import check_source
from llmmath.exercises.sandbox import Limits, Worker

FAST = Limits(call_seconds=2.0, load_seconds=20.0, cpu_seconds=30, memory_mb=768,
              output_chars=200_000, file_bytes=1 << 20)
PACKAGE = Path(llmmath.__file__).resolve().parent


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMMATH_DATA_DIR", str(tmp_path / "data"))


def _check(source: str, name: str = "stable_softmax", limits: Limits = FAST, **kw):
    for _ in range(3):
        result = check_source(name, textwrap.dedent(source), seed=1, max_examples=5,
                              limits=limits, record=False, **kw)
        # a library file edited by someone else during the check voids it: check again
        if not result.failures or result.failures[0].kind != "tampered":
            return result
    return result


def _kind(result) -> str:
    assert not result.passed
    assert len(result.failures) == 1
    return result.failures[0].kind


def test_syntax_error_names_the_line():
    r = _check("import numpy as np\n\ndef softmax(x, axis=-1)\n    return x\n")
    assert _kind(r) == "syntax"
    assert "line 3" in r.failures[0].message
    assert "def softmax(x, axis=-1)" in r.failures[0].detail
    assert r.cases == 0                                # nothing was run


def test_exception_shows_the_learners_traceback_and_input():
    r = _check("""
        import numpy as np
        def softmax(x, axis=-1):
            return x[10]
    """, name="stable_softmax")
    f = r.failures[0]
    assert _kind(r) == "exception"
    assert "IndexError" in f.message and "return x[10]" in f.detail
    assert "stable_softmax.py" in f.detail and "_worker.py" not in f.detail
    assert "x" in f.inputs


def test_endless_loop_in_the_function_is_stopped():
    r = _check("""
        def softmax(x, axis=-1):
            while True:
                pass
    """)
    assert _kind(r) == "timeout"
    assert "2 s" in r.failures[0].message and "x" in r.failures[0].inputs


def test_endless_loop_at_the_top_of_the_file_is_stopped():
    r = _check("while True:\n    pass\n\ndef softmax(x, axis=-1):\n    return x\n",
               limits=Limits(load_seconds=3.0, call_seconds=2.0))
    assert _kind(r) == "timeout"
    assert "top level" in r.failures[0].message


def test_huge_allocation_is_a_memory_message():
    r = _check("""
        import numpy as np
        def softmax(x, axis=-1):
            big = np.ones(200_000_000)          # 1.6 GB, over the 768 MiB limit
            return big[: x.size].reshape(x.shape)
    """)
    assert _kind(r) == "memory"
    assert "768 MiB" in r.failures[0].message


def test_huge_python_allocation_is_a_memory_message():
    r = _check("""
        def softmax(x, axis=-1):
            return [0.0] * 10**10
    """)
    assert _kind(r) == "memory"


def test_sys_exit_is_reported():
    r = _check("""
        import sys
        def softmax(x, axis=-1):
            sys.exit(3)
    """)
    assert _kind(r) == "exit"
    assert "sys.exit(3)" in r.failures[0].message


def test_sys_exit_at_load_is_reported():
    r = _check("import sys\nsys.exit(0)\n\ndef softmax(x, axis=-1):\n    return x\n")
    assert _kind(r) == "exit"


def test_os_exit_is_reported():
    r = _check("""
        import os
        def softmax(x, axis=-1):
            os._exit(4)
    """)
    assert _kind(r) == "died"
    assert "status 4" in r.failures[0].message


def test_a_flood_of_prints_is_stopped():
    r = _check("""
        def softmax(x, axis=-1):
            while True:
                print("spam " * 100)
    """)
    assert _kind(r) == "flood"
    assert "200,000" in r.failures[0].message


def test_a_flood_on_the_raw_file_descriptor_is_stopped():
    r = _check("""
        import os
        def softmax(x, axis=-1):
            while True:
                os.write(1, b"x" * 65536)
    """)
    assert _kind(r) == "output"


def test_printed_output_is_shown_with_a_wrong_answer():
    r = _check("""
        import numpy as np
        def softmax(x, axis=-1):
            print("debugging:", x.shape)
            return np.zeros_like(x)
    """)
    assert _kind(r) == "mismatch"
    assert "debugging:" in r.failures[0].detail


def test_deleting_or_overwriting_the_progress_database_is_refused(tmp_path):
    target = tmp_path / "data" / "progress.db"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"precious")
    for action in (f"os.remove({str(target)!r})", f"open({str(target)!r}, 'w').write('x')",
                   f"os.replace({str(target)!r}, {str(target) + '.moved'!r})"):
        r = _check(f"""
            import os
            def softmax(x, axis=-1):
                {action}
        """)
        assert _kind(r) == "forbidden", r.report()
        assert target.read_bytes() == b"precious"


def test_the_library_files_can_be_neither_read_nor_changed():
    victim = PACKAGE / "exercises" / "answers" / "stable_softmax.txt"
    before = victim.read_bytes()
    created = PACKAGE / "exercises" / "answers" / "zz_not_allowed.txt"
    try:
        for action in (f"open({str(victim)!r}).read()", f"os.remove({str(victim)!r})",
                       f"open({str(created)!r}, 'w').write('x')",
                       f"os.rename({str(victim)!r}, {str(created)!r})"):
            r = _check(f"""
                import os
                def softmax(x, axis=-1):
                    return {action}
            """)
            assert _kind(r) == "forbidden", r.report()
        assert victim.read_bytes() == before
        assert not created.exists()
    finally:
        created.unlink(missing_ok=True)


def test_changed_reference_files_void_the_check(tmp_path, monkeypatch):
    # Stand-in for a reference module: the audit hook does not guard this path, so the
    # learner's code really removes it, and the hash check must notice.
    fake = tmp_path / "reference.py"
    fake.write_text("def softmax(x): pass\n")
    monkeypatch.setattr(checker, "_integrity_files", lambda ex: [fake])
    ex = get_exercise("stable_softmax")
    source = ex.solution + f"\nimport os\nos.remove({str(fake)!r})\n"
    r = check_source("stable_softmax", source, seed=1, max_examples=3, limits=FAST,
                     record=False)
    assert _kind(r) == "tampered"
    assert str(fake) in r.failures[0].message


def test_importing_llmmath_is_refused_in_the_source_and_at_run_time():
    r = _check("from llmmath.prob import softmax\n")
    assert _kind(r) == "forbidden" and "imports llmmath" in r.failures[0].message
    r = _check("""
        def softmax(x, axis=-1):
            return __import__("llm" + "math").prob.softmax(x, axis)
    """)
    assert _kind(r) == "exception"
    assert "cannot be imported" in r.failures[0].message


def test_starting_a_process_is_refused():
    r = _check("""
        import subprocess
        def softmax(x, axis=-1):
            subprocess.run(["true"])
            return x
    """)
    assert _kind(r) == "forbidden"


def test_missing_function_and_wrong_signatures():
    assert _kind(_check("def soft(x):\n    return x\n")) == "missing"
    r = _check("def softmax(logits, dim=-1):\n    return logits\n")
    assert _kind(r) == "signature" and "softmax(x, axis=-1)" in r.failures[0].message
    r = _check("def layer_norm(x, gamma, beta, eps=1e-6):\n    return x\n", name="layer_norm")
    assert _kind(r) == "signature" and "1e-05" in r.failures[0].message
    r = _check("def softmax(x, axis=-1, extra):\n    return x\n")
    assert _kind(r) == "syntax"


def test_a_return_value_that_is_not_numbers():
    r = _check("""
        def softmax(x, axis=-1):
            return object()
    """)
    assert _kind(r) == "type"
    r = _check("""
        def softmax(x, axis=-1):
            pass
    """)
    assert _kind(r) == "mismatch" and "None" in r.failures[0].message


def test_nondeterministic_wrong_answers_still_fail():
    r = _check("""
        import random
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - np.max(x, axis=axis, keepdims=True))
            p = e / e.sum(axis=axis, keepdims=True)
            return p * (1.5 if random.random() < 0.5 else 1.0)
    """)
    assert not r.passed


def test_the_same_seed_finds_the_same_smallest_input():
    wrong = """
        import numpy as np
        def softmax(x, axis=-1):
            e = np.exp(x - np.max(x))
            return e / e.sum(axis=axis, keepdims=True)
    """
    # the global max shift passes every edge case but one; hypothesis finds its own case
    a = check_source("stable_softmax", textwrap.dedent(wrong), seed=7, max_examples=30,
                     limits=FAST, record=False)
    b = check_source("stable_softmax", textwrap.dedent(wrong), seed=7, max_examples=30,
                     limits=FAST, record=False)
    assert not a.passed and a.failures[0].inputs == b.failures[0].inputs
    assert "--seed 7" in a.report()


def test_worker_cleans_up_after_a_timeout():
    w = Worker("def f(x):\n    while True: pass\n", "f", limits=FAST)
    assert w.start().ok
    out = w.call([np.zeros(2)])
    assert out.kind == "timeout"
    assert not w.alive
    again = w.call([np.zeros(2)])                     # a killed worker is restarted
    assert again.kind == "timeout" and w.starts == 2
    tmp = w.tmp
    w.close()
    assert tmp is not None and not os.path.exists(tmp)


def test_worker_round_trips_values_exactly():
    src = "def f(*args):\n    return args\n"
    with Worker(src, "f", limits=FAST) as w:
        assert w.start().ok
        values = [np.array([1.5, -np.inf, np.nan], np.float32), np.arange(6).reshape(2, 3),
                  np.float32(2.5), 3, 2.0, True, None, [np.zeros(0)], (1, (2.5, "x"))]
        out = w.call(values)
        assert out.kind == "result"
        got = out.result
        assert got[0].dtype == np.float32 and np.array_equal(got[0], values[0], equal_nan=True)
        assert got[1].dtype == values[1].dtype and np.array_equal(got[1], values[1])
        assert isinstance(got[2], np.float32) and got[2] == np.float32(2.5)
        assert got[3:7] == (3, 2.0, True, None)
        assert got[7][0].shape == (0,) and got[8] == (1, (2.5, "x"))


def test_a_passing_check_reports_its_cases_and_seed():
    ex = get_exercise("causal_mask")
    r = check_source("causal_mask", ex.solution, seed=11, max_examples=5, record=False)
    assert r.passed and r.seed == 11
    assert r.cases == len(ex.edge_cases()) + 5
    assert "seed 11" in r.report()
