"""`export`: the texts to translate as a Word document that `import --lang sv` reads back."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
import yaml
from conftest import SiteDir

from sitegen import exporter
from sitegen.docsource import NOTE_STYLE, NOTE_TABLE_STYLE
from sitegen.load import body_digest, load, split_front_matter
from sitegen.translations import status


def front(path: Path) -> tuple[dict[str, object], str]:
    parts = split_front_matter(path.read_text(encoding="utf-8"), str(path), [])
    assert parts is not None
    return yaml.safe_load(parts[0]), parts[1]


def git(root: Path, *args: str) -> None:
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is required in CI")
        pytest.skip("SKIPPED, NOT PASSED: git is not installed here")
    subprocess.run(["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=test@example.org",
                    "-c", "commit.gpgsign=false", *args], check=True, capture_output=True)


def test_the_swedish_texts_round_trip_unchanged(real: SiteDir, tmp_path: Path) -> None:
    """Export, the document's Finnish replaced by the current Swedish texts, imports back to the same files."""
    loaded = load(real.root)
    swedish = {(r.name_section, r.name_unit): r.body.strip() for r in loaded.responses if r.lang == "sv"}
    items = exporter.collect(loaded, "2022", "sv", "fi", changed=False)
    assert len(items) == 25 and all(i.state == "up to date" for i in items)
    translated = [dataclasses.replace(i, body=swedish[(i.section, i.unit)]) for i in items]
    out = tmp_path / "returned.docx"
    exporter.write_docx(out, translated, loaded.reports["2022"].data, "2022", "fi", "sv",
                        [("tulosalue", "resultatområde", "resultatenhet")])
    before = {p.name: p.read_bytes() for p in (real.root / "content" / "2022").iterdir()}
    for extra in ((), ("--force",)):
        run = real.run("import", str(out), "--year", "2022", "--lang", "sv", *extra)
        assert run.code == 0, run.err
        assert run.warnings == [] and "0 new files, 0 replaced, 25 unchanged" in run.err
    assert {p.name: p.read_bytes() for p in (real.root / "content" / "2022").iterdir()} == before


def test_an_exported_document_imports_as_new_translations(real: SiteDir, tmp_path: Path) -> None:
    folder = real.root / "content" / "2022"
    for path in folder.glob("*.sv.md"):
        path.unlink()
    (real.root / "content" / "terminology.yaml").unlink()  # the list is optional: the summary says so
    out = tmp_path / "kaannettavat.docx"
    run = real.run("export", "--lang", "sv", "--changed", str(out))
    assert run.code == 0, run.err
    assert f"Wrote {out}: 25 texts of 2022 to translate into sv (25 new, 0 outdated" in run.err
    assert "terminology: none (content/terminology.yaml does not exist)" in run.err
    document = docx.Document(str(out))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name.startswith("Heading")]
    assert headings[:3] == ["1 Espoo-tarinan toteuttaminen",
                            "1.2 Tarkastuslautakunnan arviointi vuoden 2022 tulostavoitteiden toteutumisesta ja "
                            "poikkeamista", "1.3 Poikkihallinnollisten kehitysohjelmien toteuttamisen arviointi"]
    assert sum(p.text.startswith("Vastaaja: ") for p in document.paragraphs) == 25
    # The document comes back untranslated: the import still writes a translation per response.
    run = real.run("import", str(out), "--year", "2022", "--lang", "sv")
    assert run.code == 0, run.err
    assert "25 responses to 19 sections: 25 new files" in run.err
    meta, body = front(folder / "1.3-konsernihallinto.sv.md")
    original_meta, original_body = front(folder / "1.3-konsernihallinto.fi.md")
    assert meta == {"section": "1.3", "unit": "konsernihallinto", "weight": 2,
                    "translation_of": "1.3-konsernihallinto.fi.md", "source_digest": body_digest(original_body),
                    "reviewed": False, "draft": True}
    assert body.strip() == original_body.strip()
    assert front(folder / "2.3-konsernihallinto.sv.md")[1].strip() == \
        front(folder / "2.3-konsernihallinto.fi.md")[1].strip()  # the bullet list survives the round trip
    rows = status(load(real.root), ("fi", "sv"))
    assert {r.state for r in rows} == {"up to date"} and len(rows) == 25


def change_finnish(folder: Path) -> Path:
    path = folder / "2.5-konsernihallinto.fi.md"
    text = path.read_text(encoding="utf-8")
    assert "esim. palvelumuotoiluun" in text
    path.write_text(text.replace("esim. palvelumuotoiluun", "esimerkiksi käyttäjätutkimukseen"), encoding="utf-8")
    return path


def notes(path: Path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs if p.style is not None and p.style.name == NOTE_STYLE]


def test_changed_lists_only_outdated_texts_with_what_changed_from_git(real: SiteDir, tmp_path: Path) -> None:
    git(real.root, "init", "-q")
    git(real.root, "add", "-A")
    git(real.root, "commit", "-qm", "2022")
    change_finnish(real.root / "content" / "2022")
    git(real.root, "commit", "-qam", "edit 2.5")
    out = tmp_path / "changed.docx"
    run = real.run("export", "--lang", "sv", "--changed", "--year", "2022", str(out))
    assert run.code == 0, run.err
    assert "1 texts of 2022 to translate into sv (0 new, 1 outdated" in run.err
    document = docx.Document(str(out))
    assert [p.text for p in document.paragraphs if p.text.startswith("Vastaaja:")] == ["Vastaaja: Konsernihallinto"]
    struck = [r.text for p in document.paragraphs for r in p.runs if r.font.strike]
    added = [r.text for p in document.paragraphs for r in p.runs if r.font.highlight_color is not None]
    assert [t.strip() for t in struck] == ["esim. palvelumuotoiluun"]
    assert [t.strip() for t in added] == ["esimerkiksi käyttäjätutkimukseen"]
    assert any("commit " in n and "Muutokset käännöksen jälkeen" in n for n in notes(out))
    # The current translation, for reference.
    assert any(n.startswith("Dataförvaltningen fortsätter") for n in notes(out))


def test_without_history_the_earlier_text_is_said_to_be_unknown(real: SiteDir, tmp_path: Path) -> None:
    change_finnish(real.root / "content" / "2022")
    out = tmp_path / "changed.docx"
    run = real.run("export", "--lang", "sv", "--changed", str(out))
    assert run.code == 0 and "the earlier original of 1 outdated texts is unknown" in run.err
    assert any("den tidigare finska texten är okänd (the project is not in a git repository)" in n
               or "den tidigare finska texten är okänd (git is not available" in n for n in notes(out))


def test_a_translation_of_a_text_changed_since_the_export_is_recorded_as_outdated(real: SiteDir,
                                                                                  tmp_path: Path) -> None:
    folder = real.root / "content" / "2022"
    (folder / "2.5-konsernihallinto.sv.md").unlink()
    exported_digest = body_digest(front(folder / "2.5-konsernihallinto.fi.md")[1])
    out = tmp_path / "x.docx"
    assert real.run("export", "--lang", "sv", "--changed", str(out)).code == 0
    change_finnish(folder)
    run = real.run("import", str(out), "--year", "2022", "--lang", "sv")
    assert run.code == 0, run.err
    assert any("content/2022/2.5-konsernihallinto.fi.md has changed since this document was exported" in w
               for w in run.warnings)
    assert front(folder / "2.5-konsernihallinto.sv.md")[0]["source_digest"] == exported_digest
    row = next(r for r in status(load(real.root), ("fi", "sv")) if r.section == "2.5")
    assert row.state == "stale"


def test_the_terminology_list_closes_the_document_and_is_not_imported(real: SiteDir, tmp_path: Path) -> None:
    real.write("content/terminology.yaml", yaml.safe_dump({"terms": [
        {"fi": "tulosalue", "sv": "resultatområde", "avoid": ["resultatenhet"]},
        {"fi": "liikelaitos", "sv": "affärsverk", "avoid": []},
    ]}, allow_unicode=True))
    out = tmp_path / "all.docx"
    run = real.run("export", "--lang", "sv", str(out))
    assert run.code == 0 and "terminology: 2 terms" in run.err
    document = docx.Document(str(out))
    table = document.tables[-1]
    assert table.style is not None and table.style.name == NOTE_TABLE_STYLE
    assert [[c.text for c in row.cells] for row in table.rows] == [
        ["fi", "sv", "vältä / undvik"], ["tulosalue", "resultatområde", "resultatenhet"],
        ["liikelaitos", "affärsverk", ""]]
    run = real.run("import", str(out), "--year", "2022", "--lang", "sv", "--dry-run")
    assert not [w for w in run.warnings if "table" in w or "before the first section" in w]


def test_a_terminology_file_not_understood_is_a_warning(real: SiteDir, tmp_path: Path) -> None:
    real.write("content/terminology.yaml", "- {sana: x}\n")
    run = real.run("export", "--lang", "sv", str(tmp_path / "a.docx"))
    assert run.code == 0
    assert run.warnings == ["content/terminology.yaml: warning: no entry with a term was understood; the list is "
                            "left out"]


@pytest.mark.parametrize(("args", "message"), [
    (("--lang", "fi"), "--lang: error: 'fi' is not a language to translate into"),
    (("--lang", "sv", "--year", "1999"), "--year: error: no report for year '1999'"),
])
def test_export_usage_errors(real: SiteDir, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    out = tmp_path / "a.docx"
    run = real.run("export", *args, str(out))
    assert run.code == 2 and run.errors[0].startswith(message) and not out.exists()
    run = real.run("export", "--lang", "sv", str(tmp_path / "a.txt"))
    assert run.code == 2 and "must be a Word document named *.docx" in run.err


def test_word_diff_marks_removed_and_added_words() -> None:
    assert exporter.diff_words("yksi kaksi kolme", "yksi neljä kolme") == [
        ("=", "yksi "), ("-", "kaksi "), ("+", "neljä "), ("=", "kolme")]
