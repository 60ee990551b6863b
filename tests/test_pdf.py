"""The print edition (sitegen/pdf.py): one tagged PDF per year and language, linked from the year's page.

The PDFs are read back with pypdf (text, outline, links) and pikepdf (structure tree, languages,
fonts). Tests that make PDFs need WeasyPrint and the Pango library: where they are missing they are
reported as skipped (SKIPPED, NOT PASSED), and under CI=true they fail instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT, SiteDir

from sitegen import pdf
from sitegen.render import load_strings

YEAR = "2022"
FILES = {"fi": f"fi/{YEAR}/vastaukset-{YEAR}.pdf", "sv": f"sv/{YEAR}/svar-{YEAR}.pdf"}
BASE = "https://www.espoo.fi/arviointikertomus/"


def need_weasyprint() -> None:
    """Skip (loudly) where WeasyPrint or Pango is missing; fail under CI=true."""
    missing = pdf._weasyprint_missing()
    if missing is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"WeasyPrint with Pango is required in CI (.ci/run installs it): {missing}")
    pytest.skip(f"SKIPPED, NOT PASSED: WeasyPrint cannot run here ({missing}); CI runs this test")


def build_real(root: Path) -> Path:
    """The real content built by the real command with the PDFs on; returns site/."""
    root.mkdir(exist_ok=True)
    (root / "content").symlink_to(ROOT / "content")
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--root", str(root)],
                         capture_output=True, text=True, check=False,
                         env={**os.environ, "SITEGEN_PDF": "1", "SITEGEN_SEARCH": "0"})
    assert run.returncode == 0, run.stderr
    return root / "site"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    need_weasyprint()
    return build_real(tmp_path_factory.mktemp("pdf-real"))


# -- reading PDFs and pages -------------------------------------------------------------------------


def flat(text: str) -> str:
    """Text to compare across HTML and PDF: compatibility forms (ligatures), no whitespace at all
    (a PDF breaks lines where a page does not)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def pdf_text(path: Path, title: str) -> str:
    """The text of every page, the running header (the title) and footer ("3 / 24") left out."""
    import pypdf

    lines = []
    for page in pypdf.PdfReader(path).pages:
        for line in page.extract_text().splitlines():
            if line.strip() in (title, "•") or re.fullmatch(r"\d+ / \d+", line.strip()):
                continue  # list bullets: WeasyPrint draws them ahead of the text, pypdf reads them there
            lines.append(line)
    return "\n".join(lines)


class Responses(HTMLParser):
    """The visible text of every response on a section page, in order (screen-reader-only text and
    the permalinks left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
            if self.hidden or "visually-hidden" in classes or "permalink" in classes:
                self.hidden += 1
        elif tag == "article" and "response" in classes:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1
            self.hidden = max(0, self.hidden - 1)
            if self.depth == 0:
                self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.depth and not self.hidden:
            self.parts.append(data)


def sentences(site: Path, lang: str) -> list[str]:
    """Every sentence of the year's section pages in one language, in the site's order."""
    import yaml

    report = yaml.safe_load((ROOT / "content" / YEAR / "report.yaml").read_text(encoding="utf-8"))
    numbers = [s["number"] for s in report["sections"]]
    out = []
    for number in numbers:
        page = site / lang / YEAR / number / "index.html"
        if not page.is_file():
            continue
        parser = Responses()
        parser.feed(page.read_text(encoding="utf-8"))
        text = "".join(parser.parts)
        out += [s for s in re.split(r"(?<=[.!?:])\s+|\n", text) if s.strip()]
    return out


def structure(element: object) -> list[tuple[str, str]]:
    """(tag, its own /Lang or "") of every element of a PDF's structure tree, in order."""
    import pikepdf

    if not isinstance(element, pikepdf.Dictionary):
        return []
    out = [(str(element.S), str(element.get("/Lang", "")))] if "/S" in element else []
    kids = element.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
        out += structure(kid)
    return out


def title_of(site: Path, lang: str) -> str:
    html = (site / lang / YEAR / "index.html").read_text(encoding="utf-8")
    match = re.search(r"<h1>(.*?)</h1>", html)
    assert match
    return match.group(1)


# -- the real site ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_each_pdf_holds_every_sentence_of_its_pages_in_order(built: Path, lang: str) -> None:
    text = flat(pdf_text(built / FILES[lang], title_of(built, lang)))
    wanted = sentences(built, lang)
    assert len(wanted) > 200  # 25 responses, their unit headings and notices
    position = 0
    for sentence in wanted:
        found = text.find(flat(sentence), position)
        assert found >= 0, f"not found after position {position}: {sentence!r}"
        position = found + len(flat(sentence))


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_outline_has_every_chapter_and_answered_section(built: Path, lang: str) -> None:
    import pypdf
    import yaml

    def titles(items: list) -> list[str]:  # type: ignore[type-arg]
        return [t for item in items for t in (titles(item) if isinstance(item, list) else [item.title])]

    outline = [re.sub(r"\s+", " ", t).strip() for t in titles(pypdf.PdfReader(built / FILES[lang]).outline)]
    report = yaml.safe_load((ROOT / "content" / YEAR / "report.yaml").read_text(encoding="utf-8"))
    answered = {p.parent.name for p in (built / lang / YEAR).glob("*/index.html")}
    for s in report["sections"]:
        heading = f"{s['number']} {s['title'][lang]}"
        if "." not in s["number"] or s["number"] in answered:
            assert heading in outline
    assert outline.index("1 " + report["sections"][0]["title"][lang]) < outline.index(
        f"6.3 {next(s['title'][lang] for s in report['sections'] if s['number'] == '6.3')}")


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_each_pdf_is_tagged_with_its_language_and_title(built: Path, lang: str) -> None:
    import pikepdf

    with pikepdf.open(built / FILES[lang]) as doc:
        assert str(doc.Root.Lang) == lang
        assert bool(doc.Root.MarkInfo.Marked) is True
        assert "/StructTreeRoot" in doc.Root
        document = doc.Root.StructTreeRoot.K[0]
        assert str(document.S) == "/Document"
        tags = {tag for tag, _ in structure(document)}
        assert tags >= {"/H1", "/H2", "/H3", "/H4", "/P", "/L", "/LI", "/Link", "/Sect"}
        assert bool(doc.Root.ViewerPreferences.DisplayDocTitle) is True
        assert str(doc.docinfo.Title) == title_of(built, lang)
        assert "pdfuaid:part" in bytes(doc.Root.Metadata.read_bytes()).decode("utf-8").replace('"', "")


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_sites_fonts_are_embedded(built: Path, lang: str) -> None:
    import pikepdf

    names = set()
    with pikepdf.open(built / FILES[lang]) as doc:
        for page in doc.pages:
            for font in page.Resources.Font.values():
                descriptor = font.DescendantFonts[0].FontDescriptor
                assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font.BaseFont
                names.add(str(font.BaseFont).split("+", 1)[1])
    assert {"Open-Sans", "Montserrat-Semi-Bold"} <= names
    assert not {n for n in names if not n.startswith(("Open-Sans", "Montserrat"))}


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_links_are_live_and_absolute(built: Path, lang: str) -> None:
    import pypdf

    uris = [str(a.get_object()["/A"]["/URI"]) for page in pypdf.PdfReader(built / FILES[lang]).pages
            for a in page.get("/Annots") or [] if "/URI" in a.get_object().get("/A", {})]
    assert f"{BASE}{lang}/{YEAR}/" in uris  # the title page's address of the year online
    assert all(u.startswith(("https://", "http://", "mailto:")) for u in uris), uris


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_front_page_links_the_pdf_with_its_size(built: Path, lang: str) -> None:
    html = (built / lang / YEAR / "index.html").read_text(encoding="utf-8")
    match = re.search(r'<p class="download"><a href="([^"]+)" type="application/pdf">([^<]+)</a>', html)
    assert match, html[:2000]
    target = (built / lang / YEAR / match.group(1)).resolve()
    assert target == (built / FILES[lang]).resolve() and target.is_file()
    size = target.stat().st_size
    assert size > 20_000
    unit = {"fi": ("Mt", "kt"), "sv": ("MB", "kB")}[lang]
    shown = (f"{size / 1e6:.1f}".replace(".", ",") + f" {unit[0]}" if size >= 1e6 else
             f"{round(size / 1000)} {unit[1]}")
    assert match.group(2) == {"fi": "Lataa PDF", "sv": "Ladda ner PDF"}[lang] + f" ({shown})"


def test_the_sitemap_lists_the_pdfs(built: Path) -> None:
    sitemap = (built / "sitemap.xml").read_text(encoding="utf-8")
    for path in FILES.values():
        assert f"<loc>{BASE}{path}</loc>" in sitemap


def test_two_builds_give_the_same_bytes(built: Path, tmp_path: Path) -> None:
    again = build_real(tmp_path / "again")
    for path in FILES.values():
        assert (again / path).read_bytes() == (built / path).read_bytes()


def test_no_build_clock_in_the_metadata(built: Path) -> None:
    import pikepdf

    with pikepdf.open(built / FILES["fi"]) as doc:
        assert str(doc.docinfo.CreationDate).startswith("D:20230630")  # the report's publication date
        assert str(doc.docinfo.ModDate).startswith("D:2023")


# -- builds of the small fixture site ------------------------------------------------------------------


@pytest.fixture
def with_pdf(minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> SiteDir:
    monkeypatch.setenv("SITEGEN_PDF", "1")
    monkeypatch.delenv("CI", raising=False)
    return minimal


def test_a_finnish_text_on_a_swedish_page_is_tagged_finnish(with_pdf: SiteDir) -> None:
    need_weasyprint()
    import pikepdf

    assert with_pdf.run("build").code == 0
    with pikepdf.open(with_pdf.root / "site/sv/2021/svar-2021.pdf") as doc:
        assert str(doc.Root.Lang) == "sv"
        langs = [(tag, lang) for tag, lang in structure(doc.Root.StructTreeRoot) if lang]
    # Three responses lack their Swedish text: each shows the Finnish one, marked lang="fi".
    assert langs.count(("/Div", "fi")) == 3
    assert ("/NonStruct", "en") in langs  # and a phrase the text marks as English


def test_an_unchanged_year_is_not_rendered_again(with_pdf: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    need_weasyprint()
    assert with_pdf.run("build").code == 0
    target = with_pdf.root / "site/fi/2021/vastaukset-2021.pdf"
    before = target.read_bytes()

    def refuse(*args: object) -> bytes:
        raise AssertionError("an unchanged PDF was rendered again")

    original = pdf.render_pdf
    monkeypatch.setattr(pdf, "render_pdf", refuse)
    source = with_pdf.root / "content/2021/2.2-konsernihallinto.fi.md"
    os.utime(source)  # touched, not changed: the build runs, the PDFs are kept
    run = with_pdf.run("build")
    assert run.code == 0, run.err
    assert target.read_bytes() == before
    assert "0 files written" in run.err

    monkeypatch.setattr(pdf, "render_pdf", original)
    source.write_text(source.read_text(encoding="utf-8") + "\nUusi lause painettuun versioon.\n", encoding="utf-8")
    assert with_pdf.run("build").code == 0
    changed = target.read_bytes()
    assert changed != before
    assert "Uusilausepainettuunversioon." in flat(pdf_text(target, "-"))


def test_the_preview_makes_no_pdf_unless_asked(minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    from sitegen import pipeline

    monkeypatch.delenv("SITEGEN_PDF", raising=False)
    result = pipeline.build(pipeline.Project.at(minimal.root), preview=True)
    assert not result.failed
    assert not [p for p in result.paths if p.endswith(".pdf")]
    assert 'class="download"' not in (minimal.root / ".preview/fi/2021/index.html").read_text(encoding="utf-8")
    assert [p for p in pipeline.build(pipeline.Project.at(minimal.root)).paths if p.endswith(".pdf")] == [
        "fi/2021/vastaukset-2021.pdf", "sv/2021/svar-2021.pdf"] or pdf._weasyprint_missing() is not None


def test_no_pdf_leaves_them_out(with_pdf: SiteDir) -> None:
    run = with_pdf.run("build", "--no-pdf")
    assert run.code == 0
    assert not list((with_pdf.root / "site").rglob("*.pdf"))
    assert 'class="download"' not in with_pdf.page("fi/2021/index.html")


def test_without_pango_the_pdfs_are_left_out_with_a_warning(with_pdf: SiteDir,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "_weasyprint_missing", lambda: "cannot load library 'libpango-1.0-0'")
    run = with_pdf.run("build")
    assert run.code == 0, run.err
    assert any("apt-get install libpango-1.0-0 libpangoft2-1.0-0" in w for w in run.warnings), run.err
    assert not list((with_pdf.root / "site").rglob("*.pdf"))
    assert 'class="download"' not in with_pdf.page("fi/2021/index.html")
    assert ".pdf" not in with_pdf.page("sitemap.xml")


def test_without_pango_in_ci_the_build_fails(with_pdf: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "_weasyprint_missing", lambda: "cannot load library 'libpango-1.0-0'")
    monkeypatch.setenv("CI", "true")
    run = with_pdf.run("build")
    assert run.code == 1
    assert any("libpango-1.0-0" in e for e in run.errors), run.err
    assert not (with_pdf.root / "site").exists()


# -- small parts ---------------------------------------------------------------------------------------


def test_the_switch_and_the_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITEGEN_PDF", raising=False)
    assert pdf.enabled(preview=False) and not pdf.enabled(preview=True)
    monkeypatch.setenv("SITEGEN_PDF", "0")
    assert not pdf.enabled(preview=False) and not pdf.enabled(preview=True)
    monkeypatch.setenv("SITEGEN_PDF", "1")
    assert pdf.enabled(preview=False) and pdf.enabled(preview=True)


def test_sizes_are_written_as_the_city_writes_them() -> None:
    strings = load_strings(ROOT / "templates", ROOT, ["fi", "sv"])

    def t(lang: str):  # type: ignore[no-untyped-def]
        return lambda key, **params: strings[key][lang].format(**params)

    assert pdf.size_text(t("fi"), 1_234_567) == "1,2 Mt"
    assert pdf.size_text(t("sv"), 1_234_567) == "1,2 MB"
    assert pdf.size_text(t("fi"), 99_448) == "99 kt"
    assert pdf.size_text(t("sv"), 400) == "1 kB"


def test_weasyprint_is_imported_only_when_a_pdf_is_made(tmp_path: Path) -> None:
    """A build with SITEGEN_PDF=0 (and a check) never loads WeasyPrint."""
    root = tmp_path / "site"
    shutil.copytree(ROOT / "tests" / "sites" / "minimal", root, ignore=shutil.ignore_patterns("site", ".builds"))
    code = ("import sys; from sitegen import cli; code = cli.main(['build', '--no-pdf', '--root', sys.argv[1]]); "
            "assert code == 0; print('weasyprint' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=False,
                         cwd=ROOT, env={**os.environ, "SITEGEN_PDF": "1"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_a_rebuild_that_keeps_every_pdf_does_not_load_weasyprint(tmp_path: Path) -> None:
    need_weasyprint()
    root = tmp_path / "site"
    shutil.copytree(ROOT / "tests" / "sites" / "minimal", root, ignore=shutil.ignore_patterns("site", ".builds"))
    code = ("import os, sys; from sitegen import cli; code = cli.main(['build', '--root', sys.argv[1]]); "
            "assert code == 0; print('weasyprint' in sys.modules)")
    env = {**os.environ, "SITEGEN_PDF": "1"}
    results = []
    for _ in range(2):
        run = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, check=False,
                             cwd=ROOT, env=env)
        assert run.returncode == 0, run.stderr
        results.append(run.stdout.strip())
        os.utime(root / "content" / "site.yaml")  # touched: the second build runs the stages
    assert results == ["True", "False"]
    assert (root / "site/fi/2021/vastaukset-2021.pdf").is_file()


def test_an_image_in_a_body_is_not_fetched_its_text_is_shown(with_pdf: SiteDir,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The print edition reads only the templates' files: no network in a build, the same bytes
    whatever a server answers."""
    need_weasyprint()
    import urllib.request

    opened: list[str] = []
    original = urllib.request.OpenerDirector.open

    def recorded(self: urllib.request.OpenerDirector, url: object, *args: object, **kwargs: object) -> object:
        opened.append(url.full_url if isinstance(url, urllib.request.Request) else str(url))
        return original(self, url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", recorded)
    monkeypatch.setenv("SITEGEN_WORKERS", "1")  # the PDFs made in this process, where the record is
    source = with_pdf.root / "content/2021/2.2-konsernihallinto.fi.md"
    source.write_text(source.read_text(encoding="utf-8") + "\n![Kaaviokuva hankkeista](https://example.org/k.png)\n",
                      encoding="utf-8")
    run = with_pdf.run("build")
    assert run.code == 0, run.err
    assert "Kaaviokuvahankkeista" in flat(pdf_text(with_pdf.root / "site/fi/2021/vastaukset-2021.pdf", "-"))
    assert opened and all(url.startswith("file:") and "/templates/" in url for url in opened), opened
