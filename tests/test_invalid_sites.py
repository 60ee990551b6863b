"""Invalid fixture sites: each is tests/sites/minimal with a few files replaced, and
expected.txt pins the exact error lines an editor sees."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SITES, SiteDir

CASES = sorted(p.name for p in (SITES / "invalid").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_invalid_site_reports_exact_errors(case: str, minimal: SiteDir) -> None:
    overlay = SITES / "invalid" / case
    shutil.copytree(overlay / "content", minimal.root / "content", dirs_exist_ok=True)
    expected = (overlay / "expected.txt").read_text(encoding="utf-8").splitlines()
    run = minimal.run("check")
    assert run.code == 1
    assert run.errors == expected
    assert "Traceback" not in run.err


@pytest.mark.parametrize("case", CASES)
def test_invalid_site_build_leaves_previous_site(case: str, minimal: SiteDir) -> None:
    assert minimal.run("build").code == 0
    before = {p.relative_to(minimal.root / "site"): p.read_bytes()
              for p in (minimal.root / "site").rglob("*") if p.is_file()}
    shutil.copytree(SITES / "invalid" / case / "content", minimal.root / "content", dirs_exist_ok=True)
    run = minimal.run("build")
    assert run.code == 1
    assert run.err.strip().splitlines()[-1].endswith("site/ was left as it was.")
    after = {p.relative_to(minimal.root / "site"): p.read_bytes()
             for p in (minimal.root / "site").rglob("*") if p.is_file()}
    assert after == before


def test_every_case_has_an_expectation() -> None:
    for case in CASES:
        assert (SITES / "invalid" / case / "expected.txt").is_file(), case
        assert (SITES / "invalid" / case / "content").is_dir(), case


def test_yaml_tag_is_never_executed(minimal: SiteDir, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    minimal.write("content/2021/2.2-tilapalvelut-liikelaitos.fi.md",
                  f'---\nsection: "2.2"\nunit: !!python/object/apply:os.system ["touch {marker}"]\n---\n\nx\n')
    assert minimal.run("check").code == 1
    assert not marker.exists()
