"""terminology: content/terminology.yaml lists one Swedish rendering per term, and `check` warns,
at the file and line, where a Swedish response uses a rendering to avoid (issue #15)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, SITES, SiteDir

from sitegen import pipeline
from sitegen.errors import Problem
from sitegen.load import Document, ResponseFile, load, parse_response
from sitegen.terminology import Term, check, check_list, check_terms, load_terms

OVERLAY = SITES / "terminology"
SV = "content/2021/2.2-tilapalvelut-liikelaitos.sv.md"
SCHOOL = Term("koulupolku", "skolstigen", ("skolväg",))
FOREIGN = Term("vieraskielinen", "främmandespråkiga", ("främmande modersmål",))


def with_overlay(site: SiteDir) -> SiteDir:
    shutil.copytree(OVERLAY / "content", site.root / "content", dirs_exist_ok=True)
    return site


def response(body: str, lang: str = "sv", path: str = "content/2022/4.2.2-x.sv.md") -> ResponseFile:
    """A response file as load reads it: four lines of front matter, a blank line, then `body` (line 7)."""
    problems: list[Problem] = []
    raw = f'---\nsection: "4.2.2"\nunit: x\n---\n\n{body}'.encode()
    parsed = parse_response(raw, path.replace(".sv.", f".{lang}."), "2022", problems)
    assert parsed is not None and problems == []
    return parsed


def found(problems: list[Problem]) -> list[tuple[int | None, str]]:
    return [(p.line, p.message) for p in problems]


# -- the fixture site, through the command line ------------------------------------------------


def test_the_fixture_gets_each_warning_at_its_line(minimal: SiteDir) -> None:
    run = with_overlay(minimal).run("check")
    assert run.code == 0  # a warning never blocks
    expected = (OVERLAY / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert [w for w in run.warnings if " — use " in w] == expected
    assert expected[1] == f"{SV}:9: warning: 'skolvägen' — use 'skolstigen' (koulupolku)"
    assert minimal.read(SV).splitlines()[8].startswith("Vi stöder skolvägen")  # line 9 of the file


def test_strict_makes_the_warnings_errors_and_a_build_still_publishes(minimal: SiteDir) -> None:
    with_overlay(minimal)
    strict = minimal.run("check", "--strict")
    assert strict.code == 1
    assert f"{SV}:9: error: 'skolvägen' — use 'skolstigen' (koulupolku)" in strict.errors
    built = minimal.run("build")
    assert built.code == 0
    assert "skolvägen" in minimal.page("sv/2021/2.2/index.html")


def test_the_warnings_come_as_json_with_file_line_and_no_field(minimal: SiteDir) -> None:
    import json

    run = with_overlay(minimal).run("check", "--format", "json")
    rows = [row for row in json.loads(run.out) if " — use " in row["message"]]
    assert {(row["path"], row["line"], row["field"], row["severity"]) for row in rows} == {
        (SV, 9, None, "warning"), (SV, 12, None, "warning")}


def test_without_the_file_nothing_is_checked(minimal: SiteDir) -> None:
    with_overlay(minimal).remove("content/terminology.yaml")
    run = minimal.run("check", "--strict")
    assert not [line for line in run.err.splitlines() if " — use " in line]
    assert load(minimal.root).terminology is None


def test_a_list_that_breaks_the_schema_is_an_error_at_its_line(minimal: SiteDir) -> None:
    with_overlay(minimal)
    minimal.write("content/terminology.yaml", "terms:\n  - fi: koulupolku\n    avoid: [skolväg]\n")
    run = minimal.run("check")
    assert run.code == 1
    assert run.errors == ["content/terminology.yaml:2: error: terms[0].sv: required field is missing"]
    assert not [w for w in run.warnings if " — use " in w]  # a broken list checks nothing


def test_a_rendering_to_avoid_that_matches_the_one_to_use_is_refused(minimal: SiteDir) -> None:
    minimal.write("content/terminology.yaml",
                  "terms:\n  - fi: koulupolku\n    sv: skolstigen\n    avoid: [skolväg, skolsti]\n")
    run = minimal.run("check")
    assert run.code == 1
    assert run.errors == ["content/terminology.yaml:4: error: terms[0].avoid[1]: 'skolsti' also matches the "
                          "rendering to use, 'skolstigen'; write more of the word to avoid"]


# -- check_terms, the pure function ------------------------------------------------------------


def test_every_inflected_form_of_a_stem_is_found_as_written() -> None:
    body = "Skolväg, skolvägen och skolvägar.\nSKOLVÄGARNAS längd; skolvägsfrågor.\n"
    assert found(check_terms(response(body), [SCHOOL])) == [
        (6, "'Skolväg' — use 'skolstigen' (koulupolku)"),
        (6, "'skolvägen' — use 'skolstigen' (koulupolku)"),
        (6, "'skolvägar' — use 'skolstigen' (koulupolku)"),
        (7, "'SKOLVÄGARNAS' — use 'skolstigen' (koulupolku)"),
        (7, "'skolvägsfrågor' — use 'skolstigen' (koulupolku)"),
    ]


def test_a_stem_matches_only_at_the_start_of_a_word() -> None:
    assert check_terms(response("Grundskolvägen, *skolstigen* och hemskolväg.\n"), [SCHOOL]) == []
    assert found(check_terms(response("Se *skolvägen* och (skolvägar).\n"), [SCHOOL])) == [
        (6, "'skolvägen' — use 'skolstigen' (koulupolku)"), (6, "'skolvägar' — use 'skolstigen' (koulupolku)")]


def test_a_phrase_split_over_lines_is_found_at_its_first_line_and_quoted_on_one() -> None:
    body = "Första stycket.\n\nBarn med främmande\n  modersmålet stöds.\n"
    [problem] = check_terms(response(body), [SCHOOL, FOREIGN])
    assert (problem.line, problem.message) == (8, "'främmande modersmålet' — use 'främmandespråkiga' (vieraskielinen)")


def test_the_line_is_the_body_line_plus_the_offset_within_the_body() -> None:
    r = response("Ett.\n\nTvå.\n\nTre skolvägar.\n")
    assert r.body_line == 6
    [problem] = check_terms(r, [SCHOOL])
    assert problem == Problem(r.path, 10, "'skolvägar' — use 'skolstigen' (koulupolku)", None, "warning")


def test_only_swedish_text_is_read_whatever_the_finnish_says() -> None:
    assert check_terms(response("skolvägen", lang="fi"), [SCHOOL]) == []
    # The Swedish text alone decides: the same warning whether or not the original speaks of koulupolku.
    assert len(check_terms(response("Vi talar om skolvägen."), [SCHOOL])) == 1


def test_no_terms_means_no_warnings() -> None:
    assert check_terms(response("skolvägen"), []) == []
    assert check(None, [response("skolvägen")]) == []


def test_the_list_is_read_from_its_document() -> None:
    doc = Document("content/terminology.yaml", {"terms": [{"fi": "koulupolku", "sv": "skolstigen",
                                                         "avoid": ["skolväg"], "note": "x"}]})
    assert load_terms(doc) == (SCHOOL,)
    assert load_terms(None) == ()
    assert check_list(doc) == []
    assert found(check(doc, [response("skolvägen"), response("skolvägen", lang="fi")])) == [
        (6, "'skolvägen' — use 'skolstigen' (koulupolku)")]


# -- the real content ---------------------------------------------------------------------------


def test_the_real_list_holds_the_terms_of_the_review_and_no_swedish_response_breaks_it() -> None:
    loaded = load(ROOT)
    assert loaded.terminology is not None and loaded.terminology.path == "content/terminology.yaml"
    terms = {t.fi: t for t in load_terms(loaded.terminology)}
    assert terms["koulupolku"] == SCHOOL
    assert terms["vieraskielinen"].sv == "främmandespråkiga"
    assert terms["Työllisyys Espoo"].sv == "Työllisyys Espoo"
    assert terms["Liikunta ja urheilu"].sv == "Motion och idrott"
    assert terms["+68 ystäväpalvelut"].sv == "vänverksamheten inom motion"
    assert check_list(loaded.terminology) == []
    assert check(loaded.terminology, loaded.responses) == []
    assert len([r for r in loaded.responses if r.lang == "sv"]) == 25


def test_the_real_list_would_have_caught_the_texts_before_the_review(real: SiteDir) -> None:
    """The Swedish 4.2.2 as it was translated: skolvägen and barn med främmande modersmål, on line 9."""
    path = "content/2022/4.2.2-kasvun-ja-oppimisen-toimiala.sv.md"
    text = real.read(path)
    before = text.replace("om skolstigen och finansieringen för främmandespråkiga barn.",
                          "om skolvägen och finansieringen för barn med främmande modersmål.")
    assert before != text
    real.write(path, before)
    run = real.run("check")
    assert run.code == 0
    assert run.warnings == [
        f"{path}:9: warning: 'främmande modersmål' — use 'främmandespråkiga' (vieraskielinen)",
        f"{path}:9: warning: 'skolvägen' — use 'skolstigen' (koulupolku)"]


# -- rebuilds that skip unchanged years ---------------------------------------------------------


def age(content: Path) -> None:
    old = time.time() - 3600
    for path in content.rglob("*"):
        os.utime(path, (old, old))


def test_a_changed_list_checks_every_year_again_and_a_rebuild_still_warns(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from corpus import generate

    monkeypatch.setenv("SITEGEN_SEARCH", "0")
    root = tmp_path / "archive"
    generate(root, 200, seed=11)
    shutil.copyfile(ROOT / "content" / "accessibility.yaml", root / "content" / "accessibility.yaml")
    age(root / "content")
    project = pipeline.Project.at(root)
    assert not pipeline.build(project).failed
    years = sorted(p.name for p in (root / "content").iterdir() if p.is_dir())
    edited = sorted((root / "content" / years[-1]).glob("*.fi.md"))[0]

    def edit_and_build() -> pipeline.Result:
        edited.write_text(edited.read_text(encoding="utf-8") + "\nLisätty lause.\n", encoding="utf-8")
        result = pipeline.build(project)
        assert not result.failed and result.loaded is not None
        return result

    def warned_years(result: pipeline.Result) -> set[str]:
        return {p.path.split("/")[1] for p in result.problems if " — use 'granskningsnämnden'" in p.message}

    (root / "content" / "terminology.yaml").write_text(
        "terms:\n  - fi: tarkastuslautakunta\n    sv: granskningsnämnden\n    avoid: [revisionsnämnd]\n",
        encoding="utf-8")
    second = edit_and_build()
    assert warned_years(second) == set(years)  # the list changed: every year is checked against it
    third = edit_and_build()
    assert sorted(map(str, third.problems)) == sorted(map(str, second.problems))  # unchanged years still warn
