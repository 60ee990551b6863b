"""The pipeline in one place: load → validate → model → render → write.

Everything is gathered and checked before anything is written, so a build with
errors never touches site/.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ContentError, Problem, errors, sort
from .load import Loaded, load
from .model import Site, build_model
from .render import Page, TemplateProblem, render_site
from .validate import validate
from .write import WriteStats, build_lock, write_site

TOOL_ROOT = Path(__file__).resolve().parent.parent
"""Where build.py, templates/ and schema.yaml of the generator itself live."""


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
class Result:
    """What a check or a build found and did."""

    problems: list[Problem]
    loaded: Loaded | None = None
    site: Site | None = None
    pages: list[Page] = field(default_factory=list)
    written: WriteStats | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(errors(self.problems))

    def pages_per_language(self) -> Counter[str]:
        """How many HTML pages each language has."""
        codes = [lang.code for lang in self.site.languages] if self.site else []
        return Counter(p.path.split("/", 1)[0] for p in self.pages
                       if p.path.endswith(".html") and p.path.split("/", 1)[0] in codes)


def check(project: Project, strict: bool = False) -> Result:
    """Load and validate only; writes nothing."""
    started = time.perf_counter()
    loaded = load(project.root, project.content.name)
    problems = validate(loaded, project.schema)
    if strict:
        problems = [p.as_error() for p in problems]
    return Result(sort(problems), loaded, timings={"check": time.perf_counter() - started})


def build(project: Project, *, preview: bool = False, base_url: str | None = None,
          strict: bool = False, html_cache: dict[tuple[str, str], str] | None = None) -> Result:
    """Build the site into site/; on any error return the problems and leave site/ untouched."""
    result = check(project, strict)
    if result.failed or result.loaded is None:
        return result
    started = time.perf_counter()
    site = build_model(result.loaded, preview=preview, base_url=base_url)
    try:
        pages = render_site(site, project.templates, project.root, html_cache)
    except TemplateProblem as exc:
        result.problems += exc.problems
        return result
    rendered = time.perf_counter()
    out = project.preview if preview else project.site
    with build_lock(out):
        written = write_site(pages, out)
    result.site, result.pages, result.written = site, pages, written
    result.timings.update(render=rendered - started, write=time.perf_counter() - rendered)
    return result


def build_or_raise(project: Project, **options: object) -> Result:
    """build(), raising ContentError when it fails (for callers that prefer exceptions)."""
    result = build(project, **options)  # type: ignore[arg-type]
    if result.failed:
        raise ContentError(result.problems)
    return result
