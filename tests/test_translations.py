"""Translations that know when they are out of date, on the real content (issue: Swedish as a full parallel site)."""

from __future__ import annotations

import json
import re

from conftest import SiteDir

FI = "content/2022/2.4-konsernihallinto.fi.md"
SV = "content/2022/2.4-konsernihallinto.sv.md"


def digest_line(site: SiteDir) -> int:
    return next(i for i, line in enumerate(site.read(SV).splitlines(), 1) if line.startswith("source_digest:"))


def test_all_25_translations_are_up_to_date_and_awaiting_review(real: SiteDir) -> None:
    run = real.run("status", "--format", "json")
    rows = json.loads(run.out)
    assert run.code == 0 and len(rows) == 25
    assert {(r["lang"], r["state"], r["reviewed"]) for r in rows} == {("sv", "up to date", False)}
    for row in rows:
        text = real.read(row["path"])
        assert "translation_of: " + row["path"].split("/")[-1].replace(".sv.md", ".fi.md") in text
        assert re.search(r"^reviewed: false$", text, re.M)


def test_a_changed_original_makes_check_warn_and_the_swedish_page_say_so(real: SiteDir) -> None:
    real.write(FI, real.read(FI).rstrip("\n") + " Lisätty lause.\n")
    run = real.run("check")
    assert run.code == 0  # a warning never blocks
    assert run.warnings == [f"{SV}:{digest_line(real)}: warning: the Finnish original has changed since this "
                            f"translation; update it, then run 'python build.py translated {SV}'"]
    assert real.run("check", "--strict").code == 1
    assert real.run("build").code == 0
    page = real.page("sv/2022/2.4/index.html")
    notice = re.search(r'<p class="notice notice-stale">(.*?)</p>', page, re.S)
    assert notice and "Originaltexten har ändrats" in notice.group(1)
    assert 'href="../../../fi/2022/2.4/index.html#konsernihallinto" hreflang="fi"' in notice.group(1)
    assert real.page("fi/2022/2.4/index.html").count("Lisätty lause.") == 1

    # Recording the digest again clears the warning and the notice.
    assert real.run("translated", str(real.root / SV)).code == 0
    assert real.run("check", "--strict").code == 0
    assert real.run("build").code == 0
    page = real.page("sv/2022/2.4/index.html")
    assert "notice-stale" not in page
    assert "Den här texten är en översättning. Originaltexten är på finska." in page


def test_reviewed_is_set_only_when_asked(real: SiteDir) -> None:
    assert real.run("translated", "--reviewed", str(real.root / SV)).code == 0
    assert "reviewed: true" in real.read(SV)
    rows = {r["path"]: r for r in json.loads(real.run("status", "--format", "json").out)}
    assert rows[SV]["reviewed"] is True
    assert real.run("translated", str(real.root / SV)).code == 0  # updated again: a new text to review
    assert "reviewed: false" in real.read(SV)


def test_a_missing_translation_falls_back_to_the_finnish_text_marked_as_finnish(real: SiteDir) -> None:
    real.remove(SV)
    run = real.run("build")
    assert run.code == 0
    assert f"{FI}: warning: no Swedish translation yet" in run.err
    assert real.run("build", "--strict").code == 1
    page = real.page("sv/2022/2.4/index.html")
    article = page[page.index('id="konsernihallinto"'):page.index('id="kasvun-ja-oppimisen-toimiala"')]
    assert "Detta svar har ännu inte översatts till svenska." in article
    assert re.search(r'<div class="response-body" lang="fi" data-pagefind-ignore>\s*<p>Tietohallinto on ottanut',
                     article)
    rows = json.loads(real.run("status", "--format", "json").out)
    assert [r["state"] for r in rows if r["section"] == "2.4" and r["unit"] == "konsernihallinto"] == ["missing"]


def test_dates_are_formatted_per_language(real: SiteDir) -> None:
    assert real.run("build").code == 0
    assert 'datetime="2023-06-30">30.6.2023</time>' in real.page("fi/2022/index.html")
    assert 'datetime="2023-06-30">30.6.2023</time>' in real.page("sv/2022/index.html")


def test_the_language_switch_is_labelled_in_its_target_language(real: SiteDir) -> None:
    assert real.run("build").code == 0
    assert '<a href="../../../sv/2022/2.4/index.html" lang="sv" hreflang="sv">På svenska</a>' in \
        real.page("fi/2022/2.4/index.html")
    assert '<a href="../../../fi/2022/2.4/index.html" lang="fi" hreflang="fi">Suomeksi</a>' in \
        real.page("sv/2022/2.4/index.html")
