"""End to end: the real content/ built through the command line, checked page by page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ROOT, SiteDir
from htmlcheck import broken_links, parse

SOURCE = ROOT.parent / "shared" / "source" / "vastaukset-arviointikertomus-2022.txt"
ANSWERED = ["1.2", "1.3", "1.3.1", "1.3.2", "1.3.3", "2.1", "2.3", "2.4", "2.5", "2.6",
            "3.1", "3.2", "3.4", "4.1.2", "4.2.2", "5.3.2", "5.3.3", "6.2", "6.3"]


class Bodies(HTMLParser):
    """The text inside every <div class="response-body"> of a page, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += tag == "div"
        elif tag == "div" and "response-body" in (dict(attrs).get("class") or ""):
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "div":
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def bodies(page: Path) -> str:
    p = Bodies()
    p.feed(page.read_text(encoding="utf-8"))
    return "".join(p.parts)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real content built once, by the real command, in a scratch folder."""
    root = tmp_path_factory.mktemp("real")
    (root / "content").symlink_to(ROOT / "content")
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--root", str(root)],
                         capture_output=True, text=True, check=False, env={**os.environ, "SITEGEN_SEARCH": "1"})
    assert run.returncode == 0, run.stderr
    assert re.search(r"^Built \d+ pages \(\d+ fi, \d+ sv\) in [\d.]+ s \+ search index [\d.]+ s", run.stderr,
                     re.M), run.stderr
    return root / "site"


def test_every_section_page_exists_in_both_languages(built: Path) -> None:
    for lang in ("fi", "sv"):
        pages = sorted(p.parent.name for p in (built / lang / "2022").glob("*/index.html")
                       if re.fullmatch(r"[\d.]+", p.parent.name))
        assert pages == sorted(ANSWERED)


def test_25_responses_each_with_an_anchor(built: Path) -> None:
    for lang in ("fi", "sv"):
        count = 0
        for number in ANSWERED:
            html = (built / lang / "2022" / number / "index.html").read_text(encoding="utf-8")
            count += html.count('<article class="response')
        assert count == 25


def test_the_finnish_pages_hold_the_complete_source_text(built: Path) -> None:
    """Every word of the source, in order: the bodies equal the source once layout is removed."""
    if not SOURCE.is_file():
        pytest.skip(f"the source document is not beside the checkout ({SOURCE})")
    kept = []
    for line in SOURCE.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if (not s or s.startswith(("Vastaaja:", "https://", "www.espoo.fi")) or s == "10"
                or (re.search(r"[A-ZÅÄÖ]", s) and not re.search(r"[a-zåäö]", s))
                or s.startswith(("Vastaukset\u202fvuoden", "esitettyihin\u202fsuosituksiin"))):
            continue
        kept.append(re.sub(r"^(•|\d\.)\s", "", s))
    expected = re.sub(r"\s+", "", "".join(kept))
    actual = re.sub(r"\s+", "", "".join(bodies(built / "fi" / "2022" / n / "index.html") for n in ANSWERED))
    assert actual == expected


def test_the_response_to_3_2_ends_without_a_full_stop(built: Path) -> None:
    text = bodies(built / "fi" / "2022" / "3.2" / "index.html").strip()
    assert text.endswith("tarvitsemme tietoja valtiolta")


def test_lists_are_rebuilt(built: Path) -> None:
    html23 = (built / "fi" / "2022" / "2.3" / "index.html").read_text(encoding="utf-8")
    html24 = (built / "fi" / "2022" / "2.4" / "index.html").read_text(encoding="utf-8")
    ul = re.search(r"<ul>(.*?)</ul>", html23.split('id="konsernihallinto"')[1], re.S)
    assert ul and ul.group(1).count("<li>") == 10
    ol = re.search(r"<ol>(.*?)</ol>", html24.split('id="kasvun-ja-oppimisen-toimiala"')[1], re.S)
    assert ol and ol.group(1).count("<li>") == 5


def test_no_internal_link_or_asset_is_broken(built: Path) -> None:
    assert broken_links(built) == []


def test_every_page_has_lang_and_title(built: Path) -> None:
    pages = list(built.rglob("*.html"))
    # the language choice, and per language: home, report, 404, search, statement, 19 sections, 8 units
    assert len(pages) == 1 + 2 * (5 + len(ANSWERED) + 8)
    for page in pages:
        parsed = parse(page)
        rel = page.relative_to(built).as_posix()
        expected = rel.split("/")[0] if rel.split("/")[0] in ("fi", "sv") else "fi"
        assert parsed.html_lang == expected, rel
        assert parsed.title.strip(), rel


def test_report_front_page_has_table_of_contents_with_all_headings(built: Path) -> None:
    html = (built / "fi" / "2022" / "index.html").read_text(encoding="utf-8")
    for heading in ["1 Espoo-tarinan toteuttaminen", "4.1</span> Lasten ja nuorten hyvinvointi",
                    "5.3</span> Tilapalvelut-liikelaitos", "6 Konserni"]:
        assert heading in html
    assert "https://www.espoo.fi/arviointikertomus" in html
    assert 'datetime="2023-06-30"' in html


def test_unit_pages_use_slugs_per_language(built: Path) -> None:
    assert (built / "fi" / "2022" / "tilapalvelut-liikelaitos" / "index.html").is_file()
    assert (built / "sv" / "2022" / "affarsverket-esbo-lokaler" / "index.html").is_file()
    parent = (built / "fi" / "2022" / "kaupunkiympariston-toimiala" / "index.html").read_text(encoding="utf-8")
    # The parent's page lists its sub-unit's responses too (5.3.2, 5.3.3, 6.2 …).
    for number in ("2.4", "6.3", "5.3.2", "6.2"):
        assert f'<span class="num">{number}</span>' in parent


def test_language_switch_leads_to_the_same_page(built: Path) -> None:
    html = (built / "fi" / "2022" / "1.3.1" / "index.html").read_text(encoding="utf-8")
    assert '<a href="../../../sv/2022/1.3.1/index.html" lang="sv" hreflang="sv">På svenska</a>' in html
    html = (built / "sv" / "2022" / "affarsverket-esbo-lokaler" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../../fi/2022/tilapalvelut-liikelaitos/index.html" lang="fi" hreflang="fi">Suomeksi' in html


def test_status_reports_25_translations_up_to_date(real: SiteDir) -> None:
    run = real.run("status")
    assert run.code == 0
    assert "25 translations: 25 up to date, 0 stale, 0 unrecorded, 0 missing; 0 reviewed" in run.out


def test_check_of_the_real_content_is_clean(real: SiteDir) -> None:
    run = real.run("check")
    assert run.code == 0
    assert run.err.strip().endswith("0 errors, 0 warnings; 0 drafts.")
