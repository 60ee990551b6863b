"""Every generated page passes the Nu HTML Checker (vnu.jar, from the npm package vnu-jar, run with Java)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, SiteDir

VNU_JAR = Path(os.environ.get("VNU_JAR", ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"))


def vnu() -> list[str]:
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        what = "Java" if java is None else f"vnu.jar ({VNU_JAR}; `npm install --no-save vnu-jar`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{what} is required in CI (.ci/run installs it)")
        pytest.skip(f"SKIPPED, NOT PASSED: {what} is not installed here; CI runs this test")
    return [java, "-jar", str(VNU_JAR)]


def test_every_page_of_the_real_site_is_valid_html(real: SiteDir) -> None:
    command = vnu()
    assert real.run("build").code == 0
    site = (real.root / "site").resolve()
    pages = sorted(str(p) for p in site.rglob("*.html"))
    assert len(pages) > 60
    run = subprocess.run([*command, "--errors-only", "--format", "json", *pages],
                         capture_output=True, text=True, check=False)
    messages = json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"]
    errors = [f"{m.get('url', '')}:{m.get('lastLine', '')}: {m['message']}" for m in messages
              if m.get("type") == "error"]
    assert errors == []
    assert run.returncode == 0


def test_the_checker_does_find_errors(tmp_path: Path) -> None:
    """The check above could fail: the same command rejects a broken page."""
    command = vnu()
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html lang="fi"><head><title>x</title></head><body><form action=""></form>'
                   "<p><div></p></body></html>", encoding="utf-8")
    run = subprocess.run([*command, "--errors-only", "--format", "json", str(bad)], capture_output=True, text=True,
                         check=False)
    assert run.returncode != 0
    assert json.loads(run.stderr)["messages"]


def test_the_statement_listing_every_kind_of_issue_is_valid_html(minimal: SiteDir) -> None:
    """The real statement lists no issue; the fixture's lists one under each heading it uses."""
    command = vnu()
    assert minimal.run("build").code == 0
    pages = [minimal.root / "site" / lang / slug / "index.html"
             for lang, slug in (("fi", "saavutettavuusseloste"), ("sv", "tillganglighetsutlatande"))]
    assert all("<h3>" in p.read_text(encoding="utf-8") for p in pages)
    run = subprocess.run([*command, "--errors-only", "--format", "json", *map(str, pages)],
                         capture_output=True, text=True, check=False)
    assert json.loads(run.stderr or run.stdout or '{"messages": []}')["messages"] == []
    assert run.returncode == 0
