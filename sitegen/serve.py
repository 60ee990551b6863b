"""The preview server: build with drafts into .preview/, serve it with live reload, rebuild on change.

Every rebuild is `pipeline.build()`, the one build there is, with a warm
session that keeps the store in memory: an edit re-reads only the changed file
and re-renders only the pages that show it. A rebuild happens beside the served
tree and is swapped in whole (see write.py), and each request reads its file
once, so the server never shows a half-built site. A failed rebuild keeps the
last good site, and the overlay script shows the problems over it (the server
answers _preview/status.json from memory).

livereload serves a small WSGI application of ours and reloads the browser;
changes are seen through watchfiles (inotify) rather than livereload's 0.8 s
polling.
"""

from __future__ import annotations

import errno
import html
import json
import logging
import mimetypes
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import watchfiles
from livereload import Server
from livereload.watcher import Watcher
from tornado.ioloop import IOLoop

from . import pipeline, write
from .errors import Problem, errors, format_problems
from .load import is_ignored
from .render import PREVIEW_STATUS

LIVERELOAD_NOW = "__livereload__"
"""livereload reloads at once for this path; for others it waits up to 3 s between reloads."""

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def watched(project: pipeline.Project) -> list[Path]:
    """What a change to triggers a rebuild: content, templates and the schema; never the output."""
    return [p for p in (project.content, project.templates, project.schema) if p.exists()]


def relevant(paths: Iterable[str]) -> list[str]:
    """Changed paths that matter: not editor leftovers or hidden files, nor a tool's temporary file
    that came and went (no suffix, gone already: e.g. `sed -i`'s sedAbC123)."""
    return [p for p in paths if not is_ignored(Path(p).name) and (Path(p).suffix or os.path.lexists(p))]


class Preview:
    """Rebuilds the preview with a warm session and answers the browser's requests."""

    def __init__(self, project: pipeline.Project, base_url: str, out: Callable[[str], None],
                 settle: Callable[[], None] = lambda: None) -> None:
        self.project = project
        self.base_url = base_url
        self.out = out
        self.settle = settle
        """Called after each rebuild: what the session keeps now lives as long as the preview."""
        self.hosts: set[str] = set(LOCAL_HOSTS)
        """The host names the preview answers to (a DNS-rebinding page's own name is not one of them)."""
        self.session = pipeline.Session.open(project, warm=True)
        self.lock = threading.Lock()
        self.problems: list[Problem] = []
        """The problems of the last rebuild when it failed: shown over the last good site."""
        self.shown: set[str] = set()
        """The problems printed so far (as text): a rebuild prints only the new ones."""

    def rebuild(self, changed: Iterable[str] = ()) -> bool:
        """One rebuild; True when it succeeded. Prints the problems not printed after the last
        rebuild (each as `check` words it), then one line: what changed, pages, time, problems."""
        names = ", ".join(sorted({Path(p).name for p in changed}))
        with self.lock:
            started = time.perf_counter()
            result = pipeline.build(self.project, self.session, preview=True, base_url=self.base_url)
            seconds = time.perf_counter() - started
            new = [p for p in result.problems if str(p) not in self.shown]
            if new:
                self.out(format_problems(new))
            self.shown = {str(p) for p in result.problems}
            self.problems = result.problems if result.failed else []
            self.settle()
        what = f"Rebuilt after {names}" if names else "Built"
        count = _count(result.problems)
        if result.failed:
            self.out(f"{what}: failed in {seconds:.2f} s; {count}. The preview keeps the last good site "
                     "and shows the problems over it.")
            return False
        pages = sum(result.pages_per_language().values())
        self.out(f"{what}: {pages} pages in {seconds:.2f} s; {count}.")
        return True

    def app(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        """The WSGI application livereload serves: the files of the current preview tree."""
        path = environ.get("PATH_INFO", "/")
        if host_name(environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")) not in self.hosts:
            names = ", ".join(sorted(self.hosts))
            return _respond(start_response, "403 Forbidden", f"The preview answers only at {names}.".encode(),
                            "text/plain")
        if path == "/" + PREVIEW_STATUS:
            return _respond(start_response, "200 OK", self.status(), "application/json")
        tree = Path(os.path.realpath(self.project.preview))
        if not tree.is_dir():
            return _respond(start_response, "503 Service Unavailable", self.failure_page(), "text/html")
        found = _file(tree, path)
        if found is not None and found.name == "index.html" and not path.endswith(("/", ".html")):
            # a folder's address without its slash: relative links need the slash
            start_response("301 Moved Permanently", [("Location", path + "/")])
            return [b""]
        if found is None:
            return _respond(start_response, "404 Not Found", b"Not found", "text/plain")
        # One read: the tree is swapped whole, so these bytes are one version of the file.
        data = found.read_bytes()
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return _respond(start_response, "200 OK", data, kind)

    def status(self) -> bytes:
        """The overlay's status: the strings of the last good build's status file and today's problems."""
        data: dict[str, Any] = {"heading": "", "note": "", "problems": []}
        try:
            data = json.loads((self.project.preview / PREVIEW_STATUS).read_bytes())
        except (OSError, ValueError):
            pass
        data["problems"] = [str(p) for p in self.problems]
        return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")

    def failure_page(self) -> bytes:
        """No good build yet: a page listing the problems."""
        body = "\n".join(html.escape(str(p)) for p in self.problems)
        return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed</title></head>"
                f"<body><h1>The site could not be built</h1><pre>{body}</pre></body></html>").encode()


def _count(problems: list[Problem]) -> str:
    e = len(errors(problems))
    w = len(problems) - e
    return f"{e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''}"


def quiet_logs() -> None:
    """Silence the per-request and start-up logging of tornado and livereload: the terminal shows
    only our lines. Real failures (logged as errors) still show. livereload sets its logger's level
    when it starts serving, so its messages are filtered rather than levelled."""
    logging.getLogger("tornado.access").setLevel(logging.CRITICAL)  # every request, 404s as warnings
    logging.getLogger("tornado.general").setLevel(logging.ERROR)
    logging.getLogger("livereload").addFilter(lambda record: record.levelno >= logging.ERROR)


def _file(tree: Path, url_path: str) -> Path | None:
    """The file a URL path names inside the tree (a folder's index.html), or None."""
    from urllib.parse import unquote

    relative = unquote(url_path).lstrip("/")
    if "\0" in relative:
        return None
    try:
        target = Path(os.path.realpath(tree / relative))
        if target != tree and tree not in target.parents:
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None
    except (OSError, ValueError):  # a name too long, say: no such file
        return None


LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
"""The names the preview always answers to; `serve --host` adds its own."""


def host_name(netloc: str) -> str:
    """The host of a Host header or an origin's netloc, lower-cased, without the port:
    '127.0.0.1:8000' → '127.0.0.1', '[::1]:8000' and '::1' → '[::1]'."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1]
    if netloc.count(":") > 1:  # a bare IPv6 address
        return f"[{netloc}]"
    return netloc.split(":", 1)[0]


def guard_websocket(hosts: set[str]) -> None:
    """livereload's websocket accepts a page from any origin, at any host name: accept only pages the
    preview itself served, at one of `hosts` (else a DNS-rebinding page could listen in)."""
    from urllib.parse import urlsplit

    from livereload.handlers import LiveReloadHandler
    from tornado.web import HTTPError

    def prepare(handler: Any) -> None:  # before the handshake: a rebinding page is same-origin to tornado
        if host_name(handler.request.host) not in hosts:
            raise HTTPError(403)

    def check_origin(handler: Any, origin: str) -> bool:  # a page of another origin
        return host_name(urlsplit(origin).netloc) in hosts and host_name(handler.request.host) in hosts

    LiveReloadHandler.prepare = prepare
    LiveReloadHandler.check_origin = check_origin


def _respond(start_response: StartResponse, status: str, body: bytes, content_type: str) -> list[bytes]:
    start_response(status, [("Content-Type", f"{content_type}; charset=utf-8" if content_type.startswith(
        ("text/", "application/json", "application/javascript")) else content_type),
        ("Cache-Control", "no-store")])
    return [body]


class InotifyWatcher(Watcher):  # type: ignore[misc]
    """A livereload watcher fed by watchfiles: rebuild on change, then tell browsers to reload."""

    def __init__(self, paths: list[Path], rebuild: Callable[[list[str]], bool],
                 out: Callable[[str], None]) -> None:
        super().__init__()
        self.paths = paths
        self.rebuild = rebuild
        self.out = out
        self.pending: list[tuple[str, Any]] = []
        self.stop_event = threading.Event()
        for path in paths:  # registered only so livereload does not fall back to watching the cwd
            self.watch(str(path))

    def start(self, callback: Callable[[], Any]) -> bool:
        loop = IOLoop.current()

        def run() -> None:
            for changes in watchfiles.watch(*self.paths, stop_event=self.stop_event, debounce=30, step=10,
                                            raise_interrupt=False):
                changed = relevant(path for _, path in changes)
                if not changed:
                    continue
                try:
                    self.rebuild(changed)
                except Exception:  # noqa: BLE001 (a bug must not stop the preview: the next save retries)
                    self.out("internal error while rebuilding: this is a bug in the generator.\n"
                             + traceback.format_exc().strip().splitlines()[-1])
                self.pending.append((LIVERELOAD_NOW, None))
                loop.add_callback(callback)

        threading.Thread(target=run, name="watch", daemon=True).start()
        return True

    def examine(self) -> tuple[str | None, Any]:
        if self.pending:
            path, delay = self.pending.pop()
            self.filepath = None  # reload the whole page, not just one stylesheet
            return path, delay
        return None, None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def port_taken(host: str, port: int) -> bool:
    """Whether another program listens on the port (tested as the server will bind it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def serve(project: pipeline.Project, host: str = "127.0.0.1", port: int = 8000,
          base_url: str | None = None, out: Callable[[str], None] | None = None,
          settle: Callable[[], None] = lambda: None) -> None:
    """Build the preview, then serve it until interrupted; `settle` after each rebuild (see Preview)."""
    say = out or (lambda line: print(line, file=sys.stderr, flush=True))
    quiet_logs()
    preview = Preview(project, base_url or f"http://{host}:{port}/", say, settle)
    preview.rebuild()
    write.prepare_spare(project.preview)  # here, not in the first edit's rebuild
    server = Server(app=preview.app, watcher=InotifyWatcher(watched(project), preview.rebuild, say))
    say(f"Serving the preview (drafts included) on http://{host}:{port}/ - press Ctrl+C to stop.")
    preview.hosts.add(host_name(host))
    guard_websocket(preview.hosts)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server as Ctrl+C does, saving the store
    try:
        server.serve(host=host, port=port, restart_delay=0, debug=False)
    finally:
        with preview.lock:  # what the session learnt, for the next command (not after every edit)
            preview.session.store.save()
