"""write: a new tree under .builds/, swapped in for site/ with one rename; unchanged files are
hard-linked from the previous tree; a failure at any point leaves the previous site as it was."""

from __future__ import annotations

import builtins
import errno
import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, SiteDir
from sitegen import cli, pipeline, write
from sitegen.render import Page
from sitegen.write import write_site

OLD = 946_684_800  # 2000-01-01: a modification time no build could give a file


def pages(**files: str) -> list[Page]:
    """Pages from keyword arguments: a__b_html="x" is a/b.html."""
    return [Page(name.replace("__", "/").replace("_", "."), text.encode()) for name, text in files.items()]


def contents(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def trees(root: Path) -> list[Path]:
    """Every directory under .builds/ that holds a build (finished or not)."""
    return sorted(p for p in (root / write.BUILDS_DIR).rglob("*")
                  if p.is_dir() and p.name.startswith(("site-", "tmp-")))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """site/ after one build: index.html, a/index.html and static/style.css, all dated 2000."""
    link = tmp_path / "site"
    write_site(pages(index_html="home", a__index_html="a", static__style_css="css"), link)
    for f in link.rglob("*"):
        if f.is_file():
            os.utime(f, (OLD, OLD))
    return link


def test_site_is_a_symlink_to_a_complete_tree_under_builds(site: Path, tmp_path: Path) -> None:
    assert site.is_symlink()
    tree = site.resolve()
    assert (tmp_path / write.BUILDS_DIR).resolve() in tree.parents
    assert not os.path.isabs(os.readlink(site))  # the project folder can move
    assert contents(site) == {"a/index.html": b"a", "index.html": b"home", "static/style.css": b"css"}


def test_unchanged_files_are_hard_linked_and_keep_their_mtime(site: Path) -> None:
    before = {name: os.stat(site / name) for name in ("index.html", "a/index.html")}
    stats = write_site(pages(index_html="home", a__index_html="changed", static__style_css="css"), site)
    assert (stats.written, stats.kept) == (1, 2)
    same = os.stat(site / "index.html")
    assert (same.st_ino, same.st_mtime) == (before["index.html"].st_ino, OLD)
    changed = os.stat(site / "a/index.html")
    assert changed.st_ino != before["a/index.html"].st_ino and changed.st_mtime != OLD
    assert (site / "a/index.html").read_bytes() == b"changed"


def test_the_previous_tree_is_removed_after_the_swap(site: Path, tmp_path: Path) -> None:
    first = site.resolve()
    stats = write_site(pages(index_html="new"), site)
    assert not first.exists()
    assert site.resolve() == stats.tree.resolve()
    assert trees(tmp_path) == [stats.tree]
    assert contents(site) == {"index.html": b"new"}  # pages that are gone are gone


def test_stale_temporary_trees_are_cleaned_by_the_next_build(site: Path, tmp_path: Path) -> None:
    builds = site.resolve().parent
    (builds / "tmp-41" / "fi").mkdir(parents=True)
    (builds / "tmp-41" / "fi" / "index.html").write_text("half")
    (builds / "site-40").mkdir()
    stats = write_site(pages(index_html="home"), site)
    assert trees(tmp_path) == [stats.tree]


def test_a_page_colliding_with_a_directory_fails_and_leaves_the_previous_site(site: Path) -> None:
    before, tree = contents(site), site.resolve()
    with pytest.raises(OSError):
        write_site(pages(index_html="new", a="a file where a/ is a folder", a__index_html="x"), site)
    assert site.resolve() == tree
    assert contents(site) == before


def test_a_write_failing_midway_leaves_the_previous_site_and_the_next_build_recovers(
        site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before, tree = contents(site), site.resolve()
    opened = []

    def full_disk(path: os.PathLike[str], mode: str = "r", *args: object, **kwargs: object) -> object:
        if "w" in mode:
            opened.append(path)
            if len(opened) > 2:
                raise OSError(errno.ENOSPC, "No space left on device")
        return builtins.open(path, mode, *args, **kwargs)

    monkeypatch.setattr(write, "open", full_disk, raising=False)
    new = pages(index_html="1", a__index_html="2", b_html="3", c_html="4", static__style_css="5")
    with pytest.raises(OSError, match="No space"):
        write_site(new, site)
    assert len(opened) == 3
    assert site.resolve() == tree and contents(site) == before
    monkeypatch.undo()
    stats = write_site(new, site)
    assert contents(site) == {"a/index.html": b"2", "b.html": b"3", "c.html": b"4", "index.html": b"1",
                              "static/style.css": b"5"}
    assert trees(tmp_path) == [stats.tree]


def test_a_plain_site_folder_is_kept_aside_not_deleted(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "mine.html").write_text("hand-made")
    write_site(pages(index_html="home"), tmp_path / "site")
    assert (tmp_path / "site").is_symlink()
    kept = [p for p in (tmp_path / write.BUILDS_DIR).rglob("mine.html")]
    assert [p.read_text() for p in kept] == ["hand-made"]


def test_rebuilding_unchanged_content_rewrites_nothing(minimal: SiteDir) -> None:
    project = pipeline.Project.at(minimal.root)
    first = pipeline.build(project)
    assert first.written is not None and first.written.kept == 0
    second = pipeline.build(project)
    assert second.written is not None
    assert (second.written.written, second.written.kept) == (0, first.written.written)


# -- incremental rebuilds ---------------------------------------------------------------------------

ORIGINAL = "content/2021/1.1-konsernihallinto.fi.md"
EDITS = {
    "an original's text": (ORIGINAL, "Talous on tasapainossa.", "Talous on nyt tasapainossa."),
    "a unit's name": ("content/units.yaml", "sv: Koncernförvaltningen}", "sv: Koncernledningen}"),
    "a section title": ("content/2021/report.yaml", "{fi: Talous, sv: Ekonomi}", "{fi: Talous ja tase, sv: Ekonomi}"),
    "the base URL": ("content/site.yaml", "https://example.org/report/", "https://example.org/vastaukset/"),
    "a draft": ("content/2021/2.2-konsernihallinto.fi.md", "weight: 1\n", "weight: 1\ndraft: true\n"),
    "a weight": ("content/2021/2.2-konsernihallinto.fi.md", "weight: 1\n", ""),
    "a UI string": ("templates/strings.yaml", "sv: Läs originalet", "sv: Läs originaltexten"),
    "a template": ("templates/section.html", '<p class="meta">', '<p class="meta edited">'),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_rebuild_after_an_edit_gives_the_same_site_as_a_clean_build(minimal: SiteDir, tmp_path: Path,
                                                                       edit: str) -> None:
    shutil.copytree(ROOT / "templates", minimal.root / "templates")
    assert minimal.run("build").code == 0
    path, old, new = EDITS[edit]
    text = minimal.read(path)
    assert old in text
    minimal.write(path, text.replace(old, new))
    assert minimal.run("build").code == 0
    clean = tmp_path / "clean"
    for part in ("content", "templates"):
        shutil.copytree(minimal.root / part, clean / part)
    assert cli.main(["build", "--root", str(clean)]) == 0
    assert contents(minimal.root / "site") == contents(clean / "site")


def test_a_rebuild_with_another_base_url_option_rewrites_the_canonical_urls(minimal: SiteDir) -> None:
    assert minimal.run("build").code == 0
    assert minimal.run("build", "--base-url", "https://x.example/y/").code == 0
    assert '<link rel="canonical" href="https://x.example/y/fi/2021/1.1/">' in minimal.page("fi/2021/1.1/index.html")
    assert minimal.run("build").code == 0
    assert "https://x.example/" not in minimal.page("fi/2021/1.1/index.html") + minimal.page("sitemap.xml")
