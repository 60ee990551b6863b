"""model: validated content as frozen objects, in the order and with the texts the pages show."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import ROOT, SiteDir

from sitegen.errors import errors
from sitegen.load import load
from sitegen.model import Report, Section, Site, Translation, Unit, build_model
from sitegen.validate import validate

KH = "content/2021/2.2-konsernihallinto.fi.md"
ORIGINAL = "content/2021/1.1-konsernihallinto.fi.md"
TRANSLATION = "content/2021/1.1-konsernihallinto.sv.md"


def model(site: SiteDir, preview: bool = False) -> Site:
    loaded = load(site.root)
    assert errors(validate(loaded, ROOT / "schema.yaml")) == []
    return build_model(loaded, preview=preview)


def edit(site: SiteDir, path: str, old: str, new: str) -> None:
    text = site.read(path)
    assert old in text
    site.write(path, text.replace(old, new, 1))


def units_of(site: Site, number: str) -> list[str]:
    return [r.unit.id for r in site.reports[0].section(number).responses]


# -- order and drafts -----------------------------------------------------------------------


def test_responses_are_ordered_by_weight_first(minimal: SiteDir) -> None:
    # konsernihallinto comes first in units.yaml but has weight 1; the other has none (0).
    assert units_of(model(minimal), "2.2") == ["tilapalvelut-liikelaitos", "konsernihallinto"]


def test_responses_of_equal_weight_follow_units_yaml(minimal: SiteDir) -> None:
    edit(minimal, KH, "weight: 1\n", "")
    assert units_of(model(minimal), "2.2") == ["konsernihallinto", "tilapalvelut-liikelaitos"]
    units = minimal.read("content/units.yaml")
    first, rest = units.split("  - id: kaupunkiympariston-toimiala\n")
    header, konserni = first.split("  - id: konsernihallinto\n")
    minimal.write("content/units.yaml", header + "  - id: kaupunkiympariston-toimiala\n" + rest
                  + "  - id: konsernihallinto\n" + konserni)
    assert units_of(model(minimal), "2.2") == ["tilapalvelut-liikelaitos", "konsernihallinto"]


def test_drafts_are_left_out_unless_previewing(minimal: SiteDir) -> None:
    edit(minimal, KH, "weight: 1\n", "weight: 1\ndraft: true\n")
    published = model(minimal)
    assert units_of(published, "2.2") == ["tilapalvelut-liikelaitos"]
    assert published.drafts == 1
    preview = model(minimal, preview=True)
    assert units_of(preview, "2.2") == ["tilapalvelut-liikelaitos", "konsernihallinto"]
    assert [r.draft for r in preview.reports[0].section("2.2").responses] == [False, True]


def test_a_draft_translation_is_shown_only_in_preview(minimal: SiteDir) -> None:
    edit(minimal, TRANSLATION, "reviewed: false\n", "reviewed: false\ndraft: true\n")
    assert list(model(minimal).reports[0].section("1.1").responses[0].texts) == ["fi"]
    assert list(model(minimal, preview=True).reports[0].section("1.1").responses[0].texts) == ["fi", "sv"]


# -- texts and translations -------------------------------------------------------------------


def test_a_missing_translation_leaves_only_the_original_text(minimal: SiteDir) -> None:
    site = model(minimal)
    [response] = site.reports[0].section("1.1.1").responses
    assert list(response.texts) == ["fi"]
    assert response.texts["fi"].translation is None
    assert response.texts["fi"].source == "content/2021/1.1.1-kaupunkiympariston-toimiala.fi.md"
    assert response.updated == dt.date(2022, 10, 15)


def test_a_translated_response_has_the_original_first_then_the_translation(minimal: SiteDir) -> None:
    [response] = model(minimal).reports[0].section("1.1").responses
    assert list(response.texts) == ["fi", "sv"]
    sv = response.texts["sv"]
    assert sv.markdown.startswith("Ekonomin är i balans.")
    assert sv.translation == Translation(sv.translation.current, sv.translation.current, False)
    assert response.anchor == "konsernihallinto" and response.year == 2021


@pytest.mark.parametrize(("recorded", "current", "stale"), [
    ("sha256:aa", "sha256:aa", False),
    ("sha256:aa", "sha256:bb", True),
    (None, "sha256:bb", True),
])
def test_a_translation_is_stale_when_its_recorded_digest_is_not_the_current_one(
        recorded: str | None, current: str, stale: bool) -> None:
    assert Translation(recorded, current, reviewed=True).stale is stale


def test_editing_the_original_makes_the_modelled_translation_stale(minimal: SiteDir) -> None:
    assert not model(minimal).reports[0].section("1.1").responses[0].texts["sv"].translation.stale
    edit(minimal, ORIGINAL, "Talous on tasapainossa.", "Talous on nyt tasapainossa.")
    assert model(minimal).reports[0].section("1.1").responses[0].texts["sv"].translation.stale


# -- the report's headings --------------------------------------------------------------------


def headings(*numbers: str) -> Report:
    return Report(2021, {}, {}, dt.date(2022, 9, 1), {"fi": "https://example.org"}, {},
                  tuple(Section(n, {"fi": n}, ()) for n in numbers))


def numbers(sections: tuple[Section, ...]) -> list[str]:
    return [s.number for s in sections]


def test_only_sections_with_responses_are_answered(minimal: SiteDir) -> None:
    report = model(minimal).reports[0]
    assert numbers(report.sections) == ["1", "1.1", "1.1.1", "2", "2.2"]
    assert numbers(report.answered) == ["1.1", "1.1.1", "2.2"]
    assert len(report.responses) == 4


def test_children_are_the_headings_directly_below() -> None:
    report = headings("1", "1.1", "1.1.1", "1.2", "10", "10.1")
    assert numbers(report.children("1")) == ["1.1", "1.2"]
    assert numbers(report.children("1.1")) == ["1.1.1"]
    assert numbers(report.children("1.2")) == []


def test_below_is_every_heading_under_one_at_any_depth_but_not_its_namesakes() -> None:
    report = headings("1", "1.1", "1.1.1", "1.2", "10", "10.1")
    assert numbers(report.below("1")) == ["1.1", "1.1.1", "1.2"]
    assert numbers(report.below("10")) == ["10.1"]


def test_ancestors_are_listed_outermost_first() -> None:
    report = headings("1", "1.1", "1.1.1", "1.2")
    assert numbers(report.ancestors("1.1.1")) == ["1", "1.1"]
    assert numbers(report.ancestors("1")) == []
    assert [s.level for s in report.sections] == [1, 2, 3, 2]
    assert report.section("1.1.1").parent == "1.1"


# -- units ---------------------------------------------------------------------------------------


def unit(uid: str, parent: str | None = None) -> Unit:
    return Unit(uid, "unit", {"fi": uid}, {"fi": uid}, parent)


def test_unit_path_runs_from_the_outermost_parent_to_the_unit(minimal: SiteDir) -> None:
    site = model(minimal)
    assert [u.id for u in site.unit_path(site.units["tilapalvelut-liikelaitos"])] == [
        "kaupunkiympariston-toimiala", "tilapalvelut-liikelaitos"]
    assert [u.id for u in site.unit_path(site.units["konsernihallinto"])] == ["konsernihallinto"]


def test_descendants_are_the_unit_and_everything_below_it_at_any_depth() -> None:
    units = {u.id: u for u in (unit("a"), unit("b", "a"), unit("c", "b"), unit("d", "a"), unit("e"))}
    site = Site("https://example.org/", (), units, ())
    assert site.descendants(units["a"]) == {"a", "b", "c", "d"}
    assert site.descendants(units["b"]) == {"b", "c"}
    assert site.descendants(units["e"]) == {"e"}
    assert [u.id for u in site.unit_path(units["c"])] == ["a", "b", "c"]


def test_the_real_report_answers_19_sections_with_25_responses(real: SiteDir) -> None:
    site = model(real)
    [report] = site.reports
    assert report.year == 2022 and len(report.answered) == 19 and len(report.responses) == 25
    assert all(set(r.texts) == {"fi", "sv"} and not r.texts["sv"].translation.stale for r in report.responses)
    assert site.descendants(site.units["kaupunkiympariston-toimiala"]) == {
        "kaupunkiympariston-toimiala", "tilapalvelut-liikelaitos"}
    assert site.units["maria-jyrkka"].kind == "person"


def test_the_base_url_can_be_overridden(minimal: SiteDir) -> None:
    loaded = load(minimal.root)
    assert build_model(loaded).base_url == "https://example.org/report/"
    assert build_model(loaded, base_url="https://x.example/y/").base_url == "https://x.example/y/"
    assert [lang.locale for lang in build_model(loaded).languages] == ["fi_FI", "sv_FI"]
