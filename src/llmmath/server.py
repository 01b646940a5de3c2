"""The course server: the home page at ``/``, lesson NAME at ``/lesson/NAME/``.

The home page is static HTML rendered from :data:`llmmath.lessons.LESSONS`
(it needs no Python kernel, so it appears at once, and the same page becomes
``index.html`` of ``llmmath course --export``). Each lesson is a marimo
notebook served in run mode by :func:`marimo.create_asgi_app`; marimo serves
its frontend from files inside the installed package, so the course works
with no network at all. The server binds to 127.0.0.1 only.

Heavy imports (marimo, starlette, uvicorn) happen inside the functions that
need them, so importing this module is cheap.
"""

from __future__ import annotations

import errno
import html
import re
import socket
import threading
from collections.abc import Callable
from typing import Any

from llmmath.lessons import LESSONS, Lesson

__all__ = ["HOST", "DEFAULT_PORT", "bind_socket", "build_app", "render_home", "serve"]

HOST = "127.0.0.1"
DEFAULT_PORT = 2718

_LESSON_PATH = re.compile(r"^/lesson/([A-Za-z0-9_]+)(/.*)?$")

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
code { font-size: .9em; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .85rem; }
"""


def render_home(href: Callable[[Lesson], str | None], note: str = "") -> str:
    """The course home as a complete HTML page.

    Parameters
    ----------
    href : callable
        ``href(lesson)`` gives the link to a lesson, or ``None`` when that
        lesson cannot be opened (its notebook is not there); such lessons are
        listed without a link.
    note : str
        Extra HTML put in the footer.
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
            items.append(f'<li><span class="num">{lesson.number}</span><span>{name}'
                         f'<span class="summary">{html.escape(lesson.summary)}</span></span></li>')
        sections.append(f"<h2>{html.escape(pillar)}</h2>\n<ol class=\"lessons\">"
                        + "".join(items) + "</ol>")
    body = "\n".join(sections)
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
</div>
<div class="box">
<h3>How to use a lesson</h3>
<ul>
<li>Read from top to bottom: why the idea matters, its formula, the library
code that computes it, then a control to play with.</li>
<li>Move the sliders and switches: everything below them recomputes at once.</li>
<li>Answer each <em>Check yourself</em> question before opening its answer.</li>
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


def build_app(lessons: tuple[Lesson, ...] = LESSONS) -> Any:
    """The ASGI application of the course.

    Routes: ``/`` (and ``/index.html``) the home page; ``/lesson/NAME/`` the
    marimo app of lesson NAME (``/lesson/NAME`` redirects there); a lesson
    whose notebook is missing, or an unknown name, gets a 404 page that says
    which.
    """
    import marimo
    from starlette.responses import HTMLResponse, RedirectResponse

    present = {lesson.name for lesson in lessons if lesson.path.exists()}
    known = {lesson.name for lesson in lessons}
    builder = marimo.create_asgi_app(quiet=True, include_code=True)
    for lesson in lessons:
        if lesson.name in present:
            builder = builder.with_app(path=f"/lesson/{lesson.name}", root=str(lesson.path))
    lesson_apps = builder.build()
    # marimo's per-lesson apps keep their kernels in a session manager each;
    # mounted apps get no lifespan events, so the shutdown below closes them
    # (otherwise open tabs keep kernel threads, and the process, alive).
    managers = [route.app.state.session_manager for route in getattr(lesson_apps, "routes", [])
                if hasattr(getattr(getattr(route, "app", None), "state", None), "session_manager")]
    home = render_home(lambda lesson: f"/lesson/{lesson.name}/" if lesson.name in present else None)

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    for manager in managers:
                        await manager.shutdown()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        response: Any = None
        if path in ("/", "/index.html"):
            response = HTMLResponse(home) if scope["type"] == "http" else None
        elif (match := _LESSON_PATH.match(path)) is not None:
            name, rest = match.groups()
            if name not in present:
                why = ("its notebook is not written yet" if name in known
                       else "there is no lesson of that name")
                response = HTMLResponse(
                    _page("Lesson not found", f"<code>{html.escape(name)}</code>: {why}."),
                    status_code=404)
            elif rest is None:
                response = RedirectResponse(f"/lesson/{name}/", status_code=307)
        if response is not None:
            await response(scope, receive, send)
            return
        await lesson_apps(scope, receive, send)

    return app


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
