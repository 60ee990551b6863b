"""The preview server: build with drafts into .preview/, serve it with live reload, rebuild on change.

livereload serves the files and reloads the browser; changes are seen through
watchfiles (inotify) rather than livereload's 0.8 s polling. A rebuild happens
beside the served tree and is swapped in whole (see write.py), so the server
never shows a half-built site; a failed rebuild keeps the last good site and
shows its problems over it.
"""

from __future__ import annotations

import dataclasses
import html
import json
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import watchfiles
from livereload import Server
from livereload.handlers import StaticFileHandler
from livereload.watcher import Watcher
from tornado.ioloop import IOLoop

from . import pipeline, write
from .errors import Problem, format_problems
from .load import ResponseFile, is_ignored, read_response, rel
from .model import build_model
from .render import PREVIEW_STATUS, render_markdown, section_path, unit_path
from .write import Page
from .validate import check_file, load_schema

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
        self.warm: pipeline.Result | None = None
        """The last good full build: the quick path patches it for body-only edits."""

    def __call__(self, changed: Iterable[str] = ()) -> bool:
        """One rebuild; True when it succeeded."""
        changed = list(changed)
        with self.lock:
            started = time.perf_counter()
            quick = self.quick(changed) if changed and self.warm is not None else None
            if quick is not None:
                if quick:
                    self.out(format_problems(quick))
                self.out(f"Re-rendered in {time.perf_counter() - started:.2f} s after "
                         f"{', '.join(sorted({Path(p).name for p in changed}))}.")
                return True
            result = pipeline.build(self.project, preview=True, base_url=self.base_url)
            self.warm = None if result.failed or result.renderer is None else result
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

    def quick(self, changed: list[str]) -> list[Problem] | None:
        """Only response bodies changed: re-render just the pages that show them, in place.

        Returns the warnings of the edited responses, or None when the edit needs a
        full rebuild (front matter changed, a file came or went, any error).
        """
        assert self.warm is not None and self.warm.loaded is not None and self.warm.site is not None
        loaded, renderer = self.warm.loaded, self.warm.renderer
        assert renderer is not None
        root = self.project.root
        by_path = {r.path: r for r in loaded.responses}
        fresh: dict[str, ResponseFile] = {}
        for changed_path in changed:
            path = Path(changed_path)
            shown = rel(path, root)
            old = by_path.get(shown)
            problems: list[Problem] = []
            new = read_response(path, root, old.year, problems) if old is not None and path.is_file() else None
            if new is None or problems or new.meta.data != old.meta.data:  # type: ignore[union-attr]
                return None
            file_problems, links = check_file(new, load_schema(self.project.schema))
            if file_problems or any(target not in by_path for _, _, target in links):
                return None
            fresh[shown] = new
        responses = tuple(fresh.get(r.path, r) for r in loaded.responses)
        loaded = dataclasses.replace(loaded, responses=responses)
        # Model again only the years touched, and splice them into the site.
        years = {f.year for f in fresh.values()}
        part = build_model(dataclasses.replace(
            loaded, reports={y: d for y, d in loaded.reports.items() if y in years},
            responses=tuple(r for r in responses if r.year in years)), preview=True, base_url=self.warm.site.base_url)
        new_reports = {r.year: r for r in part.reports}
        site = dataclasses.replace(self.warm.site, reports=tuple(
            new_reports.get(r.year, r) for r in self.warm.site.reports))
        renderer.site = site
        touched = {(f.year, f.name_section, f.name_unit) for f in fresh.values()}
        warnings = []
        for report in site.reports:
            hit = [r for r in report.responses if (str(r.year), r.section, r.unit.id) in touched]
            if not hit:
                continue
            paths = set()
            for r in hit:
                for lang in renderer.codes:
                    paths.add(section_path(lang, r.year, r.section))
                    paths.update(unit_path(lang, r.year, u) for u in site.unit_path(r.unit))
                for text in r.texts.values():
                    if text.translation is not None and text.translation.stale:
                        warnings.append(Problem(text.source, None, "the original has changed since this "
                                                "translation (line numbers after the next full rebuild)",
                                                severity="warning"))
            structure = renderer.structure_key(report)
            jobs = [job for lang in renderer.codes
                    for job in renderer.report_jobs(lang, report, structure, only=paths.__contains__)]
            renderer.html.update(render_markdown(t for job in jobs for t in job.texts
                                                 if (t[0].digest, str(t[1])) not in renderer.html))
            pages = [renderer.render(job) for job in jobs]
            with write.build_lock(self.project.preview):
                write.replace_in_place(self.project.preview, pages)
        self.warm.loaded, self.warm.site = loaded, site
        return warnings

    def write_status(self, problems: list[Problem]) -> None:
        """Put the problems where the overlay script reads them, in the tree being served."""
        lines = [str(p) for p in problems]
        target = self.project.preview / PREVIEW_STATUS
        if not target.parent.is_dir():
            self.write_fallback(lines)
            return
        data = json.loads(target.read_text(encoding="utf-8"))
        data["problems"] = lines
        page = Page(PREVIEW_STATUS, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
        with write.build_lock(self.project.preview):
            write.replace_in_place(self.project.preview, [page])

    def write_fallback(self, lines: list[str]) -> None:
        """No good build yet: serve a page listing the problems."""
        body = "\n".join(html.escape(line) for line in lines)
        page = (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Build failed</title></head>"
                f"<body><h1>The site could not be built</h1><pre>{body}</pre></body></html>")
        status = json.dumps({"heading": "", "note": "", "problems": lines})
        with write.build_lock(self.project.preview):
            write.write_site([Page("index.html", page.encode()), Page(PREVIEW_STATUS, status.encode())],
                       self.project.preview)


class SnapshotFileHandler(StaticFileHandler):  # type: ignore[misc]
    """Reads each file once per request, so a page replaced while it is being sent
    goes out whole, old or new (tornado would otherwise take the size of one and the
    bytes of the other)."""

    def get_content_size(self) -> int:
        with open(self.absolute_path, "rb") as handle:
            self._snapshot = handle.read()
        return len(self._snapshot)

    def get_content(self, abspath: str, start: int | None = None,  # type: ignore[override]
                    end: int | None = None) -> bytes:
        return self._snapshot[start:end]


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
    server.SFH = SnapshotFileHandler
    say(f"Serving the preview (drafts included) on http://{host}:{port}/ - press Ctrl+C to stop.")
    server.serve(host=host, port=port, root=str(project.preview), restart_delay=0)
