"""The course in a real browser (Debian's chromium driven by Playwright).

Starts ``llmmath course`` on a free port and opens the address it prints (with
its access token), checks the home page lists the lessons in course order,
opens the attention lesson, checks that the lesson's title and a progress
indicator are on screen before the live lesson (the first paint; its timing is
``bench/bench_first_paint.py``'s job, not this test's), moves the temperature
slider with the keyboard and checks that the weight shown on the page becomes
the value llmmath computes for the new temperature, and follows a link from
the header to the source of a function it teaches. Every request the browser
makes is recorded; any that leaves 127.0.0.1 fails the test (and is blocked).
Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from llmmath import prob
from llmmath.lessons import LESSONS

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1"}
READOUT = re.compile(r"Weight of “The” on itself:\s*([0-9]+\.[0-9]+)")

# Runs in every page before its own scripts: when the lesson's title first shows (with
# the progress indicator beside it or not) and when marimo's live lesson appears.
WATCH = """
(title) => {
  window.__paint = {};
  const seen = () => {
    const p = window.__paint;
    if (p.title === undefined && [...document.querySelectorAll('h1')]
          .some(h => h.textContent.trim() === title)) {
      p.title = performance.now();
      p.indicator = !!document.querySelector('[data-first-paint-progress][role=status]');
      p.title_in_live = !!document.querySelector('#root h1');
    }
    if (p.live === undefined && document.querySelector('#root h1')) p.live = performance.now();
  };
  new MutationObserver(seen).observe(document, {childList: true, subtree: true});
}
"""

# The worked example of the lesson (syllabus 001, "Matrix Multiplication in Attention").
Q = np.array([[1.0, 0.5], [0.3, 0.8], [0.1, 0.9]])
K = np.array([[0.9, 0.2], [0.4, 0.7], [0.2, 0.8]])

pytestmark = [pytest.mark.browser, pytest.mark.lesson_attention,
              pytest.mark.xdist_group("browser")]


def expected_self_weight(tau: float, causal: bool = False) -> float:
    """What the page should show for "The" -> "The", computed with llmmath directly."""
    if causal:
        return 1.0  # the first query sees only itself
    w = prob.softmax(Q @ K.T / np.sqrt(Q.shape[1]), axis=-1, temperature=tau)
    return float(w[0, 0])


def shows(text: str, want: float) -> bool:
    """Whether the readout in ``text`` is ``want`` rounded to its 4 decimals.

    Compared as numbers, half a unit of the last digit apart at most (plus
    rounding), not as strings: the page and this test may differ in the last
    bits, which could flip a printed digit at a rounding boundary.
    """
    match = READOUT.search(text)
    return match is not None and abs(float(match.group(1)) - want) <= 0.5e-4 + 1e-12


def wait_until_shown(page, want: float, limit_s: float = 60.0) -> None:
    """Wait for the readout to show ``want`` (the widget re-renders asynchronously)."""
    deadline = time.monotonic() + limit_s  # a hang guard, not a timing check
    text = ""
    while time.monotonic() < deadline:
        text = page.get_by_text(READOUT).first.inner_text()
        if shows(text, want):
            return
        time.sleep(0.2)
    pytest.fail(f"the readout never showed {want:.6f}: {text!r}")


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_in_a_terminal() -> None:
    """Ctrl+C's default in the server, as in a terminal, even when this run ignores it.

    A test run started in the background (nohup, ``&``, some CI runners) ignores
    SIGINT, and a child inherits that; the server then rightly ignores Ctrl+C too.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_server(log: Path, env: dict | None = None) -> tuple[subprocess.Popen, str, object]:
    out = open(log, "w")  # noqa: SIM115 (closed by the caller)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmmath.cli", "course", "--no-browser",
         "--port", str(_free_port())],
        stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        preexec_fn=_as_in_a_terminal)
    deadline = time.monotonic() + 180  # a hang guard for a loaded machine, not a timing check
    # the printed address carries the access token, which the server trades for a cookie
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    while time.monotonic() < deadline and proc.poll() is None:
        match = re.search(r"http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_\-]+", log.read_text())
        if match:
            try:
                with opener.open(match.group(0), timeout=5) as response:
                    if response.status == 200:
                        return proc, match.group(0), out
            except OSError:
                pass
        time.sleep(0.2)
    proc.kill()
    out.close()
    pytest.fail(f"the course server did not come up:\n{log.read_text()}")


def _stop(proc: subprocess.Popen, out) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    out.close()


def test_course_in_the_browser(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed (make browser installs it)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    proc, url, out = _start_server(tmp_path / "server.log")
    requests: list[str] = []
    external: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            # hang guards for a loaded machine (Playwright's default is 30 s), not timing checks
            context.set_default_timeout(120_000)
            context.set_default_navigation_timeout(120_000)

            def route(r):  # sees every HTTP(S) request of every page and worker
                requests.append(r.request.url)
                parsed = urlparse(r.request.url)
                if parsed.scheme in ("http", "https", "ws", "wss") and \
                        parsed.hostname not in LOCAL_HOSTS:
                    external.append(r.request.url)
                    r.abort()
                else:
                    r.continue_()

            context.route("**/*", route)
            attention = next(lesson for lesson in LESSONS if lesson.name == "attention")
            context.add_init_script(f"({WATCH})({json.dumps(attention.title)})")
            page = context.new_page()
            page.on("websocket", lambda ws: requests.append(ws.url))
            page.on("websocket", lambda ws: external.append(ws.url)
                    if urlparse(ws.url).hostname not in LOCAL_HOSTS else None)

            # 1. the home page (the printed address) lists the lessons in course order
            page.goto(url)
            assert "token=" not in page.url  # traded for a cookie
            listed = page.locator("[data-lesson]").evaluate_all(
                "els => els.map(e => e.dataset.lesson)")
            assert listed == [lesson.name for lesson in LESSONS]
            page.screenshot(path=str(SHOTS / "home.png"), full_page=True)

            # 2. open the attention lesson from the home page; wait for the kernel
            page.locator('a[data-lesson="attention"]').click()
            page.wait_for_url("**/lesson/attention/")
            readout = page.get_by_text(READOUT).first
            expect(readout).to_be_visible(timeout=90_000)
            assert shows(readout.inner_text(), expected_self_weight(1.0))
            page.screenshot(path=str(SHOTS / "attention.png"), full_page=True)

            # 2b. the first paint: the title and a progress indicator came before the live lesson
            paint = page.evaluate("() => window.__paint")
            assert paint.get("title") is not None and paint.get("live") is not None, paint
            assert paint["indicator"] and not paint["title_in_live"], paint
            assert paint["title"] < paint["live"], paint
            assert page.locator("#llmmath-first-paint").count() == 0  # replaced by the live page

            # 3. move the temperature slider with the keyboard
            slider = page.get_by_role("slider").first
            slider.scroll_into_view_if_needed()
            slider.focus()
            for _ in range(5):
                slider.press("ArrowRight")
            # the widget re-renders asynchronously: wait for the value, do not read it at once
            expect(slider).to_have_attribute("aria-valuenow", re.compile(r"^1\.50*$"), timeout=60_000)
            tau = float(slider.get_attribute("aria-valuenow"))
            assert abs(tau - 1.5) < 1e-9, tau
            want = expected_self_weight(tau)
            assert abs(want - expected_self_weight(1.0)) > 1e-3
            wait_until_shown(page, want)
            page.screenshot(path=str(SHOTS / "attention_temperature.png"), full_page=False)

            # 4. the causal switch: "The" can then only attend to itself
            page.get_by_role("switch").first.click()
            wait_until_shown(page, expected_self_weight(tau, causal=True))
            page.screenshot(path=str(SHOTS / "attention_causal.png"), full_page=False)

            # 5. the header links lead home and to the neighbouring lessons
            names = [lesson.name for lesson in LESSONS]
            i = names.index("attention")
            hrefs = page.locator("a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
            for want in ("/", f"/lesson/{names[i - 1]}/", f"/lesson/{names[i + 1]}/"):
                assert want in hrefs, (want, hrefs)

            # 5b. ... and to the source of each function it teaches (a new tab)
            link = page.locator('a[data-teaches="llmmath.prob.softmax"]').first
            href = link.get_attribute("href")
            assert href.startswith("/source/llmmath/") and href.endswith("#softmax"), href
            with context.expect_page() as opened:
                link.click()
            source = opened.value
            source.wait_for_load_state()
            expect(source.locator("#softmax")).to_be_visible()
            assert "def" in source.locator("#softmax").inner_text()
            source.screenshot(path=str(SHOTS / "source_softmax.png"))
            source.close()

            # 6. Ctrl+C stops the server even while this lesson tab holds a kernel
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)  # a hang guard, not a timing assertion
            except subprocess.TimeoutExpired:
                pytest.fail("the course server ignored Ctrl+C while a lesson was open")
            context.close()
            browser.close()
    finally:
        _stop(proc, out)
    duration = time.perf_counter() - started
    report = {"duration_s": round(duration, 2), "requests": len(requests),
              "external_requests": external, "urls": sorted(set(requests))}
    _write_atomic(SHOTS.parent / "browser_requests.json", json.dumps(report, indent=2) + "\n")
    print(f"browser test: {duration:.1f} s, {len(requests)} requests, "
          f"{len(external)} outside 127.0.0.1")
    assert requests, "no request recorded: the route hook did not run"
    assert not external, f"requests left 127.0.0.1: {external}"


# The exercise typed into the lesson's editor: first with the diagonal on the wrong side
# (the upper triangle), then right, written with loops (not the reference's style).
WRONG_MASK = """import numpy as np


def causal_mask(T):
    return np.triu(np.ones((T, T), dtype=bool))
"""
RIGHT_MASK = """import numpy as np


def causal_mask(T):
    mask = np.zeros((T, T), dtype=bool)
    for i in range(T):
        for j in range(i + 1):
            mask[i, j] = True
    return mask
"""


def _type_into(page, editor, text: str) -> None:
    """Replace the text of a CodeMirror editor (insert_text: no auto-indent, no slow typing)."""
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)


def test_exercise_in_the_browser(tmp_path: Path) -> None:
    """Type a wrong causal mask into the attention lesson's editor, Check, see the failure
    with its input and a hint; type a right one, Check, see the pass; the home counts it."""
    from playwright.sync_api import expect, sync_playwright

    from llmmath.exercises.progress import ProgressStore

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed (make browser installs it)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    data = tmp_path / "data"          # the learner's progress for this test only
    proc, url, out = _start_server(tmp_path / "server.log", env={"LLMMATH_DATA_DIR": str(data)})
    external: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1366, "height": 900})
            context.set_default_timeout(120_000)       # hang guards, not timing checks
            context.set_default_navigation_timeout(120_000)

            def route(r):
                if urlparse(r.request.url).hostname not in LOCAL_HOSTS:
                    external.append(r.request.url)
                    r.abort()
                else:
                    r.continue_()

            context.route("**/*", route)
            page = context.new_page()
            page.goto(url)
            expect(page.locator('[data-progress="attention"]')).to_have_text(
                "0/2 exercises passed")
            page.locator('a[data-lesson="attention"]').click()
            page.wait_for_url("**/lesson/attention/")

            # the header links the exercise to its block at the end of the lesson
            link = page.locator('[data-exercise-link="causal_mask"]').first
            expect(link).to_be_visible(timeout=90_000)
            assert link.get_attribute("href") == "#exercise-causal_mask"
            expect(page.locator("#exercise-causal_mask")).to_have_count(1)

            editor = page.locator(".cm-content[contenteditable=true]",
                                  has_text="llmmath exercise causal_mask")
            expect(editor).to_have_count(1)
            check = page.get_by_role("button", name="Check causal_mask")
            verdict = page.locator('[data-exercise-result="causal_mask"]')

            # 1. a wrong mask: the failure, the input that shows it, expected vs got, a hint
            _type_into(page, editor, WRONG_MASK)
            check.click()
            expect(verdict).to_have_attribute("data-passed", "false", timeout=120_000)
            text = verdict.inner_text()
            for want in ("Not passed yet", "causal_mask returned a wrong answer", "Input",
                         "expected:", "got:", "Tolerance", "Hint 1 of 3"):
                assert want in text, (want, text)
            verdict.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "exercise_failed.png"), full_page=False)

            # 2. a right mask (now the editor holds the loops version): the pass
            editor = page.locator(".cm-content[contenteditable=true]", has_text="def causal_mask")
            _type_into(page, editor.first, RIGHT_MASK)
            check.click()
            expect(verdict).to_have_attribute("data-passed", "true", timeout=120_000)
            assert "Passed" in verdict.inner_text()
            verdict.scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / "exercise_passed.png"), full_page=False)

            # 3. the course home counts it, from the same store as the command line
            page.goto(url.split("?")[0])
            expect(page.locator('[data-progress="attention"]')).to_have_text(
                "1/2 exercises passed")
            context.close()
            browser.close()
    finally:
        _stop(proc, out)
    with ProgressStore(data / "progress.db") as store:
        record = store.get("causal_mask")
        outcomes = [a["passed"] for a in store.attempts("causal_mask")]
    assert (record.attempts, record.passes, record.hints_used) == (2, 1, 1), record
    assert outcomes == [False, True]
    assert not external, f"requests left 127.0.0.1: {external}"
