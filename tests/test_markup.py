"""markup: Markdown to HTML with response links resolved, headings moved below the page's own,
and nh3's allow-list as the last line of defence whatever validate let through."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import markdown
import pytest
from conftest import ROOT, SiteDir
from htmlcheck import broken_links
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.treeprocessors import InlineProcessor

from sitegen.cache import Cache
from sitegen.load import load
from sitegen.markup import make_converter, sanitize, to_html
from sitegen.model import build_model
from sitegen.render import Page, render


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


class Unsafe(HTMLParser):
    """Everything in a piece of HTML that could run script: tags, handlers, styles, URL schemes, comments."""

    TAGS = {"script", "style", "iframe", "object", "embed", "svg", "math", "form", "base", "link", "meta"}
    SCHEMES = re.compile(r"^\s*(?!https?:|mailto:|tel:)[a-z][a-z0-9+.-]*:", re.I)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.found.append(f"{tag} {name}")
            if name in ("href", "src", "action") and value and self.SCHEMES.match(value.replace("\t", "")):
                self.found.append(f"{tag} {name}={value}")

    def handle_comment(self, data: str) -> None:
        self.found.append("<!--")


def unsafe(html: str) -> list[str]:
    parser = Unsafe()
    parser.feed(html)
    parser.close()
    return parser.found


# -- links between responses ------------------------------------------------------------------


def test_a_link_to_a_response_of_the_same_year_leads_to_its_section_page_anchor() -> None:
    html = to_html("[vastaus](2.4-konsernihallinto.fi.md)", "2022")
    assert hrefs(html) == ["../2.4/index.html#konsernihallinto"]


def test_a_link_to_another_years_response_climbs_one_more_level() -> None:
    html = to_html("[a](../2023/1.3.1-tilapalvelut-liikelaitos.fi.md) [b](../2022/6.3-konsernihallinto.sv.md)", "2022")
    assert hrefs(html) == ["../../2023/1.3.1/index.html#tilapalvelut-liikelaitos", "../6.3/index.html#konsernihallinto"]


def test_a_link_written_with_a_leading_dot_slash_leads_to_the_same_page() -> None:
    assert hrefs(to_html("[vastaus](./2.4-konsernihallinto.fi.md)", "2022")) == ["../2.4/index.html#konsernihallinto"]


TARGET = "2.2-tilapalvelut-liikelaitos.fi.md"


def test_a_link_that_leaves_the_year_folders_is_refused_by_check(minimal: SiteDir) -> None:
    """The site can only rewrite links written relative to content/<year>/; check says so at the line."""
    path = "content/2021/1.1-konsernihallinto.fi.md"
    minimal.write(path, minimal.read(path).replace(f"({TARGET})", f"(../../content/2021/{TARGET})"))
    run = minimal.run("check")
    assert run.code == 1
    assert run.errors == [f"{path}:6: error: link '../../content/2021/{TARGET}': write links to responses as the "
                          "file name (2.4-konsernihallinto.fi.md) or, for another year, "
                          "../2023/2.4-konsernihallinto.fi.md"]


@pytest.mark.parametrize("link", [
    TARGET, f"./{TARGET}", f"../2021/{TARGET}", f".././2021/{TARGET}", f"{TARGET}#kohta",
])
def test_every_response_link_that_passes_check_works_on_the_built_site(minimal: SiteDir, link: str) -> None:
    path = "content/2021/1.1-konsernihallinto.fi.md"
    minimal.write(path, minimal.read(path).replace(f"({TARGET})", f"({link})"))
    assert minimal.run("build").code == 0
    assert 'href="../2.2/index.html#tilapalvelut-liikelaitos"' in minimal.page("fi/2021/1.1/index.html")
    assert broken_links(minimal.root / "site") == []


def test_a_fragment_on_a_response_link_is_replaced_by_the_units_anchor() -> None:
    assert hrefs(to_html("[a](2.4-konsernihallinto.fi.md#kohta)", "2022")) == ["../2.4/index.html#konsernihallinto"]


def test_external_and_in_page_links_are_left_alone() -> None:
    html = to_html("[a](https://www.espoo.fi/fi) [b](mailto:kirjaamo@espoo.fi) [c](tel:+358981621) [d](#alku)", "2022")
    assert hrefs(html) == ["https://www.espoo.fi/fi", "mailto:kirjaamo@espoo.fi", "tel:+358981621", "#alku"]


# -- headings and attributes ----------------------------------------------------------------------


@pytest.mark.parametrize(("markdown", "tag"), [
    ("# Otsikko", "h3"), ("## Otsikko", "h4"), ("### Otsikko", "h5"), ("#### Otsikko", "h6"), ("##### Otsikko", "h6"),
    ("Otsikko\n=======", "h3"),
])
def test_headings_move_two_levels_down_to_sit_below_the_page_and_unit_headings(markdown: str, tag: str) -> None:
    assert to_html(markdown, "2022") == f"<{tag}>Otsikko</{tag}>"


def test_an_attribute_list_can_mark_a_phrase_in_another_language() -> None:
    html = to_html("Investoinnit etenevät *Green Deal*{: lang=en } -periaatteiden mukaisesti.", "2022")
    assert '<em lang="en">Green Deal</em>' in html


def test_lists_tables_and_code_survive_sanitising() -> None:
    html = to_html("1. yksi\n2. kaksi\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`koodi`", "2022")
    for tag in ("<ol>", "<li>yksi</li>", "<table>", "<td>1</td>", "<code>koodi</code>"):
        assert tag in html


# -- nothing unsafe survives ---------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "Teksti\n{: onclick=alert(1) }\n\n[a](https://espoo.fi){: onclick=alert(1) onmouseover=alert(1) }",
    "*x*{: onclick=alert(1) style=color:red }",
    "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) <javascript:alert(1)>",
    "[a][r]\n\n[r]: javascript:alert(1)",
    "[a](data:text/html;base64,PHNjcmlwdD4=) ![b](data:image/svg+xml;base64,PHN2Zz4=)",
    '<a href="java&#9;script:alert(1)">a</a> <a href=" javascript:alert(1)">b</a>',
    '<img src=x onerror=alert(1)> <svg onload=alert(1)></svg> <iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))" onmouseover="alert(1)">x</div>',
    "<style>body{display:none}</style><!-- <script>alert(1)</script> -->",
    "[a](vbscript:msgbox(1)) [b](file:///etc/passwd)",
]


@pytest.mark.parametrize("markdown", HOSTILE)
def test_scripts_event_handlers_and_unsafe_urls_never_survive(markdown: str) -> None:
    html = to_html(markdown, "2022")
    assert unsafe(html) == [], html
    assert "<script" not in html.lower()


def test_the_checker_above_does_find_what_the_sanitiser_removes() -> None:
    raw = '<p onclick="x()" style="a"><a href="javascript:x()">a</a><script>x()</script><!-- c --></p>'
    assert unsafe(raw) == ["p onclick", "p style", "a href=javascript:x()", "<script>", "<!--"]


def test_the_sanitiser_keeps_safe_links_and_language_marks() -> None:
    html = sanitize('<p lang="sv"><a href="https://espoo.fi" title="t" onclick="x()">a</a></p>')
    assert html == '<p lang="sv"><a href="https://espoo.fi" title="t">a</a></p>'


def test_pages_stay_clean_even_when_validation_is_bypassed(minimal: SiteDir) -> None:
    path = "content/2021/2.2-tilapalvelut-liikelaitos.fi.md"
    minimal.write(path, minimal.read(path) + "\n" + "\n\n".join(HOSTILE) + "\n")
    site = build_model(load(minimal.root))  # no validate(): model and render must not rely on it
    output = render(site, ROOT / "templates", minimal.root, Cache.disabled())
    assert output.problems == []
    made: list[Page] = []
    assert [item for item in output.pages.make(lambda page: made.append(page) or True)
            if not isinstance(item, tuple)] == []
    pages = {p.path: p.data.decode() for p in made if p.path.endswith(".html")}
    for lang in ("fi", "sv"):
        html = pages[f"{lang}/2021/2.2/index.html"]
        body = html[html.index('id="tilapalvelut-liikelaitos"'):html.index("</main>")]
        assert "Tilat ovat kunnossa." in body
        assert unsafe(body) == []


# -- the quicker inline stage -------------------------------------------------------------------

def plain_converter() -> markdown.Markdown:
    """The same converter with Python-Markdown's own inline stage, which tries every pattern."""
    md = make_converter()
    md.treeprocessors.register(InlineProcessor(md), "inline", 20)
    return md


def convert(md: markdown.Markdown, text: str) -> str:
    md.reset()
    md.treeprocessors["response_links"].year = "2022"
    return md.convert(text)


# Each of Python-Markdown's inline constructs, and their near misses.
PIECES = ["`", "``", "\\", "\\*", "[", "]", "(", ")", "![", "![a]", "[a](b.md)", "[a][1]", "\n[1]: http://x.fi\n",
          "<", ">", "<http://x.fi>", "<a@b.fi>", "<b>", "</b>", "<!-- c -->", "&", "&amp;", "&#38;", "&x;",
          "*", "**", "_", "__", "  \n", "\n", "\n\n", "- ", "1. ", "# ", "> ", "{: lang=en }", "|", "---",
          " ", "sana", "Espoo", "ä", "x_y", "2*3"]


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_quick_inline_stage_writes_what_python_markdowns_own_writes(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert convert(make_converter(), text) == convert(plain_converter(), text)


def test_quick_inline_stage_agrees_on_every_real_response() -> None:
    bodies = [p.read_text(encoding="utf-8").split("\n---\n", 1)[1] for p in sorted((ROOT / "content").glob("*/*.md"))]
    quick, plain = make_converter(), plain_converter()
    assert len(bodies) >= 50
    for body in bodies:
        assert convert(quick, body) == convert(plain, body)


def test_quick_inline_stage_skips_patterns_that_cannot_match(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []
    original = InlineProcessor._InlineProcessor__applyPattern  # type: ignore[attr-defined]

    def counting(self, pattern, data, index, start=0):  # noqa: ANN001, ANN202
        tried.append(type(pattern).__name__)
        return original(self, pattern, data, index, start)

    monkeypatch.setattr(InlineProcessor, "_InlineProcessor__applyPattern", counting)
    convert(make_converter(), "Pelkkää tekstiä ilman merkintöjä.")
    assert tried == []  # none of the 14 patterns has its character in this text
    convert(make_converter(), "Teksti *korostuksella*.")
    assert tried and set(tried) == {"DelimiterProcessor"}
    tried.clear()
    convert(plain_converter(), "Pelkkää tekstiä ilman merkintöjä.")
    assert len(tried) == 14  # Python-Markdown's own stage tries them all
