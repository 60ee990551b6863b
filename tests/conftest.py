"""Shared fixtures: tiny sites copied to a temporary folder, and the CLI run in-process."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from sitegen import cli

ROOT = Path(__file__).resolve().parent.parent

# Builds in tests skip the search index unless a test asks for it (it is slow
# and tested on its own, in test_e2e_real.py and the browser tests).
os.environ.setdefault("SITEGEN_SEARCH", "0")
# Likewise the print edition (PDFs, WeasyPrint): tested in test_pdf.py, which turns it on.
os.environ.setdefault("SITEGEN_PDF", "0")
SITES = ROOT / "tests" / "sites"


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        """stderr without the closing summary line."""
        return self.err.strip().splitlines()[:-1]

    @property
    def errors(self) -> list[str]:
        return [line for line in self.err.splitlines() if ": error: " in line]

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.err.splitlines() if ": warning: " in line]


class SiteDir:
    """A throwaway project folder: content/ (and site/ once built)."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    def run(self, *args: str) -> Run:
        """Run `build.py ARGS --root <this folder>` in-process."""
        self.capsys.readouterr()
        argv = list(args) if args else ["build"]
        code = cli.main([*argv, "--root", str(self.root)])
        captured = self.capsys.readouterr()
        return Run(code, captured.out, captured.err)

    def page(self, rel: str) -> str:
        return (self.root / "site" / rel).read_text(encoding="utf-8")


def copy_site(name: str, dest: Path) -> Path:
    shutil.copytree(SITES / name, dest, ignore=shutil.ignore_patterns("site", ".builds", "expected.txt"))
    return dest


@pytest.fixture
def minimal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> SiteDir:
    """A copy of tests/sites/minimal: one year, three units, a nested section, missing translations."""
    return SiteDir(copy_site("minimal", tmp_path / "minimal"), capsys)


@pytest.fixture
def real(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> SiteDir:
    """A copy of the real content/ (the 2022 report)."""
    root = tmp_path / "real"
    shutil.copytree(ROOT / "content", root / "content")
    return SiteDir(root, capsys)
