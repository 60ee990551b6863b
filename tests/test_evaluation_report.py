"""The link to the evaluation report: one address for every language, or one per language (issue #15)."""

from __future__ import annotations

from conftest import ROOT, SiteDir

from sitegen.errors import errors
from sitegen.load import load
from sitegen.model import build_model
from sitegen.validate import validate

REPORT = "content/2021/report.yaml"
ONE = "  url: https://example.org/arviointikertomus-2021\n"
PER_LANGUAGE = ("  url:\n"
                "    fi: https://example.org/arviointikertomus-2021\n"
                "    sv: https://example.org/utvarderingsberattelsen-2021\n")


def use(site: SiteDir, url_lines: str) -> None:
    text = site.read(REPORT)
    assert ONE in text
    site.write(REPORT, text.replace(ONE, url_lines, 1))


def problems_in_report(site: SiteDir) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in validate(load(site.root), ROOT / "schema.yaml") if p.path == REPORT]


def urls(site: SiteDir) -> dict[str, str]:
    loaded = load(site.root)
    assert errors(validate(loaded, ROOT / "schema.yaml")) == []
    return dict(build_model(loaded).reports[0].evaluation_report_url)


def link(site: SiteDir, lang: str) -> str:
    page = site.page(f"{lang}/2021/index.html")
    start = page.index('<p><a href="') + len('<p><a href="')
    return page[start:page.index('"', start)]


def test_one_address_serves_every_language(minimal: SiteDir) -> None:
    assert urls(minimal) == {"fi": "https://example.org/arviointikertomus-2021",
                             "sv": "https://example.org/arviointikertomus-2021"}
    assert minimal.run("build").code == 0
    assert link(minimal, "fi") == link(minimal, "sv") == "https://example.org/arviointikertomus-2021"


def test_an_address_per_language_is_linked_from_its_own_language(minimal: SiteDir) -> None:
    use(minimal, PER_LANGUAGE)
    assert problems_in_report(minimal) == []
    assert urls(minimal) == {"fi": "https://example.org/arviointikertomus-2021",
                             "sv": "https://example.org/utvarderingsberattelsen-2021"}
    assert minimal.run("build").code == 0
    assert link(minimal, "fi") == "https://example.org/arviointikertomus-2021"
    assert link(minimal, "sv") == "https://example.org/utvarderingsberattelsen-2021"


def test_a_language_missing_from_the_mapping_is_an_error_at_the_url(minimal: SiteDir) -> None:
    use(minimal, "  url:\n    fi: https://example.org/arviointikertomus-2021\n")
    assert problems_in_report(minimal) == [(10, "evaluation_report.url: the 'sv' version is missing")]
    assert minimal.run("build").code == 1


def test_an_address_that_is_not_https_is_an_error_at_its_line(minimal: SiteDir) -> None:
    use(minimal, PER_LANGUAGE.replace("https://example.org/utv", "http://example.org/utv"))
    assert problems_in_report(minimal) == [
        (12, "evaluation_report.url.sv: 'http://example.org/utvarderingsberattelsen-2021' is not valid; "
             "expected an https:// address, e.g. https://www.espoo.fi/fi")]


def test_one_address_that_is_not_https_is_an_error_naming_both_forms(minimal: SiteDir) -> None:
    use(minimal, ONE.replace("https://", "ftp://"))
    assert problems_in_report(minimal) == [
        (10, "evaluation_report.url: 'ftp://example.org/arviointikertomus-2021' is not valid; "
             "expected an https:// address, or one per language (fi: https://…, sv: https://…)")]


def test_a_number_is_neither_form(minimal: SiteDir) -> None:
    use(minimal, "  url: 2021\n")
    assert problems_in_report(minimal) == [
        (10, "evaluation_report.url: expected text (a string) or a mapping of fields, found the number 2021")]


def test_the_real_report_keeps_one_address_until_the_swedish_one_is_confirmed() -> None:
    loaded = load(ROOT)
    report = next(r for r in build_model(loaded).reports if r.year == 2022)
    assert report.evaluation_report_url == {"fi": "https://www.espoo.fi/arviointikertomus",
                                            "sv": "https://www.espoo.fi/arviointikertomus"}
    assert errors(validate(loaded, ROOT / "schema.yaml")) == []
