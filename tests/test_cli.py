"""cli: commands, exit codes, output formats and the summary line that ends every run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SiteDir

from sitegen import cli, pipeline
from sitegen.load import body_digest

BAD_UNIT = "content/2021/2.2-tilapalvelut-liikelaitos.fi.md"
ORIGINAL = "content/2021/1.1-konsernihallinto.fi.md"
TRANSLATION = "content/2021/1.1-konsernihallinto.sv.md"
MISSING = ["1.1.1-kaupunkiympariston-toimiala", "2.2-konsernihallinto", "2.2-tilapalvelut-liikelaitos"]
UNKNOWN_UNIT = "unit 'tilapalvelut-liikalaitos' is unknown; did you mean 'tilapalvelut-liikelaitos'?"


def break_unit(site: SiteDir) -> None:
    text = site.read(BAD_UNIT)
    site.write(BAD_UNIT, text.replace("unit: tilapalvelut-liikelaitos", "unit: tilapalvelut-liikalaitos"))


def change_original(site: SiteDir) -> None:
    site.write(ORIGINAL, site.read(ORIGINAL).replace("Talous on tasapainossa.", "Talous on nyt tasapainossa."))


def missing_translation(name: str) -> str:
    return (f"no Swedish translation yet: the Swedish page shows the Finnish text until {name}.sv.md exists")


# -- exit codes -----------------------------------------------------------------------------


def test_a_build_with_warnings_succeeds(minimal: SiteDir) -> None:
    run = minimal.run("build")
    assert run.code == 0
    assert len(run.warnings) == 3 and run.errors == []
    assert (minimal.root / "site" / "fi" / "index.html").is_file()


def test_content_errors_exit_1_and_leave_no_site(minimal: SiteDir) -> None:
    break_unit(minimal)
    run = minimal.run("build")
    assert run.code == 1
    assert run.errors == [f"{BAD_UNIT}:3: error: {UNKNOWN_UNIT}"]
    assert not (minimal.root / "site").exists()


@pytest.mark.parametrize("argv", [["frobnicate"], ["build", "--no-such-option"], ["--no-such-option"],
                                  ["build", "--format", "xml"], ["translated"]])
def test_wrong_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    assert "usage: build.py" in capsys.readouterr().err


def test_an_internal_failure_exits_3_with_one_line_and_no_traceback(
        minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the model stage broke")

    monkeypatch.setattr(pipeline, "build_model", broken)
    run = minimal.run("build")
    assert run.code == 3
    assert "internal error: this is a bug in the generator, not in your content." in run.err
    assert "RuntimeError: the model stage broke" in run.err
    assert "Traceback" not in run.err
    assert not (minimal.root / "site").exists()
    monkeypatch.setenv("SITEGEN_DEBUG", "1")
    run = minimal.run("build")
    assert run.code == 3 and "Traceback (most recent call last)" in run.err


def test_front_matter_that_is_not_a_mapping_is_a_content_error(minimal: SiteDir) -> None:
    minimal.write("content/2021/2.2-konsernihallinto.fi.md", "---\njust text\n---\n\nVastaus.\n")
    run = minimal.run("check")
    assert run.code == 1
    assert "Traceback" not in run.err and "internal error" not in run.err


# -- what check, --strict and --base-url do ------------------------------------------------------


def content_files(site: SiteDir) -> dict[str, bytes]:
    return {p.relative_to(site.root).as_posix(): p.read_bytes() for p in (site.root / "content").rglob("*")
            if p.is_file()}


@pytest.mark.parametrize("broken", [False, True])
def test_check_writes_nothing(minimal: SiteDir, broken: bool) -> None:
    if broken:
        break_unit(minimal)
    before = content_files(minimal)
    assert minimal.run("check").code == int(broken)
    assert content_files(minimal) == before
    assert not (minimal.root / "site").exists() and not (minimal.root / ".builds").exists()


@pytest.mark.parametrize("command", ["check", "build"])
def test_strict_turns_warnings_into_errors(minimal: SiteDir, command: str) -> None:
    run = minimal.run(command, "--strict")
    assert run.code == 1
    assert run.errors == [f"content/2021/{name}.fi.md: error: {missing_translation(name)}" for name in MISSING]
    assert run.warnings == []
    assert not (minimal.root / "site").exists()


def test_base_url_option_sets_the_canonical_urls(minimal: SiteDir) -> None:
    assert minimal.run("build", "--base-url", "https://x.example/y").code == 0
    html = minimal.page("fi/2021/1.1/index.html")
    assert '<link rel="canonical" href="https://x.example/y/fi/2021/1.1/">' in html
    assert "https://example.org/report/" not in html
    assert "<loc>https://x.example/y/fi/2021/1.1/</loc>" in minimal.page("sitemap.xml")


# -- output formats and the summary line -------------------------------------------------------------


def test_github_format_prints_workflow_annotations(minimal: SiteDir) -> None:
    break_unit(minimal)
    minimal.write("content/2021/x,y.fi.md", "---\n---\n")
    run = minimal.run("check", "--format", "github")
    assert run.code == 1
    assert run.lines == [
        f"::warning file=content/2021/{MISSING[0]}.fi.md::{missing_translation(MISSING[0])}",
        f"::warning file=content/2021/{MISSING[1]}.fi.md::{missing_translation(MISSING[1])}",
        f"::warning file=content/2021/{MISSING[2]}.fi.md::{missing_translation(MISSING[2])}",
        f"::error file={BAD_UNIT},line=3::{UNKNOWN_UNIT}",
        "::error file=content/2021/x%2Cy.fi.md::file name 'x,y.fi.md' is not <section>-<unit>.<language>.md "
        "(e.g. 2.4-konsernihallinto.fi.md)",
    ]


def test_json_format_prints_a_list_of_problems_on_stdout(minimal: SiteDir) -> None:
    break_unit(minimal)
    run = minimal.run("check", "--format", "json")
    assert run.code == 1
    problems = json.loads(run.out)
    assert all(set(p) == {"path", "line", "field", "message", "severity"} for p in problems)
    assert {"path": BAD_UNIT, "line": 3, "field": "unit", "message": UNKNOWN_UNIT, "severity": "error"} in problems
    assert sorted(p["severity"] for p in problems) == ["error", "warning", "warning", "warning"]
    assert json.loads(minimal.run("check", "--format", "json").out) == problems


@pytest.mark.parametrize(("argv", "edit", "summary"), [
    (["check"], None, r"Checked 5 response files in [\d.]+ s: 0 errors, 3 warnings; 0 drafts\."),
    (["build"], None, r"Built 22 pages \(11 fi, 11 sv\) in [\d.]+ s; 42 files written, 0 unchanged; "
                      r"0 errors, 3 warnings\."),
    (["build"], break_unit, r"Build failed: 1 error, 3 warnings; site/ was left as it was\."),
    (["build", "--format", "github"], break_unit, r"Build failed: 1 error, 3 warnings; site/ was left as it was\."),
])
def test_a_summary_line_ends_each_command(minimal: SiteDir, argv: list[str], edit: object, summary: str) -> None:
    if edit:
        edit(minimal)  # type: ignore[operator]
    run = minimal.run(*argv)
    assert re.fullmatch(summary, run.err.strip().splitlines()[-1])


def test_a_second_build_reports_every_file_unchanged(minimal: SiteDir) -> None:
    minimal.run("build")
    assert "; 0 files written, 42 unchanged; " in minimal.run("build").err


def test_help_lists_the_commands() -> None:
    run = subprocess.run([sys.executable, "build.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0
    for command in ("build", "check", "translated", "status"):
        assert re.search(rf"^\s+{command}\s", run.stdout, re.M), command


# -- translated and status ---------------------------------------------------------------------------


def test_translated_records_the_digest_and_clears_the_stale_warning(
        minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    change_original(minimal)
    assert any("the Finnish original has changed" in w for w in minimal.run("check").warnings)
    before = minimal.read(TRANSLATION).split("\n")
    monkeypatch.chdir(minimal.root)
    assert minimal.run("translated", TRANSLATION).code == 0
    after = minimal.read(TRANSLATION).split("\n")
    body = minimal.read(ORIGINAL).split("---\n", 2)[2]
    assert after[4] == f"source_digest: {body_digest(body)}"
    assert after[:4] + after[5:] == before[:4] + before[5:]
    assert not any("has changed" in w for w in minimal.run("check").warnings)


def test_translated_reviewed_sets_reviewed_and_keeps_every_other_line(minimal: SiteDir) -> None:
    lines = minimal.read(TRANSLATION).split("\n")
    assert lines[4].startswith("source_digest: ") and lines[5] == "reviewed: false"
    lines[4] = "# Käännös: Översättningsbyrå, 2022"  # a comment where the digest was
    minimal.write(TRANSLATION, "\n".join(lines))
    assert minimal.run("translated", "--reviewed", str(minimal.root / TRANSLATION)).code == 0
    digest = body_digest(minimal.read(ORIGINAL).split("---\n", 2)[2])
    assert minimal.read(TRANSLATION).split("\n") == [
        *lines[:4], f"source_digest: {digest}", lines[4], "reviewed: true", *lines[6:]]
    assert json.loads(minimal.run("status", "--format", "json").out)[0]["reviewed"] is True


def test_translated_keeps_windows_line_endings(minimal: SiteDir) -> None:
    minimal.write(TRANSLATION, minimal.read(TRANSLATION).replace("\n", "\r\n").encode())
    assert minimal.run("translated", "--reviewed", str(minimal.root / TRANSLATION)).code == 0
    data = (minimal.root / TRANSLATION).read_bytes()
    assert b"reviewed: true\r\n" in data
    assert data.count(b"\n") == data.count(b"\r\n")


def test_translated_refuses_an_original(minimal: SiteDir) -> None:
    run = minimal.run("translated", str(minimal.root / ORIGINAL))
    assert run.code == 1
    assert f"{ORIGINAL}: error: this is an original ('fi'), not a translation" in run.err


def test_status_json_lists_every_translation_state(minimal: SiteDir) -> None:
    change_original(minimal)
    run = minimal.run("status", "--format", "json")
    assert run.code == 0
    assert json.loads(run.out) == [
        {"year": "2021", "section": "1.1", "unit": "konsernihallinto", "lang": "sv", "state": "stale",
         "reviewed": False, "path": TRANSLATION},
        {"year": "2021", "section": "1.1.1", "unit": "kaupunkiympariston-toimiala", "lang": "sv",
         "state": "missing", "reviewed": False, "path": ""},
        {"year": "2021", "section": "2.2", "unit": "konsernihallinto", "lang": "sv", "state": "missing",
         "reviewed": False, "path": ""},
        {"year": "2021", "section": "2.2", "unit": "tilapalvelut-liikelaitos", "lang": "sv", "state": "missing",
         "reviewed": False, "path": ""},
    ]


def test_build_no_search_skips_the_index_and_a_full_build_then_makes_it(
        minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEGEN_SEARCH", "1")
    assert minimal.run("build", "--no-search").code == 0
    assert not (minimal.root / "site" / "pagefind").exists()
    run = minimal.run("build")
    assert run.code == 0 and "+ search index" in run.err  # not "unchanged": the index was missing
    assert (minimal.root / "site" / "pagefind" / "pagefind-entry.json").is_file()


def test_build_help_shows_no_search() -> None:
    run = subprocess.run([sys.executable, "build.py", "build", "--help"], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0 and re.search(r"^\s+--no-search\s", run.stdout, re.M)


def test_translated_on_a_file_that_does_not_exist_says_so_as_given(
        minimal: SiteDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(minimal.root)
    run = minimal.run("translated", "content/2021/9.9-konsernihallinto.sv.md")
    assert run.code == 1
    assert run.err.strip() == ("content/2021/9.9-konsernihallinto.sv.md: error: there is no such file; give the path "
                               "of a translation, e.g. content/2022/2.4-konsernihallinto.sv.md")


def test_check_outside_a_project_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check"]) == 1
    assert f"the content folder is missing: looked for {tmp_path / 'content'}; run the command in the project " \
           "folder, or name that folder with --root" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--strict"], ["--format", "github"]])
def test_status_refuses_the_options_it_would_ignore(minimal: SiteDir, option: list[str]) -> None:
    run = minimal.run("status", *option)
    assert run.code == 2 and "error: " in run.err and option[-1] in run.err and run.out == ""
