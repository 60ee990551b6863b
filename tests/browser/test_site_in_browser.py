"""The built site in a real browser: accessibility (axe-core, WCAG 2.2 A/AA), keyboard use,
search with Finnish and Swedish stemming, layout at phone widths, screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def all_pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "pagefind" not in p.parts)


def test_axe_finds_no_wcag_violations_on_any_page(page: object, base_url: str, built_site: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages = all_pages(built_site)
    assert len(pages) > 60
    failures = {}
    for rel in pages:
        page.goto(base_url + rel)
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        assert results.response["passes"], rel  # axe really ran its rules on the page
        violations = results.response["violations"]
        if violations:
            failures[rel] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    assert failures == {}
    assert page.console_errors == []


def tab_to(page: object, test: object, limit: int = 150) -> str:
    """Press Tab until the focused element passes `test`; returns its text."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => { const e = document.activeElement;
            return {tag: e.tagName, text: (e.innerText || e.value || '').trim(),
                    href: e.getAttribute('href') || ''}; }""")
        if test(info):
            return info["text"]
    raise AssertionError("Tab never reached the element")


def test_keyboard_only_from_front_page_to_a_section_and_its_swedish_version(page: object, base_url: str) -> None:
    page.goto(base_url + "index.html")
    tab_to(page, lambda e: e["tag"] == "A" and e["text"] == "Suomeksi")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/fi/index\.html$"))
    tab_to(page, lambda e: e["tag"] == "A" and e["href"].endswith("2022/index.html") and "Uusimmat" in e["text"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/fi/2022/index\.html$"))
    tab_to(page, lambda e: e["tag"] == "A" and e["href"].endswith("3.4/index.html"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/fi/2022/3\.4/index\.html$"))
    assert page.locator("h1").inner_text().endswith("Liikuntapalvelut")
    # The skip link comes first and moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    tab_to(page, lambda e: e["tag"] == "A" and e["text"] == "På svenska")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/sv/2022/3\.4/index\.html$"))
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.locator("h1").inner_text().endswith("Idrottstjänster")


@pytest.mark.parametrize(("lang", "query", "forms"), [
    ("fi", "uimahalleista", ("uimahalleja", "uimahallia")),
    ("sv", "simhallen", ("simhallar", "simhallarna")),
])
def test_search_finds_other_inflections_of_a_word(page: object, base_url: str, built_site: Path,
                                                   lang: str, query: str, forms: tuple[str, ...]) -> None:
    section = (built_site / lang / "2022" / "3.4" / "index.html").read_text(encoding="utf-8").lower()
    words = set(re.findall(r"\w+", section))
    assert set(forms) <= words
    assert not any(w.startswith(query) for w in words)  # a prefix match would prove nothing
    slug = "haku" if lang == "fi" else "sok"
    page.goto(f"{base_url}{lang}/{slug}/index.html?q={query}")
    page.wait_for_selector(".search-hits a", timeout=15000)
    hrefs = [a.get_attribute("href") for a in page.query_selector_all(".search-hits a")]
    assert any(h.endswith(f"/{lang}/2022/3.4/#liikuntapalvelut") for h in hrefs), hrefs
    units = page.locator(".search-unit").all_inner_texts()
    assert any("Liikuntapalvelut" in u or "Idrottstjänsterna" in u for u in units)
    # Each response once: the unit pages and the fallback text are not indexed.
    assert all(re.search(r"/2022/[\d.]+/#", h) for h in hrefs), hrefs
    assert page.console_errors == []


def test_search_from_the_header_field(page: object, base_url: str) -> None:
    page.goto(base_url + "fi/2022/index.html")
    page.fill("#site-search", "Kameleontten")
    page.keyboard.press("Enter")
    page.wait_for_selector(".search-hits a", timeout=15000)
    assert "3.4" in page.locator(".search-hits a").first.inner_text()


@pytest.mark.parametrize("width", [320, 360, 768, 1280])
def test_pages_reflow_without_horizontal_scrolling(page: object, base_url: str, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    for rel in ("fi/2022/index.html", "fi/2022/2.3/index.html", "sv/2022/4.2/index.html".replace("4.2", "4.2.2"),
                "sv/tillganglighetsutlatande/index.html"):
        page.goto(base_url + rel)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, rel


def test_fonts_are_served_by_the_site_itself(page: object, base_url: str) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(base_url + "fi/2022/3.4/index.html")
    page.wait_for_load_state("networkidle")
    assert any(u.endswith(".woff2") for u in requests)
    assert all(u.startswith(base_url) for u in requests), [u for u in requests if not u.startswith(base_url)]
    assert page.evaluate("document.fonts.check('16px \"Open Sans\"')")
    family = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert family.startswith("Montserrat")


@pytest.mark.parametrize("width", [360, 768, 1280])
@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_screenshots_for_review(page: object, base_url: str, width: int, lang: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base_url}{lang}/2022/2.4/index.html")
    page.wait_for_load_state("networkidle")
    target = SCREENSHOTS / f"section-2.4-{lang}-{width}.png"
    page.screenshot(path=str(target), full_page=False)
    assert target.stat().st_size > 10_000


def test_printing_a_section_gives_the_text_and_its_url_without_the_site_chrome(page: object, base_url: str) -> None:
    page.goto(base_url + "fi/2022/3.4/index.html")
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert not page.locator(".pager").is_visible()
    url = page.locator(".print-url")
    assert url.is_visible() and url.inner_text().endswith("/fi/2022/3.4/")
    assert page.locator("h1").is_visible() and "Uimahalleja" in page.locator("main").inner_text()
    page.emulate_media(media="screen")
    assert not url.is_visible() and page.locator(".site-header").is_visible()


@pytest.mark.parametrize("rel", ["fi/2022/index.html", "sv/2022/2.4/index.html", "fi/haku/index.html",
                                 "sv/tillganglighetsutlatande/index.html"])
def test_the_dark_colour_scheme_passes_axe_too(page: object, base_url: str, rel: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.emulate_media(color_scheme="dark")
    page.goto(base_url + rel)
    assert page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(13, 26, 46)"
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.response["passes"]
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]] == []


@pytest.mark.parametrize(("lang", "slug", "words"), [("fi", "haku", "Haku ei nyt toimi."),
                                                     ("sv", "sok", "Sökningen fungerar inte just nu.")])
def test_the_search_page_opened_from_disk_says_search_is_off(page: object, built_site: Path, lang: str, slug: str,
                                                             words: str) -> None:
    page.goto((built_site / lang / slug / "index.html").as_uri())
    results = page.locator("#search-results")
    results.get_by_text(words).wait_for(timeout=10000)
    assert results.inner_text().startswith(words)
