"""The course server: the home page at ``/``, lesson NAME at ``/lesson/NAME/``.

The home page is static HTML rendered from :data:`llmmath.lessons.LESSONS`
(it needs no Python kernel, so it appears at once, and the same page becomes
``index.html`` of ``llmmath course --export``). Each lesson is a marimo
notebook served in run mode by :func:`marimo.create_asgi_app`; marimo serves
its frontend from files inside the installed package, so the course works
with no network at all. ``/source/llmmath/...py`` shows the library's own
code, read-only (:mod:`llmmath.source_view`).

A lesson page starts with a *first paint* drawn by this server: the lesson's
title, the code it teaches and a progress line, on screen before marimo's
frontend has loaded; the live lesson replaces it as soon as marimo has drawn
the lesson's own header.

What keeps other websites out. A lesson runs Python: the server must answer
the learner's browser tab and nothing else.

- It binds to 127.0.0.1 only, and answers only requests whose ``Host`` is
  ``127.0.0.1`` or ``localhost`` (a page that rebinds its own domain name to
  127.0.0.1 still sends its own name as ``Host``).
- Every request needs the access token that ``llmmath course`` prints in its
  address (``?token=...``), as Jupyter does; the first visit trades it for a
  cookie (``HttpOnly``, ``SameSite=Strict``, named after the port) and drops
  it from the address.
- A request or a websocket that carries an ``Origin`` must come from the
  server's own origin, and a fetch that the browser marks cross-site is
  refused; marimo's own ``access-control-allow-*`` headers (it allows any
  origin) are removed from every response.
- At most ``max_kernels`` lesson kernels run at once: a new one first closes
  the kernels of tabs already closed (marimo keeps those a while for a
  reconnect), then is refused with a page that says why. A kernel that has
  seen no request for ``idle_timeout_s`` seconds is closed.
- The values of the lessons' controls are held to their ranges by the
  lessons themselves (:func:`llmmath.lessons._kit.value`).

Heavy imports (marimo, starlette, uvicorn) happen inside the functions that
need them, so importing this module is cheap.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import html
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

from llmmath.lessons import LESSONS, Lesson, get_lesson, neighbours

__all__ = ["HOST", "DEFAULT_PORT", "MAX_KERNELS", "IDLE_TIMEOUT_S", "CourseApp", "bind_socket",
           "build_app", "render_home", "serve"]

HOST = "127.0.0.1"
DEFAULT_PORT = 2718
MAX_KERNELS = 8  # lesson kernels at once; each holds its lesson's arrays and figures
IDLE_TIMEOUT_S = 3600.0  # a kernel nobody has used for an hour is closed
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost"})
TOKEN_PARAM = "token"

_LESSON_PATH = re.compile(r"^/lesson/([A-Za-z0-9_]+)(/.*)?$")
# marimo's other ways into a kernel (server-sent events, collaborative editing): the
# course uses the websocket alone, where kernels are counted
_OTHER_KERNEL_DOORS = frozenset({"/sse", "/ws_sync"})

_CSS = """
:root { color-scheme: light dark; --fg: #1d1f23; --muted: #5d6470; --bg: #fbfbfa;
        --card: #ffffff; --line: #e3e3df; --accent: #1f6feb; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e6e3; --muted: #a0a6b0; --bg: #16181c; --card: #1e2126;
          --line: #30343b; --accent: #6ea8ff; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
       font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 52rem; margin: 0 auto; padding: 2rem 1.25rem 4rem; }
h1 { font-size: 1.9rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; text-transform: capitalize; }
.tagline { color: var(--muted); margin: 0 0 1.5rem; }
.box { background: var(--card); border: 1px solid var(--line); border-radius: .6rem;
       padding: .9rem 1.1rem; margin: 1rem 0; }
.box h3 { margin: 0 0 .4rem; font-size: 1rem; }
.box ul { margin: .3rem 0 0; padding-left: 1.2rem; }
ol.lessons { list-style: none; padding: 0; margin: 0; }
ol.lessons li { display: flex; gap: .9rem; padding: .55rem .2rem;
                border-bottom: 1px solid var(--line); }
.num { color: var(--muted); min-width: 1.8rem; text-align: right;
       font-variant-numeric: tabular-nums; }
a { color: var(--accent); text-decoration: none; font-weight: 600; }
a:hover { text-decoration: underline; }
.summary { display: block; color: var(--muted); font-size: .93rem; }
.soon { color: var(--muted); font-weight: 600; }
.exercises { color: var(--muted); font-size: .85rem; margin-left: .4rem; }
code { font-size: .9em; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .85rem; }
"""


def _sources_sentence() -> str:
    from llmmath.ledger import SYLLABUS_TITLES

    titles = [f"<em>{html.escape(t)}</em>" for t in SYLLABUS_TITLES.values()]
    listed = ", ".join(titles[:-1]) + " and " + titles[-1]
    count = {5: "five"}.get(len(titles), str(len(titles)))
    return (f"The course follows {count} public web pages on the mathematics of "
            f"LLMs, its syllabus: {listed}. The lessons teach what they cover, and the "
            f"claims ledger (<code>llmmath verify</code>) checks every number they state; "
            f"where a page is wrong, the lesson says so.")


def render_home(href: Callable[[Lesson], str | None], note: str = "",
                progress: dict[str, tuple[int, int]] | None = None,
                progress_note: str = "") -> str:
    """The course home as a complete HTML page.

    Parameters
    ----------
    href : callable
        ``href(lesson)`` gives the link to a lesson, or ``None`` when that
        lesson cannot be opened (its notebook is not there); such lessons are
        listed without a link.
    note : str
        Extra HTML put in the footer.
    progress : dict, optional
        ``{lesson: (passed, total)}`` exercises, shown beside each lesson that
        has some (:func:`llmmath.lessons._exercises.lesson_progress`).
    progress_note : str
        HTML shown above the lessons when the progress could not be read.
    """
    groups: list[tuple[str, list[Lesson]]] = []
    for lesson in LESSONS:  # course order; a new group each time the pillar changes
        if not groups or groups[-1][0] != lesson.pillar:
            groups.append((lesson.pillar, []))
        groups[-1][1].append(lesson)
    sections = []
    for pillar, lessons in groups:
        items = []
        for lesson in lessons:
            link = href(lesson)
            title = html.escape(lesson.title)
            name = (f'<a href="{html.escape(link)}" data-lesson="{lesson.name}">{title}</a>'
                    if link else f'<span class="soon" data-lesson="{lesson.name}">{title} '
                                 f'(not available yet)</span>')
            if progress and lesson.name in progress:
                done, total = progress[lesson.name]
                name += (f' <span class="exercises" data-progress="{lesson.name}">'
                         f'{done}/{total} exercises passed</span>')
            items.append(f'<li><span class="num">{lesson.number}</span><span>{name}'
                         f'<span class="summary">{html.escape(lesson.summary)}</span></span></li>')
        sections.append(f"<h2>{html.escape(pillar)}</h2>\n<ol class=\"lessons\">"
                        + "".join(items) + "</ol>")
    body = "\n".join(sections)
    if progress_note:
        body = f'<p class="summary" data-progress-note>{progress_note}</p>\n' + body
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>llmmath — the course</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>llmmath</h1>
<p class="tagline">The mathematics of large language models, executable.</p>
<div class="box">
<h3>What this is</h3>
A NumPy library written from scratch, organised by the mathematics a language
model runs on: linear algebra, calculus, probability and information theory,
plus optimisation and the statistics of evaluation. Each lesson below is a
live notebook built on that library, so every number on a page is computed
while you read it, and every number the course quotes from its sources is
checked by a claims ledger.
<p data-sources>{_sources_sentence()}</p>
</div>
<div class="box">
<h3>How to use a lesson</h3>
<ul>
<li>Read from top to bottom: why the idea matters, its formula, the library
code that computes it, then a control to play with.</li>
<li>Move the sliders and switches: everything below them recomputes at once.</li>
<li>Answer each <em>Check yourself</em> question before opening its answer.</li>
<li>The header of each lesson links the library functions it teaches to their
source code.</li>
<li>To change the code, open the notebook in marimo's editor:
<code>marimo edit src/llmmath/lessons/NAME.py</code>. The
<code>test_</code> cells at its end check the numbers it shows.</li>
</ul>
</div>
{body}
<footer>{note or "Served from 127.0.0.1 by <code>llmmath course</code>; nothing here needs the internet."}</footer>
</main>
</body>
</html>
"""


def _page(title: str, message: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
            f"</title><style>{_CSS}</style></head><body><main><h1>{html.escape(title)}</h1>"
            f'<p>{message}</p><p><a href="/">Course home</a></p></main></body></html>')


# ------------------------------------------------------------- the first paint

# marimo draws lessons in its light theme whatever the system's: so does the first paint
_SHELL_CSS = """
#llmmath-first-paint { max-width: 1110px; margin: 0 auto; padding: 2.4rem 2.9rem 1rem;
  font: 15px/1.6 "PT Sans", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1d1f23; }
#llmmath-first-paint h1 { font: 400 2.15rem/1.25 Lora, Georgia, serif; margin: .7rem 0 .4rem; }
#llmmath-first-paint a { color: #1f6feb; text-decoration: none; }
#llmmath-first-paint small, #llmmath-first-paint .muted { color: #5d6470; font-size: .82rem; }
#llmmath-first-paint .progress { display: flex; align-items: center; gap: .7rem;
  margin-top: 1.6rem; color: #5d6470; }
#llmmath-first-paint .spinner { width: 1.1rem; height: 1.1rem; border-radius: 50%;
  border: .18rem solid #d6dae0; border-top-color: #1f6feb;
  animation: llmmath-spin .9s linear infinite; }
@keyframes llmmath-spin { to { transform: rotate(360deg); } }
"""

# Removes the first paint once marimo has drawn the lesson's own header (an <h1>
# inside its root element); after 90 s without it, says that it is still waiting.
_SHELL_SCRIPT = """
(function () {
  var shell = document.getElementById("llmmath-first-paint");
  var done = function () {
    if (!shell || !document.querySelector("#root h1")) return false;
    shell.remove(); shell = null; observer.disconnect();
    return true;
  };
  var observer = new MutationObserver(done);
  observer.observe(document.documentElement, {childList: true, subtree: true});
  setTimeout(function () {
    var line = shell && shell.querySelector(".progress-text");
    if (line) line.textContent = "Still starting. If nothing appears, reload the page.";
  }, 90000);
})();
"""


def first_paint_html(name: str) -> str:
    """What a lesson page shows before marimo runs: title, its code and a progress line."""
    from llmmath.lessons._kit import teaches_html

    lesson = get_lesson(name)
    prev, nxt = neighbours(name)
    nav = [f'<a href="/lesson/{p.name}/">← {p.number}. {html.escape(p.title)}</a>'
           for p in [prev] if p is not None]
    nav.append('<a href="/">Course home</a>')
    nav += [f'<a href="/lesson/{n.name}/">{n.number}. {html.escape(n.title)} →</a>'
            for n in [nxt] if n is not None]
    return (
        f'<style>{_SHELL_CSS}</style>'
        f'<div id="llmmath-first-paint" data-lesson="{lesson.name}">'
        f'<div>{" &nbsp;·&nbsp; ".join(nav)}</div>'
        f'<p><small>Lesson {lesson.number} of {len(LESSONS)} · '
        f'{html.escape(lesson.pillar)}</small></p>'
        f"<h1>{html.escape(lesson.title)}</h1>"
        f"<p><em>{html.escape(lesson.summary)}</em></p>"
        f"<p><small>{teaches_html(name)}</small></p>"
        f'<div class="progress" role="status" aria-live="polite" data-first-paint-progress>'
        f'<span class="spinner" aria-hidden="true"></span><span class="progress-text">'
        f"Starting the live lesson: Python is computing every number on the page…</span></div>"
        f"</div><script>{_SHELL_SCRIPT}</script>"
    )


_STYLESHEET = re.compile(r'<link rel="stylesheet"[^>]*>')


def with_first_paint(page: str, name: str) -> str:
    """marimo's HTML page of lesson ``name`` with the first paint at the top of its body.

    marimo's stylesheets move from the head to just after the first paint: a
    browser paints nothing while a stylesheet in the head loads, but an
    in-body stylesheet holds back only what comes after it (marimo's root,
    where the live lesson appears), and marimo's scripts still wait for them.
    """
    links = _STYLESHEET.findall(page.split("</head>", 1)[0])
    head, sep, body = page.partition("</head>")
    if not sep:
        return page
    for link in links:
        head = head.replace(link, "", 1)
    shell = first_paint_html(name) + "".join(links)
    if '<div id="root"></div>' in body:
        body = body.replace('<div id="root"></div>', shell + '<div id="root"></div>', 1)
    else:
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + shell, body, count=1)
    return head + sep + body


# ----------------------------------------------------------- the application

def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _loopback_host(host: str | None) -> str | None:
    """``host`` (a ``Host`` header) when it names this machine's loopback, else None."""
    if not host:
        return None
    name, _, port = host.strip().lower().rpartition(":")
    if not name or (port and not port.isdigit()):
        name = host.strip().lower()
    return host.strip().lower() if name in LOOPBACK_NAMES else None


class CourseApp:
    """The ASGI application of the course (build it with :func:`build_app`).

    Routes: ``/`` (and ``/index.html``) the home page; ``/lesson/NAME/`` the
    marimo app of lesson NAME (``/lesson/NAME`` redirects there);
    ``/source/llmmath/...py`` the library's source. A lesson whose notebook
    is missing, an unknown name or an unknown path gets a 404 page that says
    which. Every request first passes the checks described in the module's
    docstring; ``token`` is the access token.
    """

    def __init__(self, lessons: tuple[Lesson, ...] = LESSONS, *, token: str | None = None,
                 max_kernels: int = MAX_KERNELS, idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        import marimo

        if max_kernels < 1:
            raise ValueError(f"build_app: max_kernels must be at least 1, got {max_kernels}.")
        if not idle_timeout_s > 0:
            raise ValueError(f"build_app: idle_timeout_s must be positive, got {idle_timeout_s}.")
        self.token = token or secrets.token_urlsafe(24)
        self.max_kernels = max_kernels
        self.idle_timeout_s = float(idle_timeout_s)
        self._present = {lesson.name for lesson in lessons if lesson.path.exists()}
        self._known = {lesson.name for lesson in lessons}
        # No marimo token: the checks below run before any request reaches marimo.
        builder = marimo.create_asgi_app(quiet=True, include_code=True)
        for lesson in lessons:
            if lesson.name in self._present:
                builder = builder.with_app(path=f"/lesson/{lesson.name}", root=str(lesson.path))
        self._lesson_apps = builder.build()
        # marimo's per-lesson apps keep their kernels in a session manager each;
        # mounted apps get no lifespan events, so the shutdown below closes them
        # (otherwise open tabs keep kernel threads, and the process, alive).
        self.managers: dict[str, Any] = {}
        for route in getattr(self._lesson_apps, "routes", []):
            state = getattr(getattr(route, "app", None), "state", None)
            if hasattr(state, "session_manager"):
                self.managers[route.path.strip("/").removeprefix("lesson/")] = \
                    state.session_manager
        self._home_href = (
            lambda lesson: f"/lesson/{lesson.name}/" if lesson.name in self._present else None)
        self._last_seen: dict[str, float] = {}   # session id -> last request (monotonic s)
        self._sockets: dict[str, int] = {}       # session id -> open websockets
        self._reaper: asyncio.Task | None = None
        self._pages: dict[str, tuple[int, bytes, str]] = {}  # name -> (file version, page, type)
        self._lesson_path = {lesson.name: lesson.path for lesson in lessons}.__getitem__
        self._background: list[asyncio.Task] = []

    def render_home(self) -> str:
        """The home page with the learner's exercise progress, read afresh on every visit.

        The progress is only read; whatever goes wrong reading it, the page
        still comes, with a short note instead of the counts.
        """
        try:
            from llmmath.lessons._exercises import lesson_progress

            progress, note = lesson_progress()
        except Exception as exc:  # noqa: BLE001 - the home page must never fail on progress
            progress, note = None, (f"Your exercise progress could not be read just now "
                                    f"({html.escape(str(exc))}).")
        return render_home(self._home_href, progress=progress, progress_note=note)

    # -------------------------------------------------------------- kernels

    def kernels(self) -> set[str]:
        """Session ids of the lesson kernels alive or starting."""
        alive = {str(sid) for manager in self.managers.values() for sid in manager.sessions}
        return alive | set(self._sockets)

    def _close(self, sid: str) -> bool:
        """Close kernel ``sid``; False when marimo has no such session (yet, or any more)."""
        for manager in self.managers.values():
            for key in list(manager.sessions):
                if str(key) == sid:
                    manager.close_session(key)
                    self._last_seen.pop(sid, None)
                    return True
        return False

    def make_room(self, sid: str | None = None) -> bool:
        """Whether kernel ``sid`` (None: a new one) may run, closing unused kernels if needed.

        A kernel whose tab is gone (no open websocket) goes first, the least
        recently used first.
        """
        running = self.kernels()
        if sid is not None and sid in running:
            return True
        orphans = sorted((self._last_seen.get(s, 0.0), s) for s in running
                         if s not in self._sockets)
        while len(running) >= self.max_kernels and orphans:
            _, victim = orphans.pop(0)
            if self._close(victim):
                running.discard(victim)
        return len(running) < self.max_kernels

    def close_idle(self, now: float | None = None) -> list[str]:
        """Close every kernel without a request for ``idle_timeout_s``; return their ids."""
        now = time.monotonic() if now is None else now
        closed = []
        running = self.kernels()
        for sid in set(self._last_seen) - running:   # closed by marimo (tab gone long enough)
            del self._last_seen[sid]
        for sid in sorted(running):
            seen = self._last_seen.setdefault(sid, now)
            if now - seen > self.idle_timeout_s and self._close(sid):
                closed.append(sid)
        return closed

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(min(30.0, self.idle_timeout_s / 4))
            self.close_idle()

    # -------------------------------------------------------------- checks

    def _cookie_name(self, host: str) -> str:
        port = host.rpartition(":")[2]
        return f"llmmath_token_{port if port.isdigit() else 80}"

    def _refusal(self, scope: dict) -> tuple[int, str] | None:
        """Why a request is refused (status, message), or None when it may pass."""
        host = _loopback_host(_header(scope, b"host"))
        if host is None:
            return 403, ("This server answers only at 127.0.0.1 or localhost (the Host "
                         "header named something else).")
        origin = _header(scope, b"origin")
        if origin is not None and origin.strip().lower() != f"http://{host}":
            return 403, "Requests from other websites are refused."
        site = _header(scope, b"sec-fetch-site")
        mode = _header(scope, b"sec-fetch-mode")
        if site in ("cross-site", "same-site") and mode != "navigate":
            return 403, "Requests from other websites are refused."
        if not self._has_token(scope, host):
            return 403, ("This course server needs its access token. Open the address that "
                         "<code>llmmath course</code> printed in its terminal (it ends in "
                         "<code>?token=…</code>).")
        return None

    def _query_token(self, scope: dict) -> str | None:
        query = scope.get("query_string", b"").decode("latin-1")
        return next((v for k, v in parse_qsl(query) if k == TOKEN_PARAM), None)

    def _has_token(self, scope: dict, host: str) -> bool:
        given = self._query_token(scope)
        if given is None:
            cookie = SimpleCookie()
            try:
                cookie.load(_header(scope, b"cookie") or "")
            except Exception:  # a malformed Cookie header is no token
                return False
            morsel = cookie.get(self._cookie_name(host))
            given = morsel.value if morsel is not None else None
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    # -------------------------------------------------------------- serving

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] not in ("http", "websocket"):
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await self._refuse(scope, receive, send, *refusal)
            return
        send = self._filtered(send)
        from starlette.responses import HTMLResponse, RedirectResponse

        path = scope["path"]
        host = _loopback_host(_header(scope, b"host")) or HOST
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and \
                self._query_token(scope) is not None:
            # first visit: the token becomes a cookie and leaves the address bar
            query = urlencode([(k, v) for k, v in parse_qsl(
                scope.get("query_string", b"").decode("latin-1")) if k != TOKEN_PARAM])
            response: Any = RedirectResponse(path + (f"?{query}" if query else ""),
                                             status_code=303)
            response.set_cookie(self._cookie_name(host), self.token, httponly=True,
                                samesite="strict", path="/")
            response.headers["cache-control"] = "no-store"
            await response(scope, receive, send)
            return
        if path in ("/", "/index.html"):
            if scope["type"] == "http":
                page = await asyncio.to_thread(self.render_home)
                await HTMLResponse(page)(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        if path.startswith("/source/"):
            await self._source(scope, receive, send, path.removeprefix("/source/"))
            return
        match = _LESSON_PATH.match(path)
        if match is None:
            await self._not_found(scope, receive, send, "There is no page at this address.")
            return
        name, rest = match.groups()
        if name not in self._present:
            why = ("its notebook is not written yet" if name in self._known
                   else "there is no lesson of that name")
            await self._not_found(scope, receive, send,
                                  f"<code>{html.escape(name)}</code>: {why}.")
            return
        if rest is None:
            await RedirectResponse(f"/lesson/{name}/", status_code=307)(scope, receive, send)
            return
        if scope["type"] == "websocket" and rest == "/ws":
            await self._kernel_socket(scope, receive, send)
            return
        if rest in _OTHER_KERNEL_DOORS:
            await self._not_found(scope, receive, send, "The lessons talk over /ws only.")
            return
        sid = _header(scope, b"marimo-session-id")
        if sid is not None:
            self._last_seen[sid] = time.monotonic()
        if scope["type"] == "http" and rest == "/" and scope["method"] == "GET":
            if not self.make_room():
                await HTMLResponse(_page("Too many lessons open", (
                    f"{self.max_kernels} lessons are running in other tabs, the most this "
                    "server runs at once. Close a lesson tab, then reload this page.")),
                    status_code=503)(scope, receive, send)
                return
            await self._lesson_page(name, scope, receive, send)
            return
        await self._lesson_apps(scope, receive, send)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                loop = asyncio.get_running_loop()
                self._reaper = loop.create_task(self._reap())
                self._background.append(loop.create_task(self._prepare_pages()))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in [self._reaper, *self._background]:
                    if task is not None:
                        task.cancel()
                for manager in self.managers.values():
                    await manager.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _kernel_socket(self, scope: dict, receive: Callable, send: Callable) -> None:
        """marimo's websocket of one lesson tab: one kernel, counted while it is open."""
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        sid = query.get("session_id")
        if sid is None or not self.make_room(sid):
            await send({"type": "websocket.close", "code": 1013})  # before accept: HTTP 403
            return
        self._last_seen[sid] = time.monotonic()
        self._sockets[sid] = self._sockets.get(sid, 0) + 1
        try:
            await self._lesson_apps(scope, receive, send)
        finally:
            self._sockets[sid] -= 1
            if self._sockets[sid] == 0:
                del self._sockets[sid]
            self._last_seen[sid] = time.monotonic()

    def _filtered(self, send: Callable) -> Callable:
        """``send`` without marimo's any-origin CORS headers, with anti-framing headers."""
        async def filtered(message: dict) -> None:
            if message["type"] == "http.response.start":
                ours = (b"x-frame-options", b"referrer-policy", b"x-content-type-options")
                headers = [(k, v) for k, v in message.get("headers", [])
                           if not k.lower().startswith(b"access-control-")
                           and k.lower() not in ours]
                headers += [(b"x-frame-options", b"SAMEORIGIN"),
                            (b"referrer-policy", b"same-origin"),
                            (b"x-content-type-options", b"nosniff")]
                message = {**message, "headers": headers}
            await send(message)
        return filtered

    async def _lesson_page(self, name: str, scope: dict, receive: Callable,
                           send: Callable) -> None:
        """marimo's page of lesson ``name`` with the first paint in it, from a cache.

        marimo takes a few hundred milliseconds to make the page, and makes the
        same page every time (the session is made later, over the websocket),
        so it is made once per version of the notebook file.
        """
        from starlette.responses import Response

        version = self._lesson_path(name).stat().st_mtime_ns
        cached = self._pages.get(name)
        if cached is None or cached[0] != version:
            captured: dict[str, Any] = {"body": []}

            async def capture(message: dict) -> None:
                if message["type"] == "http.response.start":
                    captured["start"] = message
                elif message["type"] == "http.response.body":
                    captured["body"].append(message.get("body", b""))

            page_scope = {**scope, "method": "GET", "query_string": b"",
                          "headers": [(k, v) for k, v in scope.get("headers", [])
                                      if k not in (b"if-none-match", b"if-modified-since")]}
            await self._lesson_apps(page_scope, receive, capture)
            start = captured.get("start") or {}
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in start.get("headers", [])}
            if start.get("status") != 200 or not headers.get("content-type", "").startswith(
                    "text/html") or "content-encoding" in headers:
                # not the page (an error): pass marimo's answer on unchanged, uncached
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(captured["body"])})
                return
            page = with_first_paint(b"".join(captured["body"]).decode("utf-8"), name)
            cached = (version, page.encode("utf-8"), headers.get("content-type"))
            self._pages[name] = cached
        _, body, content_type = cached
        response = Response(body, media_type=None, headers={
            "content-type": content_type, "cache-control": "no-cache"})
        await response(scope, receive, send)

    async def _prepare_pages(self) -> None:
        """Make every lesson's page in the background, so that even a first visit is quick."""
        async def receive() -> dict:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(message: dict) -> None:
            return None

        for name in sorted(self._present):
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                     "method": "GET", "scheme": "http", "path": f"/lesson/{name}/",
                     "raw_path": f"/lesson/{name}/".encode(), "root_path": "",
                     "query_string": b"", "headers": [(b"host", HOST.encode())],
                     "client": (HOST, 0), "server": (HOST, 0)}
            try:
                await self._lesson_page(name, scope, receive, discard)
            except Exception:  # a page that cannot be made now is made on its first visit
                pass
            await asyncio.sleep(0.05)  # leave the event loop to the learner's requests

    async def _source(self, scope: dict, receive: Callable, send: Callable, rel: str) -> None:
        from starlette.responses import HTMLResponse

        from llmmath.source_view import render

        page = render(rel) if scope["type"] == "http" and \
            scope["method"] in ("GET", "HEAD") else None
        if page is None:
            await self._not_found(scope, receive, send, (
                "Only the <code>.py</code> files of the installed llmmath package are shown "
                "here."))
            return
        response = HTMLResponse(page)
        response.headers["content-security-policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        await response(scope, receive, send)

    async def _not_found(self, scope: dict, receive: Callable, send: Callable,
                         message: str) -> None:
        from starlette.responses import HTMLResponse

        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await HTMLResponse(_page("Not found", message), status_code=404)(scope, receive, send)

    async def _refuse(self, scope: dict, receive: Callable, send: Callable, status: int,
                      message: str) -> None:
        from starlette.responses import HTMLResponse

        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # before accept: HTTP 403
            return
        response = HTMLResponse(_page("Refused", message), status_code=status)
        await response(scope, receive, self._filtered(send))


_PARSE_LOCK = threading.Lock()


def serialise_ast_parse() -> None:
    """Make ``ast.parse`` take one thread at a time in this process (idempotent).

    marimo runs every lesson's kernel as a thread of the course server, and
    each kernel parses its notebook when it starts. CPython 3.11 keeps the
    AST converter's recursion depth in state the threads share: two kernels
    starting together (two tabs, or one closing while another opens) sometimes
    fail with ``SystemError: AST constructor recursion depth mismatch``, and
    the lesson then shows NameErrors in every cell. Parsing is a few
    milliseconds per lesson, so a lock costs nothing that anyone sees.
    """
    import ast

    if getattr(ast.parse, "__wrapped__", None) is not None:
        return
    original = ast.parse

    def parse(*args: Any, **kwargs: Any) -> Any:
        with _PARSE_LOCK:
            return original(*args, **kwargs)

    parse.__wrapped__ = original                     # type: ignore[attr-defined]
    parse.__doc__ = original.__doc__
    ast.parse = parse


def build_app(lessons: tuple[Lesson, ...] = LESSONS, *, token: str | None = None,
              max_kernels: int = MAX_KERNELS, idle_timeout_s: float = IDLE_TIMEOUT_S) -> CourseApp:
    """The ASGI application of the course, with a fresh access token unless ``token`` is given.

    ``max_kernels`` lesson kernels run at once at most; a kernel without a
    request for ``idle_timeout_s`` seconds is closed. See :class:`CourseApp`.
    """
    serialise_ast_parse()
    return CourseApp(lessons, token=token, max_kernels=max_kernels,
                     idle_timeout_s=idle_timeout_s)


def bind_socket(port: int = DEFAULT_PORT) -> tuple[socket.socket, bool]:
    """A listening TCP socket on 127.0.0.1, at ``port`` or, if busy, a free one.

    Returns the socket and whether ``port`` itself was taken.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    exact = True
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
            sock.close()
            raise
        sock.bind((HOST, 0))
        exact = False
    sock.listen(128)
    sock.set_inheritable(True)
    return sock, exact


def serve(sock: socket.socket, app: Any, on_ready: Callable[[], None] | None = None) -> None:
    """Serve ``app`` on ``sock`` until interrupted; call ``on_ready`` once it answers."""
    import uvicorn

    # Open lesson tabs hold websockets; give them a few seconds on Ctrl+C, not forever.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=3))

    if on_ready is not None:
        def wait_then_call() -> None:
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                on_ready()

        threading.Thread(target=wait_then_call, daemon=True).start()
    server.run(sockets=[sock])
