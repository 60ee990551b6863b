"""The pipeline in one place: load → validate → model → render → write.

`build()` is the whole of it, read top to bottom. Everything is gathered and
checked before anything is written, so a build with errors never touches
site/. Whatever makes a rebuild fast lives inside the stage that owns it and
works through the `Session` the stages share: load and validate reuse what the
store holds for files whose bytes are unchanged, render renders only the pages
the published tree lacks, and write.publish touches only the files that differ.
The preview server calls the same `build()` with a warm session.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from . import TOOL_ROOT, pdf, search, write
from .cache import CODE_DIGEST, Cache, digest
from .errors import Problem, errors, from_plain, sort, to_plain
from .load import Loaded, is_ignored, load
from .model import Site, build_model
from .validate import validate


@dataclass(frozen=True)
class Project:
    """The folders a build reads and writes."""

    root: Path
    content: Path
    templates: Path
    schema: Path
    site: Path
    preview: Path
    """The preview server's output (drafts included): never site/."""

    @classmethod
    def at(cls, root: Path) -> Project:
        """A project rooted at `root`; templates/ and schema.yaml default to the generator's own."""
        root = root.resolve()
        templates = root / "templates" if (root / "templates").is_dir() else TOOL_ROOT / "templates"
        schema = root / "schema.yaml" if (root / "schema.yaml").is_file() else TOOL_ROOT / "schema.yaml"
        return cls(root, root / "content", templates, schema, root / "site", root / ".preview")


@dataclass
class Session:
    """What the stages of one build share, and what the preview keeps warm between builds."""

    store: Cache
    """The one store of records kept between builds (see cache.py); a warm one (the preview)
    stays in memory after the build, and the next build reads nothing from disk."""
    stats: dict[str, os.stat_result] = field(default_factory=dict)
    """The stat of every input file, taken once per build for the fingerprint and reused by load."""

    @classmethod
    def open(cls, project: Project, warm: bool = False) -> Session:
        store = Cache.at(project.root)
        store.warm = warm
        return cls(store)

    def done(self, learnt: bool = True) -> None:
        """Save what the store learnt; a warm session goes on from what it holds in memory
        (and is saved when the preview stops: an entry is never wrong, only missing)."""
        if self.store.warm:
            self.store.next_run()
        elif learnt:
            self.store.save()


@dataclass
class Result:
    """What a check or a build found and did."""

    problems: list[Problem]
    loaded: Loaded | None = None
    site: Site | None = None
    languages: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    """Every file of the built site."""
    written: write.WriteStats | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(errors(self.problems))

    def pages_per_language(self) -> Counter[str]:
        """How many HTML pages each language has."""
        return Counter(p.split("/", 1)[0] for p in self.paths
                       if p.endswith(".html") and p.split("/", 1)[0] in self.languages)


@dataclass(frozen=True)
class BuildRecord:
    """What the last successful build of an output found: for a build whose inputs are untouched."""

    VERSION: ClassVar[int] = 1
    fingerprint: str
    tree: str
    """The name of the tree it published."""
    paths: list[str]
    languages: list[str]
    problems: list[tuple[object, ...]]
    """Its warnings, as errors.to_plain gives them."""


def check(project: Project, strict: bool = False, session: Session | None = None) -> Result:
    """Load and validate only; writes nothing (a build saves what the session's store learnt)."""
    started = time.perf_counter()
    session = session or Session.open(project)
    loaded = load(project.root, project.content.name, session.store, session.stats)
    problems = validate(loaded, project.schema, session.store)
    if strict:
        problems = [p.as_error() for p in problems]
    return Result(sort(problems), loaded, timings={"check": time.perf_counter() - started})


def build(project: Project, session: Session | None = None, *, preview: bool = False, base_url: str | None = None,
          strict: bool = False, progress: Progress = lambda stage, done, total: None, index: bool = True) -> Result:
    """Build the site into site/ (the preview into .preview/); on any error leave it untouched.
    `index=False` (`build --no-search`) skips the search index, as SITEGEN_SEARCH=0 does."""
    started = time.perf_counter()
    session = session or Session.open(project)
    out = project.preview if preview else project.site
    indexer = search.indexer(preview, index)
    fingerprint = input_fingerprint(project, session, repr((preview, base_url, strict, indexer is not None,
                                                            pdf.enabled(preview))))
    unchanged = unchanged_since(out, fingerprint, session)
    if unchanged is not None:
        return unchanged
    progress("reading and checking content/", 0, 0)
    result = check(project, strict, session)
    if result.failed or result.loaded is None:
        return finish(session, result)
    site = build_model(result.loaded, preview=preview, base_url=base_url, cache=session.store)
    from .render import render  # Jinja and Python-Markdown load only when pages are rendered

    output = render(site, project.templates, project.root, session.store, write.holding(out))
    result.problems = sort(result.problems + output.problems + output.warnings)
    if output.problems:
        return finish(session, result)
    written = write.publish(out, output.files, counted(output.pages, progress),
                            announced(indexer, progress))
    published(result, site, sorted(output.files), written, time.perf_counter() - started)
    return finish(session, result, out, fingerprint)


Progress = Callable[[str, int, int], None]
"""Told what a long build is doing: (stage, done, total); a total of 0 means no count is known."""


def counted(pages: write.Pages, progress: Progress) -> write.Pages:
    """The pages, each counted to `progress` as it is rendered and written."""
    stage = "rendering and writing pages"

    def make(sink: write.Sink) -> Iterator[write.Done | Problem]:
        progress(stage, 0, pages.count)
        for done, item in enumerate(pages.make(sink), 1):
            yield item
            progress(stage, min(done, pages.count), pages.count)
    return write.Pages(make, pages.count)


def announced(index: Callable[[Path], float] | None, progress: Progress) -> Callable[[Path], float] | None:
    """The search indexer, telling `progress` when it starts."""
    if index is None:
        return None

    def run(tree: Path) -> float:
        progress("building the search index", 0, 0)
        return index(tree)
    return run


def published(result: Result, site: Site, paths: list[str], written: write.WriteStats, seconds: float) -> None:
    """Record in the result what was published (or which pages could not be made), and how long it took."""
    result.problems = sort(result.problems + written.problems)
    result.site, result.paths, result.written = site, paths, written
    result.languages = [lang.code for lang in site.languages]
    result.timings["build"] = seconds - (written.index_seconds or 0.0)
    if written.index_seconds is not None:
        result.timings["search"] = written.index_seconds


def finish(session: Session, result: Result, out: Path | None = None, fingerprint: str = "") -> Result:
    """Save what the store learnt; after a successful build, also what the next one may skip."""
    if out is not None and result.written is not None and not result.failed:
        session.store.put_record(BuildRecord(fingerprint, result.written.tree.name, result.paths, result.languages,
                                             to_plain(result.problems)), out.name)
    session.done()
    return result


def input_fingerprint(project: Project, session: Session, options: str) -> str:
    """Every input's name, size, modification time and inode, and the generator itself: cheap to take.

    Equal fingerprints mean nothing was touched since the last build (the same
    test make and Hugo use); any doubt just takes the normal, content-hashed path.
    The stat of every file is kept in the session for load to reuse.
    """
    parts = [CODE_DIGEST, options, str(project.templates), str(project.schema)]
    session.stats = {}
    for top in (project.content, project.templates):
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if is_ignored(name):  # editor leftovers, e.g. Emacs's lock: a link to nowhere
                    continue
                path = os.path.join(folder, name)
                try:
                    st = session.stats[path] = os.stat(path)
                except OSError:
                    parts.append(f"{path}:unreadable")
                    continue
                parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    st = os.stat(project.schema)
    parts.append(f"{st.st_size}:{st.st_mtime_ns}")
    return digest(*parts)


def unchanged_since(out: Path, fingerprint: str, session: Session) -> Result | None:
    """The last build's result when its inputs are untouched and its tree is in place, else None."""
    record = session.store.get_record(BuildRecord, out.name)
    tree = write.current_tree(out)
    if record is None or record.fingerprint != fingerprint or tree is None or record.tree != tree.name:
        return None
    result = Result(from_plain(record.problems), paths=record.paths, languages=record.languages,
                    timings={"build": 0.0})
    result.written = write.WriteStats(0, len(record.paths), tree)
    session.done(learnt=False)
    return result
