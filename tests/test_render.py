"""render: the model through the templates into pages: URLs, language alternates, the sitemap,
translation notices, dates per locale, and template mistakes located like content problems."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
import yaml
from conftest import ROOT, SiteDir
from htmlcheck import PageParser

from sitegen.cache import Cache
from sitegen.errors import Problem
from sitegen.load import load
from sitegen.model import build_model
from sitegen.render import Page, TemplateProblem, absolute, relative
from sitegen.render import render as render_stage

BASE = "https://example.org/report/"


def render(site: SiteDir, templates: str | None = None) -> dict[str, str]:
    """Every page of the site, path → text (rendering writes nothing); its problems raised."""
    model = build_model(load(site.root))
    output = render_stage(model, site.root / templates if templates else ROOT / "templates", site.root,
                          Cache.disabled())
    pages: list[Page] = []
    made = list(output.pages.make(lambda page: pages.append(page) or True))
    problems = output.problems + [p for p in made if not isinstance(p, tuple)][:1]  # as write.publish stops
    if problems:
        raise TemplateProblem(problems)
    return {p.path: p.data.decode("utf-8") for p in pages
            if isinstance(p, Page) and p.path.endswith((".html", ".xml"))}


def head(html: str) -> tuple[str | None, str, dict[str, str]]:
    """The page's language, canonical URL and hreflang alternates."""
    parser = PageParser()
    parser.feed(html)
    links = [a for tag, a in parser.tags if tag == "link"]
    canonical = next(a["href"] for a in links if a.get("rel") == "canonical")
    return parser.html_lang, canonical, {a["hreflang"]: a["href"] for a in links if a.get("rel") == "alternate"}


class Langs(HTMLParser):
    """Each piece of text with the language in force and the classes of its enclosing elements."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None, str]] = []
        self.texts: list[tuple[str | None, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            a = dict(attrs)
            self.stack.append((tag, a.get("lang") or (self.stack[-1][1] if self.stack else None), a.get("class") or ""))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if data.strip() and self.stack:
            self.texts.append((self.stack[-1][1], " ".join(c for _, _, c in self.stack), data.strip()))


def text_with(html: str, start: str) -> tuple[int, str | None, str]:
    """The position, language and enclosing classes of the first text that starts with `start`."""
    parser = Langs()
    parser.feed(html)
    return next((i, lang, classes) for i, (lang, classes, text) in enumerate(parser.texts) if text.startswith(start))


def texts(html: str) -> list[tuple[str | None, str, str]]:
    """Every piece of text: its language, the classes of its enclosing elements, the text."""
    parser = Langs()
    parser.feed(html)
    return parser.texts


# -- URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "target", "link"), [
    ("fi/2021/1.1/index.html", "fi/2021/2.2/index.html", "../2.2/index.html"),
    ("fi/2021/1.1/index.html", "sv/2021/1.1/index.html#kh", "../../../sv/2021/1.1/index.html#kh"),
    ("index.html", "fi/index.html", "fi/index.html"),
    ("fi/404.html", "static/style.css", "../static/style.css"),
    ("fi/2021/1.1/index.html", "fi/2021/1.1/index.html#konsernihallinto", "index.html#konsernihallinto"),
])
def test_relative_links_work_from_any_sub_path_and_from_disk(source: str, target: str, link: str) -> None:
    assert relative(source, target) == link


@pytest.mark.parametrize(("path", "url"), [
    ("index.html", BASE), ("fi/2021/1.1/index.html", BASE + "fi/2021/1.1/"),
    ("fi/404.html", BASE + "fi/404.html"), ("sitemap.xml", BASE + "sitemap.xml"),
])
def test_absolute_urls_drop_index_html(path: str, url: str) -> None:
    assert absolute(BASE, path) == url


# -- language alternates and the sitemap ----------------------------------------------------------


def base_url(site: SiteDir) -> str:
    return load(site.root).settings.data["base_url"]


@pytest.mark.parametrize("fixture", ["minimal", "real"])
def test_every_page_lists_its_language_versions_reciprocally_with_absolute_urls(
        request: pytest.FixtureRequest, fixture: str) -> None:
    site: SiteDir = request.getfixturevalue(fixture)
    base = base_url(site)
    heads = {path: head(html) for path, html in render(site).items() if path.endswith(".html")}
    by_url = {canonical: (lang, alternates) for lang, canonical, alternates in heads.values()}
    assert len(by_url) == len(heads) > 10
    for path, (lang, canonical, alternates) in heads.items():
        assert canonical == absolute(base, path)
        assert alternates["x-default"] == base
        assert set(alternates) == {"fi", "sv", "x-default"}, path
        if path == "index.html":  # the language choice is the x-default itself
            assert alternates == {"fi": base + "fi/", "sv": base + "sv/", "x-default": base}
            continue
        assert alternates[lang] == canonical, path
        for other, url in alternates.items():
            if other != "x-default":
                assert url in by_url, (path, url)
                other_lang, other_alternates = by_url[url]
                assert other_lang == other and other_alternates[lang] == canonical, (path, url)


@pytest.mark.parametrize("fixture", ["minimal", "real"])
def test_the_sitemap_lists_every_page_with_its_alternates(request: pytest.FixtureRequest, fixture: str) -> None:
    site: SiteDir = request.getfixturevalue(fixture)
    base, pages = base_url(site), render(site)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    urls = ET.fromstring(pages["sitemap.xml"].encode()).findall("s:url", ns)
    entries = {u.findtext("s:loc", namespaces=ns): {link.get("hreflang"): link.get("href")
               for link in u.findall("x:link", ns)} for u in urls}
    assert len(entries) == len(urls)
    assert set(entries) == {absolute(base, p) for p in pages
                            if p.endswith(".html") and p != "index.html" and not p.endswith("404.html")
                            and "/haku/" not in p and "/sok/" not in p}
    for loc, alternates in entries.items():
        assert alternates["x-default"] == base
        assert loc in alternates.values()
        for lang, url in alternates.items():
            assert lang == "x-default" or entries[url] == alternates, (loc, lang)


# -- translations on the page -----------------------------------------------------------------------


def test_an_untranslated_response_shows_the_finnish_text_marked_fi_under_the_swedish_notice(minimal: SiteDir) -> None:
    html = render(minimal)["sv/2021/2.2/index.html"]
    notice = text_with(html, "Detta svar har ännu inte översatts till svenska.")
    body = text_with(html, "Tilat ovat kunnossa.")
    assert notice[1] == "sv" and "notice-missing" in notice[2]
    assert body[1] == "fi" and "response-body" in body[2]
    assert notice[0] < body[0]
    assert text_with(render(minimal)["fi/2021/2.2/index.html"], "Tilat ovat kunnossa.")[1] == "fi"


def test_a_translated_response_shows_the_swedish_text_in_swedish(minimal: SiteDir) -> None:
    html = render(minimal)["sv/2021/1.1/index.html"]
    assert text_with(html, "Ekonomin är i balans.")[1] == "sv"
    assert 'class="notice notice-translation"' in html and "notice-stale" not in html


def test_a_stale_translation_carries_a_notice_linking_to_the_finnish_original(minimal: SiteDir) -> None:
    path = "content/2021/1.1-konsernihallinto.fi.md"
    minimal.write(path, minimal.read(path).replace("Talous on tasapainossa.", "Talous on nyt tasapainossa."))
    pages = render(minimal)
    href = "../../../fi/2021/1.1/index.html#konsernihallinto"
    for page in ("sv/2021/1.1/index.html", "sv/2021/koncernforvaltningen/index.html"):
        html = pages[page]
        notice = html[html.index('<p class="notice notice-stale">'):]
        notice = notice[:notice.index("</p>")]
        assert "Originaltexten har ändrats efter att denna översättning gjordes." in notice
        assert f'href="{href}"' in notice and 'hreflang="fi"' in notice
        assert "Ekonomin är i balans." in html  # the translation is still shown
    assert 'id="konsernihallinto"' in pages["fi/2021/1.1/index.html"]
    assert "notice-stale" not in pages["fi/2021/1.1/index.html"]


@pytest.mark.parametrize(("page", "published", "updated"), [
    ("fi/2021/1.1.1/index.html", "1.9.2022", "15.10.2022"),
    ("sv/2021/1.1.1/index.html", "1.9.2022", "15.10.2022"),
])
def test_dates_are_written_the_way_each_language_writes_them(
        minimal: SiteDir, page: str, published: str, updated: str) -> None:
    html = render(minimal)[page]
    assert f'<time datetime="2022-09-01">{published}</time>' in html
    assert f'<time datetime="2022-10-15">{updated}</time>' in html


# -- UI strings that name what they belong to ------------------------------------------------------


def test_every_ui_string_is_used_by_a_template_or_the_generator() -> None:
    """A key nobody asks for is dead text that translators would still keep up (a key is asked
    for by its quoted name: t('key'), t_in(code, 'key'), strings["key"])."""
    keys = yaml.safe_load((ROOT / "templates" / "strings.yaml").read_text(encoding="utf-8"))
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "templates").rglob("*.html")]
    sources += [p.read_text(encoding="utf-8") for p in (ROOT / "sitegen").glob("*.py")]
    unused = [k for k in keys if not any(f"'{k}'" in text or f'"{k}"' in text for text in sources)]
    assert unused == []


def test_each_permalink_names_its_unit_for_screen_readers(minimal: SiteDir) -> None:
    pages = render(minimal)
    hidden = {lang: [t for _, c, t in texts(pages[f"{lang}/2021/2.2/index.html"]) if "permalink" in c]
              for lang in ("fi", "sv")}
    assert hidden["fi"] == ["#", "Pysyvä linkki vastaukseen: Tilapalvelut-liikelaitos",
                            "#", "Pysyvä linkki vastaukseen: Konsernihallinto"]
    assert hidden["sv"][1::2] == ["Permanent länk till svaret: Affärsverket Esbo lokaler",
                                  "Permanent länk till svaret: Koncernförvaltningen"]


def test_the_front_page_button_names_the_year_not_the_report_title_again(minimal: SiteDir) -> None:
    html = render(minimal)["fi/index.html"]
    button = html[html.index('<a class="button"'):]
    button = button[:button.index("</a>")]
    assert button.endswith(">Uusimmat vastaukset (2021)")
    assert "Vastaukset vuoden 2021 suosituksiin" in html  # the title is in the list below it, once
    assert html.count("Vastaukset vuoden 2021 suosituksiin") == 1


# -- the accessibility statement ----------------------------------------------------------------------

STATEMENT = {"fi": "fi/saavutettavuusseloste/index.html", "sv": "sv/tillganglighetsutlatande/index.html"}
ISSUES = "content/accessibility.yaml"


def statement(site: SiteDir, lang: str = "fi") -> str:
    html = render(site)[STATEMENT[lang]]
    return html[html.index("<main"):html.index("</main>")]


def without_issue(site: SiteDir, reason: str) -> None:
    """Drop the fixture statement's known issue with this reason."""
    data = yaml.safe_load(site.read(ISSUES))
    kept = [issue for issue in data["known_issues"] if issue["reason"] != reason]
    assert len(kept) == len(data["known_issues"]) - 1, reason
    site.write(ISSUES, yaml.safe_dump({**data, "known_issues": kept}, allow_unicode=True, sort_keys=False))


def test_a_statement_listing_a_non_compliance_says_the_site_complies_partially(minimal: SiteDir) -> None:
    fi, sv = statement(minimal, "fi"), statement(minimal, "sv")
    assert "<p>Sivusto täyttää saavutettavuusvaatimukset osittain (WCAG 2.2 AA).</p>" in fi
    assert "<p>Webbplatsen uppfyller tillgänglighetskraven delvis (WCAG 2.2 AA).</p>" in sv
    # The issues come under the law's own reasons, the non-compliance with its criteria.
    assert fi.index("<h3>Vaatimustenvastaisuus</h3>") < fi.index("Kaavion värit") < fi.index(
        "WCAG-kriteerit, jotka eivät täyty: 1.4.11, 1.4.1") < fi.index(
        "<h3>Sisältö ei kuulu lainsäädännön soveltamisalaan</h3>") < fi.index("Vanhat videotallenteet")
    assert "Kohtuuton rasite" not in fi  # no such item, no heading


def test_content_outside_the_law_alone_leaves_the_site_fully_compliant(minimal: SiteDir) -> None:
    without_issue(minimal, "non_compliance")
    fi = statement(minimal)
    assert "<p>Sivusto täyttää saavutettavuusvaatimukset (WCAG 2.2 AA).</p>" in fi
    assert "osittain" not in fi and "Vaatimustenvastaisuus" not in fi
    assert "Vanhat videotallenteet" in fi


def test_no_known_issue_means_full_compliance_and_no_list(minimal: SiteDir) -> None:
    without_issue(minimal, "non_compliance")
    without_issue(minimal, "out_of_scope")
    fi = statement(minimal)
    assert "<p>Sivusto täyttää saavutettavuusvaatimukset (WCAG 2.2 AA).</p>" in fi
    assert "Sisällöt, jotka eivät ole saavutettavia" not in fi
    assert "<h2>Muuta tietoa sivustosta</h2>\n<p>Ruotsinkieliset vastaukset ovat käännöksiä.</p>" in fi


def test_a_disproportionate_burden_makes_the_compliance_partial(minimal: SiteDir) -> None:
    without_issue(minimal, "non_compliance")
    minimal.write(ISSUES, minimal.read(ISSUES).replace("reason: out_of_scope", "reason: disproportionate_burden"))
    fi = statement(minimal)
    assert "osittain (WCAG 2.2 AA)" in fi
    assert "<h3>Kohtuuton rasite</h3>" in fi


def test_the_statement_tells_how_to_get_content_in_another_form_and_takes_the_days_from_the_data(
        minimal: SiteDir) -> None:
    fi, sv = statement(minimal, "fi"), statement(minimal, "sv")
    assert ("Jos et pysty käyttämään jotakin sivuston sisältöä, voit pyytää tiedot toisessa muodossa "
            "palautelomakkeella.") in fi
    assert "kan du begära informationen i ett annat format via responsblanketten" in sv
    # The fixture answers in 10 days: both the feedback and the authority paragraph say so.
    assert fi.count("10 päivän kuluessa") == 2 and sv.count("inom 10 dagar") == 2
    assert "viikon" not in fi and "veckor" not in sv


def test_the_authority_is_named_on_one_line_and_its_unit_on_the_next(minimal: SiteDir) -> None:
    fi = statement(minimal)
    assert ("<p>Liikenne- ja viestintävirasto Traficom<br>\n"
            "Digitaalisen esteettömyyden ja saavutettavuuden valvontayksikkö<br>\n") in fi
    assert 'Puhelin (vaihde): <a href="tel:+358295345000">029 534 5000</a>' in fi


# -- broken templates -------------------------------------------------------------------------------


def copy_templates(site: SiteDir) -> None:
    shutil.copytree(ROOT / "templates", site.root / "templates")


def test_a_ui_string_missing_a_language_is_located_in_strings_yaml(minimal: SiteDir) -> None:
    copy_templates(minimal)
    text = minimal.read("templates/strings.yaml")
    minimal.write("templates/strings.yaml", text.replace("  fi: Espoo\n  sv: Esbo\n", "  fi: Espoo\n"))
    line = text.split("\n").index("wordmark:") + 1
    with pytest.raises(TemplateProblem) as raised:
        render(minimal, "templates")
    assert raised.value.problems == [
        Problem("templates/strings.yaml", line, "wordmark: the 'sv' text is missing", field="wordmark")]


@pytest.mark.parametrize(("template", "anchor", "mistake", "message"), [
    ("section.html", "<h1>", "{{ no_such_variable }}", "template: 'no_such_variable' is undefined"),
    ("partials/response.html", '<div class="response-body">', "{{ t('no_such_key') }}",
     "template: no UI string 'no_such_key' in strings.yaml"),
    ("report.html", "<h1>", "{% if %}", "template syntax: "),
])
def test_a_template_mistake_is_located_at_the_template_file_and_line(
        minimal: SiteDir, template: str, anchor: str, mistake: str, message: str) -> None:
    copy_templates(minimal)
    lines = minimal.read(f"templates/{template}").split("\n")
    line = next(i for i, text in enumerate(lines) if anchor in text) + 1
    lines[line - 1] = mistake + lines[line - 1]
    minimal.write(f"templates/{template}", "\n".join(lines))
    with pytest.raises(TemplateProblem) as raised:
        render(minimal, "templates")
    [problem] = raised.value.problems
    assert (problem.path, problem.line) == (f"templates/{template}", line)
    assert problem.message.startswith(message)
