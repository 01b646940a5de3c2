"""``llmmath course`` / ``llmmath lesson``: help, the server, errors, the export."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmmath.cli import app
from llmmath.lessons import LESSONS

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/\S*)\?token=([A-Za-z0-9_\-]+)")

runner = CliRunner()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, str]:
    # a hang guard, not a timing check: a loaded 2-core machine can take long to render a page
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=60) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


class Server:
    """``llmmath ARGS --no-browser`` in a subprocess; stdout goes to a file.

    ``url`` is the address it prints (with its access token), ``base`` the
    server's root; :meth:`get` fetches a path as the learner's browser does,
    with the cookie the first visit of ``url`` left.
    """

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.log = tmp_path / "server.log"
        self._out = open(self.log, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llmmath.cli", *args, "--no-browser"],
            stdout=self._out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.url = self._wait_for_url()

    def text(self) -> str:
        return self.log.read_text()

    def _wait_for_url(self, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = URL.search(self.text())
            if match:
                self.base = f"http://127.0.0.1:{match.group(1)}/"
                while time.monotonic() < deadline:  # poll until it answers
                    try:
                        if _get(match.group(0), self.opener)[0] == 200:
                            return match.group(0)
                    except OSError:
                        pass
                    time.sleep(0.2)
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"the course server did not come up:\n{self.text()}")

    def get(self, path: str) -> tuple[int, str]:
        return _get(self.base + path, self.opener)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def test_help_lists_the_course_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "course" in result.output and "lesson" in result.output
    result = runner.invoke(app, ["course", "--help"])
    assert result.exit_code == 0
    for option in ("--no-browser", "--port", "--export"):
        assert option in result.output
    result = runner.invoke(app, ["lesson", "--help"])
    assert result.exit_code == 0 and "--no-browser" in result.output


def test_help_does_not_import_the_server_stack() -> None:
    code = ("import sys; from llmmath.cli import app; "
            "heavy = [m for m in ('marimo', 'uvicorn', 'starlette', 'matplotlib', 'scipy', 'torch') if m in sys.modules]; "
            "print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_unknown_lesson_lists_the_valid_names() -> None:
    result = runner.invoke(app, ["lesson", "no_such_lesson", "--no-browser"])
    assert result.exit_code == 2
    assert "no_such_lesson" in result.output
    for lesson in LESSONS:
        assert lesson.name in result.output


def _server_on_a_free_port(tmp_path: Path, *args: str) -> tuple[Server, int]:
    """Start the server on a port that was free a moment ago.

    Another process (a parallel test worker, an outgoing connection) can take the
    port between ``_free_port()`` and the server's bind; the server then falls
    back to another port and says so. That race is retried with a fresh port,
    so the test still checks that ``--port`` is honoured.
    """
    for attempt in range(5):
        port = _free_port()
        server = Server(tmp_path / f"try{attempt}", *args, "--port", str(port))
        if server.base == f"http://127.0.0.1:{port}/" or "busy" not in server.text():
            return server, port
        server.stop()
    pytest.fail("five free ports were all taken before the server could bind one")


@pytest.mark.lesson_attention
def test_course_serves_home_and_lesson_on_localhost(tmp_path: Path) -> None:
    server, port = _server_on_a_free_port(tmp_path, "course")
    try:
        match = URL.fullmatch(server.url)
        assert match and match.group(1) == str(port) and match.group(2) == "/"
        assert _get(server.base)[0] == 403       # without the token nothing is served
        status, home = server.get("")
        assert status == 200
        positions = [home.find(f'data-lesson="{lesson.name}"') for lesson in LESSONS]
        assert all(p >= 0 for p in positions) and positions == sorted(positions)
        status, page = server.get("lesson/attention/")
        assert status == 200 and "<html" in page.lower()
        assert page.find('id="llmmath-first-paint"') < page.find('<div id="root">')
        status, _ = server.get("lesson/attention")  # redirected to the slash form
        assert status == 200
        status, page = server.get("lesson/no_such_lesson/")
        assert status == 404 and "no lesson of that name" in page
    finally:
        server.stop()


def test_server_socket_is_loopback_only() -> None:
    from llmmath import server

    sock, _ = server.bind_socket(0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()


@pytest.mark.lesson_attention
def test_busy_port_falls_back_and_lesson_url_is_reported(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        server = Server(tmp_path, "lesson", "attention", "--port", str(port))
        try:
            match = URL.fullmatch(server.url)
            assert match and int(match.group(1)) != port
            assert match.group(2) == "/lesson/attention/"
            assert "busy" in server.text()
            assert server.get("lesson/attention/")[0] == 200
        finally:
            server.stop()


def test_export_writes_one_page_per_lesson_and_an_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Which files the export writes; marimo itself is replaced by a stub here."""
    from llmmath.commands import course

    def fake_export(lesson, out_dir, scratch):  # the real one runs `marimo export html`
        (out_dir / f"{lesson.name}.html").write_text(f"<html>{lesson.name}</html>")
        return lesson, None

    monkeypatch.setattr(course, "_export_one", fake_export)
    out = tmp_path / "site"
    result = runner.invoke(app, ["course", "--export", str(out)])
    assert result.exit_code == 0, result.output
    present = [lesson.name for lesson in LESSONS if lesson.path.exists()]
    assert sorted(p.name for p in out.glob("*.html")) == sorted(
        [f"{name}.html" for name in present] + ["index.html"])
    assert not list(out.glob(".*"))  # no temporary files left behind
    assert "CDN" in result.output  # exported pages fetch marimo's frontend when opened
    index = (out / "index.html").read_text()
    positions = [index.find(f'href="{name}.html"') for name in present]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_export_rejects_unknown_lesson_names(tmp_path: Path) -> None:
    result = runner.invoke(app, ["course", "--export", str(tmp_path), "--lesson", "nope"])
    assert result.exit_code == 2 and "nope" in result.output and "attention" in result.output
    assert not list(tmp_path.iterdir())
    result = runner.invoke(app, ["course", "--lesson", "attention", "--no-browser"])
    assert result.exit_code == 2 and "--export" in result.output


@pytest.mark.lesson_attention
def test_export_runs_marimo_on_a_real_lesson(tmp_path: Path) -> None:
    snapshot = LESSONS[0].path.parent / "__marimo__" / "session" / "attention.py.json"
    before = snapshot.stat().st_mtime_ns if snapshot.exists() else None
    out = tmp_path / "site"
    result = runner.invoke(app, ["course", "--export", str(out), "--lesson", "attention"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.glob("*.html")) == ["attention.html", "index.html"]
    page = (out / "attention.html").read_text()
    assert "<marimo-code" in page or "marimo" in page
    # navigation inside the exported lesson points at the exported files
    i = [lesson.name for lesson in LESSONS].index("attention")
    assert f"{LESSONS[i + 1].name}.html" in page
    assert f"/lesson/{LESSONS[i + 1].name}/" not in page
    index = (out / "index.html").read_text()
    assert 'href="attention.html"' in index
    assert f'href="{LESSONS[i + 1].name}.html"' not in index  # not exported: no dead link
    # marimo's session snapshot did not land in the package's lesson folder
    assert (snapshot.stat().st_mtime_ns if snapshot.exists() else None) == before


def test_syllabus_pages_are_named_by_subject() -> None:
    """Wherever a learner sees a syllabus page, it has its subject, not its hash file name."""
    from llmmath.ledger import SYLLABUS_FILES, SYLLABUS_TITLES, get_claim
    from llmmath.server import render_home

    home = render_home(lambda lesson: None)
    assert all(title in home for title in SYLLABUS_TITLES.values())
    assert "five public web pages" in home.replace("\n", " ")
    result = runner.invoke(app, ["verify", "--file", "001"])
    assert SYLLABUS_TITLES["001"] in result.output
    assert SYLLABUS_FILES["001"] not in result.output
    shown = runner.invoke(app, ["verify", "--show", "001-attention-worked-example"]).output
    assert SYLLABUS_TITLES["001"] in shown and SYLLABUS_FILES["001"] not in shown
    assert get_claim("001-attention-worked-example").page == f"“{SYLLABUS_TITLES['001']}”"
