"""pipeline: a rebuild reads, parses and checks only the files that changed, and still finds what a
clean build finds (problems, links between years) and writes the same site."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from sitegen import load, pipeline, write

sys.path.insert(0, str(ROOT / "bench"))
from corpus import generate  # noqa: E402

FILES = 200  # four years, few enough to build in one process


def tree(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def age(content: Path) -> None:
    """Make every file an hour old: files changed in the last seconds are always read."""
    old = time.time() - 3600
    for path in content.rglob("*"):
        os.utime(path, (old, old))


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SITEGEN_SEARCH", "0")
    root = tmp_path / "archive"
    generate(root, FILES, seed=11)
    for name in ("accessibility.yaml",):  # as bench/run.py does: what the corpus does not write yet
        if not (root / "content" / name).exists():
            shutil.copyfile(ROOT / "content" / name, root / "content" / name)
    age(root / "content")
    return root


def years(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "content").iterdir() if p.is_dir())


def originals(root: Path, year: str) -> list[Path]:
    return sorted((root / "content" / year).glob("*.fi.md"))


def clean_build(root: Path, tmp_path: Path) -> tuple[pipeline.Result, Path]:
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    shutil.copytree(root / "content", clean / "content")
    return pipeline.build(pipeline.Project.at(clean)), clean


def messages(result: pipeline.Result) -> list[tuple[str, int | None, str, str]]:
    return [(p.path, p.line, p.message, p.severity) for p in result.problems]


def test_a_rebuild_after_a_change_in_one_year_equals_a_clean_build(archive: Path, tmp_path: Path) -> None:
    stale = originals(archive, years(archive)[0])[0]  # its translation is now out of date: a warning
    stale.write_text(stale.read_text(encoding="utf-8") + "\nUusi lause.\n", encoding="utf-8")
    age(archive / "content")
    project = pipeline.Project.at(archive)
    first = pipeline.build(project)
    assert not first.failed and len(years(archive)) >= 3
    changed = years(archive)[1]
    edited = originals(archive, changed)[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nLisätty lause.\n", encoding="utf-8")
    second = pipeline.build(project)
    clean, clean_root = clean_build(archive, tmp_path)
    assert messages(second) == messages(clean)  # the files not read again still say what they said
    assert any(p.severity == "warning" and p.path.startswith(f"content/{years(archive)[0]}/")
               for p in second.problems)
    assert tree(archive / "site") == tree(clean_root / "site")


def draft(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("---\n", "---\ndraft: true\n", 1), encoding="utf-8")


def add_link(path: Path, target: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\nKatso [vastaus]({target}).\n", encoding="utf-8")


def test_a_link_into_an_unchanged_year_is_checked_against_its_drafts(archive: Path, tmp_path: Path) -> None:
    first_year, second_year = years(archive)[:2]
    target = originals(archive, first_year)[0]
    draft(target)
    draft(target.with_name(target.name.replace(".fi.md", ".sv.md")))
    age(archive / "content")
    project = pipeline.Project.at(archive)
    assert not pipeline.build(project).failed
    source = originals(archive, second_year)[0]
    add_link(source, f"../{first_year}/{target.name}")
    add_link(source, f"../{first_year}/9.9-ei-ole.fi.md")
    result = pipeline.build(project)
    assert result.failed
    assert messages(result) == messages(clean_build(archive, tmp_path)[0])
    found = [p.message for p in result.problems if p.path == source.relative_to(archive).as_posix()]
    assert any("is a draft and will not be published" in m for m in found)
    assert any("there is no response file" in m for m in found)


@pytest.mark.parametrize("via", ["../{year}/", ".././{year}/", "..//./{year}/"])
def test_a_link_to_a_response_that_becomes_a_draft_is_reported(archive: Path, tmp_path: Path, via: str) -> None:
    first_year, second_year = years(archive)[:2]
    target = originals(archive, first_year)[0]
    source = originals(archive, second_year)[0]
    add_link(source, via.format(year=first_year) + target.name)
    age(archive / "content")
    project = pipeline.Project.at(archive)
    assert not pipeline.build(project).failed
    draft(target)  # the year linking to it now links to a draft
    draft(target.with_name(target.name.replace(".fi.md", ".sv.md")))
    result = pipeline.build(project)
    assert any(p.path == source.relative_to(archive).as_posix() and "is a draft" in p.message
               for p in result.problems)
    assert messages(result) == messages(clean_build(archive, tmp_path)[0])


def test_pages_of_an_unchanged_year_that_were_deleted_by_hand_come_back(archive: Path, tmp_path: Path) -> None:
    project = pipeline.Project.at(archive)
    assert not pipeline.build(project).failed
    kept_year, changed = years(archive)[0], years(archive)[-1]
    edited = originals(archive, changed)[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nEnsimmäinen lisäys.\n", encoding="utf-8")
    assert not pipeline.build(project).failed  # the first build's tree is the spare now
    published = Path(os.path.realpath(archive / "site"))
    page = next((published / "fi" / kept_year).glob("*/index.html"))
    spare = write.builds_dir(archive / "site") / write.SPARE
    assert (spare / page.relative_to(published)).exists()
    for copy in (page, spare / page.relative_to(published)):  # from both trees a build could take it
        copy.unlink()
    edited = originals(archive, changed)[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nLisätty lause.\n", encoding="utf-8")
    result = pipeline.build(project)
    assert not result.failed
    assert tree(archive / "site") == tree(clean_build(archive, tmp_path)[1] / "site")


def test_unchanged_files_are_never_opened(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = pipeline.Project.at(archive)
    assert not pipeline.build(project).failed
    changed = years(archive)[-1]
    edited = originals(archive, changed)[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nLisätty lause.\n", encoding="utf-8")
    opened: list[str] = []
    real = load.read_bytes
    monkeypatch.setattr(load, "read_bytes", lambda path, shown, problems: opened.append(shown) or real(path, shown,
                                                                                                       problems))
    assert not pipeline.build(project).failed
    assert [p for p in opened if p.endswith(".md")] == [edited.relative_to(archive).as_posix()]


@pytest.mark.parametrize("folder", [".trash", "2020.bak", "vanhat"])
def test_markdown_outside_the_year_folders_is_not_taken_for_a_year(archive: Path, tmp_path: Path,
                                                                    folder: str) -> None:
    shutil.copytree(archive / "content" / years(archive)[0], archive / "content" / folder)
    age(archive / "content")
    project = pipeline.Project.at(archive)
    first = pipeline.build(project)
    edited = originals(archive, years(archive)[-1])[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nLisätty lause.\n", encoding="utf-8")
    second = pipeline.build(project)
    assert messages(second) == messages(clean_build(archive, tmp_path)[0])
    assert first.failed == second.failed


def test_only_the_edited_file_is_parsed_and_checked_again(archive: Path) -> None:
    from sitegen import validate

    project = pipeline.Project.at(archive)
    assert not pipeline.build(project).failed
    first, last = years(archive)[0], years(archive)[-1]
    for year in (last, first):  # the first year is skipped while the last is rebuilt, then edited itself
        edited = originals(archive, year)[0]
        edited.write_text(edited.read_text(encoding="utf-8") + "\nLisätty lause.\n", encoding="utf-8")
        parsed: list[str] = []
        checked: list[str] = []
        real_parse, real_check = load.parse_response, validate.check_file
        with pytest.MonkeyPatch.context() as m:
            m.setattr(load, "parse_response", lambda raw, shown, *a, seen=parsed, real=real_parse: seen.append(
                shown) or real(raw, shown, *a))
            m.setattr(validate, "check_file", lambda r, schema, seen=checked, real=real_check: seen.append(
                r.path) or real(r, schema))
            assert not pipeline.build(project).failed
        assert parsed == checked == [edited.relative_to(archive).as_posix()]
