"""Stage 4, render: the model, Markdown and Jinja templates → the bytes of every page.

Pure: writes nothing. Every response body is rendered to HTML once, however
many pages show it, and every page is rendered from a template compiled once.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import jinja2
from babel.dates import format_date
from markupsafe import Markup

from . import markup
from .errors import Problem
from .load import parse_yaml, read_text
from .model import Report, Response, Section, Site, Unit, Text

STRINGS_FILE = "strings.yaml"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' https:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'"
)
"""Published pages run only the site's own scripts and styles; 'wasm-unsafe-eval' is for Pagefind.
Serve the same value as a Content-Security-Policy header, adding frame-ancestors 'none' (see README)."""
PREVIEW_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'unsafe-inline'").replace("connect-src 'self'", "connect-src 'self' ws: wss:")
"""The preview relaxes the policy for livereload's injected inline script and its websocket."""
STATIC_DIR = "static"


@dataclass(frozen=True)
class Page:
    """One output file: its path below site/ and its bytes."""

    path: str
    data: bytes


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
    if problems:
        raise TemplateProblem(problems)
    return strings


def make_environment(templates: Path) -> jinja2.Environment:
    """Jinja with autoescaping and StrictUndefined: a typo in a template fails the build."""
    return jinja2.Environment(
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
    rel = posixpath.relpath(target, posixpath.dirname(from_path) or ".")
    return rel + (f"#{fragment}" if fragment else "")


def absolute(base_url: str, path: str) -> str:
    """The public URL of an output file (directory URLs without index.html)."""
    if path == "index.html" or path.endswith("/index.html"):
        path = path[: -len("index.html")]
    return base_url + path


# -- rendering ------------------------------------------------------------------


@dataclass
class Renderer:
    """Renders every page of a site: holds the compiled templates and the HTML of every body."""

    site: Site
    templates: Path
    root: Path
    html_cache: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.codes = [lang.code for lang in self.site.languages]
        self.strings = load_strings(self.templates, self.root, self.codes)
        self.env = make_environment(self.templates)
        self.locales = {lang.code: lang.locale for lang in self.site.languages}

    # The helpers templates call ------------------------------------------------

    def t(self, lang: str) -> Callable[..., str]:
        def translate(key: str, **params: Any) -> str:
            try:
                text = self.strings[key][lang]
            except KeyError:
                raise jinja2.UndefinedError(f"no UI string '{key}' in {STRINGS_FILE}") from None
            return text.format(**params) if params else text
        return translate

    def date(self, lang: str) -> Callable[[dt.date], str]:
        return lambda value: format_date(value, "long", locale=self.locales[lang])

    def body(self, text: Text, year: int) -> Markup:
        key = (text.digest, str(year))
        if key not in self.html_cache:
            self.html_cache[key] = markup.to_html(text.markdown, str(year))
        return Markup(self.html_cache[key])  # noqa: S704 (sanitised by markup.sanitize)

    # Pages ---------------------------------------------------------------------

    def pages(self) -> list[Page]:
        """Every page of the site, in a stable order."""
        out: list[Page] = []
        site = self.site
        original = site.original
        out.append(self.page("root.html", PageInfo("root", original, "index.html",
            self.strings["site_name"][original], self.strings["site_description"][original],
            {code: f"{code}/index.html" for code in self.codes})))
        for lang in self.codes:
            alternates = {code: f"{code}/index.html" for code in self.codes}
            out.append(self.page("home.html", PageInfo("home", lang, f"{lang}/index.html",
                self.strings["site_name"][lang], self.strings["site_description"][lang], alternates,
                ((self.strings["site_name"][lang], None),))))
            for report in site.reports:
                out += self.report_pages(lang, report)
            out.append(self.page("404.html", PageInfo("notfound", lang, f"{lang}/404.html",
                self.strings["notfound_title"][lang], self.strings["notfound_title"][lang],
                {code: f"{code}/404.html" for code in self.codes})))
        out.append(self.sitemap([p for p in self.infos if p.kind not in ("notfound",)]))
        return out

    def report_pages(self, lang: str, report: Report) -> list[Page]:
        """The report's front page, one page per answered section and one per responding unit."""
        out = []
        t = self.t(lang)
        home = (t("site_name"), f"{lang}/index.html")
        title = report.title[lang]
        crumbs_report = (home, (str(report.year), report_path(lang, report.year)))
        out.append(self.page("report.html", PageInfo(
            "report", lang, report_path(lang, report.year), title,
            t("report_description", year=report.year, committee=report.committee[lang]),
            {c: report_path(c, report.year) for c in self.codes},
            (home, (str(report.year), None))), report=report))
        answered = report.answered
        for i, section in enumerate(answered):
            crumbs = crumbs_report + tuple(
                (f"{s.number} {s.title[lang]}", section_path(lang, report.year, s.number) if s.responses else
                 f"{report_path(lang, report.year)}#s{s.number}")
                for s in report.ancestors(section.number)
            ) + ((f"{section.number} {section.title[lang]}", None),)
            out.append(self.page("section.html", PageInfo(
                "section", lang, section_path(lang, report.year, section.number),
                f"{section.number} {section.title[lang]}",
                t("section_description", number=section.number, title=section.title[lang], year=report.year),
                {c: section_path(c, report.year, section.number) for c in self.codes}, crumbs),
                report=report, section=section,
                previous=answered[i - 1] if i > 0 else None,
                next=answered[i + 1] if i + 1 < len(answered) else None))
        for unit, own, below in self.responding_units(report):
            out.append(self.page("unit.html", PageInfo(
                "unit", lang, unit_path(lang, report.year, unit), unit.name[lang],
                t("unit_description", unit=unit.name[lang], year=report.year),
                {c: unit_path(c, report.year, unit) for c in self.codes},
                crumbs_report + ((unit.name[lang], None),)),
                report=report, unit=unit, own=own, below=below))
        return out

    def responding_units(self, report: Report) -> list[tuple[Unit, list[Response], list[Response]]]:
        """Units with responses of their own or of their sub-units: (unit, own, sub-units')."""
        out = []
        for unit in self.site.units.values():
            family = self.site.descendants(unit)
            own = [r for r in report.responses if r.unit.id == unit.id]
            below = [r for r in report.responses if r.unit.id in family and r.unit.id != unit.id]
            if own or below:
                out.append((unit, own, below))
        return out

    def page(self, template: str, info: PageInfo, **context: Any) -> Page:
        """Render one template for one page."""
        self.infos.append(info)
        lang = info.lang
        html = self.env.get_template(template).render(
            site=self.site, page=info, lang=lang, t=self.t(lang), date=self.date(lang),
            t_in=lambda code, key, **params: self.t(code)(key, **params),
            responding_units=self.responding_units,
            url=lambda to: relative(info.path, to), abs_url=lambda to: absolute(self.site.base_url, to),
            body=self.body, report_path=report_path, section_path=section_path, unit_path=unit_path,
            locale=self.locales[lang],
            csp=PREVIEW_CONTENT_SECURITY_POLICY if self.site.preview else CONTENT_SECURITY_POLICY, **context,
        )
        return Page(info.path, html.encode("utf-8"))

    def sitemap(self, infos: list[PageInfo]) -> Page:
        """sitemap.xml with every page and its language alternates."""
        base = self.site.base_url
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                 'xmlns:xhtml="http://www.w3.org/1999/xhtml">']
        for info in infos:
            if info.kind == "root":
                continue
            lines.append(f"  <url><loc>{xml_escape(absolute(base, info.path))}</loc>")
            for code, path in info.alternates.items():
                lines.append(f'    <xhtml:link rel="alternate" hreflang="{code}" '
                             f'href="{xml_escape(absolute(base, path))}"/>')
            lines.append(f'    <xhtml:link rel="alternate" hreflang="x-default" href="{xml_escape(base)}"/>')
            lines.append("  </url>")
        lines.append("</urlset>\n")
        return Page("sitemap.xml", "\n".join(lines).encode("utf-8"))

    infos: list[PageInfo] = field(default_factory=list)


def static_files(templates: Path) -> list[tuple[str, Path]]:
    """(output path, source file) for everything under templates/static/, in a stable order."""
    base = templates / STATIC_DIR
    if not base.is_dir():
        return []
    return [(f"{STATIC_DIR}/{p.relative_to(base).as_posix()}", p)
            for p in sorted(base.rglob("*")) if p.is_file() and not p.name.startswith(".")]


def render_site(site: Site, templates: Path, root: Path,
                html_cache: dict[tuple[str, str], str] | None = None) -> list[Page]:
    """Every page of the site, and the static files, as bytes."""
    renderer = Renderer(site, templates, root, html_cache if html_cache is not None else {})
    try:
        pages = renderer.pages()
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem([Problem(f"{templates.name}/{exc.name or exc.filename}", exc.lineno,
                                       f"template syntax: {exc.message}")]) from None
    except jinja2.TemplateError as exc:
        raise TemplateProblem([template_problem(exc, templates)]) from None
    pages += [Page(out, src.read_bytes()) for out, src in static_files(templates)]
    if site.preview:
        pages.append(Page(PREVIEW_SCRIPT, (templates / "preview" / "overlay.js").read_bytes()))
        pages.append(preview_status(renderer.strings, site.original, []))
    return pages


PREVIEW_STATUS = "_preview/status.json"
PREVIEW_SCRIPT = "_preview/overlay.js"


def preview_status(strings: Mapping[str, Mapping[str, str]], lang: str, lines: list[str]) -> Page:
    """The preview's status file: the problems of the last rebuild (none after a good one)."""
    import json

    data = {"heading": strings["preview_errors_heading"][lang], "note": strings["preview_errors_note"][lang],
            "problems": lines}
    return Page(PREVIEW_STATUS, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def template_problem(exc: BaseException, templates: Path) -> Problem:
    """Locate a template error at the template's own line (Jinja rewrites the traceback to it)."""
    import traceback

    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if templates.resolve() in path.resolve().parents:
            return Problem(f"{templates.name}/{path.relative_to(templates.resolve()).as_posix()}",
                           frame.lineno, f"template: {exc}")
    return Problem(templates.name, None, f"template: {exc}")
