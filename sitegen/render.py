"""Stage 4, render: the model, Markdown and Jinja templates → the bytes of every page.

Every page gets a key, a digest of everything it shows: a page whose key the
published tree already holds (asked through `have`) is not rendered again.
Every response body is rendered to HTML once per build however many pages show
it, and once ever per distinct text (the store keeps the HTML); pages render on
every core. Writes nothing: the pages go to write.publish as they are made.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from html import escape
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from . import links, markup, pdf
from .cache import CACHE_DIR, CODE_DIGEST, Cache, digest, tree_digest
from .errors import Problem, errors
from .load import parse_yaml, read_text
from .model import Report, Response, Section, Site, Text, Unit
from .parallel import pmap, pmap_iter
from .safepath import SLUG
from .write import Done, Page, Pages, Sink, version_of

STRINGS_FILE = "strings.yaml"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' https:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'"
)
"""Published pages run only the site's own scripts and styles; 'wasm-unsafe-eval' is for Pagefind.
Serve the same value as a Content-Security-Policy header, adding frame-ancestors 'none' (see README)."""
PREVIEW_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "connect-src 'self'", "connect-src 'self' ws: wss:")
"""The preview relaxes the policy for livereload's injected inline script and its websocket."""
STATIC_DIR = "static"


@dataclass(frozen=True)
class PageInfo:
    """What every template knows of the page it renders."""

    kind: str
    lang: str
    path: str
    """Output path below site/, e.g. fi/2022/1.3/index.html."""
    title: str
    description: str
    alternates: Mapping[str, str] = field(default_factory=dict)
    """The same page in each language: language → output path."""
    breadcrumbs: tuple[tuple[str, str | None], ...] = ()
    """(label, path) from the front page down; the current page has path None."""


class TemplateProblem(Exception):
    """A template or the UI-strings file is broken: located like a content problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(map(str, problems)))


# -- strings and templates ------------------------------------------------------


def load_strings(templates: Path, root: Path, languages: Iterable[str]) -> dict[str, dict[str, str]]:
    """Read templates/strings.yaml and check every key has every language."""
    problems: list[Problem] = []
    text = read_text(templates / STRINGS_FILE, root, problems)
    if text is None:
        raise TemplateProblem(problems)
    doc, problems = parse_yaml(text, f"{templates.name}/{STRINGS_FILE}")
    if problems:
        raise TemplateProblem(problems)
    strings: dict[str, dict[str, str]] = doc.data or {}
    for key, values in strings.items():
        for lang in languages:
            if not isinstance(values, dict) or not isinstance(values.get(lang), str):
                problems.append(Problem(doc.path, doc.line_of((key,)),
                    f"{key}: the '{lang}' text is missing", field=key))
            elif key.endswith("_slug") and not SLUG.match(values[lang]):
                problems.append(Problem(doc.path, doc.line_of((key, lang)), f"{key}.{lang}: {values[lang]!r} "
                    "is not a slug: it names a folder of the site, so only a-z, 0-9 and single hyphens, "
                    "e.g. haku", field=f"{key}.{lang}"))
            elif key.endswith("_url") and not links.HTTPS_URL.match(values[lang]):
                problems.append(Problem(doc.path, doc.line_of((key, lang)), f"{key}.{lang}: {values[lang]!r} "
                    "is not valid; expected an https:// address, e.g. https://www.espoo.fi/fi", field=f"{key}.{lang}"))
    if problems:
        raise TemplateProblem(problems)
    return strings


def make_environment(templates: Path) -> jinja2.Environment:
    """Jinja with autoescaping and StrictUndefined: a typo in a template fails the build.

    Compiled templates are kept beside the templates (.cache/jinja next to the folder),
    like Python's __pycache__ beside modules: Jinja reuses one only for the same source,
    by checksum, and compiling them costs a clean build 0.1 s. A folder that cannot be
    made only means compiling every time.
    """
    folder = templates.parent / CACHE_DIR / "jinja"
    compiled: jinja2.BytecodeCache | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        compiled = jinja2.FileSystemBytecodeCache(str(folder))
    except OSError:
        pass
    return jinja2.Environment(
        bytecode_cache=compiled,
        loader=jinja2.FileSystemLoader(templates),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # editing a template in the middle of a build is not useful
    )


# -- URLs -----------------------------------------------------------------------


def report_path(lang: str, year: int) -> str:
    return f"{lang}/{year}/index.html"


def section_path(lang: str, year: int, number: str) -> str:
    return f"{lang}/{year}/{number}/index.html"


def unit_path(lang: str, year: int, unit: Unit) -> str:
    return f"{lang}/{year}/{unit.slug[lang]}/index.html"


def relative(from_path: str, to_path: str) -> str:
    """A link from one output file to another, relative, so the site works at any sub-path and from disk."""
    target, _, fragment = to_path.partition("#")
    here = from_path.split("/")[:-1]
    there = target.split("/")
    common = 0
    while common < len(here) and common < len(there) - 1 and here[common] == there[common]:
        common += 1
    rel = "../" * (len(here) - common) + "/".join(there[common:])
    return rel + (f"#{fragment}" if fragment else "")


def absolute(base_url: str, path: str) -> str:
    """The public URL of an output file (directory URLs without index.html)."""
    if path == "index.html" or path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return base_url + path


# -- rendering ------------------------------------------------------------------


@dataclass(frozen=True)
class PageJob:
    """One page to render: its template, what it shows, and a digest of all of that."""

    template: str
    info: PageInfo
    context: Mapping[str, Any]
    key: str
    """Changes whenever anything the page shows changes: equal keys give equal bytes."""
    texts: tuple[tuple[Text, int], ...] = ()
    """The response texts (and their years) the page shows."""


class Renderer:
    """Plans and renders the pages of a site from compiled templates and pre-rendered bodies."""

    def __init__(self, site: Site, templates: Path, root: Path,
                 html: Mapping[tuple[str, str], str] | None = None, cache: Cache | None = None) -> None:
        self.site = site
        self.templates = templates
        self.root = root
        self.html: dict[tuple[str, str], str] = dict(html or {})
        self.codes = [lang.code for lang in site.languages]
        self.strings = load_strings(templates, root, self.codes)
        self.cache = cache or Cache.disabled()
        templates_key = tree_digest(p for p in templates.rglob("*") if p.is_file())
        # One environment for as long as the templates are the same (a warm session's rebuilds):
        # it holds the compiled templates, and a new one each time would be garbage with cycles.
        self.env = self.cache.memo(("jinja", templates_key), partial(make_environment, templates))
        self.locales = {lang.code: lang.locale for lang in site.languages}
        self.response_keys: dict[int, tuple[Response, str]] = {}
        self.global_key = digest(CODE_DIGEST, templates_key,
                                 repr(site.base_url), repr(site.preview), repr(site.languages),
                                 repr(sorted((u.id, u.kind, sorted(u.name.items()), sorted(u.slug.items()),
                                              u.parent) for u in site.units.values())), markup.RENDERER_VERSION)

    # The helpers templates call ------------------------------------------------

    def t(self, lang: str) -> Callable[..., str]:
        def translate(key: str, **params: Any) -> str:
            try:
                text = self.strings[key][lang]
            except KeyError:
                raise jinja2.UndefinedError(f"no UI string '{key}' in {STRINGS_FILE}") from None
            return text.format(**params) if params else text
        return translate

    @staticmethod
    def date(value: dt.date) -> str:
        """A date as espoo.fi writes it in both languages: 30.6.2023."""
        return f"{value.day}.{value.month}.{value.year}"

    def body(self, text: Text, year: int) -> Markup:
        key = (text.digest, str(year))
        if key not in self.html:  # not pre-rendered (a caller that did not ask): render now
            self.html[key] = markup.to_html(text.markdown, str(year))
        return Markup(self.html[key])  # noqa: S704 (sanitised by markup.sanitize)

    # Planning ------------------------------------------------------------------

    def plan(self) -> tuple[list[PageJob], list[str]]:
        """Every page of the site, each with its key, and the sitemap's entries.

        A build renders the pages the published tree lacks. A report that is the same
        object as in the last build (a warm preview: see model.build_model) keeps its
        pages' plan, so an edit plans one year again.
        """
        jobs = self.site_jobs()
        entries = [entry for job in jobs for entry in sitemap_entries(self.site.base_url, job.info)]
        for report in self.site.reports:
            year_jobs, year_entries = self.cache.memo_from(f"pages {self.global_key}", (report,),
                                                           partial(self.year_plan, report))
            jobs += year_jobs
            entries += year_entries
        return jobs, entries

    def year_plan(self, report: Report) -> tuple[list[PageJob], list[str]]:
        """A report's pages in every language, and their sitemap entries."""
        structure = self.structure_key(report)
        jobs = [job for lang in self.codes for job in self.report_jobs(lang, report, structure)]
        return jobs, [entry for job in jobs for entry in self.cache.memo_from(
            f"sitemap {self.site.base_url}", (job,), partial(sitemap_entries, self.site.base_url, job.info))]

    def site_jobs(self) -> list[PageJob]:
        """The pages above the reports: the root, each language's front page, 404, search and statement."""
        site, original, strings = self.site, self.site.original, self.strings
        every_year = digest(*(self.structure_key(report) for report in site.reports))
        everywhere = {code: f"{code}/index.html" for code in self.codes}
        jobs = [self.job("root.html", PageInfo("root", original, "index.html", strings["site_name"][original],
                         strings["site_description"][original], everywhere), every_year)]
        for lang in self.codes:
            home = (strings["site_name"][lang], f"{lang}/index.html")
            jobs.append(self.job("home.html", PageInfo(
                "home", lang, f"{lang}/index.html", strings["site_name"][lang], strings["site_description"][lang],
                everywhere, ((strings["site_name"][lang], None),)), every_year))
            jobs.append(self.job("404.html", PageInfo(
                "notfound", lang, f"{lang}/404.html", strings["notfound_title"][lang], strings["notfound_title"][lang],
                {code: f"{code}/404.html" for code in self.codes}), ""))
            jobs.append(self.job("search.html", PageInfo(
                "search", lang, self.search_path(lang), strings["search_title"][lang],
                strings["search_description"][lang], {code: self.search_path(code) for code in self.codes},
                (home, (strings["search_title"][lang], None))), ""))
            jobs.append(self.job("statement.html", PageInfo(
                "statement", lang, self.statement_path(lang), strings["statement_title"][lang],
                strings["statement_description"][lang], {code: self.statement_path(code) for code in self.codes},
                (home, (strings["statement_title"][lang], None))), repr(site.statement)))
        return jobs

    def search_path(self, lang: str) -> str:
        return f"{lang}/{self.strings['search_slug'][lang]}/index.html"

    def statement_path(self, lang: str) -> str:
        return f"{lang}/{self.strings['statement_slug'][lang]}/index.html"

    def job(self, template: str, info: PageInfo, key: str, responses: Iterable[Response] = (),
            **context: Any) -> PageJob:
        """A page to render; its key covers the global inputs, the page's data, `key` and its responses."""
        responses = tuple(responses)
        texts = tuple((text, r.year) for r in responses for text in self.shown_texts(r, info.lang))
        return PageJob(template, info, context, digest(self.global_key, template, repr(info), key,
                                                       *(self.response_key(r) for r in responses)), texts)

    def response_key(self, r: Response) -> str:
        """response_key(r), once per response: a response shows on several pages."""
        key = self.response_keys.get(id(r))
        if key is None or key[0] is not r:
            key = self.response_keys[id(r)] = (r, response_key(r))
        return key[1]

    def shown_texts(self, r: Response, lang: str) -> list[Text]:
        """The texts a page in `lang` shows for `r`: its translation, or the original in its place."""
        return [r.texts.get(lang) or r.texts[self.site.original]]

    def structure_key(self, report: Report) -> str:
        """What every page of a year may show: titles, dates, headings, who answered what."""
        return self.cache.memo_from("structure", (report,), lambda: structure_key(report, partial(
            self.cache.memo_from, "section structure")))

    def report_jobs(self, lang: str, report: Report, year_key: str) -> list[PageJob]:
        """The report's front page, one page per answered section and one per responding unit.

        A page is planned again only when what it is made from is new (a warm session keeps
        the plans of pages whose sections, responses and year structure are the same).
        """
        t = self.t(lang)
        home = (t("site_name"), f"{lang}/index.html")
        jobs = [self.job("report.html", PageInfo(
            "report", lang, report_path(lang, report.year), report.title[lang],
            t("report_description", year=report.year, committee=report.committee[lang]),
            {c: report_path(c, report.year) for c in self.codes},
            (home, (str(report.year), None))), year_key, report=report)]
        answered = report.answered
        kind = f"{lang} {year_key} {self.global_key}"
        for i, section in enumerate(answered):
            neighbours = (answered[i - 1] if i > 0 else None, answered[i + 1] if i + 1 < len(answered) else None)
            jobs.append(self.cache.memo_from(f"section {kind}", (section, *neighbours), partial(
                self.section_job, lang, report, year_key, section, *neighbours)))
        for unit, own, below in self.responding_units(report):
            jobs.append(self.cache.memo_from(f"unit {kind} {len(own)}", (unit, *own, *below), partial(
                self.unit_job, lang, report, year_key, unit, own, below)))
        return jobs

    def section_job(self, lang: str, report: Report, year_key: str, section: Section,
                    previous: Section | None, following: Section | None) -> PageJob:
        """The page of one answered section, with its breadcrumbs and its neighbours."""
        t = self.t(lang)
        crumbs = ((t("site_name"), f"{lang}/index.html"), (str(report.year), report_path(lang, report.year))) + tuple(
            (f"{s.number} {s.title[lang]}", section_path(lang, report.year, s.number) if s.responses else
             f"{report_path(lang, report.year)}#s{s.number}")
            for s in report.ancestors(section.number)
        ) + ((f"{section.number} {section.title[lang]}", None),)
        return self.job("section.html", PageInfo(
            "section", lang, section_path(lang, report.year, section.number),
            f"{section.number} {section.title[lang]}",
            t("section_description", number=section.number, title=section.title[lang], year=report.year),
            {c: section_path(c, report.year, section.number) for c in self.codes}, crumbs),
            year_key, section.responses, report=report, section=section, previous=previous, next=following)

    def unit_job(self, lang: str, report: Report, year_key: str, unit: Unit, own: list[Response],
                 below: list[Response]) -> PageJob:
        """The page of one responding unit: its own responses and those of the units below it."""
        t = self.t(lang)
        crumbs = ((t("site_name"), f"{lang}/index.html"), (str(report.year), report_path(lang, report.year)))
        return self.job("unit.html", PageInfo(
            "unit", lang, unit_path(lang, report.year, unit), unit.name[lang],
            t("unit_description", unit=unit.name[lang], year=report.year),
            {c: unit_path(c, report.year, unit) for c in self.codes}, crumbs + ((unit.name[lang], None),)),
            year_key, own + below, report=report, unit=unit, own=own, below=below)

    def responding_units(self, report: Report) -> list[tuple[Unit, list[Response], list[Response]]]:
        """Units with responses of their own or of their sub-units: (unit, own, sub-units')."""
        by_unit: dict[str, list[Response]] = {}
        for r in report.responses:
            by_unit.setdefault(r.unit.id, []).append(r)
        out = []
        for unit in self.site.units.values():
            own = by_unit.get(unit.id, [])
            below = [r for uid in self.site.descendants(unit) - {unit.id} for r in by_unit.get(uid, [])]
            below.sort(key=lambda r: report.order(r))
            if own or below:
                out.append((unit, own, below))
        return out

    # Rendering -----------------------------------------------------------------

    def render(self, job: PageJob) -> Page:
        """Render one page."""
        info = job.info
        lang = info.lang
        html = self.env.get_template(job.template).render(
            site=self.site, page=info, lang=lang, t=self.t(lang), date=self.date,
            t_in=lambda code, key, **params: self.t(code)(key, **params),
            responding_units=self.responding_units,
            url=partial(relative, info.path), abs_url=partial(absolute, self.site.base_url),
            body=self.body, report_path=report_path, section_path=section_path, unit_path=unit_path,
            search_path=self.search_path, statement_path=self.statement_path, iso_date=dt.date.fromisoformat,
            locale=self.locales[lang], file_size=partial(pdf.size_text, self.t(lang)),
            csp=PREVIEW_CONTENT_SECURITY_POLICY if self.site.preview else CONTENT_SECURITY_POLICY, **job.context,
        )
        return Page(info.path, html.encode("utf-8"))


def sitemap_entries(base: str, info: PageInfo) -> list[str]:
    """The sitemap lines of one page: its URL and its language alternates."""
    if info.kind in ("root", "notfound", "search"):
        return []
    lines = [f"  <url><loc>{_xml(absolute(base, info.path))}</loc>"]
    for code, path in info.alternates.items():
        lines.append(f'    <xhtml:link rel="alternate" hreflang="{code}" href="{_xml(absolute(base, path))}"/>')
    lines.append(f'    <xhtml:link rel="alternate" hreflang="x-default" href="{_xml(base)}"/>')
    lines.append("  </url>")
    return ["\n".join(lines)]


def _xml(text: str) -> str:
    return escape(text, quote=True)


def sitemap_page(entries: list[str]) -> Page:
    """sitemap.xml from page entries."""
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:xhtml="http://www.w3.org/1999/xhtml">')
    return Page("sitemap.xml", "\n".join([head, *entries, "</urlset>\n"]).encode("utf-8"))


def structure_key(report: Report,
                  memo: Callable[[tuple[Section], Callable[[], str]], str] = lambda s, make: make()) -> str:
    """What every page of a year may show: titles, dates, headings, who answered what.

    `memo` keeps each heading's part while its Section is the same object (a warm session).
    """
    return digest(repr((report.year, sorted(report.title.items()), sorted(report.committee.items()),
                        report.published, sorted(report.evaluation_report_url.items()),
                        sorted(report.evaluation_report_title.items()))),
                  *(memo((s,), partial(section_structure, s)) for s in report.sections))


def section_structure(s: Section) -> str:
    """What a heading adds to its year's structure: number, titles, who answered, in what order."""
    return repr((s.number, sorted(s.title.items()), [(r.unit.id, r.weight, r.draft, sorted(r.texts))
                                                     for r in s.responses]))


def response_key(r: Response) -> str:
    """Everything of one response a page shows."""
    return repr((r.section, r.unit.id, r.weight, r.updated, [
        (t.lang, t.digest, t.draft, t.translation and (t.translation.recorded, t.translation.current,
                                                      t.translation.reviewed)) for t in r.texts.values()]))


def render_markdown(texts: Iterable[tuple[Text, int]], cache: Cache) -> dict[tuple[str, str], str]:
    """The HTML of each distinct body (per year: links are relative to it), from the store or on every core."""
    wanted = {(text.digest, str(year)): text.markdown for text, year in texts}
    html: dict[tuple[str, str], str] = {}
    misses = []
    for key in sorted(wanted):
        hit = cache.get(_html_key(key))
        if hit is None:
            misses.append(key)
        else:
            html[key] = hit
    for key, result in zip(misses, pmap(_markdown_job, [(wanted[k], k[1]) for k in misses]), strict=True):
        if result is not None:  # None: too complex to render (too_complex() says where)
            cache.put(_html_key(key), result)
            html[key] = result
    return html


def too_complex(texts: Iterable[tuple[Text, int]], html: Mapping[tuple[str, str], str]) -> list[Problem]:
    """A located error for each body render_markdown could not render, once per file."""
    failed = {text.source: text for text, year in texts if (text.digest, str(year)) not in html}
    return [Problem(path, text.body_line + markup.deepest_line(text.markdown), markup.TOO_COMPLEX)
            for path, text in sorted(failed.items())]


def _html_key(key: tuple[str, str]) -> tuple[str, ...]:
    """The store's key of a body's HTML: (digest, year), and the renderer's version."""
    return ("html", *key, markup.RENDERER_VERSION)


def _markdown_job(job: tuple[str, str]) -> str | None:
    return markup.try_html(*job)


def extra_files(site: Site, templates: Path, strings: Mapping[str, Mapping[str, str]]) -> list[Page]:
    """The static files and, in preview, the overlay script and a clean status."""
    pages = [Page(out, src.read_bytes()) for out, src in static_files(templates)]
    if site.preview:
        pages.append(Page(PREVIEW_SCRIPT, (templates / "preview" / "overlay.js").read_bytes()))
        pages.append(preview_status(strings, site.original, []))
    return pages


def static_files(templates: Path) -> list[tuple[str, Path]]:
    """(output path, source file) for everything under templates/static/, in a stable order.

    A symbolic link anywhere in the templates folder must stay inside it (as one in content/
    must stay in content/): one that leads elsewhere (a static file, or a template Jinja would
    include) is refused, never published (TemplateProblem).
    """
    inside, problems = os.path.realpath(templates) + os.sep, []
    for p in sorted(templates.rglob("*")):
        if p.is_symlink() and not os.path.realpath(p).startswith(inside):
            problems.append(Problem(f"{templates.name}/{p.relative_to(templates).as_posix()}", None,
                f"a symbolic link that leads outside {templates.name}/ is not allowed; copy the file in instead"))
    if problems:
        raise TemplateProblem(problems)
    base = templates / STATIC_DIR
    if not base.is_dir():
        return []
    return [(f"{STATIC_DIR}/{p.relative_to(base).as_posix()}", p)
            for p in sorted(base.rglob("*")) if p.is_file() and not p.name.startswith(".")]


PREVIEW_STATUS = "_preview/status.json"
PREVIEW_SCRIPT = "_preview/overlay.js"


def preview_status(strings: Mapping[str, Mapping[str, str]], lang: str, lines: list[str]) -> Page:
    """The preview's status file: the problems of the last rebuild (none after a good one)."""
    data: dict[str, object] = {
        "heading": strings["preview_errors_heading"][lang], "note": strings["preview_errors_note"][lang],
        "problems": lines, "languages": {  # the overlay speaks the page's language (<html lang>)
            code: {"heading": heading, "note": strings["preview_errors_note"][code]}
            for code, heading in strings["preview_errors_heading"].items()}}
    return Page(PREVIEW_STATUS, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def template_problem(exc: BaseException, templates: Path) -> Problem:
    """Locate a template error at the template's own line (Jinja rewrites the traceback to it)."""
    import traceback

    if isinstance(exc, jinja2.TemplateSyntaxError):
        return Problem(f"{templates.name}/{exc.name or exc.filename}", exc.lineno, f"template syntax: {exc.message}")
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if templates.resolve() in path.resolve().parents:
            return Problem(f"{templates.name}/{path.relative_to(templates.resolve()).as_posix()}",
                           frame.lineno, f"template: {exc}")
    return Problem(templates.name, None, f"template: {exc}")


# -- the stage ---------------------------------------------------------------------------------


@dataclass
class Output:
    """What render gives write.publish: every file of the site, and the bytes of those to write."""

    files: dict[str, str]
    """Every file of the site: path → version (a page's key, or a digest of the bytes)."""
    pages: Pages = field(default_factory=lambda: Pages.ready([]))
    """The files the published tree does not hold, made as write.publish asks for them, each
    put into the new tree by the worker that renders it (a page that fails is its Problem)."""
    problems: list[Problem] = field(default_factory=list)
    """What stopped the rendering before any page was made (a broken template or strings.yaml)."""
    warnings: list[Problem] = field(default_factory=list)
    """What the build goes on despite (the PDFs left out where WeasyPrint cannot run)."""


def render(site: Site, templates: Path, root: Path, cache: Cache,
           have: Callable[[str, str], bool] = lambda path, version: False) -> Output:
    """Plan every page and render those whose version `have` says the published tree lacks.

    The templates are compiled and the first page is rendered here, so that a broken
    template is reported with its line before any worker starts; the others render on
    every core as write.publish consumes them. The year's PDFs (pdf.py) are made here
    first, as their sizes show on the years' front pages. The HTML of every body still
    shown is kept in the store (`cache`) for the next build.
    """
    planned = _plan(site, templates, root, cache)
    if isinstance(planned, list):
        return Output({}, problems=planned)
    renderer, jobs, entries, extras = planned
    _retain_bodies(site, cache)
    prints, made = _print_edition(renderer, have, cache)
    if errors(made.problems):
        return Output({}, problems=made.problems)
    jobs = pdf.attach(jobs, prints, made.sizes)
    extras.insert(0, sitemap_page(entries + pdf.sitemap_entries(site.base_url, prints, made.sizes)))
    files = ({job.info.path: job.key for job in jobs} | {page.path: version_of(page.data) for page in extras}
             | pdf.versions(prints, made.sizes))
    todo = sorted((job for job in jobs if not have(job.info.path, job.key)), key=lambda job: -len(job.texts))
    renderer.html.update(render_markdown((t for job in todo for t in job.texts), cache))
    failed = too_complex((t for job in todo for t in job.texts), renderer.html)
    if failed:
        return Output(files, problems=failed)
    first = _compile(renderer, {job.template for job in todo}) or (_render_one(renderer, todo[0]) if todo else None)
    if isinstance(first, Problem):
        return Output(files, problems=[first])
    fresh = [Page(path, data) for path, data in made.pages] + [
        page for page in extras if not have(page.path, files[page.path])]
    return Output(files, Pages(partial(_make, renderer, first, todo[1:], fresh), len(todo) + len(fresh)),
                  warnings=made.problems)


def _retain_bodies(site: Site, cache: Cache) -> None:
    """Keep the HTML of every body still shown in the store: the next build may need any of them."""
    cache.retain(_html_key((text.digest, str(r.year)))
                 for report in site.reports for r in report.responses for text in r.texts.values())


def _print_edition(renderer: Renderer, have: Callable[[str, str], bool], cache: Cache
                   ) -> tuple[list[pdf.PdfJob], pdf.Made]:
    """The PDFs of the site (none in the preview unless asked, or with SITEGEN_PDF=0): the plan and
    what was made; the bodies they show are rendered first (into the renderer) when one is made."""
    if not pdf.enabled(renderer.site.preview):
        return [], pdf.Made([], {}, [])
    prints = pdf.plan(renderer)
    if not all(have(job.path, job.version) for job in prints):
        renderer.html.update(render_markdown((t for job in prints for t in job.texts), cache))
    return prints, pdf.make(renderer, prints, have, cache, ci=os.environ.get("CI") == "true")


def _plan(site: Site, templates: Path, root: Path, cache: Cache
          ) -> tuple[Renderer, list[PageJob], list[str], list[Page]] | list[Problem]:
    """The renderer, every page's job, the sitemap's entries and the other files (static files), or
    what stops them."""
    try:
        renderer = Renderer(site, templates, root, cache=cache)
        jobs, entries = renderer.plan()
        extras = extra_files(site, templates, renderer.strings)
    except TemplateProblem as exc:
        return exc.problems
    except jinja2.TemplateError as exc:
        return [template_problem(exc, templates)]
    return renderer, jobs, entries, extras


def _compile(renderer: Renderer, names: set[str]) -> Problem | None:
    """Compile the templates here, once, rather than in every worker (each would compile them again)."""
    try:
        for name in sorted(names):
            renderer.env.get_template(name)
    except jinja2.TemplateError as exc:
        return template_problem(exc, renderer.templates)
    return None


def _make(renderer: Renderer, first: Page | None, jobs: list[PageJob], extras: list[Page], sink: Sink
          ) -> Iterator[Done | Problem]:
    """Put the pages through `sink`: the first and the extras here, the others in the workers."""
    if first is not None:
        yield first.path, sink(first)
    yield from pmap_iter(partial(_render_into, renderer, sink), jobs)
    for page in extras:
        yield page.path, sink(page)


def _render_into(renderer: Renderer, sink: Sink, job: PageJob) -> Done | Problem:
    page = _render_one(renderer, job)
    return page if isinstance(page, Problem) else (page.path, sink(page))


def _render_one(renderer: Renderer, job: PageJob) -> Page | Problem:
    try:
        return renderer.render(job)
    except jinja2.TemplateError as exc:
        return template_problem(exc, renderer.templates)
