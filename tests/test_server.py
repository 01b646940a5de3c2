"""The course server refuses other websites: hostile requests, sent for real.

A real ``llmmath course`` runs in a subprocess (marimo and all); the requests
below are those a page on another website, a DNS-rebinding page, or a script
without the token could send: a foreign ``Origin``, a missing or wrong token,
a foreign ``Host``, out-of-range control values through marimo's own
endpoint, more lesson tabs than the server runs at once, and a tab left alone.
Each is refused, or clamped, or closed.

Also here: the unit-level pieces (the ``Host`` check, the kernel count with
stand-in session managers).
"""

from __future__ import annotations

import html
import json
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

from llmmath import server as course_server

ROOT = Path(__file__).resolve().parents[1]
URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\S*\?token=([A-Za-z0-9_\-]+)")
WAIT_S = 180  # hang guards for a loaded machine, not timing checks

pytestmark = [pytest.mark.xdist_group("course_server")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Course:
    """``llmmath course --no-browser ARGS`` in a subprocess, with its port and token."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.log = tmp_path / "server.log"
        self._out = open(self.log, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llmmath.cli", "course", "--no-browser",
             "--port", str(_free_port()), *args],
            stdout=self._out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            match = URL.search(self.log.read_text())
            if match:
                self.port, self.token = int(match.group(1)), match.group(2)
                self.origin = f"http://127.0.0.1:{self.port}"
                try:
                    if self.get("/")[0] == 200:
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"the course server did not come up:\n{self.log.read_text()}")

    @property
    def cookie(self) -> str:
        return f"llmmath_token_{self.port}={self.token}"

    def request(self, path: str, *, method: str = "GET", headers: dict | None = None,
                body: bytes | None = None, cookie: bool = True,
                follow: bool = False) -> tuple[int, dict, str]:
        """One request; ``cookie`` sends the token's cookie (as the learner's browser would)."""
        headers = dict(headers or {})
        if cookie:
            headers.setdefault("Cookie", self.cookie)
        req = urllib.request.Request(f"{self.origin}{path}", data=body, method=method,
                                     headers=headers)
        handlers = [] if follow else [_NoRedirect()]
        opener = urllib.request.build_opener(*handlers)
        try:
            with opener.open(req, timeout=60) as response:
                return (response.status, dict(response.headers),
                        response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")

    def get(self, path: str, **kwargs) -> tuple[int, str]:
        status, _, text = self.request(path, **kwargs)
        return status, text

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the 3xx itself is what the tests look at
        return None


def _ws(course: Course, lesson: str, session: str, *, origin: str | None = "same",
        token: bool = True, host: str | None = None, query: bool = False):
    """A websocket to a lesson's kernel, as marimo's frontend opens it."""
    from websockets.sync.client import connect

    headers = {}
    if token and not query:
        headers["Cookie"] = course.cookie
    # another Host: the address names it, the socket still goes to 127.0.0.1
    url = f"ws://{host or '127.0.0.1'}:{course.port}/lesson/{lesson}/ws?session_id={session}"
    if token and query:
        url += f"&token={course.token}"
    sock = socket.create_connection(("127.0.0.1", course.port), timeout=60)
    return connect(url, sock=sock, origin=course.origin if origin == "same" else origin,
                   additional_headers=headers, open_timeout=60, close_timeout=5)


def _refused_handshake(course: Course, **kwargs) -> int:
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as info, \
            _ws(course, "sampling", f"s-refused-{time.time_ns()}", **kwargs):
        pass
    return info.value.response.status_code


def _messages_until_run(ws, limit_s: float = WAIT_S) -> list[dict]:
    """marimo's messages until the kernel reports a finished run."""
    out = []
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=limit_s))
        out.append(message)
        if message.get("op") == "completed-run":
            return out
    pytest.fail("the kernel did not finish its run")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory):
    server = Course(tmp_path_factory.mktemp("course"), "--max-kernels", "2")
    yield server
    server.stop()


# ------------------------------------------------------------ the token

def test_every_page_needs_the_token(course: Course) -> None:
    for path in ("/", "/lesson/sampling/", "/lesson/sampling/api/status",
                 "/source/llmmath/info.py"):
        status, text = course.get(path, cookie=False)
        assert status == 403, path
        assert "token" in text
    status, _ = course.get("/", cookie=False, headers={"Cookie": f"llmmath_token_{course.port}=x"})
    assert status == 403
    status, _ = course.get("/?token=wrong", cookie=False)
    assert status == 403


def test_the_printed_token_becomes_a_cookie(course: Course) -> None:
    status, headers, _ = course.request(f"/lesson/sampling/?token={course.token}", cookie=False)
    assert status == 303
    assert headers["location"] == "/lesson/sampling/"  # the token leaves the address bar
    cookie = headers["set-cookie"]
    assert f"llmmath_token_{course.port}={course.token}" in cookie
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    # a browser keeps the cookie and follows the redirect
    jar = urllib.request.HTTPCookieProcessor(CookieJar())
    opener = urllib.request.build_opener(jar)
    with opener.open(f"{course.origin}/?token={course.token}", timeout=60) as response:
        assert response.status == 200 and "data-lesson" in response.read().decode()
    with opener.open(f"{course.origin}/source/llmmath/info.py", timeout=60) as response:
        assert response.status == 200


# ------------------------------------------------------------ Host and Origin

@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example",
                                  "localhost.evil.example:{port}", ""])
def test_a_foreign_host_header_is_refused(course: Course, host: str) -> None:
    """DNS rebinding: a page whose own name now points at 127.0.0.1 still sends its name."""
    status, _ = course.get("/", headers={"Host": host.format(port=course.port)})
    assert status == 403


def test_localhost_is_accepted(course: Course) -> None:
    status, _ = course.get("/", headers={"Host": f"localhost:{course.port}",
                                         "Cookie": course.cookie})
    assert status == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null",
                                    "http://127.0.0.1:1", "http://localhost:{port}"])
def test_a_foreign_origin_is_refused(course: Course, origin: str) -> None:
    """Another origin, even this machine's other name or another port, is another website."""
    origin = origin.format(port=course.port)
    body = json.dumps({"objectIds": ["x"], "values": [1]}).encode()
    for method, path, data in (("GET", "/", None),
                               ("POST", "/lesson/sampling/api/kernel/set_ui_element_value", body),
                               ("OPTIONS", "/lesson/sampling/api/kernel/set_ui_element_value",
                                None)):
        status, headers, _ = course.request(path, method=method, body=data, headers={
            "Origin": origin, "Content-Type": "application/json",
            "Access-Control-Request-Method": "POST"})
        assert status == 403, (method, path)
        assert not any(k.lower().startswith("access-control-") for k in headers)


def test_a_cross_site_fetch_is_refused(course: Course) -> None:
    status, _ = course.get("/lesson/sampling/", headers={
        "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"})
    assert status == 403


def test_no_response_allows_other_origins(course: Course) -> None:
    """marimo answers ``access-control-allow-origin: *``; the server removes it."""
    for path in ("/", "/lesson/sampling/", "/lesson/sampling/api/status"):
        _, headers, _ = course.request(path, headers={"Origin": course.origin})
        assert not any(k.lower().startswith("access-control-") for k in headers), path
        assert headers.get("x-frame-options") == "SAMEORIGIN"


def test_marimo_s_other_kernel_transports_are_closed(course: Course) -> None:
    """Kernels start over /ws only, where they are counted; /sse would start uncounted ones."""
    for path in ("/lesson/sampling/sse?session_id=s-sse", "/lesson/sampling/ws_sync"):
        assert course.get(path)[0] == 404, path


def test_websockets_need_the_token_and_this_origin(course: Course) -> None:
    assert _refused_handshake(course, origin="http://evil.example") == 403
    assert _refused_handshake(course, origin="null") == 403
    assert _refused_handshake(course, token=False) == 403
    assert _refused_handshake(course, host="evil.example") == 403


# ------------------------------------------------------------ the first paint

def test_a_lesson_page_paints_its_title_before_marimo_loads(course: Course) -> None:
    from llmmath.lessons import get_lesson
    from llmmath.source_view import source_href

    lesson = get_lesson("sampling")
    status, page = course.get("/lesson/sampling/")
    assert status == 200
    head, body = page.split("</head>", 1)
    shell = body.index('id="llmmath-first-paint"')
    assert f"<h1>{html.escape(lesson.title)}</h1>" in body[shell:body.index('<div id="root">')]
    assert 'role="status"' in body[shell:body.index('<div id="root">')]
    for dotted in lesson.teaches:
        assert source_href(dotted) in body[shell:], dotted
    # no stylesheet in the head holds the first paint back; marimo's follow it in the body
    assert 'rel="stylesheet"' not in head
    assert shell < body.index('rel="stylesheet"') < body.index('<div id="root">')
    assert course.get("/lesson/sampling/") == (status, page)  # the same page every time


# ------------------------------------------------------------ the source view

def _raw_get(course: Course, raw_path: str) -> int:
    """GET a path exactly as written (urllib would tidy ``..`` away)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", course.port, timeout=60)
    try:
        conn.putrequest("GET", raw_path, skip_accept_encoding=True)
        conn.putheader("Cookie", course.cookie)
        conn.endheaders()
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_the_source_view_serves_package_files(course: Course) -> None:
    from llmmath.source_view import locate

    rel, anchor = locate("llmmath.prob.softmax")
    status, headers, page = course.request(f"/source/{rel}")
    assert status == 200 and f'id="{anchor}"' in page and 'id="L1"' in page
    assert "script-src" not in headers["content-security-policy"]   # no script may run
    assert "default-src 'none'" in headers["content-security-policy"]


@pytest.mark.parametrize("raw", [
    "/source/llmmath/../../pyproject.toml", "/source/llmmath/%2e%2e/%2e%2e/pyproject.toml",
    "/source/llmmath/..%2f..%2fpyproject.toml", "/source//etc/passwd",
    "/source/llmmath/info.pyc", "/source/llmmath/ledger/CLAIMS.md",
    "/source/numpy/__init__.py", "/source/llmmath/no_such_module.py", "/source/",
    "/source/llmmath/%00info.py",
])
def test_the_source_view_refuses_everything_else(course: Course, raw: str) -> None:
    assert _raw_get(course, raw) == 404


# ------------------------------------------------------------ control values

def _slider_id(ws, stop: int, limit_s: float = WAIT_S) -> str:
    """The object id of the slider from 2 to ``stop``, read from marimo's messages as they come.

    Read until it appears, not only until the first finished run: on a loaded machine the
    kernel may report a run finished before the output of the slider's cell has been sent."""
    pattern = re.compile(r"object-id='([^']+)'[^>]*><marimo-slider[^>]*data-start='2' "
                         rf"data-stop='{stop}'")
    seen, found, deadline = [], None, time.monotonic() + limit_s
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=limit_s))
        seen.append(message.get("op"))
        match = pattern.search(json.dumps(message).replace('\\"', '"'))
        found = found or (match and match.group(1))
        if found and "completed-run" in seen:          # the first run's messages all read
            return found
    pytest.fail(f"the depth slider is not in the lesson's output (messages: {seen})")


def _depths_shown(ws, limit_s: float = WAIT_S) -> list[str]:
    """The depths the lesson's text shows in the run a new value starts (read until the run
    has finished and its text has come, in whichever order a loaded machine sends them)."""
    shown, done, deadline = [], False, time.monotonic() + limit_s
    while time.monotonic() < deadline and not (done and shown):
        message = json.loads(ws.recv(timeout=limit_s))
        shown += re.findall(r"of a (-?\d+)-layer network", json.dumps(message))
        done = done or message.get("op") == "completed-run"
    return shown


def test_out_of_range_values_are_clamped(course: Course) -> None:
    """A depth of 100000 (the slider stops at 30) posted to marimo's own endpoint."""
    session = f"s-clamp-{time.time_ns()}"
    with _ws(course, "activations", session) as ws:
        depth = _slider_id(ws, stop=30)
        for sent, used in ((100000, 30), (-7, 2), (1e300, 30), (17, 17)):
            status, _, answer = course.request(
                "/lesson/activations/api/kernel/set_ui_element_value", method="POST",
                body=json.dumps({"objectIds": [depth], "values": [sent]}).encode(),
                headers={"Content-Type": "application/json", "Marimo-Session-Id": session,
                         "Origin": course.origin})
            assert status == 200, answer
            shown = _depths_shown(ws)
            assert shown and set(shown) == {str(used)}, (sent, shown)


# ------------------------------------------------------------ kernels

def test_kernels_are_capped(course: Course) -> None:
    """Two kernels at most (--max-kernels 2): a third tab is refused until one closes."""
    with _ws(course, "sampling", f"s-cap-a-{time.time_ns()}") as first, \
            _ws(course, "sampling", f"s-cap-b-{time.time_ns()}") as second:
        _messages_until_run(first)
        _messages_until_run(second)
        assert _refused_handshake(course) == 403
        status, page = course.get("/lesson/sampling/")
        assert status == 503 and "Close a lesson tab" in page
        first.close()  # its kernel lingers for a reconnect, and goes when room is needed
        deadline = time.monotonic() + WAIT_S
        while course.get("/lesson/sampling/")[0] != 200:
            assert time.monotonic() < deadline, "the closed tab's kernel was never freed"
            time.sleep(0.5)
        with _ws(course, "sampling", f"s-cap-c-{time.time_ns()}") as third:
            _messages_until_run(third)


def test_an_idle_kernel_is_closed(tmp_path: Path) -> None:
    from websockets.exceptions import ConnectionClosed

    idle = Course(tmp_path, "--idle-timeout", "4")
    try:
        with _ws(idle, "sampling", f"s-idle-{time.time_ns()}", query=True) as ws:
            deadline = time.monotonic() + WAIT_S
            with pytest.raises(ConnectionClosed) as closed:
                while time.monotonic() < deadline:
                    ws.recv(timeout=WAIT_S)
            assert closed.value.rcvd is not None and closed.value.rcvd.reason == "MARIMO_SHUTDOWN"
    finally:
        idle.stop()


# ------------------------------------------------------------ unit level

def test_loopback_host_names() -> None:
    ok = course_server._loopback_host
    assert ok("127.0.0.1:2718") == "127.0.0.1:2718" and ok("LOCALHOST:80") == "localhost:80"
    assert ok("localhost") == "localhost"
    for bad in (None, "", "evil.example", "127.0.0.1.evil.example:2718", "localhost:x",
                "[::1]:2718", "127.0.0.2:2718", "evil.example:127.0.0.1"):
        assert ok(bad) is None, bad


class _Manager:
    """Stands in for marimo's session manager: ``sessions`` and ``close_session``."""

    def __init__(self, *ids: str) -> None:
        self.sessions = dict.fromkeys(ids, object())
        self.closed: list[str] = []

    def close_session(self, sid: str) -> bool:
        self.closed.append(sid)
        return self.sessions.pop(sid, None) is not None


def test_make_room_closes_abandoned_kernels_oldest_first() -> None:
    app = course_server.build_app(lessons=(), max_kernels=2, idle_timeout_s=10.0)
    manager = _Manager("old", "new")
    app.managers = {"x": manager}
    app._last_seen.update(old=1.0, new=2.0)
    app._sockets["new"] = 1                     # "new" has an open tab, "old" does not
    assert app.make_room("new")                 # a kernel already running may go on
    assert app.make_room() and manager.closed == ["old"]
    app._sockets["third"] = 1                   # two open tabs: no room, nothing to close
    assert not app.make_room() and manager.closed == ["old"]


def test_close_idle_closes_only_idle_kernels() -> None:
    app = course_server.build_app(lessons=(), max_kernels=4, idle_timeout_s=10.0)
    manager = _Manager("busy", "idle")
    app.managers = {"x": manager}
    app._last_seen.update(busy=95.0, idle=80.0, gone=1.0)
    assert app.close_idle(now=100.0) == ["idle"] and manager.closed == ["idle"]
    assert "gone" not in app._last_seen         # forgotten once marimo has closed it
    with pytest.raises(ValueError, match="max_kernels"):
        course_server.build_app(lessons=(), max_kernels=0)



def test_the_course_server_parses_one_thread_at_a_time(monkeypatch) -> None:
    """Kernels are threads of one process and CPython 3.11's AST converter shares its depth
    counter between them: the server makes ast.parse take a lock (once, however often built)."""
    import ast
    import threading

    from llmmath import server

    inside, overlap = threading.Event(), []

    def slow_parse(*args, **kwargs):                  # records whether another parse is running
        overlap.append(inside.is_set())
        inside.set()
        time.sleep(0.2)
        inside.clear()
        return ast.Module(body=[], type_ignores=[])

    def parse_in_threads() -> list[bool]:
        overlap.clear()
        ready = threading.Barrier(4)                  # all four call ast.parse together

        def call() -> None:
            ready.wait()
            ast.parse("x = 1")

        threads = [threading.Thread(target=call) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return list(overlap)

    monkeypatch.setattr(ast, "parse", slow_parse)     # restored after the test
    assert True in parse_in_threads()                 # unserialised, the parses overlap
    server.serialise_ast_parse()
    server.serialise_ast_parse()
    assert ast.parse.__wrapped__ is slow_parse        # wrapped once
    assert parse_in_threads() == [False] * 4          # no parse began while another ran
