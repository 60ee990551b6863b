"""The print edition, part of stage 4 (render): one tagged PDF per year and language.

Each PDF is made with WeasyPrint from the same model and the same body HTML as the
pages (the Markdown is rendered once, by render.render_markdown), through the
template print/report.html and the stylesheet print/print.css. Its version is a
digest of everything it shows (the year's structure, its responses, the templates
and the generator: render's global key), so an unchanged year is not rendered again,
and the same content gives the same bytes: the dates come from the report, the file
identifier from the version, and WeasyPrint writes no build clock.

WeasyPrint (and with it Pango) is imported only when a PDF has to be made. Where
Pango is missing the PDFs are left out with a warning saying how to install it (an
error under CI=true). SITEGEN_PDF=0 (or `build --no-pdf`) leaves them out; the
preview makes them only with SITEGEN_PDF=1.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .cache import Cache, digest
from .errors import Problem
from .model import Report, Response, Text
from .parallel import pmap

if TYPE_CHECKING:
    from .render import PageJob, Renderer

SWITCH = "SITEGEN_PDF"
TEMPLATE = "print/report.html"
STYLESHEET = "print/print.css"
VERSION = "1"
"""Bump when the way a PDF is made changes outside the templates (options, metadata)."""
INSTALL_HINT = ("WeasyPrint needs the Pango library to make the PDFs: install it (Debian, Ubuntu: "
                "apt-get install libpango-1.0-0 libpangoft2-1.0-0; macOS: brew install pango), or build with "
                "--no-pdf")


def enabled(preview: bool) -> bool:
    """PDFs are made unless SITEGEN_PDF=0; in the preview only when SITEGEN_PDF=1."""
    value = os.environ.get(SWITCH, "")
    return value == "1" if preview else value != "0"


@dataclass(frozen=True)
class PdfJob:
    """One PDF to make: a year in a language."""

    path: str
    """Output path below site/, e.g. fi/2022/vastaukset-2022.pdf."""
    lang: str
    report: Report
    version: str
    """A digest of everything the PDF shows: equal versions give equal bytes."""
    texts: tuple[tuple[Text, int], ...]
    """The response texts (and their years) the PDF shows."""


@dataclass
class Made:
    """What the PDF step gives render: the new files, every PDF's size, and what went wrong."""

    pages: list[tuple[str, bytes]]
    """(path, bytes) of the PDFs the published tree lacks."""
    sizes: dict[str, int]
    """Every PDF of the site: path → size in bytes."""
    problems: list[Problem]


def pdf_path(strings: Mapping[str, Mapping[str, str]], lang: str, year: int) -> str:
    """Where a year's PDF goes: in the year's folder, named by the UI strings."""
    return f"{lang}/{year}/{strings['pdf_file'][lang].format(year=year)}"


def plan(renderer: Renderer) -> list[PdfJob]:
    """A PDF per published year and language, each with its version."""
    jobs = []
    for report in renderer.site.reports:
        year_key = renderer.structure_key(report)
        for lang in renderer.codes:
            texts = tuple((text, r.year) for r in report.responses for text in renderer.shown_texts(r, lang))
            version = digest("pdf", VERSION, renderer.global_key, year_key, lang,
                             *(renderer.response_key(r) for r in report.responses))
            jobs.append(PdfJob(pdf_path(renderer.strings, lang, report.year), lang, report, version, texts))
    return jobs


def size_key(version: str) -> tuple[str, ...]:
    """The store's key of the size of a PDF of this version (the front page states it)."""
    return ("pdf size", version)


def make(renderer: Renderer, jobs: list[PdfJob], have: Callable[[str, str], bool], cache: Cache,
         ci: bool = False) -> Made:
    """Render the PDFs the published tree lacks (or whose size the store forgot), on every core.

    When WeasyPrint cannot load (no Pango), the PDFs are left out: a warning, an error when `ci`.
    """
    sizes: dict[str, int] = {}
    todo = []
    for job in jobs:
        size = cache.get(size_key(job.version)) if have(job.path, job.version) else None
        if isinstance(size, int):
            sizes[job.path] = size
        else:
            todo.append(job)
    if not todo:
        return Made([], sizes, [])
    missing = _weasyprint_missing()
    if missing is not None:
        what = "the PDFs cannot be made (CI=true)" if ci else "the PDFs are left out"
        problem = Problem(f"{renderer.templates.name}/{TEMPLATE}", None, f"{what}: {INSTALL_HINT} ({missing})",
                          severity="error" if ci else "warning")
        return Made([], {}, [problem])
    made = pmap(partial(_render_safely, renderer), todo, min_items=2)
    pages, problems = [], []
    for job, result in zip(todo, made, strict=True):
        if isinstance(result, Problem):
            problems.append(result)
            continue
        cache.put(size_key(job.version), len(result))
        sizes[job.path] = len(result)
        pages.append((job.path, result))
    return Made(pages, sizes, problems)


def _weasyprint_missing() -> str | None:
    """Why WeasyPrint cannot be imported (no Pango, say), or None when it can."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def _render_safely(renderer: Renderer, job: PdfJob) -> bytes | Problem:
    """render_pdf, with a template mistake as a located Problem."""
    import jinja2

    from .render import template_problem

    try:
        return render_pdf(renderer, job)
    except jinja2.TemplateError as exc:
        return template_problem(exc, renderer.templates)


def render_pdf(renderer: Renderer, job: PdfJob) -> bytes:
    """The bytes of one PDF: the print template's HTML, laid out by WeasyPrint, tagged (PDF/UA-1)."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    from .render import absolute, report_path, section_path

    lang, report, site = job.lang, job.report, renderer.site
    # Bodies link relative to a page of the year (<lang>/<year>/<slug>/index.html): resolved
    # against that page's public address, every link in the PDF is absolute and live.
    here = absolute(site.base_url, section_path(lang, report.year, "x"))
    html = renderer.env.get_template(TEMPLATE).render(
        site=site, report=report, lang=lang, t=renderer.t(lang), date=renderer.date, body=renderer.body,
        url=partial(absolute, site.base_url), abs_url=partial(absolute, site.base_url),
        report_path=report_path, section_path=section_path, modified=last_change(report).isoformat(),
        unit_heading=partial(unit_heading, site.unit_path),
    )
    fonts = FontConfiguration()  # the @font-face rules: the site's own fonts, embedded
    fetch = _templates_only(renderer.templates)
    stylesheet = weasyprint.CSS(filename=str(renderer.templates / STYLESHEET), font_config=fonts, url_fetcher=fetch)
    document = weasyprint.HTML(string=html, base_url=here, url_fetcher=fetch).render(
        stylesheets=[stylesheet], font_config=fonts)
    with _languages_tagged():
        data: bytes = document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=job.version[:32].encode("ascii"),
                                         custom_metadata=False)
    return data


@contextmanager
def _languages_tagged() -> Iterator[None]:
    """While a PDF is written, give each structure element of an HTML element with its own `lang`
    that language (/Lang), as the site marks a Finnish text shown on a Swedish page.

    WeasyPrint (up to 70 at least) tags only the document's language. Its tag tree is built by
    one private, recursive generator, `weasyprint.pdf.tags._build_box_tree`; it is wrapped here
    for the duration of one write and put back after. tests/test_pdf.py checks the result, so a
    WeasyPrint that renames it fails a test rather than silently dropping the languages.
    """
    import pydyf
    from weasyprint.pdf import tags

    original = getattr(tags, "_build_box_tree", None)
    if original is None:
        yield
        return

    def build(box: Any, parent: Any, *rest: Any) -> Iterator[Any]:
        element = getattr(box, "element", None)
        lang = element.get("lang") if element is not None and getattr(box, "element_tag", None) not in (
            "html", "body") else None
        for made in original(box, parent, *rest):
            if lang and made.get("P") == parent.reference:
                made["Lang"] = pydyf.String(lang)
            yield made

    tags._build_box_tree = build
    try:
        yield
    finally:
        tags._build_box_tree = original


def _templates_only(templates: Path) -> Any:
    """A WeasyPrint URL fetcher that reads only the templates' own files (the stylesheet, the fonts):
    a build never goes on the network, and an image a body links to does not change the bytes
    with the server's answer (WeasyPrint shows its alternative text instead)."""
    from weasyprint.urls import URLFetcher

    top = templates.resolve()

    class TemplatesOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            path = Path(unquote(urlsplit(url).path)).resolve() if url.startswith("file:") else None
            if path is None or top not in path.parents:
                raise ValueError(f"the print edition reads only the templates' files, not {url}")
            return super().fetch(url, headers)

    return TemplatesOnly()


def last_change(report: Report) -> dt.date:
    """The newest date the report shows: its publication or a response's update."""
    return max([report.published, *(r.updated for r in report.responses if r.updated is not None)])


def unit_heading(unit_path: Callable[[Any], Iterable[Any]], r: Response, lang: str) -> str:
    """A response's heading as on the site: the unit's path, e.g. Konsernihallinto / Tietohallinto."""
    return " / ".join(u.name[lang] for u in unit_path(r.unit))


def size_text(t: Callable[..., str], size: int) -> str:
    """A file size as the city writes it: 1,2 Mt / 1,2 MB; under a megabyte in kilobytes (480 kt)."""
    if size >= 1_000_000:
        number = f"{size / 1_000_000:.1f}".replace(".", t("decimal_separator"))
        return t("size_mb", size=number)
    return t("size_kb", size=max(1, round(size / 1000)))


def attach(jobs: list[PageJob], pdfs: list[PdfJob], sizes: Mapping[str, int]) -> list[PageJob]:
    """Give each year's front page its PDF (path and size): in its context and in its key."""
    by_page = {(job.lang, job.report.year): job for job in pdfs if job.path in sizes}
    out = []
    for page in jobs:
        pdf = by_page.get((page.info.lang, page.context["report"].year)) if page.info.kind == "report" else None
        if pdf is not None:
            size = sizes[pdf.path]
            page = replace(page, context={**page.context, "pdf": (pdf.path, size)},
                           key=digest(page.key, pdf.version, str(size)))
        out.append(page)
    return out


def versions(jobs: list[PdfJob], sizes: Mapping[str, int]) -> dict[str, str]:
    """path → version of the PDFs that are made (their files in render's Output.files)."""
    return {job.path: job.version for job in jobs if job.path in sizes}


def sitemap_entries(base_url: str, jobs: list[PdfJob], sizes: Mapping[str, int]) -> list[str]:
    """The sitemap lines of the PDFs that are made."""
    from .render import _xml, absolute

    return [f"  <url><loc>{_xml(absolute(base_url, job.path))}</loc></url>" for job in jobs if job.path in sizes]
