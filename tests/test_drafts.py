"""Drafts show only in the preview; `new` scaffolds a draft that passes check."""

from __future__ import annotations

import pytest
from conftest import SiteDir

from sitegen import pipeline

DRAFT = "content/2021/1.1.1-tilapalvelut-liikelaitos.fi.md"


def add_draft(site: SiteDir) -> None:
    site.write(DRAFT, '---\nsection: "1.1.1"\nunit: tilapalvelut-liikelaitos\ndraft: true\n---\n\nLuonnosteksti.\n')


def test_a_draft_is_never_published_by_build(minimal: SiteDir) -> None:
    add_draft(minimal)
    assert minimal.run("build").code == 0
    page = minimal.page("fi/2021/1.1.1/index.html")
    assert "Luonnosteksti." not in page and 'id="tilapalvelut-liikelaitos"' not in page
    assert "Luonnos" not in page
    assert "Luonnosteksti." not in minimal.page("fi/2021/tilapalvelut-liikelaitos/index.html") \
        if (minimal.root / "site/fi/2021/tilapalvelut-liikelaitos/index.html").exists() else True


def test_a_draft_shows_in_the_preview_under_a_banner(minimal: SiteDir) -> None:
    add_draft(minimal)
    result = pipeline.build(pipeline.Project.at(minimal.root), preview=True)
    assert not result.failed
    page = (minimal.root / ".preview" / "fi/2021/1.1.1/index.html").read_text(encoding="utf-8")
    assert "Luonnosteksti." in page
    assert '<p class="draft-banner" role="status">Luonnos – ei julkaistu</p>' in page
    sv = (minimal.root / ".preview" / "sv/2021/1.1.1/index.html").read_text(encoding="utf-8")
    assert "Utkast – inte publicerat" in sv


def test_check_counts_the_drafts(minimal: SiteDir) -> None:
    add_draft(minimal)
    run = minimal.run("check")
    assert run.code == 0
    assert run.err.strip().splitlines()[-1].endswith("; 1 draft.")


def test_new_writes_a_draft_that_passes_check_and_refuses_to_overwrite(minimal: SiteDir) -> None:
    run = minimal.run("new", "--year", "2021", "--section", "1.1.1", "--unit", "tilapalvelut-liikelaitos")
    assert run.code == 0
    text = minimal.read(DRAFT)
    assert text.startswith('---\nsection: "1.1.1"\nunit: tilapalvelut-liikelaitos\ndraft: true\n---\n')
    check = minimal.run("check")
    assert check.code == 0 and check.errors == []
    assert minimal.run("new", "--year", "2021", "--section", "1.1.1", "--unit", "tilapalvelut-liikelaitos").code == 1
    assert minimal.read(DRAFT) == text


def test_new_explains_unknown_sections_and_units_with_did_you_mean(minimal: SiteDir) -> None:
    run = minimal.run("new", "--year", "2021", "--section", "1.1.2", "--unit", "tilapalvelut-liikalaitos")
    assert run.code == 2  # wrong usage (#14)
    assert "--unit: error: unit 'tilapalvelut-liikalaitos' is unknown; did you mean 'tilapalvelut-liikelaitos'?" \
        in run.err
    assert "--section: error: section '1.1.2' is not in the 2021 report (content/2021/report.yaml); " \
        "did you mean '1.1.1'?" in run.err


def test_new_with_lang_writes_a_draft_translation_from_the_original(minimal: SiteDir) -> None:
    target = "content/2021/2.2-tilapalvelut-liikelaitos.sv.md"
    assert minimal.run("new", "--year", "2021", "--section", "2.2", "--unit", "tilapalvelut-liikelaitos",
                       "--lang", "sv").code == 0
    text = minimal.read(target)
    assert "translation_of: 2.2-tilapalvelut-liikelaitos.fi.md" in text and "draft: true" in text
    assert "source_digest" not in text  # recorded only when the translation is done
    assert "Tilat ovat kunnossa." in text
    assert minimal.run("check").code == 0


@pytest.mark.parametrize(("option", "value"), [("--year", "2012"), ("--section", "9.9"), ("--unit", "tilapalvelu"),
                                               ("--lang", "en")])
def test_new_with_an_option_naming_nothing_is_wrong_usage(minimal: SiteDir, option: str, value: str) -> None:
    args = {"--year": "2021", "--section": "1.1.1", "--unit": "tilapalvelut-liikelaitos"} | {option: value}
    run = minimal.run("new", *[word for pair in args.items() for word in pair])
    assert run.code == 2 and run.err.startswith(f"{option}: error: ")
    assert not list((minimal.root / "content").rglob("1.1.1-tilapalvelut-liikelaitos*"))


def test_check_strict_does_not_fail_on_a_drafts_missing_translation(minimal: SiteDir) -> None:
    drafts = ["content/2021/1.1.1-kaupunkiympariston-toimiala.fi.md", "content/2021/2.2-konsernihallinto.fi.md"]
    for path in drafts:
        minimal.write(path, minimal.read(path).replace("\n---\n", "\ndraft: true\n---\n", 1))
    run = minimal.run("check", "--strict")  # only the published original's missing translation fails it
    assert run.code == 1 and run.errors == [
        "content/2021/2.2-tilapalvelut-liikelaitos.fi.md: error: no Swedish translation yet: "
        "the Swedish page shows the Finnish text until 2.2-tilapalvelut-liikelaitos.sv.md exists"]
