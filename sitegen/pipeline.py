"""The pipeline in one place: load → validate → model → render → write.

Everything is gathered and checked before anything is written, so a build with
errors never touches site/.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import TOOL_ROOT, search, write
from .cache import CACHE_DIR, CODE_DIGEST, Cache, digest
from .errors import Problem, errors, from_plain, sort, to_plain
from .load import YEAR_DIR, Loaded, ResponseFile, is_ignored, load, signature, trusted_signature
from .model import Site, build_model
from .parallel import MIN_ITEMS, long_lived, pmap
from .validate import check_key, schema_digest, validate
from .write import WriteStats, build_lock

if TYPE_CHECKING:
    from .render import PageJob, Renderer

CACHE_NAME = "build"
HTML_CACHE_NAME = "html"
DATES_KEY = ("dates",)


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
    languages: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    """Every file of the built site."""
    written: WriteStats | None = None
    timings: dict[str, float] = field(default_factory=dict)
    renderer: Renderer | None = None
    """The renderer of a successful build (the preview keeps it warm between edits)."""

    @property
    def failed(self) -> bool:
        return bool(errors(self.problems))

    def pages_per_language(self) -> Counter[str]:
        """How many HTML pages each language has."""
        codes = self.languages or ([lang.code for lang in self.site.languages] if self.site else [])
        return Counter(p.split("/", 1)[0] for p in self.paths
                       if p.endswith(".html") and p.split("/", 1)[0] in codes)


def check(project: Project, strict: bool = False, cache: Cache | None = None,
          settle: Callable[[], None] = lambda: None, stats: Mapping[str, os.stat_result] | None = None,
          skip: Mapping[str, frozenset[str]] | None = None) -> Result:
    """Load and validate only; writes nothing (the cache, if given, is saved by the caller).

    `settle` is called once the content is read (see parallel.long_lived); `stats`
    are the files' stats the caller already took (input_fingerprint); the response
    files of the years in `skip` are not read (see load.Loaded.skipped).
    """
    started = time.perf_counter()
    cache = cache if cache is not None else Cache.at(project.root, CACHE_NAME)
    loaded = load(project.root, project.content.name, cache, stats, skip)
    settle()
    problems = validate(loaded, project.schema, cache)
    if strict:
        problems = [p.as_error() for p in problems]
    return Result(sort(problems), loaded, timings={"check": time.perf_counter() - started})


def build(project: Project, *, preview: bool = False, base_url: str | None = None,
          strict: bool = False, progress: Callable[[str], None] | None = None) -> Result:
    """Build the site into site/ (the preview into .preview/); on any error leave it untouched.

    Only pages whose inputs changed since the last build are rendered again;
    the others are linked from the previous tree, and when nothing changed at
    all the previous tree stays in place as it is.
    """
    with long_lived() as settle:
        try:
            return _build(project, preview, base_url, strict, progress, settle, skip_years=not preview)
        except _ReadEverything:
            pass  # out of the handler before building again: its traceback holds the first attempt
        return _build(project, preview, base_url, strict, progress, settle, skip_years=False)


class _ReadEverything(Exception):
    """A year skipped as unchanged cannot be taken from the last build after all (its pages
    were removed by hand, a library changed the renderer): build again, reading every year."""


def _build(project: Project, preview: bool, base_url: str | None, strict: bool,
           progress: Callable[[str], None] | None, settle: Callable[[], None], skip_years: bool) -> Result:
    out = project.preview if preview else project.site
    options = repr((preview, base_url, strict))
    fingerprint, stats = input_fingerprint(project, options)
    unchanged = unchanged_since(out, fingerprint)
    if unchanged is not None:
        return unchanged
    cache = Cache.at(project.root, CACHE_NAME)
    cache.read_all()  # every build asks it about every file
    settle()
    say = progress or (lambda message: None)
    say("reading and checking content/")
    shared, inputs = year_inputs(project, stats, options)
    years_key = ("years", out.name)
    before: Mapping[str, Any] = cache.get(years_key) or {}
    # The preview server keeps the whole model for its quick path: it reads every year.
    skip = skippable_years(before, shared, inputs) if skip_years else {}
    result = check(project, strict, cache, settle, stats, skip)
    schema_key = schema_digest(project.schema)
    for year in skip:  # what the years not read had to say, as the last build found it
        result.problems += from_plain(before["years"][year]["problems"])
        # and their files' cache entries stay for when they are read again
        cache.retain(key for path, file_digest in before["years"][year]["files"].items()
                     for key in (("stat", path), ("load", path, file_digest),
                                 check_key(path, file_digest, schema_key)))
    result.problems = sort(result.problems)
    if result.failed or result.loaded is None:
        cache.save()  # what was parsed stays parsed, even when the build fails
        return result
    # Jinja, Python-Markdown and Babel load only when pages are rendered: a check,
    # or a build that finds nothing changed, starts faster without them.
    from .render import Renderer, TemplateProblem, extra_files, render_markdown

    clock = time.perf_counter()
    site = build_model(result.loaded, preview=preview, base_url=base_url)
    settle()  # before planning, whose many small allocations would make the collector walk the model
    manifest_key = ("pages", out.name)
    try:
        renderer = Renderer(site, project.templates, project.root, dates=cache.get(DATES_KEY))
        reuse = {int(year) for year in skip}
        previous = cache.get(manifest_key)
        if not renderer.can_reuse(previous, reuse):
            raise _ReadEverything
        plan = renderer.plan(previous, reuse)
    except TemplateProblem as exc:
        result.problems += exc.problems
        return result
    cache.put(DATES_KEY, renderer.all_dates())  # before the workers fork: they inherit every date
    result.site, result.renderer, result.timings["model"] = site, renderer, time.perf_counter() - clock
    settle()
    result.languages = [lang.code for lang in site.languages]
    with build_lock(out):
        tree = write.current_tree(out)
        extras = [plan.sitemap, *extra_files(site, project.templates, renderer.strings)]
        paths = sorted(plan.paths + [p.path for p in extras])
        searched = search.enabled() and not preview
        versions = plan.versions
        if (tree is not None and not plan.jobs and cache.get(("files", out.name)) == paths
                and _tree_holds(tree, versions | {p.path: write.version_of(p.data) for p in extras},
                                [f"{search.BUNDLE}/"] if searched else [])
                and all(write.same_bytes(tree / p.path, p.data) for p in extras)):
            # Nothing changed: site/ stays exactly as it is, not even relinked.
            result.written = write.WriteStats(0, len(paths), tree)
        else:
            draft = write.begin(out, reuse=True)
            clock = time.perf_counter()
            say(f"rendering {len(plan.jobs)} changed pages ({sum(len(j.texts) for j in plan.jobs)} response texts)")
            renderer.html = render_markdown(
                (t for job in plan.jobs for t in job.texts), Cache.at(project.root, HTML_CACHE_NAME),
                keep={(t.digest, str(r.year)) for report in site.reports for r in report.responses
                      for t in r.texts.values()} | {(d, y) for y in skip for d in before["years"][y]["texts"]})
            result.timings["markdown"] = time.perf_counter() - clock
            clock = time.perf_counter()
            # While the workers render, this process writes the cache: all of it is final but the
            # pages' keys, put only once the new tree is in place (a failed build must not have them).
            problems = render_and_write(renderer, plan.jobs, draft,
                                        meanwhile=cache.save if len(plan.jobs) >= MIN_ITEMS else None)
            lost = [path for path in plan.kept if not write.keep(draft, path, versions[path])]
            if lost and skip:  # the model lacks the years not read: start again, reading them
                write.abandon_failed(draft)
                raise _ReadEverything
            if lost:  # the previous tree lacks them (removed by hand?): render them after all
                everything = {job.info.path: job for job in renderer.plan(None).jobs}
                problems += render_and_write(renderer, [everything[path] for path in lost], draft)
            if problems:
                write.abandon_failed(draft)
                result.problems += problems
                cache.save()
                return result
            for page in extras:
                write.put(draft, page)
            folders = []
            if searched:
                say("building the search index")
                result.timings["search"] = search.build_index(draft.tmp)
                folders.append(f"{search.BUNDLE}/")
                write.add_folder(draft, folders[-1])
            write.prune(draft, paths + folders)
            result.written = write.commit(draft, background=True)
            result.timings["render"] = time.perf_counter() - clock - result.timings.get("search", 0.0)
    if result.written.tree != tree:  # a new tree: after a first build there is no spare yet
        write.prepare_spare(out)
    cache.put(manifest_key, plan.manifest)
    cache.put(("files", out.name), paths)
    cache.put(years_key, year_records(project, result, cache, schema_key, shared, inputs, before, skip))
    result.paths = paths
    record_fingerprint(out, fingerprint, result)
    cache.save()
    return result


def year_inputs(project: Project, stats: Mapping[str, os.stat_result], options: str
                ) -> tuple[str, dict[str, str | None]]:
    """What every year's checks depend on (as one digest), and each year's response files.

    The first covers the generator, the options, the schema, the data files
    (settings, units, every report.yaml) and the names of all response files
    (links between years); the others each year's files' sizes, times and inodes,
    or None when one of them changed too recently for its times to be trusted.
    """
    content = str(project.content) + os.sep
    now = time.time_ns()
    shared = [CODE_DIGEST, options, repr(signature(os.stat(project.schema)))]
    names: list[str] = []
    years: dict[str, list[str]] = {}
    racy: set[str] = set()
    for path in sorted(stats):
        if not path.startswith(content):
            continue
        parts = path[len(content):].split(os.sep)
        st = stats[path]
        if len(parts) == 2 and parts[1].endswith(".md") and YEAR_DIR.match(parts[0]):
            names.append("/".join(parts))
            years.setdefault(parts[0], []).append(f"{parts[1]}:{signature(st)}")
            if trusted_signature(st, now) is None:
                racy.add(parts[0])
        else:
            shared.append(f"{'/'.join(parts)}:{signature(st)}")
    return digest(*shared, *names), {year: None if year in racy else digest(*files) for year, files in years.items()}


def skippable_years(before: Mapping[str, Any], shared: str, inputs: Mapping[str, str | None]
                    ) -> dict[str, frozenset[str]]:
    """The years whose response files need not be read: the same files as the last successful
    build found, with nothing they depend on changed; each with the paths of its drafts."""
    if before.get("shared") != shared:
        return {}
    known = before.get("years", {})
    changed = {year for year, digest_ in inputs.items()
               if digest_ is None or known.get(year, {}).get("inputs") != digest_}
    return {year: frozenset(known[year]["drafts"]) for year in inputs
            if year not in changed and not changed & set(known[year]["links"])}


def year_records(project: Project, result: Result, cache: Cache, schema_key: str, shared: str,
                 inputs: Mapping[str, str | None], before: Mapping[str, Any], skip: Collection[str]
                 ) -> dict[str, Any]:
    """What the next build needs to skip a year: its inputs, its problems, its drafts, the years
    it links to, the texts its pages show and its files' digests (to keep their cache entries).

    The links are those validate found, from the cache (the same resolution, whatever
    the way they were written: ../2023/x.md, .././2023/x.md …).
    """
    assert result.loaded is not None and result.site is not None

    def linked_years(r: ResponseFile) -> set[str]:
        checked = cache.get(check_key(r.path, r.file_digest, schema_key))
        return {resolved.split("/")[1] for _, _, resolved in checked[1]} if checked else set(inputs)
    years: dict[str, Any] = {year: before["years"][year] for year in skip}
    by_year: dict[str, list[ResponseFile]] = {}
    for r in result.loaded.responses:
        by_year.setdefault(r.year, []).append(r)
    shown = {str(report.year): [t.digest for r in report.responses for t in r.texts.values()]
             for report in result.site.reports}
    content = project.content.name
    for year, digest_ in inputs.items():
        if year in skip or digest_ is None:
            continue
        files = by_year.get(year, [])
        prefix = f"{content}/{year}/"
        years[year] = {
            "inputs": digest_,
            "problems": to_plain(p for p in result.problems if p.path.startswith(prefix) and p.path.endswith(".md")),
            "drafts": sorted(r.path for r in files if isinstance(r.meta.data, dict) and r.meta.data.get("draft")),
            "links": sorted(set().union(*map(linked_years, files)) - {year}),
            "texts": shown.get(year, []),
            "files": {r.path: r.file_digest for r in files},
        }
    return {"shared": shared, "years": years}


def _tree_holds(tree: Path, versions: Mapping[str, str], folders: list[str]) -> bool:
    """The published tree's manifest says it holds exactly these files, and these folders.

    The cache says what the last build planned; the manifest says what the tree
    holds (a build killed after its swap, or the preview's in-place rewrites, part them).
    """
    files = write.read_manifest(tree)
    return (files is not None and {path for path in files if path.endswith("/")} == set(folders)
            and {path: v for path, v in files.items() if not path.endswith("/")} == versions)


def input_fingerprint(project: Project, options: str) -> tuple[str, dict[str, os.stat_result]]:
    """Every input's name, size and modification time, and the generator itself: cheap to take.

    Equal fingerprints mean nothing was touched since the last build (the same
    test make and Hugo use); any doubt just takes the normal, content-hashed path.
    Also returns the stat of every file by path, for load to reuse.
    """
    parts = [CODE_DIGEST, options, str(project.templates), str(project.schema)]
    stats: dict[str, os.stat_result] = {}
    for top in (project.content, project.templates):
        for folder, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                if is_ignored(name):  # editor leftovers, e.g. Emacs's lock: a link to nowhere
                    continue
                path = os.path.join(folder, name)
                try:
                    st = stats[path] = os.stat(path)
                except OSError:
                    parts.append(f"{folder}/{name}:unreadable")
                    continue
                parts.append(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    st = os.stat(project.schema)
    parts.append(f"{st.st_size}:{st.st_mtime_ns}")
    return digest(*parts), stats


def _fingerprint_file(out: Path) -> Path:
    return out.parent / CACHE_DIR / f"{out.name.lstrip('.')}-fingerprint.json"


def unchanged_since(out: Path, fingerprint: str) -> Result | None:
    """The last build's result when its inputs are untouched and its tree is in place, else None."""
    try:
        stored = json.loads(_fingerprint_file(out).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tree = write.current_tree(out)
    if stored.get("fingerprint") != fingerprint or tree is None or stored.get("tree") != tree.name:
        return None
    result = Result([Problem(**p) for p in stored["problems"]], timings={"check": 0.0})
    result.paths = stored["paths"]
    result.languages = stored["languages"]
    result.written = write.WriteStats(0, len(result.paths), tree)
    return result


def record_fingerprint(out: Path, fingerprint: str, result: Result) -> None:
    """Remember a successful build's inputs and outcome for unchanged_since()."""
    target = _fingerprint_file(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    assert result.written is not None
    data = {"fingerprint": fingerprint, "tree": result.written.tree.name, "paths": result.paths,
            "languages": result.languages, "problems": [asdict(p) for p in result.problems]}
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, target)


def render_and_write(renderer: Renderer, jobs: list[PageJob], draft: write.Draft,
                     meanwhile: Callable[[], None] | None = None) -> list[Problem]:
    """Render pages and add them to the draft, on every core when there are many.

    The first page is rendered here, so that a broken template is reported with its
    line before any worker starts; workers write their pages straight into the draft.
    `meanwhile` runs here while they do (see parallel.pmap).
    """
    if not jobs:
        return []
    # The pages showing the most responses first, so that no core is left with a big one at the end.
    jobs = sorted(jobs, key=lambda job: -len(job.texts))
    first = _render_one(renderer, draft, jobs[0])
    if isinstance(first, Problem):
        return [first]
    results = pmap(partial(_render_one, renderer, draft), jobs[1:], meanwhile=meanwhile)
    for job in jobs[1:]:  # what the workers put in their copies of the draft
        draft.files[job.info.path] = job.key
    problems = [r for r in results if isinstance(r, Problem)]
    draft.written += sum(1 for r in results if r is True) + (first is True)
    draft.kept += sum(1 for r in results if r is False) + (first is False)
    return problems[:1]


def _render_one(renderer: Renderer, draft: write.Draft, job: PageJob) -> bool | Problem:
    import jinja2

    from .render import template_problem

    try:
        page = renderer.render(job)
    except jinja2.TemplateError as exc:
        return template_problem(exc, renderer.templates)
    before = (draft.written, draft.kept)
    written = write.put(draft, page, job.key)
    draft.written, draft.kept = before  # counted by the caller, which also sees the workers' results
    return written
