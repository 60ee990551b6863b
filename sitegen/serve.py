"""The preview server: build with drafts into .preview/, serve it with live reload, rebuild on change.

livereload serves the files and reloads the browser; changes are seen through
watchfiles (inotify) rather than livereload's 0.8 s polling. A rebuild happens
beside the served tree and is swapped in whole (see write.py), so the server
never shows a half-built site; a failed rebuild keeps the last good site and
shows its problems over it.
"""

from __future__ import annotations

import html
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import watchfiles
from livereload import Server
from livereload.watcher import Watcher
from tornado.ioloop import IOLoop

from . import pipeline
from .errors import Problem, format_problems
from .load import is_ignored
from .render import PREVIEW_STATUS

LIVERELOAD_NOW = "__livereload__"
"""livereload reloads at once for this path; for others it waits up to 3 s between reloads."""


def watched(project: pipeline.Project) -> list[Path]:
    """What a change to triggers a rebuild: content, templates and the schema; never the output."""
    return [p for p in (project.content, project.templates, project.schema) if p.exists()]


def relevant(paths: Iterable[str]) -> list[str]:
    """Changed paths that matter: not editor leftovers or hidden files."""
    return [p for p in paths if not is_ignored(Path(p).name)]


class Rebuilder:
    """Rebuilds the preview and records the outcome for the overlay and the terminal."""

    def __init__(self, project: pipeline.Project, base_url: str | None, out: Callable[[str], None]) -> None:
        self.project = project
        self.base_url = base_url
        self.out = out
        self.lock = threading.Lock()
        self.last_problems: list[Problem] = []

    def __call__(self, changed: Iterable[str] = ()) -> bool:
        """One rebuild; True when it succeeded."""
        with self.lock:
            started = time.perf_counter()
            result = pipeline.build(self.project, preview=True, base_url=self.base_url)
            self.last_problems = result.problems
            if result.problems:
                self.out(format_problems(result.problems))
            seconds = time.perf_counter() - started
            if result.failed:
                self.write_status(result.problems)
                self.out(f"Rebuild failed ({seconds:.2f} s): the preview keeps the last good site "
                         "and shows these problems over it.")
                return False
            written = result.written.written if result.written else 0
            self.out(f"Rebuilt in {seconds:.2f} s ({written} files changed)"
                     f"{' after ' + ', '.join(sorted({Path(p).name for p in changed})) if changed else ''}.")
            return True

    def write_status(self, problems: list[Problem]) -> None:
        """Put the problems where the overlay script reads them, in the tree being served."""
        lines = [str(p) for p in problems]
        target = self.project.preview / PREVIEW_STATUS
        if not target.parent.is_dir():
            self.write_fallback(lines)
            return
        data = json.loads(target.read_text(encoding="utf-8"))
        data["problems"] = lines
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, target)

    def write_fallback(self, lines: list[str]) -> None:
        """No good build yet: serve a page listing the problems."""
        from .write import build_lock, write_site
        from .render import Page

        body = "\n".join(html.escape(line) for line in lines)
        page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed</title></head>"
                f"<body><h1>The site could not be built</h1><pre>{body}</pre></body></html>")
        status = json.dumps({"heading": "", "note": "", "problems": lines})
        with build_lock(self.project.preview):
            write_site([Page("index.html", page.encode()), Page(PREVIEW_STATUS, status.encode())],
                       self.project.preview)


class InotifyWatcher(Watcher):  # type: ignore[misc]
    """A livereload watcher fed by watchfiles: rebuild on change, then tell browsers to reload."""

    def __init__(self, paths: list[Path], rebuild: Rebuilder) -> None:
        super().__init__()
        self.paths = paths
        self.rebuild = rebuild
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
                self.rebuild(changed)
                self._changes.append((LIVERELOAD_NOW, None))
                loop.add_callback(callback)

        threading.Thread(target=run, name="watch", daemon=True).start()
        return True

    def examine(self) -> tuple[str | None, Any]:
        if self._changes:
            path, delay = self._changes.pop()
            self.filepath = None  # reload the whole page, not just one stylesheet
            return path, delay
        return None, None


def serve(project: pipeline.Project, host: str = "127.0.0.1", port: int = 8000,
          base_url: str | None = None, out: Callable[[str], None] | None = None) -> None:
    """Build the preview, then serve it until interrupted."""
    say = out or (lambda line: print(line, file=sys.stderr, flush=True))
    rebuild = Rebuilder(project, base_url or f"http://{host}:{port}/", say)
    rebuild()
    server = Server(watcher=InotifyWatcher(watched(project), rebuild))
    say(f"Serving the preview (drafts included) on http://{host}:{port}/ - press Ctrl+C to stop.")
    server.serve(host=host, port=port, root=str(project.preview), restart_delay=0)
