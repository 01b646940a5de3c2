"""How soon a lesson shows something: first paint, the title, the live lesson.

Starts ``llmmath course`` on a free port and opens a lesson in Debian's
chromium (Playwright), each time in a fresh browser context (an empty cache,
as on a first visit). For each visit it prints, in milliseconds from the start
of the navigation:

- first contentful paint (the browser's ``paint`` timing);
- the lesson's title on screen (an ``<h1>`` holding the title, anywhere);
- the live lesson on screen (marimo's rendering of the lesson's header);

then the medians. It asserts nothing; the browser test checks the order
(title before the live lesson) without timing it.

    .venv/bin/python bench/bench_first_paint.py [--lesson NAME] [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from llmmath.lessons import get_lesson

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Runs in the page before any of its scripts: the moment each milestone appears.
WATCH = """
(title) => {
  window.__paint = {};
  const seen = () => {
    const p = window.__paint;
    if (p.title === undefined && [...document.querySelectorAll('h1')]
          .some(h => h.textContent.trim() === title)) p.title = performance.now();
    if (p.live === undefined && document.querySelector('#root h1')) p.live = performance.now();
  };
  new MutationObserver(seen).observe(document, {childList: true, subtree: true});
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log: Path) -> tuple[subprocess.Popen, str]:
    out = open(log, "w")  # noqa: SIM115 (the process keeps it)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmmath.cli", "course", "--no-browser", "--port", str(free_port())],
        stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 180
    # the address carries the access token, which the server trades for a cookie
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    while time.monotonic() < deadline and proc.poll() is None:
        match = re.search(r"http://127\.0\.0\.1:\d+/\S*", log.read_text())
        if match:
            try:
                with opener.open(match.group(0), timeout=5) as response:
                    if response.status == 200:
                        return proc, match.group(0)
            except OSError:
                pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the course server did not come up:\n{log.read_text()}")


def lesson_url(home_url: str, name: str) -> str:
    """The lesson's address, carrying the access token of the printed address (if any)."""
    base, _, query = home_url.partition("?")
    return f"{base.rstrip('/')}/lesson/{name}/" + (f"?{query}" if query else "")


def visit(browser, url: str, title: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(120_000)
    try:
        context.add_init_script(f"({WATCH})({json.dumps(title)})")
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.__paint && window.__paint.live !== undefined",
                               timeout=120_000)
        marks = page.evaluate("() => window.__paint")
        fcp = page.evaluate(
            "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
        return {"first_contentful_paint": fcp, "title": marks.get("title"),
                "live": marks.get("live")}
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="attention")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    lesson = get_lesson(args.lesson)
    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("Debian's chromium is needed: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp:
        proc, home = start_server(Path(tmp) / "server.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                url = lesson_url(home, lesson.name)
                visit(browser, url, lesson.title)  # warm-up: the server's own first import
                runs = [visit(browser, url, lesson.title) for _ in range(args.repeats)]
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    for i, run in enumerate(runs, start=1):
        print(f"visit {i}: " + ", ".join(f"{k} {v:.0f} ms" for k, v in run.items()))
    medians = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"lesson {lesson.name!r}, median of {len(runs)} cold visits: "
          f"first contentful paint {medians['first_contentful_paint']:.0f} ms, "
          f"title {medians['title']:.0f} ms, live lesson {medians['live']:.0f} ms")


if __name__ == "__main__":
    main()
